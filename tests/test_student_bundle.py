"""The student's bundle (``course release``, ``release/<asg>/``) holds no answer.

For every assignment k, the bundle is built into a temporary folder and each module of its
``utils/`` is imported in a fresh interpreter that sees the bundle and the installed packages but
not the repository (``import course`` must fail there). Every top-level callable of those modules
is called with the inputs of a probe of every function graded in k or a later assignment; a
callable whose output (or whose in-place change of an argument) reproduces the reference's
output is a leak. The probes compare with ``course.reference``, the answer key, in this process.

The slow test grades, through the real grader, a 01 submission whose graded cells delegate to
functions of the same name importable from the course (``utils`` or the answer key): 0 points.
"""
import ast
import copy
import json
import os
import pickle
import re
import subprocess
import sys
import sysconfig
import zipfile
from importlib import import_module

import nbformat
import numpy as np
import pytest
from conftest import ROOT, assignments

from course.bundle import bundle_files, write_bundle
from course.paths import existing_assignments

CALL_SECONDS = 2.0  # time limit of one call of a bundle callable


# --- graded functions -----------------------------------------------------------------------------
def graded_functions(root=ROOT):
    """name -> set of assignments whose source notebook defines it in a graded solution cell."""
    found = {}
    for asg in existing_assignments(root):
        for path in sorted((root / "source" / asg).glob("*.ipynb")):
            nb = json.loads(path.read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if cell["cell_type"] == "code" and meta.get("solution"):
                    source = "".join(cell["source"])
                    for name in re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, re.MULTILINE):
                        found.setdefault(name, set()).add(asg)
    return found


# --- probes: graded function name -> [(reference "module:function", input factory)] ---------------
def _r(seed):
    return np.random.default_rng(seed)


def _z(seed=0, shape=(3, 5), scale=3.0):
    return _r(seed).normal(scale=scale, size=shape)


ARCH = [{"input_dim": 3, "output_dim": 4, "activation": "relu"},
        {"input_dim": 4, "output_dim": 2, "activation": "tanh"},
        {"input_dim": 2, "output_dim": 1, "activation": "sigmoid"}]


def _dense_setup(seed=5):
    r = _r(seed)
    params = {}
    for l, layer in enumerate(ARCH, 1):
        params[f"W{l}"] = r.normal(size=(layer["output_dim"], layer["input_dim"]))
        params[f"b{l}"] = r.normal(size=(layer["output_dim"], 1))
    X = r.normal(size=(3, 8))
    Y = (r.random((1, 8)) > 0.5).astype(float)
    return params, X, Y


def _dense_forward():
    from course.reference import dense
    params, X, Y = _dense_setup()
    Y_hat, memory = dense.full_forward_propagation(X, params, ARCH)
    return params, X, Y, Y_hat, memory


def _dense_grads():
    from course.reference import dense
    params, X, Y, Y_hat, memory = _dense_forward()
    return params, X, Y, dense.full_backward_propagation(Y_hat, Y, memory, params, ARCH)


def _shallow():
    r = _r(7)
    params = {"W1": r.normal(size=(4, 2)), "b1": r.normal(size=(4, 1)), "W2": r.normal(size=(1, 4)),
              "b2": r.normal(size=(1, 1))}
    X = r.normal(size=(2, 9))
    Y = (r.random((1, 9)) > 0.5).astype(float)
    return params, X, Y


def _shallow_cache():
    from course.reference import shallow_net
    params, X, Y = _shallow()
    A2, cache = shallow_net.forward_propagation(X, params)
    return params, X, Y, A2, cache


def _opt():
    r = _r(11)
    params = {"W1": r.normal(size=(3, 2)), "b1": r.normal(size=(3, 1)), "W2": r.normal(size=(1, 3)),
              "b2": r.normal(size=(1, 1))}
    grads = {"d" + k: r.normal(size=v.shape) for k, v in params.items()}
    state = {"d" + k: np.abs(r.normal(size=v.shape)) for k, v in params.items()}
    return params, grads, state


def _conv():
    from course.reference import cnn_utils
    r = _r(13)
    A = r.normal(size=(2, 5, 5, 3))
    W = r.normal(size=(3, 3, 3, 4))
    b = r.normal(size=(1, 1, 1, 4))
    Z, cache = cnn_utils.conv_forward(A, W, b, {"stride": 2, "pad": 1})
    return A, W, b, Z, cache


def _pool(mode):
    from course.reference import cnn_utils
    A = _r(17).normal(size=(2, 4, 4, 3))
    P, cache = cnn_utils.pool_forward(A, {"f": 2, "stride": 2}, mode)
    return A, P, cache


def _rnn_params():
    r = _r(19)
    n_x, n_a, n_y = 3, 5, 2
    return {"Wax": r.normal(size=(n_a, n_x)), "Waa": r.normal(size=(n_a, n_a)), "Wya": r.normal(size=(n_y, n_a)),
            "ba": r.normal(size=(n_a, 1)), "by": r.normal(size=(n_y, 1))}


def _lstm_params():
    r = _r(23)
    n_x, n_a, n_y = 3, 5, 2
    p = {f"W{g}": r.normal(size=(n_a, n_a + n_x)) for g in "fico"}
    p.update({f"b{g}": r.normal(size=(n_a, 1)) for g in "fico"})
    p.update(Wy=r.normal(size=(n_y, n_a)), by=r.normal(size=(n_y, 1)))
    return p


def _rnn_step():
    from course.reference import rnn_utils
    r = _r(29)
    return rnn_utils.rnn_cell_forward(r.normal(size=(3, 4)), r.normal(size=(5, 4)), _rnn_params())


