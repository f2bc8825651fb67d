"""Reference initialisation, L2 regularisation, inverted dropout and batch normalisation:
the answer key of 08_regularization.

The network of the canonical deeplearning.ai "Initialization" and "Regularization" exercises,
names, signatures and caches unchanged: LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID,
examples as columns (``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``), parameters in a dict
``W1 (n1, n_x), b1 (n1, 1), W2 (n2, n1), b2 (n2, 1), W3 (1, n2), b3 (1, 1)``, and the caches

    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)                  # plain / L2
    cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)          # dropout

Batch normalisation follows CS231n (``batchnorm_forward(x, gamma, beta, bn_param)``,
``batchnorm_backward(dout, cache)``), where examples are **rows**: ``x`` is ``(N, D)``.
Every function is vectorised and leaves its arguments unchanged, except ``batchnorm_forward``,
which stores the running statistics in ``bn_param`` as CS231n's does.
"""
import numpy as np

from course.reference.activations import relu, sigmoid
from course.reference.shallow_net import compute_cost

__all__ = ["initialize_parameters_zeros", "initialize_parameters_random", "initialize_parameters_he",
           "forward_propagation", "compute_cost", "backward_propagation", "compute_cost_with_regularization",
           "backward_propagation_with_regularization", "forward_propagation_with_dropout",
           "forward_propagation_with_masks", "backward_propagation_with_dropout", "batchnorm_forward",
           "batchnorm_backward"]


