"""What grading produced, per submission and per graded cell, read back from nbgrader."""
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course.grading.inert import terminal_text


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
    problems: list = field(default_factory=list)  # notes on the submission: (where, [what]), e.g. links not copied
    cell_errors: list = field(default_factory=list)  # (cell, message) of the student's own cells that failed
    timings: dict = field(default_factory=dict)  # where the grader's time went (seconds), for benchmarks
    status: str = "graded"  # the job state (course.grading.jobs): graded, or failed (not graded: see error)

    @property
    def score(self):
        return sum(c.score for c in self.cells)

    def by_problem(self):
        """grade_id -> score (over all notebooks of the assignment)."""
        return {c.grade_id: c.score for c in self.cells}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMEOUT = "Timeout: the cell ran longer than the time limit and was stopped (an endless loop?)"


def strip_ansi(text):
    """``text`` without terminal colour codes (IPython colours tracebacks)."""
    return _ANSI.sub("", text)


def error_line(cell):
    """``'ename: first line of evalue'`` of a cell's first error output, or '' if it has none.

    A ``KeyboardInterrupt`` is nbclient stopping the cell at its time limit, and says so; a bare
    ``NotImplementedError`` says that something is not written yet. The line is inert: one line,
    control characters (terminal escape sequences) shown escaped, at most 300 characters.
    """
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = strip_ansi(str(out.get("evalue") or "")).strip().splitlines()
            name = terminal_text(strip_ansi(str(out.get("ename") or "Error")), 100)
            if name == "KeyboardInterrupt":
                return TIMEOUT
            if name == "NotImplementedError" and not value:
                return "NotImplementedError (not written yet)"
            return terminal_text(f"{name}: {value[0]}" if value else name, 300)
    return ""


def cell_messages(nb):
    """grade_id -> first error message, for the graded cells of an autograded notebook."""
    messages = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            messages[meta.get("grade_id", "")] = error_line(cell)
    return messages


def own_cell_errors(nb):
    """(grade_id, first error) of the solution cells that raised, in an autograded notebook.

    A test usually fails because something above it did: these say what (a timeout, an
    exception in the student's own cell).
    """
    errors = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        message = error_line(cell) if cell.cell_type == "code" and meta.get("solution") else ""
        if message:
            errors.append((meta.get("grade_id", "?"), message))
    return errors


def assignment_layout(gb, assignment):
    """The assignment as the gradebook has it: ``(max_score, [(notebook, [(grade_id, max_score)])])``.
    It does not change while a class is graded: read it once."""
    asg = gb.find_assignment(assignment)
    return asg.max_score, [(nb.name, [(c.name, c.max_score) for c in nb.grade_cells]) for nb in asg.notebooks]


def cell_rows(gb, table, submission_id, *columns):
    """``(notebook, grade_id, *columns)`` for every ``Grade`` or ``Comment`` record of one
    submission (a ``SubmittedAssignment`` id), in one query; without ``columns`` the last item
    is the record itself."""
    from nbgrader.api import BaseCell, Notebook, SubmittedNotebook

    return (gb.db.query(Notebook.name, BaseCell.name, *(columns or (table,))).select_from(table)
            .join(SubmittedNotebook, table.notebook_id == SubmittedNotebook.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(BaseCell, table.cell_id == BaseCell.id)
            .filter(SubmittedNotebook.assignment_id == submission_id))


def submission_scores(gb, assignment, student):
    """{(notebook, grade_id): (score, needs_manual_grade)} of one submission; {} if it has none."""
    from nbgrader.api import Grade, MissingEntry

    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return {}
    return {(notebook, cell): (score, manual) for notebook, cell, score, manual
            in cell_rows(gb, Grade, submission.id, Grade.score, Grade.needs_manual_grade)}


def read_results(gb, layout, assignment, student, autograded_dir, seconds=0.0, error=""):
    """Build a SubmissionResult from the gradebook (scores) and the autograded notebook (messages).

    ``gb``: the open gradebook; ``layout``: :func:`assignment_layout`. A notebook that nbgrader
    could not grade has no grades in the gradebook: every graded cell of the assignment then
    scores 0, with ``error`` as the reason.
    """
    max_score, notebooks = layout
    result = SubmissionResult(student, assignment, max_score=max_score, seconds=seconds, error=error)
    scores = submission_scores(gb, assignment, student)
    for notebook, cells in notebooks:
        try:
            nb = nbformat.read(str(Path(autograded_dir) / f"{notebook}.ipynb"), as_version=4)
        except Exception:  # noqa: BLE001 - missing or broken: no messages
            nb = nbformat.v4.new_notebook()
        messages = cell_messages(nb)
        result.cell_errors += own_cell_errors(nb)
        for name, cell_max in cells:
            score, manual = scores.get((notebook, name), (None, False))
            if (notebook, name) not in scores:
                messages.setdefault(name, error or "not graded")
            elif manual:
                messages.setdefault(name, "waits for a manual grade")
            score = score or 0.0
            message = messages.get(name, "") if score < cell_max else ""
            if score < cell_max and not message:
                message = error or "cell missing or not run"
            result.cells.append(CellResult(name, notebook, float(score), float(cell_max), message))
    return result
