"""03_backprop's grader-side checks: the reference and honest alternatives pass, realistic bugs fail."""
import math
import warnings

import numpy as np
import pytest

from course.reference import activations as ref_act
from course.reference import autodiff
from course.reference import dense as ref
from course.reference.gradient_check import (dictionary_to_vector, gradients_to_vector, network_gradient_check,
                                             vector_to_dictionary)
from tests.checks.harness import checks_of, failed, module_namespace, verdicts

ASG = "03_backprop"
RefValue = autodiff.Value


def reference():
    return {**module_namespace(ref), "Value": RefValue, "graph_by_hand": autodiff.graph_by_hand,
            "gradient_check": network_gradient_check}




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


@pytest.mark.slow  # twelve runs of the whole check suite
def test_reference_passes_for_many_students():
    """Random inputs differ per student: no draw may fail correct code."""
    for sid in range(12):
        v = verdicts(ASG, reference(), student_id=f"student{sid}")
        assert [g for g, r in v.items() if not r.passed] == [], {g: r.message for g, r in v.items() if not r.passed}


def test_expected_values_are_plain_data():
    from course.checks import expected_json
    text = expected_json(checks_of(ASG))
    assert '"value_ops"' in text and '"gradient_check"' in text


# --- honest alternatives ----------------------------------------------------------------------
class RecursiveValue(RefValue):
    """micrograd's own style: a recursive topological sort, numpy functions, ``other.data * out.grad``."""

    def __add__(self, other):
        other = other if isinstance(other, RefValue) else RecursiveValue(other)
        out = RecursiveValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, RefValue) else RecursiveValue(other)
        out = RecursiveValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = RecursiveValue(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def __truediv__(self, other):
        return self * (other ** -1 if isinstance(other, RefValue) else 1.0 / other)

    def __rtruediv__(self, other):
        return self ** -1 * other

    def __rsub__(self, other):
        return (-self) + other

    def exp(self):
        out = RecursiveValue(np.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = RecursiveValue(np.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = RecursiveValue(np.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = RecursiveValue(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += float(out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def loop_init_layers(architecture, seed=99):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(architecture) + 1):
        layer = architecture[l - 1]
        std = math.sqrt(2 / layer["input_dim"]) if layer["activation"] == "relu" else 1 / math.sqrt(layer["input_dim"])
        params[f"W{l}"] = rng.normal(0.0, std, size=(layer["output_dim"], layer["input_dim"]))
        params[f"b{l}"] = np.zeros((layer["output_dim"], 1))
    return params


def chatty_forward(X, params, architecture):
    print("forward pass with", len(architecture), "layers")
    warnings.warn("just a warning")
    memory, A = {}, X
    for l, layer in enumerate(architecture, 1):
        memory[f"A{l - 1}"] = A
        Z = np.dot(params[f"W{l}"], A) + params[f"b{l}"]
        memory[f"Z{l}"] = Z
        A = ref.ACTIVATIONS[layer["activation"]][0](Z)
    return A, memory


def loop_cost(Y_hat, Y):
    m, total = Y_hat.shape[1], 0.0
    for y_hat, y in zip(np.ravel(Y_hat), np.ravel(Y)):
        p = min(max(y_hat, 1e-15), 1 - 1e-15)
        total -= y * math.log(p) + (1 - y) * math.log(1 - p)
    return total / m


def canonical_relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def generic_full_backward(Y_hat, Y, memory, params, architecture):
    """The notebook's way: cost_backward, then every layer through its activation's backward."""
    grads, L = {}, len(architecture)
    dA = ref.cost_backward(Y_hat, np.reshape(Y, Y_hat.shape))
    for l in reversed(range(1, L + 1)):
        dA, grads[f"dW{l}"], grads[f"db{l}"] = ref.single_layer_backward_propagation(
            dA, params[f"W{l}"], params[f"b{l}"], memory[f"Z{l}"], memory[f"A{l - 1}"], architecture[l - 1]["activation"])
    return grads


def copying_update(params, grads, architecture, learning_rate):
    return {k: v - learning_rate * grads["d" + k] for k, v in params.items()}


def tqdm_train(X, Y, architecture, epochs, learning_rate, X_test=None, Y_test=None, seed=99, progress=False):
    from tqdm.auto import trange
    params = ref.init_layers(architecture, seed)
    history = {"train loss": [], "train accuracy": []}
    if X_test is not None:
        history["test loss"], history["test accuracy"] = [], []
    for _ in trange(epochs, disable=False, desc="training", leave=False):
        Y_hat, memory = ref.full_forward_propagation(X, params, architecture)
        history["train loss"].append(ref.get_cost_value(Y_hat, Y))
        history["train accuracy"].append(ref.get_accuracy_value(Y_hat, Y))
        if X_test is not None:
            Y_t, _ = ref.full_forward_propagation(X_test, params, architecture)
            history["test loss"].append(ref.get_cost_value(Y_t, Y_test))
            history["test accuracy"].append(ref.get_accuracy_value(Y_t, Y_test))
        grads = generic_full_backward(Y_hat, Y, memory, params, architecture)
        params = copying_update(params, grads, architecture, learning_rate)
    return params, history


def make_gradient_check(cost=ref.get_cost_value, forward=ref.full_forward_propagation, one_sided=False,
                        denominator=2, ignore_epsilon=False, copy=True, in_place=False, norm_sum=True):
    """The notebook's gradient_check, with optional bugs."""
    def gradient_check(params, grads, X, Y, architecture, epsilon=1e-7):
        if ignore_epsilon:
            epsilon = 1e-7
        theta, _ = dictionary_to_vector(params)
        grad = gradients_to_vector(grads, params)
        gradapprox = np.zeros_like(theta)
        J = lambda t: cost(forward(X, vector_to_dictionary(t, params), architecture)[0], Y)  # noqa: E731
        for i in range(theta.shape[0]):
            plus = theta.copy() if copy else theta
            plus[i, 0] += epsilon
            J_plus = J(plus)
            minus = theta.copy() if copy else theta
            minus[i, 0] -= epsilon
            J_minus = J(theta) if one_sided else J(minus)
            if one_sided:
                gradapprox[i, 0] = (J_plus - J_minus) / epsilon
            else:
                gradapprox[i, 0] = (J_plus - J_minus) / (denominator * epsilon)
        if in_place:
            params["W1"] += 0.0 * params["W1"] + 1e-3
        den = np.linalg.norm(grad) + np.linalg.norm(gradapprox) if norm_sum else np.linalg.norm(grad)
        return float(np.linalg.norm(grad - gradapprox) / den)
    return gradient_check


def chatty_gradient_check(params, grads, X, Y, architecture, epsilon=1e-7):
    print("checking", len(params), "parameters")
    return make_gradient_check()(params, grads, X, Y, architecture, epsilon)


HONEST = [
    ("Value", RecursiveValue),
    ("init_layers", loop_init_layers),
    ("full_forward_propagation", chatty_forward),
    ("get_cost_value", loop_cost),
    ("relu_backward", canonical_relu_backward),
    ("full_backward_propagation", generic_full_backward),
    ("update", copying_update),
    ("train", tqdm_train),
    ("gradient_check", make_gradient_check()),
    ("gradient_check", chatty_gradient_check),
    ("count_parameters", lambda arch: sum(l["output_dim"] * l["input_dim"] + l["output_dim"] for l in arch)),
    ("count_parameters", lambda arch: np.sum([l["output_dim"] * (l["input_dim"] + 1) for l in arch])),
]


@pytest.mark.slow  # runs the whole check suite once per alternative
@pytest.mark.parametrize("name, fn", HONEST, ids=[f"{h[0]}-{i}" for i, h in enumerate(HONEST)])
def test_honest_alternatives_pass(name, fn):
    assert failed(ASG, {**reference(), name: fn}) == []


# --- realistic bugs ---------------------------------------------------------------------------
def value_with(**methods):
    """A subclass of the reference Value whose operations build nodes of the subclass, with overrides."""
    cls = type("BuggyValue", (RefValue,), {})

    def wrap(other):
        return other if isinstance(other, RefValue) else cls(other)

    def node(data, children, op, backward):
        out = cls(data, children, op)
        out._backward = lambda: backward(out)
        return out

    base = {
        "__add__": lambda self, o: (lambda o: node(self.data + o.data, (self, o), "+", lambda out: (
            setattr(self, "grad", self.grad + out.grad), setattr(o, "grad", o.grad + out.grad))))(wrap(o)),
        "__mul__": lambda self, o: (lambda o: node(self.data * o.data, (self, o), "*", lambda out: (
            setattr(self, "grad", self.grad + o.data * out.grad),
            setattr(o, "grad", o.grad + self.data * out.grad))))(wrap(o)),
    }
    for name, fn in {**base, **methods}.items():
        setattr(cls, name, fn)
    cls._wrap = staticmethod(wrap)
    cls._node = staticmethod(node)
    return cls


def _mul_swapped(self, o):
    o = self._wrap(o)
    return self._node(self.data * o.data, (self, o), "*", lambda out: (
        setattr(self, "grad", self.grad + self.data * out.grad), setattr(o, "grad", o.grad + o.data * out.grad)))


def _mul_assign(self, o):
    o = self._wrap(o)
    return self._node(self.data * o.data, (self, o), "*", lambda out: (
        setattr(self, "grad", o.data * out.grad), setattr(o, "grad", self.data * out.grad)))


def _add_assign(self, o):
    o = self._wrap(o)
    return self._node(self.data + o.data, (self, o), "+", lambda out: (
        setattr(self, "grad", out.grad), setattr(o, "grad", out.grad)))


def _mul_no_out_grad(self, o):
    o = self._wrap(o)
    return self._node(self.data * o.data, (self, o), "*", lambda out: (
        setattr(self, "grad", self.grad + o.data), setattr(o, "grad", o.grad + self.data)))


def _pow_wrong(self, k):
    return self._node(self.data ** k, (self,), "pow", lambda out: setattr(self, "grad", self.grad + k * self.data ** k * out.grad))


def _tanh_wrong(self):
    t = math.tanh(self.data)
    return self._node(t, (self,), "tanh", lambda out: setattr(self, "grad", self.grad + (1 - t) * out.grad))


def _exp_wrong(self):
    return self._node(math.exp(self.data), (self,), "exp", lambda out: setattr(self, "grad", self.grad + out.grad))


def _relu_wrong(self):
    return self._node(max(self.data, 0.0), (self,), "relu", lambda out: setattr(self, "grad", self.grad + out.grad))


def _backward_naive(self):
    """No topological order: recursion that passes on a node's grad before it is complete."""
    self.grad = 1.0

    def go(node):
        node._backward()
        for child in node._prev:
            go(child)
    go(self)


def _backward_forward_order(self):
    self.grad = 1.0
    for node in self.topological_order():
        node._backward()


def _backward_unseeded(self):
    for node in reversed(self.topological_order()):
        node._backward()


VALUE_BUGS = [
    ({"__mul__": _mul_swapped}, "test_value_graph"),
    ({"__mul__": _mul_no_out_grad}, "test_value_graph"),
    ({"__mul__": _mul_assign}, "test_value_reuse"),
    ({"__add__": _add_assign}, "test_value_graph"),
    ({"__pow__": _pow_wrong}, "test_value_ops"),
    ({"tanh": _tanh_wrong}, "test_value_ops"),
    ({"exp": _exp_wrong}, "test_value_ops"),
    ({"relu": _relu_wrong}, "test_value_ops"),
    ({"backward": _backward_naive}, "test_value_reuse"),
    ({"backward": _backward_forward_order}, "test_value_graph"),
    ({"backward": _backward_unseeded}, "test_value_graph"),
]


@pytest.mark.parametrize("methods, grade_id", VALUE_BUGS, ids=[f"{next(iter(b[0]))}-{i}" for i, b in enumerate(VALUE_BUGS)])
def test_value_bugs_fail(methods, grade_id):
    assert grade_id in failed(ASG, {**reference(), "Value": value_with(**methods)}, only=[grade_id])


def test_correct_value_subclass_passes():
    assert failed(ASG, {**reference(), "Value": value_with()}) == []


def graph_no_sum(a, b):
    g = autodiff.graph_by_hand(a, b)
    return dict(g, de_db=g["de_dc"])  # only one of the two paths from b


def xavier_everywhere(architecture, seed=99):
    rng = np.random.default_rng(seed)
    out = {}
    for l, layer in enumerate(architecture, 1):
        out[f"W{l}"] = rng.standard_normal((layer["output_dim"], layer["input_dim"])) * np.sqrt(1 / layer["input_dim"])
        out[f"b{l}"] = np.zeros((layer["output_dim"], 1))
    return out


def new_rng_per_layer(architecture, seed=99):
    out = {}
    for l, layer in enumerate(architecture, 1):
        rng = np.random.default_rng(seed)
        s = np.sqrt((2.0 if layer["activation"] == "relu" else 1.0) / layer["input_dim"])
        out[f"W{l}"] = rng.standard_normal((layer["output_dim"], layer["input_dim"])) * s
        out[f"b{l}"] = np.zeros((layer["output_dim"], 1))
    return out


def transposed_weights(architecture, seed=99):
    rng = np.random.default_rng(seed)
    out = {}
    for l, layer in enumerate(architecture, 1):
        s = np.sqrt((2.0 if layer["activation"] == "relu" else 1.0) / layer["input_dim"])
        out[f"W{l}"] = rng.standard_normal((layer["input_dim"], layer["output_dim"])).T * s
        out[f"b{l}"] = np.zeros((layer["output_dim"], 1))
    return out


def naive_sigmoid_forward(A_prev, W, b, activation="relu"):
    Z = W @ A_prev + b
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-Z)), Z
    return ref.single_layer_forward_propagation(A_prev, W, b, activation)


def forward_without_bias(A_prev, W, b, activation="relu"):
    return ref.single_layer_forward_propagation(A_prev, W, np.zeros_like(b), activation)


def forward_stores_outputs(X, params, architecture):
    Y_hat, memory = ref.full_forward_propagation(X, params, architecture)
    A = X
    for l, layer in enumerate(architecture, 1):
        A, _ = ref.single_layer_forward_propagation(A, params[f"W{l}"], params[f"b{l}"], layer["activation"])
        memory[f"A{l}"] = A
    memory.pop(f"A{len(architecture)}")
    memory["A0"] = memory.get("A1")  # off by one: the layer's output instead of its input
    return Y_hat, memory


def forward_last_layer_relu(X, params, architecture):
    arch = [dict(layer, activation="relu") for layer in architecture]
    return ref.full_forward_propagation(X, params, arch)


def inplace_forward(X, params, architecture):
    X *= 1.0
    X += 0.0
    params["W1"] = params["W1"] * 1.0
    params["b1"] += 1e-3
    return ref.full_forward_propagation(X, params, architecture)


def unclipped_cost(Y_hat, Y):
    m = Y_hat.shape[1]
    return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / m)


def cost_no_mean(Y_hat, Y):
    return ref.get_cost_value(Y_hat, Y) * Y_hat.shape[1]


def cost_array(Y_hat, Y):
    P = np.clip(Y_hat, 1e-15, 1 - 1e-15)
    return -np.sum(Y * np.log(P) + (1 - Y) * np.log(1 - P), axis=1, keepdims=True) / Y_hat.shape[1]


def inplace_relu_backward(dA, Z):
    dA[Z <= 0] = 0
    return dA


def naive_sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def slb_no_mean(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    dZ = ref.activation_backward(dA_curr, Z_curr, activation)
    return W_curr.T @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=1, keepdims=True)


def slb_db_mean_all(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    dA_prev, dW, db = ref.single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation)
    return dA_prev, dW, np.full_like(db, np.mean(ref.activation_backward(dA_curr, Z_curr, activation)))


def slb_dA_prev_from_dA(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    dA_prev, dW, db = ref.single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation)
    return W_curr.T @ dA_curr, dW, db  # forgets g'(Z)


def slb_dW_transposed(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    dA_prev, _, db = ref.single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation)
    dZ = ref.activation_backward(dA_curr, Z_curr, activation)
    return dA_prev, A_prev @ dZ.T / A_prev.shape[1], db


def slb_db_flat(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    dA_prev, dW, db = ref.single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation)
    return dA_prev, dW, db.ravel()  # keepdims forgotten


def full_backward_reversed_layers(Y_hat, Y, memory, params, architecture):
    """Counts layers from the wrong end when looking up the activation: architecture[-l]."""
    grads, L = {}, len(architecture)
    dA = ref.cost_backward(Y_hat, np.reshape(Y, Y_hat.shape))
    for l in reversed(range(1, L + 1)):
        dA, grads[f"dW{l}"], grads[f"db{l}"] = ref.single_layer_backward_propagation(
            dA, params[f"W{l}"], params[f"b{l}"], memory[f"Z{l}"], memory[f"A{l - 1}"], architecture[-l]["activation"])
    return grads


def full_backward_same_activation(Y_hat, Y, memory, params, architecture):
    arch = [dict(layer, activation="relu") for layer in architecture[:-1]] + [architecture[-1]]
    return generic_full_backward(Y_hat, Y, memory, params, arch)


def full_backward_no_chain(Y_hat, Y, memory, params, architecture):
    """Passes the output's dA to every layer instead of the dA_prev of the layer above."""
    grads, L = {}, len(architecture)
    dA_out = ref.cost_backward(Y_hat, np.reshape(Y, Y_hat.shape))
    dA = dA_out
    for l in reversed(range(1, L + 1)):
        _, grads[f"dW{l}"], grads[f"db{l}"] = ref.single_layer_backward_propagation(
            dA, params[f"W{l}"], params[f"b{l}"], memory[f"Z{l}"], memory[f"A{l - 1}"], architecture[l - 1]["activation"])
        dA = np.resize(dA_out, memory[f"A{l - 1}"].shape)
    return grads


def update_ascent(params, grads, architecture, learning_rate):
    return {k: v + learning_rate * grads["d" + k] for k, v in params.items()}


def update_weights_only(params, grads, architecture, learning_rate):
    for l in range(1, len(architecture) + 1):
        params[f"W{l}"] = params[f"W{l}"] - learning_rate * grads[f"dW{l}"]
    return params


def update_first_layer_only(params, grads, architecture, learning_rate):
    params["W1"] = params["W1"] - learning_rate * grads["dW1"]
    params["b1"] = params["b1"] - learning_rate * grads["db1"]
    return params


def train_after_update(X, Y, architecture, epochs, learning_rate, X_test=None, Y_test=None, seed=99, progress=False):
    """Records the cost after the update instead of before it."""
    params = ref.init_layers(architecture, seed)
    history = {"train loss": [], "train accuracy": []}
    if X_test is not None:
        history["test loss"], history["test accuracy"] = [], []
    for _ in range(epochs):
        Y_hat, memory = ref.full_forward_propagation(X, params, architecture)
        params = ref.update(params, ref.full_backward_propagation(Y_hat, Y, memory, params, architecture),
                            architecture, learning_rate)
        Y_hat, _ = ref.full_forward_propagation(X, params, architecture)
        history["train loss"].append(ref.get_cost_value(Y_hat, Y))
        history["train accuracy"].append(ref.get_accuracy_value(Y_hat, Y))
        if X_test is not None:
            Y_t, _ = ref.full_forward_propagation(X_test, params, architecture)
            history["test loss"].append(ref.get_cost_value(Y_t, Y_test))
            history["test accuracy"].append(ref.get_accuracy_value(Y_t, Y_test))
    return params, history


def train_test_on_train(X, Y, architecture, epochs, learning_rate, X_test=None, Y_test=None, seed=99, progress=False):
    P, H = ref.train(X, Y, architecture, epochs, learning_rate, X_test=X_test, Y_test=Y_test, seed=seed)
    if X_test is not None:
        H["test loss"] = list(H["train loss"])
    return P, H


def train_ignores_seed(X, Y, architecture, epochs, learning_rate, X_test=None, Y_test=None, seed=99, progress=False):
    return ref.train(X, Y, architecture, epochs, learning_rate, X_test=X_test, Y_test=Y_test)


MUTANTS = [
    ("graph_by_hand", graph_no_sum, "test_graph_by_hand"),
    ("graph_by_hand", lambda a, b: dict(autodiff.graph_by_hand(a, b), de_dc=a + b, de_dd=b + 1), "test_graph_by_hand"),
    ("init_layers", xavier_everywhere, "test_init_layers"),
    ("init_layers", new_rng_per_layer, "test_init_layers"),
    ("init_layers", transposed_weights, "test_init_layers"),
    ("init_layers", lambda arch, seed=99: ref.init_layers(arch, seed, dtype=np.float32), "test_init_layers"),
    ("single_layer_forward_propagation", naive_sigmoid_forward, "test_single_layer_forward"),
    ("single_layer_forward_propagation", forward_without_bias, "test_single_layer_forward"),
    ("full_forward_propagation", forward_stores_outputs, "test_full_forward"),
    ("full_forward_propagation", forward_last_layer_relu, "test_full_forward"),
    ("full_forward_propagation", inplace_forward, "test_full_forward"),
    ("get_cost_value", unclipped_cost, "test_cost"),
    ("get_cost_value", cost_no_mean, "test_cost"),
    ("get_cost_value", cost_array, "test_cost"),
    ("relu_backward", inplace_relu_backward, "test_activation_backward"),
    ("relu_backward", lambda dA, Z: (Z > 0).astype(float), "test_activation_backward"),
    ("sigmoid_backward", naive_sigmoid_backward, "test_activation_backward"),
    ("sigmoid_backward", lambda dA, Z: dA * ref_act.sigmoid(Z), "test_activation_backward"),
    ("tanh_backward", lambda dA, Z: dA * (1 - np.tanh(Z)), "test_activation_backward"),
    ("single_layer_backward_propagation", slb_no_mean, "test_single_layer_backward"),
    ("single_layer_backward_propagation", slb_db_mean_all, "test_single_layer_backward"),
    ("single_layer_backward_propagation", slb_dA_prev_from_dA, "test_single_layer_backward"),
    ("single_layer_backward_propagation", slb_dW_transposed, "test_single_layer_backward"),
    ("single_layer_backward_propagation", slb_db_flat, "test_single_layer_backward"),
    ("full_backward_propagation", full_backward_reversed_layers, "test_full_backward"),
    ("full_backward_propagation", full_backward_same_activation, "test_full_backward"),
    ("full_backward_propagation", full_backward_no_chain, "test_full_backward"),
    ("update", update_ascent, "test_update"),
    ("update", update_weights_only, "test_update"),
    ("update", update_first_layer_only, "test_update"),
    ("train", train_after_update, "test_train"),
    ("train", train_test_on_train, "test_train"),
    ("train", train_ignores_seed, "test_train"),
    ("gradient_check", make_gradient_check(one_sided=True), "test_gradient_check"),
    ("gradient_check", make_gradient_check(denominator=1), "test_gradient_check"),
    ("gradient_check", make_gradient_check(ignore_epsilon=True), "test_gradient_check"),
    ("gradient_check", make_gradient_check(copy=False), "test_gradient_check"),
    ("gradient_check", make_gradient_check(in_place=True), "test_gradient_check"),
    ("gradient_check", make_gradient_check(norm_sum=False), "test_gradient_check"),
    ("count_parameters", lambda arch: sum(l["output_dim"] * l["input_dim"] for l in arch), "test_count_parameters"),
    ("count_parameters", lambda arch: sum((l["output_dim"] + 1) * l["input_dim"] for l in arch), "test_count_parameters"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert grade_id in failed(ASG, {**reference(), name: fn}, only=[grade_id])


def test_train_uses_the_students_parts():
    """A wrong update makes train fail too, and the hint names the test to fix first."""
    ns = {**reference(), "update": update_ascent}
    ns["train"] = lambda X, Y, architecture, epochs, learning_rate, **kw: ref.train(
        X, Y, architecture, epochs, -learning_rate, **{k: v for k, v in kw.items() if k != "progress"})
    v = verdicts(ASG, ns)
    assert not v["test_update"].passed
    assert not v["test_train"].passed and "fix test_update first" in v["test_train"].message


def test_a_failed_dependency_is_named_in_the_hint():
    v = verdicts(ASG, {**reference(), "Value": value_with(__mul__=_mul_swapped)})
    assert not v["test_value_ops"].passed and "fix test_value_graph first" in v["test_value_ops"].message


def notebook_namespace(folder):
    """The definitions of a 03 notebook: its solution cells and locked helper cells, run in order."""
    import matplotlib
    matplotlib.use("Agg")
    from course.paths import COURSE_ROOT
    from course.validation import read_notebook
    nb = read_notebook(COURSE_ROOT / folder / ASG / f"{ASG}.ipynb")
    ns = {"__name__": "__notebook__"}
    with matplotlib.rc_context():  # the notebook sets the course's plot style: keep it out of this process
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and "grade_id" in meta and not meta.get("grade"):
                exec(compile(cell.source, meta["grade_id"], "exec"), ns)
    if "_blas" in ns:
        ns["_blas"].restore_original_limits()  # the imports cell limits BLAS to one thread
    return ns


def test_the_source_notebooks_solutions_pass_and_the_release_stubs_fail(capsys):
    assert failed(ASG, notebook_namespace("source")) == []
    assert set(failed(ASG, notebook_namespace("release"))) == set(checks_of(ASG).tests)
