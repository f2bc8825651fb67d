"""Grade one submission in a scratch course: the unit of work of every executor (in-process,
process pool, Dask). Everything it needs travels in the job (bytes, not paths), everything it
produces comes back in the answer; it never touches the real gradebook or the course folders.
"""
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from course.grading import nbgrader_speedups
from course.grading.sandbox import Limits, Sandbox, isolation_available, remove_workdir
from course.grading.scratch import scratch_base

nbgrader_speedups.install()  # in every process that grades: pool and Dask workers, and the parent

_ANSWER_FILES_LIMIT = 50 * 1024 * 1024  # bytes of autograded/feedback files sent back

# nbgrader's converters chdir into the course for each conversion (process-wide): in a process
# grading in several threads (a Dask worker's --nthreads), one conversion runs at a time
_nbgrader_lock = threading.Lock()


def _write_tree(base, files):
    for rel, data in files.items():
        path = Path(base) / rel
        if Path(os.path.normpath(path)).is_relative_to(base) is False or ".." in Path(rel).parts:
            continue  # never write outside the scratch folder
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _read_tree(base):
    out, total = {}, 0
    base = Path(base)
    if not base.is_dir():
        return out
    for path in sorted(base.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            total += len(data)
            if total > _ANSWER_FILES_LIMIT:
                break
            out[str(path.relative_to(base))] = data
    return out


_gradebooks = {}  # thread id -> this thread's scratch gradebook (one path, so one SQLAlchemy engine)


def _scratch_gradebook():
    """The path of this thread's scratch gradebook, in a private folder made once."""
    key = threading.get_ident()
    path = _gradebooks.get(key)
    if path is None or not path.parent.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="course-gradebook-", dir=scratch_base()))
        os.chmod(folder, 0o700)
        path = _gradebooks[key] = folder / "gradebook.db"
        nbgrader_speedups.register_scratch_gradebook(f"sqlite:///{path}")
    return path


def remove_scratch_gradebooks():
    for path in list(_gradebooks.values()):
        nbgrader_speedups.forget_scratch_gradebook(f"sqlite:///{path}")
        shutil.rmtree(path.parent, ignore_errors=True)
    _gradebooks.clear()


def submission_problem(folder):
    """Why a submission folder cannot be graded at all (no or unreadable notebooks), or ''."""
    from course.validation import read_notebook

    notebooks = sorted(Path(folder).glob("*.ipynb"))
    if not notebooks:
        return "no notebook in the submission"
    for path in notebooks:
        try:
            read_notebook(path)
        except ValueError as err:
            return str(err).replace(str(Path(folder)) + os.sep, "")
    return ""


def read_rows(db_url, course_id, assignment, student):
    """The autograder's records of one submission: timestamp, grades, comments, late penalties."""
    from nbgrader.api import Comment, Gradebook, Grade, MissingEntry, Notebook, SubmittedNotebook

    from course.grading.results import cell_rows

    rows = {"timestamp": None, "grades": {}, "comments": {}, "penalties": {}}
    with Gradebook(db_url, course_id) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return rows
        rows["timestamp"] = sub.timestamp
        rows["penalties"] = dict(gb.db.query(Notebook.name, SubmittedNotebook.late_submission_penalty)
                                 .join(SubmittedNotebook, SubmittedNotebook.notebook_id == Notebook.id)
                                 .filter(SubmittedNotebook.assignment_id == sub.id).all())
        for notebook, cell, score, manual in cell_rows(gb, Grade, sub.id, Grade.auto_score, Grade.needs_manual_grade):
            rows["grades"][f"{notebook}/{cell}"] = {"auto_score": score, "needs_manual_grade": bool(manual)}
        for notebook, cell, comment in cell_rows(gb, Comment, sub.id, Comment.auto_comment):
            rows["comments"][f"{notebook}/{cell}"] = comment
    return rows


def _set_extension(db_url, job):
    from datetime import timedelta

    from nbgrader.api import Gradebook
    with Gradebook(db_url, job["course_id"]) as gb:
        gb.update_or_create_student(job["student"])
        gb.update_or_create_submission(job["assignment"], job["student"], extension=timedelta(seconds=job["extension"]))


