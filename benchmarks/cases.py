"""Adversarial inputs for the accuracy benchmark.

Every generator is deterministic (fixed seeds) and returns float64 arrays. The
inputs are the float64 numbers themselves: the exact results are computed from
them, so rounding an input (e.g. ``1e300 + 0.5 == 1e300``) is not an error of the
function under test.

The sets aim at the places where formulas break:

* magnitudes from the smallest subnormal up to the largest float64 number, both signs;
* the edges of ``exp`` (overflow above ``log(max) ~ 709.78``, underflow to zero
  below ``log(2**-1075) ~ -745.13``) and of ``1 + exp(-z)`` (equal to 1 above
  ``53 log 2 ~ 36.74``), with their float64 neighbours;
* probabilities within a few ULP of 0 and of 1 (where ``1 - p`` and ``log(1 - p)``
  lose digits) and exact 0 and 1 where the loss is finite;
* soft labels near 0 and 1 (where ``max(z, 0) - y z`` cancels);
* vectors of K = 2 ... 1000 logits with spreads from 1e-8 to 1e4 around common
  offsets up to 1e300 in size, one dominant logit (confident predictions, losses
  far below the float64 epsilon), and pairs of extreme values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Labels used for the binary losses: hard labels, the middle, and soft labels near 0 and 1.
LABELS: tuple[float, ...] = (0.0, 1.0, 0.5, 0.1, 0.9, 1e-10, 1.0 - 1e-10)

_MAX = float(np.finfo(np.float64).max)
_LN2 = float(np.log(2.0))


def thresholds() -> dict[str, float]:
    """Return the exact-in-math thresholds (rounded to float64) that the inputs straddle.

    Returns
    -------
    dict
        ``"one_plus_exp"``: :math:`53 \\log 2` (``1 + exp(-z) == 1`` above it),
        ``"sigmoid_one"``: :math:`54 \\log 2` (the exact sigmoid rounds to 1 above it),
        ``"exp_overflow"``: :math:`\\log(\\text{max float64})`,
        ``"exp_subnormal"``: :math:`1022 \\log 2` (``exp(-z)`` is subnormal above it),
        ``"exp_zero"``: :math:`1075 \\log 2` (``exp(-z)`` rounds to zero above it).
    """
    return {
        "one_plus_exp": 53 * _LN2,
        "sigmoid_one": 54 * _LN2,
        "exp_overflow": float(np.log(_MAX)),
        "exp_subnormal": 1022 * _LN2,
        "exp_zero": 1075 * _LN2,
    }


def _neighbours(x: float, count: int) -> list[float]:
    """``x`` and its ``count`` float64 neighbours on each side."""
    out = [x]
    up = down = x
    for _ in range(count):
        up = float(np.nextafter(up, np.inf))
        down = float(np.nextafter(down, -np.inf))
        out.extend([up, down])
    return out


def logits(quick: bool = False) -> FloatArray:
    """Scalar logits for ``sigmoid`` and ``log_sigmoid``.

    Parameters
    ----------
    quick : bool
        Use a coarser grid (for smoke tests and ``--quick``).

    Returns
    -------
    numpy.ndarray
        Sorted, unique float64 values, both signs, zero included.
    """
    step = 2.0 if quick else 0.125
    mags = [10.0 ** np.arange(-300.0, 308.0 + step / 2, step)]
    mags.append(np.array([np.ldexp(1.0, -1074), 1e-310, float(np.finfo(np.float64).tiny), _MAX]))
    width = 41 if quick else 161
    for edge in thresholds().values():
        mags.append(np.linspace(edge - 2.0, edge + 2.0, width))
        mags.append(np.array(_neighbours(edge, 3)))
    mags.append(np.linspace(0.0, 50.0, 51 if quick else 401))
    rng = np.random.default_rng(20240701)
    mags.append(10.0 ** rng.uniform(-20.0, 3.5, 100 if quick else 1000))
    m = np.concatenate(mags)
    m = m[np.isfinite(m)]
    return np.unique(np.concatenate([m, -m, [0.0]]))


def probabilities(quick: bool = False) -> FloatArray:
    """Probabilities for ``binary_cross_entropy`` from probabilities.

    Returns
    -------
    numpy.ndarray
        Sorted unique values in [0, 1]: powers of ten down to 1e-300, the smallest
        subnormal and normal numbers, ``1 - 10**-k`` and the last float64 numbers
        below 1, an even grid, and the end points 0 and 1.
    """
    step = 4.0 if quick else 0.5
    small = 10.0 ** -np.arange(0.0, 300.0 + step / 2, step)
    near_one = 1.0 - 10.0 ** -np.arange(1.0, 16.5, 1.0 if quick else 0.25)
    last = [1.0 - k * 2.0**-53 for k in (1, 2, 3, 5, 8, 100)]
    edges = [np.ldexp(1.0, -1074), float(np.finfo(np.float64).tiny), 0.5, 0.0, 1.0]
    grid = np.linspace(0.01, 0.99, 25 if quick else 99)
    p = np.concatenate([small, near_one, last, edges, grid])
    return np.unique(p[(p >= 0.0) & (p <= 1.0)])


def binary_pairs(values: FloatArray, *, probabilities: bool) -> tuple[FloatArray, FloatArray]:
    """All (value, label) combinations with every label in :data:`LABELS`.

    For probabilities, the pairs with an infinite loss (``p = 0`` with ``y > 0`` or
    ``p = 1`` with ``y < 1``) are left out.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Inputs and labels of equal length.
    """
    xs, ys = np.meshgrid(values, np.asarray(LABELS), indexing="ij")
    xs, ys = xs.ravel(), ys.ravel()
    if probabilities:
        keep = ~(((xs == 0.0) & (ys > 0.0)) | ((xs == 1.0) & (ys < 1.0)))
        xs, ys = xs[keep], ys[keep]
    return xs, ys


@dataclass(frozen=True)
class VectorCases:
    """Logit vectors of one length ``K``, stacked as rows, with three targets per row.

    Attributes
    ----------
    logits : numpy.ndarray
        Shape (n, K).
    targets : numpy.ndarray
        Shape (n, 3) of integer class indices: the arg max, the arg min and a
        random class of each row.
    """

    logits: FloatArray
    targets: NDArray[np.int64]


def vectors(quick: bool = False) -> dict[int, VectorCases]:
    """Logit vectors for ``softmax``, ``log_softmax``, ``logsumexp`` and cross-entropy.

    Returns
    -------
    dict
        ``K -> VectorCases`` for K in 2, 3, 10, 100, 1000.
    """
    rng = np.random.default_rng(7)
    ks = (2, 3, 10, 100, 1000)
    spreads = (1e-8, 1e-2, 1.0, 1e2, 1e4) if quick else (1e-8, 1e-4, 1e-2, 1.0, 10.0, 1e2, 1e3, 1e4)
    base = (0.0, 1.0, 40.0, 700.0, 750.0, 1e5, 1e10, 1e300)
    offsets = sorted({s * o for o in base for s in (1.0, -1.0)})
    if quick:
        offsets = [0.0, -40.0, 750.0, -1e5, 1e300]
    gaps = (1.0, 10.0, 36.0, 37.5, 40.0, 50.0, 100.0, 700.0, 710.0, 750.0, 1e3, 1e5)
    rows: dict[int, list[FloatArray]] = {k: [] for k in ks}
    for k in ks:
        for spread in spreads:
            for offset in offsets:
                rows[k].append(offset + spread * rng.standard_normal(k))
        for gap in gaps:
            for offset in (0.0, -1e5, 1e5) if not quick else (0.0,):
                z = np.full(k, offset)
                z[rng.integers(k)] = offset + gap
                rows[k].append(z)
    extremes = (0.0, 1e-300, 1e-20, 1.0, 36.7, 709.8, 745.2, 1e20, 1e300, 8e307)
    signed = sorted({s * e for e in extremes for s in (1.0, -1.0)})
    for a in signed:
        for b in signed:
            rows[2].append(np.array([a, b]))
    out: dict[int, VectorCases] = {}
    for k in ks:
        z = np.stack(rows[k])
        random_target = rng.integers(0, k, size=z.shape[0])
        targets = np.stack([np.argmax(z, axis=1), np.argmin(z, axis=1), random_target], axis=1)
        out[k] = VectorCases(logits=z, targets=targets.astype(np.int64))
    return out
