"""RNN benchmark: the sine-wave forecaster of assignment 07_rnn.

Trains the notebook's model (basic RNN, 32 tanh units, full-batch Adam at 0.01, clipping at 1,
truncated BPTT over the last 10 steps, 300 epochs) on windows of 50 values of sin(t) at integer
t and reports the validation RMSE on the last 50 records (the seed practical reported 0.127;
target: at most 0.05) and the training time.
"""
from course.reference.sequence_data import predict_rnn_regressor, rmse, rnn_regressor_solver, sine_wave_dataset


def run():
    X_train, Y_train, X_val, Y_val = sine_wave_dataset(n_points=200, window=50, n_val=50)
    params, history = rnn_regressor_solver(X_train, Y_train, n_a=32, epochs=300, learning_rate=0.01,
                                           bptt_truncate=10, clip_value=1.0, seed=0, progress=False).train()
    val_rmse = rmse(predict_rnn_regressor(X_val, params), Y_val)
    figures = {
        "rnn_sine_val_rmse": round(val_rmse, 5),
        "rnn_sine_train_seconds": round(history["seconds"], 2),
    }
    print(f"sine RNN: validation RMSE {val_rmse:.5f} (target <= 0.05) in {history['seconds']:.2f} s")
    return figures


if __name__ == "__main__":
    run()
