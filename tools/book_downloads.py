"""Sphinx extension of the book: the student notebooks, served from the book's own files.

When the HTML build has finished, the release pipeline (``tools/release.py``: nbgrader's
``generate_assignment``, solutions stubbed, hidden tests removed, outputs cleared) writes
the student copy of every chapter's exercises, the lessons and the zip of all of them
into ``_build/html/notebooks/``. Every exercises page gets a visible
"Download this notebook" link to its student copy, right under its title; the front page
links the zip (``intro.md``).

The book's own page sources are never copied (``html_copy_source: false``): the masters
hold the hidden tests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nbgrader_common import EXERCISES_NAME, ROOT

FOLDER = "notebooks"
LINK_CLASS = "download-notebook"


def link_html(pagename: str, root: Path = ROOT) -> str | None:
    """The download link for page ``pagename``, or None if it is not an exercises page."""
    parts = pagename.split("/")
    if len(parts) != 3 or parts[0] != "chapters" or f"{parts[2]}.ipynb" != EXERCISES_NAME:
        return None
    if not (Path(root) / "chapters" / parts[1] / EXERCISES_NAME).exists():
        return None
    href = "../" * (len(parts) - 1) + f"{FOLDER}/{parts[1]}/{EXERCISES_NAME}"
    return (
        f'<p class="{LINK_CLASS}"><a class="reference download" href="{href}" '
        f'download="{EXERCISES_NAME}">Download this notebook</a>: your copy of these exercises, '
        "with empty answer cells and the visible tests, to run in Jupyter "
        "(<code>make workspace</code> writes the same copies into <code>workspace/</code>).</p>"
    )


def _add_link(app: Any, pagename: str, templatename: str, context: dict[str, Any],
              doctree: Any) -> None:
    link = link_html(pagename)
    if link is None or "body" not in context:
        return
    body = context["body"]
    end = body.find("</h1>")
    at = end + len("</h1>") if end >= 0 else 0
    context["body"] = body[:at] + link + body[at:]


def _write_notebooks(app: Any, exception: BaseException | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import release  # tools/release.py
    from sphinx.util import logging

    written = release.release(ROOT, Path(app.outdir) / FOLDER)
    logging.getLogger(__name__).info(f"student notebooks: {len(written)} files in {FOLDER}/")


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _add_link)
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
