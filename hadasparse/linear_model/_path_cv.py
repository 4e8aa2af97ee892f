"""Cross-validated α for the group, multi-task and ℓq models.

Each fold walks a decreasing α grid with the model warm-started from the previous α (the
path continuation), records the test error along it, and the model is refitted on all the data
at the chosen α -- the scheme of sklearn's ``LassoCV``, on any hadasparse estimator.
"""

import numbers

import numpy as np

from .._design import preprocess
from .._groups import grouped_columns
from ..solvers import single_threaded_blas
from .._validation import (
    CV_CONSTRAINTS,
    SELECTION,
    check_q,
    check_sample_weight,
    validate_alpha_grid,
)
from ..paths import (
    alpha_grid,
    group_lasso_path,
    hadamard_lasso_path,
    lq_alpha_max_start,
    lq_path,
    multitask_lasso_path,
)
from ._base import HadamardLinearModel
from ._group import HadamardGroupLasso, group_lasso_alpha_max
from ._lq import HadamardLqRegressor
from ._multitask import HadamardMultiTaskLasso


def _weighted_mean(values, weights):
    """``np.average``, with samples of weight 0 left out (an infinite error of weight 0
    would make the mean NaN, which ``argmin`` would then pick)."""
    if weights is None:
        return np.mean(values)
    keep = weights > 0
    return np.average(values[keep], weights=weights[keep])


def _fold_mse_path(estimator, X, y, sample_weight, train, test, alphas):
    """Test error along ``alphas`` (decreasing) of ``estimator`` fitted on the training fold,
    each fit warm-started from the previous one (on one BLAS thread: see
    :func:`~hadasparse.solvers.single_threaded_blas`)."""
    sw_train = None if sample_weight is None else sample_weight[train]
    sw_test = None if sample_weight is None else sample_weight[test]
    X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    estimator.set_params(warm_start=True)
    mse = np.empty(len(alphas))
    with single_threaded_blas():
        for i, alpha in enumerate(alphas):
            estimator.set_params(alpha=float(alpha)).fit(X_train, y_train,
                                                         sample_weight=sw_train)
            # a test error that overflows is infinite: the worst score, as it should be
            with np.errstate(over="ignore"):
                resid = np.asarray(estimator.predict(X_test)) - y_test
                per_sample = resid**2 if resid.ndim == 1 else (resid**2).mean(axis=1)
                mse[i] = _weighted_mean(per_sample, sw_test)
    return mse


def _multitask_fold_mse_path(cv, X, y, sample_weight, train, test, alphas, l1_ratio):
    """Test error along ``alphas`` of the multi-task lasso (elastic net) fitted on the
    training fold, as :func:`_fold_mse_path` but through the path function directly."""
    sw_train = None if sample_weight is None else sample_weight[train]
    sw_test = None if sample_weight is None else sample_weight[test]
    with single_threaded_blas():
        design, B, x_offset, y_offset = preprocess(X[train], y[train], sw_train,
                                                   cv.fit_intercept)
        X_test, y_test = X[test], y[test]
        mse = np.empty(len(alphas))

        def score(i, W):
            intercept = y_offset - x_offset @ W if cv.fit_intercept else 0.0
            resid = np.asarray(X_test @ W) + intercept - y_test
            mse[i] = np.average((resid**2).mean(axis=1), weights=sw_test)

        multitask_lasso_path(design, B, alphas, None, float(cv.tol), int(cv.max_iter), False,
                             False, np.dtype(np.float64), l1_ratio, each=score)
    return mse


