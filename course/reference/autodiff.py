"""A tiny scalar reverse-mode automatic differentiation engine (in the spirit of micrograd).

Each :class:`Value` holds a number ``data``, the derivative ``grad`` of the final output with
respect to it (filled in by :meth:`Value.backward`), the nodes it was computed from (``_prev``)
and a closure ``_backward`` that pushes its own ``grad`` to those inputs by the chain rule::

    a, b = Value(2.0), Value(1.0)
    e = (a + b) * (b + 1)
    e.backward()
    a.grad, b.grad   # (2.0, 5.0)

Gradients accumulate (``+=``): a node used twice receives the sum of both contributions.
This is the reference the ``03_backprop`` notebook's hidden tests compare the student's class with.
"""
import math


class Value:
    """A scalar node of a computational graph."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Value) else Value(other)

    # binary operations ------------------------------------------------------------------
    def __add__(self, other):
        other = self._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            raise TypeError("only constant (int/float) exponents are supported")
        out = Value(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __truediv__(self, other):
        return self * self._wrap(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __rtruediv__(self, other):
        return self._wrap(other) * self ** -1

    # unary functions --------------------------------------------------------------------
    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t * t) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    # the backward pass ------------------------------------------------------------------
    def topological_order(self):
        """Every node this one depends on (itself included), each after all of its inputs."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:  # iterative depth-first search: no recursion limit on deep graphs
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for child in node._prev:
                if child not in visited:
                    stack.append((child, False))
        return order

    def backward(self):
        """Set ``grad`` of every node in the graph to d(self)/d(node).

        Seeds ``self.grad = 1`` and calls each node's ``_backward`` in reverse topological order.
        Call it once per graph (gradients accumulate; reset them with :meth:`zero_grad`).
        """
        order = self.topological_order()
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self):
        """Reset ``grad`` to 0 on every node of the graph below (and including) this one."""
        for node in self.topological_order():
            node.grad = 0.0


def graph_by_hand(a, b):
    """The hand-worked graph ``e = (a + b) (b + 1)`` with ``c = a + b`` and ``d = b + 1``.

    Returns:
        dict of floats: the forward values ``"c", "d", "e"`` and the derivatives of ``e``,
        ``"de_dc" = d``, ``"de_dd" = c``, ``"de_da" = d`` and ``"de_db" = d + c`` (two paths add up).
    """
    a, b = float(a), float(b)
    c, d = a + b, b + 1.0
    return {"c": c, "d": d, "e": c * d, "de_dc": d, "de_dd": c, "de_da": d, "de_db": d + c}
