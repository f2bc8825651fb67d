"""Benchmark against a peer: the course's NumPy models side by side with PyTorch on the same CPU.

PyTorch is a benchmark-only optional dependency (``pip install '.[bench]'``, see
``pyproject.toml``); students, tests and grading never need it. Without it this section prints
that it skips, and why, and returns no figures.

Figures (one run; the two sides alternate; same thread count on both sides: ``threadpoolctl`` on
ours, ``torch.set_num_threads`` on theirs; same initial weights, same mini-batches in the same
order; before anything is timed, one forward + backward of each model is compared with
``assert_allclose``):

1. ``peers_conv_*``: one convolution layer forward + backward, float32, a batch 64x28x28x8, sixteen
   3x3 filters (stride 1, pad 1), 1 thread. Ours: ``course.reference.cnn_utils.conv_forward`` +
   ``conv_backward`` (NHWC); theirs: ``torch.nn.functional.conv2d`` and autograd (NCHW: the
   layout conversion happens once, outside the timed region). Best of ``REPEATS`` alternating
   runs, in ms; "accuracy" is each side's largest relative error against a float64 computation.
2. ``peers_cnn_{1,2}t_*``: the small MNIST CNN of ``course.reference.cnn_model`` (the architecture and
   settings of ``benchmarks/cnn.py``), 4 epochs of Adam on the 60,000 images, wall seconds of the
   training call and test accuracy on the 10,000 test images, at 1 and 2 threads (ours at 2: each
   mini-batch in two parts, one in a helper process, one BLAS thread each; the helper's start is
   timed too).
3. ``peers_mlp_{1,2}t_*``: the 784-512-256-10 MLP of ``course.reference.mlp`` with the settings of
   ``benchmarks/mnist_mlp.py`` (8 epochs), the same way.

``*_ratio`` is ours / theirs (below 1: ours is faster). Targets (issue 15): conv <= 1.5,
CNN <= 1.2, MLP <= 1.0, with CNN accuracy >= 0.989 and MLP >= 0.984.

Environment (for a quick smoke run; a run that changes any of these writes its figures under the
single key ``peers_smoke`` so that it never overwrites the real ones):

- ``COURSE_BENCH_PEERS_EPOCHS``: epochs of both trainings (default: 4 for the CNN, 8 for the MLP);
- ``COURSE_BENCH_PEERS_TRAIN_SIZE``: train on the first N training images only;
- ``COURSE_BENCH_PEERS_THREADS``: thread counts of the trainings, e.g. ``1`` (default ``1,2``);
- ``COURSE_BENCH_PEERS_REPEATS``: alternating repeats of the conv timing (default 20);
- ``COURSE_BENCH_PEERS_PARTS``: which parts to run, e.g. ``conv,mlp`` (default ``conv,cnn,mlp``).

Run: ``MNIST_PATH=/path/to/mnist.npz python -m course bench peers``.
"""
import os
import time

import numpy as np

from benchmarks.cnn import CONFIG as CNN  # the CNN's settings are those of benchmarks/cnn.py
from benchmarks.mnist_mlp import CONFIG as MLP  # the MLP's settings are those of benchmarks/mnist_mlp.py

CONV = {"m": 64, "n": 28, "n_C_prev": 8, "n_C": 16, "f": 3, "hp": {"pad": 1, "stride": 1}}
REPEATS = 20
THREADS = (1, 2)
PARTS = ("conv", "cnn", "mlp")
ENV = "COURSE_BENCH_PEERS_"


# ------------------------------------------------------------------ helpers
def import_torch():
    """``(torch, None)`` or ``(None, reason)`` when PyTorch cannot be imported."""
    try:
        import torch
    except (ImportError, OSError) as exc:  # OSError: a broken install (a missing shared library)
        return None, f"PyTorch cannot be imported ({type(exc).__name__}: {exc}); install it with pip install '.[bench]'"
    return torch, None


