"""celesson.information: surprisal, Huffman codes, perplexity, n-gram models, Hessian, Newton."""

from __future__ import annotations

import doctest
import itertools
import math
from collections import Counter
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest

import celesson as ce
from celesson import information as info
from celesson.linear import add_bias_column, fit_logistic_regression, softmax_regression_grad

# ------------------------------------------------------------------ surprisal


def test_surprisal_of_powers_of_two_is_an_exact_number_of_bits() -> None:
    q = 2.0 ** -np.arange(0, 60)
    assert np.array_equal(info.surprisal(q, unit="bits"), np.arange(0, 60, dtype=float))
    assert float(info.surprisal(1.0, unit="bits")) == 0.0
    assert math.copysign(1.0, float(info.surprisal(1.0))) == 1.0  # +0.0, not -0.0


def test_surprisal_in_nats_within_two_ulp_of_mpmath() -> None:
    mp.mp.dps = 50
    qs = np.concatenate([np.logspace(-300, 0, 97), [0.3, 0.5, 0.999999]])
    got = info.surprisal(qs)
    for value, q in zip(got, qs, strict=True):
        ref = -mp.log(mp.mpf(float(q)))
        assert abs(mp.mpf(float(value)) - ref) <= 2 * mp.mpf(np.spacing(float(value)) or 1e-300)


def test_surprisal_of_an_impossible_outcome_is_infinite_and_bad_input_is_named() -> None:
    assert float(info.surprisal(0.0, unit="bits")) == math.inf
    with pytest.raises(ValueError, match="q must hold probabilities"):
        info.surprisal(1.5)
    with pytest.raises(ValueError, match='unit must be "nats" or "bits"'):
        info.surprisal(0.5, unit="decibans")
    with pytest.raises(TypeError, match="unit"):
        info.surprisal(0.5, unit=2)
    with pytest.raises(ValueError, match="q contains NaN"):
        info.surprisal([0.5, math.nan])


def test_in_bits_divides_by_ln2() -> None:
    assert float(info.in_bits(math.log(2.0))) == 1.0
    assert np.allclose(info.in_bits(ce.entropy(np.full(16, 1 / 16))), 4.0, rtol=1e-15)


# ----------------------------------------------------------------- prefix codes


def optimal_mean_length(p: np.ndarray) -> Fraction:
    """Independent optimum: the smallest sum p_i l_i over all integer lengths with Kraft <= 1.

    Every optimal prefix code of n symbols has lengths at most n - 1, so the search is
    finite; exact rational arithmetic, no Huffman step anywhere.
    """
    n = len(p)
    if n == 1:
        return Fraction(1)
    pf = [Fraction(x).limit_denominator(10**9) for x in p]
    best = None
    for lengths in itertools.product(range(1, n), repeat=n):
        if sum(Fraction(1, 2**x) for x in lengths) <= 1:
            value = sum(pi * li for pi, li in zip(pf, lengths, strict=True))
            best = value if best is None or value < best else best
    return best


@pytest.mark.parametrize("seed", range(12))
def test_huffman_is_optimal_complete_and_within_one_bit_of_the_entropy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2 + seed % 5  # 2 .. 6 symbols
    counts = rng.integers(1, 60, size=n)
    p = counts / counts.sum()
    code = info.huffman_code(counts)
    pf = [Fraction(int(c), int(counts.sum())) for c in counts]
    mean = sum(pi * int(li) for pi, li in zip(pf, code.lengths, strict=True))
    assert mean == optimal_mean_length(p)
    assert code.kraft_sum() == 1  # a Huffman tree is full: Kraft with equality
    h = float(info.in_bits(ce.entropy(p)))
    assert h <= code.mean_length(p) < h + 1


def test_the_optimality_check_rejects_a_non_optimal_code() -> None:
    """Shannon's lengths ceil(-log2 p) are a prefix code but not optimal for (0.9, 0.1)."""
    p = np.array([0.9, 0.1])
    shannon = info.shannon_code_lengths(p)
    assert shannon.tolist() == [1, 4]
    assert Fraction(9, 10) * 1 + Fraction(1, 10) * 4 > optimal_mean_length(p) == 1
    assert info.huffman_code(p).lengths.tolist() == [1, 1]


def test_huffman_reproduces_the_textbook_example() -> None:
    """Cover and Thomas (2006), example 5.6.1: lengths (2, 2, 2, 3, 3), L = 2.3 bits."""
    code = info.huffman_code([0.25, 0.25, 0.2, 0.15, 0.15])
    assert sorted(code.lengths.tolist()) == [2, 2, 2, 3, 3]
    assert code.mean_length([0.25, 0.25, 0.2, 0.15, 0.15]) == pytest.approx(2.3, rel=1e-15)


def test_dyadic_distributions_are_coded_at_exactly_the_entropy() -> None:
    p = np.array([0.5, 0.125, 0.25, 0.0625, 0.0625])
    code = info.huffman_code(p)
    assert np.array_equal(code.lengths, -np.log2(p))
    assert code.mean_length(p) == float(info.in_bits(ce.entropy(p))) == 1.875


