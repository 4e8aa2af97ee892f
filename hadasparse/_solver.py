"""The working-set driver of the Hadamard lasso.

One outer iteration: certify the current point with the duality gap on all features; if the
gap is above the tolerance, grow the working set by KKT violation (a zero coefficient that
violates KKT is exactly a saddle of the surrogate, see ``../docs``), and solve the lasso on the
working set through its Hadamard surrogate (numba: L-BFGS on the factors, snap, polish).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from ._kernels import solve_lasso_ws

# Smallest working set, and how many L-BFGS steps run between two snaps.
_WS_START = 64
_SNAP_EVERY = 25
_MAX_POLISH = 10
_LBFGS_MEMORY = 10
_MIN_INNER_RTOL = 1e-16

_threadpools = None
# placeholders for the parts of a kernel operator tuple that a form does not use
_EMPTY = np.zeros(0)
_EMPTY_2D = np.zeros((0, 0))
_EMPTY_INT = np.zeros(0, dtype=np.int64)
_EMPTY_SPARSE = (_EMPTY, _EMPTY_INT, _EMPTY_INT, _EMPTY, _EMPTY_INT, _EMPTY_INT, _EMPTY, _EMPTY)


def single_threaded_blas():
    """The solver runs on one thread, like coordinate descent. numba calls the BLAS bundled
    with scipy while numpy has its own: their two thread pools' spinning threads fight (a k×k
    mat-vec gets ~10× slower), and a multi-threaded BLAS collapses when another process holds
    a core, which on a shared machine is the common case."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


def lasso_duality_gap(design, b, beta, alpha, positive, resid=None, grad=None):
    """Duality gap of ``1/(2n)‖b − Aβ‖² + α‖β‖₁`` (``β ≥ 0`` if positive) at ``beta``.

    Returns ``(gap, resid, grad)`` with ``resid = b − Aβ`` and ``grad = Aᵀ resid / n``.
    """
    n = design.n_samples
    if resid is None:
        resid = b - design.dot(beta)
    if grad is None:
        grad = design.rdot(resid) / n
    dual_norm = np.max(grad) if positive else np.max(np.abs(grad))
    scale = max(1.0, dual_norm / alpha) if alpha > 0 else 1.0
    if alpha == 0 and dual_norm > 0:
        return np.inf, resid, grad
    r2 = resid @ resid
    primal = 0.5 * r2 / n + alpha * np.abs(beta).sum()
    theta = resid / scale
    # D(θ) = (‖b‖² − ‖b − θ‖²) / (2n), expanded to avoid forming b − θ
    dual = (b @ theta - 0.5 * (theta @ theta)) / n
    return primal - dual, resid, grad


def _kkt_scores(grad, alpha, col_norms, positive):
    """How far each coordinate is from violating KKT at zero, in units of its column norm
    (negative: a violator, i.e. a saddle). Smaller is more urgent."""
    g = grad if positive else np.abs(grad)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (alpha - g) / col_norms
    score[col_norms == 0] = np.inf
    return score


def solve_lasso(design, b, alpha, beta_init=None, *, tol=1e-4, max_iter=1000, positive=False,
                gram=None, max_inner=2000, verbose=False):
    with single_threaded_blas():
        return _solve_lasso(design, b, alpha, beta_init, tol, max_iter, positive, gram,
                            max_inner, verbose)


