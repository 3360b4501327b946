r"""The inputs of the linear models: checks of the data, the weights, the labels and the
options, the smoothed binary targets, and the bias column.

Shared by :mod:`celesson.logistic_regression`, :mod:`celesson.softmax_regression`
and the trainers, so that every one reads its arguments the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_real_scalar
from .losses import (
    smooth_labels,
)

__all__ = [
    "CONVENTIONS",
    "add_bias_column",
    "binary_smoothed",
    "check_W",
    "check_X",
    "check_binary_targets",
    "check_labels01",
    "check_options",
    "check_theta",
]

Array = NDArray[np.float64]

CONVENTIONS = ("uniform", "others")


def check_X(X: ArrayLike) -> Array:
    """``X`` as a float64 matrix, checked: 2-D, at least one row and one column, finite.

    Parameters
    ----------
    X : array_like of shape (N, d)

    Returns
    -------
    ndarray of shape (N, d)

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        On a wrong shape or a non-finite entry.
    """
    arr = as_float_array(X, "X")
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("X must be finite (found inf)")
    return arr


def check_theta(theta: ArrayLike, n_features: int, name: str = "theta") -> Array:
    """The weights of a binary model, checked: shape ``(n_features,)``, finite.

    Parameters
    ----------
    theta : array_like
    n_features : int
        Columns of ``X``.
    name : str, default "theta"
        The argument's name, for the error message.

    Returns
    -------
    ndarray of shape (n_features,)
    """
    arr = as_float_array(theta, name)
    if arr.shape != (n_features,):
        raise ValueError(
            f"{name} must have shape ({n_features},) to match X's {n_features} columns, "
            f"got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def check_W(W: ArrayLike, n_features: int, name: str = "W") -> Array:
    """The weights of a multi-class model, checked: shape ``(n_features, K)``, ``K >= 2``, finite.

    Parameters
    ----------
    W : array_like
    n_features : int
        Columns of ``X``.
    name : str, default "W"
        The argument's name, for the error message.

    Returns
    -------
    ndarray of shape (n_features, K)
    """
    arr = as_float_array(W, name)
    if arr.ndim != 2 or arr.shape[0] != n_features or arr.shape[1] < 2:
        raise ValueError(
            f"{name} must have shape ({n_features}, K) with K >= 2 classes to match X's "
            f"{n_features} columns, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def check_binary_targets(y: ArrayLike, n: int) -> Array:
    """Binary targets, checked: one per row of ``X``, labels 0/1 or probabilities in [0, 1].

    Parameters
    ----------
    y : array_like of shape (n,)
    n : int
        Rows of ``X``.

    Returns
    -------
    ndarray of shape (n,)
    """
    arr = as_float_array(y, "y")
    if arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one target per row of X, got {arr.shape}")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError("y must hold labels 0/1 or probabilities in [0, 1]")
    return arr


def check_labels01(y: ArrayLike, n: int) -> NDArray[np.bool_]:
    """Hard labels 0/1, checked (one per row of ``X``), as a boolean mask of the ones.

    Parameters
    ----------
    y : array_like of shape (n,)
    n : int
        Rows of ``X``.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the label is 1.
    """
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"y must hold the labels 0 and 1, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per row of X, got {arr.shape}")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError("y must hold only the labels 0 and 1")
    return arr == 1


def check_options(
    weight_decay: Any, label_smoothing: Any, convention: Any, gamma: Any
) -> tuple[float, float, str, float | None]:
    r"""The options of a linear model's objective, checked.

    Parameters
    ----------
    weight_decay : float
        :math:`\lambda \ge 0`.
    label_smoothing : float
        :math:`\varepsilon \in [0, 1)`.
    convention : {"uniform", "others"}
    gamma : float or None
        The focal :math:`\gamma \ge 0`, or None for the cross-entropy.

    Returns
    -------
    tuple
        ``(weight_decay, label_smoothing, convention, gamma)``.
    """
    lam = check_real_scalar(weight_decay, "weight_decay", lo=0.0)
    eps = check_real_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0, hi_open=True)
    if not isinstance(convention, str):
        raise TypeError(f'convention must be "uniform" or "others", got {convention!r}')
    if convention not in CONVENTIONS:
        raise ValueError(f'convention must be "uniform" or "others", got {convention!r}')
    gamma = None if gamma is None else check_real_scalar(gamma, "gamma", lo=0.0)
    return lam, eps, convention, gamma


def binary_smoothed(y: Array, eps: float, convention: str) -> Array:
    r"""Probability of class 1 after label smoothing with two classes.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Checked binary targets.
    eps : float
        :math:`\varepsilon`; 0 returns ``y`` itself.
    convention : {"uniform", "others"}
        As for :func:`celesson.smooth_labels`.

    Returns
    -------
    ndarray of shape (n,)
    """
    if eps == 0.0:
        return y
    two = np.stack([1.0 - y, y], axis=-1)
    return smooth_labels(two, 2, eps, convention=convention)[:, 1]


def add_bias_column(X: ArrayLike) -> Array:
    """Return ``X`` with a column of ones appended, so that the last weight acts as a bias.

    Parameters
    ----------
    X : array_like of shape (N, d)

    Returns
    -------
    numpy.ndarray of shape (N, d + 1)

    Examples
    --------
    >>> add_bias_column([[2.0], [3.0]]).tolist()
    [[2.0, 1.0], [3.0, 1.0]]
    """
    Xa = check_X(X)
    return np.hstack([Xa, np.ones((Xa.shape[0], 1))])
