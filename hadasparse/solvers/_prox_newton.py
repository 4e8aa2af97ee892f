"""Proximal Newton (IRLS) for the logistic and multinomial losses with sparse penalties.

The problem is sklearn's scaling of a penalised logistic regression::

    min_{W, b}  Σ_i s_i ℓ(y_i, x_iᵀW + b) + λ P(W)          (λ = 1 / C)

with ``ℓ`` the logistic loss (labels ±1, one column) or the multinomial loss (one-hot rows,
K columns), and ``P`` separable over the K columns (ℓ1, elastic net, group ℓ2,1) or coupling
them by features (``Σ_j ‖W_j‖₂``, the "row" penalty).

Each outer step replaces the loss by a quadratic model at the current predictor ``Z``: sample
weights ``ω_ik = s_i h_ik`` and working response ``T = Z − ∂ℓ/h`` (``h`` the diagonal of the
loss Hessian). The model of column k is then the weighted lasso (group lasso, ...)::

    1/2 Σ_i ω_ik (T_ik − x_iᵀw_k − b_k)² + λ P(w_k)

which, divided by ``Σ_i ω_ik``, is exactly what the certified working-set solvers minimise
(weights renormalised to sum to n, penalty ``λ / Σ_i ω_ik``): the Hadamard factor machinery,
snap to exact zeros and polish are theirs. An ℓ1 / elastic-net model of at most
``_DIRECT_MAX`` features goes to the lasso kernel on its weighted Gram matrix directly (the
working-set solvers' fixed costs dominate such a model); the kernel certifies its KKT
conditions, else (or after a stalled step) the working-set solvers take it. With
``working_set`` (:func:`prox_newton_ws`), each step moves only the support and the worst
violators of the dual constraint, chosen afresh from the gradient the gap was computed with. The model's minimiser gives a direction for a
backtracking (Armijo) line search on the true objective; the intercept is then re-optimised
exactly (a few Newton steps in 1 or K dimensions), so that the dual point below satisfies the
intercept's constraint. Unpenalised columns (group penalties with groups of weight 0) are
re-optimised with it, jointly (:func:`refit_unpenalised`): their dual constraint ``X_uᵀU = 0``
is then met too.

Multinomial: the softmax Hessian of a sample is ``diag(p) − ppᵀ``, which couples the classes.
Its diagonal ``p_k (1 − p_k)`` gives K independent weighted models (glmnet's choice, solved
here for all classes at once rather than cyclically); any positive metric gives a descent
direction of the composite objective, so the joint line search keeps the iteration monotone.
The row penalty couples the classes by features and needs one set of weights for all of them
(the multi-task lasso): ``max_k p_k(1 − p_k)`` per sample. That model leaves out the classes'
coupling, so its steps converge linearly; near the solution, Newton's method with the exact
Hessian on the support (where the penalty is smooth, :func:`_support_polish`) finishes.

Certificate (convex penalties): the dual point is the scaled generalised residual
``U = −κ G`` with ``G_ik = s_i ∂ℓ/∂z_ik`` and ``κ ≤ 1`` the largest scaling that makes
``XᵀU`` dual-feasible for ``P``; the duality gap is ::

    Σ_i s_i ℓ(y_i, z_i) + λ P(W) + Σ_i s_i ℓ*(y_i, κ ∂ℓ/∂z_i) + (λP)*(κ XᵀG)

with ``ℓ*`` the losses' Fenchel conjugates (:mod:`hadasparse.losses`). The fit stops when the
gap is at most ``tol`` times the objective of the intercept-only model.
"""

import warnings

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit, log_expit, softmax
from sklearn.exceptions import ConvergenceWarning

from .._design import TaskDesign, preprocess
from ._lq import solve_group_lq, solve_lq
from ._lasso_kernels import solve_lasso_ws
from ._working_set import (
    _LBFGS_MEMORY,
    _MAX_POLISH,
    _SNAP_EVERY,
    _grow_factor,
    group_ranges,
    single_threaded_blas,
    solve_group_lasso,
    solve_lasso,
    solve_multitask_lasso,
)
from ..losses._quadratic import gram_operator
from ..penalties._prox import lq_prox_array, radial_lq_prox_groups
from ..losses import Logistic, Multinomial

_INNER_TOL_MAX = 1e-3  # loosest relative inner gap, early on
_INNER_TOL_MIN = 1e-16  # the inner solvers certify tighter than the outer gap sees
_ARMIJO = 1e-4
_INNER_FRACTION = 1e-2  # inner gap / outer gap, at first
_INNER_FRACTION_MIN = 1e-12
_MAX_STALLS = 5  # steps in the rounding regime without a better gap before giving up
_MAX_FLAT = 25  # any steps without a better gap before giving up
_WS_MIN = 100  # fewer features: no working set
_WS_START = 20  # fewest violators added to a working set
_WS_ADD = 1.0  # violators added to a step's working set, per feature of the support
_DENSE_BLOCK_FACTOR = 2.0
_ANDERSON = 5  # iterates combined by an Anderson extrapolation
_MAX_BACKTRACK = 40
_ROUNDING = 1e-13  # relative size of a model decrease that is rounding
_DIRECT_MAX = 400  # models of at most this many features: the kernel on their Gram
_DIRECT_RTOL = 1e-10  # its KKT tolerance (relative to α), as the working-set loop's first
_NO_FREE = np.zeros(0, dtype=np.intp)  # a penalty without unpenalised columns
_REFIT_MAX = 50  # Newton steps of a refit of the unpenalised block
_REFIT_ROUNDING = 1e-17  # a Newton decrement below this times the loss: the refit's last step
_REFIT_QUADRATIC = 1e-10  # below this times the loss: full Newton steps, no line search
_POLISH_MAX = 1000  # unknowns (support rows × classes) of a Newton polish on the support
_POLISH_FLOPS = 2e9  # and n × unknowns², its Hessian's cost
_POLISH_STEPS = 8  # Newton steps of a polish; on the solution's support a few suffice
_POLISH_GAP = 1e-4  # a polish is tried below this gap / objective (the support has settled)


# --------------------------------------------------------------------------------------
# Penalties: value, the inner solve of one weighted squared-error model, the dual scaling
# --------------------------------------------------------------------------------------

