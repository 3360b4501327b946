r"""Half-precision formats emulated in NumPy: bfloat16 and float16 (and float32 for comparison).

A binary floating-point format with ``precision`` significant bits :math:`p` and
exponents from :math:`e_{min}` to :math:`e_{max}` holds the numbers
:math:`\pm m\, 2^{e}` with :math:`1 \le m < 2` on a grid of :math:`2^{1-p}`, and the
subnormals :math:`\pm k\, 2^{e_{min} + 1 - p}` below :math:`2^{e_{min}}`:

============  ===  ==========  ==========  ===================  ==========================
format        p    e_min       e_max       largest              smallest subnormal
============  ===  ==========  ==========  ===================  ==========================
float16       11   -14         15          65504                :math:`2^{-24}`
bfloat16      8    -126        127         about 3.39e38        :math:`2^{-133}`
float32       24   -126        127         about 3.40e38        :math:`2^{-149}`
============  ===  ==========  ==========  ===================  ==========================

bfloat16 keeps float32's exponent range with 8 bits of significand (Kalamkar et al.
2019); float16 (IEEE 754 binary16) has 3 more bits of significand and a far smaller
range (Micikevicius et al. 2018 on training in it).

:func:`round_to` rounds float64 values to a format, to nearest with ties to even,
overflowing to ``inf`` and through the subnormals to 0 as the hardware does.  Values
are held in float64 arrays (every value of these formats is exactly a float64).
An operation "in the format" is emulated by evaluating it in float64 and rounding
once (:func:`textbook_cross_entropy`): for :math:`+, -, \times, \div` float64 has
more than :math:`2p + 2` bits, so the double rounding (exact to float64, float64 to
the format) gives the correctly rounded result; for ``exp`` and ``log`` it does too
except when the float64 value falls within :math:`2^{-53}` of a midpoint.

References
----------
Kalamkar, D. et al. (2019). A study of BFLOAT16 for deep learning training.
arXiv:1905.12322.

Micikevicius, P. et al. (2018). Mixed precision training. ICLR 2018.

IEEE (2019). IEEE Standard for Floating-Point Arithmetic, IEEE Std 754-2019.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array

__all__ = ["FORMATS", "Format", "round_to", "textbook_cross_entropy"]


@dataclass(frozen=True)
class Format:
    """A binary floating-point format: name, significant bits, exponent range."""

    name: str
    precision: int
    emin: int
    emax: int

    @property
    def max(self) -> float:
        """The largest finite number, :math:`(2 - 2^{1-p})\\, 2^{e_{max}}`."""
        return float(np.ldexp(2.0 - np.ldexp(1.0, 1 - self.precision), self.emax))

    @property
    def tiny(self) -> float:
        """The smallest positive normal number, :math:`2^{e_{min}}`."""
        return float(np.ldexp(1.0, self.emin))

    @property
    def smallest_subnormal(self) -> float:
        """:math:`2^{e_{min} + 1 - p}`."""
        return float(np.ldexp(1.0, self.emin + 1 - self.precision))

    @property
    def eps(self) -> float:
        """The gap above 1, :math:`2^{1-p}` (twice the unit roundoff)."""
        return float(np.ldexp(1.0, 1 - self.precision))


FORMATS: dict[str, Format] = {
    "float16": Format("float16", 11, -14, 15),
    "bfloat16": Format("bfloat16", 8, -126, 127),
    "float32": Format("float32", 24, -126, 127),
}


def _format(fmt: str | Format) -> Format:
    if isinstance(fmt, Format):
        return fmt
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format name or a Format, got {fmt!r}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {sorted(FORMATS)}, got {fmt!r}")
    return FORMATS[fmt]


def round_to(x: ArrayLike, fmt: str | Format) -> np.ndarray:
    r"""``x`` rounded to the nearest number of the format (ties to even), as float64.

    With :math:`q = 2^{\max(e, e_{min}) + 1 - p}` the spacing of the format at
    :math:`2^{e} \le |x| < 2^{e+1}`, the result is :math:`q \cdot
    \operatorname{round}(x / q)`: both steps are exact in float64 (a power-of-two
    scaling and a rounding to an integer, ties to even), so this is correct
    rounding.  Results beyond the largest finite number become ``±inf``; ``inf``
    and NaN pass through.

    Parameters
    ----------
    x : array_like
        Real values (float32 and float64 inputs are exact).
    fmt : {"float16", "bfloat16", "float32"} or Format

    Returns
    -------
    numpy.ndarray
        Float64 values of the format.

    Examples
    --------
    >>> round_to([1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, 70000.0], "bfloat16").tolist()
    [1.0, 1.015625, 70144.0]
    >>> round_to([1.0 + 2.0**-8, 70000.0], "float16").tolist()
    [1.00390625, inf]
    """
    f = _format(fmt)
    arr = as_float_array(x, "x", check_nan=False)
    out = np.array(arr, dtype=np.float64, copy=True)
    finite = np.isfinite(out) & (out != 0.0)
    v = out[finite]
    _, e = np.frexp(v)  # |v| = m 2**e with 0.5 <= m < 1, so the binade's exponent is e - 1
    q_exp = np.maximum(e - 1, f.emin) + 1 - f.precision
    r = np.ldexp(np.round(np.ldexp(v, -q_exp)), q_exp)
    r[np.abs(r) > f.max] = np.inf * np.sign(r[np.abs(r) > f.max])
    out[finite] = r
    return out


def textbook_cross_entropy(
    z: ArrayLike, target: ArrayLike, fmt: str | Format, *, shift: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    r"""Textbook softmax cross-entropy of rows of logits, every operation rounded to ``fmt``.

    .. math::

        p_k = \frac{e^{z_k - m}}{\sum_j e^{z_j - m}}, \qquad
        \ell = -\log p_t, \qquad g_t = p_t - 1,

    with :math:`m = \max_j z_j` when ``shift`` (the usual stable form) and
    :math:`m = 0` otherwise (the formula as printed).  The logits are first rounded
    to the format; then each subtraction, exponential, addition (left to right),
    division, logarithm and the subtraction of the one-hot target is rounded to the
    format.  Returns the loss per row and the gradient with respect to the logits,
    :math:`p - \text{onehot}(t)`.

    Parameters
    ----------
    z : array_like, shape (n, K)
        Logits.
    target : array_like of int, shape (n,)
        Class indices.
    fmt : {"float16", "bfloat16", "float32"} or Format
    shift : bool, default True
        Subtract the row maximum first.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``loss`` of shape (n,) and the gradient of shape (n, K), float64 values of
        the format (``inf`` or NaN where the format overflows).

    Examples
    --------
    >>> loss, g = textbook_cross_entropy([[8.0, 0.0]], [0], "bfloat16")
    >>> float(loss[0]), g[0].tolist()  # 1 + e^-8 rounds to 1, so p_0 = 1 exactly
    (0.0, [0.0, 0.000335693359375])
    """
    f = _format(fmt)
    zz = as_float_array(z, "z")
    if zz.ndim != 2:
        raise ValueError(f"z must be a 2-d array (rows x classes), got shape {zz.shape}")
    t = np.asarray(target)
    if t.dtype.kind not in "iu" or t.shape != zz.shape[:1]:
        raise ValueError(f"target must hold {zz.shape[0]} integer class indices, got {t!r}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        zf = round_to(zz, f)
        m = zf.max(axis=1, keepdims=True) if shift else np.zeros((zz.shape[0], 1))
        e = round_to(np.exp(round_to(zf - m, f)), f)
        total = e[:, :1].copy()
        for k in range(1, e.shape[1]):
            total = round_to(total + e[:, k : k + 1], f)
        p = round_to(e / total, f)
        p_t = np.take_along_axis(p, t[:, None], axis=1)
        loss = round_to(-np.log(p_t), f)[:, 0]
        np.put_along_axis(p, t[:, None], round_to(p_t - 1.0, f), axis=1)
    return loss + 0.0, p + 0.0  # + 0.0 turns -0.0 into 0.0
