"""Numba kernels of the Hadamard ℓq solver (q = 2/k, k ≥ 3).

The problem on a working set W is ``min_β 1/2 βᵀGβ − cᵀβ + α Σ_j |β_j|^q``, reached through
the operator tuple ``op`` of :mod:`hadasparse.losses._quadratic` (Gram form or sparse
columns). Its smooth surrogate is the depth-k Hadamard product ``β = u_1 ⊙ … ⊙ u_k`` with the ridge
``α/k Σ_d ‖u_d‖²``; by AM–GM, ``(1/k) Σ_d u_{d,j}² ≥ |β_j|^{2/k}`` with equality when the
factors are balanced (``|u_{d,j}| = |β_j|^{1/k}``), so both problems have the same minima.
The factor vector ``x`` stacks the factors: ``x[d*m:(d+1)*m] = u_{d+1}`` for a working set of
m features.

For k ≥ 3 the origin of a coordinate is a local minimum of the surrogate (the loss is of
order k in the factors there, the ridge of order 2): a zero is never a saddle, so coordinates
are brought into play by the ℓq zero condition (below) and started at their proximal step,
not by an escape direction.

Optimality is measured with the diagonally scaled proximal-gradient map
``T(β)_j = prox_{(α/G_jj)|·|^q}(β_j − ∇_j L(β)/G_jj)`` — one exact coordinate-descent step per
coordinate, all taken from the same point. Its fixed points are the points no single
coordinate can improve, the stationarity notion of coordinate descent (and stronger than that
of a proximal-gradient step 1/‖G‖, whose thresholds are looser). A zero coordinate is a fixed
point iff ``|∇_j L| / G_jj ≤ τ(α / G_jj)`` with the zero threshold ``τ`` of :func:`lq_prox`.

The group ℓ2,q penalty ``α Σ_g w_g ‖β_g‖₂^q`` has the same kernels with groups as units
(``group_*``, at the end of the module).

:func:`solve_lq_ws`, the per-working-set driver, is plain Python calling the kernels (as for
the lasso, see :mod:`._lasso_kernels`).
"""

import numpy as np
from numba import njit

from .._arrays import abs_max, abs_power_sum, argsort_into, copy_into, nonzero_indices
from ..losses._quadratic import GRAM_FORM, op_diag, op_grad, op_gram_block
from ._lasso_kernels import _back_substitution, _forward_substitution
from ._lbfgs import lbfgs_factors
from ..penalties._prox import (lq_prox, lq_prox_thresholded, lq_threshold,
                              radial_lq_prox)

_EMPTY_INT = np.empty(0, dtype=np.int64)  # the group ids that the lq L-BFGS call does not use

# The Newton polishes' rounding regime: the decrease a step predicts (``−slope``, twice the
# Newton decrement) is below this multiple of the objective's magnitude, so that Armijo's
# test cannot measure it. There a step is accepted unless it raises the objective by more
# than that noise (Armijo would reject full steps at random and halve them, ending the
# quadratic convergence), and the polish stops once a step no longer halves the gradient:
# its rounding floor, on an ill-conditioned support ~1e-10, far above a fixed gradient
# tolerance (the polish then used to stall for all its iterations, the most expensive step
# of a fit).
_NEWTON_ROUNDING = 1e-15
# the finish's Newton polishes: at most this many steps, to this gradient (sup norm)
_POLISH_ITER = 50
_POLISH_GTOL = 1e-13


# --------------------------------------------------------------------------------------
# The ℓq proximal step (the scalar prox is hadasparse.penalties._prox.lq_prox)
# --------------------------------------------------------------------------------------


@njit(cache=True)
def lq_prox_step(beta, grad, diag, alpha, q):
    """``T(β)``: the diagonally scaled proximal-gradient step (see the module docstring).
    A coordinate with ``G_jj = 0`` (a constant column) has no effect on the loss: it is 0."""
    m = beta.shape[0]
    out = np.zeros(m)
    for j in range(m):
        d = diag[j]
        if d > 0.0:
            out[j] = lq_prox(beta[j] - grad[j] / d, alpha / d, q)
    return out


@njit(cache=True)
def lq_residual(beta, step, diag):
    """``max_j √G_jj |β_j − T(β)_j|``: the largest change of the fit (in the target's units,
    per sample) one coordinate step would make."""
    res = 0.0
    for j in range(beta.shape[0]):
        r = np.sqrt(max(diag[j], 0.0)) * abs(beta[j] - step[j])
        if r > res:
            res = r
    return res


# --------------------------------------------------------------------------------------
# The depth-k surrogate
# --------------------------------------------------------------------------------------


@njit(cache=True)
def lq_balanced_factors(beta, depth):
    """``|u_{d,j}| = |β_j|^{1/k}`` for every factor, the sign carried by the first."""
    m = beta.shape[0]
    x = np.empty(depth * m)
    for j in range(m):
        r = abs(beta[j]) ** (1.0 / depth)
        for d in range(depth):
            x[d * m + j] = r
        if beta[j] < 0.0:
            x[j] = -r
    return x


@njit(cache=True)
def _beyond_budget(op, m):
    """Whether an m×m Newton matrix exceeds the square-array budget of
    :mod:`hadasparse.solvers._budget` (at least 2n rows). In Gram form the working set is
    within it already; in operator form (sparse designs, and dense ones whose working set
    outgrew the budget) a support of more than 2n coordinates is not polished: the Newton
    system of a local minimum has at most n independent columns anyway."""
    if len(op) == GRAM_FORM:
        return False
    return m > 2 * op[11].shape[0]


# --------------------------------------------------------------------------------------
# Local search: swap moves between fixed points (the coordinate descents here; the search
# itself, for coordinates and groups, after the group kernels: lq_local_search)
# --------------------------------------------------------------------------------------


