"""A fast from-scratch multi-layer perceptron for MNIST-sized problems (NumPy only).

The model: ``L`` dense layers, ReLU on the hidden ones, softmax on the output, trained on the
mean softmax cross-entropy (with label smoothing in :func:`mlp_solver`) by mini-batch Adam and an
exponentially decaying learning rate.
Weights use He initialisation, ``W_l ~ N(0, 2 / n_{l-1})``, biases start at zero.

Public conventions (deeplearning.ai): examples are columns, ``X`` has shape ``(n_x, m)``;
labels are integer class ids of shape ``(m,)`` (or one-hot columns ``(C, m)``); parameters
live in a dict ``{"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL": (C, n_{L-1}), "bL": (C, 1)}``.

Inside :func:`mlp_solver` the data are held once as a C-contiguous *row* matrix
``(m, n_x)`` in float32, so that a mini-batch is a block of contiguous rows and every layer is
one float32 matrix product ``A @ W.T`` (about 2.5 times the speed of float64 on this kind of
machine). Nothing about that is visible from the outside: pass ``X`` as columns as usual
(``normalize(images, np.float32)`` returns columns whose transpose *is* that row
matrix, so nothing is copied).

With the defaults of :func:`mlp_solver` (784-512-256-10, 8 epochs, mini-batches of 256, Adam at
2e-3 decaying by 0.7 per epoch, label smoothing 0.1) the full MNIST (60,000 training images) gives
98.55 to 98.61 % test accuracy over seeds 0-3 (98.26 to 98.47 % without the smoothing), in about
18 s of single-core CPU time (see ``benchmarks/mnist_mlp.py``;
``benchmarks/peers.py`` compares it with PyTorch). The loop is the course's one
:class:`utils.solver.Solver`; the step (:func:`adam_step`) reuses preallocated buffers
(activations, gradients: no allocation per step); the solver caps the BLAS thread pool with its
``blas_threads`` option (1 by default; 2 is faster on two idle cores, much slower on busy ones).
"""
import numpy as np

from course.reference.optimizers import Adam

__all__ = [
    "init_mlp",
    "mlp_forward",
    "mlp_loss_and_gradients",
    "minibatch_step",
    "predict_proba",
    "predict",
    "accuracy",
    "adam_step",
    "mlp_solver",
    "layer_dims_of",
]


def normalize(images, dtype=np.float64):
    """Images -> one float column per image, pixel values scaled to ``[0, 1]``.

    Args:
        images: uint8 array of shape ``(m, 28, 28)`` (or ``(m, h, w)``, or ``(m, n_x)``).
        dtype: float dtype of the result (``np.float32`` halves the memory).
    Returns:
        X: array of shape ``(h * w, m)``, ``X[:, i] = images[i].ravel() / 255``.
    """
    images = np.asarray(images)
    m = images.shape[0]
    flat = images.reshape(m, -1)
    # Each image's pixels stay contiguous in memory (a Fortran-ordered (n_x, m) array), which
    # makes picking a mini-batch of columns, X[:, idx], a fast gather.
    X = flat.astype(dtype).T
    X /= 255
    return X


def init_mlp(layer_dims, seed=0, dtype=np.float32):
    """He-initialised parameters of a dense ReLU network.

    Args:
        layer_dims: sizes ``[n_x, n_1, ..., n_y]``, e.g. ``[784, 512, 256, 10]``.
        seed: seed of the random generator.
        dtype: float dtype of the parameters (float32 for fast training).
    Returns:
        params: ``{"W1": (n_1, n_x), "b1": (n_1, 1), ...}``, ``W_l ~ N(0, 2 / n_{l-1})``, ``b_l = 0``.
    """
    dims = [int(d) for d in layer_dims]
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"layer_dims should list at least two positive sizes, got {layer_dims!r}")
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) * np.sqrt(2.0 / dims[l - 1])).astype(dtype)
        params[f"b{l}"] = np.zeros((dims[l], 1), dtype=dtype)
    return params


def layer_dims_of(params):
    """``[n_x, n_1, ..., n_y]`` read off a parameter dict."""
    L = len(params) // 2
    return [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]


