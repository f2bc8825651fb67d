"""nbgrader's Execute preprocessor with the verdict of each graded test cell decided in the grader.

``CheckedExecute`` takes the place of ``nbgrader.preprocessors.Execute`` in
``Autograde.autograde_preprocessors`` (set in the course's ``nbgrader_config.py``, so plain
``nbgrader autograde`` uses it too). It runs the notebook in the kernel as nbgrader does. When a
graded test cell that has a grader-side test (``course.checks``) has run, the test runs here, in
the grader's process, calling the student's functions through ``bridge.Student``; then the cell's
outputs are replaced by:
  * what the cell printed on stdout (the visible test's lines, capped), and
  * the grader's verdict: a line saying the checks passed, or an ``error`` output with the reason.
nbgrader's ``SaveAutoGrades`` then scores the cell from those outputs (an error output gives 0,
none gives full marks), so nothing the kernel prints, displays or returns decides a score, and
nbgrader's gradebook, feedback and exports work unchanged. Graded cells without a grader-side test
(another course's own hidden tests) keep nbgrader's semantics.

The kernel is nbgrader's unless configured otherwise: ``course grade`` sets
``CheckedExecute.sandbox`` to the sandbox's kernel manager class (``sandbox.py``); nbgrader's
``Execute`` fixes ``kernel_manager_class`` in its constructor, so it cannot be configured).

A kernel that dies, or stops answering, fails the check that was running and every graded cell
after it, with the reason; the notebook is never retried and the grader never crashes.
"""
import asyncio
import hashlib
import json
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Float, Integer, Type, Unicode

from course.checks import Verdict, load_checks, run_test
from course.grading.bridge import KernelTransport, Student
from course.grading.inert import inert_text
from course.grading.sandbox import Limits, Sandbox

SIGNALS = {9: "SIGKILL", 24: "SIGXCPU", 25: "SIGXFSZ", 11: "SIGSEGV", 6: "SIGABRT", 15: "SIGTERM"}
STDOUT_KEPT = 20_000  # characters of a test cell's own printout kept beside the verdict


@dataclass
class SubmissionRun:
    """What the worker hands the CheckedExecute of the submission its thread grades (worker.py)."""

    box: Sandbox = None         # the sandbox the kernel starts in (working directory, limits, preloads)
    stats: dict = field(default_factory=dict)  # read back: seconds spent, why the notebook stopped
    prestarted: object = None   # a SandboxKernelManager whose kernel is already starting (used once)
    after_kernel: object = None  # called once after the kernel is shut down (boots the next one early)


_this_thread = threading.local()


@contextmanager
def submission_run(run):
    """CheckedExecute in this thread uses ``run`` until the block ends (any number of threads)."""
    _this_thread.run = run
    try:
        yield run
    finally:
        _this_thread.run = None


def current_run():
    return getattr(_this_thread, "run", None) or SubmissionRun()


