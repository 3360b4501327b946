r"""Closed-form gradients of the losses in :mod:`celesson.losses`, and a gradient checker.

Every ``*_grad`` function returns the gradient of the corresponding loss with the
same ``reduction`` with respect to its first argument (the logits unless stated
otherwise), as an array of that argument's shape:

* ``reduction="none"``: the derivative of each sample's loss with respect to its own
  inputs (the samples do not interact, so this is also the gradient of the sum);
* ``reduction="sum"``: the gradient of the summed loss (the same array);
* ``reduction="mean"``: the gradient of the mean loss, i.e. divided by the number of
  samples :math:`N` (elements for the elementwise losses, rows for the
  multi-class ones).

:func:`numerical_gradient` and :func:`check_gradient` compare any of them against
central differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._rows import EXP_MINUS_SHIFT, SHIFT
from ._summation import add_pairs, mul_pairs, two_prod
from ._validation import (
    as_float_array,
    as_index_array,
    check_axis,
    check_pair_shapes,
    check_probabilities,
    check_real_scalar,
    check_reduction,
    finish,
)
from .losses import (
    _bce_logits,
    _bce_options,
    _binary_pair,
    _ce_index,
    _ce_options,
    _check_alpha,
    _check_gamma,
    _check_ignore_index,
    _nll_row_weights,
    _prepare_logits,
    _split_target,
    _weighted,
)
from .numerics import _sigmoid, _softmax

__all__ = [
    "GradientCheck",
    "bce_with_logits_grad",
    "binary_cross_entropy_grad",
    "check_gradient",
    "cross_entropy_grad",
    "focal_loss_grad",
    "mse_loss_grad",
    "mse_sigmoid_grad",
    "nll_loss_grad",
    "numerical_gradient",
    "sigmoid_grad",
    "softmax_focal_loss_grad",
    "softmax_jacobian",
]


def _scale(g: np.ndarray, reduction: str, n: int, name: str) -> Any:
    """Apply the ``1/N`` of ``reduction="mean"``."""
    if reduction == "mean":
        if n == 0:
            raise ValueError(
                f'{name} is empty: reduction="mean" of zero elements is undefined '
                '(use reduction="sum" or "none")'
            )
        g /= n
    return finish(g)


def _scale_weighted(g: np.ndarray, reduction: str, denominator: float, name: str) -> Any:
    """Apply the ``1 / sum of weights`` of a weighted or masked ``reduction="mean"``."""
    if reduction == "mean":
        if denominator == 0.0:
            raise ValueError(
                f'{name}: reduction="mean" divides by the total weight of the targets that '
                'are not ignored, which is 0 here; use reduction="sum" or "none"'
            )
        g /= denominator
    return finish(g)


# ------------------------------------------------------------------- elementwise


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
    return finish(_sigmoid_grad(as_float_array(z, "z")))


def _sigmoid_grad(z: np.ndarray) -> np.ndarray:
    """:func:`sigmoid_grad` of a checked float64 array; always returns an array."""
    e = np.exp(-np.abs(z))
    d = 1.0 + e
    d_lo = e - (d - 1.0)  # exact: 1 >= e
    p, p_lo = two_prod(d, d)
    d *= 2.0 * d_lo
    p_lo += d
    p_lo /= p  # delta
    e /= p
    p_lo *= e
    e -= p_lo
    return np.asarray(e)


def _sigmoid_minus_target(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    r""":math:`\sigma(z) - y`, exactly :math:`-\sigma(-z)` where ``y == 1``."""
    g = np.asarray(_sigmoid(z) - y)
    ones = y == 1.0
    if ones.any():
        g[ones] = -_sigmoid(-z[ones])
    return g


def bce_with_logits_grad(
    z: ArrayLike,
    y: ArrayLike,
    reduction: str = "none",
    *,
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
    for ``y = 0``), each a pair :math:`c\,\sigma(\pm z)` with the coefficient exact
    (:func:`_sigmoid_term`), their difference rounded once; the gradient is zero at
    :math:`\sigma(z) = p y / (p y + 1 - y)`.

    Parameters
    ----------
    z : array_like
        Logits.
    y : array_like
        Targets in :math:`[0, 1]` of the same shape (or a scalar).
    reduction : {"none", "sum", "mean"}, default "none"
    weight, pos_weight : array_like, optional
        As in :func:`~celesson.losses.binary_cross_entropy_with_logits`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Shape of the broadcast ``z`` (and of ``weight`` and ``pos_weight``).

    Examples
    --------
    >>> bce_with_logits_grad([0.0, 0.0], [1.0, 0.0]).tolist()
    [-0.5, 0.5]
    >>> bce_with_logits_grad([0.0, 0.0], [1.0, 0.0], pos_weight=3.0).tolist()
    [-1.5, 0.5]
    """
    reduction = check_reduction(reduction)
    z, y = _binary_pair(z, y, "z")
    if weight is None and pos_weight is None:
        return _scale(_sigmoid_minus_target(z, y), reduction, z.size, "z")
    y, w, pw = _bce_options(z, y, weight, pos_weight)
    shape = y.shape
    z, y = (np.broadcast_to(a, shape).reshape(shape or (1,)) for a in (z, y))
    w, pw = (None if a is None else a.reshape(a.shape if shape else (1,)) for a in (w, pw))
    b_hi = np.subtract(1.0, y)
    c_neg = (b_hi, np.subtract(np.subtract(1.0, b_hi), y))  # 1 - y, exactly (Fast2Sum)
    c_pos = (y, None) if pw is None else two_prod(pw, y)  # p y, exactly
    if w is not None:
        c_neg, c_pos = mul_pairs(*c_neg, w, None), mul_pairs(*c_pos, w, None)
    a = _sigmoid_term(*c_neg, z)
    b = _sigmoid_term(*c_pos, -z)
    g_hi, g_lo = add_pairs(*a, -b[0], -b[1])
    return _scale((g_hi + g_lo).reshape(shape), reduction, g_hi.size, "z")


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


