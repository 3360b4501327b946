r"""Binary prefix codes: Huffman's, the canonical code of given lengths, Shannon's lengths.

A code built for a distribution :math:`q` spends :math:`\ell(x) \approx -\log_2 q(x)`
binary digits on a symbol :math:`x`; used on data drawn from :math:`p` its mean length
is the cross-entropy :math:`H(p, q)` in bits, to within one bit (Cover and Thomas 2006,
theorem 5.4.3). :class:`PrefixCode` objects encode and decode.

References
----------
D. A. Huffman, "A Method for the Construction of Minimum-Redundancy Codes",
Proceedings of the IRE 40 (1952).  T. M. Cover and J. A. Thomas, *Elements of
Information Theory*, 2nd ed., Wiley 2006 (Huffman codes: section 5.6; the wrong code:
theorem 5.4.3).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_float_array,
    check_probabilities,
)

__all__ = [
    "PrefixCode",
    "canonical_code",
    "huffman_code",
    "shannon_code_lengths",
]

Array = NDArray[np.float64]


# --------------------------------------------------------------- prefix codes


@dataclass(frozen=True)
class PrefixCode:
    """A binary prefix code: one codeword (a string of ``"0"``/``"1"``) per symbol.

    Attributes
    ----------
    symbols : tuple
        The source symbols, in the order of the weights the code was built from.
    codewords : tuple of str
        ``codewords[i]`` is the codeword of ``symbols[i]``; no codeword is a prefix of
        another (checked on construction).
    """

    symbols: tuple[Hashable, ...]
    codewords: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.symbols) != len(self.codewords):
            raise ValueError("symbols and codewords must have the same length")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be distinct")
        for word in self.codewords:
            if not word or set(word) - {"0", "1"}:
                raise ValueError(f"a codeword must be a non-empty string of 0 and 1, got {word!r}")
        ordered = sorted(self.codewords)
        for a, b in itertools.pairwise(ordered):
            if b.startswith(a):
                raise ValueError(f"not a prefix code: {a!r} is a prefix of {b!r}")

    @property
    def table(self) -> dict[Hashable, str]:
        """``{symbol: codeword}``."""
        return dict(zip(self.symbols, self.codewords, strict=True))

    @property
    def lengths(self) -> NDArray[np.int64]:
        """Codeword lengths, in the order of :attr:`symbols`."""
        return np.array([len(w) for w in self.codewords], dtype=np.int64)

    def kraft_sum(self) -> Fraction:
        r"""Exact :math:`\sum_i 2^{-\ell_i}`: at most 1 for every prefix code (Kraft)."""
        return sum((Fraction(1, 2 ** len(w)) for w in self.codewords), Fraction(0))

    def mean_length(self, p: ArrayLike) -> float:
        r"""Expected codeword length :math:`L = \sum_i p_i \ell_i` in bits per symbol.

        ``p`` is a probability vector over :attr:`symbols` (same order).
        """
        arr = as_float_array(p, "p")
        if arr.shape != (len(self.symbols),):
            raise ValueError(
                f"p must have shape ({len(self.symbols)},), one probability per symbol, "
                f"got {arr.shape}"
            )
        check_probabilities(arr, "p")
        return float(arr @ self.lengths)

    def encode(self, message: Iterable[Hashable]) -> str:
        """The concatenated codewords of the symbols of ``message``."""
        table = self.table
        try:
            return "".join(table[s] for s in message)
        except KeyError as exc:
            raise ValueError(
                f"message holds the symbol {exc.args[0]!r}, which has no codeword") from None

    def decode(self, bits: str) -> list[Hashable]:
        """The symbols whose codewords concatenate to ``bits`` (inverse of :meth:`encode`)."""
        if not isinstance(bits, str):
            raise TypeError(f"bits must be a string of 0 and 1, got {type(bits).__name__}")
        inverse = dict(zip(self.codewords, self.symbols, strict=True))
        longest = max(len(w) for w in self.codewords)
        out: list[Hashable] = []
        start = 0
        n = len(bits)
        while start < n:
            for end in range(start + 1, min(start + longest, n) + 1):
                symbol = inverse.get(bits[start:end], _MISSING)
                if symbol is not _MISSING:
                    out.append(symbol)
                    start = end
                    break
            else:
                rest = bits[start:start + longest]
                if set(rest) - {"0", "1"}:
                    raise ValueError("bits must hold only the characters 0 and 1")
                raise ValueError(
                    f"bits do not decode: no codeword starts {rest!r} at position {start}")
        return out


_MISSING = object()


def _check_weights(weights: ArrayLike, name: str) -> Array:
    w = as_float_array(weights, name)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise ValueError(f"{name} must be finite and non-negative with a positive sum")
    return w


def _check_symbols(symbols: Sequence[Hashable] | None, n: int) -> tuple[Hashable, ...]:
    if symbols is None:
        return tuple(range(n))
    syms = tuple(symbols)
    if len(syms) != n:
        raise ValueError(f"symbols must have one entry per weight ({n}), got {len(syms)}")
    return syms


def huffman_code(weights: ArrayLike, symbols: Sequence[Hashable] | None = None) -> PrefixCode:
    r"""Huffman's optimal binary prefix code for symbol weights (probabilities or counts).

    Repeatedly merge the two lightest subtrees (ties broken by the order in which the
    subtrees were made, so the code is deterministic); a symbol's codeword is its path
    from the root. The expected length :math:`L = \sum_i p_i \ell_i` is the smallest of
    all prefix codes, and

    .. math::

        H_2(p) \le L < H_2(p) + 1, \qquad \sum_i 2^{-\ell_i} = 1 ,

    the entropy :math:`H_2` in bits (Cover and Thomas 2006, theorems 5.4.1 and 5.8.1).
    A single symbol gets the codeword ``"0"``.

    Parameters
    ----------
    weights : array_like of shape (n,)
        Non-negative weights with a positive sum (normalised internally).
    symbols : sequence, optional
        Hashable names of the symbols (default ``0 .. n-1``).

    Returns
    -------
    PrefixCode

    Examples
    --------
    >>> code = huffman_code([0.5, 0.25, 0.125, 0.125], "abcd")
    >>> code.lengths.tolist()
    [1, 2, 3, 3]
    >>> "".join(code.decode(code.encode("abacad")))
    'abacad'

    References
    ----------
    Huffman (1952); Cover and Thomas (2006), section 5.6.
    """
    w = _check_weights(weights, "weights")
    syms = _check_symbols(symbols, w.size)
    n = w.size
    if n == 1:
        return PrefixCode(syms, ("0",))
    # heap of (weight, creation order, leaves under this subtree)
    heap = [(float(x), i, [i]) for i, x in enumerate(w / w.sum())]
    heapq.heapify(heap)
    words = [""] * n
    made = n
    while len(heap) > 1:
        w0, _, leaves0 = heapq.heappop(heap)
        w1, _, leaves1 = heapq.heappop(heap)
        for i in leaves0:
            words[i] = "0" + words[i]
        for i in leaves1:
            words[i] = "1" + words[i]
        heapq.heappush(heap, (w0 + w1, made, leaves0 + leaves1))
        made += 1
    return PrefixCode(syms, tuple(words))


def canonical_code(lengths: ArrayLike, symbols: Sequence[Hashable] | None = None) -> PrefixCode:
    r"""A prefix code with the given codeword lengths (the canonical code).

    Such a code exists if and only if the lengths satisfy Kraft's inequality
    :math:`\sum_i 2^{-\ell_i} \le 1`. Codewords are handed out in order of length
    (then of symbol position), each the binary number one past the previous one,
    shifted to its length.

    Parameters
    ----------
    lengths : array_like of int, shape (n,)
        Positive integer lengths.
    symbols : sequence, optional

    Returns
    -------
    PrefixCode

    Examples
    --------
    >>> canonical_code([2, 1, 3, 3], "abcd").codewords
    ('10', '0', '110', '111')
    """
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise TypeError("lengths must be a non-empty 1-D array of integers")
    if arr.min() < 1:
        raise ValueError(f"lengths must be positive, got {int(arr.min())}")
    syms = _check_symbols(symbols, arr.size)
    ls = [int(x) for x in arr]
    if sum(Fraction(1, 2**x) for x in ls) > 1:
        raise ValueError(
            "lengths violate Kraft's inequality sum 2^-l <= 1: no prefix code has them")
    words = [""] * len(ls)
    value, previous = 0, 0
    for rank, i in enumerate(sorted(range(len(ls)), key=lambda j: (ls[j], j))):
        if rank:
            value += 1
        value <<= ls[i] - previous
        previous = ls[i]
        words[i] = format(value, f"0{ls[i]}b")
    return PrefixCode(syms, tuple(words))


def shannon_code_lengths(q: ArrayLike) -> NDArray[np.int64]:
    r"""Shannon's codeword lengths :math:`\ell_i = \lceil -\log_2 q_i \rceil` for a model :math:`q`.

    They satisfy Kraft's inequality, and used on data from :math:`p` their expected
    length obeys :math:`H_2(p, q) \le \sum_i p_i \ell_i < H_2(p, q) + 1`: the price of the
    wrong model is :math:`\mathrm{KL}(p\,\|\,q)` bits (Cover and Thomas 2006,
    theorem 5.4.3). Every :math:`q_i` must be positive.

    Parameters
    ----------
    q : array_like of shape (n,)
        A probability vector with every entry positive.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)

    Examples
    --------
    >>> shannon_code_lengths([0.5, 0.3, 0.2]).tolist()
    [1, 2, 3]
    """
    arr = as_float_array(q, "q")
    check_probabilities(arr, "q")
    if arr.ndim != 1 or arr.size == 0 or arr.min() <= 0:
        raise ValueError("q must be a non-empty 1-D array of positive probabilities")
    return np.ceil(-np.log2(arr)).astype(np.int64)
