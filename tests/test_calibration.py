"""Tests for celesson.calibration against independent computations.

The ECE and the bins are compared with a plain-Python loop over the examples that places
each confidence by exact rational comparison with the edges b/M; the temperature with a
50-digit mpmath root of the likelihood equation; the Brier parts with their definitions
term by term (mpmath sums).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest

from celesson import calibration as cal
from celesson.numerics import softmax

mp.mp.dps = 50


def _sample_labels(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    u = rng.random((probs.shape[0], 1))
    return np.minimum((u > np.cumsum(probs, axis=1)).sum(axis=1), probs.shape[1] - 1)


def _reference_bins(probs, labels, n_bins, column=None):
    """Equal-width right-closed bins by exact rational comparison, one example at a time.

    Binned by the confidence max_k q_ik, or by q_ik of one class when ``column`` is given.
    """
    members: list[list[int]] = [[] for _ in range(n_bins)]
    for i, row in enumerate(np.asarray(probs, dtype=float)):
        c = Fraction(float(row.max() if column is None else row[column]))
        b = 0
        while b < n_bins - 1 and c > Fraction(float(Fraction(b + 1, n_bins))):
            b += 1
        members[b].append(i)
    return members


def _reference_ece(probs, labels, groups):
    probs = np.asarray(probs, dtype=float)
    n = probs.shape[0]
    total = mp.mpf(0)
    for rows in groups:
        if not rows:
            continue
        conf = mp.fsum(mp.mpf(float(probs[i].max())) for i in rows) / len(rows)
        acc = mp.mpf(sum(int(np.argmax(probs[i]) == labels[i]) for i in rows)) / len(rows)
        total += mp.mpf(len(rows)) / n * abs(acc - conf)
    return total


def _random_probs(rng, n, k, scale=3.0):
    return softmax(scale * rng.standard_normal((n, k)), axis=1)


# --------------------------------------------------------------------------- bins / ECE


@pytest.mark.parametrize("n_bins", [1, 2, 5, 10, 15, 40])
def test_ece_uniform_matches_loop(n_bins: int) -> None:
    """ECE = sum_b n_b/N |acc_b - conf_b| with bins (b/M, (b+1)/M], against a loop."""
    rng = np.random.default_rng(n_bins)
    p = _random_probs(rng, 300, 4)
    y = rng.integers(0, 4, 300)
    ref = _reference_ece(p, y, _reference_bins(p, y, n_bins))
    got = cal.expected_calibration_error(p, y, n_bins=n_bins)
    assert abs(got - float(ref)) <= 1e-15


def test_confidence_exactly_at_an_edge_goes_to_the_bin_below() -> None:
    """c = 0.6 with M = 5 lies in (0.4, 0.6]; the next float above lies in (0.6, 0.8]."""
    edge = 3 / 5
    above = float(np.nextafter(edge, 1.0))
    p = np.array([[edge, 1 - edge], [above, 1 - above], [0.5, 0.5], [1.0, 0.0]])
    bins = cal.reliability_bins(p, [0, 0, 0, 0], n_bins=5)
    assert bins.counts.tolist() == [0, 0, 2, 1, 1]
    assert bins.upper[2] == edge and bins.lower[3] == edge


def test_rounding_of_c_times_m_would_misplace_a_confidence() -> None:
    """Placing c by ceil(c * M) puts the float just above 0.85 (M = 20) in the bin below."""
    above = float(np.nextafter(17 / 20, 1.0))
    assert np.ceil(above * 20) - 1 == 16  # c * M rounds down to 17: the naive rule says (0.8, 0.85]
    bins = cal.reliability_bins([[above, 1 - above]], [0], n_bins=20)
    assert np.flatnonzero(bins.counts).tolist() == [17]


def test_empty_bins_contribute_nothing_and_are_nan() -> None:
    p = np.array([[0.95, 0.05], [0.92, 0.08], [0.55, 0.45]])
    y = np.array([0, 1, 0])
    bins = cal.reliability_bins(p, y, n_bins=10)
    assert bins.counts.sum() == 3 and np.sum(bins.counts == 0) == 8
    assert np.all(np.isnan(bins.accuracy[bins.counts == 0]))
    expected = (2 / 3) * abs(0.5 - (0.95 + 0.92) / 2) + (1 / 3) * abs(1.0 - 0.55)
    assert abs(cal.expected_calibration_error(p, y, n_bins=10) - expected) <= 1e-16


def test_quantile_bins_have_equal_mass_and_match_loop() -> None:
    rng = np.random.default_rng(7)
    p = _random_probs(rng, 103, 3)
    y = rng.integers(0, 3, 103)
    bins = cal.reliability_bins(p, y, n_bins=10, binning="quantile")
    assert sorted(bins.counts.tolist()) == [10] * 7 + [11] * 3
    order = np.argsort(p.max(axis=1), kind="stable")
    groups = [list(map(int, g)) for g in np.array_split(order, 10)]
    ref = _reference_ece(p, y, groups)
    got = cal.expected_calibration_error(p, y, n_bins=10, binning="quantile")
    assert abs(got - float(ref)) <= 1e-15
    assert np.all(bins.lower[1:] >= bins.upper[:-1])


def test_quantile_with_more_bins_than_examples() -> None:
    bins = cal.reliability_bins([[0.7, 0.3], [0.2, 0.8]], [0, 0], n_bins=5, binning="quantile")
    assert bins.counts.tolist() == [1, 1, 0, 0, 0]


def test_ece_of_a_calibrated_constant_forecaster_is_zero() -> None:
    """Confidence 0.75 on every example and exactly 3 of 4 right: ECE = 0 exactly."""
    p = [[0.75, 0.25]] * 8
    y = [0, 0, 0, 1] * 2
    assert cal.expected_calibration_error(p, y) == 0.0


def test_squared_error_and_its_debiased_version() -> None:
    """Per bin (acc - conf)^2, minus acc (1 - acc)/(n_b - 1) with debias (Kumar et al.)."""
    rng = np.random.default_rng(3)
    p = _random_probs(rng, 200, 3)
    y = rng.integers(0, 3, 200)
    groups = _reference_bins(p, y, 5)
    plug, corrected = mp.mpf(0), mp.mpf(0)
    for rows in groups:
        if not rows:
            continue
        conf = mp.fsum(mp.mpf(float(p[i].max())) for i in rows) / len(rows)
        acc = mp.mpf(sum(int(np.argmax(p[i]) == y[i]) for i in rows)) / len(rows)
        w = mp.mpf(len(rows)) / 200
        plug += w * (acc - conf) ** 2
        if len(rows) > 1:
            corrected += w * ((acc - conf) ** 2 - acc * (1 - acc) / (len(rows) - 1))
    assert abs(cal.squared_calibration_error(p, y, n_bins=5) - float(plug)) <= 1e-16
    got = cal.squared_calibration_error(p, y, n_bins=5, debias=True)
    assert abs(got - float(corrected)) <= 1e-16


def test_debiasing_removes_most_of_the_bias_on_a_calibrated_model() -> None:
    """Labels drawn from the model's own probabilities: the debiased mean is near 0."""
    rng = np.random.default_rng(11)
    plug, fixed = [], []
    for _ in range(200):
        p = _random_probs(rng, 200, 3, scale=2.0)
        y = _sample_labels(rng, p)
        plug.append(cal.squared_calibration_error(p, y, n_bins=10))
        fixed.append(cal.squared_calibration_error(p, y, n_bins=10, debias=True))
    assert np.mean(plug) > 5 * abs(np.mean(fixed))
    assert np.mean(plug) > 4 * np.std(plug) / np.sqrt(200)


