r"""Multi-class losses over logits or log-probabilities, and the information measures.

:func:`cross_entropy` (with class weights, ``ignore_index`` and label smoothing, index or
probability targets), :func:`softmax_focal_loss` and :func:`nll_loss`, as in PyTorch;
:func:`entropy`, :func:`kl_divergence` and :func:`smooth_labels`. The conventions are
those of :mod:`celesson.losses`, which re-exports every function here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._ce_kernels import (
    ce_index,
    ce_options,
    ce_prob,
    ce_weighted_loss,
    masked,
    nll_row_weights,
    prepare_logits,
    prob_array,
    split_target,
    unit_scale,
)
from ._loss_options import check_gamma, check_ignore_index, reduce_pairs, weighted, weighted_mean
from ._summation import mul_pairs, sum_pairs
from ._validation import (
    FloatResult,
    as_float_array,
    as_index_array,
    check_axis,
    check_choice,
    check_distribution,
    check_int,
    check_real_scalar,
    check_reduction,
    finish,
    reduce,
)


@overload
def cross_entropy(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    axis: int = ...,
    label_smoothing: float = ...,
    reduction: Literal["none"],
    weight: ArrayLike | None = ...,
    ignore_index: int | None = ...,
) -> NDArray[np.float64]: ...
@overload
def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = ...,
    label_smoothing: float = ...,
    reduction: Literal["mean", "sum"] = ...,
    weight: ArrayLike | None = ...,
    ignore_index: int | None = ...,
) -> np.float64: ...
@overload
def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = ...,
    label_smoothing: float = ...,
    reduction: str = ...,
    weight: ArrayLike | None = ...,
    ignore_index: int | None = ...,
) -> FloatResult: ...
def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
) -> FloatResult:
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
    z, axis = prepare_logits(logits, axis)
    ignore = check_ignore_index(ignore_index)
    if weight is None and ignore is None:
        kind, t = split_target(target, z, axis)
        if kind == "index":
            loss = ce_index(z, t, axis, eps)
        else:
            loss = ce_prob(z, t, axis, eps)
        return reduce(np.squeeze(loss, axis=axis), reduction, "logits")
    opts = ce_options(z, target, axis, weight, ignore)
    if opts.weight is None:  # ignore_index only: the unweighted loss, ignored rows 0
        loss = np.squeeze(masked(ce_index(z, opts.target, axis, eps), opts.keep), axis=axis)
        if reduction == "mean":
            return weighted_mean(loss, opts.denominator, "logits")
        return reduce(loss, reduction, "logits")
    den: tuple[Any, Any] = (np.float64(opts.denominator), None)
    if opts.kind == "index":
        assert opts.row_weight is not None and opts.weight is not None
        den = sum_pairs(opts.row_weight.reshape(-1), None, 0)
        if reduction == "mean":  # the mean does not change when all weights are scaled
            scale = unit_scale(den[0], opts.weight)
            opts = replace(opts, weight=opts.weight * scale, row_weight=opts.row_weight * scale)
            den = (den[0] * scale, den[1] * scale)
    hi, lo = (np.squeeze(a, axis=axis) for a in ce_weighted_loss(z, opts, axis, eps))
    return reduce_pairs(hi, lo, reduction, den, "logits")


@overload
def softmax_focal_loss(
    logits: NDArray[np.floating],
    target: ArrayLike,
    *,
    gamma: float = ...,
    reduction: Literal["none"],
    axis: int = ...,
) -> NDArray[np.float64]: ...
@overload
def softmax_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = ...,
    reduction: Literal["mean", "sum"] = ...,
    axis: int = ...,
) -> np.float64: ...
@overload
def softmax_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = ...,
    reduction: str = ...,
    axis: int = ...,
) -> FloatResult: ...
def softmax_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    reduction: str = "mean",
    axis: int = -1,
) -> FloatResult:
    r"""Multi-class focal loss :math:`-(1 - p_t)^{\gamma} \log p_t` with softmax probabilities.

    :math:`p_t = \operatorname{softmax}(z)_t` for the class index :math:`t`.  The
    cross-entropy :math:`-\log p_t` comes from :func:`cross_entropy` and
    :math:`1 - p_t = -\operatorname{expm1}(\log p_t)`, so neither factor suffers
    cancellation.  ``gamma = 0`` gives the cross-entropy exactly.

    Parameters
    ----------
    logits : array_like
        Logits, classes along ``axis``.
    target : array_like of int
        Class indices, of the shape of ``logits`` without ``axis``.
    gamma : float, default 2.0
        Focusing parameter, :math:`\gamma \ge 0`.
    reduction : {"mean", "sum", "none"}, default "mean"
    axis : int, default -1
        The class axis (PyTorch's class dimension 1 is ``axis=1``).

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
    gamma = check_gamma(gamma)
    z, axis = prepare_logits(logits, axis)
    kind, t = split_target(target, z, axis)
    if kind != "index":
        raise TypeError("softmax_focal_loss needs integer class indices as target")
    ce = np.squeeze(ce_index(z, t, axis, 0.0), axis=axis)
    if gamma != 0.0:
        q = -np.expm1(-ce)  # 1 - p_t
        ce = weighted(np.power(q, gamma), ce)
    return reduce(ce, reduction, "logits")


@overload
def nll_loss(
    log_probs: NDArray[np.floating],
    target: ArrayLike,
    *,
    reduction: Literal["none"],
    weight: ArrayLike | None = ...,
    ignore_index: int | None = ...,
    axis: int = ...,
) -> NDArray[np.float64]: ...
@overload
def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    reduction: Literal["mean", "sum"] = ...,
    weight: ArrayLike | None = ...,
    ignore_index: int | None = ...,
    axis: int = ...,
) -> np.float64: ...
@overload
def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = ...,
    weight: ArrayLike | None = ...,
    ignore_index: int | None = ...,
    axis: int = ...,
) -> FloatResult: ...
def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    reduction: str = "mean",
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    axis: int = -1,
) -> FloatResult:
    r"""Negative log-likelihood :math:`-\log q_t` of the target class.

    Picks :math:`-\,\text{log\_probs}[\ldots, t]`; with ``log_probs =
    log_softmax(z)`` this equals :func:`cross_entropy` ``(z, t)``.  With PyTorch's
    options a sample's loss is :math:`-w_t \log q_t`, 0 for a target equal to
    ``ignore_index``, and the mean divides by :math:`\sum_n w_{t_n}` over the
    samples that are not ignored (as :func:`cross_entropy` does).

    Parameters
    ----------
    log_probs : array_like
        Log-probabilities (all :math:`\le 0`), classes along ``axis``.
    target : array_like of int
        Class indices, of the shape of ``log_probs`` without ``axis``.
    reduction : {"mean", "sum", "none"}, default "mean"
    weight : array_like of shape (K,), optional
        Finite non-negative weight of each class.
    ignore_index : int, optional
        Targets equal to it are ignored (PyTorch's default is ``-100``; here ``None``).
    axis : int, default -1
        The class axis (PyTorch's class dimension 1 is ``axis=1``).

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
    lp = np.moveaxis(lp, check_axis(axis, lp.ndim), -1)
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
    ignore = check_ignore_index(ignore_index)
    if weight is None and ignore is None:
        t = as_index_array(t_raw, "target", lp.shape[-1])
        loss = -np.take_along_axis(lp, t[..., None], axis=-1)[..., 0]
        return reduce(loss, reduction, "log_probs")
    row_w, t = nll_row_weights(lp, t_raw, weight, ignore)
    nll = -np.take_along_axis(lp, t[..., None], axis=-1)[..., 0]
    if weight is None or reduction == "none":  # one product, rounded once
        loss = weighted(row_w, nll)
        if reduction == "mean":
            return weighted_mean(loss, float(row_w.sum()), "log_probs")
        return reduce(loss, reduction, "log_probs")
    den = sum_pairs(row_w.reshape(-1), None, 0)
    if reduction == "mean":  # as in cross_entropy: scaled weights, the same mean
        scale = unit_scale(den[0], row_w)
        row_w, den = row_w * scale, (den[0] * scale, den[1] * scale)
    row_w, nll = np.atleast_1d(row_w), np.atleast_1d(nll)
    hi, lo = mul_pairs(row_w, None, np.where(row_w > 0, nll, 0.0), None)
    hi[(row_w > 0) & np.isinf(nll)] = np.inf
    return reduce_pairs(hi, lo, reduction, den, "log_probs")


def entropy(p: ArrayLike, *, axis: int = -1) -> FloatResult:
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
    arr, axis = prob_array(p, "p", axis)
    with np.errstate(divide="ignore"):
        logs = np.log(arr)
    return finish(-weighted(arr, logs).sum(axis=axis))


def kl_divergence(p: ArrayLike, q: ArrayLike, *, axis: int = -1) -> FloatResult:
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
    p_arr, axis = prob_array(p, "p", axis)
    q_arr, _ = prob_array(q, "q", axis)
    if p_arr.shape != q_arr.shape:
        raise ValueError(
            f"p and q must have the same shape, got p.shape={p_arr.shape}, q.shape={q_arr.shape}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.log(p_arr) - np.log(q_arr)
    return finish(weighted(p_arr, diff).sum(axis=axis))


def smooth_labels(
    target: ArrayLike, num_classes: int, label_smoothing: float, *, convention: str = "uniform"
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
    label_smoothing : float
        :math:`\varepsilon \in [0, 1)` (the name of PyTorch's option).
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
    convention = check_choice(convention, ("uniform", "others"), "convention")
    num_classes = check_int(num_classes, "num_classes", lo=2 if convention == "others" else 1)
    eps = check_real_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0, hi_open=True)
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
