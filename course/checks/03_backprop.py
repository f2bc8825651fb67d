"""Grader-side tests of 03_backprop: the graph by hand, the Value engine, the dense network, gradient checking.

Each test calls the student's code in their kernel (``student.NAME``) and compares in the grader
with ``course.reference.dense``, ``autodiff`` and ``gradient_check``, and with finite differences.
The ``Value`` tests build graphs out of the student's objects: ``student.Value.remote(0.5)`` gives a
``Remote`` handle; ``p * q``, ``p ** 3``, ``p.call("tanh")``, ``out.call("backward")`` and
``p.get("grad")`` each make one round trip to the kernel, so those tests keep to a few hundred
operations. The visible tests' expected values come from the ``expected`` functions below.
"""
import numpy as np

from course.checks import Checks, check_close, check_equal, check_finite, numerical_gradient
from course.reference import activations as ref_act
from course.reference import dense as ref
from course.reference.autodiff import Value as RefValue
from course.reference.autodiff import graph_by_hand as ref_graph_by_hand
from course.reference.gradient_check import gradient_check as ref_gradient_check
from course.reference.gradient_check import network_gradient_check as ref_network_gradient_check

checks = Checks("03_backprop")
STRICT = {"over": "raise", "invalid": "raise", "divide": "raise"}
ACTS = ("relu", "tanh", "sigmoid")


def make_architecture(dims, hidden="relu", output="sigmoid"):
    """The notebook's helper: layer dicts for sizes dims = [n0, ..., nL] (plain ints and strings)."""
    hidden = [hidden] * (len(dims) - 2) if isinstance(hidden, str) else [str(h) for h in hidden]
    acts = hidden + [output]
    return [{"input_dim": int(dims[i]), "output_dim": int(dims[i + 1]), "activation": acts[i]}
            for i in range(len(dims) - 1)]


def random_dims(rng, low, high, layers):
    return [int(n) for n in rng.integers(low, high, size=int(rng.integers(*layers)))]


def random_params(arch, rng, seed, noise):
    """Reference initialisation plus noise on every entry (so that biases are not zero)."""
    P = ref.init_layers(arch, seed=seed)
    return {k: v + noise * rng.standard_normal(v.shape) for k, v in P.items()}


def unary(x, name):
    """``x.name()`` for a reference Value, or the same call in the kernel for a student's Remote one."""
    return x.call(name) if hasattr(x, "call") else getattr(x, name)()


def run_graph(make, build, leaves):
    """Build the graph ``build(*nodes)`` from Values made by ``make``; return (data, grads, nodes, out)."""
    nodes = [make(v) for v in leaves]
    out = build(*nodes)
    if hasattr(out, "call"):
        out.call("backward")
        return out.get("data"), np.array([n.get("grad") for n in nodes], dtype=float), nodes, out
    out.backward()
    return out.data, np.array([n.grad for n in nodes], dtype=float), nodes, out


# ---------------------------------------------------------------------------------------------
# Inputs of the visible tests (the notebook uses the same literals and seeds).
GRAPH_AB = (2.0, 1.0)
OPS_XY = (0.5, -1.5)
REUSE_X = 3.0
ARCH_SMALL = make_architecture([3, 4, 1])
COST_Y_HAT = np.array([[0.8, 0.1, 0.6, 0.999]])
COST_Y = np.array([[1, 0, 0, 1]])
Y_DEMO = np.array([[1, 0, 1, 1, 0]])
UPDATE_ARCH = [{"input_dim": 2, "output_dim": 1, "activation": "sigmoid"}]
UPDATE_P = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([[0.5]])}
UPDATE_G = {"dW1": np.array([[0.1, -0.2]]), "db1": np.array([[1.0]])}
UPDATE_LR = 0.5
ARCH_TOY = make_architecture([2, 3, 1], hidden="tanh")
ARCH_GC = make_architecture([2, 4, 3, 1], hidden=["relu", "tanh"])


def visible_ops(x, y):
    """The visible test's expression of test_value_ops."""
    return unary(x * y, "tanh") + unary(x, "exp") * 2 - y ** 2 + unary(y * 3, "relu") + unary(x * 4, "relu") / y


def single_forward_inputs():
    rng = np.random.default_rng(3)
    return rng.standard_normal((3, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 1))


def demo_network():
    """params_demo and X_demo of the visible full_forward test (arch_small: 3 -> 4 -> 1)."""
    rng = np.random.default_rng(4)
    params = {"W1": rng.standard_normal((4, 3)), "b1": np.array([[0.1], [-0.2], [0.3], [0.0]]),
              "W2": 0.5 * rng.standard_normal((1, 4)), "b2": np.array([[0.05]])}
    X = rng.standard_normal((3, 5))
    return params, X


