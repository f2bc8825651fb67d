"""Imports that cost seconds and are almost never used, deferred to their first use.

``jsonschema`` (which nbformat uses to validate every notebook) imports the optional
``rfc3987_syntax`` when it is installed (JupyterLab's ``jupyter-events`` installs it) so that its
format checker knows the ``iri`` format. That module builds an Earley parser for the RFC 3987
grammar when it is imported: about 1.8 s, in every process that reads a notebook (the
``course`` command, each grading worker). No notebook schema uses that format. Here
``rfc3987_syntax`` is a stand-in whose ``is_valid_syntax`` imports the real module on its first
call, so a schema that does check an IRI gets the same answer, a moment later.
"""
import importlib
import importlib.util
import sys
import types

_NAME = "rfc3987_syntax"


def defer_rfc3987_syntax():
    """Install the stand-in, unless the real module is loaded already or is not installed."""
    if _NAME in sys.modules or importlib.util.find_spec(_NAME) is None:
        return
    stand_in = types.ModuleType(_NAME, "stand-in: the real module is imported on first use")

    def is_valid_syntax(term, value):
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        return importlib.import_module(_NAME).is_valid_syntax(term, value)

    stand_in.is_valid_syntax = is_valid_syntax
    sys.modules[_NAME] = stand_in
