"""Tests for ``hadasparse.HadamardGroupLasso``.

The reference is a tight proximal-gradient solver written here (FISTA with block
soft-thresholding), plus skglm's and celer's GroupLasso when importable, plus independent
checks of optimality computed in this file (objective, group KKT, duality gap).

Objective (sklearn scaling, sample weights s rescaled to sum to n, groups g with weights w_g):

    P(beta, b0) = 1/(2n) sum_i s_i (y_i - x_i^T beta - b0)^2 + alpha sum_g w_g ||beta_g||_2
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from sklearn.utils.estimator_checks import parametrize_with_checks

from hadasparse import HadamardGroupLasso, group_lasso_alpha_max

TOL = 1e-10
OBJ_RTOL = 1e-8


# --------------------------------------------------------------------------------------
# Data and independent maths
# --------------------------------------------------------------------------------------


def grouped_design(n=120, p=60, size=5, k_active=3, rho=0.5, seed=0, intercept=1.5):
    """AR(1)-correlated columns, contiguous groups of ``size``, ``k_active`` true groups."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    beta = np.zeros(p)
    for g in rng.choice(p // size, k_active, replace=False):
        beta[g * size:(g + 1) * size] = rng.standard_normal(size)
    y = X @ beta + 0.5 * rng.standard_normal(n) + intercept
    return X, y


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def centred_weighted(X, y, sample_weight=None, fit_intercept=True):
    X = _dense(X)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight) * n / np.sum(
        sample_weight)
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=s)
        y_mean = np.average(y, weights=s)
    else:
        x_mean, y_mean = np.zeros(X.shape[1]), 0.0
    sq = np.sqrt(s)
    return sq[:, None] * (X - x_mean), sq * (y - y_mean), x_mean, y_mean


def group_list(p, size):
    return [np.arange(s, s + size) for s in range(0, p, size)]


def objective(X, y, coef, intercept, alpha, groups, weights, sample_weight=None):
    X = _dense(X)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight) * n / np.sum(
        sample_weight)
    r = y - X @ coef - intercept
    pen = sum(w * np.linalg.norm(coef[g]) for g, w in zip(groups, weights))
    return 0.5 * np.sum(s * r**2) / n + alpha * pen


def fista(A, b, alpha, groups, weights, n_iter=100_000, tol=1e-14, positive=False):
    """FISTA with block soft-thresholding on ``1/(2n)||b - A beta||^2 + alpha sum w_g ||.||``
    for contiguous groups listed in order (weight 0: no thresholding), with adaptive restart
    when the objective rises, stopped when an iterate no longer moves. With ``positive``
    (``beta >= 0``) the prox projects first: the prox of ``alpha w ||.|| + [. >= 0]`` is the
    block soft-thresholding of the positive part."""
    n, p = A.shape
    sizes = np.array([len(g) for g in groups])
    assert np.array_equal(np.concatenate(groups), np.arange(p)), "contiguous groups only"
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    w_rep = np.repeat(np.asarray(weights, dtype=float), sizes)
    H = A.T @ A / n
    c = A.T @ b / n
    L = np.linalg.eigvalsh(H)[-1]

    def norms(v):
        return np.sqrt(np.add.reduceat(v * v, starts))

    def prox(u):
        if positive:
            u = np.maximum(u, 0.0)
        nu = np.repeat(norms(u), sizes)
        thr = alpha * w_rep / L
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink = np.where(nu > thr, 1.0 - thr / nu, 0.0)
        return np.where(w_rep == 0, u, u * shrink)

    def F(v):
        return 0.5 * v @ H @ v - c @ v + alpha * (np.asarray(weights) @ norms(v))

    beta = np.zeros(p)
    z = beta.copy()
    t = 1.0
    f_old = F(beta)
    for _ in range(n_iter):
        new = prox(z - (H @ z - c) / L)
        f_new = F(new)
        if f_new > f_old:  # adaptive restart keeps it monotone ...
            if t == 1.0:  # ... and a plain proximal step that cannot decrease ends it
                break
            z, t = beta.copy(), 1.0
            continue
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = new + (t - 1) / t_new * (new - beta)
        done = np.max(np.abs(new - beta)) <= tol * max(1.0, np.max(np.abs(new)))
        beta, t, f_old = new, t_new, f_new
        if done:
            break
    return beta


