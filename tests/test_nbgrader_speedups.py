"""The grader's shortcuts through nbgrader and jupyter_client give the same answers as the originals.

course/grading/nbgrader_speedups.py caches what cannot change while a class is graded (schema
validators, the alembic head, a scratch gradebook's engine); course/grading/provisioner.py's
ReadyKernelClient waits for a kernel without jupyter_client's fixed 0.2 s pause. Their speed is
measured by benchmarks/grading.py; these tests check that nothing else changed.
"""
import os
import tempfile
import time
from pathlib import Path

import jsonschema
import pytest
from jupyter_core.utils import run_sync
from nbformat.v4 import new_code_cell

from course.grading import nbgrader_speedups
from course.grading.provisioner import ReadyKernelClient, SandboxKernelManager, SandboxProvisioner
from course.grading.sandbox import Limits, Sandbox, isolation_available


def nbgrader_cell(**meta):
    base = {"grade": True, "solution": False, "locked": True, "grade_id": "t1", "points": 2, "schema_version": 3}
    base.update(meta)
    return new_code_cell("assert True", metadata={"nbgrader": {k: v for k, v in base.items() if v is not None}})


@pytest.mark.parametrize("meta", [{"points": "two"}, {"grade_id": 5}, {"grade": "yes"}, {"locked": 1.5}])
def test_cached_schema_validation_raises_the_same_error(meta):
    from nbgrader.nbgraderformat import MetadataValidator
    nbgrader_speedups.install()
    validator = MetadataValidator()
    cell = nbgrader_cell(**meta)
    with pytest.raises(jsonschema.ValidationError) as cached:
        validator.validate_cell(cell)
    with pytest.raises(jsonschema.ValidationError) as plain:
        jsonschema.validate(cell.metadata["nbgrader"], validator.schema)
    assert cached.value.message == plain.value.message
    assert list(cached.value.path) == list(plain.value.path)


def test_cached_schema_validation_accepts_valid_metadata():
    from nbgrader.nbgraderformat import MetadataValidator
    nbgrader_speedups.install()
    MetadataValidator().validate_cell(nbgrader_cell())  # no exception


@pytest.mark.slow  # asks alembic for the head revision (a few seconds)
def test_alembic_head_is_asked_once_and_unchanged():
    import nbgrader.api as nbapi
    nbgrader_speedups.install()
    cached = nbapi.get_alembic_version
    assert hasattr(cached, "cache_info")
    head = cached()
    assert len(head) == 12 and head == cached.__wrapped__()  # nbgrader's `alembic heads` subprocess agrees


def _template(folder):
    from nbgrader.api import Gradebook
    path = Path(folder) / "template.db"
    with Gradebook(f"sqlite:///{path}", "c1") as gb:
        gb.add_assignment("a1")
    return path.read_bytes()


@pytest.mark.slow  # a new gradebook runs `alembic heads` in a subprocess
def test_a_scratch_gradebook_keeps_one_engine_and_no_open_connection():
    from nbgrader.api import Gradebook
    nbgrader_speedups.install()
    with tempfile.TemporaryDirectory() as tmp:
        template = _template(tmp)
        scratch = Path(tmp) / "scratch.db"
        scratch.write_bytes(template)
        url = f"sqlite:///{scratch}"
        nbgrader_speedups.register_scratch_gradebook(url)
        try:
            with Gradebook(url, "c1") as first:
                first.add_student("s1")
                engine = first.engine
            assert engine.pool.checkedout() == 0
            with Gradebook(url, "c1") as second:
                assert second.engine is engine
                assert [s.id for s in second.students] == ["s1"]
            # the worker replaces the file for the next submission: the engine sees the new file
            nbgrader_speedups.close_connections(url)
            scratch.write_bytes(template)
            with Gradebook(url, "c1") as third:
                assert third.engine is engine and third.students == []
        finally:
            nbgrader_speedups.forget_scratch_gradebook(url)
        with Gradebook(url, "c1") as after:
            assert after.engine is not engine  # forgotten: back to nbgrader's own behaviour


@pytest.mark.slow  # a new gradebook runs `alembic heads` in a subprocess
def test_other_gradebooks_are_untouched():
    from nbgrader.api import Gradebook
    nbgrader_speedups.install()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'fresh.db'}"
        with Gradebook(url, "c1") as first:  # tables created as usual
            first.add_assignment("a1")
            engine = first.engine
        with Gradebook(url, "c1") as second:
            assert second.engine is not engine
            assert [a.name for a in second.assignments] == ["a1"]


_works = []  # the kernels' working directories, removed after each test (as the grader removes them)


@pytest.fixture(autouse=True)
def _remove_working_directories():
    yield
    from course.grading.sandbox import remove_workdir
    while _works:
        remove_workdir(_works.pop())


def _kernel():
    work = Path(tempfile.mkdtemp(prefix="course-kernel-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    os.chmod(work, 0o700)
    _works.append(work)
    km = SandboxKernelManager(kernel_name="python3")
    run_sync(km.start_kernel)(cwd=str(work), sandbox=Sandbox(work, Limits(), isolate=not isolation_available()))
    assert isinstance(km.provisioner, SandboxProvisioner)  # named by the kernel spec, found by entry point
    return km


@pytest.mark.slow  # starts a sandboxed kernel
def test_ready_client_leaves_no_start_up_message_behind():
    km = _kernel()
    assert km.ready.done() and km.ready.exception() is None
    kc = km.client()
    try:
        assert isinstance(kc, ReadyKernelClient)
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=60)
        msg_id = kc.execute("1 + 1")
        first = run_sync(kc.iopub_channel.get_msg)(timeout=10)
        assert first["parent_header"].get("msg_id") == msg_id  # nothing of kernel_info still queued
        reply = run_sync(kc.shell_channel.get_msg)(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow  # starts a sandboxed kernel
def test_ready_client_reports_a_dead_kernel():
    km = _kernel()
    run_sync(km.shutdown_kernel)(now=True)
    assert not run_sync(km.is_alive)() and km.ready.done()
    kc = km.client()
    try:
        kc.start_channels()
        with pytest.raises(RuntimeError, match="died|respond"):
            run_sync(kc.wait_for_ready)(timeout=5)
    finally:
        kc.stop_channels()


@pytest.mark.slow  # starts a sandboxed kernel
def test_the_provisioner_reports_the_kernels_own_exit_status():
    km = _kernel()
    kc = km.client()
    try:
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=60)
        kc.execute("import os; os._exit(3)")
        assert run_sync(km.provisioner.wait)() == 3 == km.provisioner.returncode
        assert not run_sync(km.is_alive)()
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow  # starts a sandboxed kernel
def test_a_killed_kernel_is_gone_with_its_namespace():
    km = _kernel()
    provisioner = km.provisioner
    pid = provisioner.pid
    assert pid > 0 and run_sync(provisioner.poll)() is None
    run_sync(km.shutdown_kernel)(now=True)
    assert run_sync(provisioner.poll)() == 128 + 9
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the killed kernel is still running")
