"""The grader's side of the boundary: call a student's function in their kernel, get plain data back.

``Student`` is what a check receives. ``student.sigmoid(z)`` sends ``z`` into the kernel, calls the
notebook's ``sigmoid`` there, and returns the result decoded by ``wire.decode``: NumPy arrays,
numbers, strings, and lists/tuples/dicts of those. What cannot cross comes back as a ``Remote``
(an object kept in the kernel, usable only through further calls) or an ``Opaque`` marker, and
every comparison of those with a number fails. The student's function raising, running past
its time or killing its kernel raises :class:`StudentError`, which fails that check with a
message; it never escapes the grader.

Two transports:
    ``KernelTransport``  a live kernel (used by ``CheckedExecute`` while it runs a notebook)
    ``LocalTransport``   a namespace in this process, through the same encoding (unit tests of
                         checks: correct and buggy implementations without starting a kernel)
"""
import asyncio
import inspect
import queue
import time
from pathlib import Path

from course.checks import CheckFailed
from course.grading import kernel_side, wire

HERE = Path(__file__).resolve().parent


class StudentError(CheckFailed):
    """The student's code raised, did not return in time, or its kernel died."""


class KernelGone(StudentError):
    """The kernel is dead or unresponsive: every later call fails at once with the same reason."""


def kernel_source():
    """What the kernel runs once: ``wire`` and ``kernel_side`` as one module."""
    wire_src = inspect.getsource(wire)
    side_src = "\n".join(line for line in inspect.getsource(kernel_side).splitlines()
                         if not line.rstrip().endswith("# grader-side import (stripped in the kernel)"))
    return wire_src + "\n" + side_src


INSTALL = ("import sys as _course_sys, types as _course_types\n"
           "_course_m = _course_types.ModuleType('__course_wire__')\n"
           "exec(compile({src!r}, '<course wire>', 'exec'), _course_m.__dict__)\n"
           "_course_sys.modules['__course_wire__'] = _course_m\n"
           "del _course_sys, _course_types, _course_m\n")
CALL = "__import__('__course_wire__').serve({req!r}, get_ipython().user_ns)"


class Remote(wire.Ref):
    """An object that lives in the student's kernel (e.g. a ``Value`` node of 03's autodiff)."""

    def __init__(self, student, ref):
        super().__init__(ref.key, ref.type_name)
        self._student = student

    def call(self, method, *args, **kwargs):
        """``obj.method(*args, **kwargs)`` in the kernel."""
        return self._student._request({"op": "call", "fn": self, "attr": method, "args": list(args),
                                       "kwargs": kwargs}, f"{self.type_name}.{method}", objects=True)

    def get(self, attr):
        """``obj.attr`` from the kernel."""
        return self._student._request({"op": "get", "obj": self, "attr": attr}, f"{self.type_name}.{attr}")

    def _op(self, name, *args):
        return self._student._defer({"op": "operator", "name": name, "args": list(args)}, f"operator {name}",
                                    self.type_name)

    def __add__(self, o): return self._op("add", self, o)
    def __radd__(self, o): return self._op("add", o, self)
    def __sub__(self, o): return self._op("sub", self, o)
    def __rsub__(self, o): return self._op("sub", o, self)
    def __mul__(self, o): return self._op("mul", self, o)
    def __rmul__(self, o): return self._op("mul", o, self)
    def __truediv__(self, o): return self._op("truediv", self, o)
    def __rtruediv__(self, o): return self._op("truediv", o, self)
    def __pow__(self, o): return self._op("pow", self, o)
    def __neg__(self): return self._op("neg", self)


