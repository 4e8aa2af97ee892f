"""The working-set driver of the Hadamard ℓq solver.

One outer iteration: take the diagonally scaled proximal-gradient step ``T`` on all features
and stop if the point is a fixed point (to the tolerance); otherwise grow the working set by
the support and the zeros that violate the ℓq zero condition (those that ``T`` moves), and
solve the problem on the working set (numba: L-BFGS on the depth-k factors, snap, finish).
At a fixed point, a local search of swap moves on the working set looks for a better one;
a move it keeps is certified by the same loop. For q = 1 the lasso driver is used unchanged.
The group ℓ2,q penalty runs the same loop, local search included, with groups as units.
"""

import numpy as np
from sklearn.utils import check_random_state

from ._lq_kernels import (
    group_lq_prox_step,
    group_lq_residual,
    lq_local_search,
    lq_prox_step,
    lq_residual,
    solve_lq_ws,
)
from ..losses._quadratic import gram_operator, sparse_operator
from ..penalties._prox import lq_threshold
from ._budget import design_square_cap
from ._working_set import (
    WorkingSet,
    _grow_gram,
    group_ranges,
    single_threaded_blas,
    solve_group_lasso,
    solve_lasso,
    units_to_add,
)

_WS_START = 32  # most violators admitted to a working set at once
_SNAP_EVERY = 25  # L-BFGS steps between two snaps
_LBFGS_MEMORY = 10
_MAX_FINISH = 200  # rounds of proximal steps / coordinate steps in a finish
_N_PATH = 10  # alphas of the continuation path of init="path"
# the group lasso start: solved to this relative duality gap (HadamardGroupLasso's default)
_LASSO_INIT_TOL = 1e-4
# the lasso start of the ℓq solver: the lasso at _LQ_LASSO_SCALE · alpha, solved to the
# relative duality gap _LQ_LASSO_TOL (HadamardLasso's default). At a small alpha the lasso at
# alpha keeps far more features than an ℓq fixed point (bench_lq.py at a quarter of the CV
# alpha: 120-180 of n = 200 against 30-50) and is about half of a fit's time there. A sparser
# start (the lasso at 2 alpha to gap 5e-3) made that benchmark's fits 2.5-2.9x skglm's time
# instead of ~4x with minima as low on its seeds, but on other problems it reached worse
# local minima: on 96 random problems per design (n = 60-200, p = 150-1000, alpha_max/10 and
# /50, q = 1/2 and 2/3) its objective was higher on 53 of 96 sparse-design fits (by up to 4 %,
# median +0.2 % at alpha_max/10) and 17 of 96 dense ones (up to 10 %); the lasso at alpha to
# gap 5e-3 was also worse on 23. So the lasso start itself stays the lasso at alpha to this
# gap; what made the default faster is the continuation below (init="lasso_2alpha"), whose
# fixed point at 2 alpha, not a lasso, starts alpha.
_LQ_LASSO_SCALE = 1.0
_LQ_LASSO_TOL = 1e-4
# init="lasso_2alpha" (the default, init="auto", without groups): the start above at
# _LQ_START_SCALE · alpha, descended to its ℓq fixed point there (with the local search),
# starts alpha -- a two-point continuation. The lasso at 2 alpha keeps fewer features and the
# ℓq fit from its fixed point is short. Measured against init="lasso" (each the median of 3-5
# fits timed in turns with skglm's ℓq fit): on bench_lq.py's 40 problems at skglm's CV alpha
# 0.73-0.78x the time, the same objective on 38 (higher on 2, by at most 1.6e-3 relative);
# at a quarter of it 0.73-0.76x (2.5-2.6x skglm's time instead of 3.2-3.4x), higher on 29,
# lower on 10 (mean +0.26 %, worst +2 %), at or below skglm's on 38 of 40 either way; on
# bench_lq_starts.py's 96 random problems 0.87x, lower on 42, higher on 34 (mean -0.42 %), at
# or below skglm's on 91 against 88. Scale 1.5 was slower; 3 and 4 faster, but at or below
# skglm's on fewer (35-38 of 40, 87-89 of 96); 2 in two steps slower. With groups
# (bench_group_lq.py's problems) it reached higher objectives than the group lasso start
# (at alpha_max/100 on 17 of 20, mean +1.2 %): there init="auto" keeps the group lasso
# start.
_LQ_START_SCALE = 2.0
# local search (swap moves) after convergence: moves tried per search, coordinate-descent
# sweeps per move, searches per fit, and the tolerance of a move's descent (relative to
# ‖b‖/√n, like tol; loose: a move is judged by an upper bound of its objective)
_SEARCH_MOVES = 500
_SEARCH_SWEEPS = 100
_MAX_SEARCHES = 10
_SEARCH_RTOL = 1e-4



