"""05_optimizers' grader-side checks: the reference and honest alternatives pass, realistic bugs fail."""
import math
import warnings

import numpy as np
import pytest

from course.reference import minibatch as ref_mb
from course.reference import optimizers as ref
from tests.checks.harness import checks_of, failed, module_namespace, verdicts

ASG = "05_optimizers"


def reference():
    return {**module_namespace(ref), **module_namespace(ref_mb)}




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def test_the_same_student_gets_the_same_inputs_and_others_other_ones():
    a = verdicts(ASG, reference(), student_id="alice")
    b = verdicts(ASG, reference(), student_id="bob")
    assert all(v.passed for v in a.values()) and all(v.passed for v in b.values())


def test_nothing_is_ever_computed_by_the_reference_in_place():
    """Calling the checks must not change the module-level inputs of the visible tests."""
    import sys
    checks_of(ASG)  # loads the module
    consts = sys.modules["course_checks_05_optimizers"]
    before = {k: v.copy() for k, v in consts.EXAMPLE_PARAMETERS.items()}
    failed(ASG, reference())
    for k, v in before.items():
        np.testing.assert_array_equal(consts.EXAMPLE_PARAMETERS[k], v)


# ------------------------------------------------------------------ honest alternatives
def loop_expand(X):
    X = np.asarray(X, dtype=float)
    out = np.empty((6, X.shape[1]))
    for i in range(X.shape[1]):
        a, b = X[0, i], X[1, i]
        out[:, i] = [a, b, a * a, b * b, a * b, 1.0]
    return out


def where_probability(X, w):
    z = w.T @ X
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softplus_loss(X, y, w):
    z = (w.T @ X).ravel()
    y = np.ravel(y)
    total = 0.0
    for zi, yi in zip(z, y):          # log(1 + e^z) written out stably, one example at a time
        total += max(zi, 0.0) + math.log1p(math.exp(-abs(zi))) - yi * zi
    return total / len(z)


def naive_sigmoid_grad(X, y, w):      # overflows with a warning for z = -1000, but the value is right
    with np.errstate(over="ignore"):
        p = 1 / (1 + np.exp(-(w.T @ X)))
    return np.dot(X, (p - y).T) / X.shape[1]


def canonical_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The deeplearning.ai exercise's version: floor(m / size) full batches, then the rest."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation]
    mini_batches = []
    num_complete = math.floor(m / mini_batch_size)
    for k in range(num_complete):
        mini_batches.append((shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size],
                             shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]))
    if m % mini_batch_size != 0:
        mini_batches.append((shuffled_X[:, num_complete * mini_batch_size:],
                             shuffled_Y[:, num_complete * mini_batch_size:]))
    return mini_batches


def list_pairs_mini_batches(X, Y, mini_batch_size=64, seed=0):
    print("making mini-batches of", mini_batch_size)
    return [[bx, by] for bx, by in ref_mb.random_mini_batches(X, Y, mini_batch_size, seed)]


def inplace_gd(parameters, grads, learning_rate):
    for name in parameters:
        parameters[name] -= learning_rate * grads["d" + name]
    return parameters


def float32_gd(parameters, grads, learning_rate):
    return {k: (np.float32(1) * v.astype(np.float32) - np.float32(learning_rate) * grads["d" + k].astype(np.float32))
            for k, v in parameters.items()}


def loop_velocity(parameters):
    v = {}
    for key in parameters.keys():
        v["d" + key] = np.zeros(parameters[key].shape)
    return v


def inplace_momentum(parameters, grads, v, beta, learning_rate):
    for name in parameters:
        v["d" + name] *= beta
        v["d" + name] += (1 - beta) * grads["d" + name]
        parameters[name] -= learning_rate * v["d" + name]
    return parameters, v


