r"""The verification engine behind :func:`celesson.symbolic.verify`.

:func:`verify` first tries to prove an identity by simplification and otherwise checks
it numerically with 50-digit arithmetic (mpmath) at seeded random points of each
symbol's domain; :func:`verify_nonnegative` does the same for an inequality
:math:`f \ge 0`. Both return a :class:`Verification` that prints what was verified and
how. Re-exported by :mod:`celesson.symbolic`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from .symbols import DEFAULT_DOMAINS


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify`; truthy when the identity holds.

    Attributes
    ----------
    holds : bool
        Whether the identity was proved or passed the numeric check.
    method : str
        ``"symbolic"`` (proved by simplification), ``"numeric"`` (50-digit check at
        random points) or ``"counterexample"`` / ``"error"`` when it does not hold.
    description : str
        What was checked, in words.
    detail : str
        How: the simplification that succeeded, the points and largest difference,
        or the counterexample.
    n_points : int
        Number of points of the numeric check (0 for a symbolic proof).
    dps : int
        Decimal digits of the numeric check.
    """

    holds: bool
    method: str
    description: str
    detail: str
    n_points: int = 0
    dps: int = 50

    def __bool__(self) -> bool:
        return self.holds

    def __str__(self) -> str:
        if self.holds and self.method == "symbolic":
            return f"✔ verified symbolically: {self.description}"
        if self.holds:
            return (
                f"✔ verified numerically at {self.n_points} random points "
                f"({self.dps} digits): {self.description}"
            )
        return f"✘ DOES NOT HOLD: {self.description} ({self.detail})"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return str(self)


def _to_entries(expr: Any, name: str) -> tuple[tuple[int, ...], list[sp.Expr]]:
    if isinstance(expr, sp.MatrixBase):
        return expr.shape, [sp.sympify(v) for v in expr]
    if isinstance(expr, list | tuple):
        flat = []
        for v in expr:
            if isinstance(v, list | tuple | sp.MatrixBase):
                raise TypeError(f"{name} must be an expression, a flat list or a sympy Matrix")
            flat.append(v)
        expr = sp.Matrix(flat)
        return expr.shape, [sp.sympify(v) for v in expr]
    if isinstance(expr, sp.Basic) and not isinstance(expr, sp.Expr):
        raise TypeError(
            f"{name} must be a SymPy expression (not a {type(expr).__name__}); "
            "pass the two sides of an equation separately"
        )
    try:
        return (), [sp.sympify(expr, strict=True)]
    except (sp.SympifyError, TypeError) as exc:
        raise TypeError(f"{name} must be a SymPy expression or a number, got {expr!r}") from exc


_SIMPLIFIERS: tuple[tuple[str, Any], ...] = (
    ("difference is structurally zero", lambda e: e),
    ("expand", sp.expand),
    ("together and cancel", lambda e: sp.cancel(sp.together(e))),
    ("simplify", sp.simplify),
    ("rewrite in exp, then simplify", lambda e: sp.simplify(e.rewrite(sp.exp))),
    ("expand_log, then simplify", lambda e: sp.simplify(sp.expand_log(e))),
)


_MAX_OPS_FOR_SIMPLIFY = 600


def _is_zero_symbolically(diff: sp.Expr) -> str | None:
    """Name of the first transformation that turns ``diff`` into 0, else None."""
    if diff.has(sp.Sum, sp.Product):
        diff = diff.doit()
    big = sp.count_ops(diff) > _MAX_OPS_FOR_SIMPLIFY
    for name, transform in _SIMPLIFIERS:
        if big and "simplify" in name:
            continue
        try:
            result = transform(diff)
        except (TypeError, ValueError, NotImplementedError, RecursionError, AttributeError):
            continue
        if result == 0 or result.is_zero is True:
            return name
    return None


