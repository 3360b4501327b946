r"""Numerically stable sigmoid, softmax and their logarithms.

Every function works in float64 and is safe for every float64 input: no overflow
warnings, no NaN from ``inf - inf``, and results accurate to a few units in the last
place (ULP) against a 50-digit reference (the measured bounds are asserted in the
test suite).

Return type: a 0-d input gives a NumPy ``float64`` scalar (a subclass of Python's
``float``); any other input gives a float64 :class:`numpy.ndarray`.  The row
functions (:func:`softmax`, :func:`log_softmax`, :func:`logsumexp`) need at least one
dimension, the class axis.

The common trick is to shift by the largest entry :math:`m = \max_k z_k` and to keep
the sum of the *other* terms, :math:`t = \sum_{k \ne k^*} e^{z_k - m}`, separate from
the ``1`` contributed by the largest entry, so that

.. math::

    \operatorname{logsumexp}(z) = m + \operatorname{log1p}(t), \qquad
    \log \operatorname{softmax}(z)_k = (z_k - m) - \operatorname{log1p}(t).

Both right-hand sides add terms of one sign, so nothing cancels, and
:math:`\operatorname{log1p}(t)` stays accurate when :math:`t` is tiny (where
:math:`\log(1 + t)` would round to zero).

The terms themselves need care too: ``z_k - m`` is usually rounded, and
:math:`e^{d}` turns an absolute error in :math:`d` into a relative error of
:math:`|d|` ULP (hundreds of ULP at :math:`d \approx -700`).  When every entry lies
in :math:`[-708, 690]` the terms are therefore taken as :math:`e^{z_k} / e^{m}` (each
exponential of an exact input, rounded once by ``exp``; nothing overflows); otherwise
the rounding error of ``z_k - m`` is recovered exactly (TwoSum) and applied as
:math:`e^{d}(1 + \delta)`.
Tails made of subnormal terms are summed after scaling by :math:`e^{512}`.

Two more steps take the row functions to the last bit or two.  The terms of ``t``
are added with one rounding in total (:func:`celesson._summation.accurate_sum`); a
plain sum of 999 equal terms is already 3 ULP off.  And the softmax is formed as
:math:`e^{d_k} \cdot r\,(1 + d_{err,k} + \rho)` with :math:`r(1 + \rho)` the
reciprocal of :math:`1 + t` to twice the working precision, so only the rounding of
its own exponential and of two products remains (:mod:`celesson._rows`).

Measured worst-case errors against a 50-digit reference on the test suite's
adversarial set (offsets up to :math:`\pm 10^{300}`, spreads from :math:`10^{-15}` to
:math:`10^{4}`, :math:`K` from 2 to 1000): sigmoid 1.56 ULP, log_sigmoid 1.01,
logsumexp 1.16, log_softmax 1.56, softmax 1.58.  The benchmark in ``benchmarks/``
measures the same functions on a larger set.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels, _rows
from ._validation import FloatResult, as_float_array, check_axis, finish

__all__ = ["log_sigmoid", "log_softmax", "logsumexp", "sigmoid", "softmax"]


@overload
def sigmoid(z: float) -> np.float64: ...
@overload
def sigmoid(z: NDArray[np.floating]) -> NDArray[np.float64]: ...
@overload
def sigmoid(z: ArrayLike) -> FloatResult: ...
def sigmoid(z: ArrayLike) -> FloatResult:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, elementwise.

    Evaluated as :math:`1/(1+e^{-z})` for :math:`z \ge 0` and as
    :math:`e^{z}/(1+e^{z})` for :math:`z < 0`, both at once as
    :math:`e^{\min(z,0)}/(1+e^{-|z|})`, so that :math:`e^{\cdot}` never
    overflows and tiny values of :math:`\sigma(z)` for very negative :math:`z` keep
    their full relative accuracy (down to the subnormal range).

    Parameters
    ----------
    z : array_like
        Real logits; ``±inf`` allowed (giving 1 and 0), NaN rejected.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`\sigma(z)` with the shape of ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not real.
    ValueError
        If ``z`` contains NaN.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> float(sigmoid(-800.0))  # below the smallest subnormal: rounds to 0
    0.0
    """
    z = as_float_array(z, "z")
    return finish(_kernels.sigmoid(z))


