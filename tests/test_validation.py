"""Bad input: every public function raises ValueError/TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

import celesson as cl

NAN = np.nan
Z2 = np.array([[1.0, 2.0, 3.0], [0.0, 0.5, -1.0]])
T2 = np.array([0, 2])

BINARY = [
    cl.binary_cross_entropy_with_logits,
    cl.sigmoid_focal_loss,
    cl.binary_cross_entropy_with_logits_grad,
    cl.mse_sigmoid_grad,
    cl.sigmoid_focal_loss_grad,
]
PROB_FIRST = [cl.binary_cross_entropy, cl.binary_cross_entropy_grad]
CATEGORICAL = [cl.cross_entropy, cl.cross_entropy_grad, cl.softmax_focal_loss,
               cl.softmax_focal_loss_grad]
WITH_REDUCTION = [*BINARY, *PROB_FIRST, *CATEGORICAL, cl.mse_loss, cl.mse_loss_grad,
                  cl.nll_loss, cl.nll_loss_grad]


@pytest.mark.parametrize("fn", BINARY)
@pytest.mark.parametrize(
    ("z", "y", "exc", "match"),
    [
        ([0.0, NAN], [0.0, 1.0], ValueError, "logits contains NaN"),
        ([0.0, 1.0], [0.0, NAN], ValueError, "target contains NaN"),
        ([0.0, 1.0], [0.0, 1.5], ValueError, r"target must hold probabilities in \[0, 1\]"),
        ([0.0, 1.0], [-0.1, 1.0], ValueError, r"target must hold probabilities in \[0, 1\]"),
        ([0.0, 1.0, 2.0], [0.0, 1.0], ValueError, "logits and target must have the same shape"),
        ("0.5", [1.0], TypeError, "logits must be a real number"),
        ([1j], [1.0], TypeError, "logits must be real"),
        ([0.0], ["a"], TypeError, "target must be a real number"),
    ],
)
def test_binary_inputs(fn, z, y, exc, match):
    with pytest.raises(exc, match=match):
        fn(z, y)


@pytest.mark.parametrize("fn", PROB_FIRST)
def test_probability_inputs(fn):
    with pytest.raises(ValueError, match=r"probs must hold probabilities in \[0, 1\]"):
        fn([1.2], [1.0])
    with pytest.raises(ValueError, match="probs contains NaN"):
        fn([NAN], [1.0])
    with pytest.raises(ValueError, match="probs and target must have the same shape"):
        fn([0.5, 0.5], [1.0, 0.0, 1.0])


@pytest.mark.parametrize("fn", WITH_REDUCTION)
def test_unknown_reduction(fn):
    args = {
        cl.mse_loss: ([1.0], [1.0]),
        cl.mse_loss_grad: ([1.0], [1.0]),
        cl.nll_loss: (np.log([[0.5, 0.5]]), [0]),
        cl.nll_loss_grad: (np.log([[0.5, 0.5]]), [0]),
    }.get(fn, (Z2, T2) if fn in CATEGORICAL else ([0.5], [1.0]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(*args, reduction="avg")
    with pytest.raises(TypeError, match="reduction must be one of"):
        fn(*args, reduction=None)


@pytest.mark.parametrize("fn", WITH_REDUCTION)
def test_empty_batch_with_mean(fn):
    if fn in CATEGORICAL:
        args = (np.zeros((0, 3)), np.zeros(0, dtype=int))
    elif fn in (cl.nll_loss, cl.nll_loss_grad):
        args = (np.zeros((0, 3)), np.zeros(0, dtype=int))
    else:
        args = (np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match='empty: reduction="mean"'):
        fn(*args, reduction="mean")


@pytest.mark.parametrize("fn", CATEGORICAL)
def test_categorical_targets(fn):
    with pytest.raises(ValueError, match=r"class index 3, outside the valid range 0\.\.2"):
        fn(Z2, [0, 3])
    with pytest.raises(ValueError, match="class index -1"):
        fn(Z2, [0, -1])
    with pytest.raises(TypeError, match="must hold integer class indices"):
        fn(Z2, [0.0, 1.0])
    with pytest.raises(TypeError, match="must hold integer class indices"):
        fn(Z2, [True, False])
    with pytest.raises(ValueError, match=r"target must have shape \(2,\)"):
        fn(Z2, [0, 1, 2])
    with pytest.raises(ValueError, match="logits contains NaN"):
        fn(np.array([[0.0, NAN, 1.0], [0.0, 0.0, 0.0]]), T2)
    with pytest.raises(ValueError, match=r"logits contains \+inf"):
        fn(np.array([[0.0, np.inf, 1.0], [0.0, 0.0, 0.0]]), T2)
    with pytest.raises(TypeError, match="logits must be"):
        fn([["a", "b"]], [0])


@pytest.mark.parametrize("fn", [cl.cross_entropy, cl.cross_entropy_grad])
def test_cross_entropy_probability_targets_and_smoothing(fn):
    with pytest.raises(ValueError, match="target must sum to 1"):
        fn(Z2, np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        fn(Z2, np.array([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="target contains NaN"):
        fn(Z2, np.array([[NAN, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    for eps in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0.0, 1.0\)"):
            fn(Z2, T2, label_smoothing=eps)
    with pytest.raises(ValueError, match="label_smoothing must be a finite"):
        fn(Z2, T2, label_smoothing=NAN)
    with pytest.raises(TypeError, match="label_smoothing must be a real number"):
        fn(Z2, T2, label_smoothing="0.1")
    with pytest.raises(ValueError, match="axis=2 is out of range"):
        fn(Z2, T2, axis=2)


@pytest.mark.parametrize("fn", [cl.sigmoid_focal_loss, cl.sigmoid_focal_loss_grad])
def test_focal_parameters(fn):
    with pytest.raises(ValueError, match=r"gamma must lie in \[0.0, inf\]"):
        fn([0.0], [1.0], gamma=-1.0)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0.0, 1.0\]"):
        fn([0.0], [1.0], alpha=1.5)
    with pytest.raises(TypeError, match="gamma must be a real number"):
        fn([0.0], [1.0], gamma=None)


def test_softmax_focal_parameters():
    with pytest.raises(ValueError, match="gamma must lie in"):
        cl.softmax_focal_loss(Z2, T2, gamma=-0.5)
    with pytest.raises(TypeError, match="needs integer class indices"):
        cl.softmax_focal_loss(Z2, np.eye(3)[T2])


@pytest.mark.parametrize("fn", [cl.nll_loss, cl.nll_loss_grad])
def test_nll_inputs(fn):
    lp = np.log([[0.5, 0.5], [0.25, 0.75]])
    with pytest.raises(ValueError, match=r"outside the valid range 0\.\.1"):
        fn(lp, [0, 2])
    with pytest.raises(ValueError, match="target must have shape"):
        fn(lp, [0])
    with pytest.raises(TypeError, match="integer class indices"):
        fn(lp, [0.0, 1.0])
    with pytest.raises(ValueError, match="log_probs contains NaN"):
        fn([[NAN, 0.0]], [0])
    with pytest.raises(ValueError, match="at least one dimension"):
        fn(-1.0, 0)
    if fn is cl.nll_loss:
        with pytest.raises(ValueError, match=r"log_probs must hold log-probabilities \(<= 0\)"):
            fn([[0.5, -1.0]], [0])


def test_mse_inputs():
    with pytest.raises(ValueError, match="pred and target must have the same shape"):
        cl.mse_loss([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="target contains NaN"):
        cl.mse_loss([1.0], [NAN])
    with pytest.raises(ValueError, match="pred contains NaN"):
        cl.mse_loss_grad([NAN], [1.0])


def test_entropy_and_kl_inputs():
    with pytest.raises(ValueError, match="p must sum to 1"):
        cl.entropy([0.5, 0.6])
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\]"):
        cl.entropy([1.5, -0.5])
    with pytest.raises(ValueError, match="p contains NaN"):
        cl.entropy([NAN, 1.0])
    with pytest.raises(ValueError, match="at least one dimension"):
        cl.entropy(1.0)
    with pytest.raises(ValueError, match="q must sum to 1"):
        cl.kl_divergence([0.5, 0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match="p and q must have the same shape"):
        cl.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])


def test_smooth_labels_inputs():
    with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0.0, 1.0\)"):
        cl.smooth_labels(0, 3, 1.0)
    with pytest.raises(ValueError, match=r"label_smoothing must lie in"):
        cl.smooth_labels(0, 3, -0.2)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        cl.smooth_labels(0, 1, 0.1, convention="others")
    with pytest.raises(TypeError, match="num_classes must be an integer"):
        cl.smooth_labels(0, 3.0, 0.1)
    with pytest.raises(ValueError, match="class index 3"):
        cl.smooth_labels([0, 3], 3, 0.1)
    with pytest.raises(ValueError, match=r"convention must be one of \('uniform', 'others'\)"):
        cl.smooth_labels(0, 3, 0.1, convention="pytorch")
    with pytest.raises(ValueError, match="num_classes=3 entries along the last axis"):
        cl.smooth_labels(np.array([0.5, 0.5]), 3, 0.1)
    with pytest.raises(ValueError, match="target must sum to 1"):
        cl.smooth_labels(np.array([0.5, 0.6, 0.0]), 3, 0.1)
    with pytest.raises(TypeError, match="target must be integer class indices or probabilities"):
        cl.smooth_labels(np.array(["a"]), 3, 0.1)


def test_gradient_inputs():
    with pytest.raises(ValueError, match="z contains NaN"):
        cl.sigmoid_grad([NAN])
    with pytest.raises(ValueError, match="logits must be finite for sigmoid_focal_loss_grad"):
        cl.sigmoid_focal_loss_grad([np.inf], [1.0])
    with pytest.raises(ValueError, match="logits must be finite"):
        cl.softmax_focal_loss_grad([[0.0, -np.inf]], [0])
    with pytest.raises(ValueError, match="z contains NaN"):
        cl.softmax_jacobian([0.0, NAN])
    with pytest.raises(ValueError, match="at least one dimension"):
        cl.softmax_jacobian(1.0)