def depth_of(q):
    """The depth k with q = 2/k (the caller has validated q)."""
    return int(round(2.0 / q))


def lq_objective(design, b, beta, alpha, q):
    """``1/(2n)‖b − Aβ‖² + α Σ |β_j|^q``."""
    r = b - design.dot(beta)
    return 0.5 * (r @ r) / design.n_samples + alpha * np.sum(np.abs(beta) ** q)


def lq_fixed_point_residual(design, b, beta, alpha, q):
    """``max_j √G_jj |β_j − T(β)_j|`` with ``T`` the diagonally scaled ℓq proximal-gradient
    step (``G_jj = ‖A_j‖²/n``) on all features."""
    n = design.n_samples
    grad = -design.rdot(b - design.dot(beta)) / n
    diag = np.ascontiguousarray(design.col_sq_norms(), dtype=np.float64)
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    return float(lq_residual(beta, lq_prox_step(beta, grad, diag, float(alpha), float(q)), diag))


def lq_alpha_max(design, b, q):
    """Smallest α at which β = 0 is a fixed point of ``T``: every ``|c_j|/G_jj`` (c = Aᵀb/n)
    is below the zero threshold ``τ(α/G_jj) = C_q (α/G_jj)^{1/(2−q)}``."""
    c = np.abs(design.rdot(b)) / design.n_samples
    d = design.col_sq_norms()
    ok = d > 0
    if not ok.any():
        return 0.0
    C = lq_threshold(1.0, q)
    return float(np.max(d[ok] * (c[ok] / (d[ok] * C)) ** (2.0 - q)))


