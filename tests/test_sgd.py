"""Tests for ``HadamardSGDRegressor`` and ``HadamardSGDClassifier``.

References: the certified batch solvers of the same objectives (``HadamardLasso``,
``HadamardGroupLasso``, sklearn's ``ElasticNet`` and ``LogisticRegression`` with an l1
penalty at ``C = 1 / (n alpha)``), reached by streaming 1000-row batches for a few epochs.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import (HadamardGroupLasso, HadamardLasso, HadamardLqRegressor,
                        HadamardSGDClassifier, HadamardSGDRegressor)
from hadasparse.penalties._prox import lq_prox_array

# Minibatch SGD with shuffling does not see a sample of weight 2 as two copies of it (the
# minibatches differ), as for sklearn's own SGD estimators, which list the same checks.
_SW_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data":
        "a weight of 2 and a duplicated row give different minibatches",
    "check_sample_weight_equivalence_on_sparse_data":
        "a weight of 2 and a duplicated row give different minibatches",
}


@parametrize_with_checks([HadamardSGDRegressor(), HadamardSGDClassifier()],
                         expected_failed_checks=lambda est: _SW_EQUIVALENCE)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# Data and helpers
# --------------------------------------------------------------------------------------


def regression(n=20000, p=50, k=5, rho=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * X[:, j]
    coef = np.zeros(p)
    support = rng.choice(p, k, replace=False)
    coef[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k)
    y = X @ coef + rng.standard_normal(n) + 2.0
    return X, y


def classification(n_classes=2, n=20000, p=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((n_classes, p))
    for c in range(n_classes):
        W[c, rng.choice(p, 3, replace=False)] = rng.choice([-1.0, 1.0], 3) * rng.uniform(1, 2, 3)
    Z = X @ W.T
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    return X, y


def stream(est, X, y, epochs=5, block=1000, **kw):
    for _ in range(epochs):
        for s in range(0, X.shape[0], block):
            est.partial_fit(X[s:s + block], y[s:s + block], **kw)
    return est


def rel_dist(a, b):
    return np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b))


def lasso_objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return 0.5 * r @ r / X.shape[0] + alpha * np.abs(coef).sum()


# --------------------------------------------------------------------------------------
# The batch solution, reached by streaming
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_partial_fit_reaches_the_lasso(rho):
    """Five epochs of 1000-row partial_fit calls: the certified lasso's support, exact
    zeros, relative distance <= 0.01, objective within 1e-4 relative."""
    X, y = regression(rho=rho)
    alpha = 0.05
    ref = HadamardLasso(alpha=alpha, tol=1e-10).fit(X, y)
    est = stream(HadamardSGDRegressor(alpha=alpha, random_state=0), X, y)
    assert np.array_equal(est.coef_ != 0, ref.coef_ != 0)
    assert rel_dist(est.coef_, ref.coef_) <= 0.01
    assert abs(est.intercept_[0] - ref.intercept_) <= 0.01 * abs(ref.intercept_)
    p_est = lasso_objective(X, y, est.coef_, est.intercept_[0], alpha)
    p_ref = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    assert p_ref <= p_est <= p_ref * (1 + 1e-4)


def test_fit_equals_partial_fit_over_batches():
    """fit on the concatenation and partial_fit over its batches reach the same solution
    (both within 0.01 of the lasso, so within 0.02 of each other)."""
    X, y = regression(seed=1)
    alpha = 0.05
    ref = HadamardLasso(alpha=alpha, tol=1e-10).fit(X, y).coef_
    batch = HadamardSGDRegressor(alpha=alpha, random_state=0, tol=None, max_iter=5).fit(X, y)
    streamed = stream(HadamardSGDRegressor(alpha=alpha, random_state=1), X, y)
    assert batch.n_iter_ == 5
    for est in (batch, streamed):
        assert np.array_equal(est.coef_ != 0, ref != 0)
        assert rel_dist(est.coef_, ref) <= 0.01
    assert rel_dist(batch.coef_, streamed.coef_) <= 0.02


def test_exact_zeros_after_every_partial_fit():
    X, y = regression(n=5000, p=30, seed=2)
    est = HadamardSGDRegressor(alpha=0.1, random_state=0)
    ref = HadamardLasso(alpha=0.1, tol=1e-10).fit(X, y).coef_
    for _ in range(3):
        for s in range(0, 5000, 500):
            est.partial_fit(X[s:s + 500], y[s:s + 500])
            assert np.count_nonzero(est.coef_) < X.shape[1]
    assert np.array_equal(est.coef_ != 0, ref != 0)


def test_sparse_batches_match_dense():
    """CSR batches run the same arithmetic as dense ones (same seed, same minibatches)."""
    X, y = regression(n=4000, p=30, seed=3)
    X[np.abs(X) < 0.8] = 0.0
    dense = stream(HadamardSGDRegressor(alpha=0.05, random_state=0), X, y, epochs=2)
    sparse_ = stream(HadamardSGDRegressor(alpha=0.05, random_state=0), sp.csr_matrix(X), y,
                     epochs=2)
    np.testing.assert_allclose(sparse_.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sparse_.predict(sp.csr_matrix(X[:5])), dense.predict(X[:5]),
                               rtol=1e-8)


def test_target_units_do_not_matter():
    """The target is scaled internally: y * 1000 gives coef_ * 1000 (the penalty scales
    with it: alpha * 1000)."""
    X, y = regression(n=5000, p=20, seed=4)
    a = stream(HadamardSGDRegressor(alpha=0.05, random_state=0), X, y, epochs=2)
    b = stream(HadamardSGDRegressor(alpha=50.0, random_state=0), X, 1000 * y, epochs=2)
    np.testing.assert_allclose(b.coef_, 1000 * a.coef_, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------------------
# Other penalties
# --------------------------------------------------------------------------------------


def test_elasticnet_matches_sklearn():
    """sklearn's ElasticNet minimises the same objective (l1_ratio as in SGDRegressor)."""
    X, y = regression(seed=5)
    alpha, l1_ratio = 0.1, 0.5
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=10000).fit(X, y)
    est = stream(HadamardSGDRegressor(alpha=alpha, penalty="elasticnet", l1_ratio=l1_ratio,
                                      random_state=0), X, y)
    assert np.array_equal(est.coef_ != 0, ref.coef_ != 0)
    assert rel_dist(est.coef_, ref.coef_) <= 0.01


