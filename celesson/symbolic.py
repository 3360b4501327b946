r"""The SymPy side of the course: standard symbols and expressions, and :func:`verify`.

Chapters build derivations from the expressions here (:func:`sigma`,
:func:`softmax`, :func:`bce`, ...) and assert each stated identity with
:func:`verify`, which first tries to *prove* it by simplification and otherwise
checks it numerically with 50-digit arithmetic at seeded random points.  The
result prints what was verified and how::

    >>> from celesson.symbolic import z, y, sigma, bce, verify
    >>> import sympy as sp

    >>> print(verify(sp.diff(bce(sigma(z), y), z), sigma(z) - y,
    ...              description="dC/dz = sigma(z) - y"))
    ✔ verified symbolically: dC/dz = sigma(z) - y

Standard symbols and the default domains used for numeric checks (open intervals;
integers inclusive):

========  ===================================  =================
symbol    assumptions                          default domain
========  ===================================  =================
``z``     real (a logit)                       (-8, 8)
``y``     real (a target in [0, 1])            (0, 1)
``a``     positive (a predicted probability)   (0, 1)
``p, q``  positive (probabilities)             (0, 1)
``w, b``  real (weight, bias)                  (-4, 4)
``x``     real (an input)                      (-4, 4)
``eps``   positive (label smoothing)           (0, 1)
``gamma`` nonnegative (focal parameter)        (0, 5)
``alpha`` positive (focal weight)              (0, 1)
``T``     positive (temperature)               (0.05, 10)
``tau``   real (a step length)                 (-4, 4)
``K``     positive integer (classes)           2 .. 7
========  ===================================  =================

Other real symbols default to (-4, 4), positive ones to (0, 4), integer ones to
1 .. 6; pass ``domains={symbol: (lo, hi)}`` to :func:`verify` to choose.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, cast

import sympy as sp

from .symbols import (
    DEFAULT_DOMAINS,
    K,
    T,
    a,
    alpha,
    b,
    eps,
    gamma,
    i,
    j,
    k,
    p,
    q,
    tau,
    w,
    x,
    y,
    z,
    zi,
)
from .verification import Verification, verify, verify_nonnegative

__all__ = [
    "DEFAULT_DOMAINS",
    "K",
    "T",
    "Verification",
    "a",
    "alpha",
    "b",
    "bce",
    "bce_logits",
    "binary_entropy",
    "cross_entropy",
    "entropy",
    "eps",
    "focal",
    "focal_logits",
    "gamma",
    "i",
    "j",
    "k",
    "kl_divergence",
    "log_softmax",
    "logsumexp",
    "mse",
    "p",
    "q",
    "sigma",
    "smooth_labels",
    "softmax",
    "softmax_indexed",
    "softmax_symbols",
    "tau",
    "verify",
    "verify_nonnegative",
    "w",
    "x",
    "y",
    "z",
    "zi",
]

# ----------------------------------------------------------------------------- symbols


# ------------------------------------------------------------------------- expressions


def sigma(arg: Any) -> sp.Expr:
    r"""The logistic sigmoid :math:`\sigma(u) = 1/(1 + e^{-u})` as a SymPy expression.

    Parameters
    ----------
    arg : sympy expression or number

    Returns
    -------
    sympy.Expr
    """
    return 1 / (1 + sp.exp(-sp.sympify(arg)))


def softmax_symbols(num_classes: int, name: str = "z") -> list[sp.Symbol]:
    r"""Real symbols ``z_1, ..., z_K`` for a softmax over a fixed number of classes.

    Parameters
    ----------
    num_classes : int
        :math:`K \ge 1`.
    name : str, default "z"
        The symbols' stem.

    Returns
    -------
    list of sympy.Symbol
        ``[z_1, ..., z_K]``, real.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be an integer, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return list(sp.symbols(f"{name}_1:{int(num_classes) + 1}", real=True))


def softmax(logits: Sequence[Any]) -> list[sp.Expr]:
    r""":math:`\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}` for a list of expressions.

    Parameters
    ----------
    logits : sequence of sympy expression or number
        At least one.

    Returns
    -------
    list of sympy.Expr
        One probability per logit.
    """
    terms = [sp.exp(sp.sympify(v)) for v in logits]
    if not terms:
        raise ValueError("logits must contain at least one expression")
    total = sp.Add(*terms)
    return [t / total for t in terms]


