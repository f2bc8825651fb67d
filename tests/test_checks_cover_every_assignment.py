"""Every assignment of the course has grader-side checks for every graded test cell (nothing is left
to the kernel's own verdict), and visible expected values from the answer key."""
import pytest

from course.checks import load_checks
from course.paths import COURSE_ROOT, existing_assignments
from course.validation import read_notebook


@pytest.mark.parametrize("assignment", existing_assignments())
def test_every_graded_cell_is_judged_in_the_grader(assignment):
    checks = load_checks(COURSE_ROOT / "course" / "checks", assignment)
    assert checks is not None, f"course/checks/{assignment}.py is missing"
    graded = set()
    for path in sorted((COURSE_ROOT / "source" / assignment).glob("*.ipynb")):
        for cell in read_notebook(path).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                graded.add(meta["grade_id"])
                assert "BEGIN HIDDEN TESTS" not in cell.source, f"{assignment}/{meta['grade_id']}: hidden tests in the notebook"
    assert graded and graded == set(checks.tests)
