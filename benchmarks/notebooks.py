"""Run time of every source notebook, solutions in, top to bottom (budget: 3 minutes on 2 cores).

``notebook_seconds`` is the full run a student sees; ``notebook_quick_seconds`` the quick run
(``COURSE_QUICK=1``) that grading costs per submission.
"""
import os
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from course.paths import COURSE_ROOT, existing_assignments, source_notebook


def run_notebook(path, quick, timeout=600):
    """Execute a notebook in its own folder; returns wall seconds. Raises on a cell error."""
    nb = nbformat.read(str(path), as_version=4)
    env_before = os.environ.get("COURSE_QUICK")
    os.environ["COURSE_QUICK"] = "1" if quick else "0"
    try:
        with tempfile.TemporaryDirectory():
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            start = time.perf_counter()
            client.execute()
            return time.perf_counter() - start
    finally:
        if env_before is None:
            os.environ.pop("COURSE_QUICK", None)
        else:
            os.environ["COURSE_QUICK"] = env_before


def run():
    full, quick = {}, {}
    for asg in existing_assignments(COURSE_ROOT):
        path = source_notebook(asg)
        full[asg] = round(run_notebook(path, quick=False), 1)
        quick[asg] = round(run_notebook(path, quick=True), 1)
        print(f"   {asg}: {full[asg]} s full, {quick[asg]} s quick", flush=True)
    return {"notebook_seconds": full, "notebook_quick_seconds": quick}
