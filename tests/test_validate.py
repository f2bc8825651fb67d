"""The student's self-check: ``python -m utils.validate`` in a bundle, ``python -m course validate``.

Fast tests feed ``summarize`` hand-made executed notebooks and run the student's command where
``course`` cannot be imported; the slow ones run real notebooks of 01_activations (release,
reference, partly done, endless loop) through both command lines.
"""
import json
import subprocess
import sys
import sysconfig

import nbformat
import pytest
from conftest import ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course.cli import main
from course.submissions import partial, reference, solution_ids, untouched, with_cell_prefix, write_submission
from course.validate import FAIL, NO_TEST, NOT_RUN, NOT_STARTED, PASS, format_report, summarize, ValidationReport

ASG = "01_activations"


def _error(ename, evalue=""):
    return new_output("error", ename=ename, evalue=evalue,
                      traceback=["\x1b[31m-----\x1b[39m", f"{ename}  Traceback (most recent call last)",
                                 "Cell In[3], line 2\n----> 2 secret_line()", f"{ename}: {evalue}"])


def _solution(grade_id, source, outputs=(), count=1):
    return new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, "solution": True, "grade": False}},
                         outputs=list(outputs), execution_count=count)


def _test(grade_id, points, outputs=(), count=2):
    return new_code_cell(f"check({grade_id!r})", outputs=list(outputs), execution_count=count,
                         metadata={"nbgrader": {"grade_id": grade_id, "grade": True, "points": points}})


STUB = "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def _notebook(*cells):
    return new_notebook(cells=[new_markdown_cell("# title"), *cells])


def test_summarize_pass_fail_not_started():
    nb = _notebook(
        _solution("f", "def f(x):\n    return x"), _test("test_f", 2), _test("test_f_more", 1),
        _solution("g", "def g(x):\n    return -x"),
        _test("test_g", 3, [_error("AssertionError", "g(1) is -1, expected 1.\nsecond line")]),
        _solution("h", STUB.replace("f(", "h(")), _test("test_h", 1, [_error("NotImplementedError")]),
        new_code_cell("plot(h)", outputs=[_error("NotImplementedError")], execution_count=9),
    )
    functions, others = summarize(nb)
    by_id = {f.grade_id: f for f in functions}
    assert [f.grade_id for f in functions] == ["f", "g", "h"]
    assert (by_id["f"].status, by_id["f"].points, by_id["f"].test_ids) == (PASS, 3.0, ["test_f", "test_f_more"])
    assert by_id["g"].status == FAIL
    assert by_id["g"].message == "AssertionError: g(1) is -1, expected 1."  # first line only, no traceback
    assert by_id["h"].status == NOT_STARTED
    assert [(e.cell_number, e.message) for e in others] == [(9, "NotImplementedError (not written yet)")]


def test_failure_caused_by_an_earlier_unfinished_function():
    """A finished function whose tests hit an unfinished helper fails with a message saying so."""
    nb = _notebook(_solution("f", STUB), _test("test_f", 1, [_error("NotImplementedError")]),
                   _solution("g", "def g(x):\n    return f(x) + 1"), _test("test_g", 1, [_error("NotImplementedError")]))
    f, g = summarize(nb)[0]
    assert f.status == NOT_STARTED
    assert g.status == FAIL and "not written yet" in g.message


def test_error_in_the_solution_cell_and_cells_that_never_ran():
    nb = _notebook(_solution("f", "def f(x)\n    return x", [_error("SyntaxError", "expected ':'")]), _test("test_f", 1),
                   _solution("g", "def g(x):\n    return x", count=None), _test("test_g", 1, count=None),
                   _solution("k", "K = 3"))
    f, g, k = summarize(nb)[0]
    assert f.status == FAIL and f.message == "in your cell: SyntaxError: expected ':'"
    assert g.status == NOT_RUN
    assert k.status == NO_TEST and k.points == 0


def test_timeout_is_explained():
    nb = _notebook(_solution("f", "def f(x):\n    return x"), _test("test_f", 1, [_error("KeyboardInterrupt")]))
    (f,), _ = summarize(nb)
    assert f.status == FAIL and "time limit" in f.message