def _rnn_seq():
    from course.reference import rnn_utils
    r = _r(31)
    return rnn_utils.rnn_forward(r.normal(size=(3, 4, 6)), r.normal(size=(5, 4)), _rnn_params())


def _lstm_step():
    from course.reference import rnn_utils
    r = _r(37)
    return rnn_utils.lstm_cell_forward(r.normal(size=(3, 4)), r.normal(size=(5, 4)), r.normal(size=(5, 4)),
                                       _lstm_params())


def _lstm_seq():
    from course.reference import rnn_utils
    r = _r(41)
    return rnn_utils.lstm_forward(r.normal(size=(3, 4, 6)), r.normal(size=(5, 4)), _lstm_params())


def _x6():
    r = _r(43)
    X6 = r.normal(size=(6, 7))
    return X6, (r.random((1, 7)) > 0.5).astype(float), r.normal(size=(6, 1))


def _char_params(V=5, n_a=6, seed=71):
    r = _r(seed)
    return {"Wax": r.normal(scale=0.5, size=(n_a, V)), "Waa": r.normal(scale=0.5, size=(n_a, n_a)),
            "Wya": r.normal(scale=0.5, size=(V, n_a)), "ba": r.normal(size=(n_a, 1)), "by": r.normal(size=(V, 1))}


def _names_batch():
    X = np.array([[0, 1, 2, 3], [0, 4, 2, 0]])
    Y = np.array([[1, 2, 3, 0], [4, 2, 0, -1]])
    return X, Y, _z(72, (6, 2), 0.5), _char_params()


def _reg3():
    """X, Y, parameters of a [3, 5, 4, 1] network, its plain cache and a dropout cache (fixed masks)."""
    from course.reference import regularization
    X, Y = _z(85, (3, 7)), (_z(86, (1, 7)) > 0).astype(float)
    params = {"W1": _z(87, (5, 3), 0.7), "b1": _z(88, (5, 1), 0.3), "W2": _z(89, (4, 5), 0.7),
              "b2": _z(90, (4, 1), 0.3), "W3": _z(91, (1, 4), 0.7), "b3": _z(92, (1, 1), 0.3)}
    D1, D2 = (_z(93, (5, 7)) > -1).astype(float), (_z(94, (4, 7)) > -1).astype(float)
    return (X, Y, params, regularization.forward_propagation(X, params)[1],
            regularization.forward_propagation_with_masks(X, params, D1, D2, 0.8)[1])


def _bn_cache():
    from course.reference import regularization
    return regularization.batchnorm_forward(_z(95, (6, 4)), _z(96, (4,)), _z(97, (4,)), {"mode": "train"})[1]


