"""Convolution and pooling layers, vectorised, with the step-by-step API of the canonical course.

Names, argument orders and caches follow the deeplearning.ai exercise "Convolutional Model: step
by step", so code written for it runs unchanged; only the insides differ. Where the exercise loops
over examples, pixels and filters, these versions work on whole batches:

- convolution, stride 1 (float32 / float64): on the "row grid" of :class:`_RowGrid`, the padded
  batch stored channel-major so that each entry of every window is one long contiguous run;
  a few images at a time (so that the data stays in cache): im2col by one copy of runs, the
  forward pass is one GEMM ``cols.T @ [W; b]`` (bias included), ``dW`` and ``db`` one GEMM
  ``cols @ dZ``, ``dA_prev`` one GEMM ``W @ dZ.T`` whose window gradients are added back with
  ``f * f`` additions of long runs;
- convolution, stride 1, small images with large filters (where the row grid's extra columns
  would be more than a quarter of its positions, e.g. the CNN's 28x28 and 12x12 layers with 5x5
  filters): band GEMMs (:class:`_Band`): ``B`` output pixels of every output row at once, from
  ``f`` contiguous runs of the NHWC input per row, times a banded filter matrix; ``dW`` sums the
  band's diagonals of ``rows.T @ dZ``, ``dA_prev`` is ``f`` additions of whole rows per band;
- convolution, other strides (or integer / float16 data): every window at once with
  ``np.lib.stride_tricks.sliding_window_view``, copied into an im2col matrix
  ``(m n_H n_W, f f n_C_prev)`` and multiplied by the filters in one GEMM; ``dW`` is one more
  GEMM, ``dA_prev`` one GEMM whose window gradients :func:`col2im` adds back with one strided
  addition per kernel offset;
- pooling: an elementwise maximum / sum over the ``f * f`` strided slices of the input, and the
  mask-weighted gradient added back the same way; when the windows tile the input (stride ``f``),
  max pooling works on whole image rows (window rows first, then columns).

The caches are the canonical plain tuples; the backward passes rebuild what they need from them.
There is no Python loop over pixels or channels; the stride-1 paths loop over blocks of a few
images (about 16 blocks for a batch of 64 28x28 images) or over a few bands of output columns.

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


def _strided(base, shape, strides, offset=0):
    """A read-only strided view of the C-contiguous array ``base`` starting ``offset`` bytes in:
    ``as_strided`` without its Python-level set-up (a few microseconds per call, holding the GIL,
    which matters when steps run on several threads)."""
    view = np.ndarray(shape, base.dtype, base, offset, strides)
    view.flags.writeable = False
    return view


# ------------------------------------------------------------------ stride 1: the row grid
# Tuning of the blocks (a few images at a time, so that a block's im2col columns are still in cache
# when the GEMM reads them) and of the choice of grid rows; see _RowGrid.
_BLOCK_BYTES = 5 << 18  # 1.25 MB of im2col columns per block: inside a 2 MB L2 cache
_DA_BLOCK_BYTES = 5 << 19  # 2.5 MB per block of window gradients (separate dA_prev pass): fewer additions
_WHOLE = 1.2  # compute on every row of the padded images when they have at most 20 % more rows than Z


def _grid_dtype(A_prev, W, hparameters, *more):
    """The dtype of the row-grid path (float32 or float64) when it applies: stride 1, a floating
    result type, a non-empty output; else None (the general path)."""
    if hparameters["stride"] != 1:
        return None
    f, pad = W.shape[0], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    if m == 0 or n_H_prev + 2 * pad < f or n_W_prev + 2 * pad < f or W.shape[3] == 0:
        return None
    dtype = np.result_type(A_prev, W, *more)
    return dtype if dtype in (np.float32, np.float64) else None


class _RowGrid:
    """Geometry of a stride-1 convolution computed on the rows of the padded images.

    Channel ``c`` of the zero-padded batch is one contiguous row of numbers ``X[c]``: image after
    image (``pitch = n_H_pad * n_W_pad`` numbers each), then ``shifts[-1]`` zeros. The window whose
    corner is the padded pixel ``(h, w)`` of image ``n`` has its entry ``(i, j)`` at the pixel
    ``(h + i, w + j)``, which is ``shift(i, j) = i * n_W_pad + j`` numbers further in ``X[c]``.

    The grid positions are, for each image, its first ``rows`` rows of ``n_W_pad`` pixels
    (``rows = n_H``, the rows where windows start, or ``n_H_pad``, every row, when that costs
    little: then the images' runs join into one). Positions outside the ``n_H x n_W`` corners of
    real windows are garbage, never read back (and given a zero gradient). So the entry ``(i, j, c)``
    of the windows of all of an image's positions is ONE contiguous run of ``X[c]``: im2col is a
    copy of long runs (no small strided pieces), and col2im ``f * f`` additions of long runs."""

    def __init__(self, shape, f, pad, dtype):
        self.m, self.n_H_prev, self.n_W_prev, self.n_C_prev = shape
        self.f, self.pad, self.itemsize = f, pad, np.dtype(dtype).itemsize
        self.n_H_pad, self.n_W_pad = self.n_H_prev + 2 * pad, self.n_W_prev + 2 * pad
        self.n_H, self.n_W = self.n_H_pad - f + 1, self.n_W_pad - f + 1
        self.pitch = self.n_H_pad * self.n_W_pad
        self.rows = self.n_H_pad if self.n_H_pad <= _WHOLE * self.n_H else self.n_H
        self.T = self.rows * self.n_W_pad  # grid positions per image
        self.shifts = [i * self.n_W_pad + j for i in range(f) for j in range(f)]
        self.K = f * f * self.n_C_prev
        self.per_block = self.images_per_block(self.T, _BLOCK_BYTES)

    def images_per_block(self, positions, nbytes):
        """How many images of ``positions`` grid positions each fit ``nbytes`` of columns."""
        return max(1, min(self.m, nbytes // ((self.K + 1) * self.itemsize * positions)))

    def blocks(self):
        return [(n0, min(n0 + self.per_block, self.m)) for n0 in range(0, self.m, self.per_block)]

    def channels(self, A_prev, dtype):
        """``X``: ``A_prev`` zero-padded, channel-major, flat, ``(n_C_prev, m pitch + shifts[-1])``."""
        pad, n_H_pad, n_W_pad = self.pad, self.n_H_pad, self.n_W_pad
        X = np.empty((self.n_C_prev, self.m * self.pitch + self.shifts[-1]), dtype)
        X[:, self.m * self.pitch :] = 0
        Xi = X[:, : self.m * self.pitch].reshape(self.n_C_prev, self.m, n_H_pad, n_W_pad)
        if pad:  # zero the border only, then one copy of the inside
            Xi[:, :, :pad] = 0
            Xi[:, :, n_H_pad - pad :] = 0
            Xi[:, :, pad : n_H_pad - pad, :pad] = 0
            Xi[:, :, pad : n_H_pad - pad, n_W_pad - pad :] = 0
        Xi[:, :, pad : pad + self.n_H_prev, pad : pad + self.n_W_prev] = A_prev.transpose(3, 0, 1, 2)
        return X

    def windows(self, X):
        """The read-only view ``(f, f, n_C_prev, m, T)`` of ``X``: ``[i, j, c, n]`` is entry
        ``(i, j, c)`` of the windows of image ``n``'s grid positions (a run of ``X[c]``)."""
        item = X.itemsize
        return _strided(X, (self.f, self.f, X.shape[0], self.m, self.T),
                        (self.n_W_pad * item, item, X.strides[0], self.pitch * item, item))

    def cols_buffer(self, dtype):
        """A block of im2col columns ``(f f n_C_prev + 1, per_block T)``, the last row ones (the bias)."""
        buf = np.empty((self.K + 1, self.per_block * self.T), dtype)
        buf[self.K] = 1
        return buf

    def fill(self, buf, windows, n0, n1):
        """The im2col columns of images ``n0 .. n1`` copied into ``buf`` (one copy); returns them,
        ``(f f n_C_prev + 1, (n1 - n0) T)``, row ``(i, j, c)`` then the ones."""
        rows = buf[:-1].reshape(self.f, self.f, self.n_C_prev, -1, self.T)
        rows[:, :, :, : n1 - n0] = windows[:, :, :, n0:n1]
        return buf[:, : (n1 - n0) * self.T]

    def add_back(self, dX, dcols, start, stop):
        """col2im of the window gradients ``dcols`` ``(f f n_C_prev, stop - start)`` of the whole-grid
        positions ``start .. stop``: ``f * f`` additions of contiguous runs into ``dX`` (like ``X``)."""
        dcols = dcols.reshape(self.f * self.f, self.n_C_prev, stop - start)
        for k, shift in enumerate(self.shifts):
            dX[:, start + shift : stop + shift] += dcols[k]


def _conv_forward_grid(A_prev, W, b, pad, dtype):
    """Stride-1 forward pass on the row grid, a few images at a time: the block's im2col columns,
    one GEMM ``cols.T @ [W; b]`` (the bias comes with the ones row) and the copy of the real
    positions into ``Z``, all while the block is in cache."""
    g = _RowGrid(A_prev.shape, W.shape[0], pad, dtype)
    n_C = W.shape[3]
    windows = g.windows(g.channels(A_prev, dtype))
    Wb = np.empty((g.K + 1, n_C), dtype)
    Wb[: g.K] = W.reshape(g.K, n_C)
    Wb[g.K] = np.reshape(b, n_C)
    Z = np.empty((g.m, g.n_H, g.n_W, n_C), dtype)
    Zb = np.empty((g.per_block, g.rows, g.n_W_pad, n_C), dtype)
    buf = g.cols_buffer(dtype)
    for n0, n1 in g.blocks():
        np.matmul(g.fill(buf, windows, n0, n1).T, Wb, out=Zb[: n1 - n0].reshape(-1, n_C))
        Z[n0:n1] = Zb[: n1 - n0, : g.n_H, : g.n_W]
    return Z


def _conv_backward_grid(dZ, cache, dtype, need_dA=True):
    """Stride-1 backward pass on the row grid, a few images at a time: the block's ``dZ`` on the grid
    and its im2col columns again (copies in cache), ``[dW; db] += cols @ dZ`` (the ones row gives
    ``db``); for ``dA_prev``, the window gradients ``W @ dZ.T`` (channel-major, on the whole padded
    grid) added back by :meth:`_RowGrid.add_back`, in the same pass when the grid rows are the whole
    images (the block's images are then complete and copied out at once), else in a second pass."""
    A_prev, W, _, hparameters = cache
    f, _, n_C_prev, n_C = W.shape
    g = _RowGrid(A_prev.shape, f, hparameters["pad"], dtype)
    windows = g.windows(g.channels(A_prev, dtype))
    dWb = np.zeros((g.K + 1, n_C), dtype)
    part = np.empty_like(dWb)
    buf = g.cols_buffer(dtype)
    one_pass = need_dA and g.rows == g.n_H_pad
    dZb = np.zeros((g.per_block, g.rows, g.n_W_pad, n_C), dtype)  # zero where no window starts
    if need_dA:
        Wm = W.reshape(g.K, n_C).astype(dtype, copy=False)
        dX = np.zeros((n_C_prev, g.m * g.pitch + g.shifts[-1]), dtype)
        dA_prev = np.empty(A_prev.shape, np.result_type(dZ, W))
        inside = (slice(None), slice(None), slice(g.pad, g.pad + g.n_H_prev), slice(g.pad, g.pad + g.n_W_prev))
        dcols = np.empty((g.K, g.per_block * g.T), dtype) if one_pass else None
    for n0, n1 in g.blocks():
        nb = n1 - n0
        dZb[:nb, : g.n_H, : g.n_W] = dZ[n0:n1]
        dZ_block = dZb[:nb].reshape(nb * g.T, n_C)
        np.matmul(g.fill(buf, windows, n0, n1), dZ_block, out=part)
        dWb += part
        if one_pass:
            start, stop = n0 * g.pitch, n1 * g.pitch
            g.add_back(dX, np.matmul(Wm, dZ_block.T, out=dcols[:, : stop - start]), start, stop)
            # images n0 .. n1 - 1 are complete: later blocks add (zeros) only from image n1 on
            dA_prev[n0:n1] = dX[:, start:stop].reshape(n_C_prev, nb, g.n_H_pad, g.n_W_pad)[inside].transpose(1, 2, 3, 0)
    dW = dWb[: g.K].reshape(W.shape).astype(np.result_type(A_prev, dZ), copy=False)
    db = dWb[g.K].reshape(1, 1, 1, n_C).astype(dZ.dtype, copy=False)
    if not need_dA:
        return None, dW, db
    if not one_pass:  # dZ on the whole padded grid, zero where no window starts
        dZp = np.zeros((g.m, g.n_H_pad, g.n_W_pad, n_C), dtype)
        dZp[:, : g.n_H, : g.n_W] = dZ
        dZp = dZp.reshape(g.m * g.pitch, n_C)
        per_block = g.images_per_block(g.pitch, _DA_BLOCK_BYTES)
        dcols = np.empty((g.K, per_block * g.pitch), dtype)
        for n0 in range(0, g.m, per_block):
            start, stop = n0 * g.pitch, min(n0 + per_block, g.m) * g.pitch
            g.add_back(dX, np.matmul(Wm, dZp[start:stop].T, out=dcols[:, : stop - start]), start, stop)
        dA_prev[...] = dX[:, : g.m * g.pitch].reshape(n_C_prev, g.m, g.n_H_pad, g.n_W_pad)[inside].transpose(1, 2, 3, 0)
    return dA_prev, dW, db


# ------------------------------------------------------------------ stride 1, small images: band GEMMs
_BAND_WASTE = 1.25  # the band path when the row grid would compute more than 25 % garbage positions
_BAND_COLUMNS = 64  # output columns of a band GEMM: ``B`` pixels of an output row times ``n_C`` filters
_BAND_BYTES = 5 << 18  # 1.25 MB of band rows per block of images


def _use_band(shape, f, pad, dtype):
    """True when a stride-1 convolution of ``shape`` runs faster on band GEMMs than on the row grid:
    when the grid's extra ``f - 1`` columns (and rows) are a large part of its positions, i.e. for
    small images and large filters (the CNN's 28x28 and 12x12 layers with 5x5 filters)."""
    g = _RowGrid(shape, f, pad, dtype)
    return g.T > _BAND_WASTE * g.n_H * g.n_W


class _Band:
    """Geometry of a stride-1 convolution computed as GEMMs with banded filter matrices.

    ``B`` neighbouring output pixels of a row, ``(h, w0 .. w0 + B - 1)``, see the input rows
    ``h .. h + f - 1`` of the padded image at the columns ``w0 .. w0 + B + f - 2``: for an NHWC
    (C-contiguous) padded batch, each of these ``f`` rows is ONE contiguous run of ``(B + f - 1)
    n_C_prev`` numbers. So the band rows ``(n, h)`` (the ``f`` runs of an output row, and a 1 for
    the bias) times the band matrix ``T[(i, w + j, c), (w, o)] = W[i, j, c, o]`` (zero elsewhere)
    give the ``B`` pixels of every output row in one GEMM, written straight into NHWC ``Z``. The
    band wastes ``(B + f - 1) / f`` of the flops of an im2col GEMM, but its copies are a few long
    runs per row (no im2col matrix ``f * f`` times larger than the input), its GEMMs have a BLAS-friendly
    shape (``K = f (B + f - 1) n_C_prev``, ``N = B n_C``), and ``dA_prev`` is ``f`` additions of
    whole rows per block. ``dW`` is ``rows.T @ dZ`` summed along the band's diagonals."""

    def __init__(self, shape, W_shape, pad, dtype):
        self.m, self.n_H_prev, self.n_W_prev, self.n_C_prev = shape
        self.f, _, _, self.n_C = W_shape
        self.pad, self.dtype = pad, np.dtype(dtype)
        self.n_H_pad, self.n_W_pad = self.n_H_prev + 2 * pad, self.n_W_prev + 2 * pad
        self.n_H, self.n_W = self.n_H_pad - self.f + 1, self.n_W_pad - self.f + 1
        n_blocks = -(-self.n_W // max(1, min(self.n_W, _BAND_COLUMNS // self.n_C)))
        self.B = -(-self.n_W // n_blocks)  # output pixels per band (equal bands)
        K = self.f * (self.B + self.f - 1) * self.n_C_prev + 1
        self.per_block = max(1, min(self.m, _BAND_BYTES // (K * self.dtype.itemsize * self.n_H)))

    def bands(self):
        """``(w0, B)`` of each band of output columns."""
        return [(w0, min(self.B, self.n_W - w0)) for w0 in range(0, self.n_W, self.B)]

    def images(self):
        return [(n0, min(n0 + self.per_block, self.m)) for n0 in range(0, self.m, self.per_block)]

    def padded(self, A_prev):
        """``A_prev`` zero-padded, C-contiguous, in the computing dtype (``A_prev`` itself when it
        already is)."""
        if not self.pad:
            return np.ascontiguousarray(A_prev, dtype=self.dtype)
        p = self.pad
        A_pad = np.empty((self.m, self.n_H_pad, self.n_W_pad, self.n_C_prev), self.dtype)
        A_pad[:, :p] = 0
        A_pad[:, self.n_H_pad - p :] = 0
        A_pad[:, p : self.n_H_pad - p, :p] = 0
        A_pad[:, p : self.n_H_pad - p, self.n_W_pad - p :] = 0
        A_pad[:, p : p + self.n_H_prev, p : p + self.n_W_prev] = A_prev
        return A_pad

    def rows_buffer(self):
        """Band rows ``(per_block n_H, f (B + f - 1) n_C_prev + 1)``, the last column ones (the bias)."""
        K = self.f * (self.B + self.f - 1) * self.n_C_prev
        buf = np.empty((self.per_block * self.n_H, K + 1), self.dtype)
        buf[:, K] = 1
        return buf

    def fill(self, buf, A_pad, n0, n1, w0, B):
        """The band rows of images ``n0 .. n1`` for output columns ``w0 .. w0 + B - 1`` (one copy of
        ``f`` runs per output row); returns them, ``((n1 - n0) n_H, f (B + f - 1) n_C_prev + 1)``."""
        run = (B + self.f - 1) * self.n_C_prev
        K = self.f * run
        nb, item = n1 - n0, self.dtype.itemsize
        rows = buf[: nb * self.n_H, : K + 1]
        if K + 1 < buf.shape[1]:  # a narrower last band
            rows = np.empty((nb * self.n_H, K + 1), self.dtype)
            rows[:, K] = 1
        # strides from the shape: NumPy may give an axis of length 1 (n_C_prev = 1) any stride
        row = self.n_W_pad * self.n_C_prev * item
        src = _strided(A_pad, (nb, self.n_H, self.f, run), (self.n_H_pad * row, row, row, item),
                       n0 * self.n_H_pad * row + w0 * self.n_C_prev * item)
        rows[:, :K].reshape(nb, self.n_H, self.f, run)[...] = src
        return rows

    def filters(self, W, B, b=None):
        """The band matrix ``(f (B + f - 1) n_C_prev [+ 1], B n_C)`` of ``W`` (and the bias row)."""
        f, n_C_prev, n_C = self.f, self.n_C_prev, self.n_C
        K = f * (B + f - 1) * n_C_prev
        T = np.zeros((K + (b is not None), B * n_C), self.dtype)
        np.copyto(self.diagonals(T, B, writeable=True), W[:, :, :, None, :])  # T[(i, w + j, c), (w, o)] = W[i, j, c, o]
        if b is not None:
            T[K].reshape(B, n_C)[...] = np.reshape(b, n_C)
        return T

    def diagonals(self, G, B, writeable=False):
        """The view ``(f, f, n_C_prev, B, n_C)`` of the entries ``G[(i, w + j, c), (w, o)]`` of a band
        matrix ``G`` (C-contiguous, its rows ``(i, w', c)`` first): the places of ``W[i, j, c, o]``."""
        f, n_C_prev, n_C = self.f, self.n_C_prev, self.n_C
        s4 = G.itemsize  # strides of G (f, B + f - 1, n_C_prev, B, n_C), from the shape (see fill)
        s3 = n_C * s4
        s1 = n_C_prev * B * s3
        shape, strides = (f, f, n_C_prev, B, n_C), ((B + f - 1) * s1, s1, B * s3, s1 + s3, s4)
        return np.ndarray(shape, G.dtype, G, 0, strides) if writeable else _strided(G, shape, strides)

    def add_diagonals(self, dW, G, B):
        """``dW[i, j, c, o] += sum_w G[(i, w + j, c), (w, o)]``: the filter gradient of one band."""
        dW += self.diagonals(np.ascontiguousarray(G), B).sum(axis=3)


def _conv_forward_band(A_prev, W, b, pad, dtype):
    """Stride-1 forward pass on band GEMMs (see :class:`_Band`), a block of images at a time."""
    g = _Band(A_prev.shape, W.shape, pad, dtype)
    A_pad = g.padded(A_prev)
    Z = np.empty((g.m, g.n_H, g.n_W, g.n_C), dtype)
    Zm = Z.reshape(g.m * g.n_H, g.n_W * g.n_C)
    buf = g.rows_buffer()
    for w0, B in g.bands():
        T = g.filters(W, B, b)
        for n0, n1 in g.images():
            np.matmul(g.fill(buf, A_pad, n0, n1, w0, B), T, out=Zm[n0 * g.n_H : n1 * g.n_H, w0 * g.n_C : (w0 + B) * g.n_C])
    return Z


def _conv_backward_band(dZ, cache, dtype, need_dA=True):
    """Stride-1 backward pass on band GEMMs (see :class:`_Band`): per band and block of images,
    ``[G; db] = rows.T @ dZ`` (summed along the band's diagonals into ``dW``) and the band rows'
    gradients ``dZ @ T.T`` added back onto the padded input, ``f`` additions of whole rows."""
    A_prev, W, _, hparameters = cache
    g = _Band(A_prev.shape, W.shape, hparameters["pad"], dtype)
    A_pad = g.padded(A_prev)
    dZm = np.ascontiguousarray(dZ, dtype=dtype).reshape(g.m * g.n_H, g.n_W * g.n_C)
    dW = np.zeros(W.shape, dtype)
    db = np.zeros(g.n_C, dtype)
    buf = g.rows_buffer()
    if need_dA:
        dA_pad = np.zeros((g.m, g.n_H_pad, g.n_W_pad * g.n_C_prev), dtype)
    for w0, B in g.bands():
        T = g.filters(W, B) if need_dA else None
        K = T.shape[0] if need_dA else g.f * (B + g.f - 1) * g.n_C_prev
        for n0, n1 in g.images():
            rows = g.fill(buf, A_pad, n0, n1, w0, B)
            dZ_band = dZm[n0 * g.n_H : n1 * g.n_H, w0 * g.n_C : (w0 + B) * g.n_C]
            G = rows.T @ dZ_band
            db += G[K].reshape(B, g.n_C).sum(axis=0)
            g.add_diagonals(dW, G[:K], B)
            if need_dA:
                drows = (dZ_band @ T.T).reshape(n1 - n0, g.n_H, g.f, -1)
                cols = slice(w0 * g.n_C_prev, (w0 + B + g.f - 1) * g.n_C_prev)
                for i in range(g.f):
                    dA_pad[n0:n1, i : i + g.n_H, cols] += drows[:, :, i]
    dW = dW.astype(np.result_type(A_prev, dZ), copy=False)
    db = db.reshape(1, 1, 1, g.n_C).astype(dZ.dtype, copy=False)
    if not need_dA:
        return None, dW, db
    dA_pad = dA_pad.reshape(g.m, g.n_H_pad, g.n_W_pad, g.n_C_prev)
    p = g.pad
    dA_prev = np.empty(A_prev.shape, np.result_type(dZ, W))
    dA_prev[...] = dA_pad[:, p : p + g.n_H_prev, p : p + g.n_W_prev] if p else dA_pad
    return dA_prev, dW, db


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
    dtype = _grid_dtype(A_prev, W, hparameters)
    if dtype is not None:
        conv = _conv_forward_band if _use_band(A_prev.shape, f, pad, dtype) else _conv_forward_grid
        return conv(A_prev, W, b, pad, dtype), (A_prev, W, b, hparameters)
    cols = im2col(zero_pad(A_prev, pad) if pad else A_prev, f, stride)  # (m, n_H, n_W, f, f, n_C_prev)
    m, n_H, n_W = cols.shape[:3]
    Z = cols.reshape(m * n_H * n_W, -1) @ W.reshape(-1, n_C)  # one GEMM
    Z = Z.reshape(m, n_H, n_W, n_C)
    Z += np.reshape(b, (1, 1, 1, n_C)).astype(Z.dtype, copy=False)
    return Z, (A_prev, W, b, hparameters)


def _conv_backward(dZ, cache, dtype, need_dA=True):
    """The stride-1 backward pass, on the path its forward pass took (band or row grid)."""
    A_prev, W, _, hparameters = cache
    band = _use_band(A_prev.shape, W.shape[0], hparameters["pad"], dtype)
    return (_conv_backward_band if band else _conv_backward_grid)(dZ, cache, dtype, need_dA)


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
    dtype = _grid_dtype(A_prev, W, hparameters, dZ)
    if dtype is not None:
        return _conv_backward(dZ, cache, dtype, need_dA=False)[1:]
    n_C, pad = W.shape[3], hparameters["pad"]
    dZ_mat = dZ.reshape(-1, n_C)
    cols = im2col(zero_pad(A_prev, pad) if pad else A_prev, W.shape[0], hparameters["stride"]).reshape(len(dZ_mat), -1)
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
    dtype = _grid_dtype(A_prev, W, hparameters, dZ)
    if dtype is not None:
        return _conv_backward(dZ, cache, dtype)
    f, _, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    _, n_H, n_W, _ = dZ.shape
    dW, db = conv_filter_gradients(dZ, cache)
    dZ_mat = dZ.reshape(m * n_H * n_W, n_C)
    # every window's gradient in one GEMM, offset-major for col2im: (f f n_C_prev, M) -> (f, f, m, n_H, n_W, n_C_prev)
    dcols = (W.reshape(f * f * n_C_prev, n_C) @ dZ_mat.T).reshape(f, f, n_C_prev, m, n_H, n_W)
    dA_prev_pad = col2im(dcols.transpose(0, 1, 3, 4, 5, 2), (m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev), stride)
    return np.ascontiguousarray(dA_prev_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev]), dW, db


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


def _tiles(X, f, n_H, n_W):
    """When the ``f x f`` windows of stride ``f`` tile ``X`` ``(m, n_H f, n_W f, n_C)`` exactly: the view
    ``(m, n_H, f, n_W f, n_C)`` whose ``[:, h, i]`` is row ``i`` of the windows of output row ``h``
    (whole image rows, contiguous); else None."""
    m, n_H_prev, n_W_prev, n_C = X.shape
    if n_H_prev != n_H * f or n_W_prev != n_W * f or not X.flags.c_contiguous:
        return None
    return X.reshape(m, n_H, f, n_W * f, n_C)


def _max_of_tiles(T, f):
    """Max pooling of the tiles ``T`` (see :func:`_tiles`): the maximum over the window rows (whole
    image rows at once), then over the ``f`` columns of each window."""
    m, n_H, _, n_Wf, n_C = T.shape
    rows = np.maximum(T[:, :, 0], T[:, :, 1]) if f > 1 else np.array(T[:, :, 0])
    for i in range(2, f):
        np.maximum(rows, T[:, :, i], out=rows)
    cols = rows.reshape(m, n_H, n_Wf // f, f, n_C)
    A = np.maximum(cols[:, :, :, 0], cols[:, :, :, 1]) if f > 1 else np.array(cols[:, :, :, 0])
    for j in range(2, f):
        np.maximum(A, cols[:, :, :, j], out=A)
    return A


def _max_pool_backward_tiles(dA, T, A, f, ties, dtype):
    """Max-pooling backward when the windows tile the input (see :func:`_tiles`): each window's
    maximum and gradient repeated under its ``f`` columns, compared with / multiplied into whole
    image rows, one pass per window row."""
    m, n_H, _, n_Wf, n_C = T.shape
    A_cols = np.repeat(A, f, axis=2)  # (m, n_H, n_W f, n_C): the maximum of the window above each pixel
    mask = np.empty(T.shape, bool)
    for i in range(f):
        np.equal(T[:, :, i], A_cols, out=mask[:, :, i])
    share = np.asarray(dA, dtype=dtype)
    if ties == "split":
        counts = mask.view(np.uint8) if f * f < 256 else mask.astype(np.int32)
        per_col = counts[:, :, 0].copy()
        for i in range(1, f):
            per_col += counts[:, :, i]
        per_col = per_col.reshape(m, n_H, n_Wf // f, f, n_C)
        count = per_col[:, :, :, 0].copy()
        for j in range(1, f):
            count += per_col[:, :, :, j]
        share = share / count
    share_cols = np.repeat(share, f, axis=2)
    dA_prev = np.empty((m, n_H * f, n_Wf, n_C), dtype)
    out = dA_prev.reshape(T.shape)
    for i in range(f):
        np.multiply(mask[:, :, i], share_cols, out=out[:, :, i])
    return dA_prev


def pool_forward(A_prev, hparameters, mode="max"):
    """Forward pass of a pooling layer.

    Computed as an elementwise maximum (or sum) of ``f * f`` strided slices, one per position in
    the window; each slice covers every example, output pixel and channel at once. When the
    windows tile the input (stride ``f``, sizes multiples of ``f``), max pooling takes the maximum
    of the window rows first (whole image rows at once), then of the window columns.

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
    T = _tiles(A_prev, f, n_H, n_W) if mode == "max" and stride == f else None
    if T is not None:
        A = _max_of_tiles(T, f)
    else:
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
    return _max_pool_backward(dA, cache, ties)


def _max_pool_backward(dA, cache, ties, A=None):
    """Max-pooling backward (see :func:`pool_backward`); ``A``: the forward pass's output when the
    caller kept it (it is recomputed otherwise)."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    _, n_H, n_W, _ = dA.shape
    dtype = np.result_type(dA, A_prev)
    T = _tiles(A_prev, f, n_H, n_W) if stride == f else None
    if T is not None:
        return _max_pool_backward_tiles(dA, T, _max_of_tiles(T, f) if A is None else A, f, ties, dtype)
    offsets = _offset_slices(f, stride, n_H, n_W)
    dA_prev = np.zeros(A_prev.shape, dtype=dtype)
    A = pool_forward(A_prev, hparameters, "max")[0] if A is None else A
    masks = [A_prev[sl] == A for _, _, sl in offsets]
    share = np.asarray(dA, dtype=dtype)
    if ties == "split":
        share = share / np.sum(masks, axis=0)
    for (_, _, sl), mask in zip(offsets, masks):
        dA_prev[sl] += mask * share
    return dA_prev
