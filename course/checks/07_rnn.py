"""Grader-side tests of 07_rnn: random sizes, large weights, finite differences, caches, inputs kept.

Each test calls the student's function in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.rnn_utils`` (the cells, the sequences, ``clip``) and
``course.reference.char_model`` (``optimize``, ``sample``). Caches cross the boundary as plain
data: tuples (or lists) of arrays and the parameters dict. The visible tests' expected values come
from the ``expected`` functions below (written to ``expected.json`` by ``course build``); their
inputs are drawn exactly as the notebook draws them (``np.random.seed(...)`` then ``randn``).
"""
import numpy as np

from course.checks import CheckFailed, Checks, check_close, check_finite, check_gradient, numerical_gradient
from course.grading.bridge import StudentError
from course.reference import char_model as cm
from course.reference import rnn_utils as ref

checks = Checks("07_rnn")
STRICT = {"over": "raise", "invalid": "raise"}
CELL_CACHE = ["a_next", "a_prev", "xt", "parameters"]
LSTM_CACHE = ["a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt", "parameters"]
RNN_GRADS = ["dxt", "da_prev", "dWax", "dWaa", "dba"]
SMALL_VOCAB = {"\n": 0, "a": 1, "b": 2, "c": 3, "d": 4}
TV_TOLERANCE = 0.1  # of 400 draws from 5 classes: about 0.04 on average, above 0.1 about once in 10^4


# ------------------------------------------------------------------ inputs of the visible tests
def visible_rnn_cell(T=None):
    """The notebook's ``np.random.seed(1)`` draws for the basic cell (T=None) or sequence."""
    r = np.random.RandomState(1)
    x = r.randn(3, 10) if T is None else r.randn(3, 10, T)
    a = r.randn(5, 10)
    p = {"Waa": r.randn(5, 5), "Wax": r.randn(5, 3), "Wya": r.randn(2, 5), "ba": r.randn(5, 1), "by": r.randn(2, 1)}
    return x, a, p, r


def visible_rnn_backward(T=None):
    r = np.random.RandomState(1)
    x = r.randn(3, 10) if T is None else r.randn(3, 10, T)
    a = r.randn(5, 10)
    p = {"Wax": r.randn(5, 3), "Waa": r.randn(5, 5), "Wya": r.randn(2, 5), "ba": r.randn(5, 1), "by": r.randn(2, 1)}
    return x, a, p, r


def lstm_parameters(r, n_a=5, n_x=3, n_y=2):
    """Draws in the canonical order Wf, bf, Wi, bi, Wo, bo, Wc, bc, Wy, by (``lstm_test_parameters``)."""
    p = {}
    for key, shape in [("Wf", (n_a, n_a + n_x)), ("bf", (n_a, 1)), ("Wi", (n_a, n_a + n_x)), ("bi", (n_a, 1)),
                       ("Wo", (n_a, n_a + n_x)), ("bo", (n_a, 1)), ("Wc", (n_a, n_a + n_x)), ("bc", (n_a, 1)),
                       ("Wy", (n_y, n_a)), ("by", (n_y, 1))]:
        p[key] = r.randn(*shape)
    return p


def visible_lstm_cell():
    r = np.random.RandomState(1)
    xt, a_prev, c_prev = r.randn(3, 10), r.randn(5, 10), r.randn(5, 10)
    return xt, a_prev, c_prev, lstm_parameters(r)


def visible_lstm(T=7):
    r = np.random.RandomState(1)
    x, a0 = r.randn(3, 10, T), r.randn(5, 10)
    return x, a0, lstm_parameters(r)


def visible_clip():
    r = np.random.RandomState(3)
    return {"dWax": r.randn(5, 3) * 10, "dWaa": r.randn(5, 5) * 10, "dWya": r.randn(2, 5) * 10,
            "db": r.randn(5, 1) * 10, "dby": r.randn(2, 1) * 10}


NAMES_VISIBLE = ["ada", "bea", "cedric"]


