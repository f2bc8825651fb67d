"""Reference loss functions: one-hot labels, softmax cross-entropy, binary cross-entropy.

Conventions (deeplearning.ai): one column per example. Scores ``Z`` (logits) and
probabilities ``A`` have shape ``(C, m)`` for ``C`` classes and ``m`` examples; labels are
either one-hot columns ``Y`` of shape ``(C, m)`` or integer class ids of shape ``(m,)``.
Binary problems use ``(1, m)`` arrays. Every function is vectorised and numerically stable:
no overflow warning, no NaN and no infinity for scores as large as ``|z| = 1000``.

Formulas (averaged over the ``m`` examples):

- softmax: ``a_k = exp(z_k) / sum_j exp(z_j)`` in each column;
- softmax cross-entropy: ``J = -(1/m) sum_i sum_k y_k^(i) log a_k^(i)``, computed from the
  logits as ``J = (1/m) sum_i [logsumexp(z^(i)) - sum_k y_k^(i) z_k^(i)]``;
- its gradient with respect to the logits: ``dJ/dZ = (A - Y) / m``;
- binary cross-entropy: ``J = -(1/m) sum_i [y log a + (1 - y) log(1 - a)]``, from logits
  ``J = (1/m) sum_i [max(z, 0) - z y + log(1 + exp(-|z|))]``, gradient ``(sigmoid(Z) - Y) / m``.
"""
import numpy as np

from course.reference.activations import softmax  # noqa: F401 - one softmax for the course; losses.softmax stays

__all__ = [
    "one_hot",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_gradient",
    "binary_cross_entropy",
    "binary_cross_entropy_gradient",
    "logistic_propagate",
    "EPSILON",
]

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before a log when no logits are available.
EPSILON = 1e-12


def one_hot(y, C=None, dtype=np.float64):
    """One-hot columns of integer class labels.

    Args:
        y: integer labels of shape ``(m,)``, ``(1, m)`` or ``(m, 1)``, values in ``0 .. C-1``.
        C: number of classes (default ``max(y) + 1``).
        dtype: dtype of the result.
    Returns:
        Y: array of shape ``(C, m)`` with ``Y[y[i], i] = 1`` and zeros elsewhere.
    Raises:
        ValueError: for labels that are not whole numbers or lie outside ``0 .. C-1``.
    """
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"labels should have shape (m,), (1, m) or (m, 1), got {y.shape}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("labels should be whole numbers (class ids 0 .. C-1)")
    y = y.astype(np.int64)
    if C is None:
        C = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"labels should lie in 0 .. {C - 1}, got values from {y.min()} to {y.max()}")
    Y = np.zeros((C, y.size), dtype=dtype)
    Y[y, np.arange(y.size)] = 1
    return Y


def _as_targets(Y, C):
    """Integer labels (m,) -> one-hot (C, m); one-hot/probability columns pass through."""
    Y = np.asarray(Y)
    if Y.ndim == 1:
        return one_hot(Y, C)
    return Y.astype(float, copy=False)


