"""Unit tests of course.reference.char_model: encoding, batches of names, streams, gradients, sampling."""
import numpy as np
import pytest

from course.reference import char_model as C
from course.reference.optimizers import Adam
from utils.solver import Solver
from utils.testing import numerical_gradient, relative_error

NAMES = ["anna", "bob", "carla", "dave", "eve", "zoe", "maximilian", "ida"]


def _train_stream(streams, parameters, epochs, seq_len=25, learning_rate=0.01):
    """Truncated BPTT over the streams with the course's Solver (state carried across chunks)."""
    return Solver(C.stream_step(Adam()), parameters, C.stream_chunks(streams, seq_len), epochs=epochs,
                  learning_rate=learning_rate, progress=False).train()


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
    p, h = _train_stream(s, p, epochs=3, seq_len=10, learning_rate=0.02)
    assert np.mean(h["loss"][-5:]) < h["loss"][0] - 0.5
    names = C.sample_names(p, i2c, n=20, temperature=1.0, seed=1)
    assert len(names) == 20 and all(set(n) <= set("abcdefghijklmnopqrstuvwxyz") for n in names)
    cold = C.sample_names(p, i2c, n=5, temperature=1e-3, seed=2)
    assert len(set(cold)) == 1  # near zero temperature: always the most likely name
    idx = C.sample(p, c2i, seed=3)
    assert idx[-1] == c2i["\n"] and all(0 < i < 27 for i in idx[:-1])


# ------------------------------------------------- one name per column, from the zero state
def test_pad_names_and_batches():
    c2i, _ = C.build_vocab()
    X, Y = C.pad_names(["ada", "bo"], c2i)
    np.testing.assert_array_equal(X, [[0, 1, 4, 1], [0, 2, 15, 0]])
    np.testing.assert_array_equal(Y, [[1, 4, 1, 0], [2, 15, 0, -1]])
    batches = C.name_batches(NAMES, c2i, batch_size=3, seed=0)
    assert [b[0].shape[0] for b in batches] == [3, 3, 2]
    seen = sorted("".join(C.ALPHABET[i] for i in row[1:] if i) for X, _ in batches for row in X)
    assert seen == sorted(NAMES)


def test_names_gradients_match_finite_differences_with_padding():
    rng = np.random.default_rng(1)
    c2i, _ = C.build_vocab()
    X, Y = C.pad_names(["ada", "maximilian", "bo"], c2i)
    p = C.init_char_rnn(27, 4, seed=2)
    p["ba"] += rng.standard_normal((4, 1)) * 0.1
    a0 = np.zeros((4, 3))
    loss, g, a = C.names_loss_and_grads(X, Y, a0, p)
    assert a.shape == (4, 3, X.shape[1]) and loss > 0
    for k in p:
        num = numerical_gradient(lambda: C.names_loss_and_grads(X, Y, a0, p)[0], p[k])
        assert relative_error(g["d" + k], num) < 1e-6, k
    # padded positions carry no loss: the same names padded further give the same loss
    X2, Y2 = np.pad(X, ((0, 0), (0, 2))), np.pad(Y, ((0, 0), (0, 2)), constant_values=-1)
    assert abs(C.names_loss_and_grads(X2, Y2, a0, p)[0] - loss) < 1e-12


def test_optimize_clips_updates_and_returns_the_last_state():
    c2i, _ = C.build_vocab()
    X, Y = C.pad_names(["anna", "eve"], c2i)
    p = C.init_char_rnn(27, 6, seed=0)
    p["Wya"] *= 200.0                      # huge output weights: huge gradients
    before = {k: v.copy() for k, v in p.items()}
    raw = C.names_loss_and_grads(X, Y, np.zeros((6, 2)), before)[1]
    assert max(np.abs(v).max() for v in raw.values()) > 5
    loss, g, a_last = C.optimize(X, Y, np.zeros((6, 2)), p, learning_rate=0.1)
    for k in p:
        np.testing.assert_array_equal(g["d" + k], np.clip(raw["d" + k], -5, 5))
        np.testing.assert_allclose(p[k], before[k] - 0.1 * g["d" + k])
    _, _, a = C.names_loss_and_grads(X, Y, np.zeros((6, 2)), before)
    np.testing.assert_array_equal(a_last, a[:, :, -1])


def test_sample_greedy_and_max_length():
    c2i, i2c = C.build_vocab()
    p = C.init_char_rnn(27, 8, seed=3)
    p["by"][0] = -1e3                       # never ends a name
    idx = C.sample(p, c2i, seed=0, max_length=7)
    assert len(idx) == 8 and idx[-1] == 0 and 0 not in idx[:-1]
    p = C.init_char_rnn(27, 8, seed=4)
    p["Wya"] *= 20.0                        # clear winners: near temperature 0 the draw is the argmax
    greedy = {tuple(C.sample(p, c2i, seed=s, temperature=1e-3)) for s in range(5)}
    assert len(greedy) == 1


@pytest.mark.slow  # trains two character models
def test_training_from_the_zero_state_matches_sampling():
    """500 names sampled from a briefly trained model start with the letters of the training names
    (total variation distance below 0.15); carrying the state across names (the stream) does not."""
    from course.paths import COURSE_ROOT
    names = C.load_names(COURSE_ROOT / "source" / "07_rnn" / "names.txt")
    c2i, i2c = C.build_vocab()
    letters = np.bincount([c2i[n[0]] for n in names], minlength=27) / len(names)

    def first_letter_tv(parameters):
        sampled = C.sample_names(parameters, i2c, n=500, seed=7)
        freq = np.bincount([c2i[n[0]] if n else 0 for n in sampled], minlength=27) / len(sampled)
        return 0.5 * float(np.abs(freq - letters).sum())

    p, h = Solver(C.names_step(Adam()), C.init_char_rnn(27, 64, seed=0),
                  lambda epoch: C.name_batches(names, c2i, 32, seed=epoch), epochs=2, progress=False).train()
    assert np.mean(h["loss"][-20:]) < 2.3
    assert first_letter_tv(p) < 0.15
    stream = C.make_streams(names, c2i, n_streams=32, seed=0)
    p_stream, _ = _train_stream(stream, C.init_char_rnn(27, 64, seed=0), epochs=3)
    assert first_letter_tv(p_stream) > 0.15
