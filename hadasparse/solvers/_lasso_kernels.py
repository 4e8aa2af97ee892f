"""Numba kernels of the Hadamard lasso solver.

Everything here works on plain arrays of one working set W of k features (the kernels never
see an estimator, a sparse matrix object or any other Python object). The smooth part of the
objective, ``1/2 βᵀGβ − cᵀβ`` with ``G = A_Wᵀ A_W / n`` and ``c = A_Wᵀ b / n``, is reached
through an operator tuple (below): the Gram matrix itself for a dense design, the sparse
columns for a sparse one.

The factor vector ``x`` stacks the Hadamard factors: ``x = [u, v]`` with ``β = u ⊙ v`` (length
2k) for the signed lasso, and ``x = u`` with ``β = u ⊙ u`` (length k) for the positive lasso,
whose surrogate penalty is then ``α ‖u‖²`` (= α Σ β_j).

L-BFGS on the factors finds the support; a snap gives exact zeros; a finish makes the working
set's solution exact. Two finishes, chosen by :func:`_finish`: the active-set :func:`polish`
(Newton steps from an updated Cholesky factor of the active Gram block, exact to rounding) for
active sets within the factor's memory budget (and at most :data:`CD_MIN_ACTIVE` on a sparse
design), and :func:`cd_finish`, coordinate descent with Anderson extrapolation in O(nnz + n + k)
memory, stopped at a working-set duality gap, for larger ones.

The per-working-set drivers :func:`solve_lasso_ws` and :func:`_finish` are plain Python that
call the numba kernels: they run once per working set, and as numba functions each re-optimised
and re-emitted its whole call tree when compiled, and compiled the finishes a fit never takes
(the coordinate-descent finish of large supports). The kernels use no slice assignment between
arrays and no ``np.linalg.solve`` (see :mod:`hadasparse._arrays` and :func:`gauss_solve`).
"""

import numpy as np
from numba import njit

from .._arrays import argsort_into, copy_into
from ..losses._quadratic import (
    GRAM_FORM,
    op_diag,
    op_grad,
    op_grad_update,
    op_gram_block,
    op_gram_column,
)
from ._lbfgs import lbfgs_factors

# Curvature pairs with sᵀy below this fraction of ‖s‖‖y‖ are not stored (the surrogate is a
# quartic, so L-BFGS only keeps pairs that carry positive curvature).
_CURVATURE_EPS = 1e-10
# Path continuation inside a working set: each step lowers α by this factor, and is solved
# by an active-set polish of at most this many rounds, adding at most a tenth of the
# active set's size (and at least _CONTINUATION_MIN_ADD) of the worst violators per round.
_CONTINUATION_RATIO = 0.9
_CONTINUATION_ROUNDS = 50
_CONTINUATION_MIN_ADD = 8
# A warm start is finished by the polish alone (no surrogate descent) when its expected cost,
# about two rounds per violator at O(nnz·(nnz + k)) each, is below that of this many
# L-BFGS iterations at O(k²) each (the surrogate's typical count near a solution).
_POLISH_FIRST = 100
# The rounds such a polish may take: near a saturated support a violator let in often pushes
# several active coordinates through zero, one round each (on bench_lq.py's lasso starts at a
# quarter of the CV alpha, 14 and 17 violators took 62 and 49 rounds: with two per violator
# the polish gave up and a surrogate descent of 100-150 iterations, 4-8x the polish's cost,
# solved the same problem).
_POLISH_FIRST_ROUNDS = 4
# Coordinate-descent finish: a pass over all working-set features every _CD_FULL_EVERY
# passes (the others visit the non-zeros), the working-set gap every _CD_GAP_EVERY passes.
_CD_FULL_EVERY = 4
_CD_GAP_EVERY = 10
_CD_ANDERSON = 5  # passes extrapolated together (Anderson acceleration)
CD_MIN_ACTIVE = 600  # smallest active set of a sparse design finished by coordinate descent
_CD_MAX_EPOCHS = 10000
# The lasso's L-BFGS stretch ends once a step decreases the surrogate by at most this
# fraction of its value, i.e. by rounding: the snap and the polish take over from there (on
# small problems the surrogate converges in a few iterations, and the rest of a stretch
# spun in the line search, ~20 evaluations per iteration).
_FTOL = 1e-15


@njit(cache=True)
def _cd_residual(op, beta):
    """The coordinate-descent state of the sparse form at ``beta``: ``rt = b − Xβ`` (X the
    stored, uncentred columns) and ``state = [sqrt_swᵀ rt, x_meanᵀβ]``, so that the residual
    of the centred design is ``r = rt + state[1] · sqrt_sw``."""
    b, data, indices, indptr, x_mean, sqrt_sw = op[3], op[4], op[5], op[6], op[10], op[11]
    rt = b.copy()
    shift = 0.0
    for j in range(beta.shape[0]):
        bj = beta[j]
        if bj != 0.0:
            for ii in range(indptr[j], indptr[j + 1]):
                rt[indices[ii]] -= data[ii] * bj
            shift += x_mean[j] * bj
    state = np.empty(2)
    state[0] = sqrt_sw @ rt
    state[1] = shift
    return rt, state


