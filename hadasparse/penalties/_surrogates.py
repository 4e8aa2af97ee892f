"""The smooth Hadamard surrogates of the sparse penalties, as numba kernels: factor maps
``β(x)`` and the surrogate's value and gradient in the factors (the loss part through the
quadratic ``op`` of :mod:`hadasparse.losses._quadratic`, the ridge part here).

Factor layouts (``x`` a flat vector; k coordinates on the working set):

- ℓ1: ``x = [u, v]``, ``β = u ⊙ v``, ridge ``α/2 (‖u‖² + ‖v‖²)``; positive: ``x = u``,
  ``β = u ⊙ u``, ridge ``α ‖u‖²``.
- group ℓ2,1 (``group = (T, w, gptr, gid)``; T > 1 is the multi-task form ``G ⊗ I_T``):
  ``x = [ν (n_groups), ω (k)]``, ``β_j = ν_{g(j)} ω_j``, ridge ``Σ_g α w_g/2 (ν_g² + ‖ω_g‖²)``;
  positive (``group = (w, gptr, gid)``): ``β_j = ν_g² ω_j²``, ridge
  ``Σ_g α w_g/2 (ν_g⁴ + Σ_j ω_j⁴)``.
- ℓq, q = 2/k (``depth = k``): ``x = [u_1, …, u_k]``, ``β = u_1 ⊙ … ⊙ u_k``, ridge
  ``α/k Σ_d ‖u_d‖²``.
- group ℓ2,q (both): ``x = [ω (k), ν (n_groups × (k−1), group-major)]``,
  ``β_g = ν_{g,1} ⋯ ν_{g,k−1} ω_g``, ridge ``Σ_g α w_g/k (Σ_d ν_{g,d}² + ‖ω_g‖²)``.

:func:`surrogate_value_grad` and :func:`surrogate_hess_diag` dispatch on the lengths of two
tuple arguments: ``group`` (``()`` for ℓ1 and ℓq, ``(T, w, gptr, gid)``, or ``(w, gptr, gid)``
for the positive group lasso) and ``depth`` (``()``, or ``(k,)`` for ℓq). numba replaces
``len`` of a tuple argument by a constant and prunes the other branches before it compiles
a call, so every penalty has its own compiled (and disk-cached) specialisation of the
solvers above, with no other penalty's code in it. (A test such as ``group is None`` would
not do: it is only pruned when the argument *is* None, and with a tuple both branches
compile; ``isinstance`` prunes only branches that fail to type.)

The per-penalty value/gradient kernels (``l1_surrogate_value_grad``, …) have one call site
each, in :func:`surrogate_value_grad`, and are inlined there at numba-IR level
(``inline='always'``): as functions of their own each was compiled, and then optimised and
emitted once more inside every caller's module (numba links a callee's code into its
caller's). The dispatchers themselves cannot
be inlined: IR inlining happens before the ``len`` branches are pruned.
"""

import numpy as np
from numba import njit

from ..losses._quadratic import op_grad, quad_grad


@njit(cache=True)
def factors_to_beta(x, k, positive):
    beta = np.empty(k)
    if positive:
        for j in range(k):
            beta[j] = x[j] * x[j]
    else:
        for j in range(k):
            beta[j] = x[j] * x[k + j]
    return beta


@njit(cache=True, inline='always')
def l1_surrogate_value_grad(op, alpha, x, k, positive, grad):
    """Value of the lasso surrogate at the factors ``x``; its gradient is written to ``grad``."""
    beta = factors_to_beta(x, k, positive)
    value, resid = op_grad(op, beta)  # resid: gradient of the quadratic part in beta
    # (the ridge's sums of squares by BLAS dot products, as the L-BFGS loop's: the value
    # decides Armijo's test, and its rounding the path)
    if positive:
        u = x[:k]
        value += alpha * (u @ u)
        for j in range(k):
            grad[j] = 2.0 * x[j] * (resid[j] + alpha)
    else:
        u = x[:k]
        v = x[k:]
        value += 0.5 * alpha * (u @ u + v @ v)
        for j in range(k):
            grad[j] = resid[j] * x[k + j] + alpha * x[j]
            grad[k + j] = resid[j] * x[j] + alpha * x[k + j]
    return value


@njit(cache=True)
def group_factors_to_beta(x, gid, ng):
    k = gid.shape[0]
    beta = np.empty(k)
    for j in range(k):
        beta[j] = x[gid[j]] * x[ng + j]
    return beta


