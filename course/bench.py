"""``course bench``: run benchmark sections and merge their figures into benchmarks/results.json."""
import importlib
import json
import platform
import pkgutil
import sys
import time
from pathlib import Path

from course.paths import COURSE_ROOT, CourseError

RESULTS = COURSE_ROOT / "benchmarks" / "results.json"


def sections():
    """Names of the benchmark sections (modules of the ``benchmarks`` folder)."""
    return sorted(m.name for m in pkgutil.iter_modules([str(COURSE_ROOT / "benchmarks")]) if not m.name.startswith("_"))


def run(names=None, results_path=RESULTS):
    """Run the named sections (all by default); return the merged results dict."""
    if str(COURSE_ROOT) not in sys.path:
        sys.path.insert(0, str(COURSE_ROOT))
    available = sections()
    names = list(names) or available
    unknown = [n for n in names if n not in available]
    if unknown:
        raise CourseError(f"unknown benchmark section(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    results = {}
    for name in names:
        print(f"== benchmark {name}", flush=True)
        start = time.perf_counter()
        figures = importlib.import_module(f"benchmarks.{name}").run()
        for key, value in figures.items():
            print(f"   {key} = {json.dumps(value)}")
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
        measured = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}
        # a smoke run (figures under NAME_smoke only) or a skipped section never re-dates the real figures
        stamp = None if not figures else f"{name}_smoke" if set(figures) == {f"{name}_smoke"} else name
        results = _merge(results_path, figures, stamp, measured)
    return results


def machine():
    """What the figures were measured on, e.g. ``x86_64 AMD EPYC, 2 cores, Python 3.11.7``: the same code runs
    at different speeds (and ratios) on different CPUs of the same size."""
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:  # not Linux
        cpu = platform.processor()
    name = f"{platform.machine()} {cpu}".strip()
    return f"{name}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}"


def _merge(path, figures, name, measured):
    """Merge one section's figures into the file as it is now (another section may have written
    it meanwhile), date them under ``_measured_on[name]`` (unless ``name`` is None), and replace
    the file atomically."""
    path = Path(path)
    results = json.loads(path.read_text()) if path.exists() else {}
    results.update(figures)
    if name is not None:
        results.setdefault("_measured_on", {})[name] = measured
    tmp = path.with_name(f".{path.name}.{__import__('os').getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return results