@njit(cache=True)
def _cd_sweep(op, diag, alpha, beta, positive, coords, n_coords, rt, xw, state):
    """One cyclic coordinate-descent pass over ``coords[:n_coords]`` of the lasso (elastic net)
    on a working set in sparse form, keeping the residual state of :func:`_cd_residual` up to
    date: O(nnz) of the visited columns."""
    data, indices, indptr, x_mean, sqrt_sw = op[4], op[5], op[6], op[10], op[11]
    l2 = op[12]
    n = sqrt_sw.shape[0]
    ww = sqrt_sw @ sqrt_sw
    for a in range(n_coords):
        j = coords[a]
        d = diag[j]
        if d <= 0.0:
            continue
        acc = 0.0
        for ii in range(indptr[j], indptr[j + 1]):
            acc += data[ii] * rt[indices[ii]]
        shift = state[1]
        xm = x_mean[j]
        # A_jᵀ r with A_j = X_j − x̄_j sqrt_sw and r = rt + shift · sqrt_sw
        ar = acc + shift * xw[j] - xm * (state[0] + shift * ww)
        bj = beta[j]
        z = bj - (l2 * bj - ar / n) / d
        t = alpha / d
        if z > t:
            new = z - t
        elif z < -t and not positive:
            new = z + t
        else:
            new = 0.0
        delta = new - bj
        if delta != 0.0:
            beta[j] = new
            for ii in range(indptr[j], indptr[j + 1]):
                rt[indices[ii]] -= delta * data[ii]
            state[0] -= delta * xw[j]
            state[1] += xm * delta


@njit(cache=True)
def _cd_gap(op, alpha, beta, positive, rt, state):
    """Duality gap of the working-set problem (sparse form) at ``beta``, from the residual
    state of :func:`_cd_residual`.

    The dual point is the residual of the design augmented by ``√(n l2) I`` (the elastic net
    as a lasso), scaled by ``s ≥ 1`` into the dual-feasible set; for ``l2 = 0`` it is
    sklearn's lasso gap. With ``rr = ‖r‖²/n + l2‖β‖²`` and ``br = bᵀr/n`` the primal is
    ``½ rr + α‖β‖₁`` and the dual ``br/s − ½ rr/s²`` (the ``‖b‖²/n`` terms cancel)."""
    b, sqrt_sw = op[3], op[11]
    n = sqrt_sw.shape[0]
    r = rt + state[1] * sqrt_sw
    grad = op_grad(op, beta)[1]
    dual_norm = 0.0
    for j in range(beta.shape[0]):
        dn = -grad[j] if positive else abs(grad[j])
        if dn > dual_norm:
            dual_norm = dn
    s = max(1.0, dual_norm / alpha)
    inv = 1.0 / s
    rr = (r @ r) / n + op[12] * (beta @ beta)
    br = (b @ r) / n
    return 0.5 * rr * (1.0 + inv * inv) - br * inv + alpha * np.sum(np.abs(beta))


@njit(cache=True)
def cd_finish(op, diag, alpha, beta, positive, gap_target):
    """Coordinate-descent finish of the lasso (elastic net) on a working set in sparse form,
    from the snapped Hadamard point ``beta`` (updated in place): the finish for active sets
    too large for the polish's Cholesky factor (its memory is O(nnz + n + k), where the factor
    takes O(m²) and conjugate gradients need ever more steps as the active block's
    conditioning degrades). Passes over the non-zeros alternate with full passes (a zero that
    stays zero costs one column product); every :data:`_CD_GAP_EVERY` passes the working-set
    duality gap is computed, and the finish returns once it is at most ``gap_target`` (or
    after :data:`_CD_MAX_EPOCHS` passes). Returns ``(converged, passes)``."""
    k = beta.shape[0]
    data, indices, indptr, sqrt_sw = op[4], op[5], op[6], op[11]
    xw = np.empty(k)
    for j in range(k):
        acc = 0.0
        for ii in range(indptr[j], indptr[j + 1]):
            acc += data[ii] * sqrt_sw[indices[ii]]
        xw[j] = acc
    rt, state = _cd_residual(op, beta)
    all_coords = np.arange(k)
    active = np.empty(k, dtype=np.int64)
    hist = np.empty((_CD_ANDERSON + 1, k))
    n_hist = 0
    for epoch in range(1, _CD_MAX_EPOCHS + 1):
        if epoch % _CD_GAP_EVERY == 0 or epoch == _CD_MAX_EPOCHS:
            # fresh residual (no drift), then the certificate of the working-set problem
            rt, state = _cd_residual(op, beta)
            gap = _cd_gap(op, alpha, beta, positive, rt, state)
            if gap <= gap_target:
                return True, epoch
        if epoch % _CD_FULL_EVERY == 1:
            _cd_sweep(op, diag, alpha, beta, positive, all_coords, k, rt, xw, state)
        else:
            m = 0
            for j in range(k):
                if beta[j] != 0.0:
                    active[m] = j
                    m += 1
            _cd_sweep(op, diag, alpha, beta, positive, active, m, rt, xw, state)
        copy_into(hist[n_hist], beta)
        n_hist += 1
        if n_hist == _CD_ANDERSON + 1:
            n_hist = 0
            _anderson(op, alpha, beta, positive, hist, rt, state)
    return False, _CD_MAX_EPOCHS


