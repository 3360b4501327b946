r"""Complex zeros of the softmax partition function and the step sizes they allow.

Move the parameters :math:`\theta` of a softmax classifier along a unit direction
:math:`v` by a distance :math:`\tau`. To first order each logit moves on a line,

.. math::

    z_k(\theta + \tau v) \approx z_k + a_k \tau, \qquad a_k = \nabla_\theta z_k \cdot v,

so the cross-entropy of one example with label :math:`y` becomes the *line loss*

.. math::

    \ell(\tau) = -z_y - a_y \tau + \log F(\tau), \qquad
    F(\tau) = \sum_{k=1}^{K} e^{z_k + a_k \tau}.

:math:`F` is positive for real :math:`\tau` but has zeros in the complex plane. At
each zero :math:`\log F` has a branch point, so the Taylor series of :math:`\ell`
around :math:`\tau = 0` converges exactly on the open disc that reaches the nearest
zero: its radius :math:`\rho^*` is the Taylor radius of the loss along :math:`v`.

* Two classes: the zeros are :math:`\tau_m = (-\delta + i\pi(2m+1)) / (a_1 - a_2)`
  with :math:`\delta = z_1 - z_2`, so
  :math:`\rho^* = \sqrt{\delta^2 + \pi^2} / |a_1 - a_2|` (:func:`rho_binary`).
* :math:`K` classes: every zero has :math:`|\operatorname{Im}\tau| \ge \pi/\Delta_a`
  with the spread :math:`\Delta_a = \max_k a_k - \min_k a_k`, hence
  :math:`\rho^* \ge \rho_a = \pi / \Delta_a` (:func:`rho_multiclass`); over a data set
  the smallest disc wins (:func:`rho_dataset`).
* A proposed update :math:`p` moves the parameters by :math:`\tau = \lVert p\rVert`;
  the normalised step is :math:`r = \tau / \rho_a` (:func:`normalized_step`), and
  :class:`RhoController` shrinks any optimiser's update to :math:`r \le 1`.

:func:`nearest_zero` finds the nearest zero of :math:`F` for any :math:`K` without
using either formula (argument principle, contour moments and Newton polishing in
:mod:`mpmath`), so the formulas can be tested against it.
"""

from __future__ import annotations

from .partition_zeros import (
    count_zeros,
    line_loss,
    line_loss_taylor,
    log_abs_partition,
    nearest_zero,
    zeros_in_disc,
)
from .radius import (
    RhoController,
    binary_zeros,
    directional_derivatives,
    linear_logit_derivatives,
    logit_spread,
    normalized_step,
    rescale_to_radius,
    rho_binary,
    rho_dataset,
    rho_multiclass,
    update_norm,
)
from .spikes import SPIKE_RULES, SpikeRun, line_scan, spike_lr, temperature_gradients

__all__ = [
    "SPIKE_RULES",
    "RhoController",
    "SpikeRun",
    "binary_zeros",
    "count_zeros",
    "directional_derivatives",
    "line_loss",
    "line_loss_taylor",
    "line_scan",
    "linear_logit_derivatives",
    "log_abs_partition",
    "logit_spread",
    "nearest_zero",
    "normalized_step",
    "rescale_to_radius",
    "rho_binary",
    "rho_dataset",
    "rho_multiclass",
    "spike_lr",
    "temperature_gradients",
    "update_norm",
    "zeros_in_disc",
]