PROBES = {
    # 01_activations
    "sigmoid": [("activations:sigmoid", lambda: ((_z(1),), {}))],
    "sigmoid_derivative": [("activations:sigmoid_derivative", lambda: ((_z(2),), {}))],
    "tanh": [("activations:tanh", lambda: ((_z(3),), {}))],
    "tanh_derivative": [("activations:tanh_derivative", lambda: ((_z(4),), {}))],
    "relu": [("activations:relu", lambda: ((_z(5),), {}))],
    "relu_derivative": [("activations:relu_derivative", lambda: ((_z(6),), {}))],
    "leaky_relu": [("activations:leaky_relu", lambda: ((_z(7),), {})),
                   ("activations:leaky_relu", lambda: ((_z(8), 0.2), {}))],
    "leaky_relu_derivative": [("activations:leaky_relu_derivative", lambda: ((_z(9),), {})),
                              ("activations:leaky_relu_derivative", lambda: ((_z(10), 0.2), {}))],
    "softmax": [("activations:softmax", lambda: ((_z(11, (4, 6)),), {})),
                ("activations:softmax", lambda: ((_z(12, (5,)),), {}))],
    "softmax_jacobian": [("activations:softmax_jacobian", lambda: ((_z(13, (4,)),), {}))],
    # 02_shallow_net
    "layer_sizes": [("shallow_net:layer_sizes", lambda: ((_z(14, (5, 7)), _z(15, (2, 7))), {}))],
    "initialize_parameters": [("shallow_net:initialize_parameters", lambda: ((3, 5, 2), {}))],
    "forward_propagation": [("shallow_net:forward_propagation", lambda: ((_shallow()[1], _shallow()[0]), {}))],
    "compute_cost": [("shallow_net:compute_cost",
                      lambda: ((_shallow_cache()[3], _shallow_cache()[2]), {}))],
    "backward_propagation": [("shallow_net:backward_propagation",
                              lambda: ((_shallow_cache()[0], _shallow_cache()[4], _shallow_cache()[1],
                                        _shallow_cache()[2]), {}))],
    "update_parameters": [("shallow_net:update_parameters",
                           lambda: ((_shallow()[0], {"d" + k: v * 0.3 for k, v in _shallow()[0].items()}, 1.2), {}))],
    "nn_model": [("shallow_net:nn_model", lambda: ((_shallow()[1], _shallow()[2], 4, 5), {}))],
    "predict": [("shallow_net:predict", lambda: ((_shallow()[0], _shallow()[1]), {}))],
    # 03_backprop
    "init_layers": [("dense:init_layers", lambda: ((ARCH, 7), {}))],
    "count_parameters": [("dense:count_parameters", lambda: ((ARCH,), {}))],
    "single_layer_forward_propagation": [
        ("dense:single_layer_forward_propagation",
         lambda: ((_z(16, (3, 5)), _z(17, (4, 3)), _z(18, (4, 1)), "tanh"), {}))],
    "full_forward_propagation": [("dense:full_forward_propagation",
                                  lambda: ((_dense_setup()[1], _dense_setup()[0], ARCH), {}))],
    "get_cost_value": [("dense:get_cost_value", lambda: ((_dense_forward()[3], _dense_forward()[2]), {}))],
    "relu_backward": [("activations:relu_backward", lambda: ((_z(19), _z(20)), {}))],
    "sigmoid_backward": [("activations:sigmoid_backward", lambda: ((_z(21), _z(22)), {}))],
    "tanh_backward": [("activations:tanh_backward", lambda: ((_z(23), _z(24)), {}))],
    "single_layer_backward_propagation": [
        ("dense:single_layer_backward_propagation",
         lambda: ((_z(25, (4, 5)), _z(26, (4, 3)), _z(27, (4, 1)), _z(28, (4, 5)), _z(29, (3, 5)), "tanh"), {}))],
    "full_backward_propagation": [("dense:full_backward_propagation",
                                   lambda: ((_dense_forward()[3], _dense_forward()[2], _dense_forward()[4],
                                             _dense_forward()[0], ARCH), {}))],
    "update": [("dense:update", lambda: ((_dense_grads()[0], _dense_grads()[3], ARCH, 0.3), {}))],
    "train": [("dense:train", lambda: ((_dense_setup()[1], _dense_setup()[2], ARCH, 3, 0.1), {}))],
    "gradient_check": [("gradient_check:network_gradient_check",
                        lambda: ((_dense_grads()[0], {k: v * 1.1 for k, v in _dense_grads()[3].items()},
                                  _dense_grads()[1], _dense_grads()[2], ARCH), {}))],
    # 04_mnist_softmax
    "one_hot": [("losses:one_hot", lambda: ((np.array([2, 0, 3, 1, 3, 2]), 5), {}))],
    "softmax_cross_entropy": [("losses:softmax_cross_entropy",
                               lambda: ((_z(30, (4, 6)), np.eye(4)[:, [0, 3, 1, 1, 2, 0]]), {}))],
    "softmax_cross_entropy_gradient": [("losses:softmax_cross_entropy_gradient",
                                        lambda: ((_z(31, (4, 6)), np.eye(4)[:, [2, 3, 1, 0, 2, 0]]), {}))],
    "logistic_propagate": [("losses:logistic_propagate",
                            lambda: ((_z(60, (4, 1)), 0.3, _z(61, (4, 7)), (_z(62, (1, 7)) > 0).astype(float)), {}))],
    "minibatch_step": [("mlp:minibatch_step",
                        lambda: (({"W1": _z(63, (5, 4), 0.5), "b1": _z(64, (5, 1), 0.5), "W2": _z(65, (3, 5), 0.5),
                                   "b2": _z(66, (3, 1), 0.5)}, _z(67, (4, 6)), np.eye(3)[:, [0, 2, 1, 1, 0, 2]], 0.1),
                                  {}))],
    # 05_optimizers
    "expand": [("optimizers:expand", lambda: ((_z(32, (2, 5)),), {}))],
    "probability": [("optimizers:probability", lambda: ((_x6()[0], _x6()[2]), {}))],
    "compute_loss": [("optimizers:compute_loss", lambda: (_x6(), {}))],
    "compute_grad": [("optimizers:compute_grad", lambda: (_x6(), {}))],
    "random_mini_batches": [("minibatch:random_mini_batches", lambda: ((_z(33, (3, 10)), _z(34, (1, 10)), 4, 3), {}))],
    "update_parameters_with_gd": [("optimizers:update_parameters_with_gd", lambda: ((*_opt()[:2], 0.1), {}))],
    "initialize_velocity": [("optimizers:initialize_velocity", lambda: ((_opt()[0],), {}))],
    "update_parameters_with_momentum": [("optimizers:update_parameters_with_momentum",
                                         lambda: ((*_opt(), 0.9, 0.1), {}))],
    "update_parameters_with_rmsprop": [("optimizers:update_parameters_with_rmsprop",
                                        lambda: ((*_opt(), 0.9, 0.01, 1e-8), {}))],
    "initialize_adam": [("optimizers:initialize_adam", lambda: ((_opt()[0],), {}))],
    "update_parameters_with_adam": [("optimizers:update_parameters_with_adam",
                                     lambda: ((*_opt(), {k: v * 0.5 for k, v in _opt()[2].items()}, 3, 0.01, 0.9,
                                               0.999, 1e-8), {}))],
    "update_lr": [("optimizers:update_lr", lambda: ((0.5, 3, 1.3), {}))],
    "schedule_lr_decay": [("optimizers:schedule_lr_decay", lambda: ((0.5, 2500, 0.3, 1000), {}))],
    # 06_cnn
    "zero_pad": [("cnn_utils:zero_pad", lambda: ((_z(35, (2, 3, 3, 2)), 2), {}))],
    "conv_single_step": [("cnn_utils:conv_single_step",
                          lambda: ((_z(36, (3, 3, 2)), _z(37, (3, 3, 2)), _z(38, (1, 1, 1))), {}))],
    "conv_forward": [("cnn_utils:conv_forward", lambda: ((*_conv()[:3], {"stride": 2, "pad": 1}), {}))],
    "conv_backward": [("cnn_utils:conv_backward", lambda: ((_z(39, _conv()[3].shape), _conv()[4]), {}))],
    "pool_forward": [("cnn_utils:pool_forward", lambda: ((_pool("max")[0], {"f": 2, "stride": 2}), {})),
                     ("cnn_utils:pool_forward", lambda: ((_pool("max")[0], {"f": 2, "stride": 2}, "average"), {}))],
    "create_mask_from_window": [("cnn_utils:create_mask_from_window", lambda: ((_z(40, (3, 3)),), {}))],
    "distribute_value": [("cnn_utils:distribute_value", lambda: ((1.7, (2, 3)), {}))],
    "pool_backward": [("cnn_utils:pool_backward", lambda: ((_z(41, _pool("max")[1].shape), _pool("max")[2]), {})),
                      ("cnn_utils:pool_backward",
                       lambda: ((_z(42, _pool("average")[1].shape), _pool("average")[2], "average"), {}))],
    # 07_rnn
    "rnn_cell_forward": [("rnn_utils:rnn_cell_forward",
                          lambda: ((_z(43, (3, 4)), _z(44, (5, 4)), _rnn_params()), {}))],
    "rnn_forward": [("rnn_utils:rnn_forward", lambda: ((_z(45, (3, 4, 6)), _z(46, (5, 4)), _rnn_params()), {}))],
    "rnn_cell_backward": [("rnn_utils:rnn_cell_backward", lambda: ((_z(47, (5, 4)), _rnn_step()[2]), {}))],
    "rnn_backward": [("rnn_utils:rnn_backward", lambda: ((_z(48, (5, 4, 6)), _rnn_seq()[2]), {}))],
    "lstm_cell_forward": [("rnn_utils:lstm_cell_forward",
                           lambda: ((_z(49, (3, 4)), _z(50, (5, 4)), _z(51, (5, 4)), _lstm_params()), {}))],
    "lstm_forward": [("rnn_utils:lstm_forward", lambda: ((_z(52, (3, 4, 6)), _z(53, (5, 4)), _lstm_params()), {}))],
    "lstm_cell_backward": [("rnn_utils:lstm_cell_backward",
                            lambda: ((_z(54, (5, 4)), _z(55, (5, 4)), _lstm_step()[3]), {}))],
    "lstm_backward": [("rnn_utils:lstm_backward", lambda: ((_z(56, (5, 4, 6)), _lstm_seq()[3]), {}))],
    "optimize": [("char_model:optimize", lambda: ((*_names_batch(), 0.05), {}))],
    "sample": [("char_model:sample", lambda: ((_char_params(), {c: i for i, c in enumerate("\nabcd")}, 3), {}))],
    "clip": [("rnn_utils:clip", lambda: (({"dWaa": _z(57, (5, 5), 10), "dWax": _z(58, (5, 3), 10),
                                           "dba": _z(59, (5, 1), 10)}, 4.5), {}))],
    # 08_regularization
    "initialize_parameters_zeros": [("regularization:initialize_parameters_zeros", lambda: (([3, 5, 4, 1],), {}))],
    "initialize_parameters_random": [("regularization:initialize_parameters_random", lambda: (([3, 5, 4, 1],), {}))],
    "initialize_parameters_he": [("regularization:initialize_parameters_he", lambda: (([3, 5, 4, 1],), {}))],
    "compute_cost_with_regularization": [
        ("regularization:compute_cost_with_regularization",
         lambda: ((np.clip(np.abs(_z(73, (1, 6), 0.3)), 0.05, 0.95), (_z(74, (1, 6)) > 0).astype(float),
                   {"W1": _z(75, (5, 3)), "b1": _z(76, (5, 1)), "W2": _z(77, (4, 5)), "b2": _z(78, (4, 1)),
                    "W3": _z(79, (1, 4)), "b3": _z(80, (1, 1))}, 0.7), {}))],
    "backward_propagation_with_regularization": [
        ("regularization:backward_propagation_with_regularization",
         lambda: ((_reg3()[0], _reg3()[1], _reg3()[3], 0.7), {}))],
    "forward_propagation_with_dropout": [
        ("regularization:forward_propagation_with_dropout", lambda: ((_reg3()[0], _reg3()[2], 1.0), {}))],
    "backward_propagation_with_dropout": [
        ("regularization:backward_propagation_with_dropout", lambda: ((_reg3()[0], _reg3()[1], _reg3()[4], 0.8), {}))],
    "batchnorm_forward": [("regularization:batchnorm_forward",
                           lambda: ((_z(81, (6, 4)), _z(82, (4,)), _z(83, (4,)), {"mode": "train"}), {}))],
    "batchnorm_backward": [("regularization:batchnorm_backward", lambda: ((_z(84, (6, 4)), _bn_cache()), {}))],
}

