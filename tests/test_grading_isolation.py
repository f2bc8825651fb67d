"""What a student's kernel can see and do while it is graded (sandbox of course/grading/sandbox.py).

A sandboxed kernel is started the way the grader starts it (zygote, stub, SandboxKernelManager)
and probed from the inside: uid, limits, files, network, processes. The unit tests of the
hardened executor (epilogue, dead kernels, time limits) run small synthetic notebooks.
"""
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.guard import GuardedExecute, top_level_names, with_epilogue
from course.grading.sandbox import MB, Limits, Sandbox, SandboxKernelManager, isolation_available, use_sandbox
from course.paths import COURSE_ROOT

needs_isolation = pytest.mark.skipif(bool(isolation_available()), reason=f"no kernel isolation: {isolation_available()}")


def run_cells(sources, limits=None, isolate=True, timeout=20, hide=()):
    """Execute ``sources`` in a fresh sandboxed kernel; return the executed cells."""
    work = Path(tempfile.mkdtemp(prefix="course-kernel-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    os.chmod(work, 0o700)
    use_sandbox(Sandbox(work, limits or Limits(), isolate=isolate and not isolation_available(), hide=list(hide)))
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    client = NotebookClient(nb, timeout=timeout, kernel_manager_class=SandboxKernelManager, allow_errors=True,
                            shutdown_kernel="immediate", resources={"metadata": {"path": str(work)}})
    try:
        client.execute()
    finally:
        subprocess.run(["rm", "-rf", str(work)])
    return nb.cells


def text(cell):
    out = []
    for o in cell.outputs:
        out.append(o.get("text") or "".join(o.get("data", {}).get("text/plain", "")) or f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(out)


@needs_isolation
def test_kernel_runs_unprivileged_with_limits():
    cells = run_cells([
        "import os, resource, json\n"
        "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(), 'pid': os.getpid(),"
        " 'cwd': os.getcwd(), 'as': resource.getrlimit(resource.RLIMIT_AS)[0],"
        " 'cpu': resource.getrlimit(resource.RLIMIT_CPU)[0], 'nproc': resource.getrlimit(resource.RLIMIT_NPROC)[0],"
        " 'fsize': resource.getrlimit(resource.RLIMIT_FSIZE)[0], 'quick': os.environ.get('COURSE_QUICK'),"
        " 'env': sorted(os.environ)}))",
    ], limits=Limits(memory=1024 * MB, cpu_seconds=30, processes=50, file_size=8 * MB))
    info = json.loads(text(cells[0]))
    assert info["uid"] >= 200000 and info["gid"] == info["uid"] and info["groups"] == []
    assert info["pid"] == 1  # PID 1 of its own namespace: its leftovers die with it
    assert (info["as"], info["cpu"], info["nproc"], info["fsize"]) == (1024 * MB, 30, 50, 8 * MB)
    assert info["quick"] == "1"
    assert "COURSE_DB_URL" not in info["env"] and "PGPASSWORD" not in info["env"]


@needs_isolation
def test_kernel_cannot_read_course_or_gradebook_but_imports_utils(tmp_path):
    secret_db = tmp_path / "secret.db"
    secret_db.write_text("grades")
    os.chmod(tmp_path, 0o755)
    probes = [str(COURSE_ROOT / "source"), str(COURSE_ROOT / "gradebook.db"), str(COURSE_ROOT / "submitted"),
              str(COURSE_ROOT / ".git"), str(secret_db), "/root", "/dev/shm"]
    code = (
        "import os, json\nseen = {}\n"
        f"for p in {probes!r}:\n"
        "    try:\n"
        "        seen[p] = os.listdir(p) if os.path.isdir(p) else open(p).read(20)\n"
        "    except OSError as e:\n"
        "        seen[p] = type(e).__name__\n"
        "import utils.testing, numpy\nseen['utils'] = utils.testing.__name__\nprint(json.dumps(seen))"
    )
    seen = json.loads(text(run_cells([code], hide=[str(secret_db)])[0]))
    assert seen["utils"] == "utils.testing"
    assert seen[str(COURSE_ROOT / "source")] in ([], "FileNotFoundError", "PermissionError")
    assert seen[str(COURSE_ROOT / "submitted")] in ([], "FileNotFoundError", "PermissionError")
    assert seen[str(COURSE_ROOT / ".git")] in ([], "FileNotFoundError", "PermissionError")
    for p in (str(COURSE_ROOT / "gradebook.db"), str(secret_db)):
        assert seen[p] in ("", "FileNotFoundError", "PermissionError"), (p, seen[p])
    assert all(name.startswith("course-kernel-") for name in seen["/dev/shm"]) and len(seen["/dev/shm"]) <= 1


@needs_isolation
def test_kernel_has_no_network():
    cell = run_cells(["import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', 22))"])[0]
    assert "OSError" in text(cell) or "ConnectionRefused" in text(cell) or "unreachable" in text(cell)
    assert "unreachable" in text(cell) or "Network" in text(cell)


@needs_isolation
def test_background_processes_die_with_the_kernel():
    marker = f"course_isolation_probe_{os.getpid()}"
    run_cells([f"import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 120 # {marker}'], start_new_session=True)\n"
               "import time\ntime.sleep(0.3)"])
    time.sleep(0.5)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps


def test_memory_limit_gives_memory_error_not_a_crash():
    cells = run_cells(["x = bytearray(3 * 1024**3)", "print('still alive')"], limits=Limits(memory=1024 * MB))
    assert "MemoryError" in text(cells[0])
    assert "still alive" in text(cells[1])


def test_file_size_limit():
    cells = run_cells(["open('big', 'wb').write(b'x' * (4 * 1024 * 1024))", "print('ok')"],
                      limits=Limits(file_size=1 * MB))
    assert "OSError" in text(cells[0]) or "File too large" in text(cells[0]) or "KernelDied" in text(cells[0]) \
        or cells[0].outputs == [] or "Error" in text(cells[0])


def test_epilogue_keeps_display_and_line_numbers():
    src = "x = 1\nprint(x)\nx + 1"
    out = with_epilogue(src, "G", "n")
    assert out.splitlines()[:2] == src.splitlines()[:2] and out.splitlines()[2] == "G('n', (x + 1))"
    assert with_epilogue("for i in range(2):\n    pass", "G", "n").endswith("G('n')\n")
    assert with_epilogue("f(1,\n  2);", "G", "n") == "G('n', (f(1,\n  2)));"
    assert top_level_names("import numpy as np\nfrom a import b\ndef f():\n    y = 1\nz = 2") == {"np", "b", "f", "z"}


def _graded_nb(test_sources, solution="def f():\n    return 1"):
    """A tiny nbgrader notebook: one locked setup cell, one solution cell, graded test cells."""
    cells = [new_code_cell("import numpy as np\nfrom utils.testing import check_close",
                           metadata={"nbgrader": {"grade": False, "locked": True, "solution": False, "grade_id": "setup"}}),
             new_code_cell(solution, metadata={"nbgrader": {"grade": False, "locked": False, "solution": True,
                                                            "grade_id": "sol"}})]
    for i, src in enumerate(test_sources):
        cells.append(new_code_cell(src, metadata={"nbgrader": {"grade": True, "locked": True, "solution": False,
                                                               "grade_id": f"t{i}", "points": 1}}))
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})


def guarded_run(nb, limits):
    from nbgrader.utils import determine_grade

    work = Path(tempfile.mkdtemp(prefix="course-kernel-"))
    os.chmod(work, 0o700)
    use_sandbox(Sandbox(work, limits, isolate=not isolation_available()))
    ex = GuardedExecute(timeout=int(limits.cell_timeout))
    GuardedExecute.limits, GuardedExecute.workdir, GuardedExecute.stats = limits, work, {}
    try:
        nb, _ = ex.preprocess(nb, {"metadata": {"path": str(work)}})
    finally:
        subprocess.run(["rm", "-rf", str(work)])
    return {c.metadata["nbgrader"]["grade_id"]: determine_grade(c)[0] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}, nb, GuardedExecute.stats


def test_dead_kernel_zeroes_the_rest_with_a_reason():
    nb = _graded_nb(["check_close(f(), 1)", "import os\nos._exit(7)", "check_close(f(), 1)"])
    scores, nb, stats = guarded_run(nb, Limits(cell_timeout=10, notebook_timeout=60))
    assert scores == {"t0": 1.0, "t1": 0.0, "t2": 0.0}
    assert "exited with status 7" in stats["stopped"]
    assert "not run" in nb.cells[-1].outputs[-1]["evalue"]


def test_notebook_wall_clock_limit():
    nb = _graded_nb(["check_close(f(), 1)", "import time\ntime.sleep(3)", "import time\ntime.sleep(3)",
                     "check_close(f(), 1)"])
    start = time.monotonic()
    scores, _, stats = guarded_run(nb, Limits(cell_timeout=30, notebook_timeout=6))
    assert time.monotonic() - start < 30
    assert scores["t0"] == 1.0 and scores["t3"] == 0.0
    assert "time limit" in stats["stopped"] or any(s == 0.0 for s in (scores["t1"], scores["t2"]))


def test_cpu_limit_kills_only_this_kernel():
    nb = _graded_nb(["check_close(f(), 1)", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
                     "check_close(f(), 1)"])
    scores, nb, stats = guarded_run(nb, Limits(cell_timeout=4, notebook_timeout=60, cpu_seconds=3))
    assert scores == {"t0": 1.0, "t1": 0.0, "t2": 0.0}
    assert stats["stopped"]


def test_hidden_failure_is_caught_by_the_epilogue():
    """A test whose exception is swallowed by a custom handler does not reach its end: 0."""
    nb = _graded_nb(["check_close(f(), 2)"], solution=(
        "def f():\n    get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "    get_ipython().showtraceback = lambda *a, **k: None\n    return 1"))
    scores, nb, _ = guarded_run(nb, Limits(cell_timeout=10, notebook_timeout=60))
    assert scores == {"t0": 0.0}