@njit(cache=True)
def _cd_value(op, alpha, beta, rt, state):
    """The working-set objective ``½‖r‖²/n + ½ l2‖β‖² + α‖β‖₁`` (sparse form) from the
    coordinate-descent residual state."""
    sqrt_sw = op[11]
    r = rt + state[1] * sqrt_sw
    return (0.5 * (r @ r) / sqrt_sw.shape[0] + 0.5 * op[12] * (beta @ beta)
            + alpha * np.sum(np.abs(beta)))


@njit(cache=True)
def gauss_solve(A, R):
    """``(ok, X)`` with ``A X = R`` for a small square ``A`` and right-hand sides ``R``
    (m×r; neither is modified), by Gaussian elimination with partial pivoting, as LAPACK's
    ``gesv``; not ok on a zero pivot (a singular ``A``). Here rather than
    ``np.linalg.solve``/``inv``, whose numba implementations (argument checks, error
    formatting, LAPACK glue) cost seconds of compilation; the systems it serves are small
    (extrapolation weights, the group blocks of a preconditioner) or a rare fallback."""
    m = A.shape[0]
    r = R.shape[1]
    M = A.copy()
    X = R.copy()
    for col in range(m):
        piv = col
        for i in range(col + 1, m):
            if abs(M[i, col]) > abs(M[piv, col]):
                piv = i
        if M[piv, col] == 0.0:
            return False, X
        if piv != col:
            for j in range(m):
                M[col, j], M[piv, j] = M[piv, j], M[col, j]
            for j in range(r):
                X[col, j], X[piv, j] = X[piv, j], X[col, j]
        for i in range(col + 1, m):
            f = M[i, col] / M[col, col]
            if f == 0.0:
                continue
            for j in range(col, m):
                M[i, j] -= f * M[col, j]
            for j in range(r):
                X[i, j] -= f * X[col, j]
    for i in range(m - 1, -1, -1):
        for j in range(r):
            s = X[i, j]
            for l in range(i + 1, m):
                s -= M[i, l] * X[l, j]
            X[i, j] = s / M[i, i]
    return True, X


@njit(cache=True)
def anderson_point(hist, ridge):
    """Anderson extrapolation of the iterates in the rows of ``hist`` (as in celer and skglm):
    the affine combination ``Σ c_i hist[i+1]`` (``Σ c_i = 1``) whose weights minimise the norm
    of ``Σ c_i (hist[i+1] − hist[i])``, from ``(UUᵀ + ridge·tr(UUᵀ) I) c ∝ 1``. Returns
    ``(ok, point)``; not ok when the system is singular or degenerate (the caller keeps its
    iterate). Shared by the coordinate-descent loops of the lasso and the multi-task lasso."""
    n_it = hist.shape[0] - 1
    U = np.empty((n_it, hist.shape[1]))
    for i in range(n_it):
        for j in range(hist.shape[1]):
            U[i, j] = hist[i + 1, j] - hist[i, j]
    C = U @ U.T
    if ridge > 0.0:
        scale = 0.0
        for i in range(n_it):
            scale += C[i, i]
        if scale <= 0.0:
            return False, hist[n_it]
        for i in range(n_it):
            C[i, i] += ridge * scale
    ok, c2 = gauss_solve(C, np.ones((n_it, 1)))
    c = c2[:, 0].copy()
    if not ok or not np.isfinite(c.sum()) or c.sum() == 0.0:
        return False, hist[n_it]
    c /= c.sum()
    point = np.zeros(hist.shape[1])
    for i in range(n_it):
        point += c[i] * hist[i + 1]
    return True, point


@njit(cache=True)
def _anderson(op, alpha, beta, positive, hist, rt, state):
    """The :func:`anderson_point` of the last coordinate-descent iterates ``hist``, taken
    (``beta``, ``rt``, ``state`` replaced) only if it lowers the objective, so the finish
    stays monotone."""
    ok, acc = anderson_point(hist, 1e-10)
    if not ok:
        return
    if positive:
        for j in range(acc.shape[0]):
            if acc[j] < 0.0:
                acc[j] = 0.0
    rt_acc, state_acc = _cd_residual(op, acc)
    if _cd_value(op, alpha, acc, rt_acc, state_acc) < _cd_value(op, alpha, beta, rt, state):
        copy_into(beta, acc)
        copy_into(rt, rt_acc)
        copy_into(state, state_acc)


@njit(cache=True, inline='always')
def _escape(x, j, k, g, alpha, g_jj, positive):
    """If coordinate j violates KKT at zero (``|g| > α``, g = ∇_j L), put its factors on the
    escape direction ``(1, -sign g)`` of the saddle at the origin, at the size of the
    one-coordinate lasso step ``(|g| − α) / G_jj``. Returns whether it did. Inlined (numba
    IR) into its two callers, which are called from Python: as a function of its own it was
    compiled, and then optimised and emitted once more in each of them."""
    excess = (-g if positive else abs(g)) - alpha
    if excess <= 0.0:
        return False
    m = np.sqrt(excess / (g_jj if g_jj > 0.0 else 1.0))
    x[j] = m
    if not positive:
        x[k + j] = -m if g > 0 else m
    return True