def compare(what, ours, theirs, rtol=1e-3, atol=1e-5):
    """Assert that two dicts of arrays agree key by key (``np.testing.assert_allclose``).

    ``atol`` is relative to the largest magnitude of each array (float32 sums of thousands of
    terms, such as a filter gradient, differ in their last digits between two libraries; a
    wrong result differs by far more). Raises ``AssertionError`` naming ``what`` and the first key
    that differs, or a missing key. Returns the largest difference relative to that magnitude.
    """
    if set(ours) != set(theirs):
        raise AssertionError(f"{what}: the two sides return different things: {sorted(ours)} vs {sorted(theirs)}")
    worst = 0.0
    for key in sorted(ours):
        a, b = np.asarray(ours[key], dtype=np.float64), np.asarray(theirs[key], dtype=np.float64)
        if a.shape != b.shape:
            raise AssertionError(f"{what}: {key} has shape {a.shape} (ours) vs {b.shape} (torch)")
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        scale = scale if scale > 0 else 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=f"{what}: {key} differs between ours and torch")
        worst = max(worst, float(np.max(np.abs(a - b))) / scale if a.size else 0.0)
    return worst


def _env_int(name, default):
    value = os.environ.get(ENV + name, "").strip()
    return int(value) if value else default


def settings():
    """The run's settings (defaults, overridden by the ``COURSE_BENCH_PEERS_*`` variables) and
    whether they are the benchmark's own (``full``)."""
    epochs = os.environ.get(ENV + "EPOCHS", "").strip()
    threads = os.environ.get(ENV + "THREADS", "").strip()
    parts = os.environ.get(ENV + "PARTS", "").strip()
    s = {
        "cnn_epochs": int(epochs) if epochs else CNN["epochs"],
        "mlp_epochs": int(epochs) if epochs else MLP["epochs"],
        "train_size": _env_int("TRAIN_SIZE", 0) or None,
        "threads": tuple(int(t) for t in threads.split(",")) if threads else THREADS,
        "repeats": _env_int("REPEATS", REPEATS),
        "parts": tuple(p.strip() for p in parts.split(",") if p.strip()) if parts else PARTS,
    }
    s["full"] = (s["cnn_epochs"] == CNN["epochs"] and s["mlp_epochs"] == MLP["epochs"] and s["train_size"] is None
                 and set(s["threads"]) >= set(THREADS) and set(s["parts"]) >= set(PARTS))
    return s


def _line(label, ours, theirs, unit, acc_ours=None, acc_theirs=None, acc_fmt="{:.4f}"):
    acc = lambda a: "" if a is None else f" ({acc_fmt.format(a)})"  # noqa: E731
    print(f"   {label:<28} ours {ours:8.2f} {unit}{acc(acc_ours)}   torch {theirs:8.2f} {unit}{acc(acc_theirs)}"
          f"   ratio {ours / theirs:.2f}", flush=True)


def _torch_threads(torch, n):
    torch.set_num_threads(n)


