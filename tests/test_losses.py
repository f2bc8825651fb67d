"""course.reference.losses: one-hot, softmax cross-entropy and its gradient, binary cross-entropy, stability."""
import warnings

import numpy as np
import pytest

from course.reference import losses
from utils.testing import numerical_gradient, relative_error


def _naive_softmax_ce(Z, Y):
    """Loop version straight from the formula (fine for moderate scores)."""
    C, m = Z.shape
    total = 0.0
    for i in range(m):
        e = [np.exp(Z[k, i]) for k in range(C)]
        s = sum(e)
        total -= sum(Y[k, i] * np.log(e[k] / s) for k in range(C))
    return total / m


# ------------------------------------------------------------------ one_hot
def test_one_hot_columns():
    Y = losses.one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(Y, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    assert Y.dtype == np.float64


@pytest.mark.parametrize("shape", [(7,), (1, 7), (7, 1)])
def test_one_hot_accepts_label_shapes(shape):
    y = np.arange(7) % 4
    Y = losses.one_hot(y.reshape(shape), 5)
    assert Y.shape == (5, 7)
    np.testing.assert_array_equal(Y.argmax(axis=0), y)
    np.testing.assert_array_equal(Y.sum(axis=0), np.ones(7))


def test_one_hot_infers_classes_and_matches_eye():
    y = np.random.default_rng(0).integers(0, 10, size=50)
    np.testing.assert_array_equal(losses.one_hot(y, 10), np.eye(10)[y].T)
    assert losses.one_hot(np.array([0, 3]), None).shape == (4, 2)


@pytest.mark.parametrize("bad", [np.array([0, 3]), np.array([-1, 0]), np.array([0.5, 1.0])])
def test_one_hot_rejects_bad_labels(bad):
    with pytest.raises(ValueError):
        losses.one_hot(bad, 3)


# ------------------------------------------------------------------ softmax cross-entropy
def test_log_softmax_is_the_log_of_softmax():
    Z = np.random.default_rng(1).normal(size=(5, 8)) * 3
    np.testing.assert_allclose(losses.softmax(Z).sum(axis=0), np.ones(8), rtol=1e-12)
    np.testing.assert_allclose(np.exp(losses.log_softmax(Z)), losses.softmax(Z), rtol=1e-12)


def test_softmax_cross_entropy_matches_loop_version():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(4, 9)) * 2
    y = rng.integers(0, 4, size=9)
    Y = losses.one_hot(y, 4)
    expected = _naive_softmax_ce(Z, Y)
    assert losses.softmax_cross_entropy(Z, Y) == pytest.approx(expected, rel=1e-12)
    assert losses.softmax_cross_entropy(Z, y) == pytest.approx(expected, rel=1e-12)
    A = losses.softmax(Z)
    assert losses.softmax_cross_entropy(A, Y, from_logits=False) == pytest.approx(expected, rel=1e-10)


def test_softmax_cross_entropy_known_values():
    # uniform scores over C classes: loss log C
    assert losses.softmax_cross_entropy(np.zeros((10, 3)), np.array([0, 5, 9])) == pytest.approx(np.log(10))
    Z = np.array([[2.0], [1.0], [0.1]])
    p = np.exp(Z[:, 0]) / np.exp(Z[:, 0]).sum()
    assert losses.softmax_cross_entropy(Z, np.array([1])) == pytest.approx(-np.log(p[1]))


def test_softmax_cross_entropy_shape_mismatch():
    with pytest.raises(ValueError):
        losses.softmax_cross_entropy(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError):
        losses.softmax_cross_entropy_gradient(np.zeros((3, 4)), np.zeros((2, 4)))


def test_softmax_cross_entropy_gradient_formula_and_finite_differences():
    rng = np.random.default_rng(3)
    C, m = 5, 7
    Z = rng.normal(size=(C, m))
    Y = losses.one_hot(rng.integers(0, C, size=m), C)
    dZ = losses.softmax_cross_entropy_gradient(Z, Y)
    np.testing.assert_allclose(dZ, (losses.softmax(Z) - Y) / m, rtol=1e-12)
    num = numerical_gradient(lambda: losses.softmax_cross_entropy(Z, Y), Z)
    assert relative_error(dZ, num) < 1e-7
    # columns of the gradient sum to zero (softmax is shift-invariant)
    np.testing.assert_allclose(dZ.sum(axis=0), np.zeros(m), atol=1e-15)