def gap_and_scale(X, y, coef, alpha, groups, weights, sample_weight=None, fit_intercept=True):
    """Duality gap from coef alone (all groups penalised), and ||y_c||^2 / n."""
    A, b, _, _ = centred_weighted(X, y, sample_weight, fit_intercept)
    n = A.shape[0]
    r = b - A @ coef
    g = A.T @ r
    dual_norm = max(np.linalg.norm(g[idx]) / (n * w) for idx, w in zip(groups, weights))
    theta = r / max(1.0, dual_norm / alpha)
    pen = sum(w * np.linalg.norm(coef[idx]) for idx, w in zip(groups, weights))
    primal = r @ r / (2 * n) + alpha * pen
    dual = (b @ b - (b - theta) @ (b - theta)) / (2 * n)
    return primal - dual, b @ b / n


def assert_group_kkt(X, y, coef, alpha, groups, weights, sample_weight=None,
                     fit_intercept=True, rtol=1e-7):
    """grad_g = -alpha w_g beta_g/||beta_g|| on nonzero groups, ||grad_g|| <= alpha w_g on
    zero groups, grad_g = 0 on unpenalised groups, with grad = A^T(A beta - b)/n."""
    A, b, _, _ = centred_weighted(X, y, sample_weight, fit_intercept)
    n = A.shape[0]
    grad = A.T @ (A @ coef - b) / n
    n_active = 0
    for idx, w in zip(groups, weights):
        nb = np.linalg.norm(coef[idx])
        if w == 0:
            np.testing.assert_allclose(grad[idx], 0.0, atol=rtol * alpha)
        elif nb > 0:
            n_active += 1
            np.testing.assert_allclose(grad[idx], -alpha * w * coef[idx] / nb, rtol=0,
                                       atol=rtol * alpha * w)
        else:
            assert np.linalg.norm(grad[idx]) <= alpha * w * (1 + rtol)
    assert n_active > 0, "expected a non-trivial solution for this KKT check"


def assert_positive_group_kkt(X, y, coef, alpha, groups, weights, sample_weight=None,
                              fit_intercept=True, rtol=1e-7):
    """KKT of the positive group lasso (``beta >= 0``), ``grad = A^T(A beta - b)/n``: on a
    zero group ``||max(-grad_g, 0)|| <= alpha w_g``; in a nonzero group
    ``grad_j = -alpha w_g beta_j/||beta_g||`` where ``beta_j > 0`` and ``grad_j >= 0`` where
    ``beta_j = 0``. Returns the number of zero coordinates inside nonzero groups."""
    assert np.all(coef >= 0)
    A, b, _, _ = centred_weighted(X, y, sample_weight, fit_intercept)
    n = A.shape[0]
    grad = A.T @ (A @ coef - b) / n
    n_active = n_held = 0
    for idx, w in zip(groups, weights):
        idx = np.asarray(idx)
        nb = np.linalg.norm(coef[idx])
        if nb > 0:
            n_active += 1
            on = coef[idx] > 0
            np.testing.assert_allclose(grad[idx][on], -alpha * w * coef[idx][on] / nb, rtol=0,
                                       atol=rtol * alpha * w)
            assert np.all(grad[idx][~on] >= -rtol * alpha * w)
            n_held += int(np.sum(~on))
        else:
            assert np.linalg.norm(np.maximum(-grad[idx], 0.0)) <= alpha * w * (1 + rtol)
    assert n_active > 0, "expected a non-trivial solution for this KKT check"
    return n_held