class _PathCV(HadamardLinearModel):
    """Shared fit of the CV estimators: subclasses say which model (``_estimator``) and how
    large α needs to be for the all-zero model (``_alpha_max``)."""

    _multi_output = False
    _certificates = ("dual_gap_",)
    _parameter_constraints: dict = {**CV_CONSTRAINTS}
    _finite_params = ("tol", "eps")

    def _fold_mse_path(self, X, y, sample_weight, train, test, alphas):
        return _fold_mse_path(self._estimator(), X, y, sample_weight, train, test, alphas)

    def _validate_params(self):
        super()._validate_params()
        if not isinstance(self.alphas, numbers.Integral):
            if validate_alpha_grid(self.alphas).size == 0:
                raise ValueError("The 'alphas' parameter is an empty array: give at least "
                                 "one alpha, or an int for the number of alphas.")

    def get_metadata_routing(self):
        """Metadata routing of this object: ``fit(**params)`` goes to the splitter's
        ``split`` (e.g. ``groups`` for a group k-fold), as in sklearn's ``LassoCV``.

        Returns
        -------
        routing : MetadataRouter
        """
        from sklearn.model_selection import check_cv
        from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping

        return MetadataRouter(owner=self).add(
            splitter=check_cv(self.cv),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )

    def fit(self, X, y, sample_weight=None, **params):
        """Choose α by cross-validation along a warm-started path, then refit at that α.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks) for the multi-task model
        sample_weight : float or array-like of shape (n_samples,), default=None
        **params : dict
            Parameters routed to the CV splitter (only with
            ``sklearn.set_config(enable_metadata_routing=True)``, as in sklearn).

        Returns
        -------
        self : object
        """
        X, y, sample_weight, folds = self._cv_setup(X, y, sample_weight, params)
        self.alphas_, self.mse_path_ = self._cv_path(X, y, sample_weight, folds,
                                                     self._fold_mse_path)
        best = self._select(self.mse_path_)
        self.alpha_ = float(self.alphas_[best])
        return self._refit(X, y, sample_weight, alpha=self.alpha_)

    def _cv_setup(self, X, y, sample_weight, params):
        """Validated ``(X, y, sample_weight, folds)``; ``params`` are routed to the splitter."""
        from sklearn.model_selection import check_cv
        from sklearn.utils.metadata_routing import (
            _raise_for_params,
            _routing_enabled,
            process_routing,
        )

        _raise_for_params(params, self, "fit")
        self._validate_params()
        X, y, _ = self._validate_fit_data(X, y, multi_output=self._multi_output,
                                          sparse_format="csr")
        if self._multi_output and y.ndim == 1:
            raise ValueError("For mono-task outputs, use HadamardLassoCV.")
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        self._estimator()._validate_params()  # bad model parameters fail before the folds
        split_params = {}
        if _routing_enabled():
            split_params = process_routing(self, "fit", **params).splitter.split
        folds = list(check_cv(self.cv).split(X, y, **split_params))
        return X, y, sample_weight, folds

    def _cv_path(self, X, y, sample_weight, folds, fold_mse_path, alpha_scale=1.0):
        """The α grid (``alpha_max / alpha_scale`` down, or the given alphas) and the test
        error of every fold along it, ``(alphas, mse_path)``."""
        from joblib import Parallel, delayed

        if isinstance(self.alphas, numbers.Integral):
            alphas = alpha_grid(self._alpha_max(X, y, sample_weight) / alpha_scale, self.eps,
                                int(self.alphas))
        else:
            alphas = np.sort(validate_alpha_grid(self.alphas))[::-1]
        mse = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(fold_mse_path)(X, y, sample_weight, train, test, alphas)
            for train, test in folds
        )
        return alphas, np.column_stack(mse)

    def _select(self, mse_path):
        """Index of the chosen α: the smallest mean error, or with the 1-SE rule the largest
        α within one standard error (over folds) of it."""
        mean = mse_path.mean(axis=1)
        best = int(np.argmin(mean))
        n_folds = mse_path.shape[1]
        if self.selection_rule == "1se" and n_folds > 1:
            se = mse_path[best].std(ddof=1) / np.sqrt(n_folds)
            best = int(np.flatnonzero(mean <= mean[best] + se)[0])  # largest such alpha
        return best

    def _refit(self, X, y, sample_weight, **model_params):
        model = self._estimator().set_params(**model_params)
        model.fit(X, y, sample_weight=sample_weight)
        for name in ("coef_", "intercept_", "n_iter_") + self._certificates:
            setattr(self, name, getattr(model, name))
        return self


