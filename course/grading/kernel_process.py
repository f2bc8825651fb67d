"""The kernel as jupyter_client sees it: a ``subprocess.Popen``-like handle on a zygote's kernel.

jupyter_client's ``LocalProvisioner`` manages a kernel through a ``Popen`` (``poll``, ``wait``,
``send_signal``, ``kill``, ``terminate``, ``pid``). ``KernelProcess`` offers the same methods
without starting a process of its own: it sends the request to this worker's zygote over a
unix socket and keeps that connection open for the kernel's lifetime. The zygote's *keeper*
(see ``zygote.py``) reports the kernel's pid, then its exit status (``128 + signal`` when a
signal killed it), and kills the kernel with its whole PID namespace as soon as the connection
closes: when the kernel is killed here, or when this process dies for any reason.
"""
import json
import os
import select
import signal
import socket

_KILLED = 128 + signal.SIGKILL


class KernelProcess:
    """A kernel forked by the zygote listening on ``socket_path``, for ``request`` (a dict:
    working directory, environment, limits, sandbox; see ``Sandbox.request``) and ipykernel's
    command-line ``argv``."""

    stdin = stdout = stderr = None  # Popen's pipes: LocalProvisioner closes them if set

    def __init__(self, socket_path, request, argv):
        self.returncode = None
        self._pid = None
        self._buffer = b""
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._conn.connect(socket_path)
            payload = json.dumps(dict(request, argv=list(argv))).encode()
            socket.send_fds(self._conn, [payload], [])
        except OSError as err:
            self._conn.close()
            raise RuntimeError(f"the kernel zygote is not reachable: {err}") from None

    # --- what the keeper says ---------------------------------------------------------------------
    def _read(self, timeout):
        """Handle the keeper's messages that arrive within ``timeout`` seconds (0: only those there)."""
        if self._conn is None:
            return
        ready, _, _ = select.select([self._conn], [], [], timeout)
        if not ready:
            return
        try:
            chunk = self._conn.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:  # the keeper is gone, and the kernel with it
            self._close(self.returncode if self.returncode is not None else 1)
            return
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line)
            if "pid" in message:
                self._pid = message["pid"]
            elif "status" in message:
                self._close(message["status"])
            elif "error" in message:
                self._close(1)
                raise RuntimeError(f"the sandbox could not start the kernel: {message['error']}")

    def _close(self, returncode):
        self.returncode = returncode
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def pid(self):
        """The kernel's pid (PID 1 inside its namespace, this number outside), once the keeper
        has forked it; 0 if it never started."""
        while self._pid is None and self.returncode is None:
            self._read(5.0)
        return self._pid or 0

    # --- Popen's interface ------------------------------------------------------------------------
    def poll(self):
        if self.returncode is None:
            self._read(0)
        return self.returncode

    def wait(self, timeout=None):
        while self.returncode is None:
            self._read(timeout if timeout is not None else 1.0)
            if timeout is not None and self.returncode is None:
                raise TimeoutError("the kernel is still running")
        return self.returncode

    def send_signal(self, sig):
        if self.returncode is not None:
            return
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP):
            # PID 1 of a namespace ignores SIGTERM: stop means kill. Closing the connection makes
            # the keeper kill the kernel and everything in its namespace; it is dead for us now.
            pid = self._pid
            self._close(_KILLED)
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        pid = self.pid
        if pid:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def __del__(self):
        if getattr(self, "_conn", None) is not None:
            self._conn.close()