# Graded functions that no probe covers, and why.
UNPROBED = {
    "Value": "a class (03): its graded behaviour is operator overloading and backward() on graphs of Value "
             "objects, which plain inputs cannot probe; instead no bundle class may have Value's interface "
             "(backward, __add__, __mul__), see LEAKY_CLASS",
    "graph_by_hand": "numbers of one fixed small graph (03), typed in by the student; no reference function",
}

# A class with these attributes is an autodiff Value: none may travel in a bundle of 01..03.
LEAKY_CLASS = {"backward", "__add__", "__mul__"}
VALUE_GRADED_IN = "03_backprop"


def _reference(spec):
    module, name = spec.split(":")
    try:
        return getattr(import_module(f"course.reference.{module}"), name)
    except (ImportError, AttributeError):
        return None


def _same(a, b):
    """Deep equality of plain data, floats with np.allclose."""
    if isinstance(b, dict):
        return isinstance(a, dict) and set(a) == set(b) and all(_same(a[k], b[k]) for k in b)
    if isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(b, str):
        return a == b
    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.dtype == object or y.dtype == object or x.shape != y.shape:
            return False
        return bool(np.allclose(x, y, rtol=1e-6, atol=1e-9))
    except Exception:  # noqa: BLE001 - anything that is not comparable is not the same
        return False


