"""Numba kernels of the Hadamard group lasso solver.

The working set holds whole groups, stored contiguously: group ``g`` owns the coordinates
``gptr[g]:gptr[g + 1]`` and has penalty weight ``w[g]`` (0: unpenalised). The smooth part
``1/2 βᵀGβ − cᵀβ`` is reached through the same ``op`` tuple as the lasso kernels (Gram form,
or operator form for sparse designs), so the products of ``_kernels.py`` are reused.

The factor vector stacks ``x = [ν, ω]``: one scalar ``ν_g`` per group and one ``ω_j`` per
coordinate, ``β_g = ν_g ω_g``, surrogate penalty ``Σ_g α w_g / 2 (ν_g² + ‖ω_g‖²)``, which is
``α w_g ‖β_g‖`` at balance (``ν_g² = ‖ω_g‖``). An unpenalised group keeps ``ν_g = 1`` and
optimises ``ω_g = β_g`` directly (its surrogate would have no scale to balance).

With ``positive`` (β ≥ 0; single task, penalised groups only) the factors are squared:
``β_j = s_g² u_j²`` (``ν_g = s_g²``, ``ω_j = u_j²``) with surrogate penalty
``Σ_g α w_g / 2 (s_g⁴ + Σ_j u_j⁴)`` -- the same ``(ν² + ‖ω‖²)/2 ≥ ν‖ω‖`` bound, now over
non-negative factors only, so every point of the smooth problem is feasible. The snap projects
before thresholding (``prox`` of ``α w ‖·‖ + ι_{≥0}`` is block soft-thresholding of the positive
part), and the polish works on the free coordinates (``β_j > 0``) of the active groups.

:func:`solve_group_ws`, the per-working-set driver, is plain Python calling the kernels (as for
the lasso, see :mod:`._lasso_kernels`).
"""

import numpy as np
from numba import njit

from .._arrays import copy_into, copy_into_2d
from ._lasso_kernels import _chol_solve, anderson_point, gauss_solve
from ..losses._quadratic import (
    GRAM_FORM,
    SPARSE_FORM,
    TASK_FORM,
    _kron_times,
    op_active_times,
    op_gram_block,
    quad_diag,
    quad_grad,
)
from ..penalties._surrogates import group_factors_to_beta, pos_factors_to_beta
from ._lbfgs import lbfgs_factors


# ``T`` is the task count: ``T == 1`` is the operator ``op`` as the lasso kernels define it;
# ``T > 1`` is the multi-task lasso, whose design ``A ⊗ I_T`` has the Gram matrix ``G ⊗ I_T``:
# ``op`` is then in the multi-task Gram form of :mod:`hadasparse.losses._quadratic`
# (``len(op) == TASK_FORM``, a type of its own, so that the kernels branch on the form at
# compile time and not on ``T`` at run time): ``op[1]`` holds only the features' Gram ``G``
# (m×m), ``op[2]`` the correlations ``c`` (m·T, feature-major), and the working set's
# coefficients, read as an m×T matrix ``B``, are multiplied as ``G B`` -- never the (m·T)²
# matrix.


# zero groups violating KKT join the polish's active set once the active groups' KKT residual
# is below this fraction of the largest violation
_EARLY_ADD = 0.1
# smallest Newton-CG forcing term at which the Hessian products use a float32 Gram block
_SINGLE_PRECISION_FORCING = 1e-3