class L1Penalty:
    """``λ (a ‖W‖₁ + (1 − a)/2 ‖W‖²_F)`` entrywise (``a = l1_ratio``; 1 is the lasso)."""

    couples_classes = False
    free = _NO_FREE  # the unpenalised columns (of the group penalties)
    feature_working_set = True  # separable over features: restricted problems are exact

    def __init__(self, lam, l1_ratio=1.0):
        self.lam, self.l1_ratio = float(lam), float(l1_ratio)

    def value(self, W):
        a = self.l1_ratio
        out = a * np.abs(W).sum()
        if a < 1.0:
            out += 0.5 * (1.0 - a) * float(np.sum(W * W))
        return self.lam * out

    def solve(self, design, b, scale, beta0, tol, max_iter):
        """Minimise ``1/(2n)‖b − Aβ‖² + scale · λ P(β)`` (one column)."""
        a = self.l1_ratio
        alpha1, alpha2 = scale * self.lam * a, scale * self.lam * (1.0 - a)
        return solve_lasso(design, b, alpha1, beta0, tol=tol, max_iter=max_iter, l2=alpha2)[0]

    def solve_gram(self, G, c, n, total, beta0, max_inner):
        """The model ``1/2 βᵀGβ − cᵀβ + λ P(β) / total`` (``G``, ``c`` of the centred,
        weighted design over n samples) by the lasso kernel on all its features at once: no
        working set, design object or gap of the inner solver, whose fixed costs dominate a
        small model. ``(beta, converged)``; converged means the kernel's polish verified the
        KKT conditions on every feature to ``_DIRECT_RTOL α``. Called inside
        :func:`prox_newton`'s single-threaded BLAS."""
        a = self.l1_ratio
        alpha, l2 = self.lam * a / total, self.lam * (1.0 - a) / total
        k = c.size
        beta = np.array(beta0, dtype=np.float64)
        max_support = n if l2 == 0.0 else k
        # (k <= _DIRECT_MAX: the factor's k×k is within any memory budget; in Gram
        # form the kernel always polishes with it, so no gap target for coordinate descent)
        L, act, pos, fstate = _grow_factor(None, k, max_support, k)
        converged, _ = solve_lasso_ws(gram_operator(G, c, l2), alpha, beta, False, max_inner,
                                      _SNAP_EVERY, _MAX_POLISH, _DIRECT_RTOL, _LBFGS_MEMORY,
                                      max_support, L, act, pos, fstate, 0.0, 0.0)
        return beta, converged

    def lam_max(self, V):
        """Smallest λ with ``W = 0`` optimal, for ``V = XᵀG`` at the intercept-only model
        (the ℓ1 part alone zeroes: ``max|V| / l1_ratio``)."""
        return float(np.max(np.abs(V))) / max(self.l1_ratio, 1e-3) if V.size else 0.0

    def gauge(self, W):
        """The shift ``c_j`` of every row minimising ``P(W_j − c_j 1)`` (the softmax loss does
        not see it): the median for ℓ1, found among the breakpoints and the stationary points
        of the pieces in between for the elastic net (the one nearest 0 on ties)."""
        a = self.l1_ratio
        Ws = np.sort(W, axis=1)
        K = W.shape[1]
        cands = [Ws]
        if a < 1.0:  # stationary point of each quadratic piece, clipped to it
            lo = np.concatenate([np.full((W.shape[0], 1), -np.inf), Ws], axis=1)
            hi = np.concatenate([Ws, np.full((W.shape[0], 1), np.inf)], axis=1)
            m = np.arange(K + 1)
            c = (W.sum(axis=1, keepdims=True) - a * (2 * m - K) / (1.0 - a)) / K
            cands.append(np.clip(c, lo, hi))
        cands.append(np.zeros((W.shape[0], 1)))
        C = np.concatenate(cands, axis=1)  # p × candidates
        D = W[:, None, :] - C[:, :, None]
        val = a * np.abs(D).sum(axis=2) + 0.5 * (1.0 - a) * (D * D).sum(axis=2)
        best = val.min(axis=1, keepdims=True)
        ties = val <= best + 1e-15 * (1.0 + np.abs(best))
        return np.where(ties, C, np.inf)[np.arange(W.shape[0]),
                                         np.argmin(np.where(ties, np.abs(C), np.inf), axis=1)]

    def dual(self, V):
        """``(κ, (λP)*(κ V))`` for ``V = XᵀG``."""
        lam, a = self.lam, self.l1_ratio
        if a < 1.0:  # the conjugate is finite everywhere: no scaling
            excess = np.maximum(np.abs(V) - lam * a, 0.0)
            return 1.0, float(np.sum(excess * excess)) / (2.0 * lam * (1.0 - a))
        vmax = float(np.max(np.abs(V))) if V.size else 0.0
        return (1.0 if vmax <= lam else lam / vmax), 0.0


def _free_columns(weights, gptr):
    """The columns of the groups of weight 0 (unpenalised)."""
    if weights is None:
        return _NO_FREE
    return group_ranges(np.flatnonzero(weights == 0), gptr).astype(np.intp)


class GroupPenalty:
    """``λ Σ_k Σ_g w_g ‖W_{g,k}‖₂`` for contiguous groups ``gptr``; a group of ``w_g = 0`` is
    unpenalised: its columns (``free``) are re-optimised with the intercept after every step,
    so the dual point is orthogonal to them as the dual constraint asks."""

    couples_classes = False

    def __init__(self, lam, weights, gptr):
        self.lam = float(lam)
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self.gptr = np.ascontiguousarray(gptr, dtype=np.int64)
        self.penalised = self.weights > 0
        self.free = _free_columns(self.weights, self.gptr)

    def _norms(self, W):
        return np.sqrt(np.add.reduceat(W * W, self.gptr[:-1], axis=0))

    def value(self, W):
        return self.lam * float(self.weights @ self._norms(W).sum(axis=1))

    gauge = None  # the shift couples the groups: not taken

    def _ratios(self, V):
        """``‖V_{g,k}‖ / w_g`` of the penalised groups (the unpenalised ones' must be 0)."""
        pen = self.penalised
        return self._norms(V)[pen] / self.weights[pen, None]

    def lam_max(self, V):
        """Smallest λ with every penalised group 0, for ``V = XᵀG`` at the model of the
        unpenalised columns and intercept alone."""
        ratio = self._ratios(V)
        return float(ratio.max()) if ratio.size else 0.0

    def solve(self, design, b, scale, beta0, tol, max_iter):
        return solve_group_lasso(design, b, scale * self.lam, self.weights, self.gptr, beta0,
                                 tol=tol, max_iter=max_iter)[0]

    def dual(self, V):
        ratio = self._ratios(V) / self.lam
        rmax = float(ratio.max()) if ratio.size else 0.0
        return (1.0 if rmax <= 1.0 else 1.0 / rmax), 0.0


