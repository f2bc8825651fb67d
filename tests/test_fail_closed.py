"""Grading fails closed: never an unsandboxed kernel beside the answer key, never a fallback to the
kernel's own verdict, never a grader fault recorded as a student's 0."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.checked_execute import CheckedExecute
from course.grading.worker import _grader_problem
from course.paths import COURSE_ROOT

CHECKS = str(COURSE_ROOT / "course" / "checks")
RESOURCES = {"nbgrader": {"assignment": "01_activations", "notebook": "01_activations", "student": "s"},
             "metadata": {"path": "."}}


def source_notebook():
    return nbformat.read(str(COURSE_ROOT / "source" / "01_activations" / "01_activations.ipynb"), as_version=4)


def test_checks_never_run_beside_an_unsandboxed_kernel():
    with pytest.raises(RuntimeError, match="would not be sandboxed"):
        CheckedExecute(checks_dir=CHECKS).preprocess(source_notebook(), RESOURCES)


def test_a_graded_cell_without_a_grader_side_test_is_refused_when_required():
    nb = source_notebook()
    nb.cells.append(new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_not_in_checks", "points": 1, "locked": True, "solution": False,
        "schema_version": 3}}))
    ce = CheckedExecute(checks_dir=CHECKS, require_checks=True, allow_unsandboxed=True)
    with pytest.raises(RuntimeError, match="test_not_in_checks"):
        ce.preprocess(nb, RESOURCES)


def test_a_missing_checks_folder_is_refused(tmp_path):
    ce = CheckedExecute(checks_dir=str(tmp_path / "nowhere"), allow_unsandboxed=True)
    with pytest.raises(FileNotFoundError):
        ce.preprocess(new_notebook(), RESOURCES)


def test_a_worker_without_the_checks_reports_a_grader_problem(tmp_path):
    job = {"assignment": "01_activations", "isolate": False}  # (the sandbox's own check: below)
    assert _grader_problem(dict(job, checks_dir=CHECKS)) == ""
    assert "missing on host" in _grader_problem(dict(job, checks_dir=str(tmp_path / "gone")))
    (tmp_path / "01_activations.py").write_text("raise ImportError('broken on purpose')\n")
    assert "cannot be loaded" in _grader_problem(dict(job, checks_dir=str(tmp_path)))


def test_a_worker_without_the_sandbox_refuses_a_sandboxed_job(monkeypatch):
    """A Dask worker that cannot sandbox (not root, no namespaces) fails the job, with the reason,
    rather than running the student's kernel beside the answer key."""
    from course.grading import worker

    monkeypatch.setattr(worker, "isolation_available", lambda: "not running as root")
    job = {"checks_dir": CHECKS, "assignment": "01_activations"}
    assert "sandbox is not available" in _grader_problem(dict(job, isolate=True)) and \
        "not running as root" in _grader_problem(job)
    assert _grader_problem(dict(job, isolate=False)) == ""  # --no-isolation: the instructor's choice
