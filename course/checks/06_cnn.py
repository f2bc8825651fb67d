"""Grader-side tests of 06_cnn: random shapes, strides and paddings, finite differences, inputs kept.

Each test calls the student's function in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.cnn_utils`` (NHWC, ``hparameters`` dicts, the canonical caches).
The loop versions (``conv_forward`` ...) and the fast versions the training uses
(``conv_forward_fast`` ...) have the same contract and are checked the same way; only the results
count, never the time. Tolerances accept float32 arithmetic (the notebook allows it). The visible
tests' expected values come from the ``expected`` functions below (``expected.json``).
"""
import numpy as np

from course.checks import Checks, check_close, check_equal, check_gradient, check_shape, numerical_gradient
from course.reference import cnn_utils as ref

checks = Checks("06_cnn")

# float32 is allowed: a relative error of about 1e-7 per operation, sums of a few hundred terms
RTOL, ATOL = 1e-4, 1e-4
GRAD_TOL = 1e-5


# ------------------------------------------------------------------ visible tests' inputs
# The notebook draws the same inputs from the same seeds (np.random.default_rng(k)).
def _visible(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


X_ZERO_PAD, = _visible(1, (4, 3, 3, 2))
PAD = 2
A_SINGLE, W_SINGLE, B_SINGLE = _visible(2, (4, 4, 3), (4, 4, 3), (1, 1, 1))
A_CONV, W_CONV, B_CONV = _visible(3, (2, 5, 7, 4), (3, 3, 4, 8), (1, 1, 1, 8))
HP_CONV = {"pad": 1, "stride": 2}
A_POOL, = _visible(4, (2, 5, 5, 3))
HP_POOL = {"f": 3, "stride": 2}
A_CONV_B, W_CONV_B, B_CONV_B, DZ_CONV_B = _visible(6, (2, 5, 7, 4), (3, 3, 4, 8), (1, 1, 1, 8), (2, 3, 4, 8))
HP_CONV_B = {"pad": 1, "stride": 2}
X_MASK, = _visible(8, (2, 3))
DZ_DISTRIBUTE, SHAPE_DISTRIBUTE = 2.0, (2, 2)
A_POOL_B, DA_POOL_B = _visible(9, (5, 5, 3, 2), (5, 4, 2, 2))
HP_POOL_B = {"stride": 1, "f": 2}
A_FAST, W_FAST, B_FAST = _visible(11, (4, 9, 8, 3), (3, 3, 3, 5), (1, 1, 1, 5))
HP_FAST = {"pad": 1, "stride": 2}
A_FAST_B, W_FAST_B, B_FAST_B, DZ_FAST_B = _visible(12, (3, 6, 7, 2), (4, 4, 2, 3), (1, 1, 1, 3), (3, 4, 4, 3))
HP_FAST_B = {"pad": 2, "stride": 2}
A_POOL_FAST, = _visible(13, (3, 6, 7, 4))
HP_POOL_FAST = {"f": 3, "stride": 2}
A_POOL_FAST_B, DA_POOL_FAST_B = _visible(14, (3, 6, 7, 4), (3, 2, 3, 4))
HP_POOL_FAST_B = {"f": 3, "stride": 2}


# ------------------------------------------------------------------ expected values (visible tests)
@checks.expected("zero_pad")
def _():
    P = ref.zero_pad(X_ZERO_PAD, PAD)
    return {"shape": list(P.shape), "x_pad_1_2": P[1, 2]}


@checks.expected("conv_single_step")
def _():
    return ref.conv_single_step(A_SINGLE, W_SINGLE, B_SINGLE)


def _conv_summary(A, W, b, hp, at):
    Z = ref.conv_forward(A, W, b, hp)[0]
    return {"shape": list(Z.shape), "mean": Z.mean(), "Z_at": Z[at]}


@checks.expected("conv_forward")
def _():
    return _conv_summary(A_CONV, W_CONV, B_CONV, HP_CONV, (0, 2, 1))


@checks.expected("conv_forward_fast")
def _():
    return _conv_summary(A_FAST, W_FAST, B_FAST, HP_FAST, (1, 2, 3))


@checks.expected("pool_forward")
def _():
    A_max = ref.pool_forward(A_POOL, HP_POOL, "max")[0]
    A_avg = ref.pool_forward(A_POOL, HP_POOL, "average")[0]
    return {"shape": list(A_max.shape), "max_1_1_1": A_max[1, 1, 1], "avg_1_1_1": A_avg[1, 1, 1]}


@checks.expected("pool_forward_fast")
def _():
    A_max = ref.pool_forward(A_POOL_FAST, HP_POOL_FAST, "max")[0]
    A_avg = ref.pool_forward(A_POOL_FAST, HP_POOL_FAST, "average")[0]
    return {"shape": list(A_max.shape), "max_1_1_2": A_max[1, 1, 2], "avg_1_1_2": A_avg[1, 1, 2]}


def _conv_backward_summary(A, W, b, hp, dZ):
    dA, dW, db = ref.conv_backward(dZ, (A, W, b, hp))
    return {"dA_prev_shape": list(dA.shape), "dW_shape": list(dW.shape), "db_shape": list(db.shape),
            "dA_prev_mean": dA.mean(), "dW_1_1_1": dW[1, 1, 1], "db": db.ravel()}


@checks.expected("conv_backward")
def _():
    return _conv_backward_summary(A_CONV_B, W_CONV_B, B_CONV_B, HP_CONV_B, DZ_CONV_B)


@checks.expected("conv_backward_fast")
def _():
    return _conv_backward_summary(A_FAST_B, W_FAST_B, B_FAST_B, HP_FAST_B, DZ_FAST_B)


@checks.expected("create_mask_from_window")
def _():
    return ref.create_mask_from_window(X_MASK)


@checks.expected("distribute_value")
def _():
    return ref.distribute_value(DZ_DISTRIBUTE, SHAPE_DISTRIBUTE)


def _pool_backward_summary(A, hp, dA, at):
    out = {}
    for mode in ("max", "average"):
        d = ref.pool_backward(dA, (A, hp), mode)
        out[f"{mode}_at"] = d[at]
        out[f"{mode}_mean"] = d.mean()
    return out


@checks.expected("pool_backward")
def _():
    return _pool_backward_summary(A_POOL_B, HP_POOL_B, DA_POOL_B, (1, 1))


@checks.expected("pool_backward_fast")
def _():
    return _pool_backward_summary(A_POOL_FAST_B, HP_POOL_FAST_B, DA_POOL_FAST_B, (1, 2))


# ------------------------------------------------------------------ helpers
def _pair(out, name, n):
    if not isinstance(out, (tuple, list)) or len(out) != n:
        raise AssertionError(f"{name} should return {n} values (a tuple), got {type(out).__name__}"
                             + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "") + ".")
    return out


