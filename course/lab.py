"""``course lab``: JupyterLab on the release notebooks, from the project's environment."""
import os
import subprocess
import sys

from course.paths import COURSE_ROOT


def lab_command(port=8888, open_browser=True, extra=(), notebook_dir=None):
    """The command line that starts JupyterLab in ``notebook_dir`` (default ``release/``)."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebook_dir or COURSE_ROOT / 'release'}",
           f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1"]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses root otherwise (containers, CI)
    return cmd + list(extra)


def run_lab(port=8888, open_browser=True, extra=(), root=COURSE_ROOT):
    # from the course root, so that nbgrader's Validate button finds nbgrader_config.py
    return subprocess.call(lab_command(port, open_browser, extra, notebook_dir=root / "release"), cwd=root)
