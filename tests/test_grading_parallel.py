"""``course grade --workers N`` gives the scores of serial nbgrader, with a safe gradebook.

A small class (reference, untouched, partial, raising, infinite loop, corrupted file) is graded
twice: by plain nbgrader (NbGraderAPI.autograde, one submission after another, in its own course
directory) and by the parallel engine with two workers. Every cell of every student must score
the same; the gradebook must hold each student exactly once; feedback and CSV must be written.
"""
import csv
import shutil

import pytest
from conftest import ROOT

from course.grading import grade_assignment
from course.report import read_report, summary_table, write_csv
from course.submissions import corrupted_text, infinite_loop, partial, raising, reference, solution_ids, untouched, \
    write_submission

ASG = "01_activations"
TIMEOUT = 8
pytestmark = pytest.mark.slow


def make_class(submitted):
    ids = solution_ids(reference(ASG, ROOT))
    cases = {
        "ada_reference": reference(ASG, ROOT),
        "ben_untouched": untouched(ASG, ROOT),
        "cy_partial": partial(ASG, ids[:3], ROOT),
        "dot_raises": raising(ASG, ids[4], ROOT),
        "eve_loop": infinite_loop(ASG, root=ROOT),
        "fay_corrupted": corrupted_text(ASG, ROOT),
    }
    for student, nb in cases.items():
        write_submission(nb, ASG, student, submitted, ROOT)
    return sorted(cases)


def nbgrader_serial_scores(course, students):
    """Plain nbgrader: generate_assignment, then autograde each student in turn."""
    from nbgrader.api import Gradebook, MissingEntry

    from course.build import generate_release
    from course.nbgrader_api import make_api

    db = f"sqlite:///{course / 'gradebook.db'}"
    generate_release(ASG, course, release_dir=course / "release_tmp", db_url=db)
    # nbgrader's own kernel, with the course's grader-side checks (unsandboxed on purpose, here)
    api = make_api(course, db_url=db, overrides={"Execute": {"timeout": TIMEOUT},
                                                 "CheckedExecute": {"allow_unsandboxed": True}})
    for s in students:  # nbgrader sets NBGRADER_EXECUTION=autograde: training cells run in quick mode
        api.autograde(ASG, s, force=True, create=True)
    scores = {}
    with Gradebook(db, "dl-workbook") as gb:
        asg = gb.find_assignment(ASG)
        for s in students:
            for nb in asg.notebooks:
                for cell in nb.grade_cells:
                    try:
                        score = gb.find_grade(cell.name, nb.name, ASG, s).score or 0.0
                    except MissingEntry:
                        score = 0.0
                    scores[(s, cell.name)] = float(score)
    return scores


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from course.check import scratch_course

    serial = scratch_course(tmp_path_factory.mktemp("serial"), ROOT)
    students = make_class(serial / "submitted")
    parallel = scratch_course(tmp_path_factory.mktemp("parallel"), ROOT)
    shutil.rmtree(parallel / "submitted")
    shutil.copytree(serial / "submitted", parallel / "submitted")
    ticks = []
    results = grade_assignment(ASG, parallel, timeout=TIMEOUT, feedback=True, workers=2, progress=ticks.append)
    return serial, parallel, students, nbgrader_serial_scores(serial, students), results, ticks


def test_same_scores_as_serial_nbgrader(both):
    _, _, students, serial, results, _ = both
    parallel = {(r.student, c.grade_id): c.score for r in results for c in r.cells}
    assert sorted(parallel) == sorted(serial)
    differ = {k: (serial[k], parallel[k]) for k in serial if serial[k] != parallel[k]}
    assert not differ, differ
    totals = {r.student: r.score for r in results}
    assert totals["ada_reference"] == 14 and totals["ben_untouched"] == 0
    assert 0 < totals["cy_partial"] < 14 and 0 < totals["dot_raises"] < 14 and 0 < totals["eve_loop"] < 14


def test_gradebook_has_everyone_once(both):
    from nbgrader.api import Gradebook

    _, parallel, students, _, results, ticks = both
    assert [r.student for r in results] == students
    assert len(ticks) == len(students)
    with Gradebook(f"sqlite:///{parallel / 'gradebook.db'}", "dl-workbook") as gb:
        subs = gb.find_assignment(ASG).submissions
        assert sorted(s.student.id for s in subs) == students
        for s in subs:
            grades = [g for nb in s.notebooks for g in nb.grades]
            assert len(grades) == 10 and all(g.auto_score is not None for g in grades), s.student.id
        assert gb.db.execute(__import__("sqlalchemy").text("select count(*) from grade")).scalar() == 10 * len(students)


def test_feedback_table_and_csv(both, tmp_path):
    _, parallel, students, _, results, _ = both
    for s in students:
        if s != "fay_corrupted":
            assert (parallel / "feedback" / s / ASG / f"{ASG}.html").is_file(), s
            assert (parallel / "autograded" / s / ASG / f"{ASG}.ipynb").is_file(), s
    report = read_report(ASG, parallel)
    table = summary_table(report)
    assert all(s in table for s in students)
    rows = list(csv.DictReader(open(write_csv(report, tmp_path / "g.csv"))))
    assert [r["student"] for r in rows] == students
    assert {r["student"]: float(r["score"]) for r in rows} == {r.student: r.score for r in results}
    bad = next(r for r in results if r.student == "fay_corrupted")
    assert bad.score == 0 and "not valid JSON" in bad.error


def test_regrading_replaces_not_duplicates(both):
    """Grading the same students again (one worker this time) keeps one submission each."""
    from nbgrader.api import Gradebook

    _, parallel, students, _, first, _ = both
    again = grade_assignment(ASG, parallel, students=students[:2], timeout=TIMEOUT, feedback=False, workers=1,
                             force=True)
    assert [r.score for r in again] == [r.score for r in first[:2]]
    with Gradebook(f"sqlite:///{parallel / 'gradebook.db'}", "dl-workbook") as gb:
        assert len(gb.find_assignment(ASG).submissions) == len(students)
