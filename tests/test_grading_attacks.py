"""Adversarial submissions earn no point they did not earn honestly, and harm nobody else.

The catalog lives in tests/attacks/. One class holds every attack plus two honest twins
(``honest_wrong``: wrong answers, 0 points; ``honest_reference``: correct answers, full marks);
it is graded in one run with two workers and tight limits, then each attack's per-cell scores
are compared with its twin's.
"""
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(Path(__file__).parent))
from attacks import (ASG, GRADED, KERNEL_ATTACKS, RESOURCE_ATTACKS, STRUCTURE_ATTACKS,  # noqa: E402
                     build_all, expected)

from course.grading import grade_assignment  # noqa: E402
from course.grading.sandbox import MB, Limits, isolation_available  # noqa: E402
from course.submissions import write_submission  # noqa: E402

pytestmark = pytest.mark.slow
ATTACKS = sorted(set(KERNEL_ATTACKS) - {"tamper_while_tested"}) + sorted(STRUCTURE_ATTACKS) + sorted(RESOURCE_ATTACKS)
NEEDS_ISOLATION = {"read_source_and_other_submissions", "write_gradebook", "background_processes"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from course.check import scratch_course

    course = scratch_course(tmp_path_factory.mktemp("attacks"), ROOT)
    cases = build_all(ROOT)
    for student, (nb, _, _) in cases.items():
        write_submission(nb, ASG, student, course / "submitted", ROOT)
    limits = Limits(cell_timeout=10, notebook_timeout=90, cpu_seconds=8, memory=1536 * MB, output=256 * 1024)
    results = grade_assignment(ASG, course, timeout=10, feedback=False, workers=2, limits=limits)
    return course, cases, {r.student: r for r in results}


def test_honest_twins_score_as_expected(graded):
    _, _, r = graded
    assert r["honest_wrong"].score == 0, [(c.grade_id, c.score) for c in r["honest_wrong"].cells]
    ref = r["honest_reference"]
    assert ref.score == ref.max_score == 14, (ref.error, [(c.grade_id, c.message) for c in ref.cells if c.message],
                                              ref.cell_errors, ref.problems)


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_earns_nothing_dishonest(graded, attack):
    _, cases, r = graded
    if attack in NEEDS_ISOLATION and isolation_available():
        pytest.skip(f"kernel isolation unavailable here: {isolation_available()}")
    _, base, lost = cases[attack]
    twin = r["honest_" + base].by_problem()
    got = r[attack].by_problem()
    want = expected(twin, lost)
    assert sorted(got) == sorted(GRADED)
    dishonest = {g: (got[g], want[g]) for g in GRADED if got[g] > want[g]}
    assert not dishonest, f"{attack} earned points it did not earn honestly: {dishonest}"
    collateral = {g: (got[g], want[g], c.message) for g, c in ((c.grade_id, c) for c in r[attack].cells)
                  if g not in lost and got[g] < want[g]}
    assert not collateral, f"{attack} lost honest points beyond the cells it broke: {collateral}"
    assert r[attack].max_score == 14


def test_killed_kernels_leave_a_reason(graded):
    _, _, r = graded
    for attack in ("os_exit_mid_notebook", "cpu_burn_ignoring_interrupts"):
        lost = [c for c in r[attack].cells if c.score < c.max_score]
        assert lost and all(c.message for c in lost), attack
    messages = " ".join(c.message for c in r["os_exit_mid_notebook"].cells)
    assert "exited with status 3" in messages or "kernel died" in messages.lower()
    cpu = " ".join(c.message for c in r["cpu_burn_ignoring_interrupts"].cells)
    assert "CPU" in cpu or "time limit" in cpu or "Timeout" in cpu, cpu


def test_in_kernel_tampering_is_reported(graded):
    _, _, r = graded
    for attack in ("numpy_monkeypatch", "ast_transformer_erases_tests", "tamper_in_function"):
        messages = " ".join(c.message for c in r[attack].cells)
        assert r[attack].score == 0
        assert messages, attack


def test_output_flood_is_truncated(graded):
    course, _, r = graded
    nb = (course / "autograded" / "output_flood" / ASG / f"{ASG}.ipynb").read_text()
    assert "output truncated by the grader" in nb
    assert len(nb) < 3 * 1024 * 1024


def test_gradebook_untouched_by_students(graded):
    """The real gradebook holds exactly what the grader wrote (the write_gradebook attack changed nothing)."""
    course, cases, r = graded
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dl-workbook") as gb:
        asg = gb.find_assignment(ASG)
        assert asg.max_score == 14
        assert sorted(s.student.id for s in asg.submissions) == sorted(cases)
        assert gb.find_submission(ASG, "write_gradebook").score == 0
        assert gb.find_submission(ASG, "honest_reference").score == 14


def test_no_process_outlives_its_kernel(graded):
    if isolation_available():
        pytest.skip(f"kernel isolation unavailable here: {isolation_available()}")
    out = subprocess.run(["ps", "-eo", "uid,args"], capture_output=True, text=True).stdout
    left = [line for line in out.splitlines() if "course_attack_daemon" in line]
    assert not left, left
    assert not Path("/tmp/course_attack_daemon").exists()


def test_a_fork_bomb_does_not_starve_the_next_kernel(tmp_path):
    """One worker grades bomb, honest, bomb, honest: the bomb's processes are still dying when the
    next kernel starts (each kernel has a uid of its own, so RLIMIT_NPROC does not carry over)."""
    if isolation_available():
        pytest.skip(f"kernel isolation unavailable here: {isolation_available()}")
    from course.check import scratch_course
    from course.submissions import reference

    course = scratch_course(tmp_path, ROOT)
    bomb = build_all(ROOT)["fork_bomb"][0]
    for i in range(2):
        write_submission(bomb, ASG, f"{i}a_bomb", course / "submitted", ROOT)
        write_submission(reference(ASG, ROOT), ASG, f"{i}b_honest", course / "submitted", ROOT)
    limits = Limits(cell_timeout=10, notebook_timeout=90, cpu_seconds=8, memory=1536 * MB, output=256 * 1024)
    results = {r.student: r for r in grade_assignment(ASG, course, timeout=10, feedback=False, workers=1,
                                                       limits=limits)}
    for i in range(2):
        honest = results[f"{i}b_honest"]
        assert honest.score == 14, (honest.error, [c.message for c in honest.cells if c.message][:2])
