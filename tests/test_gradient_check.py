"""course.reference.gradient_check: flattening round trips, detection of right and wrong gradients."""
import numpy as np
import pytest

from course.reference.gradient_check import (dictionary_to_vector, gradient_check, gradients_to_vector,
                                  parameter_keys, vector_to_dictionary)


def params3():
    rng = np.random.default_rng(0)
    return {"b2": rng.standard_normal((1, 1)), "W1": rng.standard_normal((3, 2)),
            "W2": rng.standard_normal((1, 3)), "b1": rng.standard_normal((3, 1))}


def test_order_and_round_trip():
    p = params3()
    assert parameter_keys(p) == ["W1", "b1", "W2", "b2"]
    assert parameter_keys({"W10": 0, "W2": 0, "b10": 0, "b2": 0}) == ["W2", "b2", "W10", "b10"]
    theta, keys = dictionary_to_vector(p)
    assert theta.shape == (13, 1)
    assert keys == ["W1"] * 6 + ["b1"] * 3 + ["W2"] * 3 + ["b2"]
    assert np.array_equal(theta[:6, 0], p["W1"].ravel())
    back = vector_to_dictionary(theta, p)
    assert set(back) == set(p)
    for k in p:
        assert np.array_equal(back[k], p[k])
    back2 = vector_to_dictionary(theta.ravel(), {k: v.shape for k, v in p.items()})
    assert np.array_equal(back2["W2"], p["W2"])
    with pytest.raises(ValueError):
        vector_to_dictionary(theta[:-1], p)


def test_gradients_to_vector_aligned():
    p = params3()
    g = {"d" + k: v * 2 for k, v in p.items()}
    theta, _ = dictionary_to_vector(p)
    assert np.array_equal(gradients_to_vector(g, p), 2 * theta)
    assert np.array_equal(gradients_to_vector(g), 2 * theta)


def model_cost(p, X, Y):
    A1 = np.tanh(p["W1"] @ X + p["b1"])
    Z2 = p["W2"] @ A1 + p["b2"]
    return float(np.mean(0.5 * (Z2 - Y) ** 2)), (A1, Z2)


def model_grads(p, X, Y, bug=False):
    m = X.shape[1]
    _, (A1, Z2) = model_cost(p, X, Y)
    dZ2 = (Z2 - Y) / m
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (p["W2"].T @ dZ2) * (1 - A1 ** 2)
    if bug:
        dZ1 = (p["W2"].T @ dZ2) * (1 - A1)  # wrong derivative of tanh
    return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True), "dW2": dW2, "db2": db2}


def test_gradient_check_accepts_right_and_rejects_wrong():
    p = params3()
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((2, 5)), rng.standard_normal((1, 5))
    before = {k: v.copy() for k, v in p.items()}
    cost = lambda q: model_cost(q, X, Y)[0]
    good = gradient_check(p, model_grads(p, X, Y), cost)
    bad = gradient_check(p, model_grads(p, X, Y, bug=True), cost)
    assert good < 1e-7
    assert bad > 1e-3
    assert all(np.array_equal(p[k], before[k]) for k in p)


def test_gradient_check_prints(capsys):
    p = {"W1": np.array([[1.0, 2.0]])}
    cost = lambda q: float(np.sum(q["W1"] ** 2))
    assert gradient_check(p, {"dW1": 2 * p["W1"]}, cost, print_msg=True) < 1e-7
    assert "right" in capsys.readouterr().out
    assert gradient_check(p, {"dW1": 3 * p["W1"]}, cost, print_msg=True) > 0.1
    assert "mistake" in capsys.readouterr().out


def test_network_gradient_check_matches_the_generic_one():
    from course.reference import dense
    from course.reference.gradient_check import network_gradient_check
    arch = [{"input_dim": 2, "output_dim": 3, "activation": "tanh"}, {"input_dim": 3, "output_dim": 1, "activation": "sigmoid"}]
    p = dense.init_layers(arch, seed=1)
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((2, 5)), (rng.random((1, 5)) > 0.5).astype(float)
    Y_hat, memory = dense.full_forward_propagation(X, p, arch)
    grads = dense.full_backward_propagation(Y_hat, Y, memory, p, arch)
    cost = lambda q: dense.get_cost_value(dense.full_forward_propagation(X, q, arch)[0], Y)
    assert network_gradient_check(p, grads, X, Y, arch) == gradient_check(p, grads, cost) < 1e-7
    bad = dict(grads, db1=grads["db1"] * 5)
    assert network_gradient_check(p, bad, X, Y, arch, epsilon=1e-4) == gradient_check(p, bad, cost, epsilon=1e-4) > 1e-3


def test_student_helpers_agree_with_the_reference():
    """utils.backprop_helpers (the student's copy of the flattening helpers) flattens like the answer key."""
    from utils import backprop_helpers as student
    p = params3()
    theta, keys = dictionary_to_vector(p)
    s_theta, s_keys = student.dictionary_to_vector(p)
    assert np.array_equal(theta, s_theta) and keys == s_keys
    back = student.vector_to_dictionary(theta, p)
    assert all(np.array_equal(back[k], p[k]) for k in p)
    g = {"d" + k: v * 3 for k, v in p.items()}
    assert np.array_equal(student.gradients_to_vector(g, p), gradients_to_vector(g, p))
    with pytest.raises(ValueError):
        student.vector_to_dictionary(theta[:-1], p)
    assert not hasattr(student, "gradient_check") and not hasattr(student, "numerical_gradient_vector")
