r"""The information meaning of cross-entropy: surprisal, prefix codes, perplexity.

Shannon's reading of :math:`-\log q` as a number of binary digits
(Shannon 1948; Cover and Thomas 2006, ch. 2 and 5) made concrete:

* :func:`surprisal` and :func:`in_bits`: self-information :math:`-\log q` in nats or
  bits (the entropies and divergences themselves are :func:`celesson.entropy`,
  :func:`celesson.kl_divergence` and :func:`celesson.cross_entropy`, in nats);
* :func:`huffman_code`, :func:`canonical_code` and :func:`shannon_code_lengths`: real
  binary prefix codes, as :class:`PrefixCode` objects that encode and decode;
* :func:`perplexity`: :math:`e^{H}` of a mean cross-entropy :math:`H`;
* :func:`fit_char_ngram`: a character n-gram model with add-:math:`\alpha` smoothing,
  :class:`CharNgramModel`, scored by its mean negative log-likelihood;
* :func:`load_text` and :func:`simplify_text`: the public-domain text the chapter codes
  and models (Project Gutenberg's eBook #11, shipped in ``celesson/texts/``);
* :func:`softmax_regression_hessian`: the Hessian of softmax regression, built from
  the per-example covariance :math:`\operatorname{diag}(q) - qq^\top`;
* :func:`fit_logistic_newton`: maximum likelihood for logistic regression by Newton's
  method, for the chapter's study of a misspecified model.

References
----------
C. E. Shannon, "A Mathematical Theory of Communication", Bell System Technical
Journal 27 (1948).  T. M. Cover and J. A. Thomas, *Elements of Information Theory*,
2nd ed., Wiley 2006 (Huffman codes: section 5.6; the wrong code: theorem 5.4.3).
D. A. Huffman, "A Method for the Construction of Minimum-Redundancy Codes",
Proceedings of the IRE 40 (1952).
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_float_array,
    check_int,
    check_probabilities,
    check_real_scalar,
    finish,
)
from .grads import softmax_jacobian
from .linear import logistic_regression_grad, logistic_regression_hessian, logistic_regression_loss

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
ALPHABET = " abcdefghijklmnopqrstuvwxyz"
TEXTS = {"alice": "pg11_alice_in_wonderland.txt"}
_TEXT_FOLDER = Path(__file__).resolve().parent / "texts"


def _check_unit(unit: Any) -> str:
    if not isinstance(unit, str):
        raise TypeError(f'unit must be "nats" or "bits", got {unit!r}')
    if unit not in UNITS:
        raise ValueError(f'unit must be "nats" or "bits", got {unit!r}')
    return unit


# ------------------------------------------------------------------ surprisal


def surprisal(q: ArrayLike, *, unit: str = "nats") -> Any:
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


def in_bits(nats: ArrayLike) -> Any:
    r"""Convert an information quantity from nats to bits: divide by :math:`\ln 2`.

    Examples
    --------
    >>> round(float(in_bits(math.log(8.0))), 12)
    3.0
    """
    return finish(as_float_array(nats, "nats") / LN2)


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


# ----------------------------------------------------------------- perplexity


def perplexity(mean_cross_entropy: ArrayLike, *, unit: str = "nats") -> Any:
    r"""Perplexity :math:`e^{H}` (or :math:`2^{H}` in bits) of a mean cross-entropy :math:`H`.

    For a model that spreads its probability evenly over :math:`B` outcomes and always
    includes the right one, :math:`H = \ln B` and the perplexity is :math:`B`: the
    number of equally likely choices the model is as uncertain as (its branching
    factor). It is the inverse geometric mean of the probabilities of the observed
    outcomes, :math:`\bigl(\prod_n q(y_n)\bigr)^{-1/N}`.

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


# --------------------------------------------------------------------- texts


