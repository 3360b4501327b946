"""The kernels of :mod:`celesson.fused`: input checks, the chunked forward sweep with its
moving reference, the per-token losses and the backward sweep (internal: the public
functions, the mathematics and the references are in :mod:`celesson.fused`)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _rows
from ._summation import accurate_sum, accurate_sum_pair, two_prod, two_sum
from ._validation import as_float_array, check_reduction, finish

#: Entries of logits per chunk when ``chunk_size`` is not given: N x chunk_size is
#: about 2**20 float64 numbers (8 MB), so a chunk's logits stay in a large cache.
AUTO_CHUNK_ENTRIES = 2**20
#: The reference c_i moves when the running maximum leaves [c_i - LOW, c_i + HIGH].
HIGH = 600.0
LOW = 30.0




@dataclass
class Inputs:
    h: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    targets: np.ndarray  # class indices, 0 where ignored
    valid: np.ndarray  # bool, False where ignored
    chunk: int
    reduction: str


@dataclass
class Stats:
    """Per-token results of the forward sweep."""

    c: np.ndarray  # reference shift
    s_hi: np.ndarray  # S = sum_{k != t} e^{z_k - c}, as a pair
    s_lo: np.ndarray
    z_t: np.ndarray  # target logit (0 where ignored)


# ------------------------------------------------------------------------ checks


def check_inputs(
    h: ArrayLike,
    w: ArrayLike,
    targets: ArrayLike,
    bias: ArrayLike | None,
    chunk_size: Any,
    ignore_index: Any,
    reduction: Any,
) -> Inputs:
    reduction = check_reduction(reduction)
    h_arr = as_float_array(h, "h")
    w_arr = as_float_array(w, "W")
    if h_arr.ndim != 2:
        raise ValueError(f"h must be a 2-d array (tokens x hidden), got shape {h_arr.shape}")
    if w_arr.ndim != 2:
        raise ValueError(f"W must be a 2-d array (hidden x vocabulary), got shape {w_arr.shape}")
    n, d = h_arr.shape
    if w_arr.shape[0] != d:
        raise ValueError(
            f"h and W do not fit: h has {d} columns but W has {w_arr.shape[0]} rows "
            f"(h.shape={h_arr.shape}, W.shape={w_arr.shape})"
        )
    v = w_arr.shape[1]
    if v == 0:
        raise ValueError("W must have at least one column (a vocabulary of one token)")
    for arr, name in ((h_arr, "h"), (w_arr, "W")):
        if arr.size and not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite (found inf)")
    b_arr = None
    if bias is not None:
        b_arr = as_float_array(bias, "bias")
        if b_arr.shape != (v,):
            raise ValueError(f"bias must have shape ({v},) for W of shape {w_arr.shape}, "
                             f"got {b_arr.shape}")
        if not np.isfinite(b_arr).all():
            raise ValueError("bias must be finite (found inf)")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an integer, got {ignore_index!r}")
    if chunk_size is None:
        chunk = max(64, AUTO_CHUNK_ENTRIES // max(n, 1))
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    elif chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    else:
        chunk = int(chunk_size)
    if isinstance(targets, str | bytes):
        raise TypeError("targets must hold integer class indices, got a string")
    t = np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"targets must hold integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"targets must have shape ({n},), one index per row of h, got {t.shape}")
    valid = t != ignore_index
    if valid.any():
        lo, hi = t[valid].min(), t[valid].max()
        if lo < 0 or hi >= v:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"targets holds class index {int(bad)}, outside the valid range 0..{v - 1} "
                f"for a vocabulary of {v} (and not ignore_index={int(ignore_index)})"
            )
    if reduction == "mean" and not valid.any():
        raise ValueError(
            'every target is ignore_index: reduction="mean" over zero tokens is undefined '
            '(use reduction="sum" or "none")'
        )
    targets_safe = np.where(valid, t, 0).astype(np.intp)
    return Inputs(h_arr, w_arr, b_arr, targets_safe, valid, min(chunk, v), reduction)


# ------------------------------------------------------------------ the chunks


def chunk_logits(inp: Inputs, j0: int, j1: int, buf: np.ndarray) -> np.ndarray:
    """The logits of columns ``j0:j1``: ``h @ W[:, j0:j1]`` (one product) plus the bias."""
    z = buf[: inp.h.shape[0] * (j1 - j0)].reshape(inp.h.shape[0], j1 - j0)
    np.matmul(inp.h, inp.w[:, j0:j1], out=z)
    if inp.bias is not None:
        z += inp.bias[j0:j1]
    return z


def terms(
    z: np.ndarray, c: np.ndarray | None, out: np.ndarray, work: list[np.ndarray]
) -> np.ndarray:
    r""":math:`e^{z - c}` for a block of logits, into ``out``.

    With ``c`` None (every reference of the block is 0) the terms are the correctly
    rounded :math:`e^{z}`; otherwise :math:`z - c = d + \delta` exactly (TwoSum) and
    the term is :math:`e^{d}(1 + \delta)` (:func:`celesson._rows.exp_parts`)."""
    if c is None:
        return np.exp(z, out=out)
    d, d_err, tmp = work[:3]
    _rows.shift(z, c, d, d_err, tmp)
    return _rows.exp_parts(d, d_err, out, tmp)


def row_steps(n: int, width: int) -> range:
    return range(0, n, max(1, _rows.ROW_BLOCK // max(width, 1)))


def forward(inp: Inputs) -> Stats:
    """One sweep over the chunks: the reference, the pair S and the target logit per row."""
    h, t, valid = inp.h, inp.targets, inp.valid
    n, v = h.shape[0], inp.w.shape[1]
    c = np.zeros(n)
    running = np.full(n, -np.inf)
    s_hi, s_lo = np.zeros(n), np.zeros(n)
    z_t = np.zeros(n)
    buf = np.empty(n * inp.chunk)
    step_rows = max(1, _rows.ROW_BLOCK // inp.chunk)
    work = np.empty((4, min(step_rows, n) * inp.chunk))
    with np.errstate(over="ignore", invalid="ignore"):
        for j0 in range(0, v, inp.chunk):
            j1 = min(j0 + inp.chunk, v)
            z = chunk_logits(inp, j0, j1, buf)
            top = z.max(axis=1)
            if not np.isfinite(top).all():
                raise ValueError(
                    "the logits h @ W (+ bias) overflow or are NaN: scale h or W down"
                )
            here = valid & (t >= j0) & (t < j1)
            rows_here = np.flatnonzero(here)
            cols_here = t[rows_here] - j0
            z_t[rows_here] = z[rows_here, cols_here]
            np.maximum(running, top, out=running)
            move = (running > c + HIGH) | (running < c - LOW)
            if move.any():
                move_reference(c, s_hi, s_lo, running, move)
            all_zero = not c.any()
            for r0 in row_steps(n, j1 - j0):
                r1 = min(r0 + step_rows, n)
                size = (r1 - r0) * (j1 - j0)
                blocks = [work[i, :size].reshape(r1 - r0, j1 - j0) for i in range(4)]
                e = blocks[3]
                terms(z[r0:r1], None if all_zero else c[r0:r1, None], e, blocks)
                sel = (rows_here >= r0) & (rows_here < r1)
                e[rows_here[sel] - r0, cols_here[sel]] = 0.0  # the target's own term
                part_hi, part_lo = accurate_sum_pair(e, 1, work=blocks[0])
                hi, err = two_sum(s_hi[r0:r1], part_hi[:, 0])
                s_hi[r0:r1] = hi
                s_lo[r0:r1] += err + part_lo[:, 0]
    s_hi, s_lo = two_sum(s_hi, s_lo)
    return Stats(c, s_hi, s_lo, z_t)


def move_reference(
    c: np.ndarray, s_hi: np.ndarray, s_lo: np.ndarray, running: np.ndarray, move: np.ndarray
) -> None:
    r"""Set ``c = running`` where ``move``; rescale the pair ``S`` by :math:`e^{c_{old} - c_{new}}`.

    The factor is :math:`e^{d}(1 + \delta)` with :math:`d + \delta = c_{old} - c_{new}`
    exactly; the product with the pair is formed with Dekker's product."""
    everyone = np.flatnonzero(move)
    # The reference moves down (from 0) only in the first chunk, while S is still 0:
    # there is nothing to rescale (and e^{c_old - c_new} could overflow).
    idx = everyone[s_hi[everyone] != 0.0]
    old, new = c[idx], running[idx]
    d, d_err = two_sum(old, -new)
    f = np.exp(d)
    hi, lo = s_hi[idx], s_lo[idx]
    p, pe = two_prod(hi, f)
    pe += lo * f + p * d_err
    s_hi[idx], s_lo[idx] = two_sum(p, pe)
    c[everyone] = running[everyone]


