"""utils.testing: the checks pass on right answers and explain wrong ones."""
import numpy as np
import pytest

from utils import runtime
from utils.testing import (check_close, check_equal, check_finite, check_gradient, check_shape,
                           numerical_gradient, relative_error)


def test_check_close_accepts_and_rejects():
    check_close(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    with pytest.raises(AssertionError, match="index \\(1,\\): got 2.5, expected 2"):
        check_close(np.array([1.0, 2.5]), [1.0, 2.0], "x")
    with pytest.raises(AssertionError, match="shape"):
        check_close(np.zeros(3), [0.0, 0.0])
    with pytest.raises(AssertionError, match="NumPy array"):
        check_close([1.0, 2.0], [1.0, 2.0])
    check_close(0.5, 0.5)
    with pytest.raises(AssertionError, match="is 0.4, expected 0.5"):
        check_close(0.4, 0.5)


def test_check_shape_finite_equal():
    check_shape(np.zeros((2, 3)), (2, 3))
    with pytest.raises(AssertionError, match="has shape \\(3, 2\\), expected \\(2, 3\\)"):
        check_shape(np.zeros((3, 2)), (2, 3))
    with pytest.raises(AssertionError, match="NaN"):
        check_finite(np.array([1.0, np.nan]))
    check_equal(3, 3)
    with pytest.raises(AssertionError):
        check_equal(np.array([1, 2]), np.array([1, 3]))


def test_numerical_gradient_and_check_gradient():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    num = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_allclose(num, 3 * x ** 2, rtol=1e-7)
    check_gradient(3 * x ** 2, num)
    with pytest.raises(AssertionError, match="relative error"):
        check_gradient(2 * x ** 2, num)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_quick_mode_switch(monkeypatch):
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not runtime.quick_mode() and runtime.pick(10, 1) == 10
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert runtime.quick_mode() and runtime.pick(10, 1) == 1
    monkeypatch.setenv("COURSE_QUICK", "0")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert not runtime.quick_mode()
    monkeypatch.delenv("COURSE_QUICK")
    assert runtime.quick_mode()
