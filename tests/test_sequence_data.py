"""Unit tests of course.reference.sequence_data: the sine windows, gradients of the regressor, training."""
import numpy as np

from course.reference import sequence_data as S
from utils.testing import numerical_gradient, relative_error


def test_sine_dataset_layout_and_values():
    X, Y, Xv, Yv = S.sine_wave_dataset(n_points=200, window=50, n_val=50)
    assert X.shape == (1, 100, 50) and Y.shape == (1, 100)
    assert Xv.shape == (1, 50, 50) and Yv.shape == (1, 50)
    np.testing.assert_allclose(X[0, 7], np.sin(np.arange(7, 57)))
    np.testing.assert_allclose(Y[0, 7], np.sin(57))
    np.testing.assert_allclose(Xv[0, 0], np.sin(np.arange(100, 150)))
    np.testing.assert_allclose(Yv[0, -1], np.sin(199))


def _loss_grads_fd(bptt_truncate):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 3, 6)), rng.standard_normal((1, 3))
    p = S.init_rnn_regressor(2, 4, 1, seed=1)
    p["ba"] += 0.1 * rng.standard_normal(p["ba"].shape)
    _, g = S.rnn_regressor_loss_and_grads(X, Y, p, bptt_truncate)
    return X, Y, p, g


def test_regressor_gradients_match_finite_differences():
    X, Y, p, g = _loss_grads_fd(None)
    for k in p:
        num = numerical_gradient(lambda: S.rnn_regressor_loss_and_grads(X, Y, p)[0], p[k])
        assert relative_error(g["d" + k], num) < 1e-7, k


def test_truncation_changes_only_recurrent_gradients():
    X, Y, p, full = _loss_grads_fd(None)
    _, _, _, trunc = _loss_grads_fd(2)
    np.testing.assert_allclose(trunc["dWya"], full["dWya"])
    np.testing.assert_allclose(trunc["dby"], full["dby"])
    assert not np.allclose(trunc["dWaa"], full["dWaa"])
    _, _, _, same = _loss_grads_fd(6)
    for k in full:
        np.testing.assert_allclose(same[k], full[k], atol=1e-14)


def test_adam_step_moves_against_gradient():
    p = {"W": np.array([[1.0, -1.0]])}
    S.Adam(lr=0.1).step(p, {"dW": np.array([[2.0, -3.0]])})
    np.testing.assert_allclose(p["W"], [[0.9, -0.9]], atol=1e-6)


def test_short_training_reaches_target_rmse():
    X, Y, Xv, Yv = S.sine_wave_dataset()
    p, h = S.rnn_regressor_solver(X, Y, Xv, Yv, n_a=16, epochs=150, progress=False).train()
    val = S.rmse(S.predict_rnn_regressor(Xv, p), Yv)
    assert val < 0.05 and h["val rmse"][0] > 0.1
