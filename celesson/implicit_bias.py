r"""Where gradient descent goes on separable data: the logistic asymptote, and a polynomial tail.

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

**A polynomial tail.**  :math:`\ell(u) = \sqrt{u^2 + 1} - u` (:func:`sqrt_tail_loss`) is
smooth, convex, strictly decreasing, and tends to 0 like :math:`1/(2u)`.  Its gradient
flow on separable data diverges too, but differently: :math:`-\ell'(u) \approx 1/(2u^2)`, and
the self-similar solution :math:`\theta(\tau) = \tau^{1/3} v_\star` solves the flow to
leading order exactly when

.. math::

    v_\star = \frac{3}{2N}\sum_n \frac{z_n}{(z_n^\top v_\star)^2},

the stationarity condition of the strictly convex
:math:`G(v) = \frac{3}{2N}\sum_n (z_n^\top v)^{-1} + \frac12\|v\|^2` on the cone
:math:`z_n^\top v > 0` (:func:`sqrt_tail_limit`).  So the norm grows like
:math:`\|v_\star\|\,\tau^{1/3}`, and the direction tends to :math:`v_\star/\|v_\star\|`, the
minimiser of :math:`\sum_n 1/(z_n^\top u)` on the unit sphere: every example counts, not
only the support vectors, and the limit is not the max-margin direction in general
(Nacson et al. 2019; Ji et al. 2020).

References
----------
.. [1] D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro, "The implicit bias
   of gradient descent on separable data", JMLR 19 (2018), arXiv:1710.10345.
.. [2] M. S. Nacson, J. D. Lee, S. Gunasekar, P. H. P. Savarese, N. Srebro, D. Soudry,
   "Convergence of gradient descent on separable data", AISTATS 2019, arXiv:1803.01905.
.. [3] Z. Ji, M. Dudik, R. E. Schapire, M. Telgarsky, "Gradient descent follows the
   regularization path for general losses", COLT 2020, arXiv:2006.11226.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._summation import two_prod, two_sum
from ._validation import as_float_array, check_int, check_reduction
from .linear import TrainingRecord, log_time_gradient_flow, max_margin_separator

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


def _signed_rows(X: ArrayLike, y: ArrayLike) -> Array:
    """Rows :math:`z_n = s_n x_n`, checked (2-D, finite, labels 0/1)."""
    Xa = as_float_array(X, "X")
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {Xa.shape}")
    if not np.isfinite(Xa).all():
        raise ValueError("X must be finite")
    ya = np.asarray(y)
    if ya.dtype.kind not in "biuf":
        raise TypeError(f"y must hold the labels 0 and 1, got dtype {ya.dtype}")
    if ya.shape != (Xa.shape[0],):
        raise ValueError(f"y must have shape ({Xa.shape[0]},), got {ya.shape}")
    if not np.isin(ya, (0, 1)).all():
        raise ValueError("y must hold only the labels 0 and 1")
    return np.where(ya == 1, 1.0, -1.0)[:, None] * Xa


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
    Z = _signed_rows(X, y)
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


# ------------------------------------------------------------- the polynomial tail


#: Beyond this magnitude :math:`\sqrt{u^2+1}` rounds to :math:`|u|` with a relative
#: error far below 2**-53, and :math:`u^2` would overflow the double-length path.
_BIG = 2.0**500


def _sqrt_tail_parts(u: ArrayLike) -> tuple[Array, Array, Array]:
    r""":math:`\ell(u)` and :math:`r = \sqrt{u^2+1}` as a pair :math:`r + r_{lo}`, all to ~1 ULP.

    :math:`u^2 + 1` is formed exactly as a pair (Dekker's product and Knuth's sum), its
    square root is corrected by one Newton step on the pair, and :math:`r + |u|` is kept
    as a pair: :math:`\ell = r + |u|` for :math:`u < 0` and :math:`\ell = 1/(r + |u|)` for
    :math:`u \ge 0` (one correction step of the reciprocal).
    """
    x = as_float_array(u, "u")
    a = np.abs(x)
    big = a > _BIG
    am = np.where(big, 1.0, a)
    sq, sq_err = two_prod(am, am)
    s, s_err = two_sum(sq, np.ones_like(sq))
    s_err += sq_err
    r = np.sqrt(s)
    rr, rr_err = two_prod(r, r)
    r_lo = (((s - rr) - rr_err) + s_err) / (2.0 * r)
    d, d_lo = two_sum(r, am)
    d_lo += r_lo
    q = 1.0 / d
    qd, qd_err = two_prod(q, d)
    inv = q + q * (((1.0 - qd) - qd_err) - q * d_lo)
    ell = np.where(x >= 0, inv, d + d_lo)
    with np.errstate(over="ignore"):
        ell = np.where(big, np.where(x >= 0, 0.5 / np.where(big, a, 1.0), 2.0 * a), ell)
    r = np.where(big, a, r)
    r_lo = np.where(big, 0.0, r_lo)
    return ell, r, r_lo


def sqrt_tail_loss(u: ArrayLike) -> Array:
    r""":math:`\ell(u) = \sqrt{u^2 + 1} - u`, a margin loss with the polynomial tail :math:`1/(2u)`.

    Evaluated without cancellation: :math:`1/(\sqrt{u^2+1} + u)` for :math:`u \ge 0`
    (the same number), :math:`\sqrt{u^2+1} + |u|` (a sum of positives) for :math:`u < 0`,
    with :math:`\sqrt{u^2+1}` carried in double length (within about 1 ULP).

    Examples
    --------
    >>> sqrt_tail_loss([0.0, 1e10, -1.0]).tolist() == [1.0, 5e-11, 1.0 + 2.0**0.5]
    True
    """
    return _sqrt_tail_parts(u)[0]


def sqrt_tail_loss_grad(u: ArrayLike) -> Array:
    r""":math:`\ell'(u) = u/\sqrt{u^2+1} - 1 = -\ell(u)/\sqrt{u^2+1} \in (-2, 0)`.

    The second form has no cancellation. For large :math:`u`, :math:`\ell'(u) \approx -1/(2u^2)`.

    Examples
    --------
    >>> sqrt_tail_loss_grad([0.0]).tolist()
    [-1.0]
    """
    ell, r, r_lo = _sqrt_tail_parts(u)
    q = ell / r
    return -(q - q * (r_lo / r))


def sqrt_tail_loss_curvature(u: ArrayLike) -> Array:
    r""":math:`\ell''(u) = (u^2 + 1)^{-3/2} \in (0, 1]`: the loss is convex and 1-smooth.

    Evaluated as :math:`1/(r\,(u^2+1))` with both factors in double length and one
    correction step of the reciprocal; beyond :math:`|u| = 2^{300}` as :math:`|u|^{-3}`
    from the mantissa of :math:`|u|`, exactly rescaled.

    Examples
    --------
    >>> sqrt_tail_loss_curvature([0.0]).tolist()
    [1.0]
    """
    x = as_float_array(u, "u")
    a = np.abs(x)
    far = a > 2.0**300
    # near: 1 / (r (u^2 + 1)); far: (u^2 + 1)^(-3/2) = |u|^-3 to far below an ULP,
    # computed on the mantissa b of |u| = b 2^e (exact) and scaled back by 2^(-3e)
    am = np.where(far, 1.0, a)
    _, r, r_lo = _sqrt_tail_parts(am)
    sq, sq_err = two_prod(am, am)
    s, s_err = two_sum(sq, np.ones_like(sq))
    s_err += sq_err
    mant, expo = np.frexp(np.where(far, a, 1.0))
    b = np.where(far, mant, 1.0)
    b2, b2_err = two_prod(b, b)
    r = np.where(far, b, r)
    r_lo = np.where(far, 0.0, r_lo)
    s = np.where(far, b2, s)
    s_err = np.where(far, b2_err, s_err)
    p, p_err = two_prod(r, s)
    p_lo = p_err + r * s_err + r_lo * s
    q = 1.0 / p
    qp, qp_err = two_prod(q, p)
    c = q + q * (((1.0 - qp) - qp_err) - q * p_lo)
    return np.where(far, np.ldexp(c, np.where(far, -3 * expo, 0)), c)


def _theta_and_rows(theta: ArrayLike, X: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    Z = _signed_rows(X, y)
    th = as_float_array(theta, "theta")
    if th.shape != (Z.shape[1],) or not np.isfinite(th).all():
        raise ValueError(f"theta must be finite with shape ({Z.shape[1]},), got {th.shape}")
    return th, Z


def sqrt_tail_regression_loss(theta: ArrayLike, X: ArrayLike, y: ArrayLike) -> float:
    r"""Mean loss :math:`\frac1N\sum_n \ell(s_n x_n^\top\theta)` with :func:`sqrt_tail_loss`.

    Examples
    --------
    >>> sqrt_tail_regression_loss([0.0], [[1.0], [2.0]], [1, 0])
    1.0
    """
    th, Z = _theta_and_rows(theta, X, y)
    return float(np.mean(sqrt_tail_loss(Z @ th)))


def sqrt_tail_regression_grad(theta: ArrayLike, X: ArrayLike, y: ArrayLike) -> Array:
    r"""Gradient :math:`\frac1N\sum_n \ell'(z_n^\top\theta)\, z_n` of the mean sqrt-tail loss.

    Examples
    --------
    >>> sqrt_tail_regression_grad([0.0], [[1.0], [2.0]], [1, 0]).tolist()
    [0.5]
    """
    th, Z = _theta_and_rows(theta, X, y)
    return Z.T @ sqrt_tail_loss_grad(Z @ th) / Z.shape[0]


def sqrt_tail_gradient_flow(
    X: ArrayLike,
    y: ArrayLike,
    times: Sequence[float],
    *,
    t_start: float = 1e-6,
    steps_per_unit: int = 20,
) -> TrainingRecord:
    r"""Gradient flow of :func:`sqrt_tail_regression_loss` from :math:`\theta = 0`, to huge times.

    Integrated in log-time by :func:`celesson.linear.log_time_gradient_flow` (the
    gradient decays like :math:`\tau^{-2/3}` on separable data, and
    :math:`\tau\,\operatorname{tr}\nabla^2 L` stays bounded).

    Examples
    --------
    >>> rec = sqrt_tail_gradient_flow([[1.0], [-1.0]], [1, 0], [1.0, 100.0])
    >>> bool(rec.norms[1] > rec.norms[0] > 0)
    True
    """
    Z = _signed_rows(X, y)
    N = Z.shape[0]
    ZtN = np.ascontiguousarray(Z.T) / N
    row_sq = np.einsum("ij,ij->i", Z, Z) / N

    def grad(th: Array) -> Array:
        return ZtN @ sqrt_tail_loss_grad(Z @ th)

    def trace(th: Array) -> float:
        return float(row_sq @ sqrt_tail_loss_curvature(Z @ th))

    def loss(th: Array) -> float:
        return float(np.mean(sqrt_tail_loss(Z @ th)))

    return log_time_gradient_flow(grad, trace, np.zeros(Z.shape[1]), times, loss=loss,
                                  t_start=t_start, steps_per_unit=steps_per_unit)


def sqrt_tail_limit(X: ArrayLike, y: ArrayLike, *, max_iter: int = 100) -> Array:
    r"""The vector :math:`v_\star` of the growth :math:`\theta(\tau) \approx \tau^{1/3} v_\star`.

    :math:`v_\star` minimises the strictly convex
    :math:`G(v) = \frac{3}{2N}\sum_n (z_n^\top v)^{-1} + \frac12\|v\|^2` on the cone
    :math:`z_n^\top v > 0`, computed by Newton's method with backtracking (kept inside
    the cone) from the best multiple of the max-margin separator, until the gradient
    is at rounding level.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1, separable through the origin.
    max_iter : int, default 100

    Returns
    -------
    numpy.ndarray of shape (d,)

    Examples
    --------
    >>> v = sqrt_tail_limit([[1.0, 0.0], [0.0, 1.0]], [1, 1])   # v_i^3 = 3/4
    >>> np.allclose(v, 0.75 ** (1 / 3), rtol=1e-14)
    True
    """
    Z = _signed_rows(X, y)
    n_iter = check_int(max_iter, "max_iter", lo=1)
    N = Z.shape[0]
    a = 1.5 / N
    w = max_margin_separator(X, y).w
    m = Z @ w
    # best multiple k w of the separator: G(k w) = (a/k) sum 1/m + k^2 |w|^2 / 2
    v = w * (a * float(np.sum(1.0 / m)) / float(w @ w)) ** (1.0 / 3.0)

    def G(v: Array) -> float:
        return a * float(np.sum(1.0 / (Z @ v))) + 0.5 * float(v @ v)

    for _ in range(n_iter):
        u = Z @ v
        g = v - a * (Z.T @ (1.0 / u**2))
        if float(np.linalg.norm(g)) <= 4e-16 * float(np.linalg.norm(v)) * math.sqrt(N):
            return v
        H = 2.0 * a * (Z.T * (1.0 / u**3)) @ Z
        H[np.diag_indices_from(H)] += 1.0
        step = np.linalg.solve(H, g)
        t, g0 = 1.0, G(v)
        while True:
            cand = v - t * step
            if (Z @ cand).min() > 0.0 and G(cand) <= g0:
                break
            t /= 2.0
            if t < 1e-12:
                return v  # no further decrease representable: at the minimum
        v = cand
    raise ValueError(f"sqrt_tail_limit did not converge in max_iter={n_iter}")
