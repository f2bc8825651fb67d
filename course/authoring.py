"""Write notebooks as text: jupytext percent scripts to and from nbgrader source notebooks.

Editing a notebook's JSON by hand is error-prone; authors may write an assignment as a percent
script and convert it. nbgrader metadata is written in short form in the cell header and
completed here::

    # %% nbgrader={"grade_id": "sigmoid", "solution": true}          -> solution cell
    # %% nbgrader={"grade_id": "test_sigmoid", "points": 2}          -> locked, graded test cell
    # %% nbgrader={"grade_id": "setup", "locked": true}              -> read-only cell

Usage: ``python -m course.authoring notebook.py source/ASG/ASG.ipynb`` (and the other way round:
``python -m course.authoring source/ASG/ASG.ipynb notebook.py``).
"""
import argparse
import sys

import jupytext
import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def complete_nbgrader_metadata(meta):
    """Fill in the nbgrader fields implied by the short form (see the module docstring)."""
    meta = dict(meta)
    if "points" in meta:
        meta.setdefault("grade", True)
        meta.setdefault("locked", True)
    meta.setdefault("grade", False)
    meta.setdefault("solution", False)
    meta.setdefault("locked", False)
    if meta["solution"]:
        meta["locked"] = False
    meta["schema_version"] = 3
    return meta


def script_to_notebook(text):
    """Percent script text -> nbformat notebook (no outputs, nbgrader metadata completed)."""
    nb = jupytext.reads(text, fmt="py:percent")
    # a blank line before the first cell marker becomes an empty cell: drop such cells
    nb.cells = [c for c in nb.cells if c.source.strip() or "nbgrader" in c.metadata]
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        meta = {}
        if "nbgrader" in cell.metadata:
            meta["nbgrader"] = complete_nbgrader_metadata(cell.metadata["nbgrader"])
        for key in ("tags", "deletable", "editable"):
            if key in cell.metadata:
                meta[key] = cell.metadata[key]
        cell.metadata = meta
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        # Stable ids keep diffs small when a notebook is converted again.
        cell.id = meta.get("nbgrader", {}).get("grade_id") or f"cell-{i:03d}"
    nb = nbformat.from_dict(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def notebook_to_script(nb):
    """Notebook -> percent script text, with nbgrader metadata kept in the cell headers."""
    nb = nbformat.from_dict(nb)
    nb.metadata["jupytext"] = {"cell_metadata_filter": "nbgrader,tags,-all", "notebook_metadata_filter": "-all"}
    return jupytext.writes(nb, fmt="py:percent")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="a .py percent script or an .ipynb notebook")
    parser.add_argument("dst", help="the file to write (the other format)")
    args = parser.parse_args(argv)
    if args.src.endswith(".py"):
        with open(args.src, encoding="utf-8") as f:
            nb = script_to_notebook(f.read())
        nbformat.write(nb, args.dst)
    else:
        with open(args.dst, "w", encoding="utf-8") as f:
            f.write(notebook_to_script(nbformat.read(args.src, as_version=4)))
    print(f"wrote {args.dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
