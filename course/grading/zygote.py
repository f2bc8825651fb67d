"""A warm kernel factory: imports the heavy modules once, then forks one sandboxed kernel per request.

Run as a script (``python zygote.py SOCKET MODULE...``), never imported by the kernels it makes.
It only uses the standard library plus the modules it preloads, so the children start with
NumPy, Matplotlib, IPython and ipykernel already in memory (copy-on-write), which removes most
of a kernel's start-up cost.

Per request (one connection on the unix SOCKET, made by the grader's ``SandboxProvisioner``,
see ``provisioner.py``), the zygote forks a *keeper* process that
  1. makes a new session, and if isolation is on, new mount, network, PID, IPC and UTS
     namespaces, and builds the kernel's file system from nothing (``build_root``): an empty
     tmpfs root where only an allow-list is bound (read-only): the system directories, a minimal
     ``/etc``, the Python environment, the data files, plus the kernel's working directory
     (read-write), a fresh ``/proc``, a minimal ``/dev`` and private, size-capped tmpfs for
     ``/tmp`` and ``/dev/shm``; then ``pivot_root`` (``chroot`` where that fails) into it, so
     nothing else of the host exists for the kernel. The network namespace has no interface
     up (no loopback either: no PostgreSQL, no Dask scheduler, no internet); the kernel talks
     to the grader over unix sockets in its working directory;
  2. forks the *kernel* (PID 1 of the new PID namespace, so every process it leaves behind dies
     with it), which sets resource limits, closes every inherited descriptor, switches to an
     unprivileged uid/gid with no supplementary groups and ``no_new_privs``, and runs ipykernel;
  3. reports the kernel's pid to the grader, kills the kernel (and with it the namespace, its
     mounts and their tmpfs) when the grader closes the connection (or dies), and reports the
     kernel's exit status otherwise.

The working directory is a tmpfs of its own too, capped (``view["workdir_size"]``), mounted over
the folder the grader made before the namespaces are (so the grader sees it); it lasts as long as
the folder (the notebooks of one submission share it, as nbgrader runs them in one folder).
"""
import ctypes
import gc
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import struct
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option, value):
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def unshare(flags):
    _check(_libc.unshare(flags), "unshare")


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _fd_path(fd):
    return f"/proc/self/fd/{fd}"


def _mountpoint(target, is_dir):
    if is_dir:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()


def _bind(fd, target, is_dir, read_only, nodev=True):
    _mountpoint(target, is_dir)
    mount(_fd_path(fd), target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | (MS_NODEV if nodev else 0))


