"""`course grade` in another nbgrader course records exactly what `nbgrader autograde` records.

nbgrader's own quickstart course (`nbgrader quickstart course101`: ps1 has two notebooks,
manually graded answers, a task cell, an image), with a late-penalty plugin and a cell timeout
in its own nbgrader_config.py, plus an assignment of our own (ps2: two notebooks that reuse a
grade id). Everything goes through nbgrader's exchange: release, fetch, submit (complete,
untouched, an endless loop, and one after the due date), collect. One copy of the course is
graded by `nbgrader autograde`, the other by the `course` command run from the course
directory; then a manual grade and an extension are given in both and both regrade. Every
gradebook row and nbgrader's export CSV agree.
"""
import datetime
import os
import shutil
import subprocess
import sys
import time
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


def _loop(folder):
    nb = nbformat.read(folder / "problem1.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "squares":
            cell.source = "def squares(n):\n    while True:\n        pass\n"
    nbformat.write(nb, folder / "problem1.ipynb")


def exchange_submit(course, exchange, assignment, student, answers):
    """Fetch ``assignment`` into the student's own folder, answer (``answers``: None leaves the
    release untouched, "source" copies the solutions, a callable edits the solutions), submit."""
    home = course.parent / "home" / student
    home.mkdir(parents=True, exist_ok=True)
    where = [f"--Exchange.root={exchange}", "--course", "course101"]
    run(["nbgrader", "fetch_assignment", assignment, *where], home)
    if answers is not None:
        for path in (course / "source" / assignment).glob("*.ipynb"):
            shutil.copy(path, home / assignment / path.name)
        if callable(answers):
            answers(home / assignment)
    run(["nbgrader", "submit", assignment, f"--student={student}", *where], home)


def own_assignment(course):
    """ps2: notebooks a and b, each with a solution and a graded test cell called "answer"."""
    meta = {"grade": False, "solution": True, "locked": False, "schema_version": 3}
    for name, points in (("a", 1), ("b", 2)):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
        nb.cells = [
            nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION",
                                      metadata={"nbgrader": dict(meta, grade_id="f")}),
            nbformat.v4.new_code_cell("assert f(1) == 2", metadata={"nbgrader": {
                "grade": True, "solution": False, "locked": True, "grade_id": "answer", "points": points,
                "schema_version": 3}}),
        ]
        (course / "source" / "ps2").mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, course / "source" / "ps2" / f"{name}.ipynb")


def rows(course):
    """Every record autograding makes: timestamps, late penalties, and per cell the auto score,
    the manual score, the manual-grading flag and the auto comment."""
    out = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db", "course101") as gb:
        for sub in gb.assignment_submissions("ps1") + gb.assignment_submissions("ps2"):
            out[sub.student_id, sub.assignment.name] = str(sub.timestamp)
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
    course, exchange = base / "course101", base / "exchange"
    exchange.mkdir()
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f'\nc.Exchange.root = "{exchange}"\nc.LateSubmissionPlugin.penalty_method = "zero"\n'
                'c.Execute.timeout = 5\n')
    own_assignment(course)
    for assignment in ("ps1", "ps2"):
        run(["nbgrader", "db", "assignment", "add", assignment, "--duedate=2099-01-01 00:00:00 UTC"], course)
        run(["nbgrader", "generate_assignment", assignment], course)
        run(["nbgrader", "release_assignment", assignment], course)
    for student, answers in (("bitdiddle", "source"), ("hacker", None), ("looper", _loop)):
        exchange_submit(course, exchange, "ps1", student, answers)
    for student, answers in (("bitdiddle", "source"), ("hacker", None)):
        exchange_submit(course, exchange, "ps2", student, answers)
    due = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    run(["nbgrader", "db", "assignment", "add", "ps1", f"--duedate={due}"], course)
    time.sleep(1.5)
    exchange_submit(course, exchange, "ps1", "late", "source")  # after the due date
    for assignment in ("ps1", "ps2"):
        run(["nbgrader", "collect", assignment], course)
    by_nbgrader, by_course = base / "nbgrader", base / "course"
    shutil.copytree(course, by_nbgrader)
    shutil.copytree(course, by_course)
    printed = ""
    for assignment in ("ps1", "ps2"):
        run(["nbgrader", "autograde", assignment], by_nbgrader)
        printed += run(["course", "grade", assignment, "--workers", "2"], by_course).stdout
    return by_nbgrader, by_course, printed


def test_first_grading_records_the_same(courses):
    by_nbgrader, by_course, printed = courses
    expected = rows(by_nbgrader)
    assert expected["late", "problem1"] == 3.0  # the fixture is what it claims: a late penalty,
    assert expected["bitdiddle", "b", "answer"][0] == 2 and expected["hacker", "a", "answer"][0] == 0  # ps2,
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
