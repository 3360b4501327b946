r"""Hidden-layer activations of :class:`celesson.mlp.MLP` and layer normalisation.

The activations (sigmoid, tanh, ReLU and the tanh form of GELU of Hendrycks and Gimpel
2016) with their derivatives, and :func:`layer_norm` (Ba et al. 2016) with its backward
pass and its tangent (the directional derivative used by the step-size radius).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .grads import sigmoid_grad
from .numerics import sigmoid

Array = NDArray[np.float64]

_GELU_C = float(np.sqrt(2.0 / np.pi))
_GELU_K = 0.044715


def _gelu_gate(z: Array) -> tuple[Array, Array]:
    r"""The gate of the tanh form of GELU and the argument of its sigmoid.

    :math:`\tfrac12(1 + \tanh u) = \sigma(2u)` with :math:`u = c (z + k z^3)`, so
    :math:`\mathrm{GELU}(z) = z\,\sigma(2u)`; the sigmoid is evaluated in the form that
    never overflows, :math:`1/(1+e^{-|w|})` or :math:`e^{-|w|}/(1+e^{-|w|})` by the sign of w.
    """
    w = (2.0 * _GELU_C) * z * (1.0 + _GELU_K * z * z)
    e = np.exp(-np.abs(w))
    gate = np.where(w >= 0.0, 1.0, e) / (1.0 + e)
    return gate, w


def apply_activation(name: str, z: Array) -> Array:
    r"""The hidden-layer activation :math:`f(z)`, elementwise.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "gelu"}
        GELU is the tanh form, :math:`z\,\sigma\bigl(2c(z + 0.044715 z^3)\bigr)`,
        :math:`c = \sqrt{2/\pi}`.
    z : ndarray
        Weighted inputs.

    Returns
    -------
    ndarray, shaped like ``z``
    """
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "gelu":
        return z * _gelu_gate(z)[0]
    return np.maximum(z, 0.0)


def activation_derivative(name: str, z: Array) -> Array:
    r"""The derivative :math:`f'(z)` of :func:`apply_activation`, elementwise.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "gelu"}
    z : ndarray
        Weighted inputs (ReLU's derivative is taken as 0 at 0).

    Returns
    -------
    ndarray, shaped like ``z``
    """
    if name == "sigmoid":
        return sigmoid_grad(z)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "gelu":
        gate, _ = _gelu_gate(z)
        # d/dz [z sigma(w)] = sigma(w) + z sigma(w) (1 - sigma(w)) w'(z), w' = 2c (1 + 3k z^2)
        return gate * (1.0 + z * (1.0 - gate) * (2.0 * _GELU_C) * (1.0 + 3.0 * _GELU_K * z * z))
    return (z > 0.0).astype(np.float64)


def times_derivative(name: str, z: Array, v: Array) -> Array:
    r"""The product :math:`v \odot f'(z)` of a tangent or an error with the derivative.

    The same bits as ``v * activation_derivative(name, z)``, written into ``v``: ReLU's
    derivative is the 0/1 mask ``z > 0``, multiplied in as it is, without a float copy.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "gelu"}
    z : ndarray
        Weighted inputs.
    v : ndarray of float64, shaped like ``z``
        Overwritten with the product.

    Returns
    -------
    ndarray
        ``v`` itself.
    """
    if name == "relu":
        return np.multiply(v, z > 0.0, out=v)
    v *= activation_derivative(name, z)
    return v


def layer_norm(z: Array, gain: Array, shift: Array, eps: float) -> tuple[Array, Array, Array]:
    r"""Layer normalisation of each row: :math:`h = \gamma \odot (z - \mu)/s + \beta`.

    With :math:`\mu = \frac1n\sum_j z_j` and :math:`s = \sqrt{\frac1n\sum_j (z_j-\mu)^2 + \epsilon}`
    (the biased variance, as in PyTorch's ``LayerNorm``).

    Parameters
    ----------
    z : ndarray of shape (N, n)
    gain, shift : ndarray of shape (n,)
        :math:`\gamma` and :math:`\beta`.
    eps : float
        :math:`\epsilon > 0`.

    Returns
    -------
    h, zhat, s : the output ``(N, n)``, the standardised rows :math:`\hat z = (z-\mu)/s`
        and the scales :math:`s` of shape ``(N, 1)``.

    References
    ----------
    Ba, Kiros and Hinton, "Layer Normalization", arXiv:1607.06450 (2016) :cite:`ba2016layernorm`.
    """
    u = z - np.mean(z, axis=1, keepdims=True)
    s = np.sqrt(np.mean(u * u, axis=1, keepdims=True) + eps)
    zhat = u / s
    return gain * zhat + shift, zhat, s


def layer_norm_backward(dh: Array, zhat: Array, s: Array, gain: Array) -> Array:
    r"""Backward pass of :func:`layer_norm`: the gradient in :math:`z` from the one in :math:`h`.

    :math:`\partial z = \bigl(g - \bar g - \hat z\,\overline{g \hat z}\bigr)/s` with
    :math:`g = \gamma \odot \partial h` and bars the means over each row.

    Parameters
    ----------
    dh : ndarray of shape (N, n)
        Gradient of the cost in the layer's output :math:`h`.
    zhat, s : ndarray
        The standardised rows ``(N, n)`` and scales ``(N, 1)`` of the forward pass.
    gain : ndarray of shape (n,)
        :math:`\gamma`.

    Returns
    -------
    ndarray of shape (N, n)
    """
    # d zhat = dh * gain;  dz = (dzhat - mean(dzhat) - zhat * mean(dzhat * zhat)) / s
    dzhat = dh * gain
    return (
        dzhat
        - np.mean(dzhat, axis=1, keepdims=True)
        - zhat * np.mean(dzhat * zhat, axis=1, keepdims=True)
    ) / s


def layer_norm_tangent(dz: Array, zhat: Array, s: Array) -> Array:
    r"""Forward-mode derivative of the standardisation :math:`\hat z` of :func:`layer_norm`.

    :math:`\dot{\hat z} = \bigl(\dot u - \hat z\,\overline{\hat z \dot u}\bigr)/s` with
    :math:`\dot u = \dot z - \overline{\dot z}` (bars: means over each row).

    Parameters
    ----------
    dz : ndarray of shape (N, n)
        Tangent of the weighted inputs.
    zhat, s : ndarray
        The standardised rows ``(N, n)`` and scales ``(N, 1)`` of the forward pass.

    Returns
    -------
    ndarray of shape (N, n)
    """
    # forward mode: d zhat = (du - zhat * mean(zhat * du)) / s with du = dz - mean(dz)
    du = dz - np.mean(dz, axis=1, keepdims=True)
    return (du - zhat * np.mean(zhat * du, axis=1, keepdims=True)) / s
