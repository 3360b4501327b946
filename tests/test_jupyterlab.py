"""The learner's workspace used in JupyterLab itself, in a real browser (``-m browser``).

A fresh workspace (``make workspace``) is served by ``jupyter lab`` on loopback, with
its own settings and a random token, and a Chromium (found by tools/find_chromium.py)
opens it headless through Playwright, as a learner would:

- in chapter 1's exercises, a wrong answer typed into the answer cell makes the test cell
  under it fail with the hint of that mistake; a right answer makes it print
  "public tests passed"; the notebook is saved, and ``make self-grade`` counts the
  points of the saved answer (hidden tests included);
- chapter 1's lesson runs top to bottom from the Run menu; its interactive example follows
  the slider and its quiz answers a click, inside JupyterLab;
- every other lesson of the workspace runs top to bottom there too (Run All Cells, then
  saved and read back: every code cell executed, no error output).

Screenshots go to ``artifacts/screenshots/jupyterlab-*.png``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

# Each pytest-xdist worker that runs a test here starts its own server (the ``lab``
# fixture, with a workspace folder of its own). pytest-xdist's ``xdist_group`` mark, which
# would keep the module on one worker, has no effect under pytest 9.2: xdist renames
# ``item._nodeid``, which pytest 9.2 no longer reads.
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]

from _nbgrader_common import (  # noqa: E402
    EXERCISES_NAME,
    LESSON_NAME,
    exercise_notebooks,
    grade_id,
)
from find_chromium import CHROMIUM_ARGS, HOW_TO_GET_ONE, find_chromium  # noqa: E402

SHOTS = ROOT / "artifacts" / "screenshots"
FIRST = exercise_notebooks(ROOT)[0].parent.name
TIMEOUT_MS = 60_000
LESSON_TIMEOUT_MS = 900_000  # a guard against a hang, not a speed limit

WRONG_ANSWER = """p_pred, label = 0.1, 1.0
bce = float(-np.log10(p_pred))
mse = float((p_pred - label) ** 2)
ratio = bce / mse"""
RIGHT_ANSWER = WRONG_ANSWER.replace("np.log10", "np.log")
WRONG_HINT = "base-10 logarithm"

# A notebook panel's code-cell prompts: "[3]:", "[*]:" (running or queued) or "[ ]:".
PROMPTS_JS = """
(panel) => Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
                .map(e => e.textContent.trim())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _make(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-o", ".venv/.installed", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=timeout)


def _page_config(config_dir: Path) -> None:
    """No build check on every page load (it rebuilds nothing and costs seconds)."""
    path = config_dir / "labconfig" / "page_config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"buildCheck": False, "buildAvailable": False}), encoding="utf-8")


def _settings(folder: Path) -> None:
    """Lab settings of the test: every cell rendered, no news or update pop-ups."""
    values = {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
    }
    for name, value in values.items():
        path = folder / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh workspace served by ``jupyter lab`` on loopback; yields its URL and folders."""
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(HOW_TO_GET_ONE)
    base = tmp_path_factory.mktemp("lab")
    # The workspace sits inside the checkout, two levels down, like workspace/<chapter>/
    # does (the appendix's lesson finds the course's benchmarks/ among its parents).
    # One folder per pytest-xdist worker: a second worker's fixture must not delete and
    # rewrite the files the first worker's server is running (that left a lesson's
    # kernel never idle).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workspace = ROOT / "artifacts" / ("jupyterlab-workspace" + (f"-{worker}" if worker else ""))
    if workspace.exists():
        shutil.rmtree(workspace)
    done = _make("workspace", f"WORKSPACE={workspace}")
    assert done.returncode == 0, done.stdout + done.stderr
    _settings(base / "settings")
    _page_config(base / "config")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "IPYTHONDIR": str(base / "ipython"),
           "JUPYTER_DATA_DIR": str(base / "data"), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={workspace}",
               f"--LabApp.user_settings_dir={base / 'settings'}",
               f"--LabApp.workspaces_dir={base / 'lab-workspaces'}"]
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses without the flag
        command.append("--allow-root")
    log = open(base / "jupyter-lab.log", "w")
    server = subprocess.Popen(command, cwd=workspace, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"{url}/api/status",
                                                 headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("jupyter lab did not start:\n"
                                + (base / "jupyter-lab.log").read_text()[-3000:])
                time.sleep(0.3)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), headless=True,
                                                 args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            outside: list[str] = []

            def route(r: Any) -> None:
                if r.request.url.startswith((url, "data:", "blob:", "ws://127.0.0.1")):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            try:
                yield {"url": url, "token": token, "workspace": workspace, "context": context,
                       "outside": outside}
            finally:
                context.close()
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


class Notebook:
    """One notebook opened in its own JupyterLab page."""

    def __init__(self, lab: dict[str, Any], path: str) -> None:
        self.lab, self.path = lab, path
        self.page = lab["context"].new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"{exc}\n{exc.stack}"[:1500]))
        # a lab workspace (saved layout) of its own, so that no other notebook is reopened
        layout = re.sub(r"[^A-Za-z0-9]+", "-", path)
        self.page.goto(f"{lab['url']}/lab/workspaces/{layout}/tree/{path}?reset&token={lab['token']}",
                       timeout=TIMEOUT_MS)
        self.panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        self.panel.wait_for(timeout=TIMEOUT_MS)
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=TIMEOUT_MS)
        self.wait_idle()

    def wait_idle(self, timeout: int = TIMEOUT_MS) -> None:
        """Wait until the notebook's kernel is up and idle (the status bar says so)."""
        self.page.wait_for_function(
            "() => { const t = document.querySelector('#jp-main-statusbar')?.textContent || '';"
            " return /\\|\\s*Idle/.test(t) && !t.includes('No Kernel'); }",
            timeout=timeout, polling=200)

    def cell(self, index: int) -> Any:
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def type_into(self, index: int, text: str) -> None:
        """Replace the source of cell ``index`` by ``text``, typed from the keyboard."""
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)

    def run(self, index: int) -> None:
        """Run cell ``index`` (click into it, Shift+Enter) and wait until it has run."""
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_function(
            "el => /\\[\\d+\\]/.test(el.textContent)",
            arg=self.cell(index).locator(".jp-InputPrompt").element_handle(), timeout=TIMEOUT_MS)
        self.wait_idle()

    def output(self, index: int) -> str:
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def run_all(self) -> None:
        """Run > Run All Cells from the menu bar."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def finished(self) -> bool:
        prompts = self.panel.evaluate(PROMPTS_JS)
        return bool(prompts) and not any("*" in p for p in prompts) and any(
            re.search(r"\[\d+\]", p) for p in prompts)

    def save(self) -> None:
        self.panel.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
            timeout=TIMEOUT_MS)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"jupyterlab-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def close(self) -> None:
        self.page.close()


def _index(path: Path, gid: str) -> int:
    nb = nbformat.read(str(path), as_version=4)
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def _executed_without_error(path: Path) -> list[str]:
    """Problems of a saved notebook: code cells not executed, error outputs."""
    nb = nbformat.read(str(path), as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.get("execution_count") is None:
            problems.append(f"cell {i} was not executed")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i}: {out.get('ename')}: {out.get('evalue', '')[:200]}")
    return problems


# jupyterquiz 2.9.6.4 reads `MathJax.version[0]` when it typesets; JupyterLab 4 defines a
# `window.MathJax` without a `version`, so that line throws. The quiz still renders and
# answers clicks (checked below); only the typesetting of its text is skipped.
QUIZ_MATHJAX_ERROR = "Cannot read properties of undefined (reading '0')"
QUIZ_MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"


def _unexplained(nb: Notebook) -> list[str]:
    """Page errors, except jupyterquiz's MathJax one when its cause is present."""
    versionless = nb.page.evaluate(
        "() => typeof MathJax !== 'undefined' && MathJax.version === undefined")
    return [e for e in nb.errors if not (versionless and e.startswith(QUIZ_MATHJAX_ERROR))]


