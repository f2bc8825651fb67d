"""course.reference.optimizers: single steps against hand-computed values, bias correction, state, API agreement."""
import copy
import math

import numpy as np
import pytest

from course.reference import optimizers as opt


def _problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4, 1)),
              "W2": rng.normal(size=(1, 4)), "b2": rng.normal(size=(1, 1))}
    params = {k: v.astype(dtype) for k, v in params.items()}
    grads_seq = [{"d" + k: rng.normal(size=v.shape).astype(dtype) for k, v in params.items()} for _ in range(5)]
    return params, grads_seq


# ------------------------------------------------------------------ hand-computed single steps
W = np.array([[1.0, 2.0]])
G = np.array([[0.5, -1.0]])


def test_gd_single_step():
    p = opt.update_parameters_with_gd({"W": W.copy()}, {"dW": G}, 0.1)
    np.testing.assert_allclose(p["W"], [[0.95, 2.1]], rtol=1e-12)


def test_momentum_two_steps():
    params = {"W": W.copy()}
    v = opt.initialize_velocity(params)
    params, v = opt.update_parameters_with_momentum(params, {"dW": G}, v, beta=0.9, learning_rate=0.1)
    np.testing.assert_allclose(v["dW"], [[0.05, -0.1]], rtol=1e-12)
    np.testing.assert_allclose(params["W"], [[0.995, 2.01]], rtol=1e-12)
    params, v = opt.update_parameters_with_momentum(params, {"dW": G}, v, beta=0.9, learning_rate=0.1)
    np.testing.assert_allclose(v["dW"], [[0.095, -0.19]], rtol=1e-12)
    np.testing.assert_allclose(params["W"], [[0.9855, 2.029]], rtol=1e-12)


def test_rmsprop_single_step():
    params = {"W": W.copy()}
    s = opt.initialize_rmsprop(params)
    params, s = opt.update_parameters_with_rmsprop(params, {"dW": G}, s, beta=0.9, learning_rate=0.1, epsilon=0.0)
    np.testing.assert_allclose(s["dW"], [[0.025, 0.1]], rtol=1e-12)
    # first step = lr * sign(g) / sqrt(1 - beta)
    step = 0.1 / math.sqrt(0.1)
    np.testing.assert_allclose(params["W"], [[1.0 - step, 2.0 + step]], rtol=1e-12)


def test_adam_first_step_is_lr_times_sign():
    """Bias correction at t = 1: v_hat = g and s_hat = g**2, so every entry moves by ~lr."""
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(5, 7)), "b": rng.normal(size=(5, 1))}
    grads = {"dW": np.sign(rng.normal(size=(5, 7))) * 10.0 ** rng.uniform(-3, 3, size=(5, 7)),
             "db": rng.normal(size=(5, 1))}
    before = copy.deepcopy(params)
    v, s = opt.initialize_adam(params)
    params, v, s, vc, sc = opt.update_parameters_with_adam(params, grads, v, s, t=1, learning_rate=0.01)
    for k in ("W", "b"):
        g = grads["d" + k]
        np.testing.assert_allclose(before[k] - params[k], 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-9)
        np.testing.assert_allclose(np.abs(before[k] - params[k]), 0.01, rtol=1e-3)  # |g| >> eps here
        np.testing.assert_allclose(vc["d" + k], grads["d" + k], rtol=1e-12)
        np.testing.assert_allclose(sc["d" + k], grads["d" + k] ** 2, rtol=1e-12)
        np.testing.assert_allclose(v["d" + k], 0.1 * grads["d" + k], rtol=1e-12)
        np.testing.assert_allclose(s["d" + k], 0.001 * grads["d" + k] ** 2, rtol=1e-9)