def solve_lq(design, b, alpha, q, beta_init=None, *, init="auto", tol=1e-4, max_iter=100,
             max_inner=2000, random_state=None, verbose=False, local_search=True):
    """Find a local minimiser of ``1/(2n)‖b − Aβ‖² + α Σ_j |β_j|^q`` (q = 2/k) from the start
    chosen by ``init`` (or ``beta_init``): a fixed point of the diagonally scaled proximal
    gradient map, to residual ``≤ tol · ‖b‖/√n``.

    For q = 1 this is :func:`hadasparse.solvers.solve_lasso` (duality-gap stop).
    ``local_search=False`` skips the swap moves tried at a fixed point.

    Returns ``beta, residual, n_iter, converged``.
    """
    with single_threaded_blas():
        n = design.n_samples
        if depth_of(q) == 2:
            beta, _, n_iter, converged = solve_lasso(design, b, alpha, beta_init, tol=tol,
                                                     max_iter=max_iter, max_inner=max_inner)
            return beta, lq_fixed_point_residual(design, b, beta, alpha, 1.0), n_iter, converged
        tol_abs = tol * np.sqrt((b @ b) / n)
        searches = _MAX_SEARCHES if local_search else 0
        if beta_init is not None:
            return _solve_lq(design, b, alpha, q, beta_init, tol_abs, max_iter, max_inner,
                             verbose, searches=searches)
        if init == "auto":
            init = "lasso_2alpha"
        if init == "best":
            return _best_of(
                lambda start: solve_lq(design, b, alpha, q, init=start, tol=tol,
                                       max_iter=max_iter, max_inner=max_inner,
                                       local_search=local_search),
                lambda beta: lq_objective(design, b, beta, alpha, q))
        p = design.n_features
        ws0 = None
        if init == "lasso_2alpha" and _LQ_START_SCALE * alpha < lq_alpha_max(design, b, q):
            # the default start at twice alpha, descended to its fixed point there, starts
            # alpha (a two-point continuation; see _LQ_START_SCALE)
            beta0, _, it, _ = solve_lq(design, b, _LQ_START_SCALE * alpha, q, init="lasso",
                                       tol=tol, max_iter=max_iter, max_inner=max_inner,
                                       verbose=verbose, local_search=local_search)
            beta, res, it2, conv = _solve_lq(design, b, alpha, q, beta0, tol_abs, max_iter,
                                             max_inner, verbose, searches=searches)
            return beta, res, it + it2, conv
        if init in ("lasso", "lasso_2alpha"):
            # the lasso's working set (and its Gram matrix) is the first working set; its last
            # certificate's gradient (of the loss alone) is that at the start
            ws0 = lasso_start_state()
            beta0 = solve_lasso(design, b, _LQ_LASSO_SCALE * alpha, None, tol=_LQ_LASSO_TOL,
                                max_iter=max_iter, state=ws0)[0]
        elif init == "random":
            beta0 = _random_start(design, b, random_state)
        elif init == "path":
            a_max = lq_alpha_max(design, b, q)
            beta0 = np.zeros(p)
            n_iter_total = 0
            if alpha < a_max:
                for a in np.geomspace(a_max, alpha, _N_PATH + 1)[1:-1]:
                    beta0, _, it, _ = _solve_lq(design, b, a, q, beta0, tol_abs, max_iter,
                                                max_inner, verbose, searches=searches)
                    n_iter_total += it
            beta, res, it, conv = _solve_lq(design, b, alpha, q, beta0, tol_abs, max_iter,
                                            max_inner, verbose, searches=searches)
            return beta, res, n_iter_total + it, conv
        else:  # "zero"
            beta0 = np.zeros(p)
        return _solve_lq(design, b, alpha, q, beta0, tol_abs, max_iter, max_inner, verbose,
                         ws0, searches)


def lasso_start_state():
    """The :class:`WorkingSet` of the lasso start (``init="lasso"``), which the ℓq descent
    then inherits. Its working set is the local search's pool of swap candidates, so it
    grows by the support's size also near saturation, not only by the room below n (with
    that cap the ℓq fits reached worse minima on 5 and better on 3 of 96 random problems)."""
    state = WorkingSet()
    state.rank_room = False
    return state


_BEST_OF = ("lasso", "lasso_2alpha", "path", "zero")


def _best_of(solve, value):
    """``init="best"``: the descents from the starts ``_BEST_OF``, the one that reached a
    fixed point with the lowest objective kept (ties: the first); iterations are summed."""
    best = None
    total = 0
    for start in _BEST_OF:
        beta, res, n_iter, conv = solve(start)
        total += n_iter
        key = (not conv, value(beta))
        if best is None or key < best[0]:
            best = (key, beta, res, conv)
    _, beta, res, conv = best
    return beta, res, total, conv


def _random_start(design, b, random_state):
    """Gaussian coefficients ``N(0, 1) · |c_j| / G_jj`` (``c = Aᵀb/n``: the scale of a
    one-feature fit) on a random subset of ``min(n, p)`` features -- a local minimum has at
    most n nonzeros, and a dense start would make the working set (and its Gram matrix) the
    whole design."""
    rng = check_random_state(random_state)
    n, p = design.n_samples, design.n_features
    d = design.col_sq_norms()
    c = design.rdot(b) / n
    scale = np.divide(np.abs(c), d, out=np.zeros(p), where=d > 0)
    beta0 = np.zeros(p)
    idx = np.sort(rng.choice(p, size=min(n, p), replace=False))
    beta0[idx] = rng.standard_normal(idx.size) * scale[idx]
    return beta0