def _solve_lasso(design, b, alpha, beta_init, tol, max_iter, positive, gram, max_inner,
                 verbose):
    """Minimise ``1/(2n)‖b − Aβ‖² + α‖β‖₁`` (optionally ``β ≥ 0``) to duality gap
    ``≤ tol · ‖b‖²/n``.

    Parameters
    ----------
    design : Design
    b : ndarray of shape (n_samples,)
    gram : ndarray of shape (n_features, n_features) or None
        The full Gram matrix ``AᵀA/n`` when precomputed; otherwise working-set blocks are
        computed as the set grows.

    Returns
    -------
    beta, dual_gap, n_iter, converged
    """
    n, p = design.n_samples, design.n_features
    beta = np.zeros(p) if beta_init is None else np.array(beta_init, dtype=np.float64)
    if positive:
        np.maximum(beta, 0.0, out=beta)
    tol_abs = tol * (b @ b) / n
    col_norms = np.sqrt(design.col_sq_norms())
    c_full = None
    ws = np.zeros(0, dtype=np.intp)
    G_ws = np.zeros((0, 0))
    # relative accuracy of the inner solve (KKT on the working set, conjugate gradients); it
    # is tightened when an outer iteration brings no new feature but the gap is still too big
    inner_rtol = 1e-10
    # a sparse design stays sparse (mat-vecs in O(nnz)); otherwise the working set's Gram
    # matrix is kept and grown
    gram_form = gram is not None or not design.is_sparse
    gap = last_gap = np.inf
    op = None
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        gap, _, grad = lasso_duality_gap(design, b, beta, alpha, positive)
        if verbose:
            print(f"iteration {n_iter}: duality gap {gap:.3e} (tolerance {tol_abs:.3e}), "
                  f"working set {ws.size}, support {np.count_nonzero(beta)}")
        if gap <= tol_abs:
            converged = True
            break
        if c_full is None:
            c_full = design.rdot(b) / n
        # grow the working set: the support, then the most violating (saddle) coordinates
        support = np.flatnonzero(beta)
        score = _kkt_scores(grad, alpha, col_norms, positive)
        in_ws = np.zeros(p, dtype=bool)
        in_ws[ws] = True
        in_ws[support] = True
        score[in_ws] = np.inf
        # only violators enter (they are the saddles to escape), at most as many as the
        # support has, so the set roughly doubles while the support grows and stops growing
        # once it has settled
        n_add = max(_WS_START, support.size)
        candidates = np.flatnonzero(score < 0)
        if candidates.size > n_add:
            candidates = candidates[np.argpartition(score[candidates], n_add)[:n_add]]
        new = np.union1d(np.setdiff1d(support, ws), candidates)
        if new.size:
            if gram_form:
                G_ws = _grow_gram(design, gram, G_ws, ws, new)
            ws = np.concatenate([ws, new])
            op = None
        else:
            if inner_rtol <= _MIN_INNER_RTOL and gap >= last_gap:
                break  # stagnation: nothing left to tighten
            inner_rtol = max(inner_rtol * 1e-3, _MIN_INNER_RTOL)
        last_gap = gap
        if op is None:
            if gram_form:
                op = (True, G_ws, c_full[ws], _EMPTY) + _EMPTY_SPARSE
            else:
                op = (False, _EMPTY_2D, _EMPTY, b) + design.columns_csc_csr(ws)
        beta_ws = beta[ws].copy()
        solve_lasso_ws(op, alpha, beta_ws, positive, max_inner, _SNAP_EVERY, _MAX_POLISH,
                       inner_rtol, _LBFGS_MEMORY, n)
        beta[:] = 0.0
        beta[ws] = beta_ws
    else:
        gap = lasso_duality_gap(design, b, beta, alpha, positive)[0]
        converged = gap <= tol_abs
    return beta, gap, n_iter, converged


def _grow_gram(design, gram, G_ws, ws, new):
    """Gram matrix of ``ws + new`` from that of ``ws``: only the new rows are computed."""
    k, m = ws.size, new.size
    G = np.empty((k + m, k + m))
    G[:k, :k] = G_ws
    all_idx = np.concatenate([ws, new])
    if gram is not None:
        block = gram[np.ix_(new, all_idx)]
    else:
        block = design.gram(new, all_idx)
    G[k:, :] = block
    G[:k, k:] = block[:, :k].T
    return G


def warn_not_converged(gap, tol_abs, max_iter):
    warnings.warn(
        f"Objective did not converge in max_iter={max_iter} working-set iterations. "
        f"Duality gap: {gap:.3e}, tolerance: {tol_abs:.3e}. You might want to increase "
        "max_iter.",
        ConvergenceWarning,
        stacklevel=3,
    )
