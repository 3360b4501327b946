r"""Complex zeros of the softmax partition function and the step sizes they allow.

Move the parameters :math:`\theta` of a softmax classifier along a unit direction
:math:`v` by a distance :math:`\tau`. To first order each logit moves on a line,

.. math::

    z_k(\theta + \tau v) \approx z_k + a_k \tau, \qquad a_k = \nabla_\theta z_k \cdot v,

so the cross-entropy of one example with label :math:`y` becomes the *line loss*

.. math::

    \ell(\tau) = -z_y - a_y \tau + \log F(\tau), \qquad
    F(\tau) = \sum_{k=1}^{K} e^{z_k + a_k \tau}.

:math:`F` is positive for real :math:`\tau` but has zeros in the complex plane. At
each zero :math:`\log F` has a branch point, so the Taylor series of :math:`\ell`
around :math:`\tau = 0` converges exactly on the open disc that reaches the nearest
zero: its radius :math:`\rho^*` is the Taylor radius of the loss along :math:`v`.

* Two classes: the zeros are :math:`\tau_m = (-\delta + i\pi(2m+1)) / (a_1 - a_2)`
  with :math:`\delta = z_1 - z_2`, so
  :math:`\rho^* = \sqrt{\delta^2 + \pi^2} / |a_1 - a_2|` (:func:`rho_binary`).
* :math:`K` classes: every zero has :math:`|\operatorname{Im}\tau| \ge \pi/\Delta_a`
  with the spread :math:`\Delta_a = \max_k a_k - \min_k a_k`, hence
  :math:`\rho^* \ge \rho_a = \pi / \Delta_a` (:func:`rho_multiclass`); over a data set
  the smallest disc wins (:func:`rho_dataset`).
* A proposed update :math:`p` moves the parameters by :math:`\tau = \lVert p\rVert`;
  the normalised step is :math:`r = \tau / \rho_a` (:func:`normalized_step`), and
  :class:`RhoController` shrinks any optimiser's update to :math:`r \le 1`.

:func:`nearest_zero` finds the nearest zero of :math:`F` for any :math:`K` without
using either formula (argument principle, contour moments and Newton polishing in
:mod:`mpmath`), so the formulas can be tested against it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, cast

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, as_index_array, check_int, check_real_scalar
from .losses import cross_entropy
from .numerics import log_softmax
from .optim import Adam, clip_grad_norm

__all__ = [
    "SPIKE_RULES",
    "RhoController",
    "SpikeRun",
    "binary_zeros",
    "count_zeros",
    "directional_derivatives",
    "line_loss",
    "line_loss_taylor",
    "line_scan",
    "linear_logit_derivatives",
    "log_abs_partition",
    "logit_spread",
    "nearest_zero",
    "normalized_step",
    "rescale_to_radius",
    "rho_binary",
    "rho_dataset",
    "rho_multiclass",
    "spike_lr",
    "temperature_gradients",
    "update_norm",
    "zeros_in_disc",
]

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
    parts = _as_parts(update, "update")
    # scale first so that huge or tiny entries neither overflow nor underflow
    big = max((float(np.max(np.abs(p))) if p.size else 0.0) for p in parts)
    if big == 0.0:
        return 0.0
    if not math.isfinite(big):
        raise ValueError("update must be finite")
    return big * math.sqrt(sum(float(np.sum((p / big) ** 2)) for p in parts))


def _as_parts(update: Params, name: str) -> list[Array]:
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


def logit_spread(a: ArrayLike) -> Any:
    r"""Spread :math:`\Delta_a = \max_k a_k - \min_k a_k` along the last axis.

    Parameters
    ----------
    a : array_like of shape (..., K)
        Directional logit derivatives, ``K >= 2``.

    Returns
    -------
    float or ndarray of shape (...)
    """
    arr = _check_a(a, "a")
    out = arr.max(axis=-1) - arr.min(axis=-1)
    return float(out) if out.ndim == 0 else out


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
def binary_zeros(delta: float, delta_a: float, m: ArrayLike = 0) -> Any:
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
    complex or ndarray of complex
    """
    d = check_real_scalar(delta, "delta")
    da = check_real_scalar(delta_a, "delta_a")
    if da == 0.0:
        raise ValueError("delta_a must not be zero: with a_1 = a_2, F has no zeros")
    mm = np.asarray(m)
    if mm.dtype.kind not in "iu":
        raise TypeError(f"m must be an integer or an array of integers, got dtype {mm.dtype}")
    out = np.asarray((-d + 1j * np.pi * (2 * mm.astype(np.float64) + 1)) / da)
    return complex(out) if out.ndim == 0 else out


