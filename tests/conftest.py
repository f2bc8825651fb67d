"""Shared set-up: nbgrader needs the venv's bin/ on PATH (it runs `alembic`), plots are headless."""
import os
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("MPLBACKEND", "Agg")
# The suite runs on two processes over two cores: one BLAS thread each avoids oversubscription
# (kernels started by the tests inherit this).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")


def assignments():
    from course.paths import existing_assignments

    return existing_assignments(ROOT)

