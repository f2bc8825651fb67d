"""course build refuses source notebooks whose nbgrader metadata is broken."""
import nbformat
import pytest
from conftest import ROOT

from course.authoring import script_to_notebook
from course.paths import CourseError
from course.validation import read_notebook, validate_source_notebook

GOOD = '''
# %% nbgrader={"grade_id": "f", "solution": true}
def f():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION

# %% nbgrader={"grade_id": "test_f", "points": 2}
assert f() == 1
### BEGIN HIDDEN TESTS
assert f() + 1 == 2
### END HIDDEN TESTS
'''


def problems(text):
    return validate_source_notebook(script_to_notebook(text), "nb")


def test_good_notebook_has_no_problem():
    assert problems(GOOD) == []


def test_duplicate_grade_id():
    text = GOOD.replace('"grade_id": "test_f"', '"grade_id": "f"')
    assert any("used by cell" in p for p in problems(text))


def test_graded_cell_without_points():
    nb = script_to_notebook(GOOD)
    nb.cells[1].metadata["nbgrader"]["points"] = 0
    assert any("positive points" in p for p in validate_source_notebook(nb, "nb"))


def test_unclosed_solution_marker():
    assert any("never closed" in p for p in problems(GOOD.replace("    ### END SOLUTION\n", "")))


def test_end_marker_without_begin():
    assert any("without a matching" in p for p in problems(GOOD.replace("### BEGIN HIDDEN TESTS\n", "")))


def test_hidden_tests_outside_a_graded_cell():
    text = GOOD.replace("    return 1\n", "    return 1\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n")
    assert any("not a graded code cell" in p for p in problems(text))


def test_solution_cell_without_solution_region():
    text = GOOD.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
    assert any("without '### BEGIN SOLUTION'" in p for p in problems(text))


def test_no_graded_cell():
    text = GOOD.split("# %% nbgrader={\"grade_id\": \"test_f\"")[0]
    assert any("no graded cell" in p for p in problems(text))


def test_corrupted_file_is_reported_with_its_name(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text('{"cells": [')
    with pytest.raises(ValueError, match="x.ipynb is not valid JSON"):
        read_notebook(path)


def test_build_refuses_broken_source(tmp_path):
    from course.build import validate_assignment

    (tmp_path / "source" / "asg").mkdir(parents=True)
    nb = script_to_notebook(GOOD.replace("    ### END SOLUTION\n", ""))
    nbformat.write(nb, str(tmp_path / "source" / "asg" / "asg.ipynb"))
    with pytest.raises(CourseError, match="never closed"):
        validate_assignment("asg", tmp_path)


def test_unknown_assignment_is_a_clear_error():
    from course.build import validate_assignment

    with pytest.raises(CourseError, match="unknown assignment 'nope'"):
        validate_assignment("nope", ROOT)


def test_authoring_round_trip_keeps_metadata():
    from course.authoring import notebook_to_script

    nb = script_to_notebook(GOOD)
    again = script_to_notebook(notebook_to_script(nb))
    assert [c.metadata for c in again.cells] == [c.metadata for c in nb.cells]
    assert [c.source for c in again.cells] == [c.source for c in nb.cells]
    assert nb.cells[1].metadata["nbgrader"] == {"grade": True, "grade_id": "test_f", "locked": True,
                                                "points": 2, "schema_version": 3, "solution": False}
