"""Speed: median wall time of repeated calls in one process, float64 on the CPU.

Cases (every input holds 10**7 float64 numbers, 80 MB):

* ``sigmoid`` on a vector of 10**7 logits,
* ``bce_logits`` (mean reduction) on 10**7 logits and labels,
* ``log_softmax`` and ``ce`` (mean reduction, integer targets) on logits of shape
  (10**6, 10) and (10**4, 1000);
* ``softmax`` on the same two shapes (not one of the cases with a speed target:
  ``celesson`` buys its last ULP there with several times the passes of the textbook
  formula, and the benchmark shows what that costs).

Implementations are timed round-robin (one call of each per round, after one
warm-up call), so that a burst of load from other processes hits all of them
alike. Each result is given as the median time, as a ratio to the fastest
implementation of that case, and as a multiple of a memory-bandwidth floor
measured in the same process: ``numpy.copy`` of an input of the same size (reading
80 MB and writing 80 MB into a freshly allocated array, as every elementwise
implementation must at least do).

Threads: every implementation runs on one thread. NumPy's and SciPy's elementwise
functions and reductions are single-threaded; PyTorch is pinned with
``torch.set_num_threads(1)`` (see :func:`benchmarks.implementations.torch_cpu`).

Size sweep (:func:`run_sweep`, stored in ``results/speed_sizes.json``): the same kind
of cases at 10**4, 10**5, 10**6 and 10**7 values in all (:data:`SWEEP_SIZES`), where
fixed costs per call (argument checks, dispatch, temporaries) weigh more the smaller
the input is:

* ``sigmoid``, ``log_sigmoid`` and ``bce_logits`` (mean) on a vector of that many
  logits;
* ``softmax``, ``log_softmax``, ``logsumexp`` and ``ce`` (mean, integer targets) on
  logits of shape (N, 10) and (N, 1000), N * K = size (N = 10 for (N, 1000) at 10**4).

The timing is the one above (one warm-up call each, then rounds of one call of each
implementation, the median), with two differences. The number of rounds adapts to the
size (:func:`sweep_repeats`): about 0.2 s of calls per implementation and case, at
least 5 rounds and at most 200. And the cyclic garbage collector runs once before the
rounds of a case and is switched off during them (as :mod:`timeit` does) instead of
running before every call: with SciPy and PyTorch loaded one collection takes tens of
milliseconds, more than a thousand calls at the small sizes. The floor of each size is
``numpy.copy`` of a vector of that size, timed the same way. Each time is given as a
multiple of the faster of the two peers (:data:`PEERS`) and of the floor
(:func:`sweep_ratios`).
"""

from __future__ import annotations

import gc
import importlib
import math
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from benchmarks.implementations import Implementation
from benchmarks.report import ratio_cell, size_label

N_VALUES = 10**7


#: Implementations that are real peers (the textbook formulas are a baseline, not a peer).
PEERS: tuple[str, ...] = ("scipy", "torch")