def test_exercise_in_jupyterlab_then_self_grade(lab: dict[str, Any]) -> None:
    path = lab["workspace"] / FIRST / EXERCISES_NAME
    solution = _index(path, "ch01_ex1_solution")
    test_cell = _index(path, "ch01_ex1_public")
    nb = Notebook(lab, f"{FIRST}/{EXERCISES_NAME}")
    try:
        nb.shot("exercise-opened")
        nb.run(1)  # the imports
        nb.type_into(solution, WRONG_ANSWER)
        nb.run(solution)
        nb.run(test_cell)
        wrong = nb.output(test_cell)
        nb.cell(test_cell).scroll_into_view_if_needed()
        nb.shot("exercise-wrong-answer")
        assert "AssertionError" in wrong and WRONG_HINT in wrong, wrong[-600:]

        nb.type_into(solution, RIGHT_ANSWER)
        nb.run(solution)
        nb.run(test_cell)
        right = nb.output(test_cell)
        nb.shot("exercise-right-answer")
        assert "Exercise 1: public tests passed." in right, right[-600:]
        nb.save()
        assert not nb.errors, nb.errors
    finally:
        nb.close()
    saved = nbformat.read(str(path), as_version=4)
    assert "np.log(p_pred)" in saved.cells[solution].source, "the answer was not saved"

    done = _make("self-grade", f"WORKSPACE={lab['workspace']}", f"CHAPTER={FIRST}")
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)
    assert re.search(rf"^{FIRST}\s+ex1\s+2/2\s+all tests passed", done.stdout, re.MULTILINE), (
        done.stdout)
    assert re.search(rf"^{FIRST}\s+ex2\s+0/\d+\s+not attempted", done.stdout, re.MULTILINE)
    with open(lab["workspace"] / "self-grade.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["chapter"], r["exercise"]): r for r in csv.DictReader(handle)}
    assert rows[FIRST, "ex1"]["points"] == rows[FIRST, "ex1"]["max_points"] == "2"


def test_lesson1_widget_and_quiz_in_jupyterlab(lab: dict[str, Any]) -> None:
    nb = Notebook(lab, f"{FIRST}/{LESSON_NAME}")
    try:
        nb.run_all()
        deadline = time.monotonic() + LESSON_TIMEOUT_MS / 1000
        while not nb.finished():
            assert time.monotonic() < deadline, "the lesson did not finish running"
            nb.page.wait_for_timeout(300)
        nb.wait_idle()
        nb.save()
        problems = _executed_without_error(lab["workspace"] / FIRST / LESSON_NAME)
        assert not problems, problems

        slider = nb.page.locator("#ce-slider")
        slider.scroll_into_view_if_needed()
        readout = nb.page.locator("#ce-readout")
        lo, hi = (float(slider.get_attribute(a)) for a in ("min", "max"))
        nb.page.locator("#ce-y1").check()
        slider.fill(f"{lo + round(0.25 * (hi - lo)):g}")
        first_p, first_text = float(nb.page.locator("#ce-p").inner_text()), readout.inner_text()
        slider.fill(f"{lo + round(0.9 * (hi - lo)):g}")
        second_p, second_text = float(nb.page.locator("#ce-p").inner_text()), readout.inner_text()
        assert first_p < second_p and first_text != second_text, "the example ignores its slider"
        shown = float(re.findall(r"\d+\.\d+", second_text)[-1])
        decimals = len(re.findall(r"\d+\.\d+", second_text)[-1].split(".")[1])
        import math

        assert abs(shown - (-math.log(second_p))) <= 0.5 * 10.0**-decimals + 1e-12, second_text
        nb.shot("lesson1-widget")

        buttons = nb.page.locator(".MCButton")
        assert buttons.count() >= 2, "the quiz did not render in JupyterLab"
        question = buttons.first.locator("xpath=ancestor::*[contains(@class,'Quiz')][1]")
        right = question.locator(".MCButton[data-correct='true']").first
        right.scroll_into_view_if_needed()
        right.click()
        feedback = question.locator(".Feedback")
        nb.page.wait_for_function(
            "el => el.classList.contains('correct') && el.textContent.trim().length > 0",
            arg=feedback.element_handle(), timeout=TIMEOUT_MS)
        nb.shot("lesson1-quiz")
        assert not _unexplained(nb), _unexplained(nb)
    finally:
        nb.shot("lesson1-last")
        nb.close()


@pytest.mark.slow  # about two minutes on 2 cores: the lessons' own computing, in JupyterLab
def test_every_lesson_runs_in_jupyterlab(lab: dict[str, Any]) -> None:
    """Run All Cells in every lesson (two at a time), save, and read the files back."""
    lessons = sorted(p.parent.name for p in lab["workspace"].glob(f"*/{LESSON_NAME}")
                     if p.parent.name != FIRST)
    problems: dict[str, list[str]] = {}
    pending = list(lessons)
    running: list[Notebook] = []
    start = time.monotonic()
    while pending or running:
        while pending and len(running) < 2:
            nb = Notebook(lab, f"{pending.pop(0)}/{LESSON_NAME}")
            nb.run_all()
            nb.page.wait_for_timeout(500)
            running.append(nb)
        for nb in list(running):
            if nb.finished():
                nb.wait_idle()
                nb.save()
                chapter = nb.path.split("/")[0]
                problems[chapter] = _executed_without_error(lab["workspace"] / nb.path)
                problems[chapter] += _unexplained(nb)
                nb.close()
                running.remove(nb)
        assert time.monotonic() - start < LESSON_TIMEOUT_MS / 1000, (
            f"lessons still running: {[nb.path for nb in running]}")
        time.sleep(0.5)
    assert sorted(problems) == lessons
    bad = {chapter: found for chapter, found in problems.items() if found}
    assert not bad, bad
    # jupyterquiz falls back to fetching MathJax from a CDN when it finds no MathJax version
    # (see QUIZ_MATHJAX_ERROR); the test blocks it, as an offline machine would, and the
    # quizzes work without it. Nothing else may leave the local server.
    others = [u for u in lab["outside"] if not u.startswith(QUIZ_MATHJAX_CDN)]
    assert not others, f"requests outside the local server: {others}"