@pytest.mark.parametrize(
    ("kwargs", "error", "word"),
    [
        ({"probs": [[0.5, 0.6]], "labels": [0]}, ValueError, "probs"),
        ({"probs": [[1.2, -0.2]], "labels": [0]}, ValueError, "probs"),
        ({"probs": [0.5, 0.5], "labels": [0]}, ValueError, "probs"),
        ({"probs": [[1.0]], "labels": [0]}, ValueError, "probs"),
        ({"probs": [[0.5, 0.5]], "labels": [2]}, ValueError, "labels"),
        ({"probs": [[0.5, 0.5]], "labels": [0.0]}, TypeError, "labels"),
        ({"probs": [[0.5, 0.5]], "labels": [0, 1]}, ValueError, "labels"),
        ({"probs": [[0.5, 0.5]], "labels": [0], "n_bins": 0}, ValueError, "n_bins"),
        ({"probs": [[0.5, 0.5]], "labels": [0], "n_bins": 2.0}, TypeError, "n_bins"),
        ({"probs": [[0.5, 0.5]], "labels": [0], "binning": "equal"}, ValueError, "binning"),
        ({"probs": [[np.nan, 0.5]], "labels": [0]}, ValueError, "probs"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, word) -> None:
    with pytest.raises(error, match=word):
        cal.expected_calibration_error(**kwargs)


def test_debias_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="debias"):
        cal.squared_calibration_error([[0.5, 0.5]], [0], debias="yes")


def test_repr_is_stable() -> None:
    bins = cal.reliability_bins([[0.5, 0.5]], [0], n_bins=3)
    assert repr(bins) == "ReliabilityBins(n_bins=3, binning='uniform', total=1, empty=2)"


# --------------------------------------------------------------------------- temperature


def _mp_temperature(z: np.ndarray, y: np.ndarray) -> mp.mpf:
    """Root of sum_i E_q[d_i] = 0 in beta = 1/T, 50 digits (bisection then secant)."""
    rows = [[mp.mpf(float(v)) - mp.mpf(float(r[t])) for v in r] for r, t in zip(z, y, strict=True)]

    def slope(beta):
        total = mp.mpf(0)
        for d in rows:
            top = max(d)
            w = [mp.exp(beta * (v - top)) for v in d]
            total += mp.fsum(wi * v for wi, v in zip(w, d, strict=True)) / mp.fsum(w)
        return total

    lo, hi = mp.mpf(0), mp.mpf(1) / max(abs(v) for d in rows for v in d)
    while slope(hi) < 0:
        lo, hi = hi, 2 * hi
    for _ in range(60):  # bisection to a tight bracket, then a secant polish
        mid = (lo + hi) / 2
        if slope(mid) < 0:
            lo = mid
        else:
            hi = mid
    beta = mp.findroot(slope, (lo, hi), solver="anderson", tol=mp.mpf(10) ** -45)
    return 1 / beta


def _overconfident_case(rng, n, k, sharpen):
    z = 2.0 * rng.standard_normal((n, k))
    y = _sample_labels(rng, softmax(z, axis=1))
    return sharpen * z, y


CASES = {
    "calibrated": lambda rng: _overconfident_case(rng, 60, 4, 1.0),
    "overconfident x3": lambda rng: _overconfident_case(rng, 60, 5, 3.0),
    "extremely overconfident x1e4": lambda rng: _overconfident_case(rng, 40, 3, 1e4),
    "logits of size 1e12": lambda rng: _overconfident_case(rng, 30, 3, 1e12),
    "underconfident x1e-3": lambda rng: _overconfident_case(rng, 60, 3, 1e-3),
    "binary": lambda rng: _overconfident_case(rng, 80, 2, 2.0),
    "one mistake among many": lambda rng: (
        np.vstack([np.tile([5.0, 0.0, -1.0], (49, 1)), [[0.0, 1.0, 0.0]]]),
        np.zeros(50, dtype=int),
    ),
    "twenty classes": lambda rng: _overconfident_case(rng, 40, 20, 2.5),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_temperature_matches_high_precision_root(name: str) -> None:
    """T* = 1/beta* with f'(beta*) = mean_i E_q[d_i] = 0, to 1e-10 relative (target 1e-10)."""
    z, y = CASES[name](np.random.default_rng(len(name)))
    ref = _mp_temperature(z, y)
    got = cal.fit_temperature(z, y)
    assert abs(mp.mpf(got) / ref - 1) < 1e-12, (name, got, ref)


def test_fit_temperature_recovers_a_planted_temperature() -> None:
    """Labels drawn from softmax(z), logits handed over as 2.5 z: T* -> 2.5 as N grows."""
    rng = np.random.default_rng(5)
    z = 2.0 * rng.standard_normal((20000, 5))
    y = _sample_labels(rng, softmax(z, axis=1))
    assert abs(cal.fit_temperature(2.5 * z, y) - 2.5) < 0.1


def test_fit_temperature_maximises_the_likelihood() -> None:
    """The NLL at T* is below the NLL at T* (1 +- 1e-4), and at T = 1."""
    from celesson.losses import cross_entropy

    z, y = _overconfident_case(np.random.default_rng(2), 200, 4, 3.0)
    t = cal.fit_temperature(z, y)
    best = cross_entropy(z / t, y)
    for other in (t * (1 + 1e-4), t * (1 - 1e-4), 1.0):
        assert cross_entropy(z / other, y) > best


def test_fit_temperature_is_scale_equivariant() -> None:
    """Scaling the logits by s scales T* by s (to rounding)."""
    z, y = _overconfident_case(np.random.default_rng(9), 100, 3, 1.0)
    t1 = cal.fit_temperature(z, y)
    t8 = cal.fit_temperature(8.0 * z, y)  # a power of two: the scaled logits are exact
    assert abs(t8 / (8.0 * t1) - 1) < 1e-13


def test_fit_temperature_without_a_finite_maximiser_raises() -> None:
    # every example right: the likelihood grows as T -> 0
    with pytest.raises(ValueError, match="T -> 0"):
        cal.fit_temperature([[2.0, 0.0], [0.0, 1.0]], [0, 1])
    # labels below their row mean: the best positive T is infinite
    with pytest.raises(ValueError, match="T = inf"):
        cal.fit_temperature([[2.0, 0.0], [0.0, 1.0], [0.1, 0.0]], [1, 0, 0])
    # constant rows carry no information about T
    with pytest.raises(ValueError, match="T -> 0"):
        cal.fit_temperature([[1.0, 1.0], [0.0, 0.0]], [0, 1])


@pytest.mark.parametrize(
    ("logits", "labels", "error", "word"),
    [
        ([[np.inf, 0.0], [0.0, 1.0]], [0, 0], ValueError, "logits"),
        ([[1.0], [0.0]], [0, 0], ValueError, "logits"),
        ([[1.0, 0.0], [0.0, 1.0]], [0, 3], ValueError, "labels"),
        ([[1.0, 0.0], [0.0, 1.0]], [0], ValueError, "labels"),
        ([1.0, 0.0], [0], ValueError, "logits"),
    ],
)
def test_fit_temperature_bad_input(logits, labels, error, word) -> None:
    with pytest.raises(error, match=word):
        cal.fit_temperature(logits, labels)


# --------------------------------------------------------------------------- Brier


def test_brier_score_against_definition() -> None:
    rng = np.random.default_rng(4)
    p = _random_probs(rng, 50, 4)
    y = rng.integers(0, 4, 50)
    ref = mp.fsum(
        mp.fsum((mp.mpf(float(p[i, k])) - (1 if k == y[i] else 0)) ** 2 for k in range(4))
        for i in range(50)
    ) / 50
    assert abs(cal.brier_score(p, y) - float(ref)) <= 2 * np.spacing(float(ref))


def test_brier_score_keeps_relative_accuracy_near_zero() -> None:
    """q_y = 1 - 1e-12: the score is 2e-24 (the naive (1 - q_y)^2 loses most digits)."""
    eps = 1e-12
    p = np.array([[1.0 - eps, eps]])
    p[0, 0] = 1.0 - p[0, 1]
    exact = mp.mpf(float(p[0, 1])) ** 2 * 2
    got = cal.brier_score(p, [0])
    assert abs(mp.mpf(got) / exact - 1) < 1e-15
    naive = (1.0 - p[0, 0]) ** 2 + p[0, 1] ** 2
    assert abs(mp.mpf(naive) / exact - 1) > 1e-6


def _mp_partition(f, o, groups):
    """Reliability, resolution, within variance, within covariance; f, o of shape (N, D)."""
    n, k = f.shape
    y_bar = [mp.fsum(mp.mpf(o[i, j]) for i in range(n)) / n for j in range(k)]
    rel = res = wbv = wbc = mp.mpf(0)
    for rows in groups:
        if not rows:
            continue
        f_bar = [mp.fsum(mp.mpf(float(f[i, j])) for i in rows) / len(rows) for j in range(k)]
        o_bar = [mp.fsum(mp.mpf(o[i, j]) for i in rows) / len(rows) for j in range(k)]
        rel += len(rows) * mp.fsum((f_bar[j] - o_bar[j]) ** 2 for j in range(k))
        res += len(rows) * mp.fsum((o_bar[j] - y_bar[j]) ** 2 for j in range(k))
        for i in rows:
            df = [mp.mpf(float(f[i, j])) - f_bar[j] for j in range(k)]
            wbv += mp.fsum(v**2 for v in df)
            wbc += mp.fsum(df[j] * (o[i, j] - o_bar[j]) for j in range(k))
    return rel / n, res / n, wbv / n, wbc / n


def test_brier_decomposition_binned_against_definitions_and_adds_up() -> None:
    """Class by class: each q_ik a binary forecast of [y_i = k], binned; terms summed over k."""
    rng = np.random.default_rng(8)
    p = _random_probs(rng, 120, 3)
    y = rng.integers(0, 3, 120)
    onehot = np.eye(3)[y]
    parts = cal.brier_decomposition(p, y, n_bins=6)
    ref = [mp.mpf(0)] * 4
    for k in range(3):
        groups = _reference_bins(p, y, 6, column=k)
        terms = _mp_partition(p[:, k : k + 1], onehot[:, k : k + 1], groups)
        ref = [a + b for a, b in zip(ref, terms, strict=True)]
    got = (parts.reliability, parts.resolution, parts.within_variance, parts.within_covariance)
    for g, want in zip(got, ref, strict=True):
        assert abs(g - float(want)) <= 1e-15
    freq = onehot.mean(axis=0)
    assert abs(parts.uncertainty - float(np.sum(freq * (1 - freq)))) <= 1e-15
    assert abs(parts.total() - parts.brier) <= 4e-16
    assert parts.brier == cal.brier_score(p, y)
    assert parts.within_variance > 0


def test_brier_decomposition_by_distinct_forecasts_is_murphy() -> None:
    """A forecaster issuing rounded probabilities: no within-group terms, three parts add up."""
    rng = np.random.default_rng(6)
    choices = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
    idx = rng.integers(0, 4, 400)
    p = choices[idx]
    y = _sample_labels(rng, p)
    parts = cal.brier_decomposition(p, y)
    groups = [list(np.flatnonzero(idx == g)) for g in range(4)]
    rel, res, _, _ = _mp_partition(p, np.eye(3)[y], groups)
    assert parts.within_variance == 0.0 and parts.within_covariance == 0.0
    for got, want in ((parts.reliability, rel), (parts.resolution, res)):
        assert abs(got - float(want)) <= 1e-15
    assert abs(parts.reliability - parts.resolution + parts.uncertainty - parts.brier) <= 1e-15


def test_brier_decomposition_rejects_bad_bins() -> None:
    with pytest.raises(ValueError, match="n_bins"):
        cal.brier_decomposition([[0.5, 0.5]], [0], n_bins=0)
    with pytest.raises(ValueError, match="binning"):
        cal.brier_decomposition([[0.5, 0.5]], [0], n_bins=3, binning="x")