def test_report_text_and_ok():
    nb = _notebook(_solution("f", "def f(x):\n    return x"), _test("test_f", 2),
                   _solution("g", STUB.replace("f(", "g(")), _test("test_g", 3, [_error("NotImplementedError")]))
    functions, others = summarize(nb)
    report = ValidationReport("nb.ipynb", 4.25, functions, others)
    text = format_report(report)
    assert not report.ok
    assert "1 of 2 graded functions pass their visible tests (2 of 5 points at stake)" in text
    assert "1 not started" in text and "4.2 s" in text
    report.first_error = (3, "NameError: name 'x' is not defined")
    assert "The first error is in cell 3 (NameError)" in format_report(report)
    assert ValidationReport("nb.ipynb", 1.0, functions[:1], []).ok


def test_environment_differences_from_the_bundle_requirements(tmp_path):
    from importlib.metadata import version

    from utils.validate import environment_differences
    assert environment_differences(tmp_path) == []  # no requirements.txt: nothing to compare
    (tmp_path / "requirements.txt").write_bytes(b"\xff\xfe\x00garbage")
    assert environment_differences(tmp_path) == []  # unreadable: nothing to compare, no crash
    (tmp_path / "requirements.txt").write_text(
        "# a comment\n\nnumpy==0.0.1\nsurely-not-installed-xyz==1.0\n"
        f"nbformat=={version('nbformat')}\nipython>=9.0  # a lower bound is not compared\n")
    found = environment_differences(tmp_path)
    assert found == [f"numpy {version('numpy')} here, 0.0.1 in requirements.txt", "surely-not-installed-xyz is not installed"]
    report = ValidationReport("nb.ipynb", 1.0, [], [], environment=found)
    text = " ".join(format_report(report).split())  # (wrapped to the terminal's width)
    assert "Your Python differs from the course's: numpy" in text and "pip install -r requirements.txt" in text
    assert "differs" not in format_report(ValidationReport("nb.ipynb", 1.0, [], []))


def test_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nothing.ipynb")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_folder_without_a_notebook(tmp_path, capsys):
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "b.ipynb").write_text("{}")
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "found: a.ipynb, b.ipynb" in err


def test_folder_and_assignment_id_resolve_to_the_notebook(tmp_path):
    from course.paths import COURSE_ROOT
    from course.validate import resolve

    folder = tmp_path / ASG
    folder.mkdir()
    (folder / "notes.ipynb").write_text("{}")
    (folder / f"{ASG}.ipynb").write_text("{}")
    assert resolve(folder) == folder / f"{ASG}.ipynb"
    (folder / f"{ASG}.ipynb").unlink()
    assert resolve(folder) == folder / "notes.ipynb"
    assert resolve(ASG) == COURSE_ROOT / "release" / ASG / f"{ASG}.ipynb"


