"""The fused, chunked linear cross-entropy against the textbook NumPy path: memory and speed.

The problem is a language model's output layer at a small scale: N = 1024 tokens,
hidden size d = 128, vocabulary V = 32768 (``SIZE``); hidden states and weights are
standard normal, scaled so that the logits have a standard deviation of about 2.

Two cases, each timed for both paths:

* ``loss``: the mean cross-entropy. Textbook path: ``Z = h @ W``, the log-softmax
  shifted by the row maximum, the gather of the targets, the mean.
* ``loss and gradients``: the same plus the backward pass, ``P = exp(log_softmax)``,
  minus 1 at the targets, divided by N, ``dh = P @ W.T``, ``dW = h.T @ P``; for
  celesson one call of :func:`celesson.linear_cross_entropy_grad` with
  ``return_loss=True``.

Memory: the peak of the memory allocated during one call, above what was allocated
before it, measured with :mod:`tracemalloc` (NumPy reports its array buffers to it);
the inputs are not counted, the outputs are (``dW`` is as large as ``W`` on both
paths). Speed: the median of repeated calls made in turn (one of each path per
round), on one thread (the Makefile sets ``OPENBLAS_NUM_THREADS=1``). The machine's
load average is recorded with the times: on a shared machine they are noisy.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import celesson

#: (N, d, V) of the benchmark.
SIZE = (1024, 128, 32768)
#: A small size for ``--quick`` runs and for the tests.
QUICK_SIZE = (256, 64, 4096)


def make_problem(
    n: int, d: int, v: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden states (n, d), weights (d, v) and targets (n,), seeded."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, d))
    w = rng.standard_normal((d, v)) * (2.0 / np.sqrt(d))  # logits ~ N(0, 2**2)
    t = rng.integers(0, v, size=n)
    return h, w, t


def naive_loss(h: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.float64:
    """Textbook mean cross-entropy: all N x V logits, log-softmax, gather."""
    z = h @ w
    m = z.max(axis=1, keepdims=True)
    log_p = z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
    return np.float64(-log_p[np.arange(t.size), t].mean())


def naive_loss_and_grad(
    h: np.ndarray, w: np.ndarray, t: np.ndarray
) -> tuple[np.float64, np.ndarray, np.ndarray]:
    """Textbook loss and gradients (dh, dW) of the mean cross-entropy."""
    z = h @ w
    m = z.max(axis=1, keepdims=True)
    log_p = z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
    rows = np.arange(t.size)
    loss = np.float64(-log_p[rows, t].mean())
    p = np.exp(log_p)
    p[rows, t] -= 1.0
    p /= t.size
    return loss, p @ w.T, h.T @ p


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak memory allocated while ``fn()`` runs, above the allocation before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - base


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(
    repeats: int = 15,
    size: tuple[int, int, int] = SIZE,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Memory and time of both paths in both cases, and their agreement.

    Returns
    -------
    dict
        ``{"size", "repeats", "load_average", "cases": {case: {"naive": {...},
        "celesson": {...}, "time_ratio", "memory_ratio"}}, "agreement": {...}}``;
        each path has ``median_ms``, ``min_ms`` and ``peak_mb``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    n, d, v = size
    h, w, t = make_problem(n, d, v)
    paths: dict[str, dict[str, Callable[[], Any]]] = {
        "loss": {
            "naive": lambda: naive_loss(h, w, t),
            "celesson": lambda: celesson.linear_cross_entropy(h, w, t),
        },
        "loss and gradients": {
            "naive": lambda: naive_loss_and_grad(h, w, t),
            "celesson": lambda: celesson.linear_cross_entropy_grad(h, w, t, return_loss=True),
        },
    }
    load_before = os.getloadavg()[0]
    cases: dict[str, Any] = {}
    for case, calls in paths.items():
        peaks = {name: peak_bytes(call) for name, call in calls.items()}
        for call in calls.values():
            _time(call)  # warm-up
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(repeats):
            for name, call in calls.items():
                gc.collect()
                times[name].append(_time(call))
        row: dict[str, Any] = {}
        for name in calls:
            row[name] = {
                "median_ms": round(statistics.median(times[name]) * 1e3, 1),
                "min_ms": round(min(times[name]) * 1e3, 1),
                "peak_mb": round(peaks[name] / 2**20, 2),
            }
        row["time_ratio"] = round(
            statistics.median(times["celesson"]) / statistics.median(times["naive"]), 3
        )
        row["memory_ratio"] = round(peaks["celesson"] / peaks["naive"], 4)
        cases[case] = row
        log(
            f"{case:20s} naive {row['naive']['median_ms']:8.1f} ms "
            f"{row['naive']['peak_mb']:8.1f} MB"
            f" | celesson {row['celesson']['median_ms']:8.1f} ms "
            f"{row['celesson']['peak_mb']:8.1f} MB | time x{row['time_ratio']:.2f}, "
            f"memory x{row['memory_ratio']:.4f}"
        )
    return {
        "size": {"N": n, "d": d, "V": v},
        "logits_mb": round(n * v * 8 / 2**20, 1),
        "repeats": repeats,
        "threads": "1 (OPENBLAS_NUM_THREADS=1; NumPy's elementwise code is single-threaded)",
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cases": cases,
        "agreement": agreement(h, w, t),
    }


def agreement(h: np.ndarray, w: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """How far the fused results are from the unfused celesson path on the same problem.

    The per-token losses in units of the spacing at the unfused value (itself within
    2 ULP of exact), and the largest difference of each gradient relative to the
    largest entry of that gradient.
    """
    z = h @ w
    ref = celesson.cross_entropy(z, t, reduction="none")
    g = celesson.cross_entropy_grad(z, t, reduction="mean")
    del z
    fused = celesson.linear_cross_entropy(h, w, t, reduction="none")
    dh, dw = celesson.linear_cross_entropy_grad(h, w, t)
    ref_dh, ref_dw = g @ w.T, h.T @ g
    return {
        "loss_max_spacings": float(np.max(np.abs(fused - ref) / np.spacing(ref))),
        "dh_max_rel": float(np.max(np.abs(dh - ref_dh)) / np.max(np.abs(ref_dh))),
        "dW_max_rel": float(np.max(np.abs(dw - ref_dw)) / np.max(np.abs(ref_dw))),
    }