@njit(cache=True)
def _active_block(op, T, act, m, pos, gptr, active):
    """What the Newton products need of ``Q`` on the active coordinates: the dense block
    ``Q_AA`` (T == 1, Gram form), the active features' Gram block (T > 1), or nothing
    (operator form, products through the sparse columns)."""
    if len(op) == SPARSE_FORM:
        return np.zeros((0, 0))
    if len(op) != TASK_FORM:
        return op_gram_block(op, act, m, pos)
    G = op[1]
    feats = np.empty(m // T, dtype=np.int64)
    a = 0
    for g in range(active.shape[0]):
        if active[g]:
            feats[a] = g
            a += 1
    out = np.empty((a, a))
    for i in range(a):
        for l in range(a):
            out[i, l] = G[feats[i], feats[l]]
    return out


@njit(cache=True)
def _active_times(op, T, GA, act, m, d):
    """``Q_AA d`` with the block of :func:`_active_block`."""
    if len(op) == SPARSE_FORM:
        return op_active_times(op, act, m, d)
    if len(op) != TASK_FORM:
        return GA @ d
    return _kron_times(GA, T, d)


@njit(cache=True)
def group_ids(gptr, k):
    gid = np.empty(k, dtype=np.int64)
    for g in range(gptr.shape[0] - 1):
        for j in range(gptr[g], gptr[g + 1]):
            gid[j] = g
    return gid


@njit(cache=True)
def group_traces(diag, gptr):
    """``trace(G_gg)`` per group: an upper bound of the group's Lipschitz constant."""
    ng = gptr.shape[0] - 1
    out = np.empty(ng)
    for g in range(ng):
        s = 0.0
        for j in range(gptr[g], gptr[g + 1]):
            s += diag[j]
        out[g] = s if s > 0.0 else 1.0
    return out


@njit(cache=True)
def group_norms(v, gptr):
    ng = gptr.shape[0] - 1
    out = np.empty(ng)
    for g in range(ng):
        s = 0.0
        for j in range(gptr[g], gptr[g + 1]):
            s += v[j] * v[j]
        out[g] = np.sqrt(s)
    return out


@njit(cache=True)
def group_penalty(alpha, w, gptr, beta):
    norms = group_norms(beta, gptr)
    return alpha * (w @ norms)


@njit(cache=True)
def group_value(op, T, alpha, w, gptr, beta):
    return quad_grad(op, T, beta)[0] + group_penalty(alpha, w, gptr, beta)


@njit(cache=True)
def _pos_start(x, g, lo, hi, ng, beta_g_norm, beta, scale):
    """Balanced positive factors of group g (``s⁴ = ‖β_g‖``, ``u_j² = β_j / s²``); zero
    coordinates get a tiny factor so that gradient steps can still move them."""
    nu = np.sqrt(beta_g_norm)
    x[g] = np.sqrt(nu)
    umax = 0.0
    for j in range(lo, hi):
        x[ng + j] = np.sqrt(max(beta[j], 0.0) / nu)
        umax = max(umax, x[ng + j])
    for j in range(lo, hi):
        if x[ng + j] == 0.0:
            x[ng + j] = scale * umax


@njit(cache=True)
def pos_balanced_factors(beta, grad_beta, alpha, w, gptr, traces):
    """Positive counterpart of :func:`group_balanced_factors`; a zero group that violates
    KKT (``‖(−∇_g L)⁺‖ > α w_g``) starts at its projected block soft-thresholding step."""
    ng = w.shape[0]
    k = beta.shape[0]
    x = np.zeros(ng + k)
    tmp = np.zeros(k)
    norms = group_norms(beta, gptr)
    for g in range(ng):
        lo, hi = gptr[g], gptr[g + 1]
        if norms[g] > 0.0:
            _pos_start(x, g, lo, hi, ng, norms[g], beta, 1e-3)
            continue
        gn = 0.0
        for j in range(lo, hi):
            gn += max(-grad_beta[j], 0.0) ** 2
        gn = np.sqrt(gn)
        if gn > alpha * w[g]:
            step = (gn - alpha * w[g]) / (traces[g] * gn)
            nb = 0.0
            for j in range(lo, hi):
                tmp[j] = step * max(-grad_beta[j], 0.0)
                nb += tmp[j] * tmp[j]
            _pos_start(x, g, lo, hi, ng, np.sqrt(nb), tmp, 1e-3)
        else:
            e = 1e-2 * (alpha * w[g] / traces[g]) ** 0.25
            x[g] = e
            for j in range(lo, hi):
                x[ng + j] = e
    return x


@njit(cache=True)
def pos_escape_saddles(x, beta, grad_beta, alpha, w, gptr, traces):
    """Restart the groups stuck near the origin although ``‖(−∇_g L)⁺‖ > α w_g`` (the
    positive surrogate is flat to fourth order there)."""
    ng = w.shape[0]
    k = beta.shape[0]
    tmp = np.zeros(k)
    norms = group_norms(beta, gptr)
    n_moved = 0
    for g in range(ng):
        lo, hi = gptr[g], gptr[g + 1]
        gn = 0.0
        for j in range(lo, hi):
            gn += max(-grad_beta[j], 0.0) ** 2
        gn = np.sqrt(gn)
        if gn <= alpha * w[g]:
            continue
        step = (gn - alpha * w[g]) / (traces[g] * gn)
        if norms[g] >= 1e-3 * step * gn:
            continue
        nb = 0.0
        for j in range(lo, hi):
            tmp[j] = step * max(-grad_beta[j], 0.0)
            nb += tmp[j] * tmp[j]
        _pos_start(x, g, lo, hi, ng, np.sqrt(nb), tmp, 1e-3)
        n_moved += 1
    return n_moved


@njit(cache=True)
def group_balanced_factors(beta, grad_beta, alpha, w, gptr, traces):
    """Factors with ``ν_g ω_g = β_g`` and ``ν_g² = ‖ω_g‖`` (the cheapest factorisation).

    A zero group that violates KKT (``‖∇_g L‖ > α w_g``) sits at a saddle of the surrogate and
    starts on its escape direction ``ν = 1, ω ∝ −∇_g L`` at the size of a block
    soft-thresholding step; other zero groups start just off the origin."""
    ng = w.shape[0]
    k = beta.shape[0]
    x = np.zeros(ng + k)
    norms = group_norms(beta, gptr)
    gnorms = group_norms(grad_beta, gptr)
    for g in range(ng):
        lo, hi = gptr[g], gptr[g + 1]
        if w[g] == 0.0:
            x[g] = 1.0
            for j in range(lo, hi):
                x[ng + j] = beta[j]
        elif norms[g] > 0.0:
            nu = np.sqrt(norms[g])
            x[g] = nu
            for j in range(lo, hi):
                x[ng + j] = beta[j] / nu
        elif gnorms[g] > alpha * w[g]:
            s = np.sqrt((gnorms[g] - alpha * w[g]) / traces[g])
            x[g] = s
            for j in range(lo, hi):
                x[ng + j] = -s * grad_beta[j] / gnorms[g]
        else:
            x[g] = 1e-4 * np.sqrt(alpha * w[g] / traces[g])
    return x


@njit(cache=True)
def group_escape_saddles(x, beta, grad_beta, alpha, w, gptr, traces):
    """Restart the groups stuck near the saddle at the origin although KKT says they are active
    (their gradient is proportional to the factors, so gradient steps cannot leave)."""
    ng = w.shape[0]
    norms = group_norms(beta, gptr)
    gnorms = group_norms(grad_beta, gptr)
    n_moved = 0
    for g in range(ng):
        if w[g] == 0.0 or gnorms[g] <= alpha * w[g]:
            continue
        step = (gnorms[g] - alpha * w[g]) / traces[g]
        if norms[g] >= 1e-3 * step:
            continue
        s = np.sqrt(step)
        x[g] = s
        for j in range(gptr[g], gptr[g + 1]):
            x[ng + j] = -s * grad_beta[j] / gnorms[g]
        n_moved += 1
    return n_moved


@njit(cache=True)
def block_snap(op, T, alpha, w, gptr, beta, traces, positive):
    """One block-scaled proximal-gradient step of the original problem: block
    soft-thresholding (of the positive part, if positive) gives exact zeros for whole
    groups. Unpenalised groups are kept."""
    grad = quad_grad(op, T, beta)[1]
    k = beta.shape[0]
    out = np.zeros(k)
    for g in range(w.shape[0]):
        lo, hi = gptr[g], gptr[g + 1]
        if w[g] == 0.0:
            for j in range(lo, hi):
                out[j] = beta[j]
            continue
        lg = traces[g]
        nz = 0.0
        for j in range(lo, hi):
            z = beta[j] - grad[j] / lg
            if positive and z < 0.0:
                z = 0.0
            nz += z * z
        nz = np.sqrt(nz)
        t = alpha * w[g] / lg
        if nz > t:
            shrink = 1.0 - t / nz
            for j in range(lo, hi):
                z = beta[j] - grad[j] / lg
                if positive and z < 0.0:
                    z = 0.0
                out[j] = z * shrink
    return out


@njit(cache=True)
def group_kkt(grad, beta, alpha, w, gptr, active, positive):
    """Largest KKT violation, relative to ``α`` (and ``α w_g``): on active groups the distance
    of ``∇_g L`` to ``−α w_g β_g/‖β_g‖`` (0 for unpenalised ones), on zero groups the excess of
    ``‖∇_g L‖`` over ``α w_g``. If positive, coordinates at 0 need only ``∇_j L ≥ 0`` (in an
    active group) and zero groups ``‖(−∇_g L)⁺‖ ≤ α w_g``."""
    worst = 0.0
    for g in range(w.shape[0]):
        lo, hi = gptr[g], gptr[g + 1]
        aw = alpha * w[g]
        unit = max(alpha * max(w[g], 1.0), 1e-300)
        if active[g]:
            nb = 0.0
            for j in range(lo, hi):
                nb += beta[j] * beta[j]
            nb = np.sqrt(nb)
            s = 0.0
            for j in range(lo, hi):
                e = grad[j]
                if positive and beta[j] <= 0.0:
                    e = min(e, 0.0)
                elif w[g] > 0.0 and nb > 0.0:
                    e += aw * beta[j] / nb
                s += e * e
            v = np.sqrt(s) / unit
        else:
            s = 0.0
            for j in range(lo, hi):
                e = min(grad[j], 0.0) if positive else grad[j]
                s += e * e
            v = (np.sqrt(s) - aw) / unit
        if v > worst:
            worst = v
    return worst


@njit(cache=True)
def _hess_times(op, T, GA, GA32, act, m, d, beta, norms, active, alpha, w, gptr, pos, mu):
    """``H d`` for the Newton Hessian of the active groups, without forming ``H``; ``GA`` is
    the block of :func:`_active_block`, ``GA32`` the same in single precision when the
    product may use it (not empty)."""
    if GA32.shape[0] > 0:
        mf = GA32.shape[0]
        D = np.ascontiguousarray(d).reshape((mf, m // mf)).astype(np.float32)
        out = np.ascontiguousarray(GA32 @ D).reshape(m).astype(np.float64)
    else:
        out = _active_times(op, T, GA, act, m, d)
    for g in range(w.shape[0]):
        if not active[g] or w[g] == 0.0 or norms[g] == 0.0:
            continue
        lo, hi = gptr[g], gptr[g + 1]
        nb = norms[g]
        c = alpha * w[g] / nb
        ud = 0.0
        for j in range(lo, hi):
            if pos[j] >= 0:
                ud += beta[j] * d[pos[j]]
        ud /= nb * nb
        for j in range(lo, hi):
            if pos[j] >= 0:
                out[pos[j]] += c * (d[pos[j]] - beta[j] * ud)
    for a in range(m):
        out[a] += mu * d[a]
    return out


@njit(cache=True)
def _block_precond(r, m, active, gptr, off, blocks, pos):
    z = np.empty(m)
    for g in range(active.shape[0]):
        if not active[g]:
            continue
        lo, hi = gptr[g], gptr[g + 1]
        sz = hi - lo
        ob = off[g]
        for i in range(sz):
            if pos[lo + i] < 0:
                continue
            acc = 0.0
            for l in range(sz):
                if pos[lo + l] >= 0:
                    acc += blocks[ob + i * sz + l] * r[pos[lo + l]]
            z[pos[lo + i]] = acc
    return z


@njit(cache=True)
def _newton_cg(op, T, act, m, gF, beta, norms, active, alpha, w, gptr, pos, mu, rtol,
               max_iter):
    """Newton direction ``H d = −gF`` by conjugate gradients, preconditioned by the inverse
    of each active group's diagonal block of ``H`` (Gram form) or by the diagonal: a dense
    factorisation of H would cost O(m³) when many groups are active."""
    diag = quad_diag(op, T, gptr[-1])
    # preconditioner blocks, stored back to back
    n_blk = 0
    for g in range(w.shape[0]):
        if active[g]:
            sz = gptr[g + 1] - gptr[g]
            n_blk += sz * sz
    blocks = np.zeros(n_blk)
    off = np.zeros(w.shape[0], dtype=np.int64)
    o = 0
    for g in range(w.shape[0]):
        if not active[g]:
            continue
        lo, hi = gptr[g], gptr[g + 1]
        sz = hi - lo
        off[g] = o
        B = np.zeros((sz, sz))
        if len(op) == GRAM_FORM and T == 1 and sz <= 64:
            G = op[1]
            for i in range(sz):
                for l in range(sz):
                    B[i, l] = G[lo + i, lo + l]
        else:
            for i in range(sz):
                B[i, i] = diag[lo + i]
        if w[g] > 0.0 and norms[g] > 0.0:
            nb = norms[g]
            c = alpha * w[g] / nb
            for i in range(sz):
                for l in range(sz):
                    B[i, l] -= c * beta[lo + i] * beta[lo + l] / (nb * nb)
                B[i, i] += c
        for i in range(sz):
            B[i, i] += mu if B[i, i] + mu > 0.0 else 1.0
        for i in range(sz):
            if pos[lo + i] < 0:  # a coordinate held at 0 (positive): outside the system
                for l in range(sz):
                    B[i, l] = 0.0
                    B[l, i] = 0.0
                B[i, i] = 1.0
        ok, Binv = gauss_solve(B, np.eye(sz))
        if not ok:  # (B has a positive shifted diagonal; this is only a safeguard)
            Binv = np.zeros((sz, sz))
            for i in range(sz):
                Binv[i, i] = 1.0 / B[i, i] if B[i, i] > 0.0 else 1.0
        for i in range(sz):
            for l in range(sz):
                blocks[o + i * sz + l] = Binv[i, l]
        o += sz * sz

    GA = _active_block(op, T, act, m, pos, gptr, active)
    # a loose Newton direction tolerates the rounding of a single-precision Gram block, whose
    # products (memory-bound) take half the time
    if len(op) != SPARSE_FORM and rtol >= _SINGLE_PRECISION_FORCING:
        GA32 = GA.astype(np.float32)
    else:
        GA32 = np.zeros((0, 0), dtype=np.float32)
    x = np.zeros(m)
    r = -gF.copy()
    target = rtol * np.sqrt(r @ r)
    z = _block_precond(r, m, active, gptr, off, blocks, pos)
    pdir = z.copy()
    rz = r @ z
    for _ in range(max_iter):
        if np.sqrt(r @ r) <= target:
            break
        Hp = _hess_times(op, T, GA, GA32, act, m, pdir, beta, norms, active, alpha, w, gptr, pos, mu)
        pHp = pdir @ Hp
        if pHp <= 0.0:
            break
        step = rz / pHp
        x += step * pdir
        r -= step * Hp
        z = _block_precond(r, m, active, gptr, off, blocks, pos)
        rz_new = r @ z
        pdir = z + (rz_new / rz) * pdir
        rz = rz_new
    return x


@njit(cache=True)
def _dense_newton(op, T, act, m, pos, gF, beta, norms, active, alpha, w, gptr):
    """Newton direction from the dense Hessian ``Q_AA + Σ_g α w_g/‖β_g‖ (I − β̂_g β̂_gᵀ)``
    (plus a tiny shift, for collinear or duplicated columns); empty when it fails."""
    GA = _active_block(op, T, act, m, pos, gptr, active)
    if len(op) != TASK_FORM:
        H = GA if len(op) == GRAM_FORM else op_gram_block(op, act, m, pos)
    else:
        H = np.zeros((m, m))
        mf = GA.shape[0]
        for i in range(mf):
            for l in range(mf):
                for t in range(T):
                    H[i * T + t, l * T + t] = GA[i, l]
    hmax = 0.0
    for a in range(m):
        hmax = max(hmax, H[a, a])
    for g in range(w.shape[0]):
        if not active[g] or w[g] == 0.0 or norms[g] == 0.0:
            continue
        lo, hi = gptr[g], gptr[g + 1]
        nb = norms[g]
        c = alpha * w[g] / nb
        for j in range(lo, hi):
            if pos[j] < 0:
                continue
            for l in range(lo, hi):
                if pos[l] >= 0:
                    H[pos[j], pos[l]] -= c * beta[j] * beta[l] / (nb * nb)
            H[pos[j], pos[j]] += c
    mu = 1e-12 * (hmax if hmax > 0.0 else 1.0)
    for a in range(m):
        H[a, a] += mu
    # H is symmetric positive definite: Cholesky (half the cost of LU), LU as a fallback
    try:
        F = np.linalg.cholesky(H)
        return _chol_solve(F, m, -gF)
    except Exception:  # noqa: BLE001 -- numba only catches the base class
        pass
    ok, d = gauss_solve(H, (-gF).reshape((m, 1)))
    return d[:, 0].copy() if ok else np.zeros(0)


def dense_polish_limit(k, dense_max):
    """The ``dense_max`` argument of :func:`group_polish` for a working set of ``k``
    unknowns: None when every Newton system fits the dense factorisation (at most ``k``
    unknowns), so that the polish compiles without its conjugate-gradient branch (a fit on
    small working sets never compiles it)."""
    return None if k <= dense_max else dense_max


@njit(cache=True)
def group_polish(op, T, alpha, w, gptr, beta, traces, positive, max_rounds, rtol, dense_max):
    """Newton's method on the active groups, where the group-lasso objective is smooth.

    The Hessian is ``G_AA`` plus, per penalised active group, ``α w_g / ‖β_g‖ (I − β̂_g β̂_gᵀ)``
    (a tiny Levenberg–Marquardt shift keeps it invertible for collinear or duplicated
    columns); it is factorised (Cholesky) for at most ``dense_max`` active coordinates (None:
    always; see :func:`dense_polish_limit`), and
    otherwise the Newton system is solved inexactly by conjugate gradients preconditioned by
    the groups' diagonal blocks, to a relative accuracy that shrinks with the gradient (so
    the convergence stays superlinear). Steps are damped by Armijo backtracking on the exact
    objective. A group whose Newton step passes through the origin (``β_gᵀ(β_g + d_g) ≤ 0``)
    is set to zero and leaves the active set; once the active groups are nearly optimal, zero
    groups that violate KKT enter on their block soft-thresholding step. ``beta`` is updated
    in place.

    With ``positive`` the unknowns are the free coordinates (``β_j > 0``) of the active groups
    (on them the objective is smooth): a coordinate whose step would cross 0 is held at 0,
    and a held coordinate with ``∇_j L < 0`` is freed like a violating group.

    Returns ``(converged, rounds)``; converged means KKT holds on every group to ``rtol``.
    """
    ng = w.shape[0]
    k = beta.shape[0]
    gid = group_ids(gptr, k)
    diag = quad_diag(op, T, k)
    norms = group_norms(beta, gptr)
    active = np.zeros(ng, dtype=np.bool_)
    for g in range(ng):
        active[g] = norms[g] > 0.0 or w[g] == 0.0
    free = np.ones(k, dtype=np.bool_)
    if positive:
        for j in range(k):
            free[j] = beta[j] > 0.0
    pos = np.full(k, -1, dtype=np.int64)
    value, grad = quad_grad(op, T, beta)
    value += group_penalty(alpha, w, gptr, beta)
    for rounds in range(1, max_rounds + 1):
        if group_kkt(grad, beta, alpha, w, gptr, active, positive) <= rtol:
            return True, rounds
        # the unknowns (free coordinates of the active groups) and the gradient on them
        m = np.int64(0)  # not the literal 0: a literal argument compiles callees once more
        for j in range(k):
            if active[gid[j]] and free[j]:
                m += 1
        act = np.empty(m, dtype=np.int64)
        pos[:] = -1
        a = 0
        for j in range(k):
            if active[gid[j]] and free[j]:
                act[a] = j
                pos[j] = a
                a += 1
        # are the active groups optimal, or close enough compared with the largest KKT
        # violation elsewhere? then add the violators (converging on the active set first to
        # rtol would be wasted: adding groups moves the solution again)
        norms = group_norms(beta, gptr)
        act_res = 0.0
        viol = 0.0
        for g in range(ng):
            if not active[g]:
                continue
            unit = alpha * max(w[g], 1.0)
            s = 0.0
            for j in range(gptr[g], gptr[g + 1]):
                if not free[j]:
                    viol = max(viol, -grad[j] / unit)
                    continue
                e = grad[j]
                if w[g] > 0.0 and norms[g] > 0.0:
                    e += alpha * w[g] * beta[j] / norms[g]
                s += e * e
            act_res = max(act_res, np.sqrt(s) / unit)
        gn = np.zeros(ng)
        for g in range(ng):
            if active[g] or w[g] == 0.0:
                continue
            s = 0.0
            for j in range(gptr[g], gptr[g + 1]):
                e = min(grad[j], 0.0) if positive else grad[j]
                s += e * e
            gn[g] = np.sqrt(s)
            viol = max(viol, (gn[g] - alpha * w[g]) / (alpha * w[g]))
        if act_res <= rtol or m == 0 or (viol > rtol and act_res <= _EARLY_ADD * viol):
            n_new = 0
            for g in range(ng):
                lo, hi = gptr[g], gptr[g + 1]
                if active[g]:
                    if positive:
                        # held coordinates with ∇_j < 0: a one-dimensional Newton step
                        unit = alpha * max(w[g], 1.0)
                        for j in range(lo, hi):
                            if not free[j] and -grad[j] > rtol * unit:
                                curv = diag[j] + (alpha * w[g] / norms[g] if norms[g] > 0.0
                                                  else 0.0)
                                beta[j] = -grad[j] / (curv if curv > 0.0 else 1.0)
                                free[j] = True
                                n_new += 1
                    continue
                if w[g] == 0.0 or gn[g] <= alpha * w[g] * (1.0 + rtol):
                    continue
                step = (gn[g] - alpha * w[g]) / (traces[g] * gn[g])
                for j in range(lo, hi):
                    if positive and grad[j] >= 0.0:
                        beta[j] = 0.0
                        free[j] = False
                    else:
                        beta[j] = -step * grad[j]
                        free[j] = True
                active[g] = True
                n_new += 1
            if n_new == 0:
                if act_res <= rtol or m == 0:
                    return False, rounds  # optimal on the active set, not overall: rtol too tight
            else:
                value, grad = quad_grad(op, T, beta)
                value += group_penalty(alpha, w, gptr, beta)
                continue
        gF = np.empty(m)
        for a in range(m):
            gF[a] = grad[act[a]]
        for g in range(ng):
            if active[g] and w[g] > 0.0 and norms[g] > 0.0:
                c = alpha * w[g] / norms[g]
                for j in range(gptr[g], gptr[g + 1]):
                    if pos[j] >= 0:
                        gF[pos[j]] += c * beta[j]
        if dense_max is None:
            # (a compile-time branch: without a dense_max, the conjugate-gradient Newton
            # below is not compiled -- see dense_polish_limit)
            d = _dense_newton(op, T, act, m, pos, gF, beta, norms, active, alpha, w, gptr)
            ok = d.shape[0] == m
        elif m > dense_max:
            # inexact Newton: the forcing term shrinks with the gradient (superlinear), but
            # need not go below what takes the KKT residual from act_res to rtol in one step
            gnorm = np.sqrt(gF @ gF) / max(alpha, 1e-300)
            forcing = min(0.1, max(gnorm, 0.3 * rtol / max(act_res, 1e-300), 1e-12))
            d = _newton_cg(op, T, act, m, gF, beta, norms, active, alpha, w, gptr, pos,
                           1e-12 * max(np.max(diag), 1e-300), forcing, 10 * m)
            ok = True
        else:
            d = _dense_newton(op, T, act, m, pos, gF, beta, norms, active, alpha, w, gptr)
            ok = d.shape[0] == m
        if not ok:
            return False, rounds
        # groups whose Newton step goes through the origin leave the active set; with
        # positive, so do coordinates whose step crosses 0
        n_drop = 0
        for g in range(ng):
            if not active[g] or w[g] == 0.0:
                continue
            ip = 0.0
            n_free = 0
            for j in range(gptr[g], gptr[g + 1]):
                if pos[j] >= 0:
                    ip += beta[j] * (beta[j] + d[pos[j]])
            if positive and ip > 0.0:
                for j in range(gptr[g], gptr[g + 1]):
                    if pos[j] >= 0 and beta[j] + d[pos[j]] <= 0.0:
                        beta[j] = 0.0
                        free[j] = False
                        n_drop += 1
                    elif free[j]:
                        n_free += 1
            if ip <= 0.0 or (positive and n_free == 0):
                active[g] = False
                for j in range(gptr[g], gptr[g + 1]):
                    beta[j] = 0.0
                    free[j] = not positive
                n_drop += 1
        if n_drop:
            # the direction on what is kept already accounts for the dropped groups moving
            # to 0: try it from the new point before solving again (one Newton system less)
            value, grad = quad_grad(op, T, beta)
            value += group_penalty(alpha, w, gptr, beta)
            norms = group_norms(beta, gptr)
            for a in range(m):
                j = act[a]
                g = gid[j]
                if not (active[g] and free[j]):
                    d[a] = 0.0
                    gF[a] = 0.0
                    continue
                gF[a] = grad[j]
                if w[g] > 0.0 and norms[g] > 0.0:
                    gF[a] += alpha * w[g] * beta[j] / norms[g]
        slope = gF @ d
        if slope >= 0.0:
            if n_drop:
                continue
            return False, rounds
        t = 1.0
        accepted = False
        trial = beta.copy()
        # near the solution the predicted decrease falls below the rounding error of the
        # objective: the full step is then judged by the KKT residual instead
        noise = -slope <= 1e-12 * (abs(value) + 1.0)
        kkt_now = group_kkt(grad, beta, alpha, w, gptr, active, positive) if noise else 0.0
        for _ in range(40):
            for a in range(m):
                trial[act[a]] = beta[act[a]] + t * d[a]
            v_new, g_new = quad_grad(op, T, trial)
            v_new += group_penalty(alpha, w, gptr, trial)
            if v_new <= value + 1e-4 * t * slope:
                accepted = True
                break
            if noise and t == 1.0 and group_kkt(g_new, trial, alpha, w, gptr, active,
                                                positive) < kkt_now:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            # no decrease to machine precision: accept if KKT is already met
            return group_kkt(grad, beta, alpha, w, gptr, active, positive) <= rtol, rounds
        copy_into(beta, trial)
        value = v_new
        grad = g_new
    return group_kkt(grad, beta, alpha, w, gptr, active, positive) <= rtol, max_rounds


def solve_group_ws(op, T, alpha, w, gptr, beta, positive, max_inner, snap_every, max_polish,
                   rtol, memory, dense_max):
    """Solve the group lasso (``β ≥ 0`` if positive) on one working set of groups through
    its Hadamard surrogate.

    L-BFGS on the factors, ``snap_every`` iterations at a time; after each stretch the iterate
    is snapped (block soft-thresholding), and once the set of nonzero groups stops changing
    the Newton polish finishes the solve. Returns as soon as the polished point satisfies KKT
    on the working set. ``beta`` (the warm start) is overwritten with the solution.
    Returns ``(converged, inner_iterations)``.
    """
    k = beta.shape[0]
    ng = w.shape[0]
    dense_max = dense_polish_limit(k, dense_max)
    gid = group_ids(gptr, k)
    diag = quad_diag(op, T, k)
    traces = group_traces(diag, gptr)
    if T > 1:
        # a block of G ⊗ I_T is G_gg I_T: its Lipschitz constant is G_gg, not the trace (the
        # steps of the snap and of groups entering are then exact along the block)
        traces = traces / T
    grad_beta = quad_grad(op, T, beta)[1]
    # a warm start with the right groups but for a few new ones: try the polish first
    norms = group_norms(beta, gptr)
    gnorms = group_norms(np.minimum(grad_beta, 0.0) if positive else grad_beta, gptr)
    nnz = 0
    n_viol = 0
    for g in range(ng):
        if w[g] == 0.0:
            continue
        if norms[g] > 0.0:
            nnz += 1
        elif gnorms[g] > alpha * w[g]:
            n_viol += 1
    if nnz > 0 and n_viol <= max(4, nnz // 10):
        candidate = beta.copy()
        converged, _ = group_polish(op, T, alpha, w, gptr, candidate, traces, positive,
                                    max_polish, rtol, dense_max)
        if converged:
            beta[:] = candidate
            return True, 0
    if positive:
        x = pos_balanced_factors(beta, grad_beta, alpha, w, gptr, traces)
    else:
        x = group_balanced_factors(beta, grad_beta, alpha, w, gptr, traces)
    nx = x.shape[0]
    S = np.zeros((memory, nx))
    Y = np.zeros((memory, nx))
    rho = np.zeros(memory)
    state = np.zeros(2, dtype=np.int64)
    prev = norms > 0.0
    n_inner = 0
    # the surrogate's specialisation is chosen by the tuples' lengths (see lbfgs_factors)
    penalty = (w, gptr, gid) if positive else (T, w, gptr, gid)
    while n_inner < max_inner:
        n_inner += lbfgs_factors(op, alpha, diag, x, gid.shape[0], positive, penalty,
                                 (), snap_every, 0.0, 0.0, S, Y, rho, state)
        smooth_beta = _smooth_beta(x, gid, ng, positive)
        grad_beta = quad_grad(op, T, smooth_beta)[1]
        if positive:
            pos_escape_saddles(x, smooth_beta, grad_beta, alpha, w, gptr, traces)
        else:
            group_escape_saddles(x, smooth_beta, grad_beta, alpha, w, gptr, traces)
        candidate = block_snap(op, T, alpha, w, gptr, smooth_beta, traces, positive)
        cur = group_norms(candidate, gptr) > 0.0
        n_changed = np.sum(cur != prev)
        prev = cur
        n_act = np.sum(cur)
        if n_changed <= max(1, n_act // 20):
            converged, _ = group_polish(op, T, alpha, w, gptr, candidate, traces, positive,
                                        max_polish, rtol, dense_max)
            if converged:
                beta[:] = candidate
                return True, n_inner
    smooth_beta = _smooth_beta(x, gid, ng, positive)
    candidate = block_snap(op, T, alpha, w, gptr, smooth_beta, traces, positive)
    if group_value(op, T, alpha, w, gptr, candidate) <= group_value(op, T, alpha, w, gptr,
                                                                  smooth_beta):
        beta[:] = candidate
    else:
        beta[:] = smooth_beta
    return False, n_inner


def _smooth_beta(x, gid, ng, positive):
    """``β`` of the group factors ``x``. Python: as a numba function its run-time ``positive``
    compiled both factor maps, and its own module re-optimised them."""
    if positive:
        return pos_factors_to_beta(x, gid, ng)
    return group_factors_to_beta(x, gid, ng)


# --------------------------------------------------------------------------------------
# Multi-task lasso: block coordinate descent on a working set, in residual form
# --------------------------------------------------------------------------------------
#
# The working set's features are ``ws``; their coefficients the m×T block ``W``. The residual
# is kept transposed, ``RT`` (T×n: each task's residual contiguous), so that a feature's
# correlations are one matrix-vector product and its update T contiguous axpys. Nothing of
# size m² is formed: memory is O(n·T + m·T), whatever the working set.
#
# The design comes as a tuple ``arrays``: a dense design as ``(X,)`` with ``X`` = ``Aᵀ`` (p×n,
# C order: each feature's column contiguous; ``A`` the centred, weighted design in Fortran
# order, transposed without a copy); a sparse one as ``(data, indices, indptr, x_mean,
# sqrt_sw)``, the row-scaled CSC arrays with the implicit centring ``A_j = X_j − x̄_j √s``:
# the residual is then stored as ``R = R̃ + √s zᵀ`` (``R̃`` updated on the column's non-zeros
# only, ``z`` the T shifts), so an update never touches all n rows. The kernels branch on
# ``len(arrays) == 1`` (dense), which numba prunes at compile time, as for the quadratic
# loss's ``op``: a dense fit compiles no sparse code, and a sparse fit no dense code.


@njit(cache=True)
def _mt_col_dot(arrays, xs, ws, a, RT, z, q, out):
    """``out = A_jᵀ R`` (T values) for the feature ``j = ws[a]``; ``xs[a] = X_jᵀ√s`` and
    ``q = √sᵀR̃`` (sparse form only)."""
    T = RT.shape[0]
    j = ws[a]
    if len(arrays) == 1:
        x = arrays[0][j]
        copy_into(out, RT @ x)
        return
    data, indices, indptr, x_mean = arrays[0], arrays[1], arrays[2], arrays[3]
    n = RT.shape[1]
    for t in range(T):
        acc = 0.0
        r = RT[t]
        for ii in range(indptr[j], indptr[j + 1]):
            acc += data[ii] * r[indices[ii]]
        out[t] = acc
    xm = x_mean[j]
    for t in range(T):
        # R_t = R̃_t + z_t √s, and A_j = X_j − x̄_j √s with √sᵀ√s = n
        out[t] += z[t] * xs[a] - xm * (q[t] + z[t] * n)


@njit(cache=True)
def _mt_col_update(arrays, xs, ws, a, RT, z, q, t, step):
    """``R_t −= step · A_j`` for ``j = ws[a]``."""
    j = ws[a]
    r = RT[t]
    if len(arrays) == 1:
        x = arrays[0][j]
        for i in range(r.shape[0]):
            r[i] -= step * x[i]
        return
    data, indices, indptr, x_mean = arrays[0], arrays[1], arrays[2], arrays[3]
    for ii in range(indptr[j], indptr[j + 1]):
        r[indices[ii]] -= step * data[ii]
    q[t] -= step * xs[a]
    z[t] += step * x_mean[j]


@njit(cache=True)
def _mt_residual(arrays, xs, ws, W, BT, z, q):
    """The residual ``B − A_ws W`` (stored as described above); fills ``z`` and ``q``."""
    T = BT.shape[0]
    RT = BT.copy()
    z[:] = 0.0
    if len(arrays) == 1:
        for t in range(T):
            q[t] = 0.0
    else:
        sqrt_sw = arrays[4]
        for t in range(T):
            q[t] = sqrt_sw @ RT[t]
    for a in range(ws.shape[0]):
        for t in range(T):
            if W[a, t] != 0.0:
                _mt_col_update(arrays, xs, ws, a, RT, z, q, t, W[a, t])
    return RT


@njit(cache=True)
def _mt_full_residual(arrays, RT, z):
    """The residual itself (T×n) from its stored form."""
    if len(arrays) == 1:
        return RT
    sqrt_sw = arrays[4]
    R = RT.copy()
    for t in range(RT.shape[0]):
        if z[t] != 0.0:
            for i in range(R.shape[1]):
                R[t, i] += z[t] * sqrt_sw[i]
    return R


@njit(cache=True)
def _mt_penalty(W, alpha, l2):
    m, T = W.shape
    pen = 0.0
    wsq = 0.0
    for a in range(m):
        w2 = 0.0
        for t in range(T):
            w2 += W[a, t] * W[a, t]
        pen += np.sqrt(w2)
        wsq += w2
    return alpha * pen, l2 * wsq


@njit(cache=True)
def _mt_primal(arrays, W, RT, z, alpha, l2):
    """``1/(2n)‖R‖² + l2/2 ‖W‖² + α Σ ‖W_j‖`` on the working set."""
    R = _mt_full_residual(arrays, RT, z)
    pen, ridge = _mt_penalty(W, alpha, l2)
    rr = 0.0
    for t in range(R.shape[0]):
        for i in range(R.shape[1]):
            rr += R[t, i] * R[t, i]
    return 0.5 * rr / R.shape[1] + pen + 0.5 * ridge


@njit(cache=True)
def _mt_ws_gap(arrays, xs, ws, W, RT, BT, z, q, alpha, l2, norms, screened):
    """The duality gap of the problem restricted to the working set (the dual point of
    :func:`~hadasparse.solvers._working_set.multitask_duality_gap`); ``norms[a]`` receives
    ``‖A_jᵀR/n − l2 W_j‖`` of each row not ``screened``."""
    m, T = W.shape
    n = BT.shape[1]
    g = np.empty(T)
    dual_norm = 0.0
    for a in range(m):
        if screened[a]:
            continue
        _mt_col_dot(arrays, xs, ws, a, RT, z, q, g)
        s2 = 0.0
        for t in range(T):
            e = g[t] / n - l2 * W[a, t]
            s2 += e * e
        norms[a] = np.sqrt(s2)
        dual_norm = max(dual_norm, norms[a])
    R = _mt_full_residual(arrays, RT, z)
    rr = 0.0
    br = 0.0
    for t in range(R.shape[0]):
        for i in range(R.shape[1]):
            rr += R[t, i] * R[t, i]
            br += BT[t, i] * R[t, i]
    pen, ridge = _mt_penalty(W, alpha, l2)
    scale = max(1.0, dual_norm / alpha)
    dual = (br / scale - 0.5 * rr / scale**2 - 0.5 * n * ridge / scale**2) / n
    return 0.5 * rr / n + pen + 0.5 * ridge - dual


@njit(cache=True)
def _mt_epoch(arrays, xs, ws, W, RT, z, q, alpha, l2, lips, screened):
    """One cyclic pass of block coordinate descent over the rows not ``screened``: each
    feature's row of ``W`` takes its exact block soft-thresholding step (``lips`` the rows'
    Lipschitz constants)."""
    m, T = W.shape
    n = RT.shape[1]
    g = np.empty(T)
    zt = np.empty(T)
    for a in range(m):
        L = lips[a]
        if L <= 0.0 or screened[a]:
            continue
        _mt_col_dot(arrays, xs, ws, a, RT, z, q, g)
        nz2 = 0.0
        for t in range(T):
            v = W[a, t] + (g[t] / n - l2 * W[a, t]) / L
            zt[t] = v
            nz2 += v * v
        nz = np.sqrt(nz2)
        thr = alpha / L
        shrink = 1.0 - thr / nz if nz > thr else 0.0
        for t in range(T):
            new = zt[t] * shrink
            step = new - W[a, t]
            if step != 0.0:
                _mt_col_update(arrays, xs, ws, a, RT, z, q, t, step)
                W[a, t] = new


@njit(cache=True)
def multitask_bcd(arrays, ws, W, BT, alpha, l2, lips, tol_abs, max_epochs, anderson, R_out):
    """Block coordinate descent on the working set ``ws`` until its duality gap is at most
    ``tol_abs``, accelerated by Anderson extrapolation: every ``anderson + 1`` epochs the
    last iterates are combined (the weights minimise the norm of the combined differences)
    and the result is kept when it lowers the objective; the gap is checked then.
    ``arrays``: the design, dense or sparse (see above). ``W`` (m×T, the warm start) is
    overwritten and ``R_out`` (T×n) receives the residual ``B − A_ws W`` at the returned
    point. Returns ``(epochs, gap)``."""
    m, T = W.shape
    K = anderson
    d = m * T
    z = np.zeros(T)
    q = np.zeros(T)
    xs = np.zeros(m)
    if len(arrays) != 1:
        data, indices, indptr, sqrt_sw = arrays[0], arrays[1], arrays[2], arrays[4]
        for a in range(m):
            j = ws[a]
            acc = 0.0
            for ii in range(indptr[j], indptr[j + 1]):
                acc += data[ii] * sqrt_sw[indices[ii]]
            xs[a] = acc
    RT = _mt_residual(arrays, xs, ws, W, BT, z, q)
    screened = np.zeros(m, dtype=np.bool_)
    norms = np.zeros(m)
    hist = np.zeros((K + 1, d))
    nh = 0
    gap = np.inf
    for epoch in range(max_epochs):
        _mt_epoch(arrays, xs, ws, W, RT, z, q, alpha, l2, lips, screened)
        copy_into(hist[nh], W.reshape(d))
        nh += 1
        if nh < K + 1 and epoch + 1 < max_epochs:
            continue
        nh = 0
        if K > 0:
            ok, Wacc = anderson_point(hist, 0.0)
            if ok:
                Wa = Wacc.reshape((m, T)).copy()
                za = np.zeros(T)
                qa = np.zeros(T)
                RTa = _mt_residual(arrays, xs, ws, Wa, BT, za, qa)
                if (_mt_primal(arrays, Wa, RTa, za, alpha, l2)
                        < _mt_primal(arrays, W, RT, z, alpha, l2)):
                    copy_into_2d(W, Wa)
                    RT, z, q = RTa, za, qa

        gap = _mt_ws_gap(arrays, xs, ws, W, RT, BT, z, q, alpha, l2, norms, screened)
        if gap <= tol_abs:
            copy_into_2d(R_out, _mt_full_residual(arrays, RT, z))
            return epoch + 1, gap
        if l2 == 0.0:
            # gap-safe screening (Ndiaye et al. 2017, as sklearn's multi-task solver): a row
            # whose correlation with the rescaled residual is far enough below α is zero at
            # the working set's optimum; it leaves the epochs (set to 0 if it is not)
            dual_scale = alpha
            for a in range(m):
                if not screened[a]:
                    dual_scale = max(dual_scale, norms[a])
            radius = np.sqrt(2.0 * max(gap, 0.0))
            for a in range(m):
                if screened[a] or lips[a] <= 0.0:
                    continue
                if alpha * (1.0 - norms[a] / dual_scale) > radius * np.sqrt(lips[a]):
                    screened[a] = True
                    for t in range(T):
                        if W[a, t] != 0.0:
                            _mt_col_update(arrays, xs, ws, a, RT, z, q, t, -W[a, t])
                            W[a, t] = 0.0
    copy_into_2d(R_out, _mt_full_residual(arrays, RT, z))
    return max_epochs, gap
