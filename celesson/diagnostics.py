r"""Per-layer diagnostics of a network: how large the gradient is in each layer.

Backpropagation (BP2 in :mod:`celesson.mlp`) carries the error of layer :math:`l + 1`
back to layer :math:`l` as

.. math::

    \delta^l = \bigl((W^{l+1})^\top \delta^{l+1}\bigr) \odot f'(z^l),

so every hidden layer multiplies the error by the slope :math:`f'(z^l)` of its own
activation. The choice of loss only sets :math:`\delta^L`: cross-entropy removes the
factor :math:`\sigma'(z^L)` of the *output* layer, the hidden layers keep theirs. For
sigmoid units :math:`\sigma' \le \tfrac14`, and the gradient of a deep sigmoid network
shrinks layer by layer towards the input (the vanishing gradient). The function here
measures that: the norm of :math:`\partial C / \partial W^l` for every layer.

References
----------
.. [1] M. A. Nielsen, *Neural Networks and Deep Learning*, Determination Press, 2015,
   chapter 5 ("Why are deep neural networks hard to train?").
.. [2] X. Glorot and Y. Bengio, "Understanding the difficulty of training deep
   feedforward neural networks", AISTATS 2010.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from celesson.mlp import MLP

__all__ = ["layer_gradient_norms"]


def layer_gradient_norms(
    model: MLP, X: ArrayLike, y: ArrayLike, *, kind: str = "ce"
) -> NDArray[np.float64]:
    r"""Frobenius norm of the weight gradient of every layer, input layer first.

    .. math::

        g_l = \Bigl\| \frac{\partial C}{\partial W^l} \Bigr\|_F
            = \Bigl(\sum_{j,k} \Bigl(\frac{\partial C}{\partial W^l_{jk}}\Bigr)^2\Bigr)^{1/2},
        \qquad l = 1, \dots, L,

    with :math:`C` the average cost of :meth:`celesson.mlp.MLP.loss` on the batch
    ``(X, y)`` and the gradient from :meth:`celesson.mlp.MLP.gradients` (BP1-BP4).

    Parameters
    ----------
    model : MLP
        The network (not changed).
    X : array_like of shape (N, n_0)
        Inputs, one example per row.
    y : array_like
        Integer labels ``(N,)`` or float targets ``(N, K)``, as for :meth:`MLP.loss`.
    kind : {"ce", "mse"}, default "ce"
        The loss whose gradient is measured.

    Returns
    -------
    numpy.ndarray of shape (L,)
        ``g[l - 1]`` is the norm for layer ``l``; ``g[-1]`` is the output layer.

    Examples
    --------
    >>> net = MLP([4, 3, 3, 2], activation="sigmoid", output="sigmoid", seed=0)
    >>> layer_gradient_norms(net, np.ones((5, 4)), np.array([0, 1, 0, 1, 1])).shape
    (3,)

    References
    ----------
    .. [1] M. A. Nielsen, *Neural Networks and Deep Learning*, 2015, chapter 5.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an MLP, got {type(model).__name__}")
    grads = model.gradients(X, y, kind)
    return np.array([float(np.linalg.norm(g)) for g in grads[0::2]])
