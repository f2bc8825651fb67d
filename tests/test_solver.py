"""Unit tests of utils.solver.Solver, the course's one training loop."""
from contextlib import nullcontext

import numpy as np
import pytest

from utils import solver as solver_module
from utils.solver import Solver


def _logistic_data(m=200, seed=0):
    """A separable-ish 2-D problem: X (2, m), Y (1, m)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, m))
    Y = (X[0:1] + 0.5 * X[1:2] + 0.3 * rng.normal(size=(1, m)) > 0).astype(float)
    return X, Y


def logistic_step(params, X, Y, learning_rate):
    """One gradient-descent step of logistic regression; returns (new params, cost before it)."""
    z = params["w"].T @ X + params["b"]
    cost = float(np.mean(np.logaddexp(0, z) - Y * z))
    dz = (1 / (1 + np.exp(-z)) - Y) / X.shape[1]
    return {"w": params["w"] - learning_rate * X @ dz.T, "b": params["b"] - learning_rate * dz.sum()}, cost


def _start():
    return {"w": np.zeros((2, 1)), "b": 0.0}


def recording_step(seen):
    """A step that records the batches and learning rates it is given and returns a constant cost."""
    def step(params, *args):
        *batch, lr = args
        seen.append((batch, lr))
        return params, 1.0
    return step


def test_full_batch_loss_decreases_and_history_has_one_entry_per_step():
    X, Y = _logistic_data()
    params, h = Solver(logistic_step, _start(), (X, Y), epochs=50, learning_rate=1.0, progress=False).train()
    assert len(h["loss"]) == len(h["epoch loss"]) == 50
    assert h["loss"][0] == pytest.approx(np.log(2))  # the cost before the first step, at w = 0
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert np.all(np.diff(h["loss"]) < 0)
    assert params["w"].shape == (2, 1) and h["seconds"] >= 0 and h["cpu_seconds"] >= 0


def test_full_batch_passes_the_arrays_themselves():
    X, Y = _logistic_data(m=10)
    seen = []
    Solver(recording_step(seen), {}, (X, Y), epochs=3, progress=False).train()
    assert len(seen) == 3 and all(b[0] is X and b[1] is Y for b, _ in seen)


def test_batch_size_and_epochs_honoured():
    """m = 10, batch 4: 3 steps an epoch (4, 4, 2), every example once per epoch, new order each epoch."""
    X = np.arange(10.0).reshape(1, 10)
    Y = np.arange(10.0).reshape(1, 10) * 10
    seen = []
    _, h = Solver(recording_step(seen), {}, (X, Y), epochs=2, batch_size=4, progress=False).train()
    assert [b[0].shape for b, _ in seen] == [(1, 4), (1, 4), (1, 2)] * 2
    assert len(h["loss"]) == 6 and len(h["epoch loss"]) == 2
    orders = []
    for epoch in range(2):
        cols = np.concatenate([b[0][0] for b, _ in seen[3 * epoch:3 * epoch + 3]])
        labels = np.concatenate([b[1][0] for b, _ in seen[3 * epoch:3 * epoch + 3]])
        assert sorted(cols) == list(range(10))
        np.testing.assert_array_equal(labels, cols * 10)  # every label stays with its example
        orders.append(cols)
    assert not np.array_equal(orders[0], orders[1])


def test_examples_axis_and_label_vectors():
    """axis=0 cuts NHWC images along their first axis; 1-D labels are always cut along axis 0."""
    X = np.arange(6 * 2 * 2 * 1.0).reshape(6, 2, 2, 1)
    y = np.arange(6)
    seen = []
    Solver(recording_step(seen), {}, (X, y), batch_size=4, axis=0, progress=False).train()
    (Xb, yb), _ = seen[0]
    assert Xb.shape == (4, 2, 2, 1) and yb.shape == (4,)
    np.testing.assert_array_equal(Xb[:, 0, 0, 0], yb * 4)
    seen.clear()
    Xr = np.zeros((3, 6, 5))  # RNN inputs (n_x, m, T_x): examples on axis 1, the default
    Solver(recording_step(seen), {}, (Xr, y), batch_size=4, progress=False).train()
    assert seen[0][0][0].shape == (3, 4, 5)


def test_learning_rate_decay_and_schedule():
    X, Y = _logistic_data(m=8)
    seen = []
    Solver(recording_step(seen), {}, (X, Y), epochs=3, learning_rate=0.5, lr_decay=0.1, progress=False).train()
    np.testing.assert_allclose([lr for _, lr in seen], [0.5, 0.05, 0.005])
    seen.clear()
    Solver(recording_step(seen), {}, (X, Y), epochs=3, learning_rate=lambda e: 10 + e, progress=False).train()
    assert [lr for _, lr in seen] == [10, 11, 12]


def test_data_callable_and_max_steps():
    seen = []
    batches = lambda epoch: [(np.full((1, 2), epoch),), (np.full((1, 2), epoch),)]
    _, h = Solver(recording_step(seen), {}, batches, epochs=10, max_steps=5, progress=False).train()
    assert len(h["loss"]) == 5 and len(h["epoch loss"]) == 3
    assert [int(b[0][0, 0]) for b, _ in seen] == [0, 0, 1, 1, 2]


def test_evaluate_every_and_after_the_last_epoch():
    X, Y = _logistic_data()
    calls = []

    def evaluate(p):
        calls.append(1)
        return {"accuracy": np.mean(((p["w"].T @ X + p["b"]) > 0) == (Y > 0.5))}

    _, h = Solver(logistic_step, _start(), (X, Y), epochs=25, learning_rate=1.0, evaluate=evaluate, eval_every=10,
                  progress=False).train()
    assert h["epoch"] == [10, 20, 25] and len(h["accuracy"]) == 3 == len(calls)
    assert h["accuracy"][-1] > 0.85


def test_blas_threads_are_limited_while_training(monkeypatch):
    from threadpoolctl import threadpool_info

    limits = []

    def step(params, X, Y, lr):
        limits.append({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return params, 0.0

    X, Y = _logistic_data(m=4)
    Solver(step, {}, (X, Y), epochs=1, progress=False).train()
    if not limits[0]:
        pytest.skip("no BLAS thread pool that threadpoolctl can see")
    assert limits[0] == {1}
    requested = []
    monkeypatch.setattr(solver_module, "blas_threads", lambda n: requested.append(n) or nullcontext())
    Solver(step, {}, (X, Y), epochs=1, blas_threads=None, progress=False).train()
    assert requested == [None]


def test_quick_mode_cuts_the_work(monkeypatch):
    X, Y = _logistic_data(m=40)
    monkeypatch.setenv("COURSE_QUICK", "0")
    _, full = Solver(logistic_step, _start(), (X, Y), epochs=20, batch_size=10, quick_steps=3, progress=False).train()
    monkeypatch.setenv("COURSE_QUICK", "1")
    _, quick = Solver(logistic_step, _start(), (X, Y), epochs=20, batch_size=10, quick_steps=3, progress=False).train()
    assert len(full["loss"]) == 80 and len(quick["loss"]) == 3


def test_progress_bar_counts_the_steps(capsys):
    X, Y = _logistic_data(m=20)
    Solver(logistic_step, _start(), (X, Y), epochs=2, batch_size=5, desc="toy run").train()
    err = capsys.readouterr().err
    assert "toy run" in err and "0/8" in err  # 2 epochs of 4 steps
    Solver(logistic_step, _start(), (X, Y), epochs=2, batch_size=5, desc="toy run", progress=False).train()
    assert capsys.readouterr().err == ""
