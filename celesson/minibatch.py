r"""Mini-batch training of a network: :func:`fit` and the interfaces it relies on.

:func:`fit` trains any model with ``params``, ``gradients``, ``loss`` and ``accuracy``
(a :class:`Trainable`, such as :class:`celesson.mlp.MLP`) with any optimiser that has
``step(params, grads)`` (an :class:`Optimizer`, such as :class:`celesson.optim.Adam`),
and records a history of the loss and accuracy per epoch. Re-exported by
:mod:`celesson.mlp`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array

__all__ = ["Optimizer", "Trainable", "fit"]

Array = NDArray[np.float64]


class Trainable(Protocol):
    """What :func:`fit` needs of a model."""

    @property
    def params(self) -> list[Array]: ...

    def gradients(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> list[Array]: ...

    def loss(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> float: ...

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float: ...


class Optimizer(Protocol):
    """What :func:`fit` needs of an optimiser: one in-place update of the parameters.

    An optimiser whose update depends on the examples of the batch as well (such as
    :class:`celesson.ghosts.RhoController` without a probe set, which measures the
    radius on them) says so with a true attribute ``measures_on_batch``; :func:`fit`
    then calls ``step(params, grads, X_batch)``.
    """

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> object: ...


def fit(
    model: Trainable,
    X: ArrayLike,
    y: ArrayLike,
    *,
    optimizer: Optimizer,
    epochs: int,
    kind: str = "ce",
    batch_size: int | None = None,
    seed: int = 0,
    X_eval: ArrayLike | None = None,
    y_eval: ArrayLike | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` in place with mini-batch gradient steps.

    Each epoch shuffles the rows with ``numpy.random.default_rng(seed)`` and
    takes one ``optimizer.step(model.params, grads)`` per batch (see
    :mod:`celesson.optim`).

    Parameters
    ----------
    model : Trainable
        A :class:`celesson.mlp.MLP`, or any model with ``params``, ``gradients``,
        ``loss`` and ``accuracy`` like it.
    X, y : training inputs ``(N, n_0)`` and labels/targets (see :meth:`MLP.targets`)
    optimizer : object with ``step(params, grads)``
        E.g. :class:`celesson.optim.GradientDescent` or :class:`celesson.optim.Adam`;
        one with a true ``measures_on_batch`` (a :class:`celesson.ghosts.RhoController`)
        is given the batch too, ``step(params, grads, X_batch)``.
    epochs : int
        Number of passes over the data, >= 0.
    kind : {"ce", "mse"}
        Loss to minimise.
    batch_size : int or None
        Rows per step; ``None`` means the full batch.
    seed : int
        Seed of the shuffling.
    X_eval, y_eval : optional held-out inputs and integer labels
        When given, the history also records their loss and accuracy.

    Returns
    -------
    dict
        ``"loss"`` and ``"accuracy"`` on the training set (and ``"eval_loss"``,
        ``"eval_accuracy"`` when evaluation data are given), one entry per epoch
        plus the initial state (length ``epochs + 1``).
    """
    if not all(callable(getattr(model, m, None)) for m in ("gradients", "loss", "accuracy")):
        raise TypeError(
            f"model must have gradients, loss and accuracy methods (an MLP), "
            f"got {type(model).__name__}"
        )
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError("optimizer must have a step(params, grads) method")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    Xa = as_float_array(X, "X")
    if Xa.ndim != 2 or Xa.shape[0] == 0:
        raise ValueError(f"X must have shape (N, n_0) with N >= 1, got {Xa.shape}")
    ya = np.asarray(y)
    n = Xa.shape[0]
    if ya.shape[0] != n:
        raise ValueError(f"y must have {n} rows, got {ya.shape[0]}")
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int or None, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    evaluate = X_eval is not None and y_eval is not None
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if evaluate:
        history.update(eval_loss=[], eval_accuracy=[])

    def record() -> None:
        history["loss"].append(model.loss(Xa, ya, kind))
        if ya.ndim == 1 and np.issubdtype(ya.dtype, np.integer):
            history["accuracy"].append(model.accuracy(Xa, ya))
        else:
            history["accuracy"].append(float("nan"))
        if X_eval is not None and y_eval is not None:
            history["eval_loss"].append(model.loss(X_eval, y_eval, kind))
            history["eval_accuracy"].append(model.accuracy(X_eval, y_eval))

    on_batch = bool(getattr(optimizer, "measures_on_batch", False))
    rng = np.random.default_rng(seed)
    record()
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size < n else np.arange(n)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            grads = model.gradients(Xa[rows], ya[rows], kind)
            if on_batch:
                optimizer.step(model.params, grads, Xa[rows])  # type: ignore[call-arg]
            else:
                optimizer.step(model.params, grads)
        record()
    return history