def _last_line(outcome):
    text = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
    interesting = [line for line in text if "Error" in line or "error" in line]
    return (interesting or text or ["unknown error"])[-1].strip()[:300]


# Failures of the grader itself inside nbgrader's run (a submission is never their cause).
_GRADER_FAULTS = ("checks_dir", "No space left on device", "MemoryError", "course_checks_", "OSError: [Errno 28]")


def _grader_problem(job):
    """Why this worker cannot judge the job (no sandbox here though the run asks for one; its checks
    folder or module is missing or broken), or ''. Never a silent fallback: the run fails it, with this."""
    if job.get("isolate", True) and isolation_available():
        return f"the grading sandbox is not available on host {os.uname().nodename}: {isolation_available()}"
    folder = job.get("checks_dir", "")
    if not folder:
        return ""
    if not Path(folder).is_dir():
        return f"the grader's checks folder {folder} is missing on host {os.uname().nodename}"
    try:
        from course.checks import load_checks
        load_checks(folder, job["assignment"])
    except Exception as err:  # noqa: BLE001 - a broken check module is the instructor's to fix
        return f"the grader's checks of {job['assignment']} cannot be loaded: {type(err).__name__}: {err}"[:500]
    return ""


def grade_one(job, gradebook=None):
    """Autograde one submission in a throw-away course directory.

    Args:
        job: dict with ``assignment``, ``student``, ``course_id``, ``files`` (the submission folder:
            relative path -> bytes), ``source_files`` (the assignment's non-notebook source files),
            ``timeout`` (s per cell), ``limits`` (a :class:`Limits` as dict), ``feedback`` (bool),
            ``isolate`` (bool), ``preload`` (modules), ``checks_dir`` (the grader-side checks),
            ``gradebook`` (bytes of a SQLite gradebook holding the assignment and its source cells,
            or pass it as ``gradebook``).
    Returns:
        dict: ``student``, ``error``, ``rows`` (see :func:`read_rows`), ``autograded`` and
        ``feedback`` (relative path -> bytes), ``seconds`` (wall), ``cell_seconds`` (time the kernel
        spent executing cells), ``problems`` (integrity checks that failed), ``stopped``.
    """
    from course.grading.checked_execute import SubmissionRun, submission_run
    from course.grading.provisioner import SandboxKernelManager
    from course.nbgrader_api import load_config, make_api

    start = time.perf_counter()
    asg, student = job["assignment"], job["student"]
    answer = {"student": student, "error": "", "rows": None, "autograded": {}, "feedback": {},
              "seconds": 0.0, "cell_seconds": 0.0, "problems": [], "stopped": "", "host": os.uname().nodename}
    fast = scratch_base()
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-", dir=fast))
    # the kernel started after the previous submission (already booted), or one started now
    work, box, km = _take_kernel(job)
    run = None
    try:
        os.chmod(scratch, 0o700)
        folder = scratch / "submitted" / student / asg
        folder.mkdir(parents=True)
        _write_tree(folder, job["files"])
        if job.get("config"):  # the course's nbgrader_config.py: make_api(scratch) loads it
            (scratch / "nbgrader_config.py").write_text(job["config"])
        (scratch / "source" / asg).mkdir(parents=True)
        # nbgrader copies the source folder's files into autograded/: the data, not the bundle's utils/
        _write_tree(scratch / "source" / asg, {k: v for k, v in job.get("source_files", {}).items()
                                               if not k.startswith("utils/")})
        # the kernel's working directory: the submission's and the assignment's data files, no notebook
        try:
            _write_tree(work, {k: v for k, v in job["files"].items() if not k.endswith(".ipynb")})
        except OSError as err:  # e.g. tens of thousands of small files: the submission's own doing
            answer["error"] = (f"the submission's files do not fit in the kernel's working directory "
                               f"({box.limits.workdir_size // 2**20} MB, at least 4 KB a file): {err.strerror}")
        _write_tree(work, job.get("source_files", {}))
        db = _scratch_gradebook()
        db_url = f"sqlite:///{db}"
        nbgrader_speedups.close_connections(db_url)
        db.write_bytes(gradebook if gradebook is not None else job["gradebook"])
        if job.get("extension"):  # the student's extension of the due date (nbgrader's late penalties)
            _set_extension(db_url, job)
        answer["error"] = answer["error"] or submission_problem(folder)
        why = _grader_problem(job)
        if why:  # the grader cannot judge here: a failure to retry, never a 0
            answer["error"], answer["infra"] = why, True
        elif not answer["error"]:
            run = SubmissionRun(box, prestarted=km)
            km = None
            stats = run.stats
            if sum(1 for k in job["files"] if k.endswith(".ipynb") and "/" not in k) == 1:
                # one notebook: once its kernel is shut down, no kernel of this submission remains,
                # so the next submission's kernel can boot during nbgrader's bookkeeping
                run.after_kernel = lambda: _prepare_next(job)
            api = make_api(scratch, db_url=db_url, overrides={
                "Execute": {"timeout": int(job["timeout"])},
                "ExecutePreprocessor": {"timeout": int(job["timeout"])},
                "Autograde": {"autograde_preprocessors": autograde_pipeline(load_config(scratch))},
                "CheckedExecute": {"checks_dir": job.get("checks_dir", ""), "sandbox": SandboxKernelManager,
                                   "allow_unsandboxed": not box.isolate},
                # nbconvert validates the whole notebook after every preprocessor (a dozen times per
                # submission); its own option validates it once, after the last one
                "Exporter": {"optimistic_validation": True},
            })
            t_autograde = time.perf_counter()
            with _nbgrader_lock, submission_run(run):
                outcome = api.autograde(asg, student, force=True, create=True)
            km, run.prestarted = run.prestarted, None  # not used if nbgrader failed before executing
            answer["timings"] = {"setup": t_autograde - start, "autograde": time.perf_counter() - t_autograde,
                                 "kernel": stats.get("kernel_seconds", 0.0), "checks": stats.get("check_seconds", 0.0)}
            # the notebook's own execution: cell time minus the grader's checks run inside the cells
            answer["cell_seconds"] = stats.get("cell_seconds", 0.0)
            answer["stopped"] = stats.get("stopped", "")
            if stats.get("kernel_failed"):  # the grader's failure, whatever nbgrader made of it: never a 0
                answer["error"], answer["infra"] = stats["kernel_failed"], True
            elif not outcome["success"]:
                answer["error"] = "nbgrader could not grade this submission: " + _last_line(outcome)
                log = (outcome.get("error") or "") + (outcome.get("log") or "")
                if any(s in log for s in _GRADER_FAULTS):  # the grader's fault, not the notebook's
                    answer["infra"] = True
            elif job.get("feedback", True):
                t_feedback = time.perf_counter()
                with _nbgrader_lock:
                    api.generate_feedback(asg, student, force=True)
                answer["timings"]["feedback"] = time.perf_counter() - t_feedback
        answer["rows"] = read_rows(db_url, job["course_id"], asg, student)
        answer["autograded"] = _read_tree(scratch / "autograded" / student / asg)
        answer["feedback"] = _read_tree(scratch / "feedback" / student / asg)
    except Exception as err:  # noqa: BLE001 - one submission's failure is reported, never raised
        answer["error"] = f"the grader failed on this submission: {type(err).__name__}: {err}"[:500]
        answer["infra"] = True  # the grader's failure, not the submission's: recorded as failed, not as 0
        answer["traceback"] = traceback.format_exc()[-3000:]
    finally:
        _stop_kernel(km)
        _stop_kernel(run.prestarted if run else None)
        shutil.rmtree(scratch, ignore_errors=True)
        remove_workdir(work)
        _prepare_next(job)  # the next submission's kernel boots while this answer travels
        answer["seconds"] = time.perf_counter() - start
    return answer


