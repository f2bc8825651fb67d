"""course.reference.cnn_utils against straightforward loop versions (the oracle below) and finite differences."""
import numpy as np
import pytest

from course.reference import cnn_utils as cu
from utils.testing import numerical_gradient, relative_error


# ---------------------------------------------------------------- loop oracle (readable, slow)
def loop_conv_forward(A_prev, W, b, hp):
    m, H, Wd, _ = A_prev.shape
    f, _, _, n_C = W.shape
    s, p = hp["stride"], hp["pad"]
    n_H, n_W = (H + 2 * p - f) // s + 1, (Wd + 2 * p - f) // s + 1
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = A_pad[i, h * s : h * s + f, w * s : w * s + f, :]
                    Z[i, h, w, c] = np.sum(window * W[..., c]) + b[0, 0, 0, c]
    return Z


def loop_conv_backward(dZ, A_prev, W, hp):
    f = W.shape[0]
    s, p = hp["stride"], hp["pad"]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    dA_pad = np.zeros_like(A_pad)
    dW = np.zeros_like(W)
    db = np.zeros((1, 1, 1, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    hs, ws = h * s, w * s
                    dA_pad[i, hs : hs + f, ws : ws + f, :] += W[..., c] * dZ[i, h, w, c]
                    dW[..., c] += A_pad[i, hs : hs + f, ws : ws + f, :] * dZ[i, h, w, c]
                    db[..., c] += dZ[i, h, w, c]
    H, Wd = A_prev.shape[1:3]
    return dA_pad[:, p : p + H, p : p + Wd, :], dW, db


def loop_pool_forward(A_prev, hp, mode):
    m, H, Wd, n_C = A_prev.shape
    f, s = hp["f"], hp["stride"]
    n_H, n_W = (H - f) // s + 1, (Wd - f) // s + 1
    A = np.zeros((m, n_H, n_W, n_C))
    op = np.max if mode == "max" else np.mean
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    A[i, h, w, c] = op(A_prev[i, h * s : h * s + f, w * s : w * s + f, c])
    return A


def loop_pool_backward(dA, A_prev, hp, mode):
    f, s = hp["f"], hp["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    sl = (i, slice(h * s, h * s + f), slice(w * s, w * s + f), c)
                    if mode == "max":
                        window = A_prev[sl]
                        dA_prev[sl] += (window == window.max()) * dA[i, h, w, c]
                    else:
                        dA_prev[sl] += dA[i, h, w, c] / (f * f)
    return dA_prev


# ---------------------------------------------------------------- cases
def random_conv_case(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 4))
    f = int(rng.integers(1, 5))
    s = int(rng.integers(1, 4))
    p = int(rng.integers(0, 3))
    H = int(rng.integers(max(f - 2 * p, 1), 10))
    Wd = int(rng.integers(max(f - 2 * p, 1), 10))
    n_C_prev, n_C = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    A = rng.standard_normal((m, H, Wd, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return A, W, b, {"pad": p, "stride": s}


def random_pool_case(seed):
    rng = np.random.default_rng(1000 + seed)
    m, n_C = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    f, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    H, Wd = int(rng.integers(f, 10)), int(rng.integers(f, 10))
    A = rng.standard_normal((m, H, Wd, n_C))
    return A, {"f": f, "stride": s}


SEEDS = range(25)


def test_zero_pad():
    X = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    P = cu.zero_pad(X, 2)
    assert P.shape == (2, 7, 8, 5)
    assert np.array_equal(P[:, 2:-2, 2:-2, :], X)
    assert P.sum() == pytest.approx(X.sum()) and np.all(P[:, :2] == 0) and np.all(P[:, :, -2:] == 0)
    assert cu.zero_pad(X.astype(np.float32), 1).dtype == np.float32
    assert np.array_equal(cu.zero_pad(X, 0), X)


def test_conv_single_step():
    rng = np.random.default_rng(1)
    a, W, b = rng.standard_normal((4, 4, 3)), rng.standard_normal((4, 4, 3)), rng.standard_normal((1, 1, 1))
    z = cu.conv_single_step(a, W, b)
    assert type(z) is np.float64
    assert type(cu.conv_single_step(a.astype(np.float32), W.astype(np.float32), b.astype(np.float32))) is np.float64
    assert z == pytest.approx(float(np.sum(a * W) + b[0, 0, 0]), abs=1e-12)


def test_output_shape_worked_example():
    # 39x39x3, ten 3x3 filters, stride 1, no padding -> 37x37x10 and 10 * (27 + 1) = 280 parameters
    A = np.zeros((1, 39, 39, 3))
    Z, _ = cu.conv_forward(A, np.zeros((3, 3, 3, 10)), np.zeros((1, 1, 1, 10)), {"pad": 0, "stride": 1})
    assert Z.shape == (1, 37, 37, 10)
    assert cu.conv_output_shape(39, 39, 3, 0, 1) == (37, 37)
    assert cu.pool_output_shape(28, 28, 2, 2) == (14, 14)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_forward_matches_loops(seed):
    A, W, b, hp = random_conv_case(seed)
    Z, cache = cu.conv_forward(A, W, b, hp)
    expected = loop_conv_forward(A, W, b, hp)
    assert Z.shape == expected.shape
    np.testing.assert_allclose(Z, expected, rtol=0, atol=1e-10)
    assert cache[0] is A and cache[1] is W and cache[2] is b and cache[3] is hp


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_backward_matches_loops(seed):
    A, W, b, hp = random_conv_case(seed)
    Z, cache = cu.conv_forward(A, W, b, hp)
    dZ = np.random.default_rng(seed + 50).standard_normal(Z.shape)
    dA, dW, db = cu.conv_backward(dZ, cache)
    eA, eW, eb = loop_conv_backward(dZ, A, W, hp)
    assert dA.shape == A.shape and dW.shape == W.shape and db.shape == b.shape
    for got, exp in ((dA, eA), (dW, eW), (db, eb)):
        np.testing.assert_allclose(got, exp, rtol=0, atol=1e-10)


def test_conv_backward_finite_differences():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((2, 5, 6, 2))
    W = rng.standard_normal((3, 3, 2, 3))
    b = rng.standard_normal((1, 1, 1, 3))
    hp = {"pad": 1, "stride": 2}
    G = rng.standard_normal(cu.conv_forward(A, W, b, hp)[0].shape)  # cost = sum(G * Z)

    def cost():
        return float(np.sum(G * cu.conv_forward(A, W, b, hp)[0]))

    dA, dW, db = cu.conv_backward(G, cu.conv_forward(A, W, b, hp)[1])
    assert relative_error(dA, numerical_gradient(cost, A)) < 1e-7
    assert relative_error(dW, numerical_gradient(cost, W)) < 1e-7
    assert relative_error(db, numerical_gradient(cost, b)) < 1e-7


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("seed", SEEDS)
def test_pool_matches_loops(seed, mode):
    A, hp = random_pool_case(seed)
    out, cache = cu.pool_forward(A, hp, mode=mode)
    np.testing.assert_allclose(out, loop_pool_forward(A, hp, mode), rtol=0, atol=1e-12)
    assert cache[0] is A and cache[1] is hp
    dA = np.random.default_rng(seed).standard_normal(out.shape)
    np.testing.assert_allclose(cu.pool_backward(dA, cache, mode=mode), loop_pool_backward(dA, A, hp, mode),
                               rtol=0, atol=1e-10)


def test_max_pool_ties_match_mask_convention():
    # integer-valued inputs create ties; every tied maximum receives the gradient, as the mask says
    rng = np.random.default_rng(3)
    A = rng.integers(0, 3, size=(2, 6, 6, 2)).astype(float)
    for hp in ({"f": 2, "stride": 2}, {"f": 3, "stride": 1}):
        out, cache = cu.pool_forward(A, hp, "max")
        dA = rng.standard_normal(out.shape)
        np.testing.assert_allclose(cu.pool_backward(dA, cache, "max"), loop_pool_backward(dA, A, hp, "max"), atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_backward_finite_differences(mode):
    rng = np.random.default_rng(11)
    A = rng.standard_normal((2, 7, 5, 3))
    hp = {"f": 3, "stride": 2}
    out, cache = cu.pool_forward(A, hp, mode)
    G = rng.standard_normal(out.shape)

    def cost():
        return float(np.sum(G * cu.pool_forward(A, hp, mode)[0]))

    assert relative_error(cu.pool_backward(G, cache, mode), numerical_gradient(cost, A)) < 1e-7


def test_mask_and_distribute():
    x = np.array([[1.0, 3.0], [4.0, 2.0]])
    assert np.array_equal(cu.create_mask_from_window(x), [[False, False], [True, False]])
    d = cu.distribute_value(2.0, (2, 2))
    assert d.shape == (2, 2) and np.allclose(d, 0.5)
    assert np.isclose(cu.distribute_value(3.0, (3, 1)).sum(), 3.0)


def test_float32_is_preserved():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    W = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = np.zeros((1, 1, 1, 4), np.float32)
    Z, cache = cu.conv_forward(A, W, b, {"pad": 1, "stride": 1})
    assert Z.dtype == np.float32
    assert all(g.dtype == np.float32 for g in cu.conv_backward(Z, cache))
    P, pc = cu.pool_forward(Z, {"f": 2, "stride": 2})
    assert P.dtype == np.float32 and cu.pool_backward(P, pc).dtype == np.float32


def test_bad_mode_raises():
    with pytest.raises(ValueError):
        cu.pool_forward(np.zeros((1, 4, 4, 1)), {"f": 2, "stride": 2}, mode="median")


def test_no_python_loop_over_pixels():
    # The reference must be vectorised: forward and backward of a 64x28x28x8 batch with sixteen 3x3
    # filters make a few hundred Python and C calls, not one per pixel (the loop versions make
    # millions). Counted, not timed: no unit test asserts a time.
    import sys

    rng = np.random.default_rng(0)
    A = rng.standard_normal((64, 28, 28, 8))
    W = rng.standard_normal((3, 3, 8, 16))
    b = np.zeros((1, 1, 1, 16))
    calls = []
    sys.setprofile(lambda frame, event, arg: calls.append(event) if event in ("call", "c_call") else None)
    try:
        Z, cache = cu.conv_forward(A, W, b, {"pad": 1, "stride": 1})
        cu.conv_backward(Z, cache)
    finally:
        sys.setprofile(None)
    assert 0 < len(calls) < 64 * 28, len(calls)


def test_an_input_with_a_zero_stride_channel_axis_is_read_right():
    """cnn_model.preprocess gives (m, 28, 28, 1) whose length-1 channel axis may have any stride:
    the stride-1 paths compute strides from the shape, so the answers equal those of a plain copy."""
    from course.reference.cnn_model import preprocess

    rng = np.random.default_rng(9)
    X = preprocess(rng.integers(0, 256, size=(16, 28, 28), dtype=np.uint8))
    X = np.lib.stride_tricks.as_strided(X, X.shape, X.strides[:3] + (0,))  # what NumPy may hand over
    W = (rng.standard_normal((5, 5, 1, 8)) / 5).astype(np.float32)
    b = rng.standard_normal((1, 1, 1, 8)).astype(np.float32)
    hp = {"pad": 0, "stride": 1}
    Z, cache = cu.conv_forward(X, W, b, hp)
    Z_copy, cache_copy = cu.conv_forward(np.ascontiguousarray(X), W, b, hp)
    np.testing.assert_array_equal(Z, Z_copy)
    dZ = rng.standard_normal(Z.shape).astype(np.float32)
    for got, want in zip(cu.conv_backward(dZ, cache), cu.conv_backward(dZ, cache_copy)):
        np.testing.assert_array_equal(got, want)


def test_pool_ties_split_shares_the_gradient():
    A = np.zeros((1, 4, 4, 1))  # every window is a 4-way tie
    out, cache = cu.pool_forward(A, {"f": 2, "stride": 2}, "max")
    dA = np.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    split = cu.pool_backward(dA, cache, "max", ties="split")
    assert np.allclose(split[0, :2, :2, 0], 0.25) and np.isclose(split.sum(), dA.sum())
    assert np.isclose(cu.pool_backward(dA, cache, "max").sum(), 4 * dA.sum())  # canonical: every tie gets it all
    B = np.random.default_rng(2).standard_normal((2, 5, 5, 2))  # no ties: both conventions agree
    out, cache = cu.pool_forward(B, {"f": 3, "stride": 1}, "max")
    G = np.ones(out.shape)
    np.testing.assert_allclose(cu.pool_backward(G, cache, "max", ties="split"), cu.pool_backward(G, cache, "max"))
    with pytest.raises(ValueError):
        cu.pool_backward(G, cache, "max", ties="first")


def test_cnn_model_gradients_match_finite_differences():
    from course.reference import cnn_model as cm

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    images[:, :6] = 0  # a blank band: constant windows (ties) as in real digits
    X = cm.preprocess(images).astype(np.float64)
    y = np.array([3, 1, 7])
    params = {k: v.astype(np.float64) for k, v in cm.init_cnn(seed=1).items()}
    probs, caches = cm.forward(X, params)
    assert probs.shape == (10, 3) and np.allclose(probs.sum(axis=0), 1)
    grads = cm.backward(probs, y, caches, params)
    cost = lambda: cm.cross_entropy(cm.forward(X, params)[0], y)  # noqa: E731
    for name in ("b1", "b2", "b3"):  # small: every entry
        assert relative_error(grads["d" + name], numerical_gradient(cost, params[name])) < 1e-6, name
    for name in ("W1", "W2", "W3"):  # large: the derivative along a random direction
        V = rng.standard_normal(params[name].shape)
        V /= np.linalg.norm(V)
        eps = 1e-6  # small enough not to cross a ReLU or max-pool kink
        params[name] += eps * V
        plus = cost()
        params[name] -= 2 * eps * V
        minus = cost()
        params[name] += eps * V
        numeric = (plus - minus) / (2 * eps)
        assert abs(numeric - np.sum(grads["d" + name] * V)) < 1e-6 * max(0.1, abs(numeric)), name


def test_cnn_model_learns_a_little():
    from course.reference import cnn_model as cm

    rng = np.random.default_rng(0)
    X = 0.3 * rng.standard_normal((128, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=128)
    X[np.arange(128), 2 * y + 4, 6:22, 0] += 2.0  # the label is written as a bright bar
    params, history = cm.cnn_solver(X, y, epochs=10, batch_size=32, lr=5e-3, lr_decay=1.0, progress=False).train()
    assert history["epoch loss"][-1] < 0.3 * history["epoch loss"][0], history["epoch loss"]
    assert params["W1"].dtype == np.float32


@pytest.mark.parametrize("threads", [2, 3])
def test_cnn_step_in_parts_equals_one_pass(threads):
    """A mini-batch cut into parts, computed here and in helper processes: the same loss and update
    as one pass (float32 sums)."""
    from course.reference import cnn_model as cm
    from course.reference.optimizers import Adam

    rng = np.random.default_rng(4)
    X = rng.standard_normal((23, 28, 28, 1)).astype(np.float32)  # 23: parts of unequal size
    y = rng.integers(0, 10, size=23)
    results = []
    for n in (1, threads):
        params = cm.init_cnn(0)
        _, loss = cm.adam_step(Adam(), n)(params, X, y, 1e-3)
        results.append((params, loss))
    (one, loss_one), (split, loss_split) = results
    assert loss_split == pytest.approx(loss_one, rel=1e-5)
    start = cm.init_cnn(0)
    for name in one:
        assert not np.array_equal(one[name], start[name]), name
        np.testing.assert_allclose(split[name], one[name], rtol=1e-5, atol=1e-6, err_msg=name)


# ---------------------------------------------------------------- the stride-1 grid path and tiled pooling
def window_oracle(A, W, b, hp, dZ=None):
    """float64 convolution from sliding windows and einsum (independent of cnn_utils); with dZ, also
    (dA_prev, dW, db)."""
    p, s, f = hp["pad"], hp["stride"], W.shape[0]
    A, W = A.astype(np.float64), W.astype(np.float64)
    Ap = np.pad(A, ((0, 0), (p, p), (p, p), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(Ap, (f, f), axis=(1, 2))[:, ::s, ::s]  # (m, n_H, n_W, C, f, f)
    Z = np.einsum("mhwcij,ijco->mhwo", win, W) + np.reshape(b, -1)
    if dZ is None:
        return Z
    dZ = dZ.astype(np.float64)
    n_H, n_W = Z.shape[1:3]
    dAp = np.zeros_like(Ap)
    for i in range(f):
        for j in range(f):
            dAp[:, i : i + s * (n_H - 1) + 1 : s, j : j + s * (n_W - 1) + 1 : s] += np.einsum("mhwo,co->mhwc", dZ, W[i, j])
    H, Wd = A.shape[1:3]
    return Z, dAp[:, p : p + H, p : p + Wd], np.einsum("mhwcij,mhwo->ijco", win, dZ), dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, -1)


GRID_CASES = [  # (A shape, f, n_C, pad): several blocks of images, odd sizes, 1x1 filters, wide padding
    ((64, 28, 28, 8), 3, 16, 1),  # the benchmark layer
    ((64, 28, 28, 1), 5, 8, 0),  # the CNN's first layer
    ((64, 12, 12, 8), 5, 16, 0),  # its second layer (windows start on 8 of the 12 rows)
    ((37, 13, 11, 3), 3, 5, 1),
    ((5, 7, 9, 2), 2, 3, 2),
    ((3, 4, 6, 3), 1, 2, 0),
    ((2, 3, 3, 1), 3, 1, 0),  # one output pixel
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, f, n_C, pad", GRID_CASES)
def test_conv_stride1_matches_window_oracle(shape, f, n_C, pad, dtype):
    rng = np.random.default_rng(sum(shape) + f)
    A = rng.standard_normal(shape).astype(dtype)
    W = (rng.standard_normal((f, f, shape[3], n_C)) / f).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    hp = {"pad": pad, "stride": 1}
    Z, cache = cu.conv_forward(A, W, b, hp)
    dZ = rng.standard_normal(Z.shape).astype(dtype)
    got = (Z,) + cu.conv_backward(dZ, cache)
    want = window_oracle(A, W, b, hp, dZ)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name, g, w in zip(("Z", "dA_prev", "dW", "db"), got, want):
        assert g.dtype == dtype and g.shape == w.shape and g.flags.c_contiguous, name
        np.testing.assert_allclose(g, w, rtol=0, atol=tol * np.abs(w).max(), err_msg=name)
    dW, db = cu.conv_filter_gradients(dZ, cache)
    np.testing.assert_array_equal(dW, got[2])
    np.testing.assert_array_equal(db, got[3])


def test_conv_cache_is_the_plain_tuple_and_backward_has_no_hidden_state():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((6, 9, 8, 4))[:, :, ::-1].transpose(0, 2, 1, 3)  # a non-contiguous view
    W, b = rng.standard_normal((3, 3, 4, 2)), rng.standard_normal((1, 1, 1, 2))
    hp = {"pad": 1, "stride": 1}
    Z, cache = cu.conv_forward(A, W, b, hp)
    assert type(cache) is tuple and cache[0] is A and cache[1] is W and cache[2] is b and cache[3] is hp
    np.testing.assert_allclose(Z, window_oracle(A, W, b, hp), atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    first = cu.conv_backward(dZ, cache)
    cu.conv_forward(A + 1.0, W, b, hp)  # another forward pass in between changes nothing
    for g1, g2 in zip(first, cu.conv_backward(dZ, (A, W, b, hp))):
        np.testing.assert_array_equal(g1, g2)
    P, pcache = cu.pool_forward(np.ascontiguousarray(A), {"f": 2, "stride": 2})
    assert type(pcache) is tuple


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_dtypes_of_mixed_inputs_are_unchanged(stride):
    # the dtype rules of the one-GEMM implementation: Z ~ (A, W), dA_prev ~ (dZ, W), dW ~ (A, dZ), db ~ dZ
    rng = np.random.default_rng(8)
    f32, f64 = np.float32, np.float64
    cases = [  # A, W, b, dZ -> Z, dA_prev, dW, db
        ((f32, f32, f64, f32), (f32, f32, f32, f32)),
        ((f64, f32, f32, f32), (f64, f32, f64, f32)),
        ((f32, f64, f32, f64), (f64, f64, f64, f64)),
        ((f32, f32, f32, f64), (f32, f64, f64, f64)),
        ((np.int64, np.int64, np.int64, np.int64), (np.int64,) * 4),
        ((np.float16,) * 4, (np.float16,) * 4),
    ]
    hp = {"pad": 1, "stride": stride}
    for (ta, tw, tb, tz), expected in cases:
        A = (3 * rng.standard_normal((2, 5, 6, 3))).astype(ta)
        W = (3 * rng.standard_normal((3, 3, 3, 4))).astype(tw)
        b = (3 * rng.standard_normal((1, 1, 1, 4))).astype(tb)
        Z, cache = cu.conv_forward(A, W, b, hp)
        dZ = (3 * rng.standard_normal(Z.shape)).astype(tz)
        got = (Z,) + cu.conv_backward(dZ, cache)
        assert tuple(g.dtype for g in got) == tuple(np.dtype(t) for t in expected), (ta, tw, tb, tz)
        _, dA, dW, db = window_oracle(A, W, b, hp, dZ)
        tol = 0.05 if ta == np.float16 else 1e-4
        for g, w in zip(got[1:], (dA, dW, db)):
            np.testing.assert_allclose(g.astype(np.float64), w, rtol=tol, atol=tol * np.abs(w).max())


POOL_TILED = [((64, 24, 24, 8), 2), ((64, 8, 8, 16), 2), ((3, 9, 6, 2), 3), ((2, 4, 4, 3), 1), ((1, 4, 4, 1), 4)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, f", POOL_TILED + [((2, 7, 6, 3), 2), ((2, 9, 9, 2), 3)])  # the last two: not tiled
def test_max_pool_tiled_and_untiled_match_loops_with_ties(shape, f, dtype):
    rng = np.random.default_rng(shape[1] * 10 + f)
    A = rng.integers(0, 3, size=shape).astype(dtype)  # many ties
    A[0] = 0  # constant windows
    hp = {"f": f, "stride": f}
    out, cache = cu.pool_forward(A, hp, "max")
    assert out.dtype == dtype and type(cache) is tuple and cache[0] is A
    m, n_H, n_W, n_C = out.shape
    windows = A[:, : n_H * f, : n_W * f].reshape(m, n_H, f, n_W, f, n_C)
    np.testing.assert_array_equal(out, windows.max(axis=(2, 4)))
    dA = rng.standard_normal(out.shape).astype(dtype)
    got = cu.pool_backward(dA, cache, "max")
    assert got.dtype == dtype and got.shape == A.shape
    if shape[0] <= 3:  # the loop oracle is slow
        np.testing.assert_allclose(got, loop_pool_backward(dA, A, hp, "max"), atol=1e-6)
    split = cu.pool_backward(dA, cache, "max", ties="split")
    ties = (windows == out[:, :, None, :, None, :])
    want = (ties * (dA / ties.sum(axis=(2, 4)))[:, :, None, :, None, :]).reshape(m, n_H * f, n_W * f, n_C)
    np.testing.assert_allclose(split[:, : n_H * f, : n_W * f], want, rtol=1e-6, atol=1e-7)
    assert not split[:, n_H * f :].any() and not split[:, :, n_W * f :].any()
    np.testing.assert_allclose(split.sum(axis=(1, 2)), dA.sum(axis=(1, 2)), rtol=1e-5, atol=1e-5)


def test_cnn_model_relu_on_the_pooled_gradient_is_the_plain_relu():
    from course.reference import cnn_model as cm

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(16, 28, 28)).astype(np.uint8)
    images[:, :8] = 0  # blank rows: windows whose maximum is 0 (ties through the ReLU)
    X = cm.preprocess(images)
    y = rng.integers(0, 10, size=16)
    params = cm.init_cnn(seed=2)
    probs, caches = cm.forward(X, params)
    fast = cm.backward(probs, y, caches, params)
    plain = cm.backward(probs, y, {k: v for k, v in caches.items() if k not in ("P1", "P2")}, params)
    for name in fast:
        np.testing.assert_allclose(fast[name], plain[name], rtol=1e-6, atol=1e-9, err_msg=name)
