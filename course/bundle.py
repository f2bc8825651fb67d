"""The student's bundle of an assignment: exactly what a student downloads, and nothing else.

``release/<asg>/`` *is* the bundle: nbgrader writes the release notebook(s) and the assignment's
data files (the non-notebook files of ``source/<asg>/``, e.g. ``expected.json``, ``names.txt``),
and ``course build`` then adds ``utils/``, the part of the student's library this assignment
uses. nbgrader's ``release_assignment`` / exchange ships that folder as it is;
``python -m course release ASG`` writes it (and a zip of it) for courses that hand it out
another way. The bundle never holds ``course/`` (the answer key, the hidden checks).

The ``utils/`` subset holds the ``utils`` modules the release notebook imports, the modules
those import in turn, ``utils.validate`` (the student's ``python -m utils.validate NOTEBOOK``),
the ``utils/data/`` files only when a bundled module names them, and a generated
``utils/__init__.py`` whose docstring lists what it holds. Beside it, a generated
``requirements.txt`` names what a student installs: the third-party packages the notebook and
that ``utils/`` import, at the course's pinned versions, and JupyterLab.
"""
import ast
import functools
import json
import shutil
import sys
import zipfile
from pathlib import Path

from course.paths import COURSE_ROOT, CourseError, check_assignment

PACKAGE = "utils"
ALWAYS = ("utils.validate",)  # every bundle: the student's whole-notebook self-check
REQUIREMENTS = "requirements.txt"  # the bundle's, generated (see student_requirements)
TO_OPEN_IT = ("jupyterlab",)  # what every bundle needs besides what it imports
_SKIP_PARTS = {".ipynb_checkpoints", "__pycache__"}
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed: the same bundle gives the same zip


# --- which utils modules --------------------------------------------------------------------------
def _python(source):
    """The cell's syntax tree; IPython lines (``%magic``, ``!cmd``) are read as IPython does."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    plain = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        return ast.parse(plain)
    except SyntaxError:
        pass
    from course.grading.cells import python_source  # the rest of IPython's syntax (slow to import)
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def _imports(tree, package=None):
    """Absolute names a module's (or a cell's) import statements may load.

    ``from utils import testing`` gives ``utils`` and ``utils.testing`` (whether ``testing`` is a
    module or a name is decided later, against the files); ``package`` resolves relative imports.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if not package:
                    continue
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(parts + ([base] if base else []))
            if base:
                found.append(base)
                found += [f"{base}.{a.name}" for a in node.names if a.name != "*"]
    return found


def _module_file(name, root):
    """The file of module ``utils.x`` (``utils/x.py`` or ``utils/x/__init__.py``), or None."""
    rel = Path(*name.split("."))
    for path in (Path(root) / rel.with_suffix(".py"), Path(root) / rel / "__init__.py"):
        if path.is_file():
            return path
    return None


def _is_package(name, root):
    return (Path(root) / Path(*name.split(".")) / "__init__.py").is_file()