class CheckedExecute(Execute):
    """nbgrader's Execute; graded test cells get their verdict from grader-side checks."""

    checks_dir = Unicode("", help="Folder of grader-side check modules (<assignment>.py), relative to the "
                         "course root. Empty: no grader-side checks (test cells score as in nbgrader).").tag(config=True)
    call_timeout = Float(30.0, help="Seconds one call of a student's function by a check may take.").tag(config=True)
    max_output_bytes = Integer(2 * 2**20, help="Bytes of outputs (and widget state) kept per notebook; "
                               "the rest is dropped with a note.").tag(config=True)
    max_answer_bytes = Integer(64 * 2**20, help="Largest answer a check accepts from the kernel.").tag(config=True)
    require_checks = Bool(False, help="In an assignment that has a check module, every graded test cell must "
                          "have a grader-side test: a missing one is an error, never a fallback to the kernel's "
                          "own verdict.").tag(config=True)
    sandbox = Type(None, allow_none=True, help="Kernel manager class that starts sandboxed kernels "
                   "(course grade: course.grading.provisioner.SandboxKernelManager).").tag(config=True)
    allow_unsandboxed = Bool(False, help="Grade with grader-side checks in a kernel that is not the sandbox's "
                             "(it can then read the course, the answer key included).").tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shutdown_kernel = "immediate"

    # --- the notebook -----------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        from nbclient.client import NotebookClient

        info = (resources or {}).get("nbgrader", {})
        run = current_run()
        self.limits = run.box.limits if run.box else Limits()
        self._checks = None
        if self.checks_dir:
            root = Path(self.parent.coursedir.root) if getattr(self.parent, "coursedir", None) else Path.cwd()
            folder = root / self.checks_dir
            if not folder.is_dir():  # fail closed: never fall back to the kernel's own verdicts
                raise FileNotFoundError(f"CheckedExecute.checks_dir {str(folder)!r} is not a folder")
            self._checks = load_checks(folder, info.get("assignment", ""))
            self._refuse_unsafe(nb, info.get("assignment", ""), km or run.prestarted)
        # the inputs differ per student, cell and submitted content (a resubmission draws new ones)
        content = hashlib.sha256("\0".join(c.source for c in nb.cells).encode("utf-8", "replace")).hexdigest()
        self._seed_parts = (info.get("notebook", ""), info.get("student", ""), content)
        self._verdicts, self._stopped, self._transport = {}, "", None
        self._output_bytes, self._truncated = 0, set()

        prestarted, run.prestarted = run.prestarted, None
        NotebookClient.__init__(self, nb, km or prestarted)
        if self.sandbox is not None:
            self.kernel_manager_class = self.sandbox
        self.owns_km = True
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        stats = run.stats
        stats.update(cell_seconds=0.0, check_seconds=0.0, stopped="")
        self._deadline = time.monotonic() + (self.limits.notebook_timeout or 1e9)
        # the sandbox's working directory (set by course grade's worker), else nbgrader's own choice
        where = {"cwd": str(run.box.workdir), "sandbox": run.box} if run.box and self.sandbox is not None else \
            {"cwd": (resources or {}).get("metadata", {}).get("path")}
        started = False
        try:
            t0 = time.monotonic()
            with self.setup_kernel(**{k: v for k, v in where.items() if v}):
                reply = getattr(self.kc, "ready_reply", None) or self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = reply["content"]["language_info"]
                stats["kernel_seconds"] = time.monotonic() - t0
                started = True
                for index, cell in enumerate(self.nb.cells):
                    t1 = time.monotonic()
                    self.preprocess_cell(cell, resources, index)
                    stats["cell_seconds"] += time.monotonic() - t1
        except DeadKernelError:
            self._stopped = self._stopped or self._death_reason()
        except Exception as err:
            if started and not isinstance(err, RuntimeError):
                raise
            if started:  # (a RecursionError on what the student's code sent, say): the notebook stops there
                self._stopped = self._stopped or f"the notebook stopped: {type(err).__name__}: {str(err).strip()[:300]}"
            else:  # the kernel never started (a sandbox too small, a provisioner jupyter_client cannot find),
                # before any of the student's code ran: the grader's failure, never a 0
                self._stopped = self._stopped or f"the kernel could not start: {str(err).strip()[:300]}"
                stats["kernel_failed"] = self._stopped
        finally:
            after, run.after_kernel = run.after_kernel, None
            if after is not None:
                try:
                    after()
                except Exception:  # noqa: BLE001 - the next submission starts its own kernel
                    pass
        self._fail_unreached()
        stats["check_seconds"] = sum(v.seconds for v in self._verdicts.values())
        stats["cell_seconds"] = max(0.0, stats["cell_seconds"] - stats["check_seconds"])
        stats["stopped"] = self._stopped
        self.set_widgets_metadata()
        return self.nb, self.resources

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell
        if not self._stopped and time.monotonic() > self._deadline:
            self._stopped = f"the notebook used up its time limit of {self.limits.notebook_timeout:g} s"
        if self._stopped:
            cell.outputs = [_error("NotRun", f"not run: {self._stopped}")]
            return cell
        self.timeout = max(1, math.ceil(min(self.timeout or 1e9, self._deadline - time.monotonic())))  # ends past the deadline
        began = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self._stopped = self._death_reason()
            cell.outputs = list(cell.get("outputs", [])) + [_error("KernelDied", self._stopped)]
            return cell
        except CellTimeoutError as err:  # interrupted at its time limit, and still not answering (SIGINT
            # ignored); or its output stopped arriving (nbgrader's raise_on_iopub_timeout), as when a single
            # burst of output is larger than the grader accepts (MAX_MESSAGE_BYTES)
            if not await self.km.is_alive():
                self._stopped = self._death_reason()
            elif "IOPub" in str(err) and time.monotonic() - began < self.timeout:
                # the cell ran to its end (not to its time limit): the notebook goes on; this cell, if graded
                # by nbgrader itself, scores 0 (an error it did not see could have been in what was lost)
                lost = "the cell's output stopped reaching the grader (more output at once than it accepts)"
                cell.outputs = list(cell.get("outputs", [])) + [_error("OutputLost", lost)]
                if self._graded_check(cell) is not None:  # its verdict never depended on its output
                    await self.on_cell_executed(cell=cell, cell_index=cell_index,
                                                execute_reply={"content": {"status": "ok"}})
                return cell
            else:
                self._stopped = "a cell ran past its time limit and the kernel did not stop when interrupted"
            try:
                await self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - it is gone either way
                pass
            cell.outputs = list(cell.get("outputs", [])) + [_error("Timeout", self._stopped)]
            return cell

    # nbclient binds ``execute_cell`` (what nbconvert's preprocess_cell calls) to its own coroutine:
    # without this line the override above never runs (no per-notebook time limit, no "not run").
    execute_cell = run_sync(async_execute_cell)

    async def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        cell = kwargs["cell"]
        grade_id = self._graded_check(cell)
        if grade_id is None:
            return
        if self._transport is None:
            self._transport = KernelTransport(self, asyncio.get_running_loop(), timeout=self.call_timeout,
                                              max_bytes=self.max_answer_bytes)
        self._transport.deadline = self._deadline  # a check never outlives the notebook's time limit
        student = Student(self._transport)
        verdict = await asyncio.to_thread(run_test, self._checks, grade_id, student, self._seed_parts,
                                          self._verdicts)
        if self._transport.gone and not self._stopped:
            self._stopped = self._transport.gone
        self._verdicts[grade_id] = verdict
        apply_verdict(cell, verdict)

    # --- helpers ----------------------------------------------------------------------------------
    def _refuse_unsafe(self, nb, assignment, km=None):
        """Fail closed: no fallback to in-kernel verdicts, no unsandboxed kernel next to the answer key."""
        from course.grading.provisioner import SandboxKernelManager
        sandboxed = isinstance(km, SandboxKernelManager) if km is not None else \
            (self.sandbox is not None and issubclass(self.sandbox, SandboxKernelManager))
        if self._checks is not None and not self.allow_unsandboxed and not sandboxed:
            raise RuntimeError("CheckedExecute: this kernel would not be sandboxed (it could read the answer key); "
                               "grade with `course grade`, or set CheckedExecute.allow_unsandboxed = True")
        if self.require_checks and self._checks is not None:  # (tests/test_checks_cover_every_assignment.py)
            graded = [c.metadata["nbgrader"].get("grade_id") for c in nb.cells
                      if c.cell_type == "code" and is_grade(c) and not is_solution(c)]
            missing = [g for g in graded if self._checks is None or g not in self._checks.tests]
            if missing:
                raise RuntimeError(f"CheckedExecute: no grader-side test for {assignment}: {', '.join(missing)} "
                                   "(CheckedExecute.require_checks is on)")

    def _graded_check(self, cell):
        """The grade id of a graded test cell that has a grader-side test, else None."""
        if self._checks is None or cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            return None
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        return grade_id if grade_id in self._checks.tests else None

    def _fail_unreached(self):
        """Graded cells the grader never judged (kernel died, time limit) score 0, with the reason."""
        for cell in self.nb.cells:
            grade_id = self._graded_check(cell)
            if grade_id is not None and grade_id not in self._verdicts:
                verdict = Verdict(grade_id, False, f"not checked: {self._stopped or 'the notebook did not reach it'}")
                self._verdicts[grade_id] = verdict
                apply_verdict(cell, verdict)

    def _death_reason(self):
        code = getattr(self.km.provisioner, "returncode", None) if self.km else None
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

    # --- output budget ----------------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        content = msg["content"]
        if msg["msg_type"] == "error":  # a traceback is capped, never dropped (it explains the 0)
            content["evalue"] = inert_text(content.get("evalue", ""), 2000)
            tb = content.get("traceback") or []
            content["traceback"] = [inert_text(t, 4000, keep_ansi=True) for t in (tb[:30] + tb[-10:] if len(tb) > 40 else tb)]
        size = len(json.dumps(content, default=str))
        self._output_bytes += size
        if msg["msg_type"] == "error" and self._output_bytes > self.max_output_bytes and \
                any(o.get("output_type") == "error" for o in outs):
            return None  # over the budget, one error per cell is enough to explain its 0
        if msg["msg_type"] != "error" and self._output_bytes > self.max_output_bytes:
            key = (cell_index, msg["msg_type"], content.get("name"))
            if key not in self._truncated:
                self._truncated.add(key)
                note = f"\n[output truncated by the grader: more than {self.max_output_bytes // 1024} KB]\n"
                out = NotebookNode(output_type="stream", name="stdout", text=note)
                outs.append(out)
                return out
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        """An update rewrites every earlier output with its display id: it costs its size that many
        times (nbclient 0.11's private hook, pinned in requirements.txt)."""
        targets = sum(len(v) for v in self._display_id_map.get(display_id, {}).values())
        self._output_bytes += len(json.dumps(msg["content"], default=str)) * max(1, targets)
        if self._output_bytes > self.max_output_bytes:
            return None
        return super()._update_display_id(display_id, msg)

    def handle_comm_msg(self, outs, msg, cell_index):
        self._output_bytes += len(json.dumps(msg["content"], default=str)) + sum(len(b) for b in msg.get("buffers", []))
        if self._output_bytes > self.max_output_bytes:
            return None  # widget state beyond the budget is not kept
        return super().handle_comm_msg(outs, msg, cell_index)


def _error(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def apply_verdict(cell, verdict):
    """Replace a graded test cell's outputs: its own stdout (capped), then the grader's verdict."""
    printed = "".join(o.get("text", "") for o in cell.get("outputs", [])
                      if o.get("output_type") == "stream" and o.get("name") == "stdout")
    outputs = []
    if printed:
        if len(printed) > STDOUT_KEPT:
            printed = printed[:STDOUT_KEPT] + "\n[... the rest of this cell's printout is not kept]\n"
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=inert_text(printed, STDOUT_KEPT + 100)))
    if verdict.passed:
        outputs.append(NotebookNode(output_type="stream", name="stdout",
                                    text="\N{WHITE HEAVY CHECK MARK} The grader's checks of this test passed.\n"))
    else:
        outputs.append(_error("CheckFailed", inert_text(verdict.message, 4000)))
    cell.outputs = outputs
