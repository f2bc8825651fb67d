"""course.reference.minibatch.random_mini_batches: canonical shuffle, partition, last partial batch kept."""
import math

import numpy as np
import pytest

from course.reference.minibatch import num_mini_batches, random_mini_batches


def _loop_reference(X, Y, size, seed):
    """The canonical exercise's algorithm, written with explicit loops over batches."""
    np.random.seed(seed)
    m = X.shape[1]
    perm = list(np.random.permutation(m))
    sx, sy = X[:, perm], Y[:, perm]
    out = []
    for k in range(m // size):
        out.append((sx[:, k * size:(k + 1) * size], sy[:, k * size:(k + 1) * size]))
    if m % size:
        out.append((sx[:, (m // size) * size:], sy[:, (m // size) * size:]))
    return out


@pytest.mark.parametrize("m,size", [(148, 64), (128, 64), (5, 64), (1, 1), (37, 7), (10, 1)])
def test_shapes_and_partial_last_batch(m, size):
    rng = np.random.default_rng(m)
    X, Y = rng.normal(size=(3, m)), (rng.random((1, m)) > 0.5).astype(float)
    batches = random_mini_batches(X, Y, size, seed=1)
    assert len(batches) == math.ceil(m / size) == num_mini_batches(m, size)
    sizes = [bx.shape[1] for bx, _ in batches]
    expected = [size] * (m // size) + ([m % size] if m % size else [])
    assert sizes == expected
    for bx, by in batches:
        assert bx.shape[0] == 3 and by.shape == (1, bx.shape[1])


def test_matches_canonical_loop_version():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(12288, 148)), rng.normal(size=(1, 148))
    got = random_mini_batches(X, Y, 64, seed=0)
    want = _loop_reference(X, Y, 64, seed=0)
    assert len(got) == len(want) == 3
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


def test_is_a_shuffled_partition_keeping_pairs():
    m = 203
    X = np.vstack([np.arange(m), -np.arange(m)]).astype(float)
    Y = np.arange(m)[None, :] * 10
    batches = random_mini_batches(X, Y, 32, seed=4)
    allx = np.concatenate([bx for bx, _ in batches], axis=1)
    ally = np.concatenate([by for _, by in batches], axis=1)
    assert sorted(allx[0].astype(int)) == list(range(m))          # every example exactly once
    np.testing.assert_array_equal(allx[1], -allx[0])              # columns stay whole
    np.testing.assert_array_equal(ally[0], allx[0] * 10)          # labels follow their inputs
    assert not np.array_equal(allx[0], np.arange(m)), "the examples must be shuffled"


def test_seed_reproducible_and_different_seeds_differ():
    X, Y = np.arange(100.0)[None, :], np.arange(100)[None, :]
    a = random_mini_batches(X, Y, 16, seed=3)
    b = random_mini_batches(X, Y, 16, seed=3)
    c = random_mini_batches(X, Y, 16, seed=4)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    assert not np.array_equal(a[0][0], c[0][0])


def test_one_hot_labels_1d_labels_and_example_first_layout():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 50))
    Yc = np.eye(3)[:, rng.integers(0, 3, 50)]
    for bx, by in random_mini_batches(X, Yc, 16, seed=0):
        assert by.shape == (3, bx.shape[1])
    y1 = np.arange(50)
    batches = random_mini_batches(X, y1, 16, seed=0)
    ref = random_mini_batches(X, y1[None, :], 16, seed=0)
    for (bx, by), (rx, ry) in zip(batches, ref):
        assert by.shape == (bx.shape[1],)
        np.testing.assert_array_equal(by, ry[0])
    # NHWC images, examples first
    imgs = rng.normal(size=(50, 5, 5, 2))
    labels = np.eye(3)[rng.integers(0, 3, 50)]
    nb = random_mini_batches(imgs, labels, 16, seed=0, axis=0)
    assert [b[0].shape for b in nb] == [(16, 5, 5, 2)] * 3 + [(2, 5, 5, 2)]
    assert [b[1].shape for b in nb] == [(16, 3)] * 3 + [(2, 3)]
    np.random.seed(0)
    perm = np.random.permutation(50)
    np.testing.assert_array_equal(nb[0][0], imgs[perm[:16]])


def test_bad_input():
    X, Y = np.zeros((2, 10)), np.zeros((1, 9))
    with pytest.raises(ValueError):
        random_mini_batches(X, Y, 4)
    with pytest.raises(ValueError):
        random_mini_batches(X, np.zeros((1, 10)), 0)