class RowPenalty:
    """``λ Σ_j ‖W_j‖₂`` over the rows (features) of the p×K matrix: a feature is used by all
    classes or by none."""

    couples_classes = True
    feature_working_set = True
    free = _NO_FREE

    def __init__(self, lam):
        self.lam = float(lam)

    def value(self, W):
        return self.lam * float(np.sqrt((W * W).sum(axis=1)).sum())

    def gauge(self, W):
        return W.mean(axis=1)

    def lam_max(self, V):
        return float(np.sqrt((V * V).sum(axis=1)).max()) if V.size else 0.0

    def smooth_derivatives(self, W):
        """Gradient (m×K) and Hessian (mK × mK, rows flattened row-major) of the penalty on
        rows that are all nonzero, where it is smooth: ``λ w/‖w‖`` and
        ``λ (I − uuᵀ)/‖w‖`` (``u = w/‖w‖``) per row."""
        m, K = W.shape
        norms = np.sqrt((W * W).sum(axis=1))
        U = W / norms[:, None]
        H = np.zeros((m, K, m, K))
        for j in range(m):
            H[j, :, j, :] = self.lam / norms[j] * (np.eye(K) - np.outer(U[j], U[j]))
        return self.lam * U, H.reshape(m * K, m * K)

    def solve(self, design, B, scale, W0, tol, max_iter):
        return solve_multitask_lasso(TaskDesign(design, B.shape[1]), B, scale * self.lam, W0,
                                     tol=tol, max_iter=max_iter)[0]

    def dual(self, V):
        rmax = float(np.sqrt((V * V).sum(axis=1)).max()) / self.lam if V.size else 0.0
        return (1.0 if rmax <= 1.0 else 1.0 / rmax), 0.0


class LqPenalty:
    """``λ Σ |W_jk|^q`` or, with groups, ``λ Σ_k Σ_g w_g ‖W_{g,k}‖₂^q`` (``q = 2/k ≤ 1``):
    non-convex, so there is no duality gap; the certificate is the fixed-point residual of
    the proximal-gradient map with the loss's curvature bound as step (:meth:`residual`)."""

    couples_classes = False
    gauge = None

    def __init__(self, lam, q, weights=None, gptr=None):
        self.lam, self.q = float(lam), float(q)
        self.weights = None if weights is None else np.ascontiguousarray(weights, np.float64)
        self.gptr = None if gptr is None else np.ascontiguousarray(gptr, dtype=np.int64)
        self.free = _free_columns(self.weights, self.gptr)  # groups of weight 0

    def _norms(self, W):
        return np.sqrt(np.add.reduceat(W * W, self.gptr[:-1], axis=0))

    def value(self, W):
        if self.gptr is None:
            return self.lam * float(np.sum(np.abs(W) ** self.q))
        return self.lam * float(self.weights @ (self._norms(W) ** self.q).sum(axis=1))

    def solve(self, design, b, scale, beta0, tol, max_iter):
        if self.gptr is None:
            return solve_lq(design, b, scale * self.lam, self.q, beta0, tol=tol,
                            max_iter=max_iter)[0]
        return solve_group_lq(design, b, scale * self.lam, self.q, self.weights, self.gptr,
                              beta0, tol=tol, max_iter=max_iter)[0]

    def curvature(self, X, s, c):
        """Step sizes: ``c λ_max(X_gᵀ S X_g)`` per group (per feature without groups), ``c``
        the bound of the loss's second derivative (1/4 logistic, 1/2 softmax)."""
        sq = np.asarray((X.multiply(X) if sparse.issparse(X) else X * X).T @ s).ravel()
        if self.gptr is None:
            return c * sq
        lips = np.empty(self.gptr.size - 1)
        for g in range(lips.size):
            lo, hi = self.gptr[g], self.gptr[g + 1]
            if hi - lo == 1:
                lips[g] = sq[lo]
                continue
            Xg = X[:, lo:hi]
            Gg = (Xg.T @ Xg.multiply(s[:, None])).toarray() if sparse.issparse(Xg) else (
                Xg.T @ (Xg * s[:, None]))
            lips[g] = float(np.linalg.eigvalsh(Gg)[-1])
        return c * lips

    def residual(self, W, grad, lips, total_weight):
        """``max √(L/Σs) ‖W − T(W)‖`` over features (groups) and classes, ``T`` the proximal
        gradient step with steps ``1/L``: the largest root-mean-square change of the
        predictor (per unit sample weight) that one coordinate's (group's) step would
        make; 0 exactly at a fixed point."""
        res = 0.0
        for k in range(W.shape[1]):
            w, g = np.ascontiguousarray(W[:, k]), grad[:, k]
            if self.gptr is None:
                ok = lips > 0
                step = np.zeros_like(w)
                z = w[ok] - g[ok] / lips[ok]
                step[ok] = lq_prox_array(z, self.lam / lips[ok], self.q)
                d = np.sqrt(lips / total_weight) * np.abs(w - step)
            else:
                safe = np.where(lips > 0, lips, 1.0)
                z = w - g / np.repeat(safe, np.diff(self.gptr))
                step = radial_lq_prox_groups(z, np.arange(w.size), self.gptr,
                                             self.lam * self.weights / safe, self.q)
                diff = np.sqrt(np.add.reduceat((w - step) ** 2, self.gptr[:-1]))
                d = np.sqrt(lips / total_weight) * diff
            res = max(res, float(d.max()) if d.size else 0.0)
        return res

    def inner_tol(self, target, total_weight, b, n):
        """The lq solvers stop at residual ``tol ‖b‖/√n``; ``target`` is in the units of
        :meth:`residual`."""
        scale = np.sqrt(float(np.sum(b * b)) / n)
        if scale <= 0.0:
            return _INNER_TOL_MAX
        return float(np.clip(0.1 * target / scale, _INNER_TOL_MIN, _INNER_TOL_MAX))


# --------------------------------------------------------------------------------------
# Losses on the n×K predictor (K = 1: logistic with labels ±1)
# --------------------------------------------------------------------------------------

