r"""Softmax regression: the penalised multi-class objective, its gradient and probabilities.

Logits :math:`z = XW` with :math:`W` of shape ``(d, K)``, the mean cross-entropy over the
rows plus :math:`\tfrac{\lambda}{2}\|W\|^2`, optionally label-smoothed or focal; the
conventions are described in :mod:`celesson.linear`, which re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_index_array
from .design import (
    Array,
    check_options,
    check_W,
    check_X,
)
from .grads import (
    cross_entropy_grad,
    softmax_focal_loss_grad,
)
from .losses import (
    cross_entropy,
    smooth_labels,
    softmax_focal_loss,
)
from .numerics import softmax

__all__ = [
    "multi_objective",
    "softmax_regression_grad",
    "softmax_regression_loss",
    "softmax_regression_proba",
]


@dataclass(frozen=True)
class _Multi:
    """A checked multi-class objective."""

    X: Array
    labels: Array  # integer class indices
    target: Array | None  # smoothed probabilities for the "others" convention
    eps: float  # smoothing passed to the core ("uniform" convention)
    lam: float
    gamma: float | None
    num_classes: int
    Xt: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "Xt", np.ascontiguousarray(self.X.T))

    def _target(self) -> Array:
        return self.labels if self.target is None else self.target

    def loss(self, W: Array) -> float:
        Z = self.X @ W
        if self.gamma is None:
            data = float(cross_entropy(Z, self._target(), label_smoothing=self.eps))
        else:
            data = float(softmax_focal_loss(Z, self.labels, gamma=self.gamma))
        return data + 0.5 * self.lam * float(np.sum(W * W))

    def grad(self, W: Array) -> Array:
        Z = self.X @ W
        if self.gamma is None:
            G = cross_entropy_grad(Z, self._target(), label_smoothing=self.eps, reduction="mean")
        else:
            G = softmax_focal_loss_grad(Z, self.labels, gamma=self.gamma, reduction="mean")
        g = self.Xt @ G
        if self.lam:
            g += self.lam * W
        return g


def multi_objective(
    X: ArrayLike,
    y: ArrayLike,
    num_classes: int,
    weight_decay: Any,
    label_smoothing: Any,
    convention: Any,
    gamma: Any,
) -> _Multi:
    """The checked data, targets and options of a multi-class objective.

    Shared by :func:`softmax_regression_loss`, its gradient and the trainer.

    Parameters
    ----------
    X, y, weight_decay, label_smoothing, convention, gamma
        As for :func:`softmax_regression_loss`.
    num_classes : int
        :math:`K`, the columns of ``W``.

    Returns
    -------
    _Multi
        The checked objective.
    """
    Xa = check_X(X)
    raw = np.asarray(y)
    if raw.shape != (Xa.shape[0],):
        raise ValueError(
            f"y must have shape ({Xa.shape[0]},), one class index per row of X, got {raw.shape}"
        )
    labels = as_index_array(raw, "y", num_classes)
    lam, eps, conv, gamma = check_options(weight_decay, label_smoothing, convention, gamma)
    if gamma is not None and eps > 0.0:
        raise ValueError(
            "gamma and label_smoothing cannot be combined for softmax regression"
        )
    if conv == "others" and eps > 0.0:
        smoothed = smooth_labels(labels, num_classes, eps, convention="others")
        return _Multi(Xa, labels, smoothed, 0.0, lam, gamma, num_classes)
    return _Multi(Xa, labels, None, eps, lam, gamma, num_classes)


def softmax_regression_loss(
    W: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    gamma: float | None = None,
) -> float:
    r"""Average cross-entropy (or focal loss) of :math:`\operatorname{softmax}(XW)` plus decay.

    .. math::

        L(W) = \frac1N \sum_n \Big(-\sum_k \tilde y_{nk} \log
               \operatorname{softmax}(x_n^\top W)_k\Big) + \frac{\lambda}{2}\|W\|_F^2,

    from :func:`celesson.cross_entropy` (or :func:`celesson.softmax_focal_loss`).

    Parameters
    ----------
    W : array_like of shape (d, K)
        Weights, one column per class.
    X : array_like of shape (N, d)
    y : array_like of int, shape (N,)
        Class indices in ``0 .. K-1``.
    weight_decay : float, default 0.0
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1)` (not together with ``gamma``).
    convention : {"uniform", "others"}, default "uniform"
        See :func:`celesson.smooth_labels`.
    gamma : float or None, default None

    Returns
    -------
    float

    Examples
    --------
    >>> import math
    >>> round(softmax_regression_loss(np.zeros((1, 4)), [[1.0]], [2]), 12) == round(math.log(4), 12)
    True
    """
    Xa = check_X(X)
    Wa = check_W(W, Xa.shape[1])
    obj = multi_objective(Xa, y, Wa.shape[1], weight_decay, label_smoothing, convention,
                           gamma)
    return obj.loss(Wa)


def softmax_regression_grad(
    W: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    gamma: float | None = None,
) -> Array:
    r"""Gradient of :func:`softmax_regression_loss` with respect to :math:`W`.

    .. math::

        \nabla_W L = \frac1N X^\top \big(\operatorname{softmax}(XW) - \tilde Y\big) + \lambda W,

    with :math:`\tilde Y` the (smoothed) one-hot targets; the logit gradient comes from
    :func:`celesson.cross_entropy_grad` (or :func:`celesson.softmax_focal_loss_grad`).

    Parameters
    ----------
    W : array_like of shape (d, K)
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Class indices 0..K-1.
    weight_decay, label_smoothing, convention, gamma
        As for :func:`softmax_regression_loss`.

    Returns
    -------
    numpy.ndarray of shape (d, K)

    Examples
    --------
    >>> softmax_regression_grad(np.zeros((1, 2)), [[1.0]], [0]).tolist()
    [[-0.5, 0.5]]
    """
    Xa = check_X(X)
    Wa = check_W(W, Xa.shape[1])
    obj = multi_objective(Xa, y, Wa.shape[1], weight_decay, label_smoothing, convention,
                           gamma)
    return obj.grad(Wa)


def softmax_regression_proba(W: ArrayLike, X: ArrayLike) -> Array:
    r"""Predicted class probabilities :math:`\operatorname{softmax}(XW)`, shape (N, K).

    Parameters
    ----------
    W : array_like of shape (d, K)
    X : array_like of shape (N, d)

    Returns
    -------
    numpy.ndarray of shape (N, K)
        Rows sum to 1.

    Examples
    --------
    >>> softmax_regression_proba(np.zeros((1, 2)), [[3.0]]).tolist()
    [[0.5, 0.5]]
    """
    Xa = check_X(X)
    return softmax(Xa @ check_W(W, Xa.shape[1]), axis=-1)