# early rejection of a swap move's descent (see _active_coordinate_descent): on the 25
# local searches of bench_lq.py's alpha/4 problems (seeds 0-5) it kept every accepted move
# and every search's result, and cut the searches' time about 4-fold
_REJECT_RHO = 0.9
_REJECT_SAFETY = 4.0
_REJECT_GAP = 1e-3


@njit(cache=True)
def lq_coordinate_descent(Gt, alpha, q, beta, grad, diag, thresholds, blocked, tol_abs,
                          max_sweeps):
    """Cyclic coordinate descent with exact ℓq coordinate steps ``T(β)_j`` on
    ``1/2 βᵀGβ − cᵀβ + α Σ |β_j|^q`` (``beta`` and ``grad = Gβ − c`` updated in place;
    ``Gt = Gᵀ`` C-contiguous, so that column j of G is the contiguous row ``Gt[j]``);
    coordinate ``blocked`` (−1: none) is held at its value; ``thresholds[j]`` is the zero
    threshold ``τ(α/G_jj)`` of coordinate j (a zero below it stays). Every step minimises the
    objective along its coordinate exactly, so the objective never increases. Stops after a
    sweep in which no coordinate moved by more than ``tol_abs`` (in units of ``√G_jj``)."""
    m = beta.shape[0]
    for _ in range(max_sweeps):
        biggest = 0.0
        for j in range(m):
            d = diag[j]
            if d <= 0.0 or j == blocked:
                continue
            if beta[j] == 0.0 and abs(grad[j]) <= d * thresholds[j]:
                continue
            new = lq_prox_thresholded(beta[j] - grad[j] / d, alpha / d, q, thresholds[j])
            delta = new - beta[j]
            if delta != 0.0:
                beta[j] = new
                col = Gt[j]
                for i in range(m):
                    grad[i] += delta * col[i]
                r = np.sqrt(d) * abs(delta)
                if r > biggest:
                    biggest = r
        if biggest <= tol_abs:
            return True
    return False


@njit(cache=True)
def _gradient(Gt, c, beta):
    """``Gβ − c`` from the nonzero columns only (β is sparse; ``Gt = Gᵀ`` C-contiguous)."""
    m = beta.shape[0]
    g = -c.copy()
    for j in range(m):
        bj = beta[j]
        if bj != 0.0:
            col = Gt[j]
            for i in range(m):
                g[i] += bj * col[i]
    return g


@njit(cache=True)
def _active_coordinate_descent(Gt, c, alpha, q, beta, grad, diag, thresholds, blocked,
                               tol_abs, max_sweeps, F_reject):
    """:func:`lq_coordinate_descent` that sweeps the nonzero coordinates only (the gradient
    kept up to date on them alone) until they settle, then takes one sweep over all
    coordinates (fresh gradient) to let zeros in; repeated until that sweep moves nothing
    beyond ``tol_abs``. ``grad`` is exact on return, except after an early rejection.

    Early rejection (``F_reject`` finite: the objective a swap move must beat): the
    objective ``1/2 βᵀGβ − cᵀβ + α Σ|β_j|^q`` is tracked after every sweep of the nonzeros;
    once its decrease per sweep shrinks (ratio ρ < ``_REJECT_RHO``), the rest of the descent
    is estimated as a geometric tail ``D ρ/(1 − ρ)``, and the descent stops (returns False)
    when even ``_REJECT_SAFETY`` times that tail leaves the objective above ``F_reject`` by
    more than ``_REJECT_GAP |F_reject|``. Only the gradient on the nonzeros is exact then,
    enough for the caller's objective (which stays above ``F_reject``: the move is
    rejected)."""
    for _ in range(max_sweeps):
        act = nonzero_indices(beta)
        k = act.shape[0]
        F_prev = np.inf
        D_prev = 0.0
        for _ in range(max_sweeps):
            biggest = 0.0
            for a in range(k):
                j = act[a]
                d = diag[j]
                if d <= 0.0 or j == blocked:
                    continue
                new = lq_prox_thresholded(beta[j] - grad[j] / d, alpha / d, q, thresholds[j])
                delta = new - beta[j]
                if delta != 0.0:
                    beta[j] = new
                    col = Gt[j]
                    for b in range(k):
                        grad[act[b]] += delta * col[act[b]]
                    r = np.sqrt(d) * abs(delta)
                    if r > biggest:
                        biggest = r
            if biggest <= tol_abs:
                break
            if F_reject < np.inf:
                # β vanishes off act: 1/2 βᵀGβ − cᵀβ = 1/2 βᵀ(∇ − c), from act alone
                F_cur = 0.0
                for a in range(k):
                    bj = beta[act[a]]
                    F_cur += (0.5 * bj * (grad[act[a]] - c[act[a]])
                              + alpha * (np.sqrt(abs(bj)) if q == 0.5 else abs(bj) ** q))
                D = F_prev - F_cur if F_prev < np.inf else 0.0
                if D_prev > 0.0 and D < _REJECT_RHO * D_prev:
                    rho = D / D_prev
                    if (F_cur - _REJECT_SAFETY * D * rho / (1.0 - rho)
                            > F_reject + _REJECT_GAP * abs(F_reject)):
                        return False
                F_prev = F_cur
                D_prev = D
        copy_into(grad, _gradient(Gt, c, beta))
        if lq_coordinate_descent(Gt, alpha, q, beta, grad, diag, thresholds, blocked, tol_abs,
                                 1):
            return True
    return False


# --------------------------------------------------------------------------------------
# Group ℓ2,q: α Σ_g w_g ‖β_g‖₂^q, groups contiguous (``gptr``)
# --------------------------------------------------------------------------------------
# The same scheme with groups as units. The proximal step of a group takes the step
# 1/L_g with L_g = λ_max(G_gg) (``lips``), which majorises the loss along the group, so one
# group's step never increases the objective; the prox of λ‖·‖^q is radial:
# ``prox(z) = z · prox_{λ|·|^q}(‖z‖) / ‖z‖``. Groups of weight 0 are unpenalised. The
# surrogate is ``β_g = ν_{g,1} ⋯ ν_{g,k−1} ω_g`` with ridge ``α w_g / k (Σ_d ν_{g,d}² +
# ‖ω_g‖²)``; the factor vector is ``x = [ω (m), ν (n_groups × (k − 1), group-major)]``.
# Unpenalised groups keep ν = 1 (their ω is β_g).


