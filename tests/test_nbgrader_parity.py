"""`course grade` in another nbgrader course records exactly what `nbgrader autograde` records.

nbgrader's own quickstart course (`nbgrader quickstart course101`: two notebooks, manually graded
answers, a task cell, an image), with a due date, a late-penalty plugin and a cell timeout in its
own nbgrader_config.py. Four submissions (complete, untouched, late, an endless loop) in the
exchange's `submitted/` layout with `timestamp.txt`. One copy is graded by `nbgrader autograde`,
the other by the `course` command run from the course directory; then a manual grade and an
extension are given in both and both regrade. Every gradebook row and nbgrader's export CSV agree.
"""
import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def run(cmd, cwd):
    done = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=cwd, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-3000:])
    return done


def submit(course, student, folder, stamp, loop=False):
    out = course / "submitted" / student / "ps1"
    out.mkdir(parents=True)
    for path in (course / folder / "ps1").iterdir():
        shutil.copy(path, out / path.name)
    (out / "timestamp.txt").write_text(stamp)
    if loop:
        nb = nbformat.read(out / "problem1.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "squares":
                cell.source = "def squares(n):\n    while True:\n        pass\n"
        nbformat.write(nb, out / "problem1.ipynb")


def rows(course):
    """Every record autograding makes: timestamps, late penalties, and per cell the auto score,
    the manual score, the manual-grading flag and the auto comment."""
    out = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db", "course101") as gb:
        for sub in gb.assignment_submissions("ps1"):
            out[sub.student_id] = str(sub.timestamp)
            for nb in sub.notebooks:
                out[sub.student_id, nb.name] = nb.late_submission_penalty
                for g in nb.grades:
                    out[sub.student_id, nb.name, g.name] = (g.auto_score, g.manual_score, g.needs_manual_grade)
                for c in nb.comments:
                    out[sub.student_id, nb.name, c.name, "comment"] = c.auto_comment
    return out


def export(course):
    """nbgrader's export CSV: its header, and its rows in student order (nbgrader lists them in the
    order they entered the gradebook, which parallel grading does not fix)."""
    run(["nbgrader", "export", "--to", "grades.csv"], course)
    header, *lines = (course / "grades.csv").read_text().splitlines()
    return [header, *sorted(lines)]


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    base = tmp_path_factory.mktemp("parity")
    run(["nbgrader", "quickstart", "course101"], base)
    course = base / "course101"
    with open(course / "nbgrader_config.py", "a") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\nc.Execute.timeout = 5\n')
    run(["nbgrader", "db", "assignment", "add", "ps1", "--duedate=2030-01-01 00:00:00 UTC"], course)
    run(["nbgrader", "generate_assignment", "ps1"], course)
    submit(course, "bitdiddle", "source", "2029-12-01 10:00:00.000000 UTC")
    submit(course, "hacker", "release", "2029-12-02 10:00:00.000000 UTC")
    submit(course, "late", "source", "2030-02-01 10:00:00.000000 UTC")
    submit(course, "looper", "source", "2029-12-01 11:00:00.000000 UTC", loop=True)
    by_nbgrader, by_course = base / "nbgrader", base / "course"
    shutil.copytree(course, by_nbgrader)
    shutil.copytree(course, by_course)
    run(["nbgrader", "autograde", "ps1"], by_nbgrader)
    printed = run(["course", "grade", "ps1", "--workers", "2"], by_course).stdout
    return by_nbgrader, by_course, printed


def test_first_grading_records_the_same(courses):
    by_nbgrader, by_course, printed = courses
    expected = rows(by_nbgrader)
    assert expected["late", "problem1"] == 3.0  # the fixture is what it claims: a late penalty,
    assert expected["looper", "problem1", "correct_squares"][0] == 0  # a loop cut off by the timeout,
    assert expected["bitdiddle", "problem1", "sum_of_squares_equation"][2]  # an answer waiting for a manual grade
    assert rows(by_course) == expected
    assert export(by_course) == export(by_nbgrader)
    assert "sum_of_squares_equation (0/1): waits for a manual grade" in printed


def test_manual_grades_and_extensions_survive_a_regrade_as_in_nbgrader(courses):
    for course in courses[:2]:
        with Gradebook(f"sqlite:///{course}/gradebook.db", "course101") as gb:
            grade = gb.find_grade("sum_of_squares_equation", "problem1", "ps1", "bitdiddle")
            grade.manual_score, grade.needs_manual_grade = 1.0, False
            gb.find_submission("ps1", "late").extension = datetime.timedelta(days=40)
            gb.db.commit()
    by_nbgrader, by_course, _ = courses
    run(["nbgrader", "autograde", "ps1", "--force"], by_nbgrader)
    run(["course", "grade", "ps1", "--workers", "2", "--force"], by_course)
    expected = rows(by_nbgrader)
    assert expected["bitdiddle", "problem1", "sum_of_squares_equation"] == (None, 1.0, True)
    assert expected["late", "problem1"] is None  # the extension covers it
    assert rows(by_course) == expected
    assert export(by_course) == export(by_nbgrader)
