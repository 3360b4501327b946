r"""Measuring and fixing calibration: reliability bins, ECE, temperature scaling, Brier.

A classifier with predicted class probabilities :math:`q(x) \in \Delta^{K-1}` is
*calibrated* when, among the inputs to which it gives confidence
:math:`c = \max_k q_k(x)`, a fraction :math:`c` is classified correctly:
:math:`P(\hat y = y \mid \max_k q_k = c) = c` for every :math:`c` (the top-label
calibration of Guo et al.).  Everything here works on a batch of ``N`` probability rows
``probs`` (shape ``(N, K)``) or logits, with integer labels ``labels`` (shape ``(N,)``):

* :func:`reliability_bins` groups the examples by confidence (equal-width bins, as in
  Guo et al., or equal-mass bins) and returns, per bin, the count, the mean confidence
  and the accuracy: the data of a reliability diagram;
* :func:`expected_calibration_error` is the plug-in estimate
  :math:`\sum_b \frac{n_b}{N} |\mathrm{acc}_b - \mathrm{conf}_b|`;
  :func:`squared_calibration_error` its squared version, optionally with the bias
  correction of Kumar et al.;
* :func:`fit_temperature` finds the maximum-likelihood temperature of temperature
  scaling, :math:`q = \operatorname{softmax}(z / T)`;
* :func:`brier_score` and :func:`brier_decomposition` give the quadratic score and its
  parts (reliability, resolution, uncertainty, and the two within-bin terms that binning
  adds).

References
----------
.. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern neural
   networks", ICML 2017.
.. [2] A. Kumar, P. Liang and T. Ma, "Verified uncertainty calibration", NeurIPS 2019.
.. [3] G. W. Brier, "Verification of forecasts expressed in terms of probability",
   Monthly Weather Review 78, 1950.
.. [4] A. H. Murphy, "A new vector partition of the probability score", Journal of
   Applied Meteorology 12, 1973.
.. [5] D. B. Stephenson, C. A. S. Coelho and I. T. Jolliffe, "Two extra components in
   the Brier score decomposition", Weather and Forecasting 23, 2008.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_float_array,
    as_index_array,
    check_distribution,
    check_int,
)
from .numerics import softmax

__all__ = [
    "BINNINGS",
    "BrierDecomposition",
    "ReliabilityBins",
    "brier_decomposition",
    "brier_score",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_bins",
    "squared_calibration_error",
]

Array = NDArray[np.float64]

#: Values of the ``binning`` argument.
BINNINGS: tuple[str, ...] = ("uniform", "quantile")


# --------------------------------------------------------------------------- input


def _labels(labels: ArrayLike, n: int, k: int) -> NDArray[np.intp]:
    y = as_index_array(labels, "labels", k)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one label per row, got {y.shape}")
    return y


def _matrix(x: ArrayLike, name: str) -> Array:
    arr = as_float_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, K), one row per example, got shape {arr.shape}")
    n, k = arr.shape
    if n < 1:
        raise ValueError(f"{name} must hold at least one row")
    if k < 2:
        raise ValueError(f"{name} must have at least 2 classes (columns), got {k}")
    return arr


def _probs_labels(probs: ArrayLike, labels: ArrayLike) -> tuple[Array, NDArray[np.intp]]:
    p = _matrix(probs, "probs")
    check_distribution(p, "probs", axis=1)
    return p, _labels(labels, *p.shape)


def _binning(n_bins: int, binning: object) -> tuple[int, str]:
    m = check_int(n_bins, "n_bins", lo=1)
    if not isinstance(binning, str) or binning not in BINNINGS:
        raise ValueError(f"binning must be one of {BINNINGS}, got {binning!r}")
    return m, binning


def _bin_index(conf: Array, n_bins: int, binning: str) -> NDArray[np.intp]:
    """Bin of every confidence: 0..n_bins-1 (equal-width, right-closed, or equal-mass)."""
    if binning == "uniform":
        # edges m / M, each correctly rounded; bin b holds edges[b] < c <= edges[b + 1]
        # (the first bin also holds c = 0), so a confidence equal to an edge goes below it
        edges = np.arange(n_bins + 1) / n_bins
        return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    # equal mass: sort (stably, so ties keep their input order) and cut into n_bins runs
    # whose sizes differ by at most one, the larger ones first (numpy.array_split)
    order = np.argsort(conf, kind="stable")
    index = np.empty(conf.size, dtype=np.intp)
    for b, rows in enumerate(np.array_split(order, n_bins)):
        index[rows] = b
    return index


# --------------------------------------------------------------------------- bins


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin statistics of a reliability diagram.

    Attributes
    ----------
    counts : ndarray of int, shape (n_bins,)
        Number of examples :math:`n_b` in each bin.
    confidence : ndarray, shape (n_bins,)
        Mean confidence :math:`\\mathrm{conf}_b` of the bin (NaN for an empty bin).
    accuracy : ndarray, shape (n_bins,)
        Share of the bin's examples whose arg-max is the label (NaN for an empty bin).
    lower, upper : ndarray, shape (n_bins,)
        The bin's range: the edges ``b / n_bins`` and ``(b + 1) / n_bins`` for
        equal-width bins; the smallest and largest confidence in the bin for
        equal-mass bins (NaN for an empty bin).
    binning : str
        ``"uniform"`` or ``"quantile"``.
    """

    counts: NDArray[np.int64]
    confidence: Array
    accuracy: Array
    lower: Array
    upper: Array
    binning: str

    @property
    def total(self) -> int:
        """Number of examples ``N``."""
        return int(self.counts.sum())

    @property
    def weights(self) -> Array:
        """Share :math:`n_b / N` of the examples in each bin."""
        return self.counts / self.total

    def __repr__(self) -> str:
        return (
            f"ReliabilityBins(n_bins={self.counts.size}, binning={self.binning!r}, "
            f"total={self.total}, empty={int(np.sum(self.counts == 0))})"
        )


