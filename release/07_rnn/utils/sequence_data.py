"""The sine-wave sequence data set of the RNN assignment (data only; no model).

Sample ``sin(t)`` at the integers ``t = 0, 1, ..., 199``, cut windows of 50 consecutive values,
and predict the value that follows each window.
"""
import numpy as np


def sine_wave_dataset(n_points=200, window=50, n_val=50):
    """Windows of ``sin(t)`` at integer ``t`` and the value that follows each one.

    Record ``i`` is ``x = sin(i), ..., sin(i + window - 1)`` with target ``y = sin(i + window)``;
    there are ``n_points - window`` records, the last ``n_val`` of which are the validation set.

    Returns:
        X_train ``(1, m_train, window)``, Y_train ``(1, m_train)``, X_val ``(1, n_val, window)``,
        Y_val ``(1, n_val)`` (float64, the RNN layout ``(n_x, m, T_x)``).
    """
    wave = np.sin(np.arange(n_points, dtype=float))
    n_records = n_points - window
    idx = np.arange(n_records)[:, None] + np.arange(window)[None, :]  # (n_records, window)
    X = wave[idx][None, :, :]
    Y = wave[window:window + n_records][None, :]
    m = n_records - n_val
    return X[:, :m], Y[:, :m], X[:, m:], Y[:, m:]


def rmse(y_hat, y):
    """Root mean squared error between two arrays of the same shape."""
    return float(np.sqrt(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2)))
