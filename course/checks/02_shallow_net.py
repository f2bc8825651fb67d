"""Grader-side tests of 02_shallow_net: random shapes, edge cases, finite differences, inputs kept.

Each test calls the student's function in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.shallow_net`` (the canonical deeplearning.ai API). The visible
tests' inputs are the canonical test cases of ``utils.testCases_v2``; their expected values come
from the ``expected`` functions below (written to ``expected.json`` by ``course build``).
"""
import functools

import numpy as np

from course.checks import (Checks, check_close, check_equal, check_finite, check_gradient, check_shape,
                           check_type, numerical_gradient)
from course.reference import shallow_net as ref
from utils import testCases_v2 as tc
from utils.planar_utils import load_planar_dataset

checks = Checks("02_shallow_net")
KEYS = ref.KEYS
GRAD_KEYS = tuple("d" + k for k in KEYS)
NN_MODEL_VISIBLE_ITERATIONS = 10000  # the visible test of nn_model trains this long
NN_MODEL_PRINT_EVERY = 1000


def keeps_global_rng(fn):
    """The test cases, the flower and the canonical initialisation seed NumPy's global generator:
    give the grader's process its state back afterwards."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        state = np.random.get_state()
        try:
            return fn(*args, **kwargs)
        finally:
            np.random.set_state(state)
    return wrapper


# --- visible expected values -------------------------------------------------------------------
@checks.expected("layer_sizes")
@keeps_global_rng
def _():
    return list(ref.layer_sizes(*tc.layer_sizes_test_case()))


@checks.expected("initialize_parameters")
@keeps_global_rng
def _():
    return ref.initialize_parameters(*tc.initialize_parameters_test_case())


@checks.expected("forward_propagation")
@keeps_global_rng
def _():
    X, parameters = tc.forward_propagation_test_case()
    _, cache = ref.forward_propagation(X, parameters)
    return {"means": np.array([np.mean(cache[k]) for k in ("Z1", "A1", "Z2", "A2")]),
            "A2": cache["A2"]}


@checks.expected("compute_cost")
@keeps_global_rng
def _():
    A2, Y, parameters = tc.compute_cost_test_case()
    return {"test_case": ref.compute_cost(A2, Y, parameters),
            "confident": ref.compute_cost(np.array([[1.0, 0.0]]), np.array([[1, 0]]))}


@checks.expected("backward_propagation")
@keeps_global_rng
def _():
    return ref.backward_propagation(*tc.backward_propagation_test_case())


@checks.expected("update_parameters")
@keeps_global_rng
def _():
    return ref.update_parameters(*tc.update_parameters_test_case())


@checks.expected("nn_model")
@keeps_global_rng
def _():
    X, Y = tc.nn_model_test_case()
    parameters, costs = ref.nn_model_with_costs(X, Y, 4, NN_MODEL_VISIBLE_ITERATIONS, NN_MODEL_PRINT_EVERY)
    return {"parameters": parameters, "costs": [costs[i] for i in sorted(costs)]}


@checks.expected("predict")
@keeps_global_rng
def _():
    parameters, X = tc.predict_test_case()
    predictions = ref.predict(parameters, X)
    return {"predictions": predictions, "mean": float(np.mean(predictions))}


# --- helpers -----------------------------------------------------------------------------------
def random_parameters(rng, n_x, n_h, n_y, scale=1.0, bias_scale=1.0):
    return {"W1": rng.normal(scale=scale, size=(n_h, n_x)), "b1": rng.normal(scale=bias_scale, size=(n_h, 1)),
            "W2": rng.normal(scale=scale, size=(n_y, n_h)), "b2": rng.normal(scale=bias_scale, size=(n_y, 1))}


def check_dict(got, want, name, keys, rtol=1e-7, atol=1e-10, where=""):
    """``got`` is a dict with ``keys``, each close to ``want[key]``."""
    if not isinstance(got, dict):
        raise AssertionError(f"{name} should return a dict with keys {', '.join(keys)}, got {type(got).__name__}.")
    missing = [k for k in keys if k not in got]
    if missing:
        raise AssertionError(f"{name} returned a dict without the key(s) {', '.join(missing)}.")
    for k in keys:
        check_close(got[k], want[k], f"{k}{where}", rtol=rtol, atol=atol)


def unpack_forward(result, where):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError(f"forward_propagation{where} should return the pair (A2, cache).")
    A2, cache = result
    if not isinstance(cache, dict):
        raise AssertionError(f"forward_propagation{where} should return a dict as cache, got {type(cache).__name__}.")
    return A2, cache


def sizes_text(**sizes):
    return ", ".join(f"{k} = {v}" for k, v in sizes.items())


# --- tests -------------------------------------------------------------------------------------
@checks.test("test_layer_sizes")
@keeps_global_rng
def _(student, rng):
    X, Y = tc.layer_sizes_test_case()
    got = student.layer_sizes.pure(X, Y)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise AssertionError(f"layer_sizes should return a tuple (n_x, n_h, n_y), got {got!r}.")
    check_equal(tuple(int(v) for v in got), ref.layer_sizes(X, Y), "layer_sizes(X_assess, Y_assess)")
    for _ in range(5):
        n_x, n_y, m = (int(v) for v in rng.integers(1, 12, size=3))
        X, Y = rng.normal(size=(n_x, m)), rng.integers(0, 2, size=(n_y, m))
        got = student.layer_sizes(X, Y)
        check_equal(tuple(int(v) for v in got), ref.layer_sizes(X, Y), f"layer_sizes on X {(n_x, m)} and Y {(n_y, m)}")


@checks.test("test_initialize_parameters")
@keeps_global_rng
def _(student, rng):
    sizes = [tuple(int(v) for v in tc.initialize_parameters_test_case())]
    sizes += [tuple(int(v) for v in rng.integers(1, 30, size=3)) for _ in range(4)]
    for n_x, n_h, n_y in sizes:
        got = student.initialize_parameters(n_x, n_h, n_y)
        check_dict(got, ref.initialize_parameters(n_x, n_h, n_y), "initialize_parameters", KEYS,
                   rtol=1e-12, atol=0, where=f" for {sizes_text(n_x=n_x, n_h=n_h, n_y=n_y)}")
    W1 = np.asarray(student.initialize_parameters(300, 200, 3)["W1"])
    if not 0.009 < float(np.std(W1)) < 0.011:
        raise AssertionError(f"W1 has standard deviation {np.std(W1):.4g}: it should be standard normal values "
                             "(np.random.randn) times 0.01.")
    if len(np.unique(W1)) != W1.size:
        raise AssertionError("the weights of W1 should all differ, to break the symmetry between hidden units.")


@checks.test("test_forward_propagation")
@keeps_global_rng
def _(student, rng):
    X, parameters = tc.forward_propagation_test_case()
    A2, cache = unpack_forward(student.forward_propagation.pure(X, parameters), " on the test case")
    _, want = ref.forward_propagation(X, parameters)
    check_close(A2, want["A2"], "A2 on the test case", rtol=1e-9)
    check_dict(cache, want, "forward_propagation", ("Z1", "A1", "Z2", "A2"), rtol=1e-9, atol=1e-12,
               where=' (cache) on the test case')
    for _ in range(4):
        n_x, n_h, n_y, m = (int(v) for v in rng.integers(1, 15, size=4))
        X = rng.normal(size=(n_x, m))
        parameters = random_parameters(rng, n_x, n_h, n_y)
        where = f" for {sizes_text(n_x=n_x, n_h=n_h, n_y=n_y, m=m)}"
        A2, cache = unpack_forward(student.forward_propagation.pure(X, parameters), where)
        _, want = ref.forward_propagation(X, parameters)
        check_close(A2, want["A2"], "A2" + where, rtol=1e-9, atol=1e-12)
        check_dict(cache, want, "forward_propagation", ("Z1", "A1", "Z2", "A2"), rtol=1e-9, atol=1e-12,
                   where=" (cache)" + where)
    # a very confident network: Z2 = +-1000, the output must stay finite and in [0, 1]
    parameters = {"W1": np.eye(2), "b1": np.zeros((2, 1)), "W2": np.array([[1000.0, 0.0]]), "b2": np.zeros((1, 1))}
    A2, _ = unpack_forward(student.forward_propagation(np.array([[50.0, -50.0], [0.0, 0.0]]), parameters),
                           " for Z2 = +-1000")
    check_finite(A2, "A2 for Z2 = +-1000")
    check_close(A2, [[1.0, 0.0]], "A2 for Z2 = +-1000")


@checks.test("test_compute_cost")
@keeps_global_rng
def _(student, rng):
    A2, Y, parameters = tc.compute_cost_test_case()
    cost = student.compute_cost.pure(A2, Y, parameters)
    check_type(cost, float, "the cost of the test case")
    check_close(cost, ref.compute_cost(A2, Y), "the cost of the test case", rtol=1e-9)
    perfect = student.compute_cost.pure(np.array([[1.0, 0.0]]), np.array([[1, 0]]))
    check_finite(perfect, "the cost of A2 = [[1, 0]] with Y = [[1, 0]]")
    check_close(perfect, 0.0, "the cost of a perfect, fully confident prediction", atol=1e-6)
    for m in (1, 7, 50):
        A2 = rng.uniform(0.01, 0.99, size=(1, m))
        Y = rng.integers(0, 2, size=(1, m))
        want = ref.compute_cost(A2, Y)
        for labels in (Y, Y.astype(float), Y.astype(bool)):
            name = f"the cost for m = {m} and labels of dtype {labels.dtype}"
            cost = student.compute_cost.pure(A2, labels, None)
            check_type(cost, float, name)
            check_close(cost, want, name, rtol=1e-9)
    wrong = student.compute_cost(np.array([[0.0, 1.0]]), np.array([[1, 0]]))
    check_finite(wrong, "the cost of a confidently wrong prediction (A2 = [[0, 1]], Y = [[1, 0]])")
    if not float(wrong) > 10:
        raise AssertionError(f"a confidently wrong prediction should cost a lot (more than 10), "
                             f"got {float(wrong):.4g}.")


def ref_cost_of(X, Y, parameters):
    A2, _ = ref.forward_propagation(X, parameters)
    return ref.compute_cost(A2, Y)


@checks.test("test_backward_propagation")
@keeps_global_rng
def _(student, rng):
    parameters, cache, X, Y = tc.backward_propagation_test_case()
    grads = student.backward_propagation.pure(parameters, cache, X, Y)
    check_dict(grads, ref.backward_propagation(parameters, cache, X, Y), "backward_propagation", GRAD_KEYS,
               rtol=1e-7, atol=1e-12, where=" on the test case")
    for _ in range(3):
        n_x, n_h, m = (int(v) for v in rng.integers(1, 8, size=3))
        X = rng.normal(size=(n_x, m))
        Y = rng.integers(0, 2, size=(1, m))
        parameters = random_parameters(rng, n_x, n_h, 1, scale=0.7, bias_scale=0.5)
        _, cache = ref.forward_propagation(X, parameters)
        where = f" for {sizes_text(n_x=n_x, n_h=n_h, m=m)}"
        grads = student.backward_propagation.pure(parameters, cache, X, Y)
        check_dict(grads, ref.backward_propagation(parameters, cache, X, Y), "backward_propagation",
                   GRAD_KEYS, rtol=1e-7, atol=1e-12, where=where)
        for k in KEYS:
            num = numerical_gradient(lambda: ref_cost_of(X, Y, parameters), parameters[k])
            check_gradient(grads["d" + k], num, f"d{k}{where}", tol=1e-6)
        # boolean labels (as in the test cases) give the same gradients
        boolean = student.backward_propagation(parameters, cache, X, Y.astype(bool))
        check_dict(boolean, grads, "backward_propagation", GRAD_KEYS, rtol=1e-12, atol=1e-15,
                   where=f" with boolean labels{where}")


@checks.test("test_update_parameters")
@keeps_global_rng
def _(student, rng):
    parameters, grads = tc.update_parameters_test_case()
    check_dict(student.update_parameters(parameters, grads), ref.update_parameters(parameters, grads),
               "update_parameters", KEYS, rtol=1e-12, atol=1e-15, where=" on the test case")
    shapes = {"W1": (5, 3), "b1": (5, 1), "W2": (2, 5), "b2": (2, 1)}
    parameters = {k: rng.normal(size=s) for k, s in shapes.items()}
    grads = {"d" + k: rng.normal(size=s) for k, s in shapes.items()}
    for lr in (0.01, 1.2, 3.0):
        check_dict(student.update_parameters(parameters, grads, learning_rate=lr),
                   ref.update_parameters(parameters, grads, lr), "update_parameters", KEYS,
                   rtol=1e-12, atol=1e-15, where=f" with learning_rate = {lr}")
    check_dict(student.update_parameters(parameters, grads, 0.3), ref.update_parameters(parameters, grads, 0.3),
               "update_parameters", KEYS, rtol=1e-12, atol=1e-15, where=" with learning rate 0.3 (third argument)")
    check_dict(student.update_parameters(parameters, grads), ref.update_parameters(parameters, grads),
               "update_parameters", KEYS, rtol=1e-12, atol=1e-15, where=" with the default learning rate (1.2)")


@checks.test("test_nn_model", needs=["test_layer_sizes", "test_initialize_parameters", "test_forward_propagation",
                                     "test_compute_cost", "test_backward_propagation", "test_update_parameters"])
@keeps_global_rng
def _(student, rng):
    X, Y = tc.nn_model_test_case()
    got = student.nn_model.pure(X, Y, 4, num_iterations=1000)
    check_dict(got, ref.nn_model(X, Y, 4, 1000), "nn_model", KEYS, rtol=1e-6, atol=1e-9,
               where=" after 1000 iterations on the test case")
    for n_x, n_h, m, iters in ((3, 2, 7, 60), (1, 5, 12, 25)):
        X = rng.normal(size=(n_x, m))
        Y = rng.integers(0, 2, size=(1, m))
        got = student.nn_model(X, Y, n_h, num_iterations=iters)
        check_dict(got, ref.nn_model(X, Y, n_h, iters), "nn_model", KEYS, rtol=1e-7, atol=1e-10,
                   where=f" after {iters} iterations with {sizes_text(n_x=n_x, n_h=n_h, m=m)}")
    # the flower: 4 hidden units learn the petals (about 90 % after 2000 steps already)
    X, Y = load_planar_dataset()
    got = student.nn_model(X, Y, 4, 2000)
    if not isinstance(got, dict):
        raise AssertionError(f"nn_model should return a dict of parameters, got {type(got).__name__}.")
    for k, shape in (("W1", (4, 2)), ("b1", (4, 1)), ("W2", (1, 4)), ("b2", (1, 1))):
        check_shape(got.get(k), shape, f"{k} trained on the flower")
    accuracy = float(np.mean(ref.predict(got, X) == Y))
    if accuracy < 0.88:
        raise AssertionError(f"after 2000 iterations on the flower with 4 hidden units, the network classifies "
                             f"{accuracy:.1%} of the points right; expected about 90 %.")


@checks.test("test_predict", needs=["test_forward_propagation"])
@keeps_global_rng
def _(student, rng):
    parameters, X = tc.predict_test_case()
    got = student.predict.pure(parameters, X)
    check_shape(got, (1, X.shape[1]), "predictions on the test case")
    check_close(np.asarray(got, dtype=float), ref.predict(parameters, X), "predictions on the test case")
    for _ in range(4):
        n_x, n_h, m = (int(v) for v in rng.integers(1, 20, size=3))
        X = rng.normal(size=(n_x, m))
        parameters = random_parameters(rng, n_x, n_h, 1)
        got = student.predict.pure(parameters, X)
        check_shape(got, (1, m), f"predictions for m = {m}")
        check_close(np.asarray(got, dtype=float), ref.predict(parameters, X), f"predictions for m = {m}")
    # an output of exactly 0.5 is not "more than 0.5": class 0
    parameters = {"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)), "W2": np.zeros((1, 3)), "b2": np.zeros((1, 1))}
    got = student.predict(parameters, np.ones((2, 4)))
    check_shape(got, (1, 4), "predictions when A2 = 0.5")
    check_close(np.asarray(got, dtype=float), np.zeros((1, 4)),
                "predictions when A2 = 0.5 (not more than 0.5: class 0)")
