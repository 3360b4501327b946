"""Tests for celesson.linear: losses, gradients, training loops and the max-margin solver."""

from __future__ import annotations

import math

import numpy as np
import pytest

import celesson as cl
from celesson.data import gaussian_blobs
from celesson.history import History
from celesson.linear import (
    MaxMarginResult,
    add_bias_column,
    fit_logistic_regression,
    fit_softmax_regression,
    gradient_descent,
    logistic_gradient_flow,
    logistic_regression_grad,
    logistic_regression_hessian,
    logistic_regression_loss,
    logistic_regression_proba,
    max_margin_separator,
    softmax_regression_grad,
    softmax_regression_loss,
    softmax_regression_proba,
)


def source_data() -> tuple[np.ndarray, np.ndarray]:
    """The separable 2-D data set of the divergence chapter (seed 0, 200 points)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    return X, y


def small_binary(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    y = (rng.random(30) < 0.5).astype(float)
    return X, y


# ------------------------------------------------------------------ binary model


def test_logistic_loss_at_zero_is_log2_plus_penalty():
    X, y = small_binary()
    assert logistic_regression_loss(np.zeros(3), X, y) == pytest.approx(math.log(2), rel=1e-15)
    theta = np.array([0.5, -1.0, 2.0])
    plain = logistic_regression_loss(theta, X, y)
    decayed = logistic_regression_loss(theta, X, y, weight_decay=0.3)
    assert decayed - plain == pytest.approx(0.5 * 0.3 * float(theta @ theta), rel=1e-13)


def test_logistic_loss_matches_direct_formula():
    X, y = small_binary()
    theta = np.array([0.3, -0.7, 1.1])
    p = 1.0 / (1.0 + np.exp(-(X @ theta)))
    direct = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert logistic_regression_loss(theta, X, y) == pytest.approx(direct, rel=1e-13)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight_decay": 0.05},
        {"label_smoothing": 0.2},
        {"label_smoothing": 0.2, "convention": "others"},
        {"gamma": 2.0},
        {"gamma": 1.5, "label_smoothing": 0.1, "weight_decay": 0.01},
    ],
)
def test_logistic_gradient_matches_central_differences(options):
    X, y = small_binary()
    theta = np.array([0.4, -0.9, 0.7])
    check = cl.check_gradient(
        lambda t: logistic_regression_loss(t, X, y, **options),
        lambda t: logistic_regression_grad(t, X, y, **options),
        theta,
        rtol=1e-6,
        atol=1e-10,
    )
    assert check, str(check)


def test_label_smoothing_targets_in_both_conventions():
    # at theta = 0 the gradient is X^T (1/2 - y_smoothed) / N, so one row reveals the target
    X = np.array([[1.0]])
    for conv, target in (("uniform", 1 - 0.2 + 0.2 / 2), ("others", 1 - 0.2)):
        g = logistic_regression_grad([0.0], X, [1.0], label_smoothing=0.2, convention=conv)
        assert g[0] == pytest.approx(0.5 - target, abs=1e-15), conv
    g0 = logistic_regression_grad([0.0], X, [0.0], label_smoothing=0.2, convention="others")
    assert g0[0] == pytest.approx(0.5 - 0.2, abs=1e-15)


def test_hard_label_residual_equals_core_residual_bitwise():
    X, y = source_data()
    for scale in (0.0, 3.0, 40.0, 2000.0):
        theta = scale * np.array([1.0, 0.5])
        ours = logistic_regression_grad(theta, X, y)
        residual = cl.binary_cross_entropy_with_logits_grad(X @ theta, y, reduction="none")
        core = X.T @ residual / X.shape[0]
        np.testing.assert_allclose(ours, core, rtol=1e-14, atol=0)


def test_gradient_keeps_tiny_residuals_of_confident_examples():
    # logit 40 on a positive example: sigma(40) rounds to 1.0, the residual is -exp(-40)
    g = logistic_regression_grad([40.0], [[1.0]], [1.0])
    assert g[0] == pytest.approx(-math.exp(-40.0) / (1 + math.exp(-40.0)), rel=1e-14)


def test_hessian_is_the_jacobian_of_the_gradient():
    X, y = small_binary()
    theta = np.array([0.2, 0.5, -0.4])
    H = logistic_regression_hessian(theta, X, weight_decay=0.1)
    for i in range(3):
        check = cl.check_gradient(
            lambda t, i=i: logistic_regression_grad(t, X, y, weight_decay=0.1)[i],
            H[i],
            theta,
        )
        assert check, str(check)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15)


def test_proba_is_sigmoid_of_logits():
    X, _ = small_binary()
    theta = np.array([1.0, 2.0, -3.0])
    np.testing.assert_array_equal(logistic_regression_proba(theta, X), cl.sigmoid(X @ theta))


# ----------------------------------------------------------------- softmax model


def small_multi(seed: int = 5, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(25, 3)), rng.integers(0, k, size=25)


def test_softmax_loss_matches_direct_formula():
    X, y = small_multi()
    W = np.random.default_rng(1).normal(size=(3, 4))
    Z = X @ W
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    direct = -np.mean(np.log(P[np.arange(len(y)), y]))
    assert softmax_regression_loss(W, X, y) == pytest.approx(direct, rel=1e-13)
    assert softmax_regression_loss(np.zeros((3, 4)), X, y) == pytest.approx(math.log(4), 1e-15)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight_decay": 0.1},
        {"label_smoothing": 0.15},
        {"label_smoothing": 0.15, "convention": "others"},
        {"gamma": 2.0},
    ],
)
def test_softmax_gradient_matches_central_differences(options):
    X, y = small_multi()
    W = np.random.default_rng(2).normal(size=(3, 4))
    check = cl.check_gradient(
        lambda m: softmax_regression_loss(m, X, y, **options),
        lambda m: softmax_regression_grad(m, X, y, **options),
        W,
        rtol=1e-6,
        atol=1e-10,
    )
    assert check, str(check)


def test_softmax_smoothing_conventions_give_different_targets():
    # one example with zero logits: gradient = 1/K - target
    X = np.array([[1.0]])
    K, eps = 5, 0.25
    g_u = softmax_regression_grad(np.zeros((1, K)), X, [2], label_smoothing=eps)
    g_o = softmax_regression_grad(
        np.zeros((1, K)), X, [2], label_smoothing=eps, convention="others"
    )
    np.testing.assert_allclose(g_u[0, 2], 1 / K - (1 - eps + eps / K), atol=1e-15)
    np.testing.assert_allclose(g_u[0, 0], 1 / K - eps / K, atol=1e-15)
    np.testing.assert_allclose(g_o[0, 2], 1 / K - (1 - eps), atol=1e-15)
    np.testing.assert_allclose(g_o[0, 0], 1 / K - eps / (K - 1), atol=1e-15)


def test_softmax_proba_rows_sum_to_one():
    X, _ = small_multi()
    P = softmax_regression_proba(np.random.default_rng(0).normal(size=(3, 4)), X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("conv", ["uniform", "others"])
def test_label_smoothing_optimum_has_the_closed_form_logit_gap(conv):
    # identity features: each example owns its logits, so the per-example optimum is reached
    K, eps = 10, 0.1
    rec = fit_softmax_regression(
        np.eye(K), np.arange(K), K, lr=5.0, num_steps=2000, label_smoothing=eps, convention=conv
    )
    Z = rec.final
    gaps = [Z[k, k] - np.delete(Z[k], k) for k in range(K)]
    if conv == "uniform":
        expected = math.log((1 - eps + eps / K) / (eps / K))
    else:
        expected = math.log((1 - eps) * (K - 1) / eps)
    np.testing.assert_allclose(np.concatenate(gaps), expected, rtol=1e-12)


# ------------------------------------------------------------------------ training


def test_gradient_descent_on_a_quadratic_is_exact():
    # f = ||theta||^2, step 0.25: theta_t = theta_0 * 0.5**t
    rec = gradient_descent(
        lambda t: 2 * t, [8.0, -4.0], lr=0.25, num_steps=5, checkpoints=[0, 1, 5],
        loss=lambda t: float(t @ t),
    )
    assert isinstance(rec, History)
    np.testing.assert_array_equal(rec.steps, [0, 1, 5])
    np.testing.assert_array_equal(rec.params[:, 0], [8.0, 4.0, 0.25])
    np.testing.assert_allclose(rec.norm, np.hypot(rec.params[:, 0], rec.params[:, 1]))
    np.testing.assert_allclose(rec.loss, rec.norm**2)
    np.testing.assert_array_equal(rec.final, rec.params[-1])
    np.testing.assert_array_equal(rec.at(1), [4.0, -2.0])
    with pytest.raises(ValueError, match="not recorded"):
        rec.at(2)


def test_fit_matches_a_plain_loop_on_the_source_data():
    X, y = source_data()
    marks = [1, 10, 100, 1000]
    rec = fit_logistic_regression(X, y, lr=0.1, num_steps=1000, checkpoints=marks)
    theta = np.zeros(2)
    expected = []
    for t in range(1, 1001):
        p = 1.0 / (1.0 + np.exp(-(X @ theta)))
        theta = theta - 0.1 * (X.T @ (p - y) / len(y))
        if t in marks:
            expected.append(np.linalg.norm(theta))
    np.testing.assert_allclose(rec.norm, expected, rtol=1e-12)
    # values of this run (seed 0): they differ from the figures printed in the source text
    np.testing.assert_allclose(
        rec.norm,
        [0.04078475282575106, 0.36463865535774814, 1.9155345058210707, 5.430056481731967],
        rtol=1e-9,
    )
    assert np.all(np.diff(rec.loss) < 0)


def test_weight_decay_has_a_finite_minimiser_that_gd_reaches():
    X, y = source_data()
    lam = 1e-2
    theta = np.zeros(2)
    for _ in range(25):  # Newton's method
        theta = theta - np.linalg.solve(
            logistic_regression_hessian(theta, X, weight_decay=lam),
            logistic_regression_grad(theta, X, y, weight_decay=lam),
        )
    assert np.linalg.norm(logistic_regression_grad(theta, X, y, weight_decay=lam)) < 1e-15
    rec = fit_logistic_regression(X, y, lr=0.1, num_steps=20000, weight_decay=lam)
    np.testing.assert_allclose(rec.final, theta, rtol=1e-10)
    assert np.linalg.norm(theta) == pytest.approx(3.84438, rel=1e-5)


def test_without_decay_the_norm_keeps_growing():
    X, y = source_data()
    rec = fit_logistic_regression(X, y, lr=0.1, num_steps=3000, checkpoints=[1000, 2000, 3000])
    assert np.all(np.diff(rec.norm) > 0.4)
    g = logistic_regression_grad(rec.final, X, y)
    assert np.all(np.abs(g) > 0)


def test_softmax_training_reduces_loss_on_blobs():
    X, y = gaussian_blobs(30, [[0, 3], [3, 0], [-3, -3]], seed=1)
    Xb = add_bias_column(X)
    rec = fit_softmax_regression(Xb, y, 3, lr=0.5, num_steps=200, checkpoints=[0, 200])
    assert rec.loss[0] == pytest.approx(math.log(3), rel=1e-15)
    assert rec.loss[1] < 0.1
    assert np.mean(softmax_regression_proba(rec.final, Xb).argmax(axis=1) == y) == 1.0


# ---------------------------------------------------------------------- max margin


def dual_coordinate_ascent(X, y, sweeps=3000):
    """Independent reference: alpha_n <- max(0, alpha_n + (1 - z_n.w)/|z_n|^2)."""
    Z = np.where(y == 1, 1.0, -1.0)[:, None] * X
    alpha = np.zeros(len(Z))
    w = np.zeros(X.shape[1])
    sq = (Z**2).sum(axis=1)
    for _ in range(sweeps):
        for n in range(len(Z)):
            new = max(0.0, alpha[n] + (1.0 - Z[n] @ w) / sq[n])
            w += (new - alpha[n]) * Z[n]
            alpha[n] = new
    return w


def test_max_margin_hand_case():
    # points (2, 1) (class 1) and (-2, -1) (class 0): w = (2, 1)/5, margin sqrt(5)
    res = max_margin_separator([[2.0, 1.0], [-2.0, -1.0], [3.0, 3.0]], [1, 0, 1])
    assert isinstance(res, MaxMarginResult)
    np.testing.assert_allclose(res.w, [0.4, 0.2], rtol=1e-14)
    assert res.margin == pytest.approx(math.sqrt(5), rel=1e-14)
    assert res.alpha[2] == 0.0


def test_max_margin_source_data_kkt_and_reference():
    X, y = source_data()
    res = max_margin_separator(X, y)
    kkt = res.kkt_residuals()
    assert set(kkt) == {"primal", "dual", "complementary", "stationarity"}
    assert max(kkt.values()) < 1e-13, kkt
    np.testing.assert_allclose(res.w, dual_coordinate_ascent(X, y, sweeps=1500), rtol=1e-9)
    assert res.margin == pytest.approx(0.0324067405, rel=1e-9)
    assert res.support.size == 2
    np.testing.assert_allclose(res.direction @ res.direction, 1.0, rtol=1e-15)


@pytest.mark.parametrize(("d", "n", "seed"), [(3, 60, 0), (5, 120, 1), (10, 300, 2)])
def test_max_margin_random_separable_sets(d, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) > 0).astype(int)
    res = max_margin_separator(X, y)
    kkt = res.kkt_residuals()
    assert max(kkt.values()) < 1e-10, kkt
    s = np.where(y == 1, 1.0, -1.0)
    margins = s * (X @ res.w)
    assert margins.min() == pytest.approx(1.0, abs=1e-10)
    # no other feasible direction does better: random perturbations lower the margin
    for _ in range(200):
        u = res.direction + 1e-3 * rng.normal(size=d)
        u /= np.linalg.norm(u)
        assert (s * (X @ u)).min() <= res.margin + 1e-12


def test_max_margin_matches_a_generic_qp_solver():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 4))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.3]) > 0).astype(int)
    s = np.where(y == 1, 1.0, -1.0)
    sol = scipy_optimize.minimize(
        lambda w: 0.5 * w @ w,
        x0=np.ones(4),
        jac=lambda w: w,
        constraints=[
            {"type": "ineq", "fun": lambda w: s * (X @ w) - 1, "jac": lambda w: s[:, None] * X}
        ],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    np.testing.assert_allclose(max_margin_separator(X, y).w, sol.x, rtol=1e-6)


def test_max_margin_rejects_non_separable_data():
    with pytest.raises(ValueError, match="not linearly separable"):
        max_margin_separator([[1.0, 0.0], [2.0, 0.0], [1.5, 0.0]], [1, 0, 1])
    with pytest.raises(ValueError, match="zero row"):
        max_margin_separator([[0.0, 0.0], [1.0, 0.0]], [1, 1])
    with pytest.raises(ValueError, match="labels 0 and 1"):
        max_margin_separator([[1.0], [2.0]], [1, 2])


# ---------------------------------------------------------------- gradient flow


def test_flow_agrees_with_small_step_gradient_descent():
    X, y = source_data()
    flow = logistic_gradient_flow(X, y, [10.0])
    gd = fit_logistic_regression(X, y, lr=0.001, num_steps=10_000)
    # GD with rate eta follows the flow up to O(eta)
    np.testing.assert_allclose(gd.final, flow.final, rtol=2e-3)
    # RK4 with 20 vs 200 steps per unit of log-time: truncation error ~ (1/20)**4 * C;
    # the measured difference is 5e-9
    fine = logistic_gradient_flow(X, y, [10.0], steps_per_unit=200)
    np.testing.assert_allclose(flow.final, fine.final, rtol=1e-7)


def test_flow_norm_slope_tends_to_the_max_margin_norm():
    X, y = source_data()
    w_hat = max_margin_separator(X, y).w
    flow = logistic_gradient_flow(X, y, [1e30, 1e40])
    slope = (flow.norm[1] - flow.norm[0]) / math.log(1e10)
    assert slope == pytest.approx(np.linalg.norm(w_hat), rel=1e-4)
    cos = flow.final @ w_hat / (flow.norm[1] * np.linalg.norm(w_hat))
    assert 1 - cos < 1e-6
    # focal loss with gamma = 2 has a tail exp(-3u): slope ||w_hat|| / 3
    focal = logistic_gradient_flow(X, y, [1e16, 1e20], gamma=2.0, steps_per_unit=5)
    slope_f = (focal.norm[1] - focal.norm[0]) / math.log(1e4)
    assert slope_f == pytest.approx(np.linalg.norm(w_hat) / 3, rel=2e-4)


# ------------------------------------------------------------------- bad input


def test_bad_input_raises_with_the_argument_name():
    X, y = small_binary()
    with pytest.raises(ValueError, match="X must be 2-D"):
        logistic_regression_loss(np.zeros(3), X[0], y)
    with pytest.raises(ValueError, match="theta must have shape"):
        logistic_regression_loss(np.zeros(2), X, y)
    with pytest.raises(ValueError, match="y must have shape"):
        logistic_regression_grad(np.zeros(3), X, y[:-1])
    with pytest.raises(ValueError, match="y must hold labels"):
        logistic_regression_grad(np.zeros(3), X, y + 1)
    with pytest.raises(ValueError, match="label_smoothing"):
        logistic_regression_loss(np.zeros(3), X, y, label_smoothing=1.0)
    with pytest.raises(ValueError, match="convention"):
        logistic_regression_loss(np.zeros(3), X, y, label_smoothing=0.1, convention="torch")
    with pytest.raises(ValueError, match="weight_decay"):
        logistic_regression_loss(np.zeros(3), X, y, weight_decay=-1.0)
    with pytest.raises(TypeError, match="X must be"):
        logistic_regression_loss(np.zeros(3), "abc", y)
    with pytest.raises(ValueError, match="X must be finite"):
        logistic_regression_loss(np.zeros(1), [[np.inf]], [1.0])
    with pytest.raises(ValueError, match="lr must"):
        fit_logistic_regression(X, y, lr=0.0, num_steps=3)
    with pytest.raises(ValueError, match="checkpoints"):
        fit_logistic_regression(X, y, lr=0.1, num_steps=3, checkpoints=[4])
    with pytest.raises(TypeError, match="checkpoints"):
        fit_logistic_regression(X, y, lr=0.1, num_steps=3, checkpoints=[1.5])
    with pytest.raises(TypeError, match="grad must be callable"):
        gradient_descent(3.0, [0.0], lr=0.1, num_steps=1)
    Xm, ym = small_multi()
    with pytest.raises(ValueError, match="W must have shape"):
        softmax_regression_loss(np.zeros((2, 4)), Xm, ym)
    with pytest.raises(ValueError, match="y holds class index"):
        softmax_regression_loss(np.zeros((3, 2)), Xm, ym)
    with pytest.raises(TypeError, match="y must hold integer"):
        softmax_regression_loss(np.zeros((3, 4)), Xm, ym.astype(float))
    with pytest.raises(ValueError, match="cannot be combined"):
        softmax_regression_loss(np.zeros((3, 4)), Xm, ym, gamma=2.0, label_smoothing=0.1)
    with pytest.raises(ValueError, match="times must be"):
        logistic_gradient_flow(X, y.astype(int), [1.0, 0.5])
    with pytest.raises(ValueError, match="W0 must have"):
        fit_softmax_regression(Xm, ym, 4, lr=0.1, num_steps=1, W0=np.zeros((3, 3)))
