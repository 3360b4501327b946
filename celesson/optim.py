r"""Two first-order optimisers with a *propose / apply* interface.

Both work on a list of parameter arrays (for instance :attr:`celesson.mlp.MLP.params`)
and a list of gradients of the same shapes. An *update* is what gets **added** to
the parameters, :math:`\theta \leftarrow \theta + \Delta\theta`:

* :meth:`Optimizer.propose` consumes one gradient (advancing any internal
  state: moment estimates, step count) and returns the updates without touching
  the parameters, so a caller can inspect or rescale them first;
* :meth:`Optimizer.apply` adds updates to the parameters **in place**;
* :meth:`Optimizer.step` does both and returns the updates it applied.

Call exactly one of :meth:`~Optimizer.propose` or :meth:`~Optimizer.step` per
gradient; :meth:`~Optimizer.reset` forgets the state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ._validation import check_real_scalar

__all__ = ["Adam", "GradientDescent", "Optimizer", "clip_grad_norm"]

Array = NDArray[np.float64]


def _check_positive(value: float, argument: str) -> float:
    return check_real_scalar(value, argument, lo=0.0, lo_open=True)


def _check_pair(params: Sequence[Array], grads: Sequence[Array]) -> list[Array]:
    if not isinstance(params, (list, tuple)) or not isinstance(grads, (list, tuple)):
        raise TypeError("params and grads must be lists of arrays")
    if len(params) != len(grads):
        raise ValueError(f"grads must have {len(params)} arrays like params, got {len(grads)}")
    out = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        garr = np.asarray(g, dtype=np.float64)
        if garr.shape != np.shape(p):
            raise ValueError(f"grads[{i}] must have shape {np.shape(p)}, got {garr.shape}")
        if not np.all(np.isfinite(garr)):
            raise ValueError(f"grads[{i}] must be finite")
        out.append(garr)
    return out


class Optimizer:
    """Base class: subclasses implement :meth:`propose` and :meth:`reset`."""

    lr: float

    def propose(self, params: Sequence[Array], grads: Sequence[Array]) -> list[Array]:
        """Return the updates for one gradient without changing ``params``."""
        raise NotImplementedError  # pragma: no cover

    def reset(self) -> None:
        """Forget all internal state."""

    @staticmethod
    def apply(params: Sequence[Array], updates: Sequence[Array], scale: float = 1.0) -> None:
        r"""Add ``scale * updates`` to ``params`` in place: :math:`\theta \gets \theta + s\,\Delta`.

        Parameters
        ----------
        params : list of ndarray (float64, modified in place)
        updates : list of ndarray, same shapes
        scale : float, default 1.0
            Factor applied to every update (a controller may shrink a step).
        """
        ups = _check_pair(params, updates)
        s = float(scale)
        if not np.isfinite(s):
            raise ValueError(f"scale must be finite, got {scale!r}")
        for i, (p, u) in enumerate(zip(params, ups, strict=True)):
            if not isinstance(p, np.ndarray) or p.dtype != np.float64:
                raise TypeError(f"params[{i}] must be a float64 ndarray to update in place")
            p += s * u

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> list[Array]:
        """Propose the updates for ``grads``, apply them in place, and return them."""
        updates = self.propose(params, grads)
        self.apply(params, updates)
        return updates


class GradientDescent(Optimizer):
    r"""Plain gradient descent: :math:`\Delta\theta = -\eta\, \nabla_\theta C`.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    """

    def __init__(self, lr: float) -> None:
        self.lr = _check_positive(lr, "lr")

    def propose(self, params: Sequence[Array], grads: Sequence[Array]) -> list[Array]:
        """Updates ``-lr * g`` for every gradient ``g`` (stateless)."""
        return [-self.lr * g for g in _check_pair(params, grads)]

    def __repr__(self) -> str:
        return f"GradientDescent(lr={self.lr})"


class Adam(Optimizer):
    r"""Adam with bias-corrected moment estimates.

    At step :math:`t = 1, 2, \dots` with gradient :math:`g_t` (element-wise):

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\qquad m_0 = v_0 = 0,

        \hat m_t = \frac{m_t}{1-\beta_1^t},\qquad \hat v_t = \frac{v_t}{1-\beta_2^t},\qquad
        \Delta\theta_t = -\eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}.

    At :math:`t = 1` the update is :math:`-\eta\, g_1 / (|g_1| + \varepsilon)`, a
    step of almost exactly :math:`\eta` against the sign of each gradient entry.

    Parameters
    ----------
    lr : float, default 1e-3
        Step size :math:`\eta > 0`.
    beta1, beta2 : float, default 0.9 and 0.999
        Decay rates of the first and second moment, in [0, 1).
    eps : float, default 1e-8
        :math:`\varepsilon > 0` added to :math:`\sqrt{\hat v_t}`.

    Attributes
    ----------
    t : int
        Number of gradients consumed so far.
    m, v : list of ndarray or None
        Moment estimates (``None`` before the first step).
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        self.lr = _check_positive(lr, "lr")
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not (isinstance(beta, (int, float, np.floating)) and 0.0 <= float(beta) < 1.0):
                raise ValueError(f"{name} must lie in [0, 1), got {beta!r}")
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.eps = _check_positive(eps, "eps")
        self.reset()

    def reset(self) -> None:
        """Zero the moments and the step count."""
        self.t = 0
        self.m: list[Array] | None = None
        self.v: list[Array] | None = None

    def propose(self, params: Sequence[Array], grads: Sequence[Array]) -> list[Array]:
        """Advance the moments with ``grads`` and return the bias-corrected updates."""
        gs = _check_pair(params, grads)
        if self.m is None or self.v is None:
            self.m = [np.zeros_like(g) for g in gs]
            self.v = [np.zeros_like(g) for g in gs]
        elif [m.shape for m in self.m] != [g.shape for g in gs]:
            raise ValueError("grads changed shape since the last step; call reset() first")
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        updates = []
        for m, v, g in zip(self.m, self.v, gs, strict=True):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            updates.append(-self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps))
        return updates

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"


def clip_grad_norm(grads: Sequence[Array], max_norm: float) -> tuple[list[Array], float]:
    r"""Rescale gradients to total norm at most ``max_norm``, as PyTorch's ``clip_grad_norm_``.

    :math:`g \mapsto g\,\min\bigl(1, c / (\lVert g\rVert_2 + 10^{-6})\bigr)` with
    :math:`c` = ``max_norm`` and the norm taken over every entry of every array.

    Parameters
    ----------
    grads : sequence of ndarray
    max_norm : float
        :math:`c > 0`.

    Returns
    -------
    clipped : list of ndarray
        New arrays (the inputs are not changed).
    norm : float
        :math:`\lVert g\rVert_2` before clipping.

    References
    ----------
    Pascanu, Mikolov and Bengio, "On the difficulty of training recurrent neural
    networks", ICML 2013 :cite:`pascanu2013difficulty`.
    """
    c = _check_positive(max_norm, "max_norm")
    gs = [np.asarray(g, dtype=np.float64) for g in grads]
    if not gs:
        raise ValueError("grads must not be empty")
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in gs)))
    if not np.isfinite(norm):
        raise ValueError("grads must be finite")
    coef = min(1.0, c / (norm + 1e-6))
    return [g * coef for g in gs], norm
