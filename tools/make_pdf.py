"""Print the built HTML book to one PDF, offline, with Chromium.

Usage: ``python tools/make_pdf.py [--pages N]`` (``make pdf`` builds the book first).

Every page of ``_build/html`` is opened in headless Chromium from a local server, in
the order of ``_toc.yml``; once MathJax has typeset the page it is printed with the
page's print style (no sidebars, no buttons) to A4. The pages are joined into
``_build/html/course.pdf`` with one bookmark per page, and the front page's
placeholder ``<span id="pdf-download">`` becomes a link to the file, so the book links
its PDF only when one has been built. ``--pages N`` prints the first N pages only
(the test suite prints one chapter this way).

Why Chromium and not Jupyter Book's LaTeX builder: the math, the figures, the tables
and the code are printed exactly as the HTML shows them (MathJax's SVG output), with
no TeX installation (several hundred MB) and no second rendering of every notebook
output that LaTeX can choke on.
"""

from __future__ import annotations

import argparse
import functools
import html as html_text
import io
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from pypdf import PdfReader, PdfWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))

from find_chromium import CHROMIUM_ARGS, HOW_TO_GET_ONE, find_chromium

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
PDF_NAME = "course.pdf"
PLACEHOLDER = '<span id="pdf-download"></span>'
TIMEOUT_MS = 60_000
MATHJAX_READY_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  document.querySelectorAll("details").forEach(d => { d.open = false; });
  return document.title;
}
"""


def toc_pages(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """The book's pages in reading order, as paths relative to ``_build/html``."""
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    pages = [data["root"]]

    def walk(entries: list[dict]) -> Iterator[str]:
        for entry in entries:
            if "file" in entry:
                yield entry["file"]
            yield from walk(entry.get("sections", []))
            yield from walk(entry.get("chapters", []))

    for part in data.get("parts", []):
        pages.extend(walk(part.get("chapters", [])))
    pages.extend(walk(data.get("chapters", [])))
    return [page + ".html" for page in pages]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No request log on the terminal."""


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free loopback port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _title(raw: str) -> str:
    """A page title without the book's name after it."""
    return re.split(r"\s+[—–-]\s+Cross-Entropy Loss", raw)[0].strip() or raw


def print_pages(pages: list[str], out: Path) -> list[tuple[str, int]]:
    """Print ``pages`` to ``out``; return (title, number of PDF pages) for each."""
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit(HOW_TO_GET_ONE)
    from playwright.sync_api import sync_playwright

    writer = PdfWriter()
    printed: list[tuple[str, int]] = []
    with serve(HTML) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        context.route(
            "**/*",
            lambda route: route.continue_()
            if route.request.url.startswith(base) or route.request.url.startswith("data:")
            else route.abort(),
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        for name in pages:
            page.goto(base + name, wait_until="load")
            title = _title(page.evaluate(MATHJAX_READY_JS))
            page.emulate_media(media="print")
            data = page.pdf(
                format="A4",
                print_background=True,
                margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
                    f"{html_text.escape(title)} · <span class='pageNumber'></span></div>"
                ),
            )
            reader = PdfReader(io.BytesIO(data))
            first = len(writer.pages)
            for pdf_page in reader.pages:
                writer.add_page(pdf_page)
            writer.add_outline_item(title=title, page_number=first)
            printed.append((title, len(reader.pages)))
        browser.close()
    writer.add_metadata({"/Title": "Cross-Entropy Loss, from First Principles"})
    with open(out, "wb") as handle:
        writer.write(handle)
    return printed


def link_from_front_page(html: Path = HTML) -> bool:
    """Turn the front page's placeholder into a link to the PDF; True if it was there."""
    front = html / "intro.html"
    text = front.read_text(encoding="utf-8")
    if PLACEHOLDER not in text:
        return False
    link = f'<a class="reference external" href="{PDF_NAME}">Download the whole book as one PDF</a>'
    front.write_text(text.replace(PLACEHOLDER, link), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=None, help="print the first N pages only")
    args = parser.parse_args(argv)
    if not (HTML / "intro.html").is_file():
        print("make_pdf: _build/html is missing: run `make book` first", file=sys.stderr)
        return 1
    pages = toc_pages()[: args.pages]
    out = HTML / PDF_NAME
    printed = print_pages(pages, out)
    linked = link_from_front_page()
    total = sum(n for _, n in printed)
    print(f"{out.relative_to(ROOT)}: {len(printed)} book pages, {total} PDF pages, "
          f"{out.stat().st_size / 1e6:.1f} MB" + ("" if linked else " (front page not linked)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
