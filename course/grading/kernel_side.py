"""The only grader code that runs in a student's kernel: it answers call requests with plain data.

It is transport, not judgement: it looks a name up in the notebook's namespace, calls it with the
arguments the grader sent, and sends the result back through ``wire.encode``. It holds no test,
no reference and no tolerance, so a student who replaces it only changes their own answers, which
the grader checks anyway. ``bridge.py`` sends this module's source, after ``wire.py``'s, into the
kernel once per kernel; the grader's unit tests import it directly (``bridge.LocalStudent``).

Requests (decoded with ``wire.decode``) are dicts:
    ``{"op": "call", "fn": NAME or Ref, "attr": METHOD or None, "args": [...], "kwargs": {...},
       "pure": bool, "return_args": bool, "errstate": {...}}``   call (under ``np.errstate(**errstate)``); with
       ``pure``, also report which arguments the call modified; with ``return_args``, send the
       arguments back as the call left them (in-place updates)
    ``{"op": "map", "fn": NAME, "calls": [[args, kwargs], ...]}``   the list of ``NAME(*args, **kwargs)``
       for every pair, in one round trip (the first call that raises makes the whole answer its error)
    ``{"op": "batch", "steps": [[KEY, request], ...], "then": request}``   run each step's request and
       keep its value as ``KEY`` (a negative number the grader chose: it refers to it before the
       step has run), then answer ``then``; the first step that fails is the answer, with its
       ``"step"`` index. The answer's ``"types"`` names the kept values' types, in step order.
    ``{"op": "get", "obj": Ref, "attr": NAME}``   an attribute of a kept object
    ``{"op": "operator", "name": "add", "args": [...]}``   ``operator.<name>(*args)``
Answers: ``{"ok": True, "value": ..., "changed": [...]}`` or ``{"ok": False, "error": "..."}``.
Values that are not plain data are kept here and cross as ``Ref`` handles.
"""
import operator

import numpy as np

from course.grading.wire import Ref, decode, encode  # grader-side import (stripped in the kernel)

_kept = {}
_MAX_KEPT = 200_000


def _keep(obj):
    if len(_kept) >= _MAX_KEPT:
        _kept.clear()
    key = len(_kept) + 1
    _kept[key] = obj
    return key


def _resolve(value):
    if isinstance(value, Ref):
        return _kept[value.key]
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return value


def _snapshot(values):
    try:
        return [encode(v) for v in values]
    except Exception:  # noqa: BLE001 - an argument that cannot be encoded cannot be compared
        return None


def _answer(req, namespace):
    op = req["op"]
    if op == "get":
        return {"ok": True, "value": getattr(_kept[req["obj"].key], req["attr"])}
    args, kwargs = _resolve(req.get("args", [])), _resolve(req.get("kwargs", {}))
    if op == "operator":
        return {"ok": True, "value": getattr(operator, req["name"])(*args)}
    if op == "map":
        if req["fn"] not in namespace:
            return {"ok": False, "error": f"NameError: name '{req['fn']}' is not defined"}
        target = namespace[req["fn"]]
        return {"ok": True, "value": [target(*_resolve(a), **_resolve(k)) for a, k in req["calls"]]}
    target = req["fn"]
    if isinstance(target, Ref):
        target = _kept[target.key]
    elif target not in namespace:
        return {"ok": False, "error": f"NameError: name '{target}' is not defined"}
    else:
        target = namespace[target]
    if req.get("attr"):
        target = getattr(target, req["attr"])
    before = _snapshot(list(args) + list(kwargs.values())) if req.get("pure") else None
    with np.errstate(**req.get("errstate", {})):
        value = target(*args, **kwargs)
    answer = {"ok": True, "value": value}
    if req.get("return_args"):  # what the call left in its (mutable) arguments
        answer["args"], answer["kwargs"] = list(args), dict(kwargs)
    if before is not None:
        after = _snapshot(list(args) + list(kwargs.values()))
        names = [f"argument {i + 1}" for i in range(len(args))] + [f"argument {k!r}" for k in kwargs]
        answer["changed"] = [n for n, b, a in zip(names, before, after or []) if b != a]
    return answer


def _failure(err):
    return {"ok": False, "error": f"{type(err).__name__}: {str(err)[:2000]}"}


def _batch(req, namespace):
    """The ``batch`` op: its steps in order, then ``then``; a failing step's answer says which."""
    types = []
    for step, (key, one) in enumerate(req["steps"]):
        try:
            done = _answer(one, namespace)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - as in serve
            done = _failure(err)
        if not done["ok"]:
            return dict(done, step=step)
        _kept[min(int(key), -1)] = done["value"]  # the grader's keys are negative, the kernel's positive
        types.append(type(done["value"]).__name__)
    return dict(_answer(req["then"], namespace), types=types)


def serve(request_text, namespace):
    """Answer one request (``wire`` text) against ``namespace``; return the answer as ``wire`` text."""
    req = decode(request_text)
    try:
        answer = _batch(req, namespace) if req["op"] == "batch" else _answer(req, namespace)
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - SystemExit too: the student's code ended, not the kernel
        answer = _failure(err)
    try:
        return encode(answer, refs=_keep)
    except Exception as err:  # noqa: BLE001 - e.g. nested too deeply
        return encode({"ok": False, "error": f"the answer could not be sent back ({err})"})
