"""The package as a whole: what ``import celesson`` costs and what it exposes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_import_celesson_does_not_import_sympy() -> None:
    # SymPy takes most of a second to import; the numeric API must not pay for it.
    out = _run("import sys, celesson; print('sympy' in sys.modules)")
    assert out == "False"


def test_symbolic_names_load_on_first_use() -> None:
    out = _run(
        "import sys, celesson\n"
        "from celesson import verify\n"
        "print('sympy' in sys.modules, verify is celesson.symbolic.verify,"
        " 'verify' in dir(celesson))"
    )
    assert out == "True True True"


def test_unknown_attribute_is_an_attribute_error() -> None:
    out = _run(
        "import celesson\n"
        "try:\n    celesson.no_such_name\nexcept AttributeError as e:\n    print(e)"
    )
    assert "no_such_name" in out


def test_every_public_name_resolves() -> None:
    import celesson

    missing = [name for name in celesson.__all__ if not hasattr(celesson, name)]
    assert missing == []


def _public_functions() -> list[tuple[str, object]]:
    """Every public function defined in a public module of the package (not re-exports)."""
    import importlib
    import inspect
    import pkgutil

    import celesson

    found = []
    for info in pkgutil.iter_modules(celesson.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"celesson.{info.name}")
        for name, obj in vars(module).items():
            if (not name.startswith("_") and inspect.isfunction(obj)
                    and obj.__module__ == module.__name__):
                found.append((f"{module.__name__}.{name}", obj))
    return found


def test_every_public_function_documents_its_parameters() -> None:
    """NumPy style: a function that takes arguments says what they are, in a Parameters
    section (a function taking only ``**kwargs`` names the function it passes them to)."""
    import inspect

    functions = _public_functions()
    assert len(functions) > 100, "the walk over the package found too few functions"
    missing = []
    for qualname, func in functions:
        doc = inspect.getdoc(func) or ""
        params = [p for p in inspect.signature(func).parameters.values()  # type: ignore[arg-type]
                  if p.kind is not inspect.Parameter.VAR_KEYWORD]
        if params and "Parameters\n----------" not in doc:
            missing.append(qualname)
        if not doc:
            missing.append(f"{qualname} (no docstring)")
    assert not missing, "public functions without a Parameters section:\n" + "\n".join(missing)


def returns_untyped(func: object) -> bool:
    """True when ``func`` has no return annotation, or one that says ``Any``."""
    import inspect
    import re

    ann = inspect.signature(func).return_annotation  # type: ignore[arg-type]
    return ann is inspect.Signature.empty or bool(re.search(r"\bAny\b", str(ann)))


def test_every_public_function_has_a_real_return_type() -> None:
    """No public function of the package is annotated as returning ``Any`` (a loss says
    ``np.float64``, an array, or ``FloatResult`` when its input decides)."""
    untyped = [name for name, func in _public_functions() if returns_untyped(func)]
    assert not untyped, "public functions returning Any or nothing declared:\n" + (
        "\n".join(untyped))


def test_the_return_type_check_catches_any() -> None:
    from typing import Any

    def loose(x: float) -> Any:
        """A function typed the way this check rejects."""
        return x

    def missing(x: float):  # type: ignore[no-untyped-def]
        return x

    def typed(x: float) -> dict[str, Any] | float:
        return x

    assert returns_untyped(loose) and returns_untyped(missing)
    assert returns_untyped(typed)  # Any inside a container is still Any
