"""A grading run as a durable job: one state row per submission, in the course's own gradebook.

States: ``queued`` (will be graded), ``running`` (handed to a worker), ``graded`` (its scores are
in the gradebook; a broken notebook is graded too, with 0 and its reason), ``failed`` (the grader
could not grade it: a worker crash, a lost Dask task, the database; the reason says which).
Each change is committed before it is reported. A rerun grades only what is not ``graded`` or
whose files changed since (``checksum``); ``force`` regrades everything.

The table lives beside nbgrader's in the gradebook database (SQLite or any SQLAlchemy URL), so the
job and the grades it describes are backed up, moved and restored together. Transient database
errors are retried with backoff.
"""
import datetime
import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.exc import OperationalError

from course.paths import CourseError

STATES = ("queued", "running", "graded", "failed")
_metadata = MetaData()
JOBS = Table(
    "course_grading_job", _metadata,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("checksum", String(64), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("updated", String(32), nullable=False),
)


def checksum(files):
    """SHA-256 of a submission's files (relative path -> bytes), independent of their order."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def retrying(fn, attempts=6, first_wait=0.25):
    """Run ``fn()``; a transient database error (locked, connection lost) is retried with backoff."""
    wait = first_wait
    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(wait)
            wait *= 2


class JobStore:
    """The job rows of one gradebook."""

    def __init__(self, db_url):
        self.engine = create_engine(db_url, future=True)
        retrying(lambda: _metadata.create_all(self.engine))

    def close(self):
        self.engine.dispose()

    def states(self, assignment):
        """``{student: row}`` (rows have ``state``, ``reason``, ``checksum``, ``attempts``, ``updated``)."""
        def read():
            with self.engine.connect() as conn:
                rows = conn.execute(select(JOBS).where(JOBS.c.assignment == assignment)).mappings().all()
            return {r["student"]: dict(r) for r in rows}
        return retrying(read)

    def mark(self, assignment, students, state, reason="", checksums=None, attempt=False):
        """Set the state of ``students`` in one transaction (committed when this returns)."""
        assert state in STATES
        students = list(students)
        if not students:
            return

        def write():
            with self.engine.begin() as conn:
                old = {r.student: r for r in conn.execute(
                    select(JOBS.c.student, JOBS.c.attempts, JOBS.c.checksum).where(
                        JOBS.c.assignment == assignment, JOBS.c.student.in_(students)))}
                for s in students:
                    values = {"state": state, "reason": str(reason)[:2000], "updated": _now()}
                    if checksums is not None:
                        values["checksum"] = checksums.get(s, "")
                    prev = old.get(s)
                    values["attempts"] = (prev.attempts if prev else 0) + (1 if attempt else 0)
                    if prev is None:
                        values.setdefault("checksum", "")
                        conn.execute(JOBS.insert().values(assignment=assignment, student=s, **values))
                    else:
                        conn.execute(JOBS.update().where(JOBS.c.assignment == assignment, JOBS.c.student == s)
                                     .values(**values))
        retrying(write)


def to_grade(previous, checksums, force=False):
    """Students whose submission must be graded: not graded yet, changed since, or ``force``."""
    return [s for s, digest in checksums.items()
            if force or s not in previous or previous[s]["state"] != "graded" or previous[s]["checksum"] != digest]


def run_active(root, assignment):
    """True while a grading run of ``assignment`` holds the course's lock (see :func:`run_lock`)."""
    path = Path(root) / ".course" / f"grade-{assignment}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:  # not ours to read: say nothing is known to have ended
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _lock_exclusive(fd, wait, patience=0.5):
    """Take ``fd``'s exclusive lock; without ``wait``, BlockingIOError if it stays taken for
    ``patience`` seconds (`course status` holds a shared lock for microseconds: not a run)."""
    if wait:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def run_lock(root, assignment, wait=False):
    """One grading run per assignment and course at a time (a lock file the kernel releases when
    the process dies, even by SIGKILL). Raises CourseError if taken, unless ``wait``."""
    folder = Path(root) / ".course"
    folder.mkdir(exist_ok=True)
    path = folder / f"grade-{assignment}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # readable: `course status` asks whether a run is on
    try:
        try:
            _lock_exclusive(fd, wait)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise CourseError(f"another `course grade {assignment}` is running ({holder}); "
                              "wait for it, or add --wait to start when it ends") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_now()}".encode(), 0)
        yield
    finally:
        os.close(fd)
