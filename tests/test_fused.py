"""celesson.fused (the chunked linear cross-entropy) and celesson.halfprec (emulated formats).

The loss is checked against the exact cross-entropy (mpmath) of the very logits the
chunks compute, ``h @ W[:, j0:j1] (+ bias)``, materialised here chunk by chunk; the
gradients against the unfused celesson path with the bound stated in the docstring
of :func:`celesson.linear_cross_entropy_grad`, and against central differences.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from mpref import ULP_TARGET, row_parts, worst_ulp

import celesson as ce
from celesson import _fused_kernels, halfprec

ROOT = Path(__file__).resolve().parents[1]

U = 2.0**-53
#: A few units of the smallest subnormal: the absolute error of an underflowed entry.
TINY = 2.0**-1070


def chunk_logits(h, w, chunk, bias=None):
    """The logits exactly as the chunks form them: one product per chunk, then the bias."""
    v = w.shape[1]
    parts = [h @ w[:, j0 : min(j0 + chunk, v)] for j0 in range(0, v, chunk)]
    z = np.concatenate(parts, axis=1)
    return z if bias is None else z + bias


def exact_losses(z, t, ignore_index=-100):
    """Exact cross-entropy of each row (mpmath), 0 for ignored rows."""
    out = []
    for row, target in zip(z, t, strict=True):
        if target == ignore_index:
            out.append(mp.mpf(0))
            continue
        zs, m, tail = row_parts(row)
        out.append((m - zs[target]) + mp.log1p(tail))
    return out


def problem(n=40, d=8, v=300, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, d))
    w = rng.standard_normal((d, v)) * scale
    t = rng.integers(0, v, size=n)
    return h, w, t


def adversarial_cases():
    """(name, h, W, targets, bias, chunk) covering the regimes of the online sum."""
    cases = []
    h, w, t = problem()
    cases.append(("random, chunk divides V", h, w, t, None, 100))
    cases.append(("random, chunk does not divide V", h, w, t, None, 64))
    cases.append(("one chunk (chunk = V)", h, w, t, None, 300))
    cases.append(("chunk larger than V", h, w, t, None, 1000))
    cases.append(("chunk of one column", h, w, t, None, 1))
    t_ign = t.copy()
    t_ign[::3] = -100
    cases.append(("ignored targets", h, w, t_ign, None, 64))
    rng = np.random.default_rng(1)
    cases.append(("bias", h, w, t, rng.standard_normal(300) * 3.0, 77))
    # huge logits: spreads of thousands, the reference must move (and rescale) often
    hh, wh, th = problem(scale=300.0, seed=2)
    cases.append(("huge logits (spread ~ 1e4)", hh, wh, th, None, 37))
    hh, wh, th = problem(scale=1e5, seed=3)
    cases.append(("huge logits (spread ~ 1e6)", hh, wh, th, None, 50))
    # every logit far below 0: the reference leaves 0 at once
    cases.append(("all logits near -1000", h, w, t, np.full(300, -1000.0), 64))
    cases.append(("all logits near +650", h, w, t, np.full(300, 650.0), 64))
    # ties: identical columns and a zero hidden state give equal logits
    wt = np.repeat(w[:, :3], 100, axis=1)
    ht = h.copy()
    ht[:5] = 0.0
    cases.append(("ties", ht, wt, t, None, 64))
    # confident rows: the target's logit far above the others (losses down to e^-640):
    # hidden feature d + i of token i is its margin, and W maps it to the target only
    n, d, v = 30, 4, 300
    rng = np.random.default_rng(4)
    hc = np.zeros((n, d + n))
    hc[:, :d] = rng.standard_normal((n, d))
    hc[np.arange(n), d + np.arange(n)] = np.linspace(5.0, 640.0, n)
    wc = np.zeros((d + n, v))
    wc[:d] = rng.standard_normal((d, v))
    tc = rng.integers(0, v, size=n)
    wc[d + np.arange(n), tc] = 1.0
    cases.append(("confident rows (tiny losses)", hc, wc, tc, None, 64))
    # a vocabulary of one: the loss is exactly 0
    cases.append(("V = 1", h, w[:, :1], np.zeros(40, dtype=int), None, 8))
    return cases


CASES = adversarial_cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_within_2_ulp_of_the_exact_cross_entropy_of_the_chunk_logits(case) -> None:
    name, h, w, t, bias, chunk = case
    got = ce.linear_cross_entropy(h, w, t, bias=bias, chunk_size=chunk, reduction="none")
    z = chunk_logits(h, w, chunk, bias)
    refs = exact_losses(z, t)
    worst, where = worst_ulp(got, refs)
    assert worst <= ULP_TARGET, f"{name}: {worst:.3g} ULP at token {where}"
    assert np.all(got[t == -100] == 0.0), "ignored tokens have loss 0"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_mean_and_sum_within_2_ulp(case) -> None:
    name, h, w, t, bias, chunk = case
    refs = exact_losses(chunk_logits(h, w, chunk, bias), t)
    kept = [r for r, target in zip(refs, t, strict=True) if target != -100]
    total = mp.fsum(kept)
    got_sum = ce.linear_cross_entropy(h, w, t, bias=bias, chunk_size=chunk, reduction="sum")
    got_mean = ce.linear_cross_entropy(h, w, t, bias=bias, chunk_size=chunk)
    assert worst_ulp([got_sum], [total])[0] <= ULP_TARGET, name
    assert worst_ulp([got_mean], [total / len(kept)])[0] <= ULP_TARGET, name


def test_tiny_losses_keep_their_relative_accuracy() -> None:
    """A margin of 700 gives a loss of about e^-700: not 0, and within 2 ULP."""
    h = np.array([[1.0]])
    w = np.array([[0.0, -700.0, -705.0]])
    got = ce.linear_cross_entropy(h, w, [0], reduction="none", chunk_size=2)
    ref = mp.log1p(mp.exp(-700) + mp.exp(-705))
    assert got[0] > 0.0
    assert worst_ulp(got, [ref])[0] <= ULP_TARGET


def test_the_textbook_chunked_formula_fails_the_same_check() -> None:
    """The check can fail: lse - z_t per chunk, as usually written, loses tiny losses."""
    _, h, w, t, bias, chunk = next(c for c in CASES if c[0].startswith("confident"))
    z = chunk_logits(h, w, chunk, bias)
    m = z.max(axis=1, keepdims=True)
    textbook = (m[:, 0] + np.log(np.exp(z - m).sum(axis=1))) - z[np.arange(len(t)), t]
    worst, _ = worst_ulp(np.maximum(textbook, 1e-300), exact_losses(z, t))
    assert worst > 1e3


def test_loss_matches_the_unfused_celesson_path() -> None:
    h, w, t = problem(n=64, d=16, v=1000, seed=5)
    t[::7] = -100
    got = ce.linear_cross_entropy(h, w, t, chunk_size=128, reduction="none")
    z = chunk_logits(h, w, 128)
    keep = t != -100
    ref = ce.cross_entropy(z[keep], t[keep], reduction="none")
    # both are within 2 ULP of the same exact value
    assert np.all(np.abs(got[keep] - ref) <= 4 * np.spacing(ref))


def test_loss_does_not_depend_on_the_chunking_beyond_rounding() -> None:
    h, w, t = problem(n=32, d=8, v=500, seed=6)
    a = ce.linear_cross_entropy(h, w, t, chunk_size=500, reduction="none")
    for chunk in (1, 3, 64, 499):
        b = ce.linear_cross_entropy(h, w, t, chunk_size=chunk, reduction="none")
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=0)


# -------------------------------------------------------------------- gradients


def unfused_grads(h, w, t, bias, chunk, reduction, ignore_index=-100):
    """G from celesson.cross_entropy_grad on the materialised logits, then the products."""
    z = chunk_logits(h, w, chunk, bias)
    keep = t != ignore_index
    g = np.zeros_like(z)
    g[keep] = ce.cross_entropy_grad(z[keep], t[keep], reduction="none")
    if reduction == "mean":
        g /= keep.sum()
    return g, g @ w.T, h.T @ g, g.sum(axis=0)


def gamma(n):
    return n * U / (1 - n * U)


GRAD_CASES = [c for c in CASES if c[0] != "V = 1"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_within_the_stated_bound_of_the_unfused_path(case, reduction) -> None:
    """|dh - dh_ref| <= (2 gamma_V + 8u) |G||W|^T, |dW - dW_ref| <= (2 gamma_N + 8u) |h|^T |G|.

    Plus, per term, a few units of 2**-1074 where entries of G are subnormal."""
    name, h, w, t, bias, chunk = case
    out = ce.linear_cross_entropy_grad(
        h, w, t, bias=bias, chunk_size=chunk, reduction=reduction
    )
    g, dh_ref, dw_ref, db_ref = unfused_grads(h, w, t, bias, chunk, reduction)
    n, v = g.shape
    # entries of G in the subnormal range carry absolute errors of a few 2**-1074
    bound_dh = (2 * gamma(v) + 8 * U) * (np.abs(g) @ np.abs(w).T)
    bound_dh += TINY * (v + np.abs(w).sum(axis=1))[None, :]
    bound_dw = (2 * gamma(n) + 8 * U) * (np.abs(h).T @ np.abs(g))
    bound_dw += TINY * (n + np.abs(h).sum(axis=0))[:, None]
    assert np.all(np.abs(out[0] - dh_ref) <= bound_dh), f"{name}: dh outside the bound"
    assert np.all(np.abs(out[1] - dw_ref) <= bound_dw), f"{name}: dW outside the bound"
    if bias is not None:
        bound_db = (2 * gamma(n) + 8 * U) * np.abs(g).sum(axis=0) + TINY * 2 * n
        assert np.all(np.abs(out[2] - db_ref) <= bound_db), f"{name}: dbias outside the bound"
    else:
        assert len(out) == 2


def test_the_gradient_bound_rejects_a_wrong_gradient() -> None:
    """Forgetting the mean's 1/n (or the -1 at the target) is far outside the bound."""
    h, w, t = problem(seed=7)
    g, dh_ref, _, _ = unfused_grads(h, w, t, None, 64, "mean")
    bound = (2 * gamma(w.shape[1]) + 8 * U) * (np.abs(g) @ np.abs(w).T)
    dh_sum, _ = ce.linear_cross_entropy_grad(h, w, t, chunk_size=64, reduction="sum")
    assert not np.all(np.abs(dh_sum - dh_ref) <= bound)


