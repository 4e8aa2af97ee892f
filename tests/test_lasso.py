"""Tests for ``hadasparse.HadamardLasso`` and ``hadasparse.hadamard_lasso_path``.

The reference is scikit-learn's coordinate-descent ``Lasso`` / ``lasso_path`` run at a
very tight tolerance, plus independent checks of optimality computed in this file
(objective, KKT conditions, duality gap) that do not trust either implementation.

Objective (sklearn scaling, sample weights s rescaled to sum to n):

    P(beta, b0) = 1/(2n) sum_i s_i (y_i - x_i^T beta - b0)^2 + alpha ||beta||_1
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, lasso_path
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardLasso, hadamard_lasso_path

# Tolerances used when an implementation has to be (essentially) exact.
SK_TOL = 1e-10  # sklearn reference
HL_TOL = 1e-10  # HadamardLasso when compared tightly
MAX_ITER = 100_000  # sklearn CD epochs (reference)
COEF_RTOL = 1e-6  # coefficients, relative to the coefficient scale max|beta|
OBJ_RTOL = 1e-8  # objective, relative


# --------------------------------------------------------------------------------------
# Data (fixed seeds; generators return fresh copies so no test can corrupt another)
# --------------------------------------------------------------------------------------


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X.copy(), y.copy()


def ar1_design(n=100, p=300, rho=0.5, k=10, snr=3.0, seed=0):
    """Correlated design: columns follow an AR(1) process with correlation rho."""
    rng = np.random.RandomState(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    beta = np.zeros(p)
    support = rng.choice(p, k, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k)
    signal = X @ beta
    noise = rng.standard_normal(n)
    y = signal + noise * np.linalg.norm(signal) / (snr * np.linalg.norm(noise)) + 1.5
    return X, y


def tall_design(n=2000, p=20, seed=1):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-2, 2, p)
    beta = rng.standard_normal(p) * (rng.uniform(size=p) < 0.6)
    y = X @ beta + 0.5 * rng.standard_normal(n) - 3.0
    return X, y


def sparse_design(fmt, n=300, p=80, density=0.1, seed=2):
    rng = np.random.RandomState(seed)
    X = sp.random(
        n, p, density=density, format=fmt, random_state=rng,
        data_rvs=lambda k: rng.standard_normal(k) + 1.0,
    )
    beta = np.zeros(p)
    beta[:12] = rng.uniform(1, 3, 12) * rng.choice([-1.0, 1.0], 12)
    y = X @ beta + 0.3 * rng.standard_normal(n) + 2.0
    return X, y


def weights(n, seed=3):
    rng = np.random.RandomState(seed)
    return rng.uniform(0.1, 3.0, n)


# --------------------------------------------------------------------------------------
# Independent maths helpers
# --------------------------------------------------------------------------------------


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def _rescaled_weights(n, sample_weight):
    if sample_weight is None:
        return np.ones(n)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s * (n / s.sum())


def centred_weighted(X, y, sample_weight=None, fit_intercept=True):
    """Return (Xt, yt, x_mean, y_mean, s) with Xt = sqrt(s)(X - x_mean), yt likewise."""
    X = _dense(X)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    s = _rescaled_weights(n, sample_weight)
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=s)
        y_mean = np.average(y, axis=0, weights=s)
    else:
        x_mean = np.zeros(X.shape[1])
        y_mean = np.zeros(y.shape[1:]) if y.ndim > 1 else 0.0
    sq = np.sqrt(s)
    Xt = sq[:, None] * (X - x_mean)
    yt = (sq[:, None] if y.ndim > 1 else sq) * (y - y_mean)
    return Xt, yt, x_mean, y_mean, s


def alpha_max(X, y, sample_weight=None, fit_intercept=True):
    Xt, yt, *_ = centred_weighted(X, y, sample_weight, fit_intercept)
    return np.max(np.abs(Xt.T @ yt)) / X.shape[0]


def lasso_objective(X, y, coef, intercept, alpha, sample_weight=None):
    """P(beta, b0) = 1/(2n) sum s_i (y_i - x_i^T beta - b0)^2 + alpha ||beta||_1."""
    X = _dense(X)
    y = np.asarray(y, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    n = X.shape[0]
    s = _rescaled_weights(n, sample_weight)
    r = y - X @ coef - float(intercept)
    return 0.5 * np.sum(s * r**2) / n + alpha * np.sum(np.abs(coef))


def duality_gap(X, y, coef, alpha, sample_weight=None, fit_intercept=True, positive=False):
    """Gap of the maths doc, computed from coef alone.

    r = y_c - X_c beta (weighted), theta = r / max(1, ||X_c^T r||_inf / (n alpha)),
    D = (||y_c||^2 - ||y_c - theta||^2) / (2n), gap = P - D.
    Returns (gap, ||y_c||^2 / n).
    """
    Xt, yt, *_ = centred_weighted(X, y, sample_weight, fit_intercept)
    n = Xt.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    r = yt - Xt @ coef
    XtR = Xt.T @ r
    dual_norm = max(np.max(XtR), 0.0) if positive else np.max(np.abs(XtR))
    theta = r / max(1.0, dual_norm / (n * alpha))
    primal = r @ r / (2 * n) + alpha * np.sum(np.abs(coef))
    dual = (yt @ yt - (yt - theta) @ (yt - theta)) / (2 * n)
    return primal - dual, yt @ yt / n


def assert_kkt(X, y, coef, intercept, alpha, sample_weight=None, fit_intercept=True,
               positive=False, rtol=1e-6):
    """Lasso optimality conditions with g = X_c^T S (y_c - X_c beta) / n."""
    Xt, yt, x_mean, y_mean, s = centred_weighted(X, y, sample_weight, fit_intercept)
    n = Xt.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    g = Xt.T @ (yt - Xt @ coef) / n
    slack = rtol * alpha
    nz = coef != 0
    assert nz.any(), "expected a non-trivial solution for this KKT check"
    # active: g_j = alpha sign(beta_j)
    np.testing.assert_allclose(
        g[nz], alpha * np.sign(coef[nz]), rtol=0, atol=slack,
        err_msg="stationarity violated on the support",
    )
    # inactive: |g_j| <= alpha (positive: g_j <= alpha)
    inactive = g[~nz] if positive else np.abs(g[~nz])
    assert np.all(inactive <= alpha + slack), (
        f"inactive coordinate violates KKT: max {inactive.max()!r} > alpha {alpha!r}"
    )
    if positive:
        assert np.all(coef >= 0)
    # intercept = weighted mean residual
    Xd = _dense(X)
    if fit_intercept:
        b0 = np.average(np.asarray(y, float) - Xd @ coef, weights=s)
    else:
        b0 = 0.0
    scale = np.abs(np.asarray(y, float)).max()
    assert abs(float(intercept) - b0) <= 1e-9 * scale + 1e-12


def fit_sklearn(X, y, alpha, sample_weight=None, **kw):
    kw.setdefault("tol", SK_TOL)
    kw.setdefault("max_iter", MAX_ITER)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return Lasso(alpha=alpha, **kw).fit(X, y, sample_weight=sample_weight)


def fit_hl(X, y, alpha, sample_weight=None, **kw):
    kw.setdefault("tol", HL_TOL)
    # a tight fit must not need to warn: turn ConvergenceWarning into an error
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return HadamardLasso(alpha=alpha, **kw).fit(X, y, sample_weight=sample_weight)


def assert_same_solution(X, y, alpha, hl, sk, sample_weight=None, check_support=True,
                         coef_rtol=COEF_RTOL, obj_rtol=OBJ_RTOL):
    coef_h = np.asarray(hl.coef_, dtype=np.float64)
    coef_s = np.asarray(sk.coef_, dtype=np.float64)
    assert coef_h.shape == coef_s.shape
    scale = max(np.abs(coef_s).max(), 1e-300)
    np.testing.assert_allclose(coef_h, coef_s, rtol=coef_rtol, atol=coef_rtol * scale,
                               err_msg="coefficients differ from sklearn")
    if check_support:
        np.testing.assert_array_equal(coef_h != 0, coef_s != 0,
                                      err_msg="support (exact zeros) differs from sklearn")
    fit_intercept = sk.fit_intercept
    _, _, x_mean, y_mean, _ = centred_weighted(X, y, sample_weight, fit_intercept)
    y_scale = np.abs(np.asarray(y, dtype=np.float64)).max()
    b_h, b_s = float(hl.intercept_), float(sk.intercept_)
    if not fit_intercept:
        assert b_h == 0.0
    # the intercept belongs to the coefficients: b0 = y_mean - x_mean^T beta ...
    assert abs(b_h - (y_mean - x_mean @ coef_h)) <= 1e-9 * y_scale
    # ... and is close to sklearn's
    assert abs(b_h - b_s) <= coef_rtol * (abs(b_s) + y_scale)
    p_h = lasso_objective(X, y, coef_h, hl.intercept_, alpha, sample_weight)
    p_s = lasso_objective(X, y, coef_s, sk.intercept_, alpha, sample_weight)
    # certified slack: both solvers are within tol * ||y_c||^2 / n of the optimum
    _, yc2 = duality_gap(X, y, coef_s, alpha, sample_weight)
    atol = 2 * max(SK_TOL, HL_TOL) * yc2
    assert abs(p_h - p_s) <= obj_rtol * p_s + atol, (
        f"objective {p_h!r} vs sklearn {p_s!r} (rel diff {(p_h - p_s) / p_s:.3e})"
    )


# --------------------------------------------------------------------------------------
# 1. scikit-learn estimator checks (no expected failures)
# --------------------------------------------------------------------------------------


@parametrize_with_checks([HadamardLasso()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# 2. Equality with sklearn's Lasso at tight tolerance
# --------------------------------------------------------------------------------------


def _case(name):
    """Build (X, y, alpha, sample_weight, estimator kwargs) for a named comparison case."""
    if name.startswith("diabetes"):
        X, y = diabetes()
        frac = float(name.split("-")[1])
        return X, y, frac * alpha_max(X, y), None, {}
    if name.startswith("ar1-wide"):
        X, y = ar1_design(n=200, p=500, seed=3)
        frac = float(name.split("-")[2])
        return X, y, frac * alpha_max(X, y), None, {}
    if name.startswith("ar1"):
        X, y = ar1_design()
        frac = float(name.split("-")[1])
        return X, y, frac * alpha_max(X, y), None, {}
    if name.startswith("scaled-ar1"):
        # column scales spread over 4 orders of magnitude (conditioning stress)
        X, y = ar1_design()
        scales = np.logspace(-2, 2, X.shape[1])
        np.random.RandomState(0).shuffle(scales)
        X = X * scales
        frac = float(name.split("-")[2])
        return X, y, frac * alpha_max(X, y), None, {}
    if name.startswith("tall"):
        X, y = tall_design()
        frac = float(name.split("-")[1])
        return X, y, frac * alpha_max(X, y), None, {}
    if name.startswith("sparse"):
        _, fmt, icpt = name.split("-")
        X, y = sparse_design(fmt)
        fi = icpt == "intercept"
        return X, y, 0.02 * alpha_max(X, y, fit_intercept=fi), None, {"fit_intercept": fi}
    if name == "weighted-diabetes":
        X, y = diabetes()
        sw = weights(X.shape[0])
        return X, y, 0.005 * alpha_max(X, y, sw), sw, {}
    if name == "weighted-ar1":
        X, y = ar1_design()
        sw = weights(X.shape[0])
        return X, y, 0.05 * alpha_max(X, y, sw), sw, {}
    if name == "weighted-sparse-csr":
        X, y = sparse_design("csr")
        sw = weights(X.shape[0])
        return X, y, 0.02 * alpha_max(X, y, sw), sw, {}
    if name.startswith("weighted-sparse-csc"):
        X, y = sparse_design("csc")
        sw = weights(X.shape[0])
        fi = not name.endswith("nointercept")
        return (X, y, 0.02 * alpha_max(X, y, sw, fi), sw, {"fit_intercept": fi})
    if name == "weighted-zeros-sparse-csr":
        X, y = sparse_design("csr")
        sw = weights(X.shape[0])
        sw[::3] = 0.0
        return X, y, 0.02 * alpha_max(X, y, sw), sw, {}
    if name == "positive-sparse-csr":
        X, y = sparse_design("csr")
        return X, y, 0.02 * alpha_max(X, y), None, {"positive": True}
    if name == "positive-weighted-ar1":
        X, y = ar1_design()
        sw = weights(X.shape[0])
        return X, y, 0.05 * alpha_max(X, y, sw), sw, {"positive": True}
    if name == "positive-diabetes":
        X, y = diabetes()
        return X, y, 0.01 * alpha_max(X, y), None, {"positive": True}
    if name == "positive-ar1":
        X, y = ar1_design()
        return X, y, 0.05 * alpha_max(X, y), None, {"positive": True}
    if name == "no-intercept-tall":
        X, y = tall_design()
        return X, y, 0.01 * alpha_max(X, y, fit_intercept=False), None, {"fit_intercept": False}
    if name == "precompute-diabetes":
        X, y = diabetes()
        return X, y, 0.01 * alpha_max(X, y), None, {"precompute": True}
    if name == "random-selection-ar1":
        X, y = ar1_design()
        return X, y, 0.1 * alpha_max(X, y), None, {"selection": "random", "random_state": 0}
    raise KeyError(name)


COMPARISON_CASES = [
    "diabetes-0.5",
    "diabetes-0.1",
    "diabetes-0.01",
    "diabetes-0.001",
    "ar1-0.3",
    "ar1-0.1",
    "ar1-0.03",
    "ar1-0.01",
    "ar1-wide-0.01",
    "scaled-ar1-0.1",
    "scaled-ar1-0.01",
    "tall-0.1",
    "tall-0.001",
    "sparse-csr-intercept",
    "sparse-csr-nointercept",
    "sparse-csc-intercept",
    "sparse-csc-nointercept",
    "weighted-diabetes",
    "weighted-ar1",
    "weighted-sparse-csr",
    "weighted-sparse-csc",
    "weighted-sparse-csc-nointercept",
    "weighted-zeros-sparse-csr",
    "positive-diabetes",
    "positive-ar1",
    "positive-sparse-csr",
    "positive-weighted-ar1",
    "no-intercept-tall",
    "precompute-diabetes",
    "random-selection-ar1",
]


@pytest.mark.parametrize("case", COMPARISON_CASES)
def test_matches_sklearn(case):
    X, y, alpha, sw, kw = _case(case)
    sk = fit_sklearn(X, y, alpha, sw, **kw)
    hl = fit_hl(X, y, alpha, sw, **kw)
    assert np.count_nonzero(sk.coef_) > 0  # the case is not trivial
    assert hl.coef_.shape == (X.shape[1],)
    assert hl.coef_.dtype == np.float64
    assert_same_solution(X, y, alpha, hl, sk, sw)
    if kw.get("positive"):
        assert np.all(hl.coef_ >= 0)


def test_weighted_case_has_many_nonzeros():
    # guard for the weighted comparisons: they must be at an alpha with a large support
    X, y, alpha, sw, kw = _case("weighted-diabetes")
    hl = fit_hl(X, y, alpha, sw, **kw)
    assert np.count_nonzero(hl.coef_) >= 8
    X, y, alpha, sw, kw = _case("weighted-ar1")
    hl = fit_hl(X, y, alpha, sw, **kw)
    assert np.count_nonzero(hl.coef_) >= 15


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense(fmt, fit_intercept):
    X, y = sparse_design(fmt)
    alpha = 0.02 * alpha_max(X, y, fit_intercept=fit_intercept)
    hs = fit_hl(X, y, alpha, fit_intercept=fit_intercept)
    hd = fit_hl(X.toarray(), y, alpha, fit_intercept=fit_intercept)
    scale = np.abs(hd.coef_).max()
    np.testing.assert_allclose(hs.coef_, hd.coef_, rtol=COEF_RTOL, atol=COEF_RTOL * scale)
    np.testing.assert_array_equal(hs.coef_ != 0, hd.coef_ != 0)
    np.testing.assert_allclose(hs.intercept_, hd.intercept_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(hs.predict(X), hd.predict(X.toarray()), rtol=1e-7, atol=1e-8)


def test_sample_weight_equivalences():
    """Integer weights == repeated rows, zero weights == dropped rows, scale invariance."""
    X, y = ar1_design(n=60, p=80, seed=5)
    rng = np.random.RandomState(7)
    sw = rng.randint(0, 4, X.shape[0]).astype(float)
    alpha = 0.05 * alpha_max(X, y, sw)
    h_w = fit_hl(X, y, alpha, sw)
    Xr = np.repeat(X, sw.astype(int), axis=0)
    yr = np.repeat(y, sw.astype(int))
    h_r = fit_hl(Xr, yr, alpha)
    h_s = fit_hl(X, y, alpha, 7.5 * sw)
    assert np.count_nonzero(h_w.coef_) >= 10
    scale = np.abs(h_r.coef_).max()
    for h in (h_w, h_s):
        np.testing.assert_allclose(h.coef_, h_r.coef_, rtol=COEF_RTOL, atol=COEF_RTOL * scale)
        np.testing.assert_array_equal(h.coef_ != 0, h_r.coef_ != 0)
        np.testing.assert_allclose(h.intercept_, h_r.intercept_, rtol=1e-6,
                                   atol=1e-6 * np.abs(y).max())


def test_float32_matches_sklearn():
    X, y = ar1_design()
    alpha = 0.1 * alpha_max(X, y)
    sk = fit_sklearn(X, y, alpha)  # float64 reference
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    hl = HadamardLasso(alpha=alpha, tol=1e-6).fit(X32, y32)
    assert hl.coef_.dtype == np.float32
    assert hl.predict(X32).dtype == np.float32
    scale = np.abs(sk.coef_).max()
    np.testing.assert_allclose(hl.coef_, sk.coef_, rtol=1e-3, atol=1e-3 * scale)
    assert abs(float(hl.intercept_) - sk.intercept_) <= 1e-3 * (abs(sk.intercept_) + scale)
    p_h = lasso_objective(X, y, hl.coef_, hl.intercept_, alpha)
    p_s = lasso_objective(X, y, sk.coef_, sk.intercept_, alpha)
    assert abs(p_h - p_s) <= 1e-4 * p_s
    # exact zeros also in float32 (most of p=300 features are inactive here)
    assert np.count_nonzero(hl.coef_ == 0) >= X.shape[1] // 2


@pytest.mark.parametrize("data", ["diabetes", "ar1"])
def test_multi_output_matches_sklearn(data):
    if data == "diabetes":
        X, y = diabetes()
    else:
        X, y = ar1_design()
    rng = np.random.RandomState(11)
    Y = np.column_stack([y, -0.5 * y + 10 * rng.standard_normal(len(y)), y[::-1]])
    alpha = 0.05 * alpha_max(X, y)
    sk = fit_sklearn(X, Y, alpha)
    hl = fit_hl(X, Y, alpha)
    n_targets, p = Y.shape[1], X.shape[1]
    assert hl.coef_.shape == (n_targets, p)
    assert np.shape(hl.intercept_) == (n_targets,)
    assert np.shape(hl.dual_gap_) == (n_targets,)
    assert hl.predict(X).shape == (X.shape[0], n_targets)
    scale = np.abs(sk.coef_).max()
    np.testing.assert_allclose(hl.coef_, sk.coef_, rtol=COEF_RTOL, atol=COEF_RTOL * scale)
    np.testing.assert_array_equal(hl.coef_ != 0, sk.coef_ != 0)
    for k in range(n_targets):
        p_h = lasso_objective(X, Y[:, k], hl.coef_[k], hl.intercept_[k], alpha)
        p_s = lasso_objective(X, Y[:, k], sk.coef_[k], sk.intercept_[k], alpha)
        gap, yc2 = duality_gap(X, Y[:, k], hl.coef_[k], alpha)
        assert abs(p_h - p_s) <= OBJ_RTOL * p_s + 2 * SK_TOL * yc2
        assert -1e-12 * yc2 <= gap <= HL_TOL * yc2 * (1 + 1e-6) + 1e-13 * yc2
        assert abs(hl.dual_gap_[k] - gap) <= 1e-3 * HL_TOL * yc2 + 1e-13 * yc2
        # per-target result == single-target fit
        single = fit_hl(X, Y[:, k], alpha)
        np.testing.assert_allclose(hl.coef_[k], single.coef_, rtol=COEF_RTOL,
                                   atol=COEF_RTOL * scale)
        np.testing.assert_allclose(hl.intercept_[k], single.intercept_, rtol=1e-7)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_float32_sparse_matches_sklearn(fmt, fit_intercept):
    X, y = sparse_design(fmt)
    alpha = 0.02 * alpha_max(X, y, fit_intercept=fit_intercept)
    sk = fit_sklearn(X, y, alpha, fit_intercept=fit_intercept)  # float64 reference
    hl = HadamardLasso(alpha=alpha, tol=1e-6, fit_intercept=fit_intercept).fit(
        X.astype(np.float32), y.astype(np.float32))
    assert hl.coef_.dtype == np.float32
    scale = np.abs(sk.coef_).max()
    np.testing.assert_allclose(hl.coef_, sk.coef_, rtol=1e-3, atol=1e-3 * scale)
    assert abs(float(hl.intercept_) - sk.intercept_) <= 1e-3 * (abs(sk.intercept_) + scale)


def test_multi_output_with_sample_weight():
    X, y = ar1_design()
    Y = np.column_stack([y, y[::-1]])
    sw = weights(X.shape[0])
    alpha = 0.05 * alpha_max(X, y, sw)
    sk = fit_sklearn(X, Y, alpha, sw)
    hl = fit_hl(X, Y, alpha, sw)
    assert hl.coef_.shape == (2, X.shape[1])
    scale = np.abs(sk.coef_).max()
    np.testing.assert_allclose(hl.coef_, sk.coef_, rtol=COEF_RTOL, atol=COEF_RTOL * scale)
    np.testing.assert_array_equal(hl.coef_ != 0, sk.coef_ != 0)
    np.testing.assert_allclose(hl.intercept_, sk.intercept_, rtol=COEF_RTOL,
                               atol=COEF_RTOL * np.abs(y).max())
    for k in range(2):
        gap, yc2 = duality_gap(X, Y[:, k], hl.coef_[k], alpha, sw)
        assert -1e-12 * yc2 <= gap <= HL_TOL * yc2 * (1 + 1e-6) + 1e-13 * yc2
        assert abs(hl.dual_gap_[k] - gap) <= 1e-3 * HL_TOL * yc2 + 1e-13 * yc2


def test_scalar_sample_weight_is_unweighted():
    # like sklearn's Lasso, a number as sample_weight means equal weights
    X, y = ar1_design()
    alpha = 0.1 * alpha_max(X, y)
    h1 = fit_hl(X, y, alpha, 2.5)
    h0 = fit_hl(X, y, alpha)
    np.testing.assert_allclose(h1.coef_, h0.coef_, rtol=1e-9,
                               atol=1e-9 * np.abs(h0.coef_).max())


# --------------------------------------------------------------------------------------
# 3. KKT conditions and an independently recomputed duality gap
# --------------------------------------------------------------------------------------

KKT_CASES = [
    "diabetes-0.01",
    "diabetes-0.001",
    "ar1-0.1",
    "ar1-0.03",
    "tall-0.001",
    "sparse-csr-intercept",
    "sparse-csc-nointercept",
    "weighted-diabetes",
    "weighted-ar1",
    "weighted-sparse-csr",
    "weighted-sparse-csc-nointercept",
    "positive-ar1",
    "positive-weighted-ar1",
    "no-intercept-tall",
    "ar1-wide-0.01",
    "scaled-ar1-0.01",
]


@pytest.mark.parametrize("case", KKT_CASES)
def test_kkt_conditions(case):
    X, y, alpha, sw, kw = _case(case)
    fi = kw.get("fit_intercept", True)
    pos = kw.get("positive", False)
    hl = fit_hl(X, y, alpha, sw, **kw)
    assert_kkt(X, y, hl.coef_, hl.intercept_, alpha, sw, fi, pos, rtol=1e-6)
    gap, yc2 = duality_gap(X, y, hl.coef_, alpha, sw, fi, pos)
    assert gap >= -1e-12 * yc2
    assert gap <= HL_TOL * yc2 * (1 + 1e-6) + 1e-13 * yc2
    assert np.ndim(hl.dual_gap_) == 0
    assert abs(float(hl.dual_gap_) - gap) <= 1e-3 * HL_TOL * yc2 + 1e-13 * yc2


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6])
@pytest.mark.parametrize("case", ["ar1-0.03", "weighted-diabetes", "sparse-csr-intercept"])
def test_dual_gap_certifies_tol(case, tol):
    """With sklearn's meaning of tol: gap <= tol * ||y_c||^2 / n, and dual_gap_ is that gap."""
    X, y, alpha, sw, kw = _case(case)
    fi = kw.get("fit_intercept", True)
    hl = HadamardLasso(alpha=alpha, tol=tol, **kw).fit(X, y, sample_weight=sw)
    gap, yc2 = duality_gap(X, y, hl.coef_, alpha, sw, fi)
    assert gap >= -1e-12 * yc2
    assert gap <= tol * yc2 * (1 + 1e-6)
    assert abs(float(hl.dual_gap_) - gap) <= 1e-6 * tol * yc2 + 1e-13 * yc2
    # the objective is then within the certified gap of the optimum
    sk = fit_sklearn(X, y, alpha, sw, **kw)
    p_h = lasso_objective(X, y, hl.coef_, hl.intercept_, alpha, sw)
    p_s = lasso_objective(X, y, sk.coef_, sk.intercept_, alpha, sw)
    assert p_s - 2 * SK_TOL * yc2 <= p_h <= p_s + tol * yc2 * (1 + 1e-6)
    assert isinstance(hl.n_iter_, (int, np.integer)) and hl.n_iter_ >= 1