def rho_binary(delta: ArrayLike, delta_a: ArrayLike) -> Any:
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
    float or ndarray
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
    return float(out) if out.ndim == 0 else out


def rho_multiclass(a: ArrayLike) -> Any:
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
    float or ndarray of shape (...)
        ``inf`` where the spread is zero (no zeros at all).
    """
    spread = np.asarray(logit_spread(a), dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.pi / spread
    return float(out) if out.ndim == 0 else out


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
    parts = _as_parts(update, "update")
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


# ---------------------------------------------------------------------------
# the partition function along a line
# ---------------------------------------------------------------------------
def _check_za(z: ArrayLike, a: ArrayLike) -> tuple[Array, Array]:
    zz = as_float_array(z, "z")
    aa = as_float_array(a, "a")
    if zz.ndim != 1 or zz.shape[0] < 2:
        raise ValueError(f"z must be 1-D with K >= 2 logits, got shape {zz.shape}")
    if aa.shape != zz.shape:
        raise ValueError(f"a must have the shape of z, {zz.shape}, got {aa.shape}")
    if not (np.all(np.isfinite(zz)) and np.all(np.isfinite(aa))):
        raise ValueError("z and a must be finite")
    return zz, aa


def _scaled_F(z: Array, a: Array, tau: NDArray[np.complex128]) -> tuple[Any, Any, Any]:
    """F and F' on ``tau`` divided by the positive factor e^(max_k Re(z_k + a_k tau))."""
    t = z[None, :] + tau[:, None] * a[None, :]
    shift = t.real.max(axis=1, keepdims=True)
    e = np.exp(t - shift)
    return e.sum(axis=1), (e * a[None, :]).sum(axis=1), shift[:, 0]


def log_abs_partition(z: ArrayLike, a: ArrayLike, tau: ArrayLike) -> Any:
    r""":math:`\log|F(\tau)|` for complex :math:`\tau`, without overflow.

    Parameters
    ----------
    z, a : array_like of shape (K,)
        Logits and directional derivatives of one example.
    tau : complex array_like, any shape

    Returns
    -------
    ndarray of the shape of ``tau``
        ``-inf`` exactly at a zero (never reached in floating point in practice).
    """
    zz, aa = _check_za(z, a)
    t = np.asarray(tau, dtype=np.complex128)
    if not np.all(np.isfinite(t)):
        raise ValueError("tau must be finite")
    flat = t.ravel()
    F, _, shift = _scaled_F(zz, aa, flat)
    with np.errstate(divide="ignore"):
        out = np.log(np.abs(F)) + shift
    return out.reshape(t.shape)