def test_softmax_cross_entropy_is_stable_at_1000():
    Z = np.array([[1000.0, -1000.0, 0.0], [0.0, 1000.0, 1000.0], [-1000.0, 0.0, -1000.0]])
    Y = losses.one_hot(np.array([1, 1, 0]), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            J = losses.softmax_cross_entropy(Z, Y)
            dZ = losses.softmax_cross_entropy_gradient(Z, Y)
            A = losses.softmax(Z)
            logA = losses.log_softmax(Z)
    # example 0: -log softmax = 1000, example 1: 0, example 2: 1000
    assert J == pytest.approx(2000 / 3)
    assert np.all(np.isfinite(dZ)) and np.all(np.isfinite(A)) and np.all(np.isfinite(logA))
    np.testing.assert_allclose(dZ[:, 1], np.zeros(3), atol=1e-12)


def test_softmax_cross_entropy_from_probabilities_with_zeros_is_finite():
    A = np.array([[1.0, 0.0], [0.0, 1.0]])
    J = losses.softmax_cross_entropy(A, np.array([1, 1]), from_logits=False)
    assert np.isfinite(J) and J > 10  # one certain mistake, log clipped at EPSILON


# ------------------------------------------------------------------ binary cross-entropy
def test_binary_cross_entropy_known_value_and_logits_agree():
    A = np.array([[0.9, 0.2, 0.6]])
    Y = np.array([[1.0, 0.0, 0.0]])
    expected = -np.mean([np.log(0.9), np.log(0.8), np.log(0.4)])
    assert losses.binary_cross_entropy(A, Y) == pytest.approx(expected, rel=1e-12)
    Z = np.log(A / (1 - A))
    assert losses.binary_cross_entropy(Z, Y, from_logits=True) == pytest.approx(expected, rel=1e-10)


def test_binary_cross_entropy_is_stable_at_1000():
    Z = np.array([[1000.0, -1000.0, 1000.0, -1000.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            J = losses.binary_cross_entropy(Z, Y, from_logits=True)
            dZ = losses.binary_cross_entropy_gradient(Z, Y)
            Jp = losses.binary_cross_entropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert J == pytest.approx(500.0)  # two perfect, two mistakes of margin 1000
    np.testing.assert_allclose(dZ, [[0.0, 0.0, 0.25, -0.25]], atol=1e-15)
    assert np.isfinite(Jp) and Jp > 10


def test_binary_cross_entropy_gradient_finite_differences():
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(1, 6)) * 3
    Y = (rng.random((1, 6)) > 0.5).astype(float)
    dZ = losses.binary_cross_entropy_gradient(Z, Y)
    num = numerical_gradient(lambda: losses.binary_cross_entropy(Z, Y, from_logits=True), Z)
    assert relative_error(dZ, num) < 1e-7


def test_binary_cross_entropy_shape_mismatch():
    with pytest.raises(ValueError):
        losses.binary_cross_entropy(np.zeros((1, 3)), np.zeros((3, 1)))


# ------------------------------------------------------------------ logistic regression (04's logistic_propagate)
def test_logistic_propagate_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(4, 1)), 0.3
    X, Y = rng.normal(size=(4, 9)) * 2, (rng.random((1, 9)) > 0.5).astype(float)
    cost, dw, db = losses.logistic_propagate(w, b, X, Y)
    assert cost == pytest.approx(losses.binary_cross_entropy(w.T @ X + b, Y, from_logits=True))
    assert dw.shape == (4, 1) and isinstance(db, float)
    num_w = numerical_gradient(lambda: losses.logistic_propagate(w, b, X, Y)[0], w)
    assert relative_error(dw, num_w) < 1e-7
    num_b = (losses.logistic_propagate(w, b + 1e-6, X, Y)[0] - losses.logistic_propagate(w, b - 1e-6, X, Y)[0]) / 2e-6
    assert db == pytest.approx(num_b, rel=1e-6)


def test_logistic_propagate_is_stable_at_1000():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            cost, dw, db = losses.logistic_propagate(np.array([[1000.0]]), 0.0, np.array([[1.0, -1.0, 1.0, -1.0]]),
                                                     np.array([[1.0, 0.0, 0.0, 1.0]]))
    assert cost == pytest.approx(500.0) and db == pytest.approx(0.0)
    np.testing.assert_allclose(dw, [[0.5]])
