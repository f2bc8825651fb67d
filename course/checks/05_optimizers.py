"""Grader-side tests of 05_optimizers: logistic warm-up, mini-batches, update rules, schedules.

Each test calls the student's functions in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.optimizers`` and ``course.reference.minibatch``. The update rules of
deeplearning.ai modify the parameter dicts in place and return them: the tests compare what the
functions *return* (each call gets fresh copies across the wire), chain several steps by feeding
the returned state back, and never demand purity there. The visible tests' expected values come
from the ``expected`` functions below (written to ``expected.json`` by ``course build``).

Update rules may compute in float32 (the notebook says so): their tolerances (``UPDATE_TOL``)
accept float32 rounding and still catch every wrong formula by orders of magnitude.

Not checkable from here: whether ``initialize_adam`` returns ``v`` and ``s`` sharing arrays (object
identity does not cross the wire). The notebook's visible test checks it in the student's kernel.
"""
import numpy as np

from course.checks import (Checks, check_close, check_equal, check_finite, check_gradient, check_shape,
                           numerical_gradient)
from course.reference import minibatch as ref_mb
from course.reference import optimizers as ref

checks = Checks("05_optimizers")
STRICT = {"over": "raise", "invalid": "raise"}
UPDATE_TOL = {"rtol": 1e-5, "atol": 1e-7}

# ------------------------------------------------------------------ inputs of the visible tests
# The notebook's fixtures cell writes the same literals.
EXAMPLE_PARAMETERS = {"W1": np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]), "b1": np.array([[0.5], [-0.5]]),
                      "W2": np.array([[2.0, -1.0]]), "b2": np.array([[0.0]])}
EXAMPLE_GRADS = {
    1: {"dW1": np.array([[0.1, -0.2, 0.0], [0.4, 0.05, -0.3]]), "db1": np.array([[0.01], [-0.02]]),
        "dW2": np.array([[1.0, -0.5]]), "db2": np.array([[0.2]])},
    2: {"dW1": np.array([[-0.3, 0.1, 0.2], [0.0, 0.05, 0.1]]), "db1": np.array([[0.03], [0.0]]),
        "dW2": np.array([[0.5, 0.5]]), "db2": np.array([[-0.1]])},
}
DUMMY_X = np.array([[0, 0], [1, 0], [2.61, -1.28], [-0.59, 2.1]])      # one point per row
X_DEMO = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0, 0.0, 1.0],
                   [2.61, -1.28, 6.8121, 1.6384, -3.3408, 1.0], [-0.59, 2.1, 0.3481, 4.41, -1.239, 1.0]]).T
W_DEMO = np.array([[1.0], [-1.0], [0.5], [0.0], [2.0], [-1.0]])
Y_DEMO = np.array([[0.0, 1.0, 1.0, 0.0]])
Z_LARGE, ONE = np.array([[1000.0, -1000.0, 0.0]]), np.array([[1.0]])   # z = w^T X with w = 1
XS = np.vstack([np.arange(10.0), np.arange(10.0) ** 2])              # ten examples, index in row 0
YS = (np.arange(10) % 2)[None, :].astype(float)
BIG_M, BIG_N, BIG_SIZE = 148, 12288, 64                              # the classic sizes
UPDATE_LR_CALLS = [(0.5, 2, 1), (0.5, 0, 1)]
SCHEDULE_CALLS = [(0.5, 100, 1), (0.5, 2500, 1), (0.5, 250, 1, 100)]


def _params():
    return {k: v.copy() for k, v in EXAMPLE_PARAMETERS.items()}


def _copy(d):
    return {k: np.array(v, dtype=float) for k, v in d.items()}


def _zeros(params):
    return {"d" + k: np.zeros_like(v) for k, v in params.items()}


def _call_text(name, args):
    *pos, = args
    text = ", ".join(map(repr, pos[:3]))
    if len(pos) > 3:
        text += f", time_interval={pos[3]!r}"
    return f"{name}({text})"


# ------------------------------------------------------------------ expected values (visible tests)
@checks.expected("expand")
def _():
    return ref.expand(DUMMY_X.T).T


@checks.expected("probability")
def _():
    return ref.probability(X_DEMO, W_DEMO)


@checks.expected("probability_large_z")
def _():
    return ref.probability(Z_LARGE, ONE)


