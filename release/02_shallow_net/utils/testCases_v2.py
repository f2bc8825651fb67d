"""Fixed inputs for the shallow-network exercise, compatible with deeplearning.ai's ``testCases_v2``.

Each ``*_test_case()`` returns exactly what the canonical helper of the same name returns, so
the canonical "expected outputs" apply. The inputs are data, shipped with the package in
``utils/data/testcases_v2.json``:

- a ``"draws"`` entry is drawn from NumPy's legacy global generator after
  ``np.random.seed(seed)``, in the listed order; ``"randn"`` is ``np.random.randn(*shape)`` and
  ``"randn>0"`` is ``np.random.randn(*shape) > 0`` (a boolean array, as in the original);
- ``"fixed"`` values are literal float arrays;
- ``"returns"`` gives the order of the returned values (a ``{"parameters": [...]}`` entry is a
  dict built from those names).

Like the originals, the functions that draw reseed the global generator. Every call returns
fresh arrays, so a function that modifies its inputs cannot spoil the next test.
"""
import json
from pathlib import Path

import numpy as np

__all__ = [
    "layer_sizes_test_case",
    "initialize_parameters_test_case",
    "forward_propagation_test_case",
    "compute_cost_test_case",
    "backward_propagation_test_case",
    "update_parameters_test_case",
    "nn_model_test_case",
    "predict_test_case",
]

DATA_FILE = Path(__file__).with_name("data") / "testcases_v2.json"
_SPEC = None


def _spec():
    global _SPEC
    if _SPEC is None:
        with open(DATA_FILE, encoding="utf-8") as f:
            _SPEC = json.load(f)
    return _SPEC


def _array(value):
    """A JSON value -> float array, or a dict of them (recursively)."""
    if isinstance(value, dict):
        return {k: _array(v) for k, v in value.items()}
    return np.array(value, dtype=float)


def _build(name):
    """Evaluate the recipe of the test case ``name`` and return its values in order."""
    case = _spec()[name]
    values = {}
    if "draws" in case:
        np.random.seed(case["seed"])
        for var, kind, shape in case["draws"]:
            sample = np.random.randn(*shape)
            if kind == "randn":
                values[var] = sample
            elif kind == "randn>0":
                values[var] = sample > 0
            else:  # pragma: no cover - guards a corrupted data file
                raise ValueError(f"{name}: unknown draw kind {kind!r}")
    fixed = case.get("fixed", {})
    if name == "predict_test_case":
        # the canonical predict_test_case reuses update_parameters_test_case's parameters
        fixed = {"parameters": _spec()["update_parameters_test_case"]["fixed"]["parameters"]}
    for var, value in fixed.items():
        values[var] = _array(value)
    out = []
    for item in case["returns"]:
        if isinstance(item, dict):  # {"parameters": ["W1", ...]}
            (key, names), = item.items()
            out.append({k: values[k] for k in names})
        elif isinstance(item, str):
            out.append(values[item])
        else:  # literal numbers
            out.append(item)
    return tuple(out)


def layer_sizes_test_case():
    """Returns ``X_assess`` of shape ``(5, 3)`` and ``Y_assess`` of shape ``(2, 3)``.

    Expected ``layer_sizes(X_assess, Y_assess)``: ``(5, 4, 2)``.
    """
    return _build("layer_sizes_test_case")


def initialize_parameters_test_case():
    """Returns ``(n_x, n_h, n_y) = (2, 4, 1)``."""
    return _build("initialize_parameters_test_case")


def forward_propagation_test_case():
    """Returns ``X_assess`` ``(2, 3)`` and ``parameters`` (``W1`` ``(4, 2)``, ``b1`` ``(4, 1)``,
    ``W2`` ``(1, 4)``, ``b2 = [[-1.3]]``).

    Expected means of ``Z1, A1, Z2, A2``: 0.262818640198, 0.091999045227, -1.30766601287,
    0.212877681719.
    """
    return _build("forward_propagation_test_case")


def compute_cost_test_case():
    """Returns ``a2`` ``(1, 3)``, ``Y_assess`` (boolean ``(1, 3)``) and ``parameters``.

    Expected cost: 0.693058761...
    """
    return _build("compute_cost_test_case")


def backward_propagation_test_case():
    """Returns ``parameters``, ``cache`` (``A1, A2, Z1, Z2``), ``X_assess`` ``(2, 3)`` and
    ``Y_assess`` (boolean ``(1, 3)``)."""
    return _build("backward_propagation_test_case")


def update_parameters_test_case():
    """Returns ``parameters`` (``W1, b1, W2, b2``) and ``grads`` (``dW1, db1, dW2, db2``)."""
    return _build("update_parameters_test_case")


def nn_model_test_case():
    """Returns ``X_assess`` ``(2, 3)`` and ``Y_assess`` (boolean ``(1, 3)``)."""
    return _build("nn_model_test_case")


def predict_test_case():
    """Returns ``parameters`` (those of :func:`update_parameters_test_case`) and ``X_assess``
    ``(2, 3)``.

    Expected mean of ``predict(parameters, X_assess)``: 0.666666666667.
    """
    return _build("predict_test_case")
