"""Adversarial submissions earn no point, read nothing, inject nothing, and harm nobody else.

The catalog lives in tests/attacks/. One class holds every attack and three honest students
(``honest_wrong``: wrong answers, 0 points; ``honest_reference`` and ``zz_honest_reference``:
correct answers, full marks, graded first and last); it is graded in one run of the real grader
(``grade_assignment``, two workers, feedback on, tight limits). Then, per attack: no graded cell
scores above its honest twin, none below it except the cells the attack itself broke; no
secret, answer-key or hidden-check text in any output or feedback; no script, event handler or
external URL in any feedback page; no escape sequence on the terminal; no formula in the CSV.
"""
import csv
import html.parser
import os
import re
import secrets as _secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

sys.path.insert(0, str(Path(__file__).parent))
from attacks import ASG, EVIL, GRADED, PWN, build_all  # noqa: E402

from course.grading import grade_assignment  # noqa: E402
from course.grading.sandbox import MB, Limits, data_paths, isolation_available, python_paths  # noqa: E402
from course.submissions import write_submission  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(isolation_available()), reason=f"no kernel isolation: {isolation_available()}")]
LIMITS = Limits(cell_timeout=10, notebook_timeout=150, cpu_seconds=60, memory=1536 * MB, output=256 * 1024,
                tmp_size=16 * MB, workdir_size=96 * MB)
TOKEN = "SECRET-" + _secrets.token_hex(8)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from course.check import scratch_course

    course = scratch_course(tmp_path_factory.mktemp("attacks"), ROOT)
    if not (course / "utils").exists():  # the release build bundles utils/ from the course root
        (course / "utils").symlink_to(ROOT / "utils", target_is_directory=True)
    # markers the kernel must never read: readable by anyone on the host, so only the sandbox's
    # view keeps them out; and a root-only one that a submission links to
    (course / "secret_marker.txt").write_text(f"{TOKEN}-course\n")
    shm = Path(tempfile.mkdtemp(prefix="course-secret-", dir="/dev/shm"))
    os.chmod(shm, 0o755)
    (shm / "secret.txt").write_text(f"{TOKEN}-shm\n")
    os.chmod(shm / "secret.txt", 0o644)
    root_only = course / "root_only.txt"
    root_only.write_text(f"{TOKEN}-root-only\n")
    os.chmod(root_only, 0o600)
    secret_paths = [str(course / "secret_marker.txt"), str(shm / "secret.txt"), str(root_only)]
    cases = build_all(ROOT, secrets=secret_paths, secret_files=[root_only, "/etc/shadow", str(ROOT / "nbgrader_config.py")])
    for student, case in cases.items():
        folder = write_submission(case.notebook, ASG, student, course / "submitted", ROOT)
        for name, target in case.links.items():
            (folder / name).symlink_to(target)
        if case.notebook_link:
            (folder / f"{ASG}.ipynb").unlink()
            (folder / f"{ASG}.ipynb").symlink_to(case.notebook_link)
    try:
        results = grade_assignment(ASG, course, timeout=10, feedback=True, workers=2, limits=LIMITS)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    for r in results:  # shown with -s, or when a test fails
        print(f"{r.student!r:28} {r.score:4g} {r.seconds:6.1f} s {r.error[:80]!r}")
    return course, cases, {r.student: r for r in results}


def _outputs_text(nb):
    """Everything the kernel produced in a notebook: stream text, rich data, errors."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts += [str(v) for v in out.get("data", {}).values()]
            parts += [str(out.get("ename", "")), str(out.get("evalue", "")), "\n".join(out.get("traceback", []))]
    parts.append(str(nb.metadata.get("widgets", "")))
    return "\n".join(parts)


def _autograded(course, student):
    path = course / "autograded" / student / ASG / f"{ASG}.ipynb"
    return nbformat.read(str(path), as_version=4) if path.exists() else nbformat.v4.new_notebook()


def _feedback(course, student):
    path = course / "feedback" / student / ASG / f"{ASG}.html"
    return path.read_text(errors="replace") if path.exists() else ""


def _secret_lines():
    """Lines of the answer key and of the hidden checks that appear nowhere in the release."""
    release = "\n".join(c.source for c in nbformat.read(str(ROOT / "release" / ASG / f"{ASG}.ipynb"), as_version=4).cells)
    attacks = (Path(__file__).parent / "attacks" / "__init__.py").read_text()
    lines = set()
    for path in (ROOT / "course" / "reference" / "activations.py", ROOT / "course" / "checks" / f"{ASG}.py"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line) >= 25 and line not in release and line not in attacks and not line.startswith(("#", '"""')):
                lines.add(line)
    source = nbformat.read(str(ROOT / "source" / ASG / f"{ASG}.ipynb"), as_version=4)
    for cell in source.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines |= {x.strip() for x in cell.source.splitlines() if len(x.strip()) >= 25 and x.strip() not in release}
    return lines


