"""The course's plot style and the plots every assignment shares.

All figures use one seaborn theme and sizes that fit a laptop screen (at most about 10 x 4
inches). Functions draw on a given ``ax`` when one is passed and return the axes they used.

Colours are safe for colour-blind readers (about one man in twelve cannot tell red from
green): the line colours ``C0, C1, ...`` are seaborn's ``"colorblind"`` palette, two classes are
orange (0) and blue (1), a signed quantity uses the orange-white-blue map ``CMAP`` and a
sequential one ``SEQUENTIAL_CMAP`` ("cividis"). Never encode a difference as red versus green.
"""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

FIGSIZE = (6.4, 4.0)
WIDE = (10.0, 3.6)
PALETTE = "colorblind"
#: class 0 and class 1 of a binary problem: orange and blue of the colour-blind palette
CLASS_COLORS = ("#de8f05", "#0173b2")
#: diverging map for labels and signed values: orange (low, class 0), white, blue (high, class 1)
CMAP = LinearSegmentedColormap.from_list("course_diverging", [CLASS_COLORS[0], "#f7f7f7", CLASS_COLORS[1]])
#: sequential map, readable with every kind of colour-vision deficiency
SEQUENTIAL_CMAP = "cividis"

if CMAP.name not in matplotlib.colormaps:
    matplotlib.colormaps.register(CMAP)  # so that cmap="course_diverging" works too


def use_course_style():
    """Apply the workbook's plot theme: seaborn ``whitegrid``, notebook context, the colour-blind
    palette for ``C0, C1, ...``, the cividis map for images, and sized figures."""
    import seaborn as sns  # here, not at the top: it loads scipy and pandas (a second and a half)

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.figsize": FIGSIZE, "figure.dpi": 90, "axes.titlesize": "medium",
                         "image.cmap": SEQUENTIAL_CMAP})


def _axes(ax, figsize=FIGSIZE):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_decision_boundary(predict, X, y, ax=None, resolution=300, padding=1.0, title=None):
    """Shade the regions a classifier assigns to each class and scatter the data on top.

    Args:
        predict: callable mapping points of shape ``(k, 2)`` (rows!) to labels of shape ``(k,)``
            or ``(1, k)``; e.g. ``lambda P: predict(parameters, P.T)``.
        X: data of shape ``(2, m)`` (examples as columns, the course convention).
        y: labels of shape ``(1, m)`` or ``(m,)``.
    Returns:
        the matplotlib axes.
    """
    ax = _axes(ax)
    X = np.asarray(X)
    y = np.asarray(y).ravel()
    x_min, x_max = X[0].min() - padding, X[0].max() + padding
    y_min, y_max = X[1].min() - padding, X[1].max() + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    Z = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    ax.contourf(xx, yy, Z, cmap=CMAP, alpha=0.35)
    ax.scatter(X[0], X[1], c=y, cmap=CMAP, s=18, edgecolors="k", linewidths=0.4)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_learning_curves(history, ax=None, title=None, logy=False):
    """Plot named series against their step, e.g. ``{"train loss": [...], "test loss": [...]}``.

    Args:
        history: dict of name -> sequence of floats (one entry per step or epoch).
    Returns:
        the matplotlib axes.
    """
    ax = _axes(ax)
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_xlabel("step")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_function_and_derivative(z, f, df, name="f", axes=None):
    """Two panels: ``f(z)`` and ``f'(z)`` over the 1-D grid ``z`` (shape ``(k,)``)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=WIDE)
    axes[0].plot(z, f, color="C0")
    axes[0].set_title(f"{name}(z)")
    axes[1].plot(z, df, color="C3")
    axes[1].set_title(f"{name}'(z)")
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlabel("z")
    return axes


def show_images(images, labels=None, ncols=10, size=1.0, cmap="gray_r", title=None):
    """A grid of small grey images.

    Args:
        images: array of shape ``(k, h, w)`` or ``(k, h*w)`` with square images.
        labels: optional sequence of ``k`` captions.
    Returns:
        the figure.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        images = images.reshape(-1, side, side)
    k = len(images)
    nrows = max(1, int(np.ceil(k / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < k:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
