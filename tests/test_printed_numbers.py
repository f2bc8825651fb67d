"""No hand-typed number in a source notebook: every expected value, accuracy, time or size the
student reads is printed by code (from the run, from ``expected.json`` written by the build, or
from ``benchmarks/results.json``).

Three rules, each checked on every ``source/<asg>/<asg>.ipynb``:

- markdown: no number with three or more significant digits outside formulas (``$...$``,
  ``$$...$$``), code (backticks, fenced blocks) and reference lists; small settings such as ``0.01``, ``1.2`` or
  ``10,000 steps`` stay allowed;
- a ``print(...)`` whose text says "expected" holds no decimal number in its text and no numeric
  literal in the value it prints as expected (an argument from the "expected" one on, or what a
  name among them was assigned in the same cell): the value comes from ``expected("key")``;
- the expected argument of ``check_close`` / ``check_equal`` in a visible test holds no numeric
  literal with three or more significant digits, directly or through a name assigned in the same
  cell (the inputs of a visible test may stay literal).
"""
import ast
import json
import re

import pytest
from conftest import ROOT, assignments

# a decimal number: 97.5, 0.00165, .5, 1.5e-3, 3.0 (not part of a dotted sequence like 1.2.3)
NUMBER = re.compile(r"(?<![\w.])(?:\d[\d,]*\.\d+|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]*\.\d)(?!\w)")
FORMULA_OR_CODE = re.compile(
    r"```.*?```"  # fenced code
    r"|\$\$.*?\$\$"  # display maths
    r"|(?<!\\)\$.*?(?<!\\)\$"  # inline maths
    r"|`[^`\n]*`"  # code spans
    r"|<[^>\n]*>"  # HTML tags and their attributes
    r"|\barXiv:\s*\S+|\bdoi:\s*\S+|https?://\S+|\b[A-Za-z][\w-]*(?:\.[\w-]+)+/\S*",  # references and links
    re.S,
)
CHECKERS = {"check_close", "check_equal", "assert_allclose", "assert_array_almost_equal", "isclose", "allclose"}


def significant_digits(text):
    """Significant digits of a decimal literal: ``97.5`` -> 3, ``0.00165`` -> 3, ``0.10`` -> 2."""
    mantissa = re.split(r"[eE]", text.replace(",", ""))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits)


def long_numbers(text):
    """The decimal numbers in ``text`` with three or more significant digits."""
    return [m.group() for m in NUMBER.finditer(text) if significant_digits(m.group()) >= 3]


REFERENCES = re.compile(r"^#+\s*(?:References|Further reading)\b.*?(?=^#|\Z)", re.S | re.M | re.I)


def markdown_prose(source):
    """The markdown with formulas, code, HTML tags and reference lists (section numbers such as
    10.10, page ranges) cut out."""
    return FORMULA_OR_CODE.sub(" ", REFERENCES.sub(" ", source))


def source_notebooks():
    return [ROOT / "source" / a / f"{a}.ipynb" for a in assignments()]


def cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        yield i, cell, src


def _strings_and_numbers(node):
    """All string constants and numeric literals under an AST node."""
    strings, numbers = [], []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            strings.append(sub.value)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, (int, float)) and not isinstance(sub.value, bool):
            numbers.append(sub)
    return strings, numbers


def _literal_text(source, node):
    return ast.get_source_segment(source, node) or repr(node.value)


def _callee(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _code_tree(src):
    # IPython magics and shell escapes are not Python: blank them, keep the line numbers
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()]
    code = "\n".join(lines)
    try:
        return code, ast.parse(code)
    except SyntaxError:
        return code, None


def _assignments(tree):
    """name -> the expressions assigned to it in this cell."""
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    return assigned


