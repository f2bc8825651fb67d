"""The instructor's tool: build the release, grade a class, report. Run ``python -m course --help``."""

import warnings

# nbgrader 0.9 with SQLAlchemy 2.1 warns about its own session handling on every autograde.
warnings.filterwarnings("ignore", message="Object of type .* not in session")
