"""Benchmark: grading a class with `course grade --workers 2` versus serial `nbgrader autograde`.

1. A class of 40 submissions of 01_activations (30 reference, 5 partial, 5 untouched), graded
   a) by the real nbgrader CLI, ``nbgrader autograde 01_activations`` in a scratch course
      (it grades the students one after another, one kernel each), and
   b) by ``grade_assignment(..., workers=2)`` (what ``course grade --workers 2`` runs), without
      feedback like (a), and once more with feedback.
   Scores must agree. ``grade_overhead_seconds_per_submission`` is the mean, over submissions,
   of the worker's wall time for a submission minus the time its kernel spent executing the
   notebook's cells (sandbox, scratch course, nbgrader bookkeeping, gradebook copy, checks);
   ``grade_overhead_breakdown_seconds`` splits it: the scratch course, waiting for the kernel,
   the grader-side checks (their calls into the kernel), and the rest (nbgrader's bookkeeping, shutting
   the kernel down and starting the next one). ``grade_cpu_seconds_per_submission`` is the
   machine's busy CPU time during the run (``/proc/stat``: the grader, its workers, the kernels,
   and anything else running) per submission; ``grade_cores_busy_fraction`` how much of the
   cores' time that is; ``grade_speedup_bound_at_this_cpu_cost`` the speed-up over serial nbgrader
   if the cores were busy all the time at that cost (on 2 cores the speed-up is bounded by it).
2. A large class: COURSE_BENCH_LARGE (default 500) submissions of a tiny synthetic assignment
   (two graded functions; 01_activations 500 times would take most of an hour on 2 cores),
   5 % of them bad (a third each: corrupted JSON, raising, infinite loop with a 2 s timeout).
   ``grade_large_class_lost`` counts students without a result row or a gradebook submission.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.paths import COURSE_ROOT

ASG = "01_activations"
TIMEOUT = 60


def _env():
    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND=os.environ.get("MPLBACKEND", "Agg"))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _course(tmp, assignment, source_dir):
    """A scratch course with its own copy of source/ASG and the course's nbgrader_config.py."""
    root = Path(tmp)
    shutil.copytree(source_dir, root / "source" / assignment)
    (root / "nbgrader_config.py").symlink_to(COURSE_ROOT / "nbgrader_config.py")
    (root / "submitted").mkdir()
    return root


def forty(submitted):
    from course.submissions import partial, reference, solution_ids, untouched, write_submission

    ids = solution_ids(reference(ASG))
    students = []
    for i in range(40):
        nb = reference(ASG) if i < 30 else partial(ASG, ids[: 2 + i % 5]) if i < 35 else untouched(ASG)
        write_submission(nb, ASG, f"s{i:03d}", submitted)
        students.append(f"s{i:03d}")
    return students


def nbgrader_cli(root):
    env = _env()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASG, "--force"], cwd=root, env=env,
                   check=True, capture_output=True)
    start, busy = time.perf_counter(), busy_cpu_seconds()
    # plain nbgrader with the course's configuration (grader-side checks), in nbgrader's own kernel
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASG, "--force",
                    f"--ExecutePreprocessor.timeout={TIMEOUT}", f"--Execute.timeout={TIMEOUT}",
                    "--CheckedExecute.allow_unsandboxed=True"],
                   cwd=root, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return seconds, (busy_cpu_seconds() - busy if busy is not None else None)


def gradebook_totals(db_url, students, assignment):
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(db_url, "dl-workbook") as gb:
        for s in students:
            try:
                out[s] = gb.find_submission(assignment, s).score
            except MissingEntry:
                out[s] = None
    return out


def tiny_assignment(folder):
    """A two-function assignment, written like the course's notebooks but with nothing heavy."""
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "locked": kw.get("locked", False),  # noqa: E731
                                           "solution": kw.get("solution", False), "grade": kw.get("grade", False),
                                           **({"points": kw["points"]} if "points" in kw else {}),
                                           "schema_version": 3}}
    cells = [
        new_markdown_cell("# Tiny\nTwo functions."),
        new_code_cell("import math", metadata=meta("setup", locked=True)),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=meta("double", solution=True)),
        new_code_cell("assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS",
                      metadata=meta("test_double", grade=True, locked=True, points=1)),
        new_code_cell("def hyp(a, b):\n    ### BEGIN SOLUTION\n    return math.hypot(a, b)\n    ### END SOLUTION",
                      metadata=meta("hyp", solution=True)),
        new_code_cell("assert abs(hyp(3, 4) - 5) < 1e-12", metadata=meta("test_hyp", grade=True, locked=True, points=2)),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / "tiny.ipynb"))