@checks.expected("compute_loss")
def _():
    return ref.compute_loss(X_DEMO, Y_DEMO, W_DEMO)


@checks.expected("compute_loss_large_z")
def _():
    z = Z_LARGE[:, :2]
    return {"right": ref.compute_loss(z, np.array([[1.0, 0.0]]), ONE),
            "wrong": ref.compute_loss(z, np.array([[0.0, 1.0]]), ONE)}


@checks.expected("compute_grad")
def _():
    return ref.compute_grad(X_DEMO, Y_DEMO, W_DEMO)


@checks.expected("random_mini_batches")
def _():
    small = ref_mb.random_mini_batches(XS, YS, 4, seed=0)
    n_full, rest = divmod(BIG_M, BIG_SIZE)
    sizes = [BIG_SIZE] * n_full + ([rest] if rest else [])
    return {"batches": [[bx, by] for bx, by in small],
            "shapes_X": [[BIG_N, b] for b in sizes], "shapes_Y": [[1, b] for b in sizes]}


@checks.expected("update_parameters_with_gd")
def _():
    return ref.update_parameters_with_gd(_params(), EXAMPLE_GRADS[1], 0.1)


@checks.expected("initialize_velocity")
def _():
    return ref.initialize_velocity(EXAMPLE_PARAMETERS)


@checks.expected("update_parameters_with_momentum")
def _():
    p, v = _params(), _zeros(EXAMPLE_PARAMETERS)
    for step in (1, 2):
        p, v = ref.update_parameters_with_momentum(p, EXAMPLE_GRADS[step], v, 0.9, 0.1)
    return {"parameters": p, "v": v}


@checks.expected("update_parameters_with_rmsprop")
def _():
    p, s = _params(), _zeros(EXAMPLE_PARAMETERS)
    p, s = ref.update_parameters_with_rmsprop(p, EXAMPLE_GRADS[1], s, beta=0.9, learning_rate=0.1)
    first = {"W1": p["W1"].copy()}
    p, s = ref.update_parameters_with_rmsprop(p, EXAMPLE_GRADS[2], s, beta=0.9, learning_rate=0.1)
    return {"step1": first, "parameters": p, "s": s}


@checks.expected("initialize_adam")
def _():
    v, s = ref.initialize_adam(EXAMPLE_PARAMETERS)
    return {"v": v, "s": s}


@checks.expected("update_parameters_with_adam")
def _():
    p, v, s = _params(), _zeros(EXAMPLE_PARAMETERS), _zeros(EXAMPLE_PARAMETERS)
    p, v, s, vc, sc = ref.update_parameters_with_adam(p, EXAMPLE_GRADS[1], v, s, 1, 0.1)
    first = {"W1": p["W1"].copy(), "v_corrected": vc}
    p, v, s, vc, sc = ref.update_parameters_with_adam(p, EXAMPLE_GRADS[2], v, s, 2, 0.1)
    return {"t1": first, "t2": {"parameters": p, "v": v, "s": s, "v_corrected": vc, "s_corrected": sc}}


@checks.expected("update_lr")
def _():
    return {_call_text("update_lr", a): ref.update_lr(*a) for a in UPDATE_LR_CALLS}


@checks.expected("schedule_lr_decay")
def _():
    return {_call_text("schedule_lr_decay", a): ref.schedule_lr_decay(*a) for a in SCHEDULE_CALLS}


# ------------------------------------------------------------------ helpers of the tests
def _layers(rng, shapes=((3, 2), (4, 3), (1, 4))):
    """Random parameters of a 3-layer network (W of each shape, b of (n, 1))."""
    p = {}
    for l, (n, n_prev) in enumerate(shapes, start=1):
        p[f"W{l}"] = rng.normal(size=(n, n_prev))
        p[f"b{l}"] = rng.normal(size=(n, 1))
    return p


def _grads_like(rng, params, spread=0.0):
    """Random gradients for ``params``; ``spread`` > 0 scales entries by 10**U(-spread, spread/1.5)."""
    out = {}
    for k, v in params.items():
        g = rng.normal(size=v.shape)
        if spread:
            g = g * 10.0 ** rng.uniform(-spread, spread / 1.5, size=v.shape)
        out["d" + k] = g
    return out


