"""The loss and penalty layers against independent formulas: finite differences for the
surrogate gradients and the loss derivatives, the AM–GM equality at balanced factors, the
proximal maps against a brute-force 1-D / radial minimisation, and Fenchel–Young for the
conjugates."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from hadasparse.losses import Logistic, Multinomial, SquaredError, get_loss
from hadasparse.penalties import HadamardPenalty

rng = np.random.default_rng(0)


def _penalties(shape=(4, 3)):
    labels = np.array([0, 0, 0, 1, 1, 1, -1, -1, -1, 2, 2, 2])
    out = []
    for depth in (2, 3, 4):
        out.append(HadamardPenalty(shape, "l1", depth, weights=rng.uniform(0.5, 2, shape)))
        out.append(HadamardPenalty(shape, "group", depth, groups=labels))
    return out


@pytest.mark.parametrize("pen", _penalties(), ids=lambda p: f"{p.kind}-k{p.depth}")
def test_surrogate_gradient_matches_finite_differences(pen):
    beta = rng.standard_normal(pen.shape)
    target = rng.standard_normal(pen.shape)
    alpha = 0.3
    factors = pen.balanced(beta, rng=1)
    factors = [f + 0.1 * rng.standard_normal(f.shape) for f in factors]

    def f(fs):
        b = pen.to_beta(fs)
        return 0.5 * np.sum((b - target) ** 2) + pen.ridge(fs, alpha)

    grads = pen.gradients(factors, pen.to_beta(factors) - target, alpha)
    eps = 1e-6
    for i, fac in enumerate(factors):
        for idx in np.ndindex(fac.shape):
            plus = [x.copy() for x in factors]
            minus = [x.copy() for x in factors]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            fd = (f(plus) - f(minus)) / (2 * eps)
            assert abs(fd - grads[i][idx]) <= 1e-6 * max(1.0, abs(fd))


@pytest.mark.parametrize("pen", _penalties(), ids=lambda p: f"{p.kind}-k{p.depth}")
def test_balanced_factors_reproduce_beta_and_penalty(pen):
    beta = rng.standard_normal(pen.shape)
    beta.reshape(-1)[:3] = 0.0  # a zero group / zero entries
    factors = pen.balanced(beta, rng=2, scale=0.0)
    np.testing.assert_allclose(pen.to_beta(factors), beta, atol=1e-14)
    assert pen.ridge(factors, 0.7) == pytest.approx(0.7 * pen.value(beta), rel=1e-12)
    # any other factorisation of the same beta has a larger ridge (AM-GM)
    other = [f * rng.uniform(0.5, 2.0, f.shape) for f in factors]
    assert pen.ridge(other, 0.7) >= pen.ridge(factors, 0.7) - 1e-12 or not np.allclose(
        pen.to_beta(other), beta)


@pytest.mark.parametrize("pen", _penalties(), ids=lambda p: f"{p.kind}-k{p.depth}")
def test_prox_minimises_its_objective(pen):
    z = 2 * rng.standard_normal(pen.shape)
    z.reshape(-1)[:3] *= 0.05  # a small group / small entries: thresholded to exact zeros
    lam = 0.8
    out = pen.prox(z, lam)

    def obj(b):
        return 0.5 * np.sum((b - z) ** 2) + lam * pen.value(b)

    best = obj(out)
    assert np.any(out == 0.0)
    if pen.kind == "l1":  # separable: each entry against a brute-force 1-D minimisation
        for idx in np.ndindex(pen.shape):
            w = pen.weights[idx]
            cands = [0.0, minimize_scalar(lambda x: 0.5 * (x - z[idx]) ** 2 + lam * w * abs(x)
                                          ** pen.q, bounds=sorted([0, z[idx]]),
                                          method="bounded", options={"xatol": 1e-12}).x]
            vals = [0.5 * (c - z[idx]) ** 2 + lam * w * abs(c) ** pen.q for c in cands]
            mine = 0.5 * (out[idx] - z[idx]) ** 2 + lam * w * abs(out[idx]) ** pen.q
            assert mine <= min(vals) + 1e-9
    for _ in range(200):  # no random perturbation does better
        assert obj(out + 1e-3 * rng.standard_normal(pen.shape)) >= best - 1e-12


@pytest.mark.parametrize("loss", [SquaredError, Logistic])
def test_binary_losses_derivatives_and_conjugate(loss):
    y = np.where(rng.random(50) < 0.5, -1.0, 1.0)
    z = 3 * rng.standard_normal(50)
    eps = 1e-6
    fd = (loss.value(y, z + eps) - loss.value(y, z - eps)) / (2 * eps)
    np.testing.assert_allclose(loss.gradient(y, z), fd, rtol=1e-6, atol=1e-8)
    fd2 = (loss.gradient(y, z + eps) - loss.gradient(y, z - eps)) / (2 * eps)
    np.testing.assert_allclose(loss.hessian(y, z), fd2, rtol=1e-5, atol=1e-8)
    # Fenchel-Young: equality at u = ℓ'(z), inequality elsewhere
    u = loss.gradient(y, z)
    np.testing.assert_allclose(loss.value(y, z) + loss.conjugate(y, u), u * z, atol=1e-10)
    u2 = u * rng.uniform(0.2, 0.9, 50)
    assert np.all(loss.value(y, z) + loss.conjugate(y, u2) >= u2 * z - 1e-12)
    assert get_loss(loss.name) is loss


def test_multinomial_derivatives_and_conjugate():
    K = 4
    Y = np.eye(K)[rng.integers(0, K, 30)]
    Z = rng.standard_normal((30, K))
    eps = 1e-6
    G = Multinomial.gradient(Y, Z)
    for k in range(K):
        dZ = np.zeros_like(Z)
        dZ[:, k] = eps
        fd = (Multinomial.value(Y, Z + dZ) - Multinomial.value(Y, Z - dZ)) / (2 * eps)
        np.testing.assert_allclose(G[:, k], fd, rtol=1e-6, atol=1e-8)
        fd2 = (Multinomial.gradient(Y, Z + dZ)[:, k] - Multinomial.gradient(Y, Z - dZ)[:, k]) / (
            2 * eps)
        np.testing.assert_allclose(Multinomial.hessian(Y, Z)[:, k], fd2, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(Multinomial.value(Y, Z) + Multinomial.conjugate(Y, G),
                               np.einsum("ik,ik->i", G, Z), atol=1e-10)
    assert np.all(np.isinf(Multinomial.conjugate(Y, G + 0.1)))


def test_intercept_only_is_optimal():
    y = np.where(rng.random(40) < 0.3, -1.0, 1.0)
    sw = rng.uniform(0.5, 2, 40)
    z0 = Logistic.intercept_only(y, sw)
    assert abs(sw @ Logistic.gradient(y, np.full(40, z0))) < 1e-10
    Y = np.eye(3)[rng.integers(0, 3, 40)]
    Z0 = Multinomial.intercept_only(Y, sw)
    np.testing.assert_allclose(sw @ Multinomial.gradient(Y, np.tile(Z0, (40, 1))), 0,
                               atol=1e-10)
    with pytest.raises(ValueError, match="both classes"):
        Logistic.intercept_only(np.ones(5))


def test_bad_penalty_arguments():
    with pytest.raises(ValueError, match="kind"):
        HadamardPenalty((3,), "l2")
    with pytest.raises(ValueError, match="depth"):
        HadamardPenalty((3,), "l1", depth=1)
    with pytest.raises(ValueError, match="groups"):
        HadamardPenalty((3,), "group")
    with pytest.raises(ValueError, match="labels"):
        HadamardPenalty((3,), "group", groups=[0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        HadamardPenalty((3,), "l1", weights=[-1, 1, 1])
