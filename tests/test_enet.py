"""The elastic-net family against scikit-learn's coordinate descent (solved to 1e-12) and
against the KKT conditions computed here, independently of the solver."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import (
    ElasticNet,
    ElasticNetCV,
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    enet_path,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import (
    HadamardElasticNet,
    HadamardElasticNetCV,
    HadamardLasso,
    HadamardMultiTaskElasticNet,
    HadamardMultiTaskElasticNetCV,
    hadamard_enet_path,
)


def _problem(seed, n=60, p=120, sparse_x=False, k=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1] = X[:, 0] + 0.1 * rng.standard_normal(n)  # correlated pair: where the ridge matters
    if sparse_x:
        X[rng.random((n, p)) < 0.6] = 0.0
        X = sparse.csr_matrix(X)
    w = np.zeros(p)
    k = min(k, p)
    w[:k] = rng.standard_normal(k) * 2
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.5
    return X, y


def _objective(X, y, coef, intercept, alpha, l1_ratio, sw=None):
    n = X.shape[0]
    sw = np.ones(n) if sw is None else sw * n / sw.sum()
    r = y - X @ coef - intercept
    return (0.5 * (sw * r) @ r / n + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


def _sklearn(cls, **kw):
    return cls(tol=1e-12, max_iter=1_000_000, **kw)


@parametrize_with_checks([HadamardElasticNet(), HadamardMultiTaskElasticNet(),
                          HadamardElasticNetCV(cv=3, alphas=5),
                          HadamardMultiTaskElasticNetCV(cv=3, alphas=5)])
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("sparse_x", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_sklearn_elastic_net(sparse_x, fit_intercept, l1_ratio, weighted):
    X, y = _problem(1, sparse_x=sparse_x)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    Xd = X.toarray() if sparse_x else X
    a_max = np.abs((Xd - Xd.mean(0) * fit_intercept).T @ (y - y.mean() * fit_intercept)).max()
    alpha = 0.05 * a_max / X.shape[0] / l1_ratio
    ours = HadamardElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              tol=1e-10).fit(X, y, sample_weight=sw)
    ref = _sklearn(ElasticNet, alpha=alpha, l1_ratio=l1_ratio,
                   fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    f_ours = _objective(Xd, y, ours.coef_, ours.intercept_, alpha, l1_ratio, sw)
    f_ref = _objective(Xd, y, ref.coef_, ref.intercept_, alpha, l1_ratio, sw)
    assert f_ours <= f_ref * (1 + 1e-10)
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
    assert 0 <= ours.dual_gap_ <= 1e-10 * np.average((y - np.average(y, weights=sw)) ** 2,
                                                       weights=sw) + 1e-15


def test_kkt_and_exact_zeros():
    X, y = _problem(3, n=80, p=300)
    alpha, l1_ratio = 0.05, 0.6
    reg = HadamardElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12).fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    grad = Xc.T @ (yc - Xc @ reg.coef_) / X.shape[0] - alpha * (1 - l1_ratio) * reg.coef_
    active = reg.coef_ != 0
    assert 0 < active.sum() < 300
    np.testing.assert_allclose(grad[active], alpha * l1_ratio * np.sign(reg.coef_[active]),
                               atol=1e-7)
    assert np.all(np.abs(grad[~active]) <= alpha * l1_ratio * (1 + 1e-7))


def test_l1_ratio_one_is_the_lasso():
    X, y = _problem(4)
    a = HadamardElasticNet(alpha=0.1, l1_ratio=1.0).fit(X, y)
    b = HadamardLasso(alpha=0.1).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.dual_gap_ == b.dual_gap_


def test_float32_and_positive():
    X, y = _problem(5)
    reg = HadamardElasticNet(alpha=0.05, l1_ratio=0.5, positive=True, tol=1e-10).fit(
        X.astype(np.float32), y)
    assert reg.coef_.dtype == np.float32 and np.all(reg.coef_ >= 0)
    ref = _sklearn(ElasticNet, alpha=0.05, l1_ratio=0.5, positive=True).fit(X, y)
    np.testing.assert_array_equal(reg.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_allclose(reg.coef_, ref.coef_, atol=1e-5)


def test_multitask_equals_sklearn():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((70, 40))
    Y = X[:, :4] @ rng.standard_normal((4, 3)) + 0.2 * rng.standard_normal((70, 3))
    for l1_ratio in (0.3, 0.8):
        ours = HadamardMultiTaskElasticNet(alpha=0.1, l1_ratio=l1_ratio, tol=1e-10).fit(X, Y)
        ref = _sklearn(MultiTaskElasticNet, alpha=0.1, l1_ratio=l1_ratio).fit(X, Y)
        np.testing.assert_array_equal(np.any(ours.coef_ != 0, axis=0),
                                      np.any(ref.coef_ != 0, axis=0))
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_path_equals_sklearn():
    X, y = _problem(7)
    X = X - X.mean(0)
    y = y - y.mean()
    alphas, coefs, gaps = hadamard_enet_path(X, y, l1_ratio=0.7, alphas=15, tol=1e-10)
    ref_alphas, ref_coefs, _ = enet_path(X, y, l1_ratio=0.7, alphas=15, tol=1e-12,
                                         max_iter=1_000_000)
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    np.testing.assert_array_equal(coefs != 0, ref_coefs != 0)
    np.testing.assert_allclose(coefs, ref_coefs, atol=1e-6)
    assert np.all(gaps <= 1e-10 * (y @ y) / len(y) + 1e-15)


@pytest.mark.parametrize("l1_ratio", [0.5, [0.3, 0.7, 1.0]])
def test_cv_equals_sklearn(l1_ratio):
    X, y = _problem(8, n=90, p=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every fold's path converges
        ours = HadamardElasticNetCV(l1_ratio=l1_ratio, alphas=12, cv=3, tol=1e-8).fit(X, y)
    ref = ElasticNetCV(l1_ratio=l1_ratio, alphas=12, cv=3, tol=1e-10,
                       max_iter=1_000_000).fit(X, y)
    assert ours.mse_path_.shape == ref.mse_path_.shape
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
    assert ours.alpha_ == pytest.approx(ref.alpha_) and ours.l1_ratio_ == ref.l1_ratio_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


def test_multitask_cv_equals_sklearn():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((60, 20))
    Y = X[:, :3] @ rng.standard_normal((3, 2)) + 0.3 * rng.standard_normal((60, 2))
    ours = HadamardMultiTaskElasticNetCV(l1_ratio=[0.4, 0.9], alphas=8, cv=3, tol=1e-8).fit(X, Y)
    ref = MultiTaskElasticNetCV(l1_ratio=[0.4, 0.9], alphas=8, cv=3, tol=1e-10,
                                max_iter=1_000_000).fit(X, Y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
    assert ours.alpha_ == pytest.approx(ref.alpha_) and ours.l1_ratio_ == ref.l1_ratio_


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, "a"])
def test_bad_l1_ratio(bad):
    X, y = _problem(10, n=20, p=5)
    with pytest.raises(ValueError, match="l1_ratio"):
        HadamardElasticNet(l1_ratio=bad).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        HadamardElasticNetCV(l1_ratio=[0.5, bad] if bad != "a" else bad, cv=2).fit(X, y)


@pytest.mark.parametrize("shape", [(30, 10), (20, 60)])
def test_l1_ratio_zero_is_sklearns_ridge(shape):
    """l1_ratio=0 (ridge regression) as sklearn's ElasticNet fits it, certified by the ridge
    duality gap; the CV classes and the path need given alphas for it, as sklearn's."""
    X, y = _problem(11, n=shape[0], p=shape[1])
    for alpha in (1e-3, 0.1, 10.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns that it is ridge regression
            ref = _sklearn(ElasticNet, alpha=alpha, l1_ratio=0.0).fit(X, y)
        ours = HadamardElasticNet(alpha=alpha, l1_ratio=0.0, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8 * np.abs(ref.coef_).max())
        assert 0 <= ours.dual_gap_ <= 1e-10 * np.var(y)
    with pytest.raises(ValueError, match="Automatic alpha grid generation"):
        HadamardElasticNetCV(l1_ratio=[0.0, 0.5], cv=2).fit(X, y)
    with pytest.raises(ValueError, match="Automatic alpha grid generation"):
        hadamard_enet_path(X, y, l1_ratio=0.0)
    cv = HadamardElasticNetCV(l1_ratio=[0.0, 0.5], alphas=[0.1, 1.0], cv=2).fit(X, y)
    assert cv.alphas_.shape == (2,) and cv.mse_path_.shape == (2, 2, 2)


def _group_enet_reference(A, b, alpha, rho, gptr, w, iters=20000):
    """Proximal gradient on ``1/(2n)‖b − Aβ‖² + αρ Σ_g w_g ‖β_g‖ + α(1−ρ)/2 ‖β‖²`` (the ridge in
    the smooth part, block soft-thresholding as the prox), written here independently."""
    n, p = A.shape
    L = np.linalg.eigvalsh(A.T @ A / n).max() + alpha * (1 - rho)
    z = np.zeros(p)
    for _ in range(iters):
        v = z - (-A.T @ (b - A @ z) / n + alpha * (1 - rho) * z) / L
        for k in range(len(gptr) - 1):
            s, e = gptr[k], gptr[k + 1]
            nv, t = np.linalg.norm(v[s:e]), alpha * rho * w[k] / L
            v[s:e] = 0.0 if nv <= t else v[s:e] * (1 - t / nv)
        z = v
    return z


@pytest.mark.parametrize("unpenalised", [False, True])
@pytest.mark.parametrize("sparse_x", [False, True])
def test_group_elastic_net_matches_proximal_gradient(unpenalised, sparse_x):
    from hadasparse import HadamardGroupLasso

    rng = np.random.default_rng(12)
    n, p = 50, 30
    X = rng.standard_normal((n, p))
    y = X[:, :6] @ rng.standard_normal(6) + 0.3 * rng.standard_normal(n)
    labels = np.repeat(np.arange(6), 5)
    if unpenalised:
        labels[:5] = -1
    alpha, rho = 0.3, 0.6
    Xf = sparse.csc_matrix(X) if sparse_x else X
    model = HadamardGroupLasso(alpha=alpha, l1_ratio=rho, groups=labels, tol=1e-12).fit(Xf, y)
    # the reference on the centred data in group order (label -1 last, weight 0)
    order = np.argsort(np.where(labels < 0, 99, labels), kind="stable")
    A = (X - X.mean(0))[:, order]
    sizes = np.bincount(np.where(labels < 0, 6, labels))[:6 + unpenalised]
    sizes = sizes[sizes > 0]
    gptr = np.concatenate([[0], np.cumsum(sizes)])
    w = np.sqrt(sizes.astype(float))
    if unpenalised:
        w[-1] = 0.0
    ref = np.zeros(p)
    ref[order] = _group_enet_reference(A, y - y.mean(), alpha, rho, gptr, w)
    np.testing.assert_allclose(model.coef_, ref, atol=1e-8)
    assert model.dual_gap_ <= 1e-12 * np.var(y) + 1e-15
    assert np.any(model.coef_ == 0.0)  # whole groups exactly zero
    one = HadamardGroupLasso(alpha=alpha, groups=labels).fit(X, y)
    np.testing.assert_array_equal(
        one.coef_, HadamardGroupLasso(alpha=alpha, l1_ratio=1.0, groups=labels).fit(X, y).coef_)