@njit(cache=True, inline='always')
def group_surrogate_value_grad(op, T, alpha, w, gptr, gid, x, grad):
    """Value of the group surrogate at the factors ``x``; its gradient goes to ``grad``."""
    ng = w.shape[0]
    beta = group_factors_to_beta(x, gid, ng)
    value, r = quad_grad(op, T, beta)  # r: gradient of the quadratic part in beta
    for g in range(ng):
        nu = x[g]
        aw = alpha * w[g]
        acc = 0.0
        sq = 0.0
        for j in range(gptr[g], gptr[g + 1]):
            om = x[ng + j]
            acc += r[j] * om
            sq += om * om
            grad[ng + j] = r[j] * nu + aw * om
        if w[g] > 0.0:
            grad[g] = acc + aw * nu
            value += 0.5 * aw * (nu * nu + sq)
        else:
            grad[g] = 0.0
    return value


@njit(cache=True)
def pos_factors_to_beta(x, gid, ng):
    k = gid.shape[0]
    beta = np.empty(k)
    for j in range(k):
        beta[j] = (x[gid[j]] * x[ng + j]) ** 2
    return beta


@njit(cache=True, inline='always')
def pos_surrogate_value_grad(op, alpha, w, gptr, gid, x, grad):
    """Value and gradient (into ``grad``) of the positive surrogate ``β_j = s_g² u_j²``."""
    ng = w.shape[0]
    beta = pos_factors_to_beta(x, gid, ng)
    value, r = op_grad(op, beta)
    for g in range(ng):
        s = x[g]
        aw = alpha * w[g]
        acc = 0.0
        q = 0.0
        for j in range(gptr[g], gptr[g + 1]):
            u = x[ng + j]
            u2 = u * u
            acc += r[j] * u2
            q += u2 * u2
            grad[ng + j] = 2.0 * u * (r[j] * s * s + aw * u2)
        grad[g] = 2.0 * s * (acc + aw * s * s)
        value += 0.5 * aw * (s ** 4 + q)
    return value


@njit(cache=True)
def lq_factors_to_beta(x, m, depth):
    beta = x[:m].copy()
    for d in range(1, depth):
        beta *= x[d * m:(d + 1) * m]
    return beta


@njit(cache=True)
def _others(x, m, depth, d, j):
    """``∏_{e≠d} u_{e,j}``."""
    p = 1.0
    for e in range(depth):
        if e != d:
            p *= x[e * m + j]
    return p


@njit(cache=True, inline='always')
def lq_surrogate_value_grad(op, alpha, x, m, depth, grad):
    """Surrogate value at the factors ``x``; its gradient is written to ``grad``."""
    beta = lq_factors_to_beta(x, m, depth)
    value, g = op_grad(op, beta)
    ridge = alpha / depth
    value += ridge * (x @ x)
    for d in range(depth):
        for j in range(m):
            grad[d * m + j] = g[j] * _others(x, m, depth, d, j) + 2.0 * ridge * x[d * m + j]
    return value


@njit(cache=True)
def _group_products(x, m, n_groups, depth):
    prod = np.ones(n_groups)
    for g in range(n_groups):
        base = m + g * (depth - 1)
        for d in range(depth - 1):
            prod[g] *= x[base + d]
    return prod


@njit(cache=True)
def group_lq_factors_to_beta(x, m, gptr, depth):
    n_groups = gptr.shape[0] - 1
    prod = _group_products(x, m, n_groups, depth)
    beta = np.empty(m)
    for g in range(n_groups):
        for j in range(gptr[g], gptr[g + 1]):
            beta[j] = x[j] * prod[g]
    return beta


@njit(cache=True)
def _nu_others(x, base, depth, d):
    p = 1.0
    for e in range(depth - 1):
        if e != d:
            p *= x[base + e]
    return p


@njit(cache=True, inline='always')
def group_lq_surrogate_value_grad(op, alpha, x, m, gptr, weights, depth, grad):
    n_groups = gptr.shape[0] - 1
    beta = group_lq_factors_to_beta(x, m, gptr, depth)
    value, gb = op_grad(op, beta)
    prod = _group_products(x, m, n_groups, depth)
    for g in range(n_groups):
        s, e = gptr[g], gptr[g + 1]
        base = m + g * (depth - 1)
        ridge = alpha * weights[g] / depth
        inner = 0.0
        for j in range(s, e):
            grad[j] = prod[g] * gb[j] + 2.0 * ridge * x[j]
            inner += x[j] * gb[j]
            value += ridge * x[j] * x[j]
        for d in range(depth - 1):
            if weights[g] == 0.0:
                grad[base + d] = 0.0
            else:
                grad[base + d] = _nu_others(x, base, depth, d) * inner \
                    + 2.0 * ridge * x[base + d]
                value += ridge * x[base + d] * x[base + d]
    return value


