"""HadamardGroupLasso: the group lasso, solved through the group Hadamard overparametrisation."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array

from .._design import preprocess
from ..solvers import group_alpha_max
from ..paths import group_lasso_path, hadamard_group_lasso_path
from ._base import HadamardLinearModel
from .._validation import check_sample_weight
from .._groups import grouped_columns, resolve_groups, resolve_weights


def group_lasso_alpha_max(X, y, *, groups=None, weights=None, sample_weight=None,
                          fit_intercept=True, positive=False):
    """Smallest ``alpha`` for which :class:`HadamardGroupLasso` selects no penalised group.

    ``max_g ‖X_gᵀ y_c‖₂ / (n w_g)`` over the penalised groups, with ``X`` and ``y`` centred
    (and weighted) as in the fit, and ``y_c`` the target once the unpenalised features are
    fitted (by least squares); with ``positive``, ``max_g ‖max(X_gᵀ y_c, 0)‖₂ / (n w_g)``.
    ``groups``, ``weights`` as in :class:`HadamardGroupLasso`.
    """
    X = check_array(X, accept_sparse="csc", dtype=np.float64)
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
    columns, gptr, sizes, free = resolve_groups(groups, X.shape[1])
    w = resolve_weights(weights, sizes, free)
    sw = check_sample_weight(sample_weight, X.shape[0])
    design, b, _, _ = preprocess(X[:, columns], y, sw, fit_intercept)
    return group_alpha_max(design, b, w, gptr, positive=positive)


class HadamardGroupLasso(HadamardLinearModel):
    """Linear model with a group-lasso penalty, solved by smooth optimisation of group factors.

    Selects whole groups of features. The objective is::

        1 / (2 * n_samples) * ||y - X w - b0||^2_2 + alpha * sum_g weight_g * ||w_g||_2

    with ``weight_g = sqrt(|g|)`` by default (with ``sample_weight`` s, rescaled to sum to
    n_samples, the squared error of sample i is weighted by s_i). It is solved through the
    group Hadamard factorisation ``w_g = nu_g * omega_g`` (a scalar times a vector)::

        1 / (2 * n_samples) * ||y - X w - b0||^2_2
            + sum_g alpha * weight_g / 2 * (nu_g^2 + ||omega_g||^2)

    which has the same minima (``(nu^2 + ||omega||^2) / 2 >= |nu| ||omega||``, equal at
    balance): L-BFGS on the factors of a working set of groups grown by group-KKT violation
    (a zero group with ``||grad_g|| > alpha weight_g`` is a saddle of the surrogate), then a
    block soft-thresholding snap to exact zeros, a Newton polish on the active groups, and a
    duality-gap check on all groups.

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the penalty.
    groups : None, int, list of int, list of index lists or array of labels, default=None
        The groups of features:

        - ``None``: every feature is its own group (the lasso, with weight 1);
        - an int ``k``: contiguous groups of ``k`` features (``k`` must divide n_features);
        - a list of group sizes, summing to n_features: contiguous groups of those sizes;
        - a list of lists of feature indices. The lists must cover every feature. If they
          overlap, the model is the *latent* (overlapping) group lasso of Jacob, Obozinski and
          Vert (2009): a feature in several groups gets one latent copy per group (the columns
          are duplicated), each copy is penalised with its group, and ``coef_`` is the sum of
          the copies;
        - a 1-D array of length n_features with one integer label per feature (features with
          the same label form a group, ordered by label); label ``-1`` marks unpenalised
          features. A 1-D sequence of any other length is read as group sizes.
    weights : array-like of shape (n_groups,), default=None
        Weight of each group's norm, in the order of ``groups`` (labels: increasing label; the
        unpenalised features of label -1 are not counted). ``None`` gives ``sqrt(|g|)``. A
        weight of 0 leaves the group unpenalised.
    fit_intercept : bool, default=True
        Whether to fit an intercept (sparse X is centred implicitly, never densified).
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified (dense X is centred and weighted on
        a copy when needed, sparse X is never centred).
    max_iter : int, default=1000
        Maximum number of outer (working-set) iterations.
    tol : float, default=1e-4
        The fit stops when the duality gap is at most ``tol * ||y_c||^2 / n_samples``
        (``y_c`` the centred, weighted target), as in sklearn's Lasso.
    warm_start : bool, default=False
        Reuse the previous solution as the start of the next fit.
    positive : bool, default=False
        Constrain the coefficients to be non-negative: the objective above is minimised
        subject to ``w >= 0``. Every feature must then be in a penalised group (no label -1,
        no weight 0; a ValueError otherwise). See Notes for how it is solved.
    l1_ratio : float, default=1.0
        ``0 < l1_ratio <= 1``: below 1, the group elastic net, ``alpha * l1_ratio`` on the
        group norms above plus ``alpha * (1 - l1_ratio) / 2 * ||w||^2`` (the ridge stays on
        w; only the group norms are overparametrised), certified by the duality gap of the
        design augmented with the ridge rows. The CV class and the path function use 1.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Parameter vector (w in the objective); whole groups are exactly zero.
    intercept_ : float
        Independent term in the decision function.
    n_iter_ : int
        Number of working-set iterations run.
    dual_gap_ : float
        Duality gap at the returned solution, in the objective's scaling (the certificate).
    sparse_coef_ : scipy.sparse.csr_matrix of shape (1, n_features)
        Sparse representation of ``coef_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    HadamardLasso : The ℓ1 penalty (singleton groups).
    HadamardMultiTaskLasso : Rows of a coefficient matrix as groups.
    group_lasso_alpha_max : The smallest ``alpha`` with no selected group.

    Notes
    -----
    The duality gap uses the dual point ``theta = r / max(1, max_g ||X_g^T r|| / (n alpha
    weight_g))`` over the penalised groups, with the residual ``r`` projected off the span of
    the unpenalised features (the dual constraint ``X_u^T theta = 0``), so it is a valid
    certificate at every point.

    With ``positive=True`` the factors are squared, ``w_j = s_g^2 * u_j^2`` (``nu_g = s_g^2``,
    ``omega_j = u_j^2``), with surrogate penalty ``alpha * weight_g / 2 * (s_g^4 +
    sum_j u_j^4)``: the same bound over non-negative factors, so every point of the smooth
    problem is feasible. The snap thresholds the positive part (the proximal map of
    ``alpha weight_g ||.|| + [w_g >= 0]`` is the block soft-thresholding of ``max(z_g, 0)``),
    the Newton polish works on the positive coordinates of the active groups, and the dual
    constraint of the certificate becomes ``||max(X_g^T theta, 0)|| <= n alpha weight_g``. The
    optimality conditions checked are: on a zero group ``||max(-grad_g, 0)|| <= alpha
    weight_g``; in a nonzero group ``grad_j = -alpha weight_g w_j / ||w_g||`` where ``w_j > 0``
    and ``grad_j >= 0`` where ``w_j = 0`` (``grad`` the gradient of the squared-error term).

    Kolb, Müller, Bischl, Rügamer, "Smoothing the Edges: Smooth Optimization for Sparse
    Regularization using Hadamard Overparametrization", arXiv:2307.03571.

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardGroupLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 12))
    >>> y = X[:, :3] @ [1.0, -2.0, 1.5] + 0.1 * rng.standard_normal(100)
    >>> reg = HadamardGroupLasso(alpha=0.1, groups=3).fit(X, y)
    >>> np.flatnonzero(reg.coef_)  # the first group of three, whole
    array([0, 1, 2])
    >>> bool(reg.dual_gap_ <= 1e-4 * ((y - y.mean()) ** 2).mean())
    True
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        groups=None,
        weights=None,
        fit_intercept=True,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        l1_ratio=1.0,
    ):
        self.alpha = alpha
        self.groups = groups
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.l1_ratio = l1_ratio

    path = staticmethod(hadamard_group_lasso_path)
    _parameter_constraints: dict = {
        **HadamardLinearModel._parameter_constraints,
        "groups": "no_validation",  # checked against n_features in fit (_groups.py)
        "weights": ["array-like", None],
        "copy_X": ["boolean"],
        "positive": ["boolean"],
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled internally to sum to n_samples, as in sklearn.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._warn_if_alpha_is_zero()
        X, y, out_dtype = self._validate_fit_data(X, y)
        n_samples, n_features = X.shape
        sample_weight = check_sample_weight(sample_weight, n_samples)
        X_int, columns, gptr, w = grouped_columns(self.groups, self.weights, X)
        if self.positive and np.any(w == 0):
            raise ValueError("positive=True needs every feature in a penalised group; got "
                             "unpenalised features (label -1 or weight 0).")
        design, b, x_offset, y_offset = preprocess(
            X_int, y, sample_weight, self.fit_intercept
        )

        beta0 = self._latent_warm_start(columns.size)
        if (beta0 is None and self.warm_start and hasattr(self, "coef_")
                and columns.size == n_features and self.coef_.shape == (n_features,)):
            beta0 = np.asarray(self.coef_, dtype=np.float64)[columns]

        coefs, gaps, n_iters = group_lasso_path(
            design, b, [float(self.alpha)], w, gptr, beta0, tol=float(self.tol),
            max_iter=int(self.max_iter), positive=bool(self.positive),
            l1_ratio=float(self.l1_ratio))
        beta = coefs[:, 0]
        self._set_latent_fit(beta, columns, n_features, x_offset, y_offset, out_dtype)
        self.dual_gap_ = float(gaps[0])
        self.n_iter_ = n_iters[0]
        return self
