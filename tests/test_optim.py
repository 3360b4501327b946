"""Tests for celesson.optim: gradient descent and Adam against hand-computed steps."""

from __future__ import annotations

import numpy as np
import pytest

from celesson.optim import Adam, GradientDescent

# Three Adam steps with lr = 0.1 and the default betas/eps, computed with 30-digit
# arithmetic from the update rule (m, v start at zero; bias-corrected).
GRADS = [np.array([0.5, -2.0]), np.array([0.1, -1.0]), np.array([-0.3, 0.5])]
EXPECTED = [
    np.array([-0.09999999800000004, 0.099999999500000002]),
    np.array([-0.08030409561534875, 0.093217963291490239]),
    np.array([-0.021071294621143711, 0.056366137228071762]),
]


def test_adam_first_three_steps_match_hand_computed_values():
    opt = Adam(lr=0.1)
    params = [np.zeros(2)]
    total = np.zeros(2)
    for g, expected in zip(GRADS, EXPECTED, strict=True):
        (update,) = opt.step(params, [g])
        np.testing.assert_allclose(update, expected, rtol=1e-13, atol=0)
        total += expected
    np.testing.assert_allclose(params[0], total, rtol=1e-13)
    assert opt.t == 3


def test_adam_bias_correction():
    """First step moves each coordinate by ~lr whatever the gradient's size.

    Without the correction it would be lr * (1 - beta1) / sqrt(1 - beta2) = 3.16 lr.
    """
    opt = Adam(lr=0.01)
    (u,) = opt.propose([np.zeros(3)], [np.array([1e-3, -4.0, 250.0])])
    np.testing.assert_allclose(np.abs(u), 0.01, rtol=2e-5)
    np.testing.assert_array_equal(np.sign(u), [-1.0, 1.0, -1.0])
    # a constant gradient keeps m_hat = g and v_hat = g^2 at every step
    opt = Adam(lr=0.2, beta1=0.8, beta2=0.99)
    for _ in range(5):
        (u,) = opt.propose([np.zeros(1)], [np.array([3.0])])
        assert u[0] == pytest.approx(-0.2 * 3.0 / (3.0 + 1e-8), rel=1e-12)


def test_adam_moments_after_two_steps():
    opt = Adam(lr=0.1)
    for g in GRADS[:2]:
        opt.propose([np.zeros(2)], [g])
    np.testing.assert_allclose(opt.m[0], [0.055, -0.28], rtol=1e-14)
    np.testing.assert_allclose(opt.v[0], [0.00025975, 0.004996], rtol=1e-12)


def test_propose_does_not_touch_params_and_reset_forgets():
    opt = Adam(lr=0.1)
    p = [np.ones((2, 2)), np.zeros(2)]
    g = [np.full((2, 2), 0.5), np.array([1.0, -1.0])]
    first = opt.propose(p, g)
    np.testing.assert_array_equal(p[0], np.ones((2, 2)))
    second = opt.propose(p, g)
    assert opt.t == 2
    opt.reset()
    assert opt.t == 0 and opt.m is None
    again = opt.propose(p, g)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert second[0][0, 0] == pytest.approx(-0.1 * 0.5 / (0.5 + 1e-8), rel=1e-12)


def test_apply_with_scale_and_step_in_place():
    p = [np.array([1.0, 2.0])]
    gd = GradientDescent(0.5)
    updates = gd.propose(p, [np.array([2.0, -4.0])])
    np.testing.assert_array_equal(updates[0], [-1.0, 2.0])
    gd.apply(p, updates, scale=0.25)
    np.testing.assert_array_equal(p[0], [0.75, 2.5])
    returned = gd.step(p, [np.array([1.0, 1.0])])
    np.testing.assert_array_equal(p[0], [0.25, 2.0])
    np.testing.assert_array_equal(returned[0], [-0.5, -0.5])


def test_gradient_descent_minimises_a_quadratic():
    p = [np.array([3.0, -1.0])]
    gd = GradientDescent(0.1)
    for _ in range(200):
        gd.step(p, [2 * p[0]])
    np.testing.assert_allclose(p[0], [3.0 * 0.8**200, -(0.8**200)], rtol=1e-10)


def test_bad_input():
    with pytest.raises(ValueError, match="lr"):
        GradientDescent(0.0)
    with pytest.raises(TypeError, match="lr"):
        GradientDescent("0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="beta1"):
        Adam(beta1=1.0)
    with pytest.raises(ValueError, match="eps"):
        Adam(eps=-1.0)
    opt = Adam()
    with pytest.raises(ValueError, match="grads"):
        opt.step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="grads"):
        opt.step([np.zeros(2)], [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match="grads"):
        opt.step([np.zeros(2)], [np.array([np.nan, 0.0])])
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="reset"):
        opt.step([np.zeros(3)], [np.ones(3)])
    with pytest.raises(TypeError, match="params"):
        GradientDescent(0.1).apply([np.zeros(2, dtype=np.int64)], [np.ones(2)])


def test_clip_grad_norm_rescales_to_the_bound_like_pytorch():
    """min(1, c / (||g|| + 1e-6)) over all arrays together; small gradients are untouched."""
    from celesson.optim import clip_grad_norm

    g = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]  # total norm 5
    clipped, norm = clip_grad_norm(g, 1.0)
    assert norm == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    assert np.allclose(clipped[0], [3 * coef, 0.0], rtol=1e-15)
    assert np.allclose(clipped[1], [[0.0], [4 * coef]], rtol=1e-15)
    assert g[0][0] == 3.0  # inputs untouched
    small, _ = clip_grad_norm([np.array([0.3, 0.4])], 1.0)
    assert np.array_equal(small[0], [0.3, 0.4])
    # clipping each array separately would be wrong: the joint norm is what is bounded
    total = np.sqrt(sum(np.sum(c * c) for c in clipped))
    assert total == pytest.approx(5.0 * coef, rel=1e-15)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(g, 0.0)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([np.array([np.inf])], 1.0)