def losses(stats: Stats, valid: np.ndarray) -> np.ndarray:
    r"""Per-token losses from the sweep's results (0 where ignored).

    :math:`\ell = \operatorname{log1p}(S e^{a})` with :math:`a = c - z_t` as a TwoSum
    pair, or :math:`a + \log S` when that is above 600 (no overflow, no cancellation:
    then :math:`a > 0` and :math:`S \ge e^{-30}`, see the module docstring)."""
    a_hi, a_lo = two_sum(stats.c, -stats.z_t)
    s_hi, s_lo = stats.s_hi, stats.s_lo
    loss = np.zeros_like(s_hi)
    pos = valid & (s_hi > 0.0)  # S = 0: a vocabulary of one (or all others underflow)
    with np.errstate(divide="ignore"):
        log_s = np.log(np.where(pos, s_hi, 1.0))
    big = pos & ((a_hi > HIGH) | (a_hi + log_s > HIGH))
    small = pos & ~big
    if small.any():
        e = np.exp(a_hi[small])
        sh = s_hi[small]
        p, pe = two_prod(sh, e)
        pe += s_lo[small] * e + p * a_lo[small]
        loss[small] = np.log1p(p) + pe / (1.0 + p)
    if big.any():
        out, err = two_sum(a_hi[big], log_s[big])
        err += a_lo[big] + s_lo[big] / s_hi[big]
        loss[big] = out + err
    return loss


