"""Autograde a class with nbgrader: one submission after another (the baseline engine)."""
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from course.build import generate_release
from course.grading.results import read_results
from course.nbgrader_api import make_api
from course.paths import COURSE_ROOT, CourseError, check_assignment
from course.validation import read_notebook

DEFAULT_TIMEOUT = 120  # seconds per cell


@contextmanager
def quick_environment():
    """Kernels started inside this block run training cells in quick mode."""
    old = os.environ.get("COURSE_QUICK")
    os.environ["COURSE_QUICK"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COURSE_QUICK", None)
        else:
            os.environ["COURSE_QUICK"] = old


def find_submissions(assignment, root=COURSE_ROOT):
    """Student ids with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    base = Path(root) / "submitted"
    if not base.is_dir():
        raise CourseError(f"{base} does not exist: nothing has been submitted")
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def submission_problem(assignment, student, root=COURSE_ROOT):
    """Why a submission cannot be graded at all (unreadable notebooks), or ''."""
    folder = Path(root) / "submitted" / student / assignment
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        return f"no notebook in submitted/{student}/{assignment}/"
    for path in notebooks:
        try:
            read_notebook(path)
        except ValueError as err:
            return str(err).replace(str(Path(root)) + os.sep, "")
    return ""


def grade_assignment(assignment, root=COURSE_ROOT, students=None, db_url=None, timeout=DEFAULT_TIMEOUT,
                     feedback=True, progress=None, workers=1, executor="local", scheduler=None):
    """Autograde every submission of ``assignment`` into the gradebook.

    Args:
        students: ids to grade (default: every folder in ``submitted/`` holding the assignment).
        db_url: gradebook URL (default: the course's SQLite gradebook).
        timeout: seconds a single cell may run before it is interrupted and scored 0.
        feedback: also write ``feedback/<student>/<assignment>/*.html``.
        progress: optional callable ``progress(result)`` called after each submission.
        workers, executor, scheduler: how submissions are spread (this engine grades serially).
    Returns:
        list of :class:`course.grading.results.SubmissionResult`, in student order.
    """
    check_assignment(assignment, root)
    students = find_submissions(assignment, root) if students is None else list(students)
    api = make_api(root, db_url=db_url, overrides={"Execute": {"timeout": timeout},
                                                   "ExecutePreprocessor": {"timeout": timeout}})
    db_url = api.coursedir.db_url
    with tempfile.TemporaryDirectory() as tmp:  # the gradebook needs the assignment and its cells
        generate_release(assignment, root, release_dir=Path(tmp) / "release", db_url=db_url)
    results = []
    with quick_environment():
        for student in students:
            start = time.perf_counter()
            error = submission_problem(assignment, student, root)
            if not error:
                outcome = api.autograde(assignment, student, force=True, create=True)
                if not outcome["success"]:
                    error = "nbgrader could not grade this submission: " + _last_line(outcome)
                elif feedback:
                    api.generate_feedback(assignment, student, force=True)
            result = read_results(db_url, api.coursedir.course_id, assignment, student,
                                  Path(root) / "autograded" / student / assignment,
                                  seconds=time.perf_counter() - start, error=error)
            results.append(result)
            if progress:
                progress(result)
    return results


def _last_line(outcome):
    text = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
    interesting = [line for line in text if "Error" in line or "error" in line]
    return (interesting or text or ["unknown error"])[-1].strip()[:300]
