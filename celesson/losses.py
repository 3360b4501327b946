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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _rows
from ._summation import (
    accurate_sum,
    accurate_sum_pair,
    add_pairs,
    div_pairs,
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


def _reduce_pairs(
    hi: np.ndarray,
    lo: np.ndarray,
    reduction: str,
    denominator: tuple[Any, Any],
    name: str,
) -> Any:
    r"""Reduce non-negative losses given as pairs ``hi + lo``, each result rounded once.

    ``"none"`` rounds each pair; ``"sum"`` adds them with
    :func:`~celesson._summation.sum_pairs`; ``"mean"`` divides that sum by the pair
    ``denominator`` (the total weight, or the count) with
    :func:`~celesson._summation.div_pairs`.  A 0 denominator raises as in
    :func:`_weighted_mean`.
    """
    if reduction == "none":
        return finish(hi + lo)
    if reduction == "mean" and denominator[0] == 0.0:
        _weighted_mean(hi, 0.0, name)  # raises
    if not np.isfinite(hi).all():  # a sum of non-negative terms with an inf
        return np.float64(np.inf)
    s_hi, s_lo = sum_pairs(hi.reshape(-1), lo.reshape(-1), 0, True)
    if reduction == "sum":
        return np.float64((s_hi + s_lo)[0])
    return np.float64(div_pairs(s_hi, s_lo, *denominator)[0])


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
    It is evaluated as a sum of non-negative terms with
    :math:`\operatorname{softplus}(x) = \max(x,0) + \operatorname{log1p}(e^{-|x|})`,
    every product and sum carried as an unevaluated pair and rounded once
    (:func:`_bce_options_block`), so the weights cost no accuracy.  The mean
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
    return _bce_logits_options(z, y, weight, pos_weight, reduction)


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


#: Logits beyond this size have a tail e^-|z| below e^-600 (log1p(x) = x there), computed
#: scaled by e^SHIFT so that a subnormal loss is rounded once, at the end.
_BCE_TINY_TAIL = 600.0
#: Elements per block of :func:`_bce_logits_options` (its temporaries stay in the cache).
_BCE_BLOCK = 2**14


def _bce_logits_options(
    z: np.ndarray,
    y: np.ndarray,
    weight: ArrayLike | None,
    pos_weight: ArrayLike | None,
    reduction: str,
) -> Any:
    r"""Binary cross-entropy with ``weight`` and/or ``pos_weight``, reduced.

    Worked through in blocks of ``_BCE_BLOCK`` elements along the first axis of the
    broadcast shape; each block's losses come from :func:`_bce_options_block` as
    pairs, rounded once each (``"none"``) or added as pairs (``"sum"``, ``"mean"``)
    by :func:`~celesson._summation.sum_pairs`.
    """
    y, w, pw = _bce_options(z, y, weight, pos_weight)
    if y.size == 0:
        return reduce(np.zeros(y.shape), reduction, "z")
    shape = y.shape or (1,)
    zy = [np.broadcast_to(a, y.shape).reshape(shape) for a in (z, y)]
    # the weights keep their own (broadcastable) shape, sliced only along a full first axis
    ws = [None if a is None else a.reshape((1,) * (len(shape) - a.ndim) + a.shape)
          for a in (w, pw)]
    binary = bool(((zy[1] == 0.0) | (zy[1] == 1.0)).all())
    block = _bce_binary_block if binary else _bce_options_block
    n = shape[0]
    step = max(1, _BCE_BLOCK // max(1, zy[1].size // max(n, 1)))
    out = np.empty(shape) if reduction == "none" else None
    parts = []
    for start in range(0, n, step):
        rs = slice(start, start + step)
        hi, lo = block(*(a[rs] for a in zy),
                       *(a if a is None or a.shape[0] == 1 else a[rs] for a in ws))
        if out is not None:
            np.add(hi, lo, out=out[rs])
        elif not np.isfinite(hi).all():
            parts.append((np.array([np.inf]), np.zeros(1)))
        else:
            parts.append(sum_pairs(hi.reshape(-1), lo.reshape(-1), 0, True))
    if out is not None:
        return finish(out.reshape(y.shape))
    hi = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    lo = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    return _reduce_pairs(hi, lo, reduction, (np.float64(y.size), None), "z")


def _bce_binary_block(
    z: np.ndarray, y: np.ndarray, w: np.ndarray | None, pw: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`_bce_options_block` for targets in :math:`\{0, 1\}`: one product.

    The loss is :math:`\kappa\operatorname{sp}(x)` with :math:`x = -z`,
    :math:`\kappa = w p` for :math:`y = 1` and :math:`x = z`, :math:`\kappa = w` for
    :math:`y = 0`; :math:`\operatorname{sp}(x) = \max(x, 0) + T` is an exact pair
    (TwoSum), :math:`\kappa` one (:func:`two_prod`), and their product a pair.  The
    elements whose loss is the tail alone with :math:`|z| > 600` go to
    :func:`_bce_options_block`, which scales it.
    """
    pos = y == 1.0
    x = np.where(pos, -z, z)
    a = np.abs(z)
    tail = np.negative(a)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    with np.errstate(invalid="ignore"):  # inf - inf in the error of an infinite sum
        sp = two_sum(np.maximum(x, 0.0), tail)
    kappa = None if pw is None else np.where(pos, pw, 1.0)
    if w is not None:
        kappa = (w, None) if kappa is None else two_prod(kappa, w)
    elif kappa is not None:
        kappa = (kappa, None)
    hi, lo = sp if kappa is None else mul_pairs(*kappa, *sp)
    if np.isinf(x).any():  # sp(x) = inf for x = +inf: the loss is inf unless kappa = 0
        k_hi = np.ones_like(x) if kappa is None else np.broadcast_to(kappa[0], x.shape)
        hi[np.isposinf(x)] = np.where(k_hi[np.isposinf(x)] > 0, np.inf, 0.0)
    if not np.isfinite(lo).all():
        lo[~np.isfinite(lo)] = 0.0
    tiny = (a > _BCE_TINY_TAIL) & (x < 0)
    if tiny.any():
        full = [None if v is None else np.broadcast_to(v, z.shape)[tiny] for v in (w, pw)]
        hi[tiny], lo[tiny] = _bce_options_block(z[tiny], y[tiny], *full)
    return hi, lo


def _bce_options_block(
    z: np.ndarray, y: np.ndarray, w: np.ndarray | None, pw: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-element :math:`w[p\,y\operatorname{sp}(-z) + (1-y)\operatorname{sp}(z)]` as pairs.

    With :math:`a = |z|`, :math:`T = \operatorname{log1p}(e^{-a})` and
    :math:`\operatorname{sp}(\pm z) = \max(\pm z, 0) + T`, the loss is

    .. math::

        \ell = w\,\big[(\alpha + \beta)\,T + c\,a\big], \qquad
        \alpha = p y,\quad \beta = 1 - y,

    with :math:`c = \beta` for :math:`z > 0` and :math:`c = \alpha` otherwise: two
    non-negative terms.  :math:`\alpha` and :math:`\beta` are exact pairs
    (:func:`two_prod`; :math:`1 - y` by Fast2Sum, as :math:`1 \ge y`), and the products
    and sums are pairs (:func:`~celesson._summation.mul_pairs`,
    :func:`~celesson._summation.add_pairs`), so ``hi + lo`` carries only the roundings
    of ``exp`` and ``log1p`` in :math:`T`.  For :math:`a > 600` the tail is
    :math:`e^{-a} = e^{\text{SHIFT} - a}\, e^{-\text{SHIFT}}` (the subtraction is exact
    there), multiplied by the pair :math:`e^{-\text{SHIFT}}` last, so that a subnormal
    loss is rounded once.  Rounding each product on its own instead costs up to 2.8 ULP.
    """
    a = np.abs(z)
    tail = np.negative(a)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    alpha = (y, None) if pw is None else two_prod(pw, y)
    b_hi = np.subtract(1.0, y)
    beta = (b_hi, np.subtract(np.subtract(1.0, b_hi), y))  # Fast2Sum: exact
    infinite = np.isinf(a)
    if infinite.any():
        a = np.where(infinite, 0.0, a)
    positive = z > 0
    c_hi = np.where(positive, beta[0], alpha[0])
    c_lo = beta[1] if alpha[1] is None else np.where(positive, beta[1], alpha[1])
    if alpha[1] is None:
        c_lo = np.where(positive, c_lo, 0.0)
    g = add_pairs(*alpha, *beta)
    v = mul_pairs(c_hi, c_lo, a, None)
    hi, lo = add_pairs(*mul_pairs(*g, tail, None), *v)
    if w is not None:
        hi, lo = mul_pairs(hi, lo, w, None)
    tiny = a > _BCE_TINY_TAIL
    if tiny.any():  # again, with w applied before the scaling down by e^-SHIFT
        g_t, v_t = ((np.broadcast_to(x, a.shape)[tiny] for x in pair) for pair in (g, v))
        if w is not None:
            w_t = np.broadcast_to(w, a.shape)[tiny]
            g_t, v_t = mul_pairs(*g_t, w_t, None), mul_pairs(*v_t, w_t, None)
        u_t = mul_pairs(*mul_pairs(*g_t, np.exp(_rows.SHIFT - a[tiny]), None),
                        *_rows.EXP_MINUS_SHIFT)
        hi[tiny], lo[tiny] = add_pairs(*u_t, *v_t)
    if infinite.any():  # c a = inf for an infinite logit unless c = 0
        hi[infinite & (c_hi > 0) & (True if w is None else w > 0)] = np.inf
    if not np.isfinite(lo).all():  # an infinite or overflowing loss
        lo[~np.isfinite(lo)] = 0.0
    return hi, lo


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
    if opts.weight is None:  # ignore_index only: the unweighted loss, ignored rows 0
        loss = np.squeeze(_masked(_ce_index(z, opts.target, axis, eps), opts.keep), axis=axis)
        if reduction == "mean":
            return _weighted_mean(loss, opts.denominator, "logits")
        return reduce(loss, reduction, "logits")
    den: tuple[Any, Any] = (np.float64(opts.denominator), None)
    if opts.kind == "index":
        assert opts.row_weight is not None and opts.weight is not None
        den = sum_pairs(opts.row_weight.reshape(-1), None, 0)
        if reduction == "mean":  # the mean does not change when all weights are scaled
            scale = _unit_scale(den[0], opts.weight)
            opts = replace(opts, weight=opts.weight * scale, row_weight=opts.row_weight * scale)
            den = (den[0] * scale, den[1] * scale)
    hi, lo = (np.squeeze(a, axis=axis) for a in _ce_weighted_loss(z, opts, axis, eps))
    return _reduce_pairs(hi, lo, reduction, den, "logits")


def _unit_scale(total: Any, weights: np.ndarray) -> np.float64:
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


def _ce_weighted_loss(
    z: np.ndarray, o: _CEOptions, axis: int, eps: float
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
    Class-index targets without smoothing take :func:`_ce_target_pairs` when it is
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
            fast = _ce_target_pairs(rows, targets, row_w)
            if fast is not None:
                return tuple(_masked(_rows.from_rows(a, z, axis), o.keep) for a in fast)
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
            g_t = (np.take_along_axis(v, targets[rs], axis=1) for v in (gap, gap_lo))
            a, c = mul_pairs(*own, *g_t), own
            if eps > 0.0:
                a_eps = mul_pairs(*q, *sum_pairs(*mul_pairs(w, None, gap, gap_lo), 1, True))
                a = add_pairs(*a, *a_eps)
                c = add_pairs(*mul_pairs(*q, *w_sum), *own)
            elif inf_rows is not None:  # only the target's term counts
                inf_rows = np.take_along_axis(infinite, targets[rs], axis=1) & (row_w[rs] > 0)
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
    return tuple(_masked(_rows.from_rows(a, z, axis), o.keep) for a in (hi, lo))


def _ce_target_pairs(
    rows: np.ndarray, targets: np.ndarray, row_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    r""":math:`w_t \operatorname{log1p}(s)` of :func:`_ce_index_by_target` as pairs, or ``None``.

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
    if not (low <= lo_z and hi_z <= high and hi_z - lo_z <= _TARGET_SHIFT_SPAN):
        return None
    n, k = rows.shape
    hi, lo = np.empty((n, 1)), np.empty((n, 1))
    for rs, (e, tmp, d, d_err) in _rows.row_blocks(n, k):
        tb = targets[rs]
        two_sum_into(rows[rs], -np.take_along_axis(rows[rs], tb, axis=1), d, d_err, tmp)
        np.exp(d, out=e)
        np.put_along_axis(e, tb, 0.0, axis=1)
        np.multiply(e, d_err, out=tmp)
        s_lo = plain_sum(tmp, 1)
        s_hi, s_rest = accurate_sum_pair(e, 1, work=tmp)
        s_lo += s_rest
        s_lo /= 1.0 + s_hi
        hi[rs], lo[rs] = mul_pairs(row_w[rs], None, np.log1p(s_hi), s_lo)
    return hi, lo


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
    nll = -np.take_along_axis(lp, t[..., None], axis=-1)[..., 0]
    if weight is None or reduction == "none":  # one product, rounded once
        loss = _weighted(row_w, nll)
        if reduction == "mean":
            return _weighted_mean(loss, float(row_w.sum()), "log_probs")
        return reduce(loss, reduction, "log_probs")
    den = sum_pairs(row_w.reshape(-1), None, 0)
    if reduction == "mean":  # as in cross_entropy: scaled weights, the same mean
        scale = _unit_scale(den[0], row_w)
        row_w, den = row_w * scale, (den[0] * scale, den[1] * scale)
    row_w, nll = np.atleast_1d(row_w), np.atleast_1d(nll)
    hi, lo = mul_pairs(row_w, None, np.where(row_w > 0, nll, 0.0), None)
    hi[(row_w > 0) & np.isinf(nll)] = np.inf
    return _reduce_pairs(hi, lo, reduction, den, "log_probs")


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
