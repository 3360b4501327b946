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
:math:`[-30, 600]`) the terms are plain exponentials of the logits, each rounded once by
``exp``, and no rescaling error arises at all.  It moves to the running maximum when that
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

from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._fused_kernels import (
    backward,
    check_inputs,
    forward,
    losses,
    reduce,
)
from ._validation import FloatResult

__all__ = ["linear_cross_entropy", "linear_cross_entropy_grad"]


# ------------------------------------------------------------------ public API


@overload
def linear_cross_entropy(
    h: NDArray[np.floating],
    W: ArrayLike,
    targets: ArrayLike,
    *,
    bias: ArrayLike | None = ...,
    chunk_size: int | None = ...,
    ignore_index: int = ...,
    reduction: Literal["none"],
) -> NDArray[np.float64]: ...
@overload
def linear_cross_entropy(
    h: ArrayLike,
    W: ArrayLike,
    targets: ArrayLike,
    *,
    bias: ArrayLike | None = ...,
    chunk_size: int | None = ...,
    ignore_index: int = ...,
    reduction: Literal["mean", "sum"] = ...,
) -> np.float64: ...
@overload
def linear_cross_entropy(
    h: ArrayLike,
    W: ArrayLike,
    targets: ArrayLike,
    *,
    bias: ArrayLike | None = ...,
    chunk_size: int | None = ...,
    ignore_index: int = ...,
    reduction: str = ...,
) -> FloatResult: ...
def linear_cross_entropy(
    h: ArrayLike,
    W: ArrayLike,
    targets: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    chunk_size: int | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> FloatResult:
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
    inp = check_inputs(h, W, targets, bias, chunk_size, ignore_index, reduction)
    stats = forward(inp)
    return reduce(losses(stats, inp.valid), inp.valid, inp.reduction)


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
) -> tuple[FloatResult, ...]:
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
    inp = check_inputs(h, W, targets, bias, chunk_size, ignore_index, reduction)
    stats = forward(inp)
    grads = backward(inp, stats)
    if return_loss:
        return (reduce(losses(stats, inp.valid), inp.valid, inp.reduction), *grads)
    return grads
