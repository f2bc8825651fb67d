"""Benchmark: the from-scratch MLP of ``course.reference.mlp`` on the full MNIST.

Trains a 784-512-256-10 ReLU network (He init, mini-batches of 256, Adam at 2e-3 decaying by
0.7 per epoch, label smoothing 0.1, float32) for 8 epochs on the 60,000 training images and measures the accuracy
on the 10,000 test images. Targets on two CPU cores: accuracy >= 0.98, training <= 60 s.

Run: ``MNIST_PATH=/path/to/mnist.npz python -m course bench mnist_mlp`` (or ``python -m
benchmarks.mnist_mlp``). Without MNIST_PATH, :func:`utils.mnist.load_mnist` looks in its cache
and then downloads; the shipped 2,500-image sample is refused here, since a figure measured on
it would mean nothing.
"""
import time

import numpy as np

CONFIG = {"hidden": (512, 256), "epochs": 8, "batch_size": 256, "learning_rate": 2e-3, "lr_decay": 0.7,
          "label_smoothing": 0.1, "seed": 0}


def run(progress=False):
    """Train on the full MNIST and return the figures for ``benchmarks/results.json``.

    Returns:
        dict with ``mnist_mlp_test_accuracy`` (float in [0, 1]), ``mnist_mlp_train_seconds``
        (wall-clock time of the training loop only: no loading, no evaluation) and
        ``mnist_mlp_config`` (architecture and hyper-parameters).
    """
    from course.reference.mlp import accuracy, layer_dims_of, mlp_solver, normalize
    from utils.mnist import load_mnist

    x_train, y_train, x_test, y_test = load_mnist(allow_sample=False)
    X_train = normalize(x_train, np.float32)
    X_test = normalize(x_test, np.float32)
    params, history = mlp_solver(X_train, y_train, progress=progress, **CONFIG).train()
    start = time.perf_counter()
    acc = accuracy(params, X_test, y_test)
    eval_seconds = time.perf_counter() - start
    dims = "-".join(map(str, layer_dims_of(params)))
    epochs = len(history["epoch loss"])
    figures = {
        "mnist_mlp_test_accuracy": round(acc, 4),
        "mnist_mlp_train_seconds": round(history["seconds"], 2),
        "mnist_mlp_train_cpu_seconds": round(history["cpu_seconds"], 2),
        "mnist_mlp_config": {
            "architecture": dims,
            "epochs": epochs,
            "batch_size": CONFIG["batch_size"],
            "optimizer": f"Adam lr {CONFIG['learning_rate']:g} x {CONFIG['lr_decay']:g}/epoch",
            "label_smoothing": CONFIG["label_smoothing"],
            "dtype": "float32",
            "test_eval_seconds": round(eval_seconds, 2),
        },
    }
    print(f"MLP {dims}, {epochs} epochs: test accuracy {acc:.4f}, training {history['seconds']:.1f} s")
    return figures


if __name__ == "__main__":
    run(progress=True)
