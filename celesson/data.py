"""Small data sets used by the chapters, made in code or bundled with scikit-learn.

Everything here is deterministic: random data sets take a ``seed`` and use
:func:`numpy.random.default_rng`, and the digits come from the copy that ships
inside scikit-learn (no download).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._validation import check_real_scalar


@dataclass(frozen=True)
class Split:
    """A train/test split of a labelled data set.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n, d)
        Features, float64.
    y_train, y_test : ndarray of shape (n,)
        Integer class labels in ``0 .. num_classes - 1``.
    num_classes : int
        Number of classes ``K``.
    """

    X_train: NDArray[np.float64]
    X_test: NDArray[np.float64]
    y_train: NDArray[np.int64]
    y_test: NDArray[np.int64]
    num_classes: int


def _check_fraction(test_fraction: float) -> float:
    return check_real_scalar(
        test_fraction, "test_fraction", lo=0.0, hi=1.0, lo_open=True, hi_open=True
    )


def split(
    X: NDArray[np.floating], y: NDArray[np.integer], *, test_fraction: float = 0.25, seed: int = 0
) -> Split:
    """Shuffle ``(X, y)`` with a seeded generator and split off a test set.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Features.
    y : ndarray of shape (n,)
        Integer labels ``0 .. K-1``.
    test_fraction : float, default 0.25
        Share of the rows that go to the test set, in (0, 1).
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    Split
    """
    test_fraction = _check_fraction(test_fraction)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, d), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    n = X.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(test_fraction * n))
    test, train = order[:n_test], order[n_test:]
    Xf: NDArray[np.float64] = X.astype(np.float64)
    yi: NDArray[np.int64] = y.astype(np.int64)
    return Split(Xf[train], Xf[test], yi[train], yi[test], int(yi.max()) + 1)


def load_digits(*, test_fraction: float = 0.25, seed: int = 0) -> Split:
    r"""The 8x8 handwritten digits bundled with scikit-learn, scaled to [0, 1].

    1797 images of the digits 0-9; each pixel is an integer intensity 0..16,
    divided here by 16 so that :math:`x \in [0, 1]^{64}`.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Share of the images held out for testing.
    seed : int, default 0
        Seed of the shuffle.

    Returns
    -------
    Split
        ``num_classes`` is 10.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "load_digits needs scikit-learn (pip install scikit-learn); "
            "it reads the copy of the digits bundled with that package"
        ) from exc
    bunch = _sk_load_digits()
    return split(bunch.data / 16.0, bunch.target, test_fraction=test_fraction, seed=seed)


def gaussian_blobs(
    n_per_class: int,
    centers: NDArray[np.floating] | list[list[float]],
    *,
    scale: float = 1.0,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Isotropic Gaussian clouds, one per row of ``centers``.

    Class :math:`k` draws ``n_per_class`` points :math:`x \sim \mathcal N(c_k, s^2 I)`.

    Parameters
    ----------
    n_per_class : int
        Points per class, at least 1.
    centers : array_like of shape (K, d)
        Class means.
    scale : float, default 1.0
        Standard deviation :math:`s > 0`.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (K * n_per_class, d)
    y : ndarray of shape (K * n_per_class,)
        Labels ``0 .. K-1`` in blocks.
    """
    if int(n_per_class) != n_per_class or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    c = np.asarray(centers, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] < 1:
        raise ValueError(f"centers must be 2-D (K, d) with K >= 1, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("centers must be finite")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite positive number, got {scale!r}")
    rng = np.random.default_rng(seed)
    k, d = c.shape
    X = np.concatenate([ci + scale * rng.standard_normal((n_per_class, d)) for ci in c])
    y = np.repeat(np.arange(k, dtype=np.int64), n_per_class)
    return X, y
