"""Units in the last place: the yardstick of every accuracy figure.

Definitions
-----------
For a finite float64 number ``t`` write ``|t| = m * 2**e`` with ``1 <= m < 2``. Its
unit in the last place is

.. math:: \\operatorname{ulp}(t) = 2^{\\max(e, -1022) - 52},

the gap between consecutive float64 numbers in the binade of ``t``. Subnormal
numbers and zero share the smallest gap, :math:`2^{-1074}`, so ``ulp`` is defined
(and positive) for every finite float64 number, zero included.

The error of a computed float64 value ``x`` against an exact value ``T`` is

.. math:: \\operatorname{err}(x, T) = \\frac{|x - T|}{\\operatorname{ulp}(\\operatorname{fl}(T))},

where ``fl(T)`` is ``T`` rounded to the nearest float64 number. A correctly rounded
result has an error of at most 0.5; the next float64 number beyond it has an error
between 0.5 and 1.5. An infinite or NaN ``x`` has an infinite error unless ``fl(T)``
is the same infinity.

The exact value is handed over as an unevaluated sum ``T = t + r`` of two float64
numbers, ``t = fl(T)`` and ``r = fl(T - t)`` (a "double-double"), so that errors of
many values can be evaluated at once with NumPy: when ``x`` is near ``t`` the
difference ``x - t`` is exact (Sterbenz's lemma), and ``r`` carries the rest of ``T``
to 53 more bits.
"""

from __future__ import annotations

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray

#: The smallest gap between float64 numbers (the smallest positive subnormal).
TINY_ULP: float = float(np.ldexp(1.0, -1074))


def ulp(t: ArrayLike) -> NDArray[np.float64]:
    """Unit in the last place of finite float64 numbers.

    Parameters
    ----------
    t : array_like of float
        Finite float64 values (zero and subnormals allowed).

    Returns
    -------
    numpy.ndarray
        :math:`2^{\\max(e, -1022) - 52}` where :math:`2^e \\le |t| < 2^{e+1}`;
        :math:`2^{-1074}` for zero and subnormal ``t``.

    Raises
    ------
    ValueError
        If any ``t`` is infinite or NaN.
    """
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("t must be finite to have an ulp")
    _, exponent = np.frexp(np.abs(arr))  # |t| = m * 2**exponent with 0.5 <= m < 1
    # For |t| in [2**e, 2**(e+1)) frexp returns exponent = e + 1; clamp to the
    # subnormal range, where every gap is 2**-1074. Zero gets exponent 0 from frexp,
    # so it is handled separately.
    result = np.ldexp(1.0, np.maximum(exponent, -1021) - 53)
    return np.where(arr == 0.0, TINY_ULP, result)


def split(value: mpmath.mpf) -> tuple[float, float]:
    """Split an exact (high-precision) number into float64 ``t = fl(T)`` and ``r = fl(T - t)``.

    Parameters
    ----------
    value : mpmath.mpf
        The exact value ``T``.

    Returns
    -------
    (float, float)
        ``t`` rounded to nearest (``+-inf`` beyond the float64 range) and the
        rounded remainder ``r`` (0.0 when ``t`` is infinite).
    """
    big = mpmath.mpf(np.finfo(np.float64).max)
    # Above max + ulp(max)/2 round-to-nearest gives infinity.
    limit = big + mpmath.ldexp(1, 970)
    if abs(value) >= limit:
        return (float("inf") if value > 0 else float("-inf")), 0.0
    if abs(value) > big:
        t = float(np.copysign(np.finfo(np.float64).max, float(mpmath.sign(value))))
    else:
        t = float(value)
        if abs(t) < np.finfo(np.float64).tiny:
            # mpmath rounds to 53 bits before scaling, which may round twice in the
            # subnormal range; round directly to a multiple of 2**-1074 instead.
            t = float(mpmath.nint(mpmath.ldexp(value, 1074))) * TINY_ULP
    rest = value - mpmath.mpf(t)
    return t, float(rest)


def ulp_error(x: ArrayLike, t: ArrayLike, r: ArrayLike | float = 0.0) -> NDArray[np.float64]:
    """Error of computed values in units of the last place of the exact result.

    Parameters
    ----------
    x : array_like of float
        Computed float64 values.
    t, r : array_like of float
        The exact values as ``T = t + r`` with ``t = fl(T)`` (see :func:`split`).

    Returns
    -------
    numpy.ndarray
        :math:`|x - T| / \\operatorname{ulp}(t)`; ``inf`` where ``x`` is NaN, or
        infinite while ``t`` is not that same infinity; errors too large for float64
        (finite ``x`` wrong by more than about :math:`10^{308}` ULP) are clipped to the
        largest float64 number.
    """
    x_arr, t_arr, r_arr = np.broadcast_arrays(
        np.asarray(x, dtype=np.float64),
        np.asarray(t, dtype=np.float64),
        np.asarray(r, dtype=np.float64),
    )
    out = np.full(x_arr.shape, np.inf)
    same_inf = np.isinf(t_arr) & (x_arr == t_arr)
    out[same_inf] = 0.0
    ok = np.isfinite(x_arr) & np.isfinite(t_arr)
    if np.any(ok):
        xs, ts, rs = x_arr[ok], t_arr[ok], r_arr[ok]
        gap = ulp(ts)
        with np.errstate(over="ignore"):
            # x - t is exact when x and t are within a factor of 2 of each other.
            diff = (xs - ts) - rs
            err = np.abs(diff) / gap
        # A finite but astronomically wrong value (its error overflows) is reported as
        # the largest float64 number, so that ``inf`` stays reserved for inf/NaN outputs.
        out[ok] = np.where(np.isfinite(err), err, np.finfo(np.float64).max)
    return out
