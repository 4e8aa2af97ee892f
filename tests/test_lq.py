"""Tests for ``hadasparse.HadamardLqRegressor``.

The problem is non-convex, so there is no reference solution to compare with. The returned
point is instead checked against optimality conditions computed in this file, independently
of the package (its prox, gradient and thresholds are not used):

    P(beta, b0) = 1/(2n) sum_i s_i (y_i - x_i^T beta - b0)^2 + alpha sum_j |beta_j|^q

- fixed point of the diagonally scaled proximal-gradient map (one exact coordinate step per
  coordinate, step 1/G_jj with G_jj = ||x_j||^2/n on the centred, weighted columns), with the
  ℓq prox computed by brute-force 1-D minimisation;
- every zero satisfies the ℓq zero-threshold condition ``|grad_j|/G_jj <= tau(alpha/G_jj)``;
- every nonzero is a stationary point of its coordinate with nonnegative curvature;
- for q = 1 the estimator is HadamardLasso.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardGroupLasso, HadamardLasso, HadamardLqRegressor
from hadasparse.solvers._lq_kernels import (
    lq_local_search,
    lq_polish,
    lq_prox,
)
from hadasparse.losses._quadratic import gram_operator

Q_VALUES = [0.5, 2 / 3, 0.4, 1 / 3]


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def sparse_recovery(n=80, p=200, k=5, rho=0.0, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    if rho:
        for j in range(1, p):
            X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    beta = np.zeros(p)
    support = rng.choice(p, k, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 2.0, k)
    y = X @ beta + 0.5 * rng.standard_normal(n) + 1.0
    return X, y, beta


def sparse_X(n=120, p=60, seed=2):
    rng = np.random.RandomState(seed)
    X = sp.random(n, p, density=0.2, format="csc", random_state=rng,
                  data_rvs=lambda m: rng.standard_normal(m) + 1.0)
    beta = np.zeros(p)
    beta[:6] = rng.uniform(1, 2, 6) * rng.choice([-1.0, 1.0], 6)
    y = X @ beta + 0.3 * rng.standard_normal(n) + 2.0
    return X, y


# --------------------------------------------------------------------------------------
# Independent optimality checks
# --------------------------------------------------------------------------------------


def centred_weighted(X, y, sample_weight=None, fit_intercept=True):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * (n / np.sum(sample_weight))
    if fit_intercept:
        X = X - np.average(X, axis=0, weights=s)
        y = y - np.average(y, weights=s)
    sq = np.sqrt(s)
    return sq[:, None] * X, sq * y


def tau(lam, q):
    """Zero threshold of argmin_x 1/2 (x - z)^2 + lam |x|^q (0 < q < 1)."""
    return (2 - q) / (2 - 2 * q) * (2 * lam * (1 - q)) ** (1 / (2 - q))


def brute_prox(z, lam, q):
    """argmin_x 1/2 (x - z)^2 + lam |x|^q by bounded 1-D minimisation on [0, |z|] (the
    minimiser has z's sign and is no larger than |z|), compared with x = 0."""
    if z == 0 or lam == 0:
        return z
    a = abs(z)

    def h(x):
        return 0.5 * (x - a) ** 2 + lam * x**q

    res = minimize_scalar(h, bounds=(0.0, a), method="bounded",
                          options={"xatol": 1e-14 * max(a, 1.0), "maxiter": 1000})
    x = res.x
    # refine the interior stationary point by Newton (Brent stops at ~1e-8 relative)
    for _ in range(50):
        if x <= 0:
            break
        g = x - a + lam * q * x ** (q - 1)
        H = 1 + lam * q * (q - 1) * x ** (q - 2)
        if H <= 0:
            break
        x = max(x - g / H, 0.5 * x)
    return np.sign(z) * x if h(x) < h(0.0) else 0.0


def residual_and_grad(reg, X, y, sample_weight=None):
    A, b = centred_weighted(X, y, sample_weight, reg.fit_intercept)
    n = A.shape[0]
    beta = np.asarray(reg.coef_, dtype=np.float64)
    grad = -A.T @ (b - A @ beta) / n
    diag = np.einsum("ij,ij->j", A, A) / n
    return beta, grad, diag, b


def fixed_point_residual(reg, X, y, sample_weight=None, q=None):
    q = reg.q if q is None else q
    beta, grad, diag, b = residual_and_grad(reg, X, y, sample_weight)
    T = np.array([brute_prox(beta[j] - grad[j] / diag[j], reg.alpha / diag[j], q)
                  if diag[j] > 0 else 0.0 for j in range(beta.size)])
    return np.max(np.sqrt(diag) * np.abs(beta - T)), np.sqrt(b @ b / b.size)


def objective(reg, X, y, sample_weight=None, q=None):
    q = reg.q if q is None else q
    X = X.toarray() if sp.issparse(X) else X
    s = np.ones(len(y)) if sample_weight is None else sample_weight * len(y) / np.sum(
        sample_weight)
    r = y - X @ reg.coef_ - reg.intercept_
    return 0.5 * np.sum(s * r * r) / len(y) + reg.alpha * np.sum(np.abs(reg.coef_) ** q)


# --------------------------------------------------------------------------------------
# sklearn contract
# --------------------------------------------------------------------------------------


@parametrize_with_checks([
    HadamardLqRegressor(),
    HadamardLqRegressor(q=2 / 3, init="path"),
    HadamardLqRegressor(q=0.4, init="random", random_state=0),
    HadamardLqRegressor(q=1.0),
    HadamardLqRegressor(q=2 / 3, groups=1),
])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# The proximal map
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", Q_VALUES)
def test_prox_matches_brute_force(q):
    rng = np.random.RandomState(0)
    for lam in [0.05, 0.3, 1.0, 4.0]:
        t = tau(lam, q)
        zs = np.concatenate([rng.uniform(-4, 4, 40) * max(t, 1),
                             [t * 1.001, -t * 1.001, t * 0.999, t * 1.5, -t * 3, 0.0]])
        for z in zs:
            x = lq_prox(z, lam, q)
            xb = brute_prox(z, lam, q)
            h = 0.5 * (x - z) ** 2 + lam * abs(x) ** q
            hb = 0.5 * (xb - z) ** 2 + lam * abs(xb) ** q
            assert h <= hb + 1e-12 * max(1.0, hb)
            assert x == pytest.approx(xb, rel=1e-9, abs=1e-12)
            assert (x == 0.0) == (abs(z) <= t)


def test_prox_q1_is_soft_thresholding():
    for z in [-3.0, -0.2, 0.0, 0.4, 2.0]:
        assert lq_prox(z, 0.5, 1.0) == np.sign(z) * max(abs(z) - 0.5, 0.0)


# --------------------------------------------------------------------------------------
# Optimality of the returned point
# --------------------------------------------------------------------------------------

FIT_CASES = [
    ("dense", 0.5, True, False),
    ("dense", 2 / 3, True, False),
    ("dense", 0.4, False, False),
    ("dense", 1 / 3, True, True),
    ("correlated", 0.5, True, False),
    ("correlated", 2 / 3, True, True),
    ("sparse", 0.5, True, False),
    ("sparse", 2 / 3, False, True),
]


def _case(kind, weighted):
    if kind == "sparse":
        X, y = sparse_X()
    else:
        X, y, _ = sparse_recovery(rho=0.7 if kind == "correlated" else 0.0)
    sw = np.random.RandomState(5).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    return X, y, sw


@pytest.mark.parametrize("kind, q, fit_intercept, weighted", FIT_CASES)
def test_fixed_point_of_prox_gradient_map(kind, q, fit_intercept, weighted):
    X, y, sw = _case(kind, weighted)
    for alpha in [0.02, 0.1]:
        reg = HadamardLqRegressor(alpha=alpha, q=q, fit_intercept=fit_intercept, tol=1e-8)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            reg.fit(X, y, sample_weight=sw)
        res, scale = fixed_point_residual(reg, X, y, sw)
        assert res <= 1e-7 * scale
        assert reg.fixed_point_residual_ <= 1e-8 * scale
        assert reg.objective_ == pytest.approx(objective(reg, X, y, sw), rel=1e-10)


@pytest.mark.parametrize("kind, q, fit_intercept, weighted", FIT_CASES)
def test_zero_threshold_and_stationarity(kind, q, fit_intercept, weighted):
    X, y, sw = _case(kind, weighted)
    reg = HadamardLqRegressor(alpha=0.05, q=q, fit_intercept=fit_intercept, tol=1e-8)
    reg.fit(X, y, sample_weight=sw)
    beta, grad, diag, b = residual_and_grad(reg, X, y, sw)
    zero = beta == 0
    assert zero.any() and (~zero).any()
    # every zero: no coordinate step leaves it
    live = zero & (diag > 0)
    assert np.all(np.abs(grad[live]) / diag[live]
                  <= tau(reg.alpha / diag[live], q) * (1 + 1e-9))
    # every nonzero: stationary, locally convex along its coordinate, beyond the threshold
    nz = ~zero
    stat = grad[nz] + reg.alpha * q * np.sign(beta[nz]) * np.abs(beta[nz]) ** (q - 1)
    assert np.max(np.abs(stat)) <= 1e-8 * np.sqrt(b @ b / b.size)
    assert np.all(diag[nz] + reg.alpha * q * (q - 1) * np.abs(beta[nz]) ** (q - 2) >= 0)
    z = beta[nz] - grad[nz] / diag[nz]
    assert np.all(np.abs(z) > tau(reg.alpha / diag[nz], q))


def test_lq_is_sparser_than_lasso_and_recovers_support():
    X, y, beta = sparse_recovery(n=100, p=300, k=5, rho=0.5, seed=3)
    lasso = HadamardLasso(alpha=0.1).fit(X, y)
    lq = HadamardLqRegressor(alpha=0.1, q=0.5).fit(X, y)
    true = beta != 0
    assert np.array_equal(lq.coef_ != 0, true)
    assert np.sum((lasso.coef_ != 0) & ~true) > 0
    # less shrinkage of the true coefficients
    assert np.linalg.norm(lq.coef_ - beta) < np.linalg.norm(lasso.coef_ - beta)


def test_objective_not_above_lasso_start():
    # init='lasso' descends from the (certified) lasso solution at the same alpha
    X, y, _ = sparse_recovery(rho=0.7, seed=4)
    for q in [0.5, 2 / 3]:
        reg = HadamardLqRegressor(alpha=0.03, q=q, init="lasso").fit(X, y)
        lasso = HadamardLasso(alpha=0.03).fit(X, y)
        assert reg.objective_ <= objective(lasso, X, y, q=q)


def _two_feature_trap(alpha, q=0.5):
    """y = 2 x1 + noise with x2 = 0.9 x1 + ...: the fit on x2 alone is a fixed point (x1's
    coordinate step stays at 0 for alpha >= 0.2), the fit on x1 alone a better one."""
    rng = np.random.RandomState(0)
    n = 50
    x1 = rng.standard_normal(n)
    x2 = 0.9 * x1 + np.sqrt(1 - 0.81) * rng.standard_normal(n)
    X = np.column_stack([x1, x2, rng.standard_normal((n, 3))])
    y = 2 * x1 + 0.1 * rng.standard_normal(n)
    G, c = X.T @ X / n, X.T @ y / n
    beta = np.zeros(5)
    for _ in range(200):  # coordinate descent on x2 alone
        g = G @ beta - c
        beta[1] = brute_prox(beta[1] - g[1] / G[1, 1], alpha / G[1, 1], q)
    return G, c, beta


@pytest.mark.parametrize("alpha", [0.2, 0.5])
def test_local_search_leaves_a_worse_fixed_point(alpha):
    q = 0.5
    G, c, beta = _two_feature_trap(alpha, q)
    g = G @ beta - c
    T = [brute_prox(beta[j] - g[j] / G[j, j], alpha / G[j, j], q) for j in range(5)]
    assert np.max(np.abs(T - beta)) <= 1e-10  # the start is a fixed point, on x2

    def value(b):
        return 0.5 * b @ G @ b - c @ b + alpha * np.sum(np.abs(b) ** q)

    op = gram_operator(G.copy(), c.copy())
    found = beta.copy()
    accepted, tried = lq_local_search(op, alpha, q, found, (), 1e-12, 1000, 100)
    assert accepted >= 1
    np.testing.assert_array_equal(found != 0, [True, False, False, False, False])
    assert value(found) < value(beta) - 0.1
    g = G @ found - c
    T = [brute_prox(found[j] - g[j] / G[j, j], alpha / G[j, j], q) for j in range(5)]
    assert np.max(np.sqrt(np.diag(G)) * np.abs(T - found)) <= 1e-10


@pytest.mark.parametrize("q", [0.5, 2 / 3])
def test_local_search_never_raises_the_objective(q):
    # many active features (small alpha): the fixed points reached from the lasso start
    # without (local_search=False) and with the local search, each certified
    X, y, _ = sparse_recovery(n=60, p=150, rho=0.5, seed=17)
    fits = {}
    for search in [False, True]:
        reg = HadamardLqRegressor(alpha=0.005, q=q, tol=1e-8, init="lasso",
                                  local_search=search).fit(X, y)
        res, scale = fixed_point_residual(reg, X, y)
        assert res <= 1e-7 * scale
        fits[search] = reg.objective_
    # here the search finds a strictly better fixed point
    assert fits[True] < fits[False] * (1 - 1e-4)


@pytest.mark.parametrize("q", [0.5, 2 / 3])
def test_default_start_small_alpha_certified(q):
    # the default start with the local search, at a small alpha (many active features): a
    # certified fixed point, with exact zeros, no worse than the descent without the search
    # nor than the lasso solution at alpha itself
    X, y, _ = sparse_recovery(n=60, p=150, rho=0.5, seed=17)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = HadamardLqRegressor(alpha=0.005, q=q, tol=1e-8).fit(X, y)
        plain = HadamardLqRegressor(alpha=0.005, q=q, tol=1e-8, local_search=False).fit(X, y)
    res, scale = fixed_point_residual(reg, X, y)
    assert res <= 1e-7 * scale
    assert 0 < np.count_nonzero(reg.coef_) < 60
    assert reg.objective_ <= plain.objective_ * (1 + 1e-12)
    lasso = HadamardLasso(alpha=0.005).fit(X, y)
    assert reg.objective_ < objective(lasso, X, y, q=q)


def test_certify_returns_the_polished_start():
    # solve_lq_ws(certify=True), the pass after an accepted local search: a start that the
    # Newton polish alone makes a fixed point comes back as that fixed point, without the
    # surrogate descent (0 inner iterations); other starts take the full descent
    from hadasparse.solvers._lq_kernels import solve_lq_ws

    X, y, _ = sparse_recovery(n=60, p=40, rho=0.5, seed=5)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    n = len(yc)
    G, c = Xc.T @ Xc / n, Xc.T @ yc / n
    op = gram_operator(G, c)
    alpha, q, tol = 0.02, 0.5, 1e-10
    args = (2000, 25, tol, 10, 200)
    fixed = np.zeros(c.size)
    assert solve_lq_ws(op, alpha, q, 4, fixed, *args)[0]
    assert 0 < np.count_nonzero(fixed) < c.size

    def residual(b):
        g = G @ b - c
        T = [brute_prox(b[j] - g[j] / G[j, j], alpha / G[j, j], q) for j in range(c.size)]
        return np.max(np.sqrt(np.diag(G)) * np.abs(T - b))

    start = fixed * (1 + 1e-6 * np.random.default_rng(0).standard_normal(c.size))
    assert residual(start) > tol
    converged, inner, res = solve_lq_ws(op, alpha, q, 4, start, *args, certify=True)
    assert converged and inner == 0 and res <= tol
    assert residual(start) <= 1e-9
    np.testing.assert_array_equal(start != 0, fixed != 0)

    def value(b):
        return 0.5 * b @ G @ b - c @ b + alpha * np.sum(np.abs(b) ** q)

    assert value(start) <= value(fixed) + 1e-12 * abs(value(fixed))
    far = np.zeros(c.size)
    converged, inner, res = solve_lq_ws(op, alpha, q, 4, far, *args, certify=True)
    assert converged and inner > 0 and res <= tol


@pytest.mark.parametrize("grouped", [False, True])
def test_newton_polish_stops_at_the_rounding_floor(grouped):
    # with an unreachable gradient tolerance (0) the polish must recognise the rounding floor
    # of the gradient and report convergence, having brought the gradient down to it, instead
    # of iterating to max_iter
    X, y, _ = sparse_recovery(n=80, p=12, rho=0.6, seed=3)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    n = len(yc)
    G, c = Xc.T @ Xc / n, Xc.T @ yc / n
    alpha, q = 0.05, 0.5
    gptr = np.arange(0, 13, 3 if grouped else 1, dtype=np.int64)
    weights = np.ones(gptr.size - 1)
    reg = HadamardLqRegressor(alpha=alpha, q=q, groups=3 if grouped else None, tol=1e-6,
                              fit_intercept=False).fit(Xc, yc)
    beta = reg.coef_.copy()
    assert 0 < np.count_nonzero(beta) < beta.size
    beta[beta != 0] *= 1.0 + 1e-3 * np.random.default_rng(0).standard_normal(
        np.count_nonzero(beta))

    def value(b):
        if grouped:
            pen = weights @ np.sqrt(np.add.reduceat(b * b, gptr[:-1])) ** q
        else:
            pen = np.sum(np.abs(b) ** q)
        return 0.5 * b @ G @ b - c @ b + alpha * pen

    start = value(beta)
    op = gram_operator(G.copy(), c.copy())
    if grouped:
        lips = np.ones(gptr.size - 1)  # not read by the polish
        assert lq_polish(op, alpha, q, beta, (gptr, lips, weights), 50, 0.0)
        norms = np.repeat(np.sqrt(np.add.reduceat(beta * beta, gptr[:-1])), 3)
        nz = norms > 0
        grad = np.zeros_like(beta)
        grad[nz] = (G @ beta - c)[nz] + alpha * q * norms[nz] ** (q - 2) * beta[nz]
    else:
        assert lq_polish(op, alpha, q, beta, (), 50, 0.0)
        nz = beta != 0
        grad = np.zeros_like(beta)
        grad[nz] = (G @ beta - c)[nz] + alpha * q * np.sign(beta[nz]) * np.abs(
            beta[nz]) ** (q - 1)
    assert np.max(np.abs(grad)) <= 1e-12
    assert value(beta) <= start


def test_local_search_must_be_bool():
    X, y, _ = sparse_recovery()
    with pytest.raises(ValueError, match="local_search"):
        HadamardLqRegressor(local_search="yes").fit(X, y)


@pytest.mark.parametrize("q", [0.5, 2 / 3])
def test_alpha_above_alpha_max_gives_zero(q):
    X, y, _ = sparse_recovery()
    A, b = centred_weighted(X, y)
    n = len(y)
    c = np.abs(A.T @ b) / n
    d = np.einsum("ij,ij->j", A, A) / n
    # smallest alpha with |c_j|/d_j <= tau(alpha/d_j) for all j
    C = tau(1.0, q)
    alpha_max = np.max(d * (c / (d * C)) ** (2 - q))
    assert np.all(HadamardLqRegressor(alpha=alpha_max * 1.01, q=q).fit(X, y).coef_ == 0)
    assert np.any(HadamardLqRegressor(alpha=alpha_max * 0.95, q=q).fit(X, y).coef_ != 0)


# --------------------------------------------------------------------------------------
# q = 1 is the lasso
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "sparse", "weighted"])
def test_q1_equals_hadamard_lasso(kind):
    if kind == "sparse":
        X, y = sparse_X()
    else:
        X, y, _ = sparse_recovery(rho=0.5)
    sw = np.random.RandomState(1).uniform(0.5, 2, X.shape[0]) if kind == "weighted" else None
    for alpha in [0.01, 0.1]:
        lq = HadamardLqRegressor(alpha=alpha, q=1.0, max_iter=1000, tol=1e-6).fit(
            X, y, sample_weight=sw)
        la = HadamardLasso(alpha=alpha, max_iter=1000, tol=1e-6).fit(X, y, sample_weight=sw)
        np.testing.assert_array_equal(lq.coef_, la.coef_)
        assert lq.intercept_ == la.intercept_
        default = HadamardLqRegressor(alpha=alpha, q=1).fit(X, y, sample_weight=sw)
        np.testing.assert_array_equal(
            default.coef_, HadamardLasso(alpha=alpha).fit(X, y, sample_weight=sw).coef_)
        # and it is a fixed point of soft-thresholding
        res, scale = fixed_point_residual(lq, X, y, sw, q=1.0)
        assert res <= 1e-3 * scale