def mse_sigmoid_grad(z: ArrayLike, y: ArrayLike, reduction: str = "none") -> Any:
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
    reduction : {"none", "sum", "mean"}, default "none"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(mse_sigmoid_grad(0.0, 1.0))
    -0.25
    """
    reduction = check_reduction(reduction)
    z, y = _binary_pair(z, y, "z")
    g = 2.0 * _sigmoid_minus_target(z, y) * _sigmoid_grad(z)
    return _scale(g, reduction, z.size, "z")


def focal_loss_grad(
    z: ArrayLike,
    y: ArrayLike,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "none",
) -> Any:
    r"""Gradient of :func:`~celesson.losses.focal_loss` w.r.t. the logits ``z``.

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
    reduction : {"none", "sum", "mean"}, default "none"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> bool(focal_loss_grad(0.3, 1.0, gamma=0.0) == bce_with_logits_grad(0.3, 1.0))
    True
    """
    reduction = check_reduction(reduction)
    gamma = _check_gamma(gamma)
    alpha = _check_alpha(alpha)
    z, y = _binary_pair(z, y, "z")
    if not np.isfinite(z).all():
        raise ValueError("z must be finite for focal_loss_grad")
    g = _sigmoid_minus_target(z, y)
    if gamma != 0.0:
        s_pos, s_neg = _sigmoid(z), _sigmoid(-z)
        q = y * s_neg + (1.0 - y) * s_pos
        ratio = np.where(y == 1.0, s_pos, s_neg)
        soft = (y != 0.0) & (y != 1.0)
        np.divide(s_pos * s_neg, q, out=ratio, where=soft)
        g += gamma * (1.0 - 2.0 * y) * ratio * _bce_logits(z, y)
        g *= np.power(q, gamma)
    if alpha is not None:
        g *= alpha * y + (1.0 - alpha) * (1.0 - y)
    return _scale(g, reduction, z.size, "z")


def binary_cross_entropy_grad(p: ArrayLike, y: ArrayLike, reduction: str = "none") -> Any:
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
    reduction : {"none", "sum", "mean"}, default "none"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(binary_cross_entropy_grad(0.5, 1.0))
    -2.0
    """
    reduction = check_reduction(reduction)
    p, y = _binary_pair(p, y, "p")
    check_probabilities(p, "p")
    with np.errstate(divide="ignore"):
        g = _weighted(1.0 - y, 1.0 / (1.0 - p))
        g -= _weighted(y, 1.0 / p)
    return _scale(g, reduction, p.size, "p")


