"""The course's one training loop, in the spirit of CS231n's ``Solver``.

The model lives in your notebook: you hand the solver a ``step`` that does one update with your
own functions (forward, cost, backward, update) and returns the new parameters and the batch's
cost. The solver does the rest: epochs, shuffled mini-batches, the learning-rate schedule, a
``tqdm`` progress bar, a history of costs and metrics, one BLAS thread, and a short run under the
grader. For example, with 04's ``minibatch_step(params, X, Y, learning_rate)``::

    solver = Solver(minibatch_step, params, (X_train, Y_train), epochs=3, batch_size=128,
                    learning_rate=0.3, evaluate=lambda p: {"val accuracy": accuracy(p, X_val, y_val)})
    params, history = solver.train()

Examples are columns (``X`` is ``(n_x, m)``, ``Y`` is ``(n_y, m)``; RNN inputs ``(n_x, m, T_x)``):
mini-batches are cut along axis 1 of every array with two or more dimensions and along axis 0
of 1-D label vectors ``(m,)``. Give ``axis=0`` for examples as rows (NHWC images ``(m, n_H,
n_W, n_C)``).
"""
import time
from itertools import islice

import numpy as np

from utils.runtime import blas_threads, quick_mode


class Solver:
    """Train parameters with a step function.

    Args:
        step: ``step(params, *batch, learning_rate) -> (params, cost)``; ``batch`` holds one
            mini-batch of each array of ``data`` (e.g. ``X_b (n_x, b)``, ``Y_b (n_y, b)``). It may
            update ``params`` in place or return a new dict.
        params: the starting parameters (a dict of arrays, or anything ``step`` understands).
        data: a tuple of arrays with the same number ``m`` of examples, e.g. ``(X, Y)``; or a
            callable ``data(epoch) -> iterable of batch tuples`` that makes its own batches.
        epochs: passes over the data.
        batch_size: examples per step; ``None`` is full-batch gradient descent (one step per epoch,
            the arrays passed as they are). Each epoch draws a new random order; the last batch
            may be smaller.
        learning_rate: a float, multiplied by ``lr_decay`` after every epoch, or a schedule
            ``learning_rate(epoch) -> float`` (epochs count from 0).
        evaluate: optional ``evaluate(params) -> {name: float}``, run every ``eval_every``
            epochs and after the last one; each name gets a list in the history.
        seed: seed of the shuffling (``np.random.default_rng(seed)``).
        axis: the examples' axis of arrays with two or more dimensions (see the module docstring).
        max_steps: stop after this many steps; ``quick_steps``: the same, only under the grader
            (``utils.runtime.quick_mode()``), which keeps grading fast.
        blas_threads: cap of the BLAS thread pool while training (``None``: leave it alone).
        progress: show a ``tqdm.auto`` progress bar over the steps; ``desc`` is its label.

    After :meth:`train`, ``history`` holds ``"loss"`` (one cost per step, as ``step`` returned
    it: before that step's update), ``"epoch loss"`` (their mean per epoch), ``"epoch"`` (the
    epochs, from 1, after which ``evaluate`` ran), one list per metric, and ``"seconds"`` and
    ``"cpu_seconds"`` (time spent in the steps, evaluation excluded).
    """

    def __init__(self, step, params, data, *, epochs=1, batch_size=None, learning_rate=0.01, lr_decay=1.0,
                 evaluate=None, eval_every=1, seed=0, axis=1, max_steps=None, quick_steps=None, blas_threads=1,
                 progress=True, desc="training"):
        self.step, self.params, self.data = step, params, data
        self.epochs, self.batch_size, self.axis = int(epochs), batch_size, axis
        self.learning_rate, self.lr_decay = learning_rate, lr_decay
        self.evaluate, self.eval_every = evaluate, max(1, int(eval_every))
        self.rng = np.random.default_rng(seed)
        self.max_steps = quick_steps if quick_steps is not None and quick_mode() else max_steps
        self.blas_threads, self.progress, self.desc = blas_threads, progress, desc
        self.history = {"loss": [], "epoch loss": [], "epoch": [], "seconds": 0.0, "cpu_seconds": 0.0}

    def lr(self, epoch):
        """The learning rate of epoch ``epoch`` (from 0)."""
        if callable(self.learning_rate):
            return self.learning_rate(epoch)
        return self.learning_rate * self.lr_decay ** epoch

    def batches(self, epoch):
        """``(number of steps, iterable of batch tuples)`` of one epoch; mini-batches are cut lazily."""
        if callable(self.data):
            batches = list(self.data(epoch))
            return len(batches), batches
        arrays = tuple(self.data)
        if self.batch_size is None:
            return 1, [arrays]
        axes = [self.axis % np.ndim(a) if np.ndim(a) > 1 else 0 for a in arrays]
        m = np.shape(arrays[0])[axes[0]]
        order, starts = self.rng.permutation(m), range(0, m, self.batch_size)
        # a[:, idx] style indexing follows the array's strides (np.take would copy a
        # Fortran-ordered X whole for every batch)
        return len(starts), (tuple(a[(slice(None),) * ax + (order[i:i + self.batch_size],)] for a, ax in zip(arrays, axes))
                             for i in starts)

    def train(self):
        """Run the epochs; returns ``(params, history)``."""
        from tqdm.auto import tqdm

        h, done, shown = self.history, 0, 0.0
        n, batches = self.batches(0)
        total = n * self.epochs if self.max_steps is None else min(n * self.epochs, self.max_steps)
        bar = tqdm(total=total, desc=self.desc, unit="step", leave=False, mininterval=0.5, disable=not self.progress)
        with bar, blas_threads(self.blas_threads):
            for epoch in range(self.epochs):
                batches, lr = batches if epoch == 0 else self.batches(epoch)[1], self.lr(epoch)
                t0, c0, losses = time.perf_counter(), time.process_time(), []
                for batch in islice(batches, None if self.max_steps is None else self.max_steps - done):
                    self.params, loss = self.step(self.params, *batch, lr)
                    losses.append(float(loss))
                    bar.update()
                h["seconds"] += time.perf_counter() - t0
                h["cpu_seconds"] += time.process_time() - c0
                done += len(losses)
                h["loss"] += losses
                h["epoch loss"].append(sum(losses) / len(losses) if losses else float("nan"))
                last = epoch + 1 == self.epochs or done == self.max_steps
                if self.evaluate is not None and ((epoch + 1) % self.eval_every == 0 or last):
                    h["epoch"].append(epoch + 1)
                    for name, value in self.evaluate(self.params).items():
                        h.setdefault(name, []).append(float(value))
                if self.progress and time.perf_counter() - shown > 0.5:
                    shown = time.perf_counter()
                    bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in h.items()
                                     if k not in ("loss", "epoch") and isinstance(v, list) and v}, refresh=False)
                if last:
                    break
        return self.params, h
