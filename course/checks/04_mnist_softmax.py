"""Grader-side tests of 04_mnist_softmax: random shapes, |z| = 1000, finite differences, inputs kept.

Each test calls the student's function in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.losses`` and ``course.reference.mlp``. The visible tests' expected
values come from the ``expected`` functions below (written to ``expected.json`` by ``course build``).

The notebook allows float32 (its training loops use it), so the tolerances accept a correct
float32 implementation: relative 1e-5 on values, 1e-4 on gradients and updated parameters.
"""
import numpy as np

from course.checks import Checks, check_close, check_finite, check_gradient, check_shape, numerical_gradient
from course.reference import losses as ref
from course.reference import mlp as ref_mlp

checks = Checks("04_mnist_softmax")
STRICT = {"over": "raise", "invalid": "raise", "divide": "raise"}
VAL = {"rtol": 1e-5, "atol": 1e-7}       # values (probabilities, costs)
GRAD = {"rtol": 1e-4, "atol": 1e-6}      # gradients and updated parameters


def init_softmax_net(n_x, n_h, n_y, seed=0, dtype=np.float64):
    """The notebook's locked ``init_softmax_net`` (the same code: it makes the visible inputs)."""
    rng = np.random.default_rng(seed)
    return {"W1": (rng.standard_normal((n_h, n_x)) * np.sqrt(2 / n_x)).astype(dtype),
            "b1": np.zeros((n_h, 1), dtype),
            "W2": (rng.standard_normal((n_y, n_h)) * np.sqrt(2 / n_h)).astype(dtype),
            "b2": np.zeros((n_y, 1), dtype)}


def normalized(images):
    """What ``normalize_images`` should return: one float column per image, values / 255."""
    images = np.asarray(images)
    return images.reshape(images.shape[0], -1).T / 255.0


# Inputs of the visible tests (the notebook uses the same literals).
DEMO_IMAGES = (np.arange(12).reshape(3, 2, 2) * 20).astype(np.uint8)
W_LOG = np.array([[0.5], [-1.0]])
B_LOG = 0.1
X_LOG = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.5]])
Y_LOG = np.array([[1, 0, 1]])
LABELS = np.array([3, 0, 2, 3])
Z_SOFTMAX = np.array([[1.0, 0.0, 1000.0], [2.0, 0.0, 0.0], [3.0, 0.0, -1000.0]])
Z_CE = np.array([[2.0, -1.0, 0.5], [1.0, 3.0, 0.5], [0.1, 0.2, 0.5]])
Y_CE = np.eye(3)
Z_CE_BIG = np.array([[1000.0], [0.0]])
Y_CE_BIG = np.array([[0.0], [1.0]])
PARAMS_MB = init_softmax_net(4, 3, 2, seed=1)
X_MB = np.array([[0.2, -0.4, 0.9], [0.5, 0.1, -0.3], [-0.7, 0.8, 0.4], [0.0, 0.3, -0.6]])
Y_MB = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
LR_MB = 0.5


def strict(fn, args, what):
    """``fn(*args)`` in the kernel with overflow, invalid operations and division by zero raising."""
    try:
        return fn.call(list(args), errstate=STRICT)
    except AssertionError as err:
        if "FloatingPointError" not in str(err):
            raise
        raise AssertionError(f"{what}: {err}. Large scores must not overflow: subtract the maximum "
                             "before exp(), and never take the log of a probability that can round to 0.") from None


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list, dict)) else "")


def _step_expected():
    new, cost = ref_mlp.minibatch_step(PARAMS_MB, X_MB, Y_MB, LR_MB)
    return {"cost": cost, **new}


@checks.expected("normalize_images")
def _():
    return normalized(DEMO_IMAGES)


@checks.expected("logistic_propagate")
def _():
    cost, dw, db = ref.logistic_propagate(W_LOG, B_LOG, X_LOG, Y_LOG)
    return {"cost": cost, "dw": dw, "db": db}


@checks.expected("one_hot")
def _():
    return ref.one_hot(LABELS, 4)


@checks.expected("softmax")
def _():
    return ref.softmax(Z_SOFTMAX, axis=0)


