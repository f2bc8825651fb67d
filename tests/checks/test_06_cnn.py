"""06_cnn's grader-side checks: the reference and honest alternatives pass, realistic bugs fail."""
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from course.reference import cnn_utils as ref
from tests.checks.harness import failed, module_namespace, verdicts

ASG = "06_cnn"
FAST = {"conv_forward_fast": "conv_forward", "conv_backward_fast": "conv_backward",
        "pool_forward_fast": "pool_forward", "pool_backward_fast": "pool_backward"}


def reference():
    ns = module_namespace(ref)
    ns.update({fast: ns[loop] for fast, loop in FAST.items()})
    return ns




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def test_conv_single_step_returns_np_float64():
    assert type(ref.conv_single_step(np.ones((2, 2, 1)), np.ones((2, 2, 1)), np.ones((1, 1, 1)))) is np.float64


# ------------------------------------------------------------------ honest alternatives
def canonical_zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=(0, 0))


def canonical_single_step(a_slice_prev, W, b):
    s = np.multiply(a_slice_prev, W)
    Z = np.sum(s)
    return Z + b.item()


def python_float_single_step(a_slice_prev, W, b):
    return float(np.sum(a_slice_prev * W) + b[0, 0, 0])


def loop_conv_forward(A_prev, W, b, hparameters):
    """The canonical four loops calling conv_single_step."""
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H, n_W = (n_H_prev + 2 * pad - f) // stride + 1, (n_W_prev + 2 * pad - f) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = canonical_zero_pad(A_prev, pad)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    Z[i, h, w, c] = canonical_single_step(A_prev_pad[i, vs:vs + f, hs:hs + f, :], W[..., c], b[..., c])
    return Z, (A_prev, W, b, hparameters)


def loop_conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    f = W.shape[0]
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = canonical_zero_pad(A_prev, pad)
    dA_pad = np.zeros(A_pad.shape)
    dW, db = np.zeros(W.shape), np.zeros((1, 1, 1, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    dA_pad[i, vs:vs + f, hs:hs + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += A_pad[i, vs:vs + f, hs:hs + f, :] * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    H, Wd = A_prev.shape[1:3]
    return dA_pad[:, pad:pad + H, pad:pad + Wd, :], dW, db


def float32_pool_forward(A_prev, hparameters, mode="max"):
    """Loops over output pixels, vectorised over examples and channels, in float32."""
    m, H, Wd, n_C = A_prev.shape
    f, s = hparameters["f"], hparameters["stride"]
    n_H, n_W = (H - f) // s + 1, (Wd - f) // s + 1
    A = np.zeros((m, n_H, n_W, n_C), dtype=np.float32)
    op = np.max if mode == "max" else np.mean
    for h in range(n_H):
        for w in range(n_W):
            A[:, h, w, :] = op(A_prev[:, h * s:h * s + f, w * s:w * s + f, :], axis=(1, 2))
    return A, (A_prev, hparameters)


def loop_pool_backward(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, s = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    sl = (i, slice(h * s, h * s + f), slice(w * s, w * s + f), c)
                    if mode == "max":
                        dA_prev[sl] += ref.create_mask_from_window(A_prev[sl]) * dA[i, h, w, c]
                    else:
                        dA_prev[sl] += ref.distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev


def chatty_distribute_value(dz, shape):
    print("distributing", dz, "over", shape)
    n_H, n_W = shape
    return np.ones(shape) * dz / (n_H * n_W)


def int_mask(x):
    return (x == x.max()).astype(int)


def windows(A, f, stride):
    return sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]


def strided_conv_forward(A_prev, W, b, hparameters):
    """sliding_window_view + tensordot, in float32 whatever the input."""
    f, stride, pad = W.shape[0], hparameters["stride"], hparameters["pad"]
    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0))).astype(np.float32)
    Z = np.tensordot(windows(A, f, stride), W.astype(np.float32), axes=([4, 5, 3], [0, 1, 2])) + b.reshape(-1)
    return Z.astype(np.float32), (A_prev, W, b, hparameters)


def strided_conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    f, stride, pad = W.shape[0], hparameters["stride"], hparameters["pad"]
    _, n_H, n_W, _ = dZ.shape
    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dW = np.tensordot(windows(A, f, stride), dZ, axes=([0, 1, 2], [0, 1, 2])).transpose(1, 2, 0, 3)
    dA = np.zeros(A.shape, dtype=np.float32)
    for i in range(f):
        for j in range(f):
            dA[:, i:i + stride * (n_H - 1) + 1:stride, j:j + stride * (n_W - 1) + 1:stride] += dZ @ W[i, j].T
    H, Wd = A_prev.shape[1:3]
    return dA[:, pad:pad + H, pad:pad + Wd], dW, dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, -1)