def visible_names_model(V=27, n_a=8, seed=2):
    """The small random model of the visible tests of ``optimize`` and ``sample``."""
    r = np.random.RandomState(seed)
    return {"Wax": r.randn(n_a, V) * 0.5, "Waa": r.randn(n_a, n_a) * 0.5, "Wya": r.randn(V, n_a),
            "ba": r.randn(n_a, 1) * 0.1, "by": r.randn(V, 1) * 0.1}


def char_to_ix():
    return cm.build_vocab()[0]


def copy_params(p):
    return {k: np.array(v, dtype=float, copy=True) for k, v in p.items()}


# -------------------------------------------------------------------------- expected values
@checks.expected("rnn_cell_forward")
def _():
    xt, a_prev, p, _ = visible_rnn_cell()
    a_next, yt, _ = ref.rnn_cell_forward(xt, a_prev, p)
    return {"a_next[4]": a_next[4], "yt_pred[1]": yt[1]}


@checks.expected("rnn_forward")
def _():
    x, a0, p, _ = visible_rnn_cell(T=4)
    a, y, _ = ref.rnn_forward(x, a0, p)
    return {"a[4][1]": a[4][1], "y_pred[1][3]": y[1][3]}


@checks.expected("rnn_cell_backward")
def _():
    xt, a_prev, p, r = visible_rnn_backward()
    cache = ref.rnn_cell_forward(xt, a_prev, p)[2]
    g = ref.rnn_cell_backward(r.randn(5, 10), cache)
    return {"dxt[1][2]": g["dxt"][1][2], "da_prev[2][3]": g["da_prev"][2][3], "dWax[3][1]": g["dWax"][3][1],
            "dWaa[1][2]": g["dWaa"][1][2], "dba[4]": g["dba"][4]}


@checks.expected("rnn_backward")
def _():
    x, a0, p, r = visible_rnn_backward(T=4)
    caches = ref.rnn_forward(x, a0, p)[2]
    g = ref.rnn_backward(r.randn(5, 10, 4), caches)
    return {"dx[1][2]": g["dx"][1][2], "da0[2][3]": g["da0"][2][3], "dWax[3][1]": g["dWax"][3][1],
            "dWaa[1][2]": g["dWaa"][1][2], "dba[4]": g["dba"][4]}


@checks.expected("lstm_cell_forward")
def _():
    a, c, y, _ = ref.lstm_cell_forward(*visible_lstm_cell())
    return {"a_next[4]": a[4], "c_next[2]": c[2], "yt[1][:4]": y[1][:4]}


@checks.expected("lstm_forward")
def _():
    a, y, c, _ = ref.lstm_forward(*visible_lstm())
    return {"a[4][3][6]": a[4][3][6], "y[1][4][3]": y[1][4][3], "c[1][2][1]": c[1][2][1]}


@checks.expected("clip")
def _():
    g = ref.clip(visible_clip(), 10)
    return {"dWaa[1][2]": g["dWaa"][1][2], "dWax[3][1]": g["dWax"][3][1], "dWya[1][2]": g["dWya"][1][2],
            "db[4]": g["db"][4], "dby[1]": g["dby"][1]}


@checks.expected("optimize")
def _():
    X, Y = cm.pad_names(NAMES_VISIBLE, char_to_ix())
    p = visible_names_model()
    loss, g, a_last = cm.optimize(X, Y, np.zeros((8, 3)), p, learning_rate=0.01)
    return {"loss": loss, "dWaa[1][2]": g["dWaa"][1][2], "dWya[3][4]": g["dWya"][3][4], "dby[1]": g["dby"][1],
            "a_last[:, 0]": a_last[:, 0], "Wya[3][4] after": p["Wya"][3][4]}


@checks.expected("sample")
def _():
    return cm.sample(visible_names_model(seed=4), char_to_ix(), seed=0, temperature=1e-3)


