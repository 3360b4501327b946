r"""Cross-entropy of a linear output layer, computed over vocabulary chunks.

A language model's last layer maps hidden states :math:`h \in \mathbb{R}^{N \times d}`
to logits :math:`Z = hW + b` over a vocabulary of :math:`V` tokens.  The textbook
path forms the :math:`N \times V` matrix :math:`Z`, its log-softmax and the gradient
of the same size; here the vocabulary is cut into chunks of ``chunk_size`` columns
and each chunk's logits :math:`Z_j = h W_{:, j} + b_j` live only while that chunk is
processed.  Nothing of size :math:`N \times V` is ever allocated.

**The forward pass** keeps, per token :math:`i` with target :math:`t_i`, a reference
shift :math:`c_i` and the sum of the *other* terms

.. math::

    S_i = \sum_{k \ne t_i} e^{z_{ik} - c_i},
    \qquad
    \ell_i = \log\Big(1 + \sum_{k \ne t_i} e^{z_{ik} - z_{it_i}}\Big)
           = \operatorname{log1p}\big(S_i\, e^{c_i - z_{it_i}}\big),

an online log-sum-exp in the sense of Milakov and Gimelshein (2018): one sweep over
the chunks, with the reference moved (and the sum rescaled by
:math:`e^{c_{\text{old}} - c_{\text{new}}}`) only when it must be.  The reference
starts at :math:`c_i = 0`, so that for ordinary logits (the running maximum within
:math:`[-30, 600]`) the terms are plain exponentials of the logits, correctly rounded,
and no rescaling error arises at all.  It moves to the running maximum when that
leaves :math:`[c_i - 30, c_i + 600]`: the terms then stay below :math:`e^{600}` (no
overflow) and the largest one above :math:`e^{-30}` (no underflow), and each term is
taken as :math:`e^{d}(1 + \delta)` with :math:`d + \delta = z - c` split exactly by
TwoSum, as in :mod:`celesson._rows`.

Two further steps keep the loss within about two ULP of the exact cross-entropy of
the same float64 logits:

* each chunk's terms are added with one rounding (the package's
  :func:`~celesson._summation.accurate_sum_pair`), and the chunk sums are merged into
  a double-length running sum :math:`S = S_{hi} + S_{lo}` with TwoSum, so the sum of
  :math:`V` terms is as good as exact: its only errors are those of the terms;
* the loss is formed from :math:`s = S e^{a}`, :math:`a = c - z_t`, as
  :math:`\operatorname{log1p}(s_{hi}) + s_{lo} / (1 + s_{hi})`: a sum of positive
  terms, so a tiny loss (a confident correct prediction) keeps its relative accuracy.
  When :math:`a > 600` or :math:`\log S + a > 600` the loss is large and is taken as
  :math:`a + \log S` instead, without overflow.

**The backward pass** sweeps the chunks once more (the logits are recomputed, as in
Cut Cross-Entropy), with the final :math:`c_i` and the full sum
:math:`Z_i = S_i + e^{z_{it_i} - c_i}`:

.. math::

    G_{ik} = w_i\big(p_{ik} - [k = t_i]\big),\quad
    p_{ik} = \frac{e^{z_{ik} - c_i}}{Z_i},\quad
    p_{it_i} - 1 = -\frac{S_i}{Z_i},

    \frac{\partial L}{\partial h} = \sum_j G_{:, j} W_{:, j}^{\top}, \qquad
    \frac{\partial L}{\partial W_{:, j}} = h^{\top} G_{:, j}, \qquad
    \frac{\partial L}{\partial b_j} = \mathbf{1}^{\top} G_{:, j},

with :math:`w_i = 1/n` for ``"mean"`` over the :math:`n` counted tokens, 1 for
``"sum"`` and ``"none"``, and 0 for ignored tokens.  The target's entry is formed
as :math:`-S_i / Z_i`, which does not cancel when :math:`p_{it_i}` is close to 1.

References
----------
Milakov, M. and Gimelshein, N. (2018). Online normalizer calculation for softmax.
arXiv:1805.02867.

Wijmans, E. et al. (2025). Cut your losses in large-vocabulary language models.
ICLR 2025, arXiv:2411.09009.

Rump, S. M., Ogita, T. and Oishi, S. (2008). Accurate floating-point summation
part I. SIAM J. Sci. Comput. 31(1).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _rows
from ._summation import accurate_sum, accurate_sum_pair, two_prod, two_sum
from ._validation import as_float_array, check_reduction, finish

__all__ = ["linear_cross_entropy", "linear_cross_entropy_grad"]

#: Entries of logits per chunk when ``chunk_size`` is not given: N x chunk_size is
#: about 2**20 float64 numbers (8 MB), so a chunk's logits stay in a large cache.
AUTO_CHUNK_ENTRIES = 2**20
#: The reference c_i moves when the running maximum leaves [c_i - LOW, c_i + HIGH].
HIGH = 600.0
LOW = 30.0


@dataclass
class _Inputs:
    h: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    targets: np.ndarray  # class indices, 0 where ignored
    valid: np.ndarray  # bool, False where ignored
    chunk: int
    reduction: str


@dataclass
class _Stats:
    """Per-token results of the forward sweep."""

    c: np.ndarray  # reference shift
    s_hi: np.ndarray  # S = sum_{k != t} e^{z_k - c}, as a pair
    s_lo: np.ndarray
    z_t: np.ndarray  # target logit (0 where ignored)


# ------------------------------------------------------------------------ checks


def _check_inputs(
    h: ArrayLike,
    w: ArrayLike,
    targets: ArrayLike,
    bias: ArrayLike | None,
    chunk_size: Any,
    ignore_index: Any,
    reduction: Any,
) -> _Inputs:
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
    return _Inputs(h_arr, w_arr, b_arr, targets_safe, valid, min(chunk, v), reduction)


# ------------------------------------------------------------------ the chunks


def _chunk_logits(inp: _Inputs, j0: int, j1: int, buf: np.ndarray) -> np.ndarray:
    """The logits of columns ``j0:j1``: ``h @ W[:, j0:j1]`` (one product) plus the bias."""
    z = buf[: inp.h.shape[0] * (j1 - j0)].reshape(inp.h.shape[0], j1 - j0)
    np.matmul(inp.h, inp.w[:, j0:j1], out=z)
    if inp.bias is not None:
        z += inp.bias[j0:j1]
    return z


def _terms(
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


def _row_steps(n: int, width: int) -> range:
    return range(0, n, max(1, _rows.ROW_BLOCK // max(width, 1)))


def _forward(inp: _Inputs) -> _Stats:
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
            z = _chunk_logits(inp, j0, j1, buf)
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
                _move_reference(c, s_hi, s_lo, running, move)
            all_zero = not c.any()
            for r0 in _row_steps(n, j1 - j0):
                r1 = min(r0 + step_rows, n)
                size = (r1 - r0) * (j1 - j0)
                blocks = [work[i, :size].reshape(r1 - r0, j1 - j0) for i in range(4)]
                e = blocks[3]
                _terms(z[r0:r1], None if all_zero else c[r0:r1, None], e, blocks)
                sel = (rows_here >= r0) & (rows_here < r1)
                e[rows_here[sel] - r0, cols_here[sel]] = 0.0  # the target's own term
                part_hi, part_lo = accurate_sum_pair(e, 1, work=blocks[0])
                hi, err = two_sum(s_hi[r0:r1], part_hi[:, 0])
                s_hi[r0:r1] = hi
                s_lo[r0:r1] += err + part_lo[:, 0]
    s_hi, s_lo = two_sum(s_hi, s_lo)
    return _Stats(c, s_hi, s_lo, z_t)


def _move_reference(
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


def _losses(stats: _Stats, valid: np.ndarray) -> np.ndarray:
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


def _reduce(loss: np.ndarray, valid: np.ndarray, reduction: str) -> Any:
    """The reduction of non-negative per-token losses, each sum rounded once."""
    if reduction == "none":
        return finish(loss)
    kept = loss[valid]
    total = accurate_sum(kept.reshape(1, -1).copy(), 1)[0, 0] if kept.size else 0.0
    if reduction == "sum":
        return np.float64(total)
    return np.float64(total / kept.size)


# ------------------------------------------------------------------ public API


def linear_cross_entropy(
    h: ArrayLike,
    W: ArrayLike,
    targets: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    chunk_size: int | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Any:
    r"""Cross-entropy of :math:`\operatorname{softmax}(hW + b)` against class indices, in chunks.

    .. math::

        \ell_i = \log \sum_{k=1}^{V} e^{z_{ik}} - z_{it_i}, \qquad z = hW + b,

    computed over chunks of ``chunk_size`` vocabulary columns with an online
    log-sum-exp (see the module docstring), never holding the :math:`N \times V`
    logits.  The logits of a chunk are ``h @ W[:, j0:j1]`` (one matrix product) plus
    ``bias[j0:j1]``; each per-token loss is within about 2 ULP of the exact
    cross-entropy of those float64 logits.

    Parameters
    ----------
    h : array_like, shape (N, d)
        Hidden states, finite.  The computation is in float64: other inputs are
        converted (which copies them).
    W : array_like, shape (d, V)
        Output weights, finite (float64, or converted).
    targets : array_like of int, shape (N,)
        Class indices in ``0..V-1``, or ``ignore_index`` for tokens left out.
    bias : array_like, shape (V,), optional
    chunk_size : int, optional
        Vocabulary columns per chunk; by default about :math:`2^{20} / N`.
    ignore_index : int, default -100
        Targets equal to it count neither in the loss nor in the mean (PyTorch's
        convention).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides the sum by the number of counted tokens; ``"none"``
        returns the per-token losses (0 for ignored tokens).

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Raises
    ------
    ValueError
        For shapes that do not fit, targets out of range, non-finite inputs or
        logits, a mean over zero tokens, a chunk size below 1.
    TypeError
        For non-integer targets, chunk size or ignore index.

    Examples
    --------
    >>> h = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> W = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> losses = linear_cross_entropy(h, W, [0, -100], chunk_size=2, reduction="none")
    >>> bool(losses[0] == np.log1p(2 * np.exp(-2.0))), float(losses[1])
    (True, 0.0)

    References
    ----------
    Milakov and Gimelshein (2018); Wijmans et al. (2025).
    """
    inp = _check_inputs(h, W, targets, bias, chunk_size, ignore_index, reduction)
    stats = _forward(inp)
    return _reduce(_losses(stats, inp.valid), inp.valid, inp.reduction)


def linear_cross_entropy_grad(
    h: ArrayLike,
    W: ArrayLike,
    targets: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    chunk_size: int | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    return_loss: bool = False,
) -> tuple[Any, ...]:
    r"""Gradients of :func:`linear_cross_entropy` with respect to ``h``, ``W`` (and ``bias``).

    Two sweeps over the vocabulary chunks: the first is the forward pass, the second
    recomputes each chunk's logits and forms the chunk of the logit gradient
    :math:`G = w\,(\operatorname{softmax}(z) - \text{onehot}(t))` (the target's entry
    as :math:`-S/Z`, without cancellation), which goes straight into
    :math:`\partial L/\partial h \mathrel{+}= G_j W_j^{\top}`,
    :math:`\partial L/\partial W_j = h^{\top} G_j` and
    :math:`\partial L/\partial b_j = \mathbf{1}^{\top} G_j`.

    ``reduction="none"`` gives the gradients of the *sum* of the per-token losses
    (what PyTorch's ``loss.backward(torch.ones_like(loss))`` gives): row :math:`i` of
    ``dh`` is then the gradient of :math:`\ell_i` alone.

    Accuracy: against the unfused path (materialised logits, the package's
    :func:`~celesson.grads.cross_entropy_grad`, then the two products), every entry
    of ``dh`` differs by at most :math:`(2\gamma_V + 8u)\,(|G|\,|W|^{\top})` and every
    entry of ``dW`` by at most :math:`(2\gamma_N + 8u)\,(|h|^{\top} |G|)`, where
    :math:`u = 2^{-53}`, :math:`\gamma_n = nu / (1 - nu)` bounds the rounding of a dot
    product of length :math:`n` (Higham 2002, section 3.1) in either path, and
    :math:`8u` bounds the difference of the two paths' entries of :math:`G` (each
    within a few ULP of the exact softmax); where entries of :math:`G` are subnormal,
    add a few multiples of :math:`2^{-1074}` per term.

    Parameters
    ----------
    h, W, targets, bias, chunk_size, ignore_index, reduction
        As in :func:`linear_cross_entropy`.
    return_loss : bool, default False
        Also return the loss (with the same reduction), which the first sweep
        computes anyway.

    Returns
    -------
    tuple
        ``(dh, dW)``, or ``(dh, dW, dbias)`` when a bias is given; with
        ``return_loss`` the loss comes first: ``(loss, dh, dW[, dbias])``.

    Examples
    --------
    >>> h = np.array([[1.0, 0.0]])
    >>> W = np.zeros((2, 2))
    >>> dh, dW = linear_cross_entropy_grad(h, W, [1])
    >>> dW.tolist()  # softmax = (1/2, 1/2), minus the one-hot target, times h^T
    [[0.5, -0.5], [0.0, 0.0]]
    """
    if not isinstance(return_loss, bool | np.bool_):
        raise TypeError(f"return_loss must be a bool, got {return_loss!r}")
    inp = _check_inputs(h, W, targets, bias, chunk_size, ignore_index, reduction)
    stats = _forward(inp)
    grads = _backward(inp, stats)
    if return_loss:
        return (_reduce(_losses(stats, inp.valid), inp.valid, inp.reduction), *grads)
    return grads


def _backward(inp: _Inputs, stats: _Stats) -> tuple[np.ndarray, ...]:
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
            g = _chunk_logits(inp, j0, j1, buf)  # overwritten in place by G
            for r0 in _row_steps(n, width):
                r1 = min(r0 + step_rows, n)
                size = (r1 - r0) * width
                blocks = [work[i, :size].reshape(r1 - r0, width) for i in range(4)]
                zb = g[r0:r1]
                if all_zero:
                    np.exp(zb, out=zb)
                else:
                    np.copyto(blocks[3], zb)
                    _terms(blocks[3], c[r0:r1, None], zb, blocks)
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
