"""The process jupyter_client starts as "the kernel": it asks the zygote for a sandboxed kernel and
stands in for it (signals forwarded, exit status returned). Run as
``python -S -I kernel_stub.py ZYGOTE_SOCKET REQUEST_JSON -- KERNEL_ARGS...``; standard library only.

If this stub is killed, the zygote's keeper notices the closed socket and kills the kernel with
its whole PID namespace, so ``KernelManager.shutdown_kernel(now=True)`` leaves nothing behind.
"""
import json
import os
import signal
import socket
import sys


def main():
    sock_path, request_path = sys.argv[1], sys.argv[2]
    argv = sys.argv[sys.argv.index("--") + 1:]
    with open(request_path) as f:
        req = json.load(f)
    try:  # read once; nothing of it stays on disk
        os.unlink(request_path)
    except OSError:
        pass
    req["argv"] = argv
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock_path)
    socket.send_fds(conn, [json.dumps(req).encode()], [0, 1, 2])
    buf = b""
    state = {"pid": None}

    def forward(sig, _frame):
        pid = state["pid"]
        if pid is None:
            return
        try:  # the kernel is PID 1 of its namespace and ignores SIGTERM: stop means kill
            os.kill(pid, signal.SIGKILL if sig in (signal.SIGTERM, signal.SIGHUP) else sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            os._exit(1)
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if "pid" in msg:
                state["pid"] = msg["pid"]
            elif "status" in msg:
                os._exit(msg["status"])
            elif "error" in msg:
                os.write(2, f"sandbox: {msg['error']}\n".encode())
                os._exit(1)


if __name__ == "__main__":
    main()