def test_group_penalty_selects_whole_groups():
    X, y = regression(seed=6)
    alpha = 0.1
    ref = HadamardGroupLasso(alpha=alpha, groups=5, tol=1e-10).fit(X, y).coef_
    est = stream(HadamardSGDRegressor(alpha=alpha, penalty="group", groups=5,
                                      random_state=0), X, y)
    active = np.abs(est.coef_).reshape(-1, 5).sum(axis=1) > 0
    assert np.array_equal(active, np.abs(ref).reshape(-1, 5).sum(axis=1) > 0)
    assert np.all(est.coef_.reshape(-1, 5)[active] != 0)
    assert rel_dist(est.coef_, ref) <= 0.01


def test_lq_penalty_matches_the_lq_solver():
    """q = 1/2 (four factors, where zero is a local minimum of the surrogate, so the start
    is a gradient step from zero): support inside the lasso's at the same alpha, the
    solution of HadamardLqRegressor, and a stationary point (the proximal-gradient step of
    the lq problem leaves it in place)."""
    X, y = regression(seed=7)
    alpha = 0.2
    ref = HadamardLqRegressor(alpha=alpha, q=0.5).fit(X, y).coef_
    l1 = stream(HadamardSGDRegressor(alpha=alpha, random_state=0), X, y)
    lq = stream(HadamardSGDRegressor(alpha=alpha, penalty="lq", q=0.5, random_state=0), X, y)
    assert np.count_nonzero(lq.coef_) <= np.count_nonzero(l1.coef_)
    assert np.all(l1.coef_[lq.coef_ != 0] != 0)
    assert np.array_equal(lq.coef_ != 0, ref != 0)
    assert rel_dist(lq.coef_, ref) <= 0.01
    n = X.shape[0]
    r = y - X @ lq.coef_ - lq.intercept_[0]
    g = -X.T @ r / n
    step = 1.0 / np.max((X ** 2).mean(axis=0))
    moved = lq_prox_array(lq.coef_ - step * g, np.full(X.shape[1], step * alpha), 0.5)
    assert np.array_equal(moved != 0, lq.coef_ != 0)
    assert rel_dist(moved, lq.coef_) <= 0.01


