r"""Logistic and softmax regression: the penalised objectives, their gradients and Hessian.

Logits :math:`z = X\theta` (or :math:`XW`), the mean loss over the rows plus
:math:`\tfrac{\lambda}{2}\|\theta\|^2`, optionally label-smoothed or focal; the
conventions are described in :mod:`celesson.linear`, which re-exports everything here.
The checks of the inputs are in :mod:`celesson.design`, the binary model in
:mod:`celesson.logistic_regression`, the multi-class one in
:mod:`celesson.softmax_regression`; this module gathers them.
"""

from __future__ import annotations

from .design import (
    Array,
    add_bias_column,
    check_labels01,
    check_theta,
    check_W,
    check_X,
)
from .logistic_regression import (
    binary_objective,
    logistic_regression_grad,
    logistic_regression_hessian,
    logistic_regression_loss,
    logistic_regression_proba,
)
from .softmax_regression import (
    multi_objective,
    softmax_regression_grad,
    softmax_regression_loss,
    softmax_regression_proba,
)

__all__ = [
    "Array",
    "add_bias_column",
    "binary_objective",
    "check_W",
    "check_X",
    "check_labels01",
    "check_theta",
    "logistic_regression_grad",
    "logistic_regression_hessian",
    "logistic_regression_loss",
    "logistic_regression_proba",
    "multi_objective",
    "softmax_regression_grad",
    "softmax_regression_loss",
    "softmax_regression_proba",
]