def reliability_bins(
    probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, binning: str = "uniform"
) -> ReliabilityBins:
    r"""Group examples by confidence and measure each group's accuracy.

    With confidence :math:`c_i = \max_k q_{ik}` and prediction
    :math:`\hat y_i = \arg\max_k q_{ik}` (the first maximum on a tie, as
    :func:`numpy.argmax`), bin :math:`b` holds the set :math:`B_b` and reports

    .. math::

        \mathrm{conf}_b = \frac{1}{n_b} \sum_{i \in B_b} c_i, \qquad
        \mathrm{acc}_b = \frac{1}{n_b} \sum_{i \in B_b} [\hat y_i = y_i] .

    ``binning="uniform"``: equal-width bins :math:`(\frac{b}{M}, \frac{b+1}{M}]`,
    right-closed as in Guo et al. [1]_ (the edges are the floats nearest to
    :math:`b/M`; a confidence exactly at an edge belongs to the bin below it, and
    :math:`c = 0` to the first bin).  Bins can be empty.
    ``binning="quantile"``: equal-mass bins: the examples sorted by confidence (a
    stable sort, so tied confidences keep their input order and may be split between
    two bins) and cut into ``n_bins`` runs whose sizes differ by at most one
    (:func:`numpy.array_split`); with ``n_bins > N`` the last bins are empty.

    Parameters
    ----------
    probs : array_like of shape (N, K)
        Probability rows (each in [0, 1] and summing to 1 within 1e-6), ``K >= 2``.
    labels : array_like of int, shape (N,)
        True classes in ``0 .. K-1``.
    n_bins : int, default 15
        Number of bins ``M >= 1`` (15 in Guo et al.).
    binning : {"uniform", "quantile"}, default "uniform"

    Returns
    -------
    ReliabilityBins

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern
       neural networks", ICML 2017.

    Examples
    --------
    >>> probs = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]]
    >>> bins = reliability_bins(probs, [0, 1, 1, 0], n_bins=2)
    >>> bins.counts.tolist(), bins.accuracy.tolist()
    ([1, 3], [1.0, 0.6666666666666666])
    >>> [round(float(c), 4) for c in bins.confidence]
    [0.5, 0.7333]
    """
    p, y = _probs_labels(probs, labels)
    m, binning = _binning(n_bins, binning)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    index = _bin_index(conf, m, binning)
    counts = np.bincount(index, minlength=m).astype(np.int64)
    filled = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(filled, np.bincount(index, conf, m) / counts, np.nan)
        accuracy = np.where(filled, np.bincount(index, correct, m) / counts, np.nan)
    if binning == "uniform":
        lower = np.arange(m) / m
        upper = np.arange(1, m + 1) / m
    else:
        lower = np.full(m, np.nan)
        upper = np.full(m, np.nan)
        np.fmin.at(lower, index, conf)
        np.fmax.at(upper, index, conf)
    return ReliabilityBins(counts, confidence, accuracy, lower, upper, binning)