# --------------------------------------------------------------------------------------
# 4. alpha >= alpha_max gives exactly zero
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1.0 + 1e-8, 1.5, 100.0])
@pytest.mark.parametrize("data", ["diabetes", "ar1", "weighted-ar1", "sparse", "no-intercept"])
def test_alpha_max_gives_zero(data, factor):
    sw = None
    fi = True
    if data == "diabetes":
        X, y = diabetes()
    elif data == "ar1":
        X, y = ar1_design()
    elif data == "weighted-ar1":
        X, y = ar1_design()
        sw = weights(X.shape[0])
    elif data == "sparse":
        X, y = sparse_design("csr")
    else:
        X, y = tall_design()
        fi = False
    amax = alpha_max(X, y, sw, fi)
    hl = HadamardLasso(alpha=factor * amax, fit_intercept=fi).fit(X, y, sample_weight=sw)
    assert np.all(hl.coef_ == 0), "coef_ must be exactly zero for alpha >= alpha_max"
    expected_b0 = np.average(y, weights=sw) if fi else 0.0
    assert abs(float(hl.intercept_) - expected_b0) <= 1e-10 * np.abs(y).max()
    assert hl.dual_gap_ <= 1e-12 * np.sum(y**2)
    # just below alpha_max the solution is not zero (tight tol: at 0.99 alpha_max the zero
    # vector has relative gap (1 - 0.99)^2 / 2 = 5e-5, which the default tol would accept)
    below = HadamardLasso(alpha=0.99 * amax, fit_intercept=fi, tol=1e-8).fit(
        X, y, sample_weight=sw)
    assert np.count_nonzero(below.coef_) >= 1


