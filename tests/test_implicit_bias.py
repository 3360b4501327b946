"""Tests for celesson.implicit_bias: the logistic asymptote and the polynomial-tail loss."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import celesson as cl
from celesson.implicit_bias import (
    LogisticAsymptote,
    logistic_asymptote,
    logistic_step_size_bound,
    sqrt_tail_gradient_flow,
    sqrt_tail_limit,
    sqrt_tail_loss,
    sqrt_tail_loss_curvature,
    sqrt_tail_loss_grad,
    sqrt_tail_regression_grad,
    sqrt_tail_regression_loss,
)
from celesson.linear import (
    log_time_gradient_flow,
    logistic_gradient_flow,
    logistic_regression_grad,
    logistic_regression_hessian,
    max_margin_separator,
)


def source_data() -> tuple[np.ndarray, np.ndarray]:
    """The separable 2-D data set of the divergence chapter (seed 0, 200 points)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    return X, y


# ------------------------------------------------------------ the logistic asymptote


def test_asymptote_two_orthogonal_points_is_exact():
    # z1 = e1, z2 = e2: each coordinate follows d theta/d tau = sigma(-theta) / 2 exactly,
    # solved by theta + e^theta - 1 = tau / 2, so theta - ln tau -> -ln 2 (mean loss)
    a = logistic_asymptote([[1.0, 0.0], [0.0, 1.0]], [1, 1])
    assert isinstance(a, LogisticAsymptote) and a.determined
    np.testing.assert_allclose(a.w_hat, [1.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(a.w_tilde, [-math.log(2)] * 2, rtol=1e-14)
    assert a.offset == pytest.approx(-math.sqrt(2) * math.log(2), rel=1e-14)
    assert a.angle_limit == pytest.approx(0.0, abs=1e-15)
    tau = 1e12
    with mpmath.workdps(40):
        exact = float(mpmath.findroot(lambda t: t + mpmath.exp(t) - 1 - mpmath.mpf(tau) / 2,
                                      math.log(tau)))
    assert exact - math.log(tau) == pytest.approx(-math.log(2), abs=1e-10)
    # with the sum of the losses alpha_n = exp(-z_n . w_tilde) and alpha = 1
    s = logistic_asymptote([[1.0, 0.0], [0.0, 1.0]], [1, 1], reduction="sum")
    np.testing.assert_allclose(s.w_tilde, [0.0, 0.0], atol=1e-15)


def test_asymptote_matches_the_integrated_flow_on_the_source_data():
    X, y = source_data()
    a = logistic_asymptote(X, y)
    taus = np.array([1e20, 1e30, 1e40])
    flow = logistic_gradient_flow(X, y, taus)
    resid = np.linalg.norm(flow.params - a.theta(taus), axis=1)
    assert resid[-1] < 1e-10 * flow.norm[-1]
    # the offset of the norm: closed form vs the flow, up to the O(1/ln tau) term
    offset_flow = flow.norm[-1] - np.linalg.norm(a.w_hat) * math.log(1e40)
    assert offset_flow == pytest.approx(a.offset, abs=5e-4)
    assert flow.norm[-1] == pytest.approx(float(a.norm(1e40)), rel=1e-13)
    cos = flow.params @ a.w_hat / (flow.norm * np.linalg.norm(a.w_hat))
    angle = np.arctan2(np.sqrt(np.maximum(0.0, 1 - cos**2)), cos)
    np.testing.assert_allclose(angle[1:], a.angle(taus[1:]), rtol=1e-7)
    # the residual decays like tau^-kappa: kappa from the third-nearest point's margin
    Z = (2 * y - 1)[:, None] * X
    assert a.decay_exponent == pytest.approx(np.sort(Z @ a.w_hat)[2] - 1.0, rel=1e-12)
    measured = -math.log(resid[1] / resid[0]) / math.log(1e10)
    assert measured == pytest.approx(a.decay_exponent, rel=2e-3)
    # closed-form offset: -sum alpha ln(N alpha) / ||w_hat||, and sum alpha = ||w_hat||^2
    S = a.support
    assert a.alpha[S].sum() == pytest.approx(a.w_hat @ a.w_hat, rel=1e-13)
    assert a.offset == pytest.approx(a.w_hat @ a.w_tilde / np.linalg.norm(a.w_hat), rel=1e-13)


def test_offset_does_not_depend_on_the_start():
    # the asymptote is a property of the support vectors, not of the transient
    X, y = source_data()
    a = logistic_asymptote(X, y)
    Z = (2 * y - 1)[:, None] * X
    row_sq = np.einsum("ij,ij->i", Z, Z) / len(y)
    # an independent gradient: -(1/N) sum sigma(-z.theta) z
    start = np.array([-5.0, 10.0])
    np.testing.assert_allclose(-Z.T @ cl.sigmoid(-Z @ start) / len(y),
                               logistic_regression_grad(start, X, y), rtol=1e-14)
    np.testing.assert_allclose(row_sq @ cl.sigmoid_grad(Z @ start),
                               np.trace(logistic_regression_hessian(start, X)), rtol=1e-13)
    for theta0 in ([0.0, 0.0], start):
        f = log_time_gradient_flow(lambda th: -Z.T @ cl.sigmoid(-Z @ th) / len(y),
                                   lambda th: float(row_sq @ cl.sigmoid_grad(Z @ th)),
                                   theta0, [1e40])
        np.testing.assert_allclose(f.final, a.theta(1e40), rtol=1e-10)


def test_asymptote_when_the_support_vectors_do_not_span():
    # support vectors e1, e2 in R^3: the third component of w_tilde is not fixed
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [2.0, 2.0, 1.0], [3.0, 1.0, -1.0]])
    y = np.ones(4)
    a = logistic_asymptote(X, y)
    assert not a.determined
    np.testing.assert_allclose(a.w_hat, [1.0, 1.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(a.w_tilde, [-math.log(4 * 1.0)] * 2 + [0.0], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="do not span"):
        _ = a.angle_limit
    # the offset needs only the support vectors: the flow confirms it
    flow = logistic_gradient_flow(X, y, [1e40])
    offset = flow.norm[-1] - np.linalg.norm(a.w_hat) * math.log(1e40)
    assert offset == pytest.approx(a.offset, abs=1e-2)
    np.testing.assert_allclose(flow.final[:2] - math.log(1e40), a.w_tilde[:2], rtol=1e-8)


def test_step_size_bound():
    X, _ = source_data()
    lam = np.linalg.eigvalsh(X.T @ X).max()
    assert logistic_step_size_bound(X) == pytest.approx(8 * 200 / lam, rel=1e-13)
    assert logistic_step_size_bound(X, reduction="sum") == pytest.approx(8 / lam, rel=1e-13)


# --------------------------------------------------------------- the polynomial tail


def _ulp_errors(f, ref, u):
    got = f(u)
    out = []
    for g, x in zip(got, u, strict=True):
        r = ref(mpmath.mpf(float(x)))
        rf = float(r)
        if rf == 0.0 or abs(rf) < 2.3e-308:
            continue
        out.append(float(abs(mpmath.mpf(float(g)) - r)) / float(np.spacing(abs(rf))))
    return np.array(out)


def _mp_sqrt(x):
    return mpmath.sqrt(x * x + 1)


def _mp_loss(x):
    return 1 / (_mp_sqrt(x) + x) if x >= 0 else _mp_sqrt(x) - x


@pytest.fixture(scope="module")
def wide_u():
    rng = np.random.default_rng(11)
    mags = 10 ** rng.uniform(-10, 300, 1500)
    return np.concatenate([rng.uniform(-4, 4, 1500), np.sign(rng.normal(size=1500)) * mags,
                           [0.0, 2.0**27, -(2.0**27), 2.0**500, 2.0**501, 1e308, -1e150]])


def test_sqrt_tail_functions_are_accurate(wide_u):
    mpmath.mp.dps = 60
    assert _ulp_errors(sqrt_tail_loss, _mp_loss, wide_u).max() <= 1.0
    assert _ulp_errors(sqrt_tail_loss_grad, lambda x: -_mp_loss(x) / _mp_sqrt(x),
                       wide_u).max() <= 2.0
    assert _ulp_errors(sqrt_tail_loss_curvature, lambda x: _mp_sqrt(x) ** -3,
                       wide_u).max() <= 1.0
    for f in (sqrt_tail_loss, sqrt_tail_loss_grad, sqrt_tail_loss_curvature):
        assert np.all(np.isfinite(f(wide_u[np.abs(wide_u) < 1e300])))


def test_naive_formula_would_be_rejected(wide_u):
    # sqrt(u^2 + 1) - u cancels for large u: the accuracy test above catches it
    mpmath.mp.dps = 60
    naive = _ulp_errors(lambda u: np.hypot(u, 1.0) - u, _mp_loss, wide_u[:3000])
    assert naive.max() > 1e6


def test_sqrt_tail_tail_and_gradient():
    u = np.array([1e3, 1e6, 1e9])
    np.testing.assert_allclose(sqrt_tail_loss(u) * 2 * u, 1.0, rtol=1e-6)
    np.testing.assert_allclose(sqrt_tail_loss_grad(u) * 2 * u**2, -1.0, rtol=1e-5)
    X, y = source_data()
    theta = np.array([0.7, -0.3])
    check = cl.check_gradient(lambda t: sqrt_tail_regression_loss(t, X, y),
                              lambda t: sqrt_tail_regression_grad(t, X, y), theta,
                              rtol=1e-7, atol=1e-12)
    assert check, str(check)


def test_sqrt_tail_limit_hand_cases():
    # e1, e2: v_i^3 = 3 / (2 N) = 3/4
    np.testing.assert_allclose(sqrt_tail_limit([[1.0, 0.0], [0.0, 1.0]], [1, 1]),
                               [0.75 ** (1 / 3)] * 2, rtol=1e-14)
    # e1 twice and e2 once (N = 3): v1^3 = 1, v2^3 = 1/2; the max-margin direction is (1, 1)
    X = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    np.testing.assert_allclose(sqrt_tail_limit(X, [1, 1, 1]), [1.0, 0.5 ** (1 / 3)], rtol=1e-14)
    np.testing.assert_allclose(max_margin_separator(X, [1, 1, 1]).w, [1.0, 1.0], rtol=1e-12)


def test_sqrt_tail_limit_direction_matches_a_generic_solver():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    X, y = source_data()
    Z = (2 * y - 1)[:, None] * X
    v = sqrt_tail_limit(X, y)
    # minimise sum 1/(z.u) over unit vectors u = (cos p, sin p) inside the separating cone,
    # whose edges are where some z_n . u = 0
    w0 = max_margin_separator(X, y).direction
    phi0 = math.atan2(w0[1], w0[0])
    rel = np.angle(np.exp(1j * (np.arctan2(Z[:, 1], Z[:, 0]) - phi0)))
    lo, hi = phi0 + rel.max() - math.pi / 2, phi0 + rel.min() + math.pi / 2
    res = scipy_optimize.minimize_scalar(
        lambda p: np.sum(1.0 / (Z @ np.array([math.cos(p), math.sin(p)]))),
        bounds=(lo + 1e-9, hi - 1e-9), method="bounded", options={"xatol": 1e-12})
    assert math.atan2(v[1], v[0]) == pytest.approx(res.x, abs=1e-7)
    # and it is the fixed point v = 3/(2N) sum z / (z.v)^2
    np.testing.assert_allclose(v, 1.5 / len(y) * Z.T @ (1 / (Z @ v) ** 2), rtol=1e-13)


def test_sqrt_tail_flow_agrees_with_small_step_descent():
    X, y = source_data()
    Z = (2 * y - 1)[:, None] * X
    theta = np.zeros(2)
    lr = 1e-3
    for _ in range(2_000):  # plain GD with the textbook derivative u / sqrt(u^2 + 1) - 1
        u = Z @ theta
        theta = theta - lr * Z.T @ (u / np.sqrt(u**2 + 1) - 1) / len(y)
    flow = sqrt_tail_gradient_flow(X, y, [2.0])
    np.testing.assert_allclose(theta, flow.final, rtol=2e-3)
    fine = sqrt_tail_gradient_flow(X, y, [2.0], steps_per_unit=200)
    np.testing.assert_allclose(flow.final, fine.final, rtol=1e-7)


def test_sqrt_tail_flow_grows_like_the_cube_root():
    X, y = source_data()
    v = sqrt_tail_limit(X, y)
    flow = sqrt_tail_gradient_flow(X, y, [1e15, 1e20])
    np.testing.assert_allclose(flow.params[1] / 1e20 ** (1 / 3), v, rtol=1e-7)
    exponent = math.log(flow.norm[1] / flow.norm[0]) / math.log(1e5)
    assert exponent == pytest.approx(1 / 3, rel=1e-8)
    # and the limit is not the max-margin direction
    w = max_margin_separator(X, y).direction
    assert math.acos(v @ w / np.linalg.norm(v)) > 0.02


def test_log_time_flow_on_an_exponential_loss():
    # L = exp(-theta): theta' = exp(-theta), theta(0) = 0, so theta(t) = ln(1 + t)
    times = [1.0, 1e10, 1e30]
    rec = log_time_gradient_flow(lambda t: -np.exp(-t), lambda t: float(np.exp(-t[0])), [0.0],
                                 times, loss=lambda t: float(np.exp(-t[0])))
    np.testing.assert_allclose(rec.params[:, 0], np.log1p(times), rtol=1e-8)
    np.testing.assert_allclose(rec.loss, 1 / (1 + np.array(times)), rtol=1e-7)


def test_bad_input():
    with pytest.raises(ValueError, match="reduction"):
        logistic_asymptote([[1.0]], [1], reduction="none")
    with pytest.raises(TypeError, match="reduction"):
        logistic_step_size_bound([[1.0]], reduction=1)
    with pytest.raises(ValueError, match="labels 0 and 1"):
        sqrt_tail_limit([[1.0]], [2])
    with pytest.raises(ValueError, match="theta must be"):
        sqrt_tail_regression_loss([1.0, 2.0], [[1.0]], [1])
    with pytest.raises(ValueError, match="not linearly separable"):
        logistic_asymptote([[1.0], [1.0]], [1, 0])
    with pytest.raises(ValueError, match="times must be"):
        sqrt_tail_gradient_flow([[1.0]], [1], [1.0, 0.5])
    with pytest.raises(TypeError, match="callable"):
        log_time_gradient_flow(None, lambda t: 0.0, [0.0], [1.0])
    with pytest.raises(ValueError, match="theta0 must be"):
        log_time_gradient_flow(lambda t: t, lambda t: 0.0, [[0.0]], [1.0])