@njit(cache=True)
def group_lq_prox_step(beta, grad, gptr, lips, weights, alpha, q):
    n_groups = gptr.shape[0] - 1
    out = np.zeros(beta.shape[0])
    for g in range(n_groups):
        L = lips[g]
        if L <= 0.0:
            continue
        s, e = gptr[g], gptr[g + 1]
        z = beta[s:e] - grad[s:e] / L
        if weights[g] == 0.0:
            copy_into(out[s:e], z)
            continue
        if radial_lq_prox(z, alpha * weights[g] / L, q):
            copy_into(out[s:e], z)
    return out


@njit(cache=True)
def group_lq_residual(beta, step, gptr, lips):
    """``max_g √L_g ‖β_g − T(β)_g‖``."""
    res = 0.0
    for g in range(gptr.shape[0] - 1):
        s, e = gptr[g], gptr[g + 1]
        d = beta[s:e] - step[s:e]
        r = np.sqrt(max(lips[g], 0.0) * (d @ d))
        if r > res:
            res = r
    return res


@njit(cache=True)
def _group_penalty(beta, gptr, weights, q):
    pen = 0.0
    for g in range(gptr.shape[0] - 1):
        if weights[g] != 0.0:
            v = beta[gptr[g]:gptr[g + 1]]
            pen += weights[g] * np.sqrt(v @ v) ** q
    return pen


@njit(cache=True)
def _penalty(beta, q, group):
    """The penalty without α: ``Σ_j |β_j|^q`` or ``Σ_g w_g ‖β_g‖^q`` (``group = (gptr, lips,
    weights)``)."""
    if len(group) == 0:
        return abs_power_sum(beta, q)
    gptr, lips, weights = group
    return _group_penalty(beta, gptr, weights, q)


@njit(cache=True)
def group_lq_balanced_factors(beta, gptr, weights, depth):
    """``|ν_{g,d}| = ‖β_g‖^{1/k}``, ``ω_g = β_g / ‖β_g‖^{(k−1)/k}`` (so ``‖ω_g‖ = ‖β_g‖^{1/k}``);
    unpenalised groups: ν = 1, ω = β_g."""
    m = beta.shape[0]
    n_groups = gptr.shape[0] - 1
    x = np.zeros(m + n_groups * (depth - 1))
    for g in range(n_groups):
        s, e = gptr[g], gptr[g + 1]
        base = m + g * (depth - 1)
        if weights[g] == 0.0:
            copy_into(x[s:e], beta[s:e])
            x[base:base + depth - 1] = 1.0
            continue
        r = np.sqrt(beta[s:e] @ beta[s:e])
        if r == 0.0:
            continue
        copy_into(x[s:e], beta[s:e] / r ** ((depth - 1.0) / depth))
        x[base:base + depth - 1] = r ** (1.0 / depth)
    return x


# --------------------------------------------------------------------------------------
# Group local search: swap moves with groups as units
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _group_block_step(Gt, beta, grad, s, e, lip, weight, alpha, q, rows, tol_abs):
    """Proximal steps of one group with step ``1/L_g`` (:func:`group_lq_prox_step` for one
    group; weight 0: the gradient step ``β_g − ∇_g/L_g``), repeated on the group alone (its
    gradient kept through ``G_gg``, at the cost of |g|² per step) until a step moves it by at
    most ``tol_abs / 10`` (``√L_g ‖δ‖``) or 50 steps: with steps 1/λ_max(G_gg) a single step
    leaves the group far from its block minimum when G_gg is ill-conditioned. Each step
    minimises a majoriser of the objective along the group that is exact at the current
    point, so none increases the objective. ``beta[s:e]`` and ``grad`` on the coordinates
    ``rows`` (``Gt = Gᵀ`` C-contiguous) are updated in place. Returns the group's change
    ``√L_g ‖δ‖``."""
    size = e - s
    cur = beta[s:e].copy()
    gg = grad[s:e].copy()
    z = np.empty(size)
    for _ in range(50):
        for i in range(size):
            z[i] = cur[i] - gg[i] / lip
        if weight != 0.0:
            radial_lq_prox(z, alpha * weight / lip, q)
        moved = 0.0
        for i in range(size):
            d = z[i] - cur[i]
            if d != 0.0:
                col = Gt[s + i]
                for l in range(size):
                    gg[l] += d * col[s + l]
                moved += d * d
            cur[i] = z[i]
        if np.sqrt(lip * moved) <= 0.1 * tol_abs:
            break
    total = 0.0
    for i in range(size):
        j = s + i
        delta = cur[i] - beta[j]
        if delta != 0.0:
            beta[j] = cur[i]
            col = Gt[j]
            for r in rows:
                grad[r] += delta * col[r]
            total += delta * delta
    return np.sqrt(lip * total)


@njit(cache=True)
def _group_is_zero(beta, s, e):
    for j in range(s, e):
        if beta[j] != 0.0:
            return False
    return True