# --- scores -------------------------------------------------------------------------------------------
def test_honest_students_score_as_expected(graded):
    _, _, r = graded
    assert r["honest_wrong"].score == 0, [(c.grade_id, c.score) for c in r["honest_wrong"].cells]
    for name in ("honest_reference", "zz_honest_reference"):
        ref = r[name]
        assert ref.score == ref.max_score == 14, (name, ref.error, [(c.grade_id, c.message) for c in ref.cells if c.message])


ATTACKS = sorted(name for name in build_all(ROOT) if not name.startswith(("honest", "zz_honest")))


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_earns_nothing_dishonest(graded, attack):
    _, cases, r = graded
    case = cases[attack]
    twin = r["honest_" + case.base].by_problem()
    got = r[attack].by_problem()
    assert sorted(got) == sorted(GRADED)
    dishonest = {g: (got[g], twin[g]) for g in GRADED if got[g] > twin[g]}
    assert not dishonest, f"{attack} earned points it did not earn honestly: {dishonest}"
    collateral = {c.grade_id: (c.score, twin[c.grade_id], c.message) for c in r[attack].cells
                  if c.grade_id not in case.lost and c.score < twin[c.grade_id]}
    assert not collateral, f"{attack} lost honest points beyond the cells it broke: {collateral}"
    assert r[attack].max_score == 14


def test_gradebook_holds_what_the_grader_wrote(graded):
    course, cases, r = graded
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dl-workbook") as gb:
        asg = gb.find_assignment(ASG)
        assert asg.max_score == 14
        assert sorted(s.student.id for s in asg.submissions) == sorted(cases)
        for student, result in r.items():
            assert gb.find_submission(ASG, student).score == result.score, student


# --- the kernel's faults stay its own ----------------------------------------------------------------
def test_killed_kernels_leave_a_reason(graded):
    _, _, r = graded
    reasons = {"os_exit": "exited with status 3", "segfault": "SIGSEGV"}
    for attack, reason in reasons.items():
        lost = [c for c in r[attack].cells if c.score < c.max_score]
        assert lost and all(c.message for c in lost), attack
        assert any(reason in c.message for c in lost), (attack, [c.message for c in lost])


def test_a_kernel_filling_its_working_directory_fills_only_its_own(graded):
    """Its working directory is a capped tmpfs: the writes beyond fail in the student's own cell."""
    course, _, r = graded
    nb = nbformat.read(str(course / "autograded" / "fill_workdir" / ASG / f"{ASG}.ipynb"), as_version=4)
    errors = [f"{o.ename}: {o.evalue}" for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert any("No space left on device" in e for e in errors), errors


def test_an_endless_loop_fails_only_its_own_check(graded):
    _, _, r = graded
    cells = {c.grade_id: c for c in r["endless_loop_in_relu"].cells}
    assert cells["test_relu"].score == 0 and "did not return within" in cells["test_relu"].message
    assert all(c.score == c.max_score for g, c in cells.items() if g != "test_relu"), \
        [(g, c.message) for g, c in cells.items() if c.score < c.max_score]


def test_floods_are_capped(graded):
    course, _, r = graded
    for attack in ("huge_traceback", "widget_state_flood", "stdout_flood"):
        nb_path = course / "autograded" / attack / ASG / f"{ASG}.ipynb"
        assert nb_path.stat().st_size < 3 * MB, attack
        assert len(_feedback(course, attack)) < 4 * MB, attack
        assert r[attack].score == 14, (attack, [(c.grade_id, c.message) for c in r[attack].cells if c.message])


def test_no_process_outlives_its_kernel(graded):
    out = subprocess.run(["ps", "-eo", "uid,args"], capture_output=True, text=True).stdout
    left = [line for line in out.splitlines() if "course_attack_daemon" in line]
    assert not left, left
    assert not Path("/tmp/course_attack_daemon").exists()


# --- nothing leaks ------------------------------------------------------------------------------------
def test_no_secret_reaches_any_output_or_feedback(graded):
    course, cases, _ = graded
    secret_lines = _secret_lines()
    assert len(secret_lines) > 20  # the check below has something to look for
    leaks = {}
    for student, case in cases.items():
        nb = _autograded(course, student)
        text = _outputs_text(nb)
        feedback = _feedback(course, student)
        found = [m for m in (TOKEN, "SQLite format 3", "root:*:", "root:!:", "$6$", "$y$") if m in text or m in feedback]
        found += [line for line in secret_lines if line in text]
        if case.base == "wrong":  # a wrong notebook's own code holds no solution either, unless it stole one
            sources = "\n".join(c.source for c in nb.cells)
            found += [line for line in secret_lines if line in sources or line in feedback]
        if found:
            leaks[student] = found[:5]
    assert not leaks, leaks


def test_the_kernel_saw_only_its_allow_list(graded):
    """What the read_host_files attack listed: no course, no other submission, no home."""
    course, _, _ = graded
    text = _outputs_text(_autograded(course, "read_host_files"))
    listing = re.search(r"listing (\{.*\})", text)
    assert listing, text[:2000]
    seen = eval(listing.group(1))  # noqa: S307 - a dict of lists of names printed by the attack
    # the system's folders, and the first folder of each path the view binds (the venv, the Python it
    # was made from, the data): /work here, /check on CI, /root for pyenv
    bound = {Path(p).parts[1] for p in python_paths() + data_paths()}
    assert set(seen["/"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp",
                              "usr"} | bound, (seen["/"], bound)
    assert set(seen["/etc"]) <= {"fonts", "group", "ld.so.cache", "localtime", "passwd"}, seen["/etc"]
    # only the way to its own working directory (a run's scratch folder holds it)
    assert len(seen["/dev/shm"]) <= 1 and all(n.startswith(("course-kernel-", "course-run-")) for n in seen["/dev/shm"]), \
        seen["/dev/shm"]
    # /root exists only when the base Python lives there (pyenv); a system Python (/usr) leaves none
    assert seen.get("/root", []) in ([".pyenv"], []), seen["/root"]


# --- nothing is injected ------------------------------------------------------------------------------
class _Tags(html.parser.HTMLParser):
    """Every tag, its attributes and the text inside scripts and styles of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.inside, self.script_text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self.inside.append(tag)

    def handle_endtag(self, tag):
        if self.inside and self.inside[-1] == tag:
            self.inside.pop()

    def handle_data(self, data):
        if self.inside and self.inside[-1] in ("script", "style"):
            self.script_text.append(data)


def injected(page):
    """What in a feedback page could run, load or leave the page because of the student."""
    parser = _Tags()
    parser.feed(page)
    bad = []
    for tag, attrs in parser.tags:
        if tag in ("iframe", "object", "embed", "base", "form", "meta", "link") and any(EVIL in str(v) for _, v in attrs):
            bad.append(tag)
        for name, value in attrs:
            value = str(value or "")
            if name.startswith("on"):
                bad.append(f"<{tag} {name}>")
            if EVIL in value or value.strip().lower().startswith(("javascript:", "vbscript:")):
                bad.append(f"<{tag} {name}={value[:60]}>")
    bad += [t[:80] for t in parser.script_text if PWN in t or EVIL in t or "onerror" in t]
    bad += ["widget state"] * ("application/vnd.jupyter.widget-state+json" in page)
    return bad


def test_feedback_is_inert(graded):
    course, cases, _ = graded
    pages = {s: _feedback(course, s) for s in cases}
    assert PWN in pages["feedback_injection"]  # the injected markup is there, shown as text
    found = {s: injected(page) for s, page in pages.items() if injected(page)}
    assert not found, found


def test_terminal_and_csv_are_inert(graded, tmp_path):
    course, _, r = graded
    from course.report import read_report, reasons, summary_table, write_csv
    results = list(r.values())
    report = read_report(ASG, course, students=list(r))
    printed = summary_table(report) + "\n" + reasons(results, limit=20)
    control = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    assert not control.search(printed), [line for line in printed.splitlines() if control.search(line)][:5]
    assert "\\x1b" in printed  # the escape sequences are shown, not obeyed
    with open(write_csv(report, tmp_path / "grades.csv"), newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], [c for c in cells if c[:1] in "=+-@"]
    assert "'=2+5" in cells and "'@SUM(A1)" in cells