# ------------------------------------------------------------------------------ helpers
def random_rnn_params(rng, n_x, n_a, n_y, recurrent=1.0):
    return {"Wax": rng.standard_normal((n_a, n_x)), "Waa": rng.standard_normal((n_a, n_a)) * recurrent,
            "Wya": rng.standard_normal((n_y, n_a)), "ba": rng.standard_normal((n_a, 1)),
            "by": rng.standard_normal((n_y, 1))}


def random_lstm_params(rng, n_x, n_a, n_y):
    return lstm_parameters(np.random.RandomState(int(rng.integers(2**31))), n_a, n_x, n_y)


def check_sequence(value, length, what):
    if not isinstance(value, (tuple, list)):
        raise AssertionError(f"{what} should be a tuple, got {type(value).__name__}.")
    if len(value) != length:
        raise AssertionError(f"{what} should hold {length} items, it holds {len(value)}.")


def check_cell_cache(got, want, names, what):
    check_sequence(got, len(names), what)
    for i, name in enumerate(names[:-1]):
        check_close(got[i], want[i], f"{what}[{i}] ({name})")
    params = got[-1]
    if not isinstance(params, dict) or not set(params) >= set(want[-1]):
        raise AssertionError(f"{what}[{len(names) - 1}] should be the parameters dict.")
    for k in want[-1]:
        check_close(params[k], want[-1][k], f"{what}[{len(names) - 1}]['{k}'] (the parameters)")


def check_sequence_caches(got, want, cell_names, what="caches"):
    check_sequence(got, 2, f"{what} (the pair: list of cell caches, x)")
    cells, x = got
    T = len(want[0])
    if not isinstance(cells, (list, tuple)) or len(cells) != T:
        raise AssertionError(f"{what}[0] should hold one cell cache per time step ({T}).")
    check_close(x, want[1], f"{what}[1] (the input x)")
    for t in range(T):
        check_cell_cache(cells[t], want[0][t], cell_names, f"{what}[0][{t}] (the cache of step {t})")


def modifies_argument(fn, args, kwargs, position):
    """Whether calling ``fn`` changed its argument number ``position`` (1-based), as seen by ``pure``."""
    try:
        fn.call(args, kwargs, pure=True)
    except StudentError:
        raise
    except CheckFailed as err:
        return f"argument {position}" in str(err)
    return False


# ------------------------------------------------------------------------------- the tests
@checks.test("test_rnn_cell_forward")
def _(student, rng):
    xt, a_prev, p, _ = visible_rnn_cell()
    got = student.rnn_cell_forward(xt, a_prev, p)
    want = ref.rnn_cell_forward(xt, a_prev, p)
    check_sequence(got, 3, "rnn_cell_forward's result (a_next, yt_pred, cache)")
    check_close(got[0], want[0], "a_next on the visible test's input")
    check_close(got[1], want[1], "yt_pred on the visible test's input")
    check_cell_cache(got[2], want[2], CELL_CACHE, "cache")
    for _ in range(3):
        n_x, n_a, n_y, m = (int(v) for v in rng.integers(1, 7, size=4))
        xt, a_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
        p = random_rnn_params(rng, n_x, n_a, n_y)
        got, want = student.rnn_cell_forward.pure(xt, a_prev, p), ref.rnn_cell_forward(xt, a_prev, p)
        size = f"n_x={n_x}, n_a={n_a}, n_y={n_y}, m={m}"
        check_close(got[0], want[0], f"a_next for {size}")
        check_close(got[1], want[1], f"yt_pred for {size}")
        check_cell_cache(got[2], want[2], CELL_CACHE, f"cache for {size}")
    xt, a_prev, p, _ = visible_rnn_cell()
    big = {k: 300.0 * v for k, v in p.items()}
    got = student.rnn_cell_forward.call([xt, a_prev, big], errstate=STRICT)
    check_finite(got[1], "yt_pred with large weights (use the stable softmax)")
    check_close(got[1], ref.rnn_cell_forward(xt, a_prev, big)[1], "yt_pred with large weights")


