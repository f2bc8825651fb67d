"""04_mnist_softmax's grader-side checks: the reference, the notebook's own solution and honest
alternatives (loops, float32, printing, in-place updates) pass; realistic bugs fail."""
import importlib.util
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.special import softmax as scipy_softmax

from course.paths import COURSE_ROOT
from course.reference import losses, mlp
from course.validation import read_notebook
from tests.checks.harness import failed, verdicts

ASG = "04_mnist_softmax"
NOTEBOOK = COURSE_ROOT / "source" / ASG / f"{ASG}.ipynb"
GIVEN = ("given_activations", "init_softmax_net")  # locked cells whose code the graded functions use


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


def _normalize_images(images):
    images = np.asarray(images)
    return images.reshape(images.shape[0], -1).T / 255.0


def reference():
    """The answer key, plus the notebook's given helpers."""
    given = notebook_namespace()
    return {"sigmoid": given["sigmoid"], "relu": given["relu"], "init_softmax_net": given["init_softmax_net"],
            "normalize_images": _normalize_images, "logistic_propagate": losses.logistic_propagate,
            "one_hot": losses.one_hot, "softmax": losses.softmax,
            "softmax_cross_entropy": losses.softmax_cross_entropy,
            "softmax_cross_entropy_gradient": losses.softmax_cross_entropy_gradient,
            "minibatch_step": mlp.minibatch_step}




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def test_the_notebooks_own_solution_passes_everything():
    assert failed(ASG, notebook_namespace()) == []


def test_the_visible_inputs_are_the_notebooks():
    """The checks module rebuilds the visible test's parameters with the notebook's locked init."""
    spec = importlib.util.spec_from_file_location("checks04", COURSE_ROOT / "course" / "checks" / f"{ASG}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    init = notebook_namespace()["init_softmax_net"]
    for args in [(4, 3, 2, 1), (784, 16, 10, 7)]:
        mine, theirs = init(*args), module.init_softmax_net(*args)
        assert mine.keys() == theirs.keys()
        for k in mine:
            np.testing.assert_array_equal(mine[k], theirs[k])
    test_cells = "\n".join(c.source for c in _cells() if c.metadata.get("nbgrader", {}).get("grade"))
    for literal in ["np.array([[0.5], [-1.0]])", "np.array([3, 0, 2, 3])", "init_softmax_net(4, 3, 2, seed=1)",
                    "np.array([[1.0, 0.0, 1000.0], [2.0, 0.0, 0.0], [3.0, 0.0, -1000.0]])"]:
        assert literal in test_cells


# --- honest alternatives ---------------------------------------------------------------------------
def loop_normalize_images(images):
    m = len(images)
    X = np.zeros((images[0].size, m))
    for i in range(m):
        for p, v in enumerate(images[i].ravel()):
            X[p, i] = v / 255
    return X


def float32_normalize_images(images):
    return (np.asarray(images, dtype=np.float32) / np.float32(255)).reshape(len(images), -1).T


def float32_logistic_propagate(w, b, X, Y):
    w, X, Y = (np.asarray(a, dtype=np.float32) for a in (w, X, Y))
    m = X.shape[1]
    Z = w.T @ X + np.float32(b)
    A = 1 / (1 + np.exp(-np.clip(Z, -50, 50)))
    cost = np.mean(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z))))
    return cost, X @ (A - Y).T / m, np.sum(A - Y) / m


def loop_logistic_propagate(w, b, X, Y):
    print("computing the cost of", X.shape[1], "examples")
    warnings.warn("a loop is slow")
    n_x, m = X.shape
    cost, dw, db = 0.0, np.zeros((n_x, 1)), 0.0
    for i in range(m):
        z = float(sum(w[k, 0] * X[k, i] for k in range(n_x)) + b)
        y = float(Y[0, i])
        cost += max(z, 0) - z * y + np.log1p(np.exp(-abs(z)))
        a = 1 / (1 + np.exp(-z)) if z >= 0 else np.exp(z) / (1 + np.exp(z))
        for k in range(n_x):
            dw[k, 0] += (a - y) * X[k, i] / m
        db += (a - y) / m
    return cost / m, dw, db


