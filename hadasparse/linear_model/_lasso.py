"""HadamardLasso: sklearn's Lasso, solved through the Hadamard overparametrisation."""

import warnings
from contextlib import nullcontext

import numpy as np
from scipy import sparse
from sklearn.base import MultiOutputMixin
from sklearn.utils import metadata_routing
from sklearn.utils.validation import check_array

from .._design import TallDesign, is_tall, preprocess
from ..paths import hadamard_lasso_path, least_squares
from ..solvers import WorkingSet, single_threaded_blas, solve_lasso, warn_not_converged
from .._validation import SELECTION, check_magnitudes, check_sample_weight
from ._base import HadamardLinearModel, to_output_dtype


class HadamardLasso(MultiOutputMixin, HadamardLinearModel):
    """Linear model with an ℓ1 penalty, solved by smooth optimisation of Hadamard factors.

    A drop-in replacement for :class:`sklearn.linear_model.Lasso`: same parameters, attributes,
    objective and — to the tolerance — the same solution, with exact zeros and a duality-gap
    certificate. The objective is::

        1 / (2 * n_samples) * ||y - X w - b0||^2_2 + alpha * ||w||_1

    (with ``sample_weight`` s, rescaled to sum to n_samples, the squared error of sample i is
    weighted by s_i). It is solved through the smooth surrogate ``w = u ⊙ v``::

        1 / (2 * n_samples) * ||y - X (u ⊙ v) - b0||^2_2 + alpha / 2 * (||u||^2 + ||v||^2)

    which has the same minima (``(u_j^2 + v_j^2) / 2 ≥ |u_j v_j|`` with equality when the factors
    are balanced): L-BFGS on the factors of a working set of features grown by KKT violation,
    then a snap to exact zeros and an active-set polish, and a duality-gap check on all
    features.

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the ℓ1 term. ``alpha >= 0``; ``alpha = 0`` is ordinary least
        squares, for which :class:`~sklearn.linear_model.LinearRegression` is the better tool.
    fit_intercept : bool, default=True
        Whether to fit an intercept. Dense X is centred on a copy; sparse X is never centred
        (the centring is applied implicitly in every product).
    precompute : bool or array-like of shape (n_features, n_features), default=False
        Whether to compute the full Gram matrix ``XᵀX`` once before fitting (worth it when
        ``n_samples >> n_features``), or the Gram matrix itself, computed on the centred (and
        weighted) X. Without it, Gram blocks are computed for the working set only.
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified (dense X is centred and weighted on
        a copy when needed, sparse X is never centred).
    max_iter : int, default=1000
        Maximum number of outer (working-set) iterations. Each one solves the problem
        restricted to the working set and certifies the result on all features; unlike
        sklearn's coordinate-descent epochs, a handful usually suffice.
    tol : float, default=1e-4
        Same meaning as in sklearn: the fit stops when the duality gap is at most
        ``tol * ||y_c||^2 / n_samples`` (``y_c`` the centred, weighted target).
    warm_start : bool, default=False
        Reuse the previous ``coef_`` as the start of the next fit (as balanced factors).
    positive : bool, default=False
        Constrain the coefficients to be non-negative (surrogate ``w = u ⊙ u``, penalty
        ``alpha * ||u||^2``).
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility with sklearn's Lasso and ignored: the solver is
        deterministic (the sign symmetry of the factors is broken by the KKT escape
        direction, not at random).
    selection : {'cyclic', 'random'}, default='cyclic'
        Accepted for compatibility with sklearn's Lasso and ignored: it chooses the
        coordinate order of coordinate descent, which this solver does not use.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Parameter vector (w in the objective), with exact zeros.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term in the decision function.
    n_iter_ : int or list of int
        Number of working-set iterations run (one per target for 2-D y).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the returned solution, in the objective's scaling (the certificate).
    sparse_coef_ : scipy.sparse.csr_matrix of shape (1, n_features) or (n_targets, n_features)
        Sparse representation of ``coef_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.Lasso : The coordinate-descent solver of the same problem.
    hadamard_lasso_path : Regularisation path with warm starts.

    Notes
    -----
    Kolb, Müller, Bischl, Rügamer, "Smoothing the Edges: Smooth Optimization for Sparse
    Regularization using Hadamard Overparametrization", arXiv:2307.03571.

    Computations run in float64; ``coef_`` and ``intercept_`` take the dtype of X (float32
    stays float32, as in sklearn).

    With a one-column 2-D y, as sklearn's Lasso, ``coef_`` is 1-D, ``dual_gap_`` a float,
    ``n_iter_`` an int and ``predict`` returns a 1-D array (``intercept_`` has shape (1,)).

    ``dual_gap_`` is the duality gap computed at the returned coefficients; its value at the
    rounding floor can come out a few ulps below zero, which is reported as 0.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from hadasparse import HadamardLasso
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = HadamardLasso(alpha=0.5).fit(X, y)
    >>> int((reg.coef_ != 0).sum())
    4
    >>> bool(reg.dual_gap_ <= 1e-4 * ((y - y.mean()) ** 2).mean())
    True
    """

    path = staticmethod(hadamard_lasso_path)

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute=False,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    # sklearn's Lasso: check_input is a fit argument, not metadata to route
    __metadata_request__fit = {"check_input": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        **HadamardLinearModel._parameter_constraints,
        "precompute": ["boolean", "array-like"],
        "copy_X": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [SELECTION],
    }

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled internally to sum to n_samples, as in sklearn.
        check_input : bool, default=True
            Accepted for compatibility; input is always validated (it is cheap next to the
            solve, and a silent wrong answer on bad input is not).

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._warn_if_alpha_is_zero()
        X, y, out_dtype = self._validate_fit_data(X, y, multi_output=True, magnitudes=False)
        n_samples, n_features = X.shape
        sample_weight = check_sample_weight(sample_weight, n_samples)

        y2d = y[:, None] if y.ndim == 1 else y
        n_targets = y2d.shape[1]
        l1, l2 = self._l1_l2()
        # the Gram route of a tall dense X (unless a Gram matrix is given): X is centred a
        # block at a time while its Gram matrix and the targets' correlations are built,
        # never copied
        tall = (isinstance(self.precompute, (bool, np.bool_)) and (l1 != 0 or l2 != 0)
                and not sparse.issparse(X) and is_tall(n_samples, n_features))
        if not tall:
            check_magnitudes(X, y)
        # on the Gram route, the Gram pass bounds max |X| (saving check_magnitudes' two
        # passes over X); an X it cannot bound is scanned, and too large a one refused, as
        # on the other routes (before any fit; the overflow it caused here is ignored)
        with np.errstate(over="ignore", invalid="ignore") if tall else nullcontext():
            design, b, x_offset, y_offset = preprocess(X, y2d, sample_weight,
                                                       self.fit_intercept, tall=tall)
            if tall:
                design.full_gram()
        if tall:
            check_magnitudes(X, y, x_bound=design.max_abs_bound())
        if self.warm_start and hasattr(self, "coef_"):
            coef_init = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
            if coef_init.shape != (n_targets, n_features):
                coef_init = np.zeros((n_targets, n_features))
        else:
            coef_init = np.zeros((n_targets, n_features))

        # the Gram route runs on one BLAS thread from its Gram pass on (the solver's own
        # limit is then already set; setting it costs ~40 µs, a tenth of a small fit)
        with single_threaded_blas() if isinstance(design, TallDesign) else nullcontext():
            target_corr = (design.target_correlations() if isinstance(design, TallDesign)
                           else None)
            # precompute=True on the Gram route: the solver's own Gram matrix is that one
            gram = (None if target_corr is not None
                    else self._gram(design, n_features, x_offset))

            coef = np.zeros((n_targets, n_features))
            gaps = np.zeros(n_targets)
            n_iters = []
            for t in range(n_targets):
                bt = np.ascontiguousarray(b[:, t])
                if l1 == 0 and l2 == 0:
                    beta, gap, n_iter, converged = least_squares(
                        design, bt, None, tol=float(self.tol), max_iter=int(self.max_iter),
                        positive=bool(self.positive))
                else:
                    state = WorkingSet()
                    if target_corr is not None:
                        state.c_full = np.ascontiguousarray(target_corr[:, t])
                    beta, gap, n_iter, converged = solve_lasso(
                        design, bt, l1, coef_init[t], tol=float(self.tol),
                        max_iter=int(self.max_iter), positive=bool(self.positive), gram=gram,
                        l2=l2, state=state)
                if not converged:
                    warn_not_converged(gap, self.tol * (bt @ bt) / n_samples, self.max_iter,
                                       n_iter, (bt @ bt) / n_samples)
                coef[t] = beta
                gaps[t] = gap
                n_iters.append(n_iter)

        intercept = (y_offset - coef @ x_offset) if self.fit_intercept else np.zeros(n_targets)
        gaps = np.maximum(gaps, 0.0)  # rounding noise below zero (see dual_gap_)
        coef = to_output_dtype(coef, out_dtype, "coefficients")
        intercept = to_output_dtype(intercept, out_dtype, "intercept")
        if y.ndim == 1:
            self.coef_ = coef[0].astype(out_dtype, copy=False)
            self.intercept_ = out_dtype.type(intercept[0]) if self.fit_intercept else 0.0
            self.dual_gap_ = float(gaps[0])
            self.n_iter_ = n_iters[0]
        elif n_targets == 1:  # sklearn's Lasso squeezes a one-column y, but for intercept_
            self.coef_ = coef[0].astype(out_dtype, copy=False)
            self.intercept_ = (np.asarray(intercept, dtype=out_dtype) if self.fit_intercept
                               else 0.0)
            self.dual_gap_ = float(gaps[0])
            self.n_iter_ = n_iters[0]
        else:
            self.coef_ = coef.astype(out_dtype, copy=False)
            self.intercept_ = np.asarray(intercept, dtype=out_dtype)
            self.dual_gap_ = gaps
            self.n_iter_ = n_iters
        return self

    def _l1_l2(self):
        """The weights ``(α · l1_ratio, α · (1 − l1_ratio))`` of the ℓ1 and ridge terms."""
        l1_ratio = float(getattr(self, "l1_ratio", 1.0))
        return float(self.alpha) * l1_ratio, float(self.alpha) * (1.0 - l1_ratio)

    def _gram(self, design, n_features, x_offset=None):
        pre = self.precompute
        if isinstance(pre, (bool, np.bool_)):
            if pre:
                idx = np.arange(n_features)
                return design.gram(idx, idx)
            return None
        gram = check_array(pre, dtype=np.float64)
        if gram.shape != (n_features, n_features):
            raise ValueError(
                f"The precomputed Gram matrix has shape {gram.shape}, expected "
                f"({n_features}, {n_features})."
            )
        if self.fit_intercept and x_offset is not None and not np.allclose(x_offset, 0.0):
            # like sklearn: a Gram of the uncentred X is of no use once X is centred to fit
            # the intercept; the solver forms the Gram blocks it needs instead
            warnings.warn("Gram matrix was provided but X was centered to fit intercept: "
                          "recomputing Gram matrix.", UserWarning, stacklevel=3)
            return None
        # like sklearn, check one entry against the data it is meant for
        j = int(np.argmax(design.col_sq_norms()))
        expected = design.gram([j], [j])[0, 0] * design.n_samples
        if not np.isclose(gram[j, j], expected, rtol=1e-4, atol=1e-10):
            raise ValueError(
                "The Gram matrix passed in via 'precompute' did not pass validation: it must "
                f"be XᵀX of the centred (and weighted) X; entry ({j}, {j}) is {gram[j, j]}, "
                f"expected {expected}."
            )
        return gram / design.n_samples
