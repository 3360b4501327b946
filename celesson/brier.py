r"""The Brier score and its decomposition.

:func:`brier_score` (Brier 1950) and :func:`brier_decomposition`: reliability,
resolution and uncertainty (Murphy 1973) and the two within-bin terms that binning adds
(Stephenson et al. 2008). Re-exported by :mod:`celesson.calibration`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .reliability import Array, bin_index, check_binning, check_probs_labels


def _brier_rows(p: Array, y: NDArray[np.intp]) -> Array:
    """Per-row :math:`\\sum_k (q_k - e_{y,k})^2`, with :math:`1 - q_y` as a sum of the others."""
    rows = np.arange(p.shape[0])
    others = p.copy()
    others[rows, y] = 0.0
    miss = others.sum(axis=1)  # 1 - q_y without cancellation when q_y is near 1
    return np.sum(others**2, axis=1) + miss**2


def brier_score(probs: ArrayLike, labels: ArrayLike) -> float:
    r"""Mean Brier score :math:`\frac1N \sum_i \sum_k (q_{ik} - [y_i = k])^2`.

    The quadratic score of Brier [1]_, summed over the ``K`` classes (so it lies in
    [0, 2]; for two classes it is twice the binary :math:`(a - y)^2`).  Like the log
    score it is a proper scoring rule, but it is bounded: a confident mistake costs at
    most 2, where the log score is unbounded.  :math:`1 - q_{iy_i}` is evaluated as the
    sum of the other probabilities, so a score near 0 keeps its relative accuracy.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of int, shape (N,)

    Returns
    -------
    float

    References
    ----------
    .. [1] G. W. Brier, "Verification of forecasts expressed in terms of probability",
       Monthly Weather Review 78, 1950.

    Examples
    --------
    >>> brier_score([[0.9, 0.1], [0.5, 0.5]], [0, 1])
    0.26
    """
    p, y = check_probs_labels(probs, labels)
    return math.fsum(_brier_rows(p, y)) / p.shape[0]


class BrierDecomposition(NamedTuple):
    r"""The parts of the Brier score (see :func:`brier_decomposition`).

    ``brier = reliability - resolution + uncertainty + within_variance
    - 2 * within_covariance``, up to rounding.
    """

    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_variance: float
    within_covariance: float

    def total(self) -> float:
        """The sum of the parts, which equals :attr:`brier` up to rounding."""
        return math.fsum(
            [
                self.reliability,
                -self.resolution,
                self.uncertainty,
                self.within_variance,
                -2.0 * self.within_covariance,
            ]
        )


def _partition(
    f: Array, o: Array, group: NDArray[np.intp], means: Array | None = None
) -> tuple[float, float, float, float]:
    """Reliability, resolution, within variance and covariance of forecasts ``f`` (N, D).

    ``o`` holds the outcomes (N, D), ``group`` the group of each row; ``means``, if given,
    are the exact group means of ``f`` (rows of identical forecasts).
    """
    n = f.shape[0]
    n_groups = int(group.max()) + 1
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    used = counts > 0
    o_bar = np.zeros((n_groups, f.shape[1]))
    np.add.at(o_bar, group, o)
    o_bar[used] /= counts[used, None]
    if means is None:
        means = np.zeros((n_groups, f.shape[1]))
        np.add.at(means, group, f)
        means[used] /= counts[used, None]
    y_bar = o.mean(axis=0)
    df = f - means[group]
    do = o - o_bar[group]
    return (
        math.fsum(counts[used] * np.sum((means - o_bar)[used] ** 2, axis=1)) / n,
        math.fsum(counts[used] * np.sum((o_bar - y_bar)[used] ** 2, axis=1)) / n,
        math.fsum(np.sum(df**2, axis=1)) / n,
        math.fsum(np.sum(df * do, axis=1)) / n,
    )


def brier_decomposition(
    probs: ArrayLike,
    labels: ArrayLike,
    *,
    n_bins: int | None = None,
    binning: str = "uniform",
) -> BrierDecomposition:
    r"""Murphy's partition of the Brier score, with the two within-bin terms of binning.

    Group the forecasts (set :math:`G_g`, size :math:`n_g`), with mean forecast
    :math:`\bar f_g`, mean outcome :math:`\bar o_g` and overall outcome frequencies
    :math:`\bar y`.  Writing
    :math:`f_i - o_i = (f_i - \bar f_g) + (\bar f_g - \bar o_g) + (\bar o_g - o_i)`
    and expanding the square gives, exactly,

    .. math::

        \mathrm{BS} = \mathrm{REL} - \mathrm{RES} + \mathrm{UNC} + \mathrm{WBV} - 2\,\mathrm{WBC},

    with the reliability, resolution and uncertainty

    .. math::

        \mathrm{REL} = \frac1N \sum_g n_g \|\bar f_g - \bar o_g\|^2, \quad
        \mathrm{RES} = \frac1N \sum_g n_g \|\bar o_g - \bar y\|^2, \quad
        \mathrm{UNC} = 1 - \|\bar y\|^2 = \sum_k \bar y_k (1 - \bar y_k),

    and the within-group variance and covariance

    .. math::

        \mathrm{WBV} = \frac1N \sum_i \|f_i - \bar f_{g(i)}\|^2, \quad
        \mathrm{WBC} = \frac1N \sum_i (f_i - \bar f_{g(i)}) \cdot (o_i - \bar o_{g(i)}) .

    With ``n_bins=None`` the forecasts are the probability vectors, the outcomes the
    one-hot labels, and the groups the distinct forecast vectors: the within-group terms
    vanish and this is Murphy's vector partition [1]_ (suited to a forecaster who issues
    a few distinct probability vectors).  With ``n_bins`` the partition is made class by
    class: the probability :math:`q_{ik}` of each class is a binary forecast of
    :math:`[y_i = k]`, binned as in :func:`reliability_bins` (on :math:`q_{ik}` instead of
    the confidence), and the five terms are summed over the classes.  The two extra
    terms of Stephenson et al. [2]_ then account for the spread of the forecasts inside a
    bin.  Reliability is the calibration part (smaller is better), resolution how far
    the groups' outcomes differ from the base rates (larger is better), uncertainty
    depends on the labels alone.

    Parameters
    ----------
    probs : array_like of shape (N, K)
    labels : array_like of int, shape (N,)
    n_bins : int or None, default None
        ``None``: group identical forecast rows; an int: bins of each class probability.
    binning : {"uniform", "quantile"}, default "uniform"
        Used only with ``n_bins``.

    Returns
    -------
    BrierDecomposition

    References
    ----------
    .. [1] A. H. Murphy, "A new vector partition of the probability score", Journal of
       Applied Meteorology 12, 1973.
    .. [2] D. B. Stephenson, C. A. S. Coelho and I. T. Jolliffe, "Two extra components
       in the Brier score decomposition", Weather and Forecasting 23, 2008.

    Examples
    --------
    A forecaster who says 70 % / 30 % four times and is right three times:

    >>> parts = brier_decomposition([[0.7, 0.3]] * 4, [0, 0, 0, 1])
    >>> [round(v, 4) for v in parts[:4]]
    [0.38, 0.005, 0.0, 0.375]
    >>> abs(parts.total() - parts.brier) < 1e-15
    True
    """
    p, y = check_probs_labels(probs, labels)
    n, k = p.shape
    onehot = np.zeros_like(p)
    onehot[np.arange(n), y] = 1.0
    y_bar = onehot.mean(axis=0)
    if n_bins is None:
        distinct, group = np.unique(p, axis=0, return_inverse=True)
        # a group of identical rows: its mean is the row itself, exactly
        rel, res, wbv, wbc = _partition(p, onehot, group.reshape(-1), distinct)
    else:
        m, binning = check_binning(n_bins, binning)
        terms = [
            _partition(p[:, j : j + 1], onehot[:, j : j + 1], bin_index(p[:, j], m, binning))
            for j in range(k)
        ]
        rel, res, wbv, wbc = (math.fsum(column) for column in zip(*terms, strict=True))
    return BrierDecomposition(
        brier=math.fsum(_brier_rows(p, y)) / n,
        reliability=rel,
        resolution=res,
        uncertainty=math.fsum(y_bar * (1.0 - y_bar)),
        within_variance=wbv,
        within_covariance=wbc,
    )
