"""Benchmarks anyone can rerun: ``python -m course bench [SECTION ...]`` (or ``make bench``).

Each module here is a section with a ``run() -> dict`` function whose keys are merged into
``benchmarks/results.json`` (other sections' figures are kept). Sections print their figures.
"""

import course  # noqa: F401,E402 - before any section imports nbformat (see course.deferred_imports)
