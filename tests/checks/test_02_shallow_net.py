"""02_shallow_net's grader-side checks: the reference and honest alternatives pass, realistic bugs fail.

Also: the reference reproduces the canonical deeplearning.ai expected outputs of the test cases.
"""
import warnings

import numpy as np
import pytest

from course.reference import shallow_net as ref
from tests.checks.harness import checks_of, failed, module_namespace, verdicts
from utils import testCases_v2 as tc
from utils.planar_utils import sigmoid

ASG = "02_shallow_net"
NN_MODEL_DEPS = ("layer_sizes", "initialize_parameters", "forward_propagation", "compute_cost",
                 "backward_propagation", "update_parameters")


def reference():
    return module_namespace(ref)


def with_(**fns):
    """The reference namespace with some functions replaced; ``nn_model`` and ``predict`` then call
    the replacements, as a notebook's functions call each other."""
    ns = {**reference(), **fns}
    ns["nn_model"] = fns.get("nn_model") or make_nn_model(ns)
    ns["predict"] = fns.get("predict") or make_predict(ns)
    return ns


def make_nn_model(ns):
    def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
        n_x, _, n_y = ns["layer_sizes"](X, Y)
        parameters = ns["initialize_parameters"](n_x, n_h, n_y)
        for i in range(num_iterations):
            A2, cache = ns["forward_propagation"](X, parameters)
            cost = ns["compute_cost"](A2, Y, parameters)
            grads = ns["backward_propagation"](parameters, cache, X, Y)
            parameters = ns["update_parameters"](parameters, grads)
            if print_cost and i % 1000 == 0:
                print(f"Cost after iteration {i}: {cost:.6f}")
        return parameters
    return nn_model


def make_predict(ns):
    def predict(parameters, X):
        A2, _ = ns["forward_propagation"](X, parameters)
        return (A2 > 0.5).astype(int)
    return predict


# --- the reference is the canonical solution ----------------------------------------------------
def test_reference_reproduces_the_canonical_expected_outputs():
    assert ref.layer_sizes(*tc.layer_sizes_test_case()) == (5, 4, 2)
    p = ref.initialize_parameters(*tc.initialize_parameters_test_case())
    np.testing.assert_allclose(p["W2"], [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]], atol=1e-8)
    _, cache = ref.forward_propagation(*tc.forward_propagation_test_case())
    np.testing.assert_allclose([np.mean(cache[k]) for k in ("Z1", "A1", "Z2", "A2")],
                               [0.262818640198, 0.091999045227, -1.30766601287, 0.212877681719], rtol=1e-10)
    A2, Y, _ = tc.compute_cost_test_case()
    assert ref.compute_cost(A2, Y) == pytest.approx(0.693058761039, rel=1e-10)
    g = ref.backward_propagation(*tc.backward_propagation_test_case())
    np.testing.assert_allclose(g["db1"], [[0.00176201], [0.00150995], [-0.00091736], [-0.00381422]], atol=1e-8)
    np.testing.assert_allclose(g["db2"], [[-0.16655712]], atol=1e-8)
    new = ref.update_parameters(*tc.update_parameters_test_case())
    np.testing.assert_allclose(new["b1"], [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07], [-3.20136836e-06]],
                               rtol=1e-7)
    parameters, costs = ref.nn_model_with_costs(*tc.nn_model_test_case(), 4, 10000)
    np.testing.assert_allclose(parameters["W2"], [[-2.45566237, -3.27042274, 2.00784958, 3.36773273]], atol=1e-7)
    assert costs[0] == pytest.approx(0.692739, abs=1e-6) and costs[9000] == pytest.approx(0.000023, abs=1e-6)
    assert np.mean(ref.predict(*tc.predict_test_case())) == pytest.approx(2 / 3, abs=1e-12)


def test_reference_prints_the_costs(capsys):
    ref.nn_model(*tc.nn_model_test_case(), 4, num_iterations=2001, print_cost=True)
    assert capsys.readouterr().out.splitlines() == [
        "Cost after iteration 0: 0.692739", "Cost after iteration 1000: 0.000218",
        "Cost after iteration 2000: 0.000107"]


def test_reference_leaves_its_arguments_unchanged():
    parameters, cache, X, Y = tc.backward_propagation_test_case()
    copies = [{k: v.copy() for k, v in parameters.items()}, {k: v.copy() for k, v in cache.items()}, X.copy()]
    ref.forward_propagation(X, parameters)
    ref.compute_cost(cache["A2"], Y)
    grads = ref.backward_propagation(parameters, cache, X, Y)
    ref.update_parameters(parameters, grads)
    ref.predict(parameters, X)
    for k in parameters:
        np.testing.assert_array_equal(parameters[k], copies[0][k])
    for k in cache:
        np.testing.assert_array_equal(cache[k], copies[1][k])
    np.testing.assert_array_equal(X, copies[2])