@njit(cache=True)
def balanced_factors(beta, grad_beta, alpha, diag, positive):
    """Factors with ``u ⊙ v = beta`` and ``|u_j| = |v_j|`` (the minimiser of the ridge over all
    factorisations of ``beta``).

    A zero coefficient sits at a saddle of the surrogate when it violates KKT
    (``|∇_j L| > α``): it is started along the escape direction ``(1, -sign ∇_j L)`` at the
    size of the one-coordinate lasso step, and otherwise just off the origin so that it can still
    leave if other coordinates make it a violator later.
    """
    k = beta.shape[0]
    x = np.zeros(k if positive else 2 * k)
    for j in range(k):
        b = beta[j]
        if b == 0.0:
            if not _escape(x, j, k, grad_beta[j], alpha, diag[j], positive):
                x[j] = 1e-4 * np.sqrt(alpha / (diag[j] if diag[j] > 0.0 else 1.0))
        else:
            m = np.sqrt(abs(b))
            x[j] = m
            if not positive:
                x[k + j] = m if b > 0 else -m
    return x


@njit(cache=True)
def escape_saddles(x, beta, grad_beta, alpha, diag, positive):
    """Move coordinates stuck near the saddle at the origin onto their escape direction.

    Gradient steps leave a coordinate whose factors have decayed to ~0 there even when KKT
    says it should be active (``|∇_j L| > α``): the gradient is proportional to the factors.
    Such a coordinate is restarted along ``(1, -sign ∇_j L)`` at the size of its one-coordinate
    lasso step. Returns the number of coordinates moved.
    """
    k = beta.shape[0]
    n_moved = 0
    for j in range(k):
        g = -grad_beta[j] if positive else abs(grad_beta[j])
        d = diag[j] if diag[j] > 0.0 else 1.0
        if g <= alpha or abs(beta[j]) >= 1e-3 * (g - alpha) / d:
            continue
        n_moved += _escape(x, j, k, grad_beta[j], alpha, diag[j], positive)
    return n_moved


@njit(cache=True)
def lasso_value(op, alpha, beta):
    return op_grad(op, beta)[0] + alpha * np.sum(np.abs(beta))


@njit(cache=True)
def snap(alpha, beta, grad, positive, diag):
    """One diagonally scaled proximal-gradient step of the *original* problem from ``beta``
    (``grad``: the loss's gradient there): soft-thresholding gives exact zeros where the
    smooth iterate only has small ones. The caller passes the gradient it computed for the
    escape step rather than have the kernel compute it again: that also kept a copy of
    op_grad's code out of this kernel's library, which a process's first fit loads from
    numba's cache (issue #11's start-up)."""
    k = beta.shape[0]
    out = np.zeros(k)
    for j in range(k):
        d = diag[j]
        if d <= 0.0:
            continue
        z = beta[j] - grad[j] / d
        t = alpha / d
        if z > t:
            out[j] = z - t
        elif z < -t and not positive:
            out[j] = z + t
    return out


@njit(cache=True, fastmath=True)
def _forward_substitution(L, m, rhs):
    """Solve ``L[:m, :m] w = rhs`` for the lower-triangular factor."""
    w = np.empty(m)
    for i in range(m):
        s = rhs[i]
        for l in range(i):
            s -= L[i, l] * w[l]
        w[i] = s / L[i, i]
    return w


@njit(cache=True, inline='always')
def _chol_append(L, m, col, g_jj, dep_tol):
    """Append a feature with Gram column ``col`` (against the m active ones) and diagonal
    entry ``g_jj`` to the Cholesky factor ``L[:m, :m]`` of the active Gram block.

    Returns False (and leaves ``L`` unchanged) when the feature is, to ``dep_tol``, a linear
    combination of the active ones (duplicated columns, or more actives than samples): the
    solution then needs no coefficient on it.
    """
    w = _forward_substitution(L, m, col)
    d2 = g_jj - w @ w
    if d2 <= dep_tol * g_jj or d2 <= 0.0:
        return False
    for i in range(m):
        L[m, i] = w[i]
    L[m, m] = np.sqrt(d2)
    for i in range(m):
        L[i, m] = 0.0
    return True


@njit(cache=True, inline='always')
def _chol_delete(L, m, pos):
    """Remove row and column ``pos`` from the factor ``L[:m, :m]`` (Givens rotations)."""
    for i in range(pos, m - 1):
        for l in range(m):
            L[i, l] = L[i + 1, l]
    for l in range(m):
        L[m - 1, l] = 0.0
    # rows pos..m-2 now carry one entry right of the diagonal: rotate columns to remove it
    for i in range(pos, m - 1):
        a = L[i, i]
        b = L[i, i + 1]
        r = np.hypot(a, b)
        if r == 0.0:
            continue
        cs = a / r
        sn = b / r
        for l in range(i, m - 1):
            x1 = L[l, i]
            x2 = L[l, i + 1]
            L[l, i] = cs * x1 + sn * x2
            L[l, i + 1] = -sn * x1 + cs * x2
        if L[i, i] < 0.0:
            for l in range(i, m - 1):
                L[l, i] = -L[l, i]
    for l in range(m):
        L[l, m - 1] = 0.0


@njit(cache=True, fastmath=True)
def _back_substitution(L, m, w):
    """Solve ``L[:m, :m]ᵀ z = w``."""
    z = w.copy()
    # by rows of L (contiguous): once z[l] is final, remove its contribution from the
    # equations above it
    for l in range(m - 1, -1, -1):
        z[l] /= L[l, l]
        zl = z[l]
        for i in range(l):
            z[i] -= L[l, i] * zl
    return z