def test_n_iter_at_least_one_for_trivial_solution():
    # hadasparse's contract: n_iter_ >= 1 always (sklearn's CD reports 0 when its screening
    # proves beta = 0 before the first epoch)
    X, y = ar1_design()
    hl = HadamardLasso(alpha=2 * alpha_max(X, y)).fit(X, y)
    assert np.all(hl.coef_ == 0)
    assert isinstance(hl.n_iter_, (int, np.integer)) and hl.n_iter_ >= 1


def test_constant_target():
    X, y = ar1_design(n=50, p=30)
    y = np.full(X.shape[0], 4.25)
    hl = HadamardLasso(alpha=0.1).fit(X, y)
    assert np.all(hl.coef_ == 0)
    assert hl.intercept_ == pytest.approx(4.25, rel=1e-12)
    np.testing.assert_allclose(hl.predict(X), 4.25, rtol=1e-12)


# --------------------------------------------------------------------------------------
# 5. Constant and duplicated columns
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "weighted", "sparse-csc", "sparse-csr"])
def test_constant_column(kind):
    X, y = diabetes()
    X = np.column_stack([X[:, :4], np.full(X.shape[0], 3.7), X[:, 4:], np.zeros(X.shape[0])])
    sw = weights(X.shape[0]) if kind == "weighted" else None
    if kind.startswith("sparse"):
        X = sp.csc_matrix(X) if kind.endswith("csc") else sp.csr_matrix(X)
    alpha = 0.01 * alpha_max(X, y, sw)
    hl = fit_hl(X, y, alpha, sw)
    assert hl.coef_[4] == 0.0
    assert hl.coef_[-1] == 0.0
    sk = fit_sklearn(X, y, alpha, sw)
    assert_same_solution(X, y, alpha, hl, sk, sw)


