"""07_rnn's grader-side checks: the reference, the notebook's solution and honest alternatives pass,
realistic bugs fail."""
import warnings

import numpy as np
import pytest

from course.reference import char_model as cm
from course.reference import rnn_utils as ref
from tests.checks.harness import failed, module_namespace, verdicts

ASG = "07_rnn"


def reference():
    return {**module_namespace(ref), "optimize": cm.optimize, "sample": cm.sample}


def notebook_solution():
    """The source notebook's code cells (solutions in) run top to bottom up to the training, as a namespace."""
    from course.paths import COURSE_ROOT
    from course.validation import read_notebook
    folder = COURSE_ROOT / "source" / ASG
    nb = read_notebook(folder / f"{ASG}.ipynb")
    wanted = {"imports", "rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward", "lstm_cell_forward",
              "lstm_forward", "clip", "update_step", "optimize", "sample"}
    ns = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") in wanted:
            exec(compile(cell.source.replace("use_course_style()", ""), "<notebook>", "exec"), ns)
    return {k: v for k, v in ns.items() if callable(v) and not k.startswith("_")}




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def test_the_notebook_solution_passes_everything():
    assert failed(ASG, notebook_solution()) == []


@pytest.mark.slow  # three runs of the whole check suite
def test_every_student_sees_other_inputs_and_passes():
    for student in ("bob", "carol", "dave"):
        v = verdicts(ASG, reference(), student_id=student)
        assert all(x.passed for x in v.values()), {g: x.message for g, x in v.items() if not x.passed}


# --------------------------------------------------------------------------- honest alternatives
def loop_rnn_cell_forward(xt, a_prev, parameters):
    """One example at a time, with 1-D vectors, printing and warning on the way."""
    print("cell forward on", np.shape(xt))
    warnings.warn("a harmless warning")
    n_a, m = a_prev.shape
    n_y = parameters["Wya"].shape[0]
    a_next, y = np.zeros((n_a, m)), np.zeros((n_y, m))
    for j in range(m):
        h = np.tanh(parameters["Waa"] @ a_prev[:, j] + parameters["Wax"] @ xt[:, j] + parameters["ba"][:, 0])
        z = parameters["Wya"] @ h + parameters["by"][:, 0]
        e = np.exp(z - z.max())
        a_next[:, j], y[:, j] = h, e / e.sum()
    return a_next, y, [a_next, a_prev, xt, parameters]      # a list instead of a tuple


def tqdm_rnn_backward(da, caches):
    from tqdm.auto import tqdm
    cells, x = caches
    n_a, m, T = da.shape
    grads = {"dx": np.zeros((x.shape[0], m, T)), "dWax": 0.0, "dWaa": 0.0, "dba": 0.0}
    carry = np.zeros((n_a, m))
    for t in tqdm(range(T - 1, -1, -1), disable=False):
        g = ref.rnn_cell_backward(da[:, :, t] + carry, cells[t])
        grads["dx"][:, :, t] = g["dxt"]
        carry = g["da_prev"]
        for k in ("dWax", "dWaa", "dba"):
            grads[k] = grads[k] + g[k]
    grads["da0"] = carry
    return grads


def replacing_clip(gradients, maxValue):
    for key in list(gradients):
        gradients[key] = np.clip(gradients[key], -maxValue, maxValue)
    return gradients


def minimum_maximum_clip(gradients, maxValue):
    for g in gradients.values():
        np.minimum(g, maxValue, out=g)
        np.maximum(g, -maxValue, out=g)
    return gradients


def loop_optimize(X, Y, a_prev, parameters, learning_rate=0.01):
    """Loss and output gradients with loops over time and examples; plain gradient descent."""
    V = parameters["Wya"].shape[0]
    m, T = X.shape
    x = np.zeros((V, m, T))
    for i in range(m):
        for t in range(T):
            x[X[i, t], i, t] = 1.0
    a, y_hat, caches = ref.rnn_forward(x, a_prev, parameters)
    loss, n = 0.0, 0
    dz = np.zeros_like(y_hat)
    for i in range(m):
        for t in range(T):
            if Y[i, t] >= 0:
                loss -= np.log(y_hat[Y[i, t], i, t])
                n += 1
                dz[:, i, t] = y_hat[:, i, t]
                dz[Y[i, t], i, t] -= 1.0
    dz /= n
    da = np.stack([parameters["Wya"].T @ dz[:, :, t] for t in range(T)], axis=2)
    g = ref.rnn_backward(da, caches)
    grads = {"dWax": g["dWax"], "dWaa": g["dWaa"], "dba": g["dba"],
             "dWya": sum(dz[:, :, t] @ a[:, :, t].T for t in range(T)),
             "dby": dz.sum(axis=(1, 2)).reshape(-1, 1)}
    grads = ref.clip(grads, 5)
    for k in parameters:
        parameters[k] -= learning_rate * grads["d" + k]
    return loss / n, grads, a[:, :, T - 1]