class _Model:
    """The data term ``Σ_i s_i ℓ(y_i, z_i)`` on an n×K predictor."""

    def __init__(self, Y, s):
        self.Y, self.s = Y, s
        self.binary = Y.shape[1] == 1
        self.pos = s > 0

    def value(self, Z):
        if self.binary:
            return float(self.s @ -log_expit(self.Y[:, 0] * Z[:, 0]))
        return float(self.s @ Multinomial.value(self.Y, Z))

    def gradient(self, Z):
        """``∂ℓ/∂z`` (unweighted), n×K."""
        if self.binary:
            return Logistic.gradient(self.Y[:, 0], Z[:, 0])[:, None]
        return Multinomial.gradient(self.Y, Z)

    def newton(self, Z, common):
        """Weights ``h`` (n×K, or n×1 when ``common``) and working residual ``−g/h``."""
        if self.binary:
            y, z = self.Y[:, 0], Z[:, 0]
            h = Logistic.hessian(y, z)
            # −g/h = y (1 + exp(−y z)) without the 0/0 of two underflows
            r = y * (1.0 + np.exp(np.minimum(-y * z, 700.0)))
            return h[:, None], r[:, None]
        P = softmax(Z, axis=1)
        h = P * (1.0 - P)
        if common:
            c = h.max(axis=1, keepdims=True)
            return c, (self.Y - P) / np.maximum(c, 1e-300)
        # (y − p)/(p(1 − p)) is 1/p for the true class and −1/(1 − p) for the others
        with np.errstate(divide="ignore"):
            r = np.where(self.Y > 0, 1.0 / P, -1.0 / (1.0 - P))
        return h, np.where(np.isfinite(r), r, 0.0)

    def conjugate(self, Z, kappa):
        """``Σ_i s_i ℓ*(y_i, κ ∂ℓ/∂z_i)``."""
        s, pos = self.s, self.pos
        if self.binary:
            y = self.Y[pos, 0]
            t = kappa * expit(-y * Z[pos, 0])  # ∈ [0, 1]: the conjugate's domain
            return float(s[pos] @ Logistic.conjugate(y, -y * t))
        G = Multinomial.gradient(self.Y[pos], Z[pos])
        return float(s[pos] @ Multinomial.conjugate(self.Y[pos], kappa * G))

    def optimal_intercept(self, Z, b):
        """The intercept ``b`` (K) minimising the loss with ``Z − b`` fixed: the refit of
        :meth:`optimal_block` on the block of the ones column; returns the new ``Z`` and
        ``b``."""
        Z, Theta = self.optimal_block(np.ones((Z.shape[0], 1)), Z, b[None, :])
        return Z, Theta[0]

    def block_hessian(self, A, Z):
        """The loss's Hessian in the coefficients Θ (m×K, flattened row-major) of the dense
        n×m block ``A``: ``Σ_i s_i (a_i a_iᵀ) ⊗ (diag(p_i) − p_i p_iᵀ)`` (binary:
        ``Σ_i s_i ℓ''(z_i) a_i a_iᵀ``)."""
        s, K = self.s, Z.shape[1]
        m = A.shape[1]
        if self.binary:
            h = s * Logistic.hessian(self.Y[:, 0], Z[:, 0])
            return A.T @ (A * h[:, None])
        P = softmax(Z, axis=1)
        H = np.empty((m, K, m, K))
        for k in range(K):
            for c in range(k, K):
                wk = s * ((P[:, k] if k == c else 0.0) - P[:, k] * P[:, c])
                H[:, k, :, c] = H[:, c, :, k] = A.T @ (A * wk[:, None])
        return H.reshape(m * K, m * K)

    def optimal_block(self, A, Z, Theta):
        """The coefficients ``Theta`` (m×K) of the dense n×m block ``A`` minimising the loss
        with ``Z − AΘ`` fixed (damped Newton on the block's full Hessian, the softmax's
        class coupling included); returns the new ``Z`` and ``Theta``. It stops after the
        step whose Newton decrement was at the loss's rounding: the gradient ``AᵀG`` is then
        zero to rounding, which the dual point needs of unpenalised columns."""
        s, K = self.s, Z.shape[1]
        m = A.shape[1]
        val = self.value(Z)
        last_gmax = np.inf
        for _ in range(_REFIT_MAX):
            grad = A.T @ (self.gradient(Z) * s[:, None])  # m×K
            gmax = float(np.abs(grad).max())
            H = self.block_hessian(A, Z)
            # least squares: the softmax is blind to a shift of a row over the classes
            step = -np.linalg.lstsq(H, grad.ravel(), rcond=1e-12)[0].reshape(m, K)
            if K > 1:
                step -= step.mean(axis=1, keepdims=True)
            decrement = -float(np.sum(grad * step))
            if not decrement > 0.0:
                break
            dZ = A @ step
            if decrement <= _REFIT_QUADRATIC * abs(val):
                # so near the minimum the loss moves by less than its rounding: no line
                # search can rank the steps, and the full Newton step converges
                # quadratically (the gradient, which the dual point needs at zero, still
                # falls by orders of magnitude per step) -- until the gradient stops
                # falling (its rounding floor)
                if gmax >= last_gmax:
                    break
                last_gmax = gmax
                Z, Theta = Z + dZ, Theta + step
                val = self.value(Z)
                if decrement <= _REFIT_ROUNDING * abs(val):
                    break
                continue
            t = 1.0
            for _ in range(60):
                vt = self.value(Z + t * dZ)
                if vt <= val:
                    break
                t *= 0.5
            else:
                break
            Z, Theta = Z + t * dZ, Theta + t * step
            if decrement <= _REFIT_ROUNDING * abs(val) or (vt >= val and t < 1.0):
                val = vt
                break
            val = vt
        return Z, Theta


def refit_unpenalised(model, X, Z, W, b, free, fit_intercept):
    """``(W, b, Z)`` with the intercept (if fitted) and the unpenalised rows ``W[free]``
    jointly re-optimised for the rest of the predictor fixed (:meth:`_Model.optimal_intercept`
    without unpenalised columns). The duality gap's dual point is then orthogonal to the
    ones vector and to every unpenalised column, as the dual constraints ask."""
    if free.size == 0:
        if fit_intercept:
            Z, b = model.optimal_intercept(Z, b)
        return W, b, Z
    Xu = X[:, free]
    Xu = Xu.toarray() if sparse.issparse(Xu) else np.asarray(Xu, dtype=np.float64)
    m = free.size
    if fit_intercept:
        A = np.hstack([Xu, np.ones((Xu.shape[0], 1))])
        Theta = np.vstack([W[free], b[None, :]])
    else:
        A, Theta = Xu, W[free]
    Z, Theta = model.optimal_block(A, Z, Theta)
    W = W.copy()
    W[free] = Theta[:m]
    if fit_intercept:
        b = Theta[m].copy()
    return W, b, Z


# --------------------------------------------------------------------------------------
# The outer loop
# --------------------------------------------------------------------------------------

def _predict(X, W, b):
    return np.asarray(X @ W) + b


def null_gradient(X, Y, sample_weight, fit_intercept, free=_NO_FREE):
    """``XᵀG`` at the null model: every penalised coefficient 0, the intercept and the
    unpenalised columns ``free`` at their best: what :meth:`lam_max` takes."""
    s = np.asarray(sample_weight, dtype=np.float64)
    model = _Model(Y, s)
    K = Y.shape[1]
    Z = np.zeros((Y.shape[0], K))
    W = np.zeros((X.shape[1], K))
    _, _, Z = refit_unpenalised(model, X, Z, W, np.zeros(K), free, fit_intercept)
    return np.asarray(X.T @ (model.gradient(Z) * s[:, None]))


