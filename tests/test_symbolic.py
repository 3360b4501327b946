"""celesson.symbolic: expressions, verify() and verify_nonnegative()."""

from __future__ import annotations

import pytest
import sympy as sp

from celesson import Verification, verify, verify_nonnegative
from celesson import symbolic as S


def test_symbolic_proofs():
    v = verify(sp.diff(S.bce(S.sigma(S.z), S.y), S.z), S.sigma(S.z) - S.y,
               description="dC/dz = sigma(z) - y")
    assert v and v.holds and v.method == "symbolic"
    assert str(v) == "✔ verified symbolically: dC/dz = sigma(z) - y"
    assert repr(v) == str(v) and v._repr_markdown_() == str(v)
    assert verify(sp.diff(S.sigma(S.z), S.z), S.sigma(S.z) * (1 - S.sigma(S.z)))
    assert verify(S.bce(S.a, S.a), S.binary_entropy(S.a))


def test_numeric_fallback():
    # KL(p||q) = H(p, q) - H(p) for Bernoulli p, q: SymPy does not simplify the logs of
    # 1 - p, so the 50-digit numeric check decides
    kl = S.kl_divergence([S.p, 1 - S.p], [S.q, 1 - S.q])
    v = verify(kl, S.bce(S.q, S.p) - S.binary_entropy(S.p), description="KL = H(p,q) - H(p)")
    assert v.holds and v.method == "numeric" and v.n_points == 20 and v.dps == 50
    assert str(v) == (
        "✔ verified numerically at 20 random points (50 digits): KL = H(p,q) - H(p)"
    )
    assert "max relative |lhs-rhs|" in v.detail


def test_false_identity_does_not_hold():
    v = verify(S.sigma(S.z), S.sigma(-S.z), description="sigma is even")
    assert not v and v.method == "counterexample"
    assert str(v).startswith("✘ DOES NOT HOLD: sigma is even (counterexample z=")
    assert "lhs-rhs=" in str(v)
    # off by a tiny amount: still caught at 50 digits
    assert not verify(S.sigma(S.z), S.sigma(S.z) + sp.Rational(1, 10**30))
    # a wrong derivative
    assert not verify(sp.diff(S.mse(S.sigma(S.z), S.y), S.z), S.sigma(S.z) - S.y)


def test_symbolic_step_can_be_skipped_and_the_seed_fixes_the_points():
    v = verify(S.sigma(-S.z), 1 - S.sigma(S.z), symbolic=False)
    assert v.method == "numeric"
    # the sample points come from the seed: same seed, same detail
    one = verify(S.kl_divergence([S.p, 1 - S.p], [S.q, 1 - S.q]), 0, seed=3)
    assert not one and one.detail == verify(
        S.kl_divergence([S.p, 1 - S.p], [S.q, 1 - S.q]), 0, seed=3
    ).detail
    assert one.detail != verify(S.kl_divergence([S.p, 1 - S.p], [S.q, 1 - S.q]), 0, seed=4).detail


def test_domains():
    # sqrt(x**2) = x needs x >= 0 (x is only known to be real, so SymPy cannot prove it)
    lhs, rhs = sp.sqrt(S.x**2), S.x
    v = verify(lhs, rhs, domains={S.x: (0, 3)})
    assert v and v.method == "numeric"
    assert verify(lhs, rhs, domains={"x": (0, 3)})
    assert not verify(lhs, rhs, domains={S.x: (-3, -1)})
    assert not verify(lhs, rhs)  # default domain of x is (-4, 4)


def test_matrices_and_lists():
    zs = S.softmax_symbols(3)
    p = S.softmax(zs)
    jac = sp.Matrix(p).jacobian(zs)
    expected = sp.diag(*p) - sp.Matrix(p) * sp.Matrix(p).T
    assert verify(jac, expected, description="softmax Jacobian")
    grad = [sp.diff(S.cross_entropy(zs, 1), v) for v in zs]
    assert verify(grad, [p[0], p[1] - 1, p[2]])
    assert not verify(grad, [p[0], p[1], p[2]])
    assert verify(sp.Add(*p), 1)


def test_symbolic_number_of_classes():
    total = sp.Sum(S.softmax_indexed(S.i), (S.i, 1, S.K))
    v = verify(total, 1, description="softmax sums to 1 for any K")
    assert v.holds
    wrong = sp.Sum(S.softmax_indexed(S.i), (S.i, 1, S.K - 1))
    assert not verify(wrong, 1)


def test_expressions():
    zs = S.softmax_symbols(4)
    assert verify(S.log_softmax(zs)[2], zs[2] - S.logsumexp(zs))
    assert verify(S.cross_entropy(zs, [0, 1, 0, 0]), S.cross_entropy(zs, 1))
    # smoothing conventions relate by eps_others = eps_uniform (K - 1) / K
    k = 4
    uni = S.smooth_labels(0, k, S.eps)
    oth = S.smooth_labels(0, k, S.eps * (k - 1) / k, convention="others")
    assert verify(uni, oth)
    assert verify(S.focal_logits(S.z, S.y, 0), S.bce_logits(S.z, S.y))
    assert verify(S.focal(S.p, 0), -sp.log(S.p))
    assert verify(S.entropy([S.p, 1 - S.p]), S.binary_entropy(S.p))
    with pytest.raises(ValueError, match="convention"):
        S.smooth_labels(0, 3, S.eps, convention="bad")
    with pytest.raises(ValueError, match="out of range"):
        S.cross_entropy(zs, 4)
    with pytest.raises(ValueError, match="num_classes"):
        S.softmax_symbols(0)


def test_verify_nonnegative():
    v = verify_nonnegative(S.sigma(S.z) * (1 - S.sigma(S.z)))
    assert v and v.description.endswith(">= 0")
    second = sp.diff(S.bce(S.a, S.y), S.a, 2)
    assert verify_nonnegative(second, domains={S.y: (0, 1)})
    bad = verify_nonnegative(S.z**3)
    assert not bad and "counterexample" in bad.detail
    assert isinstance(bad, Verification)


def test_bad_arguments():
    with pytest.raises(TypeError, match="description must be a string"):
        verify(S.z, S.z, description=3)
    with pytest.raises(TypeError, match="domains must be a mapping"):
        verify(S.z, S.z, domains=[(0, 1)])
    with pytest.raises(ValueError, match="low < high"):
        verify(S.z, S.z, domains={S.z: (1, 0)})
    with pytest.raises(TypeError, match=r"domains\[z\] must be a pair"):
        verify(S.z, S.z, domains={S.z: 1})
    with pytest.raises(ValueError, match="n_points must be >= 1"):
        verify(S.z, S.z, n_points=0)
    with pytest.raises(ValueError, match="dps must be >= 20"):
        verify(S.z, S.z, dps=10)
    with pytest.raises(ValueError, match="same shape"):
        verify(sp.Matrix([S.z, S.z]), sp.Matrix([S.z]))
    with pytest.raises(TypeError, match="pass the two sides"):
        verify(sp.Eq(S.z, S.z))
    with pytest.raises(TypeError, match="lhs must be a SymPy expression"):
        verify("z + 1", S.z)
    with pytest.raises(TypeError, match=r"unexpected keyword argument .domain."):  # alias removed
        verify(S.z, S.z, domain={})