def strided_pool_forward(A_prev, hparameters, mode="max"):
    from tqdm.auto import tqdm
    for _ in tqdm(range(1), disable=True):
        pass
    win = windows(A_prev, hparameters["f"], hparameters["stride"])
    return (win.max(axis=(4, 5)) if mode == "max" else win.mean(axis=(4, 5))), (A_prev, hparameters)


def strided_pool_backward(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, s = hparameters["f"], hparameters["stride"]
    _, n_H, n_W, _ = dA.shape
    out = np.zeros(A_prev.shape, dtype=np.float32)
    A = strided_pool_forward(A_prev, hparameters)[0]
    for i in range(f):
        for j in range(f):
            sl = (slice(None), slice(i, i + s * (n_H - 1) + 1, s), slice(j, j + s * (n_W - 1) + 1, s))
            out[sl] += (A_prev[sl] == A) * dA if mode == "max" else dA / (f * f)
    return out


HONEST = [
    ("zero_pad", canonical_zero_pad),
    ("conv_single_step", canonical_single_step),
    ("conv_single_step", python_float_single_step),
    ("conv_forward", loop_conv_forward),
    ("conv_backward", loop_conv_backward),
    ("pool_forward", float32_pool_forward),
    ("pool_backward", loop_pool_backward),
    ("create_mask_from_window", int_mask),
    ("distribute_value", chatty_distribute_value),
    ("conv_forward_fast", strided_conv_forward),
    ("conv_backward_fast", strided_conv_backward),
    ("pool_forward_fast", strided_pool_forward),
    ("pool_forward_fast", float32_pool_forward),
    ("pool_backward_fast", strided_pool_backward),
    ("pool_backward_fast", loop_pool_backward),
]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("name, fn", HONEST, ids=[f"{n}-{fn.__name__}" for n, fn in HONEST])
def test_honest_alternatives_pass(name, fn):
    assert failed(ASG, {**reference(), name: fn}) == []


# ------------------------------------------------------------------ realistic bugs
def pad_every_axis(X, pad):
    return np.pad(X, pad)


def pad_channels(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (0, 0), (pad, pad)))


def single_step_array(a_slice_prev, W, b):
    return np.sum(a_slice_prev * W) + b                        # an array (1, 1, 1)


def single_step_bias_everywhere(a_slice_prev, W, b):
    return np.float64(np.sum(a_slice_prev * W + b.item()))


def conv_forward_no_bias(A_prev, W, b, hparameters):
    Z, cache = ref.conv_forward(A_prev, W, np.zeros_like(b), hparameters)
    return Z, (A_prev, W, b, hparameters)


def conv_forward_stride_ignored(A_prev, W, b, hparameters):
    Z, _ = ref.conv_forward(A_prev, W, b, {"pad": hparameters["pad"], "stride": 1})
    return Z, (A_prev, W, b, hparameters)


def conv_forward_no_padding(A_prev, W, b, hparameters):
    f, s, p = W.shape[0], hparameters["stride"], hparameters["pad"]
    Z = ref.conv_forward(A_prev, W, b, {"pad": 0, "stride": s})[0] if A_prev.shape[1] >= f and A_prev.shape[2] >= f else None
    n_H, n_W = ref.conv_output_shape(A_prev.shape[1], A_prev.shape[2], f, p, s)
    out = np.zeros((A_prev.shape[0], n_H, n_W, W.shape[3]))
    if Z is not None:
        out[:, :Z.shape[1], :Z.shape[2]] = Z
    return out, (A_prev, W, b, hparameters)


def conv_forward_bad_cache(A_prev, W, b, hparameters):
    Z, _ = ref.conv_forward(A_prev, W, b, hparameters)
    return Z, (ref.zero_pad(A_prev, hparameters["pad"]), W, b, hparameters)


def conv_forward_flipped(A_prev, W, b, hparameters):
    return ref.conv_forward(A_prev, W[::-1, ::-1], b, hparameters)[0], (A_prev, W, b, hparameters)


def conv_forward_inplace(A_prev, W, b, hparameters):
    out = ref.conv_forward(A_prev, W, b, hparameters)
    A_prev *= 1.0 + 1e-3
    return out


