"""Names as character data for the language-model part of the RNN assignment (data only; no model).

Names are lower-case words, one per line; the newline character ``"\\n"`` marks the end of a
name and gets index 0, the letters ``a..z`` get 1..26 (the layout of the canonical "dinosaur
names" exercise, so ``char_to_ix`` and ``ix_to_char`` mean the same thing as there).
"""
from pathlib import Path

import numpy as np

ALPHABET = "\n" + "abcdefghijklmnopqrstuvwxyz"


def load_names(path="names.txt"):
    """The names of a text file (one per line), lower-cased, letters only, empty lines dropped."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: run the notebook from its own folder, where names.txt is shipped."
        )
    names = [line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines()]
    return [n for n in names if n and all(ch in ALPHABET[1:] for ch in n)]


def build_vocab(chars=ALPHABET):
    """``char_to_ix`` and ``ix_to_char`` dicts for the characters (``"\\n"`` first, index 0)."""
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    return char_to_ix, ix_to_char


def make_streams(names, char_to_ix, n_streams=32, seed=0):
    """Shuffle the names, join them with ``"\\n"`` and cut the text into parallel streams.

    Returns:
        int array ``(n_streams, L)`` of character indices (the tail that does not fill a row is
        dropped).
    """
    order = np.random.default_rng(seed).permutation(len(names))
    text = "\n" + "\n".join(names[i] for i in order) + "\n"
    ids = np.fromiter((char_to_ix[ch] for ch in text), dtype=np.int64, count=len(text))
    L = len(ids) // n_streams
    return ids[: L * n_streams].reshape(n_streams, L)


def one_hot_sequence(ids, vocab_size):
    """Integer indices ``(m, T)`` -> one-hot inputs ``(vocab_size, m, T)`` (the RNN layout)."""
    m, T = ids.shape
    x = np.zeros((vocab_size, m, T))
    x[ids, np.arange(m)[:, None], np.arange(T)[None, :]] = 1.0
    return x


def pad_names(names, char_to_ix):
    """Inputs and targets of a batch of names, one name per row, padded to the longest.

    Row ``i`` reads ``"\\n"`` and then the letters of ``names[i]`` (input ``X``) and must predict
    the letters and then ``"\\n"`` (target ``Y``). Padding: ``X`` gets 0 and ``Y`` gets -1 (no
    target: such positions carry no loss).

    Returns:
        X, Y: int arrays ``(m, T)`` with ``T = 1 + max(len(name))``.
    """
    T = 1 + max(len(n) for n in names)
    X = np.zeros((len(names), T), dtype=np.int64)
    Y = np.full((len(names), T), -1, dtype=np.int64)
    for i, name in enumerate(names):
        ids = [char_to_ix[ch] for ch in name]
        X[i, 1:len(ids) + 1] = ids
        Y[i, :len(ids)] = ids
        Y[i, len(ids)] = char_to_ix["\n"]
    return X, Y


def name_batches(names, char_to_ix, batch_size=32, seed=0):
    """The names in a random order, cut into batches: a list of ``(X, Y)`` from :func:`pad_names`."""
    order = np.random.default_rng(seed).permutation(len(names))
    return [pad_names([names[j] for j in order[i:i + batch_size]], char_to_ix)
            for i in range(0, len(names), batch_size)]
