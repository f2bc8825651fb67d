"""Reports: the grades CSV and the terminal table agree with the gradebook row by row; the Canvas
export works through nbgrader's own ``nbgrader export``; no cell is a spreadsheet formula; the
wheel installs a ``course`` command.

The class is written straight into a gradebook with nbgrader's API (no notebook runs): two
notebooks, a manually graded task, a late submission, a grade still waiting for a person, a
failed job, a student who never submitted, and names that are spreadsheet formulas.
"""
import csv
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

from course.grading.jobs import JobStore
from course.report import BOOKKEEPING, class_report, read_report, summary_table, write_csv

ASG, COURSE_ID = "ps1", "dl-workbook"
CELLS = [("part1", "test_a", 2.0), ("part1", "test_b", 3.0), ("part2", "essay", 5.0)]
# student -> (timestamp, {(notebook, cell): (auto_score, manual_score)}, late penalty of part1)
SUBMISSIONS = {
    "ada": ("2026-01-09 10:00:00", {("part1", "test_a"): (2, None), ("part1", "test_b"): (1.5, None),
                                    ("part2", "essay"): (None, 4)}, 0.0),
    "=2+5": ("2026-01-12 09:30:00", {("part1", "test_a"): (2, None), ("part1", "test_b"): (3, None),
                                     ("part2", "essay"): (None, 1.0 / 3)}, 1.0),
    "@SUM(A1)": ("2026-01-10 11:00:00", {("part1", "test_a"): (0, None), ("part1", "test_b"): (0, None),
                                         ("part2", "essay"): (None, None)}, 0.0),
}
JOBS = {"ada": ("graded", ""), "=2+5": ("graded", ""), "@SUM(A1)": ("graded", "=HYPERLINK(\"http://x\")"),
        "dot": ("failed", "the Dask task failed: lost worker")}
NAMES = {"ada": ("Ada", "Lovelace"), "=2+5": ("-2+3", "=1+1"), "@SUM(A1)": ("", ""), "dot": ("Dot", "Cotton"),
         "eve": ("Eve", "")}


def _add_submission(gb, student, timestamp, grades, penalty):
    sub = gb.add_submission(ASG, student, timestamp=timestamp)
    for nb in sub.notebooks:
        nb.late_submission_penalty = penalty if nb.name == "part1" else 0.0
    for (notebook, cell), (auto, manual) in grades.items():
        grade = gb.find_grade(cell, notebook, ASG, student)
        grade.auto_score, grade.manual_score = auto, manual
        grade.needs_manual_grade = auto is None and manual is None
    gb.db.commit()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with a gradebook (its SQLite URL beside) holding the class above."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("reports")
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url, COURSE_ID) as gb:
        gb.add_assignment(ASG, duedate="2026-01-10 12:00:00")
        for notebook in ("part1", "part2"):
            gb.add_notebook(notebook, ASG)
        for notebook, cell, points in CELLS:
            gb.add_grade_cell(cell, notebook, ASG, max_score=points,
                              cell_type="markdown" if cell == "essay" else "code")
        for student, (first, last) in NAMES.items():
            gb.add_student(student, first_name=first, last_name=last)
        for student, (timestamp, grades, penalty) in SUBMISSIONS.items():
            _add_submission(gb, student, timestamp, grades, penalty)
    store = JobStore(url)
    try:
        for student, (state, reason) in JOBS.items():
            store.mark(ASG, [student], state, reason)
    finally:
        store.close()
    return root, url


