"""Static checks of the built HTML book (``make book`` first; run with ``-m book``).

The book must work offline and must never leak what learners should not see:

- every script, style sheet, image, frame and font is a file of the book itself;
- every local resource and every internal link (with its ``#anchor``) exists;
- no page links to the sources (``_sources/``), the source copies are not shipped;
- nothing of a hidden test (nbgrader ``### BEGIN HIDDEN TESTS`` blocks) reaches any
  file of the built book, including the search index;
- every glue reference in the chapters names a value the notebooks store, glue
  names are unique across the book, and no page shows an unrendered role;
- every page has a title and a heading, and no TeX is left outside math elements.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
CHAPTERS = ROOT / "chapters"

# Hosts that pages may *link* to with <a href> (never load resources from).
# Add a host here, on purpose, when the book cites a work online.
ALLOWED_LINK_HOSTS = frozenset(
    {
        "doi.org",
        "arxiv.org",
        "jmlr.org",
        "www.jmlr.org",
        "neuralnetworksanddeeplearning.com",
        "www.deeplearningbook.org",
        "openaccess.thecvf.com",
        "numpy.org",
        "docs.scipy.org",
        "www.sympy.org",
        "matplotlib.org",
        "scikit-learn.org",
        "jupyterbook.org",
        "nbgrader.readthedocs.io",
        "www.sphinx-doc.org",
        "pydata-sphinx-theme.readthedocs.io",
        "ebp.jupyterbook.org",
    }
)

# (tag, attribute) pairs whose URL the browser fetches as a resource.
RESOURCE_ATTRS = (
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("embed", "src"),
    ("source", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("input", "src"),
    ("object", "data"),
    ("link", "href"),  # style sheets, preloads, icons (rel=next/prev/index are local too)
    ("image", "href"),  # SVG
    ("use", "href"),
)
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`")
GLUE_DIRECTIVE = re.compile(r"^(?:```+|:::+)\{glue(?::[a-z]+)?\}\s+(\S+)", re.MULTILINE)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\(?:frac|sum|ln|log|mathrm|begin|left|right|sigma)\b")
NON_PROSE = {"script", "style", "pre", "code", "textarea", "noscript", "svg", "math"}
NON_PAGES = {"index.html"}  # the redirect written by sphinx-external-toc


@cache
def html_files() -> tuple[Path, ...]:
    """All HTML files of the built book outside ``_static`` (theme templates live there)."""
    assert HTML.is_dir(), f"{HTML.relative_to(ROOT)} is missing: run `make book` first"
    files = tuple(
        sorted(p for p in HTML.rglob("*.html") if "_static" not in p.relative_to(HTML).parts)
    )
    assert files, "the built book holds no HTML page"
    return files


@cache
def soup(path: Path) -> BeautifulSoup:
    """Parsed HTML of ``path`` (cached: every test reads the same pages)."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@cache
def anchors(path: Path) -> frozenset[str]:
    """The ``id`` and ``name`` values of ``path``: the fragments a link to it may name."""
    page = soup(path)
    return frozenset([el["id"] for el in page.find_all(id=True)]
                     + [el["name"] for el in page.find_all("a", attrs={"name": True})])


def rel(path: Path) -> str:
    """``path`` relative to the built book, for messages."""
    return path.relative_to(HTML).as_posix()


def is_external(url: str) -> bool:
    """True for URLs that leave the book: any scheme but data:/blob:, or ``//host``."""
    parts = urlsplit(url.strip())
    if parts.scheme in {"data", "blob", "about"}:
        return False
    return bool(parts.scheme) or url.strip().startswith("//")


