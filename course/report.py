"""The class report of one assignment: its rows are read from the gradebook, then rendered twice.

:func:`class_report` builds the rows (one per student) from nbgrader's gradebook and the grading
job's table; :func:`write_csv` and :func:`summary_table` render those same rows, so the CSV and
the table printed after grading never disagree. ``reasons`` says where points were lost (from the
autograded notebooks, terminal only).

Student ids, grade ids and messages come from submissions: every one is made inert before it
reaches the terminal (``terminal_text``: no escape sequences, one line) or a CSV cell
(``csv_cell``: no spreadsheet formula).
"""
import csv
import datetime
from dataclasses import dataclass, field
from pathlib import Path

from course.grading.inert import csv_cell, terminal_text
from course.paths import COURSE_ROOT

# The bookkeeping columns of the CSV, before one column per graded cell.
BOOKKEEPING = ("student", "assignment", "timestamp", "late", "raw_score", "penalty", "score", "max_score",
               "needs_manual_grade", "status", "reason")


def cell_key(notebook, grade_id):
    """The CSV column of one graded cell: ``'notebook:grade_id'``."""
    return f"{notebook}:{grade_id}"


@dataclass
class ClassReport:
    """One assignment's grades, one row per student, as the gradebook holds them.

    ``cells``: ``[(notebook, grade_id, max_score)]`` in the gradebook's order (graded test cells,
    then manually graded tasks, per notebook). ``rows``: one dict per student, keyed by
    :data:`BOOKKEEPING` and :func:`cell_key`; a value the gradebook does not have is ``None``
    (no submission; a cell waiting for its manual grade).
    """

    assignment: str
    max_score: float
    cells: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    @property
    def header(self):
        return list(BOOKKEEPING) + [cell_key(nb, gid) for nb, gid, _ in self.cells]


def _layout(asg):
    """``[(notebook, grade_id, max_score)]`` of an nbgrader ``Assignment``."""
    return [(nb.name, c.name, float(c.max_score)) for nb in asg.notebooks
            for c in list(nb.grade_cells) + list(nb.task_cells)]


def _row(assignment, student, sub, job, cells, max_score):
    """One student's row: the submission ``sub`` (or None) and the job row ``job`` (or None)."""
    row = dict.fromkeys(BOOKKEEPING + tuple(cell_key(nb, gid) for nb, gid, _ in cells))
    status = job["state"] if job else "graded" if sub is not None else "not submitted"
    row.update(student=student, assignment=assignment, max_score=max_score, status=status,
               reason=job["reason"] if job else "")
    if sub is None:
        return row
    raw, penalty = float(sub.score or 0.0), float(sub.late_submission_penalty or 0.0)
    row.update(timestamp=sub.timestamp, late=sub.total_seconds_late > 0, raw_score=raw, penalty=penalty,
               score=max(0.0, raw - penalty), max_score=float(sub.max_score),
               needs_manual_grade=bool(sub.needs_manual_grade))
    for nb in sub.notebooks:
        for grade in nb.grades:
            row[cell_key(nb.name, grade.name)] = None if grade.score is None else float(grade.score)
    return row


def class_report(gb, assignment, students=None, jobs=None):
    """The rows of one assignment, read from an open nbgrader ``Gradebook``.

    Args:
        students: the students to list, in this order (default: everyone with a submission or a
            job row, sorted).
        jobs: ``{student: job row}`` from :meth:`course.grading.jobs.JobStore.states` (``state``
            becomes ``status``, ``reason`` stays); a student without one is ``graded`` if the
            gradebook has the submission (plain ``nbgrader autograde``), else ``not submitted``.
    Scores are nbgrader's: a cell's ``score`` (manual if given, else auto), the submission's raw
    score (their sum), its late penalty, and ``score = max(0, raw - penalty)`` as ``nbgrader export``.
    """
    jobs = jobs or {}
    asg = gb.find_assignment(assignment)
    cells, max_score = _layout(asg), float(asg.max_score)
    subs = {sub.student.id: sub for sub in asg.submissions}
    students = sorted(set(subs) | set(jobs)) if students is None else list(students)
    rows = [_row(assignment, s, subs.get(s), jobs.get(s), cells, max_score) for s in students]
    return ClassReport(assignment, max_score, cells, rows)


