"""course.reference.autodiff: the hand-worked graph, every operation against finite differences, reuse."""
import math

import numpy as np
import pytest

from course.reference.autodiff import Value


def test_hand_worked_graph():
    a, b = Value(2.0), Value(1.0)
    c = a + b
    d = b + 1
    e = c * d
    e.backward()
    assert (c.data, d.data, e.data) == (3.0, 2.0, 6.0)
    assert (a.grad, b.grad, c.grad, d.grad, e.grad) == (2.0, 5.0, 2.0, 3.0, 1.0)


def test_node_used_twice_accumulates():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    z = Value(-2.0)
    w = z + z
    w.backward()
    assert z.grad == 2.0


def numeric(f, xs, eps=1e-6):
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        out.append((f(*[Value(v) for v in up]).data - f(*[Value(v) for v in down]).data) / (2 * eps))
    return out


EXPRESSIONS = [
    lambda x, y: x * y + x ** 3 - y / x,
    lambda x, y: (x - y).tanh() * (x * 2).exp(),
    lambda x, y: (x * y).relu() + (x + 3).log() + 1 / (y ** 2 + 1),
    lambda x, y: (x.sigmoid() - 0.3) ** 2 + 2 - y * x * x,
    lambda x, y: -x + 3 * y - 1 + (5 - x) * (y ** 0.5),
]


@pytest.mark.parametrize("k", range(len(EXPRESSIONS)))
def test_against_finite_differences(k):
    f = EXPRESSIONS[k]
    rng = np.random.default_rng(k)
    for _ in range(5):
        xs = [float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.5, 2.0))]
        vals = [Value(v) for v in xs]
        out = f(*vals)
        out.backward()
        for got, want in zip([v.grad for v in vals], numeric(f, xs)):
            assert math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-7)


def test_neuron_against_numpy():
    rng = np.random.default_rng(0)
    w, x, b = rng.standard_normal(3), rng.standard_normal(3), 0.2
    ws = [Value(v) for v in w]
    out = sum((wi * xi for wi, xi in zip(ws, x)), Value(b)).tanh()
    out.backward()
    t = np.tanh(w @ x + b)
    assert math.isclose(out.data, t)
    assert np.allclose([v.grad for v in ws], (1 - t ** 2) * x)


def test_deep_chain_no_recursion_error_and_zero_grad():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    y.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0


def test_stable_sigmoid_and_repr():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert "data=2" in repr(Value(2.0))
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)


def test_graph_by_hand_agrees_with_the_engine():
    from course.reference.autodiff import graph_by_hand
    for av, bv in [(2.0, 1.0), (-0.7, 3.2)]:
        g = graph_by_hand(av, bv)
        a, b = Value(av), Value(bv)
        c, d = a + b, b + 1
        e = c * d
        e.backward()
        assert (g["c"], g["d"], g["e"]) == (c.data, d.data, e.data)
        assert (g["de_da"], g["de_db"], g["de_dc"], g["de_dd"]) == (a.grad, b.grad, c.grad, d.grad)
    assert graph_by_hand(2, 1)["de_db"] == 5.0