def expected_calibration_error(
    probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15, binning: str = "uniform"
) -> float:
    r"""Expected calibration error, the plug-in estimate of Guo et al.

    .. math::

        \mathrm{ECE} = \sum_{b:\, n_b > 0} \frac{n_b}{N}\,
        \bigl|\mathrm{acc}_b - \mathrm{conf}_b\bigr|,

    with the bins of :func:`reliability_bins` (empty bins contribute nothing).  It lies
    in [0, 1]; it is 0 for a model that is calibrated *within every bin*, and on a
    finite sample from a perfectly calibrated model it is positive on average (the
    absolute value of a noisy difference): an estimate with an upward bias that grows
    with the number of bins and shrinks like :math:`1/\sqrt{N}`.

    Parameters
    ----------
    probs, labels, n_bins, binning
        As in :func:`reliability_bins`.

    Returns
    -------
    float

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern
       neural networks", ICML 2017.

    Examples
    --------
    >>> probs = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]]
    >>> round(expected_calibration_error(probs, [0, 1, 1, 0], n_bins=2), 4)
    0.175
    """
    bins = reliability_bins(probs, labels, n_bins=n_bins, binning=binning)
    filled = bins.counts > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return math.fsum(bins.weights[filled] * gaps)


def squared_calibration_error(
    probs: ArrayLike,
    labels: ArrayLike,
    *,
    n_bins: int = 15,
    binning: str = "uniform",
    debias: bool = False,
) -> float:
    r"""Binned squared calibration error, optionally with the bias removed.

    The plug-in estimate is :math:`\sum_b \frac{n_b}{N} (\mathrm{acc}_b - \mathrm{conf}_b)^2`.
    Under perfect calibration the accuracy of a bin is an average of :math:`n_b`
    Bernoulli outcomes around the bin's confidence, so the square has expectation
    about :math:`\mathrm{acc}_b(1 - \mathrm{acc}_b)/n_b` instead of 0.  With
    ``debias=True`` each bin subtracts the unbiased estimate of that variance,
    :math:`\mathrm{acc}_b(1 - \mathrm{acc}_b)/(n_b - 1)`, as Kumar et al. [1]_ do;
    bins with fewer than two examples then contribute 0 (there is no variance estimate),
    and the result may be negative, as an unbiased estimate of a quantity near 0 must be.

    Parameters
    ----------
    probs, labels, n_bins, binning
        As in :func:`reliability_bins`.
    debias : bool, default False

    Returns
    -------
    float
        An estimate of :math:`E[(P(\hat y = y \mid c) - c)^2]` (not its square root).

    References
    ----------
    .. [1] A. Kumar, P. Liang and T. Ma, "Verified uncertainty calibration",
       NeurIPS 2019.

    Examples
    --------
    >>> probs = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]]
    >>> round(squared_calibration_error(probs, [0, 1, 1, 0], n_bins=2), 4)
    0.0658
    >>> round(squared_calibration_error(probs, [0, 1, 1, 0], n_bins=2, debias=True), 4)
    -0.08
    """
    if not isinstance(debias, (bool, np.bool_)):
        raise TypeError(f"debias must be True or False, got {debias!r}")
    bins = reliability_bins(probs, labels, n_bins=n_bins, binning=binning)
    filled = bins.counts > (1 if debias else 0)
    acc, conf = bins.accuracy[filled], bins.confidence[filled]
    terms = (acc - conf) ** 2
    if debias:
        terms = terms - acc * (1.0 - acc) / (bins.counts[filled] - 1.0)
    return math.fsum(bins.weights[filled] * terms)


# --------------------------------------------------------------------------- temperature


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
    z = _matrix(logits, "logits")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite")
    n, k = z.shape
    y = _labels(labels, n, k)
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


# --------------------------------------------------------------------------- Brier


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
    p, y = _probs_labels(probs, labels)
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
    p, y = _probs_labels(probs, labels)
    n, k = p.shape
    onehot = np.zeros_like(p)
    onehot[np.arange(n), y] = 1.0
    y_bar = onehot.mean(axis=0)
    if n_bins is None:
        distinct, group = np.unique(p, axis=0, return_inverse=True)
        # a group of identical rows: its mean is the row itself, exactly
        rel, res, wbv, wbc = _partition(p, onehot, group.reshape(-1), distinct)
    else:
        m, binning = _binning(n_bins, binning)
        terms = [
            _partition(p[:, j : j + 1], onehot[:, j : j + 1], _bin_index(p[:, j], m, binning))
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