def _check_conv_cache(cache, A, W, b, hp, name):
    if not isinstance(cache, (tuple, list)) or len(cache) != 4:
        raise AssertionError(f"the cache of {name} should be the tuple (A_prev, W, b, hparameters).")
    for got, want, what in zip(cache[:3], (A, W, b), ("A_prev", "W", "b")):
        check_close(got, want, f"cache[{('A_prev', 'W', 'b').index(what)}] of {name} (should be {what}, unchanged)",
                    rtol=RTOL, atol=ATOL)
    if cache[3] != hp:
        raise AssertionError(f"cache[3] of {name} should be the hparameters dict {hp}, got {cache[3]!r}.")


def _check_pool_cache(cache, A, hp, name):
    if not isinstance(cache, (tuple, list)) or len(cache) != 2:
        raise AssertionError(f"the cache of {name} should be the tuple (A_prev, hparameters).")
    check_close(cache[0], A, f"cache[0] of {name} (should be A_prev, unchanged)", rtol=RTOL, atol=ATOL)
    if cache[1] != hp:
        raise AssertionError(f"cache[1] of {name} should be the hparameters dict {hp}, got {cache[1]!r}.")


def _describe_conv(A, W, hp):
    return f"a {A.shape} batch, {W.shape[3]} filter(s) of {W.shape[0]}x{W.shape[1]}, pad={hp['pad']}, stride={hp['stride']}"


def _conv_cases(rng, n_random=5):
    """Fixed awkward configurations plus random ones: (A, W, b, hparameters)."""
    fixed = [((1, 4, 4, 1), 1, 0, 1, 1), ((2, 6, 5, 3), 3, 1, 1, 2), ((2, 7, 6, 2), 2, 0, 3, 3),
             ((1, 8, 9, 3), 4, 2, 2, 2), ((3, 5, 5, 2), 5, 0, 1, 4), ((1, 3, 4, 2), 3, 2, 3, 1),
             ((2, 7, 4, 2), 3, 1, 2, 3)]
    for _ in range(n_random):
        f, pad, stride = int(rng.integers(1, 5)), int(rng.integers(0, 3)), int(rng.integers(1, 4))
        lo = max(f - 2 * pad, 1)
        fixed.append(((int(rng.integers(1, 4)), int(rng.integers(lo, 10)), int(rng.integers(lo, 10)),
                       int(rng.integers(1, 4))), f, pad, stride, int(rng.integers(1, 5))))
    cases = []
    for shape, f, pad, stride, n_C in fixed:
        cases.append((rng.standard_normal(shape), rng.standard_normal((f, f, shape[3], n_C)),
                      rng.standard_normal((1, 1, 1, n_C)), {"pad": pad, "stride": stride}))
    return cases