@checks.expected("softmax_cross_entropy")
def _():
    return {"J": ref.softmax_cross_entropy(Z_CE, Y_CE), "J_big": ref.softmax_cross_entropy(Z_CE_BIG, Y_CE_BIG)}


@checks.expected("softmax_cross_entropy_gradient")
def _():
    return ref.softmax_cross_entropy_gradient(Z_CE, Y_CE)


@checks.expected("minibatch_step")
def _():
    return _step_expected()


def _is_float_array(a, name):
    if not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
        raise AssertionError(f"{name} should be a float array (divide by 255.0), got "
                             f"{type(a).__name__}{'' if not isinstance(a, np.ndarray) else ' of dtype ' + str(a.dtype)}.")


@checks.test("test_normalize_images")
def _(student, rng):
    got = student.normalize_images.pure(DEMO_IMAGES)
    check_close(got, normalized(DEMO_IMAGES), "normalize_images(demo_images)", **VAL)
    for shape in [(7, 28, 28), (5, 3, 4), (1, 6, 2)]:
        imgs = rng.integers(0, 256, size=shape, dtype=np.uint8)
        out = student.normalize_images.pure(imgs)
        check_shape(out, (shape[1] * shape[2], shape[0]), f"normalize_images of {shape[0]} images of {shape[1]} x {shape[2]}")
        _is_float_array(out, "normalize_images' result")
        check_close(out, normalized(imgs), f"normalize_images on random {shape[1]} x {shape[2]} images "
                    "(column i must be image i read row by row)", **VAL)
    check_close(student.normalize_images(np.full((2, 3, 5), 255, np.uint8)), np.ones((15, 2)),
                "two all-ink 3 x 5 images (every value 1.0)", **VAL)


@checks.test("test_logistic_propagate")
def _(student, rng):
    cost, dw, db = _three(student.logistic_propagate.pure(W_LOG, B_LOG, X_LOG, Y_LOG))
    want = ref.logistic_propagate(W_LOG, B_LOG, X_LOG, Y_LOG)
    check_close(cost, want[0], "cost of the visible example", **VAL)
    check_close(dw, want[1], "dw of the visible example", **GRAD)
    check_close(db, want[2], "db of the visible example", **GRAD)
    for n_x, m in [(4, 9), (1, 1), (6, 25)]:
        w = rng.normal(size=(n_x, 1))
        b = float(rng.normal())
        X = rng.normal(size=(n_x, m)) * 2
        Y = (rng.random((1, m)) > 0.5).astype(float)
        cost, dw, db = _three(student.logistic_propagate.pure(w, b, X, Y))
        c_ref, dw_ref, db_ref = ref.logistic_propagate(w, b, X, Y)
        where = f"(n_x={n_x}, m={m})"
        check_close(cost, c_ref, f"cost {where}", **VAL)
        check_shape(np.asarray(dw), (n_x, 1), f"dw {where}")
        check_gradient(np.asarray(dw, dtype=float),
                       numerical_gradient(lambda: ref.logistic_propagate(w, b, X, Y)[0], w),
                       f"dw {where} against finite differences", tol=1e-5)
        num_b = (ref.logistic_propagate(w, b + 1e-6, X, Y)[0] - ref.logistic_propagate(w, b - 1e-6, X, Y)[0]) / 2e-6
        check_close(db, num_b, f"db {where} against finite differences", rtol=1e-4, atol=1e-7)
        check_close(dw, dw_ref, f"dw {where}", **GRAD)
    # confident predictions, two right and two wrong: z = +-1000
    w_big, X_big, Y_big = np.array([[1000.0]]), np.array([[1.0, -1.0, 1.0, -1.0]]), np.array([[1.0, 0.0, 0.0, 1.0]])
    cost, dw, db = _three(strict(student.logistic_propagate, [w_big, 0.0, X_big, Y_big], "logistic_propagate for |z| = 1000"))
    check_close(cost, 500.0, "cost for |z| = 1000 (two perfect answers, two certain mistakes): "
                "use max(z, 0) - z*y + log(1 + exp(-|z|))", **VAL)
    check_finite(dw, "dw for |z| = 1000")
    check_close(dw, [[0.5]], "dw for |z| = 1000", **GRAD)
    check_close(db, 0.0, "db for |z| = 1000", **GRAD)