def loop_one_hot(y, C):
    Y = np.zeros((C, len(y)))
    for i, label in enumerate(y):
        Y[int(label), i] = 1
    return Y


def float32_softmax(Z):
    Z = np.asarray(Z, dtype=np.float32)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def loop_softmax_cross_entropy(Z, Y):
    total = 0.0
    for i in range(Z.shape[1]):
        z = Z[:, i]
        c = z.max()
        total -= float(np.dot(Y[:, i], z - c - np.log(np.sum(np.exp(z - c)))))
    return total / Z.shape[1]


def scipy_softmax_cross_entropy(Z, Y):
    return float(np.mean(logsumexp(Z, axis=0) - np.sum(Y * Z, axis=0)))


def float32_gradient(Z, Y):
    return (float32_softmax(Z) - np.asarray(Y, np.float32)) / Z.shape[1]


def float32_minibatch_step(params, X, Y, learning_rate):
    """All in float32, with the notebook's functions (in float32) inside."""
    p = {k: np.asarray(v, np.float32) for k, v in params.items()}
    X, Y = np.asarray(X, np.float32), np.asarray(Y, np.float32)
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = p["W2"] @ A1 + p["b2"]
    cost = float(np.mean(logsumexp(Z2, axis=0) - np.sum(Y * Z2, axis=0)))
    dZ2 = float32_gradient(Z2, Y)
    dZ1 = (p["W2"].T @ dZ2) * (Z1 > 0)
    grads = {"W1": dZ1 @ X.T, "b1": dZ1.sum(axis=1, keepdims=True), "W2": dZ2 @ A1.T,
             "b2": dZ2.sum(axis=1, keepdims=True)}
    return {k: p[k] - np.float32(learning_rate) * grads[k] for k in p}, cost


def inplace_minibatch_step(params, X, Y, learning_rate):
    """Updates the dict in place and returns it (allowed: deeplearning.ai's update functions do)."""
    cost, grads = mlp.mlp_loss_and_gradients(X, Y, params)
    for k in params:
        params[k] -= learning_rate * grads["d" + k]
    return params, cost


