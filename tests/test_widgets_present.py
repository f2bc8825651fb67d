"""Every release notebook has a live ipywidgets exploration.

Static part (fast): the notebook imports ipywidgets, builds at least one control (a slider,
dropdown, checkbox ...) and binds it to a callback (``interact``, ``interactive``,
``interactive_output``, ``observe``, ``on_click``), in a cell the student does not have to write
(not a solution cell). Runtime part (slow): with the solutions filled in, the notebook runs
headless in quick mode without error and displays a widget view (what JupyterLab turns into live
controls).
"""
import ast

import pytest

from course.grading.cells import python_source
from course.paths import COURSE_ROOT, existing_assignments
from course.submissions import reference, release_notebook, untouched, write_submission

RELEASED = [a for a in existing_assignments() if release_notebook(a).exists()]
BINDERS = {"interact", "interactive", "interact_manual", "interactive_output", "observe", "on_click", "on_submit"}
CONTROLS = ("Slider", "Dropdown", "Checkbox", "ToggleButton", "ToggleButtons", "RadioButtons", "Select",
            "SelectMultiple", "Button", "Text", "IntText", "FloatText", "BoundedIntText", "BoundedFloatText",
            "Play", "ColorPicker", "Combobox")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _name(func):
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Call):
        return _name(func.func)
    return ""


def widget_usage(nb):
    """What the notebook does with ipywidgets: {'imports', 'controls', 'binders'} -> cell numbers."""
    found = {"imports": [], "controls": [], "binders": []}
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "ipywidgets" for a in node.names):
                found["imports"].append(number)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ipywidgets":
                found["imports"].append(number)
            elif isinstance(node, ast.Call):
                name = _name(node.func)
                if name in BINDERS:
                    found["binders"].append(number)
                if name.endswith(CONTROLS):
                    found["controls"].append(number)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(_name(d) in BINDERS for d in node.decorator_list):  # @interact(...)
                    found["binders"].append(number)
    return found


def test_every_assignment_is_checked():
    assert "01_activations" in RELEASED
    assert set(RELEASED) == {a for a in existing_assignments() if (COURSE_ROOT / "release" / a).is_dir()}


@pytest.mark.parametrize("assignment", RELEASED)
def test_release_notebook_has_a_widget_bound_to_a_callback(assignment):
    usage = widget_usage(untouched(assignment))
    assert usage["imports"], f"{assignment}: ipywidgets is never imported"
    assert usage["controls"], f"{assignment}: no ipywidgets control (slider, dropdown, ...) is created"
    assert usage["binders"], (f"{assignment}: no control is bound to a callback "
                              "(widgets.interact, widgets.interactive, .observe, .on_click)")


def test_detector_rejects_notebooks_without_a_live_widget():
    from nbformat.v4 import new_code_cell, new_notebook

    static = new_notebook(cells=[new_code_cell("import ipywidgets as widgets\nwidgets.IntSlider(3)")])
    no_import = new_notebook(cells=[new_code_cell("interact(f, x=(0, 5))")])
    in_solution = new_notebook(cells=[new_code_cell("import ipywidgets as w\nw.interact(f, x=w.IntSlider())",
                                                    metadata={"nbgrader": {"solution": True, "grade_id": "s"}})])
    live = new_notebook(cells=[new_code_cell("from ipywidgets import interact, FloatSlider\n%matplotlib inline\n"
                                             "@interact(x=FloatSlider(1.0))\ndef show(x):\n    print(x)")])
    assert widget_usage(static)["binders"] == []
    assert widget_usage(no_import)["imports"] == []
    assert widget_usage(in_solution) == {"imports": [], "controls": [], "binders": []}
    assert all(widget_usage(live).values())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", RELEASED)
def test_widget_is_displayed_when_the_solved_notebook_runs(assignment, tmp_path):
    from course.validate import execute, summarize

    path = write_submission(reference(assignment), assignment, "student", tmp_path) / f"{assignment}.ipynb"
    nb, seconds, problem = execute(path, timeout=120)
    assert not problem, problem
    functions, other_errors = summarize(nb)
    assert not other_errors, f"cells failed with the solutions in: {other_errors}"
    binder_cells = set(widget_usage(nb)["binders"])
    displayed = [number for number, cell in enumerate(nb.cells, start=1) if cell.cell_type == "code"
                 and any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))]
    assert displayed, f"{assignment}: no cell displays a widget"
    assert binder_cells, f"{assignment}: no widget bound to a callback"
    assert any(d >= min(binder_cells) for d in displayed), \
        f"{assignment}: widgets are bound in cells {sorted(binder_cells)} but displayed only before, in {displayed}"
