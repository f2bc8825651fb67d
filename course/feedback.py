"""Feedback that shows students their scores and failure messages, never the hidden tests.

nbgrader restores the instructor's test cells, hidden tests included, before it autogrades, and
``generate_feedback`` renders that autograded notebook to HTML as it is: every hidden test
would be printed in the feedback, and a traceback through a hidden test shows its lines too.
:class:`HideHiddenTests` runs inside ``GenerateFeedback`` (registered in ``nbgrader_config.py``)
and, in each graded test cell,

- replaces each ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region by one comment,
  ``# (hidden tests ran here)``;
- trims error tracebacks to the error type and message, plus where it happened: a line of the
  visible tests (shown), "the hidden tests" (not shown), or a frame in the student's own cells
  (kept, it is their code); frames inside libraries are dropped;
- as a safety net, redacts any output line that still contains a line of hidden-test code.

It also puts a summary at the top: one row per graded test cell with its score and, where
points were lost, the first line of the error (nbgrader's template adds the total, a table of
contents and the score in each cell's header).

:class:`SanitizeFeedback` (nbconvert's ``SanitizeHTML``, stricter) makes the feedback inert: the
notebook is the student's, so its markdown, raw cells and rich outputs may carry scripts, event
handlers, external images or trackers. Markdown and raw cells become sanitised HTML, outputs keep
only text, PNG/JPEG and sanitised HTML, widget state is dropped, links keep only in-page targets
and images only inline data; MathJax macros that make links or load code are disarmed.
``HideHiddenTests`` applies it too (``sanitize``), so the feedback is inert with either config.
"""
import html
import re

import bleach
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.preprocessors import NbGraderPreprocessor
from nbformat.v4 import new_markdown_cell
from traitlets import Bool, Integer, List, Set, Unicode

from course.grading.results import error_line, strip_ansi

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_CELL_FRAME = re.compile(r"^\s*Cell In\[(\d+)\], line (\d+)")


def split_hidden(source, placeholder="# (hidden tests ran here)"):
    """(source with each hidden region replaced by ``placeholder``, list of the hidden lines).

    The placeholder keeps the indentation of the BEGIN marker. An unclosed region hides
    everything to the end of the cell.
    """
    kept, hidden, inside = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        if not inside and stripped == BEGIN:
            inside = True
            kept.append(line[: len(line) - len(line.lstrip())] + placeholder)
        elif inside and stripped == END:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            kept.append(line)
    return "\n".join(kept), hidden


def visible_line_count(source):
    """Number of lines of ``source`` before its first hidden region (all of them if none)."""
    for number, line in enumerate(source.splitlines()):
        if line.strip() == BEGIN:
            return number
    return len(source.splitlines())


def secret_lines(hidden, visible_text, min_length=6):
    """Hidden lines worth protecting: long enough, and not found anywhere in the visible text."""
    return {h.strip() for h in hidden if len(h.strip()) >= min_length and h.strip() not in visible_text}


