"""Gradient-descent optimizers: the deeplearning.ai functions and fast in-place classes.

Two interfaces to the same maths.

**Functions** with the signatures of the deeplearning.ai optimisation exercise. ``parameters``
is a dict of arrays (``"W1"`` of shape ``(n_1, n_0)``, ``"b1"`` of shape ``(n_1, 1)``, ...),
``grads`` holds the gradient of every parameter ``k`` under ``"d" + k`` (``"dW1"``, ``"db1"``,
...; extra entries such as ``"dA1"`` are ignored). Optimizer state (``v``, ``s``) is keyed like
the gradients. The functions return new arrays (the dicts are updated by assignment)::

    update_parameters_with_gd(parameters, grads, learning_rate) -> parameters
    initialize_velocity(parameters) -> v
    update_parameters_with_momentum(parameters, grads, v, beta, learning_rate) -> parameters, v
    initialize_rmsprop(parameters) -> s
    update_parameters_with_rmsprop(parameters, grads, s, beta=0.9, learning_rate=0.01,
                                   epsilon=1e-8) -> parameters, s
    initialize_adam(parameters) -> v, s
    update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9,
                                beta2=0.999, epsilon=1e-8) -> parameters, v, s, v_corrected, s_corrected
    update_lr(learning_rate0, epoch_num, decay_rate) -> learning_rate
    schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000) -> learning_rate

**The logistic-regression warm-up** of 05_optimizers (the model its races train)::

    expand(X) -> (6, m) quadratic features (x0, x1, x0**2, x1**2, x0*x1, 1)
    probability(X, w) -> (1, m) sigmoid(w^T X), overflow-free
    compute_loss(X, y, w) -> float, mean binary cross-entropy from the logits (np.logaddexp)
    compute_grad(X, y, w) -> (n, 1) gradient X (p - y)^T / m

**Classes** for training loops: ``SGD(lr)``, ``Momentum(lr, beta)``, ``RMSprop(lr, beta, eps)``,
``Adam(lr, beta1, beta2, eps)``. ``opt.step(params, grads)`` updates every array of ``params``
*in place* (so the dict keeps the same array objects and their dtype: float32 training stays
float32), keeps its state per parameter name, and counts ``opt.t`` (the number of steps taken,
used by Adam's bias correction). ``opt.lr`` may be changed between steps, e.g. by a schedule.

Update rules for a parameter ``W`` with gradient ``dW`` (step ``t`` = 1, 2, ...):

- SGD: ``W -= lr * dW``
- Momentum: ``v = beta v + (1 - beta) dW``;  ``W -= lr * v``
- RMSprop: ``s = beta s + (1 - beta) dW**2``;  ``W -= lr * dW / (sqrt(s) + eps)``
- Adam: ``v = b1 v + (1 - b1) dW``;  ``s = b2 s + (1 - b2) dW**2``;
  ``v_hat = v / (1 - b1**t)``;  ``s_hat = s / (1 - b2**t)``;  ``W -= lr * v_hat / (sqrt(s_hat) + eps)``
"""
import math

import numpy as np

__all__ = [
    "expand",
    "probability",
    "compute_loss",
    "compute_grad",
    "update_parameters_with_gd",
    "initialize_velocity",
    "update_parameters_with_momentum",
    "initialize_rmsprop",
    "update_parameters_with_rmsprop",
    "initialize_adam",
    "update_parameters_with_adam",
    "update_lr",
    "schedule_lr_decay",
    "Optimizer",
    "SGD",
    "Momentum",
    "RMSprop",
    "Adam",
    "OPTIMIZERS",
    "make_optimizer",
]


def _grad(grads, name):
    key = "d" + name
    try:
        return grads[key]
    except KeyError:
        raise KeyError(f"grads has no entry {key!r} for parameter {name!r}") from None


# --------------------------------------------------------------------------------------------
# Logistic regression on quadratic features (the warm-up of 05_optimizers)
# --------------------------------------------------------------------------------------------
def expand(X):
    """Quadratic features of 2-D points.

    Args:
        X: array of shape ``(2, m)``, one point ``(x0, x1)`` per column.
    Returns:
        float64 array of shape ``(6, m)``: rows ``x0, x1, x0**2, x1**2, x0*x1, 1``.
    """
    X = np.asarray(X, dtype=np.float64)
    x0, x1 = X[0], X[1]
    return np.stack([x0, x1, x0 * x0, x1 * x1, x0 * x1, np.ones_like(x0)])


