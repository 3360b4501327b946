r"""Closed-form gradients of the binary and regression losses, and of the sigmoid.

The conventions are those of :mod:`celesson.grads`, which re-exports every function here.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._bce_kernels import bce_logits, bce_options, binary_pair
from ._loss_options import check_alpha, check_gamma, scale_mean, weighted
from ._rows import EXP_MINUS_SHIFT, SHIFT
from ._summation import add_pairs, mul_pairs, two_prod
from ._validation import (
    FloatResult,
    as_float_array,
    check_pair_shapes,
    check_probabilities,
    check_reduction,
    finish,
)


@overload
def sigmoid_grad(z: float) -> np.float64: ...
@overload
def sigmoid_grad(z: NDArray[np.floating]) -> NDArray[np.float64]: ...
@overload
def sigmoid_grad(z: ArrayLike) -> FloatResult: ...
def sigmoid_grad(z: ArrayLike) -> FloatResult:
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


@overload
def binary_cross_entropy_with_logits_grad(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: str = ...,
    weight: ArrayLike | None = ...,
    pos_weight: ArrayLike | None = ...,
) -> NDArray[np.float64]: ...
@overload
def binary_cross_entropy_with_logits_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = ...,
    weight: ArrayLike | None = ...,
    pos_weight: ArrayLike | None = ...,
) -> FloatResult: ...
def binary_cross_entropy_with_logits_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = "mean",
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
) -> FloatResult:
    r"""Gradient of :func:`~celesson.losses.binary_cross_entropy_with_logits` w.r.t. ``logits``.

    .. math::

        \frac{\partial \ell}{\partial z} = \sigma(z) - y,

    evaluated as :math:`-\sigma(-z)` for ``y = 1`` so that it keeps its relative
    accuracy for large ``z``.  Divided by the number of elements for
    ``reduction="mean"``.  With ``weight`` :math:`w` and ``pos_weight`` :math:`p`
    (as in the loss),

    .. math::

        \frac{\partial \ell}{\partial z} = w\,\big[(1-y)\,\sigma(z) - p\,y\,\sigma(-z)\big],

    two terms each accurate on its own (the first vanishes for ``y = 1``, the second
    for ``y = 0``), each a pair :math:`c\,\sigma(\pm z)` with the coefficient exact
    (:func:`_sigmoid_term`), their difference rounded once; the gradient is zero at
    :math:`\sigma(z) = p y / (p y + 1 - y)`.

    Parameters
    ----------
    logits : array_like
        Logits.
    target : array_like
        Targets in :math:`[0, 1]` of the same shape (or a scalar).
    reduction : {"none", "sum", "mean"}, default "mean"
    weight, pos_weight : array_like, optional
        As in :func:`~celesson.losses.binary_cross_entropy_with_logits`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Shape of the broadcast ``logits`` (and of ``weight`` and ``pos_weight``).

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
    z, y = binary_pair(logits, target, "logits")
    if weight is None and pos_weight is None:
        return scale_mean(_kernels.sigmoid_minus_target(z, y), reduction, z.size, "logits")
    y, w, pw = bce_options(z, y, weight, pos_weight)  # y broadcast with the weights
    shape = y.shape
    z, y = (np.broadcast_to(a, shape).reshape(shape or (1,)) for a in (z, y))
    w, pw = (None if a is None else a.reshape(a.shape if shape else (1,)) for a in (w, pw))
    b_hi = np.subtract(1.0, y)
    c_neg: tuple[Any, Any] = (b_hi, np.subtract(np.subtract(1.0, b_hi), y))  # 1 - y (Fast2Sum)
    c_pos: tuple[Any, Any] = (y, None) if pw is None else two_prod(pw, y)  # p y, exactly
    if w is not None:
        c_neg, c_pos = mul_pairs(*c_neg, w, None), mul_pairs(*c_pos, w, None)
    a = _sigmoid_term(*c_neg, z)
    b = _sigmoid_term(*c_pos, -z)
    g_hi, g_lo = add_pairs(*a, -b[0], -b[1])
    return scale_mean((g_hi + g_lo).reshape(shape), reduction, g_hi.size, "logits")


