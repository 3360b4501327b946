r"""Loss functions for probabilities and logits, with PyTorch's conventions.

Conventions shared by every function here:

* The class axis is the last one unless an ``axis`` argument says otherwise.
* ``reduction`` is ``"mean"`` (average over the batch; an empty batch raises),
  ``"sum"`` or ``"none"`` (per-sample losses).  ``"mean"`` and ``"sum"`` return a
  NumPy ``float64`` scalar; ``"none"`` returns an array, or a ``float64`` scalar for
  a single sample.
* Elementwise binary losses take two arguments of the same shape; either one may
  also be a scalar, which is broadcast (handy for plotting a loss curve).
* Where the mathematics gives :math:`+\infty` (for example :math:`-\log 0`), the
  result is ``inf``: nothing is clamped.  Terms :math:`0 \cdot \log 0` are 0.
* Losses are computed as sums of non-negative terms, so that small losses keep
  their relative accuracy (a loss of :math:`10^{-30}` is returned as
  :math:`10^{-30}`, not 0).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _rows
from ._summation import accurate_sum
from ._validation import (
    as_float_array,
    as_index_array,
    check_axis,
    check_distribution,
    check_int,
    check_pair_shapes,
    check_probabilities,
    check_real_scalar,
    check_reduction,
    finish,
    reduce,
    value_range,
)
from .numerics import _sigmoid

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "entropy",
    "focal_loss",
    "kl_divergence",
    "mse_loss",
    "nll_loss",
    "smooth_labels",
    "softmax_focal_loss",
]


# --------------------------------------------------------------------------- binary


def _binary_inputs(
    a: ArrayLike, y: ArrayLike, name_a: str, name_y: str = "y"
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Float arrays ``a`` and ``y`` (probabilities in [0, 1]) of a common shape.

    Also returns ``(min, max)`` of ``a``: the reductions that reject NaN give the
    range for free, and callers use it to pick a fast path.
    """
    a_arr = as_float_array(a, name_a, check_nan=False)
    a_range = value_range(a_arr, name_a)
    y_arr = as_float_array(y, name_y, check_nan=False)
    check_probabilities(y_arr, name_y, value_range(y_arr, name_y))
    a_arr, y_arr = check_pair_shapes(a_arr, y_arr, name_a, name_y)
    return a_arr, y_arr, a_range


def _binary_pair(
    a: ArrayLike, y: ArrayLike, name_a: str, name_y: str = "y"
) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays ``a`` and ``y`` (probabilities in [0, 1]) of a common shape."""
    a_arr, y_arr, _ = _binary_inputs(a, y, name_a, name_y)
    return a_arr, y_arr


def _weighted(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``w * v`` with the convention ``0 * v = 0`` even for infinite ``v``."""
    out = np.zeros(np.broadcast_shapes(w.shape, v.shape))
    np.multiply(w, v, out=out, where=w != 0)
    return out


def _check_weight_vector(weight: ArrayLike, num_classes: int, name: str = "weight") -> np.ndarray:
    """``weight`` as a float64 vector of ``num_classes`` finite non-negative entries."""
    w = as_float_array(weight, name)
    if w.shape != (num_classes,):
        raise ValueError(
            f"{name} must have shape ({num_classes},), one weight per class, got {w.shape}"
        )
    if w.size and not (np.isfinite(w).all() and w.min() >= 0.0):
        bad = w[~(np.isfinite(w) & (w >= 0.0))][0]
        raise ValueError(f"{name} must hold finite weights >= 0, found {float(bad)!r}")
    return w


def _check_nonnegative(x: ArrayLike, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as finite non-negative float64 values broadcastable to ``shape``."""
    arr = as_float_array(x, name)
    try:
        np.broadcast_shapes(arr.shape, shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {arr.shape} does not broadcast to the input's shape {shape}"
        ) from None
    if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0.0):
        raise ValueError(f"{name} must hold finite values >= 0")
    return arr


def _check_ignore_index(ignore_index: Any) -> int | None:
    """``None`` or an integer class index to ignore."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an integer or None, got {ignore_index!r}")
    return int(ignore_index)


