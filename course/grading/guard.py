"""nbgrader's Execute preprocessor, hardened: sandboxed kernel, limits, integrity checks.

``GuardedExecute`` replaces ``nbgrader.preprocessors.Execute`` in the autograde pipeline of
``course grade``. Compared with nbgrader's own:
  * the kernel is a ``SandboxKernelManager`` kernel (own working directory, rlimits, other uid,
    namespaces) started in the submission's private working directory, not next to the notebook
    (whose restored copy holds the hidden tests);
  * a whole-notebook wall-clock limit on top of the per-cell timeout;
  * a dead kernel (CPU limit, ``os._exit``, crash), a timeout or a hung grader check never
    crashes the grader: the cell that was running and every graded cell after it get an error
    output with the reason (so nbgrader scores them 0) and the rest of the notebook keeps the
    points it earned;
  * outputs beyond a byte budget are dropped (with a note) before they reach the feedback;
  * before every locked (instructor) cell the kernel's pristine state is restored, each graded
    test gets a secret epilogue proving it ran to its last statement, and after each graded test
    the grader checks that nothing it relies on was changed while the test ran (see
    ``guard_kernel.py``); a failed check is an error output on that test cell.
"""
import ast
import functools
import json
import secrets
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_locked, is_solution

from course.grading.zygote import GUARD_FACTORY
from course.grading.sandbox import Limits, SandboxKernelManager



def install_code(preimports):
    """Kernel code that installs the guard unless it is there already. It must run after the kernel
    has fully started (its snapshot includes the running kernel's attributes), before student code.

    The zygote has compiled the guard already (``zygote.compile_guard``); this takes it out of
    ``sys.modules`` and runs it."""
    return ("import sys as _sys\n"
            f"_factory = _sys.modules.pop({GUARD_FACTORY!r})\n"
            "if '__course_guard__' not in _sys.modules:\n"
            f"    _factory._install({list(preimports)!r})\n"
            "del _sys, _factory\n")


SIGNALS = {9: "SIGKILL", 24: "SIGXCPU", 25: "SIGXFSZ", 11: "SIGSEGV", 6: "SIGABRT", 15: "SIGTERM"}


@functools.lru_cache(maxsize=4096)
def _parse(source):
    """The cell's syntax tree, or None if it does not parse. The same instructor cells come back
    with every submission, so each is parsed once (callers must not modify the tree)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


@functools.lru_cache(maxsize=4096)
def top_level_names(source):
    """Names bound at the top level of a cell (not inside functions); empty if unparsable."""
    tree = _parse(source)
    if tree is None:
        return frozenset()
    names = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                if node.module and not node.level:
                    names.add("*" + node.module)  # resolved in the kernel: the module's public names
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            else:
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                        continue
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        names.add(sub.id)
    visit(tree.body)
    return frozenset(names)


def imported_modules(source):
    """Absolute module names imported by a cell (for preloading)."""
    tree = _parse(source)
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


def _offset(lines, lineno, col):
    """Character offset in the joined ``lines`` of (1-based line, UTF-8 byte column)."""
    return sum(len(x) for x in lines[: lineno - 1]) + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))


@functools.lru_cache(maxsize=4096)
def _last_expression(source):
    """(start, end) character offsets of the cell's final expression statement, or None."""
    tree = _parse(source)
    if tree is None or not tree.body:
        return None
    last = tree.body[-1]
    if isinstance(last, ast.Expr) and last.end_lineno is not None:
        lines = source.splitlines(keepends=True)
        return _offset(lines, last.lineno, last.col_offset), _offset(lines, last.end_lineno, last.end_col_offset)
    return None


def with_epilogue(source, fn, *args):
    """``source`` whose last statement is followed by (or, for an expression, wrapped in) ``fn(*args)``.

    The value of a final expression is passed through as ``fn(*args, value)``, so whatever the
    cell displays (nbgrader reads a final number as partial credit) is unchanged, and line
    numbers in tracebacks stay the same.
    """
    tree = _parse(source)
    if tree is None or not tree.body:
        return source  # a syntax error fails the cell anyway
    head = ", ".join(repr(a) for a in args)
    span = _last_expression(source)
    if span is not None:
        start, end = span
        return source[:start] + f"{fn}({head}, (" + source[start:end] + "))" + source[end:]
    sep = "" if source.endswith("\n") else "\n"
    return source + sep + f"{fn}({head})\n"


