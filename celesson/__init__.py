r"""celesson: the helper package of the cross-entropy course.

Stable numerics (:mod:`celesson.numerics`), losses with PyTorch's conventions
(:mod:`celesson.losses`), their closed-form gradients (:mod:`celesson.grads`) and a
gradient checker (:mod:`celesson.gradcheck`), calibration measures and temperature
scaling (:mod:`celesson.calibration`), SymPy checks (:mod:`celesson.symbolic`, loaded on
first use) and the house plotting style (:mod:`celesson.plotting`); on top of those, the
models the chapters train (:mod:`celesson.linear`, :mod:`celesson.mlp`,
:mod:`celesson.neuron`, :mod:`celesson.optim`), the step-size radius of chapter 8
(:mod:`celesson.ghosts`), small data sets (:mod:`celesson.data`) and kernel-free widgets
(:mod:`celesson.widgets`); the chunked cross-entropy of a linear output layer
(:mod:`celesson.fused`), emulated half-precision formats (:mod:`celesson.halfprec`) and
the error-free sums the book shows (:mod:`celesson.fp`).

Modules whose name starts with an underscore are internal (checks and kernels shared
by several public modules); a module such as :mod:`celesson.losses` or
:mod:`celesson.linear` gathers the functions of a few small modules under one name.

Conventions
-----------
One rule per question, PyTorch's (and optax's, where the two agree):

* **Names.** A loss is named after its formula and its input:
  ``binary_cross_entropy`` (probabilities), ``binary_cross_entropy_with_logits``,
  ``sigmoid_focal_loss`` (binary, from logits, as in optax and torchvision),
  ``softmax_focal_loss``, ``cross_entropy`` (logits), ``nll_loss`` (log-probabilities);
  its gradient is the same name with ``_grad`` (``cross_entropy_grad``).
* **Arguments.** The prediction comes first, named for what it is (``probs``,
  ``logits``, ``log_probs``, ``pred``), and the target second, named ``target``
  (PyTorch's name; the formulas in the docstrings write them :math:`p`, :math:`z`,
  :math:`y`); every option after those two (``reduction``, ``weight``, ``gamma``,
  ``axis`` ...) is keyword-only.
  The same option has the same name everywhere: ``label_smoothing``, ``gamma`` and
  ``alpha`` (focal), ``weight``, ``pos_weight``, ``ignore_index``, ``axis``.
* **Reduction.** Every loss and its gradient default to ``reduction="mean"``, so
  ``check_gradient(lambda v: float(loss(v, t)), lambda v: loss_grad(v, t), z)`` holds
  with default arguments; ``"sum"`` and ``"none"`` (per sample) are the alternatives.
* **Class axis.** The last axis, unless an ``axis`` argument says otherwise.
* **Scalars.** A reduced loss is a NumPy ``float64`` scalar (a 0-d result is never
  returned as an array); measures of a whole data set (calibration errors, the
  Brier score) are Python ``float``.
* **Weights of a linear layer.** ``W`` has shape ``(d, K)`` in :mod:`celesson.linear`
  (logits ``X @ W``, as in the prose) and ``(K, d)`` in :class:`celesson.mlp.MLP` and
  :mod:`celesson.ghosts` (PyTorch's ``nn.Linear``, logits ``x @ W.T``).
* **Divergences.** ``kl_divergence(p, q)`` is :math:`\mathrm{KL}(p \,\|\, q)` in the
  mathematical order (the target distribution first); PyTorch's ``kl_div(input, target)``
  takes log-probabilities of :math:`q` first.
* **Training.** Two loops train everything: :func:`celesson.training.gradient_descent`
  (full batch, on a parameter array: the linear models, the single neuron) and
  :class:`celesson.minibatch.Trainer` (mini-batches, on a model, with any optimiser:
  :func:`celesson.minibatch.fit`, :class:`celesson.ghosts.SpikeRun`). Both record a
  :class:`celesson.history.History`, named series read as arrays (``h["loss"]`` or
  ``h.loss``) with the ``steps`` at which they were taken.
* **Errors.** A wrong type raises ``TypeError`` and a wrong value ``ValueError``, both
  naming the argument (one validation module, ``celesson._validation``).
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
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits_grad,
    check_gradient,
    cross_entropy_grad,
    mse_loss_grad,
    mse_sigmoid_grad,
    nll_loss_grad,
    numerical_gradient,
    sigmoid_focal_loss_grad,
    sigmoid_grad,
    softmax_focal_loss_grad,
    softmax_jacobian,
)
from .history import History
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
    kl_divergence,
    mse_loss,
    nll_loss,
    sigmoid_focal_loss,
    smooth_labels,
    softmax_focal_loss,
)
from .minibatch import Trainer, fit
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
    "History",
    "RhoController",
    "Trainer",
    "Verification",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "brier_decomposition",
    "brier_score",
    "check_gradient",
    "cross_entropy",
    "cross_entropy_grad",
    "entropy",
    "expected_calibration_error",
    "fit",
    "fit_logistic_regression",
    "fit_softmax_regression",
    "fit_temperature",
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
    "sigmoid_focal_loss",
    "sigmoid_focal_loss_grad",
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