def _unpack(result, n, what):
    """``result`` as n values (a tuple or list of n), with a message a student understands."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = type(result).__name__
        if isinstance(result, (tuple, list)):
            got += f" of {len(result)} values"
        raise AssertionError(f"{what} should return {n} values, got a {got}.")
    return result


def _check_dict(got, want, what, **tol):
    """Same keys, and every array close to the reference's."""
    if not isinstance(got, dict):
        raise AssertionError(f"{what} should be a dict, got {type(got).__name__}.")
    check_equal(sorted(got), sorted(want), f"the keys of {what}")
    for k in want:
        check_close(got[k], want[k], f"{what}[{k!r}]", **tol)


# ------------------------------------------------------------------ 1. logistic warm-up
def _hint(check, *args, **kwargs):
    """``check(*args)``, its message followed by how to compute a loss that stays exact."""
    try:
        check(*args, **kwargs)
    except AssertionError as err:
        raise AssertionError(f"{err} Compute it from z = w^T X with np.logaddexp(0, z) - y z, not from "
                             "p (log(p) is -inf when p rounds to 0).") from None


@checks.test("test_expand")
def _(student, rng):
    check_close(np.asarray(student.expand(DUMMY_X.T)).T, ref.expand(DUMMY_X.T).T, "expand(dummy_X.T).T")
    for m in (1, 7, 300):
        X = rng.normal(scale=3, size=(2, m))
        F = student.expand.pure(X)
        check_shape(F, (6, m), f"expand of a (2, {m}) array")
        check_close(F, ref.expand(X), f"expand on {m} random points", rtol=1e-12, atol=1e-12)
    ints = np.array([[1, 2, 3], [4, 5, 6]])
    check_close(student.expand(ints), ref.expand(ints), "expand of an integer array [[1, 2, 3], [4, 5, 6]]")


@checks.test("test_probability")
def _(student, rng):
    check_close(student.probability(X_DEMO, W_DEMO), ref.probability(X_DEMO, W_DEMO), "probability(X_demo, w_demo)")
    for n, m in ((4, 9), (6, 1), (2, 30)):
        X, w = rng.normal(size=(n, m)), rng.normal(size=(n, 1))
        p = student.probability.pure(X, w)
        check_shape(p, (1, m), f"probability of X {X.shape} and w {w.shape}")
        check_close(p, ref.probability(X, w), f"probability on random inputs (n={n}, m={m})", rtol=1e-9, atol=1e-12)
    X, w = np.array([[1000.0, -1000.0, 0.0, 710.0, -710.0]]), np.array([[1.0]])
    try:
        p = student.probability.call([X, w], errstate=STRICT)
    except AssertionError as err:
        raise AssertionError(f"{err} (for z = {X[0].tolist()}): np.exp(-z) overflows for z = -1000; use one of "
                             "the overflow-free forms of the text.") from None
    check_finite(p, "probability for z = 1000, -1000, 0, 710, -710")
    check_close(p, ref.probability(X, w), "probability for z = 1000, -1000, 0, 710, -710", atol=1e-12)


@checks.test("test_compute_loss")
def _(student, rng):
    check_close(student.compute_loss(X_DEMO, Y_DEMO, W_DEMO), ref.compute_loss(X_DEMO, Y_DEMO, W_DEMO),
                "compute_loss(X_demo, y_demo, w_demo)")
    for n, m in ((5, 40), (3, 1)):
        X, w = rng.normal(size=(n, m)), rng.normal(size=(n, 1))
        y = (rng.random((1, m)) < 0.5).astype(float)
        loss = student.compute_loss.pure(X, y, w)
        check_close(loss, ref.compute_loss(X, y, w), f"compute_loss on random inputs (n={n}, m={m})", rtol=1e-9)
    one = np.array([[1.0]])
    loss = student.compute_loss(np.array([[1000.0, -1000.0]]), np.array([[1.0, 0.0]]), one)
    _hint(check_finite, loss, "the loss of two confident, correct predictions (z = 1000, -1000)")
    check_close(loss, 0.0, "the loss of two confident, correct predictions (z = 1000, -1000)", atol=1e-12)
    loss = student.compute_loss(np.array([[1000.0, -1000.0]]), np.array([[0.0, 1.0]]), one)
    _hint(check_finite, loss, "the loss of two confident, wrong predictions (z = 1000, -1000)")
    _hint(check_close, loss, 1000.0, "the loss of two confident, wrong predictions (z = 1000, -1000)", rtol=1e-9)