def line_loss(z: ArrayLike, a: ArrayLike, y: int, tau: ArrayLike) -> Any:
    r"""Cross-entropy along the linearised logits.

    :math:`\ell(\tau) = -z_y - a_y\tau + \log F(\tau) = -\log\operatorname{softmax}(z + \tau a)_y`
    for real :math:`\tau`, computed with :func:`celesson.numerics.log_softmax`.

    Parameters
    ----------
    z, a : array_like of shape (K,)
    y : int
        True class.
    tau : float or array_like of real step lengths

    Returns
    -------
    float or ndarray of the shape of ``tau``
    """
    zz, aa = _check_za(z, a)
    yy = int(as_index_array(y, "y", zz.shape[0]))
    t = as_float_array(tau, "tau")
    moved = zz + t[..., None] * aa
    out = -log_softmax(moved, axis=-1)[..., yy]
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def line_loss_taylor(z: ArrayLike, a: ArrayLike, y: int, order: int, *, dps: int = 60) -> list:
    r"""Taylor coefficients :math:`c_0, \dots, c_n` of :math:`\ell(\tau)` at :math:`\tau = 0`.

    With :math:`F(\tau) = \sum_n f_n \tau^n`, :math:`f_n = \sum_k e^{z_k} a_k^n / n!`, the
    coefficients :math:`g_n` of :math:`\log F` follow from :math:`F \cdot (\log F)' = F'`:

    .. math::

        g_0 = \log f_0,\qquad
        g_n = \frac{1}{f_0}\Bigl(f_n - \frac1n \sum_{j=1}^{n-1} j\, g_j f_{n-j}\Bigr),

    and :math:`c_0 = g_0 - z_y`, :math:`c_1 = g_1 - a_y`, :math:`c_n = g_n` for
    :math:`n \ge 2`. Computed in :mod:`mpmath` with ``dps`` digits; the derivatives are
    first centred (:math:`a_k - \bar a`), which changes only the linear term.

    Parameters
    ----------
    z, a : array_like of shape (K,)
    y : int
    order : int
        Highest power :math:`n \ge 0`.
    dps : int, default 60
        Working precision in decimal digits.

    Returns
    -------
    list of mpmath.mpf
        ``order + 1`` coefficients. The root test gives the Taylor radius:
        :math:`\liminf_n |c_n|^{-1/n} = \rho^*`.
    """
    zz, aa = _check_za(z, a)
    yy = int(as_index_array(y, "y", zz.shape[0]))
    n_max = check_int(order, "order", lo=0)
    digits = check_int(dps, "dps", lo=15)
    with mpmath.workdps(digits):
        centre = (mpmath.mpf(float(aa.max())) + mpmath.mpf(float(aa.min()))) / 2
        ac = [mpmath.mpf(float(v)) - centre for v in aa]
        zmax = mpmath.mpf(float(zz.max()))
        w = [mpmath.exp(mpmath.mpf(float(v)) - zmax) for v in zz]
        f = []
        for n in range(n_max + 1):
            f.append(mpmath.fsum(wk * ak**n for wk, ak in zip(w, ac, strict=True))
                     / mpmath.factorial(n))
        g = [mpmath.log(f[0]) + zmax]
        for n in range(1, n_max + 1):
            acc = mpmath.fsum(j * g[j] * f[n - j] for j in range(1, n))
            g.append((f[n] - acc / n) / f[0])
        c = list(g)
        c[0] = g[0] - mpmath.mpf(float(zz[yy]))
        if n_max >= 1:
            c[1] = g[1] + centre - mpmath.mpf(float(aa[yy]))
        return [+v for v in c]


# ---------------------------------------------------------------------------
# an independent root finder for F
# ---------------------------------------------------------------------------
_MIN_POINTS = 512
_MAX_POINTS = 2**18
_SAFE_GAP = 0.02  # circles are placed this far (relative to R) from every zero when possible


class _Circle:
    """Samples of F on |tau| = R, with the winding number and contour moments."""

    def __init__(self, z: Array, a: Array, radius: float) -> None:
        self.z, self.a, self.radius = z, a, radius
        n = _MIN_POINTS
        while True:
            self._sample(n)
            # a zero closer than 1e-4 R to the circle: give up, the caller moves the circle
            if self.max_step < np.pi / 8 or n >= _MAX_POINTS or self.gap < 1e-4:
                break
            n *= 2
        self.safe = bool(self.max_step < np.pi / 8 and np.all(np.isfinite(self.log_deriv)))
        self.winding = round(self.total_phase / (2.0 * np.pi))

    def _sample(self, n: int) -> None:
        self.points = n
        self.tau = self.radius * np.exp(2j * np.pi * np.arange(n) / n)
        F, dF, _ = _scaled_F(self.z, self.a, self.tau)
        phase = np.angle(F)
        step = np.diff(np.append(phase, phase[0]))
        step = (step + np.pi) % (2.0 * np.pi) - np.pi
        self.max_step = float(np.max(np.abs(step)))
        self.total_phase = float(np.sum(step))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_deriv = dF / F  # F'/F: the positive scale factor cancels
            newton = np.abs(F / dF)  # about the distance to the nearest simple zero
        finite = newton[np.isfinite(newton)]
        self.gap = float(finite.min()) / self.radius if finite.size else 0.0

    def moments(self, count: int) -> NDArray[np.complex128]:
        r"""Power sums :math:`s_p = \frac{1}{2\pi i}\oint \tau^p F'/F\,d\tau`, p = 0..count."""
        # the trapezoidal rule errs by about exp(-n * gap): sample finely enough
        wanted = int(min(_MAX_POINTS, 2 ** np.ceil(np.log2(40.0 / max(self.gap, 1e-9)))))
        if wanted > self.points:
            self._sample(wanted)
        # d tau = i tau d theta, so s_p is the mean of tau^(p+1) F'/F over the circle
        return np.array(
            [np.mean(self.tau ** (p + 1) * self.log_deriv) for p in range(count + 1)]
        )


