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
import contextlib
import dataclasses
import multiprocessing
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import nbformat
from sqlalchemy.exc import OperationalError

from course.build import generate_release
from course.grading.inert import terminal_text
from course.grading.jobs import JobStore, checksum, retrying, run_lock, to_grade
from course.grading.results import SubmissionResult, assignment_layout, cell_rows, read_results
from course.grading.sandbox import Limits
from course.grading.scratch import SCRATCH_ENV, note_semaphores, reaped_folder, scratch_base
from course.grading.worker import grade_one, warm_up
from course.nbgrader_api import make_api
from course.paths import COURSE_ROOT, CourseError, check_assignment



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


def _files(folder, skip_notebooks=False, refused=None, max_bytes=None):
    """Regular files under ``folder`` (relative path -> bytes).

    Symbolic links and other non-regular files are never followed nor read, nor are files that
    would take the total beyond ``max_bytes``: their relative paths (with the reason) are appended
    to ``refused`` (a list) when given. A linked ``folder`` gives nothing.
    """
    total = 0
    folder = Path(folder)
    out = {}
    if folder.is_symlink() or not folder.is_dir():
        if refused is not None and folder.is_symlink():
            refused.append(".")
        return out
    for base, dirs, names in os.walk(folder, followlinks=False):
        here = Path(base)
        dirs[:] = sorted(d for d in dirs if d not in (".ipynb_checkpoints", "__pycache__"))
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                if refused is not None:
                    refused.append(str((here / d).relative_to(folder)))
        for name in sorted(names):
            path = here / name
            rel = str(path.relative_to(folder))
            if skip_notebooks and path.suffix == ".ipynb":
                continue
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                if refused is not None:
                    refused.append(rel)
                continue
            if max_bytes is not None and total + info.st_size > max_bytes:
                if refused is not None:
                    refused.append(f"{rel} (the submission's files exceed {max_bytes // 2**20} MB)")
                continue
            total += info.st_size
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                out[rel] = f.read()
    return out


def preload_modules(assignment, root=COURSE_ROOT):
    """Third-party modules imported by the locked cells of the assignment's source notebooks."""
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
    # utils comes from the submission's own bundle in the kernel's working directory, so it is not
    # preloaded either (a preloaded utils would be the course's whole student library); what the
    # bundle's modules import from elsewhere (seaborn, sklearn, ...) is.
    import utils  # where a utils module's source is: the bundle, the course, or the installed library
    places = [Path(root) / "release" / assignment, Path(root), Path(utils.__file__).resolve().parent.parent]
    seen = set()
    for name in list(found):
        while name.split(".")[0] == "utils" and name not in seen:
            seen.add(name)
            rel = Path(*name.split(".")).with_suffix(".py")
            path = next((base / rel for base in places if (base / rel).is_file()), None)
            if path is not None:
                found += imported_modules(path.read_text(encoding="utf-8"))
            name = name.rpartition(".")[0] or name
    return [m for m in dict.fromkeys(found) if m.split(".")[0] not in ("course", "utils")]


def checks_folder(api, root):
    """Absolute path of the course's grader-side checks (``CheckedExecute.checks_dir``), or ''."""
    folder = api.config.CheckedExecute.get("checks_dir", "") if "CheckedExecute" in api.config else ""
    return str((Path(root) / folder).resolve()) if folder else ""


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
            # nbgrader's SaveAutoGrades: a cell graded by hand before, or without an auto score, is reviewed
            g.auto_score = r["auto_score"]
            g.needs_manual_grade = g.manual_score is not None or g.auto_score is None
    for notebook, cell, c in cell_rows(gb, Comment, sub.id).all():
        if f"{notebook}/{cell}" in comments:
            c.auto_comment = comments[f"{notebook}/{cell}"]
    gb.db.commit()