# ------------------------------------------------------------------ 1. one convolution layer
def conv_layer(torch, repeats=REPEATS):
    """Conv forward + backward, float32, 1 thread. Returns ``(ours_s, theirs_s, err_ours, err_theirs)``."""
    import torch.nn.functional as F

    from course.reference import cnn_utils
    from utils.runtime import blas_threads

    c = CONV
    rng = np.random.default_rng(0)
    A = rng.standard_normal((c["m"], c["n"], c["n"], c["n_C_prev"])).astype(np.float32)
    W = (rng.standard_normal((c["f"], c["f"], c["n_C_prev"], c["n_C"])) * 0.2).astype(np.float32)
    b = rng.standard_normal((1, 1, 1, c["n_C"])).astype(np.float32)
    G = rng.standard_normal((c["m"], c["n"], c["n"], c["n_C"])).astype(np.float32)  # upstream gradient dZ
    hp = c["hp"]

    def ours():
        Z, cache = cnn_utils.conv_forward(A, W, b, hp)
        dA, dW, db = cnn_utils.conv_backward(G, cache)
        return Z, dA, dW, db

    # theirs, NCHW; the conversions are made here, once, outside the timed region
    x = torch.from_numpy(np.ascontiguousarray(A.transpose(0, 3, 1, 2))).requires_grad_(True)
    w = torch.from_numpy(np.ascontiguousarray(W.transpose(3, 2, 0, 1))).requires_grad_(True)
    bias = torch.from_numpy(b.reshape(-1).copy()).requires_grad_(True)
    g = torch.from_numpy(np.ascontiguousarray(G.transpose(0, 3, 1, 2)))

    def theirs():
        for t in (x, w, bias):
            t.grad = None
        out = F.conv2d(x, w, bias, stride=hp["stride"], padding=hp["pad"])
        out.backward(g)
        return out, x.grad, w.grad, bias.grad

    def as_ours(Zt, dxt, dwt, dbt):  # back to NHWC, for the comparison only
        return (Zt.detach().numpy().transpose(0, 2, 3, 1), dxt.numpy().transpose(0, 2, 3, 1),
                dwt.numpy().transpose(2, 3, 1, 0), dbt.numpy().reshape(1, 1, 1, -1))

    names = ("Z", "dA_prev", "dW", "db")
    _torch_threads(torch, 1)
    with blas_threads(1):
        got = ours()
        their = as_ours(*theirs())
        worst = compare("conv forward+backward", dict(zip(names, got)), dict(zip(names, their)), rtol=1e-3, atol=1e-4)
        # accuracy: relative error of each side against the same computation in float64
        Z64, cache64 = cnn_utils.conv_forward(A.astype(np.float64), W.astype(np.float64), b.astype(np.float64), hp)
        exact = (Z64,) + tuple(cnn_utils.conv_backward(G.astype(np.float64), cache64))
        rel = lambda out: max(float(np.max(np.abs(o - e)) / np.max(np.abs(e))) for o, e in zip(out, exact))  # noqa: E731
        err_ours, err_theirs = rel(got), rel(their)
        print(f"   conv: outputs agree (largest difference {worst:.1e} of the largest entry); timing {repeats} alternating runs", flush=True)
        t_ours, t_theirs = [], []
        for _ in range(2):  # warm-up
            ours()
            theirs()
        for k in range(repeats):
            order = ((ours, t_ours), (theirs, t_theirs)) if k % 2 == 0 else ((theirs, t_theirs), (ours, t_ours))
            for fn, times in order:
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    return min(t_ours), min(t_theirs), err_ours, err_theirs, float(np.median(t_ours)), float(np.median(t_theirs))