@pytest.mark.parametrize("data", ["diabetes", "ar1", "sparse"])
def test_duplicated_columns(data):
    if data == "diabetes":
        X, y = diabetes()
        dup = [2, 8, 2]
        frac = 0.01
    elif data == "ar1":
        X, y = ar1_design()
        sk0 = fit_sklearn(X, y, 0.1 * alpha_max(X, y))
        dup = list(np.flatnonzero(sk0.coef_)[:3])
        frac = 0.1
    else:
        X, y = sparse_design("csc")
        dup = [0, 1, 5]  # columns in the true support
        frac = 0.02
    if sp.issparse(X):
        X = sp.hstack([X, X[:, dup]], format="csc")
    else:
        X = np.column_stack([X, X[:, dup]])
    alpha = frac * alpha_max(X, y)
    hl = fit_hl(X, y, alpha)
    sk = fit_sklearn(X, y, alpha)
    p_h = lasso_objective(X, y, hl.coef_, hl.intercept_, alpha)
    p_s = lasso_objective(X, y, sk.coef_, sk.intercept_, alpha)
    _, yc2 = duality_gap(X, y, sk.coef_, alpha)
    assert abs(p_h - p_s) <= OBJ_RTOL * p_s + 2 * SK_TOL * yc2
    np.testing.assert_allclose(hl.predict(X), sk.predict(X), rtol=1e-6,
                               atol=1e-6 * np.abs(y).max())
    gap, yc2 = duality_gap(X, y, hl.coef_, alpha)
    assert gap <= HL_TOL * yc2 * (1 + 1e-6) + 1e-13 * yc2


