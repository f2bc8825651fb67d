"""What is committed: notebooks without outputs, and a release that equals a fresh build (the bundle)."""
import json
import subprocess

import pytest
from conftest import ROOT, assignments

from course.build import fresh_build_differences


def committed_notebooks():
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line]


def test_there_are_committed_notebooks():
    assert any(p.startswith("source/") for p in committed_notebooks())
    assert any(p.startswith("release/") for p in committed_notebooks())


@pytest.mark.parametrize("path", committed_notebooks())
def test_notebook_has_no_outputs(path):
    nb = json.loads((ROOT / path).read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path}: cells {dirty} carry outputs; strip them (e.g. `jupyter nbconvert --clear-output --inplace`)"


@pytest.mark.slow  # runs nbgrader generate_assignment for every assignment
@pytest.mark.parametrize("assignment", assignments())
def test_release_equals_fresh_build(assignment):
    diffs = fresh_build_differences(assignment, ROOT)
    assert not diffs, f"release/{assignment} is stale in {diffs}: run `python -m course build {assignment}`"


@pytest.mark.parametrize("assignment", assignments())
def test_release_is_the_student_bundle(assignment):
    """release/ASG holds the utils modules its notebook needs and their requirements.txt (nbgrader's exchange ships it)."""
    from course.bundle import stale_bundle_files

    stale = stale_bundle_files(assignment, ROOT)
    assert not stale, f"release/{assignment} differs from its bundle in {stale}: run `python -m course build {assignment}`"


def test_bundles_are_not_committed():
    assert "/dist/" in (ROOT / ".gitignore").read_text().split()
    out = subprocess.run(["git", "ls-files", "release"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert not [p for p in out.stdout.split() if "__pycache__" in p or p.endswith(".pyc")]


@pytest.mark.parametrize("assignment", assignments())
def test_every_assignment_has_a_release(assignment):
    assert (ROOT / "release" / assignment / f"{assignment}.ipynb").is_file()


def test_nothing_reads_shared_folder():
    """The product never reads ../shared on its own (tests and CI pass MNIST_PATH explicitly)."""
    out = subprocess.run(["git", "grep", "-l", "shared/", "--", "utils", "course", "source", "release"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "", f"these files mention shared/: {out.stdout}"


def python_floor():
    """The oldest Python the project promises (``requires-python = ">=X.Y"`` in pyproject.toml)."""
    import re
    import tomllib
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)", spec.strip())
    assert match, f"requires-python {spec!r} is not of the form '>=X.Y'"
    return f"{match[1]}.{match[2]}"


def test_every_pinned_dependency_supports_the_oldest_python_we_promise():
    """pyproject's requires-python, the README and the Makefile's check name one floor, and every
    pin of requirements.txt installs there (its Requires-Python admits it)."""
    import importlib.metadata
    import re

    from packaging.specifiers import SpecifierSet
    floor = python_floor()
    refused = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        meta = importlib.metadata.metadata(name.split("[")[0])
        assert meta["Version"] == version, f"{name} {meta['Version']} is installed, requirements.txt pins {version}"
        needs = meta.get("Requires-Python")
        if needs and not SpecifierSet(needs).contains(f"{floor}.0"):
            refused.append(f"{name}=={version} needs Python {needs}")
    assert not refused, f"requires-python promises {floor}, but " + "; ".join(refused)
    assert re.findall(r"Python (\d+\.\d+)\+", (ROOT / "README.md").read_text()) == [floor] * 2
    assert f"sys.version_info >= ({floor.replace('.', ', ')})" in (ROOT / "Makefile").read_text()


def test_expected_values_equal_up_to_float_rounding_only():
    """The same checks computed on another CPU give other last bits; any other change is a change."""
    from course.checks import same_expected

    old = '{\n"a": {"__array__": [[0.28759200313136, 1e-300]], "dtype": "float64"},\n"n": 3,\n"s": "x"\n}\n'
    assert same_expected(old, old.replace("0.28759200313136", "0.2875920031313599"))
    assert same_expected(old, old.replace("1e-300", "0.0"))  # below the absolute tolerance
    assert not same_expected(old, old.replace("0.28759200313136", "0.2875921"))  # 3e-7 of itself: a real change
    assert not same_expected(old, old.replace('"n": 3', '"n": 3.0'))
    assert not same_expected(old, old.replace('"x"', '"y"'))
    assert not same_expected(old, old.replace('"s": "x"', '"s": "x", "t": 1'))
    assert not same_expected(old, old.replace("1e-300]", "1e-300, 0.5]"))
    assert not same_expected("{ broken", old)


def test_a_build_on_another_cpu_keeps_the_committed_expected_values(tmp_path):
    """write_expected (every build) keeps expected.json when the values it computes differ from the file's by
    float rounding only, so release/ equals a fresh build on any machine, and rewrites it on a real change."""
    import shutil

    from course.build import write_expected

    shutil.copytree(ROOT / "source" / "01_activations", tmp_path / "source" / "01_activations")
    (tmp_path / "nbgrader_config.py").symlink_to(ROOT / "nbgrader_config.py")
    path = tmp_path / "source" / "01_activations" / "expected.json"
    computed = path.read_text()
    values = json.loads(computed)
    first = values["sigmoid"]["__array__"][1]  # sigmoid(-2.0)
    assert isinstance(first, float)

    def with_first(value):
        return computed.replace(json.dumps(first), json.dumps(value), 1)

    path.write_text(with_first(first * (1 + 1e-14)))  # as another CPU might compute it
    write_expected("01_activations", tmp_path)
    assert path.read_text() == with_first(first * (1 + 1e-14))
    path.write_text(with_first(first * (1 + 1e-4)))  # a stale value
    write_expected("01_activations", tmp_path)
    assert path.read_text() == computed
