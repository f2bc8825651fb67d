"""The class table printed after grading, and its CSV export.

Student ids, grade ids and messages come from submissions: every one is made inert before it
reaches the terminal (``terminal_text``: no escape sequences, one line) or a CSV cell
(``csv_cell``: no spreadsheet formula).
"""
import csv
from pathlib import Path

from course.grading.inert import csv_cell, terminal_text


def _fmt(x):
    return f"{x:g}"


def problem_columns(results):
    """(grade_id, max points) in notebook order, from the first result that lists cells."""
    for r in results:
        if r.cells:
            return [(c.grade_id, c.max_score) for c in r.cells]
    return []


def summary_table(results, width=12):
    """A plain-text table: one row per student, one column per graded cell, total, status."""
    columns = problem_columns(results)
    head = ["student".ljust(20)] + [terminal_text(gid, 1000)[:width].rjust(width) for gid, _ in columns] + ["total".rjust(11), " status"]
    lines = [" ".join(head)]
    lines.append(" ".join(["(max)".ljust(20)] + [_fmt(m).rjust(width) for _, m in columns]
                          + [_fmt(sum(m for _, m in columns)).rjust(11)]))
    for r in results:
        scores = r.by_problem()
        row = [terminal_text(r.student, 1000)[:20].ljust(20)] + [_fmt(scores.get(gid, 0)).rjust(width) for gid, _ in columns]
        status = ("error" if r.error else "full marks" if r.score == r.max_score
                  else "partial" if r.score > 0 else "no points")
        row += [f"{_fmt(r.score)}/{_fmt(r.max_score)}".rjust(11), " " + status]
        lines.append(" ".join(row))
    return "\n".join(lines)


def reasons(results, limit=6):
    """Why points were lost, per student: a few lines each."""
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


def write_csv(results, path):
    """One row per student: per-problem scores, total, maximum, error. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = problem_columns(results)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        header = ["student", "assignment"] + [gid for gid, _ in columns] + ["score", "max_score", "error", "seconds"]
        writer.writerow([csv_cell(h) for h in header])
        for r in results:
            scores = r.by_problem()
            row = ([r.student, r.assignment] + [_fmt(scores.get(gid, 0)) for gid, _ in columns]
                   + [_fmt(r.score), _fmt(r.max_score), r.error, f"{r.seconds:.2f}"])
            writer.writerow([csv_cell(v) for v in row])
    return path
