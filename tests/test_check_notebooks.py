"""The notebook lint (tools/check_notebooks.py) fails a figure a reader cannot use.

A figure cell must carry the description written by ``celesson.plotting.show`` and
copied into the cell metadata by ``tools/run_notebooks.py``, and must fold its code;
so must a cell that only glues values into the prose.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import check_notebooks  # noqa: E402
import run_notebooks  # noqa: E402

from celesson.plotting import FIGURE_METADATA_KEY  # noqa: E402

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
DESCRIBED = {
    "alt": "A line falling from the top left to the bottom right of the plot.",
    "caption": "A falling line.",
    "name": "fig-falling-line",
}


def figure_cell(metadata: dict | None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("show(fig, ...)", execution_count=1)
    output = nbformat.v4.new_output("display_data", data={"image/png": PNG})
    if metadata is not None:
        output.metadata = {FIGURE_METADATA_KEY: metadata, "image/png": {"width": 704}}
    cell.outputs = [output]
    return cell


def lint(tmp_path: Path, *cells: nbformat.NotebookNode) -> list[str]:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return check_notebooks.problems(path)


def test_figure_without_description_fails(tmp_path: Path) -> None:
    cell = figure_cell(None)
    cell.metadata["tags"] = ["hide-input"]
    [problem] = lint(tmp_path, cell)
    assert "without alt text and caption" in problem


def test_described_figure_passes_once_synced_and_folded(tmp_path: Path) -> None:
    cell = figure_cell(DESCRIBED)
    found = lint(tmp_path, cell)
    assert any("does not match" in p for p in found)  # not yet copied into the cell
    assert any("hide-input" in p for p in found)  # and its code is not folded

    nb = nbformat.v4.new_notebook(cells=[cell])
    run_notebooks.describe_figures(nb)
    assert cell.metadata["mystnb"] == {
        "image": {"alt": DESCRIBED["alt"]},
        "figure": {"caption": DESCRIBED["caption"], "name": DESCRIBED["name"]},
        **run_notebooks.FIGURE_PROMPTS,
    }
    cell.metadata["tags"] = ["hide-input"]
    assert lint(tmp_path, cell) == []


@pytest.mark.parametrize(
    "bad", [{"alt": "../../_images/af5e62.png"}, {"alt": "A plot"}, {"name": "falling"}]
)
def test_figure_with_a_poor_description_fails(tmp_path: Path, bad: dict) -> None:
    cell = figure_cell({**DESCRIBED, **bad})
    nb = nbformat.v4.new_notebook(cells=[cell])
    run_notebooks.describe_figures(nb)
    cell.metadata["tags"] = ["hide-input"]
    assert len(lint(tmp_path, cell)) == 1


def test_two_figures_in_one_cell_are_refused(tmp_path: Path) -> None:
    cell = figure_cell(DESCRIBED)
    cell.outputs = cell.outputs * 2
    with pytest.raises(ValueError, match="one per cell"):
        run_notebooks.describe_figures(nbformat.v4.new_notebook(cells=[cell]))
    assert any("2 figures" in p for p in lint(tmp_path, cell))


def test_a_cell_that_only_glues_must_fold(tmp_path: Path) -> None:
    source = (
        'glue("a", 1.0, display=False)\nfor k in range(2):\n    glue(f"b{k}", k, display=False)'
    )
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    assert any("only glues" in p for p in lint(tmp_path, cell))
    cell.metadata["tags"] = ["hide-input"]
    assert lint(tmp_path, cell) == []
    teaching = nbformat.v4.new_code_cell('x = 1.0\nglue("a", x, display=False)', execution_count=1)
    assert lint(tmp_path, teaching) == []
