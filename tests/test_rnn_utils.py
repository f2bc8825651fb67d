"""Unit tests of course.reference.rnn_utils: canonical values, loop equivalence, finite differences, clipping."""
import warnings

import numpy as np
import pytest

from course.reference import rnn_utils as R
from utils.testing import numerical_gradient, relative_error


# ------------------------------------------------------------------------------------ helpers
def rnn_params(rng, n_x, n_a, n_y):
    return {"Wax": rng.standard_normal((n_a, n_x)), "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
            "Wya": rng.standard_normal((n_y, n_a)), "ba": rng.standard_normal((n_a, 1)),
            "by": rng.standard_normal((n_y, 1))}


def lstm_params(rng, n_x, n_a, n_y):
    p = {}
    for g in "fico":
        p["W" + g] = rng.standard_normal((n_a, n_a + n_x)) * 0.5
        p["b" + g] = rng.standard_normal((n_a, 1))
    p["Wy"] = rng.standard_normal((n_y, n_a))
    p["by"] = rng.standard_normal((n_y, 1))
    return p


def _softmax1(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _sig1(z):
    return 1.0 / (1.0 + np.exp(-z))


def rnn_forward_loop(x, a0, p):
    """One example and one time step at a time, with 1-D vectors."""
    n_x, m, T = x.shape
    n_a, n_y = p["Waa"].shape[0], p["Wya"].shape[0]
    a, y = np.zeros((n_a, m, T)), np.zeros((n_y, m, T))
    for j in range(m):
        h = a0[:, j]
        for t in range(T):
            h = np.tanh(p["Waa"] @ h + p["Wax"] @ x[:, j, t] + p["ba"][:, 0])
            a[:, j, t] = h
            y[:, j, t] = _softmax1(p["Wya"] @ h + p["by"][:, 0])
    return a, y


def rnn_backward_loop(da, x, a0, p):
    """Per-example BPTT with 1-D vectors, weight gradients summed over examples."""
    a, _ = rnn_forward_loop(x, a0, p)
    n_x, m, T = x.shape
    g = {"dx": np.zeros_like(x), "da0": np.zeros_like(a0), "dWax": np.zeros_like(p["Wax"]),
         "dWaa": np.zeros_like(p["Waa"]), "dba": np.zeros_like(p["ba"])}
    for j in range(m):
        carry = np.zeros(a0.shape[0])
        for t in reversed(range(T)):
            prev = a[:, j, t - 1] if t > 0 else a0[:, j]
            dz = (1 - a[:, j, t] ** 2) * (da[:, j, t] + carry)
            g["dx"][:, j, t] = p["Wax"].T @ dz
            g["dWax"] += np.outer(dz, x[:, j, t])
            g["dWaa"] += np.outer(dz, prev)
            g["dba"][:, 0] += dz
            carry = p["Waa"].T @ dz
        g["da0"][:, j] = carry
    return g


def lstm_forward_loop(x, a0, p):
    n_x, m, T = x.shape
    n_a, n_y = a0.shape[0], p["Wy"].shape[0]
    a, c, y = np.zeros((n_a, m, T)), np.zeros((n_a, m, T)), np.zeros((n_y, m, T))
    for j in range(m):
        h, cell = a0[:, j], np.zeros(n_a)
        for t in range(T):
            z = np.concatenate([h, x[:, j, t]])
            f = _sig1(p["Wf"] @ z + p["bf"][:, 0])
            i = _sig1(p["Wi"] @ z + p["bi"][:, 0])
            cc = np.tanh(p["Wc"] @ z + p["bc"][:, 0])
            o = _sig1(p["Wo"] @ z + p["bo"][:, 0])
            cell = f * cell + i * cc
            h = o * np.tanh(cell)
            a[:, j, t], c[:, j, t] = h, cell
            y[:, j, t] = _softmax1(p["Wy"] @ h + p["by"][:, 0])
    return a, y, c


# ----------------------------------------------------------------------------- activations
def test_softmax_stable_and_normalised():
    z = np.array([[1000.0, -1000.0, 0.0], [0.0, -1000.0, 1e-3], [-1000.0, 1000.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = R.softmax(z)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(s[:, 0], [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(s[:, 1], [0.0, 0.0, 1.0], atol=1e-12)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 7, 3))
    expected = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)
    np.testing.assert_allclose(R.softmax(z), expected, rtol=1e-12)
    np.testing.assert_allclose(R.softmax(z + 500.0), expected, rtol=1e-12)  # shift invariance


def test_sigmoid_stable_and_correct():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.5, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = R.sigmoid(z)
    np.testing.assert_allclose(s[1:5], 1 / (1 + np.exp(-z[1:5])), rtol=1e-14)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(R.sigmoid(-z) + R.sigmoid(z), 1.0, atol=1e-15)


# ------------------------------------------------------------------ canonical expected values
def canonical_rnn_inputs(T=None):
    np.random.seed(1)
    x = np.random.randn(3, 10) if T is None else np.random.randn(3, 10, T)
    a = np.random.randn(5, 10)
    p = {"Waa": np.random.randn(5, 5), "Wax": np.random.randn(5, 3), "Wya": np.random.randn(2, 5),
         "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
    return x, a, p


def test_rnn_cell_forward_canonical_values():
    xt, a_prev, p = canonical_rnn_inputs()
    a_next, yt, cache = R.rnn_cell_forward(xt, a_prev, p)
    np.testing.assert_allclose(a_next[4], [0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201,
                                           0.99980978, -0.18887155, 0.99815551, 0.6531151, 0.82872037], atol=1e-8)
    np.testing.assert_allclose(yt[1], [0.9888161, 0.01682021, 0.21140899, 0.36817467, 0.98988387,
                                       0.88945212, 0.36920224, 0.9966312, 0.9982559, 0.17746526], atol=1e-8)
    assert cache[0] is a_next and cache[1] is a_prev and cache[2] is xt and cache[3] is p


def test_rnn_forward_canonical_values():
    x, a0, p = canonical_rnn_inputs(T=4)
    a, y, (caches, x_c) = R.rnn_forward(x, a0, p)
    assert a.shape == (5, 10, 4) and y.shape == (2, 10, 4) and len(caches) == 4 and x_c is x
    np.testing.assert_allclose(a[4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267], atol=1e-8)
    np.testing.assert_allclose(y[1][3], [0.79560373, 0.86224861, 0.11118257, 0.81515947], atol=1e-8)


def test_lstm_cell_forward_canonical_values():
    np.random.seed(1)
    xt, a_prev, c_prev = np.random.randn(3, 10), np.random.randn(5, 10), np.random.randn(5, 10)
    p = {}
    for k, s in [("Wf", (5, 8)), ("bf", (5, 1)), ("Wi", (5, 8)), ("bi", (5, 1)), ("Wo", (5, 8)),
                 ("bo", (5, 1)), ("Wc", (5, 8)), ("bc", (5, 1)), ("Wy", (2, 5)), ("by", (2, 1))]:
        p[k] = np.random.randn(*s)
    a, c, y, cache = R.lstm_cell_forward(xt, a_prev, c_prev, p)
    np.testing.assert_allclose(a[4], [-0.66408471, 0.0036921, 0.02088357, 0.22834167, -0.85575339,
                                      0.00138482, 0.76566531, 0.34631421, -0.00215674, 0.43827275], atol=1e-8)
    np.testing.assert_allclose(c[2], [0.63267805, 1.00570849, 0.35504474, 0.20690913, -1.64566718,
                                      0.11832942, 0.76449811, -0.0981561, -0.74348425, -0.26810932], atol=1e-8)
    assert len(cache) == 10 and cache[9] is p


# ------------------------------------------------------------------- equality with loop forms
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rnn_forward_and_backward_equal_loop_versions(seed):
    rng = np.random.default_rng(seed)
    n_x, n_a, n_y, m, T = rng.integers(1, 6), rng.integers(1, 7), rng.integers(1, 5), rng.integers(1, 6), rng.integers(1, 6)
    x, a0, p = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), rnn_params(rng, n_x, n_a, n_y)
    a, y, caches = R.rnn_forward(x, a0, p)
    a_l, y_l = rnn_forward_loop(x, a0, p)
    np.testing.assert_allclose(a, a_l, atol=1e-10)
    np.testing.assert_allclose(y, y_l, atol=1e-10)
    da = rng.standard_normal((n_a, m, T))
    g = R.rnn_backward(da, caches)
    g_l = rnn_backward_loop(da, x, a0, p)
    for k in g_l:
        assert g[k].shape == g_l[k].shape, k
        np.testing.assert_allclose(g[k], g_l[k], atol=1e-10, err_msg=k)


@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_forward_equals_loop_version(seed):
    rng = np.random.default_rng(seed)
    n_x, n_a, n_y, m, T = 3, 4, 2, 5, 6
    x, a0, p = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), lstm_params(rng, n_x, n_a, n_y)
    a, y, c, caches = R.lstm_forward(x, a0, p)
    a_l, y_l, c_l = lstm_forward_loop(x, a0, p)
    np.testing.assert_allclose(a, a_l, atol=1e-10)
    np.testing.assert_allclose(c, c_l, atol=1e-10)
    np.testing.assert_allclose(y, y_l, atol=1e-10)


def test_lstm_backward_is_per_example_sum():
    """Weight gradients of a batch are the sums of the gradients of each example alone."""
    rng = np.random.default_rng(3)
    n_x, n_a, n_y, m, T = 2, 3, 2, 4, 5
    x, a0, p = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), lstm_params(rng, n_x, n_a, n_y)
    da = rng.standard_normal((n_a, m, T))
    g = R.lstm_backward(da, R.lstm_forward(x, a0, p)[3])
    total = {k: np.zeros_like(v) for k, v in g.items() if k.startswith("dW") or k.startswith("db")}
    for j in range(m):
        gj = R.lstm_backward(da[:, j:j + 1], R.lstm_forward(x[:, j:j + 1], a0[:, j:j + 1], p)[3])
        np.testing.assert_allclose(g["dx"][:, j:j + 1], gj["dx"], atol=1e-10)
        np.testing.assert_allclose(g["da0"][:, j:j + 1], gj["da0"], atol=1e-10)
        for k in total:
            total[k] += gj[k]
    for k in total:
        np.testing.assert_allclose(g[k], total[k], atol=1e-10, err_msg=k)


# ------------------------------------------------------------------------ finite differences
def _check(analytic, f, x, name, tol=1e-7):
    num = numerical_gradient(f, x)
    err = relative_error(analytic, num)
    assert err < tol, f"{name}: relative error {err:.2e}"


def test_rnn_cell_backward_finite_differences():
    rng = np.random.default_rng(4)
    n_x, n_a, m = 3, 4, 2
    xt, a_prev, p = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)), rnn_params(rng, n_x, n_a, 2)
    w = rng.standard_normal((n_a, m))
    f = lambda: float(np.sum(w * R.rnn_cell_forward(xt, a_prev, p)[0]))
    g = R.rnn_cell_backward(w, R.rnn_cell_forward(xt, a_prev, p)[2])
    assert set(g) == {"dxt", "da_prev", "dWax", "dWaa", "dba"}
    for name, arr in [("dxt", xt), ("da_prev", a_prev), ("dWax", p["Wax"]), ("dWaa", p["Waa"]), ("dba", p["ba"])]:
        _check(g[name], f, arr, name)