def large_class(n):
    from course.build import generate_release
    from course.grading import grade_assignment
    from course.submissions import write_submission

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tiny_assignment(root / "source" / "tiny")
        (root / "submitted").mkdir()
        generate_release("tiny", root, db_url=f"sqlite:///{root / 'release.db'}")
        src = nbformat.read(str(root / "source" / "tiny" / "tiny.ipynb"), as_version=4)
        for c in src.cells:  # a student hands in the solutions, without the hidden tests
            c.source = c.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
        rel_text = (root / "release" / "tiny" / "tiny.ipynb").read_text()
        n_bad = round(0.05 * n)
        kinds = {}
        for i in range(n):
            student = f"u{i:04d}"
            kind = ("corrupted", "raising", "loop")[i % 3] if i < n_bad else "good"
            kinds[student] = kind
            if kind == "corrupted":
                write_submission(rel_text[: len(rel_text) // 2], "tiny", student, root / "submitted", root)
                continue
            nb = nbformat.from_dict(src)
            if kind == "raising":
                nb.cells[2].source = "raise RuntimeError('broken')\n" + nb.cells[2].source
            elif kind == "loop":
                nb.cells[4].source = "while True:\n    pass\n" + nb.cells[4].source
            write_submission(nb, "tiny", student, root / "submitted", root)
        start = time.perf_counter()
        results = grade_assignment("tiny", root, timeout=2, feedback=False, workers=2)
        seconds = time.perf_counter() - start
        rows = {r.student for r in results}
        in_gradebook = gradebook_totals(f"sqlite:///{root / 'gradebook.db'}", list(kinds), "tiny")
        lost = sum(1 for s in kinds if s not in rows or in_gradebook.get(s) is None)
        wrong = sum(1 for r in results if (kinds[r.student] == "good") != (r.score == r.max_score))
        return {"grade_large_class_size": n, "grade_large_class_bad": n_bad, "grade_large_class_lost": lost,
                "grade_large_class_misgraded": wrong, "grade_large_class_seconds": round(seconds, 1)}


def busy_cpu_seconds():
    """CPU seconds every core of this machine has spent busy since boot (``/proc/stat``), or None."""
    try:
        fields = open("/proc/stat").readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run():
    from course.grading import grade_assignment

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        serial_root = _course(Path(tmp) / "serial", ASG, COURSE_ROOT / "source" / ASG)
        students = forty(serial_root / "submitted")
        serial_seconds, serial_busy = nbgrader_cli(serial_root)
        serial = gradebook_totals(f"sqlite:///{serial_root / 'gradebook.db'}", students, ASG)

        par_root = _course(Path(tmp) / "parallel", ASG, COURSE_ROOT / "source" / ASG)
        shutil.rmtree(par_root / "submitted")
        shutil.copytree(serial_root / "submitted", par_root / "submitted")
        (par_root / "release").symlink_to(COURSE_ROOT / "release", target_is_directory=True)
        start, busy = time.perf_counter(), busy_cpu_seconds()
        results = grade_assignment(ASG, par_root, timeout=TIMEOUT, feedback=False, workers=2)
        parallel_seconds = time.perf_counter() - start
        busy = busy_cpu_seconds() - busy if busy is not None else None
        start = time.perf_counter()
        grade_assignment(ASG, par_root, timeout=TIMEOUT, feedback=True, workers=2, force=True)
        feedback_seconds = time.perf_counter() - start

    mismatches = sum(1 for r in results if serial.get(r.student) != r.score)
    n = len(results)
    overhead = sum(r.seconds - r.cell_seconds for r in results) / n
    mean = lambda *keys: sum(sum(r.timings.get(k, 0.0) for k in keys) for r in results) / n  # noqa: E731
    parts = {"scratch_course": mean("setup"), "kernel_wait": mean("kernel"), "grader_side_checks": mean("checks")}
    parts["nbgrader_and_kernel_turnover"] = overhead - sum(parts.values())
    figures.update({
        "grade_class_size": n,
        "grade_nbgrader_serial_seconds": round(serial_seconds, 1),
        "grade_parallel_workers": 2,
        "grade_parallel_seconds": round(parallel_seconds, 1),
        "grade_parallel_with_feedback_seconds": round(feedback_seconds, 1),
        "grade_speedup_vs_nbgrader_serial": round(serial_seconds / parallel_seconds, 2),
        "grade_overhead_seconds_per_submission": round(overhead, 3),
        "grade_overhead_breakdown_seconds": {k: round(v, 3) for k, v in parts.items()},
        "grade_notebook_seconds_per_submission": round(sum(r.cell_seconds for r in results) / n, 3),
        "grade_score_mismatches_vs_nbgrader": mismatches,
    })
    if busy is not None:  # the whole machine's CPU time during the run (other processes' too)
        cores = os.cpu_count() or 1
        figures.update({
            "grade_cpu_seconds_per_submission": round(busy / n, 3),
            "grade_cores_busy_fraction": round(busy / (parallel_seconds * cores), 2),
            # the speed-up if every core were busy grading all the time, at this CPU cost per submission
            "grade_speedup_bound_at_this_cpu_cost": round(serial_seconds / (busy / cores), 2),
            "grade_nbgrader_serial_cpu_seconds_per_submission": round(serial_busy / n, 3),
        })
    figures.update(large_class(int(os.environ.get("COURSE_BENCH_LARGE", "500"))))
    return figures


if __name__ == "__main__":
    for k, v in run().items():
        print(k, v)