def _solve_lq(design, b, alpha, q, beta_init, tol_abs, max_iter, max_inner, verbose,
              ws0=None, searches=_MAX_SEARCHES):
    """The working-set loop from ``beta_init``; ``ws0`` (a lasso :class:`WorkingSet` on the
    same design and target) gives the first working set and its Gram matrix. Once the point
    is a fixed point, a local search (:func:`lq_local_search`) on the working set tries to
    move to a better one (at most ``searches`` times); an accepted move is certified by going
    on with the loop."""
    n, p = design.n_samples, design.n_features
    depth = depth_of(q)
    beta = np.array(beta_init, dtype=np.float64)
    diag_full = np.ascontiguousarray(design.col_sq_norms(), dtype=np.float64)
    beta[diag_full == 0] = 0.0  # a constant column cannot change the fit
    c_full = None
    ws = np.zeros(0, dtype=np.intp)
    G_ws = np.zeros((0, 0))
    # a dense design keeps the working set's Gram matrix up to the square-array budget;
    # beyond it (and on sparse designs) the kernels take the working set's columns
    cap = design_square_cap(design)
    gram_form = not design.is_sparse
    # the lasso's last certificate holds the gradient at its solution, the start here
    certified = None
    if ws0 is not None and ws0.ws.size:
        ws = np.array(ws0.ws, dtype=np.intp)
        gram_form = gram_form and ws.size <= cap
        if gram_form and ws0.G_ws.shape[0] == ws.size:
            G_ws = ws0.G_ws
            c_full = ws0.c_full
        elif gram_form:
            G_ws = design.gram(ws, ws)
        if ws0.certified is not None and np.array_equal(ws0.certified[0], beta):
            certified = -ws0.certified[2]
    op = None
    res = np.inf
    converged = False
    n_iter = 0
    n_search = 0
    moved_by_search = False
    searched = None  # (support, working-set size) an accepted local search left
    for n_iter in range(1, max_iter + 1):
        if certified is not None:
            grad, certified = certified, None
        else:
            grad = -design.rdot(b - design.dot(beta)) / n
        step = lq_prox_step(beta, grad, diag_full, alpha, q)
        res = lq_residual(beta, step, diag_full)
        if verbose:
            print(f"iteration {n_iter}: fixed-point residual {res:.3e} (tolerance "
                  f"{tol_abs:.3e}), working set {ws.size}, support {np.count_nonzero(beta)}")
        if c_full is None and gram_form:
            c_full = design.rdot(b) / n
        if res <= tol_abs:
            # an accepted search ends with a pass that tried every swap from its support and
            # kept none; from the same support on the same working set (the certification
            # only refines the values) a new search would repeat that pass
            repeat = (searched is not None and ws.size == searched[1]
                      and np.array_equal(beta != 0, searched[0]))
            if n_search >= searches or not np.any(beta) or repeat:
                converged = True
                break
            n_search += 1
            outside = beta != 0
            outside[ws] = False
            missing = np.flatnonzero(outside)
            if missing.size:  # a warm start: its support is the working set
                G_ws, gram_form = _grown(design, G_ws, ws, missing, gram_form, cap)
                ws = np.concatenate([ws, missing])
                op = None
            # the search reads the Gram matrix of the set it works on: the working set, or
            # beyond the budget its support and the zeros nearest to entering
            search = ws if ws.size <= cap else _search_set(beta, grad, diag_full, alpha, q,
                                                           ws, cap)
            if search is ws:
                if op is None:
                    op = _ws_operator(design, b, ws, G_ws, c_full, gram_form)
                search_op = op
            else:
                if c_full is None:
                    c_full = design.rdot(b) / n
                search_op = gram_operator(design.gram(search, search), c_full[search])
            beta_ws = beta[search].copy()
            accepted, _ = lq_local_search(search_op, float(alpha), float(q), beta_ws, (),
                                          _SEARCH_RTOL * np.sqrt((b @ b) / n),
                                          _SEARCH_SWEEPS, _SEARCH_MOVES)
            if verbose:
                print(f"local search: {accepted} moves accepted")
            if not accepted:
                converged = True
                break
            beta[:] = 0.0
            beta[search] = beta_ws
            searched = (beta != 0, ws.size)
            moved_by_search = True
            continue  # certify the new point
        support = np.flatnonzero(beta)
        # zeros that the step moves, ranked by the decrease their coordinate step brings
        # (exact: the objective is quadratic in one coordinate with curvature G_jj)
        moved = np.flatnonzero((beta == 0) & (step != 0))
        s = step[moved]
        gain = -(grad[moved] * s + 0.5 * diag_full[moved] * s * s + alpha * np.abs(s) ** q)
        new = units_to_add(p, ws, support, moved, gain, max(_WS_START, support.size))
        if new.size:
            G_ws, gram_form = _grown(design, G_ws, ws, new, gram_form, cap)
            ws = np.concatenate([ws, new])
            op = None
        elif n_iter > 1 and not moved_by_search:
            break  # the working-set solve did not reach a fixed point: nothing left to add
        certify = moved_by_search
        moved_by_search = False
        if op is None:
            op = _ws_operator(design, b, ws, G_ws, c_full, gram_form)
        beta_ws = beta[ws].copy()
        solve_lq_ws(op, float(alpha), float(q), depth, beta_ws, max_inner, _SNAP_EVERY,
                    tol_abs, _LBFGS_MEMORY, _MAX_FINISH, certify=certify)
        beta[:] = 0.0
        beta[ws] = beta_ws
    else:
        grad = -design.rdot(b - design.dot(beta)) / n
        res = lq_residual(beta, lq_prox_step(beta, grad, diag_full, alpha, q), diag_full)
        converged = res <= tol_abs
    return beta, float(res), n_iter, converged