# --- the checks ---------------------------------------------------------------------------------


def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def test_notebook_style_composition_passes_everything():
    assert failed(ASG, with_()) == []


# honest alternatives ----------------------------------------------------------------------------
def list_layer_sizes(X, Y):
    return [np.shape(X)[0], 4, np.shape(Y)[0]]


def loop_forward(X, parameters):
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    Z1, Z2 = np.zeros((W1.shape[0], m)), np.zeros((W2.shape[0], m))
    for i in range(m):  # one example at a time
        Z1[:, i] = W1 @ X[:, i] + b1[:, 0]
    A1 = np.tanh(Z1)
    for i in range(m):
        Z2[:, i] = W2 @ A1[:, i] + b2[:, 0]
    with np.errstate(over="ignore"):
        A2 = 1 / (1 + np.exp(-Z2))  # the textbook formula: overflows harmlessly to 0 or 1
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def dot_cost(A2, Y, parameters=None):
    m = Y.shape[1]
    A2 = np.clip(A2, 1e-12, 1 - 1e-12)
    Y = Y.astype(float)
    logprobs = np.dot(Y, np.log(A2).T) + np.dot(1 - Y, np.log(1 - A2).T)
    print("cost computed")
    return (-logprobs / m).item()


def canonical_cost(A2, Y, parameters=None):
    m = Y.shape[1]
    A2 = np.clip(A2, 1e-15, 1 - 1e-15)
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y.astype(int))
    return float(np.squeeze(-np.sum(logprobs) / m))


def chatty_backward(parameters, cache, X, Y):
    warnings.warn("computing gradients")
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = np.einsum("im,jm->ij", dZ2, cache["A1"]) / m
    db2 = np.mean(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(parameters["W2"].T @ dZ2, 1 - np.power(cache["A1"], 2))
    dW1 = np.einsum("im,jm->ij", dZ1, X) / m
    db1 = dZ1.mean(axis=1).reshape(-1, 1)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def loop_backward(parameters, cache, X, Y):
    m = X.shape[1]
    grads = {"d" + k: np.zeros_like(parameters[k], dtype=float) for k in ("W1", "b1", "W2", "b2")}
    for i in range(m):  # one example at a time, then the average
        x, a1 = X[:, i:i + 1], cache["A1"][:, i:i + 1]
        dz2 = cache["A2"][:, i:i + 1] - float(Y[0, i])
        dz1 = parameters["W2"].T @ dz2 * (1 - a1 * a1)
        grads["dW2"] += dz2 @ a1.T / m
        grads["db2"] += dz2 / m
        grads["dW1"] += dz1 @ x.T / m
        grads["db1"] += dz1 / m
    return grads


def inplace_update(parameters, grads, learning_rate=1.2):
    for k in ("W1", "b1", "W2", "b2"):
        parameters[k] -= learning_rate * grads["d" + k]
    return parameters


def bool_predict(parameters, X):
    A2, _ = ref.forward_propagation(X, parameters)
    return A2 > 0.5


def round_predict(parameters, X):
    A2, _ = ref.forward_propagation(X, parameters)
    return np.round(A2)  # rounds half to even: 0.5 -> 0


def tqdm_nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    from tqdm.auto import tqdm
    np.random.seed(3)
    n_x, _, n_y = ref.layer_sizes(X, Y)
    parameters = ref.initialize_parameters(n_x, n_h, n_y)
    for i in tqdm(range(num_iterations), disable=not print_cost):
        A2, cache = ref.forward_propagation(X, parameters)
        grads = ref.backward_propagation(parameters, cache, X, Y)
        parameters = inplace_update(parameters, grads)
        if print_cost and i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, ref.compute_cost(A2, Y)))
    return parameters


ALTERNATIVES = [
    ("layer_sizes", list_layer_sizes),
    ("forward_propagation", loop_forward),
    ("compute_cost", dot_cost),
    ("compute_cost", canonical_cost),
    ("backward_propagation", chatty_backward),
    ("backward_propagation", loop_backward),
    ("update_parameters", inplace_update),
    ("predict", bool_predict),
    ("predict", round_predict),
    ("nn_model", tqdm_nn_model),
]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("name, fn", ALTERNATIVES, ids=[f"{a[0]}-{i}" for i, a in enumerate(ALTERNATIVES)])
def test_honest_alternatives_pass(name, fn):
    assert failed(ASG, with_(**{name: fn})) == []