@njit(cache=True, fastmath=True)
def _chol_solve(L, m, rhs):
    """Solve ``L Lᵀ z = rhs``."""
    return _back_substitution(L, m, _forward_substitution(L, m, rhs))


@njit(cache=True)
def _drop_inactive(L, m, act, pos, theta):
    """Remove the active columns whose ``theta`` is 0 (and their rows/columns of the factor).
    Returns the new number of active columns."""
    a = m - 1
    while a >= 0:
        if theta[act[a]] == 0.0:
            _chol_delete(L, m, a)
            pos[act[a]] = -1
            for b in range(a, m - 1):
                act[b] = act[b + 1]
                pos[act[b]] = b
            m -= 1
        a -= 1
    return m


@njit(cache=True)
def _try_append(op, diag, L, m, act, pos, j, dep_tol):
    """Make coordinate j active (extending the factor); False if there is no room or, with a
    factor, its column depends on the active ones."""
    if m >= act.shape[0]:
        return False
    if not _chol_append(L, m, op_gram_column(op, j, act, m, pos), diag[j], dep_tol):
        return False
    act[m] = j
    pos[j] = m
    return True


@njit(cache=True)
def _cholesky_into(G_aa, L, dep_tol):
    """Write LAPACK's Cholesky factor of the m×m block ``G_aa`` into ``L[:m, :m]`` and return
    True, or return False (``L`` unchanged) when the block is not positive definite or a
    pivot is below ``dep_tol`` of its diagonal entry. Its own kernel: it takes no ``op``
    (one compilation for every form), and keeps numba's exception handling out of the
    polish."""
    m = G_aa.shape[0]
    try:
        F = np.linalg.cholesky(G_aa)
    except Exception:  # noqa: BLE001 -- numba only catches the base class
        return False
    for a in range(m):
        if F[a, a] * F[a, a] <= dep_tol * G_aa[a, a]:
            return False
    for a in range(m):
        for b in range(a + 1):
            L[a, b] = F[a, b]
    return True


@njit(cache=True, inline='always')
def _initial_active_set(op, diag, L, act, pos, theta, beta, dep_tol):
    """Fill ``act``/``pos`` with the nonzeros of ``theta`` (at most ``len(act)`` of them) and
    the Cholesky factor of their Gram block into ``L``: one LAPACK call when
    the block is well conditioned, else column by column, leaving out (and zeroing in
    ``beta``) the columns that depend on earlier ones. Returns the number of active columns."""
    k = theta.shape[0]
    cap = act.shape[0]
    m = np.int64(0)  # not the literal 0 (see below)
    for j in range(k):
        if theta[j] != 0.0:
            m += 1
    if 0 < m <= cap:
        a = 0
        for j in range(k):
            if theta[j] != 0.0:
                act[a] = j
                pos[j] = a
                a += 1
        if _cholesky_into(op_gram_block(op, act, m, pos), L, dep_tol):
            return m
        for a in range(m):
            pos[act[a]] = -1
    m = np.int64(0)  # not the literal 0: a literal argument compiles callees once more
    for j in range(k):
        if theta[j] != 0.0:
            if _try_append(op, diag, L, m, act, pos, j, dep_tol):
                m += 1
            else:
                theta[j] = 0.0
                beta[j] = 0.0
    return m