@njit(cache=True)
def _group_active_descent(Gt, c, alpha, q, beta, grad, gptr, lips, weights, thresholds,
                          blocked, tol_abs, max_sweeps):
    """Block coordinate descent with the groups' proximal steps (:func:`_group_block_step`)
    on ``1/2 βᵀGβ − cᵀβ + α Σ_g w_g ‖β_g‖^q``, the structure of
    :func:`_active_coordinate_descent`: sweeps over the nonzero groups only (the gradient kept
    up to date on their coordinates alone) until they settle, then a fresh gradient and one
    sweep over all groups to let zero groups in (a zero group with
    ``‖∇_g‖ ≤ L_g τ(α w_g/L_g)``, ``thresholds[g]``, stays at 0); repeated until that sweep
    moves no group by more than ``tol_abs`` (``√L_g ‖δ‖``). Group ``blocked`` (−1: none) is
    held at its value. ``grad`` is exact on return."""
    m = beta.shape[0]
    n_groups = gptr.shape[0] - 1
    every = np.arange(m)
    for _ in range(max_sweeps):
        n_act = 0
        k = 0
        for g in range(n_groups):
            if not _group_is_zero(beta, gptr[g], gptr[g + 1]):
                n_act += 1
                k += gptr[g + 1] - gptr[g]
        act_groups = np.empty(n_act, dtype=np.int64)
        act = np.empty(k, dtype=np.int64)
        n_act = 0
        k = 0
        for g in range(n_groups):
            if not _group_is_zero(beta, gptr[g], gptr[g + 1]):
                act_groups[n_act] = g
                n_act += 1
                for j in range(gptr[g], gptr[g + 1]):
                    act[k] = j
                    k += 1
        for _ in range(max_sweeps):
            biggest = 0.0
            for g in act_groups:
                if g == blocked or lips[g] <= 0.0:
                    continue
                r = _group_block_step(Gt, beta, grad, gptr[g], gptr[g + 1], lips[g],
                                      weights[g], alpha, q, act, tol_abs)
                if r > biggest:
                    biggest = r
            if biggest <= tol_abs:
                break
        copy_into(grad, _gradient(Gt, c, beta))
        biggest = 0.0
        for g in range(n_groups):
            s, e = gptr[g], gptr[g + 1]
            if g == blocked or lips[g] <= 0.0:
                continue
            if _group_is_zero(beta, s, e):
                gn = np.sqrt(grad[s:e] @ grad[s:e])
                if gn <= lips[g] * thresholds[g]:
                    continue
            r = _group_block_step(Gt, beta, grad, s, e, lips[g], weights[g], alpha, q, every,
                                  tol_abs)
            if r > biggest:
                biggest = r
        if biggest <= tol_abs:
            return True
    return False


@njit(cache=True)
def _set_coordinate(Gt, beta, grad, j, value):
    """``beta[j] = value`` with ``grad = Gβ − c`` updated by the column ``Gt[j]``."""
    delta = value - beta[j]
    beta[j] = value
    col = Gt[j]
    for i in range(beta.shape[0]):
        grad[i] += delta * col[i]


@njit(cache=True)
def _drop_best_insert(Gt, diag, thresholds, alpha, q, cand, g, j):
    """The start of a coordinate swap move (:func:`lq_local_search`): ``cand[j]`` set to 0
    (``g = Gβ − c`` updated), then the zero whose exact coordinate step lowers the objective
    most, if any, set to that step."""
    m = cand.shape[0]
    _set_coordinate(Gt, cand, g, j, 0.0)
    best_i = -1
    best_gain = 0.0
    best_t = 0.0
    for i in range(m):
        d = diag[i]
        if i == j or cand[i] != 0.0 or d <= 0.0 or abs(g[i]) <= d * thresholds[i]:
            continue
        t = lq_prox_thresholded(-g[i] / d, alpha / d, q, thresholds[i])
        if t != 0.0:
            gain = -(g[i] * t + 0.5 * d * t * t + alpha * abs(t) ** q)
            if gain > best_gain:
                best_gain, best_i, best_t = gain, i, t
    if best_i >= 0:
        _set_coordinate(Gt, cand, g, best_i, best_t)


@njit(cache=True)
def _group_drop_best_insert(Gt, gptr, lips, weights, thresholds, alpha, q, cand, gr, g):
    """The start of a group swap move (:func:`lq_local_search`): group ``g`` of ``cand`` set
    to 0 (``gr = Gβ − c`` updated), then the zero group whose proximal step (step
    ``1/L_h``) lowers the objective most, if any, set to that step (its decrease computed
    exactly)."""
    n_groups = gptr.shape[0] - 1
    for j in range(gptr[g], gptr[g + 1]):
        if cand[j] != 0.0:
            _set_coordinate(Gt, cand, gr, j, 0.0)
    best_h = -1
    best_gain = 0.0
    best_step = np.zeros(0)
    for h in range(n_groups):
        sh, eh = gptr[h], gptr[h + 1]
        lip = lips[h]
        if h == g or lip <= 0.0 or not _group_is_zero(cand, sh, eh):
            continue
        gn = np.sqrt(gr[sh:eh] @ gr[sh:eh])
        if gn == 0.0 or gn <= lip * thresholds[h]:
            continue
        z = -gr[sh:eh] / lip
        if weights[h] != 0.0 and not radial_lq_prox(z, alpha * weights[h] / lip, q):
            continue
        # the step's exact decrease: −(∇_hᵀδ + 1/2 δᵀG_hh δ + α w_h ‖δ‖^q)
        quad = 0.0
        for i in range(eh - sh):
            col = Gt[sh + i]
            for l in range(eh - sh):
                quad += z[i] * col[sh + l] * z[l]
        gain = -(gr[sh:eh] @ z + 0.5 * quad)
        if weights[h] != 0.0:
            gain -= alpha * weights[h] * np.sqrt(z @ z) ** q
        if gain > best_gain:
            best_gain, best_h, best_step = gain, h, z
    if best_h >= 0:
        sh = gptr[best_h]
        for i in range(best_step.shape[0]):
            _set_coordinate(Gt, cand, gr, sh + i, best_step[i])


