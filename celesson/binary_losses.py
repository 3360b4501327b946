r"""Binary and regression losses: probabilities, logits and the squared error.

:func:`binary_cross_entropy`, :func:`binary_cross_entropy_with_logits` (with ``weight``
and ``pos_weight``), the binary :func:`sigmoid_focal_loss` of logits and :func:`mse_loss`. The
conventions are those of :mod:`celesson.losses`, which re-exports every function here.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._bce_kernels import bce_logits, bce_logits_options, binary_inputs, focal_modulator
from ._loss_options import check_alpha, check_gamma, weighted
from ._validation import (
    FloatResult,
    as_float_array,
    check_pair_shapes,
    check_probabilities,
    check_reduction,
    reduce,
)


@overload
def binary_cross_entropy(
    probs: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: Literal["none"],
) -> NDArray[np.float64]: ...
@overload
def binary_cross_entropy(
    probs: ArrayLike,
    target: ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = ...,
) -> np.float64: ...
@overload
def binary_cross_entropy(
    probs: ArrayLike, target: ArrayLike, *, reduction: str = ...
) -> FloatResult: ...
def binary_cross_entropy(
    probs: ArrayLike, target: ArrayLike, *, reduction: str = "mean"
) -> FloatResult:
    r"""Binary cross-entropy of predicted probabilities ``probs`` against ``target``.

    .. math::

        \ell(p, y) = -\,y \log p - (1 - y) \log(1 - p),

    with :math:`0 \log 0 = 0`; :math:`\log(1-p)` is evaluated as
    :math:`\operatorname{log1p}(-p)`.  Unlike PyTorch, which clamps the logarithm
    at :math:`-100`, a confident wrong prediction (``p = 0`` with ``y = 1``) gives
    ``inf``.  Prefer :func:`binary_cross_entropy_with_logits` when logits are at
    hand.

    Parameters
    ----------
    probs : array_like
        Predicted probabilities in :math:`[0, 1]`.
    target : array_like
        Targets in :math:`[0, 1]` (0/1 labels or soft labels), same shape as ``probs``
        (or a scalar).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> round(float(binary_cross_entropy(0.9, 1.0)), 6)
    0.105361
    >>> float(binary_cross_entropy(0.0, 1.0))
    inf
    """
    reduction = check_reduction(reduction)
    p, y, p_range = binary_inputs(probs, target, "probs")
    check_probabilities(p, "probs", p_range)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        log_q = np.log1p(-p)
    loss = weighted(y, log_p)
    loss += weighted(1.0 - y, log_q)
    np.negative(loss, out=loss)
    return reduce(loss, reduction, "probs")


@overload
def binary_cross_entropy_with_logits(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: Literal["none"],
    weight: ArrayLike | None = ...,
    pos_weight: ArrayLike | None = ...,
) -> NDArray[np.float64]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = ...,
    weight: ArrayLike | None = ...,
    pos_weight: ArrayLike | None = ...,
) -> np.float64: ...
@overload
def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = ...,
    weight: ArrayLike | None = ...,
    pos_weight: ArrayLike | None = ...,
) -> FloatResult: ...
def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = "mean",
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
) -> FloatResult:
    r"""Binary cross-entropy of a sigmoid output, computed from its ``logits`` (:math:`z`).

    .. math::

        \ell(z, y) = -y \log\sigma(z) - (1-y)\log\sigma(-z)
                   = y\,\operatorname{softplus}(-z) + (1-y)\operatorname{softplus}(z),

    where :math:`\operatorname{softplus}(x) = \log(1 + e^{x})`.  It is evaluated as

    .. math::

        \ell(z, y) = \operatorname{log1p}(e^{-|z|}) + \begin{cases}
            (1 - y)\,z & z > 0,\\ -y\,z & z \le 0,\end{cases}

    which equals PyTorch's :math:`\max(z,0) - zy + \operatorname{log1p}(e^{-|z|})`
    but adds two non-negative terms, so it keeps full relative accuracy everywhere:
    for ``y = 1`` and large ``z`` the loss :math:`\operatorname{log1p}(e^{-z})
    \approx e^{-z}` is not lost to cancellation.

    With the options of PyTorch's ``binary_cross_entropy_with_logits``, the loss of
    each element is

    .. math::

        \ell(z, y) = w\,\big[\,p\,y\operatorname{softplus}(-z)
                    + (1-y)\operatorname{softplus}(z)\big],

    with ``weight`` :math:`w` (any shape that broadcasts to ``logits``, for instance one
    weight per element or per output) and ``pos_weight`` :math:`p` (the weight of the
    positive term, broadcast along the last axis: one per output, as PyTorch does).
    It is evaluated as a sum of non-negative terms with
    :math:`\operatorname{softplus}(x) = \max(x,0) + \operatorname{log1p}(e^{-|x|})`,
    every product and sum carried as an unevaluated pair and rounded once
    (:func:`celesson._bce_kernels.bce_options_block`), so the weights cost no accuracy.
    The mean
    is over all elements and does not divide by the weights (unlike
    :func:`cross_entropy` with ``weight``): it is PyTorch's.  A ``pos_weight`` of
    :math:`p` moves the minimiser in :math:`z` from :math:`\operatorname{logit}(y)`
    to :math:`\operatorname{logit}(y) + \log p`.

    Parameters
    ----------
    logits : array_like
        Logits; ``±inf`` allowed (the loss is then 0 or ``inf``), NaN rejected.
    target : array_like
        Targets in :math:`[0, 1]`, same shape as ``logits`` (or a scalar).
    reduction : {"mean", "sum", "none"}, default "mean"
    weight : array_like, optional
        Non-negative finite weights that broadcast to the shape of ``logits``.
    pos_weight : array_like, optional
        Non-negative finite weights of the positive term, broadcast against ``logits``
        (shape ``(C,)`` for ``C`` outputs along the last axis).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        With ``reduction="none"``, an array of the broadcast shape of ``logits``, ``target``,
        ``weight`` and ``pos_weight``.

    References
    ----------
    PyTorch documentation of ``torch.nn.BCEWithLogitsLoss`` (``pytorch_bcewithlogits``).

    Examples
    --------
    >>> float(binary_cross_entropy_with_logits(0.0, 1.0)) == float(np.log(2.0))
    True
    >>> float(binary_cross_entropy_with_logits(40.0, 1.0))  # = log1p(exp(-40))
    4.248354255291589e-18
    >>> float(binary_cross_entropy_with_logits(0.0, 1.0, pos_weight=3.0)) == 3 * float(np.log(2.0))
    True
    """
    reduction = check_reduction(reduction)
    z, y, z_range = binary_inputs(logits, target, "logits")
    if weight is None and pos_weight is None:
        return reduce(bce_logits(z, y, z_range), reduction, "logits")
    return bce_logits_options(z, y, weight, pos_weight, reduction)


@overload
def sigmoid_focal_loss(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    gamma: float = ...,
    alpha: float | None = ...,
    reduction: Literal["none"],
) -> NDArray[np.float64]: ...
@overload
def sigmoid_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = ...,
    alpha: float | None = ...,
    reduction: Literal["mean", "sum"] = ...,
) -> np.float64: ...
@overload
def sigmoid_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = ...,
    alpha: float | None = ...,
    reduction: str = ...,
) -> FloatResult: ...
def sigmoid_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "mean",
) -> FloatResult:
    r"""Binary (sigmoid) focal loss of Lin et al. (2017), from logits.

    With :math:`p = \sigma(z)`, :math:`p_t = p` for ``y = 1`` and :math:`1 - p` for
    ``y = 0``:

    .. math::

        \mathrm{FL}(z, y) = -\alpha_t (1 - p_t)^{\gamma} \log p_t,
        \qquad \alpha_t = \alpha y + (1 - \alpha)(1 - y).

    For soft targets the same expression is used with
    :math:`1 - p_t = y\,\sigma(-z) + (1-y)\,\sigma(z)` and :math:`-\log p_t` replaced
    by :func:`binary_cross_entropy_with_logits` (the formula of torchvision's
    ``sigmoid_focal_loss``).  Both factors are computed without cancellation.
    ``gamma = 0`` and ``alpha = None`` give the binary cross-entropy exactly.

    Parameters
    ----------
    logits : array_like
        Logits (``±inf`` allowed, NaN rejected).
    target : array_like
        Targets in :math:`[0, 1]`, same shape as ``logits`` (or a scalar).
    gamma : float, default 2.0
        Focusing parameter, :math:`\gamma \ge 0`.
    alpha : float or None, default None
        Class weight :math:`\alpha \in [0, 1]` of the positive class; ``None`` means
        no weighting (:math:`\alpha_t = 1`).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> bool(sigmoid_focal_loss(1.5, 1.0, gamma=0.0) == binary_cross_entropy_with_logits(1.5, 1.0))
    True
    """
    reduction = check_reduction(reduction)
    gamma = check_gamma(gamma)
    alpha = check_alpha(alpha)
    z, y, z_range = binary_inputs(logits, target, "logits")
    loss = bce_logits(z, y, z_range)
    if gamma != 0.0:
        loss = weighted(np.power(focal_modulator(z, y), gamma), loss)
    if alpha is not None:
        loss = weighted(alpha * y + (1.0 - alpha) * (1.0 - y), loss)
    return reduce(loss, reduction, "logits")


@overload
def mse_loss(
    pred: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: Literal["none"],
) -> NDArray[np.float64]: ...
@overload
def mse_loss(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = ...,
) -> np.float64: ...
@overload
def mse_loss(pred: ArrayLike, target: ArrayLike, *, reduction: str = ...) -> FloatResult: ...
def mse_loss(pred: ArrayLike, target: ArrayLike, *, reduction: str = "mean") -> FloatResult:
    r"""Squared error :math:`(\hat y - y)^2` per element, reduced as asked.

    ``reduction="mean"`` gives the mean squared error
    :math:`\frac1N \sum_i (\hat y_i - y_i)^2` over all elements (PyTorch's
    ``mse_loss``; no factor :math:`\tfrac12`).

    Parameters
    ----------
    pred, target : array_like
        Predictions and targets of the same shape (or one of them a scalar).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(mse_loss([0.0, 1.0], [1.0, 1.0]))
    0.5
    """
    reduction = check_reduction(reduction)
    pred_arr = as_float_array(pred, "pred")
    target_arr = as_float_array(target, "target")
    pred_arr, target_arr = check_pair_shapes(pred_arr, target_arr, "pred", "target")
    with np.errstate(over="ignore"):
        loss = np.square(pred_arr - target_arr)
    return reduce(loss, reduction, "pred")