def float32_rmsprop(parameters, grads, s, beta=0.9, learning_rate=0.01, epsilon=1e-8):
    new_p, new_s = {}, {}
    for name, p in parameters.items():
        g = grads["d" + name].astype(np.float32)
        new_s["d" + name] = np.float32(beta) * s["d" + name].astype(np.float32) + np.float32(1 - beta) * g * g
        step = np.float32(learning_rate) * g / (np.sqrt(new_s["d" + name]) + np.float32(epsilon))
        new_p[name] = p.astype(np.float32) - step
    return new_p, new_s


def two_loops_adam_init(parameters):
    v, s = {}, {}
    for k in parameters:
        v["d" + k] = np.zeros_like(parameters[k])
    for k in parameters:
        s["d" + k] = np.zeros(parameters[k].shape)
    return (v, s)


def float32_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    warnings.warn("computing in float32")
    f = np.float32
    vc, sc = {}, {}
    for name in parameters:
        k = "d" + name
        g = grads[k].astype(f)
        v[k] = f(beta1) * v[k].astype(f) + f(1 - beta1) * g
        s[k] = f(beta2) * s[k].astype(f) + f(1 - beta2) * np.square(g)
        vc[k] = v[k] / f(1 - beta1 ** t)
        sc[k] = s[k] / f(1 - beta2 ** t)
        parameters[name] = parameters[name].astype(f) - f(learning_rate) * vc[k] / (np.sqrt(sc[k]) + f(epsilon))
    return parameters, v, s, vc, sc


def inplace_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    v_corrected, s_corrected = {}, {}
    for name in parameters:
        k = "d" + name
        v[k] *= beta1
        v[k] += (1 - beta1) * grads[k]
        s[k] *= beta2
        s[k] += (1 - beta2) * grads[k] ** 2
        v_corrected[k] = v[k] / (1 - np.power(beta1, t))
        s_corrected[k] = s[k] / (1 - np.power(beta2, t))
        parameters[name] -= learning_rate * v_corrected[k] / (np.sqrt(s_corrected[k]) + epsilon)
    return parameters, v, s, v_corrected, s_corrected


