"""Reference activations and their derivatives: vectorised, stable, any array shape.

Each function maps an array ``z`` of any shape to an array of the same shape (softmax
normalises along ``axis``, by default 0: one column per example). Stability: no overflow
warning and no NaN for ``|z|`` up to 1000 and beyond.
"""
import numpy as np


def sigmoid(z):
    """1 / (1 + e^{-z}), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z):
    """sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent (NumPy's is already stable)."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_derivative(z):
    """1 - tanh(z)^2."""
    return 1.0 - np.tanh(np.asarray(z, dtype=float)) ** 2


def relu(z):
    """max(0, z)."""
    return np.maximum(0.0, np.asarray(z, dtype=float))


def relu_derivative(z):
    """1 where z > 0, else 0 (the subgradient 0 is used at z = 0)."""
    return (np.asarray(z) > 0).astype(float)


def leaky_relu(z, alpha=0.01):
    """z for z > 0, alpha z otherwise."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * z)


def leaky_relu_derivative(z, alpha=0.01):
    """1 for z > 0, alpha otherwise."""
    return np.where(np.asarray(z) > 0, 1.0, alpha)


def linear(z):
    """The identity, for output layers of regression models."""
    return np.asarray(z, dtype=float)


def linear_derivative(z):
    """Ones of z's shape."""
    return np.ones_like(np.asarray(z, dtype=float))


def softmax(z, axis=0):
    """e^{z_i} / sum_j e^{z_j} along ``axis`` (default 0: each column is one example).

    Subtracting the maximum first leaves the result unchanged and keeps exp() from overflowing.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(z):
    """Jacobian of softmax for one example: ``z`` of shape (C,) -> (C, C), diag(s) - s s^T."""
    s = softmax(np.asarray(z, dtype=float).ravel())
    return np.diag(s) - np.outer(s, s)


# name -> (function, derivative), for code that picks an activation by name.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "linear": (linear, linear_derivative),
}


# deeplearning.ai ``dnn_utils`` style: the backward step of an activation layer.
def sigmoid_backward(dA, Z):
    """dZ = dA * sigma'(Z); ``dA`` and ``Z`` of the same shape (n, m)."""
    return dA * sigmoid_derivative(Z)


def relu_backward(dA, Z):
    """dZ = dA where Z > 0, else 0; shapes (n, m)."""
    return np.where(np.asarray(Z) > 0, dA, 0.0)


def tanh_backward(dA, Z):
    """dZ = dA * (1 - tanh(Z)^2); shapes (n, m)."""
    return dA * tanh_derivative(Z)
