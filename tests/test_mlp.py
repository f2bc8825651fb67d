"""course.reference.mlp: He init, forward pass, gradients against finite differences and a column-convention
reference, and training on small problems."""
import numpy as np
import pytest

from course.reference import losses, mlp
from utils.testing import numerical_gradient, relative_error


def _reference_loss_and_grads(X, y, params):
    """Straightforward column-convention forward/backward (deeplearning.ai style), float64."""
    L = len(params) // 2
    A, caches = X, []
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        caches.append((A, Z))
        A = np.maximum(Z, 0) if l < L else Z
    C, m = A.shape
    Y = losses.one_hot(y, C)
    loss = losses.softmax_cross_entropy(A, Y)
    dZ = losses.softmax_cross_entropy_gradient(A, Y)
    grads = {}
    for l in range(L, 0, -1):
        A_prev, _ = caches[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (params[f"W{l}"].T @ dZ) * (caches[l - 2][1] > 0)
    return loss, grads


def _tiny(seed=0, dims=(6, 5, 4, 3), m=7):
    rng = np.random.default_rng(seed)
    params = mlp.init_mlp(dims, seed=seed, dtype=np.float64)
    for k in params:  # non-zero biases so that their gradients are exercised
        if k.startswith("b"):
            params[k] = rng.normal(size=params[k].shape) * 0.1
    X = rng.normal(size=(dims[0], m))
    y = rng.integers(0, dims[-1], size=m)
    return X, y, params


def test_init_shapes_dtype_and_he_scale():
    params = mlp.init_mlp([784, 512, 256, 10], seed=1)
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert params["W1"].shape == (512, 784) and params["b1"].shape == (512, 1)
    assert params["W3"].shape == (10, 256) and params["b3"].shape == (10, 1)
    assert all(v.dtype == np.float32 for v in params.values())
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert params["W2"].std() == pytest.approx(np.sqrt(2 / 512), rel=0.02)
    assert not np.any(params["b2"])
    assert mlp.layer_dims_of(params) == [784, 512, 256, 10]
    np.testing.assert_array_equal(mlp.init_mlp([3, 2], seed=5)["W1"], mlp.init_mlp([3, 2], seed=5)["W1"])
    with pytest.raises(ValueError):
        mlp.init_mlp([784])


def test_forward_is_a_probability_per_column():
    X, y, params = _tiny()
    A = mlp.mlp_forward(X, params)
    assert A.shape == (3, 7)
    np.testing.assert_allclose(A.sum(axis=0), np.ones(7), rtol=1e-12)
    np.testing.assert_array_equal(mlp.predict(params, X), A.argmax(axis=0))
    np.testing.assert_allclose(mlp.predict_proba(params, X, batch_size=3), A, rtol=1e-12)


def test_forward_is_stable_for_huge_scores():
    X, y, params = _tiny()
    with np.errstate(over="raise", invalid="raise"):
        A = mlp.mlp_forward(X * 1e4, params)
    assert np.all(np.isfinite(A))


def test_gradients_match_reference_and_finite_differences():
    X, y, params = _tiny()
    loss, grads = mlp.mlp_loss_and_gradients(X, y, params)
    ref_loss, ref_grads = _reference_loss_and_grads(X, y, params)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert set(grads) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    for k, g in ref_grads.items():
        assert grads[k].shape == g.shape
        np.testing.assert_allclose(grads[k], g, rtol=1e-10, atol=1e-14)
    for name in params:
        num = numerical_gradient(lambda: mlp.mlp_loss_and_gradients(X, y, params)[0], params[name])
        assert relative_error(grads["d" + name], num) < 1e-7, name


def test_label_smoothing_is_cross_entropy_against_smoothed_targets():
    """Loss -mean sum_c q_c log p_c with q = (1 - e) onehot + e / C, its gradients by finite
    differences; e = 0 is the plain loss, bit for bit; e outside [0, 1) is refused."""
    X, y, params = _tiny(seed=4)
    e, C = 0.1, 3
    loss, grads = mlp.mlp_loss_and_gradients(X, y, params, label_smoothing=e)
    Q = (1 - e) * losses.one_hot(y, C) + e / C
    want = -np.mean(np.sum(Q * np.log(mlp.mlp_forward(X, params)), axis=0))
    assert loss == pytest.approx(want, rel=1e-12)
    assert loss != pytest.approx(mlp.mlp_loss_and_gradients(X, y, params)[0])
    for name in params:
        num = numerical_gradient(lambda: mlp.mlp_loss_and_gradients(X, y, params, label_smoothing=e)[0], params[name])
        assert relative_error(grads["d" + name], num) < 1e-7, name
    plain = mlp.mlp_loss_and_gradients(X, y, params)
    zero = mlp.mlp_loss_and_gradients(X, y, params, label_smoothing=0.0)
    assert zero[0] == plain[0]
    for k in plain[1]:
        np.testing.assert_array_equal(zero[1][k], plain[1][k])
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="label_smoothing"):
            mlp.mlp_loss_and_gradients(X, y, params, label_smoothing=bad)


def test_one_hot_labels_give_the_same_loss():
    X, y, params = _tiny(seed=2)
    a = mlp.mlp_loss_and_gradients(X, y, params)[0]
    b = mlp.mlp_loss_and_gradients(X, losses.one_hot(y, 3), params)[0]
    assert a == pytest.approx(b)
    assert mlp.accuracy(params, X, y) == pytest.approx(np.mean(mlp.predict(params, X) == y))