def _pool_cases(rng, n_random=5):
    """(A, hparameters): windows that tile, overlap, skip pixels, cover everything, and random ones."""
    fixed = [((1, 4, 4, 1), 2, 2), ((2, 7, 5, 3), 3, 1), ((3, 6, 8, 2), 2, 3), ((1, 5, 5, 2), 5, 1),
             ((2, 3, 4, 1), 1, 1), ((2, 5, 6, 2), 3, 2)]
    for _ in range(n_random):
        f, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        fixed.append(((int(rng.integers(1, 4)), int(rng.integers(f, 10)), int(rng.integers(f, 10)),
                       int(rng.integers(1, 4))), f, stride))
    return [(rng.standard_normal(shape), {"f": f, "stride": stride}) for shape, f, stride in fixed]


# ------------------------------------------------------------------ shared bodies (loop and fast)
def _test_conv_forward(fn, rng, visible, name):
    A, W, b, hp = visible
    Z, cache = _pair(fn.pure(A, W, b, hp), name, 2)
    check_close(Z, ref.conv_forward(A, W, b, hp)[0], f"Z of {name} on the notebook's example", rtol=RTOL, atol=ATOL)
    _check_conv_cache(cache, A, W, b, hp, name)
    for A, W, b, hp in _conv_cases(rng):
        Z, cache = _pair(fn.pure(A, W, b, hp), name, 2)
        check_close(Z, ref.conv_forward(A, W, b, hp)[0], f"Z of {name} for {_describe_conv(A, W, hp)}",
                    rtol=RTOL, atol=ATOL)
        _check_conv_cache(cache, A, W, b, hp, name)
    Z, _ = _pair(fn(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), np.zeros((1, 1, 1, 1)), {"pad": 1, "stride": 1}), name, 2)
    check_close(Z, np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]], float).reshape(1, 3, 3, 1),
                f"{name} of a 3x3 box filter on a padded 3x3 image of ones (the zeros count only at the border)")


def _test_conv_backward(fn, rng, visible, name):
    A, W, b, hp, dZ = visible
    grads = _pair(fn.pure(dZ, (A, W, b, hp)), name, 3)
    for what, got, want in zip(("dA_prev", "dW", "db"), grads, ref.conv_backward(dZ, (A, W, b, hp))):
        check_close(got, want, f"{what} of {name} on the notebook's example", rtol=RTOL, atol=ATOL)
    for A, W, b, hp in _conv_cases(rng):
        dZ = rng.standard_normal(ref.conv_forward(A, W, b, hp)[0].shape)
        grads = _pair(fn.pure(dZ, (A, W, b, hp)), name, 3)
        for what, got, want in zip(("dA_prev", "dW", "db"), grads, ref.conv_backward(dZ, (A, W, b, hp))):
            check_close(got, want, f"{what} of {name} for {_describe_conv(A, W, hp)}", rtol=RTOL, atol=ATOL)
    # finite differences of J = sum(G * Z): dJ/dZ = G, overlapping windows and padding
    A, W, b = rng.standard_normal((2, 4, 5, 2)), rng.standard_normal((3, 3, 2, 2)), rng.standard_normal((1, 1, 1, 2))
    hp = {"pad": 1, "stride": 1}
    G = rng.standard_normal(ref.conv_forward(A, W, b, hp)[0].shape)
    dA, dW, db = _pair(fn(G, (A, W, b, hp)), name, 3)

    def J():
        return float(np.sum(G * ref.conv_forward(A, W, b, hp)[0]))

    check_gradient(dA, numerical_gradient(J, A), f"dA_prev of {name} ({_describe_conv(A, W, hp)})", tol=GRAD_TOL)
    check_gradient(dW, numerical_gradient(J, W), f"dW of {name} ({_describe_conv(A, W, hp)})", tol=GRAD_TOL)
    check_gradient(db, numerical_gradient(J, b), f"db of {name} ({_describe_conv(A, W, hp)})", tol=GRAD_TOL)


