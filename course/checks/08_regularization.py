"""Grader-side tests of 08_regularization: shapes and statistics of the initialisers, the L2 cost
and gradients, inverted dropout (masks' statistics, consistency of the forward pass with its own
masks, a backward pass that reuses given masks), batch normalisation against finite differences.

Each test calls the student's function in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.regularization``. Randomness is handled without assuming how the
student draws numbers: the initialisers are judged by shapes and statistics on large layers, the
dropout forward pass by its masks' statistics and by agreement with the reference run on the same
masks (taken from the student's cache), the dropout backward pass on a cache the grader builds.
The visible tests' expected values come from the ``expected`` functions below.

Tolerances accept float32 arithmetic (relative 1e-5 on values, 1e-4 on gradients).
"""
import numpy as np

from course.checks import Checks, check_close, check_finite, check_gradient, check_shape, numerical_gradient
from course.reference import regularization as ref

checks = Checks("08_regularization")
VAL = {"rtol": 1e-5, "atol": 1e-7}
GRAD = {"rtol": 1e-4, "atol": 1e-6}
BN = {"rtol": 1e-4, "atol": 1e-5}    # batch norm: standardised values of order 1, float32 allowed
GRAD_KEYS = ("dW1", "db1", "dW2", "db2", "dW3", "db3")


def test_network(seed, dims=(3, 4, 3, 1), m=5):
    """The notebook's locked ``test_network`` (the same code: it makes the visible inputs)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.normal(size=(dims[l], 1)) * 0.1
    X = rng.normal(size=(dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    return X, Y, params


def bn_forward_inputs():
    """The visible batchnorm_forward test's inputs."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 3)) * np.array([1.0, 5.0, 0.2]) + np.array([2.0, -3.0, 0.0])
    return x, np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])