def loop_minibatch_step(params, X, Y, learning_rate):
    """One example at a time, accumulating the gradients."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    g = {k: np.zeros_like(v) for k, v in params.items()}
    cost = 0.0
    for i in range(m):
        x, y = X[:, i:i + 1], Y[:, i:i + 1]
        z1 = W1 @ x + b1
        a1 = np.maximum(z1, 0)
        z2 = W2 @ a1 + b2
        cost += losses.softmax_cross_entropy(z2, y) / m
        dz2 = (losses.softmax(z2) - y) / m
        dz1 = (W2.T @ dz2) * (z1 > 0)
        g["W2"] += dz2 @ a1.T
        g["b2"] += dz2
        g["W1"] += dz1 @ x.T
        g["b1"] += dz1
    return {k: params[k] - learning_rate * g[k] for k in params}, cost


HONEST = [
    ("normalize_images", loop_normalize_images),
    ("normalize_images", float32_normalize_images),
    ("logistic_propagate", float32_logistic_propagate),
    ("logistic_propagate", loop_logistic_propagate),
    ("one_hot", loop_one_hot),
    ("one_hot", lambda y, C: np.eye(C)[np.asarray(y)].T),
    ("softmax", float32_softmax),
    ("softmax", lambda Z: scipy_softmax(Z, axis=0)),
    ("softmax_cross_entropy", loop_softmax_cross_entropy),
    ("softmax_cross_entropy", scipy_softmax_cross_entropy),
    ("softmax_cross_entropy_gradient", float32_gradient),
    ("minibatch_step", float32_minibatch_step),
    ("minibatch_step", inplace_minibatch_step),
    ("minibatch_step", loop_minibatch_step),
]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("name, fn", HONEST, ids=[f"{h[0]}-{i}" for i, h in enumerate(HONEST)])
def test_honest_alternatives_pass(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert failed(ASG, {**reference(), name: fn}) == []


def test_all_float32_together_pass():
    ns = {**reference(), "normalize_images": float32_normalize_images, "logistic_propagate": float32_logistic_propagate,
          "softmax": float32_softmax, "softmax_cross_entropy_gradient": float32_gradient,
          "minibatch_step": float32_minibatch_step}
    assert failed(ASG, ns) == []


# --- realistic bugs --------------------------------------------------------------------------------
def naive_logistic_propagate(w, b, X, Y):
    m = X.shape[1]
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    cost = float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
    return cost, X @ (A - Y).T / m, float(np.sum(A - Y) / m)


def logistic_with(dw_scale=1.0, db_scale=1.0, sign=1.0):
    def propagate(w, b, X, Y):
        cost, dw, db = losses.logistic_propagate(w, b, X, Y)
        return cost, sign * dw * dw_scale, sign * db * db_scale
    return propagate


def naive_softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def global_max_softmax(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=0, keepdims=True)


def inplace_softmax(Z):
    Z -= Z.max(axis=0, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def naive_cross_entropy(Z, Y):
    return float(-np.sum(Y * np.log(naive_softmax(Z))) / Z.shape[1])


def step_with(mutate):
    """The reference step with one realistic change, ``mutate(params, X, Y, lr) -> (new, cost)``."""
    return mutate


def _grads(params, X, Y, relu_mask=True):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    dZ2 = losses.softmax_cross_entropy_gradient(Z2, Y)
    dZ1 = W2.T @ dZ2 * ((Z1 > 0) if relu_mask else 1.0)
    return losses.softmax_cross_entropy(Z2, Y), {"W1": dZ1 @ X.T, "b1": dZ1.sum(axis=1, keepdims=True),
                                                 "W2": dZ2 @ A1.T, "b2": dZ2.sum(axis=1, keepdims=True)}


def no_update_step(params, X, Y, lr):
    return {k: v.copy() for k, v in params.items()}, _grads(params, X, Y)[0]


def uphill_step(params, X, Y, lr):
    cost, g = _grads(params, X, Y)
    return {k: params[k] + lr * g[k] for k in params}, cost


def cost_after_step(params, X, Y, lr):
    new, _ = mlp.minibatch_step(params, X, Y, lr)
    return new, _grads(new, X, Y)[0]


def no_relu_mask_step(params, X, Y, lr):
    cost, g = _grads(params, X, Y, relu_mask=False)
    return {k: params[k] - lr * g[k] for k in params}, cost


def only_output_layer_step(params, X, Y, lr):
    cost, g = _grads(params, X, Y)
    return {"W1": params["W1"], "b1": params["b1"], "W2": params["W2"] - lr * g["W2"],
            "b2": params["b2"] - lr * g["b2"]}, cost


def extra_mean_step(params, X, Y, lr):
    cost, g = _grads(params, X, Y)
    m = X.shape[1]
    return {k: params[k] - lr * (g[k] / m if k.startswith("W") else g[k]) for k in params}, cost


MUTANTS = [
    ("normalize_images", lambda im: np.asarray(im).reshape(-1, len(im)) / 255.0, "test_normalize_images"),
    ("normalize_images", lambda im: np.asarray(im).reshape(len(im), -1) / 255.0, "test_normalize_images"),
    ("normalize_images", lambda im: np.asarray(im).reshape(len(im), -1, order="F").T / 255.0, "test_normalize_images"),
    ("normalize_images", lambda im: np.asarray(im).reshape(len(im), -1).T / 256.0, "test_normalize_images"),
    ("normalize_images", lambda im: np.asarray(im).reshape(len(im), -1).T // 255, "test_normalize_images"),
    ("logistic_propagate", naive_logistic_propagate, "test_logistic_propagate"),
    ("logistic_propagate", logistic_with(dw_scale=3.0), "test_logistic_propagate"),   # 1/m missing for m = 3
    ("logistic_propagate", logistic_with(db_scale=0.5), "test_logistic_propagate"),
    ("logistic_propagate", logistic_with(sign=-1.0), "test_logistic_propagate"),
    ("one_hot", lambda y, C: losses.one_hot(y, C).T, "test_one_hot"),
    ("one_hot", lambda y, C: np.eye(C)[np.asarray(y)], "test_one_hot"),
    ("one_hot", lambda y, C: losses.one_hot(np.asarray(y) - 1, C), "test_one_hot"),
    ("one_hot", lambda y, C: losses.one_hot(y, int(np.max(y)) + 1), "test_one_hot"),
    ("softmax", naive_softmax, "test_softmax"),
    ("softmax", lambda Z: losses.softmax(Z, axis=1), "test_softmax"),
    ("softmax", global_max_softmax, "test_softmax"),
    ("softmax", inplace_softmax, "test_softmax"),
    ("softmax_cross_entropy", naive_cross_entropy, "test_softmax_cross_entropy"),
    ("softmax_cross_entropy", lambda Z, Y: losses.softmax_cross_entropy(Z, Y) * Z.shape[1], "test_softmax_cross_entropy"),
    ("softmax_cross_entropy", lambda Z, Y: losses.softmax_cross_entropy(Z, Y) / Z.shape[0], "test_softmax_cross_entropy"),
    ("softmax_cross_entropy", lambda Z, Y: -losses.softmax_cross_entropy(Z, Y), "test_softmax_cross_entropy"),
    ("softmax_cross_entropy_gradient", lambda Z, Y: losses.softmax(Z) - Y, "test_softmax_cross_entropy_gradient"),
    ("softmax_cross_entropy_gradient", lambda Z, Y: (Y - losses.softmax(Z)) / Z.shape[1],
     "test_softmax_cross_entropy_gradient"),
    ("softmax_cross_entropy_gradient", lambda Z, Y: (naive_softmax(Z) - Y) / Z.shape[1],
     "test_softmax_cross_entropy_gradient"),
    ("minibatch_step", no_update_step, "test_minibatch_step"),
    ("minibatch_step", uphill_step, "test_minibatch_step"),
    ("minibatch_step", cost_after_step, "test_minibatch_step"),
    ("minibatch_step", no_relu_mask_step, "test_minibatch_step"),
    ("minibatch_step", only_output_layer_step, "test_minibatch_step"),
    ("minibatch_step", extra_mean_step, "test_minibatch_step"),
    ("minibatch_step", lambda p, X, Y, lr: mlp.minibatch_step(p, X, Y, lr)[0], "test_minibatch_step"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grade_id in failed(ASG, {**reference(), name: fn})


def test_a_bug_fails_only_its_own_cell():
    assert failed(ASG, {**reference(), "one_hot": lambda y, C: losses.one_hot(y, C).T}) == ["test_one_hot"]


def test_a_failed_dependency_is_named_in_the_hint():
    v = verdicts(ASG, {**reference(), "softmax_cross_entropy": lambda Z, Y: 0.0})
    assert not v["test_softmax_cross_entropy"].passed
    # the reference minibatch_step does not use the student's cross-entropy: it passes, with no hint needed
    assert v["test_minibatch_step"].passed
    broken_step = verdicts(ASG, {**reference(), "softmax_cross_entropy": lambda Z, Y: 0.0,
                                 "minibatch_step": uphill_step})
    assert "fix test_softmax_cross_entropy first" in broken_step["test_minibatch_step"].message


def test_messages_name_the_problem():
    v = verdicts(ASG, {**reference(), "softmax": naive_softmax, "minibatch_step": uphill_step})
    assert "softmax" in v["test_softmax"].message
    assert "new W1" in v["test_minibatch_step"].message or "lower the cost" in v["test_minibatch_step"].message
