"""Helper processes for the parts of a training step, where threads would wait for each other.

A CNN step on a 64-image mini-batch is hundreds of small NumPy calls. On two threads those calls
take turns holding the GIL: two threads took 0.9-1.2x the time of one (benchmarks/README.md).
A helper process has a GIL of its own. It is forked once (``fork``: a fresh interpreter would
re-import the caller's main script, which a notebook or ``python -`` does not have), runs on one
BLAS thread, and for each part it receives the arguments through a pipe (pickled: for the CNN,
half a mini-batch and the parameters, about 130 KB), computes ``fn(item)`` and sends the result
back.
"""
import multiprocessing
import traceback
import weakref


def _serve(fn, conn):
    """A helper's loop: ``fn(item)`` for every item received, until ``None`` or a closed pipe."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        while True:
            try:
                item = conn.recv()
            except EOFError:
                return
            if item is None:
                return
            try:
                conn.send((True, fn(item)))
            except Exception:  # noqa: BLE001 - sent back, raised by the caller
                conn.send((False, traceback.format_exc(limit=-3)))


def _answer(conn):
    """``(ok, result or error text)`` of the part sent to a helper (``conn`` None: it was gone)."""
    try:
        return conn.recv() if conn is not None else (False, "the helper process ended")
    except (EOFError, OSError):
        return False, "the helper process ended"


def _stop(conns, procs):
    for conn in conns:
        try:
            conn.send(None)
            conn.close()
        except OSError:
            pass
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()


class HelperProcesses:
    """``count`` helper processes that compute ``fn`` on parts of a step while this one computes
    its own part. The helpers stop when this object is garbage-collected, or with this process."""

    def __init__(self, fn, count):
        ctx = multiprocessing.get_context("fork")
        self.fn, self._conns, self._procs = fn, [], []
        for _ in range(count):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(fn, there), daemon=True, name="reference-helper")
            proc.start()
            there.close()
            self._conns.append(here)
            self._procs.append(proc)
        weakref.finalize(self, _stop, self._conns, self._procs)

    def map(self, items):
        """``[fn(item) for item in items]``, in order: item 0 here, the others on the helpers (at
        most one each). Raises RuntimeError if a helper's ``fn`` raised (with its traceback) or
        the helper is gone."""
        if len(items) - 1 > len(self._conns):
            raise ValueError(f"{len(items)} items for {len(self._conns)} helper processes and this one")
        sent = []
        for conn, item in zip(self._conns, items[1:]):
            try:
                conn.send(item)
                sent.append(conn)
            except OSError:  # a broken pipe: the helper is gone
                sent.append(None)
        try:
            mine = self.fn(items[0])
        finally:  # every answer is read, even if this part raised, so that the pipes stay in step
            answers = [_answer(conn) for conn in sent]
        failures = [value for ok, value in answers if not ok]
        if failures:
            raise RuntimeError(f"a helper process failed: {failures[0]}")
        return [mine] + [value for _, value in answers]
