"""Tests for ``hadasparse.HadamardMultiTaskLasso``.

The reference is scikit-learn's coordinate-descent ``MultiTaskLasso`` at a very tight
tolerance, plus the objective, the KKT conditions and the duality gap computed in this file.

Objective (sklearn scaling, W = coef_ of shape (n_tasks, n_features), sample weights s
rescaled to sum to n):

    P(W, b0) = 1/(2n) sum_i s_i ||y_i - W x_i - b0||^2 + alpha sum_j ||W[:, j]||_2
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardMultiTaskLasso

SK_TOL = 1e-12
TOL = 1e-10


def multitask_data(n=100, p=40, n_tasks=3, k=5, seed=0, rho=0.4):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    W = np.zeros((p, n_tasks))
    W[rng.choice(p, k, replace=False)] = rng.standard_normal((k, n_tasks))
    Y = X @ W + 0.5 * rng.standard_normal((n, n_tasks)) + rng.uniform(-2, 2, n_tasks)
    return X, Y


def centred_weighted(X, Y, sample_weight=None, fit_intercept=True):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * n / np.sum(sample_weight)
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=s)
        y_mean = np.average(Y, axis=0, weights=s)
    else:
        x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    sq = np.sqrt(s)[:, None]
    return sq * (X - x_mean), sq * (Y - y_mean)


def alpha_max(X, Y, sample_weight=None, fit_intercept=True):
    A, B = centred_weighted(X, Y, sample_weight, fit_intercept)
    return np.max(np.linalg.norm(A.T @ B, axis=1)) / A.shape[0]


def objective(X, Y, coef, intercept, alpha, sample_weight=None):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * n / np.sum(sample_weight)
    R = Y - X @ coef.T - intercept
    return 0.5 * np.sum(s[:, None] * R**2) / n + alpha * np.sum(np.linalg.norm(coef, axis=0))


def gap_and_scale(X, Y, coef, alpha, sample_weight=None, fit_intercept=True):
    A, B = centred_weighted(X, Y, sample_weight, fit_intercept)
    n = A.shape[0]
    R = B - A @ coef.T
    dual_norm = np.max(np.linalg.norm(A.T @ R, axis=1)) / n
    theta = R / max(1.0, dual_norm / alpha)
    primal = np.sum(R**2) / (2 * n) + alpha * np.sum(np.linalg.norm(coef, axis=0))
    dual = (np.sum(B**2) - np.sum((B - theta) ** 2)) / (2 * n)
    return primal - dual, np.sum(B**2) / n


def fit_both(X, Y, alpha, sample_weight=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = HadamardMultiTaskLasso(alpha=alpha, tol=TOL, **kw).fit(
            X, Y, sample_weight=sample_weight)
        ref = MultiTaskLasso(alpha=alpha, tol=SK_TOL, max_iter=100_000, **kw).fit(
            X, Y, sample_weight=sample_weight)
    return ours, ref


def assert_same(X, Y, alpha, ours, ref, sample_weight=None):
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-6 * scale)
    np.testing.assert_array_equal(np.any(ours.coef_ != 0, axis=0),
                                  np.any(ref.coef_ != 0, axis=0))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0,
                               atol=1e-6 * (np.abs(ref.intercept_).max() + 1))
    p_o = objective(X, Y, ours.coef_, ours.intercept_, alpha, sample_weight)
    p_r = objective(X, Y, ref.coef_, ref.intercept_, alpha, sample_weight)
    assert abs(p_o - p_r) <= 1e-8 * p_r
    # whole features are dropped for every task at once
    for j in range(ours.coef_.shape[1]):
        col = ours.coef_[:, j]
        assert np.all(col == 0) or np.all(col != 0)


@parametrize_with_checks([HadamardMultiTaskLasso(), HadamardMultiTaskLasso(alpha=0.05)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("frac", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("case", ["dense", "no-intercept", "weighted", "sparse-intercept",
                                  "sparse-no-intercept", "wide"])
def test_matches_sklearn(case, frac):
    sw = None
    kw = {}
    if case == "wide":
        X, Y = multitask_data(n=50, p=120, n_tasks=4, seed=1)
    else:
        X, Y = multitask_data()
    if case in ("no-intercept", "sparse-no-intercept"):
        kw["fit_intercept"] = False
    if case == "weighted":
        sw = np.random.RandomState(2).uniform(0.1, 3.0, X.shape[0])
    if case.startswith("sparse"):
        X = sp.csc_matrix(X * (np.random.RandomState(3).uniform(size=X.shape) < 0.3))
    alpha = frac * alpha_max(X, Y, sw, kw.get("fit_intercept", True))
    ours, ref = fit_both(X, Y, alpha, sw, **kw)
    assert_same(X, Y, alpha, ours, ref, sw)
    assert ours.coef_.shape == ref.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6, 1e-8])
def test_dual_gap_certifies_tol(tol):
    X, Y = multitask_data(seed=4)
    alpha = 0.05 * alpha_max(X, Y)
    model = HadamardMultiTaskLasso(alpha=alpha, tol=tol).fit(X, Y)
    gap, scale = gap_and_scale(X, Y, model.coef_, alpha)
    assert gap <= tol * scale * (1 + 1e-6) + 1e-14
    assert model.dual_gap_ == pytest.approx(gap, rel=1e-6, abs=1e-12 * scale)
    assert isinstance(model.n_iter_, int) and model.n_iter_ >= 1


def test_kkt_conditions():
    X, Y = multitask_data(seed=5)
    alpha = 0.05 * alpha_max(X, Y)
    model = HadamardMultiTaskLasso(alpha=alpha, tol=TOL).fit(X, Y)
    A, B = centred_weighted(X, Y)
    grad = A.T @ (A @ model.coef_.T - B) / A.shape[0]  # (p, T)
    W = model.coef_.T
    norms = np.linalg.norm(W, axis=1)
    active = norms > 0
    assert active.any() and not active.all()
    np.testing.assert_allclose(grad[active], -alpha * W[active] / norms[active, None], rtol=0,
                               atol=1e-8 * alpha)
    assert np.all(np.linalg.norm(grad[~active], axis=1) <= alpha * (1 + 1e-8))


def test_above_alpha_max_is_zero():
    X, Y = multitask_data(seed=6)
    a_max = alpha_max(X, Y)
    model = HadamardMultiTaskLasso(alpha=a_max * (1 + 1e-8)).fit(X, Y)
    assert np.all(model.coef_ == 0)
    np.testing.assert_allclose(model.intercept_, Y.mean(axis=0))
    model = HadamardMultiTaskLasso(alpha=a_max * 0.99, tol=TOL).fit(X, Y)
    assert np.any(model.coef_ != 0, axis=0).sum() == 1


def test_mono_task_raises():
    X, Y = multitask_data()
    with pytest.raises(ValueError, match="mono-task"):
        HadamardMultiTaskLasso().fit(X, Y[:, 0])


def test_warm_start():
    X, Y = multitask_data(seed=7)
    model = HadamardMultiTaskLasso(alpha=0.05, tol=TOL, warm_start=True).fit(X, Y)
    first = model.coef_.copy()
    model.fit(X, Y)
    np.testing.assert_allclose(model.coef_, first, atol=1e-9 * np.abs(first).max())
    assert model.n_iter_ == 1


def test_float32_predict_and_attributes():
    X, Y = multitask_data(seed=8)
    ref = MultiTaskLasso(alpha=0.05).fit(X.astype(np.float32), Y.astype(np.float32))
    model = HadamardMultiTaskLasso(alpha=0.05).fit(X.astype(np.float32), Y)
    assert model.coef_.dtype == ref.coef_.dtype == np.float32
    assert model.intercept_.dtype == np.float32
    assert model.predict(X).shape == Y.shape
    assert model.sparse_coef_.shape == model.coef_.shape
    assert model.eps_ > 0
    for attr in ("coef_", "intercept_", "n_iter_", "dual_gap_", "eps_", "sparse_coef_",
                 "n_features_in_"):
        assert hasattr(ref, attr) and hasattr(model, attr)


def test_parameters_match_sklearn():
    ours = set(HadamardMultiTaskLasso().get_params())
    theirs = set(MultiTaskLasso().get_params())
    assert ours == theirs


def test_coordinate_descent_alone_without_polish(monkeypatch):
    """With the Newton polish's size limit forced to 0, the working set's block coordinate
    descent alone (no polish on any support) must reach sklearn's solution at tol 1e-10."""
    from hadasparse.solvers import _working_set as _solver

    monkeypatch.setattr(_solver, "_DENSE_NEWTON_MAX", 0)
    X, Y = multitask_data(n=50, p=120, n_tasks=4, seed=1)
    alpha = 0.01 * alpha_max(X, Y)
    ours, ref = fit_both(X, Y, alpha)
    assert_same(X, Y, alpha, ours, ref)


