r"""Loss functions for probabilities and logits, with PyTorch's conventions.

Conventions shared by every function here:

* The class axis is the last one unless an ``axis`` argument says otherwise.
* ``reduction`` is ``"mean"`` (average over the batch; an empty batch raises),
  ``"sum"`` or ``"none"`` (per-sample losses).  ``"mean"`` and ``"sum"`` return a
  NumPy ``float64`` scalar; ``"none"`` returns an array, or a ``float64`` scalar for
  a single sample.
* Elementwise binary losses take two arguments of the same shape; either one may
  also be a scalar, which is broadcast (handy for plotting a loss curve).
* Where the mathematics gives :math:`+\infty` (for example :math:`-\log 0`), the
  result is ``inf``: nothing is clamped.  Terms :math:`0 \cdot \log 0` are 0.
* Losses are computed as sums of non-negative terms, so that small losses keep
  their relative accuracy (a loss of :math:`10^{-30}` is returned as
  :math:`10^{-30}`, not 0).

The functions live in :mod:`celesson.binary_losses` (binary and regression losses) and
:mod:`celesson.multiclass_losses` (multi-class losses and the information measures);
this module gathers them under one name.
"""

from __future__ import annotations

from .binary_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse_loss,
    sigmoid_focal_loss,
)
from .multiclass_losses import (
    cross_entropy,
    entropy,
    kl_divergence,
    nll_loss,
    smooth_labels,
    softmax_focal_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "entropy",
    "kl_divergence",
    "mse_loss",
    "nll_loss",
    "sigmoid_focal_loss",
    "smooth_labels",
    "softmax_focal_loss",
]
