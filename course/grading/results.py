"""What grading produced, per submission and per graded cell, read back from nbgrader."""
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry


@dataclass
class CellResult:
    """One graded test cell of one submission."""

    grade_id: str
    notebook: str
    score: float
    max_score: float
    message: str = ""  # why points were lost, one line, student-readable


@dataclass
class SubmissionResult:
    """One student's submission of one assignment."""

    student: str
    assignment: str
    max_score: float
    cells: list = field(default_factory=list)
    error: str = ""  # a problem with the whole submission (broken notebook, crash of its kernel)
    seconds: float = 0.0
    cell_seconds: float = 0.0  # of which the kernel spent executing the notebook's cells
    problems: list = field(default_factory=list)  # failed integrity checks: (grade_id, [what changed])
    cell_errors: list = field(default_factory=list)  # (cell, message) of the student's own cells that failed
    timings: dict = field(default_factory=dict)  # where the grader's time went (seconds), for benchmarks

    @property
    def score(self):
        return sum(c.score for c in self.cells)

    def by_problem(self):
        """grade_id -> score (over all notebooks of the assignment)."""
        return {c.grade_id: c.score for c in self.cells}


def first_error(cell):
    """``'AssertionError: message'`` of the first error output of a cell, or ''."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = (out.get("evalue") or "").strip().splitlines()
            text = f"{out.get('ename', 'Error')}: {value[0] if value else ''}".rstrip(": ")
            return text[:300]
    return ""


def cell_messages(notebook_path):
    """grade_id -> first error message, for the graded cells of an autograded notebook."""
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except Exception:
        return {}
    messages = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            messages[meta.get("grade_id", "")] = first_error(cell)
    return messages


def own_cell_errors(notebook_path):
    """(grade_id, first error) of the solution cells that raised.

    A test usually fails because something above it did: these say what (a timeout, an
    exception in the student's own cell).
    """
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except Exception:
        return []
    errors = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        message = first_error(cell) if cell.cell_type == "code" and meta.get("solution") else ""
        if message.startswith("KeyboardInterrupt"):
            message = "interrupted: it ran longer than the time limit per cell"
        if message:
            errors.append((meta.get("grade_id", "?"), message))
    return errors


def read_results(db_url, course_id, assignment, student, autograded_dir, seconds=0.0, error="", gb=None):
    """Build a SubmissionResult from the gradebook (scores) and the autograded notebook (messages).

    A notebook that nbgrader could not grade has no grades in the gradebook: every graded cell
    of the assignment then scores 0, with ``error`` as the reason. ``gb``: an open Gradebook to use.
    """
    if gb is None:
        with Gradebook(db_url, course_id) as opened:
            return read_results(db_url, course_id, assignment, student, autograded_dir, seconds, error, opened)
    asg = gb.find_assignment(assignment)
    result = SubmissionResult(student, assignment, max_score=asg.max_score, seconds=seconds, error=error)
    for notebook in asg.notebooks:
        path = Path(autograded_dir) / f"{notebook.name}.ipynb"
        messages = cell_messages(path)
        result.cell_errors += own_cell_errors(path)
        for cell in notebook.grade_cells:
            try:
                grade = gb.find_grade(cell.name, notebook.name, assignment, student)
                score = grade.score if grade.score is not None else 0.0
            except MissingEntry:
                score = 0.0
                messages.setdefault(cell.name, error or "not graded")
            message = messages.get(cell.name, "") if score < cell.max_score else ""
            if score < cell.max_score and not message:
                message = error or "cell missing or not run"
            result.cells.append(CellResult(cell.name, notebook.name, float(score), float(cell.max_score), message))
    return result