@pytest.mark.parametrize("seed", range(5))
def test_encode_decode_round_trip(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    symbols = list("abcdefghij")[: 2 + seed * 2]
    code = info.huffman_code(rng.integers(1, 100, size=len(symbols)), symbols)
    message = list(rng.choice(symbols, size=500))
    bits = code.encode(message)
    assert set(bits) <= {"0", "1"}
    assert len(bits) == sum(len(code.table[s]) for s in message)
    assert code.decode(bits) == message


def test_single_symbol_and_bad_codes() -> None:
    code = info.huffman_code([3.0], ["x"])
    assert code.codewords == ("0",) and code.decode("000") == ["x", "x", "x"]
    code = info.huffman_code([1, 1, 2], "abc")
    with pytest.raises(ValueError, match="do not decode"):
        code.decode(code.encode("ab") + code.codewords[0][:-1] if len(code.codewords[0]) > 1
                    else "1")
    with pytest.raises(ValueError, match="only the characters 0 and 1"):
        code.decode("2")
    with pytest.raises(ValueError, match="has no codeword"):
        code.encode("abz")
    with pytest.raises(ValueError, match="not a prefix code"):
        info.PrefixCode(("a", "b"), ("0", "01"))
    with pytest.raises(ValueError, match="weights must be finite and non-negative"):
        info.huffman_code([1.0, -1.0])
    with pytest.raises(ValueError, match="one entry per weight"):
        info.huffman_code([1.0, 1.0], "abc")


def test_canonical_code_has_the_given_lengths_and_kraft_is_enforced() -> None:
    lengths = np.array([3, 1, 4, 4, 3, 5, 5])
    code = info.canonical_code(lengths)
    assert code.lengths.tolist() == lengths.tolist()
    assert code.kraft_sum() == sum(Fraction(1, 2**int(x)) for x in lengths)
    with pytest.raises(ValueError, match="Kraft"):
        info.canonical_code([1, 1, 2])


@pytest.mark.parametrize("seed", range(8))
def test_shannon_code_for_a_wrong_model_costs_between_hpq_and_hpq_plus_one(seed: int) -> None:
    """Cover and Thomas theorem 5.4.3: H(p) + KL(p||q) <= E_p l < H(p) + KL(p||q) + 1."""
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(9)), rng.dirichlet(np.ones(9))
    lengths = info.shannon_code_lengths(q)
    assert sum(Fraction(1, 2**int(x)) for x in lengths) <= 1
    mean = float(p @ lengths)
    hpq = -float(np.sum(p * np.log2(q)))  # independent of celesson's entropy and kl
    assert hpq <= mean < hpq + 1
    code = info.canonical_code(lengths)
    message = list(rng.integers(0, 9, size=200))
    assert code.decode(code.encode(message)) == message


# ----------------------------------------------------------------- perplexity


@pytest.mark.parametrize("k", [2, 3, 10, 27, 1000, 50257])
def test_perplexity_of_the_uniform_model_is_k(k: int) -> None:
    """All logits equal: the mean cross-entropy is ln K, and the perplexity is K.

    exp turns an absolute error d of ln K into a relative error d of K, so the bound is
    K times 2 ulp of ln K (the accuracy of the cross-entropy) plus 1 ulp of K for exp's
    own rounding; a perplexity of e.g. K + 1 or exp(mean log2 ...) fails by far.
    """
    y = np.arange(20) % k
    h = float(ce.cross_entropy(np.zeros((20, k)), y))
    assert abs(h - math.log(k)) <= 2 * np.spacing(math.log(k))
    value = float(info.perplexity(h))
    assert abs(value - k) <= k * 2 * np.spacing(math.log(k)) + np.spacing(float(k))
    in_bits = float(info.perplexity(math.log2(k), unit="bits"))
    assert abs(in_bits - k) <= k * math.log(2) * np.spacing(math.log2(k)) + np.spacing(float(k))


def test_perplexity_is_the_inverse_geometric_mean_and_bits_agree() -> None:
    q_true = np.array([0.5, 0.25, 0.125, 0.8])
    expected = float(np.prod(q_true) ** (-1 / 4))
    mean_nll = float(np.mean(-np.log(q_true)))
    assert info.perplexity(mean_nll) == pytest.approx(expected, rel=1e-14)
    bits = mean_nll / math.log(2)
    assert info.perplexity(bits, unit="bits") == pytest.approx(expected, rel=1e-14)
    assert float(info.perplexity(3.0, unit="bits")) == 8.0
    with pytest.raises(ValueError, match="mean_cross_entropy must be >= 0"):
        info.perplexity(-0.1)


# ----------------------------------------------------------------- n-gram models


