"""The kernels of the multi-class losses and their gradients (package-internal).

Logits and targets (class indices or probabilities), the options of
:func:`celesson.cross_entropy` (``weight``, ``ignore_index``, label smoothing) and the
per-sample cross-entropy, as plain floats or as double-double pairs rounded once by the
caller. Used by :mod:`celesson.multiclass_losses` and :mod:`celesson.multiclass_grads`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _rows
from ._loss_options import check_weight_vector, split_ignored, weighted
from ._summation import (
    accurate_sum,
    accurate_sum_pair,
    add_pairs,
    mul_pairs,
    plain_sum,
    sum_pairs,
    two_prod,
    two_sum,
    two_sum_into,
)
from ._validation import (
    as_float_array,
    as_index_array,
    check_axis,
    check_distribution,
)


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


#: Largest spread max(z) - min(z) for :func:`ce_index_by_target`: the sum s stays
#: below K e^600, far from overflow, and above e^-600, far from the subnormals.
TARGET_SHIFT_SPAN = 600.0


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
        e_t = _rows.take_at(e, targets[rs])
        _rows.put_at(e, targets[rs], 0.0)
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


def unit_scale(total: Any, weights: np.ndarray) -> np.float64:
    """The power of two that brings ``total`` into [1, 2) (1 for 0), keeping ``weights``
    finite: a weighted mean computed with the scaled weights has no subnormal term where
    the weights are tiny (nor an overflow where they are huge), and the same value."""
    total = float(np.ravel(total)[0])
    if not total > 0.0:
        return np.float64(1.0)
    up = 1 - int(np.frexp(total)[1])
    if weights.size and weights.max() > 0.0:
        up = min(up, 1020 - int(np.frexp(weights.max())[1]))
    return np.ldexp(np.float64(1.0), up)


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


def ce_weighted_loss(
    z: np.ndarray, o: CEOptions, axis: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-sample cross-entropy with class weights as pairs ``hi + lo`` (keepdims).

    A sample's loss is a sum of non-negative terms,

    .. math::

        \ell = \sum_k c_k\,(m - z_k) + \Big(\sum_k c_k\Big)\operatorname{log1p}(t),
        \qquad c_k = (1-\varepsilon)\,w_t [k = t] + \frac{\varepsilon}{K} w_k

    for a class index :math:`t`, and :math:`c_k = (1-\varepsilon) w_k y_k +
    \frac{\varepsilon}{K} w_k` for probabilities.  It is evaluated as
    :math:`(1-\varepsilon) \sum_k w_k y_k (m - z_k) + \frac{\varepsilon}{K} \sum_k
    w_k (m - z_k) + \dots` with every quantity a pair: :math:`1 - \varepsilon` by
    TwoSum, :math:`\varepsilon / K` with its residual, the gaps :math:`m - z_k` exact,
    the tail :math:`t` from :func:`~celesson._rows.tail_pair`, the products from
    :func:`~celesson._summation.mul_pairs` and the sums over the classes compensated
    dot products (:func:`~celesson._summation.sum_pairs`).  So ``hi + lo`` carries
    only the roundings of ``exp`` and ``log1p``, and the caller rounds it once:
    multiplying a rounded loss by a rounded weight instead costs up to 3.4 ULP on the
    tests' draws.
    Class-index targets without smoothing take :func:`ce_target_pairs` when it is
    safe.  Ignored samples are 0.
    """
    rows = _rows.as_rows(z, axis, "logits")
    n, k = rows.shape
    assert o.weight is not None
    w = o.weight.reshape(-1)
    if o.kind == "index":
        targets = o.target.reshape(-1, 1)
        assert o.row_weight is not None
        row_w = np.moveaxis(o.row_weight, axis, -1).reshape(-1, 1)
        if eps == 0.0:
            fast = ce_target_pairs(rows, targets, row_w)
            if fast is not None:
                return (masked(_rows.from_rows(fast[0], z, axis), o.keep),
                        masked(_rows.from_rows(fast[1], z, axis), o.keep))
    else:
        probs = _rows.as_rows(o.target, axis, "target")
    om = two_sum(np.float64(1.0), np.float64(-eps))  # 1 - eps, exactly
    p, e = two_prod(np.float64(eps / k), np.float64(k))
    q = (np.float64(eps / k), ((eps - p) - e) / k)  # eps / K
    w_sum = sum_pairs(w, None, 0)
    hi, lo = np.empty((n, 1)), np.empty((n, 1))
    for rs, work in _rows.row_blocks(n, k):
        zb = rows[rs]
        idx, m = _rows.row_max(zb, "logits")
        _rows.check_finite_max(m, "logits")
        t_hi, t_lo, tiny = _rows.tail_pair(zb, idx, m, work)
        gap, gap_lo = work[3], work[2]  # z - m = d + d_err
        np.negative(gap, out=gap)  # m - z_k >= 0, inf where z_k = -inf
        np.negative(gap_lo, out=gap_lo)
        infinite = np.isinf(gap)
        inf_rows = None
        if infinite.any():
            inf_rows = infinite & (w > 0)
            gap[infinite] = 0.0
        if o.kind == "index":
            own = mul_pairs(*om, row_w[rs], None)  # (1 - eps) w_t
            g_t = (_rows.take_at(v, targets[rs]) for v in (gap, gap_lo))
            a, c = mul_pairs(*own, *g_t), own
            if eps > 0.0:
                a_eps = mul_pairs(*q, *sum_pairs(*mul_pairs(w, None, gap, gap_lo), 1, True))
                a = add_pairs(*a, *a_eps)
                c = add_pairs(*mul_pairs(*q, *w_sum), *own)
            elif inf_rows is not None:  # only the target's term counts
                inf_rows = _rows.take_at(infinite, targets[rs]) & (row_w[rs] > 0)
        else:
            wy = two_prod(w, probs[rs])
            if inf_rows is not None and eps == 0.0:
                inf_rows &= wy[0] > 0
            a = sum_pairs(*mul_pairs(*wy, gap, gap_lo), 1, True)
            c = sum_pairs(*wy, 1)
            if eps > 0.0:
                a_eps = mul_pairs(*q, *sum_pairs(*mul_pairs(w, None, gap, gap_lo), 1, True))
                a = add_pairs(*mul_pairs(*om, *a), *a_eps)
                c = add_pairs(*mul_pairs(*om, *c), *mul_pairs(*q, *w_sum))
        # log(1 + t) as a pair; on the tiny rows (scaled by e^SHIFT) log(1 + t) = t
        l_hi = np.where(tiny, t_hi, np.log1p(t_hi))
        l_lo = np.where(tiny, t_lo, t_lo / (1.0 + t_hi))
        b_hi, b_lo = mul_pairs(*c, l_hi, l_lo)
        if tiny.any():
            s_hi, s_lo = mul_pairs(b_hi, b_lo, *_rows.EXP_MINUS_SHIFT)
            b_hi, b_lo = np.where(tiny, s_hi, b_hi), np.where(tiny, s_lo, b_lo)
        h, h_lo = add_pairs(*a, b_hi, b_lo)
        if not np.isfinite(h_lo).all():  # a product beyond the float64 range: h is inf
            h_lo[~np.isfinite(h_lo)] = 0.0
        if inf_rows is not None:  # c_k (m - z_k) = inf for z_k = -inf, unless c_k = 0
            bad = inf_rows.any(axis=1, keepdims=True)
            h[bad], h_lo[bad] = np.inf, 0.0
        hi[rs], lo[rs] = h, h_lo
    return (masked(_rows.from_rows(hi, z, axis), o.keep),
            masked(_rows.from_rows(lo, z, axis), o.keep))