def reduce(loss: np.ndarray, valid: np.ndarray, reduction: str) -> Any:
    """The reduction of non-negative per-token losses, each sum rounded once."""
    if reduction == "none":
        return finish(loss)
    kept = loss[valid]
    total = accurate_sum(kept.reshape(1, -1).copy(), 1)[0, 0] if kept.size else 0.0
    if reduction == "sum":
        return np.float64(total)
    return np.float64(total / kept.size)




def backward(inp: Inputs, stats: Stats) -> tuple[np.ndarray, ...]:
    """The second sweep: dh, dW (and dbias) from the chunks of G."""
    h, t, valid = inp.h, inp.targets, inp.valid
    n, d = h.shape
    v = inp.w.shape[1]
    count = int(valid.sum())
    weight = np.where(valid, 1.0 / count if inp.reduction == "mean" else 1.0, 0.0)
    c = stats.c
    # Z = S + e^{z_t - c}: the target's own term, with z_t - c split exactly
    d_hi, d_err = two_sum(np.where(valid, stats.z_t, c), -c)  # 0 for ignored tokens
    e_t = np.exp(d_hi)  # at most e^600: z_t <= max <= c + 600
    e_t += e_t * d_err
    z_hi, z_lo = two_sum(stats.s_hi, e_t)
    z_lo += stats.s_lo
    r = weight / z_hi
    r -= r * (z_lo / z_hi)  # w / (z_hi + z_lo) to first order; 0 for ignored tokens
    target_entry = -(stats.s_hi * r)  # w (p_t - 1) = -w S / Z
    all_zero = not c.any()
    dh = np.zeros((n, d))
    dw = np.empty((d, v))
    db = np.empty(v) if inp.bias is not None else None
    buf = np.empty(n * inp.chunk)
    step_rows = max(1, _rows.ROW_BLOCK // inp.chunk)
    work = np.empty((4, min(step_rows, n) * inp.chunk))
    part_dh = np.empty((n, d))
    part_dw = np.empty((d, inp.chunk))
    with np.errstate(over="ignore", invalid="ignore"):
        for j0 in range(0, v, inp.chunk):
            j1 = min(j0 + inp.chunk, v)
            width = j1 - j0
            g = chunk_logits(inp, j0, j1, buf)  # overwritten in place by G
            for r0 in row_steps(n, width):
                r1 = min(r0 + step_rows, n)
                size = (r1 - r0) * width
                blocks = [work[i, :size].reshape(r1 - r0, width) for i in range(4)]
                zb = g[r0:r1]
                if all_zero:
                    np.exp(zb, out=zb)
                else:
                    np.copyto(blocks[3], zb)
                    terms(blocks[3], c[r0:r1, None], zb, blocks)
                zb *= r[r0:r1, None]
            rows_here = np.flatnonzero(valid & (t >= j0) & (t < j1))
            g[rows_here, t[rows_here] - j0] = target_entry[rows_here]
            np.matmul(g, inp.w[:, j0:j1].T, out=part_dh)
            dh += part_dh
            pdw = part_dw[:, :width] if width == inp.chunk else np.empty((d, width))
            np.matmul(h.T, g, out=pdw)
            dw[:, j0:j1] = pdw
            if db is not None:
                db[j0:j1] = g.sum(axis=0)
    if db is not None:
        return dh, dw, db
    return dh, dw
