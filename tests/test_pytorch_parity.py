"""celesson's weighted, masked and smoothed losses agree with PyTorch itself (float64).

Thousands of random cases are drawn with a seeded generator: batch shapes (with the
class axis where PyTorch puts it, axis 1), numbers of classes, class weights (zeros
included), ignored targets (PyTorch's ``-100`` or a real class), label smoothing,
probability targets, reductions and logits up to 10^4 in size.  Each case compares
the loss and its gradient with ``torch.nn.functional`` and autograd, both in float64.

Where PyTorch returns NaN for a mean over zero total weight (every target ignored,
or an empty batch), celesson raises ``ValueError`` instead; the test asserts that.

PyTorch is not a requirement of the course: this module runs in its own environment
(``make torch-parity``) and reports itself as skipped where ``torch`` is missing.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch",
    reason="PyTorch is not installed: the parity test runs in its own venv (make torch-parity)",
)
F = torch.nn.functional

from celesson import (  # noqa: E402 (after the skip)
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    cross_entropy,
    cross_entropy_grad,
    nll_loss,
    nll_loss_grad,
)

EPS = np.finfo(np.float64).eps
CHUNKS = 6
CASES_PER_CHUNK = 400
REDUCTIONS = ("mean", "sum", "none")


def _logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Logits at one of several scales, up to 1e4 (extreme, but finite)."""
    scale = rng.choice([0.1, 1.0, 5.0, 40.0, 700.0, 1e4])
    z = scale * rng.standard_normal(shape)
    if rng.random() < 0.2 and z.size:  # one very confident entry per case
        z.flat[rng.integers(z.size)] += rng.choice([-1.0, 1.0]) * 50.0
    return z


def _tolerance(values: np.ndarray, scale: float) -> tuple[float, float]:
    """``(rtol, atol)`` for comparing with PyTorch.

    PyTorch forms ``log_softmax`` as ``z - max - log(sum exp(z - max))``, whose error is
    absolute, about ``eps * max|z|``; celesson's is relative (2 ULP).  So a tiny loss
    of a confident prediction is compared absolutely at that scale, everything else
    relatively.  A wrong convention (another denominator, weights applied to the
    wrong term, smoothing ignored) changes results by far more than either.
    """
    del values
    return 1e-12, 64.0 * EPS * (1.0 + scale)


def _close(got: object, ref: np.ndarray, scale: float, what: str) -> None:
    got_arr = np.asarray(got, dtype=np.float64)
    assert got_arr.shape == ref.shape, (what, got_arr.shape, ref.shape)
    rtol, atol = _tolerance(ref, scale)
    assert np.all(np.isfinite(got_arr) == np.isfinite(ref)), (what, got_arr, ref)
    fin = np.isfinite(ref)
    assert np.array_equal(got_arr[~fin], ref[~fin]), (what, got_arr, ref)
    err = np.abs(got_arr[fin] - ref[fin])
    bound = atol + rtol * np.abs(ref[fin])
    assert np.all(err <= bound), (what, float(np.max(err - bound)), got_arr, ref)


def _torch_value(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64)


# ---------------------------------------------------------------- cross-entropy