def _circle(z: Array, a: Array, radius: float, lo: float, hi: float) -> _Circle:
    """A circle of radius near ``radius``, inside (lo, hi), kept clear of the zeros."""
    best = None
    for shift in (0.0, 0.1, -0.1, 0.2, -0.2, 0.3, -0.3):
        r = radius + shift * (hi - lo)
        if not lo < r < hi:
            continue
        c = _Circle(z, a, r)
        if c.safe and c.gap > _SAFE_GAP:
            return c
        if c.safe and (best is None or c.gap > best.gap):
            best = c
    if best is None:
        raise RuntimeError(f"could not place a circle near radius {radius!r} clear of the zeros")
    return best


def count_zeros(z: ArrayLike, a: ArrayLike, radius: float) -> int:
    r"""Number of zeros of :math:`F` in the disc :math:`|\tau| < R` (argument principle).

    The winding number of :math:`F` around the circle :math:`|\tau| = R`, sampled finely
    enough that the phase moves by less than :math:`\pi/8` between samples. Raises
    :class:`RuntimeError` when a zero lies so close to the circle that no sampling
    resolves it.

    Parameters
    ----------
    z, a : array_like of shape (K,)
    radius : float
        :math:`R > 0`.

    Returns
    -------
    int
    """
    zz, aa = _check_za(z, a)
    R = check_real_scalar(radius, "radius", lo=0.0, lo_open=True)
    c = _Circle(zz, aa, R)
    if not c.safe:  # pragma: no cover - needs a zero within about 1e-5 R of the circle
        raise RuntimeError(f"a zero of F lies on or very near the circle of radius {R!r}")
    return c.winding


def _polish(z: Array, a: Array, guesses: Sequence[complex]) -> list[complex]:
    """Newton's method from each guess (float64, then 32 digits); only true zeros are kept."""
    rough = []
    for g in guesses:
        t = np.array([g], dtype=np.complex128)
        for _ in range(50):
            F, dF, _ = _scaled_F(z, a, t)
            if dF[0] == 0:
                break
            step = F / dF
            t = t - step
            if abs(step[0]) <= 1e-14 * max(1.0, abs(t[0])):
                break
        rough.append(complex(t[0]))
    confirmed = []
    with mpmath.workdps(32):
        zm = [mpmath.mpf(float(v)) for v in z]
        am = [mpmath.mpf(float(v)) for v in a]
        for g in rough:
            t = mpmath.mpc(g.real, g.imag)
            for it in range(4):
                terms = [mpmath.exp(zk + ak * t) for zk, ak in zip(zm, am, strict=True)]
                F = mpmath.fsum(terms)
                # a true zero: the terms cancel to 25 digits of their size
                if abs(F) <= mpmath.mpf(10) ** -25 * mpmath.fsum(abs(u) for u in terms):
                    confirmed.append(complex(t))
                    break
                if it < 3:
                    t -= F / mpmath.fsum(ak * u for ak, u in zip(am, terms, strict=True))
    return confirmed


def _annulus_zeros(z: Array, a: Array, inner: _Circle | None, outer: _Circle) -> list[complex]:
    """All zeros between two circles (``inner=None``: the whole disc)."""
    n_in = 0 if inner is None else inner.winding
    count = outer.winding - n_in
    if count <= 0:
        return []
    r_lo = 0.0 if inner is None else inner.radius
    r_hi = outer.radius
    if count > 2 and (r_hi - r_lo) > 0.05 * r_hi:
        mid = _circle(z, a, 0.5 * (r_lo + r_hi), r_lo, r_hi)
        if r_lo < mid.radius < r_hi:
            return _annulus_zeros(z, a, inner, mid) + _annulus_zeros(z, a, mid, outer)
    s = outer.moments(count)
    if inner is not None:
        s = s - inner.moments(count)
    # Newton's identities: elementary symmetric polynomials from the power sums
    e = [1.0 + 0j]
    for k in range(1, count + 1):
        e.append(sum((-1) ** (i - 1) * e[k - i] * s[i] for i in range(1, k + 1)) / k)
    coeffs = [(-1) ** k * e[k] for k in range(count + 1)]
    guesses = [complex(g) for g in np.roots(coeffs)]
    roots = _polish(z, a, guesses)
    unique: list[complex] = []
    for r in roots:
        if all(abs(r - u) > 1e-9 * max(1.0, abs(r)) for u in unique):
            unique.append(r)
    tol = 1e-9 * r_hi
    inside = [r for r in unique if r_lo - tol <= abs(r) <= r_hi + tol]
    if len(inside) != count:
        raise RuntimeError(
            f"located {len(inside)} of the {count} zeros between radii {r_lo:.6g} and {r_hi:.6g}"
        )
    return inside


