"""HadamardLassoCV: sklearn's LassoCV on the Hadamard solver."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._design import TallDesign, preprocess
from ..solvers import WorkingSet, single_threaded_blas, solve_lasso, warn_not_converged
from .._validation import SELECTION
from ..paths import hadamard_lasso_path, lasso_alpha_max, least_squares
from ._lasso import HadamardLasso
from ._path_cv import _PathCV, _weighted_mean


def _lasso_fold_mse_path(X, y, sample_weight, train, test, alphas, fit_intercept, positive,
                         tol, max_iter, l1_ratio=1.0):
    """Mean squared test error along ``alphas`` of the lasso fitted on the training fold,
    warm-started from one alpha to the next (the fold's weights are rescaled to sum to its
    size, as sklearn does). Runs on one BLAS thread, test predictions included: a
    multi-threaded mat-vec between two solves collapses when another process holds a core."""
    with single_threaded_blas():
        sw_train = None if sample_weight is None else sample_weight[train]
        sw_test = None if sample_weight is None else sample_weight[test]
        # a tall dense fold: centred a block at a time, on its Gram matrix (the Gram route)
        design, b, x_offset, y_offset = preprocess(X[train], y[train], sw_train,
                                                   fit_intercept, tall=True)
        X_test, y_test = X[test], y[test]
        n = design.n_samples
        beta = np.zeros(X.shape[1])
        mse = np.empty(len(alphas))
        state = WorkingSet()
        if isinstance(design, TallDesign):
            state.c_full = np.ascontiguousarray(design.target_correlations()[:, 0])
        for i, alpha in enumerate(alphas):
            if alpha == 0:
                beta, gap, n_iter, converged = least_squares(design, b, None, tol=tol,
                                                             max_iter=max_iter,
                                                             positive=positive)
            else:
                beta, gap, n_iter, converged = solve_lasso(
                    design, b, float(alpha) * l1_ratio, beta, tol=tol, max_iter=max_iter,
                    positive=positive, state=state, l2=float(alpha) * (1.0 - l1_ratio))
            if not converged:
                warn_not_converged(gap, tol * (b @ b) / n, max_iter, n_iter, (b @ b) / n)
            intercept = y_offset - x_offset @ beta if fit_intercept else 0.0
            # a test error that overflows is infinite: the worst score, as it should be
            with np.errstate(over="ignore", invalid="ignore"):
                resid = np.asarray(X_test @ beta).ravel() + intercept - y_test
                mse[i] = _weighted_mean(resid**2, sw_test)
    return mse


class HadamardLassoCV(_PathCV):
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
        Passed to the final refit as :class:`HadamardLasso`'s ``precompute`` (``'auto'``:
        False), as sklearn does; the folds' paths form the Gram blocks they need.
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

    path = staticmethod(hadamard_lasso_path)
    _parameter_constraints: dict = {
        **_PathCV._parameter_constraints,
        "precompute": [StrOptions({"auto"}), "array-like", "boolean"],
        "copy_X": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [SELECTION],
    }

    def _estimator(self):
        # as sklearn's LassoCV, the refit gets precompute unless it is 'auto' (then False)
        precompute = False if isinstance(self.precompute, str) else self.precompute
        return HadamardLasso(fit_intercept=self.fit_intercept, max_iter=self.max_iter,
                             tol=self.tol, positive=self.positive, precompute=precompute)

    def _alpha_max(self, X, y, sample_weight):
        # tall dense X: one pass over it (no centred copy)
        design, b, _, _ = preprocess(X, y[:, None], sample_weight, self.fit_intercept,
                                     tall=True)
        return lasso_alpha_max(design, np.ascontiguousarray(b[:, 0]), self.positive)

    def _fold_mse_path(self, X, y, sample_weight, train, test, alphas):
        # the lasso path calls the solver directly, carrying the working set across alphas
        return _lasso_fold_mse_path(X, y, sample_weight, train, test, alphas,
                                    self.fit_intercept, self.positive, float(self.tol),
                                    int(self.max_iter))
