"""A character-level language model of first names with the basic RNN of :mod:`course.reference.rnn_utils`.

Names are lower-case words, one per line; the newline character ``"\\n"`` marks the end of a
name and gets index 0, the letters ``a..z`` get 1..26 (the layout of the canonical "dinosaur
names" exercise, so ``char_to_ix`` and ``ix_to_char`` mean the same thing as there).

Two ways to train:

* **One name per column, from a zero state** (what the 07_rnn notebook does, the canonical
  ``optimize`` / ``sample`` pair): a batch holds ``m`` names, each read from ``a0 = 0`` with the
  input ``"\n"`` first, exactly the way :func:`sample` generates a name. Names are padded to the
  longest one of the batch; padded targets are ``-1`` and carry no loss.
  :func:`name_batches`, :func:`optimize`, :func:`names_step`, :func:`sample`.
* **Truncated backpropagation through time on text streams** (kept for comparison): the
  shuffled names are joined into one string, cut into ``n_streams`` equal parts read side by side,
  ``seq_len`` characters at a time, the hidden state carried from one chunk to the next.
  :func:`make_streams`, :func:`char_rnn_loss_and_grads`, :func:`stream_chunks`, :func:`stream_step`. The state a
  name starts from then depends on the names before it, which sampling (always from zero) never
  sees.

Vectorised over the ``m`` columns; the only loop is over time.
"""
import math

import numpy as np

from course.reference import rnn_utils
from utils.char_data import (ALPHABET, build_vocab, load_names, make_streams, name_batches,  # noqa: F401
                             one_hot_sequence, pad_names)



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


def names_step(optimizer, clip_value=5.0):
    """A :class:`utils.solver.Solver` step on a batch of names, every name read from a zero state.

    Args:
        optimizer: updates in place (``.step(parameters, gradients)``, an ``lr`` attribute that
            the solver's learning rate overwrites), e.g. ``course.reference.optimizers.Adam``.
    Returns:
        ``step(parameters, X (m, T), Y (m, T), learning_rate) -> (parameters, loss)`` for the
        int batches of :func:`name_batches` (the solver's ``data`` is then
        ``lambda epoch: name_batches(names, char_to_ix, batch_size, seed=epoch)``).
    """
    def step(parameters, X, Y, learning_rate):
        optimizer.lr = learning_rate
        a0 = np.zeros((parameters["Waa"].shape[0], X.shape[0]))
        loss, _, _ = optimize(X, Y, a0, parameters, optimizer=optimizer, clip_value=clip_value)
        return parameters, loss

    return step


def stream_chunks(streams, seq_len=25):
    """The solver's ``data`` for stream training: ``data(epoch)`` yields ``(X_ids, Y_ids, start)``.

    Args:
        streams: int array ``(m, L)`` from :func:`make_streams`.
    Returns:
        a callable; each pass yields the chunks ``streams[:, s:s + seq_len]`` and their targets
        (shifted by one character) in order, with ``s`` (0 starts a pass).
    """
    starts = range(0, streams.shape[1] - seq_len, seq_len)
    return lambda epoch: ((streams[:, s:s + seq_len], streams[:, s + 1:s + 1 + seq_len], s) for s in starts)


def stream_step(optimizer, clip_value=5.0):
    """A :class:`utils.solver.Solver` step for :func:`stream_chunks`: truncated BPTT, the hidden
    state carried from one chunk to the next and reset to zero at the start of each pass.

    Returns:
        ``step(parameters, X_ids (m, T), Y_ids (m, T), start, learning_rate) -> (parameters, loss)``.
    """
    state = {}

    def step(parameters, X_ids, Y_ids, start, learning_rate):
        if start == 0:
            state["a"] = np.zeros((parameters["Waa"].shape[0], X_ids.shape[0]))
        loss, grads, state["a"] = char_rnn_loss_and_grads(X_ids, Y_ids, state["a"], parameters)
        rnn_utils.clip(grads, clip_value)
        optimizer.lr = learning_rate
        optimizer.step(parameters, grads)
        return parameters, loss

    return step


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