def _test_pool_forward(fn, rng, visible, name):
    A, hp = visible
    for mode in ("max", "average"):
        out, cache = _pair(fn.pure(A, hp, mode=mode), name, 2)
        check_close(out, ref.pool_forward(A, hp, mode)[0], f"{name} ({mode}) on the notebook's example",
                    rtol=RTOL, atol=ATOL)
        _check_pool_cache(cache, A, hp, name)
    for A, hp in _pool_cases(rng):
        for mode in ("max", "average"):
            out, cache = _pair(fn.pure(A, hp, mode=mode), name, 2)
            check_close(out, ref.pool_forward(A, hp, mode)[0],
                        f"{name} ({mode}) for a {A.shape} batch, f={hp['f']}, stride={hp['stride']}", rtol=RTOL, atol=ATOL)
            _check_pool_cache(cache, A, hp, name)
    A = -np.abs(rng.standard_normal((2, 4, 4, 3))) - 1.0  # all negative: a maximum that starts at 0 is wrong
    hp = {"f": 2, "stride": 2}
    out, _ = _pair(fn(A, hp), name, 2)
    check_close(out, ref.pool_forward(A, hp, "max")[0],
                f"{name}(A_prev, hparameters) (default mode, max) on negative inputs", rtol=RTOL, atol=ATOL)


def _test_pool_backward(fn, rng, visible, name):
    A, hp, dA = visible
    for mode in ("max", "average"):
        check_close(fn.pure(dA, (A, hp), mode=mode), ref.pool_backward(dA, (A, hp), mode),
                    f"{name} ({mode}) on the notebook's example", rtol=RTOL, atol=ATOL)
    for A, hp in _pool_cases(rng):
        for mode in ("max", "average"):
            G = rng.standard_normal(ref.pool_forward(A, hp, mode)[0].shape)
            check_close(fn.pure(G, (A, hp), mode=mode), ref.pool_backward(G, (A, hp), mode),
                        f"{name} ({mode}) for a {A.shape} batch, f={hp['f']}, stride={hp['stride']}", rtol=RTOL, atol=ATOL)
    # ties (whole numbers repeat): every tied maximum of a window receives that window's gradient
    A = rng.integers(0, 3, size=(2, 6, 6, 2)).astype(float)
    for hp in ({"f": 2, "stride": 2}, {"f": 3, "stride": 1}):
        G = rng.standard_normal(ref.pool_forward(A, hp, "max")[0].shape)
        check_close(fn(G, (A, hp)), ref.pool_backward(G, (A, hp), "max"),
                    f"{name} (max, the default mode) on windows with tied maxima, f={hp['f']}, stride={hp['stride']} "
                    "(every tied maximum gets the window's gradient, as create_mask_from_window marks them)",
                    rtol=RTOL, atol=ATOL)
    # finite differences of J = sum(G * pool(A)) with overlapping windows (random inputs: no ties)
    A = rng.standard_normal((2, 5, 4, 2))
    hp = {"f": 3, "stride": 1}
    for mode in ("max", "average"):
        G = rng.standard_normal(ref.pool_forward(A, hp, mode)[0].shape)

        def J():
            return float(np.sum(G * ref.pool_forward(A, hp, mode)[0]))

        check_gradient(fn(G, (A, hp), mode=mode), numerical_gradient(J, A),
                       f"{name} ({mode}, overlapping 3x3 windows, stride 1) vs finite differences", tol=GRAD_TOL)


def _float32(tree):
    return [x.astype(np.float32) if isinstance(x, np.ndarray) else x for x in tree]


def _as64(tree):
    return [x.astype(np.float64) if isinstance(x, np.ndarray) else x for x in tree]


# ------------------------------------------------------------------ the loop versions
@checks.test("test_zero_pad")
def _(student, rng):
    P = student.zero_pad.pure(X_ZERO_PAD, PAD)
    check_close(P, ref.zero_pad(X_ZERO_PAD, PAD), "zero_pad(x, 2) on the notebook's example")
    for shape, pad in [((1, 1, 1, 1), 1), ((2, 5, 3, 4), 0), ((3, 2, 6, 1), 3),
                       (tuple(int(n) for n in rng.integers(1, 6, size=4)), int(rng.integers(1, 4)))]:
        X = rng.standard_normal(shape)
        check_close(student.zero_pad.pure(X, pad), ref.zero_pad(X, pad), f"zero_pad of a {shape} batch with pad={pad}")
    X = rng.standard_normal((2, 3, 4, 5))
    P = student.zero_pad(X, 2)
    check_shape(P, (2, 7, 8, 5), "zero_pad of a (2, 3, 4, 5) batch with pad=2 (pad only the height and width)")
    check_close(np.abs(P).sum(), np.abs(X).sum(), "the sum of |x_pad| (the padding must be zeros)")


