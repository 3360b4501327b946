"""Error-free transformations and the once-rounded row sum of ``celesson._summation``."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from celesson._summation import (
    accurate_sum,
    accurate_sum_pair,
    row_dot,
    two_sum,
    two_sum_into,
)


def _exact(values) -> Fraction:
    return sum((Fraction(float(v)) for v in np.ravel(values)), Fraction(0))


def _spread_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Signed values with exponents from 2**-60 to 2**60."""
    return rng.choice([-1.0, 1.0], n) * np.ldexp(rng.random(n) + 0.5, rng.integers(-60, 61, n))


def test_two_sum_error_is_exact():
    rng = np.random.default_rng(1)
    a, b = _spread_values(rng, 2000), _spread_values(rng, 2000)
    s, e = two_sum(a, b)
    assert np.array_equal(s, a + b)
    for ai, bi, si, ei in zip(a, b, s, e, strict=True):
        assert Fraction(si) + Fraction(ei) == Fraction(ai) + Fraction(bi)
    # some errors are not zero, so the test can tell an exact error from 0
    assert np.count_nonzero(e) > 1000


def test_two_sum_broadcasts_and_into_matches():
    rng = np.random.default_rng(2)
    a = _spread_values(rng, 30).reshape(10, 3)
    b = _spread_values(rng, 10).reshape(10, 1)
    s, e = two_sum(a, b)
    s2, e2, tmp = np.empty((10, 3)), np.empty((10, 3)), np.empty((10, 3))
    two_sum_into(a, b, s2, e2, tmp)
    assert np.array_equal(s, s2) and np.array_equal(e, e2)
    for i in range(10):
        for j in range(3):
            assert Fraction(s[i, j]) + Fraction(e[i, j]) == Fraction(a[i, j]) + Fraction(b[i, 0])


def _rows_for_sum() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    rows = [
        np.full(999, math.exp(-37.5)),  # equal terms: a plain sum drifts by ~3 ULP
        np.full(100, 0.1),
        np.zeros(5),
        np.array([1.0]),
        np.array([1.0, 2.0**-60, 2.0**-60, 2.0**-60]),
        np.array([1e300, 1e-300, 1.0, 3.0]),
        np.full(8, 1e307),  # near the overflow: sigma would not be finite without scaling
        np.array([np.finfo(float).max / 4, 1.0, 2.0**-1074]),
        np.full(7, 2.0**-1074),  # subnormal terms
    ]
    for k in (2, 3, 10, 64, 65, 1000, 10_000):
        rows.append(rng.lognormal(0.0, 3.0, k))
        rows.append(np.exp(rng.normal(-30.0, 8.0, k)))
    return rows


@pytest.mark.parametrize("row", _rows_for_sum(), ids=lambda r: f"K{r.size}")
def test_accurate_sum_is_the_correctly_rounded_sum(row):
    expected = math.fsum(row)  # correctly rounded
    got = accurate_sum(row[np.newaxis, :].copy(), 1)
    assert got.shape == (1, 1)
    assert got[0, 0] == expected
    hi, lo = accurate_sum_pair(row[np.newaxis, :].copy(), 1)
    assert hi[0, 0] == expected
    # hi + lo is the exact sum to far below one ULP of hi
    rest = _exact(row) - Fraction(float(hi[0, 0])) - Fraction(float(lo[0, 0]))
    assert abs(rest) <= Fraction(math.ulp(expected)) * Fraction(1, 10**6)


def test_a_plain_sum_misses_where_the_accurate_sum_does_not():
    row = np.full((1, 999), math.exp(-37.5))
    exact = math.fsum(row[0])
    assert row.sum() != exact  # the case the once-rounded sum exists for
    assert accurate_sum(row.copy(), 1)[0, 0] == exact


def test_accurate_sum_along_axis_0_and_many_rows():
    rng = np.random.default_rng(4)
    block = rng.lognormal(0.0, 4.0, (50, 37))
    by_rows = accurate_sum(block.copy(), 1)[:, 0]
    by_cols = accurate_sum(block.T.copy(), 0)[0, :]
    expected = [math.fsum(r) for r in block]
    assert by_rows.tolist() == expected
    assert by_cols.tolist() == expected


