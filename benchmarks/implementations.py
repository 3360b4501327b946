"""The implementations compared by the benchmark, behind one small interface.

Every implementation offers the same eight float64 functions on NumPy arrays:

``sigmoid(z)``, ``log_sigmoid(z)``, ``softmax(Z)``, ``log_softmax(Z)``,
``logsumexp(Z)`` (over the last axis), ``bce_prob(p, y, reduction)``,
``bce_logits(z, y, reduction)`` and ``ce(Z, t, reduction)`` (integer targets),
with ``reduction`` in ``"none"`` / ``"mean"``.

* ``celesson``: the course package.
* ``naive``: the textbook formulas, written the way they are printed.
* ``scipy``: :mod:`scipy.special` (``expit``, ``log_expit``, ``softmax``,
  ``log_softmax``, ``logsumexp``, ``xlogy``, ``xlog1py``).
* ``torch``: PyTorch on the CPU in float64 (optional; pinned to one thread).

A peer that cannot be imported is reported as unavailable, with the reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
FUNCTIONS: tuple[str, ...] = (
    "sigmoid",
    "log_sigmoid",
    "softmax",
    "log_softmax",
    "logsumexp",
    "bce_prob",
    "bce_logits",
    "ce",
)


@dataclass
class Implementation:
    """A named set of the benchmarked functions (``None`` where it has none)."""

    name: str
    description: str
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    unavailable: str | None = None

    @property
    def available(self) -> bool:
        """Whether the implementation could be loaded."""
        return self.unavailable is None


def _reduce(loss: FloatArray, reduction: str) -> FloatArray | float:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return float(np.mean(loss))
    raise ValueError(f"reduction must be 'none' or 'mean', got {reduction!r}")


def _rows(n: int) -> NDArray[np.intp]:
    return np.arange(n)


def naive() -> Implementation:
    """The textbook formulas, evaluated as written (floating-point warnings silenced)."""

    def sigmoid(z: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            return 1.0 / (1.0 + np.exp(-z))

    def log_sigmoid(z: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            return np.log(sigmoid(z))

    def softmax(z: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            e = np.exp(z)
            return e / np.sum(e, axis=-1, keepdims=True)

    def log_softmax(z: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            return np.log(softmax(z))

    def logsumexp(z: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            return np.log(np.sum(np.exp(z), axis=-1))

    def bce_prob(p: FloatArray, y: FloatArray, reduction: str = "none") -> Any:
        with np.errstate(all="ignore"):
            return _reduce(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)), reduction)

    def bce_logits(z: FloatArray, y: FloatArray, reduction: str = "none") -> Any:
        return bce_prob(sigmoid(z), y, reduction)

    def ce(z: FloatArray, t: NDArray[np.int64], reduction: str = "none") -> Any:
        with np.errstate(all="ignore"):
            return _reduce(-np.log(softmax(z)[_rows(z.shape[0]), t]), reduction)

    return Implementation(
        "naive",
        "textbook formulas: 1/(1+exp(-z)), log of that, exp(z)/sum(exp(z)), "
        "log(sum(exp(z))), -(y log p + (1-y) log(1-p)), BCE of sigmoid(z), -log softmax(z)[t]",
        {
            "sigmoid": sigmoid,
            "log_sigmoid": log_sigmoid,
            "softmax": softmax,
            "log_softmax": log_softmax,
            "logsumexp": logsumexp,
            "bce_prob": bce_prob,
            "bce_logits": bce_logits,
            "ce": ce,
        },
    )


def scipy_special() -> Implementation:
    """scipy.special's building blocks."""
    try:
        special = importlib.import_module("scipy.special")
    except ImportError as exc:  # pragma: no cover - scipy is in the requirements
        return Implementation("scipy", "scipy.special", unavailable=f"not installed ({exc})")

    def bce_prob(p: FloatArray, y: FloatArray, reduction: str = "none") -> Any:
        return _reduce(-(special.xlogy(y, p) + special.xlog1py(1.0 - y, -p)), reduction)

    def bce_logits(z: FloatArray, y: FloatArray, reduction: str = "none") -> Any:
        loss = -(y * special.log_expit(z) + (1.0 - y) * special.log_expit(-z))
        return _reduce(loss, reduction)

    def ce(z: FloatArray, t: NDArray[np.int64], reduction: str = "none") -> Any:
        return _reduce(-special.log_softmax(z, axis=-1)[_rows(z.shape[0]), t], reduction)

    return Implementation(
        "scipy",
        "scipy.special: expit, log_expit, softmax, log_softmax, logsumexp; "
        "BCE = -(xlogy(y, p) + xlog1py(1-y, -p)) and "
        "-(y log_expit(z) + (1-y) log_expit(-z)); CE = -log_softmax(z)[t]",
        {
            "sigmoid": special.expit,
            "log_sigmoid": special.log_expit,
            "softmax": lambda z: special.softmax(z, axis=-1),
            "log_softmax": lambda z: special.log_softmax(z, axis=-1),
            "logsumexp": lambda z: special.logsumexp(z, axis=-1),
            "bce_prob": bce_prob,
            "bce_logits": bce_logits,
            "ce": ce,
        },
    )


