"""Grading a class: autograde with nbgrader, read scores and reasons back.

The names below load on first use, so that a light module of this package (``inert``,
``jobs``) does not pull in nbgrader.
"""
__all__ = ["find_submissions", "grade_assignment", "CellResult", "SubmissionResult"]


def __getattr__(name):
    if name in ("find_submissions", "grade_assignment"):
        from course.grading import engine
        return getattr(engine, name)
    if name in ("CellResult", "SubmissionResult"):
        from course.grading import results
        return getattr(results, name)
    raise AttributeError(name)
