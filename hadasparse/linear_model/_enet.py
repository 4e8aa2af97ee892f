"""The elastic-net family: sklearn's ElasticNet, MultiTaskElasticNet and their CV classes on
the Hadamard solver.

The elastic net adds the smooth ridge ``α (1 − l1_ratio)/2 ‖w‖²`` to the lasso; the ridge
stays on ``w`` (it is already smooth) and only the ℓ1 part is overparametrised, so the solver
is the lasso's with the ridge on the diagonal of the working set's Gram matrix (see
:mod:`hadasparse.losses._quadratic`) and sklearn's elastic-net dual point in the
certificate. ``HadamardLasso`` is the ``l1_ratio = 1`` case of the same fit.
"""

import numbers
from functools import partial
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._design import preprocess
from .._validation import check_scalar_param
from ..paths import hadamard_enet_path, lasso_alpha_max
from ._lasso import HadamardLasso
from ._lasso_cv import HadamardLassoCV, _lasso_fold_mse_path
from ._multitask import HadamardMultiTaskLasso
from ._path_cv import HadamardMultiTaskLassoCV, _multitask_fold_mse_path

_OBJECTIVE = """
        1 / (2 * n_samples) * ||y - X w - b0||^2_2
        + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2
"""


def _check_l1_ratio(l1_ratio, allow_list=False):
    """``l1_ratio`` in [0, 1] (a list of such values for the CV classes)."""
    values = None
    if allow_list and not isinstance(l1_ratio, numbers.Real):
        try:
            values = np.asarray(l1_ratio, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise ValueError("The 'l1_ratio' parameter must be a float in [0, 1] or a list of "
                             f"them; got {l1_ratio!r}.") from None
    if values is None:
        check_scalar_param(l1_ratio, "l1_ratio", low=0.0, high=1.0)
        values = np.array([float(l1_ratio)])
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(
            values > 1):
        raise ValueError(f"The 'l1_ratio' parameter must be in [0, 1]; got {l1_ratio!r}.")
    return values


class HadamardElasticNet(HadamardLasso):
    __doc__ = """Linear regression with combined ℓ1 and ℓ2 penalties, solved by smooth
    optimisation of Hadamard factors.

    A drop-in replacement for :class:`sklearn.linear_model.ElasticNet`: same parameters,
    attributes, objective and -- to the tolerance -- the same solution, with exact zeros and a
    duality-gap certificate in sklearn's scaling. The objective is::
    """ + _OBJECTIVE + """
    (with ``sample_weight`` s, rescaled to sum to n_samples, the squared error of sample i is
    weighted by s_i). Only the ℓ1 term is overparametrised (``w = u ⊙ v`` with the ridge
    ``alpha * l1_ratio / 2 * (||u||^2 + ||v||^2)``); the ℓ2 term is smooth and stays on w.
    ``l1_ratio = 1`` is :class:`HadamardLasso`.

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the penalty terms (``alpha >= 0``).
    l1_ratio : float, default=0.5
        The mixing parameter, ``0 <= l1_ratio <= 1``. ``l1_ratio = 0`` is ridge regression
        (no sparsity; :class:`sklearn.linear_model.Ridge` is the direct tool): it is solved
        exactly by the same active-set finish and certified by sklearn's ridge duality gap.
    fit_intercept : bool, default=True
    precompute : bool or array-like of shape (n_features, n_features), default=False
        As in :class:`HadamardLasso`: the full Gram matrix ``XᵀX`` (of the centred, weighted
        X), or whether to compute it once.
    max_iter : int, default=1000
        Maximum number of working-set iterations.
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    tol : float, default=1e-4
        The fit stops when the duality gap is at most ``tol * ||y_c||^2 / n_samples``.
    warm_start : bool, default=False
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility and ignored (the solver is deterministic).
    selection : {'cyclic', 'random'}, default='cyclic'
        Accepted for compatibility and ignored (no coordinate descent here).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Parameter vector, with exact zeros.
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list of int
        Working-set iterations run.
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, in the objective's scaling (sklearn's dual point).
    sparse_coef_ : scipy.sparse.csr_matrix
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.linear_model.ElasticNet : The coordinate-descent solver of the same problem.
    HadamardElasticNetCV : l1_ratio and alpha by cross-validation.
    hadamard_enet_path : Regularisation path with warm starts.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from hadasparse import HadamardElasticNet
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = HadamardElasticNet(alpha=0.1, l1_ratio=0.7).fit(X, y)
    >>> int((reg.coef_ != 0).sum())
    9
    >>> bool(reg.dual_gap_ <= 1e-4 * ((y - y.mean()) ** 2).mean())
    True
    """

    path = staticmethod(hadamard_enet_path)
    _parameter_constraints: dict = {
        **HadamardLasso._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic"):
        super().__init__(alpha=alpha, fit_intercept=fit_intercept, precompute=precompute,
                         copy_X=copy_X, max_iter=max_iter, tol=tol, warm_start=warm_start,
                         positive=positive, random_state=random_state, selection=selection)
        self.l1_ratio = l1_ratio

    def _validate_params(self):
        super()._validate_params()
        _check_l1_ratio(self.l1_ratio)


class HadamardMultiTaskElasticNet(HadamardMultiTaskLasso):
    __doc__ = """Multi-task elastic net, solved by smooth optimisation of Hadamard factors.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskElasticNet`. The
    objective is::

        1 / (2 * n_samples) * ||Y - X W - 1 b0ᵀ||^2_Fro
        + alpha * l1_ratio * Σ_j ||W_j||_2
        + 0.5 * alpha * (1 - l1_ratio) * ||W||^2_Fro

    (``W_j`` the j-th feature's row of coefficients over the tasks: a feature is kept for
    every task or none). The row norms are overparametrised as in
    :class:`HadamardMultiTaskLasso`; the ℓ2 term stays on W.

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float, default=0.5
        ``0 <= l1_ratio <= 1``; 1 is :class:`HadamardMultiTaskLasso`.
    fit_intercept : bool, default=True
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    max_iter : int, default=1000
    tol : float, default=1e-4
        The fit stops when the duality gap is at most ``tol * ||Y_c||^2_Fro / n_samples``.
    warm_start : bool, default=False
    random_state : None
        Accepted for compatibility and ignored.
    selection : {'cyclic', 'random'}, default='cyclic'
        Accepted for compatibility and ignored.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,) or float
    n_iter_ : int
    dual_gap_ : float
    eps_ : float
        ``tol * ||Y_c||^2_Fro``, as sklearn reports it.
    sparse_coef_ : scipy.sparse.csr_matrix
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.linear_model.MultiTaskElasticNet

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardMultiTaskElasticNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 8))
    >>> Y = X[:, [0, 3]] @ [[1.0, -1.0, 2.0], [0.5, 1.0, -1.0]] + 0.1 * rng.standard_normal((100, 3))
    >>> reg = HadamardMultiTaskElasticNet(alpha=0.1, l1_ratio=0.8).fit(X, Y)
    >>> np.flatnonzero(np.abs(reg.coef_).sum(axis=0))
    array([0, 3])
    """

    path = staticmethod(hadamard_enet_path)
    _parameter_constraints: dict = {
        **HadamardMultiTaskLasso._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, random_state=None,
                 selection="cyclic"):
        super().__init__(alpha=alpha, fit_intercept=fit_intercept, copy_X=copy_X,
                         max_iter=max_iter, tol=tol, warm_start=warm_start,
                         random_state=random_state, selection=selection)
        self.l1_ratio = l1_ratio

    def _validate_params(self):
        super()._validate_params()
        _check_l1_ratio(self.l1_ratio)


class _ElasticNetCVMixin:
    """The l1_ratio loop of the elastic-net CV classes: for each ratio, sklearn's grid
    (``alpha_max = ‖X_cᵀy_c‖∞ / (n · l1_ratio)``) walked warm-started on every fold; the
    ratio and α of the smallest mean test error are refitted on all the data."""

    def fit(self, X, y, sample_weight=None, **params):
        """Choose l1_ratio and α by cross-validation, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) (n_samples, n_tasks) for the multi-task class
        sample_weight : float or array-like of shape (n_samples,), default=None
        **params : dict
            Parameters routed to the CV splitter (with metadata routing enabled).

        Returns
        -------
        self : object
        """
        ratios = _check_l1_ratio(self.l1_ratio, allow_list=True)
        if isinstance(self.alphas, numbers.Integral) and np.any(ratios == 0):
            raise ValueError(  # sklearn's message: the grid starts at alpha_max / l1_ratio
                "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
                "supply a grid by providing your estimator with the appropriate `alphas=` "
                "argument.")
        X, y, sample_weight, folds = self._cv_setup(X, y, sample_weight, params)
        grids, paths = [], []
        for ratio in ratios:
            alphas, mse = self._cv_path(X, y, sample_weight, folds,
                                        partial(self._ratio_fold_mse_path, float(ratio)),
                                        alpha_scale=float(ratio))
            grids.append(alphas)
            paths.append(mse)
        r_best = int(np.argmin([p.mean(axis=1).min() for p in paths]))
        a_best = self._select(paths[r_best])
        self.l1_ratio_ = float(ratios[r_best])
        self.alpha_ = float(grids[r_best][a_best])
        # sklearn's shapes: one l1_ratio squeezed; given alphas are the same for every ratio
        one = len(ratios) == 1
        self.alphas_ = grids[0] if one or not isinstance(self.alphas, numbers.Integral) \
            else np.array(grids)
        self.mse_path_ = paths[0] if one else np.array(paths)
        return self._refit(X, y, sample_weight, alpha=self.alpha_, l1_ratio=self.l1_ratio_)


class HadamardElasticNetCV(_ElasticNetCVMixin, HadamardLassoCV):
    __doc__ = """Elastic net with l1_ratio and α chosen by cross-validation, solved by the
    Hadamard solver.

    A drop-in replacement for :class:`sklearn.linear_model.ElasticNetCV`: for each
    ``l1_ratio`` the same α grid (``alpha_max = ‖X_cᵀy_c‖∞ / (n · l1_ratio)``), folds and
    ``mse_path_``; each fold's path is walked from the largest α down, warm-started, and the
    model is refitted at the chosen ``(l1_ratio_, alpha_)`` with :class:`HadamardElasticNet`
    (whose objective it is).

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Values in [0, 1] (0 only with given ``alphas``, as in sklearn); a list is searched too (sklearn suggests e.g.
        ``[.1, .5, .7, .9, .95, .99, 1]``).
    eps : float, default=1e-3
    alphas : int or array-like, default=100
        Number of alphas per l1_ratio, or the alphas themselves.
    fit_intercept : bool, default=True
    precompute : 'auto', bool or array-like, default='auto'
        Accepted for compatibility; the solver forms the Gram blocks it needs.
    max_iter : int, default=1000
    tol : float, default=1e-4
    cv : int, cross-validation generator or iterable, default=None
    copy_X : bool, default=True
    verbose : bool or int, default=0
    n_jobs : int, default=None
    positive : bool, default=False
    random_state : None
        Accepted for compatibility and ignored.
    selection : {'cyclic', 'random'}, default='cyclic'
        Accepted for compatibility and ignored.
    selection_rule : {'min', '1se'}, default='min'
        ``'1se'``: within the best l1_ratio, the largest α within one standard error of the
        minimum mean error.

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.linear_model.ElasticNetCV
    HadamardElasticNet

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from hadasparse import HadamardElasticNetCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = HadamardElasticNetCV(l1_ratio=[0.5, 1.0], alphas=20, cv=3).fit(X, y)
    >>> reg.mse_path_.shape
    (2, 20, 3)
    >>> bool(reg.l1_ratio_ in (0.5, 1.0))
    True
    """

    path = staticmethod(hadamard_enet_path)
    _parameter_constraints: dict = {
        **HadamardLassoCV._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, cv=None, copy_X=True, verbose=0,
                 n_jobs=None, positive=False, random_state=None, selection="cyclic",
                 selection_rule="min"):
        super().__init__(eps=eps, alphas=alphas, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, tol=tol, copy_X=copy_X,
                         cv=cv, verbose=verbose, n_jobs=n_jobs, positive=positive,
                         random_state=random_state, selection=selection,
                         selection_rule=selection_rule)
        self.l1_ratio = l1_ratio

    def _estimator(self):
        ratio = self.l1_ratio if isinstance(self.l1_ratio, numbers.Real) else 0.5
        return HadamardElasticNet(l1_ratio=ratio, fit_intercept=self.fit_intercept,
                                  max_iter=self.max_iter, tol=self.tol, positive=self.positive)

    def _alpha_max(self, X, y, sample_weight):
        design, b, _, _ = preprocess(X, y[:, None], sample_weight, self.fit_intercept)
        return lasso_alpha_max(design, b[:, 0], self.positive)

    def _ratio_fold_mse_path(self, ratio, X, y, sample_weight, train, test, alphas):
        return _lasso_fold_mse_path(X, y, sample_weight, train, test, alphas,
                                    self.fit_intercept, self.positive, float(self.tol),
                                    int(self.max_iter), ratio)


class HadamardMultiTaskElasticNetCV(_ElasticNetCVMixin, HadamardMultiTaskLassoCV):
    __doc__ = """Multi-task elastic net with l1_ratio and α chosen by cross-validation.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskElasticNetCV`: for each
    ``l1_ratio`` the grid ``alpha_max = max_j ‖X_jᵀ Y_c‖₂ / (n · l1_ratio)``, the folds and
    ``mse_path_`` (averaged over tasks) as sklearn's; the refit at the chosen
    ``(l1_ratio_, alpha_)`` is a :class:`HadamardMultiTaskElasticNet`.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float, default=1e-4
    cv : int, cross-validation generator or iterable, default=None
    copy_X : bool, default=True
    verbose : bool or int, default=0
    n_jobs : int, default=None
    random_state : None
    selection : {'cyclic', 'random'}, default='cyclic'
    selection_rule : {'min', '1se'}, default='min'

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    dual_gap_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.linear_model.MultiTaskElasticNetCV

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardMultiTaskElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 6))
    >>> Y = X[:, :2] @ rng.standard_normal((2, 3)) + 0.1 * rng.standard_normal((60, 3))
    >>> reg = HadamardMultiTaskElasticNetCV(l1_ratio=[0.5, 0.9], alphas=10, cv=3).fit(X, Y)
    >>> reg.mse_path_.shape
    (2, 10, 3)
    """

    path = staticmethod(hadamard_enet_path)
    _parameter_constraints: dict = {
        **HadamardMultiTaskLassoCV._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, copy_X=True, verbose=0, n_jobs=None,
                 random_state=None, selection="cyclic", selection_rule="min"):
        super().__init__(eps=eps, alphas=alphas, fit_intercept=fit_intercept,
                         max_iter=max_iter, tol=tol, copy_X=copy_X, cv=cv, verbose=verbose,
                         n_jobs=n_jobs, random_state=random_state, selection=selection,
                         selection_rule=selection_rule)
        self.l1_ratio = l1_ratio

    def _estimator(self):
        ratio = self.l1_ratio if isinstance(self.l1_ratio, numbers.Real) else 0.5
        return HadamardMultiTaskElasticNet(l1_ratio=ratio, fit_intercept=self.fit_intercept,
                                           max_iter=self.max_iter, tol=self.tol)

    def _ratio_fold_mse_path(self, ratio, X, y, sample_weight, train, test, alphas):
        return _multitask_fold_mse_path(self, X, y, sample_weight, train, test, alphas, ratio)
