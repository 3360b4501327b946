"""Input checks shared by the public functions of :mod:`celesson`.

Every public function converts its arguments with the helpers below, so that bad
input fails early with a :class:`TypeError` (wrong kind of object) or a
:class:`ValueError` (right kind, wrong value) whose message names the argument and
says what was expected.  Nothing here is part of the public API.
"""

from __future__ import annotations

import numbers
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: What a loss, a gradient or an elementwise function of the package returns: a NumPy
#: ``float64`` scalar (a reduced loss, or the value at a scalar input) or a ``float64``
#: array (elementwise, or ``reduction="none"``).
FloatResult = np.float64 | NDArray[np.float64]

REDUCTIONS = ("mean", "sum", "none")


def as_float_array(x: ArrayLike, name: str, *, check_nan: bool = True) -> np.ndarray:
    """Return ``x`` as a float64 array, rejecting non-real and NaN input.

    Booleans and integers are converted to float64; complex numbers, strings and
    objects raise :class:`TypeError`.  With ``check_nan`` (the default) any NaN
    raises :class:`ValueError`; infinities are left to the caller.
    """
    if isinstance(x, str | bytes):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got a string")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise TypeError(
            f"{name} must be a real number or an array of real numbers ({exc})"
        ) from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if kind not in "biuf":
        raise TypeError(
            f"{name} must be a real number or an array of real numbers, got dtype {arr.dtype}"
        )
    if arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    if check_nan and arr.size and np.isnan(arr.min()):  # min is NaN iff an entry is
        _raise_nan(name)
    return arr


def _raise_nan(name: str) -> NoReturn:
    raise ValueError(f"{name} contains NaN; a number is required in every entry")


def value_range(arr: np.ndarray, name: str) -> tuple[float, float]:
    """Return ``(min, max)`` of a float array, rejecting NaN; ``(inf, -inf)`` if empty.

    NumPy's ``min`` and ``max`` propagate NaN, so the two reductions double as the
    NaN check (two passes over the data and no temporary array, where
    ``np.isnan(arr).any()`` needs a boolean array and a third pass).
    """
    if arr.size == 0:
        return np.inf, -np.inf
    lo, hi = float(arr.min()), float(arr.max())
    if np.isnan(lo):
        _raise_nan(name)
    return lo, hi


def as_index_array(x: ArrayLike, name: str, num_classes: int) -> np.ndarray:
    """Return ``x`` as an integer array of class indices in ``[0, num_classes)``."""
    if isinstance(x, str | bytes):
        raise TypeError(f"{name} must hold integer class indices, got a string")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class indices (an integer dtype), got dtype {arr.dtype}"
        )
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"{name} holds class index {int(bad)}, outside the valid range "
                f"0..{num_classes - 1} for {num_classes} classes"
            )
    return arr.astype(np.intp, copy=False)


def check_probabilities(
    p: np.ndarray, name: str, bounds: tuple[float, float] | None = None
) -> None:
    """Raise :class:`ValueError` unless every entry of ``p`` lies in ``[0, 1]``.

    ``bounds``, if given, is ``value_range(p, name)`` computed by the caller (it is
    then not recomputed).
    """
    if not p.size:
        return
    lo, hi = (float(p.min()), float(p.max())) if bounds is None else bounds
    if lo < 0.0 or hi > 1.0:
        bad = lo if lo < 0.0 else hi
        raise ValueError(f"{name} must hold probabilities in [0, 1], found {bad!r}")


def check_distribution(p: np.ndarray, name: str, axis: int, atol: float = 1e-6) -> None:
    """Raise :class:`ValueError` unless ``p`` holds probability vectors along ``axis``."""
    check_probabilities(p, name)
    if p.size:
        total = p.sum(axis=axis)
        worst = np.max(np.abs(total - 1.0))
        if worst > atol:
            raise ValueError(
                f"{name} must sum to 1 along axis {axis} (within {atol:g}); "
                f"a slice sums to {float(1.0 + worst) if worst > 0 else 1.0:.6g} "
                f"(off by {float(worst):.3g})"
            )


def check_choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    """Return ``value`` if it is one of the strings ``allowed``.

    A value that is not a string raises ``TypeError``, a string that is not allowed
    ``ValueError``; both messages name the argument and the allowed values.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {allowed}, got {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_reduction(reduction: Any, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    """Return ``reduction`` if it is one of ``allowed`` (``"mean"``, ``"sum"``, ``"none"``)."""
    return check_choice(reduction, allowed, "reduction")


def reduce(values: np.ndarray, reduction: str, name: str = "the batch") -> FloatResult:
    """Apply a reduction to per-element values (already checked with :func:`check_reduction`)."""
    if reduction == "none":
        return finish(values)
    if reduction == "sum":
        return np.float64(values.sum())
    if values.size == 0:
        raise ValueError(
            f'{name} is empty: reduction="mean" of zero elements is undefined '
            '(use reduction="sum" or "none")'
        )
    return np.float64(values.mean())


def finish(arr: np.ndarray) -> FloatResult:
    """Return a 0-d array as a NumPy ``float64`` scalar, any other array unchanged."""
    arr = np.asarray(arr)
    return arr[()] if arr.ndim == 0 else arr


def check_pair_shapes(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> tuple[
    np.ndarray, np.ndarray
]:
    """Return ``a, b`` with equal shapes: either the shapes match or one of them is 0-d."""
    if a.shape == b.shape:
        return a, b
    if a.ndim == 0:
        return np.broadcast_to(a, b.shape), b
    if b.ndim == 0:
        return a, np.broadcast_to(b, a.shape)
    raise ValueError(
        f"{name_a} and {name_b} must have the same shape (or one of them be a scalar), "
        f"got {name_a}.shape={a.shape} and {name_b}.shape={b.shape}"
    )


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` normalised to ``0..ndim-1``."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {axis!r}")
    axis = int(axis)
    if ndim == 0:
        raise ValueError(
            "the input must have at least one dimension (the class axis), got a scalar"
        )
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array with {ndim} dimension(s)")
    return axis % ndim


def check_real_scalar(
    x: Any,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``x`` as a float after checking it is a finite real number in the given range."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf":
            x = x[()]
        else:
            raise TypeError(f"{name} must be a real number, got {x!r}")
    value = float(x)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    interval = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def check_int(x: Any, name: str, *, lo: int) -> int:
    """Return ``x`` as an int after checking it is an integer ``>= lo``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    if x < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)