# --------------------------------------------------------------------------------------
# Starts, determinism, warm starts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["auto", "lasso", "lasso_2alpha", "path", "random", "zero",
                                  "best"])
def test_every_init_gives_a_fixed_point(init):
    X, y, _ = sparse_recovery(rho=0.5, seed=6)
    reg = HadamardLqRegressor(alpha=0.05, q=0.5, init=init, random_state=0, tol=1e-8)
    reg.fit(X, y)
    res, scale = fixed_point_residual(reg, X, y)
    assert res <= 1e-7 * scale


@pytest.mark.parametrize("alpha", [0.005, 0.03])
def test_lasso_2alpha_is_the_fit_at_twice_alpha_continued(alpha):
    # init='lasso_2alpha' (the default without groups): the fit from the lasso start at
    # 2 alpha, then alpha warm-started from it -- the same numbers as those two fits by hand
    X, y, _ = sparse_recovery(rho=0.5, seed=9)
    for q in [0.5, 2 / 3]:
        first = HadamardLqRegressor(alpha=2 * alpha, q=q, init="lasso", tol=1e-8).fit(X, y)
        by_hand = first.set_params(alpha=alpha, warm_start=True).fit(X, y)
        for init in ["lasso_2alpha", "auto"]:
            reg = HadamardLqRegressor(alpha=alpha, q=q, init=init, tol=1e-8).fit(X, y)
            np.testing.assert_array_equal(reg.coef_, by_hand.coef_)
            assert reg.intercept_ == by_hand.intercept_
            assert reg.objective_ == by_hand.objective_
        res, scale = fixed_point_residual(reg, X, y)
        assert res <= 1e-7 * scale
    # with groups the default is the group lasso start
    auto = HadamardLqRegressor(alpha=alpha, groups=4).fit(X, y)
    lasso = HadamardLqRegressor(alpha=alpha, groups=4, init="lasso").fit(X, y)
    np.testing.assert_array_equal(auto.coef_, lasso.coef_)