def ce_target_pairs(
    rows: np.ndarray, targets: np.ndarray, row_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    r""":math:`w_t \operatorname{log1p}(s)` of :func:`ce_index_by_target` as pairs, or ``None``.

    The same shift by the target's logit and the same conditions, but with the exact
    shift :math:`d_k + d_{err,k} = z_k - z_t` (TwoSum) and the terms
    :math:`e^{d_k}(1 + d_{err,k})`: then :math:`s = s_{hi} + s_{lo}` needs no
    division, its only error is the roundings of ``exp``, and
    :math:`\operatorname{log1p}(s) = \operatorname{log1p}(s_{hi}) + s_{lo}/(1 + s_{hi})`.
    """
    if rows.size == 0:
        return None
    lo_z, hi_z = float(rows.min()), float(rows.max())
    low, high = _rows.DIRECT_RANGE
    if not (low <= lo_z and hi_z <= high and hi_z - lo_z <= TARGET_SHIFT_SPAN):
        return None
    n, k = rows.shape
    hi, lo = np.empty((n, 1)), np.empty((n, 1))
    for rs, (e, tmp, d, d_err) in _rows.row_blocks(n, k):
        tb = targets[rs]
        two_sum_into(rows[rs], -_rows.take_at(rows[rs], tb), d, d_err, tmp)
        np.exp(d, out=e)
        _rows.put_at(e, tb, 0.0)
        np.multiply(e, d_err, out=tmp)
        s_lo = plain_sum(tmp, 1)
        s_hi, s_rest = accurate_sum_pair(e, 1, work=tmp)
        s_lo += s_rest
        s_lo /= 1.0 + s_hi
        hi[rs], lo[rs] = mul_pairs(row_w[rs], None, np.log1p(s_hi), s_lo)
    return hi, lo


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
