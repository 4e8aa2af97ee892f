"""HadamardLassoCV: sklearn's LassoCV on the Hadamard solver."""

import numbers

import numpy as np

from .._design import preprocess
from .._solver import WorkingSet, solve_lasso, warn_not_converged
from .._validation import (
    check_bool_param,
    check_option,
    check_sample_weight,
    check_scalar_param,
)
from ..paths import alpha_grid, lasso_alpha_max
from ._base import HadamardLinearModel
from ._lasso import HadamardLasso


def _fold_mse_path(X, y, sample_weight, train, test, alphas, fit_intercept, positive, tol,
                   max_iter):
    """Mean squared test error along ``alphas`` of the lasso fitted on the training fold,
    warm-started from one alpha to the next (the fold's weights are rescaled to sum to its
    size, as sklearn does)."""
    sw_train = None if sample_weight is None else sample_weight[train]
    sw_test = None if sample_weight is None else sample_weight[test]
    design, b, x_offset, y_offset = preprocess(X[train], y[train], sw_train, fit_intercept)
    X_test, y_test = X[test], y[test]
    n = design.n_samples
    beta = np.zeros(X.shape[1])
    mse = np.empty(len(alphas))
    state = WorkingSet()
    for i, alpha in enumerate(alphas):
        beta, gap, _, converged = solve_lasso(design, b, float(alpha), beta, tol=tol,
                                              max_iter=max_iter, positive=positive,
                                              state=state)
        if not converged:
            warn_not_converged(gap, tol * (b @ b) / n, max_iter)
        intercept = y_offset - x_offset @ beta if fit_intercept else 0.0
        resid = np.asarray(X_test @ beta).ravel() + intercept - y_test
        mse[i] = np.average(resid**2, weights=sw_test)
    return mse


class HadamardLassoCV(HadamardLinearModel):
    """Lasso with the regularisation chosen by cross-validation, solved by the Hadamard solver.

    A drop-in replacement for :class:`sklearn.linear_model.LassoCV`: the same α grid, folds,
    ``mse_path_`` (to the solvers' tolerance) and chosen ``alpha_``. For each fold the lasso
    path is computed from the largest α down, each fit warm-started from the previous one;
    the model is then refitted on all the data at the chosen α with :class:`HadamardLasso`.
    The objective at each α is that of :class:`HadamardLasso`::

        1 / (2 * n_samples) * ||y - X w - b0||^2_2 + alpha * ||w||_1

    Parameters
    ----------
    eps : float, default=1e-3
        Length of the path: ``alpha_min / alpha_max``.
    alphas : int or array-like, default=100
        Number of alphas on the grid ``alpha_max · logspace(0, log10(eps))`` (``alpha_max``
        the smallest α whose solution is 0, computed on all the data), or the alphas.
    fit_intercept : bool, default=True
    precompute : 'auto', bool or array-like, default='auto'
        Accepted for compatibility with sklearn; the solver decides by itself which Gram
        blocks to form.
    max_iter : int, default=1000
        Maximum number of working-set iterations per α (see :class:`HadamardLasso`).
    tol : float, default=1e-4
        Duality-gap tolerance per α, with sklearn's meaning.
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    cv : int, cross-validation generator or iterable, default=None
        As in sklearn: None is 5-fold :class:`~sklearn.model_selection.KFold`.
    verbose : bool or int, default=False
        Verbosity of the parallel fold computations.
    n_jobs : int, default=None
        Number of processes computing folds in parallel (joblib).
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility and ignored (the solver is deterministic).
    selection : {'cyclic', 'random'}, default='cyclic'
        Accepted for compatibility and ignored (no coordinate sweeps).
    selection_rule : {'min', '1se'}, default='min'
        ``'min'`` picks the α with the smallest mean CV error (sklearn's rule); ``'1se'`` the
        largest α whose mean CV error is within one standard error (over folds) of that
        minimum -- a sparser model of statistically indistinguishable accuracy.

    Attributes
    ----------
    alpha_ : float
        The chosen α.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Mean squared test error of each fold along the grid.
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
        Duality gap of the final fit at ``alpha_``.
    n_iter_ : int
        Working-set iterations of the final fit.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.linear_model.LassoCV
    HadamardLasso

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from hadasparse import HadamardLassoCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = HadamardLassoCV(cv=5).fit(X, y)
    >>> reg.alphas_.shape, reg.mse_path_.shape
    ((100,), (100, 5))
    >>> bool(reg.alpha_ in reg.alphas_)
    True
    """

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto",
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False, n_jobs=None,
                 positive=False, random_state=None, selection="cyclic", selection_rule="min"):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.selection_rule = selection_rule

    def _validate_params(self):
        check_scalar_param(self.eps, "eps", low=0.0, low_inclusive=False)
        check_bool_param(self.fit_intercept, "fit_intercept")
        check_scalar_param(self.max_iter, "max_iter", kind="int", low=1)
        check_scalar_param(self.tol, "tol", low=0.0)
        check_bool_param(self.positive, "positive")
        check_option(self.selection, "selection", {"cyclic", "random"})
        check_option(self.selection_rule, "selection_rule", {"min", "1se"})
        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            check_scalar_param(self.alphas, "alphas", kind="int", low=1)
        else:
            alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
                raise ValueError(
                    "The 'alphas' parameter must be an int >= 1 or an array of finite "
                    f"non-negative values; got {self.alphas!r}."
                )

    def fit(self, X, y, sample_weight=None):
        """Choose α by cross-validation, then fit on all the data at that α.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._validate_params()
        # CSR: the folds slice rows; validate_data rejects a 2-D y
        X, y, _ = self._validate_fit_data(X, y, sparse_format="csr")
        sample_weight = check_sample_weight(sample_weight, X.shape[0])

        if isinstance(self.alphas, numbers.Integral):
            design, b, _, _ = preprocess(X, y[:, None], sample_weight, self.fit_intercept)
            a_max = lasso_alpha_max(design, b[:, 0], self.positive)
            alphas = alpha_grid(a_max, self.eps, int(self.alphas))
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]

        # imported here: model_selection and joblib weigh on `import hadasparse`, and only
        # the CV estimators need them
        from joblib import Parallel, delayed
        from sklearn.model_selection import check_cv

        folds = list(check_cv(self.cv).split(X, y))
        mse = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_mse_path)(X, y, sample_weight, train, test, alphas,
                                    self.fit_intercept, self.positive, float(self.tol),
                                    int(self.max_iter))
            for train, test in folds
        )
        self.mse_path_ = np.column_stack(mse)
        self.alphas_ = alphas
        mean = self.mse_path_.mean(axis=1)
        best = int(np.argmin(mean))
        if self.selection_rule == "1se" and len(folds) > 1:
            se = self.mse_path_[best].std(ddof=1) / np.sqrt(len(folds))
            # the grid is decreasing: the first alpha within one SE is the largest
            best = int(np.flatnonzero(mean <= mean[best] + se)[0])
        self.alpha_ = float(alphas[best])

        model = HadamardLasso(alpha=self.alpha_, fit_intercept=self.fit_intercept,
                              max_iter=self.max_iter, tol=self.tol, positive=self.positive)
        model.fit(X, y, sample_weight=sample_weight)
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.dual_gap_ = model.dual_gap_
        self.n_iter_ = model.n_iter_
        return self