def probability(X, w):
    """``sigmoid(w^T X)`` of shape ``(1, m)`` for features ``X`` ``(n, m)`` and weights ``w`` ``(n, 1)``.

    Written as ``(1 + tanh(z / 2)) / 2``: no overflow for any ``z``.
    """
    z = np.asarray(w, dtype=np.float64).T @ np.asarray(X, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def compute_loss(X, y, w):
    """Mean binary cross-entropy ``mean(log(1 + e^z) - y z)`` with ``z = w^T X``, as a float.

    Args:
        X: features ``(n, m)``; y: labels 0/1 ``(1, m)``; w: weights ``(n, 1)``.
    Returns:
        float, finite for any ``z`` (``np.logaddexp(0, z)`` computes ``log(1 + e^z)``).
    """
    z = np.asarray(w, dtype=np.float64).T @ np.asarray(X, dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def compute_grad(X, y, w):
    """Gradient of :func:`compute_loss` with respect to ``w``: ``X (p - y)^T / m``, shape ``(n, 1)``."""
    X = np.asarray(X, dtype=np.float64)
    return X @ (probability(X, w) - y).T / X.shape[1]


# --------------------------------------------------------------------------------------------
# Functions (deeplearning.ai signatures)
# --------------------------------------------------------------------------------------------
def update_parameters_with_gd(parameters, grads, learning_rate):
    """One step of (mini-batch) gradient descent: ``W = W - learning_rate * dW``.

    Args:
        parameters: dict name -> array, e.g. ``"W1"`` (n_1, n_0), ``"b1"`` (n_1, 1), ...
        grads: dict ``"d" + name`` -> array of the parameter's shape.
        learning_rate: float.
    Returns:
        parameters: the same dict, holding the updated arrays.
    """
    for name in list(parameters):
        parameters[name] = parameters[name] - learning_rate * _grad(grads, name)
    return parameters


def initialize_velocity(parameters):
    """Zero velocities for momentum: ``v["d" + name]`` has the shape of ``parameters[name]``.

    Returns:
        v: dict ``"dW1"``, ``"db1"``, ... -> zero arrays (dtype of the parameters).
    """
    return {"d" + name: np.zeros_like(p) for name, p in parameters.items()}


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    """One step of gradient descent with momentum.

    ``v = beta * v + (1 - beta) * dW`` (an exponentially weighted average of the gradients), then
    ``W = W - learning_rate * v``.

    Args:
        parameters: dict name -> array.
        grads: dict ``"d" + name`` -> array of the parameter's shape.
        v: dict ``"d" + name`` -> current velocity (from :func:`initialize_velocity`).
        beta: momentum coefficient in [0, 1).
        learning_rate: float.
    Returns:
        (parameters, v): the two dicts, holding the updated arrays.
    """
    for name in list(parameters):
        key = "d" + name
        v[key] = beta * v[key] + (1 - beta) * _grad(grads, name)
        parameters[name] = parameters[name] - learning_rate * v[key]
    return parameters, v


def initialize_rmsprop(parameters):
    """Zero running averages of squared gradients: ``s["d" + name]`` shaped like the parameter."""
    return {"d" + name: np.zeros_like(p) for name, p in parameters.items()}


def update_parameters_with_rmsprop(parameters, grads, s, beta=0.9, learning_rate=0.01, epsilon=1e-8):
    """One step of RMSprop.

    ``s = beta * s + (1 - beta) * dW**2``, then ``W = W - learning_rate * dW / (sqrt(s) + epsilon)``.

    Args:
        parameters: dict name -> array.
        grads: dict ``"d" + name`` -> array of the parameter's shape.
        s: dict ``"d" + name`` -> running average of the squared gradient.
        beta, learning_rate, epsilon: floats.
    Returns:
        (parameters, s): the two dicts, holding the updated arrays.
    """
    for name in list(parameters):
        key = "d" + name
        g = _grad(grads, name)
        s[key] = beta * s[key] + (1 - beta) * np.square(g)
        parameters[name] = parameters[name] - learning_rate * g / (np.sqrt(s[key]) + epsilon)
    return parameters, s


def initialize_adam(parameters):
    """Zero first and second moment estimates for Adam.

    Returns:
        (v, s): two dicts ``"dW1"``, ``"db1"``, ... -> zero arrays shaped like the parameters.
    """
    v = {"d" + name: np.zeros_like(p) for name, p in parameters.items()}
    s = {"d" + name: np.zeros_like(p) for name, p in parameters.items()}
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """One step of Adam with bias correction.

    ``v = beta1 v + (1 - beta1) dW``, ``s = beta2 s + (1 - beta2) dW**2``,
    ``v_corrected = v / (1 - beta1**t)``, ``s_corrected = s / (1 - beta2**t)``,
    ``W = W - learning_rate * v_corrected / (sqrt(s_corrected) + epsilon)``.

    Args:
        parameters: dict name -> array.
        grads: dict ``"d" + name`` -> array of the parameter's shape.
        v, s: dicts ``"d" + name`` -> first / second moment estimates (from :func:`initialize_adam`).
        t: number of Adam steps taken so far, counting this one (1 on the first step).
        learning_rate, beta1, beta2, epsilon: floats.
    Returns:
        (parameters, v, s, v_corrected, s_corrected): dicts; the last two hold the bias-corrected
        moments of this step.
    """
    if t < 1:
        raise ValueError(f"Adam's step counter t starts at 1, got t={t}")
    c1 = 1.0 - beta1 ** t
    c2 = 1.0 - beta2 ** t
    v_corrected, s_corrected = {}, {}
    for name in list(parameters):
        key = "d" + name
        g = _grad(grads, name)
        v[key] = beta1 * v[key] + (1 - beta1) * g
        s[key] = beta2 * s[key] + (1 - beta2) * np.square(g)
        v_corrected[key] = v[key] / c1
        s_corrected[key] = s[key] / c2
        parameters[name] = parameters[name] - learning_rate * v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s, v_corrected, s_corrected


def update_lr(learning_rate0, epoch_num, decay_rate):
    """Inverse-time decay: ``learning_rate0 / (1 + decay_rate * epoch_num)``."""
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """Staircase inverse-time decay, lowered once every ``time_interval`` epochs:

    ``learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval))``.
    """
    return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))


