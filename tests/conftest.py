"""Settings shared by every test module.

Floating-point signals are errors in every test: overflow, an invalid operation
(``inf - inf``, ``0/0``) and division by zero raise ``FloatingPointError`` and any
``RuntimeWarning`` fails the test, so a helper that produces an inf or a NaN on the way to
a finite result cannot pass unnoticed. Underflow is allowed (a subnormal or zero result is
often the correctly rounded one). A test that needs one of these signals says so with its
own ``np.errstate(...)`` block.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def floating_point_errors_raise() -> Iterator[None]:
    """Overflow, invalid-operation and divide-by-zero signals fail the test."""
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.fixture
def failing_kernel_starts(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, str], list[int]]:
    """``fail(n, message)``: the first ``n`` kernel starts of nbclient (and so of nbgrader)
    raise ``RuntimeError(message)``, the later ones start a kernel; returns the list that
    counts the starts."""
    import nbclient.client

    real_start = nbclient.client.NotebookClient.start_new_kernel_client

    def fail(failures: int, message: str) -> list[int]:
        starts: list[int] = []

        def start(self: Any) -> Any:
            starts.append(1)
            if len(starts) <= failures:
                raise RuntimeError(message)
            return real_start(self)

        monkeypatch.setattr(nbclient.client.NotebookClient, "start_new_kernel_client", start)
        return starts

    return fail