@njit(cache=True)
def lq_local_search(op, alpha, q, beta, group, tol_abs, max_sweeps, max_moves):
    """Improve the fixed point ``beta`` (updated in place) by swap moves; units are the
    coordinates (``group = ()``) or the groups (``group = (gptr, lips, weights)``, the group
    ℓ2,q penalty; dispatched on ``len(group)`` as the working-set kernels below).

    A fixed point of ``T`` is only unit-wise optimal; two fixed points differ in which units
    are in the support, and neither the unit steps nor the surrogate's descent move between
    them. A swap move of a nonzero (penalised) unit: set it to 0, let in the zero unit whose
    exact step then lowers the objective most (if any), descend by coordinate descent
    (groups: block coordinate descent, :func:`_group_active_descent`) with the dropped unit
    held at 0 and then free, and keep the result only if its objective, computed afresh, is
    lower (the swap of L0Learn's "swap-inescapable" minima, Hazimeh & Mazumder 2020, with
    the ℓq step). Coordinates: the descent with the unit held at 0 may stop early (its
    objective estimate cannot beat the fixed point, :func:`_active_coordinate_descent`), and
    the move is dropped unless that descent already beats the fixed point. Groups of weight
    0 are never dropped. The units are tried from the weakest (smallest ``√G_jj |β_j|``, or
    ``√L_g ‖β_g‖``); after an accepted move the pass goes on, passes repeat until none is
    accepted or ``max_moves`` moves were tried. The objective never increases; the returned
    point is a (block) coordinate-descent point to ``tol_abs`` (the caller certifies it).
    Returns ``(accepted, tried)``, the numbers of moves."""
    m = beta.shape[0]
    idx = np.arange(m)
    G = op_gram_block(op, idx, m, idx)
    # the coordinate steps read columns of G: as contiguous rows of its transpose (the same
    # numbers, so the same arithmetic, without a strided pass through G per step)
    Gt = np.ascontiguousarray(G.T)
    if len(group) == 0:
        diag = np.empty(m)
        thresholds = np.zeros(m)
        for j in range(m):
            diag[j] = G[j, j]
            if diag[j] > 0.0:
                thresholds[j] = lq_threshold(alpha / diag[j], q)
        val, grad = op_grad(op, beta)
        c = G @ beta - grad
        F = val + alpha * abs_power_sum(beta, q)
    else:
        gptr, lips, weights = group
        n_groups = gptr.shape[0] - 1
        thresholds = np.zeros(n_groups)
        for g in range(n_groups):
            if lips[g] > 0.0 and weights[g] != 0.0:
                thresholds[g] = lq_threshold(alpha * weights[g] / lips[g], q)
        grad = op_grad(op, beta)[1]
        c = G @ beta - grad
        # the objective as every candidate's is computed below (1/2 βᵀGβ − cᵀβ from Gβ − c)
        F = (0.5 * (beta @ grad) - 0.5 * (c @ beta)
             + alpha * _group_penalty(beta, gptr, weights, q))
    accepted = 0
    tried = 0
    improved = True
    while improved and tried < max_moves:
        improved = False
        # the nonzero (penalised) units and their strengths
        if len(group) == 0:
            support = nonzero_indices(beta)
            n_nz = support.shape[0]
            strength = np.empty(n_nz)
            for a in range(n_nz):
                strength[a] = np.sqrt(diag[support[a]]) * abs(beta[support[a]])
        else:
            n_nz = 0
            for g in range(n_groups):
                if weights[g] != 0.0 and not _group_is_zero(beta, gptr[g], gptr[g + 1]):
                    n_nz += 1
            support = np.empty(n_nz, dtype=np.int64)
            strength = np.empty(n_nz)
            n_nz = 0
            for g in range(n_groups):
                s, e = gptr[g], gptr[g + 1]
                if weights[g] != 0.0 and not _group_is_zero(beta, s, e):
                    support[n_nz] = g
                    strength[n_nz] = np.sqrt(lips[g] * (beta[s:e] @ beta[s:e]))
                    n_nz += 1
        order = np.empty(n_nz, dtype=np.int64)
        argsort_into(strength, np.int64(n_nz), order)
        for ii in range(n_nz):
            u = support[order[ii]]
            if len(group) == 0:
                if beta[u] == 0.0:
                    continue
            elif _group_is_zero(beta, gptr[u], gptr[u + 1]):
                continue
            if tried >= max_moves:
                break
            tried += 1
            cand = beta.copy()
            gr = grad.copy()
            if len(group) == 0:
                _drop_best_insert(Gt, diag, thresholds, alpha, q, cand, gr, u)
                _active_coordinate_descent(Gt, c, alpha, q, cand, gr, diag, thresholds, u,
                                           tol_abs, max_sweeps, F)
                # with u held at 0 the move must already beat the fixed point: freeing u
                # then mostly leads back to it (measured: skipping those descents keeps the
                # benchmark's objectives and halves the search)
                F_blocked = (0.5 * (cand @ gr) - 0.5 * (c @ cand)
                             + alpha * abs_power_sum(cand, q))
                if not F_blocked < F - 1e-12 * abs(F):
                    continue
                # (np.int64(-1): a literal -1 would compile the descent a second time)
                _active_coordinate_descent(Gt, c, alpha, q, cand, gr, diag, thresholds,
                                           np.int64(-1), tol_abs, max_sweeps, np.inf)
            else:
                _group_drop_best_insert(Gt, gptr, lips, weights, thresholds, alpha, q, cand,
                                        gr, u)
                _group_active_descent(Gt, c, alpha, q, cand, gr, gptr, lips, weights,
                                      thresholds, u, tol_abs, max_sweeps)
                _group_active_descent(Gt, c, alpha, q, cand, gr, gptr, lips, weights,
                                      thresholds, np.int64(-1), tol_abs, max_sweeps)
            gr = _gradient(Gt, c, cand)  # no drift from the incremental updates
            F_cand = 0.5 * (cand @ gr) - 0.5 * (c @ cand) + alpha * _penalty(cand, q, group)
            if F_cand < F - 1e-12 * abs(F):
                copy_into(beta, cand)
                grad = gr
                F = F_cand
                accepted += 1
                improved = True
    return accepted, tried


