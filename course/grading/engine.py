"""Grade a whole class: fan submissions out to workers, write the gradebook from one place.

Each submission is autograded by :func:`course.grading.worker.grade_one` in a scratch course
directory with its own copy of a prepared gradebook (nbgrader's own Autograde and
GenerateFeedback, with ``CheckedExecute``: grader-side verdicts, sandboxed kernel), on one of three executors:
in this process (``workers=1``), a pool of warm local processes (``workers=N``), or a Dask
cluster (``executor="dask"``). The workers return the grades and files; this process is the only
writer of the real gradebook (SQLite or any SQLAlchemy URL) and of ``autograded/`` and
``feedback/``, so concurrent grading never locks or loses a grade.
"""
import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from course.build import generate_release
from course.grading.results import SubmissionResult, assignment_layout, cell_rows, read_results
from course.grading.sandbox import Limits
from course.grading.worker import grade_one, warm_up
from course.nbgrader_api import make_api
from course.paths import COURSE_ROOT, CourseError, check_assignment

DEFAULT_TIMEOUT = 120  # seconds per cell


def find_submissions(assignment, root=COURSE_ROOT):
    """Student ids with a ``submitted/<student>/<assignment>/`` folder, sorted."""
    base = Path(root) / "submitted"
    if not base.is_dir():
        raise CourseError(f"{base} does not exist: nothing has been submitted")
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def submission_problem(assignment, student, root=COURSE_ROOT):
    """Why a submission cannot be graded at all (unreadable notebooks), or ''."""
    from course.grading.worker import submission_problem as problem
    return problem(Path(root) / "submitted" / student / assignment)


def _files(folder, skip_notebooks=False):
    folder = Path(folder)
    out = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts and "__pycache__" not in path.parts:
            if skip_notebooks and path.suffix == ".ipynb":
                continue
            out[str(path.relative_to(folder))] = path.read_bytes()
    return out


def preload_modules(assignment, root=COURSE_ROOT):
    """Modules imported by the locked cells of the assignment's source notebooks."""
    from nbgrader.utils import is_locked, is_solution

    from course.grading.cells import imported_modules
    found = []
    for path in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and is_locked(cell) and not is_solution(cell):
                found += imported_modules(cell.source)
    # Only the student's side is ever preloaded: a kernel forked from the zygote holds whatever the
    # zygote imported, whatever its file system view, so the answer key must never be among them.
    return [m for m in dict.fromkeys(found) if m.split(".")[0] != "course"]


def checks_folder(api, root):
    """Absolute path of the course's grader-side checks (``CheckedExecute.checks_dir``), or ''."""
    folder = api.config.CheckedExecute.get("checks_dir", "") if "CheckedExecute" in api.config else ""
    return str((Path(root) / folder).resolve()) if folder else ""


def _sqlite_path(db_url):
    if db_url and db_url.startswith("sqlite:///"):
        return str(Path(db_url[len("sqlite:///"):]).resolve())
    return None


def store_answer(gb, assignment, answer):
    """Write one worker's answer into the real gradebook (the single writer).

    Gives the records nbgrader's autograde makes: the student, the submission with its
    timestamp, and for every cell the auto score, the manual-grading flag and the auto comment.
    A submission that could not be graded gets every grade set to 0, so it still has an entry.
    """
    from nbgrader.api import Comment, Grade

    student = answer["student"]
    rows = answer.get("rows") or {}
    gb.update_or_create_student(student)
    if rows.get("timestamp"):
        sub = gb.update_or_create_submission(assignment, student, timestamp=rows["timestamp"])
    else:
        sub = gb.update_or_create_submission(assignment, student)
    grades, comments = rows.get("grades", {}), rows.get("comments", {})
    for nb in sub.notebooks:
        if nb.name in rows.get("penalties", {}):
            nb.late_submission_penalty = rows["penalties"][nb.name]
    for notebook, cell, g in cell_rows(gb, Grade, sub.id).all():
        r = grades.get(f"{notebook}/{cell}")
        if r is None or answer.get("error"):
            g.auto_score, g.needs_manual_grade = 0.0, False
        else:
            g.auto_score, g.needs_manual_grade = r["auto_score"], r["needs_manual_grade"]
    for notebook, cell, c in cell_rows(gb, Comment, sub.id).all():
        if f"{notebook}/{cell}" in comments:
            c.auto_comment = comments[f"{notebook}/{cell}"]
    gb.db.commit()


def _replace_tree(folder, files):
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    for rel, data in files.items():
        path = folder / rel
        if ".." in Path(rel).parts:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _failed(job, why):
    return {"student": job["student"], "error": why, "rows": None, "autograded": {}, "feedback": {},
            "seconds": 0.0, "cell_seconds": 0.0, "problems": [], "stopped": ""}


# --- executors: each yields answers as they complete ------------------------------------------------
def _run_inline(jobs, template, preload):
    from course.grading.worker import release_prepared_kernel
    try:
        for job in jobs:
            yield grade_one(job, template)
    finally:
        release_prepared_kernel()


def _run_pool(jobs, template, preload, workers):
    """A pool of warm processes; a crashed worker costs a retry, then that submission only."""
    pending = {job["student"]: job for job in jobs}
    attempts = {s: 0 for s in pending}
    ctx = multiprocessing.get_context("spawn")
    while pending:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=warm_up,
                                    initargs=(preload,)) as pool:
            futures = {pool.submit(grade_one, job, template): s for s, job in pending.items()}
            broken = False
            for fut in cf.as_completed(futures):
                student = futures[fut]
                try:
                    answer = fut.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    continue
                except Exception as err:  # noqa: BLE001
                    answer = _failed(pending[student], f"the grader failed: {type(err).__name__}: {err}")
                pending.pop(student, None)
                yield answer
            if broken:
                for student in list(pending):
                    attempts[student] += 1
                    if attempts[student] >= 2:
                        yield _failed(pending.pop(student), "a grading worker process crashed twice on this submission")