def test_adam_two_steps_hand_computed():
    params = {"W": np.array([[0.0]])}
    v, s = opt.initialize_adam(params)
    params, v, s, _, _ = opt.update_parameters_with_adam(params, {"dW": np.array([[1.0]])}, v, s, 1, 0.1, epsilon=0.0)
    np.testing.assert_allclose(params["W"], [[-0.1]], rtol=1e-12)
    params, v, s, vc, sc = opt.update_parameters_with_adam(params, {"dW": np.array([[3.0]])}, v, s, 2, 0.1, epsilon=0.0)
    v_hat = (0.9 * 0.1 * 1 + 0.1 * 3) / (1 - 0.9 ** 2)           # 0.39 / 0.19
    s_hat = (0.999 * 0.001 * 1 + 0.001 * 9) / (1 - 0.999 ** 2)    # 0.009999 / 0.001999
    np.testing.assert_allclose(vc["dW"], [[v_hat]], rtol=1e-12)
    np.testing.assert_allclose(sc["dW"], [[s_hat]], rtol=1e-12)
    np.testing.assert_allclose(params["W"], [[-0.1 - 0.1 * v_hat / math.sqrt(s_hat)]], rtol=1e-12)


def test_adam_rejects_t_zero():
    params = {"W": W.copy()}
    v, s = opt.initialize_adam(params)
    with pytest.raises(ValueError):
        opt.update_parameters_with_adam(params, {"dW": G}, v, s, 0)


def test_learning_rate_schedules():
    assert opt.update_lr(0.5, 2, 1) == pytest.approx(0.5 / 3)
    assert opt.update_lr(0.5, 0, 1) == pytest.approx(0.5)
    assert opt.schedule_lr_decay(0.5, 100, 1) == pytest.approx(0.5)
    assert opt.schedule_lr_decay(0.5, 1000, 1) == pytest.approx(0.25)
    assert opt.schedule_lr_decay(0.5, 2999, 1) == pytest.approx(0.5 / 3)
    assert opt.schedule_lr_decay(0.3, 10, 0.3, time_interval=5) == pytest.approx(0.3 / 1.6)


# ------------------------------------------------------------------ state
def test_state_shapes_and_keys():
    params, _ = _problem()
    v = opt.initialize_velocity(params)
    v2, s2 = opt.initialize_adam(params)
    s3 = opt.initialize_rmsprop(params)
    for state in (v, v2, s2, s3):
        assert set(state) == {"dW1", "db1", "dW2", "db2"}
        for k, p in params.items():
            assert state["d" + k].shape == p.shape
            assert not state["d" + k].any()
    assert v2["dW1"] is not s2["dW1"]


# ------------------------------------------------------------------ classes
@pytest.mark.parametrize("name,kwargs,functional", [
    ("sgd", {"lr": 0.1}, "gd"),
    ("momentum", {"lr": 0.1, "beta": 0.8}, "momentum"),
    ("rmsprop", {"lr": 0.01, "beta": 0.95, "eps": 1e-8}, "rmsprop"),
    ("adam", {"lr": 0.01, "beta1": 0.85, "beta2": 0.99, "eps": 1e-8}, "adam"),
])
def test_classes_agree_with_functions(name, kwargs, functional):
    params, grads_seq = _problem(1)
    fparams = copy.deepcopy(params)
    o = opt.make_optimizer(name, **kwargs)
    v = opt.initialize_velocity(fparams)
    v_a, s_a = opt.initialize_adam(fparams)
    s_r = opt.initialize_rmsprop(fparams)
    ids = {k: id(a) for k, a in params.items()}
    for t, grads in enumerate(grads_seq, start=1):
        o.step(params, grads)
        if functional == "gd":
            fparams = opt.update_parameters_with_gd(fparams, grads, kwargs["lr"])
        elif functional == "momentum":
            fparams, v = opt.update_parameters_with_momentum(fparams, grads, v, kwargs["beta"], kwargs["lr"])
        elif functional == "rmsprop":
            fparams, s_r = opt.update_parameters_with_rmsprop(fparams, grads, s_r, kwargs["beta"], kwargs["lr"], kwargs["eps"])
        else:
            fparams, v_a, s_a, _, _ = opt.update_parameters_with_adam(
                fparams, grads, v_a, s_a, t, kwargs["lr"], kwargs["beta1"], kwargs["beta2"], kwargs["eps"])
        assert o.t == t
        for k in params:
            np.testing.assert_allclose(params[k], fparams[k], rtol=1e-10, atol=1e-12)
    assert {k: id(a) for k, a in params.items()} == ids, "step must update the arrays in place"


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_float32_stays_float32(name):
    params, grads_seq = _problem(2, np.float32)
    o = opt.make_optimizer(name, lr=0.01)
    for grads in grads_seq:
        o.step(params, grads)
    # float64 gradients on float32 parameters: still float32
    o.step(params, {k: v.astype(np.float64) for k, v in grads_seq[0].items()})
    for k, p in params.items():
        assert p.dtype == np.float32, (k, p.dtype)
        assert np.isfinite(p).all()
    for slot in o.state.values():
        for arr in slot.values():
            assert arr.dtype == np.float32


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("threads", [2, 3])
def test_threaded_steps_are_bit_identical(name, threads):
    """A large parameter updated in row blocks on several threads: the same bits as one thread."""
    rng = np.random.default_rng(11)
    shapes = {"W1": (300, 257), "b1": (300, 1), "W2": (2, 40000), "s": ()}
    start = {k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()}
    grads = [{"d" + k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()} for _ in range(3)]
    results = []
    for n in (1, threads):
        params = {k: np.array(v) for k, v in start.items()}
        o = opt.make_optimizer(name, lr=0.01)
        o.threads = n
        for g in grads:
            o.step(params, g)
        results.append(params)
    for k in shapes:
        np.testing.assert_array_equal(results[0][k], results[1][k], err_msg=k)
    assert not np.array_equal(results[1]["W1"], start["W1"])


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_every_update_block_runs_once(threads):
    done = []
    opt._in_threads(done.append, list(range(11)), threads)
    assert sorted(done) == list(range(11))