def _is_graded_test(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test code from graded cells and trim tracebacks, for student feedback."""

    placeholder = Unicode("# (hidden tests ran here)", help="What replaces a hidden-test region.").tag(config=True)
    min_secret_length = Integer(6, help="Shorter hidden lines are not searched for in outputs.").tag(config=True)
    summary = Bool(True, help="Put a table of per-test scores and failure messages at the top.").tag(config=True)
    sanitize = Bool(True, help="Also apply SanitizeFeedback (no script, handler or external URL in the "
                    "feedback).").tag(config=True)

    def preprocess(self, nb, resources):
        # 1. execution count -> (original source, visible lines) of the graded test cells
        tests_by_count, hidden = {}, []
        for cell in nb.cells:
            if not _is_graded_test(cell):
                continue
            if cell.get("execution_count") is not None:
                tests_by_count[cell.execution_count] = cell.source
            cell.source, lines = split_hidden(cell.source, self.placeholder)
            hidden += lines
        visible_text = "\n".join(c.source for c in nb.cells)
        secrets = secret_lines(hidden, visible_text, self.min_secret_length)
        # 2. outputs: trim tracebacks, redact anything that still quotes hidden code
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = self.trim_traceback(out, tests_by_count, secrets)
                    out["evalue"] = _redact(out.get("evalue", ""), secrets)
                elif out.get("output_type") == "stream":
                    out["text"] = _redact(out.get("text", ""), secrets)
                elif "data" in out and "text/plain" in out["data"]:
                    out["data"]["text/plain"] = _redact(out["data"]["text/plain"], secrets)
        if self.summary:
            table = summary_markdown(nb)
            if table:
                nb.cells.insert(0, new_markdown_cell(table))
        if self.sanitize:
            nb, resources = SanitizeFeedback(parent=self).preprocess(nb, resources)
        return nb, resources

    def trim_traceback(self, out, tests_by_count, secrets):
        """The traceback lines a student may see (see the module docstring)."""
        ename, evalue = out.get("ename", "Error"), out.get("evalue", "")
        kept = []
        for entry in out.get("traceback", []):
            plain = strip_ansi(entry)
            match = _CELL_FRAME.match(plain)
            if match:
                count, line = int(match.group(1)), int(match.group(2))
                if count in tests_by_count:
                    kept.append(self._test_frame(tests_by_count[count], line))
                else:
                    kept.append(entry)  # the student's own cell
            elif plain.lstrip().startswith("File "):
                continue  # inside a library or the course's utils: noise for a student
            elif plain.strip().startswith("----") or "Traceback (most recent call last)" in plain:
                kept.append(entry)
            elif plain.strip().startswith(f"{ename}:") or plain.strip() == ename:
                continue  # the final line is added below, once
            else:
                kept.append(entry)
        kept = ["(trimmed: this part of the traceback quoted hidden tests)" if _quotes(strip_ansi(k), secrets) else k
                for k in kept]
        kept.append(f"\x1b[31m{ename}\x1b[39m: {_redact(evalue, secrets)}")
        return kept

    @staticmethod
    def _test_frame(source, line):
        lines = source.splitlines()
        if line <= visible_line_count(source) and 0 < line <= len(lines):
            return f"In this test cell, line {line}:\n----> {lines[line - 1].strip()}"
        return "In the hidden tests of this cell (their code is not shown; the message below says what they checked)"


def summary_markdown(nb):
    """A table (HTML inside markdown): graded test cell, score, first error where points were lost.

    Reads the scores that nbgrader's GetGrades put in the cells' metadata; '' if there are none.
    """
    rows = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        if not _is_graded_test(cell) or "score" not in meta:
            continue
        score, points = float(meta.get("score") or 0), float(meta.get("points") or 0)
        why = error_line(cell) if score < points else ""
        if score < points and not why:
            why = "no error shown; the cell may not have run"
        why = why if len(why) <= 200 else why[:197] + "..."
        grade_id = html.escape(str(meta.get("grade_id", "")))
        mark = "✅" if score >= points else ("◐" if score > 0 else "❌")
        rows.append(f'<tr><td>{mark} <a href="#{grade_id}">{grade_id}</a></td><td>{score:g} / {points:g}</td>'
                    f"<td>{html.escape(why)}</td></tr>")
    if not rows:
        return ""
    return ("## Your results\n\nOne row per graded test. The hidden tests ran on your code; their code is not "
            "shown, but their messages are.\n\n"
            '<table class="table table-condensed table-striped">\n'
            "<thead><tr><th>test</th><th>score</th><th>what went wrong</th></tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")


def _quotes(text, secrets):
    return any(s in text for s in secrets)


def _redact(text, secrets):
    if isinstance(text, list):
        text = "".join(text)
    if not secrets or not _quotes(text, secrets):
        return text
    return "\n".join("(line hidden: it quoted a hidden test)" if _quotes(line, secrets) else line
                     for line in text.split("\n"))


# --- inert HTML -----------------------------------------------------------------------------------
FEEDBACK_TAGS = ["a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
                 "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
                 "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"]
_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
# MathJax (loaded by the feedback template) would turn these into links, styles or code loads.
_MATHJAX_MACROS = re.compile(r"\\(href|url|class|cssId|style|unicode|require|HTML|data|mmlToken)(?![A-Za-z])")


def _attribute_allowed(tag, name, value):
    """No event handler, no style, no URL leaving the page (links: ``#anchors``; images: inline data)."""
    value = str(value).strip()
    if name == "href":
        return tag == "a" and value.startswith("#")
    if name == "src":
        return tag == "img" and bool(_IMAGE_DATA.match(value))
    if name in ("alt", "title"):
        return True
    if name in ("class", "id"):
        return tag in ("a", "code", "div", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "span", "table", "td", "th")
    if name in ("align", "colspan", "rowspan"):
        return tag in ("td", "th")
    if name in ("width", "height"):
        return tag == "img"
    return False


def disarm_mathjax(text):
    """``\\href`` and friends shown as text instead of run by MathJax."""
    return _MATHJAX_MACROS.sub(lambda m: r"\text{\textbackslash " + m.group(1) + "}", text)


def inert_html(text, strip=False):
    """``text`` (HTML) with only harmless tags and attributes left (the rest shown as text)."""
    if isinstance(text, list):
        text = "".join(text)
    cleaned = bleach.clean(str(text), tags=FEEDBACK_TAGS, attributes=_attribute_allowed, protocols=["data"],
                           strip=strip, strip_comments=True)
    return disarm_mathjax(cleaned)


class SanitizeFeedback(SanitizeHTML):
    """nbconvert's ``SanitizeHTML`` for feedback: nothing in it runs, phones home or loads a URL.

    * markdown cells: rendered to HTML here, sanitised, and handed back as one raw HTML block
      (the exporter's markdown renderer adds nothing to it); raw cells: sanitised HTML;
    * outputs: ``text/plain``, PNG and JPEG kept, ``text/html`` sanitised, ``text/markdown``
      rendered and sanitised, ``text/latex`` disarmed, everything else (JavaScript, SVG, widget
      views, custom types) removed;
    * notebook metadata: widget state (rendered by a script) and anything but the kernel and
      language information removed.
    """

    safe_output_keys = Set({"metadata", "text/plain", "image/png", "image/jpeg"}).tag(config=True)
    sanitized_output_types = Set({"text/html", "text/markdown", "text/latex"}).tag(config=True)
    tags = List(Unicode(), FEEDBACK_TAGS).tag(config=True)
    kept_metadata = List(Unicode(), ["kernelspec", "language_info"]).tag(config=True)

    def preprocess(self, nb, resources):
        for key in list(nb.metadata):
            if key not in self.kept_metadata:
                del nb.metadata[key]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        cell.pop("attachments", None)
        if cell.cell_type in ("markdown", "raw"):
            rendered = _markdown_html(cell.source) if cell.cell_type == "markdown" else str(cell.source)
            body = inert_html(rendered)
            # one raw HTML block: no blank line inside, so the exporter does not parse it as markdown again
            body = re.sub(r"\n\s*\n", "\n", body).strip()
            if cell.cell_type == "markdown":
                cell.source = f'<div class="course-sanitized">\n{body}\n</div>'
            else:
                cell.source = body
                cell.metadata["raw_mimetype"] = "text/html"
            return cell, resources
        if cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.get("outputs", []))
        return cell, resources

    def sanitize_code_outputs(self, outputs):
        for output in outputs:
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = output.get("data", {})
            for key in list(data):
                if key in self.safe_output_keys:
                    continue
                if key == "text/markdown":
                    data.setdefault("text/html", inert_html(_markdown_html(data[key])))
                    del data[key]
                elif key == "text/html":
                    data[key] = inert_html(data[key])
                elif key == "text/latex":
                    data[key] = disarm_mathjax("".join(data[key]) if isinstance(data[key], list) else str(data[key]))
                else:
                    del data[key]
            output["metadata"] = {}
        return outputs

    def sanitize_html_tags(self, html_str):
        return inert_html(html_str)


def _markdown_html(source):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    if isinstance(source, list):
        source = "".join(source)
    return markdown2html_mistune(str(source))