def _grown(design, G_ws, ws, new, gram_form, cap):
    """The working set's Gram matrix after it grows by ``new``, and whether the Gram form
    is kept: not beyond ``cap`` rows (the square-array budget), where the kernels switch to
    the working set's columns."""
    if not gram_form:
        return G_ws, False
    if ws.size + new.size > cap:
        return np.zeros((0, 0)), False
    return _grow_gram(design, None, G_ws, ws, new), True


def _search_set(beta, grad, diag, alpha, q, ws, cap):
    """A working set of at most ``cap`` features for the local search: the support and the
    zeros of ``ws`` nearest to their ℓq zero threshold (``|∇_j L| / (G_jj τ(α/G_jj))`` the
    largest), sorted."""
    support = np.flatnonzero(beta)
    zeros = ws[beta[ws] == 0]
    d = diag[zeros]
    ok = d > 0
    ratio = np.zeros(zeros.size)
    tau = lq_threshold(1.0, q) * (alpha / np.where(ok, d, 1.0)) ** (1.0 / (2.0 - q))
    ratio[ok] = np.abs(grad[zeros[ok]]) / (d[ok] * tau[ok])
    n_zero = max(cap - support.size, 0)
    if zeros.size > n_zero:
        zeros = zeros[np.argsort(-ratio, kind="stable")[:n_zero]]
    return np.sort(np.concatenate([support, zeros]))


def _ws_operator(design, b, ws, G_ws, c_full, gram_form):
    """The kernels' operator tuple of the working set ``ws``."""
    if gram_form:
        return gram_operator(G_ws, c_full[ws])
    return sparse_operator(design, b, ws)


# --------------------------------------------------------------------------------------
# Group ℓ2,q: the same outer loop with groups as units
# --------------------------------------------------------------------------------------

