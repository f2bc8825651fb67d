"""The course's plot style is safe for colour-blind readers, and the shared plots draw."""
import json
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import seaborn as sns
from conftest import ROOT, assignments
from matplotlib.colors import to_rgb

from utils import plotting


@pytest.fixture(autouse=True)
def _restore_style():
    saved = dict(matplotlib.rcParams)
    yield
    plt.close("all")
    matplotlib.rcParams.update(saved)


def test_course_style_uses_the_colorblind_palette():
    plotting.use_course_style()
    cycle = [c for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert [to_rgb(c) for c in cycle] == [to_rgb(c) for c in sns.color_palette("colorblind")]
    assert matplotlib.rcParams["image.cmap"] == "cividis"


def _is_red_green(rgb_a, rgb_b):
    """A pair that differs mainly on the red-green axis (what deuteranopes and protanopes lose)."""
    (ra, ga, ba), (rb, gb, bb) = rgb_a, rgb_b
    return abs(ba - bb) < 0.25 and abs((ra - ga) - (rb - gb)) > 0.6


def test_class_colours_and_maps_are_not_red_green():
    assert plotting.CMAP.name == "course_diverging"
    low, high = plotting.CMAP(0.0)[:3], plotting.CMAP(1.0)[:3]
    assert np.allclose(low, to_rgb(plotting.CLASS_COLORS[0]), atol=0.01)
    assert np.allclose(high, to_rgb(plotting.CLASS_COLORS[1]), atol=0.01)
    assert not _is_red_green(low, high)
    assert abs(low[2] - high[2]) > 0.4, "the two ends must differ in blue, which red-green colour blindness keeps"
    assert plotting.SEQUENTIAL_CMAP in {"cividis", "viridis"}
    assert matplotlib.colormaps["course_diverging"] is not None
    assert _is_red_green(to_rgb("#d62728"), to_rgb("#2ca02c"))  # the check itself catches red/green


def test_shared_plots_draw_with_the_course_map():
    plotting.use_course_style()
    X = np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    y = np.array([[0, 1, 1, 0]])
    ax = plotting.plot_decision_boundary(lambda P: (P[:, 0] > 0.5).astype(int), X, y, resolution=20)
    assert ax.collections and all(getattr(c, "cmap", plotting.CMAP) is plotting.CMAP for c in ax.collections)
    plotting.plot_learning_curves({"train loss": [3.0, 2.0, 1.0]})
    plotting.plot_function_and_derivative(np.linspace(-1, 1, 5), np.zeros(5), np.ones(5))
    plotting.show_images(np.zeros((3, 4, 4)), labels=["a", "b", "c"])


RED_GREEN_MAPS = {"Spectral", "Spectral_r", "RdYlGn", "RdYlGn_r", "PiYG", "PiYG_r", "PRGn", "PRGn_r", "jet", "hsv",
                  "rainbow", "gist_rainbow", "nipy_spectral"}


@pytest.mark.parametrize("assignment", assignments())
def test_notebooks_use_no_red_green_colour_map(assignment):
    nb = json.loads((ROOT / "source" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    used = set(re.findall(r"cmap\s*=\s*[\"']([\w]+)[\"']", code)) | set(re.findall(r"palette\s*=\s*[\"']([\w]+)[\"']", code))
    assert not used & RED_GREEN_MAPS, f"{assignment} uses the red-green colour map(s) {sorted(used & RED_GREEN_MAPS)}"
