"""Text from a submission made inert wherever it lands: notebook outputs, the terminal, CSV cells.

Anything a student's code wrote (exception messages, printouts, names) is untrusted: control
characters could drive a terminal, a leading ``=`` could run a spreadsheet formula, and length
could exhaust a reader. These helpers cap and escape; HTML is sanitised by nbconvert's
``SanitizeHTML`` in the feedback pipeline (``nbgrader_config.py``).
"""
import re

_SGR = re.compile(r"\x1b\[[0-9;]*m")          # colour codes, as IPython writes tracebacks
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match):
    return match.group(0).encode("unicode_escape").decode("ascii")


def inert_text(text, limit=4000, keep_ansi=False):
    """``text`` at most ``limit`` characters, control characters (but newline and tab) escaped.

    ``keep_ansi`` keeps colour codes (SGR sequences, rendered safely by nbconvert); every other
    escape sequence is shown, not obeyed.
    """
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + f" [... {len(text) - limit} more characters]"
    if keep_ansi:
        parts = _SGR.split(text)
        codes = _SGR.findall(text)
        out = [_CONTROL.sub(_escape, parts[0])]
        for code, part in zip(codes, parts[1:]):
            out += [code, _CONTROL.sub(_escape, part)]
        return "".join(out)
    return _CONTROL.sub(_escape, text)


def terminal_text(text, limit=300):
    """One line for the terminal: no control characters at all, newlines shown as ``\\n``."""
    return inert_text(str(text).replace("\n", "\\n").replace("\t", " "), limit)


def csv_cell(value):
    """A CSV cell that no spreadsheet runs as a formula (leading ``= + - @`` and tab/CR quoted)."""
    if isinstance(value, str):
        value = terminal_text(value, 1000)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return value