# --------------------------------------------------------------------------------------------
# In-place classes
# --------------------------------------------------------------------------------------------
class Optimizer:
    """Base class: ``step(params, grads)`` updates ``params`` in place and counts ``t``.

    Args:
        lr: learning rate (the attribute ``lr`` may be changed between steps).
    Attributes:
        threads: threads that update a large parameter at once (1 by default; a trainer sets it
            to its BLAS thread count). Each thread updates its own block of rows, so the result
            is bit for bit the same for any count.
    Subclasses name their per-parameter state arrays in ``slots`` and implement
    ``_update(p, g, *slot_arrays)``, which must modify ``p`` and the slot arrays in place.
    """

    slots = ()
    threads = 1

    def __init__(self, lr=0.01):
        self.lr = float(lr)
        self.t = 0
        self.state = {}

    def reset(self):
        """Forget all state (moments, step counter)."""
        self.t = 0
        self.state = {}

    def _slot(self, slot, name, p):
        """The state array ``slot`` (e.g. ``"v"``) of parameter ``name``, zeros like ``p`` at first."""
        store = self.state.setdefault(slot, {})
        arr = store.get(name)
        if arr is None or arr.shape != p.shape or arr.dtype != p.dtype:
            arr = store[name] = np.zeros_like(p)
        return arr

    def step(self, params, grads):
        """Update every array ``params[k]`` in place with the gradient ``grads["d" + k]``.

        Args:
            params: dict name -> float array (any shapes; updated in place, dtype preserved).
            grads: dict ``"d" + name`` -> array of the parameter's shape (other keys ignored).
        Returns:
            params (the same dict, for convenience).
        """
        pairs = []
        for name, p in params.items():  # check everything before touching anything
            g = _grad(grads, name)
            if np.shape(g) != p.shape:
                raise ValueError(f"grads['d{name}'] has shape {np.shape(g)}, parameter {name!r} has {p.shape}")
            pairs.append((p, np.asarray(g, dtype=p.dtype), [self._slot(k, name, p) for k in self.slots]))
        self.t += 1
        self._begin_step()
        blocks = [(p[rows], g[rows], [a[rows] for a in state])
                  for p, g, state in pairs for rows in _row_blocks(p, self.threads)]
        _in_threads(lambda block: self._update(block[0], block[1], *block[2]), blocks, self.threads)
        return params

    def _begin_step(self):
        """Hook run once per step after ``t`` was incremented (Adam's bias corrections)."""

    def _update(self, p, g, *state):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("state", "t") and not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


