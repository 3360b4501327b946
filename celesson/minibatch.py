r"""Mini-batch training of a model: the :class:`Trainer`, :func:`fit` and their interfaces.

A :class:`Trainer` is the package's one loop over mini-batches: it draws the batches
(a fresh permutation of the rows per epoch), asks the model for the gradient of the
batch loss and hands it to the optimiser, one step at a time, so that a run can stop,
be copied (:meth:`Trainer.fork`) and go on. It trains any :class:`Trainable` (such as
:class:`celesson.mlp.MLP`) with any :class:`Optimizer` (such as
:class:`celesson.optim.Adam`). :func:`fit` runs a trainer for whole epochs and records
the loss and accuracy after each (a :class:`~celesson.history.History`);
:class:`celesson.spikes.SpikeRun` runs one step by step. Full-batch gradient descent
on a parameter array is :func:`celesson.training.gradient_descent`. Re-exported by
:mod:`celesson.mlp`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_int
from .history import History

__all__ = ["Optimizer", "Trainable", "Trainer", "fit"]

Array = NDArray[np.float64]


class Trainable(Protocol):
    """What :func:`fit` needs of a model."""

    @property
    def params(self) -> list[Array]: ...

    def gradients(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> list[Array]: ...

    def loss(self, X: ArrayLike, y: ArrayLike, kind: str = "ce") -> float: ...

    def loss_and_gradients(
        self, X: ArrayLike, y: ArrayLike, kind: str = "ce"
    ) -> tuple[float, list[Array]]: ...

    def copy(self) -> Trainable: ...

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float: ...


class Optimizer(Protocol):
    """What :func:`fit` needs of an optimiser: one in-place update of the parameters.

    An optimiser whose update depends on the examples of the batch as well (such as
    :class:`celesson.ghosts.RhoController` without a probe set, which measures the
    radius on them) says so with a true attribute ``measures_on_batch``; :func:`fit`
    then calls ``step(params, grads, X_batch)``.
    """

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> object: ...


class Trainer:
    r"""Mini-batch gradient steps on a model, one at a time.

    Each step takes the next batch of rows, computes the gradient of the mean batch
    loss (``model.gradients``) and calls ``optimizer.step(params, grads)``,
    which updates the parameters in place. Batches are consecutive slices of a
    permutation of the rows drawn with ``numpy.random.default_rng(seed)``, a new one
    whenever the previous is used up (once per epoch); the full batch is the rows in
    order, with no permutation drawn.

    Parameters
    ----------
    model : Trainable
        A :class:`celesson.mlp.MLP`, or any model with the same methods; trained in
        place.
    X, y : array_like
        Training inputs ``(N, n_0)`` and labels or targets (see ``model.targets``).
    optimizer : Optimizer
        E.g. :class:`celesson.optim.GradientDescent` or :class:`celesson.optim.Adam`;
        one with a true ``measures_on_batch`` (a :class:`celesson.ghosts.RhoController`)
        is given the batch too, ``step(params, grads, X_batch)``.
    kind : {"ce", "mse"}, default "ce"
        Loss to minimise.
    batch_size : int or None, default None
        Rows per step; ``None`` (or ``N`` and more) means the full batch.
    seed : int, default 0
        Seed of the permutations.

    Attributes
    ----------
    t : int
        Steps taken.
    steps_per_epoch : int
        Steps in one pass over the rows, :math:`\lceil N / \text{batch size} \rceil`.

    Examples
    --------
    >>> from celesson.mlp import MLP
    >>> from celesson.optim import GradientDescent
    >>> net = MLP([2, 3, 2], seed=0)
    >>> trainer = Trainer(net, [[0.0, 1.0], [1.0, 0.0]], [0, 1], optimizer=GradientDescent(0.5))
    >>> first = trainer.step(loss=True)
    >>> _ = trainer.step()
    >>> bool(net.loss([[0.0, 1.0], [1.0, 0.0]], [0, 1]) < first), trainer.t
    (True, 2)
    """

    def __init__(
        self,
        model: Trainable,
        X: ArrayLike,
        y: ArrayLike,
        *,
        optimizer: Optimizer,
        kind: str = "ce",
        batch_size: int | None = None,
        seed: int = 0,
    ) -> None:
        if not all(callable(getattr(model, m, None)) for m in ("gradients", "loss", "accuracy")):
            raise TypeError(
                f"model must have gradients, loss and accuracy methods (an MLP), "
                f"got {type(model).__name__}"
            )
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError("optimizer must have a step(params, grads) method")
        Xa = as_float_array(X, "X")
        if Xa.ndim != 2 or Xa.shape[0] == 0:
            raise ValueError(f"X must have shape (N, n_0) with N >= 1, got {Xa.shape}")
        ya = np.asarray(y)
        n = Xa.shape[0]
        if ya.ndim == 0 or ya.shape[0] != n:
            raise ValueError(f"y must have {n} rows, got shape {ya.shape}")
        rows = n if batch_size is None else check_int(batch_size, "batch_size", lo=1)
        self.model, self.optimizer, self.kind = model, optimizer, kind
        self.X, self.y = Xa, ya
        self.batch_size = min(rows, n)
        self.steps_per_epoch = -(-n // self.batch_size)
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(n)
        self.cursor = n  # the first step of a mini-batch run draws a permutation
        self.t = 0
        self._on_batch = bool(getattr(optimizer, "measures_on_batch", False))

    def next_rows(self) -> NDArray[np.intp] | None:
        """The row numbers of the next step's batch (and move past it); ``None`` for
        the full batch, which is all rows in order.

        Returns
        -------
        ndarray of int or None
        """
        n = self.X.shape[0]
        if self.batch_size == n:
            return None
        if self.cursor >= n:
            self.order, self.cursor = self.rng.permutation(n), 0
        rows = self.order[self.cursor : self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return rows

    def next_batch(self) -> tuple[Array, NDArray[np.generic]]:
        """The inputs and labels of the next step's batch (and move past it).

        Returns
        -------
        (ndarray, ndarray)
        """
        rows = self.next_rows()
        if rows is None:
            return self.X, self.y
        return self.X[rows], self.y[rows]

    def step(self, *, loss: bool = False) -> float:
        """Take one optimiser step on the next batch.

        Parameters
        ----------
        loss : bool, default False
            Also compute the batch loss before the step, from the same forward pass
            as the gradient (``model.loss_and_gradients``), and return it; the step
            is refused if that loss is not finite. Without it NaN is returned.

        Returns
        -------
        float

        Raises
        ------
        FloatingPointError
            With ``loss=True``, if the batch loss is not finite (nothing is updated).
        """
        Xb, yb = self.next_batch()
        value = math.nan
        if loss:
            value, grads = self.model.loss_and_gradients(Xb, yb, self.kind)
            if not math.isfinite(value):
                raise FloatingPointError(f"the training loss is not finite at step {self.t}")
        else:
            grads = self.model.gradients(Xb, yb, self.kind)
        if self._on_batch:
            self.optimizer.step(self.model.params, grads, Xb)  # type: ignore[call-arg]
        else:
            self.optimizer.step(self.model.params, grads)
        self.t += 1
        return value

    def run(self, steps: int) -> Trainer:
        """Take ``steps`` more steps; returns ``self``.

        Parameters
        ----------
        steps : int
            Number of steps, >= 0.

        Returns
        -------
        Trainer
        """
        for _ in range(check_int(steps, "steps", lo=0)):
            self.step()
        return self

    def fork(self) -> Trainer:
        """An independent copy: model, optimiser state and batch order (the data are shared).

        Returns
        -------
        Trainer
        """
        clone = copy.copy(self)
        clone.model = self.model.copy()
        clone.optimizer = copy.deepcopy(self.optimizer)
        clone.rng = copy.deepcopy(self.rng)
        clone.order = self.order.copy()
        return clone


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
) -> History:
    """Train ``model`` in place for whole epochs of mini-batch steps (a :class:`Trainer`).

    Parameters
    ----------
    model : Trainable
        A :class:`celesson.mlp.MLP`, or any model with the same methods.
    X, y : training inputs ``(N, n_0)`` and labels/targets (see :meth:`MLP.targets`)
    optimizer : object with ``step(params, grads)``
        As for :class:`Trainer`.
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
    History
        Series ``"loss"`` and ``"accuracy"`` on the training set (and ``"eval_loss"``,
        ``"eval_accuracy"`` when evaluation data are given) at ``steps`` = the epochs
        0 (the initial state) .. ``epochs``; the accuracy is NaN for float targets.

    Examples
    --------
    >>> from celesson.mlp import MLP
    >>> from celesson.optim import GradientDescent
    >>> net = MLP([2, 3, 2], seed=0)
    >>> h = fit(net, [[0.0, 1.0], [1.0, 0.0]], [0, 1], optimizer=GradientDescent(0.5), epochs=20)
    >>> h.steps[-1], bool(h.loss[-1] < h.loss[0]), float(h.accuracy[-1])
    (np.int64(20), True, 1.0)
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    trainer = Trainer(model, X, y, optimizer=optimizer, kind=kind, batch_size=batch_size,
                      seed=seed)
    Xa, ya = trainer.X, trainer.y
    labelled = ya.ndim == 1 and np.issubdtype(ya.dtype, np.integer)
    history = History()

    def record(epoch: int) -> None:
        values = {"loss": model.loss(Xa, ya, kind),
                  "accuracy": model.accuracy(Xa, ya) if labelled else math.nan}
        if X_eval is not None and y_eval is not None:
            values.update(eval_loss=model.loss(X_eval, y_eval, kind),
                          eval_accuracy=model.accuracy(X_eval, y_eval))
        history.append(epoch, **values)

    record(0)
    for epoch in range(1, int(epochs) + 1):
        trainer.run(trainer.steps_per_epoch)
        record(epoch)
    return history
