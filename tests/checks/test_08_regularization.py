"""08_regularization's grader-side checks: the reference, the notebook's own solution and honest
alternatives (loops, float32, default_rng, printing, other caches) pass; realistic bugs fail."""
import importlib.util
import warnings

import numpy as np
import pytest

from course.paths import COURSE_ROOT
from course.reference import regularization as ref
from course.validation import read_notebook
from tests.checks.harness import failed, verdicts

ASG = "08_regularization"
NOTEBOOK = COURSE_ROOT / "source" / ASG / f"{ASG}.ipynb"
GIVEN = ("given_network",)  # locked cells whose code the graded functions use
GRADED = ("initialize_parameters_zeros", "initialize_parameters_random", "initialize_parameters_he",
          "compute_cost_with_regularization", "backward_propagation_with_regularization",
          "forward_propagation_with_dropout", "backward_propagation_with_dropout", "batchnorm_forward",
          "batchnorm_backward")


def _cells():
    return [c for c in read_notebook(NOTEBOOK).cells if c.cell_type == "code"]


def notebook_namespace():
    """The given cells and the solution cells of the source notebook, run as the kernel runs them."""
    ns = {"np": np}
    for cell in _cells():
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") in GIVEN or meta.get("solution"):
            exec(compile(cell.source, meta.get("grade_id", "cell"), "exec"), ns)
    return {k: v for k, v in ns.items() if not k.startswith("_")}


def reference():
    """The answer key, plus the notebook's given helpers."""
    return {**notebook_namespace(), **{name: getattr(ref, name) for name in GRADED}}




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def test_the_notebooks_own_solution_passes_everything():
    assert failed(ASG, notebook_namespace()) == []


def test_the_visible_inputs_are_the_notebooks():
    spec = importlib.util.spec_from_file_location("checks08", COURSE_ROOT / "course" / "checks" / f"{ASG}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mine = notebook_namespace()["test_network"]
    for seed in range(1, 5):
        for a, b in zip(mine(seed), module.test_network(seed)):
            if isinstance(a, dict):
                assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
            else:
                np.testing.assert_array_equal(a, b)
    test_cells = "\n".join(c.source for c in _cells() if c.metadata.get("nbgrader", {}).get("grade"))
    for literal in ["test_network(1)", "test_network(2)", "test_network(3)", "test_network(4)", "np.random.seed(1)",
                    "np.random.seed(2)", "keep_prob=0.7", "keep_prob=0.8", "lambd=0.1", "lambd=0.7",
                    "np.random.default_rng(5)", "np.random.default_rng(6)", '{"mode": "train", "momentum": 0.8}',
                    "np.array([1.0, 5.0, 0.2]) + np.array([2.0, -3.0, 0.0])", "np.array([1.0, 2.0, 0.5])",
                    "np.array([0.0, -1.0, 3.0])", "rng.normal(size=(5, 4)) * 2 + 1", "[3, 2, 1]", "[2, 4, 1]"]:
        assert literal in test_cells, literal


# --- honest alternatives ---------------------------------------------------------------------------
def rng_random(layers_dims, scale=10.0, seed=3):
    rng = np.random.default_rng(seed)
    print("initialising", layers_dims)
    return {k: v for l in range(1, len(layers_dims)) for k, v in
            ((f"W{l}", rng.standard_normal((layers_dims[l], layers_dims[l - 1])) * scale),
             (f"b{l}", np.zeros((layers_dims[l], 1))))}


def float32_he(layers_dims, seed=3):
    np.random.seed(seed)
    params = {}
    for l in range(1, len(layers_dims)):
        params["W" + str(l)] = (np.random.randn(layers_dims[l], layers_dims[l - 1]) / np.sqrt(layers_dims[l - 1] / 2)
                                ).astype(np.float32)
        params["b" + str(l)] = np.zeros((layers_dims[l], 1), np.float32)
    return params


def zeros_loop(layers_dims):
    params = {}
    for l in range(1, len(layers_dims)):
        params["W%d" % l] = np.zeros(shape=(layers_dims[l], layers_dims[l - 1]), dtype=np.float32)
        params["b%d" % l] = np.zeros(shape=(layers_dims[l], 1), dtype=int)
    return params


def canonical_cost(A3, Y, parameters, lambd):
    """The canonical course's form, with an unclipped cross-entropy and np.nansum."""
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cross = 1.0 / m * np.nansum(logprobs)
    l2 = (np.sum(np.square(parameters["W1"])) + np.sum(np.square(parameters["W2"])) +
          np.sum(np.square(parameters["W3"]))) * lambd / (2 * m)
    return cross + l2


def l2_via_plain_backward(X, Y, cache, lambd):
    warnings.warn("reusing the plain backward pass")
    grads = ref.backward_propagation(X, Y, cache)
    W = {"1": cache[2], "2": cache[6], "3": cache[10]}
    for l, Wl in W.items():
        grads["dW" + l] = grads["dW" + l] + lambd / X.shape[1] * Wl
    return grads


def loop_l2_backward(X, Y, cache, lambd):
    """One example at a time."""
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    m = X.shape[1]
    g = {k: 0.0 for k in ("dW1", "db1", "dW2", "db2", "dW3", "db3")}
    for i in range(m):
        dz3 = A3[:, i:i + 1] - Y[:, i:i + 1]
        g["dW3"] = g["dW3"] + dz3 @ A2[:, i:i + 1].T / m
        g["db3"] = g["db3"] + dz3 / m
        dz2 = (W3.T @ dz3) * (A2[:, i:i + 1] > 0)
        g["dW2"] = g["dW2"] + dz2 @ A1[:, i:i + 1].T / m
        g["db2"] = g["db2"] + dz2 / m
        dz1 = (W2.T @ dz2) * (A1[:, i:i + 1] > 0)
        g["dW1"] = g["dW1"] + dz1 @ X[:, i:i + 1].T / m
        g["db1"] = g["db1"] + dz1 / m
    for l, W in (("1", W1), ("2", W2), ("3", W3)):
        g["dW" + l] = g["dW" + l] + lambd * W / m
    return g


def bool_mask_dropout(X, parameters, keep_prob=0.5):
    """Boolean masks, np.multiply, and the masks drawn with np.random.random_sample."""
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = np.dot(W1, X) + b1
    D1 = np.random.random_sample(Z1.shape) < keep_prob
    A1 = np.multiply(np.maximum(Z1, 0), D1) / keep_prob
    Z2 = np.dot(W2, A1) + b2
    D2 = np.random.random_sample(Z2.shape) < keep_prob
    A2 = np.multiply(np.maximum(Z2, 0), D2) / keep_prob
    Z3 = np.dot(W3, A2) + b3
    A3 = 1 / (1 + np.exp(-Z3))
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)