@checks.test("test_rnn_forward", needs=["test_rnn_cell_forward"])
def _(student, rng):
    x, a0, p, _ = visible_rnn_cell(T=4)
    got, want = student.rnn_forward(x, a0, p), ref.rnn_forward(x, a0, p)
    check_sequence(got, 3, "rnn_forward's result (a, y_pred, caches)")
    check_close(got[0], want[0], "a on the visible test's input")
    check_close(got[1], want[1], "y_pred on the visible test's input")
    for T in (1, 2, 7):
        n_x, n_a, n_y, m = (int(v) for v in rng.integers(1, 6, size=4))
        x, a0 = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m))
        p = random_rnn_params(rng, n_x, n_a, n_y)
        got, want = student.rnn_forward.pure(x, a0, p), ref.rnn_forward(x, a0, p)
        size = f"T_x={T}, n_x={n_x}, n_a={n_a}, n_y={n_y}, m={m}"
        check_close(got[0], want[0], f"a for {size}")
        check_close(got[1], want[1], f"y_pred for {size}")
        check_sequence_caches(got[2], want[2], CELL_CACHE, f"caches for {size}")


@checks.test("test_rnn_cell_backward")
def _(student, rng):
    xt, a_prev, p, r = visible_rnn_backward()
    cache = ref.rnn_cell_forward(xt, a_prev, p)[2]
    da = r.randn(5, 10)
    got, want = student.rnn_cell_backward(da, cache), ref.rnn_cell_backward(da, cache)
    if not isinstance(got, dict) or not set(got) >= set(RNN_GRADS):
        raise AssertionError(f"rnn_cell_backward should return a dict with the keys {RNN_GRADS}.")
    for k in RNN_GRADS:
        check_close(got[k], want[k], f"gradients['{k}'] on the visible test's input")
    for _ in range(3):
        n_x, n_a, m = (int(v) for v in rng.integers(1, 6, size=3))
        xt, a_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
        p = random_rnn_params(rng, n_x, n_a, 2, recurrent=0.7)
        w = rng.standard_normal((n_a, m))
        cache = ref.rnn_cell_forward(xt, a_prev, p)[2]
        got = student.rnn_cell_backward.pure(w, cache)
        want = ref.rnn_cell_backward(w, cache)
        for k in RNN_GRADS:
            check_close(got[k], want[k], f"gradients['{k}'] for n_x={n_x}, n_a={n_a}, m={m}")
    # finite differences of L = sum(w * a_next) (the last random case)
    f = lambda: float(np.sum(w * ref.rnn_cell_forward(xt, a_prev, p)[0]))  # noqa: E731
    for k, arr in [("dxt", xt), ("da_prev", a_prev), ("dWax", p["Wax"]), ("dWaa", p["Waa"]), ("dba", p["ba"])]:
        check_gradient(got[k], numerical_gradient(f, arr), f"gradients['{k}'] vs finite differences")