# --------------------------------------------------------------------------------------
# Classifier
# --------------------------------------------------------------------------------------


def logistic_reference(X, y, alpha):
    n = X.shape[0]
    return LogisticRegression(C=1.0 / (n * alpha), l1_ratio=1.0, solver="saga", tol=1e-10,
                              max_iter=10000, random_state=0).fit(X, y)


def test_binary_classifier_matches_l1_logistic_regression():
    X, y = classification(2)
    alpha = 0.01
    ref = logistic_reference(X, y, alpha)
    est = stream(HadamardSGDClassifier(alpha=alpha, random_state=0), X, y, classes=[0, 1])
    assert est.coef_.shape == (1, X.shape[1])
    assert np.array_equal(est.coef_ != 0, ref.coef_ != 0)
    assert rel_dist(est.coef_, ref.coef_) <= 0.01
    np.testing.assert_allclose(est.predict_proba(X[:50]), ref.predict_proba(X[:50]),
                               atol=0.01)


def test_multinomial_classifier_matches_l1_logistic_regression():
    """Softmax over 3 classes. The loss is flat along adding a vector to every class row,
    so a coefficient the ℓ1 term barely keeps (|w| ~ 1e-3) is slow to settle: the support
    is compared on the reference's coefficients above 0.01."""
    X, y = classification(3)
    alpha = 0.01
    ref = logistic_reference(X, y, alpha)
    est = stream(HadamardSGDClassifier(alpha=alpha, random_state=0), X, y, epochs=10,
                 classes=[0, 1, 2])
    assert est.coef_.shape == (3, X.shape[1])
    big = np.abs(ref.coef_) > 0.01
    assert np.all(est.coef_[big] != 0)
    assert np.count_nonzero(est.coef_[~big]) <= 2
    assert rel_dist(est.coef_, ref.coef_) <= 0.02
    np.testing.assert_allclose(est.predict_proba(X[:50]), ref.predict_proba(X[:50]),
                               atol=0.02)


def test_classes_handling_like_sgdclassifier():
    X, y = classification(3, n=600)
    labels = np.array(["a", "b", "c"])[y]
    clf = HadamardSGDClassifier(alpha=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, labels)
    # the first batch holds two of the classes: the third is known from `classes`
    first = labels != "c"
    clf.partial_fit(X[first], labels[first], classes=["c", "a", "b"])
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    assert clf.predict_proba(X[:4]).shape == (4, 3)
    clf.partial_fit(X, labels)  # later calls may omit classes
    clf.partial_fit(X, labels, classes=["a", "b", "c"])  # or repeat them
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(X, labels, classes=["a", "b"])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:3], np.array(["a", "b", "z"]))
    assert set(clf.predict(X)) <= {"a", "b", "c"}
    # like SGDClassifier, fit learns the classes from y and resets them
    clf.fit(X[first], labels[first])
    np.testing.assert_array_equal(clf.classes_, ["a", "b"])
    assert clf.coef_.shape == (1, X.shape[1])
    with pytest.raises(ValueError, match="greater than one"):
        HadamardSGDClassifier().partial_fit(X, labels, classes=["a"])


# --------------------------------------------------------------------------------------
# Parameters, warnings, state
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, match", [
    ({"eta0": 0.0}, "eta0"),
    ({"penalty": "l2"}, "penalty"),
    ({"penalty": "lq", "q": 0.3}, "q must be 2/k"),
    ({"learning_rate": "optimal"}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"average": -1}, "average"),
    ({"alpha": -1.0}, "alpha"),
    ({"penalty": "group", "groups": 7}, "does not divide"),
    ({"penalty": "group", "groups": [[0, 1, 2], [2, 3, 4, 5]]}, "Overlapping"),
])
def test_bad_parameters_raise(params, match):
    X, y = regression(n=50, p=6)
    with pytest.raises(ValueError, match=match):
        HadamardSGDRegressor(**params).fit(X, y)
    with pytest.raises(ValueError, match=match):
        HadamardSGDRegressor(**params).partial_fit(X, y)


def test_partial_fit_rejects_a_different_number_of_features():
    X, y = regression(n=100, p=6)
    est = HadamardSGDRegressor().partial_fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :5], y)