@functools.lru_cache(maxsize=4096)
def python_source(source):
    """The cell as plain Python: IPython syntax (magics, ``!cmd``) translated the way IPython does."""
    if _parse(source) is not None:
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        translated = TransformerManager().transform_cell(source)
        ast.parse(translated)
        return translated
    except Exception:  # noqa: BLE001 - a real syntax error: the cell fails anyway
        return source


_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef,
             ast.AsyncFunctionDef, ast.ClassDef) + ((ast.Match,) if hasattr(ast, "Match") else ()) + \
    ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def starts_simple(source):
    """Whether ``call; `` can be put in front of the cell's first line: that line is blank or a
    comment, or the first statement is a simple one starting at line 1, column 0."""
    tree = _parse(source)
    if tree is None or not tree.body:
        return False
    line = source.split("\n", 1)[0].strip()
    if not line or line.startswith("#"):
        return True
    first = tree.body[0]
    return not (isinstance(first, _COMPOUND) or first.lineno != 1 or first.col_offset != 0
                or getattr(first, "decorator_list", None))


def with_prologue(source, call):
    """``call; `` put in front of the cell's first line when that keeps it valid (the first statement
    is a simple one starting the cell), else None. Line numbers stay the same."""
    return f"{call}; " + source if starts_simple(source) else None