def test_lasso_2alpha_near_alpha_max_is_the_lasso_start():
    # twice alpha beyond the alpha at which 0 is a fixed point: no continuation
    X, y, _ = sparse_recovery(seed=2)
    A, b = centred_weighted(X, y)
    n = len(y)
    c, d = np.abs(A.T @ b) / n, np.einsum("ij,ij->j", A, A) / n
    alpha_max = np.max(d * (c / (d * tau(1.0, 0.5))) ** 1.5)
    # groups of 4 (weight 2): the group's step ||c_g|| / L_g against tau(alpha w / L_g)
    alpha_max_g = 0.0
    for s in range(0, X.shape[1], 4):
        L = np.linalg.eigvalsh(A[:, s:s + 4].T @ A[:, s:s + 4] / n)[-1]
        step = np.linalg.norm(A[:, s:s + 4].T @ b / n) / L
        alpha_max_g = max(alpha_max_g, L / 2.0 * (step / tau(1.0, 0.5)) ** 1.5)
    for groups, a_max in [(None, alpha_max), (4, alpha_max_g)]:
        fits = [HadamardLqRegressor(alpha=0.6 * a_max, groups=groups, init=init).fit(X, y)
                for init in ["lasso_2alpha", "lasso"]]
        assert np.any(fits[0].coef_ != 0)
        np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
        assert fits[0].n_iter_ == fits[1].n_iter_


