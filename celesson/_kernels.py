"""The unchecked kernels behind the public numerics and gradients.

Each function here assumes its caller has validated the input (a float64 array without
NaN, a valid axis) and always returns an array; the public functions in
:mod:`celesson.numerics` and :mod:`celesson.grads` check their arguments, call these
and turn 0-d results into scalars. Package-internal: chapters use the public functions.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import _rows
from ._summation import two_prod

#: Values per block in :func:`sigmoid` and :func:`log_sigmoid`: their work arrays
#: (512 KB each) stay in the cache, so each pass over a block costs arithmetic, not
#: memory traffic.
BLOCK = 2**16
#: Up to this many values, :func:`sigmoid` makes its passes over the whole input at once
#: (a call on a handful of values, as in one step of a small model, is then mostly
#: NumPy's own call overhead).
SMALL = 64


def elementwise_blocks(
    z: np.ndarray,
) -> tuple[np.ndarray, Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The output array for ``z`` and its blocks: ``(z block, output block, work)``.

    Blocks of ``BLOCK`` values of ``z`` (flattened) with the matching views of the
    output and one scratch array of the block's size, the same memory for every
    block, so that an elementwise kernel makes no temporary the size of its input.
    """
    out = np.empty(z.shape)
    flat_z, flat_out = z.reshape(-1), out.reshape(-1)
    buffer = np.empty(min(BLOCK, flat_z.size))

    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for start in range(0, flat_z.size, BLOCK):
            zb = flat_z[start : start + BLOCK]
            yield zb, flat_out[start : start + BLOCK], buffer[: zb.size]

    return out, blocks()


def neg_abs(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:math:`-|z|` into ``out`` (also returned), as ``abs`` then ``negative``.

    The same bits as ``copysign(z, -1)`` (``-0.0`` for both zeros), in two passes that
    together take half the time of NumPy's ``copysign`` loop (measured on 10**4 values).
    """
    np.abs(z, out=out)
    return np.negative(out, out=out)


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    r""":func:`celesson.log_sigmoid` without input checks (float64 ``z``, no NaN); an array.

    :math:`\log\sigma(z) = -\operatorname{softplus}(-z) = \min(z, 0) -
    \operatorname{log1p}(e^{-|z|})`, block by block (:func:`elementwise_blocks`).
    """
    out, blocks = elementwise_blocks(z)
    for zb, res, tail in blocks:
        neg_abs(zb, tail)
        np.exp(tail, out=tail)
        np.log1p(tail, out=tail)  # softplus(-|z|)
        np.minimum(zb, 0.0, out=res)
        res -= tail
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    r""":func:`celesson.sigmoid` without input checks; always returns an array.

    :math:`\sigma(z) = e^{\min(z, 0)} / (1 + e^{-|z|})`: the numerator is
    :math:`1` for :math:`z \ge 0` and :math:`e^{z}` otherwise, so this is
    :math:`1/(1+e^{-z})` or :math:`e^{z}/(1+e^{z})`, and both exponents are
    :math:`\le 0`, so nothing overflows.  One exponential serves both: for
    :math:`z < 0` the numerator :math:`e^{z}` *is* :math:`e^{-|z|}`, the same rounded
    number as in the denominator, taken as :math:`\max(\mathbb{1}[z \ge 0], e^{-|z|})`
    (a second ``exp`` would cost as much again and give the same bits; a masked copy
    costs more than the two cheap passes).  Block by block (:func:`elementwise_blocks`).
    """
    if z.size <= SMALL:  # one block: the same passes without the block machinery
        den = neg_abs(z, np.empty(z.shape))
        np.exp(den, out=den)
        num = np.greater_equal(z, 0.0, out=np.empty(z.shape))
        np.maximum(num, den, out=num)
        den += 1.0
        num /= den
        return num
    out, blocks = elementwise_blocks(z)
    for zb, num, den in blocks:
        neg_abs(zb, den)  # -|z|
        np.exp(den, out=den)  # e^{-|z|} in [0, 1]
        np.greater_equal(zb, 0.0, out=num)  # 1 where z >= 0, else 0
        np.maximum(num, den, out=num)  # e^{min(z, 0)}: 1, or e^{-|z|} = e^{z}
        den += 1.0  # 1 + e^{-|z|} in [1, 2]
        num /= den
    return out


def softmax(z: np.ndarray, axis: int, name: str = "z") -> np.ndarray:
    """:func:`celesson.softmax` of a float64 array with a valid axis (checks the values)."""
    rows = _rows.as_rows(z, axis, name)
    out = np.empty(rows.shape)
    for rs, work in _rows.row_blocks(*rows.shape):
        _rows.softmax_block(rows[rs], out[rs], work, name)
    return _rows.from_rows(out, z, axis)


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    """:func:`celesson.sigmoid_grad` of a checked float64 array; always returns an array."""
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


def sigmoid_minus_target(
    z: np.ndarray, y: np.ndarray, s: np.ndarray | None = None
) -> np.ndarray:
    r""":math:`\sigma(z) - y`, exactly :math:`-\sigma(-z)` where ``y == 1``.

    ``s`` is :math:`\sigma(z)` (:func:`sigmoid`) when the caller has it already.
    """
    g = np.asarray((sigmoid(z) if s is None else s) - y)
    ones = y == 1.0
    if ones.any():
        g[ones] = -sigmoid(-z[ones])
    return g