def mse_loss_grad(pred: ArrayLike, target: ArrayLike, reduction: str = "none") -> Any:
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
    return _scale(2.0 * (pred_arr - target_arr), reduction, pred_arr.size, "pred")


# ------------------------------------------------------------------- multi-class


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int = -1,
    label_smoothing: float = 0.0,
    reduction: str = "none",
    *,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
) -> np.ndarray:
    r"""Gradient of :func:`~celesson.losses.cross_entropy` w.r.t. the logits.

    .. math::

        \frac{\partial \ell}{\partial z_k} = \operatorname{softmax}(z)_k - y_k,

    with :math:`y` the (smoothed) target distribution.  For a class-index target the
    entry of the true class, :math:`p_t - 1`, is evaluated as
    :math:`-\sum_{k \ne t} p_k`, which keeps its relative accuracy when :math:`p_t` is
    close to 1 (where :math:`p_t - 1` would cancel).  Divided by the number of samples
    for ``reduction="mean"``.

    With class weights :math:`w` (:math:`W = \sum_k w_k`) and a class-index target
    :math:`t`, the loss :math:`(1-\varepsilon) w_t (-\log p_t) +
    (\varepsilon/K)\sum_k w_k (-\log p_k)` has

    .. math::

        \frac{\partial \ell}{\partial z_j} = (1-\varepsilon)\, w_t\,(p_j - \delta_{jt})
            + \frac{\varepsilon}{K}\,(W p_j - w_j),

    0 for an ignored sample, and the mean divides by :math:`\sum_n w_{t_n}` over the
    samples that are not ignored; with probability targets :math:`v = w \odot y`
    gives :math:`(\sum_k v_k)\,p_j - v_j`, and the mean divides by the number of
    samples (PyTorch's conventions, as in the loss).

    Parameters
    ----------
    logits, target, axis, label_smoothing, weight, ignore_index
        As in :func:`~celesson.losses.cross_entropy`.
    reduction : {"none", "sum", "mean"}, default "none"

    Returns
    -------
    numpy.ndarray
        Shape of ``logits``.

    Examples
    --------
    >>> cross_entropy_grad([0.0, 0.0], 0).tolist()
    [-0.5, 0.5]
    """
    reduction = check_reduction(reduction)
    eps = check_real_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0, hi_open=True)
    z, axis = _prepare_logits(logits, axis)
    ignore = _check_ignore_index(ignore_index)
    if weight is not None or ignore is not None:
        return _cross_entropy_grad_weighted(z, target, axis, eps, reduction, weight, ignore)
    kind, t = _split_target(target, z, axis)
    num_classes = z.shape[axis]
    g = _softmax(z, axis, "logits")
    if kind == "index":
        t_keep = np.expand_dims(t, axis)
        np.put_along_axis(g, t_keep, 0.0, axis=axis)
        rest = g.sum(axis=axis, keepdims=True)  # 1 - p_t as a sum of positive terms
        if eps > 0.0:
            g -= eps / num_classes
        np.put_along_axis(g, t_keep, (eps - eps / num_classes) - rest, axis=axis)
    else:
        y = t if eps == 0.0 else (1.0 - eps) * t + eps / num_classes
        g -= y
    n_samples = z.size // num_classes
    return _scale(g, reduction, n_samples, "logits")


def _softmax_minus_onehot(z: np.ndarray, t: np.ndarray, axis: int) -> np.ndarray:
    r""":math:`p - e_t`, with the entry of the true class as :math:`-\sum_{k \ne t} p_k`."""
    g = _softmax(z, axis, "logits")
    t_keep = np.expand_dims(t, axis)
    np.put_along_axis(g, t_keep, 0.0, axis=axis)
    rest = g.sum(axis=axis, keepdims=True)
    np.put_along_axis(g, t_keep, -rest, axis=axis)
    return g


