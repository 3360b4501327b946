"""Where celesson's time goes: each sweep case profiled at one size, helper by helper.

The size sweep (:mod:`benchmarks.speed`) says how long a function takes; this says what
the time is spent on. Each celesson case of the sweep is called repeatedly under the
standard library's deterministic profiler (``cProfile``), and the time is split by the
package function it is spent in: the ``own`` time of a function is the time of its own
lines, NumPy's ufunc calls included (a ufunc is not a Python function, so the profiler
charges it to its caller), without the package functions it calls. The row kernels are
split into small helpers (the search for each row's largest logit, the TwoSum of the
shift, the once-rounded sum, the reciprocal pair), so the split names the passes that
the accuracy adds. NumPy functions written in Python (``argmax``, ``einsum``...) are
listed under their own names.

The profiler adds a small cost to every Python-level call; the result holds the
profiled time per call next to the unprofiled one. One more figure explains the
smallest sizes: the fixed cost of one NumPy ufunc call on a one-element array, which
every pass pays once per block whatever its length.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import statistics
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import celesson

#: Total values of the profiled inputs (in the cache of the machines we measure on).
PROFILE_SIZE = 10**5
#: Smallest share of a call's time listed by name; smaller ones are summed as "other".
MIN_SHARE = 0.02

_PACKAGE_DIR = Path(celesson.__file__).resolve().parent


def ufunc_call_us(repeats: int = 7, number: int = 20_000) -> float:
    """Median time of ``numpy.add`` on one-element arrays (into a given output), in µs."""
    a, b, out = np.ones(1), np.ones(1), np.empty(1)
    times = timeit.repeat(lambda: np.add(a, b, out=out), number=number, repeat=repeats)
    return statistics.median(times) / number * 1e6


def _label(filename: str, name: str) -> str | None:
    """``celesson.<module>.<function>`` for a package function, ``numpy.<name>`` for a
    NumPy function written in Python, ``None`` for anything else (the benchmark's own
    wrappers, the profiler)."""
    path = Path(filename)
    if path.suffix == ".py" and _PACKAGE_DIR in path.resolve().parents:
        return f"celesson.{path.stem}.{name}"
    if "numpy" in path.parts:
        return f"numpy.{name}"
    if filename == "~":  # C functions and methods: np.empty, ndarray.sum, ufunc.reduce...
        method = re.fullmatch(r"<method '(\w+)' of '([\w.]+)' objects>", name)
        if method:
            return f"{method[2]}.{method[1]}"
        if name.startswith("<built-in method "):
            inner = name.removeprefix("<built-in method ").removesuffix(">")
            return "numpy." + inner.rsplit(".", 1)[-1] if inner.startswith("numpy") else inner
        return None
    return None


def profile_call(fn: Callable[[], Any], calls: int) -> dict[str, Any]:
    """Profile ``calls`` calls of ``fn``; own time per call of each function, largest first.

    Returns
    -------
    dict
        ``{"calls", "profiled_ms", "by_function": [{"function", "own_ms", "share",
        "calls_per_call"}, ...]}``: ``profiled_ms`` is the profiled time of one call,
        ``share`` each function's part of it; functions below ``MIN_SHARE`` are summed
        into one ``"other"`` entry, last.
    """
    if calls < 1:
        raise ValueError(f"calls must be at least 1, got {calls}")
    fn()  # warm: the first call allocates the kept scratch memory
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    counts: dict[str, int] = {}
    total = 0.0
    for (filename, _line, name), (_cc, ncalls, tottime, _ct, _callers) in stats.items():
        total += tottime
        label = _label(filename, name) or "other"
        own[label] = own.get(label, 0.0) + tottime
        counts[label] = counts.get(label, 0) + ncalls
    entries = []
    rest = own.pop("other", 0.0)
    counts.pop("other", None)
    for label, seconds in sorted(own.items(), key=lambda item: -item[1]):
        if seconds < MIN_SHARE * total:
            rest += seconds
            continue
        entries.append({
            "function": label,
            "own_ms": round(seconds / calls * 1e3, 4),
            "share": round(seconds / total, 3),
            "calls_per_call": round(counts[label] / calls, 1),
        })
    entries.append({"function": "other", "own_ms": round(rest / calls * 1e3, 4),
                    "share": round(rest / total, 3), "calls_per_call": None})
    return {"calls": calls, "profiled_ms": round(total / calls * 1e3, 4), "by_function": entries}


def run_profile(
    functions: dict[str, Callable[..., Any]],
    inputs: dict[str, tuple[Any, ...]],
    *,
    target_seconds: float = 0.5,
) -> dict[str, Any]:
    """Profile celesson's function of every sweep case on the inputs of one size.

    Parameters
    ----------
    functions : dict
        celesson's benchmark functions (``Implementation.functions``).
    inputs : dict
        ``case -> (function name, *args)``, as :func:`benchmarks.speed.sweep_inputs`.
    target_seconds : float
        About this much profiled time per case.
    """
    cases: dict[str, Any] = {}
    for case, (fn_name, *args) in inputs.items():
        fn = functions[fn_name]

        def call(fn: Callable[..., Any] = fn, args: list[Any] = args) -> Any:
            return fn(*args)

        once = min(timeit.repeat(call, number=1, repeat=3))
        calls = max(3, min(500, round(target_seconds / max(once, 1e-7))))
        unprofiled = min(timeit.repeat(call, number=calls, repeat=3)) / calls
        cases[case] = {"unprofiled_ms": round(unprofiled * 1e3, 4), **profile_call(call, calls)}
    return {
        "what": "own time per call of each function (cProfile; NumPy ufunc calls are "
        "charged to the package function that makes them), at one total size",
        "size": next(iter(inputs.values()))[1].size if inputs else 0,
        "ufunc_call_us": round(ufunc_call_us(), 3),
        "cases": cases,
    }
