"""HadamardLqRegressor: non-convex ℓq penalties (q = 2/k) through depth-k Hadamard factors."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._design import preprocess
from .._groups import grouped_columns
from .._validation import INITS, check_q, check_sample_weight
from ..paths import hadamard_lq_path, lq_path
from ._base import HadamardLinearModel

class HadamardLqRegressor(HadamardLinearModel):
    """Linear model with a non-convex ℓq penalty (q = 2/k), solved through depth-k Hadamard
    factors.

    The objective is::

        1 / (2 * n_samples) * ||y - X w - b0||^2_2 + alpha * sum_j |w_j|^q

    for ``q = 2/k`` with an integer ``k >= 2`` (q = 1, 2/3, 1/2, 2/5, 1/3, ...; with
    ``sample_weight`` s, rescaled to sum to n_samples, the squared error of sample i is
    weighted by s_i). For q < 1 the penalty is non-convex and selects sparser models than the
    lasso, with less shrinkage of the large coefficients. It is solved through the smooth
    surrogate ``w = u_1 ⊙ ... ⊙ u_k``::

        1 / (2 * n_samples) * ||y - X (u_1 ⊙ ... ⊙ u_k) - b0||^2_2
            + alpha / k * sum_d ||u_d||^2

    which has the same local and global minima (AM-GM: ``(1/k) sum_d u_{d,j}^2 >=
    |w_j|^{2/k}``, with equality at balanced factors): L-BFGS on the factors of a working set
    of features, snaps to exact zeros with the ℓq proximal map, a Newton polish on the
    support, and a check of the proximal fixed-point condition on all features.

    With ``groups``, the penalty is the group ℓ2,q penalty and whole groups are selected::

        1 / (2 * n_samples) * ||y - X w - b0||^2_2 + alpha * sum_g weight_g * ||w_g||_2^q

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the penalty, ``alpha >= 0``.
    q : float, default=0.5
        The exponent, ``2/k`` for an integer ``k >= 2`` (floats such as ``2/3`` are accepted
        to rounding). ``q = 1`` is the lasso, solved exactly as :class:`HadamardLasso` does.
    groups : None, int, list of int, list of index lists or array of labels, default=None
        ``None``: the separable penalty above. Otherwise the groups of features, in any form
        :class:`HadamardGroupLasso` accepts (contiguous size, sizes, index lists — overlapping
        lists give the latent group penalty —, or per-feature labels with -1 for unpenalised
        features), and the penalty is the group ℓ2,q penalty
        ``alpha * sum_g weight_g * ||w_g||_2^q``, solved through
        ``w_g = nu_{g,1} ... nu_{g,k-1} * omega_g`` (scalars times a vector) with ridge
        ``alpha * weight_g / k * (sum_d nu_{g,d}^2 + ||omega_g||^2)``.
    weights : array-like of shape (n_groups,), default=None
        With ``groups``: the weight of each group's norm, in the order of ``groups`` (as in
        :class:`HadamardGroupLasso`); ``None`` gives ``sqrt(|g|)``, 0 leaves a group
        unpenalised. Must be None without ``groups``.
    init : {'auto', 'lasso', 'lasso_2alpha', 'path', 'random', 'zero', 'best'}, \
            default='auto'
        The start, which decides the local minimum found (the problem is non-convex):

        - ``'auto'``: ``'lasso_2alpha'`` without ``groups``, ``'lasso'`` with them;
        - ``'lasso'``: the lasso (with ``groups``: group lasso) solution at the same
          ``alpha``, as balanced factors, solved as :class:`HadamardLasso` solves it
          (duality gap ``<= 1e-4 * ||y_c||^2 / n_samples``); its working set is the ℓq
          solver's first one. On 200 x 1000 problems this lasso takes about as long as
          sklearn's ``Lasso`` (2-5 ms), more than the ℓq descent itself;
        - ``'lasso_2alpha'``: the fit from ``'lasso'`` at ``2 * alpha``, which then starts
          the fit at ``alpha`` (a two-point continuation; ``'lasso'`` when ``2 * alpha`` is
          beyond the alpha at which 0 is a fixed point). The lasso at twice alpha keeps
          fewer features: on the benchmarks' 200 x 1000 problems this takes 0.73-0.87 times
          the time of ``'lasso'``; the minima reached are lower on some problems, higher on
          others (``benchmarks/results_lq_starts.md``). Measured worse with ``groups``, so
          not their default;
        - ``'path'``: continuation along a geometric grid of 10 alphas from the smallest
          alpha at which 0 is a fixed point down to ``alpha``, each fit warm-started;
        - ``'random'``: on a random subset of ``min(n_samples, n_features)`` features,
          coefficient j drawn as ``N(0, 1) * |x_jᵀ y| / ||x_j||^2`` (centred data), from
          ``random_state``;
        - ``'zero'``: all coefficients zero (the start of coordinate descent): the first
          step selects, one working set at a time, the coordinates whose proximal step
          leaves zero;
        - ``'best'``: the descents from ``'lasso'``, ``'lasso_2alpha'``, ``'path'`` and
          ``'zero'``, keeping the lowest objective -- about four times the cost, and a
          better local minimum when many features are active (small ``alpha``), where the
          starts disagree.

        Ignored when ``warm_start`` reuses a previous solution, and for q = 1 (the lasso is
        convex: it is solved from zero, as by :class:`HadamardLasso`). Whatever the start,
        a fixed point reached by the descent is then improved by a local search of swap
        moves (see Notes).
    fit_intercept : bool, default=True
        Whether to fit an intercept (sparse X is centred implicitly, never densified).
    max_iter : int, default=100
        Maximum number of outer (working-set) iterations.
    tol : float, default=1e-4
        The fit stops when the proximal fixed-point residual (see ``fixed_point_residual_``)
        is at most ``tol * ||y_c||_2 / sqrt(n_samples)`` (``y_c`` the centred, weighted
        target). For q = 1 the lasso's duality-gap criterion is used instead, as in
        :class:`HadamardLasso`.
    warm_start : bool, default=False
        Reuse the previous ``coef_`` as the start of the next fit.
    random_state : int, RandomState instance or None, default=None
        Seed of ``init='random'``; the solver itself is deterministic.
    local_search : bool, default=True
        Whether to improve the fixed point reached by the descent with swap moves (of
        features, or of whole groups with ``groups``; see Notes). ``False`` returns the
        descent's fixed point, several times faster when many features are active.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Parameter vector (w in the objective), with exact zeros.
    intercept_ : float
        Independent term in the decision function.
    n_iter_ : int
        Number of working-set iterations run (summed over the path for ``init='path'``,
        over both alphas for ``'lasso_2alpha'``);
        each local search that moves the point starts one more.
    fixed_point_residual_ : float
        ``max_j sqrt(G_jj) |w_j - T(w)_j|`` at the returned solution, where
        ``G_jj = ||x_j||^2 / n_samples`` (centred, weighted columns) and
        ``T(w)_j = prox_{(alpha/G_jj) |.|^q}(w_j - grad_j L(w) / G_jj)`` is one exact
        coordinate-descent step of coordinate j from w. It is 0 exactly at points that no
        single coordinate change can improve (in particular every returned zero satisfies
        the ℓq zero condition ``|grad_j L(w)| / G_jj <= tau(alpha / G_jj)``); it is in the
        units of y. With ``groups``: ``max_g sqrt(L_g) ||w_g - T(w)_g||`` with the group step
        ``1 / L_g``, ``L_g`` the largest eigenvalue of ``X_gᵀX_g / n_samples``, and
        ``T(w)_g = prox_{(alpha weight_g / L_g) ||.||^q}(w_g - grad_g L(w) / L_g)``, on the
        latent coefficients when groups overlap.
    objective_ : float
        The objective at the returned solution (intercept fitted).
    sparse_coef_ : scipy.sparse.csr_matrix of shape (1, n_features)
        Sparse representation of ``coef_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    HadamardLasso : The convex case q = 1.

    Notes
    -----
    The proximal map ``prox_{lam |.|^q}(z) = argmin_x 1/2 (x - z)^2 + lam |x|^q`` is 0 when
    ``|z| <= tau = (2 - q) / (2 - 2q) * (2 lam (1 - q))^{1 / (2 - q)}`` and otherwise the
    larger root of ``x + lam q x^{q-1} = |z|`` (with z's sign): in closed form for q = 1/2
    (half thresholding) and q = 2/3 (Ferrari's quartic formula), by Newton's method for the
    other q. For k >= 3 the origin of a coordinate is a local minimum of the surrogate, so
    every zero is locally optimal; the fixed-point condition is the stronger requirement
    that no coordinate step leaves it.

    Fixed points differ in their supports, and no descent moves from one to another. Once a
    fixed point is reached, each support feature in turn, weakest first, is set to 0, the
    zero of the working set whose coordinate step then lowers the objective most is let in,
    coordinate descent settles the rest, and the result is kept only if its objective is
    lower (the "swap" moves of Hazimeh & Mazumder's L0Learn); a kept move is then certified
    by the solver's loop again. The objective never rises. With ``groups`` the moves swap
    whole groups (unpenalised groups are never dropped), with the group proximal steps
    ``T(w)_g`` of step ``1/L_g`` in the block coordinate descent. With many active features
    (small ``alpha``), where fixed points abound, this finds markedly better local minima,
    at several times the cost of the descent.

    Kolb, Müller, Bischl, Rügamer, "Smoothing the Edges: Smooth Optimization for Sparse
    Regularization using Hadamard Overparametrization", arXiv:2307.03571.

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardLqRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 30))
    >>> y = X[:, :3] @ [1.5, -2.0, 1.0] + 0.5 * rng.standard_normal(100)
    >>> reg = HadamardLqRegressor(alpha=0.1, q=0.5).fit(X, y)
    >>> np.flatnonzero(reg.coef_)
    array([0, 1, 2])
    >>> bool(reg.fixed_point_residual_ <= 1e-4 * np.std(y))
    True

    Groups of three features, the first one active:

    >>> y = X[:, :3] @ [1.5, -2.0, 1.0] + 0.5 * rng.standard_normal(100)
    >>> reg = HadamardLqRegressor(alpha=0.1, q=0.5, groups=3).fit(X, y)
    >>> np.flatnonzero(reg.coef_)
    array([0, 1, 2])
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        q=0.5,
        groups=None,
        weights=None,
        init="auto",
        fit_intercept=True,
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        local_search=True,
    ):
        self.alpha = alpha
        self.q = q
        self.groups = groups
        self.weights = weights
        self.init = init
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.local_search = local_search

    path = staticmethod(hadamard_lq_path)
    _parameter_constraints: dict = {
        **HadamardLinearModel._parameter_constraints,
        "q": "no_validation",  # 2/k: check_q lists the valid values
        "groups": "no_validation",  # checked against n_features in fit (_groups.py)
        "weights": ["array-like", None],
        "init": [StrOptions(INITS)],
        "random_state": ["random_state"],
        "local_search": ["boolean"],
    }

    def _validate_params(self):
        super()._validate_params()
        depth = check_q(self.q)
        if self.groups is None and self.weights is not None:
            raise ValueError("The 'weights' parameter needs 'groups' (one weight per group).")
        return depth

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
        depth = self._validate_params()
        q = 2.0 / depth
        self._warn_if_alpha_is_zero()
        X, y, out_dtype = self._validate_fit_data(X, y)
        n_samples, n_features = X.shape
        sample_weight = check_sample_weight(sample_weight, n_samples)
        if self.groups is None:
            columns = np.arange(n_features)
            X_int = X
        else:
            X_int, columns, gptr, w = grouped_columns(self.groups, self.weights, X)
        design, b, x_offset, y_offset = preprocess(X_int, y, sample_weight,
                                                   self.fit_intercept)
        beta0 = self._latent_warm_start(columns.size)
        coefs, residuals, n_iters, objectives = lq_path(
            design, b, [float(self.alpha)], q, beta0,
            weights=None if self.groups is None else w,
            gptr=None if self.groups is None else gptr, init=self.init, tol=float(self.tol),
            max_iter=int(self.max_iter), random_state=self.random_state,
            local_search=bool(self.local_search))
        beta, residual, n_iter = coefs[:, 0], residuals[0], n_iters[0]
        self.objective_ = float(objectives[0])
        self._set_latent_fit(beta, columns, n_features, x_offset, y_offset, out_dtype)
        self.fixed_point_residual_ = float(residual)
        self.n_iter_ = n_iter
        return self
