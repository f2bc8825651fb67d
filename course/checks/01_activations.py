"""Grader-side tests of 01_activations: random shapes, |z| = 1000, finite differences, inputs kept.

Each test calls the student's function in their kernel (``student.NAME``) and compares in the
grader with ``course.reference.activations``. The visible tests' expected values come from the
``expected`` functions below (written to ``expected.json`` by ``course build``).
"""
import numpy as np

from course.checks import Checks, check_close, check_finite, check_shape, numerical_gradient
from course.reference import activations as ref

checks = Checks("01_activations")
STRICT = {"over": "raise", "invalid": "raise", "divide": "raise"}

# Inputs of the visible tests (the notebook uses the same literals).
Z_SIGMOID = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
Z_SIGMOID_DERIVATIVE = np.array([-3.0, 0.0, 3.0])
Z_TANH = np.array([-1000.0, -1.0, 0.0, 0.5])
Z_TANH_DERIVATIVE = np.array([-1.0, 0.0, 2.0])
Z_RELU = np.array([[-2.0, -0.0, 0.5], [3.0, -1e-9, 1000.0]])
Z_RELU_DERIVATIVE = np.array([-2.0, 0.0, 0.5, 3.0])
Z_LEAKY = np.array([-100.0, -1.0, 0.0, 2.0])
Z_LEAKY_DERIVATIVE = np.array([-3.0, 0.0, 4.0])
Z_SOFTMAX = np.array([[1.0, 1000.0], [2.0, 1000.0], [3.0, -1000.0]])
Z_JACOBIAN = np.array([1.0, 2.0, 3.0])


@checks.expected("sigmoid")
def _():
    return ref.sigmoid(Z_SIGMOID)


@checks.expected("sigmoid_derivative")
def _():
    return ref.sigmoid_derivative(Z_SIGMOID_DERIVATIVE)


@checks.expected("tanh")
def _():
    return ref.tanh(Z_TANH)


@checks.expected("tanh_derivative")
def _():
    return ref.tanh_derivative(Z_TANH_DERIVATIVE)


@checks.expected("relu")
def _():
    return ref.relu(Z_RELU)


@checks.expected("relu_derivative")
def _():
    return ref.relu_derivative(Z_RELU_DERIVATIVE)


@checks.expected("leaky_relu")
def _():
    return {"default": ref.leaky_relu(Z_LEAKY), "alpha_0.2": ref.leaky_relu(Z_LEAKY, alpha=0.2)}


@checks.expected("leaky_relu_derivative")
def _():
    return ref.leaky_relu_derivative(Z_LEAKY_DERIVATIVE)


@checks.expected("softmax")
def _():
    return ref.softmax(Z_SOFTMAX)


@checks.expected("softmax_jacobian")
def _():
    return ref.softmax_jacobian(Z_JACOBIAN)


@checks.test("test_sigmoid")
def _(student, rng):
    check_close(student.sigmoid.call([Z_SIGMOID], errstate=STRICT), ref.sigmoid(Z_SIGMOID), "sigmoid(z)")
    for shape in [(1,), (7, 3), (2, 5, 4)]:
        z = rng.normal(scale=8, size=shape)
        check_close(student.sigmoid.pure(z), ref.sigmoid(z), f"sigmoid on a random {shape} input")
    big = np.array([[-1000.0, -710.0, 710.0, 1000.0], [-1e6, 1e6, -50.0, 50.0]])
    check_close(student.sigmoid.call([big], errstate=STRICT), ref.sigmoid(big), "sigmoid for large |z|")
    check_close(student.sigmoid(-3.0) + student.sigmoid(3.0), 1.0, "sigmoid(-3) + sigmoid(3)")


@checks.test("test_sigmoid_derivative", needs=["test_sigmoid"])
def _(student, rng):
    z = rng.normal(scale=4, size=(4, 6))
    check_close(student.sigmoid_derivative.pure(z), ref.sigmoid_derivative(z), "sigmoid_derivative on a random input")
    x = rng.normal(size=5)
    num = np.array([(ref.sigmoid(v + 1e-6) - ref.sigmoid(v - 1e-6)) / 2e-6 for v in x])
    check_close(student.sigmoid_derivative(x), num, "sigmoid_derivative vs finite differences", rtol=1e-5, atol=1e-8)
    check_finite(student.sigmoid_derivative.call([np.array([-1000.0, 1000.0])], errstate=STRICT),
                 "sigmoid_derivative for |z| = 1000")


