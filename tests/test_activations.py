"""course.reference.activations: values, derivatives against finite differences, stability at |z| = 1000."""
import numpy as np
import pytest

from course.reference import activations as act
from utils.testing import numerical_gradient, relative_error

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_finite_differences(name):
    f, df = act.ACTIVATIONS[name]
    z = np.random.default_rng(0).normal(size=(4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the kinks of relu
    num = numerical_gradient(lambda: float(np.sum(f(z))), z)
    assert relative_error(df(z), num) < 1e-8


@pytest.mark.parametrize("name", NAMES)
def test_no_overflow_for_large_inputs(name):
    f, df = act.ACTIVATIONS[name]
    z = np.array([[-1000.0, -1e5, 0.0, 1e5, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.all(np.isfinite(f(z))) and np.all(np.isfinite(df(z)))


def test_sigmoid_values_and_symmetry():
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(act.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(act.sigmoid(z) + act.sigmoid(-z), 1.0)
    assert act.sigmoid(-1000.0) == 0.0 and act.sigmoid(1000.0) == 1.0


def test_softmax_columns_sum_to_one_and_shift_invariance():
    Z = np.random.default_rng(1).normal(scale=10, size=(6, 9))
    S = act.softmax(Z)
    np.testing.assert_allclose(S.sum(axis=0), 1.0)
    np.testing.assert_allclose(act.softmax(Z + 500.0), S)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        S = act.softmax(np.array([[1000.0, -1000.0], [0.0, -999.0]]))
    np.testing.assert_allclose(S, [[1.0, 1 / (1 + np.e)], [0.0, np.e / (1 + np.e)]])


def test_softmax_jacobian_matches_finite_differences():
    z = np.random.default_rng(2).normal(size=5)
    num = np.column_stack([(act.softmax(z + 1e-6 * e) - act.softmax(z - 1e-6 * e)) / 2e-6 for e in np.eye(5)])
    assert relative_error(act.softmax_jacobian(z), num) < 1e-8


def test_backward_helpers():
    rng = np.random.default_rng(3)
    Z, dA = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(act.sigmoid_backward(dA, Z), dA * act.sigmoid_derivative(Z))
    np.testing.assert_allclose(act.relu_backward(dA, Z), dA * (Z > 0))
    np.testing.assert_allclose(act.tanh_backward(dA, Z), dA * (1 - np.tanh(Z) ** 2))
