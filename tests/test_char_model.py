"""Unit tests of course.reference.char_model: encoding, streams, gradients, sampling."""
import numpy as np

from course.reference import char_model as C
from utils.testing import numerical_gradient, relative_error

NAMES = ["anna", "bob", "carla", "dave", "eve", "zoe", "maximilian", "ida"]


def test_vocab_matches_canonical_layout():
    c2i, i2c = C.build_vocab()
    assert c2i["\n"] == 0 and c2i["a"] == 1 and c2i["z"] == 26 and i2c[3] == "c" and len(c2i) == 27


def test_load_names_filters_and_lowercases(tmp_path):
    f = tmp_path / "n.txt"
    f.write_text("Anna\n\nbob\nJean-Luc\n o'neil\nZoe \n")
    assert C.load_names(f) == ["anna", "bob", "zoe"]


def test_streams_and_one_hot():
    c2i, _ = C.build_vocab()
    s = C.make_streams(NAMES, c2i, n_streams=3, seed=0)
    text_len = 1 + sum(len(n) + 1 for n in NAMES)
    assert s.shape == (3, text_len // 3) and s.dtype.kind == "i"
    text = "".join(C.ALPHABET[i] for i in s.ravel())
    complete = text[1:].split("\n")[:-1]  # the last piece may be a cut name
    assert text[0] == "\n" and len(complete) >= len(NAMES) - 2
    assert len(set(complete)) == len(complete) and set(complete) <= set(NAMES)
    x = C.one_hot_sequence(s[:, :5], 27)
    assert x.shape == (27, 3, 5)
    np.testing.assert_array_equal(x.sum(axis=0), 1.0)
    np.testing.assert_array_equal(x.argmax(axis=0), s[:, :5])


def test_char_rnn_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    p = C.init_char_rnn(27, 5, seed=0)
    X, Y = rng.integers(0, 27, (2, 4)), rng.integers(0, 27, (2, 4))
    a0 = rng.standard_normal((5, 2)) * 0.5
    loss, g, a_last = C.char_rnn_loss_and_grads(X, Y, a0, p)
    assert a_last.shape == (5, 2) and loss > 0
    for k in p:
        num = numerical_gradient(lambda: C.char_rnn_loss_and_grads(X, Y, a0, p)[0], p[k])
        assert relative_error(g["d" + k], num) < 1e-6, k


def test_training_lowers_loss_and_sampling_works():
    c2i, i2c = C.build_vocab()
    s = C.make_streams(NAMES * 20, c2i, n_streams=4, seed=0)
    p = C.init_char_rnn(27, 16, seed=0)
    p, h = C.train_char_rnn(s, p, epochs=3, seq_len=10, learning_rate=0.02, progress=False)
    assert np.mean(h["loss"][-5:]) < h["loss"][0] - 0.5
    names = C.sample_names(p, i2c, n=20, temperature=1.0, seed=1)
    assert len(names) == 20 and all(set(n) <= set("abcdefghijklmnopqrstuvwxyz") for n in names)
    cold = C.sample_names(p, i2c, n=5, temperature=1e-3, seed=2)
    assert len(set(cold)) == 1  # near zero temperature: always the most likely name
    idx = C.sample(p, c2i, seed=3)
    assert idx[-1] == c2i["\n"] and all(0 < i < 27 for i in idx[:-1])
