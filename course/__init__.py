"""The instructor's tool: build the release, grade a class, report. Run ``python -m course --help``."""

import warnings

from course.deferred_imports import defer_rfc3987_syntax

defer_rfc3987_syntax()  # 1.8 s off every process that reads a notebook

# nbgrader 0.9 with SQLAlchemy 2.1 warns about its own session handling on every autograde.
warnings.filterwarnings("ignore", message="Object of type .* not in session")
