"""Tests for ``hadasparse.HadamardLassoCV`` against sklearn's ``LassoCV``."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, LassoCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardLasso, HadamardLassoCV

TOL = 1e-10


def correlated(n=120, p=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * X[:, j]
    beta = np.zeros(p)
    beta[rng.choice(p, 8, replace=False)] = rng.uniform(1, 2, 8) * rng.choice([-1, 1], 8)
    return X, X @ beta + rng.standard_normal(n) + 1.0


@parametrize_with_checks([HadamardLassoCV(alphas=5, cv=3)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _cases():
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", X, y, None, {}
    Xc, yc = correlated()
    yield "correlated", Xc, yc, None, {}
    yield "correlated-nointercept", Xc, yc, None, {"fit_intercept": False}
    yield "correlated-positive", Xc, yc, None, {"positive": True}
    sw = np.random.RandomState(3).uniform(0.2, 3.0, Xc.shape[0])
    yield "correlated-weighted", Xc, yc, sw, {}
    Xs = sp.random(150, 40, density=0.2, format="csr", random_state=4)
    ys = Xs @ np.r_[np.ones(5), np.zeros(35)] + 0.1 * np.random.RandomState(4).standard_normal(150)
    yield "sparse", Xs, ys, None, {}


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_matches_lassocv(case):
    _, X, y, sw, kw = case
    cv = KFold(4, shuffle=True, random_state=0)
    ref = LassoCV(alphas=30, cv=cv, tol=TOL, max_iter=200_000, **kw).fit(X, y, sample_weight=sw)
    ours = HadamardLassoCV(alphas=30, cv=cv, tol=TOL, **kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (30, 4)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    # the same point of the grid is chosen (the grids agree to rounding: alpha_max is a
    # floating-point reduction computed in a different order)
    assert np.argmin(np.abs(ours.alphas_ - ours.alpha_)) == np.argmin(
        np.abs(ref.alphas_ - ref.alpha_))
    np.testing.assert_allclose(ours.alpha_, ref.alpha_, rtol=1e-12)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)


def test_explicit_alphas_are_sorted_and_used():
    X, y = correlated()
    alphas = [0.01, 0.5, 0.1]
    ours = HadamardLassoCV(alphas=alphas, cv=3, tol=TOL).fit(X, y)
    ref = LassoCV(alphas=alphas, cv=3, tol=TOL, max_iter=200_000).fit(X, y)
    np.testing.assert_array_equal(ours.alphas_, [0.5, 0.1, 0.01])
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == ref.alpha_


def test_one_standard_error_rule():
    X, y = correlated(seed=1)
    cv = KFold(5, shuffle=True, random_state=1)
    best = HadamardLassoCV(alphas=40, cv=cv, tol=TOL).fit(X, y)
    one_se = HadamardLassoCV(alphas=40, cv=cv, tol=TOL, selection_rule="1se").fit(X, y)
    mean = best.mse_path_.mean(axis=1)
    i_min = np.argmin(mean)
    se = best.mse_path_[i_min].std(ddof=1) / np.sqrt(5)
    i_1se = int(np.flatnonzero(best.alphas_ == one_se.alpha_)[0])
    # the largest alpha whose mean error is within one SE of the minimum
    assert mean[i_1se] <= mean[i_min] + se
    assert np.all(mean[:i_1se] > mean[i_min] + se)
    assert one_se.alpha_ >= best.alpha_
    assert np.count_nonzero(one_se.coef_) <= np.count_nonzero(best.coef_)


def test_refit_is_hadamard_lasso_at_alpha():
    X, y = correlated()
    cv_model = HadamardLassoCV(alphas=10, cv=3, tol=TOL).fit(X, y)
    direct = HadamardLasso(alpha=cv_model.alpha_, tol=TOL).fit(X, y)
    np.testing.assert_array_equal(cv_model.coef_, direct.coef_)
    assert cv_model.dual_gap_ == direct.dual_gap_


def test_pickle_fitted():
    X, y = correlated()
    model = HadamardLassoCV(alphas=10, cv=3).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    np.testing.assert_array_equal(clone.mse_path_, model.mse_path_)


def test_n_jobs_gives_same_result():
    X, y = correlated()
    one = HadamardLassoCV(alphas=15, cv=4, tol=TOL, n_jobs=1).fit(X, y)
    two = HadamardLassoCV(alphas=15, cv=4, tol=TOL, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(two.mse_path_, one.mse_path_, rtol=1e-12)
    assert two.alpha_ == one.alpha_


def test_gridsearch_pipeline_columntransformer_parallel():
    rng = np.random.RandomState(0)
    n = 200
    num = rng.standard_normal((n, 4))
    cat = rng.randint(0, 3, size=(n, 1))
    y = num @ np.array([1.0, 0.0, -2.0, 0.0]) + (cat[:, 0] == 1) * 1.5 + 0.3 * rng.standard_normal(n)
    X = np.hstack([num, cat]).astype(object)
    pre = ColumnTransformer([("num", StandardScaler(), [0, 1, 2, 3]),
                             ("cat", OneHotEncoder(), [4])])
    grid = {"reg__alpha": [0.001, 0.01, 0.1, 0.5]}
    cv = KFold(4, shuffle=True, random_state=0)
    ours = GridSearchCV(make_pipeline(pre, HadamardLasso(tol=TOL)).set_params(
        **{}), {"hadamardlasso__alpha": grid["reg__alpha"]}, cv=cv, n_jobs=2).fit(X, y)
    ref = GridSearchCV(make_pipeline(pre, Lasso(tol=TOL, max_iter=100_000)),
                       {"lasso__alpha": grid["reg__alpha"]}, cv=cv).fit(X, y)
    assert ours.best_params_["hadamardlasso__alpha"] == ref.best_params_["lasso__alpha"]
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-7)


def test_bad_parameters():
    X, y = correlated()
    with pytest.raises(ValueError, match="selection_rule"):
        HadamardLassoCV(selection_rule="best").fit(X, y)
    with pytest.raises(ValueError, match="alphas"):
        HadamardLassoCV(alphas=[0.1, -1.0]).fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        HadamardLassoCV(eps=0.0).fit(X, y)
    with pytest.raises(ValueError, match="1d array"):
        HadamardLassoCV().fit(X, np.c_[y, y])


@pytest.mark.parametrize("name", ["lasso", "group", "lq", "multitask"])
def test_randomized_search_parallel_equals_sequential(name):
    """Every estimator in a Pipeline inside RandomizedSearchCV with n_jobs=2: the parallel
    search scores each sampled alpha exactly as a sequential cross_val_score does, and its
    best estimator is the refit of the best candidate."""
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV, cross_val_score

    from hadasparse import HadamardGroupLasso, HadamardLqRegressor, HadamardMultiTaskLasso

    X, y = correlated(n=90, p=24, seed=3)
    est = {"lasso": HadamardLasso(tol=1e-8),
           "group": HadamardGroupLasso(groups=4, tol=1e-8),
           "lq": HadamardLqRegressor(q=0.5, tol=1e-8),
           "multitask": HadamardMultiTaskLasso(tol=1e-8)}[name]
    if name == "multitask":
        y = np.c_[y, 0.5 * y + np.random.RandomState(1).standard_normal(y.size)]
    pipe = make_pipeline(StandardScaler(), est)
    key = pipe.steps[-1][0] + "__alpha"
    cv = KFold(3, shuffle=True, random_state=0)
    search = RandomizedSearchCV(pipe, {key: loguniform(1e-3, 1.0)}, n_iter=4, cv=cv,
                                random_state=0, n_jobs=2).fit(X, y)
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"]):
        seq = cross_val_score(pipe.set_params(**params), X, y, cv=cv).mean()
        np.testing.assert_allclose(score, seq, rtol=1e-10)
    best = search.cv_results_["params"][search.best_index_]
    np.testing.assert_allclose(search.best_estimator_.predict(X),
                               pipe.set_params(**best).fit(X, y).predict(X), rtol=1e-10)