# realistic bugs ----------------------------------------------------------------------------------
def bug_hidden_size_from_data(X, Y):
    return (X.shape[0], X.shape[1], Y.shape[0])


def bug_init_same_draws(n_x, n_h, n_y):
    np.random.seed(2)
    W2 = np.random.randn(n_y, n_h) * 0.01  # W2 drawn first
    W1 = np.random.randn(n_h, n_x) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def bug_init_rand(n_x, n_h, n_y):
    np.random.seed(2)
    return {"W1": np.random.rand(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.rand(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def bug_init_no_seed(n_x, n_h, n_y):
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward_with(act1=np.tanh, act2=sigmoid):
    def forward(X, p):
        Z1 = p["W1"] @ X + p["b1"]
        A1 = act1(Z1)
        Z2 = p["W2"] @ A1 + p["b2"]
        A2 = act2(Z2)
        return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return forward


def bug_forward_cache_swapped(X, p):
    A2, cache = ref.forward_propagation(X, p)
    return A2, {**cache, "Z1": cache["A1"], "A1": cache["Z1"]}


def bug_forward_keeps_cache_in_parameters(X, p):
    A2, cache = ref.forward_propagation(X, p)
    p.update(cache)  # modifies the caller's parameters
    return A2, cache


def bug_cost_no_clip(A2, Y, parameters=None):
    m = Y.shape[1]
    Y = Y.astype(float)
    with np.errstate(all="ignore"):
        return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def bug_cost_no_mean(A2, Y, parameters=None):
    A2, Y = np.clip(A2, 1e-15, 1 - 1e-15), Y.astype(float)
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)))


def bug_cost_array(A2, Y, parameters=None):
    A2, Y = np.clip(A2, 1e-15, 1 - 1e-15), Y.astype(float)
    return -(np.dot(Y, np.log(A2).T) + np.dot(1 - Y, np.log(1 - A2).T)) / Y.shape[1]  # a (1, 1) array


def bug_cost_inplace_clip(A2, Y, parameters=None):
    np.clip(A2, 1e-15, 1 - 1e-15, out=A2)
    return ref.compute_cost(A2, Y)


def backward_with(dtanh=lambda A1, Z1: 1 - A1 ** 2, scale_db=True, axis=1, keepdims=True, scale_dW=True):
    def backward(parameters, cache, X, Y):
        m = X.shape[1]
        dZ2 = cache["A2"] - Y
        dZ1 = (parameters["W2"].T @ dZ2) * dtanh(cache["A1"], cache["Z1"])
        n = m if scale_dW else 1
        k = m if scale_db else 1
        return {"dW1": dZ1 @ X.T / n, "db1": np.sum(dZ1, axis=axis, keepdims=keepdims) / k,
                "dW2": dZ2 @ cache["A1"].T / n, "db2": np.sum(dZ2, axis=axis, keepdims=keepdims) / k}
    return backward


def bug_update_plus(parameters, grads, learning_rate=1.2):
    return {k: parameters[k] + learning_rate * grads["d" + k] for k in ("W1", "b1", "W2", "b2")}


def bug_update_fixed_rate(parameters, grads, learning_rate=1.2):
    return ref.update_parameters(parameters, grads, 1.2)


def bug_update_bias_forgotten(parameters, grads, learning_rate=1.2):
    new = ref.update_parameters(parameters, grads, learning_rate)
    return {**new, "b1": parameters["b1"]}


def bug_nn_model_fixed_hidden(X, Y, n_h, num_iterations=10000, print_cost=False):
    return ref.nn_model(X, Y, 4, num_iterations)


def bug_nn_model_no_reassign(X, Y, n_h, num_iterations=10000, print_cost=False):
    parameters = ref.initialize_parameters(X.shape[0], n_h, Y.shape[0])
    for _ in range(num_iterations):
        A2, cache = ref.forward_propagation(X, parameters)
        grads = ref.backward_propagation(parameters, cache, X, Y)
        ref.update_parameters(parameters, grads)  # the new parameters are thrown away
    return parameters


def bug_nn_model_lr(X, Y, n_h, num_iterations=10000, print_cost=False):
    parameters = ref.initialize_parameters(X.shape[0], n_h, Y.shape[0])
    for _ in range(num_iterations):
        A2, cache = ref.forward_propagation(X, parameters)
        parameters = ref.update_parameters(parameters, ref.backward_propagation(parameters, cache, X, Y), 0.5)
    return parameters