# --------------------------------------------------------------------------------------
# The Newton polish, for coordinates (``group = ()``) and groups (``group = (gptr, lips,
# weights)``): one Newton loop, the unit-specific steps in the helpers before it
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _polish_support(beta, group):
    """The coordinates of the nonzero units, ``act``, and the unit of each, ``gid`` (for
    coordinates the coordinate itself)."""
    if len(group) == 0:
        act = nonzero_indices(beta)
        return act, act
    gptr, lips, weights = group
    n_groups = gptr.shape[0] - 1
    nzg = np.zeros(n_groups, dtype=np.bool_)
    m = np.int64(0)  # not the literal 0: a literal argument compiles callees once more
    for g in range(n_groups):
        v = beta[gptr[g]:gptr[g + 1]]
        if v @ v > 0.0:
            nzg[g] = True
            m += gptr[g + 1] - gptr[g]
    act = np.empty(m, dtype=np.int64)
    gid = np.empty(m, dtype=np.int64)
    a = 0
    for g in range(n_groups):
        if nzg[g]:
            for j in range(gptr[g], gptr[g + 1]):
                act[a] = j
                gid[a] = g
                a += 1
    return act, gid


@njit(cache=True)
def _newton_system(beta, xa, g_full, act, gid, alpha, q, H, group):
    """The gradient on the support, ``ga``, and the penalty's Hessian added to ``H`` (the
    Gram block of the support): coordinates ``α q (q − 1) |β_j|^{q−2}`` on the diagonal,
    groups ``α w_g q ‖β_g‖^{q−2} (I + (q − 2) β_g β_gᵀ / ‖β_g‖²)``. Returns ``(ga, penalty)``."""
    m = act.shape[0]
    ga = np.empty(m)
    if len(group) == 0:
        pen = 0.0
        for a in range(m):
            b = xa[a]
            ab = abs(b)
            ga[a] = g_full[act[a]] + alpha * q * np.sign(b) * ab ** (q - 1.0)
            H[a, a] += alpha * q * (q - 1.0) * ab ** (q - 2.0)
            pen += ab ** q
        return ga, pen
    gptr, lips, weights = group
    a = 0
    while a < m:
        g = gid[a]
        size = gptr[g + 1] - gptr[g]
        v = xa[a:a + size]
        if weights[g] == 0.0:
            for i in range(size):
                ga[a + i] = g_full[act[a + i]]
        else:
            r2 = v @ v
            r = np.sqrt(r2)
            c = alpha * weights[g] * q * r ** (q - 2.0)
            for i in range(size):
                ga[a + i] = g_full[act[a + i]] + c * v[i]
                for l in range(size):
                    H[a + i, a + l] += c * (q - 2.0) * v[i] * v[l] / r2
                H[a + i, a + i] += c
        a += size
    return ga, _group_penalty(beta, gptr, weights, q)


@njit(cache=True)
def _first_step(xa, dirn, group):
    """The Newton step's first length and its number of halvings: coordinates stop short
    (0.9) of the first sign change, groups start at the full step (the shrinkage test
    :func:`_keeps_support` guards them)."""
    t = 1.0
    if len(group) == 0:
        for a in range(xa.shape[0]):
            if xa[a] * dirn[a] < 0.0:
                t = min(t, 0.9 * abs(xa[a] / dirn[a]))
        return t, 40
    return t, 60


@njit(cache=True)
def _keeps_support(beta, new, act, gid, group):
    """Whether the step ``beta → new`` keeps every unit of the support away from zero
    (groups: no penalised group's norm falls below a tenth of its value; coordinates cannot
    reach zero after :func:`_first_step`)."""
    if len(group) == 0:
        return True
    gptr, lips, weights = group
    a = 0
    while a < act.shape[0]:
        g = gid[a]
        s, e = gptr[g], gptr[g + 1]
        if weights[g] != 0.0:
            vn = new[s:e]
            if vn @ vn < 0.01 * (beta[s:e] @ beta[s:e]):
                return False
        a += e - s
    return True


@njit(cache=True)
def lq_polish(op, alpha, q, beta, group, max_iter, gtol):
    """Newton's method on the support of ``beta`` (its nonzero coordinates, or groups) with
    the signs (the groups' directions' half-spaces) fixed, where the objective
    ``1/2 βᵀGβ − cᵀβ + α Σ_S |β_j|^q`` (``+ α Σ_g w_g ‖β_g‖^q``) is smooth; its Hessian is
    ``G_SS`` plus the penalty's (:func:`_newton_system`). The penalty's curvature is
    negative, so the Hessian is only positive definite near a strict local minimum: where
    its Cholesky factorisation fails the polish stops (the caller goes on with the
    surrogate). Steps are shortened so that no unit reaches zero (zeros are decided by the
    snap; :func:`_first_step`, :func:`_keeps_support`) and by Armijo backtracking, so the
    objective never increases (beyond rounding, see ``_NEWTON_ROUNDING``). ``beta`` is
    updated in place; returns True when the gradient on the support is ≤ ``gtol`` (sup norm)
    or at its rounding floor."""
    k = beta.shape[0]
    act, gid = _polish_support(beta, group)
    m = act.shape[0]
    if m == 0:
        return True
    if _beyond_budget(op, m):
        return False
    pos = np.full(k, -1, dtype=np.int64)
    for a in range(m):
        pos[act[a]] = a
    G = op_gram_block(op, act, m, pos)
    f_val, g_full = op_grad(op, beta)
    g_last = np.inf
    for _ in range(max_iter):
        xa = np.empty(m)
        for a in range(m):
            xa[a] = beta[act[a]]
        H = G.copy()
        ga, pen = _newton_system(beta, xa, g_full, act, gid, alpha, q, H, group)
        g_max = abs_max(ga)
        if g_max <= gtol:
            return True
        ok = True
        try:
            Lc = np.linalg.cholesky(H)
        except Exception:  # noqa: BLE001 -- numba only catches the base class
            ok = False
        if not ok:
            return False
        dirn = -_back_substitution(Lc, m, _forward_substitution(Lc, m, ga))
        F0 = f_val + alpha * pen
        slope = ga @ dirn
        noise = _NEWTON_ROUNDING * (abs(f_val) + alpha * pen)
        rounding = -slope <= noise
        if rounding and g_max > 0.5 * g_last:
            return True
        g_last = g_max
        t, halvings = _first_step(xa, dirn, group)
        accepted = False
        new = beta.copy()
        for _ in range(halvings):
            for a in range(m):
                new[act[a]] = xa[a] + t * dirn[a]
            if _keeps_support(beta, new, act, gid, group):
                f_new, g_new = op_grad(op, new)
                F1 = f_new + alpha * _penalty(new, q, group)
                if F1 <= F0 + 1e-4 * t * slope or (rounding and F1 <= F0 + noise):
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            return False
        copy_into(beta, new)
        f_val = f_new
        g_full = g_new
    return False