@overload
def log_sigmoid(z: float) -> np.float64: ...
@overload
def log_sigmoid(z: NDArray[np.floating]) -> NDArray[np.float64]: ...
@overload
def log_sigmoid(z: ArrayLike) -> FloatResult: ...
def log_sigmoid(z: ArrayLike) -> FloatResult:
    r"""Logarithm of the sigmoid, :math:`\log\sigma(z) = -\log(1 + e^{-z})`, elementwise.

    .. math::

        \log\sigma(z) = \begin{cases}
            -\operatorname{log1p}(e^{-z}) & z > 0,\\
            z - \operatorname{log1p}(e^{z}) & z \le 0,
        \end{cases}

    so the result is exactly ``z`` once :math:`e^{z}` is below half an ULP of ``z``
    and is :math:`\approx -e^{-z}` (accurate, not rounded to 0) for large ``z``.

    Parameters
    ----------
    z : array_like
        Real logits; ``+inf`` gives 0, ``-inf`` gives ``-inf``; NaN rejected.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`\log\sigma(z) \le 0` with the shape of ``z``.

    Examples
    --------
    >>> float(log_sigmoid(0.0)) == -float(np.log(2.0))
    True
    >>> float(log_sigmoid(-1000.0))
    -1000.0
    """
    z = as_float_array(z, "z")
    return finish(_kernels.log_sigmoid(z))










def softmax(z: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``: :math:`\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}`.

    Computed as :math:`e^{z_k - m} / \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`
    (refined to the last bit or two as the module docstring describes),
    so no exponential overflows; entries far below the maximum underflow gracefully
    (to subnormals, then to 0 once below the smallest subnormal).

    Parameters
    ----------
    z : array_like
        Logits with at least one dimension.  ``-inf`` entries give probability 0;
        ``+inf`` and NaN raise, and so does a slice that is entirely ``-inf``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    numpy.ndarray
        Probabilities with the shape of ``z``, summing to 1 along ``axis``.

    Examples
    --------
    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    >>> softmax([1000.0, 0.0]).tolist()
    [1.0, 0.0]
    """
    z = as_float_array(z, "z", check_nan=False)
    axis = check_axis(axis, z.ndim)
    return _kernels.softmax(z, axis)


def log_softmax(z: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Logarithm of the softmax along ``axis``.

    .. math::

        \log\operatorname{softmax}(z)_k = z_k - \operatorname{logsumexp}(z)
        = (z_k - m) - \operatorname{log1p}(t),

    with :math:`m = \max_j z_j` and :math:`t` the sum of :math:`e^{z_j - m}` over all
    entries but the (first) largest one.  The largest entry therefore gets
    :math:`-\operatorname{log1p}(t)`, accurate even when :math:`t` is far below the
    float64 epsilon.

    Parameters
    ----------
    z : array_like
        Logits with at least one dimension; ``-inf`` entries give ``-inf``;
        ``+inf``, NaN and all-``-inf`` slices raise.
    axis : int, default -1
        The class axis.

    Returns
    -------
    numpy.ndarray
        Log-probabilities (all :math:`\le 0`) with the shape of ``z``.

    Examples
    --------
    >>> log_softmax([0.0, 0.0]).tolist() == [-float(np.log(2.0))] * 2
    True
    """
    z = as_float_array(z, "z", check_nan=False)
    axis = check_axis(axis, z.ndim)
    rows = _rows.as_rows(z, axis)
    out = np.empty(rows.shape)
    for rs, work in _rows.row_blocks(*rows.shape):
        _rows.log_softmax_block(rows[rs], out[rs], work, "z")
    return _rows.from_rows(out, z, axis)


def logsumexp(z: ArrayLike, axis: int = -1, keepdims: bool = False) -> FloatResult:
    r"""Log of the sum of exponentials along ``axis``, :math:`\log\sum_k e^{z_k}`.

    Computed as :math:`m + \operatorname{log1p}(t)` with :math:`m = \max_k z_k` and
    :math:`t = \sum_{k \ne k^*} e^{z_k - m} \in [0, K-1]`.  Infinite entries follow
    the mathematics: any ``+inf`` gives ``+inf``; a slice that is entirely ``-inf``
    (an empty sum) gives ``-inf``.

    Accuracy: a few ULP relative to the result whenever :math:`m \ge 0` or the result
    is not much smaller than :math:`|m|`.  Near a zero of the function (for
    example ``z = [-log 2, -log 2]``) the problem itself is ill-conditioned and the
    error is a few ULP of :math:`\max(|m|, \operatorname{log1p}(t))` instead.

    Parameters
    ----------
    z : array_like
        Real values with at least one dimension; NaN rejected.
    axis : int, default -1
        The axis to reduce.
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A NumPy float64 scalar for 1-d input (unless ``keepdims``), else an array.

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0])) == 1000.0 + float(np.log(2.0))
    True
    """
    z = as_float_array(z, "z", check_nan=False)
    axis = check_axis(axis, z.ndim)
    if not isinstance(keepdims, bool | np.bool_):
        raise TypeError(f"keepdims must be a bool, got {keepdims!r}")
    rows = _rows.as_rows(z, axis)
    out = np.empty((rows.shape[0], 1))
    for rs, work in _rows.row_blocks(*rows.shape):
        out[rs] = _rows.logsumexp_block(rows[rs], work)
    out = _rows.from_rows(out, z, axis)
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return finish(out)