def notebook_sources(folder):
    """The code cells' sources of the notebooks in ``folder`` (its ``utils/`` excluded)."""
    sources = []
    for path in sorted(Path(folder).rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if rel.parts[0] == PACKAGE or _SKIP_PARTS & set(rel.parts):
            continue
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (ValueError, KeyError, TypeError) as err:
            raise CourseError(f"{path} is not a readable notebook: {err}") from None
        for cell in cells:
            if cell.get("cell_type") == "code":
                text = cell.get("source", "")
                sources.append("".join(text) if isinstance(text, list) else text)
    return sources


def utils_modules(sources, root=COURSE_ROOT, always=ALWAYS, where=""):
    """The ``utils`` modules (dotted names, sorted) that code ``sources`` need, transitively.

    Raises CourseError naming every ``utils`` module imported but not on the student's side.
    """
    wanted = [name for name in always if _module_file(name, root)]
    for source in sources:
        tree = _python(source)
        if tree is not None:
            wanted += _imports(tree)
    found, missing, queue = set(), [], list(wanted)
    while queue:
        name = queue.pop()
        if name.split(".")[0] != PACKAGE or name == PACKAGE or name in found:
            continue
        path = _module_file(name, root)
        if path is None:
            parent = name.rpartition(".")[0]
            # ``from utils.x import name``: ``utils.x.name`` is a name in utils.x, not a module;
            # ``from utils import name`` with no utils/name.py is a module that does not exist
            if parent == PACKAGE or _module_file(parent, root) is None:
                missing.append(name)
            continue
        found.add(name)
        package = name if _is_package(name, root) else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        queue += _imports(tree, package)
        if _is_package(name, root):  # a sub-package travels whole
            queue += [f"{name}.{p.stem}" for p in path.parent.glob("*.py") if p.stem != "__init__"]
        queue += [name.rpartition(".")[0]]  # its parent package (utils.a for utils.a.b)
    missing = sorted({m for m in missing if m.rpartition(".")[0] not in missing})
    if missing:
        raise CourseError(f"{where or 'the notebook'} imports {', '.join(missing)}: no such module in utils/ "
                          "(the student's side; the answer key in course/reference never travels)")
    return sorted(found)


def _first_line(path):
    try:
        doc = ast.get_docstring(ast.parse(Path(path).read_text(encoding="utf-8"))) or ""
    except SyntaxError:
        doc = ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def init_text(modules, root=COURSE_ROOT, assignment=""):
    """The bundle's ``utils/__init__.py``: a docstring listing the modules it holds."""
    names = [m[len(PACKAGE) + 1:] for m in modules]
    width = max([len(n) for n in names] + [8])
    rows = [f"    {n:{width}}  {_first_line(_module_file(m, root))}".rstrip() for n, m in zip(names, modules)]
    what = f" that comes with {assignment}" if assignment else ""
    example = next((n for n in names if n == "testing"), names[0] if names else "validate")
    return (f'"""The part of the workbook\'s ``utils`` library{what}.\n\n'
            + "\n".join(rows) + "\n\n"
            f"Import modules by name, e.g. ``from utils import {example}``. Before you submit, check the\n"
            "whole notebook from this folder: ``python -m utils.validate NOTEBOOK.ipynb``.\n"
            '"""\n')


def utils_files(modules, root=COURSE_ROOT, assignment=""):
    """relative path -> bytes of the bundle's ``utils/``: the modules, their data files, ``__init__.py``."""
    root = Path(root)
    files = {f"{PACKAGE}/__init__.py": init_text(modules, root, assignment).encode()}
    texts = []
    for name in modules:
        path = _module_file(name, root)
        rel = path.relative_to(root).as_posix()
        if rel != f"{PACKAGE}/__init__.py":
            files[rel] = path.read_bytes()
        texts.append(path.read_text(encoding="utf-8"))
    data = root / PACKAGE / "data"
    if data.is_dir():
        for path in sorted(p for p in data.rglob("*") if p.is_file() and not _SKIP_PARTS & set(p.parts)):
            if any(path.name in text for text in texts):  # read by a bundled module
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


# --- what a student installs ---------------------------------------------------------------------
def _course_versions(root=COURSE_ROOT):
    """Canonical distribution name -> requirement line, from ``requirements.txt`` (exact pins), then
    ``pyproject.toml``'s dependencies (lower bounds) for what is not pinned: this workbook's, with
    the course's own (when it has them) taking precedence."""
    import tomllib

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    lines = []
    for folder in dict.fromkeys([COURSE_ROOT, Path(root)]):
        if (folder / "pyproject.toml").is_file():
            lines += tomllib.loads((folder / "pyproject.toml").read_text())["project"].get("dependencies", [])
        if (folder / "requirements.txt").is_file():
            lines += [line.split("#")[0].strip() for line in (folder / "requirements.txt").read_text().splitlines()]
    versions = {}
    for line in filter(None, lines):  # a pin (requirements.txt, read last) replaces a lower bound
        try:
            req = Requirement(line)
        except InvalidRequirement:  # pip's options (-r, --index-url), URLs: not a version to copy
            continue
        versions[canonicalize_name(req.name)] = f"{req.name}{req.specifier}"
    return versions


def third_party_modules(sources):
    """Top-level names of the modules Python ``sources`` import that are neither the standard
    library nor ``utils`` (sorted)."""
    names = set()
    for source in sources:
        tree = _python(source)
        if tree is not None:
            names |= {name.split(".")[0] for name in _imports(tree)}
    return sorted(n for n in names if n and n != PACKAGE and n not in sys.stdlib_module_names)


def student_requirements(sources, assignment, root=COURSE_ROOT):
    """The text of a bundle's ``requirements.txt``: a line per distribution that provides a module
    the code ``sources`` import, plus JupyterLab, at the versions of the requirements.txt (else
    pyproject.toml) of ``root`` and of this workbook, else the version installed here. A module no
    installed distribution provides is named in a comment (the file never stops a build or a grading run)."""
    from packaging.utils import canonicalize_name
    versions = _course_versions(root)
    wanted, unknown = set(TO_OPEN_IT), []
    for module in third_party_modules(sources):
        dists = _distributions_of(module)
        if dists:
            wanted |= {canonicalize_name(d) for d in dists}
        else:
            unknown.append(module)
    lines = sorted(versions.get(d) or _installed_pin(d) for d in wanted)
    floor = _python_floor(root)
    head = [f"# {assignment}: what its notebook and utils/ import, and JupyterLab to open it{floor}.",
            "# Install into your Python environment with: python -m pip install -r requirements.txt"]
    if unknown:
        head.append(f"# Also imported, from no package installed where this file was made: {', '.join(unknown)}")
    return "\n".join(head + lines) + "\n"


def _installed_pin(distribution):
    """``name==version`` as installed here, or the bare name when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return f"{distribution}=={version(distribution)}"
    except PackageNotFoundError:
        return distribution


def _distributions_of(module):
    """Names of the installed distributions that provide top-level ``module`` (None if none does).

    Most are named as their module (numpy, IPython): a direct look-up. The others (sklearn) need
    the map of every installed distribution's files, about a second to build, so it is built once."""
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        dist = distribution(module)
        if module in (dist.read_text("top_level.txt") or module).split():
            return [dist.metadata["Name"]]
    except PackageNotFoundError:
        pass
    return _installed_modules().get(module)


@functools.lru_cache(maxsize=1)
def _installed_modules():
    from importlib.metadata import packages_distributions
    return packages_distributions()


def _python_floor(root):
    import tomllib
    path = Path(root) / "pyproject.toml"
    path = path if path.is_file() else COURSE_ROOT / "pyproject.toml"
    spec = tomllib.loads(path.read_text())["project"].get("requires-python", "") if path.is_file() else ""
    return f" (Python {spec.lstrip('>= ')} or newer)" if spec.startswith(">=") else ""


# --- the bundle -----------------------------------------------------------------------------------
def library_root(root=COURSE_ROOT):
    """The folder holding the ``utils`` the bundles draw from: the course's own, else this workbook's
    (a scratch course that shares only ``source/`` and ``release/`` gets the same bundles)."""
    return Path(root) if (Path(root) / PACKAGE).is_dir() else COURSE_ROOT


def bundle_utils(folder, root=COURSE_ROOT, where=""):
    """(modules, files) of the ``utils/`` the notebooks in ``folder`` need, with the bundle's
    ``requirements.txt``; none for a course whose notebooks import no ``utils`` and that has no
    ``utils/`` of its own."""
    lib = library_root(root)
    sources = notebook_sources(folder)
    modules = utils_modules(sources, lib, where=where)
    if not (Path(root) / PACKAGE).is_dir() and all(m in ALWAYS for m in modules):
        return [], {}
    files = utils_files(modules, lib, Path(folder).name)
    code = [data.decode("utf-8") for rel, data in files.items() if rel.endswith(".py")]
    files[REQUIREMENTS] = student_requirements(sources + code, Path(folder).name, lib).encode()
    return modules, files


def _folder_files(folder, skip_utils=True):
    folder = Path(folder)
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or _SKIP_PARTS & set(rel.parts) or (skip_utils and rel.parts[0] == PACKAGE):
            continue
        out[rel.as_posix()] = path.read_bytes()
    return out


def write_utils(folder, root=COURSE_ROOT):
    """Replace ``folder/utils/`` by the subset the notebooks in ``folder`` need; returns the modules."""
    folder = Path(folder)
    modules, files = bundle_utils(folder, root, where=f"{folder.parent.name}/{folder.name}")
    if files:
        shutil.rmtree(folder / PACKAGE, ignore_errors=True)
        _write(folder, files)
    return modules


def bundle_files(assignment, root=COURSE_ROOT):
    """relative path -> bytes of the student's bundle of ``assignment``.

    From ``release/<assignment>/``: its notebooks and data files; ``utils/`` is computed afresh
    from the notebooks (it equals the release's own when the release is up to date).
    """
    check_assignment(assignment, root)
    release = Path(root) / "release" / assignment
    if not release.is_dir():
        raise CourseError(f"release/{assignment} is missing: run `python -m course build {assignment}`")
    files = _folder_files(release)
    if not any(name.endswith(".ipynb") for name in files):
        raise CourseError(f"release/{assignment} has no notebook: run `python -m course build {assignment}`")
    files.update(bundle_utils(release, root, where=f"release/{assignment}")[1])
    return files


def stale_bundle_files(assignment, root=COURSE_ROOT):
    """Files of ``release/<assignment>/utils/`` and its ``requirements.txt`` that differ from the
    bundle's (empty when in sync)."""
    release = Path(root) / "release" / assignment
    fresh = {k: v for k, v in bundle_files(assignment, root).items() if k.startswith(PACKAGE + "/") or k == REQUIREMENTS}
    have = {f"{PACKAGE}/{k}": v for k, v in _folder_files(release / PACKAGE, skip_utils=False).items()}
    if (release / REQUIREMENTS).is_file():
        have[REQUIREMENTS] = (release / REQUIREMENTS).read_bytes()
    return sorted(k for k in set(fresh) | set(have) if fresh.get(k) != have.get(k))


def _write(folder, files):
    for rel, data in files.items():
        path = Path(folder) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_zip(folder, zip_path):
    """Zip ``folder`` as ``<folder name>/...`` entries, sorted, with fixed dates (reproducible)."""
    folder = Path(folder)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return Path(zip_path)


def write_bundle(assignment, out, root=COURSE_ROOT, make_zip=True):
    """Write ``out/<assignment>/`` (replaced if present) and ``out/<assignment>.zip``.

    Returns:
        the path of ``out/<assignment>``.
    """
    files = bundle_files(assignment, root)
    out = Path(out)
    folder = out / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _write(folder, files)
    if make_zip:
        write_zip(folder, out / f"{assignment}.zip")
    return folder