def logsumexp(logits: Sequence[Any]) -> sp.Expr:
    r""":math:`\log \sum_k e^{z_k}` for a list of expressions.

    Parameters
    ----------
    logits : sequence of sympy expression or number
        At least one.

    Returns
    -------
    sympy.Expr
    """
    if len(logits) == 0:
        raise ValueError("logits must contain at least one expression")
    return sp.log(sp.Add(*[sp.exp(sp.sympify(v)) for v in logits]))


def log_softmax(logits: Sequence[Any]) -> list[sp.Expr]:
    r""":math:`z_k - \log\sum_j e^{z_j}` for a list of expressions.

    Parameters
    ----------
    logits : sequence of sympy expression or number
        At least one.

    Returns
    -------
    list of sympy.Expr
    """
    lse = logsumexp(logits)
    return [sp.sympify(v) - lse for v in logits]


def softmax_indexed(index: Any = i, num_classes: Any = K, base: sp.IndexedBase = zi) -> sp.Expr:
    r"""Softmax with a symbolic number of classes, :math:`e^{z_i} / \sum_{j=1}^{K} e^{z_j}`.

    Uses :class:`sympy.IndexedBase` and :class:`sympy.Sum`; :func:`verify` checks
    identities in it numerically for several concrete ``K``.

    Parameters
    ----------
    index : sympy expression, default ``i``
        The class whose probability is taken.
    num_classes : sympy expression, default ``K``
        The number of classes (a symbol or a number).
    base : sympy.IndexedBase, default ``zi``
        The logits :math:`z_1, \dots, z_K`.

    Returns
    -------
    sympy.Expr
    """
    dummy = sp.Symbol("j_", integer=True, positive=True)
    return sp.exp(base[index]) / sp.Sum(sp.exp(base[dummy]), (dummy, 1, num_classes))


def bce(prob: Any, target: Any) -> sp.Expr:
    r"""Binary cross-entropy :math:`-y\log a - (1-y)\log(1-a)`.

    Parameters
    ----------
    prob : sympy expression or number
        :math:`a \in (0, 1)`.
    target : sympy expression or number
        :math:`y \in [0, 1]`.

    Returns
    -------
    sympy.Expr
    """
    prob, target = sp.sympify(prob), sp.sympify(target)
    return -(target * sp.log(prob) + (1 - target) * sp.log(1 - prob))


def bce_logits(logit: Any, target: Any) -> sp.Expr:
    r"""Binary cross-entropy of :math:`\sigma(z)`: ``bce(sigma(z), y)``.

    Parameters
    ----------
    logit : sympy expression or number
        :math:`z`.
    target : sympy expression or number
        :math:`y \in [0, 1]`.

    Returns
    -------
    sympy.Expr
    """
    return bce(sigma(logit), target)


def binary_entropy(prob: Any) -> sp.Expr:
    r"""Binary entropy :math:`-a\log a - (1-a)\log(1-a)` (the minimum of ``bce(., a)``).

    Parameters
    ----------
    prob : sympy expression or number
        :math:`a \in (0, 1)`.

    Returns
    -------
    sympy.Expr
    """
    return bce(prob, prob)


def mse(pred: Any, target: Any) -> sp.Expr:
    r"""Squared error :math:`(a - y)^2` (no :math:`\tfrac12`, as :func:`celesson.mse_loss`).

    Parameters
    ----------
    pred, target : sympy expression or number

    Returns
    -------
    sympy.Expr
    """
    return (sp.sympify(pred) - sp.sympify(target)) ** 2


def cross_entropy(logits: Sequence[Any], target: int | Sequence[Any]) -> sp.Expr:
    r"""Cross-entropy :math:`-\sum_k y_k \log\operatorname{softmax}(z)_k`.

    ``target`` is a class index (0-based, as in :func:`celesson.cross_entropy`) or a
    list of target probabilities.

    Parameters
    ----------
    logits : sequence of sympy expression or number
    target : int or sequence of sympy expression or number
        A class index (0-based) or one probability per logit.

    Returns
    -------
    sympy.Expr
    """
    logs = log_softmax(logits)
    if isinstance(target, numbers.Integral):
        if not 0 <= int(target) < len(logs):
            raise ValueError(f"target index {target} out of range for {len(logs)} classes")
        return -logs[int(target)]
    probs = list(cast(Sequence[Any], target))
    if len(probs) != len(logs):
        raise ValueError(f"target has {len(probs)} entries, logits {len(logs)}")
    return -sp.Add(*[sp.sympify(t) * lg for t, lg in zip(probs, logs, strict=True)])