def _counter_model_prob(
    train: str, order: int, alphabet: str, alpha: float, ctx: str, c: str
) -> float:
    grams = Counter(train[i:i + order] for i in range(len(train) - order + 1))
    contexts = Counter(train[i:i + order - 1] for i in range(len(train) - order + 1))
    return (grams[ctx + c] + alpha) / (contexts[ctx] + alpha * len(alphabet))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_probabilities_match_direct_counting(order: int) -> None:
    rng = np.random.default_rng(order)
    alphabet = "abcd"
    train = "".join(rng.choice(list(alphabet), size=400, p=[0.4, 0.3, 0.2, 0.1]))
    model = info.fit_char_ngram(train, order, alphabet=alphabet, alpha=0.5)
    for ctx in ["".join(t) for t in itertools.product(alphabet, repeat=order - 1)]:
        dist = model.next_distribution(ctx)
        assert dist.sum() == pytest.approx(1.0, rel=1e-14)
        want = [_counter_model_prob(train, order, alphabet, 0.5, ctx, c) for c in alphabet]
        assert np.allclose(dist, want, rtol=1e-13, atol=0)
    test = "".join(rng.choice(list(alphabet), size=100))
    nll = -np.mean([math.log(_counter_model_prob(train, order, alphabet, 0.5,
                                                   test[i - order + 1:i], test[i]))
                    for i in range(order - 1, len(test))])
    assert model.mean_nll(test) == pytest.approx(nll, rel=1e-13)


def test_ngram_rejects_characters_outside_the_alphabet() -> None:
    model = info.fit_char_ngram("ab ab", 2, alphabet="ab ")
    with pytest.raises(ValueError, match="'c' at position 1"):
        model.mean_nll("acb")
    with pytest.raises(ValueError, match="order must be an integer >= 1"):
        info.fit_char_ngram("ab", 0, alphabet="ab")
    with pytest.raises(ValueError, match="alpha must lie in"):
        info.fit_char_ngram("ab", 1, alphabet="ab", alpha=0.0)


def test_shipped_text_and_simplification() -> None:
    body = info.load_text("alice")
    assert body.lstrip().startswith("ALICE'S ADVENTURES IN WONDERLAND")
    assert body.rstrip().endswith("THE END")
    assert "Gutenberg" not in body and "\r" not in body
    simple = info.simplify_text(body)
    assert set(simple) == set(info.ALPHABET)
    assert "  " not in simple
    with pytest.raises(ValueError, match="name must be one of"):
        info.load_text("hamlet")


# ----------------------------------------------------------------- Hessian


def test_softmax_regression_hessian_matches_finite_differences_and_is_psd() -> None:
    rng = np.random.default_rng(7)
    X = add_bias_column(rng.normal(size=(40, 3)))
    y = rng.integers(0, 4, size=40)
    W = rng.normal(size=(4, 4))
    H = info.softmax_regression_hessian(W, X)
    assert np.array_equal(H, H.T)
    for _ in range(3):
        v = rng.normal(size=W.shape)
        h = 1e-5
        plus = softmax_regression_grad(W + h * v, X, y)
        minus = softmax_regression_grad(W - h * v, X, y)
        fd = (plus - minus) / (2 * h)
        assert np.allclose(H @ v.reshape(-1), fd.reshape(-1), rtol=1e-7, atol=1e-9)
    eig = np.linalg.eigvalsh(H)
    assert eig.min() >= -H.shape[0] * np.finfo(float).eps * eig.max()
    # shift invariance: adding the same vector to every class column changes nothing
    u = np.repeat(rng.normal(size=(4, 1)), 4, axis=1).reshape(-1)
    assert np.linalg.norm(H @ u) <= 1e-14 * np.linalg.norm(H) * np.linalg.norm(u)


# ----------------------------------------------------------------- Newton


def test_newton_fit_of_an_intercept_is_the_log_odds() -> None:
    theta = info.fit_logistic_newton(np.ones((10, 1)), [1] * 7 + [0] * 3)
    assert float(theta[0]) == pytest.approx(math.log(7 / 3), rel=1e-12)


def test_newton_fit_agrees_with_long_gradient_descent_and_soft_targets() -> None:
    rng = np.random.default_rng(11)
    X = add_bias_column(rng.normal(size=(200, 2)))
    y = (rng.uniform(size=200) < ce.sigmoid(X @ np.array([1.0, -2.0, 0.5]))).astype(float)
    theta = info.fit_logistic_newton(X, y)
    gd = fit_logistic_regression(X, y, lr=1.0, num_steps=20000).final
    assert np.allclose(theta, gd, rtol=1e-6, atol=1e-8)
    soft = info.fit_logistic_newton(X, ce.sigmoid(X @ np.array([0.3, 0.2, -0.1])))
    assert np.allclose(soft, [0.3, 0.2, -0.1], rtol=1e-9, atol=1e-11)


def test_newton_fit_refuses_separable_data() -> None:
    X = add_bias_column(np.array([[-2.0], [-1.0], [1.0], [2.0]]))
    with pytest.raises(ValueError, match="did not converge"):
        info.fit_logistic_newton(X, [0, 0, 1, 1], max_iter=30)


def test_docstring_examples() -> None:
    result = doctest.testmod(info)
    assert result.attempted > 0 and result.failed == 0
