"""utils.testCases_v2 returns the canonical inputs: a correct shallow net reproduces the
canonical expected outputs of the deeplearning.ai "planar data classification" exercise."""
import json
from pathlib import Path

import numpy as np
import pytest

from utils import testCases_v2 as tc
from utils.planar_utils import sigmoid


# --- a plain reference shallow network (the canonical exercise's solution) -------------------
def _init(n_x, n_h, n_y):
    np.random.seed(2)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def _forward(X, p):
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def _cost(A2, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def _backward(p, c, X, Y):
    m = X.shape[1]
    dZ2 = c["A2"] - Y
    dZ1 = (p["W2"].T @ dZ2) * (1 - c["A1"] ** 2)
    return {
        "dW1": dZ1 @ X.T / m,
        "db1": dZ1.sum(axis=1, keepdims=True) / m,
        "dW2": dZ2 @ c["A1"].T / m,
        "db2": dZ2.sum(axis=1, keepdims=True) / m,
    }


def _update(p, g, lr=1.2):
    return {k: p[k] - lr * g["d" + k] for k in ("W1", "b1", "W2", "b2")}


def _nn_model(X, Y, n_h, num_iterations=10000):
    np.random.seed(3)
    p = _init(X.shape[0], n_h, Y.shape[0])
    for _ in range(num_iterations):
        A2, c = _forward(X, p)
        p = _update(p, _backward(p, c, X, Y))
    return p


# --- the test cases ---------------------------------------------------------------------------
def test_layer_sizes_test_case():
    X, Y = tc.layer_sizes_test_case()
    assert X.shape == (5, 3) and Y.shape == (2, 3)
    np.testing.assert_allclose(X[0], [1.62434536, -0.61175641, -0.52817175], rtol=1e-8)
    np.testing.assert_allclose(Y[0, 0], -1.09989127, rtol=1e-8)  # drawn after X, in order


def test_initialize_parameters_test_case():
    assert tc.initialize_parameters_test_case() == (2, 4, 1)
    p = _init(*tc.initialize_parameters_test_case())
    np.testing.assert_allclose(
        p["W1"], [[-0.00416758, -0.00056267], [-0.02136196, 0.01640271], [-0.01793436, -0.00841747], [0.00502881, -0.01245288]],
        atol=1e-8,
    )
    np.testing.assert_allclose(p["W2"], [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]], atol=1e-8)


def test_forward_propagation_test_case():
    X, p = tc.forward_propagation_test_case()
    assert X.shape == (2, 3)
    assert {k: v.shape for k, v in p.items()} == {"W1": (4, 2), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)}
    np.testing.assert_allclose(p["b1"].ravel(), [1.74481176, -0.7612069, 0.3190391, -0.24937038], atol=1e-8)
    assert p["b2"][0, 0] == -1.3
    _, c = _forward(X, p)
    means = [np.mean(c[k]) for k in ("Z1", "A1", "Z2", "A2")]
    np.testing.assert_allclose(means, [0.262818640198, 0.091999045227, -1.30766601287, 0.212877681719], rtol=1e-10)


def test_compute_cost_test_case():
    a2, Y, p = tc.compute_cost_test_case()
    assert Y.dtype == bool and Y.shape == (1, 3)
    np.testing.assert_array_equal(Y, [[True, False, False]])
    assert set(p) == {"W1", "b1", "W2", "b2"}
    assert _cost(a2, Y) == pytest.approx(0.693058761039, rel=1e-10)


def test_backward_propagation_test_case():
    p, c, X, Y = tc.backward_propagation_test_case()
    assert set(c) == {"Z1", "A1", "Z2", "A2"}
    np.testing.assert_array_equal(Y, [[True, False, True]])
    g = _backward(p, c, X, Y)
    np.testing.assert_allclose(
        g["dW1"], [[0.00301023, -0.00747267], [0.00257968, -0.00641288], [-0.00156892, 0.003893], [-0.00652037, 0.01618243]],
        atol=1e-8,
    )
    np.testing.assert_allclose(g["db1"], [[0.00176201], [0.00150995], [-0.00091736], [-0.00381422]], atol=1e-8)
    np.testing.assert_allclose(g["dW2"], [[0.00078841, 0.01765429, -0.00084166, -0.01022527]], atol=1e-8)
    np.testing.assert_allclose(g["db2"], [[-0.16655712]], atol=1e-8)


def test_update_parameters_test_case():
    p, g = tc.update_parameters_test_case()
    new = _update(p, g)
    np.testing.assert_allclose(
        new["W1"], [[-0.00643025, 0.01936718], [-0.02410458, 0.03978052], [-0.01653973, -0.02096177], [0.01046864, -0.05990141]],
        atol=1e-8,
    )
    np.testing.assert_allclose(
        new["b1"], [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07], [-3.20136836e-06]], rtol=1e-7
    )
    np.testing.assert_allclose(new["W2"], [[-0.01041081, -0.04463285, 0.01758031, 0.04747113]], atol=1e-8)
    np.testing.assert_allclose(new["b2"], [[0.00010457]], atol=1e-8)


def test_nn_model_test_case():
    X, Y = tc.nn_model_test_case()
    assert X.shape == (2, 3) and Y.dtype == bool
    p = _nn_model(X, Y, 4)
    np.testing.assert_allclose(
        p["W1"], [[-0.65848169, 1.21866811], [-0.76204273, 1.39377573], [0.5792005, -1.10397703], [0.76773391, -1.41477129]],
        atol=1e-7,
    )
    np.testing.assert_allclose(p["b1"], [[0.287592], [0.3511264], [-0.2431246], [-0.35772805]], atol=1e-7)
    np.testing.assert_allclose(p["W2"], [[-2.45566237, -3.27042274, 2.00784958, 3.36773273]], atol=1e-7)
    np.testing.assert_allclose(p["b2"], [[0.20459656]], atol=1e-7)


def test_predict_test_case():
    p, X = tc.predict_test_case()
    p_update, _ = tc.update_parameters_test_case()
    for k in p:
        np.testing.assert_array_equal(p[k], p_update[k])
    A2, _ = _forward(X, p)
    assert np.mean(A2 > 0.5) == pytest.approx(0.666666666667, abs=1e-12)


def test_every_call_returns_fresh_arrays():
    X, p = tc.forward_propagation_test_case()
    X += 1
    p["W1"][:] = 0
    X2, p2 = tc.forward_propagation_test_case()
    assert X2[0, 0] == pytest.approx(1.62434536)
    assert p2["W1"][0, 0] == pytest.approx(-0.00416758)


def test_star_import_gives_the_eight_helpers():
    ns = {}
    exec("from utils.testCases_v2 import *", ns)
    for name in tc.__all__:
        assert callable(ns[name])
    assert len(tc.__all__) == 8


def test_packaged_data_equals_shared_reference():
    shared = Path(__file__).resolve().parents[2] / "shared" / "reference" / "testcases_v2.json"
    if not shared.exists():
        pytest.skip("no ../shared/reference next to the repository")
    assert json.loads(tc.DATA_FILE.read_text()) == json.loads(shared.read_text())
