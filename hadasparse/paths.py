"""Regularisation paths, warm-started from one α to the next."""

import numbers
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array

from ._design import Design, TaskDesign, is_tall, preprocess, target_scale
from ._groups import grouped_columns
from ._validation import INITS, check_magnitudes, check_q, check_sample_weight, check_scalar_param
from .solvers import (
    WorkingSet,
    group_alpha_max,
    group_lipschitz,
    group_lq_alpha_max,
    group_lq_fixed_point_residual,
    lasso_duality_gap,
    lq_alpha_max,
    lq_fixed_point_residual,
    solve_group_lasso,
    solve_group_lq,
    solve_lasso,
    solve_lq,
    solve_multitask_lasso,
    warn_not_converged,
)


def least_squares(design, B, coef_init, *, tol, max_iter, positive=False):
    """The fit at ``alpha = 0``, where every penalised model here is (non-negative) least
    squares, whatever its penalty or groups: LSQR on the (implicitly centred, weighted)
    design from zero -- the minimum-norm solution, as coordinate descent from zero would
    approach -- or, with ``positive``, a bounded least-squares solve (scipy's
    ``lsq_linear``). The Hadamard kernels are not used: at ``alpha = 0`` the factors'
    ridge vanishes, the group kernels divide by alpha and the lasso kernel's polish can
    cycle on a rank-deficient design. ``B`` is (n, T) or 1-D; ``coef_init`` is ignored (a
    warm start would change which of the least-squares solutions is returned).

    Returns ``coef, dual_gap, n_iter, converged`` as the models' solvers do: the gap summed
    over targets is that of the lasso at ``alpha = 0``, infinite unless the gradient
    vanishes exactly (the dual is feasible only where ``Aᵀθ = 0``), which the caller's
    ConvergenceWarning explains."""
    from scipy.optimize import lsq_linear
    from scipy.sparse.linalg import LinearOperator, lsqr

    one = B.ndim == 1
    B2 = B[:, None] if one else B
    n, p = design.n_samples, design.n_features
    # scipy's solvers square norms: they run on A / c and b / s (powers of two near the
    # largest column norm and the target's size, so the rescaling is exact)
    c = _power_of_two_near(np.sqrt(np.max(design.col_sq_norms(), initial=0.0)))
    op = LinearOperator((n, p), matvec=lambda v: design.dot(np.ravel(v)) / c,
                        rmatvec=lambda r: design.rdot(np.ravel(r)) / c, dtype=np.float64)
    iter_lim = max(int(max_iter), 50) * min(n, p)
    W = np.zeros((p, B2.shape[1]))
    gap, n_iter, converged = 0.0, 0, True
    for t in range(B2.shape[1]):
        b = np.ascontiguousarray(B2[:, t])
        s = _power_of_two_near(np.max(np.abs(b), initial=0.0))
        if positive:
            result = lsq_linear(op, b / s, bounds=(0.0, np.inf), lsmr_tol="auto",
                                max_iter=iter_lim)
            x, iters = np.maximum(result.x, 0.0), int(result.nit)
        else:
            result = lsqr(op, b / s, atol=1e-15, btol=1e-15, iter_lim=iter_lim)
            x, iters = result[0], int(result[2])
        W[:, t] = x * (s / c)
        with np.errstate(over="ignore", invalid="ignore"):
            gap_t = lasso_duality_gap(design, b, W[:, t], 0.0, positive)[0]
        gap, n_iter = gap + gap_t, max(n_iter, iters)
        converged = converged and gap_t <= tol * (b @ b) / n
    return (W[:, 0] if one else W), gap, n_iter, converged