def test_accurate_sum_uses_the_work_array():
    rng = np.random.default_rng(5)
    e = rng.lognormal(0.0, 2.0, (4, 300))
    expected = [math.fsum(r) for r in e]
    work = np.empty_like(e)
    assert accurate_sum(e.copy(), 1, work=work)[:, 0].tolist() == expected
    assert np.any(work != 0.0)  # the high parts went there


@pytest.mark.parametrize("scale", [1.0, 2.0**1000], ids=["plain", "near-overflow"])
def test_accurate_sum_pair_keep_leaves_the_terms_and_gives_the_same_pair(scale):
    rng = np.random.default_rng(7)
    e = rng.lognormal(0.0, 3.0, (5, 300)) * scale  # the second case needs the rows scaled
    before = e.copy()
    hi, lo = accurate_sum_pair(e, 1, work=np.empty_like(e), keep=True)
    assert np.array_equal(e, before)  # kept: softmax writes its output there
    hi_d, lo_d = accurate_sum_pair(e.copy(), 1, work=np.empty_like(e))
    assert np.array_equal(hi, hi_d) and np.array_equal(lo, lo_d)
    assert hi[:, 0].tolist() == [math.fsum(r) for r in before]
    overwritten = e.copy()
    accurate_sum_pair(overwritten, 1)
    assert not np.array_equal(overwritten, before)  # without keep: the remainders


@pytest.mark.parametrize("shape", [(400, 10), (300, 16), (20, 3), (10, 40)])
def test_many_short_rows_are_summed_down_the_columns_correctly_rounded(shape):
    # (400, 10), (300, 16): more rows than terms, the transposed path; the others not
    rng = np.random.default_rng(8)
    e = np.exp(rng.normal(0.0, 6.0, shape))
    e[0] = np.full(shape[1], math.exp(-37.5))  # equal terms, where a plain sum errs
    expected = [math.fsum(r) for r in e]
    before = e.copy()
    work = np.empty_like(e)
    hi, lo = accurate_sum_pair(e, 1, work=work, keep=True)
    assert hi.shape == lo.shape == (shape[0], 1)
    assert hi[:, 0].tolist() == expected
    assert np.array_equal(e, before)
    assert accurate_sum(e.copy(), 1, work=work)[:, 0].tolist() == expected


def test_row_dot_is_the_sum_of_products_of_each_row():
    a = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    b = np.array([[4.0, 5.0, 6.0], [2.0, 3.0, 0.25]])
    got = row_dot(a, b)
    assert got.shape == (2, 1)
    assert got[:, 0].tolist() == [32.0, -1.0]


def test_reciprocal_parts_give_twice_the_precision():
    from celesson._rows import reciprocal_parts

    rng = np.random.default_rng(6)
    s_hi = np.concatenate([[1.0, 3.0, 10.0, 999.0], 1.0 + rng.lognormal(0.0, 3.0, 200)])
    s_lo = s_hi * rng.uniform(-2.0**-53, 2.0**-53, s_hi.size)
    r, rho = reciprocal_parts(s_hi, s_lo)
    assert np.array_equal(r, 1.0 / s_hi)
    for rv, qv, hv, lv in zip(r, rho, s_hi, s_lo, strict=True):
        exact = 1 / (Fraction(float(hv)) + Fraction(float(lv)))
        got = Fraction(float(rv)) * (1 + Fraction(float(qv)))
        assert abs(got - exact) <= exact * Fraction(2.0**-100)  # r alone is off by up to 2**-53


def test_log1p_parts_give_twice_the_precision():
    import mpmath as mp

    from celesson._rows import log1p_parts

    t = np.array([0.0, 1e-300, 1e-20, 2.0**-53, 0.3, 1.0, 7.5, 999.0, 1e6])
    hi, lo = log1p_parts(t)
    for tv, h, lv in zip(t, hi, lo, strict=True):
        exact = mp.log1p(mp.mpf(float(tv)))
        err = abs(mp.mpf(float(h)) + mp.mpf(float(lv)) - exact)
        # the rounding of exp(hi) leaves an absolute error of at most 2**-52 (log1p alone,
        # hi, is off by up to half an ULP of the result: 2**-50 for t = 1e6); for tiny t
        # the pair is t itself and only the t**2 / 2 of the series is missing
        assert err <= mp.mpf(2.0**-52)
        if tv < 1e-10:
            assert err <= mp.mpf(float(tv)) ** 2