def local_target(page: Path, url: str) -> tuple[Path, str] | None:
    """The file and fragment a relative URL on ``page`` points to (None if not a file URL)."""
    parts = urlsplit(url.strip())
    if parts.scheme or parts.netloc or url.strip().startswith("//"):
        return None
    if not parts.path:
        return page, parts.fragment
    target = (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


def pages() -> list[Path]:
    """Pages a reader sees (everything but the redirect stub)."""
    return [p for p in html_files() if rel(p) not in NON_PAGES]


def notebooks() -> list[Path]:
    """The chapter notebooks (sources of the book)."""
    return sorted(CHAPTERS.glob("*/*.ipynb"))


def test_book_is_built_with_local_mathjax() -> None:
    for name in ("intro.html", "index.html", "search.html"):
        assert (HTML / name).is_file(), f"_build/html/{name} missing: run `make book`"
    mathjax = HTML / "_static" / "mathjax" / "tex-svg-full.js"
    assert mathjax.is_file() and mathjax.stat().st_size > 1_000_000, (
        "MathJax is not served by the book: run `python tools/fetch_assets.py` and rebuild"
    )
    pages_with_math = [p for p in pages() if soup(p).select(".math")]
    assert pages_with_math, "no page holds math: is dollarmath enabled?"
    for page in pages_with_math:
        srcs = [s.get("src", "") for s in soup(page).find_all("script")]
        assert any("_static/mathjax/tex-svg-full.js" in s for s in srcs), (
            f"{rel(page)} has math but does not load the book's own MathJax: {srcs}"
        )


def test_redirect_stub_points_to_a_page() -> None:
    text = (HTML / "index.html").read_text(encoding="utf-8")
    match = re.search(r"url=([^\"' >]+)", text)
    assert match, "index.html is not a redirect"
    assert (HTML / match.group(1)).is_file(), f"index.html redirects to missing {match.group(1)}"


def resource_urls(page: Path) -> list[tuple[str, str]]:
    """(description, URL) of every resource a page makes the browser fetch."""
    doc = soup(page)
    found = []
    for tag, attr in RESOURCE_ATTRS:
        for element in doc.find_all(tag):
            for name in (attr, f"xlink:{attr}"):
                if element.get(name):
                    found.append((f"<{tag} {name}>", element[name].strip()))
            for candidate in (element.get("srcset") or "").split(","):
                if candidate.strip():
                    found.append((f"<{tag} srcset>", candidate.split()[0]))
    css = [el["style"] for el in doc.find_all(style=True)]
    css += [el.get_text() for el in doc.find_all("style")]
    for text in css:
        for match in CSS_URL.finditer(text):
            found.append(("CSS url()", (match.group(2) or match.group(4)).strip()))
    return found


def test_no_external_resources_in_html() -> None:
    offenders = [
        f"{rel(page)}: {what} {url}"
        for page in html_files()
        for what, url in resource_urls(page)
        if is_external(url)
    ]
    assert not offenders, "pages load resources from outside the book:\n" + "\n".join(offenders)


def test_no_external_urls_in_style_sheets() -> None:
    offenders = []
    for sheet in sorted(HTML.rglob("*.css")):
        for match in CSS_URL.finditer(sheet.read_text(encoding="utf-8", errors="replace")):
            url = match.group(2) or match.group(4)
            if is_external(url):
                offenders.append(f"{rel(sheet)}: {url}")
    assert not offenders, "style sheets load resources from outside the book:\n" + "\n".join(
        offenders
    )


def test_local_resources_exist() -> None:
    missing = []
    for page in html_files():
        for what, url in resource_urls(page):
            if is_external(url) or url.startswith("#"):
                continue
            target = local_target(page, url)
            if target is not None and not (target[0].is_relative_to(HTML) and target[0].is_file()):
                missing.append(f"{rel(page)}: {what} {url}")
    for sheet in sorted(HTML.rglob("*.css")):
        for match in CSS_URL.finditer(sheet.read_text(encoding="utf-8", errors="replace")):
            url = match.group(2) or match.group(4)
            if is_external(url) or url.startswith("#"):
                continue
            target = local_target(sheet, url)
            if target is not None and not target[0].is_file():
                missing.append(f"{rel(sheet)}: url({url})")
    assert not missing, "missing local resources:\n" + "\n".join(missing)


def test_internal_links_resolve() -> None:
    dead = []
    for page in html_files():
        for anchor in soup(page).find_all("a", href=True):
            href = anchor["href"].strip()
            if href in {"", "#"} or href.startswith(("javascript:", "mailto:")):
                continue
            if is_external(href):
                continue
            target = local_target(page, href)
            assert target is not None
            path, fragment = target
            if not path.is_relative_to(HTML) or not path.is_file():
                dead.append(f"{rel(page)}: {href} (no such file in the book)")
                continue
            if fragment and path.suffix == ".html":
                if unquote(fragment) not in anchors(path):
                    dead.append(f"{rel(page)}: {href} (no #{fragment} in {rel(path)})")
    assert not dead, "dead internal links:\n" + "\n".join(dead)


def test_external_links_only_to_allowed_hosts() -> None:
    unexpected = []
    for page in html_files():
        for anchor in soup(page).find_all("a", href=True):
            href = anchor["href"].strip()
            if not is_external(href) or href.startswith("mailto:"):
                continue
            host = urlsplit(href).hostname or ""
            if urlsplit(href).scheme not in {"http", "https"} or host not in ALLOWED_LINK_HOSTS:
                unexpected.append(f"{rel(page)}: {href}")
    assert not unexpected, (
        "links to hosts not in ALLOWED_LINK_HOSTS (add the host there if the link is meant):\n"
        + "\n".join(unexpected)
    )


def test_no_source_files_or_links() -> None:
    assert not (HTML / "_sources").exists(), "_build/html/_sources exists: html_copy_source?"
    # notebooks/ holds the student copies offered for download (the release pipeline's, made
    # by `make book`); tests/test_exercises.py proves they hold no solution and no hidden test.
    shipped = sorted(rel(p) for p in HTML.rglob("*") if p.suffix in {".ipynb", ".md", ".py"}
                     and not (rel(p).startswith("notebooks/") and p.suffix == ".ipynb"))
    assert not shipped, f"source files shipped with the book: {shipped}"
    links = [
        f"{rel(page)}: {el.get('href') or el.get('src')}"
        for page in html_files()
        for el in soup(page).find_all(["a", "link", "script"])
        if "_sources" in (el.get("href") or el.get("src") or "")
    ]
    assert not links, "links to _sources/ (dead with html_copy_source: false):\n" + "\n".join(links)


def _visible_and_hidden(nb_path: Path) -> tuple[set[str], set[str]]:
    """Lines of the notebook's visible cells, and lines of its hidden-test regions."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    hidden: set[str] = set()
    visible: set[str] = set()
    for cell in cells:
        source = "".join(cell["source"])
        blocks = HIDDEN_BLOCK.findall(source)
        for block in blocks:
            hidden |= {line.strip() for line in block.splitlines() if len(line.strip()) >= 12}
        if not blocks and "remove-cell" not in cell.get("metadata", {}).get("tags", []):
            visible |= {line.strip() for line in source.splitlines()}
    return visible, hidden


def hidden_test_lines() -> dict[str, set[str]]:
    """Per notebook, the lines of hidden tests that appear in no visible cell of any
    chapter notebook (a line such as ``import numpy as np`` is shown elsewhere in the
    book on purpose and says nothing about the hidden tests)."""
    parts = {p: _visible_and_hidden(p) for p in sorted(ROOT.glob("chapters/*/*.ipynb"))}
    shown = set().union(*(visible for visible, _ in parts.values())) if parts else set()
    found: dict[str, set[str]] = {}
    for nb_path, (_, hidden) in parts.items():
        if hidden - shown:
            found[nb_path.relative_to(ROOT).as_posix()] = hidden - shown
    return found


def test_hidden_tests_never_reach_the_book() -> None:
    marker_hits = []
    for path in sorted(p for p in HTML.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if b"HIDDEN TESTS" in data or b"HIDDEN_TESTS" in data:
            marker_hits.append(rel(path))
    assert not marker_hits, f"hidden-test markers in the built book: {marker_hits}"

    lines = hidden_test_lines()
    texts = {}
    for path in sorted(p for p in HTML.rglob("*") if p.is_file()):
        if path.suffix == ".html":
            texts[rel(path)] = soup(path).get_text()
        elif path.suffix in {".js", ".json", ".txt", ".ipynb"} and "mathjax" not in path.parts:
            texts[rel(path)] = unescape(path.read_text(encoding="utf-8", errors="replace"))
    leaks = [
        f"{name}: {line!r} (hidden test of {nb})"
        for nb, nb_lines in lines.items()
        for line in sorted(nb_lines)
        for name, text in texts.items()
        if line in text
    ]
    assert not leaks, "hidden-test content in the built book:\n" + "\n".join(leaks)


def test_exercise_notebooks_with_hidden_tests_are_checked() -> None:
    # If a chapter has hidden tests, the leak test above must have something to look for.
    for nb_path in notebooks():
        source = nb_path.read_text(encoding="utf-8")
        if "BEGIN HIDDEN TESTS" in source:
            assert nb_path.relative_to(ROOT).as_posix() in hidden_test_lines(), (
                f"{nb_path.name}: hidden tests found but none of their lines is specific enough"
            )


def glue_names_stored(nb_path: Path) -> list[str]:
    """Names glued by the stored outputs of a notebook (myst-nb keeps them in metadata)."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    return [
        output["metadata"]["scrapbook"]["name"]
        for cell in cells
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    ]


