"""nbgrader preprocessors that record where autograding spends its time.

Subclasses of nbgrader's own ``Execute``, ``SaveAutoGrades`` and ``OverwriteCells``,
put in place through nbgrader's configuration (``Autograde.autograde_preprocessors``,
``Autograde.sanitize_preprocessors``): they behave exactly as nbgrader's and append one
JSON line per call to ``$GRADING_TIMING_DIR/<pid>.jsonl``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from forked_kernels import ForkedExecute
from nbgrader.preprocessors import Execute, OverwriteCells, SaveAutoGrades


def _record(kind: str, seconds: float, **extra: Any) -> None:
    folder = os.environ.get("GRADING_TIMING_DIR")
    if folder:
        with open(Path(folder) / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, "seconds": seconds, **extra}) + "\n")


class _TimedExecution:
    """Records kernel start-up, cell execution and the whole run of an Execute."""

    _kernel_s: float
    _cells_s: float

    def start_new_kernel(self, **kwargs: Any) -> None:
        start = time.perf_counter()
        super().start_new_kernel(**kwargs)
        self._kernel_s += time.perf_counter() - start

    def start_new_kernel_client(self) -> Any:
        start = time.perf_counter()
        client = super().start_new_kernel_client()
        self._kernel_s += time.perf_counter() - start
        return client

    def preprocess_cell(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return super().preprocess_cell(*args, **kwargs)
        finally:
            self._cells_s += time.perf_counter() - start

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        self._kernel_s, self._cells_s = 0.0, 0.0
        start = time.perf_counter()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            total = time.perf_counter() - start
            _record("execute", total, kernel_start=self._kernel_s, cells=self._cells_s)


class TimedExecute(_TimedExecution, Execute):
    """nbgrader's Execute (a new Python process per kernel), timed."""


class TimedForkedExecute(_TimedExecution, ForkedExecute):
    """``make grade``'s Execute (kernels forked from a preloaded process), timed."""


class TimedSaveAutoGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades (writes the scores to the gradebook), timed."""

    def preprocess(self, nb: Any, resources: Any) -> Any:
        start = time.perf_counter()
        try:
            return super().preprocess(nb, resources)
        finally:
            _record("database", time.perf_counter() - start)


class TimedOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells (reads the master cells from the gradebook), timed."""

    def preprocess(self, nb: Any, resources: Any) -> Any:
        start = time.perf_counter()
        try:
            return super().preprocess(nb, resources)
        finally:
            _record("database", time.perf_counter() - start)


def timing_config(forked: bool = True) -> Any:
    """The nbgrader settings that swap the timed preprocessors in (with kernels forked
    as ``make grade`` does, or nbgrader's standard ones)."""
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    swap = {Execute: TimedForkedExecute if forked else TimedExecute,
            SaveAutoGrades: TimedSaveAutoGrades,
            OverwriteCells: TimedOverwriteCells}
    config = Config()
    traits = Autograde.class_traits()
    for name in ("sanitize_preprocessors", "autograde_preprocessors"):
        config.Autograde[name] = [swap.get(p, p) for p in traits[name].default()]
    return config
