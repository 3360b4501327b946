"""What a reader needs from the built book (``make book`` first; run with ``-m book``).

- every image in the chapters has alt text that says, in words, what it shows (not
  the file name a renderer falls back to), sits in a captioned figure, numbered
  "Figure N.k" in the numbered chapters and referred to from the prose;
- figures are sharp: the PNG has at least 1.5 pixels per CSS pixel of its width on
  the page;
- the code of a figure cell is folded, so the page shows the figure and the teaching
  code, not the plotting;
- each numbered chapter numbers its key equations and refers back to one;
- an exercises page is not numbered as one more section of its chapter;
- the glossary defines at least 25 terms and every lesson links to it;
- every lesson ends with further reading that cites works of the references page,
  and every entry of ``references.bib`` is cited somewhere.
"""

from __future__ import annotations

import re
import struct
from functools import cache
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"

# A file name or path: what Sphinx/myst-nb put into alt when none is given.
FILE_LIKE = re.compile(r"\.(?:png|svg|jpe?g|gif|webp|pdf)\b|_images/|\.\./|^[\w-]{20,}$", re.I)
MIN_ALT_WORDS = 6
# Chapter folders in the numbered part of _toc.yml (the appendix is not numbered).
NUMBERED = tuple(f"{n:02d}_" for n in range(1, 9))


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def chapter_pages() -> list[Path]:
    pages = sorted((HTML / "chapters").glob("*/*.html"))
    assert pages, "no chapter pages: run `make book` first"
    return pages


def lessons() -> list[Path]:
    return [p for p in chapter_pages() if p.name == "lesson.html"]


def is_numbered(page: Path) -> bool:
    return page.parent.name.startswith(NUMBERED)


def name(page: Path) -> str:
    return page.relative_to(HTML).as_posix()


def content_images(page: Path) -> list[Tag]:
    """The images of the page's article (not the theme's logo or icons)."""
    article = soup(page).find("article") or soup(page)
    return list(article.find_all("img"))


def test_every_image_has_alt_text_in_words() -> None:
    bad = []
    count = 0
    for page in chapter_pages():
        for img in content_images(page):
            count += 1
            alt = (img.get("alt") or "").strip()
            if FILE_LIKE.search(alt) or len(alt.split()) < MIN_ALT_WORDS:
                bad.append(f"{name(page)}: {img.get('src')} has alt {alt[:60]!r}")
    assert count >= 30, f"only {count} images in the chapters: is the book built?"
    assert not bad, "images without real alt text:\n" + "\n".join(bad)


def test_alt_text_check_rejects_what_renderers_fall_back_to() -> None:
    # The check above must reject the alt text that the book had before figures were
    # described: the image's path, and a bare hash-like file stem.
    for fallback in (
        "../../_images/af5e62a1b2c3.png",
        "af5e62a1b2c3d4e5f6a7b8c9d0e1f2a3",
        "figure",
        "A plot",
    ):
        assert FILE_LIKE.search(fallback) or len(fallback.split()) < MIN_ALT_WORDS


def test_every_image_is_a_numbered_captioned_figure() -> None:
    bad = []
    for page in chapter_pages():
        for img in content_images(page):
            figure = img.find_parent("figure")
            caption = figure.find("figcaption") if figure else None
            text = caption.find(class_="caption-text") if caption else None
            if text is None or len(text.get_text(" ", strip=True).split()) < 4:
                bad.append(f"{name(page)}: {img.get('src')} has no caption")
                continue
            if not figure.get("id", "").startswith("fig-"):
                bad.append(f"{name(page)}: figure without a fig-... name")
            number = caption.find(class_="caption-number")
            if is_numbered(page) and (
                number is None or not re.fullmatch(r"Figure \d+\.\d+", number.get_text(strip=True))
            ):
                bad.append(f"{name(page)}: figure {figure.get('id')} is not numbered N.k")
    assert not bad, "\n".join(bad)


def test_every_figure_is_referred_to_from_the_prose() -> None:
    unreferred = []
    for page in chapter_pages():
        doc = soup(page)
        for figure in doc.find_all("figure"):
            ident = figure.get("id", "")
            links = [
                a
                for a in doc.find_all("a", href=f"#{ident}")
                if "headerlink" not in (a.get("class") or [])
            ]
            if not links:
                unreferred.append(f"{name(page)}: {ident}")
    assert not unreferred, "figures the text never points to:\n" + "\n".join(unreferred)


def png_width(path: Path) -> int:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return int(struct.unpack(">I", data[16:20])[0])