def test_minibatch_step_is_one_gradient_step_and_keeps_its_input():
    X, y, params = _tiny(seed=3)
    before = {k: v.copy() for k, v in params.items()}
    new, cost = mlp.minibatch_step(params, X, losses.one_hot(y, 3), 0.1)
    ref_loss, ref_grads = _reference_loss_and_grads(X, y, params)
    assert cost == pytest.approx(ref_loss, rel=1e-12)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        np.testing.assert_allclose(new[k], params[k] - 0.1 * ref_grads["d" + k], rtol=1e-10, atol=1e-14)
    assert mlp.mlp_loss_and_gradients(X, y, mlp.minibatch_step(params, X, y, 1e-3)[0])[0] < cost


def _blobs(m=600, n_x=20, C=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(C, n_x)) * 2.5
    y = rng.integers(0, C, size=m)
    X = (centres[y] + rng.normal(size=(m, n_x))).T
    return X, y


def test_training_learns_and_reports_history():
    X, y = _blobs()
    Xv, yv = _blobs(m=200, seed=0)
    before = mlp.accuracy(mlp.init_mlp([20, 32, 4], seed=3), Xv, yv)
    solver = mlp.mlp_solver(X, y, hidden=(32,), epochs=4, batch_size=32, learning_rate=1e-2, seed=3, progress=False,
                            evaluate=lambda p: {"val accuracy": mlp.accuracy(p, Xv, yv)})
    params, hist = solver.train()
    assert params["W1"].dtype == np.float32 and params["W1"].shape == (32, 20)
    assert len(hist["loss"]) == 4 * 19 and len(hist["val accuracy"]) == 4
    assert hist["epoch loss"][-1] < hist["epoch loss"][0]
    assert hist["val accuracy"][-1] > 0.95 > before
    np.testing.assert_allclose([solver.lr(e) for e in range(4)], [1e-2 * 0.7 ** e for e in range(4)])


def test_training_is_deterministic_and_accepts_start_params():
    X, y = _blobs(m=200)
    p1, _ = mlp.mlp_solver(X, y, hidden=(8,), epochs=2, seed=7, progress=False).train()
    p2, _ = mlp.mlp_solver(X, y, hidden=(8,), epochs=2, seed=7, progress=False).train()
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    start = mlp.init_mlp([20, 8, 4], seed=1, dtype=np.float64)
    p3, _ = mlp.mlp_solver(X, y, epochs=1, params=start, dtype=np.float64, progress=False).train()
    assert p3["W1"].dtype == np.float64 and not np.array_equal(p3["W1"], start["W1"])


def test_the_step_is_one_adam_update_of_the_reference_gradients():
    """adam_step on a batch of rows = Adam on mlp_loss_and_gradients of the same columns."""
    from course.reference.optimizers import Adam

    X, y = _blobs(m=16)
    params = mlp.init_mlp([20, 8, 4], seed=2, dtype=np.float64)
    loss, grads = mlp.mlp_loss_and_gradients(X, y, params)
    want = {k: v.copy() for k, v in params.items()}
    Adam(lr=0.01).step(want, grads)
    got, got_loss = mlp.adam_step(params, 16)(params, np.ascontiguousarray(X.T), y, 0.01)
    assert got_loss == pytest.approx(loss, rel=1e-12)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)
    # the same with label smoothing: the step follows the smoothed loss's gradients
    loss, grads = mlp.mlp_loss_and_gradients(X, y, params, label_smoothing=0.2)
    Adam(lr=0.01).step(want := {k: v.copy() for k, v in params.items()}, grads)
    got, got_loss = mlp.adam_step(params, 16, label_smoothing=0.2)(params, np.ascontiguousarray(X.T), y, 0.01)
    assert got_loss == pytest.approx(loss, rel=1e-12)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)


def test_weight_decay_shrinks_weights():
    X, y = _blobs(m=300)
    p0, _ = mlp.mlp_solver(X, y, hidden=(16,), epochs=3, seed=0, progress=False).train()
    p1, _ = mlp.mlp_solver(X, y, hidden=(16,), epochs=3, seed=0, weight_decay=50.0, progress=False).train()
    assert np.linalg.norm(p1["W1"]) < np.linalg.norm(p0["W1"])


def test_training_on_the_shipped_mnist_sample():
    """2,000 sample digits, 3 epochs: well above chance on the 500 sample test digits."""
    from course.reference.mlp import normalize
    from utils.mnist import read_mnist_npz, sample_path

    x_train, y_train, x_test, y_test = read_mnist_npz(sample_path())
    params, hist = mlp.mlp_solver(normalize(x_train, np.float32), y_train, hidden=(64,), epochs=3,
                                  batch_size=64, learning_rate=3e-3, progress=False).train()
    assert mlp.accuracy(params, normalize(x_test), y_test) > 0.8


def test_bad_input_shapes():
    with pytest.raises(ValueError):
        mlp.mlp_solver(np.zeros(5), np.zeros(5), progress=False)
    with pytest.raises(ValueError):
        mlp.mlp_solver(np.zeros((3, 5)), np.zeros(4, int), progress=False)
