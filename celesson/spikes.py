r"""Line scans of the loss and learning-rate spikes: Adam, clipped Adam and the controller.

:func:`line_scan` evaluates the loss along an update direction, :func:`spike_lr` the
learning rate of a spike schedule, and :class:`SpikeRun` trains one network under it
with each update rule of :data:`SPIKE_RULES`. Re-exported by :mod:`celesson.ghosts`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, as_index_array, check_int, check_real_scalar
from .history import History
from .losses import cross_entropy
from .minibatch import Trainer
from .optim import Adam, clip_grad_norm
from .radius import Array, Params, as_parts, update_norm


# ---------------------------------------------------------------------------
# models: one-step scans and temperature
# ---------------------------------------------------------------------------
def line_scan(
    model: Any,
    X: ArrayLike,
    y: ArrayLike,
    direction: Params,
    taus: ArrayLike,
    *,
    temperature: float = 1.0,
) -> tuple[Array, Array]:
    r"""Loss and accuracy after one step :math:`\theta + \tau v` for each :math:`\tau`.

    The loss is the mean cross-entropy of the tempered logits,
    :math:`\mathrm{CE}(z(\theta + \tau v) / T, y)` (:math:`T = 1`: the ordinary loss);
    the accuracy does not depend on :math:`T`. The model itself is not changed (a copy
    is moved).

    Parameters
    ----------
    model : :class:`celesson.mlp.MLP` with softmax output
        (anything with ``copy``, ``flat_params``, ``set_flat_params`` and ``forward``).
    X, y : examples and integer labels on which the step is judged
    direction : flat vector or list shaped like the parameters
        Normalised to the unit vector :math:`v`.
    taus : array_like of float
        Step lengths.
    temperature : float, default 1.0
        :math:`T > 0`.

    Returns
    -------
    losses, accuracies : ndarray of the shape of ``taus``
    """
    if getattr(model, "output", "softmax") != "softmax":
        raise ValueError("model must have a softmax output")
    T = check_real_scalar(temperature, "temperature", lo=0.0, lo_open=True)
    parts = as_parts(direction, "direction")
    norm = update_norm(parts)
    if norm == 0.0:
        raise ValueError("direction must not be zero")
    v = np.concatenate([p.ravel() for p in parts]) / norm
    t = as_float_array(taus, "taus")
    if not np.all(np.isfinite(t)):
        raise ValueError("taus must be finite")
    labels = np.asarray(y)
    theta = model.flat_params()
    if v.shape != theta.shape:
        raise ValueError(f"direction must have {theta.size} entries in all, got {v.size}")
    moved = model.copy()
    losses = np.empty(t.shape)
    accs = np.empty(t.shape)
    for idx, tau in np.ndenumerate(t):
        moved.set_flat_params(theta + tau * v)
        logits = moved.forward(X)
        losses[idx] = cross_entropy(logits / T, labels)
        accs[idx] = np.mean(np.argmax(logits, axis=1) == labels)
    return losses, accs


def temperature_gradients(model: Any, X: ArrayLike, y: ArrayLike, temperature: float) -> list:
    r"""Gradient of the tempered loss :math:`C_T(\theta) = \mathrm{CE}(z(\theta)/T, y)`.

    The output layer is affine, :math:`z = h W_L^\top + b_L`, so
    :math:`z/T` is the logit of the same network with :math:`(W_L, b_L)/T`. The
    gradient of :math:`C_T` is that network's ordinary gradient, with the last two
    entries (output weights and bias) divided once more by :math:`T`.

    Parameters
    ----------
    model : :class:`celesson.mlp.MLP` with softmax output
    X, y : examples and integer labels
    temperature : float
        :math:`T > 0`.

    Returns
    -------
    list of ndarray
        Shaped like ``model.params``.
    """
    T = check_real_scalar(temperature, "temperature", lo=0.0, lo_open=True)
    tempered = model.copy()
    tempered.weights[-1] /= T
    tempered.biases[-1] /= T
    grads = tempered.gradients(X, y, kind="ce")
    grads[-2] = grads[-2] / T
    grads[-1] = grads[-1] / T
    return grads


# ---------------------------------------------------------------------------
# learning-rate spikes: Adam, clipped Adam and the rho_a controller
# ---------------------------------------------------------------------------
#: Update rules understood by :class:`SpikeRun`.
SPIKE_RULES: tuple[str, ...] = ("adam", "clip", "controller")


def spike_lr(step: int, base_lr: float, factor: float, spike_at: int, *, hold: bool) -> float:
    r"""Learning rate of step ``step`` (counted from 0) under a spike.

    :math:`\eta_t = f\,\eta_0` at :math:`t = t_s` and, with ``hold``, at every later step
    (the paper's section 6.1: the rate is multiplied and kept); without ``hold`` only at
    :math:`t = t_s` (the cross-architecture comparison of its section 6.5); otherwise
    :math:`\eta_0`.

    Parameters
    ----------
    step : int
        Step index :math:`t \ge 0`.
    base_lr, factor : float
        :math:`\eta_0 > 0` and the spike factor :math:`f > 0`.
    spike_at : int
        :math:`t_s \ge 0`.
    hold : bool
        Keep the raised rate after :math:`t_s`.

    References
    ----------
    Sao (2026), sections 6.1 and 6.5 :cite:`sao2026ghosts`.
    """
    t = check_int(step, "step", lo=0)
    ts = check_int(spike_at, "spike_at", lo=0)
    eta = check_real_scalar(base_lr, "base_lr", lo=0.0, lo_open=True)
    f = check_real_scalar(factor, "factor", lo=0.0, lo_open=True)
    if not isinstance(hold, bool):
        raise TypeError(f"hold must be a bool, got {hold!r}")
    spiking = t >= ts if hold else t == ts
    return eta * f if spiking else eta


class SpikeRun:
    r"""One training run of an :class:`~celesson.mlp.MLP` with Adam under a learning-rate spike.

    Each step computes the mean cross-entropy gradient :math:`g` on the batch, lets
    Adam (learning rate 1) propose the direction :math:`\hat p`, and moves the
    parameters by :math:`\eta_{\text{eff}}\,\hat p`, where the rule sets
    :math:`\eta_{\text{eff}}` from the scheduled rate :math:`\eta_t`:

    * ``"adam"``: :math:`\eta_{\text{eff}} = \eta_t`;
    * ``"clip"``: the same, with :math:`g` first clipped to norm ``clip_norm``
      (:func:`celesson.optim.clip_grad_norm`, before Adam sees it);
    * ``"controller"``: :math:`\eta_{\text{eff}} = \eta_t \min(1, \rho_a/\tau)`. With
      ``controller="update"`` (section 6.1 of the paper) :math:`\tau = \eta_t\lVert\hat p\rVert`
      and :math:`\rho_a` is measured along :math:`\hat p`, so the step taken has
      :math:`\tau \le \rho_a`; with ``controller="gradient"`` (the paper's code for its
      section 6.5) :math:`\tau = \eta_t\lVert g\rVert` and :math:`\rho_a` is measured along
      :math:`-g`, so the cap acts on the length a gradient step would have.

    :math:`\rho_a = \pi/\max_x\Delta_a(x)` comes from one JVP over ``probe`` (all of
    ``X`` by default). Batches are the full ``X`` (``batch_size=None``) or, for a batch
    size, consecutive slices of a fresh permutation per epoch.

    Parameters
    ----------
    model : MLP with softmax output
        Trained in place.
    X, y : training inputs and integer labels
    X_test, y_test : held-out inputs and labels; the test accuracy is recorded after
        every step
    rule : {"adam", "clip", "controller"}
    controller : {"update", "gradient"}, default "update"
    clip_norm : float, default 1.0
    batch_size : int or None, default None
    batch_seed : int, default 0
        Seed of the permutations.
    probe : array_like, optional
        Examples for :math:`\rho_a`; default ``X``.
    measure_rho : bool, default False
        Also measure :math:`\rho_a` along the step for the rules that do not need it.
    eval_every : int, default 1
        Record the test accuracy after every ``eval_every``-th step (NaN in between)
        and after the last step of :meth:`run`.

    Attributes
    ----------
    log : History
        One entry per step (``steps`` = 0, 1, ...): ``"loss"`` (batch loss before the
        step), ``"accuracy"`` (test accuracy after it, NaN where not evaluated),
        ``"lr"`` (:math:`\eta_t`), ``"tau"`` (length of the step taken), ``"rho"``
        (:math:`\rho_a` along the step direction, NaN if not measured), ``"scale"``
        (:math:`\eta_{\text{eff}}/\eta_t`).
    trainer : Trainer
        The :class:`~celesson.minibatch.Trainer` that draws the batches and takes the
        steps, with a :class:`SpikeUpdate` as its optimiser.

    References
    ----------
    Sao (2026), sections 6.1 and 6.5 and the code released with it :cite:`sao2026ghosts`.
    """

    def __init__(
        self,
        model: Any,
        X: ArrayLike,
        y: ArrayLike,
        X_test: ArrayLike,
        y_test: ArrayLike,
        *,
        rule: str,
        controller: str = "update",
        clip_norm: float = 1.0,
        batch_size: int | None = None,
        batch_seed: int = 0,
        probe: ArrayLike | None = None,
        measure_rho: bool = False,
        eval_every: int = 1,
    ) -> None:
        if getattr(model, "output", None) != "softmax" or not hasattr(model, "_jvp"):
            raise TypeError("model must be a celesson.mlp.MLP with softmax output")
        if rule not in SPIKE_RULES:
            raise ValueError(f"rule must be one of {SPIKE_RULES}, got {rule!r}")
        if controller not in ("update", "gradient"):
            raise ValueError(f'controller must be "update" or "gradient", got {controller!r}')
        X_train = model._check_X(X)
        labels = as_index_array(y, "y", model.num_outputs)
        if labels.shape != (X_train.shape[0],):
            raise ValueError(f"y must have {X_train.shape[0]} rows, got shape {labels.shape}")
        self.X_test = model._check_X(X_test)
        self.y_test = as_index_array(y_test, "y_test", model.num_outputs)
        self.update = SpikeUpdate(
            model, rule=rule, controller=controller, clip_norm=clip_norm,
            probe=X_train if probe is None else model._check_X(probe),
            measure_rho=measure_rho,
        )
        self.trainer = Trainer(model, X_train, labels, optimizer=self.update,
                               batch_size=batch_size, seed=batch_seed)
        self.eval_every = check_int(eval_every, "eval_every", lo=1)
        self.log = History()

    @property
    def model(self) -> Any:
        """The network being trained (in place)."""
        return self.trainer.model

    @property
    def t(self) -> int:
        """Steps taken."""
        return self.trainer.t

    def test_accuracy(self) -> float:
        """Share of the held-out examples that the model classifies correctly."""
        logits = self.model._forward_cache(self.X_test).zs[-1]
        return float(np.mean(np.argmax(logits, axis=1) == self.y_test))

    def step(self, lr: float, *, evaluate: bool | None = None) -> None:
        r"""Take one step at the scheduled learning rate ``lr``.

        Parameters
        ----------
        lr : float
            The scheduled rate :math:`\eta_t`.
        evaluate : bool, optional
            Record the test accuracy after the step (default: every
            ``eval_every``-th step).
        """
        self.update.lr = check_real_scalar(lr, "lr", lo=0.0, lo_open=True)
        step = self.t
        loss = self.trainer.step(loss=True)
        if evaluate is None:
            evaluate = self.t % self.eval_every == 0
        acc = self.test_accuracy() if evaluate else math.nan
        self.log.append(step, loss=loss, accuracy=acc, **self.update.last)

    def run(
        self, steps: int, base_lr: float, factor: float, spike_at: int, *, hold: bool
    ) -> SpikeRun:
        """Continue up to step ``steps`` (exclusive) under :func:`spike_lr`; returns ``self``.

        Parameters
        ----------
        steps : int
            The step to stop at.
        base_lr, factor, spike_at, hold
            The schedule, as in :func:`spike_lr`.

        Returns
        -------
        SpikeRun
        """
        stop = check_int(steps, "steps", lo=0)
        while self.t < stop:
            last = self.t == stop - 1
            self.step(spike_lr(self.t, base_lr, factor, spike_at, hold=hold),
                      evaluate=True if last else None)
        return self

    def fork(self) -> SpikeRun:
        """An independent copy (model, Adam state, batch order and log).

        Returns
        -------
        SpikeRun
        """
        clone = copy.copy(self)
        clone.trainer = self.trainer.fork()
        clone.update = clone.trainer.optimizer  # type: ignore[assignment]
        clone.update.model = clone.trainer.model
        clone.log = self.log.copy()
        return clone


class SpikeUpdate:
    r"""The update rule of a :class:`SpikeRun`, as an optimiser of a :class:`Trainer`.

    Given the mean batch gradient :math:`g`, Adam (learning rate 1) proposes
    :math:`\hat p` and the parameters move by :math:`\eta_{\text{eff}}\,\hat p`, with
    :math:`\eta_{\text{eff}}` set from the scheduled rate :attr:`lr` by the rule (see
    :class:`SpikeRun`).

    Parameters
    ----------
    model : MLP with softmax output
        The network whose radius :math:`\rho_a` is measured.
    rule : {"adam", "clip", "controller"}
    controller : {"update", "gradient"}, default "update"
    clip_norm : float, default 1.0
    probe : ndarray
        Examples over which :math:`\rho_a` is measured.
    measure_rho : bool, default False
        Also measure :math:`\rho_a` along the step for the rules that do not need it.

    Attributes
    ----------
    lr : float
        The scheduled rate of the next step (set by :meth:`SpikeRun.step`).
    last : dict
        What the last step did: ``lr``, ``tau`` (length of the step taken), ``rho``
        (:math:`\rho_a` along it, NaN if not measured) and ``scale``
        (:math:`\eta_{\text{eff}}/\eta_t`).
    """

    def __init__(
        self,
        model: Any,
        *,
        rule: str,
        controller: str = "update",
        clip_norm: float = 1.0,
        probe: Array,
        measure_rho: bool = False,
    ) -> None:
        self.model, self.rule, self.controller = model, rule, controller
        self.clip_norm = check_real_scalar(clip_norm, "clip_norm", lo=0.0, lo_open=True)
        self.probe = probe
        self.measure_rho = bool(measure_rho)
        self.adam = Adam(lr=1.0)
        self.lr = math.nan
        self.last: dict[str, float] = {}

    def _rho(self, direction: list[Array]) -> float:
        norm = math.sqrt(sum(float(np.sum(d * d)) for d in direction))
        if norm == 0.0 or not math.isfinite(norm):
            return math.inf
        _, dz = self.model._jvp(self.probe, [d / norm for d in direction])
        spread = float(np.max(np.max(dz, axis=1) - np.min(dz, axis=1)))
        return math.inf if spread == 0.0 else math.pi / spread

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Move ``params`` in place by the rule's step for the gradient ``grads``.

        Parameters
        ----------
        params : list of ndarray
            The model's parameters (updated in place).
        grads : list of ndarray
            The mean batch gradient, same shapes.
        """
        lr = self.lr
        if self.rule == "clip":
            grads, _ = clip_grad_norm(grads, self.clip_norm)
        p_hat = self.adam.propose(params, list(grads))  # -(Adam direction), lr = 1
        p_norm = math.sqrt(sum(float(np.sum(p * p)) for p in p_hat))
        scale, rho = 1.0, math.nan
        if self.rule == "controller" and self.controller == "gradient":
            g_norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
            rho = self._rho([-g for g in grads])
            tau_raw = lr * g_norm
            scale = 1.0 if tau_raw <= rho else rho / tau_raw
        elif self.rule == "controller" or self.measure_rho:
            rho = self._rho(p_hat)
            if self.rule == "controller" and lr * p_norm > rho:
                scale = rho / (lr * p_norm)
        lr_eff = lr * scale
        for param, p in zip(params, p_hat, strict=True):
            param += lr_eff * p
        self.last = {"lr": lr, "tau": lr_eff * p_norm, "rho": rho, "scale": scale}