def test_two_update_blocks_run_at_the_same_time():
    """Each waits for the other at a barrier: one thread alone would wait until the barrier's
    timeout fails the test."""
    import threading

    barrier, seen = threading.Barrier(2, timeout=10), []

    def meet(_):
        barrier.wait()
        seen.append(threading.get_ident())

    opt._in_threads(meet, [0, 1], 2)
    assert len(set(seen)) == 2 and threading.get_ident() in seen


def test_a_block_that_raises_raises_in_the_caller():
    def fail_on_three(i):
        if i == 3:
            raise ValueError("block 3")

    with pytest.raises(ValueError, match="block 3"):
        opt._in_threads(fail_on_three, list(range(6)), 2)


def test_class_adam_first_step_magnitude_is_lr():
    rng = np.random.default_rng(5)
    params = {"W": rng.normal(size=(10, 10)), "conv": rng.normal(size=(3, 3, 2, 4))}
    grads = {"dW": np.sign(rng.normal(size=(10, 10))) * 10.0 ** rng.uniform(-3, 0, size=(10, 10)), "dconv": rng.normal(size=(3, 3, 2, 4)) * 1e3, "dA0": None}
    before = copy.deepcopy(params)
    o = opt.Adam(lr=0.002)
    o.step(params, grads)  # extra grads entries (dA0) are ignored
    for k in params:
        np.testing.assert_allclose(np.abs(before[k] - params[k]), 0.002, rtol=1e-4)  # |g| >= 1e-3 >> eps
    assert o.state["v"]["W"].shape == (10, 10) and o.state["s"]["conv"].shape == (3, 3, 2, 4)


def test_class_errors_leave_params_untouched():
    params = {"W": W.copy(), "b": np.zeros((1, 1))}
    o = opt.Momentum(lr=0.1)
    with pytest.raises(KeyError):
        o.step(params, {"dW": G})
    with pytest.raises(ValueError):
        o.step(params, {"dW": G, "db": np.zeros((2, 1))})
    np.testing.assert_array_equal(params["W"], W)
    assert o.t == 0
    with pytest.raises(ValueError):
        opt.make_optimizer("adagrad")


def test_reset_and_lr_change():
    params = {"W": W.copy()}
    o = opt.Adam(lr=0.1)
    o.step(params, {"dW": G})
    o.reset()
    assert o.t == 0 and o.state == {}
    o.lr = 0.05
    before = params["W"].copy()
    o.step(params, {"dW": G})
    np.testing.assert_allclose(before - params["W"], 0.05 * np.sign(G), rtol=1e-6)
    assert "Adam(lr=0.05" in repr(o)