@checks.test("test_rnn_backward", needs=["test_rnn_cell_backward"])
def _(student, rng):
    x, a0, p, r = visible_rnn_backward(T=4)
    caches = ref.rnn_forward(x, a0, p)[2]
    da = r.randn(5, 10, 4)
    got, want = student.rnn_backward(da, caches), ref.rnn_backward(da, caches)
    keys = ["dx", "da0", "dWax", "dWaa", "dba"]
    if not isinstance(got, dict) or not set(got) >= set(keys):
        raise AssertionError(f"rnn_backward should return a dict with the keys {keys}.")
    for k in keys:
        check_close(got[k], want[k], f"gradients['{k}'] on the visible test's input")
    for T in (1, 3, 6):
        n_x, n_a, m = (int(v) for v in rng.integers(1, 5, size=3))
        x, a0 = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m))
        p = random_rnn_params(rng, n_x, n_a, 2, recurrent=0.7)
        w = rng.standard_normal((n_a, m, T))
        caches = ref.rnn_forward(x, a0, p)[2]
        got, want = student.rnn_backward.pure(w, caches), ref.rnn_backward(w, caches)
        for k in keys:
            check_close(got[k], want[k], f"gradients['{k}'] for T_x={T}, n_x={n_x}, n_a={n_a}, m={m}")
    # finite differences of L = sum(w * a) over every step (the last random case, T_x = 6)
    f = lambda: float(np.sum(w * ref.rnn_forward(x, a0, p)[0]))  # noqa: E731
    for k, arr in [("dx", x), ("da0", a0), ("dWax", p["Wax"]), ("dWaa", p["Waa"]), ("dba", p["ba"])]:
        check_gradient(got[k], numerical_gradient(f, arr), f"gradients['{k}'] vs finite differences")
    # truncated BPTT: the last k cell caches and the last k steps of da
    k = 2
    got = student.rnn_backward(w[:, :, -k:], (caches[0][-k:], x[:, :, -k:]))
    want = ref.rnn_backward(w[:, :, -k:], (caches[0][-k:], x[:, :, -k:]))
    for key in keys:
        check_close(got[key], want[key], f"gradients['{key}'] over the last {k} cell caches only (truncated BPTT)")


@checks.test("test_lstm_cell_forward")
def _(student, rng):
    args = visible_lstm_cell()
    got, want = student.lstm_cell_forward(*args), ref.lstm_cell_forward(*args)
    check_sequence(got, 4, "lstm_cell_forward's result (a_next, c_next, yt_pred, cache)")
    for i, name in enumerate(["a_next", "c_next", "yt_pred"]):
        check_close(got[i], want[i], f"{name} on the visible test's input")
    check_cell_cache(got[3], want[3], LSTM_CACHE, "cache")
    for _ in range(3):
        n_x, n_a, n_y, m = (int(v) for v in rng.integers(1, 6, size=4))
        p = random_lstm_params(rng, n_x, n_a, n_y)
        xt, a_prev, c_prev = (rng.standard_normal((n, m)) for n in (n_x, n_a, n_a))
        got = student.lstm_cell_forward.pure(xt, a_prev, c_prev, p)
        want = ref.lstm_cell_forward(xt, a_prev, c_prev, p)
        size = f"n_x={n_x}, n_a={n_a}, n_y={n_y}, m={m}"
        for i, name in enumerate(["a_next", "c_next", "yt_pred"]):
            check_close(got[i], want[i], f"{name} for {size}")
        check_cell_cache(got[3], want[3], LSTM_CACHE, f"cache for {size}")
    xt, a_prev, c_prev, p = visible_lstm_cell()
    big = {k: 400.0 * v for k, v in p.items()}
    got = student.lstm_cell_forward.call([xt, a_prev, c_prev, big], errstate=STRICT)
    want = ref.lstm_cell_forward(xt, a_prev, c_prev, big)
    for i, name in enumerate(["a_next", "c_next", "yt_pred"]):
        check_finite(got[i], f"{name} with large weights (use the stable sigmoid and softmax)")
        check_close(got[i], want[i], f"{name} with large weights")


@checks.test("test_lstm_forward", needs=["test_lstm_cell_forward"])
def _(student, rng):
    args = visible_lstm()
    got, want = student.lstm_forward(*args), ref.lstm_forward(*args)
    check_sequence(got, 4, "lstm_forward's result (a, y, c, caches)")
    for i, name in enumerate(["a", "y", "c"]):
        check_close(got[i], want[i], f"{name} on the visible test's input")
    for T in (1, 4):
        n_x, n_a, n_y, m = (int(v) for v in rng.integers(1, 5, size=4))
        p = random_lstm_params(rng, n_x, n_a, n_y)
        x, a0 = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m))
        got, want = student.lstm_forward.pure(x, a0, p), ref.lstm_forward(x, a0, p)
        size = f"T_x={T}, n_x={n_x}, n_a={n_a}, n_y={n_y}, m={m}"
        for i, name in enumerate(["a", "y", "c"]):
            check_close(got[i], want[i], f"{name} for {size}")
        check_sequence_caches(got[3], want[3], LSTM_CACHE, f"caches for {size}")