def conv_backward_dw_last_example(dZ, cache):
    A_prev, W, b, hp = cache
    dA, _, db = ref.conv_backward(dZ, cache)
    _, dW, _ = ref.conv_backward(dZ[-1:], (A_prev[-1:], W, b, hp))   # dW overwritten per example
    return dA, dW, db


def conv_backward_padding_kept(dZ, cache):
    A_prev, W, b, hp = cache
    dA, dW, db = ref.conv_backward(dZ, cache)
    p = hp["pad"]
    dA_pad = ref.zero_pad(dA, p)
    return dA_pad[:, :A_prev.shape[1], :A_prev.shape[2]], dW, db     # cut at the wrong place


def conv_backward_no_overlap_sum(dZ, cache):
    A_prev, W, b, hp = cache
    dA, dW, db = ref.conv_backward(dZ, cache)
    f, s = W.shape[0], hp["stride"]
    if s < f:  # "=" instead of "+=": overlapping windows overwrite each other
        dA = dA * 0.5
    return dA, dW, db


def conv_backward_db_mean(dZ, cache):
    dA, dW, db = ref.conv_backward(dZ, cache)
    return dA, dW, db / dZ.shape[0]


def mask_first_only(x):
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(np.argmax(x), x.shape)] = True
    return mask


def mask_of_minimum(x):
    return x == np.min(x)


def distribute_sum(dz, shape):
    return np.full(shape, float(dz))


def distribute_wrong_denominator(dz, shape):
    return np.full(shape, dz / (shape[0] + shape[1]))


def pool_forward_max_from_zero(A_prev, hparameters, mode="max"):
    A, cache = ref.pool_forward(A_prev, hparameters, mode)
    return (np.maximum(A, 0) if mode == "max" else A), cache


def pool_forward_stride_ignored(A_prev, hparameters, mode="max"):
    A, _ = ref.pool_forward(A_prev, {"f": hparameters["f"], "stride": 1}, mode)
    return A, (A_prev, hparameters)


def pool_forward_default_average(A_prev, hparameters, mode="average"):
    return ref.pool_forward(A_prev, hparameters, mode)


def pool_forward_mixes_channels(A_prev, hparameters, mode="max"):
    A, cache = ref.pool_forward(A_prev, hparameters, mode)
    if mode == "max":
        A = np.broadcast_to(A.max(axis=-1, keepdims=True), A.shape).copy()
    return A, cache


def pool_backward_first_tie(dA, cache, mode="max"):
    A_prev, hp = cache
    if mode != "max":
        return ref.pool_backward(dA, cache, mode)
    f, s = hp["f"], hp["stride"]
    out = np.zeros(A_prev.shape)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    sl = (i, slice(h * s, h * s + f), slice(w * s, w * s + f), c)
                    out[sl] += mask_first_only(A_prev[sl]) * dA[i, h, w, c]
    return out


def pool_backward_average_undivided(dA, cache, mode="max"):
    if mode == "average":
        return ref.pool_backward(dA, cache, mode) * cache[1]["f"] ** 2
    return ref.pool_backward(dA, cache, mode)


def pool_backward_average_divided_by_f(dA, cache, mode="max"):
    if mode == "average":
        return ref.pool_backward(dA, cache, mode) * cache[1]["f"]
    return ref.pool_backward(dA, cache, mode)


def pool_backward_ignores_mode(dA, cache, mode="max"):
    return ref.pool_backward(dA, cache, "max")


def pool_backward_stride_ignored(dA, cache, mode="max"):
    A_prev, hp = cache
    s = hp["stride"]
    if s == 1:
        return ref.pool_backward(dA, cache, mode)
    out = np.zeros(A_prev.shape)
    f = hp["f"]
    for h in range(dA.shape[1]):
        for w in range(dA.shape[2]):
            sl = (slice(None), slice(h, h + f), slice(w, w + f))
            out[sl] += dA[:, h:h + 1, w:w + 1] / (f * f)
    return out


def fast_forward_loses_precision(A_prev, W, b, hparameters):
    Z, cache = ref.conv_forward(A_prev.astype(np.float16), W.astype(np.float16), b.astype(np.float16), hparameters)
    return Z, (A_prev, W, b, hparameters)


def fast_backward_dA_from_W_unflipped(dZ, cache):
    dA, dW, db = ref.conv_backward(dZ, cache)
    A_prev, W, b, hp = cache
    dA2, _, _ = ref.conv_backward(dZ, (A_prev, W[::-1, ::-1], b, hp))
    return dA2, dW, db


