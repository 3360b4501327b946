r"""Row kernels of the softmax family, worked through in cache-sized blocks of rows.

Every row function views its input as a C-contiguous (n, K) array with the class
axis last (:func:`as_rows`) and walks it in blocks of about ``ROW_BLOCK`` entries
(:func:`row_blocks`).  Each block's passes run on a few work arrays allocated once
per call and small enough to stay in the cache, so no pass allocates (and
page-faults) a temporary the size of the input.

The arithmetic, for a row :math:`z` with maximum :math:`m` at index :math:`k^*`:

* the shift :math:`d_k = z_k - m` is carried as ``d + d_err`` (TwoSum, exact);
* the tail :math:`t = \sum_{k \ne k^*} e^{d_k}` leaves out the maximum's own 1, so
  :math:`\log(1 + t)` keeps its relative accuracy when :math:`t` is tiny; its terms
  are exponentials of exact arguments, each rounded once by ``numpy.exp`` (of ``z``
  itself when every entry is in ``DIRECT_RANGE``, else of ``d`` with the correction
  :math:`1 + d_{err}`), and
  they are added by :func:`~celesson._summation.accurate_sum`, rounded once;
* the log-sum-exp carries :math:`\log(1 + t)` as a pair (:func:`log1p_parts`), and the
  softmax carries :math:`1 / (1 + t)` as a pair (:func:`reciprocal_parts`), so that
  each result is rounded about once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from ._summation import (
    accurate_sum,
    accurate_sum_pair,
    row_dot,
    two_prod,
    two_sum,
    two_sum_into,
)

#: Entries per block (512 KB per work array; the four of a call stay in the L2/L3 cache).
ROW_BLOCK = 2**16
#: Work arrays per block handed out by :func:`row_blocks`.
WORK_ARRAYS = 4

#: Direct exponentials are used when every entry of a block lies in this range:
#: there :math:`e^{z}` is a normal float64 and sums of up to ~10^9 terms cannot
#: overflow.
DIRECT_RANGE = (-708.0, 690.0)
#: Below this, a shifted tail sum is recomputed with scaled exponentials.
TINY_TAIL = 2.0**-960
#: Exact to add to any shift d <= -512; e^512 is far below the overflow.
SHIFT = 512.0


# ---------------------------------------------------------------------- layout


def as_rows(z: np.ndarray, axis: int, name: str = "z") -> np.ndarray:
    """``z`` with ``axis`` moved last, as a C-contiguous (n, K) array (a view if possible)."""
    if z.shape[axis] == 0:
        raise ValueError(
            f"{name} must have at least one entry along axis {axis}, got shape {z.shape}"
        )
    if axis in (-1, z.ndim - 1):  # already last: no axis to move (a call's fixed cost)
        return np.ascontiguousarray(z).reshape(-1, z.shape[-1])
    return np.ascontiguousarray(np.moveaxis(z, axis, -1)).reshape(-1, z.shape[axis])


def from_rows(rows: np.ndarray, z: np.ndarray, axis: int) -> np.ndarray:
    """Inverse of :func:`as_rows` for a result of shape (n, K) or (n, 1) (keepdims)."""
    if axis in (-1, z.ndim - 1):
        return rows.reshape((*z.shape[:-1], rows.shape[1]))
    moved = (*np.moveaxis(z, axis, -1).shape[:-1], rows.shape[1])
    return np.moveaxis(rows.reshape(moved), -1, axis)


def take_at(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[i, idx[i]]`` for each row of a 2-D ``a``, shape (n, 1): ``take_along_axis``
    on axis 1, by plain indexing (a third of its fixed cost per call)."""
    return a[np.arange(a.shape[0]), idx[:, 0]][:, np.newaxis]


def put_at(a: np.ndarray, idx: np.ndarray, value: float) -> None:
    """``a[i, idx[i]] = value`` for each row of a 2-D ``a``, in place (``put_along_axis``
    on axis 1, by plain indexing)."""
    a[np.arange(a.shape[0]), idx[:, 0]] = value


class _SpareWork(threading.local):
    """One scratch buffer per thread, lent to one :func:`row_blocks` loop at a time."""

    buffer: np.ndarray | None = None


