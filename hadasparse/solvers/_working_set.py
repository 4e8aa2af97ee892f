"""The working-set driver of the Hadamard lasso.

One outer iteration: certify the current point with the duality gap on all features; if the
gap is above the tolerance, grow the working set by KKT violation (a zero coefficient that
violates KKT is exactly a saddle of the surrogate at the origin), and solve the lasso on the
working set through its Hadamard surrogate (numba: L-BFGS on the factors, snap, polish).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._design import is_tall, single_threaded_blas  # noqa: F401  (re-exported)
from ._budget import design_square_cap
from ._group_kernels import (dense_polish_limit, group_polish, group_value, multitask_bcd,
                             solve_group_ws)
from ._lasso_kernels import CD_MIN_ACTIVE, solve_lasso_ws
from ..losses._quadratic import gram_operator, sparse_operator

_WS_START = 64  # most violators admitted to the first working set
_SNAP_EVERY = 25  # L-BFGS steps between two snaps
_MAX_POLISH = 10  # active-set rounds per polish attempt
_PATH_WS_GROWTH = 8  # on a path, a working set grows by 1/8 of the support per iteration
_LBFGS_MEMORY = 10
_INNER_RTOL_START = 1e-10  # relative accuracy asked of the first inner solves
_MIN_INNER_RTOL = 1e-16  # tightest relative accuracy asked of an inner solve
# the duality gap, a difference of two terms of size ~‖b‖²/(2n), cannot be certified below
# ~1000 roundings of them: a tolerance under this floor (tol=0) ends the fit there
GAP_FLOOR = 1e3 * np.finfo(np.float64).eps
# the Gram form of the duality gap (tall designs) differs from the exact one by rounding:
# ~eps (‖b‖ + Σ_j |β_j| ‖A_j‖)² / n times this factor (generous: it only decides when an
# exact pass over X is taken, never what is reported)
_GRAM_GAP_ROUNDING = 1e3 * np.finfo(np.float64).eps

def lasso_duality_gap(design, b, beta, alpha, positive, resid=None, grad=None, l2=0.0):
    """Duality gap of ``1/(2n)‖b − Aβ‖² + l2/2 ‖β‖² + α‖β‖₁`` (``β ≥ 0`` if positive) at
    ``beta`` (``l2 > 0``: the elastic net, with sklearn's dual point).

    Returns ``(gap, resid, grad)`` with ``resid = b − Aβ`` and ``grad = Aᵀ resid / n``; pass
    them when already known for this ``beta`` (they do not depend on α).
    """
    n = design.n_samples
    if resid is None:
        resid, grad = design.residual_and_grad(b, beta)
    if alpha == 0 and l2 > 0:
        # ridge regression (l1_ratio = 0): the dual point is the residual itself, the
        # conjugate of the ridge (plus β ≥ 0) is ‖(Aᵀθ/n)⁺‖²/(2 l2) (sklearn's "formulation B")
        g = np.maximum(grad, 0.0) if positive else grad
        gap = (resid @ resid - resid @ b) / n + 0.5 * l2 * (beta @ beta) + (g @ g) / (2 * l2)
        return gap, resid, grad
    corr = grad - l2 * beta if l2 else grad
    dual_norm = np.max(corr, initial=0.0) if positive else np.max(np.abs(corr), initial=0.0)
    primal = 0.5 * (resid @ resid) / n + alpha * np.abs(beta).sum()
    ridge = l2 * (beta @ beta) if l2 else 0.0
    return (_gap_at_scaled_residual(primal, b, resid, dual_norm, alpha, n, ridge), resid,
            grad)


def _gap_at_scaled_residual(primal, b, resid, dual_norm, alpha, n, ridge=0.0):
    """``primal − D(θ)`` at the dual point ``θ = resid / max(1, dual_norm / α)`` (``resid``
    and ``b`` flat or matrices), with ``D(θ) = (‖b‖² − ‖b − θ‖²) / (2n)`` expanded to avoid
    forming ``b − θ``; ``dual_norm`` is the penalty's dual norm of ``Aᵀresid / n − l2 β``.
    Infinite for α = 0 unless ``dual_norm`` is 0.

    With an elastic-net ridge, ``ridge = l2 ‖β‖²`` (the primal then includes ``ridge / 2``):
    the problem is the lasso of the augmented design ``[A; √(n l2) I]`` and target ``[b; 0]``,
    whose residual has the extra block ``−√(n l2) β`` (sklearn's "formulation A")."""
    if alpha == 0:
        if dual_norm > 0:
            return np.inf
        scale = 1.0
    else:
        scale = max(1.0, dual_norm / alpha)
    theta = resid / scale
    dual = (np.vdot(b, theta) - 0.5 * np.vdot(theta, theta) - 0.5 * n * ridge / scale**2) / n
    return primal + 0.5 * ridge - dual


def gram_duality_gap(G, c, b_sq, n, beta, alpha, positive, l2=0.0):
    """:func:`lasso_duality_gap` from the Gram matrix ``G = AᵀA/n``, the correlations
    ``c = Aᵀb/n`` and ``b_sq = ‖b‖²``, in O(p²) without a pass over A:
    ``‖r‖² = ‖b‖² − 2n cᵀβ + n βᵀGβ``, ``bᵀr = ‖b‖² − n cᵀβ`` and ``Aᵀr/n = c − Gβ``.

    These cancel when the residual is small next to ``b``: returns ``(gap, grad, err)``
    with ``err`` an estimate of the gap's rounding error (see ``_GRAM_GAP_ROUNDING``). The
    gap is the same function of the primal point as the exact one (same dual point), so a
    caller certifies with the exact form whenever this one is within ``err`` of its
    threshold."""
    Gb = G @ beta
    cb = c @ beta
    grad = c - Gb
    rr = b_sq - 2.0 * n * cb + n * (beta @ Gb)
    br = b_sq - n * cb
    scale_sum = np.sqrt(b_sq) + np.sqrt(n) * (np.abs(beta) @ np.sqrt(np.diag(G)))
    err = _GRAM_GAP_ROUNDING * scale_sum * scale_sum / n
    if alpha == 0 and l2 > 0:
        g = np.maximum(grad, 0.0) if positive else grad
        gap = (rr - br) / n + 0.5 * l2 * (beta @ beta) + (g @ g) / (2 * l2)
        return gap, grad, err
    corr = grad - l2 * beta if l2 else grad
    dual_norm = np.max(corr, initial=0.0) if positive else np.max(np.abs(corr), initial=0.0)
    primal = 0.5 * rr / n + alpha * np.abs(beta).sum()
    ridge = l2 * (beta @ beta) if l2 else 0.0
    if alpha == 0:
        if dual_norm > 0:
            return np.inf, grad, err
        scale = 1.0
    else:
        scale = max(1.0, dual_norm / alpha)
    # the dual of _gap_at_scaled_residual at θ = r / scale
    dual = (br / scale - 0.5 * rr / scale**2 - 0.5 * n * ridge / scale**2) / n
    return primal + 0.5 * ridge - dual, grad, err


def _kkt_scores(grad, alpha, col_norms, positive):
    """How far each coordinate is from violating KKT at zero, in units of its column norm
    (negative: a violator, i.e. a saddle). Smaller is more urgent."""
    g = grad if positive else np.abs(grad)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (alpha - g) / col_norms
    score[col_norms == 0] = np.inf
    return score


def solve_lasso(design, b, alpha, beta_init=None, *, tol=1e-4, max_iter=1000, positive=False,
                gram=None, max_inner=2000, verbose=False, state=None, l2=0.0):
    """Minimise ``1/(2n)‖b − Aβ‖² + l2/2 ‖β‖² + α‖β‖₁`` (optionally ``β ≥ 0``; ``l2 > 0`` is
    the elastic net) to duality gap ``≤ tol · ‖b‖²/n``.

    Parameters
    ----------
    design : Design
    b : ndarray of shape (n_samples,)
    gram : ndarray of shape (n_features, n_features) or None
        The full Gram matrix ``AᵀA/n`` when precomputed; otherwise working-set blocks are
        computed as the set grows.
    state : WorkingSet or None
        Pass the same object to successive solves on the same ``design`` and ``b`` (a path):
        each continues from the working set the previous one left.

    Returns
    -------
    beta, dual_gap, n_iter, converged
    """
    with single_threaded_blas():
        return _solve_lasso(design, b, alpha, beta_init, tol, max_iter, positive, gram,
                            max_inner, verbose, state, l2)


class WorkingSet:
    """What a lasso solve on one (design, target) keeps for the next: the working set, its
    Gram matrix (dense designs) and the polish's Cholesky factor. Along a path of decreasing
    α the support only grows, so each α starts where the previous one stopped instead of
    rebuilding its Gram blocks."""

    def __init__(self):
        self.ws = np.zeros(0, dtype=np.intp)  # units: features, or groups
        self.ws_feats = np.zeros(0, dtype=np.intp)  # their features
        self.G_ws = np.zeros((0, 0))
        self.factor = None
        self.c_full = None
        self.certified = None  # (beta, resid, grad) of the last certificate
        self.alpha_from = 0.0  # the alpha of the last converged inner solve, if any
        self.factor_l2 = 0.0  # the ridge on the diagonal of the kept Cholesky factor
        self.tol_abs = 0.0  # the duality-gap tolerance of the current solve
        self.gap = np.inf  # the last certified duality gap
        # a lasso's working set grows by at most as many violators as its support has room
        # for below its rank bound (see working_set_loop); False: by the support's size
        # (the ℓq start, whose local search draws its swap candidates from the set)
        self.rank_room = True
        self.gap_floor = 0.0  # the rounding floor of the duality gap
        self.gap_exact = True  # False: the last gap was in Gram form (see _LassoUnits.gap)


def _solve_lasso(design, b, alpha, beta_init, tol, max_iter, positive, gram, max_inner,
                 verbose, state, l2=0.0):
    """The working-set loop of :func:`solve_lasso`, on one BLAS thread."""
    beta = np.zeros(design.n_features) if beta_init is None else np.array(
        beta_init, dtype=np.float64)
    if positive:
        np.maximum(beta, 0.0, out=beta)
    return working_set_loop(design, b, beta, tol, max_iter, verbose,
                            _LassoUnits(design, alpha, positive, gram, max_inner, l2),
                            WorkingSet() if state is None else state)


class _LassoUnits:
    """The lasso for :func:`working_set_loop`: every feature is a unit, the certificate is
    :func:`lasso_duality_gap`, the inner solve the lasso kernel (whose polish factor is kept
    in the working set's state)."""

    ws_start = _WS_START
    # a problem of at most this many features is its own first working set: violators or
    # not, they cost the inner solve nothing next to a second outer iteration (a gap pass
    # and a solve), which a first working set of the violators alone usually needs
    ws_whole = _WS_START

    def __init__(self, design, alpha, positive, gram, max_inner, l2=0.0):
        self.design, self.alpha, self.positive, self.l2 = design, alpha, positive, l2
        # a tall dense design: its whole Gram matrix (p² ≤ n·p entries, one BLAS pass)
        # instead of working-set blocks, each of which copies n-long columns; the gaps
        # while iterating are then computed from it (O(p²), no pass over A), and only a
        # certificate near the tolerance takes an exact pass (see gap)
        self.gram_gaps = (gram is None and not design.is_sparse
                          and is_tall(design.n_samples, design.n_features))
        if self.gram_gaps:
            gram = design.full_gram()
        self.b_sq = None
        self.gram, self.max_inner = gram, max_inner
        # a lasso solution has at most n nonzeros (the polish keeps its active columns
        # independent); with a ridge the support is not bounded by n
        self.max_support = design.n_samples if l2 == 0.0 else None
        self.col_norms = np.sqrt(design.col_sq_norms())
        # the polish's factor: within the memory budget, and on a sparse design only as large
        # as the active sets the polish takes (larger ones are finished by coordinate descent)
        self.square_cap = self.ws_square_cap = design_square_cap(design)
        # the coordinate-descent finish needs no CSR copy: a dense design's columns beyond
        # the memory budget never get one, a sparse design's only while the polish can
        # run (working_set_loop)
        self.column_rows = False
        if design.is_sparse:
            self.square_cap = min(self.square_cap, 2 * CD_MIN_ACTIVE)

    def gap(self, b, beta, state, exact=False):
        """``(gap, grad)`` at ``beta``. On the Gram route the Gram-form gap is returned
        (``state.gap_exact`` False) while it is clearly above the stopping threshold
        (``max(tol, floor)``, by more than its rounding error); below, and with ``exact``,
        the gap of one pass over A -- so the gap that ends a fit is always exact."""
        if self.gram_gaps and not exact:
            if state.c_full is None:
                state.c_full = self.design.rdot(b) / self.design.n_samples
            if self.b_sq is None:
                self.b_sq = b @ b
            gap, grad, err = gram_duality_gap(self.gram, state.c_full, self.b_sq,
                                              self.design.n_samples, beta, self.alpha,
                                              self.positive, self.l2)
            if np.isfinite(gap) and gap - err > max(state.tol_abs, state.gap_floor):
                state.gap_exact = False
                return gap, grad
        state.gap_exact = True
        # along a path the first certificate at a new alpha is at the previous alpha's
        # solution, whose residual and gradient the last certificate already computed
        cached = state.certified is not None and np.array_equal(state.certified[0], beta)
        resid, grad = state.certified[1:] if cached else (None, None)
        gap, resid, grad = lasso_duality_gap(self.design, b, beta, self.alpha, self.positive,
                                             resid, grad, self.l2)
        state.certified = (beta.copy(), resid, grad)
        return gap, grad

    def scores(self, grad, beta):
        return (_kkt_scores(grad, self.alpha, self.col_norms, self.positive),
                np.flatnonzero(beta))

    def features(self, units):
        return units

    def solve(self, op, beta_ws, state, inner_rtol):
        # at most n columns of A can be independent, which bounds the active set and its
        # factor; with a ridge every active block is positive definite and the support of
        # the elastic net may exceed n
        n = self.design.n_samples if self.l2 == 0.0 else beta_ws.size
        state.factor = _grow_factor(state.factor, beta_ws.size, n, self.square_cap)
        if state.factor_l2 != self.l2:
            # the kept Cholesky factor is of the active block of G + l2 I: a new ridge (an
            # elastic-net path changes it with α) needs a new factor
            state.factor[3][1] = 0
            state.factor_l2 = self.l2
        # a coordinate-descent finish (large active sets) stops at a working-set gap of
        # 0.3 times the last certified gap (a working set that still misses features needs
        # no exact solve; celer's rule) or a tenth of the tolerance, whichever is larger;
        # tightened with inner_rtol when the outer loop asks, never below half the gap's
        # rounding floor
        gap_target = max((max(0.1 * state.tol_abs, 0.3 * state.gap)
                          * (inner_rtol / _INNER_RTOL_START)), 0.5 * state.gap_floor)
        converged, _ = solve_lasso_ws(op, self.alpha, beta_ws, self.positive, self.max_inner,
                                      _SNAP_EVERY, _MAX_POLISH, inner_rtol, _LBFGS_MEMORY, n,
                                      *state.factor, gap_target, state.alpha_from)
        state.alpha_from = self.alpha if converged else 0.0


def working_set_loop(design, b, beta, tol, max_iter, verbose, units, state):
    """The outer loop every convex hadasparse model runs, with ``units`` (features for the
    lasso, groups for the group lasso) providing the certificate, the KKT scores, the units'
    features and the inner Hadamard solve.

    One iteration: certify ``beta`` by the duality gap on all units; if the gap is above
    ``tol · ‖b‖²/n``, grow the working set by the support and the most violating units
    (violators are saddles of the surrogate at zero: at most as many as the support has, so
    the set roughly doubles while the support grows and stops once it has settled; on a path,
    where the previous alpha's support is nearly right, it grows by an eighth; for the lasso
    never by more than the support's room below n, the most nonzeros a solution has), and solve
    the problem restricted to it. A dense design keeps the working set's Gram matrix and grows
    it; a sparse one is passed as sparse columns (O(nnz) mat-vecs). When an iteration brings no
    new unit, the inner solve is asked for more accuracy; when that is exhausted and the gap
    no longer falls, the loop stops (not converged). ``state`` (a :class:`WorkingSet`) carries
    the working set to the next solve on the same data. Returns
    ``beta, dual_gap, n_iter, converged``.
    """
    n = design.n_samples
    tol_abs = tol * (b @ b) / n
    stop_abs = max(tol_abs, GAP_FLOOR * (b @ b) / n)
    gram = getattr(units, "gram", None)
    gram_form = gram is not None or not design.is_sparse
    # the working set's Gram matrix is kept while it is within the memory budget; a larger
    # working set (of a dense design) is reached through its columns, O(n·|W|)
    ws_cap = getattr(units, "ws_square_cap", None)
    if gram_form and ws_cap is not None and state.ws_feats.size > ws_cap:
        gram_form = False
    inner_rtol = _INNER_RTOL_START
    state.tol_abs = tol_abs
    state.gap_floor = GAP_FLOOR * (b @ b) / n
    # on a path (the state holds a solution at another alpha) the support moves little from
    # one alpha to the next: the working set grows by a fraction of it, not by doubling
    growth = _PATH_WS_GROWTH if state.alpha_from > 0.0 else 1
    gap = last_gap = np.inf
    op = None
    converged = False
    n_iter = 0
    last_finite = None  # (beta, gap) certified before the last inner solve
    for n_iter in range(1, max_iter + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            gap, grad = units.gap(b, beta, state)
        if not np.isfinite(gap) and last_finite is not None:
            # the inner solve diverged (a design too ill-conditioned for float64): return
            # the last certified point, not converged
            beta[:], gap, state.gap_exact = last_finite
            break
        if verbose:
            print(f"iteration {n_iter}: duality gap {gap:.3e} (tolerance {tol_abs:.3e}), "
                  f"working set {state.ws.size} units, {np.count_nonzero(beta)} nonzero")
        if gap <= tol_abs:
            converged = True
            break
        if gap <= stop_abs:
            break  # at the rounding floor: no iteration can certify less
        score, support = units.scores(grad, beta)
        score[support] = np.inf
        candidates = (np.arange(score.size) if score.size <= getattr(units, "ws_whole", 0)
                      else np.flatnonzero(score < 0))
        n_add = support.size // growth
        max_support = getattr(units, "max_support", None)
        if max_support is not None and state.rank_room:
            # near a saturated support (most of the n columns active) doubling the set
            # mostly adds violators that cannot all enter: at most the room left
            n_add = min(n_add, max_support - support.size)
        new = units_to_add(score.size, state.ws, support, candidates, -score[candidates],
                           max(units.ws_start, n_add))
        if new.size:
            new_feats = units.features(new)
            if (gram_form and ws_cap is not None
                    and state.ws_feats.size + new_feats.size > ws_cap):
                gram_form = False
                state.G_ws = np.zeros((0, 0))
            if gram_form:
                state.G_ws = _grow_gram(design, gram, state.G_ws, state.ws_feats, new_feats)
            state.ws = np.concatenate([state.ws, new])
            state.ws_feats = np.concatenate([state.ws_feats, new_feats])
            op = None
        else:
            if inner_rtol <= _MIN_INNER_RTOL and gap >= last_gap:
                break  # stagnation: nothing left to tighten
            inner_rtol = max(inner_rtol * 1e-3, _MIN_INNER_RTOL)
        last_gap = gap
        if op is None:
            if gram_form:
                if state.c_full is None:
                    state.c_full = design.rdot(b) / n
                op = gram_operator(state.G_ws, state.c_full[state.ws_feats], units.l2)
            else:
                rows = getattr(units, "column_rows", True)
                if design.is_sparse and not rows:
                    # a sparse design's row (CSR) copy serves only the polish's Gram
                    # columns: a warm start with more than CD_MIN_ACTIVE nonzeros is
                    # finished by coordinate descent, which reads columns alone (see
                    # _finish; along a path of decreasing α the support only grows)
                    rows = np.count_nonzero(beta[state.ws_feats]) <= CD_MIN_ACTIVE
                op = sparse_operator(design, b, state.ws_feats, units.l2, rows)
        if np.isfinite(gap):
            last_finite = (beta.copy(), gap, state.gap_exact)
        beta_ws = beta[state.ws_feats].copy()
        state.gap = gap
        units.solve(op, beta_ws, state, inner_rtol)
        beta[:] = 0.0
        beta[state.ws_feats] = beta_ws
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            gap = units.gap(b, beta, state)[0]
        if not np.isfinite(gap) and last_finite is not None:
            beta[:], gap, state.gap_exact = last_finite
        converged = gap <= tol_abs
    if not state.gap_exact:
        # the loop ended on a Gram-form gap (stalled, or max_iter): certify exactly
        with np.errstate(over="ignore", invalid="ignore"):
            gap = units.gap(b, beta, state, exact=True)[0]
        converged = gap <= tol_abs
    return beta, gap, n_iter, converged


def units_to_add(n_units, ws, support, candidates, priority, n_add):
    """The units a working set ``ws`` grows by: the ``support`` outside it, and of the
    ``candidates`` outside it the ``n_add`` of highest ``priority``."""
    in_ws = np.zeros(n_units, dtype=bool)
    in_ws[ws] = True
    keep = ~in_ws[candidates]
    candidates, priority = candidates[keep], priority[keep]
    if candidates.size > n_add:
        candidates = candidates[np.argpartition(-priority, n_add)[:n_add]]
    # sorted and unique, through a mask (np.union1d / np.setdiff1d sort and hash: ~0.15 ms
    # a call, a sizeable part of a small problem's outer iteration)
    added = np.zeros(n_units, dtype=bool)
    added[support] = True
    added[ws] = False
    added[candidates] = True
    return np.flatnonzero(added)


def _grow_factor(factor, k, n, square_cap):
    """The polish's active set and Cholesky factor ``(L, act, pos, fstate)`` for a working set
    of k features, keeping what was computed for the smaller set it extends (at most
    ``min(k, n)`` columns can be independent, which bounds the factor, and the memory budget
    ``square_cap`` bounds it too: larger active sets are finished by coordinate descent)."""
    cap = min(k, n, square_cap)
    if factor is None:
        return (np.zeros((cap, cap)), np.empty(cap, dtype=np.int64),
                np.full(k, -1, dtype=np.int64), np.zeros(2, dtype=np.int64))
    L, act, pos, fstate = factor
    if pos.size < k:
        pos = np.concatenate([pos, np.full(k - pos.size, -1, dtype=np.int64)])
    if act.size < cap:
        m = fstate[0]
        L_new = np.zeros((cap, cap))
        L_new[:m, :m] = L[:m, :m]
        act_new = np.empty(cap, dtype=np.int64)
        act_new[:m] = act[:m]
        L, act = L_new, act_new
    return L, act, pos, fstate


def _grow_gram(design, gram, G_ws, ws, new):
    """Gram matrix of ``ws + new`` from that of ``ws``: only the new rows are computed (or
    taken from ``gram``, the full Gram matrix)."""
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


def warn_not_converged(gap, tol_abs, max_iter, n_iter=None, scale=None):
    """The ConvergenceWarning of a fit whose duality gap is above ``tol_abs``, saying why the
    loop ended: ``max_iter`` reached (``n_iter`` None or ``max_iter``), or the gap stalled
    earlier -- at its rounding floor (``GAP_FLOOR * scale``, ``scale = ‖b‖²/n``) or above it
    with the inner solves at their most accurate -- where more iterations do not help."""
    if not np.isfinite(gap):
        message = (
            "Objective did not converge: the duality gap is infinite (at alpha=0, least "
            "squares, the dual is feasible only where X^T r = 0 exactly, so no finite gap "
            f"certifies the fit; {n_iter} working-set iterations were run). The coefficients "
            "are the least-squares solution to the inner solver's accuracy; "
            "sklearn.linear_model.LinearRegression solves this problem directly."
        )
    elif n_iter is None or n_iter >= max_iter:
        message = (
            "Objective did not converge. You might want to increase the number of "
            f"iterations. Duality gap: {gap:.3e}, tolerance: {tol_abs:.3e}, after "
            f"max_iter={max_iter} working-set iterations."
        )
    elif scale is not None and gap <= GAP_FLOOR * scale:
        message = (
            f"Objective did not converge to the tolerance {tol_abs:.3e}: after {n_iter} "
            f"working-set iterations the duality gap {gap:.3e} is at its rounding floor "
            f"(~{GAP_FLOOR * scale:.1e}, what float64 can certify for this problem). More "
            f"iterations do not help; a tol >= {GAP_FLOOR:.1e} (relative to "
            "||y_c||^2 / n_samples) can be met."
        )
    else:
        message = (
            f"Objective did not converge: the duality gap stalled at {gap:.3e}, above the "
            f"tolerance {tol_abs:.3e}, after {n_iter} working-set iterations (of "
            f"max_iter={max_iter}) with the inner solves at their most accurate. More "
            "iterations do not help; a larger tol or alpha, or standardised features (a "
            "better conditioned problem), may."
        )
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


# --------------------------------------------------------------------------------------
# Group lasso: the same outer loop on groups (working set of groups, certificate on all)
# --------------------------------------------------------------------------------------

_GROUP_WS_START = 10  # fewest violating groups admitted to a working set
_MAX_GROUP_POLISH = 50  # Newton rounds per polish attempt
# largest active set (in coordinates) whose Newton system is factorised densely; beyond it,
# block-preconditioned conjugate gradients (a factorisation would cost O(m³))
_DENSE_NEWTON_MAX = 600


def group_norms(v, gptr):
    """``‖v_g‖`` for the contiguous groups ``gptr[g]:gptr[g + 1]`` (all non-empty)."""
    return np.sqrt(np.add.reduceat(v * v, gptr[:-1]))


def group_ranges(groups, gptr):
    """The coordinates of ``groups``, concatenated."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.intp)
    return np.concatenate([np.arange(gptr[g], gptr[g + 1]) for g in groups])


class ResidualProjector:
    """Projects residuals off the span of the unpenalised columns.

    The dual of the group lasso requires ``A_uᵀθ = 0`` for the unpenalised columns ``u``
    (weight 0): the dual point is built from the residual with its component in ``span(A_u)``
    removed, which makes it feasible whatever the primal point (at the optimum that component
    is already zero). The projection uses the ``|u| × |u|`` Gram matrix, never ``A_u`` itself.

    With an elastic-net ridge ``l2`` the design is the augmented ``[A; √(n l2) I]`` (see
    :func:`_gap_at_scaled_residual`), whose unpenalised columns' Gram is ``G_uu + l2 I``: the
    projection then also moves the ridge block, by ``z`` on the unpenalised coordinates.
    """

    def __init__(self, design, columns, l2=0.0):
        self.columns = np.asarray(columns, dtype=np.intp)
        self.l2 = l2
        if self.columns.size:
            G = design.gram(self.columns, self.columns)
            if l2:
                G = G + l2 * np.eye(G.shape[0])
            self.G_pinv = np.linalg.pinv(G, rcond=1e-12, hermitian=True)

    def __call__(self, design, resid, grad, beta=None):
        """``(resid, grad, z)`` after projection, ``grad = Aᵀ resid / n`` and ``z`` the
        projection's coefficients (zero outside the unpenalised columns; ``beta`` is needed
        with a ridge)."""
        z = np.zeros(design.n_features)
        if self.columns.size == 0:
            return resid, grad, z
        g = grad[self.columns]
        if self.l2:
            g = g - self.l2 * beta[self.columns]
        z[self.columns] = self.G_pinv @ g
        resid = resid - design.dot(z)
        return resid, design.rdot(resid) / design.n_samples, z


def group_duality_gap(design, b, beta, alpha, weights, gptr, projector, positive=False,
                      l2=0.0):
    """Duality gap of ``1/(2n)‖b − Aβ‖² + l2/2 ‖β‖² + α Σ_g w_g ‖β_g‖`` (``β ≥ 0`` if
    positive) at ``beta`` (``l2 > 0``: the group elastic net, with the augmented design's
    dual point as for the lasso; ``projector`` must have been built with the same ``l2``).

    Dual point ``θ = r / max(1, max_g ‖A_gᵀ r‖ / (n α w_g))`` over the penalised groups, with
    ``r`` the residual projected off the unpenalised columns. If positive, the dual
    constraint is ``‖(A_gᵀθ)⁺‖ ≤ n α w_g`` (the conjugate of ``α w_g‖·‖ + ι_{≥0}``), so only
    the positive part of the correlations counts. Returns ``(gap, grad)`` with
    ``grad = Aᵀ(b − Aβ)/n`` (unprojected).
    """
    n = design.n_samples
    resid = b - design.dot(beta)
    grad = design.rdot(resid) / n
    primal = 0.5 * (resid @ resid) / n + alpha * (weights @ group_norms(beta, gptr))
    resid_p, grad_p, z = projector(design, resid, grad, beta)
    corr = grad_p - l2 * beta if l2 else grad_p  # z is 0 on the penalised groups
    pen = weights > 0
    gn = group_norms(np.maximum(corr, 0.0) if positive else corr, gptr)
    dual_norm = np.max(gn[pen] / weights[pen]) if pen.any() else 0.0
    if not l2:
        return _gap_at_scaled_residual(primal, b, resid_p, dual_norm, alpha, n), grad
    # the augmented residual's ridge block is −√(n l2)(β + z) after the projection, while the
    # primal's ridge is l2/2 ‖β‖²
    shifted = beta + z
    gap = _gap_at_scaled_residual(primal, b, resid_p, dual_norm, alpha, n,
                                  l2 * (shifted @ shifted))
    return gap + 0.5 * l2 * ((beta @ beta) - (shifted @ shifted)), grad


def group_alpha_max(design, b, weights, gptr, positive=False):
    """Smallest α for which every penalised group is zero: ``max_g ‖A_gᵀ b_u‖ / (n w_g)``
    (of the positive part ``(A_gᵀ b_u)⁺`` if positive), ``b_u`` the target with the fit of the
    unpenalised columns removed."""
    n = design.n_samples
    unpen = group_ranges(np.flatnonzero(weights == 0), gptr)
    grad = design.rdot(b) / n
    _, grad, _ = ResidualProjector(design, unpen)(design, b, grad)
    pen = weights > 0
    if not pen.any():
        return 0.0
    if positive:
        grad = np.maximum(grad, 0.0)
    return float(np.max(group_norms(grad, gptr)[pen] / weights[pen]))


def solve_group_lasso(design, b, alpha, weights, gptr, beta_init=None, *, tol=1e-4,
                      max_iter=1000, max_inner=2000, verbose=False, positive=False,
                      state=None, l2=0.0):
    """Minimise the group lasso (see :func:`_solve_group_lasso`); ``state``: as in
    :func:`solve_lasso`, a :class:`WorkingSet` passed to successive solves on the same data
    (a path), each continuing from the working set and Gram blocks the previous one left."""
    with single_threaded_blas():
        return _solve_group_lasso(design, b, alpha, np.asarray(weights, dtype=np.float64),
                                  np.asarray(gptr, dtype=np.int64), beta_init, tol, max_iter,
                                  max_inner, verbose, positive, state, l2)


def _solve_group_lasso(design, b, alpha, weights, gptr, beta_init, tol, max_iter, max_inner,
                       verbose, positive, state=None, l2=0.0):
    """Minimise ``1/(2n)‖b − Aβ‖² + α Σ_g w_g ‖β_g‖₂`` (groups contiguous: ``gptr``; ``β ≥ 0``
    if positive, for which every group must be penalised) to duality gap ``≤ tol · ‖b‖²/n``:
    :func:`working_set_loop` with groups as units. Returns
    ``beta, dual_gap, n_iter, converged``.
    """
    if positive and np.any(weights == 0):
        raise ValueError("positive=True needs every group penalised (weight > 0).")
    beta = np.zeros(design.n_features) if beta_init is None else np.array(
        beta_init, dtype=np.float64)
    if positive:
        np.maximum(beta, 0.0, out=beta)
    return working_set_loop(design, b, beta, tol, max_iter, verbose,
                            _GroupUnits(design, alpha, weights, gptr, max_inner, tol, positive,
                                        l2),
                            WorkingSet() if state is None else state)


class _InnerTolerance:
    """The KKT accuracy asked of a group inner solve: ``tol / 2`` relative to ``α w_g``
    already certifies the working-set problem to the gap tolerance ``tol · ‖b‖²/n`` (at
    residual ``e_g = ∇_g L + α w_g β̂_g`` with ``‖e_g‖ ≤ ε α w_g`` on every group the gap is at
    most ``ε²‖r‖²/(2n) + 2ε α Σ_g w_g ‖β_g‖ ≤ (ε + ε²/2) ‖b‖²/n``), so solving to the loop's
    ``inner_rtol`` (1e-10 at first) would only buy Newton rounds that the certificate does not
    need. Whenever the loop tightens ``inner_rtol`` (no new unit, gap still too large: weights
    below 1 or unpenalised groups weaken the bound), this tightens by the same factor."""

    def __init__(self, tol):
        self.rtol = 0.5 * tol
        self.last = None

    def __call__(self, inner_rtol):
        if self.last is not None and inner_rtol < self.last:
            self.rtol *= inner_rtol / self.last
        self.last = inner_rtol
        return max(inner_rtol, min(self.rtol, 1e-3))


class _GroupUnits:
    """The group lasso for :func:`working_set_loop`: groups are the units (unpenalised groups
    always in the support), the certificate is :func:`group_duality_gap`, the inner solve the
    group kernel."""

    ws_start = _GROUP_WS_START

    def __init__(self, design, alpha, weights, gptr, max_inner, tol, positive=False, l2=0.0):
        self.design, self.alpha, self.weights, self.gptr = design, alpha, weights, gptr
        self.l2 = l2  # the elastic-net ridge (on G's diagonal through the operator)
        self.max_inner, self.positive = max_inner, positive
        # a dense design's working set beyond the memory budget: reached through its columns
        self.ws_square_cap = design_square_cap(design)
        self.inner = _InnerTolerance(tol)
        self.sizes = np.diff(gptr)
        traces = np.add.reduceat(design.col_sq_norms(), gptr[:-1])
        self.scale = np.sqrt(np.where(traces > 0, traces, 1.0))
        self.unpenalised = np.flatnonzero(weights == 0)
        self.projector = ResidualProjector(design, group_ranges(self.unpenalised, gptr), l2)

    def gap(self, b, beta, state):
        return group_duality_gap(self.design, b, beta, self.alpha, self.weights, self.gptr,
                                 self.projector, self.positive, self.l2)

    def scores(self, grad, beta):
        # grad is Aᵀr/n = −∇L: with positive only its positive part can violate KKT
        corr = np.maximum(grad, 0.0) if self.positive else grad
        score = (self.alpha * self.weights - group_norms(corr, self.gptr)) / self.scale
        support = np.union1d(np.flatnonzero(group_norms(beta, self.gptr) > 0),
                             self.unpenalised)
        return score, support

    def features(self, units):
        return group_ranges(units, self.gptr)

    def solve(self, op, beta_ws, state, inner_rtol):
        ws_gptr = np.concatenate([[0], np.cumsum(self.sizes[state.ws])]).astype(np.int64)
        solve_group_ws(op, 1, self.alpha, np.ascontiguousarray(self.weights[state.ws]),
                       ws_gptr, beta_ws, self.positive, self.max_inner, _SNAP_EVERY,
                       _MAX_GROUP_POLISH, self.inner(inner_rtol), _LBFGS_MEMORY,
                       _DENSE_NEWTON_MAX)


# --------------------------------------------------------------------------------------
# Multi-task lasso: features are the units, coefficients a p×T matrix
# --------------------------------------------------------------------------------------


def multitask_duality_gap(design, B, W, alpha, l2=0.0, R=None):
    """Duality gap of ``1/(2n)‖B − AW‖²_F + l2/2 ‖W‖²_F + α Σ_j ‖W_j‖₂`` at ``W`` (p×T),
    ``design`` a :class:`TaskDesign`. Dual point ``Θ = R / max(1, max_j ‖A_jᵀR/n − l2 W_j‖ /
    α)``, R the residual (with ``l2``, of the augmented design as in
    :func:`_gap_at_scaled_residual`). Returns ``(gap, grad)`` with ``grad = Aᵀ(B − AW)/n``
    (p×T). ``R``: the residual ``B − AW`` when the caller has it."""
    n = design.n_samples
    B = np.reshape(B, (n, -1))
    row_sq = np.sum(W * W, axis=1)
    nz = np.flatnonzero(row_sq)
    base = getattr(design, "base", None)
    if R is not None:
        pass
    elif base is not None and not base.is_sparse and 4 * nz.size < design.n_features:
        R = B - base.X[:, nz] @ W[nz]  # only the support's columns
    else:
        R = B - design.dot(W)
    grad = design.rdot(R) / n
    primal = 0.5 * np.vdot(R, R) / n + alpha * np.sqrt(row_sq[nz]).sum()
    corr = grad - l2 * W if l2 else grad
    dual_norm = np.sqrt(np.max(np.sum(corr * corr, axis=1), initial=0.0))
    ridge = l2 * row_sq.sum() if l2 else 0.0
    return _gap_at_scaled_residual(primal, B, R, dual_norm, alpha, n, ridge), grad


_MT_WS_START = 100  # violating features admitted to the first working set
_MT_ANDERSON = 3  # iterates combined by each Anderson extrapolation (every 4 epochs)
_MT_INNER = 0.3  # an inner solve stops at this fraction of the last certified gap
_MT_MAX_EPOCHS = 100_000
_MT_POLISH_RTOL = 1e-11  # KKT accuracy (relative to α) asked of the Newton polish


def solve_multitask_lasso(design, B, alpha, W_init=None, *, tol=1e-4, max_iter=1000,
                          max_inner=_MT_MAX_EPOCHS, verbose=False, l2=0.0, state=None,
                          gram=None):
    """Minimise ``1/(2n)‖B − AW‖²_F + l2/2 ‖W‖²_F + α Σ_j ‖W_j‖₂`` (``design`` a
    :class:`TaskDesign`, B n×T, W p×T) to duality gap ``≤ tol · ‖B‖²_F/n``.

    A working-set loop over features, as for the other convex models: certify by the gap on
    all features, grow the set by the support and the most violating features (at least as
    many as the support has, so the set more than doubles while the support grows), and
    solve the problem restricted to it by block coordinate descent in residual form with
    Anderson extrapolation (:func:`~._group_kernels.multitask_bcd`), each inner solve to a
    fraction of the last gap. No Gram matrix is formed: the memory is O(n·T + |W|·T) beyond
    the design, for any working set. (The Hadamard group kernel with its Newton polish was
    the inner solve before; with more active features than samples its Newton systems are
    singular up to the curvature of the factors and it was 3-6x slower than sklearn.)

    ``state``: a :class:`WorkingSet` passed to successive solves on the same data (a path),
    each starting from the working set the previous one left; ``gram`` is accepted for
    compatibility and ignored. Returns ``W, dual_gap, n_iter, converged``."""
    p, T = design.n_features, design.n_tasks
    W = np.zeros((p, T)) if W_init is None else np.array(W_init, dtype=np.float64)
    B = np.ascontiguousarray(np.reshape(B, (design.n_samples, T)), dtype=np.float64)
    with single_threaded_blas():
        return _solve_multitask(design, B, alpha, W, tol, max_iter, max_inner, verbose, l2,
                                WorkingSet() if state is None else state)


def _multitask_polish(design, c_full, alpha, l2, W, support):
    """Newton's method on the support (the group kernel's polish, with the features' Gram
    block of the support): where the support holds few coefficients, a few Newton steps take
    the coordinate-descent solution to KKT at rounding accuracy, as the Hadamard solver's
    polish did (fits that differ only in the rounding of the data then agree to ~1e-12, not
    to the tolerance). ``W`` is updated in place, unless the polish raised the objective
    beyond rounding: its Armijo steps never raise it, but a group it sets to zero because the
    Newton step passes through the origin can (on a support whose columns are linearly
    dependent the Newton step is huge and drops half the support: seen on a CV fold)."""
    T = design.n_tasks
    m = support.size
    G = design.gram(support, support)
    op = gram_operator(G, np.ascontiguousarray(c_full[support]).reshape(m * T), l2, T)
    beta = np.ascontiguousarray(W[support]).reshape(m * T).copy()
    traces = np.maximum(np.diag(G) + l2, np.finfo(np.float64).tiny)
    weights, gptr = np.ones(m), np.arange(0, m * T + 1, T)
    # the objective on the support, up to the constant ‖B‖²/(2n)
    before = group_value(op, T, alpha, weights, gptr, beta)
    start = beta.copy()
    group_polish(op, T, alpha, weights, gptr, beta, traces, False, _MAX_GROUP_POLISH,
                 _MT_POLISH_RTOL, dense_polish_limit(m * T, _DENSE_NEWTON_MAX))
    # (a slack of rounding size: near the solution the polish's gain is at the rounding of
    # the objective, and rejecting it there would make fits of equivalent data, weighted or
    # repeated, differ by their tolerance instead of by rounding)
    if group_value(op, T, alpha, weights, gptr, beta) > before + 1e-10 * abs(before):
        beta = start
    W[support] = beta.reshape(m, T)


def _multitask_arrays(design):
    """The design as :func:`~._group_kernels.multitask_bcd` takes it: ``(Aᵀ,)``, dense
    ``Aᵀ`` in C order (a view of ``A`` in Fortran order), or the CSC arrays, centring and
    weights of a sparse one, ``(data, indices, indptr, x_mean, sqrt_sw)`` (tuples of two
    lengths: two numba types, each compiling only its own code)."""
    base = design.base
    n, p = base.n_samples, base.n_features
    if not base.is_sparse:
        X = base.X if base.X.flags.f_contiguous else np.asfortranarray(base.X)
        return (X.T,)
    X = base.X
    x_mean = np.zeros(p) if base.x_mean is None else np.ascontiguousarray(base.x_mean)
    sqrt_sw = (np.ones(n) if base.x_mean is None
               else np.ascontiguousarray(base.sqrt_sw, dtype=np.float64))
    return (X.data.astype(np.float64, copy=False), X.indices.astype(np.int64),
            X.indptr.astype(np.int64), x_mean, sqrt_sw)


def _solve_multitask(design, B, alpha, W, tol, max_iter, max_inner, verbose, l2, state):
    n, p = design.n_samples, design.n_features
    y_sq = float(np.vdot(B, B))
    tol_abs = tol * y_sq / n
    stop_abs = max(tol_abs, GAP_FLOOR * y_sq / n)
    arrays = _multitask_arrays(design)
    BT = np.ascontiguousarray(B.T)
    lips = design.col_sq_norms() + l2
    # the trace of a feature's block of G ⊗ I_T
    scale = np.sqrt(design.n_tasks * np.where(design.col_sq_norms() > 0,
                                              design.col_sq_norms(), 1.0))
    ws = state.ws
    # the Newton polish's system has |support|·T unknowns: within the dense Newton limit and
    # the square-array budget
    polish_max = min(_DENSE_NEWTON_MAX, design_square_cap(design))
    c_full = None
    gap = last_gap = np.inf
    inner_tol = np.inf
    converged = False
    n_iter = 0
    R_T = None  # the residual the last inner solve left (T×n), if W is still its point
    for n_iter in range(1, max_iter + 1):
        gap, grad = multitask_duality_gap(design, B, W, alpha, l2,
                                          None if R_T is None else R_T.T)
        if verbose:
            print(f"iteration {n_iter}: duality gap {gap:.3e} (tolerance {tol_abs:.3e}), "
                  f"working set {ws.size} features, {np.count_nonzero(W.any(axis=1))} "
                  "nonzero")
        if gap <= tol_abs:
            converged = True
            break
        if gap <= stop_abs or not np.isfinite(gap):
            break
        support = np.flatnonzero(W.any(axis=1))
        score = (alpha - np.sqrt(np.einsum("ij,ij->i", grad, grad))) / scale
        score[support] = np.inf
        candidates = np.flatnonzero(score < 0)
        new = units_to_add(p, ws, support, candidates, -score[candidates],
                           max(_MT_WS_START, support.size))
        if new.size:
            ws = np.concatenate([ws, new])
        elif inner_tol <= 0.5 * stop_abs and gap >= last_gap:
            break  # stagnation: the working set is solved to the floor, the gap stays
        last_gap = gap
        # without new features the gap is the working set's own (up to the dual scaling by
        # features outside it): solve it to the tolerance
        inner_tol = 0.5 * stop_abs if new.size == 0 else max(_MT_INNER * gap, 0.5 * stop_abs)
        W_ws = np.ascontiguousarray(W[ws])
        R_T = np.empty_like(BT)
        _, ws_gap = multitask_bcd(arrays, ws.astype(np.int64), W_ws, BT, alpha, l2,
                                  np.ascontiguousarray(lips[ws]), inner_tol, max_inner,
                                  _MT_ANDERSON, R_T)
        W[:] = 0.0
        W[ws] = W_ws
        support = np.flatnonzero(W.any(axis=1))
        # polish once the working set is solved to the tolerance (the likely last round), or
        # whenever its dense Newton system (~(sT)³/3 flops) costs less than a few epochs
        sT = support.size * design.n_tasks
        if 0 < sT <= polish_max and (ws_gap <= tol_abs
                                     or sT**3 <= 12 * ws.size * n * design.n_tasks):
            if c_full is None:
                c_full = design.rdot(B) / n
            _multitask_polish(design, c_full, alpha, l2, W, support)
            R_T = None  # the polish moved W
    else:
        gap = multitask_duality_gap(design, B, W, alpha, l2)[0]
        converged = gap <= tol_abs
    state.ws = ws
    return W, gap, n_iter, converged
