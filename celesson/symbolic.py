r"""The SymPy side of the course: standard symbols and expressions, and :func:`verify`.

Chapters build derivations from the expressions here (:func:`sigma`,
:func:`softmax`, :func:`bce`, ...) and assert each stated identity with
:func:`verify`, which first tries to *prove* it by simplification and otherwise
checks it numerically with 50-digit arithmetic at seeded random points.  The
result prints what was verified and how::

    >>> from celesson.symbolic import z, y, sigma, bce, verify
    >>> import sympy as sp
    >>> print(verify(sp.diff(bce(sigma(z), y), z), sigma(z) - y,
    ...              description="dC/dz = sigma(z) - y"))
    ✔ verified symbolically: dC/dz = sigma(z) - y

Standard symbols and the default domains used for numeric checks (open intervals;
integers inclusive):

========  ===================================  =================
symbol    assumptions                          default domain
========  ===================================  =================
``z``     real (a logit)                       (-8, 8)
``y``     real (a target in [0, 1])            (0, 1)
``a``     positive (a predicted probability)   (0, 1)
``p, q``  positive (probabilities)             (0, 1)
``w, b``  real (weight, bias)                  (-4, 4)
``x``     real (an input)                      (-4, 4)
``eps``   positive (label smoothing)           (0, 1)
``gamma`` nonnegative (focal parameter)        (0, 5)
``alpha`` positive (focal weight)              (0, 1)
``T``     positive (temperature)               (0.05, 10)
``tau``   real (a step length)                 (-4, 4)
``K``     positive integer (classes)           2 .. 7
========  ===================================  =================

Other real symbols default to (-4, 4), positive ones to (0, 4), integer ones to
1 .. 6; pass ``domains={symbol: (lo, hi)}`` to :func:`verify` to choose.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import mpmath
import numpy as np
import sympy as sp

__all__ = [
    "DEFAULT_DOMAINS",
    "K",
    "T",
    "Verification",
    "a",
    "alpha",
    "b",
    "bce",
    "bce_logits",
    "binary_entropy",
    "cross_entropy",
    "entropy",
    "eps",
    "focal",
    "focal_logits",
    "gamma",
    "i",
    "j",
    "k",
    "kl_divergence",
    "log_softmax",
    "logsumexp",
    "mse",
    "p",
    "q",
    "sigma",
    "smooth_labels",
    "softmax",
    "softmax_indexed",
    "softmax_symbols",
    "tau",
    "verify",
    "verify_nonnegative",
    "w",
    "x",
    "y",
    "z",
    "zi",
]

# ----------------------------------------------------------------------------- symbols

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


# ------------------------------------------------------------------------- expressions


def sigma(arg: Any) -> sp.Expr:
    r"""The logistic sigmoid :math:`\sigma(u) = 1/(1 + e^{-u})` as a SymPy expression."""
    return 1 / (1 + sp.exp(-sp.sympify(arg)))


def softmax_symbols(num_classes: int, name: str = "z") -> list[sp.Symbol]:
    """Real symbols ``z_1, ..., z_K`` for a softmax over a fixed number of classes."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be an integer, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return list(sp.symbols(f"{name}_1:{int(num_classes) + 1}", real=True))


def softmax(logits: Sequence[Any]) -> list[sp.Expr]:
    r""":math:`\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}` for a list of expressions."""
    terms = [sp.exp(sp.sympify(v)) for v in logits]
    if not terms:
        raise ValueError("logits must contain at least one expression")
    total = sp.Add(*terms)
    return [t / total for t in terms]


def logsumexp(logits: Sequence[Any]) -> sp.Expr:
    r""":math:`\log \sum_k e^{z_k}` for a list of expressions."""
    if len(logits) == 0:
        raise ValueError("logits must contain at least one expression")
    return sp.log(sp.Add(*[sp.exp(sp.sympify(v)) for v in logits]))


def log_softmax(logits: Sequence[Any]) -> list[sp.Expr]:
    r""":math:`z_k - \log\sum_j e^{z_j}` for a list of expressions."""
    lse = logsumexp(logits)
    return [sp.sympify(v) - lse for v in logits]


def softmax_indexed(index: Any = i, num_classes: Any = K, base: sp.IndexedBase = zi) -> sp.Expr:
    r"""Softmax with a symbolic number of classes, :math:`e^{z_i} / \sum_{j=1}^{K} e^{z_j}`.

    Uses :class:`sympy.IndexedBase` and :class:`sympy.Sum`; :func:`verify` checks
    identities in it numerically for several concrete ``K``.
    """
    dummy = sp.Symbol("j_", integer=True, positive=True)
    return sp.exp(base[index]) / sp.Sum(sp.exp(base[dummy]), (dummy, 1, num_classes))


def bce(prob: Any, target: Any) -> sp.Expr:
    r"""Binary cross-entropy :math:`-y\log a - (1-y)\log(1-a)`."""
    prob, target = sp.sympify(prob), sp.sympify(target)
    return -(target * sp.log(prob) + (1 - target) * sp.log(1 - prob))