_spare = _SpareWork()


def row_blocks(n: int, k: int) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """Blocks of about ``ROW_BLOCK`` entries: each row slice with ``WORK_ARRAYS``
    scratch arrays of the block's shape (the same memory for every block).

    The scratch memory is kept for the thread's next call (up to ``WORK_ARRAYS *
    ROW_BLOCK`` floats, 2 MB; the scratch of rows longer than a block is not kept). A
    new allocation of that size is fresh pages from the system, and faulting them in
    cost more than the arithmetic on blocks of 10**4 entries: softmax of (1000, 10)
    logits took 0.39 ms with new scratch arrays on every call, 0.17 ms with kept ones.
    A loop inside another loop (or in another thread) gets a buffer of its own; the
    lent one is handed back when the loop ends.
    """
    step = max(1, ROW_BLOCK // max(k, 1))
    shape = (WORK_ARRAYS, min(step, n), k)
    size = shape[0] * shape[1] * shape[2]
    lent = _spare.buffer
    _spare.buffer = None  # lent out: a nested loop allocates its own
    # a new buffer is a whole block's when the input spans one, so the next call can use it
    buffer = lent if lent is not None and lent.size >= size else np.empty(
        max(size, WORK_ARRAYS * min(ROW_BLOCK, n * k)))
    try:
        work = buffer[:size].reshape(shape)
        for start in range(0, n, step):
            rs = slice(start, min(start + step, n))
            rows = rs.stop - rs.start
            yield rs, [work[i, :rows] for i in range(WORK_ARRAYS)]
    finally:  # kept if it is the largest so far and not larger than a block's
        kept = _spare.buffer
        if buffer.size <= WORK_ARRAYS * ROW_BLOCK and (kept is None or kept.size < buffer.size):
            _spare.buffer = buffer


# ------------------------------------------------------------------ row checks


def row_max(z: np.ndarray, name: str = "z") -> tuple[np.ndarray, np.ndarray]:
    """Index and value of each row's largest entry, shape (n, 1); rejects NaN."""
    idx = np.argmax(z, axis=1, keepdims=True)  # the first NaN if there is one
    m = take_at(z, idx)
    if np.isnan(m).any():
        raise ValueError(f"{name} contains NaN; a number is required in every entry")
    return idx, m


#: Rows of up to this many entries have their largest entry found column by column
#: (:func:`row_max_value`).
SHORT_ROW = 16


def row_max_value(z: np.ndarray, name: str = "z") -> np.ndarray:
    """Each row's largest entry, shape (n, 1), without its index; rejects NaN.

    For rows of up to ``SHORT_ROW`` entries, ``np.maximum`` of one column after the
    other (``numpy.maximum`` propagates NaN): a reduction along short rows pays a fixed
    cost per row, and on (10**4, 10) logits this is about five times as fast as
    ``argmax`` or ``max`` along the rows. Longer rows use :func:`row_max`.
    """
    k = z.shape[1]
    if k > SHORT_ROW:
        return row_max(z, name)[1]
    m = z[:, :1].copy()
    column = m[:, 0]
    for j in range(1, k):
        np.maximum(column, z[:, j], out=column)
    if np.isnan(m).any():
        raise ValueError(f"{name} contains NaN; a number is required in every entry")
    return m


def check_finite_max(m: np.ndarray, name: str = "z") -> None:
    """Softmax needs a finite largest entry in every row."""
    if not np.isfinite(m).all():
        if np.isposinf(m).any():
            raise ValueError(
                f"{name} contains +inf: softmax is undefined there (use finite values; "
                "-inf is allowed and gives probability 0)"
            )
        raise ValueError(
            f"every slice of {name} along the class axis must contain a finite entry "
            "(found a slice that is entirely -inf)"
        )


def direct_ok(z: np.ndarray, m: np.ndarray) -> bool:
    """True when ``exp(z)`` is a normal number for every entry (and cannot overflow)."""
    if z.size == 0:
        return True
    lo, hi = DIRECT_RANGE
    return bool(m.max() <= hi and z.min() >= lo)


def zero_nonfinite(a: np.ndarray) -> None:
    """Set the inf and NaN entries of ``a`` to 0, in place (one sum when there are none)."""
    with np.errstate(over="ignore", invalid="ignore"):
        clean = bool(np.isfinite(a.sum()))  # finite terms whose sum does not overflow
    if not clean:
        a[~np.isfinite(a)] = 0.0


# --------------------------------------------------------------------- kernels


def shift(z: np.ndarray, m: np.ndarray, d: np.ndarray, d_err: np.ndarray, tmp: np.ndarray) -> None:
    """``d = fl(z - m)`` and its exact error ``d_err`` (0 where ``z = -inf``)."""
    two_sum_into(z, -m, d, d_err, tmp)
    zero_nonfinite(d_err)


def exp_parts(
    d: np.ndarray, d_err: np.ndarray, out: np.ndarray, tmp: np.ndarray, offset: float = 0.0
) -> np.ndarray:
    r""":math:`e^{d + d_{err} + \text{offset}}`, as :math:`e^{d + \text{offset}}(1 + d_{err})`.

    Written into ``out`` (also returned); ``tmp`` is scratch.

    Without the correction the relative error would grow like :math:`|d|` ULP
    (hundreds of ULP at :math:`d \approx -700`), because ``d`` is ``z - m``
    rounded; :math:`|d_{err}|` is at most half an ULP of ``d``, so
    :math:`e^{d_{err}} = 1 + d_{err}` to working precision.
    """
    if offset:
        np.add(d, offset, out=out)
        np.exp(out, out=out)
    else:
        np.exp(d, out=out)
    np.multiply(d_err, out, out=tmp)
    out += tmp
    return out


def tail_sum(
    z: np.ndarray,
    idx: np.ndarray,
    m: np.ndarray,
    work: list[np.ndarray],
    d_out: np.ndarray | None = None,
) -> np.ndarray:
    r"""Tail sums :math:`t = \sum_{k \ne k^*} e^{z_k - m}` of a block ``z`` (b, K), shape (b, 1).

    ``idx`` and ``m`` locate and hold each row's finite maximum.  With ``d_out``
    the rounded shifts ``z - m`` are stored there.  The terms:

    * every entry in ``DIRECT_RANGE`` (the common case):
      :math:`t = \sum_{k \ne k^*} e^{z_k} / e^{m}`, exponentials of the exact inputs;
    * otherwise :func:`exp_parts`; when :math:`t < 2^{-960}` every term is below
      :math:`e^{-665}` and may be subnormal, where each rounding costs up to half
      the smallest subnormal, so such rows are recomputed as
      :math:`e^{-512} \sum_k e^{(z_k - m) + 512}`.
    """
    e, tmp, d_err, d_own = work
    if direct_ok(z, m):
        np.exp(z, out=e)
        put_at(e, idx, 0.0)
        t = accurate_sum(e, 1, work=tmp)
        t /= np.exp(m)
        if d_out is not None:
            np.subtract(z, m, out=d_out)
        return t
    d = d_own if d_out is None else d_out
    shift(z, m, d, d_err, tmp)
    exp_parts(d, d_err, e, tmp)
    put_at(e, idx, 0.0)
    t = accurate_sum(e, 1, work=tmp)
    tiny = t < TINY_TAIL
    if tiny.any():
        exp_parts(d, d_err, e, tmp, offset=SHIFT)
        put_at(e, idx, 0.0)
        t_scaled = accurate_sum(e, 1, work=tmp) * np.exp(-SHIFT)
        t = np.where(tiny, t_scaled, t)
    return t


#: :math:`e^{-\text{SHIFT}}` as a pair ``hi + lo`` (60-digit value, checked in the tests).
EXP_MINUS_SHIFT = (4.377491037053051e-223, 2.706079830228623e-239)


def tail_pair(
    z: np.ndarray, idx: np.ndarray, m: np.ndarray, work: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Tail sums :math:`t = \sum_{k \ne k^*} e^{z_k - m}` as pairs, for the weighted losses.

    Unlike :func:`tail_sum`, the terms are always :math:`E_k (1 + d_{err,k})` with
    :math:`E_k = \operatorname{fl}(e^{d_k})` of the exact shift :math:`d_k + d_{err,k}
    = z_k - m`, and the sum is returned unrounded: the high parts :math:`E_k` by
    :func:`~celesson._summation.accurate_sum_pair`, the corrections
    :math:`E_k d_{err,k}` by a plain sum.  So :math:`t_{hi} + t_{lo}` is off only by
    the roundings of ``exp``, never by a division by a rounded :math:`e^m` or by a
    rounded sum.  Rows with :math:`t < 2^{-960}` (``tiny``, shape (b, 1)) are returned
    scaled by :math:`e^{\text{SHIFT}}` (their terms would be subnormal), as in
    :func:`tail_sum`; the caller multiplies by ``EXP_MINUS_SHIFT`` last.

    ``work`` is :func:`row_blocks`' list; on return ``work[3]`` holds ``d`` and
    ``work[2]`` holds ``d_err`` (0 where :math:`z_k = -\infty`).
    """
    e, tmp, d_err, d = work
    shift(z, m, d, d_err, tmp)
    t_hi, t_lo = _tail_terms_sum(d, d_err, idx, e, tmp, 0.0)
    tiny = t_hi < TINY_TAIL
    if tiny.any():
        s_hi, s_lo = _tail_terms_sum(d, d_err, idx, e, tmp, SHIFT)
        t_hi = np.where(tiny, s_hi, t_hi)
        t_lo = np.where(tiny, s_lo, t_lo)
    return t_hi, t_lo, tiny


def _tail_terms_sum(
    d: np.ndarray, d_err: np.ndarray, idx: np.ndarray, e: np.ndarray, tmp: np.ndarray,
    offset: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The pair sum of :math:`e^{d + \\text{offset}}(1 + d_{err})` over each row but ``idx``."""
    if offset:
        np.add(d, offset, out=e)  # exact for d <= -512, the only terms that matter then
        np.exp(e, out=e)
    else:
        np.exp(d, out=e)
    put_at(e, idx, 0.0)
    lo = row_dot(e, d_err)
    t_hi, t_lo = accurate_sum_pair(e, 1, work=tmp)
    t_lo += lo
    return t_hi, t_lo


def log1p_parts(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\log(1 + t)` as an unevaluated pair ``hi + lo``.

    ``hi = log(fl(1 + t))``; one Newton step on :math:`e^{L} = 1 + t` gives the
    rest, :math:`\text{lo} = (1 + t - e^{\text{hi}}) / e^{\text{hi}}`, with
    :math:`1 + t` kept exactly as a TwoSum pair.  The difference
    :math:`\operatorname{fl}(1 + t) - e^{\text{hi}}` is exact (the two are within a
    few ULP), so the only error left is the rounding of :math:`e^{\text{hi}}`: at
    most :math:`2^{-52}` absolute in :math:`\log(1 + t)`.  Per row, so cheap.
    """
    s_hi, s_lo = two_sum(np.ones_like(t), t)
    hi = np.log(s_hi)
    back = np.exp(hi)
    lo = np.subtract(s_hi, back)
    lo += s_lo
    lo /= back
    return hi, lo


def add_log1p(m: np.ndarray, t: np.ndarray) -> np.ndarray:
    r""":math:`m + \log(1 + t)`, rounded almost once: both parts of
    :func:`log1p_parts` and the TwoSum error of :math:`m + \text{hi}` are added last."""
    l_hi, l_lo = log1p_parts(t)
    out, err = two_sum(m, l_hi)
    err += l_lo
    out += err
    return out


def reciprocal_parts(s_hi: np.ndarray, s_lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`1 / (s_{hi} + s_{lo})` as :math:`r (1 + \rho)`: ``r`` rounded, ``rho`` the rest.

    ``r = fl(1 / s_hi)``; the residual :math:`1 - s_{hi} r` is computed exactly with
    Dekker's product (a split into halves, so no FMA is needed), and
    :math:`\rho = (1 - s_{hi} r) / (s_{hi} r) - s_{lo} / s_{hi}` to first order, with
    :math:`|s_{lo}| \ll s_{hi}`.  Per row, so the dozen operations cost nothing.
    For :math:`1 \le s_{hi}` well inside the float64 range.
    """
    r = 1.0 / s_hi
    prod, err = two_prod(s_hi, r)  # s_hi r = prod + err exactly
    rho = ((1.0 - prod) - err) / prod  # 1 - prod is exact: prod is within an ULP of 1
    rho -= s_lo / s_hi
    return r, rho


def softmax_block(z: np.ndarray, out: np.ndarray, work: list[np.ndarray], name: str) -> None:
    r"""Softmax of each row of the block ``z`` (b, K), into ``out``.

    With :math:`d_k + d_{err,k} = z_k - m` (TwoSum) and :math:`E_k = \operatorname{fl}(e^{d_k})`,

    .. math::

        p_k = \frac{e^{z_k - m}}{1 + t} = E_k \, e^{d_{err,k}} \, r (1 + \rho)
            \approx E_k r \,\bigl(1 + d_{err,k} + \rho\bigr),

    where :math:`1 + t = \sum_k E_k (1 + d_{err,k})` is kept as a pair (the sum of all
    the terms, the maximum's exact 1 among them, rounded once plus its rounding error:
    next to 1 an absolute error of :math:`10^{-6}` ULP is all the reciprocal needs, so
    unlike :func:`tail_sum` this needs no index of the maximum) and
    :math:`r (1 + \rho)` is its reciprocal to twice the working precision
    (:func:`reciprocal_parts`).  So each probability suffers the rounding
    of its own exponential, of one product and of one correction, and nothing else:
    dividing by a rounded sum instead costs up to 2.3 ULP on the benchmark set.
    """
    m = row_max_value(z, name)
    check_finite_max(m, name)
    d, d_err, tmp, _ = work
    shift(z, m, d, d_err, tmp)
    exps = np.exp(d, out=out)
    # 1 + t = sum of E_k (1 + d_err_k), the maximum's own term 1 included (only the
    # pair's absolute accuracy next to 1 matters here, so its index is not needed):
    # the E_k summed exactly, their corrections plainly
    s_hi, s_lo = accurate_sum_pair(exps, 1, work=tmp, keep=True)
    s_lo += row_dot(exps, d_err)
    r, rho = reciprocal_parts(s_hi, s_lo)
    out *= r  # E_k r
    d_err += rho
    d_err *= out
    out += d_err


def log_softmax_block(z: np.ndarray, out: np.ndarray, work: list[np.ndarray], name: str) -> None:
    r""":math:`(z_k - m) - \operatorname{log1p}(t)` for each row of the block, into ``out``."""
    idx, m = row_max(z, name)
    check_finite_max(m, name)
    t = tail_sum(z, idx, m, work, d_out=out)
    out -= np.log1p(t)


def logsumexp_block(z: np.ndarray, work: list[np.ndarray]) -> np.ndarray:
    """Log-sum-exp of each row of the block, shape (b, 1); infinite maxima pass through."""
    idx, m = row_max(z)
    finite = np.isfinite(m)
    if finite.all():
        return add_log1p(m, tail_sum(z, idx, m, work))
    # rows whose maximum is +inf or -inf: the answer is that maximum
    m_safe = np.where(finite, m, 0.0)
    out = add_log1p(m_safe, tail_sum(np.where(finite, z, 0.0), idx, m_safe, work))
    return np.where(finite, out, m)


def lse_parts(
    z: np.ndarray, axis: int, name: str = "z", keep_shifted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``idx``, ``m``, ``t`` (keepdims along ``axis``) and optionally ``z - m``, for the
    loss functions; with the softmax input checks."""
    rows = as_rows(z, axis, name)
    n, k = rows.shape
    idx = np.empty((n, 1), dtype=np.intp)
    m = np.empty((n, 1))
    t = np.empty((n, 1))
    d = np.empty((n, k)) if keep_shifted else None
    for rs, work in row_blocks(n, k):
        idx[rs], m[rs] = row_max(rows[rs], name)
        check_finite_max(m[rs], name)
        t[rs] = tail_sum(rows[rs], idx[rs], m[rs], work, None if d is None else d[rs])
    return (
        from_rows(idx, z, axis),
        from_rows(m, z, axis),
        from_rows(t, z, axis),
        None if d is None else from_rows(d, z, axis),
    )