def _labels(y, m=None):
    """Integer labels (m,) from labels of shape (m,), (1, m), (m, 1) or one-hot columns (C, m)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] > 1 and (y.shape[1] == m or (m is None and y.shape[1] > 1)):
        y = np.argmax(y, axis=0)  # one-hot columns (C, m)
    y = y.ravel().astype(np.int64)
    if m is not None and y.size != m:
        raise ValueError(f"{y.size} labels for {m} examples")
    return y


def _rows_forward(A, params, L, keep=False):
    """Forward pass on rows ``A`` (m, n_x). Returns the logits (m, C) and, if ``keep``,
    the list of layer inputs ``[A0, A1, ..., A_{L-1}]`` (post-ReLU activations)."""
    inputs = [A] if keep else None
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"].T
        Z += params[f"b{l}"].T
        if l < L:
            np.maximum(Z, 0, out=Z)
            if keep:
                inputs.append(Z)
        A = Z
    return A, inputs


def _softmax_rows_(Z):
    """In-place stable softmax of each row of ``Z`` (m, C); returns ``Z``."""
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    s = Z.sum(axis=1, keepdims=True)
    Z /= s
    return Z


class _Workspace:
    """The buffers of forward and backward passes on mini-batches of up to ``batch_size`` rows,
    allocated once and reused by every step of :func:`adam_step` (no per-step allocation of
    activations or gradients; a smaller last batch uses the leading rows of each buffer, which
    are contiguous too)."""

    def __init__(self, params, L, batch_size, dtype):
        dims = layer_dims_of(params)
        self.L = L
        self.Z = [None] + [np.empty((batch_size, d), dtype) for d in dims[1:]]   # activations, logits
        self.dA = [None] + [np.empty((batch_size, d), dtype) for d in dims[1:-1]]  # hidden gradients
        self.mask = [None] + [np.empty((batch_size, d), bool) for d in dims[1:-1]]
        self.rows = np.arange(batch_size)
        self.grads = {}
        for l in range(L, 0, -1):
            self.grads[f"dW{l}"] = np.empty(params[f"W{l}"].shape, dtype)
            self.grads[f"db{l}"] = np.empty(params[f"b{l}"].shape, dtype)

    def loss_and_grads(self, Xb, yb, params, smoothing=0.0):
        """Mean cross-entropy, gradients (the workspace's own arrays, overwritten by the next
        call) and number of correct predictions of one mini-batch of rows ``Xb`` (m, n_x).

        With ``smoothing`` = e > 0 the target of a row is ``(1 - e) onehot(y) + e / C`` instead of
        ``onehot(y)`` (label smoothing, as ``torch.nn.functional.cross_entropy(...,
        label_smoothing=e)``): the loss is ``-sum_c target_c log p_c`` and ``dZ = P - target``."""
        L, m = self.L, Xb.shape[0]
        A = Xb
        for l in range(1, L + 1):
            Z = self.Z[l][:m]
            np.matmul(A, params[f"W{l}"].T, out=Z)
            Z += params[f"b{l}"].T
            if l < L:
                np.maximum(Z, 0, out=Z)
            A = Z
        logits, rows = A, self.rows[:m]
        logits -= logits.max(axis=1, keepdims=True)
        picked = logits[rows, yb]
        if smoothing:  # -log p_c = log(sums) - z_c, so the smoothed loss needs the mean logit
            picked = (1 - smoothing) * picked + smoothing * logits.mean(axis=1)
        np.exp(logits, out=logits)
        sums = logits.sum(axis=1)
        loss = float(np.mean(np.log(sums) - picked))
        P = logits
        P /= sums[:, None]
        correct = int(np.count_nonzero(P.argmax(axis=1) == yb))
        dZ = P
        dZ[rows, yb] -= 1 - smoothing
        if smoothing:
            dZ -= P.dtype.type(smoothing / dZ.shape[1])
        dZ *= P.dtype.type(1.0 / m)
        grads = self.grads
        for l in range(L, 0, -1):
            A_prev = Xb if l == 1 else self.Z[l - 1][:m]
            np.matmul(dZ.T, A_prev, out=grads[f"dW{l}"])
            np.sum(dZ, axis=0, out=grads[f"db{l}"].reshape(-1))
            if l > 1:
                dA, mask = self.dA[l - 1][:m], self.mask[l - 1][:m]
                np.matmul(dZ, params[f"W{l}"], out=dA)
                np.greater(A_prev, 0, out=mask)  # ReLU'(Z) = 1 where the activation is positive
                np.multiply(dA, mask, out=dA)
                dZ = dA
        return loss, grads, correct


def _rows_loss_and_grads(Xb, yb, params, L, smoothing=0.0):
    """Mean cross-entropy and gradients for one mini-batch of rows ``Xb`` (m, n_x), labels (m,)."""
    return _Workspace(params, L, Xb.shape[0], params["W1"].dtype).loss_and_grads(Xb, yb, params, smoothing)


def mlp_forward(X, params):
    """Class probabilities of a batch.

    Args:
        X: inputs of shape ``(n_x, m)`` (examples as columns).
        params: ``{"W1", "b1", ..., "WL", "bL"}`` (from :func:`init_mlp` or a trained :func:`mlp_solver`).
    Returns:
        A: softmax probabilities of shape ``(C, m)``; each column sums to 1.
    """
    L = len(params) // 2
    dtype = params["W1"].dtype
    logits, _ = _rows_forward(np.asarray(X, dtype=dtype).T, params, L)
    return np.ascontiguousarray(_softmax_rows_(logits).T)


def mlp_loss_and_gradients(X, Y, params, label_smoothing=0.0):
    """Mean softmax cross-entropy of a batch and its gradients (the reference backward pass).

    Args:
        X: inputs ``(n_x, m)``.
        Y: integer labels ``(m,)`` or one-hot columns ``(C, m)``.
        params: ``{"W1", "b1", ...}``.
        label_smoothing: ``e`` in [0, 1): the targets are ``(1 - e) onehot + e / C`` (0: plain
            cross-entropy).
    Returns:
        (loss, grads): float and ``{"dW1": W1.shape, "db1": b1.shape, ...}`` in the
        parameters' dtype.
    """
    L = len(params) // 2
    X = np.asarray(X, dtype=params["W1"].dtype)
    loss, grads, _ = _rows_loss_and_grads(np.ascontiguousarray(X.T), _labels(Y, X.shape[1]), params, L,
                                          _smoothing(label_smoothing))
    return loss, grads


def _smoothing(e):
    """``label_smoothing`` as a float, checked to be in [0, 1)."""
    e = float(e)
    if not 0.0 <= e < 1.0:
        raise ValueError(f"label_smoothing should be in [0, 1), got {e}")
    return e


def minibatch_step(params, X, Y, learning_rate):
    """One step of plain gradient descent on one mini-batch (04's ``minibatch_step``).

    Args:
        params: ``{"W1", "b1", ..., "WL", "bL"}`` of a ReLU network with a softmax output.
        X: inputs ``(n_x, m)``.
        Y: one-hot labels ``(C, m)`` or integer labels ``(m,)``.
        learning_rate: float.
    Returns:
        (new_params, cost): a new dict with ``P - learning_rate * dP`` for every parameter ``P``
        (the input dict is not modified), and the batch's mean cross-entropy before the step.
    """
    cost, grads = mlp_loss_and_gradients(X, Y, params)
    return {k: params[k] - learning_rate * grads["d" + k] for k in params}, cost


def predict_proba(params, X, batch_size=8192):
    """Probabilities ``(C, m)`` of inputs ``X`` ``(n_x, m)``, computed in chunks of columns."""
    X = np.asarray(X)
    parts = [mlp_forward(X[:, i:i + batch_size], params) for i in range(0, X.shape[1], batch_size)]
    return np.concatenate(parts, axis=1) if parts else np.zeros((params[f"W{len(params) // 2}"].shape[0], 0))


def predict(params, X, batch_size=8192):
    """Predicted class ids of shape ``(m,)`` for inputs ``X`` of shape ``(n_x, m)``."""
    return np.argmax(predict_proba(params, X, batch_size), axis=0)


def accuracy(params, X, y):
    """Fraction of the ``m`` columns of ``X`` whose predicted class equals ``y`` (shape ``(m,)``)."""
    y = _labels(y, np.shape(X)[1])
    return float(np.mean(predict(params, X) == y))


def adam_step(params, batch_size, optimizer=None, weight_decay=0.0, threads=1, label_smoothing=0.0):
    """A :class:`utils.solver.Solver` step: one Adam update of the MLP on a mini-batch of rows.

    Args:
        params: the parameters the step will update in place (fixes the buffers' shapes and dtype).
        batch_size: the largest mini-batch the step will see.
        optimizer: an object with ``.step(params, grads)`` and an ``lr`` attribute (default:
            ``course.reference.optimizers.Adam``); the solver's learning rate is written to ``lr``.
        weight_decay: decoupled (AdamW-style) weight decay of the ``W`` matrices per step,
            ``W -= lr * weight_decay * W``; 0 switches it off.
        threads: threads of the optimizer's update (the trainer's BLAS thread count).
        label_smoothing: see :func:`mlp_loss_and_gradients` (the loss returned is the smoothed one).
    Returns:
        ``step(params, X_rows (b, n_x), y (b,), learning_rate) -> (params, loss)``. It reuses
        preallocated buffers (activations, gradients: no allocation per step).
    """
    L = len(params) // 2
    ws = _Workspace(params, L, batch_size, params["W1"].dtype)
    opt = optimizer if optimizer is not None else Adam()
    opt.threads = threads
    smoothing = _smoothing(label_smoothing)

    def step(params, Xb, yb, learning_rate):
        loss, grads, _ = ws.loss_and_grads(Xb, yb, params, smoothing)
        opt.lr = learning_rate
        opt.step(params, grads)
        if weight_decay:
            for l in range(1, L + 1):
                params[f"W{l}"] *= 1 - learning_rate * weight_decay
        return params, loss

    return step


def mlp_solver(X, y, hidden=(512, 256), batch_size=256, seed=0, dtype=np.float32, params=None, weight_decay=0.0,
               optimizer=None, label_smoothing=0.1, **options):
    """A :class:`utils.solver.Solver` that trains a ReLU MLP with softmax output by mini-batch Adam.

    Args:
        X: training inputs of shape ``(n_x, m)`` (columns are examples, values ideally in [0, 1]).
        y: integer labels ``(m,)`` (or one-hot columns ``(C, m)``); ``C = max(y) + 1`` classes
            unless ``params`` fixes the output size.
        hidden: sizes of the hidden layers, e.g. ``(512, 256)`` or ``(800,)``.
        batch_size: examples per step; every epoch visits every example once in a new order.
        seed: seeds the initialisation (``seed``) and the shuffling (``seed + 1``).
        dtype: float dtype of the training (float32 is fast; float64 for checks).
        params: optional starting parameters (then ``hidden`` and ``seed`` of the init are ignored).
        weight_decay, optimizer: see :func:`adam_step`.
        label_smoothing: the targets are ``(1 - e) onehot + e / C`` (0: plain cross-entropy). On the
            full MNIST 0.1 gave 98.55-98.61 % (seeds 0-3) against 98.26-98.47 % (seeds 0-5) without.
        options: passed to the Solver; defaults ``epochs=8``, ``learning_rate=2e-3``,
            ``lr_decay=0.7``. E.g. ``evaluate``, ``progress``, ``blas_threads`` (1 by default: on
            a shared machine extra BLAS threads mostly wait for each other).
    Returns:
        the Solver; ``solver.train()`` gives ``(params, history)`` (``params`` as in
        :func:`init_mlp`, in ``dtype``).
    """
    from utils.solver import Solver

    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X should have shape (n_x, m), got {X.shape}")
    n_x, m = X.shape
    y = _labels(y, m)
    if params is None:
        params = init_mlp([n_x, *hidden, int(y.max()) + 1], seed=seed, dtype=dtype)
    else:
        params = {k: np.array(v, dtype=dtype) for k, v in params.items()}
    # One row per example, C-contiguous: a free view when X came from normalize(..., float32).
    rows = np.ascontiguousarray(X.T, dtype=dtype)
    options = {"epochs": 8, "learning_rate": 2e-3, "lr_decay": 0.7,
               "desc": "MLP " + "-".join(map(str, layer_dims_of(params))), **options}
    step = adam_step(params, min(batch_size, m), optimizer, weight_decay, threads=options.get("blas_threads") or 1,
                     label_smoothing=label_smoothing)
    return Solver(step, params, (rows, y), batch_size=batch_size, seed=seed + 1, axis=0, **options)