def test_gradients_match_central_differences() -> None:
    rng = np.random.default_rng(8)
    h = rng.standard_normal((5, 3))
    w = rng.standard_normal((3, 11))
    b = rng.standard_normal(11)
    t = np.array([0, 4, -100, 10, 4])
    dh, dw, db = ce.linear_cross_entropy_grad(h, w, t, bias=b, chunk_size=4)

    def loss(hh=h, ww=w, bb=b):
        return float(ce.linear_cross_entropy(hh, ww, t, bias=bb, chunk_size=4))

    assert ce.check_gradient(lambda x: loss(hh=x), dh, h, rtol=1e-7, atol=1e-10)
    assert ce.check_gradient(lambda x: loss(ww=x), dw, w, rtol=1e-7, atol=1e-10)
    assert ce.check_gradient(lambda x: loss(bb=x), db, b, rtol=1e-7, atol=1e-10)


def test_ignored_tokens_get_zero_gradient_rows_and_the_mean_counts_the_rest() -> None:
    h, w, t = problem(n=6, d=4, v=20, seed=9)
    t[[1, 4]] = -1
    dh, dw = ce.linear_cross_entropy_grad(h, w, t, ignore_index=-1, chunk_size=7)
    assert np.all(dh[[1, 4]] == 0.0)
    keep = t != -1
    dh_k, dw_k = ce.linear_cross_entropy_grad(h[keep], w, t[keep], chunk_size=7)
    np.testing.assert_allclose(dh[keep], dh_k, rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(dw, dw_k, rtol=1e-13, atol=1e-17)


def test_return_loss_gives_the_loss_of_the_same_call() -> None:
    h, w, t = problem(seed=10)
    b = np.linspace(-1, 1, 300)
    loss, dh, dw, db = ce.linear_cross_entropy_grad(h, w, t, bias=b, return_loss=True)
    assert loss == ce.linear_cross_entropy(h, w, t, bias=b)
    assert dh.shape == h.shape and dw.shape == w.shape and db.shape == b.shape


# ------------------------------------------------------------------------ memory


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_no_n_by_v_array_is_allocated() -> None:
    """The loss needs far less than the N x V logits; the gradient little more than dW."""
    n, d, v = 512, 16, 16384
    h, w, t = problem(n=n, d=d, v=v, seed=11)
    logits_bytes = n * v * 8
    assert _peak(lambda: ce.linear_cross_entropy(h, w, t, chunk_size=256)) < logits_bytes / 8
    peak_grad = _peak(lambda: ce.linear_cross_entropy_grad(h, w, t, chunk_size=256))
    assert peak_grad < w.nbytes + logits_bytes / 8


# -------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"h": np.ones((3,))}, ValueError, "h must be a 2-d"),
        ({"W": np.ones((5, 4))}, ValueError, "do not fit"),
        ({"W": np.ones((2, 0))}, ValueError, "at least one column"),
        ({"h": np.full((3, 2), np.nan)}, ValueError, "h contains NaN"),
        ({"W": np.full((2, 4), np.inf)}, ValueError, "W must be finite"),
        ({"targets": [0, 1, 4]}, ValueError, "outside the valid range"),
        ({"targets": [0, 1, -2]}, ValueError, "outside the valid range"),
        ({"targets": [0.0, 1.0, 2.0]}, TypeError, "integer class indices"),
        ({"targets": [0, 1]}, ValueError, "targets must have shape (3,)"),
        ({"targets": "abc"}, TypeError, "targets"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"chunk_size": 2.5}, TypeError, "chunk_size"),
        ({"chunk_size": True}, TypeError, "chunk_size"),
        ({"ignore_index": 1.5}, TypeError, "ignore_index"),
        ({"reduction": "avg"}, ValueError, "reduction"),
        ({"bias": np.ones(3)}, ValueError, "bias must have shape (4,)"),
        ({"targets": [-100, -100, -100]}, ValueError, "zero tokens"),
        ({"h": np.full((3, 2), 1e200), "W": np.full((2, 4), 1e200)}, ValueError, "overflow"),
    ],
)
def test_bad_input_is_rejected_with_a_message_naming_it(kwargs, error, words) -> None:
    args = {"h": np.ones((3, 2)), "W": np.ones((2, 4)), "targets": [0, 1, 3]}
    args.update(kwargs)
    for fn in (ce.linear_cross_entropy, ce.linear_cross_entropy_grad):
        call = {k: v for k, v in args.items() if k not in ("h", "W", "targets")}
        with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
            fn(args["h"], args["W"], args["targets"], **call)