def probe_cases(names):
    """[(probe id, args, kwargs, reference output, {argument index: the reference's change of it})]."""
    cases = []
    for name in sorted(names):
        for i, (spec, factory) in enumerate(PROBES.get(name, [])):
            ref = _reference(spec)
            if ref is None:
                continue
            args, kwargs = factory()
            before = copy.deepcopy(args)
            after = copy.deepcopy(args)
            out = ref(*after, **copy.deepcopy(kwargs))
            changed = {j: after[j] for j in range(len(args)) if not _same(after[j], before[j])}
            cases.append((f"{name}#{i}", before, kwargs, out, changed))
    return cases


# --- run inside the bundle ------------------------------------------------------------------------
# One interpreter without the repository (-I -S: no PYTHONPATH, no .pth files, so no editable
# install of course/utils) imports the third-party modules the bundles use, then forks a fresh
# child per bundle: only the child puts that bundle first on sys.path and imports its utils.
RUNNER = r"""
import ast, contextlib, copy, importlib, importlib.util, inspect, io, json, os, pickle, signal, sys, warnings
jobs, site_dirs, same_src = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
sys.path[:] = [p for p in sys.path if p] + site_dirs


def silently(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return fn(*args)


def third_party(folder):
    found = set()
    for name in os.listdir(os.path.join(folder, "utils")):
        if name.endswith(".py"):
            tree = ast.parse(open(os.path.join(folder, "utils", name), encoding="utf-8").read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module)
    return sorted(n for n in found if n.split(".")[0] not in ("utils", "course"))


def code_keys(folder):
    # utils module -> digest of its code and of the bundled utils modules it imports (transitively):
    # a callable's verdict on a probe depends only on that, so a later bundle reuses it
    base = os.path.join(folder, "utils")
    files = {("utils." + n[:-3]): os.path.join(base, n) for n in os.listdir(base)
             if n.endswith(".py") and n != "__init__.py"}
    deps = {}
    for name, path in files.items():
        found = set()
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                mod = "utils" if node.level else (node.module or "")
                if node.level and node.module:
                    mod = "utils." + node.module
                found |= {mod} | {f"{mod}.{a.name}" for a in node.names}
        deps[name] = {d for d in found if d in files}
    keys = {}
    for name in files:
        seen, todo = set(), [name]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += deps[n]
        digest = hashlib.sha256()
        for n in sorted(seen):
            digest.update(n.encode() + b"\0" + open(files[n], "rb").read() + b"\0")
        keys[name] = digest.hexdigest()
    return keys


import hashlib
import nbformat
import numpy as np
warm = sorted({m for job in jobs for m in third_party(job["bundle"])})
for name in warm:  # module-level and lazy imports, once, never under a call's time limit
    try:
        silently(importlib.import_module, name)
    except BaseException:
        pass
assert not [m for m in sys.modules if m.split(".")[0] in ("utils", "course")]
exec(same_src)  # defines _same


class Timeout(BaseException):
    pass


def _alarm(*_):
    raise Timeout()


def probe(bundle, cases_path, known):
    sys.path.insert(0, bundle)
    os.chdir(bundle)
    result = {"course_importable": importlib.util.find_spec("course") is not None, "import_errors": {},
              "foreign_utils": [], "hits": [], "classes": [], "callables": 0, "calls": 0, "reused": 0,
              "verdicts": []}
    keys = code_keys(bundle)
    with open(cases_path, "rb") as f:
        cases = pickle.load(f)
    signal.signal(signal.SIGALRM, _alarm)
    modules = []
    for path in sorted(os.listdir(os.path.join(bundle, "utils"))):
        if path.endswith(".py"):
            name = "utils" if path == "__init__.py" else "utils." + path[:-3]
            try:
                modules.append(silently(importlib.import_module, name))
            except BaseException as err:
                result["import_errors"][name] = f"{type(err).__name__}: {err}"
    for m in modules:
        if not os.path.abspath(m.__file__).startswith(os.path.abspath(bundle) + os.sep):
            result["foreign_utils"].append(m.__name__)
    seen, callables = set(), []
    for m in modules:
        for attr, obj in sorted(vars(m).items(), key=lambda kv: kv[0]):
            if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            callables.append((f"{m.__name__}.{attr}", obj, keys.get(m.__name__)))
            if inspect.isclass(obj):
                if {"backward", "__add__", "__mul__"} <= set(dir(obj)):
                    result["classes"].append(f"{m.__name__}.{attr}")
                for key, raw in sorted(vars(obj).items()):
                    if isinstance(raw, (staticmethod, classmethod)):
                        callables.append((f"{m.__name__}.{attr}.{key}", getattr(obj, key), keys.get(m.__name__)))
    result["callables"] = len(callables)
    warnings.simplefilter("ignore")
    import builtins, io as _io
    real_open = builtins.open

    def no_descriptor_open(file, *args, **kwargs):  # a probe's int is never a file descriptor to block on
        if isinstance(file, int):
            raise TypeError("probe: no file descriptors")
        return real_open(file, *args, **kwargs)

    builtins.open = _io.open = no_descriptor_open
    for label, fn, code in callables:
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        for probe_id, args, kwargs, ref_out, changed in cases:
            if sig is not None:
                try:
                    sig.bind(*args, **kwargs)
                except TypeError:
                    continue
            memo = f"{code}|{label}|{probe_id}" if code else None
            if memo in known:  # the same code met the same probe in an earlier bundle
                result["reused"] += 1
                if known[memo]:
                    result["hits"].append([label, probe_id])
                continue
            a, k = copy.deepcopy(args), copy.deepcopy(kwargs)
            result["calls"] += 1
            out, ok = None, False
            signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
            try:
                out, ok = silently(lambda: fn(*a, **k)), True
            except BaseException:
                pass
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
            try:
                leak = ok and _same(out, ref_out)
                if ok and not leak and isinstance(ref_out, tuple) and ref_out and isinstance(out, (tuple, list)) and out:
                    head = ref_out[0]
                    if (isinstance(head, np.ndarray) and head.size > 1) or isinstance(head, dict):
                        leak = _same(out[0], head)  # the main output of (output, cache)-style functions
                leak = leak or any(_same(a[j], v) for j, v in changed.items())  # the same in-place update
            except BaseException:
                leak = False
            if leak:
                result["hits"].append([label, probe_id])
            if memo:
                result["verdicts"].append([memo, bool(leak)])
    return result


known = {}
for job in jobs:  # one after the other: each reuses the verdicts of the ones before
    pid = os.fork()
    if pid == 0:  # a fresh process for this bundle: no utils imported yet
        code = 1
        try:
            result = probe(job["bundle"], job["cases"], known)
            with open(job["out"], "w") as f:
                json.dump(result, f)
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)
    if os.path.exists(job["out"]):
        known.update(dict(json.load(open(job["out"]))["verdicts"]))
"""