def test_bounded_memory_beyond_square_cap():
    """Issue #13: with the square-array floor forced to 8 rows the cap is n = 30 rows, while
    the working set grows to hundreds of features (support > n). The fit must still equal
    sklearn's, and the solve must not allocate anything near a (|W|, |W|) float64 array: the
    peak traced during the solve (on the preprocessed design) stays far below |W|² · 8
    bytes."""
    import tracemalloc

    from hadasparse._design import TaskDesign, preprocess
    from hadasparse.solvers import WorkingSet, solve_multitask_lasso
    from hadasparse.solvers._budget import square_cap, square_floor

    X, Y = multitask_data(n=30, p=1500, n_tasks=3, k=20, seed=3)
    alpha = 0.01 * alpha_max(X, Y)
    design, B, _, _ = preprocess(X, Y, None, True)
    task_design = TaskDesign(design, Y.shape[1])
    solve_multitask_lasso(task_design, B, alpha, tol=TOL)  # compile
    with square_floor(8):
        cap = square_cap(X.shape[0])
        state = WorkingSet()
        tracemalloc.start()
        try:
            W, _, _, converged = solve_multitask_lasso(task_design, B, alpha, tol=TOL,
                                                       state=state)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        ours = HadamardMultiTaskLasso(alpha=alpha, tol=TOL).fit(X, Y)
    k = state.ws.size
    assert converged and cap == X.shape[0] and k > 5 * cap
    assert np.count_nonzero(W.any(axis=1)) > X.shape[0]  # more active features than samples
    assert peak < 0.5 * k * k * 8  # one k×k float64 array alone would be k² · 8 bytes
    np.testing.assert_array_equal(ours.coef_, W.T)
    ref = MultiTaskLasso(alpha=alpha, tol=SK_TOL, max_iter=100_000).fit(X, Y)
    assert_same(X, Y, alpha, ours, ref)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_path_on_rank_deficient_design_never_worsens(seed):
    """On a design of rank 14 < 30 features (the zero rows of zero sample weights, as in a CV
    fold of sklearn's weight-equivalence check), the Newton polish of a warm-started path
    step drops groups whose huge Newton step passes through the origin; such a polish must
    not be kept when it raises the objective (it used to leave a 0.1 gap and half the
    support at the path's last alpha). Every alpha of the path matches a cold sklearn fit."""
    from hadasparse._design import Design
    from hadasparse.paths import multitask_lasso_path

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 30))
    X[rng.permutation(30)[:16]] = 0.0  # rank 14
    Y = (X[:, :20] @ rng.standard_normal((20, 1))) + 0.1 * rng.standard_normal((30, 1))
    alpha_max = np.max(np.abs(X.T @ Y)) / 30
    alphas = alpha_max * np.logspace(0, -3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = multitask_lasso_path(Design(X), Y, alphas, None, 1e-6, 1000, False, False,
                                   np.dtype("float64"))
    coefs, gaps = res[1], res[2]
    for i, a in enumerate(alphas):
        W = coefs[:, :, i]
        ref = MultiTaskLasso(alpha=a, fit_intercept=False, tol=1e-12,
                             max_iter=200000).fit(X, Y)

        def obj(C, a=a):
            return (0.5 * np.sum((Y - X @ C.T) ** 2) / 30
                    + a * np.sqrt((C ** 2).sum(axis=0)).sum())
        assert gaps[i] <= 1e-6 * np.vdot(Y, Y) / 30
        assert obj(W) <= obj(ref.coef_) + 1e-6 * np.vdot(Y, Y) / 30
