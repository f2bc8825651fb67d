"""Make submissions from the source and release notebooks: the demo class and the tests' cases.

A submission is the release folder with its notebook replaced. Variants:
``reference`` (the source's solutions), ``untouched`` (the release as shipped), ``partial``
(some solutions, the other cells as released), ``raising`` (a solution cell raises),
``infinite_loop`` (a solution cell never ends), ``corrupted`` (the .ipynb is cut short).
"""
import shutil
from pathlib import Path

import nbformat

from course.paths import COURSE_ROOT, source_notebook


def solution_ids(nb):
    """grade_ids of the code solution cells, in notebook order."""
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def _by_id(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def release_notebook(assignment, root=COURSE_ROOT):
    return Path(root) / "release" / assignment / f"{assignment}.ipynb"


def reference(assignment, root=COURSE_ROOT):
    """The source notebook as a student would hand it in: solutions in, hidden tests absent."""
    source = nbformat.read(str(source_notebook(assignment, root)), as_version=4)
    release = nbformat.read(str(release_notebook(assignment, root)), as_version=4)
    released = _by_id(release)
    sources = _by_id(source)
    for grade_id, cell in released.items():
        if cell.metadata["nbgrader"].get("solution") and grade_id in sources:
            cell.source = sources[grade_id].source
    return release


def untouched(assignment, root=COURSE_ROOT):
    """The release notebook, unmodified."""
    return nbformat.read(str(release_notebook(assignment, root)), as_version=4)


def partial(assignment, solved, root=COURSE_ROOT):
    """The reference, except that solution cells whose grade_id is not in ``solved`` stay as released."""
    nb = reference(assignment, root)
    stubs = _by_id(untouched(assignment, root))
    for grade_id, cell in _by_id(nb).items():
        if cell.metadata["nbgrader"].get("solution") and grade_id not in solved:
            cell.source = stubs[grade_id].source
    return nb


def with_cell_prefix(nb, grade_id, code):
    """``nb`` with ``code`` put in front of the solution cell ``grade_id``."""
    cell = _by_id(nb)[grade_id]
    cell.source = code + "\n" + cell.source
    return nb


def raising(assignment, grade_id=None, root=COURSE_ROOT):
    """The reference, with one solution cell (default: the first) raising before it defines anything."""
    nb = reference(assignment, root)
    grade_id = grade_id or solution_ids(nb)[0]
    return with_cell_prefix(nb, grade_id, 'raise RuntimeError("my code is broken here")')


def infinite_loop(assignment, grade_id=None, root=COURSE_ROOT):
    """The reference, with one solution cell (default: the last) stuck in a loop."""
    nb = reference(assignment, root)
    grade_id = grade_id or solution_ids(nb)[-1]
    return with_cell_prefix(nb, grade_id, "while True:\n    pass")


def write_submission(nb_or_text, assignment, student, submitted_dir, root=COURSE_ROOT):
    """Write a submission folder ``submitted_dir/<student>/<assignment>/``: the release's files
    plus the given notebook (a notebook object, or raw text for a corrupted file)."""
    folder = Path(submitted_dir) / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(Path(root) / "release" / assignment, folder)
    path = folder / f"{assignment}.ipynb"
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, str(path))
    return folder


def corrupted_text(assignment, root=COURSE_ROOT):
    """The release notebook's JSON cut in the middle, as a failed upload leaves it."""
    text = release_notebook(assignment, root).read_text()
    return text[: len(text) // 2]


def demo_class(assignment, submitted_dir, root=COURSE_ROOT):
    """Write the six demo submissions; returns {student: what it is}."""
    ids = solution_ids(reference(assignment, root))
    half = ids[: max(1, len(ids) // 2)]
    cases = {
        "alice_reference": (reference(assignment, root), "the reference solution"),
        "bob_untouched": (untouched(assignment, root), "the release notebook, untouched"),
        "carol_partial": (partial(assignment, half, root), f"solves {', '.join(half)} only"),
        "dave_raises": (raising(assignment, root=root), f"{ids[0]} raises an exception"),
        "erin_infinite_loop": (infinite_loop(assignment, root=root), f"{ids[-1]} never ends"),
        "frank_corrupted": (corrupted_text(assignment, root), "the .ipynb file is cut short"),
    }
    for student, (nb, _) in cases.items():
        write_submission(nb, assignment, student, submitted_dir, root)
    return {student: what for student, (_, what) in cases.items()}
