"""Recurrent networks step by step: reference implementations (NumPy, float64).

The API and the caches follow the deeplearning.ai exercise "Building a Recurrent Neural Network
step by step", so code written for it runs here unchanged:

* inputs are ``x`` of shape ``(n_x, m, T_x)`` (features, examples, time steps);
* hidden states ``a`` have shape ``(n_a, m, T_x)``, outputs ``y`` ``(n_y, m, T_x)``;
* parameters live in dicts (``Wax, Waa, Wya, ba, by`` for the basic cell; ``Wf, bf, Wi, bi, Wc,
  bc, Wo, bo, Wy, by`` for the LSTM, whose gate matrices act on ``concat = [a_prev; xt]``);
* a cell's cache is a tuple, a sequence's cache is ``(list of cell caches, x)``.

Every function is vectorised over the ``m`` examples (matrix products on ``(., m)`` columns); the
only Python loop is the one over time, which a recurrence needs.
"""
import numpy as np

__all__ = [
    "softmax", "sigmoid",
    "rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward",
    "lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward",
    "clip",
]


from utils.rnn_utils import sigmoid, softmax  # noqa: E402 - the canonical helpers, shared with students


# ---------------------------------------------------------------------------------------------
# Basic RNN
# ---------------------------------------------------------------------------------------------
def rnn_cell_forward(xt, a_prev, parameters):
    """One step of the basic RNN cell.

    ``a_next = tanh(Waa a_prev + Wax xt + ba)``, ``yt_pred = softmax(Wya a_next + by)``.

    Args:
        xt: input at time t, shape ``(n_x, m)``.
        a_prev: hidden state at time t-1, shape ``(n_a, m)``.
        parameters: dict with ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``Wya (n_y, n_a)``,
            ``ba (n_a, 1)``, ``by (n_y, 1)``.
    Returns:
        a_next ``(n_a, m)``, yt_pred ``(n_y, m)``, cache ``(a_next, a_prev, xt, parameters)``.
    """
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)
    yt_pred = softmax(Wya @ a_next + by)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_forward(x, a0, parameters):
    """Forward pass of the basic RNN over ``T_x`` time steps.

    Args:
        x: inputs, shape ``(n_x, m, T_x)``.
        a0: initial hidden state, shape ``(n_a, m)``.
        parameters: as for :func:`rnn_cell_forward`.
    Returns:
        a ``(n_a, m, T_x)`` (hidden states), y_pred ``(n_y, m, T_x)``,
        caches ``(list of T_x cell caches, x)``.
    """
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a = np.zeros((n_a, m, T_x))
    y_pred = np.zeros((n_y, m, T_x))
    caches = []
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    return a, y_pred, (caches, x)


def rnn_cell_backward(da_next, cache):
    """Backward pass of one basic RNN cell (through the tanh; the output layer is not included).

    Args:
        da_next: gradient of the loss with respect to ``a_next``, shape ``(n_a, m)``.
        cache: the cache returned by :func:`rnn_cell_forward`.
    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dWax (n_a, n_x)``,
        ``dWaa (n_a, n_a)``, ``dba (n_a, 1)``.
    """
    a_next, a_prev, xt, parameters = cache
    dz = (1.0 - a_next ** 2) * da_next  # (n_a, m): gradient before the tanh
    return {
        "dxt": parameters["Wax"].T @ dz,
        "da_prev": parameters["Waa"].T @ dz,
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": np.sum(dz, axis=1, keepdims=True),
    }