def test_best_init_is_the_lowest_of_its_starts():
    X, y, _ = sparse_recovery(rho=0.7, seed=10)
    for groups in [None, 2]:
        fits = {init: HadamardLqRegressor(alpha=0.01, q=0.5, init=init, groups=groups,
                                          tol=1e-8).fit(X, y)
                for init in ["lasso", "lasso_2alpha", "path", "zero", "best"]}
        lowest = min(fits[i].objective_ for i in ["lasso", "lasso_2alpha", "path", "zero"])
        assert fits["best"].objective_ == lowest


def test_deterministic_under_random_state():
    X, y, _ = sparse_recovery(rho=0.5, seed=7)
    fits = [HadamardLqRegressor(alpha=0.02, q=0.5, init="random", random_state=rs).fit(X, y)
            for rs in [3, 3, np.random.RandomState(3)]]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].coef_, fits[2].coef_)
    assert fits[0].intercept_ == fits[1].intercept_
    again = HadamardLqRegressor(alpha=0.02, q=0.5).fit(X, y)
    np.testing.assert_array_equal(again.coef_, HadamardLqRegressor(alpha=0.02, q=0.5).fit(
        X, y).coef_)


def test_warm_start_keeps_a_fixed_point():
    X, y, _ = sparse_recovery(seed=8)
    reg = HadamardLqRegressor(alpha=0.05, q=2 / 3, warm_start=True, tol=1e-8).fit(X, y)
    coef = reg.coef_.copy()
    reg.fit(X, y)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-10, atol=1e-12)
    assert reg.n_iter_ == 1