HONEST = [
    ("expand", loop_expand),
    ("expand", lambda X: np.array([X[0], X[1], X[0] ** 2, X[1] ** 2, X[0] * X[1], np.ones(np.shape(X)[1])], dtype=float)),
    ("probability", where_probability),
    ("probability", lambda X, w: np.exp(-np.logaddexp(0, -(w.T @ X)))),
    ("compute_loss", softplus_loss),
    ("compute_loss", lambda X, y, w: np.mean(np.logaddexp(0, w.T @ X) - y * (w.T @ X))),
    ("compute_grad", naive_sigmoid_grad),
    ("random_mini_batches", canonical_mini_batches),
    ("random_mini_batches", list_pairs_mini_batches),
    ("update_parameters_with_gd", inplace_gd),
    ("update_parameters_with_gd", float32_gd),
    ("initialize_velocity", loop_velocity),
    ("update_parameters_with_momentum", inplace_momentum),
    ("update_parameters_with_rmsprop", float32_rmsprop),
    ("initialize_adam", two_loops_adam_init),
    ("update_parameters_with_adam", float32_adam),
    ("update_parameters_with_adam", inplace_adam),
    ("update_lr", lambda lr0, e, d: np.float64(lr0) * (1.0 / (1.0 + d * e))),
    ("schedule_lr_decay", lambda lr0, e, d, time_interval=1000: lr0 / (1 + d * (e // time_interval))),
    ("schedule_lr_decay", lambda lr0, e, d, time_interval=1000: lr0 / (1 + d * math.floor(e / time_interval))),
]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("name, fn", HONEST, ids=[f"{h[0]}-{i}" for i, h in enumerate(HONEST)])
def test_honest_alternatives_pass(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert failed(ASG, {**reference(), name: fn}) == []


# ------------------------------------------------------------------ realistic bugs
def loss_from_probabilities(X, y, w):
    with np.errstate(all="ignore"):
        p = ref.probability(X, w)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def clipped_loss(X, y, w):
    p = np.clip(ref.probability(X, w), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def unshuffled_batches(X, Y, mini_batch_size=64, seed=0):
    m = X.shape[1]
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in range(0, m, mini_batch_size)]


def two_permutations(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    sx = X[:, np.random.permutation(m)]
    sy = Y[:, np.random.permutation(m)]
    return [(sx[:, k:k + mini_batch_size], sy[:, k:k + mini_batch_size]) for k in range(0, m, mini_batch_size)]


def drop_last(X, Y, mini_batch_size=64, seed=0):
    batches = ref_mb.random_mini_batches(X, Y, mini_batch_size, seed)
    m = X.shape[1]
    return batches[:m // mini_batch_size]


def other_generator(X, Y, mini_batch_size=64, seed=0):
    perm = np.random.default_rng(seed).permutation(X.shape[1])
    sx, sy = X[:, perm], Y[:, perm]
    return [(sx[:, k:k + mini_batch_size], sy[:, k:k + mini_batch_size]) for k in range(0, X.shape[1], mini_batch_size)]


def unseeded(X, Y, mini_batch_size=64, seed=0):
    perm = np.random.permutation(X.shape[1])
    sx, sy = X[:, perm], Y[:, perm]
    return [(sx[:, k:k + mini_batch_size], sy[:, k:k + mini_batch_size]) for k in range(0, X.shape[1], mini_batch_size)]


def y_as_one_row(X, Y, mini_batch_size=64, seed=0):   # the exercise's reshape((1, m)): breaks Y with 2 rows
    np.random.seed(seed)
    m = X.shape[1]
    perm = np.random.permutation(m)
    sx, sy = X[:, perm], Y[:, perm].reshape((1, -1))
    return [(sx[:, k:k + mini_batch_size], sy[:, k:k + mini_batch_size]) for k in range(0, m, mini_batch_size)]


def layers_only_gd(parameters, grads, learning_rate):    # deeplearning.ai's W1, b1, ... loop: no 'w'
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters


def _adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8, bug=""):
    vc, sc = {}, {}
    for name in parameters:
        k = "d" + name
        g = grads[k]
        b1, b2 = (beta2, beta1) if bug == "swap" else (beta1, beta2)
        v[k] = b1 * v[k] + (1 - b1) * g
        s[k] = b2 * s[k] + (1 - b2) * g ** 2
        tt = {"t1": 1, "t+1": t + 1}.get(bug, t)
        vc[k] = v[k] if bug == "nocorr" else v[k] / (1 - b1 ** tt)
        sc[k] = s[k] if bug == "nocorr" else s[k] / (1 - b2 ** tt)
        if bug == "overwrite":
            v[k] = vc[k]
        denominator = np.sqrt(sc[k] + epsilon) if bug == "eps_in_sqrt" else np.sqrt(sc[k]) + epsilon
        sign = -1 if bug == "sign" else 1
        parameters[name] = parameters[name] - sign * learning_rate * vc[k] / denominator
    return parameters, v, s, vc, sc


_counter = {"t": 0}


def own_counter_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    _counter["t"] += 1                                   # ignores t: counts its own calls
    return _adam(parameters, grads, v, s, _counter["t"], learning_rate, beta1, beta2, epsilon)


def adam_bug(bug):
    return lambda *a, **k: _adam(*a, **k, bug=bug)


def _momentum(parameters, grads, v, beta, learning_rate, bug=""):
    new_v = {}
    for name in parameters:
        k = "d" + name
        old = v[k]
        new_v[k] = beta * v[k] + (grads[k] if bug == "no_1-beta" else (1 - beta) * grads[k])
        step = old if bug == "old_v" else new_v[k]
        parameters[name] = parameters[name] + (1 if bug == "sign" else -1) * learning_rate * step
    return parameters, (v if bug == "stale_v" else new_v)


def momentum_bug(bug):
    return lambda *a, **k: _momentum(*a, **k, bug=bug)


def _rmsprop(parameters, grads, s, beta=0.9, learning_rate=0.01, epsilon=1e-8, bug=""):
    for name in parameters:
        k = "d" + name
        g = grads[k]
        g2 = g if bug == "nosquare" else g ** 2
        s[k] = (1 - beta) * s[k] + beta * g2 if bug == "swap" else beta * s[k] + (1 - beta) * g2
        denominator = {"eps_in_sqrt": lambda: np.sqrt(s[k] + epsilon),
                       "nosqrt": lambda: s[k] + epsilon}.get(bug, lambda: np.sqrt(s[k]) + epsilon)()
        parameters[name] = parameters[name] - learning_rate * g / denominator
    return parameters, s


def rmsprop_bug(bug):
    return lambda *a, **k: _rmsprop(*a, **k, bug=bug)


SCHEDULE = "test_schedule_lr_decay"
MUTANTS = [
    ("expand", lambda X: np.vstack([X[0], X[1], X[0] * X[1], X[0] ** 2, X[1] ** 2, np.ones(X.shape[1])]), "test_expand"),
    ("expand", lambda X: ref.expand(X).T, "test_expand"),
    ("expand", lambda X: ref.expand(X)[:5], "test_expand"),
    ("probability", lambda X, w: 1 / (1 + np.exp(-(w.T @ X))), "test_probability"),
    ("probability", lambda X, w: ref.probability(X, w).T, "test_probability"),
    ("probability", lambda X, w: 1 - ref.probability(X, w), "test_probability"),
    ("compute_loss", loss_from_probabilities, "test_compute_loss"),
    ("compute_loss", clipped_loss, "test_compute_loss"),
    ("compute_loss", lambda X, y, w: ref.compute_loss(X, y, w) * X.shape[1], "test_compute_loss"),
    ("compute_grad", lambda X, y, w: ref.compute_grad(X, y, w) * X.shape[1], "test_compute_grad"),
    ("compute_grad", lambda X, y, w: -ref.compute_grad(X, y, w), "test_compute_grad"),
    ("compute_grad", lambda X, y, w: ref.compute_grad(X, y, w).T, "test_compute_grad"),
    ("random_mini_batches", unshuffled_batches, "test_random_mini_batches"),
    ("random_mini_batches", two_permutations, "test_random_mini_batches"),
    ("random_mini_batches", drop_last, "test_random_mini_batches"),
    ("random_mini_batches", other_generator, "test_random_mini_batches"),
    ("random_mini_batches", unseeded, "test_random_mini_batches"),
    ("random_mini_batches", y_as_one_row, "test_random_mini_batches"),
    ("update_parameters_with_gd", lambda p, g, lr: {k: v + lr * g["d" + k] for k, v in p.items()},
     "test_update_parameters_with_gd"),
    ("update_parameters_with_gd", layers_only_gd, "test_update_parameters_with_gd"),
    ("update_parameters_with_gd", lambda p, g, lr: {k: v - lr * g["d" + k] for k, v in p.items() if k.startswith("W")},
     "test_update_parameters_with_gd"),
    ("initialize_velocity", lambda p: {"d" + k: np.ones_like(v) for k, v in p.items()}, "test_initialize_velocity"),
    ("initialize_velocity", lambda p: {"d" + k: np.zeros((v.shape[0], 1)) for k, v in p.items()},
     "test_initialize_velocity"),
    ("initialize_velocity", lambda p: {k: np.zeros_like(v) for k, v in p.items()}, "test_initialize_velocity"),
    ("initialize_velocity", lambda p: {"d" + k: np.zeros(v.shape, dtype=int) for k, v in p.items()},
     "test_initialize_velocity"),
    ("update_parameters_with_momentum", momentum_bug("no_1-beta"), "test_update_parameters_with_momentum"),
    ("update_parameters_with_momentum", momentum_bug("old_v"), "test_update_parameters_with_momentum"),
    ("update_parameters_with_momentum", momentum_bug("sign"), "test_update_parameters_with_momentum"),
    ("update_parameters_with_momentum", momentum_bug("stale_v"), "test_update_parameters_with_momentum"),
    ("update_parameters_with_momentum", lambda p, g, v, beta, lr: _momentum(p, g, v, beta, lr)[0],
     "test_update_parameters_with_momentum"),
    ("update_parameters_with_rmsprop", rmsprop_bug("swap"), "test_update_parameters_with_rmsprop"),
    ("update_parameters_with_rmsprop", rmsprop_bug("nosquare"), "test_update_parameters_with_rmsprop"),
    ("update_parameters_with_rmsprop", rmsprop_bug("eps_in_sqrt"), "test_update_parameters_with_rmsprop"),
    ("update_parameters_with_rmsprop", rmsprop_bug("nosqrt"), "test_update_parameters_with_rmsprop"),
    ("initialize_adam", lambda p: ref.initialize_velocity(p), "test_initialize_adam"),
    ("initialize_adam", lambda p: (ref.initialize_velocity(p), {k: np.zeros_like(v) for k, v in p.items()}),
     "test_initialize_adam"),
    ("initialize_adam", lambda p: tuple({"d" + k: np.zeros(v.shape[::-1]) for k, v in p.items()} for _ in range(2)),
     "test_initialize_adam"),
    ("update_parameters_with_adam", adam_bug("nocorr"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", adam_bug("swap"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", adam_bug("t1"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", adam_bug("t+1"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", adam_bug("overwrite"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", adam_bug("eps_in_sqrt"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", adam_bug("sign"), "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", own_counter_adam, "test_update_parameters_with_adam"),
    ("update_parameters_with_adam", lambda *a, **k: _adam(*a, **k)[:3], "test_update_parameters_with_adam"),
    ("update_lr", lambda lr0, e, d: lr0 / (1 + d) * e, "test_update_lr"),
    ("update_lr", lambda lr0, e, d: lr0 * d ** e, "test_update_lr"),
    ("update_lr", lambda lr0, e, d: lr0 / (d * e) if e else lr0, "test_update_lr"),
    ("schedule_lr_decay", lambda lr0, e, d, time_interval=1000: lr0 / (1 + d * e / time_interval), SCHEDULE),
    ("schedule_lr_decay", lambda lr0, e, d, time_interval=1000: lr0 / (1 + d * round(e / time_interval)), SCHEDULE),
    ("schedule_lr_decay", lambda lr0, e, d, time_interval=1000: lr0 / (1 + d * (e % time_interval)), SCHEDULE),
    ("schedule_lr_decay", lambda lr0, e, d, time_interval=100: lr0 / (1 + d * (e // time_interval)), SCHEDULE),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    _counter["t"] = 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grade_id in failed(ASG, {**reference(), name: fn}, only={grade_id})


def test_a_bug_fails_only_its_own_cell():
    bad = {**reference(), "update_parameters_with_adam": adam_bug("nocorr")}
    assert failed(ASG, bad) == ["test_update_parameters_with_adam"]


@pytest.mark.parametrize("fn, words", [
    (drop_last, "keep the last"),
    (two_permutations, "same permutation"),
    (unshuffled_batches, "np.random.seed"),
    (loss_from_probabilities, "Compute it from z"),
    (clipped_loss, "np.logaddexp"),
])
def test_messages_point_at_the_fix(fn, words):
    name = "compute_loss" if fn in (loss_from_probabilities, clipped_loss) else "random_mini_batches"
    with np.errstate(all="ignore"):
        v = verdicts(ASG, {**reference(), name: fn}, only={"test_compute_loss", "test_random_mini_batches"})
    assert words in v[f"test_{name}"].message, v[f"test_{name}"].message


def test_a_function_that_is_not_written_fails_with_its_name():
    def not_written(*args, **kwargs):
        raise NotImplementedError()
    v = verdicts(ASG, {**reference(), "update_parameters_with_adam": not_written},
                 only={"test_update_parameters_with_adam"})
    assert not v["test_update_parameters_with_adam"].passed
    assert "NotImplementedError" in v["test_update_parameters_with_adam"].message
