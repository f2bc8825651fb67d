"""Wall time of ``make test-fast``: the quick tests on two processes (issue 15: under 60 s).

Runs ``python -m pytest -m "not slow and not browser and not postgres and not dask" -q -n 2
-p no:cacheprovider`` in a subprocess from the course root, as ``make test-fast`` does. The
figures: ``tests_fast_seconds`` (wall), ``tests_fast_under_60s``, ``tests_fast_passed`` (the
run's exit status was 0), pytest's summary line and the 1-minute load average before the run
(other processes on the machine slow the run down).
"""
import os
import subprocess
import sys
import time

from course.paths import COURSE_ROOT

MARKERS = "not slow and not browser and not postgres and not dask"
BUDGET_SECONDS = 60
TIMEOUT_SECONDS = 1800


def command():
    """The pytest command line of ``make test-fast`` (list of str)."""
    return [sys.executable, "-m", "pytest", "-m", MARKERS, "-q", "-n", "2", "-p", "no:cacheprovider"]


def summary_line(output):
    """pytest's last line (``"958 passed, 1 skipped in 41.20s"``), or ``""``."""
    lines = [line.strip("= ") for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run():
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(command(), cwd=COURSE_ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    seconds = time.perf_counter() - start
    summary = summary_line(proc.stdout)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n")
    figures = {
        "tests_fast_seconds": round(seconds, 1),
        "tests_fast_under_60s": seconds < BUDGET_SECONDS,
        "tests_fast_passed": proc.returncode == 0,
        "tests_fast_summary": summary,
        "tests_fast_load_average_before": round(load, 2),
    }
    verdict = "under" if seconds < BUDGET_SECONDS else "OVER"
    print(f"make test-fast: {seconds:.1f} s, {verdict} the {BUDGET_SECONDS} s budget ({summary}; "
          f"load average {load:.2f} before the run)")
    return figures


if __name__ == "__main__":
    run()
