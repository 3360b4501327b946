r"""Measuring and fixing calibration: reliability bins, ECE, temperature scaling, Brier.

A classifier with predicted class probabilities :math:`q(x) \in \Delta^{K-1}` is
*calibrated* when, among the inputs to which it gives confidence
:math:`c = \max_k q_k(x)`, a fraction :math:`c` is classified correctly:
:math:`P(\hat y = y \mid \max_k q_k = c) = c` for every :math:`c` (the top-label
calibration of Guo et al.).  Everything here works on a batch of ``N`` probability rows
``probs`` (shape ``(N, K)``) or logits, with integer labels ``labels`` (shape ``(N,)``):

* :func:`reliability_bins` groups the examples by confidence (equal-width bins, as in
  Guo et al., or equal-mass bins) and returns, per bin, the count, the mean confidence
  and the accuracy: the data of a reliability diagram;
* :func:`expected_calibration_error` is the plug-in estimate
  :math:`\sum_b \frac{n_b}{N} |\mathrm{acc}_b - \mathrm{conf}_b|`;
  :func:`squared_calibration_error` its squared version, optionally with the bias
  correction of Kumar et al.;
* :func:`fit_temperature` finds the maximum-likelihood temperature of temperature
  scaling, :math:`q = \operatorname{softmax}(z / T)`;
* :func:`brier_score` and :func:`brier_decomposition` give the quadratic score and its
  parts (reliability, resolution, uncertainty, and the two within-bin terms that binning
  adds).

References
----------
.. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern neural
   networks", ICML 2017.
.. [2] A. Kumar, P. Liang and T. Ma, "Verified uncertainty calibration", NeurIPS 2019.
.. [3] G. W. Brier, "Verification of forecasts expressed in terms of probability",
   Monthly Weather Review 78, 1950.
.. [4] A. H. Murphy, "A new vector partition of the probability score", Journal of
   Applied Meteorology 12, 1973.
.. [5] D. B. Stephenson, C. A. S. Coelho and I. T. Jolliffe, "Two extra components in
   the Brier score decomposition", Weather and Forecasting 23, 2008.
"""

from __future__ import annotations

from .brier import BrierDecomposition, brier_decomposition, brier_score
from .reliability import (
    BINNINGS,
    ReliabilityBins,
    expected_calibration_error,
    reliability_bins,
    squared_calibration_error,
)
from .temperature import fit_temperature

__all__ = [
    "BINNINGS",
    "BrierDecomposition",
    "ReliabilityBins",
    "brier_decomposition",
    "brier_score",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_bins",
    "squared_calibration_error",
]
