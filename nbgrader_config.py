"""nbgrader settings of the course. The course root is this folder."""
import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # `course` is importable even before `pip install -e .`

c.CourseDirectory.course_id = "dl-workbook"
c.CourseDirectory.root = HERE
# SQLite by default; any SQLAlchemy URL works (`course grade --db postgresql://...`).
c.CourseDirectory.db_url = os.environ.get("COURSE_DB_URL", "sqlite:///" + os.path.join(HERE, "gradebook.db"))
# Files other than notebooks that an assignment ships (data, images) travel with it.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Release notebooks ship without outputs; source notebooks are committed without them too.
c.ClearOutput.enabled = True

# Execution during autograding. The grader sets COURSE_QUICK=1 so that training cells run a
# short version; a notebook that still takes longer than this is cut off and loses those cells.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
# (nbgrader's Execute always continues after an error: allow_errors is not an option there)

# Autograding: nbgrader's pipeline with CheckedExecute in the place of Execute. Graded test cells
# that have a grader-side test in course/checks/<assignment>.py are judged there, in the grader's
# process, against course/reference; the kernel only runs the student's notebook.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,  # noqa: E402
                                    LimitOutput, SaveAutoGrades)

from course.grading.checked_execute import CheckedExecute  # noqa: E402

# (the real path of this file: a scratch course that links this config uses this course's checks)
c.CheckedExecute.checks_dir = os.path.join(os.path.dirname(os.path.realpath(__file__)), "course", "checks")
c.CheckedExecute.require_checks = True  # every graded cell of this course is judged in the grader
c.Autograde.autograde_preprocessors = [CheckedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]

# Huge outputs are truncated before they reach the feedback.
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 60

# Feedback shows scores and failure messages but never the hidden tests: nbgrader's
# GenerateFeedback renders the autograded notebook, which holds the hidden tests again, so the
# course's preprocessor removes them and trims tracebacks before the HTML is written.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from course.feedback import HideHiddenTests  # noqa: E402

# Everything a student's notebook shows is sanitised (nbconvert's SanitizeHTML, extended): no
# script, no event handler, no external URL reaches the feedback page.
# (HideHiddenTests runs SanitizeFeedback itself: HideHiddenTests.sanitize, on by default.)
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
