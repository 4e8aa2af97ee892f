"""Robustness and sklearn parity (issue 12): every input a user can give gets sklearn's
behaviour or a clear error. One section per item of the issue."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, MultiTaskLasso, lasso_path
from sklearn.model_selection import GroupKFold

from hadasparse import (
    HadamardGroupLasso,
    HadamardGroupLassoCV,
    HadamardLasso,
    HadamardLassoCV,
    HadamardLqRegressor,
    HadamardLqRegressorCV,
    HadamardMultiTaskLasso,
    HadamardMultiTaskLassoCV,
    hadamard_lasso_path,
)
from hadasparse.solvers import GAP_FLOOR
from hadasparse.paths import hadamard_group_lasso_path, hadamard_lq_path


def small_problem(seed=0, n=30, p=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] + 0.5 * rng.standard_normal(n)
    Y = np.c_[y, X[:, 1] + rng.standard_normal(n)]
    return X, y, Y


# --------------------------------------------------------------------------------------
# 1. alpha = 0: least squares with sklearn's warning, for every model
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, multi", [
    (lambda: HadamardGroupLasso(alpha=0), False),
    (lambda: HadamardGroupLasso(alpha=0, groups=[[0, 1, 2], [2, 3, 4, 5]]), False),
    (lambda: HadamardMultiTaskLasso(alpha=0), True),
    (lambda: HadamardGroupLassoCV(alphas=[0], cv=3), False),
    (lambda: HadamardMultiTaskLassoCV(alphas=[0], cv=3), True),
    (lambda: HadamardLasso(alpha=0), False),
])
def test_alpha_zero_fits_least_squares(make, multi):
    X, y, Y = small_problem()
    target = Y if multi else y
    with pytest.warns(UserWarning, match="With alpha=0, this algorithm does not converge"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make().fit(X, target)
    ols = LinearRegression().fit(X, target)
    np.testing.assert_allclose(model.coef_, ols.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.predict(X), ols.predict(X), rtol=1e-6, atol=1e-8)


def test_alpha_zero_convergence_warning_says_why():
    X, y, _ = small_problem()
    with pytest.warns(ConvergenceWarning, match="gap is infinite.*LinearRegression"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="With alpha=0")
            HadamardGroupLasso(alpha=0).fit(X, y)


# --------------------------------------------------------------------------------------
# 2. tol = 0: the fit ends at the gap's rounding floor, with exact zeros
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("make, multi", [
    (lambda tol: HadamardGroupLasso(alpha=0.1, tol=tol), False),
    (lambda tol: HadamardGroupLasso(alpha=0.1, tol=tol, groups=[[0, 1], [2, 3], [4, 5]]),
     False),
    (lambda tol: HadamardMultiTaskLasso(alpha=0.1, tol=tol), True),
    (lambda tol: HadamardLasso(alpha=0.1, tol=tol), False),
])
def test_tol_zero_ends_at_the_rounding_floor_with_exact_zeros(make, multi, seed):
    X, y, Y = small_problem(seed)
    target = Y if multi else y
    reference = make(1e-10).fit(X, target)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make(0.0).fit(X, target)
    # the support of a tight fit, exactly: no tiny non-zeros left by tightened inner solves
    np.testing.assert_array_equal(model.coef_ != 0, reference.coef_ != 0)
    nonzero = np.abs(model.coef_[model.coef_ != 0])
    assert nonzero.size == 0 or nonzero.min() > 1e-8
    scale = np.sum((target - target.mean(axis=0)) ** 2) / X.shape[0]
    assert model.dual_gap_ <= GAP_FLOOR * scale
    assert model.n_iter_ <= 4  # stops at the floor instead of tightening the inner solves
    for w in caught:  # a gap of exactly 0 converges; otherwise the warning says why
        if issubclass(w.category, ConvergenceWarning):
            assert "rounding floor" in str(w.message)
            assert "increase" not in str(w.message)


@pytest.mark.parametrize("cv_class, multi", [(HadamardGroupLassoCV, False),
                                             (HadamardMultiTaskLassoCV, True)])
def test_cv_with_tol_zero_matches_a_tight_tolerance(cv_class, multi):
    X, y, Y = small_problem()
    target = Y if multi else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        zero = cv_class(cv=3, tol=0, alphas=8).fit(X, target)
    tight = cv_class(cv=3, tol=1e-10, alphas=8).fit(X, target)
    assert zero.alpha_ == tight.alpha_
    np.testing.assert_allclose(zero.mse_path_, tight.mse_path_, rtol=1e-8)
    np.testing.assert_array_equal(zero.coef_ != 0, tight.coef_ != 0)


# --------------------------------------------------------------------------------------
# 3. the depth of the lq factorisation is bounded, with a clear message
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [2 / 129, 2e-3, 2e-6], ids=["k=129", "k=1000", "k=1e6"])
def test_lq_depth_is_bounded(q):
    X, y, _ = small_problem()
    with pytest.raises(ValueError, match=r"'q' parameter must be at least 2/128"):
        HadamardLqRegressor(alpha=0.01, q=q, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"at least 2/128"):
        HadamardLqRegressorCV(q=q, alphas=2, cv=2, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"at least 2/128"):
        hadamard_lq_path(X, y, q=q, alphas=[0.1], max_iter=2)


def test_lq_deepest_accepted_depth_fits():
    X, y, _ = small_problem()
    model = HadamardLqRegressor(alpha=0.01, q=2 / 128).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and np.count_nonzero(model.coef_) >= 1


# --------------------------------------------------------------------------------------
# 4. finite but huge X or y: a clear ValueError, not numba's or a bogus alpha message
# --------------------------------------------------------------------------------------

HUGE_MODELS = [
    (HadamardLasso, False), (HadamardLassoCV, False), (HadamardGroupLasso, False),
    (HadamardGroupLassoCV, False), (HadamardMultiTaskLasso, True),
    (HadamardMultiTaskLassoCV, True), (HadamardLqRegressor, False),
    (HadamardLqRegressorCV, False),
]


@pytest.mark.parametrize("model, multi", HUGE_MODELS)
@pytest.mark.parametrize("where", ["X", "y"])
def test_huge_finite_input_raises_a_clear_error(model, multi, where):
    X, y, Y = small_problem()
    target = (Y if multi else y).copy()
    if where == "X":
        X = X.copy()
        X[0, :] = 1e200
    else:
        target[0] = 1e200
    params = {"cv": 3, "alphas": 3} if model.__name__.endswith("CV") else {}
    with pytest.raises(ValueError, match=f"{where} has entries up to 1.000e\\+200.*Rescale"):
        model(**params).fit(X, target)
    with pytest.raises(ValueError, match="Rescale"):
        model(**params).fit(sp.csc_matrix(X), target)


def test_large_but_representable_input_fits():
    X, y, _ = small_problem()
    # X, y scaled by c: the same solution at alpha * c^2
    model = HadamardLasso(alpha=0.1 * 1e140).fit(X * 1e70, y * 1e70)
    reference = HadamardLasso(alpha=0.1).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cx, cy", [(1e83, 1e83), (1e-150, 1e-150), (1e120, 1e-120),
                                    (1e-100, 1.0)])
@pytest.mark.parametrize("name", ["lasso", "group", "multitask", "lq"])
def test_extreme_but_representable_scales_give_the_scaled_solution(name, cx, cy):
    # X -> cx X, y -> cy y: coefficients scale by cy / cx at alpha * cx * cy (degree-1
    # penalties) or alpha * cy^(2-q) * cx^q (lq): the factor kernels must not over- or
    # underflow on the way
    X, y, Y = small_problem(n=20, p=5)
    target = Y if name == "multitask" else y

    def fit(cx, cy):
        if name == "lq":
            return HadamardLqRegressor(alpha=0.05 * cy ** 1.5 * cx ** 0.5, q=0.5).fit(
                X * cx, target * cy)
        alpha = 0.05 * cx * cy
        model = {"lasso": HadamardLasso(alpha=alpha),
                 "group": HadamardGroupLasso(alpha=alpha, groups=[[0, 1], [2, 3, 4]]),
                 "multitask": HadamardMultiTaskLasso(alpha=alpha)}[name]
        return model.fit(X * cx, target * cy)

    reference = fit(1.0, 1.0).coef_
    scaled = fit(cx, cy).coef_ * (cx / cy)
    np.testing.assert_allclose(scaled, reference, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(scaled != 0, reference != 0)


# --------------------------------------------------------------------------------------
# 5. the ConvergenceWarning says what happened and what helps
# --------------------------------------------------------------------------------------

def test_stalled_gap_warning_does_not_ask_for_more_iterations():
    X, y, Y = small_problem()
    for model, target in ((HadamardGroupLasso(alpha=0.1, tol=0), y),
                          (HadamardMultiTaskLasso(alpha=0.1, tol=0), Y),
                          (HadamardLasso(alpha=0.3, tol=0), y)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, target)
        messages = [str(w.message) for w in caught
                    if issubclass(w.category, ConvergenceWarning)]
        for message in messages:
            assert "rounding floor" in message and "tol >=" in message
            assert "increase" not in message


def test_max_iter_warning_is_sklearns():
    X = np.array([[-1, -1, 1, 1], [1, 1, -1, -1]], dtype=float)
    y = np.array([-1.0, 1.0])
    reg = HadamardLasso(alpha=1e-10, fit_intercept=False, warm_start=True, max_iter=1,
                        tol=1e-10)
    reg.coef_ = np.array([1.0, 1, 1, 1000])
    with pytest.warns(ConvergenceWarning, match="Objective did not converge. You might want "
                      "to increase the number of iterations.*Duality gap"):
        reg.fit(X, y)


# --------------------------------------------------------------------------------------
# 6. sklearn's shapes; 2-D y in the path; the path static methods
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_column_y_is_squeezed_like_sklearn(fit_intercept):
    X, y, _ = small_problem()
    ours = HadamardLasso(alpha=0.1, fit_intercept=fit_intercept).fit(X, y[:, None])
    ref = Lasso(alpha=0.1, fit_intercept=fit_intercept).fit(X, y[:, None])
    assert ours.coef_.shape == ref.coef_.shape == (X.shape[1],)
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    assert np.ndim(ours.dual_gap_) == np.ndim(ref.dual_gap_) == 0
    assert isinstance(ours.n_iter_, int) and isinstance(ref.n_iter_, int)
    assert ours.predict(X).shape == ref.predict(X).shape == (X.shape[0],)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)


def test_lasso_path_takes_a_2d_y_as_sklearn():
    X, _, Y = small_problem()
    alphas, coefs, gaps, n_iters = hadamard_lasso_path(X, Y, alphas=5, tol=1e-10,
                                                       return_n_iter=True)
    ref_alphas, ref_coefs, _ = lasso_path(X, Y, alphas=5, tol=1e-12, max_iter=100000)
    assert coefs.shape == ref_coefs.shape == (2, X.shape[1], 5)
    assert gaps.shape == (5,) and len(n_iters) == 5
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    np.testing.assert_allclose(coefs, ref_coefs, atol=1e-6)
    for i, alpha in enumerate(alphas):  # each point is the multi-task lasso's solution
        mtl = MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=1e-12,
                             max_iter=100000).fit(X, Y)
        np.testing.assert_allclose(coefs[:, :, i], mtl.coef_, atol=1e-6)


def test_path_static_methods():
    for cls in (HadamardLasso, HadamardLassoCV, HadamardMultiTaskLasso,
                HadamardMultiTaskLassoCV):
        assert cls.path is hadamard_lasso_path
        assert HadamardLasso().path is hadamard_lasso_path
    assert HadamardGroupLasso.path is hadamard_group_lasso_path
    assert HadamardLqRegressor.path is hadamard_lq_path


# --------------------------------------------------------------------------------------
# 7. the path functions validate as the estimators do
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda X, y: hadamard_group_lasso_path(X, y[:-1], alphas=2), "inconsistent numbers"),
    (lambda X, y: hadamard_lq_path(X, y[:-1], alphas=2), "inconsistent numbers"),
    (lambda X, y: hadamard_lq_path(X, np.c_[y, y], alphas=2), "fits one target"),
    (lambda X, y: hadamard_group_lasso_path(X, y, alphas=2, sample_weight=np.ones(5)),
     r"sample_weight.shape"),
    (lambda X, y: hadamard_lq_path(X, y, alphas=2, sample_weight=np.ones(5)),
     r"sample_weight.shape"),
    (lambda X, y: hadamard_group_lasso_path(X, y, eps=0), "'eps' parameter must be > 0"),
    (lambda X, y: hadamard_lq_path(X, y, eps=0), "'eps' parameter must be > 0"),
    (lambda X, y: hadamard_lasso_path(X, y, eps=0), "'eps' parameter must be > 0"),
    (lambda X, y: hadamard_lasso_path(X, y[:-1]), "inconsistent numbers"),
])
def test_path_functions_validate_their_input(call, match):
    X, y, _ = small_problem()
    with pytest.raises(ValueError, match=match):
        call(X, y)


@pytest.mark.parametrize("path, multi", [
    (hadamard_lasso_path, False), (hadamard_lasso_path, True),
    (hadamard_group_lasso_path, False), (hadamard_group_lasso_path, True),
    (hadamard_lq_path, False),
])
def test_empty_alphas_give_an_empty_path(path, multi):
    X, y, Y = small_problem()
    alphas, coefs, certificates = path(X, Y if multi else y, alphas=[])
    ref_alphas, ref_coefs, ref_gaps = lasso_path(X, Y if multi else y, alphas=[])
    assert alphas.shape == np.shape(ref_alphas) == (0,)
    assert coefs.shape == np.shape(ref_coefs)
    assert certificates.shape == np.shape(ref_gaps) == (0,)


# --------------------------------------------------------------------------------------
# 8. groups: a ValueError that says what is wrong
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("groups, match", [
    (np.zeros(7, dtype=int), r"7 entries.*per-feature labels would need n_features=6"),
    ({0: [0, 1], 1: [2, 3, 4, 5]}, r"list of index lists.*got dict"),
    ([[0, 1], 2, 3], r"mixes index lists with scalars \(groups\[1\] = 2\)"),
    ({0, 1}, r"got set"),
    (2.0, r"an int \(a group size\)"),
])
def test_groups_errors_name_the_problem(groups, match):
    X, y, _ = small_problem()
    for model in (HadamardGroupLasso(groups=groups), HadamardLqRegressor(groups=groups)):
        with pytest.raises(ValueError, match=match):
            model.fit(X, y)


# --------------------------------------------------------------------------------------
# 9, 10. sklearn's parameter validation and metadata routing
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, multi", [
    (HadamardMultiTaskLassoCV(selection="foo"), True),
    (HadamardMultiTaskLasso(selection="foo"), True),
    (HadamardLassoCV(selection="foo"), False),
    (HadamardLasso(selection="foo"), False),
])
def test_selection_is_validated(model, multi):
    X, y, Y = small_problem()
    with pytest.raises(ValueError, match="'selection' parameter of .* must be a str among"):
        model.fit(X, Y if multi else y)


@pytest.mark.parametrize("alphas, err_type, err_msg", [
    ((1, -1, -100), ValueError, r"alphas\[1\] == -1, must be >= 0.0."),
    ((-0.1, -1.0, -10.0), ValueError, r"alphas\[0\] == -0.1, must be >= 0.0."),
    ((1, 1.0, "1"), TypeError, r"alphas\[2\] must be an instance of float, not str"),
    ((1.0, np.inf), ValueError, r"alphas\[1\] == inf, must be finite"),
    ((), ValueError, "empty array"),
])
@pytest.mark.parametrize("cv_class", [HadamardLassoCV, HadamardGroupLassoCV,
                                      HadamardLqRegressorCV])
def test_cv_alphas_validated_as_sklearn(cv_class, alphas, err_type, err_msg):
    X, y, _ = small_problem()
    with pytest.raises(err_type, match=err_msg):
        cv_class(alphas=alphas).fit(X, y)


@pytest.mark.parametrize("cv_class, multi", [(HadamardLassoCV, False),
                                             (HadamardGroupLassoCV, False),
                                             (HadamardMultiTaskLassoCV, True),
                                             (HadamardLqRegressorCV, False)])
def test_cv_fit_params_need_metadata_routing(cv_class, multi):
    X, y, Y = small_problem()
    target = Y if multi else y
    groups = np.arange(X.shape[0]) % 3
    with pytest.raises(ValueError, match="is only supported if enable_metadata_routing=True"):
        cv_class(alphas=3).fit(X, target, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cv_class(alphas=3, cv=GroupKFold(n_splits=3)).fit(X, target, groups=groups)
    assert routed.mse_path_.shape == (3, 3)


@pytest.mark.parametrize("precompute, inner_precompute", [(True, True), ("auto", False),
                                                          (False, False)])
def test_lassocv_passes_precompute_to_the_refit(monkeypatch, precompute, inner_precompute):
    # sklearn's test_lassoCV_does_not_set_precompute, on hadasparse's module
    X, y, _ = small_problem()
    calls = 0

    class LassoMock(HadamardLasso):
        def fit(self, X, y, sample_weight=None):
            super().fit(X, y, sample_weight=sample_weight)
            nonlocal calls
            calls += 1
            assert self.precompute == inner_precompute
            return self

    monkeypatch.setattr("hadasparse.linear_model._lasso_cv.HadamardLasso", LassoMock)
    HadamardLassoCV(precompute=precompute, alphas=3, cv=3).fit(X, y)
    assert calls > 0


def test_dual_gap_matches_sklearns_formulation():
    # sklearn's test_lasso_dual_gap, to an absolute tolerance at the rounding floor
    rng = np.random.RandomState(0)
    X = rng.randn(10, 30)
    w = rng.randn(30)
    w[10:] = 0
    y = X @ w
    n = len(y)
    alpha = 0.01 * np.max(np.abs(X.T @ y)) / n
    for tol in (1e-4, 1e-2, 1e-1):
        clf = HadamardLasso(alpha=alpha, fit_intercept=False, tol=tol).fit(X, y)
        R = y - X @ clf.coef_
        primal = 0.5 * np.mean(R**2) + alpha * np.sum(np.abs(clf.coef_))
        R /= np.max(np.abs(X.T @ R) / (n * alpha))
        dual = 0.5 * (np.mean(y**2) - np.mean((y - R) ** 2))
        assert clf.dual_gap_ >= 0
        assert clf.dual_gap_ <= tol * np.mean(y**2)
        # ours scales the residual by max(1, .) (sklearn: by the ratio itself); both are
        # valid dual points, equal at the solution
        assert abs(clf.dual_gap_ - (primal - dual)) <= 1e-14 * np.mean(y**2) + 1e-3 * (
            primal - dual)


def test_dual_gap_is_never_negative():
    for seed in range(6):
        X, y, Y = small_problem(seed)
        for model, target in ((HadamardGroupLasso(alpha=0.1, tol=0), y),
                              (HadamardMultiTaskLasso(alpha=0.1, tol=0), Y),
                              (HadamardLasso(alpha=0.1, tol=0), y),
                              (HadamardLasso(alpha=0.1, tol=0), Y)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, target)
            assert np.all(np.asarray(model.dual_gap_) >= 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _, _, gaps = hadamard_lasso_path(X, Y, alphas=4, tol=0)
        assert np.all(gaps >= 0)
