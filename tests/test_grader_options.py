"""`course grade`'s options are traitlets: the course's nbgrader_config.py sets them, the command
line (same names) overrides them, a misspelt one is an error, and nbgrader itself stays quiet."""
import subprocess
import sys
from pathlib import Path

import pytest

from course.cli import GRADER_OPTIONS, build_parser
from course.grading.options import CourseGrader, grader_options
from course.grading.sandbox import MB, Limits, Sandbox
from course.nbgrader_api import load_config
from course.paths import CourseError


def _config(tmp_path, text):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n" + text)
    return load_config(tmp_path)


def test_the_course_config_sets_options_and_the_command_line_wins(tmp_path):
    config = _config(tmp_path, "c.CourseGrader.workers = 3\nc.CourseGrader.memory = 1000\nc.CourseGrader.quick = False\n")
    grader = grader_options(config, {"workers": None, "memory": 512})
    assert grader.workers == 3 and grader.memory == 512 and not grader.quick
    limits = grader.limits()
    assert limits.memory == 512 * MB and not limits.quick
    assert limits.cpu_seconds == Limits().cpu_seconds  # one place holds each default


def test_a_misspelt_option_is_an_error(tmp_path):
    config = _config(tmp_path, "c.CourseGrader.wrokers = 3\n")
    with pytest.raises(CourseError, match="CourseGrader has no option wrokers"):
        grader_options(config, {})


def test_every_option_has_its_flag():
    args = build_parser().parse_args(["grade", "ps1", "--workers", "4", "--no-isolation", "--no-quick",
                                      "--memory", "256", "--executor", "dask", "--notebook-timeout", "60"])
    given = {name: getattr(args, name) for name in GRADER_OPTIONS}
    assert given["workers"] == 4 and given["isolation"] is False and given["quick"] is False
    assert given["memory"] == 256 and given["executor"] == "dask" and given["notebook_timeout"] == 60.0
    assert given["feedback"] is None and given["cpu_time"] is None  # not given: the config decides
    assert set(GRADER_OPTIONS) == set(CourseGrader.class_trait_names(config=True))


def test_quick_mode_reaches_the_kernels_environment(tmp_path):
    assert Sandbox(tmp_path, Limits(quick=False), isolate=False).request()["env"]["COURSE_QUICK"] == "0"
    assert Sandbox(tmp_path, Limits(), isolate=False).request()["env"]["COURSE_QUICK"] == "1"


@pytest.mark.slow
def test_nbgrader_does_not_warn_about_the_course_options(tmp_path):
    _config(tmp_path, 'c.CourseDirectory.course_id = "x"\nc.CourseGrader.workers = 2\n'
                      'c.CheckedExecute.call_timeout = 5.0\n')
    bindir = Path(sys.executable).parent
    done = subprocess.run([str(bindir / "nbgrader"), "db", "student", "list"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": f"{bindir}:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "CourseGrader" not in done.stderr and "CheckedExecute" not in done.stderr and "WARNING" not in done.stderr
