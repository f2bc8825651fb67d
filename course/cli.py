"""Command line of the course tool: ``python -m course <command>``."""
import argparse
import sys
import time
from pathlib import Path

from course.grading.inert import terminal_text
from course.paths import COURSE_ROOT, CourseError, existing_assignments


def _assignments(args):
    return list(args.assignments) or existing_assignments(args.root)


def cmd_build(args):
    from course.build import generate_release

    for asg in _assignments(args):
        start = time.perf_counter()
        out = generate_release(asg, args.root)
        print(f"built {_shown(out, args.root)} ({time.perf_counter() - start:.1f} s)")
    return 0


def cmd_check(args):
    from course.check import check_assignment_grades

    failures = 0
    print(f"{'assignment':18} {'source':>10} {'release':>8} {'source s':>9} {'release s':>10}  verdict")
    for asg in _assignments(args):
        r = check_assignment_grades(asg, args.root, timeout=args.timeout)
        verdict = "ok" if r.ok else "FAILED"
        print(f"{asg:18} {r.source_score:>4g}/{r.max_score:<5g} {r.release_score:>8g} {r.source_seconds:>9.1f} "
              f"{r.release_seconds:>10.1f}  {verdict}", flush=True)
        for p in r.problems:
            print(f"    {p}")
        failures += not r.ok
    return 1 if failures else 0


def _shown(path, root):
    path = Path(path)
    return path.relative_to(root) if path.is_relative_to(root) else path


def _print_results(root, assignment, results, csv_path, db=None):
    """The table and the CSV (two renderings of the same gradebook rows), and where points were lost."""
    from course.report import read_report, reasons, summary_table, write_csv

    print()
    print(f"Scores for {assignment}")
    report = read_report(assignment, root, db, students=[r.student for r in results])
    print(summary_table(report))
    why = reasons(results)
    if why:
        print("\nWhere points were lost:")
        print(why)
    write_csv(report, csv_path)
    print(f"\nCSV: {_shown(csv_path, root)}")
    print(f"Feedback: feedback/<student>/{assignment}/*.html")


def _progress(total):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="grading", unit="submission")
    return bar, lambda r: bar.update(1)


def cmd_grade(args):
    import os
    import signal

    from course.grading import find_submissions, grade_assignment
    from course.grading.engine import GradingStopped, stop_on_signal

    students = args.students or find_submissions(args.assignment, args.root)
    if not students:
        raise CourseError(f"no submissions of {args.assignment} in submitted/")
    missing = [s for s in students if not (args.root / "submitted" / s / args.assignment).is_dir()]
    if missing:
        raise CourseError(f"no submission folder submitted/<student>/{args.assignment}/ for: "
                          + ", ".join(terminal_text(s, 80) for s in missing))
    from course.grading.options import grader_options
    from course.nbgrader_api import make_api

    grader = grader_options(make_api(args.root).config, {name: getattr(args, name) for name in GRADER_OPTIONS})

    # SIGTERM and Ctrl-C stop the run cleanly (nbgrader would take a KeyboardInterrupt raised while it
    # grades for that submission's failure)
    previous = {sig: signal.signal(sig, stop_on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    bar, tick = _progress(len(students))
    done = []
    start = time.perf_counter()
    try:
        results = grade_assignment(args.assignment, args.root, students=students, db_url=args.db, timeout=args.timeout,
                                   feedback=grader.feedback, progress=lambda r: (done.append(r), tick(r)),
                                   workers=grader.workers, executor=grader.executor, scheduler=grader.scheduler,
                                   limits=grader.limits(), isolate=grader.isolation, force=args.force, wait=args.wait,
                                   notice=lambda message: bar.write(message))
    except (KeyboardInterrupt, GradingStopped) as err:
        bar.close()
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"stopped ({signal.Signals(signum).name}): {len(done)} submission(s) graded and saved; "
              f"run the same command again to grade the rest", file=sys.stderr)
        if getattr(args, "exit_at_once", False):
            # what the run owned is already gone (workers, kernels, scratch); the interpreter's own
            # teardown (joining the process pool's threads) can take seconds on a busy machine
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + signum)
        return 128 + signum
    finally:
        bar.close()  # before any message: an error never shares the progress bar's line
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"graded {len(results)} submission(s) in {time.perf_counter() - start:.1f} s")
    _print_results(args.root, args.assignment, results,
                   args.csv or args.root / "reports" / f"{args.assignment}_grades.csv", args.db)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"\n{len(failed)} submission(s) could not be graded (the grader's failure, not the student's; "
              "rerun to retry):", file=sys.stderr)
        for r in failed:
            print(f"  {terminal_text(r.student, 80)}: {terminal_text(r.error)}", file=sys.stderr)
        return 1
    return 0