# --------------------------------------------------------------------------------------
# 6. Bad input
# --------------------------------------------------------------------------------------


def _bad_input(kind):
    X, y = ar1_design(n=40, p=10)
    sw = None
    params = {}
    if kind == "nan-X":
        X[3, 2] = np.nan
    elif kind == "inf-X":
        X[5, 1] = np.inf
    elif kind == "neg-inf-X":
        X[0, 0] = -np.inf
    elif kind == "nan-y":
        y[7] = np.nan
    elif kind == "inf-y":
        y[7] = np.inf
    elif kind == "nan-X-sparse":
        X[3, 2] = np.nan
        X = sp.csr_matrix(X)
    elif kind == "length-mismatch":
        y = y[:-1]
    elif kind == "sw-length":
        sw = np.ones(X.shape[0] + 2)
    elif kind == "sw-negative":
        sw = np.ones(X.shape[0])
        sw[4] = -0.5
    elif kind == "sw-nan":
        sw = np.ones(X.shape[0])
        sw[4] = np.nan
    elif kind == "alpha-negative":
        params = {"alpha": -0.1}
    elif kind == "tol-negative":
        params = {"tol": -1e-4}
    elif kind == "max_iter-zero":
        params = {"max_iter": 0}
    elif kind == "selection-bad":
        params = {"selection": "greedy"}
    else:
        raise KeyError(kind)
    return X, y, sw, params


