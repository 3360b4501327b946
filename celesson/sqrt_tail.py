r"""A loss with a polynomial tail, and where its gradient flow goes on separable data.

:math:`\ell(u) = \sqrt{u^2 + 1} - u` (:func:`sqrt_tail_loss`) is
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
.. [1] M. S. Nacson, J. D. Lee, S. Gunasekar, P. H. P. Savarese, N. Srebro, D. Soudry,
   "Convergence of gradient descent on separable data", AISTATS 2019, arXiv:1803.01905.
.. [2] Z. Ji, M. Dudik, R. E. Schapire, M. Telgarsky, "Gradient descent follows the
   regularization path for general losses", COLT 2020, arXiv:2006.11226.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._summation import two_prod, two_sum
from ._validation import as_float_array, check_int
from .history import History
from .linear import log_time_gradient_flow, max_margin_separator
from .max_margin import signed_rows

__all__ = [
    "sqrt_tail_gradient_flow",
    "sqrt_tail_limit",
    "sqrt_tail_loss",
    "sqrt_tail_loss_curvature",
    "sqrt_tail_loss_grad",
    "sqrt_tail_regression_grad",
    "sqrt_tail_regression_loss",
]

Array = NDArray[np.float64]


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

    Parameters
    ----------
    u : array_like
        Margins :math:`u = s\,x^\top\theta`, finite or infinite.

    Returns
    -------
    numpy.ndarray
        :math:`\ell(u) > 0`, same shape as ``u``.

    Examples
    --------
    >>> sqrt_tail_loss([0.0, 1e10, -1.0]).tolist() == [1.0, 5e-11, 1.0 + 2.0**0.5]
    True
    """
    return _sqrt_tail_parts(u)[0]


def sqrt_tail_loss_grad(u: ArrayLike) -> Array:
    r""":math:`\ell'(u) = u/\sqrt{u^2+1} - 1 = -\ell(u)/\sqrt{u^2+1} \in (-2, 0)`.

    The second form has no cancellation. For large :math:`u`, :math:`\ell'(u) \approx -1/(2u^2)`.

    Parameters
    ----------
    u : array_like
        Margins.

    Returns
    -------
    numpy.ndarray
        :math:`\ell'(u)`, same shape as ``u``.

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

    Parameters
    ----------
    u : array_like
        Margins.

    Returns
    -------
    numpy.ndarray
        :math:`\ell''(u)`, same shape as ``u``.

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
    Z = signed_rows(X, y)
    th = as_float_array(theta, "theta")
    if th.shape != (Z.shape[1],) or not np.isfinite(th).all():
        raise ValueError(f"theta must be finite with shape ({Z.shape[1]},), got {th.shape}")
    return th, Z


def sqrt_tail_regression_loss(theta: ArrayLike, X: ArrayLike, y: ArrayLike) -> float:
    r"""Mean loss :math:`\frac1N\sum_n \ell(s_n x_n^\top\theta)` with :func:`sqrt_tail_loss`.

    Parameters
    ----------
    theta : array_like of shape (d,)
        The weights, finite.
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.

    Returns
    -------
    float

    Examples
    --------
    >>> sqrt_tail_regression_loss([0.0], [[1.0], [2.0]], [1, 0])
    1.0
    """
    th, Z = _theta_and_rows(theta, X, y)
    return float(np.mean(sqrt_tail_loss(Z @ th)))


def sqrt_tail_regression_grad(theta: ArrayLike, X: ArrayLike, y: ArrayLike) -> Array:
    r"""Gradient :math:`\frac1N\sum_n \ell'(z_n^\top\theta)\, z_n` of the mean sqrt-tail loss.

    Parameters
    ----------
    theta : array_like of shape (d,)
        The weights, finite.
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.

    Returns
    -------
    numpy.ndarray of shape (d,)

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
) -> History:
    r"""Gradient flow of :func:`sqrt_tail_regression_loss` from :math:`\theta = 0`, to huge times.

    Integrated in log-time by :func:`celesson.linear.log_time_gradient_flow` (the
    gradient decays like :math:`\tau^{-2/3}` on separable data, and
    :math:`\tau\,\operatorname{tr}\nabla^2 L` stays bounded).

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.
    times : sequence of float
        Increasing times :math:`\tau > t_0` at which to record :math:`\theta(\tau)`.
    t_start, steps_per_unit
        Passed on to :func:`celesson.linear.log_time_gradient_flow`.

    Returns
    -------
    History
        As for :func:`celesson.linear.log_time_gradient_flow`: ``steps`` holds the
        times, ``loss`` the mean loss at each.

    Examples
    --------
    >>> rec = sqrt_tail_gradient_flow([[1.0], [-1.0]], [1, 0], [1.0, 100.0])
    >>> bool(rec.norm[1] > rec.norm[0] > 0)
    True
    """
    Z = signed_rows(X, y)
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
    Z = signed_rows(X, y)
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
