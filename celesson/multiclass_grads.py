r"""Closed-form gradients of the multi-class losses, and the softmax Jacobian.

The conventions are those of :mod:`celesson.grads`, which re-exports every function here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels
from ._ce_kernels import ce_index, ce_options, nll_row_weights, prepare_logits, split_target
from ._loss_options import check_gamma, check_ignore_index, scale_mean, scale_weighted
from ._validation import (
    as_float_array,
    as_index_array,
    check_axis,
    check_real_scalar,
    check_reduction,
)


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
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
    reduction : {"none", "sum", "mean"}, default "mean"

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
    z, axis = prepare_logits(logits, axis)
    ignore = check_ignore_index(ignore_index)
    if weight is not None or ignore is not None:
        return _cross_entropy_grad_weighted(z, target, axis, eps, reduction, weight, ignore)
    kind, t = split_target(target, z, axis)
    num_classes = z.shape[axis]
    g = _kernels.softmax(z, axis, "logits")
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
    return scale_mean(g, reduction, n_samples, "logits")


def _softmax_minus_onehot(z: np.ndarray, t: np.ndarray, axis: int) -> np.ndarray:
    r""":math:`p - e_t`, with the entry of the true class as :math:`-\sum_{k \ne t} p_k`."""
    g = _kernels.softmax(z, axis, "logits")
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
    o = ce_options(z, target, axis, weight, ignore)
    num_classes = z.shape[axis]
    if o.kind == "prob":
        v = o.target if eps == 0.0 else (1.0 - eps) * o.target + eps / num_classes
        if o.weight is not None:
            v = o.weight * v
        g = _kernels.softmax(z, axis, "logits") * v.sum(axis=axis, keepdims=True)
        g -= v
        return scale_weighted(g, reduction, o.denominator, "logits")
    assert o.row_weight is not None
    if o.weight is None:  # ignore_index only: the unweighted gradient, rows masked
        g = cross_entropy_grad(z, o.target, axis=axis, label_smoothing=eps, reduction="none")
    else:
        g = _softmax_minus_onehot(z, o.target, axis)
        g *= (1.0 - eps) * o.row_weight
        if eps > 0.0:
            p = _kernels.softmax(z, axis, "logits")
            g += (eps / num_classes) * (o.weight.sum() * p - o.weight)
    if o.keep is not None:
        g = np.where(o.keep, g, 0.0)
    return scale_weighted(g, reduction, o.denominator, "logits")


def softmax_focal_loss_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    reduction: str = "mean",
    axis: int = -1,
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
        Finite logits, classes along ``axis``.
    target : array_like of int
        Class indices, of the shape of ``logits`` without ``axis``.
    gamma : float, default 2.0
    reduction : {"none", "sum", "mean"}, default "mean"
    axis : int, default -1
        The class axis (PyTorch's class dimension 1 is ``axis=1``).

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
    gamma = check_gamma(gamma)
    z, axis = prepare_logits(logits, axis)
    kind, t = split_target(target, z, axis)
    if kind != "index":
        raise TypeError("softmax_focal_loss_grad needs integer class indices as target")
    t_keep = np.expand_dims(t, axis)
    g = _kernels.softmax(z, axis, "logits")  # rejects NaN and +inf
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite for softmax_focal_loss_grad (found -inf)")
    ce = ce_index(z, t, axis, 0.0)
    q_minus = np.expm1(-ce)  # p_t - 1 = -q
    np.put_along_axis(g, t_keep, q_minus, axis=axis)
    if gamma != 0.0:
        q = -q_minus
        p_t = 1.0 - q
        ratio = np.ones_like(q)  # L / q, -> 1 as q -> 0
        np.divide(ce, q, out=ratio, where=q > 0.0)
        g *= np.power(q, gamma) * (1.0 + gamma * p_t * ratio)
    n_samples = z.size // z.shape[axis]
    return scale_mean(g, reduction, n_samples, "logits")


def nll_loss_grad(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = "mean",
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    axis: int = -1,
) -> np.ndarray:
    r"""Gradient of :func:`~celesson.losses.nll_loss` w.r.t. ``log_probs``: :math:`-\delta_{kt}`.

    Divided by the number of samples for ``reduction="mean"``.  With ``weight`` and
    ``ignore_index`` it is :math:`-w_t\,\delta_{kt}` (0 for an ignored sample),
    divided by :math:`\sum_n w_{t_n}` over the samples kept for ``reduction="mean"``.

    Parameters
    ----------
    log_probs, target, reduction, weight, ignore_index, axis
        As in :func:`~celesson.losses.nll_loss`.

    Returns
    -------
    numpy.ndarray
        The gradient, of the shape of ``log_probs``.

    Examples
    --------
    >>> nll_loss_grad(np.log([[0.5, 0.5]]), [1]).tolist()
    [[0.0, -1.0]]
    """
    reduction = check_reduction(reduction)
    lp = as_float_array(log_probs, "log_probs")
    if lp.ndim == 0:
        raise ValueError("log_probs must have at least one dimension with at least one class")
    axis = check_axis(axis, lp.ndim)
    lp = np.moveaxis(lp, axis, -1)
    if lp.shape[-1] == 0:
        raise ValueError("log_probs must have at least one dimension with at least one class")
    t_raw = np.asarray(target)
    if t_raw.shape != lp.shape[:-1]:
        raise ValueError(
            f"target must have shape log_probs.shape[:-1]={lp.shape[:-1]}, got {t_raw.shape}"
        )
    ignore = check_ignore_index(ignore_index)
    if weight is not None or ignore is not None:
        row_w, t = nll_row_weights(lp, t_raw, weight, ignore)
        g = np.zeros_like(lp)
        np.put_along_axis(g, t[..., None], -row_w[..., None], axis=-1)
        g = np.moveaxis(g, -1, axis)
        return scale_weighted(g, reduction, float(row_w.sum()), "log_probs")
    t = as_index_array(t_raw, "target", lp.shape[-1])
    g = np.zeros_like(lp)
    np.put_along_axis(g, t[..., None], -1.0, axis=-1)
    g = np.moveaxis(g, -1, axis)
    return scale_mean(g, reduction, lp.size // lp.shape[-1], "log_probs")


def softmax_jacobian(z: ArrayLike, *, axis: int = -1) -> np.ndarray:
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
    p = np.moveaxis(_kernels.softmax(z_arr, axis), axis, -1)
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