# --------------------------------------------------------------------------------------
# The working-set solve, for the separable penalty (``group = ()``) and with groups as
# units (``group = (gptr, lips, weights)``). The kernels dispatch on ``len(group)``, which
# numba replaces by a constant before typing, so each case compiles on its own, without the
# other's code (a test ``group is None`` is only pruned when the argument is None: a grouped
# fit would compile the separable kernels too).
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _value(op, alpha, q, beta, group):
    """The objective ``1/2 βᵀGβ − cᵀβ + α · penalty``."""
    return op_grad(op, beta)[0] + alpha * _penalty(beta, q, group)


@njit(cache=True)
def _prox_step(op, beta, diag, alpha, q, group):
    """``T(β)``: the coordinates' (groups') proximal steps from ``beta``."""
    grad = op_grad(op, beta)[1]
    if len(group) == 0:
        return lq_prox_step(beta, grad, diag, alpha, q)
    gptr, lips, weights = group
    return group_lq_prox_step(beta, grad, gptr, lips, weights, alpha, q)


@njit(cache=True)
def _residual(beta, step, diag, group):
    if len(group) == 0:
        return lq_residual(beta, step, diag)
    gptr, lips, weights = group
    return group_lq_residual(beta, step, gptr, lips)


@njit(cache=True)
def _worst_unit(beta, step, diag, group):
    """The coordinates ``lo:hi`` of the coordinate (group) whose step is largest in the
    metric of its curvature."""
    if len(group) == 0:
        jmax = 0
        rmax = -1.0
        for j in range(beta.shape[0]):
            r = np.sqrt(max(diag[j], 0.0)) * abs(beta[j] - step[j])
            if r > rmax:
                rmax = r
                jmax = j
        return jmax, jmax + 1
    gptr, lips, weights = group
    gmax = 0
    rmax = -1.0
    for g in range(gptr.shape[0] - 1):
        d = beta[gptr[g]:gptr[g + 1]] - step[gptr[g]:gptr[g + 1]]
        r = lips[g] * (d @ d)
        if r > rmax:
            rmax = r
            gmax = g
    return gptr[gmax], gptr[gmax + 1]


@njit(cache=True)
def _start_factors(beta, step, depth, group):
    """Balanced depth-k factors of ``beta`` with its zero coordinates (groups) that the
    proximal step moves started at that step."""
    out = beta.copy()
    if len(group) == 0:
        for j in range(beta.shape[0]):
            if out[j] == 0.0 and step[j] != 0.0:
                out[j] = step[j]
        return lq_balanced_factors(out, depth)
    gptr, lips, weights = group
    for g in range(gptr.shape[0] - 1):
        s, e = gptr[g], gptr[g + 1]
        if beta[s:e] @ beta[s:e] == 0.0:
            copy_into(out[s:e], step[s:e])
    return group_lq_balanced_factors(out, gptr, weights, depth)


def _lbfgs(op, alpha, diag, x, m, depth, group, max_iter, S, Y, rho, state):
    """The L-BFGS loop on the depth-``depth`` factors (``group``: of the groups). Python: as a
    numba function this dispatch compiled on its own and re-optimised the whole L-BFGS loop
    in its module."""
    if len(group) == 0:
        return lbfgs_factors(op, alpha, diag, x, m, False, (), (depth,), max_iter, 0.0, 0.0,
                             S, Y, rho, state)
    gptr, lips, weights = group
    unit = (1, weights, gptr, _EMPTY_INT)  # (T, w, gptr, gid)
    return lbfgs_factors(op, alpha, diag, x, m, False, unit, (depth,), max_iter, 0.0, 0.0,
                         S, Y, rho, state)


def _factors_to_beta(x, m, depth, group):
    """``β`` of the factors ``x``: the products of :func:`lq_factors_to_beta` /
    :func:`group_lq_factors_to_beta` in numpy, factor by factor in the same order (so the
    same numbers; as a call of those kernels from Python their own libraries were loaded
    at a process's first fit, see :func:`_objective`)."""
    if len(group) == 0:
        beta = x[:m].copy()
        for d in range(1, depth):
            beta *= x[d * m:(d + 1) * m]
        return beta
    gptr = group[0]
    nu = x[m:].reshape(gptr.shape[0] - 1, depth - 1)
    prod = np.ones(nu.shape[0])
    for d in range(depth - 1):
        prod *= nu[:, d]
    return x[:m] * np.repeat(prod, np.diff(gptr))


# solve_lq_ws calls kernels from Python, and a process's first fit loads each kernel it
# calls from numba's cache as one library with all its callees linked in (~0.2 ms per kB
# of code; the ℓq fit's start-up, issue #11). The objective and the proximal step of
# solve_lq_ws are therefore composed here from kernels the fit calls from Python anyway
# (op_grad by the lasso start, lq_prox_step / group_lq_prox_step by the outer loop of
# ``_lq.py``) and the small penalty sum _penalty, not taken from the kernels _value and
# _prox_step, whose libraries repeat op_grad's and the prox's code: the same kernels on
# the same arrays, so the same numbers.


