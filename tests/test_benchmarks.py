"""Smoke tests of the benchmark machinery: the ULP yardstick, the inputs, the exact values.

The benchmark itself (``benchmarks/run.py``) takes minutes; these tests check, in a
few seconds, that the pieces it is built from measure what they claim to.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

from benchmarks import accuracy, cases, report, speed, truth  # noqa: E402
from benchmarks.implementations import FUNCTIONS, naive, scipy_special  # noqa: E402
from benchmarks.ulp import TINY_ULP, split, ulp, ulp_error  # noqa: E402

MAX = float(np.finfo(np.float64).max)
TINY = float(np.finfo(np.float64).tiny)


# ----------------------------------------------------------------------------- ulp


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (1.0, 2.0**-52),
        (1.5, 2.0**-52),
        (float(np.nextafter(2.0, 0.0)), 2.0**-52),
        (2.0, 2.0**-51),
        (float(np.nextafter(1.0, 0.0)), 2.0**-53),
        (0.1, 2.0**-56),
        (1000.0, 2.0**-43),
        (-1000.0, 2.0**-43),
        (MAX, 2.0**971),
        (TINY, 2.0**-1074),
        (2.0 * TINY, 2.0**-1073),
        (1e-310, 2.0**-1074),
        (5e-324, 2.0**-1074),
        (0.0, 2.0**-1074),
        (-0.0, 2.0**-1074),
    ],
)
def test_ulp_is_the_gap_of_the_binade(t: float, expected: float) -> None:
    assert float(ulp(t)) == expected


def test_ulp_is_the_distance_to_the_next_float_upwards() -> None:
    rng = np.random.default_rng(3)
    t = np.concatenate([10.0 ** rng.uniform(-300, 300, 500), rng.uniform(-1e-308, 1e-308, 50)])
    t = np.abs(t)
    assert np.array_equal(ulp(t), np.nextafter(t, np.inf) - t)


def test_ulp_rejects_non_finite_values() -> None:
    with pytest.raises(ValueError, match="finite"):
        ulp([1.0, np.inf])
    with pytest.raises(ValueError, match="finite"):
        ulp(np.nan)


def test_split_rounds_to_nearest_and_keeps_the_remainder() -> None:
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
        t, r = split(third)
        assert t == 1.0 / 3.0
        assert Fraction(t) + Fraction(r) != Fraction(1, 3)  # r is itself rounded ...
        assert abs(mpmath.mpf(t) + mpmath.mpf(r) - third) < mpmath.mpf(2) ** -106  # ... to 53 bits
        assert abs(r) <= 2.0**-55  # at most half an ulp of 1/3
        # subnormal results round to the nearest multiple of 2**-1074
        assert split(mpmath.mpf(2) ** -1074 * mpmath.mpf("0.75"))[0] == TINY_ULP
        assert split(mpmath.mpf(2) ** -1074 * mpmath.mpf("0.25"))[0] == 0.0
        assert split(mpmath.mpf(2) ** -1074 * mpmath.mpf("2.6"))[0] == 3 * TINY_ULP
        # beyond the largest float: MAX up to half an ulp past it, infinity after that
        assert split(mpmath.mpf(MAX) + mpmath.mpf(2) ** 969)[0] == MAX
        assert split(mpmath.mpf(MAX) + mpmath.mpf(2) ** 970)[0] == math.inf
        assert split(-(mpmath.mpf(10) ** 400)) == (-math.inf, 0.0)


def test_ulp_error_of_correctly_rounded_and_neighbouring_values() -> None:
    with mpmath.workdps(50):
        exact = [mpmath.mpf(1) / 3, mpmath.exp(-40), mpmath.mpf(10) ** 300 / 7, -mpmath.pi]
    pairs = [split(v) for v in exact]
    t = np.array([p[0] for p in pairs])
    r = np.array([p[1] for p in pairs])
    at = ulp_error(t, t, r)
    assert np.all(at <= 0.5)
    up = ulp_error(np.nextafter(t, np.inf), t, r)
    assert np.all((up > 0.5) & (up <= 1.5))
    two_up = ulp_error(np.nextafter(np.nextafter(t, np.inf), np.inf), t, r)
    np.testing.assert_allclose(two_up - up, 1.0, rtol=0, atol=1e-12)


def test_ulp_error_special_values() -> None:
    assert ulp_error(np.inf, 1.0)[()] == math.inf
    assert ulp_error(np.nan, 1.0)[()] == math.inf
    assert ulp_error(-np.inf, -np.inf)[()] == 0.0
    assert ulp_error(np.inf, -np.inf)[()] == math.inf
    assert ulp_error(0.0, 0.0)[()] == 0.0
    assert ulp_error(5e-324, 0.0)[()] == 1.0  # zero's ulp is the smallest subnormal
    assert ulp_error(0.0, 1e-20)[()] == 1e-20 / 2.0**-119  # a flush to zero costs ~2**52 ULP
    assert ulp_error(1.0, 2.0)[()] == 2.0**51
    # a finite value wrong by more than the float64 range is clipped, not reported as inf
    assert ulp_error(1.0, 0.0)[()] == MAX


# ----------------------------------------------------------------------------- cases


def test_thresholds_are_the_exact_edges_of_exp() -> None:
    th = cases.thresholds()
    assert np.isfinite(np.exp(th["exp_overflow"]))
    with np.errstate(over="ignore"):
        assert np.exp(np.nextafter(th["exp_overflow"], np.inf)) == np.inf
    assert 1.0 + np.exp(-np.nextafter(th["one_plus_exp"], np.inf)) == 1.0
    assert 1.0 + np.exp(-np.nextafter(th["one_plus_exp"], 0.0)) > 1.0
    assert np.exp(-np.nextafter(th["exp_zero"], np.inf)) == 0.0
    assert np.exp(-np.nextafter(th["exp_zero"], 0.0)) > 0.0
    assert round(th["one_plus_exp"], 4) == 36.7368
    assert round(th["sigmoid_one"], 4) == 37.4299
    assert round(th["exp_overflow"], 4) == 709.7827
    assert round(th["exp_zero"], 4) == 745.1332


def test_logit_cases_span_the_float_range_symmetrically() -> None:
    z = cases.logits(quick=True)
    assert np.all(np.isfinite(z))
    assert np.array_equal(z, np.unique(z))
    assert np.array_equal(np.sort(-z), z)
    assert z.max() == MAX and 5e-324 in z and 0.0 in z
    for edge in cases.thresholds().values():
        assert edge in z and np.nextafter(edge, np.inf) in z and -edge in z


def test_probability_cases_and_binary_pairs() -> None:
    p = cases.probabilities(quick=True)
    assert p.min() == 0.0 and p.max() == 1.0
    assert np.nextafter(1.0, 0.0) in p and 5e-324 in p and 1e-300 in p
    xs, ys = cases.binary_pairs(p, probabilities=True)
    assert not np.any((xs == 0.0) & (ys > 0.0)), "p = 0 with y > 0 has an infinite loss"
    assert not np.any((xs == 1.0) & (ys < 1.0)), "p = 1 with y < 1 has an infinite loss"
    assert set(np.unique(ys)) == set(cases.LABELS)
    zs, yz = cases.binary_pairs(np.array([-1.0, 2.0]), probabilities=False)
    assert zs.size == 2 * len(cases.LABELS) == yz.size


def test_vector_cases_have_valid_targets() -> None:
    groups = cases.vectors(quick=True)
    assert sorted(groups) == [2, 3, 10, 100, 1000]
    for k, g in groups.items():
        assert g.logits.shape[1] == k and np.all(np.isfinite(g.logits))
        assert g.targets.shape == (g.logits.shape[0], 3)
        assert np.array_equal(g.targets[:, 0], np.argmax(g.logits, axis=1))
        assert np.all((g.targets >= 0) & (g.targets < k))
    assert np.abs(groups[2].logits).max() == 8e307
    assert np.abs(groups[10].logits).max() >= 1e300


# ----------------------------------------------------------------------------- truth


def test_exact_values_at_known_points() -> None:
    z = np.array([0.0, 40.0, -800.0, -745.0])
    t, r = truth.sigmoid(z)
    assert t[0] == 0.5 and r[0] == 0.0
    assert t[2] == 0.0 and t[3] == 5e-324  # e^-800 underflows, e^-745 is the smallest subnormal
    t, _ = truth.log_sigmoid(z)
    assert t[1] == -4.248354255291589e-18 and t[2] == -800.0
    t, _ = truth.bce_prob(np.array([1e-50, 0.0, 1e-20]), np.array([1.0, 0.0, 0.0]))
    assert t[0] == 50 * math.log(10) and t[1] == 0.0 and t[2] == 1e-20
    t, _ = truth.bce_logits(np.array([-40.0, 1000.0]), np.array([0.0, 1.0 - 1e-10]))
    assert t[0] == 4.248354255291589e-18
    assert t[1] == pytest.approx(1000 * 1e-10, rel=1e-6)


def test_vector_parts_for_offsets_and_cancellation() -> None:
    z = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [50.0, 0.0], [-0.5, -0.5]])
    parts = truth.vector_parts(z)
    lse = parts["logsumexp"][0]
    assert lse[0] == 1000.0 + math.log(2) and lse[1] == -1000.0 + math.log(2)
    np.testing.assert_array_equal(parts["softmax"][0][:2], 0.5)
    assert parts["log_softmax"][0][2, 0] == -1.9287498479639178e-22
    cond = parts["condition"]
    assert cond[0] == 1.0 and cond[2] == 1.0
    assert cond[3] > 2.0  # -0.5 + log 2: the two terms cancel


# ------------------------------------------------------------------- accuracy, speed


def test_summary_counts_failures_of_the_textbook_formulas() -> None:
    z = np.array([-800.0, -740.0, 0.0, 40.0, 800.0])
    t, r = truth.log_sigmoid(z)
    problem = accuracy.Problem(
        "log_sigmoid", "test", lambda impl: impl.functions["log_sigmoid"](z), t, r,
        lambda i: {"z": repr(z[i])}, np.ones(z.size, dtype=bool),
    )  # fmt: skip
    textbook = accuracy.summarise(problem.call(naive()), problem)
    assert textbook["nonfinite"] == 2  # log(1 / (1 + inf)) = -inf at -800 and -740
    assert textbook["zero"] == 1  # log(1 / (1 + e^-40)) = 0
    assert textbook["zero_normal"] == 1  # ... where the exact -4.2e-18 is a normal number
    assert textbook["max_ulp"] == "inf" and textbook["over_2_ulp"] == 3
    stable = accuracy.summarise(problem.call(scipy_special()), problem)
    assert stable["nonfinite"] == 0 and stable["zero"] == 0 and stable["max_ulp"] <= 1.0


def test_spots_compare_every_implementation() -> None:
    spots = accuracy.spots([naive(), scipy_special()])
    assert spots["log_sigmoid(-800)"] == {"exact": "-800.0", "naive": "-inf", "scipy": "-800.0"}
    assert spots["logsumexp([1000, 1000])"]["naive"] == "inf"


def test_speed_run_reports_ratios() -> None:
    result = speed.run([naive(), scipy_special()], repeats=1, log=lambda _: None, size=10_000)
    assert result["values_per_case"] == 10_000
    for row in result["cases"].values():
        assert set(row) == {"naive", "scipy"}
        assert min(r["vs_fastest"] for r in row.values()) == 1.0
        assert row["scipy"]["vs_fastest_peer"] == 1.0
    with pytest.raises(ValueError, match="repeats"):
        speed.run([naive()], repeats=0)
    with pytest.raises(ValueError, match="size"):
        speed.make_inputs(size=1234)


# ----------------------------------------------------------------------------- stored results


def test_stored_results_cover_every_function_and_implementation() -> None:
    acc = report.load("accuracy")
    assert acc["quick"] is False
    assert list(acc["functions"]) == list(FUNCTIONS)
    for entry in acc["functions"].values():
        assert {"celesson", "naive", "scipy"} <= set(entry["results"])
        for res in entry["results"].values():
            assert "failed" in res or {"max_ulp", "median_ulp", "nonfinite", "zero"} <= set(res)
    spd = report.load("speed")
    assert spd["quick"] is False and spd["values_per_case"] == 10**7
    assert "cpu" in spd["machine"] and len(spd["cases"]) == 8
    text = json.dumps(acc) + json.dumps(spd)
    for fragment in ("/work", "/home", "/root", "/tmp"):
        assert fragment not in text


def test_stored_results_are_in_the_canonical_format() -> None:
    for name in ("accuracy", "speed"):
        path = report.RESULTS / f"{name}.json"
        assert path.read_text(encoding="utf-8") == report.dump(report.load(name))


def test_format_ulp() -> None:
    assert [report.format_ulp(v) for v in (0.0, 0.456, 1.94, 12.4, 506.0, 4.3e15, "inf")] == [
        "0", "0.46", "1.9", "12", "506", "4.3e15", "inf"
    ]  # fmt: skip


def test_tables() -> None:
    rows = [["a", "x", "1"], ["a", "y", "22"]]
    assert report.text_table(["f", "impl", "n"], rows).splitlines()[2] == "a  x     1 "
    md = report.markdown_table(["f", "impl", "n"], rows).splitlines()
    assert md[2] == "| a | x | 1 |" and md[3] == "|  | y | 22 |"
