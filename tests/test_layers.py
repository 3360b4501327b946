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
    "fp": 0.5,
    "_kernels": 0.7,
    "numerics": 1,
    "halfprec": 1,
    "gradcheck": 1,
    "_loss_options": 1.5,
    "_bce_kernels": 1.6,
    "_ce_kernels": 1.6,
    "binary_losses": 1.7,
    "multiclass_losses": 1.7,
    "losses": 2,
    "_fused_kernels": 1.8,
    "fused": 2,
    "reliability": 2,
    "temperature": 2.1,
    "brier": 2.1,
    "calibration": 2.5,
    "binary_grads": 2.5,
    "multiclass_grads": 2.5,
    "grads": 3,
    "widgets": 3,
    "activations": 3.5,
    "output_layer": 3.5,
    "parameters": 1,
    "history": 0.6,
    "minibatch": 3.9,
    "design": 3.8,
    "logistic_regression": 3.9,
    "softmax_regression": 3.9,
    "regression": 4,
    "mlp": 4,
    "neuron": 4.15,
    "optim": 4,
    "training": 4.1,
    "max_margin": 4.1,
    "gradient_flow": 4.2,
    "linear": 4.5,
    "radius": 5,
    "partition_zeros": 5.1,
    "spikes": 5.2,
    "ghosts": 5.5,
    "diagnostics": 5,
    "sqrt_tail": 4.8,
    "implicit_bias": 5,
    "prefix_codes": 1,
    "char_models": 1,
    "second_order": 5,
    "information": 5.5,
    "symbolic": None,
    "symbols": None,
    "verification": None,
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


def _private_imports(path: Path) -> list[str]:
    """``from .m import _name``: an underscore name of another module (an internal module
    itself, ``from . import _rows``, is allowed: its public names are its interface)."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        internal = node.level >= 1 or (node.module or "").split(".")[0] == "celesson"
        if not internal:
            continue
        for alias in node.names:
            is_module = not node.module and alias.name in modules
            if alias.name.startswith("_") and not is_module:
                found.append(f"from {'.' * node.level}{node.module or ''} import {alias.name}")
    return found


@pytest.mark.parametrize("module", sorted(RANK))
def test_no_module_imports_another_modules_private_names(module: str) -> None:
    assert _private_imports(PACKAGE / f"{module}.py") == []


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from .losses import _bce_logits, cross_entropy\nfrom . import _rows\n")
    assert _private_imports(bad) == ["from .losses import _bce_logits"]


def test_chapters_import_no_internal_module() -> None:
    # the book shows internal code with literalinclude; what a reader imports is public
    # (celesson.fp for the summation kernels), never celesson._something
    import json

    offenders = []
    for nb in sorted((PACKAGE.parent / "chapters").glob("*/*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and (
                "from celesson._" in source or "import celesson._" in source
            ):
                offenders.append(nb.relative_to(PACKAGE.parent).as_posix())
    assert offenders == []