def _lookup_domain(
    sym: Any, domains: Mapping[Any, tuple[Any, Any]], base: Any = None
) -> tuple[Any, Any]:
    for key in (sym, base):
        if key is None:
            continue
        if key in domains:
            return domains[key]
        key_name = str(key.label) if isinstance(key, sp.IndexedBase) else str(key)
        if key_name in domains:
            return domains[key_name]
    for key in (sym, base):
        if key is not None and key in DEFAULT_DOMAINS:
            return DEFAULT_DOMAINS[key]
    if getattr(sym, "is_integer", False):
        return (1, 6)
    if getattr(sym, "is_nonnegative", False):
        return (0, 4)
    if getattr(sym, "is_nonpositive", False):
        return (-4, 0)
    return (-4, 4)


def _check_domains(domains: Any) -> dict[Any, tuple[Any, Any]]:
    if domains is None:
        return {}
    if not isinstance(domains, Mapping):
        raise TypeError("domains must be a mapping {symbol: (low, high)}")
    out: dict[Any, tuple[Any, Any]] = {}
    for key, value in domains.items():
        if not isinstance(key, sp.Symbol | sp.IndexedBase | str):
            raise TypeError(f"domains keys must be symbols, IndexedBase or names, got {key!r}")
        try:
            lo, hi = value
            lo_f, hi_f = float(lo), float(hi)
        except (TypeError, ValueError):
            raise TypeError(
                f"domains[{key}] must be a pair (low, high) of numbers, got {value!r}"
            ) from None
        if not (math.isfinite(lo_f) and math.isfinite(hi_f)) or not lo_f < hi_f:
            raise ValueError(f"domains[{key}] must satisfy low < high (finite), got {value!r}")
        out[key] = (lo, hi)
    return out


def _sample(rng: np.random.Generator, lo: Any, hi: Any, integer: bool) -> Any:
    if integer:
        return int(rng.integers(math.ceil(float(lo)), math.floor(float(hi)) + 1))
    u = float(rng.random())
    while u == 0.0:
        u = float(rng.random())
    lo_m, hi_m = mpmath.mpf(sp.Float(lo, 60)), mpmath.mpf(sp.Float(hi, 60))
    return lo_m + (hi_m - lo_m) * mpmath.mpf(u)


def _fmt(value: Any, digits: int = 6) -> str:
    if isinstance(value, int):
        return str(value)
    return mpmath.nstr(value, digits)


def _compile(
    exprs: list[sp.Expr], point: dict[Any, int], real_syms: list[Any]
) -> tuple[Any, list[Any], str]:
    """Lambdify ``exprs`` (integers substituted, sums expanded) for mpmath.

    Returns the function, the symbols / indexed objects it takes, and an error
    message ('' when fine).
    """
    concrete = [e.subs(point).doit() if point else e for e in exprs]
    indexed = sorted(set().union(*(e.atoms(sp.Indexed) for e in concrete)), key=str)
    keys: list[Any] = [s for s in real_syms if s not in point]
    keys += indexed
    dummies = [sp.Dummy() for _ in keys]
    replaced = [e.xreplace(dict(zip(keys, dummies, strict=True))) for e in concrete]
    left = set().union(*(e.free_symbols for e in replaced)) - set(dummies)
    if left:
        return None, keys, f"cannot evaluate: unbound symbols {sorted(map(str, left))}"
    return sp.lambdify(dummies, replaced, modules="mpmath"), keys, ""


