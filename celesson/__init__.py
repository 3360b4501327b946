"""celesson: the helper package of the cross-entropy course.

Stable numerics (:mod:`celesson.numerics`), losses with PyTorch's conventions
(:mod:`celesson.losses`), their closed-form gradients and a gradient checker
(:mod:`celesson.grads`), calibration measures and temperature scaling
(:mod:`celesson.calibration`), SymPy checks (:mod:`celesson.symbolic`) and the house
plotting style (:mod:`celesson.plotting`); on top of those, the models the chapters
train (:mod:`celesson.linear`, :mod:`celesson.mlp`, :mod:`celesson.neuron`,
:mod:`celesson.optim`), the step-size radius of chapter 8 (:mod:`celesson.ghosts`),
small data sets (:mod:`celesson.data`) and kernel-free widgets (:mod:`celesson.widgets`);
the chunked cross-entropy of a linear output layer (:mod:`celesson.fused`) and
emulated half-precision formats (:mod:`celesson.halfprec`).
"""

from .calibration import (
    brier_decomposition,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
    squared_calibration_error,
)
from .fused import linear_cross_entropy, linear_cross_entropy_grad
from .ghosts import (
    RhoController,
    nearest_zero,
    normalized_step,
    rho_binary,
    rho_dataset,
    rho_multiclass,
)
from .grads import (
    GradientCheck,
    bce_with_logits_grad,
    binary_cross_entropy_grad,
    check_gradient,
    cross_entropy_grad,
    focal_loss_grad,
    mse_loss_grad,
    mse_sigmoid_grad,
    nll_loss_grad,
    numerical_gradient,
    sigmoid_grad,
    softmax_focal_loss_grad,
    softmax_jacobian,
)
from .linear import (
    fit_logistic_regression,
    fit_softmax_regression,
    max_margin_separator,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    entropy,
    focal_loss,
    kl_divergence,
    mse_loss,
    nll_loss,
    smooth_labels,
    softmax_focal_loss,
)
from .mlp import MLP
from .numerics import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax
from .optim import Adam, GradientDescent

__version__ = "0.1.0"

# The SymPy checks load on first use (PEP 562): importing SymPy takes most of a second,
# and the numeric API does not need it. ``celesson.verify`` and
# ``from celesson import verify`` still work; the first access imports
# :mod:`celesson.symbolic`.
_LAZY = {"Verification": "symbolic", "verify": "symbolic", "verify_nonnegative": "symbolic"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'celesson' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "MLP",
    "Adam",
    "GradientCheck",
    "GradientDescent",
    "RhoController",
    "Verification",
    "__version__",
    "bce_with_logits_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "brier_decomposition",
    "brier_score",
    "check_gradient",
    "cross_entropy",
    "cross_entropy_grad",
    "entropy",
    "expected_calibration_error",
    "fit_logistic_regression",
    "fit_softmax_regression",
    "fit_temperature",
    "focal_loss",
    "focal_loss_grad",
    "kl_divergence",
    "linear_cross_entropy",
    "linear_cross_entropy_grad",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "max_margin_separator",
    "mse_loss",
    "mse_loss_grad",
    "mse_sigmoid_grad",
    "nearest_zero",
    "nll_loss",
    "nll_loss_grad",
    "normalized_step",
    "numerical_gradient",
    "reliability_bins",
    "rho_binary",
    "rho_dataset",
    "rho_multiclass",
    "sigmoid",
    "sigmoid_grad",
    "smooth_labels",
    "softmax",
    "softmax_focal_loss",
    "softmax_focal_loss_grad",
    "softmax_jacobian",
    "squared_calibration_error",
    "verify",
    "verify_nonnegative",
]
