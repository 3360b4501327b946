"""High-precision references (mpmath, 60 digits) and adversarial inputs for the tests.

The exact formulas live in one place, :mod:`benchmarks.truth`, shared with the accuracy
benchmark and the floating-point chapter; this module re-exports its scalar functions
under the tests' short names (``sigmoid`` is :func:`benchmarks.truth.exact_sigmoid`,
``log_sigmoid``, ``softplus``, ``bce_logits``, ``bce_prob``, ``logsumexp`` and
``log_softmax`` likewise, ``row_parts`` as it is) and sets mpmath's working precision to
``DPS`` digits, at which those functions evaluate. It adds the ULP ruler below, a
memoised :func:`log_softmax_cached` and the adversarial inputs.

Error measure: one ruler for the tests, the benchmark and the book,
:func:`benchmarks.ulp.ulp_error`: the error of a float64 result ``x`` against the exact
value ``T`` in units in the last place of ``fl(T)`` (``T`` rounded to float64),

    ulp_error(x, T) = |x - T| / ulp(fl(T)),

where ``ulp(t)`` is ``2**(e - 52)`` for ``2**e <= |t| < 2**(e + 1)`` in the normal range
and ``2**-1074`` (the smallest subnormal) below ``2**-1022``.  A correctly rounded result
has error <= 0.5.

Underflow rule: a result may be 0 only where ``|T| < 2**-1074``, i.e. where the
true value is below the smallest subnormal (then 0 is within one subnormal ULP).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import mpmath as mp
import numpy as np

from benchmarks import ulp
from benchmarks.truth import exact_bce_logits as bce_logits
from benchmarks.truth import exact_bce_prob as bce_prob
from benchmarks.truth import exact_log_sigmoid as log_sigmoid
from benchmarks.truth import exact_log_softmax as log_softmax
from benchmarks.truth import exact_logsumexp as logsumexp
from benchmarks.truth import exact_sigmoid as sigmoid
from benchmarks.truth import exact_softplus as softplus
from benchmarks.truth import row_parts

__all__ = [
    "DPS",
    "SMALLEST_SUBNORMAL",
    "ULP_TARGET",
    "adversarial_rows",
    "adversarial_scalars",
    "bce_logits",
    "bce_prob",
    "log_sigmoid",
    "log_softmax",
    "log_softmax_cached",
    "logsumexp",
    "row_parts",
    "sigmoid",
    "softplus",
    "ulp_error",
    "ulp_of",
    "worst_ulp",
    "zero_allowed",
]

DPS = 60
mp.mp.dps = DPS

#: The course's accuracy target for float64 results (DESIGN: "within a couple of ULP").
ULP_TARGET = 2.0


SMALLEST_SUBNORMAL = mp.mpf(2) ** -1074


def ulp_of(ref: mp.mpf) -> mp.mpf:
    """``ulp(fl(ref))``, the benchmark ruler's unit at the exact value ``ref``."""
    t, _ = ulp.split(mp.mpf(ref))
    return mp.mpf(float(ulp.ulp(t)[()]))


def ulp_error(x: float, ref: mp.mpf) -> float:
    """ULP error of the float ``x`` against the exact ``ref`` (inf if x is inf/NaN).

    The benchmark's ruler (:mod:`benchmarks.ulp`): ``ref`` is split into
    ``fl(ref) + rest`` and the error is measured in units of ``ulp(fl(ref))``.
    """
    t, r = ulp.split(mp.mpf(ref))
    return float(ulp.ulp_error(float(x), t, r)[()])


def zero_allowed(ref: mp.mpf) -> bool:
    """A float64 result of exactly 0 is acceptable only below the smallest subnormal."""
    return abs(ref) < SMALLEST_SUBNORMAL


def worst_ulp(values: Iterable[float], refs: Iterable[mp.mpf]) -> tuple[float, int]:
    """Largest ULP error and its position; also asserts the inf/NaN/zero rules."""
    worst, where = 0.0, -1
    for n, (x, r) in enumerate(zip(values, refs, strict=True)):
        x = float(x)
        assert not np.isnan(x), f"NaN at position {n} where the true value is {r}"
        if mp.isfinite(r):
            assert np.isfinite(x), f"{x} at position {n} where the true value {r} is finite"
        if x == 0.0 and r != 0:
            assert zero_allowed(r), f"0 at position {n} where the true value is {mp.nstr(r, 5)}"
        err = ulp_error(x, r)
        if err > worst:
            worst, where = err, n
    return worst, where


