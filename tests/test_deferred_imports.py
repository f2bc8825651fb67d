"""The RFC 3987 grammar jsonschema may check IRIs with is built on first use, not on import."""
import subprocess
import sys

import pytest

pytest.importorskip("rfc3987_syntax")

PROBE = """
import sys
import course, nbformat
from nbformat.v4 import new_notebook, new_code_cell
nbformat.validate(new_notebook(cells=[new_code_cell("1 + 1")]))
print("lark" in sys.modules)
import jsonschema
checker = jsonschema.FormatChecker()
print(checker.conforms("https://example.org/caf\\u00e9?q=1#x", "iri"), checker.conforms("not an iri", "iri"))
print("lark" in sys.modules)
"""


def test_reading_a_notebook_builds_no_grammar_and_iri_checks_still_work():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "False", "True"]  # no parser until an IRI is checked; then the real answers


def test_without_the_stand_in_the_same_answers():
    probe = PROBE.replace("import course, nbformat", "import nbformat")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False", "True"]  # (the parser is built on import without it)
