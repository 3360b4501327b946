r"""The output layer of a network and the loss on it: targets, cost and output error.

A network's last layer turns logits :math:`z^L` into outputs :math:`a^L = g(z^L)` with
:math:`g` the softmax, the sigmoid (one independent unit per output) or the identity.
The cost of :class:`celesson.mlp.MLP` is read on that layer:

* ``"ce"``: softmax cross-entropy (softmax outputs) or the binary cross-entropy summed
  over the units (sigmoid outputs), both from the logits;
* ``"mse"``: :math:`\sum_j (a^L_j - y_j)^2` on the outputs;

averaged over the examples. :func:`output_delta` is the first backpropagation equation,
:math:`\delta^L = \nabla_{z^L} C_n`: :math:`a - y` for cross-entropy with either output
(the canonical links), :math:`2(a - y)\odot\sigma'(z)` for the squared error through a
sigmoid, which is why it learns slowly when the unit saturates.

References
----------
M. Nielsen, *Neural Networks and Deep Learning*, Determination Press 2015, chapters 2-3.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import check_choice
from .grads import (
    binary_cross_entropy_with_logits_grad,
    mse_sigmoid_grad,
)
from .losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .numerics import sigmoid, softmax

__all__ = [
    "LOSS_KINDS",
    "OUTPUTS",
    "apply_output",
    "check_loss_kind",
    "check_targets",
    "output_delta",
    "output_loss",
    "output_targets",
]

Array = NDArray[np.float64]

#: Output activations of :class:`celesson.mlp.MLP`.
OUTPUTS: tuple[str, ...] = ("softmax", "sigmoid", "identity")
#: The costs that can be read on the output layer (the ``kind`` of :meth:`MLP.loss`).
LOSS_KINDS: tuple[str, ...] = ("ce", "mse")


def apply_output(output: str, logits: ArrayLike) -> Array:
    r"""The output activation :math:`g(z)` of logits of shape ``(N, K)``.

    Parameters
    ----------
    output : {"softmax", "sigmoid", "identity"}
    logits : array_like of shape (N, K)

    Returns
    -------
    ndarray of shape (N, K)
        A new array (also for the identity).
    """
    z = np.asarray(logits, dtype=np.float64)
    if output == "softmax":
        return softmax(z, axis=-1)
    if output == "sigmoid":
        return sigmoid(z)
    return z.copy()


def output_targets(y: ArrayLike, num_outputs: int) -> Array:
    """Target matrix ``Y`` of shape ``(N, K)`` for labels or targets ``y``.

    Parameters
    ----------
    y : array_like
        Integer labels of shape ``(N,)``, one-hot encoded when ``K > 1`` and used as a
        column when ``K = 1``; or float targets of shape ``(N, K)`` (or ``(N,)`` when
        ``K = 1``), used as they are.
    num_outputs : int
        :math:`K`, the units of the output layer.

    Returns
    -------
    ndarray of shape (N, K)
    """
    arr = np.asarray(y)
    k = num_outputs
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        if arr.ndim != 1:
            raise ValueError(f"integer labels y must be 1-D (N,), got shape {arr.shape}")
        if k == 1:
            return arr.astype(np.float64)[:, None]
        if arr.size and (arr.min() < 0 or arr.max() >= k):
            raise ValueError(f"labels y must lie in 0..{k - 1}, got {arr.min()}..{arr.max()}")
        return np.eye(k)[arr]
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"y must hold integer labels or float targets, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if k == 1 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != k:
        raise ValueError(f"float targets y must have shape (N, {k}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("targets y must be finite")
    return arr


def check_loss_kind(kind: str, output: str) -> str:
    """``kind`` checked against :data:`LOSS_KINDS` and the output activation.

    Parameters
    ----------
    kind : {"ce", "mse"}
    output : {"softmax", "sigmoid", "identity"}
        Cross-entropy needs probabilities: not the identity.

    Returns
    -------
    str
    """
    kind = check_choice(kind, LOSS_KINDS, "kind")
    if kind == "ce" and output == "identity":
        raise ValueError('kind="ce" needs output="softmax" or "sigmoid", not "identity"')
    return kind


def check_targets(Y: Array, n: int, kind: str, output: str) -> Array:
    """Targets ``Y`` checked for ``n`` examples and the cost ``kind`` on ``output``.

    Parameters
    ----------
    Y : ndarray of shape (N, K)
        From :func:`output_targets`.
    n : int
        Examples in the batch.
    kind, output : str
        As for :func:`check_loss_kind` (already checked).

    Returns
    -------
    ndarray
        ``Y`` itself.
    """
    if Y.shape[0] != n:
        raise ValueError(f"y must have {n} rows, got {Y.shape[0]}")
    if kind == "ce" and (np.any(Y < 0.0) or np.any(Y > 1.0)):
        raise ValueError('targets y must lie in [0, 1] for kind="ce"')
    if kind == "ce" and output == "softmax" and not np.allclose(Y.sum(axis=1), 1.0):
        raise ValueError("targets y must sum to 1 per row for softmax cross-entropy")
    return Y


def output_loss(z: Array, a: Array, Y: Array, kind: str, output: str) -> float:
    r"""The cost of the batch, averaged over its ``N`` examples.

    Parameters
    ----------
    z, a : ndarray of shape (N, K)
        Logits and output activations :math:`a = g(z)`.
    Y : ndarray of shape (N, K)
        Targets, checked (:func:`check_targets`).
    kind : {"ce", "mse"}
    output : {"softmax", "sigmoid", "identity"}

    Returns
    -------
    float
    """
    n = z.shape[0]
    if kind == "mse":
        return float(mse_loss(a, Y, reduction="sum")) / n
    if output == "softmax":
        return float(cross_entropy(z, Y, reduction="mean"))
    return float(binary_cross_entropy_with_logits(z, Y, reduction="sum")) / n


def output_delta(z: Array, a: Array, Y: Array, kind: str, output: str) -> Array:
    r"""Per-example output error :math:`\delta^L = \nabla_{z^L} C_n`, shape ``(N, K)``.

    ``a - Y`` for cross-entropy (both output types); for the squared error
    :math:`2 (a - y) \odot \sigma'(z)` (sigmoid), :math:`2 (a - y)` (identity)
    or :math:`J_{\mathrm{softmax}}^\top\, 2 (a - y)` (softmax).

    Parameters
    ----------
    z, a, Y, kind, output
        As for :func:`output_loss`.

    Returns
    -------
    ndarray of shape (N, K)
    """
    if kind == "ce":
        if output == "softmax":
            # cross_entropy_grad(z, Y, reduction="none") for probability targets is
            # softmax(z) - Y, and ``a`` is that same softmax (the same kernel on the same
            # z): the forward pass's output is reused, to the bit (a test checks).
            return a - Y
        return binary_cross_entropy_with_logits_grad(z, Y, reduction="none")
    if output == "sigmoid":
        # 2 (a - y) sigma'(z), with sigma(z) - y formed without cancellation
        return mse_sigmoid_grad(z, Y, reduction="none")
    g = 2.0 * (a - Y)  # dC_n/da
    if output == "identity":
        return g
    # softmax: (J^T g)_k = a_k (g_k - sum_j a_j g_j)
    return a * (g - np.sum(a * g, axis=1, keepdims=True))
