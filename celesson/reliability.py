r"""Reliability bins and the calibration errors estimated from them.

:func:`reliability_bins` (equal-width bins, as in Guo et al. 2017, or equal-mass bins),
:func:`expected_calibration_error` and :func:`squared_calibration_error` (with the bias
correction of Kumar et al. 2019), and the input checks the calibration modules share.
Re-exported by :mod:`celesson.calibration`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_float_array,
    as_index_array,
    check_distribution,
    check_int,
)

Array = NDArray[np.float64]


#: Values of the ``binning`` argument.
BINNINGS: tuple[str, ...] = ("uniform", "quantile")


def check_labels(labels: ArrayLike, n: int, k: int) -> NDArray[np.intp]:
    """Class labels, checked: integers in ``0..k-1``, one per row.

    Parameters
    ----------
    labels : array_like of shape (n,)
    n, k : int
        Rows and columns of the probability matrix.

    Returns
    -------
    ndarray of intp, shape (n,)
    """
    y = as_index_array(labels, "labels", k)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one label per row, got {y.shape}")
    return y


def check_matrix(x: ArrayLike, name: str) -> Array:
    """A probability (or logit) matrix, checked: 2-D, at least one row and two columns.

    Parameters
    ----------
    x : array_like of shape (N, K)
    name : str
        The argument's name, for the error message.

    Returns
    -------
    ndarray of shape (N, K)
    """
    arr = as_float_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, K), one row per example, got shape {arr.shape}")
    n, k = arr.shape
    if n < 1:
        raise ValueError(f"{name} must hold at least one row")
    if k < 2:
        raise ValueError(f"{name} must have at least 2 classes (columns), got {k}")
    return arr


def check_probs_labels(probs: ArrayLike, labels: ArrayLike) -> tuple[Array, NDArray[np.intp]]:
    """Predicted probabilities and their labels, checked together.

    Parameters
    ----------
    probs : array_like of shape (N, K)
        Rows on the simplex.
    labels : array_like of shape (N,)
        Integers in ``0..K-1``.

    Returns
    -------
    probs : ndarray of shape (N, K)
    labels : ndarray of intp, shape (N,)
    """
    p = check_matrix(probs, "probs")
    check_distribution(p, "probs", axis=1)
    return p, check_labels(labels, *p.shape)


def check_binning(n_bins: int, binning: object) -> tuple[int, str]:
    """The number of bins and the binning rule, checked.

    Parameters
    ----------
    n_bins : int
        At least 1.
    binning : {"uniform", "quantile"}

    Returns
    -------
    n_bins : int
    binning : str
    """
    m = check_int(n_bins, "n_bins", lo=1)
    if not isinstance(binning, str) or binning not in BINNINGS:
        raise ValueError(f"binning must be one of {BINNINGS}, got {binning!r}")
    return m, binning


def bin_index(conf: Array, n_bins: int, binning: str) -> NDArray[np.intp]:
    """Bin of every confidence: 0..n_bins-1 (equal-width, right-closed, or equal-mass).

    Parameters
    ----------
    conf : numpy.ndarray of shape (N,)
        Confidences in [0, 1].
    n_bins : int
    binning : {"uniform", "quantile"}

    Returns
    -------
    numpy.ndarray of intp, shape (N,)
    """
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
    p, y = check_probs_labels(probs, labels)
    m, binning = check_binning(n_bins, binning)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    index = bin_index(conf, m, binning)
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