@checks.test("test_conv_single_step")
def _(student, rng):
    def one(a, W, b, what):
        z = student.conv_single_step.pure(a, W, b)
        if isinstance(z, np.ndarray) and z.ndim == 0:
            raise AssertionError("conv_single_step should return a np.float64 scalar, got a 0-d array: "
                                 "np.sum(...) + b.item() gives the scalar directly.")
        if isinstance(z, np.ndarray):
            raise AssertionError(f"conv_single_step should return one number (a np.float64), got an array of shape "
                                 f"{z.shape}: add the bias as a number, b.item(), not as the (1, 1, 1) array b.")
        if not isinstance(z, float):  # np.float64 is a float; so is a Python float
            raise AssertionError(f"conv_single_step should return a np.float64, got {type(z).__name__} {z!r}.")
        check_close(z, ref.conv_single_step(a, W, b), what, rtol=1e-6, atol=1e-6)

    one(A_SINGLE, W_SINGLE, B_SINGLE, "conv_single_step on the notebook's example")
    for f, c in [(1, 1), (3, 5), (5, 2), (int(rng.integers(1, 7)), int(rng.integers(1, 7)))]:
        one(rng.standard_normal((f, f, c)), rng.standard_normal((f, f, c)), rng.standard_normal((1, 1, 1)),
            f"conv_single_step with f={f}, n_C={c}")
    one(np.zeros((2, 2, 1)), np.ones((2, 2, 1)), np.full((1, 1, 1), -3.5), "conv_single_step of a zero window (just the bias)")


@checks.test("test_conv_forward", needs=["test_zero_pad", "test_conv_single_step"])
def _(student, rng):
    _test_conv_forward(student.conv_forward, rng, (A_CONV, W_CONV, B_CONV, HP_CONV), "conv_forward")


@checks.test("test_pool_forward")
def _(student, rng):
    _test_pool_forward(student.pool_forward, rng, (A_POOL, HP_POOL), "pool_forward")


@checks.test("test_conv_backward", needs=["test_zero_pad"])
def _(student, rng):
    _test_conv_backward(student.conv_backward, rng, (A_CONV_B, W_CONV_B, B_CONV_B, HP_CONV_B, DZ_CONV_B),
                        "conv_backward")


@checks.test("test_create_mask_from_window")
def _(student, rng):
    def one(x, want, what):
        got = student.create_mask_from_window.pure(x)
        check_shape(got, x.shape, what)
        check_equal(np.asarray(got).astype(bool), np.asarray(want), what)

    one(X_MASK, ref.create_mask_from_window(X_MASK), "the mask of the notebook's example")
    for shape in [(1, 1), (3, 3), (4, 2), (2, 5)]:
        x = rng.standard_normal(shape)
        one(x, ref.create_mask_from_window(x), f"the mask of a random {shape} window")
    x = -np.abs(rng.standard_normal((3, 3))) - 1.0
    one(x, ref.create_mask_from_window(x), "the mask of a window of negative numbers")
    x = np.array([[1.0, 3.0], [3.0, 2.0]])
    one(x, ref.create_mask_from_window(x), "the mask of [[1, 3], [3, 2]] (two tied maxima: mark both)")


@checks.test("test_distribute_value")
def _(student, rng):
    cases = [(DZ_DISTRIBUTE, SHAPE_DISTRIBUTE), (3.0, (3, 1)), (-1.2, (2, 5)), (0.0, (4, 4)), (7.5, (1, 1)),
             (float(rng.normal()), (int(rng.integers(1, 6)), int(rng.integers(1, 6))))]
    for dz, shape in cases:
        check_close(student.distribute_value(dz, shape), ref.distribute_value(dz, shape),
                    f"distribute_value({dz:g}, {shape})")
    dz = np.float64(rng.normal())  # what pool_backward passes: one entry of dA
    check_close(student.distribute_value(dz, (3, 2)), ref.distribute_value(dz, (3, 2)),
                f"distribute_value of a np.float64 ({dz:g}) over (3, 2)")


