"""Reading order is the table of contents, not the folder order, and chapter numbers hold.

Chapter folders are numbered in the order they were written (``11_information_theory`` is
read right after chapter 4), while the prose refers to chapters by the number the book
shows ("chapter 5 shows that ..."). So:

- every numbered chapter must be shown with the number of its folder (an unnumbered
  part, such as the interlude after chapter 4, must not shift the chapters after it);
- the tools that need reading order take it from ``_toc.yml`` (the PDF), never from a
  sorted listing of ``chapters/``.

The first two tests read ``_toc.yml`` and need no build; the last checks the numbers the
built HTML shows.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_pdf  # noqa: E402  (tools/make_pdf.py)

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
HTML = ROOT / "_build" / "html"


def numbered_lessons() -> dict[str, int]:
    """``{lesson file: number shown}`` as Sphinx numbers them with multitoc numbering.

    Numbered parts continue one count; unnumbered parts are skipped.
    """
    shown: dict[str, int] = {}
    count = 0
    for part in TOC["parts"]:
        if not part.get("numbered", False):
            continue
        for chapter in part["chapters"]:
            count += 1
            shown[chapter["file"]] = count
    return shown


def test_numbered_chapters_show_their_folder_number() -> None:
    shown = numbered_lessons()
    assert shown, "no numbered chapter in _toc.yml"
    for file, number in shown.items():
        folder = file.split("/")[1]
        assert int(folder[:2]) == number, (
            f"{file} is shown as chapter {number} but its folder says {folder[:2]}: the prose's "
            "'chapter N' references would point to the wrong chapter")


def test_the_pdf_follows_the_toc_not_the_folders() -> None:
    toc_lessons = [p for p in make_pdf.toc_pages() if p.endswith("/lesson.html")]
    folders = sorted(p.parent.name for p in (ROOT / "chapters").glob("*/lesson.ipynb"))
    assert sorted(p.split("/")[1] for p in toc_lessons) == folders
    listed = [p.split("/")[1] for p in toc_lessons]
    assert listed.index("11_information_theory") == listed.index("04_nll_mle_kl") + 1, (
        "the information-theory interlude is read right after chapter 4")


@pytest.mark.book
def test_built_book_shows_the_toc_numbers() -> None:
    intro = HTML / "intro.html"
    if not intro.is_file():
        pytest.skip("the book is not built (_build/html)")
    text = intro.read_text(encoding="utf-8")
    for file, number in numbered_lessons().items():
        link = re.search(rf'href="{re.escape(file)}\.html">(.*?)</a>', text, re.DOTALL)
        assert link, f"{file} missing from the navigation of intro.html"
        label = re.sub(r"<[^>]+>", "", link.group(1)).strip()
        assert label.startswith(f"{number}. "), f"{file} is labelled {label!r}, not {number}."