def test_return_loss_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="return_loss"):
        ce.linear_cross_entropy_grad(np.ones((1, 1)), np.ones((1, 2)), [0], return_loss=1)


def test_all_ignored_is_fine_for_sum_and_none() -> None:
    h, w = np.ones((2, 2)), np.ones((2, 3))
    assert ce.linear_cross_entropy(h, w, [-100, -100], reduction="sum") == 0.0
    assert ce.linear_cross_entropy(h, w, [-100, -100], reduction="none").tolist() == [0, 0]
    dh, dw = ce.linear_cross_entropy_grad(h, w, [-100, -100], reduction="sum")
    assert not dh.any() and not dw.any()


def test_default_chunk_covers_about_a_million_logits() -> None:
    inp = _fused_kernels.check_inputs(np.ones((1024, 2)), np.ones((2, 50000)),
                                      np.zeros(1024, int), None, None, -100, "mean")
    assert inp.chunk == _fused_kernels.AUTO_CHUNK_ENTRIES // 1024
    inp = _fused_kernels.check_inputs(np.ones((4, 2)), np.ones((2, 10)), np.zeros(4, int),
                                      None, None, -100, "mean")
    assert inp.chunk == 10  # never wider than the vocabulary


# ------------------------------------------------------------------ the benchmark


