"""course.reference.regularization: initialisers, L2 cost and gradients, inverted dropout and batch
normalisation against finite differences, straightforward loops and their defining properties."""
import numpy as np
import pytest

from course.reference import regularization as reg
from utils.testing import numerical_gradient, relative_error

DIMS = (3, 5, 4, 1)


def _net(seed=0, dims=DIMS, m=7):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.normal(size=(dims[l], 1)) * 0.3
    X = rng.normal(size=(dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    return X, Y, params


# --- initialisation ---------------------------------------------------------------------------------
def test_zeros_shapes_and_values():
    p = reg.initialize_parameters_zeros([4, 3, 2, 1])
    assert sorted(p) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert p["W1"].shape == (3, 4) and p["W3"].shape == (1, 2) and p["b2"].shape == (2, 1)
    assert all(not v.any() for v in p.values())


def test_random_and_he_match_the_canonical_draws():
    np.random.seed(3)
    W1 = np.random.randn(2, 3) * 10
    W2 = np.random.randn(1, 2) * 10
    p = reg.initialize_parameters_random([3, 2, 1])
    np.testing.assert_array_equal(p["W1"], W1)
    np.testing.assert_array_equal(p["W2"], W2)
    np.random.seed(3)
    W1 = np.random.randn(4, 2) * np.sqrt(2 / 2)
    W2 = np.random.randn(1, 4) * np.sqrt(2 / 4)
    p = reg.initialize_parameters_he([2, 4, 1])
    np.testing.assert_allclose(p["W1"], W1)
    np.testing.assert_allclose(p["W2"], W2)
    assert not p["b1"].any() and p["b1"].shape == (4, 1)


@pytest.mark.parametrize("scale", [0.01, 0.5, 10.0])
def test_random_scale(scale):
    p = reg.initialize_parameters_random([400, 300, 2], scale=scale, seed=1)
    assert abs(p["W1"].std() / scale - 1) < 0.02


def test_he_keeps_the_variance_through_relu_layers():
    dims = [500, 500, 500, 500]
    p = reg.initialize_parameters_he(dims, seed=0)
    A = np.random.default_rng(0).normal(size=(500, 2000))
    second_moments = []
    for l in range(1, 4):
        A = np.maximum(p[f"W{l}"] @ A, 0)
        second_moments.append(np.mean(A ** 2))
    assert max(second_moments) / min(second_moments) < 1.2


# --- L2 ----------------------------------------------------------------------------------------------
def test_cost_with_regularization_is_cross_entropy_plus_penalty():
    X, Y, p = _net(1)
    A3 = reg.forward_propagation(X, p)[0]
    m = X.shape[1]
    l2 = sum(np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))
    assert reg.compute_cost_with_regularization(A3, Y, p, 0.0) == pytest.approx(reg.compute_cost(A3, Y))
    assert reg.compute_cost_with_regularization(A3, Y, p, 0.7) == pytest.approx(reg.compute_cost(A3, Y) + 0.7 / (2 * m) * l2)


@pytest.mark.parametrize("lambd", [0.0, 0.7, 5.0])
def test_l2_gradients_against_finite_differences(lambd):
    X, Y, p = _net(2)
    grads = reg.backward_propagation_with_regularization(X, Y, reg.forward_propagation(X, p)[1], lambd)

    def cost():
        return reg.compute_cost_with_regularization(reg.forward_propagation(X, p)[0], Y, p, lambd)

    for k in p:
        assert relative_error(grads["d" + k], numerical_gradient(cost, p[k])) < 1e-6, k
        assert grads["d" + k].shape == p[k].shape
    for k in ("dZ3", "dA2", "dZ2", "dA1", "dZ1"):
        assert k in grads


def test_plain_backward_is_lambda_zero():
    X, Y, p = _net(3)
    cache = reg.forward_propagation(X, p)[1]
    a, b = reg.backward_propagation(X, Y, cache), reg.backward_propagation_with_regularization(X, Y, cache, 0.0)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_l2_does_not_modify_its_inputs():
    X, Y, p = _net(4)
    cache = reg.forward_propagation(X, p)[1]
    before = [c.copy() for c in cache]
    reg.backward_propagation_with_regularization(X, Y, cache, 0.5)
    assert all(np.array_equal(a, b) for a, b in zip(before, cache))


# --- dropout -----------------------------------------------------------------------------------------
def test_dropout_masks_statistics_and_scaling():
    X, Y, p = _net(5, dims=(3, 200, 150, 1), m=300)
    np.random.seed(0)
    A3, cache = reg.forward_propagation_with_dropout(X, p, 0.7)
    D1, A1, D2, A2 = cache[1], cache[2], cache[6], cache[7]
    assert D1.shape == (200, 300) and D2.shape == (150, 300)
    assert set(np.unique(D1)) <= {0.0, 1.0}
    assert abs(D1.mean() - 0.7) < 0.01 and abs(D2.mean() - 0.7) < 0.01
    np.testing.assert_allclose(A1, np.maximum(cache[0], 0) * D1 / 0.7)
    A3_again, cache_again = reg.forward_propagation_with_dropout(X, p, 0.7)
    assert not np.array_equal(cache_again[1], D1)  # a new mask every call


def test_dropout_keeps_the_expected_activation():
    X, Y, p = _net(6, dims=(3, 50, 40, 1), m=4)
    plain = np.maximum(p["W1"] @ X + p["b1"], 0)
    np.random.seed(1)
    mean = np.mean([reg.forward_propagation_with_dropout(X, p, 0.5)[1][2] for _ in range(3000)], axis=0)
    assert np.max(np.abs(mean - plain)) < 0.15 * np.max(plain)


def test_dropout_with_keep_prob_one_is_the_plain_network():
    X, Y, p = _net(7)
    np.testing.assert_allclose(reg.forward_propagation_with_dropout(X, p, 1.0)[0], reg.forward_propagation(X, p)[0])


@pytest.mark.parametrize("keep_prob", [0.5, 0.8, 1.0])
def test_dropout_gradients_against_finite_differences_with_fixed_masks(keep_prob):
    X, Y, p = _net(8)
    rng = np.random.default_rng(8)
    D1 = (rng.random((5, 7)) < keep_prob).astype(float)
    D2 = (rng.random((4, 7)) < keep_prob).astype(float)
    _, cache = reg.forward_propagation_with_masks(X, p, D1, D2, keep_prob)
    grads = reg.backward_propagation_with_dropout(X, Y, cache, keep_prob)

    def cost():
        return reg.compute_cost(reg.forward_propagation_with_masks(X, p, D1, D2, keep_prob)[0], Y)

    for k in p:
        assert relative_error(grads["d" + k], numerical_gradient(cost, p[k])) < 1e-6, k


def test_forward_with_masks_reproduces_the_random_forward():
    X, Y, p = _net(9)
    np.random.seed(4)
    A3, cache = reg.forward_propagation_with_dropout(X, p, 0.6)
    A3_again, cache_again = reg.forward_propagation_with_masks(X, p, cache[1], cache[6], 0.6)
    np.testing.assert_allclose(A3, A3_again)
    for a, b in zip(cache, cache_again):
        np.testing.assert_allclose(a, b)


# --- batch normalisation ---------------------------------------------------------------------------------
def _bn_inputs(seed=0, N=8, D=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)) * rng.uniform(0.5, 5, size=D) + rng.normal(scale=3, size=D)
    return x, rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))


