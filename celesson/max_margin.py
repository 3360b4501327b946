r"""The hard-margin separator that gradient descent approaches in direction.

:func:`max_margin_separator` solves the minimum-norm-point problem of the signed rows
with Wolfe's algorithm and refits the support vectors (Soudry et al. 2018).
Re-exported by :mod:`celesson.linear`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import check_int, check_real_scalar
from .regression import Array, check_labels01, check_X


@dataclass(frozen=True)
class MaxMarginResult:
    r"""The hard-margin separator through the origin and its certificate.

    Attributes
    ----------
    w : numpy.ndarray of shape (d,)
        :math:`\hat w = \arg\min \|w\|^2` subject to :math:`s_n\, x_n^\top w \ge 1` for
        all :math:`n`, with signs :math:`s_n = 2y_n - 1 \in \{-1, +1\}`.
    alpha : numpy.ndarray of shape (N,)
        Dual variables: :math:`\hat w = \sum_n \alpha_n s_n x_n`, :math:`\alpha \ge 0`,
        non-zero only on support vectors.
    margin : float
        The geometric margin :math:`1/\|\hat w\|` (distance from the separating
        hyperplane to the closest point).
    support : numpy.ndarray of int
        Indices of the support vectors (:math:`\alpha_n > 0`).
    iterations : int
        Major iterations of the solver.
    """

    w: Array
    alpha: Array = field(repr=False)
    margin: float
    support: NDArray[np.intp]
    iterations: int
    _Z: Array = field(repr=False)

    @property
    def direction(self) -> Array:
        r"""The unit vector :math:`\hat w / \|\hat w\|`."""
        return self.w / np.linalg.norm(self.w)

    def kkt_residuals(self) -> dict[str, float]:
        r"""Relative violations of the four KKT conditions (all ~1e-15 at an exact optimum).

        * ``"primal"``: :math:`\max(0, \max_n (1 - s_n x_n^\top\hat w))`;
        * ``"dual"``: :math:`\max(0, -\min_n \alpha_n) / \max_n \alpha_n`;
        * ``"complementary"``: :math:`\max_n \alpha_n |s_n x_n^\top\hat w - 1| / \max_n\alpha_n`;
        * ``"stationarity"``:
          :math:`\|\hat w - \sum_n \alpha_n s_n x_n\|_\infty / \|\hat w\|_\infty`.
        """
        m = self._Z @ self.w
        amax = float(self.alpha.max())
        return {
            "primal": float(max(0.0, np.max(1.0 - m))),
            "dual": float(max(0.0, -self.alpha.min()) / amax),
            "complementary": float(np.max(self.alpha * np.abs(m - 1.0)) / amax),
            "stationarity": float(
                np.max(np.abs(self.w - self._Z.T @ self.alpha)) / np.max(np.abs(self.w))
            ),
        }


def _affine_min_norm(P: Array) -> Array:
    r"""Barycentric weights :math:`\mu` (summing to 1) of the point of the affine hull of
    the rows of ``P`` closest to the origin."""
    k = P.shape[0]
    M = np.zeros((k + 1, k + 1))
    M[:k, :k] = P @ P.T
    M[:k, k] = 1.0
    M[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    sol = np.linalg.lstsq(M, rhs, rcond=None)[0]
    return sol[:k]


def signed_rows(X: ArrayLike, y: ArrayLike) -> Array:
    r"""The rows :math:`z_n = s_n x_n`, :math:`s_n = 2y_n - 1`: the labels folded into the data.

    A linear separator through the origin classifies every example right exactly when
    :math:`z_n^\top w > 0` for all :math:`n`.

    Parameters
    ----------
    X : array_like of shape (N, d)
        Finite, at least one row and one column.
    y : array_like of shape (N,)
        Labels 0/1.

    Returns
    -------
    ndarray of shape (N, d)

    Examples
    --------
    >>> signed_rows([[1.0, 2.0], [3.0, 4.0]], [1, 0]).tolist()
    [[1.0, 2.0], [-3.0, -4.0]]
    """
    Xa = check_X(X)
    return np.where(check_labels01(y, Xa.shape[0]), 1.0, -1.0)[:, None] * Xa


def max_margin_separator(
    X: ArrayLike, y: ArrayLike, *, tol: float = 1e-12, max_iter: int = 10_000
) -> MaxMarginResult:
    r"""Hard-margin linear separator through the origin (the SVM without bias).

    Solves :math:`\min_w \tfrac12\|w\|^2` subject to :math:`s_n x_n^\top w \ge 1`, with
    :math:`s_n = 2y_n - 1`.  Writing :math:`z_n = s_n x_n`, the problem is equivalent to
    finding the point :math:`p^\star` of the convex hull of :math:`\{z_n\}` closest to the
    origin: the margin is :math:`\|p^\star\|` and :math:`\hat w = p^\star/\|p^\star\|^2`.
    That point is computed exactly, up to rounding, by Wolfe's (1976) finite
    minimum-norm-point algorithm (a sequence of small linear solves on a "corral" of
    at most :math:`d+1` points), and the support vectors' margins are then refitted to
    exactly 1 by least squares.  The dual variables :math:`\alpha_n` are the barycentric
    weights of :math:`p^\star` divided by :math:`\|p^\star\|^2`.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.
    tol : float, default 1e-12
        Relative optimality tolerance of Wolfe's test
        :math:`\|p\|^2 - \min_n z_n^\top p \le \text{tol}\,\max_n \|z_n\|^2`.
    max_iter : int, default 10000

    Returns
    -------
    MaxMarginResult

    Raises
    ------
    ValueError
        If the data are not linearly separable by a hyperplane through the origin
        (the hull contains the origin), or on bad input.

    Examples
    --------
    >>> res = max_margin_separator([[2.0, 0.0], [-1.0, 1.0]], [1, 0])
    >>> np.round(res.w, 12).tolist(), round(res.margin, 12)
    ([0.5, -0.5], 1.414213562373)
    """
    Z = signed_rows(X, y)
    tol = check_real_scalar(tol, "tol", lo=0.0, lo_open=True)
    max_iter = check_int(max_iter, "max_iter", lo=1)
    sq = np.einsum("ij,ij->i", Z, Z)
    scale = float(sq.max())
    if scale == 0.0 or sq.min() == 0.0:
        raise ValueError("X has a zero row: no hyperplane through the origin separates it")
    corral = [int(np.argmin(sq))]
    lam = np.ones(1)
    p = Z[corral[0]].copy()
    iterations = 0
    while True:
        iterations += 1
        if iterations > max_iter:
            raise ValueError(f"max_margin_separator did not converge in max_iter={max_iter}")
        g = Z @ p
        j = int(np.argmin(g))
        pp = float(p @ p)
        if pp <= 1e-14 * scale:
            raise ValueError(
                "the data are not linearly separable by a hyperplane through the origin"
            )
        if pp - g[j] <= tol * scale or j in corral:
            break
        corral.append(j)
        lam = np.append(lam, 0.0)
        while True:  # minor cycle: move towards the affine minimiser, dropping points
            mu = _affine_min_norm(Z[corral])
            if mu.min() > 1e-15:
                lam = mu
                break
            shrink = mu < lam
            step = float(np.min(lam[shrink] / (lam[shrink] - mu[shrink])))
            lam = lam + step * (mu - lam)
            keep = lam > 1e-15
            corral = [c for c, kept in zip(corral, keep, strict=True) if kept]
            lam = lam[keep]
        p = lam @ Z[corral]
    if float(Z.dot(p).min()) <= 0.0:
        raise ValueError("the data are not linearly separable by a hyperplane through the origin")
    # refit: support margins exactly 1, w in the span of the support vectors
    S = np.array(sorted(corral), dtype=np.intp)
    w = np.linalg.lstsq(Z[S], np.ones(S.size), rcond=None)[0]
    a_S = np.linalg.lstsq(Z[S].T, w, rcond=None)[0]
    if a_S.min() <= 0.0 or (Z @ w).min() < 1.0 - 1e-9:
        # degenerate corral: keep Wolfe's point itself
        pp = float(p @ p)
        w = p / pp
        a_S = np.array([lam[corral.index(s)] for s in S]) / pp
    alpha = np.zeros(Z.shape[0])
    alpha[S] = a_S
    w64 = w.astype(np.float64)
    return MaxMarginResult(w64, alpha, float(1.0 / np.linalg.norm(w64)), S, iterations, Z)
