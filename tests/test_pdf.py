"""The printed book (``tools/make_pdf.py``): the front page and chapter 1 as a PDF.

``make pdf`` prints every page; this test prints the first two pages of the book's
reading order (the front page and chapter 1's lesson) to a temporary file and reads
the result back: one bookmark per page, the prose as text (no raw display math),
the figures embedded as images. Needs the built book and Chromium (``-m browser``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent

import make_pdf  # noqa: E402


def test_reading_order_follows_the_table_of_contents() -> None:
    pages = make_pdf.toc_pages()
    assert pages[0] == "intro.html"
    assert pages[1] == "chapters/01_cross_entropy/lesson.html"
    assert pages.index("chapters/01_cross_entropy/exercises.html") == 2
    assert pages[-1] == "references.html"
    assert len(pages) == len(set(pages))


def test_front_page_and_chapter_1_print(tmp_path: Path) -> None:
    assert (make_pdf.HTML / "intro.html").is_file(), "run `make book` first"
    from pypdf import PdfReader

    out = tmp_path / "two-pages.pdf"
    printed = make_pdf.print_pages(make_pdf.toc_pages()[:2], out)
    reader = PdfReader(out)
    assert len(printed) == 2
    assert len(reader.pages) == sum(n for _, n in printed) >= 4
    titles = [item.title for item in reader.outline]
    assert titles[0].startswith("Cross-Entropy Loss"), titles
    assert titles[1].startswith("1."), titles

    first_chapter_page = printed[0][1]
    text = "\n".join(page.extract_text() for page in reader.pages[first_chapter_page:])
    assert "cross-entropy" in text.lower()
    assert "$$" not in text, "display math printed as raw TeX"
    images = sum(len(page.images) for page in reader.pages[first_chapter_page:])
    lesson = json.loads((ROOT / "chapters/01_cross_entropy/lesson.ipynb").read_text())
    figures = sum("image/png" in out.get("data", {}) for cell in lesson["cells"]
                  for out in cell.get("outputs", []))
    assert figures >= 1
    assert images == figures, f"chapter 1 has {figures} figures, its PDF {images} images"