@njit(cache=True)
def surrogate_value_grad(op, alpha, x, k, positive, group, depth, grad):
    """Value of the penalty's surrogate (loss + ridge) at the factors ``x``; its gradient is
    written to ``grad``. ``group``: ``()``, ``(T, w, gptr, gid)`` or ``(w, gptr, gid)``
    (positive); ``depth``: ``()`` or ``(k,)``, the ℓq depth (module docstring)."""
    if len(group) == 0:
        if len(depth) == 0:
            return l1_surrogate_value_grad(op, alpha, x, k, positive, grad)
        return lq_surrogate_value_grad(op, alpha, x, k, depth[0], grad)
    if len(group) == 3:  # the positive group lasso: (w, gptr, gid)
        w, gptr, gid = group
        return pos_surrogate_value_grad(op, alpha, w, gptr, gid, x, grad)
    T, w, gptr, gid = group
    if len(depth) == 0:
        return group_surrogate_value_grad(op, T, alpha, w, gptr, gid, x, grad)
    return group_lq_surrogate_value_grad(op, alpha, x, k, gptr, w, depth[0], grad)


@njit(cache=True)
def surrogate_hess_diag(alpha, diag, x, k, positive, group, depth, hess):
    """The diagonal of the surrogate's Hessian without the residual cross terms (the
    quadratic's diagonal ``diag`` times the other factors squared, plus the ridge's
    curvature), written to ``hess``: the initial inverse Hessian of L-BFGS, which follows each
    factor's own scale."""
    if len(group) == 0:
        if len(depth) == 0:
            for j in range(k):
                if positive:
                    hess[j] = 2.0 * (2.0 * diag[j] * x[j] * x[j] + alpha)
                else:
                    hess[j] = diag[j] * x[k + j] * x[k + j] + alpha
                    hess[k + j] = diag[j] * x[j] * x[j] + alpha
            return
        dk = depth[0]
        ridge2 = 2.0 * alpha / dk
        for d in range(dk):
            for j in range(k):
                o = _others(x, k, dk, d, j)
                hess[d * k + j] = diag[j] * o * o + ridge2
        return
    # (T, w, gptr, gid), or (w, gptr, gid) for the positive group lasso (len(group) == 3,
    # a constant to numba: each case compiles only its own formulas)
    w, gptr = group[-3], group[-2]
    if len(depth) == 0:
        ng = w.shape[0]
        for g in range(ng):
            aw = alpha * w[g]
            nu = x[g]
            acc = 0.0
            for j in range(gptr[g], gptr[g + 1]):
                om = x[ng + j]
                if len(group) == 3:
                    # Gauss-Newton diagonal of β = s²u² plus the quartic's curvature,
                    # floored at the signed surrogate's α w (the quartic is flat at 0)
                    acc += diag[j] * 4.0 * nu * nu * om ** 4
                    hess[ng + j] = (diag[j] * 4.0 * nu ** 4 * om * om
                                    + aw * (6.0 * om * om + 1.0))
                else:
                    acc += diag[j] * om * om
                    hess[ng + j] = diag[j] * nu * nu + aw
            if len(group) == 3:
                hess[g] = acc + aw * (6.0 * nu * nu + 1.0)
            else:
                hess[g] = acc + aw
        return
    dk = depth[0]
    n_groups = gptr.shape[0] - 1
    prod = _group_products(x, k, n_groups, dk)
    for g in range(n_groups):
        s, e = gptr[g], gptr[g + 1]
        ridge2 = 2.0 * alpha * w[g] / dk
        wsum = 0.0
        for j in range(s, e):
            hess[j] = diag[j] * prod[g] * prod[g] + ridge2 + (1e-12 if ridge2 == 0.0 else 0.0)
            wsum += diag[j] * x[j] * x[j]
        base = k + g * (dk - 1)
        for d in range(dk - 1):
            o = _nu_others(x, base, dk, d)
            hess[base + d] = o * o * wsum + ridge2
