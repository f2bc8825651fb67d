"""``course check``: the source earns full marks and the untouched release earns zero."""
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course.grading import grade_assignment
from course.paths import COURSE_ROOT, CourseError, check_assignment
from course.submissions import reference, untouched, write_submission


@dataclass
class CheckResult:
    assignment: str
    max_score: float
    source_score: float
    release_score: float
    source_seconds: float
    release_seconds: float
    problems: list

    @property
    def ok(self):
        return not self.problems


def scratch_course(tmp, root=COURSE_ROOT):
    """A throw-away course directory sharing ``source/``, ``release/`` and the student library
    ``utils/`` (whose modules each release bundles) with ``root``."""
    tmp = Path(tmp)
    for name in ("source", "release", "utils"):
        (tmp / name).symlink_to(Path(root) / name, target_is_directory=True)
    (tmp / "submitted").mkdir()
    return tmp


def check_assignment_grades(assignment, root=COURSE_ROOT, timeout=120):
    """Grade the reference and the untouched release in a scratch course; report both."""
    check_assignment(assignment, root)
    if not (Path(root) / "release" / assignment).is_dir():
        raise CourseError(f"release/{assignment} is missing: run `python -m course build {assignment}`")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = scratch_course(tmp, root)
        write_submission(reference(assignment, root), assignment, "source", scratch / "submitted", root)
        write_submission(untouched(assignment, root), assignment, "release", scratch / "submitted", root)
        results = {r.student: r for r in grade_assignment(assignment, scratch, timeout=timeout, feedback=False)}
    src, rel = results["source"], results["release"]
    problems = []
    if src.error or src.score != src.max_score:
        lost = [f"{c.grade_id}: {c.message}" for c in src.cells if c.score < c.max_score]
        problems.append(f"source scores {src.score:g}/{src.max_score:g}" + (f" ({src.error})" if src.error else "")
                        + "".join(f"\n    {line}" for line in lost))
    if rel.score != 0:
        won = [c.grade_id for c in rel.cells if c.score > 0]
        problems.append(f"untouched release scores {rel.score:g} (should be 0): {', '.join(won)}")
    return CheckResult(assignment, src.max_score, src.score, rel.score, src.seconds, rel.seconds, problems)