def test_convergence_warning_when_max_iter_ends_before_tol():
    X, y = regression(n=500, p=10)
    with pytest.warns(ConvergenceWarning, match="Maximum number of epochs"):
        HadamardSGDRegressor(alpha=0.05, max_iter=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        HadamardSGDRegressor(alpha=0.05, max_iter=2, tol=None, random_state=0).fit(X, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_a_clear_error():
    X, y = regression(n=500, p=10)
    with pytest.raises(ValueError, match="diverged"):
        HadamardSGDRegressor(learning_rate="constant", eta0=1e3, random_state=0).fit(X, y)


def test_state_persists_and_fit_resets_it():
    X, y = regression(n=2000, p=10)
    est = HadamardSGDRegressor(alpha=0.05, random_state=0)
    est.partial_fit(X[:1000], y[:1000])
    t1 = est.t_
    est.partial_fit(X[1000:], y[1000:])
    assert est.t_ == 2 * t1 and est.n_iter_ == 2
    est.fit(X, y)
    assert est.n_iter_ >= 1 and est.t_ == est.n_iter_ * t1 * 2
    again = HadamardSGDRegressor(alpha=0.05, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.coef_, again.coef_)


def test_warm_start_continues_from_the_factors():
    X, y = regression(n=4000, p=20, seed=8)
    ref = HadamardLasso(alpha=0.05, tol=1e-10).fit(X, y).coef_
    est = HadamardSGDRegressor(alpha=0.05, warm_start=True, tol=None, max_iter=1,
                               random_state=0)
    first = rel_dist(est.fit(X, y).coef_, ref)
    for _ in range(4):
        est.fit(X, y)
    assert rel_dist(est.coef_, ref) < first


@pytest.mark.parametrize("learning_rate, eta0, tol", [
    ("adagrad", 0.3, 0.01),
    # plain SGD moves beta_j at a speed proportional to |beta_j| (the factors' product
    # rule): slower, same support
    ("constant", 0.05, 0.1),
    ("invscaling", 0.2, 0.1),
])
def test_other_learning_rates_reach_the_lasso(learning_rate, eta0, tol):
    X, y = regression(seed=9)
    ref = HadamardLasso(alpha=0.05, tol=1e-10).fit(X, y).coef_
    est = stream(HadamardSGDRegressor(alpha=0.05, learning_rate=learning_rate, eta0=eta0,
                                      random_state=0), X, y)
    assert np.array_equal(est.coef_ != 0, ref != 0)
    assert rel_dist(est.coef_, ref) <= tol


def test_average_after_a_number_of_samples():
    """average=int: the snapped point is the plain mean of the iterates after that many
    samples (sklearn's ASGD); after two epochs of five it is as close as the default."""
    X, y = regression(seed=10)
    ref = HadamardLasso(alpha=0.05, tol=1e-10).fit(X, y).coef_
    est = stream(HadamardSGDRegressor(alpha=0.05, average=2 * X.shape[0], random_state=0),
                 X, y)
    assert np.array_equal(est.coef_ != 0, ref != 0)
    assert rel_dist(est.coef_, ref) <= 0.01


def test_verbose_prints_progress(capsys):
    X, y = regression(n=500, p=10)
    HadamardSGDRegressor(verbose=1, max_iter=2, tol=None).fit(X, y)
    HadamardSGDRegressor(verbose=1).partial_fit(X, y)
    out = capsys.readouterr().out
    assert "-- Epoch 2" in out and "nonzeros" in out and "-- partial_fit 1" in out


def test_auto_power_t():
    X, y = classification(3, n=300)
    assert HadamardSGDRegressor().partial_fit(X, y)._state["optimiser"].power_t == 0.25
    binary = HadamardSGDClassifier().partial_fit(X, y > 0, classes=[False, True])
    assert binary._state["optimiser"].power_t == 0.5
    multi = HadamardSGDClassifier().partial_fit(X, y, classes=[0, 1, 2])
    assert multi._state["optimiser"].power_t == 0.25
    assert HadamardSGDRegressor(power_t=0.7).partial_fit(X, y)._state["optimiser"].power_t == 0.7


def test_a_feature_never_seen_nonzero_gets_no_coefficient():
    X, y = regression(n=3000, p=10, seed=11)
    X[:, 3] = 0.0
    est = stream(HadamardSGDRegressor(alpha=1e-4, random_state=0), X, y, epochs=2)
    assert est.coef_[3] == 0.0
    assert np.count_nonzero(est.coef_) >= 5