def legacy_sample(parameters, char_to_ix, seed=0, temperature=1.0, max_length=30):
    """The canonical style: np.random.seed and np.random.choice over a list."""
    np.random.seed(seed)
    V, n_a = parameters["by"].shape[0], parameters["Waa"].shape[0]
    x, a = np.zeros((V, 1)), np.zeros((n_a, 1))
    x[char_to_ix["\n"]] = 1
    indices, idx = [], -1
    while idx != char_to_ix["\n"] and len(indices) < max_length:
        a = np.tanh(np.dot(parameters["Wax"], x) + np.dot(parameters["Waa"], a) + parameters["ba"])
        z = (np.dot(parameters["Wya"], a) + parameters["by"]) / temperature
        p = np.exp(z - z.max())
        idx = np.random.choice(list(range(V)), p=(p / p.sum()).ravel())
        indices.append(idx)
        x = np.zeros((V, 1))
        x[idx] = 1
    if indices[-1] != char_to_ix["\n"]:
        indices.append(char_to_ix["\n"])
    return indices


HONEST = [("rnn_cell_forward", loop_rnn_cell_forward), ("rnn_backward", tqdm_rnn_backward),
          ("clip", replacing_clip), ("clip", minimum_maximum_clip), ("optimize", loop_optimize),
          ("sample", legacy_sample)]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("name, fn", HONEST, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HONEST)])
def test_honest_alternatives_pass(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert failed(ASG, {**reference(), name: fn}) == []


# ---------------------------------------------------------------------------------- realistic bugs
def cell_with(activation=np.tanh, bias=True, cache_order=(0, 1, 2, 3), softmax=ref.softmax):
    def rnn_cell_forward(xt, a_prev, parameters):
        z = parameters["Waa"] @ a_prev + parameters["Wax"] @ xt + (parameters["ba"] if bias else 0)
        a_next = activation(z)
        y = softmax(parameters["Wya"] @ a_next + parameters["by"])
        items = (a_next, a_prev, xt, parameters)
        return a_next, y, tuple(items[i] for i in cache_order)
    return rnn_cell_forward


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=0)


def forward_without_feedback(x, a0, parameters):
    a, y, (caches, _) = ref.rnn_forward(x, a0, parameters)
    for t in range(x.shape[2]):   # every step from a0
        a[:, :, t], y[:, :, t], caches[t] = ref.rnn_cell_forward(x[:, :, t], a0, parameters)
    return a, y, (caches, x)


def forward_caches_without_x(x, a0, parameters):
    a, y, (caches, _) = ref.rnn_forward(x, a0, parameters)
    return a, y, caches


def cell_backward_with(grad_from="a_next", dba_axis=1):
    def rnn_cell_backward(da_next, cache):
        a_next, a_prev, xt, p = cache
        dz = (1 - (a_next if grad_from == "a_next" else a_prev) ** 2) * da_next
        return {"dxt": p["Wax"].T @ dz, "da_prev": p["Waa"].T @ dz, "dWax": dz @ xt.T,
                "dWaa": dz @ (a_next if grad_from == "dWaa uses a_next" else a_prev).T,
                "dba": np.sum(dz, axis=dba_axis, keepdims=True) if dba_axis == 1 else dz[:, :1]}
    return rnn_cell_backward


def backward_with(carry=True, accumulate=True, forward_in_time=False, in_place=False):
    def rnn_backward(da, caches):
        cells, x = caches
        n_a, m, T = da.shape
        dx = np.zeros((x.shape[0], m, T))
        sums = {k: 0.0 for k in ("dWax", "dWaa", "dba")}
        da_prevt = np.zeros((n_a, m))
        for t in (range(T) if forward_in_time else reversed(range(T))):
            if in_place:
                da[:, :, t] += da_prevt
                g = ref.rnn_cell_backward(da[:, :, t], cells[t])
            else:
                g = ref.rnn_cell_backward(da[:, :, t] + (da_prevt if carry else 0), cells[t])
            dx[:, :, t] = g["dxt"]
            da_prevt = g["da_prev"]
            for k in sums:
                sums[k] = sums[k] + g[k] if accumulate else g[k]
        return {"dx": dx, "da0": da_prevt, **sums}
    return rnn_backward


