"""The course command reports instructor mistakes clearly instead of crashing."""
import subprocess
import sys

import pytest
from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "course", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # the `course build` process imports nbgrader before it checks the name
def test_unknown_assignment():
    out = run("build", "99_nope")
    assert out.returncode == 2
    assert "unknown assignment '99_nope'" in out.stderr and "01_activations" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow  # the `course grade` process imports nbgrader before it checks the folders
def test_grade_without_submissions(tmp_path):
    out = run("grade", "01_activations", "--students", "nobody_here", "--no-feedback", "--csv", str(tmp_path / "g.csv"))
    # a student with no folder is a typo to fix, not a 0: a clear error, nothing graded or written
    assert out.returncode == 2, out.stderr
    assert "no submission folder" in out.stderr and "nobody_here" in out.stderr
    assert not (tmp_path / "g.csv").exists()


def test_unknown_benchmark_section():
    out = run("bench", "no_such_section")
    assert out.returncode == 2 and "unknown benchmark section" in out.stderr


def test_help_lists_every_command():
    out = run("--help")
    for command in ("build", "check", "grade", "demo", "lab", "bench"):
        assert command in out.stdout
