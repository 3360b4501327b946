"""celesson: the helper package of the cross-entropy course.

Stable numerics (:mod:`celesson.numerics`), losses with PyTorch's conventions
(:mod:`celesson.losses`), their closed-form gradients and a gradient checker
(:mod:`celesson.grads`), SymPy checks (:mod:`celesson.symbolic`) and the house
plotting style (:mod:`celesson.plotting`).
"""

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
from .numerics import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax
from .symbolic import Verification, verify, verify_nonnegative

__version__ = "0.1.0"

__all__ = [
    "GradientCheck",
    "Verification",
    "__version__",
    "bce_with_logits_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "check_gradient",
    "cross_entropy",
    "cross_entropy_grad",
    "entropy",
    "focal_loss",
    "focal_loss_grad",
    "kl_divergence",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "mse_loss_grad",
    "mse_sigmoid_grad",
    "nll_loss",
    "nll_loss_grad",
    "numerical_gradient",
    "sigmoid",
    "sigmoid_grad",
    "smooth_labels",
    "softmax",
    "softmax_focal_loss",
    "softmax_focal_loss_grad",
    "softmax_jacobian",
    "verify",
    "verify_nonnegative",
]
