"""HadamardMultiTaskLasso: sklearn's MultiTaskLasso, by a certified working-set solver."""

import numpy as np
from sklearn.base import MultiOutputMixin

from .._design import preprocess
from ..paths import hadamard_lasso_path, multitask_lasso_path
from ._base import HadamardLinearModel, to_output_dtype
from .._validation import SELECTION, check_sample_weight


class HadamardMultiTaskLasso(MultiOutputMixin, HadamardLinearModel):
    """Multi-task lasso (ℓ1/ℓ2 mixed norm), by a certified working-set solver.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskLasso`: same parameters,
    attributes, objective and — to the tolerance — the same solution, with features dropped
    exactly for all tasks at once and a duality-gap certificate. The objective is::

        1 / (2 * n_samples) * ||Y - X W^T - b0||^2_Fro + alpha * sum_j ||W[:, j]||_2

    where ``W = coef_`` has one row per task, so each feature's coefficients across the tasks
    form a group (with ``sample_weight`` s, rescaled to sum to n_samples, the squared error of
    sample i is weighted by s_i). It is the group lasso of :class:`HadamardGroupLasso` with
    one group per feature and weight 1 on the design ``X ⊗ I_T``. The solver is a working-set
    loop certified by the duality gap on all features, like the other models; the problem
    restricted to the working set is solved by block coordinate descent in residual form
    with Anderson extrapolation and gap-safe screening (no Gram matrix: memory linear in the
    working set, whatever its size), and, when the support holds at most 600 coefficients, the
    group Newton polish of :class:`HadamardGroupLasso` takes the solution to rounding
    accuracy. (The inner solve used to be the
    group Hadamard kernel itself, L-BFGS on the factors ``W[:, j] = nu_j * omega_j``; with
    more active features than samples its Newton systems are nearly singular and it was
    3-6x slower than sklearn.)

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the ℓ1/ℓ2 term.
    fit_intercept : bool, default=True
        Whether to fit an intercept per task (sparse X is centred implicitly).
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified (dense X is centred and weighted on
        a copy when needed, sparse X is never centred).
    max_iter : int, default=1000
        Maximum number of outer (working-set) iterations.
    tol : float, default=1e-4
        Same meaning as in sklearn: the fit stops when the duality gap is at most
        ``tol * ||Y_c||^2_Fro / n_samples`` (``Y_c`` the centred, weighted targets).
    warm_start : bool, default=False
        Reuse the previous ``coef_`` as the start of the next fit.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility with sklearn and ignored (the solver is deterministic).
    selection : {'cyclic', 'random'}, default='cyclic'
        Accepted for compatibility with sklearn and ignored (no coordinate descent here).

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Parameter matrix (W in the objective); whole columns are exactly zero.
    intercept_ : ndarray of shape (n_tasks,) or float
        Independent term in the decision function (0.0 when ``fit_intercept=False``, as in
        sklearn).
    n_iter_ : int
        Number of working-set iterations run.
    dual_gap_ : float
        Duality gap at the returned solution, in the objective's scaling.
    eps_ : float
        The tolerance scaled as sklearn reports it, ``tol * ||Y_c||^2_Fro``.
    sparse_coef_ : scipy.sparse.csr_matrix of shape (n_tasks, n_features)
        Sparse representation of ``coef_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.MultiTaskLasso : The coordinate-descent solver of the same problem.
    HadamardGroupLasso : Groups of features within one task.

    Notes
    -----
    Kolb, Müller, Bischl, Rügamer, "Smoothing the Edges: Smooth Optimization for Sparse
    Regularization using Hadamard Overparametrization", arXiv:2307.03571.

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import HadamardMultiTaskLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 8))
    >>> Y = X[:, [0, 3]] @ [[1.0, -1.0, 2.0], [0.5, 1.0, -1.0]] + 0.1 * rng.standard_normal((100, 3))
    >>> reg = HadamardMultiTaskLasso(alpha=0.1).fit(X, Y)
    >>> np.flatnonzero(np.abs(reg.coef_).sum(axis=0))  # features kept for every task
    array([0, 3])
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        selection="cyclic",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.selection = selection

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    path = staticmethod(hadamard_lasso_path)  # with a 2-D y, the multi-task path
    _parameter_constraints: dict = {
        **HadamardLinearModel._parameter_constraints,
        "copy_X": ["boolean"],
        "random_state": ["random_state"],
        "selection": [SELECTION],
    }

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_tasks)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled internally to sum to n_samples, as in sklearn.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._warn_if_alpha_is_zero()
        X, y, out_dtype = self._validate_fit_data(X, y, multi_output=True)
        if y.ndim == 1:
            raise ValueError("For mono-task outputs, use HadamardLasso.")
        n_samples, n_features = X.shape
        n_tasks = y.shape[1]
        sample_weight = check_sample_weight(sample_weight, n_samples)
        design, B, x_offset, y_offset = preprocess(
            X, y, sample_weight, self.fit_intercept
        )
        y_sq = float(np.vdot(B, B))

        W0 = None
        if self.warm_start and hasattr(self, "coef_"):
            if np.shape(self.coef_) == (n_tasks, n_features):
                # the last solution in float64 (coef_ may be float32), unless coef_ was set
                W0 = getattr(self, "_solution", None)
                if W0 is None or not np.array_equal(W0.T.astype(self.coef_.dtype),
                                                    self.coef_):
                    W0 = np.asarray(self.coef_, dtype=np.float64).T

        l1_ratio = float(getattr(self, "l1_ratio", 1.0))  # the elastic net's mixing
        _, coefs, gaps, n_iters = multitask_lasso_path(
            design, B, [float(self.alpha)], None if W0 is None else W0.T, float(self.tol),
            int(self.max_iter), False, True, np.dtype(np.float64), l1_ratio)
        W, gap, n_iter = coefs[:, :, 0].T, gaps[0], n_iters[0]
        self._solution = W
        coef = W.T
        intercept = y_offset - coef @ x_offset
        self.coef_ = to_output_dtype(coef, out_dtype, "coefficients")
        # like sklearn: a float 0.0 without an intercept
        self.intercept_ = (to_output_dtype(intercept, out_dtype, "intercept")
                           if self.fit_intercept else 0.0)
        self.dual_gap_ = max(float(gap), 0.0)  # rounding noise below zero
        self.eps_ = float(self.tol * y_sq)
        self.n_iter_ = n_iter
        return self