class Function:
    """A function of the student's notebook, by name."""

    def __init__(self, student, name):
        self._student, self.name = student, name

    def __call__(self, *args, **kwargs):
        return self._student._request({"op": "call", "fn": self.name, "args": list(args), "kwargs": kwargs},
                                      self.name)

    def remote(self, *args, **kwargs):
        """Call, keeping an object result in the kernel: a :class:`Remote` (e.g. ``Value(0.5)``).

        Only what is later fetched as plain data (``Remote.get``) is ever compared. The call is
        sent with the next request that needs an answer (see :meth:`Student._defer`).
        """
        return self._student._defer({"op": "call", "fn": self.name, "args": list(args), "kwargs": kwargs},
                                    self.name, self.name)

    def map(self, calls):
        """The results of many calls in one round trip to the kernel: ``calls`` is a list of
        ``(args, kwargs)`` pairs; the answer is the list of ``NAME(*args, **kwargs)``. The first
        call that raises fails the check, as a single call would."""
        calls = [[list(args), dict(kwargs)] for args, kwargs in calls]
        return self._student._request({"op": "map", "fn": self.name, "calls": calls}, self.name)

    def pure(self, *args, **kwargs):
        """Call, and fail the check if the function modified any of its arguments."""
        return self.call(args, kwargs, pure=True)

    def strict(self, *args, **kwargs):
        """Call with floating-point overflow and invalid operations raising (``np.errstate``)."""
        return self.call(args, kwargs, errstate={"over": "raise", "invalid": "raise"})

    def call(self, args=(), kwargs=None, pure=False, errstate=None, return_args=False):
        """The general call: ``pure`` as in :meth:`pure`, ``errstate`` a dict for ``np.errstate``.

        With ``return_args`` the result is ``(value, args, kwargs)``: the arguments as the call
        left them, for functions that update their inputs in place (deeplearning.ai's updates).
        """
        req = {"op": "call", "fn": self.name, "args": list(args), "kwargs": dict(kwargs or {})}
        if return_args:
            req["return_args"] = True
        if pure:
            req["pure"] = True
        if errstate:
            req["errstate"] = dict(errstate)
        answer = self._student._request(req, self.name, whole=True)
        if answer.get("changed"):
            raise CheckFailed(f"{self.name} modified its {', '.join(answer['changed'])}: "
                              "work on a copy (or compute a new array) instead of changing the input.")
        if return_args:
            return answer.get("value"), answer.get("args"), answer.get("kwargs")
        return answer.get("value")


class Student:
    """The student's notebook as a check sees it: ``student.NAME(...)`` calls NAME in the kernel."""

    def __init__(self, transport):
        self._transport = transport
        self._pending = []  # deferred requests: (key, request, what, Remote)
        self._keys = 0

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return Function(self, name)

    def _defer(self, req, what, type_name):
        """A request whose answer is an object kept in the kernel (a new Value, ``p * q``): it
        travels with the next request that needs an answer, which saves a round trip each. Its
        handle takes a key chosen here (negative: the kernel's own are positive); if it fails,
        that next request fails with its error. ``type_name`` names the object until the kernel
        has said what it is."""
        self._keys -= 1
        remote = Remote(self, wire.Ref(self._keys, type_name))
        self._pending.append((self._keys, req, what, remote))
        return remote


    def _wrap(self, value):
        if isinstance(value, wire.Ref) and not isinstance(value, Remote):
            return Remote(self, value)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v) for k, v in value.items()}
        return value

    def _request(self, req, what, whole=False, objects=False):
        pending, self._pending = self._pending, []
        if pending:
            req = {"op": "batch", "steps": [[key, step] for key, step, _, _ in pending], "then": req}
            names = list(dict.fromkeys(name for _, _, name, _ in pending))
            sent_as = f"{what} (sent with {', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
        text = self._transport.send(wire.encode(req), sent_as if pending else what)
        try:
            answer = wire.decode(text, self._transport.budget())
        except wire.WireError as err:
            raise StudentError(f"{what} gave an answer the grader cannot read ({err}).") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise StudentError(f"{what} gave an answer the grader cannot read.")
        step = answer.get("step")
        if not answer["ok"] and type(step) is int and 0 <= step < len(pending):
            what = pending[step][2]  # a deferred request failed: its error, under its name
        for (_, _, _, remote), type_name in zip(pending, answer.get("types") or []):
            if isinstance(type_name, str):
                remote.type_name = type_name[:200]
        if not answer["ok"]:
            error = str(answer.get("error"))[:2000]
            if error.rstrip(": ") == "NotImplementedError":
                raise StudentError(f"{what} is not written yet (it raises NotImplementedError).")
            raise StudentError(f"{what} raised {error}")
        if not objects and _holds_ref(answer.get("value")):
            # an object's own methods (__add__, __float__, __eq__) run in the kernel and could say
            # anything: where a value is expected, an object is a wrong answer
            raise CheckFailed(f"{what} returned {_kind(answer.get('value'))} where numbers or arrays were expected.")
        answer = self._wrap(answer)
        return answer if whole else answer.get("value")


