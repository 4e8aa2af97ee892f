"""The regularisation path of HadamardLogisticRegression (warm starts along a grid of C) and
its cross-validated variant."""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted

from .._validation import check_option, check_scalar_param
from ..solvers._prox_newton import null_gradient
from ._logistic import (
    HadamardLogisticRegression,
    _is_lq,
    check_logistic_params,
    fit_at_C,
    latent_design,
    logistic_targets,
    make_penalty,
)

_PATH_PARAMS = ("penalty", "l1_ratio", "q", "groups", "weights", "multiclass_penalty",
                "fit_intercept", "class_weight", "tol", "max_iter")


def logistic_C_min(est, X, Y, s, n_features):
    """The smallest C at which every penalised coefficient of ``est``'s (convex) penalty is
    zero, on the latent design ``X`` (for ``'lq'``: that of its ℓ1 / group start): from the
    gradient at the null model, whose intercept and unpenalised features are fitted."""
    penalty, _ = make_penalty(est, 1.0, n_features, convex_start=True)
    V = null_gradient(X, Y, s, est.fit_intercept, penalty.free)
    lam_max = penalty.lam_max(V)
    if not lam_max > 0:
        raise ValueError("The gradient at the null model (intercept and unpenalised features "
                         "only) is zero on the penalised features: every C gives the same "
                         "model, so there is no grid to build.")
    return 1.0 / lam_max


