"""A character-level language model of first names with the basic RNN of :mod:`course.reference.rnn_utils`.

Names are lower-case words, one per line; the newline character ``"\\n"`` marks the end of a
name and gets index 0, the letters ``a..z`` get 1..26 (the layout of the canonical "dinosaur
names" exercise, so ``char_to_ix`` and ``ix_to_char`` mean the same thing as there).

Two ways to train:

* **One name per column, from a zero state** (what the 07_rnn notebook does, the canonical
  ``optimize`` / ``sample`` pair): a batch holds ``m`` names, each read from ``a0 = 0`` with the
  input ``"\n"`` first, exactly the way :func:`sample` generates a name. Names are padded to the
  longest one of the batch; padded targets are ``-1`` and carry no loss.
  :func:`name_batches`, :func:`optimize`, :func:`train_names`, :func:`sample`.
* **Truncated backpropagation through time on text streams** (kept for comparison): the
  shuffled names are joined into one string, cut into ``n_streams`` equal parts read side by side,
  ``seq_len`` characters at a time, the hidden state carried from one chunk to the next.
  :func:`make_streams`, :func:`char_rnn_loss_and_grads`, :func:`train_char_rnn`. The state a
  name starts from then depends on the names before it, which sampling (always from zero) never
  sees.

Vectorised over the ``m`` columns; the only loop is over time.
"""
import math
import time

import numpy as np

from course.reference import rnn_utils
from course.reference.optimizers import Adam
from utils.char_data import (ALPHABET, build_vocab, load_names, make_streams, name_batches,  # noqa: F401
                             one_hot_sequence, pad_names)
from utils.runtime import blas_threads



def init_char_rnn(vocab_size=27, n_a=64, seed=0):
    """Parameters ``Wax (n_a, V)``, ``Waa (n_a, n_a)``, ``Wya (V, n_a)``, ``ba``, ``by``."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n_a, n_a)))
    return {
        "Wax": rng.standard_normal((n_a, vocab_size)) * 0.1,
        "Waa": 0.9 * q,
        "Wya": rng.standard_normal((vocab_size, n_a)) / math.sqrt(n_a),
        "ba": np.zeros((n_a, 1)),
        "by": np.zeros((vocab_size, 1)),
    }


def char_rnn_loss_and_grads(X_ids, Y_ids, a_prev, parameters):
    """Cross-entropy of next-character prediction on one chunk, and its gradients.

    Args:
        X_ids, Y_ids: int arrays ``(m, T)``: input characters and the characters that follow.
        a_prev ``(n_a, m)``: hidden state carried over from the previous chunk.
    Returns:
        loss (mean nats per character), grads dict ``dWax, dWaa, dWya, dba, dby``, and the last
        hidden state ``(n_a, m)`` to start the next chunk from.
    """
    V = parameters["Wya"].shape[0]
    m, T = X_ids.shape
    x = one_hot_sequence(X_ids, V)
    a, y_hat, caches = rnn_utils.rnn_forward(x, a_prev, parameters)
    p_true = y_hat[Y_ids, np.arange(m)[:, None], np.arange(T)[None, :]]  # (m, T)
    loss = float(-np.mean(np.log(p_true + 1e-12)))
    dz = y_hat - one_hot_sequence(Y_ids, V)  # (V, m, T): softmax + cross-entropy
    dz /= m * T
    da = np.einsum("va,vmt->amt", parameters["Wya"], dz)
    g = rnn_utils.rnn_backward(da, caches)
    grads = {"dWax": g["dWax"], "dWaa": g["dWaa"], "dba": g["dba"],
             "dWya": np.einsum("vmt,amt->va", dz, a),
             "dby": dz.sum(axis=(1, 2))[:, None]}
    return loss, grads, a[:, :, -1]


def update_parameters(parameters, gradients, learning_rate):
    """One step of gradient descent, in place: ``p -= learning_rate * gradients["d" + name]``."""
    for name in parameters:
        parameters[name] -= learning_rate * gradients["d" + name]
    return parameters


def names_loss_and_grads(X, Y, a_prev, parameters):
    """Mean cross-entropy per character of a batch of names (padding excluded), and its gradients.

    Args:
        X, Y: int arrays ``(m, T_x)`` from :func:`pad_names` (``Y == -1``: no target there).
        a_prev ``(n_a, m)``: the state the names start from (zeros, as when sampling).
        parameters: ``Wax, Waa, Wya, ba, by``.
    Returns:
        loss (float), gradients ``dWax, dWaa, dWya, dba, dby``, hidden states ``a (n_a, m, T_x)``.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    V = parameters["Wya"].shape[0]
    m, T = X.shape
    mask = (Y >= 0).astype(float)                                       # (m, T)
    n_chars = max(mask.sum(), 1.0)
    a, y_hat, caches = rnn_utils.rnn_forward(one_hot_sequence(X, V), a_prev, parameters)
    Y0 = np.where(Y >= 0, Y, 0)
    p_true = y_hat[Y0, np.arange(m)[:, None], np.arange(T)[None, :]]     # (m, T)
    loss = float(-np.sum(mask * np.log(np.maximum(p_true, 1e-300))) / n_chars)
    dz = (y_hat - one_hot_sequence(Y0, V)) * (mask / n_chars)[None]     # (V, m, T)
    g = rnn_utils.rnn_backward(np.einsum("va,vmt->amt", parameters["Wya"], dz), caches)
    gradients = {"dWax": g["dWax"], "dWaa": g["dWaa"], "dba": g["dba"],
                 "dWya": np.einsum("vmt,amt->va", dz, a), "dby": dz.sum(axis=(1, 2))[:, None]}
    return loss, gradients, a


