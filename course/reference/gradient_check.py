"""Gradient checking: compare backpropagation with centred finite differences.

deeplearning.ai style helpers flatten a parameter dict into one column vector and back:

    theta, keys = dictionary_to_vector(params)        # theta (n, 1), keys: one name per entry
    params2 = vector_to_dictionary(theta, params)     # same keys and shapes as params
    grad = gradients_to_vector(grads, params)         # dW1, db1, ... in the order of theta

and :func:`gradient_check` computes, for every entry i of theta,

    gradapprox_i = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)

and returns the relative error ``||grad - gradapprox|| / (||grad|| + ||gradapprox||)``.
Below about 1e-7 the backward pass is almost surely right; above 1e-3 it almost surely has a bug.
:func:`network_gradient_check` is the same for a dense network of :mod:`course.reference.dense`
(the signature of the ``03_backprop`` notebook's graded ``gradient_check``).
"""

import numpy as np


# The flattening helpers students get in 03 (utils.backprop_helpers) are the same: one copy.
from utils.backprop_helpers import _param_order, dictionary_to_vector, parameter_keys  # noqa: E402,F401


def vector_to_dictionary(theta, template):
    """Inverse of :func:`dictionary_to_vector`.

    Args:
        theta: array of n entries (shape ``(n, 1)`` or ``(n,)``).
        template: dict name -> array (or name -> shape tuple) giving the keys and shapes.
    Returns:
        dict name -> array of the template's shape, filled from theta in canonical order.
    """
    theta = np.asarray(theta, dtype=float).ravel()
    out, start = {}, 0
    for key in parameter_keys(template):
        shape = template[key] if isinstance(template[key], tuple) else np.shape(template[key])
        size = int(np.prod(shape))
        out[key] = theta[start:start + size].reshape(shape).copy()
        start += size
    if start != theta.size:
        raise ValueError(f"theta has {theta.size} entries but the template needs {start}")
    return out


def gradients_to_vector(gradients, parameters=None):
    """Stack ``dW1, db1, ...`` into a column vector aligned with :func:`dictionary_to_vector`.

    Args:
        gradients: dict ``"d" + name`` -> array for every parameter name.
        parameters: the parameter dict (or its keys); defaults to the gradients' names without "d".
    Returns:
        array of shape ``(n, 1)``.
    """
    if parameters is None:
        names = [k[1:] for k in gradients if k.startswith("d")]
    else:
        names = list(parameters)
    order = sorted(names, key=_param_order)
    pieces = [np.reshape(gradients["d" + name], (-1, 1)) for name in order]
    return np.concatenate(pieces, axis=0).astype(float) if pieces else np.zeros((0, 1))


def numerical_gradient_vector(params, cost_fn, epsilon=1e-7):
    """Centred-difference gradient of ``cost_fn(params_dict) -> float``, as a column ``(n, 1)``."""
    theta, _ = dictionary_to_vector(params)
    n = theta.shape[0]
    gradapprox = np.zeros((n, 1))
    for i in range(n):
        theta_plus = theta.copy()
        theta_plus[i, 0] += epsilon
        theta_minus = theta.copy()
        theta_minus[i, 0] -= epsilon
        J_plus = float(cost_fn(vector_to_dictionary(theta_plus, params)))
        J_minus = float(cost_fn(vector_to_dictionary(theta_minus, params)))
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    return gradapprox


def gradient_check(params, grads, cost_fn, epsilon=1e-7, print_msg=False):
    """Relative error between backprop gradients and centred finite differences.

    Args:
        params: dict name -> array (``W1``, ``b1``, ...), the point where gradients are checked.
        grads: dict ``"d" + name`` -> array of the same shapes, from backpropagation.
        cost_fn: callable ``cost_fn(params_dict) -> float``, the cost J at any parameters
            (it receives fresh dicts; ``params`` itself is never modified).
        epsilon: step of the finite differences.
        print_msg: print a verdict.
    Returns:
        float ``||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2)`` (0 when both vanish).
    """
    grad = gradients_to_vector(grads, params)
    gradapprox = numerical_gradient_vector(params, cost_fn, epsilon)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = float(np.linalg.norm(grad - gradapprox) / denominator) if denominator > 0 else 0.0
    if print_msg:
        if difference < 1e-7:
            print(f"The backward pass looks right: relative error {difference:.2e}.")
        else:
            print(f"There may be a mistake in the backward pass: relative error {difference:.2e}.")
    return difference


def network_gradient_check(params, grads, X, Y, architecture, epsilon=1e-7):
    """:func:`gradient_check` of the cross-entropy cost of a dense network at ``params``.

    Args:
        params: dict ``W1, b1, ...`` (not modified); grads: dict ``dW1, db1, ...`` from backprop.
        X: inputs ``(n_x, m)``; Y: labels ``(n_L, m)``; architecture: list of L layer dicts
            (see :mod:`course.reference.dense`); epsilon: the finite-difference step.
    Returns:
        float, the relative error ``||grad - gradapprox|| / (||grad|| + ||gradapprox||)``.
    """
    from course.reference import dense

    def cost(q):
        return dense.get_cost_value(dense.full_forward_propagation(X, q, architecture)[0], Y)

    return gradient_check(params, grads, cost, epsilon=epsilon)
