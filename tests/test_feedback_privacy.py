"""No hidden-test code reaches a student: not in release/, not in the feedback HTML.

A "secret" is a line of the assignment's grader-side checks (``course/checks/<asg>.py``) or of a
``### BEGIN HIDDEN TESTS`` region of a source notebook (another course's style, still supported)
that is at least 6 characters long and does not also appear anywhere in the text the student
already has (the release notebook, their own submission). The student-facing files are searched as text, with
HTML tags removed and entities decoded (code in the feedback is syntax-highlighted, one tag per
token).
"""
import html
import tempfile
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook, new_output
from traitlets.config import Config

from course.check import scratch_course
from course.feedback import HideHiddenTests, split_hidden, summary_markdown
from course.paths import COURSE_ROOT, existing_assignments
from course.submissions import partial, reference, solution_ids, write_submission

ASG = "01_activations"
RELEASED = [a for a in existing_assignments() if (COURSE_ROOT / "release" / a).is_dir()]


def hidden_lines(nb):
    """Every line inside a hidden-test region of ``nb``."""
    lines = []
    for cell in nb.cells:
        lines += split_hidden(cell.source)[1]
    return lines


def check_lines(assignment):
    """Code lines of the assignment's grader-side checks (not comments, docstrings or imports)."""
    path = COURSE_ROOT / "course" / "checks" / f"{assignment}.py"
    if not path.exists():
        return []
    lines = [line.strip() for line in path.read_text().splitlines()]
    code = [x for x in lines if x and not x.startswith(("#", "from ", "import ", "@", "def _(", '"""', "return "))]
    public = "\n".join(f.read_text() for f in (COURSE_ROOT / "utils").rglob("*.py"))
    # short lines ("finally:") and lines of the student's own library are nobody's secret
    return [x for x in code if len(x) >= 24 and x not in public]


