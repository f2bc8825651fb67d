"""Sandboxed kernels for grading: limits, an unprivileged uid, private namespaces, a warm zygote.

``Sandbox`` describes one submission's kernel (its working directory, its limits, what it may
see); ``zygote()`` is this process's warm interpreter that forks kernels into one (``zygote.py``).
jupyter_client starts and manages them through the sandbox provisioner (``provisioner.py``).
See docs/grading.md for what each layer guarantees.
"""
import atexit
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from course.grading.scratch import scratch_base

HERE = Path(__file__).resolve().parent
ZYGOTE = HERE / "zygote.py"
MB = 1024 * 1024
MAX_MESSAGE_BYTES = 192 * MB  # a check's largest answer (64 MB, base64) and a 32 MB traceback fit

# Modules every kernel gets preloaded (the notebooks' own imports are added per assignment).
# ``utils`` is not among them: the kernel imports it from the student's bundle in its working
# directory, and from nowhere else.
BASE_PRELOAD = ["numpy", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline",
                "ipywidgets", "tqdm.auto"]
# Passed through from the grader's environment to the kernel; nothing else is (no secrets).
ENV_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "MPLBACKEND", "MNIST_PATH", "DL_WORKBOOK_CACHE",
                   "PYTHONHASHSEED")
# What the zygote itself needs besides (to find the interpreter's modules); never a secret.
ZYGOTE_ENV = ("HOME", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "MPLCONFIGDIR", "XDG_CACHE_HOME",
              "XDG_CONFIG_HOME")


def data_paths():
    """Data a notebook may load from outside the kernel's view (MNIST_PATH, utils.mnist's cache
    folder): kept readable."""
    from utils.mnist import MNIST_ENV, cache_path
    found = [os.environ.get(MNIST_ENV, ""), str(cache_path().parent)]
    return [str(Path(p).resolve()) for p in found if p and os.path.exists(p)]


@dataclass
class Limits:
    """Per-submission limits. Sizes in bytes, times in seconds; ``None`` means no limit."""

    cell_timeout: float = 120          # wall clock per cell (nbgrader's Execute.timeout)
    notebook_timeout: float = 900      # wall clock for the whole notebook, kernel start included
    cpu_seconds: int = 900             # RLIMIT_CPU of the kernel process (SIGXCPU, then killed)
    memory: int = 4096 * MB            # RLIMIT_AS of the kernel process
    output: int = 2 * MB               # bytes of outputs kept per notebook, the rest is dropped
    file_size: int = 64 * MB           # RLIMIT_FSIZE: largest file the kernel may write
    processes: int = 64                # RLIMIT_NPROC for the kernel's uid (threads count too)
    tmp_size: int = 64 * MB            # size of the kernel's private /tmp, and of its /dev/shm
    workdir_size: int = 256 * MB       # size of the kernel's working directory (a tmpfs): writes beyond fail
    submission: int = 128 * MB         # bytes of a submission's files the grader reads (the rest is refused)
    quick: bool = True                 # COURSE_QUICK=1: training cells run their short version

    def rlimits(self):
        return {"memory": self.memory, "cpu": self.cpu_seconds, "nproc": self.processes,
                "fsize": self.file_size, "nofile": 1024, "core": 0}


_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000 | 0x40000000 | 0x20000000 | 0x08000000 | 0x04000000) != 0:
    sys.exit(os.strerror(ctypes.get_errno()))
"""
_isolation = None


def isolation_available():
    """'' if namespaces and a uid switch work here, else why not (probed once per process)."""
    global _isolation
    if _isolation is None:
        if not sys.platform.startswith("linux"):
            _isolation = "not Linux"
        elif os.geteuid() != 0:
            _isolation = "not running as root (no uid switch, no namespaces)"
        else:
            probe = subprocess.run([sys.executable, "-S", "-c", _PROBE], capture_output=True, text=True)
            _isolation = "" if probe.returncode == 0 else \
                f"cannot create namespaces here ({(probe.stderr or 'unshare failed').strip().splitlines()[-1]})"
    return _isolation


_kernels_started = itertools.count()


def kernel_uid():
    """An unprivileged uid for the next kernel: distinct between workers, and between a worker's
    consecutive kernels (64 in turn).

    RLIMIT_NPROC counts per uid. A fork bomb's processes die with their kernel's PID namespace,
    but not all at once: a kernel started right after it under the same uid could not even start
    its threads. Under another uid, neither the next kernel nor another worker's is starved.
    """
    return 200000 + os.getpid() * 64 + next(_kernels_started) % 64


# What a sandboxed kernel sees of the host (an allow-list; everything else does not exist for it).
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin",
                "/etc/ld.so.cache", "/etc/localtime", "/etc/fonts")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def python_paths():
    """The interpreter's environment: the venv and the Python it was made from (resolved)."""
    return sorted({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)})


