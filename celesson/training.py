r"""Full-batch gradient descent with snapshots, and the two linear models' fit functions.

:func:`gradient_descent` is the package's one loop of full-batch gradient descent on a
parameter array (the linear models here and the neuron of :mod:`celesson.neuron` run
on it; models trained on mini-batches run on :class:`celesson.minibatch.Trainer`). It
records the parameters, their norm and the loss only at the steps asked for (a
:class:`~celesson.history.History`), so a run of :math:`10^5` steps stores a handful
of snapshots. Re-exported by :mod:`celesson.linear`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, check_int, check_real_scalar
from .history import History
from .regression import Array, binary_objective, check_theta, check_W, multi_objective


def _check_checkpoints(checkpoints: Sequence[int] | None, num_steps: int) -> list[int]:
    if checkpoints is None:
        return [num_steps]
    out: list[int] = []
    for c in checkpoints:
        if isinstance(c, bool) or not isinstance(c, numbers.Integral):
            raise TypeError(f"checkpoints must be integers, got {c!r}")
        if not 0 <= c <= num_steps:
            raise ValueError(f"checkpoints must lie in 0..num_steps={num_steps}, got {c}")
        out.append(int(c))
    return sorted(set(out))


def gradient_descent(
    grad: Callable[[Array], Array],
    theta0: ArrayLike,
    *,
    lr: float,
    num_steps: int,
    checkpoints: Sequence[int] | None = None,
    loss: Callable[[Array], float] | None = None,
    record: Callable[[Array], Mapping[str, Any]] | None = None,
) -> History:
    r"""Full-batch gradient descent, :math:`\theta_t = \theta_{t-1} - \eta\nabla L(\theta_{t-1})`.

    Parameters
    ----------
    grad : callable
        :math:`\theta \mapsto \nabla L(\theta)`, returning an array of
        ``theta0``'s shape.  It must not keep a reference to its argument (the
        parameters are updated in place).
    theta0 : array_like
        Starting point (copied).
    lr : float
        Learning rate :math:`\eta > 0`.
    num_steps : int
        Number of steps :math:`\ge 0`.
    checkpoints : sequence of int, optional
        Steps (in ``0 .. num_steps``; 0 is the start) at which to record a snapshot;
        default: only the last step.
    loss : callable, optional
        :math:`\theta \mapsto L(\theta)`, evaluated at the checkpoints only; NaN is
        recorded without it.
    record : callable, optional
        :math:`\theta \mapsto` a mapping of further values to record at the
        checkpoints: further series of the history beside ``params``, ``norm`` and
        ``loss`` (a ``"loss"`` it returns replaces the one of ``loss``).

    Returns
    -------
    History
        Series ``params`` (the snapshots, shape ``(m, *theta0.shape)``), ``norm``
        (their Euclidean or Frobenius norms) and ``loss``, at ``steps`` = the
        checkpoints; :attr:`~celesson.history.History.final` holds the parameters
        after the last step.

    Examples
    --------
    >>> rec = gradient_descent(lambda t: 2 * t, [1.0], lr=0.25, num_steps=3, checkpoints=[0, 3])
    >>> rec.params[:, 0].tolist(), rec.steps.tolist()
    ([1.0, 0.125], [0, 3])
    """
    if not callable(grad):
        raise TypeError(f"grad must be callable, got {type(grad).__name__}")
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable or None, got {type(loss).__name__}")
    if record is not None and not callable(record):
        raise TypeError(f"record must be callable or None, got {type(record).__name__}")
    eta = check_real_scalar(lr, "lr", lo=0.0, lo_open=True)
    n_steps = check_int(num_steps, "num_steps", lo=0)
    marks = _check_checkpoints(checkpoints, n_steps)
    theta = as_float_array(theta0, "theta0").copy()
    if not np.isfinite(theta).all():
        raise ValueError("theta0 must be finite")
    history = History()

    def snapshot(step: int) -> None:
        values: dict[str, Any] = {
            "params": theta,
            "norm": math.sqrt(float(np.sum(theta * theta))),
            "loss": float(loss(theta)) if loss is not None else math.nan,
        }
        if record is not None:
            values.update(record(theta))
        history.append(step, **values)

    pos = 0
    if marks and marks[0] == 0:
        snapshot(0)
        pos = 1
    for t in range(1, n_steps + 1):
        theta -= eta * grad(theta)
        if pos < len(marks) and marks[pos] == t:
            snapshot(t)
            pos += 1
    history.final = theta
    return history


def fit_logistic_regression(
    X: ArrayLike,
    y: ArrayLike,
    *,
    lr: float,
    num_steps: int,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    gamma: float | None = None,
    theta0: ArrayLike | None = None,
    checkpoints: Sequence[int] | None = None,
) -> History:
    r"""Train logistic regression by full-batch gradient descent from ``theta0`` (default 0).

    Minimises :func:`logistic_regression_loss` with the step
    :math:`\theta \leftarrow \theta - \eta \nabla L(\theta)`.  The inputs are checked
    once; the loop itself runs without checks, so that :math:`10^5` steps on a small data
    set stay cheap.

    Parameters
    ----------
    X, y, weight_decay, label_smoothing, convention, gamma
        As in :func:`logistic_regression_loss`.
    lr : float
        Learning rate :math:`\eta > 0`.
    num_steps : int
    theta0 : array_like of shape (d,), optional
        Starting point; zeros by default.
    checkpoints : sequence of int, optional
        Steps at which to record :math:`\theta_t`, :math:`\|\theta_t\|` and
        :math:`L(\theta_t)` (default: the last step only).

    Returns
    -------
    History
        As for :func:`gradient_descent`.

    Examples
    --------
    >>> rec = fit_logistic_regression([[1.0], [-1.0]], [1, 0], lr=1.0, num_steps=10)
    >>> bool(rec.final[0] > 0)
    True
    """
    obj = binary_objective(X, y, weight_decay, label_smoothing, convention, gamma)
    d = obj.X.shape[1]
    start = np.zeros(d) if theta0 is None else check_theta(theta0, d, "theta0")
    return gradient_descent(obj.grad, start, lr=lr, num_steps=num_steps,
                            checkpoints=checkpoints, loss=obj.loss)


def fit_softmax_regression(
    X: ArrayLike,
    y: ArrayLike,
    num_classes: int,
    *,
    lr: float,
    num_steps: int,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    convention: str = "uniform",
    gamma: float | None = None,
    W0: ArrayLike | None = None,
    checkpoints: Sequence[int] | None = None,
) -> History:
    r"""Train softmax regression by full-batch gradient descent from ``W0`` (default 0).

    Minimises :func:`softmax_regression_loss` over :math:`W \in \mathbb{R}^{d\times K}`.

    Parameters
    ----------
    X : array_like of shape (N, d)
    y : array_like of int, shape (N,)
    num_classes : int
        :math:`K \ge 2`.
    lr, num_steps, checkpoints
        As in :func:`gradient_descent`.
    weight_decay, label_smoothing, convention, gamma
        As in :func:`softmax_regression_loss`.
    W0 : array_like of shape (d, K), optional
        Starting point; zeros by default.

    Returns
    -------
    History
        As for :func:`gradient_descent`.

    Examples
    --------
    >>> rec = fit_softmax_regression([[1.0], [-1.0]], [0, 1], 2, lr=1.0, num_steps=10)
    >>> rec.final.shape
    (1, 2)
    """
    K = check_int(num_classes, "num_classes", lo=2)
    obj = multi_objective(X, y, K, weight_decay, label_smoothing, convention, gamma)
    d = obj.X.shape[1]
    start = np.zeros((d, K)) if W0 is None else check_W(W0, d, "W0")
    if start.shape[1] != K:
        raise ValueError(f"W0 must have {K} columns (num_classes), got {start.shape[1]}")
    return gradient_descent(obj.grad, start, lr=lr, num_steps=num_steps,
                            checkpoints=checkpoints, loss=obj.loss)
