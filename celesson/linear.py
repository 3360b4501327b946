r"""Linear classifiers trained by full-batch gradient descent, and the max-margin separator.

Two models, both without hidden layers:

* **logistic regression** (binary): parameters :math:`\theta \in \mathbb{R}^d`,
  logits :math:`z_n = x_n^\top \theta`, probability :math:`\sigma(z_n)` of class 1;
* **softmax regression** (multi-class): parameters :math:`W \in \mathbb{R}^{d \times K}`,
  logits :math:`z_n = x_n^\top W \in \mathbb{R}^K`, probabilities
  :math:`\operatorname{softmax}(z_n)`.

Both minimise the average loss over the :math:`N` training rows plus an optional
L2 penalty ("weight decay" :math:`\lambda \ge 0`),

.. math::

    L(\theta) = \frac1N \sum_{n=1}^N \ell(z_n, \tilde y_n) + \frac{\lambda}{2}\,\|\theta\|^2,

where :math:`\ell` is the cross-entropy (or, with ``gamma``, the focal loss of
Lin et al. 2017) and :math:`\tilde y_n` the target, label-smoothed if asked (both
conventions of :func:`celesson.smooth_labels`).  With the factor
:math:`\tfrac12` the penalty adds exactly :math:`\lambda\theta` to the gradient, the
convention of PyTorch's ``weight_decay``.  A bias is not built in: append a column of
ones with :func:`add_bias_column` (it is then penalised like every other weight).

The losses and their gradients with respect to the logits come from
:mod:`celesson.losses` and :mod:`celesson.grads`; this module only adds the chain
rule through :math:`z = X\theta`, the penalty and the training loops.

Training (:func:`fit_logistic_regression`, :func:`fit_softmax_regression`, or the
generic :func:`gradient_descent`) records the parameters, their norm and the loss
only at the steps you ask for, so a run of :math:`10^5` steps stores a handful of
snapshots.  :func:`logistic_gradient_flow` follows the small-step limit of the same
iteration to astronomically large times, and :func:`max_margin_separator` computes
the hard-margin separator that gradient descent approaches in direction on separable
data (Soudry et al. 2018).
"""

from __future__ import annotations

from .gradient_flow import log_time_gradient_flow, logistic_gradient_flow
from .max_margin import MaxMarginResult, max_margin_separator
from .regression import (
    add_bias_column,
    logistic_regression_grad,
    logistic_regression_hessian,
    logistic_regression_loss,
    logistic_regression_proba,
    softmax_regression_grad,
    softmax_regression_loss,
    softmax_regression_proba,
)
from .training import (
    fit_logistic_regression,
    fit_softmax_regression,
    gradient_descent,
)

__all__ = [
    "MaxMarginResult",
    "add_bias_column",
    "fit_logistic_regression",
    "fit_softmax_regression",
    "gradient_descent",
    "log_time_gradient_flow",
    "logistic_gradient_flow",
    "logistic_regression_grad",
    "logistic_regression_hessian",
    "logistic_regression_loss",
    "logistic_regression_proba",
    "max_margin_separator",
    "softmax_regression_grad",
    "softmax_regression_loss",
    "softmax_regression_proba",
]
