"""Tests of celesson.ghosts: zeros of the partition function, radii, JVPs and the controller."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from celesson import ghosts as gh
from celesson.grads import check_gradient
from celesson.losses import cross_entropy
from celesson.mlp import MLP
from celesson.optim import Adam, GradientDescent

PI = np.pi


def _F_mp(z, a, t):
    """F(t) and the sum of |terms| in 40-digit arithmetic."""
    with mpmath.workdps(40):
        terms = [mpmath.exp(mpmath.mpf(float(zk)) + mpmath.mpf(float(ak)) * t)
                 for zk, ak in zip(z, a, strict=True)]
        return mpmath.fsum(terms), mpmath.fsum(abs(u) for u in terms)


def _ulp_rel(x: float, ref) -> float:
    """|x - ref| in units of the last place of ref."""
    return abs(mpmath.mpf(x) - ref) / np.spacing(abs(float(ref)))


# ---------------------------------------------------------------------------- two classes
def test_binary_zeros_real_part_has_the_correct_sign():
    # delta = z1 - z2 = 2, a1 - a2 = 1: the logits cross at tau = -2, not +2
    t0 = gh.binary_zeros(2.0, 1.0, 0)
    assert t0 == pytest.approx(complex(-2.0, PI), abs=1e-15)
    assert gh.binary_zeros(2.0, -1.0, 0) == pytest.approx(complex(2.0, -PI), abs=1e-15)
    # m and -1 - m are conjugates
    pair = gh.binary_zeros(0.7, 1.3, np.array([0, -1]))
    assert pair[0] == pytest.approx(np.conj(pair[1]), abs=1e-15)


def test_binary_zeros_are_zeros_of_F():
    rng = np.random.default_rng(0)
    for _ in range(50):
        z, a = 3 * rng.standard_normal(2), rng.standard_normal(2)
        for m in (-3, -1, 0, 2):
            t = gh.binary_zeros(z[0] - z[1], a[0] - a[1], m)
            F, size = _F_mp(z, a, mpmath.mpc(t.real, t.imag))
            assert abs(F) < 1e-14 * size, (z, a, m)
        # the logits cross at the real part
        re = gh.binary_zeros(z[0] - z[1], a[0] - a[1], 0).real
        assert z[0] + a[0] * re == pytest.approx(z[1] + a[1] * re, abs=1e-12)


def test_rho_binary_matches_mpmath_to_a_few_ulp():
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(500):
        d = float(rng.standard_normal() * 10 ** rng.uniform(-3, 3))
        da = float(rng.standard_normal() * 10 ** rng.uniform(-3, 3))
        with mpmath.workdps(50):
            ref = mpmath.sqrt(mpmath.mpf(d) ** 2 + mpmath.pi**2) / abs(mpmath.mpf(da))
        worst = max(worst, _ulp_rel(gh.rho_binary(d, da), ref))
    assert worst <= 3.0


def test_rho_binary_equals_nearest_zero_from_the_root_finder():
    rng = np.random.default_rng(2)
    for _ in range(40):
        z, a = 3 * rng.standard_normal(2), rng.standard_normal(2)
        t = gh.nearest_zero(z, a)
        assert t.imag > 0
        expected = gh.binary_zeros(z[0] - z[1], a[0] - a[1], np.array([0, -1]))
        expected = expected[np.argmax(expected.imag)]
        assert abs(t - expected) <= 4e-16 * abs(expected) + 1e-300
        assert abs(t) == pytest.approx(gh.rho_binary(z[0] - z[1], a[0] - a[1]), rel=1e-15)


def test_rho_binary_rejects_wrong_answers():
    # the values a typical slip would give must differ
    d, da = 1.5, 0.8
    rho = gh.rho_binary(d, da)
    assert rho == pytest.approx(np.hypot(1.5, PI) / 0.8, rel=1e-15)
    assert rho != pytest.approx(abs(d) / da)  # forgot pi
    assert rho != pytest.approx(PI / da)  # forgot delta
    assert gh.rho_binary(d, -da) == rho  # the sign of a1 - a2 does not matter
    assert gh.rho_binary(0.0, 2.0) == pytest.approx(PI / 2.0, rel=1e-15)
    assert gh.rho_binary(1.0, 0.0) == np.inf
    np.testing.assert_allclose(gh.rho_binary([0.0, 1.0], 2.0), [PI / 2, np.hypot(1, PI) / 2])


# ---------------------------------------------------------------------------- K classes
def _polyroot_nearest(z, a):
    """Nearest zero for integer a_k: F is a polynomial in w = e^tau (mpmath.polyroots)."""
    ai = np.asarray(a, dtype=int)
    shift = ai - ai.min()
    deg = int(shift.max())
    coeffs = [mpmath.mpf(0)] * (deg + 1)
    for zk, ak in zip(z, shift, strict=True):
        coeffs[deg - ak] += mpmath.exp(mpmath.mpf(float(zk)))
    with mpmath.workdps(50):
        roots = mpmath.polyroots(coeffs, maxsteps=400, extraprec=300)
        taus = [mpmath.log(w) for w in roots]  # principal log: the nearest copy of each root
    return min(taus, key=abs), taus


def test_nearest_zero_matches_polynomial_roots_for_integer_rates():
    rng = np.random.default_rng(3)
    checked = 0
    while checked < 25:
        k = int(rng.integers(2, 7))
        z = 2 * rng.standard_normal(k)
        a = rng.integers(-4, 5, size=k).astype(float)
        if a.max() == a.min():
            continue
        ref, _ = _polyroot_nearest(z, a)
        t = gh.nearest_zero(z, a)
        assert abs(abs(t) - float(abs(ref))) <= 4e-16 * float(abs(ref)), (z, a)
        F, size = _F_mp(z, a, mpmath.mpc(t.real, t.imag))
        assert abs(F) < 1e-13 * size
        checked += 1


def test_count_and_all_zeros_in_a_disc_match_polynomial_roots():
    rng = np.random.default_rng(4)
    for _ in range(10):
        k = int(rng.integers(3, 6))
        z = rng.standard_normal(k)
        a = rng.integers(-3, 4, size=k).astype(float)
        if a.max() == a.min():
            continue
        near, taus = _polyroot_nearest(z, a)
        copies = [
            complex(t + 2j * mpmath.pi * n) for t in taus for n in range(-40, 41)
        ]
        R = 3.0 * float(abs(near))
        while any(abs(abs(t) - R) < 0.01 * R for t in copies):  # keep the circle clear
            R *= 1.03
        expected = sorted((t for t in copies if abs(t) < R), key=abs)
        found = gh.zeros_in_disc(z, a, R)
        assert len(found) == len(expected) >= 2
        for t in expected:
            assert min(abs(t - f) for f in found) < 1e-12 * R
        assert gh.count_zeros(z, a, 0.999 * float(abs(near))) == 0
        assert gh.count_zeros(z, a, R) == len(expected)


def test_multiclass_bound_holds_on_random_cases():
    rng = np.random.default_rng(5)
    ratios = []
    for _ in range(60):
        k = int(rng.integers(3, 11))
        z = 2 * rng.standard_normal(k)
        a = rng.standard_normal(k) * 10 ** rng.uniform(-1, 1)
        rho_a = gh.rho_multiclass(a)
        t = gh.nearest_zero(z, a)
        # every zero in a disc has |Im tau| >= pi / spread, so the nearest one is outside rho_a
        for zero in gh.zeros_in_disc(z, a, 1.5 * abs(t)):
            assert abs(zero.imag) >= rho_a * (1 - 1e-12)
        ratios.append(abs(t) / rho_a)
    assert min(ratios) >= 1 - 1e-12
    assert max(ratios) > 1.5  # a lower bound, not the radius


def test_multiclass_bound_is_attained_and_top2_is_not_a_bound():
    # two classes with equal logits: the nearest zero is i pi / spread exactly
    t = gh.nearest_zero([0.3, 0.3], [1.0, -1.5])
    assert t == pytest.approx(complex(0.0, PI / 2.5), abs=1e-15)
    assert abs(t) == pytest.approx(gh.rho_multiclass([1.0, -1.5]), rel=1e-15)
    # three classes: the top-2 formula overestimates the radius here
    z = np.array([-1.54691912, -1.70070809, 0.89794183])
    a = np.array([-1.55384122, -1.39983467, 1.27509354])
    top = np.argsort(z)[::-1][:2]
    top2 = gh.rho_binary(z[top[0]] - z[top[1]], a[top[0]] - a[top[1]])
    assert abs(gh.nearest_zero(z, a)) < 0.95 * top2
    assert abs(gh.nearest_zero(z, a)) >= gh.rho_multiclass(a)


def test_rho_multiclass_and_dataset():
    a = np.array([[0.0, 1.0, -1.0], [0.5, 0.5, 0.5], [3.0, -1.0, 0.0]])
    np.testing.assert_allclose(gh.logit_spread(a), [2.0, 0.0, 4.0])
    np.testing.assert_allclose(gh.rho_multiclass(a), [PI / 2, np.inf, PI / 4])
    assert gh.rho_dataset(a) == pytest.approx(PI / 4)
    # |a1| + |a2| is not the spread
    assert gh.rho_multiclass([2.0, 1.0]) == pytest.approx(PI)
    # temperature: logits z / T move with a / T, so the radius scales with T
    assert gh.rho_multiclass(a[2] / 4.0) == pytest.approx(4.0 * PI / 4)
    with pytest.raises(ValueError, match="a"):
        gh.rho_multiclass([1.0])
    with pytest.raises(ValueError, match="a"):
        gh.rho_dataset(np.zeros((0, 3)))


def test_nearest_zero_input_checks():
    with pytest.raises(ValueError, match="a must not"):
        gh.nearest_zero([0.0, 1.0], [2.0, 2.0])
    with pytest.raises(ValueError, match="a must have the shape"):
        gh.nearest_zero([0.0, 1.0], [2.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="z must be 1-D"):
        gh.nearest_zero([0.0], [1.0])
    with pytest.raises(TypeError, match="z"):
        gh.nearest_zero(["x", "y"], [1.0, 2.0])
    with pytest.raises(ValueError, match="delta_a"):
        gh.binary_zeros(1.0, 0.0)
    with pytest.raises(TypeError, match="m"):
        gh.binary_zeros(1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="radius"):
        gh.count_zeros([0.0, 1.0], [1.0, 0.0], -1.0)


# ---------------------------------------------------------------------------- Taylor series
def test_taylor_coefficients_match_sympy_and_the_radius():
    import sympy as sp

    z = np.array([1.0, 0.2, -0.5])
    a = np.array([0.3, -0.8, 1.1])
    c = gh.line_loss_taylor(z, a, 1, 6)
    t = sp.Symbol("t")
    zs = [sp.Rational(1), sp.Rational(1, 5), sp.Rational(-1, 2)]
    as_ = [sp.Rational(3, 10), sp.Rational(-4, 5), sp.Rational(11, 10)]
    F = sum(sp.exp(zk + ak * t) for zk, ak in zip(zs, as_, strict=True))
    ell = -zs[1] - as_[1] * t + sp.log(F)
    for n in range(7):
        exact = sp.N(ell.subs(t, 0) / sp.factorial(n), 30)
        assert float(c[n]) == pytest.approx(float(exact), rel=1e-14, abs=1e-16)
        ell = sp.diff(ell, t)
    # the root test recovers the distance to the nearest zero
    rng = np.random.default_rng(6)
    for _ in range(4):
        k = int(rng.integers(2, 8))
        zz, aa = 2 * rng.standard_normal(k), rng.standard_normal(k)
        rho = abs(gh.nearest_zero(zz, aa))
        cc = gh.line_loss_taylor(zz, aa, 0, 100)
        estimate = min(float((n * abs(cc[n])) ** (-1.0 / n)) for n in range(70, 101))
        assert 0.97 * rho < estimate < 1.01 * rho
        # partial sums converge inside the radius and blow up outside
        inside, outside = 0.8 * rho, 1.2 * rho
        p_in = sum(float(cc[n]) * inside**n for n in range(101))
        p_out = sum(float(cc[n]) * outside**n for n in range(101))
        assert p_in == pytest.approx(gh.line_loss(zz, aa, 0, inside), abs=1e-6)
        assert abs(p_out - gh.line_loss(zz, aa, 0, outside)) > 100.0


def test_line_loss_is_cross_entropy_of_moved_logits():
    z = np.array([0.5, -1.0, 2.0])
    a = np.array([1.0, 0.0, -2.0])
    taus = np.array([-1.0, 0.0, 0.5, 3.0])
    expected = cross_entropy(z + taus[:, None] * a, np.full(4, 2), reduction="none")
    got = gh.line_loss(z, a, 2, taus)
    np.testing.assert_allclose(got, expected, rtol=4e-16)
    with mpmath.workdps(50):
        for t, value in zip(taus, got, strict=True):
            moved = [mpmath.mpf(float(zk)) + mpmath.mpf(float(t)) * float(ak)
                     for zk, ak in zip(z, a, strict=True)]
            ref = mpmath.log(mpmath.fsum(mpmath.exp(m) for m in moved)) - moved[2]
            assert _ulp_rel(float(value), ref) <= 3.0
    with pytest.raises(ValueError, match="y"):
        gh.line_loss(z, a, 3, 0.0)


def test_log_abs_partition_is_minus_infinity_like_at_zeros():
    z, a = np.array([0.2, -0.4]), np.array([1.0, -0.5])
    t = gh.binary_zeros(0.6, 1.5, 0)
    assert gh.log_abs_partition(z, a, t) < -30
    assert gh.log_abs_partition(z, a, 0.0) == pytest.approx(np.log(np.exp(0.2) + np.exp(-0.4)))
    # far away, no overflow
    assert np.isfinite(gh.log_abs_partition(z, a, 2000.0 + 5j))


# ---------------------------------------------------------------------------- models
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_directional_derivatives_match_finite_differences(activation):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20, 5))
    net = MLP([5, 7, 4], activation=activation, seed=3)
    v = rng.standard_normal(net.num_params)
    a = gh.directional_derivatives(net, X, v)
    unit = v / np.linalg.norm(v)
    theta = net.flat_params()
    h = 1e-6
    plus, minus = net.copy(), net.copy()
    plus.set_flat_params(theta + h * unit)
    minus.set_flat_params(theta - h * unit)
    fd = (plus.forward(X) - minus.forward(X)) / (2 * h)
    np.testing.assert_allclose(a, fd, rtol=1e-6, atol=1e-8)
    # without normalisation the derivatives carry the length of the direction
    np.testing.assert_allclose(
        gh.directional_derivatives(net, X, v, normalize=False), np.linalg.norm(v) * a, rtol=1e-12
    )


def test_softmax_regression_derivatives_are_exact():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((30, 6))
    net = MLP([6, 3], output="softmax", seed=1)
    dW, db = rng.standard_normal((3, 6)), rng.standard_normal(3)
    a = gh.linear_logit_derivatives(X, dW, db)
    np.testing.assert_allclose(a, net.jvp(X, [dW, db])[1], rtol=1e-13, atol=1e-13)
    # the logits move exactly on lines, even for a long step
    moved = net.copy()
    moved.set_flat_params(net.flat_params() + 5.0 * np.concatenate([dW.ravel(), db]))
    np.testing.assert_allclose(moved.forward(X), net.forward(X) + 5.0 * a, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="dW"):
        gh.linear_logit_derivatives(X, dW[:, :5], db)
    with pytest.raises(ValueError, match="db"):
        gh.linear_logit_derivatives(X, dW, db[:2])


def test_normalized_step_and_rescale():
    p = [np.array([[3.0, 0.0]]), np.array([4.0])]
    assert gh.update_norm(p) == pytest.approx(5.0)
    assert gh.normalized_step(p, 2.0) == pytest.approx(10.0 / PI)
    assert gh.normalized_step(0.5, PI) == pytest.approx(0.5)
    scaled, s = gh.rescale_to_radius(p, 2.5)
    assert s == pytest.approx(0.5)
    assert gh.update_norm(scaled) == pytest.approx(2.5)
    same, s1 = gh.rescale_to_radius(p, 7.0)
    assert s1 == 1.0 and np.array_equal(same[1], p[1])
    assert gh.update_norm([np.array([1e200, 1e200])]) == pytest.approx(np.sqrt(2) * 1e200)
    with pytest.raises(ValueError, match="delta_a"):
        gh.normalized_step(p, -1.0)
    with pytest.raises(ValueError, match="rho"):
        gh.rescale_to_radius(p, 0.0)
    with pytest.raises(ValueError, match="update"):
        gh.update_norm([np.array([np.nan])])


def test_controller_never_lets_r_exceed_one():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((40, 8))
    y = rng.integers(0, 3, 40)
    for seed, lr in enumerate([1e-3, 1e-1, 10.0, 1e4]):
        net = MLP([8, 16, 3], activation="relu", seed=seed)
        ctrl = gh.RhoController(Adam(lr=lr), net)
        for _ in range(5):
            grads = net.gradients(X, y)
            before = net.flat_params()
            applied = ctrl.step(net.params, grads, X)
            step = net.flat_params() - before
            np.testing.assert_allclose(step, np.concatenate([u.ravel() for u in applied]),
                                       rtol=1e-12, atol=1e-300)
            # measured afresh at the parameters where the step was proposed
            start = net.copy()
            start.set_flat_params(before)
            a = gh.directional_derivatives(start, X, step, normalize=False)
            r = float(np.max(gh.logit_spread(a))) / PI
            assert r <= 1.0 + 1e-12
            if ctrl.last_r > 1.0:
                assert r == pytest.approx(1.0, rel=1e-12)
                assert ctrl.last_scale == pytest.approx(1.0 / ctrl.last_r, rel=1e-12)
            else:
                assert ctrl.last_scale == 1.0
    # a tiny step is left alone: the controller behaves like the optimiser
    net = MLP([8, 16, 3], activation="relu", seed=0)
    twin = net.copy()
    ctrl = gh.RhoController(GradientDescent(lr=1e-6), net, probe=X)
    ctrl.step(net.params, net.gradients(X, y))
    GradientDescent(lr=1e-6).step(twin.params, twin.gradients(X, y))
    np.testing.assert_array_equal(net.flat_params(), twin.flat_params())
    with pytest.raises(ValueError, match="X is required"):
        gh.RhoController(Adam(), net).propose(net.params, net.gradients(X, y))
    with pytest.raises(TypeError, match="optimizer"):
        gh.RhoController(object(), net)


def test_temperature_gradients_match_finite_differences():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((15, 4))
    y = rng.integers(0, 3, 15)
    net = MLP([4, 6, 3], activation="tanh", seed=2)
    for T in (0.3, 1.0, 4.0):
        grads = gh.temperature_gradients(net, X, y, T)
        flat = np.concatenate([g.ravel() for g in grads])

        def tempered_loss(theta, T=T):
            moved = net.copy()
            moved.set_flat_params(theta)
            return float(cross_entropy(moved.forward(X) / T, y))

        result = check_gradient(tempered_loss, lambda _t, flat=flat: flat, net.flat_params())
        assert result.ok, result
        if T != 1.0:  # the ordinary gradient is not the tempered one
            plain = np.concatenate([g.ravel() for g in net.gradients(X, y)])
            assert not np.allclose(plain, flat, rtol=1e-3)
    with pytest.raises(ValueError, match="temperature"):
        gh.temperature_gradients(net, X, y, 0.0)


def test_line_scan_leaves_the_model_alone():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((25, 4))
    y = rng.integers(0, 3, 25)
    net = MLP([4, 5, 3], activation="relu", seed=4)
    theta = net.flat_params()
    v = rng.standard_normal(net.num_params)
    losses, accs = gh.line_scan(net, X, y, v, [0.0, 0.1, 2.0])
    np.testing.assert_array_equal(net.flat_params(), theta)
    assert losses[0] == pytest.approx(net.loss(X, y), rel=1e-15)
    assert accs[0] == net.accuracy(X, y)
    moved = net.copy()
    moved.set_flat_params(theta + 2.0 * v / np.linalg.norm(v))
    assert losses[2] == pytest.approx(moved.loss(X, y), rel=1e-14)
    with pytest.raises(ValueError, match="direction"):
        gh.line_scan(net, X, y, np.zeros(net.num_params), [1.0])
    # tempered loss: CE(z / T) of the moved logits; accuracy is unchanged
    hot, hot_acc = gh.line_scan(net, X, y, v, [0.0, 2.0], temperature=0.5)
    assert hot[1] == pytest.approx(float(cross_entropy(moved.forward(X) / 0.5, y)), rel=1e-14)
    assert hot[1] != pytest.approx(losses[2], rel=1e-3)
    np.testing.assert_array_equal(hot_acc, accs[[0, 2]])


# -- learning-rate spikes ----------------------------------------------------------------
def _spike_data(seed=0, n=40, d=5, k=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, k, n)
    return X[:30], y[:30], X[30:], y[30:]


def test_spike_lr_held_and_single_step():
    from celesson.ghosts import spike_lr

    held = [spike_lr(t, 1e-3, 1000.0, 3, hold=True) for t in range(6)]
    once = [spike_lr(t, 1e-3, 1000.0, 3, hold=False) for t in range(6)]
    assert held == [1e-3] * 3 + [1.0] * 3
    assert once == [1e-3] * 3 + [1.0] + [1e-3] * 2
    with pytest.raises(ValueError, match="factor"):
        spike_lr(0, 1e-3, 0.0, 3, hold=True)
    with pytest.raises(TypeError, match="hold"):
        spike_lr(0, 1e-3, 2.0, 3, hold=1)


def test_spike_run_adam_and_clip_match_a_hand_written_loop():
    """The runner's plain and clipped Adam equal MLP.gradients + Adam.step written out."""
    from celesson.ghosts import SpikeRun, spike_lr
    from celesson.optim import clip_grad_norm

    X, y, Xt, yt = _spike_data()
    for rule in ("adam", "clip"):
        net = MLP([5, 7, 3], activation="gelu", layer_norm=True, init="uniform", seed=1)
        ref = net.copy()
        run = SpikeRun(net, X, y, Xt, yt, rule=rule, clip_norm=0.05)
        run.run(8, 0.01, 30.0, 4, hold=False)
        opt = Adam(lr=1.0)
        for t in range(8):
            grads = ref.gradients(X, y)
            if rule == "clip":
                grads, _ = clip_grad_norm(grads, 0.05)
            lr = spike_lr(t, 0.01, 30.0, 4, hold=False)
            for p, u in zip(ref.params, opt.propose(ref.params, grads), strict=True):
                p += lr * u
        assert np.allclose(net.flat_params(), ref.flat_params(), rtol=1e-12, atol=1e-14)
        assert run.log["lr"][4] == pytest.approx(0.3) and run.log["scale"].tolist() == [1.0] * 8
        assert run.log["accuracy"][-1] == ref.accuracy(Xt, yt)
    # clipping at 0.05 does change the trajectory (the gradients here are larger)
    plain = MLP([5, 7, 3], activation="gelu", layer_norm=True, init="uniform", seed=1)
    SpikeRun(plain, X, y, Xt, yt, rule="adam").run(8, 0.01, 30.0, 4, hold=False)
    assert not np.allclose(plain.flat_params(), net.flat_params())


