"""01_activations' grader-side checks: the reference and honest alternatives pass, realistic bugs fail."""
import warnings

import numpy as np
import pytest

from course.reference import activations as ref
from tests.checks.harness import failed, module_namespace

ASG = "01_activations"


def reference():
    return module_namespace(ref)




def test_reference_passes_everything():
    assert failed(ASG, reference()) == []


def loop_sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    for i, v in np.ndenumerate(z):
        out[i] = 1 / (1 + np.exp(-v)) if v >= 0 else np.exp(v) / (1 + np.exp(v))
    return out


def chatty_relu(z):
    print("computing relu of", np.shape(z))
    warnings.warn("just a warning")
    return np.maximum(z, 0)


def float32_jacobian(z):
    s = ref.softmax(np.asarray(z, dtype=np.float32))
    return np.diag(s) - np.outer(s, s)


@pytest.mark.parametrize("name, fn", [("sigmoid", loop_sigmoid), ("relu", chatty_relu),
                                      ("softmax_jacobian", float32_jacobian)])
def test_honest_alternatives_pass(name, fn):
    assert failed(ASG, {**reference(), name: fn}) == []


def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))            # overflows for z = -1000


def inplace_relu(z):
    z[z < 0] = 0
    return z


def naive_softmax(Z):
    e = np.exp(Z)
    return e / e.sum(axis=0)


def row_softmax(Z):
    return ref.softmax(Z, axis=-1)


MUTANTS = [
    ("sigmoid", naive_sigmoid, "test_sigmoid"),
    ("sigmoid_derivative", lambda z: ref.sigmoid(z) * (1 + ref.sigmoid(z)), "test_sigmoid_derivative"),
    ("tanh", lambda z: np.tanh(z) * 0.999, "test_tanh"),
    ("tanh_derivative", lambda z: 1 - np.tanh(z), "test_tanh_derivative"),
    ("relu", inplace_relu, "test_relu"),
    ("relu", lambda z: np.abs(z), "test_relu"),
    ("relu_derivative", lambda z: (np.asarray(z) > 0), "test_relu_derivative"),
    ("leaky_relu", lambda z, alpha=0.01: np.where(z > 0, z, 0.01 * z), "test_leaky_relu"),
    ("leaky_relu_derivative", lambda z, alpha=0.01: np.where(z > 0, 1.0, 0.0), "test_leaky_relu_derivative"),
    ("softmax", naive_softmax, "test_softmax"),
    ("softmax", row_softmax, "test_softmax"),
    ("softmax_jacobian", lambda z: np.diag(ref.softmax(z)), "test_softmax_jacobian"),
]


@pytest.mark.parametrize("name, fn, grade_id", MUTANTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_realistic_bugs_fail(name, fn, grade_id):
    with np.errstate(all="ignore"):
        assert grade_id in failed(ASG, {**reference(), name: fn})


def test_a_failed_dependency_is_named_in_the_hint():
    from tests.checks.harness import verdicts
    v = verdicts(ASG, {**reference(), "softmax": naive_softmax, "softmax_jacobian": lambda z: np.eye(len(z))})
    assert not v["test_softmax_jacobian"].passed and "fix test_softmax first" in v["test_softmax_jacobian"].message
