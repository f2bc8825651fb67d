"""benchmarks/startup.py: ``course --help`` imports none of the heavy modules, and the probe would
see one if it did. No time is asserted here: the timed figure lives in the benchmark."""
from benchmarks import startup


def test_course_help_imports_no_heavy_module():
    assert startup.heavy_modules() == []


def test_the_probe_sees_a_heavy_import():
    assert startup.heavy_modules(prelude="import numpy\n") == ["numpy"]
