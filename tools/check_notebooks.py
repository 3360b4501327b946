"""Check that stored notebooks were executed top to bottom from a fresh kernel.

Usage: ``python tools/check_notebooks.py chapters/*/*.ipynb``

A notebook passes when its code cells carry execution counts 1, 2, ..., n in
order, no output is an error, and no output shows a path of the machine it ran on.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

_MACHINE_PATH = re.compile(r"(/home/|/root/|/tmp/|/work/|[A-Z]:\\\\)")
_ADDRESS = re.compile(r" at 0x[0-9a-f]{6,}")


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
    for name in argv:
        for problem in problems(Path(name)):
            print(f"{name}: {problem}")
            bad += 1
    print(f"checked {len(argv)} notebooks, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