def _holds_ref(value):
    if isinstance(value, wire.Ref):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_ref(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_ref(v) for v in value.values())
    return False


def _kind(value):
    if isinstance(value, wire.Ref):
        return f"a {value.type_name or 'Python'} object"
    return "a container holding objects"


class LocalTransport:
    """Runs requests against a dict of functions in this process (tests of the checks)."""

    def __init__(self, namespace, max_bytes=64 * 2**20):
        self.namespace, self.max_bytes = namespace, max_bytes

    def budget(self):
        return wire.Budget(self.max_bytes)

    def send(self, request_text, what):
        return kernel_side.serve(request_text, self.namespace)


def local_student(namespace):
    """A :class:`Student` over ``namespace`` (a dict or a module's ``vars``)."""
    return Student(LocalTransport(dict(namespace)))


class KernelTransport:
    """Requests to a live kernel through nbclient's asynchronous client, from a worker thread.

    Args:
        client: the ``NotebookClient`` running the notebook (its ``kc``, ``km`` and event ``loop``).
        timeout: seconds one call may take before the kernel is interrupted.
        max_bytes: largest answer accepted.
    """

    def __init__(self, client, loop, timeout=30.0, max_bytes=64 * 2**20):
        self.client, self.loop, self.timeout, self.max_bytes = client, loop, timeout, max_bytes
        self.installed = False
        self.gone = ""  # why the kernel cannot answer any more
        self.deadline = float("inf")  # time.monotonic() past which no call is made

    def budget(self):
        return wire.Budget(self.max_bytes)

    def send(self, request_text, what):
        if self.gone:
            raise KernelGone(f"{what} was not called: {self.gone}.")
        timeout = min(self.timeout, self.deadline - time.monotonic())
        if timeout <= 0:
            self.gone = "the notebook used up its time limit"
            raise KernelGone(f"{what} was not called: {self.gone}.")
        if not self.installed:
            self._run(INSTALL.format(src=kernel_source()), None, what, timeout)
            self.installed = True
        return self._run("", CALL.format(req=request_text), what, timeout)

    def _run(self, code, expression, what, timeout):
        future = asyncio.run_coroutine_threadsafe(self._execute(code, expression, what, timeout), self.loop)
        return future.result()

    async def _reply(self, msg_id, deadline):
        kc, km = self.client.kc, self.client.km
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                msg = await kc.get_shell_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not await km.is_alive():
                    raise KernelGone("the kernel died") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg["content"]

    async def _execute(self, code, expression, what, timeout):
        kc, km = self.client.kc, self.client.km
        try:
            msg_id = kc.execute(code, silent=True, store_history=False,
                                user_expressions={"r": expression} if expression else {})
            content = await self._reply(msg_id, time.monotonic() + timeout)
            if content is None:
                await km.interrupt_kernel()
                content = await self._reply(msg_id, time.monotonic() + 5.0)
                if content is None:
                    self.gone = f"the kernel stopped responding after {what} ran past {timeout:g} s"
                    await km.shutdown_kernel(now=True)
                    raise KernelGone(f"{what} did not return within {timeout:g} s and the kernel stopped responding.")
                raise StudentError(f"{what} did not return within {timeout:g} s (an endless loop?).")
        except KernelGone as err:
            self.gone = self.gone or str(err)
            raise KernelGone(f"{what}: {self.gone}.") from None
        if content.get("status") != "ok":
            raise StudentError(f"{what}: the kernel could not run the grader's call "
                               f"({content.get('ename', '')}: {str(content.get('evalue', ''))[:300]}).")
        if expression is None:
            return None
        result = content.get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            if result.get("ename") == "KeyboardInterrupt":
                raise StudentError(f"{what} did not return within {timeout:g} s (an endless loop?).")
            raise StudentError(f"{what} raised {result.get('ename', '')}: {str(result.get('evalue', ''))[:2000]}")
        text = result.get("data", {}).get("text/plain", "")
        if not (isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == "'"):
            raise StudentError(f"{what} gave an answer the grader cannot read.")
        return text[1:-1]
