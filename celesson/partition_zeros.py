r"""The complex zeros of the softmax partition function, found without the formulas.

:func:`log_abs_partition`, the line loss and its Taylor coefficients, and
:func:`nearest_zero`/:func:`zeros_in_disc`: the argument principle counts the zeros in
a disc, contour moments locate them and Newton steps in :mod:`mpmath` polish them, so
that the radius formulas of :mod:`celesson.radius` can be tested against them.
Re-exported by :mod:`celesson.ghosts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    FloatResult,
    as_float_array,
    as_index_array,
    check_int,
    check_real_scalar,
    finish,
)
from .numerics import log_softmax
from .radius import Array


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


def log_abs_partition(z: ArrayLike, a: ArrayLike, tau: ArrayLike) -> FloatResult:
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


def line_loss(z: ArrayLike, a: ArrayLike, y: int, tau: ArrayLike) -> FloatResult:
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
    numpy.float64 or ndarray of the shape of ``tau``
    """
    zz, aa = _check_za(z, a)
    yy = int(as_index_array(y, "y", zz.shape[0]))
    t = as_float_array(tau, "tau")
    moved = zz + t[..., None] * aa
    out = -log_softmax(moved, axis=-1)[..., yy]
    return finish(np.asarray(out, dtype=np.float64))


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
