"""Convolution and pooling layers, vectorised, with the step-by-step API of the canonical course.

Names, argument orders and caches follow the deeplearning.ai exercise "Convolutional Model: step
by step", so code written for it runs unchanged; only the insides differ. Where the exercise loops
over examples, pixels and filters, these versions work on whole batches:

- convolution forward: every window at once with ``np.lib.stride_tricks.sliding_window_view``,
  copied into an im2col matrix ``(m n_H n_W, f f n_C_prev)`` and multiplied by the filters in one
  matrix product (GEMM);
- convolution backward: ``dW`` is one more GEMM, ``dA_prev`` comes from a batched GEMM whose
  window gradients :func:`col2im` adds back with one strided addition per kernel offset
  (``f * f`` vectorised steps, each covering every example and pixel);
- pooling: an elementwise maximum / sum over the ``f * f`` strided slices of the input, and the
  mask-weighted gradient added back the same way.

There is no Python loop over examples, pixels or channels.

Shapes (NHWC, channels last):

- ``A_prev``: ``(m, n_H_prev, n_W_prev, n_C_prev)``, a batch of ``m`` images or activations;
- ``W``: ``(f, f, n_C_prev, n_C)``, ``n_C`` filters of size ``f x f x n_C_prev``;
- ``b``: ``(1, 1, 1, n_C)``, one bias per filter;
- ``Z`` / ``A``: ``(m, n_H, n_W, n_C)`` with
  ``n_H = (n_H_prev + 2 pad - f) // stride + 1`` (convolution) and
  ``n_H = (n_H_prev - f) // stride + 1`` (pooling), the same for widths.

``hparameters`` is ``{"pad": p, "stride": s}`` for a convolution and ``{"f": f, "stride": s}`` for
pooling. The functions keep the dtype of their inputs (float32 in, float32 out), so training loops
may run in single precision.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "conv_backward",
    "conv_filter_gradients",
    "create_mask_from_window",
    "distribute_value",
    "pool_forward",
    "pool_backward",
    "conv_output_shape",
    "pool_output_shape",
    "im2col",
    "col2im",
]


def conv_output_shape(n_H_prev, n_W_prev, f, pad, stride):
    """Output height and width of an ``f x f`` convolution: ``((n + 2p - f) // s + 1)`` each."""
    return (n_H_prev + 2 * pad - f) // stride + 1, (n_W_prev + 2 * pad - f) // stride + 1


def pool_output_shape(n_H_prev, n_W_prev, f, stride):
    """Output height and width of an ``f x f`` pooling window: ``((n - f) // s + 1)`` each."""
    return (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1


def zero_pad(X, pad):
    """Pad the height and width of a batch of images with zeros.

    Args:
        X: array ``(m, n_H, n_W, n_C)``.
        pad: number of zero rows/columns added on each side.
    Returns:
        array ``(m, n_H + 2 pad, n_W + 2 pad, n_C)``, same dtype as ``X``.
    """
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)


def conv_single_step(a_slice_prev, W, b):
    """One filter applied to one window: ``sum(a_slice_prev * W) + b``.

    Args:
        a_slice_prev: window ``(f, f, n_C_prev)``.
        W: one filter ``(f, f, n_C_prev)``.
        b: its bias, shape ``(1, 1, 1)`` (or any array holding one number).
    Returns:
        a ``np.float64`` scalar (as in the canonical course), whatever the inputs' dtype.
    """
    return np.float64(np.sum(a_slice_prev * W, dtype=np.float64) + np.asarray(b, dtype=np.float64).item())


def _windows(A, f, stride):
    """Every ``f x f`` window of ``A`` taken with ``stride``: a view ``(m, n_H, n_W, n_C, f, f)``."""
    return sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]


def im2col(A_pad, f, stride):
    """The windows of a (padded) batch laid out as the rows of a matrix.

    Args:
        A_pad: ``(m, n_H_pad, n_W_pad, n_C_prev)``.
    Returns:
        contiguous array ``(m, n_H, n_W, f, f, n_C_prev)``; reshaped to
        ``(m * n_H * n_W, f * f * n_C_prev)`` its rows meet ``W.reshape(-1, n_C)`` in one GEMM.
    """
    return np.ascontiguousarray(_windows(A_pad, f, stride).transpose(0, 1, 2, 4, 5, 3))


