"""Benchmark: how long ``course --help`` takes to answer (issue 15: under 0.3 s), and why.

Runs ``python -m course --help`` in a new interpreter REPEATS times (default 7), alternating with a
bare ``python -c pass`` (the floor any Python command pays), and takes the median of each. A third
run lists which heavy modules ``--help`` imported (none of nbgrader, nbclient, NumPy should be:
they load only when a command needs them).

Figures: ``startup_course_help_seconds``, ``startup_bare_python_seconds`` (medians),
``startup_course_help_under_0_3s``, ``startup_heavy_modules_imported``.
"""
import os
import statistics
import subprocess
import sys
import time

from course.paths import COURSE_ROOT

HEAVY = ("nbgrader", "nbclient", "nbconvert", "numpy", "matplotlib", "sqlalchemy", "jupyter_client")
BUDGET_SECONDS = 0.3
PROBE = ("import runpy, sys\n"
         "sys.argv = ['course', '--help']\n"
         "try:\n"
         "    runpy.run_module('course', run_name='__main__')\n"
         "except SystemExit:\n"
         "    pass\n"
         f"print('HEAVY', *sorted(m for m in {HEAVY!r} if m in sys.modules))\n")


def _seconds(argv):
    start = time.perf_counter()
    subprocess.run(argv, cwd=COURSE_ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def heavy_modules(prelude=""):
    """The modules of HEAVY that ``course --help`` imports (after ``prelude``, code run first)."""
    out = subprocess.run([sys.executable, "-c", prelude + PROBE], cwd=COURSE_ROOT, check=True, capture_output=True,
                         text=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("HEAVY"))
    return line.split()[1:]


def run():
    repeats = int(os.environ.get("COURSE_BENCH_STARTUP_REPEATS", "7"))
    help_times, bare_times = [], []
    for _ in range(repeats):
        help_times.append(_seconds([sys.executable, "-m", "course", "--help"]))
        bare_times.append(_seconds([sys.executable, "-c", "pass"]))
    course_help, bare = statistics.median(help_times), statistics.median(bare_times)
    heavy = heavy_modules()
    print(f"   course --help {course_help:.3f} s (median of {repeats}), bare python {bare:.3f} s; "
          f"heavy modules imported: {', '.join(heavy) or 'none'}")
    return {"startup_course_help_seconds": round(course_help, 3), "startup_bare_python_seconds": round(bare, 3),
            "startup_course_help_under_0_3s": course_help < BUDGET_SECONDS, "startup_heavy_modules_imported": heavy}