def test_sparse_equals_dense():
    X, y = sparse_X()
    for q in [0.5, 2 / 3]:
        a = HadamardLqRegressor(alpha=0.05, q=q, tol=1e-10).fit(X, y)
        b = HadamardLqRegressor(alpha=0.05, q=q, tol=1e-10).fit(X.toarray(), y)
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)
        assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-7)


def test_float32_keeps_dtype():
    X, y, _ = sparse_recovery()
    reg = HadamardLqRegressor(alpha=0.05).fit(X.astype(np.float32), y)
    assert reg.coef_.dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_convergence_warning():
    X, y, _ = sparse_recovery(rho=0.7, seed=9)
    with pytest.warns(ConvergenceWarning, match="fixed-point residual"):
        HadamardLqRegressor(alpha=0.01, q=0.5, tol=0.0, max_iter=1).fit(X, y)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.3, 0.6, 0.0, -0.5, 1.5, 2.0, 0.67, np.nan, "half", True, None])
def test_invalid_q_lists_valid_values(q):
    X, y, _ = sparse_recovery()
    with pytest.raises(ValueError, match=r"2/k for an integer k >= 2.*2/3.*1/2.*2/5"):
        HadamardLqRegressor(q=q).fit(X, y)


@pytest.mark.parametrize("q", [1, 1.0, 0.5, 2 / 3, 0.4, 1 / 3, 0.6666666666666666, 2 / 7,
                               np.float32(2 / 3), np.float32(0.4), Fraction(2, 3)])
def test_valid_q_accepted(q):
    X, y, _ = sparse_recovery()
    reg = HadamardLqRegressor(q=q, alpha=0.1, tol=1e-8).fit(X, y)
    # the exponent used is exactly 2/k, whatever rounding q came with
    k = round(2 / float(q))
    res, scale = fixed_point_residual(reg, X, y, q=2 / k)
    assert res <= 1e-7 * scale
    assert reg.objective_ == pytest.approx(objective(reg, X, y, q=2 / k), rel=1e-10)


@pytest.mark.parametrize("groups, weights, match", [
    (7, None, "does not divide"),
    ([[0, 1], [2]], None, "are in no group"),
    ("abc", None, "groups must be"),
    (None, [1.0, 2.0], "'weights' parameter needs 'groups'"),
    (10, [1.0], "one entry per group"),
])
def test_invalid_groups(groups, weights, match):
    X, y, _ = sparse_recovery()
    with pytest.raises(ValueError, match=match):
        HadamardLqRegressor(groups=groups, weights=weights).fit(X, y)


@pytest.mark.parametrize("params, match", [
    # sklearn's InvalidParameterError messages (a ValueError)
    ({"init": "warm"}, r"'init' parameter of HadamardLqRegressor must be a str among"),
    ({"init": None}, r"'init' parameter of HadamardLqRegressor must be a str among"),
    ({"alpha": -1.0}, r"'alpha' parameter of HadamardLqRegressor must be a float in the range \[0(\.0)?, inf\)"),
    ({"tol": -1e-3}, r"'tol' parameter of HadamardLqRegressor must be a float in the range \[0(\.0)?, inf\)"),
    ({"max_iter": 0}, r"'max_iter' parameter of HadamardLqRegressor must be an int in the range \[1, inf\)"),
    ({"fit_intercept": "yes"}, r"'fit_intercept' parameter of HadamardLqRegressor must be an instance of 'bool'"),
])
def test_invalid_params(params, match):
    X, y, _ = sparse_recovery()
    with pytest.raises(ValueError, match=match):
        HadamardLqRegressor(**params).fit(X, y)