def _pivot_root(new_root):
    """Make ``new_root`` the root of this mount namespace; the old root is detached. Falls back on
    chroot (the old root then stays mounted but unreachable: the kernel has no capability)."""
    os.chdir(new_root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is not None and _libc.syscall(number, b".", b".") == 0:
        _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    else:
        os.chroot(".")
    os.chdir("/")


def build_root(view, uid, mount_at="/tmp"):
    """Build the kernel's file system from an empty tmpfs and pivot into it (see the module docstring).

    ``view`` (made by ``sandbox.Sandbox.request``): ``ro`` paths bound read-only at their own
    place (a symbolic link is copied as a link), ``rw`` paths bound read-write, ``dev`` device
    names bound from the host's ``/dev``, ``tmpfs`` {path: bytes} private size-capped tmpfs.
    ``mount_at``: an existing directory of this (private) mount namespace to build on; every
    source is opened before anything is mounted, so sources below it are no problem.
    """
    ro, rw = list(view.get("ro", [])), list(view.get("rw", []))
    sources = []  # (path, fd or None, link target or None, is_dir, read_only)
    for path, read_only in [(p, True) for p in ro] + [(p, False) for p in rw]:
        if os.path.islink(path):
            sources.append((path, None, os.readlink(path), False, read_only))
        elif os.path.exists(path):
            sources.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC), None, os.path.isdir(path), read_only))
    devices = [(name, os.open(f"/dev/{name}", os.O_PATH | os.O_CLOEXEC)) for name in view.get("dev", [])
               if os.path.exists(f"/dev/{name}")]
    root = mount_at
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=2m")
    inside = lambda p: os.path.join(root, p.lstrip("/"))  # noqa: E731
    for d in ("proc", "dev", "etc", "tmp"):
        os.makedirs(inside(d), exist_ok=True)
    mount("tmpfs", inside("dev"), "tmpfs", MS_NOSUID, "mode=755,size=64k")
    for name, fd in devices:
        _bind(fd, inside(f"dev/{name}"), False, read_only=False)
        os.close(fd)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, inside(f"dev/{name}"))
    os.makedirs(inside("dev/shm"), exist_ok=True)
    for path, size in sorted(view.get("tmpfs", {}).items()):
        os.makedirs(inside(path), exist_ok=True)
        mount("tmpfs", inside(path), "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={int(size)}")
    mount(None, inside("dev"), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
    bound = []
    for path, fd, link, is_dir, read_only in sorted(sources, key=lambda s: s[0]):
        if any(os.path.commonpath([b, path]) == b for b in bound):
            if fd is not None:
                os.close(fd)
            continue  # already visible through a bound folder above it
        if link is not None:
            os.makedirs(os.path.dirname(inside(path)), exist_ok=True)
            if not os.path.lexists(inside(path)):
                os.symlink(link, inside(path))
            continue
        _bind(fd, inside(path), is_dir, read_only)
        os.close(fd)
        bound.append(path)
    # Names for the kernel's uid (some libraries ask): made up, nothing of the host's accounts.
    with open(inside("etc/passwd"), "w") as f:
        f.write(f"root:x:0:0:root:/:/bin/sh\nstudent:x:{uid}:{uid}:student:/:/bin/sh\n")
    with open(inside("etc/group"), "w") as f:
        f.write(f"root:x:0:\nstudent:x:{uid}:\n")
    _pivot_root(root)
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


RLIMITS = {
    "memory": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}


def _send(conn, obj):
    conn.sendall((json.dumps(obj) + "\n").encode())


def _kernel(req, fds):
    """In the child: lock down, then become an ipykernel. Never returns."""
    code = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt before ipykernel runs is meaningless
    try:
        os.setsid()
        # The kernel's own stdio never reaches the grader's terminal: /dev/null, and a log file
        # in its working directory for start-up failures.
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(os.path.join(req["cwd"], ".k", "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        if req.get("isolate"):
            try:  # a /proc that shows only this namespace's processes
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            except OSError:
                pass
        for name, value in req.get("limits", {}).items():
            if value is not None and name in RLIMITS:
                soft = int(value)
                hard = soft + 1 if name == "cpu" else soft
                resource.setrlimit(RLIMITS[name], (soft, hard))
        os.chdir(req["cwd"])
        # the zygote's own folder (a script's sys.path[0]) is no place to import from
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != here]
        os.environ.clear()
        os.environ.update(req["env"])
        uid = req.get("uid")
        if uid is not None and os.getuid() == 0:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        # after the uid switch: Linux clears the parent-death signal when credentials change
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGPIPE, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import random
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        sys.argv = ["ipykernel_launcher"] + list(req["argv"])
        from ipykernel.kernelapp import IPKernelApp
        IPKernelApp.launch_instance(argv=list(req["argv"]))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except BaseException as e:  # noqa: BLE001 - report and die, whatever happened
        try:
            os.write(2, f"sandboxed kernel failed to start: {type(e).__name__}: {e}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(code)


def _keeper(conn):
    """In the forked keeper: set the sandbox up, fork the kernel, watch it."""
    msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 8)
    req = json.loads(msg.decode())
    os.setsid()
    uid = req.get("uid")
    cwd = req["cwd"]
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(SystemExit(0)))
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if req.get("isolate") and (req.get("view") or {}).get("workdir_size") and not os.path.ismount(cwd):
        _own_tmpfs(cwd, req["view"]["workdir_size"])  # (the next notebook's kernel of a submission reuses it)
    if uid is not None and os.getuid() == 0:
        for path in req.get("chown", []):
            os.chown(path, uid, uid)
    if req.get("isolate"):
        unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        build_root(req["view"], uid if uid is not None else os.getuid())
    pid = os.fork()
    if pid == 0:
        conn.close()
        _kernel(req, fds)
    for fd in fds:
        os.close(fd)
    if uid is not None and os.getuid() == 0:
        log = os.path.join(cwd, ".k", "kernel.log")
        open(log, "a").close()
        os.chown(log, uid, uid)
    _send(conn, {"pid": pid})
    try:
        _watch(conn, pid, req)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os._exit(0)


def _own_tmpfs(folder, size):
    """Put a tmpfs of ``size`` bytes over ``folder``, holding what the folder held.

    Mounted in the grader's mount namespace before the kernel's is made, so both see the same
    files: the kernel's writes beyond ``size`` fail (ENOSPC) and cost nobody else, and the grader
    still writes the submission's files there after the kernel has started. It lives as long as
    the folder: the grader unmounts it when it removes the folder (``sandbox.remove_workdir``),
    the run's reaper if the grader dies first."""
    below = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=700,size={int(size)}")
        shutil.copytree(_fd_path(below), folder, symlinks=True, dirs_exist_ok=True)
    finally:
        os.close(below)


def _watch(conn, pid, req):
    """Until the grader goes away (kill the kernel and its whole namespace) or the kernel ends
    (report its status): both are events (the connection, a pidfd), nothing is polled."""
    try:
        waitable = [conn, os.pidfd_open(pid)]
    except (AttributeError, OSError):  # Linux before 5.3: look at the kernel every 20 ms
        waitable = [conn]
    while True:
        ready, _, _ = select.select(waitable, [], [], None if len(waitable) == 2 else 0.02)
        if conn in ready:
            try:
                data = conn.recv(64)
            except OSError:
                data = b""
            if not data:  # the grader closed the connection: so goes the kernel, and its whole namespace
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
                return
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status):
                code = 128 + os.WTERMSIG(status)
                # PID 1 of a namespace ignores SIGXCPU; the kernel then dies of SIGKILL at the hard
                # limit: report it as what it is, the CPU limit
                cpu = (req.get("limits") or {}).get("cpu")
                if code == 128 + signal.SIGKILL and cpu and usage.ru_utime + usage.ru_stime >= cpu:
                    code = 128 + signal.SIGXCPU
            else:
                code = os.WEXITSTATUS(status)
            try:
                _send(conn, {"status": code})
            except OSError:
                pass
            return


