r"""Closed-form gradients of the losses in :mod:`celesson.losses`, and a gradient checker.

Every ``*_grad`` function returns the gradient of the corresponding loss with the
same ``reduction`` with respect to its first argument (the logits unless stated
otherwise), as an array of that argument's shape:

* ``reduction="none"``: the derivative of each sample's loss with respect to its own
  inputs (the samples do not interact, so this is also the gradient of the sum);
* ``reduction="sum"``: the gradient of the summed loss (the same array);
* ``reduction="mean"``: the gradient of the mean loss, i.e. divided by the number of
  samples :math:`N` (elements for the elementwise losses, rows for the
  multi-class ones).

The default is the loss's own default, ``reduction="mean"`` (as in PyTorch, where
``loss.backward()`` differentiates the mean loss), so a loss and its gradient called with
the same arguments always belong together:
``check_gradient(lambda v: float(cross_entropy(v, t)), lambda v: cross_entropy_grad(v, t), z)``
passes for any batch. Pass ``reduction="none"`` for the per-sample derivatives.

:func:`numerical_gradient` and :func:`check_gradient` compare any of them against
central differences.

The functions live in :mod:`celesson.binary_grads`, :mod:`celesson.multiclass_grads`
and :mod:`celesson.gradcheck`; this module gathers them under one name.
"""

from __future__ import annotations

from .binary_grads import (
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits_grad,
    mse_loss_grad,
    mse_sigmoid_grad,
    sigmoid_focal_loss_grad,
    sigmoid_grad,
)
from .gradcheck import GradientCheck, check_gradient, numerical_gradient
from .multiclass_grads import (
    cross_entropy_grad,
    nll_loss_grad,
    softmax_focal_loss_grad,
    softmax_jacobian,
)

__all__ = [
    "GradientCheck",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits_grad",
    "check_gradient",
    "cross_entropy_grad",
    "mse_loss_grad",
    "mse_sigmoid_grad",
    "nll_loss_grad",
    "numerical_gradient",
    "sigmoid_focal_loss_grad",
    "sigmoid_grad",
    "softmax_focal_loss_grad",
    "softmax_jacobian",
]
