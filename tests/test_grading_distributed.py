"""Grading over a real Dask cluster into a real PostgreSQL gradebook gives the local scores.

The fixtures start, on 127.0.0.1, a throw-away PostgreSQL 15 server (initdb + pg_ctl as the
``postgres`` user, trust authentication) and a Dask scheduler with two single-threaded workers
(the ``dask`` CLI), and stop them cleanly afterwards (PID 1 here does not reap orphans). Where
PostgreSQL or root is missing, the PostgreSQL test skips and says why.
"""
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT

from benchmarks import grading_scale as scale_benchmark
from course.grading import grade_assignment
from course.submissions import corrupted_text, partial, reference, solution_ids, untouched, write_submission

ASG = "01_activations"
TIMEOUT = 10
pytestmark = pytest.mark.slow


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def postgres_missing():
    if pg_bin() is None:
        return "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb; run `make system-deps`)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no 'postgres' system user to run the server as"
    if os.geteuid() != 0:
        return "starting a throw-away PostgreSQL server needs root (to run it as the postgres user)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    return ""


@contextlib.contextmanager
def postgres_server(database):
    """A throw-away PostgreSQL server with ``database``; yields ``(url, stop, start)`` (stop and
    start it again: the fault tests). Skips the test when it cannot run here."""
    why = postgres_missing()
    if why:
        pytest.skip(why)
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    os.chmod(base, 0o755)
    shutil.chown(base, "postgres", "postgres")
    data, port = base / "pg", scale_benchmark.free_port()
    # runuser lives in /usr/sbin, which a non-login shell's PATH may lack
    runuser = shutil.which("runuser", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    as_pg = [runuser or "runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [str(pg_bin() / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    ctl = as_pg + [str(pg_bin() / "pg_ctl"), "-D", str(data)]

    def start():
        subprocess.run(ctl + ["-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "-l", str(base / "log"),
                              "-w", "start"], check=True, capture_output=True)

    def stop():
        subprocess.run(ctl + ["-m", "fast", "-w", "stop"], check=True, capture_output=True)

    start()
    try:
        import psycopg
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}", stop, start
    finally:
        subprocess.run(ctl + ["-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server("gradebook") as (url, _, _):
        yield url


@contextlib.contextmanager
def dask_cluster(work, threads, nanny=True):
    """The benchmark's Dask cluster (a scheduler, one worker per entry of ``threads``); skips the
    test when Dask is not installed."""
    pytest.importorskip("distributed")
    with scale_benchmark.dask_cluster(work, threads, nanny) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    # one worker grades two submissions at once, in two threads
    with dask_cluster(tmp_path_factory.mktemp("dask"), ("2", "1")) as (address, _):
        yield address


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from course.check import scratch_course

    c = scratch_course(tmp_path_factory.mktemp("distributed"), ROOT)
    ids = solution_ids(reference(ASG, ROOT))
    cases = {"ref": reference(ASG, ROOT), "none": untouched(ASG, ROOT), "half": partial(ASG, ids[:5], ROOT),
             "broken": corrupted_text(ASG, ROOT)}
    for student, nb in cases.items():
        write_submission(nb, ASG, student, c / "submitted", ROOT)
    return c


@pytest.fixture(scope="module")
def local_scores(course):
    results = grade_assignment(ASG, course, timeout=TIMEOUT, feedback=False, workers=2)
    return {(r.student, c.grade_id): c.score for r in results for c in r.cells}


def scores(results):
    return {(r.student, c.grade_id): c.score for r in results for c in r.cells}


@pytest.mark.dask
def test_dask_cluster_gives_local_scores(course, local_scores, dask_scheduler):
    results = grade_assignment(ASG, course, timeout=TIMEOUT, feedback=True, executor="dask", scheduler=dask_scheduler,
                               db_url=f"sqlite:///{course / 'dask.db'}")
    assert scores(results) == local_scores
    assert {r.student: r.score for r in results}["ref"] == 14
    assert (course / "feedback" / "half" / ASG / f"{ASG}.html").is_file()


@pytest.mark.dask
@pytest.mark.postgres
def test_dask_into_postgres_gradebook(course, local_scores, dask_scheduler, postgres_url):
    from nbgrader.api import Gradebook

    results = grade_assignment(ASG, course, timeout=TIMEOUT, feedback=False, executor="dask", scheduler=dask_scheduler,
                               db_url=postgres_url)
    assert scores(results) == local_scores
    with Gradebook(postgres_url, "dl-workbook") as gb:
        subs = gb.find_assignment(ASG).submissions
        assert sorted(s.student.id for s in subs) == ["broken", "half", "none", "ref"]
        assert gb.find_submission(ASG, "ref").score == 14
        assert gb.find_submission(ASG, "broken").score == 0


@pytest.mark.postgres
def test_local_workers_into_postgres_gradebook(course, local_scores, postgres_url):
    results = grade_assignment(ASG, course, timeout=TIMEOUT, feedback=False, workers=2, db_url=postgres_url,
                               students=["half", "ref"])
    got = scores(results)
    assert got == {k: v for k, v in local_scores.items() if k[0] in ("half", "ref")}


def descendants(pid):
    """Every live process below ``pid``."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_bytes()
            except OSError:
                continue
            parents.setdefault(int(stat.rpartition(b")")[2].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def alive(pid):
    """``pid`` runs (not gone, not a zombie: PID 1 here does not reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return False


def scratch_folders(pids):
    """The /dev/shm/course-* folders ``pids`` work in or hold files of."""
    found = set()
    for pid in pids:
        try:
            links = [f"/proc/{pid}/cwd"] + [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        for link in links:
            try:
                target = os.readlink(link)
            except OSError:
                continue
            if target.startswith("/dev/shm/course-"):
                found.add("/".join(target.split("/")[:4]))
    return found


@pytest.mark.dask
def test_a_dask_worker_killed_mid_run_costs_a_retry_and_the_run_completes(course, local_scores, tmp_path):
    """kill -9 of a Dask worker while it grades: Dask runs its submission again on the other worker,
    every grade equals the local run's, and nothing of the dead worker (its zygote, kernels, scratch
    folder) outlives it by 10 s."""
    from distributed import Client

    with dask_cluster(tmp_path, ("1", "1"), nanny=False) as (address, workers), Client(address) as probe:
        killed = {}

        def kill_a_busy_worker(result):
            if killed:
                return
            busy = [addr for addr, keys in probe.processing().items() if keys]
            assert busy, "no worker is grading: the run hands out one submission per worker thread"
            pid = probe.run(os.getpid, workers=[busy[0]])[busy[0]]
            victim = next(p for p in workers if p.pid == pid)
            below = descendants(victim.pid)
            killed.update(keys=probe.processing()[busy[0]], below=below,
                          scratch=scratch_folders([victim.pid] + below))
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()

        results = grade_assignment(ASG, course, timeout=TIMEOUT, feedback=False, executor="dask", scheduler=address,
                                   db_url=f"sqlite:///{tmp_path / 'killed.db'}", progress=kill_a_busy_worker)
        assert killed["keys"] and killed["below"] and killed["scratch"], killed  # it was grading, with a zygote
        assert all(r.status == "graded" for r in results), [(r.student, r.error) for r in results]
        assert scores(results) == local_scores
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (any(map(alive, killed["below"]))
                                               or [f for f in killed["scratch"] if os.path.exists(f)]):
            time.sleep(0.2)
        left = [p for p in killed["below"] if alive(p)]
        assert not left, f"processes of the killed worker still alive 10 s later: {left}"
        assert not [f for f in killed["scratch"] if os.path.exists(f)], killed["scratch"]