def _start(X, Y, sample_weight, coef_init, intercept_init, fit_intercept, free):
    """The outer loops' starting point: ``(s, model, W, b, Z)`` with the sample weights ``s``,
    the loss ``model``, the coefficients ``W`` (p×K) and intercept ``b`` (the given ones or 0;
    the intercept and the unpenalised rows ``free`` re-optimised for the rest of ``W``) and
    the scores ``Z``."""
    p, K = X.shape[1], Y.shape[1]
    s = np.asarray(sample_weight, dtype=np.float64)
    model = _Model(Y, s)
    W = np.zeros((p, K)) if coef_init is None else np.array(coef_init, dtype=np.float64)
    b = np.zeros(K)
    if fit_intercept and intercept_init is not None:
        b = np.array(intercept_init, dtype=np.float64).reshape(K)
    Z = _predict(X, W, b)
    W, b, Z = refit_unpenalised(model, X, Z, W, b, free, fit_intercept)
    return s, model, W, b, Z


def intercept_only_objective(model, n_classes, fit_intercept):
    """The objective at ``W = 0`` with the best intercept (or none): the scale of ``tol``."""
    n = model.Y.shape[0]
    Z = np.zeros((n, n_classes))
    if fit_intercept:
        Z, _ = model.optimal_intercept(Z, np.zeros(n_classes))
    return model.value(Z)


def duality_gap(model, X, Z, W, penalty, return_grad=False):
    """``(gap, primal)`` at ``(W, Z = XW + b)``; the intercept, if fitted, and the
    unpenalised columns must be optimal (``Σ_i G_ik = 0``, ``X_uᵀG = 0``:
    :func:`refit_unpenalised`) for the dual point to be feasible. With ``return_grad``, also the
    loss gradient ``V = XᵀG`` (p×K) it was computed from."""
    G = model.gradient(Z) * model.s[:, None]
    V = np.asarray(X.T @ G)
    kappa, pstar = penalty.dual(V)
    primal = model.value(Z) + penalty.value(W)
    dual = -model.conjugate(Z, kappa) - pstar
    if return_grad:
        return primal - dual, primal, V
    return primal - dual, primal


def prox_newton(X, Y, sample_weight, penalty, *, fit_intercept=True, coef_init=None,
                intercept_init=None, tol=1e-4, max_iter=100, max_inner=1000, verbose=False,
                working_set=False):
    """Minimise ``Σ_i s_i ℓ(y_i, x_iᵀW + b) + P(W)`` (``P`` includes ``λ = 1/C``) by
    proximal Newton steps, to a duality gap ``≤ tol ×`` the intercept-only objective.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, p)
    Y : ndarray of shape (n, 1) with labels ±1 (logistic) or (n, K) one-hot (multinomial)
    sample_weight : ndarray of shape (n,), non-negative, not rescaled
    penalty : L1Penalty, GroupPenalty or RowPenalty
    working_set : bool
        Each Newton step moves only the features of a working set chosen afresh at every
        step from the gradient the gap was computed with (:func:`_step_working_set`); only
        for penalties separable over features (``feature_working_set``).

    Returns
    -------
    W : ndarray of shape (p, K), intercept : ndarray of shape (K,), gap, n_iter, converged,
    tol_abs (the gap the stop asked for)
    """
    with single_threaded_blas():  # as the inner solvers: see there
        return _prox_newton(X, Y, sample_weight, penalty, fit_intercept, coef_init,
                            intercept_init, tol, max_iter, max_inner, verbose, working_set)


def _prox_newton(X, Y, sample_weight, penalty, fit_intercept, coef_init, intercept_init, tol,
                 max_iter, max_inner, verbose, working_set):
    """The loop of :func:`prox_newton`."""
    n, p = X.shape
    K = Y.shape[1]
    s, model, W, b, Z = _start(X, Y, sample_weight, coef_init, intercept_init, fit_intercept,
                               penalty.free)
    tol_abs = tol * intercept_only_objective(model, K, fit_intercept)

    converged = False
    n_iter = 0
    gap, primal, V = duality_gap(model, X, Z, W, penalty, return_grad=True)
    ws_cache = (None, X)  # the last working set and its columns
    # the inner models are solved to this fraction of the current gap; tightened whenever an
    # outer step gains little (the gap then overstates what is left of the objective)
    inner = _INNER_FRACTION
    history = []  # the last iterates of the per-class cycles, for Anderson extrapolation
    best, stalls, flat = (W, b, Z, gap, primal), 0, 0  # the best certified point so far
    polished = None  # the support of the last Newton polish (_support_polish)
    while True:
        if verbose:
            print(f"prox-Newton {n_iter}: objective {primal:.12e}, gap {gap:.3e} "
                  f"(tol {tol_abs:.3e})")
        if gap <= tol_abs:
            converged = True
            break
        if n_iter >= max_iter:
            break
        n_iter += 1
        # multinomial with a class-separable penalty: one block step per class (the block's
        # Hessian is diagonal in the samples, so each model is exact); else one joint step
        blocks = ([[k] for k in range(K)] if K > 1 and not penalty.couples_classes
                  else [list(range(K))])
        previous = (W, b, Z, gap, primal)
        progressed = False
        ws, Xw = None, X
        if working_set:
            ws = _step_working_set(penalty, V, W)
            if ws is not None:
                if ws_cache[0] is None or not np.array_equal(ws_cache[0], ws):
                    ws_cache = (ws, _restricted_columns(X, ws))
                Xw = ws_cache[1]
        Ww = W if ws is None else W[ws]
        for cols in blocks:
            # after a stalled step, the models go to the working-set solvers, whose inner
            # accuracy follows ``inner`` down
            step = _newton_step(model, Xw, Z, Ww, b, penalty, fit_intercept, cols,
                                inner * max(gap, tol_abs) / len(blocks), max_inner,
                                direct=stalls == 0)
            if step is None:
                continue
            Ww, b, Z, rounding = step
            progressed |= not rounding
        if ws is None:
            W = Ww
        else:
            W = np.zeros_like(W)
            W[ws] = Ww
        W, b, Z = refit_unpenalised(model, X, Z, W, b, penalty.free, fit_intercept)
        if K > 1 and penalty.gauge is not None:
            W, Z = _shift_rows(X, W, Z, penalty.gauge(W))
        gap, primal, V = duality_gap(model, X, Z, W, penalty, return_grad=True)
        if (hasattr(penalty, "smooth_derivatives") and tol_abs < gap <= _POLISH_GAP * primal
                and gap > 0.1 * previous[3]):
            # a slow step (the common-weight models' linear rate) near the solution, on a
            # support the step kept: Newton with the exact Hessian there, once per support
            support = np.any(W != 0, axis=1)
            if (np.array_equal(support, np.any(previous[0] != 0, axis=1))
                    and not np.array_equal(support, polished)):
                polished = support
                out = _support_polish(model, X, W, b, Z, penalty, fit_intercept)
                if out is not None:
                    W, b, Z = out
                    gap, primal, V = duality_gap(model, X, Z, W, penalty, return_grad=True)
                    history.clear()
        if gap < best[3]:
            best, stalls, flat = (W, b, Z, gap, primal), 0, 0
        elif (flat := flat + 1) >= _MAX_FLAT:
            break  # descending steps, but the certificate has not improved for long
        elif not progressed:
            # in the objective's rounding regime steps are judged by the gap: these found
            # no better certificate; ask the models for more accuracy, give up after a few
            stalls += 1
            inner = max(inner * 1e-3, _INNER_FRACTION_MIN)
            if stalls >= _MAX_STALLS:
                break
        if len(blocks) > 1 and gap > 0.5 * previous[3]:
            inner = max(inner * 0.1, _INNER_FRACTION_MIN)
        if K > 1:  # class blocks, or the row penalty's common weights: linear rates
            history.append((W, b))
            if len(history) == _ANDERSON + 1:
                W, b, Z, gap, primal = _anderson(model, X, penalty, fit_intercept, history,
                                                 (W, b, Z, gap, primal))
                history.clear()
                if gap < best[3]:
                    best = (W, b, Z, gap, primal)
                if working_set:
                    V = np.asarray(X.T @ (model.gradient(Z) * s[:, None]))
    W, b, Z, gap, primal = best
    return W, b, gap, n_iter, converged, tol_abs


