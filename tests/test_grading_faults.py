"""Fault injection against the real grader: ``python -m course grade 01_activations --workers 2``.

Each fault disturbs a real run, started as a subprocess in a session of its own in a throw-away
course directory (source/, release/, utils/ and nbgrader_config.py linked from the repository).
After each fault:

* the final gradebook equals the undisturbed reference run's: the same ``auto_score`` per
  student and graded cell, read with nbgrader's ``Gradebook``; while a run is disturbed, what it
  recorded as graded already equals the reference, the rest stays queued (never a wrong 0);
* no process of the run is alive 10 s after it ended (a tag in the environment of the grader and
  its workers; the run's private TMPDIR in the command line of every zygote, keeper and kernel);
* every failure states its reason, and a rerun resumes (it grades only what is left).

The runs of ``faults_course`` form one chain, in this order: SIGTERM, Ctrl-C, kill -9 of the
grader, kill -9 of its process group, then a run in which one worker is killed, which must
complete. Each run checks that it resumed the previous one; each test also works alone (it
regrades with ``--force`` when too little is left to disturb). Where the grader's own process is
the subject (SIGTERM inside nbgrader, the database, the disk), runs grade with ``--workers 1``.

Covered elsewhere, not repeated: output floods, a kernel filling its /tmp, /dev/shm or working
directory (tests/test_grading_attacks.py ``test_floods_are_capped`` and the ``fill_tmp_and_shm``,
``fill_workdir`` attacks; tests/test_grading_isolation.py), a notebook cut short (tests/test_grading_parallel.py
``fay_corrupted``), linked submissions and a second run refused in-process
(tests/test_grading_job.py), a worker crashing on one submission every time
(tests/test_worker_crash.py), endless loops and dying kernels (tests/test_grading_attacks.py,
tests/test_grading_isolation.py).
"""
import csv
import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from course.check import scratch_course
from course.grading.inert import csv_cell, terminal_text
from course.grading.jobs import JobStore, run_lock
from course.submissions import partial, raising, reference, solution_ids, untouched, write_submission

ASG = "01_activations"
TIMEOUT = 10            # seconds per cell (no submission here loops)
GRACE = 10              # seconds a process of a run may outlive it
RUN_LIMIT = 240         # seconds any single run may take before the test gives up on it
TAG = "COURSE_FAULT_TAG"
pytestmark = pytest.mark.slow


# --- the class --------------------------------------------------------------------------------------
def class_notebooks():
    """The eight students of the fault courses: each with its own per-cell scores, so a swap shows."""
    ids = solution_ids(reference(ASG, ROOT))
    return {"ada": reference(ASG, ROOT), "ben": untouched(ASG, ROOT), "cy": partial(ASG, ids[:3], ROOT),
            "dot": raising(ASG, ids[4], ROOT), "eli": partial(ASG, ids[5:], ROOT), "fox": raising(ASG, ids[8], ROOT),
            "gus": partial(ASG, ids[5:8], ROOT), "hal": raising(ASG, ids[2], ROOT)}


ODD_IDS = {"with space": "cy", "zoë_ünï_名前": "dot", "-dash": "ada", "long_" + "y" * 195: "eli"}
DELETED = ("test_relu", "test_softmax")


def broken_notebooks():
    """``{student: notebook or raw text}``: invalid JSON, empty, nbformat 3, 60 MB, graded cells deleted."""
    v3 = nbformat.writes(nbformat.convert(reference(ASG, ROOT), 3), version=3)
    huge = reference(ASG, ROOT)
    first = next(c for c in huge.cells if c.cell_type == "code")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * (60 * 1024 * 1024))]
    deleted = reference(ASG, ROOT)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in DELETED]
    return {"bad_json": '{"cells": [', "empty": "", "v3": v3, "huge": huge, "deleted": deleted}


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """``submitted/`` of the class, written once: the eight, then odd ids and broken notebooks."""
    folder = tmp_path_factory.mktemp("class") / "submitted"
    notebooks = class_notebooks()
    for student, nb in notebooks.items():
        write_submission(nb, ASG, student, folder, ROOT)
    for student, like in ODD_IDS.items():
        write_submission(notebooks[like], ASG, student, folder, ROOT)
    for student, nb in broken_notebooks().items():
        write_submission(nb, ASG, student, folder, ROOT)
    return folder


