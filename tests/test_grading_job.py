"""A grading run is a durable job: states per submission, resume, --force, checksums, one run at a time,
missing students refused, links never followed. Uses a two-function assignment so each run is quick."""
import os
import threading

import nbformat
import pytest

from course.grading import grade_assignment
from course.grading.jobs import JobStore, run_lock
from course.paths import CourseError
from course.submissions import write_submission

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from benchmarks.grading import tiny_assignment
    from course.build import generate_release

    root = tmp_path_factory.mktemp("jobcourse")
    tiny_assignment(root / "source" / "tiny")
    (root / "submitted").mkdir()
    generate_release("tiny", root, db_url=f"sqlite:///{root / 'release.db'}")
    src = nbformat.read(str(root / "source" / "tiny" / "tiny.ipynb"), as_version=4)
    for student in ("ann", "bob", "cat"):
        write_submission(nbformat.from_dict(src), "tiny", student, root / "submitted", root)
    return root


def states(root):
    store = JobStore(f"sqlite:///{root / 'gradebook.db'}")
    try:
        return {s: r["state"] for s, r in store.states("tiny").items()}
    finally:
        store.close()


def test_states_resume_force_and_changed_files(course):
    first = grade_assignment("tiny", course, timeout=10, feedback=False)
    assert [r.score for r in first] == [r.max_score for r in first] and first[0].max_score > 0
    assert states(course) == {"ann": "graded", "bob": "graded", "cat": "graded"}

    notes = []
    again = grade_assignment("tiny", course, timeout=10, feedback=False, notice=notes.append)
    assert [r.score for r in again] == [r.score for r in first]  # read back, not regraded
    assert notes and "3 of 3 submission(s) already graded" in notes[0]

    nb_path = course / "submitted" / "bob" / "tiny" / "tiny.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells[2].source = "def hyp(a, b):\n    return a + b"
    nbformat.write(nb, str(nb_path))
    graded = []
    changed = grade_assignment("tiny", course, timeout=10, feedback=False, progress=graded.append)
    assert [r.student for r in graded] == ["bob"]  # only the changed submission
    assert {r.student: r.score for r in changed}["bob"] < first[1].score

    graded.clear()
    grade_assignment("tiny", course, timeout=10, feedback=False, progress=graded.append, force=True)
    assert sorted(r.student for r in graded) == ["ann", "bob", "cat"]


def test_a_submission_is_running_while_a_worker_has_it(course, monkeypatch):
    from course.grading import engine

    seen, real = {}, engine.grade_one

    def spy(job, template):  # the grader's view of the job while this submission is being graded
        seen[job["student"]] = {s: states(course)[s] for s in ("ann", "bob", "cat")}
        return real(job, template)
    monkeypatch.setattr(engine, "grade_one", spy)
    grade_assignment("tiny", course, students=["ann", "bob", "cat"], timeout=10, feedback=False, force=True)
    assert seen == {"ann": {"ann": "running", "bob": "queued", "cat": "queued"},
                    "bob": {"ann": "graded", "bob": "running", "cat": "queued"},
                    "cat": {"ann": "graded", "bob": "graded", "cat": "running"}}
    assert states(course)["cat"] == "graded"


def test_kernels_that_cannot_start_fail_the_run_and_record_no_grade(course):
    """A kernel that never starts is the grader's failure (here: a memory limit too small for any
    kernel): failed with the reason, never a 0 in the gradebook; a rerun grades them."""
    from nbgrader.api import Gradebook

    from course.grading.sandbox import MB, Limits

    def scores():
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dl-workbook") as gb:
            return {s: gb.find_submission("tiny", s).score for s in ("ann", "bob")}
    grade_assignment("tiny", course, students=["ann", "bob"], timeout=10, feedback=False)
    before = scores()
    assert all(before.values())
    failed = grade_assignment("tiny", course, students=["ann", "bob"], timeout=10, feedback=False, force=True,
                              limits=Limits(memory=48 * MB))
    assert [r.status for r in failed] == ["failed", "failed"], [(r.student, r.error) for r in failed]
    assert all(r.error.startswith("the kernel could not start") for r in failed), [r.error for r in failed]
    assert states(course)["ann"] == states(course)["bob"] == "failed"
    assert scores() == before  # nothing recorded as if graded
    again = grade_assignment("tiny", course, students=["ann", "bob"], timeout=10, feedback=False)
    assert [r.status for r in again] == ["graded", "graded"] and scores() == before



def test_a_provisioner_jupyter_client_cannot_find_fails_the_run_and_records_no_grade(course, monkeypatch):
    """The kernel spec names a provisioner this Python has no entry point for (a course run from a checkout
    never installed): jupyter_client raises ModuleNotFoundError, not RuntimeError, at every kernel start.
    The grader's failure, with the reason, never a 0 for every student."""
    from nbgrader.api import Gradebook

    from course.grading import provisioner

    def scores():
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dl-workbook") as gb:
            return {s: gb.find_submission("tiny", s).score for s in ("ann", "bob")}
    grade_assignment("tiny", course, students=["ann", "bob"], timeout=10, feedback=False)
    before = scores()
    assert all(before.values())
    monkeypatch.setattr(provisioner, "PROVISIONER", "course-sandbox-not-installed")
    failed = grade_assignment("tiny", course, students=["ann", "bob"], timeout=10, feedback=False, force=True)
    assert [r.status for r in failed] == ["failed", "failed"], [(r.student, r.error) for r in failed]
    assert all(r.error.startswith("the kernel could not start") and "not been registered" in r.error
               for r in failed), [r.error for r in failed]
    assert scores() == before