@checks.test("test_compute_grad")
def _(student, rng):
    check_close(student.compute_grad(X_DEMO, Y_DEMO, W_DEMO), ref.compute_grad(X_DEMO, Y_DEMO, W_DEMO),
                "compute_grad(X_demo, y_demo, w_demo)")
    for n, m in ((3, 1), (6, 25)):
        X, w = rng.normal(size=(n, m)), rng.normal(size=(n, 1))
        y = (rng.random((1, m)) < 0.5).astype(float)
        g = student.compute_grad.pure(X, y, w)
        check_shape(g, (n, 1), f"compute_grad for X {X.shape}, w {w.shape}")
        num = numerical_gradient(lambda: ref.compute_loss(X, y, w), w)
        check_gradient(g, num, f"compute_grad against finite differences (n={n}, m={m})", tol=1e-7)
    g = student.compute_grad(np.array([[1000.0, -1000.0]]), np.array([[0.0, 1.0]]), np.array([[1.0]]))
    check_finite(g, "the gradient for z = 1000, -1000")
    check_close(g, [[1000.0]], "the gradient for z = 1000, -1000 with wrong labels")


# ------------------------------------------------------------------ 2. mini-batches
def _check_batches(got, X, Y, size, seed, what):
    want = ref_mb.random_mini_batches(X, Y, size, seed=seed)
    if not isinstance(got, (list, tuple)):
        raise AssertionError(f"{what}: random_mini_batches should return a list, got {type(got).__name__}.")
    m = X.shape[1]
    if len(got) != len(want):
        hint = " (keep the last, smaller batch)" if len(got) == m // size and m % size else ""
        raise AssertionError(f"{what}: {len(got)} mini-batches, expected ceil({m} / {size}) = {len(want)}{hint}.")
    for i, (pair, (wx, wy)) in enumerate(zip(got, want)):
        gx, gy = _unpack(pair, 2, f"{what}: mini-batch {i}")
        check_shape(gx, wx.shape, f"{what}: mini_batch_X of batch {i}")
        check_shape(gy, wy.shape, f"{what}: mini_batch_Y of batch {i}")
        cols = _columns_of(gx, X)
        if cols is not None and not np.allclose(gy, Y[:, cols]):
            raise AssertionError(f"{what}: the labels of batch {i} do not belong to its inputs: index the "
                                 "columns of X and of Y with the same permutation.")
        try:
            check_close(gx, wx, f"{what}: mini_batch_X of batch {i}", rtol=1e-6, atol=0)
        except AssertionError as err:
            raise AssertionError(f"{err} Shuffle with np.random.seed(seed), then permutation = "
                                 "np.random.permutation(m), and take the columns X[:, permutation].") from None
        check_close(gy, wy, f"{what}: mini_batch_Y of batch {i}", rtol=1e-6, atol=0)


def _columns_of(batch_X, X):
    """The column of X each column of batch_X is (by the exact first row), or None."""
    lookup = {float(v): j for j, v in enumerate(X[0])}
    try:
        return [lookup[float(v)] for v in np.asarray(batch_X, dtype=X.dtype)[0]]
    except (KeyError, IndexError, TypeError, ValueError):
        return None


@checks.test("test_random_mini_batches")
def _(student, rng):
    _check_batches(student.random_mini_batches(XS, YS, 4, 0), XS, YS, 4, 0, "random_mini_batches(X, Y, 4, seed=0)")
    for m, size, seed in ((1, 64, 0), (64, 64, 3), (65, 64, 4), (100, 1, 5), (257, 32, 6), (50, 7, 7)):
        X = rng.normal(size=(3, m))
        X[0] = rng.permutation(m) + rng.uniform(0.1, 0.9, size=m)    # distinct values: columns are traceable
        Y = rng.normal(size=(2, m))
        got = student.random_mini_batches.pure(X, Y, size, seed)
        _check_batches(got, X, Y, size, seed, f"m={m}, mini_batch_size={size}, seed={seed}, Y with 2 rows")
    X = np.vstack([np.arange(203.0), -np.arange(203.0)])
    batches = student.random_mini_batches(X, np.arange(203.0)[None, :] * 10, 32, 11)
    both = np.concatenate([np.asarray(bx) for bx, _ in batches], axis=1)
    check_equal(sorted(both[0].astype(int).tolist()), list(range(203)), "the examples in all batches together "
                "(every example exactly once)")
    if np.array_equal(both[0], np.arange(203.0)):
        raise AssertionError("random_mini_batches did not shuffle the examples.")


