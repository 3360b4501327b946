"""Smoke tests of the benchmark machinery: the ULP yardstick, the inputs, the exact values.

The benchmark itself (``benchmarks/run.py``) takes minutes; these tests check, in a
few seconds, that the pieces it is built from measure what they claim to.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

from benchmarks import accuracy, cases, fused, report, speed, timeshare, truth  # noqa: E402
from benchmarks import run as bench_run  # noqa: E402
from benchmarks.implementations import (  # noqa: E402
    FUNCTIONS,
    Implementation,
    naive,
    scipy_special,
)
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


# ----------------------------------------------------------------------------- size sweep

SWEEP_NAMES = [
    "sigmoid (N,)",
    "log_sigmoid (N,)",
    "bce_logits (N,) (mean)",
    "softmax (N, 10)",
    "softmax (N, 1000)",
    "log_softmax (N, 10)",
    "log_softmax (N, 1000)",
    "logsumexp (N, 10)",
    "logsumexp (N, 1000)",
    "ce (N, 10) (mean)",
    "ce (N, 1000) (mean)",
]


@pytest.mark.parametrize("size", [1000, 3000, 10**4])
def test_sweep_inputs_have_the_shapes_of_their_case(size: int) -> None:
    inputs = speed.sweep_inputs(size)
    assert list(inputs) == SWEEP_NAMES == [c for c, _, _ in speed.SWEEP_CASES]
    for case, (fn, x, *rest) in inputs.items():
        assert fn == case.split()[0] and fn in FUNCTIONS
        assert x.dtype == np.float64 and x.size == size  # N * K = size
        if "(N,)" in case:
            assert x.shape == (size,)
        else:
            k = int(case.split("(N, ")[1].split(")")[0])
            assert x.shape == (size // k, k)
        if fn == "bce_logits":
            y, reduction = rest
            assert y.shape == x.shape and set(np.unique(y)) <= {0.0, 1.0}
            assert reduction == "mean"
        elif fn == "ce":
            t, reduction = rest
            assert t.shape == (x.shape[0],) and np.issubdtype(t.dtype, np.integer)
            assert t.min() >= 0 and t.max() < x.shape[1] and reduction == "mean"
        else:
            assert rest == []
    assert inputs["softmax (N, 1000)"][1].shape == (size // 1000, 1000)
    for bad in (0, 500, 1500, 10**4 + 10):
        with pytest.raises(ValueError, match="multiple of 1000"):
            speed.sweep_inputs(bad)


def test_sweep_shapes_of_the_benchmark_sizes() -> None:
    assert speed.SWEEP_SIZES == (10**4, 10**5, 10**6, 10**7)
    assert speed.sweep_shape(10**4, 1000) == (10, 1000)
    assert speed.sweep_shape(10**7, 10) == (10**6, 10)
    assert speed.sweep_shape(10**5, None) == (10**5,)


def test_sweep_ratios_from_hand_made_timings() -> None:
    # naive is the fastest overall but is no peer: the ratios are to scipy (0.02 s)
    medians = {"celesson": 0.03, "naive": 0.015, "scipy": 0.02, "torch": 0.04}
    assert speed.sweep_ratios(medians, floor=0.01) == {
        "celesson": {"vs_fastest_peer": 1.5, "vs_floor": 3.0},
        "naive": {"vs_fastest_peer": 0.75, "vs_floor": 1.5},
        "scipy": {"vs_fastest_peer": 1.0, "vs_floor": 2.0},
        "torch": {"vs_fastest_peer": 2.0, "vs_floor": 4.0},
    }
    # one peer missing: the other is the reference; 3 significant digits
    only_torch = speed.sweep_ratios({"celesson": 1.0, "torch": 3.0}, floor=0.7)
    assert only_torch == {
        "celesson": {"vs_fastest_peer": 0.333, "vs_floor": 1.43},
        "torch": {"vs_fastest_peer": 1.0, "vs_floor": 4.29},
    }
    # no peer at all: no vs_fastest_peer, the floor ratio is still there
    assert speed.sweep_ratios({"celesson": 2e-5, "naive": 1e-5}, floor=1e-5) == {
        "celesson": {"vs_floor": 2.0},
        "naive": {"vs_floor": 1.0},
    }
    with pytest.raises(ValueError, match="positive"):
        speed.sweep_ratios({"scipy": 1.0}, floor=0.0)


def test_sweep_repeats_adapt_to_the_call_time() -> None:
    # 4 implementations of 1 ms: 0.2 s each would take 200 rounds
    assert speed.sweep_repeats([1e-3] * 4) == 200
    assert speed.sweep_repeats([1e-4] * 4) == 200  # capped at 200
    assert speed.sweep_repeats([0.01, 0.03]) == 10  # 0.4 s / 0.04 s per round
    assert speed.sweep_repeats([0.01, 0.03], target=0.1) == 5  # 0.2 / 0.04
    assert speed.sweep_repeats([0.5, 0.5, 0.5]) == 5  # at least 5
    assert speed.sweep_repeats([0.07]) == 5  # ceil(0.2 / 0.07) = 3, raised to 5
    assert speed.sweep_repeats([0.07], lo=1) == 3
    assert speed.sweep_repeats([]) == 5
    assert speed.sweep_repeats([0.0]) == 200
    assert speed.sweep_repeats([1.0], lo=3, hi=3) == 3
    with pytest.raises(ValueError):
        speed.sweep_repeats([1.0], lo=6, hi=5)


Seen = dict[str, list[tuple[int, ...]]]


def _fake(
    name: str, fail: Callable[[str, int], bool] | None = None, seen: Seen | None = None
) -> Implementation:
    """An implementation whose functions copy their input (no real work, no real timing).

    ``fail(function, call_number)`` says which calls raise (calls of each function
    counted from 1: the warm-up, the probe, then the rounds); ``seen`` collects the
    shape of every first argument.
    """
    seen = {} if seen is None else seen
    count: dict[str, int] = {}

    def make(fn: str) -> Callable[..., Any]:
        def call(x: np.ndarray, *rest: Any) -> Any:
            count[fn] = count.get(fn, 0) + 1
            if fail is not None and fail(fn, count[fn]):
                raise RuntimeError(f"{name} {fn} broke")
            seen.setdefault(fn, []).append(x.shape)
            out = np.copy(x)
            return float(out.mean()) if rest and rest[-1] == "mean" else out

        return call

    return Implementation(name, f"fake {name}", {fn: make(fn) for fn in FUNCTIONS})


def test_sweep_runs_fake_implementations_and_records_failures() -> None:
    seen: Seen = {}
    good = _fake("celesson", seen=seen)
    peer = _fake("scipy")
    broken = _fake("broken", fail=lambda fn, n: fn == "softmax")  # fails in the warm-up
    late = _fake("late", fail=lambda fn, n: fn == "log_sigmoid" and n == 4)  # in a round
    missing = _fake("missing")
    del missing.functions["logsumexp"]
    absent = Implementation("torch", "not here", unavailable="not installed")
    lines: list[str] = []
    sizes = (1000, 2000)
    result = speed.run_sweep(
        [good, peer, broken, late, missing, absent],
        sizes,
        target_seconds=1e-4,
        min_repeats=2,
        max_repeats=4,
        log=lines.append,
    )
    assert result["sizes"] == [1000, 2000]
    assert list(result["cases"]) == SWEEP_NAMES
    assert set(result["floor"]) == {"1000", "2000"}
    assert all(f["median_ms"] > 0 and 2 <= f["repeats"] <= 4 for f in result["floor"].values())
    assert len(result["load_average"]["start"]) == 3 and len(result["load_average"]["end"]) == 3
    assert "torch" in result and "numpy_simd" in result
    assert len(lines) == len(sizes) * (1 + len(SWEEP_NAMES))  # a floor line and a line per case
    for case, entry in result["cases"].items():
        assert list(entry["by_size"]) == ["1000", "2000"]
        for key, at in entry["by_size"].items():
            assert math.prod(at["shape"]) == int(key)
            assert 2 <= at["repeats"] <= 4
            res = at["results"]
            assert list(res) == ["celesson", "scipy", "broken", "late", "missing"]  # no torch
            assert res["scipy"]["vs_fastest_peer"] == 1.0  # the only peer that ran
            for name in ("celesson", "scipy"):
                r = res[name]
                assert set(r) == {"median_ms", "min_ms", "vs_fastest_peer", "vs_floor"}
                assert 0 < r["min_ms"] <= r["median_ms"]
                ratio = r["median_ms"] / res["scipy"]["median_ms"]
                assert r["vs_fastest_peer"] == pytest.approx(ratio, rel=0.01)
                floor = result["floor"][key]["median_ms"]
                assert r["vs_floor"] == pytest.approx(r["median_ms"] / floor, rel=0.01)
            fn = entry["function"]
            expect_failed = {
                "broken": fn == "softmax",
                "late": fn == "log_sigmoid" and key == "1000",  # its 4th call is in 1e3's rounds
                "missing": fn == "logsumexp",
            }
            for name, should_fail in expect_failed.items():
                assert ("failed" in res[name]) == should_fail, (case, key, name)
            if fn == "softmax":
                assert res["broken"]["failed"] == "RuntimeError: broken softmax broke"
            if fn == "logsumexp":
                assert res["missing"]["failed"] == "no function 'logsumexp'"
    # the functions saw the shapes of their cases, N * K = size
    assert set(seen["softmax"]) == {(100, 10), (1, 1000), (200, 10), (2, 1000)}
    assert set(seen["sigmoid"]) == {(1000,), (2000,)}


def test_sweep_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="multiple"):
        speed.run_sweep([naive()], (1000, 1234), log=lambda _: None)
    with pytest.raises(ValueError, match="repeats"):
        speed.run_sweep([naive()], (1000,), min_repeats=3, max_repeats=2, log=lambda _: None)
    with pytest.raises(ValueError, match="no sizes"):
        speed.run_sweep([naive()], (), log=lambda _: None)


def test_sweep_table() -> None:
    data = {
        "sizes": [1000, 10**4],
        "cases": {
            "sigmoid (N,)": {
                "function": "sigmoid",
                "shape": "(N,)",
                "by_size": {
                    "1000": {"results": {"celesson": {"vs_fastest_peer": 1.5, "vs_floor": 3}}},
                    "10000": {"results": {"celesson": {"failed": "ValueError: x"}}},
                },
            },
            "ce (N, 10) (mean)": {
                "function": "ce",
                "shape": "(N, 10)",
                "by_size": {
                    "1000": {"results": {"celesson": {"vs_floor": 2.0}}},  # no peer ran
                    "10000": {"results": {"celesson": {"vs_fastest_peer": 0.834}}},
                },
            },
        },
    }
    assert report.sweep_header(data) == ["function", "shape", "1e3", "1e4"]
    assert report.sweep_rows(data) == [
        ["sigmoid", "(N,)", "1.50", "failed"],
        ["cross-entropy", "(N, 10)", "-", "0.83"],
    ]
    assert report.sweep_rows(data, implementation="torch")[0] == ["sigmoid", "(N,)", "-", "-"]
    assert [report.size_label(s) for s in (10**3, 10**7, 2000, 1)] == ["1e3", "1e7", "2000", "1e0"]


def _forbid(*_: Any, **__: Any) -> Any:
    raise AssertionError("this part should not run")


def test_run_sizes_only_runs_the_sweep_alone_and_writes_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    real_sweep = speed.run_sweep

    def fake_sweep(impls: list[Implementation], sizes: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append({"sizes": tuple(sizes), **kwargs})
        return real_sweep(impls, (1000,), target_seconds=1e-4, min_repeats=1,
                               max_repeats=1, log=lambda _: None)  # fmt: skip

    fakes = [_fake("celesson"), _fake("scipy")]
    monkeypatch.setattr(bench_run, "all_implementations", lambda: fakes)
    monkeypatch.setattr(speed, "run_sweep", fake_sweep)
    for module in (speed, accuracy, fused):  # the other parts must not run
        monkeypatch.setattr(module, "run", _forbid)
    monkeypatch.setattr(report, "RESULTS", tmp_path / "default")
    assert bench_run.main(["--sizes-only", "--quick"]) == 0  # --quick writes nothing
    assert not (tmp_path / "default").exists()
    assert calls[-1] == {"sizes": speed.QUICK_SWEEP_SIZES, "min_repeats": 3, "max_repeats": 3}
    assert bench_run.main(["--sizes-only", "--out", str(tmp_path)]) == 0
    assert calls[-1]["sizes"] == speed.SWEEP_SIZES
    assert (calls[-1]["min_repeats"], calls[-1]["max_repeats"]) == (5, 200)  # adaptive
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speed_sizes.json"]
    stored = json.loads((tmp_path / "speed_sizes.json").read_text(encoding="utf-8"))
    assert stored["quick"] is False and list(stored["cases"]) == SWEEP_NAMES
    assert {"cpu", "numpy"} <= set(stored["machine"]) and "celesson" in stored["implementations"]
    bench_run.main(["--sizes-only", "--quick", "--repeats", "7"])
    assert (calls[-1]["min_repeats"], calls[-1]["max_repeats"]) == (7, 7)
    out = capsys.readouterr().out
    assert "celesson's median time as a multiple of the faster of scipy and torch" in out
    table_rows = [line.split() for line in out.splitlines() if line.startswith("sigmoid ")]
    assert table_rows and all(row[:2] == ["sigmoid", "(N,)"] for row in table_rows)
    assert "one numpy.exp over as many values as each input holds" in out
    counts = re.findall(r"cells out of NumPy's reach: (\d+) of (\d+)", out)
    assert counts and all(int(n) <= int(total) == len(SWEEP_NAMES) for n, total in counts)


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


def test_stored_sweep_covers_every_size_and_case() -> None:
    path = report.RESULTS / "speed_sizes.json"
    if not path.exists():
        pytest.skip("no stored size sweep yet (make bench writes it)")
    data = report.load("speed_sizes")
    assert path.read_text(encoding="utf-8") == report.dump(data)
    assert data["quick"] is False and data["sizes"] == list(speed.SWEEP_SIZES)
    assert list(data["cases"]) == SWEEP_NAMES
    assert set(data["floor"]) == {str(s) for s in speed.SWEEP_SIZES}
    assert len(data["load_average"]["start"]) == 3 and "numpy_simd" in data and "torch" in data
    for case, entry in data["cases"].items():
        assert set(entry["by_size"]) == {str(s) for s in speed.SWEEP_SIZES}, case
        for key, at in entry["by_size"].items():
            assert math.prod(at["shape"]) == int(key)
            assert {"celesson", "naive", "scipy"} <= set(at["results"]), (case, key)
            for res in at["results"].values():
                assert "failed" in res or {"median_ms", "min_ms", "vs_floor"} <= set(res)
            assert "vs_fastest_peer" in at["results"]["celesson"], (case, key)
    profile = data["profile"]
    assert profile["size"] == timeshare.PROFILE_SIZE and profile["ufunc_call_us"] > 0
    assert list(profile["cases"]) == SWEEP_NAMES
    for case, entry in profile["cases"].items():
        shares = [f["share"] for f in entry["by_function"]]
        assert abs(sum(shares) - 1.0) <= 0.01 * len(shares), case  # each rounded to 0.001
        assert entry["by_function"][-1]["function"] == "other"
        assert any(f["function"].startswith("celesson.") for f in entry["by_function"]), case
    text = json.dumps(data)
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


def test_exp_floor_row_divides_one_exp_by_the_fastest_peer() -> None:
    """celesson took 6 ms at 3x the fastest peer (so the peer took 2 ms); one exp took 5 ms:
    the row says 2.50. A size without a peer, or without the exp floor, shows '-'."""
    data = {
        "sizes": [1000, 10000, 100000],
        "floor": {"1000": {"exp_median_ms": 5.0}, "10000": {"exp_median_ms": 1.0},
                  "100000": {}},
        "cases": {"sigmoid (N,)": {"by_size": {
            "1000": {"results": {"celesson": {"median_ms": 6.0, "vs_fastest_peer": 3.0}}},
            "10000": {"results": {"celesson": {"median_ms": 6.0}}},
            "100000": {"results": {"celesson": {"median_ms": 6.0, "vs_fastest_peer": 3.0}}},
        }}},
    }
    assert report.exp_floor_row(data) == ["numpy.exp alone", "(N,)", "2.50", "-", "-"]


def _two_case_sweep() -> dict[str, Any]:
    """Two cases at two sizes: celesson's time and its multiple of the faster peer, and
    the time of one exp (so the peer took 6/3 = 2 ms, 9/1.5 = 6 ms, 4/2 = 2 ms, 8/4 = 2 ms)."""
    def at(ms: float, ratio: float) -> dict[str, Any]:
        return {"results": {"celesson": {"median_ms": ms, "vs_fastest_peer": ratio}}}

    return {
        "sizes": [1000, 10000],
        "floor": {"1000": {"exp_median_ms": 4.0}, "10000": {"exp_median_ms": 3.0}},
        "cases": {
            "sigmoid (N,)": {"function": "sigmoid", "shape": "(N,)",
                             "by_size": {"1000": at(6.0, 3.0), "10000": at(9.0, 1.5)}},
            "softmax (N, 10)": {"function": "softmax", "shape": "(N, 10)",
                                "by_size": {"1000": at(4.0, 2.0), "10000": at(8.0, 4.0)}},
        },
    }


def test_exp_floor_rows_give_every_case_its_own_peer() -> None:
    """Each case divides the same exp time by its own peer's time, not by the sigmoid's."""
    data = _two_case_sweep()
    assert report.exp_floor_rows(data) == [
        ["sigmoid", "(N,)", "2.00", "0.50"],
        ["softmax", "(N, 10)", "2.00", "1.50"],
    ]
    assert report.exp_floor_row(data) == ["numpy.exp alone", "(N,)", "2.00", "0.50"]
    assert report.exp_floor(data, "softmax (N, 10)", 10000) == pytest.approx(1.5)
    assert report.exp_floor(data, "no such case", 1000) is None


def test_out_of_numpy_reach_lists_the_cells_above_the_target() -> None:
    """Above the target strictly: the softmax at 10**4 (exactly 1.5) is still reachable."""
    data = _two_case_sweep()
    assert report.out_of_numpy_reach(data, 1.5) == [
        ("sigmoid (N,)", 1000), ("softmax (N, 10)", 1000)]
    assert report.out_of_numpy_reach(data, 1.4) == [
        ("sigmoid (N,)", 1000), ("softmax (N, 10)", 1000), ("softmax (N, 10)", 10000)]
    assert report.out_of_numpy_reach(data, 2.0) == []


# ------------------------------------------------------------------------ profile


@pytest.mark.parametrize(
    ("filename", "name", "expected"),
    [
        (str(ROOT / "celesson" / "_rows.py"), "shift", "celesson._rows.shift"),
        ("~", "<method 'reduce' of 'numpy.ufunc' objects>", "numpy.ufunc.reduce"),
        ("~", "<method 'copy' of 'numpy.ndarray' objects>", "numpy.ndarray.copy"),
        ("~", "<built-in method numpy._core._multiarray_umath.c_einsum>", "numpy.c_einsum"),
        ("~", "<built-in method builtins.len>", "builtins.len"),
        (str(ROOT / "benchmarks" / "implementations.py"), "softmax", None),
        ("~", "<method 'disable' of '_lsprof.Profiler' objects>", "_lsprof.Profiler.disable"),
    ],
)
def test_profile_labels_name_the_package_function(filename, name, expected) -> None:
    assert timeshare._label(filename, name) == expected


def test_profile_lists_each_package_function_with_its_calls(monkeypatch) -> None:
    import celesson

    monkeypatch.setattr(timeshare, "MIN_SHARE", 0.0)  # every function, whatever its time
    z = np.random.default_rng(0).normal(0.0, 4.0, 10**4)
    sig = timeshare.profile_call(lambda: celesson.sigmoid(z), 20)
    assert sig["calls"] == 20 and sig["profiled_ms"] > 0
    by_name = {f["function"]: f for f in sig["by_function"]}
    assert sig["by_function"][-1]["function"] == "other"
    # one block of 10**4 values: the kernel once, -|z| once, per call
    assert by_name["celesson._kernels.sigmoid"]["calls_per_call"] == 1.0
    assert by_name["celesson._kernels.neg_abs"]["calls_per_call"] == 1.0
    assert by_name["celesson.numerics.sigmoid"]["calls_per_call"] == 1.0
    assert not any(name.startswith("celesson._rows") for name in by_name)
    assert abs(sum(f["share"] for f in sig["by_function"]) - 1.0) < 0.01
    shares = [f["share"] for f in sig["by_function"][:-1]]
    assert shares == sorted(shares, reverse=True)
    # the softmax of (1000, 10) logits: one block, one TwoSum of the shift per call
    soft = timeshare.profile_call(lambda: celesson.softmax(z.reshape(1000, 10), axis=1), 20)
    by_name = {f["function"]: f for f in soft["by_function"]}
    assert by_name["celesson._summation.two_sum_into"]["calls_per_call"] == 1.0
    assert by_name["celesson._rows.softmax_block"]["calls_per_call"] == 1.0
    assert "celesson._kernels.neg_abs" not in by_name
    with pytest.raises(ValueError, match="calls"):
        timeshare.profile_call(lambda: None, 0)


def test_profile_rows_list_the_largest_shares() -> None:
    profile = {"cases": {"softmax (N, 10)": {"unprofiled_ms": 3.3429, "by_function": [
        {"function": "celesson._summation.two_sum_into", "share": 0.243},
        {"function": "numpy.ufunc.reduce", "share": 0.12},
        {"function": "celesson._rows.softmax_block", "share": 0.1},
        {"function": "other", "share": 0.537},
    ]}}}
    assert report.profile_rows(profile, top=2) == [
        ["softmax (N, 10)", "3.34", "_summation.two_sum_into 24%, ufunc.reduce 12%"]]
