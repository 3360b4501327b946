"""Exact results with mpmath at 50 significant digits.

Each function evaluates a formula that has no cancellation for the inputs it is
given (the high precision then carries every digit float64 can hold) and returns
the result split as ``(t, r)`` with ``t = fl(T)`` and ``r = fl(T - t)`` (see
:mod:`benchmarks.ulp`). mpmath's exponent range is unbounded, so nothing overflows
or underflows on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import mpmath
import numpy as np
from numpy.typing import NDArray

from benchmarks.ulp import split

DIGITS = 50

FloatArray = NDArray[np.float64]
Split = tuple[FloatArray, FloatArray]


def _split_all(values: Iterable[mpmath.mpf]) -> Split:
    pairs = [split(v) for v in values]
    t = np.array([p[0] for p in pairs], dtype=np.float64)
    r = np.array([p[1] for p in pairs], dtype=np.float64)
    return t, r


def _softplus(x: mpmath.mpf) -> mpmath.mpf:
    """:math:`\\log(1 + e^x)`, accurate for every sign and size of ``x``."""
    if x > 0:
        return x + mpmath.log1p(mpmath.exp(-x))
    return mpmath.log1p(mpmath.exp(x))


def _xlogy(y: mpmath.mpf, value: Callable[[], mpmath.mpf]) -> mpmath.mpf:
    """``y * value()``, with ``0 * anything = 0`` (the convention of the losses)."""
    return mpmath.mpf(0) if y == 0 else y * value()


def sigmoid(z: FloatArray) -> Split:
    """:math:`\\sigma(z) = 1 / (1 + e^{-z})`."""
    with mpmath.workdps(DIGITS):
        return _split_all(1 / (1 + mpmath.exp(-mpmath.mpf(float(v)))) for v in z)


def log_sigmoid(z: FloatArray) -> Split:
    """:math:`\\log \\sigma(z) = -\\log(1 + e^{-z})`."""
    with mpmath.workdps(DIGITS):
        return _split_all(-_softplus(-mpmath.mpf(float(v))) for v in z)


def bce_prob(p: FloatArray, y: FloatArray) -> Split:
    """:math:`-[y \\log p + (1 - y) \\log(1 - p)]` for float64 ``p`` and ``y``."""
    with mpmath.workdps(DIGITS):
        out = []
        for pv, yv in zip(p, y, strict=True):
            pm, ym = mpmath.mpf(float(pv)), mpmath.mpf(float(yv))
            first = _xlogy(ym, lambda pm=pm: mpmath.log(pm))
            second = _xlogy(1 - ym, lambda pm=pm: mpmath.log1p(-pm))
            out.append(-(first + second))
        return _split_all(out)


def bce_logits(z: FloatArray, y: FloatArray) -> Split:
    """:math:`y \\log(1 + e^{-z}) + (1 - y) \\log(1 + e^{z})`, the loss of ``sigmoid(z)``."""
    with mpmath.workdps(DIGITS):
        out = []
        for zv, yv in zip(z, y, strict=True):
            zm, ym = mpmath.mpf(float(zv)), mpmath.mpf(float(yv))
            out.append(ym * _softplus(-zm) + (1 - ym) * _softplus(zm))
        return _split_all(out)


def vector_parts(z: FloatArray) -> dict[str, object]:
    """Exact softmax, log-softmax and log-sum-exp of every row of ``z``.

    With :math:`m = \\max_j z_j` (at index :math:`a`) and
    :math:`s = \\sum_{j \\ne a} e^{z_j - m}`,

    .. math::
        \\operatorname{lse}(z) = m + \\log(1 + s), \\quad
        \\log \\operatorname{softmax}(z)_i = (z_i - m) - \\log(1 + s),

    where the two terms of the log-softmax have the same sign (no cancellation) and
    ``log1p`` keeps every digit of a tiny ``s``.

    Returns
    -------
    dict
        ``"softmax"``, ``"log_softmax"``: splits of shape ``z.shape``;
        ``"logsumexp"``: split of shape ``z.shape[:-1]``; ``"condition"``: the
        cancellation factor :math:`(|m| + \\log(1 + s)) / |\\operatorname{lse}|` of each
        row (1 when the two terms have the same sign, large when they cancel).
    """
    n, k = z.shape
    soft_t, soft_r = np.empty((n, k)), np.empty((n, k))
    logsoft_t, logsoft_r = np.empty((n, k)), np.empty((n, k))
    lse_t, lse_r = np.empty(n), np.empty(n)
    condition = np.empty(n)
    with mpmath.workdps(DIGITS):
        for i in range(n):
            row = [mpmath.mpf(float(v)) for v in z[i]]
            a = int(np.argmax(z[i]))
            m = row[a]
            shifted = [v - m for v in row]
            s = mpmath.fsum(mpmath.exp(d) for j, d in enumerate(shifted) if j != a)
            log1ps = mpmath.log1p(s)
            lse = m + log1ps
            logs = [d - log1ps for d in shifted]
            lse_t[i], lse_r[i] = split(lse)
            condition[i] = float((abs(m) + log1ps) / abs(lse)) if lse != 0 else float("inf")
            for j, value in enumerate(logs):
                logsoft_t[i, j], logsoft_r[i, j] = split(value)
                soft_t[i, j], soft_r[i, j] = split(mpmath.exp(value))
    return {
        "softmax": (soft_t, soft_r),
        "log_softmax": (logsoft_t, logsoft_r),
        "logsumexp": (lse_t, lse_r),
        "condition": condition,
    }
