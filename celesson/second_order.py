r"""Second-order views of cross-entropy: the Hessian of softmax regression and Newton's method.

* :func:`softmax_regression_hessian`: the Hessian of the mean cross-entropy in the
  weights, built from the per-example covariance :math:`\operatorname{diag}(q) - qq^\top`
  (positive semi-definite: the loss is convex in the weights);
* :func:`fit_logistic_newton`: maximum likelihood for logistic regression by Newton's
  method with backtracking, for the study of a misspecified model.

References
----------
J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer 2006
(Newton's method with a line search: chapter 3).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_float_array,
    check_int,
    check_real_scalar,
)
from .grads import softmax_jacobian
from .linear import logistic_regression_grad, logistic_regression_hessian, logistic_regression_loss

__all__ = [
    "fit_logistic_newton",
    "softmax_regression_hessian",
]

Array = NDArray[np.float64]


# ------------------------------------------------------------- convexity


def softmax_regression_hessian(W: ArrayLike, X: ArrayLike) -> Array:
    r"""Hessian of the mean cross-entropy of softmax regression in its weights.

    With :math:`q_n = \operatorname{softmax}(x_n^\top W)` and
    :math:`S_n = \operatorname{diag}(q_n) - q_n q_n^\top` (the Hessian of the
    cross-entropy in the logits, and the covariance of the one-hot label under
    :math:`q_n`),

    .. math::

        \frac{\partial^2 L}{\partial W_{ik}\,\partial W_{jl}}
        = \frac1N \sum_n x_{ni} x_{nj} (S_n)_{kl},

    a sum of Kronecker products :math:`x_n x_n^\top \otimes S_n` of positive
    semidefinite matrices, hence positive semidefinite: the loss is convex in
    :math:`W`. The rows and columns are indexed by the flattened (row-major) weights,
    ``W.reshape(-1)``. :math:`S_n` comes from :func:`celesson.softmax_jacobian`.

    Parameters
    ----------
    W : array_like of shape (d, K)
    X : array_like of shape (N, d)

    Returns
    -------
    numpy.ndarray of shape (d K, d K)

    Examples
    --------
    >>> softmax_regression_hessian(np.zeros((1, 2)), [[1.0]]).tolist()
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    Wa = as_float_array(W, "W")
    Xa = as_float_array(X, "X")
    if Wa.ndim != 2 or Xa.ndim != 2 or Xa.shape[1] != Wa.shape[0] or Xa.shape[0] == 0:
        raise ValueError(
            f"need W of shape (d, K) and X of shape (N, d), got {Wa.shape} and {Xa.shape}")
    d, k = Wa.shape
    S = softmax_jacobian(Xa @ Wa)  # (N, K, K)
    H = np.empty((d, k, d, k))
    for a in range(k):
        for b in range(a, k):
            block = (Xa.T * S[:, a, b]) @ Xa / Xa.shape[0]
            H[:, a, :, b] = block
            H[:, b, :, a] = block
    flat = H.reshape(d * k, d * k)
    return (flat + flat.T) / 2  # exactly symmetric (the matrix products round each half apart)


# ----------------------------------------------------- maximum likelihood


def fit_logistic_newton(
    X: ArrayLike, y: ArrayLike, *, tol: float = 1e-10, max_iter: int = 100
) -> Array:
    r"""Maximum-likelihood logistic regression by Newton's method with backtracking.

    Minimises :func:`celesson.linear.logistic_regression_loss` (targets 0/1 or
    probabilities, so a population of soft labels works too) with the step
    :math:`-(\nabla^2 L)^{-1} \nabla L` from
    :func:`~celesson.linear.logistic_regression_grad` and
    :func:`~celesson.linear.logistic_regression_hessian`, halved until the loss does not
    increase. Stops after the first step :math:`s` with
    :math:`\|s\| \le \mathrm{tol}\,(1 + \|\theta\|)`, or whose predicted decrease
    :math:`\nabla L^\top s / 2` is below the rounding of the loss: near the minimiser Newton's
    steps shrink quadratically, so the step after that is below rounding. On separable
    data the likelihood has no maximiser and the steps never shrink (the iterates
    run off to infinity), which this reports.

    Parameters
    ----------
    X : array_like of shape (N, d)
        Include a column of ones for an intercept.
    y : array_like of shape (N,)
        Targets in [0, 1].
    tol : float, default 1e-10
        Relative size of the last Newton step.
    max_iter : int, default 100

    Returns
    -------
    numpy.ndarray of shape (d,)
        The maximum-likelihood weights.

    Raises
    ------
    ValueError
        If the loss has no finite minimiser within ``max_iter`` steps (separable data).

    Examples
    --------
    >>> import math
    >>> theta = fit_logistic_newton([[1.0], [1.0], [1.0], [1.0]], [1, 1, 1, 0])
    >>> round(float(theta[0]), 10) == round(math.log(3.0), 10)
    True
    """
    tol = check_real_scalar(tol, "tol", lo=0.0, lo_open=True)
    max_iter = check_int(max_iter, "max_iter", lo=1)
    Xa = as_float_array(X, "X")
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (N, d), got shape {Xa.shape}")
    theta = np.zeros(Xa.shape[1])
    loss = logistic_regression_loss(theta, Xa, y)
    for _ in range(max_iter):
        g = logistic_regression_grad(theta, Xa, y)
        H = logistic_regression_hessian(theta, Xa)
        step = np.linalg.solve(H, g)
        if np.linalg.norm(step) <= tol * (1.0 + np.linalg.norm(theta)):
            return theta - step  # inside the region of quadratic convergence: take it
        if float(g @ step) / 2 <= 64 * np.finfo(float).eps * loss:
            # the predicted decrease is below the rounding of the loss, which can no longer
            # judge the step: we are in the quadratic region, take the full step and stop
            # (on separable data the decrease stays proportional to the loss: no exit here)
            return theta - step
        t = 1.0
        while t > 1e-10:
            candidate = theta - t * step
            new_loss = logistic_regression_loss(candidate, Xa, y)
            if new_loss <= loss:
                break
            t /= 2
        theta, loss = candidate, new_loss
    raise ValueError(
        f"Newton's method did not converge in max_iter = {max_iter} steps "
        "(are the classes separable? then the likelihood has no maximiser)"
    )