def test_rnn_backward_finite_differences():
    rng = np.random.default_rng(5)
    n_x, n_a, m, T = 3, 4, 2, 5
    x, a0, p = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), rnn_params(rng, n_x, n_a, 2)
    w = rng.standard_normal((n_a, m, T))
    f = lambda: float(np.sum(w * R.rnn_forward(x, a0, p)[0]))
    g = R.rnn_backward(w, R.rnn_forward(x, a0, p)[2])
    assert set(g) == {"dx", "da0", "dWax", "dWaa", "dba"}
    for name, arr in [("dx", x), ("da0", a0), ("dWax", p["Wax"]), ("dWaa", p["Waa"]), ("dba", p["ba"])]:
        _check(g[name], f, arr, name)


def test_lstm_cell_backward_finite_differences():
    rng = np.random.default_rng(6)
    n_x, n_a, m = 3, 4, 2
    xt, a_prev, c_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m))
    p = lstm_params(rng, n_x, n_a, 2)
    wa, wc = rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m))

    def f():
        a, c, _, _ = R.lstm_cell_forward(xt, a_prev, c_prev, p)
        return float(np.sum(wa * a) + np.sum(wc * c))

    g = R.lstm_cell_backward(wa, wc, R.lstm_cell_forward(xt, a_prev, c_prev, p)[3])
    checks = [("dxt", xt), ("da_prev", a_prev), ("dc_prev", c_prev)]
    checks += [("d" + k, p[k]) for k in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")]
    for name, arr in checks:
        _check(g[name], f, arr, name)


def test_lstm_backward_finite_differences():
    rng = np.random.default_rng(7)
    n_x, n_a, m, T = 2, 3, 2, 4
    x, a0, p = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), lstm_params(rng, n_x, n_a, 2)
    w = rng.standard_normal((n_a, m, T))
    f = lambda: float(np.sum(w * R.lstm_forward(x, a0, p)[0]))
    g = R.lstm_backward(w, R.lstm_forward(x, a0, p)[3])
    checks = [("dx", x), ("da0", a0)] + [("d" + k, p[k]) for k in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")]
    for name, arr in checks:
        _check(g[name], f, arr, name)


def test_truncated_backward_drops_far_gradients():
    """Backward over the last k cell caches equals full BPTT when the loss only sees late steps
    that cannot reach earlier ones within k, and differs from it otherwise."""
    rng = np.random.default_rng(8)
    n_x, n_a, m, T, k = 2, 3, 2, 6, 2
    x, a0, p = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), rnn_params(rng, n_x, n_a, 1)
    _, _, (caches, _) = R.rnn_forward(x, a0, p)
    da = np.zeros((n_a, m, T))
    da[:, :, -1] = rng.standard_normal((n_a, m))
    full = R.rnn_backward(da, (caches, x))
    trunc = R.rnn_backward(da[:, :, -k:], (caches[-k:], x[:, :, -k:]))
    np.testing.assert_allclose(trunc["dx"], full["dx"][:, :, -k:], atol=1e-12)
    assert not np.allclose(trunc["dWaa"], full["dWaa"])


# --------------------------------------------------------------------------------- clipping
def test_clip_in_place_and_bounds():
    rng = np.random.default_rng(9)
    grads = {k: rng.standard_normal(s) * 10 for k, s in
             [("dWaa", (4, 4)), ("dWax", (4, 3)), ("dWya", (2, 4)), ("db", (4, 1)), ("dby", (2, 1))]}
    before = {k: v.copy() for k, v in grads.items()}
    ids = {k: id(v) for k, v in grads.items()}
    out = R.clip(grads, 5.0)
    assert out is grads
    for k, v in grads.items():
        assert id(v) == ids[k], "clip must work in place"
        assert v.max() <= 5.0 and v.min() >= -5.0
        np.testing.assert_array_equal(v, np.clip(before[k], -5.0, 5.0))
    small = {"dWaa": np.array([[0.1, -0.2]]), "dby": np.array([[3.0]])}
    R.clip(small, 10)
    np.testing.assert_array_equal(small["dWaa"], [[0.1, -0.2]])
    np.testing.assert_array_equal(small["dby"], [[3.0]])
