"""Tests for celesson.diagnostics: per-layer gradient norms of a network."""

from __future__ import annotations

import numpy as np
import pytest

from celesson.diagnostics import layer_gradient_norms
from celesson.mlp import MLP


def _fd_layer_norms(net: MLP, X, y, kind: str, h: float = 1e-6) -> np.ndarray:
    """Independent check: central differences of the loss, weight by weight."""
    norms = []
    for w in net.weights:
        g = np.empty_like(w)
        for idx in np.ndindex(w.shape):
            keep = w[idx]
            w[idx] = keep + h
            up = net.loss(X, y, kind)
            w[idx] = keep - h
            down = net.loss(X, y, kind)
            w[idx] = keep
            g[idx] = (up - down) / (2 * h)
        norms.append(np.linalg.norm(g))
    return np.array(norms)


@pytest.mark.parametrize("kind", ["ce", "mse"])
def test_norms_match_central_differences_layer_by_layer(kind: str) -> None:
    """||dC/dW^l||_F for each layer equals the norm of a finite-difference gradient."""
    net = MLP([5, 4, 4, 3], activation="sigmoid", output="sigmoid", seed=3, init_scale=2.0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 5))
    y = rng.integers(0, 3, 7)
    got = layer_gradient_norms(net, X, y, kind=kind)
    expected = _fd_layer_norms(net, X, y, kind)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # the layers are told apart: the norms are not all equal, so a wrong order would fail
    assert np.ptp(expected) > 1e-3 * expected.max()


def test_model_is_not_changed() -> None:
    net = MLP([3, 2, 2], seed=1)
    before = net.flat_params()
    layer_gradient_norms(net, np.ones((2, 3)), np.array([0, 1]))
    assert np.array_equal(before, net.flat_params())


def test_bad_model_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="model"):
        layer_gradient_norms("net", np.ones((2, 3)), np.array([0, 1]))  # type: ignore[arg-type]


def test_bad_kind_names_the_argument() -> None:
    with pytest.raises(ValueError, match="kind"):
        layer_gradient_norms(MLP([3, 2]), np.ones((2, 3)), np.array([0, 1]), kind="l1")
