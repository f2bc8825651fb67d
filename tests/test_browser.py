"""The student's experience in a real browser: JupyterLab from the project's environment, driven
by Playwright in headless Chromium (Debian's ``chromium`` package).

One JupyterLab server on 127.0.0.1 (a free port, no token) serves a temporary folder holding a
copy of ``release/01_activations/`` and ``solved/01_activations/``, the same with the solutions
filled in (the reference). The test runs all cells from the menu, waits for the kernel, uses
the activation explorer (dropdown and range slider) and checks that the plot changes; another
opens the untouched release notebook. Screenshots go to ``artifacts/browser/``.

Waits and selectors are the ones measured to work with JupyterLab 4.6 and Debian 12's Chromium.
The server, its kernels and the browser are stopped at the end; a leftover process fails the
test. ``nbgrader``'s Validate button in the notebook toolbar is clicked on the untouched notebook.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course.lab import lab_command
from course.paths import COURSE_ROOT
from course.submissions import reference, solution_ids, untouched

pytestmark = pytest.mark.browser  # one server for both tests (--dist loadscope keeps a module on one worker)

ASG = "01_activations"
ARTIFACTS = COURSE_ROOT / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KERNEL_IDLE = re.compile(r"Python 3 \(ipykernel\) \| Idle")

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium is not installed ({CHROMIUM} missing; run `make system-deps` or "
                "`apt-get install -y chromium`)", allow_module_level=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_settings(folder):
    """User settings for a quiet, predictable JupyterLab: no news toast, every cell in the DOM."""
    settings = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                           "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for name, value in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _solved():
    """The release notebook with the solutions filled in, as a student would have it."""
    nb = reference(ASG)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                    if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return nb


def _descendants(pid):
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:
        return []


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, note_children) of a JupyterLab server, stopped with its kernels afterwards;
    ``note_children()`` records the processes it has started so far (checked to be gone at the end)."""
    tmp = tmp_path_factory.mktemp("lab")
    notebooks = tmp / "notebooks"  # as `course lab` shows release/, plus a solved copy
    shutil.copytree(COURSE_ROOT / "release" / ASG, notebooks / ASG)
    shutil.copytree(COURSE_ROOT / "release" / ASG, notebooks / "solved" / ASG)
    nbformat.write(_solved(), str(notebooks / "solved" / ASG / f"{ASG}.ipynb"))
    _lab_settings(tmp / "settings")
    port = _free_port()
    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND="module://matplotlib_inline.backend_inline",
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = lab_command(port, open_browser=False, notebook_dir=notebooks,
                      extra=["--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
                             "--ServerApp.disable_check_xsrf=True"])  # lets the fixture POST /api/shutdown
    log = open(tmp / "lab.log", "w")
    server = subprocess.Popen(cmd, cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    children = []
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within 60 s:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, lambda: children.extend(_descendants(server.pid))
    finally:
        children.extend(_descendants(server.pid))
        _stop(server, base)
        log.close()
        leftovers = [p for p in children if p.is_running() and p.status() != "zombie"]
        for p in leftovers:
            p.kill()
        assert not leftovers, f"processes left behind by JupyterLab: {leftovers}"


def _stop(server, base):
    """Ask the server to shut down (it stops its kernels), then signal it if it does not."""
    try:
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=5).close()
    except OSError:
        pass
    for sig, wait in ((None, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if sig is not None:
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def open_notebook(page, base, path):
    """Open a notebook and wait until it is rendered and its kernel is idle."""
    page.goto(f"{base}/lab/tree/{path}?reset")  # ?reset: a fresh workspace, no tabs from an earlier test
    page.locator(".jp-NotebookPanel .jp-CodeCell .cm-content").first.wait_for(state="visible", timeout=45_000)
    page.locator(".jp-NotebookPanel .jp-Spinner").first.wait_for(state="detached", timeout=30_000)
    wait_kernel_idle(page, timeout=45_000)
    dismiss_toasts(page)


def wait_kernel_idle(page, timeout=30_000):
    page.locator(".jp-StatusBar-Item", has_text=KERNEL_IDLE).first.wait_for(state="visible", timeout=timeout)


def dismiss_toasts(page):
    """Close any notification toast (e.g. the "Jupyter news?" question) covering the notebook."""
    for button in page.locator(".Toastify__toast button").all():
        try:
            if button.is_visible():
                button.click(timeout=2_000)
        except Exception:
            pass


def run_all(page):
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:visible", has_text=re.compile(r"^Run All Cells")).first.click()
    # every code cell shows an execution count, and the kernel is idle again
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
        }""", timeout=90_000)
    wait_kernel_idle(page)


def image_src(widget):
    img = widget.locator(".widget-output img").first
    img.wait_for(state="visible", timeout=30_000)
    return img.get_attribute("src")


def wait_new_image(widget, old, timeout=20):
    """The src of the widget's plot once it differs from ``old``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        imgs = widget.locator(".widget-output img")
        if imgs.count():
            src = imgs.first.get_attribute("src")
            if src and src != old:
                return src
        time.sleep(0.2)
    return old


def test_run_all_and_use_the_widget(lab, page):
    base, note_children = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    timings = {}
    open_notebook(page, base, f"solved/{ASG}/{ASG}.ipynb")
    note_children()  # the kernel now exists: remember it, to check it is gone afterwards
    timings["open notebook, kernel idle"] = time.monotonic() - start
    run_all(page)
    timings["run all cells"] = time.monotonic() - start - sum(timings.values())

    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                          has_text="Traceback").count()
    assert errors == 0, "a cell raised an error during Run All"
    passed = page.locator(".jp-OutputArea-output", has_text="passed").count()
    assert passed >= len(solution_ids(reference(ASG))) // 2, "the visible tests did not print their results"

    page.locator(".jp-NotebookPanel .jp-Cell").first.scroll_into_view_if_needed()
    test_cell = page.locator(".jp-CodeCell", has_text="Expected").first
    test_cell.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "notebook_after_run_all.png"))
    test_cell.screenshot(path=str(ARTIFACTS / "visible_test_output.png"))

    widget = page.locator(".jp-OutputArea-output .widget-interact, .jp-OutputArea-output .jupyter-widgets.widget-vbox").filter(
        has=page.locator(".widget-slider")).first
    widget.wait_for(state="visible", timeout=30_000)
    widget.scroll_into_view_if_needed()
    before = image_src(widget)
    assert before and before.startswith("data:image/png")
    widget.screenshot(path=str(ARTIFACTS / "widget_before.png"))

    # 1. another function in the dropdown
    mark = time.monotonic()
    widget.locator(".widget-dropdown select").select_option("tanh")
    after_dropdown = wait_new_image(widget, before)
    timings["plot redrawn after the dropdown changed"] = time.monotonic() - mark
    assert after_dropdown != before, "the plot did not change after choosing tanh in the dropdown"

    # 2. the range slider, with the keyboard on its upper handle
    readout_before = widget.locator(".widget-readout").first.inner_text()
    handle = widget.locator(".widget-slider .noUi-handle").last
    handle.focus()
    mark = time.monotonic()
    for _ in range(6):
        handle.press("ArrowLeft")
    after_slider = wait_new_image(widget, after_dropdown)
    timings["plot redrawn after the slider moved"] = time.monotonic() - mark
    assert after_slider != after_dropdown, "the plot did not change after moving the z-range slider"
    readout = widget.locator(".widget-readout").first.inner_text()
    assert readout != readout_before, f"the slider readout did not move: {readout!r}"
    wait_kernel_idle(page)
    widget.screenshot(path=str(ARTIFACTS / "widget_after.png"))
    page.screenshot(path=str(ARTIFACTS / "widget_page_after.png"))
    timings["whole test"] = time.monotonic() - start
    (ARTIFACTS / "timings.json").write_text(json.dumps({k: round(v, 2) for k, v in timings.items()}, indent=1))
    assert timings["whole test"] < 120


def test_untouched_release_loads(lab, page):
    base, note_children = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    open_notebook(page, base, f"{ASG}/{ASG}.ipynb")
    note_children()
    stubs = page.locator(".jp-CodeCell .cm-content", has_text="YOUR CODE HERE")
    assert stubs.count() == len(solution_ids(untouched(ASG)))
    assert page.locator(".jp-MarkdownCell h1").first.inner_text().startswith("Assignment 1")
    assert page.locator(".jp-OutputArea-output").count() == 0  # shipped without outputs
    stubs.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "release_notebook.png"))

    # nbgrader's own check, from the notebook toolbar: it lists the cells that still fail
    page.locator(".jp-NotebookPanel-toolbar .jp-ToolbarButtonComponent", has_text="Validate").first.click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(state="visible", timeout=90_000)
    dialog.locator(".jp-Dialog-content pre, .jp-Dialog-body").first.wait_for(state="visible")
    assert "NotImplementedError" in dialog.inner_text()
    page.screenshot(path=str(ARTIFACTS / "nbgrader_validate.png"))
    dialog.locator("button", has_text="Ok").first.click()
