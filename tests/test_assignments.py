"""Every assignment through the real nbgrader autograder.

For each assignment, one scratch class is graded: the reference solution, the untouched release,
and two partial submissions. Source earns full marks, the release zero, and a partial submission
exactly the points of the parts it got right.
"""
import pytest
from conftest import ROOT, assignments

from course.grading import grade_assignment
from course.submissions import partial, reference, solution_ids, untouched, write_submission

_graded = {}


def graded_class(assignment, tmp_path_factory):
    """Grade the four submissions of ``assignment`` once per test session (per xdist worker)."""
    if assignment not in _graded:
        from course.check import scratch_course

        course = scratch_course(tmp_path_factory.mktemp(assignment), ROOT)
        ids = solution_ids(reference(assignment, ROOT))
        subs = {
            "reference": reference(assignment, ROOT),
            "untouched": untouched(assignment, ROOT),
            "all_but_last": partial(assignment, ids[:-1], ROOT),
            "all_but_first": partial(assignment, ids[1:], ROOT),
        }
        for student, nb in subs.items():
            write_submission(nb, assignment, student, course / "submitted", ROOT)
        results = grade_assignment(assignment, course, feedback=False, timeout=120)
        _graded[assignment] = ({r.student: r for r in results}, reference(assignment, ROOT))
    return _graded[assignment]


def points_after_last_solution(nb):
    """Points of the graded cells that follow the last solution cell."""
    last = max(i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"))
    return sum(c.metadata["nbgrader"]["points"] for c in nb.cells[last + 1:]
               if c.metadata.get("nbgrader", {}).get("grade"))


@pytest.mark.slow
class GradesOfOneAssignment:
    """The four checks; one subclass per assignment so that `--dist loadscope` spreads
    assignments over the test workers while each assignment is graded once."""

    @pytest.fixture
    def assignment(self):
        return self.ASSIGNMENT

    def test_reference_earns_full_marks(self, assignment, tmp_path_factory):
        results, _ = graded_class(assignment, tmp_path_factory)
        r = results["reference"]
        lost = {c.grade_id: c.message for c in r.cells if c.score < c.max_score}
        assert not r.error and r.score == r.max_score > 0, f"reference lost points: {lost}"

    def test_untouched_release_earns_zero(self, assignment, tmp_path_factory):
        results, _ = graded_class(assignment, tmp_path_factory)
        r = results["untouched"]
        assert r.score == 0, f"untouched release earned {[(c.grade_id, c.score) for c in r.cells if c.score]}"
        assert all(c.message for c in r.cells), "every lost point needs a reason"

    def test_partial_submission_loses_exactly_the_missing_part(self, assignment, tmp_path_factory):
        results, ref_nb = graded_class(assignment, tmp_path_factory)
        r = results["all_but_last"]
        assert r.score == r.max_score - points_after_last_solution(ref_nb), [(c.grade_id, c.score, c.message) for c in r.cells]

    def test_partial_submission_scores_in_between(self, assignment, tmp_path_factory):
        results, _ = graded_class(assignment, tmp_path_factory)
        r = results["all_but_first"]
        assert 0 < r.score < r.max_score


for _asg in assignments():
    globals()[f"TestGrades_{_asg}"] = type(f"TestGrades_{_asg}", (GradesOfOneAssignment,), {"ASSIGNMENT": _asg})
