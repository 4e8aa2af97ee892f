"""Sparse penalties and their smooth Hadamard surrogates on numpy arrays of any shape.

This is the penalty layer of the stochastic and neural-network solvers (numpy BLAS does the
heavy lifting there, so the factor algebra is vectorised numpy, not numba). For a penalty
``α R(β)`` with ``q = 2/k``:

- ``kind="l1"`` (elementwise): ``R(β) = Σ_j w_j |β_j|^q``; factors ``β = u_1 ⊙ … ⊙ u_k``
  with ridge ``α/k Σ_j w_j Σ_d u_{d,j}²`` (AM–GM; equality when balanced). k = 2 is the
  lasso's ``β = u ⊙ v``, ``α/2 (‖u‖² + ‖v‖²)``.
- ``kind="group"``: ``R(β) = Σ_g w_g ‖β_g‖₂^q`` over groups given by an integer label per
  entry (-1: unpenalised); factors ``β_g = ν_{g,1} ⋯ ν_{g,k−1} ω_g`` (scalars ν, a vector ω)
  with ridge ``α/k Σ_g w_g (Σ_d ν_{g,d}² + ‖ω_g‖²)``. Unpenalised entries have ``ω = β``,
  no ridge and ν fixed at 1.

Factors are a list of arrays: ``[u_1, …, u_k]`` (each shaped like β) for ``"l1"``,
``[ω, ν]`` (ω shaped like β, ν of shape (n_groups, k − 1)) for ``"group"``. The surrogate
has exactly zero gradient at ``β_j = 0`` with all factors zero (a saddle for k = 2, a local
minimum for k ≥ 3), so zeros are started at small random factors (``balanced``), and exact
zeros come from the proximal map of the original penalty (``prox``), never from the
factors themselves.
"""

import numpy as np

from ._prox import lq_prox_array, radial_lq_prox_groups


