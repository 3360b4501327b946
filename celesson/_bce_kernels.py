"""The kernels of the binary losses and their gradients (package-internal).

Input pairing and broadcasting, the options ``weight`` and ``pos_weight`` and the
per-element binary cross-entropy as double-double pairs, rounded once by the caller;
the focal modulator. Used by :mod:`celesson.binary_losses` and
:mod:`celesson.binary_grads`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels, _rows
from ._loss_options import check_nonnegative, reduce_pairs, weighted
from ._summation import (
    add_pairs,
    mul_pairs,
    sum_pairs,
    two_prod,
    two_sum,
)
from ._validation import (
    as_float_array,
    check_pair_shapes,
    check_probabilities,
    finish,
    reduce,
    value_range,
)


def binary_inputs(
    a: ArrayLike, y: ArrayLike, name_a: str, name_y: str = "target"
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
    a: ArrayLike, y: ArrayLike, name_a: str, name_y: str = "target"
) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays ``a`` and ``y`` (probabilities in [0, 1]) of a common shape."""
    a_arr, y_arr, _ = binary_inputs(a, y, name_a, name_y)
    return a_arr, y_arr


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
    _kernels.neg_abs(z, tmp)  # -|z|
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


#: Logits beyond this size have a tail e^-|z| below e^-600 (log1p(x) = x there), computed
#: scaled by e^SHIFT so that a subnormal loss is rounded once, at the end.
BCE_TINY_TAIL = 600.0


#: Elements per block of :func:`bce_logits_options` (its temporaries stay in the cache).
BCE_BLOCK = 2**14


def bce_logits_options(
    z: np.ndarray,
    y: np.ndarray,
    weight: ArrayLike | None,
    pos_weight: ArrayLike | None,
    reduction: str,
) -> Any:
    r"""Binary cross-entropy with ``weight`` and/or ``pos_weight``, reduced.

    Worked through in blocks of ``BCE_BLOCK`` elements along the first axis of the
    broadcast shape; each block's losses come from :func:`bce_options_block` as
    pairs, rounded once each (``"none"``) or added as pairs (``"sum"``, ``"mean"``)
    by :func:`~celesson._summation.sum_pairs`.
    """
    y, w, pw = bce_options(z, y, weight, pos_weight)
    if y.size == 0:
        return reduce(np.zeros(y.shape), reduction, "logits")
    shape = y.shape or (1,)
    zy = [np.broadcast_to(a, y.shape).reshape(shape) for a in (z, y)]
    # the weights keep their own (broadcastable) shape, sliced only along a full first axis
    ws = [None if a is None else a.reshape((1,) * (len(shape) - a.ndim) + a.shape)
          for a in (w, pw)]
    binary = bool(((zy[1] == 0.0) | (zy[1] == 1.0)).all())
    block = bce_binary_block if binary else bce_options_block
    n = shape[0]
    step = max(1, BCE_BLOCK // max(1, zy[1].size // max(n, 1)))
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
    return reduce_pairs(hi, lo, reduction, (np.float64(y.size), None), "logits")


def bce_binary_block(
    z: np.ndarray, y: np.ndarray, w: np.ndarray | None, pw: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`bce_options_block` for targets in :math:`\{0, 1\}`: one product.

    The loss is :math:`\kappa\operatorname{sp}(x)` with :math:`x = -z`,
    :math:`\kappa = w p` for :math:`y = 1` and :math:`x = z`, :math:`\kappa = w` for
    :math:`y = 0`; :math:`\operatorname{sp}(x) = \max(x, 0) + T` is an exact pair
    (TwoSum), :math:`\kappa` one (:func:`two_prod`), and their product a pair.  The
    elements whose loss is the tail alone with :math:`|z| > 600` go to
    :func:`bce_options_block`, which scales it.
    """
    pos = y == 1.0
    x = np.where(pos, -z, z)
    a = np.abs(z)
    tail = np.negative(a)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    with np.errstate(invalid="ignore"):  # inf - inf in the error of an infinite sum
        sp = two_sum(np.maximum(x, 0.0), tail)
    k0 = None if pw is None else np.where(pos, pw, 1.0)
    kappa: tuple[Any, Any] | None = None if k0 is None else (k0, None)
    if w is not None:
        kappa = (w, None) if k0 is None else two_prod(k0, w)
    hi, lo = sp if kappa is None else mul_pairs(*kappa, *sp)
    if np.isinf(x).any():  # sp(x) = inf for x = +inf: the loss is inf unless kappa = 0
        k_hi = np.ones_like(x) if kappa is None else np.broadcast_to(kappa[0], x.shape)
        hi[np.isposinf(x)] = np.where(k_hi[np.isposinf(x)] > 0, np.inf, 0.0)
    if not np.isfinite(lo).all():
        lo[~np.isfinite(lo)] = 0.0
    tiny = (a > BCE_TINY_TAIL) & (x < 0)
    if tiny.any():
        full = [None if v is None else np.broadcast_to(v, z.shape)[tiny] for v in (w, pw)]
        hi[tiny], lo[tiny] = bce_options_block(z[tiny], y[tiny], *full)
    return hi, lo


def bce_options_block(
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
    alpha: tuple[Any, Any] = (y, None) if pw is None else two_prod(pw, y)
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
    tiny = a > BCE_TINY_TAIL
    if tiny.any():  # again, with w applied before the scaling down by e^-SHIFT
        g_t: tuple[Any, Any] = (np.broadcast_to(g[0], a.shape)[tiny],
                                np.broadcast_to(g[1], a.shape)[tiny])
        v_t: tuple[Any, Any] = (np.broadcast_to(v[0], a.shape)[tiny],
                                np.broadcast_to(v[1], a.shape)[tiny])
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


def focal_modulator(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    r""":math:`1 - p_t = y\,\sigma(-z) + (1-y)\,\sigma(z)`, computed without cancellation."""
    q = weighted(y, _kernels.sigmoid(-z))
    q += weighted(1.0 - y, _kernels.sigmoid(z))
    return q
