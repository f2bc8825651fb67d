"""Gradient-checking helpers for assignment 3: flatten a parameter dict into one vector and back.

The canonical deeplearning.ai helpers (bookkeeping, not answers: ``gradient_check`` itself is
yours to write in the notebook)::

    theta, keys = dictionary_to_vector(params)        # theta (n, 1); keys: the name of each entry
    params2 = vector_to_dictionary(theta, params)     # same keys and shapes as params, new arrays
    grad = gradients_to_vector(grads, params)         # dW1, db1, ... in the order of theta

The order is ``W1, b1, W2, b2, ...`` (layer number first, weights before biases), each array
flattened row by row (C order).
"""
import re

import numpy as np


def _param_order(key):
    match = re.fullmatch(r"([A-Za-z_]*?)(\d+)", key)
    if match:
        name, num = match.groups()
        return (0, int(num), 0 if name.startswith("W") else 1, name)
    return (1, 0, 0, key)


def parameter_keys(parameters):
    """The keys of ``parameters`` in the order ``W1, b1, W2, b2, ...``."""
    return sorted(parameters, key=_param_order)


def dictionary_to_vector(parameters):
    """Every parameter array stacked into one column.

    Args:
        parameters: dict name -> array (``W1`` of shape (n1, n0), ``b1`` of shape (n1, 1), ...).
    Returns:
        ``(theta, keys)``: ``theta`` of shape ``(n, 1)`` (n = total number of entries) and
        ``keys``, a list of n names: the parameter each entry comes from.
    """
    pieces, keys = [], []
    for key in parameter_keys(parameters):
        flat = np.reshape(parameters[key], (-1, 1))
        pieces.append(flat)
        keys += [key] * flat.shape[0]
    theta = np.concatenate(pieces, axis=0).astype(float) if pieces else np.zeros((0, 1))
    return theta, keys


def vector_to_dictionary(theta, template):
    """The inverse of :func:`dictionary_to_vector`.

    Args:
        theta: array of n entries, shape ``(n, 1)`` or ``(n,)``.
        template: dict name -> array giving the keys and shapes (e.g. the original params).
    Returns:
        a new dict name -> array of the template's shapes, filled from theta.
    """
    theta = np.asarray(theta, dtype=float).ravel()
    out, start = {}, 0
    for key in parameter_keys(template):
        shape = np.shape(template[key])
        size = int(np.prod(shape))
        out[key] = theta[start:start + size].reshape(shape).copy()
        start += size
    if start != theta.size:
        raise ValueError(f"theta has {theta.size} entries but the template needs {start}")
    return out


def gradients_to_vector(gradients, parameters):
    """``dW1, db1, ...`` stacked into a column aligned with ``dictionary_to_vector(parameters)``.

    Args:
        gradients: dict ``"d" + name`` -> array, for every name of ``parameters``.
        parameters: the parameter dict (only its keys are used).
    Returns:
        array of shape ``(n, 1)``.
    """
    pieces = [np.reshape(gradients["d" + name], (-1, 1)) for name in parameter_keys(parameters)]
    return np.concatenate(pieces, axis=0).astype(float) if pieces else np.zeros((0, 1))