class GuardedExecute(Execute):
    """nbgrader's Execute with a sandboxed kernel, limits and integrity checks (module docstring)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
        self.kernel_manager_class = SandboxKernelManager
        self.shutdown_kernel = "immediate"

    # --- set per submission by the worker before autograding ----------------------------------
    limits = Limits()
    workdir = None
    stats = None  # dict the worker reads back: seconds spent executing cells, problems seen
    prestarted = None  # a SandboxKernelManager whose kernel is already starting (used once)
    after_kernel = None  # called once after the kernel has been shut down (boots the next one early)

    # --- helpers --------------------------------------------------------------------------------
    async def _hidden(self, code, expression=None, timeout=None):
        """Run grader code in the kernel (no history, no output); return the expression's text."""
        execute = getattr(self.kc, "_course_plain_execute", self.kc.execute)
        msg_id = execute(code, silent=True, store_history=False,
                                 user_expressions={"r": expression} if expression else None)
        timeout = timeout or max(2.0, min(10.0, self.limits.cell_timeout or 10.0))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CellTimeoutError("grader check timed out")
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0))
            except Exception:  # noqa: BLE001 - queue.Empty
                if not await self.kc.is_alive():
                    raise DeadKernelError("Kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if content.get("status") != "ok":
                raise RuntimeError(f"grader check failed: {content.get('ename')}: {content.get('evalue')}")
            if expression:
                r = content.get("user_expressions", {}).get("r", {})
                if r.get("status") != "ok":
                    raise RuntimeError(f"grader check failed: {r.get('ename')}: {r.get('evalue')}")
                return r["data"]["text/plain"]
            return None

    def hidden(self, code, expression=None, timeout=None):
        from jupyter_core.utils import run_sync
        t0 = time.monotonic()
        try:
            return run_sync(self._hidden)(code, expression, timeout)
        finally:
            if self.stats is not None:
                self.stats["check_seconds"] = self.stats.get("check_seconds", 0.0) + time.monotonic() - t0

    @staticmethod
    def _error(cell, ename, evalue):
        cell.outputs.append(NotebookNode(output_type="error", ename=ename, evalue=evalue,
                                         traceback=[f"{ename}: {evalue}"]))

    def _death_reason(self):
        code = None
        try:
            code = self.km.provisioner.process.poll() if self.km and self.km.provisioner else None
        except Exception:  # noqa: BLE001
            pass
        if code is not None and code > 128:
            sig = code - 128
            name = SIGNALS.get(sig, f"signal {sig}")
            if sig == 24:
                return f"the kernel used up its CPU time limit ({self.limits.cpu_seconds} s) and was killed ({name})"
            if sig == 25:
                return f"the kernel wrote a file larger than {self.limits.file_size // 2**20} MB ({name})"
            return f"the kernel was killed ({name}; memory or process limits?)"
        if code is not None:
            return f"the kernel exited with status {code} (sys.exit/os._exit in the notebook?)"
        return "the kernel died"

    # --- replies ----------------------------------------------------------------------------------
    _user_expressions = None
    _last_reply = None

    def on_cell_executed(self, **kwargs):
        self._last_reply = kwargs.get("execute_reply")
        return super().on_cell_executed(**kwargs)

    def _verdict(self, nonce):
        """Problems with the graded cell just run ([] if it ran to its end and nothing was tampered with)."""
        reply = self._last_reply
        if not reply or reply.get("content", {}).get("status") != "ok":
            return []  # an error: the cell scores 0 anyway (nbgrader adds the error output)
        expr = reply["content"].get("user_expressions", {}).get("guard", {})
        if expr.get("status") != "ok":
            return [f"the grader's check failed ({expr.get('ename', 'no answer')})"]
        try:
            text = ast.literal_eval(expr["data"]["text/plain"])
        except (KeyError, ValueError, SyntaxError):
            return ["the grader's check gave no answer"]
        if not text:
            return ["the test did not run to its end"]
        report = json.loads(text)
        if self.stats is not None and isinstance(report.get("spent"), (int, float)):
            self.stats["guard_seconds"] = float(report["spent"])
        if report.get("nonce") != nonce:
            return ["the grader's check answered for another test"]
        return list(report.get("problems", []))

    def _install_execute_wrapper(self):
        kc = self.kc
        execute = kc.execute

        def execute_with_check(code, *args, **kwargs):
            if self._user_expressions:
                kwargs["user_expressions"] = dict(self._user_expressions)
            return execute(code, *args, **kwargs)
        kc.execute = execute_with_check
        kc._course_plain_execute = execute

    # --- output budget ---------------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        msg_type = msg["msg_type"]
        size = len(json.dumps(msg["content"], default=str))
        self._output_bytes = getattr(self, "_output_bytes", 0) + size
        if msg_type != "error" and self._output_bytes > self.limits.output:
            if not getattr(self, "_truncated", {}).get((cell_index, msg_type, msg["content"].get("name"))):
                self._truncated = getattr(self, "_truncated", {})
                self._truncated[(cell_index, msg_type, msg["content"].get("name"))] = True
                note = (f"\n[output truncated by the grader: the notebook printed more than "
                        f"{self.limits.output // 1024} KB]\n")
                name = msg["content"].get("name", "stdout") if msg_type == "stream" else "stdout"
                out = NotebookNode(output_type="stream", name=name, text=note)
                outs.append(out)
                return out
            return None
        if msg_type == "error":
            tb = msg["content"].get("traceback") or []
            if len(tb) > 200:
                msg["content"]["traceback"] = tb[:100] + ["..."] + tb[-100:]
        return super().output(outs, msg, display_id, cell_index)

    # --- the notebook loop -------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        from nbclient.client import NotebookClient

        prestarted, GuardedExecute.prestarted = GuardedExecute.prestarted, None
        km = km or prestarted
        NotebookClient.__init__(self, nb, km)
        self.owns_km = True  # shut the kernel down afterwards, prestarted or not
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.kernel_manager_class = SandboxKernelManager
        self.shutdown_kernel = "immediate"
        self._output_bytes = 0
        self._truncated = {}
        stats = self.stats if self.stats is not None else {}
        stats.setdefault("cell_seconds", 0.0)
        stats.setdefault("problems", [])
        limits = self.limits
        cell_timeout = self.timeout
        deadline = time.monotonic() + limits.notebook_timeout

        preimports = []
        for cell in nb.cells:
            if cell.cell_type == "code" and is_locked(cell) and not is_grade(cell) and not is_solution(cell):
                preimports += imported_modules(python_source(cell.source))
        done = set()   # indices of graded cells whose execution and check completed
        stopped = ""   # why the rest of the notebook was not run
        guard = "__import__('__course_guard__')"
        cwd = str(self.workdir) if self.workdir else None
        try:
            t_kernel = time.monotonic()
            with self.setup_kernel(**({"cwd": cwd} if cwd else {})):
                info = getattr(self.kc, "ready_reply", None) or self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                stats["kernel_seconds"] = time.monotonic() - t_kernel
                self._install_execute_wrapper()
                self.hidden(install_code(preimports), timeout=60)
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 1:
                        stopped = f"the notebook used up its time limit of {limits.notebook_timeout:g} s"
                        break
                    self.timeout = max(1, int(min(cell_timeout or remaining, remaining)))
                    graded = is_grade(cell) and not is_solution(cell)
                    locked = is_locked(cell) and not is_solution(cell)
                    original = cell.source
                    nonce = secrets.token_hex(12)
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    try:
                        # What is sent: [restore();] instructor code [wrapped in reached(...)/recorded(...)];
                        # the verdict of the check comes back with the reply (user_expressions).
                        source = python_source(original)
                        prefixable = locked and starts_simple(source)  # decided before the epilogue
                        if graded:
                            # names the test binds itself may change; every other instructor name may not
                            source = with_epilogue(source, f"{guard}.reached", nonce, sorted(top_level_names(source)))
                        elif locked:
                            source = with_epilogue(source, f"{guard}.recorded", sorted(top_level_names(source)))
                        if prefixable:
                            source = f"{guard}.restore(); " + source
                        elif locked:
                            self.hidden(f"{guard}.restore()")
                        self._user_expressions = {"guard": f"{guard}.report()"} if graded else None
                        self._last_reply = None
                        cell.source = source
                        t0 = time.monotonic()
                        try:
                            self.preprocess_cell(cell, resources, index)
                        finally:
                            stats["cell_seconds"] += time.monotonic() - t0
                            cell.source = original
                            self._user_expressions = None
                        if graded:
                            problems = self._verdict(nonce)
                            if problems and not _has_error(cell):
                                self._error(cell, "GraderIntegrityError", "this test does not count: " + "; ".join(problems))
                                stats["problems"].append((grade_id, problems))
                            done.add(index)
                    except DeadKernelError:
                        stopped = self._death_reason()
                        self._error(cell, "KernelDied", stopped)
                        done.add(index)
                        break
                    except (CellTimeoutError, RuntimeError, ValueError, KeyError, TypeError, SyntaxError) as err:
                        # The grader's own check could not run (the student's code broke the kernel's
                        # machinery, or the check timed out): this cell cannot be trusted.
                        why = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
                        if graded and not _has_error(cell):
                            self._error(cell, "GraderIntegrityError", f"this test does not count: {why}")
                        done.add(index)
                        stats["problems"].append((grade_id, [why]))
                        if not run_alive(self):
                            stopped = self._death_reason()
                            break
                        if isinstance(err, CellTimeoutError):
                            stopped = ("the kernel stopped responding (still busy after a cell was interrupted "
                                       "for its time limit)")
                            break
        except DeadKernelError:
            stopped = stopped or self._death_reason()
        except RuntimeError as err:  # the kernel never started
            stopped = stopped or f"the kernel could not start: {str(err).strip()[:300]}"
        finally:
            self.timeout = cell_timeout
            after, GuardedExecute.after_kernel = GuardedExecute.after_kernel, None
            if after is not None:  # this notebook's kernel is gone: start the next submission's now
                try:
                    after()
                except Exception:  # noqa: BLE001 - the next submission starts its own
                    pass
        # Safety net: a graded cell that did not run to completion under the grader's eyes must not
        # keep nbgrader's default of full marks for a cell without an error.
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell) and index not in done:
                if not _has_error(cell):
                    self._error(cell, "GradingStopped", f"not run: {stopped or 'the grader stopped early'}")
        stats["stopped"] = stopped
        self.set_widgets_metadata()
        return self.nb, self.resources


def _has_error(cell):
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def run_alive(client):
    from jupyter_core.utils import run_sync
    try:
        return bool(client.kc is not None and run_sync(client.kc.is_alive)())
    except Exception:  # noqa: BLE001
        return False