def lstm_cell_with(bug):
    def lstm_cell_forward(xt, a_prev, c_prev, p):
        concat = np.concatenate([xt, a_prev] if bug == "concat order" else [a_prev, xt], axis=0)
        sig = naive_sigmoid if bug == "naive sigmoid" else ref.sigmoid
        ft = (np.tanh if bug == "tanh forget gate" else sig)(p["Wf"] @ concat + p["bf"])
        it = sig(p["Wi"] @ concat + p["bi"])
        cct = np.tanh(p["Wc"] @ concat + p["bc"])
        ot = sig(p["Wo"] @ concat + p["bo"])
        c_next = ft * c_prev + (ot if bug == "wrong gate" else it) * cct
        a_next = ot * np.tanh(c_next)
        y = ref.softmax(p["Wy"] @ a_next + p["by"])
        cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)
        if bug == "cache order":
            cache = (a_next, c_next, a_prev, c_prev, it, ft, cct, ot, xt, p)
        return a_next, c_next, y, cache
    return lstm_cell_forward


def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_forward_c0_is_a0(x, a0, p):
    n_x, m, T = x.shape
    n_y, n_a = p["Wy"].shape
    a, y, c, caches = np.zeros((n_a, m, T)), np.zeros((n_y, m, T)), np.zeros((n_a, m, T)), []
    a_next, c_next = a0, a0
    for t in range(T):
        a_next, c_next, yt, cache = ref.lstm_cell_forward(x[:, :, t], a_next, c_next, p)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def copying_clip(gradients, maxValue):
    return {k: np.clip(v, -maxValue, maxValue) for k, v in gradients.items()}


def silent_clip(gradients, maxValue):
    for g in gradients.values():
        np.clip(g, -maxValue, maxValue, out=g)


def one_sided_clip(gradients, maxValue):
    for g in gradients.values():
        np.minimum(g, maxValue, out=g)
    return gradients


def optimize_with(bug):
    def optimize(X, Y, a_prev, parameters, learning_rate=0.01):
        X, Y = np.asarray(X), np.asarray(Y)
        V = parameters["Wya"].shape[0]
        m, T = X.shape
        mask = (Y >= 0).astype(float) if bug != "loss over padding" else np.ones(Y.shape)
        n = mask.sum()
        a, y_hat, caches = ref.rnn_forward(cm.one_hot_sequence(X, V), a_prev, parameters)
        y = cm.one_hot_sequence(np.where(Y >= 0, Y, 0), V) * mask
        loss = float(-np.sum(y * np.log(y_hat + 1e-12)) / n)
        dz = (y_hat - y) * (mask if bug != "no mask in gradient" else 1.0) / n
        g = ref.rnn_backward(np.einsum("va,vmt->amt", parameters["Wya"], dz), caches)
        grads = {"dWax": g["dWax"], "dWaa": g["dWaa"], "dba": g["dba"],
                 "dWya": np.einsum("vmt,amt->va", dz, a), "dby": dz.sum(axis=(1, 2))[:, None]}
        if bug != "no clip":
            ref.clip(grads, 5)
        if bug != "no update":
            cm.update_parameters(parameters, grads, learning_rate)
        return loss, grads, a[:, :, 0 if bug == "first state" else -1]
    return optimize


def sample_with(bug):
    def sample(parameters, char_to_ix, seed=0, temperature=1.0, max_length=30):
        rng = np.random.default_rng(None if bug == "unseeded" else seed)
        V, n_a = parameters["by"].shape[0], parameters["Waa"].shape[0]
        x, a = np.zeros((V, 1)), np.zeros((n_a, 1))
        if bug != "zero first input":
            x[char_to_ix["\n"]] = 1.0
        out = []
        while len(out) < max_length:
            a = np.tanh(parameters["Wax"] @ x + parameters["Waa"] @ (a if bug != "no state" else 0 * a)
                        + parameters["ba"])
            z = parameters["Wya"] @ a + parameters["by"]
            p = ref.softmax(z if bug == "no temperature" else z / temperature).ravel()
            idx = int(np.argmax(p)) if bug == "argmax" else int(rng.choice(V, p=p))
            out.append(idx)
            if idx == char_to_ix["\n"]:
                return out
            x = np.zeros((V, 1))
            x[idx if bug != "input not fed back" else char_to_ix["\n"]] = 1.0
        if bug != "no newline at max_length":
            out.append(char_to_ix["\n"])
        return out
    return sample


