"""Plain data across the grading boundary: JSON text, NumPy arrays as raw bytes, never pickle.

What may cross: ``None``, ``bool``, ``int``, ``float`` (NaN and infinities included), ``complex``,
``str``, NumPy arrays and scalars of numeric or boolean dtype, and lists, tuples and dicts (keys of
those same kinds) nesting them. Anything else does not cross: the encoder turns it into an
``Opaque`` marker naming its type (the grader treats it as a wrong answer, never as an error).

Both sides run this module: the grader imports it, and the kernel gets its source (see
``course.grading.bridge``), which is why it imports nothing but the standard library and NumPy.
The grader decodes what the kernel sends with :func:`decode` under :class:`Budget` limits, so a
hostile answer is at worst a wrong answer: too large, too deep, an unknown tag or dtype, or bytes
that do not match their shape all raise ``WireError``.
"""
import base64
import json

import numpy as np

DTYPES = {"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"}
_TAGS = ("nd", "sc", "tu", "di", "cx", "op", "rf")


class WireError(ValueError):
    """What came across is not plain data within the budget."""


class Opaque:
    """Stands for a value that could not cross: only its type name did."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:200]

    def __repr__(self):
        return f"<{self.type_name} object>"

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.type_name == self.type_name


class Ref:
    """A handle on an object kept on the other side (see ``bridge.Remote``)."""

    def __init__(self, key, type_name=""):
        self.key, self.type_name = int(key), str(type_name)[:200]

    def __repr__(self):
        return f"<{self.type_name or 'object'} in the kernel #{self.key}>"


def _dtype_code(dtype):
    code = dtype.kind + str(dtype.itemsize)
    return "b1" if dtype.kind == "b" else code


def to_plain(obj, refs=None, depth=0):
    """``obj`` as a JSON-ready structure; ``refs(obj)`` (if given) keeps what cannot cross."""
    if depth > 64:
        raise WireError("nested more than 64 levels deep")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if type(obj) in (int, float):
        return obj  # JSON with NaN and Infinity, as Python's json module writes and reads them
    if isinstance(obj, complex) and type(obj) is complex:
        return {"cx": [obj.real, obj.imag]}
    if isinstance(obj, Ref):
        return {"rf": obj.key}
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc" and _dtype_code(obj.dtype) in DTYPES:
        data = np.ascontiguousarray(obj).astype(obj.dtype.newbyteorder("<"), copy=False)
        return {"nd": [_dtype_code(obj.dtype), list(obj.shape), base64.b64encode(data.tobytes()).decode()]}
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufc" and _dtype_code(obj.dtype) in DTYPES:
        data = np.asarray(obj).astype(obj.dtype.newbyteorder("<"))
        return {"sc": [_dtype_code(obj.dtype), base64.b64encode(data.tobytes()).decode()]}
    if type(obj) is list:
        return [to_plain(x, refs, depth + 1) for x in obj]
    if type(obj) is tuple:
        return {"tu": [to_plain(x, refs, depth + 1) for x in obj]}
    if type(obj) is dict:
        return {"di": [[to_plain(k, refs, depth + 1), to_plain(v, refs, depth + 1)] for k, v in obj.items()]}
    if refs is not None:
        return {"rf": refs(obj), "ty": type(obj).__name__}
    return {"op": type(obj).__name__}


def encode(obj, refs=None):
    """``obj`` as ASCII text (base64 of JSON) that survives any transport."""
    text = json.dumps(to_plain(obj, refs), allow_nan=True, separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


class Budget:
    """Limits on one decoded answer: total bytes, array elements, nesting depth, items."""

    def __init__(self, max_bytes=64 * 2**20, max_items=1_000_000, max_depth=64):
        self.bytes_left, self.items_left, self.max_depth = max_bytes, max_items, max_depth

    def spend(self, nbytes=0, items=1):
        self.bytes_left -= nbytes
        self.items_left -= items
        if self.bytes_left < 0 or self.items_left < 0:
            raise WireError("the answer is larger than the grader accepts")


def _array(spec, budget):
    if not (isinstance(spec, list) and len(spec) == 3):
        raise WireError("malformed array")
    code, shape, data = spec
    if code not in DTYPES or not isinstance(shape, list) or not isinstance(data, str):
        raise WireError(f"array of unsupported dtype {str(code)[:20]!r}")
    if len(shape) > 32 or not all(type(n) is int and 0 <= n for n in shape):
        raise WireError("malformed array shape")
    budget.spend(len(data))
    raw = base64.b64decode(data, validate=True)
    dtype = np.dtype("?" if code == "b1" else "<" + code)
    count = int(np.prod(shape, dtype=object))
    if count * dtype.itemsize != len(raw):  # (its bytes were counted above)
        raise WireError("array bytes do not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def from_plain(obj, budget, depth=0):
    """Rebuild what :func:`to_plain` made; raise ``WireError`` on anything else."""
    if depth > budget.max_depth:
        raise WireError("the answer is nested too deeply")
    budget.spend(0, 1)
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, str):
        budget.spend(len(obj))
        return obj
    if isinstance(obj, list):
        return [from_plain(x, budget, depth + 1) for x in obj]
    if not (isinstance(obj, dict) and len(obj) >= 1):
        raise WireError("malformed value")
    tag = next((t for t in _TAGS if t in obj), None)
    body = obj.get(tag)
    if tag == "nd":
        return _array(body, budget)
    if tag == "sc" and isinstance(body, list) and len(body) == 2:
        return _array([body[0], [], body[1]], budget)[()]
    if tag == "cx" and isinstance(body, list) and len(body) == 2 and all(isinstance(v, (int, float)) for v in body):
        return complex(body[0], body[1])
    if tag == "tu" and isinstance(body, list):
        return tuple(from_plain(x, budget, depth + 1) for x in body)
    if tag == "di" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise WireError("malformed dict")
            key = from_plain(pair[0], budget, depth + 1)
            try:
                out[key] = from_plain(pair[1], budget, depth + 1)
            except TypeError:
                raise WireError("unhashable dict key") from None
        return out
    if tag == "op" and isinstance(body, str):
        return Opaque(body)
    if tag == "rf" and type(body) is int:
        return Ref(body, obj.get("ty", "") if isinstance(obj.get("ty", ""), str) else "")
    raise WireError("unknown kind of value")


def decode(text, budget=None):
    """The value :func:`encode` wrote, within ``budget``; ``WireError`` if it is anything else."""
    budget = budget or Budget()
    if not isinstance(text, str):
        raise WireError("not text")
    budget.spend(len(text))
    try:
        raw = base64.b64decode(text, validate=True)
        # every JSON value costs Python objects: count them before building any
        budget.spend(0, raw.count(b",") + raw.count(b"[") + raw.count(b"{"))
        plain = json.loads(raw.decode("ascii"))
    except WireError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WireError("not valid wire data") from None
    return from_plain(plain, budget)
