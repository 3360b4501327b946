r"""Logistic and softmax regression: the penalised objectives, their gradients and Hessian.

Logits :math:`z = X\theta` (or :math:`XW`), the mean loss over the rows plus
:math:`\tfrac{\lambda}{2}\|\theta\|^2`, optionally label-smoothed or focal; the
conventions are described in :mod:`celesson.linear`, which re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._bce_kernels import bce_logits
from ._validation import as_float_array, as_index_array, check_real_scalar
from .grads import (
    cross_entropy_grad,
    sigmoid_focal_loss_grad,
    sigmoid_grad,
    softmax_focal_loss_grad,
)
from .losses import (
    cross_entropy,
    sigmoid_focal_loss,
    smooth_labels,
    softmax_focal_loss,
)
from .numerics import softmax

Array = NDArray[np.float64]


_CONVENTIONS = ("uniform", "others")


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


def _check_binary_targets(y: ArrayLike, n: int) -> Array:
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


def _check_options(
    weight_decay: Any, label_smoothing: Any, convention: Any, gamma: Any
) -> tuple[float, float, str, float | None]:
    lam = check_real_scalar(weight_decay, "weight_decay", lo=0.0)
    eps = check_real_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0, hi_open=True)
    if not isinstance(convention, str):
        raise TypeError(f'convention must be "uniform" or "others", got {convention!r}')
    if convention not in _CONVENTIONS:
        raise ValueError(f'convention must be "uniform" or "others", got {convention!r}')
    gamma = None if gamma is None else check_real_scalar(gamma, "gamma", lo=0.0)
    return lam, eps, convention, gamma


def _binary_smoothed(y: Array, eps: float, convention: str) -> Array:
    """Probability of class 1 after label smoothing with two classes."""
    if eps == 0.0:
        return y
    two = np.stack([1.0 - y, y], axis=-1)
    return smooth_labels(two, 2, eps, convention=convention)[:, 1]


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
    ya = _check_binary_targets(y, Xa.shape[0])
    lam, eps, conv, gamma = _check_options(weight_decay, label_smoothing, convention, gamma)
    return _Binary(Xa, _binary_smoothed(ya, eps, conv), lam, gamma)


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
    lam, eps, conv, gamma = _check_options(weight_decay, label_smoothing, convention, gamma)
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
