"""Check your whole notebook before you submit: ``python -m utils.validate NOTEBOOK.ipynb``.

Run it from the assignment's folder (the one holding the notebook and ``utils/``). It runs the
notebook top to bottom in a fresh kernel in quick mode (``COURSE_QUICK=1``, as the grader does),
then says, for each graded function (a solution cell), whether the visible tests in the graded
test cells that follow it pass (``ok``), fail (``FAIL``, with the first line of the error) or
whether the function is not started yet (``todo``: it still raises ``NotImplementedError``), with
the points at stake and how long the notebook took. Only the visible tests of your notebook run
here: the grader's own tests (random shapes, extreme values, gradients against finite
differences) run when your notebook is graded, so also try your functions on other inputs.

Exit status: 0 when every cell ran without error, 1 otherwise, 2 when the notebook cannot be
read at all. Needs only the notebook, ``nbformat`` and ``nbclient`` (they come with Jupyter).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


class ValidateError(Exception):
    """The notebook cannot be checked at all (missing, unreadable, not one notebook)."""


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMEOUT = "Timeout: the cell ran longer than the time limit and was stopped (an endless loop?)"


def strip_ansi(text):
    """``text`` without terminal colour codes (IPython colours tracebacks)."""
    return _ANSI.sub("", text)


def error_line(cell):
    """``'ename: first line of evalue'`` of a cell's first error output, or '' if it has none.

    A ``KeyboardInterrupt`` is the cell stopped at its time limit, and says so; a bare
    ``NotImplementedError`` says that something is not written yet.
    """
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = strip_ansi(out.get("evalue") or "").strip().splitlines()
            name = out.get("ename") or "Error"
            if name == "KeyboardInterrupt":
                return TIMEOUT
            if name == "NotImplementedError" and not value:
                return "NotImplementedError (not written yet)"
            return (f"{name}: {value[0]}" if value else name)[:300]
    return ""


def read_notebook(path):
    """Read a notebook, turning JSON or schema errors into a ``ValueError`` naming the file."""
    import nbformat

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


DEFAULT_TIMEOUT = 120  # seconds per cell

PASS, FAIL, NOT_STARTED, NO_TEST, NOT_RUN = "pass", "fail", "not started", "no visible test", "not run"
_STUB = re.compile(r"^\s*raise\s+NotImplementedError\b", re.MULTILINE)


@dataclass
class FunctionStatus:
    """One graded solution cell and the graded test cells that follow it."""

    grade_id: str
    cell_number: int  # 1-based, as a student counts cells
    functions: list  # names defined in the cell (``def name``)
    points: float
    status: str  # PASS, FAIL, NOT_STARTED, NO_TEST or NOT_RUN
    message: str = ""  # first line of the first error, for FAIL
    test_ids: list = field(default_factory=list)

    @property
    def label(self):
        if self.functions and self.functions != [self.grade_id]:
            return ", ".join(self.functions)
        return self.grade_id


@dataclass
class CellError:
    """An error in a cell that is neither a solution cell nor a graded test cell."""

    cell_number: int
    message: str


@dataclass
class ValidationReport:
    path: Path
    seconds: float
    functions: list
    other_errors: list
    problem: str = ""  # the run itself went wrong (kernel died, timeout)
    first_error: tuple = None  # (cell number, message) of the first cell that raised
    environment: list = field(default_factory=list)  # how this Python differs from requirements.txt

    @property
    def ok(self):
        return not self.problem and not self.other_errors and all(f.status in (PASS, NO_TEST) for f in self.functions)

    def count(self, status):
        return sum(f.status == status for f in self.functions)

    @property
    def points(self):
        return sum(f.points for f in self.functions)

    @property
    def points_passing(self):
        return sum(f.points for f in self.functions if f.status == PASS)


def _error_name(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename") or "Error"
    return ""


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_solution(cell):
    return cell.cell_type == "code" and bool(_meta(cell).get("solution"))


def _is_test(cell):
    return cell.cell_type == "code" and bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def _ran(cell):
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


def _function_names(source):
    return re.findall(r"^def\s+([A-Za-z_]\w*)\s*\(", source, re.MULTILINE)


def summarize(nb):
    """Statuses of the graded functions of an executed notebook, and errors in other cells.

    Returns:
        (list of FunctionStatus, list of CellError)
    """
    functions, other_errors = [], []
    current = None
    for index, cell in enumerate(nb.cells):
        if _is_solution(cell):
            current = FunctionStatus(_meta(cell).get("grade_id", f"cell {index + 1}"), index + 1,
                                     _function_names(cell.source), 0.0, NO_TEST)
            current._cell = cell
            current._tests = []
            functions.append(current)
        elif _is_test(cell) and current is not None:
            current.points += float(_meta(cell).get("points") or 0)
            current.test_ids.append(_meta(cell).get("grade_id", f"cell {index + 1}"))
            current._tests.append((index, cell))
        elif cell.cell_type == "code" and error_line(cell):
            other_errors.append(CellError(index + 1, error_line(cell)))
    for f in functions:
        _decide(f)
        del f._cell, f._tests
    return functions, other_errors


def _decide(f):
    cell, tests = f._cell, f._tests
    stub = bool(_STUB.search(cell.source))
    own_error = _error_name(cell)
    if own_error == "NotImplementedError" or (stub and own_error == ""
                                               and any(_error_name(t) == "NotImplementedError" for _, t in tests)):
        f.status = NOT_STARTED
        return
    if own_error:
        f.status, f.message = FAIL, f"in your cell: {error_line(cell)}"
        return
    if not _ran(cell) or any(not _ran(t) for _, t in tests):
        f.status = NOT_RUN
        f.message = "the notebook stopped before this cell ran"
        return
    if not tests:
        f.status = NO_TEST
        return
    for _, test in tests:
        line = error_line(test)
        if line:
            f.status = FAIL
            f.message = line
            if _error_name(test) == "NotImplementedError":
                f.message = "NotImplementedError: a function these tests use is not written yet"
            return
    f.status = PASS


@contextmanager
def _environment(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def resolve(path="."):
    """The notebook meant by ``path``: a .ipynb file, or a folder holding one (``ASG/ASG.ipynb``
    first, else its only notebook); the default is the current folder."""
    path = Path(path)
    if not path.exists():
        raise ValidateError(f"{path} does not exist")
    if path.is_dir():
        named = path / f"{path.resolve().name}.ipynb"
        notebooks = sorted(p for p in path.glob("*.ipynb"))
        if named.exists():
            return named
        if len(notebooks) == 1:
            return notebooks[0]
        found = ", ".join(p.name for p in notebooks) or "none"
        raise ValidateError(f"{path} is a folder: give the path of one notebook in it (found: {found})")
    return path


def execute(path, timeout=DEFAULT_TIMEOUT, quick=True):
    """Run the notebook at ``path`` in a fresh kernel, in its own folder, errors allowed.

    Returns:
        (executed notebook, seconds, problem): ``problem`` is '' unless the kernel died.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = resolve(path)
    try:
        nb = read_notebook(path)
    except ValueError as err:
        raise ValidateError(f"{err}. If you cannot repair it, fetch the notebook again and copy your code over.") from None
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                            kernel_name="python3", resources={"metadata": {"path": str(path.parent.resolve())}})
    problem = ""
    start = time.perf_counter()
    with _environment(COURSE_QUICK="1" if quick else "0"):
        try:
            client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up warnings are noise here
        except DeadKernelError:
            problem = "the kernel died (out of memory, or the process was killed); the cells after it did not run"
        except Exception as err:  # a timeout the kernel did not recover from, a failed kernel start
            problem = f"the notebook could not be run to the end: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
    return nb, time.perf_counter() - start, problem