# --------------------------------------------------------------------------------------
# Group ℓ2,q
# --------------------------------------------------------------------------------------


def grouped_problem(n=90, p=60, size=3, seed=11, rho=0.0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    if rho:
        for j in range(1, p):
            X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    beta = np.zeros(p)
    for g in [0, 4, 7]:
        beta[g * size:(g + 1) * size] = rng.uniform(0.5, 2.0, size) * rng.choice([-1, 1], size)
    y = X @ beta + 0.5 * rng.standard_normal(n) + 1.0
    return X, y, beta


def group_fixed_point_check(reg, X, y, index_lists, weights, q, sample_weight=None):
    """Independent group optimality: fixed point of the group proximal step 1/L_g
    (L_g = largest eigenvalue of A_g^T A_g / n) with a brute-force radial prox, and the zero
    condition ||grad_g|| / L_g <= tau(alpha w_g / L_g) on every zero group."""
    A, b = centred_weighted(X, y, sample_weight, reg.fit_intercept)
    n = A.shape[0]
    beta = np.asarray(reg.coef_, dtype=np.float64)
    grad = -A.T @ (b - A @ beta) / n
    res = 0.0
    for idx, w in zip(index_lists, weights):
        Ag = A[:, idx]
        L = np.linalg.eigvalsh(Ag.T @ Ag / n)[-1]
        z = beta[idx] - grad[idx] / L
        nz = np.linalg.norm(z)
        if w == 0:
            T = z
        else:
            T = z * brute_prox(nz, reg.alpha * w / L, q) / nz if nz > 0 else 0 * z
        res = max(res, np.sqrt(L) * np.linalg.norm(beta[idx] - T))
        if not np.any(beta[idx]) and w > 0:
            assert np.linalg.norm(grad[idx]) / L <= tau(reg.alpha * w / L, q) * (1 + 1e-9)
    return res, np.sqrt(b @ b / n)


@pytest.mark.parametrize("q", [0.5, 2 / 3, 0.4])
@pytest.mark.parametrize("kind", ["dense", "correlated", "sparse", "weighted"])
def test_group_fixed_point(q, kind):
    X, y, _ = grouped_problem(rho=0.6 if kind == "correlated" else 0.0)
    sw = np.random.RandomState(2).uniform(0.3, 2, len(y)) if kind == "weighted" else None
    if kind == "sparse":
        X = sp.csc_matrix(X * (np.random.RandomState(3).uniform(size=X.shape) < 0.5))
    index_lists = [np.arange(s, s + 3) for s in range(0, 60, 3)]
    for alpha in [0.02, 0.1]:
        reg = HadamardLqRegressor(alpha=alpha, q=q, groups=3, tol=1e-8)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            reg.fit(X, y, sample_weight=sw)
        res, scale = group_fixed_point_check(reg, X, y, index_lists,
                                             np.sqrt(3) * np.ones(20), q, sw)
        assert res <= 1e-7 * scale
        # whole groups are zero or not
        nzg = np.array([np.any(reg.coef_[i]) for i in index_lists])
        assert all(np.all(reg.coef_[i] != 0) for i in np.array(index_lists)[nzg])


def test_group_recovers_groups_with_fewer_false_groups_than_group_lasso():
    X, y, beta = grouped_problem(n=80, p=90, seed=12, rho=0.5)
    index_lists = [np.arange(s, s + 3) for s in range(0, 90, 3)]
    true = np.array([np.any(beta[i]) for i in index_lists])
    gl = HadamardGroupLasso(alpha=0.05, groups=3).fit(X, y)
    lq = HadamardLqRegressor(alpha=0.1, q=0.5, groups=3).fit(X, y)
    sel_gl = np.array([np.any(gl.coef_[i]) for i in index_lists])
    sel_lq = np.array([np.any(lq.coef_[i]) for i in index_lists])
    assert np.array_equal(sel_lq, true)
    assert np.sum(sel_gl & ~true) > 0


def test_group_labels_with_unpenalised_and_custom_weights():
    X, y, _ = grouped_problem(seed=13)
    labels = np.repeat(np.arange(20), 3)
    labels[-3:] = -1  # unpenalised
    weights = np.linspace(0.5, 2.0, 19)
    reg = HadamardLqRegressor(alpha=0.05, q=2 / 3, groups=labels, weights=weights,
                              tol=1e-8).fit(X, y)
    assert np.all(reg.coef_[-3:] != 0)
    index_lists = [np.flatnonzero(labels == g) for g in range(19)] + [np.arange(57, 60)]
    res, scale = group_fixed_point_check(reg, X, y, index_lists, np.append(weights, 0.0),
                                         2 / 3)
    assert res <= 1e-7 * scale


def test_overlapping_groups_sum_latent_copies():
    X, y, _ = grouped_problem(p=30, seed=14)
    groups = [list(range(0, 12)), list(range(9, 21)), list(range(18, 30))]
    reg = HadamardLqRegressor(alpha=0.05, q=0.5, groups=groups, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(reg.coef_, np.bincount(
        np.concatenate(groups), weights=reg._latent_coef, minlength=30))
    np.testing.assert_allclose(reg.predict(X), X @ reg.coef_ + reg.intercept_)


@pytest.mark.parametrize("sparse_input", [False, True])
def test_group_q1_equals_hadamard_group_lasso(sparse_input):
    X, y, _ = grouped_problem(rho=0.5, seed=15)
    if sparse_input:
        X = sp.csc_matrix(X * (np.random.RandomState(3).uniform(size=X.shape) < 0.5))
    for alpha in [0.02, 0.2]:
        lq = HadamardLqRegressor(alpha=alpha, q=1.0, groups=3, max_iter=1000,
                                 tol=1e-6).fit(X, y)
        gl = HadamardGroupLasso(alpha=alpha, groups=3, max_iter=1000, tol=1e-6).fit(X, y)
        np.testing.assert_array_equal(lq.coef_, gl.coef_)
        assert lq.intercept_ == gl.intercept_


def test_group_deterministic_and_warm_start():
    X, y, _ = grouped_problem(seed=16)
    a = HadamardLqRegressor(alpha=0.03, groups=3, init="random", random_state=1).fit(X, y)
    b = HadamardLqRegressor(alpha=0.03, groups=3, init="random", random_state=1).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    reg = HadamardLqRegressor(alpha=0.05, q=0.5, groups=3, warm_start=True,
                              tol=1e-8).fit(X, y)
    coef = reg.coef_.copy()
    reg.fit(X, y)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-10, atol=1e-12)
    assert reg.n_iter_ == 1


# --------------------------------------------------------------------------------------
# Group ℓ2,q: local search of group swap moves
# --------------------------------------------------------------------------------------


def brute_radial_prox(z, lam, q):
    """argmin_x 1/2 ||x - z||^2 + lam ||x||^q: x = z * brute_prox(||z||, lam, q) / ||z||."""
    nz = np.linalg.norm(z)
    return z * (brute_prox(nz, lam, q) / nz) if nz > 0 else np.zeros_like(z)


def _group_prox_map(G, c, beta, gptr, lips, weights, alpha, q):
    """The group proximal step (step 1/L_g) of every group, from the same point."""
    g = G @ beta - c
    out = np.zeros_like(beta)
    for k, (s, e) in enumerate(zip(gptr[:-1], gptr[1:])):
        out[s:e] = brute_radial_prox(beta[s:e] - g[s:e] / lips[k], alpha * weights[k] / lips[k],
                                     q)
    return out


def _two_group_trap(alpha, q=0.5, unpenalised=False):
    """Groups {x1, a1}, {x2, b1}, {u1, u2}; y = 2 x1 - 1.5 a1 + noise with x2, b1 correlated
    (0.9) with x1, a1: the fit on the second group alone is a fixed point of the group
    proximal map (the first group's step stays at 0), the fit on the first a better one.
    ``unpenalised``: the third group has weight 0 and y also depends on it; the trap is then
    the fit on the second and third groups."""
    rng = np.random.RandomState(0)
    n, rho = 50, 0.9
    x1, a1 = rng.standard_normal(n), rng.standard_normal(n)
    x2 = rho * x1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    b1 = rho * a1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    X = np.column_stack([x1, a1, x2, b1, rng.standard_normal((n, 2))])
    y = 2 * x1 - 1.5 * a1 + 0.1 * rng.standard_normal(n)
    weights = np.sqrt(2.0) * np.ones(3)
    if unpenalised:
        y += X[:, 4] - 0.5 * X[:, 5]
        weights[2] = 0.0
    G, c = X.T @ X / n, X.T @ y / n
    gptr = np.array([0, 2, 4, 6], dtype=np.int64)
    lips = np.array([np.linalg.eigvalsh(G[s:e, s:e])[-1] for s, e in zip(gptr[:-1], gptr[1:])])
    beta = np.zeros(6)
    for _ in range(500):  # block coordinate descent on the second (and third) group
        for k in [1, 2] if unpenalised else [1]:
            s, e = gptr[k], gptr[k + 1]
            z = beta[s:e] - (G @ beta - c)[s:e] / lips[k]
            beta[s:e] = brute_radial_prox(z, alpha * weights[k] / lips[k], q)
    return G, c, gptr, lips, weights, beta


@pytest.mark.parametrize("alpha", [0.2, 0.5])
@pytest.mark.parametrize("unpenalised", [False, True])
def test_group_local_search_leaves_a_worse_fixed_point(alpha, unpenalised):
    q = 0.5
    G, c, gptr, lips, weights, beta = _two_group_trap(alpha, q, unpenalised)
    T = _group_prox_map(G, c, beta, gptr, lips, weights, alpha, q)
    np.testing.assert_array_equal(beta != 0, [False, False, True, True, unpenalised,
                                              unpenalised])
    # the start is a fixed point (weight 0: the prox with lam = 0 is the gradient step)
    assert np.max(np.abs(T - beta)) <= 1e-10

    def value(b):
        return 0.5 * b @ G @ b - c @ b + alpha * weights @ np.sqrt(
            np.add.reduceat(b * b, gptr[:-1])) ** q

    op = gram_operator(G.copy(), c.copy())
    found = beta.copy()
    accepted, tried = lq_local_search(op, alpha, q, found, (gptr, lips, weights), 1e-12,
                                      1000, 100)
    assert accepted >= 1 and tried >= accepted
    # the second group swapped for the first; an unpenalised group is kept
    np.testing.assert_array_equal(found != 0, [True, True, False, False, unpenalised,
                                               unpenalised])
    assert value(found) < value(beta) - 0.1
    T = _group_prox_map(G, c, found, gptr, lips, weights, alpha, q)
    norms = np.sqrt(np.add.reduceat((T - found) ** 2, gptr[:-1]))
    assert np.max(np.sqrt(lips) * norms) <= 1e-10


@pytest.mark.parametrize("q, seed", [(0.5, 11), (2 / 3, 11), (0.5, 13)])
def test_group_local_search_finds_lower_certified_fixed_points(q, seed):
    # many active groups (small alpha): the fixed points reached from the group lasso start
    # without (local_search=False) and with the local search, each certified independently;
    # on these problems the search finds a strictly better one
    X, y, _ = grouped_problem(seed=seed, rho=0.5)
    index_lists = [np.arange(s, s + 3) for s in range(0, 60, 3)]
    fits = {}
    for search in [False, True]:
        reg = HadamardLqRegressor(alpha=0.005, q=q, groups=3, tol=1e-8,
                                  local_search=search).fit(X, y)
        res, scale = group_fixed_point_check(reg, X, y, index_lists, np.sqrt(3) * np.ones(20),
                                             q)
        assert res <= 1e-7 * scale
        assert reg.fixed_point_residual_ <= 1e-8 * scale
        assert reg.objective_ == pytest.approx(objective_of_groups(reg, X, y, 3, q), rel=1e-10)
        fits[search] = reg
    assert fits[True].objective_ < fits[False].objective_ * (1 - 1e-4)
    # an accepted move is certified by more working-set iterations
    assert fits[True].n_iter_ > fits[False].n_iter_


def objective_of_groups(reg, X, y, size, q):
    r = y - X @ reg.coef_ - reg.intercept_
    norms = np.sqrt(np.add.reduceat(reg.coef_**2, np.arange(0, X.shape[1], size)))
    return 0.5 * (r @ r) / len(y) + reg.alpha * np.sqrt(size) * np.sum(norms**q)


@pytest.mark.parametrize("init", ["lasso", "path", "zero"])
def test_group_local_search_never_raises_the_objective(init):
    # with unpenalised groups and custom weights too; sparse input
    X, y, _ = grouped_problem(seed=13)
    labels = np.repeat(np.arange(20), 3)
    labels[-3:] = -1
    weights = np.linspace(0.5, 2.0, 19)
    index_lists = [np.flatnonzero(labels == g) for g in range(19)] + [np.arange(57, 60)]
    Xs = sp.csc_matrix(X * (np.random.RandomState(3).uniform(size=X.shape) < 0.5))
    for data in [X, Xs]:
        fits = {}
        for search in [False, True]:
            reg = HadamardLqRegressor(alpha=0.01, q=2 / 3, groups=labels, weights=weights,
                                      init=init, tol=1e-8, local_search=search).fit(data, y)
            res, scale = group_fixed_point_check(reg, data, y, index_lists,
                                                 np.append(weights, 0.0), 2 / 3)
            assert res <= 1e-7 * scale
            assert np.all(reg.coef_[-3:] != 0)
            fits[search] = reg.objective_
        assert fits[True] <= fits[False]


def test_group_local_search_false_is_the_descent_alone(monkeypatch):
    # local_search=False never calls the group search (with every start, 'best' and 'path'
    # recursing), and with local_search=True a search that accepts no move leaves the
    # descent's fixed point bitwise unchanged
    import hadasparse.solvers._lq as solver

    calls = []

    def spy(*args):
        out = lq_local_search(*args)
        calls.append(out)
        return out

    monkeypatch.setattr(solver, "lq_local_search", spy)
    X, y, _ = grouped_problem(seed=11, rho=0.5)
    for init in ["lasso", "path", "zero", "best"]:
        HadamardLqRegressor(alpha=0.005, q=0.5, groups=3, init=init,
                            local_search=False).fit(X, y)
    assert calls == []
    HadamardLqRegressor(alpha=0.005, q=0.5, groups=3).fit(X, y)
    assert any(accepted for accepted, _ in calls)
    for alpha in [0.03, 0.1]:
        calls.clear()
        off = HadamardLqRegressor(alpha=alpha, q=0.5, groups=3, local_search=False).fit(X, y)
        on = HadamardLqRegressor(alpha=alpha, q=0.5, groups=3).fit(X, y)
        assert len(calls) == 1 and calls[0][0] == 0 and calls[0][1] > 0
        np.testing.assert_array_equal(on.coef_, off.coef_)
        assert on.intercept_ == off.intercept_ and on.n_iter_ == off.n_iter_


def test_working_set_beyond_square_cap(monkeypatch):
    """Issue #13: with the square-array floor forced to 8 rows (cap n = 30 here) the lq
    working set outgrows the cap; every dense square block the lq driver builds (working-set
    Gram, local-search Gram) stays within it -- the kernels take the working set's columns
    instead -- and the fit is still a certified fixed point (checked with the brute-force
    prox of this file) whose objective is not above the lasso start's."""
    from hadasparse.solvers import _lq
    from hadasparse.solvers._budget import square_cap, square_floor

    blocks, ws_sizes = [], []
    grow, gram_op, solve_ws = _lq._grow_gram, _lq.gram_operator, _lq.solve_lq_ws
    monkeypatch.setattr(_lq, "_grow_gram", lambda *a: blocks.append(grow(*a)) or blocks[-1])
    monkeypatch.setattr(_lq, "gram_operator",
                        lambda G, *a: blocks.append(G) or gram_op(G, *a))
    monkeypatch.setattr(_lq, "solve_lq_ws",
                        lambda op, a, q, k, beta, *r, **kw: ws_sizes.append(beta.size)
                        or solve_ws(op, a, q, k, beta, *r, **kw))
    X, y, _ = sparse_recovery(n=30, p=800, k=5, seed=0)
    alpha = 0.003
    with square_floor(8):
        cap = square_cap(X.shape[0])
        reg = HadamardLqRegressor(alpha=alpha, q=0.5, tol=1e-8).fit(X, y)
    assert cap == X.shape[0] and max(ws_sizes) > cap
    assert blocks and max(G.shape[0] for G in blocks) <= cap
    res, scale = fixed_point_residual(reg, X, y)
    assert res <= 1e-7 * scale
    lasso = HadamardLasso(alpha=alpha, tol=1e-10).fit(X, y)
    assert objective(reg, X, y) <= objective(lasso, X, y, q=0.5) * (1 + 1e-12)