class HadamardPenalty:
    """``α R(β)`` and its depth-k Hadamard surrogate on arrays of one fixed shape.

    Parameters
    ----------
    shape : tuple of int
        Shape of β.
    kind : {"l1", "group"}
    depth : int >= 2
        ``k``; the penalty is ``|·|^q`` with ``q = 2/k`` (k = 2: ℓ1 / group lasso).
    groups : array of int, same size as β, optional
        Group label of every entry (``kind="group"``), -1 for unpenalised entries.
    weights : array, optional
        ``"l1"``: per-entry weights broadcastable to ``shape`` (0 leaves an entry
        unpenalised; default 1). ``"group"``: one weight per group label 0..G−1 (default
        ``√|g|``).
    """

    def __init__(self, shape, kind="l1", depth=2, groups=None, weights=None):
        if kind not in ("l1", "group"):
            raise ValueError(f"kind must be 'l1' or 'group'; got {kind!r}.")
        if int(depth) != depth or depth < 2:
            raise ValueError(f"depth must be an integer >= 2; got {depth!r}.")
        self.shape = tuple(shape)
        self.kind = kind
        self.depth = int(depth)
        self.q = 2.0 / self.depth
        size = int(np.prod(self.shape))
        if kind == "l1":
            w = np.ones(self.shape) if weights is None else np.broadcast_to(
                np.asarray(weights, dtype=np.float64), self.shape).copy()
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("weights must be finite and non-negative.")
            self.weights = w
            return
        if groups is None:
            raise ValueError("kind='group' needs groups (one label per entry).")
        labels = np.asarray(groups).reshape(-1)
        if labels.size != size or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"groups must be {size} integer labels; got {labels.size} of "
                             f"dtype {labels.dtype}.")
        if np.any(labels < -1):
            raise ValueError("group labels must be >= 0, or -1 for unpenalised entries.")
        self.labels = labels.astype(np.int64)
        self.n_groups = int(labels.max()) + 1 if labels.size else 0
        sizes = np.bincount(self.labels[self.labels >= 0], minlength=self.n_groups)
        if weights is None:
            w = np.sqrt(sizes.astype(np.float64))
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if w.size != self.n_groups or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"weights must be {self.n_groups} finite non-negative "
                                 "numbers, one per group.")
        self.weights = w
        self._pen = self.labels >= 0
        self._gid = np.where(self._pen, self.labels, 0)
        penalised = np.flatnonzero(self._pen)
        self._order = penalised[np.argsort(self.labels[penalised], kind="stable")]
        self._gptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    # -- the original penalty ------------------------------------------------------------

    def group_norms(self, beta):
        """``‖β_g‖₂`` of every group (``kind="group"``)."""
        flat = np.asarray(beta, dtype=np.float64).reshape(-1)
        return np.sqrt(np.bincount(self._gid[self._pen], weights=flat[self._pen] ** 2,
                                   minlength=self.n_groups))

    def value(self, beta):
        """``R(β)`` (without α)."""
        if self.kind == "l1":
            return float(np.sum(self.weights * np.abs(beta) ** self.q))
        return float(self.weights @ self.group_norms(beta) ** self.q)

    def prox(self, z, lam):
        """``argmin_β 1/2 ‖β − z‖² + lam R(β)``: exact zeros (soft / block
        soft-thresholding for q = 1, the ℓq thresholding otherwise)."""
        z = np.asarray(z, dtype=np.float64)
        if self.kind == "l1":
            t = lam * self.weights
            if self.q == 1.0:
                return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)
            return lq_prox_array(z.reshape(-1), np.ascontiguousarray(t).reshape(-1),
                                 self.q).reshape(self.shape)
        out = radial_lq_prox_groups(np.ascontiguousarray(z).reshape(-1), self._order,
                                    self._gptr, lam * self.weights, self.q)
        return out.reshape(self.shape)

    # -- the surrogate -------------------------------------------------------------------

    def to_beta(self, factors):
        if self.kind == "l1":
            beta = factors[0].copy()
            for u in factors[1:]:
                beta *= u
            return beta
        omega, nu = factors
        scale = np.prod(nu, axis=1) if nu.shape[1] else np.ones(self.n_groups)
        s = np.where(self._pen, scale[self._gid], 1.0).reshape(self.shape)
        return omega * s

    def ridge(self, factors, alpha):
        """The surrogate penalty ``α/k Σ …`` (equal to ``α R(β)`` at balanced factors)."""
        k = self.depth
        if self.kind == "l1":
            return alpha / k * sum(float(np.sum(self.weights * u * u)) for u in factors)
        omega, nu = factors
        w_entry = np.where(self._pen, self.weights[self._gid], 0.0).reshape(self.shape)
        return alpha / k * (float(np.sum(w_entry * omega * omega))
                            + float(self.weights @ np.sum(nu * nu, axis=1)))

    def gradients(self, factors, grad_beta, alpha):
        """Gradients of ``L(β(factors)) + ridge`` with respect to the factors, from the
        gradient ``grad_beta`` of the loss with respect to β (product rule)."""
        k = self.depth
        c = 2.0 * alpha / k
        if self.kind == "l1":
            out = []
            for d in range(k):
                others = grad_beta.copy()
                for e, u in enumerate(factors):
                    if e != d:
                        others *= u
                out.append(others + c * self.weights * factors[d])
            return out
        omega, nu = factors
        prod = np.prod(nu, axis=1) if nu.shape[1] else np.ones(self.n_groups)
        pen = self._pen.reshape(self.shape)
        gid = self._gid.reshape(self.shape)
        s = np.where(pen, prod[gid], 1.0)
        w_entry = np.where(pen, self.weights[gid], 0.0)
        g_omega = grad_beta * s + c * w_entry * omega
        # d/dν_{g,d}: Σ_{j∈g} g_j ω_j Π_{e≠d} ν_{g,e}
        gw = np.bincount(self._gid[self._pen], weights=(grad_beta * omega).reshape(-1)[
            self._pen], minlength=self.n_groups)
        g_nu = np.empty_like(nu)
        for d in range(nu.shape[1]):
            others = np.prod(np.delete(nu, d, axis=1), axis=1)
            g_nu[:, d] = gw * others + c * self.weights * nu[:, d]
        return [g_omega, g_nu]

    def balanced(self, beta, rng=None, scale=1e-2):
        """Balanced factors of ``beta`` (the minimiser of the ridge over its
        factorisations); zero entries get random factors of size ``scale`` (random signs
        break the symmetry that would keep ``u = v``)."""
        rng = np.random.default_rng(rng)
        beta = np.asarray(beta, dtype=np.float64)
        k = self.depth
        if self.kind == "l1":
            mag = np.abs(beta) ** (1.0 / k)
            zero = beta == 0
            factors = []
            for d in range(k):
                u = mag.copy()
                if d == 0:
                    u = np.where(beta < 0, -u, u)
                u[zero] = scale * rng.standard_normal(int(zero.sum()))
                factors.append(u)
            return factors
        norms = self.group_norms(beta)
        root = norms ** (1.0 / k)
        nu = np.repeat(root[:, None], k - 1, axis=1)
        zero_g = norms == 0
        nu[zero_g] = scale * rng.standard_normal((int(zero_g.sum()), k - 1))
        prod = np.prod(nu, axis=1) if k > 1 else np.ones(self.n_groups)
        pen = self._pen.reshape(self.shape)
        gid = self._gid.reshape(self.shape)
        s = np.where(pen, prod[gid], 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            omega = np.where(s != 0, beta / s, 0.0)
        zero_entries = pen & zero_g[gid]
        omega[zero_entries] = scale * rng.standard_normal(int(zero_entries.sum()))
        return [omega, nu]
