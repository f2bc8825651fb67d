"""The two activation helpers of the RNN assignment (07_rnn), from assignment 01.

``softmax`` and ``sigmoid`` were graded in 01_activations; here they are given, stable for any
magnitude. Nothing graded in 07_rnn (the RNN and LSTM cells, their forward and backward passes,
``clip``, ``optimize``, ``sample``) lives here: you write those in the notebook.
"""
import numpy as np

__all__ = ["softmax", "sigmoid"]


def softmax(x):
    """Column-wise softmax, stable for any magnitude of ``x``.

    Args:
        x: array of shape ``(n, ...)``; the softmax is taken over axis 0 (the classes).
    Returns:
        array of ``x.shape`` whose columns are positive and sum to 1.
    """
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, elementwise, without overflow for large ``|x|``."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
