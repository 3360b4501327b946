"""Execute notebooks top to bottom in a fresh kernel and store their outputs.

Usage: ``python tools/run_notebooks.py chapters/*/*.ipynb``

Each notebook runs in its own folder with the ``python3`` kernel of the current
environment; the wall time of each is printed (the times never enter the files).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TIMEOUT_S = 120

# One BLAS thread, as in the Makefile: the summation order (and so every printed
# digit) must not depend on how many threads the machine offers.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


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