def _copy_due_dates(db_url, template_url, course_id, assignment, students):
    """Give the workers' template the assignment's due date, and return each student's extension
    (seconds) from the real gradebook: nbgrader's AssignLatePenalties then computes the same
    penalties in the worker as it would here."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as real, Gradebook(template_url, course_id) as template:
        due = real.find_assignment(assignment).duedate
        template.update_or_create_assignment(assignment, duedate=due)
        extensions = {}
        for student in students:
            try:
                extension = real.find_submission(assignment, student).extension
            except MissingEntry:
                continue
            if extension is not None:
                extensions[student] = extension.total_seconds()
    return extensions


def _replace_tree(folder, files):
    """Replace ``folder`` by ``files`` (relative path -> bytes) all at once: the new tree is written
    beside it and renamed into place, so a crash or a full disk never leaves a partial folder."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        for rel, data in files.items():
            path = new / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        os.chmod(new, 0o755)
        old = None
        if folder.exists() or folder.is_symlink():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{time.time_ns()}")
            os.rename(folder, old)
        os.rename(new, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() and not old.is_symlink() else old.unlink()
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


@contextlib.contextmanager
def run_scratch():
    """A scratch folder for this run (``COURSE_SCRATCH``: its workers' scratch courses, gradebooks
    and kernel folders go there), removed when the run ends, and by its reaper if the grader is killed."""
    folder, keep = reaped_folder("course-run-")
    previous = os.environ.get(SCRATCH_ENV)
    os.environ[SCRATCH_ENV] = folder
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(SCRATCH_ENV, None)
        else:
            os.environ[SCRATCH_ENV] = previous
        from course.grading.sandbox import stop_zygote
        from course.grading.worker import release_prepared_kernel
        release_prepared_kernel()  # this process's kernel and zygote have their folders in it
        stop_zygote()
        shutil.rmtree(folder, ignore_errors=True)
        os.close(keep)


def _failed(job, why):
    """The answer for a submission the grader could not grade (never stored as a 0)."""
    return {"student": job["student"], "error": why, "rows": None, "autograded": {}, "feedback": {},
            "seconds": 0.0, "cell_seconds": 0.0, "problems": [], "stopped": "", "infra": True}


class GradingStopped(BaseException):
    """SIGTERM (or SIGINT) ended the run; what finished is recorded, a rerun resumes.

    A BaseException, as KeyboardInterrupt: no ``except Exception`` on its way (the grader's own,
    SQLAlchemy's, nbgrader's) turns the stop into a failed or zero-scored submission."""

    def __init__(self, signum):
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


_stops = []  # the signals that asked this process's grading run to stop


def stop_on_signal(signum, frame=None):
    """Handler of SIGTERM and SIGINT while ``grade_assignment`` runs: raises GradingStopped, and
    remembers the stop, since nbgrader's API catches whatever is raised while it grades a
    submission in this process (``capture_log``): that submission's answer is then dropped."""
    _stops.append(signum)
    raise GradingStopped(signum)


def _check_stop():
    if _stops:
        raise GradingStopped(_stops[-1])


def _stop_processes(pool):
    """End a ProcessPoolExecutor's workers now (their zygotes and kernels die with them).

    Uses ``pool._processes`` (CPython's concurrent.futures, checked on 3.11-3.13): the public
    ``shutdown`` waits for running submissions, which is minutes, not seconds.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() sets it to None
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 5
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()


# --- executors: each yields answers as they complete ------------------------------------------------
def _nothing(students):
    pass


def _run_inline(jobs, template, preload, started=_nothing):
    from course.grading.worker import release_prepared_kernel
    try:
        for job in jobs:
            started([job["student"]])
            answer = grade_one(job, template)
            _check_stop()  # a stop nbgrader swallowed: this answer is not the submission's
            yield answer
    finally:
        release_prepared_kernel()


def _run_pool(jobs, template, preload, workers, grade=grade_one, started=_nothing):
    """A pool of warm processes. A crashed worker breaks the pool: the submissions not finished
    are graded again; after a second crash, one per process, so that only the one that crashes
    its worker fails (with the reason)."""
    pending = {job["student"]: job for job in jobs}
    for _ in range(2):
        if not pending or not (yield from _pool_round(pending, template, preload, workers, grade, started)):
            return
    for student in list(pending):
        if (yield from _pool_round({student: pending[student]}, template, preload, 1, grade, started)):
            yield _failed(pending.pop(student), "this submission crashed its grading worker process (three times)")


def _pool_round(pending, template, preload, workers, grade, started):
    """Grade ``pending`` (student -> job, emptied as answers come) in a new pool; True if it broke.

    A submission is handed to the pool only when a worker is free for it (``started`` is told
    then: its job state becomes ``running``); the rest wait here, still ``queued``."""
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=warm_up, initargs=(preload,))
    note_semaphores(pool)  # (its queues' named semaphores: the run's reaper unlinks them after a kill -9)
    waiting, futures, broken = iter(list(pending)), {}, False

    def hand_out():
        nonlocal broken
        for student in waiting:
            try:
                futures[pool.submit(grade, pending[student], template)] = student
            except cf.process.BrokenProcessPool:
                broken = True
                return
            started([student])
            return

    try:
        for _ in range(workers):
            hand_out()
        while futures:
            done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                student = futures.pop(fut)
                try:
                    answer = fut.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    continue
                except Exception as err:  # noqa: BLE001
                    answer = _failed(pending[student], f"the grader failed: {type(err).__name__}: {err}")
                if not broken:
                    hand_out()  # before this answer is recorded: the worker never waits for the writer
                pending.pop(student, None)
                yield answer
    except BaseException:
        _stop_processes(pool)
        raise
    pool.shutdown(wait=True)
    return broken


def _run_dask(jobs, template, preload, scheduler, started=_nothing):
    """Jobs handed to a Dask cluster, as many at once as its workers have threads (counted again as
    each ends; only workers that can sandbox, when the run sandboxes), ``started`` told as each is
    handed out. A task whose worker dies is run again by Dask (``retries=1``, and the scheduler's
    own reassignment); one that still fails is recorded as failed, with the reason."""
    try:
        from distributed import Client, as_completed
    except ImportError as err:  # pragma: no cover
        raise CourseError("--executor dask needs the 'distributed' package") from err
    if not scheduler:
        raise CourseError("--executor dask needs --scheduler tcp://HOST:PORT")
    with Client(scheduler, timeout=30) as client:
        capable = _sandboxing_workers(client) if jobs and jobs[0].get("isolate", True) else None
        waiting, futures, running = iter(jobs), {}, as_completed()

        def hand_out():
            """Hand out jobs while a worker thread is free (the cluster may grow or shrink)."""
            free = sum(n for w, n in client.nthreads().items() if capable is None or w in capable)
            while len(futures) < max(1, free):
                job = next(waiting, None)
                if job is None:
                    return
                key = f"grade-{job['assignment']}-{job['student']}-{os.getpid()}-{time.time_ns()}"
                # the template travels with each task (a few hundred KB): a scattered copy is lost
                # with the worker that holds it, and with it every task that needs it
                fut = client.submit(grade_one, job, template, key=key, pure=False, retries=1, workers=capable)
                futures[fut] = job
                running.add(fut)
                started([job["student"]])

        hand_out()
        for fut in running:
            job = futures.pop(fut)
            hand_out()
            try:
                yield fut.result()
            except Exception as err:  # noqa: BLE001 - a lost worker, a cancelled task
                yield _failed(job, f"the Dask task failed: {type(err).__name__}: {err}"[:500])


def _sandboxing_workers(client):
    """The addresses of the Dask workers that can sandbox kernels; CourseError if none can."""
    from course.grading.sandbox import isolation_available
    why = client.run(isolation_available)
    capable = [worker for worker, reason in why.items() if not reason]
    if not capable:
        reasons = "; ".join(f"{w}: {r}" for w, r in why.items()) or "the cluster has no worker"
        raise CourseError(f"no Dask worker can sandbox the kernels ({reasons}); --no-isolation grades without it")
    return capable


def grade_assignment(assignment, root=COURSE_ROOT, students=None, db_url=None, timeout=None,
                     feedback=True, progress=None, workers=1, executor="local", scheduler=None,
                     limits=None, isolate=True, force=False, wait=False, notice=None):
    """Autograde every submission of ``assignment`` into the gradebook.

    Args:
        students: ids to grade (default: every folder in ``submitted/`` holding the assignment).
        db_url: gradebook URL (default: the course's SQLite gradebook); PostgreSQL works too.
        timeout: seconds a single cell may run before it is interrupted and scored 0 (default: the
            course's ``Execute.timeout``, as nbgrader).
        feedback: also write ``feedback/<student>/<assignment>/*.html``.
        progress: optional callable ``progress(result)`` called after each submission.
        workers: submissions graded at once on this machine (``executor="local"``).
        executor: ``"local"`` or ``"dask"`` (then ``scheduler`` is ``tcp://HOST:PORT``).
        limits: a :class:`course.grading.sandbox.Limits` (memory, CPU, notebook wall clock, output).
        isolate: run kernels as another uid in private namespaces (when root on Linux).
        force: regrade submissions already graded and unchanged (a rerun otherwise resumes).
        wait: wait for another run of the same assignment to end instead of refusing.
        notice: optional callable ``notice(message)`` for what the run decided (e.g. resuming).
    Returns:
        list of :class:`course.grading.results.SubmissionResult`, in student order.
    """
    check_assignment(assignment, root)
    root = Path(root)
    students = find_submissions(assignment, root) if students is None else list(students)
    missing = [s for s in students if not (root / "submitted" / s / assignment).is_dir()]
    if missing:  # a typo must not zero a student or delete their autograded folder
        raise CourseError(f"no submission folder submitted/<student>/{assignment}/ for: {', '.join(missing)}")
    _stops.clear()
    with run_lock(root, assignment, wait=wait), run_scratch():
        return _grade(assignment, root, students, db_url, timeout, feedback, progress, workers, executor,
                      scheduler, limits, isolate, force, notice or (lambda message: None))


def _grade(assignment, root, students, db_url, timeout, feedback, progress, workers, executor, scheduler,
           limits, isolate, force, notice):
    api = make_api(root, db_url=db_url)
    if timeout is None:
        from nbgrader.preprocessors import Execute
        timeout = Execute(config=api.config).timeout
    limits = dataclasses.replace(limits or Limits(), cell_timeout=timeout)  # the caller's object stays as it was
    if isolate and executor == "local":
        from course.grading.sandbox import isolation_available
        if isolation_available():  # never a silent fallback to an unsandboxed kernel
            raise CourseError(f"the grading sandbox is not available here: {isolation_available()}; "
                              "--no-isolation grades without it (the kernel then runs as you and can read the course)")
    db_url = api.coursedir.db_url
    course_id = api.coursedir.course_id
    refused = {s: [] for s in students}
    files = {s: _files(root / "submitted" / s / assignment, refused=refused[s], max_bytes=limits.submission)
             for s in students}
    digests = {s: checksum(f) for s, f in files.items()}
    # The real gradebook records the assignment and its cells (nbgrader creates it if needed); the
    # template (a SQLite file every worker copies) does too, so workers never run generate_assignment.
    try:
        with tempfile.TemporaryDirectory(dir=scratch_base()) as tmp:
            generate_release(assignment, root, release_dir=Path(tmp) / "release", db_url=db_url, lint=False)
            template_url = f"sqlite:///{tmp}/template.db"
            generate_release(assignment, root, release_dir=Path(tmp) / "release2", db_url=template_url, lint=False)
            extensions = _copy_due_dates(db_url, template_url, course_id, assignment, students)
            template = (Path(tmp) / "template.db").read_bytes()
            # the kernel's working directory gets the student's bundle as built now (its data files
            # and its utils/ subset), the same as release/ASG but never missing or stale
            bundle = _files(Path(tmp) / "release" / assignment, skip_notebooks=True)
    except CourseError:
        _check_stop()  # a stop nbgrader caught and reported as its own failure is a stop
        raise
    store = JobStore(db_url)
    try:
        earlier = store.states(assignment)
        todo = to_grade(earlier, digests, force)
        if len(todo) < len(students):
            notice(f"resuming: {len(students) - len(todo)} of {len(students)} submission(s) already graded "
                   f"and unchanged; grading {len(todo)} (--force regrades all)")
        store.mark(assignment, todo, "queued", checksums=digests)
        answers = _dispatch(assignment, root, todo, files, api, db_url, course_id, timeout, feedback, workers,
                            executor, scheduler, limits, isolate, template, extensions, bundle,
                            started=lambda handed: store.mark(assignment, handed, "running")) if todo else iter(())
        results, lost = {}, None
        with _gradebook(db_url, course_id) as gb:
            layout = assignment_layout(gb, assignment)
            try:
                for answer in answers:
                    _check_stop()
                    student = answer["student"]
                    result = _record(gb, store, layout, assignment, root, answer, feedback, refused.get(student))
                    results[student] = result
                    if progress:
                        progress(result)
            except OperationalError as err:  # the database stayed unreachable through the retries
                lost = err
                raise CourseError(_database_lost(err, todo, results)) from None
            finally:
                unfinished = [s for s in todo if s not in results]
                if lost is None:  # (they are still queued from the start of this run otherwise)
                    store.mark(assignment, unfinished, "queued", "the run stopped before this submission was graded")
            for student in students:
                if student not in results:  # graded by an earlier run: read back from the gradebook
                    folder = root / "autograded" / student / assignment
                    results[student] = read_results(gb, layout, assignment, student, folder,
                                                    error=earlier.get(student, {}).get("reason") or "")
    finally:
        store.close()
    return [results[s] for s in students]


@contextlib.contextmanager
def _gradebook(db_url, course_id):
    """nbgrader's Gradebook, closed; when the run is already failing (a database that went away),
    a close that fails too does not replace the reason the run gives."""
    from nbgrader.api import Gradebook
    gb = Gradebook(db_url, course_id)
    try:
        yield gb
    except BaseException:
        with contextlib.suppress(OperationalError):
            gb.close()
        raise
    gb.close()


def _record(gb, store, layout, assignment, root, answer, feedback, refused):
    """Store one answer (gradebook, files, job state) and return its SubmissionResult."""
    student = answer["student"]
    folder = root / "autograded" / student / assignment
    if answer.get("infra"):  # the grader failed: no 0 is recorded as if graded
        store.mark(assignment, [student], "failed", answer["error"], attempt=True)
        result = SubmissionResult(student, assignment, layout[0], error=answer["error"], status="failed")
        return result
    try:
        retrying(lambda: _store_or_rollback(gb, assignment, answer))
    except OperationalError:  # the database stayed down: the run cannot go on (_grade says what was saved)
        raise
    except Exception as err:  # noqa: BLE001 - this submission's rows were refused: say so, a rerun retries
        why = f"could not store the grades: {type(err).__name__}: {err}"[:500]
        store.mark(assignment, [student], "failed", why, attempt=True)
        return SubmissionResult(student, assignment, layout[0], error=why, status="failed")
    try:
        _replace_tree(folder, answer.get("autograded", {}))
        if feedback:
            _replace_tree(root / "feedback" / student / assignment, answer.get("feedback", {}))
    except OSError as err:  # a full disk, a name the file system refuses: the grades are stored, say so
        why = f"grades stored, but the autograded/feedback files could not be written: {err}"[:500]
        store.mark(assignment, [student], "failed", why, attempt=True)
        return SubmissionResult(student, assignment, layout[0], error=why, status="failed")
    store.mark(assignment, [student], "graded", answer.get("error", ""), attempt=True)
    result = read_results(gb, layout, assignment, student, folder, seconds=answer.get("seconds", 0.0),
                          error=answer.get("error", ""))
    result.cell_seconds = answer.get("cell_seconds", 0.0)
    result.problems = list(answer.get("problems", []))
    if refused:
        note = ", ".join(refused[:5])
        result.problems.append(("submission", [f"not copied (links, special files and files beyond the size "
                                               f"limit are never read): {note}"]))
        if result.error.startswith("no notebook"):
            result.error = f"the notebook was not read ({note}): links, special files and oversized files never are"
    result.timings = answer.get("timings") or {}
    return result


def _database_lost(err, todo, results):
    """The one-line message of a run the gradebook database left: what is saved, what is not."""
    def names(students):
        shown = ", ".join(terminal_text(s, 60) for s in students[:20])
        return (shown + (f" and {len(students) - 20} more" if len(students) > 20 else "")) or "none"
    saved = [s for s in todo if s in results and results[s].status == "graded"]
    failed = [s for s in todo if s in results and results[s].status != "graded"]
    unsaved = [s for s in todo if s not in results]
    first = (str(err.orig if getattr(err, "orig", None) is not None else err).strip().splitlines() or [""])[0]
    return (f"the gradebook database stopped answering ({type(err).__name__}: {terminal_text(first, 200)}); "
            f"saved in this run: {names(saved)}; " + (f"failed (reason in `course status`): {names(failed)}; "
                                                      if failed else "")
            + f"not saved: {names(unsaved)}; run the same command again when the database is back: it resumes")


def _store_or_rollback(gb, assignment, answer):
    try:
        store_answer(gb, assignment, answer)
    except BaseException:  # a stop (GradingStopped) too: no half-written submission stays locked
        gb.db.rollback()
        raise


def _dispatch(assignment, root, students, files, api, db_url, course_id, timeout, feedback, workers, executor,
              scheduler, limits, isolate, template, extensions, bundle, started):
    """Hand the jobs to an executor; yields the workers' answers as they come. ``started(students)``
    is called as submissions are handed to a worker."""
    preload = preload_modules(assignment, root)
    checks_dir = checks_folder(api, root)
    # the course's own settings travel with each job (a worker may run anywhere)
    config = (root / "nbgrader_config.py").read_text() if (root / "nbgrader_config.py").is_file() else ""
    jobs = [{"assignment": assignment, "student": student, "course_id": course_id, "files": files[student],
             "source_files": bundle, "timeout": timeout, "limits": vars(limits).copy(), "feedback": feedback,
             "isolate": isolate, "preload": preload, "checks_dir": checks_dir, "config": config,
             "extension": extensions.get(student)}
            for student in students]
    if executor == "dask":
        yield from _run_dask(jobs, template, preload, scheduler, started)
    elif executor != "local":
        raise CourseError(f"unknown executor {executor!r} (local or dask)")
    elif workers and workers > 1 and len(jobs) > 1:
        yield from _run_pool(jobs, template, preload, min(workers, len(jobs)), started=started)
    else:
        yield from _run_inline(jobs, template, preload, started)