def test_figures_are_sharp() -> None:
    blurry = []
    for page in chapter_pages():
        for img in content_images(page):
            src = img.get("src", "")
            if src.endswith(".svg"):
                continue
            match = re.search(r"width:\s*(\d+)px", img.get("style", ""))
            assert match, f"{name(page)}: {src} has no display width"
            pixels = png_width((page.parent / src).resolve())
            # matplotlib rounds the pixel size down: 10.5 in at 165 dpi is 1732 px, not 1732.5
            if pixels + 1 < 1.5 * int(match.group(1)):
                blurry.append(f"{name(page)}: {src}: {pixels} px shown at {match.group(1)} px")
    assert not blurry, "figures below 1.5 pixels per CSS pixel:\n" + "\n".join(blurry)


def test_figure_code_is_folded() -> None:
    shown = []
    for page in chapter_pages():
        for figure in soup(page).find_all("figure"):
            cell = figure.find_parent("div", class_="cell")
            if cell is None:
                continue
            source = cell.find(class_="cell_input")
            if source is None:
                continue  # remove-input: no code at all
            if source.find_parent("details") is None:
                shown.append(f"{name(page)}: {figure.get('id')}")
    assert not shown, "figure cells whose plotting code is not folded:\n" + "\n".join(shown)


def test_numbered_chapters_number_an_equation_and_refer_to_it() -> None:
    bad = []
    for page in lessons():
        if not is_numbered(page):
            continue
        doc = soup(page)
        numbers = [s.get_text(strip=True) for s in doc.select("span.eqno")]
        chapter = int(page.parent.name[:2])
        if not numbers or not all(n.startswith(f"({chapter}.") for n in numbers):
            bad.append(f"{name(page)}: equation numbers {numbers}")
        refs = [a for a in doc.select('a[href^="#equation-"]') if "headerlink" not in a["class"]]
        if not refs:
            bad.append(f"{name(page)}: no {{eq}} reference to a numbered equation")
    assert not bad, "\n".join(bad)


def test_exercise_pages_are_not_numbered_as_sections() -> None:
    for page in chapter_pages():
        h1 = soup(page).find("article").find("h1")
        number = h1.find(class_="section-number")
        if page.name == "exercises.html":
            assert number is None, f"{name(page)} is numbered {number.get_text()!r}"
        elif is_numbered(page):
            expected = f"{int(page.parent.name[:2])}. "
            assert number is not None and number.get_text() == expected, name(page)


def test_glossary_defines_the_terms_and_every_lesson_links_to_it() -> None:
    glossary = soup(HTML / "glossary.html")
    definitions = glossary.select("dl.glossary > dd")
    assert len(definitions) >= 25, f"the glossary defines {len(definitions)} terms"
    for dd in definitions:
        assert len(dd.get_text(" ", strip=True).split()) >= 12, dd.get_text()[:80]
    terms = {dt["id"] for dt in glossary.select("dl.glossary > dt")}
    for required in (
        "term-Cross-entropy",
        "term-Entropy",
        "term-KL-divergence",
        "term-Logit",
        "term-Softmax",
        "term-Log-sum-exp",
        "term-NLL",
        "term-MLE",
        "term-Label-smoothing",
        "term-Calibration",
        "term-ECE",
        "term-Temperature-scaling",
        "term-Focal-loss",
        "term-ULP",
        "term-Subnormal-number",
        "term-Catastrophic-cancellation",
        "term-Perplexity",
        "term-One-hot-vector",
    ):
        assert required in terms, f"glossary lacks {required}"
    for page in lessons():
        links = soup(page).select('a[href*="glossary.html#term-"]')
        assert links, f"{name(page)} links no glossary term"


def test_every_lesson_ends_with_cited_further_reading() -> None:
    for page in lessons():
        sections = soup(page).find("article").find_all("section", recursive=True)
        last = [s for s in sections if s.find("h2", recursive=False)][-1]
        title = last.find("h2").get_text(strip=True).rstrip("#")
        assert title == "Further reading", f"{name(page)} ends with {title!r}"
        cites = last.select('a[href*="references.html#"]')
        assert cites, f"{name(page)}: further reading cites nothing"


def bib_keys() -> list[str]:
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    return re.findall(r"^@\w+\{([^,\s]+),", text, re.MULTILINE)


def test_every_bib_entry_is_cited() -> None:
    # sphinxcontrib-bibtex lists only cited entries on the references page, one per key.
    listed = soup(HTML / "references.html").select("div.citation")
    keys = bib_keys()
    assert len(keys) >= 40
    assert len(listed) == len(keys), (
        f"{len(keys)} entries in references.bib, {len(listed)} cited in the book"
    )
