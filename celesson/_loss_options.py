"""Checks and kernels shared by the losses and their gradients (package-internal).

:mod:`celesson.binary_losses`, :mod:`celesson.multiclass_losses` and the gradient
modules parse their options (targets, ``weight``, ``pos_weight``, ``ignore_index``,
label smoothing, the focal ``gamma`` and ``alpha``) and evaluate the per-sample terms
with these functions, so a loss and its gradient read their arguments the same way.
Every function assumes the public caller has converted its inputs to float64 arrays.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels, _rows
from ._summation import accurate_sum
from ._validation import (
    as_float_array,
    as_index_array,
    check_axis,
    check_distribution,
    check_pair_shapes,
    check_probabilities,
    check_real_scalar,
    finish,
    value_range,
)


def binary_inputs(
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


def binary_pair(
    a: ArrayLike, y: ArrayLike, name_a: str, name_y: str = "y"
) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays ``a`` and ``y`` (probabilities in [0, 1]) of a common shape."""
    a_arr, y_arr, _ = binary_inputs(a, y, name_a, name_y)
    return a_arr, y_arr


def weighted(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``w * v`` with the convention ``0 * v = 0`` even for infinite ``v``."""
    out = np.zeros(np.broadcast_shapes(w.shape, v.shape))
    np.multiply(w, v, out=out, where=w != 0)
    return out


def check_weight_vector(weight: ArrayLike, num_classes: int, name: str = "weight") -> np.ndarray:
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


def check_nonnegative(x: ArrayLike, name: str, shape: tuple[int, ...]) -> np.ndarray:
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


def check_ignore_index(ignore_index: Any) -> int | None:
    """``None`` or an integer class index to ignore."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an integer or None, got {ignore_index!r}")
    return int(ignore_index)