MUTANTS = [
    ("rnn_cell_forward", cell_with(activation=ref.sigmoid), "test_rnn_cell_forward"),
    ("rnn_cell_forward", cell_with(bias=False), "test_rnn_cell_forward"),
    ("rnn_cell_forward", cell_with(cache_order=(1, 0, 2, 3)), "test_rnn_cell_forward"),
    ("rnn_cell_forward", cell_with(softmax=naive_softmax), "test_rnn_cell_forward"),
    ("rnn_cell_forward", cell_with(softmax=lambda z: ref.softmax(z.T).T), "test_rnn_cell_forward"),
    ("rnn_forward", forward_without_feedback, "test_rnn_forward"),
    ("rnn_forward", forward_caches_without_x, "test_rnn_forward"),
    ("rnn_cell_backward", cell_backward_with(grad_from="a_prev"), "test_rnn_cell_backward"),
    ("rnn_cell_backward", cell_backward_with(grad_from="dWaa uses a_next"), "test_rnn_cell_backward"),
    ("rnn_cell_backward", cell_backward_with(dba_axis=None), "test_rnn_cell_backward"),
    ("rnn_backward", backward_with(carry=False), "test_rnn_backward"),
    ("rnn_backward", backward_with(accumulate=False), "test_rnn_backward"),
    ("rnn_backward", backward_with(forward_in_time=True), "test_rnn_backward"),
    ("rnn_backward", backward_with(in_place=True), "test_rnn_backward"),
    ("lstm_cell_forward", lstm_cell_with("wrong gate"), "test_lstm_cell_forward"),
    ("lstm_cell_forward", lstm_cell_with("tanh forget gate"), "test_lstm_cell_forward"),
    ("lstm_cell_forward", lstm_cell_with("concat order"), "test_lstm_cell_forward"),
    ("lstm_cell_forward", lstm_cell_with("cache order"), "test_lstm_cell_forward"),
    ("lstm_cell_forward", lstm_cell_with("naive sigmoid"), "test_lstm_cell_forward"),
    ("lstm_forward", lstm_forward_c0_is_a0, "test_lstm_forward"),
    ("clip", copying_clip, "test_clip"),
    ("clip", silent_clip, "test_clip"),
    ("clip", one_sided_clip, "test_clip"),
    ("optimize", optimize_with("loss over padding"), "test_optimize"),
    ("optimize", optimize_with("no mask in gradient"), "test_optimize"),
    ("optimize", optimize_with("no clip"), "test_optimize"),
    ("optimize", optimize_with("no update"), "test_optimize"),
    ("optimize", optimize_with("first state"), "test_optimize"),
    ("sample", sample_with("zero first input"), "test_sample"),
    ("sample", sample_with("no state"), "test_sample"),
    ("sample", sample_with("no temperature"), "test_sample"),
    ("sample", sample_with("argmax"), "test_sample"),
    ("sample", sample_with("unseeded"), "test_sample"),
    ("sample", sample_with("input not fed back"), "test_sample"),
    ("sample", sample_with("no newline at max_length"), "test_sample"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grade_id in failed(ASG, {**reference(), name: fn}, only=[grade_id])


def test_optimize_passes_with_the_honest_mutant_base():
    """The bugs above are single changes of a correct optimize and sample."""
    assert failed(ASG, {**reference(), "optimize": optimize_with(None), "sample": sample_with(None)},
                  only=["test_optimize", "test_sample"]) == []


def test_a_failed_dependency_is_named_in_the_hint():
    broken = {"rnn_cell_forward": cell_with(bias=False), "rnn_forward": forward_without_feedback}
    v = verdicts(ASG, {**reference(), **broken}, only=["test_rnn_cell_forward", "test_rnn_forward"])
    assert not v["test_rnn_forward"].passed and "fix test_rnn_cell_forward first" in v["test_rnn_forward"].message


def optimize_with_unclipped_update(X, Y, a_prev, parameters, learning_rate=0.01, optimizer=None, clip_value=5.0):
    """Updates with the raw gradients, then returns clipped ones: only the parameters show it."""
    import copy
    loss, gradients, a = cm.names_loss_and_grads(X, Y, a_prev, parameters)
    cm.update_parameters(parameters, copy.deepcopy(gradients), learning_rate)
    ref.clip(gradients, clip_value)
    return loss, gradients, a[:, :, -1]


def test_an_update_with_unclipped_gradients_fails():
    namespace = {**reference(), "optimize": optimize_with_unclipped_update}
    assert "test_optimize" in failed("07_rnn", namespace, only=["test_optimize"])
