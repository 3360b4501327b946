r"""Floating-point building blocks that the book shows: error-free sums and products.

A small semi-public module: the chapter on floating point imports these to show how
the package keeps its row sums within a couple of units in the last place. The code
lives in the package-internal :mod:`celesson._summation` (which the row functions and
losses call directly); this module is its documented interface, and its names stay
stable for readers.

* :func:`two_sum` and :func:`two_sum_into`: :math:`a + b` as the rounded sum and its
  exact rounding error (Knuth's TwoSum);
* :func:`two_prod`: :math:`ab` as the rounded product and its exact rounding error;
* :func:`accurate_sum` and :func:`accurate_sum_pair`: sums of non-negative terms along
  an axis with one rounding in total (the first step of Rump, Ogita and Oishi's
  AccSum).

References
----------
Knuth, D. E. *The Art of Computer Programming*, vol. 2, 3rd ed., section 4.2.2 (1997).
Rump, S. M., Ogita, T. and Oishi, S. "Accurate floating-point summation part I:
faithful rounding", *SIAM J. Sci. Comput.* 31(1), 189-224 (2008).

Examples
--------
>>> import numpy as np
>>> s, e = two_sum(np.array(1.0), np.array(1e-17))
>>> float(s), float(e)
(1.0, 1e-17)
"""

from __future__ import annotations

from ._summation import accurate_sum, accurate_sum_pair, two_prod, two_sum, two_sum_into

__all__ = ["accurate_sum", "accurate_sum_pair", "two_prod", "two_sum", "two_sum_into"]
