"""The demo class: each bad submission costs only its own points, with a readable reason."""
import pytest
from conftest import ROOT

from course.grading import grade_assignment
from course.grading.results import TIMEOUT
from course.report import read_report, reasons, summary_table, write_csv
from course.submissions import demo_class

ASG = "01_activations"


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory):
    from course.check import scratch_course

    course = scratch_course(tmp_path_factory.mktemp("demo"), ROOT)
    cases = demo_class(ASG, course / "submitted", ROOT)
    results = grade_assignment(ASG, course, timeout=8, feedback=True)
    return course, cases, {r.student: r for r in results}


@pytest.mark.slow
def test_every_student_gets_a_result(demo_results):
    _, cases, results = demo_results
    assert sorted(results) == sorted(cases)


@pytest.mark.slow
def test_reference_full_and_untouched_zero(demo_results):
    _, _, r = demo_results
    assert r["alice_reference"].score == r["alice_reference"].max_score
    assert r["bob_untouched"].score == 0
    assert all("NotImplementedError" in c.message for c in r["bob_untouched"].cells)


@pytest.mark.slow
def test_partial_and_raising_score_in_between_with_reasons(demo_results):
    _, _, r = demo_results
    for student in ("carol_partial", "dave_raises"):
        res = r[student]
        assert 0 < res.score < res.max_score, student
        assert all(c.message for c in res.cells if c.score < c.max_score)
    assert any("RuntimeError" in c.message or "NameError" in c.message for c in r["dave_raises"].cells)


@pytest.mark.slow
def test_infinite_loop_loses_only_its_function(demo_results):
    _, _, r = demo_results
    res = r["erin_infinite_loop"]
    lost = [c for c in res.cells if c.score < c.max_score]
    assert lost and res.score > 0
    assert all(c.grade_id == "test_softmax_jacobian" for c in lost), [(c.grade_id, c.message) for c in lost]
    assert res.cell_errors == [("softmax_jacobian", TIMEOUT)]


@pytest.mark.slow
def test_the_cause_of_a_failure_is_named(demo_results):
    _, _, r = demo_results
    assert r["dave_raises"].cell_errors == [("sigmoid", "RuntimeError: my code is broken here")]
    assert r["alice_reference"].cell_errors == [] and r["bob_untouched"].cell_errors == []
    why = reasons(list(r.values()))
    assert "your cell sigmoid: RuntimeError" in why
    assert why.count("not valid JSON") == 1  # a broken file is one reason, not one per cell


@pytest.mark.slow
def test_corrupted_notebook_scores_zero_with_reason(demo_results):
    _, _, r = demo_results
    res = r["frank_corrupted"]
    assert res.score == 0 and "not valid JSON" in res.error


@pytest.mark.slow
def test_feedback_and_csv(demo_results, tmp_path):
    course, _, r = demo_results
    assert list((course / "feedback" / "alice_reference" / ASG).glob("*.html"))
    report = read_report(ASG, course)
    table = summary_table(report)
    assert "alice_reference" in table and "14/14" in table
    csv = write_csv(report, tmp_path / "grades.csv").read_text().splitlines()
    assert len(csv) == 1 + len(r) and csv[0].startswith("student,assignment,timestamp,late,")
    assert f",{ASG}:test_sigmoid," in csv[0]