def bn_backward_inputs():
    """The visible batchnorm_backward test's inputs."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(5, 4)) * 2 + 1
    gamma = rng.normal(size=4)
    beta = rng.normal(size=4)
    dout = rng.normal(size=(5, 4))
    return x, gamma, beta, dout


# --- expected values of the visible tests ----------------------------------------------------------
@checks.expected("initialize_parameters_zeros")
def _():
    return ref.initialize_parameters_zeros([3, 2, 1])


@checks.expected("initialize_parameters_random")
def _():
    return ref.initialize_parameters_random([3, 2, 1])


@checks.expected("initialize_parameters_he")
def _():
    return ref.initialize_parameters_he([2, 4, 1])


@checks.expected("compute_cost_with_regularization")
def _():
    X, Y, p = test_network(1)
    return ref.compute_cost_with_regularization(ref.forward_propagation(X, p)[0], Y, p, 0.1)


@checks.expected("backward_propagation_with_regularization")
def _():
    X, Y, p = test_network(2)
    grads = ref.backward_propagation_with_regularization(X, Y, ref.forward_propagation(X, p)[1], 0.7)
    return {k: grads[k] for k in GRAD_KEYS}


@checks.expected("forward_propagation_with_dropout")
def _():
    X, Y, p = test_network(3)
    np.random.seed(1)
    A3, cache = ref.forward_propagation_with_dropout(X, p, 0.7)
    return {"A3": A3, "D1": cache[1], "D2": cache[6]}


@checks.expected("backward_propagation_with_dropout")
def _():
    X, Y, p = test_network(4)
    np.random.seed(2)
    _, cache = ref.forward_propagation_with_dropout(X, p, 0.8)
    grads = ref.backward_propagation_with_dropout(X, Y, cache, 0.8)
    return {k: grads[k] for k in ("dA1", "dA2") + GRAD_KEYS}


@checks.expected("batchnorm_forward")
def _():
    x, gamma, beta = bn_forward_inputs()
    bn_param = {"mode": "train", "momentum": 0.8}
    out, _ = ref.batchnorm_forward(x, gamma, beta, bn_param)
    running = {"running_mean": bn_param["running_mean"], "running_var": bn_param["running_var"]}
    bn_param["mode"] = "test"
    out_test, _ = ref.batchnorm_forward(x[:2], gamma, beta, bn_param)
    return {"out": out, "out_test": out_test, **running}


@checks.expected("batchnorm_backward")
def _():
    x, gamma, beta, dout = bn_backward_inputs()
    _, cache = ref.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, cache)
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


# --- helpers ---------------------------------------------------------------------------------------
def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list, dict)) else "")


def _params_dict(params, dims, what):
    if not isinstance(params, dict):
        raise AssertionError(f"{what} should return a dict of parameters, got {_describe(params)}")
    keys = {f"{c}{l}" for l in range(1, len(dims)) for c in "Wb"}
    if set(params) != keys:
        raise AssertionError(f"{what} should return exactly the keys {sorted(keys)}, got {sorted(params)}")
    for l in range(1, len(dims)):
        check_shape(np.asarray(params[f"W{l}"]), (dims[l], dims[l - 1]), f"W{l} of {what}")
        check_shape(np.asarray(params[f"b{l}"]), (dims[l], 1), f"b{l} of {what}")
        check_close(params[f"b{l}"], np.zeros((dims[l], 1)), f"b{l} of {what} (biases start at zero)")
    return {k: np.asarray(v, dtype=float) for k, v in params.items()}


def _check_gaussian(W, std, what):
    """Mean about 0, standard deviation about ``std``, roughly normal (not uniform), not symmetric."""
    W = np.asarray(W, dtype=float)
    n = W.size
    if not abs(W.mean()) < 5 * std / np.sqrt(n) + 1e-12:
        raise AssertionError(f"{what}: the weights should have mean 0, their mean is {W.mean():.4g} "
                             f"(expected standard deviation {std:.4g}). Use np.random.randn, not np.random.rand.")
    if not abs(W.std() / std - 1) < 0.06:
        raise AssertionError(f"{what}: the standard deviation of the weights is {W.std():.4g}, it should be about "
                             f"{std:.4g}.")
    kurtosis = np.mean((W - W.mean()) ** 4) / W.var() ** 2
    if not 2.5 < kurtosis < 3.5:
        raise AssertionError(f"{what}: the weights do not look normally distributed (kurtosis {kurtosis:.2f}, "
                             "3 for a normal distribution): draw them with np.random.randn.")
    if len(np.unique(np.round(W, 12), axis=0)) < W.shape[0]:
        raise AssertionError(f"{what}: some rows (hidden units) have identical weights: draw every weight "
                             "independently, or the symmetry is not broken.")


def _grads_dict(grads, what):
    if not isinstance(grads, dict):
        raise AssertionError(f"{what} should return a dict of gradients, got {_describe(grads)}")
    missing = [k for k in GRAD_KEYS if k not in grads]
    if missing:
        raise AssertionError(f"{what}: the gradients dict lacks {', '.join(missing)}")
    return grads


def _random_network(rng, dims, m, bias=0.1):
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1])) * np.sqrt(2 / dims[l - 1])
        params[f"b{l}"] = rng.normal(size=(dims[l], 1)) * bias
    X = rng.normal(size=(dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    return X, Y, params


def _compare_grads(got, want, where, keys=GRAD_KEYS):
    for k in keys:
        check_close(np.asarray(got[k], dtype=float), want[k], f"{k} {where}", **GRAD)


# --- initialisation --------------------------------------------------------------------------------
@checks.test("test_initialize_parameters_zeros")
def _(student, rng):
    for dims in ([3, 2, 1], [5, 4, 3, 1], [2, 10, 5, 1], [7, 1], [int(rng.integers(2, 9)), int(rng.integers(2, 9)), 1]):
        got = _params_dict(student.initialize_parameters_zeros.pure(dims), dims, f"initialize_parameters_zeros({dims})")
        for k, v in got.items():
            check_close(v, np.zeros_like(v), f"{k} of initialize_parameters_zeros({dims})")


@checks.test("test_initialize_parameters_random")
def _(student, rng):
    dims = [3, 2, 1]
    _params_dict(student.initialize_parameters_random.pure(dims), dims, "initialize_parameters_random([3, 2, 1])")
    for dims, scale in [([300, 200, 50, 2], 10.0), ([400, 150, 1], 0.5), ([50, 400, 30], 0.01)]:
        what = f"initialize_parameters_random({dims}, scale={scale})"
        got = _params_dict(student.initialize_parameters_random(dims, scale=scale, seed=int(rng.integers(1000))),
                           dims, what)
        for l in range(1, len(dims)):
            if got[f"W{l}"].size >= 1000:
                _check_gaussian(got[f"W{l}"], scale, f"W{l} of {what}")
    default = _params_dict(student.initialize_parameters_random([200, 100, 1]), [200, 100, 1],
                           "initialize_parameters_random([200, 100, 1])")
    _check_gaussian(default["W1"], 10.0, "W1 of initialize_parameters_random([200, 100, 1]) (the default scale is 10)")
    a = student.initialize_parameters_random([20, 10, 1], seed=5)
    b = student.initialize_parameters_random([20, 10, 1], seed=5)
    c = student.initialize_parameters_random([20, 10, 1], seed=6)
    check_close(a["W1"], b["W1"], "W1 of two calls with the same seed (call np.random.seed(seed) first)")
    if np.allclose(a["W1"], c["W1"]):
        raise AssertionError("initialize_parameters_random gives the same weights for seed=5 and seed=6: use the seed.")


@checks.test("test_initialize_parameters_he")
def _(student, rng):
    dims = [2, 4, 1]
    _params_dict(student.initialize_parameters_he.pure(dims), dims, "initialize_parameters_he([2, 4, 1])")
    for dims in ([500, 100, 60, 40], [30, 400, 200, 1], [1000, 50, 20]):
        what = f"initialize_parameters_he({dims})"
        got = _params_dict(student.initialize_parameters_he(dims, seed=int(rng.integers(1000))), dims, what)
        for l in range(1, len(dims)):
            if got[f"W{l}"].size >= 1000:
                _check_gaussian(got[f"W{l}"], np.sqrt(2.0 / dims[l - 1]),
                                f"W{l} of {what} (He: standard deviation sqrt(2 / n_(l-1)), n_(l-1) = {dims[l - 1]} "
                                "inputs of the layer)")
    a = student.initialize_parameters_he([20, 10, 1], seed=5)
    c = student.initialize_parameters_he([20, 10, 1], seed=6)
    if np.allclose(a["W1"], c["W1"]):
        raise AssertionError("initialize_parameters_he gives the same weights for seed=5 and seed=6: use the seed.")


# --- L2 ----------------------------------------------------------------------------------------------
@checks.test("test_compute_cost_with_regularization")
def _(student, rng):
    X, Y, p = test_network(1)
    A3 = ref.forward_propagation(X, p)[0]
    check_close(student.compute_cost_with_regularization.pure(A3, Y, p, 0.1),
                ref.compute_cost_with_regularization(A3, Y, p, 0.1), "the visible example (lambd = 0.1)", **VAL)
    for dims, m, lambd in [((4, 6, 3, 1), 9, 0.7), ((2, 5, 5, 1), 1, 3.0), ((6, 3, 2, 1), 20, 0.0),
                           ((3, 8, 4, 1), 13, 0.05)]:
        X, Y, p = _random_network(rng, dims, m, bias=1.0)
        A3 = rng.uniform(0.05, 0.95, size=(1, m))
        where = f"(layers {list(dims)}, m = {m}, lambd = {lambd})"
        got = student.compute_cost_with_regularization.pure(A3, Y, p, lambd)
        check_close(got, ref.compute_cost_with_regularization(A3, Y, p, lambd),
                    f"regularised cost {where}: cross-entropy + lambd / (2 m) * (sum of squared weights; "
                    "biases are not penalised)", **VAL)


@checks.test("test_backward_propagation_with_regularization")
def _(student, rng):
    X, Y, p = test_network(2)
    cache = ref.forward_propagation(X, p)[1]
    got = _grads_dict(student.backward_propagation_with_regularization.pure(X, Y, cache, 0.7),
                      "backward_propagation_with_regularization")
    _compare_grads(got, ref.backward_propagation_with_regularization(X, Y, cache, 0.7), "of the visible example")
    for dims, m, lambd in [((4, 6, 3, 1), 9, 0.7), ((2, 5, 5, 1), 1, 3.0), ((6, 3, 2, 1), 20, 0.0),
                           ((3, 8, 4, 1), 13, 10.0)]:
        X, Y, p = _random_network(rng, dims, m)
        cache = ref.forward_propagation(X, p)[1]
        where = f"(layers {list(dims)}, m = {m}, lambd = {lambd})"
        got = _grads_dict(student.backward_propagation_with_regularization.pure(X, Y, cache, lambd),
                          "backward_propagation_with_regularization")
        want = ref.backward_propagation_with_regularization(X, Y, cache, lambd)
        check_gradient(np.asarray(got["dW1"], dtype=float),
                       numerical_gradient(lambda: ref.compute_cost_with_regularization(
                           ref.forward_propagation(X, p)[0], Y, p, lambd), p["W1"]),
                       f"dW1 {where} against finite differences of the regularised cost", tol=1e-5)
        _compare_grads(got, want, where)


# --- dropout -----------------------------------------------------------------------------------------
def _dropout_result(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(f"{what} should return two values (A3, cache), got {_describe(result)}")
    A3, cache = result
    if not isinstance(cache, (tuple, list)) or len(cache) != 14:
        raise AssertionError(f"{what}: the cache should be the tuple (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, "
                             f"A3, W3, b3), got {_describe(cache)}")
    return A3, cache


def _mask(D, shape, name):
    D = np.asarray(D)
    check_shape(D, shape, f"{name} (one entry per unit and example)")
    D = D.astype(float)
    if not np.all((D == 0) | (D == 1)):
        raise AssertionError(f"{name} should contain only 0 and 1 (np.random.rand(...) < keep_prob).")
    return D


def _check_dropout_forward(student, X, p, keep_prob, where):
    A3, cache = _dropout_result(student.forward_propagation_with_dropout(X, p, keep_prob),
                                "forward_propagation_with_dropout")
    m = X.shape[1]
    D1 = _mask(cache[1], (p["W1"].shape[0], m), f"D1 {where}")
    D2 = _mask(cache[6], (p["W2"].shape[0], m), f"D2 {where}")
    want_A3, want = ref.forward_propagation_with_masks(X, p, D1, D2, keep_prob)
    for i, name in [(0, "Z1"), (2, "A1"), (5, "Z2"), (7, "A2"), (10, "Z3")]:
        hint = " (after dropout: relu(Z1) * D1 / keep_prob)" if name == "A1" else (
            " (after dropout: relu(Z2) * D2 / keep_prob)" if name == "A2" else "")
        check_close(np.asarray(cache[i], dtype=float), want[i], f"{name} in the cache {where}{hint}", **VAL)
    check_close(A3, want_A3, f"A3 {where}, computed with your own masks D1, D2", **VAL)
    return D1, D2


@checks.test("test_forward_propagation_with_dropout")
def _(student, rng):
    for dims, m, keep_prob in [((3, 60, 50, 1), 300, 0.8), ((4, 40, 30, 1), 500, 0.5), ((2, 7, 5, 1), 3, 0.9)]:
        X, Y, p = _random_network(rng, dims, m)
        where = f"(layers {list(dims)}, m = {m}, keep_prob = {keep_prob})"
        D1, D2 = _check_dropout_forward(student, X, p, keep_prob, where)
        if D1.size >= 1000:
            for D, name in [(D1, "D1"), (D2, "D2")]:
                kept = D.mean()
                if not abs(kept - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / D.size) + 1e-3:
                    raise AssertionError(f"{name} {where} keeps a fraction {kept:.3f} of the units; it should be "
                                         f"about keep_prob = {keep_prob} (keep a unit when np.random.rand() < keep_prob).")
                same_column = np.mean(np.all(D == D[:, :1], axis=0))
                if same_column > 0.5:
                    raise AssertionError(f"{name} {where}: every example drops the same units; draw a mask of shape "
                                         "(units, m), one independent entry per unit and example.")
            D1_again, _ = _check_dropout_forward(student, X, p, keep_prob, where)
            if np.array_equal(D1, D1_again):
                raise AssertionError("two calls of forward_propagation_with_dropout drew the same mask D1: do not "
                                     "call np.random.seed inside the function, every training step needs new masks.")
    X, Y, p = _random_network(rng, (3, 6, 4, 1), 8)
    A3, cache = _dropout_result(student.forward_propagation_with_dropout(X, p, 1.0), "forward_propagation_with_dropout")
    check_close(A3, ref.forward_propagation(X, p)[0], "A3 with keep_prob = 1 (nothing dropped)", **VAL)


@checks.test("test_backward_propagation_with_dropout")
def _(student, rng):
    X, Y, p = test_network(4)
    np.random.seed(2)
    _, cache = ref.forward_propagation_with_dropout(X, p, 0.8)
    got = _grads_dict(student.backward_propagation_with_dropout.pure(X, Y, cache, 0.8),
                      "backward_propagation_with_dropout")
    _compare_grads(got, ref.backward_propagation_with_dropout(X, Y, cache, 0.8), "of the visible example")
    for dims, m, keep_prob in [((4, 6, 5, 1), 9, 0.7), ((2, 5, 5, 1), 1, 0.5), ((6, 8, 4, 1), 20, 0.9),
                               ((3, 10, 7, 1), 12, 1.0)]:
        X, Y, p = _random_network(rng, dims, m)
        D1 = (rng.random((dims[1], m)) < keep_prob).astype(float)
        D2 = (rng.random((dims[2], m)) < keep_prob).astype(float)
        _, cache = ref.forward_propagation_with_masks(X, p, D1, D2, keep_prob)
        where = f"(layers {list(dims)}, m = {m}, keep_prob = {keep_prob}, with the masks of the cache)"
        got = _grads_dict(student.backward_propagation_with_dropout.pure(X, Y, cache, keep_prob),
                          "backward_propagation_with_dropout")
        want = ref.backward_propagation_with_dropout(X, Y, cache, keep_prob)
        num = numerical_gradient(lambda: ref.compute_cost(ref.forward_propagation_with_masks(X, p, D1, D2, keep_prob)[0],
                                                          Y), p["W1"])
        check_gradient(np.asarray(got["dW1"], dtype=float), num,
                       f"dW1 {where} against finite differences of the cost with those masks "
                       "(reuse D1, D2 from the cache and divide by keep_prob)", tol=1e-5)
        _compare_grads(got, want, where)


# --- batch normalisation --------------------------------------------------------------------------------
def _bn_call(student, x, gamma, beta, bn_param, what):
    value, args, _ = student.batchnorm_forward.call([x, gamma, beta, dict(bn_param)], return_args=True)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AssertionError(f"batchnorm_forward should return two values (out, cache), got {_describe(value)}")
    out = np.asarray(value[0])
    check_shape(out, x.shape, f"out {what}")
    after = args[3]
    if not isinstance(after, dict):
        raise AssertionError("batchnorm_forward: bn_param should stay a dict")
    for k, v in bn_param.items():
        if k not in ("running_mean", "running_var") and after.get(k) != v:
            raise AssertionError(f"batchnorm_forward changed bn_param[{k!r}]; only the running statistics may change.")
    return out, value[1], after


def _running(after, key, what):
    if key not in after:
        raise AssertionError(f"batchnorm_forward {what} did not store bn_param[{key!r}]: write the running "
                             "statistics back into the dict (bn_param[key] = ...).")
    return np.asarray(after[key], dtype=float)


@checks.test("test_batchnorm_forward")
def _(student, rng):
    x, gamma, beta = bn_forward_inputs()
    cases = [(x, gamma, beta, {"mode": "train", "momentum": 0.8}, "the visible example")]
    for N, D in [(8, 5), (3, 1), (50, 7)]:
        x = rng.normal(size=(N, D)) * rng.uniform(0.1, 10, size=D) + rng.normal(scale=5, size=D)
        bn = {"mode": "train"}
        if N == 50:
            bn = {"mode": "train", "momentum": 0.5, "eps": 1e-3, "running_mean": rng.normal(size=D),
                  "running_var": rng.uniform(0.5, 2, size=D)}
        cases.append((x, rng.normal(size=D), rng.normal(size=D), bn, f"(N = {N}, D = {D}, bn_param keys {sorted(bn)})"))
    for x, gamma, beta, bn, what in cases:
        out, _, after = _bn_call(student, x, gamma, beta, bn, f"in train mode {what}")
        want_bn = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in bn.items()}
        want, _ = ref.batchnorm_forward(x, gamma, beta, want_bn)
        check_close(out, want, f"out in train mode {what} (normalise with the batch mean and the biased "
                    "variance np.var, then gamma * x_hat + beta)", **BN)
        check_close(_running(after, "running_mean", "in train mode"), want_bn["running_mean"],
                    f"running_mean after a training step {what}: momentum * running_mean + (1 - momentum) * mean "
                    "(zeros when absent)", **VAL)
        check_close(_running(after, "running_var", "in train mode"), want_bn["running_var"],
                    f"running_var after a training step {what}: momentum * running_var + (1 - momentum) * var, "
                    "with the same (biased) variance as the normalisation", **VAL)
    # test mode: the running statistics, unchanged
    D = 4
    bn = {"mode": "test", "eps": 1e-5, "running_mean": rng.normal(size=D), "running_var": rng.uniform(0.5, 3, size=D)}
    for N in (1, 6):
        x = rng.normal(size=(N, D)) * 3
        gamma, beta = rng.normal(size=D), rng.normal(size=D)
        out, _, after = _bn_call(student, x, gamma, beta, bn, f"in test mode (N = {N})")
        want, _ = ref.batchnorm_forward(x, gamma, beta, {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                                         for k, v in bn.items()})
        check_close(out, want, f"out in test mode for {N} example(s): normalise with the running mean and "
                    "variance, not the batch's", **BN)
        check_close(_running(after, "running_mean", "in test mode"), bn["running_mean"],
                    "running_mean after a test-mode call (test mode must not change it)", **VAL)
        check_close(_running(after, "running_var", "in test mode"), bn["running_var"],
                    "running_var after a test-mode call (test mode must not change it)", **VAL)


@checks.test("test_batchnorm_backward", needs=["test_batchnorm_forward"])
def _(student, rng):
    cases = [(*bn_backward_inputs(), "the visible example")]
    for N, D in [(8, 5), (2, 3), (30, 1), (16, 6)]:
        x = rng.normal(size=(N, D)) * rng.uniform(0.5, 4, size=D) + rng.normal(size=D)
        cases.append((x, rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D)), f"(N = {N}, D = {D})"))
    for x, gamma, beta, dout, what in cases:
        result = student.batchnorm_forward(x, gamma, beta, {"mode": "train"})
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise AssertionError(f"batchnorm_forward should return (out, cache), got {_describe(result)}")
        grads = student.batchnorm_backward(dout, result[1])
        if not isinstance(grads, (tuple, list)) or len(grads) != 3:
            raise AssertionError(f"batchnorm_backward should return three values (dx, dgamma, dbeta), got "
                                 f"{_describe(grads)}")
        dx, dgamma, dbeta = (np.asarray(g, dtype=float) for g in grads)
        N, D = x.shape
        check_shape(dx, (N, D), f"dx {what}")
        check_shape(dgamma, (D,), f"dgamma {what} (sum over the examples, axis 0)")
        check_shape(dbeta, (D,), f"dbeta {what} (sum over the examples, axis 0)")
        check_finite(dx, f"dx {what}")

        def objective():
            return float(np.sum(ref.batchnorm_forward(x, gamma, beta, {"mode": "train"})[0] * dout))

        check_gradient(dbeta, numerical_gradient(objective, beta), f"dbeta {what} against finite differences", tol=1e-5)
        check_gradient(dgamma, numerical_gradient(objective, gamma), f"dgamma {what} against finite differences",
                       tol=1e-5)
        if N > 1:
            check_gradient(dx, numerical_gradient(objective, x), f"dx {what} against finite differences (the batch "
                           "mean and variance depend on every x)", tol=1e-3)
        _, cache = ref.batchnorm_forward(x, gamma, beta, {"mode": "train"})
        want = ref.batchnorm_backward(dout, cache)
        for name, got, w in zip(("dx", "dgamma", "dbeta"), (dx, dgamma, dbeta), want):
            check_close(got, w, f"{name} {what}", **BN)