def _three(result):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise AssertionError(f"logistic_propagate should return three values (cost, dw, db), got {_describe(result)}")
    return result


@checks.test("test_one_hot")
def _(student, rng):
    check_close(student.one_hot.pure(LABELS, 4), ref.one_hot(LABELS, 4), "one_hot([3, 0, 2, 3], 4)")
    for C, m in [(10, 50), (3, 1), (7, 12), (4, 9)]:
        y = rng.integers(0, C, size=m)
        got = student.one_hot.pure(y, C)
        check_shape(got, (C, m), f"one_hot of {m} labels with C = {C} (one column per label)")
        check_close(got, ref.one_hot(y, C), f"one_hot of {m} random labels, C = {C}")
    check_close(student.one_hot(np.array([0, 1]), 5), ref.one_hot([0, 1], 5),
                "one_hot([0, 1], 5) (classes that do not occur still get a row of zeros)")


@checks.test("test_softmax")
def _(student, rng):
    check_close(strict(student.softmax, [Z_SOFTMAX], "softmax(Z_demo) (scores of +-1000)"), ref.softmax(Z_SOFTMAX, axis=0),
                "softmax(Z_demo) (each column should sum to 1)", **VAL)
    for shape in [(10, 8), (2, 1), (5, 30), (4, 3)]:
        Z = rng.normal(scale=5, size=shape)
        A = student.softmax.pure(Z)
        check_close(A, ref.softmax(Z, axis=0), f"softmax of random {shape} scores (each column sums to 1)", **VAL)
        check_close(student.softmax(Z + 123.0), ref.softmax(Z, axis=0), "softmax(Z + 123) (should equal softmax(Z))",
                    **GRAD)
        shifted = Z - rng.normal(size=(1, shape[1])) * 500
        check_close(strict(student.softmax, [shifted], "softmax with large shifts"), ref.softmax(Z, axis=0),
                    "softmax with a different large shift in each column (subtract each column's own maximum)",
                    **GRAD)
    Z_big = np.array([[1000.0, -1000.0, 0.0], [999.0, -1000.0, 0.0], [-1000.0, 1000.0, 1e-300]])
    check_close(strict(student.softmax, [Z_big], "softmax for |z| = 1000"), ref.softmax(Z_big, axis=0),
                "softmax for |z| = 1000 (subtract each column's maximum first)", **VAL)


def _labels_one_hot(rng, C, m):
    return ref.one_hot(rng.integers(0, C, size=m), C)


@checks.test("test_softmax_cross_entropy")
def _(student, rng):
    check_close(student.softmax_cross_entropy.pure(Z_CE, Y_CE), ref.softmax_cross_entropy(Z_CE, Y_CE),
                "softmax_cross_entropy(Z_ce, Y_ce)", **VAL)
    check_close(strict(student.softmax_cross_entropy, [Z_CE_BIG, Y_CE_BIG], "cross-entropy for |z| = 1000"), 1000.0,
                "cross-entropy of a certain mistake with margin 1000", **VAL)
    for C, m in [(10, 16), (2, 1), (4, 9)]:
        Z = rng.normal(scale=3, size=(C, m))
        Y = _labels_one_hot(rng, C, m)
        check_close(student.softmax_cross_entropy.pure(Z, Y), ref.softmax_cross_entropy(Z, Y),
                    f"cross-entropy of random ({C}, {m}) logits (the mean over the m examples)", **VAL)
    Y = ref.one_hot(np.array([1, 5, 9]), 10)
    check_close(student.softmax_cross_entropy(np.zeros((10, 3)), Y), np.log(10),
                "cross-entropy of all-zero scores (log C)", **VAL)
    Z_big = np.array([[1000.0, -1000.0, 5.0], [-1000.0, 1000.0, -5.0], [0.0, 0.0, 1000.0]])
    Y_big = ref.one_hot(np.array([0, 2, 1]), 3)
    check_close(strict(student.softmax_cross_entropy, [Z_big, Y_big], "cross-entropy for |z| = 1000"),
                ref.softmax_cross_entropy(Z_big, Y_big), "cross-entropy for |z| = 1000 (use log-sum-exp)", **VAL)


