"""Reference 2-layer network (tanh hidden layer, sigmoid output): the answer key of 02_shallow_net.

The canonical deeplearning.ai "planar data classification with one hidden layer" API, names and
signatures unchanged, so that its test cases (``utils.testCases_v2``) give its expected outputs.
Examples are columns: ``X`` is ``(n_x, m)``, ``Y`` is ``(n_y, m)`` (0/1 labels, any numeric or
boolean dtype); parameters are a dict ``W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1)``.
Every function is vectorised over the examples and leaves its arguments unchanged.
"""
import numpy as np

from course.reference.activations import sigmoid

KEYS = ("W1", "b1", "W2", "b2")
CLIP = 1e-15  # probabilities are clipped to [CLIP, 1 - CLIP] in the cost


def layer_sizes(X, Y):
    """``(n_x, n_h, n_y)``: rows of ``X``, 4 hidden units, rows of ``Y`` (Python ints)."""
    return (int(X.shape[0]), 4, int(Y.shape[0]))


def initialize_parameters(n_x, n_h, n_y):
    """``randn * 0.01`` weights (``W1`` drawn before ``W2``, after ``np.random.seed(2)``), zero biases.

    Reseeds NumPy's global generator with 2, as the canonical exercise does.
    """
    np.random.seed(2)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward_propagation(X, parameters):
    """``(A2, cache)``: ``A2 = sigmoid(W2 tanh(W1 X + b1) + b2)`` of shape ``(n_y, m)``;
    ``cache`` holds ``Z1, A1`` ``(n_h, m)`` and ``Z2, A2`` ``(n_y, m)``."""
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y, parameters=None):
    """Cross-entropy ``-(1/m) sum(y log a + (1 - y) log(1 - a))`` as a Python float.

    ``A2`` is clipped to ``[1e-15, 1 - 1e-15]`` first, so confident predictions never give NaN.
    """
    m = Y.shape[1]
    A = np.clip(A2, CLIP, 1 - CLIP)
    Y = np.asarray(Y, dtype=float)
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)


def backward_propagation(parameters, cache, X, Y):
    """Gradients ``dW1, db1, dW2, db2`` of the cross-entropy (each of its parameter's shape)."""
    m = X.shape[1]
    A1 = cache["A1"]
    dZ2 = cache["A2"] - np.asarray(Y, dtype=float)
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - A1 ** 2)
    return {
        "dW1": dZ1 @ X.T / m,
        "db1": dZ1.sum(axis=1, keepdims=True) / m,
        "dW2": dZ2 @ A1.T / m,
        "db2": dZ2.sum(axis=1, keepdims=True) / m,
    }


def update_parameters(parameters, grads, learning_rate=1.2):
    """One gradient-descent step; a new dict (the arguments are unchanged)."""
    return {k: parameters[k] - learning_rate * grads["d" + k] for k in KEYS}


def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    """Train with gradient descent (learning rate 1.2) from :func:`initialize_parameters`.

    Prints ``Cost after iteration i: cost`` (6 decimals) every 1000 iterations if ``print_cost``.
    """
    parameters, costs = nn_model_with_costs(X, Y, n_h, num_iterations)
    if print_cost:
        for i, cost in costs.items():
            print(f"Cost after iteration {i}: {cost:.6f}")
    return parameters


def nn_model_with_costs(X, Y, n_h, num_iterations=10000, every=1000):
    """Like :func:`nn_model`; also returns ``{iteration: cost}`` for iterations 0, every, 2 every, ..."""
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = initialize_parameters(n_x, n_h, n_y)
    costs = {}
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        if i % every == 0:
            costs[i] = compute_cost(A2, Y, parameters)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
    return parameters, costs


def predict(parameters, X):
    """``(1, m)`` int array: 1 where the network's output exceeds 0.5, else 0."""
    A2, _ = forward_propagation(X, parameters)
    return (A2 > 0.5).astype(int)