# ------------------------------------------------------------------ 3. update rules
@checks.test("test_update_parameters_with_gd")
def _(student, rng):
    got = student.update_parameters_with_gd(_params(), EXAMPLE_GRADS[1], 0.1)
    _check_dict(got, ref.update_parameters_with_gd(_params(), EXAMPLE_GRADS[1], 0.1),
                "parameters after update_parameters_with_gd(example_parameters(), example_grads(), 0.1)", **UPDATE_TOL)
    p = _layers(rng)
    g = _grads_like(rng, p)
    got = student.update_parameters_with_gd(_copy(p), g, 0.03)
    _check_dict(got, ref.update_parameters_with_gd(_copy(p), g, 0.03),
                "parameters after one step (3 layers, learning_rate 0.03)", **UPDATE_TOL)
    got = student.update_parameters_with_gd({"w": np.array([[1.0], [2.0]])}, {"dw": np.array([[4.0], [-2.0]])}, 0.5)
    _check_dict(got, {"w": np.array([[-1.0], [3.0]])}, "a dict with the single parameter 'w'", **UPDATE_TOL)


@checks.test("test_initialize_velocity")
def _(student, rng):
    for p, what in ((EXAMPLE_PARAMETERS, "v for example_parameters()"), (_layers(rng), "v (3 layers)"),
                    ({"w": rng.normal(size=(6, 1))}, "v for the single parameter 'w'")):
        v = student.initialize_velocity.pure(_copy(p))
        _check_dict(v, ref.initialize_velocity(p), what, rtol=0, atol=0)
        if not all(np.asarray(a).dtype.kind == "f" for a in v.values()):
            raise AssertionError(f"{what} should hold float arrays (np.zeros or np.zeros_like of a float array).")


def _run_momentum(fn, p, grads_seq, beta, lr, v=None):
    v = _zeros(p) if v is None else v
    out = []
    for g in grads_seq:
        p, v = _unpack(fn(p, g, v, beta, lr), 2, "update_parameters_with_momentum")
        out.append((p, v))
    return out


@checks.test("test_update_parameters_with_momentum")
def _(student, rng):
    def ref_fn(p, g, v, beta, lr):
        return ref.update_parameters_with_momentum(_copy(p), g, _copy(v), beta, lr)

    cases = [(_params(), [EXAMPLE_GRADS[1], EXAMPLE_GRADS[2]], 0.9, 0.1, "example_parameters(), beta 0.9"),
             (_layers(rng), None, 0.8, 0.05, "3 layers, beta 0.8")]
    for p, grads_seq, beta, lr, what in cases:
        grads_seq = grads_seq or [_grads_like(rng, p) for _ in range(3)]
        got = _run_momentum(student.update_parameters_with_momentum, _copy(p), grads_seq, beta, lr)
        want = _run_momentum(ref_fn, _copy(p), grads_seq, beta, lr)
        for step, ((gp, gv), (wp, wv)) in enumerate(zip(got, want), start=1):
            _check_dict(gv, wv, f"v after {step} momentum step(s) ({what})", **UPDATE_TOL)
            _check_dict(gp, wp, f"parameters after {step} momentum step(s) ({what})", **UPDATE_TOL)
    # a velocity that is not zero, and beta = 0 (plain gradient descent)
    p, v = {"w": np.array([[1.0, -1.0]])}, {"dw": np.array([[5.0, 5.0]])}
    g = {"dw": np.array([[2.0, -3.0]])}
    gp, gv = _unpack(student.update_parameters_with_momentum(_copy(p), g, _copy(v), 0.0, 0.1), 2,
                     "update_parameters_with_momentum")
    check_close(gp["w"], [[0.8, -0.7]], "w after a momentum step with beta = 0 (plain gradient descent)", **UPDATE_TOL)
    gp, gv = student.update_parameters_with_momentum(_copy(p), g, _copy(v), 0.5, 0.1)
    check_close(gv["dw"], [[3.5, 1.0]], "v after a step with beta = 0.5 from v = 5", **UPDATE_TOL)