def _same_source():
    import inspect
    return inspect.getsource(_same)


def run_in_bundles(jobs, tmp):
    """Probe bundles, each in a fresh process that cannot import the repository.

    Args:
        jobs: list of (bundle folder, probe cases); tmp: a scratch folder.
    Returns:
        list of runner results (dicts), in the order of ``jobs``.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    spec = []
    for i, (folder, cases) in enumerate(jobs):
        (tmp / f"cases{i}.pkl").write_bytes(pickle.dumps(cases))
        spec.append({"bundle": str(folder), "cases": str(tmp / f"cases{i}.pkl"), "out": str(tmp / f"result{i}.json")})
    script = tmp / "runner.py"
    script.write_text(RUNNER.replace("CALL_SECONDS", repr(CALL_SECONDS)))
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "COURSE_QUICK": "1",
           "HOME": str(tmp), "MPLCONFIGDIR": str(tmp / "mpl"), "DL_WORKBOOK_CACHE": str(tmp / "cache")}
    proc = subprocess.run([sys.executable, "-I", "-S", str(script), json.dumps(spec), json.dumps(site), _same_source()],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"the probe runner failed:\n{proc.stderr[-3000:]}"
    missing = [s["bundle"] for s in spec if not os.path.exists(s["out"])]
    assert not missing, f"the probe of these bundles crashed: {missing}\n{proc.stderr[-3000:]}"
    return [json.loads(open(s["out"]).read()) for s in spec]


def run_in_bundle(folder, cases, tmp):
    return run_in_bundles([(folder, cases)], tmp)[0]


def _later(asg, names):
    order = existing_assignments(ROOT)
    return {n for n, where in names.items() if any(order.index(w) >= order.index(asg) for w in where)}


LEAKY_MODULE = """import numpy as np


