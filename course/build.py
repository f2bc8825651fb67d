"""``course build``: validate source notebooks and generate the student release with nbgrader."""
import shutil
import tempfile
from pathlib import Path

from course.nbgrader_api import make_api
from course.paths import COURSE_ROOT, CourseError, check_assignment
from course.validation import read_notebook, validate_source_notebook


def validate_assignment(assignment, root=COURSE_ROOT):
    """Raise CourseError listing every metadata problem of ``source/<assignment>/*.ipynb``."""
    check_assignment(assignment, root)
    notebooks = sorted((Path(root) / "source" / assignment).glob("*.ipynb"))
    if not notebooks:
        raise CourseError(f"source/{assignment}/ has no notebook")
    problems = []
    for path in notebooks:
        try:
            nb = read_notebook(path)
        except ValueError as err:
            problems.append(str(err))
            continue
        problems += validate_source_notebook(nb, f"source/{assignment}/{path.name}")
    if problems:
        raise CourseError(f"{assignment}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return notebooks


def generate_release(assignment, root=COURSE_ROOT, release_dir=None, db_url=None, lint=True):
    """Validate, then run nbgrader's generate_assignment and add the bundle's ``utils/``.

    Args:
        lint: check the source against this course's authoring rules first (``course build``);
            grading any nbgrader course leaves that to nbgrader's own validation.
        release_dir: where ``<assignment>/`` is written; default ``root/release``.
        db_url: gradebook that records the assignment and its source cells (autograding needs
            them to restore locked cells and hidden tests); default the course gradebook.
    Returns:
        the path of the generated ``release_dir/<assignment>`` folder.
    """
    if lint:
        validate_assignment(assignment, root)
    write_expected(assignment, root)
    overrides = {}
    if release_dir is not None:
        overrides["CourseDirectory"] = {"release_directory": str(Path(release_dir).resolve())}
    api = make_api(root, db_url=db_url, overrides=overrides)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise CourseError(f"nbgrader could not generate {assignment}:\n{result.get('error') or result.get('log')}")
    out = Path(release_dir or Path(root) / "release") / assignment
    # nbgrader copies the source folder's other files too; it never needs a checkpoint folder.
    shutil.rmtree(out / ".ipynb_checkpoints", ignore_errors=True)
    # the release folder is the student's bundle (nbgrader's exchange ships it as it is): add the
    # part of utils/ its notebooks import, nothing else (see course.bundle)
    from course.bundle import write_utils
    write_utils(out, root)
    return out


def write_expected(assignment, root=COURSE_ROOT):
    """Write ``source/<assignment>/expected.json`` from the grader-side checks' expected values.

    The visible tests print these (``utils.testing.expected``): every expected number a student
    reads is computed from the answer key here, never typed. Nothing is written for an assignment
    without checks; the file is only replaced when a value changes by more than float rounding
    (``course.checks.same_expected``), so a build on another CPU reproduces the committed file.
    """
    from course.checks import EXPECTED_FILE, expected_json, load_checks, same_expected
    from course.grading.engine import checks_folder

    folder = checks_folder(make_api(root), root)
    checks = load_checks(folder, assignment) if folder else None
    if checks is None or not checks.expected_values:
        return None
    path = Path(root) / "source" / assignment / EXPECTED_FILE
    text = expected_json(checks)
    if not path.exists() or not same_expected(path.read_text(encoding="utf-8"), text):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path


def fresh_build_differences(assignment, root=COURSE_ROOT):
    """Files that differ between the committed ``release/<assignment>`` and a fresh build.

    Returns a list of relative paths (empty when the committed release is up to date).
    """
    committed = Path(root) / "release" / assignment
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_release(assignment, root, release_dir=Path(tmp) / "release",
                                 db_url=f"sqlite:///{tmp}/gradebook.db")
        def files(folder):  # what running the release leaves behind is not part of it
            return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()
                    and not {"__pycache__", ".ipynb_checkpoints"} & set(p.relative_to(folder).parts)}
        names = files(fresh) | (files(committed) if committed.exists() else set())
        return sorted(str(n) for n in names
                      if not (committed / n).exists() or not (fresh / n).exists()
                      or (committed / n).read_bytes() != (fresh / n).read_bytes())
