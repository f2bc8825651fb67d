"""Benchmark: how grading time grows with the class, the workers and the executor (issue 15).

One class of 01_activations submissions (three in four the reference, then partial and untouched
ones, as in ``grading.py``), graded with ``grade_assignment(..., force=True, feedback=False)``:

- class sizes 10, 40 and 160 (its first n students);
- 1 and 2 workers: the local process pool (``workers=N``, started by each run), and a Dask
  cluster started here of N worker processes with one thread each (``executor="dask"``), on this
  same machine, warmed by grading one submission per worker before the timed runs (a cluster
  outlives the runs it serves).

Each point is the best of ``COURSE_BENCH_SCALE_REPEATS`` runs (default 2: a run on a shared
machine can stall for tens of seconds, and the best run is the one nothing else disturbed).

Figures: ``grade_scale_seconds`` (``{"local 2w": {"10": s, "40": s, "160": s}, ...}``, wall time of
the best run, start-up included), ``grade_scale_repeats``, ``grade_scale_seconds_per_submission`` (the same divided by n),
and the plot ``benchmarks/grading_scale.png`` (wall time against class size, one line per
executor and worker count). Every run's scores are checked against the first run's: a run that
graded differently is reported, never plotted silently.

Environment: ``COURSE_BENCH_SCALE_SIZES`` (e.g. ``10,40``), ``COURSE_BENCH_SCALE_EXECUTORS``
(``local``, ``dask`` or both) and ``COURSE_BENCH_SCALE_REPEATS``; a run with sizes or executors
changed, or a single repeat, stores its figures under
``grading_scale_smoke`` and does not redraw the plot.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.grading import ASG, TIMEOUT, _course
from course.paths import COURSE_ROOT

SIZES = (10, 40, 160)
EXECUTORS = ("local", "dask")
WORKERS = (1, 2)
PLOT = COURSE_ROOT / "benchmarks" / "grading_scale.png"


def settings():
    sizes = tuple(int(s) for s in os.environ.get("COURSE_BENCH_SCALE_SIZES", "").split(",") if s.strip()) or SIZES
    executors = tuple(e.strip() for e in os.environ.get("COURSE_BENCH_SCALE_EXECUTORS", "").split(",")
                      if e.strip()) or EXECUTORS
    unknown = set(executors) - set(EXECUTORS)
    if unknown:
        raise ValueError(f"COURSE_BENCH_SCALE_EXECUTORS: unknown {', '.join(sorted(unknown))} (local, dask)")
    repeats = max(1, int(os.environ.get("COURSE_BENCH_SCALE_REPEATS", "2")))
    return {"sizes": sizes, "executors": executors, "repeats": repeats,
            "full": sizes == SIZES and executors == EXECUTORS and repeats >= 2}


def write_class(n, submitted):
    """``n`` submissions: three in four the reference notebook, then partial and untouched ones."""
    from course.submissions import partial, reference, solution_ids, untouched, write_submission

    ids = solution_ids(reference(ASG))
    students = []
    for i in range(n):
        kind = i % 8
        nb = reference(ASG) if kind < 6 else partial(ASG, ids[: 2 + i % 5]) if kind == 6 else untouched(ASG)
        write_submission(nb, ASG, f"s{i:04d}", submitted)
        students.append(f"s{i:04d}")
    return students


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(work, threads, nanny=True):
    """A Dask scheduler and one worker process per entry of ``threads`` (its thread count), on
    127.0.0.1, each in a session of its own, working in ``work``; yields ``(address, worker Popens)``
    once every worker has joined (the tests use it too)."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    dask = str(Path(sys.executable).parent / "dask")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", MPLBACKEND="Agg")
    quiet = dict(cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               "--dashboard-address", "127.0.0.1:0", "--no-show"], **quiet)]
    procs += [subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", str(n), "--host", "127.0.0.1",
                                "--dashboard-address", "127.0.0.1:0", "--local-directory", str(work)]
                               + ([] if nanny else ["--no-nanny"]), **quiet)
              for n in threads]
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(len(threads), timeout=120)
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def grade_seconds(root, students, workers, executor, scheduler=None):
    """Wall time of grading ``students`` and their scores (student -> score)."""
    from course.grading import grade_assignment

    start = time.perf_counter()
    results = grade_assignment(ASG, root, students=students, timeout=TIMEOUT, feedback=False, workers=workers,
                               executor=executor, scheduler=scheduler, force=True)
    return time.perf_counter() - start, {r.student: r.score for r in results}