def _csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _nbgrader_csv(course, tmp_path):
    """nbgrader's own CSV export of the course: ``{student: row}``."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    with Gradebook(course[1], COURSE_ID) as gb:
        CsvExportPlugin(to=str(tmp_path / "nbgrader.csv")).export(gb)
    return {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "nbgrader.csv"))}


def test_csv_columns_and_rows_agree_with_the_gradebook(course, tmp_path):
    from nbgrader.api import Gradebook

    report = read_report(ASG, course[0], db_url=course[1])
    rows = list(csv.DictReader(open(write_csv(report, tmp_path / "g.csv"), newline="")))
    assert list(rows[0]) == list(BOOKKEEPING) + ["part1:test_a", "part1:test_b", "part2:essay"]
    assert [r["student"] for r in rows] == ["'=2+5", "'@SUM(A1)", "ada", "dot"]  # eve: no submission, no job
    with Gradebook(course[1], COURSE_ID) as gb:
        for row in rows:
            student = row["student"].removeprefix("'")
            if student == "dot":  # the job failed before anything reached the gradebook
                assert row["status"] == "failed" and "lost worker" in row["reason"]
                assert [row[k] for k in ("timestamp", "score", "part1:test_a")] == ["", "", ""]
                continue
            sub = gb.find_submission(ASG, student)
            assert row["timestamp"] == sub.timestamp.isoformat()
            assert row["late"] == ("true" if sub.total_seconds_late > 0 else "false")
            assert float(row["raw_score"]) == sub.score and float(row["penalty"]) == sub.late_submission_penalty
            assert float(row["max_score"]) == sub.max_score == 10
            assert row["needs_manual_grade"] == ("true" if sub.needs_manual_grade else "false")
            for notebook, cell, _ in CELLS:
                score = gb.find_grade(cell, notebook, ASG, student).score
                assert row[f"{notebook}:{cell}"] == ("" if score is None else repr(float(score)).removesuffix(".0"))
    by = {r["student"].removeprefix("'"): r for r in rows}
    assert by["=2+5"]["late"] == "true" and float(by["=2+5"]["penalty"]) == 1
    assert by["@SUM(A1)"]["needs_manual_grade"] == "true" and by["@SUM(A1)"]["part2:essay"] == "0"  # as nbgrader
    assert float(by["=2+5"]["part2:essay"]) == 1.0 / 3  # every digit, not a rounded 0.333333


def test_scores_are_those_of_nbgrader_export(course, tmp_path):
    theirs = _nbgrader_csv(course, tmp_path)
    report = read_report(ASG, course[0], db_url=course[1])
    for row in report.rows:
        if row["status"] == "failed":
            continue
        mine = theirs[row["student"]]
        assert row["score"] == float(mine["score"]) and row["penalty"] == float(mine["late_submission_penalty"])
        assert row["raw_score"] == float(mine["raw_score"]) and row["max_score"] == float(mine["max_score"])
    assert {r["student"]: r["score"] for r in report.rows} == {"=2+5": 2 + 3 + 1.0 / 3 - 1, "@SUM(A1)": 0.0,
                                                              "ada": 7.5, "dot": None}


def test_the_table_shows_the_same_rows(course, tmp_path):
    report = read_report(ASG, course[0], db_url=course[1])
    table = summary_table(report).splitlines()
    assert table[0].split()[1:4] == ["part1:test_a", "part1:test_b", "part2:essay"]  # two notebooks: named in full
    rows = {r["student"]: r for r in report.rows}
    for line in table[2:]:
        student, a, b, essay, total, *status = line.split()
        row = rows[student]
        shown = ["-" if row[f"{nb}:{c}"] is None else f"{row[f'{nb}:{c}']:g}" for nb, c, _ in CELLS]
        assert [a, b, essay] == shown, student
        assert total == ("-" if row["score"] is None else f"{row['score']:g}") + "/10"
    assert len(table) == 2 + len(rows)
    status = {line.split()[0]: " ".join(line.split()[5:]) for line in table[2:]}
    assert status == {"=2+5": "partial, late -1", "@SUM(A1)": "error, needs manual grade", "ada": "partial",
                      "dot": "failed"}


def test_long_ids_stay_apart_in_the_table():
    from course.report import ClassReport, cell_key

    ids = ["student-with-a-long-id-0001", "student-with-a-long-id-0002", "x" * 100 + "a", "x" * 100 + "b", "bo"]
    rows = []
    for student in ids:
        row = dict.fromkeys(BOOKKEEPING + (cell_key("nb", "t"),))
        row.update(student=student, status="graded", score=1.0, max_score=1.0, reason="", late=False,
                   needs_manual_grade=False)
        row[cell_key("nb", "t")] = 1.0
        rows.append(row)
    table = summary_table(ClassReport("asg", 1.0, [("nb", "t", 1.0)], rows)).splitlines()[2:]
    shown = [line.split()[0] for line in table]
    assert shown == ids  # whole: two long ids with a common start are still two names
    short = [line for line in table if not line.startswith("x")]
    assert len({line.index("1/1") for line in short}) == 1  # one column width for ids up to 64 characters


def test_rows_follow_the_given_students(course):
    from nbgrader.api import Gradebook

    with Gradebook(course[1], COURSE_ID) as gb:
        report = class_report(gb, ASG, students=["eve", "ada"])
    assert [(r["student"], r["status"], r["score"]) for r in report.rows] == [("eve", "not submitted", None),
                                                                             ("ada", "graded", 7.5)]


def _formulas(cells):
    return [c for c in cells if c[:1] in ("=", "+", "-", "@")]


def test_no_cell_is_a_formula(course, tmp_path):
    report = read_report(ASG, course[0], db_url=course[1])
    cells = [c for row in _csv(write_csv(report, tmp_path / "g.csv")) for c in row]
    assert not _formulas(cells), _formulas(cells)
    assert "'=2+5" in cells and "'@SUM(A1)" in cells and "'=HYPERLINK(\"http://x\")" in cells


def _nbgrader_export(course, tmp_path, *args):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CanvasExportPlugin.assignment_columns = {'ps1': 'Problem set 1 (4242)'}\n")
    out = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--exporter=course.exports.CanvasExportPlugin",
                          "--to=canvas.csv", f"--db={course[1]}", f"--course={COURSE_ID}", *args],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return _csv(tmp_path / "canvas.csv")


@pytest.mark.slow  # runs `nbgrader export` in a subprocess
def test_canvas_export_through_nbgrader_export(course, tmp_path):
    theirs = _nbgrader_csv(course, tmp_path)
    lines = _nbgrader_export(course, tmp_path)
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Problem set 1 (4242)"]
    assert lines[1] == ["    Points Possible", "", "", "", "", "10"]
    students = {line[3].removeprefix("'"): line for line in lines[2:]}
    assert sorted(students) == sorted(NAMES)  # every student of the gradebook, submitted or not
    for student, line in students.items():
        assert line[1] == line[2] == "" and line[4] == ""
        assert float(line[5]) == float(theirs[student]["score"]), student  # nbgrader's score after the penalty
    assert students["ada"][0] == "Lovelace, Ada" and students["@SUM(A1)"][0] == "'@SUM(A1)"  # no name: the id
    assert students["=2+5"][0] == "'=1+1, -2+3"
    cells = [c for line in lines for c in line]
    assert not _formulas(cells), _formulas(cells)


@pytest.mark.slow  # runs `nbgrader export` in a subprocess
def test_canvas_export_filters_and_settings(course, tmp_path):
    lines = _nbgrader_export(course, tmp_path, "--student=['ada','dot']", "--CanvasExportPlugin.id_column=ID",
                             "--CanvasExportPlugin.missing_score=")
    assert {line[1]: line[5] for line in lines[2:]} == {"ada": "7.5", "dot": ""}  # only these two
    assert all(line[3] == "" for line in lines[2:])


@pytest.mark.slow  # runs `nbgrader export` in a subprocess
def test_course_export_writes_the_same_files(course, tmp_path, capsys):
    from course.cli import main

    assert main(["export", ASG, "--db", course[1], "--to", str(tmp_path / "again.csv")]) == 0
    report = read_report(ASG, course[0], db_url=course[1])
    assert _csv(tmp_path / "again.csv") == _csv(write_csv(report, tmp_path / "direct.csv"))
    assert summary_table(report) in capsys.readouterr().out
    assert main(["export", "--canvas", "--db", course[1], "--to", str(tmp_path / "c.csv")]) == 0
    assert _csv(tmp_path / "c.csv")[1:] == _nbgrader_export(course, tmp_path)[1:]
    assert main(["export", "nope", "--db", course[1]]) == 2
    assert "not in the gradebook: nope" in capsys.readouterr().err


def test_course_grade_prints_and_writes_the_gradebook_rows(course, tmp_path, capsys):
    """What ``course grade`` shows after a run: the students it graded, as the gradebook has them."""
    from course.cli import _print_results
    from course.grading.results import SubmissionResult

    results = [SubmissionResult("ada", ASG, 10.0), SubmissionResult("dot", ASG, 10.0, error="lost", status="failed")]
    _print_results(course[0], ASG, results, tmp_path / "g.csv", db=course[1])
    report = read_report(ASG, course[0], db_url=course[1], students=["ada", "dot"])
    assert summary_table(report) in capsys.readouterr().out
    assert _csv(tmp_path / "g.csv") == _csv(write_csv(report, tmp_path / "direct.csv"))
    assert [row[0] for row in _csv(tmp_path / "g.csv")[1:]] == ["ada", "dot"]


@pytest.mark.slow  # builds a wheel with pip
def test_wheel_has_the_course_command_and_every_package(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("course", "utils"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path / "wheel"), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[console_scripts]\ncourse = course.cli:main" in text
    packages = [p.parent.relative_to(ROOT).as_posix() for name in ("course", "utils")
                for p in (ROOT / name).rglob("__init__.py")]
    assert {"course/checks", "course/grading", "course/reference"} <= set(packages)
    missing = [p for p in packages if f"{p}/__init__.py" not in names]
    missing += [f for f in ("course/checks/01_activations.py", "utils/data/mnist_sample.npz") if f not in names]
    assert not missing, missing
    metadata = zipfile.ZipFile(wheel).read(entry_points.replace("entry_points.txt", "METADATA")).decode()
    assert "Requires-Dist: nbgrader>=0.9.6" in metadata and "Requires-Dist: numpy" in metadata