def torch_cpu() -> Implementation:
    """PyTorch on the CPU, float64, one thread."""
    try:
        torch = importlib.import_module("torch")
        functional = importlib.import_module("torch.nn.functional")
    except ImportError as exc:
        return Implementation(
            "torch", "PyTorch (CPU, float64)", unavailable=f"not installed ({exc})"
        )
    torch.set_num_threads(1)

    def wrap(fn: Callable[..., Any]) -> Callable[..., FloatArray]:
        def call(z: FloatArray) -> FloatArray:
            return fn(torch.from_numpy(z)).numpy()

        return call

    def loss(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(a: FloatArray, b: NDArray[Any], reduction: str = "none") -> Any:
            out = fn(torch.from_numpy(a), torch.from_numpy(b), reduction=reduction)
            return out.numpy() if reduction == "none" else float(out)

        return call

    return Implementation(
        "torch",
        f"PyTorch {torch.__version__.split('+')[0]} on the CPU, float64, 1 thread: "
        "torch.sigmoid, F.logsigmoid, torch.softmax, torch.log_softmax, torch.logsumexp, "
        "F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.cross_entropy",
        {
            "sigmoid": wrap(torch.sigmoid),
            "log_sigmoid": wrap(functional.logsigmoid),
            "softmax": wrap(lambda z: torch.softmax(z, dim=-1)),
            "log_softmax": wrap(lambda z: torch.log_softmax(z, dim=-1)),
            "logsumexp": wrap(lambda z: torch.logsumexp(z, dim=-1)),
            "bce_prob": loss(functional.binary_cross_entropy),
            "bce_logits": loss(functional.binary_cross_entropy_with_logits),
            "ce": loss(functional.cross_entropy),
        },
    )


def celesson() -> Implementation:
    """The course package."""
    try:
        pkg = importlib.import_module("celesson")
        names = {
            "sigmoid": pkg.sigmoid,
            "log_sigmoid": pkg.log_sigmoid,
            "softmax": pkg.softmax,
            "log_softmax": pkg.log_softmax,
            "logsumexp": pkg.logsumexp,
            "binary_cross_entropy": pkg.binary_cross_entropy,
            "binary_cross_entropy_with_logits": pkg.binary_cross_entropy_with_logits,
            "cross_entropy": pkg.cross_entropy,
        }
    except (ImportError, AttributeError) as exc:
        return Implementation("celesson", "celesson", unavailable=f"not importable ({exc})")

    def bce_prob(p: FloatArray, y: FloatArray, reduction: str = "none") -> Any:
        return names["binary_cross_entropy"](p, y, reduction=reduction)

    def bce_logits(z: FloatArray, y: FloatArray, reduction: str = "none") -> Any:
        return names["binary_cross_entropy_with_logits"](z, y, reduction=reduction)

    def ce(z: FloatArray, t: NDArray[np.int64], reduction: str = "none") -> Any:
        return names["cross_entropy"](z, t, reduction=reduction)

    return Implementation(
        "celesson",
        "the course package: sigmoid, log_sigmoid, softmax, log_softmax, logsumexp, "
        "binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy",
        {
            "sigmoid": names["sigmoid"],
            "log_sigmoid": names["log_sigmoid"],
            "softmax": lambda z: names["softmax"](z, axis=-1),
            "log_softmax": lambda z: names["log_softmax"](z, axis=-1),
            "logsumexp": lambda z: names["logsumexp"](z, axis=-1),
            "bce_prob": bce_prob,
            "bce_logits": bce_logits,
            "ce": ce,
        },
    )


def all_implementations() -> list[Implementation]:
    """Every implementation, the course package first."""
    return [celesson(), naive(), scipy_special(), torch_cpu()]
