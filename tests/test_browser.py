"""The built book in a real browser (``make book`` first; run with ``-m browser``).

Debian's chromium, driven headless by Playwright, opens every page of
``_build/html`` from a local HTTP server and checks what a reader would see:
MathJax typesets every formula (no raw TeX left, no TeX errors), every image
loads, the console stays free of errors and no request leaves the local server.
axe-core (fetched from npm with its hash checked, never from a CDN) audits every page
in light and dark mode: no serious or critical violation is allowed.
A screenshot of every page goes to ``artifacts/screenshots/``: its first screen, or the
whole page with ``BOOK_SCREENSHOTS=full`` in the environment (a long page costs seconds).
Chapter 1 is then used by hand: its quiz answers a click, its interactive
example follows the slider, and its exercise solutions start folded.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

from fetch_assets import AXE_SCRIPT  # noqa: E402
from find_chromium import CHROMIUM_ARGS, HOW_TO_GET_ONE, find_chromium  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "artifacts" / "screenshots"
FULL_PAGE_SHOTS = os.environ.get("BOOK_SCREENSHOTS") == "full"
SKIP_PAGES = {"index.html", "search.html", "genindex.html"}  # redirect stub, search UI
LESSON_1 = "chapters/01_cross_entropy/lesson.html"
EXERCISES_1 = "chapters/01_cross_entropy/exercises.html"
SHARED_PAGES = {LESSON_1, EXERCISES_1}
TIMEOUT_MS = 20_000

# Visible text outside code and typeset math that still looks like TeX.
RAW_TEX = re.compile(
    r"\$\$|\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*\$"
    r"|\\(?:frac|sum|prod|ln|log|exp|mathrm|mathbf|operatorname|begin|end|left|right|sigma|cdot"
    r"|partial|nabla|infty|quad|text)\b"
)

VISIBLE_PROSE_JS = """
() => {
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "TEXTAREA", "NOSCRIPT",
                        "MJX-CONTAINER", "MJX-ASSISTIVE-MML", "SVG", "MATH"]);
  const root = document.querySelector("main") || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let el = node.parentElement, hidden = false;
    for (let p = el; p; p = p.parentElement) {
      if (skip.has(p.tagName.toUpperCase())) { hidden = true; break; }
    }
    if (hidden || !node.textContent.trim()) continue;
    if (!el.getClientRects().length) continue;  // not rendered (folded, display:none)
    texts.push(node.textContent);
  }
  return texts;
}
"""

MATHJAX_DONE_JS = """
async () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return "absent";
  await MathJax.startup.promise;
  return MathJax.version;
}
"""

MATH_STATE_JS = """
() => {
  const elements = Array.from(document.querySelectorAll("span.math, div.math"));
  const untypeset = elements.filter(e => !e.querySelector("mjx-container"))
                            .map(e => e.textContent.slice(0, 80));
  const errors = Array.from(document.querySelectorAll(
      "mjx-merror, [data-mml-node='merror']")).map(e => e.textContent.slice(0, 80));
  return {count: elements.length, untypeset, errors,
          containers: document.querySelectorAll("mjx-container").length};
}
"""

IMAGES_JS = """
async () => {
  const images = Array.from(document.images);
  await Promise.all(images.map(img => {
    img.loading = "eager";
    if (img.complete) return null;
    return new Promise(done => {
      img.addEventListener("load", done); img.addEventListener("error", done);
      setTimeout(done, 5000);
    });
  }));
  return images.map(img => ({src: img.getAttribute("src"), width: img.naturalWidth}));
}
"""


# axe-core's audit in one colour mode (pydata-sphinx-theme switches on data-theme):
# the serious and critical violations, each with the first elements it names.
AXE_JS = """
async (mode) => {
  // no colour transition may be caught half-way: axe must see the mode's final colours
  if (!document.getElementById("axe-no-transitions")) {
    const style = document.createElement("style");
    style.id = "axe-no-transitions";
    style.textContent = "*, *::before, *::after { transition: none !important; " +
                        "animation: none !important; }";
    document.head.appendChild(style);
  }
  document.documentElement.dataset.theme = mode;
  document.documentElement.dataset.mode = mode;
  const frame = () => new Promise(done => requestAnimationFrame(done));
  await frame(); await frame();
  await new Promise(done => setTimeout(done, 200));
  // the dark mode changes colours only: it is audited by the rules that read colours
  const options = mode === "light" ? {resultTypes: ["violations"]}
    : {resultTypes: ["violations"], runOnly: {type: "rule", values: COLOUR_RULES}};
  const result = await axe.run(document, options);
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id} (${v.help}): ` +
              v.nodes.slice(0, 4).map(n => n.target.join(" ") + " " +
                                      n.html.slice(0, 160)).join(" | "));
}
"""
AXE_MODES = ("light", "dark")
# axe-core's rules that depend on the page's colours (the only thing the dark mode changes)
AXE_COLOUR_RULES = ("color-contrast", "link-in-text-block")
AXE_JS = AXE_JS.replace("COLOUR_RULES", json.dumps(list(AXE_COLOUR_RULES)))


def built_pages() -> list[str]:
    """Pages of the built book, relative to ``_build/html`` (empty if not built)."""
    if not HTML.is_dir():
        return []
    return sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        if "_static" not in p.relative_to(HTML).parts
        and p.relative_to(HTML).as_posix() not in SKIP_PAGES
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Serve ``_build/html`` on a free local port; yield the base URL."""
    assert (HTML / "intro.html").is_file(), "_build/html is missing: run `make book` first"
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium, found as ``tools/find_chromium.py`` documents."""
    chromium = find_chromium()
    assert chromium is not None, HOW_TO_GET_ONE
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """One page opened in a fresh browser context, with everything it logged."""

    def __init__(self, browser: object, base: str, page_name: str) -> None:
        self.origin = urlsplit(base).netloc
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        # Requests to any other host are recorded and aborted (the test must not
        # depend on the network); local ones go through.
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        self.page.on("requestfailed", self._request_failed)
        self.pending: dict[object, str] = {}
        self.page.on("request", lambda r: self.pending.__setitem__(r, r.url))
        self.page.on("requestfinished", lambda r: self.pending.pop(r, None))
        self.page.on("requestfailed", lambda r: self.pending.pop(r, None))
        self.page.goto(base + page_name, wait_until="load")
        self.mathjax = self.page.evaluate(MATHJAX_DONE_JS)
        self.settle()

    def settle(self, quiet_ms: float = 700.0) -> None:
        """Wait until no request has been in flight for ``quiet_ms``.

        jupyterquiz re-typesets its questions 0.5 s after it runs (and would fetch
        MathJax from a CDN if that failed): late requests must happen before the
        page is judged. Fails with the pending URLs instead of hanging.
        """
        start = last_busy = time.monotonic()
        while (time.monotonic() - last_busy) * 1000 < quiet_ms:
            self.page.wait_for_timeout(100)
            if self.pending:
                last_busy = time.monotonic()
            if (time.monotonic() - start) * 1000 > TIMEOUT_MS:
                pytest.fail(f"requests still pending after {TIMEOUT_MS} ms: {self.pending}")

    def _route(self, route: object) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"} or parts.netloc == self.origin:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, message: object) -> None:
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def _request_failed(self, request: object) -> None:
        if urlsplit(request.url).netloc == self.origin:
            self.failed.append(f"failed {request.url}: {request.failure}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def shared_visits() -> Iterator[dict[str, Visit]]:
    """Chapter-1 pages stay open between tests (a page load costs seconds)."""
    cache: dict[str, Visit] = {}
    yield cache
    for v in cache.values():
        v.close()


@pytest.fixture
def visit(browser: object, server: str, shared_visits: dict[str, Visit]) -> Iterator[object]:
    """Open pages with ``visit(name)``; pages other than chapter 1's close after the test."""
    opened: list[Visit] = []

    def open_page(page_name: str) -> Visit:
        if not (HTML / page_name.split("?")[0]).is_file():
            pytest.skip(f"{page_name} is not in the built book yet")
        if page_name in SHARED_PAGES:
            if page_name not in shared_visits:
                shared_visits[page_name] = Visit(browser, server, page_name)
            return shared_visits[page_name]
        opened.append(Visit(browser, server, page_name))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


@pytest.mark.parametrize("page_name", built_pages() or ["<book not built>"])
def test_page_renders_cleanly(visit: object, page_name: str) -> None:
    assert page_name != "<book not built>", "_build/html has no pages: run `make book` first"
    v = visit(page_name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / (page_name.removesuffix(".html").replace("/", "__") + ".png")
    v.page.screenshot(path=str(shot), full_page=FULL_PAGE_SHOTS)

    assert not v.outside, f"requests outside the book: {v.outside}"
    assert not v.failed, f"failed requests: {v.failed}"
    assert not v.errors, "console errors:\n" + "\n".join(v.errors)

    math_state = v.page.evaluate(MATH_STATE_JS)
    if math_state["count"]:
        assert v.mathjax.startswith("3."), f"page has math but MathJax is {v.mathjax!r}"
    assert not math_state["untypeset"], f"math not typeset: {math_state['untypeset']}"
    assert not math_state["errors"], f"TeX errors: {math_state['errors']}"
    assert math_state["containers"] >= math_state["count"]

    raw = [t.strip()[:100] for t in v.page.evaluate(VISIBLE_PROSE_JS) if RAW_TEX.search(t)]
    assert not raw, "visible raw TeX:\n" + "\n".join(raw)

    images = v.page.evaluate(IMAGES_JS)
    broken = [img["src"] for img in images if img["width"] == 0]
    assert not broken, f"images that did not load: {broken}"

    folded = v.page.evaluate(
        "() => Array.from(document.querySelectorAll('.tag_hide-input details, "
        "details.hide')).filter(d => d.open).length"
    )
    assert folded == 0, f"{folded} hidden cell(s) start unfolded"

    assert AXE_SCRIPT.is_file(), "axe-core is missing: run `python tools/fetch_assets.py`"
    v.page.add_script_tag(path=str(AXE_SCRIPT))
    violations = [f"{mode}: {line}" for mode in AXE_MODES
                  for line in v.page.evaluate(AXE_JS, mode)]
    v.page.evaluate("() => { document.documentElement.dataset.theme = 'light'; "
                    "document.documentElement.dataset.mode = 'light'; }")
    assert not violations, "serious or critical accessibility violations (axe-core):\n" + (
        "\n".join(violations))


def readout_value(v: Visit) -> tuple[float, int]:
    """The loss shown in ``#ce-readout`` (its last decimal number) and its decimals."""
    text = v.page.locator("#ce-readout").inner_text()
    found = re.findall(r"\d+\.\d+", text)
    assert found, f"#ce-readout shows no decimal number: {text!r}"
    return float(found[-1]), len(found[-1].split(".")[1])


def shown_p(v: Visit) -> float:
    """The predicted probability the widget shows next to its slider (``#ce-p``)."""
    return float(v.page.locator("#ce-p").inner_text())


def move_slider(v: Visit, target: float) -> float:
    """Drag ``#ce-slider`` to the position showing ``p = target``; return the p shown.

    The slider's positions map linearly to probabilities: read the two ends, solve
    for the position of ``target``, and fill it in (Playwright dispatches the
    ``input`` and ``change`` events a drag would).
    """
    slider = v.page.locator("#ce-slider")
    lo, hi = (float(slider.get_attribute(a)) for a in ("min", "max"))
    slider.fill(f"{lo:g}")
    p_lo = shown_p(v)
    slider.fill(f"{hi:g}")
    p_hi = shown_p(v)
    position = round(lo + (target - p_lo) * (hi - lo) / (p_hi - p_lo))
    slider.fill(str(position))
    p = shown_p(v)
    assert abs(p - target) <= abs(p_hi - p_lo) / (hi - lo) / 2 + 1e-12, (
        f"slider at {position} shows p = {p}, wanted {target}"
    )
    return p


def assert_readout(v: Visit, expected: float, what: str) -> None:
    shown, decimals = readout_value(v)
    assert decimals >= 2, f"readout {shown} is too coarse to check"
    assert abs(shown - expected) <= 0.5 * 10.0**-decimals + 1e-12, (
        f"{what}: readout {shown}, the formula gives {expected:.6f}"
    )


def test_lesson1_interactive_example_follows_the_slider(visit: object) -> None:
    v = visit(LESSON_1)
    for selector in ("input#ce-slider[type=range]", "#ce-readout", "#ce-p", "#ce-y1", "#ce-y0"):
        assert v.page.locator(selector).count() == 1, f"chapter 1 has no {selector}"
    v.page.locator("#ce-y1").check()
    before = v.page.locator("#ce-readout").inner_text()
    p = move_slider(v, 0.2)
    assert p == 0.2, f"the slider cannot show p = 0.2 exactly (shows {p})"
    assert v.page.locator("#ce-readout").inner_text() != before, "readout did not change"
    assert_readout(v, 1.609, "y=1, p=0.2 (-ln 0.2 = 1.609)")
    for target in (0.9, 0.01, 0.5):
        p = move_slider(v, target)
        assert_readout(v, -math.log(p), f"y=1, p={p}")
    v.page.locator("#ce-y0").check()
    for target in (0.2, 0.9, 0.99):
        p = move_slider(v, target)
        assert_readout(v, -math.log1p(-p), f"y=0, p={p}")
    assert not v.errors, "console errors:\n" + "\n".join(v.errors)


def test_lesson1_quiz_answers_a_click(visit: object) -> None:
    v = visit(LESSON_1)
    buttons = v.page.locator(".MCButton")
    assert buttons.count() >= 2, "chapter 1 has no multiple-choice quiz (jupyterquiz .MCButton)"
    first = buttons.first
    feedback = v.page.locator(".Feedback").first
    assert feedback.inner_text().strip() == "", "feedback shown before any answer"
    question = first.locator("xpath=ancestor::*[contains(@class,'Quiz')][1]")
    wrong = question.locator(".MCButton:not([data-correct='true'])").first
    right = question.locator(".MCButton[data-correct='true']").first
    assert right.count() == 1, "the first question has no correct answer"
    fb = question.locator(".Feedback")
    if wrong.count():
        wrong.click()
        fb.filter(has_text=re.compile(r"\S")).wait_for()
        assert "incorrect" in (fb.get_attribute("class") or "")
        assert "incorrectButton" in (wrong.get_attribute("class") or "")
    right.click()
    v.page.wait_for_function(
        "el => el.classList.contains('correct') && el.textContent.trim().length > 0",
        arg=fb.element_handle(),
    )
    assert "correctButton" in (right.get_attribute("class") or "")
    assert fb.inner_text().strip(), "no feedback text after the correct answer"
    assert not v.errors, "console errors:\n" + "\n".join(v.errors)
    assert not v.outside, f"requests outside the book: {v.outside}"


def test_exercises1_solutions_start_folded_and_open_on_click(visit: object) -> None:
    v = visit(EXERCISES_1)
    toggles = v.page.locator(".cell.tag_hide-input details")
    assert toggles.count() >= 1, "chapter 1 exercises have no hide-input solution cell"
    for i in range(toggles.count()):
        details = toggles.nth(i)
        body = details.locator(".cell_input")
        assert details.evaluate("d => !d.open"), f"solution {i} starts open"
        label = details.locator("summary").inner_text()
        assert "solution" in label.lower(), f"solution {i}'s toggle reads {label!r}"
        assert not body.is_visible(), f"solution {i} is visible before a click"
        details.locator("summary").click()
        body.wait_for(state="visible")
        assert details.evaluate("d => d.open")
        assert "BEGIN SOLUTION" in body.inner_text()
    assert not v.errors, "console errors:\n" + "\n".join(v.errors)


def test_search_works_offline(visit: object) -> None:
    v = visit("search.html?q=entropy")
    results = v.page.locator("#search-results ul.search li")
    results.first.wait_for(state="visible")
    assert results.count() >= 1
    links = results.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert any("chapters/" in href for href in links), f"search found no chapter: {links}"
    assert not v.errors, "console errors:\n" + "\n".join(v.errors)
    assert not v.outside, f"requests outside the book: {v.outside}"


def test_lesson1_slider_and_quizzes_work_from_the_keyboard(visit: object) -> None:
    """The widget's slider and every quiz answer have a name and answer to keys alone."""
    v = visit(LESSON_1)
    page = v.page
    slider = page.get_by_role("slider", name=re.compile(r"probability"))
    assert slider.count() == 1, "the slider has no accessible name naming the probability"
    slider.focus()
    start = shown_p(v)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert shown_p(v) > start, "ArrowRight on the focused slider did not raise p"
    page.keyboard.press("Home")
    assert shown_p(v) < start, "Home on the focused slider did not move it to its low end"

    quizzes = page.locator(".Quiz")
    assert quizzes.count() >= 1
    for i in range(quizzes.count()):
        quiz = quizzes.nth(i)
        for k in range(quiz.locator("input").count()):
            control = quiz.locator("input").nth(k)
            name = control.evaluate(
                "el => el.getAttribute('aria-label') || (el.labels && el.labels.length ? "
                "el.labels[0].innerText : '')"
            )
            assert name.strip(), f"quiz {i}, answer {k} has no accessible name"
    # the last multiple-choice question, answered with Tab and Space only
    choice = page.locator(".Quiz:has(input[type=radio])").last
    first_radio = choice.locator("input[type=radio]").first
    first_radio.focus()
    assert first_radio.evaluate("el => el === document.activeElement"), "a radio cannot take focus"
    page.keyboard.press("Space")
    choice.locator(".Feedback").filter(has_text=re.compile(r"\S")).wait_for()
    # the numeric question, typed and submitted with Enter
    numeric = page.locator(".Quiz:has(input:not([type=radio]))")
    if numeric.count():
        box = numeric.first.locator("input").first
        box.focus()
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        numeric.first.locator(".Feedback").filter(has_text=re.compile(r"\S")).wait_for()
    assert not v.errors, "console errors:\n" + "\n".join(v.errors)


AXE_PROBE = """<!doctype html><html lang="en"><head><title>probe</title><style>
body { background: #fff; color: #000; }
html[data-mode="dark"] body { background: #111; }
html[data-mode="dark"] p { color: #222; }
</style></head><body><main><h1>Probe</h1>
<p>Text that is legible in the light mode only.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
</main></body></html>"""


def test_axe_audit_reports_what_each_mode_must_catch(browser: object) -> None:
    """The audit is able to fail: a missing alt text in the light mode, a contrast that
    only the dark mode breaks in the dark mode (which runs the colour rules alone)."""
    assert AXE_SCRIPT.is_file(), "axe-core is missing: run `python tools/fetch_assets.py`"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(AXE_PROBE)
        page.add_script_tag(path=str(AXE_SCRIPT))
        found = {mode: " ".join(page.evaluate(AXE_JS, mode)) for mode in AXE_MODES}
    finally:
        context.close()
    assert "image-alt" in found["light"] and "color-contrast" not in found["light"], found
    assert "color-contrast" in found["dark"] and "image-alt" not in found["dark"], found
