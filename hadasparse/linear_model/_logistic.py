"""HadamardLogisticRegression: sparse (multinomial) logistic regression, certified by the
duality gap, solved by proximal Newton steps whose weighted squared-error models go to the
Hadamard working-set solvers."""

import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._groups import grouped_columns
from ._classifier import LinearClassifierProbaMixin
from .._validation import (
    check_bool_param,
    check_option,
    check_q,
    check_sample_weight,
    check_scalar_param,
)
from ..solvers._prox_newton import (
    GroupPenalty,
    L1Penalty,
    LqPenalty,
    RowPenalty,
    prox_newton,
    prox_newton_lq,
    prox_newton_ws,
    warn_not_converged,
)

_PENALTIES = {"l1", "elasticnet", "group", "lq"}
_LQ_START_TOL = 1e-4  # the convex fit an lq fit starts from


def _encode_targets(y, classes):
    """Labels as the loss sees them: ±1 in one column for two classes (``classes[1]`` is
    the positive one), one-hot rows for more."""
    idx = np.searchsorted(classes, y)
    if classes.size == 2:
        return np.where(idx == 1, 1.0, -1.0)[:, None]
    Y = np.zeros((y.shape[0], classes.size))
    Y[np.arange(y.shape[0]), idx] = 1.0
    return Y


def check_logistic_params(est):
    """Validate the parameters :class:`HadamardLogisticRegression` and its CV share."""
    check_option(est.penalty, "penalty", _PENALTIES)
    check_bool_param(est.fit_intercept, "fit_intercept")
    check_scalar_param(est.tol, "tol", low=0.0)
    check_scalar_param(est.max_iter, "max_iter", kind="int", low=1)
    check_option(est.multiclass_penalty, "multiclass_penalty", {"entrywise", "row"})
    if est.penalty == "elasticnet":
        if est.l1_ratio is None:
            raise ValueError("penalty='elasticnet' needs l1_ratio (a number in [0, 1]).")
        check_scalar_param(est.l1_ratio, "l1_ratio", low=0.0, high=1.0)
    if est.penalty == "lq":
        check_q(est.q)
    if est.penalty != "l1" and est.multiclass_penalty == "row":
        raise ValueError("multiclass_penalty='row' is a penalty of its own (each feature's K "
                         "coefficients form a group); use it with penalty='l1'.")
    cw = est.class_weight
    if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
        raise ValueError(f"class_weight must be None, 'balanced' or a dict; got {cw!r}.")


def sample_weights_with_classes(y, classes, class_weight, sample_weight):
    """``s_i`` = sample weight × class weight of ``y_i`` (sklearn's meaning of both)."""
    s = np.ones(y.shape[0]) if sample_weight is None else sample_weight.copy()
    if class_weight is not None:
        if isinstance(class_weight, dict):
            unknown = set(class_weight) - set(classes.tolist())
            if unknown:
                raise ValueError(f"class_weight has labels {sorted(unknown, key=str)} that are "
                                 f"not in the classes {classes.tolist()}.")
        cw = compute_class_weight(class_weight, classes=classes, y=y)
        s *= cw[np.searchsorted(classes, y)]
    return s


def _is_lq(est):
    return est.penalty == "lq" and check_q(est.q) > 2


def make_penalty(est, lam, n_features, convex_start=False):
    """``(penalty, X column map)`` of the estimator's penalty at ``λ = 1/C``: the latent
    columns ``columns`` (None: X as it is) for the group penalties. ``convex_start``: the
    convex penalty (ℓ1 or group) an ℓq fit starts from."""
    grouped = est.penalty == "group" or (est.penalty == "lq" and est.groups is not None)
    if grouped:
        X_dummy = sparse.csc_matrix((1, n_features))
        _, columns, gptr, w = grouped_columns(est.groups, est.weights, X_dummy)
        identity = columns.size == n_features and np.array_equal(columns, np.arange(n_features))
        columns = None if identity else columns
        if _is_lq(est) and not convex_start:
            return LqPenalty(lam, float(est.q), w, gptr), columns
        return GroupPenalty(lam, w, gptr), columns
    if _is_lq(est) and not convex_start:
        return LqPenalty(lam, float(est.q)), None
    if est.multiclass_penalty == "row":
        return RowPenalty(lam), None
    l1_ratio = float(est.l1_ratio) if est.penalty == "elasticnet" else 1.0
    return L1Penalty(lam, l1_ratio), None