def zeros_in_disc(z: ArrayLike, a: ArrayLike, radius: float) -> list[complex]:
    r"""Every zero of :math:`F(\tau) = \sum_k e^{z_k + a_k\tau}` with :math:`|\tau| < R`.

    A disc slightly larger than :math:`R` is cut into annuli by circles placed clear of
    the zeros; each annulus's zeros are counted
    with the argument principle, estimated from the contour moments
    :math:`\frac{1}{2\pi i}\oint \tau^p F'/F\,d\tau` (the power sums of the zeros inside)
    and polished by Newton's method in 32-digit arithmetic. A zero that cannot be
    confirmed raises :class:`RuntimeError`.

    Parameters
    ----------
    z, a : array_like of shape (K,)
    radius : float
        :math:`R > 0`.

    Returns
    -------
    list of complex
        Sorted by modulus, then by imaginary part.
    """
    zz, aa = _check_za(z, a)
    R = check_real_scalar(radius, "radius", lo=0.0, lo_open=True)
    outer = _circle(zz, aa, 1.05 * R, R, 1.1 * R)
    found = [t for t in _annulus_zeros(zz, aa, None, outer) if abs(t) < R]
    return sorted(found, key=lambda t: (abs(t), t.imag))


def nearest_zero(z: ArrayLike, a: ArrayLike) -> complex:
    r"""The zero of :math:`F` nearest to :math:`\tau = 0` (the one with positive imaginary part).

    Uses neither :func:`rho_binary` nor the bound of :func:`rho_multiclass`: starting from a
    circle of radius :math:`0.9\pi/\Delta_a` (used only as a length scale), it halves the
    radius until the argument principle finds no zero inside, grows it by a factor 1.6
    until it finds some, bisects the annulus between the last two circles down to the
    innermost zeros and locates them with :func:`zeros_in_disc`'s machinery (contour
    moments, then Newton's method in 32-digit arithmetic). :math:`|\tau^*|` is the
    Taylor radius :math:`\rho^*` of the line loss.

    Parameters
    ----------
    z, a : array_like of shape (K,)
        Logits and directional derivatives of one example.

    Returns
    -------
    complex
        :math:`\tau^*` with :math:`\operatorname{Im}\tau^* > 0`; its conjugate is a zero too.
    """
    zz, aa = _check_za(z, a)
    spread = float(aa.max() - aa.min())
    if spread == 0.0:
        raise ValueError("a must not have all entries equal: then F has no zeros")
    # pi / spread is only a length scale here: the counts below decide everything
    R = 0.9 * np.pi / spread
    inner = _circle(zz, aa, R, 0.7 * R, 1.1 * R)
    for _ in range(60):
        if inner.winding == 0:
            break
        inner = _circle(zz, aa, 0.5 * inner.radius, 0.3 * inner.radius, 0.7 * inner.radius)
    outer = inner
    for _ in range(200):
        if outer.winding > 0:
            break
        inner = outer
        outer = _circle(zz, aa, 1.6 * inner.radius, 1.3 * inner.radius, 1.9 * inner.radius)
    else:  # pragma: no cover - exponential sums with two distinct rates always have zeros
        raise RuntimeError("no zero of F found")
    # bisect towards the innermost zeros until the annulus holds a single conjugate pair
    for _ in range(80):
        if outer.winding <= 2 or outer.radius - inner.radius <= 0.05 * outer.radius:
            break
        mid = _circle(zz, aa, 0.5 * (inner.radius + outer.radius), inner.radius, outer.radius)
        if not inner.radius < mid.radius < outer.radius:
            break
        if mid.winding > 0:
            outer = mid
        else:
            inner = mid
    found = _annulus_zeros(zz, aa, inner, outer)
    nearest = min(abs(t) for t in found)
    # zeros come in conjugate pairs (F is real on the real axis and positive there)
    upper = [t for t in found if abs(t) <= nearest * (1 + 1e-12) and t.imag > 0]
    return min(upper, key=lambda t: t.real)


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
    parts = _as_parts(direction, "direction")
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