def make_course(base, submitted_dir, students=None):
    """A course directory in ``base`` with the submissions of ``students`` (default: all)."""
    course = scratch_course(Path(base), ROOT)
    # `python -m course`, run in a folder holding an nbgrader_config.py, grades that course
    (course / "nbgrader_config.py").symlink_to(ROOT / "nbgrader_config.py")
    for student in students or sorted(os.listdir(submitted_dir)):
        shutil.copytree(Path(submitted_dir) / student, course / "submitted" / student)
    return course


def sqlite_url(course):
    return f"sqlite:///{course / 'gradebook.db'}"


def gradebook(db_url):
    """``{(student, notebook, grade_id): auto_score}`` of every submission of ASG (nbgrader's API)."""
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(db_url, "dl-workbook") as gb:
        try:
            subs = gb.find_assignment(ASG).submissions
        except MissingEntry:
            return out
        for sub in subs:
            for nb in sub.notebooks:
                for grade in nb.grades:
                    out[(sub.student.id, nb.name, grade.name)] = grade.auto_score
    return out


def jobs(db_url):
    """The job table: ``{student: {state, reason, checksum, attempts, updated}}``."""
    store = JobStore(db_url)
    try:
        return store.states(ASG)
    finally:
        store.close()


def of(scores, student):
    """One student's ``{(notebook, grade_id): auto_score}``."""
    return {k[1:]: v for k, v in scores.items() if k[0] == student}


# --- a run and its processes -----------------------------------------------------------------------
@dataclass
class Run:
    """One ``python -m course grade`` subprocess, with what identifies its processes."""

    proc: subprocess.Popen
    course: Path
    tmp: str                      # its private TMPDIR (in the command line of zygotes and kernels)
    log: Path
    shm: set = field(default_factory=set)   # /dev/shm scratch folders its processes were seen using
    left: list = field(default_factory=list)  # its scratch files found after it ended (then removed)
    ended: float = 0.0
    semaphores: set = field(default_factory=set)  # its process pools' named semaphores (in /dev/shm)

    @property
    def tag(self):
        return os.path.basename(self.tmp)

    def wait(self, limit=RUN_LIMIT):
        try:
            rc = self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            pytest.fail(f"the run did not end within {limit} s:\n{self.stderr[-3000:]}")
        self.ended = time.monotonic()
        return rc

    @property
    def stdout(self):
        return (self.log / "stdout").read_text(errors="replace")

    @property
    def stderr(self):
        return (self.log / "stderr").read_text(errors="replace")


def start(course, *args, db=None):
    """Start ``python -m course grade ASG --workers 2 ...`` in ``course``, in a session of its own."""
    tmp = tempfile.mkdtemp(prefix="cft-", dir="/tmp")   # short: zygote sockets live under it
    log = Path(tempfile.mkdtemp(prefix="log-", dir=course))
    env = dict(os.environ, TMPDIR=tmp, PYTHONUNBUFFERED="1")
    env[TAG] = os.path.basename(tmp)
    cmd = [sys.executable, "-m", "course", "grade", ASG, "--workers", "2", "--timeout", str(TIMEOUT), *args]
    if db:
        cmd += ["--db", db]
    with open(log / "stdout", "wb") as out, open(log / "stderr", "wb") as err:
        proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return Run(proc, Path(course), tmp, log)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def processes(run):
    """``{pid: command line}`` of the live (not zombie) processes of ``run``."""
    tag, tmp = f"{TAG}={run.tag}".encode(), run.tmp.encode()
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        stat = _read(f"/proc/{entry.name}/stat")
        if not stat or stat.rpartition(b")")[2].split()[:1] == [b"Z"]:
            continue  # gone, or dead and waiting for a parent to reap it
        cmdline = _read(f"/proc/{entry.name}/cmdline")
        if tmp in cmdline or tag in _read(f"/proc/{entry.name}/environ").split(b"\0"):
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")[:200]
    return found


def note_scratch(run):
    """Remember the /dev/shm scratch folders the run's processes use (working dirs and open files)."""
    from test_grading_distributed import scratch_folders

    run.shm |= scratch_folders(processes(run))
    for folder in run.shm:  # the names the grader listed for its reaper
        run.semaphores |= set(_read(f"{folder}/.semaphores").decode().split())


