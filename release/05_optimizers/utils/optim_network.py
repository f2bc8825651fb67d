"""A small L-layer dense network for the races of 05_optimizers, built from earlier assignments.

Everything here is a building block you already wrote and had graded: ``sigmoid`` and ``relu`` in
01_activations; ``init_layers``, ``single_layer_forward_propagation``, ``full_forward_propagation``,
``get_cost_value``, ``sigmoid_backward``, ``relu_backward``, ``single_layer_backward_propagation``
and ``full_backward_propagation`` in 03_backprop. Nothing of 05_optimizers (mini-batches, update
rules, learning-rate schedules) is in this module: in 05 you write those yourself and train this
network with them.

Conventions as in 03: a network is a list of layer dicts
``{"input_dim": n_prev, "output_dim": n, "activation": "relu" | "sigmoid"}``; examples are columns
(``X`` is ``(n_x, m)``); parameters are ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}`` and gradients
``{"dW1": ..., "db1": ..., ...}`` with the same shapes. The output layer is a sigmoid and the cost
the mean binary cross-entropy.
"""
import numpy as np

__all__ = ["sigmoid", "relu", "init_layers", "single_layer_forward_propagation", "full_forward_propagation",
           "get_cost_value", "sigmoid_backward", "relu_backward", "single_layer_backward_propagation",
           "full_backward_propagation"]

#: probabilities are kept in [EPS, 1 - EPS] inside the logarithms of the cost
EPS = 1e-15


def sigmoid(Z):
    """Logistic sigmoid, elementwise, without overflow (01_activations)."""
    Z = np.asarray(Z, dtype=float)
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(Z):
    """max(Z, 0), elementwise (01_activations)."""
    return np.maximum(Z, 0.0)


_FORWARD = {"sigmoid": sigmoid, "relu": relu}


def init_layers(architecture, seed=99):
    """Random weights, zero biases (03_backprop).

    ``rng = np.random.default_rng(seed)``; for layers l = 1, 2, ... in order,
    ``W_l = rng.standard_normal((output_dim, input_dim)) * sqrt(g / input_dim)`` with g = 2 for a
    ReLU layer (He) and g = 1 otherwise (Xavier), and ``b_l = zeros((output_dim, 1))``.

    Returns:
        params: dict ``"W1"`` (n_1, n_0), ``"b1"`` (n_1, 1), ... for every layer.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for l, layer in enumerate(architecture, start=1):
        n_prev, n = layer["input_dim"], layer["output_dim"]
        gain = 2.0 if layer["activation"] == "relu" else 1.0
        params["W" + str(l)] = rng.standard_normal((n, n_prev)) * np.sqrt(gain / n_prev)
        params["b" + str(l)] = np.zeros((n, 1))
    return params


def single_layer_forward_propagation(A_prev, W_curr, b_curr, activation="relu"):
    """``Z = W A_prev + b``, ``A = g(Z)`` (03_backprop). Returns ``(A_curr, Z_curr)``, each (n, m)."""
    Z_curr = W_curr @ A_prev + b_curr
    return _FORWARD[activation](Z_curr), Z_curr


def full_forward_propagation(X, params, architecture):
    """Forward pass through every layer (03_backprop).

    Returns:
        ``(Y_hat, memory)``: the output (n_L, m) and a dict with ``"A{l-1}"`` (the input of layer l)
        and ``"Z{l}"`` for every layer l.
    """
    memory = {}
    A = X
    for l, layer in enumerate(architecture, start=1):
        memory["A" + str(l - 1)] = A
        A, Z = single_layer_forward_propagation(A, params["W" + str(l)], params["b" + str(l)], layer["activation"])
        memory["Z" + str(l)] = Z
    return A, memory


def get_cost_value(Y_hat, Y):
    """Mean binary cross-entropy of the predictions ``Y_hat`` (n_L, m) for labels ``Y`` (03_backprop)."""
    Y = np.reshape(Y, np.shape(Y_hat))
    P = np.clip(Y_hat, EPS, 1 - EPS)
    return float(-np.sum(Y * np.log(P) + (1 - Y) * np.log(1 - P)) / Y.shape[1])


def sigmoid_backward(dA, Z):
    """``dZ = dA * sigmoid(Z) (1 - sigmoid(Z))`` (03_backprop)."""
    s = sigmoid(Z)
    return dA * s * (1 - s)


def relu_backward(dA, Z):
    """``dZ = dA`` where ``Z > 0``, 0 elsewhere (03_backprop)."""
    return np.where(Z > 0, dA, 0.0)


_BACKWARD = {"sigmoid": sigmoid_backward, "relu": relu_backward}


def single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    """Backward step of one layer (03_backprop).

    Returns:
        ``(dA_prev, dW_curr, db_curr)`` of shapes (n_prev, m), (n, n_prev), (n, 1).
    """
    m = A_prev.shape[1]
    dZ = _BACKWARD[activation](dA_curr, Z_curr)
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    return W_curr.T @ dZ, dW, db


def full_backward_propagation(Y_hat, Y, memory, params, architecture):
    """Gradients of :func:`get_cost_value` for every parameter (03_backprop).

    For the sigmoid output layer ``dZ_L = Y_hat - Y`` (exact even when ``Y_hat`` saturates).

    Returns:
        grads: dict ``"dW1"``, ``"db1"``, ... with the shapes of the parameters.
    """
    Y = np.reshape(Y, np.shape(Y_hat))
    L = len(architecture)
    grads = {}
    m = Y.shape[1]
    dZ = Y_hat - Y
    A_prev = memory["A" + str(L - 1)]
    grads["dW" + str(L)] = dZ @ A_prev.T / m
    grads["db" + str(L)] = np.sum(dZ, axis=1, keepdims=True) / m
    dA = params["W" + str(L)].T @ dZ
    for l in range(L - 1, 0, -1):
        dA, dW, db = single_layer_backward_propagation(dA, params["W" + str(l)], params["b" + str(l)],
                                                       memory["Z" + str(l)], memory["A" + str(l - 1)],
                                                       architecture[l - 1]["activation"])
        grads["dW" + str(l)] = dW
        grads["db" + str(l)] = db
    return grads