def _numeric_check(
    lhs: list[sp.Expr],
    rhs: list[sp.Expr],
    domains: dict[Any, tuple[Any, Any]],
    n_points: int,
    dps: int,
    seed: int,
) -> tuple[bool, str, int]:
    """Evaluate both sides at random points; (holds, detail, points used)."""
    exprs = [*lhs, *rhs]
    free = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    integer_syms = [s for s in free if s.is_integer]
    real_syms = [s for s in free if not s.is_integer]
    rng = np.random.default_rng(seed)
    tol_exp = max(dps - 10, 5)
    worst = mpmath.mpf(0)
    compiled: dict[tuple[Any, ...], tuple[Any, list[Any], str]] = {}
    used = 0
    attempts = 0
    with mpmath.workdps(dps):
        tol = mpmath.mpf(10) ** (-tol_exp)
        while used < n_points and attempts < 20 * n_points:
            attempts += 1
            point: dict[Any, Any] = {}
            for s in integer_syms:
                point[s] = _sample(rng, *_lookup_domain(s, domains), integer=True)
            key = tuple(point.items())
            if key not in compiled:
                compiled[key] = _compile(exprs, point, real_syms)
            fn, keys, error = compiled[key]
            if error:
                return False, error, used
            values: dict[Any, Any] = {}
            for item in keys:
                if isinstance(item, sp.Indexed):
                    dom = _lookup_domain(item, domains, base=item.base)
                else:
                    dom = _lookup_domain(item, domains)
                values[item] = _sample(rng, *dom, integer=False)
            try:
                got = fn(*[values[kk] for kk in keys])
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                continue
            n = len(lhs)
            bad_value = False
            for left_v, right_v in zip(got[:n], got[n:], strict=True):
                try:
                    left_c, right_c = mpmath.mpmathify(left_v), mpmath.mpmathify(right_v)
                except (TypeError, ValueError):
                    bad_value = True
                    break
                if not (mpmath.isfinite(left_c) and mpmath.isfinite(right_c)):
                    if left_c == right_c:
                        continue
                    bad_value = True
                    break
                diff = abs(left_c - right_c)
                scale = max(mpmath.mpf(1), abs(left_c), abs(right_c))
                if diff > tol * scale:
                    where = ", ".join(
                        f"{s}={_fmt(v)}" for s, v in [*point.items(), *values.items()]
                    )
                    return (
                        False,
                        f"counterexample {where or 'at the constant'}: "
                        f"lhs={_fmt(left_c, 8)}, rhs={_fmt(right_c, 8)}, "
                        f"lhs-rhs={_fmt(left_c - right_c, 3)}",
                        used,
                    )
                worst = max(worst, diff / scale)
            if bad_value:
                continue
            used += 1
    if used < n_points:
        return (
            False,
            f"could evaluate both sides at only {used} of {n_points} points "
            f"(check the domains)",
            used,
        )
    return True, f"max relative |lhs-rhs| = {_fmt(worst, 3)} at {used} points", used