def bce_logits(logit: Any, target: Any) -> sp.Expr:
    r"""Binary cross-entropy of :math:`\sigma(z)`: ``bce(sigma(z), y)``."""
    return bce(sigma(logit), target)


def binary_entropy(prob: Any) -> sp.Expr:
    r"""Binary entropy :math:`-a\log a - (1-a)\log(1-a)` (the minimum of ``bce(., a)``)."""
    return bce(prob, prob)


def mse(pred: Any, target: Any) -> sp.Expr:
    r"""Squared error :math:`(a - y)^2` (no :math:`\tfrac12`, as :func:`celesson.mse_loss`)."""
    return (sp.sympify(pred) - sp.sympify(target)) ** 2


def cross_entropy(logits: Sequence[Any], target: int | Sequence[Any]) -> sp.Expr:
    r"""Cross-entropy :math:`-\sum_k y_k \log\operatorname{softmax}(z)_k`.

    ``target`` is a class index (0-based, as in :func:`celesson.cross_entropy`) or a
    list of target probabilities.
    """
    logs = log_softmax(logits)
    if isinstance(target, numbers.Integral):
        if not 0 <= int(target) < len(logs):
            raise ValueError(f"target index {target} out of range for {len(logs)} classes")
        return -logs[int(target)]
    probs = list(cast(Sequence[Any], target))
    if len(probs) != len(logs):
        raise ValueError(f"target has {len(probs)} entries, logits {len(logs)}")
    return -sp.Add(*[sp.sympify(t) * lg for t, lg in zip(probs, logs, strict=True)])


def smooth_labels(
    target: int, num_classes: int, epsilon: Any = eps, convention: str = "uniform"
) -> list[sp.Expr]:
    """Smoothed one-hot target, ``"uniform"`` (eps/K everywhere) or ``"others"`` (eps/(K-1))."""
    if convention == "uniform":
        return [
            (1 - epsilon) * (1 if c == target else 0) + epsilon / num_classes
            for c in range(num_classes)
        ]
    if convention == "others":
        return [
            1 - epsilon if c == target else epsilon / (num_classes - 1)
            for c in range(num_classes)
        ]
    raise ValueError(f'convention must be "uniform" or "others", got {convention!r}')


def focal(p_t: Any, gamma_: Any = gamma, alpha_: Any = 1) -> sp.Expr:
    r"""Focal loss in terms of :math:`p_t`: :math:`-\alpha (1 - p_t)^{\gamma} \log p_t`."""
    p_t = sp.sympify(p_t)
    return -alpha_ * (1 - p_t) ** gamma_ * sp.log(p_t)


def focal_logits(logit: Any, target: Any, gamma_: Any = gamma, alpha_: Any = None) -> sp.Expr:
    r"""Binary focal loss from a logit, the formula of :func:`celesson.focal_loss`.

    :math:`\alpha_t\,(y\,\sigma(-z) + (1-y)\,\sigma(z))^{\gamma}\,\mathrm{bce}(\sigma(z), y)`
    with :math:`\alpha_t = \alpha y + (1-\alpha)(1-y)` (1 when ``alpha_`` is None).
    """
    logit, target = sp.sympify(logit), sp.sympify(target)
    modulator = target * sigma(-logit) + (1 - target) * sigma(logit)
    weight = 1 if alpha_ is None else alpha_ * target + (1 - alpha_) * (1 - target)
    return weight * modulator**gamma_ * bce_logits(logit, target)


def entropy(probs: Sequence[Any]) -> sp.Expr:
    r"""Shannon entropy :math:`-\sum_k p_k \log p_k`."""
    return -sp.Add(*[sp.sympify(v) * sp.log(v) for v in probs])


def kl_divergence(probs: Sequence[Any], other: Sequence[Any]) -> sp.Expr:
    r""":math:`\sum_k p_k \log(p_k / q_k)`."""
    if len(probs) != len(other):
        raise ValueError(f"p has {len(probs)} entries, q {len(other)}")
    return sp.Add(*[sp.sympify(u) * sp.log(u / v) for u, v in zip(probs, other, strict=True)])


# ------------------------------------------------------------------------ verification


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
    domain: Mapping[Any, tuple[Any, Any]] | None = None,
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
        default from the symbol's assumptions.  ``domain`` is accepted as an alias.
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
    >>> print(verify(sigma(-z), 1 - sigma(z), description="sigma(-z) = 1 - sigma(z)"))
    ✔ verified symbolically: sigma(-z) = 1 - sigma(z)
    >>> bool(verify(sigma(z), sigma(-z)))
    False
    """
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, got {description!r}")
    if domain is not None and domains is not None:
        raise TypeError("give domains or its alias domain, not both")
    checked = _check_domains(domains if domains is not None else domain)
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

    Returns
    -------
    Verification
        ``description`` defaults to ``"<expr> >= 0"``.

    Examples
    --------
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