def test_spike_run_controller_caps_tau_at_the_radius():
    """Along Adam's step: tau <= rho_a, with rho_a recomputed from the package's JVP helpers."""
    from celesson.ghosts import SpikeRun

    X, y, Xt, yt = _spike_data(1)
    net = MLP([5, 8, 3], activation="relu", init="uniform", seed=2)
    run = SpikeRun(net, X, y, Xt, yt, rule="controller", batch_size=10, batch_seed=3)
    before = net.copy()
    run.run(1, 0.5, 1.0, 0, hold=True)  # a large rate: the controller must act
    step = net.flat_params() - before.flat_params()
    rho = gh.rho_dataset(gh.directional_derivatives(before, X, step))
    assert run.log["scale"][0] < 1.0
    assert np.linalg.norm(step) == pytest.approx(rho, rel=1e-12)
    assert run.log["rho"][0] == pytest.approx(rho, rel=1e-12)
    run.run(30, 0.5, 10.0, 10, hold=True)
    tau, rho_log = np.array(run.log["tau"]), np.array(run.log["rho"])
    assert np.all(tau <= rho_log * (1 + 1e-12))
    # a wrong controller (no cap) lets tau exceed the radius on the same data
    free = SpikeRun(before.copy(), X, y, Xt, yt, rule="adam", batch_size=10, batch_seed=3,
                    measure_rho=True).run(30, 0.5, 10.0, 10, hold=True)
    assert np.any(np.array(free.log["tau"]) > np.array(free.log["rho"]))


def test_spike_run_gradient_controller_follows_the_papers_rule():
    """controller="gradient": scale = min(1, rho_a(-g) / (lr ||g||))."""
    from celesson.ghosts import SpikeRun

    X, y, Xt, yt = _spike_data(2)
    net = MLP([5, 6, 6, 3], activation="gelu", layer_norm=True, init="uniform", seed=4)
    before = net.copy()
    run = SpikeRun(net, X, y, Xt, yt, rule="controller", controller="gradient")
    run.run(1, 50.0, 1.0, 0, hold=True)
    g = before.flat_gradient(X, y)
    rho = gh.rho_dataset(gh.directional_derivatives(before, X, -g))
    assert run.log["rho"][0] == pytest.approx(rho, rel=1e-12)
    expected = min(1.0, rho / (50.0 * np.linalg.norm(g)))
    assert run.log["scale"][0] == pytest.approx(expected, rel=1e-12)


def test_spike_run_minibatches_are_epoch_permutations_and_fork_is_independent():
    from celesson.ghosts import SpikeRun

    X, y, Xt, yt = _spike_data(3)
    run = SpikeRun(MLP([5, 4, 3], seed=0), X, y, Xt, yt, rule="adam", batch_size=7, batch_seed=5)
    # 30 rows: 4 full batches and 2 of the next epoch
    seen = np.concatenate([run.trainer.next_rows() for _ in range(5)])
    assert sorted(seen[:30].tolist()) == list(range(30))
    run.run(3, 0.01, 2.0, 1, hold=True)
    twin = run.fork()
    twin.run(6, 0.01, 2.0, 1, hold=True)
    assert run.t == 3 and len(run.log["loss"]) == 3 and twin.t == 6
    run.run(6, 0.01, 2.0, 1, hold=True)
    assert np.array_equal(run.model.flat_params(), twin.model.flat_params())
    assert np.array_equal(run.log["loss"], twin.log["loss"])
    assert run.log.steps.tolist() == list(range(6))
    with pytest.raises(ValueError, match="rule"):
        SpikeRun(MLP([5, 4, 3]), X, y, Xt, yt, rule="sgd")