def _ce_case(rng: np.random.Generator) -> dict:
    k = int(rng.integers(1, 8))
    ndim_batch = int(rng.choice([0, 1, 1, 1, 2, 3]))
    batch = tuple(int(rng.integers(0 if rng.random() < 0.03 else 1, 6)) for _ in range(ndim_batch))
    shape = (batch[0], k, *batch[1:]) if batch else (k,)
    axis = 1 if batch else 0
    z = _logits(rng, shape)
    prob = rng.random() < 0.3
    weight = None
    if rng.random() < 0.6:
        weight = rng.choice([0.0, 0.5, 1.0, 2.0, 7.0], size=k) * rng.random(k)
        if rng.random() < 0.5:
            weight = rng.random(k) * 3.0
    eps = 0.0 if rng.random() < 0.4 else float(rng.choice([0.05, 0.1, 0.3, rng.random() * 0.99]))
    ignore = None
    if prob:
        y = rng.dirichlet(np.full(k, rng.choice([0.1, 1.0, 10.0])), size=batch or None)
        if rng.random() < 0.3:  # one-hot rows as probabilities
            y = np.eye(k)[rng.integers(k, size=batch or None)]
        target = np.moveaxis(np.asarray(y, dtype=np.float64), -1, axis)
    else:
        target = rng.integers(k, size=batch).astype(np.int64)
        if rng.random() < 0.6:
            ignore = -100 if rng.random() < 0.6 else int(rng.integers(k))
            mask = rng.random(batch) < rng.choice([0.1, 0.5, 1.0])
            target = np.where(mask, ignore, target).astype(np.int64)
    return dict(z=z, target=target, axis=axis, weight=weight, eps=eps, ignore=ignore,
                reduction=str(rng.choice(REDUCTIONS)))


def _check_ce(c: dict) -> None:
    z, target, axis = c["z"], c["target"], c["axis"]
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(target)
    wt = None if c["weight"] is None else torch.tensor(c["weight"], dtype=torch.float64)
    ref = F.cross_entropy(zt, tt, weight=wt, reduction=c["reduction"],
                          ignore_index=-100 if c["ignore"] is None else c["ignore"],
                          label_smoothing=c["eps"])
    opts = dict(axis=axis, label_smoothing=c["eps"], reduction=c["reduction"],
                weight=c["weight"], ignore_index=c["ignore"])
    ref_v = _torch_value(ref)
    scale = float(np.max(np.abs(z), initial=0.0)) * float(
        1.0 if c["weight"] is None else max(1.0, np.max(c["weight"], initial=1.0)))
    if c["reduction"] == "mean" and not np.isfinite(ref_v).all() and np.isnan(ref_v).all():
        with pytest.raises(ValueError, match="mean"):
            cross_entropy(z, target, **opts)
        return
    _close(cross_entropy(z, target, **opts), ref_v, scale, "cross_entropy")
    if not np.isfinite(ref_v).all():
        return
    ref.sum().backward()
    _close(cross_entropy_grad(z, target, **opts), _torch_value(zt.grad), 1.0,
           "cross_entropy_grad")


# ---------------------------------------------------------------------- nll


def _nll_case(rng: np.random.Generator) -> dict:
    c = _ce_case(rng)
    while c["target"].dtype.kind == "f":
        c = _ce_case(rng)
    z = np.moveaxis(c["z"], c["axis"], -1)  # celesson's nll_loss: classes last
    lp = z - np.max(z, axis=-1, keepdims=True, initial=-np.inf) if z.size else z
    lp = lp - np.log(np.sum(np.exp(lp), axis=-1, keepdims=True))
    c["lp"] = np.minimum(lp, 0.0)
    return c


def _check_nll(c: dict) -> None:
    lp, target = c["lp"], c["target"]
    lpt = torch.tensor(lp, dtype=torch.float64, requires_grad=True)
    wt = None if c["weight"] is None else torch.tensor(c["weight"], dtype=torch.float64)
    ref = F.nll_loss(torch.movedim(lpt, -1, 1) if lp.ndim > 1 else lpt, torch.tensor(target),
                     weight=wt, reduction=c["reduction"],
                     ignore_index=-100 if c["ignore"] is None else c["ignore"])
    opts = dict(reduction=c["reduction"], weight=c["weight"], ignore_index=c["ignore"])
    ref_v = _torch_value(ref)
    if c["reduction"] == "mean" and np.isnan(ref_v).all():
        with pytest.raises(ValueError, match="mean"):
            nll_loss(lp, target, **opts)
        return
    scale = float(np.max(np.abs(lp), initial=0.0)) * float(
        1.0 if c["weight"] is None else max(1.0, np.max(c["weight"], initial=1.0)))
    _close(nll_loss(lp, target, **opts), ref_v, scale, "nll_loss")
    ref.sum().backward()
    _close(nll_loss_grad(lp, target, **opts), _torch_value(lpt.grad), 1.0, "nll_loss_grad")