@njit(cache=True, inline='always')
def _reuse_active_set(op, diag, L, act, pos, fstate, theta, beta, dep_tol):
    """Bring the active set and its factor in line with the nonzeros of ``theta``: by
    deleting and appending columns when a valid factor differs in a few places, else from
    scratch. Returns the number of active columns."""
    m = fstate[0]
    if fstate[1] == 1:
        n_diff = 0
        for a in range(m):
            if theta[act[a]] == 0.0:
                n_diff += 1
        for j in range(theta.shape[0]):
            if theta[j] != 0.0 and pos[j] < 0:
                n_diff += 1
        if n_diff <= max(8, m // 8):
            m = _drop_inactive(L, m, act, pos, theta)
            for j in range(theta.shape[0]):
                if theta[j] != 0.0 and pos[j] < 0:
                    if _try_append(op, diag, L, m, act, pos, j, dep_tol):
                        m += 1
                    else:
                        theta[j] = 0.0
                        beta[j] = 0.0
            fstate[0] = m
            return m
    pos[:] = -1
    m = _initial_active_set(op, diag, L, act, pos, theta, beta, dep_tol)
    fstate[0] = m
    fstate[1] = 1
    return m


@njit(cache=True)
def _sync_grad(op, grad, beta, grad_sync, beta_sync, moved, moves):
    """``grad`` ← the exact gradient at ``beta``, from ``grad_sync``, the gradient at
    ``beta_sync``, by the moves since (:func:`op_grad_update`: rows of G when few moved).
    The count starts as ``np.int64(0)``, not the literal 0: numba types a call while its
    argument's type is still the first assignment's, and a literal would compile a second
    specialisation of :func:`op_grad_update` (0.4-0.5 s of every cold first fit)."""
    n_moved = np.int64(0)
    for j in range(beta.shape[0]):
        if beta[j] != beta_sync[j]:
            moved[n_moved] = j
            moves[n_moved] = beta[j] - beta_sync[j]
            n_moved += 1
    copy_into(grad, grad_sync)
    op_grad_update(op, grad, beta, moved, n_moved, moves)


@njit(cache=True)
def polish(op, diag, alpha, beta, positive, max_rounds, rtol, L, act, pos, fstate,
           max_add=0):
    """Active-set finish from a snapped point: solve the KKT system on the current support with
    the current signs, move along the segment to it by an exact line search of the (convex,
    piecewise quadratic) lasso objective, drop coordinates that hit zero, add KKT violators
    (the ``max_add`` worst, all of them if 0). Violators added together can pull each other
    against their signs so that the segment is no descent direction; then fewer are added
    at a time (halving; a single violator added at an optimum of the active set always gives
    descent).

    The Cholesky factor ``L`` of the active Gram block (active set ``act[:m]``, ``pos`` its
    inverse map, ``fstate = [m, factor_valid]``) is updated, not recomputed, as the active set
    changes, and is kept between calls: the next polish of the same working set starts from
    it and only adds or removes the coordinates whose status changed. A round whose line
    search stops at a kink updates only the active gradient, from the Newton system itself;
    the zeros' gradients, which only the search for violators needs, are brought up to date
    once the active set is optimal (one pass over G for a run of kinks instead of one per
    kink: near a saturated support most rounds stop at a kink).

    ``beta`` is updated in place. Returns ``(converged, rounds)``; ``converged`` means the lasso
    KKT conditions hold on all k coordinates to within ``rtol * alpha``. Active sets beyond
    the factor's capacity ``len(act)`` are not its job (:func:`_finish` sends them to
    :func:`cd_finish`); a violator that finds no room in the factor is not added, and the
    polish then does not report convergence.
    """
    k = beta.shape[0]
    dep_tol = 1e-10
    kkt_eps = rtol * alpha
    theta = np.empty(k)
    for j in range(k):
        theta[j] = np.sign(beta[j])
        if positive and theta[j] < 0.0:
            theta[j] = 0.0
            beta[j] = 0.0
    # scratch for the sorts (breakpoints, violators)
    order = np.empty(k, dtype=np.int64)
    m = _reuse_active_set(op, diag, L, act, pos, fstate, theta, beta, dep_tol)
    grad = op_grad(op, beta)[1]
    cap = max_add if max_add > 0 else k
    n_added = 0
    stale = False  # the zeros' gradients lag behind beta (see the kink rounds)
    grad_sync = np.empty(k)  # the last exact gradient, and its beta
    beta_sync = np.empty(k)
    moved = np.empty(k, dtype=np.int64)  # scratch for _sync_grad
    moves = np.empty(k)
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        if m > 0:
            x_a = np.empty(m)
            for a in range(m):
                x_a[a] = beta[act[a]]
            grad_a = np.empty(m)
            for a in range(m):
                grad_a[a] = grad[act[a]]
            # the Newton step on the active set from the factor: d = −(L Lᵀ)⁻¹ (∇_A + αθ_A),
            # and its curvature dᵀ G_AA d = ‖L⁻¹ (∇_A + αθ_A)‖² comes with the forward
            # substitution
            r = np.empty(m)
            for a in range(m):
                r[a] = grad_a[a] + alpha * theta[act[a]]
            w = _forward_substitution(L, m, r)
            curv = w @ w
            d = _back_substitution(L, m, w)
            for a in range(m):
                d[a] = -d[a]
            lin = grad_a @ d
            # exact minimisation of t -> F(x + t d) on [0, 1]: F is convex and piecewise
            # quadratic, with kinks where coordinates cross zero
            l1slope = 0.0
            n_bp = np.int64(0)
            bp_t = np.empty(m)
            bp_jump = np.empty(m)
            for a in range(m):
                xa = x_a[a]
                da = d[a]
                if da == 0.0:
                    continue
                if xa == 0.0 or xa * da > 0.0:
                    l1slope += abs(da)
                else:
                    l1slope -= abs(da)
                    tb = -xa / da
                    if tb < 1.0:
                        bp_t[n_bp] = tb
                        bp_jump[n_bp] = 2.0 * abs(da)
                        n_bp += 1
            # with no kink on the segment and every new coordinate moving in its KKT
            # direction, the segment lies in one quadratic piece whose minimiser is z itself
            straight = n_bp == 0
            if straight:
                for a in range(m):
                    if x_a[a] == 0.0 and d[a] != 0.0 and np.sign(d[a]) != theta[act[a]]:
                        straight = False
                        break
            t_star = 1.0
            if not straight:
                argsort_into(bp_t, n_bp, order)
                t_lo = 0.0
                slope_l1 = l1slope
                done = False
                for ii in range(n_bp):
                    tb = bp_t[order[ii]]
                    # on (t_lo, tb) the derivative is lin + t * curv + alpha * slope_l1
                    if curv > 0.0:
                        t_root = -(lin + alpha * slope_l1) / curv
                    else:
                        t_root = np.inf if lin + alpha * slope_l1 < 0.0 else -np.inf
                    if t_root <= tb:
                        t_star = max(t_root, t_lo)
                        done = True
                        break
                    t_lo = tb
                    slope_l1 += bp_jump[order[ii]]
                if not done:
                    if curv > 0.0:
                        t_root = -(lin + alpha * slope_l1) / curv
                        t_star = min(max(t_root, t_lo), 1.0)
                    else:
                        t_star = 1.0 if lin + alpha * slope_l1 < 0.0 else t_lo
            reached = t_star >= 1.0
            consistent = True
            clipped = False
            step = np.empty(m)
            for a in range(m):
                if reached:
                    xn = x_a[a] + d[a]
                else:
                    xn = x_a[a] + t_star * d[a]
                    xa = x_a[a]
                    # the coordinate whose zero crossing is where the line search stopped
                    if xa != 0.0 and xa * d[a] < 0.0:
                        if abs(-xa / d[a] - t_star) <= 1e-14 * max(1.0, t_star):
                            xn = 0.0
                if positive and xn < 0.0:
                    xn = 0.0
                    clipped = True
                step[a] = xn - x_a[a]
                beta[act[a]] = xn
                sgn = np.sign(xn)
                if sgn != theta[act[a]]:
                    consistent = False
                theta[act[a]] = sgn
            if reached and consistent and stale:
                # the gradient everywhere, then one more Newton step from it (part of this
                # round: a sync must not use up the rounds of a polish-first try)
                _sync_grad(op, grad, beta, grad_sync, beta_sync, moved, moves)
                stale = False
                m = _drop_inactive(L, m, act, pos, theta)
                n_added = 0
                rounds -= 1
                continue
            if (reached and consistent) or clipped:  # (clipped, positive: the step is not t d)
                op_grad_update(op, grad, beta, act, m, step)
            else:
                # stopped at a kink: the next round needs the active gradient only, which
                # the Newton system gives without a pass over G: G_AA d = −r, so the step
                # t d moves ∇_A by −t r (the zeros' gradients go stale until the next
                # optimum on the active set, from the last exact gradient: _sync_grad)
                if not stale:
                    copy_into(grad_sync, grad)
                    copy_into(beta_sync, beta)
                    for a in range(m):
                        beta_sync[act[a]] = x_a[a]
                    stale = True
                for a in range(m):
                    grad[act[a]] -= t_star * r[a]
            # drop the coordinates that reached zero from the factor
            m = _drop_inactive(L, m, act, pos, theta)
            if n_added > 0 and t_star <= 0.0:
                cap = max(1, n_added // 2)  # no descent: add fewer violators next time
            n_added = 0
            if not (reached and consistent):
                continue
        # optimal on the active set: add the (cap worst) violators among the zeros
        if stale:  # (an active set emptied at a kink)
            _sync_grad(op, grad, beta, grad_sync, beta_sync, moved, moves)
            stale = False
        n_cand = np.int64(0)
        cand = np.empty(k, dtype=np.int64)
        excess = np.empty(k)
        for j in range(k):
            if theta[j] != 0.0:
                continue
            e = (-grad[j] if positive else abs(grad[j])) - alpha
            if e > kkt_eps:
                cand[n_cand] = j
                excess[n_cand] = e
                n_cand += 1
        if n_cand > cap:  # the worst first
            for ii in range(n_cand):
                excess[ii] = -excess[ii]
            argsort_into(excess, n_cand, order)
        else:
            for ii in range(n_cand):
                order[ii] = ii
        n_viol = 0
        n_rejected = 0
        for ii in range(n_cand):
            if n_viol == cap:
                break
            j = cand[order[ii]]
            if _try_append(op, diag, L, m, act, pos, j, dep_tol):
                m += 1
                theta[j] = 1.0 if positive else -np.sign(grad[j])
                n_viol += 1
                n_added += 1
            else:
                n_rejected += 1
        if n_viol == 0:
            fstate[0] = m
            return n_rejected == 0, rounds
    fstate[0] = m
    return False, max_rounds


def _cd_route(op, beta, act):
    """Whether :func:`_finish` finishes from ``beta`` by coordinate descent (see there).
    (Python: as a numba function its wrapper for the ``op`` tuple cost 0.3 s to compile.)"""
    m0 = np.count_nonzero(beta)
    return len(op) != GRAM_FORM and (m0 > CD_MIN_ACTIVE or m0 > act.shape[0]
                                     or op[9].shape[0] == 0)


def _finish(op, diag, alpha, beta, positive, max_polish, rtol, L, act, pos, fstate, max_add,
            gap_target):
    """The exact finish from a snapped point: the active-set :func:`polish` with its Cholesky
    factor, or, for an active set beyond the factor's capacity (``act``: the memory budget)
    or, in sparse form, beyond :data:`CD_MIN_ACTIVE` (where the factor's O(m²) memory and
    O(m³) time outgrow the O(nnz) passes of coordinate descent), or in the column form of a
    dense design (which has no row arrays for the factor's Gram columns), the
    coordinate-descent :func:`cd_finish` to the working-set gap ``gap_target``."""
    if _cd_route(op, beta, act):
        return cd_finish(op, diag, alpha, beta, positive, gap_target)
    return polish(op, diag, alpha, beta, positive, max_polish, rtol, L, act, pos, fstate,
                  max_add)


def _factors_to_beta(x, k, positive):
    """``β`` of the factors: :func:`~hadasparse.penalties._surrogates.factors_to_beta`'s
    products in numpy (the same numbers). A call of that kernel from Python loaded its own
    library from numba's cache at a process's first fit (issue #11's start-up)."""
    return x[:k] * x[:k] if positive else x[:k] * x[k:2 * k]


def solve_lasso_ws(op, alpha, beta, positive, max_inner, snap_every, max_polish, rtol,
                   memory, max_support, L, act, pos, fstate, gap_target, alpha_from=0.0):
    """Solve the lasso on one working set through its Hadamard surrogate.

    Runs L-BFGS on the factors, ``snap_every`` iterations at a time; after each stretch the
    iterate is snapped to exact zeros, and once the snapped signs stop changing the active-set
    polish finishes the solve exactly. Returns as soon as the polished point satisfies KKT on
    the working set. ``beta`` (the warm start) is overwritten with the solution.
    ``L, act, pos, fstate`` hold the polish's active set and Cholesky factor (see
    :func:`polish`); the caller keeps them from one working set to the next, which only ever
    appends features. Returns ``(converged, inner_iterations)``.

    Along a path, ``alpha_from > alpha`` says that ``beta`` solved the problem at
    ``alpha_from`` (on the previous working set): the solution is then followed from there
    in steps of :data:`_CONTINUATION_RATIO` by the polish alone, each step starting
    next to its solution. Only if a step fails does the surrogate take over.
    """
    k = beta.shape[0]
    diag = op_diag(op, k)
    grad_beta = op_grad(op, beta)[1]
    # A warm start (the previous working set's solution, or a previous alpha's) often has
    # the right support already, but for the new coordinates: try the polish first when
    # its rounds (about two per violator) are cheaper than a surrogate descent
    # (_POLISH_FIRST), with room for more (_POLISH_FIRST_ROUNDS).
    zero = beta == 0.0
    nnz = k - int(np.count_nonzero(zero))
    n_viol = int(np.count_nonzero(zero & ((-grad_beta if positive else np.abs(grad_beta))
                                          > alpha)))
    if nnz > 0 and _cd_route(op, beta, act):
        # a warm start for the coordinate-descent finish: it starts from there directly
        # (along a path it needs no continuation, and new coordinates cost one column
        # each); its result, monotone from the start, is the answer even if not converged
        converged, _ = cd_finish(op, diag, alpha, beta, positive, gap_target)
        return converged, 0
    elif nnz > 0 and alpha_from > alpha:
        candidate = beta.copy()
        a_step = alpha_from
        converged = False
        while True:
            a_step = max(alpha, a_step * _CONTINUATION_RATIO)
            converged, _ = _finish(op, diag, a_step, candidate, positive,
                                   max(_CONTINUATION_ROUNDS, max_polish),
                                   rtol, L, act, pos, fstate,
                                   max(_CONTINUATION_MIN_ADD, fstate[0] // 10), gap_target)
            if not converged or a_step == alpha:
                break
        if converged:
            beta[:] = candidate
            return True, 0
        # start the surrogate from where the continuation got to
        beta[:] = candidate
        grad_beta = op_grad(op, beta)[1]
    elif nnz > 0 and n_viol * nnz * (nnz + k) <= _POLISH_FIRST * k * k:
        candidate = beta.copy()
        converged, _ = _finish(op, diag, alpha, candidate, positive,
                               max(max_polish, _POLISH_FIRST_ROUNDS * (n_viol + 5)), rtol,
                               L, act, pos, fstate, k, gap_target)
        if converged:
            beta[:] = candidate
            return True, 0
    x = balanced_factors(beta, grad_beta, alpha, diag, positive)
    nx = x.shape[0]
    S = np.zeros((memory, nx))
    Y = np.zeros((memory, nx))
    rho = np.zeros(memory)
    state = np.zeros(2, dtype=np.int64)
    prev_signs = np.sign(beta)
    n_inner = 0
    while n_inner < max_inner:
        n_inner += lbfgs_factors(op, alpha, diag, x, k, positive, (), (), snap_every, 0.0, _FTOL,
                                 S, Y, rho, state)
        smooth_beta = _factors_to_beta(x, k, positive)
        grad_beta = op_grad(op, smooth_beta)[1]
        escape_saddles(x, smooth_beta, grad_beta, alpha, diag, positive)
        candidate = snap(alpha, smooth_beta, grad_beta, positive, diag)
        signs = np.sign(candidate)
        n_changed = np.sum(signs != prev_signs)
        prev_signs = signs
        nnz = np.sum(signs != 0.0)
        if nnz <= max_support and n_changed <= max(2, nnz // 200):
            by_cd = _cd_route(op, candidate, act)
            converged, _ = _finish(op, diag, alpha, candidate, positive, max_polish, rtol,
                                   L, act, pos, fstate, k, gap_target)
            if converged:
                beta[:] = candidate
                return True, n_inner
            if by_cd:
                # coordinate descent ran its course from the snap (monotone): a later snap
                # would hand it a worse start
                beta[:] = candidate
                return False, n_inner
    # out of iterations: keep the better of the smooth point and its snap (exact zeros)
    smooth_beta = _factors_to_beta(x, k, positive)
    candidate = snap(alpha, smooth_beta, op_grad(op, smooth_beta)[1], positive, diag)
    if lasso_value(op, alpha, candidate) <= lasso_value(op, alpha, smooth_beta):
        beta[:] = candidate
    else:
        beta[:] = smooth_beta
    return False, n_inner
