r"""Line scans of the loss and learning-rate spikes: Adam, clipped Adam and the controller.

:func:`line_scan` evaluates the loss along an update direction, :func:`spike_lr` the
learning rate of a spike schedule, and :class:`SpikeRun` trains one network under it
with each update rule of :data:`SPIKE_RULES`. Re-exported by :mod:`celesson.ghosts`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, as_index_array, check_int, check_real_scalar
from .losses import cross_entropy
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
    log : dict of lists
        Per step: ``"loss"`` (batch loss before the step), ``"accuracy"`` (test
        accuracy after it), ``"lr"`` (:math:`\eta_t`), ``"tau"`` (length of the step
        taken), ``"rho"`` (:math:`\rho_a` along the step direction, NaN if not measured),
        ``"scale"`` (:math:`\eta_{\text{eff}}/\eta_t`).

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
        self.model = model
        self.X = model._check_X(X)
        self.y = as_index_array(y, "y", model.num_outputs)
        self.Y = model.targets(self.y)
        if self.Y.shape[0] != self.X.shape[0]:
            raise ValueError(f"y must have {self.X.shape[0]} rows, got {self.Y.shape[0]}")
        self.X_test = model._check_X(X_test)
        self.y_test = as_index_array(y_test, "y_test", model.num_outputs)
        self.probe = self.X if probe is None else model._check_X(probe)
        self.rule, self.controller = rule, controller
        self.clip_norm = check_real_scalar(clip_norm, "clip_norm", lo=0.0, lo_open=True)
        n = self.X.shape[0]
        if batch_size is not None:
            batch_size = check_int(batch_size, "batch_size", lo=1)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(batch_seed)
        self.order = np.arange(n)
        self.cursor = n  # a new permutation is drawn at the first step
        self.measure_rho = bool(measure_rho)
        self.eval_every = check_int(eval_every, "eval_every", lo=1)
        self.optimizer = Adam(lr=1.0)
        self.t = 0
        self.log: dict[str, list[float]] = {
            k: [] for k in ("loss", "accuracy", "lr", "tau", "rho", "scale")
        }

    def _batch(self) -> Array:
        n = self.X.shape[0]
        if self.batch_size is None:
            return self.order
        if self.cursor >= n:
            self.order, self.cursor = self.rng.permutation(n), 0
        rows = self.order[self.cursor : self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return rows

    def _rho(self, direction: list[Array]) -> float:
        norm = math.sqrt(sum(float(np.sum(d * d)) for d in direction))
        if norm == 0.0 or not math.isfinite(norm):
            return math.inf
        _, dz = self.model._jvp(self.probe, [d / norm for d in direction])
        spread = float(np.max(np.max(dz, axis=1) - np.min(dz, axis=1)))
        return math.inf if spread == 0.0 else math.pi / spread

    def test_accuracy(self) -> float:
        """Share of the held-out examples that the model classifies correctly."""
        logits = self.model._forward_cache(self.X_test).zs[-1]
        return float(np.mean(np.argmax(logits, axis=1) == self.y_test))

    def step(self, lr: float, *, evaluate: bool | None = None) -> None:
        """Take one step at the scheduled learning rate ``lr``.

        The test accuracy is recorded if ``evaluate`` is true (default: every
        ``eval_every``-th step).
        """
        model = self.model
        rows = self._batch()
        Xb = self.X if self.batch_size is None else self.X[rows]
        Yb = self.Y if self.batch_size is None else self.Y[rows]
        cache = model._forward_cache(Xb)
        z = cache.zs[-1]
        loss = float(cross_entropy(z, Yb, reduction="mean"))
        if not math.isfinite(loss):
            raise FloatingPointError(f"the training loss is not finite at step {self.t}")
        probs = cache.activations[-1]
        grads = model._backward(cache, probs - Yb)
        if self.rule == "clip":
            grads, _ = clip_grad_norm(grads, self.clip_norm)
        p_hat = self.optimizer.propose(model.params, grads)  # -(Adam direction), lr = 1
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
        for param, p in zip(model.params, p_hat, strict=True):
            param += lr_eff * p
        if evaluate is None:
            evaluate = (self.t + 1) % self.eval_every == 0
        acc = self.test_accuracy() if evaluate else math.nan
        for key, value in (("loss", loss), ("accuracy", acc), ("lr", lr),
                           ("tau", lr_eff * p_norm), ("rho", rho), ("scale", scale)):
            self.log[key].append(value)
        self.t += 1

    def run(
        self, steps: int, base_lr: float, factor: float, spike_at: int, *, hold: bool
    ) -> SpikeRun:
        """Continue up to step ``steps`` (exclusive) under :func:`spike_lr`; returns ``self``."""
        stop = check_int(steps, "steps", lo=0)
        while self.t < stop:
            last = self.t == stop - 1
            self.step(spike_lr(self.t, base_lr, factor, spike_at, hold=hold),
                      evaluate=True if last else None)
        return self

    def fork(self) -> SpikeRun:
        """An independent copy (model, Adam state, batch order and log)."""
        clone = copy.copy(self)
        clone.model = self.model.copy()
        clone.optimizer = copy.deepcopy(self.optimizer)
        clone.rng = copy.deepcopy(self.rng)
        clone.order = self.order.copy()
        clone.log = {k: list(v) for k, v in self.log.items()}
        return clone
