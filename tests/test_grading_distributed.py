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
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT

from course.grading import grade_assignment
from course.submissions import corrupted_text, partial, reference, solution_ids, untouched, write_submission

ASG = "01_activations"
TIMEOUT = 10
pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    data, port = base / "pg", free_port()
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


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    pytest.importorskip("distributed")
    from distributed import Client

    work = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", MPLBACKEND="Agg")
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", "127.0.0.1:0", "--no-show"], cwd=work, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    for nthreads in ("2", "1"):  # one worker grades two submissions at once, in two threads
        procs.append(subprocess.Popen([str(bindir / "dask"), "worker", address, "--nworkers", "1", "--nthreads", nthreads,
                                       "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
                                       "--local-directory", str(work)], cwd=work, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


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