def _power_of_two_near(value):
    """A power of two within a factor 2 of ``value`` (1 for 0 or a non-finite value)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    return float(2.0 ** np.round(np.log2(value)))


def check_path_data(X, y, sample_weight=None, *, multi_output=False, name="this path"):
    """X, y and sample_weight of a path function validated as the estimators validate
    them (consistent lengths, finite, not too large, 1-D y unless ``multi_output``), so
    that a bad input fails with a ValueError before any fit. Returns
    ``X, y, sample_weight, out_dtype`` (X float64, dense or CSC)."""
    X = check_array(X, accept_sparse="csc", dtype=[np.float64, np.float32])
    out_dtype = X.dtype
    X = X.astype(np.float64, copy=False)
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
    if y.ndim == 2 and not multi_output:
        raise ValueError(f"{name} fits one target; got y of shape {y.shape}.")
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {X.shape[0]} and {y.shape[0]}."
        )
    if sparse.issparse(X) and not np.all(np.isfinite(X.data)):
        raise ValueError("Input X contains NaN or infinity.")
    check_magnitudes(X, y)
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    return X, y, sample_weight, out_dtype


def lasso_alpha_max(design, b, positive=False):
    """Smallest α for which the lasso solution is 0: ``‖Aᵀb‖∞ / n`` (``max(Aᵀb)⁺/n`` if positive)."""
    corr = design.rdot(b) / design.n_samples
    return max(0.0, corr.max()) if positive else np.abs(corr).max()


def alpha_grid(alpha_max, eps, n_alphas):
    """sklearn's grid: ``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``,
    evenly spaced on a log scale."""
    resolution = np.finfo(np.float64).resolution
    if alpha_max <= resolution:
        return np.full(n_alphas, resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def hadamard_lasso_path(X, y, *, eps=1e-3, alphas=None, precompute="auto", Xy=None,
                        copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
                        positive=False, **params):
    """Lasso path by the Hadamard solver, mirroring :func:`sklearn.linear_model.lasso_path`.

    Minimises ``1/(2n) ||y - Xw||^2_2 + alpha ||w||_1`` for each alpha, from the largest to the
    smallest, each fit warm-started from the previous solution. Like sklearn's, the path fits no
    intercept: centre X and y first if you need one.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        For a 2-D y, as sklearn's ``lasso_path``, the multi-task lasso
        ``1/(2n) ||Y - XW||^2_F + alpha sum_j ||W_j||_2`` (see
        :class:`~hadasparse.HadamardMultiTaskLasso`).
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` when the grid is built here.
    alphas : int or array-like, default=None
        Number of alphas on the grid (None: 100), or the alphas themselves (sorted decreasing).
    precompute : 'auto', bool or array-like of shape (n_features, n_features), default='auto'
        Whether to use a precomputed Gram matrix (``'auto'``: when ``n_samples > n_features``).
    Xy : array-like of shape (n_features,) or (n_features, n_targets), default=None
        ``Xᵀy``, used only to build the grid.
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified.
    coef_init : array-like of shape (n_features,) or (n_targets, n_features), default=None
        Start of the first fit.
    verbose : bool or int, default=False
    return_n_iter : bool, default=False
    positive : bool, default=False
    **params
        ``tol`` (default 1e-4, sklearn's meaning) and ``max_iter`` (default 1000, working-set
        iterations per alpha).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        The duality gap certified at each alpha (rounding noise below 0 clipped to 0).
    n_iters : list of int
        Only when ``return_n_iter``.
    """
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 1000)
    l1_ratio = params.pop("l1_ratio", 1.0)  # hadamard_enet_path's mixing parameter
    for ignored in ("random_state", "selection", "check_input"):
        params.pop(ignored, None)
    if params:
        raise TypeError(f"Unexpected parameters: {sorted(params)}")
    check_scalar_param(eps, "eps", low=0.0, low_inclusive=False)
    check_scalar_param(tol, "tol", low=0.0)
    check_scalar_param(max_iter, "max_iter", kind="int", low=1)

    # like sklearn, coefs come back in X's dtype; the solve is float64
    X, y, _, out_dtype = check_path_data(X, y, multi_output=True, name="hadamard_lasso_path")
    n, p = X.shape
    design = Design(sparse.csc_matrix(X) if sparse.issparse(X) else np.asfortranarray(X))
    multi_task = y.ndim == 2

    if alphas is None or isinstance(alphas, numbers.Integral):
        n_alphas = 100 if alphas is None else int(alphas)
        if n_alphas < 1:
            raise ValueError(f"alphas must be a positive int or an array; got {alphas!r}.")
        if Xy is not None:
            Xy = np.asarray(Xy, dtype=np.float64)
            Xy = Xy.reshape(p, -1) if multi_task else Xy.ravel()
        else:
            Xy = (np.column_stack([design.rdot(y[:, t]) for t in range(y.shape[1])])
                  if multi_task else design.rdot(y))
        if multi_task:
            a_max = np.sqrt((Xy**2).sum(axis=1)).max() / n
        else:
            a_max = (max(0.0, Xy.max()) if positive else np.abs(Xy).max()) / n
        if l1_ratio == 0:
            raise ValueError(  # sklearn's message: the grid starts at alpha_max / l1_ratio
                "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
                "supply a grid by providing your estimator with the appropriate `alphas=` "
                "argument.")
        alphas = alpha_grid(a_max / l1_ratio, eps, n_alphas)
    else:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
            raise ValueError("alphas must be finite and non-negative.")
    if multi_task:
        if positive:
            raise ValueError("positive=True is not supported for a 2-D y (the multi-task "
                             "lasso), as in sklearn.")
        return multitask_lasso_path(design, y, alphas, coef_init, tol, max_iter, verbose,
                                     return_n_iter, out_dtype, l1_ratio)

    if isinstance(precompute, str):
        if precompute != "auto":
            raise ValueError(f"precompute must be 'auto', a bool or an array; got {precompute!r}.")
        precompute = n > p
    gram = None
    if isinstance(precompute, (bool, np.bool_)):
        # a tall dense X is solved on its whole Gram matrix whatever precompute says
        # (solvers._LassoUnits, with Gram-form gaps); otherwise precompute builds it here
        if precompute and (design.is_sparse or not is_tall(n, p)):
            idx = np.arange(p)
            gram = design.gram(idx, idx)
    else:
        gram = check_array(precompute, dtype=np.float64) / n
        if gram.shape != (p, p):
            raise ValueError(f"The Gram matrix has shape {gram.shape}, expected ({p}, {p}).")

    beta = np.zeros(p) if coef_init is None else np.asarray(coef_init, dtype=np.float64).copy()
    coefs = np.empty((p, alphas.size))
    dual_gaps = np.empty(alphas.size)
    n_iters = []
    state = WorkingSet()
    for i, alpha in enumerate(alphas):
        if alpha == 0:
            beta, gap, n_iter, converged = least_squares(design, y, None, tol=tol,
                                                         max_iter=max_iter, positive=positive)
        else:
            beta, gap, n_iter, converged = solve_lasso(
                design, y, float(alpha) * l1_ratio, beta, tol=tol, max_iter=max_iter,
                positive=positive, gram=gram, state=state, l2=float(alpha) * (1.0 - l1_ratio),
            )
        if not converged:
            warn_not_converged(gap, tol * (y @ y) / n, max_iter, n_iter, (y @ y) / n)
        if verbose:
            print(f"alpha {alpha:.4e}: gap {gap:.3e}, {np.count_nonzero(beta)} nonzero, "
                  f"{n_iter} working-set iterations")
        coefs[:, i] = beta
        dual_gaps[i] = max(gap, 0.0)  # rounding noise below zero
        n_iters.append(n_iter)
    coefs = coefs.astype(out_dtype, copy=False)
    if return_n_iter:
        return alphas, coefs, dual_gaps, n_iters
    return alphas, coefs, dual_gaps


def multitask_lasso_path(design, Y, alphas, coef_init, tol, max_iter, verbose,
                          return_n_iter, out_dtype, l1_ratio=1.0, each=None):
    """The multi-task lasso (elastic net) along decreasing ``alphas`` on a preprocessed
    ``design`` and target ``Y`` (n×T), each fit warm-started from the previous one: what
    :class:`~hadasparse.HadamardMultiTaskLasso` fits (one α), ``hadamard_lasso_path`` with a
    2-D y and the multi-task CV folds run. α = 0 is least squares; a target of extreme
    magnitude is solved rescaled (:func:`~hadasparse._design.target_scale`); ``each(i, W)``
    (W p×T) is called after the i-th α if given. ``coef_init`` is (T, p). Each α starts from
    the working set the previous one left (the support only grows along the path)."""
    n, T = Y.shape
    task_design = TaskDesign(design, T)
    state = WorkingSet()  # the working set, carried from one α to the next
    t_scale = target_scale(Y)  # solved on Y / t_scale: see target_scale
    Y_s = Y / t_scale
    W = (np.zeros((design.n_features, T)) if coef_init is None
         else np.asarray(coef_init, dtype=np.float64).reshape(T, -1).T / t_scale)
    coefs = np.empty((T, design.n_features, len(alphas)))
    dual_gaps = np.empty(len(alphas))
    n_iters = []
    scale = float(np.vdot(Y, Y)) / n
    for i, alpha in enumerate(alphas):
        if alpha == 0:
            W, gap, n_iter, converged = least_squares(design, Y_s, W, tol=tol,
                                                      max_iter=max_iter)
        elif l1_ratio == 0:
            # ridge regression separates over the tasks: each by the lasso loop at l1 = 0
            W, gap, n_iter, converged = _ridge_per_task(design, Y_s, W, float(alpha), tol,
                                                        max_iter)
        else:
            # on Y / t_scale the l1 weight scales with it, the ridge does not
            W, gap, n_iter, converged = solve_multitask_lasso(
                task_design, Y_s, float(alpha) * l1_ratio / t_scale, W, tol=tol,
                max_iter=max_iter, l2=float(alpha) * (1.0 - l1_ratio), state=state)
        gap *= t_scale**2
        if not converged:
            warn_not_converged(gap, tol * scale, max_iter, n_iter, scale)
        if verbose:
            print(f"alpha {alpha:.4e}: gap {gap:.3e}, {np.count_nonzero(W.any(axis=1))} "
                  f"nonzero rows, {n_iter} working-set iterations")
        coefs[:, :, i] = W.T * t_scale
        dual_gaps[i] = max(gap, 0.0)
        n_iters.append(n_iter)
        if each is not None:
            each(i, W * t_scale)
    coefs = coefs.astype(out_dtype, copy=False)
    if return_n_iter:
        return alphas, coefs, dual_gaps, n_iters
    return alphas, coefs, dual_gaps


def _ridge_per_task(design, Y, W, l2, tol, max_iter):
    """The multi-task elastic net at l1_ratio = 0 (ridge regression, separable over the
    tasks): every column of ``Y`` by :func:`~hadasparse.solvers.solve_lasso` with l1 = 0, the
    gaps summed (the multi-task gap is their sum), stopped at the multi-task tolerance."""
    out = np.empty_like(W)
    gap, n_iter, converged = 0.0, 0, True
    y_sq = float(np.vdot(Y, Y))
    for t in range(Y.shape[1]):
        yt = np.ascontiguousarray(Y[:, t])
        tol_t = tol * y_sq / max(float(yt @ yt), np.finfo(float).tiny) / Y.shape[1]
        out[:, t], gap_t, n_t, conv_t = solve_lasso(design, yt, 0.0, W[:, t], tol=tol_t,
                                                    max_iter=max_iter, l2=l2)
        gap, n_iter, converged = gap + gap_t, max(n_iter, n_t), converged and conv_t
    return out, gap, n_iter, converged


def hadamard_enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, alphas=None, precompute="auto",
                       Xy=None, copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
                       positive=False, **params):
    """Elastic-net path by the Hadamard solver, mirroring :func:`sklearn.linear_model.enet_path`.

    Minimises ``1/(2n) ||y - Xw||^2_2 + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio)/2
    ||w||^2_2`` for each alpha, from the largest to the smallest, warm-started; the grid starts
    at ``‖Xᵀy‖∞ / (n · l1_ratio)``. No intercept (centre X and y first). Parameters and
    returns as :func:`hadamard_lasso_path`, plus ``l1_ratio`` in [0, 1] (1 is the lasso, 0
    ridge regression, which needs given ``alphas`` as in sklearn).

    Examples
    --------
    >>> import numpy as np
    >>> from hadasparse import hadamard_enet_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 10))
    >>> y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(50)
    >>> alphas, coefs, gaps = hadamard_enet_path(X, y, l1_ratio=0.5, alphas=5)
    >>> coefs.shape, int(np.count_nonzero(coefs[:, 0]))
    ((10, 5), 0)
    """
    check_scalar_param(l1_ratio, "l1_ratio", low=0.0, high=1.0)
    return hadamard_lasso_path(X, y, eps=eps, alphas=alphas, precompute=precompute, Xy=Xy,
                               copy_X=copy_X, coef_init=coef_init, verbose=verbose,
                               return_n_iter=return_n_iter, positive=positive,
                               l1_ratio=float(l1_ratio), **params)


def group_lasso_path(design, b, alphas, weights, gptr, beta_init=None, *, tol=1e-4,
                     max_iter=1000, positive=False, each=None, l1_ratio=1.0):
    """The group lasso ``1/(2n)‖b − Aβ‖² + α Σ_g w_g ‖β_g‖₂`` (with ``l1_ratio`` ρ < 1 the group
    elastic net ``… + αρ Σ_g w_g ‖β_g‖₂ + α(1 − ρ)/2 ‖β‖²``) on a preprocessed ``design`` and
    target ``b`` (groups contiguous: ``gptr``) along ``alphas`` (decreasing), each solve
    warm-started from the previous solution and continuing from its working set and Gram
    blocks. This is what :class:`~hadasparse.HadamardGroupLasso` fits (a path of one α),
    :func:`hadamard_group_lasso_path` and the CV folds run.

    α = 0 is least squares. A target of extreme magnitude is solved rescaled
    (:func:`~hadasparse._design.target_scale`). A ConvergenceWarning is issued for every α
    whose gap misses ``tol · ‖b‖²/n``. ``each(i, beta)`` is called after the i-th α (e.g. to
    score a test fold) if given. Returns ``coefs`` (n_coordinates, n_alphas), ``gaps`` and
    ``n_iters``.
    """
    scale = target_scale(b)  # solved on b / scale: see target_scale
    b_s = b / scale
    beta = None if beta_init is None else np.asarray(beta_init, dtype=np.float64) / scale
    state = WorkingSet()
    coefs = np.empty((design.n_features, len(alphas)))
    gaps = np.empty(len(alphas))
    n_iters = []
    b_sq = (b @ b) / design.n_samples
    for i, alpha in enumerate(alphas):
        if alpha == 0:
            beta, gap, n_iter, converged = least_squares(
                design, b_s, beta, tol=tol, max_iter=max_iter, positive=positive)
        else:
            # on b / scale the l1 weight scales with it, the ridge does not
            beta, gap, n_iter, converged = solve_group_lasso(
                design, b_s, float(alpha) * l1_ratio / scale, weights, gptr, beta, tol=tol,
                max_iter=max_iter, positive=positive, state=state,
                l2=float(alpha) * (1.0 - l1_ratio))
        gap *= scale**2
        if not converged:
            warn_not_converged(gap, tol * b_sq, max_iter, n_iter, b_sq)
        coefs[:, i] = beta * scale
        gaps[i] = max(gap, 0.0)  # rounding noise below zero
        n_iters.append(n_iter)
        if each is not None:
            each(i, coefs[:, i])
    return coefs, gaps, n_iters


def _decreasing_alphas(alphas, alpha_max, eps):
    check_scalar_param(eps, "eps", low=0.0, low_inclusive=False)
    if alphas is None or isinstance(alphas, numbers.Integral):
        n_alphas = 100 if alphas is None else int(alphas)
        if n_alphas < 1:
            raise ValueError(f"alphas must be a positive int or an array; got {alphas!r}.")
        return alpha_grid(alpha_max(), eps, n_alphas)
    alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
    if np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
        raise ValueError("alphas must be finite and non-negative.")
    return alphas


def hadamard_group_lasso_path(X, y, *, groups=None, weights=None, eps=1e-3, alphas=None,
                              fit_intercept=False, sample_weight=None, **params):
    """Group-lasso path, warm-started from the largest alpha down.

    Each point minimises ``1/(2n) ||y - Xw - b0||^2 + alpha sum_g w_g ||w_g||_2`` (see
    :class:`~hadasparse.HadamardGroupLasso`; by default, like ``lasso_path``, no intercept).

    Parameters
    ----------
    X, y : the data; ``y`` of shape (n_samples,) or, for the multi-task lasso (rows of the
        coefficient matrix as groups, ``groups`` must then be None), (n_samples, n_tasks).
    groups, weights : as in :class:`~hadasparse.HadamardGroupLasso`.
    eps : float, default=1e-3
    alphas : int or array-like, default=None
        Number of alphas from the all-zero alpha down to ``eps`` times it (None: 100), or the
        alphas.
    fit_intercept : bool, default=False
    sample_weight : array-like of shape (n_samples,), default=None
    **params
        ``tol``, ``max_iter`` (as the estimator's) and ``positive`` (one target only).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_tasks, n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        The duality gap certified at each alpha.
    """
    X, y, sample_weight, out_dtype = check_path_data(X, y, sample_weight, multi_output=True,
                                                     name="hadamard_group_lasso_path")
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 1000)
    positive = params.pop("positive", False)
    if params:
        raise TypeError(f"Unexpected parameters: {sorted(params)}")
    check_scalar_param(tol, "tol", low=0.0)
    check_scalar_param(max_iter, "max_iter", kind="int", low=1)
    if y.ndim == 2:
        if groups is not None or weights is not None:
            raise ValueError("With a 2-D y the groups are the rows of the coefficient matrix: "
                             "groups and weights must be None.")
        design, B, _, _ = preprocess(X, y, sample_weight, fit_intercept)
        n = design.n_samples

        def alpha_max():
            corr = np.column_stack([design.rdot(B[:, t]) for t in range(B.shape[1])])
            return float(np.sqrt((corr**2).sum(axis=1)).max() / n)

        alphas = _decreasing_alphas(alphas, alpha_max, eps)
        _, coefs, gaps = multitask_lasso_path(design, B, alphas, None, tol, max_iter, False,
                                               False, out_dtype)
        return alphas, coefs, gaps
    X_int, columns, gptr, w = grouped_columns(groups, weights, X)
    if positive and np.any(w == 0):
        raise ValueError("positive=True needs every feature in a penalised group.")
    design, b, _, _ = preprocess(X_int, y, sample_weight, fit_intercept)
    alphas = _decreasing_alphas(alphas, lambda: group_alpha_max(design, b, w, gptr, positive),
                                eps)
    latent, gaps, _ = group_lasso_path(design, b, alphas, w, gptr, tol=tol, max_iter=max_iter,
                                       positive=positive)
    coefs = np.zeros((X.shape[1], alphas.size))
    np.add.at(coefs, columns, latent)  # a feature in several groups: its copies summed
    return alphas, coefs.astype(out_dtype, copy=False), gaps


def hadamard_lq_path(X, y, *, q=0.5, groups=None, weights=None, eps=1e-3, alphas=None,
                     fit_intercept=False, sample_weight=None, **params):
    """ℓq path (q = 2/k), continued from the all-zero model down: each fit starts from the
    previous alpha's solution (the path continuation of ``init='path'``).

    The grid starts just above the smallest alpha at which 0 is a fixed point of the ℓq
    proximal-gradient map (see :class:`~hadasparse.HadamardLqRegressorCV`).

    Parameters
    ----------
    X, y : the data.
    q, groups, weights : as in :class:`~hadasparse.HadamardLqRegressor`.
    eps, alphas, fit_intercept, sample_weight : as in :func:`hadamard_group_lasso_path`.
    **params
        ``tol``, ``max_iter``, ``init`` (used for the first, largest alpha), ``random_state``,
        ``local_search`` (as in :class:`~hadasparse.HadamardLqRegressor`).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    fixed_point_residuals : ndarray of shape (n_alphas,)
        The certificate at each alpha (see ``HadamardLqRegressor.fixed_point_residual_``).
    """
    X, y, sample_weight, out_dtype = check_path_data(X, y, sample_weight,
                                                     name="hadamard_lq_path")
    depth = check_q(q)
    q = 2.0 / depth
    init = params.pop("init", "auto")
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 100)
    random_state = params.pop("random_state", None)
    local_search = params.pop("local_search", True)
    if params:
        raise TypeError(f"Unexpected parameters: {sorted(params)}")
    check_scalar_param(tol, "tol", low=0.0)
    check_scalar_param(max_iter, "max_iter", kind="int", low=1)
    if init not in INITS:
        raise ValueError(f"The 'init' parameter must be one of {sorted(INITS)}; got {init!r}.")
    if groups is None:
        if weights is not None:
            raise ValueError("The 'weights' parameter needs 'groups' (one weight per group).")
        columns, X_int, w, gptr = np.arange(X.shape[1]), X, None, None
    else:
        X_int, columns, gptr, w = grouped_columns(groups, weights, X)
    design, b, _, _ = preprocess(X_int, y, sample_weight, fit_intercept)
    alphas = _decreasing_alphas(alphas, lambda: lq_alpha_max_start(design, b, q, w, gptr), eps)
    latent, residuals, _, _ = lq_path(design, b, alphas, q, weights=w, gptr=gptr, init=init,
                                      tol=tol, max_iter=max_iter, random_state=random_state,
                                      local_search=local_search)
    coefs = np.zeros((X.shape[1], alphas.size))
    np.add.at(coefs, columns, latent)
    return alphas, coefs.astype(out_dtype, copy=False), residuals


def lq_alpha_max_start(design, b, q, weights=None, gptr=None):
    """Where an ℓq path starts: just above the smallest α at which 0 is a fixed point of the
    (group) ℓq proximal-gradient map (exactly at it the prox of the largest coordinate is
    set-valued, 0 and a nonzero root; just inside, 0 is the unique fixed point)."""
    if gptr is None:
        threshold = lq_alpha_max(design, b, q)
    else:
        threshold = group_lq_alpha_max(design, b, q, weights, gptr,
                                       group_lipschitz(design, gptr))
    return threshold * (1.0 + 1e-6)


def lq_path(design, b, alphas, q, beta_init=None, *, weights=None, gptr=None, init="auto",
            tol=1e-4, max_iter=100, random_state=None, local_search=True, each=None):
    """The ℓq (``gptr`` given: group ℓ2,q) objective on a preprocessed ``design`` and target
    ``b`` along decreasing ``alphas``, each solve started from the previous solution (the
    first from ``beta_init``, or by ``init``): what :class:`~hadasparse.HadamardLqRegressor`
    fits (one α), :func:`hadamard_lq_path` and the CV folds run.

    α = 0 is least squares; a target of extreme magnitude is solved rescaled (q = 1 without
    groups is the lasso, left unscaled so that it stays bitwise the lasso's). A
    ConvergenceWarning is issued for every α that does not reach a fixed point. ``each(i,
    beta)`` is called after the i-th α if given. Returns ``coefs`` (n_coordinates, n_alphas),
    ``residuals`` (the fixed-point residuals), ``n_iters`` and ``objectives``.
    """
    n = design.n_samples
    # solved on b / scale (see target_scale): the solution scales with it, alpha by
    # scale^(q - 2), the fixed-point residual with it
    scale = target_scale(b) if (gptr is not None or q < 1.0) else 1.0
    b_s = b / scale
    beta = None if beta_init is None else np.asarray(beta_init, dtype=np.float64) / scale
    lips = None if gptr is None else group_lipschitz(design, gptr)
    tol_abs = tol * np.sqrt((b @ b) / n)
    coefs = np.empty((design.n_features, len(alphas)))
    residuals, objectives, n_iters = np.empty(len(alphas)), np.empty(len(alphas)), []
    for i, alpha in enumerate(alphas):
        common = dict(init=init, tol=float(tol), max_iter=int(max_iter),
                      random_state=random_state)
        if alpha == 0:  # least squares, whatever q and the groups
            beta, _, n_iter, _ = least_squares(design, b_s, beta, tol=float(tol),
                                               max_iter=int(max_iter))
            if gptr is None:
                residual = lq_fixed_point_residual(design, b_s, beta, 0.0, q)
            else:
                residual = group_lq_fixed_point_residual(design, b_s, beta, 0.0, q, weights,
                                                         gptr, lips)
            converged = residual <= tol * np.sqrt((b_s @ b_s) / n)
        elif gptr is None:
            beta, residual, n_iter, converged = solve_lq(
                design, b_s, float(alpha) / scale ** (2.0 - q), q, beta,
                local_search=bool(local_search), **common)
        else:
            beta, residual, n_iter, converged = solve_group_lq(
                design, b_s, float(alpha) / scale ** (2.0 - q), q, weights, gptr, beta,
                local_search=bool(local_search), **common)
        if gptr is None:  # on the scaled solution: its powers cannot overflow
            pen = np.sum(np.abs(beta) ** q) * scale**q
        else:
            pen = float(weights @ np.sqrt(np.add.reduceat(beta * beta, gptr[:-1])) ** q) \
                * scale**q
        coef, residual = beta * scale, residual * scale
        if not converged:
            warnings.warn(
                f"The lq solver did not reach a fixed point at alpha={alpha:.4g} in "
                f"max_iter={max_iter} working-set iterations: fixed-point residual "
                f"{residual:.3e}, tolerance {tol_abs:.3e}.",
                ConvergenceWarning,
                stacklevel=3,
            )
        r = b - design.dot(coef)
        objectives[i] = 0.5 * (r @ r) / n + alpha * pen
        coefs[:, i] = coef
        residuals[i] = residual
        n_iters.append(n_iter)
        if each is not None:
            each(i, coef)
    return coefs, residuals, n_iters, objectives