def prox_newton_ws(X, Y, sample_weight, penalty, *, fit_intercept=True, coef_init=None,
                   intercept_init=None, tol=1e-4, max_iter=100, max_inner=1000, verbose=False):
    """:func:`prox_newton` with a working set of features chosen at every Newton step (ℓ1,
    elastic-net and row penalties; :func:`_step_working_set`): the support and the largest
    violators of the dual constraint, at most as many new ones as the support has (the set
    at most doubles a step). The first Newton models at ``W = 0`` are poor (uniform
    weights), and on all features they select far too many; restricted, each costs little,
    and late steps, whose support has settled, solve a model on little more than it. The gap
    on all features decides every stop. Other penalties (groups: their layout is over all
    columns) and few features go to :func:`prox_newton` on all features. Same returns as
    :func:`prox_newton`."""
    p = X.shape[1]
    use_ws = p > _WS_MIN and getattr(penalty, "feature_working_set", False)
    return prox_newton(X, Y, sample_weight, penalty, fit_intercept=fit_intercept,
                       coef_init=coef_init, intercept_init=intercept_init, tol=tol,
                       max_iter=max_iter, max_inner=max_inner, verbose=verbose,
                       working_set=use_ws)


def _step_working_set(penalty, V, W):
    """The features one Newton step moves: the support of ``W`` and, of the features
    violating the dual constraint at ``V = XᵀG``, the worst ``max(_WS_START, |support|)``
    (``_WS_ADD`` times it); None when that is every feature."""
    support = np.any(W != 0, axis=1)
    score = _violation(penalty, V)
    score[support] = 0.0
    candidates = np.flatnonzero(score > 1.0)
    n_add = max(_WS_START, int(_WS_ADD * support.sum()))
    if candidates.size > n_add:
        part = np.argpartition(-score[candidates], n_add - 1)[:n_add]
        candidates = candidates[part]
    keep = support.copy()
    keep[candidates] = True
    if keep.all():
        return None
    return np.flatnonzero(keep)


def _violation(penalty, V):
    """Per feature: its dual-norm / λ (above 1: it would enter at 0)."""
    if isinstance(penalty, L1Penalty):
        return np.abs(V).max(axis=1) / (penalty.lam * max(penalty.l1_ratio, 1e-12))
    return np.sqrt((V * V).sum(axis=1)) / penalty.lam


def _restricted_columns(X, ws):
    """``X[:, ws]``; a sparse block becomes dense when that costs at most
    ``_DENSE_BLOCK_FACTOR`` times the nonzeros of X (memory stays linear in the data) — the
    dense working-set kernels are the faster ones on a few hundred columns."""
    Xw = X[:, ws]
    if sparse.issparse(Xw) and X.shape[0] * ws.size <= _DENSE_BLOCK_FACTOR * max(X.nnz, 1):
        return np.asfortranarray(Xw.toarray())
    return Xw


def prox_newton_lq(X, Y, sample_weight, penalty, *, fit_intercept=True, coef_init=None,
                   intercept_init=None, tol=1e-4, max_iter=100, max_inner=100, verbose=False):
    """:func:`prox_newton` for the non-convex :class:`LqPenalty`: proximal Newton steps
    (each inner model solved by the ℓq working-set solvers from the current point, so the
    step descends) until the fixed-point residual (:meth:`LqPenalty.residual`) is at most
    ``tol``. A local minimiser near the start: pass the ℓ1 solution as ``coef_init``.

    Returns ``W, intercept, residual, n_iter, converged``."""
    n, p = X.shape
    K = Y.shape[1]
    s, model, W, b, Z = _start(X, Y, sample_weight, coef_init, intercept_init, fit_intercept,
                               penalty.free)
    lips = penalty.curvature(X, s, 0.25 if K == 1 else 0.5)
    total = float(s.sum())

    def residual(Z, W):
        grad = np.asarray(X.T @ (model.gradient(Z) * s[:, None]))
        return penalty.residual(W, grad, lips, total)

    res = residual(Z, W)
    converged = False
    n_iter = 0
    inner = 1.0  # tightened when a step gains nothing (as in prox_newton)
    while True:
        if verbose:
            print(f"prox-Newton lq {n_iter}: objective "
                  f"{model.value(Z) + penalty.value(W):.12e}, residual {res:.3e} (tol {tol:.3e})")
        if res <= tol:
            converged = True
            break
        if n_iter >= max_iter:
            break
        n_iter += 1
        previous = (W, b, Z, res)
        progressed = False
        for cols in ([[k] for k in range(K)] if K > 1 else [[0]]):
            step = _newton_step(model, X, Z, W, b, penalty, fit_intercept, cols,
                                inner * max(res, tol), max_inner)
            if step is not None:
                W, b, Z, rounding = step
                progressed |= not rounding
        W, b, Z = refit_unpenalised(model, X, Z, W, b, penalty.free, fit_intercept)
        res = residual(Z, W)
        if not progressed and not res < previous[3]:
            W, b, Z, res = previous
            if inner <= _INNER_FRACTION_MIN:
                break
            inner = max(inner * 1e-3, _INNER_FRACTION_MIN)
    return W, b, res, n_iter, converged


