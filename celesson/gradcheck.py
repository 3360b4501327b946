r"""Central differences and a gradient checker, for any function of an array.

:func:`numerical_gradient` evaluates central differences with a step scaled to each
coordinate; :func:`check_gradient` compares a closed-form gradient against them and
returns a :class:`GradientCheck` that is truthy when every entry agrees within the
tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    FloatResult,
    as_float_array,
    check_real_scalar,
    finish,
)


def numerical_gradient(
    f: Callable[[np.ndarray], Any], x: ArrayLike, h: float | ArrayLike | None = None
) -> FloatResult:
    r"""Gradient of a scalar function by central differences.

    .. math::

        \frac{\partial f}{\partial x_i} \approx
        \frac{f(x + h_i e_i) - f(x - h_i e_i)}{(x_i + h_i) - (x_i - h_i)},

    with the default step :math:`h_i = \epsilon^{1/3} \max(1, |x_i|)` (about
    :math:`6 \times 10^{-6}` for :math:`|x_i| \le 1`), which balances the
    :math:`O(h^2)` truncation error against rounding.  The denominator uses the
    steps as actually represented in floating point.

    Parameters
    ----------
    f : callable
        Maps a float64 array shaped like ``x`` (a fresh copy each call) to a real
        scalar.
    x : array_like
        The point (any shape; a scalar is allowed).
    h : float or array_like, optional
        Step(s), positive; a scalar or an array shaped like ``x``.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The gradient, shaped like ``x``.

    Examples
    --------
    >>> round(float(numerical_gradient(lambda v: v**3, 2.0)), 6)
    12.0
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    x_arr = as_float_array(x, "x")
    if not np.isfinite(x_arr).all():
        raise ValueError("x must be finite")
    if h is None:
        steps = np.cbrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x_arr))
    else:
        steps = as_float_array(h, "h")
        if steps.shape not in ((), x_arr.shape):
            raise ValueError(
                f"h must be a scalar or have x's shape {x_arr.shape}, got {steps.shape}"
            )
        if not (np.isfinite(steps).all() and (steps > 0).all()):
            raise ValueError("h must be positive and finite")
        steps = np.broadcast_to(steps, x_arr.shape)
    flat_x = x_arr.ravel()
    flat_h = steps.ravel()
    grad = np.empty(flat_x.size)
    for i in range(flat_x.size):
        up, down = flat_x.copy(), flat_x.copy()
        up[i] += flat_h[i]
        down[i] -= flat_h[i]
        f_up = _scalar_value(f(up.reshape(x_arr.shape)))
        f_down = _scalar_value(f(down.reshape(x_arr.shape)))
        grad[i] = (f_up - f_down) / (up[i] - down[i])
    return finish(grad.reshape(x_arr.shape))


def _scalar_value(value: Any) -> float:
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"f must return a real scalar, got {type(value).__name__} with shape {arr.shape}"
        )
    return float(arr.reshape(()))


def _power_of_ten_bound(value: float) -> str:
    """The smallest power of ten that is >= value, as text (stable across machines)."""
    if value == 0.0:
        return "0"
    if not math.isfinite(value):
        return repr(value)
    return f"1e{math.ceil(math.log10(value)):+03d}"


@dataclass(frozen=True)
class GradientCheck:
    """Result of :func:`check_gradient`: truthy when the gradients agree.

    Attributes
    ----------
    analytic, numeric : numpy.ndarray
        The gradient under test and the central-difference estimate.
    max_abs_error : float
        :math:`\\max_i |g_i - \\hat g_i|`.
    max_rel_error : float
        :math:`\\max_i |g_i - \\hat g_i| / \\max(|g_i|, |\\hat g_i|)` (0 where both are 0).
    ok : bool
        Every entry satisfies :math:`|g_i - \\hat g_i| \\le atol + rtol\\,|\\hat g_i|`.
    rtol, atol : float
        The tolerances used.
    """

    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)
    max_abs_error: float
    max_rel_error: float
    ok: bool
    rtol: float
    atol: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        mark = "✔ gradient check passed" if self.ok else "✘ gradient check FAILED"
        return (
            f"{mark}: {self.analytic.size} entries, max abs error <= "
            f"{_power_of_ten_bound(self.max_abs_error)}, max rel error <= "
            f"{_power_of_ten_bound(self.max_rel_error)} (rtol={self.rtol:g}, atol={self.atol:g})"
        )

    def _repr_markdown_(self) -> str:
        return str(self)


def check_gradient(
    f: Callable[[np.ndarray], Any],
    grad: Callable[[np.ndarray], ArrayLike] | ArrayLike,
    x: ArrayLike,
    *,
    h: float | ArrayLike | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> GradientCheck:
    """Compare a gradient with central differences of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        Scalar function of an array shaped like ``x``.
    grad : callable or array_like
        The gradient to check: a function of ``x`` or the array :math:`\\nabla f(x)`.
    x : array_like
        The point.
    h : float or array_like, optional
        Steps for :func:`numerical_gradient`.
    rtol, atol : float
        Tolerances: every entry must satisfy
        :math:`|g_i - \\hat g_i| \\le atol + rtol\\,|\\hat g_i|`.

    Returns
    -------
    GradientCheck
        Truthy when the check passes; ``print`` it for a one-line summary.

    Examples
    --------
    >>> bool(check_gradient(lambda v: float((v**2).sum()), lambda v: 2 * v, [1.0, -2.0]))
    True
    """
    rtol = check_real_scalar(rtol, "rtol", lo=0.0)
    atol = check_real_scalar(atol, "atol", lo=0.0)
    x_arr = as_float_array(x, "x")
    numeric = np.asarray(numerical_gradient(f, x_arr, h), dtype=np.float64)
    analytic_raw = grad(x_arr.copy()) if callable(grad) else grad
    analytic = as_float_array(analytic_raw, "grad")
    if analytic.shape != x_arr.shape:
        raise ValueError(
            f"grad must have x's shape {x_arr.shape}, got {analytic.shape}"
        )
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = np.zeros_like(err)
    np.divide(err, scale, out=rel, where=scale > 0)
    ok = bool(np.all(err <= atol + rtol * np.abs(numeric)))
    return GradientCheck(
        analytic=analytic,
        numeric=numeric,
        max_abs_error=float(err.max(initial=0.0)),
        max_rel_error=float(rel.max(initial=0.0)),
        ok=ok,
        rtol=rtol,
        atol=atol,
    )