# --- initialisation ---------------------------------------------------------------------------------
def initialize_parameters_zeros(layers_dims):
    """All weights and biases zero.

    Args:
        layers_dims: list of layer sizes ``[n_x, n_1, ..., n_L]``.
    Returns:
        dict with ``W{l}`` of shape ``(n_l, n_{l-1})`` and ``b{l}`` of shape ``(n_l, 1)``, all zeros.
    """
    params = {}
    for l in range(1, len(layers_dims)):
        params[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]))
        params[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return params


def _gaussian(layers_dims, std_of, seed):
    np.random.seed(seed)
    params = {}
    for l in range(1, len(layers_dims)):
        params[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * std_of(l)
        params[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return params


def initialize_parameters_random(layers_dims, scale=10.0, seed=3):
    """Weights ``randn * scale`` (the canonical exercise's too-large 10 by default), zero biases.

    Reseeds NumPy's global generator with ``seed`` and draws ``W1, W2, ...`` in order with
    ``np.random.randn(n_l, n_{l-1})``. Shapes as in :func:`initialize_parameters_zeros`.
    """
    return _gaussian(layers_dims, lambda l: scale, seed)


def initialize_parameters_he(layers_dims, seed=3):
    """He initialisation: ``W{l} = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})``, zero biases.

    Reseeds NumPy's global generator with ``seed``, draws in layer order. Shapes as in
    :func:`initialize_parameters_zeros`.
    """
    return _gaussian(layers_dims, lambda l: np.sqrt(2.0 / layers_dims[l - 1]), seed)


# --- the 3-layer network -------------------------------------------------------------------------------
def _unpack(parameters):
    return [parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")]


def forward_propagation(X, parameters):
    """``(A3, cache)`` of LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID.

    ``A3`` is ``(1, m)``; ``cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``.
    """
    W1, b1, W2, b2, W3, b3 = _unpack(parameters)
    Z1 = W1 @ X + b1
    A1 = relu(Z1)
    Z2 = W2 @ A1 + b2
    A2 = relu(Z2)
    Z3 = W3 @ A2 + b3
    A3 = sigmoid(Z3)
    return A3, (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)


def _backward(X, Y, A1, A2, A3, W2, W3, lambd=0.0, W1=None, masks=None, keep_prob=1.0):
    m = X.shape[1]
    dZ3 = A3 - np.asarray(Y, dtype=float)
    dW3 = dZ3 @ A2.T / m + (lambd / m) * W3
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m
    dA2 = W3.T @ dZ3
    if masks is not None:
        dA2 = dA2 * masks[1] / keep_prob
    dZ2 = dA2 * (A2 > 0)
    dW2 = dZ2 @ A1.T / m + (lambd / m) * W2
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = W2.T @ dZ2
    if masks is not None:
        dA1 = dA1 * masks[0] / keep_prob
    dZ1 = dA1 * (A1 > 0)
    dW1 = dZ1 @ X.T / m + (lambd / m) * W1
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
            "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def backward_propagation(X, Y, cache):
    """Gradients of the cross-entropy, without regularisation (keys as in the canonical course:
    ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``)."""
    return backward_propagation_with_regularization(X, Y, cache, 0.0)


# --- L2 regularisation ------------------------------------------------------------------------------
def compute_cost_with_regularization(A3, Y, parameters, lambd):
    """Cross-entropy plus ``lambd / (2 m) * sum_l ||W{l}||_F^2`` (weights only, no biases).

    Args:
        A3: output probabilities ``(1, m)``; Y: labels ``(1, m)``;
        parameters: dict with ``W1, b1, ..., WL, bL``; lambd: float >= 0.
    Returns:
        float.
    """
    m = Y.shape[1]
    l2 = sum(float(np.sum(np.square(v))) for k, v in parameters.items() if k.startswith("W"))
    return compute_cost(A3, Y) + lambd / (2 * m) * l2


def backward_propagation_with_regularization(X, Y, cache, lambd):
    """Gradients of the L2-regularised cost: the plain gradients plus ``(lambd / m) * W`` on each
    ``dW`` (biases are not regularised).

    Args:
        X: ``(n_x, m)``; Y: ``(1, m)``; cache: the tuple of :func:`forward_propagation`; lambd: float.
    Returns:
        dict ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``, each of its variable's shape.
    """
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    return _backward(X, Y, A1, A2, A3, W2, W3, lambd=lambd, W1=W1)


# --- inverted dropout ---------------------------------------------------------------------------------
def forward_propagation_with_masks(X, parameters, D1, D2, keep_prob):
    """The dropout forward pass with given 0/1 masks ``D1 (n1, m)``, ``D2 (n2, m)``:
    ``(A3, cache)`` with the dropout cache of :func:`forward_propagation_with_dropout`."""
    W1, b1, W2, b2, W3, b3 = _unpack(parameters)
    D1 = np.asarray(D1, dtype=float)
    D2 = np.asarray(D2, dtype=float)
    Z1 = W1 @ X + b1
    A1 = relu(Z1) * D1 / keep_prob
    Z2 = W2 @ A1 + b2
    A2 = relu(Z2) * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3 = sigmoid(Z3)
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)


def forward_propagation_with_dropout(X, parameters, keep_prob=0.5):
    """Forward pass with inverted dropout on both hidden layers.

    Each hidden unit of each example is kept with probability ``keep_prob``: ``D = (np.random.rand
    (n, m) < keep_prob)``, drawn for layer 1 then layer 2 from NumPy's global generator; kept
    activations are divided by ``keep_prob`` so that their expected value does not change.

    Returns:
        A3 ``(1, m)`` and ``cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``
        (``D1 (n1, m)``, ``D2 (n2, m)`` are 0/1 float masks; ``A1``, ``A2`` are after dropout).
    """
    W1, b1, W2, b2, W3, b3 = _unpack(parameters)
    m = X.shape[1]
    Z1 = W1 @ X + b1
    D1 = (np.random.rand(W1.shape[0], m) < keep_prob).astype(float)
    A1 = relu(Z1) * D1 / keep_prob
    Z2 = W2 @ A1 + b2
    D2 = (np.random.rand(W2.shape[0], m) < keep_prob).astype(float)
    A2 = relu(Z2) * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3 = sigmoid(Z3)
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    """Gradients through the dropout forward pass: ``dA1`` and ``dA2`` are multiplied by the same
    masks ``D1``, ``D2`` as the forward pass and divided by ``keep_prob``.

    Returns:
        dict ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``.
    """
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    return _backward(X, Y, A1, A2, A3, W2, W3, masks=(D1, D2), keep_prob=keep_prob, W1=W1)


# --- batch normalisation (CS231n) -------------------------------------------------------------------------
def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation of ``x (N, D)`` (examples are rows), CS231n's API.

    ``bn_param``: dict with ``mode`` (``"train"`` or ``"test"``), optional ``eps`` (1e-5),
    ``momentum`` (0.9), ``running_mean`` and ``running_var`` (``(D,)``, zeros when absent).
    Train mode normalises with the batch mean and the biased batch variance (``np.var``) and
    updates ``running = momentum * running + (1 - momentum) * batch`` for both statistics; test
    mode normalises with the running statistics. The running statistics are stored back in
    ``bn_param``.

    Returns:
        out ``(N, D)`` = ``gamma * x_hat + beta`` and a cache for :func:`batchnorm_backward`
        (``None`` in test mode).
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mu) * inv_std
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, inv_std)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        cache = None
    else:
        raise ValueError(f'invalid batchnorm mode "{mode}"')
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Gradients of batch normalisation (train mode) from the cache of :func:`batchnorm_forward`.

    Args:
        dout: upstream gradient ``(N, D)``.
    Returns:
        dx ``(N, D)``, dgamma ``(D,)``, dbeta ``(D,)``.
    """
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = inv_std / N * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0))
    return dx, dgamma, dbeta