# ---------------------------------------------------------------------- binary


def _bce_case(rng: np.random.Generator) -> dict:
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(1, 6)) for _ in range(ndim))
    z = _logits(rng, shape)
    y = (rng.random(shape) < 0.5).astype(np.float64)
    if rng.random() < 0.4:
        y = rng.random(shape)
    weight = None
    pos_weight = None
    r = rng.random()
    if r < 0.3:
        weight = rng.random(shape) * 3.0
    elif r < 0.5:
        weight = rng.random(shape[-1:]) * 3.0
    elif r < 0.6:
        weight = np.float64(rng.random() * 3.0)
    r = rng.random()
    if r < 0.5:
        pos_weight = rng.choice([0.0, 0.25, 1.0, 3.0, 20.0], size=shape[-1:]) * rng.random(
            shape[-1:])
    elif r < 0.6:
        pos_weight = np.float64(rng.random() * 10.0)
    return dict(z=z, y=y, weight=weight, pos_weight=pos_weight,
                reduction=str(rng.choice(REDUCTIONS)))


def _as_t(a: object) -> torch.Tensor | None:
    return None if a is None else torch.as_tensor(a, dtype=torch.float64)


def _check_bce(c: dict) -> None:
    z, y = c["z"], c["y"]
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(
        zt, torch.tensor(y), weight=_as_t(c["weight"]), pos_weight=_as_t(c["pos_weight"]),
        reduction=c["reduction"])
    opts = dict(weight=c["weight"], pos_weight=c["pos_weight"])
    scale = float(np.max(np.abs(z))) * 60.0  # weight <= 3, pos_weight <= 20
    _close(binary_cross_entropy_with_logits(z, y, reduction=c["reduction"], **opts),
           _torch_value(ref), scale, "binary_cross_entropy_with_logits")
    ref.sum().backward()
    _close(binary_cross_entropy_with_logits_grad(z, y, reduction=c["reduction"], **opts),
           _torch_value(zt.grad), 60.0, "binary_cross_entropy_with_logits_grad")


# ---------------------------------------------------------------------- tests

DRAW = {"ce": (_ce_case, _check_ce), "nll": (_nll_case, _check_nll), "bce": (_bce_case, _check_bce)}


@pytest.mark.parametrize("chunk", range(CHUNKS))
@pytest.mark.parametrize("loss", sorted(DRAW))
def test_random_cases_match_pytorch(loss: str, chunk: int) -> None:
    """CHUNKS x CASES_PER_CHUNK random cases per loss: celesson == PyTorch (loss and gradient)."""
    draw, check = DRAW[loss]
    rng = np.random.default_rng([20, chunk, sorted(DRAW).index(loss)])
    torch.set_default_dtype(torch.float64)
    for i in range(CASES_PER_CHUNK):
        case = draw(rng)
        try:
            check(case)
        except AssertionError as exc:
            raise AssertionError(f"{loss} case {i} of chunk {chunk}: {case}") from exc