def col2im(dcols, padded_shape, stride):
    """Adjoint of :func:`im2col`: add window gradients back onto the (padded) input.

    Args:
        dcols: gradients of the windows, **offset-major**: ``(f, f, m, n_H, n_W, n_C_prev)``, i.e.
            ``dcols[i, j]`` holds entry ``(i, j)`` of every window (a contiguous block each).
        padded_shape: ``(m, n_H_pad, n_W_pad, n_C_prev)``.
    Returns:
        array ``padded_shape``: one strided addition per kernel offset (``f * f`` vectorised
        additions covering every example and pixel, no loop over examples or pixels), which
        also sums overlapping windows.
    """
    f = dcols.shape[0]
    _, n_H, n_W = dcols.shape[2:5]
    out = np.zeros(padded_shape, dtype=dcols.dtype)
    for i in range(f):
        for j in range(f):
            out[:, i : i + stride * (n_H - 1) + 1 : stride, j : j + stride * (n_W - 1) + 1 : stride] += dcols[i, j]
    return out


def conv_forward(A_prev, W, b, hparameters):
    """Forward pass of a convolution layer (no activation).

    Args:
        A_prev: input ``(m, n_H_prev, n_W_prev, n_C_prev)``.
        W: filters ``(f, f, n_C_prev, n_C)``.
        b: biases ``(1, 1, 1, n_C)``.
        hparameters: ``{"stride": s, "pad": p}``.
    Returns:
        Z: ``(m, n_H, n_W, n_C)`` with ``n_H = (n_H_prev + 2p - f) // s + 1`` (same for widths);
        cache: ``(A_prev, W, b, hparameters)`` for :func:`conv_backward`.
    """
    f, _, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    cols = im2col(zero_pad(A_prev, pad) if pad else A_prev, f, stride)  # (m, n_H, n_W, f, f, n_C_prev)
    m, n_H, n_W = cols.shape[:3]
    Z = cols.reshape(m * n_H * n_W, -1) @ W.reshape(-1, n_C)  # one GEMM
    Z = Z.reshape(m, n_H, n_W, n_C)
    Z += np.reshape(b, (1, 1, 1, n_C)).astype(Z.dtype, copy=False)
    return Z, (A_prev, W, b, hparameters)


def conv_filter_gradients(dZ, cache):
    """``dW`` and ``db`` of a convolution layer: the im2col matrix transposed times ``dZ``.

    The part of :func:`conv_backward` that does not need ``dA_prev`` (a first layer, whose
    input is the image, needs only this).

    Args:
        dZ: gradient of the cost with respect to ``Z``, ``(m, n_H, n_W, n_C)``.
        cache: ``(A_prev, W, b, hparameters)`` from :func:`conv_forward`.
    Returns:
        dW: ``(f, f, n_C_prev, n_C)``; db: ``(1, 1, 1, n_C)``.
    """
    A_prev, W, _, hparameters = cache
    f, _, _, n_C = W.shape
    pad = hparameters["pad"]
    dZ_mat = np.ascontiguousarray(dZ).reshape(-1, n_C)
    cols = im2col(zero_pad(A_prev, pad) if pad else A_prev, f, hparameters["stride"]).reshape(len(dZ_mat), -1)
    return (cols.T @ dZ_mat).reshape(W.shape), dZ_mat.sum(axis=0).reshape(1, 1, 1, n_C)


def conv_backward(dZ, cache):
    """Backward pass of a convolution layer.

    ``dW`` and ``db`` come from :func:`conv_filter_gradients`; ``dA_prev`` is ``dZ`` times the
    filters, folded back onto the input by :func:`col2im` (overlapping windows add up).

    Args:
        dZ: gradient of the cost with respect to ``Z``, ``(m, n_H, n_W, n_C)``.
        cache: ``(A_prev, W, b, hparameters)`` from :func:`conv_forward`.
    Returns:
        dA_prev: ``(m, n_H_prev, n_W_prev, n_C_prev)``;
        dW: ``(f, f, n_C_prev, n_C)``;
        db: ``(1, 1, 1, n_C)``.
    """
    A_prev, W, b, hparameters = cache
    f, _, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    _, n_H, n_W, _ = dZ.shape
    dW, db = conv_filter_gradients(dZ, cache)
    dZ_mat = np.ascontiguousarray(dZ).reshape(m * n_H * n_W, n_C)
    # one (m n_H n_W, n_C) x (n_C, n_C_prev) product per kernel offset, batched in one call
    dcols = np.matmul(dZ_mat[None], W.reshape(f * f, n_C_prev, n_C).transpose(0, 2, 1))
    dcols = dcols.reshape(f, f, m, n_H, n_W, n_C_prev)
    dA_prev_pad = col2im(dcols, (m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev), stride)
    dA_prev = dA_prev_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev]
    return np.ascontiguousarray(dA_prev), dW, db