def secrets(assignment, *known_texts, min_length=6):
    """Hidden lines (grader-side checks, notebook hidden tests) the student cannot already see."""
    source = nbformat.read(str(COURSE_ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    known = "\n".join(known_texts)
    hidden = [h.strip() for h in hidden_lines(source)] + check_lines(assignment)
    return sorted({h for h in hidden if len(h) >= min_length and h not in known})


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def html_text(raw):
    """All text of an HTML page (scripts and styles included), tags removed, entities decoded."""
    parser = _Text()
    parser.feed(raw)
    return "".join(parser.parts) + "\n" + html.unescape(raw)


def leaks(text, secret_lines):
    return [s for s in secret_lines if s in text]


def _release_text(assignment):
    folder = COURSE_ROOT / "release" / assignment
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                raw = path.read_text()
            except UnicodeDecodeError:
                continue
            if path.suffix == ".ipynb":
                nb = nbformat.reads(raw, as_version=4)
                raw = "\n".join(c.source for c in nb.cells) + "\n" + raw
            texts.append(raw)
    return "\n".join(texts)


# --- release/ -------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", RELEASED)
def test_source_has_hidden_tests_to_protect(assignment):
    """Guards the other tests: an assignment without hidden tests would pass them vacuously."""
    assert len(secrets(assignment)) >= 5


@pytest.mark.parametrize("assignment", RELEASED)
def test_release_contains_no_hidden_test_code(assignment):
    release = _release_text(assignment)
    visible = "\n".join(c.source for c in nbformat.read(
        str(COURSE_ROOT / "release" / assignment / f"{assignment}.ipynb"), as_version=4).cells)
    assert "BEGIN HIDDEN TESTS" not in release
    assert leaks(release, secrets(assignment, visible)) == []


# --- the feedback preprocessor on its own (fast) ----------------------------------------------

def _render(nb, with_filter):
    c = Config()
    c.HTMLExporter.exclude_input = False
    exporter = HTMLExporter(config=c)
    if with_filter:
        exporter.register_preprocessor(HideHiddenTests(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def test_filter_removes_hidden_tests_from_rendered_source():
    """Another course's graded cell with in-notebook hidden tests (this course's are grader-side)."""
    secret = ["assert squares(7) == [1, 4, 9, 16, 25, 36, 49]", "assert hidden_marker_value == 271828"]
    cell = new_code_cell("assert squares(1) == [1]\n### BEGIN HIDDEN TESTS\n" + "\n".join(secret)
                         + "\n### END HIDDEN TESTS",
                         metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                "grade_id": "t", "points": 1}})
    nb = new_notebook(cells=[cell])
    assert leaks(html_text(_render(nbformat.from_dict(nb), with_filter=False)), secret), \
        "the leak detector found nothing in an unfiltered rendering: it cannot be trusted"
    text = html_text(_render(nb, with_filter=True))
    assert leaks(text, secret) == []
    assert "# (hidden tests ran here)" in text and "assert squares(1) == [1]" in text


def _graded_cell(source, count, outputs):
    return new_code_cell(source, execution_count=count, outputs=outputs,
                         metadata={"nbgrader": {"grade": True, "grade_id": "test_f", "points": 2}})


def test_traceback_through_hidden_tests_is_trimmed():
    source = ("out = f(x)\ncheck_close(out, 1.0, 'f(x)')\n### BEGIN HIDDEN TESTS\n"
              "secret_input = make_tricky_case(seed=1234)\ncheck_close(f(secret_input), 2.0, 'f on a tricky case')\n"
              "### END HIDDEN TESTS")
    tb = ["\x1b[31m-----------\x1b[39m", "\x1b[31mAssertionError\x1b[39m   Traceback (most recent call last)",
          "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[7]\x1b[39m\x1b[32m, line 5\x1b[39m\n      3 ### BEGIN HIDDEN TESTS\n"
          "      4 secret_input = make_tricky_case(seed=1234)\n----> 5 check_close(f(secret_input), 2.0, 'f on a tricky case')",
          "\x1b[36mFile \x1b[39m/work/utils/testing.py:60, in check_close\n     58 raise AssertionError(...)",
          "\x1b[31mAssertionError\x1b[39m: f on a tricky case is 3, expected 2."]
    err = new_output("error", ename="AssertionError", evalue="f on a tricky case is 3, expected 2.", traceback=tb)
    stream = new_output("stream", name="stdout", text="debug: secret_input = make_tricky_case(seed=1234)\nok\n")
    nb = new_notebook(cells=[_graded_cell(source, 7, [stream, err])])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    cell = nb.cells[0]
    shown = cell.source + "\n".join(cell.outputs[1].traceback) + cell.outputs[0].text
    assert "make_tricky_case" not in shown and "seed=1234" not in shown
    assert "# (hidden tests ran here)" in cell.source and "out = f(x)" in cell.source
    assert "hidden tests of this cell" in shown
    assert "f on a tricky case is 3, expected 2." in shown  # the useful message stays
    assert "utils/testing.py" not in shown  # library frames are noise
    assert cell.outputs[0].text.endswith("ok\n")


def test_traceback_in_visible_tests_and_student_code_is_kept():
    source = "out = f(x)\ncheck_close(out, 1.0)\n### BEGIN HIDDEN TESTS\ncheck_close(f(-x), -1.0, 'odd')\n### END HIDDEN TESTS"
    tb = ["-----", "ZeroDivisionError   Traceback (most recent call last)",
          "Cell In[4], line 1\n----> 1 out = f(x)\n      2 check_close(out, 1.0)",
          "Cell In[3], line 2, in f(x)\n      1 def f(x):\n----> 2     return 1 / 0",
          "ZeroDivisionError: division by zero"]
    err = new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=tb)
    nb = new_notebook(cells=[_graded_cell(source, 4, [err])])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    shown = "\n".join(nb.cells[0].outputs[0].traceback)
    assert "In this test cell, line 1:\n----> out = f(x)" in shown
    assert "return 1 / 0" in shown  # the student's own frame
    assert shown.rstrip().endswith("ZeroDivisionError\x1b[39m: division by zero")
    assert "check_close(f(-x), -1.0, 'odd')" not in shown + nb.cells[0].source


def test_summary_table_lists_scores_and_messages():
    ok = _graded_cell("passed('f')", 1, [])
    ok.metadata.nbgrader.update(grade_id="test_f", score=2.0)
    bad = _graded_cell("check(g)", 2, [new_output("error", ename="AssertionError", evalue="g(1) is 3, expected <2>.\nmore",
                                                  traceback=[])])
    bad.metadata.nbgrader.update(grade_id="test_g", score=0.0, points=3)
    table = summary_markdown(new_notebook(cells=[ok, bad]))
    assert "Your results" in table
    assert '<a href="#test_f">test_f</a></td><td>2 / 2</td><td></td>' in table
    assert "<td>0 / 3</td><td>AssertionError: g(1) is 3, expected &lt;2&gt;.</td>" in table
    assert "more" not in table
    assert summary_markdown(new_notebook(cells=[_graded_cell("x", 1, [])])) == ""  # no scores: no table


# --- real grading: feedback HTML of a reference and a partly wrong submission ----------------

def _partly_wrong():
    """sigmoid right; tanh wrong (visible tests fail); relu hard-coded to the visible example
    (visible tests pass, hidden tests fail, so the traceback runs through hidden code); the rest
    untouched."""
    ids = solution_ids(reference(ASG))
    nb = partial(ASG, ["sigmoid", "tanh", "relu"])
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    assert {"sigmoid", "tanh", "relu"} <= set(ids)
    by_id["tanh"].source = by_id["tanh"].source.replace("return np.tanh(", "return 2 * np.tanh(")
    by_id["relu"].source = ('def relu(z):\n    """max(0, z), hard-coded."""\n'
                            '    return np.array([[0.0, 0.0, 0.5], [3.0, 0.0, 1000.0]])')
    return nb


@pytest.fixture(scope="module")
def graded_feedback():  # the two slow tests share one grading run (and one xdist worker)
    with tempfile.TemporaryDirectory() as tmp:
        from course.grading import grade_assignment

        scratch = scratch_course(tmp)
        submissions = {"ref": reference(ASG), "wrong": _partly_wrong()}
        for student, nb in submissions.items():
            write_submission(nb, ASG, student, scratch / "submitted")
        results = {r.student: r for r in grade_assignment(ASG, scratch, timeout=60, feedback=True)}
        pages = {s: (scratch / "feedback" / s / ASG / f"{ASG}.html").read_text() for s in submissions}
        texts = {s: "\n".join(c.source for c in nb.cells) for s, nb in submissions.items()}
        yield results, pages, texts


@pytest.mark.slow
def test_feedback_html_has_scores_but_no_hidden_tests(graded_feedback):
    results, pages, texts = graded_feedback
    ref = results["ref"]
    assert ref.score == ref.max_score > 0, \
        f"grading itself failed on the reference: {ref.error} {[(c.grade_id, c.message) for c in ref.cells if c.message][:3]}"
    scores = results["wrong"].by_problem()
    assert scores["test_sigmoid"] > 0 and scores["test_tanh"] == 0 and scores["test_relu"] == 0
    for student, page in pages.items():
        text = html_text(page)
        secret = secrets(ASG, _release_text(ASG), texts[student])
        assert len(secret) >= 10
        assert leaks(text, secret) == [], f"hidden test code in the feedback of {student}"
        assert "BEGIN HIDDEN TESTS" not in text
        r = results[student]
        assert f"Score: {r.score:.1f} / {r.max_score:.1f}" in text  # the total, then one per test cell
        assert text.count("Score:") > len(r.cells)


@pytest.mark.slow
def test_feedback_keeps_useful_messages(graded_feedback):
    _, pages, _ = graded_feedback
    text = html_text(pages["wrong"])
    assert "tanh(z) differs from the expected value" in text  # a visible test's message
    # the grader-side check's message (its label, not its code)
    assert "Your results" in text and "relu on a random input has shape (2, 3), expected (5, 2, 3)" in text
    assert "NotImplementedError" in text
    assert "site-packages" not in text
