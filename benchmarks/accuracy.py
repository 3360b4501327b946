"""Accuracy: errors in ULPs against mpmath over the adversarial inputs of :mod:`benchmarks.cases`.

For each function and implementation the summary holds

* ``n``: the number of scored outputs,
* ``max_ulp`` and ``median_ulp``: the largest and the median error in ULPs
  (:func:`benchmarks.ulp.ulp_error`), ``"inf"`` when an output is inf or NaN,
* ``over_2_ulp``: how many outputs are off by more than 2 ULP,
* ``nonfinite``: outputs that are inf or NaN where the exact result rounds to a
  finite float64 number,
* ``zero``: outputs that are exactly zero where the exact result rounds to a
  non-zero float64 number, and ``zero_normal``: those of them where it rounds to a
  normal number (not a subnormal one),
* ``worst``: the input of the largest error.

Every output whose exact value rounds to a finite float64 number is scored, with
one exception: ``logsumexp`` rows where the two terms of ``m + log(1 + s)`` cancel
(:math:`(|m| + \\log(1 + s)) / |\\operatorname{lse}| > 2`, see
:func:`benchmarks.truth.vector_parts`) are ill-conditioned: there a relative change
of one ULP in an input moves the result by more than 2 ULP, so no float64 algorithm is
held to a few ULP. They are counted and summarised separately (``ill_conditioned``).

The vector functions are called on one vector at a time (a batch of one row). An
implementation may choose its method per batch (``celesson`` takes a faster path when
all logits of the batch lie in a moderate range), and a batch that mixed the offsets
of size 1e300 with ordinary vectors would hide that path from the scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks import cases, truth
from benchmarks.implementations import FUNCTIONS, Implementation
from benchmarks.ulp import ulp_error

FloatArray = NDArray[np.float64]
CONDITION_LIMIT = 2.0


@dataclass
class Problem:
    """One function's inputs and exact outputs, flattened to the scored elements."""

    name: str
    description: str
    call: Callable[[Implementation], FloatArray]
    t: FloatArray
    r: FloatArray
    describe: Callable[[int], dict[str, Any]]
    scored: NDArray[np.bool_]


def _fmt(x: float) -> str:
    return repr(float(x))


def _row_by_row(fn: Callable[[FloatArray], Any], logits: FloatArray) -> FloatArray:
    """``fn`` applied to each row of ``logits`` as a batch of one, results stacked."""
    return np.concatenate(
        [np.asarray(fn(logits[row : row + 1].copy())) for row in range(logits.shape[0])]
    )