def test_controller_composes_with_fit():
    """``fit`` hands each batch to a controller without a probe: the run is the same, to
    the bit, as the loop that calls ``step(params, grads, X_batch)`` by hand."""
    from celesson.mlp import fit

    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((48, 6)), rng.integers(0, 3, 48)
    net, twin = MLP([6, 10, 3], seed=1), MLP([6, 10, 3], seed=1)
    ctrl = gh.RhoController(Adam(lr=3.0), net)
    assert ctrl.measures_on_batch
    history = fit(net, X, y, optimizer=ctrl, epochs=3, batch_size=16, seed=5)
    by_hand = gh.RhoController(Adam(lr=3.0), twin)
    order_rng = np.random.default_rng(5)
    scales = []
    for _ in range(3):
        order = order_rng.permutation(48)
        for start in range(0, 48, 16):
            rows = order[start:start + 16]
            by_hand.step(twin.params, twin.gradients(X[rows], y[rows]), X[rows])
            scales.append(by_hand.last_scale)
    np.testing.assert_array_equal(net.flat_params(), twin.flat_params())
    assert min(scales) < 1.0, "a rate of 3 must be cut back at least once"
    assert len(history["loss"]) == 4 and np.isfinite(history["loss"]).all()
    # with a probe the radius is measured there, and fit passes no batch
    probed = gh.RhoController(Adam(lr=3.0), MLP([6, 10, 3], seed=1), probe=X[:8])
    assert not probed.measures_on_batch
    fit(probed.model, X, y, optimizer=probed, epochs=1, batch_size=16)
