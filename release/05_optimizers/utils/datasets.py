"""Small two-dimensional toy datasets for the optimisation assignment (examples as columns).

- :func:`load_ellipse_dataset`: two classes separated by a tilted, off-centre ellipse, with label
  noise: no straight line separates them, a quadratic boundary does (a logistic model on the
  features ``x0, x1, x0**2, x1**2, x0*x1, 1`` is exactly the right model class).
- :func:`load_moons`: the two half-moons of the deeplearning.ai optimisation exercise
  (``sklearn.datasets.make_moons(300, noise=0.2)`` drawn after ``np.random.seed(3)``).

Both return ``X`` of shape ``(2, m)`` (float64) and ``Y`` of shape ``(1, m)`` (0/1 labels, float64),
and neither touches NumPy's global random generator.
"""
import numpy as np

__all__ = ["load_ellipse_dataset", "load_moons", "ELLIPSE"]

# Quadratic decision function of the ellipse dataset: q(x) = a.[x0, x1, x0^2, x1^2, x0 x1, 1];
# class 1 is more likely where q > 0 (inside the ellipse).
ELLIPSE = np.array([0.9, -0.6, -1.0, -1.6, 0.8, 2.2])


def load_ellipse_dataset(m=800, sharpness=4.0, seed=4):
    """Points around the origin, class 1 inside a tilted ellipse, noisy near the boundary.

    Inputs ``x ~ N(0, 1.2^2 I)``; label 1 with probability ``sigmoid(sharpness * q(x))`` where
    ``q`` is the quadratic form ``ELLIPSE . [x0, x1, x0^2, x1^2, x0 x1, 1]``.

    Args:
        m: number of examples.
        sharpness: larger means less label noise near the boundary.
        seed: seed of the private ``np.random.RandomState``.
    Returns:
        X: (2, m) float64;  Y: (1, m) float64 of 0/1.
    """
    rng = np.random.RandomState(seed)
    X = 1.2 * rng.randn(2, m)
    x0, x1 = X
    q = ELLIPSE @ np.vstack([x0, x1, x0 ** 2, x1 ** 2, x0 * x1, np.ones(m)])
    p = 0.5 * (1.0 + np.tanh(0.5 * sharpness * q))  # = sigmoid(sharpness * q), overflow-free
    Y = (rng.rand(m) < p).astype(np.float64)[None, :]
    return X, Y


def load_moons(m=300, noise=0.2, seed=3):
    """The two interleaving half-moons of the canonical optimisation exercise.

    Same points as ``np.random.seed(3); sklearn.datasets.make_moons(n_samples=300, noise=.2)``
    (the exercise's ``load_dataset``), without reseeding the global generator.

    Returns:
        X: (2, m) float64;  Y: (1, m) float64 of 0/1.
    """
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=m, noise=noise, random_state=np.random.RandomState(seed))
    return X.T.copy(), y.reshape(1, m).astype(np.float64)