# ------------------------------------------------------------------ references
# The formulas (sigmoid, log_sigmoid, bce_logits, row_parts, log_softmax, ...) are those
# of benchmarks.truth, imported above; only the memo is added here.


@functools.cache
def _log_softmax_cached(row_bytes: bytes) -> tuple[mp.mpf, ...]:
    return tuple(log_softmax(np.frombuffer(row_bytes, dtype=np.float64)))


def log_softmax_cached(row: np.ndarray) -> tuple[mp.mpf, ...]:
    """:func:`log_softmax`, memoised per row (several tests use the same rows)."""
    return _log_softmax_cached(np.ascontiguousarray(row, dtype=np.float64).tobytes())


# ------------------------------------------------------------- adversarial inputs


def adversarial_scalars() -> np.ndarray:
    """Logits that probe every regime of the sigmoid family (both signs).

    Magnitudes from 1e-300 to 1e308 (log-spaced), subnormals and 0, neighbourhoods
    of the float64 edges (36.7: exp(-z) below half an ULP of 1; 709.78: exp
    overflows; 745.13: exp underflows to 0) and of a few ordinary values, and
    seeded random values at several scales.
    """
    zs = [0.0, 5e-324, 1e-320, 2.2250738585072014e-308]
    zs += list(10.0 ** np.linspace(-300, 308, 200))
    edges = [36.04365338911715, 36.7, 37.42994775023705, 708.39, 709.782712893384,
             744.44, 745.1332191019411, 18.0, 1.0, 0.5, 2.0, 0.6931471805599453]
    for c in edges:
        zs += list(c + np.arange(-2, 3) * np.spacing(c))
        zs += [c * (1 + 1e-3), c * (1 - 1e-3)]
    rng = np.random.default_rng(20240611)
    zs += list(rng.uniform(-50, 50, 150)) + list(rng.uniform(-800, 800, 60))
    zs += list(rng.uniform(-1, 1, 60)) + list(np.exp(rng.uniform(np.log(1e-20), np.log(40), 120)))
    arr = np.asarray(zs, dtype=np.float64)
    return np.unique(np.concatenate([arr, -arr]))


def adversarial_rows() -> list[np.ndarray]:
    """Softmax rows: K from 2 to 1000, huge common offsets, tiny and huge spreads.

    Includes rows with one dominant entry (tiny tails down to the subnormal range),
    rows whose differences z_k - max are not exactly representable, and rows of
    identical entries.
    """
    rng = np.random.default_rng(7)
    rows: list[np.ndarray] = []
    offsets: tuple[float, ...]
    spreads: tuple[float, ...]
    gaps: tuple[float, ...]
    for k in (2, 3, 10, 100, 1000):
        if k < 1000:
            offsets = (0.0, 1.0, -1.0, 700.3, -700.3, 1e10, -1e10, 1e15, 1e300, -1e300, 37.0)
            spreads = (1e-15, 1.0, 30.0, 300.0, 1e4)
            gaps = (20.0, 40.0, 745.0, 800.0, 36.7)
        else:  # fewer rows of 1000 entries keep the reference computation fast
            offsets, spreads, gaps = (0.0, -700.3, 1e15), (1e-15, 1.0, 300.0), (40.0, 745.0)
        for off in offsets:
            for spread in spreads:
                rows.append(off + spread * rng.standard_normal(k))
        for gap in gaps:
            row = np.full(k, -gap) + rng.uniform(-1e-3, 1e-3, k)
            row[rng.integers(k)] = 0.0
            rows.append(row)
        rows.append(rng.uniform(-1, 1, k) * 10.0 ** rng.uniform(-20, 2.8, k))
        rows.append(np.concatenate([[700.3], rng.uniform(-1, 1, k - 1)]))
        rows.append(np.concatenate([[0.1234567], -rng.uniform(500, 740, k - 1)]))
        rows.append(np.concatenate([[437.65955659], -rng.uniform(100, 300, k - 1)]))
    return rows