def positive_gap_and_scale(X, y, coef, alpha, groups, weights, sample_weight=None,
                           fit_intercept=True):
    """Duality gap of the positive group lasso: the dual constraint is
    ``||max(A_g^T theta, 0)|| <= n alpha w_g``."""
    A, b, _, _ = centred_weighted(X, y, sample_weight, fit_intercept)
    n = A.shape[0]
    r = b - A @ coef
    g = A.T @ r
    dual_norm = max(np.linalg.norm(np.maximum(g[idx], 0.0)) / (n * w)
                    for idx, w in zip(groups, weights))
    theta = r / max(1.0, dual_norm / alpha)
    pen = sum(w * np.linalg.norm(coef[idx]) for idx, w in zip(groups, weights))
    primal = r @ r / (2 * n) + alpha * pen
    dual = (b @ b - (b - theta) @ (b - theta)) / (2 * n)
    return primal - dual, b @ b / n


def group_alpha_max_ref(X, y, groups, weights, fit_intercept=True):
    A, b, _, _ = centred_weighted(X, y, None, fit_intercept)
    return max(np.linalg.norm(A[:, idx].T @ b) / (A.shape[0] * w)
               for idx, w in zip(groups, weights))


def fit_tight(X, y, alpha, sample_weight=None, **kw):
    kw.setdefault("tol", TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return HadamardGroupLasso(alpha=alpha, **kw).fit(X, y, sample_weight=sample_weight)


def support(coef, groups):
    return np.array([np.any(coef[idx] != 0) for idx in groups])


# --------------------------------------------------------------------------------------
# 1. scikit-learn estimator checks (no expected failures)
# --------------------------------------------------------------------------------------


@parametrize_with_checks([HadamardGroupLasso(), HadamardGroupLasso(groups=1, alpha=0.1)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# 2. Equality with an independent proximal-gradient solve
# --------------------------------------------------------------------------------------

CASES = ["dense", "no-intercept", "weighted", "sparse", "custom-weights", "unpenalised"]


def _case(name, frac):
    X, y = grouped_design()
    p = X.shape[1]
    groups = group_list(p, 5)
    weights = np.sqrt(5.0) * np.ones(len(groups))
    kw = {"groups": 5}
    sw = None
    fit_intercept = True
    if name == "no-intercept":
        fit_intercept = False
        kw["fit_intercept"] = False
    elif name == "weighted":
        sw = np.random.RandomState(3).uniform(0.1, 3.0, X.shape[0])
    elif name == "sparse":
        X = X * (np.random.RandomState(4).uniform(size=X.shape) < 0.3)
        X = sp.csr_matrix(X)
    elif name == "custom-weights":
        weights = np.random.RandomState(5).uniform(0.5, 3.0, len(groups))
        kw["weights"] = weights
    elif name == "unpenalised":
        weights = weights.copy()
        weights[2] = 0.0
        kw["weights"] = weights
    A, b, _, _ = centred_weighted(X, y, sw, fit_intercept)
    pen = weights > 0
    # alpha_max with the unpenalised group fitted first
    if (~pen).any():
        idx = np.concatenate([groups[g] for g in np.flatnonzero(~pen)])
        b_u = b - A[:, idx] @ np.linalg.lstsq(A[:, idx], b, rcond=None)[0]
    else:
        b_u = b
    a_max = max(np.linalg.norm(A[:, groups[g]].T @ b_u) / (A.shape[0] * weights[g])
                for g in np.flatnonzero(pen))
    return X, y, sw, frac * a_max, groups, weights, kw, fit_intercept


@pytest.mark.parametrize("frac", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("name", CASES)
def test_matches_proximal_gradient(name, frac):
    X, y, sw, alpha, groups, weights, kw, fit_intercept = _case(name, frac)
    model = fit_tight(X, y, alpha, sample_weight=sw, **kw)
    A, b, x_mean, y_mean = centred_weighted(X, y, sw, fit_intercept)
    ref = fista(A, b, alpha, groups, weights)
    ref_b0 = y_mean - x_mean @ ref
    p_h = objective(X, y, model.coef_, model.intercept_, alpha, groups, weights, sw)
    p_r = objective(X, y, ref, ref_b0, alpha, groups, weights, sw)
    assert p_h <= p_r * (1 + OBJ_RTOL), (p_h, p_r)
    assert abs(p_h - p_r) <= OBJ_RTOL * abs(p_r)
    np.testing.assert_array_equal(support(model.coef_, groups), support(ref, groups))
    np.testing.assert_allclose(model.coef_, ref, atol=1e-6 * np.abs(ref).max())
    assert abs(model.intercept_ - (y_mean - x_mean @ model.coef_)) <= 1e-9 * np.abs(y).max()
    assert_group_kkt(X, y, model.coef_, alpha, groups, weights, sw, fit_intercept)
    # exact zeros for whole groups: a group is all zero or has no zero coordinate
    for idx in groups:
        c = model.coef_[idx]
        assert np.all(c == 0) or np.all(c != 0)


def test_matches_skglm_and_celer():
    """Same objective (to 1e-8 relative) and the same groups as skglm's and celer's
    GroupLasso (weights sqrt(5)) run at tight tolerance, when they are installed."""
    skglm, celer = _try_import("skglm"), _try_import("celer")
    if skglm is None and celer is None:
        pytest.skip("neither skglm nor celer is importable")
    for frac in (0.1, 0.01):
        X, y, _, alpha, groups, weights, _, _ = _case("dense", frac)
        model = fit_tight(X, y, alpha, groups=5)
        p_h = objective(X, y, model.coef_, model.intercept_, alpha, groups, weights)
        refs = []
        if skglm is not None:
            refs.append(skglm.GroupLasso(groups=5, alpha=alpha, weights=weights, tol=1e-12,
                                         max_iter=1000, max_epochs=100_000).fit(X, y))
        if celer is not None:
            refs.append(celer.GroupLasso(groups=5, alpha=alpha, weights=weights, tol=1e-12,
                                         max_iter=1000, max_epochs=100_000).fit(X, y))
        for ref in refs:
            p_r = objective(X, y, ref.coef_, ref.intercept_, alpha, groups, weights)
            assert abs(p_h - p_r) <= OBJ_RTOL * p_r, (type(ref), p_h, p_r)
            np.testing.assert_array_equal(support(model.coef_, groups),
                                          support(ref.coef_, groups))


def test_matches_skglm_medium():
    """A medium problem (n=300, p=600 in groups of 5, 8 true groups): same objective (1e-8
    relative) and the same groups as skglm's GroupLasso at alpha_max/10 and alpha_max/100."""
    skglm = _try_import("skglm")
    if skglm is None:
        pytest.skip("skglm is not importable")
    X, y = grouped_design(n=300, p=600, k_active=8, seed=17)
    groups = group_list(600, 5)
    weights = np.sqrt(5.0) * np.ones(len(groups))
    a_max = group_alpha_max_ref(X, y, groups, weights)
    for div in (10, 100):
        alpha = a_max / div
        model = fit_tight(X, y, alpha, groups=5)
        ref = skglm.GroupLasso(groups=5, alpha=alpha, weights=weights, tol=1e-12,
                               max_iter=1000, max_epochs=100_000).fit(X, y)
        p_h = objective(X, y, model.coef_, model.intercept_, alpha, groups, weights)
        p_r = objective(X, y, ref.coef_, ref.intercept_, alpha, groups, weights)
        assert abs(p_h - p_r) <= OBJ_RTOL * p_r, (div, p_h, p_r)
        np.testing.assert_array_equal(support(model.coef_, groups), support(ref.coef_, groups))
        assert_group_kkt(X, y, model.coef_, alpha, groups, weights)


def _try_import(name):
    try:
        return __import__(name)
    except ImportError:
        return None


def test_singleton_groups_are_the_lasso():
    X, y = grouped_design(seed=7)
    alpha = 0.05
    model = fit_tight(X, y, alpha, groups=None)
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-7 * np.abs(ref.coef_).max())
    np.testing.assert_array_equal(model.coef_ != 0, ref.coef_ != 0)


# --------------------------------------------------------------------------------------
# 3. Certificate, alpha_max, groups forms
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6, 1e-8])
@pytest.mark.parametrize("name", ["dense", "weighted", "sparse"])
def test_dual_gap_certifies_tol(name, tol):
    X, y, sw, alpha, groups, weights, kw, fit_intercept = _case(name, 0.05)
    model = HadamardGroupLasso(alpha=alpha, tol=tol, **kw).fit(X, y, sample_weight=sw)
    gap, scale = gap_and_scale(X, y, model.coef_, alpha, groups, weights, sw, fit_intercept)
    assert gap <= tol * scale * (1 + 1e-6) + 1e-14
    assert model.dual_gap_ <= tol * scale
    assert model.dual_gap_ == pytest.approx(gap, rel=1e-6, abs=1e-12 * scale)
    assert model.n_iter_ >= 1


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_max(fit_intercept):
    X, y = grouped_design(seed=2)
    groups = group_list(X.shape[1], 5)
    weights = np.sqrt(5.0) * np.ones(len(groups))
    a_max = group_alpha_max(X, y, groups, weights, fit_intercept)
    a_ref = group_lasso_alpha_max(X, y, groups=5, fit_intercept=fit_intercept)
    assert a_ref == pytest.approx(a_max, rel=1e-12)
    above = HadamardGroupLasso(alpha=a_max * (1 + 1e-8), groups=5,
                               fit_intercept=fit_intercept).fit(X, y)
    assert np.all(above.coef_ == 0)
    below = HadamardGroupLasso(alpha=a_max * 0.99, groups=5, fit_intercept=fit_intercept,
                               tol=1e-10).fit(X, y)
    assert support(below.coef_, groups).sum() == 1


def group_alpha_max(X, y, groups, weights, fit_intercept=True):
    return group_alpha_max_ref(X, y, groups, weights, fit_intercept)


def test_alpha_max_with_unpenalised_features():
    X, y = grouped_design(seed=3)
    labels = np.repeat(np.arange(12), 5)
    labels[:5] = -1
    a_max = group_lasso_alpha_max(X, y, groups=labels)
    model = fit_tight(X, y, a_max * (1 + 1e-8), groups=labels)
    assert np.all(model.coef_[5:] == 0) and np.all(model.coef_[:5] != 0)
    model = fit_tight(X, y, a_max * 0.99, groups=labels)
    assert np.any(model.coef_[5:] != 0)


def test_every_groups_form_gives_the_same_fit():
    X, y = grouped_design(seed=4)
    p = X.shape[1]
    alpha = 0.03
    ref = fit_tight(X, y, alpha, groups=5)
    forms = [
        [5] * (p // 5),
        group_list(p, 5),
        [list(g) for g in group_list(p, 5)],
        np.repeat(np.arange(p // 5), 5),
        np.repeat(np.arange(p // 5), 5) * 10 + 3,  # any labels, ordered by value
    ]
    for groups in forms:
        model = fit_tight(X, y, alpha, groups=groups)
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0,
                                   atol=1e-9 * np.abs(ref.coef_).max())
        np.testing.assert_array_equal(model.coef_ != 0, ref.coef_ != 0)


def test_non_contiguous_groups_are_a_permutation():
    X, y = grouped_design(seed=5)
    p = X.shape[1]
    perm = np.random.RandomState(0).permutation(p)
    alpha = 0.03
    ref = fit_tight(X, y, alpha, groups=5)
    # the same groups on permuted columns, as index lists and as labels
    inv = np.argsort(perm)
    Xp = X[:, perm]
    lists = [inv[g] for g in group_list(p, 5)]
    labels = np.empty(p, dtype=int)
    for i, g in enumerate(lists):
        labels[g] = i
    for groups in (lists, labels):
        model = fit_tight(Xp, y, alpha, groups=groups)
        np.testing.assert_allclose(model.coef_, ref.coef_[perm], rtol=0,
                                   atol=1e-9 * np.abs(ref.coef_).max())


@pytest.mark.parametrize(
    "groups, match",
    [
        ([[0, 1], [], list(range(2, 60))], "empty"),
        ([[0, 1], list(range(2, 61))], "out of range"),
        ([[0, 1], [-1, 2]], "out of range"),
        ([[0, 1], list(range(2, 59))], "in no group"),
        ([[0, 1.5], list(range(2, 60))], "integers"),
        ([2.5] * 24, "integers"),
        (7, "does not divide"),
        (0, "at least 1"),
        ([5] * 11, "sum to"),
        ([5] * 11 + [0, 5], "sizes must be >= 1"),
        (np.full(60, -2), "labels"),
        ("abc", "groups"),
        ([[0, 0, 1], list(range(2, 60))], "more than once"),
        (np.zeros((6, 10), dtype=int), "one-dimensional"),
    ],
)
def test_bad_groups_raise(groups, match):
    X, y = grouped_design()
    with pytest.raises(ValueError, match=match):
        HadamardGroupLasso(groups=groups).fit(X, y)


@pytest.mark.parametrize("weights, match", [([1.0] * 5, "one entry per group"),
                                            ([-1.0] + [1.0] * 11, "non-negative"),
                                            ([np.nan] + [1.0] * 11, "finite")])
def test_bad_weights_raise(weights, match):
    X, y = grouped_design()
    with pytest.raises(ValueError, match=match):
        HadamardGroupLasso(groups=5, weights=weights).fit(X, y)


def positive_alpha_max(A, b, groups, weights):
    return max(np.linalg.norm(np.maximum(A[:, idx].T @ b, 0.0)) / (A.shape[0] * w)
               for idx, w in zip(groups, weights))


@pytest.mark.parametrize("frac", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("name", ["dense", "no-intercept", "weighted", "sparse",
                                  "custom-weights"])
def test_positive_matches_projected_proximal_gradient(name, frac):
    """positive=True against FISTA with projected block soft-thresholding: same objective,
    same groups, same coefficients, the positive KKT conditions, exact zeros (whole groups
    and single coordinates held at 0 inside nonzero groups)."""
    X, y, sw, _, groups, weights, kw, fit_intercept = _case(name, frac)
    A, b, x_mean, y_mean = centred_weighted(X, y, sw, fit_intercept)
    alpha = frac * positive_alpha_max(A, b, groups, weights)
    model = fit_tight(X, y, alpha, sample_weight=sw, positive=True, **kw)
    ref = fista(A, b, alpha, groups, weights, positive=True)
    p_h = objective(X, y, model.coef_, model.intercept_, alpha, groups, weights, sw)
    p_r = objective(X, y, ref, y_mean - x_mean @ ref, alpha, groups, weights, sw)
    assert p_h <= p_r * (1 + OBJ_RTOL), (p_h, p_r)
    assert abs(p_h - p_r) <= OBJ_RTOL * abs(p_r)
    np.testing.assert_array_equal(support(model.coef_, groups), support(ref, groups))
    np.testing.assert_allclose(model.coef_, ref, atol=1e-6 * np.abs(ref).max())
    # the zero coordinates are those of the reference (which are exact: projection)
    scale = np.abs(ref).max()
    assert np.all(ref[model.coef_ == 0] <= 1e-6 * scale)
    assert np.all(model.coef_[ref == 0] <= 1e-6 * scale)
    n_held = assert_positive_group_kkt(X, y, model.coef_, alpha, groups, weights, sw,
                                       fit_intercept)
    if frac < 0.5:
        assert n_held > 0  # the constraint is active inside some nonzero group
    gap, gap_scale = positive_gap_and_scale(X, y, model.coef_, alpha, groups, weights, sw,
                                            fit_intercept)
    assert gap <= TOL * gap_scale * (1 + 1e-6) + 1e-14
    assert model.dual_gap_ == pytest.approx(gap, rel=1e-6, abs=1e-12 * gap_scale)


def test_positive_matches_skglm():
    """Same objective (1e-8 relative) and groups as skglm's GroupLasso(positive=True)."""
    skglm = _try_import("skglm")
    if skglm is None:
        pytest.skip("skglm is not importable")
    X, y = grouped_design(n=150, p=80, k_active=5, seed=14)
    groups = group_list(80, 5)
    weights = np.sqrt(5.0) * np.ones(len(groups))
    A, b, _, _ = centred_weighted(X, y)
    for frac in (0.1, 0.01):
        alpha = frac * positive_alpha_max(A, b, groups, weights)
        model = fit_tight(X, y, alpha, groups=5, positive=True)
        ref = skglm.GroupLasso(groups=5, alpha=alpha, weights=weights, positive=True,
                               tol=1e-12, max_iter=1000, max_epochs=100_000).fit(X, y)
        p_h = objective(X, y, model.coef_, model.intercept_, alpha, groups, weights)
        p_r = objective(X, y, ref.coef_, ref.intercept_, alpha, groups, weights)
        assert abs(p_h - p_r) <= OBJ_RTOL * p_r, (p_h, p_r)
        np.testing.assert_array_equal(support(model.coef_, groups), support(ref.coef_, groups))


def test_positive_above_alpha_max_is_zero():
    X, y = grouped_design(seed=15)
    groups = group_list(X.shape[1], 5)
    weights = np.sqrt(5.0) * np.ones(len(groups))
    A, b, _, _ = centred_weighted(X, y)
    a_max = positive_alpha_max(A, b, groups, weights)
    # the positive threshold is below the signed one: positive parts only
    assert a_max < group_alpha_max_ref(X, y, groups, weights)
    assert group_lasso_alpha_max(X, y, groups=5, positive=True) == pytest.approx(a_max,
                                                                                 rel=1e-12)
    model = HadamardGroupLasso(alpha=a_max * (1 + 1e-8), groups=5, positive=True).fit(X, y)
    assert np.all(model.coef_ == 0)
    model = fit_tight(X, y, a_max * 0.99, groups=5, positive=True)
    assert support(model.coef_, groups).sum() == 1


def test_positive_overlapping_groups_and_warm_start():
    X, y = grouped_design(p=40, seed=16)
    groups = [list(range(0, 8)), list(range(5, 15)), list(range(15, 40)), [3, 30, 31]]
    model = fit_tight(X, y, 0.02, groups=groups, positive=True, warm_start=True)
    assert np.all(model.coef_ >= 0) and np.any(model.coef_ > 0)
    first = model.coef_.copy()
    model.fit(X, y)
    np.testing.assert_allclose(model.coef_, first, atol=1e-9 * np.abs(first).max())
    assert model.n_iter_ == 1


@pytest.mark.parametrize("kw", [{"groups": [0] * 30 + [-1] * 30},
                                {"groups": 5, "weights": [0.0] + [1.0] * 11}])
def test_positive_with_unpenalised_features_raises(kw):
    X, y = grouped_design()
    with pytest.raises(ValueError, match="positive=True needs every feature"):
        HadamardGroupLasso(positive=True, **kw).fit(X, y)


# --------------------------------------------------------------------------------------
# 4. Overlapping groups (latent group lasso), sparse input, weights, warm start
# --------------------------------------------------------------------------------------


def test_overlapping_groups_are_the_latent_group_lasso():
    X, y = grouped_design(p=40, seed=6)
    groups = [list(range(0, 8)), list(range(5, 15)), list(range(12, 25)), list(range(25, 40)),
              [3, 30, 31]]
    alpha = 0.05
    model = fit_tight(X, y, alpha, groups=groups)
    # the same model written out: duplicated columns, contiguous groups
    cols = np.concatenate(groups)
    sizes = [len(g) for g in groups]
    weights = np.sqrt(sizes)
    dup = fit_tight(X[:, cols], y, alpha, groups=sizes)
    np.testing.assert_allclose(model.coef_, np.bincount(cols, dup.coef_, minlength=40),
                               atol=1e-9 * np.abs(dup.coef_).max())
    # and it is optimal for the duplicated problem (latent KKT)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    dgroups = [np.arange(bounds[i], bounds[i + 1]) for i in range(len(groups))]
    assert_group_kkt(X[:, cols], y, dup.coef_, alpha, dgroups, weights)
    assert model.intercept_ == pytest.approx(dup.intercept_, rel=1e-9)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense(fmt, fit_intercept):
    X, y = grouped_design(seed=8)
    X = X * (np.random.RandomState(1).uniform(size=X.shape) < 0.3)
    alpha = 0.02
    dense = fit_tight(X, y, alpha, groups=5, fit_intercept=fit_intercept)
    spm = fit_tight(sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X), y, alpha,
                    groups=5, fit_intercept=fit_intercept)
    np.testing.assert_allclose(spm.coef_, dense.coef_, atol=1e-9 * np.abs(dense.coef_).max())
    assert spm.intercept_ == pytest.approx(dense.intercept_, rel=1e-9, abs=1e-12)


def test_integer_sample_weight_is_row_repetition():
    X, y = grouped_design(seed=9)
    sw = np.random.RandomState(0).randint(0, 4, X.shape[0])
    alpha = 0.03
    weighted = fit_tight(X, y, alpha, sample_weight=sw, groups=5)
    rep = np.repeat(np.arange(X.shape[0]), sw)
    repeated = fit_tight(X[rep], y[rep], alpha, groups=5)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_,
                               atol=1e-8 * np.abs(repeated.coef_).max())


def test_warm_start_reuses_solution():
    X, y = grouped_design(seed=10)
    model = HadamardGroupLasso(alpha=0.02, groups=5, tol=1e-10, warm_start=True).fit(X, y)
    first = model.coef_.copy()
    model.fit(X, y)
    np.testing.assert_allclose(model.coef_, first, atol=1e-9 * np.abs(first).max())
    assert model.n_iter_ == 1  # the warm start is certified at once


def test_convergence_warning_when_max_iter_reached():
    X, y = grouped_design(seed=11)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        HadamardGroupLasso(alpha=0.005, groups=5, tol=1e-14, max_iter=1).fit(X, y)


def test_float32_keeps_dtype_and_solution():
    X, y = grouped_design(seed=12)
    m64 = fit_tight(X, y, 0.02, groups=5)
    m32 = HadamardGroupLasso(alpha=0.02, groups=5, tol=1e-10).fit(X.astype(np.float32), y)
    assert m32.coef_.dtype == np.float32
    np.testing.assert_allclose(m32.coef_, m64.coef_, atol=1e-4 * np.abs(m64.coef_).max())


def test_inputs_not_modified():
    X, y = grouped_design(seed=13)
    X0, y0 = X.copy(), y.copy()
    HadamardGroupLasso(alpha=0.02, groups=[[0, 1, 2], list(range(3, 60)), [1, 5]]).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("name", ["dense", "sparse", "unpenalised", "weighted"])
def test_conjugate_gradient_newton_polish(name, monkeypatch):
    """Large active sets solve the Newton system by preconditioned conjugate gradients:
    force that path on small problems and check the solution against the reference."""
    from hadasparse.solvers import _working_set as _solver

    monkeypatch.setattr(_solver, "_DENSE_NEWTON_MAX", 0)
    X, y, sw, alpha, groups, weights, kw, fit_intercept = _case(name, 0.01)
    model = fit_tight(X, y, alpha, sample_weight=sw, **kw)
    A, b, x_mean, y_mean = centred_weighted(X, y, sw, fit_intercept)
    ref = fista(A, b, alpha, groups, weights)
    p_h = objective(X, y, model.coef_, model.intercept_, alpha, groups, weights, sw)
    p_r = objective(X, y, ref, y_mean - x_mean @ ref, alpha, groups, weights, sw)
    assert abs(p_h - p_r) <= OBJ_RTOL * abs(p_r)
    np.testing.assert_array_equal(support(model.coef_, groups), support(ref, groups))
    assert_group_kkt(X, y, model.coef_, alpha, groups, weights, sw, fit_intercept)
