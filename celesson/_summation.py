r"""Error-free transformations and an accurate row sum, in plain float64 NumPy.

Two tools keep the row functions of :mod:`celesson.numerics` within a couple of
units in the last place (ULP):

* :func:`two_sum` splits :math:`a + b` into its rounded value and the exact
  rounding error (Knuth's TwoSum, six operations, no branches), and :func:`two_prod`
  does the same for :math:`ab`.
* :func:`accurate_sum` adds non-negative terms along an axis with one rounding in
  total instead of one per addition.  An ordinary sum of :math:`K` terms may be off
  by several ULP (a row of 999 equal terms loses about 3 ULP to NumPy's pairwise
  sum); that error reaches every log-softmax entry of the row.

``accurate_sum`` follows the first step of the AccSum algorithm of Rump, Ogita and
Oishi (*Accurate floating-point summation part I*, SIAM J. Sci. Comput. 31, 2008).
Per row, take the power of two :math:`\sigma = 2^{M + E}` with :math:`K < 2^M` and
every term below :math:`2^E` (a plain sum ``s`` of the row bounds every term, and
``frexp`` gives :math:`s < 2^E`).  Then

.. math::

    q_k = \operatorname{fl}\big((\sigma + e_k) - \sigma\big), \qquad
    r_k = e_k - q_k

splits each term exactly into a high part on the grid of :math:`2^{-53}\sigma` and a
remainder :math:`|r_k| \le 2^{-53}\sigma`.  Because every :math:`q_k` lies on that
grid and :math:`\sum_k |q_k| < \sigma`, the sum :math:`\tau = \sum_k q_k` is *exact*
in any order.  The remainders are at most :math:`2^{-52} K s` each, so the rounding
errors of their plain sum :math:`\rho` are below :math:`10^{-6}` ULP of the total for
:math:`K \le 10^4` (and below :math:`10^{-2}` ULP for :math:`K \le 10^6`).  The result
:math:`\operatorname{fl}(\tau + \rho)` is therefore within half an ULP plus that tiny
error of the exact sum: always faithfully rounded, and the correctly rounded sum except
when the exact sum lies within that distance of a rounding midpoint (the appendix
constructs such a row). AccSum proper iterates the split to remove that case; one pass
is what the course's 2-ULP contract needs.

The price is three elementwise passes and two extra reductions: about 1.5 times the
time of a plain ``sum``, measured in ``benchmarks/``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: A float64 operand of the error-free transformations: an array or a scalar.
Operand = np.ndarray | np.floating[Any] | float

#: Rows of up to this many terms are summed with ``einsum``: for short rows NumPy's
#: ``sum`` pays a fixed cost per row that ``einsum`` avoids (20 ms against 5 ms for
#: 10**6 rows of 10).  Longer rows use ``sum``, whose pairwise order keeps the
#: rounding error of the remainders' sum small for any length.
_EINSUM_MAX_TERMS = 64

#: Rows of up to this many terms, when there are at least as many rows, are summed
#: by :func:`_split_sum` in a transposed copy (column by column).
_COLUMNS_MAX_TERMS = 16

#: Largest exponent allowed for the splitting constant sigma = 2**(M + E): sigma plus
#: a term must stay finite.
_MAX_SIGMA_EXP = 1020


def two_sum(a: Operand, b: Operand) -> tuple[np.ndarray, np.ndarray]:
    r"""Sum and exact error: :math:`s = \operatorname{fl}(a + b)`, :math:`s + e = a + b`.

    Knuth's TwoSum needs no ordering of :math:`|a|` and :math:`|b|`.  The error is
    exact whenever no intermediate overflows; where ``s`` is infinite or NaN the
    returned error is NaN and callers replace it.

    Parameters
    ----------
    a, b : numpy.ndarray
        Float64 arrays of broadcastable shapes.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``s`` and ``e``.
    """
    # the operations of two_sum_into, letting NumPy allocate (and broadcast) the results:
    # for the per-row arrays it is mostly called on, that halves its fixed cost
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.add(a, b)
        b_virtual = np.subtract(s, a)
        e = np.subtract(a, np.subtract(s, b_virtual))
        e = np.add(e, np.subtract(b, b_virtual))
    return np.asarray(s), np.asarray(e)


def two_sum_into(
    a: np.ndarray, b: np.ndarray, s: np.ndarray, e: np.ndarray, tmp: np.ndarray
) -> None:
    """:func:`two_sum` into given arrays ``s`` and ``e`` (``tmp`` is scratch); no allocation.

    ``a`` and ``b`` broadcast to the shape of ``s``, ``e`` and ``tmp``, which must be
    distinct arrays, none of them ``a`` or ``b``.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        np.add(a, b, out=s)
        np.subtract(s, a, out=tmp)  # b_virtual
        np.subtract(s, tmp, out=e)  # a_virtual
        np.subtract(a, e, out=e)  # a - a_virtual
        np.subtract(b, tmp, out=tmp)  # b - b_virtual
        e += tmp


