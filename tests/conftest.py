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
from collections.abc import Iterator

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def floating_point_errors_raise() -> Iterator[None]:
    """Overflow, invalid-operation and divide-by-zero signals fail the test."""
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield
