"""celesson.grads: every closed-form gradient against SymPy and central differences."""

from __future__ import annotations

import functools

import mpmath as mp
import mpref
import numpy as np
import pytest
import sympy as sp

import celesson as cl
from celesson import symbolic as S

mp.mp.dps = 50
RNG_SEED = 11
SHAPES = [(), (4,), (2, 3)]


def _lambdify_mp(expr, args):
    return sp.lambdify(args, expr, modules="mpmath")


def _rel_close(got, ref, rtol):
    """|got - ref| <= rtol * |ref| + tiny, elementwise, ref in mpmath."""
    got = np.asarray(got, dtype=float).ravel()
    for g, r in zip(got, ref, strict=True):
        assert abs(mp.mpf(float(g)) - r) <= rtol * abs(r) + mp.mpf(1e-300), (g, r)


# -------------------------------------------------------------- elementwise


_Y, _G, _AL = sp.Symbol("y", real=True), sp.Symbol("g", nonnegative=True), sp.Symbol("al")

ELEMENTWISE = {
    # name: (closed form(x, y, reduction), loss(x, y, reduction), sympy loss in (z, y))
    "bce_with_logits": (
        cl.binary_cross_entropy_with_logits_grad,
        cl.binary_cross_entropy_with_logits,
        S.bce_logits(S.z, _Y),
    ),
    "mse_sigmoid": (
        cl.mse_sigmoid_grad,
        lambda x, y, reduction: cl.mse_loss(cl.sigmoid(x), y, reduction=reduction),
        S.mse(S.sigma(S.z), _Y),
    ),
    "focal_g2": (
        functools.partial(cl.sigmoid_focal_loss_grad, gamma=2.0),
        functools.partial(cl.sigmoid_focal_loss, gamma=2.0),
        S.focal_logits(S.z, _Y, 2),
    ),
    "focal_g0.5_a0.25": (
        functools.partial(cl.sigmoid_focal_loss_grad, gamma=0.5, alpha=0.25),
        functools.partial(cl.sigmoid_focal_loss, gamma=0.5, alpha=0.25),
        S.focal_logits(S.z, _Y, sp.Rational(1, 2), sp.Rational(1, 4)),
    ),
    "focal_g3.7": (
        functools.partial(cl.sigmoid_focal_loss_grad, gamma=3.7),
        functools.partial(cl.sigmoid_focal_loss, gamma=3.7),
        S.focal_logits(S.z, _Y, sp.Float("3.7", 50)),
    ),
}


@functools.cache
def _sympy_derivative(name):
    return _lambdify_mp(sp.diff(ELEMENTWISE[name][2], S.z), (S.z, _Y))


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("target", ["hard", "soft"])
def test_elementwise_gradients(name, shape, target):
    grad, loss, _ = ELEMENTWISE[name]
    rng = np.random.default_rng(RNG_SEED)
    z = rng.uniform(-6, 6, shape)
    y = rng.integers(0, 2, shape).astype(float) if target == "hard" else rng.uniform(0, 1, shape)
    # 1. the SymPy derivative, evaluated with 50 digits
    deriv = _sympy_derivative(name)
    ref = [deriv(mp.mpf(a), mp.mpf(b)) for a, b in zip(np.ravel(z), np.ravel(y), strict=True)]
    _rel_close(grad(z, y, reduction="none"), ref, rtol=2e-14)
    # 2. central differences of the loss, for each reduction
    for reduction in ("sum", "mean"):
        check = cl.check_gradient(
            lambda v, r=reduction: loss(v, y, reduction=r),
            lambda v, r=reduction: grad(v, y, reduction=r),
            z,
            rtol=1e-6,
            atol=1e-10,
        )
        assert check, str(check)
    n = max(np.size(z), 1)
    per_sample = np.asarray(grad(z, y, reduction="none"))
    np.testing.assert_allclose(grad(z, y), per_sample / n, rtol=1e-15)  # the default: mean


def test_sigmoid_grad_against_sympy_and_tails():
    deriv = _lambdify_mp(sp.diff(S.sigma(S.z), S.z), (S.z,))
    z = np.array([-745.0, -700.0, -40.0, -3.0, 0.0, 1e-10, 2.5, 40.0, 700.0])
    got = cl.sigmoid_grad(z)
    for g, v in zip(got, z, strict=True):
        r = deriv(mp.mpf(v))
        assert abs(mp.mpf(float(g)) - r) <= 3 * abs(r) * mp.mpf(2) ** -53 + mp.mpf(2) ** -1074
    assert cl.sigmoid_grad(0.0) == 0.25


def test_binary_gradients_keep_relative_accuracy_in_the_tails():
    # sigma(z) - y for y = 1 is -sigma(-z): tiny but exact, not 0
    z = np.array([20.0, 40.0, 300.0, 700.0])
    got = cl.binary_cross_entropy_with_logits_grad(z, 1.0, reduction="none")
    for g, v in zip(got, z, strict=True):
        assert float(g) == pytest.approx(-float(1 / (1 + mp.exp(mp.mpf(v)))), rel=3e-16, abs=0)
    # focal gradient for a confident correct prediction: tiny and accurate
    deriv = _sympy_derivative("focal_g2")
    for v in (30.0, 60.0):
        ref = deriv(mp.mpf(v), mp.mpf(1))
        got = float(cl.sigmoid_focal_loss_grad(v, 1.0))
        assert got == pytest.approx(float(ref), rel=1e-14, abs=0)
        ref0 = deriv(mp.mpf(-v), mp.mpf(0))
        got0 = float(cl.sigmoid_focal_loss_grad(-v, 0.0))
        assert got0 == pytest.approx(float(ref0), rel=1e-14, abs=0)


def test_focal_gradient_with_gamma_zero_is_the_bce_gradient():
    z = np.linspace(-10, 10, 41)
    np.testing.assert_array_equal(cl.sigmoid_focal_loss_grad(z, 1.0, gamma=0.0),
                                  cl.binary_cross_entropy_with_logits_grad(z, 1.0))


@pytest.mark.parametrize("shape", SHAPES)
def test_probability_space_gradients(shape):
    rng = np.random.default_rng(RNG_SEED + 1)
    a = rng.uniform(0.01, 0.99, shape)
    y = rng.uniform(0, 1, shape)
    for grad, loss, expr in [
        (cl.binary_cross_entropy_grad, cl.binary_cross_entropy, S.bce(S.a, _Y)),
        (cl.mse_loss_grad, cl.mse_loss, S.mse(S.a, _Y)),
    ]:
        deriv = _lambdify_mp(sp.diff(expr, S.a), (S.a, _Y))
        ref = [deriv(mp.mpf(u), mp.mpf(v)) for u, v in zip(np.ravel(a), np.ravel(y), strict=True)]
        _rel_close(grad(a, y, reduction="none"), ref, rtol=1e-14)
        assert cl.check_gradient(lambda v, g=loss: g(v, y, reduction="mean"),
                                 lambda v, g=grad: g(v, y, reduction="mean"), a)
    assert cl.binary_cross_entropy_grad(0.0, 1.0) == -np.inf
    assert cl.binary_cross_entropy_grad(0.0, 0.0) == 1.0


# ---------------------------------------------------------------- multi-class


@functools.cache
def _ce_derivatives(k, target, eps):
    zs = S.softmax_symbols(k)
    if eps == 0:
        expr = S.cross_entropy(zs, target)
    else:
        expr = S.cross_entropy(zs, S.smooth_labels(target, k, sp.Rational(eps)))
    return zs, [_lambdify_mp(sp.diff(expr, v), zs) for v in zs]


@functools.cache
def _softmax_focal_derivatives(k, target, gamma):
    zs = S.softmax_symbols(k)
    expr = S.focal(S.softmax(zs)[target], gamma)
    return zs, [_lambdify_mp(sp.diff(expr, v), zs) for v in zs]


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("eps", ["0", "1/10"])
def test_cross_entropy_gradient_against_sympy(k, eps):
    rng = np.random.default_rng(k)
    z = rng.uniform(-5, 5, (3, k))
    t = rng.integers(0, k, 3)
    eps_f = float(sp.Rational(eps))
    got = cl.cross_entropy_grad(z, t, label_smoothing=eps_f, reduction="none")
    for row, target, g in zip(z, t, got, strict=True):
        _, derivs = _ce_derivatives(k, int(target), sp.Rational(eps))
        ref = [d(*[mp.mpf(v) for v in row]) for d in derivs]
        _rel_close(g, ref, rtol=1e-13)
    # central differences, mean over the batch, class axis first
    check = cl.check_gradient(
        lambda v: cl.cross_entropy(v, t, axis=0, label_smoothing=eps_f),
        lambda v: cl.cross_entropy_grad(v, t, axis=0, label_smoothing=eps_f, reduction="mean"),
        z.T,
    )
    assert check, str(check)
    # probability targets give the same gradient as the equivalent one-hot rows
    np.testing.assert_allclose(
        cl.cross_entropy_grad(z, np.eye(k)[t], label_smoothing=eps_f, reduction="none"), got,
        rtol=1e-12,
        atol=1e-16,
    )


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("gamma", [0, sp.Rational(1, 2), 2])
def test_softmax_focal_gradient_against_sympy(k, gamma):
    rng = np.random.default_rng(7 * k)
    z = rng.uniform(-4, 4, (3, k))
    t = rng.integers(0, k, 3)
    got = cl.softmax_focal_loss_grad(z, t, gamma=float(gamma), reduction="none")
    for row, target, g in zip(z, t, got, strict=True):
        _, derivs = _softmax_focal_derivatives(k, int(target), gamma)
        ref = [d(*[mp.mpf(v) for v in row]) for d in derivs]
        _rel_close(g, ref, rtol=1e-13)
    check = cl.check_gradient(
        lambda v: cl.softmax_focal_loss(v, t, gamma=float(gamma), reduction="sum"),
        lambda v: cl.softmax_focal_loss_grad(v, t, gamma=float(gamma), reduction="sum"),
        z,
    )
    assert check, str(check)


def test_cross_entropy_gradient_for_a_confident_row_is_accurate():
    # p_t - 1 = -(tiny): from expm1, not 1 - 1
    row = np.array([40.0, 0.0, -3.0])
    g = cl.cross_entropy_grad(row, 0)
    _, derivs = _ce_derivatives(3, 0, sp.Rational(0))
    ref = [d(*[mp.mpf(v) for v in row]) for d in derivs]
    _rel_close(g, ref, rtol=4e-16)
    assert g[0] < 0.0


def test_nll_loss_gradient():
    lp = np.log(np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    t = np.array([1, 0, 0])
    assert cl.nll_loss_grad(lp, t, reduction="none").tolist() == [
        [0.0, -1.0], [-1.0, 0.0], [-1.0, 0.0]]
    assert cl.check_gradient(lambda v: cl.nll_loss(v, t),
                             lambda v: cl.nll_loss_grad(v, t, reduction="mean"), lp)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_softmax_jacobian(k):
    zs = S.softmax_symbols(k)
    jac = sp.Matrix(S.softmax(zs)).jacobian(zs)
    fn = _lambdify_mp(jac, zs)
    rng = np.random.default_rng(k)
    z = rng.uniform(-3, 3, (2, k))
    got = cl.softmax_jacobian(z)
    assert got.shape == (2, k, k)
    for row, j in zip(z, got, strict=True):
        ref = fn(*[mp.mpf(v) for v in row])
        _rel_close(j.ravel(), [ref[r, c] for r in range(k) for c in range(k)], rtol=1e-14)
        np.testing.assert_allclose(j.sum(axis=1), 0.0, atol=1e-16)
        np.testing.assert_array_equal(j, j.T)
        for c in range(k):  # column c by central differences of softmax
            num = cl.numerical_gradient(lambda v, c=c: cl.softmax(v)[c], row)
            np.testing.assert_allclose(num, j[c], rtol=1e-7, atol=1e-10)
    # class axis first: batch axes then the two class axes
    np.testing.assert_allclose(cl.softmax_jacobian(z.T, axis=0), got, rtol=0, atol=0)


def test_softmax_jacobian_diagonal_keeps_digits_when_one_class_dominates():
    # J_ii = p_i (1 - p_i); computed as p_i - p_i**2 it would cancel when p_i ~ 1
    z = [30.0, 0.0, -2.0]
    jac = cl.softmax_jacobian(z)
    lse = mp.log(sum(mp.exp(mp.mpf(v)) for v in z))
    for i, v in enumerate(z):
        p = mp.exp(mp.mpf(v) - lse)
        _rel_close([jac[i, i]], [p * (1 - p)], rtol=1e-15)


# ---------------------------------------------------------------- checker


def test_numerical_gradient_and_checker_can_fail():
    def f(v):
        return float(np.sum(np.sin(v) * v))

    def g(v):
        return np.cos(v) * v + np.sin(v)

    x = np.array([[0.3, -1.2], [2.0, 0.0]])
    np.testing.assert_allclose(cl.numerical_gradient(f, x), g(x), rtol=1e-9, atol=1e-11)
    good = cl.check_gradient(f, g, x)
    assert good and good.ok and good.max_rel_error < 1e-8
    bad = cl.check_gradient(f, lambda v: g(v) * (1 + 1e-4), x)
    assert not bad
    assert "FAILED" in str(bad) and "passed" in str(good)
    assert "max_abs_error" in repr(good)
    assert cl.check_gradient(f, g(x), x)  # an array instead of a function
    assert float(cl.numerical_gradient(lambda v: v**2, 3.0, h=1e-3)) == pytest.approx(6.0, abs=0)


def test_checker_input_errors():
    with pytest.raises(TypeError, match="f must be callable"):
        cl.numerical_gradient(3.0, [1.0])
    with pytest.raises(TypeError, match="f must return a real scalar"):
        cl.numerical_gradient(lambda v: v, [1.0, 2.0])
    with pytest.raises(ValueError, match="h must be positive"):
        cl.numerical_gradient(lambda v: float(v.sum()), [1.0], h=0.0)
    with pytest.raises(ValueError, match="h must be a scalar or have x's shape"):
        cl.numerical_gradient(lambda v: float(v.sum()), [1.0], h=[1e-3, 1e-3])
    with pytest.raises(ValueError, match="x must be finite"):
        cl.numerical_gradient(lambda v: float(v.sum()), [np.inf])
    with pytest.raises(ValueError, match="grad must have x's shape"):
        cl.check_gradient(lambda v: float(v.sum()), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="rtol"):
        cl.check_gradient(lambda v: float(v.sum()), np.ones(2), np.ones(2), rtol=-1.0)


# Measured worst-case ULP errors on mpref.adversarial_scalars() (see test_numerics).
# e / (1 + e)**2 with the square formed exactly: measured 1.209 (the product of two
# rounded sigmoids, sigma(z) sigma(-z), measured 2.520 here and fails).
SIGMOID_GRAD_MAX_ULP = mpref.ULP_TARGET
BCE_GRAD_MAX_ULP = mpref.ULP_TARGET  # measured 1.560: one sigmoid (y in {0, 1})


def test_sigmoid_and_bce_gradients_ulp_on_adversarial_set():
    zs = mpref.adversarial_scalars()
    worst, _ = mpref.worst_ulp(
        cl.sigmoid_grad(zs), [mpref.sigmoid(v) * mpref.sigmoid(-v) for v in zs]
    )
    assert worst <= SIGMOID_GRAD_MAX_ULP
    for y, sign in ((1.0, -1), (0.0, 1)):
        refs = [sign * mpref.sigmoid(sign * v) for v in zs]
        got = cl.binary_cross_entropy_with_logits_grad(zs, y, reduction="none")
        worst, _ = mpref.worst_ulp(got, refs)
        assert worst <= BCE_GRAD_MAX_ULP


# ------------------------------------------- weight, ignore_index, pos_weight


@pytest.mark.parametrize("eps", [0.0, 0.15])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", [None, -100, 2])
def test_weighted_cross_entropy_grad_matches_central_differences(eps, reduction, ignore):
    rng = np.random.default_rng(5)
    z0 = 2.0 * rng.standard_normal((5, 4))
    t = np.array([0, 2, 3, 1, 2])
    if ignore is not None:
        t = np.where([False, True, False, False, True], ignore, t)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    opts = dict(label_smoothing=eps, weight=w, ignore_index=ignore)
    g = cl.cross_entropy_grad(z0, t, reduction=reduction, **opts)
    cot = rng.standard_normal(5) if reduction == "none" else None

    def f(z):
        v = cl.cross_entropy(z, t, reduction=reduction, **opts)
        return float(np.sum(v * cot)) if cot is not None else float(v)

    analytic = g * cot[:, None] if cot is not None else g
    assert cl.check_gradient(f, analytic, z0, rtol=1e-6, atol=1e-9)


def test_weighted_probability_target_grad_matches_central_differences():
    rng = np.random.default_rng(6)
    z0 = rng.standard_normal((3, 4))
    y = rng.dirichlet(np.ones(4), size=3)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    g = cl.cross_entropy_grad(z0, y, label_smoothing=0.1, weight=w, reduction="mean")
    check = cl.check_gradient(
        lambda z: float(cl.cross_entropy(z, y, label_smoothing=0.1, weight=w)), g, z0)
    assert check


def test_weighted_nll_grad_is_minus_weight_over_total():
    lp = np.log(np.full((3, 2), 0.5))
    g = cl.nll_loss_grad(lp, [1, -100, 0], weight=[3.0, 1.0], ignore_index=-100,
                         reduction="mean")
    assert g.tolist() == [[0.0, -0.25], [0.0, 0.0], [-0.75, 0.0]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_pos_weight_grad_matches_central_differences(reduction):
    rng = np.random.default_rng(8)
    z0 = 3.0 * rng.standard_normal((4, 3))
    y = np.where(rng.random((4, 3)) < 0.5, 1.0, 0.0)
    y[0] = [0.2, 0.7, 0.5]
    opts = dict(pos_weight=np.array([0.5, 4.0, 1.0]), weight=np.array([[1.0], [2.0], [0.0], [1.5]]))
    g = cl.binary_cross_entropy_with_logits_grad(z0, y, reduction=reduction, **opts)
    cot = rng.standard_normal((4, 3)) if reduction == "none" else 1.0

    def f(z):
        return float(np.sum(
            cl.binary_cross_entropy_with_logits(z, y, reduction=reduction, **opts) * cot))

    assert cl.check_gradient(f, g * cot, z0)


def test_bce_grad_with_weights_wider_than_the_logits():
    """A weight of shape (2, 3) over logits of shape (3,): the gradient has the broadcast
    shape, and equals the gradient of explicitly broadcast logits and targets."""
    z = np.array([0.3, -1.2, 2.0])
    y = np.array([1.0, 0.0, 0.4])
    w = np.array([[1.0, 2.0, 0.5], [0.3, 1.0, 1.0]])
    for reduction in ("none", "sum", "mean"):
        got = cl.binary_cross_entropy_with_logits_grad(z, y, weight=w, pos_weight=2.0,
                                                       reduction=reduction)
        wide = cl.binary_cross_entropy_with_logits_grad(
            np.broadcast_to(z, w.shape), np.broadcast_to(y, w.shape), weight=w, pos_weight=2.0,
            reduction=reduction)
        assert got.shape == w.shape
        np.testing.assert_array_equal(got, wide)


def test_bce_pos_weight_moves_the_optimum_by_log_p():
    """For a soft target y the loss is stationary at logit(y) + log(p), not at logit(y)."""
    y, p = 0.2, 4.0
    z_star = float(mp.log(y / (1 - y)) + mp.log(p))
    assert abs(cl.binary_cross_entropy_with_logits_grad(z_star, y, pos_weight=p)) < 1e-15
    z_logit = float(mp.log(y / (1 - y)))
    assert abs(cl.binary_cross_entropy_with_logits_grad(z_logit, y, pos_weight=p)) > 0.1


def test_bce_pos_weight_grad_keeps_relative_accuracy_for_large_logits():
    z = np.array([40.0, 200.0, 700.0])
    g = cl.binary_cross_entropy_with_logits_grad(z, 1.0, pos_weight=3.0, reduction="none")
    for gi, zi in zip(g, z, strict=True):
        ref = -3 / (1 + mp.exp(mp.mpf(zi)))  # -p sigma(-z), without 1 - sigma(z)
        assert abs(mp.mpf(float(gi)) - ref) <= 4 * abs(ref) * mp.mpf(2) ** -53


@pytest.mark.parametrize(("p", "w"), [(None, 0.7), (0.25, None), (3.0, None), (3.0, 0.7)])
def test_bce_weighted_gradients_ulp_on_adversarial_set(p, w):
    """For 0/1 targets the gradient is one term, -w p sigma(-z) or w sigma(z): within the
    ULP target like the unweighted one, subnormal gradients (|z| near 745) included."""
    zs = mpref.adversarial_scalars()
    for y, sign in ((1.0, -1), (0.0, 1)):
        scale = mp.mpf(1 if w is None else w) * mp.mpf(1 if (p is None or y == 0) else p)
        refs = [scale * sign * mpref.sigmoid(sign * v) for v in zs]
        got = cl.binary_cross_entropy_with_logits_grad(zs, y, pos_weight=p, weight=w,
                                                       reduction="none")
        worst, where = mpref.worst_ulp(got, refs)
        assert worst <= BCE_GRAD_MAX_ULP, (worst, zs[where])


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_weighted_cross_entropy_gradient_against_mpmath(k, eps):
    """C p_j - c_j with c_j = (1 - eps) w_t [j = t] + eps/K w_j and C = sum_j c_j, at 50
    digits: to the relative accuracy asserted for the unweighted gradient."""
    rng = np.random.default_rng(30 + k)
    z = rng.uniform(-5, 5, (6, k))
    t = rng.integers(0, k, 6)
    w = rng.uniform(0.1, 3.0, k)
    got = cl.cross_entropy_grad(z, t, label_smoothing=eps, weight=w, reduction="none")
    e = mp.mpf(eps)
    for row, target, g in zip(z, t, got, strict=True):
        zs = [mp.mpf(float(v)) for v in row]
        total = mp.fsum(mp.exp(v) for v in zs)
        c = [(1 - e) * mp.mpf(float(w[target])) * (j == target) + e / k * mp.mpf(float(w[j]))
             for j in range(k)]
        _rel_close(g, [mp.fsum(c) * mp.exp(zs[j]) / total - c[j] for j in range(k)], rtol=1e-13)