def first_error(nb):
    """(cell number, message) of the first cell with an error output, or None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and error_line(cell):
            return index + 1, error_line(cell)
    return None


def environment_differences(folder):
    """How the packages installed here differ from the ``requirements.txt`` in ``folder`` (the
    assignment's, beside the notebook): one line per pinned package missing or at another version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = (Path(folder) / "requirements.txt").read_text(encoding="utf-8")
    except (OSError, ValueError):  # none, or unreadable: nothing to compare
        return []
    out = []
    for line in text.splitlines():
        name, sep, wanted = line.split("#")[0].strip().partition("==")
        if not name:
            continue
        name = re.split(r"[<>=!~\[; ]", name, maxsplit=1)[0]
        try:
            have = version(name)
        except PackageNotFoundError:
            out.append(f"{name} is not installed")
            continue
        if sep and have != wanted.strip():
            out.append(f"{name} {have} here, {wanted.strip()} in requirements.txt")
    return out


def validate(path, timeout=DEFAULT_TIMEOUT, quick=True):
    """Execute and summarize a notebook; returns a ValidationReport."""
    path = resolve(path)
    nb, seconds, problem = execute(path, timeout, quick)
    functions, other_errors = summarize(nb)
    return ValidationReport(path, seconds, functions, other_errors, problem, first_error(nb),
                            environment_differences(path.parent))


def _points(x):
    return f"{x:g}"


def format_report(report, width=100):
    """The student-facing text."""
    try:
        shown = Path(report.path).resolve().relative_to(Path.cwd())
    except ValueError:
        shown = report.path
    lines = [f"Checked {shown} in {report.seconds:.1f} s (quick mode).", ""]
    if report.environment:
        lines += textwrap.wrap("Your Python differs from the course's: " + "; ".join(report.environment) + ". "
                               "Results may differ from the grader's; `python -m pip install -r requirements.txt` "
                               "in this folder installs the course's versions.", width) + [""]
    if report.functions:
        name_w = max(8, *(len(f.label) for f in report.functions))
        lines.append(f"  {'function':{name_w}}  {'points':>6}  status")
        marks = {PASS: "ok  ", FAIL: "FAIL", NOT_STARTED: "todo", NO_TEST: "--  ", NOT_RUN: "??  "}
        for f in report.functions:
            text = {PASS: "visible tests pass", FAIL: "visible tests fail", NOT_STARTED: "not started (still raises NotImplementedError)",
                    NO_TEST: "ran (no visible test)", NOT_RUN: "not run"}[f.status]
            lines.append(f"  {f.label:{name_w}}  {_points(f.points):>6}  {marks[f.status]} {text}")
            if f.message:
                indent = " " * (name_w + 12)
                lines += textwrap.wrap(f.message, width, initial_indent=indent, subsequent_indent=indent)
        lines.append("")
    else:
        lines += ["No graded cells found: is this an assignment notebook?", ""]
    if report.other_errors:
        lines.append("Other cells that raised an error (plots and explorations use your functions):")
        for e in report.other_errors:
            lines += textwrap.wrap(f"cell {e.cell_number}: {e.message}", width, initial_indent="  ",
                                   subsequent_indent="      ")
        lines.append("")
    if report.problem:
        lines += [f"Problem: {report.problem}", ""]
    n = len(report.functions)
    summary = (f"{report.count(PASS)} of {n} graded functions pass their visible tests "
               f"({_points(report.points_passing)} of {_points(report.points)} points at stake)")
    rest = [f"{report.count(FAIL)} failing" if report.count(FAIL) else "",
            f"{report.count(NOT_STARTED)} not started" if report.count(NOT_STARTED) else "",
            f"{report.count(NOT_RUN)} not run" if report.count(NOT_RUN) else ""]
    rest = [r for r in rest if r]
    lines.append("Summary: " + summary + (f"; {', '.join(rest)}." if rest else "."))
    if report.ok:
        lines.append("Everything ran without error. Hidden tests run when your notebook is graded, "
                     "so also try your functions on other shapes and extreme values.")
    else:
        if report.first_error and report.count(NOT_STARTED) < len(report.functions):
            number, message = report.first_error
            lines.append(f"The first error is in cell {number} ({message.split(':')[0]}); later errors often follow from it.")
        lines.append("Fix the cells above, then run this check again.")
    return "\n".join(lines)


def run(path=".", timeout=DEFAULT_TIMEOUT):
    """Validate and print the report; returns the exit status (0 all ran, 1 errors, 2 unreadable)."""
    try:
        report = validate(path, timeout=timeout)
    except ValidateError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.ok else 1


def main(argv=None):
    """``python -m utils.validate [NOTEBOOK] [--timeout SECONDS]``."""
    parser = argparse.ArgumentParser(prog="python -m utils.validate",
                                     description="Run your notebook and summarize which graded functions pass "
                                                 "their visible tests.")
    parser.add_argument("notebook", nargs="?", default=".",
                        help="a .ipynb file or the folder holding it (default: this folder)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help=f"seconds per cell (default {DEFAULT_TIMEOUT})")
    args = parser.parse_args(argv)
    try:
        return run(args.notebook, timeout=args.timeout)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