def build_problems(quick: bool = False) -> list[Problem]:
    """Generate the inputs and their exact results for every benchmarked function.

    Parameters
    ----------
    quick : bool
        Coarser input sets (a few seconds instead of about half a minute).
    """
    problems: list[Problem] = []
    z = cases.logits(quick)
    everywhere = np.ones(z.shape, dtype=bool)
    for name, exact in (("sigmoid", truth.sigmoid), ("log_sigmoid", truth.log_sigmoid)):
        t, r = exact(z)
        problems.append(
            Problem(
                name,
                f"{name}(z) on {z.size} logits",
                lambda impl, name=name: impl.functions[name](z.copy()),
                t,
                r,
                lambda i: {"z": _fmt(z[i])},
                everywhere & np.isfinite(t),
            )
        )

    p, yp = cases.binary_pairs(cases.probabilities(quick), probabilities=True)
    t, r = truth.bce_prob(p, yp)
    problems.append(
        Problem(
            "bce_prob",
            f"binary cross-entropy from probabilities, {p.size} (p, y) pairs",
            lambda impl: impl.functions["bce_prob"](p.copy(), yp.copy(), "none"),
            t,
            r,
            lambda i: {"p": _fmt(p[i]), "y": _fmt(yp[i])},
            np.isfinite(t),
        )
    )

    zl = cases.logits(quick)[:: 1 if quick else 2]
    zb, yb = cases.binary_pairs(zl, probabilities=False)
    t, r = truth.bce_logits(zb, yb)
    problems.append(
        Problem(
            "bce_logits",
            f"binary cross-entropy from logits, {zb.size} (z, y) pairs",
            lambda impl: impl.functions["bce_logits"](zb.copy(), yb.copy(), "none"),
            t,
            r,
            lambda i: {"z": _fmt(zb[i]), "y": _fmt(yb[i])},
            np.isfinite(t),
        )
    )

    groups = cases.vectors(quick)
    parts = {k: truth.vector_parts(g.logits) for k, g in groups.items()}
    order = sorted(groups)

    def describe_row(k: int, row: int, entry: int | None = None) -> dict[str, Any]:
        zr = groups[k].logits[row]
        info: dict[str, Any] = {"K": k, "min": _fmt(zr.min()), "max": _fmt(zr.max())}
        if k <= 3:
            info["z"] = [_fmt(v) for v in zr]
        if entry is not None:
            info["entry"] = int(entry)
        return info

    def locator(kind: str) -> Callable[[int], dict[str, Any]]:
        # Map a flat index back to (K, row, entry) through the concatenation order.
        sizes = []
        for k in order:
            n = groups[k].logits.shape[0]
            sizes.append(n * k if kind == "entries" else n if kind == "rows" else n * 3)
        bounds = np.cumsum([0, *sizes])

        def describe(i: int) -> dict[str, Any]:
            g = int(np.searchsorted(bounds, i, side="right") - 1)
            k, local = order[g], int(i - bounds[g])
            if kind == "entries":
                return describe_row(k, local // k, local % k)
            if kind == "rows":
                return describe_row(k, local)
            row, col = divmod(local, 3)
            return describe_row(k, row, groups[k].targets[row, col])

        return describe

    for name in ("softmax", "log_softmax"):
        t = np.concatenate([parts[k][name][0].ravel() for k in order])
        r = np.concatenate([parts[k][name][1].ravel() for k in order])

        def call_entries(impl: Implementation, name: str = name) -> FloatArray:
            fn = impl.functions[name]
            return np.concatenate([_row_by_row(fn, groups[k].logits).ravel() for k in order])

        problems.append(
            Problem(
                name,
                f"{name}(z) over the last axis, {t.size} entries of "
                f"{sum(groups[k].logits.shape[0] for k in order)} vectors, K = 2 ... 1000",
                call_entries,
                t,
                r,
                locator("entries"),
                np.isfinite(t),
            )
        )

    t = np.concatenate([parts[k]["logsumexp"][0] for k in order])
    r = np.concatenate([parts[k]["logsumexp"][1] for k in order])
    condition = np.concatenate([parts[k]["condition"] for k in order])

    def call_lse(impl: Implementation) -> FloatArray:
        fn = impl.functions["logsumexp"]
        return np.concatenate([_row_by_row(fn, groups[k].logits) for k in order])

    problems.append(
        Problem(
            "logsumexp",
            f"logsumexp(z) over the last axis, {t.size} vectors, K = 2 ... 1000",
            call_lse,
            t,
            r,
            locator("rows"),
            np.isfinite(t) & (condition <= CONDITION_LIMIT),
        )
    )

    # Cross-entropy with integer targets is -log_softmax(z)[target].
    t_ce, r_ce = [], []
    for k in order:
        lt, lr = parts[k]["log_softmax"]
        rows = np.arange(lt.shape[0])[:, None]
        tg = groups[k].targets
        t_ce.append(-lt[rows, tg].ravel())
        r_ce.append(-lr[rows, tg].ravel())
    t = np.concatenate(t_ce)
    r = np.concatenate(r_ce)

    def call_ce(impl: Implementation) -> FloatArray:
        fn = impl.functions["ce"]
        out = []
        for k in order:
            g = groups[k]
            for row in range(g.logits.shape[0]):
                z_row = g.logits[row : row + 1]
                out += [
                    np.asarray(fn(z_row.copy(), g.targets[row : row + 1, c].copy(), "none"))
                    for c in range(3)
                ]
        return np.concatenate(out)

    problems.append(
        Problem(
            "ce",
            f"cross-entropy from logits with integer targets, {t.size} (vector, target) pairs",
            call_ce,
            t,
            r,
            locator("targets"),
            np.isfinite(t),
        )
    )
    by_name = {p.name: p for p in problems}
    return [by_name[name] for name in FUNCTIONS]


def _number(x: float) -> float | str:
    """A JSON-safe number with 3 significant digits (``"inf"`` for infinity)."""
    if not np.isfinite(x):
        return "inf"
    return float(f"{x:.3g}")


def summarise(x: FloatArray, problem: Problem) -> dict[str, Any]:
    """Error statistics of computed outputs ``x`` for ``problem`` (see the module docstring)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.shape != problem.t.shape:
        raise ValueError(f"{problem.name}: got {x.shape[0]} outputs, expected {problem.t.size}")
    err = ulp_error(x, problem.t, problem.r)
    scored = problem.scored
    finite_truth = np.isfinite(problem.t)
    nonfinite = int(np.sum(finite_truth & ~np.isfinite(x)))
    flushed = finite_truth & (problem.t != 0.0) & (x == 0.0)
    zero = int(np.sum(flushed))
    zero_normal = int(np.sum(flushed & (np.abs(problem.t) >= np.finfo(np.float64).tiny)))
    e = err[scored]
    worst = int(np.flatnonzero(scored)[np.argmax(e)])
    summary: dict[str, Any] = {
        "n": int(e.size),
        "max_ulp": _number(float(np.max(e))),
        "median_ulp": _number(float(np.median(e))),
        "over_2_ulp": int(np.sum(e > 2.0)),
        "nonfinite": nonfinite,
        "zero": zero,
        "zero_normal": zero_normal,
        "worst": problem.describe(worst),
    }
    ill = finite_truth & ~scored
    if np.any(ill):
        summary["ill_conditioned"] = {
            "n": int(np.sum(ill)),
            "max_ulp": _number(float(np.max(err[ill]))),
        }
    return summary


def run(
    implementations: list[Implementation], quick: bool = False, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Measure every function of every available implementation.

    Returns
    -------
    dict
        ``{"functions": {name: {"description", "results": {impl: summary}}}}``; an
        implementation that raised gets ``{"failed": "<error>"}`` instead of a summary.
    """
    start = time.perf_counter()
    problems = build_problems(quick)
    log(f"exact results (mpmath, {truth.DIGITS} digits) in {time.perf_counter() - start:.1f} s")
    out: dict[str, Any] = {}
    for problem in problems:
        results: dict[str, Any] = {}
        for impl in implementations:
            if not impl.available:
                continue
            try:
                results[impl.name] = summarise(problem.call(impl), problem)
            except Exception as exc:  # a peer's failure is a result, not a crash
                results[impl.name] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
        out[problem.name] = {"description": problem.description, "results": results}
    return {"functions": out}


SPOTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "sigmoid(-740)": ("sigmoid", (np.array([-740.0]),)),
    "log_sigmoid(40)": ("log_sigmoid", (np.array([40.0]),)),
    "log_sigmoid(-800)": ("log_sigmoid", (np.array([-800.0]),)),
    "bce_prob(p=1e-50, y=1)": ("bce_prob", (np.array([1e-50]), np.array([1.0]))),
    "bce_prob(p=1e-20, y=0)": ("bce_prob", (np.array([1e-20]), np.array([0.0]))),
    "bce_prob(p=0, y=0)": ("bce_prob", (np.array([0.0]), np.array([0.0]))),
    "bce_logits(z=-40, y=0)": ("bce_logits", (np.array([-40.0]), np.array([0.0]))),
    "bce_logits(z=800, y=0)": ("bce_logits", (np.array([800.0]), np.array([0.0]))),
    "bce_logits(z=1000, y=1-1e-10)": ("bce_logits", (np.array([1000.0]), np.array([1.0 - 1e-10]))),
    "ce(z=[50, 0], t=0)": ("ce", (np.array([[50.0, 0.0]]), np.array([0]))),
    "ce(z=[0, 800], t=0)": ("ce", (np.array([[0.0, 800.0]]), np.array([0]))),
    "logsumexp([1000, 1000])": ("logsumexp", (np.array([[1000.0, 1000.0]]),)),
    "logsumexp([-1000, -1000])": ("logsumexp", (np.array([[-1000.0, -1000.0]]),)),
}


