"""Check that stored notebooks were executed top to bottom from a fresh kernel.

Usage: ``python tools/check_notebooks.py chapters/*/*.ipynb``

A notebook passes when its code cells carry execution counts 1, 2, ..., n in
order, no output is an error, and no output shows a path of the machine it ran on.

What the book shows is checked too:

- every figure (an image output) was shown with ``celesson.plotting.show`` and so
  has real alt text, a caption and a ``fig-...`` name (unique in the book), and the
  cell metadata that myst-nb renders says the same (``tools/run_notebooks.py``
  writes it); a cell shows at most one figure;
- a cell that shows a figure, and a cell that only glues values into the prose,
  folds its code (tag ``hide-input``, or ``remove-input``/``remove-cell``): the
  plumbing is one click away, the teaching code stays in view.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

from celesson.plotting import FIGURE_METADATA_KEY, figure_metadata

_MACHINE_PATH = re.compile(r"(/home/|/root/|/tmp/|/work/|[A-Z]:\\\\)")
_ADDRESS = re.compile(r" at 0x[0-9a-f]{6,}")
_IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")
_FOLDED = {"hide-input", "remove-input", "remove-cell", "hide-cell"}


def _is_glue_call(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "glue"
    )


def only_glues(source: str) -> bool:
    """True if every statement of ``source`` is a ``glue(...)`` call (or a loop of them)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    if not body:
        return False
    return all(
        _is_glue_call(node)
        or (isinstance(node, ast.For) and all(_is_glue_call(inner) for inner in node.body))
        for node in body
    )


def figure_problems(index: int, cell: nbformat.NotebookNode) -> list[str]:
    """Problems with the figure(s) of one code cell: description, metadata, folding."""
    images = [
        output
        for output in cell.get("outputs", [])
        if any(kind in output.get("data", {}) for kind in _IMAGE_TYPES)
    ]
    mystnb = cell.metadata.get("mystnb", {})
    if not images:
        if "figure" in mystnb or "image" in mystnb:
            return [f"cell {index}: figure metadata but no figure (rerun run_notebooks.py)"]
        return []
    if len(images) > 1:
        return [f"cell {index}: shows {len(images)} figures, show one per cell"]
    described = images[0].get("metadata", {}).get(FIGURE_METADATA_KEY)
    if described is None:
        return [
            f"cell {index}: figure without alt text and caption"
            " (show it with celesson.plotting.show(fig, alt=..., caption=..., name=...))"
        ]
    found = []
    try:
        figure_metadata(**described)
    except (TypeError, ValueError) as exc:
        found.append(f"cell {index}: {exc}")
    expected = {
        "image": {"alt": described.get("alt")},
        "figure": {"caption": described.get("caption"), "name": described.get("name")},
    }
    if {key: mystnb.get(key) for key in expected} != expected:
        found.append(
            f"cell {index}: cell metadata does not match the figure's description"
            " (rerun tools/run_notebooks.py)"
        )
    if not _FOLDED & set(cell.metadata.get("tags", [])):
        found.append(f"cell {index}: a figure cell must fold its code (tag hide-input)")
    return found


def figure_names(path: Path) -> list[str]:
    """The ``fig-...`` names of the figures of ``path``, in order."""
    nb = nbformat.read(path, as_version=4)
    return [
        str(cell.metadata["mystnb"]["figure"]["name"])
        for cell in nb.cells
        if cell.cell_type == "code" and "figure" in cell.metadata.get("mystnb", {})
    ]


def problems(path: Path) -> list[str]:
    """Return a list of human-readable problems found in ``path``."""
    nb = nbformat.read(path, as_version=4)
    found: list[str] = []
    expected = 1
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.execution_count != expected:
            found.append(
                f"cell {index}: execution count {cell.execution_count}, expected {expected}"
            )
        expected += 1
        found.extend(figure_problems(index, cell))
        if only_glues(cell.source) and not _FOLDED & set(cell.metadata.get("tags", [])):
            found.append(f"cell {index}: a cell that only glues must fold its code (hide-input)")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: stored an error ({output.get('ename')})")
            text = output.get("text", "") or "".join(
                str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")
            )
            if _MACHINE_PATH.search(text):
                found.append(f"cell {index}: output shows a machine path")
            if _ADDRESS.search(text):
                found.append(f"cell {index}: output shows a memory address")
    return found


def main(argv: list[str]) -> int:
    bad = 0
    seen: dict[str, str] = {}
    for name in argv:
        for problem in problems(Path(name)):
            print(f"{name}: {problem}")
            bad += 1
        for label in figure_names(Path(name)):
            if label in seen:
                print(f"{name}: figure name {label!r} also used in {seen[label]}")
                bad += 1
            seen.setdefault(label, name)
    print(f"checked {len(argv)} notebooks, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