@checks.test("test_clip")
def _(student, rng):
    got = student.clip(visible_clip(), 10)
    want = ref.clip(visible_clip(), 10)
    if not isinstance(got, dict) or set(got) != set(want):
        raise AssertionError("clip should return the dict of gradients (with the same keys).")
    for k in want:
        check_close(got[k], want[k], f"gradients['{k}'] clipped to 10")
    for max_value in (0.5, 3.0):
        g = {"dWf": rng.standard_normal((4, 7)) * 5, "dbo": rng.standard_normal((4, 1)) * 5,
             "dWy": rng.standard_normal((2, 4)) * 0.1}
        got = student.clip(g, max_value)
        if not isinstance(got, dict) or set(got) != set(g):
            raise AssertionError("clip should return the dict of gradients (with the same keys).")
        for k in g:
            check_close(got[k], np.clip(g[k], -max_value, max_value), f"gradients['{k}'] clipped to {max_value}")
    g = {"dWaa": rng.standard_normal((3, 3)) * 5, "dby": rng.standard_normal((2, 1)) * 5}
    if not modifies_argument(student.clip, [g, 1.0], {}, 1):
        raise AssertionError("clip should clip the arrays of the dict in place (np.clip(g, -maxValue, maxValue, "
                             "out=g)), not only return clipped copies.")
    small = {"dWaa": np.array([[0.1, -0.2]]), "dby": np.array([[3.0]])}
    got = student.clip(small, 10)
    for k in small:
        check_close(got[k], small[k], f"gradients['{k}'] already within [-10, 10] (unchanged)")


def names_case(rng, V=6, n_a=4, m=3, scale=1.0):
    """A random batch of names over a small vocabulary (index 0 = end of name), padded with -1."""
    lengths = rng.integers(1, 5, size=m)
    T = int(lengths.max()) + 1
    X = np.zeros((m, T), dtype=np.int64)
    Y = np.full((m, T), -1, dtype=np.int64)
    for i, n in enumerate(lengths):
        ids = rng.integers(1, V, size=n)
        X[i, 1:n + 1] = ids
        Y[i, :n] = ids
        Y[i, n] = 0
    p = {"Wax": rng.standard_normal((n_a, V)) * 0.5, "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
         "Wya": rng.standard_normal((V, n_a)) * scale, "ba": rng.standard_normal((n_a, 1)) * 0.1,
         "by": rng.standard_normal((V, 1)) * 0.1}
    return X, Y, p


def check_optimize_result(got, want, what, check_loss=True):
    check_sequence(got, 3, f"optimize's result (loss, gradients, a_last) {what}")
    loss, grads, a_last = got
    if check_loss:  # (not where some probabilities underflow: a log(p + 1e-12) is fine)
        check_close(loss, want[0], f"loss {what}")
    keys = ["dWax", "dWaa", "dWya", "dba", "dby"]
    if not isinstance(grads, dict) or not set(grads) >= set(keys):
        raise AssertionError(f"optimize should return the gradients as a dict with the keys {keys}.")
    for k in keys:
        check_close(grads[k], want[1][k], f"gradients['{k}'] {what}")
    check_close(a_last, want[2], f"a_last (the hidden state after the last step) {what}")