def _cross_entropy_grad_weighted(
    z: np.ndarray,
    target: ArrayLike,
    axis: int,
    eps: float,
    reduction: str,
    weight: ArrayLike | None,
    ignore: int | None,
) -> np.ndarray:
    """:func:`cross_entropy_grad` with ``weight`` and/or ``ignore_index``."""
    o = _ce_options(z, target, axis, weight, ignore)
    num_classes = z.shape[axis]
    if o.kind == "prob":
        v = o.target if eps == 0.0 else (1.0 - eps) * o.target + eps / num_classes
        if o.weight is not None:
            v = o.weight * v
        g = _softmax(z, axis, "logits") * v.sum(axis=axis, keepdims=True)
        g -= v
        return _scale_weighted(g, reduction, o.denominator, "logits")
    assert o.row_weight is not None
    if o.weight is None:  # ignore_index only: the unweighted gradient, rows masked
        g = cross_entropy_grad(z, o.target, axis, eps, "none")
    else:
        g = _softmax_minus_onehot(z, o.target, axis)
        g *= (1.0 - eps) * o.row_weight
        if eps > 0.0:
            p = _softmax(z, axis, "logits")
            g += (eps / num_classes) * (o.weight.sum() * p - o.weight)
    if o.keep is not None:
        g = np.where(o.keep, g, 0.0)
    return _scale_weighted(g, reduction, o.denominator, "logits")


def softmax_focal_loss_grad(
    logits: ArrayLike, target: ArrayLike, gamma: float = 2.0, reduction: str = "none"
) -> np.ndarray:
    r"""Gradient of :func:`~celesson.losses.softmax_focal_loss` w.r.t. the logits.

    With :math:`p = \operatorname{softmax}(z)`, :math:`L = -\log p_t` and
    :math:`q = 1 - p_t`, the loss :math:`q^{\gamma} L` has

    .. math::

        \frac{\partial}{\partial z_k}\, q^{\gamma} L
        = (p_k - \delta_{kt})\,\Big(q^{\gamma} + \gamma\, q^{\gamma} p_t \frac{L}{q}\Big),

    (:math:`\partial q/\partial z_k = -p_t(\delta_{kt} - p_k)`,
    :math:`\partial L/\partial z_k = p_k - \delta_{kt}`).  :math:`L/q \ge 1` stays
    bounded as :math:`q \to 0`.  Divided by the number of samples for
    ``reduction="mean"``.

    Parameters
    ----------
    logits : array_like
        Finite logits, classes along the last axis.
    target : array_like of int
        Class indices of shape ``logits.shape[:-1]``.
    gamma : float, default 2.0
    reduction : {"none", "sum", "mean"}, default "none"

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> z = [[1.0, 0.0, -2.0]]
    >>> bool(np.allclose(softmax_focal_loss_grad(z, [1], gamma=0.0), cross_entropy_grad(z, [1])))
    True
    """
    reduction = check_reduction(reduction)
    gamma = _check_gamma(gamma)
    z, axis = _prepare_logits(logits, -1)
    kind, t = _split_target(target, z, axis)
    if kind != "index":
        raise TypeError("softmax_focal_loss_grad needs integer class indices as target")
    t_keep = np.expand_dims(t, axis)
    g = _softmax(z, axis, "logits")  # rejects NaN and +inf
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite for softmax_focal_loss_grad (found -inf)")
    ce = _ce_index(z, t, axis, 0.0)
    q_minus = np.expm1(-ce)  # p_t - 1 = -q
    np.put_along_axis(g, t_keep, q_minus, axis=axis)
    if gamma != 0.0:
        q = -q_minus
        p_t = 1.0 - q
        ratio = np.ones_like(q)  # L / q, -> 1 as q -> 0
        np.divide(ce, q, out=ratio, where=q > 0.0)
        g *= np.power(q, gamma) * (1.0 + gamma * p_t * ratio)
    n_samples = z.size // z.shape[axis]
    return _scale(g, reduction, n_samples, "logits")


