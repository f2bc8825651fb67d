"""Checks of a source notebook's nbgrader metadata, with messages an instructor can act on.

nbgrader accepts some mistakes silently (a graded cell without points is worth nothing, a
hidden-test marker left open hides the rest of the cell). ``course build`` refuses them.
"""
import json
import re

import nbformat

MARKERS = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden tests": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
}


def read_notebook(path):
    """Read a notebook, turning JSON or schema errors into a ``ValueError`` naming the file."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} cannot be read: {err}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}); "
                         "the file may be cut short or corrupted") from None
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises several types for a malformed notebook
        raise ValueError(f"{path} is not a readable notebook: {err}") from None


def _marker_problems(source, begin, end):
    """Problems with one pair of markers in a cell's source (unbalanced, nested, reversed)."""
    depth, problems = 0, []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            if depth:
                problems.append(f"'{begin}' opened twice without '{end}'")
            depth += 1
        elif stripped == end:
            if not depth:
                problems.append(f"'{end}' without a matching '{begin}'")
            else:
                depth -= 1
    if depth:
        problems.append(f"'{begin}' is never closed by '{end}'")
    return problems


def validate_source_notebook(nb, name="notebook"):
    """All problems found in a source notebook, as a list of strings (empty when it is fine).

    Checked: every nbgrader cell has a non-empty ``grade_id``, unique in the notebook; graded
    cells carry positive points; solution markers appear only in solution cells, hidden-test
    markers only in graded code cells, balanced; every solution cell has a solution region (code)
    and there is at least one graded cell.
    """
    problems, seen = [], {}
    graded = 0
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        where = f"{name}, cell {index + 1}"
        source = cell.source
        for kind, (begin, end) in MARKERS.items():
            has_marker = re.search(r"^\s*### (BEGIN|END) " + kind.upper(), source, re.MULTILINE)
            if not has_marker:
                continue
            if kind == "solution" and not meta.get("solution"):
                problems.append(f"{where}: has solution markers but is not a solution cell")
            if kind == "hidden tests" and not (meta.get("grade") and cell.cell_type == "code"):
                problems.append(f"{where}: has hidden-test markers but is not a graded code cell")
            problems += [f"{where}: {p}" for p in _marker_problems(source, begin, end)]
        if not meta:
            continue
        grade_id = meta.get("grade_id", "")
        where = f"{name}, cell {index + 1} ({grade_id or 'no grade_id'})"
        if not grade_id:
            problems.append(f"{where}: nbgrader cell without a grade_id")
        elif grade_id in seen:
            problems.append(f"{where}: grade_id {grade_id!r} is used by cell {seen[grade_id]} too")
        else:
            seen[grade_id] = index + 1
        if meta.get("grade"):
            graded += 1
            points = meta.get("points")
            if not isinstance(points, (int, float)) or points <= 0:
                problems.append(f"{where}: graded cell needs positive points, has {points!r}")
        if meta.get("solution") and cell.cell_type == "code" and "### BEGIN SOLUTION" not in source:
            problems.append(f"{where}: solution cell without '### BEGIN SOLUTION'")
        if meta.get("grade") and meta.get("solution") and cell.cell_type == "code":
            problems.append(f"{where}: a code cell cannot be both a solution and a graded test")
    if graded == 0:
        problems.append(f"{name}: no graded cell (nothing to score)")
    return problems