def test_benchmark_paths_agree_and_report_memory() -> None:
    from benchmarks import fused as bench

    h, w, t = bench.make_problem(64, 8, 512)
    ref = ce.cross_entropy(h @ w, t)
    assert abs(bench.naive_loss(h, w, t) - ref) <= 1e-12 * ref
    loss, dh, dw = bench.naive_loss_and_grad(h, w, t)
    f_loss, f_dh, f_dw = ce.linear_cross_entropy_grad(h, w, t, return_loss=True)
    assert abs(loss - f_loss) <= 1e-12 * f_loss
    np.testing.assert_allclose(dh, f_dh, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(dw, f_dw, rtol=1e-9, atol=1e-15)
    result = bench.run(repeats=1, size=(64, 8, 512), log=lambda _: None)
    for case in ("loss", "loss and gradients"):
        row = result["cases"][case]
        assert row["naive"]["peak_mb"] > 0 and row["celesson"]["peak_mb"] > 0
        assert row["time_ratio"] > 0 and row["memory_ratio"] > 0
    assert result["agreement"]["loss_max_spacings"] <= 4


# ------------------------------------------------------------------ half precision


def _bfloat16_by_bits(x: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16 by integer arithmetic on the bit pattern."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest, ties to even
    out = (bits & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return out.astype(np.float64)


def test_round_to_float16_is_numpys_conversion() -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal(20000) * 10.0 ** rng.uniform(-9, 6, 20000)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).astype(np.float64)
    np.testing.assert_array_equal(halfprec.round_to(x, "float16"), want)


def test_round_to_bfloat16_matches_the_bit_trick_on_float32_inputs() -> None:
    rng = np.random.default_rng(13)
    x = (rng.standard_normal(20000) * 10.0 ** rng.uniform(-40, 38, 20000)).astype(np.float32)
    x = x[np.isfinite(x)]
    ties = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 3.3e38], dtype=np.float32)
    x = np.concatenate([x, ties])
    np.testing.assert_array_equal(halfprec.round_to(x, "bfloat16"), _bfloat16_by_bits(x))