# Entries per block of a one-thread update: a block's parameter, gradient, state and scratch (five
# float32 arrays of 256 KB) stay in a 2 MB L2 cache through all the passes of the update rule,
# instead of streaming the whole parameter through memory once per pass (Adam on the MLP:
# 1.35 ms a step in blocks against 1.60 ms whole, same run). Smaller parameters go in one piece.
_BLOCK = 1 << 16


def _row_blocks(p, threads):
    """Slices of ``p``'s first axis: for a large ``p``, one per thread on several threads (small
    blocks there cost more in hand-overs of the GIL, one per NumPy call, than they gain in cache:
    1.1 against 0.9 ms for the MLP's Adam on 2 threads), blocks of about ``_BLOCK`` entries on one;
    else everything. Each entry goes through the same operations whatever the blocks, so the
    result is bit for bit the same for any thread count."""
    if p.ndim == 0 or p.size < _BLOCK or p.shape[0] < max(threads, 2):
        return [...]
    count = threads if threads > 1 else min(p.shape[0], -(-p.size // _BLOCK))
    edges = np.linspace(0, p.shape[0], count + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


_pool, _pool_threads = None, 0  # the updates' helper threads: made on first use, grown when more are asked


def _in_threads(fn, items, threads):
    """``fn(item)`` for every item, on up to ``threads`` threads (NumPy's ufuncs release the GIL):
    item ``i`` on thread ``i % threads``, the caller's own thread taking its share. An exception of
    any item is raised here, once every share has ended."""
    global _pool, _pool_threads
    threads = min(int(threads), len(items))
    if threads <= 1:
        for item in items:
            fn(item)
        return
    if _pool_threads < threads - 1:
        from concurrent.futures import ThreadPoolExecutor

        if _pool is not None:
            _pool.shutdown(wait=False)  # its threads end once idle; the larger pool replaces it
        _pool, _pool_threads = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="optimizer"), threads - 1
    futures = [_pool.submit(lambda k=k: [fn(item) for item in items[k::threads]]) for k in range(1, threads)]
    try:
        for item in items[0::threads]:
            fn(item)
    finally:
        for future in futures:
            future.result()


class SGD(Optimizer):
    """Plain (mini-batch) gradient descent: ``p -= lr * g``."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def _update(self, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum: ``v = beta v + (1 - beta) g``; ``p -= lr * v``."""

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = float(beta)

    slots = ("v",)

    def _update(self, p, g, v):
        v *= self.beta
        v += (1 - self.beta) * g
        p -= self.lr * v


class RMSprop(Optimizer):
    """RMSprop: ``s = beta s + (1 - beta) g**2``; ``p -= lr * g / (sqrt(s) + eps)``."""

    def __init__(self, lr=0.01, beta=0.9, eps=1e-8):
        super().__init__(lr)
        self.beta = float(beta)
        self.eps = float(eps)

    slots = ("s",)

    def _update(self, p, g, s):
        s *= self.beta
        s += (1 - self.beta) * np.square(g)
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, 2015).

    ``v = b1 v + (1 - b1) g``, ``s = b2 s + (1 - b2) g**2``,
    ``p -= lr * (v / (1 - b1**t)) / (sqrt(s / (1 - b2**t)) + eps)`` with ``t`` the step count.
    On the first step every entry moves by almost exactly ``lr`` (against its gradient's sign).
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.eps = float(eps)

    def _begin_step(self):
        self._c1 = 1.0 - self.beta1 ** self.t
        self._c2 = 1.0 - self.beta2 ** self.t

    slots = ("v", "s", "tmp")

    def _update(self, p, g, v, s, tmp):
        # In-place ufuncs and one scratch array per parameter: no temporaries in the training loops
        # (Adam is the optimizer every trainer of the course uses).
        v *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        v += tmp
        s *= self.beta2
        np.square(g, out=tmp)
        tmp *= 1.0 - self.beta2
        s += tmp
        # sqrt(s / c2) + eps = (sqrt(s) + eps sqrt(c2)) / sqrt(c2): both bias corrections go into
        # the step size, one pass fewer than correcting s itself
        root_c2 = math.sqrt(self._c2)
        np.sqrt(s, out=tmp)
        tmp += self.eps * root_c2
        np.divide(v, tmp, out=tmp)
        tmp *= self.lr * root_c2 / self._c1
        p -= tmp


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}


def make_optimizer(name, **kwargs):
    """An optimizer by name (``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``), e.g.
    ``make_optimizer("adam", lr=1e-3)``."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}") from None
    return cls(**kwargs)