@pytest.mark.parametrize(
    "kind",
    ["nan-X", "inf-X", "neg-inf-X", "nan-y", "inf-y", "nan-X-sparse", "length-mismatch",
     "sw-length", "sw-negative", "sw-nan", "alpha-negative", "tol-negative",
     "max_iter-zero", "selection-bad"],
)
def test_bad_input_raises(kind):
    X, y, sw, params = _bad_input(kind)
    with pytest.raises(ValueError):
        HadamardLasso(**params).fit(X, y, sample_weight=sw)


# --------------------------------------------------------------------------------------
# 7. ConvergenceWarning
# --------------------------------------------------------------------------------------


def test_convergence_warning_when_max_iter_reached():
    X, y = ar1_design()
    alpha = 0.01 * alpha_max(X, y)
    hl = HadamardLasso(alpha=alpha, max_iter=1, tol=1e-10)
    with pytest.warns(ConvergenceWarning):
        hl.fit(X, y)
    assert hl.n_iter_ == 1
    assert np.all(np.isfinite(hl.coef_)) and np.isfinite(hl.intercept_)
    # the warning must be truthful: the reported gap is above the target
    gap, yc2 = duality_gap(X, y, hl.coef_, alpha)
    assert hl.dual_gap_ > 1e-10 * yc2
    assert gap > 1e-10 * yc2


def test_no_convergence_warning_when_converged():
    X, y = ar1_design()
    alpha = 0.1 * alpha_max(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        hl = HadamardLasso(alpha=alpha).fit(X, y)
    assert hl.n_iter_ <= hl.max_iter


# --------------------------------------------------------------------------------------
# 8. warm_start
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["diabetes", "ar1"])
def test_warm_start(data):
    X, y = diabetes() if data == "diabetes" else ar1_design()
    a1 = 0.05 * alpha_max(X, y)
    a2 = 0.9 * a1
    hl = HadamardLasso(alpha=a1, tol=HL_TOL, warm_start=True).fit(X, y)
    hl.set_params(alpha=a2)
    hl.fit(X, y)
    cold = fit_hl(X, y, a2)
    scale = np.abs(cold.coef_).max()
    np.testing.assert_allclose(hl.coef_, cold.coef_, rtol=COEF_RTOL, atol=COEF_RTOL * scale)
    np.testing.assert_array_equal(hl.coef_ != 0, cold.coef_ != 0)
    np.testing.assert_allclose(hl.intercept_, cold.intercept_, rtol=1e-7)
    # refit at the same alpha from the converged solution: (almost) nothing to do
    coef_before = hl.coef_.copy()
    hl.fit(X, y)
    assert hl.n_iter_ <= 2
    np.testing.assert_allclose(hl.coef_, coef_before, rtol=COEF_RTOL, atol=COEF_RTOL * scale)


def test_warm_start_false_ignores_previous_fit():
    X, y = ar1_design()
    a = 0.05 * alpha_max(X, y)
    hl = HadamardLasso(alpha=0.5 * a, tol=HL_TOL).fit(X, y)
    hl.set_params(alpha=a).fit(X, y)
    cold = fit_hl(X, y, a)
    np.testing.assert_array_equal(hl.coef_ != 0, cold.coef_ != 0)
    np.testing.assert_allclose(hl.coef_, cold.coef_, rtol=COEF_RTOL,
                               atol=COEF_RTOL * np.abs(cold.coef_).max())


# --------------------------------------------------------------------------------------
# 9. Pipeline, GridSearchCV, DataFrame
# --------------------------------------------------------------------------------------


