"""A small convolutional network for MNIST built only from the reference ops of ``course.reference.cnn_utils``.

Architecture (NHWC, 28x28x1 inputs)::

    conv 5x5, 8 filters (stride 1, no pad)  -> ReLU -> max-pool 2x2 / 2     28x28x1 -> 24x24x8 -> 12x12x8
    conv 5x5, 16 filters (stride 1, no pad) -> ReLU -> max-pool 2x2 / 2     12x12x8 -> 8x8x16  -> 4x4x16
    flatten (256, m) -> dense W3 (10, 256), b3 (10, 1) -> softmax            -> (10, m)

5,994 parameters. The dense part follows the course convention (examples are columns). Training
runs in float32 with mini-batches and Adam (``course.reference.optimizers.Adam``).
"""
import numpy as np

from course.reference.cnn_utils import (_max_pool_backward, conv_backward, conv_filter_gradients, conv_forward, pool_backward,
                                        pool_forward)
from course.reference.processes import HelperProcesses

CONV1 = {"stride": 1, "pad": 0}
CONV2 = {"stride": 1, "pad": 0}
POOL = {"f": 2, "stride": 2}
MEAN, STD = 0.1307, 0.3081  # MNIST pixel statistics (after scaling to [0, 1])


def preprocess(images):
    """uint8 images ``(m, 28, 28)`` -> standardised float32 ``(m, 28, 28, 1)``."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    return ((x - MEAN) / STD)[..., None]


def init_cnn(seed=0, n_filters=(8, 16), f=5, n_classes=10, dtype=np.float32):
    """Initial parameters: W1 ``(f, f, 1, 8)``, b1 ``(1, 1, 1, 8)``, W2 ``(f, f, 8, 16)``,
    b2 ``(1, 1, 1, 16)``, W3 ``(10, 256)``, b3 ``(10, 1)``; He-scaled Gaussian weights (W1 at a
    fifth of that scale), zero biases, ``dtype`` float32 by default."""
    rng = np.random.default_rng(seed)
    c1, c2 = n_filters
    side = ((28 - f + 1) // 2 - f + 1) // 2
    n_flat = side * side * c2
    params = {
        # first-layer filters start at a fifth of the He scale: the filters shown after training
        # are then mostly learned structure (edges, strokes) rather than leftover noise
        "W1": rng.standard_normal((f, f, 1, c1)) * (0.2 * np.sqrt(2.0 / (f * f))),
        "b1": np.zeros((1, 1, 1, c1)),
        "W2": rng.standard_normal((f, f, c1, c2)) * np.sqrt(2.0 / (f * f * c1)),
        "b2": np.zeros((1, 1, 1, c2)),
        "W3": rng.standard_normal((n_classes, n_flat)) * np.sqrt(1.0 / n_flat),
        "b3": np.zeros((n_classes, 1)),
    }
    return {k: v.astype(dtype) for k, v in params.items()}


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def forward(X, params):
    """Forward pass.

    Args:
        X: images ``(m, 28, 28, 1)``.
        params: from :func:`init_cnn`.
    Returns:
        probs: softmax probabilities ``(10, m)``;
        caches: dict of every intermediate the backward pass needs (and the feature maps
        ``"A1"`` ``(m, 24, 24, 8)`` and ``"A2"`` ``(m, 8, 8, 16)`` after ReLU, for plots).
    """
    Z1, c1 = conv_forward(X, params["W1"], params["b1"], CONV1)
    A1 = np.maximum(Z1, 0)
    P1, p1 = pool_forward(A1, POOL, mode="max")
    Z2, c2 = conv_forward(P1, params["W2"], params["b2"], CONV2)
    A2 = np.maximum(Z2, 0)
    P2, p2 = pool_forward(A2, POOL, mode="max")
    F = P2.reshape(P2.shape[0], -1).T  # (256, m)
    Z3 = params["W3"] @ F + params["b3"]
    probs = _softmax(Z3)
    return probs, {"c1": c1, "Z1": Z1, "A1": A1, "p1": p1, "P1": P1, "c2": c2, "Z2": Z2, "A2": A2, "p2": p2, "P2": P2,
                   "P2_shape": P2.shape, "F": F}


def _relu_pool_backward(dP, caches, k):
    """``dZ`` of ``A = max(Z, 0)`` followed by max pooling, from the gradient ``dP`` of the pooled
    output: ``pool_backward(dP) * (Z > 0)``. A pooled maximum is positive exactly when its input is
    (``Z = A > 0``), and a window whose maximum is 0 passes no gradient through the ReLU, so the
    ReLU is applied on the pooled gradient (4x smaller), with the same result."""
    P = caches.get("P" + k)
    if P is None:  # caches from elsewhere: the plain way
        return pool_backward(dP, caches["p" + k], mode="max", ties="split") * (caches["Z" + k] > 0)
    return _max_pool_backward(dP * (P > 0), caches["p" + k], "split", A=P)  # P: no second pooling pass


def backward(probs, y, caches, params):
    """Gradients of the mean cross-entropy.

    Args:
        probs: ``(10, m)`` from :func:`forward`; y: integer labels ``(m,)``.
    Returns:
        grads dict ``dW1, db1, dW2, db2, dW3, db3`` with the parameters' shapes.
    """
    return _backward(probs, y, caches, params, probs.shape[1])


def _backward(probs, y, caches, params, m_total):
    """:func:`backward` of a part of a mini-batch of ``m_total`` examples (its share of the mean)."""
    m = probs.shape[1]
    dZ3 = probs.copy()
    dZ3[y, np.arange(m)] -= 1
    dZ3 /= m_total
    grads = {"dW3": dZ3 @ caches["F"].T, "db3": dZ3.sum(axis=1, keepdims=True)}
    dF = params["W3"].T @ dZ3  # (256, m)
    dP2 = dF.T.reshape(caches["P2_shape"])  # back to (m, 4, 4, 16)
    dZ2 = _relu_pool_backward(dP2, caches, "2")
    dP1, grads["dW2"], grads["db2"] = conv_backward(dZ2, caches["c2"])
    dZ1 = _relu_pool_backward(dP1, caches, "1")
    grads["dW1"], grads["db1"] = conv_filter_gradients(dZ1, caches["c1"])  # the pixels need no gradient
    return grads


def cross_entropy(probs, y):
    """Mean cross-entropy of probabilities ``(10, m)`` against integer labels ``(m,)``."""
    return float(-np.mean(np.log(probs[y, np.arange(len(y))] + 1e-12)))


def predict(X, params, batch_size=1000):
    """Predicted labels ``(m,)`` for images ``(m, 28, 28, 1)``, computed in batches."""
    return np.concatenate([forward(X[i : i + batch_size], params)[0].argmax(axis=0) for i in range(0, len(X), batch_size)])


def accuracy(X, y, params):
    """Fraction of correctly classified images."""
    return float(np.mean(predict(X, params) == np.asarray(y)))


def _part(args):
    """Forward and backward pass of a part ``(X, y, params, m_total)`` of a mini-batch: its
    probabilities and its share of the gradients of the mean over ``m_total`` examples."""
    X, y, params, m_total = args
    probs, caches = forward(X, params)
    return probs, _backward(probs, y, caches, params, m_total)


def adam_step(optimizer, threads=1):
    """A :class:`utils.solver.Solver` step: one update of the CNN by ``optimizer`` on a mini-batch.

    Args:
        optimizer: an object with ``.step(params, grads)`` updating in place and an ``lr``
            attribute (e.g. ``course.reference.optimizers.Adam``); the solver's learning rate is
            written to ``lr``.
        threads: with ``threads > 1``, the mini-batch is cut into ``threads`` parts whose forward
            and backward passes run at the same time, one here and the others in helper
            processes (:class:`course.reference.processes.HelperProcesses`, started at the first
            step; one BLAS thread each: the layers' GEMMs are too small to share), and their
            gradients are added. The same gradients as one pass, up to the rounding of float32 sums.
    Returns:
        ``step(params, X (b, 28, 28, 1), y (b,), learning_rate) -> (params, loss)``.
    """
    helpers = None

    def step(params, Xb, yb, learning_rate):
        nonlocal helpers
        m = len(yb)
        if threads < 2 or m < 2 * threads:
            probs, grads = _part((Xb, yb, params, m))
        else:
            helpers = helpers or HelperProcesses(_part, threads - 1)
            edges = [m * k // threads for k in range(threads + 1)]
            parts = helpers.map([(Xb[a:b], yb[a:b], params, m) for a, b in zip(edges, edges[1:])])
            probs, grads = np.concatenate([p for p, _ in parts], axis=1), parts[0][1]
            for _, g in parts[1:]:
                for name, value in g.items():
                    grads[name] += value
        optimizer.lr = learning_rate
        optimizer.step(params, grads)
        return params, cross_entropy(probs, yb)

    return step


def cnn_solver(X, y, batch_size=64, lr=3e-3, lr_decay=0.4, seed=0, params=None, **options):
    """A :class:`utils.solver.Solver` training the CNN by mini-batch Adam.

    Args:
        X: images ``(m, 28, 28, 1)`` (float32, from :func:`preprocess`); y: labels ``(m,)``.
        lr: Adam's learning rate in the first epoch, multiplied by ``lr_decay`` after each one.
        seed: seeds the initialisation and the shuffling.
        params: optional starting parameters (default ``init_cnn(seed)``), updated in place.
        options: passed to the Solver (default ``epochs=4``), e.g. ``max_steps``, ``progress``,
            ``blas_threads``: the threads of the training (default 1); with 2 or more, each step
            runs parts of its mini-batch at once, here and in helper processes, one BLAS thread
            each (see :func:`adam_step`).
    Returns:
        the Solver; ``solver.train()`` gives ``(params, history)``.
    """
    from course.reference.optimizers import Adam
    from utils.solver import Solver

    params = init_cnn(seed) if params is None else params
    options = {"epochs": 4, "desc": "CNN", **options}
    threads = options.get("blas_threads", 1) or 1
    if threads > 1:
        options["blas_threads"] = 1  # the step's parts, one BLAS thread each
    return Solver(adam_step(Adam(lr=lr), threads), params, (X, np.asarray(y)), batch_size=batch_size, learning_rate=lr,
                  lr_decay=lr_decay, seed=seed, axis=0, **options)