def nll_loss_grad(
    log_probs: ArrayLike,
    target: ArrayLike,
    reduction: str = "none",
    *,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
) -> np.ndarray:
    r"""Gradient of :func:`~celesson.losses.nll_loss` w.r.t. ``log_probs``: :math:`-\delta_{kt}`.

    Divided by the number of samples for ``reduction="mean"``.  With ``weight`` and
    ``ignore_index`` it is :math:`-w_t\,\delta_{kt}` (0 for an ignored sample),
    divided by :math:`\sum_n w_{t_n}` over the samples kept for ``reduction="mean"``.

    Examples
    --------
    >>> nll_loss_grad(np.log([[0.5, 0.5]]), [1]).tolist()
    [[0.0, -1.0]]
    """
    reduction = check_reduction(reduction)
    lp = as_float_array(log_probs, "log_probs")
    if lp.ndim == 0 or lp.shape[-1] == 0:
        raise ValueError("log_probs must have at least one dimension with at least one class")
    t_raw = np.asarray(target)
    if t_raw.shape != lp.shape[:-1]:
        raise ValueError(
            f"target must have shape log_probs.shape[:-1]={lp.shape[:-1]}, got {t_raw.shape}"
        )
    ignore = _check_ignore_index(ignore_index)
    if weight is not None or ignore is not None:
        row_w, t = _nll_row_weights(lp, t_raw, weight, ignore)
        g = np.zeros_like(lp)
        np.put_along_axis(g, t[..., None], -row_w[..., None], axis=-1)
        return _scale_weighted(g, reduction, float(row_w.sum()), "log_probs")
    t = as_index_array(t_raw, "target", lp.shape[-1])
    g = np.zeros_like(lp)
    np.put_along_axis(g, t[..., None], -1.0, axis=-1)
    return _scale(g, reduction, lp.size // lp.shape[-1], "log_probs")


def softmax_jacobian(z: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Jacobian of the softmax, :math:`J_{ij} = \partial p_i/\partial z_j`.

    .. math::

        J_{ij} = p_i\,(\delta_{ij} - p_j), \qquad p = \operatorname{softmax}(z).

    In matrix form :math:`J = \operatorname{diag}(p) - p\,p^{\top}`, symmetric, with
    rows summing to 0.

    Parameters
    ----------
    z : array_like
        Logits with the class axis ``axis`` of length :math:`K`.
    axis : int, default -1

    Returns
    -------
    numpy.ndarray
        Shape ``(..., K, K)``: the batch axes (``z``'s shape without ``axis``)
        followed by the two class axes.

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0]).tolist()
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    z_arr = as_float_array(z, "z", check_nan=False)
    axis = check_axis(axis, z_arr.ndim)
    p = np.moveaxis(_softmax(z_arr, axis), axis, -1)
    jac = -p[..., :, None] * p[..., None, :]
    # Diagonal p_i (1 - p_i) with 1 - p_i taken as the sum of the other p_j (the sums
    # before and after i): positive terms, so nothing cancels when p_i is near 1.
    before = np.zeros_like(p)
    np.cumsum(p[..., :-1], axis=-1, out=before[..., 1:])
    after = np.zeros_like(p)
    np.cumsum(p[..., :0:-1], axis=-1, out=after[..., -2::-1])
    diag = np.arange(p.shape[-1])
    jac[..., diag, diag] = p * (before + after)
    return jac


# ------------------------------------------------------------------- checking


def numerical_gradient(
    f: Callable[[np.ndarray], Any], x: ArrayLike, h: float | ArrayLike | None = None
) -> Any:
    r"""Gradient of a scalar function by central differences.

    .. math::

        \frac{\partial f}{\partial x_i} \approx
        \frac{f(x + h_i e_i) - f(x - h_i e_i)}{(x_i + h_i) - (x_i - h_i)},

    with the default step :math:`h_i = \epsilon^{1/3} \max(1, |x_i|)` (about
    :math:`6 \times 10^{-6}` for :math:`|x_i| \le 1`), which balances the
    :math:`O(h^2)` truncation error against rounding.  The denominator uses the
    steps as actually represented in floating point.

    Parameters
    ----------
    f : callable
        Maps a float64 array shaped like ``x`` (a fresh copy each call) to a real
        scalar.
    x : array_like
        The point (any shape; a scalar is allowed).
    h : float or array_like, optional
        Step(s), positive; a scalar or an array shaped like ``x``.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The gradient, shaped like ``x``.

    Examples
    --------
    >>> round(float(numerical_gradient(lambda v: v**3, 2.0)), 6)
    12.0
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    x_arr = as_float_array(x, "x")
    if not np.isfinite(x_arr).all():
        raise ValueError("x must be finite")
    if h is None:
        steps = np.cbrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x_arr))
    else:
        steps = as_float_array(h, "h")
        if steps.shape not in ((), x_arr.shape):
            raise ValueError(
                f"h must be a scalar or have x's shape {x_arr.shape}, got {steps.shape}"
            )
        if not (np.isfinite(steps).all() and (steps > 0).all()):
            raise ValueError("h must be positive and finite")
        steps = np.broadcast_to(steps, x_arr.shape)
    flat_x = x_arr.ravel()
    flat_h = steps.ravel()
    grad = np.empty(flat_x.size)
    for i in range(flat_x.size):
        up, down = flat_x.copy(), flat_x.copy()
        up[i] += flat_h[i]
        down[i] -= flat_h[i]
        f_up = _scalar_value(f(up.reshape(x_arr.shape)))
        f_down = _scalar_value(f(down.reshape(x_arr.shape)))
        grad[i] = (f_up - f_down) / (up[i] - down[i])
    return finish(grad.reshape(x_arr.shape))


def _scalar_value(value: Any) -> float:
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"f must return a real scalar, got {type(value).__name__} with shape {arr.shape}"
        )
    return float(arr.reshape(()))


def _power_of_ten_bound(value: float) -> str:
    """The smallest power of ten that is >= value, as text (stable across machines)."""
    if value == 0.0:
        return "0"
    if not math.isfinite(value):
        return repr(value)
    return f"1e{math.ceil(math.log10(value)):+03d}"


@dataclass(frozen=True)
class GradientCheck:
    """Result of :func:`check_gradient`: truthy when the gradients agree.

    Attributes
    ----------
    analytic, numeric : numpy.ndarray
        The gradient under test and the central-difference estimate.
    max_abs_error : float
        :math:`\\max_i |g_i - \\hat g_i|`.
    max_rel_error : float
        :math:`\\max_i |g_i - \\hat g_i| / \\max(|g_i|, |\\hat g_i|)` (0 where both are 0).
    ok : bool
        Every entry satisfies :math:`|g_i - \\hat g_i| \\le atol + rtol\\,|\\hat g_i|`.
    rtol, atol : float
        The tolerances used.
    """

    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)
    max_abs_error: float
    max_rel_error: float
    ok: bool
    rtol: float
    atol: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        mark = "✔ gradient check passed" if self.ok else "✘ gradient check FAILED"
        return (
            f"{mark}: {self.analytic.size} entries, max abs error <= "
            f"{_power_of_ten_bound(self.max_abs_error)}, max rel error <= "
            f"{_power_of_ten_bound(self.max_rel_error)} (rtol={self.rtol:g}, atol={self.atol:g})"
        )

    def _repr_markdown_(self) -> str:
        return str(self)


def check_gradient(
    f: Callable[[np.ndarray], Any],
    grad: Callable[[np.ndarray], ArrayLike] | ArrayLike,
    x: ArrayLike,
    *,
    h: float | ArrayLike | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> GradientCheck:
    """Compare a gradient with central differences of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        Scalar function of an array shaped like ``x``.
    grad : callable or array_like
        The gradient to check: a function of ``x`` or the array :math:`\\nabla f(x)`.
    x : array_like
        The point.
    h : float or array_like, optional
        Steps for :func:`numerical_gradient`.
    rtol, atol : float
        Tolerances: every entry must satisfy
        :math:`|g_i - \\hat g_i| \\le atol + rtol\\,|\\hat g_i|`.

    Returns
    -------
    GradientCheck
        Truthy when the check passes; ``print`` it for a one-line summary.

    Examples
    --------
    >>> bool(check_gradient(lambda v: float((v**2).sum()), lambda v: 2 * v, [1.0, -2.0]))
    True
    """
    rtol = check_real_scalar(rtol, "rtol", lo=0.0)
    atol = check_real_scalar(atol, "atol", lo=0.0)
    x_arr = as_float_array(x, "x")
    numeric = np.asarray(numerical_gradient(f, x_arr, h), dtype=np.float64)
    analytic_raw = grad(x_arr.copy()) if callable(grad) else grad
    analytic = as_float_array(analytic_raw, "grad")
    if analytic.shape != x_arr.shape:
        raise ValueError(
            f"grad must have x's shape {x_arr.shape}, got {analytic.shape}"
        )
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = np.zeros_like(err)
    np.divide(err, scale, out=rel, where=scale > 0)
    ok = bool(np.all(err <= atol + rtol * np.abs(numeric)))
    return GradientCheck(
        analytic=analytic,
        numeric=numeric,
        max_abs_error=float(err.max(initial=0.0)),
        max_rel_error=float(rel.max(initial=0.0)),
        ok=ok,
        rtol=rtol,
        atol=atol,
    )
