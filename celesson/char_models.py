r"""Character n-gram models of a text, and the public-domain text the book models.

* :func:`load_text` and :func:`simplify_text`: Project Gutenberg's eBook #11 (shipped in
  ``celesson/texts/``), reduced to the 27 symbols of :data:`ALPHABET`;
* :func:`fit_char_ngram`: a character n-gram model with add-:math:`\alpha` smoothing,
  :class:`CharNgramModel`, scored by its mean negative log-likelihood (whose
  exponential is the perplexity, :func:`celesson.information.perplexity`).

References
----------
C. E. Shannon, "Prediction and Entropy of Printed English", Bell System Technical
Journal 30 (1951).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._validation import (
    check_int,
    check_real_scalar,
)

__all__ = [
    "ALPHABET",
    "TEXTS",
    "CharNgramModel",
    "fit_char_ngram",
    "load_text",
    "simplify_text",
]

Array = NDArray[np.float64]
ALPHABET = " abcdefghijklmnopqrstuvwxyz"
TEXTS = {"alice": "pg11_alice_in_wonderland.txt"}
_TEXT_FOLDER = Path(__file__).resolve().parent / "texts"


# --------------------------------------------------------------------- texts


def load_text(name: str = "alice") -> str:
    """The body of a public-domain text shipped with the package (header and licence cut).

    ``"alice"`` is Lewis Carroll's *Alice's Adventures in Wonderland*, Project
    Gutenberg eBook #11, stored whole (with the Project Gutenberg header and licence)
    in ``celesson/texts/``; this returns the text between the ``*** START OF`` and
    ``*** END OF`` lines, with line ends ``"\\n"``.

    Parameters
    ----------
    name : {"alice"}, default "alice"
        A key of :data:`TEXTS`.

    Returns
    -------
    str
        The body of the text, ending with one ``"\\n"``.
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

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Only the symbols of :data:`ALPHABET`.

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