def fit_lq(est, X, Y, s, lam, n_features, W0=None, b0=None):
    """The ℓq fit of ``est`` on the (latent) design ``X`` (of ``n_features`` features before
    the groups' column map): from ``W0`` if given, else from the convex (ℓ1 or group) fit at
    the same λ, to fixed-point residual ``est.tol``."""
    if W0 is None:
        start, _ = make_penalty(est, lam, n_features, convex_start=True)
        W0, b0 = prox_newton(X, Y, s, start, fit_intercept=est.fit_intercept,
                             tol=_LQ_START_TOL, max_iter=int(est.max_iter))[:2]
    penalty, _ = make_penalty(est, lam, n_features)
    W, b, res, n_iter, converged = prox_newton_lq(
        X, Y, s, penalty, fit_intercept=est.fit_intercept, coef_init=W0, intercept_init=b0,
        tol=float(est.tol), max_iter=int(est.max_iter), verbose=bool(est.verbose))
    if not converged:
        warnings.warn(
            f"The proximal Newton lq solver did not converge after {n_iter} iterations "
            f"(max_iter={est.max_iter}): fixed-point residual {res:.3e}, asked for "
            f"{est.tol:.3e}.",
            ConvergenceWarning, stacklevel=3)
    return W, b, res, n_iter, converged


def logistic_targets(est, y, sample_weight):
    """``(classes, s, Y)``: the classes, the weights ``s_i`` (sample × class weight) and the
    targets as the loss sees them; a ValueError for fewer than two classes."""
    classes = LabelEncoder().fit(y).classes_
    if classes.size < 2:
        raise ValueError("This solver needs samples of at least two classes in the data; "
                         f"got only one class: {classes[0]!r}.")
    s = sample_weights_with_classes(y, classes, est.class_weight, sample_weight)
    Y = _encode_targets(y, classes)
    present = (s @ (Y if Y.shape[1] > 1 else np.c_[Y[:, 0] < 0, Y[:, 0] > 0])) > 0
    if not np.all(present):
        raise ValueError("Every class needs at least one sample with positive weight.")
    return classes, s, Y


def latent_design(est, X):
    """``(X_latent, columns)``: X with its columns in group order for the group penalties
    (a feature of overlapping groups once per group), ``columns`` None when X is used as
    it is."""
    _, columns = make_penalty(est, 1.0, X.shape[1])
    return (X if columns is None else X[:, columns]), columns


def fit_at_C(est, X, Y, s, C, n_features, W0=None, b0=None):
    """One fit of ``est``'s penalty at ``C`` on the latent design ``X`` (``n_features``: the
    features before the groups' column map), warm-started from
    ``(W0, b0)`` if given; warns when it does not converge. Returns
    ``W, b, dual_gap, fixed_point_residual, n_iter`` (NaN for what does not apply)."""
    if _is_lq(est):
        W, b, res, n_iter, _ = fit_lq(est, X, Y, s, 1.0 / C, n_features, W0, b0)
        return W, b, np.nan, res, n_iter
    penalty, _ = make_penalty(est, 1.0 / C, n_features)
    W, b, gap, n_iter, converged, tol_abs = prox_newton_ws(
        X, Y, s, penalty, fit_intercept=est.fit_intercept, coef_init=W0, intercept_init=b0,
        tol=float(est.tol), max_iter=int(est.max_iter), verbose=bool(est.verbose))
    if not converged:
        warn_not_converged(gap, tol_abs, n_iter, est.max_iter)
    return W, b, gap, np.nan, n_iter


