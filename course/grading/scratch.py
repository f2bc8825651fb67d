"""Where grading keeps its scratch files: one private folder per run, or per process grading
outside a run (a Dask worker, a test), removed when it ends, however it ends.

A folder is made with a *reaper*: a small process in a session of its own that waits for the end
of a pipe only its owner holds. When the owner closes it, or dies (kill -9 included), the reaper
waits for the owner's workers and kernels to die with it, removes the folder (unmounting any
kernel working directory left mounted in it), and unlinks the process pool's named semaphores
(``/dev/shm/sem.mp-*``) the owner listed there (:func:`note_semaphores`): a kill -9 of the whole
process group kills multiprocessing's resource tracker too, which would have unlinked them.

Every scratch path of the grader comes from :func:`scratch_base`: the running ``course grade``'s
folder (``COURSE_SCRATCH``, inherited by its pool workers), else this process's own. Both live
in ``/dev/shm`` when it is usable (RAM: SQLite commits cost nothing there).
"""
import os
import subprocess
import sys
import tempfile
import threading

SCRATCH_ENV = "COURSE_SCRATCH"

_REAPER = """
import ctypes, os, shutil, sys, time
sys.stdin.buffer.read()
try:
    with open(os.path.join(sys.argv[1], ".semaphores")) as f:
        semaphores = set(f.read().split())
except OSError:
    semaphores = set()
for pause in (1, 2):
    time.sleep(pause)
    with open("/proc/self/mountinfo") as f:  # a kernel's working directory left mounted
        below = [line.split()[4] for line in f if line.split()[4].startswith(sys.argv[1] + "/")]
    for path in below:
        ctypes.CDLL(None).umount2(path.encode(), 2)
    shutil.rmtree(sys.argv[1], ignore_errors=True)
for name in semaphores:
    try:
        os.unlink(os.path.join("/dev/shm", "sem." + name))
    except OSError:
        pass
"""


def note_semaphores(pool):
    """Write the names of a ``ProcessPoolExecutor``'s named semaphores (its two queues' locks) into
    this process's scratch folder, for the reaper to unlink if this process dies without doing it.

    Reads CPython's ``concurrent.futures`` and ``multiprocessing`` internals (``_call_queue``,
    ``_result_queue``, ``SemLock._semlock.name``; checked on 3.11-3.13, and by the group-kill
    fault test): glibc maps a semaphore under a temporary name, so ``/proc/*/maps`` cannot tell.
    """
    names = []
    for queue in (getattr(pool, "_call_queue", None), getattr(pool, "_result_queue", None)):
        for value in vars(queue).values() if queue is not None else ():
            name = getattr(getattr(value, "_semlock", None), "name", None)
            if isinstance(name, str) and name.startswith("/mp-"):
                names.append(name[1:])
    try:
        with open(os.path.join(scratch_base(), ".semaphores"), "a") as f:
            f.write("".join(f"{name}\n" for name in names))
    except OSError:
        pass


def _memory_or_tmp():
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def reaped_folder(prefix):
    """A new private folder and the pipe end that keeps it: ``(path, fd)``. Closing ``fd`` (or this
    process dying) has the reaper remove the folder a few seconds later."""
    folder = tempfile.mkdtemp(prefix=prefix, dir=_memory_or_tmp())
    os.chmod(folder, 0o700)
    read, write = os.pipe()  # (not inherited by the processes this one starts)
    try:
        subprocess.Popen([sys.executable, "-S", "-c", _REAPER, folder], stdin=read,
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.close(read)
    return folder, write


_own = None  # this process's folder when it grades outside a run: (path, fd)
_own_lock = threading.Lock()


def scratch_base():
    """The folder for a grading scratch file: the run's, else this process's own (made once)."""
    global _own
    run = os.environ.get(SCRATCH_ENV, "")
    if run and os.path.isdir(run):
        return run
    with _own_lock:
        if _own is None or not os.path.isdir(_own[0]):
            _own = reaped_folder("course-proc-")
        return _own[0]