@checks.test("test_softmax_cross_entropy_gradient", needs=["test_softmax"])
def _(student, rng):
    check_close(student.softmax_cross_entropy_gradient.pure(Z_CE, Y_CE), ref.softmax_cross_entropy_gradient(Z_CE, Y_CE),
                "softmax_cross_entropy_gradient(Z_ce, Y_ce)", **GRAD)
    for C, m in [(10, 6), (3, 1), (5, 11)]:
        Z = rng.normal(scale=2, size=(C, m))
        Y = _labels_one_hot(rng, C, m)
        g = student.softmax_cross_entropy_gradient.pure(Z, Y)
        check_close(g, ref.softmax_cross_entropy_gradient(Z, Y), f"gradient for random ({C}, {m}) logits", **GRAD)
        check_gradient(np.asarray(g, dtype=float), numerical_gradient(lambda: ref.softmax_cross_entropy(Z, Y), Z),
                       f"gradient for random ({C}, {m}) logits against finite differences", tol=1e-5)
    Z_big = np.array([[1000.0, -1000.0], [0.0, 1000.0]])
    Y_big = ref.one_hot(np.array([1, 1]), 2)
    check_close(strict(student.softmax_cross_entropy_gradient, [Z_big, Y_big], "gradient for |z| = 1000"),
                ref.softmax_cross_entropy_gradient(Z_big, Y_big), "gradient for |z| = 1000", **GRAD)


@checks.test("test_minibatch_step", needs=["test_softmax_cross_entropy", "test_softmax_cross_entropy_gradient"])
def _(student, rng):
    _check_step(student, PARAMS_MB, X_MB, Y_MB, LR_MB, "the visible example")
    for n_x, n_h, C, m, lr in [(6, 5, 4, 8, 0.1), (3, 2, 3, 1, 1.0), (10, 7, 10, 20, 0.5), (784, 16, 10, 12, 0.2)]:
        p = init_softmax_net(n_x, n_h, C, seed=int(rng.integers(1000)))
        p["b1"] = rng.normal(size=(n_h, 1)) * 0.1
        p["b2"] = rng.normal(size=(C, 1)) * 0.1
        X = rng.random((n_x, m)) if n_x == 784 else rng.normal(size=(n_x, m))
        Y = _labels_one_hot(rng, C, m)
        where = f"(n_x={n_x}, n_h={n_h}, C={C}, m={m}, learning_rate={lr})"
        cost = _check_step(student, p, X, Y, lr, where)
        # a small step goes downhill
        small, _ = _step_result(student.minibatch_step(p, X, Y, 1e-3))
        if not ref_mlp.mlp_loss_and_gradients(X, Y, _as_float(small, p))[0] < cost:
            raise AssertionError(f"a step with learning_rate=0.001 should lower the cost {where}: "
                                 "subtract the gradient (W - learning_rate * dW), do not add it.")


def _step_result(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[0], dict):
        raise AssertionError(f"minibatch_step should return two values (new_params, cost), got {_describe(result)}")
    return result


def _as_float(new, p):
    missing = [k for k in p if k not in new]
    if missing:
        raise AssertionError(f"the new parameters lack {', '.join(missing)}")
    for k in p:
        check_shape(new[k], p[k].shape, f"new {k}")
    return {k: np.asarray(new[k], dtype=float) for k in p}


def _check_step(student, p, X, Y, lr, where):
    new, cost = _step_result(student.minibatch_step(p, X, Y, lr))
    want, ref_cost = ref_mlp.minibatch_step(p, X, Y, lr)
    check_close(cost, ref_cost, f"cost of {where} (computed before the update)", **VAL)
    new = _as_float(new, p)
    for k in p:
        if np.allclose(new[k], p[k], rtol=0, atol=1e-12) and not np.allclose(want[k], p[k], rtol=0, atol=1e-12):
            raise AssertionError(f"new {k} of {where} equals the old {k}: the step should update every parameter.")
        check_close(new[k], want[k], f"new {k} of {where}", **GRAD)
    return ref_cost