def read_report(assignment, root=COURSE_ROOT, db_url=None, students=None):
    """:func:`class_report` of the course at ``root`` (its gradebook, or ``db_url``) with its job table."""
    from nbgrader.api import Gradebook

    from course.grading.jobs import JobStore
    from course.nbgrader_api import make_api

    coursedir = make_api(root, db_url=db_url).coursedir
    store = JobStore(coursedir.db_url)
    try:
        jobs = store.states(assignment)
    finally:
        store.close()
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        return class_report(gb, assignment, students, jobs)


def number(x):
    """A score as text, exactly (``2`` for 2.0, every digit of 1/3)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def csv_value(value):
    """One CSV cell: '' for None, true/false, exact numbers, ISO times, text; all inert (``csv_cell``)."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = number(value)
    elif isinstance(value, datetime.datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return csv_cell(text)


def write_csv(report, path):
    """The report as CSV: :data:`BOOKKEEPING`, then one ``notebook:grade_id`` column per cell. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = report.header
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([csv_cell(h) for h in header])
        for row in report.rows:
            writer.writerow([csv_value(row[key]) for key in header])
    return path


def _fmt(x):
    return "-" if x is None else f"{x:g}"


def verdict(row):
    """The status word of a row in the terminal table."""
    if row["status"] != "graded":
        return row["status"]
    score, top = row["score"], row["max_score"]
    words = ["error" if row["reason"] else "full marks" if score == top else "partial" if score else "no points"]
    if row["late"]:
        words.append(f"late -{row['penalty']:g}")
    if row["needs_manual_grade"]:
        words.append("needs manual grade")
    return ", ".join(words)


def summary_table(report, width=12, id_width=64):
    """The report as a plain-text table: one row per student, one column per graded cell, total, status.

    Columns are named by grade id (``notebook:grade_id`` when the assignment has several notebooks);
    ``-`` is a score the gradebook does not have. Ids are shown whole (two are never confused); the
    student column is as wide as the longest (at least 20, at most ``id_width`` characters: a
    longer id pushes its own row's columns to the right).
    """
    several = len({nb for nb, _, _ in report.cells}) > 1
    labels = [cell_key(nb, gid) if several else gid for nb, gid, _ in report.cells]
    names = [terminal_text(row["student"], 1000) for row in report.rows]
    w = min(id_width, max([20] + [len(n) for n in names]))
    head = (["student".ljust(w)] + [terminal_text(x, 1000)[:width].rjust(width) for x in labels]
            + ["total".rjust(11), " status"])
    lines = [" ".join(head)]
    lines.append(" ".join(["(max)".ljust(w)] + [_fmt(m).rjust(width) for _, _, m in report.cells]
                          + [_fmt(report.max_score).rjust(11)]))
    for name, row in zip(names, report.rows):
        cells = [_fmt(row[cell_key(nb, gid)]).rjust(width) for nb, gid, _ in report.cells]
        total = f"{_fmt(row['score'])}/{_fmt(row['max_score'])}".rjust(11)
        lines.append(" ".join([name.ljust(w)] + cells + [total, " " + terminal_text(verdict(row), 200)]))
    return "\n".join(lines)


def reasons(results, limit=6):
    """Why points were lost, per student (``SubmissionResult`` s, with the autograded notebooks' messages)."""
    lines = []
    for r in results:
        lost = [c for c in r.cells if c.score < c.max_score]
        if not (r.error or lost):
            continue
        lines.append(f"{terminal_text(r.student, 100)}:")
        if r.error:  # nothing ran: the per-cell lines would only repeat it
            lines.append(f"  whole submission: {terminal_text(r.error)}")
            continue
        for cell, message in r.cell_errors[:limit]:
            lines.append(f"  your cell {terminal_text(cell, 100)}: {terminal_text(message)}")
        for c in lost[:limit]:
            lines.append(f"  {terminal_text(c.grade_id, 100)} ({_fmt(c.score)}/{_fmt(c.max_score)}): "
                         f"{terminal_text(c.message)}")
        if len(lost) > limit:
            lines.append(f"  ... and {len(lost) - limit} more")
    return "\n".join(lines)
