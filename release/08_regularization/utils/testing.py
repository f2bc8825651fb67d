"""Friendly checks for the notebooks' test cells.

Every check raises ``AssertionError`` with a message written for a student (what was expected,
what came back, where the first difference is) and returns ``None`` on success, so a test cell
reads as a list of statements and :func:`passed` closes it with a green line.
"""
import numpy as np


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape}, dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"


def check_type(actual, expected_type, name="result"):
    """``actual`` is an instance of ``expected_type`` (a type or a tuple of types)."""
    if not isinstance(actual, expected_type):
        want = getattr(expected_type, "__name__", str(expected_type))
        raise AssertionError(f"{name} should be a {want}, got {_describe(actual)}.")


def check_shape(actual, shape, name="result"):
    """``actual`` is a NumPy array of exactly ``shape``."""
    if not isinstance(actual, np.ndarray):
        raise AssertionError(f"{name} should be a NumPy array of shape {tuple(shape)}, got {_describe(actual)}.")
    if actual.shape != tuple(shape):
        raise AssertionError(f"{name} has shape {actual.shape}, expected {tuple(shape)}.")


def check_finite(actual, name="result"):
    """No NaN or infinity anywhere in ``actual``."""
    a = np.asarray(actual, dtype=float)
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{name} contains {int(bad.sum())} NaN/inf value(s), the first at index {idx}: {a[idx]}. "
            "Look for overflow in exp() or a log of 0."
        )


def check_close(actual, expected, name="result", rtol=1e-6, atol=1e-8):
    """``actual`` equals ``expected`` in shape and, element by element, within tolerance."""
    expected = np.asarray(expected, dtype=float)
    if np.ndim(expected) > 0:
        check_shape(actual, expected.shape, name)
    elif isinstance(actual, np.ndarray) and actual.size != 1:
        raise AssertionError(f"{name} should be a single number, got {_describe(actual)}.")
    try:
        a = np.asarray(actual, dtype=float).reshape(expected.shape)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} should be numeric, got {_describe(actual)}.") from None
    close = np.isclose(a, expected, rtol=rtol, atol=atol)
    if not close.all():
        if a.ndim == 0:
            raise AssertionError(f"{name} is {a.item():.8g}, expected {expected.item():.8g}.")
        idx = tuple(int(i) for i in np.argwhere(~close)[0])
        raise AssertionError(
            f"{name} differs from the expected value in {int((~close).sum())} of {a.size} entries; "
            f"the first at index {idx}: got {a[idx]:.8g}, expected {expected[idx]:.8g}."
        )


def check_equal(actual, expected, name="result"):
    """Exact equality (integers, labels, shapes, strings)."""
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        exp = np.asarray(expected)
        check_shape(actual, exp.shape, name)
        if not np.array_equal(actual, exp):
            idx = tuple(int(i) for i in np.argwhere(np.asarray(actual) != exp)[0])
            raise AssertionError(f"{name} differs at index {idx}: got {actual[idx]!r}, expected {exp[idx]!r}.")
    elif actual != expected:
        raise AssertionError(f"{name} is {actual!r}, expected {expected!r}.")


def numerical_gradient(f, x, eps=1e-6):
    """Centred finite differences of the scalar function ``f`` at the array ``x``.

    Args:
        f: callable taking no argument and returning a float; it must read ``x`` (which is
            perturbed in place, one entry at a time, and restored).
        x: float array of any shape.
    Returns:
        array of ``x.shape``: d f / d x.
    """
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """``|a - b| / max(|a| + |b|, tiny)``: below 1e-7 means a gradient is almost surely right."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def check_gradient(analytic, numeric, name="gradient", tol=1e-6):
    """An analytic gradient agrees with a finite-difference one (relative error below ``tol``)."""
    check_shape(analytic, np.shape(numeric), name)
    err = relative_error(analytic, numeric)
    if not err < tol:
        raise AssertionError(
            f"{name} disagrees with finite differences: relative error {err:.2e} (should be < {tol:.0e})."
        )


def passed(what="All visible tests"):
    """Print the closing line of a test cell."""
    print(f"\N{WHITE HEAVY CHECK MARK} {what} passed.")


def expected(name, path="expected.json"):
    """The expected output of a visible test, computed from the answer key when the assignment was
    built and shipped beside the notebook in ``expected.json`` (arrays come back as NumPy arrays)."""
    import json
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: run the notebook from its own folder, where it is shipped.")
    values = json.loads(file.read_text(encoding="utf-8"))
    if name not in values:
        raise KeyError(f"no expected value named {name!r} in {file}")
    return _from_json(values[name])


def _from_json(value):
    if isinstance(value, dict) and "__array__" in value:
        return np.asarray(value["__array__"], dtype=value.get("dtype", "float64"))
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value
