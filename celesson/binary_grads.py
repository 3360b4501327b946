r"""Closed-form gradients of the binary and regression losses, and of the sigmoid.

The conventions are those of :mod:`celesson.grads`, which re-exports every function here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels
from ._loss_options import (
    bce_logits,
    bce_options,
    binary_pair,
    check_alpha,
    check_gamma,
    scale_mean,
    weighted,
)
from ._validation import (
    as_float_array,
    check_pair_shapes,
    check_probabilities,
    check_reduction,
    finish,
)


def sigmoid_grad(z: ArrayLike) -> Any:
    r"""Derivative of the sigmoid, :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`.

    Evaluated as :math:`e / (1 + e)^2` with :math:`e = e^{-|z|} \le 1`, which keeps its
    relative accuracy in both tails (where :math:`1 - \sigma(z)` would round to 0).
    The square is formed exactly: :math:`1 + e = D + D_{lo}` (TwoSum) and
    :math:`D^2 = P + P_{lo}` (Dekker's product), so that
    :math:`\sigma'(z) = (e / P)(1 - \delta)` with
    :math:`\delta = (P_{lo} + 2 D D_{lo}) / P` to first order.  What is left is the
    rounding of ``exp``, of the division and of the correction: at most 1.43 ULP on
    the benchmark's logits (a product of two rounded sigmoids reaches 2.7).

    Parameters
    ----------
    z : array_like
        Logits (``±inf`` give 0, NaN rejected).

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(sigmoid_grad(0.0))
    0.25
    """
    return finish(_kernels.sigmoid_grad(as_float_array(z, "z")))


def binary_cross_entropy_with_logits_grad(
    z: ArrayLike,
    y: ArrayLike,
    *,
    reduction: str = "mean",
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
) -> Any:
    r"""Gradient of :func:`~celesson.losses.binary_cross_entropy_with_logits` w.r.t. ``z``.

    .. math::

        \frac{\partial \ell}{\partial z} = \sigma(z) - y,

    evaluated as :math:`-\sigma(-z)` for ``y = 1`` so that it keeps its relative
    accuracy for large ``z``.  Divided by the number of elements for
    ``reduction="mean"``.  With ``weight`` :math:`w` and ``pos_weight`` :math:`p`
    (as in the loss),

    .. math::

        \frac{\partial \ell}{\partial z} = w\,\big[(1-y)\,\sigma(z) - p\,y\,\sigma(-z)\big],

    two terms each accurate on its own (the first vanishes for ``y = 1``, the second
    for ``y = 0``); the gradient is zero at :math:`\sigma(z) = p y / (p y + 1 - y)`.

    Parameters
    ----------
    z : array_like
        Logits.
    y : array_like
        Targets in :math:`[0, 1]` of the same shape (or a scalar).
    reduction : {"none", "sum", "mean"}, default "mean"
    weight, pos_weight : array_like, optional
        As in :func:`~celesson.losses.binary_cross_entropy_with_logits`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Shape of the broadcast ``z`` (and of ``weight`` and ``pos_weight``).

    Examples
    --------
    >>> binary_cross_entropy_with_logits_grad([0.0, 0.0], [1.0, 0.0]).tolist()  # of the mean loss
    [-0.25, 0.25]
    >>> binary_cross_entropy_with_logits_grad([0.0, 0.0], [1.0, 0.0], reduction="none").tolist()
    [-0.5, 0.5]
    >>> binary_cross_entropy_with_logits_grad(
    ...     [0.0, 0.0], [1.0, 0.0], pos_weight=3.0, reduction="none").tolist()
    [-1.5, 0.5]
    """
    reduction = check_reduction(reduction)
    z, y = binary_pair(z, y, "z")
    if weight is None and pos_weight is None:
        return scale_mean(_kernels.sigmoid_minus_target(z, y), reduction, z.size, "z")
    y, w, pw = bce_options(z, y, weight, pos_weight)
    z = np.broadcast_to(z, y.shape)
    if pw is None:
        g = _kernels.sigmoid_minus_target(z, y)
    else:
        g = weighted(1.0 - y, _kernels.sigmoid(z))
        g -= weighted(pw * y, _kernels.sigmoid(-z))
    if w is not None:
        g = g * w
    return scale_mean(np.asarray(g, dtype=np.float64), reduction, g.size, "z")


def mse_sigmoid_grad(z: ArrayLike, y: ArrayLike, *, reduction: str = "mean") -> Any:
    r"""Gradient w.r.t. ``z`` of the squared error of a sigmoid output, ``mse_loss(sigmoid(z), y)``.

    The per-element loss is :math:`(a - y)^2` with :math:`a = \sigma(z)` (no factor
    :math:`\tfrac12`, as in :func:`~celesson.losses.mse_loss`), so

    .. math::

        \frac{\partial}{\partial z} (a - y)^2 = 2\,(a - y)\,\sigma'(z)
        = 2\,(a - y)\,a\,(1 - a).

    For the convention :math:`\tfrac12 (a-y)^2` halve the result.  Divided by the
    number of elements for ``reduction="mean"``.

    Parameters
    ----------
    z : array_like
        Logits.
    y : array_like
        Targets in :math:`[0, 1]` of the same shape (or a scalar).
    reduction : {"none", "sum", "mean"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(mse_sigmoid_grad(0.0, 1.0))
    -0.25
    """
    reduction = check_reduction(reduction)
    z, y = binary_pair(z, y, "z")
    g = 2.0 * _kernels.sigmoid_minus_target(z, y) * _kernels.sigmoid_grad(z)
    return scale_mean(g, reduction, z.size, "z")


def sigmoid_focal_loss_grad(
    z: ArrayLike,
    y: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "mean",
) -> Any:
    r"""Gradient of :func:`~celesson.losses.sigmoid_focal_loss` w.r.t. the logits ``z``.

    With :math:`q = 1 - p_t = y\,\sigma(-z) + (1-y)\,\sigma(z)`,
    :math:`c = y\operatorname{softplus}(-z) + (1-y)\operatorname{softplus}(z)` (the
    binary cross-entropy) and :math:`\mathrm{FL} = \alpha_t q^{\gamma} c`:

    .. math::

        \frac{\partial\,\mathrm{FL}}{\partial z}
        = \alpha_t\, q^{\gamma}\Big[\gamma\,(1 - 2y)\,\frac{\sigma(z)\sigma(-z)}{q}\,c
          + \sigma(z) - y\Big],

    using :math:`\partial q/\partial z = (1-2y)\,\sigma(z)\sigma(-z)` and
    :math:`\partial c/\partial z = \sigma(z) - y`.  For ``y = 1`` the ratio
    :math:`\sigma(z)\sigma(-z)/q` is :math:`\sigma(z)`, for ``y = 0`` it is
    :math:`\sigma(-z)`, so nothing is divided by a vanishing :math:`q`.

    Parameters
    ----------
    z : array_like
        Finite logits.
    y : array_like
        Targets in :math:`[0, 1]` of the same shape (or a scalar).
    gamma : float, default 2.0
        :math:`\gamma \ge 0`.
    alpha : float or None, default None
        :math:`\alpha \in [0, 1]`, or ``None`` for no class weighting.
    reduction : {"none", "sum", "mean"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> g0 = sigmoid_focal_loss_grad(0.3, 1.0, gamma=0.0)
    >>> bool(g0 == binary_cross_entropy_with_logits_grad(0.3, 1.0))
    True
    """
    reduction = check_reduction(reduction)
    gamma = check_gamma(gamma)
    alpha = check_alpha(alpha)
    z, y = binary_pair(z, y, "z")
    if not np.isfinite(z).all():
        raise ValueError("z must be finite for sigmoid_focal_loss_grad")
    g = _kernels.sigmoid_minus_target(z, y)
    if gamma != 0.0:
        s_pos, s_neg = _kernels.sigmoid(z), _kernels.sigmoid(-z)
        q = y * s_neg + (1.0 - y) * s_pos
        ratio = np.where(y == 1.0, s_pos, s_neg)
        soft = (y != 0.0) & (y != 1.0)
        np.divide(s_pos * s_neg, q, out=ratio, where=soft)
        g += gamma * (1.0 - 2.0 * y) * ratio * bce_logits(z, y)
        g *= np.power(q, gamma)
    if alpha is not None:
        g *= alpha * y + (1.0 - alpha) * (1.0 - y)
    return scale_mean(g, reduction, z.size, "z")


def binary_cross_entropy_grad(p: ArrayLike, y: ArrayLike, *, reduction: str = "mean") -> Any:
    r"""Gradient of :func:`~celesson.losses.binary_cross_entropy` w.r.t. the probability ``p``.

    .. math::

        \frac{\partial \ell}{\partial p} = -\frac{y}{p} + \frac{1-y}{1-p}
        = \frac{p - y}{p\,(1-p)},

    evaluated as the first form (``±inf`` at ``p = 0`` or ``1`` where the loss is
    infinite nearby, 0 times infinity taken as 0).

    Parameters
    ----------
    p : array_like
        Probabilities in :math:`[0, 1]`.
    y : array_like
        Targets in :math:`[0, 1]` of the same shape (or a scalar).
    reduction : {"none", "sum", "mean"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(binary_cross_entropy_grad(0.5, 1.0))
    -2.0
    """
    reduction = check_reduction(reduction)
    p, y = binary_pair(p, y, "p")
    check_probabilities(p, "p")
    with np.errstate(divide="ignore"):
        g = weighted(1.0 - y, 1.0 / (1.0 - p))
        g -= weighted(y, 1.0 / p)
    return scale_mean(g, reduction, p.size, "p")


def mse_loss_grad(pred: ArrayLike, target: ArrayLike, *, reduction: str = "mean") -> Any:
    r"""Gradient of :func:`~celesson.losses.mse_loss` w.r.t. ``pred``: :math:`2(\hat y - y)`.

    Divided by the number of elements for ``reduction="mean"``.

    Examples
    --------
    >>> mse_loss_grad([1.0, 3.0], [0.0, 3.0], reduction="mean").tolist()
    [1.0, 0.0]
    """
    reduction = check_reduction(reduction)
    pred_arr = as_float_array(pred, "pred")
    target_arr = as_float_array(target, "target")
    pred_arr, target_arr = check_pair_shapes(pred_arr, target_arr, "pred", "target")
    return scale_mean(2.0 * (pred_arr - target_arr), reduction, pred_arr.size, "pred")
