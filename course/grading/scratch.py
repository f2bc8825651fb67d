"""Where grading keeps its scratch files: one private folder per run, or per process grading
outside a run (a Dask worker, a test), removed when it ends, however it ends.

A folder is made with a *reaper*: a small process in a session of its own that waits for the end
of a pipe only its owner holds. When the owner closes it, or dies (kill -9 included), the reaper
waits for the owner's workers and kernels to die with it, removes the folder (unmounting any
kernel working directory left mounted in it), and unlinks the
process pool's named semaphores (``/dev/shm/sem.mp-*``) made since, that no live process maps: a
kill -9 of the whole process group kills multiprocessing's resource tracker too, which would have
unlinked them (an unmapped one is unusable by anyone).

Every scratch path of the grader comes from :func:`scratch_base`: the running ``course grade``'s
folder (``COURSE_SCRATCH``, inherited by its pool workers), else this process's own. Both live
in ``/dev/shm`` when it is usable (RAM: SQLite commits cost nothing there).
"""
import os
import subprocess
import sys
import tempfile
import threading
import time

SCRATCH_ENV = "COURSE_SCRATCH"

_REAPER = """
import ctypes, glob, os, shutil, sys, time
sys.stdin.buffer.read()
for pause in (1, 2):
    time.sleep(pause)
    with open("/proc/self/mountinfo") as f:  # a kernel's working directory its keeper left mounted
        below = [line.split()[4] for line in f if line.split()[4].startswith(sys.argv[1] + "/")]
    for path in below:
        ctypes.CDLL(None).umount2(path.encode(), 2)
    shutil.rmtree(sys.argv[1], ignore_errors=True)
made = [p for p in glob.glob("/dev/shm/sem.mp-*") if os.stat(p).st_ctime >= float(sys.argv[2])]
if made:
    mapped = set()
    for maps in glob.glob("/proc/[0-9]*/maps"):
        try:
            with open(maps) as f:
                mapped.update(line.split(None, 5)[-1].strip() for line in f if "/sem.mp-" in line)
        except OSError:
            pass
    for path in made:
        if path not in mapped:
            try:
                os.unlink(path)
            except OSError:
                pass
"""


def _memory_or_tmp():
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def reaped_folder(prefix):
    """A new private folder and the pipe end that keeps it: ``(path, fd)``. Closing ``fd`` (or this
    process dying) has the reaper remove the folder a few seconds later."""
    folder = tempfile.mkdtemp(prefix=prefix, dir=_memory_or_tmp())
    os.chmod(folder, 0o700)
    read, write = os.pipe()  # (not inherited by the processes this one starts)
    try:
        subprocess.Popen([sys.executable, "-S", "-c", _REAPER, folder, str(time.time() - 1)], stdin=read,
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