_CV_DOC = """
    Parameters
    ----------
    eps : float, default=1e-3
        Length of the path: ``alpha_min / alpha_max``.
    alphas : int or array-like, default=100
        Number of alphas on the grid ``alpha_max · logspace(0, log10(eps))``, or the alphas.
    selection_rule : {{'min', '1se'}}, default='min'
        ``'min'``: the α with the smallest mean CV error; ``'1se'``: the largest α whose mean
        CV error is within one standard error (over folds) of that minimum.
    cv, n_jobs, verbose :
        As in sklearn's ``LassoCV`` (folds computed in parallel processes with ``n_jobs``).
    Other parameters are those of :class:`{model}`, used for every fit.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Mean squared test error of each fold along the grid{mse_extra}.
    coef_, intercept_, n_iter_{certs} :
        Those of the :class:`{model}` refitted on all the data at ``alpha_``.
"""


class HadamardGroupLassoCV(_PathCV):
    __doc__ = """Group lasso with α chosen by cross-validation.

    The grid starts at the smallest α whose solution has every penalised group at zero
    (:func:`group_lasso_alpha_max`); each fold walks it warm-started, as ``LassoCV`` does.
    """ + _CV_DOC.format(model="HadamardGroupLasso", mse_extra="", certs=", dual_gap_")

    def __init__(self, *, groups=None, weights=None, eps=1e-3, alphas=100, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, verbose=False, n_jobs=None,
                 selection_rule="min"):
        self.groups = groups
        self.weights = weights
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.selection_rule = selection_rule

    _parameter_constraints: dict = {
        **_PathCV._parameter_constraints,
        "groups": "no_validation",
        "weights": ["array-like", None],
    }

    def _estimator(self):
        return HadamardGroupLasso(groups=self.groups, weights=self.weights,
                                  fit_intercept=self.fit_intercept, max_iter=self.max_iter,
                                  tol=self.tol)

    def _alpha_max(self, X, y, sample_weight):
        return group_lasso_alpha_max(X, y, groups=self.groups, weights=self.weights,
                                     sample_weight=sample_weight,
                                     fit_intercept=self.fit_intercept)

    def _fold_mse_path(self, X, y, sample_weight, train, test, alphas):
        """The fold's group-lasso path solved once, warm-started and continuing its working
        set from one α to the next (:func:`~hadasparse.paths.group_lasso_path`), scored on the
        test fold after each α."""
        sw_train = None if sample_weight is None else sample_weight[train]
        sw_test = None if sample_weight is None else sample_weight[test]
        with single_threaded_blas():
            X_int, columns, gptr, w = grouped_columns(self.groups, self.weights, X[train])
            design, b, x_offset, y_offset = preprocess(X_int, y[train], sw_train,
                                                       self.fit_intercept)
            X_test = X[test][:, columns]
            y_test = y[test]
            mse = np.empty(len(alphas))

            def score(i, beta):
                intercept = y_offset - x_offset @ beta if self.fit_intercept else 0.0
                resid = np.asarray(X_test @ beta).ravel() + intercept - y_test
                mse[i] = np.average(resid**2, weights=sw_test)

            group_lasso_path(design, b, alphas, w, gptr, tol=float(self.tol),
                             max_iter=int(self.max_iter), each=score)
        return mse


class HadamardMultiTaskLassoCV(_PathCV):
    __doc__ = """Multi-task lasso with α chosen by cross-validation, like sklearn's
    ``MultiTaskLassoCV``: the same grid (``alpha_max = max_j ‖X_jᵀ Y_c‖₂ / n``), folds,
    ``mse_path_`` and ``alpha_``.
    """ + _CV_DOC.format(model="HadamardMultiTaskLasso", mse_extra=" (averaged over tasks)",
                         certs=", dual_gap_")

    _multi_output = True
    path = staticmethod(hadamard_lasso_path)  # with a 2-D y, the multi-task path
    _parameter_constraints: dict = {
        **_PathCV._parameter_constraints,
        "copy_X": ["boolean"],
        "random_state": ["random_state"],
        "selection": [SELECTION],
    }

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000, tol=1e-4,
                 copy_X=True, cv=None, verbose=False, n_jobs=None, random_state=None,
                 selection="cyclic", selection_rule="min"):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.selection_rule = selection_rule

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    def _estimator(self):
        return HadamardMultiTaskLasso(fit_intercept=self.fit_intercept, max_iter=self.max_iter,
                                      tol=self.tol)

    def _fold_mse_path(self, X, y, sample_weight, train, test, alphas):
        """The fold's multi-task path solved once (no re-validation or re-centring per α,
        :func:`~hadasparse.paths.multitask_lasso_path`), scored on the test fold (the squared
        error averaged over tasks) after each α."""
        return _multitask_fold_mse_path(self, X, y, sample_weight, train, test, alphas, 1.0)

    def _alpha_max(self, X, y, sample_weight):
        design, B, _, _ = preprocess(X, y, sample_weight, self.fit_intercept)
        corr = np.column_stack([design.rdot(B[:, t]) for t in range(B.shape[1])])
        return float(np.sqrt((corr**2).sum(axis=1)).max() / design.n_samples)