def expected_print_problems(src):
    """Numeric literals in a print of an expected value, as (line, text) pairs."""
    code, tree = _code_tree(src)
    problems = []
    if tree is None:
        for n, line in enumerate(code.splitlines(), 1):
            if "print" in line and "expect" in line.lower() and NUMBER.search(line):
                problems.append((n, line.strip()))
        return problems
    assigned = _assignments(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _callee(node) == "print"):
            continue
        if not any("expect" in t.lower() for a in node.args for t in _strings_and_numbers(a)[0]):
            continue
        specs = {id(c) for f in ast.walk(node) if isinstance(f, ast.FormattedValue) and f.format_spec
                 for c in ast.walk(f.format_spec)}
        texts = [c.value for c in ast.walk(node)
                 if isinstance(c, ast.Constant) and isinstance(c.value, str) and id(c) not in specs]
        typed = [m.group() for s in texts for m in NUMBER.finditer(s)]
        # the printed expected value: the arguments from the one that says "expected" on, and what
        # a plain name among them was assigned in this cell (want = np.array([0.731, ...]))
        first = next(k for k, a in enumerate(node.args)
                     if any("expect" in t.lower() for t in _strings_and_numbers(a)[0]))
        for arg in node.args[first:]:
            values = [arg] + (assigned.get(arg.id, []) if isinstance(arg, ast.Name) else [])
            typed += [_literal_text(code, n) for v in values for n in _value_literals(v)]
        if typed:
            problems.append((node.lineno, f"{ast.get_source_segment(code, node)}  <- {typed}"))
    return problems


VALUE_BUILDERS = {"array", "asarray", "float", "int", "round", "float64", "float32", "full", "full_like"}


