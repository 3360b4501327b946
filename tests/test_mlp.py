"""Tests for celesson.mlp (backprop, JVP, losses) and celesson.neuron."""

from __future__ import annotations

import math

import numpy as np
import pytest

from celesson.losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from celesson.mlp import MLP, fit
from celesson.neuron import first_below, train_single_neuron
from celesson.optim import Adam, GradientDescent


def central_difference(f, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Independent central-difference gradient of a scalar function of a flat vector."""
    out = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        out[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return out


def loss_of_flat(net: MLP, X, y, kind):
    def f(theta):
        saved = net.flat_params()
        net.set_flat_params(theta)
        value = net.loss(X, y, kind)
        net.set_flat_params(saved)
        return value

    return f


def _data(net: MLP, n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, net.sizes[0]))
    k = net.num_outputs
    if net.output == "softmax":
        y = rng.integers(0, k, size=n)
    elif net.output == "sigmoid":
        y = (rng.random((n, k)) < 0.5).astype(np.float64)
    else:
        y = rng.standard_normal((n, k))
    return X, y


CASES = [
    ([3, 4, 2], "sigmoid", "softmax", "ce"),
    ([3, 4, 2], "sigmoid", "softmax", "mse"),
    ([2, 5, 3, 4], "tanh", "softmax", "ce"),
    ([4, 3, 3], "tanh", "sigmoid", "ce"),
    ([4, 3, 3], "sigmoid", "sigmoid", "mse"),
    ([3, 6, 1], "relu", "sigmoid", "ce"),
    ([3, 4, 2], "tanh", "identity", "mse"),
    ([5, 3], "sigmoid", "softmax", "ce"),
    ([2, 3, 3, 3, 2], "sigmoid", "sigmoid", "ce"),
]


@pytest.mark.parametrize(("sizes", "activation", "output", "kind"), CASES)
def test_backprop_matches_central_differences(sizes, activation, output, kind):
    net = MLP(sizes, activation=activation, output=output, seed=3, init_scale=1.5)
    for b in net.biases:  # non-zero biases so that every path is exercised
        b += 0.1 * np.arange(b.size)
    X, y = _data(net, 7, seed=11)
    analytic = net.flat_gradient(X, y, kind)
    numeric = central_difference(loss_of_flat(net, X, y, kind), net.flat_params())
    scale = max(1.0, float(np.max(np.abs(numeric))))
    assert np.max(np.abs(analytic - numeric)) < 1e-7 * scale
    # a gradient that dropped a layer or a factor would be far off
    assert np.max(np.abs(numeric)) > 1e-3


def test_gradient_shapes_and_order():
    net = MLP([4, 3, 2], seed=0)
    X, y = _data(net, 5, seed=0)
    grads = net.gradients(X, y)
    assert [g.shape for g in grads] == [(3, 4), (3,), (2, 3), (2,)]
    assert [p.shape for p in net.params] == [g.shape for g in grads]


def test_single_sigmoid_unit_hand_values():
    """One sigmoid unit, w = 0.6, b = 0.9, x = 1, y = 0: values by hand."""
    net = MLP([1, 1], output="sigmoid")
    net.weights[0][...] = 0.6
    net.biases[0][...] = 0.9
    X, y = np.array([[1.0]]), np.array([0])
    a = 1.0 / (1.0 + math.exp(-1.5))  # 0.8175744761936437
    gw, gb = net.gradients(X, y, "ce")
    assert gw[0, 0] == pytest.approx(a, rel=1e-14)  # delta^L = a - y, times x = 1
    assert gb[0] == pytest.approx(a, rel=1e-14)
    gw, gb = net.gradients(X, y, "mse")
    assert gw[0, 0] == pytest.approx(2 * a * a * (1 - a), rel=1e-14)  # 0.5455...
    assert net.loss(X, y, "ce") == pytest.approx(-math.log1p(-a), rel=1e-14)
    assert net.loss(X, y, "mse") == pytest.approx(a * a, rel=1e-14)


def test_output_delta_is_a_minus_y_for_bce_and_softmax():
    rng = np.random.default_rng(5)
    for output in ("sigmoid", "softmax"):
        net = MLP([3, 4, 3], output=output, seed=1)
        X = rng.standard_normal((6, 3))
        labels = rng.integers(0, 3, size=6)
        cache = net.forward_cache(X)
        Y = net.targets(labels)
        delta = net.output_delta(cache, Y, "ce")
        np.testing.assert_allclose(delta, cache.activations[-1] - Y, rtol=0, atol=1e-15)


def test_losses_agree_with_celesson_losses():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((8, 3))
    labels = rng.integers(0, 4, size=8)
    soft = MLP([3, 5, 4], output="softmax", seed=2)
    z = soft.forward(X)
    assert soft.loss(X, labels, "ce") == pytest.approx(float(cross_entropy(z, labels)), rel=1e-14)
    # the same thing written out: mean of -log softmax at the true class
    manual = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(8), labels])
    assert soft.loss(X, labels, "ce") == pytest.approx(manual, rel=1e-12)

    sig = MLP([3, 5, 4], output="sigmoid", seed=2)
    z = sig.forward(X)
    Y = np.eye(4)[labels]
    expected = float(binary_cross_entropy_with_logits(z, Y, reduction="sum")) / 8
    assert sig.loss(X, labels, "ce") == pytest.approx(expected, rel=1e-14)
    a = 1 / (1 + np.exp(-z))
    manual = -np.mean(np.sum(Y * np.log(a) + (1 - Y) * np.log(1 - a), axis=1))
    assert sig.loss(X, labels, "ce") == pytest.approx(manual, rel=1e-12)
    assert sig.loss(X, labels, "mse") == pytest.approx(
        float(mse_loss(a, Y, reduction="sum")) / 8, rel=1e-14
    )
    assert sig.loss(X, labels, "mse") == pytest.approx(np.mean(np.sum((a - Y) ** 2, 1)), rel=1e-12)


def test_probability_targets_for_softmax():
    net = MLP([2, 3], output="softmax", seed=4)
    X = np.array([[0.5, -1.0], [2.0, 0.0]])
    hard = np.array([2, 0])
    assert net.loss(X, hard) == pytest.approx(net.loss(X, np.eye(3)[hard]), rel=1e-14)
    soft = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    g = net.flat_gradient(X, soft)
    numeric = central_difference(loss_of_flat(net, X, soft, "ce"), net.flat_params())
    np.testing.assert_allclose(g, numeric, atol=1e-8)


@pytest.mark.parametrize(("activation", "output"), [("sigmoid", "softmax"), ("tanh", "sigmoid"),
                                                    ("relu", "identity")])
def test_jvp_matches_finite_differences(activation, output):
    net = MLP([3, 5, 4, 2], activation=activation, output=output, seed=8)
    for b in net.biases:
        b += 0.05
    rng = np.random.default_rng(9)
    X = rng.standard_normal((6, 3))
    v = rng.standard_normal(net.num_params)
    logits, dlogits = net.jvp(X, v)
    np.testing.assert_array_equal(logits, net.forward(X))
    theta, h = net.flat_params(), 1e-6
    net.set_flat_params(theta + h * v)
    plus = net.forward(X)
    net.set_flat_params(theta - h * v)
    minus = net.forward(X)
    net.set_flat_params(theta)
    numeric = (plus - minus) / (2 * h)
    np.testing.assert_allclose(dlogits, numeric, rtol=1e-6, atol=1e-8)
    assert np.max(np.abs(dlogits)) > 1e-2
    # flat and structured directions agree; the JVP is linear in the direction
    _, d_struct = net.jvp(X, net.unflatten(v))
    np.testing.assert_array_equal(d_struct, dlogits)
    _, d_twice = net.jvp(X, 2 * v)
    np.testing.assert_allclose(d_twice, 2 * dlogits, rtol=1e-14, atol=1e-15)


def test_jvp_and_backprop_are_adjoint():
    """<grad C, v> equals the directional derivative of C from the JVP (softmax CE)."""
    net = MLP([4, 6, 3], activation="tanh", seed=12)
    rng = np.random.default_rng(13)
    X, labels = rng.standard_normal((9, 4)), rng.integers(0, 3, size=9)
    v = rng.standard_normal(net.num_params)
    logits, dlogits = net.jvp(X, v)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    directional = np.sum((p - np.eye(3)[labels]) * dlogits) / 9
    assert float(net.flat_gradient(X, labels) @ v) == pytest.approx(directional, rel=1e-12)


def test_flat_params_round_trip_and_in_place_params():
    net = MLP([3, 2, 2], seed=1)
    theta = net.flat_params()
    assert theta.shape == (3 * 2 + 2 + 2 * 2 + 2,) == (net.num_params,)
    net.set_flat_params(np.arange(net.num_params, dtype=float))
    np.testing.assert_array_equal(net.weights[0], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(net.biases[1], [12.0, 13.0])
    net.params[1] += 1.0  # params are the live arrays
    np.testing.assert_array_equal(net.biases[0], [7.0, 8.0])
    clone = net.copy()
    clone.weights[0][0, 0] = 99.0
    assert net.weights[0][0, 0] == 0.0


def test_initialisation_is_seeded_and_scaled():
    a, b = MLP([64, 30, 10], seed=7), MLP([64, 30, 10], seed=7)
    np.testing.assert_array_equal(a.flat_params(), b.flat_params())
    assert not np.array_equal(a.flat_params(), MLP([64, 30, 10], seed=8).flat_params())
    big = MLP([400, 300, 2], seed=0, init_scale=2.0)
    assert np.std(big.weights[0]) == pytest.approx(2.0 / 20.0, rel=0.02)
    assert np.all(big.biases[0] == 0.0)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="sizes"):
        MLP([3])
    with pytest.raises(ValueError, match="sizes"):
        MLP([3, 0, 2])
    with pytest.raises(TypeError, match="sizes"):
        MLP(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 2], activation="softsign")
    with pytest.raises(ValueError, match="output"):
        MLP([2, 2], output="tanh")
    net = MLP([2, 3], seed=0)
    with pytest.raises(ValueError, match="X"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="labels y"):
        net.loss(np.zeros((2, 2)), np.array([0, 3]))
    with pytest.raises(ValueError, match="kind"):
        net.loss(np.zeros((2, 2)), np.array([0, 1]), kind="hinge")
    with pytest.raises(ValueError, match="direction"):
        net.jvp(np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="ce"):
        MLP([2, 2], output="identity").loss(np.zeros((1, 2)), np.zeros((1, 2)), "ce")
    with pytest.raises(ValueError, match="vector"):
        net.set_flat_params(np.zeros(net.num_params + 1))


def test_fit_lowers_the_loss_and_is_deterministic():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    runs = []
    for _ in range(2):
        net = MLP([2, 4, 2], activation="tanh", seed=1)
        runs.append(fit(net, X, y, optimizer=Adam(0.05), epochs=30, batch_size=16, seed=3))
    assert np.array_equal(runs[0]["loss"], runs[1]["loss"])
    assert len(runs[0]["loss"]) == 31 and runs[0].steps.tolist() == list(range(31))
    assert runs[0]["loss"][-1] < 0.5 * runs[0]["loss"][0]
    assert runs[0]["accuracy"][-1] > 0.9


def test_single_neuron_first_steps_by_hand():
    s4 = 1.0 / (1.0 + math.exp(-4.0))  # sigma(4) = 0.98201...
    ce = train_single_neuron(1.0, 0.0, 2.0, 2.0, lr=0.15, epochs=2, loss="ce")
    assert ce.a[0] == pytest.approx(s4, rel=1e-15)
    assert ce.grad_w[0] == pytest.approx(s4, rel=1e-14)  # a - y with x = 1
    assert ce.w[1] == pytest.approx(2.0 - 0.15 * s4, rel=1e-15)
    assert ce.loss[0] == pytest.approx(-math.log1p(-s4), rel=1e-14)
    mse = train_single_neuron(1.0, 0.0, 2.0, 2.0, lr=0.15, epochs=2, loss="mse")
    g = 2 * s4 * s4 * (1 - s4)  # 2 (a - y) sigma'(z): 0.0347...
    assert mse.grad_b[0] == pytest.approx(g, rel=1e-13)
    assert mse.b[1] == pytest.approx(2.0 - 0.15 * g, rel=1e-15)
    assert mse.loss[0] == pytest.approx(s4 * s4, rel=1e-15)
    assert ce.steps.tolist() == [0, 1, 2] and len(ce.loss) == 3


def test_single_neuron_matches_mlp_gradients():
    net = MLP([1, 1], output="sigmoid")
    xs, ys = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 1.0])
    net.weights[0][...] = 0.3
    net.biases[0][...] = -0.2
    for kind in ("ce", "mse"):
        h = train_single_neuron(xs, ys, 0.3, -0.2, lr=0.1, epochs=0, loss=kind)
        gw, gb = net.gradients(xs[:, None], ys, kind)
        assert h.grad_w[0] == pytest.approx(gw[0, 0], rel=1e-13)
        assert h.grad_b[0] == pytest.approx(gb[0], rel=1e-13)
        assert h.loss[0] == pytest.approx(net.loss(xs[:, None], ys, kind), rel=1e-13)


def test_single_neuron_mse_slower_than_ce_from_saturation():
    kw = {"x": 1.0, "y": 0.0, "w0": 2.0, "b0": 2.0, "lr": 0.15, "epochs": 300}
    ce = train_single_neuron(**kw, loss="ce")
    mse = train_single_neuron(**kw, loss="mse")
    assert first_below(ce.a, 0.2) < first_below(mse.a, 0.2)
    assert first_below([0.3, 0.2, 0.1], 0.2) == 2
    assert first_below([0.3], 0.2) is None


def test_single_neuron_bad_input():
    with pytest.raises(ValueError, match="loss"):
        train_single_neuron(1.0, 0.0, 0.0, 0.0, lr=0.1, epochs=1, loss="hinge")
    with pytest.raises(ValueError, match="lr"):
        train_single_neuron(1.0, 0.0, 0.0, 0.0, lr=0.0, epochs=1)
    with pytest.raises(ValueError, match="y"):
        train_single_neuron(1.0, 2.0, 0.0, 0.0, lr=0.1, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_single_neuron(1.0, 0.0, 0.0, 0.0, lr=0.1, epochs=-1)
    # a step that overflows stops the run at once, naming where it went
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError, match="w = 1e"):
        train_single_neuron(1e300, 0.0, 1e300, 1e300, lr=1.0, epochs=3)


def test_gradient_descent_with_mlp_matches_manual_update():
    net = MLP([2, 2], output="softmax", seed=0)
    X, y = np.array([[1.0, 2.0]]), np.array([1])
    before = net.flat_params()
    g = net.flat_gradient(X, y)
    GradientDescent(0.5).step(net.params, net.gradients(X, y))
    np.testing.assert_array_equal(net.flat_params(), before - 0.5 * g)


# -- layer normalisation and GELU ------------------------------------------------------
LN_CASES = [("gelu", [5, 6, 4, 3]), ("tanh", [4, 7, 3]), ("relu", [3, 5, 5, 2])]


def _ln_net(activation, sizes, seed=3):
    net = MLP(sizes, activation=activation, layer_norm=True, init="uniform", seed=seed)
    rng = np.random.default_rng(seed + 100)
    for g in net.gains:  # move gains and shifts away from 1 and 0 so that they matter
        g[...] = 1.0 + 0.4 * rng.standard_normal(g.shape)
    for b in net.shifts:
        b[...] = 0.3 * rng.standard_normal(b.shape)
    return net


def test_layer_norm_matches_a_direct_high_precision_evaluation():
    """h = gamma (z - mean) / sqrt(var + eps) + beta, recomputed row by row in 40 digits."""
    import mpmath

    from celesson.mlp import layer_norm

    rng = np.random.default_rng(11)
    z = 3.0 * rng.standard_normal((4, 6)) + 2.0
    gain, shift = rng.standard_normal(6), rng.standard_normal(6)
    h, zhat, s = layer_norm(z, gain, shift, 1e-5)
    with mpmath.workdps(40):
        for i in range(4):
            row = [mpmath.mpf(float(v)) for v in z[i]]
            mu = sum(row) / 6
            sd = mpmath.sqrt(sum((v - mu) ** 2 for v in row) / 6 + mpmath.mpf(1e-5))
            assert abs(float(sd) - s[i, 0]) <= 4e-16 * float(sd)
            for j in range(6):
                g_j, b_j = mpmath.mpf(float(gain[j])), mpmath.mpf(float(shift[j]))
                ref = float(g_j * (row[j] - mu) / sd + b_j)
                assert abs(h[i, j] - ref) <= 1e-15 * (1 + abs(ref))
    # each row of zhat has mean 0 and (biased) variance var / (var + eps)
    assert np.allclose(zhat.mean(axis=1), 0.0, atol=1e-15)
    var = z.var(axis=1)
    assert np.allclose((zhat**2).mean(axis=1), var / (var + 1e-5), rtol=1e-14)


def test_gelu_is_the_tanh_form_and_its_derivative():
    """GELU(z) = z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2 against mpmath, and its slope."""
    import mpmath

    from celesson.activations import activation_derivative, apply_activation

    z = np.linspace(-12.0, 12.0, 481)
    got, slope = apply_activation("gelu", z), activation_derivative("gelu", z)
    with mpmath.workdps(250):  # 1 + tanh(u) cancels to ~1e-124 at z = -12
        c = mpmath.sqrt(2 / mpmath.pi)

        def gelu(t):
            return t * (1 + mpmath.tanh(c * (t + mpmath.mpf("0.044715") * t**3))) / 2

        for zi, gi, si in zip(z, got, slope, strict=True):
            t = mpmath.mpf(float(zi))
            ref = gelu(t)
            w = 2 * c * (t + mpmath.mpf("0.044715") * t**3)
            # w = 2c z (1 + k z^2) carries about three roundings (c and k are rounded
            # constants); the sigmoid multiplies w's relative error by |w| (1 - sigma(w)),
            # so the error is at most about 3 |w| + a few units of 2^-53 relative
            bound = (3 * abs(float(w)) + 4) * 2**-52 * abs(float(ref))
            assert abs(gi - float(ref)) <= bound + 1e-300, zi
            assert abs(si - float(mpmath.diff(gelu, t))) <= 1e-14, zi
    assert not np.allclose(got, np.maximum(z, 0.0))  # not a ReLU


@pytest.mark.parametrize(("activation", "sizes"), LN_CASES)
def test_layer_norm_backprop_matches_central_differences(activation, sizes):
    net = _ln_net(activation, sizes)
    X, y = _data(net, 9, seed=4)
    grad = net.flat_gradient(X, y)
    fd = central_difference(loss_of_flat(net, X, y, "ce"), net.flat_params())
    assert np.max(np.abs(grad - fd)) <= 2e-8 * max(1.0, np.max(np.abs(fd)))
    # gains and shifts do receive a gradient
    g = net.gradients(X, y)
    assert [p.shape for p in g] == [p.shape for p in net.params]
    assert np.max(np.abs(g[2])) > 1e-3 and np.max(np.abs(g[3])) > 1e-3


@pytest.mark.parametrize(("activation", "sizes"), LN_CASES)
def test_layer_norm_jvp_matches_finite_differences_of_the_logits(activation, sizes):
    net = _ln_net(activation, sizes, seed=5)
    X, _ = _data(net, 8, seed=6)
    v = np.random.default_rng(7).standard_normal(net.num_params)
    z, dz = net.jvp(X, v)
    assert np.array_equal(z, net.forward(X))
    h = 1e-6
    theta = net.flat_params()
    plus, minus = net.copy(), net.copy()
    plus.set_flat_params(theta + h * v)
    minus.set_flat_params(theta - h * v)
    fd = (plus.forward(X) - minus.forward(X)) / (2 * h)
    assert np.max(np.abs(dz - fd)) <= 1e-7 * np.max(np.abs(dz))


def test_layer_norm_makes_the_hidden_layer_scale_free():
    """Scaling W1, b1 by c > 0 leaves the logits of a layer-normalised net (eps -> 0) alone."""
    net = _ln_net("gelu", [5, 6, 4, 3])
    net_small_eps = MLP([5, 6, 4, 3], activation="gelu", layer_norm=True, ln_eps=1e-12, seed=3)
    X, _ = _data(net, 6, seed=8)
    before = net_small_eps.forward(X)
    net_small_eps.weights[0] *= 7.0
    net_small_eps.biases[0] *= 7.0
    assert np.allclose(net_small_eps.forward(X), before, rtol=1e-9, atol=1e-12)
    # and a plain net is not scale free
    plain = MLP([5, 6, 4, 3], activation="gelu", seed=3)
    ref = plain.forward(X)
    plain.weights[0] *= 7.0
    assert not np.allclose(plain.forward(X), ref)


def test_uniform_init_is_pytorch_linear_default_and_params_order():
    net = MLP([64, 32, 10], init="uniform", layer_norm=True, seed=0)
    for w, b, n_in in zip(net.weights, net.biases, (64, 32), strict=True):
        bound = 1 / np.sqrt(n_in)
        assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
        assert np.std(w) == pytest.approx(bound / np.sqrt(3), rel=0.1)  # U(-c, c) has sd c/sqrt(3)
    assert [p.shape for p in net.params] == [(32, 64), (32,), (32,), (32,), (10, 32), (10,)]
    assert np.array_equal(net.params[2], np.ones(32))
    assert np.array_equal(net.params[3], np.zeros(32))
    clone = net.copy()
    clone.gains[0][0] = 5.0
    assert net.gains[0][0] == 1.0 and clone.layer_norm and "layer_norm=True" in repr(clone)
    with pytest.raises(ValueError, match="init"):
        MLP([3, 2], init="kaiming")
    with pytest.raises(TypeError, match="layer_norm"):
        MLP([3, 2], layer_norm=1)
    with pytest.raises(ValueError, match="ln_eps"):
        MLP([3, 2], ln_eps=0.0)


def test_copy_is_independent_and_keeps_the_class_and_every_attribute():
    class Tagged(MLP):
        gamma = 3.0

    net = Tagged([3, 4, 2], activation="tanh", seed=2)
    net.note = "added after construction"
    clone = net.copy()
    assert type(clone) is Tagged and clone.note == "added after construction"
    assert clone.activation == "tanh" and clone.sizes == net.sizes
    for a, b in zip(net.params, clone.params, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, b)
    clone.params[0][...] = 0.0
    assert np.any(net.params[0] != 0.0)


def test_softmax_output_error_is_the_packages_gradient_to_the_bit():
    """output_delta reuses the forward softmax: it must stay exactly cross_entropy_grad."""
    from celesson.grads import cross_entropy_grad
    from celesson.numerics import softmax
    from celesson.output_layer import output_delta

    rng = np.random.default_rng(8)
    z = 6.0 * rng.standard_normal((200, 7))
    z[0] = [700.0, -700.0, 0.0, 1e-300, 30.0, -30.0, 699.0]
    onehot = np.eye(7)[rng.integers(0, 7, 200)]
    soft = rng.dirichlet(np.ones(7), 200)
    for Y in (onehot, soft):
        delta = output_delta(z, softmax(z, axis=-1), Y, "ce", "softmax")
        np.testing.assert_array_equal(delta, cross_entropy_grad(z, Y, reduction="none"))
    # a stale activation would be caught
    stale = softmax(z + 1e-9, axis=-1)
    assert not np.array_equal(output_delta(z, stale, onehot, "ce", "softmax"),
                              cross_entropy_grad(z, onehot, reduction="none"))


def _textbook_forward_and_jvp(net, X, dirs):
    """Forward pass and JVP written as the formulas read, one expression per line."""
    from celesson.activations import (
        activation_derivative,
        apply_activation,
        layer_norm,
        layer_norm_tangent,
    )

    a, da, zs = X, None, []
    for layer in range(1, net.num_layers + 1):
        i = net._index(layer)
        w, b, dw, db = net.weights[layer - 1], net.biases[layer - 1], dirs[i], dirs[i + 1]
        z = a @ w.T + b
        dz = a @ dw.T + db if da is None else da @ w.T + a @ dw.T + db
        zs.append(z)
        if layer < net.num_layers:
            h, dh = z, dz
            if net.layer_norm:
                gain, shift = net.gains[layer - 1], net.shifts[layer - 1]
                h, zhat, s = layer_norm(z, gain, shift, net.ln_eps)
                dh = dirs[i + 2] * zhat + gain * layer_norm_tangent(dz, zhat, s) + dirs[i + 3]
            a = apply_activation(net.activation, h)
            da = activation_derivative(net.activation, h) * dh
    return zs, dz


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu"])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_in_place_forward_and_jvp_give_the_bits_of_the_formulas(activation, layer_norm):
    # the stored notebook outputs depend on these bits: the in-place evaluation must group
    # the sums as the formulas do (da W^T + a dW^T, then + db), to the sign of every zero
    rng = np.random.default_rng(7)
    net = MLP([6, 9, 9, 4], activation=activation, layer_norm=layer_norm, seed=2)
    X = rng.standard_normal((40, 6)) * 3.0
    X[0] = 0.0
    dirs = [rng.standard_normal(p.shape) for p in net.params]
    zs, dz = _textbook_forward_and_jvp(net, X, dirs)
    cache = net._forward_cache(X)
    logits, dlogits = net.jvp(X, dirs)
    for mine, ref in [*zip(cache.zs, zs, strict=True), (logits, zs[-1]), (dlogits, dz)]:
        assert np.array_equal(mine, ref)
        assert np.array_equal(np.signbit(mine), np.signbit(ref))