@checks.test("test_optimize", needs=["test_rnn_forward", "test_rnn_backward", "test_clip"])
def _(student, rng):
    X, Y = cm.pad_names(NAMES_VISIBLE, char_to_ix())
    p = visible_names_model()
    want = cm.optimize(X, Y, np.zeros((8, 3)), copy_params(p), learning_rate=0.01)
    check_optimize_result(student.optimize(X, Y, np.zeros((8, 3)), p, 0.01), want, "on the visible test's batch")
    for case in range(3):
        X, Y, p = names_case(rng, V=int(rng.integers(3, 8)), n_a=int(rng.integers(2, 6)), m=int(rng.integers(1, 5)))
        shape = (p["Waa"].shape[0], X.shape[0])
        a_prev = np.zeros(shape) if case == 0 else rng.standard_normal(shape)
        want = cm.optimize(X, Y, a_prev, copy_params(p), learning_rate=0.05)
        got = student.optimize(X, Y, a_prev, p, learning_rate=0.05)
        check_optimize_result(got, want, f"on a random batch of {X.shape[0]} names padded to {X.shape[1]} steps")
    # finite differences of the loss on the last case (gradients are small: no clipping)
    loss_only = lambda: cm.names_loss_and_grads(X, Y, a_prev, p)[0]  # noqa: E731
    for k in p:
        check_gradient(got[1]["d" + k], numerical_gradient(loss_only, p[k]), f"gradients['d{k}'] vs finite differences")
    # large output weights: the gradients must come back clipped to [-5, 5]
    X, Y, p = names_case(rng, V=5, n_a=4, m=4, scale=60.0)
    a_prev = np.zeros((4, 4))
    raw = cm.names_loss_and_grads(X, Y, a_prev, p)[1]
    assert max(np.abs(v).max() for v in raw.values()) > 5.0  # the case really needs clipping
    want = cm.optimize(X, Y, a_prev, copy_params(p), learning_rate=0.01)
    check_optimize_result(student.optimize(X, Y, a_prev, p, 0.01), want,
                          "when the gradients are large (they must be clipped to [-5, 5])", check_loss=False)
    # the update: the parameters dict is updated in place, the inputs are not modified
    X, Y, p = names_case(rng)
    a_prev = np.zeros((4, X.shape[0]))
    try:
        student.optimize.call([X, Y, a_prev, p], {"learning_rate": 0.1}, pure=True)
        changed = ""
    except StudentError:
        raise
    except CheckFailed as err:
        changed = str(err)
    for i, name in [(1, "X"), (2, "Y"), (3, "a_prev")]:
        if f"argument {i}" in changed:
            raise AssertionError(f"optimize modified its input {name}: it should only update the parameters.")
    if "argument 4" not in changed:
        raise AssertionError("optimize did not update the parameters: end with the update step "
                             "(optimizer.step(parameters, gradients), or update_parameters(...) without an optimizer).")
    # ... and updated with the clipped gradients, by gradient descent (the parameters as the call left them)
    X, Y, p = names_case(rng, V=5, n_a=4, m=3, scale=60.0)
    a_prev = np.zeros((4, 3))
    want = copy_params(p)
    cm.optimize(X, Y, a_prev, want, learning_rate=0.1)
    _, args, _ = student.optimize.call([X, Y, a_prev, copy_params(p)], {"learning_rate": 0.1}, return_args=True)
    for k in want:
        check_close(args[3].get(k) if isinstance(args[3], dict) else None, want[k],
                    f"parameters['{k}'] after one step (update with the clipped gradients)", rtol=1e-5, atol=1e-7)


def greedy_case(rng, V=5, n_a=6, max_length=12):
    """Parameters whose most likely next character is clear at every step (gap >= 0.05 in the scores)."""
    for _ in range(200):
        p = {"Wax": rng.standard_normal((n_a, V)) * 2, "Waa": rng.standard_normal((n_a, n_a)),
             "Wya": rng.standard_normal((V, n_a)) * 2, "ba": rng.standard_normal((n_a, 1)),
             "by": rng.standard_normal((V, 1))}
        a, x, out, ok = np.zeros((n_a, 1)), np.eye(V)[:, :1], [], True
        for _ in range(max_length):
            a = np.tanh(p["Waa"] @ a + p["Wax"] @ x + p["ba"])
            z = np.sort((p["Wya"] @ a + p["by"])[:, 0])
            ok &= z[-1] - z[-2] >= 0.05
            ix = int(np.argmax(p["Wya"] @ a + p["by"]))
            out.append(ix)
            if ix == 0:
                break
            x = np.eye(V)[:, ix:ix + 1]
        if ok and 2 <= len(out):
            return p
    raise RuntimeError("no clear greedy case found")