def stable_logistic(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * (1 + np.tanh(x / 2))


class Node:
    def __init__(self, v):
        self.v = v

    def __add__(self, o):
        return self

    def __mul__(self, o):
        return self

    def backward(self):
        pass


def scale(params, grads, learning_rate):
    for k in params:
        params[k] = params[k] - learning_rate * grads["d" + k]
"""


@pytest.fixture(scope="module")
def probe_results(tmp_path_factory):
    """assignment -> (bundle folder, runner result), or the error that stopped its bundle; and under
    "leaky", a bundle of the first assignment with a planted leak (``utils/helpers.py``)."""
    graded = graded_functions()
    cases = probe_cases(PROBES)
    tmp = tmp_path_factory.mktemp("bundles")
    out, jobs = {}, []
    for asg in assignments():
        try:
            folder = write_bundle(asg, tmp / "out", make_zip=False)
        except Exception as err:  # noqa: BLE001 - reported by the test of this assignment
            out[asg] = err
            continue
        later = _later(asg, graded)
        jobs.append((asg, folder, [c for c in cases if c[0].split("#")[0] in later]))
    leaky = write_bundle(assignments()[0], tmp / "leaky", make_zip=False)
    (leaky / "utils" / "helpers.py").write_text(LEAKY_MODULE)
    jobs.append(("leaky", leaky, [c for c in cases if c[0].split("#")[0] in
                                  ("sigmoid", "update_parameters_with_gd", "tanh")]))
    results = run_in_bundles([(folder, c) for _, folder, c in jobs], tmp / "run")
    for (asg, folder, _), result in zip(jobs, results):
        out[asg] = (folder, result)
    return out


# --- tests ----------------------------------------------------------------------------------------
def test_every_graded_function_with_a_reference_has_a_probe():
    graded = graded_functions()
    reference_names = set()
    for path in (ROOT / "course" / "reference").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reference_names |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = sorted(n for n in graded if n in reference_names and n not in PROBES and n not in UNPROBED)
    assert not missing, f"graded functions with a reference but no probe here (add one to PROBES): {missing}"
    broken = sorted(f"{name}: {spec}" for name in graded if name in PROBES for spec, _ in PROBES[name]
                    if _reference(spec) is None)
    assert not broken, f"probes of graded functions whose reference moved: {broken}"


def test_probes_tell_the_reference_apart_from_wrong_answers():
    """A probe's expected output is specific: the wrong functions next to it do not reproduce it."""
    cases = probe_cases(PROBES)
    assert len(cases) >= 60
    outs = {probe: out for probe, _, _, out, _ in cases}
    assert not _same(outs["sigmoid#0"], outs["tanh#0"])
    assert not _same(outs["leaky_relu#0"], outs["leaky_relu#1"])
    assert not _same(outs["relu#0"], _z(5))  # not the input


@pytest.mark.parametrize("assignment", assignments())
def test_bundle_holds_the_release_the_data_and_only_the_utils_it_imports(assignment, tmp_path):
    folder = write_bundle(assignment, tmp_path)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    source = ROOT / "source" / assignment
    data = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                  if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts)
    notebooks = sorted(p.name for p in (ROOT / "release" / assignment).glob("*.ipynb"))
    assert [f for f in files if not f.startswith("utils/")] == sorted(notebooks + data + ["requirements.txt"])
    for name in notebooks:
        assert (folder / name).read_bytes() == (ROOT / "release" / assignment / name).read_bytes()
    utils = [f for f in files if f.startswith("utils/")]
    assert "utils/__init__.py" in utils and "utils/validate.py" in utils
    assert not any(part in ("course", "reference", "checks") for f in files for part in f.split("/"))
    init = (folder / "utils" / "__init__.py").read_text()
    modules = [f[len("utils/"):-3] for f in utils if f.endswith(".py") and f != "utils/__init__.py"]
    for module in modules:
        assert re.search(rf"^\s+{re.escape(module)}\s", init, re.MULTILINE), f"utils/__init__.py does not list {module}"
    # every bundled module is imported by the notebooks or by another bundled module (or is validate)
    imported = set()
    for path in [*(folder / n for n in notebooks), *(folder / f for f in utils if f.endswith(".py"))]:
        text = path.read_text(encoding="utf-8")
        imported |= set(re.findall(r"utils[./](\w+)", text)) | set(re.findall(r"from utils import ([\w, ]+)", text))
    imported = {w.strip() for group in imported for w in group.split(",")}
    assert set(modules) - {"validate"} <= imported, f"bundled but never imported: {set(modules) - imported}"
    for f in utils:
        if f.startswith("utils/data/"):
            assert any(f.rsplit("/", 1)[1] in (folder / m).read_text() for m in utils if m.endswith(".py"))
    with zipfile.ZipFile(tmp_path / f"{assignment}.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"{assignment}/{f}" for f in files)
    assert bundle_files(assignment) == {f: (folder / f).read_bytes() for f in files}


@pytest.mark.parametrize("assignment", assignments())
def test_bundle_requirements_name_every_package_it_imports_at_the_course_pins(assignment, tmp_path):
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    folder = write_bundle(assignment, tmp_path, make_zip=False)
    listed = {}
    for line in (folder / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            req = Requirement(line)
            listed[canonicalize_name(req.name)] = str(req.specifier)
    pins = dict(line.split("#")[0].strip().split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line.split("#")[0])
    for name, version in pins.items():
        if canonicalize_name(name) in listed:
            assert listed[canonicalize_name(name)] == f"=={version}", name
    # every top-level import of the notebooks and the bundled modules (read here line by line, not
    # with the bundle's own parser) is the standard library, utils, or a listed distribution's
    code = [c.source for p in folder.glob("*.ipynb") for c in nbformat.read(str(p), as_version=4).cells
            if c.cell_type == "code"] + [p.read_text() for p in (folder / "utils").rglob("*.py")]
    names = {m for text in code for m in re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", text, re.MULTILINE)}
    provides = packages_distributions()
    for name in sorted(names - set(sys.stdlib_module_names) - {"utils"}):
        assert {canonicalize_name(d) for d in provides[name]} & set(listed), f"{name} is imported, its package not listed"
    assert "jupyterlab" in listed and "numpy" in listed
    assert not {"nbgrader", "torch", "dask", "pytest"} & set(listed)  # the instructor's tools stay out


def test_bundle_requirements_of_packages_the_course_does_not_pin():
    """Unpinned: the version installed here; not installed: named in a comment; never an error."""
    from importlib.metadata import version

    from course.bundle import student_requirements
    pins = (ROOT / "requirements.txt").read_text()
    text = student_requirements(["import numpy as np", "from pygments import lexers", "import surely_not_a_module_xyz",
                                 "import json"], "x")
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("numpy")] == [f"numpy=={version('numpy')}"]
    assert f"numpy=={version('numpy')}" in pins and "pygments" not in pins
    assert f"pygments=={version('pygments')}" in lines
    assert lines[2] == "# Also imported, from no package installed where this file was made: surely_not_a_module_xyz"
    assert not [line for line in lines if line.startswith(("json", "surely"))]
    from course.bundle import _installed_pin
    assert _installed_pin("surely-not-installed-xyz") == "surely-not-installed-xyz"


def test_bundle_requirements_read_a_course_requirements_file_with_pip_options(tmp_path):
    """Another course's requirements.txt may hold pip's options: they are skipped, its pins win."""
    from course.bundle import student_requirements
    (tmp_path / "requirements.txt").write_text("--index-url https://example.org/simple\n-r more.txt\n"
                                               "numpy==9.9.9  # theirs\n")
    lines = student_requirements(["import numpy"], "x", tmp_path).splitlines()
    assert "numpy==9.9.9" in lines and not [line for line in lines if line.startswith("-")]


@pytest.mark.parametrize("assignment", assignments())
def test_bundle_has_no_answer_key_or_hidden_test(assignment, tmp_path):
    folder = write_bundle(assignment, tmp_path, make_zip=False)
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            for marker in ("course.reference", "BEGIN HIDDEN TESTS", "course/reference"):
                assert marker not in text, f"{path.relative_to(folder)} mentions {marker!r}"


@pytest.mark.parametrize("assignment", assignments())
@pytest.mark.slow  # probe_results runs every probe in every bundle (subprocesses)
def test_no_bundle_callable_reproduces_a_graded_function_of_this_or_a_later_assignment(assignment, probe_results):
    job = probe_results[assignment]
    if isinstance(job, Exception):
        pytest.fail(f"the bundle of {assignment} cannot be built: {job}")
    folder, result = job
    assert not result["course_importable"], "the probe ran where `import course` works: the test is not valid"
    assert not result["foreign_utils"], f"modules imported from outside the bundle: {result['foreign_utils']}"
    assert not result["import_errors"], f"bundled modules that cannot be imported in the bundle: {result['import_errors']}"
    assert result["callables"] > 0 and result["calls"] + result["reused"] > 0
    assert not result["hits"], (f"the bundle of {assignment} offers a graded function of this or a later "
                                f"assignment (callable, probe): {result['hits']}")
    order = existing_assignments(ROOT)
    if VALUE_GRADED_IN in order and order.index(assignment) <= order.index(VALUE_GRADED_IN):
        assert not result["classes"], f"autodiff classes in the bundle of {assignment}: {result['classes']}"


@pytest.mark.slow  # probe_results runs every probe in every bundle (subprocesses)
def test_the_probe_catches_a_leak(probe_results):
    """A bundle whose utils offers the answer key (under any name) is caught."""
    _, result = probe_results["leaky"]
    assert not result["course_importable"]
    assert ["utils.helpers.stable_logistic", "sigmoid#0"] in result["hits"]
    assert ["utils.helpers.scale", "update_parameters_with_gd#0"] in result["hits"]  # in place, returns None
    assert "utils.helpers.Node" in result["classes"]
    assert not [h for h in result["hits"] if h[1] == "tanh#0"]


# --- through nbgrader and the real grader ----------------------------------------------------------
ASG = "01_activations"


@pytest.mark.slow
def test_nbgrader_exchange_ships_the_bundle(tmp_path):
    """``course build`` makes release/ASG the bundle, so nbgrader's release_assignment ships exactly it."""
    from course.build import generate_release
    from course.check import scratch_course
    from course.nbgrader_api import make_api

    (tmp_path / "course").mkdir()
    course = scratch_course(tmp_path / "course", ROOT)
    (course / "release").unlink()  # this course's own release folder, not the repository's
    (course / "release").mkdir()
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    db = f"sqlite:///{tmp_path}/gradebook.db"
    generate_release(ASG, course, db_url=db)
    api = make_api(course, db_url=db, overrides={"Exchange": {"root": str(exchange)}})
    assert api.release_assignment(ASG)["success"]
    (outbound,) = list(exchange.glob(f"*/outbound/{ASG}"))
    shipped = {p.relative_to(outbound).as_posix(): p.read_bytes() for p in outbound.rglob("*") if p.is_file()}
    assert shipped == bundle_files(ASG)


def _defined_in(path):
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))} | \
        {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}