def glue_references(text: str) -> list[str]:
    """Raw glue references of MyST text: ``name``, ``name:.4f`` or ``path::name``."""
    return GLUE_ROLE.findall(text) + GLUE_DIRECTIVE.findall(text)


def markdown_text(path: Path) -> str:
    """The MyST prose of a notebook (markdown cells) or of a ``.md`` page."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_glue_names_unique_and_all_references_resolve() -> None:
    stored = {nb.resolve(): glue_names_stored(nb) for nb in notebooks()}
    owners: dict[str, list[str]] = {}
    for nb, names in stored.items():
        for name in names:
            owners.setdefault(name, []).append(nb.relative_to(ROOT).as_posix())
    duplicates = {name: where for name, where in owners.items() if len(where) > 1}
    assert not duplicates, f"glue names must be unique across the book: {duplicates}"

    sources = [*notebooks(), *sorted(ROOT.glob("*.md")), *sorted(CHAPTERS.rglob("*.md"))]
    unresolved = []
    for path in (p for p in sources if p.name != "README.md"):
        for raw in glue_references(markdown_text(path)):
            where, _, name = raw.rpartition("::")
            name = name.split(":")[0].strip()
            owner = (path.parent / where).with_suffix(".ipynb").resolve() if where else path
            if name not in stored.get(owner.resolve(), []):
                unresolved.append(f"{path.relative_to(ROOT)}: {raw}")
    assert not unresolved, "glue references with no stored value:\n" + "\n".join(unresolved)


def test_no_unrendered_roles_or_directives() -> None:
    pattern = re.compile(r"\{(?:glue|cite|ref|eq|numref|doc|prf:\w+|math)(?::\w+)?\}`")
    offenders = []
    for page in pages():
        for text in visible_prose(page):
            if pattern.search(text) or "```{" in text:
                offenders.append(f"{rel(page)}: {text.strip()[:80]!r}")
    assert not offenders, "unrendered MyST syntax:\n" + "\n".join(offenders)


def test_no_raw_code_spans_in_prose() -> None:
    """A Markdown code span shows as backticks where it was never parsed: a glued string
    pasted with glue:text is plain text (glue a Markdown object and paste it with glue:md)."""
    offenders = prose_matching(re.compile(r"`[^`\s][^`]*`"))
    assert not offenders, "unparsed code spans (backticks shown as text):\n" + "\n".join(offenders)


def visible_prose(page: Path) -> list[str]:
    """Text nodes of the page's article outside code, scripts and math elements."""
    doc = soup(page)
    root = doc.find("article") or doc.body or doc
    texts = []
    for node in root.find_all(string=True):
        parents = {p.name for p in node.parents}
        classes = {c for p in node.parents for c in (p.get("class") or [])}
        if parents & NON_PROSE or classes & {"math", "highlight", "output", "cell_output"}:
            continue
        texts.append(str(node))
    return texts