_GROUP_WS_START = 10


def group_lipschitz(design, gptr):
    """``L_g = λ_max(A_gᵀA_g / n)`` for every (contiguous) group: the step of the group's
    proximal map."""
    sizes = np.diff(gptr)
    lips = np.empty(sizes.size)
    diag = design.col_sq_norms()
    for g, (s, e) in enumerate(zip(gptr[:-1], gptr[1:])):
        if e - s == 1:
            lips[g] = diag[s]
        else:
            idx = np.arange(s, e)
            lips[g] = max(float(np.linalg.eigvalsh(design.gram(idx, idx))[-1]), 0.0)
    return lips


def group_lq_fixed_point_residual(design, b, beta, alpha, q, weights, gptr, lips):
    """``max_g √L_g ‖β_g − T(β)_g‖`` on all groups."""
    n = design.n_samples
    grad = -design.rdot(b - design.dot(beta)) / n
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    step = group_lq_prox_step(beta, grad, gptr, lips, weights, float(alpha), float(q))
    return float(group_lq_residual(beta, step, gptr, lips))


def group_lq_objective(design, b, beta, alpha, q, weights, gptr):
    r = b - design.dot(beta)
    norms = np.sqrt(np.add.reduceat(beta * beta, gptr[:-1]))
    return 0.5 * (r @ r) / design.n_samples + alpha * float(weights @ norms**q)


def group_lq_alpha_max(design, b, q, weights, gptr, lips):
    """Smallest α at which β = 0 is a fixed point of the group proximal step (the
    unpenalised groups left at 0)."""
    c = design.rdot(b) / design.n_samples
    cn = np.sqrt(np.add.reduceat(c * c, gptr[:-1]))
    ok = (weights > 0) & (lips > 0)
    if not ok.any():
        return 0.0
    C = lq_threshold(1.0, q)
    return float(np.max(lips[ok] / weights[ok] * (cn[ok] / (lips[ok] * C)) ** (2.0 - q)))


def solve_group_lq(design, b, alpha, q, weights, gptr, beta_init=None, *, init="auto",
                   tol=1e-4, max_iter=100, max_inner=2000, random_state=None,
                   local_search=True):
    """Find a local minimiser of ``1/(2n)‖b − Aβ‖² + α Σ_g w_g ‖β_g‖₂^q`` (q = 2/k; groups
    contiguous, ``gptr``): a fixed point of the group proximal-gradient map with steps
    ``1/L_g``, to residual ``≤ tol · ‖b‖/√n``. For q = 1 this is the group lasso solver
    (duality-gap stop). ``local_search=False`` skips the swap moves of groups tried at a
    fixed point. Returns ``beta, residual, n_iter, converged``."""
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    gptr = np.ascontiguousarray(gptr, dtype=np.int64)
    lips = group_lipschitz(design, gptr)
    n, p = design.n_samples, design.n_features
    with single_threaded_blas():
        if depth_of(q) == 2:
            beta, _, n_iter, conv = solve_group_lasso(design, b, alpha, weights, gptr,
                                                      beta_init, tol=tol, max_iter=max_iter)
            return (beta, group_lq_fixed_point_residual(design, b, beta, alpha, 1.0, weights,
                                                        gptr, lips), n_iter, conv)
        tol_abs = tol * np.sqrt((b @ b) / n)
        searches = _MAX_SEARCHES if local_search else 0
        args = (design, b, alpha, q, weights, gptr, lips)
        if init == "auto":
            init = "lasso"
        if init == "best" and beta_init is None:
            return _best_of(
                lambda start: solve_group_lq(design, b, alpha, q, weights, gptr, init=start,
                                             tol=tol, max_iter=max_iter,
                                             max_inner=max_inner,
                                             local_search=local_search),
                lambda beta: group_lq_objective(design, b, beta, alpha, q, weights, gptr))
        if beta_init is not None:
            return _solve_group_lq(*args, beta_init, tol_abs, max_iter, max_inner, searches)
        if init == "lasso_2alpha" and _LQ_START_SCALE * alpha < group_lq_alpha_max(
                design, b, q, weights, gptr, lips):
            beta0, _, it, _ = solve_group_lq(design, b, _LQ_START_SCALE * alpha, q, weights,
                                             gptr, init="lasso", tol=tol, max_iter=max_iter,
                                             max_inner=max_inner, local_search=local_search)
            beta, res, it2, conv = _solve_group_lq(*args, beta0, tol_abs, max_iter, max_inner,
                                                   searches)
            return beta, res, it + it2, conv
        if init in ("lasso", "lasso_2alpha"):
            beta0 = solve_group_lasso(design, b, alpha, weights, gptr, None,
                                      tol=_LASSO_INIT_TOL, max_iter=max_iter)[0]
        elif init == "random":
            beta0 = _random_start(design, b, random_state)
        elif init == "path":
            a_max = group_lq_alpha_max(design, b, q, weights, gptr, lips)
            beta0 = np.zeros(p)
            total = 0
            if alpha < a_max:
                for a in np.geomspace(a_max, alpha, _N_PATH + 1)[1:-1]:
                    beta0, _, it, _ = _solve_group_lq(design, b, a, q, weights, gptr, lips,
                                                      beta0, tol_abs, max_iter, max_inner,
                                                      searches)
                    total += it
            beta, res, it, conv = _solve_group_lq(*args, beta0, tol_abs, max_iter, max_inner,
                                                  searches)
            return beta, res, total + it, conv
        else:
            beta0 = np.zeros(p)
        return _solve_group_lq(*args, beta0, tol_abs, max_iter, max_inner, searches)