def smooth_labels(
    target: int, num_classes: int, label_smoothing: Any = eps, convention: str = "uniform"
) -> list[sp.Expr]:
    r"""Smoothed one-hot target, ``"uniform"`` (eps/K everywhere) or ``"others"`` (eps/(K-1)).

    Parameters
    ----------
    target : int
        The class index (0-based).
    num_classes : int
        :math:`K`.
    label_smoothing : sympy expression, default ``eps``
        :math:`\varepsilon`.
    convention : {"uniform", "others"}, default "uniform"

    Returns
    -------
    list of sympy.Expr
        :math:`K` target probabilities, summing to 1.
    """
    if convention == "uniform":
        return [
            (1 - label_smoothing) * (1 if c == target else 0) + label_smoothing / num_classes
            for c in range(num_classes)
        ]
    if convention == "others":
        return [
            1 - label_smoothing if c == target else label_smoothing / (num_classes - 1)
            for c in range(num_classes)
        ]
    raise ValueError(f'convention must be "uniform" or "others", got {convention!r}')


def focal(p_t: Any, gamma: Any = gamma, alpha: Any = 1) -> sp.Expr:
    r"""Focal loss in terms of :math:`p_t`: :math:`-\alpha (1 - p_t)^{\gamma} \log p_t`.

    Parameters
    ----------
    p_t : sympy expression or number
        The probability given to the true class.
    gamma : sympy expression, default ``gamma``
        The focusing parameter :math:`\gamma \ge 0`.
    alpha : sympy expression, default 1
        The class weight :math:`\alpha`.

    Returns
    -------
    sympy.Expr
    """
    p_t = sp.sympify(p_t)
    return -alpha * (1 - p_t) ** gamma * sp.log(p_t)


def focal_logits(
    logit: Any, target: Any, gamma: Any = gamma, alpha: Any = None
) -> sp.Expr:
    r"""Binary focal loss from a logit, the formula of :func:`celesson.sigmoid_focal_loss`.

    :math:`\alpha_t\,(y\,\sigma(-z) + (1-y)\,\sigma(z))^{\gamma}\,\mathrm{bce}(\sigma(z), y)`
    with :math:`\alpha_t = \alpha y + (1-\alpha)(1-y)` (1 when ``alpha`` is None).

    Parameters
    ----------
    logit : sympy expression or number
        :math:`z`.
    target : sympy expression or number
        :math:`y \in [0, 1]`.
    gamma : sympy expression, default ``gamma``
    alpha : sympy expression or None, default None

    Returns
    -------
    sympy.Expr
    """
    logit, target = sp.sympify(logit), sp.sympify(target)
    modulator = target * sigma(-logit) + (1 - target) * sigma(logit)
    weight = 1 if alpha is None else alpha * target + (1 - alpha) * (1 - target)
    return weight * modulator**gamma * bce_logits(logit, target)


def entropy(probs: Sequence[Any]) -> sp.Expr:
    r"""Shannon entropy :math:`-\sum_k p_k \log p_k`.

    Parameters
    ----------
    probs : sequence of sympy expression or number

    Returns
    -------
    sympy.Expr
        In nats.
    """
    return -sp.Add(*[sp.sympify(v) * sp.log(v) for v in probs])


def kl_divergence(probs: Sequence[Any], other: Sequence[Any]) -> sp.Expr:
    r""":math:`\sum_k p_k \log(p_k / q_k)`.

    Parameters
    ----------
    probs, other : sequence of sympy expression or number
        :math:`p` and :math:`q`, of equal length (in the order of :func:`celesson.kl_divergence`).

    Returns
    -------
    sympy.Expr
        :math:`\mathrm{KL}(p\,\|\,q)` in nats.
    """
    if len(probs) != len(other):
        raise ValueError(f"p has {len(probs)} entries, q {len(other)}")
    return sp.Add(*[sp.sympify(u) * sp.log(u / v) for u, v in zip(probs, other, strict=True)])


# ------------------------------------------------------------------------ verification


