"""course.reference.dense: shapes, agreement with loop versions, finite-difference gradients, training."""
import numpy as np
import pytest

from course.reference import dense
from course.reference.gradient_check import gradient_check


def arch(*dims, hidden="relu", out="sigmoid"):
    layers = []
    for i in range(len(dims) - 1):
        act = out if i == len(dims) - 2 else hidden
        layers.append({"input_dim": dims[i], "output_dim": dims[i + 1], "activation": act})
    return layers


def data(n_x, m, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((n_out, m)) > 0.5).astype(float)
    return X, Y


def test_init_layers_shapes_seed_and_scale():
    a = arch(3, 5, 4, 1)
    p = dense.init_layers(a, seed=1)
    assert [k for k in p] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert p["W1"].shape == (5, 3) and p["b1"].shape == (5, 1)
    assert p["W3"].shape == (1, 4) and p["b3"].shape == (1, 1)
    assert all(v.dtype == np.float64 for v in p.values())
    assert all(np.all(p[f"b{i}"] == 0) for i in (1, 2, 3))
    q = dense.init_layers(a, seed=1)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    r = dense.init_layers(a, seed=2)
    assert not np.array_equal(p["W1"], r["W1"])
    # documented generator: default_rng(seed), standard_normal per layer, He for relu
    rng = np.random.default_rng(1)
    assert np.allclose(p["W1"], rng.standard_normal((5, 3)) * np.sqrt(2 / 3))
    assert np.allclose(p["W2"], rng.standard_normal((4, 5)) * np.sqrt(2 / 5))
    assert np.allclose(p["W3"], rng.standard_normal((1, 4)) * np.sqrt(1 / 4))
    s = dense.init_layers(a, seed=1, scale=0.1)
    assert np.allclose(s["W1"], np.random.default_rng(1).standard_normal((5, 3)) * 0.1)


def test_init_layers_rejects_inconsistent_architecture():
    bad = [{"input_dim": 2, "output_dim": 3, "activation": "relu"},
           {"input_dim": 4, "output_dim": 1, "activation": "sigmoid"}]
    with pytest.raises(ValueError):
        dense.init_layers(bad)
    with pytest.raises(ValueError):
        dense.init_layers([{"input_dim": 2, "output_dim": 1, "activation": "swish"}])


def test_count_parameters():
    a = arch(2, 25, 50, 50, 25, 1)
    p = dense.init_layers(a)
    assert dense.count_parameters(a) == sum(v.size for v in p.values()) == 5226
    assert dense.count_parameters(arch(2, 25, 1)) == 101


def test_forward_matches_loop_version():
    a = arch(3, 4, 2, hidden="tanh")
    p = dense.init_layers(a, seed=3)
    p["b1"] += 0.3
    X, _ = data(3, 7)
    Y_hat, memory = dense.full_forward_propagation(X, p, a)
    assert Y_hat.shape == (2, 7)
    assert set(memory) == {"A0", "Z1", "A1", "Z2"}
    assert memory["A0"] is X
    for j in range(7):  # one example at a time, one unit at a time
        x = X[:, j]
        h = [np.tanh(sum(p["W1"][u, k] * x[k] for k in range(3)) + p["b1"][u, 0]) for u in range(4)]
        for u in range(2):
            z = sum(p["W2"][u, k] * h[k] for k in range(4)) + p["b2"][u, 0]
            assert np.isclose(Y_hat[u, j], 1 / (1 + np.exp(-z)))


def test_cost_value_and_stability():
    Y_hat = np.array([[0.9, 0.2, 0.6]])
    Y = np.array([[1, 0, 1]])
    expected = -np.mean(np.log([0.9, 0.8, 0.6]))
    assert np.isclose(dense.get_cost_value(Y_hat, Y), expected)
    assert isinstance(dense.get_cost_value(Y_hat, Y), float)
    assert np.isclose(dense.get_cost_value(Y_hat, Y.ravel()), expected)
    with np.errstate(all="raise"):
        c = dense.get_cost_value(np.array([[0.0, 1.0]]), np.array([[1, 0]]))
    assert np.isfinite(c) and c > 30
    assert dense.get_cost_value(np.array([[1.0, 0.0]]), np.array([[1, 0]])) < 1e-12


def test_accuracy():
    Y_hat = np.array([[0.9, 0.2, 0.6, 0.4]])
    assert dense.get_accuracy_value(Y_hat, np.array([[1, 0, 0, 0]])) == 0.75
    assert dense.get_accuracy_value(Y_hat, np.array([1, 0, 1, 0])) == 1.0


