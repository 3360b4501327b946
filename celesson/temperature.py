r"""Temperature scaling: the maximum-likelihood temperature of a classifier's logits.

:func:`fit_temperature` minimises the mean negative log-likelihood of
:math:`\operatorname{softmax}(z / T)` over :math:`T` (Guo et al. 2017) with safeguarded
Newton steps in :math:`\beta = 1/T`. Re-exported by :mod:`celesson.calibration`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    check_int,
)
from .numerics import softmax
from .reliability import Array, check_labels, check_matrix


def _nll_slope_curvature(gaps: Array, beta: float) -> tuple[float, float]:
    """f'(beta) and f''(beta) of f(beta) = mean_i logsumexp(beta * gaps_i)."""
    q = softmax(beta * gaps, axis=1)
    mean = np.sum(q * gaps, axis=1)  # E_q[d] per row
    var = np.sum(q * (gaps - mean[:, None]) ** 2, axis=1)  # Var_q[d] per row, >= 0
    n = gaps.shape[0]
    return math.fsum(mean) / n, math.fsum(var) / n


def fit_temperature(logits: ArrayLike, labels: ArrayLike, *, max_iter: int = 500) -> float:
    r"""Maximum-likelihood temperature of temperature scaling on held-out data.

    Temperature scaling [1]_ replaces :math:`\operatorname{softmax}(z)` by
    :math:`\operatorname{softmax}(z/T)` with one :math:`T > 0` fitted on held-out data.
    With :math:`\beta = 1/T` and the gaps :math:`d_{ik} = z_{ik} - z_{iy_i}`, the mean
    negative log-likelihood is

    .. math::

        f(\beta) = \frac1N \sum_i \ln \sum_k e^{\beta d_{ik}}, \qquad
        f'(\beta) = \frac1N \sum_i \mathbb{E}_{q_i}[d_i], \qquad
        f''(\beta) = \frac1N \sum_i \operatorname{Var}_{q_i}[d_i] \ge 0,

    with :math:`q_i = \operatorname{softmax}(\beta d_i)`: convex in :math:`\beta`. Its
    slope runs from :math:`f'(0) = \frac1N\sum_i \bar d_i` (the mean gap) up to
    :math:`f'(\infty) = \frac1N\sum_i \max_k d_{ik}`, so a finite maximiser
    :math:`\beta^* > 0` exists if and only if :math:`f'(0) < 0 < f'(\infty)`: the label's
    logit is above its row mean on average, and at least one example is misclassified
    (otherwise the likelihood grows without bound as :math:`T \to 0`).  The root of
    :math:`f'` is found by Newton's method on :math:`\beta`, kept inside a bracket
    where :math:`f'` changes sign (a bisection step replaces any Newton step that
    leaves it); the sums are accumulated with :func:`math.fsum`.

    Parameters
    ----------
    logits : array_like of shape (N, K)
        Finite logits, ``K >= 2``.
    labels : array_like of int, shape (N,)
    max_iter : int, default 500
        Upper bound on the Newton/bisection steps.

    Returns
    -------
    float
        :math:`T^* = 1/\beta^*`.  The predicted classes do not depend on it.

    Raises
    ------
    ValueError
        When no finite positive maximiser exists (every example classified correctly
        with a strict margin, or labels whose logits are below their row mean on
        average), or for bad input.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern
       neural networks", ICML 2017.

    Examples
    --------
    Logits that are twice too sharp are fitted with :math:`T` near 2:

    >>> rng = np.random.default_rng(0)
    >>> z = 3.0 * rng.standard_normal((4000, 4))
    >>> u = rng.random((4000, 1))
    >>> y = (u > np.cumsum(softmax(z), axis=1)).sum(axis=1)  # y ~ softmax(z)
    >>> 1.8 < fit_temperature(2.0 * z, y) < 2.2
    True
    """
    z = check_matrix(logits, "logits")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite")
    n, k = z.shape
    y = check_labels(labels, n, k)
    max_iter = check_int(max_iter, "max_iter", lo=1)
    gaps = z - z[np.arange(n), y][:, None]  # d_ik = z_ik - z_iy; d_iy = 0
    slope_at_zero = math.fsum(gaps.mean(axis=1)) / n
    slope_at_inf = math.fsum(gaps.max(axis=1)) / n
    if not slope_at_inf > 0.0:
        raise ValueError(
            "every label already has the largest logit: the likelihood increases without "
            "bound as T -> 0, so there is no finite maximum-likelihood temperature"
        )
    if not slope_at_zero < 0.0:
        raise ValueError(
            "the labels' logits are not above their row means on average: the likelihood "
            "is largest at T = inf (or T < 0), so there is no finite positive maximiser"
        )
    scale = float(np.max(np.abs(gaps)))
    lo, hi = 0.0, 1.0 / scale  # f'(lo) < 0; grow hi until f'(hi) >= 0
    slope, curvature = _nll_slope_curvature(gaps, hi)
    while slope < 0.0:
        lo = hi
        hi *= 2.0
        if hi * scale > 1e300:  # pragma: no cover - needs margins below 1e-290
            raise ValueError("the maximum-likelihood 1/T is beyond the float64 range")
        slope, curvature = _nll_slope_curvature(gaps, hi)
    if slope == 0.0:
        return 1.0 / hi
    beta = hi
    for _ in range(max_iter):
        # slope, curvature belong to beta; keep f'(lo) < 0 < f'(hi)
        if slope > 0.0:
            hi = beta
        else:
            lo = beta
        step = beta - slope / curvature if curvature > 0.0 else math.nan
        new = step if lo < step < hi else 0.5 * (lo + hi)
        if new in (lo, hi) or abs(new - beta) <= 2e-16 * beta:
            beta = new
            break
        beta = new
        slope, curvature = _nll_slope_curvature(gaps, beta)
        if slope == 0.0:
            break
    else:  # pragma: no cover - the bracket halves at least every other step
        raise RuntimeError(f"fit_temperature did not converge in {max_iter} steps")
    return 1.0 / beta
