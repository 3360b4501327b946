"""Checks and reductions shared by every loss and gradient (package-internal).

The focal ``gamma`` and ``alpha``, class weights, ``ignore_index``, non-negative option
arrays, the products of a weight and a loss, the weighted mean and the reduction of
losses carried as double-double pairs, and the ``1/N`` (or ``1/sum w``) of a gradient's
``reduction="mean"``. The binary kernels are in :mod:`celesson._bce_kernels`, the
multi-class ones in :mod:`celesson._ce_kernels`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._summation import (
    div_pairs,
    sum_pairs,
)
from ._validation import (
    as_float_array,
    as_index_array,
    check_real_scalar,
    finish,
)


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


def reduce_pairs(
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
    :func:`weighted_mean`.
    """
    if reduction == "none":
        return finish(hi + lo)
    if reduction == "mean" and denominator[0] == 0.0:
        weighted_mean(hi, 0.0, name)  # raises
    if not np.isfinite(hi).all():  # a sum of non-negative terms with an inf
        return np.float64(np.inf)
    s_hi, s_lo = sum_pairs(hi.reshape(-1), lo.reshape(-1), 0, True)
    if reduction == "sum":
        return np.float64((s_hi + s_lo)[0])
    return np.float64(div_pairs(s_hi, s_lo, *denominator)[0])


def check_gamma(gamma: Any) -> float:
    return check_real_scalar(gamma, "gamma", lo=0.0)


def check_alpha(alpha: Any) -> float | None:
    if alpha is None:
        return None
    return check_real_scalar(alpha, "alpha", lo=0.0, hi=1.0)


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


