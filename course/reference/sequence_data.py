"""Sequence regression with a basic RNN: the sine-wave data set and a small trainer.

The task (from the classic "RNN step by step" practical): sample ``sin(t)`` at the integers
``t = 0, 1, ..., 199``, cut windows of 50 consecutive values, and predict the value that follows
each window. The model reads a window one value per time step with the basic RNN cell of
:mod:`course.reference.rnn_utils` and maps its last hidden state to a number with a linear layer::

    a<t> = tanh(Waa a<t-1> + Wax x<t> + ba),    y_hat = Wya a<T> + by

It is trained on the mean squared error with Adam, gradient clipping and truncated
backpropagation through time (the gradient flows back ``bptt_truncate`` steps from the output).
Everything is vectorised over the examples; the only loop is over time.
"""
import math

import numpy as np

from course.reference import rnn_utils
from course.reference.optimizers import Adam
from utils.sequence_data import rmse, sine_wave_dataset  # noqa: F401 (re-exported)


def init_rnn_regressor(n_x=1, n_a=32, n_y=1, seed=0):
    """Parameters ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``Wya (n_y, n_a)``, ``ba``, ``by``.

    Input and output weights are scaled by ``1/sqrt(fan_in)``; the recurrent matrix is a random
    orthogonal matrix times 0.9, a start that neither explodes nor forgets at once.
    """
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n_a, n_a)))
    return {
        "Wax": rng.standard_normal((n_a, n_x)) / math.sqrt(n_x),
        "Waa": 0.9 * q,
        "Wya": rng.standard_normal((n_y, n_a)) / math.sqrt(n_a),
        "ba": np.zeros((n_a, 1)),
        "by": np.zeros((n_y, 1)),
    }


def predict_rnn_regressor(X, parameters):
    """Predictions ``(n_y, m)`` for inputs ``X (n_x, m, T_x)`` (the RNN starts from ``a0 = 0``)."""
    n_a = parameters["Waa"].shape[0]
    a, _, _ = rnn_utils.rnn_forward(X, np.zeros((n_a, X.shape[1])), parameters)
    return parameters["Wya"] @ a[:, :, -1] + parameters["by"]


def rnn_regressor_loss_and_grads(X, Y, parameters, bptt_truncate=None):
    """Loss ``mean((y_hat - y)^2) / 2`` and its gradients, by (truncated) BPTT.

    Args:
        X ``(n_x, m, T_x)``, Y ``(n_y, m)``, parameters from :func:`init_rnn_regressor`.
        bptt_truncate: number of time steps the gradient flows back from the output
            (``None``: all ``T_x`` steps, plain BPTT).
    Returns:
        loss (float), grads dict ``dWax, dWaa, dWya, dba, dby`` (shapes of the parameters).
    """
    n_x, m, T_x = X.shape
    n_a = parameters["Waa"].shape[0]
    a, _, (cell_caches, _) = rnn_utils.rnn_forward(X, np.zeros((n_a, m)), parameters)
    a_T = a[:, :, -1]
    err = parameters["Wya"] @ a_T + parameters["by"] - Y  # (n_y, m)
    loss = 0.5 * float(np.mean(np.sum(err ** 2, axis=0)))
    dy = err / m
    k = T_x if bptt_truncate is None else max(1, min(int(bptt_truncate), T_x))
    da = np.zeros((n_a, m, k))
    da[:, :, -1] = parameters["Wya"].T @ dy  # only the last hidden state feeds the loss
    g = rnn_utils.rnn_backward(da, (cell_caches[-k:], X[:, :, -k:]))
    grads = {"dWax": g["dWax"], "dWaa": g["dWaa"], "dba": g["dba"],
             "dWya": dy @ a_T.T, "dby": np.sum(dy, axis=1, keepdims=True)}
    return loss, grads


def rnn_regressor_solver(X, Y, X_val=None, Y_val=None, n_a=32, learning_rate=0.01, bptt_truncate=10, clip_value=1.0,
                         seed=0, **options):
    """A :class:`utils.solver.Solver` training the RNN regressor full-batch with Adam, clipping and
    truncated BPTT.

    Args:
        X ``(n_x, m, T_x)``, Y ``(n_y, m)``; optional validation data of the same layout, whose
            RMSE is recorded after every epoch (``history["val rmse"]``).
        options: passed to the Solver (default ``epochs=400``), e.g. ``progress``.
    Returns:
        the Solver; ``solver.train()`` gives ``(parameters, history)``; ``history["loss"]`` holds
        the loss ``mean(sum((y_hat - y)^2)) / 2`` before each update.
    """
    from utils.solver import Solver

    opt = Adam(lr=learning_rate)

    def step(parameters, X, Y, lr):
        loss, grads = rnn_regressor_loss_and_grads(X, Y, parameters, bptt_truncate)
        opt.lr = lr
        opt.step(parameters, rnn_utils.clip(grads, clip_value))
        return parameters, loss

    evaluate = None if X_val is None else (lambda p: {"val rmse": rmse(predict_rnn_regressor(X_val, p), Y_val)})
    options = {"epochs": 400, "desc": "sine RNN", **options}
    return Solver(step, init_rnn_regressor(X.shape[0], n_a, Y.shape[0], seed), (X, Y), learning_rate=learning_rate,
                  evaluate=evaluate, **options)