def _sigmoid_term(c_hi: np.ndarray, c_lo: np.ndarray | None, x: np.ndarray) -> tuple[
    np.ndarray, np.ndarray
]:
    r""":math:`c\,\sigma(x)` as a pair, for a pair :math:`c \ge 0`; 0 where :math:`c = 0`.

    :math:`\sigma(x) = N / D` with :math:`e = e^{-|x|}`, :math:`D = 1 + e` (an exact
    pair by Fast2Sum, as :math:`1 \ge e`) and :math:`N = 1` for :math:`x \ge 0`,
    :math:`N = e` otherwise.  With :math:`q = \operatorname{fl}(N / D)` the residual
    :math:`N - q D` is exact (:func:`two_prod`), so :math:`\sigma(x) = q + r` is off
    only by the rounding of ``exp``, and :math:`c\,\sigma(x)` is rounded once by the
    caller: rounding :math:`\sigma`, :math:`p y` and the product by :math:`w` one by
    one costs up to 2.1 ULP.  For :math:`x < -600` the numerator is
    :math:`e^{\text{SHIFT} + x}`, and the product is multiplied by the pair
    :math:`e^{-\text{SHIFT}}` last, so that a subnormal gradient is rounded once.
    """
    e = np.exp(-np.abs(x))
    num = np.where(x >= 0, 1.0, e)
    tiny = x < -600.0
    if tiny.any():
        num[tiny] = np.exp(SHIFT + x[tiny])
    den = e + 1.0
    den_lo = e - (den - 1.0)  # exact
    q = num / den
    p, err = two_prod(q, den)
    r = (num - p) - err
    r -= q * den_lo
    r /= den
    hi, lo = mul_pairs(c_hi, c_lo, q, r)
    if tiny.any():
        hi_t, lo_t = mul_pairs(hi[tiny], lo[tiny], *EXP_MINUS_SHIFT)
        hi[tiny], lo[tiny] = hi_t, lo_t
    zero = np.broadcast_to(c_hi, hi.shape) == 0.0
    if zero.any():  # 0 * sigma, also where the product of a huge c overflowed
        hi[zero], lo[zero] = 0.0, 0.0
    return hi, lo


@overload
def mse_sigmoid_grad(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: str = ...,
) -> NDArray[np.float64]: ...
@overload
def mse_sigmoid_grad(
    logits: ArrayLike, target: ArrayLike, *, reduction: str = ...
) -> FloatResult: ...
def mse_sigmoid_grad(
    logits: ArrayLike, target: ArrayLike, *, reduction: str = "mean"
) -> FloatResult:
    r"""Gradient w.r.t. ``logits`` of the squared error ``mse_loss(sigmoid(logits), target)``.

    The per-element loss is :math:`(a - y)^2` with :math:`a = \sigma(z)` (no factor
    :math:`\tfrac12`, as in :func:`~celesson.losses.mse_loss`), so

    .. math::

        \frac{\partial}{\partial z} (a - y)^2 = 2\,(a - y)\,\sigma'(z)
        = 2\,(a - y)\,a\,(1 - a).

    For the convention :math:`\tfrac12 (a-y)^2` halve the result.  Divided by the
    number of elements for ``reduction="mean"``.

    Parameters
    ----------
    logits : array_like
        Logits.
    target : array_like
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
    z, y = binary_pair(logits, target, "logits")
    g = 2.0 * _kernels.sigmoid_minus_target(z, y) * _kernels.sigmoid_grad(z)
    return scale_mean(g, reduction, z.size, "logits")


@overload
def sigmoid_focal_loss_grad(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    gamma: float = ...,
    alpha: float | None = ...,
    reduction: str = ...,
) -> NDArray[np.float64]: ...
@overload
def sigmoid_focal_loss_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = ...,
    alpha: float | None = ...,
    reduction: str = ...,
) -> FloatResult: ...
def sigmoid_focal_loss_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "mean",
) -> FloatResult:
    r"""Gradient of :func:`~celesson.losses.sigmoid_focal_loss` w.r.t. ``logits``.

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
    logits : array_like
        Finite logits.
    target : array_like
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
    z, y = binary_pair(logits, target, "logits")
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite for sigmoid_focal_loss_grad")
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
    return scale_mean(g, reduction, z.size, "logits")


@overload
def binary_cross_entropy_grad(
    probs: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: str = ...,
) -> NDArray[np.float64]: ...
@overload
def binary_cross_entropy_grad(
    probs: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = ...,
) -> FloatResult: ...
def binary_cross_entropy_grad(
    probs: ArrayLike, target: ArrayLike, *, reduction: str = "mean"
) -> FloatResult:
    r"""Gradient of :func:`~celesson.losses.binary_cross_entropy` w.r.t. ``probs``.

    .. math::

        \frac{\partial \ell}{\partial p} = -\frac{y}{p} + \frac{1-y}{1-p}
        = \frac{p - y}{p\,(1-p)},

    evaluated as the first form (``±inf`` at ``p = 0`` or ``1`` where the loss is
    infinite nearby, 0 times infinity taken as 0).

    Parameters
    ----------
    probs : array_like
        Probabilities in :math:`[0, 1]`.
    target : array_like
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
    p, y = binary_pair(probs, target, "probs")
    check_probabilities(p, "probs")
    with np.errstate(divide="ignore"):
        g = weighted(1.0 - y, 1.0 / (1.0 - p))
        g -= weighted(y, 1.0 / p)
    return scale_mean(g, reduction, p.size, "probs")


@overload
def mse_loss_grad(
    pred: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: str = ...,
) -> NDArray[np.float64]: ...
@overload
def mse_loss_grad(pred: ArrayLike, target: ArrayLike, *, reduction: str = ...) -> FloatResult: ...
def mse_loss_grad(pred: ArrayLike, target: ArrayLike, *, reduction: str = "mean") -> FloatResult:
    r"""Gradient of :func:`~celesson.losses.mse_loss` w.r.t. ``pred``: :math:`2(\hat y - y)`.

    Divided by the number of elements for ``reduction="mean"``.

    Parameters
    ----------
    pred, target : array_like
        Predictions :math:`\hat y` and targets :math:`y`, the same shape (or one a scalar).
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss whose gradient this is.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Shaped like ``pred``.

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
