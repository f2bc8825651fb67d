"""Grader-side checks: how an assignment's hidden tests are written, found and run.

A check module per assignment (``course/checks/<assignment>.py``, or the folder named by
``CheckedExecute.checks_dir`` in another course) holds one :class:`Checks` named ``checks``::

    from course.checks import Checks, check_close
    from course.reference import activations as ref

    checks = Checks("01_activations")

    @checks.test("test_sigmoid")                      # the grade id of a graded test cell
    def _(student, rng):
        z = rng.normal(scale=8, size=(7, 3))
        check_close(student.sigmoid.pure(z), ref.sigmoid(z), "sigmoid on a random (7, 3) array")

    @checks.expected("sigmoid")                       # printed by the visible test, from code
    def _():
        return ref.sigmoid(np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0]))

A test runs in the grader's process after its cell ran in the student's kernel. ``student`` calls
the notebook's functions in that kernel (see :class:`course.grading.bridge.Student`): arguments go
in as plain data, plain data comes back. The verdict, the reference and the tolerances stay here.
A test passes when it returns; any exception fails it, and its message is what the student reads.
``rng`` is a ``numpy.random.Generator`` seeded from the student, the notebook and the grade id:
a regrade draws the same inputs, other students other ones.
"""
import hashlib
import importlib.util
import json
import math
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The friendly comparisons students know from the visible tests, raising AssertionError.
from utils.testing import (check_close, check_equal, check_finite, check_gradient, check_shape,  # noqa: F401
                           check_type, numerical_gradient, relative_error)

EXPECTED_FILE = "expected.json"


class CheckFailed(AssertionError):
    """A grader-side check found a wrong answer; the message is written for the student."""


@dataclass
class Verdict:
    """The outcome of one graded test cell, decided in the grader."""

    grade_id: str
    passed: bool
    message: str = ""
    seconds: float = 0.0


@dataclass
class _Test:
    grade_id: str
    run: callable
    needs: tuple


class Checks:
    """The grader-side tests and visible expected values of one assignment."""

    def __init__(self, assignment):
        self.assignment = assignment
        self.tests = {}
        self.expected_values = {}

    def test(self, grade_id, needs=()):
        """Register ``fn(student, rng)`` as the test of graded cell ``grade_id``.

        ``needs``: grade ids of earlier tests whose functions this one calls; when one of those
        failed, the message says to fix that one first.
        """
        def register(fn):
            if grade_id in self.tests:
                raise ValueError(f"{self.assignment}: two tests for {grade_id}")
            self.tests[grade_id] = _Test(grade_id, fn, tuple(needs))
            return fn
        return register

    def expected(self, name):
        """Register ``fn()`` giving the value a visible test prints as expected (plain data)."""
        def register(fn):
            self.expected_values[name] = fn
            return fn
        return register

    def compute_expected(self):
        """Every visible expected value, computed from the reference now."""
        return {name: fn() for name, fn in sorted(self.expected_values.items())}


def seed_for(*parts):
    """A 64-bit seed from strings: the same parts give the same inputs on every regrade."""
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def run_test(checks, grade_id, student, seed_parts=(), earlier=None):
    """Run the test of ``grade_id`` against ``student``; never raises.

    Args:
        earlier: verdicts of this notebook so far (grade id -> :class:`Verdict`), for hints.
    """
    test = checks.tests[grade_id]
    rng = np.random.default_rng(seed_for(checks.assignment, grade_id, *seed_parts))
    start = time.perf_counter()
    try:
        test.run(student, rng)
        passed, message = True, ""
    except AssertionError as err:
        passed, message = False, str(err) or "a check failed"
    except Exception as err:  # noqa: BLE001 - an answer the test could not even compare is wrong
        passed, message = False, f"the answer could not be checked ({type(err).__name__}: {err})"
        from course.grading.inert import inert_text  # the message may quote the student's output
        print(inert_text(f"[course.checks] {checks.assignment}/{grade_id}: " + traceback.format_exc(limit=3)),
              file=sys.stderr)
    if not passed and earlier:
        broken = [g for g in test.needs if g in earlier and not earlier[g].passed]
        if broken:
            message += f"\n(It uses functions whose own tests failed: fix {', '.join(broken)} first.)"
    return Verdict(grade_id, passed, message, time.perf_counter() - start)


def load_checks(checks_dir, assignment):
    """The :class:`Checks` of ``assignment`` in ``checks_dir``, or ``None`` if it has none."""
    path = Path(checks_dir) / f"{assignment}.py"
    if not path.is_file():
        return None
    name = "course_checks_" + "".join(ch if ch.isalnum() else "_" for ch in assignment)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    checks = getattr(module, "checks", None)
    if not isinstance(checks, Checks):
        raise TypeError(f"{path} defines no `checks = Checks(...)`")
    return checks


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def expected_json(checks):
    """The text of an assignment's ``expected.json`` (read by ``utils.testing.expected``)."""
    values = {name: _jsonable(v) for name, v in checks.compute_expected().items()}
    lines = [f"{json.dumps(k)}: {json.dumps(v, allow_nan=False)}" for k, v in sorted(values.items())]
    return "{\n" + ",\n".join(lines) + "\n}\n"


# Expected values computed on another CPU differ in their last bits (NumPy's exp and tanh, BLAS sums: the
# same code gave 0.28759200313136 on one machine, 0.2875920031313599 on another) and finite differences
# amplify that (a gradient check's value moved by 7e-10 of itself). No visible test compares that closely.
EXPECTED_RTOL, EXPECTED_ATOL = 1e-8, 1e-12


def same_expected(old_text, new_text):
    """Whether two ``expected.json`` texts hold the same values: the same keys, lists and strings, and
    numbers equal up to float rounding (``EXPECTED_RTOL``, ``EXPECTED_ATOL``). An unreadable old text
    is never the same."""
    try:
        return _same(json.loads(old_text), json.loads(new_text))
    except ValueError:
        return False


def _same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is float and type(b) is float:
        return math.isclose(a, b, rel_tol=EXPECTED_RTOL, abs_tol=EXPECTED_ATOL)
    return type(a) is type(b) and a == b
