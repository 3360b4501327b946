r"""Logistic regression: the penalised binary objective, its gradient, Hessian and
probabilities.

Logits :math:`z = X\theta`, the mean loss over the rows plus
:math:`\tfrac{\lambda}{2}\|\theta\|^2`, optionally label-smoothed or focal; the
conventions are described in :mod:`celesson.linear`, which re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels
from ._bce_kernels import bce_logits
from ._validation import check_real_scalar
from .design import (
    Array,
    binary_smoothed,
    check_binary_targets,
    check_options,
    check_theta,
    check_X,
)
from .grads import (
    sigmoid_focal_loss_grad,
    sigmoid_grad,
)
from .losses import (
    sigmoid_focal_loss,
)

__all__ = [
    "binary_objective",
    "logistic_regression_grad",
    "logistic_regression_hessian",
    "logistic_regression_loss",
    "logistic_regression_proba",
]


@dataclass(frozen=True)
class _Binary:
    """A checked binary objective: data, smoothed targets and options."""

    X: Array
    target: Array
    lam: float
    gamma: float | None
    XtN: Array = field(init=False, repr=False)
    signs: Array | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "XtN", np.ascontiguousarray(self.X.T) / self.X.shape[0])
        hard = bool(np.all((self.target == 0.0) | (self.target == 1.0)))
        object.__setattr__(self, "signs", 2.0 * self.target - 1.0 if hard else None)

    def loss(self, theta: Array) -> float:
        z = self.X @ theta
        if self.gamma is None:
            data = float(np.mean(bce_logits(z, self.target)))
        else:
            data = float(sigmoid_focal_loss(z, self.target, gamma=self.gamma))
        return data + 0.5 * self.lam * float(theta @ theta)

    def residual(self, z: Array) -> Array:
        r""":math:`\partial\ell/\partial z` per example (the core's stable residual)."""
        if self.gamma is not None:
            return sigmoid_focal_loss_grad(z, self.target, gamma=self.gamma, reduction="none")
        if self.signs is None:
            return _kernels.sigmoid_minus_target(z, self.target)
        # 0/1 labels: sigma(z) - y = -s * sigma(-s z) with s = 2y - 1, which is exactly
        # what the core's residual evaluates (-sigma(-z) for y = 1, sigma(z) for y = 0),
        # without the masking that handles soft labels.
        r = _kernels.sigmoid(-self.signs * z)
        r *= -self.signs
        return r

    def curvature(self, z: Array) -> Array:
        r"""Second derivative of the per-example loss in its logit (no weight decay)."""
        if self.gamma is None:
            return sigmoid_grad(z)
        h = 1e-5 * np.maximum(1.0, np.abs(z))
        return (self.residual(z + h) - self.residual(z - h)) / (2.0 * h)

    def grad(self, theta: Array) -> Array:
        g = self.XtN @ self.residual(self.X @ theta)
        if self.lam:
            g += self.lam * theta
        return g


def binary_objective(
    X: ArrayLike,
    y: ArrayLike,
    weight_decay: Any,
    label_smoothing: Any,
    convention: Any,
    gamma: Any,
) -> _Binary:
    """The checked data, smoothed targets and options of a binary objective.

    Shared by :func:`logistic_regression_loss`, its gradient and the trainer, so that
    the three read their arguments the same way.

    Parameters
    ----------
    X, y, weight_decay, label_smoothing, convention, gamma
        As for :func:`logistic_regression_loss`.

    Returns
    -------
    _Binary
        The checked objective.
    """
    Xa = check_X(X)
    ya = check_binary_targets(y, Xa.shape[0])
    lam, eps, conv, gamma = check_options(weight_decay, label_smoothing, convention, gamma)
    return _Binary(Xa, binary_smoothed(ya, eps, conv), lam, gamma)


def logistic_regression_loss(
    theta: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    gamma: float | None = None,
) -> float:
    r"""Average binary cross-entropy (or focal loss) of :math:`\sigma(X\theta)`, plus weight decay.

    .. math::

        L(\theta) = \frac1N \sum_n \ell(x_n^\top\theta, \tilde y_n)
                    + \frac{\lambda}{2}\|\theta\|^2,
        \qquad \ell(z, y) = -y\log\sigma(z) - (1-y)\log\sigma(-z),

    computed from the logits with :func:`celesson.binary_cross_entropy_with_logits`
    (or :func:`celesson.sigmoid_focal_loss` when ``gamma`` is given).

    Parameters
    ----------
    theta : array_like of shape (d,)
        Weights.
    X : array_like of shape (N, d)
        Inputs, one row per example.
    y : array_like of shape (N,)
        Labels 0/1 (or probabilities in [0, 1]).
    weight_decay : float, default 0.0
        :math:`\lambda \ge 0`.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1)`; the target of class 1 becomes
        :math:`(1-\varepsilon) y + \varepsilon/2` (``"uniform"``) or
        :math:`(1-\varepsilon) y + \varepsilon (1 - y)` (``"others"``: with two classes
        the one wrong class receives all of :math:`\varepsilon`).
    convention : {"uniform", "others"}, default "uniform"
        See :func:`celesson.smooth_labels`.
    gamma : float or None, default None
        If given, use the focal loss with this :math:`\gamma \ge 0` instead of the
        cross-entropy.

    Returns
    -------
    float

    Examples
    --------
    >>> import math
    >>> round(logistic_regression_loss([0.0], [[1.0], [2.0]], [1, 0]), 12) == round(math.log(2), 12)
    True
    """
    obj = binary_objective(X, y, weight_decay, label_smoothing, convention, gamma)
    return obj.loss(check_theta(theta, obj.X.shape[1]))


def logistic_regression_grad(
    theta: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    gamma: float | None = None,
) -> Array:
    r"""Gradient of :func:`logistic_regression_loss` with respect to :math:`\theta`.

    .. math::

        \nabla L(\theta) = \frac1N \sum_n (\sigma(x_n^\top\theta) - \tilde y_n)\, x_n
                           + \lambda\theta = \frac1N X^\top (\sigma(X\theta) - \tilde y)
                           + \lambda\theta,

    with the residual :math:`\sigma(z) - y` from
    :func:`celesson.binary_cross_entropy_with_logits_grad`
    (accurate for large logits), or the focal-loss derivative from
    :func:`celesson.sigmoid_focal_loss_grad`.  Arguments as in :func:`logistic_regression_loss`.

    Parameters
    ----------
    theta : array_like of shape (d,)
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1 (or probabilities in [0, 1]).
    weight_decay, label_smoothing, convention, gamma
        As for :func:`logistic_regression_loss`.

    Returns
    -------
    numpy.ndarray of shape (d,)

    Examples
    --------
    >>> logistic_regression_grad([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [1, 0]).tolist()
    [-0.25, 0.25]
    """
    obj = binary_objective(X, y, weight_decay, label_smoothing, convention, gamma)
    return obj.grad(check_theta(theta, obj.X.shape[1]))


def logistic_regression_hessian(
    theta: ArrayLike, X: ArrayLike, *, weight_decay: float = 0.0
) -> Array:
    r"""Hessian of the cross-entropy objective of logistic regression.

    .. math::

        \nabla^2 L(\theta) = \frac1N X^\top \operatorname{diag}\big(\sigma'(X\theta)\big) X
                             + \lambda I,
        \qquad \sigma'(z) = \sigma(z)\,\sigma(-z).

    It does not depend on the targets (hard, soft or label-smoothed), because the
    residual :math:`\sigma(z) - y` is affine in :math:`y`.  It is positive definite when
    :math:`\lambda > 0` or :math:`X` has full column rank, so the objective is strictly
    convex then; the Newton step :math:`-(\nabla^2 L)^{-1}\nabla L` uses it.

    Parameters
    ----------
    theta : array_like of shape (d,)
    X : array_like of shape (N, d)
    weight_decay : float, default 0.0

    Returns
    -------
    numpy.ndarray of shape (d, d)

    Examples
    --------
    >>> logistic_regression_hessian([0.0], [[2.0]]).tolist()
    [[1.0]]
    """
    Xa = check_X(X)
    th = check_theta(theta, Xa.shape[1])
    lam = check_real_scalar(weight_decay, "weight_decay", lo=0.0)
    s = sigmoid_grad(Xa @ th)
    H = (Xa.T * s) @ Xa
    H /= Xa.shape[0]
    H[np.diag_indices_from(H)] += lam
    return H


def logistic_regression_proba(theta: ArrayLike, X: ArrayLike) -> Array:
    r"""Predicted probability of class 1, :math:`\sigma(X\theta)`.

    Parameters
    ----------
    theta : array_like of shape (d,)
    X : array_like of shape (N, d)

    Returns
    -------
    numpy.ndarray of shape (N,)

    Examples
    --------
    >>> logistic_regression_proba([1.0], [[0.0]]).tolist()
    [0.5]
    """
    Xa = check_X(X)
    return _kernels.sigmoid(Xa @ check_theta(theta, Xa.shape[1]))