def bug_nn_model_one_less(X, Y, n_h, num_iterations=10000, print_cost=False):
    return ref.nn_model(X, Y, n_h, num_iterations - 1)


def bug_predict_ge(parameters, X):
    A2, _ = ref.forward_propagation(X, parameters)
    return (A2 >= 0.5).astype(int)


def bug_predict_probabilities(parameters, X):
    return ref.forward_propagation(X, parameters)[0]


def bug_predict_z(parameters, X):
    _, cache = ref.forward_propagation(X, parameters)
    return (cache["Z2"] > 0.5).astype(int)


def bug_predict_flat(parameters, X):
    return ref.predict(parameters, X).ravel()


MUTANTS = [
    ("layer_sizes", bug_hidden_size_from_data, "test_layer_sizes"),
    ("layer_sizes", lambda X, Y: (X.shape[1], 4, Y.shape[1]), "test_layer_sizes"),
    ("initialize_parameters", bug_init_same_draws, "test_initialize_parameters"),
    ("initialize_parameters", bug_init_rand, "test_initialize_parameters"),
    ("initialize_parameters", bug_init_no_seed, "test_initialize_parameters"),
    ("forward_propagation", forward_with(act1=lambda z: np.maximum(z, 0)), "test_forward_propagation"),
    ("forward_propagation", forward_with(act2=np.tanh), "test_forward_propagation"),
    ("forward_propagation", bug_forward_cache_swapped, "test_forward_propagation"),
    ("forward_propagation", bug_forward_keeps_cache_in_parameters, "test_forward_propagation"),
    ("compute_cost", bug_cost_no_clip, "test_compute_cost"),
    ("compute_cost", bug_cost_no_mean, "test_compute_cost"),
    ("compute_cost", bug_cost_array, "test_compute_cost"),
    ("compute_cost", bug_cost_inplace_clip, "test_compute_cost"),
    ("backward_propagation", backward_with(dtanh=lambda A1, Z1: 1 - A1), "test_backward_propagation"),
    ("backward_propagation", backward_with(dtanh=lambda A1, Z1: 1 - np.tanh(A1) ** 2), "test_backward_propagation"),
    ("backward_propagation", backward_with(dtanh=lambda A1, Z1: 1 - Z1 ** 2), "test_backward_propagation"),
    ("backward_propagation", backward_with(scale_db=False), "test_backward_propagation"),
    ("backward_propagation", backward_with(scale_dW=False), "test_backward_propagation"),
    ("backward_propagation", backward_with(axis=0), "test_backward_propagation"),
    ("backward_propagation", backward_with(keepdims=False), "test_backward_propagation"),
    ("update_parameters", bug_update_plus, "test_update_parameters"),
    ("update_parameters", bug_update_fixed_rate, "test_update_parameters"),
    ("update_parameters", bug_update_bias_forgotten, "test_update_parameters"),
    ("nn_model", bug_nn_model_fixed_hidden, "test_nn_model"),
    ("nn_model", bug_nn_model_no_reassign, "test_nn_model"),
    ("nn_model", bug_nn_model_lr, "test_nn_model"),
    ("nn_model", bug_nn_model_one_less, "test_nn_model"),
    ("predict", bug_predict_ge, "test_predict"),
    ("predict", bug_predict_probabilities, "test_predict"),
    ("predict", bug_predict_z, "test_predict"),
    ("predict", bug_predict_flat, "test_predict"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grade_id in failed(ASG, with_(**{name: fn}), only=[grade_id])


def test_a_buggy_building_block_fails_nn_model_with_a_hint():
    v = verdicts(ASG, with_(backward_propagation=backward_with(dtanh=lambda A1, Z1: 1 - A1)),
                 only=["test_backward_propagation", "test_nn_model"])
    assert not v["test_nn_model"].passed
    assert "fix test_backward_propagation first" in v["test_nn_model"].message


def test_a_buggy_forward_pass_fails_predict_with_a_hint():
    v = verdicts(ASG, with_(forward_propagation=forward_with(act2=np.tanh)),
                 only=["test_forward_propagation", "test_predict"])
    assert not v["test_predict"].passed and "fix test_forward_propagation first" in v["test_predict"].message


def test_the_checks_give_the_global_generator_back():
    np.random.seed(123)
    want = np.random.get_state()[1].copy()
    np.random.seed(123)
    checks_of(ASG).compute_expected()
    verdicts(ASG, with_(), only=["test_layer_sizes", "test_initialize_parameters", "test_predict"])
    np.testing.assert_array_equal(np.random.get_state()[1], want)