@checks.test("test_pool_backward", needs=["test_create_mask_from_window", "test_distribute_value"])
def _(student, rng):
    _test_pool_backward(student.pool_backward, rng, (A_POOL_B, HP_POOL_B, DA_POOL_B), "pool_backward")


# ------------------------------------------------------------------ the fast versions (used for training)
@checks.test("test_conv_forward_fast")
def _(student, rng):
    fn = student.conv_forward_fast
    _test_conv_forward(fn, rng, (A_FAST, W_FAST, B_FAST, HP_FAST), "conv_forward_fast")
    # MNIST-sized, and in float32 as in training
    A, W, b = _float32([rng.standard_normal((4, 28, 28, 1)), rng.standard_normal((5, 5, 1, 8)) * 0.3,
                        rng.standard_normal((1, 1, 1, 8))])
    hp = {"pad": 0, "stride": 1}
    Z, _ = _pair(fn(A, W, b, hp), "conv_forward_fast", 2)
    check_close(Z, ref.conv_forward(*_as64([A, W, b]), hp)[0],
                "conv_forward_fast on float32 inputs (4 images 28x28x1, eight 5x5 filters)", rtol=RTOL, atol=ATOL)
    A, W, b = _float32([rng.standard_normal((4, 12, 12, 8)), rng.standard_normal((5, 5, 8, 16)) * 0.1,
                        rng.standard_normal((1, 1, 1, 16))])
    Z, _ = _pair(fn(A, W, b, hp), "conv_forward_fast", 2)
    check_close(Z, ref.conv_forward(*_as64([A, W, b]), hp)[0],
                "conv_forward_fast on float32 inputs (4 inputs 12x12x8, sixteen 5x5 filters)", rtol=RTOL, atol=ATOL)


@checks.test("test_conv_backward_fast")
def _(student, rng):
    fn = student.conv_backward_fast
    _test_conv_backward(fn, rng, (A_FAST_B, W_FAST_B, B_FAST_B, HP_FAST_B, DZ_FAST_B), "conv_backward_fast")
    A, W, b = _float32([rng.standard_normal((4, 12, 12, 8)), rng.standard_normal((5, 5, 8, 16)) * 0.1,
                        rng.standard_normal((1, 1, 1, 16))])
    hp = {"pad": 0, "stride": 1}
    dZ = rng.standard_normal((4, 8, 8, 16)).astype(np.float32)
    grads = _pair(fn(dZ, (A, W, b, hp)), "conv_backward_fast", 3)
    want = ref.conv_backward(dZ.astype(np.float64), tuple(_as64([A, W, b])) + (hp,))
    for what, got, w in zip(("dA_prev", "dW", "db"), grads, want):
        check_close(got, w, f"{what} of conv_backward_fast on float32 inputs (4 inputs 12x12x8, sixteen 5x5 filters)",
                    rtol=RTOL, atol=1e-3)


@checks.test("test_pool_forward_fast")
def _(student, rng):
    fn = student.pool_forward_fast
    _test_pool_forward(fn, rng, (A_POOL_FAST, HP_POOL_FAST), "pool_forward_fast")
    A = rng.standard_normal((4, 24, 24, 8)).astype(np.float32)
    hp = {"f": 2, "stride": 2}
    for mode in ("max", "average"):
        out, _ = _pair(fn(A, hp, mode=mode), "pool_forward_fast", 2)
        check_close(out, ref.pool_forward(A.astype(np.float64), hp, mode)[0],
                    f"pool_forward_fast ({mode}) on float32 inputs (4 inputs 24x24x8, f=2, stride=2)", rtol=RTOL, atol=ATOL)


@checks.test("test_pool_backward_fast")
def _(student, rng):
    fn = student.pool_backward_fast
    _test_pool_backward(fn, rng, (A_POOL_FAST_B, HP_POOL_FAST_B, DA_POOL_FAST_B), "pool_backward_fast")
    A = np.maximum(rng.standard_normal((4, 24, 24, 8)), 0).astype(np.float32)  # after ReLU, as in training
    hp = {"f": 2, "stride": 2}
    dA = rng.standard_normal((4, 12, 12, 8)).astype(np.float32)
    for mode in ("max", "average"):
        check_close(fn(dA, (A, hp), mode=mode), ref.pool_backward(dA.astype(np.float64), (A.astype(np.float64), hp), mode),
                    f"pool_backward_fast ({mode}) on float32 inputs after a ReLU (4 inputs 24x24x8, f=2, stride=2)",
                    rtol=RTOL, atol=ATOL)