def activation_backward_inputs():
    rng = np.random.default_rng(5)
    return rng.standard_normal((2, 3)), rng.standard_normal((2, 3))


def single_backward_inputs():
    rng = np.random.default_rng(6)
    A_prev, W, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((2, 1))
    Z = W @ A_prev + b
    dA = rng.standard_normal((2, 4))
    return dA, W, b, Z, A_prev


def toy_data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2, 8))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


def gradient_check_inputs():
    """X_gc, Y_gc, params_gc (init_layers(arch_gc, seed=8) with random biases), grads and bugged grads."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((2, 6))
    Y = (rng.random((1, 6)) > 0.5).astype(float)
    P = ref.init_layers(ARCH_GC, seed=8)
    for key in ("b1", "b2", "b3"):
        P[key] = 0.1 * rng.standard_normal(P[key].shape)
    Y_hat, memory = ref.full_forward_propagation(X, P, ARCH_GC)
    G = ref.full_backward_propagation(Y_hat, Y, memory, P, ARCH_GC)
    G_bug = dict(G, db1=G["db1"] * X.shape[1])  # a classic bug: the 1/m forgotten in db1
    return X, Y, P, G, G_bug


# ---------------------------------------------------------------------------------------------
# Expected values printed by the visible tests.
@checks.expected("graph_by_hand")
def _():
    return ref_graph_by_hand(*GRAPH_AB)


@checks.expected("value_graph")
def _():
    a, b = RefValue(GRAPH_AB[0]), RefValue(GRAPH_AB[1])
    c, d = a + b, b + 1
    e = c * d
    e.backward()
    return {"e": e.data, "a.grad": a.grad, "b.grad": b.grad, "c.grad": c.grad, "d.grad": d.grad, "e.grad": e.grad}


@checks.expected("value_ops")
def _():
    f, grads, _, _ = run_graph(RefValue, visible_ops, OPS_XY)
    return {"f": f, "x.grad": grads[0], "y.grad": grads[1]}


@checks.expected("value_reuse")
def _():
    y, grads, _, _ = run_graph(RefValue, lambda x: x * x + x, [REUSE_X])
    return {"y": y, "x.grad": grads[0]}


@checks.expected("init_layers")
def _():
    P = ref.init_layers(ARCH_SMALL, seed=1)
    return {"keys": sorted(P), **P}


@checks.expected("single_layer_forward")
def _():
    A_prev, W, b = single_forward_inputs()
    A, Z = ref.single_layer_forward_propagation(A_prev, W, b, "relu")
    A_sig, _ = ref.single_layer_forward_propagation(A_prev, W, b, "sigmoid")
    return {"Z": Z, "A relu": A, "A sigmoid": A_sig}


@checks.expected("full_forward")
def _():
    params, X = demo_network()
    Y_hat, memory = ref.full_forward_propagation(X, params, ARCH_SMALL)
    return {"Y_hat": Y_hat, "keys": sorted(memory), "Z1": memory["Z1"]}


@checks.expected("cost")
def _():
    return ref.get_cost_value(COST_Y_HAT, COST_Y)


@checks.expected("activation_backward")
def _():
    dA, Z = activation_backward_inputs()
    return {"relu": ref_act.relu_backward(dA, Z), "sigmoid": ref_act.sigmoid_backward(dA, Z),
            "tanh": ref_act.tanh_backward(dA, Z)}


@checks.expected("single_layer_backward")
def _():
    dA, W, b, Z, A_prev = single_backward_inputs()
    dA_prev, dW, db = ref.single_layer_backward_propagation(dA, W, b, Z, A_prev, "relu")
    _, dW_tanh, db_tanh = ref.single_layer_backward_propagation(dA, W, b, Z, A_prev, "tanh")
    return {"dA_prev": dA_prev, "dW": dW, "db": db, "dW tanh": dW_tanh, "db tanh": db_tanh}


@checks.expected("full_backward")
def _():
    params, X = demo_network()
    Y_hat, memory = ref.full_forward_propagation(X, params, ARCH_SMALL)
    grads = ref.full_backward_propagation(Y_hat, Y_DEMO, memory, params, ARCH_SMALL)
    return {"keys": sorted(grads), **grads}


@checks.expected("update")
def _():
    P = ref.update({k: v.copy() for k, v in UPDATE_P.items()}, UPDATE_G, UPDATE_ARCH, UPDATE_LR)
    return P


@checks.expected("train")
def _():
    X, Y = toy_data()
    P, H = ref.train(X, Y, ARCH_TOY, 3, 0.5, seed=2)
    return {"train loss": np.array(H["train loss"]), "train accuracy": np.array(H["train accuracy"]),
            "W2": P["W2"]}


@checks.expected("gradient_check")
def _():
    X, Y, P, G, G_bug = gradient_check_inputs()
    return {"bugged": ref_network_gradient_check(P, G_bug, X, Y, ARCH_GC)}


@checks.expected("count_parameters")
def _():
    return ref.count_parameters(ARCH_SMALL)


# ---------------------------------------------------------------------------------------------
# 1. The graph by hand
@checks.test("test_graph_by_hand")
def _(student, rng):
    pairs = [GRAPH_AB] + [tuple(float(v) for v in ab) for ab in rng.normal(scale=3, size=(5, 2))]
    for a, b in pairs:
        g = student.graph_by_hand(a, b)
        if not isinstance(g, dict):
            raise AssertionError(f"graph_by_hand should return a dict, got {type(g).__name__}.")
        want = ref_graph_by_hand(a, b)
        for key in want:
            if key not in g:
                raise AssertionError(f"graph_by_hand({a:.3f}, {b:.3f}) has no key {key!r}.")
            check_close(g[key], want[key], f"graph_by_hand({a:.3f}, {b:.3f})[{key!r}]")
        e = lambda a_, b_: (a_ + b_) * (b_ + 1)  # noqa: E731
        check_close(g["de_da"], (e(a + 1e-6, b) - e(a - 1e-6, b)) / 2e-6, "de_da vs finite differences",
                    rtol=1e-6, atol=1e-6)
        check_close(g["de_db"], (e(a, b + 1e-6) - e(a, b - 1e-6)) / 2e-6, "de_db vs finite differences",
                    rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# 2. The Value engine (every operation on a student's Value is one round trip to the kernel)
@checks.test("test_value_graph")
def _(student, rng):
    a, b = student.Value.remote(GRAPH_AB[0]), student.Value.remote(GRAPH_AB[1])
    c = a + b
    d = b + 1
    e = c * d
    e.call("backward")
    want = ref_graph_by_hand(*GRAPH_AB)
    check_close(e.get("data"), want["e"], "e.data for a = 2, b = 1")
    for name, node, value in [("a", a, want["de_da"]), ("b", b, want["de_db"]), ("c", c, want["de_dc"]),
                              ("d", d, want["de_dd"]), ("e", e, 1.0)]:
        check_close(node.get("grad"), value, f"{name}.grad (de/d{name}) for a = 2, b = 1")
    prev = e.call("__getattribute__", "_prev")  # a set of nodes: it stays in the kernel
    if hasattr(prev, "call"):
        holds = prev.call("__len__") == 2 and prev.call("__contains__", c) and prev.call("__contains__", d)
    else:
        holds = isinstance(prev, (list, tuple)) and len(prev) == 2
    if not holds:
        raise AssertionError("e = c * d: e._prev should hold exactly c and d (the nodes e was computed from).")
    for av, bv in rng.normal(scale=2, size=(4, 2)):
        av, bv = float(av), float(bv)
        data, grads, _, _ = run_graph(student.Value.remote, lambda p, q: (p + q) * (q + 1), [av, bv])
        check_close(data, (av + bv) * (bv + 1), f"e.data for a = {av:.3f}, b = {bv:.3f}")
        check_close(grads, [bv + 1, av + 2 * bv + 1], f"[a.grad, b.grad] for a = {av:.3f}, b = {bv:.3f}")
    xv, yv = [float(v) for v in rng.uniform(-4, 4, size=2)]
    data, grads, _, _ = run_graph(student.Value.remote, lambda x, y: x * y * 2.0 + 2.0 * x, [xv, yv])
    check_close(data, 2 * xv * yv + 2 * xv, f"(x * y * 2.0 + 2.0 * x).data for x = {xv:.3f}, y = {yv:.3f}")
    check_close(grads, [2 * yv + 2, 2 * xv], "[x.grad, y.grad] of x * y * 2.0 + 2.0 * x")


EXPRESSIONS = [
    ("p * q + p ** 3 - q / p", lambda p, q: p * q + p ** 3 - q / p),
    ("(p - q).tanh() * (p * 2).exp()", lambda p, q: unary(p - q, "tanh") * unary(p * 2, "exp")),
    ("(p * q).relu() + (q * -1).relu() * p + 1 / (q ** 2 + 1)",
     lambda p, q: unary(p * q, "relu") + unary(q * -1, "relu") * p + 1 / (q ** 2 + 1)),
    ("((p * -1).exp() + 1) ** -1 - q * p * p + (p + 3).log()",
     lambda p, q: (unary(p * -1, "exp") + 1) ** -1 - q * p * p + unary(p + 3, "log")),
    ("-p + 3 * q - 1 + (5 - p) * (q ** 0.5)", lambda p, q: -p + 3 * q - 1 + (5 - p) * (q ** 0.5)),
]


@checks.test("test_value_ops", needs=["test_value_graph"])
def _(student, rng):
    data, grads, _, _ = run_graph(student.Value.remote, visible_ops, OPS_XY)
    want, want_grads, _, _ = run_graph(RefValue, visible_ops, OPS_XY)
    check_close(data, want, "f.data of the visible test")
    check_close(grads, want_grads, "[x.grad, y.grad] of the visible test")
    h = 1e-6
    for text, expr in EXPRESSIONS:
        for _ in range(2):
            pv, qv = [float(v) for v in rng.uniform(0.2, 2.0, size=2)]
            data, grads, _, _ = run_graph(student.Value.remote, expr, [pv, qv])
            want, want_grads, _, _ = run_graph(RefValue, expr, [pv, qv])
            where = f"{text} at p = {pv:.4f}, q = {qv:.4f}"
            check_close(data, want, f"the value of {where}")
            check_close(grads, want_grads, f"[p.grad, q.grad] of {where}", rtol=1e-6)
            value = lambda p, q: expr(RefValue(p), RefValue(q)).data  # noqa: E731
            num = [(value(pv + h, qv) - value(pv - h, qv)) / (2 * h), (value(pv, qv + h) - value(pv, qv - h)) / (2 * h)]
            check_close(grads, num, f"[p.grad, q.grad] of {where} vs finite differences", rtol=1e-5, atol=1e-6)
    r = student.Value.remote(-2.0)
    s = r.call("relu")
    s.call("backward")
    check_close(np.array([s.get("data"), r.get("grad")]), [0.0, 0.0], "Value(-2.0).relu(): its data and the gradient")
    t = student.Value.remote(30.0).call("tanh")
    check_finite(t.get("data"), "Value(30.0).tanh().data")
    check_close(t.get("data"), 1.0, "Value(30.0).tanh().data")


@checks.test("test_value_reuse", needs=["test_value_graph"])
def _(student, rng):
    data, grads, _, _ = run_graph(student.Value.remote, lambda x: x * x + x, [REUSE_X])
    check_close(data, 12.0, "y.data for y = x * x + x at x = 3")
    check_close(grads[0], 7.0, "x.grad for y = x * x + x at x = 3 (each of the three uses of x adds its contribution)")
    xv = float(rng.uniform(0.5, 2.5))
    x = student.Value.remote(xv)
    u = x * 3
    z = u * u + u
    z.call("backward")
    check_close(u.get("grad"), 2 * 3 * xv + 1, f"dz/du for z = u * u + u, u = 3x, x = {xv:.4f}")
    check_close(x.get("grad"), 3 * (2 * 3 * xv + 1),
                f"dz/dx for z = u * u + u, u = 3x, x = {xv:.4f} (u must pass on its grad only once it is complete: "
                "a topological order)")

    def chain(v):
        for _ in range(6):  # a chain where every step uses the previous node twice
            v = v * unary(v, "tanh") + v
        return v

    x0 = float(rng.uniform(0.3, 1.0))
    data, grads, _, _ = run_graph(student.Value.remote, chain, [x0])
    want, want_grads, _, _ = run_graph(RefValue, chain, [x0])
    check_close(data, want, f"the value of a chain with reuse (x = {x0:.4f})")
    check_close(grads, want_grads, f"the gradient through a chain with reuse (x = {x0:.4f})", rtol=1e-6)
    w, unused = student.Value.remote(1.0), student.Value.remote(5.0)
    (w * 2).call("backward")
    check_close(unused.get("grad"), 0.0, "the grad of a Value outside the graph")
    check_close(w.get("grad"), 2.0, "w.grad for (w * 2).backward()")


# ---------------------------------------------------------------------------------------------
# 3. The dense network
@checks.test("test_init_layers")
def _(student, rng):
    P = student.init_layers(ARCH_SMALL, seed=1)
    want = ref.init_layers(ARCH_SMALL, seed=1)
    check_equal(sorted(P), sorted(want), "the keys of init_layers(arch_small, seed=1)")
    for trial in range(6):
        dims = random_dims(rng, 1, 9, (2, 6))
        arch = make_architecture(dims, hidden=list(rng.choice(ACTS, size=len(dims) - 2)),
                                 output=str(rng.choice(["sigmoid", "tanh"])))
        seed = int(rng.integers(0, 1000))
        mine, want = student.init_layers.pure(arch, seed=seed), ref.init_layers(arch, seed=seed)
        acts = [layer["activation"] for layer in arch]
        check_equal(sorted(mine), sorted(want), f"the keys of params for layer sizes {dims}")
        for key in want:
            check_close(mine[key], want[key], f"{key} for layer sizes {dims}, activations {acts}, seed {seed}",
                        rtol=1e-12, atol=1e-14)
            if np.asarray(mine[key]).dtype != np.float64:
                raise AssertionError(f"{key} should be float64, got {np.asarray(mine[key]).dtype}.")
    again = student.init_layers(arch, seed=seed)
    for key in want:
        check_close(again[key], mine[key], "init_layers twice with the same seed (should give the same parameters)")


@checks.test("test_single_layer_forward")
def _(student, rng):
    A_prev, W, b = single_forward_inputs()
    for act in ACTS:
        A, Z = student.single_layer_forward_propagation(A_prev, W, b, act)
        A_ref, Z_ref = ref.single_layer_forward_propagation(A_prev, W, b, act)
        check_close(Z, Z_ref, f"Z of the visible test ({act})")
        check_close(A, A_ref, f"A of the visible test ({act})")
    for act in ACTS:
        n_prev, n_curr, m = (int(v) for v in rng.integers(1, 8, size=3))
        A_prev, W, b = rng.standard_normal((n_prev, m)), rng.standard_normal((n_curr, n_prev)), rng.standard_normal((n_curr, 1))
        A, Z = student.single_layer_forward_propagation.pure(A_prev, W, b, act)
        A_ref, Z_ref = ref.single_layer_forward_propagation(A_prev, W, b, act)
        check_close(Z, Z_ref, f"Z for a random {act} layer: W of shape ({n_curr}, {n_prev}), m = {m}")
        check_close(A, A_ref, f"A for a random {act} layer: W of shape ({n_curr}, {n_prev}), m = {m}")
    A, _ = student.single_layer_forward_propagation.call(
        [np.array([[1.0, -1.0]]), np.array([[1000.0]]), np.zeros((1, 1)), "sigmoid"], errstate=STRICT)
    check_close(A, [[1.0, 0.0]], "a sigmoid layer with Z = [[1000, -1000]] (no overflow)")


@checks.test("test_full_forward", needs=["test_single_layer_forward"])
def _(student, rng):
    params, X = demo_network()
    cases = [(ARCH_SMALL, params, X)]
    for trial in range(4):
        dims = random_dims(rng, 1, 7, (2, 6))
        arch = make_architecture(dims, hidden=list(rng.choice(ACTS, size=len(dims) - 2)))
        cases.append((arch, random_params(arch, rng, trial, 0.1), rng.standard_normal((dims[0], int(rng.integers(1, 9))))))
    for arch, P, X in cases:
        dims = [arch[0]["input_dim"]] + [layer["output_dim"] for layer in arch]
        Y_hat, memory = student.full_forward_propagation.pure(X, P, arch)
        Y_ref, mem_ref = ref.full_forward_propagation(X, P, arch)
        check_close(Y_hat, Y_ref, f"Y_hat for layer sizes {dims}, m = {X.shape[1]}")
        if not isinstance(memory, dict):
            raise AssertionError(f"memory should be a dict, got {type(memory).__name__}.")
        check_equal(sorted(memory), sorted(mem_ref), f"the keys of memory for layer sizes {dims}")
        for key in mem_ref:
            check_close(memory[key], mem_ref[key], f"memory[{key!r}] for layer sizes {dims}")


@checks.test("test_cost")
def _(student, rng):
    check_close(student.get_cost_value(COST_Y_HAT, COST_Y), ref.get_cost_value(COST_Y_HAT, COST_Y), "J of the visible test")
    for m in (1, 7, 50):
        Y_hat = rng.uniform(0.01, 0.99, size=(1, m))
        Y = (rng.random((1, m)) > 0.5).astype(float)
        J = student.get_cost_value.pure(Y_hat, Y)
        if np.ndim(J) != 0:
            raise AssertionError(f"get_cost_value should return one number (a float), got an array of shape {np.shape(J)}.")
        check_close(J, ref.get_cost_value(Y_hat, Y), f"the cost of random predictions, m = {m}")
    Y_hat = rng.uniform(0.05, 0.95, size=(3, 6))
    Y = (rng.random((3, 6)) > 0.5).astype(float)
    check_close(student.get_cost_value(Y_hat, Y), ref.get_cost_value(Y_hat, Y), "the cost for 3 output units, m = 6")
    J = student.get_cost_value.call([np.array([[0.0, 1.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 1.0, 0.0]])], errstate=STRICT)
    check_finite(J, "the cost with probabilities exactly 0 and 1 (clip them first)")
    if not 10 < float(J) < 40:
        raise AssertionError("two of four predictions are certain and wrong: the cost should be large "
                             f"but finite (about 17), got {float(J):.4g}.")
    check_close(student.get_cost_value(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])), 0.0,
                "the cost of perfect predictions", atol=1e-12)


# ---------------------------------------------------------------------------------------------
# 4. Backpropagation
@checks.test("test_activation_backward")
def _(student, rng):
    dA, Z = activation_backward_inputs()
    cases = [("relu", ref_act.relu_backward, ref_act.relu), ("sigmoid", ref_act.sigmoid_backward, ref_act.sigmoid),
             ("tanh", ref_act.tanh_backward, ref_act.tanh)]
    for name, ref_fn, f in cases:
        check_close(getattr(student, f"{name}_backward")(dA, Z), ref_fn(dA, Z), f"{name}_backward of the visible test")
    for name, ref_fn, f in cases:
        fn = getattr(student, f"{name}_backward")
        shape = tuple(int(v) for v in rng.integers(1, 7, size=2))
        dA, Z = rng.standard_normal(shape), rng.normal(scale=3, size=shape)
        dZ = fn.pure(dA, Z)
        check_close(dZ, ref_fn(dA, Z), f"{name}_backward on a random {shape} input")
        Z = Z + np.where(np.abs(Z) < 1e-4, 1e-3, 0.0)  # finite differences stay away from relu's kink
        num = dA * (f(Z + 1e-6) - f(Z - 1e-6)) / 2e-6
        check_close(fn(dA, Z), num, f"{name}_backward vs finite differences", rtol=1e-5, atol=1e-7)
        big = fn.call([np.ones((2, 2)), np.array([[-1000.0, 1000.0], [-50.0, 50.0]])], errstate=STRICT)
        check_finite(big, f"{name}_backward for |Z| = 1000")


@checks.test("test_single_layer_backward", needs=["test_activation_backward"])
def _(student, rng):
    dA, W, b, Z, A_prev = single_backward_inputs()
    for act in ACTS:
        got = student.single_layer_backward_propagation(dA, W, b, Z, A_prev, act)
        want = ref.single_layer_backward_propagation(dA, W, b, Z, A_prev, act)
        for name, g_, r_ in zip(["dA_prev", "dW", "db"], got, want):
            check_close(g_, r_, f"{name} of the visible test ({act})")
    for act in ACTS:
        n_prev, n_curr, m = (int(v) for v in rng.integers(1, 6, size=3))
        A_prev, W, b = rng.standard_normal((n_prev, m)), rng.standard_normal((n_curr, n_prev)), rng.standard_normal((n_curr, 1))
        Z = W @ A_prev + b
        dA = rng.standard_normal((n_curr, m))
        got = student.single_layer_backward_propagation.pure(dA, W, b, Z, A_prev, act)
        if not (isinstance(got, (tuple, list)) and len(got) == 3):
            raise AssertionError("single_layer_backward_propagation should return (dA_prev, dW_curr, db_curr).")
        want = ref.single_layer_backward_propagation(dA, W, b, Z, A_prev, act)
        where = f"a random {act} layer: W of shape ({n_curr}, {n_prev}), m = {m}"
        for name, g_, r_ in zip(["dA_prev", "dW", "db"], got, want):
            check_close(g_, r_, f"{name} for {where}")
        # finite differences of L = sum(dA * g(W A_prev + b)) / m: dL/dW = dW, dL/db = db, dL/dA_prev = dA_prev / m
        f = ref.ACTIVATIONS[act][0]
        L = lambda: float(np.sum(dA * f(W @ A_prev + b)) / m)  # noqa: E731
        check_close(got[1], numerical_gradient(L, W), f"dW for {where} vs finite differences", rtol=1e-5, atol=1e-7)
        check_close(got[2], numerical_gradient(L, b), f"db for {where} vs finite differences", rtol=1e-5, atol=1e-7)
        check_close(np.asarray(got[0]) / m, numerical_gradient(L, A_prev),
                    f"dA_prev / m for {where} vs finite differences", rtol=1e-5, atol=1e-7)


@checks.test("test_full_backward", needs=["test_single_layer_backward"])
def _(student, rng):
    params, X = demo_network()
    cases = [(ARCH_SMALL, params, X, Y_DEMO.astype(float))]
    for trial in range(4):
        dims = random_dims(rng, 1, 6, (2, 5))
        arch = make_architecture(dims, hidden=list(rng.choice(ACTS, size=len(dims) - 2)))
        m = int(rng.integers(1, 8))
        cases.append((arch, random_params(arch, rng, trial + 10, 0.2), rng.standard_normal((dims[0], m)),
                      (rng.random((dims[-1], m)) > 0.5).astype(float)))
    for arch, P, X, Y in cases:
        dims = [arch[0]["input_dim"]] + [layer["output_dim"] for layer in arch]
        acts = [layer["activation"] for layer in arch]
        Y_hat, memory = ref.full_forward_propagation(X, P, arch)
        grads = student.full_backward_propagation.pure(Y_hat, Y, memory, P, arch)
        want = ref.full_backward_propagation(Y_hat, Y, memory, P, arch)
        if not isinstance(grads, dict):
            raise AssertionError(f"full_backward_propagation should return a dict, got {type(grads).__name__}.")
        check_equal(sorted(grads), sorted(want), f"the keys of grads for layer sizes {dims}")
        for key in want:
            check_close(grads[key], want[key], f"{key} for layer sizes {dims}, activations {acts}, m = {X.shape[1]}",
                        rtol=1e-6, atol=1e-9)
        cost = lambda q: ref.get_cost_value(ref.full_forward_propagation(X, q, arch)[0], Y)  # noqa: E731
        err = ref_gradient_check(P, grads, cost)
        if not err < 1e-6:
            raise AssertionError(f"your gradients disagree with finite differences (relative error {err:.1e}) "
                                 f"for layer sizes {dims}")


@checks.test("test_update")
def _(student, rng):
    got = student.update({k: v.copy() for k, v in UPDATE_P.items()}, UPDATE_G, UPDATE_ARCH, UPDATE_LR)
    want = ref.update({k: v.copy() for k, v in UPDATE_P.items()}, UPDATE_G, UPDATE_ARCH, UPDATE_LR)
    for key in want:
        check_close(got[key], want[key], f"{key} of the visible test")
    dims = random_dims(rng, 1, 6, (3, 5))
    arch = make_architecture(dims)
    P = random_params(arch, rng, 3, 0.1)
    G = {"d" + k: rng.standard_normal(v.shape) for k, v in P.items()}
    lr = float(rng.uniform(0.01, 2.0))
    want = ref.update({k: v.copy() for k, v in P.items()}, G, arch, lr)
    got = student.update(P, G, arch, lr)
    if not isinstance(got, dict):
        raise AssertionError(f"update should return the params dict, got {type(got).__name__}.")
    check_equal(sorted(got), sorted(want), "the keys of the updated params")
    for key in want:
        check_close(got[key], want[key], f"{key} after one step with learning rate {lr:.3f}, layer sizes {dims}")


@checks.test("test_train", needs=["test_init_layers", "test_full_forward", "test_cost", "test_full_backward", "test_update"])
def _(student, rng):
    X, Y = toy_data()
    P, H = student.train(X, Y, ARCH_TOY, 3, 0.5, seed=2)
    P_ref, H_ref = ref.train(X, Y, ARCH_TOY, 3, 0.5, seed=2)
    for key in ("train loss", "train accuracy"):
        check_close(np.array(H[key], dtype=float), np.array(H_ref[key]), f"history[{key!r}] of the visible test")
    dims = [int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(2, 5)), 1]
    arch = make_architecture(dims, hidden=list(rng.choice(ACTS[:2], size=2)))
    X_r, X_t = rng.standard_normal((dims[0], 20)), rng.standard_normal((dims[0], 7))
    Y_r = (X_r[0:1] + X_r[1:2] ** 2 > 0.5).astype(float)
    Y_t = (X_t[0:1] + X_t[1:2] ** 2 > 0.5).astype(float)
    seed = int(rng.integers(0, 100))
    P, H = student.train(X_r, Y_r, arch, 6, 0.3, X_test=X_t, Y_test=Y_t, seed=seed)
    P_ref, H_ref = ref.train(X_r, Y_r, arch, 6, 0.3, X_test=X_t, Y_test=Y_t, seed=seed)
    if not isinstance(H, dict):
        raise AssertionError(f"history should be a dict, got {type(H).__name__}.")
    check_equal(sorted(H), sorted(H_ref), "the keys of history with a test set")
    where = f"layer sizes {dims}, 6 epochs, learning rate 0.3, seed {seed}"
    for key in H_ref:
        check_close(np.array(H[key], dtype=float), np.array(H_ref[key]), f"history[{key!r}] for {where}", rtol=1e-6)
    for key in P_ref:
        check_close(P[key], P_ref[key], f"{key} after training, {where}", rtol=1e-6, atol=1e-10)
    P, H = student.train(X_r, Y_r, arch, 30, 0.3, seed=seed + 1)
    check_equal(sorted(H), ["train accuracy", "train loss"], "the keys of history without a test set")
    if len(H["train loss"]) != 30:
        raise AssertionError(f"30 epochs should record 30 training losses, got {len(H['train loss'])}.")
    if not H["train loss"][-1] < H["train loss"][0]:
        raise AssertionError("the training loss should go down over 30 epochs "
                             f"(from {H['train loss'][0]:.4f} to {H['train loss'][-1]:.4f}).")


# ---------------------------------------------------------------------------------------------
# 6. Gradient checking
@checks.test("test_gradient_check", needs=["test_full_forward", "test_cost"])
def _(student, rng):
    X, Y, P, G, G_bug = gradient_check_inputs()
    d_bug = student.gradient_check(P, G_bug, X, Y, ARCH_GC)
    check_close(d_bug, ref_network_gradient_check(P, G_bug, X, Y, ARCH_GC), "the difference of the visible test's "
                "bugged gradients", rtol=1e-4)
    for trial in range(3):
        for _ in range(20):  # gradients of a reasonable size: finite differences then resolve a 1e-7 error
            dims = [int(n) for n in rng.integers(1, 5, size=3)] + [1]
            arch = make_architecture(dims, hidden=["tanh", "sigmoid"])
            P = random_params(arch, rng, trial, 0.3)
            m = int(rng.integers(2, 6))
            X, Y = rng.standard_normal((dims[0], m)), (rng.random((1, m)) > 0.5).astype(float)
            Y_hat, memory = ref.full_forward_propagation(X, P, arch)
            G = ref.full_backward_propagation(Y_hat, Y, memory, P, arch)
            if sum(np.linalg.norm(g) for g in G.values()) > 0.05:
                break
        where = f"layer sizes {dims}, m = {m}"
        d_ok = student.gradient_check.pure(P, G, X, Y, arch)
        if np.ndim(d_ok) != 0:
            raise AssertionError(f"gradient_check should return one number, got an array of shape {np.shape(d_ok)}.")
        if not float(d_ok) < 1e-6:
            raise AssertionError(f"correct gradients should give a difference far below 1e-6, got {float(d_ok):.2e} "
                                 f"({where}).")
        key = str(rng.choice(sorted(G)))
        G_bad = dict(G)
        G_bad[key] = G[key] + 0.05 * rng.standard_normal(G[key].shape)
        d_bad = student.gradient_check.pure(P, G_bad, X, Y, arch)
        check_close(d_bad, ref_network_gradient_check(P, G_bad, X, Y, arch),
                    f"the difference with a perturbed {key} ({where})", rtol=1e-4)
        d_eps = student.gradient_check.pure(P, G, X, Y, arch, epsilon=1e-3)
        check_close(d_eps, ref_network_gradient_check(P, G, X, Y, arch, epsilon=1e-3),
                    f"the difference for epsilon=1e-3 ({where}; use the epsilon argument and centred differences)",
                    rtol=2e-2, atol=0)


@checks.test("test_count_parameters")
def _(student, rng):
    for dims in ([3, 4, 1], [2, 25, 50, 50, 25, 1], [2, 25, 1]):
        arch = make_architecture(dims)
        check_equal(int(student.count_parameters(arch)), ref.count_parameters(arch), f"parameters of {'-'.join(map(str, dims))}")
    for _ in range(5):
        dims = random_dims(rng, 1, 300, (2, 7))
        arch = make_architecture(dims)
        n = student.count_parameters.pure(arch)
        if np.ndim(n) != 0 or float(n) != int(n):
            raise AssertionError(f"count_parameters should return an int, got {n!r}.")
        check_equal(int(n), ref.count_parameters(arch), f"parameters for layer sizes {dims}")
