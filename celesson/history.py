r"""The record of a training run: named series, one entry per recorded step.

Every trainer of the package returns (or keeps) a :class:`History`:
:func:`celesson.training.gradient_descent` and the linear models' fit functions
(snapshots of the parameters at chosen steps), :func:`celesson.neuron.train_single_neuron`
(every step of the neuron), :func:`celesson.minibatch.fit` (one entry per epoch),
:class:`celesson.spikes.SpikeRun` (one entry per step) and the gradient-flow
integrators of :mod:`celesson.gradient_flow` (snapshots at chosen times).

A history reads like a dictionary of NumPy arrays (``history["loss"]``) and like an
object (``history.loss``); :attr:`History.steps` says when each entry was taken.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["History"]


class History(Mapping[str, NDArray[Any]]):
    r"""Named series of a training run, recorded at the same steps.

    Entry ``i`` of every series was taken at ``steps[i]``: a step count for gradient
    descent, an epoch for :func:`~celesson.minibatch.fit`, a time for a gradient flow.
    A series of numbers reads as a float array of shape ``(len(steps),)``; a series of
    arrays (parameter snapshots) as one array of shape ``(len(steps), *shape)``.

    Parameters
    ----------
    steps : sequence of float, optional
        Steps of entries already taken (default: none yet).
    final : ndarray, optional
        The parameters at the end of the run, when the trainer keeps them
        (:attr:`final`).
    **series : array_like
        Series already recorded, each with one entry per step.

    Examples
    --------
    >>> h = History()
    >>> h.append(0, loss=1.0, accuracy=0.5)
    >>> h.append(1, loss=0.25, accuracy=1.0)
    >>> h["loss"].tolist(), h.accuracy.tolist(), h.steps.tolist()
    ([1.0, 0.25], [0.5, 1.0], [0, 1])
    >>> sorted(h)
    ['accuracy', 'loss']
    """

    def __init__(
        self,
        steps: Sequence[float] | NDArray[Any] = (),
        /,
        *,
        final: ArrayLike | None = None,
        **series: ArrayLike,
    ) -> None:
        self._steps: list[Any] = list(steps)
        self._series: dict[str, list[Any]] = {}
        for key, values in series.items():
            entries = list(np.asarray(values))
            if len(entries) != len(self._steps):
                raise ValueError(
                    f"series {key!r} has {len(entries)} entries for {len(self._steps)} steps"
                )
            self._series[key] = entries
        self.final = None if final is None else np.asarray(final)
        self._arrays: dict[str, NDArray[Any]] = {}

    # -- recording -------------------------------------------------------------------
    def append(self, step: float, **values: Any) -> None:
        """Record one entry of every series, taken at ``step``.

        Parameters
        ----------
        step : int or float
            When the entry was taken; steps must not decrease.
        **values
            One value per series (a number, or an array for snapshots). The first
            entry fixes the series' names; every later entry must give the same ones.

        Raises
        ------
        ValueError
            If the names differ from the earlier entries', or ``step`` goes back.
        """
        if self._steps and set(values) != set(self._series):
            raise ValueError(
                f"an entry must give the series {sorted(self._series)}, got {sorted(values)}"
            )
        if self._steps and step < self._steps[-1]:
            raise ValueError(f"steps must not decrease: {step!r} after {self._steps[-1]!r}")
        for key, value in values.items():
            self._series.setdefault(key, []).append(
                value.copy() if isinstance(value, np.ndarray) else value
            )
        self._steps.append(step)
        self._arrays.clear()

    def copy(self) -> History:
        """An independent copy (later entries of one do not reach the other)."""
        clone = History(self._steps, final=None if self.final is None else self.final.copy())
        clone._series = {k: list(v) for k, v in self._series.items()}
        return clone

    # -- reading ---------------------------------------------------------------------
    @property
    def steps(self) -> NDArray[Any]:
        """When each entry was taken, as an array (integers or floats, as recorded)."""
        return np.asarray(self._steps)

    def __getitem__(self, key: str) -> NDArray[Any]:
        if key not in self._series:
            raise KeyError(f"{key!r}: this history records {sorted(self._series)}")
        if key not in self._arrays:
            values = self._series[key]
            arr = np.asarray(values, dtype=np.float64) if values else np.empty(0)
            arr.flags.writeable = False  # a view of the record, not a scratch array
            self._arrays[key] = arr
        return self._arrays[key]

    def __getattr__(self, name: str) -> NDArray[Any]:
        series = self.__dict__.get("_series", {})
        if name in series:
            return self[name]
        raise AttributeError(
            f"History has no attribute or series {name!r}; it records {sorted(series)}"
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._series)

    def __len__(self) -> int:
        return len(self._series)

    def at(self, step: float, key: str = "params") -> NDArray[Any]:
        """The entry of series ``key`` taken at ``step`` (one of :attr:`steps`).

        Parameters
        ----------
        step : int or float
            A recorded step.
        key : str, default "params"
            The series.

        Returns
        -------
        numpy.ndarray
        """
        hits = np.flatnonzero(self.steps == step)
        if hits.size == 0:
            raise ValueError(f"step {step!r} was not recorded; recorded: {self._steps}")
        return self[key][hits[0]]

    def __repr__(self) -> str:
        span = f"{self._steps[0]!r}..{self._steps[-1]!r}" if self._steps else "none"
        return f"History({len(self._steps)} entries, steps {span}, series {sorted(self._series)})"