class HadamardLogisticRegression(LinearClassifierProbaMixin, ClassifierMixin,
                                 BaseEstimator):
    """Sparse logistic regression (binary or multinomial), solved by proximal Newton steps on
    the Hadamard working-set solvers and certified by the duality gap.

    The objective is sklearn's::

        sum_i s_i * log(1 + exp(-y_i (x_i^T w + b))) + (1 / C) * P(w)

    (multinomial: ``sum_i s_i * (logsumexp(z_i) - z_{i, y_i})`` with ``z_i = W x_i + b``, one
    coefficient vector per class), where ``s_i`` is the sample weight times the class weight
    and ``P`` is

    - ``"l1"``: ``||w||_1`` (entrywise over the classes), or with
      ``multiclass_penalty="row"`` ``sum_j ||W_{:, j}||_2`` (a feature is used by all classes
      or by none);
    - ``"elasticnet"``: ``l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||_2^2``;
    - ``"group"``: ``sum_g weight_g * ||w_g||_2`` with ``groups`` and ``weights`` as in
      :class:`HadamardGroupLasso` (overlapping groups: the latent group lasso; label -1 or
      weight 0: unpenalised features), applied to each class's coefficients;
    - ``"lq"``: ``sum_j |w_j|^q`` for ``q = 2/k`` (k ≥ 2 an integer), or with ``groups``
      ``sum_g weight_g * ||w_g||_2^q``: non-convex, fitted to a local minimiser that starts
      from the ℓ1 (group) solution at the same C; ``q = 1`` is ``"l1"`` (``"group"``).

    The intercept is never penalised (unlike liblinear's, which is a penalised feature).
    Unpenalised features (group label -1 or weight 0) are fitted with it: after every step
    the intercept and their coefficients are re-optimised jointly (Newton on that block), so
    that the dual point is orthogonal to them and the duality gap remains a certificate.
    If they alone separate the classes the problem has no minimiser: the fit returns large
    coefficients at which the gap to the infimum is within ``tol``.

    Each outer step replaces the loss by its second-order model at the current predictor
    (sample weights ``s_i ℓ''(z_i)``, working response ``z_i − ℓ'(z_i)/ℓ''(z_i)``), a weighted
    lasso (group lasso, multi-task lasso) that the Hadamard solvers minimise with exact zeros
    (an ℓ1 or elastic-net model of at most 400 features by the lasso kernel on its Gram
    matrix, others by the working-set solvers); a line search on the true objective follows. The fit stops when the duality
    gap of the logistic problem (dual point from the scaled generalised residual) is at most
    ``tol`` times the objective of the intercept-only model.

    Parameters
    ----------
    penalty : {'l1', 'elasticnet', 'group', 'lq'}, default='l1'
        The penalty ``P`` above.
    C : float, default=1.0
        Inverse regularisation strength (``> 0``), as in sklearn.
    l1_ratio : float or None, default=None
        The elastic-net mixing in ``[0, 1]``; only with ``penalty='elasticnet'``.
    q : float, default=0.5
        The exponent of ``penalty='lq'``: ``2/k`` for an integer ``k >= 2``.
    groups : int, list or array-like, default=None
        Groups of features for ``penalty='group'`` (and optionally ``'lq'``), in the forms
        :class:`HadamardGroupLasso` takes (a group size, a list of sizes, a list of index
        lists, or per-feature labels, where label -1 marks unpenalised features).
    weights : array-like of shape (n_groups,), default=None
        Group weights (non-negative; 0 leaves a group unpenalised), one per group of
        ``groups`` (labels: per label >= 0); default ``sqrt(group size)``.
    multiclass_penalty : {'entrywise', 'row'}, default='entrywise'
        For more than two classes with ``penalty='l1'``: penalise the coefficients
        separately, or each feature's K coefficients as one group.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into the sample weights (sklearn's meaning).
    tol : float, default=1e-6
        Convex penalties: a relative duality gap, the fit stops when the gap is at most
        ``tol`` times the objective of the intercept-only model. ``'lq'``: the fixed-point
        residual ``max_j sqrt(L_j / sum_i s_i) |w_j − T(w)_j|`` of the proximal-gradient map
        ``T`` with steps ``1/L_j`` (``L_j`` the curvature bound of coordinate (group) j): the
        largest root-mean-square change of the linear predictor one step would make.
    max_iter : int, default=100
        Maximum number of proximal Newton steps (a handful usually suffice).
    warm_start : bool, default=False
        Start from the previous fit's coefficients and intercept.
    verbose : int, default=0
        Print the objective and gap at every Newton step.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, with exact zeros.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
        Number of proximal Newton steps.
    dual_gap_ : float
        Duality gap at the returned solution (the certificate), in the objective's units;
        NaN for ``'lq'``.
    fixed_point_residual_ : float
        ``'lq'`` only (NaN otherwise): the residual that ``tol`` bounds.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    sklearn.linear_model.LogisticRegression : liblinear / saga solvers of the ℓ1 problem.
    HadamardLogisticRegressionCV : C chosen by cross-validation.
    hadamard_logistic_path : Coefficients along a grid of C with warm starts.

    Notes
    -----
    Binary fits converge quadratically (proximal Newton; for ℓ1 and the elastic net each step
    moves a working set of features chosen afresh: the support and at most as many of the
    features violating optimality). Multinomial fits take one Newton step per class in turn (the
    block's Hessian ``p_k (1 − p_k)`` is diagonal in the samples, so each model is exact), the
    loss-invariant shift of each feature's K coefficients exactly, and extrapolate the cycles
    (Anderson, or along their drift); the row penalty takes joint steps with one weight per
    sample, ``max_k p_k (1 − p_k)``. Both converge linearly: gaps below about 1e-9 relative can
    take many steps, and a ConvergenceWarning then says what the gap reached. The row
    penalty, once its gap is below 1e-4 of the objective, adds Newton's method with the
    exact (class-coupled) Hessian on the support (of at most 1000 coefficients), which
    converges quadratically when the support is the solution's. The elastic
    net's ridge term is handled as extra rows of the design (dense when p ≤ n, sparse
    otherwise, so memory stays linear in the data; on sparse X this is slow).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from hadasparse import HadamardLogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = HadamardLogisticRegression(C=0.1, tol=1e-8).fit(X, y)
    >>> int((clf.coef_ != 0).sum())
    8
    >>> round(clf.score(X, y), 3)
    0.974
    """

    def __init__(self, penalty="l1", *, C=1.0, l1_ratio=None, q=0.5, groups=None, weights=None,
                 multiclass_penalty="entrywise", fit_intercept=True, class_weight=None,
                 tol=1e-6, max_iter=100, warm_start=False, verbose=0):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.q = q
        self.groups = groups
        self.weights = weights
        self.multiclass_penalty = multiclass_penalty
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _validate_fit_data(self, X, y, sample_weight):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc", "coo"],
                             dtype=[np.float64, np.float32])
        if sparse.issparse(X):
            X = X.asformat("csc")  # column slices for the working sets and groups
            if not np.all(np.isfinite(X.data)):
                raise ValueError("Input X contains NaN or infinity.")
        check_classification_targets(y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return X, y, sample_weight

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (two or more classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``s_i`` (not rescaled: the objective is a weighted sum).

        Returns
        -------
        self : object
        """
        check_scalar_param(self.C, "C", low=0.0, low_inclusive=False)
        check_logistic_params(self)
        X, y, sample_weight = self._validate_fit_data(X, y, sample_weight)
        classes, s, Y = logistic_targets(self, y, sample_weight)
        n_features = X.shape[1]
        Xs, columns = latent_design(self, X)
        W0 = b0 = None
        if self.warm_start and hasattr(self, "_latent_coef"):
            if self._latent_coef.shape == (Xs.shape[1], Y.shape[1]):
                W0, b0 = self._latent_coef, self.intercept_
        W, b, gap, res, n_iter = fit_at_C(self, Xs, Y, s, float(self.C), n_features, W0, b0)
        self._set_fit(classes, W, b, columns, n_features, X.dtype)
        self.dual_gap_ = float(gap)
        self.fixed_point_residual_ = float(res)
        self.n_iter_ = np.array([n_iter])
        return self

    def _set_fit(self, classes, W, b, columns, n_features, dtype):
        self.classes_ = classes
        self._latent_coef = W
        coef = W.T
        if columns is not None:
            coef = np.stack([np.bincount(columns, weights=w, minlength=n_features) for w in coef])
        self.coef_ = np.ascontiguousarray(coef, dtype=dtype)
        self.intercept_ = np.asarray(b, dtype=dtype) if self.fit_intercept else np.zeros(
            W.shape[1], dtype=dtype)

    def decision_function(self, X):
        """Confidence scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes (the positive class is
            ``classes_[1]``), else (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], reset=False,
                          dtype=[np.float64, np.float32])
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    @property
    def sparse_coef_(self):
        """``coef_`` as a scipy.sparse CSR matrix."""
        check_is_fitted(self)
        return sparse.csr_matrix(self.coef_)