def _support_polish(model, X, W, b, Z, penalty, fit_intercept):
    """Newton's method on the support of ``W`` (rows), where the penalty is smooth: the
    exact Hessian of the loss (the classes coupled, which the common-weight models of the
    row penalty leave out, so their steps converge only linearly) plus the penalty's. Damped
    by a line search on the true objective; the intercept is one more row of the block. Once
    the support is the solution's, this converges quadratically and the gap on all features
    certifies it. ``(W, b, Z)``, or None when the support is too large for the dense
    ``mK × mK`` Hessian (``_POLISH_MAX`` unknowns, ``_POLISH_FLOPS``) or no step descends."""
    S = np.flatnonzero(np.any(W != 0, axis=1))
    K = W.shape[1]
    m = S.size
    if m == 0 or m * K > _POLISH_MAX or X.shape[0] * float(m * K) ** 2 > _POLISH_FLOPS:
        return None
    XS = X[:, S]
    XS = XS.toarray() if sparse.issparse(XS) else np.asarray(XS, dtype=np.float64)
    A = np.hstack([XS, np.ones((XS.shape[0], 1))]) if fit_intercept else XS
    Theta = np.vstack([W[S], b[None, :]]) if fit_intercept else W[S].copy()
    s = model.s

    def objective(Zt, Th):
        return model.value(Zt) + penalty.value(Th[:m])

    f = objective(Z, Theta)
    moved = False
    for it in range(_POLISH_STEPS):
        grad = A.T @ (model.gradient(Z) * s[:, None])
        H = model.block_hessian(A, Z)
        gp, Hp = penalty.smooth_derivatives(Theta[:m])
        grad[:m] += gp
        H[:m * K, :m * K] += Hp
        step = -_solve_psd(H, grad.ravel(), K if fit_intercept and K > 1 else 0)
        step = step.reshape(Theta.shape)
        decrement = -float(np.sum(grad * step))
        if not decrement > 0.0:
            break
        dZ = A @ step
        if decrement <= _ROUNDING * (abs(f) + 1.0):
            # below the objective's rounding, which cannot judge the step: in Newton's
            # quadratic regime the full step is taken, and it is the last
            Z, Theta, moved = Z + dZ, Theta + step, True
            break
        t = 1.0
        for _ in range(_MAX_BACKTRACK):
            ft = objective(Z + t * dZ, Theta + t * step)
            if ft <= f - _ARMIJO * t * decrement:
                break
            t *= 0.5
        else:
            break
        Z, Theta, f, moved = Z + t * dZ, Theta + t * step, ft, True
        if t < 1.0 and it >= 2:
            # still damped: not Newton's quadratic regime, most likely a row on its way to
            # 0 (the support is not the solution's yet); the outer steps take over
            break
    if not moved:
        return None
    W = np.zeros_like(W)
    W[S] = Theta[:m]
    if fit_intercept:
        b = Theta[m].copy()
    return W, b, Z


def _solve_psd(H, g, n_shift):
    """``H⁻¹g`` for the symmetric positive semi-definite Hessian of :func:`_support_polish`.
    With ``n_shift = K`` its last K unknowns are a multinomial intercept, whose shift over
    the classes the loss does not see (``g`` is orthogonal to it): ``c vvᵀ`` on that null
    direction makes ``H`` definite without changing the solution orthogonal to it. Cholesky,
    least squares if that fails."""
    if n_shift:
        H = H.copy()
        v = np.zeros(H.shape[0])
        v[-n_shift:] = 1.0 / np.sqrt(n_shift)
        H += (np.trace(H) / H.shape[0]) * np.outer(v, v)
    try:
        return cho_solve(cho_factor(H), g)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H, g, rcond=1e-12)[0]


def _anderson(model, X, penalty, fit_intercept, history, current):
    """Extrapolation of the last iterates of the per-class cycles, which converge linearly,
    slowly when the classes are strongly coupled: Anderson's affine combination of the
    iterates whose successive differences combine to the least norm (Bertrand and Massias,
    "Anderson acceleration of coordinate descent", 2021), and, when the iterates drift along
    a line (near-separable classes: the coefficients grow steadily), longer steps along the
    drift (1, 2, 4, ... times it). The candidate of lowest objective is taken if it is below
    the current one; returns ``(W, b, Z, gap, primal)``."""
    flat = np.array([np.concatenate([W.ravel(), b]) for W, b in history])
    W_shape, K = history[0][0].shape, history[0][1].size

    def point(v):
        W = v[:-K].reshape(W_shape)
        b = v[-K:].copy()
        Z = _predict(X, W, b)
        W, b, Z = refit_unpenalised(model, X, Z, W, b, penalty.free, fit_intercept)
        if penalty.gauge is not None:
            W, Z = _shift_rows(X, W, Z, penalty.gauge(W))
        return W, b, Z, model.value(Z) + penalty.value(W)

    best = None
    U = np.diff(flat, axis=0)
    UU = U @ U.T
    try:
        z = np.linalg.solve(UU + 1e-12 * np.trace(UU) * np.eye(UU.shape[0]),
                            np.ones(U.shape[0]))
        if np.all(np.isfinite(z)) and z.sum() != 0:
            cand = point((z / z.sum()) @ flat[1:])
            if cand[3] < current[4]:
                best = cand
    except np.linalg.LinAlgError:
        pass
    drift = flat[-1] - flat[0]
    t = 1.0
    while t <= 64.0:
        cand = point(flat[-1] + t * drift)
        if not cand[3] < (best[3] if best is not None else current[4]):
            break
        best = cand
        t *= 2.0
    if best is None:
        return current
    W, b, Z, _ = best
    gap, primal = duality_gap(model, X, Z, W, penalty)
    return W, b, Z, gap, primal


def _shift_rows(X, W, Z, c):
    """``W_j − c_j 1`` for every row j: the softmax loss is unchanged (the predictor moves by
    the same ``Xc`` in every class), the penalty is at its minimum over the shift. Without it
    the per-class steps creep along this flat direction (linear convergence with a poor
    rate)."""
    c = np.where(np.abs(c) > 0.0, c, 0.0)
    nz = np.flatnonzero(c)
    if nz.size == 0:
        return W, Z
    W = W - c[:, None]
    W[np.abs(W) <= 1e-300] = 0.0
    Z = Z - np.asarray(X[:, nz] @ c[nz])[:, None]
    return W, Z


