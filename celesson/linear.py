r"""Linear classifiers trained by full-batch gradient descent, and the max-margin separator.

Two models, both without hidden layers:

* **logistic regression** (binary): parameters :math:`\theta \in \mathbb{R}^d`,
  logits :math:`z_n = x_n^\top \theta`, probability :math:`\sigma(z_n)` of class 1;
* **softmax regression** (multi-class): parameters :math:`W \in \mathbb{R}^{d \times K}`,
  logits :math:`z_n = x_n^\top W \in \mathbb{R}^K`, probabilities
  :math:`\operatorname{softmax}(z_n)`.

Both minimise the average loss over the :math:`N` training rows plus an optional
L2 penalty ("weight decay" :math:`\lambda \ge 0`),

.. math::

    L(\theta) = \frac1N \sum_{n=1}^N \ell(z_n, \tilde y_n) + \frac{\lambda}{2}\,\|\theta\|^2,

where :math:`\ell` is the cross-entropy (or, with ``focal_gamma``, the focal loss of
Lin et al. 2017) and :math:`\tilde y_n` the target, label-smoothed if asked (both
conventions of :func:`celesson.smooth_labels`).  With the factor
:math:`\tfrac12` the penalty adds exactly :math:`\lambda\theta` to the gradient, the
convention of PyTorch's ``weight_decay``.  A bias is not built in: append a column of
ones with :func:`add_bias_column` (it is then penalised like every other weight).

The losses and their gradients with respect to the logits come from
:mod:`celesson.losses` and :mod:`celesson.grads`; this module only adds the chain
rule through :math:`z = X\theta`, the penalty and the training loops.

Training (:func:`fit_logistic_regression`, :func:`fit_softmax_regression`, or the
generic :func:`gradient_descent`) records the parameters, their norm and the loss
only at the steps you ask for, so a run of :math:`10^5` steps stores a handful of
snapshots.  :func:`logistic_gradient_flow` follows the small-step limit of the same
iteration to astronomically large times, and :func:`max_margin_separator` computes
the hard-margin separator that gradient descent approaches in direction on separable
data (Soudry et al. 2018).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, as_index_array, check_int, check_real_scalar
from .grads import (
    _sigmoid_minus_target,
    cross_entropy_grad,
    focal_loss_grad,
    sigmoid_grad,
    softmax_focal_loss_grad,
)
from .losses import (
    _bce_logits,
    cross_entropy,
    focal_loss,
    smooth_labels,
    softmax_focal_loss,
)
from .numerics import _sigmoid, softmax

__all__ = [
    "MaxMarginResult",
    "TrainingRecord",
    "add_bias_column",
    "fit_logistic_regression",
    "fit_softmax_regression",
    "gradient_descent",
    "log_time_gradient_flow",
    "logistic_gradient_flow",
    "logistic_regression_grad",
    "logistic_regression_hessian",
    "logistic_regression_loss",
    "logistic_regression_proba",
    "max_margin_separator",
    "softmax_regression_grad",
    "softmax_regression_loss",
    "softmax_regression_proba",
]

Array = NDArray[np.float64]
_CONVENTIONS = ("uniform", "others")


# --------------------------------------------------------------------------- checks


def _check_X(X: ArrayLike) -> Array:
    arr = as_float_array(X, "X")
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("X must be finite (found inf)")
    return arr


def _check_theta(theta: ArrayLike, n_features: int, name: str = "theta") -> Array:
    arr = as_float_array(theta, name)
    if arr.shape != (n_features,):
        raise ValueError(
            f"{name} must have shape ({n_features},) to match X's {n_features} columns, "
            f"got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def _check_W(W: ArrayLike, n_features: int, name: str = "W") -> Array:
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


def _check_labels01(y: ArrayLike, n: int) -> NDArray[np.bool_]:
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"y must hold the labels 0 and 1, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per row of X, got {arr.shape}")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError("y must hold only the labels 0 and 1")
    return arr == 1


def _check_options(
    weight_decay: Any, label_smoothing: Any, convention: Any, focal_gamma: Any
) -> tuple[float, float, str, float | None]:
    lam = check_real_scalar(weight_decay, "weight_decay", lo=0.0)
    eps = check_real_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0, hi_open=True)
    if not isinstance(convention, str):
        raise TypeError(f'convention must be "uniform" or "others", got {convention!r}')
    if convention not in _CONVENTIONS:
        raise ValueError(f'convention must be "uniform" or "others", got {convention!r}')
    gamma = None if focal_gamma is None else check_real_scalar(focal_gamma, "focal_gamma", lo=0.0)
    return lam, eps, convention, gamma


def _binary_smoothed(y: Array, eps: float, convention: str) -> Array:
    """Probability of class 1 after label smoothing with two classes."""
    if eps == 0.0:
        return y
    two = np.stack([1.0 - y, y], axis=-1)
    return smooth_labels(two, 2, eps, convention=convention)[:, 1]


# -------------------------------------------------------------- logistic regression


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
            data = float(np.mean(_bce_logits(z, self.target)))
        else:
            data = float(focal_loss(z, self.target, gamma=self.gamma))
        return data + 0.5 * self.lam * float(theta @ theta)

    def residual(self, z: Array) -> Array:
        r""":math:`\partial\ell/\partial z` per example (the core's stable residual)."""
        if self.gamma is not None:
            return focal_loss_grad(z, self.target, gamma=self.gamma, reduction="none")
        if self.signs is None:
            return _sigmoid_minus_target(z, self.target)
        # 0/1 labels: sigma(z) - y = -s * sigma(-s z) with s = 2y - 1, which is exactly
        # what the core's residual evaluates (-sigma(-z) for y = 1, sigma(z) for y = 0),
        # without the masking that handles soft labels.
        r = _sigmoid(-self.signs * z)
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


def _binary_objective(
    X: ArrayLike,
    y: ArrayLike,
    weight_decay: Any,
    label_smoothing: Any,
    convention: Any,
    focal_gamma: Any,
) -> _Binary:
    Xa = _check_X(X)
    ya = _check_binary_targets(y, Xa.shape[0])
    lam, eps, conv, gamma = _check_options(weight_decay, label_smoothing, convention, focal_gamma)
    return _Binary(Xa, _binary_smoothed(ya, eps, conv), lam, gamma)


def logistic_regression_loss(
    theta: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    focal_gamma: float | None = None,
) -> float:
    r"""Average binary cross-entropy (or focal loss) of :math:`\sigma(X\theta)`, plus weight decay.

    .. math::

        L(\theta) = \frac1N \sum_n \ell(x_n^\top\theta, \tilde y_n)
                    + \frac{\lambda}{2}\|\theta\|^2,
        \qquad \ell(z, y) = -y\log\sigma(z) - (1-y)\log\sigma(-z),

    computed from the logits with :func:`celesson.binary_cross_entropy_with_logits`
    (or :func:`celesson.focal_loss` when ``focal_gamma`` is given).

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
    focal_gamma : float or None, default None
        If given, use the focal loss with this :math:`\gamma \ge 0` instead of the
        cross-entropy.

    Returns
    -------
    float

    Examples
    --------
    >>> round(logistic_regression_loss([0.0], [[1.0], [2.0]], [1, 0]), 12) == round(math.log(2), 12)
    True
    """
    obj = _binary_objective(X, y, weight_decay, label_smoothing, convention, focal_gamma)
    return obj.loss(_check_theta(theta, obj.X.shape[1]))


def logistic_regression_grad(
    theta: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    focal_gamma: float | None = None,
) -> Array:
    r"""Gradient of :func:`logistic_regression_loss` with respect to :math:`\theta`.

    .. math::

        \nabla L(\theta) = \frac1N \sum_n (\sigma(x_n^\top\theta) - \tilde y_n)\, x_n
                           + \lambda\theta = \frac1N X^\top (\sigma(X\theta) - \tilde y)
                           + \lambda\theta,

    with the residual :math:`\sigma(z) - y` from :func:`celesson.bce_with_logits_grad`
    (accurate for large logits), or the focal-loss derivative from
    :func:`celesson.focal_loss_grad`.  Arguments as in :func:`logistic_regression_loss`.

    Returns
    -------
    numpy.ndarray of shape (d,)

    Examples
    --------
    >>> logistic_regression_grad([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [1, 0]).tolist()
    [-0.25, 0.25]
    """
    obj = _binary_objective(X, y, weight_decay, label_smoothing, convention, focal_gamma)
    return obj.grad(_check_theta(theta, obj.X.shape[1]))


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
    Xa = _check_X(X)
    th = _check_theta(theta, Xa.shape[1])
    lam = check_real_scalar(weight_decay, "weight_decay", lo=0.0)
    s = sigmoid_grad(Xa @ th)
    H = (Xa.T * s) @ Xa
    H /= Xa.shape[0]
    H[np.diag_indices_from(H)] += lam
    return H


def logistic_regression_proba(theta: ArrayLike, X: ArrayLike) -> Array:
    r"""Predicted probability of class 1, :math:`\sigma(X\theta)`.

    Examples
    --------
    >>> logistic_regression_proba([1.0], [[0.0]]).tolist()
    [0.5]
    """
    Xa = _check_X(X)
    return _sigmoid(Xa @ _check_theta(theta, Xa.shape[1]))


# --------------------------------------------------------------- softmax regression


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


def _multi_objective(
    X: ArrayLike,
    y: ArrayLike,
    num_classes: int,
    weight_decay: Any,
    label_smoothing: Any,
    convention: Any,
    focal_gamma: Any,
) -> _Multi:
    Xa = _check_X(X)
    raw = np.asarray(y)
    if raw.shape != (Xa.shape[0],):
        raise ValueError(
            f"y must have shape ({Xa.shape[0]},), one class index per row of X, got {raw.shape}"
        )
    labels = as_index_array(raw, "y", num_classes)
    lam, eps, conv, gamma = _check_options(weight_decay, label_smoothing, convention, focal_gamma)
    if gamma is not None and eps > 0.0:
        raise ValueError(
            "focal_gamma and label_smoothing cannot be combined for softmax regression"
        )
    if conv == "others" and eps > 0.0:
        return _Multi(Xa, labels, smooth_labels(labels, num_classes, eps, "others"), 0.0, lam,
                      gamma, num_classes)
    return _Multi(Xa, labels, None, eps, lam, gamma, num_classes)


def softmax_regression_loss(
    W: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    focal_gamma: float | None = None,
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
        :math:`\varepsilon \in [0, 1)` (not together with ``focal_gamma``).
    convention : {"uniform", "others"}, default "uniform"
        See :func:`celesson.smooth_labels`.
    focal_gamma : float or None, default None

    Returns
    -------
    float

    Examples
    --------
    >>> round(softmax_regression_loss(np.zeros((1, 4)), [[1.0]], [2]), 12) == round(math.log(4), 12)
    True
    """
    Xa = _check_X(X)
    Wa = _check_W(W, Xa.shape[1])
    obj = _multi_objective(Xa, y, Wa.shape[1], weight_decay, label_smoothing, convention,
                           focal_gamma)
    return obj.loss(Wa)


def softmax_regression_grad(
    W: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    focal_gamma: float | None = None,
) -> Array:
    r"""Gradient of :func:`softmax_regression_loss` with respect to :math:`W`.

    .. math::

        \nabla_W L = \frac1N X^\top \big(\operatorname{softmax}(XW) - \tilde Y\big) + \lambda W,

    with :math:`\tilde Y` the (smoothed) one-hot targets; the logit gradient comes from
    :func:`celesson.cross_entropy_grad` (or :func:`celesson.softmax_focal_loss_grad`).

    Returns
    -------
    numpy.ndarray of shape (d, K)

    Examples
    --------
    >>> softmax_regression_grad(np.zeros((1, 2)), [[1.0]], [0]).tolist()
    [[-0.5, 0.5]]
    """
    Xa = _check_X(X)
    Wa = _check_W(W, Xa.shape[1])
    obj = _multi_objective(Xa, y, Wa.shape[1], weight_decay, label_smoothing, convention,
                           focal_gamma)
    return obj.grad(Wa)


def softmax_regression_proba(W: ArrayLike, X: ArrayLike) -> Array:
    r"""Predicted class probabilities :math:`\operatorname{softmax}(XW)`, shape (N, K).

    Examples
    --------
    >>> softmax_regression_proba(np.zeros((1, 2)), [[3.0]]).tolist()
    [[0.5, 0.5]]
    """
    Xa = _check_X(X)
    return softmax(Xa @ _check_W(W, Xa.shape[1]), axis=-1)


def add_bias_column(X: ArrayLike) -> Array:
    """Return ``X`` with a column of ones appended, so that the last weight acts as a bias.

    Examples
    --------
    >>> add_bias_column([[2.0], [3.0]]).tolist()
    [[2.0, 1.0], [3.0, 1.0]]
    """
    Xa = _check_X(X)
    return np.hstack([Xa, np.ones((Xa.shape[0], 1))])


# ------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainingRecord:
    """Snapshots of a training run, taken only at the requested steps (or times).

    Attributes
    ----------
    steps : numpy.ndarray
        The recorded steps (integers for gradient descent; times for
        :func:`logistic_gradient_flow`), increasing.
    params : numpy.ndarray
        ``params[i]`` is the parameter array after ``steps[i]`` steps (shape
        ``(m, *theta.shape)``).
    norms : numpy.ndarray
        Euclidean (Frobenius) norm of each snapshot.
    losses : numpy.ndarray
        The training objective at each snapshot.
    final : numpy.ndarray
        The parameters at the end of the run.
    """

    steps: np.ndarray
    params: Array = field(repr=False)
    norms: Array
    losses: Array
    final: Array = field(repr=False)

    def at(self, step: float) -> Array:
        """The snapshot taken at ``step`` (which must be one of :attr:`steps`)."""
        hits = np.flatnonzero(self.steps == step)
        if hits.size == 0:
            raise ValueError(f"step {step!r} was not recorded; recorded: {self.steps.tolist()}")
        return self.params[hits[0]]


def _check_checkpoints(checkpoints: Sequence[int] | None, num_steps: int) -> list[int]:
    if checkpoints is None:
        return [num_steps]
    out: list[int] = []
    for c in checkpoints:
        if isinstance(c, bool) or not isinstance(c, numbers.Integral):
            raise TypeError(f"checkpoints must be integers, got {c!r}")
        if not 0 <= c <= num_steps:
            raise ValueError(f"checkpoints must lie in 0..num_steps={num_steps}, got {c}")
        out.append(int(c))
    return sorted(set(out))


def gradient_descent(
    grad: Callable[[Array], Array],
    theta0: ArrayLike,
    *,
    lr: float,
    num_steps: int,
    checkpoints: Sequence[int] | None = None,
    loss: Callable[[Array], float] | None = None,
) -> TrainingRecord:
    r"""Full-batch gradient descent, :math:`\theta_t = \theta_{t-1} - \eta\nabla L(\theta_{t-1})`.

    Parameters
    ----------
    grad : callable
        :math:`\theta \mapsto \nabla L(\theta)`, returning an array of
        ``theta0``'s shape.  It must not keep a reference to its argument (the
        parameters are updated in place).
    theta0 : array_like
        Starting point (copied).
    lr : float
        Learning rate :math:`\eta > 0`.
    num_steps : int
        Number of steps :math:`\ge 0`.
    checkpoints : sequence of int, optional
        Steps (in ``0 .. num_steps``; 0 is the start) at which to record a snapshot;
        default: only the last step.
    loss : callable, optional
        :math:`\theta \mapsto L(\theta)`, evaluated at the checkpoints only; NaN is
        recorded without it.

    Returns
    -------
    TrainingRecord

    Examples
    --------
    >>> rec = gradient_descent(lambda t: 2 * t, [1.0], lr=0.25, num_steps=3, checkpoints=[0, 3])
    >>> rec.params[:, 0].tolist()
    [1.0, 0.125]
    """
    if not callable(grad):
        raise TypeError(f"grad must be callable, got {type(grad).__name__}")
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable or None, got {type(loss).__name__}")
    eta = check_real_scalar(lr, "lr", lo=0.0, lo_open=True)
    n_steps = check_int(num_steps, "num_steps", lo=0)
    marks = _check_checkpoints(checkpoints, n_steps)
    theta = as_float_array(theta0, "theta0").copy()
    if not np.isfinite(theta).all():
        raise ValueError("theta0 must be finite")
    snaps: list[Array] = []
    losses: list[float] = []

    def record() -> None:
        snaps.append(theta.copy())
        losses.append(float(loss(theta)) if loss is not None else math.nan)

    pos = 0
    if marks and marks[0] == 0:
        record()
        pos = 1
    for t in range(1, n_steps + 1):
        g = grad(theta)
        theta -= eta * g
        if pos < len(marks) and marks[pos] == t:
            record()
            pos += 1
    params = np.array(snaps) if snaps else np.empty((0, *theta.shape))
    norms = np.sqrt(np.sum(params.reshape(len(snaps), -1) ** 2, axis=1))
    return TrainingRecord(np.array(marks, dtype=np.int64), params, norms,
                          np.array(losses, dtype=np.float64), theta)


def fit_logistic_regression(
    X: ArrayLike,
    y: ArrayLike,
    *,
    lr: float,
    num_steps: int,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    focal_gamma: float | None = None,
    theta0: ArrayLike | None = None,
    checkpoints: Sequence[int] | None = None,
) -> TrainingRecord:
    r"""Train logistic regression by full-batch gradient descent from ``theta0`` (default 0).

    Minimises :func:`logistic_regression_loss` with the step
    :math:`\theta \leftarrow \theta - \eta \nabla L(\theta)`.  The inputs are checked
    once; the loop itself runs without checks, so that :math:`10^5` steps on a small data
    set stay cheap.

    Parameters
    ----------
    X, y, weight_decay, label_smoothing, convention, focal_gamma
        As in :func:`logistic_regression_loss`.
    lr : float
        Learning rate :math:`\eta > 0`.
    num_steps : int
    theta0 : array_like of shape (d,), optional
        Starting point; zeros by default.
    checkpoints : sequence of int, optional
        Steps at which to record :math:`\theta_t`, :math:`\|\theta_t\|` and
        :math:`L(\theta_t)` (default: the last step only).

    Returns
    -------
    TrainingRecord

    Examples
    --------
    >>> rec = fit_logistic_regression([[1.0], [-1.0]], [1, 0], lr=1.0, num_steps=10)
    >>> bool(rec.final[0] > 0)
    True
    """
    obj = _binary_objective(X, y, weight_decay, label_smoothing, convention, focal_gamma)
    d = obj.X.shape[1]
    start = np.zeros(d) if theta0 is None else _check_theta(theta0, d, "theta0")
    return gradient_descent(obj.grad, start, lr=lr, num_steps=num_steps,
                            checkpoints=checkpoints, loss=obj.loss)


def fit_softmax_regression(
    X: ArrayLike,
    y: ArrayLike,
    num_classes: int,
    *,
    lr: float,
    num_steps: int,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    focal_gamma: float | None = None,
    W0: ArrayLike | None = None,
    checkpoints: Sequence[int] | None = None,
) -> TrainingRecord:
    r"""Train softmax regression by full-batch gradient descent from ``W0`` (default 0).

    Minimises :func:`softmax_regression_loss` over :math:`W \in \mathbb{R}^{d\times K}`.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of int, shape (N,)
    num_classes : int
        :math:`K \ge 2`.
    lr, num_steps, checkpoints
        As in :func:`gradient_descent`.
    weight_decay, label_smoothing, convention, focal_gamma
        As in :func:`softmax_regression_loss`.
    W0 : array_like of shape (d, K), optional
        Starting point; zeros by default.

    Returns
    -------
    TrainingRecord

    Examples
    --------
    >>> rec = fit_softmax_regression([[1.0], [-1.0]], [0, 1], 2, lr=1.0, num_steps=10)
    >>> rec.final.shape
    (1, 2)
    """
    K = check_int(num_classes, "num_classes", lo=2)
    obj = _multi_objective(X, y, K, weight_decay, label_smoothing, convention, focal_gamma)
    d = obj.X.shape[1]
    start = np.zeros((d, K)) if W0 is None else _check_W(W0, d, "W0")
    if start.shape[1] != K:
        raise ValueError(f"W0 must have {K} columns (num_classes), got {start.shape[1]}")
    return gradient_descent(obj.grad, start, lr=lr, num_steps=num_steps,
                            checkpoints=checkpoints, loss=obj.loss)


def logistic_gradient_flow(
    X: ArrayLike,
    y: ArrayLike,
    times: Sequence[float],
    *,
    focal_gamma: float | None = None,
    t_start: float = 1e-6,
    steps_per_unit: int = 20,
) -> TrainingRecord:
    r"""Gradient flow :math:`\dot\theta = -\nabla L(\theta)`, :math:`\theta(0) = 0`, to huge times.

    The flow is the limit of gradient descent as the learning rate goes to zero:
    :math:`k` steps with rate :math:`\eta` follow it up to time :math:`t = \eta k`.
    On separable data the unregularised loss makes :math:`\theta` grow like
    :math:`\log t`, so the flow is integrated in *log-time* :math:`s = \ln t`:

    .. math::

        \frac{d\theta}{ds} = -e^{s}\,\nabla L(\theta(s)),

    whose right-hand side stays of order one along the trajectory (the gradient decays
    like :math:`1/t`), so the classical fourth-order Runge-Kutta method reaches
    :math:`t = 10^{40}` in a few thousand steps.  The step in :math:`s` is
    ``1 / steps_per_unit``, shortened where needed to keep the method stable:
    :math:`h \le 2 / \operatorname{tr}(e^{s}\nabla^2 L)`, and the trace bounds the
    largest eigenvalue (RK4 is stable on the negative real axis up to 2.78).  The flow
    starts at :math:`t_0` = ``t_start`` from :math:`\theta(t_0) = -t_0 \nabla L(0)`
    (the first-order Taylor term, error :math:`O(t_0^2)`).

    Not for weight decay or label smoothing: their finite minimiser makes
    :math:`e^{s}\nabla^2 L` grow without bound and the log-time equation stiff.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.
    times : sequence of float
        Times :math:`t > t_0` at which to record :math:`\theta(t)`.
    focal_gamma : float or None, default None
        Follow the focal loss instead of the cross-entropy.
    t_start : float, default 1e-6
    steps_per_unit : int, default 20
        Runge-Kutta steps per unit of :math:`\ln t` at least (more where stability
        needs them).

    Returns
    -------
    TrainingRecord
        ``steps`` holds the times (float64).

    Examples
    --------
    >>> rec = logistic_gradient_flow([[1.0], [-1.0]], [1, 0], [1.0, 100.0])
    >>> bool(rec.norms[1] > rec.norms[0] > 0)
    True
    """
    obj = _binary_objective(X, y, 0.0, 0.0, "uniform", focal_gamma)
    _check_labels01(y, obj.X.shape[0])
    row_sq = np.einsum("ij,ij->i", obj.X, obj.X) / obj.X.shape[0]
    return log_time_gradient_flow(
        obj.grad,
        lambda th: float(row_sq @ obj.curvature(obj.X @ th)),
        np.zeros(obj.X.shape[1]),
        times,
        loss=obj.loss,
        t_start=t_start,
        steps_per_unit=steps_per_unit,
    )


def log_time_gradient_flow(
    grad: Callable[[Array], Array],
    hessian_trace: Callable[[Array], float],
    theta0: ArrayLike,
    times: Sequence[float],
    *,
    loss: Callable[[Array], float] | None = None,
    t_start: float = 1e-6,
    steps_per_unit: int = 20,
) -> TrainingRecord:
    r"""Gradient flow :math:`\dot\theta = -\nabla L(\theta)` from ``theta0``, in log-time.

    The integrator behind :func:`logistic_gradient_flow`, for any smooth objective
    whose gradient decays along the trajectory: with :math:`s = \ln t` the flow reads
    :math:`d\theta/ds = -e^{s}\nabla L(\theta)`, integrated by the classical
    fourth-order Runge-Kutta method with step :math:`h \le` ``1 / steps_per_unit``,
    shortened to :math:`h \le 2 / (e^{s}\operatorname{tr}\nabla^2 L(\theta))` for
    stability (the trace bounds the largest eigenvalue of a positive semi-definite
    Hessian).  The flow starts at :math:`t_0` = ``t_start`` from
    :math:`\theta(t_0) = \theta_0 - t_0 \nabla L(\theta_0)` (error :math:`O(t_0^2)`).

    The right-hand side stays of order one when :math:`t\,\nabla L` does: for the
    logistic loss on separable data the gradient decays like :math:`1/t`; for a loss
    with a polynomial tail :math:`\ell(u) \sim 1/(2u)` (see
    :func:`celesson.implicit_bias.sqrt_tail_gradient_flow`) it decays like
    :math:`t^{-2/3}` and :math:`\theta` grows like :math:`t^{1/3}`, so that
    :math:`d\ln\|\theta\|/ds` is again of order one.

    Parameters
    ----------
    grad : callable
        :math:`\theta \mapsto \nabla L(\theta)` (a new array each call).
    hessian_trace : callable
        :math:`\theta \mapsto \operatorname{tr}\nabla^2 L(\theta) \ge 0`.
    theta0 : array_like of shape (d,)
        The state at time 0.
    times : sequence of float
        Times :math:`t > t_0`, increasing, at which to record :math:`\theta(t)`.
    loss : callable, optional
        :math:`\theta \mapsto L(\theta)` for the record (NaN without it).
    t_start : float, default 1e-6
    steps_per_unit : int, default 20

    Returns
    -------
    TrainingRecord
        ``steps`` holds the times (float64).

    Examples
    --------
    >>> rec = log_time_gradient_flow(lambda t: 2 * t, lambda t: 2.0, [1.0], [0.5])
    >>> round(float(rec.final[0]), 6) == round(math.exp(-1.0), 6)
    True
    """
    if not callable(grad) or not callable(hessian_trace):
        raise TypeError("grad and hessian_trace must be callable")
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable or None, got {type(loss).__name__}")
    t0 = check_real_scalar(t_start, "t_start", lo=0.0, lo_open=True)
    density = check_int(steps_per_unit, "steps_per_unit", lo=1)
    start = as_float_array(theta0, "theta0")
    if start.ndim != 1 or not np.isfinite(start).all():
        raise ValueError(f"theta0 must be a finite 1-D array, got shape {start.shape}")
    ts = as_float_array(times, "times")
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"times must be a non-empty 1-D sequence, got shape {ts.shape}")
    if not np.isfinite(ts).all() or ts.min() <= t0 or np.any(np.diff(ts) <= 0):
        raise ValueError(f"times must be finite, increasing and greater than t_start={t0!r}")

    def rhs(s: float, th: Array) -> Array:
        return -math.exp(s) * grad(th)

    theta = start - t0 * grad(start)
    s = math.log(t0)
    h_max = 1.0 / density
    snaps = []
    for target in np.log(ts):
        while s < target:
            trace = math.exp(s) * hessian_trace(theta)
            h = min(h_max, target - s)
            if trace > 0.0:
                h = min(h, 2.0 / trace)
            k1 = rhs(s, theta)
            k2 = rhs(s + h / 2, theta + (h / 2) * k1)
            k3 = rhs(s + h / 2, theta + (h / 2) * k2)
            k4 = rhs(s + h, theta + h * k3)
            theta = theta + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
            s = float(target) if target - s <= h else s + h
        snaps.append(theta.copy())
    params = np.array(snaps)
    losses = [loss(p) if loss is not None else math.nan for p in params]
    return TrainingRecord(ts.copy(), params, np.linalg.norm(params, axis=1),
                          np.array(losses, dtype=np.float64), theta)


# ------------------------------------------------------------------- max margin


@dataclass(frozen=True)
class MaxMarginResult:
    r"""The hard-margin separator through the origin and its certificate.

    Attributes
    ----------
    w : numpy.ndarray of shape (d,)
        :math:`\hat w = \arg\min \|w\|^2` subject to :math:`s_n\, x_n^\top w \ge 1` for
        all :math:`n`, with signs :math:`s_n = 2y_n - 1 \in \{-1, +1\}`.
    alpha : numpy.ndarray of shape (N,)
        Dual variables: :math:`\hat w = \sum_n \alpha_n s_n x_n`, :math:`\alpha \ge 0`,
        non-zero only on support vectors.
    margin : float
        The geometric margin :math:`1/\|\hat w\|` (distance from the separating
        hyperplane to the closest point).
    support : numpy.ndarray of int
        Indices of the support vectors (:math:`\alpha_n > 0`).
    iterations : int
        Major iterations of the solver.
    """

    w: Array
    alpha: Array = field(repr=False)
    margin: float
    support: NDArray[np.intp]
    iterations: int
    _Z: Array = field(repr=False)

    @property
    def direction(self) -> Array:
        r"""The unit vector :math:`\hat w / \|\hat w\|`."""
        return self.w / np.linalg.norm(self.w)

    def kkt_residuals(self) -> dict[str, float]:
        r"""Relative violations of the four KKT conditions (all ~1e-15 at an exact optimum).

        * ``"primal"``: :math:`\max(0, \max_n (1 - s_n x_n^\top\hat w))`;
        * ``"dual"``: :math:`\max(0, -\min_n \alpha_n) / \max_n \alpha_n`;
        * ``"complementary"``: :math:`\max_n \alpha_n |s_n x_n^\top\hat w - 1| / \max_n\alpha_n`;
        * ``"stationarity"``:
          :math:`\|\hat w - \sum_n \alpha_n s_n x_n\|_\infty / \|\hat w\|_\infty`.
        """
        m = self._Z @ self.w
        amax = float(self.alpha.max())
        return {
            "primal": float(max(0.0, np.max(1.0 - m))),
            "dual": float(max(0.0, -self.alpha.min()) / amax),
            "complementary": float(np.max(self.alpha * np.abs(m - 1.0)) / amax),
            "stationarity": float(
                np.max(np.abs(self.w - self._Z.T @ self.alpha)) / np.max(np.abs(self.w))
            ),
        }


def _affine_min_norm(P: Array) -> Array:
    r"""Barycentric weights :math:`\mu` (summing to 1) of the point of the affine hull of
    the rows of ``P`` closest to the origin."""
    k = P.shape[0]
    M = np.zeros((k + 1, k + 1))
    M[:k, :k] = P @ P.T
    M[:k, k] = 1.0
    M[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    sol = np.linalg.lstsq(M, rhs, rcond=None)[0]
    return sol[:k]


def max_margin_separator(
    X: ArrayLike, y: ArrayLike, *, tol: float = 1e-12, max_iter: int = 10_000
) -> MaxMarginResult:
    r"""Hard-margin linear separator through the origin (the SVM without bias).

    Solves :math:`\min_w \tfrac12\|w\|^2` subject to :math:`s_n x_n^\top w \ge 1`, with
    :math:`s_n = 2y_n - 1`.  Writing :math:`z_n = s_n x_n`, the problem is equivalent to
    finding the point :math:`p^\star` of the convex hull of :math:`\{z_n\}` closest to the
    origin: the margin is :math:`\|p^\star\|` and :math:`\hat w = p^\star/\|p^\star\|^2`.
    That point is computed exactly, up to rounding, by Wolfe's (1976) finite
    minimum-norm-point algorithm (a sequence of small linear solves on a "corral" of
    at most :math:`d+1` points), and the support vectors' margins are then refitted to
    exactly 1 by least squares.  The dual variables :math:`\alpha_n` are the barycentric
    weights of :math:`p^\star` divided by :math:`\|p^\star\|^2`.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.
    tol : float, default 1e-12
        Relative optimality tolerance of Wolfe's test
        :math:`\|p\|^2 - \min_n z_n^\top p \le \text{tol}\,\max_n \|z_n\|^2`.
    max_iter : int, default 10000

    Returns
    -------
    MaxMarginResult

    Raises
    ------
    ValueError
        If the data are not linearly separable by a hyperplane through the origin
        (the hull contains the origin), or on bad input.

    Examples
    --------
    >>> res = max_margin_separator([[2.0, 0.0], [-1.0, 1.0]], [1, 0])
    >>> np.round(res.w, 12).tolist(), round(res.margin, 12)
    ([0.5, -0.5], 1.414213562373)
    """
    Xa = _check_X(X)
    pos = _check_labels01(y, Xa.shape[0])
    tol = check_real_scalar(tol, "tol", lo=0.0, lo_open=True)
    max_iter = check_int(max_iter, "max_iter", lo=1)
    Z = np.where(pos, 1.0, -1.0)[:, None] * Xa
    sq = np.einsum("ij,ij->i", Z, Z)
    scale = float(sq.max())
    if scale == 0.0 or sq.min() == 0.0:
        raise ValueError("X has a zero row: no hyperplane through the origin separates it")
    corral = [int(np.argmin(sq))]
    lam = np.ones(1)
    p = Z[corral[0]].copy()
    iterations = 0
    while True:
        iterations += 1
        if iterations > max_iter:
            raise ValueError(f"max_margin_separator did not converge in max_iter={max_iter}")
        g = Z @ p
        j = int(np.argmin(g))
        pp = float(p @ p)
        if pp <= 1e-14 * scale:
            raise ValueError(
                "the data are not linearly separable by a hyperplane through the origin"
            )
        if pp - g[j] <= tol * scale or j in corral:
            break
        corral.append(j)
        lam = np.append(lam, 0.0)
        while True:  # minor cycle: move towards the affine minimiser, dropping points
            mu = _affine_min_norm(Z[corral])
            if mu.min() > 1e-15:
                lam = mu
                break
            shrink = mu < lam
            step = float(np.min(lam[shrink] / (lam[shrink] - mu[shrink])))
            lam = lam + step * (mu - lam)
            keep = lam > 1e-15
            corral = [c for c, kept in zip(corral, keep, strict=True) if kept]
            lam = lam[keep]
        p = lam @ Z[corral]
    if float(Z.dot(p).min()) <= 0.0:
        raise ValueError("the data are not linearly separable by a hyperplane through the origin")
    # refit: support margins exactly 1, w in the span of the support vectors
    S = np.array(sorted(corral), dtype=np.intp)
    w = np.linalg.lstsq(Z[S], np.ones(S.size), rcond=None)[0]
    a_S = np.linalg.lstsq(Z[S].T, w, rcond=None)[0]
    if a_S.min() <= 0.0 or (Z @ w).min() < 1.0 - 1e-9:
        # degenerate corral: keep Wolfe's point itself
        pp = float(p @ p)
        w = p / pp
        a_S = np.array([lam[corral.index(s)] for s in S]) / pp
    alpha = np.zeros(Xa.shape[0])
    alpha[S] = a_S
    w64 = w.astype(np.float64)
    return MaxMarginResult(w64, alpha, float(1.0 / np.linalg.norm(w64)), S, iterations, Z)