def test_the_documented_conventions_hold_in_pytorch() -> None:
    """The facts the chapter's table states, asked of PyTorch directly."""
    z = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [1.0, -2.0, 3.0]], dtype=torch.float64)
    t = torch.tensor([0, 2, -100])
    w = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    per = F.cross_entropy(z, t, weight=w, reduction="none")
    mean = F.cross_entropy(z, t, weight=w)
    # the weighted mean divides by the weights of the kept targets (1 + 4), not by N
    assert math.isclose(float(mean), float(per.sum()) / 5.0, rel_tol=1e-15)
    assert float(per[2]) == 0.0
    assert float(cross_entropy(z.numpy(), t.numpy(), weight=w.numpy(), ignore_index=-100)) == (
        pytest.approx(float(mean), rel=1e-15))
    # with probability targets, the weighted mean divides by N
    y = torch.softmax(torch.tensor([[0.0, 1.0, 2.0]] * 3, dtype=torch.float64), dim=1)
    per_p = F.cross_entropy(z, y, weight=w, reduction="none")
    assert math.isclose(float(F.cross_entropy(z, y, weight=w)), float(per_p.sum()) / 3,
                        rel_tol=1e-15)
    # the default ignore_index is -100, and a probability target refuses a real class
    assert inspect.signature(F.cross_entropy).parameters["ignore_index"].default == -100
    with pytest.raises(RuntimeError):
        F.cross_entropy(z, y, ignore_index=1)
    with pytest.raises(ValueError, match="ignore_index"):
        cross_entropy(z.numpy(), y.numpy(), ignore_index=1)
    # all targets ignored: PyTorch gives NaN, celesson raises
    assert math.isnan(float(F.cross_entropy(z, torch.tensor([-100, -100, -100]))))
    with pytest.raises(ValueError, match="mean"):
        cross_entropy(z.numpy(), np.array([-100, -100, -100]), ignore_index=-100)


# ------------------------------------------- the chapter's table: Keras and optax rows
# These run only where the library is installed next to PyTorch (make torch-parity
# installs them when it can); elsewhere each test reports itself skipped with a reason.


def _chapter_table_case() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2013)
    z = 3.0 * rng.standard_normal((6, 4))
    t = rng.integers(4, size=6)
    y = rng.dirichlet(np.ones(4), size=6)
    zb = 3.0 * rng.standard_normal((6, 3))
    return z, t, y, zb


def test_optax_rows_of_the_table() -> None:
    """optax: logits in, one loss per example out (no reduction), classes on the last axis."""
    optax = pytest.importorskip("optax", reason="optax is not installed in this environment")
    import jax

    jax.config.update("jax_enable_x64", True)
    z, t, y, zb = _chapter_table_case()
    per = np.asarray(optax.softmax_cross_entropy_with_integer_labels(z, t))
    assert per.shape == (6,)
    np.testing.assert_allclose(per, cross_entropy(z, t, reduction="none"), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(optax.softmax_cross_entropy(z, y)),
                               cross_entropy(z, y, reduction="none"), rtol=1e-13)
    smoothed = np.asarray(optax.smooth_labels(np.eye(4)[t], 0.1))
    np.testing.assert_allclose(np.asarray(optax.softmax_cross_entropy(z, smoothed)),
                               cross_entropy(z, t, label_smoothing=0.1, reduction="none"),
                               rtol=1e-13)
    yb = (zb > 0.5).astype(np.float64)
    np.testing.assert_allclose(np.asarray(optax.sigmoid_binary_cross_entropy(zb, yb)),
                               binary_cross_entropy_with_logits(zb, yb, reduction="none"),
                               rtol=1e-12)


def test_keras_rows_of_the_table() -> None:
    """Keras 3 (PyTorch backend): from_logits, mean over the batch, ignore_class."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="keras is not installed in this environment")
    z, t, _, zb = _chapter_table_case()

    def value(loss, target, logits):
        return float(np.asarray(loss(keras.ops.convert_to_tensor(target),
                                     keras.ops.convert_to_tensor(logits))))

    sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert value(sparse, t, z) == pytest.approx(float(cross_entropy(z, t)), rel=1e-6)
    cat = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert value(cat, np.eye(4)[t], z) == pytest.approx(
        float(cross_entropy(z, t, label_smoothing=0.1)), rel=1e-6)
    t_ign = np.where(np.arange(6) % 3 == 0, -100, t)
    ign = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)
    # Keras divides by the number of kept targets, as PyTorch and celesson do
    assert value(ign, t_ign, z) == pytest.approx(
        float(cross_entropy(z, t_ign, ignore_index=-100)), rel=1e-6)
    yb = (zb > 0.5).astype(np.float64)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    assert value(bce, yb, zb) == pytest.approx(float(binary_cross_entropy_with_logits(zb, yb)),
                                               rel=1e-6)
