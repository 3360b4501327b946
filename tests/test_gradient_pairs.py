"""Every loss and its closed-form gradient belong together with default arguments.

``check_gradient(lambda v: float(loss(v, t)), lambda v: loss_grad(v, t), z)`` must pass
for a batch of several samples without any keyword: a gradient whose default reduction
differs from its loss's (the gradient of the summed loss next to a mean loss) fails it
by the factor N. The table must name every public ``*_grad`` of the package, so that a
new gradient cannot be added without its pair.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable

import numpy as np
import pytest

import celesson as cl
from celesson import implicit_bias, linear

RNG = np.random.default_rng(16)
N, K, D = 5, 4, 3

Z_BIN = RNG.normal(size=N)
Y_BIN = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
P_BIN = cl.sigmoid(Z_BIN)
Z_MC = RNG.normal(size=(N, K))
T_MC = np.array([0, 3, 1, 1, 2])
X = RNG.normal(size=(N, D))
H = RNG.normal(size=(N, D))
W_OUT = RNG.normal(size=(D, K))

# name of the gradient: (loss as a function of x, gradient as a function of x, x)
PAIRS: dict[str, tuple[Callable, Callable, np.ndarray]] = {
    "binary_cross_entropy_with_logits_grad": (
        lambda v: cl.binary_cross_entropy_with_logits(v, Y_BIN),
        lambda v: cl.binary_cross_entropy_with_logits_grad(v, Y_BIN),
        Z_BIN,
    ),
    "binary_cross_entropy_grad": (
        lambda v: cl.binary_cross_entropy(v, Y_BIN),
        lambda v: cl.binary_cross_entropy_grad(v, Y_BIN),
        P_BIN,
    ),
    "sigmoid_focal_loss_grad": (
        lambda v: cl.sigmoid_focal_loss(v, Y_BIN),
        lambda v: cl.sigmoid_focal_loss_grad(v, Y_BIN),
        Z_BIN,
    ),
    "mse_loss_grad": (
        lambda v: cl.mse_loss(v, Y_BIN),
        lambda v: cl.mse_loss_grad(v, Y_BIN),
        P_BIN,
    ),
    "mse_sigmoid_grad": (
        lambda v: cl.mse_loss(cl.sigmoid(v), Y_BIN),
        lambda v: cl.mse_sigmoid_grad(v, Y_BIN),
        Z_BIN,
    ),
    "cross_entropy_grad": (
        lambda v: cl.cross_entropy(v, T_MC),
        lambda v: cl.cross_entropy_grad(v, T_MC),
        Z_MC,
    ),
    "softmax_focal_loss_grad": (
        lambda v: cl.softmax_focal_loss(v, T_MC),
        lambda v: cl.softmax_focal_loss_grad(v, T_MC),
        Z_MC,
    ),
    "nll_loss_grad": (
        lambda v: cl.nll_loss(v, T_MC),
        lambda v: cl.nll_loss_grad(v, T_MC),
        cl.log_softmax(Z_MC, axis=-1),
    ),
    "linear_cross_entropy_grad": (
        lambda v: cl.linear_cross_entropy(v, W_OUT, T_MC),
        lambda v: cl.linear_cross_entropy_grad(v, W_OUT, T_MC)[0],
        H,
    ),
    "logistic_regression_grad": (
        lambda v: linear.logistic_regression_loss(v, X, Y_BIN),
        lambda v: linear.logistic_regression_grad(v, X, Y_BIN),
        RNG.normal(size=D),
    ),
    "softmax_regression_grad": (
        lambda v: linear.softmax_regression_loss(v, X, T_MC),
        lambda v: linear.softmax_regression_grad(v, X, T_MC),
        RNG.normal(size=(D, K)),
    ),
    # an elementwise loss with no reduction at all: the gradient of the summed loss
    "sqrt_tail_loss_grad": (
        lambda v: np.sum(implicit_bias.sqrt_tail_loss(v)),
        implicit_bias.sqrt_tail_loss_grad,
        np.abs(RNG.normal(size=N)) + 0.5,
    ),
    "sqrt_tail_regression_grad": (
        lambda v: implicit_bias.sqrt_tail_regression_loss(v, X, Y_BIN),
        lambda v: implicit_bias.sqrt_tail_regression_grad(v, X, Y_BIN),
        RNG.normal(size=D),
    ),
}


def _public_gradients() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(cl.__path__):
        if info.name.startswith("_") or info.name in ("symbolic", "widgets", "plotting"):
            continue
        module = importlib.import_module(f"celesson.{info.name}")
        for name, obj in vars(module).items():
            if (name.endswith("_grad") and not name.startswith("_")
                    and inspect.isfunction(obj) and obj.__module__ == module.__name__):
                found.add(name)
    # derivatives of activations and the finite-difference tool are not loss gradients
    return found - {"sigmoid_grad"}


def test_the_table_names_every_loss_gradient() -> None:
    assert _public_gradients() == set(PAIRS)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_gradient_check_passes_with_default_arguments(name: str) -> None:
    loss, grad, x = PAIRS[name]
    result = cl.check_gradient(lambda v: float(loss(v)), grad, x)
    assert result, f"{name}: {result}"


def test_a_gradient_of_the_sum_next_to_a_mean_loss_is_rejected() -> None:
    # the old default: the gradient of the summed loss, N times too large
    result = cl.check_gradient(
        lambda v: float(cl.cross_entropy(v, T_MC)),
        lambda v: cl.cross_entropy_grad(v, T_MC, reduction="sum"),
        Z_MC,
    )
    assert not result



@pytest.mark.parametrize(
    ("loss", "grad", "x"),
    [
        (cl.nll_loss, cl.nll_loss_grad, cl.log_softmax(Z_MC, axis=-1)),
        (cl.softmax_focal_loss, cl.softmax_focal_loss_grad, Z_MC),
        (cl.cross_entropy, cl.cross_entropy_grad, Z_MC),
    ],
)
def test_every_multiclass_loss_takes_the_class_axis(loss, grad, x) -> None:
    # classes first (axis=0) on the transposed batch: the same per-sample losses, and the
    # transposed gradient, which also passes the check there
    xt = np.ascontiguousarray(x.T)
    np.testing.assert_array_equal(
        loss(xt, T_MC, axis=0, reduction="none"), loss(x, T_MC, reduction="none"))
    np.testing.assert_array_equal(grad(xt, T_MC, axis=0), grad(x, T_MC).T)
    assert cl.check_gradient(lambda v: float(loss(v, T_MC, axis=0)),
                             lambda v: grad(v, T_MC, axis=0), xt)
    with pytest.raises(ValueError, match="target"):
        loss(xt, T_MC)  # classes are not on the last axis of xt: shapes do not match