def test_a_submission_of_too_many_files_scores_0_with_the_reason(course):
    """The kernel's working directory is a capped tmpfs (4 KB at least per file): a submission whose
    files do not fit there is its own problem (0, with the reason), never a grader failure."""
    import shutil

    from course.grading.sandbox import MB, Limits

    folder = course / "submitted" / "dan" / "tiny"
    shutil.copytree(course / "submitted" / "ann" / "tiny", folder)
    for i in range(3000):  # 12 MB of pages, 3 KB of content
        (folder / f"f{i}.txt").write_text("x")
    try:
        [result] = grade_assignment("tiny", course, students=["dan"], timeout=10, feedback=False,
                                    limits=Limits(workdir_size=8 * MB))
    finally:
        shutil.rmtree(course / "submitted" / "dan")
    assert result.status == "graded" and result.score == 0, (result.status, result.error)
    assert "do not fit in the kernel's working directory" in result.error, result.error


def test_a_missing_student_folder_changes_nothing(course):
    (course / "autograded" / "ann").mkdir(parents=True, exist_ok=True)
    before = sorted(p.name for p in (course / "autograded").iterdir())
    with pytest.raises(CourseError, match="nobody"):
        grade_assignment("tiny", course, students=["ann", "nobody"], timeout=10, feedback=False)
    assert sorted(p.name for p in (course / "autograded").iterdir()) == before


def test_a_second_run_is_refused_while_one_holds_the_lock(course):
    with run_lock(course, "tiny"):
        with pytest.raises(CourseError, match="--wait"):
            grade_assignment("tiny", course, timeout=10, feedback=False)
        released = threading.Timer(0.5, lambda: None)
        released.start()
    # released: a new run goes ahead
    grade_assignment("tiny", course, timeout=10, feedback=False)


def test_a_status_probe_holding_the_lock_briefly_does_not_refuse_a_run(tmp_path):
    """`course status` takes the lock shared for an instant: a run starting then is not refused."""
    import fcntl

    with run_lock(tmp_path, "tiny"):
        pass
    fd = os.open(tmp_path / ".course" / "grade-tiny.lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    threading.Timer(0.1, os.close, (fd,)).start()  # the probe lets go a moment later
    with run_lock(tmp_path, "tiny"):
        pass
    fd = os.open(tmp_path / ".course" / "grade-tiny.lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)  # held for good: a run is refused
    try:
        with pytest.raises(CourseError, match="--wait"):
            with run_lock(tmp_path, "tiny"):
                pass
    finally:
        os.close(fd)


def test_a_linked_notebook_is_never_followed(course, tmp_path):
    secret = tmp_path / "secret.ipynb"
    secret.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    os.chmod(secret, 0o600)
    folder = course / "submitted" / "eve" / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.ipynb").symlink_to(secret)
    (folder / "notes.txt").symlink_to("/etc/hostname")
    [result] = grade_assignment("tiny", course, students=["eve"], timeout=10, feedback=False)
    assert result.score == 0 and "link" in result.error
    assert not (course / "autograded" / "eve" / "tiny" / "notes.txt").exists()


def test_an_oversized_submission_is_not_read(course):
    from course.grading.sandbox import Limits

    folder = course / "submitted" / "max" / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.ipynb").write_bytes((course / "submitted" / "ann" / "tiny" / "tiny.ipynb").read_bytes())
    (folder / "dump.bin").write_bytes(b"x" * 4000)
    limit = (folder / "tiny.ipynb").stat().st_size + 1000
    [result] = grade_assignment("tiny", course, students=["max"], timeout=10, feedback=False,
                                limits=Limits(submission=limit))
    assert result.score == result.max_score  # the notebook fits and is graded
    assert any("dump.bin" in line and "exceed" in line for _, lines in result.problems for line in lines)
    assert not (course / "autograded" / "max" / "tiny" / "dump.bin").exists()
    [result] = grade_assignment("tiny", course, students=["max"], timeout=10, feedback=False, force=True,
                                limits=Limits(submission=100))
    assert result.score == 0 and "not read" in result.error


def test_a_resumed_run_keeps_the_reason_of_an_earlier_failure(course):
    folder = course / "submitted" / "zed" / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.ipynb").write_text('{"cells": [')
    [first] = grade_assignment("tiny", course, students=["zed"], timeout=10, feedback=False)
    [again] = grade_assignment("tiny", course, students=["zed"], timeout=10, feedback=False)  # resumed, not regraded
    assert "not valid JSON" in first.error and again.error == first.error and again.score == 0


def test_course_status_shows_the_job(course, capsys):
    from course.cli import main

    grade_assignment("tiny", course, timeout=10, feedback=False)
    store = JobStore(f"sqlite:///{course / 'gradebook.db'}")
    try:
        store.mark("tiny", ["cat"], "failed", "the Dask task failed: lost worker")
    finally:
        store.close()
    assert main(["status", "tiny", "--db", f"sqlite:///{course / 'gradebook.db'}"]) == 0
    out = capsys.readouterr().out
    assert "1 failed" in out and "graded" in out
    assert "cat" in out and "lost worker" in out and "ann " not in out  # only what is not graded

    # a submission left "running" by a run that was killed is shown as stopped, unless a run is on
    store = JobStore(f"sqlite:///{course / 'gradebook.db'}")
    try:
        store.mark("tiny", ["bob"], "running")
    finally:
        store.close()
    status = ["--root", str(course), "status", "tiny", "--db", f"sqlite:///{course / 'gradebook.db'}"]
    assert main(status) == 0
    bob = [line for line in capsys.readouterr().out.splitlines() if "bob" in line]
    assert len(bob) == 1 and "stopped" in bob[0] and "a rerun grades it" in bob[0], bob
    with run_lock(course, "tiny"):
        assert main(status) == 0
    bob = [line for line in capsys.readouterr().out.splitlines() if "bob" in line]
    assert len(bob) == 1 and " running " in bob[0], bob
