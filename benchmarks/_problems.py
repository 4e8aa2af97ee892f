"""Shared problem generators and an independent Lasso duality gap.

Used by ``bench_lasso.py`` (and ``bench_enet.py``) and meant to be reused by later benchmarks.
Nothing here imports ``hadasparse``: the gap is computed from a solver's
returned ``coef_`` / ``intercept_`` only, so every solver is certified by the
same code.

Objective (scikit-learn's Lasso)::

    P(beta, b0) = 1/(2n) ||y - X beta - b0||^2 + alpha ||beta||_1

Dual (sklearn's "formulation A"; with an intercept the dual variable must sum
to zero, so the centred quantities X_c, y_c are used)::

    D(theta) = (||y_c||^2 - ||y_c - theta||^2) / (2n),
    ||X_c^T theta||_inf <= n alpha,   sum(theta) = 0 (intercept only)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Problem",
    "ar1_design",
    "make_correlated",
    "make_sparse",
    "load_diabetes_problem",
    "alpha_max",
    "duality_gap",
    "enet_duality_gap",
    "gap_scale",
    "support_size",
]


@dataclass
class Problem:
    """A regression data set plus the metadata benchmarks print."""

    name: str
    X: np.ndarray | sp.spmatrix
    y: np.ndarray
    description: str = ""
    coef_true: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self):
        return self.X.shape

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.X)


# ----------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------

def ar1_design(n_samples, n_features, rho=0.5, rng=None):
    """Gaussian design whose columns form an AR(1) process.

    Each row is N(0, Sigma) with Sigma_ij = rho^|i-j| (unit column variance):
    x_0 = z_0, x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j.  Returned in Fortran
    order (what coordinate-descent solvers want; sklearn would copy otherwise).
    """
    rng = np.random.default_rng(rng)
    X = rng.standard_normal((n_samples, n_features))
    scale = np.sqrt(1.0 - rho ** 2)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + scale * X[:, j]
    return np.asfortranarray(X)


def _sparse_truth(n_features, rng, nnz_frac=1 / 50):
    k = max(1, int(round(n_features * nnz_frac)))
    coef = np.zeros(n_features)
    idx = rng.choice(n_features, size=k, replace=False)
    coef[idx] = rng.standard_normal(k)
    return coef


def make_correlated(n_samples, n_features, rho=0.5, nnz_frac=1 / 50,
                    noise=1.0, random_state=0, name=None):
    """AR(1)-correlated dense design, ~p/50 N(0,1) true coefficients, N(0,1) noise."""
    rng = np.random.default_rng(random_state)
    X = ar1_design(n_samples, n_features, rho=rho, rng=rng)
    coef = _sparse_truth(n_features, rng, nnz_frac)
    y = X @ coef + noise * rng.standard_normal(n_samples)
    name = name or f"corr{n_samples}x{n_features}"
    desc = (f"dense {n_samples}x{n_features}, AR(1) columns rho={rho}, "
            f"{np.count_nonzero(coef)} true nonzeros N(0,1), noise N(0,{noise:g}^2)")
    return Problem(name, X, y, desc, coef)


def make_sparse(n_samples, n_features, density=0.01, nnz_frac=1 / 50,
                noise=1.0, random_state=0, name=None):
    """scipy.sparse CSC design (N(0,1) nonzeros at given density), same truth/noise."""
    rng = np.random.default_rng(random_state)
    X = sp.random(n_samples, n_features, density=density, format="csc",
                  random_state=rng, data_rvs=rng.standard_normal,
                  dtype=np.float64)
    X.sort_indices()
    coef = _sparse_truth(n_features, rng, nnz_frac)
    y = X @ coef + noise * rng.standard_normal(n_samples)
    name = name or f"sparse{n_samples}x{n_features}"
    desc = (f"scipy.sparse CSC {n_samples}x{n_features}, density {density:g} "
            f"(nnz={X.nnz}), {np.count_nonzero(coef)} true nonzeros N(0,1), "
            f"noise N(0,{noise:g}^2)")
    return Problem(name, X, y, desc, coef)


def load_diabetes_problem():
    """sklearn's diabetes data (442x10, ships with sklearn: no download)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return Problem("diabetes", np.asfortranarray(X), y.astype(np.float64),
                   "sklearn diabetes 442x10 (dense)")


# ----------------------------------------------------------------------------
# Lasso quantities, computed independently of any solver
# ----------------------------------------------------------------------------

def _column_means(X):
    return np.asarray(X.mean(axis=0)).ravel()


def _Xt_dot(X, r, x_mean=None):
    """X_c^T r without densifying: X^T r - x_mean * sum(r)."""
    g = np.asarray(X.T @ r).ravel()
    if x_mean is not None:
        g = g - x_mean * r.sum()
    return g


def gap_scale(y, fit_intercept):
    """||y_c||^2 / n: the unit in which sklearn's ``tol`` is expressed."""
    yc = y - y.mean() if fit_intercept else y
    return float(yc @ yc) / y.shape[0]


def alpha_max(X, y, fit_intercept):
    """Smallest alpha for which beta = 0 is optimal: ||X_c^T y_c||_inf / n."""
    n = X.shape[0]
    if fit_intercept:
        yc = y - y.mean()
        return float(np.max(np.abs(_Xt_dot(X, yc, _column_means(X))))) / n
    return float(np.max(np.abs(_Xt_dot(X, y)))) / n


