"""What a student's kernel can see and do while it is graded (course/grading/sandbox.py, zygote.py).

A sandboxed kernel is started the way the grader starts it (zygote, keeper, SandboxKernelManager)
and probed from the inside: uid, limits, its file system (an allow-list built from nothing),
network, processes, environment. The last tests run small synthetic notebooks through
``CheckedExecute`` (dead kernels, time limits).
"""
import errno
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.checked_execute import CheckedExecute, SubmissionRun, submission_run
from course.grading.provisioner import SandboxKernelManager, SandboxProvisioner
from course.grading.sandbox import MB, Limits, Sandbox, isolation_available, remove_workdir
from course.paths import COURSE_ROOT

pytestmark = pytest.mark.slow  # every test starts a sandboxed kernel
needs_isolation = pytest.mark.skipif(bool(isolation_available()), reason=f"no kernel isolation: {isolation_available()}")


def _workdir():
    """A kernel's working directory holding a student bundle (the course's ``utils/``: the only
    ``utils`` a sandboxed kernel can import is the one in its working directory)."""
    work = Path(tempfile.mkdtemp(prefix="course-kernel-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    os.chmod(work, 0o700)
    shutil.copytree(COURSE_ROOT / "utils", work / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    return work


def run_cells(sources, limits=None, isolate=True, timeout=20, status=None, work=None):
    """Execute ``sources`` in a fresh sandboxed kernel; return the executed cells.

    ``status``: a dict that receives the working directory (``work``) and the kernel's exit status
    (``returncode``) if it died.
    """
    keep, work = work is not None, work or _workdir()  # a given working directory stays (the caller's)
    if status is not None:
        status["work"] = str(work)
    box = Sandbox(work, limits or Limits(), isolate=isolate and not isolation_available())
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    km = SandboxKernelManager(kernel_name="python3")
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(work)}})
    try:
        client.execute(sandbox=box)
    except DeadKernelError:
        if status is not None:
            assert isinstance(km.provisioner, SandboxProvisioner)  # jupyter_client found it by name
            status["returncode"] = km.provisioner.returncode
    finally:
        run_sync(km.shutdown_kernel)(now=True)
        if not keep:
            remove_workdir(work)
    return nb.cells