_GEN = np.random.default_rng(2024)


def generator_dropout(X, parameters, keep_prob=0.5):
    """Masks from a module-level default_rng, as float32."""
    A3, cache = bool_mask_dropout(X, parameters, 1.0)
    D1 = (_GEN.random(cache[0].shape) < keep_prob).astype(np.float32)
    D2 = (_GEN.random(cache[5].shape) < keep_prob).astype(np.float32)
    return ref.forward_propagation_with_masks(X, parameters, D1, D2, keep_prob)


def dropout_backward_relu_on_Z(X, Y, cache, keep_prob):
    """Uses Z > 0 for the ReLU derivative (same thing where the unit was kept)."""
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    m = X.shape[1]
    dZ3 = A3 - Y
    dA2 = W3.T @ dZ3 * D2 / keep_prob
    dZ2 = dA2 * (Z2 > 0)
    dA1 = W2.T @ dZ2 * D1 / keep_prob
    dZ1 = dA1 * (Z1 > 0)
    return {"dW3": dZ3 @ A2.T / m, "db3": dZ3.mean(axis=1, keepdims=True), "dW2": dZ2 @ A1.T / m,
            "db2": dZ2.mean(axis=1, keepdims=True), "dW1": dZ1 @ X.T / m, "db1": dZ1.mean(axis=1, keepdims=True)}


