r"""One sigmoid neuron trained by full-batch gradient descent (the learning-slowdown toy).

The neuron computes :math:`z = w x + b` and :math:`a = \sigma(z)` for scalar inputs
:math:`x_n` with targets :math:`y_n \in [0, 1]`, and minimises the average of

* ``"ce"``: :math:`-[y \ln a + (1-y)\ln(1-a)]`, whose gradient in :math:`z` is
  :math:`a - y`;
* ``"mse"``: :math:`(a - y)^2`, whose gradient in :math:`z` is
  :math:`2 (a - y)\,\sigma'(z)`.

(A cost written :math:`\tfrac12 (a-y)^2` gives the same iterates as ``"mse"`` run
with half the learning rate.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._bce_kernels import bce_logits
from .history import History
from .training import gradient_descent

__all__ = ["first_below", "train_single_neuron"]

Array = NDArray[np.float64]


def first_below(values: ArrayLike, threshold: float) -> int | None:
    """Index of the first entry of ``values`` strictly below ``threshold`` (``None`` if none).

    Parameters
    ----------
    values : array_like of shape (n,)
    threshold : float

    Returns
    -------
    int or None

    Examples
    --------
    >>> first_below([0.9, 0.5, 0.1], 0.2)
    2
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {arr.shape}")
    hits = np.flatnonzero(arr < threshold)
    return int(hits[0]) if hits.size else None


def _scalar(value: float, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{argument} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{argument} must be finite, got {value!r}")
    return v


def train_single_neuron(
    x: ArrayLike,
    y: ArrayLike,
    w0: float,
    b0: float,
    lr: float,
    epochs: int,
    loss: str = "ce",
) -> History:
    r"""Full-batch gradient descent on one sigmoid neuron.

    Parameters
    ----------
    x, y : float or array_like of shape (n,)
        Inputs and targets (targets in [0, 1]).
    w0, b0 : float
        Starting weight and bias.
    lr : float
        Learning rate :math:`\eta > 0`; each step is
        :math:`w \leftarrow w - \eta\,\partial C/\partial w`, same for :math:`b`.
    epochs : int
        Number of steps, >= 0.
    loss : {"ce", "mse"}, default "ce"
        Binary cross-entropy or squared error :math:`(a-y)^2`, averaged over the inputs.

    Returns
    -------
    History
        One entry per state, ``steps`` = 0 .. ``epochs`` (entry ``t`` is the state
        after ``t`` updates, before update ``t + 1``): series ``w`` and ``b``;
        ``a``, the output :math:`\sigma(w x + b)` for the first input; ``loss``, the
        average loss over the inputs; ``grad_w`` and ``grad_b``, its gradient there;
        and ``params`` (:math:`(w, b)`) and ``norm`` as for every run of
        :func:`~celesson.training.gradient_descent`, which trains the neuron.

    Raises
    ------
    ValueError
        For inputs that are not finite, targets outside [0, 1], a learning rate that is
        not positive, or an unknown ``loss``.
    FloatingPointError
        If a step overflows, so that the logit :math:`w x + b` is no longer finite.

    Examples
    --------
    >>> h = train_single_neuron(1.0, 0.0, 2.0, 2.0, lr=0.15, epochs=3, loss="ce")
    >>> h.w.shape
    (4,)
    """
    xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
    ys = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError(
            f"x and y must be scalars or 1-D of equal length, got {xs.shape} and {ys.shape}"
        )
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("x and y must be finite")
    if np.any(ys < 0.0) or np.any(ys > 1.0):
        raise ValueError("targets y must lie in [0, 1]")
    w, b = _scalar(w0, "w0"), _scalar(b0, "b0")
    eta = _scalar(lr, "lr")
    if eta <= 0.0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    if loss not in ("ce", "mse"):
        raise ValueError(f'loss must be "ce" or "mse", got {loss!r}')

    last: dict[str, Array] = {}
    n = xs.size

    def state(theta: Array) -> dict[str, float]:
        """Output, loss and gradient at ``theta = (w, b)``, kept for the step that follows.

        The inputs were checked once above, so each step calls the package's unchecked
        kernels: the same arithmetic as :func:`~celesson.sigmoid`,
        :func:`~celesson.binary_cross_entropy_with_logits` (or :func:`~celesson.mse_loss`)
        and their gradients with ``reduction="mean"``, the same bits, without checking
        the arguments again at every step.
        """
        z = theta[0] * xs + theta[1]
        if not np.isfinite(z).all():
            w_t, b_t = float(theta[0]), float(theta[1])
            raise FloatingPointError(f"the logit w x + b is not finite at w = {w_t!r}, b = {b_t!r}")
        a = _kernels.sigmoid(z)
        dz = _kernels.sigmoid_minus_target(z, ys, a)
        if loss == "ce":
            value = float(bce_logits(z, ys).mean())
        else:
            value = float(np.square(a - ys).mean())
            dz = 2.0 * dz * _kernels.sigmoid_grad(z)
        dz /= n  # of the mean loss
        gw, gb = float(np.sum(dz * xs)), float(np.sum(dz))
        last.update(theta=theta.copy(), grad=np.array([gw, gb]))
        return {"w": float(theta[0]), "b": float(theta[1]), "a": float(a[0]), "loss": value,
                "grad_w": gw, "grad_b": gb}

    def grad(theta: Array) -> Array:
        if "theta" not in last or not np.array_equal(last["theta"], theta):
            state(theta)  # not reached: every state is recorded before its step
        return last["grad"]

    return gradient_descent(grad, np.array([w, b]), lr=eta, num_steps=int(epochs),
                            checkpoints=range(int(epochs) + 1), record=state)