class HadamardLqRegressorCV(_PathCV):
    __doc__ = """ℓq-penalised regression (q = 2/k) with α chosen by cross-validation.

    There is no finite α above which the non-convex ℓq solution is 0 for every start, so the
    grid starts (just above) the smallest α at which β = 0 is a fixed point of the ℓq
    proximal-gradient map (every ``|X_jᵀy_c|/n`` below the zero threshold; grouped: every
    group's), and goes down by ``eps``. Each fold walks it warm-started -- from the all-zero
    model down, the path continuation, without the local search (``local_search=False``: it
    would multiply the path's cost several times) -- and the final model is refitted at
    ``alpha_`` with ``init`` and the local search.
    """ + _CV_DOC.format(model="HadamardLqRegressor", mse_extra="",
                         certs=", fixed_point_residual_")

    _certificates = ("fixed_point_residual_", "objective_")
    _parameter_constraints: dict = {
        **_PathCV._parameter_constraints,
        "q": "no_validation",
        "groups": "no_validation",
        "weights": ["array-like", None],
        "init": "no_validation",  # checked by HadamardLqRegressor
        "random_state": ["random_state"],
    }

    def __init__(self, *, q=0.5, groups=None, weights=None, init="auto", eps=1e-3,
                 alphas=100, fit_intercept=True, max_iter=100, tol=1e-4, cv=None,
                 verbose=False, n_jobs=None, random_state=None, selection_rule="min"):
        self.q = q
        self.groups = groups
        self.weights = weights
        self.init = init
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection_rule = selection_rule

    def _estimator(self):
        return HadamardLqRegressor(q=self.q, groups=self.groups, weights=self.weights,
                                   init=self.init, fit_intercept=self.fit_intercept,
                                   max_iter=self.max_iter, tol=self.tol,
                                   random_state=self.random_state)

    def _fold_mse_path(self, X, y, sample_weight, train, test, alphas):
        """The fold's ℓq path continued from the all-zero model down (no re-validation or
        re-centring per α, :func:`~hadasparse.paths.lq_path`), without the local search,
        scored on the test fold after each α."""
        sw_train = None if sample_weight is None else sample_weight[train]
        sw_test = None if sample_weight is None else sample_weight[test]
        with single_threaded_blas():
            X_int, columns, gptr, w = self._grouped(X[train])
            design, b, x_offset, y_offset = preprocess(X_int, y[train], sw_train,
                                                       self.fit_intercept)
            X_test, y_test = X[test][:, columns], y[test]
            mse = np.empty(len(alphas))

            def score(i, beta):
                intercept = y_offset - x_offset @ beta if self.fit_intercept else 0.0
                resid = np.asarray(X_test @ beta).ravel() + intercept - y_test
                mse[i] = np.average(resid**2, weights=sw_test)

            lq_path(design, b, alphas, 2.0 / check_q(self.q), weights=w, gptr=gptr,
                    init=self.init, tol=float(self.tol), max_iter=int(self.max_iter),
                    random_state=self.random_state, local_search=False, each=score)
        return mse

    def _grouped(self, X):
        """``(X in group order, its columns, gptr, weights)``; without groups the columns of
        X and no groups (None, None)."""
        if self.groups is None:
            return X, np.arange(X.shape[1]), None, None
        return grouped_columns(self.groups, self.weights, X)

    def _alpha_max(self, X, y, sample_weight):
        X_int, _, gptr, w = self._grouped(X)
        design, b, _, _ = preprocess(X_int, y, sample_weight, self.fit_intercept)
        return lq_alpha_max_start(design, b, 2.0 / check_q(self.q), w, gptr)