def two_prod(a: Operand, b: Operand) -> tuple[np.ndarray, np.ndarray]:
    r"""Product and exact error: :math:`p = \operatorname{fl}(ab)`, :math:`p + e = ab`.

    Dekker's product: each factor is split (Veltkamp) into two halves of 26 bits,
    whose pairwise products are exact, so no fused multiply-add is needed.  Exact
    unless a factor exceeds about :math:`2^{996}` or the product under- or overflows.
    """
    p = np.multiply(a, b)
    if np.ndim(p) == 0:
        a_hi, a_lo = _halves(np.reshape(a, 1))
        b_hi, b_lo = _halves(np.reshape(b, 1))
        return p, (((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo)[0]
    a_hi, a_lo = _halves(np.atleast_1d(a))
    b_hi, b_lo = _halves(np.atleast_1d(b))
    # e = ((a_hi b_hi - p) + a_hi b_lo + a_lo b_hi) + a_lo b_lo, in place
    e = np.multiply(a_hi, b_hi, out=np.empty(p.shape))
    e -= p
    t = np.multiply(a_hi, b_lo, out=np.empty(p.shape))
    e += t
    np.multiply(a_lo, b_hi, out=t)
    e += t
    np.multiply(a_lo, b_lo, out=t)
    e += t
    return p, e


def _halves(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split: ``hi + lo = a`` exactly, each with at most 26 significant bits."""
    hi = np.multiply(a, 134217729.0)  # c = (2**27 + 1) a
    lo = np.subtract(hi, a)
    hi -= lo  # c - (c - a)
    np.subtract(a, hi, out=lo)
    return hi, lo


def plain_sum(e: np.ndarray, axis: int) -> np.ndarray:
    """Ordinary float64 sum along ``axis`` (keepdims), fast for short rows."""
    if axis == e.ndim - 1 and e.shape[axis] <= _EINSUM_MAX_TERMS:
        return np.einsum("...k->...", e)[..., np.newaxis]
    return e.sum(axis=axis, keepdims=True)


def accurate_sum(e: np.ndarray, axis: int, work: np.ndarray | None = None) -> np.ndarray:
    r"""Sum of non-negative finite terms along ``axis``, faithfully rounded (keepdims).

    Parameters
    ----------
    e : numpy.ndarray
        Float64 terms, all finite and :math:`\ge 0`.  **Overwritten** with the
        remainders of the split (callers pass a temporary).
    axis : int
        A valid, non-negative axis of ``e``.
    work : numpy.ndarray, optional
        Scratch array of the shape of ``e`` (allocated when not given).

    Returns
    -------
    numpy.ndarray
        :math:`\operatorname{fl}(\sum_k e_k)` along ``axis`` up to the tiny error
        described in the module docstring, with the axis kept (length 1).
    """
    high, rest = _split_sum(e, axis, work)
    high += rest
    return high


def accurate_sum_pair(
    e: np.ndarray, axis: int, work: np.ndarray | None = None, keep: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    r"""Like :func:`accurate_sum`, with the rounding error of the result: ``hi + lo``.

    ``hi`` is the sum rounded once and ``lo`` carries the rest of it, so that
    ``hi + lo`` equals the exact sum to about :math:`10^{-6}` ULP of ``hi``
    (:math:`K \le 10^4`).  ``e`` is overwritten unless ``keep`` (the remainders are
    then formed in ``work``, in the same number of passes).
    """
    return two_sum(*_split_sum(e, axis, work, keep))


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r""":math:`\sum_k a_{ik} b_{ik}` for each row of two (n, K) arrays, shape (n, 1).

    One pass that reads both and writes nothing of their size (a product array and its
    sum would be two); a plain sum, for small corrections whose rounding is negligible.
    """
    return np.einsum("ij,ij->i", a, b)[:, np.newaxis]


def _split_sum(
    e: np.ndarray, axis: int, work: np.ndarray | None, keep: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The exact sum of the high parts and the plain sum of the remainders (keepdims)."""
    if e.ndim == 2 and axis == 1 and e.shape[1] <= _COLUMNS_MAX_TERMS <= e.shape[0]:
        # many short rows: the same steps on a transposed copy, where each row's sigma
        # is broadcast along long contiguous rows and the sums run down the columns
        # (a broadcast of one value per row over rows of 10 costs more than the copy)
        cols = e.T.copy()  # e itself is left as it was
        col_work = None if work is None else work.reshape(cols.shape)
        tau, rho = _split_sum(cols, 0, col_work)
        return tau.T, rho.T
    k = e.shape[axis]
    bits = int(k).bit_length()  # k < 2**bits
    _, top = np.frexp(plain_sum(e, axis))  # every term < plain sum < 2**top
    top += bits
    scale = None
    if top.size and top.max() > _MAX_SIGMA_EXP:
        # Sums within a factor 2**(2 * bits) of the float64 maximum: scale those rows
        # down by a power of two first (terms that then become subnormal are far
        # below one ULP of the row's sum).
        scale = np.minimum(_MAX_SIGMA_EXP - top, 0)
        if keep:
            e = e * np.ldexp(1.0, scale)  # a copy, as rare as such sums
        else:
            e *= np.ldexp(1.0, scale)
        top += scale
    sigma = np.ldexp(1.0, top)
    high = np.add(e, sigma, out=work)
    high -= sigma  # exact: the part of each term on the grid of 2**-53 sigma
    tau = plain_sum(high, axis)  # exact, whatever the order
    rest = np.subtract(e, high, out=high if keep else e)  # exact remainders
    rho = plain_sum(rest, axis)
    if scale is not None:
        tau = np.ldexp(tau, -scale)
        rho = np.ldexp(rho, -scale)
    return tau, rho


# ------------------------------------------------- unevaluated pairs (double-double)
#
# A pair ``(hi, lo)`` stands for the exact sum hi + lo, with |lo| about an ULP of hi or
# less; ``lo=None`` means 0.  The loss kernels carry every product and sum as a pair and
# round once at the end (``hi + lo``), so that only the errors of exp and log1p are left.


def mul_pairs(
    a_hi: Operand, a_lo: Operand | None, b_hi: Operand, b_lo: Operand | None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Product of two pairs: :math:`h + l = (a_h + a_l)(b_h + b_l)` to about :math:`2^{-104}`.

    .. math::

        h = \operatorname{fl}(a_h b_h), \qquad
        l = e + a_h b_l + a_l b_h, \quad h + e = a_h b_h \text{ exactly (two\_prod)},

    dropping :math:`a_l b_l`: the double-double product of Dekker (1971), whose
    relative error is a few :math:`2^{-106}` when :math:`|a_l| \le 2^{-52}|a_h|` and
    :math:`|b_l| \le 2^{-52}|b_h|`.  Where :func:`two_prod` is not exact and gives a
    non-finite error (a factor above about :math:`2^{996}`, an infinite product) the
    error is taken as 0, so ``h`` is then the ordinarily rounded product; where the
    product is subnormal the pair is exact to about the smallest subnormal.

    References
    ----------
    Dekker, *A floating-point technique for extending the available precision*,
    Numer. Math. 18 (1971) (``dekker1971``).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        hi, lo = two_prod(a_hi, b_hi)
        if b_lo is not None:
            lo += a_hi * b_lo
        if a_lo is not None:
            lo += a_lo * b_hi
        clean = np.isfinite(np.add.reduce(lo, axis=None))  # one pass when all is finite
    if not clean:
        lo = np.where(np.isfinite(lo), lo, 0.0)
    return hi, lo


def add_pairs(
    a_hi: Operand, a_lo: Operand | None, b_hi: Operand, b_lo: Operand | None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Sum of two pairs of finite values: :math:`h + l = a_h + a_l + b_h + b_l`.

    :math:`h + e = a_h + b_h` exactly (:func:`two_sum`) and :math:`l = e + a_l + b_l`;
    the only error is the rounding of :math:`l`, about :math:`2^{-106}` of the sum
    when both pairs are non-negative.
    """
    hi, lo = two_sum(a_hi, b_hi)
    if a_lo is not None:
        lo += a_lo
    if b_lo is not None:
        lo += b_lo
    return hi, lo


def sum_pairs(
    hi: np.ndarray, lo: np.ndarray | None, axis: int, overwrite: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    r"""Sum along ``axis`` of pairs with non-negative finite ``hi``: a compensated dot product.

    The high parts are added by :func:`accurate_sum_pair` (exact up to about
    :math:`10^{-6}` ULP), the low parts by a plain sum, whose relative error of
    :math:`K 2^{-53}` only touches a quantity below :math:`2^{-52}` of the total.
    Applied to the products of :func:`mul_pairs` this is algorithm Dot2 of Ogita, Rump
    and Oishi (2005): the result is as accurate as if computed in twice the working
    precision, :math:`|h + l - s| \lesssim (2^{-104} + K^2 2^{-106}) s` for
    non-negative terms.  An infinite term or sum gives ``inf``.  ``hi`` is not
    modified unless ``overwrite`` (for a temporary); keepdims.

    References
    ----------
    Ogita, Rump and Oishi, *Accurate sum and dot product*, SIAM J. Sci. Comput. 26
    (2005) (``ogita2005``).
    """
    terms = hi if overwrite else np.array(hi, dtype=np.float64)
    overflow = ~np.isfinite(plain_sum(terms, axis))  # a term or the sum is inf
    if overflow.any():
        terms[~np.isfinite(terms)] = 0.0
    else:
        overflow = None
    s_hi, s_lo = accurate_sum_pair(terms, axis)
    if lo is not None:
        s_lo += plain_sum(np.asarray(lo, dtype=np.float64), axis)
    if overflow is not None:
        s_hi[overflow], s_lo[overflow] = np.inf, 0.0
    return s_hi, s_lo


def div_pairs(
    n_hi: Operand, n_lo: Operand | None, d_hi: Operand, d_lo: Operand | None
) -> np.ndarray:
    r"""Quotient of two pairs of positive normal values, rounded about once.

    With :math:`q = \operatorname{fl}(n_h / d_h)` and :math:`p + e = q d_h` exactly
    (:func:`two_prod`), the residual :math:`n - q d = (n_h - p) - e + n_l - q d_l`
    is computed with one rounding (:math:`n_h - p` is exact, ``p`` being within an ULP
    of :math:`n_h`), so

    .. math::

        \frac{n_h + n_l}{d_h + d_l} = q + \frac{(n_h - p) - e + n_l - q d_l}{d_h}
        \,\big(1 + O(2^{-52})\big)

    and the result :math:`\operatorname{fl}(q + r)` is within about half an ULP of
    the exact quotient.  Where :func:`two_prod` is not exact (a quotient above about
    :math:`2^{996}`), the result is ``q``.
    """
    q = n_hi / d_hi
    with np.errstate(over="ignore", invalid="ignore"):
        p, e = two_prod(q, d_hi)  # not exact above about 2**996: then q alone
        r = (n_hi - p) - e
    if not np.isfinite(r).all():
        r = np.where(np.isfinite(r), r, 0.0)
    if n_lo is not None:
        r += n_lo
    if d_lo is not None:
        r -= q * d_lo
    r /= d_hi
    return q + r