def test_pipeline_gridsearch_matches_sklearn():
    X, y = diabetes()
    grid = {"reg__alpha": np.logspace(-2, 1.5, 8)}
    cv = KFold(5, shuffle=True, random_state=0)

    def search(reg):
        pipe = Pipeline([("scale", StandardScaler()), ("reg", reg)])
        return GridSearchCV(pipe, grid, cv=cv).fit(X, y)

    gs_h = search(HadamardLasso(tol=1e-8))
    gs_s = search(Lasso(tol=1e-10, max_iter=MAX_ITER))
    assert gs_h.best_params_["reg__alpha"] == gs_s.best_params_["reg__alpha"]
    np.testing.assert_allclose(gs_h.cv_results_["mean_test_score"],
                               gs_s.cv_results_["mean_test_score"], rtol=1e-5)
    assert gs_h.best_estimator_.predict(X).shape == y.shape
    # make_pipeline works too (smoke)
    pipe = make_pipeline(StandardScaler(), HadamardLasso(alpha=1.0)).fit(X, y)
    assert pipe.score(X, y) > 0.4


def test_dataframe_input_sets_feature_names():
    pd = pytest.importorskip("pandas")
    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    hl = HadamardLasso(alpha=0.1).fit(X, y)
    np.testing.assert_array_equal(hl.feature_names_in_, np.asarray(X.columns, dtype=object))
    assert hl.n_features_in_ == X.shape[1]
    with pytest.warns(UserWarning, match="feature names"):
        pred_np = hl.predict(X.to_numpy())
    np.testing.assert_allclose(hl.predict(X), pred_np, rtol=1e-12)
    hn = HadamardLasso(alpha=0.1).fit(X.to_numpy(), y.to_numpy())
    assert not hasattr(hn, "feature_names_in_")
    assert hn.n_features_in_ == X.shape[1]
    assert isinstance(pd.Series(hl.coef_, index=hl.feature_names_in_), pd.Series)


# --------------------------------------------------------------------------------------
# 10. hadamard_lasso_path vs sklearn.linear_model.lasso_path
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["diabetes", "ar1", "sparse"])
def test_path_matches_sklearn(data):
    if data == "diabetes":
        X, y = diabetes()
    elif data == "ar1":
        X, y = ar1_design()
    else:
        X, y = sparse_design("csc")
    amax = alpha_max(X, y, fit_intercept=False)
    alphas = amax * np.array([0.9, 0.5, 0.2, 0.1, 0.05, 0.02])
    a_s, c_s, g_s = lasso_path(X, y, alphas=alphas, tol=SK_TOL, max_iter=MAX_ITER)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        out = hadamard_lasso_path(X, y, alphas=alphas, tol=HL_TOL, return_n_iter=True)
    assert len(out) == 4
    a_h, c_h, g_h, n_h = out
    np.testing.assert_allclose(a_h, a_s, rtol=1e-14)
    assert c_h.shape == (X.shape[1], len(alphas))
    assert np.shape(g_h) == (len(alphas),)
    assert len(n_h) == len(alphas)
    for k, a in enumerate(a_s):
        scale = max(np.abs(c_s[:, k]).max(), 1e-300)
        np.testing.assert_allclose(c_h[:, k], c_s[:, k], rtol=COEF_RTOL,
                                   atol=COEF_RTOL * scale, err_msg=f"alpha index {k}")
        np.testing.assert_array_equal(c_h[:, k] != 0, c_s[:, k] != 0,
                                      err_msg=f"support at alpha index {k}")
        gap, yc2 = duality_gap(X, y, c_h[:, k], a, fit_intercept=False)
        assert -1e-12 * yc2 <= gap <= HL_TOL * yc2 * (1 + 1e-6) + 1e-13 * yc2
        assert abs(g_h[k] - gap) <= 1e-3 * HL_TOL * yc2 + 1e-13 * yc2


def test_path_sorts_alphas_decreasing():
    X, y = diabetes()
    amax = alpha_max(X, y, fit_intercept=False)
    alphas = amax * np.array([0.05, 0.5, 0.1, 0.9])
    a_h, c_h, _ = hadamard_lasso_path(X, y, alphas=alphas, tol=1e-10)
    a_s, c_s, _ = lasso_path(X, y, alphas=alphas, tol=1e-10, max_iter=MAX_ITER)
    np.testing.assert_allclose(a_h, np.sort(alphas)[::-1], rtol=1e-14)
    np.testing.assert_allclose(c_h, c_s, rtol=1e-6, atol=1e-6 * np.abs(c_s).max())


@pytest.mark.parametrize("n_alphas, eps", [(7, 1e-2), (20, 1e-3)])
def test_path_integer_alphas_grid(n_alphas, eps):
    X, y = diabetes()
    a_h, c_h, g_h = hadamard_lasso_path(X, y, alphas=n_alphas, eps=eps)
    a_s, c_s, _ = lasso_path(X, y, alphas=n_alphas, eps=eps)
    amax = np.max(np.abs(X.T @ y)) / X.shape[0]  # no intercept in the path
    np.testing.assert_allclose(a_h, amax * np.logspace(0, np.log10(eps), n_alphas), rtol=1e-10)
    np.testing.assert_allclose(a_h, a_s, rtol=1e-10)
    assert c_h.shape == (X.shape[1], n_alphas)
    assert np.all(c_h[:, 0] == 0)  # first alpha is alpha_max
    assert np.count_nonzero(c_h[:, -1]) > 0
    # default tol=1e-4 must still be certified at every alpha
    for k, a in enumerate(a_h):
        gap, yc2 = duality_gap(X, y, c_h[:, k], a, fit_intercept=False)
        assert gap <= 1e-4 * yc2 * (1 + 1e-6)


def test_path_default_alphas():
    X, y = diabetes()
    a_h, c_h, g_h = hadamard_lasso_path(X, y)
    amax = np.max(np.abs(X.T @ y)) / X.shape[0]
    assert a_h.shape == (100,)
    np.testing.assert_allclose(a_h, amax * np.logspace(0, -3, 100), rtol=1e-10)
    assert c_h.shape == (X.shape[1], 100)
    assert np.shape(g_h) == (100,)


def test_path_positive():
    X, y = ar1_design()
    amax = alpha_max(X, y, fit_intercept=False)
    alphas = amax * np.array([0.5, 0.1, 0.03])
    _, c_h, _ = hadamard_lasso_path(X, y, alphas=alphas, positive=True, tol=HL_TOL)
    _, c_s, _ = lasso_path(X, y, alphas=alphas, positive=True, tol=SK_TOL, max_iter=MAX_ITER)
    assert np.all(c_h >= 0)
    np.testing.assert_allclose(c_h, c_s, rtol=COEF_RTOL, atol=COEF_RTOL * np.abs(c_s).max())
    np.testing.assert_array_equal(c_h != 0, c_s != 0)