def verify(
    lhs: Any,
    rhs: Any = 0,
    *,
    description: str = "",
    domains: Mapping[Any, tuple[Any, Any]] | None = None,
    n_points: int = 20,
    dps: int = 50,
    seed: int = 0,
    symbolic: bool = True,
) -> Verification:
    r"""Check the identity ``lhs == rhs``: prove it symbolically, else test it numerically.

    1. The difference ``lhs - rhs`` is passed through a series of SymPy
       transformations (as is, ``expand``, ``together``/``cancel``, ``simplify``,
       rewriting in ``exp``, ``expand_log``); if one gives exactly 0 the identity is
       *proved* (``method="symbolic"``).  SymPy uses the symbols' assumptions (the
       standard symbols of this module carry them).
    2. Otherwise both sides are evaluated with ``dps``-digit arithmetic (mpmath) at
       ``n_points`` random points drawn with ``numpy.random.default_rng(seed)``
       uniformly from each symbol's domain; it holds (``method="numeric"``) if
       :math:`|\text{lhs} - \text{rhs}| \le 10^{-(\text{dps}-10)}
       \max(1, |\text{lhs}|, |\text{rhs}|)` at every point.  Integer symbols (such as
       ``K``) get random integers and sums are expanded; indexed symbols
       ``z[j]`` get independent values from their base's domain.
    3. Otherwise it does not hold, and the first counterexample is reported.

    Parameters
    ----------
    lhs, rhs : sympy expression, number, flat list or sympy Matrix
        The two sides (``rhs`` defaults to 0); lists and matrices are compared
        entry by entry.
    description : str
        What the identity says, in words (default: the identity itself).
    domains : mapping, optional
        ``{symbol or IndexedBase or name: (low, high)}`` sampling intervals for the
        numeric check, e.g. ``{a: (0, 1)}``; others use :data:`DEFAULT_DOMAINS` or a
        default from the symbol's assumptions.
    n_points : int, default 20
    dps : int, default 50
        Decimal digits of the numeric check (at least 20).
    seed : int, default 0
    symbolic : bool, default True
        Set False to skip the simplification step (e.g. for large expressions).

    Returns
    -------
    Verification
        Truthy when the identity holds; printing it says what was verified and how.

    Examples
    --------
    >>> from celesson.symbolic import sigma, z
    >>> print(verify(sigma(-z), 1 - sigma(z), description="sigma(-z) = 1 - sigma(z)"))
    ✔ verified symbolically: sigma(-z) = 1 - sigma(z)
    >>> bool(verify(sigma(z), sigma(-z)))
    False
    """
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, got {description!r}")
    checked = _check_domains(domains)
    for value, name, lo in ((n_points, "n_points", 1), (dps, "dps", 20), (seed, "seed", 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < lo:
            raise ValueError(f"{name} must be >= {lo}, got {value}")
    shape_l, left = _to_entries(lhs, "lhs")
    shape_r, right = _to_entries(rhs, "rhs")
    if shape_l != shape_r:
        if shape_r == () and right[0] == 0:
            right = [sp.Integer(0)] * len(left)
        else:
            raise ValueError(f"lhs and rhs must have the same shape, got {shape_l} and {shape_r}")
    if not description:
        description = (
            f"{sp.sstr(lhs)} = {sp.sstr(rhs)}" if len(left) == 1 else "matrix identity"
        )
    if symbolic:
        how = []
        for left_e, right_e in zip(left, right, strict=True):
            found = _is_zero_symbolically(left_e - right_e)
            if found is None:
                break
            how.append(found)
        else:
            return Verification(True, "symbolic", description, "; ".join(sorted(set(how))))
    holds, detail, used = _numeric_check(left, right, checked, int(n_points), int(dps), int(seed))
    method = "numeric" if holds else ("counterexample" if "counterexample" in detail else "error")
    return Verification(holds, method, description, detail, n_points=used, dps=int(dps))


def verify_nonnegative(
    expr: Any,
    *,
    description: str = "",
    domains: Mapping[Any, tuple[Any, Any]] | None = None,
    n_points: int = 200,
    dps: int = 50,
    seed: int = 0,
) -> Verification:
    r"""Check :math:`\text{expr} \ge 0`: by SymPy's assumptions if it can, else at random points.

    The symbolic step asks SymPy whether the (simplified) expression is
    non-negative under the symbols' assumptions; this is a proof when it answers
    yes.  Otherwise the expression is evaluated with ``dps`` digits at ``n_points``
    seeded random points (domains as in :func:`verify`) and must be
    :math:`\ge -10^{-(\text{dps}-10)}` at each, which is evidence, not proof.

    Parameters
    ----------
    expr : sympy expression
        One expression.
    description, domains, n_points, dps, seed
        As for :func:`verify`.

    Returns
    -------
    Verification
        ``description`` defaults to ``"<expr> >= 0"``.

    Examples
    --------
    >>> from celesson.symbolic import sigma, z
    >>> bool(verify_nonnegative(sigma(z) * (1 - sigma(z))))
    True
    >>> bool(verify_nonnegative(z))
    False
    """
    shape, entries = _to_entries(expr, "expr")
    if shape != ():
        raise TypeError("expr must be a single expression")
    expression = entries[0]
    if not description:
        description = f"{sp.sstr(expression)} >= 0"
    if expression.is_nonnegative is True or sp.simplify(expression).is_nonnegative is True:
        return Verification(True, "symbolic", description, "SymPy's assumptions")
    checked = _check_domains(domains)
    # x >= 0  <=>  x == max(x, 0): reuse the numeric machinery on that identity
    holds, detail, used = _numeric_check(
        [expression], [sp.Max(expression, 0)], checked, int(n_points), int(dps), int(seed)
    )
    method = "numeric" if holds else ("counterexample" if "counterexample" in detail else "error")
    return Verification(holds, method, description, detail, n_points=used, dps=int(dps))