def table(curves):
    """``curves`` (label -> {size: seconds}) as lines of text: seconds and seconds per submission."""
    sizes = sorted({int(n) for c in curves.values() for n in c})
    lines = ["   " + "run".ljust(10) + "".join(f"{n:>9} subs" for n in sizes)]
    for label, curve in curves.items():
        cells = [f"{curve[str(n)]:7.1f} s" + f" ({curve[str(n)] / n:.2f})" if str(n) in curve else " " * 16
                 for n in sizes]
        lines.append("   " + label.ljust(10) + "".join(f"{c:>14}" for c in cells))
    lines.append("   (wall seconds of the whole run, the best of the repeats; in brackets, seconds per submission)")
    return lines


def plot(curves, path):
    """Draw wall time against class size, one line per run kind, into ``path`` (PNG)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        sizes = sorted(int(n) for n in curve)
        ax.plot(sizes, [curve[str(n)] for n in sizes], marker="o", label=label,
                linestyle="--" if label.startswith("dask") else "-")
    ax.set_xlabel("submissions graded")
    ax.set_ylabel("wall time (s)")
    ax.set_title(f"Grading {ASG}: wall time by class size")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def run():
    s = settings()
    curves, mismatches, expected = {}, [], {}
    with tempfile.TemporaryDirectory() as tmp:
        root = _course(Path(tmp) / "course", ASG, COURSE_ROOT / "source" / ASG)
        students = write_class(max(s["sizes"]), root / "submitted")
        (root / "release").symlink_to(COURSE_ROOT / "release", target_is_directory=True)
        for executor in s["executors"]:
            for workers in WORKERS:
                label = f"{executor} {workers}w"
                curve = curves[label] = {}
                cluster = dask_cluster(Path(tmp), [1] * workers) if executor == "dask" else contextlib.nullcontext((None,))
                with cluster as (address, *_):
                    if executor == "dask":  # a cluster is up before a class is graded: its workers warm
                        grade_seconds(root, students[:workers], workers, executor, address)
                    for n in s["sizes"]:
                        runs = []
                        for _ in range(s["repeats"]):
                            seconds, scores = grade_seconds(root, students[:n], workers, executor, address)
                            runs.append(seconds)
                            for student, score in scores.items():
                                if expected.setdefault(student, score) != score:
                                    mismatches.append(f"{label}, {n} subs: {student} scored {score}, "
                                                      f"first run {expected[student]}")
                        curve[str(n)] = round(min(runs), 1)
                        print(f"   {label:9} {n:4d} submissions: " + ", ".join(f"{r:.1f}" for r in runs) + " s",
                              flush=True)
        shutil.rmtree(root / "submitted", ignore_errors=True)
    for line in table(curves):
        print(line)
    for line in mismatches[:10]:
        print(f"   MISMATCH {line}")
    figures = {"grade_scale_seconds": curves,
               "grade_scale_seconds_per_submission": {label: {n: round(v / int(n), 3) for n, v in c.items()}
                                                      for label, c in curves.items()},
               "grade_scale_score_mismatches": len(mismatches), "grade_scale_repeats": s["repeats"]}
    if not s["full"]:
        print("   (smoke run: figures stored under grading_scale_smoke only, no plot)")
        return {"grading_scale_smoke": figures}
    plot(curves, PLOT)
    print(f"   plot: {PLOT.relative_to(COURSE_ROOT)}")
    return figures