def _newton_step(model, X, Z, W, b, penalty, fit_intercept, cols, gap_target, max_inner,
                 direct=True):
    """One proximal Newton step on the columns ``cols`` of W (and b) with an Armijo line
    search on the true objective; ``(W, b, Z)`` after it, or None if it cannot descend.
    ``direct``: small models may go to the kernel directly (:func:`_direct_model_solution`),
    else every model goes through the certified working-set solvers."""
    W_new, b_new = _newton_model_solution(model, X, Z, W, penalty, fit_intercept, gap_target,
                                          max_inner, cols, direct)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dW[:, cols] = W_new - W[:, cols]
    db[cols] = b_new - b[cols]
    dZ = _predict(X, dW, db)
    G = model.gradient(Z) * model.s[:, None]
    pen0 = penalty.value(W)
    W_full = W + dW
    decrease = float(np.sum(G * dZ)) + penalty.value(W_full) - pen0
    f0 = model.value(Z) + pen0
    # below this the predicted decrease is rounding in the objective; the caller then
    # accepts the full step only if it lowers the duality gap
    rounding = abs(decrease) <= _ROUNDING * (abs(f0) + 1.0)
    if rounding:
        return W_full, b + db, Z + dZ, True
    if not decrease < 0.0:
        return None
    t = 1.0
    for _ in range(_MAX_BACKTRACK):
        Wt = W_full if t == 1.0 else W + t * dW
        Zt = Z + t * dZ
        ft = model.value(Zt) + penalty.value(Wt)
        if ft <= f0 + _ARMIJO * t * decrease:
            return Wt, b + t * db, Zt, False
        t *= 0.5
    return None


def _newton_model_solution(model, X, Z, W, penalty, fit_intercept, gap_target, max_inner,
                           cols, direct=True):
    """The minimiser ``(W[:, cols], b[cols])`` of the quadratic model of the loss at ``Z``
    plus the penalty (the other columns fixed), each column solved to an inner gap of about
    ``gap_target`` (objective units)."""
    H, R = model.newton(Z, penalty.couples_classes)
    s = model.s
    K = len(cols)
    T = (Z + R)[:, cols]  # working response
    W = W[:, cols]
    if H.shape[1] > 1:
        H = H[:, cols]
    if penalty.couples_classes:
        omega = s * H[:, 0]
        total = float(omega.sum())
        design, B, x_off, y_off = preprocess(X, T, omega, fit_intercept)
        inner_tol = _penalty_inner_tol(penalty, gap_target, total, B, design.n_samples)
        W_new = penalty.solve(design, B, 1.0 / total, W, inner_tol, max_inner)
        b_new = (y_off - x_off @ W_new) if fit_intercept else np.zeros(K)
        return W_new, np.asarray(b_new, dtype=np.float64).reshape(K)
    W_new = np.empty_like(W)
    b_new = np.zeros(K)
    direct = direct and hasattr(penalty, "solve_gram") and X.shape[1] <= _DIRECT_MAX
    for k in range(K):
        omega = s * H[:, k]
        total = float(omega.sum())
        if direct:
            w, b0, ok = _direct_model_solution(X, T[:, k], omega, total, fit_intercept,
                                               penalty, W[:, k], max_inner)
            if ok:
                W_new[:, k], b_new[k] = w, b0
                continue
        design, bk, x_off, y_off = preprocess(X, np.ascontiguousarray(T[:, k]), omega,
                                              fit_intercept)
        inner_tol = _penalty_inner_tol(penalty, gap_target / K, total, bk, design.n_samples)
        W_new[:, k] = penalty.solve(design, bk, 1.0 / total, np.ascontiguousarray(W[:, k]),
                                    inner_tol, max_inner)
        if fit_intercept:
            b_new[k] = y_off - x_off @ W_new[:, k]
    return W_new, b_new


def _direct_model_solution(X, t, omega, total, fit_intercept, penalty, w0, max_inner):
    """One column's weighted model on X of few columns (dense or sparse) through
    :meth:`L1Penalty.solve_gram`: the design centred and weighted as :func:`preprocess` does,
    but only its Gram matrix and correlations formed. ``(w, intercept, converged)``."""
    n = X.shape[0]
    sw = omega * (n / total)
    x_off, y_off = None, 0.0
    if fit_intercept:
        x_off = np.asarray(sw @ X).ravel() / n
        y_off = float(sw @ t) / n
    if sparse.issparse(X):
        # AᵀA/n = XᵀSX/n − x̄x̄ᵀ and Aᵀb/n = XᵀS(t − ȳ)/n (the weighted means: Σ s(t − ȳ) = 0)
        G = np.asarray((X.T @ X.multiply(sw[:, None]).tocsc()).todense()) / n
        if fit_intercept:
            G -= np.outer(x_off, x_off)
        c = np.asarray(X.T @ (sw * (t - y_off))).ravel() / n
    else:
        r = np.sqrt(sw)
        A = (X - x_off if fit_intercept else X) * r[:, None]
        G = A.T @ A / n
        c = A.T @ (r * (t - y_off)) / n
    w, converged = penalty.solve_gram(G, c, n, total, w0, max_inner)
    b0 = y_off - float(x_off @ w) if fit_intercept else 0.0
    return w, b0, converged


def _penalty_inner_tol(penalty, target, total_weight, b, n):
    if hasattr(penalty, "inner_tol"):
        return penalty.inner_tol(target, total_weight, b, n)
    return _inner_tol(target, total_weight, b, n)


def _inner_tol(gap_target, total_weight, b, n):
    """The inner solvers' relative tolerance (their gap is ``tol ‖b‖²/n`` in units of the
    model divided by its total weight) for a gap of ``gap_target`` in objective units."""
    scale = total_weight * float(np.sum(b * b)) / n
    if scale <= 0.0:
        return _INNER_TOL_MAX
    return float(np.clip(gap_target / scale, _INNER_TOL_MIN, _INNER_TOL_MAX))


def warn_not_converged(gap, tol_abs, n_iter, max_iter):
    why = ("Increase max_iter or tol." if n_iter >= max_iter else
           "The last steps did not improve it: increase tol.")
    warnings.warn(
        f"The proximal Newton solver did not converge after {n_iter} iterations "
        f"(max_iter={max_iter}): duality gap {gap:.3e}, asked for {tol_abs:.3e}. {why}",
        ConvergenceWarning, stacklevel=3)