def create_mask_from_window(x):
    """Boolean mask of the maximum of ``x`` (every tied maximum is marked).

    Args:
        x: array ``(f, f)``.
    Returns:
        boolean array ``(f, f)``, True where ``x`` equals its maximum.
    """
    return x == np.max(x)


def distribute_value(dz, shape):
    """Spread the number ``dz`` evenly over a matrix of ``shape`` (average-pooling backward).

    Args:
        dz: a number.
        shape: ``(n_H, n_W)``.
    Returns:
        array ``shape`` whose entries all equal ``dz / (n_H * n_W)``.
    """
    n_H, n_W = shape
    return np.full((n_H, n_W), np.asarray(dz).item() / (n_H * n_W))


def _offset_slices(f, stride, n_H, n_W):
    """For each of the ``f * f`` kernel offsets ``(i, j)``, the index that picks entry ``(i, j)`` of
    every window at once: rows ``i, i + s, ..., i + s (n_H - 1)`` and the same for columns."""
    return [(i, j, (slice(None), slice(i, i + stride * (n_H - 1) + 1, stride), slice(j, j + stride * (n_W - 1) + 1, stride)))
            for i in range(f) for j in range(f)]


def pool_forward(A_prev, hparameters, mode="max"):
    """Forward pass of a pooling layer.

    Computed as an elementwise maximum (or sum) of ``f * f`` strided slices, one per position in
    the window; each slice covers every example, output pixel and channel at once.

    Args:
        A_prev: input ``(m, n_H_prev, n_W_prev, n_C)``.
        hparameters: ``{"f": f, "stride": s}``.
        mode: ``"max"`` or ``"average"``.
    Returns:
        A: ``(m, n_H, n_W, n_C)`` with ``n_H = (n_H_prev - f) // s + 1`` (same for widths);
        cache: ``(A_prev, hparameters)`` for :func:`pool_backward`.
    """
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}")
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = pool_output_shape(A_prev.shape[1], A_prev.shape[2], f, stride)
    offsets = _offset_slices(f, stride, n_H, n_W)
    A = np.array(A_prev[offsets[0][2]], dtype=np.result_type(A_prev, np.float32) if mode == "average" else A_prev.dtype)
    for _, _, sl in offsets[1:]:
        if mode == "max":
            np.maximum(A, A_prev[sl], out=A)
        else:
            A += A_prev[sl]
    if mode == "average":
        A /= f * f
    return A, (A_prev, hparameters)


def pool_backward(dA, cache, mode="max", ties="all"):
    """Backward pass of a pooling layer.

    Max pooling routes each gradient to the maximum of its window (the mask of
    :func:`create_mask_from_window`); average pooling spreads it evenly (:func:`distribute_value`).
    Overlapping windows add up. Like :func:`pool_forward`, this runs over the ``f * f`` positions
    of the window, each step handling every example, output pixel and channel.

    Args:
        dA: gradient with respect to the pooling output, ``(m, n_H, n_W, n_C)``.
        cache: ``(A_prev, hparameters)`` from :func:`pool_forward`.
        mode: ``"max"`` or ``"average"``.
        ties: max pooling only. ``"all"`` (the step-by-step convention) gives the full gradient to
            every tied maximum; ``"split"`` shares it equally between them, which keeps the
            gradient exact where a window is constant (e.g. the blank border of a digit).
            Without ties both are the same.
    Returns:
        dA_prev: ``(m, n_H_prev, n_W_prev, n_C)``.
    """
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}")
    if ties not in ("all", "split"):
        raise ValueError(f"ties must be 'all' or 'split', got {ties!r}")
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    _, n_H, n_W, _ = dA.shape
    offsets = _offset_slices(f, stride, n_H, n_W)
    if mode == "average":
        dtype = np.result_type(dA, np.float32)
        dA_prev = np.zeros(A_prev.shape, dtype=dtype)
        share = np.asarray(dA, dtype=dtype) / (f * f)
        for _, _, sl in offsets:
            dA_prev[sl] += share
        return dA_prev
    dtype = np.result_type(dA, A_prev)
    dA_prev = np.zeros(A_prev.shape, dtype=dtype)
    A = pool_forward(A_prev, hparameters, "max")[0]
    masks = [A_prev[sl] == A for _, _, sl in offsets]
    share = np.asarray(dA, dtype=dtype)
    if ties == "split":
        share = share / np.sum(masks, axis=0)
    for (_, _, sl), mask in zip(offsets, masks):
        dA_prev[sl] += mask * share
    return dA_prev
