"""Run-time switches shared by every notebook.

The autograder sets ``COURSE_QUICK=1`` in the kernel's environment (``course grade`` and
``course check`` do; plain ``nbgrader autograde`` and ``validate`` set ``NBGRADER_EXECUTION``,
which counts too). Training cells read :func:`quick_mode` and then train on a small subset for a few
steps, so that grading a class never retrains MNIST once per student. Students see the full run.
"""
import os

QUICK_ENV = "COURSE_QUICK"


def quick_mode():
    """True when the notebook runs under the grader or nbgrader's validator.

    ``COURSE_QUICK`` set to 1/true/yes/on forces it on, 0/false/no/off forces it off;
    otherwise nbgrader's ``NBGRADER_EXECUTION`` (autograde, validate) turns it on.
    """
    flag = os.environ.get(QUICK_ENV, "").strip().lower()
    if flag in {"1", "true", "yes", "on"}:
        return True
    if flag in {"0", "false", "no", "off"}:
        return False
    return os.environ.get("NBGRADER_EXECUTION", "") in {"autograde", "validate"}


def pick(full, quick):
    """Return ``quick`` under the grader and ``full`` otherwise, e.g. ``epochs = pick(20, 2)``."""
    return quick if quick_mode() else full


def blas_threads(n=1):
    """Context manager capping the BLAS thread pool at ``n`` threads (``None``: leave it alone).

    The matrices of small networks are small: extra BLAS threads only fight for the cores, and on
    a busy 2-core machine they made training steps tens of times slower. Large products (the MNIST
    MLP) are faster with every core, so this is a per-loop choice.
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return nullcontext() if n is None else threadpool_limits(limits=n, user_api="blas")
