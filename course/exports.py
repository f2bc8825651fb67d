"""Exports of the gradebook to a learning management system, as nbgrader export plugins.

``nbgrader export --exporter=course.exports.CanvasExportPlugin --to=canvas.csv`` and
``course export --canvas`` write the same file. Settings go in ``nbgrader_config.py``, e.g.
``c.CanvasExportPlugin.assignment_columns = {"ps1": "Problem set 1 (123456)"}``.
"""
import csv
from pathlib import Path

from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Enum, Unicode

from course.grading.inert import csv_cell
from course.report import class_report, number

CANVAS_ID_COLUMNS = ("ID", "SIS User ID", "SIS Login ID")


class CanvasExportPlugin(ExportPlugin):
    """Canvas's gradebook import CSV: one row per student, one column per assignment.

    The file has Canvas's own layout (that of its gradebook export)::

        Student,ID,SIS User ID,SIS Login ID,Section,ps1,Problem set 2 (123456)
        "    Points Possible",,,,,10,20
        "Lovelace, Ada",,,ada,,9.5,20

    - **Students** are nbgrader's (``nbgrader db student``); ``Student`` is ``"Last, First"`` (the
      id when the gradebook has no name). Canvas finds the student by ``ID`` (its own numeric user
      id), ``SIS User ID`` or ``SIS Login ID``; the nbgrader student id (usually the JupyterHub
      login) goes into the column named by ``id_column`` (default ``SIS Login ID``), the others
      stay empty. ``Section`` is ``section`` (Canvas ignores it on import).
    - **Assignments**: one column per nbgrader assignment (``--assignment`` limits them), named
      by ``assignment_columns`` (default: the nbgrader name). Canvas matches a header ending in
      ``(<Canvas assignment id>)`` to that assignment; any other header creates a new assignment
      with the ``Points Possible`` of the second row (the nbgrader maximum).
    - **Scores**: nbgrader's, after the late penalty: ``max(0, score - penalty)``, exactly as
      ``nbgrader export`` computes it (and as ``score`` in ``course grade``'s CSV). A student
      without a submission gets ``missing_score``.
    Every cell is made inert (no spreadsheet formula).
    """

    assignment_columns = Dict(
        key_trait=Unicode(), value_trait=Unicode(), default_value={},
        help="nbgrader assignment -> Canvas column header, e.g. {'ps1': 'Problem set 1 (123456)'}; "
             "the number in parentheses is the Canvas assignment id (default header: the nbgrader name)",
    ).tag(config=True)
    id_column = Enum(CANVAS_ID_COLUMNS, default_value="SIS Login ID",
                     help="the Canvas column that gets the nbgrader student id").tag(config=True)
    section = Unicode("", help="the Section column of every student").tag(config=True)
    missing_score = Unicode("0", help="the score of a student without a submission: '0' as nbgrader's own "
                                      "CSV export, or '' to leave the Canvas grade as it is").tag(config=True)

    def export(self, gradebook):
        dest = Path(self.to or "canvas_grades.csv")
        wanted = [str(a) for a in self.assignment]
        assignments = [a.name for a in gradebook.assignments if not wanted or a.name in wanted]
        students = [s for s in gradebook.students if not self.student or s.id in [str(x) for x in self.student]]
        reports = [class_report(gradebook, a, students=[s.id for s in students]) for a in assignments]
        self.log.info("Exporting %d assignment(s) of %d student(s) to %s (Canvas)", len(reports), len(students), dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for line in self.lines(reports, students):
                writer.writerow([csv_cell(cell) for cell in line])

    def lines(self, reports, students):
        """The CSV rows (lists of text): header, Points Possible, one per student (nbgrader ``Student`` s)."""
        yield (["Student", *CANVAS_ID_COLUMNS, "Section"]
               + [self.assignment_columns.get(r.assignment, r.assignment) for r in reports])
        yield ["    Points Possible", "", "", "", ""] + [number(r.max_score) for r in reports]
        for i, student in enumerate(students):
            name = ", ".join(x for x in (student.last_name, student.first_name) if x) or student.id
            ids = [student.id if column == self.id_column else "" for column in CANVAS_ID_COLUMNS]
            scores = [r.rows[i]["score"] for r in reports]
            yield [name, *ids, self.section] + [self.missing_score if x is None else number(x) for x in scores]