def prose_matching(pattern: re.Pattern[str]) -> list[str]:
    """``page: text`` for every text node of the book's prose that ``pattern`` matches."""
    return [f"{rel(page)}: {text.strip()[:100]!r}"
            for page in pages() for text in visible_prose(page) if pattern.search(text)]


def test_no_raw_tex_outside_math() -> None:
    offenders = prose_matching(RAW_TEX)
    assert not offenders, "TeX outside math elements (will show raw):\n" + "\n".join(offenders)


def test_every_page_has_a_title_and_heading() -> None:
    untitled = []
    for page in pages():
        doc = soup(page)
        title = doc.title.get_text(strip=True) if doc.title else ""
        if not title or title.startswith("<no title>"):
            untitled.append(f"{rel(page)}: <title> {title!r}")
        if not doc.find("h1") or not doc.find("h1").get_text(strip=True):
            untitled.append(f"{rel(page)}: no <h1>")
    assert not untitled, "pages without a title:\n" + "\n".join(untitled)


def test_every_chapter_notebook_is_a_page() -> None:
    built = {rel(p) for p in pages()}
    missing = [
        nb.relative_to(ROOT).as_posix()
        for nb in notebooks()
        if nb.relative_to(ROOT).with_suffix(".html").as_posix() not in built
    ]
    assert not missing, f"notebooks not in the book (add them to _toc.yml): {missing}"


def test_no_thebe_launch_or_download_buttons() -> None:
    offenders = []
    for page in pages():
        doc = soup(page)
        for selector in (
            ".thebe-launch-button",
            ".launch-buttons",
            ".dropdown-launch-buttons",
            ".dropdown-download-buttons",
            ".btn-download-source-button",
            "script[src*='thebe']",
        ):
            if doc.select(selector):
                offenders.append(f"{rel(page)}: {selector}")
        if any(
            "thebe_config" in s.get_text() or "THEBE_JS_URL" in s.get_text()
            for s in doc.find_all("script")
        ):
            offenders.append(f"{rel(page)}: thebe configuration script")
    assert not offenders, "online-only or dead buttons on pages:\n" + "\n".join(offenders)


def test_light_mode_by_default() -> None:
    for page in pages():
        body = soup(page).body
        assert body is not None and body.get("data-default-mode") == "light", (
            f"{rel(page)}: default colour mode is {body.get('data-default-mode')!r}"
        )
