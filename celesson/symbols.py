r"""The standard SymPy symbols of the course and their default sampling domains.

The table of symbols, assumptions and domains is in :mod:`celesson.symbolic`, which
re-exports every name here; :func:`celesson.symbolic.verify` samples unlisted symbols
from (-4, 4) (real), (0, 4) (positive) or 1 .. 6 (integer).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

z = sp.Symbol("z", real=True)


y = sp.Symbol("y", real=True)


a = sp.Symbol("a", positive=True)


p = sp.Symbol("p", positive=True)


q = sp.Symbol("q", positive=True)


w = sp.Symbol("w", real=True)


b = sp.Symbol("b", real=True)


x = sp.Symbol("x", real=True)


eps = sp.Symbol("epsilon", positive=True)


gamma = sp.Symbol("gamma", nonnegative=True)


alpha = sp.Symbol("alpha", positive=True)


T = sp.Symbol("T", positive=True)


tau = sp.Symbol("tau", real=True)


K = sp.Symbol("K", integer=True, positive=True)


i, j, k = sp.symbols("i j k", integer=True, positive=True)


#: Indexed logits :math:`z_i` for formulas with a symbolic number of classes.
zi = sp.IndexedBase("z", real=True)


#: Default sampling domains of the standard symbols (see the module docstring).
DEFAULT_DOMAINS: dict[Any, tuple[float, float]] = {
    z: (-8, 8),
    y: (0, 1),
    a: (0, 1),
    p: (0, 1),
    q: (0, 1),
    w: (-4, 4),
    b: (-4, 4),
    x: (-4, 4),
    eps: (0, 1),
    gamma: (0, 5),
    alpha: (0, 1),
    T: (0.05, 10),
    tau: (-4, 4),
    K: (2, 7),
    i: (1, 6),
    j: (1, 6),
    k: (1, 6),
    zi: (-8, 8),
}
