"""Reference L-layer dense (fully connected) network, vectorised NumPy, float64 by default.

A network is described by a list of layer dicts, one per layer, for example::

    ARCHITECTURE = [
        {"input_dim": 2, "output_dim": 25, "activation": "relu"},
        {"input_dim": 25, "output_dim": 1, "activation": "sigmoid"},
    ]

Conventions (deeplearning.ai style): examples are columns, ``X`` has shape ``(n_x, m)``;
parameters live in a dict ``{"W1": (n_1, n_0), "b1": (n_1, 1), "W2": ...}`` and gradients in
``{"dW1": ..., "db1": ..., ...}`` of the same shapes. Layers are numbered from 1; layer ``l`` maps
``A[l-1]`` of shape ``(n_{l-1}, m)`` to ``A[l] = g_l(W_l A[l-1] + b_l)`` of shape ``(n_l, m)``.
Activations are the names of :data:`course.reference.activations.ACTIVATIONS` (``"sigmoid"``, ``"tanh"``,
``"relu"``, ``"leaky_relu"``, ``"linear"``).

The cost is the binary cross-entropy of a sigmoid output (one or several independent outputs):

    J = -(1/m) sum_i [ y_i log(yhat_i) + (1 - y_i) log(1 - yhat_i) ]

Every function here is the reference the ``03_backprop`` notebook's hidden tests compare with;
later notebooks (optimizers) reuse it.
"""
import numpy as np

from course.reference.activations import ACTIVATIONS, relu_backward, sigmoid_backward, tanh_backward

#: Probabilities are clipped to ``[EPS, 1 - EPS]`` inside logarithms and divisions.
EPS = 1e-15

_BACKWARD = {"sigmoid": sigmoid_backward, "relu": relu_backward, "tanh": tanh_backward}


def _check_architecture(architecture):
    if len(architecture) == 0:
        raise ValueError("the architecture needs at least one layer")
    for idx, layer in enumerate(architecture, 1):
        for key in ("input_dim", "output_dim", "activation"):
            if key not in layer:
                raise ValueError(f"layer {idx} has no {key!r}")
        if layer["activation"] not in ACTIVATIONS:
            raise ValueError(f"layer {idx}: unknown activation {layer['activation']!r}; "
                             f"use one of {sorted(ACTIVATIONS)}")
        if idx > 1 and architecture[idx - 2]["output_dim"] != layer["input_dim"]:
            raise ValueError(f"layer {idx} has input_dim {layer['input_dim']} but layer {idx - 1} "
                             f"has output_dim {architecture[idx - 2]['output_dim']}")


def default_scale(activation, fan_in):
    """Standard deviation of the initial weights: He ``sqrt(2/fan_in)`` for ReLU-like layers,
    Xavier ``sqrt(1/fan_in)`` for sigmoid, tanh and linear layers."""
    gain = 2.0 if activation in ("relu", "leaky_relu") else 1.0
    return np.sqrt(gain / fan_in)


def init_layers(architecture, seed=99, scale=None, dtype=np.float64):
    """Random weights and zero biases for every layer.

    The generator is ``rng = np.random.default_rng(seed)``; for ``l = 1 .. L`` in order,
    ``W_l = rng.standard_normal((output_dim, input_dim)) * s_l`` and ``b_l = zeros((output_dim, 1))``.

    Args:
        architecture: list of L layer dicts ``{"input_dim", "output_dim", "activation"}``.
        seed: seed of the generator (same seed, same parameters).
        scale: ``None`` for :func:`default_scale` by activation (He for ReLU, Xavier otherwise),
            or a number ``s`` used for every layer (e.g. ``0.1``, the classic small-random init).
        dtype: floating type of the arrays (float64 by default).
    Returns:
        params: dict with ``"W{l}"`` of shape ``(output_dim, input_dim)`` and ``"b{l}"`` of shape
        ``(output_dim, 1)`` for ``l = 1 .. L``.
    """
    _check_architecture(architecture)
    rng = np.random.default_rng(seed)
    params = {}
    for idx, layer in enumerate(architecture, 1):
        n_in, n_out = layer["input_dim"], layer["output_dim"]
        s = default_scale(layer["activation"], n_in) if scale is None else scale
        params[f"W{idx}"] = (rng.standard_normal((n_out, n_in)) * s).astype(dtype)
        params[f"b{idx}"] = np.zeros((n_out, 1), dtype=dtype)
    return params


def count_parameters(architecture):
    """Number of trainable numbers: sum over layers of ``output_dim * input_dim + output_dim``."""
    return int(sum(layer["output_dim"] * (layer["input_dim"] + 1) for layer in architecture))


