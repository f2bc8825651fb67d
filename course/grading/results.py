"""What grading produced, per submission and per graded cell, read back from nbgrader."""
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook


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


def _notebook(notebook):
    """A parsed notebook (passed through), or the one read from a path; None if unreadable."""
    if not isinstance(notebook, (str, Path)):
        return notebook
    try:
        return nbformat.read(str(notebook), as_version=4)
    except Exception:  # noqa: BLE001 - missing or broken: no messages
        return None


def cell_messages(notebook):
    """grade_id -> first error message, for the graded cells of an autograded notebook (or its path)."""
    nb = _notebook(notebook)
    if nb is None:
        return {}
    messages = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            messages[meta.get("grade_id", "")] = first_error(cell)
    return messages


def own_cell_errors(notebook):
    """(grade_id, first error) of the solution cells that raised, in an autograded notebook (or its path).

    A test usually fails because something above it did: these say what (a timeout, an
    exception in the student's own cell).
    """
    nb = _notebook(notebook)
    if nb is None:
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


def assignment_layout(gb, assignment):
    """The assignment as the gradebook has it: ``(max_score, [(notebook, [(grade_id, max_score)])])``.
    It does not change while a class is graded: read it once."""
    asg = gb.find_assignment(assignment)
    return asg.max_score, [(nb.name, [(c.name, c.max_score) for c in nb.grade_cells]) for nb in asg.notebooks]


def submission_scores(gb, assignment, student):
    """{(notebook, grade_id): score} of one submission, in one query; {} if it has none."""
    from nbgrader.api import BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook

    asg = gb.find_assignment(assignment)
    found = (gb.db.query(Notebook.name, BaseCell.name, Grade.score).select_from(Grade)
             .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
             .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
             .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
             .join(BaseCell, Grade.cell_id == BaseCell.id)
             .filter(SubmittedAssignment.assignment_id == asg.id, SubmittedAssignment.student_id == student))
    return {(notebook, cell): score for notebook, cell, score in found}


_NO_GRADE = object()


def read_results(db_url, course_id, assignment, student, autograded_dir, seconds=0.0, error="", gb=None,
                 layout=None):
    """Build a SubmissionResult from the gradebook (scores) and the autograded notebook (messages).

    A notebook that nbgrader could not grade has no grades in the gradebook: every graded cell
    of the assignment then scores 0, with ``error`` as the reason. ``gb``: an open Gradebook to
    use; ``layout``: :func:`assignment_layout`, if already read.
    """
    if gb is None:
        with Gradebook(db_url, course_id) as opened:
            return read_results(db_url, course_id, assignment, student, autograded_dir, seconds, error, opened, layout)
    max_score, notebooks = layout or assignment_layout(gb, assignment)
    result = SubmissionResult(student, assignment, max_score=max_score, seconds=seconds, error=error)
    scores = submission_scores(gb, assignment, student)
    for notebook, cells in notebooks:
        nb = _notebook(Path(autograded_dir) / f"{notebook}.ipynb")
        messages = cell_messages(nb)
        result.cell_errors += own_cell_errors(nb)
        for name, cell_max in cells:
            score = scores.get((notebook, name), _NO_GRADE)
            if score is _NO_GRADE:
                score = 0.0
                messages.setdefault(name, error or "not graded")
            elif score is None:
                score = 0.0
            message = messages.get(name, "") if score < cell_max else ""
            if score < cell_max and not message:
                message = error or "cell missing or not run"
            result.cells.append(CellResult(name, notebook, float(score), float(cell_max), message))
    return result