def test_formats_match_numpy_finfo() -> None:
    for name, dtype in (("float16", np.float16), ("float32", np.float32)):
        f, info = halfprec.FORMATS[name], np.finfo(dtype)
        assert f.max == float(info.max) and f.tiny == float(info.tiny)
        assert f.eps == float(info.eps)
        assert f.smallest_subnormal == float(info.smallest_subnormal)
    bf = halfprec.FORMATS["bfloat16"]
    assert bf.eps == 2.0**-7 and bf.tiny == 2.0**-126 and bf.smallest_subnormal == 2.0**-133


def test_textbook_cross_entropy_in_float32_is_numpys_float32_arithmetic() -> None:
    """Per-op rounding to float32 equals NumPy's float32 +, /, with correctly rounded exp/log."""
    z = np.array([[2.0, 1.0, 0.5], [0.0, 3.0, -1.0]])
    loss, grad = halfprec.textbook_cross_entropy(z, np.array([0, 2]), "float32")
    z32 = z.astype(np.float32)
    e = np.exp((z - z.max(axis=1, keepdims=True)).astype(np.float64)).astype(np.float32)
    s = (e[:, 0] + e[:, 1]) + e[:, 2]
    p = e[[0, 1], [0, 2]] / s
    np.testing.assert_allclose(loss, -np.log(p.astype(np.float64)), rtol=2e-7)
    np.testing.assert_allclose(grad[[0, 1], [0, 2]], p.astype(np.float64) - 1.0, rtol=2e-7)
    np.testing.assert_allclose(grad[0, 1:], (e[0, 1:] / s[0]).astype(np.float64), rtol=2e-7)
    assert z32.dtype == np.float32


def test_textbook_cross_entropy_breaks_where_the_formats_say() -> None:
    """bfloat16 keeps 8 bits: a margin of 6 already rounds p_t to 1; float16 overflows e^12."""
    loss, grad = halfprec.textbook_cross_entropy([[6.0, 0.0]], [0], "bfloat16")
    assert loss[0] == 0.0 and grad[0, 0] == 0.0
    assert grad[0, 1] > 0.0  # the other class's gradient is not 0: the row no longer sums to 0
    loss, _ = halfprec.textbook_cross_entropy([[12.0, 0.0]], [1], "float16", shift=False)
    assert np.isnan(loss[0]) or np.isinf(loss[0])
    loss, _ = halfprec.textbook_cross_entropy([[12.0, 0.0]], [1], "float16", shift=True)
    assert np.isfinite(loss[0]) and abs(loss[0] - 12.0) < 0.1


def test_halfprec_bad_input() -> None:
    with pytest.raises(ValueError, match="fmt must be one of"):
        halfprec.round_to([1.0], "float8")
    with pytest.raises(TypeError, match="fmt"):
        halfprec.round_to([1.0], 16)
    with pytest.raises(ValueError, match="2-d"):
        halfprec.textbook_cross_entropy([1.0, 2.0], [0], "float16")
    with pytest.raises(ValueError, match="target"):
        halfprec.textbook_cross_entropy([[1.0, 2.0]], [0.5], "float16")