def spots(implementations: list[Implementation]) -> dict[str, Any]:
    """Outputs of every implementation at a few telling inputs, next to the exact value."""
    exact: dict[str, float] = {}
    for label, (fn, args) in SPOTS.items():
        if fn in ("sigmoid", "log_sigmoid"):
            t, _ = getattr(truth, fn)(args[0])
        elif fn in ("bce_prob", "bce_logits"):
            t, _ = getattr(truth, fn)(*args)
        elif fn == "logsumexp":
            t, _ = truth.vector_parts(args[0])["logsumexp"]
        else:
            lt, _ = truth.vector_parts(args[0])["log_softmax"]
            t = -lt[np.arange(lt.shape[0]), args[1]]
        exact[label] = float(np.ravel(t)[0])
    out: dict[str, Any] = {}
    for label, (fn, args) in SPOTS.items():
        row: dict[str, Any] = {"exact": repr(exact[label])}
        for impl in implementations:
            if not impl.available:
                continue
            extra = ("none",) if fn in ("bce_prob", "bce_logits", "ce") else ()
            try:
                value = np.ravel(impl.functions[fn](*(a.copy() for a in args), *extra))[0]
                row[impl.name] = repr(float(value))
            except Exception as exc:
                row[impl.name] = f"{type(exc).__name__}"
        out[label] = row
    return out
