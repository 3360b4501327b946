r"""A small fully connected network with hand-written backprop and forward-mode JVP.

Notation follows the usual textbook one (layer :math:`l = 1, \dots, L`): weighted
inputs :math:`z^l = W^l a^{l-1} + b^l`, activations :math:`a^l = f(z^l)` for the
hidden layers and :math:`a^L = g(z^L)` for the output layer, with :math:`a^0 = x`.

Shapes use the *batch-row* convention: a batch is a matrix ``X`` of shape
``(N, d)`` holding one example per row, so in code
``z^l = a^{l-1} @ W^l.T + b^l`` with

* ``W^l`` of shape ``(n_l, n_{l-1})`` (row ``j`` holds the weights *into* unit ``j``),
* ``b^l`` of shape ``(n_l,)``,
* ``z^l``, ``a^l`` of shape ``(N, n_l)``.

The cost is a per-example cost summed over the output units and averaged over
the ``N`` examples,

.. math::

    C = \frac1N \sum_{n=1}^N C_n, \qquad
    C_n^{\mathrm{ce}} = -\sum_j \bigl[y_j \ln a^L_j + (1-y_j)\ln(1-a^L_j)\bigr]
    \ \text{(sigmoid outputs)}, \quad
    C_n^{\mathrm{ce}} = -\sum_j y_j \ln a^L_j \ \text{(softmax outputs)}, \quad
    C_n^{\mathrm{mse}} = \sum_j (a^L_j - y_j)^2 .

Backpropagation implements the four equations

.. math::

    \delta^L = \nabla_{z^L} C_n, \qquad
    \delta^l = \bigl((W^{l+1})^\top \delta^{l+1}\bigr) \odot f'(z^l), \qquad
    \frac{\partial C}{\partial b^l} = \frac1N\sum_n \delta^l, \qquad
    \frac{\partial C}{\partial W^l} = \frac1N\sum_n \delta^l (a^{l-1})^\top ,

where :math:`\delta^L = a^L - y` for sigmoid + binary cross-entropy and for
softmax + cross-entropy, and :math:`\delta^L = 2 (a^L - y) \odot g'(z^L)` (a
Jacobian-transpose product for softmax) for the squared error.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from celesson._validation import check_choice

from .activations import (
    apply_activation,
    layer_norm,
    layer_norm_backward,
    layer_norm_tangent,
    times_derivative,
)
from .minibatch import Trainer, fit
from .output_layer import (
    LOSS_KINDS,
    OUTPUTS,
    apply_output,
    check_loss_kind,
    check_targets,
    output_delta,
    output_loss,
    output_targets,
)
from .parameters import ParameterVector

__all__ = [
    "ACTIVATIONS", "INITS", "LOSS_KINDS", "MLP", "OUTPUTS", "ForwardCache", "Trainer", "fit",
    "layer_norm",
]

Array = NDArray[np.float64]

#: Hidden-layer activations understood by :class:`MLP` ("gelu" is the tanh form).
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "gelu")
#: Weight initialisations understood by :class:`MLP`.
INITS: tuple[str, ...] = ("normal", "uniform")


class ForwardCache(NamedTuple):
    r"""Everything the forward pass computed, as needed by backprop.

    Attributes
    ----------
    normalized : list of ndarray
        With layer normalisation, ``normalized[l - 1]`` is the standardised
        :math:`\hat z^l` of hidden layer ``l`` (empty without it).
    scales : list of ndarray
        With layer normalisation, the row scales
        :math:`s^l = \sqrt{\operatorname{var} z^l + \epsilon}`, shape ``(N, 1)`` (empty without it).
    zs : list of ndarray
        ``zs[l - 1]`` is the weighted input :math:`z^l` of layer ``l = 1..L``,
        shape ``(N, n_l)``; ``zs[-1]`` are the logits.
    activations : list of ndarray
        ``activations[0]`` is the input ``X`` (``a^0``), ``activations[l]`` is
        :math:`a^l`, shape ``(N, n_l)``; ``activations[-1]`` is the output
        activation :math:`a^L = g(z^L)`.
    """

    zs: list[Array]
    activations: list[Array]
    normalized: Sequence[Array] = ()
    scales: Sequence[Array] = ()


class MLP(ParameterVector):
    r"""A fully connected network :math:`x \mapsto g(W^L f(\cdots f(W^1 x + b^1)\cdots) + b^L)`.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``(n_0, n_1, ..., n_L)``: ``n_0`` inputs, ``n_L = K``
        outputs, at least two entries, all positive.
    activation : {"sigmoid", "tanh", "relu", "gelu"}, default "sigmoid"
        Hidden-layer activation :math:`f`. ``"gelu"`` is the tanh form
        :math:`\tfrac12 z\,(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715 z^3)))`
        (PyTorch's ``GELU(approximate="tanh")``).
    output : {"softmax", "sigmoid", "identity"}, default "softmax"
        Output activation :math:`g` applied to the logits :math:`z^L`.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng` for the initial weights.
    init_scale : float, default 1.0
        Weights start as :math:`W^l_{jk} \sim \mathcal N(0, s^2 / n_{l-1})` with
        :math:`s` = ``init_scale`` (so ``1.0`` keeps the variance of the weighted
        input near that of one input); biases start at zero. Ignored with
        ``init="uniform"``.
    init : {"normal", "uniform"}, default "normal"
        ``"uniform"``: weights and biases of layer ``l`` drawn from
        :math:`\mathcal U(-1/\sqrt{n_{l-1}}, 1/\sqrt{n_{l-1}})`, the default of
        PyTorch's ``nn.Linear`` (same distribution, numpy's random stream).
    layer_norm : bool, default False
        Normalise every hidden weighted input before the activation,
        :math:`a^l = f(\gamma^l \odot \hat z^l + \beta^l)` with :math:`\hat z^l` the
        row-standardised :math:`z^l` (see :func:`layer_norm`); the gains start at 1
        and the shifts at 0.
    ln_eps : float, default 1e-5
        :math:`\epsilon` of the layer normalisation (PyTorch's default).
    Attributes
    ----------
    weights : list of ndarray
        ``weights[l - 1]`` is :math:`W^l`, shape ``(n_l, n_{l-1})``.
    biases : list of ndarray
        ``biases[l - 1]`` is :math:`b^l`, shape ``(n_l,)``.
    gains, shifts : list of ndarray
        With ``layer_norm``, :math:`\gamma^l` and :math:`\beta^l` of the hidden
        layers ``l = 1..L-1`` (empty lists without it). In :attr:`params` they follow
        the bias of their layer: ``W1, b1, gamma1, beta1, W2, ...``.

    Examples
    --------
    >>> net = MLP([4, 3, 2], activation="tanh", output="softmax", seed=1)
    >>> net.forward(np.zeros((5, 4))).shape
    (5, 2)
    >>> [p.shape for p in net.params]
    [(3, 4), (3,), (2, 3), (2,)]
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output: str = "softmax",
        seed: int = 0,
        init_scale: float = 1.0,
        *,
        init: str = "normal",
        layer_norm: bool = False,
        ln_eps: float = 1e-5,
    ) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output width, got {sizes!r}")
        for n in sizes:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"sizes must hold positive integers, got {sizes!r}")
        scale = float(init_scale)
        if not (np.isfinite(scale) and scale >= 0.0):
            raise ValueError(f"init_scale must be a finite number >= 0, got {init_scale!r}")
        self.sizes: tuple[int, ...] = tuple(int(n) for n in sizes)
        self.activation = check_choice(activation, ACTIVATIONS, "activation")
        self.output = check_choice(output, OUTPUTS, "output")
        self.init = check_choice(init, INITS, "init")
        if not isinstance(layer_norm, bool):
            raise TypeError(f"layer_norm must be a bool, got {layer_norm!r}")
        eps = float(ln_eps)
        if not (np.isfinite(eps) and eps > 0.0):
            raise ValueError(f"ln_eps must be a finite number > 0, got {ln_eps!r}")
        self.layer_norm = layer_norm
        self.ln_eps = eps
        rng = np.random.default_rng(seed)
        shapes = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        if self.init == "normal":
            self.weights: list[Array] = [
                scale / np.sqrt(n_in) * rng.standard_normal((n_out, n_in)) for n_in, n_out in shapes
            ]
            self.biases: list[Array] = [np.zeros(n_out) for n_out in self.sizes[1:]]
        else:
            self.weights, self.biases = [], []
            for n_in, n_out in shapes:
                bound = 1.0 / np.sqrt(n_in)
                self.weights.append(rng.uniform(-bound, bound, (n_out, n_in)))
                self.biases.append(rng.uniform(-bound, bound, n_out))
        hidden = self.sizes[1:-1] if layer_norm else ()
        self.gains: list[Array] = [np.ones(n) for n in hidden]
        self.shifts: list[Array] = [np.zeros(n) for n in hidden]

    # -- parameters ---------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        """Number ``L`` of weight layers (hidden layers + output layer)."""
        return len(self.weights)

    @property
    def num_outputs(self) -> int:
        """Number ``K`` of output units."""
        return self.sizes[-1]

    @property
    def params(self) -> list[Array]:
        """The parameter arrays themselves (not copies), in the order ``W1, b1, W2, b2, ...``.

        Updating an entry in place (``p += step``) updates the network.
        """
        out: list[Array] = []
        for layer, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            out += [w, b]
            if self.layer_norm and layer < self.num_layers - 1:
                out += [self.gains[layer], self.shifts[layer]]
        return out

    def _index(self, layer: int) -> int:
        """Position of ``W^layer`` in :attr:`params` (``b``, ``gamma``, ``beta`` follow)."""
        return (4 if self.layer_norm else 2) * (layer - 1)

    def copy(self) -> MLP:
        """An independent copy of the network: same class, attributes and parameters.

        A deep copy, so that an attribute added later (or by a subclass) is copied too
        and the copy's arrays share no memory with the original's.
        """
        return copy.deepcopy(self)

    # -- forward ------------------------------------------------------------------
    def _check_X(self, X: ArrayLike) -> Array:
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (N, {self.sizes[0]}), got {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError("X must hold at least one example")
        if not np.all(np.isfinite(arr)):
            raise ValueError("X must be finite")
        return arr

    def output_activation(self, logits: ArrayLike) -> Array:
        r"""Apply the output activation :math:`g` to logits of shape ``(N, K)``."""
        return apply_output(self.output, logits)

    def forward_cache(self, X: ArrayLike) -> ForwardCache:
        """Forward pass keeping every weighted input and activation.

        Parameters
        ----------
        X : array_like of shape (N, n_0)

        Returns
        -------
        ForwardCache
            ``zs`` (``z^1..z^L``) and ``activations`` (``a^0 = X, a^1, ..., a^L``).
        """
        return self._forward_cache(self._check_X(X))

    def _forward_cache(self, a: Array) -> ForwardCache:
        zs: list[Array] = []
        activations: list[Array] = [a]
        normalized: list[Array] = []
        scales: list[Array] = []
        for layer, (w, b) in enumerate(zip(self.weights, self.biases, strict=True), start=1):
            z = a @ w.T
            z += b  # in place: the bits of ``a @ w.T + b`` without a second (N, n) array
            zs.append(z)
            if layer < self.num_layers:
                if self.layer_norm:
                    h, zhat, s = layer_norm(z, self.gains[layer - 1], self.shifts[layer - 1],
                                            self.ln_eps)
                    normalized.append(zhat)
                    scales.append(s)
                else:
                    h = z
                a = apply_activation(self.activation, h)
            else:
                a = self.output_activation(z)
            activations.append(a)
        return ForwardCache(zs, activations, normalized, scales)

    def _pre_activation(self, cache: ForwardCache, layer: int) -> Array:
        """Input of the activation of hidden layer ``layer``: ``z`` or ``gamma zhat + beta``."""
        if not self.layer_norm:
            return cache.zs[layer - 1]
        return self.gains[layer - 1] * cache.normalized[layer - 1] + self.shifts[layer - 1]

    def forward(self, X: ArrayLike) -> Array:
        """Logits :math:`z^L` (before the output activation), shape ``(N, K)``."""
        return self.forward_cache(X).zs[-1]

    def predict_proba(self, X: ArrayLike) -> Array:
        """Output activations :math:`a^L = g(z^L)`, shape ``(N, K)``."""
        return self.forward_cache(X).activations[-1]

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """Predicted class: arg-max over the outputs, or ``a >= 1/2`` for one sigmoid output.

        Returns
        -------
        ndarray of shape (N,), integer labels.
        """
        a = self.predict_proba(X)
        if self.num_outputs == 1:
            threshold = 0.5 if self.output == "sigmoid" else 0.0
            return (a[:, 0] >= threshold).astype(np.int64)
        return np.argmax(a, axis=1).astype(np.int64)

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float:
        """Share of rows whose :meth:`predict` equals the integer label in ``y``."""
        labels = np.asarray(y)
        pred = self.predict(X)
        if labels.shape != pred.shape:
            raise ValueError(f"y must have shape {pred.shape}, got {labels.shape}")
        return float(np.mean(pred == labels))

    # -- targets and loss ---------------------------------------------------------
    def targets(self, y: ArrayLike) -> Array:
        """Target matrix ``Y`` of shape ``(N, K)`` for labels ``y`` (see
        :func:`celesson.output_layer.output_targets`): integer labels one-hot encoded,
        float targets used as they are."""
        return output_targets(y, self.num_outputs)

    def _prepare(self, X: ArrayLike, y: ArrayLike, kind: str) -> tuple[ForwardCache, Array]:
        kind = check_loss_kind(kind, self.output)
        cache = self.forward_cache(X)
        Y = check_targets(self.targets(y), cache.zs[-1].shape[0], kind, self.output)
        return cache, Y

    def loss(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> float:
        r"""Average cost over the batch.

        Parameters
        ----------
        X : array_like of shape (N, n_0)
        y : array_like
            Integer labels ``(N,)`` or float targets ``(N, K)``; see :meth:`targets`.
        kind : {"ce", "mse"}, default "ce"
            ``"ce"``: softmax cross-entropy (softmax outputs) or binary
            cross-entropy summed over the units (sigmoid outputs), from the
            logits; ``"mse"``: :math:`\sum_j (a^L_j - y_j)^2` on the output
            activations. Both are averaged over the ``N`` examples.

        Returns
        -------
        float
        """
        cache, Y = self._prepare(X, y, kind)
        return output_loss(cache.zs[-1], cache.activations[-1], Y, kind, self.output)

    def output_delta(self, cache: ForwardCache, Y: Array, kind: str) -> Array:
        r"""Per-example output error :math:`\delta^L = \nabla_{z^L} C_n`, shape ``(N, K)``
        (see :func:`celesson.output_layer.output_delta`)."""
        kind = check_loss_kind(kind, self.output)
        return output_delta(cache.zs[-1], cache.activations[-1], Y, kind, self.output)

    def gradients(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> list[Array]:
        """Gradient of :meth:`loss` by backpropagation (BP1-BP4).

        Returns
        -------
        list of ndarray
            ``[dC/dW1, dC/db1, dC/dW2, ...]``, same shapes and order as :attr:`params`.
        """
        cache, Y = self._prepare(X, y, kind)
        return self._backward(cache, self.output_delta(cache, Y, kind))  # BP1

    def loss_and_gradients(
        self, X: ArrayLike, y: ArrayLike, kind: str = "ce"
    ) -> tuple[float, list[Array]]:
        """:meth:`loss` and :meth:`gradients` from one forward pass.

        Parameters
        ----------
        X, y, kind
            As for :meth:`loss`.

        Returns
        -------
        (float, list of ndarray)
        """
        cache, Y = self._prepare(X, y, kind)
        value = output_loss(cache.zs[-1], cache.activations[-1], Y, kind, self.output)
        return value, self._backward(cache, self.output_delta(cache, Y, kind))

    def _backward(self, cache: ForwardCache, delta: Array) -> list[Array]:
        """BP2-BP4 from the output error ``delta`` (with layer norm between z and f)."""
        n = delta.shape[0]
        grads: list[Array] = [np.empty(0)] * len(self.params)
        for layer in range(self.num_layers, 0, -1):
            i = self._index(layer)
            a_prev = cache.activations[layer - 1]
            grads[i] = delta.T @ a_prev / n  # BP4
            grads[i + 1] = delta.sum(axis=0) / n  # BP3
            if layer > 1:  # BP2, through f and (if present) the layer norm of layer - 1
                below = layer - 1
                dh = delta @ self.weights[layer - 1]
                times_derivative(self.activation, self._pre_activation(cache, below), dh)
                if self.layer_norm:
                    zhat, s = cache.normalized[below - 1], cache.scales[below - 1]
                    j = self._index(below)
                    grads[j + 2] = np.sum(dh * zhat, axis=0) / n  # d gamma
                    grads[j + 3] = dh.sum(axis=0) / n  # d beta
                    delta = layer_norm_backward(dh, zhat, s, self.gains[below - 1])
                else:
                    delta = dh
        return grads

    def flat_gradient(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> Array:
        """:meth:`gradients` concatenated into one vector (same order as :meth:`flat_params`)."""
        return np.concatenate([g.ravel() for g in self.gradients(X, y, kind)])

    # -- forward mode ---------------------------------------------------------------
    def jvp(
        self, X: ArrayLike, direction: ArrayLike | Sequence[ArrayLike]
    ) -> tuple[Array, Array]:
        r"""Logits and their directional derivative along a parameter direction.

        With :math:`\theta` the parameters and :math:`v` the direction, returns
        :math:`z^L(\theta)` and :math:`\frac{d}{dt} z^L(\theta + t v)\big|_{t=0}`,
        computed in one forward pass (forward mode):

        .. math::

            \dot z^l = \dot a^{l-1} (W^l)^\top + a^{l-1} (\dot W^l)^\top + \dot b^l,\qquad
            \dot a^l = f'(z^l) \odot \dot z^l,\qquad \dot a^0 = 0 ;

        with layer normalisation :math:`h^l = \gamma \odot \hat z^l + \beta` sits
        between :math:`z^l` and :math:`f`, and
        :math:`\dot h^l = \dot\gamma \odot \hat z^l + \gamma \odot (\dot u - \hat z^l\,
        \overline{\hat z^l \dot u}) / s^l + \dot\beta` with :math:`\dot u = \dot z^l -
        \overline{\dot z^l}` (bars: means over the row).

        Parameters
        ----------
        X : array_like of shape (N, n_0)
        direction : list of arrays shaped like :attr:`params`, or flat vector (num_params,)

        Returns
        -------
        logits, dlogits : ndarray of shape (N, K)
        """
        dirs = self._structured(direction, "direction")
        a = self._check_X(X)
        return self._jvp(a, dirs)

    def _jvp(self, a: Array, dirs: list[Array]) -> tuple[Array, Array]:
        da = None  # the input does not move
        for layer in range(1, self.num_layers + 1):
            i = self._index(layer)
            w, b = self.weights[layer - 1], self.biases[layer - 1]
            dw, db = dirs[i], dirs[i + 1]
            # in place, in the order of ``a @ w.T + b`` and ``da @ w.T + a @ dw.T + db``
            # (the same bits): a fresh (N, n) temporary per term costs more than the
            # products on a probe of a few thousand rows
            z = a @ w.T
            z += b
            if da is None:
                dz = a @ dw.T
            else:
                dz = da @ w.T
                dz += a @ dw.T
            dz += db
            if layer < self.num_layers:
                if self.layer_norm:
                    gain, shift = self.gains[layer - 1], self.shifts[layer - 1]
                    h, zhat, s = layer_norm(z, gain, shift, self.ln_eps)
                    dh = dirs[i + 2] * zhat + gain * layer_norm_tangent(dz, zhat, s) + dirs[i + 3]
                else:
                    h, dh = z, dz
                a = apply_activation(self.activation, h)
                da = times_derivative(self.activation, h, dh)  # dz is not needed again
        return z, dz

    def __repr__(self) -> str:
        extra = ", layer_norm=True" if self.layer_norm else ""
        return (
            f"MLP(sizes={list(self.sizes)}, activation={self.activation!r}, "
            f"output={self.output!r}{extra})"
        )