# ------------------------------------------------- unevaluated pairs (double-double)


def _pair_value(hi, lo) -> Fraction:
    return Fraction(float(hi)) + (0 if lo is None else Fraction(float(lo)))


def test_mul_pairs_is_twice_the_precision_and_rejects_a_rounded_product():
    from celesson._summation import mul_pairs

    rng = np.random.default_rng(11)
    a_hi, b_hi = _spread_values(rng, 300), _spread_values(rng, 300)
    a_lo = a_hi * rng.uniform(-2.0**-53, 2.0**-53, 300)
    b_lo = b_hi * rng.uniform(-2.0**-53, 2.0**-53, 300)
    hi, lo = mul_pairs(a_hi, a_lo, b_hi, b_lo)
    assert np.array_equal(hi, a_hi * b_hi)
    rounded_off = 0
    for v in zip(a_hi, a_lo, b_hi, b_lo, hi, lo, strict=True):
        exact = _pair_value(v[0], v[1]) * _pair_value(v[2], v[3])
        assert abs(_pair_value(v[4], v[5]) - exact) <= abs(exact) * Fraction(2.0**-100)
        rounded_off += abs(Fraction(float(v[4])) - exact) > abs(exact) * Fraction(2.0**-60)
    assert rounded_off > 250  # the rounded product alone is not that accurate
    # a factor too large for the split: the rounded product, no NaN
    a, b = np.array([1e305, 2.0]), np.array([3.0, 1e308])
    with np.errstate(over="ignore"):
        hi, lo = mul_pairs(a, None, b, None)
        assert np.array_equal(hi, a * b)
    assert np.isinf(hi[1]) and np.array_equal(lo, [0.0, 0.0])


def test_add_sum_and_div_pairs():
    from celesson._summation import add_pairs, div_pairs, sum_pairs

    rng = np.random.default_rng(12)
    x = rng.lognormal(0.0, 5.0, (40, 7))
    x_lo = x * rng.uniform(-2.0**-53, 2.0**-53, x.shape)
    s_hi, s_lo = sum_pairs(x, x_lo, 1)
    assert s_hi.shape == (40, 1)
    for i in range(40):
        exact = sum((_pair_value(h, v) for h, v in zip(x[i], x_lo[i], strict=True)), Fraction(0))
        assert abs(_pair_value(s_hi[i, 0], s_lo[i, 0]) - exact) <= exact * Fraction(2.0**-100)
    h, v = add_pairs(x[:, 0], x_lo[:, 0], x[:, 1], x_lo[:, 1])
    for i in range(40):
        exact = _pair_value(x[i, 0], x_lo[i, 0]) + _pair_value(x[i, 1], x_lo[i, 1])
        assert abs(_pair_value(h[i], v[i]) - exact) <= exact * Fraction(2.0**-100)
    # the quotient of two pairs is rounded about once: within 0.5 ULP + 2**-100
    q = div_pairs(x[:, 0], x_lo[:, 0], x[:, 1], x_lo[:, 1])
    for i in range(40):
        exact = _pair_value(x[i, 0], x_lo[i, 0]) / _pair_value(x[i, 1], x_lo[i, 1])
        ulp = Fraction(math.ulp(float(exact)))
        assert abs(Fraction(float(q[i])) - exact) <= ulp / 2 + exact * Fraction(2.0**-100)


def test_exp_minus_shift_pair_is_the_60_digit_value():
    import mpmath as mp

    from celesson._rows import EXP_MINUS_SHIFT, SHIFT

    with mp.workdps(60):
        exact = mp.exp(-mp.mpf(SHIFT))
        err = abs(mp.mpf(EXP_MINUS_SHIFT[0]) + mp.mpf(EXP_MINUS_SHIFT[1]) - exact)
        assert err <= exact * mp.mpf(2) ** -106
        assert EXP_MINUS_SHIFT[0] == float(exact)