def optimize(X, Y, a_prev, parameters, learning_rate=0.01, optimizer=None, clip_value=5.0):
    """One training step on a batch of names: forward, loss, backward, clip, update.

    The canonical ``optimize`` of the "Dinosaurus Island" exercise, on a batch (one name per
    column) and with the step-by-step ``rnn_forward`` / ``rnn_backward``.

    Args:
        X, Y: int arrays ``(m, T_x)`` from :func:`pad_names`; a_prev ``(n_a, m)``;
        parameters: updated in place, by ``optimizer.step(parameters, gradients)`` when an
            optimizer is given, else by gradient descent with ``learning_rate``.
    Returns:
        loss (float), gradients (clipped to ``[-clip_value, clip_value]``), and the last hidden
        state ``a[:, :, -1]`` ``(n_a, m)``.
    """
    loss, gradients, a = names_loss_and_grads(X, Y, a_prev, parameters)
    rnn_utils.clip(gradients, clip_value)
    if optimizer is None:
        update_parameters(parameters, gradients, learning_rate)
    else:
        optimizer.step(parameters, gradients)
    return loss, gradients, a[:, :, -1]


def train_names(names, parameters, char_to_ix, epochs=10, batch_size=32, learning_rate=0.01,
                clip_value=5.0, seed=0, progress=True):
    """Train in place with :func:`optimize` and Adam, every name read from a zero state (as in sampling).

    Returns:
        parameters and history ``{"loss": [one value per batch], "seconds": s}``.
    """
    n_a = parameters["Waa"].shape[0]
    opt = Adam(lr=learning_rate)
    history = {"loss": []}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * math.ceil(len(names) / batch_size), desc="names RNN", unit="batch")
    start = time.perf_counter()
    with blas_threads(1):
        for epoch in range(epochs):
            for X, Y in name_batches(names, char_to_ix, batch_size, seed=seed + epoch):
                loss, _, _ = optimize(X, Y, np.zeros((n_a, X.shape[0])), parameters, optimizer=opt,
                                      clip_value=clip_value)
                history["loss"].append(loss)
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    history["seconds"] = time.perf_counter() - start
    return parameters, history


