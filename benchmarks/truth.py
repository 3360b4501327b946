"""Exact results with mpmath: the one home of the course's reference formulas.

Two layers share the formulas:

* **Scalar functions** return an ``mpmath.mpf`` at the caller's working precision
  (``mpmath.mp.dps``, or an enclosing ``mpmath.workdps``): :func:`exact_softplus`,
  :func:`exact_sigmoid`, :func:`exact_log_sigmoid`, :func:`exact_bce_prob`,
  :func:`exact_bce_logits`, :func:`row_parts`, :func:`exact_logsumexp` and
  :func:`exact_log_softmax`. The tests use them at 60 digits (``tests/mpref.py``
  re-exports them under short names).
* **Array functions** evaluate the scalar functions at :data:`DIGITS` significant
  digits on every float64 input and return the results split as ``(t, r)`` with
  ``t = fl(T)`` and ``r = fl(T - t)`` (see :mod:`benchmarks.ulp`): :func:`sigmoid`,
  :func:`log_sigmoid`, :func:`bce_prob`, :func:`bce_logits` and :func:`vector_parts`.
  The accuracy benchmark and the floating-point chapter call these.

Every formula is free of cancellation for the inputs it is given (each sum below adds
terms of one sign), so the working precision carries every digit float64 can hold.
mpmath's exponent range is unbounded, so nothing overflows or underflows on the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import mpmath
import numpy as np
from numpy.typing import NDArray

from benchmarks.ulp import split

#: Significant digits of the array functions (the scalar ones use the caller's precision).
DIGITS = 50

FloatArray = NDArray[np.float64]
Split = tuple[FloatArray, FloatArray]
#: A real scalar input: a float (float64) or an mpmath number.
Real: TypeAlias = float | mpmath.mpf


# ------------------------------------------------------------------ scalar formulas


def exact_softplus(x: Real) -> mpmath.mpf:
    """Softplus :math:`\\operatorname{sp}(x) = \\log(1 + e^x)`.

    Parameters
    ----------
    x : float or mpmath.mpf
        The argument.

    Returns
    -------
    mpmath.mpf
        .. math::
            \\operatorname{sp}(x) = \\begin{cases}
            x + \\operatorname{log1p}(e^{-x}) & x > 0, \\\\
            \\operatorname{log1p}(e^{x}) & x \\le 0,
            \\end{cases}

        at the working precision. Both branches add positive terms and take ``exp`` of
        a non-positive number only, so the result is accurate for every sign and size
        of ``x``.
    """
    x = mpmath.mpf(x)
    if x > 0:
        return x + mpmath.log1p(mpmath.exp(-x))
    return mpmath.log1p(mpmath.exp(x))


def exact_sigmoid(z: Real) -> mpmath.mpf:
    """Logistic sigmoid :math:`\\sigma(z) = 1 / (1 + e^{-z})`.

    Parameters
    ----------
    z : float or mpmath.mpf
        The logit.

    Returns
    -------
    mpmath.mpf
        :math:`\\sigma(z)` at the working precision. The denominator adds two positive
        terms, so there is no cancellation for either sign of ``z``; for very negative
        ``z`` the huge :math:`e^{-z}` is representable in mpmath.
    """
    return 1 / (1 + mpmath.exp(-mpmath.mpf(z)))


def exact_log_sigmoid(z: Real) -> mpmath.mpf:
    """Log-sigmoid :math:`\\log \\sigma(z) = -\\log(1 + e^{-z}) = -\\operatorname{sp}(-z)`.

    Parameters
    ----------
    z : float or mpmath.mpf
        The logit.

    Returns
    -------
    mpmath.mpf
        :math:`-\\operatorname{sp}(-z)` (see :func:`exact_softplus`) at the working
        precision: :math:`-\\operatorname{log1p}(e^{-z})` for :math:`z \\ge 0` and
        :math:`z - \\operatorname{log1p}(e^{z})` (two negative terms) for :math:`z < 0`.

    Notes
    -----
    This softplus form is accurate for every sign of ``z``. The shorter
    :math:`-\\operatorname{log1p}(e^{-z})` for every ``z`` is the same formula for
    :math:`z \\ge 0`, but for very negative ``z`` it first builds the astronomically large
    :math:`e^{-z}` (up to :math:`e^{10^{308}}`) and relies on ``log1p`` rounding
    :math:`1 + e^{-z}` well; the softplus form never exponentiates a positive number.
    """
    return -exact_softplus(-mpmath.mpf(z))


def exact_bce_prob(p: Real, y: Real) -> mpmath.mpf:
    """Binary cross-entropy of a probability: :math:`-[y \\log p + (1 - y) \\log(1 - p)]`.

    Parameters
    ----------
    p : float or mpmath.mpf
        The predicted probability, :math:`0 \\le p \\le 1`.
    y : float or mpmath.mpf
        The label (hard or soft), :math:`0 \\le y \\le 1`.

    Returns
    -------
    mpmath.mpf
        The loss at the working precision, with :math:`\\log(1 - p)` evaluated as
        :math:`\\operatorname{log1p}(-p)` (every digit of a tiny ``p`` kept) and the
        convention :math:`0 \\cdot \\log 0 = 0` (a term with zero weight is 0 and its
        logarithm is not evaluated). Both terms are non-negative for ``p`` and ``y`` in
        :math:`[0, 1]`, so nothing cancels; the loss is :math:`+\\infty` where a term of
        positive weight has probability 0 (``p = 0`` with ``y > 0``, ``p = 1`` with
        ``y < 1``).
    """
    p, y = mpmath.mpf(p), mpmath.mpf(y)
    w = 1 - y
    first = mpmath.mpf(0) if y == 0 else y * mpmath.log(p)
    second = mpmath.mpf(0) if w == 0 else w * mpmath.log1p(-p)
    return -(first + second)


def exact_bce_logits(z: Real, y: Real) -> mpmath.mpf:
    """Binary cross-entropy of :math:`\\sigma(z)`, computed from the logit ``z``.

    Parameters
    ----------
    z : float or mpmath.mpf
        The logit (finite).
    y : float or mpmath.mpf
        The label (hard or soft), :math:`0 \\le y \\le 1`.

    Returns
    -------
    mpmath.mpf
        .. math::
            -[y \\log \\sigma(z) + (1 - y) \\log(1 - \\sigma(z))]
            = y \\operatorname{sp}(-z) + (1 - y) \\operatorname{sp}(z)

        at the working precision (:func:`exact_softplus`): two non-negative terms for
        ``y`` in :math:`[0, 1]`, so nothing cancels (unlike the float64 shortcut
        :math:`\\max(z, 0) - y z + \\operatorname{log1p}(e^{-|z|})`).
    """
    z, y = mpmath.mpf(z), mpmath.mpf(y)
    return y * exact_softplus(-z) + (1 - y) * exact_softplus(z)


def row_parts(row: Iterable[float]) -> tuple[list[mpmath.mpf], mpmath.mpf, mpmath.mpf]:
    """The pieces of an exact log-sum-exp of one row of logits.

    Parameters
    ----------
    row : iterable of float
        The logits :math:`z_1, \\dots, z_K` (each converted to float64 first).

    Returns
    -------
    zs : list of mpmath.mpf
        The entries :math:`z_j`.
    m : mpmath.mpf
        Their maximum :math:`m = z_a` (``a`` the first index of the maximum).
    tail : mpmath.mpf
        :math:`s = \\sum_{j \\ne a} e^{z_j - m}`, the sum of the other shifted
        exponentials (each in :math:`[0, 1]`, summed with ``mpmath.fsum``), so that
        :math:`\\sum_j e^{z_j} = e^m (1 + s)`.
    """
    zs = [mpmath.mpf(float(v)) for v in row]
    m = max(zs)
    top = zs.index(m)
    tail = mpmath.fsum(mpmath.exp(v - m) for j, v in enumerate(zs) if j != top)
    return zs, m, tail


def _logsumexp_from_parts(m: mpmath.mpf, tail: mpmath.mpf) -> mpmath.mpf:
    return m + mpmath.log1p(tail)


def _log_softmax_from_parts(
    zs: list[mpmath.mpf], m: mpmath.mpf, tail: mpmath.mpf
) -> list[mpmath.mpf]:
    log1p_tail = mpmath.log1p(tail)
    return [(v - m) - log1p_tail for v in zs]


def exact_logsumexp(row: Iterable[float]) -> mpmath.mpf:
    """Log-sum-exp :math:`\\operatorname{lse}(z) = \\log \\sum_j e^{z_j}` of one row.

    Parameters
    ----------
    row : iterable of float
        The logits.

    Returns
    -------
    mpmath.mpf
        :math:`m + \\operatorname{log1p}(s)` with ``m`` and ``s`` from :func:`row_parts`,
        at the working precision. ``log1p`` keeps every digit of a tiny ``s``; the sum
        cancels only where ``m < 0`` and the result is near 0, where the exact value is
        ill-conditioned itself (see the ``"condition"`` of :func:`vector_parts`).
    """
    _, m, tail = row_parts(row)
    return _logsumexp_from_parts(m, tail)


def exact_log_softmax(row: Iterable[float]) -> list[mpmath.mpf]:
    """Log-softmax :math:`\\log \\operatorname{softmax}(z)_i = z_i - \\operatorname{lse}(z)`.

    Parameters
    ----------
    row : iterable of float
        The logits.

    Returns
    -------
    list of mpmath.mpf
        :math:`(z_i - m) - \\operatorname{log1p}(s)` for every entry, with ``m`` and
        ``s`` from :func:`row_parts`, at the working precision. Both terms are
        non-positive (:math:`z_i \\le m`, :math:`s \\ge 0`), so nothing cancels.
        ``exp`` of an entry is the exact softmax.
    """
    return _log_softmax_from_parts(*row_parts(row))


# ------------------------------------------------------------- float64 array splits


def _split_all(values: Iterable[mpmath.mpf]) -> Split:
    pairs = [split(v) for v in values]
    t = np.array([p[0] for p in pairs], dtype=np.float64)
    r = np.array([p[1] for p in pairs], dtype=np.float64)
    return t, r


def sigmoid(z: FloatArray) -> Split:
    """:func:`exact_sigmoid` of every entry of ``z`` at :data:`DIGITS` digits, split."""
    with mpmath.workdps(DIGITS):
        return _split_all(exact_sigmoid(float(v)) for v in z)


def log_sigmoid(z: FloatArray) -> Split:
    """:func:`exact_log_sigmoid` of every entry of ``z`` at :data:`DIGITS` digits, split."""
    with mpmath.workdps(DIGITS):
        return _split_all(exact_log_sigmoid(float(v)) for v in z)


def bce_prob(p: FloatArray, y: FloatArray) -> Split:
    """:func:`exact_bce_prob` of every pair ``(p, y)`` at :data:`DIGITS` digits, split."""
    with mpmath.workdps(DIGITS):
        return _split_all(exact_bce_prob(float(pv), float(yv)) for pv, yv in zip(p, y, strict=True))


def bce_logits(z: FloatArray, y: FloatArray) -> Split:
    """:func:`exact_bce_logits` of every pair ``(z, y)`` at :data:`DIGITS` digits, split."""
    with mpmath.workdps(DIGITS):
        return _split_all(
            exact_bce_logits(float(zv), float(yv)) for zv, yv in zip(z, y, strict=True)
        )


def vector_parts(z: FloatArray) -> dict[str, object]:
    """Exact softmax, log-softmax and log-sum-exp of every row of ``z``.

    With :math:`m = \\max_j z_j` (at index :math:`a`) and
    :math:`s = \\sum_{j \\ne a} e^{z_j - m}` (:func:`row_parts`), at :data:`DIGITS` digits,

    .. math::
        \\operatorname{lse}(z) = m + \\log(1 + s), \\quad
        \\log \\operatorname{softmax}(z)_i = (z_i - m) - \\log(1 + s),

    (:func:`exact_logsumexp`, :func:`exact_log_softmax`) where the two terms of the
    log-softmax have the same sign (no cancellation) and ``log1p`` keeps every digit of
    a tiny ``s``.

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
            zs, m, tail = row_parts(z[i])
            lse = _logsumexp_from_parts(m, tail)
            lse_t[i], lse_r[i] = split(lse)
            log1p_tail = mpmath.log1p(tail)
            condition[i] = float((abs(m) + log1p_tail) / abs(lse)) if lse != 0 else float("inf")
            for j, value in enumerate(_log_softmax_from_parts(zs, m, tail)):
                logsoft_t[i, j], logsoft_r[i, j] = split(value)
                soft_t[i, j], soft_r[i, j] = split(mpmath.exp(value))
    return {
        "softmax": (soft_t, soft_r),
        "log_softmax": (logsoft_t, logsoft_r),
        "logsumexp": (lse_t, lse_r),
        "condition": condition,
    }
