"""``course validate NOTEBOOK``: the student's self-check, for instructors.

Students run it from their bundle as ``python -m utils.validate NOTEBOOK`` (they have no
``course`` package); this command delegates to that module and adds one thing: an assignment id
stands for its notebook in ``release/``. It runs the notebook's visible tests only: the grader's
own checks (``course/checks``) run when a submission is graded.
"""
from pathlib import Path

from course.paths import CourseError
from utils.validate import (  # re-exported: the names this module always had
    DEFAULT_TIMEOUT, FAIL, NO_TEST, NOT_RUN, NOT_STARTED, PASS, CellError, FunctionStatus, ValidateError,
    ValidationReport, first_error, format_report, summarize)
from utils import validate as _student

__all__ = ["DEFAULT_TIMEOUT", "FAIL", "NO_TEST", "NOT_RUN", "NOT_STARTED", "PASS", "CellError", "FunctionStatus",
           "ValidateError", "ValidationReport", "execute", "first_error", "format_report", "main", "resolve",
           "summarize", "validate"]


def resolve(path):
    """The notebook meant by ``path``: a .ipynb file, a folder holding one (``ASG/ASG.ipynb`` first),
    or an assignment id (its notebook in ``release/``)."""
    from course.submissions import release_notebook

    path = Path(path)
    if not path.exists() and not path.suffix and len(path.parts) == 1:
        candidate = release_notebook(path.name)
        if candidate.exists():
            return candidate
    try:
        return _student.resolve(path)
    except ValidateError as err:
        raise CourseError(str(err)) from None


def execute(path, timeout=DEFAULT_TIMEOUT, quick=True):
    """Run the notebook at ``path`` in a fresh kernel, in its own folder, errors allowed.

    Returns:
        (executed notebook, seconds, problem): see :func:`utils.validate.execute`.
    """
    try:
        return _student.execute(resolve(path), timeout, quick)
    except ValidateError as err:
        raise CourseError(str(err)) from None


def validate(path, timeout=DEFAULT_TIMEOUT, quick=True):
    """Execute and summarize a notebook; returns a ValidationReport."""
    try:
        return _student.validate(resolve(path), timeout, quick)
    except ValidateError as err:
        raise CourseError(str(err)) from None


def main(path, timeout=DEFAULT_TIMEOUT):
    """What ``python -m course validate`` does; returns the exit status."""
    report = validate(path, timeout=timeout)
    print(format_report(report))
    return 0 if report.ok else 1
