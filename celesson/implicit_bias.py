r"""Where gradient descent goes on separable data: the logistic asymptote.

**The logistic asymptote.**  Train :math:`L(\theta) = \frac1N\sum_n \ell(z_n^\top\theta)`,
:math:`\ell(u) = \ln(1 + e^{-u})`, :math:`z_n = s_n x_n` (labels folded in,
:math:`s_n = 2y_n - 1`), by gradient flow :math:`\dot\theta = -\nabla L(\theta)`, or by
gradient descent with rate :math:`\eta`, whose :math:`k` steps reach the time
:math:`\tau = \eta k`.  On separable data (Soudry et al. 2018, for almost every data set)

.. math::

    \theta(\tau) = \hat w \ln\tau + \tilde w + o(1),

with :math:`\hat w = \sum_n \alpha_n z_n` the hard-margin separator and :math:`\alpha` its
dual variables.  Put the ansatz into the flow: every term of
:math:`-\nabla L = \frac1N\sum_n \sigma(-z_n^\top\theta)\, z_n` is asymptotically
:math:`\frac1N e^{-z_n^\top\tilde w}\,\tau^{-z_n^\top\hat w} z_n`; on the support vectors
:math:`S` (where :math:`z_n^\top\hat w = 1`) this decays like :math:`1/\tau`, elsewhere
faster.  Matching :math:`\dot\theta = \hat w/\tau` term by term gives, for :math:`n \in S`,

.. math::

    N\alpha_n = e^{-z_n^\top\tilde w}
    \qquad\text{(for the sum of the losses instead of the mean: } \alpha_n = e^{-z_n^\top\tilde w}).

These equations fix the component of :math:`\tilde w` in the span of
:math:`\{z_n\}_{n\in S}`.  A component orthogonal to that span (only possible when the
support vectors do not span :math:`\mathbb{R}^d`) is moved only by the non-support
vectors, whose pull is integrable in :math:`\tau`; it converges, but to a value that
depends on the start and the whole transient, not on the asymptote.  Two consequences
need no more than the support vectors: because :math:`\hat w \in \operatorname{span} Z_S`,

.. math::

    c = \frac{\hat w^\top\tilde w}{\|\hat w\|}
      = -\frac{1}{\|\hat w\|}\sum_{n\in S}\alpha_n \ln(N\alpha_n),
    \qquad \sum_{n\in S}\alpha_n = \|\hat w\|^2 = \gamma^{-2},

is the offset of :math:`\|\theta(\tau)\| = \|\hat w\|\ln\tau + c + O(1/\ln\tau)`, and the
angle to :math:`\hat w` is :math:`\arctan\bigl(\|P_\perp\tilde w\| / (\|\hat w\|\ln\tau + c)\bigr)
+ o(1/\ln\tau)`, so :math:`\text{angle}\cdot\ln\tau \to \|P_\perp\tilde w\|/\|\hat w\|`
(:math:`P_\perp` projects out :math:`\hat w`).  Linearising the flow around the asymptote
in :math:`s = \ln\tau` shows how fast the :math:`o(1)` term dies: like
:math:`\tau^{-\kappa}` with :math:`\kappa` the smaller of
:math:`\min_{n\notin S} z_n^\top\hat w - 1` (the pull of the nearest non-support vector)
and the smallest eigenvalue of
:math:`\sum_{n\in S}\alpha_n z_n z_n^\top` on the span (which has :math:`\hat w` as an
eigenvector with eigenvalue exactly 1).  :func:`logistic_asymptote` computes all of it.

The loss with a polynomial tail, whose flow goes elsewhere, is in
:mod:`celesson.sqrt_tail` (its names are re-exported here).

References
----------
.. [1] D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro, "The implicit bias
   of gradient descent on separable data", JMLR 19 (2018), arXiv:1710.10345.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_reduction
from .linear import max_margin_separator
from .max_margin import signed_rows
from .sqrt_tail import (
    sqrt_tail_gradient_flow,
    sqrt_tail_limit,
    sqrt_tail_loss,
    sqrt_tail_loss_curvature,
    sqrt_tail_loss_grad,
    sqrt_tail_regression_grad,
    sqrt_tail_regression_loss,
)

__all__ = [
    "LogisticAsymptote",
    "logistic_asymptote",
    "logistic_step_size_bound",
    "sqrt_tail_gradient_flow",
    "sqrt_tail_limit",
    "sqrt_tail_loss",
    "sqrt_tail_loss_curvature",
    "sqrt_tail_loss_grad",
    "sqrt_tail_regression_grad",
    "sqrt_tail_regression_loss",
]

Array = NDArray[np.float64]
_REDUCTIONS = ("mean", "sum")


# ---------------------------------------------------------------- logistic asymptote


@dataclass(frozen=True)
class LogisticAsymptote:
    r"""The asymptote :math:`\theta(\tau) = \hat w\ln\tau + \tilde w + o(1)` of the logistic flow.

    Attributes
    ----------
    w_hat : numpy.ndarray of shape (d,)
        The hard-margin separator :math:`\hat w`.
    w_tilde : numpy.ndarray of shape (d,)
        :math:`\tilde w`: its component in the span of the support vectors solves
        :math:`N\alpha_n = e^{-z_n^\top\tilde w}` (``"mean"``) or
        :math:`\alpha_n = e^{-z_n^\top\tilde w}` (``"sum"``) on the support set; if the
        support vectors do not span :math:`\mathbb{R}^d` (``determined`` false) the rest
        is not fixed by the asymptote and is set to 0 here.
    alpha : numpy.ndarray of shape (N,)
        Dual variables of the separator (zero off the support set).
    support : numpy.ndarray of int
        Indices of the support vectors.
    offset : float
        :math:`c = \hat w^\top\tilde w/\|\hat w\|`, always determined.
    decay_exponent : float
        :math:`\kappa`: the :math:`o(1)` term decays like :math:`\tau^{-\kappa}` (``inf``
        if there is nothing to decay).
    determined : bool
        Whether the support vectors span :math:`\mathbb{R}^d`, so that :math:`\tilde w`
        (and the angle asymptote) is fully fixed.
    reduction : str
        ``"mean"`` or ``"sum"``: the normalisation of the loss the flow descends.
    """

    w_hat: Array
    w_tilde: Array
    alpha: Array = field(repr=False)
    support: NDArray[np.intp]
    offset: float
    decay_exponent: float
    determined: bool
    reduction: str

    @property
    def w_tilde_perp(self) -> Array:
        r""":math:`P_\perp\tilde w`, the part of :math:`\tilde w` orthogonal to :math:`\hat w`."""
        e = self.w_hat / np.linalg.norm(self.w_hat)
        return self.w_tilde - (self.w_tilde @ e) * e

    @property
    def angle_limit(self) -> float:
        r"""The limit of angle times :math:`\ln\tau`: :math:`\|P_\perp\tilde w\|/\|\hat w\|`.

        Raises ``ValueError`` when ``determined`` is false (it depends on the transient).
        """
        if not self.determined:
            raise ValueError("the support vectors do not span R^d: the angle limit depends "
                             "on the transient, not only on the asymptote")
        return float(np.linalg.norm(self.w_tilde_perp) / np.linalg.norm(self.w_hat))

    def theta(self, tau: ArrayLike) -> Array:
        r""":math:`\hat w\ln\tau + \tilde w` at each :math:`\tau > 0`, shape ``(*tau.shape, d)``."""
        t = np.asarray(tau, dtype=np.float64)
        return np.log(t)[..., None] * self.w_hat + self.w_tilde

    def norm(self, tau: ArrayLike) -> Array:
        r"""The norm of the asymptote at :math:`\tau`.

        :math:`\|\hat w\ln\tau + \tilde w\| = \sqrt{(\|\hat w\|\ln\tau + c)^2
        + \|P_\perp\tilde w\|^2}`.
        """
        t = np.asarray(tau, dtype=np.float64)
        along = float(np.linalg.norm(self.w_hat)) * np.log(t) + self.offset
        return np.hypot(along, float(np.linalg.norm(self.w_tilde_perp)))

    def angle(self, tau: ArrayLike) -> Array:
        r"""Angle between :math:`\hat w\ln\tau + \tilde w` and :math:`\hat w`.

        :math:`\arctan\bigl(\|P_\perp\tilde w\| / (\|\hat w\|\ln\tau + c)\bigr)` where the
        denominator is positive.
        """
        if not self.determined:
            raise ValueError("the support vectors do not span R^d: the angle asymptote is "
                             "not fixed by the support set")
        t = np.asarray(tau, dtype=np.float64)
        along = float(np.linalg.norm(self.w_hat)) * np.log(t) + self.offset
        return np.arctan2(float(np.linalg.norm(self.w_tilde_perp)), along)


def logistic_asymptote(X: ArrayLike, y: ArrayLike, *, reduction: str = "mean") -> LogisticAsymptote:
    r"""Solve for the asymptote :math:`\hat w\ln\tau + \tilde w` of the logistic gradient flow.

    :math:`\hat w` and :math:`\alpha` come from :func:`celesson.linear.max_margin_separator`;
    :math:`\tilde w` is the minimum-norm solution of
    :math:`z_n^\top\tilde w = -\ln(N\alpha_n)` (``"mean"``; :math:`-\ln\alpha_n` for
    ``"sum"``) over the support set :math:`S`.  Time is that of the gradient flow of the
    chosen objective; gradient descent with rate :math:`\eta` reaches
    :math:`\tau = \eta k` after :math:`k` steps.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1; the data must be separable by a hyperplane through the origin.
    reduction : {"mean", "sum"}, default "mean"
        Whether the flow descends the mean of the losses (as
        :func:`celesson.linear.logistic_regression_loss`) or their sum (as Soudry et al.).

    Returns
    -------
    LogisticAsymptote

    Examples
    --------
    >>> a = logistic_asymptote([[1.0, 0.0], [0.0, 1.0]], [1, 1])
    >>> np.round(a.w_tilde, 12).tolist()   # N alpha_n = 2 = exp(-w_tilde_n)
    [-0.69314718056, -0.69314718056]
    """
    red = check_reduction(reduction, _REDUCTIONS)
    Z = signed_rows(X, y)
    mm = max_margin_separator(X, y)
    S = mm.support
    scale = Z.shape[0] if red == "mean" else 1.0
    rhs = -np.log(scale * mm.alpha[S])
    ZS = Z[S]
    w_tilde = np.linalg.lstsq(ZS, rhs, rcond=None)[0]
    rank = int(np.linalg.matrix_rank(ZS))
    determined = rank == Z.shape[1]
    w_hat = mm.w
    offset = -float(mm.alpha[S] @ np.log(scale * mm.alpha[S])) / float(np.linalg.norm(w_hat))
    others = np.setdiff1d(np.arange(Z.shape[0]), S)
    kappa_pull = float((Z[others] @ w_hat).min() - 1.0) if others.size else math.inf
    M = (ZS.T * mm.alpha[S]) @ ZS
    # eigenvalues of M restricted to span(Z_S): drop the rank-deficient directions
    eig = np.sort(np.linalg.eigvalsh(M))[::-1][:rank]
    kappa = min(kappa_pull, float(eig.min()))
    return LogisticAsymptote(w_hat, w_tilde, mm.alpha, S, offset, kappa, determined, red)


def logistic_step_size_bound(X: ArrayLike, *, reduction: str = "mean") -> float:
    r"""Soudry et al.'s step-size condition for gradient descent on the logistic loss.

    Their theorem needs :math:`\eta < 2/(\beta\,\sigma_{\max}^2(X))` for the *sum* of
    :math:`\beta`-smooth losses; the logistic loss has :math:`\beta = \tfrac14`, so
    :math:`\eta < 8/\sigma_{\max}^2(X)`.  The mean divides the objective, hence its
    smoothness, by :math:`N`: :math:`\eta < 8N/\sigma_{\max}^2(X)`.  (The sign folding
    :math:`z_n = s_n x_n` does not change the singular values.)

    Parameters
    ----------
    X : array_like of shape (N, d)
        The data (labels do not matter).
    reduction : {"mean", "sum"}, default "mean"
        The objective gradient descent minimises.

    Returns
    -------
    float
        The bound on :math:`\eta` (strict inequality).

    Examples
    --------
    >>> logistic_step_size_bound([[2.0, 0.0], [0.0, 1.0]], reduction="sum")
    2.0
    """
    red = check_reduction(reduction, _REDUCTIONS)
    Xa = as_float_array(X, "X")
    if Xa.ndim != 2 or Xa.size == 0 or not np.isfinite(Xa).all():
        raise ValueError(f"X must be a finite non-empty 2-D array, got shape {Xa.shape}")
    smax = float(np.linalg.norm(Xa, 2))
    n = Xa.shape[0] if red == "mean" else 1
    return 8.0 * n / smax**2