def _value_literals(node):
    """Numeric literals that are (part of) a printed value: not indices, keys or format specs."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else []
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [n for e in node.elts for n in _value_literals(e)]
    if isinstance(node, ast.UnaryOp):
        return _value_literals(node.operand)
    if isinstance(node, ast.BinOp):
        return _value_literals(node.left) + _value_literals(node.right)
    if isinstance(node, ast.Call) and _callee(node) in VALUE_BUILDERS:
        args = node.args[:1] if _callee(node) == "round" else node.args  # round(x, 6): 6 is no value
        return [n for a in args for n in _value_literals(a)]
    if isinstance(node, ast.JoinedStr):
        return [n for v in node.values if isinstance(v, ast.FormattedValue) for n in _value_literals(v.value)]
    return []


def checker_problems(src):
    """Long numeric literals in the expected argument of check_close/check_equal, as (line, text)."""
    code, tree = _code_tree(src)
    if tree is None:
        return []
    assigned = _assignments(tree)
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _callee(node) in CHECKERS and len(node.args) >= 2):
            continue
        exp = node.args[1]
        sources = [exp]
        if isinstance(exp, ast.Name):
            sources += assigned.get(exp.id, [])
        typed = []
        for s in sources:
            _, numbers = _strings_and_numbers(s)
            typed += [t for t in (_literal_text(code, n) for n in numbers) if significant_digits(t) >= 3 and "." in t]
        if typed:
            problems.append((node.lineno, f"{ast.get_source_segment(code, node)}  <- {typed}"))
    return problems


# --- the helpers themselves ---------------------------------------------------------------------

def test_significant_digits():
    assert significant_digits("97.5") == 3
    assert significant_digits("0.00165") == 3
    assert significant_digits("0.127") == 3
    assert significant_digits("0.01") == 1
    assert significant_digits("1.2") == 2
    assert significant_digits("1.5e-3") == 2
    assert significant_digits("10.0") == 3


def test_markdown_rule_examples():
    assert long_numbers(markdown_prose("the MLP reaches 98.91 % on the test set")) == ["98.91"]
    assert long_numbers(markdown_prose("a learning rate of 0.01 and 1.2")) == []
    assert long_numbers(markdown_prose("where $\\sigma'(0) = 0.25$ and `np.float32(3.1416)`")) == []
    assert long_numbers(markdown_prose("$$x = 0.123$$ then 0.00165 s")) == ["0.00165"]
    assert long_numbers(markdown_prose("section 1.2.3 of the book")) == []
    assert long_numbers(markdown_prose("Kingma and Ba, arXiv:1412.6980; cs231n.github.io/neural-networks-3")) == []
    assert long_numbers(markdown_prose("## References\n- chapter 10.10, LSTM\n\n## Next\nreaches 98.91 %")) == ["98.91"]


def test_print_rule_examples():
    assert expected_print_problems('print("Expected: 0.731 0.5")')
    assert expected_print_problems('print("Expected:", np.array([0.7310586, 0.5]))')
    assert expected_print_problems('print("Expected output:", 0.5)')
    assert not expected_print_problems('print("Expected:", expected("sigmoid"))')
    assert not expected_print_problems('print(f"accuracy: {acc:.2%}")')
    assert not expected_print_problems('print(f"got {x:.3%}, expected {want:.2%}")')
    assert not expected_print_problems('print("Expected shape:", expected("shape"))')
    assert not expected_print_problems('print("Expected:", np.round(want["loss"], 6), want[0], x[1, 2])')
    assert expected_print_problems('print(f"Expected: {-0.059897}")')
    assert expected_print_problems('want = np.array([0.731, 0.5])\nprint("Expected:", want)')
    assert not expected_print_problems('z = np.array([-1000.0, 2.0])\nprint("z =", z, "expected:", expected("s"))')


def test_checker_rule_examples():
    assert checker_problems("check_close(a, 0.7310586)")
    assert checker_problems("e = np.array([0.7310586, 0.5])\ncheck_close(a, e)")
    assert not checker_problems("check_close(a, expected('a'))")
    assert not checker_problems("check_close(s.sum(axis=0), np.ones(2))")
    assert not checker_problems("check_close(a, 0.5, rtol=1e-3)")


# --- the notebooks ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.parent.name)
def test_no_typed_number_in_markdown(path):
    bad = [(i, n) for i, cell, src in cells(path) if cell["cell_type"] == "markdown"
           for n in long_numbers(markdown_prose(src))]
    assert not bad, (
        f"{path.relative_to(ROOT)}: markdown cells type numbers by hand (cell, number): {bad}. "
        "Print results from the run (e.g. print(f'test accuracy: {acc:.2%}')) or drop the figure."
    )


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.parent.name)
def test_no_typed_number_in_expected_prints(path):
    bad = [(i, line, text) for i, cell, src in cells(path) if cell["cell_type"] == "code"
           for line, text in expected_print_problems(src)]
    assert not bad, (
        f"{path.relative_to(ROOT)}: expected values typed into prints (cell, line, code): {bad}. "
        "Register them with @checks.expected in course/checks/<asg>.py and print expected('key')."
    )


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.parent.name)
def test_no_typed_number_in_visible_checks(path):
    bad = [(i, line, text) for i, cell, src in cells(path) if cell["cell_type"] == "code"
           for line, text in checker_problems(src)]
    assert not bad, (
        f"{path.relative_to(ROOT)}: visible tests compare against typed numbers (cell, line, code): {bad}. "
        "Register them with @checks.expected in course/checks/<asg>.py and compare with expected('key')."
    )


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.parent.name)
def test_notebook_states_time_prerequisites_and_references(path):
    """The first cell says how long the assignment takes and what it needs; the last markdown
    cells list references (papers and chapters) for what it teaches."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    top = "".join(nb["cells"][0]["source"]).lower()
    assert re.search(r"\btime\b|\bhours?\b", top) and "prerequisite" in top, (
        f"{path.relative_to(ROOT)}: the first cell should state the estimated time and the prerequisites")
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert any(re.search(r"^#+\s*References\b", m, re.M) for m in markdown[-2:]), (
        f"{path.relative_to(ROOT)}: end the notebook with a '## References' section")
