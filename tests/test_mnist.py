"""utils.mnist: every branch of the resolution order, validation, the shipped sample, helpers.

No test touches the network: an autouse fixture replaces the OpenML downloader by one that
fails, and tests of the download branch install their own fake.
"""
import os

import numpy as np
import pytest

from course.reference.mlp import normalize
from utils import mnist

REAL_DOWNLOAD = mnist._download_openml  # saved before the autouse fixture replaces it


def _fake_arrays(n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        np.arange(n_train) % 10,
        rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        np.arange(n_test) % 10,
    )


def _write(path, arrays=None, **override):
    arrays = dict(zip(mnist.KEYS, arrays or _fake_arrays()))
    arrays.update(override)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No MNIST_PATH, an empty private cache, and a downloader that fails like a dead network."""
    monkeypatch.delenv(mnist.MNIST_ENV, raising=False)
    monkeypatch.setenv(mnist.CACHE_ENV, str(tmp_path / "cache"))
    calls = []

    def no_network(data_home=None):
        calls.append(data_home)
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(mnist, "_download_openml", no_network)
    return calls


# ------------------------------------------------------------------ 1. explicit path
def test_explicit_path(tmp_path, capsys):
    f = _write(tmp_path / "m.npz")
    x_train, y_train, x_test, y_test = mnist.load_mnist(f)
    assert x_train.shape == (30, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (30,) and y_train.dtype == np.int64
    assert x_test.shape == (10, 28, 28) and y_test.shape == (10,)
    assert "40 images" in capsys.readouterr().out
    _, source = mnist.resolve_mnist(str(f), verbose=False)
    assert source == "path"


def test_explicit_path_wins_over_env(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.MNIST_ENV, str(_write(tmp_path / "env.npz", _fake_arrays(20, 5))))
    arrays = mnist.load_mnist(_write(tmp_path / "arg.npz", _fake_arrays(12, 4)), verbose=False)
    assert len(arrays[0]) == 12


def test_flat_images_are_reshaped(tmp_path):
    x_train, y_train, x_test, y_test = _fake_arrays()
    f = _write(tmp_path / "flat.npz", (x_train.reshape(30, 784), y_train, x_test.reshape(10, 784), y_test))
    out = mnist.load_mnist(f, verbose=False)
    np.testing.assert_array_equal(out[0], x_train)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(mnist.MnistError, match="does not exist"):
        mnist.load_mnist(tmp_path / "nope.npz")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"y_test": None}, "lacks y_test"),
        ({"x_train": np.zeros((30, 27, 28), np.uint8)}, "x_train has shape"),
        ({"y_train": np.zeros(29, np.int64)}, "y_train has shape"),
        ({"y_test": np.full(10, 11)}, "labels outside"),
        ({"x_test": np.full((10, 28, 28), 300.0)}, "pixel values"),
    ],
)
def test_malformed_npz_is_a_clear_error(tmp_path, override, message):
    f = _write(tmp_path / "bad.npz", **override)
    with pytest.raises(mnist.MnistError, match=message):
        mnist.load_mnist(f)


def test_not_an_npz_is_a_clear_error(tmp_path):
    f = tmp_path / "junk.npz"
    f.write_bytes(b"this is not a zip archive")
    with pytest.raises(mnist.MnistError, match="not a readable .npz"):
        mnist.load_mnist(f)


# ------------------------------------------------------------------ 2. MNIST_PATH
def test_env_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.MNIST_ENV, str(_write(tmp_path / "env.npz", _fake_arrays(20, 5))))
    arrays, source = mnist.resolve_mnist(verbose=False)
    assert source == "env" and len(arrays[0]) == 20


def test_bad_env_variable_is_an_error_not_a_fallback(tmp_path, monkeypatch, offline):
    monkeypatch.setenv(mnist.MNIST_ENV, str(tmp_path / "missing.npz"))
    with pytest.raises(mnist.MnistError, match="MNIST_PATH"):
        mnist.load_mnist()
    assert offline == []  # no download attempted


# ------------------------------------------------------------------ 3. cache
def test_cache_path_honours_override(tmp_path):
    assert mnist.cache_path() == tmp_path / "cache" / "mnist.npz"


def test_cache_path_default(monkeypatch):
    monkeypatch.delenv(mnist.CACHE_ENV)
    assert mnist.cache_path() == mnist.Path(os.path.expanduser("~")) / ".cache" / "dl-workbook" / "mnist.npz"


def test_cache_is_used_before_download(tmp_path, offline):
    cache = mnist.cache_path()
    cache.parent.mkdir(parents=True)
    _write(cache, _fake_arrays(14, 6))
    arrays, source = mnist.resolve_mnist(verbose=False)
    assert source == "cache" and len(arrays[0]) == 14
    assert offline == []


def test_broken_cache_is_skipped(tmp_path, capsys, offline):
    cache = mnist.cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"truncated")
    arrays, source = mnist.resolve_mnist(verbose=False)
    assert source == "sample"
    assert len(offline) == 1
    assert "broken MNIST cache" in capsys.readouterr().out


# ------------------------------------------------------------------ 4. download
def test_download_is_cached(monkeypatch, capsys):
    calls = []

    def fake_download(data_home=None):
        calls.append(data_home)
        return _fake_arrays(16, 8, seed=3)

    monkeypatch.setattr(mnist, "_download_openml", fake_download)
    raw = mnist.cache_path().parent / "openml"
    raw.mkdir(parents=True)  # where scikit-learn would keep its raw download
    arrays, source = mnist.resolve_mnist()
    assert source == "download" and len(arrays[0]) == 16
    assert "cached in" in capsys.readouterr().out
    assert mnist.cache_path().is_file()
    assert not raw.exists()  # the raw copy is removed once the npz is written
    # the next call reads the cache and does not download again
    again, source = mnist.resolve_mnist(verbose=False)
    assert source == "cache" and len(calls) == 1
    for a, b in zip(arrays, again):
        np.testing.assert_array_equal(a, b)


def test_download_converts_openml_layout(monkeypatch):
    """The real downloader turns fetch_openml's (n, 784) floats and string labels into our layout."""
    import sklearn.datasets

    n = 7000  # the real one has 70,000 rows: 60,000 training images, then 10,000 test images
    monkeypatch.setattr(mnist, "N_TRAIN", 6000)
    X = np.zeros((n, 784), dtype=np.float64)
    X[:, 0] = np.arange(n) % 256
    y = (np.arange(n) % 10).astype(str).astype(object)
    seen = {}

    def fake_fetch(name, **kwargs):
        seen["name"], seen["kwargs"] = name, kwargs
        return X, y

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch)
    x_train, y_train, x_test, y_test = REAL_DOWNLOAD(data_home="somewhere")
    assert seen["name"] == "mnist_784" and seen["kwargs"]["data_home"] == "somewhere"
    assert seen["kwargs"]["as_frame"] is False and seen["kwargs"]["version"] == 1
    assert x_train.shape == (6000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert x_test[0, 0, 0] == 6000 % 256 and y_test[3] == 6003 % 10


def test_download_failure_falls_back_to_sample(capsys, offline):
    arrays, source = mnist.resolve_mnist(verbose=False)
    out = capsys.readouterr().out
    assert source == "sample" and len(offline) == 1
    assert "download failed" in out
    assert "2,500-image sample" in out and "NOT the full" in out
    assert len(arrays[0]) == 2000 and len(arrays[2]) == 500


def test_no_download_goes_straight_to_sample(capsys, offline):
    arrays = mnist.load_mnist(download=False, verbose=False)
    assert offline == [] and len(arrays[0]) == 2000
    assert "sample" in capsys.readouterr().out  # the note is printed even when not verbose


# ------------------------------------------------------------------ 5. the shipped sample
def test_shipped_sample_is_small_valid_and_stratified():
    path = mnist.sample_path()
    assert path.is_file(), "utils/data/mnist_sample.npz is missing (python -m utils.mnist SRC rebuilds it)"
    assert path.stat().st_size < 1.5e6
    x_train, y_train, x_test, y_test = mnist.read_mnist_npz(path)
    assert x_train.shape == (2000, 28, 28) and x_test.shape == (500, 28, 28)
    for y, n in ((y_train, 2000), (y_test, 500)):
        counts = np.bincount(y, minlength=10)
        assert counts.sum() == n and counts.min() >= 0.08 * n and counts.max() <= 0.125 * n
    assert x_train.max() == 255 and x_train.min() == 0
    assert len({img.tobytes() for img in x_train}) == 2000  # no duplicates


def test_make_sample_roundtrip(tmp_path):
    src = _write(tmp_path / "full.npz", _fake_arrays(100, 50))
    out = mnist.make_sample(src, tmp_path / "s.npz", n_train=20, n_test=10)
    x_train, y_train, x_test, y_test = mnist.read_mnist_npz(out)
    assert x_train.shape == (20, 28, 28) and x_test.shape == (10, 28, 28)
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 2))


# ------------------------------------------------------------------ helpers
def test_normalize_columns():
    x = _fake_arrays()[0]
    X = normalize(x)
    assert X.shape == (784, 30) and X.dtype == np.float64
    np.testing.assert_allclose(X[:, 7], x[7].ravel() / 255.0)
    assert 0.0 <= X.min() and X.max() <= 1.0
    X32 = normalize(x, np.float32)
    assert X32.dtype == np.float32 and X32.T.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(X32, X, rtol=1e-6)


def test_stratified_indices():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    idx = mnist.stratified_indices(y, 10, seed=1)
    assert len(idx) == 10 and len(set(idx)) == 10 and np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(np.bincount(y[idx]), [1, 2, 3, 4])
    assert len(mnist.stratified_indices(np.arange(7) % 3, 5)) == 5
    with pytest.raises(ValueError):
        mnist.stratified_indices(y, 101)


def test_the_sample_can_be_refused(offline):
    with pytest.raises(mnist.MnistError, match="full MNIST"):
        mnist.load_mnist(verbose=False, allow_sample=False)
    assert len(mnist.load_mnist(verbose=False)[0]) == 2000  # allowed by default