def duality_gap(X, y, coef, intercept, alpha, fit_intercept):
    """Independent Lasso duality gap of a returned (coef_, intercept_).

    The primal value is the true objective of the returned model (with its own
    ``intercept_``).  The dual point is sklearn's: theta = r / max(1,
    ||X_c^T r||_inf / (n alpha)) with r the (centred, when fitting an
    intercept) residual, which keeps sum(theta) = 0.  A sub-optimal intercept
    therefore only increases the reported gap (P(beta, b0) >= P(beta, b0*)), so
    the gap is a valid certificate: P - P* <= gap.

    Sparse X is never densified: X_c^T r = X^T r - x_mean * sum(r) and
    X_c beta = X beta - x_mean . beta.

    Returns a dict with ``primal``, ``dual``, ``gap`` and ``rel_gap``
    (= gap / (||y_c||^2 / n), directly comparable with sklearn's ``tol``).
    """
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64).ravel()
    b0 = np.asarray(intercept, dtype=np.float64).reshape(-1)
    b0 = float(b0[0]) if b0.size else 0.0   # sklearn stores 0.0 without intercept
    Xb = np.asarray(X @ coef).ravel()
    r = y - Xb - b0                              # residual of the returned model
    primal = 0.5 * float(r @ r) / n + alpha * float(np.abs(coef).sum())

    if fit_intercept:
        x_mean = _column_means(X)
        yc = y - y.mean()
        rc = r - r.mean()                        # = y_c - X_c beta, sums to zero
        dual_norm = float(np.max(np.abs(_Xt_dot(X, rc, x_mean)))) if coef.size else 0.0
    else:
        yc = y
        rc = r
        dual_norm = float(np.max(np.abs(_Xt_dot(X, rc)))) if coef.size else 0.0

    theta = rc / max(1.0, dual_norm / (n * alpha))
    d = yc - theta
    dual = 0.5 * (float(yc @ yc) - float(d @ d)) / n
    gap = primal - dual
    scale = float(yc @ yc) / n
    return {"primal": primal, "dual": dual, "gap": gap,
            "rel_gap": gap / scale if scale > 0 else gap}


def enet_duality_gap(X, y, coef, intercept, alpha, l1_ratio, fit_intercept):
    """Independent elastic-net duality gap of a returned (coef_, intercept_).

    Objective (scikit-learn's ElasticNet, rho = l1_ratio)::

        P(beta, b0) = 1/(2n) ||y - X beta - b0||^2 + alpha rho ||beta||_1
                      + alpha (1 - rho) / 2 ||beta||^2

    The primal value is the true objective of the returned model (with its own
    ``intercept_``), as in :func:`duality_gap`.  The dual point is sklearn's
    (``_cd_fast.pyx``, formulation A, the ridge seen as extra rows
    sqrt(n alpha (1 - rho)) I of the design): with r_c the centred residual
    (the plain residual without intercept), ::

        XtA = X_c^T r_c / n - alpha (1 - rho) beta
        s   = min(1, alpha rho / ||XtA||_inf)
        D   = s (r_c . y_c) / n - s^2 / 2 (||r_c||^2 / n + alpha (1 - rho) ||beta||^2)

    A sub-optimal intercept only increases the gap, so it bounds P - P*.  With
    ``l1_ratio = 1`` this is :func:`duality_gap`.  Sparse X is never densified.

    Returns a dict with ``primal``, ``dual``, ``gap`` and ``rel_gap``
    (= gap / (||y_c||^2 / n), directly comparable with sklearn's ``tol``).
    """
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64).ravel()
    b0 = np.asarray(intercept, dtype=np.float64).reshape(-1)
    b0 = float(b0[0]) if b0.size else 0.0   # sklearn stores 0.0 without intercept
    l1 = alpha * l1_ratio
    l2 = alpha * (1.0 - l1_ratio)
    w_l1 = float(np.abs(coef).sum())
    w_l2sq = float(coef @ coef)
    Xb = np.asarray(X @ coef).ravel()
    r = y - Xb - b0                              # residual of the returned model
    primal = 0.5 * float(r @ r) / n + l1 * w_l1 + 0.5 * l2 * w_l2sq

    if fit_intercept:
        yc = y - y.mean()
        rc = r - r.mean()                        # = y_c - X_c beta
        xta = _Xt_dot(X, rc, _column_means(X)) / n
    else:
        yc = y
        rc = r
        xta = _Xt_dot(X, rc) / n
    xta = xta - l2 * coef
    dual_norm = float(np.max(np.abs(xta))) if coef.size else 0.0
    s = min(1.0, l1 / dual_norm) if dual_norm > 0 else 1.0
    dual = (s * float(rc @ yc) / n
            - 0.5 * s * s * (float(rc @ rc) / n + l2 * w_l2sq))
    gap = primal - dual
    scale = float(yc @ yc) / n
    return {"primal": primal, "dual": dual, "gap": gap,
            "rel_gap": gap / scale if scale > 0 else gap}


def support_size(coef, rel_threshold=None):
    """Number of nonzero coefficients (exact), or |beta_j| > rel * ||beta||_inf."""
    coef = np.asarray(coef).ravel()
    if rel_threshold is None:
        return int(np.count_nonzero(coef))
    m = np.max(np.abs(coef)) if coef.size else 0.0
    return int(np.count_nonzero(np.abs(coef) > rel_threshold * m)) if m > 0 else 0
