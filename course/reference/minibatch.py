"""Random mini-batches, as in the deeplearning.ai optimisation exercise.

``random_mini_batches(X, Y, mini_batch_size=64, seed=0)`` seeds NumPy's global generator with
``seed`` (as the canonical exercise does, so results match it), draws one permutation of the
``m`` examples, shuffles ``X`` and ``Y`` with it, and cuts the shuffled data into consecutive
batches of ``mini_batch_size`` examples; the last batch keeps the ``m % mini_batch_size`` examples
that remain (it is not dropped). Examples are columns: ``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``
or ``(C, m)`` (one-hot). For example-first layouts (NHWC images ``(m, h, w, c)``) pass ``axis=0``.
"""
import math

import numpy as np

__all__ = ["random_mini_batches", "num_mini_batches"]


def num_mini_batches(m, mini_batch_size=64):
    """How many batches ``random_mini_batches`` makes from ``m`` examples: ``ceil(m / size)``."""
    return math.ceil(m / mini_batch_size)


def random_mini_batches(X, Y, mini_batch_size=64, seed=0, axis=-1):
    """Shuffle the examples of ``(X, Y)`` and cut them into mini-batches.

    Args:
        X: inputs of shape ``(n_x, m)`` (examples as columns).
        Y: labels of shape ``(1, m)``, ``(C, m)`` or ``(m,)``.
        mini_batch_size: number of examples per batch (positive int).
        seed: seed of ``np.random.seed`` used for the permutation (the global generator is reseeded,
            as in the canonical exercise).
        axis: the examples axis of both arrays (``-1``: columns, the course convention; ``0`` for
            example-first arrays such as NHWC images ``(m, h, w, c)`` with labels ``(m, C)``).
    Returns:
        list of ``(mini_batch_X, mini_batch_Y)``: ``ceil(m / mini_batch_size)`` pairs; every batch
        has ``mini_batch_size`` examples except the last, which holds the ``m % mini_batch_size``
        remaining ones when that is not zero. Shapes: ``(n_x, size)`` and ``(1, size)`` etc.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    mini_batch_size = int(mini_batch_size)
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be a positive integer, got {mini_batch_size}")
    m = X.shape[axis]
    y_axis = axis if Y.ndim > 1 else 0
    if Y.shape[y_axis] != m:
        raise ValueError(f"X has {m} examples along axis {axis} but Y has shape {Y.shape}")
    np.random.seed(seed)
    permutation = np.random.permutation(m)
    shuffled_X = np.take(X, permutation, axis=axis)
    shuffled_Y = np.take(Y, permutation, axis=y_axis)
    batches = []
    for start in range(0, m, mini_batch_size):
        index = slice(start, start + mini_batch_size)
        batches.append((_slice(shuffled_X, index, axis), _slice(shuffled_Y, index, y_axis)))
    return batches


def _slice(a, index, axis):
    key = [slice(None)] * a.ndim
    key[axis] = index
    return a[tuple(key)]
