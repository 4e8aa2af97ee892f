"""The one L-BFGS loop with Armijo backtracking on the Hadamard factors, for every penalty.

The penalty is chosen by the lengths of two tuple arguments, which numba resolves at compile
time, so each penalty compiles to its own specialisation, with no other penalty's code, and
caches on disk: ``group`` is ``()``, ``(T, w, gptr, gid)`` or, for the positive group
lasso, ``(w, gptr, gid)``, and ``depth`` is ``()`` or ``(k,)``, the depth of the ℓq
factorisation (see :mod:`hadasparse.penalties._surrogates`). The loss is the quadratic of
:mod:`hadasparse.losses._quadratic`.
"""

import numpy as np
from numba import njit

from ..penalties._surrogates import surrogate_hess_diag, surrogate_value_grad

# Curvature pairs with sᵀy below this fraction of ‖s‖‖y‖ are not stored (the surrogate is a
# quartic, so L-BFGS only keeps pairs that carry positive curvature).
_CURVATURE_EPS = 1e-10


@njit(cache=True, inline='always')
def lbfgs_direction(grad, hess_diag, S, Y, rho, state):
    """Quasi-Newton direction ``−H ∇`` by the L-BFGS two-loop recursion over the stored
    curvature pairs (``S``, ``Y``, ``rho``; ``state = [head, n_stored]``), with the initial
    inverse Hessian ``diag(1 / hess_diag)``: an approximate diagonal of the Hessian that
    follows each variable's own scale (a multiple of the identity cannot, and stalls at small
    α). Falls back to the diagonally scaled ``−∇``, forgetting the pairs, when that is not
    a descent direction. Returns ``(direction, slope)`` with ``slope = ∇ · direction < 0``.

    Shared by every surrogate's L-BFGS loop: only the value/gradient and ``hess_diag`` differ.
    """
    memory = S.shape[0]
    head = state[0]
    n_stored = state[1]
    alph = np.zeros(memory)
    h0 = np.empty(grad.shape[0])
    for j in range(h0.shape[0]):
        h0[j] = hess_diag[j] if hess_diag[j] > 0.0 else 1.0
    q = grad.copy()
    for ii in range(n_stored):
        i = (head - 1 - ii) % memory
        alph[i] = rho[i] * (S[i] @ q)
        q -= alph[i] * Y[i]
    q /= h0
    for ii in range(n_stored - 1, -1, -1):
        i = (head - 1 - ii) % memory
        b = rho[i] * (Y[i] @ q)
        q += (alph[i] - b) * S[i]
    d = -q
    slope = grad @ d
    if slope >= 0.0:
        d = -grad / h0
        slope = grad @ d
        state[1] = 0
    return d, slope


@njit(cache=True, inline='always')
def lbfgs_store(s, yv, S, Y, rho, state):
    """Keep the curvature pair ``(s, y)`` if it carries positive curvature (the surrogates are
    not convex, so pairs with ``sᵀy ≤ 0`` would break the quasi-Newton matrix)."""
    sy = s @ yv
    if sy > _CURVATURE_EPS * np.sqrt((s @ s) * (yv @ yv)):
        head = state[0]
        for j in range(s.shape[0]):
            S[head, j] = s[j]
            Y[head, j] = yv[j]
        rho[head] = 1.0 / sy
        state[0] = (head + 1) % S.shape[0]
        state[1] = min(state[1] + 1, S.shape[0])


@njit(cache=True)
def lbfgs_factors(op, alpha, diag, x, k, positive, group, depth, max_iter, gtol, ftol, S, Y,
                  rho, state):
    """L-BFGS with Armijo backtracking on a penalty's surrogate (``group``, ``depth``: see
    the module docstring); ``x`` is updated in place.

    The curvature pairs ``S``, ``Y``, ``rho`` and ``state = [head, n_stored]`` persist between
    calls, so the solve can be interrupted for snaps without losing its memory. The initial
    inverse Hessian is the surrogate's diagonal without the residual cross terms
    (:func:`~hadasparse.penalties._surrogates.surrogate_hess_diag`). Stops when the largest
    gradient entry is at most ``gtol``, when no step along the direction decreases the
    surrogate, when a step decreased it by at most ``ftol·|f|``
    (the surrogate is then at its rounding: further steps only spin in the line search; 0
    turns this test off), or after ``max_iter`` iterations; returns the number of
    iterations done.
    """
    nx = x.shape[0]
    grad = np.empty(nx)
    grad_new = np.empty(nx)
    hess = np.ones(nx)
    f = surrogate_value_grad(op, alpha, x, k, positive, group, depth, grad)
    it = 0
    x_new = np.empty(nx)
    while it < max_iter:
        gmax = 0.0
        for j in range(nx):
            gmax = max(gmax, abs(grad[j]))
        if gmax <= gtol:
            break
        surrogate_hess_diag(alpha, diag, x, k, positive, group, depth, hess)
        d, slope = lbfgs_direction(grad, hess, S, Y, rho, state)
        step = 1.0
        accepted = False
        f_new = f
        for _ in range(40):
            for j in range(nx):
                x_new[j] = x[j] + step * d[j]
            f_new = surrogate_value_grad(op, alpha, x_new, k, positive, group, depth, grad_new)
            if f_new <= f + 1e-4 * step * slope:
                accepted = True
                break
            step *= 0.5
        it += 1
        if not accepted:
            break
        lbfgs_store(x_new - x, grad_new - grad, S, Y, rho, state)
        for j in range(nx):
            x[j] = x_new[j]
            grad[j] = grad_new[j]
        stalled = ftol > 0.0 and f - f_new <= ftol * abs(f)
        f = f_new
        if stalled:
            break
    return it