def test_single_layer_backward_matches_loop():
    rng = np.random.default_rng(5)
    A_prev, W, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((2, 1))
    Z = W @ A_prev + b
    dA = rng.standard_normal((2, 4))
    dA_prev, dW, db = dense.single_layer_backward_propagation(dA, W, b, Z, A_prev, "relu")
    dZ = dA * (Z > 0)
    dW_loop = np.zeros_like(W)
    for j in range(4):
        dW_loop += np.outer(dZ[:, j], A_prev[:, j]) / 4
    assert np.allclose(dW, dW_loop)
    assert np.allclose(db, dZ.mean(axis=1, keepdims=True))
    assert np.allclose(dA_prev, W.T @ dZ)
    assert dA_prev.shape == (3, 4) and dW.shape == (2, 3) and db.shape == (2, 1)


@pytest.mark.parametrize("hidden", ["sigmoid", "relu", "tanh", "leaky_relu"])
@pytest.mark.parametrize("out", ["sigmoid", "tanh_then_sigmoid"])
def test_full_backward_gradient_check(hidden, out):
    a = arch(4, 5, 3, 2, hidden=hidden)
    if out == "tanh_then_sigmoid":
        a[-2]["activation"] = "tanh"
    p = dense.init_layers(a, seed=7)
    for k in p:
        if k.startswith("b"):
            p[k] += 0.1 * np.random.default_rng(8).standard_normal(p[k].shape)
    X, Y = data(4, 6, n_out=2, seed=9)
    Y_hat, memory = dense.full_forward_propagation(X, p, a)
    grads = dense.full_backward_propagation(Y_hat, Y, memory, p, a)
    assert list(grads) == ["dW1", "db1", "dW2", "db2", "dW3", "db3"]
    for k in p:
        assert grads["d" + k].shape == p[k].shape

    def cost(q):
        return dense.get_cost_value(dense.full_forward_propagation(X, q, a)[0], Y)

    err = gradient_check(p, grads, cost)
    assert err < 1e-7, err


def test_sigmoid_shortcut_equals_generic_path():
    a = arch(3, 4, 1, hidden="tanh", out="tanh")
    a[-1]["activation"] = "sigmoid"
    a2 = [dict(l) for l in a]
    p = dense.init_layers(a, seed=2)
    X, Y = data(3, 5)
    Y_hat, memory = dense.full_forward_propagation(X, p, a)
    g_fast = dense.full_backward_propagation(Y_hat, Y, memory, p, a)
    # the generic path: dA_L from cost_backward through sigmoid_backward
    dA = dense.cost_backward(Y_hat, Y)
    dA1, dW2, db2 = dense.single_layer_backward_propagation(dA, p["W2"], p["b2"], memory["Z2"], memory["A1"], "sigmoid")
    _, dW1, db1 = dense.single_layer_backward_propagation(dA1, p["W1"], p["b1"], memory["Z1"], memory["A0"], "tanh")
    for k, v in {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}.items():
        assert np.allclose(g_fast[k], v, rtol=1e-9, atol=1e-12), k
    assert a == a2


def test_update_is_gradient_step_in_place():
    a = arch(2, 3, 1)
    p = dense.init_layers(a, seed=0)
    old = {k: v.copy() for k, v in p.items()}
    g = {"d" + k: np.ones_like(v) for k, v in p.items()}
    out = dense.update(p, g, a, 0.5)
    assert out is p
    for k in p:
        assert np.allclose(p[k], old[k] - 0.5)


def test_train_make_circles_reaches_high_accuracy():
    from sklearn.datasets import make_circles
    X, y = make_circles(n_samples=600, factor=0.4, noise=0.10, random_state=0)
    X, Y = X.T, y.reshape(1, -1)
    a = arch(2, 16, 8, 1)
    params, history = dense.train(X[:, :500], Y[:, :500], a, epochs=400, learning_rate=0.5,
                                  X_test=X[:, 500:], Y_test=Y[:, 500:])
    assert set(history) == {"train loss", "train accuracy", "test loss", "test accuracy"}
    assert all(len(v) == 400 for v in history.values())
    assert history["train loss"][-1] < 0.5 * history["train loss"][0]
    assert history["train accuracy"][-1] > 0.95
    assert history["test accuracy"][-1] > 0.93
    assert dense.predict(X[:, 500:], params, a).shape == (1, 100)


def test_train_does_not_modify_given_params_and_calls_callback():
    a = arch(2, 3, 1)
    p0 = dense.init_layers(a, seed=0)
    keep = {k: v.copy() for k, v in p0.items()}
    X, Y = data(2, 10)
    calls = []
    dense.train(X, Y.ravel(), a, 3, 0.1, params=p0, callback=lambda e, p, h: calls.append(e))
    assert calls == [0, 1, 2]
    assert all(np.array_equal(p0[k], keep[k]) for k in p0)


def test_train_with_progress_bar_and_given_scale():
    a = arch(2, 4, 1)
    X, Y = data(2, 12)
    p, h = dense.train(X, Y, a, 5, 0.1, progress=True, scale=0.1)
    q = dense.init_layers(a, seed=99, scale=0.1)
    assert len(h["train loss"]) == 5 and "test loss" not in h
    assert p["W1"].shape == q["W1"].shape and not np.allclose(p["W1"], q["W1"])
