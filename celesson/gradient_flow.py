r"""The small-step limit of gradient descent on logistic regression, to huge times.

:func:`logistic_gradient_flow` integrates :math:`\dot\theta = -\nabla L(\theta)` with
RK4 steps; :func:`log_time_gradient_flow` follows it in :math:`\log t`, where the
parameters of separable data grow like :math:`\log t` (Soudry et al. 2018).
Re-exported by :mod:`celesson.linear`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, check_int, check_real_scalar
from .history import History
from .regression import Array, binary_objective, check_labels01


def logistic_gradient_flow(
    X: ArrayLike,
    y: ArrayLike,
    times: Sequence[float],
    *,
    gamma: float | None = None,
    t_start: float = 1e-6,
    steps_per_unit: int = 20,
) -> History:
    r"""Gradient flow :math:`\dot\theta = -\nabla L(\theta)`, :math:`\theta(0) = 0`, to huge times.

    The flow is the limit of gradient descent as the learning rate goes to zero:
    :math:`k` steps with rate :math:`\eta` follow it up to time :math:`t = \eta k`.
    On separable data the unregularised loss makes :math:`\theta` grow like
    :math:`\log t`, so the flow is integrated in *log-time* :math:`s = \ln t`:

    .. math::

        \frac{d\theta}{ds} = -e^{s}\,\nabla L(\theta(s)),

    whose right-hand side stays of order one along the trajectory (the gradient decays
    like :math:`1/t`), so the classical fourth-order Runge-Kutta method reaches
    :math:`t = 10^{40}` in a few thousand steps.  The step in :math:`s` is
    ``1 / steps_per_unit``, shortened where needed to keep the method stable:
    :math:`h \le 2 / \operatorname{tr}(e^{s}\nabla^2 L)`, and the trace bounds the
    largest eigenvalue (RK4 is stable on the negative real axis up to 2.78).  The flow
    starts at :math:`t_0` = ``t_start`` from :math:`\theta(t_0) = -t_0 \nabla L(0)`
    (the first-order Taylor term, error :math:`O(t_0^2)`).

    Not for weight decay or label smoothing: their finite minimiser makes
    :math:`e^{s}\nabla^2 L` grow without bound and the log-time equation stiff.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of shape (N,)
        Labels 0/1.
    times : sequence of float
        Times :math:`t > t_0` at which to record :math:`\theta(t)`.
    gamma : float or None, default None
        Follow the focal loss instead of the cross-entropy.
    t_start : float, default 1e-6
    steps_per_unit : int, default 20
        Runge-Kutta steps per unit of :math:`\ln t` at least (more where stability
        needs them).

    Returns
    -------
    History
        As for :func:`~celesson.training.gradient_descent` (series ``params``,
        ``norm``, ``loss`` and :attr:`~celesson.history.History.final`); ``steps``
        holds the times (float64).

    Examples
    --------
    >>> rec = logistic_gradient_flow([[1.0], [-1.0]], [1, 0], [1.0, 100.0])
    >>> bool(rec.norm[1] > rec.norm[0] > 0)
    True
    """
    obj = binary_objective(X, y, 0.0, 0.0, "uniform", gamma)
    check_labels01(y, obj.X.shape[0])
    row_sq = np.einsum("ij,ij->i", obj.X, obj.X) / obj.X.shape[0]
    return log_time_gradient_flow(
        obj.grad,
        lambda th: float(row_sq @ obj.curvature(obj.X @ th)),
        np.zeros(obj.X.shape[1]),
        times,
        loss=obj.loss,
        t_start=t_start,
        steps_per_unit=steps_per_unit,
    )


def log_time_gradient_flow(
    grad: Callable[[Array], Array],
    hessian_trace: Callable[[Array], float],
    theta0: ArrayLike,
    times: Sequence[float],
    *,
    loss: Callable[[Array], float] | None = None,
    t_start: float = 1e-6,
    steps_per_unit: int = 20,
) -> History:
    r"""Gradient flow :math:`\dot\theta = -\nabla L(\theta)` from ``theta0``, in log-time.

    The integrator behind :func:`logistic_gradient_flow`, for any smooth objective
    whose gradient decays along the trajectory: with :math:`s = \ln t` the flow reads
    :math:`d\theta/ds = -e^{s}\nabla L(\theta)`, integrated by the classical
    fourth-order Runge-Kutta method with step :math:`h \le` ``1 / steps_per_unit``,
    shortened to :math:`h \le 2 / (e^{s}\operatorname{tr}\nabla^2 L(\theta))` for
    stability (the trace bounds the largest eigenvalue of a positive semi-definite
    Hessian).  The flow starts at :math:`t_0` = ``t_start`` from
    :math:`\theta(t_0) = \theta_0 - t_0 \nabla L(\theta_0)` (error :math:`O(t_0^2)`).

    The right-hand side stays of order one when :math:`t\,\nabla L` does: for the
    logistic loss on separable data the gradient decays like :math:`1/t`; for a loss
    with a polynomial tail :math:`\ell(u) \sim 1/(2u)` (see
    :func:`celesson.implicit_bias.sqrt_tail_gradient_flow`) it decays like
    :math:`t^{-2/3}` and :math:`\theta` grows like :math:`t^{1/3}`, so that
    :math:`d\ln\|\theta\|/ds` is again of order one.

    Parameters
    ----------
    grad : callable
        :math:`\theta \mapsto \nabla L(\theta)` (a new array each call).
    hessian_trace : callable
        :math:`\theta \mapsto \operatorname{tr}\nabla^2 L(\theta) \ge 0`.
    theta0 : array_like of shape (d,)
        The state at time 0.
    times : sequence of float
        Times :math:`t > t_0`, increasing, at which to record :math:`\theta(t)`.
    loss : callable, optional
        :math:`\theta \mapsto L(\theta)` for the record (NaN without it).
    t_start : float, default 1e-6
    steps_per_unit : int, default 20

    Returns
    -------
    History
        As for :func:`~celesson.training.gradient_descent` (series ``params``,
        ``norm``, ``loss`` and :attr:`~celesson.history.History.final`); ``steps``
        holds the times (float64).

    Examples
    --------
    >>> rec = log_time_gradient_flow(lambda t: 2 * t, lambda t: 2.0, [1.0], [0.5])
    >>> round(float(rec.final[0]), 6) == round(math.exp(-1.0), 6)
    True
    """
    if not callable(grad) or not callable(hessian_trace):
        raise TypeError("grad and hessian_trace must be callable")
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable or None, got {type(loss).__name__}")
    t0 = check_real_scalar(t_start, "t_start", lo=0.0, lo_open=True)
    density = check_int(steps_per_unit, "steps_per_unit", lo=1)
    start = as_float_array(theta0, "theta0")
    if start.ndim != 1 or not np.isfinite(start).all():
        raise ValueError(f"theta0 must be a finite 1-D array, got shape {start.shape}")
    ts = as_float_array(times, "times")
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"times must be a non-empty 1-D sequence, got shape {ts.shape}")
    if not np.isfinite(ts).all() or ts.min() <= t0 or np.any(np.diff(ts) <= 0):
        raise ValueError(f"times must be finite, increasing and greater than t_start={t0!r}")

    def rhs(s: float, th: Array) -> Array:
        return -math.exp(s) * grad(th)

    theta = start - t0 * grad(start)
    s = math.log(t0)
    h_max = 1.0 / density
    snaps = []
    for target in np.log(ts):
        while s < target:
            trace = math.exp(s) * hessian_trace(theta)
            h = min(h_max, target - s)
            if trace > 0.0:
                h = min(h, 2.0 / trace)
            k1 = rhs(s, theta)
            k2 = rhs(s + h / 2, theta + (h / 2) * k1)
            k3 = rhs(s + h / 2, theta + (h / 2) * k2)
            k4 = rhs(s + h, theta + h * k3)
            theta = theta + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
            s = float(target) if target - s <= h else s + h
        snaps.append(theta.copy())
    params = np.array(snaps)
    losses = [loss(p) if loss is not None else math.nan for p in params]
    return History(ts.copy(), params=params, norm=np.linalg.norm(params, axis=1),
                   loss=np.array(losses, dtype=np.float64), final=theta)