@checks.test("test_update_parameters_with_rmsprop")
def _(student, rng):
    def run(fn, p, grads_seq, **kw):
        s, out = _zeros(p), []
        for g in grads_seq:
            p, s = _unpack(fn(p, g, s, **kw), 2, "update_parameters_with_rmsprop")
            out.append((p, s))
        return out

    def ref_fn(p, g, s, **kw):
        return ref.update_parameters_with_rmsprop(_copy(p), g, _copy(s), **kw)

    p = _layers(rng, ((4, 2), (5, 4), (1, 5)))
    cases = [(_params(), [EXAMPLE_GRADS[1], EXAMPLE_GRADS[2]], {"beta": 0.9, "learning_rate": 0.1},
              "example_parameters(), beta 0.9"),
             (p, [_grads_like(rng, p, spread=3) for _ in range(3)],
              {"beta": 0.95, "learning_rate": 0.02, "epsilon": 1e-6}, "3 layers, beta 0.95, epsilon 1e-6"),
             (p, [_grads_like(rng, p) for _ in range(2)], {}, "3 layers, default hyper-parameters")]
    for p0, grads_seq, kw, what in cases:
        got = run(student.update_parameters_with_rmsprop, _copy(p0), grads_seq, **kw)
        want = run(ref_fn, _copy(p0), grads_seq, **kw)
        for step, ((gp, gs), (wp, ws)) in enumerate(zip(got, want), start=1):
            _check_dict(gs, ws, f"s after {step} RMSprop step(s) ({what})", rtol=1e-5, atol=1e-12)
            _check_dict(gp, wp, f"parameters after {step} RMSprop step(s) ({what})", **UPDATE_TOL)
    zero = {"dw": np.array([[0.0, 1.0]])}
    out = student.update_parameters_with_rmsprop({"w": np.array([[1.0, 1.0]])}, zero, {"dw": np.zeros((1, 2))})
    gp, _ = _unpack(out, 2, "update_parameters_with_rmsprop")
    check_finite(gp["w"], "RMSprop with a zero gradient and s = 0 (epsilon keeps 0 / 0 away)")
    check_close(gp["w"][0, 0], 1.0, "an entry with a zero gradient after an RMSprop step")


@checks.test("test_initialize_adam")
def _(student, rng):
    for p, what in ((EXAMPLE_PARAMETERS, "example_parameters()"), (_layers(rng), "3 layers"),
                    ({"w": rng.normal(size=(6, 1))}, "the single parameter 'w'")):
        v, s = _unpack(student.initialize_adam.pure(_copy(p)), 2, "initialize_adam")
        want_v, want_s = ref.initialize_adam(p)
        _check_dict(v, want_v, f"v for {what}", rtol=0, atol=0)
        _check_dict(s, want_s, f"s for {what}", rtol=0, atol=0)


def _run_adam(fn, p, grads_seq, t0=1, v=None, s=None, **kw):
    v = _zeros(p) if v is None else v
    s = _zeros(p) if s is None else s
    out = []
    for t, g in enumerate(grads_seq, start=t0):
        p, v, s, vc, sc = _unpack(fn(p, g, v, s, t, **kw), 5, "update_parameters_with_adam")
        out.append({"parameters": p, "v": v, "s": s, "v_corrected": vc, "s_corrected": sc})
    return out