def _C_grid(Cs, C_min, eps):
    if isinstance(Cs, numbers.Integral) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(f"Cs={Cs}: the number of values of C must be at least 1.")
        return np.geomspace(C_min, C_min / eps, int(Cs))
    grid = np.asarray(Cs, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError("Cs must be an int or a non-empty 1-D array of positive, finite C.")
    return np.sort(grid)


def _path(est, X, Y, s, Cs, n_features):
    """Fits along increasing ``Cs`` (from sparse to dense), each warm-started from the
    last. Returns latent ``W`` (n_Cs, p_latent, K), ``b`` (n_Cs, K), n_iter, gaps."""
    K = Y.shape[1]
    Ws = np.zeros((Cs.size, X.shape[1], K))
    bs = np.zeros((Cs.size, K))
    n_iter = np.zeros(Cs.size, dtype=int)
    gaps = np.zeros(Cs.size)
    W = b = None
    for i, C in enumerate(Cs):
        W, b, gap, res, it = fit_at_C(est, X, Y, s, float(C), n_features, W, b)
        Ws[i], bs[i], n_iter[i] = W, b, it
        gaps[i] = res if np.isnan(gap) else gap
    return Ws, bs, n_iter, gaps


def _coefs(Ws, columns, n_features):
    """Latent (n_Cs, p_latent, K) coefficients as (n_Cs, K, n_features)."""
    out = np.transpose(Ws, (0, 2, 1))
    if columns is None:
        return np.ascontiguousarray(out)
    flat = out.reshape(-1, out.shape[2])
    summed = np.stack([np.bincount(columns, weights=w, minlength=n_features) for w in flat])
    return summed.reshape(out.shape[0], out.shape[1], n_features)


def hadamard_logistic_path(X, y, *, Cs=10, eps=1e-3, penalty="l1", l1_ratio=None, q=0.5,
                           groups=None, weights=None, multiclass_penalty="entrywise",
                           fit_intercept=True, class_weight=None, sample_weight=None,
                           tol=1e-6, max_iter=100):
    """Coefficients of :class:`HadamardLogisticRegression` along a grid of C, warm-started.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    Cs : int or array-like, default=10
        The grid: an int gives that many values log-spaced from the C at which every
        coefficient vanishes (``1 / λ_max``) to ``1 / (eps λ_max)``; an array is used as
        given (sorted increasingly: the path runs from sparse to dense).
    eps : float, default=1e-3
        ``C_min / C_max`` of a generated grid.
    penalty, l1_ratio, q, groups, weights, multiclass_penalty, fit_intercept, class_weight, \
tol, max_iter
        As in :class:`HadamardLogisticRegression`.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    Cs : ndarray of shape (n_Cs,)
    coefs : ndarray of shape (n_Cs, n_coef_rows, n_features)
        ``coef_`` at every C (one row for two classes, else one per class).
    intercepts : ndarray of shape (n_Cs, n_coef_rows)
    n_iter : ndarray of shape (n_Cs,)
        Proximal Newton steps at every C (warm starts make later ones short).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from hadasparse import hadamard_logistic_path
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> Cs, coefs, intercepts, n_iter = hadamard_logistic_path(X, y, Cs=5)
    >>> [int((c != 0).sum()) for c in coefs]
    [0, 4, 9, 17, 22]
    """
    est = HadamardLogisticRegression(penalty=penalty, l1_ratio=l1_ratio, q=q, groups=groups,
                                     weights=weights, multiclass_penalty=multiclass_penalty,
                                     fit_intercept=fit_intercept, class_weight=class_weight,
                                     tol=tol, max_iter=max_iter)
    check_logistic_params(est)
    check_scalar_param(eps, "eps", low=0.0, high=1.0, low_inclusive=False)
    X, y, sample_weight = est._validate_fit_data(X, y, sample_weight)
    _, s, Y = logistic_targets(est, y, sample_weight)
    Xl, columns = latent_design(est, X)
    grid = _C_grid(Cs, logistic_C_min(est, Xl, Y, s, X.shape[1])
                   if isinstance(Cs, numbers.Integral) else 1.0, eps)
    Ws, bs, n_iter, _ = _path(est, Xl, Y, s, grid, X.shape[1])
    return grid, _coefs(Ws, columns, X.shape[1]), bs, n_iter


class HadamardLogisticRegressionCV(HadamardLogisticRegression):
    """:class:`HadamardLogisticRegression` with C chosen by cross-validation over a
    warm-started path per fold.

    Parameters
    ----------
    Cs : int or array-like, default=10
        The grid of C (see :func:`hadamard_logistic_path`); an int is log-spaced from the C at
        which every coefficient vanishes on the whole training set.
    eps : float, default=1e-3
        ``C_min / C_max`` of a generated grid.
    cv : int, cross-validation generator or iterable, default=None
        As in sklearn: None is 5-fold, an int k-fold, stratified for classification.
    scoring : str or callable, default=None
        A sklearn scorer (``None`` is accuracy, as in sklearn; ``"neg_log_loss"`` works, as
        does any scorer that uses ``predict``, ``predict_proba`` or ``decision_function``).
    rule : {'best', '1se'}, default='best'
        ``'best'``: the C of the best mean score; ``'1se'``: the smallest C (the sparsest
        model) whose mean score is within one standard error of the best.
    penalty, l1_ratio, q, groups, weights, multiclass_penalty, fit_intercept, class_weight, \
tol, max_iter, verbose
        As in :class:`HadamardLogisticRegression`.

    Attributes
    ----------
    Cs_ : ndarray of shape (n_Cs,)
    scores_ : ndarray of shape (n_folds, n_Cs)
        Test-fold scores at every C.
    coefs_paths_ : ndarray of shape (n_folds, n_Cs, n_coef_rows, n_features)
        Each fold's path of ``coef_``.
    C_ : float
        The chosen C; the final model is refitted on all data at it.
    classes_, coef_, intercept_, n_iter_, dual_gap_, fixed_point_residual_
        Of the refitted model (as in :class:`HadamardLogisticRegression`).

    See Also
    --------
    hadamard_logistic_path : The path, without cross-validation.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from hadasparse import HadamardLogisticRegressionCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = HadamardLogisticRegressionCV(Cs=8, cv=3).fit(X, y)
    >>> clf.scores_.shape
    (3, 8)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    def __init__(self, *, Cs=10, eps=1e-3, cv=None, scoring=None, rule="best", penalty="l1",
                 l1_ratio=None, q=0.5, groups=None, weights=None,
                 multiclass_penalty="entrywise", fit_intercept=True, class_weight=None,
                 tol=1e-6, max_iter=100, verbose=0):
        self.Cs = Cs
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.rule = rule
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.q = q
        self.groups = groups
        self.weights = weights
        self.multiclass_penalty = multiclass_penalty
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    # the path fits warm-start from each other, the refit from the fold-free path's point
    warm_start = False

    def fit(self, X, y, sample_weight=None):
        """Choose C by cross-validation, then fit on all data at it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Used in the fits (not in the scores).

        Returns
        -------
        self : object
        """
        check_logistic_params(self)
        check_option(self.rule, "rule", {"best", "1se"})
        check_scalar_param(self.eps, "eps", low=0.0, high=1.0, low_inclusive=False)
        X, y, sample_weight = self._validate_fit_data(X, y, sample_weight)
        classes, s, Y = logistic_targets(self, y, sample_weight)
        Xl, columns = latent_design(self, X)
        n_features = X.shape[1]
        if isinstance(self.Cs, numbers.Integral):
            grid = _C_grid(self.Cs, logistic_C_min(self, Xl, Y, s, n_features), self.eps)
        else:
            grid = _C_grid(self.Cs, 1.0, self.eps)
        cv = check_cv(self.cv, y, classifier=True)
        scorer = check_scoring(self, scoring=self.scoring)
        scores, paths = [], []
        for train, test in cv.split(X, y):
            Y_tr, s_tr = Y[train], s[train]
            counts = s_tr @ (Y_tr if Y_tr.shape[1] > 1 else np.c_[Y_tr < 0, Y_tr > 0])
            if np.any(counts <= 0):
                raise ValueError("A training fold has no sample (of positive weight) of some "
                                 "class: use fewer folds.")
            Ws, bs, _, _ = _path(self, Xl[train], Y_tr, s_tr, grid, n_features)
            coefs = _coefs(Ws, columns, n_features)
            paths.append(coefs)
            fold = []
            for coef, b in zip(coefs, bs):
                fitted = self._shell(classes, coef, b, n_features)
                fold.append(scorer(fitted, X[test], y[test]))
            scores.append(fold)
        self.Cs_ = grid
        self.scores_ = np.asarray(scores, dtype=np.float64)
        self.coefs_paths_ = np.asarray(paths)
        mean = self.scores_.mean(axis=0)
        best = int(np.argmax(mean))
        if self.rule == "1se":
            se = self.scores_[:, best].std(ddof=1) / np.sqrt(self.scores_.shape[0]) if (
                self.scores_.shape[0] > 1) else 0.0
            best = int(np.flatnonzero(mean >= mean[best] - se)[0])  # smallest C
        self.C_ = float(grid[best])
        # refit on all data along the grid up to C_ (warm starts, as in the folds)
        Ws, bs, n_iter, gaps = _path(self, Xl, Y, s, grid[:best + 1], n_features)
        self._set_fit(classes, Ws[-1], bs[-1], columns, n_features, X.dtype)
        self.n_iter_ = np.array([int(n_iter.sum())])
        lq = _is_lq(self)
        self.dual_gap_ = float(np.nan if lq else gaps[-1])
        self.fixed_point_residual_ = float(gaps[-1] if lq else np.nan)
        return self

    def _shell(self, classes, coef, intercept, n_features):
        """A fitted HadamardLogisticRegression with the given coefficients (for scorers)."""
        est = clone(HadamardLogisticRegression(fit_intercept=self.fit_intercept))
        est.classes_ = classes
        est.coef_ = coef
        est.intercept_ = intercept
        est.n_features_in_ = n_features
        if hasattr(self, "feature_names_in_"):
            est.feature_names_in_ = self.feature_names_in_
        return est

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (as in sklearn's LogisticRegressionCV when ``scoring`` is None, else
        the ``scoring`` scorer)."""
        check_is_fitted(self)
        if self.scoring is None:
            return super().score(X, y, sample_weight=sample_weight)
        scorer = check_scoring(self, scoring=self.scoring)
        if sample_weight is None:
            return scorer(self, X, y)
        return scorer(self, X, y, sample_weight=sample_weight)
