"""utils.datasets: shapes, determinism, the canonical moons, the ellipse's quadratic structure."""
import numpy as np

from utils.datasets import ELLIPSE, load_ellipse_dataset, load_moons


def test_moons_match_the_canonical_global_seed_recipe():
    from sklearn.datasets import make_moons

    state = np.random.get_state()
    try:
        np.random.seed(3)
        Xc, yc = make_moons(n_samples=300, noise=0.2)
    finally:
        np.random.set_state(state)
    X, Y = load_moons()
    assert X.shape == (2, 300) and Y.shape == (1, 300)
    np.testing.assert_array_equal(X, Xc.T)
    np.testing.assert_array_equal(Y[0], yc)


def test_datasets_do_not_touch_the_global_generator():
    np.random.seed(123)
    a = np.random.rand()
    np.random.seed(123)
    load_moons()
    load_ellipse_dataset()
    assert np.random.rand() == a


def test_ellipse_shapes_balance_and_quadratic_separability():
    X, Y = load_ellipse_dataset()
    assert X.shape == (2, 800) and Y.shape == (1, 800) and X.dtype == np.float64
    assert set(np.unique(Y)) == {0.0, 1.0}
    assert 0.3 < Y.mean() < 0.7
    x0, x1 = X
    q = ELLIPSE @ np.vstack([x0, x1, x0 ** 2, x1 ** 2, x0 * x1, np.ones(X.shape[1])])
    quad_acc = np.mean((q > 0) == (Y[0] == 1))
    # the best straight line does much worse than the true quadratic boundary
    from sklearn.linear_model import LogisticRegression

    lin_acc = LogisticRegression().fit(X.T, Y[0]).score(X.T, Y[0])
    assert quad_acc > 0.85 and lin_acc < quad_acc - 0.1, (quad_acc, lin_acc)
    X2, Y2 = load_ellipse_dataset()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)
