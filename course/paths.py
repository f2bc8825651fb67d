"""Where things are in the course directory, and the error every command reports cleanly."""
import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # in a clone of this repository: its course


def find_course_root(start=None):
    """The course directory, found as nbgrader finds its ``nbgrader_config.py``: ``start`` (default:
    the current directory) when it holds one; else the clone this package runs from, when it is a
    course; else ``start`` (commands then say what is missing)."""
    start = Path(start or os.getcwd()).resolve()
    if (start / "nbgrader_config.py").is_file():
        return start
    if (PACKAGE_ROOT / "nbgrader_config.py").is_file() and (PACKAGE_ROOT / "source").is_dir():
        return PACKAGE_ROOT
    return start


COURSE_ROOT = find_course_root()  # the default of every function that takes ``root``

ASSIGNMENTS = (
    "01_activations",
    "02_shallow_net",
    "03_backprop",
    "04_mnist_softmax",
    "05_optimizers",
    "06_cnn",
    "07_rnn",
    "08_regularization",
)


class CourseError(Exception):
    """A problem the instructor can fix (unknown assignment, missing folder, broken notebook)."""


def source_notebook(assignment, root=COURSE_ROOT):
    """Path of ``source/<asg>/<asg>.ipynb``; raises CourseError if the assignment is unknown."""
    check_assignment(assignment, root)
    path = Path(root) / "source" / assignment / f"{assignment}.ipynb"
    if not path.exists():
        raise CourseError(f"{path} is missing")
    return path


def check_assignment(assignment, root=COURSE_ROOT):
    """Raise CourseError unless ``source/<assignment>/`` exists."""
    if not (Path(root) / "source" / assignment).is_dir():
        known = ", ".join(existing_assignments(root)) or "none"
        raise CourseError(f"unknown assignment {assignment!r} (assignments in source/: {known})")


def existing_assignments(root=COURSE_ROOT):
    """Assignment ids that have a folder in ``source/``, in course order."""
    src = Path(root) / "source"
    found = sorted(p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")) if src.is_dir() else []
    order = {name: i for i, name in enumerate(ASSIGNMENTS)}
    return sorted(found, key=lambda n: (order.get(n, len(order)), n))