def test_batchnorm_train_mode_standardises_and_updates_running_stats():
    x, gamma, beta, _ = _bn_inputs(1)
    bn = {"mode": "train"}
    out, _ = reg.batchnorm_forward(x, np.ones(5), np.zeros(5), bn)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(bn["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn["running_var"], 0.1 * x.var(axis=0))
    out, _ = reg.batchnorm_forward(x, gamma, beta, bn)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(bn["running_mean"], 0.19 * x.mean(axis=0))


def test_batchnorm_running_stats_converge_and_test_mode_uses_them():
    rng = np.random.default_rng(2)
    bn = {"mode": "train", "momentum": 0.9}
    for _ in range(300):
        x = rng.normal(loc=3.0, scale=2.0, size=(64, 3))
        reg.batchnorm_forward(x, np.ones(3), np.zeros(3), bn)
    np.testing.assert_allclose(bn["running_mean"], 3.0, atol=0.3)
    np.testing.assert_allclose(bn["running_var"], 4.0, rtol=0.15)
    bn["mode"] = "test"
    before = bn["running_mean"].copy()
    x = np.array([[3.0, 5.0, 1.0]])
    out, cache = reg.batchnorm_forward(x, np.ones(3), np.zeros(3), bn)
    np.testing.assert_allclose(out, (x - before) / np.sqrt(bn["running_var"] + 1e-5))
    np.testing.assert_array_equal(bn["running_mean"], before)
    assert cache is None
    with pytest.raises(ValueError):
        reg.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "eval"})


@pytest.mark.parametrize("N, D", [(8, 5), (3, 3), (30, 1)])
def test_batchnorm_backward_against_finite_differences(N, D):
    x, gamma, beta, dout = _bn_inputs(3, N, D)
    _, cache = reg.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = reg.batchnorm_backward(dout, cache)

    def f():
        return np.sum(reg.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0] * dout)

    assert relative_error(dx, numerical_gradient(f, x)) < 1e-5
    assert relative_error(dgamma, numerical_gradient(f, gamma)) < 1e-6
    assert relative_error(dbeta, numerical_gradient(f, beta)) < 1e-6
    assert dgamma.shape == (D,) and dbeta.shape == (D,)


def test_batchnorm_backward_matches_a_staged_computation():
    """The compact formula equals the chain rule through mean, variance and normalisation step by step."""
    x, gamma, beta, dout = _bn_inputs(4)
    eps = 1e-5
    N = x.shape[0]
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=0)
    ivar = 1 / np.sqrt(var + eps)
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xmu, axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dxhat * ivar, axis=0) + dvar * np.mean(-2 * xmu, axis=0)
    dx_staged = dxhat * ivar + dvar * 2 * xmu / N + dmu / N
    _, cache = reg.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(reg.batchnorm_backward(dout, cache)[0], dx_staged, rtol=1e-10, atol=1e-12)