def load_text(name: str = "alice") -> str:
    """The body of a public-domain text shipped with the package (header and licence cut).

    ``"alice"`` is Lewis Carroll's *Alice's Adventures in Wonderland*, Project
    Gutenberg eBook #11, stored whole (with the Project Gutenberg header and licence)
    in ``celesson/texts/``; this returns the text between the ``*** START OF`` and
    ``*** END OF`` lines, with line ends ``"\\n"``.
    """
    if name not in TEXTS:
        raise ValueError(f"name must be one of {sorted(TEXTS)}, got {name!r}")
    raw = (_TEXT_FOLDER / TEXTS[name]).read_text(encoding="utf-8-sig")
    raw = raw.replace("\r\n", "\n")
    start = raw.index("\n", raw.index("*** START OF")) + 1
    end = raw.index("*** END OF")
    body = raw[start:end].rstrip()
    last = body.rsplit("\n", 1)
    if last[-1].startswith("End of Project Gutenberg"):  # the closing line of the licence
        body = last[0].rstrip()
    return body.strip("\n") + "\n"


def simplify_text(text: str) -> str:
    """Lower-case ``text`` and turn every run of non-letters into one space.

    The result uses the 27 symbols of :data:`ALPHABET` (space and a-z).

    Examples
    --------
    >>> simplify_text("Down, down, DOWN!\\n'Would...")
    'down down down would '
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return re.sub(r"[^a-z]+", " ", text.lower())


# ----------------------------------------------------------- n-gram models


@dataclass(frozen=True)
class CharNgramModel:
    r"""A character n-gram model with add-:math:`\alpha` smoothing.

    The probability of the next character :math:`c` after the context :math:`h` (the
    ``order - 1`` characters before it) is

    .. math::

        q(c \mid h) = \frac{N(h c) + \alpha}{N(h) + \alpha V},

    with counts :math:`N` from the training text and :math:`V` the size of the
    alphabet; ``order = 1`` ignores the context (a unigram model). Made by
    :func:`fit_char_ngram`.
    """

    order: int
    alphabet: str
    alpha: float
    _keys: NDArray[np.int64]
    _counts: NDArray[np.int64]
    _ctx_keys: NDArray[np.int64]
    _ctx_counts: NDArray[np.int64]

    def _codes(self, text: str, name: str) -> NDArray[np.int64]:
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a str, got {type(text).__name__}")
        lookup = np.full(max(map(ord, self.alphabet)) + 1, -1, dtype=np.int64)
        lookup[[ord(c) for c in self.alphabet]] = np.arange(len(self.alphabet))
        raw = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        bad = raw >= lookup.size
        idx = np.where(bad, -1, lookup[np.minimum(raw, lookup.size - 1)])
        if np.any(idx < 0):
            where = int(np.flatnonzero(idx < 0)[0])
            raise ValueError(
                f"{name} holds {text[where]!r} at position {where}, not in the alphabet")
        if idx.size < self.order:
            raise ValueError(f"{name} must hold at least order = {self.order} characters")
        return idx

    def _grams(self, idx: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        v = len(self.alphabet)
        m = idx.size - self.order + 1
        ctx = np.zeros(m, dtype=np.int64)
        for j in range(self.order - 1):
            ctx = ctx * v + idx[j:j + m]
        return ctx, ctx * v + idx[self.order - 1:]

    def log_probs(self, text: str) -> Array:
        r"""Natural-log probability of each character of ``text`` after its context.

        One value per position ``order - 1 .. len(text) - 1`` (the first characters
        serve only as context).
        """
        ctx, grams = self._grams(self._codes(text, "text"))
        v = len(self.alphabet)
        return np.log(_lookup(self._keys, self._counts, grams) + self.alpha) - np.log(
            _lookup(self._ctx_keys, self._ctx_counts, ctx) + self.alpha * v)

    def mean_nll(self, text: str) -> float:
        """Mean negative log-likelihood of ``text``, in nats per character."""
        return float(-np.mean(self.log_probs(text)))

    def next_distribution(self, context: str) -> Array:
        """The distribution :math:`q(\\cdot \\mid h)` over :attr:`alphabet` after ``context``.

        ``context`` holds exactly ``order - 1`` characters.
        """
        if not isinstance(context, str) or len(context) != self.order - 1:
            raise ValueError(f"context must be a str of order - 1 = {self.order - 1} characters")
        texts = [context + c for c in self.alphabet]
        return np.exp([self.log_probs(t)[-1] for t in texts])


def _lookup(keys: NDArray[np.int64], counts: NDArray[np.int64], query: NDArray[np.int64]) -> Array:
    pos = np.searchsorted(keys, query)
    pos_c = np.minimum(pos, keys.size - 1)
    hit = (pos < keys.size) & (keys[pos_c] == query)
    return np.where(hit, counts[pos_c], 0).astype(np.float64)


def fit_char_ngram(
    text: str, order: int, *, alphabet: str = ALPHABET, alpha: float = 1.0
) -> CharNgramModel:
    r"""Count the n-grams of ``text`` and return the smoothed model :class:`CharNgramModel`.

    Parameters
    ----------
    text : str
        Training text; every character must be in ``alphabet``.
    order : int
        :math:`n \ge 1`: the model conditions on the :math:`n - 1` previous characters.
    alphabet : str, default :data:`ALPHABET`
        The distinct symbols :math:`V`.
    alpha : float, default 1.0
        Pseudo-count :math:`\alpha > 0` added to every n-gram (1 is Laplace's add-one).

    Examples
    --------
    >>> m = fit_char_ngram("abab", 2, alphabet="ab")
    >>> m.next_distribution("a").round(3).tolist()   # (0 + 1) / (2 + 2), (2 + 1) / (2 + 2)
    [0.25, 0.75]
    """
    order = check_int(order, "order", lo=1)
    if not isinstance(alphabet, str) or not alphabet or len(set(alphabet)) != len(alphabet):
        raise ValueError("alphabet must be a non-empty str of distinct characters")
    alpha = check_real_scalar(alpha, "alpha", lo=0.0, lo_open=True)
    if len(alphabet) ** order >= 2**62:
        raise ValueError("alphabet and order too large: the n-gram codes would overflow int64")
    empty = np.zeros(0, dtype=np.int64)
    model = CharNgramModel(order, alphabet, alpha, empty, empty, empty, empty)
    ctx, grams = model._grams(model._codes(text, "text"))
    keys, counts = np.unique(grams, return_counts=True)
    ctx_keys, ctx_counts = np.unique(ctx, return_counts=True)
    return CharNgramModel(order, alphabet, alpha, keys, counts.astype(np.int64),
                          ctx_keys, ctx_counts.astype(np.int64))


# ------------------------------------------------------------- convexity


def softmax_regression_hessian(W: ArrayLike, X: ArrayLike) -> Array:
    r"""Hessian of the mean cross-entropy of softmax regression in its weights.

    With :math:`q_n = \operatorname{softmax}(x_n^\top W)` and
    :math:`S_n = \operatorname{diag}(q_n) - q_n q_n^\top` (the Hessian of the
    cross-entropy in the logits, and the covariance of the one-hot label under
    :math:`q_n`),

    .. math::

        \frac{\partial^2 L}{\partial W_{ik}\,\partial W_{jl}}
        = \frac1N \sum_n x_{ni} x_{nj} (S_n)_{kl},

    a sum of Kronecker products :math:`x_n x_n^\top \otimes S_n` of positive
    semidefinite matrices, hence positive semidefinite: the loss is convex in
    :math:`W`. The rows and columns are indexed by the flattened (row-major) weights,
    ``W.reshape(-1)``. :math:`S_n` comes from :func:`celesson.softmax_jacobian`.

    Parameters
    ----------
    W : array_like of shape (d, K)
    X : array_like of shape (N, d)

    Returns
    -------
    numpy.ndarray of shape (d K, d K)

    Examples
    --------
    >>> softmax_regression_hessian(np.zeros((1, 2)), [[1.0]]).tolist()
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    Wa = as_float_array(W, "W")
    Xa = as_float_array(X, "X")
    if Wa.ndim != 2 or Xa.ndim != 2 or Xa.shape[1] != Wa.shape[0] or Xa.shape[0] == 0:
        raise ValueError(
            f"need W of shape (d, K) and X of shape (N, d), got {Wa.shape} and {Xa.shape}")
    d, k = Wa.shape
    S = softmax_jacobian(Xa @ Wa)  # (N, K, K)
    H = np.empty((d, k, d, k))
    for a in range(k):
        for b in range(a, k):
            block = (Xa.T * S[:, a, b]) @ Xa / Xa.shape[0]
            H[:, a, :, b] = block
            H[:, b, :, a] = block
    flat = H.reshape(d * k, d * k)
    return (flat + flat.T) / 2  # exactly symmetric (the matrix products round each half apart)


# ----------------------------------------------------- maximum likelihood


def fit_logistic_newton(
    X: ArrayLike, y: ArrayLike, *, tol: float = 1e-10, max_iter: int = 100
) -> Array:
    r"""Maximum-likelihood logistic regression by Newton's method with backtracking.

    Minimises :func:`celesson.linear.logistic_regression_loss` (targets 0/1 or
    probabilities, so a population of soft labels works too) with the step
    :math:`-(\nabla^2 L)^{-1} \nabla L` from
    :func:`~celesson.linear.logistic_regression_grad` and
    :func:`~celesson.linear.logistic_regression_hessian`, halved until the loss does not
    increase. Stops after the first step :math:`s` with
    :math:`\|s\| \le \mathrm{tol}\,(1 + \|\theta\|)`, or whose predicted decrease
    :math:`\nabla L^\top s / 2` is below the rounding of the loss: near the minimiser Newton's
    steps shrink quadratically, so the step after that is below rounding. On separable
    data the likelihood has no maximiser and the steps never shrink (the iterates
    run off to infinity), which this reports.

    Raises
    ------
    ValueError
        If the loss has no finite minimiser within ``max_iter`` steps (separable data).

    Examples
    --------
    >>> theta = fit_logistic_newton([[1.0], [1.0], [1.0], [1.0]], [1, 1, 1, 0])
    >>> round(float(theta[0]), 10) == round(math.log(3.0), 10)
    True
    """
    tol = check_real_scalar(tol, "tol", lo=0.0, lo_open=True)
    max_iter = check_int(max_iter, "max_iter", lo=1)
    Xa = as_float_array(X, "X")
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (N, d), got shape {Xa.shape}")
    theta = np.zeros(Xa.shape[1])
    loss = logistic_regression_loss(theta, Xa, y)
    for _ in range(max_iter):
        g = logistic_regression_grad(theta, Xa, y)
        H = logistic_regression_hessian(theta, Xa)
        step = np.linalg.solve(H, g)
        if np.linalg.norm(step) <= tol * (1.0 + np.linalg.norm(theta)):
            return theta - step  # inside the region of quadratic convergence: take it
        if float(g @ step) / 2 <= 64 * np.finfo(float).eps * loss:
            # the predicted decrease is below the rounding of the loss, which can no longer
            # judge the step: we are in the quadratic region, take the full step and stop
            # (on separable data the decrease stays proportional to the loss: no exit here)
            return theta - step
        t = 1.0
        while t > 1e-10:
            candidate = theta - t * step
            new_loss = logistic_regression_loss(candidate, Xa, y)
            if new_loss <= loss:
                break
            t /= 2
        theta, loss = candidate, new_loss
    raise ValueError(
        f"Newton's method did not converge in max_iter = {max_iter} steps "
        "(are the classes separable? then the likelihood has no maximiser)"
    )
