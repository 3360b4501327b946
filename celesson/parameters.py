"""The parameters of a model as one flat vector: the views the checks and the radius use.

:class:`ParameterVector` is a mix-in for a model whose :attr:`params` property lists its
parameter arrays (:class:`celesson.mlp.MLP`): it adds the flat vector of all parameters,
its inverse, and the conversion of a direction given either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ParameterVector"]

Array = NDArray[np.float64]


class ParameterVector:
    """Flat-vector views of a model's parameter arrays (a mix-in; see the module)."""

    @property
    def params(self) -> list[Array]:
        """The parameter arrays themselves, in a fixed order (defined by the model)."""
        raise NotImplementedError

    @property
    def num_params(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params)

    def flat_params(self) -> Array:
        """All parameters concatenated into one new 1-D array, order ``W1, b1, W2, ...``."""
        return np.concatenate([p.ravel() for p in self.params])

    def unflatten(self, vector: ArrayLike) -> list[Array]:
        """Split a flat vector of length :attr:`num_params` into arrays shaped like :attr:`params`.

        Parameters
        ----------
        vector : array_like of shape (num_params,)

        Returns
        -------
        list of ndarray
            New arrays (copies), one per parameter, same shapes and order as :attr:`params`.
        """
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.num_params,):
            raise ValueError(f"vector must have shape ({self.num_params},), got {v.shape}")
        out: list[Array] = []
        start = 0
        for p in self.params:
            out.append(v[start : start + p.size].reshape(p.shape).copy())
            start += p.size
        return out

    def set_flat_params(self, vector: ArrayLike) -> None:
        """Overwrite every parameter in place from a flat vector (undoes :meth:`flat_params`)."""
        v = np.asarray(vector, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError("vector must be finite")
        for p, new in zip(self.params, self.unflatten(v), strict=True):
            p[...] = new

    def _structured(self, direction: ArrayLike | Sequence[ArrayLike], argument: str) -> list[Array]:
        """Turn a flat vector or a list shaped like :attr:`params` into a list of arrays."""
        if isinstance(direction, (list, tuple)):
            if len(direction) != len(self.params):
                raise ValueError(
                    f"{argument} must have {len(self.params)} arrays (W1, b1, ...), "
                    f"got {len(direction)}"
                )
            out = []
            for i, (d, p) in enumerate(zip(direction, self.params, strict=True)):
                arr = np.asarray(d, dtype=np.float64)
                if arr.shape != p.shape:
                    raise ValueError(f"{argument}[{i}] must have shape {p.shape}, got {arr.shape}")
                out.append(arr)
            return out
        v = np.asarray(direction, dtype=np.float64)
        if v.shape != (self.num_params,):
            raise ValueError(
                f"{argument} must be a list shaped like params or a flat vector of length "
                f"{self.num_params}, got shape {v.shape}"
            )
        return self.unflatten(v)
