"""Execute notebooks top to bottom in a fresh kernel and store their outputs.

Usage: ``python tools/run_notebooks.py chapters/*/*.ipynb``

Each notebook runs in its own folder with the ``python3`` kernel of the current
environment; the wall time of each is printed (the times never enter the files).

A figure shown with ``celesson.plotting.show`` carries its alt text, caption and name
in its output metadata; after the run they are copied into the cell metadata that
myst-nb reads (``mystnb: {image: {alt}, figure: {caption, name}}``), so the code's
``show(...)`` call is the one place where a figure is described.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

FIGURE_METADATA_KEY = "celesson/figure"  # celesson.plotting.FIGURE_METADATA_KEY
# What the fold of a figure cell says (myst-nb's default is "Show code cell source").
FIGURE_PROMPTS = {
    "code_prompt_show": "Show the code of this figure",
    "code_prompt_hide": "Hide the code of this figure",
}

TIMEOUT_S = 120

# One BLAS thread, as in the Makefile: the summation order (and so every printed
# digit) must not depend on how many threads the machine offers.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def figure_descriptions(cell: nbformat.NotebookNode) -> list[dict[str, str]]:
    """The ``show(..., alt=, caption=, name=)`` descriptions of a code cell's outputs."""
    return [
        dict(output["metadata"][FIGURE_METADATA_KEY])
        for output in cell.get("outputs", [])
        if FIGURE_METADATA_KEY in output.get("metadata", {})
    ]


def describe_figures(nb: nbformat.NotebookNode) -> None:
    """Write each figure's alt text, caption and name into its cell's ``mystnb`` metadata.

    The fold of the cell's code is labelled as the code of the figure.

    myst-nb takes image and figure options only from cell metadata, and wraps every
    rich output of the cell in the figure: a cell may show one figure at most.
    """
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        found = figure_descriptions(cell)
        mystnb = dict(cell.metadata.get("mystnb", {}))
        mystnb.pop("image", None)
        mystnb.pop("figure", None)
        for key, prompt in FIGURE_PROMPTS.items():
            if mystnb.get(key) == prompt:
                mystnb.pop(key)
        if len(found) > 1:
            raise ValueError(f"cell {index} shows {len(found)} figures; show one per cell")
        if found:
            mystnb["image"] = {"alt": found[0]["alt"]}
            mystnb["figure"] = {"caption": found[0]["caption"], "name": found[0]["name"]}
            mystnb.update(FIGURE_PROMPTS)
        if mystnb:
            cell.metadata["mystnb"] = mystnb
        else:
            cell.metadata.pop("mystnb", None)


def run(path: Path) -> float:
    """Execute ``path`` in place and return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    describe_figures(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for name in argv:
        elapsed = run(Path(name))
        print(f"{elapsed:6.1f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