def bn_forward_staged(x, gamma, beta, bn_param):
    """The computational-graph style of CS231n's solutions, with a long cache and float32 maths."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu = np.sum(x, axis=0) / N
        xmu = x - mu
        sq = xmu ** 2
        var = np.sum(sq, axis=0) / N
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        out = gamma * xhat + beta
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def bn_backward_staged(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = 1.0 / N * np.ones((N, D)) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dx1, axis=0)
    dx2 = 1.0 / N * np.ones((N, D)) * dmu
    return dx1 + dx2, dgamma, dbeta


def bn_forward_dict_cache(x, gamma, beta, bn_param):
    out, cache = ref.batchnorm_forward(x, gamma, beta, bn_param)
    if cache is not None:
        cache = {"x": x, "gamma": gamma, "eps": bn_param.get("eps", 1e-5)}
    return out, cache


def bn_backward_dict_cache(dout, cache):
    """Recomputes the statistics from x (a different, honest cache)."""
    x, gamma, eps = cache["x"], cache["gamma"], cache["eps"]
    N = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / np.sqrt(var + eps)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def float32_bn_forward(x, gamma, beta, bn_param):
    x32 = np.asarray(x, np.float32)
    return ref.batchnorm_forward(x32, np.float32(gamma), np.float32(beta), bn_param)


HONEST = [
    ({"initialize_parameters_random": rng_random},),
    ({"initialize_parameters_he": float32_he},),
    ({"initialize_parameters_zeros": zeros_loop},),
    ({"compute_cost_with_regularization": canonical_cost},),
    ({"backward_propagation_with_regularization": l2_via_plain_backward},),
    ({"backward_propagation_with_regularization": loop_l2_backward},),
    ({"forward_propagation_with_dropout": bool_mask_dropout},),
    ({"forward_propagation_with_dropout": generator_dropout},),
    ({"backward_propagation_with_dropout": dropout_backward_relu_on_Z},),
    # without D the gradient is still right: A > 0 is False wherever a unit was dropped
    ({"backward_propagation_with_dropout": lambda X, Y, c, k: dropout_backward_with(no_mask=True)(X, Y, c, k)},),
    ({"batchnorm_forward": bn_forward_staged, "batchnorm_backward": bn_backward_staged},),
    ({"batchnorm_forward": bn_forward_dict_cache, "batchnorm_backward": bn_backward_dict_cache},),
    ({"batchnorm_forward": float32_bn_forward},),
]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("replace", [h[0] for h in HONEST], ids=[",".join(h[0]) + f"-{i}" for i, h in enumerate(HONEST)])
def test_honest_alternatives_pass(replace):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert failed(ASG, {**reference(), **replace}) == []


# --- realistic bugs --------------------------------------------------------------------------------
def he_with(std_of):
    def init(layers_dims, seed=3):
        np.random.seed(seed)
        params = {}
        for l in range(1, len(layers_dims)):
            params[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * std_of(layers_dims, l)
            params[f"b{l}"] = np.zeros((layers_dims[l], 1))
        return params
    return init


def random_with(draw=None, scale_fixed=None, bias=False, seed_used=True):
    def init(layers_dims, scale=10.0, seed=3):
        np.random.seed(seed if seed_used else 3)
        s = scale if scale_fixed is None else scale_fixed
        params = {}
        for l in range(1, len(layers_dims)):
            shape = (layers_dims[l], layers_dims[l - 1])
            params[f"W{l}"] = (draw(shape) if draw else np.random.randn(*shape)) * s
            params[f"b{l}"] = np.random.randn(layers_dims[l], 1) if bias else np.zeros((layers_dims[l], 1))
        return params
    return init


def zeros_transposed(layers_dims):
    return {k: v for l in range(1, len(layers_dims)) for k, v in
            ((f"W{l}", np.zeros((layers_dims[l - 1], layers_dims[l]))), (f"b{l}", np.zeros((layers_dims[l], 1))))}


def zeros_missing_last(layers_dims):
    return zeros_transposed(layers_dims[:-1][::-1])  # wrong keys / shapes


def cost_with(factor=None, biases=False, no_cross=False):
    def cost(A3, Y, parameters, lambd):
        m = Y.shape[1]
        keys = [k for k in parameters if k.startswith("W") or (biases and k.startswith("b"))]
        l2 = sum(np.sum(np.square(parameters[k])) for k in keys)
        base = 0.0 if no_cross else ref.compute_cost(A3, Y)
        return base + (lambd / (2 * m) if factor is None else factor(lambd, m)) * l2
    return cost


def l2_backward_with(term):
    def backward(X, Y, cache, lambd):
        grads = ref.backward_propagation(X, Y, cache)
        m = X.shape[1]
        for l, W, b in (("1", cache[2], cache[3]), ("2", cache[6], cache[7]), ("3", cache[10], cache[11])):
            dW, db = term(W, b, lambd, m)
            grads["dW" + l] = grads["dW" + l] + dW
            grads["db" + l] = grads["db" + l] + db
        return grads
    return backward


def dropout_forward_with(scale=True, seed_inside=False, shared_mask=False, keep_is_drop=False, dropout_output=False,
                         uniform_scale=False):
    def forward(X, parameters, keep_prob=0.5):
        if seed_inside:
            np.random.seed(1)
        W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
        m = X.shape[1]

        def mask(n):
            u = np.random.rand(n, 1) * np.ones((1, m)) if shared_mask else np.random.rand(n, m)
            return ((u >= keep_prob) if keep_is_drop else (u < keep_prob)).astype(float)

        div = keep_prob if scale else 1.0
        Z1 = W1 @ X + b1
        D1 = mask(W1.shape[0])
        A1 = np.maximum(Z1, 0) * D1 / div
        Z2 = W2 @ A1 + b2
        D2 = mask(W2.shape[0])
        A2 = np.maximum(Z2, 0) * D2 / div
        Z3 = W3 @ A2 + b3
        A3 = 1 / (1 + np.exp(-Z3))
        if dropout_output:
            A3 = A3 * (np.random.rand(*A3.shape) < keep_prob)
        return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
    return forward


def dropout_backward_with(new_masks=False, scale=True, no_mask=False, wrong_order=False):
    def backward(X, Y, cache, keep_prob):
        Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
        if new_masks:
            D1 = (np.random.rand(*D1.shape) < keep_prob).astype(float)
            D2 = (np.random.rand(*D2.shape) < keep_prob).astype(float)
        if no_mask:
            D1, D2 = np.ones_like(D1), np.ones_like(D2)
        if wrong_order:
            D1, D2 = D2, D1
        div = keep_prob if scale else 1.0
        m = X.shape[1]
        dZ3 = A3 - Y
        dA2 = W3.T @ dZ3 * D2 / div
        dZ2 = dA2 * (A2 > 0)
        dA1 = W2.T @ dZ2 * D1 / div
        dZ1 = dA1 * (A1 > 0)
        return {"dW3": dZ3 @ A2.T / m, "db3": dZ3.sum(axis=1, keepdims=True) / m, "dW2": dZ2 @ A1.T / m,
                "db2": dZ2.sum(axis=1, keepdims=True) / m, "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m}
    return backward


def dropout_backward_square_mask_safe(X, Y, cache, keep_prob):
    """Swapping D1 and D2 only works when they have the same shape; guard for other shapes."""
    if cache[1].shape != cache[6].shape:
        return dropout_backward_with(scale=False)(X, Y, cache, keep_prob)
    return dropout_backward_with(wrong_order=True)(X, Y, cache, keep_prob)


def bn_forward_with(ddof=0, update=True, momentum_swapped=False, test_uses_batch=False, no_eps=False,
                    running_var_unbiased=False, axis=0, std_not_var=False):
    def forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = 0.0 if no_eps else bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        D = x.shape[1]
        rm = bn_param.get("running_mean", np.zeros(D))
        rv = bn_param.get("running_var", np.zeros(D))
        cache = None
        if mode == "train" or test_uses_batch:
            mu = x.mean(axis=axis, keepdims=True).reshape(-1) if axis == 0 else x.mean(axis=1, keepdims=True)
            var = x.var(axis=axis, ddof=ddof, keepdims=True).reshape(-1) if axis == 0 else x.var(axis=1, keepdims=True)
            x_hat = (x - mu) / np.sqrt(var + eps)
            out = gamma * x_hat + beta
            inv_std = 1 / np.sqrt(var + eps)
            cache = (x_hat, gamma, inv_std)
            if mode == "train" and update and axis == 0:
                a, b = (1 - momentum, momentum) if momentum_swapped else (momentum, 1 - momentum)
                v = x.var(axis=0, ddof=1) if running_var_unbiased else (np.sqrt(var) if std_not_var else var)
                rm = a * rm + b * mu
                rv = a * rv + b * v
        else:
            out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
        bn_param["running_mean"] = rm
        bn_param["running_var"] = rv
        return out, cache
    return forward


def bn_no_store(x, gamma, beta, bn_param):
    """Computes the running statistics into local variables and never stores them."""
    return ref.batchnorm_forward(x, gamma, beta, dict(bn_param))


def bn_backward_with(dgamma_axis=0, no_mean_terms=False, no_var_term=False, dbeta_mean=False, gamma_missing=False):
    def backward(dout, cache):
        x_hat, gamma, inv_std = cache
        N = dout.shape[0]
        dbeta = dout.mean(axis=0) if dbeta_mean else dout.sum(axis=0)
        dgamma = np.sum(dout * x_hat, axis=dgamma_axis)
        dx_hat = dout if gamma_missing else dout * gamma
        if no_mean_terms:
            return dx_hat * inv_std, dgamma, dbeta
        var_term = 0 if no_var_term else x_hat * np.sum(dx_hat * x_hat, axis=0)
        return inv_std / N * (N * dx_hat - dx_hat.sum(axis=0) - var_term), dgamma, dbeta
    return backward


MUTANTS = [
    ("initialize_parameters_zeros", zeros_transposed, "test_initialize_parameters_zeros"),
    ("initialize_parameters_zeros", lambda d: ref.initialize_parameters_he(d), "test_initialize_parameters_zeros"),
    ("initialize_parameters_zeros", lambda d: {k: v for k, v in ref.initialize_parameters_zeros(d).items() if k[0] == "W"},
     "test_initialize_parameters_zeros"),
    ("initialize_parameters_random", random_with(scale_fixed=0.01), "test_initialize_parameters_random"),
    ("initialize_parameters_random", random_with(draw=lambda s: np.random.rand(*s)), "test_initialize_parameters_random"),
    ("initialize_parameters_random", random_with(draw=lambda s: np.random.rand(*s) - 0.5),
     "test_initialize_parameters_random"),
    ("initialize_parameters_random", random_with(bias=True), "test_initialize_parameters_random"),
    ("initialize_parameters_random", random_with(seed_used=False), "test_initialize_parameters_random"),
    ("initialize_parameters_random", random_with(draw=lambda s: np.ones((s[0], 1)) * np.random.randn(1, s[1])),
     "test_initialize_parameters_random"),
    ("initialize_parameters_random", lambda d, scale=10.0, seed=3: ref.initialize_parameters_zeros(d),
     "test_initialize_parameters_random"),
    ("initialize_parameters_he", he_with(lambda d, l: np.sqrt(2 / d[l])), "test_initialize_parameters_he"),
    ("initialize_parameters_he", he_with(lambda d, l: np.sqrt(1 / d[l - 1])), "test_initialize_parameters_he"),
    ("initialize_parameters_he", he_with(lambda d, l: 2 / np.sqrt(d[l - 1])), "test_initialize_parameters_he"),
    ("initialize_parameters_he", he_with(lambda d, l: 2 / d[l - 1]), "test_initialize_parameters_he"),
    ("initialize_parameters_he", he_with(lambda d, l: np.sqrt(2 / (d[l - 1] + d[l]))), "test_initialize_parameters_he"),
    ("initialize_parameters_he", he_with(lambda d, l: 0.01), "test_initialize_parameters_he"),
    ("compute_cost_with_regularization", cost_with(factor=lambda lambd, m: lambd / m), "test_compute_cost_with_regularization"),
    ("compute_cost_with_regularization", cost_with(factor=lambda lambd, m: lambd / 2), "test_compute_cost_with_regularization"),
    ("compute_cost_with_regularization", cost_with(biases=True), "test_compute_cost_with_regularization"),
    ("compute_cost_with_regularization", cost_with(no_cross=True), "test_compute_cost_with_regularization"),
    ("compute_cost_with_regularization",
     lambda A3, Y, p, lambd: ref.compute_cost(A3, Y) + lambd / (2 * Y.shape[1]) * sum(np.sum(p[k]) ** 2 for k in p if k[0] == "W"),
     "test_compute_cost_with_regularization"),
    ("compute_cost_with_regularization",
     lambda A3, Y, p, lambd: ref.compute_cost(A3, Y) + lambd / (2 * Y.shape[1]) * sum(np.linalg.norm(p[k]) for k in p if k[0] == "W"),
     "test_compute_cost_with_regularization"),
    ("backward_propagation_with_regularization", l2_backward_with(lambda W, b, lambd, m: (lambd / (2 * m) * W, 0)),
     "test_backward_propagation_with_regularization"),
    ("backward_propagation_with_regularization", l2_backward_with(lambda W, b, lambd, m: (lambd * W, 0)),
     "test_backward_propagation_with_regularization"),
    ("backward_propagation_with_regularization", l2_backward_with(lambda W, b, lambd, m: (lambd / m * W, lambd / m * b)),
     "test_backward_propagation_with_regularization"),
    ("backward_propagation_with_regularization", l2_backward_with(lambda W, b, lambd, m: (2 * lambd / m * W, 0)),
     "test_backward_propagation_with_regularization"),
    ("backward_propagation_with_regularization", l2_backward_with(lambda W, b, lambd, m: (-lambd / m * W, 0)),
     "test_backward_propagation_with_regularization"),
    ("backward_propagation_with_regularization", lambda X, Y, c, lambd: ref.backward_propagation(X, Y, c),
     "test_backward_propagation_with_regularization"),
    ("forward_propagation_with_dropout", dropout_forward_with(scale=False), "test_forward_propagation_with_dropout"),
    ("forward_propagation_with_dropout", dropout_forward_with(seed_inside=True), "test_forward_propagation_with_dropout"),
    ("forward_propagation_with_dropout", dropout_forward_with(shared_mask=True), "test_forward_propagation_with_dropout"),
    ("forward_propagation_with_dropout", dropout_forward_with(keep_is_drop=True), "test_forward_propagation_with_dropout"),
    ("forward_propagation_with_dropout", dropout_forward_with(dropout_output=True), "test_forward_propagation_with_dropout"),
    ("forward_propagation_with_dropout", lambda X, p, keep_prob=0.5: ref.forward_propagation_with_dropout(X, p, 1 - keep_prob),
     "test_forward_propagation_with_dropout"),
    ("backward_propagation_with_dropout", dropout_backward_with(new_masks=True), "test_backward_propagation_with_dropout"),
    ("backward_propagation_with_dropout", dropout_backward_with(scale=False), "test_backward_propagation_with_dropout"),
    ("backward_propagation_with_dropout", dropout_backward_square_mask_safe, "test_backward_propagation_with_dropout"),
    ("batchnorm_forward", bn_forward_with(ddof=1), "test_batchnorm_forward"),
    ("batchnorm_forward", bn_forward_with(running_var_unbiased=True), "test_batchnorm_forward"),
    ("batchnorm_forward", bn_forward_with(update=False), "test_batchnorm_forward"),
    ("batchnorm_forward", bn_no_store, "test_batchnorm_forward"),
    ("batchnorm_forward", bn_forward_with(momentum_swapped=True), "test_batchnorm_forward"),
    ("batchnorm_forward", bn_forward_with(test_uses_batch=True), "test_batchnorm_forward"),
    ("batchnorm_forward", bn_forward_with(std_not_var=True), "test_batchnorm_forward"),
    ("batchnorm_forward", bn_forward_with(axis=1), "test_batchnorm_forward"),
    ("batchnorm_backward", bn_backward_with(dgamma_axis=1), "test_batchnorm_backward"),
    ("batchnorm_backward", bn_backward_with(dgamma_axis=None), "test_batchnorm_backward"),
    ("batchnorm_backward", bn_backward_with(no_mean_terms=True), "test_batchnorm_backward"),
    ("batchnorm_backward", bn_backward_with(no_var_term=True), "test_batchnorm_backward"),
    ("batchnorm_backward", bn_backward_with(dbeta_mean=True), "test_batchnorm_backward"),
    ("batchnorm_backward", bn_backward_with(gamma_missing=True), "test_batchnorm_backward"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grade_id in failed(ASG, {**reference(), name: fn}, only=[grade_id])


def test_unbiased_variance_in_forward_and_backward_fails():
    """ddof=1 throughout (forward and a backward derived for it) is a different function: it fails."""
    assert "test_batchnorm_forward" in failed(ASG, {**reference(), "batchnorm_forward": bn_forward_with(ddof=1)})


def test_a_bug_fails_only_its_own_cell():
    assert failed(ASG, {**reference(), "batchnorm_forward": bn_forward_with(update=False)}) == ["test_batchnorm_forward"]


def test_a_failed_dependency_is_named_in_the_hint():
    v = verdicts(ASG, {**reference(), "batchnorm_forward": bn_forward_with(ddof=1),
                       "batchnorm_backward": bn_backward_with(no_var_term=True)})
    assert not v["test_batchnorm_forward"].passed
    assert "fix test_batchnorm_forward first" in v["test_batchnorm_backward"].message


def test_messages_name_the_problem():
    v = verdicts(ASG, {**reference(), "forward_propagation_with_dropout": dropout_forward_with(seed_inside=True),
                       "initialize_parameters_he": he_with(lambda d, l: np.sqrt(2 / d[l]))})
    assert "np.random.seed" in v["test_forward_propagation_with_dropout"].message
    assert "sqrt(2 / n_(l-1))" in v["test_initialize_parameters_he"].message