@checks.test("test_update_parameters_with_adam")
def _(student, rng):
    def ref_fn(p, g, v, s, t, **kw):
        return ref.update_parameters_with_adam(_copy(p), g, _copy(v), _copy(s), t, **kw)

    # t = 1: bias correction makes the step lr * g / (|g| + eps) for gradients of any scale
    W = rng.normal(size=(6, 5))
    G = np.sign(rng.normal(size=(6, 5))) * 10.0 ** rng.uniform(-3, 3, size=(6, 5))
    p, v, s, vc, sc = _unpack(student.update_parameters_with_adam({"W": W.copy()}, {"dW": G}, {"dW": np.zeros((6, 5))},
                                                                  {"dW": np.zeros((6, 5))}, 1, 0.01), 5,
                              "update_parameters_with_adam")
    check_close(vc["dW"], G, "v_corrected at t = 1 (the bias correction makes it equal the gradient)", rtol=1e-5)
    check_close(sc["dW"], G ** 2, "s_corrected at t = 1 (the bias correction makes it equal the squared gradient)",
                rtol=1e-5)
    check_close(v["dW"], 0.1 * G, "v at t = 1 (not corrected: (1 - beta1) * gradient)", rtol=1e-5)
    check_close(s["dW"], 0.001 * G ** 2, "s at t = 1 (not corrected: (1 - beta2) * gradient**2)", rtol=1e-5)
    check_close(W - p["W"], 0.01 * G / (np.abs(G) + 1e-8),
                "the first Adam step (t = 1) on gradients from 1e-3 to 1e3: each entry moves by about the learning rate",
                rtol=1e-4, atol=1e-9)

    p0 = _layers(rng, ((3, 4), (5, 3), (2, 5)))
    cases = [(_params(), [EXAMPLE_GRADS[1], EXAMPLE_GRADS[2]], 1, {"learning_rate": 0.1},
              "example_parameters(), learning_rate 0.1"),
             (p0, [_grads_like(rng, p0, spread=2) for _ in range(4)], 1,
              {"learning_rate": 0.005, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7},
              "3 layers, beta1 0.8, beta2 0.99, epsilon 1e-7"),
             (p0, [_grads_like(rng, p0) for _ in range(3)], 1, {}, "3 layers, default hyper-parameters")]
    for p_start, grads_seq, t0, kw, what in cases:
        got = _run_adam(student.update_parameters_with_adam, _copy(p_start), grads_seq, t0, **kw)
        want = _run_adam(ref_fn, _copy(p_start), grads_seq, t0, **kw)
        for t, (g_out, w_out) in enumerate(zip(got, want), start=t0):
            for name in ("v", "s", "v_corrected", "s_corrected", "parameters"):
                tol = UPDATE_TOL if name == "parameters" else {"rtol": 1e-5, "atol": 1e-12}
                _check_dict(g_out[name], w_out[name], f"{name} after the step t = {t} ({what})", **tol)
    # one step from moments that are not zero, at t = 7: uses the t it is given
    p = _layers(rng)
    v, s = _grads_like(rng, p), {k: np.abs(a) for k, a in _grads_like(rng, p).items()}
    g = _grads_like(rng, p)
    got = _run_adam(student.update_parameters_with_adam, _copy(p), [g], 7, _copy(v), _copy(s), learning_rate=0.02)
    want = _run_adam(ref_fn, _copy(p), [g], 7, _copy(v), _copy(s), learning_rate=0.02)
    for name in ("v_corrected", "s_corrected", "parameters"):
        tol = UPDATE_TOL if name == "parameters" else {"rtol": 1e-5, "atol": 1e-12}
        _check_dict(got[0][name], want[0][name], f"{name} after one step at t = 7 from non-zero v and s", **tol)


# ------------------------------------------------------------------ 3.5 schedules
@checks.test("test_update_lr")
def _(student, rng):
    calls = UPDATE_LR_CALLS + [(0.1, 10, 0.3), (1.0, 999, 0.01), (0.02, 1, 0.0), (0.3, 7, 2.5)]
    for a in calls:
        check_close(student.update_lr(*a), ref.update_lr(*a), _call_text("update_lr", a), rtol=1e-9)
    lr0, e, d = float(rng.uniform(0.01, 1)), int(rng.integers(1, 500)), float(rng.uniform(0.01, 2))
    check_close(student.update_lr(lr0, e, d), ref.update_lr(lr0, e, d), _call_text("update_lr", (lr0, e, d)), rtol=1e-9)


@checks.test("test_schedule_lr_decay")
def _(student, rng):
    calls = SCHEDULE_CALLS + [(0.1, 999, 1.0, 1000), (0.1, 1000, 1.0, 1000), (0.3, 10, 0.3, 5), (0.3, 14, 0.3, 5),
                              (0.05, 0, 2.0, 7), (0.2, 1999, 1.0)]
    for a in calls:
        check_close(student.schedule_lr_decay(*a), ref.schedule_lr_decay(*a), _call_text("schedule_lr_decay", a),
                    rtol=1e-9)
    T = int(rng.integers(2, 50))
    e = int(rng.integers(1, 20)) * T - 1      # just before a drop
    for epoch in (e, e + 1):
        a = (0.4, epoch, 0.5, T)
        check_close(student.schedule_lr_decay(*a), ref.schedule_lr_decay(*a), _call_text("schedule_lr_decay", a),
                    rtol=1e-9)