def split_ignored(
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


def weighted_mean(loss: np.ndarray, denominator: float, name: str) -> Any:
    """``sum(loss) / denominator`` for a weighted or masked mean; 0/0 raises."""
    if denominator == 0.0:
        raise ValueError(
            f'{name}: reduction="mean" divides by the total weight of the targets that are '
            'not ignored, which is 0 here (every target ignored or of weight 0); '
            'use reduction="sum" or "none"'
        )
    return np.float64(loss.sum() / denominator)


def bce_logits(
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
        loss += weighted(w, z)
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


def bce_options(
    z: np.ndarray, y: np.ndarray, weight: ArrayLike | None, pos_weight: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Broadcast ``z``, ``y`` with the checked ``weight`` and ``pos_weight``."""
    shape = z.shape
    w = None if weight is None else check_nonnegative(weight, "weight", shape)
    pw = None if pos_weight is None else check_nonnegative(pos_weight, "pos_weight", shape)
    shapes = [shape] + [a.shape for a in (w, pw) if a is not None]
    full = np.broadcast_shapes(*shapes)
    return np.broadcast_to(y, full), w, pw


def bce_logits_options(
    z: np.ndarray, y: np.ndarray, weight: ArrayLike | None, pos_weight: ArrayLike | None
) -> np.ndarray:
    r"""Per-element :math:`w[p\,y\operatorname{sp}(-z) + (1-y)\operatorname{sp}(z)]`."""
    y, w, pw = bce_options(z, y, weight, pos_weight)
    if pw is None:
        loss = bce_logits(np.broadcast_to(z, y.shape), y)
    else:
        tail = np.log1p(np.exp(-np.abs(z)))  # softplus(x) = max(x, 0) + log1p(e^-|x|)
        with np.errstate(over="ignore"):
            # p (y softplus(-z)) + (1 - y) softplus(z): two non-negative terms, and the
            # product p y is never rounded on its own
            loss = weighted(pw, weighted(y, np.maximum(-z, 0.0) + tail))
            loss += weighted(1.0 - y, np.maximum(z, 0.0) + tail)
    if w is not None:
        loss = weighted(w, loss)
    return np.asarray(loss)


def focal_modulator(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    r""":math:`1 - p_t = y\,\sigma(-z) + (1-y)\,\sigma(z)`, computed without cancellation."""
    q = weighted(y, _kernels.sigmoid(-z))
    q += weighted(1.0 - y, _kernels.sigmoid(z))
    return q


def check_gamma(gamma: Any) -> float:
    return check_real_scalar(gamma, "gamma", lo=0.0)


def check_alpha(alpha: Any) -> float | None:
    if alpha is None:
        return None
    return check_real_scalar(alpha, "alpha", lo=0.0, hi=1.0)


def prepare_logits(logits: ArrayLike, axis: Any) -> tuple[np.ndarray, int]:
    z = as_float_array(logits, "logits", check_nan=False)
    axis = check_axis(axis, z.ndim)
    return z, axis


def split_target(
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


def ce_parts(
    z: np.ndarray, axis: int, need_shift_sum: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Shift ``m``, :math:`\operatorname{log1p}(t)`, ``idx`` and optionally
    :math:`\sum_k (m - z_k)`, all with keepdims along ``axis``."""
    idx, m, t, d = _rows.lse_parts(z, axis, "logits", keep_shifted=need_shift_sum)
    shift_sum = None if d is None else -d.sum(axis=axis, keepdims=True)
    return m, np.log1p(t), idx, shift_sum


def ce_index_by_target(z: np.ndarray, target: np.ndarray, axis: int) -> np.ndarray | None:
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
    :math:`\max z - \min z \le` ``TARGET_SHIFT_SPAN`` (so :math:`s` cannot
    overflow); otherwise (and for NaN or infinite logits) it returns ``None``.
    """
    if z.size == 0:
        return None
    lo, hi = float(z.min()), float(z.max())  # NaN fails every comparison below
    low, high = _rows.DIRECT_RANGE
    if not (low <= lo and hi <= high and hi - lo <= TARGET_SHIFT_SPAN):
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


def ce_index(z: np.ndarray, target: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """Per-sample cross-entropy with class indices (keepdims along ``axis``)."""
    if eps == 0.0:
        fast = ce_index_by_target(z, target, axis)
        if fast is not None:
            return fast
    m, lp, _, shift_sum = ce_parts(z, axis, need_shift_sum=eps > 0.0)
    z_t = np.take_along_axis(z, np.expand_dims(target, axis), axis=axis)
    loss = np.subtract(m, z_t)  # >= 0
    if shift_sum is not None:
        num_classes = z.shape[axis]
        loss *= 1.0 - eps
        loss += (eps / num_classes) * shift_sum
    loss += lp
    return loss


def ce_prob(z: np.ndarray, y: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """Per-sample cross-entropy with probability targets (keepdims along ``axis``)."""
    m, lp, _, _ = ce_parts(z, axis, need_shift_sum=False)
    if eps > 0.0:
        y = (1.0 - eps) * y + eps / z.shape[axis]
    gaps = np.subtract(m, z)  # >= 0, +inf where z = -inf
    loss = weighted(y, gaps).sum(axis=axis, keepdims=True)
    loss += y.sum(axis=axis, keepdims=True) * lp
    return loss


@dataclass(frozen=True)
class CEOptions:
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


def ce_options(
    z: np.ndarray, target: ArrayLike, axis: int, weight: ArrayLike | None, ignore: int | None
) -> CEOptions:
    """Check ``target``, ``weight`` and ``ignore_index`` together (see :class:`CEOptions`)."""
    num_classes = z.shape[axis]
    w = None if weight is None else check_weight_vector(weight, num_classes)
    w_b = None
    if w is not None:
        shape = [1] * z.ndim
        shape[axis] = num_classes
        w_b = w.reshape(shape)
    t_raw = np.asarray(target) if not isinstance(target, str | bytes) else target
    batch_shape = z.shape[:axis] + z.shape[axis + 1 :]
    if ignore is not None and isinstance(t_raw, np.ndarray) and t_raw.shape == batch_shape:
        kept, mask = split_ignored(t_raw, ignore, num_classes)
        t_keep = np.expand_dims(kept, axis)
        keep = np.expand_dims(~mask, axis)  # type: ignore[operator]
        if w is None:
            row_w = keep.astype(np.float64)
        else:
            row_w = np.where(keep, w[t_keep], 0.0)
        return CEOptions("index", kept, w_b, keep, row_w, float(row_w.sum()))
    kind, t = split_target(target, z, axis)
    if kind == "prob":
        if ignore is not None:
            raise ValueError(
                "ignore_index applies to class-index targets only, not to probability "
                "targets (PyTorch rejects it there too)"
            )
        return CEOptions("prob", t, w_b, None, None, float(z.size // max(num_classes, 1)))
    t_keep = np.expand_dims(t, axis)
    row_w = np.ones(t_keep.shape) if w is None else w[t_keep]
    return CEOptions("index", t, w_b, None, row_w, float(row_w.sum()))


def ce_weighted_loss(z: np.ndarray, o: CEOptions, axis: int, eps: float) -> np.ndarray:
    """Per-sample weighted cross-entropy (keepdims along ``axis``), 0 where ignored."""
    num_classes = z.shape[axis]
    if o.kind == "prob":
        y = o.target
        if eps > 0.0:
            y = (1.0 - eps) * y + eps / num_classes
        if o.weight is not None:
            y = o.weight * y
        m, lp, _, _ = ce_parts(z, axis, need_shift_sum=False)
        loss = weighted(y, np.subtract(m, z)).sum(axis=axis, keepdims=True)
        loss += y.sum(axis=axis, keepdims=True) * lp
        return loss
    assert o.row_weight is not None
    if o.weight is None:  # only ignore_index: the unweighted loss with rows masked
        loss = ce_index(z, o.target, axis, eps)
    elif eps == 0.0:
        loss = ce_index(z, o.target, axis, 0.0)
    else:
        # (1 - eps) w_t (-log q_t) + (eps/K) sum_k w_k (-log q_k), with
        # -log q_k = (m - z_k) + log1p(t): non-negative terms only
        m, lp, _, _ = ce_parts(z, axis, need_shift_sum=False)
        gaps = np.subtract(m, z)  # >= 0
        t_keep = np.expand_dims(o.target, axis)
        nll_t = np.take_along_axis(gaps, t_keep, axis=axis) + lp
        spread = weighted(o.weight, gaps).sum(axis=axis, keepdims=True)
        spread += o.weight.sum() * lp
        loss = weighted((1.0 - eps) * o.row_weight, nll_t)
        loss += (eps / num_classes) * spread
        return masked(loss, o.keep)
    if o.weight is not None:
        loss = weighted(o.row_weight, loss)
    return masked(loss, o.keep)


def masked(loss: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """``loss`` with the ignored samples set to 0."""
    if keep is None:
        return loss
    return np.where(keep, loss, 0.0)


def nll_row_weights(
    lp: np.ndarray, t_raw: np.ndarray, weight: ArrayLike | None, ignore: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Weight of each sample's target (0 where ignored) and the indices (ignored -> 0)."""
    t, mask = split_ignored(t_raw, ignore, lp.shape[-1])
    row_w = np.ones(t.shape) if weight is None else check_weight_vector(weight, lp.shape[-1])[t]
    if mask is not None:
        row_w = np.where(mask, 0.0, row_w)
    return row_w, t


def prob_array(p: ArrayLike, name: str, axis: Any) -> tuple[np.ndarray, int]:
    arr = as_float_array(p, name)
    axis = check_axis(axis, arr.ndim)
    if arr.shape[axis] == 0:
        raise ValueError(f"{name} must have at least one entry along axis {axis}")
    check_distribution(arr, name, axis)
    return arr, axis


#: Largest spread max(z) - min(z) for :func:`ce_index_by_target`: the sum s stays
#: below K e^600, far from overflow, and above e^-600, far from the subnormals.
TARGET_SHIFT_SPAN = 600.0


def scale_mean(g: np.ndarray, reduction: str, n: int, name: str) -> Any:
    """Apply the ``1/N`` of ``reduction="mean"``."""
    if reduction == "mean":
        if n == 0:
            raise ValueError(
                f'{name} is empty: reduction="mean" of zero elements is undefined '
                '(use reduction="sum" or "none")'
            )
        g /= n
    return finish(g)


def scale_weighted(g: np.ndarray, reduction: str, denominator: float, name: str) -> Any:
    """Apply the ``1 / sum of weights`` of a weighted or masked ``reduction="mean"``."""
    if reduction == "mean":
        if denominator == 0.0:
            raise ValueError(
                f'{name}: reduction="mean" divides by the total weight of the targets that '
                'are not ignored, which is 0 here; use reduction="sum" or "none"'
            )
        g /= denominator
    return finish(g)