def children(pid):
    """Direct children of ``pid``."""
    kids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _read(f"/proc/{entry.name}/stat")
            if stat and int(stat.rpartition(b")")[2].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def assert_nothing_outlives(run, leaks=True):
    """No process of ``run`` is alive ``GRACE`` s after it ended; its scratch files are gone."""
    assert run.ended, "wait for the run first"
    deadline = run.ended + GRACE
    alive = processes(run)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = processes(run)
    assert not alive, f"processes of the run still alive {GRACE} s after it ended: {alive}"
    run.left = sorted(p for p in run.shm if os.path.exists(p)) + sorted(str(p) for p in Path(run.tmp).iterdir())
    for path in run.left + [run.tmp]:  # nothing of the run is alive: what it left can go
        shutil.rmtree(path, ignore_errors=True)
    assert not (leaks and run.left), f"scratch files of the run left behind: {run.left}"


def wait_graded(run, db_url, before):
    """Wait until the run has graded (or failed) at least one submission; returns those students."""
    deadline = time.monotonic() + RUN_LIMIT
    while time.monotonic() < deadline:
        note_scratch(run)
        if run.proc.poll() is not None:
            pytest.fail(f"the run ended (exit {run.proc.returncode}) before it could be disturbed:\n"
                        f"{run.stderr[-3000:]}")
        try:
            rows = jobs(db_url)
        except Exception:  # noqa: BLE001 - the gradebook is being created
            rows = {}
        done = [s for s, r in rows.items() if r["state"] in ("graded", "failed")
                and r["attempts"] > before.get(s, {}).get("attempts", 0)]
        if done:
            return done
        time.sleep(0.2)
    pytest.fail("nothing was graded in time")


def disturbable(db_url, need=3):
    """``--force`` when fewer than ``need`` submissions are left to grade (a test run on its own or last)."""
    try:
        left = [s for s, r in jobs(db_url).items() if r["state"] != "graded"]
    except Exception:  # noqa: BLE001 - no gradebook yet
        return []
    return [] if not jobs(db_url) or len(left) >= need else ["--force"]


_disturbed = []  # runs stopped or killed, for the scratch-space check


def lines(text):
    """The lines of a terminal transcript (tqdm redraws with carriage returns)."""
    return [line for line in re.split(r"[\r\n]+", text) if line.strip()]


def table_rows(stdout):
    """The rows of the score table ``course grade`` prints (after the ``(max)`` row, to the blank line)."""
    text = stdout.split("\n(max)", 1)[1].split("\n", 1)[1]
    return text.split("\n\n", 1)[0].splitlines()


def section(stdout, student):
    """The lines under ``student:`` in "Where points were lost"."""
    text = stdout.split("Where points were lost:\n", 1)[1].split("\n")
    rest = text[text.index(f"{terminal_text(student, 100)}:") + 1:]
    return rest[:next((i for i, line in enumerate(rest) if not line.startswith("  ")), len(rest))]


# --- the reference ----------------------------------------------------------------------------------
@dataclass
class Reference:
    course: Path
    run: Run
    scores: dict   # {(student, notebook, grade_id): auto_score}


@pytest.fixture(scope="module")
def ref(tmp_path_factory, submitted):
    """The undisturbed run of the whole class (the eight, odd ids, broken notebooks)."""
    course = make_course(tmp_path_factory.mktemp("reference"), submitted)
    run = start(course)
    assert run.wait() == 0, run.stderr[-3000:]
    assert_nothing_outlives(run)
    scores = gradebook(sqlite_url(course))
    students = set(class_notebooks()) | set(ODD_IDS) | set(broken_notebooks())
    assert {k[0] for k in scores} == students and len(scores) == 10 * len(students)
    vectors = [tuple(sorted(of(scores, s).items())) for s in class_notebooks()]
    assert len(set(vectors)) == len(vectors), "two students of the class score alike: a swap would not show"
    assert sum(of(scores, "ada").values()) == 14 and sum(of(scores, "ben").values()) == 0
    return Reference(course, run, scores)


def assert_partial_equals(db_url, ref):
    """What a disturbed run left: graded rows equal the reference; the others are queued, running
    (in a worker's hands when the run was killed), or failed with a reason; none is graded wrongly."""
    rows, scores = jobs(db_url), gradebook(db_url)
    for student, row in rows.items():
        assert row["state"] in ("graded", "queued", "running", "failed"), (student, row)
        if row["state"] == "graded":
            assert of(scores, student) == of(ref.scores, student), student
        elif row["state"] == "failed":
            assert row["reason"], (student, row)
    return rows


# --- SIGTERM, Ctrl-C, kill -9, a killed worker: one chain on one course -------------------------------
_disturbed = []  # runs stopped or killed, for the scratch-space check


@pytest.fixture(scope="module")
def faults_course(tmp_path_factory, submitted):
    return make_course(tmp_path_factory.mktemp("faults"), submitted, list(class_notebooks()))


def disturb(course, fault, *extra, need=3):
    """Start a run, check it resumed the previous one, let it grade one submission, then ``fault(run)``."""
    db = sqlite_url(course)
    before = jobs(db) if (course / "gradebook.db").exists() else {}
    args = disturbable(db, need)
    run = start(course, *args, *extra)
    wait_graded(run, db, before)
    kept = [s for s, r in before.items() if r["state"] == "graded"]
    if kept and not args:  # it resumed: the notice comes before any grading
        assert f"resuming: {len(kept)} of {len(class_notebooks())} submission(s) already graded" in run.stdout
    fault(run)
    return run


def assert_stopped_cleanly(run, signum, ref):
    """The run ended 128 + signum within GRACE s, saying in one line how to resume; nothing outlives it."""
    rc = run.wait(GRACE)
    err = run.stderr
    assert rc == 128 + signum, err[-3000:]
    said = [line for line in lines(err) if "stopped (" in line]
    assert len(said) == 1 and said[0].startswith("stopped (") and "run the same command again" in said[0], err
    assert "Traceback" not in err, err[-3000:]
    assert_nothing_outlives(run, leaks=False)  # see test_nothing_is_left_in_scratch_space_after_a_stop_or_kill
    _disturbed.append(run)
    rows = assert_partial_equals(sqlite_url(run.course), ref)
    queued = [r for r in rows.values() if r["state"] == "queued"]
    assert queued and all(r["reason"] == "the run stopped before this submission was graded" for r in queued), rows
    assert "running" not in {r["state"] for r in rows.values()}, rows  # a clean stop puts them back in the queue


def inside_nbgrader(run):
    """Wait until the grader's process is inside nbgrader's conversion of a submission (it works in
    the submission's scratch folder then)."""
    deadline = time.monotonic() + RUN_LIMIT
    while "/course-grade-" not in os.path.realpath(f"/proc/{run.proc.pid}/cwd"):
        assert run.proc.poll() is None and time.monotonic() < deadline, run.stderr[-3000:]
        time.sleep(0.02)


def test_sigterm_stops_saves_and_says_how_to_resume(faults_course, ref):
    # graded in the grader's own process, the stop arrives while nbgrader grades the next submission:
    # nbgrader's API catches whatever is raised there (Ctrl-C below stops a pool of workers)
    def fault(run):
        inside_nbgrader(run)
        os.kill(run.proc.pid, signal.SIGTERM)
    run = disturb(faults_course, fault, "--workers", "1")
    assert_stopped_cleanly(run, signal.SIGTERM, ref)


def test_ctrl_c_on_the_process_group_stops_saves_and_says_how_to_resume(faults_course, ref):
    # a terminal's Ctrl-C sends SIGINT to the whole foreground process group: grader, workers, zygotes
    run = disturb(faults_course, lambda r: os.killpg(r.proc.pid, signal.SIGINT))
    assert_stopped_cleanly(run, signal.SIGINT, ref)


def test_a_stop_inside_nbgrader_stops_the_run_and_stores_no_grade(tmp_path, submitted, monkeypatch):
    """nbgrader's API catches whatever is raised while it grades (``capture_log``): a SIGTERM that
    arrives there still stops the run, and that submission stays queued, never stored as a 0.
    (In the grader's process, so that the signal lands inside nbgrader every time.)"""
    from nbgrader.preprocessors import LimitOutput

    from course.grading import engine, grade_assignment

    course = make_course(tmp_path, submitted, ["ada", "ben"])
    preprocess = LimitOutput.preprocess

    def signalled(self, nb, resources):  # runs inside nbgrader's autograde of ben's notebook
        if resources["nbgrader"]["student"] == "ben":
            os.kill(os.getpid(), signal.SIGTERM)
        return preprocess(self, nb, resources)
    monkeypatch.setattr(LimitOutput, "preprocess", signalled)
    previous = signal.signal(signal.SIGTERM, engine.stop_on_signal)
    try:
        with pytest.raises(engine.GradingStopped):
            grade_assignment(ASG, course, workers=1, timeout=TIMEOUT, feedback=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert {s: r["state"] for s, r in jobs(sqlite_url(course)).items()} == {"ada": "graded", "ben": "queued"}
    assert {k[0] for k in gradebook(sqlite_url(course))} == {"ada"}


def assert_killed_leaves_no_process(run, ref):
    assert run.wait(GRACE) == -signal.SIGKILL
    assert_nothing_outlives(run, leaks=False)  # see test_nothing_is_left_in_scratch_space_after_a_stop_or_kill
    # the pool's named semaphores: its resource tracker may have died with it; the reaper unlinks them
    assert run.semaphores, "the run listed no semaphore for its reaper"
    left = lambda: [n for n in run.semaphores if os.path.exists(f"/dev/shm/sem.{n}")]  # noqa: E731
    deadline = time.monotonic() + GRACE
    while left() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left(), left()
    _disturbed.append(run)
    rows = assert_partial_equals(sqlite_url(run.course), ref)
    states = {r["state"] for r in rows.values()}
    assert "failed" not in states and states != {"graded"}, rows  # whether any is still queued is timing
    # what the workers had in hand stays "running"; `course status` shows it as stopped (no run holds the lock)
    running = sorted(s for s, r in rows.items() if r["state"] == "running")
    assert running, rows
    status = subprocess.run([sys.executable, "-m", "course", "status", ASG], cwd=run.course, capture_output=True,
                            text=True, timeout=120)
    shown = [line.split() for line in status.stdout.splitlines()[1:]]
    assert sorted(line[0] for line in shown if line[1] == "stopped") == running, status.stdout


def test_kill_9_of_the_grader_leaves_no_process(faults_course, ref):
    run = disturb(faults_course, lambda r: os.kill(r.proc.pid, signal.SIGKILL), need=4)
    assert_killed_leaves_no_process(run, ref)


def test_kill_9_of_the_process_group_leaves_no_process(faults_course, ref):
    run = disturb(faults_course, lambda r: os.killpg(r.proc.pid, signal.SIGKILL), need=4)
    assert_killed_leaves_no_process(run, ref)


def kill_a_worker(run):
    workers = [p for p in children(run.proc.pid) if b"spawn_main" in _read(f"/proc/{p}/cmdline")]
    assert len(workers) == 2, processes(run)
    os.kill(workers[0], signal.SIGKILL)


def test_a_worker_killed_mid_run_costs_a_retry_and_the_run_completes(faults_course, ref):
    """The last run of the chain: it resumes, loses a worker (its submission is graded again) and
    ends with the reference gradebook."""
    run = disturb(faults_course, kill_a_worker)
    assert run.wait() == 0, run.stderr[-3000:]
    assert "crashed" not in run.stdout + run.stderr and "Traceback" not in run.stderr
    assert_nothing_outlives(run, leaks=False)
    _disturbed.append(run)
    db = sqlite_url(faults_course)
    assert {s: r["state"] for s, r in jobs(db).items()} == dict.fromkeys(class_notebooks(), "graded")
    assert gradebook(db) == {k: v for k, v in ref.scores.items() if k[0] in class_notebooks()}


def test_nothing_is_left_in_scratch_space_after_a_stop_or_kill():
    if not _disturbed:
        pytest.skip("runs after the stop and kill tests of this module")
    left = {run.tag: run.left for run in _disturbed if run.left}
    assert not left, left


# --- two runs at once ---------------------------------------------------------------------------------
def waiting_for_lock(pid):
    """True when ``pid`` is blocked waiting for a file lock (a ``->`` line of /proc/locks)."""
    return any(line.split()[1:2] == ["->"] and line.split()[5:6] == [str(pid)]
               for line in Path("/proc/locks").read_text().splitlines())


def test_a_second_run_is_refused_on_the_command_line_and_waits_with_wait(faults_course):
    """(Refused in-process: tests/test_grading_job.py; here the command's message and --wait.)"""
    with run_lock(faults_course, ASG):
        refused = start(faults_course)
        assert refused.wait() == 2
        assert_nothing_outlives(refused)
        said = [line for line in lines(refused.stderr) if "error:" in line]
        assert len(said) == 1 and said[0].startswith("error: another `course grade 01_activations` is running") \
            and "--wait" in said[0], refused.stderr
        waiting = start(faults_course, "--wait")
        deadline = time.monotonic() + RUN_LIMIT
        while not waiting_for_lock(waiting.proc.pid) and waiting.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert waiting.proc.poll() is None and waiting_for_lock(waiting.proc.pid), waiting.stderr
    assert waiting.wait() == 0, waiting.stderr[-3000:]
    assert_nothing_outlives(waiting)


# --- broken notebooks and odd student ids (graded in the reference run) ------------------------------
def test_broken_notebooks_fail_alone_with_a_reason(ref):
    db, ada = sqlite_url(ref.course), of(ref.scores, "ada")
    rows = jobs(db)
    assert {r["state"] for r in rows.values()} == {"graded"}
    for student in ("bad_json", "empty"):  # nothing runs: every cell 0, the reason stated
        assert set(of(ref.scores, student).values()) == {0.0}, student
        assert "not valid JSON" in rows[student]["reason"], rows[student]
        assert section(ref.run.stdout, student)[0].startswith("  whole submission: 01_activations.ipynb is not valid")
    assert of(ref.scores, "v3") == ada  # nbformat 3 is upgraded, as nbgrader does
    assert of(ref.scores, "huge") == ada  # the 60 MB of old output are replaced when the notebook runs
    assert (ref.course / "autograded" / "huge" / ASG / f"{ASG}.ipynb").stat().st_size < 5 * 2**20
    assert (ref.course / "feedback" / "huge" / ASG / f"{ASG}.html").stat().st_size < 5 * 2**20
    lost = {k: v for k, v in of(ref.scores, "deleted").items() if v != ada[k]}
    # a deleted graded cell earns nothing (nbgrader leaves it without an auto score, for a person to
    # grade), the others as before
    assert set(lost) == {(ASG, g) for g in DELETED} and not any(lost.values()), lost
    said = section(ref.run.stdout, "deleted")  # each deleted cell on a line of its own, with a reason
    assert len(said) == 2 and all(re.fullmatch(rf"  {g} \(0/\d+\): \S.*", line) for g, line in zip(DELETED, said)), said
    # the others are not disturbed: the class graded without these notebooks (the fault and database
    # courses) ends with the scores this run gave them


def test_odd_student_ids_are_graded_and_shown_intact(ref):
    for student, like in ODD_IDS.items():
        assert of(ref.scores, student) == of(ref.scores, like), student
    rows = table_rows(ref.run.stdout)
    assert len(rows) == len({k[0] for k in ref.scores})
    for student, like in ODD_IDS.items():  # one row each, the whole id (a long one is never cut)
        row = [r for r in rows if r.startswith(terminal_text(student, 1000) + " ")]
        total = re.search(r" (\S+)/14 ", row[0]) if len(row) == 1 else None
        assert total and float(total.group(1)) == sum(of(ref.scores, like).values()), (student, rows)
    assert all(line.isprintable() for line in rows)
    with open(ref.course / "reports" / f"{ASG}_grades.csv", newline="", encoding="utf-8") as f:
        csv_rows = {r["student"]: r for r in csv.DictReader(f)}
    assert len(csv_rows) == len(rows)
    for student, like in ODD_IDS.items():  # the whole id; '-dash' as "'-dash": no spreadsheet runs it as a formula
        assert float(csv_rows[csv_cell(student)]["score"]) == sum(of(ref.scores, like).values()), student


# --- the database stops mid-run ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server that a test may stop and start again: ``(url, stop, start)``."""
    from test_grading_distributed import postgres_server

    with postgres_server("faults") as server:
        yield server


@pytest.mark.postgres
def test_database_stopped_mid_run_ends_it_saying_what_was_saved(tmp_path_factory, submitted, postgres, ref):
    url, stop_server, start_server = postgres
    students = ["ada", "ben", "cy"]  # the database stops once one is saved, with two to go
    course = make_course(tmp_path_factory.mktemp("db"), submitted, students)
    run = start(course, "--workers", "1", db=url)  # the writer is the subject: the cheaper executor
    wait_graded(run, url, {})
    stop_server()
    try:
        rc = run.wait()
    finally:
        start_server()
    err = run.stderr
    assert rc not in (0, -signal.SIGKILL) and "Traceback" not in err, err[-3000:]
    said = [line for line in lines(err) if "database" in line]
    assert len(said) == 1 and said[0].startswith("error: the gradebook database stopped answering"), err[-3000:]
    assert_nothing_outlives(run, leaks=False)
    rows = assert_partial_equals(url, ref)
    saved = sorted(s for s, r in rows.items() if r["state"] == "graded")
    listed = re.search(r"saved in this run: (.*?); .*not saved: (.*?); run the same command again", said[0])
    assert listed and saved and listed.group(1).split(", ") == saved, (saved, said[0])
    assert sorted(listed.group(2).split(", ")) == sorted(set(students) - set(saved)), said[0]

    rerun = start(course, "--workers", "1", db=url)
    assert rerun.wait() == 0, rerun.stderr[-3000:]
    assert f"resuming: {len(saved)} of {len(students)}" in rerun.stdout
    assert_nothing_outlives(rerun)
    assert gradebook(url) == {k: v for k, v in ref.scores.items() if k[0] in students}


@pytest.mark.postgres
def test_database_restarted_mid_run_is_ridden_out(tmp_path_factory, submitted, postgres, ref):
    """A restart (a few seconds down) costs retries with backoff, not grades: the run completes."""
    url, stop_server, start_server = postgres
    students = ["dot", "eli", "fox", "gus"]  # (not the students of the test above: same database)
    course = make_course(tmp_path_factory.mktemp("db-restart"), submitted, students)
    run = start(course, "--workers", "1", db=url)
    wait_graded(run, url, jobs(url))
    stop_server()
    time.sleep(1)
    start_server()
    assert run.wait() == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "database" not in run.stderr, run.stderr[-3000:]
    assert_nothing_outlives(run)
    assert {s: r["state"] for s, r in jobs(url).items() if s in students} == dict.fromkeys(students, "graded")
    assert {k: v for k, v in gradebook(url).items() if k[0] in students} == \
        {k: v for k, v in ref.scores.items() if k[0] in students}


# --- the disk fills up ------------------------------------------------------------------------------
@contextmanager
def small_tmpfs(path, size):
    """A tmpfs of ``size`` mounted on ``path`` (skips where mounting is not permitted)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=755", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(folder):
    """Fill the file system of ``folder`` to the last byte; returns the filler file."""
    filler = folder / ".filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (65536, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as err:
                assert err.errno == errno.ENOSPC
    return filler


def tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_full_disk_keeps_the_good_files_and_a_rerun_completes(ref):
    """autograded/ of the reference course on a full tmpfs: a forced regrade of two students fails
    with the reason and leaves their good files as they were; with space again, a rerun completes.
    (The writer is the subject, so the submissions are graded in the grader's own process.)"""
    students = ["ada", "cy"]
    db = sqlite_url(ref.course)
    autograded = ref.course / "autograded"
    good = {s: tree(autograded / s) for s in students}
    with small_tmpfs(autograded, "4m"):
        for s, files in good.items():  # the good files, now on the small file system
            for rel, data in files.items():
                (autograded / s / rel).parent.mkdir(parents=True, exist_ok=True)
                (autograded / s / rel).write_bytes(data)
        filler = fill(autograded)
        full = start(ref.course, "--force", "--workers", "1", "--students", *students)
        assert full.wait() == 1, full.stderr[-3000:]
        assert_nothing_outlives(full)
        rows = jobs(db)
        assert all(rows[s]["state"] == "failed" and "No space left on device" in rows[s]["reason"]
                   for s in students), rows
        assert all(f"  {s}: grades stored, but" in full.stderr for s in students), full.stderr[-3000:]
        filler.unlink()
        assert {s: tree(autograded / s) for s in students} == good  # nothing partial replaced a good file
        assert not list(autograded.rglob(".*")), "half-written folders left behind"

        rerun = start(ref.course, "--workers", "1", "--students", *students)
        assert rerun.wait() == 0, rerun.stderr[-3000:]
        assert_nothing_outlives(rerun)
        assert all(jobs(db)[s]["state"] == "graded" for s in students)
        assert {s: sorted(tree(autograded / s)) for s in students} == {s: sorted(good[s]) for s in students}
    assert gradebook(db) == ref.scores
