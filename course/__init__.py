"""The instructor's tool: build the release, grade a class, report. Run ``python -m course --help``."""