def _split_ignored(
    target: np.ndarray, ignore_index: int | None, num_classes: int, name: str = "target"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Class indices with the ignored entries replaced by 0, and the mask of those entries.

    The entries equal to ``ignore_index`` may lie outside ``0..num_classes-1`` (PyTorch's
    default ``-100`` does); every other entry must be a valid class index.
    """
    if ignore_index is None:
        return as_index_array(target, name, num_classes), None
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class indices (an integer dtype), got dtype {target.dtype}"
        )
    mask = target == ignore_index
    kept = as_index_array(np.where(mask, 0, target), name, num_classes)
    return kept, mask


def _weighted_mean(loss: np.ndarray, denominator: float, name: str) -> Any:
    """``sum(loss) / denominator`` for a weighted or masked mean; 0/0 raises."""
    if denominator == 0.0:
        raise ValueError(
            f'{name}: reduction="mean" divides by the total weight of the targets that are '
            'not ignored, which is 0 here (every target ignored or of weight 0); '
            'use reduction="sum" or "none"'
        )
    return np.float64(loss.sum() / denominator)


def binary_cross_entropy(p: ArrayLike, y: ArrayLike, reduction: str = "mean") -> Any:
    r"""Binary cross-entropy of predicted probabilities ``p`` against targets ``y``.

    .. math::

        \ell(p, y) = -\,y \log p - (1 - y) \log(1 - p),

    with :math:`0 \log 0 = 0`; :math:`\log(1-p)` is evaluated as
    :math:`\operatorname{log1p}(-p)`.  Unlike PyTorch, which clamps the logarithm
    at :math:`-100`, a confident wrong prediction (``p = 0`` with ``y = 1``) gives
    ``inf``.  Prefer :func:`binary_cross_entropy_with_logits` when logits are at
    hand.

    Parameters
    ----------
    p : array_like
        Predicted probabilities in :math:`[0, 1]`.
    y : array_like
        Targets in :math:`[0, 1]` (0/1 labels or soft labels), same shape as ``p``
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
    p, y, p_range = _binary_inputs(p, y, "p")
    check_probabilities(p, "p", p_range)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        log_q = np.log1p(-p)
    loss = _weighted(y, log_p)
    loss += _weighted(1.0 - y, log_q)
    np.negative(loss, out=loss)
    return reduce(loss, reduction, "p")


def _bce_logits(
    z: np.ndarray, y: np.ndarray, z_range: tuple[float, float] | None = None
) -> np.ndarray:
    r"""Per-element binary cross-entropy from logits, no checks.

    .. math::

        y\operatorname{sp}(-z) + (1-y)\operatorname{sp}(z)
        = (1 - y)\max(z, 0) - y\min(z, 0) + \operatorname{log1p}(e^{-|z|}),

    three non-negative terms (nothing cancels); the first two are :math:`(1-y)z`
    for :math:`z > 0` and :math:`-yz` for :math:`z \le 0`.  ``z_range`` is
    ``(min, max)`` of ``z`` if the caller has it.  With finite logits the sum is
    built in two arrays by in-place passes; with an infinite logit the products are
    taken with :math:`0 \cdot \infty = 0` (``y = 1`` at ``z = +inf``, ``y = 0`` at
    ``z = -inf`` give loss 0).
    """
    if z_range is None:
        z_range = (float(z.min()), float(z.max())) if z.size else (0.0, 0.0)
    shape = np.broadcast_shapes(z.shape, y.shape)
    if not (np.isfinite(z_range[0]) and np.isfinite(z_range[1])):
        loss = np.log1p(np.exp(-np.abs(z)))
        w = np.where(z > 0, 1.0 - y, -y)
        loss += _weighted(w, z)
        return np.asarray(loss)
    loss = np.maximum(z, 0.0, out=np.empty(shape))
    tmp = np.subtract(1.0, y, out=np.empty(shape))
    loss *= tmp  # (1 - y) max(z, 0) >= 0
    np.minimum(z, 0.0, out=tmp)
    tmp *= y
    loss -= tmp  # minus y min(z, 0) <= 0
    np.copysign(z, -1.0, out=tmp)  # -|z|
    np.exp(tmp, out=tmp)
    np.log1p(tmp, out=tmp)
    loss += tmp
    return loss


def binary_cross_entropy_with_logits(
    z: ArrayLike,
    y: ArrayLike,
    reduction: str = "mean",
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
) -> Any:
    r"""Binary cross-entropy of a sigmoid output, computed from the logit ``z``.

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

    with ``weight`` :math:`w` (any shape that broadcasts to ``z``, for instance one
    weight per element or per output) and ``pos_weight`` :math:`p` (the weight of the
    positive term, broadcast along the last axis: one per output, as PyTorch does).
    It is evaluated as :math:`p\,\big(y\operatorname{softplus}(-z)\big) +
    (1-y)\operatorname{softplus}(z)` with
    :math:`\operatorname{softplus}(x) = \max(x,0) + \operatorname{log1p}(e^{-|x|})`,
    again a sum of non-negative terms.  The mean
    is over all elements and does not divide by the weights (unlike
    :func:`cross_entropy` with ``weight``): it is PyTorch's.  A ``pos_weight`` of
    :math:`p` moves the minimiser in :math:`z` from :math:`\operatorname{logit}(y)`
    to :math:`\operatorname{logit}(y) + \log p`.

    Parameters
    ----------
    z : array_like
        Logits; ``±inf`` allowed (the loss is then 0 or ``inf``), NaN rejected.
    y : array_like
        Targets in :math:`[0, 1]`, same shape as ``z`` (or a scalar).
    reduction : {"mean", "sum", "none"}, default "mean"
    weight : array_like, optional
        Non-negative finite weights that broadcast to ``z``'s shape.
    pos_weight : array_like, optional
        Non-negative finite weights of the positive term, broadcast against ``z``
        (shape ``(C,)`` for ``C`` outputs along the last axis).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        With ``reduction="none"``, an array of the broadcast shape of ``z``, ``y``,
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
    z, y, z_range = _binary_inputs(z, y, "z")
    if weight is None and pos_weight is None:
        return reduce(_bce_logits(z, y, z_range), reduction, "z")
    loss = _bce_logits_options(z, y, weight, pos_weight)
    return reduce(loss, reduction, "z")


def _bce_options(
    z: np.ndarray, y: np.ndarray, weight: ArrayLike | None, pos_weight: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Broadcast ``z``, ``y`` with the checked ``weight`` and ``pos_weight``."""
    shape = z.shape
    w = None if weight is None else _check_nonnegative(weight, "weight", shape)
    pw = None if pos_weight is None else _check_nonnegative(pos_weight, "pos_weight", shape)
    shapes = [shape] + [a.shape for a in (w, pw) if a is not None]
    full = np.broadcast_shapes(*shapes)
    return np.broadcast_to(y, full), w, pw


def _bce_logits_options(
    z: np.ndarray, y: np.ndarray, weight: ArrayLike | None, pos_weight: ArrayLike | None
) -> np.ndarray:
    r"""Per-element :math:`w[p\,y\operatorname{sp}(-z) + (1-y)\operatorname{sp}(z)]`."""
    y, w, pw = _bce_options(z, y, weight, pos_weight)
    if pw is None:
        loss = _bce_logits(np.broadcast_to(z, y.shape), y)
    else:
        tail = np.log1p(np.exp(-np.abs(z)))  # softplus(x) = max(x, 0) + log1p(e^-|x|)
        with np.errstate(over="ignore"):
            # p (y softplus(-z)) + (1 - y) softplus(z): two non-negative terms, and the
            # product p y is never rounded on its own
            loss = _weighted(pw, _weighted(y, np.maximum(-z, 0.0) + tail))
            loss += _weighted(1.0 - y, np.maximum(z, 0.0) + tail)
    if w is not None:
        loss = _weighted(w, loss)
    return np.asarray(loss)


def _focal_modulator(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    r""":math:`1 - p_t = y\,\sigma(-z) + (1-y)\,\sigma(z)`, computed without cancellation."""
    q = _weighted(y, _sigmoid(-z))
    q += _weighted(1.0 - y, _sigmoid(z))
    return q


def _check_gamma(gamma: Any) -> float:
    return check_real_scalar(gamma, "gamma", lo=0.0)


def _check_alpha(alpha: Any) -> float | None:
    if alpha is None:
        return None
    return check_real_scalar(alpha, "alpha", lo=0.0, hi=1.0)


def focal_loss(
    z: ArrayLike,
    y: ArrayLike,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "mean",
) -> Any:
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
    z : array_like
        Logits (``±inf`` allowed, NaN rejected).
    y : array_like
        Targets in :math:`[0, 1]`, same shape as ``z`` (or a scalar).
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
    >>> bool(focal_loss(1.5, 1.0, gamma=0.0) == binary_cross_entropy_with_logits(1.5, 1.0))
    True
    """
    reduction = check_reduction(reduction)
    gamma = _check_gamma(gamma)
    alpha = _check_alpha(alpha)
    z, y, z_range = _binary_inputs(z, y, "z")
    loss = _bce_logits(z, y, z_range)
    if gamma != 0.0:
        loss = _weighted(np.power(_focal_modulator(z, y), gamma), loss)
    if alpha is not None:
        loss = _weighted(alpha * y + (1.0 - alpha) * (1.0 - y), loss)
    return reduce(loss, reduction, "z")


def mse_loss(pred: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Any:
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


# ------------------------------------------------------------------------ categorical


def _prepare_logits(logits: ArrayLike, axis: Any) -> tuple[np.ndarray, int]:
    z = as_float_array(logits, "logits", check_nan=False)
    axis = check_axis(axis, z.ndim)
    return z, axis


def _split_target(
    target: ArrayLike, z: np.ndarray, axis: int
) -> tuple[str, np.ndarray]:
    """Classify ``target`` as ``("index", ints)`` or ``("prob", floats)``; check it."""
    if isinstance(target, str | bytes):
        raise TypeError("target must be integer class indices or probabilities, got a string")
    t = np.asarray(target)
    num_classes = z.shape[axis]
    batch_shape = z.shape[:axis] + z.shape[axis + 1 :]
    if t.dtype.kind not in "biuf":
        raise TypeError(
            f"target must be integer class indices or probabilities, got dtype {t.dtype}"
        )
    if t.shape == z.shape and t.ndim > 0 and t.shape != batch_shape:
        probs = as_float_array(t, "target")
        check_distribution(probs, "target", axis)
        return "prob", probs
    if t.shape == batch_shape:
        if t.dtype.kind not in "iu":
            raise TypeError(
                "target of shape logits.shape without the class axis must hold integer "
                f"class indices, got dtype {t.dtype}"
            )
        return "index", as_index_array(t, "target", num_classes)
    raise ValueError(
        f"target must have shape {batch_shape} (class indices) or {z.shape} "
        f"(probabilities) for logits of shape {z.shape} with class axis {axis}; "
        f"got target.shape={t.shape}"
    )


def _ce_parts(
    z: np.ndarray, axis: int, need_shift_sum: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Shift ``m``, :math:`\operatorname{log1p}(t)`, ``idx`` and optionally
    :math:`\sum_k (m - z_k)`, all with keepdims along ``axis``."""
    idx, m, t, d = _rows.lse_parts(z, axis, "logits", keep_shifted=need_shift_sum)
    shift_sum = None if d is None else -d.sum(axis=axis, keepdims=True)
    return m, np.log1p(t), idx, shift_sum


#: Largest spread max(z) - min(z) for :func:`_ce_index_by_target`: the sum s stays
#: below K e^600, far from overflow, and above e^-600, far from the subnormals.
_TARGET_SHIFT_SPAN = 600.0


def _ce_index_by_target(z: np.ndarray, target: np.ndarray, axis: int) -> np.ndarray | None:
    r"""Cross-entropy with class indices, shifted by the target logit; ``None`` if unsafe.

    .. math::

        -\log\operatorname{softmax}(z)_t = \log\Big(1 + \sum_{k \ne t} e^{z_k - z_t}\Big)
        = \operatorname{log1p}(s), \qquad
        s = \frac{\sum_{k \ne t} e^{z_k}}{e^{z_t}}.

    A sum of positive terms, one division and ``log1p``: nothing cancels, and a tiny
    loss (a confident correct prediction, :math:`s \ll 1`) keeps its relative
    accuracy, as with the shift by the maximum.  No search for the maximum is needed,
    which makes this the fast path for many short rows.  It is taken when every
    logit lies in ``_rows.DIRECT_RANGE`` (each :math:`e^{z_k}` is a normal number) and
    :math:`\max z - \min z \le` ``_TARGET_SHIFT_SPAN`` (so :math:`s` cannot
    overflow); otherwise (and for NaN or infinite logits) it returns ``None``.
    """
    if z.size == 0:
        return None
    lo, hi = float(z.min()), float(z.max())  # NaN fails every comparison below
    low, high = _rows.DIRECT_RANGE
    if not (low <= lo and hi <= high and hi - lo <= _TARGET_SHIFT_SPAN):
        return None
    rows = _rows.as_rows(z, axis, "logits")
    targets = target.reshape(-1, 1)
    loss = np.empty((rows.shape[0], 1))
    for rs, (e, tmp, *_) in _rows.row_blocks(*rows.shape):
        np.exp(rows[rs], out=e)
        e_t = np.take_along_axis(e, targets[rs], axis=1)
        np.put_along_axis(e, targets[rs], 0.0, axis=1)
        s = accurate_sum(e, 1, work=tmp)
        s /= e_t
        loss[rs] = np.log1p(s, out=s)
    return _rows.from_rows(loss, z, axis)


def _ce_index(z: np.ndarray, target: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """Per-sample cross-entropy with class indices (keepdims along ``axis``)."""
    if eps == 0.0:
        fast = _ce_index_by_target(z, target, axis)
        if fast is not None:
            return fast
    m, lp, _, shift_sum = _ce_parts(z, axis, need_shift_sum=eps > 0.0)
    z_t = np.take_along_axis(z, np.expand_dims(target, axis), axis=axis)
    loss = np.subtract(m, z_t)  # >= 0
    if shift_sum is not None:
        num_classes = z.shape[axis]
        loss *= 1.0 - eps
        loss += (eps / num_classes) * shift_sum
    loss += lp
    return loss


def _ce_prob(z: np.ndarray, y: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """Per-sample cross-entropy with probability targets (keepdims along ``axis``)."""
    m, lp, _, _ = _ce_parts(z, axis, need_shift_sum=False)
    if eps > 0.0:
        y = (1.0 - eps) * y + eps / z.shape[axis]
    gaps = np.subtract(m, z)  # >= 0, +inf where z = -inf
    loss = _weighted(y, gaps).sum(axis=axis, keepdims=True)
    loss += y.sum(axis=axis, keepdims=True) * lp
    return loss


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int = -1,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    *,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
) -> Any:
    r"""Cross-entropy of softmax(``logits``) against class indices or probabilities.

    For a sample with logits :math:`z \in \mathbb{R}^K` and target distribution
    :math:`y` (one-hot for an index target),

    .. math::

        \ell(z, y) = -\sum_k y_k \log\operatorname{softmax}(z)_k
                   = \sum_k y_k \,(m - z_k) + \Big(\sum_k y_k\Big)\operatorname{log1p}(t),

    with :math:`m = \max_k z_k` and :math:`t = \sum_{k \ne k^*} e^{z_k - m}`: every
    term is non-negative, so tiny losses stay accurate.  For class indices without
    smoothing, when every logit lies in :math:`[-708, 690]` and their spread is at
    most 600, the same loss is computed as
    :math:`\operatorname{log1p}\big(\sum_{k \ne t} e^{z_k} / e^{z_t}\big)`, shifted
    by the target's logit instead of the maximum: equally free of cancellation and
    faster, as it needs no search for the maximum.  Label smoothing follows
    PyTorch: the target becomes :math:`(1-\varepsilon)\,y + \varepsilon/K` (see
    :func:`smooth_labels`, convention ``"uniform"``).

    ``weight`` and ``ignore_index`` have PyTorch's semantics.  With class weights
    :math:`w` and a class-index target :math:`t`, a sample's loss is

    .. math::

        \ell = (1-\varepsilon)\, w_t\,(-\log q_t)
              + \frac{\varepsilon}{K}\sum_k w_k\,(-\log q_k),
        \qquad q = \operatorname{softmax}(z),

    a sample whose target equals ``ignore_index`` has loss 0, and
    ``reduction="mean"`` divides the sum by :math:`\sum_n w_{t_n}` over the samples
    that are not ignored (their number without weights), so that the mean is a
    weighted average of the per-sample cross-entropies.  With probability targets
    the loss is :math:`-\sum_k w_k y_k \log q_k` (after smoothing) and the mean
    divides by the number of samples; ``ignore_index`` is then not allowed.  Where
    PyTorch returns NaN for a mean over zero total weight (every target ignored),
    this function raises :class:`ValueError`.

    Parameters
    ----------
    logits : array_like
        Logits with the class axis ``axis`` (length :math:`K \ge 1`); ``-inf``
        entries are allowed (probability 0), ``+inf`` and NaN raise.
    target : array_like
        Either integer class indices of shape ``logits.shape`` without ``axis``, or
        probabilities of shape ``logits.shape`` summing to 1 along ``axis``.
    axis : int, default -1
        The class axis.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1)`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns one loss per sample (shape ``logits.shape`` without
        ``axis``).
    weight : array_like of shape (K,), optional
        Finite non-negative weight of each class (PyTorch's ``weight``).
    ignore_index : int, optional
        Class-index targets equal to it contribute nothing, not even to the
        denominator of the mean (PyTorch's ``ignore_index``, whose default there is
        ``-100``; here the default ``None`` ignores nothing).

    Returns
    -------
    numpy.float64 or numpy.ndarray

    References
    ----------
    PyTorch documentation of ``torch.nn.CrossEntropyLoss`` (``pytorch_crossentropy``).

    Examples
    --------
    >>> float(cross_entropy([0.0, 0.0], 1)) == float(np.log(2.0))
    True
    >>> float(cross_entropy([[2.0, 0.0, -1.0]], [0], reduction="sum")) > 0
    True
    >>> z = [[0.0, 0.0], [5.0, -5.0]]
    >>> float(cross_entropy(z, [1, -100], ignore_index=-100)) == float(np.log(2.0))
    True
    """
    reduction = check_reduction(reduction)
    eps = check_real_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0, hi_open=True)
    z, axis = _prepare_logits(logits, axis)
    ignore = _check_ignore_index(ignore_index)
    if weight is None and ignore is None:
        kind, t = _split_target(target, z, axis)
        if kind == "index":
            loss = _ce_index(z, t, axis, eps)
        else:
            loss = _ce_prob(z, t, axis, eps)
        return reduce(np.squeeze(loss, axis=axis), reduction, "logits")
    opts = _ce_options(z, target, axis, weight, ignore)
    loss = np.squeeze(_ce_weighted_loss(z, opts, axis, eps), axis=axis)
    if reduction == "mean":
        return _weighted_mean(loss, opts.denominator, "logits")
    return reduce(loss, reduction, "logits")


@dataclass(frozen=True)
class _CEOptions:
    """Checked target, class weights and ignore mask of a weighted cross-entropy.

    ``target`` holds class indices (ignored entries replaced by 0) or probabilities;
    ``weight`` is ``None`` or the class weights shaped to broadcast along the class
    axis; ``keep`` is ``None`` or the mask (keepdims) of the samples that count;
    ``row_weight`` the weight of each sample's target class (keepdims, 0 where
    ignored) for index targets; ``denominator`` what ``reduction="mean"`` divides by.
    """

    kind: str
    target: np.ndarray
    weight: np.ndarray | None
    keep: np.ndarray | None
    row_weight: np.ndarray | None
    denominator: float


def _ce_options(
    z: np.ndarray, target: ArrayLike, axis: int, weight: ArrayLike | None, ignore: int | None
) -> _CEOptions:
    """Check ``target``, ``weight`` and ``ignore_index`` together (see :class:`_CEOptions`)."""
    num_classes = z.shape[axis]
    w = None if weight is None else _check_weight_vector(weight, num_classes)
    w_b = None
    if w is not None:
        shape = [1] * z.ndim
        shape[axis] = num_classes
        w_b = w.reshape(shape)
    t_raw = np.asarray(target) if not isinstance(target, str | bytes) else target
    batch_shape = z.shape[:axis] + z.shape[axis + 1 :]
    if ignore is not None and isinstance(t_raw, np.ndarray) and t_raw.shape == batch_shape:
        kept, mask = _split_ignored(t_raw, ignore, num_classes)
        t_keep = np.expand_dims(kept, axis)
        keep = np.expand_dims(~mask, axis)  # type: ignore[operator]
        if w is None:
            row_w = keep.astype(np.float64)
        else:
            row_w = np.where(keep, w[t_keep], 0.0)
        return _CEOptions("index", kept, w_b, keep, row_w, float(row_w.sum()))
    kind, t = _split_target(target, z, axis)
    if kind == "prob":
        if ignore is not None:
            raise ValueError(
                "ignore_index applies to class-index targets only, not to probability "
                "targets (PyTorch rejects it there too)"
            )
        return _CEOptions("prob", t, w_b, None, None, float(z.size // max(num_classes, 1)))
    t_keep = np.expand_dims(t, axis)
    row_w = np.ones(t_keep.shape) if w is None else w[t_keep]
    return _CEOptions("index", t, w_b, None, row_w, float(row_w.sum()))


def _ce_weighted_loss(z: np.ndarray, o: _CEOptions, axis: int, eps: float) -> np.ndarray:
    """Per-sample weighted cross-entropy (keepdims along ``axis``), 0 where ignored."""
    num_classes = z.shape[axis]
    if o.kind == "prob":
        y = o.target
        if eps > 0.0:
            y = (1.0 - eps) * y + eps / num_classes
        if o.weight is not None:
            y = o.weight * y
        m, lp, _, _ = _ce_parts(z, axis, need_shift_sum=False)
        loss = _weighted(y, np.subtract(m, z)).sum(axis=axis, keepdims=True)
        loss += y.sum(axis=axis, keepdims=True) * lp
        return loss
    assert o.row_weight is not None
    if o.weight is None:  # only ignore_index: the unweighted loss with rows masked
        loss = _ce_index(z, o.target, axis, eps)
    elif eps == 0.0:
        loss = _ce_index(z, o.target, axis, 0.0)
    else:
        # (1 - eps) w_t (-log q_t) + (eps/K) sum_k w_k (-log q_k), with
        # -log q_k = (m - z_k) + log1p(t): non-negative terms only
        m, lp, _, _ = _ce_parts(z, axis, need_shift_sum=False)
        gaps = np.subtract(m, z)  # >= 0
        t_keep = np.expand_dims(o.target, axis)
        nll_t = np.take_along_axis(gaps, t_keep, axis=axis) + lp
        spread = _weighted(o.weight, gaps).sum(axis=axis, keepdims=True)
        spread += o.weight.sum() * lp
        loss = _weighted((1.0 - eps) * o.row_weight, nll_t)
        loss += (eps / num_classes) * spread
        return _masked(loss, o.keep)
    if o.weight is not None:
        loss = _weighted(o.row_weight, loss)
    return _masked(loss, o.keep)


def _masked(loss: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """``loss`` with the ignored samples set to 0."""
    if keep is None:
        return loss
    return np.where(keep, loss, 0.0)


def softmax_focal_loss(
    logits: ArrayLike, target: ArrayLike, gamma: float = 2.0, reduction: str = "mean"
) -> Any:
    r"""Multi-class focal loss :math:`-(1 - p_t)^{\gamma} \log p_t` with softmax probabilities.

    :math:`p_t = \operatorname{softmax}(z)_t` for the class index :math:`t`.  The
    cross-entropy :math:`-\log p_t` comes from :func:`cross_entropy` and
    :math:`1 - p_t = -\operatorname{expm1}(\log p_t)`, so neither factor suffers
    cancellation.  ``gamma = 0`` gives the cross-entropy exactly.

    Parameters
    ----------
    logits : array_like
        Logits, classes along the last axis.
    target : array_like of int
        Class indices of shape ``logits.shape[:-1]``.
    gamma : float, default 2.0
        Focusing parameter, :math:`\gamma \ge 0`.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> z = [[3.0, 0.0, -1.0]]
    >>> bool(softmax_focal_loss(z, [0], gamma=0.0) == cross_entropy(z, [0]))
    True
    """
    reduction = check_reduction(reduction)
    gamma = _check_gamma(gamma)
    z, axis = _prepare_logits(logits, -1)
    kind, t = _split_target(target, z, axis)
    if kind != "index":
        raise TypeError("softmax_focal_loss needs integer class indices as target")
    ce = np.squeeze(_ce_index(z, t, axis, 0.0), axis=axis)
    if gamma != 0.0:
        q = -np.expm1(-ce)  # 1 - p_t
        ce = _weighted(np.power(q, gamma), ce)
    return reduce(ce, reduction, "logits")


def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    reduction: str = "mean",
    *,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
) -> Any:
    r"""Negative log-likelihood :math:`-\log q_t` of the target class.

    Picks :math:`-\,\text{log\_probs}[\ldots, t]`; with ``log_probs =
    log_softmax(z)`` this equals :func:`cross_entropy` ``(z, t)``.  With PyTorch's
    options a sample's loss is :math:`-w_t \log q_t`, 0 for a target equal to
    ``ignore_index``, and the mean divides by :math:`\sum_n w_{t_n}` over the
    samples that are not ignored (as :func:`cross_entropy` does).

    Parameters
    ----------
    log_probs : array_like
        Log-probabilities (all :math:`\le 0`), classes along the last axis.
    target : array_like of int
        Class indices of shape ``log_probs.shape[:-1]``.
    reduction : {"mean", "sum", "none"}, default "mean"
    weight : array_like of shape (K,), optional
        Finite non-negative weight of each class.
    ignore_index : int, optional
        Targets equal to it are ignored (PyTorch's default is ``-100``; here ``None``).

    Returns
    -------
    numpy.float64 or numpy.ndarray

    References
    ----------
    PyTorch documentation of ``torch.nn.NLLLoss`` (``pytorch_nllloss``).

    Examples
    --------
    >>> float(nll_loss(np.log([[0.25, 0.75]]), [1])) == -float(np.log(0.75))
    True
    >>> lp = np.log([[0.25, 0.75]] * 2)
    >>> float(nll_loss(lp, [1, 0], weight=[3.0, 1.0]))  # (1 * L1 + 3 * L0) / (1 + 3)
    1.111641288952863
    """
    reduction = check_reduction(reduction)
    lp = as_float_array(log_probs, "log_probs")
    if lp.ndim == 0:
        raise ValueError("log_probs must have at least one dimension (the class axis)")
    if lp.shape[-1] == 0:
        raise ValueError("log_probs must have at least one class along the last axis")
    if lp.size and lp.max() > 0.0:
        raise ValueError(
            f"log_probs must hold log-probabilities (<= 0), found {float(lp.max())!r}"
        )
    if isinstance(target, str | bytes):
        raise TypeError("target must hold integer class indices, got a string")
    t_raw = np.asarray(target)
    if t_raw.shape != lp.shape[:-1]:
        raise ValueError(
            f"target must have shape log_probs.shape[:-1]={lp.shape[:-1]}, got {t_raw.shape}"
        )
    ignore = _check_ignore_index(ignore_index)
    if weight is None and ignore is None:
        t = as_index_array(t_raw, "target", lp.shape[-1])
        loss = -np.take_along_axis(lp, t[..., None], axis=-1)[..., 0]
        return reduce(loss, reduction, "log_probs")
    row_w, t = _nll_row_weights(lp, t_raw, weight, ignore)
    loss = _weighted(row_w, -np.take_along_axis(lp, t[..., None], axis=-1)[..., 0])
    if reduction == "mean":
        return _weighted_mean(loss, float(row_w.sum()), "log_probs")
    return reduce(loss, reduction, "log_probs")


def _nll_row_weights(
    lp: np.ndarray, t_raw: np.ndarray, weight: ArrayLike | None, ignore: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Weight of each sample's target (0 where ignored) and the indices (ignored -> 0)."""
    t, mask = _split_ignored(t_raw, ignore, lp.shape[-1])
    row_w = np.ones(t.shape) if weight is None else _check_weight_vector(weight, lp.shape[-1])[t]
    if mask is not None:
        row_w = np.where(mask, 0.0, row_w)
    return row_w, t


# ----------------------------------------------------------------------- information


def _prob_array(p: ArrayLike, name: str, axis: Any) -> tuple[np.ndarray, int]:
    arr = as_float_array(p, name)
    axis = check_axis(axis, arr.ndim)
    if arr.shape[axis] == 0:
        raise ValueError(f"{name} must have at least one entry along axis {axis}")
    check_distribution(arr, name, axis)
    return arr, axis


def entropy(p: ArrayLike, axis: int = -1) -> Any:
    r"""Shannon entropy in nats, :math:`H(p) = -\sum_k p_k \log p_k` (with :math:`0 \log 0 = 0`).

    Parameters
    ----------
    p : array_like
        Probability vectors along ``axis`` (entries in :math:`[0, 1]`, summing to 1
        within :math:`10^{-6}`).
    axis : int, default -1

    Returns
    -------
    numpy.float64 or numpy.ndarray
        One entropy per distribution.

    Examples
    --------
    >>> float(entropy([0.5, 0.5])) == float(np.log(2.0))
    True
    """
    arr, axis = _prob_array(p, "p", axis)
    with np.errstate(divide="ignore"):
        logs = np.log(arr)
    return finish(-_weighted(arr, logs).sum(axis=axis))


def kl_divergence(p: ArrayLike, q: ArrayLike, axis: int = -1) -> Any:
    r"""Kullback-Leibler divergence :math:`D(p \,\|\, q) = \sum_k p_k (\log p_k - \log q_k)`.

    In nats, with :math:`0 \log(0/q) = 0` and :math:`p \log(p/0) = +\infty` for
    :math:`p > 0`.  The logarithms are taken separately, so :math:`p/q` never
    overflows.

    Parameters
    ----------
    p, q : array_like
        Probability vectors of the same shape along ``axis``.
    axis : int, default -1

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(kl_divergence([0.5, 0.5], [0.5, 0.5]))
    0.0
    >>> float(kl_divergence([1.0, 0.0], [0.0, 1.0]))
    inf
    """
    p_arr, axis = _prob_array(p, "p", axis)
    q_arr, _ = _prob_array(q, "q", axis)
    if p_arr.shape != q_arr.shape:
        raise ValueError(
            f"p and q must have the same shape, got p.shape={p_arr.shape}, q.shape={q_arr.shape}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.log(p_arr) - np.log(q_arr)
    return finish(_weighted(p_arr, diff).sum(axis=axis))


def smooth_labels(
    target: ArrayLike, num_classes: int, eps: float, convention: str = "uniform"
) -> np.ndarray:
    r"""Label-smoothed target distributions, in one of two named conventions.

    For a one-hot target with true class :math:`t` and :math:`K` classes:

    ``"uniform"`` (PyTorch's ``label_smoothing``; Szegedy et al. 2016)
        :math:`\varepsilon/K` is added on every class:
        :math:`y_t = 1 - \varepsilon + \varepsilon/K`, :math:`y_k = \varepsilon/K`.
        In general :math:`y' = (1-\varepsilon)\,y + \varepsilon/K`.
    ``"others"``
        the true class keeps :math:`1 - \varepsilon` and each of the
        :math:`K - 1` wrong classes gets :math:`\varepsilon/(K-1)`.  In general
        :math:`y' = (1-\varepsilon)\,y + \varepsilon (1 - y)/(K-1)`.

    The two agree when :math:`\varepsilon_\text{others} =
    \varepsilon_\text{uniform}\,(K-1)/K`.

    Parameters
    ----------
    target : array_like
        Integer class indices of any shape, or probability vectors of shape
        ``(..., num_classes)``.
    num_classes : int
        :math:`K` (at least 1; at least 2 for ``"others"``).
    eps : float
        :math:`\varepsilon \in [0, 1)`.
    convention : {"uniform", "others"}, default "uniform"

    Returns
    -------
    numpy.ndarray
        Shape ``target.shape + (num_classes,)`` for indices, ``target.shape`` for
        probabilities; each row sums to 1.

    Examples
    --------
    >>> [round(v, 12) for v in smooth_labels(0, 4, 0.2).tolist()]
    [0.85, 0.05, 0.05, 0.05]
    >>> [round(v, 12) for v in smooth_labels(0, 4, 0.2, convention="others").tolist()]
    [0.8, 0.066666666667, 0.066666666667, 0.066666666667]
    """
    if not isinstance(convention, str):
        raise TypeError(f'convention must be "uniform" or "others", got {convention!r}')
    if convention not in ("uniform", "others"):
        raise ValueError(f'convention must be "uniform" or "others", got {convention!r}')
    num_classes = check_int(num_classes, "num_classes", lo=2 if convention == "others" else 1)
    eps = check_real_scalar(eps, "eps", lo=0.0, hi=1.0, hi_open=True)
    if isinstance(target, str | bytes):
        raise TypeError("target must be integer class indices or probabilities, got a string")
    t = np.asarray(target)
    if t.dtype.kind in "iu":
        idx = as_index_array(t, "target", num_classes)
        y = (np.arange(num_classes) == idx[..., None]).astype(np.float64)
    elif t.dtype.kind == "f":
        y = as_float_array(t, "target")
        if y.ndim == 0 or y.shape[-1] != num_classes:
            raise ValueError(
                f"probability targets must have num_classes={num_classes} entries along the "
                f"last axis, got target.shape={y.shape} (integer dtype for class indices)"
            )
        check_distribution(y, "target", -1)
    else:
        raise TypeError(
            f"target must be integer class indices or probabilities, got dtype {t.dtype}"
        )
    if convention == "uniform":
        return (1.0 - eps) * y + eps / num_classes
    return (1.0 - eps) * y + (eps / (num_classes - 1)) * (1.0 - y)