def text(cell):
    out = []
    for o in cell.outputs:
        out.append(o.get("text") or "".join(o.get("data", {}).get("text/plain", "")) or f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(out)


def probe(code):
    """Run ``code`` (which prints one JSON document) in a sandboxed kernel; return it decoded."""
    cell = run_cells([code])[0]
    try:
        return json.loads(text(cell))
    except ValueError:
        raise AssertionError(text(cell)) from None


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


LIST = """
import json, os, sys
def ls(p):
    try:
        return sorted(os.listdir(p))
    except OSError as e:
        return type(e).__name__
def read(p):
    try:
        return open(p, "rb").read(16).decode("latin-1")
    except OSError as e:
        return type(e).__name__
def imp(name):
    try:
        __import__(name)
        return "imported"
    except ImportError as e:
        return type(e).__name__
"""


@needs_isolation
def test_kernel_sees_only_its_allow_list():
    """The root is built from nothing: the system, the Python environment, the data, its own folder."""
    import sys
    prefix, base = str(Path(sys.prefix).resolve()), str(Path(sys.base_prefix).resolve())
    mnist = os.environ.get("MNIST_PATH", "")
    seen = probe(LIST + f"""
paths = ["/", "/etc", "/work", {str(COURSE_ROOT)!r}, "/root", "/tmp", "/dev", "/dev/shm", "/home", "/run", "/var",
         "/sys", {str(COURSE_ROOT / "course")!r}, {str(COURSE_ROOT / "source")!r}, {str(COURSE_ROOT / "submitted")!r},
         {str(COURSE_ROOT / ".git")!r}, {str(Path(prefix).parent)!r}, {str(Path(base).parent)!r}]
files = ["/etc/shadow", "/etc/hostname", {str(COURSE_ROOT / "gradebook.db")!r}, {str(COURSE_ROOT / "nbgrader_config.py")!r},
         {str(COURSE_ROOT / "course" / "reference" / "activations.py")!r}, {mnist!r}]
print(json.dumps({{"ls": {{p: ls(p) for p in paths}}, "read": {{p: read(p) for p in files}},
                  "import": {{m: imp(m) for m in ("course", "course.reference", "course.checks", "utils.testing",
                                                  "utils.mnist", "numpy", "matplotlib.pyplot")}},
                  "course_modules": [m for m in sys.modules if m == "course" or m.startswith("course.")]}}))
""")
    ls, read, imported = seen["ls"], seen["read"], seen["import"]
    assert set(ls["/"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr",
                            *Path(prefix).parts[1:2], *Path(base).parts[1:2], *Path(mnist or "/").resolve().parts[1:2]}, ls["/"]
    assert set(ls["/etc"]) <= {"fonts", "group", "ld.so.cache", "localtime", "passwd"}, ls["/etc"]
    # nothing of the course but the way to its Python environment (when it lives there: .venv) and utils
    course = ls[str(COURSE_ROOT)]
    venv = {Path(prefix).relative_to(COURSE_ROOT.resolve()).parts[0]} if Path(prefix).is_relative_to(COURSE_ROOT.resolve()) else set()
    assert course == "FileNotFoundError" or set(course) <= venv | {"utils"}, course
    for folder in ("course", "source", "submitted", ".git"):
        assert ls[str(COURSE_ROOT / folder)] == "FileNotFoundError", folder
    assert ls["/root"] in ([], [".pyenv"], "FileNotFoundError"), ls["/root"]
    if Path(base).parent != Path("/"):  # (a system Python's /usr is bound whole anyway)
        assert ls[str(Path(base).parent)] == [Path(base).name]  # the interpreter, not its siblings
    # /tmp is private and empty, but for IPython's profile folder (IPYTHONDIR) and the way to the
    # environment and data when they live under /tmp (a CI clone often does): only those paths' first
    # folders, nothing else
    under_tmp = {Path(p).resolve().relative_to("/tmp").parts[0] for p in (prefix, base, mnist)
                 if p and Path(p).resolve().is_relative_to("/tmp")}
    assert set(ls["/tmp"]) <= under_tmp | {".ipython"}, ls["/tmp"]
    assert len(ls["/dev/shm"]) == 1 and ls["/dev/shm"][0].startswith("course-kernel-")
    assert set(ls["/dev"]) <= {"null", "zero", "full", "random", "urandom", "tty", "shm", "fd", "stdin", "stdout",
                               "stderr"}, ls["/dev"]
    for folder in ("/home", "/run", "/var", "/sys"):
        assert ls[folder] == "FileNotFoundError", folder
    for path, got in read.items():
        if path == mnist and mnist:
            assert got.startswith("PK"), got  # the data a notebook may load
        else:
            assert got == "FileNotFoundError", (path, got)
    assert imported["course"] == imported["course.reference"] == imported["course.checks"] == "ModuleNotFoundError"
    assert seen["course_modules"] == []
    assert imported["utils.testing"] == imported["utils.mnist"] == imported["numpy"] == "imported"
    assert imported["matplotlib.pyplot"] == "imported"


@needs_isolation
def test_kernel_writes_only_its_folder_and_private_tmp():
    import sys
    seen = probe(f"""
import json, os
def write(p):
    try:
        with open(p, "w") as f:
            f.write("x")
        return "written"
    except OSError as e:
        return type(e).__name__
paths = ["/x", "/etc/x", "/usr/x", {str(Path(sys.prefix).resolve() / "x")!r}, {str(COURSE_ROOT / "utils" / "x")!r},
         "mine.txt", "/tmp/x", "/dev/shm/x"]
print(json.dumps({{p: write(p) for p in paths}}))
""")
    for path in ("/x", "/etc/x", "/usr/x", str(Path(sys.prefix).resolve() / "x"), str(COURSE_ROOT / "utils" / "x")):
        assert seen[path] in ("OSError", "PermissionError", "FileNotFoundError"), (path, seen[path])  # EROFS, EACCES,
        # or a folder that does not exist for the kernel (the course's utils/: the kernel has its bundle's)
    assert seen["mine.txt"] == seen["/tmp/x"] == seen["/dev/shm/x"] == "written"
    assert not Path("/tmp/x").exists() or Path("/tmp/x").read_text() != "x"


@needs_isolation
def test_tmp_and_shm_are_private_and_capped():
    import errno
    marker = f"course_private_{os.getpid()}"
    cell = run_cells([f"""
import json, os
got = {{}}
for folder in ("/tmp", "/dev/shm"):
    written = 0
    try:
        with open(os.path.join(folder, {marker!r}), "wb") as f:
            for _ in range(64):
                f.write(b"x" * 1024 * 1024)
                f.flush()
                written += 1
    except OSError as e:
        got[folder] = [written, e.errno]
print(json.dumps(got))
"""], limits=Limits(tmp_size=8 * MB))[0]
    seen = json.loads(text(cell))
    for folder in ("/tmp", "/dev/shm"):
        written, err = seen[folder]
        assert err == errno.ENOSPC and 4 <= written <= 8, (folder, seen)  # Limits.tmp_size: 8 MB each
        assert not (Path(folder) / marker).exists()  # the host's folder never saw it


@needs_isolation
def test_the_working_directory_is_capped_and_gone_afterwards():
    """The working directory is a tmpfs of its own (Limits.workdir_size): writes beyond it fail
    there, the kernel goes on, and nothing of it is left on the host afterwards."""
    status = {}
    cells = run_cells(["import os, json\nprint(json.dumps(os.statvfs('.').f_blocks * os.statvfs('.').f_frsize))",
                       "written = 0\ntry:\n    for i in range(100):\n"
                       "        open(f'f{i}', 'wb').write(b'x' * 4 * 1024 * 1024)\n        written += 4\n"
                       "except OSError as e:\n    print(written, e.errno)",
                       "print('still here')"], limits=Limits(workdir_size=16 * MB), timeout=30, status=status)
    assert int(text(cells[0])) == 16 * MB
    written, err = map(int, text(cells[1]).split())
    assert err == errno.ENOSPC and 8 <= written < 16, text(cells[1])
    assert "still here" in text(cells[2]) and "returncode" not in status
    mounted = lambda: f" {status['work']} " in Path("/proc/self/mountinfo").read_text()  # noqa: E731
    deadline = time.monotonic() + 10  # its keeper unmounts it as it ends
    while (mounted() or os.path.exists(status["work"])) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not mounted() and not os.path.exists(status["work"])


@needs_isolation
def test_the_notebooks_of_a_submission_share_their_working_directory():
    """nbgrader runs a submission's notebooks in one folder: the second notebook's kernel finds the
    bundle and what the first wrote (the tmpfs belongs to the folder, not to one kernel)."""
    work = _workdir()
    try:
        run_cells(["open('note.txt', 'w').write('from the first notebook')"], limits=Limits(workdir_size=16 * MB),
                  work=work)
        cells = run_cells(["import utils.testing\nprint(open('note.txt').read())"], limits=Limits(workdir_size=16 * MB),
                          work=work)
        assert text(cells[0]).strip() == "from the first notebook", text(cells[0])
        assert os.path.ismount(work)
    finally:
        remove_workdir(work)
    assert not os.path.exists(work)


@needs_isolation
def test_no_secret_of_the_grader_reaches_the_kernel_memory(monkeypatch):
    """A forked kernel keeps its zygote's original environment in memory: the zygote gets none of
    the grader's secrets."""
    from course.grading import sandbox
    secret = f"s3cret-{os.getpid()}"
    sandbox.stop_zygote()
    monkeypatch.setenv("COURSE_DB_URL", f"postgresql://grader:{secret}@db/gradebook")
    monkeypatch.setenv("PGPASSWORD", secret)
    try:
        cell = run_cells(["import os\nprint(sorted(os.environ.items()))"])[0]
        assert secret not in text(cell)
        zyg = sandbox.zygote()
        environ = Path(f"/proc/{zyg.proc.pid}/environ").read_bytes()
        assert secret.encode() not in environ and b"PATH=" in environ
    finally:
        sandbox.stop_zygote()


@needs_isolation
def test_kernel_has_no_network():
    cell = run_cells(["import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', 22))"])[0]
    assert "unreachable" in text(cell) or "Network" in text(cell), text(cell)


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
    assert "File too large" in text(cells[0]) or "OSError" in text(cells[0])
    assert "ok" in text(cells[1])


# --- CheckedExecute on synthetic notebooks (graded cells without grader-side checks: nbgrader's rules)
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


def checked_run(nb, limits):
    from nbgrader.utils import determine_grade

    work = _workdir()
    run = SubmissionRun(Sandbox(work, limits, isolate=not isolation_available()))
    ex = CheckedExecute(timeout=int(limits.cell_timeout), sandbox=SandboxKernelManager)
    try:
        with submission_run(run):
            nb, _ = ex.preprocess(nb, {"metadata": {"path": str(work)}})
    finally:
        remove_workdir(work)
    return {c.metadata["nbgrader"]["grade_id"]: determine_grade(c)[0] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}, nb, run.stats


def test_dead_kernel_zeroes_the_rest_with_a_reason():
    nb = _graded_nb(["check_close(f(), 1)", "import os\nos._exit(7)", "check_close(f(), 1)"])
    scores, nb, stats = checked_run(nb, Limits(cell_timeout=10, notebook_timeout=60))
    assert scores == {"t0": 1.0, "t1": 0.0, "t2": 0.0}
    assert "exited with status 7" in stats["stopped"]
    assert "not run" in nb.cells[-1].outputs[-1]["evalue"]


def test_notebook_wall_clock_limit():
    from course.grading.sandbox import zygote
    zygote()  # warm: the limit counts the kernel's start, which a cold zygote makes slow
    nb = _graded_nb(["check_close(f(), 1)", "import time\ntime.sleep(4)", "import time\ntime.sleep(4)",
                     "check_close(f(), 1)"])
    start = time.monotonic()
    scores, _, stats = checked_run(nb, Limits(cell_timeout=30, notebook_timeout=7))
    assert time.monotonic() - start < 30
    assert scores["t0"] == 1.0 and scores["t3"] == 0.0
    assert "time limit" in stats["stopped"] or any(s == 0.0 for s in (scores["t1"], scores["t2"]))


@needs_isolation
def test_a_cell_past_its_time_limit_that_ignores_interrupts_stops_the_notebook():
    nb = _graded_nb(["check_close(f(), 1)", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
                     "check_close(f(), 1)"])
    start = time.monotonic()
    scores, nb, stats = checked_run(nb, Limits(cell_timeout=3, notebook_timeout=120, cpu_seconds=120))
    assert scores == {"t0": 1.0, "t1": 0.0, "t2": 0.0}
    assert "time limit" in stats["stopped"] and "did not stop when interrupted" in stats["stopped"], stats
    assert time.monotonic() - start < 30  # the kernel was stopped, not every later cell waited for


@needs_isolation
def test_cpu_limit_kills_only_this_kernel():
    nb = _graded_nb(["check_close(f(), 1)", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
                     "check_close(f(), 1)"])
    scores, nb, stats = checked_run(nb, Limits(cell_timeout=4, notebook_timeout=60, cpu_seconds=3))
    assert scores == {"t0": 1.0, "t1": 0.0, "t2": 0.0}
    assert stats["stopped"]