# per thread (a Dask worker grades in several): the kernel started for its next submission,
# as (sandbox key, working directory, Sandbox, kernel manager)
_prepared = {}
_prepared_lock = threading.Lock()


def _sandbox_key(job):
    import json
    return json.dumps([job.get("limits", {}), bool(job.get("isolate", True)),
                       list(job.get("preload", ()))], sort_keys=True, default=str)


def _new_kernel(job):
    """A fresh private working directory and a kernel starting in it, sandboxed for ``job``."""
    work = Path(tempfile.mkdtemp(prefix="course-kernel-", dir=scratch_base()))
    os.chmod(work, 0o700)
    # the student's bundle (data files, its utils/ subset) is in place before the kernel starts:
    # the kernel imports utils from there and from nowhere else
    _write_tree(work, job.get("source_files", {}))
    limits = Limits(**job.get("limits", {}))
    isolate = bool(job.get("isolate", True)) and not isolation_available()
    box = Sandbox(work, limits, isolate=isolate, preload=tuple(job.get("preload", ())))
    return work, box, _prestart_kernel(box)


def _take_kernel(job):
    with _prepared_lock:
        prepared = _prepared.pop(threading.get_ident(), None)
    if prepared is not None:
        key, work, box, km = prepared
        if key == _sandbox_key(job) and km is not None and _alive(km):
            return work, box, km
        _stop_kernel(km)
        remove_workdir(work)
    return _new_kernel(job)


