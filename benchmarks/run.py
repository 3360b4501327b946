"""Accuracy and speed benchmark of celesson's numerics against NumPy formulas, SciPy and PyTorch.

Usage::

    python benchmarks/run.py                 # every part, results written to benchmarks/results/
    python benchmarks/run.py --accuracy-only
    python benchmarks/run.py --speed-only --repeats 25
    python benchmarks/run.py --sizes-only    # the speed sweep over sizes alone
    python benchmarks/run.py --quick         # small input sets, 3 repeats, prints only
    python benchmarks/run.py --fused-only    # the chunked linear cross-entropy alone

Accuracy (``results/accuracy.json``): errors in ULPs against mpmath at 50 digits over
adversarial inputs (see ``benchmarks/cases.py``). Speed (``results/speed.json``):
median times on 10**7 values, single-threaded, as ratios to the fastest
implementation and to a memory-copy floor. Size sweep (``results/speed_sizes.json``,
part of the speed part): the same functions at 10**4 to 10**7 values in all, as ratios
to the faster of SciPy and PyTorch and to the copy floor of each size. Fused
(``results/fused.json``): peak memory and median time of the chunked linear
cross-entropy against the textbook NumPy path at N = 1024, d = 128, V = 32768 (see
``benchmarks/fused.py``). Missing peers (e.g. PyTorch not installed) are listed in the
results, not fatal.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(ROOT))

from benchmarks import accuracy, fused, report, speed, timeshare, truth  # noqa: E402
from benchmarks.implementations import Implementation, all_implementations  # noqa: E402


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except ImportError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """CPU model, core count and library versions (no paths, no host names)."""
    import os

    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "torch": _version("torch"),
        "mpmath": _version("mpmath"),
        "celesson": _version("celesson"),
    }


def implementations_info(impls: list[Implementation]) -> dict[str, Any]:
    """What each implementation is, or why it is missing."""
    return {
        impl.name: (
            {"description": impl.description}
            if impl.available
            else {"unavailable": impl.unavailable}
        )
        for impl in impls
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    part = parser.add_mutually_exclusive_group()
    part.add_argument("--accuracy-only", action="store_true", help="skip the speed part")
    part.add_argument("--speed-only", action="store_true", help="skip the accuracy part")
    part.add_argument(
        "--fused-only", action="store_true", help="only the fused linear cross-entropy"
    )
    part.add_argument(
        "--sizes-only", action="store_true", help="only the speed sweep over input sizes"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small input sets and 3 repeats; writes nothing unless --out is given",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed calls per case (default 15, 3 with --quick); fixes the sweep's "
        "number of calls, which otherwise adapts to the size (5 to 200)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the JSON results (default benchmarks/results)",
    )
    args = parser.parse_args(argv)

    out = args.out if args.out is not None else (None if args.quick else report.RESULTS)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 15)
    impls = all_implementations()
    for impl in impls:
        if not impl.available:
            print(f"peer missing: {impl.name}: {impl.unavailable}")
    info = machine_info()
    print(
        f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs; numpy {info['numpy']}, "
        f"scipy {info['scipy']}, torch {info['torch']}"
    )

    if not (args.speed_only or args.fused_only or args.sizes_only):
        start = time.perf_counter()
        result = accuracy.run(impls, quick=args.quick)
        data = {
            "what": f"error in ULPs of float64 results against mpmath ({truth.DIGITS} digits): "
            "err = |x - T| / ulp(fl(T)), ulp(t) = 2**(max(e, -1022) - 52) "
            "for 2**e <= |t| < 2**(e+1)",
            "quick": args.quick,
            "versions": {
                k: v for k, v in info.items() if k not in ("cpu", "logical_cpus", "machine")
            },
            "implementations": implementations_info(impls),
            **result,
            "spots": accuracy.spots(impls),
        }
        print(report.text_table(report.ACCURACY_HEADER, report.accuracy_rows(data)))
        print(f"accuracy part: {time.perf_counter() - start:.0f} s")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "accuracy.json").write_text(report.dump(data), encoding="utf-8")

    if not (args.accuracy_only or args.fused_only or args.sizes_only):
        start = time.perf_counter()
        result = speed.run(impls, repeats=repeats)
        data = {
            "quick": args.quick,
            "machine": info,
            "implementations": implementations_info(impls),
            **result,
        }
        print(report.text_table(report.SPEED_HEADER, report.speed_rows(data)))
        print(f"speed part: {time.perf_counter() - start:.0f} s")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "speed.json").write_text(report.dump(data), encoding="utf-8")
    if not (args.accuracy_only or args.fused_only):
        start = time.perf_counter()
        sizes = speed.QUICK_SWEEP_SIZES if args.quick else speed.SWEEP_SIZES
        bounds = (
            (repeats, repeats)
            if args.quick or args.repeats is not None
            else (speed.SWEEP_MIN_REPEATS, speed.SWEEP_MAX_REPEATS)
        )
        print(
            "speed over sizes ("
            + ", ".join(report.size_label(s) for s in sizes)
            + " values): median time as a multiple of the fastest peer "
            + f"({' or '.join(speed.PEERS)})"
        )
        result = speed.run_sweep(impls, sizes, min_repeats=bounds[0], max_repeats=bounds[1])
        data = {
            "quick": args.quick,
            "machine": info,
            "implementations": implementations_info(impls),
            **result,
        }
        print(
            "celesson's median time as a multiple of the faster of "
            + " and ".join(speed.PEERS)
            + " (below 1: faster than both; - : no peer ran)"
        )
        print(report.text_table(report.sweep_header(data),
                                [*report.sweep_rows(data), report.exp_floor_row(data)]))
        print("(last row: one numpy.exp over the vector, as a multiple of the fastest "
              "peer's whole sigmoid)")
        print("one numpy.exp over as many values as each input holds, as a multiple of the "
              "faster peer's whole function: above "
              f"{report.SPEED_TARGET} no plain-NumPy implementation is within "
              f"{report.SPEED_TARGET} times "
              "the peer there")
        print(report.text_table(report.sweep_header(data), report.exp_floor_rows(data)))
        beyond = report.out_of_numpy_reach(data, report.SPEED_TARGET)
        print(f"cells out of NumPy's reach: {len(beyond)} of "
              f"{len(data['cases']) * len(data['sizes'])}")
        profile_size = timeshare.PROFILE_SIZE if not args.quick else sizes[0]
        print(f"where celesson's time goes at {report.size_label(profile_size)} values "
              f"(own time per function, cProfile; ufunc calls charged to their caller)")
        celesson_impl = next(impl for impl in impls if impl.name == "celesson")
        data["profile"] = timeshare.run_profile(
            celesson_impl.functions, speed.sweep_inputs(profile_size),
            target_seconds=0.05 if args.quick else 0.5)
        print(report.text_table(report.PROFILE_HEADER, report.profile_rows(data["profile"])))
        print(f"one ufunc call on a one-element array: {data['profile']['ufunc_call_us']:.2f} us")
        print(f"speed sweep: {time.perf_counter() - start:.0f} s")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "speed_sizes.json").write_text(report.dump(data), encoding="utf-8")
    if not (args.accuracy_only or args.sizes_only):
        start = time.perf_counter()
        print("fused linear cross-entropy against the textbook path (memory: tracemalloc peak)")
        size = fused.QUICK_SIZE if args.quick else fused.SIZE
        data = {"quick": args.quick, "machine": info, **fused.run(repeats=repeats, size=size)}
        print(f"fused part: {time.perf_counter() - start:.0f} s")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "fused.json").write_text(report.dump(data), encoding="utf-8")
    if out is not None:
        print(f"results written to {out.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