def train_char_rnn(streams, parameters, epochs=10, seq_len=25, learning_rate=0.01, clip_value=5.0,
                   progress=True):
    """Train in place with Adam over ``epochs`` passes of the streams (truncated BPTT by chunks).

    Args:
        streams ``(m, L)`` from :func:`make_streams`; parameters from :func:`init_char_rnn`.
    Returns:
        parameters and history ``{"loss": [one value per chunk], "seconds": s}``.
    """
    m, L = streams.shape
    n_a = parameters["Waa"].shape[0]
    starts = list(range(0, L - 1 - seq_len + 1, seq_len))
    opt = Adam(lr=learning_rate)
    history = {"loss": []}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * len(starts), desc="names RNN", unit="chunk")
    start = time.perf_counter()
    with blas_threads(1):
        for _ in range(epochs):
            a = np.zeros((n_a, m))  # a fresh state at the start of each pass
            for s in starts:
                loss, grads, a = char_rnn_loss_and_grads(streams[:, s:s + seq_len],
                                                         streams[:, s + 1:s + 1 + seq_len], a, parameters)
                rnn_utils.clip(grads, clip_value)
                opt.step(parameters, grads)
                history["loss"].append(loss)
                if bar is not None:
                    bar.update(1)
                    if len(history["loss"]) % 20 == 0:
                        bar.set_postfix(loss=f"{np.mean(history['loss'][-20:]):.3f}")
    if bar is not None:
        bar.close()
    history["seconds"] = time.perf_counter() - start
    return parameters, history


def sample(parameters, char_to_ix, seed=0, temperature=1.0, max_length=30):
    """Sample one name, character by character, as in the canonical exercise.

    Starts from ``a = 0`` and the end-of-name character as input; at each step draws the next
    index from ``softmax(z / temperature)`` and feeds it back, until ``"\\n"`` or ``max_length``.

    Returns:
        list of indices (ending with the index of ``"\\n"``).
    """
    names = sample_names(parameters, {i: c for c, i in char_to_ix.items()}, n=1, temperature=temperature,
                         seed=seed, max_length=max_length, as_indices=True)
    return names[0]


def sample_names(parameters, ix_to_char, n=10, temperature=1.0, seed=0, max_length=30, as_indices=False):
    """Sample ``n`` names at once (vectorised over the ``n`` columns).

    Args:
        temperature: > 0; below 1 sharpens the distribution (safer, more common names),
            above 1 flattens it (more surprising, more misspelt names).
    Returns:
        list of ``n`` strings (or lists of indices ending with the newline index 0 when
        ``as_indices``).
    """
    rng = np.random.default_rng(seed)
    V = parameters["Wya"].shape[0]
    n_a = parameters["Waa"].shape[0]
    a = np.zeros((n_a, n))
    x = np.zeros((V, n))
    x[0] = 1.0  # "\n": the start of a name
    out = np.zeros((n, max_length), dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    lengths = np.full(n, max_length)
    for t in range(max_length):
        a = np.tanh(parameters["Waa"] @ a + parameters["Wax"] @ x + parameters["ba"])
        p = rnn_utils.softmax((parameters["Wya"] @ a + parameters["by"]) / max(temperature, 1e-6))
        cdf = np.cumsum(p, axis=0)
        ix = np.minimum((cdf < rng.random(n) * cdf[-1]).sum(axis=0), V - 1)  # inverse-CDF draw per column
        out[:, t] = ix
        newly = (ix == 0) & ~done
        lengths[newly] = t + 1
        done |= ix == 0
        if done.all():
            break
        x = np.zeros((V, n))
        x[ix, np.arange(n)] = 1.0
    result = []
    for i in range(n):
        ids = list(out[i, :lengths[i]])
        if ids[-1] != 0:
            ids.append(0)
        result.append([int(j) for j in ids] if as_indices else "".join(ix_to_char[j] for j in ids[:-1]))
    return result
