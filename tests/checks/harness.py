"""Run an assignment's grader-side checks in this process against plain Python functions.

``verdicts("01_activations", {"sigmoid": my_sigmoid, ...})`` gives ``{grade_id: Verdict}`` for
every test of the assignment, through the same wire encoding a real kernel uses
(``bridge.local_student``), in milliseconds: the mutation tests of each assignment use it.
"""
from course.checks import load_checks, run_test
from course.grading.bridge import local_student
from course.paths import COURSE_ROOT

CHECKS_DIR = COURSE_ROOT / "course" / "checks"


def checks_of(assignment):
    return load_checks(CHECKS_DIR, assignment)


def verdicts(assignment, namespace, only=None, student_id="alice"):
    """``{grade_id: Verdict}`` of ``namespace`` (name -> function) for the assignment's tests."""
    checks = checks_of(assignment)
    student = local_student(namespace)
    out = {}
    for grade_id in checks.tests:
        if only is None or grade_id in only:
            out[grade_id] = run_test(checks, grade_id, student, ("nb", student_id), out)
    return out


def failed(assignment, namespace, only=None):
    """Grade ids whose test fails for ``namespace``."""
    return sorted(g for g, v in verdicts(assignment, namespace, only).items() if not v.passed)


def module_namespace(module):
    """The public functions of a module, as a namespace a notebook would have."""
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}