def rnn_backward(da, caches):
    """Backpropagation through time for the basic RNN.

    Args:
        da: upstream gradients of the loss with respect to every hidden state, shape
            ``(n_a, m, T_x)`` (what the layers above each ``a<t>`` send back).
        caches: the ``(caches, x)`` pair returned by :func:`rnn_forward`. Passing the last ``k``
            cell caches and ``da[:, :, -k:]`` gives truncated backpropagation over ``k`` steps.
    Returns:
        dict with ``dx (n_x, m, T_x)``, ``da0 (n_a, m)`` (gradient with respect to the state
        before the first step), ``dWax (n_a, n_x)``, ``dWaa (n_a, n_a)``, ``dba (n_a, 1)``.
    """
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    params = cell_caches[0][3]
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros_like(params["Wax"], dtype=float)
    dWaa = np.zeros_like(params["Waa"], dtype=float)
    dba = np.zeros_like(params["ba"], dtype=float)
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = rnn_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
        dx[:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
        dWax += g["dWax"]
        dWaa += g["dWaa"]
        dba += g["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}


# ---------------------------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------------------------
def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One step of the LSTM cell.

    With ``concat = [a_prev; xt]`` of shape ``(n_a + n_x, m)``::

        ft = sigmoid(Wf concat + bf)     forget gate
        it = sigmoid(Wi concat + bi)     update (input) gate
        cct = tanh(Wc concat + bc)       candidate memory
        c_next = ft * c_prev + it * cct
        ot = sigmoid(Wo concat + bo)     output gate
        a_next = ot * tanh(c_next)
        yt_pred = softmax(Wy a_next + by)

    Args:
        xt ``(n_x, m)``, a_prev ``(n_a, m)``, c_prev ``(n_a, m)``;
        parameters: ``Wf, Wi, Wc, Wo`` of shape ``(n_a, n_a + n_x)``, ``bf, bi, bc, bo``
            ``(n_a, 1)``, ``Wy (n_y, n_a)``, ``by (n_y, 1)``.
    Returns:
        a_next ``(n_a, m)``, c_next ``(n_a, m)``, yt_pred ``(n_y, m)``,
        cache ``(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)``.
    """
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(parameters["Wy"] @ a_next + parameters["by"])
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters):
    """Forward pass of an LSTM over ``T_x`` steps (the memory cell starts at zero).

    Args:
        x ``(n_x, m, T_x)``, a0 ``(n_a, m)``, parameters as for :func:`lstm_cell_forward`.
    Returns:
        a ``(n_a, m, T_x)``, y ``(n_y, m, T_x)``, c ``(n_a, m, T_x)``,
        caches ``(list of T_x cell caches, x)``.
    """
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x))
    c = np.zeros((n_a, m, T_x))
    y = np.zeros((n_y, m, T_x))
    caches = []
    a_next, c_next = a0, np.zeros((n_a, m))
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_cell_backward(da_next, dc_next, cache):
    """Backward pass of one LSTM cell (the output layer is not included).

    Args:
        da_next ``(n_a, m)``: gradient with respect to the next hidden state;
        dc_next ``(n_a, m)``: gradient with respect to the next memory cell;
        cache: from :func:`lstm_cell_forward`.
    Returns:
        dict with ``dxt (n_x, m)``, ``da_prev (n_a, m)``, ``dc_prev (n_a, m)``, the weight
        gradients ``dWf, dWi, dWc, dWo`` ``(n_a, n_a + n_x)`` and ``dbf, dbi, dbc, dbo``
        ``(n_a, 1)``.
    """
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1.0 - tanh_c ** 2)  # total gradient reaching c_next
    # gradients before each gate's nonlinearity
    dot = da_next * tanh_c * ot * (1.0 - ot)
    dcct = dc * it * (1.0 - cct ** 2)
    dit = dc * cct * it * (1.0 - it)
    dft = dc * c_prev * ft * (1.0 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    Wf, Wi, Wc, Wo = parameters["Wf"], parameters["Wi"], parameters["Wc"], parameters["Wo"]
    dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
    return {
        "dxt": dconcat[n_a:],
        "da_prev": dconcat[:n_a],
        "dc_prev": dc * ft,
        "dWf": dft @ concat.T, "dbf": np.sum(dft, axis=1, keepdims=True),
        "dWi": dit @ concat.T, "dbi": np.sum(dit, axis=1, keepdims=True),
        "dWc": dcct @ concat.T, "dbc": np.sum(dcct, axis=1, keepdims=True),
        "dWo": dot @ concat.T, "dbo": np.sum(dot, axis=1, keepdims=True),
    }


def lstm_backward(da, caches):
    """Backpropagation through time for the LSTM.

    Args:
        da ``(n_a, m, T_x)``: upstream gradients with respect to every hidden state;
        caches: the ``(caches, x)`` pair returned by :func:`lstm_forward`.
    Returns:
        dict with ``dx (n_x, m, T_x)``, ``da0 (n_a, m)``, ``dWf, dWi, dWc, dWo``
        ``(n_a, n_a + n_x)`` and ``dbf, dbi, dbc, dbo`` ``(n_a, 1)``.
    """
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, m, T_x))
    grads = {k: np.zeros((n_a, n_a + n_x)) for k in ("dWf", "dWi", "dWc", "dWo")}
    grads.update({k: np.zeros((n_a, 1)) for k in ("dbf", "dbi", "dbc", "dbo")})
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
        dx[:, :, t] = g["dxt"]
        da_prevt, dc_prevt = g["da_prev"], g["dc_prev"]
        for k in grads:
            grads[k] += g[k]
    grads["dx"] = dx
    grads["da0"] = da_prevt
    return grads


# ---------------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------------
def clip(gradients, maxValue):
    """Clip every gradient array to ``[-maxValue, maxValue]``, in place, against exploding gradients.

    Args:
        gradients: dict of NumPy arrays (e.g. ``dWaa, dWax, dWya, db, dby``); each float array
            is clipped in place, so references to it see the clipped values.
        maxValue: positive float, the bound.
    Returns:
        the same dict ``gradients``.
    """
    for key, g in gradients.items():
        if isinstance(g, np.ndarray) and np.issubdtype(g.dtype, np.floating):
            np.clip(g, -maxValue, maxValue, out=g)
        elif np.isscalar(g) and not isinstance(g, (str, bytes)):
            gradients[key] = min(max(g, -maxValue), maxValue)
    return gradients