# ------------------------------------------------------------------ 2. the small CNN
def _cnn_torch_params(torch, params):
    """Our CNN parameters as leaf tensors in torch's layout (NCHW filters; dense columns reordered
    from our NHWC flattening (h, w, c) to torch's NCHW flattening (c, h, w))."""
    W3 = params["W3"]
    n_classes, n_flat = W3.shape
    c2 = params["W2"].shape[3]
    side = int(round((n_flat // c2) ** 0.5))
    W3_t = W3.reshape(n_classes, side, side, c2).transpose(0, 3, 1, 2).reshape(n_classes, n_flat)
    arrays = {
        "W1": params["W1"].transpose(3, 2, 0, 1), "b1": params["b1"].reshape(-1),
        "W2": params["W2"].transpose(3, 2, 0, 1), "b2": params["b2"].reshape(-1),
        "W3": W3_t, "b3": params["b3"].reshape(-1),
    }
    return {k: torch.tensor(np.ascontiguousarray(v), dtype=torch.float32, requires_grad=True) for k, v in arrays.items()}


def _cnn_grads_as_ours(tp, params):
    """Gradients of the torch parameters in our layout (names ``dW1`` ...)."""
    n_classes, n_flat = params["W3"].shape
    c2 = params["W2"].shape[3]
    side = int(round((n_flat // c2) ** 0.5))
    g = {k: t.grad.numpy() for k, t in tp.items()}
    return {
        "dW1": g["W1"].transpose(2, 3, 1, 0), "db1": g["b1"].reshape(1, 1, 1, -1),
        "dW2": g["W2"].transpose(2, 3, 1, 0), "db2": g["b2"].reshape(1, 1, 1, -1),
        "dW3": g["W3"].reshape(n_classes, c2, side, side).transpose(0, 2, 3, 1).reshape(n_classes, n_flat),
        "db3": g["b3"].reshape(-1, 1),
    }


def _cnn_torch_forward(torch, tp, x):
    F = torch.nn.functional
    from course.reference import cnn_model

    a = F.max_pool2d(F.relu(F.conv2d(x, tp["W1"], tp["b1"], stride=cnn_model.CONV1["stride"])), 2, 2)
    a = F.max_pool2d(F.relu(F.conv2d(a, tp["W2"], tp["b2"], stride=cnn_model.CONV2["stride"])), 2, 2)
    return F.linear(a.flatten(1), tp["W3"], tp["b3"])


def _cnn_torch_train(torch, X, y, epochs, seed):
    """The torch twin of ``cnn_model.cnn_solver``: same init, same batches (the same generator
    draws the same permutations), Adam with the same settings, the same per-epoch decay."""
    from course.reference import cnn_model

    F = torch.nn.functional
    tp = _cnn_torch_params(torch, cnn_model.init_cnn(seed))
    opt = torch.optim.Adam(list(tp.values()), lr=CNN["lr"], betas=(0.9, 0.999), eps=1e-8)
    rng = np.random.default_rng(seed)
    m, bs = len(X), CNN["batch_size"]
    losses = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(m))
        for k in range(0, m, bs):
            idx = order[k:k + bs]
            loss = F.cross_entropy(_cnn_torch_forward(torch, tp, X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())  # ours records its loss every step too
        for group in opt.param_groups:
            group["lr"] *= CNN["lr_decay"]
    return tp


def _cnn_torch_accuracy(torch, tp, X, y, batch=1000):
    with torch.no_grad():
        pred = torch.cat([_cnn_torch_forward(torch, tp, X[i:i + batch]).argmax(1) for i in range(0, len(X), batch)])
    return float((pred == y).double().mean())


def cnn_check(torch, X, y):
    """One forward + backward of both CNNs on the first mini-batch of the training order."""
    from course.reference import cnn_model

    params = cnn_model.init_cnn(CNN["seed"])
    idx = np.random.default_rng(CNN["seed"]).permutation(len(X))[: CNN["batch_size"]]
    probs, caches = cnn_model.forward(X[idx], params)
    grads = cnn_model.backward(probs, y[idx], caches, params)
    tp = _cnn_torch_params(torch, params)
    xt = torch.from_numpy(np.ascontiguousarray(X[idx].transpose(0, 3, 1, 2)))
    logits = _cnn_torch_forward(torch, tp, xt)
    torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[idx])).backward()
    theirs = {"probs": torch.softmax(logits, 1).detach().numpy().T, **_cnn_grads_as_ours(tp, params)}
    return compare("CNN forward+backward", {"probs": probs, **grads}, theirs, rtol=2e-3, atol=1e-4)


def cnn_pair(torch, data, threads, epochs, ours_first=True):
    """Train both CNNs at ``threads`` threads; returns ``{"ours": (s, acc), "torch": (s, acc)}``."""
    from course.reference import cnn_model

    X, y, Xt, yt, X_t, y_t, Xt_t, yt_t = data
    out = {}

    def run_ours():
        start = time.perf_counter()
        params, _ = cnn_model.cnn_solver(X, y, epochs=epochs, batch_size=CNN["batch_size"], lr=CNN["lr"],
                                         lr_decay=CNN["lr_decay"], seed=CNN["seed"], progress=False,
                                         blas_threads=threads).train()
        seconds = time.perf_counter() - start
        out["ours"] = (seconds, cnn_model.accuracy(Xt, yt, params))

    def run_theirs():
        _torch_threads(torch, threads)
        start = time.perf_counter()
        tp = _cnn_torch_train(torch, X_t, y_t, epochs, CNN["seed"])
        seconds = time.perf_counter() - start
        out["torch"] = (seconds, _cnn_torch_accuracy(torch, tp, Xt_t, yt_t))

    for fn in ((run_ours, run_theirs) if ours_first else (run_theirs, run_ours)):
        fn()
    return out


# ------------------------------------------------------------------ 3. the MLP
def _mlp_torch_train(torch, rows, y, params, epochs):
    """The torch twin of ``mlp.mlp_solver``: same init, same permutations (``seed + 1``), Adam with
    the learning rate of epoch ``e`` = ``learning_rate * lr_decay ** e``, the same label smoothing."""
    F = torch.nn.functional
    L = len(params) // 2
    tp = {k: torch.tensor(v.reshape(-1) if k.startswith("b") else v, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.Adam(list(tp.values()), lr=MLP["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
    rng = np.random.default_rng(MLP["seed"] + 1)
    m, bs = len(rows), MLP["batch_size"]
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = MLP["learning_rate"] * MLP["lr_decay"] ** epoch
        order = torch.from_numpy(rng.permutation(m))
        total = 0.0
        for k in range(0, m, bs):
            idx = order[k:k + bs]
            loss = F.cross_entropy(_mlp_torch_forward(F, tp, L, rows[idx]), y[idx], label_smoothing=MLP["label_smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)  # ours sums its loss every step too
    return tp


def _mlp_torch_forward(F, tp, L, a):
    for l in range(1, L + 1):
        a = F.linear(a, tp[f"W{l}"], tp[f"b{l}"])
        if l < L:
            a = F.relu(a)
    return a


def _mlp_torch_accuracy(torch, tp, rows, y):
    with torch.no_grad():
        pred = _mlp_torch_forward(torch.nn.functional, tp, len(tp) // 2, rows).argmax(1)
    return float((pred == y).double().mean())


def mlp_check(torch, X_cols, y):
    """One forward + backward of both MLPs on the first mini-batch of the training order."""
    from course.reference import mlp

    params = mlp.init_mlp([X_cols.shape[0], *MLP["hidden"], 10], seed=MLP["seed"])
    idx = np.random.default_rng(MLP["seed"] + 1).permutation(X_cols.shape[1])[: MLP["batch_size"]]
    Xb = np.ascontiguousarray(X_cols[:, idx])
    loss, grads = mlp.mlp_loss_and_gradients(Xb, y[idx], params, label_smoothing=MLP["label_smoothing"])
    tp = {k: torch.tensor(v.reshape(-1) if k.startswith("b") else v, requires_grad=True) for k, v in params.items()}
    logits = _mlp_torch_forward(torch.nn.functional, tp, len(params) // 2, torch.from_numpy(np.ascontiguousarray(Xb.T)))
    loss_t = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[idx]), label_smoothing=MLP["label_smoothing"])
    loss_t.backward()
    theirs = {"loss": loss_t.item(), **{"d" + k: t.grad.numpy().reshape(params[k].shape) for k, t in tp.items()}}
    return compare("MLP forward+backward", {"loss": loss, **grads}, theirs, rtol=2e-3, atol=1e-4)


def mlp_pair(torch, data, threads, epochs, ours_first=True):
    from course.reference import mlp

    X, y, Xt, yt, rows_t, y_t, rows_test_t, yt_t = data
    out = {}

    def run_ours():
        start = time.perf_counter()
        params, _ = mlp.mlp_solver(X, y, hidden=MLP["hidden"], epochs=epochs, batch_size=MLP["batch_size"],
                                   learning_rate=MLP["learning_rate"], lr_decay=MLP["lr_decay"], seed=MLP["seed"],
                                   label_smoothing=MLP["label_smoothing"],
                                   progress=False, blas_threads=threads).train()
        seconds = time.perf_counter() - start
        out["ours"] = (seconds, mlp.accuracy(params, Xt, yt))

    def run_theirs():
        _torch_threads(torch, threads)
        init = mlp.init_mlp([X.shape[0], *MLP["hidden"], 10], seed=MLP["seed"])
        start = time.perf_counter()
        tp = _mlp_torch_train(torch, rows_t, y_t, init, epochs)
        seconds = time.perf_counter() - start
        out["torch"] = (seconds, _mlp_torch_accuracy(torch, tp, rows_test_t, yt_t))

    for fn in ((run_ours, run_theirs) if ours_first else (run_theirs, run_ours)):
        fn()
    return out


def _warm_up(torch):
    """The first ``torch.optim.Adam`` step of a process imports ``torch._dynamo`` (seconds)."""
    p = torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3)
    (p * p).sum().backward()
    opt.step()


# ------------------------------------------------------------------ the section
def run():
    torch, reason = import_torch()
    if torch is None:
        print(f"   peers: skipped: {reason}", flush=True)
        return {}
    from threadpoolctl import threadpool_info

    s = settings()
    blas = ", ".join(sorted({f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info() if i.get("user_api") == "blas"}))
    print(f"   PyTorch {torch.__version__} against NumPy {np.__version__} ({blas}); settings {s}", flush=True)
    _warm_up(torch)
    fig = {"peers_torch_version": torch.__version__}

    if "conv" in s["parts"]:
        t_ours, t_theirs, e_ours, e_theirs, med_ours, med_theirs = conv_layer(torch, s["repeats"])
        _line("conv fwd+bwd, 1 thread", t_ours * 1e3, t_theirs * 1e3, "ms", e_ours, e_theirs, "rel err {:.1e}")
        print(f"   {'':<28} (medians: ours {med_ours * 1e3:.2f} ms, torch {med_theirs * 1e3:.2f} ms)")
        fig.update({"peers_conv_ms_ours": round(t_ours * 1e3, 2), "peers_conv_ms_torch": round(t_theirs * 1e3, 2),
                    "peers_conv_ratio": round(t_ours / t_theirs, 2)})

    if {"cnn", "mlp"} & set(s["parts"]):
        from course.reference import cnn_model, mlp
        from utils.mnist import load_mnist
        from utils.runtime import blas_threads

        x_train, y_train, x_test, y_test = load_mnist(allow_sample=False)
        if s["train_size"]:
            x_train, y_train = x_train[: s["train_size"]], y_train[: s["train_size"]]
        y_train, y_test = np.asarray(y_train, dtype=np.int64), np.asarray(y_test, dtype=np.int64)
        yt_train, yt_test = torch.from_numpy(y_train), torch.from_numpy(y_test)

    jobs = {}  # part -> (data, pair, epochs, label); every model is checked before anything is timed
    for part in ("cnn", "mlp"):
        if part not in s["parts"]:
            continue
        if part == "cnn":
            X, Xt = cnn_model.preprocess(x_train), cnn_model.preprocess(x_test)
            data = (X, y_train, Xt, y_test, torch.from_numpy(np.ascontiguousarray(X.transpose(0, 3, 1, 2))), yt_train,
                    torch.from_numpy(np.ascontiguousarray(Xt.transpose(0, 3, 1, 2))), yt_test)
            check, pair, epochs, label = cnn_check, cnn_pair, s["cnn_epochs"], "CNN"
        else:
            X, Xt = mlp.normalize(x_train, np.float32), mlp.normalize(x_test, np.float32)
            data = (X, y_train, Xt, y_test, torch.from_numpy(np.ascontiguousarray(X.T)), yt_train,
                    torch.from_numpy(np.ascontiguousarray(Xt.T)), yt_test)
            check, pair, epochs, label = mlp_check, mlp_pair, s["mlp_epochs"], "MLP"
        _torch_threads(torch, 1)
        with blas_threads(1):
            worst = check(torch, X, y_train)
        print(f"   {label}: forward+backward agree on the first batch (largest difference {worst:.1e} of the largest entry)", flush=True)
        jobs[part] = (data, pair, epochs, label)

    # thread counts outermost: the 1-thread figures (the steadiest on a shared machine) come first
    k = 0
    for n in s["threads"]:
        for part, (data, pair, epochs, label) in jobs.items():
            res = pair(torch, data, n, epochs, ours_first=(k % 2 == 0))  # alternate who goes first
            k += 1
            (so, ao), (st, at) = res["ours"], res["torch"]
            _line(f"{label} {epochs} epochs, {n} thread{'s' if n > 1 else ''}", so, st, "s", ao, at)
            key = f"peers_{part}_{n}t"
            fig.update({f"{key}_seconds_ours": round(so, 1), f"{key}_seconds_torch": round(st, 1),
                        f"{key}_accuracy_ours": round(ao, 4), f"{key}_accuracy_torch": round(at, 4),
                        f"{key}_ratio": round(so / st, 2)})

    if not s["full"]:
        print("   (smoke run: figures stored under peers_smoke only)")
        settings_note = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}
        return {"peers_smoke": {**fig, "settings": settings_note}}
    return fig


if __name__ == "__main__":
    print(run())