def single_layer_forward_propagation(A_prev, W_curr, b_curr, activation="relu"):
    """One dense layer: ``Z = W A_prev + b``, ``A = g(Z)``.

    Args:
        A_prev: activations of the previous layer, shape ``(n_prev, m)``.
        W_curr: weights, shape ``(n_curr, n_prev)``.
        b_curr: biases, shape ``(n_curr, 1)`` (broadcast over the m columns).
        activation: name of ``g`` in :data:`course.reference.activations.ACTIVATIONS`.
    Returns:
        ``(A_curr, Z_curr)``, both of shape ``(n_curr, m)``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    Z_curr = W_curr @ A_prev + b_curr
    return ACTIVATIONS[activation][0](Z_curr), Z_curr


def full_forward_propagation(X, params, architecture):
    """Forward pass through all L layers.

    Args:
        X: inputs, shape ``(n_x, m)`` (``n_x`` = first layer's ``input_dim``).
        params: dict ``W1, b1, ..., WL, bL`` (see :func:`init_layers`).
        architecture: list of L layer dicts.
    Returns:
        ``(Y_hat, memory)``: ``Y_hat = A[L]`` of shape ``(n_L, m)``; ``memory`` holds
        ``"A{l-1}"`` (the input of layer l, so ``"A0"`` is X) and ``"Z{l}"`` for ``l = 1 .. L``.
    """
    memory = {}
    A_curr = X
    for idx, layer in enumerate(architecture, 1):
        A_prev = A_curr
        A_curr, Z_curr = single_layer_forward_propagation(
            A_prev, params[f"W{idx}"], params[f"b{idx}"], layer["activation"])
        memory[f"A{idx - 1}"] = A_prev
        memory[f"Z{idx}"] = Z_curr
    return A_curr, memory


def get_cost_value(Y_hat, Y):
    """Binary cross-entropy, averaged over the m examples (and summed over output units).

    Args:
        Y_hat: predicted probabilities, shape ``(n_L, m)``, values in [0, 1].
        Y: labels 0/1, shape ``(n_L, m)`` or ``(m,)`` (reshaped to Y_hat's shape).
    Returns:
        float ``J >= 0``. Probabilities are clipped to ``[EPS, 1 - EPS]``, so a confident wrong
        prediction costs a large finite number instead of inf/NaN.
    """
    Y = np.asarray(Y, dtype=float).reshape(np.shape(Y_hat))
    P = np.clip(Y_hat, EPS, 1.0 - EPS)
    m = Y.shape[1]
    cost = -np.sum(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)) / m
    return float(cost)


def convert_prob_into_class(probs, threshold=0.5):
    """0/1 labels of the same shape as ``probs``: 1 where ``probs > threshold``."""
    return (np.asarray(probs) > threshold).astype(int)


def get_accuracy_value(Y_hat, Y, threshold=0.5):
    """Fraction of examples (columns) whose thresholded predictions all equal the labels.

    Args:
        Y_hat: probabilities, shape ``(n_L, m)``; Y: labels 0/1 of shape ``(n_L, m)`` or ``(m,)``.
    Returns:
        float in [0, 1].
    """
    Y = np.asarray(Y).reshape(np.shape(Y_hat))
    return float((convert_prob_into_class(Y_hat, threshold) == Y).all(axis=0).mean())


def activation_backward(dA, Z, activation):
    """``dZ = dA * g'(Z)`` for the named activation; ``dA`` and ``Z`` of shape ``(n, m)``."""
    if activation in _BACKWARD:
        return _BACKWARD[activation](dA, Z)
    return dA * ACTIVATIONS[activation][1](Z)


def single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    """Backward step of one dense layer.

    With ``dZ = dA_curr * g'(Z_curr)``:
    ``dW = dZ A_prev^T / m``, ``db = sum over columns of dZ / m``, ``dA_prev = W^T dZ``.

    Args:
        dA_curr: dJ/dA of this layer's output, shape ``(n_curr, m)``.
        W_curr: ``(n_curr, n_prev)``; b_curr: ``(n_curr, 1)`` (unused, kept for the classic API).
        Z_curr: cached pre-activation, ``(n_curr, m)``; A_prev: cached input, ``(n_prev, m)``.
        activation: name of the layer's activation.
    Returns:
        ``(dA_prev, dW_curr, db_curr)`` of shapes ``(n_prev, m)``, ``(n_curr, n_prev)``, ``(n_curr, 1)``.
    """
    m = A_prev.shape[1]
    dZ_curr = activation_backward(dA_curr, Z_curr, activation)
    dW_curr = dZ_curr @ A_prev.T / m
    db_curr = np.sum(dZ_curr, axis=1, keepdims=True) / m
    dA_prev = W_curr.T @ dZ_curr
    return dA_prev, dW_curr, db_curr


def cost_backward(Y_hat, Y):
    """dJ/dY_hat times m for the binary cross-entropy: ``-(Y / Y_hat - (1 - Y) / (1 - Y_hat))``.

    Shapes ``(n_L, m)``; probabilities clipped like in :func:`get_cost_value`. (The 1/m of the
    mean is applied in the layers' ``dW`` and ``db``.)
    """
    P = np.clip(Y_hat, EPS, 1.0 - EPS)
    return -(Y / P - (1.0 - Y) / (1.0 - P))


def full_backward_propagation(Y_hat, Y, memory, params, architecture):
    """Gradients of :func:`get_cost_value` with respect to every parameter.

    Args:
        Y_hat: output of :func:`full_forward_propagation`, shape ``(n_L, m)``.
        Y: labels, shape ``(n_L, m)`` or ``(m,)``.
        memory: the cache returned by :func:`full_forward_propagation`.
        params: dict ``W1, b1, ..., WL, bL``; architecture: list of L layer dicts.
    Returns:
        grads: dict ``dW1, db1, ..., dWL, dbL``, each of the shape of its parameter.
    """
    grads = {}
    Y = np.asarray(Y, dtype=float).reshape(np.shape(Y_hat))
    L = len(architecture)
    last = architecture[-1]["activation"]
    if last == "sigmoid":
        # dJ/dZ_L simplifies to (Y_hat - Y) for a sigmoid output: exact even when Y_hat saturates.
        m = Y.shape[1]
        dZ = Y_hat - Y
        A_prev = memory[f"A{L - 1}"]
        grads[f"dW{L}"] = dZ @ A_prev.T / m
        grads[f"db{L}"] = np.sum(dZ, axis=1, keepdims=True) / m
        dA_prev = params[f"W{L}"].T @ dZ
        layers = range(L - 1, 0, -1)
    else:
        dA_prev = cost_backward(Y_hat, Y)
        layers = range(L, 0, -1)
    for idx in layers:
        dA_prev, dW, db = single_layer_backward_propagation(
            dA_prev, params[f"W{idx}"], params[f"b{idx}"], memory[f"Z{idx}"], memory[f"A{idx - 1}"],
            architecture[idx - 1]["activation"])
        grads[f"dW{idx}"] = dW
        grads[f"db{idx}"] = db
    return {k: grads[k] for k in sorted(grads, key=lambda k: (int(k[2:]), k[1]), reverse=False)}


def update(params, grads, architecture, learning_rate):
    """One gradient-descent step, in place: ``W_l -= lr dW_l``, ``b_l -= lr db_l`` for every layer.

    Returns:
        the same ``params`` dict (its arrays are modified in place).
    """
    for idx in range(1, len(architecture) + 1):
        params[f"W{idx}"] -= learning_rate * grads[f"dW{idx}"]
        params[f"b{idx}"] -= learning_rate * grads[f"db{idx}"]
    return params


def predict(X, params, architecture, threshold=0.5):
    """0/1 predictions of shape ``(n_L, m)`` for inputs ``X`` of shape ``(n_x, m)``."""
    Y_hat, _ = full_forward_propagation(X, params, architecture)
    return convert_prob_into_class(Y_hat, threshold)


def train(X, Y, architecture, epochs, learning_rate, X_test=None, Y_test=None, params=None,
          seed=99, scale=None, progress=False, callback=None):
    """Full-batch gradient descent.

    Args:
        X: training inputs ``(n_x, m)``; Y: labels ``(n_L, m)`` or ``(m,)``.
        architecture: list of L layer dicts; epochs: number of steps; learning_rate: step size.
        X_test, Y_test: optional held-out data; its loss and accuracy are recorded too.
        params: optional starting parameters (copied); default ``init_layers(architecture, seed, scale)``.
        progress: show a ``tqdm.auto`` progress bar.
        callback: optional ``callback(epoch, params, history)`` called after every step.
    Returns:
        ``(params, history)``: the trained parameters and a dict of per-epoch lists
        ``"train loss"``, ``"train accuracy"`` and, with test data, ``"test loss"``,
        ``"test accuracy"`` (values measured before each step's update), ready for
        :func:`utils.plotting.plot_learning_curves`.
    """
    Y = np.asarray(Y, dtype=float).reshape(architecture[-1]["output_dim"], -1)
    if params is None:
        params = init_layers(architecture, seed=seed, scale=scale)
    else:
        params = {k: np.array(v, dtype=float) for k, v in params.items()}
    has_test = X_test is not None and Y_test is not None
    if has_test:
        Y_test = np.asarray(Y_test, dtype=float).reshape(architecture[-1]["output_dim"], -1)
    history = {"train loss": [], "train accuracy": []}
    if has_test:
        history.update({"test loss": [], "test accuracy": []})
    steps = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        steps = tqdm(steps, desc="training", leave=False)
    for epoch in steps:
        Y_hat, memory = full_forward_propagation(X, params, architecture)
        history["train loss"].append(get_cost_value(Y_hat, Y))
        history["train accuracy"].append(get_accuracy_value(Y_hat, Y))
        if has_test:
            Y_test_hat, _ = full_forward_propagation(X_test, params, architecture)
            history["test loss"].append(get_cost_value(Y_test_hat, Y_test))
            history["test accuracy"].append(get_accuracy_value(Y_test_hat, Y_test))
        grads = full_backward_propagation(Y_hat, Y, memory, params, architecture)
        params = update(params, grads, architecture, learning_rate)
        if callback is not None:
            callback(epoch, params, history)
    return params, history
