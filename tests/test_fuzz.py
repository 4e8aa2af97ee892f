"""Seeded fuzzing of every estimator over random small inputs (issue 12).

For finite inputs of any shape, scale and structure (constant, zero and duplicated columns,
tiny and huge magnitudes, integer, float32 and sparse X, constant y, zero sample weights,
alpha from 0 to far above alpha_max, tol = 0), a fit either raises a ValueError or returns
finite coefficients, with no warning but ConvergenceWarning and sklearn's alpha=0
UserWarning, and a non-negative duality gap where one is reported. Iterations are bounded
(small max_iter, few alphas and folds), so a hang shows as a slow test, not a stuck one.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from hadasparse import (
    HadamardGroupLasso,
    HadamardGroupLassoCV,
    HadamardLasso,
    HadamardLassoCV,
    HadamardLqRegressor,
    HadamardLqRegressorCV,
    HadamardMultiTaskLasso,
    HadamardMultiTaskLassoCV,
)

N_CASES = int(os.environ.get("HADASPARSE_FUZZ_CASES", 15))  # per estimator


def random_design(rng):
    n = int(rng.integers(2, 14))
    p = int(rng.integers(1, 9))
    X = rng.standard_normal((n, p))
    kind = rng.integers(8)
    if kind == 1:  # constant and zero columns
        X[:, rng.integers(p)] = 3.0
        X[:, rng.integers(p)] = 0.0
    elif kind == 2:  # duplicated columns
        X[:, -1] = X[:, 0]
    elif kind == 3:  # tiny magnitudes
        X *= 10.0 ** -rng.integers(20, 150)
    elif kind == 4:  # large magnitudes (sums of squares still representable)
        X *= 10.0 ** rng.integers(20, 120)
    elif kind == 5:  # integers
        X = rng.integers(-3, 4, size=(n, p)).astype(float)
    elif kind == 6:  # mostly zeros
        X[rng.random((n, p)) < 0.8] = 0.0
    elif kind == 7:  # one huge row, one huge column
        X[0, :] *= 1e60
        X[:, 0] *= 1e-60
    return X


def random_target(rng, X, n_tasks):
    n = X.shape[0]
    kind = rng.integers(5)
    shape = (n,) if n_tasks == 1 else (n, n_tasks)
    if kind == 0:
        return np.full(shape, float(rng.standard_normal()))  # constant
    if kind == 1:
        return np.zeros(shape)
    y = rng.standard_normal(shape) * 10.0 ** rng.integers(-100, 100)
    if kind == 3:
        y = y + X[:, :1] * rng.standard_normal() if y.ndim == 2 else y + X[:, 0]
    return y


def random_inputs(seed, n_tasks=1):
    rng = np.random.default_rng(seed)
    X = random_design(rng)
    y = random_target(rng, X, n_tasks)
    sample_weight = None
    if rng.random() < 0.3:
        sample_weight = rng.random(X.shape[0])
        sample_weight[0] = 0.0
    if rng.random() < 0.2:
        with np.errstate(over="ignore"):
            X32 = X.astype(np.float32)
        if np.all(np.isfinite(X32)):  # float32 only where X fits in it
            X = X32
    if rng.random() < 0.25:
        X = sp.csc_matrix(X) if rng.random() < 0.5 else sp.csr_matrix(X)
    alpha = float(rng.choice([0.0, 1e-12, 1e-3, 0.1, 1.0, 1e3, 1e12]))
    with np.errstate(over="ignore", invalid="ignore"):  # alpha on the data's scale
        scale = float(np.abs(y).max()) * max(float(abs(X).max()), 1e-300)
    alpha *= scale if np.isfinite(scale) and scale > 0 else 1.0
    if not np.isfinite(alpha):
        alpha = 1.0
    tol = float(rng.choice([0.0, 1e-8, 1e-4, 1e-1]))
    return X, y, sample_weight, alpha, tol, rng


def groups_for(rng, p):
    kind = rng.integers(4)
    if kind == 0 or p == 1:
        return None
    if kind == 1:
        return [[j] for j in range(p)]
    if kind == 2:
        labels = rng.integers(-1, 3, size=p)
        labels[0] = 0  # at least one penalised group
        return labels
    return [list(range(0, p // 2 + 1)), list(range(p // 2, p))]  # overlapping


def make(name, rng, alpha, tol, p):
    cv = {"cv": 2, "alphas": 3}
    common = {"tol": tol, "max_iter": 30}
    groups = groups_for(rng, p)
    if name == "lasso":
        return HadamardLasso(alpha=alpha, positive=bool(rng.random() < 0.3), **common)
    if name == "lasso_cv":
        return HadamardLassoCV(**cv, **common)
    if name == "group":
        positive = groups is None and bool(rng.random() < 0.3)
        return HadamardGroupLasso(alpha=alpha, groups=groups, positive=positive, **common)
    if name == "group_cv":
        return HadamardGroupLassoCV(groups=groups, **cv, **common)
    if name == "multitask":
        return HadamardMultiTaskLasso(alpha=alpha, **common)
    if name == "multitask_cv":
        return HadamardMultiTaskLassoCV(**cv, **common)
    q = float(rng.choice([1.0, 0.5, 2 / 3, 0.25]))
    if name == "lq":
        return HadamardLqRegressor(alpha=alpha, q=q, groups=groups, tol=max(tol, 1e-8),
                                   max_iter=10, init=str(rng.choice(["lasso", "zero"])))
    return HadamardLqRegressorCV(q=q, groups=groups, tol=max(tol, 1e-8), max_iter=10, **cv)


NAMES = ["lasso", "lasso_cv", "group", "group_cv", "multitask", "multitask_cv", "lq", "lq_cv"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(N_CASES))
def test_fuzz(name, seed):
    n_tasks = 2 if name.startswith("multitask") else 1
    X, y, sample_weight, alpha, tol, rng = random_inputs(1000 * seed + NAMES.index(name),
                                                         n_tasks)
    model = make(name, rng, alpha, tol, X.shape[1])
    if name.endswith("_cv") and X.shape[0] < 4:
        X, y = (sp.vstack([X, X]) if sp.issparse(X) else np.vstack([X, X])), np.concatenate(
            [y, y])
        sample_weight = None if sample_weight is None else np.concatenate(
            [sample_weight, sample_weight])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y, sample_weight=sample_weight)
        except ValueError:
            return  # a clear error is an accepted outcome; anything else fails the test
    for w in caught:
        ok = issubclass(w.category, ConvergenceWarning) or "alpha=0" in str(w.message)
        assert ok, f"unexpected warning {w.category.__name__}: {w.message}"
    assert np.all(np.isfinite(model.coef_)), model.coef_
    assert np.all(np.isfinite(model.intercept_))
    assert np.all(np.isfinite(model.predict(X)))
    if hasattr(model, "dual_gap_"):
        assert np.all(np.asarray(model.dual_gap_) >= 0)
