"""A submission that crashes its grading worker process fails alone; a one-off crash costs nothing.

The pool's policy (course/grading/engine.py ``_run_pool``) is tested with a stand-in for
``grade_one`` that kills its own worker process for one student: the real pool, real spawned
workers, real BrokenProcessPool.
"""
import os
from pathlib import Path

import pytest

from course.grading.engine import _run_pool

pytestmark = pytest.mark.slow  # spawns a dozen warm grading workers


def crash_for_b(job, template):
    """Kills the worker on student b (always), answers for the others."""
    if job["student"] == "b":
        os._exit(1)
    return {"student": job["student"], "error": "", "graded_by": os.getpid()}


def crash_once(job, template):
    """Kills the worker the first time anyone grades student b (a marker file remembers)."""
    marker = Path(job["marker"])
    if job["student"] == "b" and not marker.exists():
        marker.write_text("crashed")
        os._exit(1)
    return {"student": job["student"], "error": ""}


def _answers(grade, students, **extra):
    jobs = [dict({"student": s}, **extra) for s in students]
    return {a["student"]: a for a in _run_pool(jobs, None, (), 2, grade=grade)}


def test_a_submission_that_always_crashes_its_worker_fails_alone():
    answers = _answers(crash_for_b, ["a", "b", "c", "d"])
    assert set(answers) == {"a", "b", "c", "d"}
    assert all(answers[s]["error"] == "" and not answers[s].get("infra") for s in "acd")
    assert answers["b"]["infra"] and "crashed its grading worker" in answers["b"]["error"]


def test_a_one_off_crash_is_retried_and_nobody_fails(tmp_path):
    answers = _answers(crash_once, ["a", "b", "c"], marker=str(tmp_path / "crashed"))
    assert (tmp_path / "crashed").exists()  # the crash happened
    assert set(answers) == {"a", "b", "c"} and all(a["error"] == "" for a in answers.values())
