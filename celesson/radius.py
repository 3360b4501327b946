r"""The step-size radius of a softmax classifier and the controller that respects it.

The Taylor radius :math:`\rho^*` of the loss along a direction, its bounds
:math:`\rho_a = \pi / \Delta_a` (:func:`rho_multiclass`, :func:`rho_dataset`) and the
exact two-class value (:func:`rho_binary`), the normalised step :math:`r = \tau/\rho_a`
and :class:`RhoController`, which shrinks any optimiser's update to :math:`r \le 1`.
The mathematics is described in :mod:`celesson.ghosts`, which re-exports everything here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import FloatResult, as_float_array, check_real_scalar, finish

Array = NDArray[np.float64]


Params = Sequence[ArrayLike] | ArrayLike


# ---------------------------------------------------------------------------
# directional derivatives of the logits
# ---------------------------------------------------------------------------
def update_norm(update: Params) -> float:
    r"""Euclidean norm :math:`\lVert p\rVert_2` of an update over all its entries.

    Parameters
    ----------
    update : array_like or sequence of array_like
        A flat vector, a scalar, or a list of arrays shaped like a model's parameters.

    Returns
    -------
    float
        :math:`\sqrt{\sum_i p_i^2}` over every entry of every array.
    """
    parts = as_parts(update, "update")
    # scale first so that huge or tiny entries neither overflow nor underflow
    big = max((float(np.max(np.abs(p))) if p.size else 0.0) for p in parts)
    if big == 0.0:
        return 0.0
    if not math.isfinite(big):
        raise ValueError("update must be finite")
    return big * math.sqrt(sum(float(np.sum((p / big) ** 2)) for p in parts))


def as_parts(update: Params, name: str) -> list[Array]:
    """A parameter update as a list of finite float64 arrays (one per parameter array).

    Parameters
    ----------
    update : array_like or sequence of array_like
        One array, or one per parameter array of the model.
    name : str
        The argument's name, for the error message.

    Returns
    -------
    list of ndarray
    """
    if isinstance(update, (list, tuple)):
        if len(update) == 0:
            raise ValueError(f"{name} must not be an empty list")
        parts = [as_float_array(u, f"{name}[{i}]") for i, u in enumerate(update)]
    else:
        parts = [as_float_array(cast(ArrayLike, update), name)]
    for i, p in enumerate(parts):
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{name} must be finite (entry {i} is not)")
    return parts


def linear_logit_derivatives(X: ArrayLike, dW: ArrayLike, db: ArrayLike) -> Array:
    r"""Directional logit derivatives of softmax regression, exactly.

    Softmax regression has logits :math:`z = X W^\top + b` (weights ``W`` of shape
    ``(K, d)``, the convention of :class:`celesson.mlp.MLP`). They are linear in the
    parameters, so along the direction :math:`(\dot W, \dot b)` the logits move
    *exactly* on lines, :math:`z(\tau) = z + \tau a`, with

    .. math::

        a = X \dot W^\top + \dot b .

    Parameters
    ----------
    X : array_like of shape (N, d)
    dW : array_like of shape (K, d)
        Direction in weight space.
    db : array_like of shape (K,)
        Direction in bias space.

    Returns
    -------
    ndarray of shape (N, K)
        Row ``n`` holds :math:`a_k` for example ``n`` (not normalised: divide by the
        norm of the direction for a unit :math:`v`).
    """
    Xa = as_float_array(X, "X")
    W = as_float_array(dW, "dW")
    b = as_float_array(db, "db")
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (N, d), got shape {Xa.shape}")
    if W.ndim != 2 or W.shape[1] != Xa.shape[1]:
        raise ValueError(f"dW must have shape (K, {Xa.shape[1]}), got {W.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"db must have shape ({W.shape[0]},), got {b.shape}")
    return Xa @ W.T + b


def directional_derivatives(
    model: Any, X: ArrayLike, direction: Params, *, normalize: bool = True
) -> Array:
    r"""Directional logit derivatives :math:`a_k(x) = \nabla_\theta z_k(x) \cdot v` from one JVP.

    Parameters
    ----------
    model : object with ``jvp(X, direction) -> (logits, dlogits)``
        For example :class:`celesson.mlp.MLP` (forward mode, one pass).
    X : array_like of shape (N, d)
        The examples.
    direction : flat vector or list of arrays shaped like the parameters
        The parameter direction :math:`p`.
    normalize : bool, default True
        Divide by :math:`\lVert p\rVert` so that the derivatives are taken along the
        unit vector :math:`v = p / \lVert p\rVert`. With ``False`` the result is
        :math:`\lVert p\rVert\, a`, whose spread divided by :math:`\pi` is directly the
        normalised step :math:`r` of the update :math:`p`.

    Returns
    -------
    ndarray of shape (N, K)
    """
    if not callable(getattr(model, "jvp", None)):
        raise TypeError("model must have a jvp(X, direction) method")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {normalize!r}")
    norm = update_norm(direction)
    if norm == 0.0:
        raise ValueError("direction must not be zero")
    _, dz = model.jvp(X, direction)
    dz = np.asarray(dz, dtype=np.float64)
    return dz / norm if normalize else dz


def logit_spread(a: ArrayLike) -> FloatResult:
    r"""Spread :math:`\Delta_a = \max_k a_k - \min_k a_k` along the last axis.

    Parameters
    ----------
    a : array_like of shape (..., K)
        Directional logit derivatives, ``K >= 2``.

    Returns
    -------
    numpy.float64 or ndarray of shape (...)
    """
    arr = _check_a(a, "a")
    out = arr.max(axis=-1) - arr.min(axis=-1)
    return finish(out)


def _check_a(a: ArrayLike, name: str) -> Array:
    arr = as_float_array(a, name)
    if arr.ndim < 1 or arr.shape[-1] < 2:
        raise ValueError(
            f"{name} must have a class axis of length >= 2 last, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


# ---------------------------------------------------------------------------
# radii
# ---------------------------------------------------------------------------
def binary_zeros(
    delta: float, delta_a: float, m: ArrayLike = 0
) -> np.complex128 | NDArray[np.complex128]:
    r"""Complex zeros of :math:`F(\tau) = e^{z_1 + a_1\tau} + e^{z_2 + a_2\tau}`.

    :math:`F = 0` exactly when :math:`e^{\delta + (a_1 - a_2)\tau} = -1`, that is when
    :math:`\delta + (a_1 - a_2)\tau = i\pi(2m + 1)` for an integer :math:`m`:

    .. math::

        \tau_m = \frac{-\delta + i\pi(2m+1)}{a_1 - a_2}.

    The real part :math:`-\delta / (a_1 - a_2)` is the step at which the linearised
    logits cross (the prediction flips); it has the sign opposite to :math:`\delta`
    when :math:`a_1 > a_2`.

    Parameters
    ----------
    delta : float
        Logit gap :math:`\delta = z_1 - z_2`.
    delta_a : float
        Signed difference :math:`a_1 - a_2`, not zero.
    m : int or array of int, default 0
        Which zero(s); ``m`` and ``-1 - m`` are complex conjugates.

    Returns
    -------
    numpy.complex128 or ndarray of complex
    """
    d = check_real_scalar(delta, "delta")
    da = check_real_scalar(delta_a, "delta_a")
    if da == 0.0:
        raise ValueError("delta_a must not be zero: with a_1 = a_2, F has no zeros")
    mm = np.asarray(m)
    if mm.dtype.kind not in "iu":
        raise TypeError(f"m must be an integer or an array of integers, got dtype {mm.dtype}")
    out = np.asarray((-d + 1j * np.pi * (2 * mm.astype(np.float64) + 1)) / da)
    return out[()] if out.ndim == 0 else out


def rho_binary(delta: ArrayLike, delta_a: ArrayLike) -> FloatResult:
    r"""Exact Taylor radius of the two-class line loss, :math:`\sqrt{\delta^2+\pi^2}/|\Delta_a|`.

    The nearest zeros of :math:`F` are the pair :math:`m = 0, -1` of
    :func:`binary_zeros`, at distance :math:`\sqrt{\delta^2 + \pi^2} / |a_1 - a_2|`
    from the origin. The radius is smallest, :math:`\pi / |a_1 - a_2|`, when the two
    logits are equal (:math:`\delta = 0`). With :math:`a_1 = a_2` there is no zero and
    the radius is infinite.

    Parameters
    ----------
    delta : float or array_like
        Logit gap :math:`z_1 - z_2`.
    delta_a : float or array_like
        :math:`a_1 - a_2` (its sign does not matter).

    Returns
    -------
    numpy.float64 or ndarray
    """
    d = as_float_array(delta, "delta")
    da = as_float_array(delta_a, "delta_a")
    if not np.all(np.isfinite(d)):
        raise ValueError("delta must be finite")
    if not np.all(np.isfinite(da)):
        raise ValueError("delta_a must be finite")
    try:
        d, da = np.broadcast_arrays(d, da)
    except ValueError:
        raise ValueError(
            f"delta and delta_a must broadcast together, got shapes {d.shape} and {da.shape}"
        ) from None
    with np.errstate(divide="ignore"):
        out = np.hypot(d, np.pi) / np.abs(da)
    return finish(out)


def rho_multiclass(a: ArrayLike) -> FloatResult:
    r"""Lower bound :math:`\rho_a = \pi / (\max_k a_k - \min_k a_k)` on the Taylor radius.

    For every complex zero :math:`\tau` of :math:`F`, :math:`|\operatorname{Im}\tau| \ge
    \pi/\Delta_a`: if :math:`|\operatorname{Im}\tau|\,\Delta_a < \pi` the phases
    :math:`a_k \operatorname{Im}\tau` fit in an arc shorter than :math:`\pi`, so all
    terms of :math:`F` lie in one open half-plane and cannot sum to zero. Hence
    :math:`\rho^* \ge |\operatorname{Im}\tau| \ge \rho_a`. With :math:`K = 2` and
    :math:`\delta = 0` the bound is attained.

    Parameters
    ----------
    a : array_like of shape (..., K)
        Directional logit derivatives along a unit direction (last axis: classes).

    Returns
    -------
    numpy.float64 or ndarray of shape (...)
        ``inf`` where the spread is zero (no zeros at all).
    """
    spread = np.asarray(logit_spread(a), dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.pi / spread
    return finish(out)


def rho_dataset(a: ArrayLike) -> float:
    r"""Radius for a whole data set: :math:`\rho_a = \pi / \max_x \Delta_a(x)`.

    A step must stay inside every example's disc, so the example with the largest
    spread of directional derivatives sets the radius (``np.argmax(logit_spread(a))``
    finds it); it need not be the example with the smallest margin.

    Parameters
    ----------
    a : array_like of shape (N, K)

    Returns
    -------
    float
        The minimum of :func:`rho_multiclass` over the rows.
    """
    arr = _check_a(a, "a")
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"a must have shape (N, K) with N >= 1, got {arr.shape}")
    return float(np.min(rho_multiclass(arr)))


def normalized_step(update: Params, delta_a: float) -> float:
    r"""Normalised step :math:`r = \tau / \rho_a = \lVert p\rVert\,\Delta_a / \pi`.

    Parameters
    ----------
    update : array_like or sequence of array_like
        The proposed parameter displacement :math:`p` (learning rate, momentum and
        preconditioning included); :math:`\tau = \lVert p\rVert`. A scalar is read as
        :math:`\tau` itself (its absolute value).
    delta_a : float
        Spread :math:`\max_x \Delta_a(x; v)` along the *unit* direction
        :math:`v = p / \lVert p\rVert`, over the data that must stay inside the radius.

    Returns
    -------
    float
        :math:`r`; ``r <= 1`` means the step stays inside every Taylor disc.
    """
    spread = check_real_scalar(delta_a, "delta_a", lo=0.0)
    return update_norm(update) * spread / np.pi


def rescale_to_radius(update: Params, rho: float) -> tuple[list[Array], float]:
    r"""Shrink an update to length at most :math:`\rho`.

    :math:`p \mapsto p\,\min(1, \rho/\lVert p\rVert)`.

    Parameters
    ----------
    update : array_like or sequence of array_like
    rho : float
        Allowed length, ``> 0`` (``inf`` leaves the update unchanged).

    Returns
    -------
    updates : list of ndarray
        The rescaled arrays (new arrays, same shapes).
    scale : float
        The factor :math:`\min(1, \rho/\lVert p\rVert)` that was applied.
    """
    parts = as_parts(update, "update")
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.integer, np.floating)):
        raise TypeError(f"rho must be a real number, got {rho!r}")
    rho_f = float(rho)
    if not rho_f > 0.0:
        raise ValueError(f"rho must be > 0, got {rho!r}")
    norm = update_norm(parts)
    scale = 1.0 if norm <= rho_f else rho_f / norm
    return [scale * p for p in parts], scale


class RhoController:
    r"""Wrap any update rule so that each step stays inside the radius :math:`\rho_a`.

    For each gradient the wrapped optimiser proposes an update :math:`p`; one JVP of
    :math:`p` over the examples ``X`` gives :math:`\lVert p\rVert\,a_k(x)`, whose largest
    spread over the rows is :math:`\lVert p\rVert\,\Delta_a = \pi r`. The update is then
    multiplied by :math:`\min(1, \rho_a/\lVert p\rVert) = \min(1, 1/r)`, so the step
    taken has :math:`r \le 1` (no safety factor).

    Parameters
    ----------
    optimizer : object with ``propose(params, grads) -> updates``
        For example :class:`celesson.optim.Adam`; its state advances as usual.
    model : object with ``jvp(X, direction)`` and ``params``
        The model whose parameters are updated.
    probe : array_like of shape (M, d), optional
        Fixed examples on which :math:`\rho_a` is measured. Without it, pass the
        current batch to :meth:`propose` / :meth:`step`.

    Attributes
    ----------
    last_r : float
        Normalised step of the last *proposed* update, before rescaling.
    last_scale : float
        Factor applied to the last update.
    measures_on_batch : bool
        True without a probe: :func:`celesson.mlp.fit` then passes each batch to
        :meth:`step`, so the controller composes with the package's trainer.

    Examples
    --------
    >>> import numpy as np
    >>> from celesson.mlp import MLP, fit
    >>> from celesson.optim import Adam
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((64, 4)), rng.integers(0, 3, 64)
    >>> net = MLP([4, 8, 3], seed=0)
    >>> ctrl = RhoController(Adam(lr=10.0), net)
    >>> history = fit(net, X, y, optimizer=ctrl, epochs=3, batch_size=16)
    >>> bool(ctrl.last_scale < 1.0)  # a rate of 10 is cut back to the radius
    True
    """

    def __init__(self, optimizer: Any, model: Any, probe: ArrayLike | None = None) -> None:
        if not callable(getattr(optimizer, "propose", None)):
            raise TypeError("optimizer must have a propose(params, grads) method")
        if not callable(getattr(model, "jvp", None)):
            raise TypeError("model must have a jvp(X, direction) method")
        self.optimizer = optimizer
        self.model = model
        self.probe = None if probe is None else as_float_array(probe, "probe")
        self.last_r = float("nan")
        self.last_scale = float("nan")

    @property
    def measures_on_batch(self) -> bool:
        """Whether :meth:`step` needs the batch (no probe was given)."""
        return self.probe is None

    def propose(
        self, params: Sequence[Array], grads: Sequence[Array], X: ArrayLike | None = None
    ) -> list[Array]:
        """Return the optimiser's update for ``grads``, shrunk to :math:`r \\le 1`.

        Parameters
        ----------
        params, grads : lists of arrays
            As for the wrapped optimiser.
        X : array_like, optional
            Examples for the JVP; required when no ``probe`` was given.
        """
        if X is None:
            if self.probe is None:
                raise ValueError("X is required when the controller has no probe set")
            X = self.probe
        updates = self.optimizer.propose(params, grads)
        norm = update_norm(updates)
        if norm == 0.0:
            self.last_r, self.last_scale = 0.0, 1.0
            return [np.asarray(u, dtype=np.float64).copy() for u in updates]
        a_scaled = directional_derivatives(self.model, X, list(updates), normalize=False)
        spread = float(np.max(logit_spread(a_scaled)))  # = ||p|| * Delta_a(v)
        self.last_r = spread / np.pi
        rho = np.inf if spread == 0.0 else np.pi * norm / spread
        scaled, self.last_scale = rescale_to_radius(list(updates), rho)
        return scaled

    def step(
        self, params: Sequence[Array], grads: Sequence[Array], X: ArrayLike | None = None
    ) -> list[Array]:
        """Propose (see :meth:`propose`), add the updates to ``params`` in place, return them."""
        updates = self.propose(params, grads, X)
        for i, (p, u) in enumerate(zip(params, updates, strict=True)):
            if not isinstance(p, np.ndarray) or p.shape != u.shape:
                raise ValueError(f"params[{i}] must be an ndarray of shape {u.shape}")
            p += u
        return updates

    def __repr__(self) -> str:
        probe = "batch" if self.probe is None else f"probe of {self.probe.shape[0]} rows"
        return f"RhoController({self.optimizer!r}, rho_a measured on the {probe})"
