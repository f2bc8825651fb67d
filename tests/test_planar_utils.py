"""utils.planar_utils: the canonical flower, the extra datasets, the boundary plot, sigmoid."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.planar_utils import load_extra_datasets, load_planar_dataset, plot_decision_boundary, sigmoid  # noqa: E402


def _flower_loop():
    """The recipe of DESIGN.md written point by point (slow, obviously right)."""
    rng_draws = np.random.RandomState(1)
    X, Y = [], []
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + rng_draws.randn(200) * 0.2
        r = 4 * np.sin(4 * t) + rng_draws.randn(200) * 0.2
        for i in range(200):
            X.append((r[i] * np.sin(t[i]), r[i] * np.cos(t[i])))
            Y.append(j)
    return np.array(X).T, np.array([Y], dtype=np.uint8)


def test_flower_shapes_and_types():
    X, Y = load_planar_dataset()
    assert X.shape == (2, 400) and X.dtype == np.float64
    assert Y.shape == (1, 400) and Y.dtype == np.uint8
    assert set(np.unique(Y)) == {0, 1}
    assert Y.sum() == 200 and (Y[0, :200] == 0).all() and (Y[0, 200:] == 1).all()


def test_flower_canonical_values():
    X, _ = load_planar_dataset()
    # the first entries printed by the canonical notebook
    np.testing.assert_allclose(
        X[0, :8],
        [1.20444229, 0.158709904, 0.0952471960, 0.349178475, 0.694150378, 1.62065038, 1.53856225, 0.0363085641],
        rtol=1e-8,
    )
    np.testing.assert_allclose(X[:, 0], [1.20444229, 3.57611415], rtol=1e-8)
    np.testing.assert_allclose(X[:, -1], [0.73078083, 3.06832921], rtol=1e-7)


def test_flower_equals_loop_recipe_and_is_deterministic():
    X, Y = load_planar_dataset()
    Xl, Yl = _flower_loop()
    np.testing.assert_allclose(X, Xl, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(Y, Yl)
    np.random.seed(123)
    np.random.rand(7)
    X2, Y2 = load_planar_dataset()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)


def test_flower_is_not_linearly_separable():
    """Logistic regression reaches the canonical 47 %: the data are the canonical ones."""
    from sklearn.linear_model import LogisticRegressionCV

    X, Y = load_planar_dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegressionCV().fit(X.T, Y.ravel())
    acc = np.mean(clf.predict(X.T) == Y.ravel())
    assert acc == pytest.approx(0.47, abs=0.005)


def test_extra_datasets():
    np.random.seed(0)
    data = load_extra_datasets()
    assert len(data) == 5
    names = ["noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles", "no_structure"]
    for name, (P, y) in zip(names, data):
        assert P.shape == (200, 2), name
        assert y.shape[0] == 200, name
    assert set(np.unique(data[0][1])) == {0, 1}
    assert set(np.unique(data[1][1])) == {0, 1}
    assert set(np.unique(data[2][1])) == set(range(6))
    assert set(np.unique(data[3][1])) == {0, 1}
    # blobs are seeded (random_state=5): identical on every call
    np.testing.assert_array_equal(data[2][0], load_extra_datasets()[2][0])


def test_sigmoid_values_and_stability():
    z = np.linspace(-30, 30, 121).reshape(11, 11)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(sigmoid(z) + sigmoid(-z), 1.0, rtol=1e-12)
    assert sigmoid(z).shape == z.shape
    assert float(sigmoid(0)) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = sigmoid(np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0]))
    assert np.isfinite(big).all()
    np.testing.assert_allclose(big[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert 0 < big[1] < 1e-300


def test_plot_decision_boundary_calls_model_with_rows():
    X, Y = load_planar_dataset()
    seen = []

    def model(P):
        seen.append(P.shape)
        return (P[:, 0] > 0).astype(int)

    ax = plot_decision_boundary(model, X, Y)
    assert len(seen) == 1 and seen[0][1] == 2 and seen[0][0] > 1000
    assert len(ax.collections) >= 2  # filled contours + scatter
    # labels of shape (1, k) are accepted too, as are 1-D y
    _, ax2 = plt.subplots()
    assert plot_decision_boundary(lambda P: (P[:, 1] > 0)[None, :], X, Y.ravel(), ax=ax2) is ax2
    plt.close("all")


def test_plot_decision_boundary_rejects_rows_as_examples():
    X, Y = load_planar_dataset()
    with pytest.raises(ValueError):
        plot_decision_boundary(lambda P: P[:, 0] > 0, X.T, Y)
    plt.close("all")
