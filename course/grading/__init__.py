"""Grading a class: autograde with nbgrader, read scores and reasons back."""
from course.grading.engine import DEFAULT_TIMEOUT, find_submissions, grade_assignment
from course.grading.results import CellResult, SubmissionResult

__all__ = ["DEFAULT_TIMEOUT", "find_submissions", "grade_assignment", "CellResult", "SubmissionResult"]