def _objective(op, alpha, q, beta, group):
    """:func:`_value` from Python: the loss of :func:`op_grad` plus α times the penalty."""
    return op_grad(op, beta)[0] + alpha * _penalty(beta, q, group)


def _step(op, beta, diag, alpha, q, group):
    """:func:`_prox_step` from Python: ``T(β)``."""
    grad = op_grad(op, beta)[1]
    if len(group) == 0:
        return lq_prox_step(beta, grad, diag, alpha, q)
    gptr, lips, weights = group
    return group_lq_prox_step(beta, grad, gptr, lips, weights, alpha, q)


@njit(cache=True)
def lq_finish(op, alpha, q, beta, diag, tol_abs, max_rounds, group):
    """Descend from ``beta`` (updated in place) to a fixed point of ``T``.

    Each round takes the full proximal step ``T(β)`` followed by a Newton polish when that
    lowers the objective (it changes many coordinates at once), and otherwise the exact step
    of the coordinate (group) with the largest residual only -- the objective is quadratic in
    one coordinate with curvature ``G_jj`` (majorised along a group by ``L_g``), so that step
    never increases the objective. Returns ``(residual, rounds)``.
    """
    lq_polish(op, alpha, q, beta, group, _POLISH_ITER, _POLISH_GTOL)
    val = _value(op, alpha, q, beta, group)
    for rounds in range(max_rounds):
        step = _prox_step(op, beta, diag, alpha, q, group)
        res = _residual(beta, step, diag, group)
        if res <= tol_abs:
            return res, rounds
        cand = step.copy()
        lq_polish(op, alpha, q, cand, group, _POLISH_ITER, _POLISH_GTOL)
        cand_val = _value(op, alpha, q, cand, group)
        if cand_val < val:
            copy_into(beta, cand)
            val = cand_val
            continue
        lo, hi = _worst_unit(beta, step, diag, group)
        cand = beta.copy()
        copy_into(cand[lo:hi], step[lo:hi])
        lq_polish(op, alpha, q, cand, group, _POLISH_ITER, _POLISH_GTOL)
        cand_val = _value(op, alpha, q, cand, group)
        if cand_val <= val:
            copy_into(beta, cand)
            val = cand_val
        else:  # only rounding: the unit's step alone cannot increase the objective
            copy_into(beta[lo:hi], step[lo:hi])
            val = _value(op, alpha, q, beta, group)
    step = _prox_step(op, beta, diag, alpha, q, group)
    return _residual(beta, step, diag, group), max_rounds


def solve_lq_ws(op, alpha, q, depth, beta, max_inner, snap_every, tol_abs, memory,
                max_finish, group=None, certify=False):
    """Minimise the ℓq objective (``group``: the group ℓ2,q objective, groups as units) on
    one working set from ``beta`` (overwritten).

    Two descents from the start, the better fixed point returned:

    * the surrogate: zero coordinates (groups) that the ℓq zero condition rejects (the
      proximal step moves them) start at that step, every coordinate gets balanced depth-k
      factors, and L-BFGS runs on the factors ``snap_every`` iterations at a time; after each
      stretch the smooth point is snapped by the proximal step ``T`` (exact zeros) and
      finished by :func:`lq_finish`, until a finished point is a fixed point (residual ≤
      ``tol_abs``); a finished point better than the smooth one restarts the factors from it;
    * :func:`lq_finish` from the start itself (cheap when the start is nearly a fixed point,
      as for the previous working set's solution).

    ``certify=True`` (the start is a point the local search accepted, to be certified): when
    the finish from the start is a fixed point after its Newton polish alone (no proximal
    round), that point is returned without the surrogate descent -- on the benchmark's
    small-alpha problems that descent then always returned the same point, at 10-50 times
    the polish's time.

    Returns ``(converged, inner_iterations, residual)``; the objective of the returned point
    is never above that of the start.
    """
    if group is None:
        group = ()  # the kernels dispatch on the tuple's length (see above)
    m = beta.shape[0]
    diag = op_diag(op, m)
    direct = beta.copy()
    res_d, rounds_d = lq_finish(op, alpha, q, direct, diag, tol_abs, max_finish, group)
    if certify and rounds_d == 0 and res_d <= tol_abs:
        beta[:] = direct
        return True, 0, res_d
    val_d = _objective(op, alpha, q, direct, group)
    x = _start_factors(beta, _step(op, beta, diag, alpha, q, group), depth, group)
    nx = x.shape[0]
    S = np.zeros((memory, nx))
    Y = np.zeros((memory, nx))
    rho = np.zeros(memory)
    state = np.zeros(2, dtype=np.int64)
    n_inner = 0
    cand = direct
    res_c = np.inf
    cand_val = np.inf
    while n_inner < max_inner:
        n_inner += _lbfgs(op, alpha, diag, x, m, depth, group, snap_every, S, Y, rho, state)
        smooth = _factors_to_beta(x, m, depth, group)
        smooth_val = _objective(op, alpha, q, smooth, group)
        cand = _step(op, smooth, diag, alpha, q, group)
        res_c, _ = lq_finish(op, alpha, q, cand, diag, tol_abs, max_finish, group)
        cand_val = _objective(op, alpha, q, cand, group)
        if res_c <= tol_abs:
            break
        if cand_val < smooth_val:
            # the snap found a better point (usually: the right zeros): go on from there
            x = _start_factors(cand, _step(op, cand, diag, alpha, q, group), depth, group)
            state[:] = 0
    # prefer fixed points, then the lower objective
    take_cand = (res_c <= tol_abs) > (res_d <= tol_abs) or (
        (res_c <= tol_abs) == (res_d <= tol_abs) and cand_val < val_d)
    if take_cand:
        beta[:] = cand
        return res_c <= tol_abs, n_inner, res_c
    beta[:] = direct
    return res_d <= tol_abs, n_inner, res_d