def test_corrupted_file(tmp_path, capsys):
    path = tmp_path / "cut.ipynb"
    text = nbformat.writes(untouched(ASG))
    path.write_text(text[: len(text) // 2])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cut.ipynb" in err and "JSON" in err and "Traceback" not in err


def _write(nb, tmp_path):
    return write_submission(nb, ASG, "me", tmp_path) / f"{ASG}.ipynb"


def _statuses(out):
    """function label -> status word ('ok', 'FAIL', 'todo') from the printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] in ("ok", "FAIL", "todo", "--", "??"):
            rows[parts[0]] = parts[2]
    return rows


@pytest.mark.slow
def test_release_notebook_is_all_not_started(tmp_path, capsys):
    assert main(["validate", str(_write(untouched(ASG), tmp_path)), "--timeout", "60"]) == 1
    out = capsys.readouterr().out
    ids = solution_ids(untouched(ASG))
    assert _statuses(out) == {i: "todo" for i in ids}
    assert f"0 of {len(ids)} graded functions pass" in out and f"{len(ids)} not started" in out


@pytest.mark.slow
def test_reference_notebook_passes(tmp_path, capsys):
    assert main(["validate", str(_write(reference(ASG), tmp_path)), "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    ids = solution_ids(reference(ASG))
    assert _statuses(out) == {i: "ok" for i in ids}
    assert "14 of 14 points" in out and "Everything ran without error" in out


@pytest.mark.slow
def test_partly_done_notebook(tmp_path, capsys):
    ids = solution_ids(reference(ASG))
    nb = partial(ASG, ids[:3])
    # ids[2] (tanh) is "done" but wrong: it returns a scaled tanh
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ids[2])
    cell.source = cell.source.replace("return np.tanh(", "return 1.5 * np.tanh(")
    assert "1.5 * np.tanh(" in cell.source
    assert main(["validate", str(_write(nb, tmp_path))]) == 1
    out = capsys.readouterr().out
    rows = _statuses(out)
    assert rows[ids[0]] == rows[ids[1]] == "ok"
    assert rows[ids[2]] == "FAIL"
    assert all(rows[i] == "todo" for i in ids[3:])
    assert "AssertionError: tanh(z) differs" in out
    assert "Traceback" not in out and "\x1b[" not in out
    assert " s (quick mode)" in out


@pytest.mark.slow
def test_endless_loop_is_stopped(tmp_path, capsys):
    ids = solution_ids(reference(ASG))
    nb = with_cell_prefix(reference(ASG), ids[-1], "while True:\n    pass")
    assert main(["validate", str(_write(nb, tmp_path)), "--timeout", "15"]) == 1
    out = capsys.readouterr().out
    assert _statuses(out)[ids[-1]] == "FAIL"
    assert "time limit" in out
    assert _statuses(out)[ids[0]] == "ok"


# --- the student's command, from a bundle, without the course package --------------------------------
_STUDENT = """
import importlib.util, runpy, sys
sys.path[:0] = [""]
sys.path += SITE
assert importlib.util.find_spec("course") is None, "course is importable"
sys.argv[0] = "python -m utils.validate"
runpy.run_module("utils.validate", run_name="__main__", alter_sys=True)
"""


def student_validate(bundle, *args, timeout=300):
    """``python -m utils.validate ARGS`` run in ``bundle`` by an interpreter without this repository
    (-S: no .pth file, so no editable install; the installed packages are added by hand)."""
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    code = _STUDENT.replace("SITE", json.dumps(site))
    return subprocess.run([sys.executable, "-S", "-c", code, *args], cwd=bundle, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def bundle(tmp_path):
    from course.bundle import write_bundle

    return write_bundle(ASG, tmp_path / "dist", make_zip=False)


@pytest.mark.slow  # three Python processes in the bundle
def test_student_command_runs_from_the_bundle_without_course(bundle):
    proc = student_validate(bundle, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "python -m utils.validate" in proc.stdout and "--timeout" in proc.stdout
    proc = student_validate(bundle, "nothing.ipynb")
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    text = nbformat.writes(untouched(ASG))
    (bundle / "cut.ipynb").write_text(text[: len(text) // 2])
    proc = student_validate(bundle, "cut.ipynb")
    assert proc.returncode == 2 and "JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_course_validate_is_the_student_command():
    import utils.validate as student
    from course import validate as instructor

    assert instructor.summarize is student.summarize and instructor.format_report is student.format_report
    source = (ROOT / "utils" / "validate.py").read_text()
    assert "import course" not in source and "from course" not in source


@pytest.mark.slow
def test_student_command_on_the_solved_notebook_in_the_bundle(bundle):
    """The bundle alone (its utils/, its expected.json) runs the solved notebook's visible tests."""
    nbformat.write(reference(ASG), str(bundle / f"{ASG}.ipynb"))
    proc = student_validate(bundle, "--timeout", "60")  # default: the notebook of this folder
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = solution_ids(reference(ASG))
    assert _statuses(proc.stdout) == {i: "ok" for i in ids}
    assert "Everything ran without error" in proc.stdout
    assert "differs from the course's" not in proc.stdout  # this environment has the bundle's requirements.txt
