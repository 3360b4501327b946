r"""The information meaning of cross-entropy: surprisal, prefix codes, perplexity.

Shannon's reading of :math:`-\log q` as a number of binary digits
(Shannon 1948; Cover and Thomas 2006, ch. 2 and 5) made concrete:

* :func:`surprisal` and :func:`in_bits`: self-information :math:`-\log q` in nats or
  bits (the entropies and divergences themselves are :func:`celesson.entropy`,
  :func:`celesson.kl_divergence` and :func:`celesson.cross_entropy`, in nats);
* :func:`perplexity`: :math:`e^{H}` of a mean cross-entropy :math:`H`;
* re-exported from the modules that hold them: :mod:`celesson.prefix_codes` (real binary
  prefix codes, :func:`huffman_code`, :func:`canonical_code`,
  :func:`shannon_code_lengths`, as :class:`PrefixCode` objects that encode and decode),
  :mod:`celesson.char_models` (:func:`load_text`, :func:`simplify_text` and the character
  n-gram models of :func:`fit_char_ngram`) and :mod:`celesson.second_order`
  (:func:`softmax_regression_hessian`, :func:`fit_logistic_newton`).

References
----------
C. E. Shannon, "A Mathematical Theory of Communication", Bell System Technical
Journal 27 (1948).  T. M. Cover and J. A. Thomas, *Elements of Information Theory*,
2nd ed., Wiley 2006 (Huffman codes: section 5.6; the wrong code: theorem 5.4.3).
D. A. Huffman, "A Method for the Construction of Minimum-Redundancy Codes",
Proceedings of the IRE 40 (1952).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    FloatResult,
    as_float_array,
    check_probabilities,
    finish,
)
from .char_models import ALPHABET, CharNgramModel, fit_char_ngram, load_text, simplify_text
from .prefix_codes import PrefixCode, canonical_code, huffman_code, shannon_code_lengths
from .second_order import fit_logistic_newton, softmax_regression_hessian

__all__ = [
    "ALPHABET",
    "CharNgramModel",
    "PrefixCode",
    "canonical_code",
    "fit_char_ngram",
    "fit_logistic_newton",
    "huffman_code",
    "in_bits",
    "load_text",
    "perplexity",
    "shannon_code_lengths",
    "simplify_text",
    "softmax_regression_hessian",
    "surprisal",
]

Array = NDArray[np.float64]
LN2 = math.log(2.0)
UNITS = ("nats", "bits")


def _check_unit(unit: Any) -> str:
    if not isinstance(unit, str):
        raise TypeError(f'unit must be "nats" or "bits", got {unit!r}')
    if unit not in UNITS:
        raise ValueError(f'unit must be "nats" or "bits", got {unit!r}')
    return unit


# ------------------------------------------------------------------ surprisal


def surprisal(q: ArrayLike, *, unit: str = "nats") -> FloatResult:
    r"""Self-information :math:`-\log q` of an outcome of probability :math:`q`.

    .. math::

        I(q) = -\ln q \ \text{nats} = -\log_2 q \ \text{bits},
        \qquad 1 \text{ nat} = 1/\ln 2 \approx 1.4427 \text{ bits}.

    An outcome of probability :math:`2^{-k}` carries exactly :math:`k` bits; a sure
    outcome carries none, an impossible one :math:`+\infty`.

    Parameters
    ----------
    q : array_like
        Probabilities in :math:`[0, 1]`.
    unit : {"nats", "bits"}, default "nats"
        Natural logarithm or logarithm to base 2 (computed with ``log2`` itself, so
        powers of two give exact integers).

    Returns
    -------
    numpy.float64 or numpy.ndarray

    Examples
    --------
    >>> float(surprisal(0.125, unit="bits"))
    3.0
    >>> float(surprisal(1.0))
    0.0

    References
    ----------
    Shannon (1948); Cover and Thomas (2006), section 2.1.
    """
    unit = _check_unit(unit)
    arr = as_float_array(q, "q")
    check_probabilities(arr, "q")
    with np.errstate(divide="ignore"):
        out = -(np.log2(arr) if unit == "bits" else np.log(arr))
    return finish(out + 0.0)  # + 0.0 turns -0.0 (q = 1) into 0.0


def in_bits(nats: ArrayLike) -> FloatResult:
    r"""Convert an information quantity from nats to bits: divide by :math:`\ln 2`.

    Parameters
    ----------
    nats : array_like
        A quantity in nats.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The same quantity in bits (a scalar for a scalar input).

    Examples
    --------
    >>> round(float(in_bits(math.log(8.0))), 12)
    3.0
    """
    return finish(as_float_array(nats, "nats") / LN2)


# ----------------------------------------------------------------- perplexity


def perplexity(mean_cross_entropy: ArrayLike, *, unit: str = "nats") -> FloatResult:
    r"""Perplexity :math:`e^{H}` (or :math:`2^{H}` in bits) of a mean cross-entropy :math:`H`.

    For a model that spreads its probability evenly over :math:`B` outcomes and always
    includes the right one, :math:`H = \ln B` and the perplexity is :math:`B`: the
    number of equally likely choices the model is as uncertain as (its branching
    factor). It is the inverse geometric mean of the probabilities of the observed
    outcomes, :math:`\bigl(\prod_n q(y_n)\bigr)^{-1/N}`.

    Parameters
    ----------
    mean_cross_entropy : array_like
        :math:`H \ge 0`, in ``unit``.
    unit : {"nats", "bits"}, default "nats"

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`e^H` (:math:`2^H` in bits), a scalar for a scalar input.

    Examples
    --------
    >>> round(float(perplexity(math.log(10.0))), 12)
    10.0
    >>> float(perplexity(3.0, unit="bits"))
    8.0
    """
    unit = _check_unit(unit)
    h = as_float_array(mean_cross_entropy, "mean_cross_entropy")
    if h.size and h.min() < 0:
        raise ValueError("mean_cross_entropy must be >= 0 (a cross-entropy of probabilities)")
    return finish(np.exp2(h) if unit == "bits" else np.exp(h))