def make_inputs(size: int = N_VALUES, seed: int = 0) -> dict[str, tuple[Any, ...]]:
    """The inputs of each speed case (logits ~ N(0, 4**2), labels in {0, 1}).

    Parameters
    ----------
    size : int
        Values per input, a multiple of 1000 (10**7 for the benchmark; smaller for
        tests). The case names keep the benchmark's sizes.
    seed : int
        Seed of the generator.
    """
    if size < 1000 or size % 1000:
        raise ValueError(f"size must be a positive multiple of 1000, got {size}")
    rng = np.random.default_rng(seed)
    z = 4.0 * rng.standard_normal(size)
    y = (rng.random(size) < 0.5).astype(np.float64)
    wide = 4.0 * rng.standard_normal((size // 1000, 1000))
    tall = 4.0 * rng.standard_normal((size // 10, 10))
    t_tall = rng.integers(0, 10, size=size // 10)
    t_wide = rng.integers(0, 1000, size=size // 1000)
    return {
        "sigmoid 1e7": ("sigmoid", z),
        "bce_logits 1e7 (mean)": ("bce_logits", z, y, "mean"),
        "log_softmax (1e6, 10)": ("log_softmax", tall),
        "log_softmax (1e4, 1000)": ("log_softmax", wide),
        "ce (1e6, 10) (mean)": ("ce", tall, t_tall, "mean"),
        "ce (1e4, 1000) (mean)": ("ce", wide, t_wide, "mean"),
        "softmax (1e6, 10)": ("softmax", tall),
        "softmax (1e4, 1000)": ("softmax", wide),
    }


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(
    implementations: list[Implementation],
    repeats: int = 15,
    log: Callable[[str], None] = print,
    size: int = N_VALUES,
) -> dict[str, Any]:
    """Time every case for every available implementation.

    Parameters
    ----------
    implementations : list of Implementation
        The contestants (unavailable ones are skipped).
    repeats : int
        Timed calls per implementation and case (the median is reported).
    log : callable
        Receives one progress line per case.
    size : int
        Values per input (see :func:`make_inputs`).

    Returns
    -------
    dict
        ``{"floor": {...}, "cases": {case: {impl: {"median_ms", "min_ms",
        "vs_fastest", "vs_fastest_peer", "vs_floor"}}}}``; ``vs_fastest_peer`` is the
        ratio to the fastest of :data:`PEERS` (absent when no peer ran).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    inputs = make_inputs(size)
    base = inputs["sigmoid 1e7"][1]
    _time(lambda: np.copy(base))
    floor = statistics.median(_time(lambda: np.copy(base)) for _ in range(max(repeats, 5)))
    log(f"bandwidth floor: numpy.copy of {base.nbytes / 1e6:.0f} MB in {floor * 1e3:.1f} ms")
    live = [impl for impl in implementations if impl.available]
    cases: dict[str, Any] = {}
    for case, (fn_name, *args) in inputs.items():
        calls: dict[str, Callable[[], Any]] = {}
        for impl in live:
            fn = impl.functions[fn_name]
            calls[impl.name] = lambda fn=fn, args=args: fn(*args)
        times: dict[str, list[float]] = {name: [] for name in calls}
        failed: dict[str, str] = {}
        for name, call in calls.items():
            try:
                _time(call)
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"[:300]
        for _ in range(repeats):
            for name, call in calls.items():
                if name not in failed:
                    gc.collect()
                    times[name].append(_time(call))
        medians = {name: statistics.median(ts) for name, ts in times.items() if ts}
        fastest = min(medians.values())
        peer_times = [medians[name] for name in PEERS if name in medians]
        row: dict[str, Any] = {}
        for name in calls:
            if name in failed:
                row[name] = {"failed": failed[name]}
                continue
            row[name] = {
                "median_ms": round(medians[name] * 1e3, 2),
                "min_ms": round(min(times[name]) * 1e3, 2),
                "vs_fastest": round(medians[name] / fastest, 2),
                "vs_floor": round(medians[name] / floor, 2),
            }
            if peer_times:
                row[name]["vs_fastest_peer"] = round(medians[name] / min(peer_times), 2)
        cases[case] = row
        log(
            f"{case:26s} "
            + "  ".join(f"{n}: {r.get('median_ms', 'failed')} ms" for n, r in row.items())
        )
    return {
        "floor": {
            "what": f"numpy.copy of {size} float64 (read once, written to a new array)",
            "median_ms": round(floor * 1e3, 2),
            "gb_per_s": round(2 * base.nbytes / floor / 1e9, 2),
        },
        "values_per_case": size,
        "repeats": repeats,
        "threads": "1 for every implementation (NumPy/SciPy elementwise code is "
        "single-threaded; torch.set_num_threads(1))",
        "cases": cases,
    }


# ----------------------------------------------------------------------------- size sweep

#: Total values per input in the size sweep.
SWEEP_SIZES: tuple[int, ...] = (10**4, 10**5, 10**6, 10**7)
#: Sizes of ``run.py --quick`` (and small enough for the tests).
QUICK_SWEEP_SIZES: tuple[int, ...] = (10**3, 10**4, 10**5)
#: Row lengths K of the matrix cases, shape (size // K, K).
SWEEP_ROWS: tuple[int, ...] = (10, 1000)
#: Seconds of timed calls aimed at per implementation and case.
SWEEP_TARGET_SECONDS = 0.2
#: Bounds on the number of rounds of a case.
SWEEP_MIN_REPEATS = 5
SWEEP_MAX_REPEATS = 200

#: The cases of the sweep, in table order: (case, function, row length K or None for a
#: vector). The case names do not depend on the size.
SWEEP_CASES: tuple[tuple[str, str, int | None], ...] = (
    ("sigmoid (N,)", "sigmoid", None),
    ("log_sigmoid (N,)", "log_sigmoid", None),
    ("bce_logits (N,) (mean)", "bce_logits", None),
    *(
        (f"{fn} (N, {k})" + (" (mean)" if fn == "ce" else ""), fn, k)
        for fn in ("softmax", "log_softmax", "logsumexp", "ce")
        for k in SWEEP_ROWS
    ),
)


def _check_sweep_size(size: int) -> None:
    if size < max(SWEEP_ROWS) or any(size % k for k in SWEEP_ROWS):
        raise ValueError(f"size must be a positive multiple of {max(SWEEP_ROWS)}, got {size}")


def sweep_shape(size: int, rows: int | None) -> tuple[int, ...]:
    """The input shape of a sweep case: ``(size,)`` or ``(size // K, K)``."""
    return (size,) if rows is None else (size // rows, rows)


def sweep_inputs(size: int, seed: int = 0) -> dict[str, tuple[Any, ...]]:
    """The inputs of every sweep case at one total size: ``case -> (function, *args)``.

    Logits ~ N(0, 4**2) and labels in {0, 1} as in :func:`make_inputs`; the matrices
    are the logit vector reshaped (no copy), the integer targets are drawn per shape.

    Parameters
    ----------
    size : int
        Values per input, a positive multiple of every row length in
        :data:`SWEEP_ROWS`.
    seed : int
        Seed of the generator.
    """
    _check_sweep_size(size)
    rng = np.random.default_rng(seed)
    z = 4.0 * rng.standard_normal(size)
    y = (rng.random(size) < 0.5).astype(np.float64)
    matrices = {k: z.reshape(sweep_shape(size, k)) for k in SWEEP_ROWS}
    targets = {k: rng.integers(0, k, size=size // k) for k in SWEEP_ROWS}
    inputs: dict[str, tuple[Any, ...]] = {}
    for case, fn, k in SWEEP_CASES:
        if k is None:
            inputs[case] = (fn, z, y, "mean") if fn == "bce_logits" else (fn, z)
        elif fn == "ce":
            inputs[case] = (fn, matrices[k], targets[k], "mean")
        else:
            inputs[case] = (fn, matrices[k])
    return inputs


def sweep_repeats(
    call_seconds: Sequence[float],
    target: float = SWEEP_TARGET_SECONDS,
    lo: int = SWEEP_MIN_REPEATS,
    hi: int = SWEEP_MAX_REPEATS,
) -> int:
    """Rounds for a case: ``target`` seconds per implementation on average, in [lo, hi].

    ``call_seconds`` holds one measured call of each implementation; a round costs
    their sum, so ``ceil(target * len(call_seconds) / sum(call_seconds))`` rounds give
    each implementation ``target`` seconds when all take the same time.
    """
    if not 1 <= lo <= hi:
        raise ValueError(f"need 1 <= lo <= hi, got lo={lo}, hi={hi}")
    if not call_seconds:  # every implementation failed: nothing to time
        return lo
    per_round = sum(call_seconds)
    if per_round <= 0:  # below the timer's resolution
        return hi
    return max(lo, min(hi, math.ceil(target * len(call_seconds) / per_round)))


def _significant(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def sweep_ratios(
    medians: Mapping[str, float], floor: float, peers: Sequence[str] = PEERS
) -> dict[str, dict[str, float]]:
    """Each median as a multiple of the fastest peer and of the floor (3 significant digits).

    Parameters
    ----------
    medians : mapping
        Median seconds per implementation (failed ones left out).
    floor : float
        Median seconds of the floor (``numpy.copy``) at the same size.
    peers : sequence of str
        The names that count as peers; ``vs_fastest_peer`` is absent when none of them
        is in ``medians``.

    Returns
    -------
    dict
        ``{name: {"vs_fastest_peer": m / min(peer medians), "vs_floor": m / floor}}``.
    """
    if floor <= 0 or any(m <= 0 for m in medians.values()):
        raise ValueError("times must be positive")
    peer_times = [medians[name] for name in peers if name in medians]
    fastest_peer = min(peer_times) if peer_times else None
    out: dict[str, dict[str, float]] = {}
    for name, m in medians.items():
        row: dict[str, float] = {}
        if fastest_peer is not None:
            row["vs_fastest_peer"] = _significant(m / fastest_peer)
        row["vs_floor"] = _significant(m / floor)
        out[name] = row
    return out


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _round_robin(
    calls: Mapping[str, Callable[[], Any]], target: float, lo: int, hi: int
) -> tuple[dict[str, list[float]], dict[str, str], int]:
    """Warm-up, one probe call each to choose the rounds, then the timed rounds.

    Returns the times of the implementations that never failed, the failures
    (``name -> message``; an implementation that fails in any call is dropped), and the
    number of rounds.
    """
    failed: dict[str, str] = {}
    probe: dict[str, float] = {}
    for name, call in calls.items():
        try:
            call()
            probe[name] = _time(call)
        except Exception as exc:
            failed[name] = _failure(exc)
    repeats = sweep_repeats(list(probe.values()), target, lo, hi)
    times: dict[str, list[float]] = {name: [] for name in probe}
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, call in calls.items():
                if name in times and name not in failed:
                    try:
                        times[name].append(_time(call))
                    except Exception as exc:
                        failed[name] = _failure(exc)
    finally:
        if enabled:
            gc.enable()
    return {n: ts for n, ts in times.items() if n not in failed}, failed, repeats


def numpy_simd() -> dict[str, list[str]] | str:
    """NumPy's SIMD extensions as ``numpy.show_runtime()`` lists them.

    ``baseline``: compiled in unconditionally; ``found``: the dispatched extensions this
    CPU has and NumPy uses (``NPY_DISABLE_CPU_FEATURES`` removes some); ``not_found``:
    the dispatched ones it does not use.
    """
    try:
        umath: Any = importlib.import_module("numpy._core._multiarray_umath")
        features: dict[str, bool] = umath.__cpu_features__
        dispatch = list(umath.__cpu_dispatch__)
        return {
            "baseline": list(umath.__cpu_baseline__),
            "found": [d for d in dispatch if features.get(d)],
            "not_found": [d for d in dispatch if not features.get(d)],
        }
    except (ImportError, AttributeError) as exc:
        return f"unknown ({type(exc).__name__})"


def torch_version() -> str | None:
    """The version of the importable PyTorch, or ``None``."""
    try:
        return str(importlib.import_module("torch").__version__)
    except ImportError:
        return None


def _load() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def run_sweep(
    implementations: list[Implementation],
    sizes: Sequence[int] = SWEEP_SIZES,
    *,
    target_seconds: float = SWEEP_TARGET_SECONDS,
    min_repeats: int = SWEEP_MIN_REPEATS,
    max_repeats: int = SWEEP_MAX_REPEATS,
    log: Callable[[str], None] = print,
    seed: int = 0,
) -> dict[str, Any]:
    """Time every sweep case at every size for every available implementation.

    Parameters
    ----------
    implementations : list of Implementation
        The contestants (unavailable ones are skipped; one that raises is recorded as
        failed for that case and the sweep goes on).
    sizes : sequence of int
        Total values per input (see :func:`sweep_inputs`).
    target_seconds, min_repeats, max_repeats : float, int, int
        The adaptive number of rounds (see :func:`sweep_repeats`); ``min_repeats ==
        max_repeats`` fixes it.
    log : callable
        Receives one line per size (the floor) and per case (the ratios to the fastest
        peer).
    seed : int
        Seed of the inputs.

    Returns
    -------
    dict
        ``{"sizes": [...], "repeats": {...}, "threads", "load_average": {"start",
        "end"}, "numpy_simd", "torch", "floor": {size: {"median_ms", "min_ms",
        "repeats", "gb_per_s"}}, "cases": {case: {"function", "shape", "by_size":
        {size: {"shape", "repeats", "results": {impl: {"median_ms", "min_ms",
        "vs_fastest_peer", "vs_floor"} or {"failed": message}}}}}}}`` with the sizes
        as strings (JSON keys); ``vs_fastest_peer`` is absent when no peer ran.
    """
    if not sizes:
        raise ValueError("no sizes")
    if not 1 <= min_repeats <= max_repeats:
        raise ValueError(f"need 1 <= min_repeats <= max_repeats, got {min_repeats}, {max_repeats}")
    for size in sizes:
        _check_sweep_size(size)
    load_start = _load()
    live = [impl for impl in implementations if impl.available]
    floors: dict[str, Any] = {}
    cases: dict[str, Any] = {
        case: {"function": fn, "shape": "(N,)" if k is None else f"(N, {k})", "by_size": {}}
        for case, fn, k in SWEEP_CASES
    }
    shapes = {case: k for case, _, k in SWEEP_CASES}
    for size in sizes:
        key, label = str(size), size_label(size)
        inputs = sweep_inputs(size, seed)
        base = inputs[SWEEP_CASES[0][0]][1]
        # the floors: numpy.copy (memory) and one numpy.exp (the least arithmetic any
        # function here needs: every one takes at least one exponential per value)
        copy_times, copy_failed, copy_repeats = _round_robin(
            {"copy": _bind(np.copy, (base,)), "exp": _bind(np.exp, (base,))},
            target_seconds,
            min_repeats,
            max_repeats,
        )
        if copy_failed:  # pragma: no cover - numpy.copy does not fail
            raise RuntimeError(f"numpy.copy failed: {copy_failed['copy']}")
        floor = statistics.median(copy_times["copy"])
        floors[key] = {
            "median_ms": _significant(floor * 1e3, 4),
            "min_ms": _significant(min(copy_times["copy"]) * 1e3, 4),
            "repeats": copy_repeats,
            "gb_per_s": _significant(2 * base.nbytes / floor / 1e9),
            "exp_median_ms": _significant(statistics.median(copy_times["exp"]) * 1e3, 4),
        }
        log(
            f"{label}: floor numpy.copy of {base.nbytes / 1e6:.3g} MB in "
            f"{floor * 1e3:.4g} ms, one numpy.exp in "
            f"{statistics.median(copy_times['exp']) * 1e3:.4g} ms ({copy_repeats} calls)"
        )
        for case, (fn_name, *args) in inputs.items():
            calls: dict[str, Callable[[], Any]] = {}
            missing: dict[str, str] = {}
            for impl in live:
                fn = impl.functions.get(fn_name)
                if fn is None:
                    missing[impl.name] = f"no function {fn_name!r}"
                else:
                    calls[impl.name] = _bind(fn, args)
            times, failed, repeats = _round_robin(calls, target_seconds, min_repeats, max_repeats)
            failed.update(missing)
            medians = {name: statistics.median(ts) for name, ts in times.items()}
            ratios = sweep_ratios(medians, floor)
            results: dict[str, Any] = {}
            for impl in live:
                name = impl.name
                if name in failed:
                    results[name] = {"failed": failed[name]}
                    continue
                results[name] = {
                    "median_ms": _significant(medians[name] * 1e3, 4),
                    "min_ms": _significant(min(times[name]) * 1e3, 4),
                    **ratios[name],
                }
            shape = sweep_shape(size, shapes[case])
            cases[case]["by_size"][key] = {
                "shape": list(shape),
                "repeats": repeats,
                "results": results,
            }
            cells = "  ".join(f"{n} {ratio_cell(r)}" for n, r in results.items())
            log(f"{label:>4s} {case:24s} {shape!s:13s} {repeats:3d} calls  x fastest peer: {cells}")
    return {
        "what": "median wall time of repeated calls at each total size; vs_fastest_peer: "
        f"the median over the faster of {' and '.join(PEERS)}; vs_floor: over numpy.copy "
        "of a vector of the same size",
        "sizes": list(sizes),
        "repeats": {
            "target_seconds_per_implementation": target_seconds,
            "min": min_repeats,
            "max": max_repeats,
        },
        "threads": "1 for every implementation (NumPy/SciPy elementwise code is "
        "single-threaded; torch.set_num_threads(1))",
        "load_average": {"start": load_start, "end": _load()},
        "numpy_simd": numpy_simd(),
        "torch": torch_version(),
        "floor": floors,
        "cases": cases,
    }


def _bind(fn: Callable[..., Any], args: Sequence[Any]) -> Callable[[], Any]:
    def call() -> Any:
        return fn(*args)

    return call