MUTANTS = [
    ("zero_pad", pad_every_axis, "test_zero_pad"),
    ("zero_pad", pad_channels, "test_zero_pad"),
    ("zero_pad", lambda X, pad: np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=1.0), "test_zero_pad"),
    ("conv_single_step", single_step_array, "test_conv_single_step"),
    ("conv_single_step", single_step_bias_everywhere, "test_conv_single_step"),
    ("conv_single_step", lambda a, W, b: np.float32(np.sum(a * W) + b.item()), "test_conv_single_step"),
    ("conv_single_step", lambda a, W, b: np.array(np.sum(a * W) + b.item()), "test_conv_single_step"),
    ("conv_forward", conv_forward_no_bias, "test_conv_forward"),
    ("conv_forward", conv_forward_stride_ignored, "test_conv_forward"),
    ("conv_forward", conv_forward_no_padding, "test_conv_forward"),
    ("conv_forward", conv_forward_bad_cache, "test_conv_forward"),
    ("conv_forward", conv_forward_flipped, "test_conv_forward"),
    ("conv_forward", conv_forward_inplace, "test_conv_forward"),
    ("conv_forward", lambda A, W, b, hp: ref.conv_forward(A, W, b, hp)[0], "test_conv_forward"),
    ("pool_forward", pool_forward_max_from_zero, "test_pool_forward"),
    ("pool_forward", pool_forward_stride_ignored, "test_pool_forward"),
    ("pool_forward", pool_forward_default_average, "test_pool_forward"),
    ("pool_forward", pool_forward_mixes_channels, "test_pool_forward"),
    ("conv_backward", conv_backward_dw_last_example, "test_conv_backward"),
    ("conv_backward", conv_backward_padding_kept, "test_conv_backward"),
    ("conv_backward", conv_backward_no_overlap_sum, "test_conv_backward"),
    ("conv_backward", conv_backward_db_mean, "test_conv_backward"),
    ("create_mask_from_window", mask_first_only, "test_create_mask_from_window"),
    ("create_mask_from_window", mask_of_minimum, "test_create_mask_from_window"),
    ("create_mask_from_window", lambda x: x == np.max(np.abs(x)), "test_create_mask_from_window"),
    ("distribute_value", distribute_sum, "test_distribute_value"),
    ("distribute_value", distribute_wrong_denominator, "test_distribute_value"),
    ("pool_backward", pool_backward_first_tie, "test_pool_backward"),
    ("pool_backward", pool_backward_average_undivided, "test_pool_backward"),
    ("pool_backward", pool_backward_average_divided_by_f, "test_pool_backward"),
    ("pool_backward", pool_backward_ignores_mode, "test_pool_backward"),
    ("pool_backward", pool_backward_stride_ignored, "test_pool_backward"),
    ("conv_forward_fast", conv_forward_no_bias, "test_conv_forward_fast"),
    ("conv_forward_fast", conv_forward_stride_ignored, "test_conv_forward_fast"),
    ("conv_forward_fast", fast_forward_loses_precision, "test_conv_forward_fast"),
    ("conv_backward_fast", conv_backward_dw_last_example, "test_conv_backward_fast"),
    ("conv_backward_fast", fast_backward_dA_from_W_unflipped, "test_conv_backward_fast"),
    ("conv_backward_fast", conv_backward_db_mean, "test_conv_backward_fast"),
    ("pool_forward_fast", pool_forward_stride_ignored, "test_pool_forward_fast"),
    ("pool_forward_fast", pool_forward_max_from_zero, "test_pool_forward_fast"),
    ("pool_backward_fast", pool_backward_first_tie, "test_pool_backward_fast"),
    ("pool_backward_fast", pool_backward_average_undivided, "test_pool_backward_fast"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"):
        assert grade_id in failed(ASG, {**reference(), name: fn}, only=[grade_id])


def test_a_failed_dependency_is_named_in_the_hint():
    v = verdicts(ASG, {**reference(), "create_mask_from_window": mask_first_only, "pool_backward": pool_backward_first_tie},
                 only=["test_create_mask_from_window", "test_distribute_value", "test_pool_backward"])
    assert not v["test_pool_backward"].passed
    assert "fix test_create_mask_from_window first" in v["test_pool_backward"].message


def test_messages_name_the_problem():
    v = verdicts(ASG, {**reference(), "conv_single_step": single_step_array}, only=["test_conv_single_step"])
    assert "b.item()" in v["test_conv_single_step"].message
    v = verdicts(ASG, {**reference(), "pool_backward": pool_backward_first_tie}, only=["test_pool_backward"])
    assert "tied maxima" in v["test_pool_backward"].message