def test_path_options_do_not_change_the_solution():
    X, y = ar1_design()
    alphas = alpha_max(X, y, fit_intercept=False) * np.array([0.5, 0.1, 0.03])
    _, c0, _ = hadamard_lasso_path(X, y, alphas=alphas, tol=HL_TOL)
    scale = np.abs(c0).max()
    variants = {
        "Xy": dict(Xy=X.T @ y),
        "coef_init": dict(coef_init=c0[:, 1].copy()),
        "precompute": dict(precompute=True),
        "csr": dict(),
    }
    for name, kw in variants.items():
        Xv = sp.csr_matrix(X) if name == "csr" else X
        out = hadamard_lasso_path(Xv, y, alphas=alphas, tol=HL_TOL, **kw)
        assert len(out) == 3
        np.testing.assert_allclose(out[1], c0, rtol=COEF_RTOL, atol=COEF_RTOL * scale,
                                   err_msg=name)
        np.testing.assert_array_equal(out[1] != 0, c0 != 0, err_msg=name)


def test_path_float32_keeps_dtype():
    # sklearn's lasso_path returns coefs of X's dtype
    X, y = diabetes()
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    alphas = alpha_max(X, y, fit_intercept=False) * np.array([0.5, 0.05])
    _, c_s, _ = lasso_path(X32, y32, alphas=alphas)
    _, c_h, _ = hadamard_lasso_path(X32, y32, alphas=alphas, tol=1e-6)
    assert c_s.dtype == np.float32
    assert c_h.dtype == np.float32
    _, c64, _ = lasso_path(X, y, alphas=alphas, tol=SK_TOL, max_iter=MAX_ITER)
    np.testing.assert_allclose(c_h, c64, rtol=1e-3, atol=1e-3 * np.abs(c64).max())


# --------------------------------------------------------------------------------------
# 11. predict / score / sparse_coef_ / input not modified
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("multi", [False, True])
def test_predict_score_sparse_coef(multi):
    X, y = ar1_design()
    if multi:
        y = np.column_stack([y, 2 * y + 1])
    alpha = 0.1 * alpha_max(X, y[:, 0] if multi else y)
    hl = HadamardLasso(alpha=alpha).fit(X, y)
    pred = hl.predict(X)
    np.testing.assert_allclose(pred, X @ hl.coef_.T + hl.intercept_, rtol=1e-10, atol=1e-10)
    assert hl.score(X, y) == pytest.approx(r2_score(y, pred), rel=1e-12)
    assert hl.score(X, y) > 0.5
    sc = hl.sparse_coef_
    assert sp.issparse(sc)
    np.testing.assert_array_equal(sc.toarray(), np.atleast_2d(hl.coef_))
    assert sc.nnz == np.count_nonzero(hl.coef_)
    # predict on sparse input equals dense predict
    np.testing.assert_allclose(hl.predict(sp.csr_matrix(X)), pred, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("sparse_X", [False, True])
def test_inputs_not_modified(sparse_X):
    X, y = ar1_design()
    sw = weights(X.shape[0])
    if sparse_X:
        X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    X0 = X.copy()
    y0, sw0 = y.copy(), sw.copy()
    HadamardLasso(alpha=0.1, copy_X=True).fit(X, y, sample_weight=sw)
    if sparse_X:
        assert (X != X0).nnz == 0
    else:
        np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sw, sw0)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_copy_X_false_any_memory_layout(order, fit_intercept):
    # copy_X=False must not turn into "fail when a copy is needed", and X stays untouched
    X, y = ar1_design()
    X = np.asarray(X, order=order)
    X0 = X.copy()
    hl = HadamardLasso(alpha=0.1, copy_X=False, fit_intercept=fit_intercept, tol=1e-10)
    hl.fit(X, y)
    np.testing.assert_array_equal(X, X0)
    ref = HadamardLasso(alpha=0.1, fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(hl.coef_, ref.coef_)


@pytest.mark.parametrize("positive", [False, True])
def test_polish_through_many_kinks_is_the_lasso_solution(positive):
    """The active-set polish from a start far from the solution: most of its rounds stop
    at a kink, where only the active gradient is updated (from the Newton system) and the
    zeros' gradients are brought up to date once the active set is optimal. Its result is
    sklearn's lasso solution (coordinate descent to a gap of 1e-14)."""
    from hadasparse.losses._quadratic import gram_operator
    from hadasparse.solvers._lasso_kernels import polish

    rng = np.random.default_rng(7)
    n, p = 80, 150
    A = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))  # correlated
    b = A[:, :20] @ rng.standard_normal(20) + 0.1 * rng.standard_normal(n)
    G, c = A.T @ A / n, A.T @ b / n
    alpha = 0.02 * np.abs(c).max()
    ref = Lasso(alpha=alpha, fit_intercept=False, positive=positive, tol=1e-14,
                max_iter=1000000).fit(A, b).coef_
    # 70 nonzeros at random places with random signs: most must leave the support
    beta = np.zeros(p)
    beta[rng.choice(p, 70, replace=False)] = rng.standard_normal(70)
    if positive:
        np.abs(beta, out=beta)
    cap = min(n, p)
    L, act = np.zeros((cap, cap)), np.empty(cap, dtype=np.int64)
    pos, fstate = np.full(p, -1, dtype=np.int64), np.zeros(2, dtype=np.int64)
    converged, rounds = polish(gram_operator(G, c), np.diag(G).copy(), alpha, beta, positive,
                               10000, 1e-12, L, act, pos, fstate)
    assert converged
    if not positive:  # (positive: coordinates leave by clipping as well as at kinks)
        assert rounds >= 30  # the path went through many kinks

    def objective(w):
        return 0.5 * w @ G @ w - c @ w + alpha * np.abs(w).sum()

    assert objective(beta) <= objective(ref) + 1e-13 * abs(objective(ref))
    np.testing.assert_allclose(beta, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    assert np.array_equal(beta != 0, ref != 0)