def _run_dask(jobs, template, preload, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError as err:  # pragma: no cover
        raise CourseError("--executor dask needs the 'distributed' package") from err
    if not scheduler:
        raise CourseError("--executor dask needs --scheduler tcp://HOST:PORT")
    with Client(scheduler, timeout=30) as client:
        shared = client.scatter(template, broadcast=True)
        futures = {}
        for job in jobs:
            fut = client.submit(grade_one, job, shared, key=f"grade-{job['assignment']}-{job['student']}-{os.getpid()}-{time.time_ns()}",
                                pure=False, retries=1)
            futures[fut] = job
        for fut in as_completed(list(futures)):
            job = futures[fut]
            try:
                yield fut.result()
            except Exception as err:  # noqa: BLE001 - a lost worker, a cancelled task
                yield _failed(job, f"the Dask task failed: {type(err).__name__}: {err}"[:500])


def grade_assignment(assignment, root=COURSE_ROOT, students=None, db_url=None, timeout=DEFAULT_TIMEOUT,
                     feedback=True, progress=None, workers=1, executor="local", scheduler=None,
                     limits=None, isolate=True):
    """Autograde every submission of ``assignment`` into the gradebook.

    Args:
        students: ids to grade (default: every folder in ``submitted/`` holding the assignment).
        db_url: gradebook URL (default: the course's SQLite gradebook); PostgreSQL works too.
        timeout: seconds a single cell may run before it is interrupted and scored 0.
        feedback: also write ``feedback/<student>/<assignment>/*.html``.
        progress: optional callable ``progress(result)`` called after each submission.
        workers: submissions graded at once on this machine (``executor="local"``).
        executor: ``"local"`` or ``"dask"`` (then ``scheduler`` is ``tcp://HOST:PORT``).
        limits: a :class:`course.grading.sandbox.Limits` (memory, CPU, notebook wall clock, output).
        isolate: run kernels as another uid in private namespaces (when root on Linux).
    Returns:
        list of :class:`course.grading.results.SubmissionResult`, in student order.
    """
    from nbgrader.api import Gradebook

    check_assignment(assignment, root)
    root = Path(root)
    students = find_submissions(assignment, root) if students is None else list(students)
    limits = dataclasses.replace(limits or Limits(), cell_timeout=timeout)  # the caller's object stays as it was
    api = make_api(root, db_url=db_url)
    db_url = api.coursedir.db_url
    course_id = api.coursedir.course_id
    # The real gradebook records the assignment and its cells; the template (a SQLite file every
    # worker copies) does too, so workers never run generate_assignment or alembic themselves.
    with tempfile.TemporaryDirectory() as tmp:
        generate_release(assignment, root, release_dir=Path(tmp) / "release", db_url=db_url)
        template_url = f"sqlite:///{tmp}/template.db"
        generate_release(assignment, root, release_dir=Path(tmp) / "release2", db_url=template_url)
        template = (Path(tmp) / "template.db").read_bytes()
    hide = [p for p in {_sqlite_path(db_url)} if p]
    hide += [p + suffix for p in list(hide) for suffix in ("-journal", "-wal", "-shm") if os.path.exists(p + suffix)]
    preload = preload_modules(assignment, root)
    # the kernel's working directory gets the student's bundle (release/ASG: data files and its utils/ subset)
    source_files = (_files(root / "release" / assignment, skip_notebooks=True)
                    or _files(root / "source" / assignment, skip_notebooks=True))
    checks_dir = checks_folder(api, root)
    jobs = []
    for student in students:
        jobs.append({"assignment": assignment, "student": student, "course_id": course_id,
                     "files": _files(root / "submitted" / student / assignment), "source_files": source_files,
                     "timeout": timeout, "limits": vars(limits).copy(), "feedback": feedback,
                     "isolate": isolate, "hide": hide, "preload": preload,
                     "checks_dir": checks_dir})
    if executor == "dask":
        answers = _run_dask(jobs, template, preload, scheduler)
    elif executor != "local":
        raise CourseError(f"unknown executor {executor!r} (local or dask)")
    elif workers and workers > 1 and len(jobs) > 1:
        answers = _run_pool(jobs, template, preload, min(workers, len(jobs)))
    else:
        answers = _run_inline(jobs, template, preload)

    results = {}
    with Gradebook(db_url, course_id) as gb:
        layout = assignment_layout(gb, assignment)
        for answer in answers:
            student = answer["student"]
            try:
                store_answer(gb, assignment, answer)
            except Exception as err:  # noqa: BLE001 - keep going; the row below says what happened
                gb.db.rollback()
                answer["error"] = answer.get("error") or f"could not store the grades: {type(err).__name__}: {err}"
            _replace_tree(root / "autograded" / student / assignment, answer.get("autograded", {}))
            if feedback:
                _replace_tree(root / "feedback" / student / assignment, answer.get("feedback", {}))
            result = read_results(gb, layout, assignment, student, root / "autograded" / student / assignment,
                                  seconds=answer.get("seconds", 0.0), error=answer.get("error", ""))
            result.cell_seconds = answer.get("cell_seconds", 0.0)
            result.problems = answer.get("problems", [])
            result.timings = answer.get("timings") or {}
            results[student] = result
            if progress:
                progress(result)
    missing = [s for s in students if s not in results]
    for student in missing:  # never silently: a row for everyone
        results[student] = SubmissionResult(student, assignment, 0.0, error="no answer from the grading workers")
    return [results[s] for s in students]