@pytest.mark.parametrize("name,lr", [("sgd", 0.1), ("momentum", 0.1), ("rmsprop", 0.01), ("adam", 0.05)])
def test_optimizers_minimise_a_quadratic(name, lr):
    """f(w) = 0.5 * sum(a * (w - 3)**2) with curvatures from 0.5 to 5: all reach the minimum."""
    a = np.linspace(0.5, 5.0, 6).reshape(2, 3)
    params = {"w": np.zeros((2, 3))}
    o = opt.make_optimizer(name, lr=lr)
    for _ in range(1500):
        o.step(params, {"dw": a * (params["w"] - 3.0)})
    np.testing.assert_allclose(params["w"], 3.0, atol=2e-2)


# ------------------------------------------------------------------ 05's logistic warm-up
def test_expand_order_and_dtype():
    F = opt.expand(np.array([[2, -1], [3, 0.5]]))
    np.testing.assert_allclose(F, [[2, -1], [3, 0.5], [4, 1], [9, 0.25], [6, -0.5], [1, 1]], rtol=0, atol=0)
    assert F.dtype == np.float64 and F.shape == (6, 2)


def test_probability_is_a_stable_sigmoid():
    X = np.array([[1000.0, -1000.0, 0.0, 2.0]])
    with np.errstate(over="raise", invalid="raise"):
        p = opt.probability(X, np.array([[1.0]]))
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.5, 1 / (1 + np.exp(-2.0))]], rtol=1e-12, atol=1e-300)


def test_compute_loss_from_logits_and_its_gradient():
    rng = np.random.default_rng(4)
    X, w = rng.normal(size=(6, 30)), rng.normal(size=(6, 1))
    y = (rng.random((1, 30)) < 0.5).astype(float)
    p = 1 / (1 + np.exp(-(w.T @ X)))
    assert opt.compute_loss(X, y, w) == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-12)
    assert isinstance(opt.compute_loss(X, y, w), float)
    eps, num = 1e-6, np.zeros_like(w)
    for i in range(6):
        e = np.zeros_like(w)
        e[i] = eps
        num[i] = (opt.compute_loss(X, y, w + e) - opt.compute_loss(X, y, w - e)) / (2 * eps)
    np.testing.assert_allclose(opt.compute_grad(X, y, w), num, rtol=1e-6, atol=1e-9)
    # confident predictions: exact, finite
    z, one = np.array([[1000.0, -1000.0]]), np.array([[1.0]])
    assert opt.compute_loss(z, np.array([[1.0, 0.0]]), one) == 0.0
    assert opt.compute_loss(z, np.array([[0.0, 1.0]]), one) == pytest.approx(1000.0)
    np.testing.assert_allclose(opt.compute_grad(z, np.array([[0.0, 1.0]]), one), [[1000.0]])


def test_student_side_network_of_05_agrees_with_the_reference():
    """utils.optim_network (03's building blocks offered to 05) computes what course.reference.dense does."""
    from course.reference import dense
    from utils import optim_network as net
    from utils.datasets import load_moons
    X, Y = load_moons()
    arch = [{"input_dim": 2, "output_dim": 5, "activation": "relu"},
            {"input_dim": 5, "output_dim": 2, "activation": "relu"},
            {"input_dim": 2, "output_dim": 1, "activation": "sigmoid"}]
    p, q = net.init_layers(arch, seed=3), dense.init_layers(arch, seed=3)
    assert p.keys() == q.keys() and all(np.array_equal(p[k], q[k]) for k in q)
    a, mem_a = net.full_forward_propagation(X, p, arch)
    b, mem_b = dense.full_forward_propagation(X, q, arch)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert net.get_cost_value(a, Y) == pytest.approx(dense.get_cost_value(b, Y), rel=1e-12)
    g, h = net.full_backward_propagation(a, Y, mem_a, p, arch), dense.full_backward_propagation(b, Y, mem_b, q, arch)
    assert g.keys() == h.keys()
    for k in h:
        np.testing.assert_allclose(g[k], h[k], rtol=1e-10, atol=1e-14)
    # nothing of 05 (or later) is offered on the student's side
    assert not {"random_mini_batches", "update_parameters_with_adam", "initialize_adam", "schedule_lr_decay",
                "update_parameters_with_gd", "expand", "compute_grad"} & set(vars(net))