def delegations(names):
    """{module: {function: 'from module import function'}} for every module of the course that defines
    a function of one of these names: the student's library (utils) and the answer key (course.reference)."""
    out = {}
    for folder, package in ((ROOT / "utils", "utils"), (ROOT / "course" / "reference", "course.reference")):
        for path in sorted(folder.glob("*.py")):
            defined = _defined_in(path) & set(names)
            if defined:
                module = f"{package}.{path.stem}"
                out[module] = {name: f"from {module} import {name}" for name in sorted(defined)}
    return out


@pytest.mark.slow
def test_delegating_to_an_importable_function_earns_nothing(tmp_path):
    """One student per course module that defines 01's graded functions; each graded cell is one
    line importing that module's function of the same name (the other cells stay as released)."""
    import nbformat

    from course.check import scratch_course
    from course.grading import grade_assignment
    from course.submissions import reference, write_submission

    nb = reference(ASG, ROOT)
    solution = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    names = {gid: re.findall(r"^def\s+(\w+)", c.source, re.MULTILINE) for gid, c in solution.items()}
    routes = delegations({n for ns in names.values() for n in ns})
    assert any(m.startswith("course.reference.") for m in routes), "the answer key defines none of 01's functions?"
    (tmp_path / "course").mkdir()
    course = scratch_course(tmp_path / "course", ROOT)
    delegated, students = {}, {}
    for module, lines in routes.items():
        student = "delegate_" + module.replace(".", "_")
        students[student] = module
        sub = nbformat.from_dict(copy.deepcopy(nb))
        delegated[student] = {}
        for cell in sub.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type != "code" or gid not in solution:
                continue
            fn = names[gid][0] if names[gid] else None
            if fn in lines:
                cell.source = lines[fn]  # one line, e.g. `from utils.planar_utils import sigmoid`
                delegated[student][gid] = lines[fn]
            else:
                cell.source = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "raise NotImplementedError()",
                                     cell.source, flags=re.DOTALL)
        write_submission(sub, ASG, student, course / "submitted", ROOT)
    results = grade_assignment(ASG, course, students=sorted(students), timeout=30, feedback=False, workers=2)
    tests_of, current = {}, None  # the graded test cells that follow each solution cell
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            current = meta["grade_id"]
        elif meta.get("grade") and current:
            tests_of.setdefault(current, []).append(meta["grade_id"])
    leaks = []
    for result in results:
        assert not result.error, f"{result.student}: {result.error}"
        scores = result.by_problem()
        for gid, line in delegated[result.student].items():
            won = {t: scores[t] for t in tests_of.get(gid, []) if scores.get(t, 0) > 0}
            if won:
                leaks.append(f"`{line}` earns {won}")
    assert not leaks, "importable functions of the course earn points for 01:\n  " + "\n  ".join(leaks)