def log_softmax(Z, axis=0):
    """``log(softmax(Z))`` computed stably: ``Z - max - log(sum(exp(Z - max)))``.

    Args:
        Z: scores of any shape, normalised along ``axis`` (default 0: columns are examples).
    Returns:
        array of ``Z``'s shape, every entry <= 0.
    """
    Z = np.asarray(Z, dtype=float)
    shifted = Z - np.max(Z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_cross_entropy(Z, Y, from_logits=True):
    """Mean multi-class cross-entropy of a softmax classifier.

    Args:
        Z: logits of shape ``(C, m)``; or, with ``from_logits=False``, probabilities ``A``
            of shape ``(C, m)`` whose columns sum to 1 (they are clipped away from 0).
        Y: one-hot (or probability) targets of shape ``(C, m)``, or integer labels ``(m,)``.
        from_logits: whether the first argument holds logits (the stable default) or
            probabilities.
    Returns:
        J: float, ``-(1/m) sum_i sum_k Y[k, i] log A[k, i]``.
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2:
        raise ValueError(f"scores should have shape (C, m), got {Z.shape}")
    Y = _as_targets(Y, Z.shape[0])
    if Y.shape != Z.shape:
        raise ValueError(f"targets have shape {Y.shape}, scores have shape {Z.shape}")
    m = Z.shape[1]
    if from_logits:
        logA = log_softmax(Z, axis=0)
    else:
        logA = np.log(np.clip(Z, EPSILON, 1.0))
    return float(-np.sum(Y * logA) / m)


def softmax_cross_entropy_gradient(Z, Y):
    """Gradient of :func:`softmax_cross_entropy` with respect to the logits.

    Args:
        Z: logits of shape ``(C, m)``.
        Y: one-hot targets ``(C, m)`` (columns summing to 1) or integer labels ``(m,)``.
    Returns:
        dZ: array of shape ``(C, m)``, ``(softmax(Z) - Y) / m``.
    """
    Z = np.asarray(Z, dtype=float)
    Y = _as_targets(Y, Z.shape[0])
    if Y.shape != Z.shape:
        raise ValueError(f"targets have shape {Y.shape}, scores have shape {Z.shape}")
    return (softmax(Z, axis=0) - Y) / Z.shape[1]


def binary_cross_entropy(A, Y, from_logits=False):
    """Mean binary cross-entropy (log loss) of a sigmoid classifier.

    Args:
        A: probabilities of shape ``(1, m)`` (or any shape), clipped to
            ``[EPSILON, 1 - EPSILON]``; or, with ``from_logits=True``, logits ``Z`` for which
            the loss is computed without ever forming ``sigmoid(Z)`` (stable for any ``|z|``).
        Y: 0/1 targets of the same shape (probabilities in [0, 1] work too).
        from_logits: whether ``A`` holds logits.
    Returns:
        J: float, ``-(1/m) sum [Y log A + (1 - Y) log(1 - A)]`` with ``m = A.size``.
    """
    A = np.asarray(A, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if A.shape != Y.shape:
        raise ValueError(f"predictions have shape {A.shape}, targets have shape {Y.shape}")
    if from_logits:
        losses = np.maximum(A, 0) - A * Y + np.log1p(np.exp(-np.abs(A)))
    else:
        P = np.clip(A, EPSILON, 1 - EPSILON)
        losses = -(Y * np.log(P) + (1 - Y) * np.log1p(-P))
    return float(np.mean(losses))


def binary_cross_entropy_gradient(Z, Y):
    """Gradient of :func:`binary_cross_entropy` (``from_logits=True``) with respect to the logits.

    Args:
        Z: logits of shape ``(1, m)`` (or any shape).
        Y: 0/1 targets of the same shape.
    Returns:
        dZ: array of ``Z``'s shape, ``(sigmoid(Z) - Y) / m`` with ``m = Z.size``.
    """
    Z = np.asarray(Z, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Z.shape != Y.shape:
        raise ValueError(f"logits have shape {Z.shape}, targets have shape {Y.shape}")
    e = np.exp(-np.abs(Z))
    S = np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return (S - Y) / Z.size


def logistic_propagate(w, b, X, Y):
    """Cost and gradients of logistic regression (one sigmoid unit), computed stably from the logits.

    Args:
        w: weights of shape ``(n_x, 1)``.
        b: bias, a float.
        X: inputs of shape ``(n_x, m)``.
        Y: 0/1 labels of shape ``(1, m)``.
    Returns:
        (cost, dw, db): ``cost`` the mean log-loss of ``sigmoid(w.T @ X + b)`` (a float),
        ``dw = X (A - Y)^T / m`` of shape ``(n_x, 1)``, ``db = mean(A - Y)`` (a float).
    """
    w = np.asarray(w, dtype=float)
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    Z = w.T @ X + float(b)
    cost = binary_cross_entropy(Z, Y, from_logits=True)
    dZ = binary_cross_entropy_gradient(Z, Y)  # (sigmoid(Z) - Y) / m
    return cost, X @ dZ.T, float(np.sum(dZ))