@checks.test("test_tanh")
def _(student, rng):
    check_close(student.tanh(Z_TANH), ref.tanh(Z_TANH), "tanh(z)")
    z = rng.normal(scale=5, size=(3, 7))
    check_close(student.tanh.pure(z), ref.tanh(z), "tanh on a random input")
    check_close(student.tanh.call([np.array([[-1000.0, 1000.0]])], errstate=STRICT), [[-1.0, 1.0]], "tanh for |z| = 1000")


@checks.test("test_tanh_derivative", needs=["test_tanh"])
def _(student, rng):
    x = rng.normal(size=(2, 3))
    num = numerical_gradient(lambda: float(np.sum(ref.tanh(x))), x)
    check_close(student.tanh_derivative.pure(x), num, "tanh_derivative vs finite differences", rtol=1e-5, atol=1e-8)
    check_close(student.tanh_derivative(np.array([-1000.0, 1000.0])), [0.0, 0.0], "tanh_derivative for |z| = 1000")


@checks.test("test_relu")
def _(student, rng):
    check_close(student.relu(Z_RELU), ref.relu(Z_RELU), "relu(z)")
    z = rng.normal(size=(5, 2, 3))
    check_close(student.relu.pure(z), ref.relu(z), "relu on a random input")


@checks.test("test_relu_derivative")
def _(student, rng):
    z = rng.normal(size=(6, 4))
    got = student.relu_derivative.pure(z)
    check_close(got, ref.relu_derivative(z), "relu_derivative on a random input")
    if np.asarray(got).dtype.kind != "f":
        raise AssertionError("relu_derivative should return floats, e.g. with .astype(float)")


@checks.test("test_leaky_relu")
def _(student, rng):
    check_close(student.leaky_relu(Z_LEAKY), ref.leaky_relu(Z_LEAKY), "leaky_relu(z)")
    z = rng.normal(size=(3, 9))
    for a in (0.01, 0.1, 0.3):
        check_close(student.leaky_relu.pure(z, alpha=a), ref.leaky_relu(z, alpha=a), f"leaky_relu with alpha={a}")


@checks.test("test_leaky_relu_derivative")
def _(student, rng):
    z = rng.normal(size=(4, 4))
    check_close(student.leaky_relu_derivative.pure(z, alpha=0.2), ref.leaky_relu_derivative(z, alpha=0.2),
                "leaky_relu_derivative with alpha=0.2")
    check_shape(np.asarray(student.leaky_relu_derivative(z)), (4, 4), "leaky_relu_derivative of a (4, 4) array")


@checks.test("test_softmax")
def _(student, rng):
    check_close(student.softmax.call([Z_SOFTMAX], errstate=STRICT), ref.softmax(Z_SOFTMAX), "softmax(Z)")
    for shape in [(10, 1), (4, 7), (2, 50)]:
        Z = rng.normal(scale=6, size=shape)
        S = student.softmax.pure(Z)
        check_close(S, ref.softmax(Z, axis=0), f"softmax on a random {shape} input")
        check_close(student.softmax(Z + 123.4), ref.softmax(Z, axis=0), "softmax(Z + c) (should equal softmax(Z))")
        shifted = Z - rng.normal(size=(1, shape[1])) * 500
        check_close(student.softmax(shifted), ref.softmax(Z, axis=0), "softmax with a different shift per column")
    Z = np.array([[1000.0, -1000.0, 0.0], [999.0, -1000.0, 0.0], [-1000.0, -999.0, 1e-300]])
    check_close(student.softmax.call([Z], errstate=STRICT), ref.softmax(Z, axis=0), "softmax for |z| = 1000")
    v = np.array([1.0, 2.0, 3.0])
    check_close(student.softmax(v), ref.softmax(v), "softmax of a 1-D vector")


@checks.test("test_softmax_jacobian", needs=["test_softmax"])
def _(student, rng):
    check_close(student.softmax_jacobian(Z_JACOBIAN), ref.softmax_jacobian(Z_JACOBIAN), "softmax_jacobian([1, 2, 3])")
    for C in (2, 5, 9):
        z = rng.normal(scale=3, size=C)
        J = student.softmax_jacobian.pure(z)
        check_close(J, ref.softmax_jacobian(z), f"softmax_jacobian for C={C}", rtol=1e-5, atol=1e-7)
        num = np.column_stack([(ref.softmax(z + 1e-6 * e) - ref.softmax(z - 1e-6 * e)) / 2e-6 for e in np.eye(C)])
        check_close(J, num, f"softmax_jacobian vs finite differences (C={C})", rtol=1e-4, atol=1e-7)