# What an ipykernel imports while it starts (its debugger pulls in debugpy and pydevd: most of a
# kernel's start-up time when not preloaded); listed by comparing sys.modules before and after.
KERNEL_MODULES = ["IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
                  "jupyter_client.session", "zmq", "tornado.ioloop", "tornado.gen", "tornado.locks", "tornado.queues",
                  "tornado.platform.asyncio", "comm", "IPython.core.completerlib", "IPython.core.debugger",
                  "IPython.core.logger", "IPython.core.oinspect", "IPython.extensions.storemagic",
                  "IPython.utils.wildcard", "sqlite3", "pdb", "faulthandler", "encodings.idna"]


def preload(modules):
    for name in modules:
        try:
            __import__(name)
        except Exception as e:  # noqa: BLE001 - a missing optional module only costs speed
            print(f"zygote: could not preload {name}: {type(e).__name__}: {e}", file=sys.stderr)


def serve(path, modules):
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # die with the grading worker
    preload(KERNEL_MODULES + list(modules))
    gc.collect()
    gc.freeze()  # the kernels never scan the preloaded objects: their pages stay shared, start-up stays cheap
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o600)
    srv.listen(64)
    def stop(*_):  # the grader or its worker ended: the socket's private folder goes with this zygote
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    me = os.getuid()
    while True:
        ready, _, _ = select.select([srv], [], [], 0.5)
        while True:  # reap keepers
            try:
                done, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not done:
                break
        if not ready:
            continue
        conn, _ = srv.accept()
        _pid, peer_uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                    struct.calcsize("3i")))
        if peer_uid != me:  # only the grader itself may ask for a kernel
            conn.close()
            continue
        child = os.fork()
        if child == 0:
            srv.close()
            code = 0
            try:
                _keeper(conn)
            except BaseException as e:  # noqa: BLE001
                code = 1
                try:
                    _send(conn, {"error": f"{type(e).__name__}: {e}"})
                except OSError:
                    pass
            finally:
                os._exit(code)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
