"""The planar ("flower") classification helpers, compatible with deeplearning.ai's ``planar_utils``.

Material written for that course runs unchanged against this module::

    from utils.planar_utils import plot_decision_boundary, sigmoid, load_planar_dataset, load_extra_datasets

- :func:`load_planar_dataset` rebuilds the canonical flower data point for point
  (``X`` of shape ``(2, 400)``, ``Y`` of shape ``(1, 400)``, dtype ``uint8``);
- :func:`load_extra_datasets` gives the five sklearn toy datasets of the exercise's last part;
- :func:`plot_decision_boundary` shades a classifier's regions (``model`` maps rows ``(k, 2)``);
- :func:`sigmoid` is the logistic function, numerically stable for any input.

Both loaders draw from NumPy's legacy global random generator, as the originals do.
"""
import numpy as np

from utils import plotting

__all__ = ["load_planar_dataset", "load_extra_datasets", "plot_decision_boundary", "sigmoid"]


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, element by element.

    Stable for large ``|x|`` (no overflow warning for ``x = -1000``): the exponential is only
    ever taken of a non-positive number.

    Args:
        x: a number or an array of any shape.
    Returns:
        an array (or a NumPy float) of the same shape, with values in ``[0, 1]``.
    """
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def load_planar_dataset():
    """The two-class "flower": 400 points in the plane, 200 per class, with 4 petals.

    Seeds NumPy's global generator with 1 (as the original does), so the data are always the
    same: the first column of ``X`` is ``(1.20444229, 3.57611415)``.

    Returns:
        X: float array of shape ``(2, 400)``, one point per column.
        Y: uint8 array of shape ``(1, 400)``, labels 0 (red) and 1 (blue).
    """
    np.random.seed(1)
    m = 400  # number of examples
    N = m // 2  # points per class
    D = 2  # dimensionality
    X = np.zeros((m, D))
    Y = np.zeros((m, 1), dtype="uint8")
    a = 4  # maximum ray (length of a petal)
    for j in range(2):  # two classes, not a loop over examples
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2  # angle
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2  # radius
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def load_extra_datasets():
    """Five 200-point toy datasets from sklearn, to try the shallow network on other shapes.

    Returns:
        ``(noisy_circles, noisy_moons, blobs, gaussian_quantiles, no_structure)``, each a pair
        ``(points, labels)`` with points of shape ``(200, 2)`` (rows!) and labels of shape
        ``(200,)``; ``blobs`` has 6 classes (reduce it with ``labels % 2`` for a binary task),
        ``no_structure`` is uniform noise paired with a second uniform sample.
    """
    import sklearn.datasets

    N = 200
    noisy_circles = sklearn.datasets.make_circles(n_samples=N, factor=0.5, noise=0.3)
    noisy_moons = sklearn.datasets.make_moons(n_samples=N, noise=0.2)
    blobs = sklearn.datasets.make_blobs(n_samples=N, random_state=5, n_features=2, centers=6)
    gaussian_quantiles = sklearn.datasets.make_gaussian_quantiles(
        mean=None, cov=0.5, n_samples=N, n_features=2, n_classes=2, shuffle=True, random_state=None
    )
    no_structure = np.random.rand(N, 2), np.random.rand(N, 2)
    return noisy_circles, noisy_moons, blobs, gaussian_quantiles, no_structure


def plot_decision_boundary(model, X, y, ax=None, title=None, resolution=300):
    """Shade the regions a classifier assigns to each class and scatter the data on top.

    Args:
        model: callable mapping points of shape ``(k, 2)`` (one point per row) to labels of
            shape ``(k,)`` or ``(1, k)``, e.g. ``lambda x: predict(parameters, x.T)`` or
            ``lambda x: clf.predict(x)``.
        X: data of shape ``(2, m)``, one example per column.
        y: labels of shape ``(1, m)`` or ``(m,)``.
        ax: optional matplotlib axes to draw on (a new figure otherwise).
        title: optional title.
        resolution: grid points per axis (the model is evaluated on ``resolution**2`` points).
    Returns:
        the matplotlib axes.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X should have shape (2, m), one point per column; got {X.shape}.")
    return plotting.plot_decision_boundary(model, X, y, ax=ax, resolution=resolution, title=title)
