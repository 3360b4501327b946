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
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.implementations import Implementation

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