@dataclass
class Sandbox:
    """What one kernel gets (``SandboxKernelManager.start_kernel(sandbox=box)``): its working
    directory (holding the student's bundle), its limits, and what its zygote preloads."""

    workdir: Path
    limits: Limits = field(default_factory=Limits)
    isolate: bool = True
    uid: int = None
    preload: tuple = ()   # modules the zygote imports before it forks (warm kernels)

    def view(self):
        """The kernel's file system: paths bound read-only, read-write, devices, private tmpfs."""
        work = Path(self.workdir)
        ro = [p for p in SYSTEM_PATHS if os.path.lexists(p)] + python_paths() + data_paths()
        rw = sorted({str(work.absolute()), str(work.resolve())})
        return {"ro": ro, "rw": rw, "dev": list(DEVICES),
                "tmpfs": {"/tmp": self.limits.tmp_size, "/dev/shm": self.limits.tmp_size},
                "workdir_size": self.limits.workdir_size}

    def request(self):
        from utils.mnist import CACHE_ENV, cache_path
        env = {k: os.environ[k] for k in ENV_PASSTHROUGH if k in os.environ}
        work = str(self.workdir)
        env[CACHE_ENV] = str(cache_path().parent)  # HOME changes below; the grader's cache stays the same
        env.update(HOME=work, TMPDIR="/tmp" if self.isolate else work, COURSE_QUICK="1" if self.limits.quick else "0",
                   MALLOC_ARENA_MAX="2",
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   MPLCONFIGDIR=os.path.join(work, ".matplotlib"),
                   # (in the private /tmp: no file of the submission is an IPython startup file)
                   IPYTHONDIR="/tmp/.ipython" if self.isolate else os.path.join(work, ".ipython"),
                   PYDEVD_DISABLE_FILE_VALIDATION="1")
        req = {"cwd": work, "env": env, "limits": self.limits.rlimits(), "isolate": self.isolate}
        if self.isolate:
            req["view"] = self.view()
            req["uid"] = self.uid if self.uid is not None else kernel_uid()
            req["chown"] = [work, os.path.join(work, ".k"), os.path.join(work, ".k", "kernel.json")]
        return req


def remove_workdir(folder):
    """Remove a kernel's working directory, unmounting the tmpfs its keeper put over it first."""
    folder = str(folder)
    if os.path.ismount(folder):
        import ctypes
        ctypes.CDLL(None).umount2(folder.encode(), 2)  # MNT_DETACH: a dying kernel may still be in it
    shutil.rmtree(folder, ignore_errors=True)


class _Zygote:
    def __init__(self, modules):
        self.modules = tuple(modules)
        self.dir = tempfile.mkdtemp(prefix="course-zygote-", dir=scratch_base())
        os.chmod(self.dir, 0o700)
        self.socket = os.path.join(self.dir, "zygote.sock")
        # Only what the kernels may know: a forked kernel keeps the zygote's original environment
        # in its memory (os.environ.clear() does not erase it), so no secret ever enters it.
        env = {k: os.environ[k] for k in ENV_PASSTHROUGH + ZYGOTE_ENV if k in os.environ}
        env.update(MALLOC_ARENA_MAX="2", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   COURSE_QUICK="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        self.proc = subprocess.Popen([sys.executable, str(ZYGOTE), self.socket, *self.modules], env=env,
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=self.dir)
        line = self.proc.stdout.readline()
        if b"ready" not in line:
            self.close()
            raise RuntimeError("the kernel zygote did not start")

    def alive(self):
        return self.proc.poll() is None and os.path.exists(self.socket)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


_zygote = None
_zygote_lock = threading.Lock()


def zygote(modules=()):
    """This process's zygote preloading ``modules`` (restarted if the list changes or it died)."""
    global _zygote
    wanted = tuple(dict.fromkeys(BASE_PRELOAD + list(modules)))
    with _zygote_lock:
        if _zygote is None or not _zygote.alive() or _zygote.modules != wanted:
            if _zygote is not None:
                _zygote.close()
            _zygote = _Zygote(wanted)
        return _zygote


def stop_zygote():
    global _zygote
    with _zygote_lock:
        if _zygote is not None:
            _zygote.close()
            _zygote = None


atexit.register(stop_zygote)