def _solve_group_lq(design, b, alpha, q, weights, gptr, lips, beta_init, tol_abs, max_iter,
                    max_inner, searches=_MAX_SEARCHES):
    """:func:`_solve_lq` with groups as units: the working-set loop from ``beta_init``, and at
    a fixed point a local search of group swap moves (:func:`lq_local_search`) on the
    working set, at most ``searches`` times; an accepted move is certified by going on with
    the loop."""
    n = design.n_samples
    depth = depth_of(q)
    n_groups = gptr.size - 1
    sizes = np.diff(gptr)
    beta = np.array(beta_init, dtype=np.float64)
    for g in np.flatnonzero(lips == 0):
        beta[gptr[g]:gptr[g + 1]] = 0.0
    free = np.flatnonzero(weights == 0)
    c_full = None
    ws = np.zeros(0, dtype=np.intp)
    ws_feats = np.zeros(0, dtype=np.intp)
    G_ws = np.zeros((0, 0))
    gram_form = not design.is_sparse
    op = None
    res = np.inf
    converged = False
    n_iter = 0
    n_search = 0
    moved_by_search = False
    searched = None  # (nonzero groups, working-set size) an accepted local search left
    for n_iter in range(1, max_iter + 1):
        grad = -design.rdot(b - design.dot(beta)) / n
        step = group_lq_prox_step(beta, grad, gptr, lips, weights, alpha, q)
        res = group_lq_residual(beta, step, gptr, lips)
        if c_full is None and gram_form:
            c_full = design.rdot(b) / n
        bn2 = np.add.reduceat(beta * beta, gptr[:-1])
        if res <= tol_abs:
            # as in _solve_lq: from the support an accepted search left, on the same working
            # set, a new search would repeat its last pass (which kept no swap)
            repeat = (searched is not None and ws.size == searched[1]
                      and np.array_equal(bn2 > 0, searched[0]))
            if n_search >= searches or not np.any(bn2[weights != 0] > 0) or repeat:
                converged = True
                break
            n_search += 1
            support = np.union1d(np.flatnonzero(bn2 > 0), free)
            missing = units_to_add(n_groups, ws, support, np.zeros(0, dtype=np.intp),
                                   np.zeros(0), 0)
            if missing.size:  # a warm start: its support is the working set
                ws, ws_feats, G_ws = _grow_group_ws(design, gptr, ws, ws_feats, G_ws, missing,
                                                    gram_form)
                op = None
            if op is None:
                op, ws_gptr, ws_weights, ws_lips = _group_ws_operator(
                    design, b, ws, ws_feats, G_ws, c_full, gram_form, sizes, weights, lips)
            beta_ws = beta[ws_feats].copy()
            accepted, _ = lq_local_search(op, float(alpha), float(q), beta_ws,
                                          (ws_gptr, ws_lips, ws_weights),
                                          _SEARCH_RTOL * np.sqrt((b @ b) / n),
                                          _SEARCH_SWEEPS, _SEARCH_MOVES)
            if not accepted:
                converged = True
                break
            beta[:] = 0.0
            beta[ws_feats] = beta_ws
            searched = (np.add.reduceat(beta * beta, gptr[:-1]) > 0, ws.size)
            moved_by_search = True
            continue  # certify the new point
        sn2 = np.add.reduceat(step * step, gptr[:-1])
        support = np.union1d(np.flatnonzero(bn2 > 0), free)
        moved = np.flatnonzero((bn2 == 0) & (sn2 > 0))
        # rank by the decrease bound of the group's step: L_g/2 ‖s_g‖² − ...: use the
        # step's length in the metric L_g (the majorised decrease is at least of that order)
        gain = lips[moved] * sn2[moved]
        new = units_to_add(n_groups, ws, support, moved, gain,
                           max(_GROUP_WS_START, support.size))
        if new.size:
            ws, ws_feats, G_ws = _grow_group_ws(design, gptr, ws, ws_feats, G_ws, new,
                                                gram_form)
            op = None
        elif n_iter > 1 and not moved_by_search:
            break
        moved_by_search = False
        if op is None:
            op, ws_gptr, ws_weights, ws_lips = _group_ws_operator(
                design, b, ws, ws_feats, G_ws, c_full, gram_form, sizes, weights, lips)
        beta_ws = beta[ws_feats].copy()
        solve_lq_ws(op, float(alpha), float(q), depth, beta_ws, max_inner, _SNAP_EVERY,
                    tol_abs, _LBFGS_MEMORY, _MAX_FINISH, (ws_gptr, ws_lips, ws_weights))
        beta[:] = 0.0
        beta[ws_feats] = beta_ws
    else:
        grad = -design.rdot(b - design.dot(beta)) / n
        step = group_lq_prox_step(beta, grad, gptr, lips, weights, alpha, q)
        res = group_lq_residual(beta, step, gptr, lips)
        converged = res <= tol_abs
    return beta, float(res), n_iter, converged


def _grow_group_ws(design, gptr, ws, ws_feats, G_ws, new, gram_form):
    """The group working set ``ws`` (features ``ws_feats``, Gram matrix ``G_ws`` of a dense
    design) grown by the groups ``new``."""
    new_feats = group_ranges(new, gptr)
    if gram_form:
        G_ws = _grow_gram(design, None, G_ws, ws_feats, new_feats)
    return np.concatenate([ws, new]), np.concatenate([ws_feats, new_feats]), G_ws


def _group_ws_operator(design, b, ws, ws_feats, G_ws, c_full, gram_form, sizes, weights,
                       lips):
    """The kernels' operator tuple of the groups ``ws`` (features ``ws_feats``), with their
    group pointers, weights and Lipschitz constants."""
    if gram_form:
        op = gram_operator(G_ws, c_full[ws_feats])
    else:
        op = sparse_operator(design, b, ws_feats)
    ws_gptr = np.concatenate([[0], np.cumsum(sizes[ws])]).astype(np.int64)
    return op, ws_gptr, np.ascontiguousarray(weights[ws]), np.ascontiguousarray(lips[ws])