def cmd_status(args):
    from course.grading.inert import terminal_text
    from course.grading.jobs import JobStore, run_active
    from course.nbgrader_api import make_api

    store = JobStore(args.db or make_api(args.root).coursedir.db_url)
    try:
        rows = store.states(args.assignment)
    finally:
        store.close()
    if not rows:
        print(f"no grading job recorded for {args.assignment}")
        return 0
    if not run_active(args.root, args.assignment):  # what was running when its run was killed
        for row in rows.values():
            if row["state"] == "running":
                row["state"], row["reason"] = "stopped", "its run ended before it was graded; a rerun grades it"
    counts = {}
    for row in rows.values():
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    print(f"{args.assignment}: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    for student, row in sorted(rows.items()):
        if row["state"] != "graded" or args.all:
            print(f"  {terminal_text(student, 60):30} {row['state']:8} {row['updated']}  {terminal_text(row['reason'])}")
    return 0


def _export_canvas(api, assignments, to, root):
    from nbgrader.api import Gradebook

    from course.exports import CanvasExportPlugin

    to = Path(to or root / "reports" / "canvas_grades.csv")
    plugin = CanvasExportPlugin(config=api.config, to=str(to), assignment=list(assignments))
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        plugin.export(gb)
    print(f"Canvas gradebook CSV: {_shown(to, root)}")


def cmd_export(args):
    """The grade CSVs again, from the gradebook (after manual grading, say), or Canvas's import CSV."""
    from nbgrader.api import Gradebook

    from course.nbgrader_api import make_api
    from course.report import read_report, summary_table, write_csv

    api = make_api(args.root, db_url=args.db)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        known = [a.name for a in gb.assignments]
    unknown = [a for a in args.assignments if a not in known]
    if unknown:
        raise CourseError(f"not in the gradebook: {', '.join(terminal_text(a, 80) for a in unknown)} "
                          f"(it has: {', '.join(known) or 'nothing yet'})")
    if args.canvas:
        _export_canvas(api, args.assignments, args.to, args.root)
        return 0
    if args.to and len(args.assignments) != 1:
        raise CourseError("--to names one file: give one assignment (or --canvas)")
    for asg in args.assignments or known:
        report = read_report(asg, args.root, args.db)
        print(f"\nScores for {asg}")
        print(summary_table(report))
        print(f"CSV: {_shown(write_csv(report, args.to or args.root / 'reports' / f'{asg}_grades.csv'), args.root)}")
    return 0


def cmd_demo(args):
    from course.build import generate_release
    from course.grading import grade_assignment
    from course.submissions import demo_class

    for asg in existing_assignments(args.root):
        generate_release(asg, args.root)
    print(f"release/ rebuilt for {', '.join(existing_assignments(args.root))}")
    for asg in args.assignment or existing_assignments(args.root):
        cases = demo_class(asg, args.root / "submitted", args.root)
        print(f"\ndemo class of {asg} written to submitted/:")
        for student, what in cases.items():
            print(f"  {student:20} {what}")
        bar, tick = _progress(len(cases))
        start = time.perf_counter()
        results = grade_assignment(asg, args.root, students=list(cases), timeout=args.timeout, progress=tick,
                                   workers=args.workers, force=True)  # a new demo class each time
        bar.close()
        print(f"graded {len(results)} submissions in {time.perf_counter() - start:.1f} s")
        _print_results(args.root, asg, results, args.root / "reports" / f"{asg}_grades.csv")
    return 0


def cmd_lab(args):
    from course.lab import run_lab

    return run_lab(port=args.port, open_browser=not args.no_browser, root=args.root)


def cmd_bench(args):
    from course.bench import run

    run(args.sections)
    return 0


def cmd_release(args):
    from course.bundle import stale_bundle_files, write_bundle

    out = Path(args.out).resolve() if args.out else args.root / "dist"
    for asg in _assignments(args):
        stale = stale_bundle_files(asg, args.root)
        if stale:
            print(f"note: release/{asg} is not up to date ({', '.join(stale)}); "
                  f"run `python -m course build {asg}` so that nbgrader's exchange ships the same", file=sys.stderr)
        folder = write_bundle(asg, out, args.root)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        shown = _shown(folder, args.root)
        print(f"{shown}/ and {shown}.zip: {len(files)} files")
        for name in files:
            print(f"  {name}")
    return 0


def cmd_validate(args):
    from course.validate import main as validate_main

    return validate_main(args.notebook, timeout=args.timeout)


# `course grade`'s own options: traits of CourseGrader (course/grading/options.py), settable in
# nbgrader_config.py as c.CourseGrader.<name> and here as --<name> (or --no-<name> for a switch)
GRADER_OPTIONS = ("workers", "executor", "scheduler", "feedback", "isolation", "quick", "notebook_timeout",
                  "cpu_time", "memory", "output_limit", "tmp_size", "workdir_size", "submission_size")


def _grader_arguments(parser):
    from traitlets import Bool, Enum, Float, Integer

    from course.grading.options import CourseGrader

    traits = CourseGrader.class_traits(config=True)
    for name in GRADER_OPTIONS:
        trait, flag = traits[name], "--" + name.replace("_", "-")
        text = f"{trait.help} (c.CourseGrader.{name}; default {trait.default_value!r})"
        if isinstance(trait, Bool):
            parser.add_argument(f"--no-{name.replace('_', '-')}", dest=name, action="store_const", const=False,
                                default=None, help=f"turn off: {text}")
        elif isinstance(trait, Enum):
            parser.add_argument(flag, dest=name, choices=list(trait.values), default=None, help=text)
        else:
            kind = int if isinstance(trait, Integer) else float if isinstance(trait, Float) else str
            parser.add_argument(flag, dest=name, type=kind, default=None, help=text)


def build_parser():
    prog = "course" if Path(sys.argv[0]).name == "course" else "python -m course"
    parser = argparse.ArgumentParser(prog=prog, description="The workbook's instructor tool.")
    parser.add_argument("--root", type=Path, default=None,
                        help="the nbgrader course directory (default: the current directory, as nbgrader)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="validate source notebooks and generate release/")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="prove source earns full marks and the release zero")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("grade", help="autograde submitted/<student>/ASG, feedback, CSV, table")
    p.add_argument("assignment")
    p.add_argument("--students", nargs="*", help="only these students")
    p.add_argument("--db", help="gradebook URL (default: the course's CourseDirectory.db_url)")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per cell (default: the course's Execute.timeout, as nbgrader autograde)")
    _grader_arguments(p)
    p.add_argument("--csv", help="where to write the CSV (default reports/ASG_grades.csv)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded and unchanged")
    p.add_argument("--wait", action="store_true", help="wait for another run of ASG to end instead of refusing")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("status", help="the grading job of ASG: counts, and the submissions not graded")
    p.add_argument("assignment")
    p.add_argument("--db", help="gradebook URL (default: the course's)")
    p.add_argument("--all", action="store_true", help="list every submission, graded ones too")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("export", help="the grade CSVs from the gradebook again, or Canvas's import CSV (--canvas)")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: every one in the gradebook)")
    p.add_argument("--canvas", action="store_true",
                   help="one CSV for Canvas's gradebook import (course.exports.CanvasExportPlugin)")
    p.add_argument("--to", help="the file (default reports/ASG_grades.csv; with --canvas reports/canvas_grades.csv)")
    p.add_argument("--db", help="gradebook URL (default: the course's)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="build, grade a demo class, print the table")
    p.add_argument("--assignment", nargs="*", help="assignment ids (default: every assignment)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=int, default=15, help="seconds per cell (default 15)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("lab", help="JupyterLab on the release notebooks")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("release", help="write the student's bundle of ASG: its folder and a zip")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--out", help="where ASG/ and ASG.zip are written (default: dist/)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("validate", help="students: run a notebook and summarize which graded functions pass")
    p.add_argument("notebook", help="a .ipynb file, its folder, or an assignment id (its notebook in release/)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("bench", help="rerun benchmarks, update benchmarks/results.json")
    p.add_argument("sections", nargs="*", help="benchmark sections (default: all)")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    import os
    # nbgrader runs `alembic` as a subprocess: this interpreter's bin/ first on PATH, so that
    # `.venv/bin/course` and `.venv/bin/python -m course` work without an activated environment.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    args = build_parser().parse_args(argv)
    args.root = args.root.resolve() if args.root else COURSE_ROOT
    args.exit_at_once = argv is None  # the command itself, not a caller of main() in its own process
    try:
        return args.func(args)
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