def first_letter_probabilities(p, temperature):
    V, n_a = p["Wya"].shape
    a = np.tanh(p["Wax"][:, :1] + p["ba"])
    return ref.softmax((p["Wya"] @ a + p["by"]) / temperature)[:, 0]


@checks.test("test_sample")
def _(student, rng):
    c2i = char_to_ix()
    p = visible_names_model(seed=4)
    got = student.sample(p, c2i, seed=0, temperature=1e-3)
    want = cm.sample(p, c2i, seed=0, temperature=1e-3)
    if not isinstance(got, (list, tuple, np.ndarray)) or [int(i) for i in got] != want:
        raise AssertionError(f"sample(..., temperature=1e-3) on the visible test's model returned {got}, expected "
                             f"{want} (at a temperature near 0 the most likely character wins every step).")
    # near zero temperature: the most likely character at every step, from the hidden state carried along
    for V in (5, 7):
        p = greedy_case(rng, V=V)
        vocab = {ch: i for i, ch in enumerate("\nabcdef"[:V])}
        got = [int(i) for i in student.sample.pure(p, vocab, seed=1, temperature=1e-3, max_length=12)]
        want = cm.sample(p, vocab, seed=1, temperature=1e-3, max_length=12)
        if got != want:
            raise AssertionError(f"sample(..., temperature=1e-3) on a random model returned {got}, expected {want}: "
                                 "start from a = 0 and the input '\\n', feed each drawn character back as the next "
                                 "input, carry the hidden state along, stop after '\\n'.")
    # a model that never ends a name: max_length characters, then '\n' appended
    p = greedy_case(rng, V=5)
    p["by"][0] = -1e3
    for n in (3, 9):
        got = [int(i) for i in student.sample(p, SMALL_VOCAB, seed=2, max_length=n)]
        if len(got) != n + 1 or got[-1] != 0 or 0 in got[:-1]:
            raise AssertionError(f"with max_length={n} and a model that never picks '\\n', sample should return "
                                 f"{n} characters followed by the index of '\\n' ({n + 1} in all), got {got}.")
    # the seed makes a draw reproducible
    p = visible_names_model(seed=5)
    first = student.sample(p, c2i, seed=7)
    if [int(i) for i in student.sample(p, c2i, seed=7)] != [int(i) for i in first]:
        raise AssertionError("sample with the same seed returned two different names: draw with "
                             "np.random.default_rng(seed) (or np.random.seed(seed)).")
    # at temperature 0.7, the first characters follow the model's distribution
    p = {"Wax": rng.standard_normal((4, 5)), "Waa": rng.standard_normal((4, 4)),
         "Wya": rng.standard_normal((5, 4)), "ba": rng.standard_normal((4, 1)) * 0.3,
         "by": np.array([[-1.0], [0.4], [0.0], [-0.3], [0.2]])}
    n, temperature = 400, 0.7
    names = student.sample.map([((p, SMALL_VOCAB), {"seed": s, "temperature": temperature}) for s in range(n)])
    firsts = [int(name[0]) for name in names]
    freq = np.bincount(firsts, minlength=5)[:5] / n
    want = first_letter_probabilities(p, temperature)
    if 0.5 * float(np.abs(freq - want).sum()) > TV_TOLERANCE:
        raise AssertionError(
            f"the first characters of {n} samples at temperature {temperature} have frequencies "
            f"{np.round(freq, 3).tolist()}, but the model gives probabilities {np.round(want, 3).tolist()}: "
            "draw each character from softmax(z / temperature), z = Wya a + by.")
