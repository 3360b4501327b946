"""The package's layers run one way: no module imports one above it (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "celesson"

# Rank of each module; a module may import only modules of strictly lower rank, or
# grads -> losses within the loss layer. symbolic, data and plotting stand apart.
RANK = {
    "_validation": 0,
    "_summation": 0,
    "_rows": 0.5,
    "numerics": 1,
    "losses": 2,
    "calibration": 2,
    "fused": 2,
    "halfprec": 1,
    "grads": 3,
    "linear": 4,
    "mlp": 4,
    "neuron": 4,
    "optim": 4,
    "ghosts": 5,
    "diagnostics": 5,
    "implicit_bias": 5,
    "information": 5,
    "widgets": 3,
    "symbolic": None,
    "data": None,
    "plotting": None,
}


def _internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("celesson."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("celesson."):
                    found.add(alias.name.split(".")[1])
    return found


def test_every_module_has_a_rank() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert modules == set(RANK), f"add new modules to RANK: {sorted(modules ^ set(RANK))}"


@pytest.mark.parametrize("module", sorted(RANK))
def test_imports_point_down(module: str) -> None:
    rank = RANK[module]
    for other in _internal_imports(PACKAGE / f"{module}.py"):
        other_rank = RANK[other]
        if rank is None:
            assert other_rank in (None, 0), f"{module} stands apart but imports {other}"
            continue
        assert other_rank is not None, f"{module} imports the stand-alone module {other}"
        assert other_rank < rank, f"{module} (layer {rank}) imports {other} (layer {other_rank})"


def test_learner_modules_need_no_authoring_tools() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for tool in ("nbgrader", "nbformat", "nbclient", "playwright", "scipy", "torch"):
            assert f"import {tool}" not in text and f"from {tool}" not in text, (path.name, tool)
