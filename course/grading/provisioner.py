"""The sandbox as a jupyter_client kernel provisioner (its documented extension point).

jupyter_client starts every kernel through the *provisioner* its kernel spec names in
``metadata.kernel_provisioner``; provisioners are found under the ``jupyter_client.kernel_provisioners``
entry point (``course-sandbox``, registered in pyproject.toml). ``SandboxKernelManager`` is
jupyter_client's ``AsyncKernelManager`` with two of its options set: a kernel spec manager that
names this provisioner, and a client that waits for the kernel without idling.

``SandboxProvisioner`` starts no process of its own: it asks this process's zygote (``zygote.py``)
to fork ipykernel into a :class:`~course.grading.sandbox.Sandbox` (``start_kernel(sandbox=box)``,
else a default one in ``cwd``), and keeps the zygote keeper's connection for the kernel's
lifetime. The keeper reports the kernel's pid, then its exit status (``128 + signal`` when a
signal killed it), and kills the kernel with its whole PID namespace as soon as the connection
closes: when the kernel is killed here, or when this process dies for any reason. The kernel
spec's ``argv`` is not used: the zygote runs ipykernel in its own (already warm) interpreter.
"""
import asyncio
import json
import os
import select
import signal
import socket
import time
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Type, default

from course.grading.sandbox import MAX_MESSAGE_BYTES, Sandbox, zygote

PROVISIONER = "course-sandbox"
_KILLED = 128 + signal.SIGKILL


class SandboxProvisioner(KernelProvisionerBase):
    """Kernels forked by the zygote into a Sandbox, managed through the keeper's connection."""

    _conn = None
    _pid = None
    _returncode = None

    # --- starting -----------------------------------------------------------------------------
    async def pre_launch(self, **kwargs):
        """The kernel speaks ZeroMQ over unix sockets in ``<workdir>/.k`` (it has no network)."""
        box = kwargs.get("sandbox") or Sandbox(Path(kwargs.get("cwd") or os.getcwd()))
        kwargs["sandbox"], kwargs["cwd"] = box, str(box.workdir)
        km = self.parent
        kdir = Path(box.workdir) / ".k"
        kdir.mkdir(parents=True, exist_ok=True)
        km.transport, km.ip, km.connection_file = "ipc", str(kdir / "kernel"), str(kdir / "kernel.json")
        km.write_connection_file()
        self.connection_info = km.get_connection_info()
        cmd = ["-f", km.connection_file, *kwargs.pop("extra_arguments", [])]
        kwargs.pop("env", None)  # the sandbox sets the kernel's environment (no secret passes)
        return dict(kwargs, cmd=cmd)

    async def launch_kernel(self, cmd, **kwargs):
        box = kwargs["sandbox"]
        request = dict(box.request(), argv=list(cmd))
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._returncode, self._pid, self._buffer = None, None, b""
        try:
            self._conn.connect(zygote(box.preload).socket)
            socket.send_fds(self._conn, [json.dumps(request).encode()], [])
        except OSError as err:
            self._close(1)
            raise RuntimeError(f"the kernel zygote is not reachable: {err}") from None
        # the keeper reports the pid once the sandbox is built (its working directory a tmpfs of
        # its own): only then may the grader write the submission's files there
        deadline = time.monotonic() + 30
        while self._pid is None and self._returncode is None and time.monotonic() < deadline:
            self._read(0.5)
        if not self._pid:
            self._close(1)  # the keeper then kills whatever it started
            raise RuntimeError("the sandbox did not start the kernel")
        return self.connection_info

    # --- what the keeper says -----------------------------------------------------------------
    def _read(self, timeout):
        """Handle the keeper's messages that arrive within ``timeout`` seconds (0: only those there)."""
        if self._conn is None or not select.select([self._conn], [], [], timeout)[0]:
            return
        try:
            chunk = self._conn.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:  # the keeper is gone, and the kernel with it
            self._close(self._returncode if self._returncode is not None else 1)
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
        self._returncode = returncode
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def returncode(self):
        """The kernel's exit status (``128 + signal`` if a signal killed it), None while it runs."""
        return self._returncode

    @property
    def pid(self):
        """The kernel's pid (PID 1 inside its namespace, this number outside), once forked; 0 if
        it never started."""
        deadline = time.monotonic() + 5
        while self._pid is None and self._returncode is None and time.monotonic() < deadline:
            self._read(0.5)
        return self._pid or 0

    # --- jupyter_client's provisioner interface ----------------------------------------------
    @property
    def has_process(self):
        return self._conn is not None  # closed when the kernel is dead (and reported so) or killed

    async def poll(self):
        if self._returncode is None:
            self._read(0)
        return self._returncode

    async def wait(self):
        while await self.poll() is None:
            await asyncio.sleep(0.002)
        return self._returncode

    async def send_signal(self, signum):
        if self._returncode is not None:
            return
        if signum in (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP):
            # PID 1 of a namespace ignores SIGTERM: stop means kill. Closing the connection makes
            # the keeper kill the kernel and everything in its namespace; it is dead for us now.
            pid, signum = self._pid, signal.SIGKILL
            self._close(_KILLED)
        else:
            pid = self.pid
        try:
            if pid:
                os.kill(pid, signum)
        except ProcessLookupError:
            pass

    async def kill(self, restart=False):
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart=False):
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart=False):
        if self._returncode is None:
            self._close(_KILLED)

    def get_shutdown_wait_time(self, recommended=5.0):
        return min(recommended, 1.0)  # a kernel asked to shut down that does not: killed with its namespace


class SandboxKernelSpecManager(KernelSpecManager):
    """The installed kernel specs, each started by the sandbox provisioner."""

    def get_kernel_spec(self, kernel_name):
        spec = super().get_kernel_spec(kernel_name)
        spec.metadata = dict(spec.metadata or {}, kernel_provisioner={"provisioner_name": PROVISIONER})
        return spec


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's client, with a ``wait_for_ready`` that does not idle.

    The stock one drains IOPub until nothing arrives for 0.2 s, so every kernel start costs at
    least 0.2 s of waiting. The kernel's last IOPub message for a request is its ``idle``
    status; this one stops there. It is still the same handshake: a ``kernel_info_reply`` on the
    shell channel and proof that IOPub is connected (otherwise the request is sent again). It
    keeps the ``kernel_info_reply`` it got as ``ready_reply``.
    """

    ready_reply = None

    @default("context")
    def _context_default(self):
        import zmq.asyncio
        self._created_context = True
        ctx = zmq.asyncio.Context()
        # a kernel asked to start a moment ago has not bound its sockets yet: ZeroMQ retries a
        # refused connection every 5 ms, not after its default 100 ms
        ctx.setsockopt(zmq.RECONNECT_IVL, 5)
        # no single message from the kernel larger than this reaches the grader's memory (ZeroMQ
        # drops the connection instead: the kernel then counts as dead, its checks fail)
        ctx.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        return ctx

    async def wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = None
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
                reply = msg if msg["msg_type"] == "kernel_info_reply" else None
            except Empty:
                pass
            while reply is not None:  # IOPub connected: this request's idle status arrives
                try:
                    msg = await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    break  # subscribed too late for this request: ask again
                if (msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == msg_id
                        and msg["content"].get("execution_state") == "idle"):
                    self.ready_reply = reply  # the kernel_info_reply: no need to ask again
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class SandboxKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager whose kernels are sandboxed (see the module docstring)."""

    client_factory = Type(klass="course.grading.provisioner.ReadyKernelClient")

    @default("kernel_spec_manager")
    def _sandbox_specs(self):
        return SandboxKernelSpecManager(data_dir=self.data_dir)