def autograde_pipeline(config):
    """The course's autograde preprocessors (nbgrader's default unless its config names others),
    with CheckedExecute in the place of nbgrader's Execute."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.utils.importstring import import_item

    from course.grading.checked_execute import CheckedExecute
    pipeline = [import_item(p) if isinstance(p, str) else p for p in Autograde(config=config).autograde_preprocessors]
    return [CheckedExecute if p is Execute else p for p in pipeline]


def _prepare_next(job):
    if threading.get_ident() in _prepared:  # already started (right after this submission's kernel ended)
        return
    try:
        work, box, km = _new_kernel(job)
        with _prepared_lock:
            _prepared[threading.get_ident()] = (_sandbox_key(job), work, box, km)
    except Exception:  # noqa: BLE001 - the next submission starts its own
        pass


def release_prepared_kernel():
    """Stop the kernels kept for next submissions (when this process has no more to grade)."""
    with _prepared_lock:
        prepared = list(_prepared.values())
        _prepared.clear()
    for _, work, _, km in prepared:
        _stop_kernel(km)
        remove_workdir(work)


def _alive(km):
    from jupyter_core.utils import run_sync
    try:
        return bool(run_sync(km.is_alive)())
    except Exception:  # noqa: BLE001
        return False


def _prestart_kernel(box):
    """Start the submission's kernel now, in ``box``: it boots while nbgrader sanitizes the notebook."""
    from jupyter_core.utils import run_sync

    from course.grading.provisioner import SandboxKernelManager
    km = SandboxKernelManager(kernel_name="python3")
    try:
        run_sync(km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=str(box.workdir),
                                  sandbox=box)
        return km
    except Exception:  # noqa: BLE001 - CheckedExecute starts one itself then
        _stop_kernel(km)
        return None


def _stop_kernel(km):
    if km is None:
        return
    from jupyter_core.utils import run_sync
    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)  # cleans up too
        else:
            run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001
        pass


import atexit  # noqa: E402

atexit.register(release_prepared_kernel)
atexit.register(remove_scratch_gradebooks)


def warm_up(preload=()):
    """A pool worker's start: it dies with the grader, ignores Ctrl-C (SIGINT reaches the whole
    process group; the grader alone handles it and stops its workers), imports what grading needs
    and starts its kernel zygote (which inherits the ignored SIGINT)."""
    import signal
    from multiprocessing import util
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    util.Finalize(None, release_prepared_kernel, exitpriority=100)  # pool workers skip atexit
    util.Finalize(None, remove_scratch_gradebooks, exitpriority=99)
    import nbgrader.apps  # noqa: F401
    import nbgrader.converters.autograde  # noqa: F401
    import nbgrader.converters.generate_feedback  # noqa: F401
    import course.grading.checked_execute  # noqa: F401
    from course.grading.sandbox import zygote
    zygote(preload)


def _die_with_parent():
    """A pool worker dies with the grader, even with a grader killed by SIGKILL (no orphan keeps
    grading); its zygote and kernels die with it in turn (zygote.py)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal
        parent = os.getppid()
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the grader died before prctl
            os._exit(1)
