"""The design matrix as the solvers see it: centred and weighted, without ever densifying or
centring a sparse matrix.

For sample weights ``s`` (rescaled to sum to n) and, with an intercept, weighted column means
``x̄``, the solvers work with ``A = diag(√s) (X − 1 x̄ᵀ)`` and ``b = √s ⊙ (y − ȳ)``; the
objective ``1/(2n) Σ s_i (y_i − x_iᵀβ − b0)²`` minimised over b0 is ``1/(2n) ‖b − Aβ‖²``.
Dense X is centred and scaled explicitly (on a copy), except a tall one (:class:`TallDesign`,
the lasso's Gram route), which is centred and scaled a block of rows at a time. Sparse X is
only row-scaled; its centring is applied implicitly in every product.
"""

from contextlib import contextmanager

import numpy as np
from scipy import sparse
from threadpoolctl import ThreadpoolController

from ._arrays import csc_matvec_nonzero

# a dense design with n >= p and at most this many features is tall: the lasso solves it on
# its whole Gram matrix (p² ≤ n·p entries)
TALL_MAX_FEATURES = 256
_BLOCK_BYTES = 1 << 21  # a TallDesign's row block: ~2 MB (cache-sized), at least 1024 rows
# a TallDesign's mat-vecs use X itself when every column mean is within this many standard
# deviations of 0: their rounding is then at most this much a centred copy's
_DIRECT_MEAN_RATIO = 4.0


def is_tall(n_samples, n_features):
    """Whether a dense design of this shape is solved on its whole Gram matrix."""
    return n_samples >= n_features and n_features <= TALL_MAX_FEATURES


_blas_pools = None  # threadpoolctl's controllers of the BLAS libraries, found on first use
_single_depth = [0]  # how many single_threaded_blas contexts are open


@contextmanager
def single_threaded_blas():
    """The solvers run on one thread, like coordinate descent. numba calls the BLAS bundled
    with scipy while numpy has its own: their two thread pools' spinning threads fight (a k×k
    mat-vec gets ~10× slower), and a multi-threaded BLAS collapses when another process holds
    a core, which on a shared machine is the common case (a :class:`TallDesign`'s passes,
    many small products, ran ~50× slower there). Nested uses are free. The BLAS libraries'
    controllers are looked up once and set directly (a few µs; ``ThreadpoolController.limit``
    queries every library's full info each time, ~40 µs, a twentieth of a small fit)."""
    global _blas_pools
    if _single_depth[0]:
        yield
        return
    if _blas_pools is None:
        _blas_pools = ThreadpoolController().select(user_api="blas").lib_controllers
    before = [pool.get_num_threads() for pool in _blas_pools]
    for pool, n_threads in zip(_blas_pools, before):
        if n_threads != 1:
            pool.set_num_threads(1)
    _single_depth[0] += 1
    try:
        yield
    finally:
        _single_depth[0] -= 1
        for pool, n_threads in zip(_blas_pools, before):
            if n_threads != 1:
                pool.set_num_threads(n_threads)


class Design:
    """Linear operator ``A`` with the products and Gram blocks a working-set solver needs."""

    def __init__(self, X, x_mean=None, sqrt_sw=None):
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.is_sparse = sparse.issparse(X)
        # only sparse designs carry an implicit centring
        self.x_mean = x_mean if (self.is_sparse and x_mean is not None) else None
        if self.x_mean is not None:
            self.sqrt_sw = np.ones(self.n_samples) if sqrt_sw is None else sqrt_sw
        self._col_sq_norms = None
        self._gram = None

    def dot(self, beta):
        if not self.is_sparse and self.X.flags.f_contiguous:
            nz = np.flatnonzero(beta)
            if 4 * nz.size < self.n_features:  # a sparse beta needs only its (contiguous)
                return self.X[:, nz] @ beta[nz]  # columns
        if (self.is_sparse and np.ndim(beta) == 1 and self.X.format == "csc"
                and self.X.dtype == np.float64
                and 4 * np.count_nonzero(beta) < self.n_features):
            # the columns of a sparse beta's nonzeros only (the same sums as scipy's
            # product; at a quarter of the columns they cost as much as scipy's full pass)
            X = self.X
            out = csc_matvec_nonzero(X.data, X.indices, X.indptr, self.n_samples,
                                     np.ascontiguousarray(beta, dtype=np.float64))
        else:
            out = self.X @ beta
        if self.x_mean is not None:
            out -= self.sqrt_sw * (self.x_mean @ beta)
        return out

    def rdot(self, r):
        out = self.X.T @ r
        if self.x_mean is not None:
            out -= self.x_mean * (self.sqrt_sw @ r)
        return np.asarray(out).ravel()

    def residual_and_grad(self, b, beta):
        """``(r, Aᵀr / n)`` with ``r = b − Aβ``: the exact certificate's products."""
        resid = b - self.dot(beta)
        return resid, self.rdot(resid) / self.n_samples

    def full_gram(self):
        """``AᵀA / n`` of a dense design, computed once (one BLAS pass over A, no column
        copies) and kept."""
        if self._gram is None:
            self._gram = (self.X.T @ self.X) / self.n_samples
        return self._gram

    def gram(self, rows, cols):
        """``A[:, rows]ᵀ A[:, cols] / n`` as a dense array."""
        n = self.n_samples
        Xr = self.X[:, rows]
        Xc = self.X[:, cols]
        if self.is_sparse:
            G = (Xr.T @ Xc).toarray() / n
            if self.x_mean is not None:
                # (X_r - 1 x̄_rᵀ)ᵀ S (X_c - 1 x̄_cᵀ) = X_rᵀ S X_c - n x̄_r x̄_cᵀ as Σ s = n
                G -= np.outer(self.x_mean[rows], self.x_mean[cols])
            return G
        return (Xr.T @ Xc) / n

    def columns_csc_csr(self, cols, rows=True):
        """The columns ``cols`` of the row-scaled sparse X as int64-indexed CSC and CSR
        arrays (CSR column indices are positions in ``cols``), with the centring vectors.

        A dense design's columns (the working set of a dense design too large for its Gram
        matrix) store every entry, 16 bytes each per form; ``rows=False`` leaves the CSR
        arrays empty, for solvers that only need column products (the lasso's
        coordinate-descent finish; on a sparse design it saves the CSR transpose)."""
        n = self.n_samples
        # (data, indices, indptr) of the CSR form; empty without rows
        csr = (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if not self.is_sparse:
            k = len(cols)
            sub = self._dense_columns(cols)
            data = np.asfortranarray(sub).ravel(order="F")
            indices = np.tile(np.arange(n, dtype=np.int64), k)
            indptr = np.arange(0, n * k + 1, n, dtype=np.int64)
            if rows:
                csr = (np.ascontiguousarray(sub).ravel(),
                       np.tile(np.arange(k, dtype=np.int64), n),
                       np.arange(0, n * k + 1, k, dtype=np.int64))
            return (data, indices, indptr, *csr, np.zeros(k), np.ones(n))
        csc = sparse.csc_matrix(self.X[:, cols])
        x_mean = (np.zeros(len(cols)) if self.x_mean is None
                  else np.ascontiguousarray(self.x_mean[cols]))
        sqrt_sw = self.sqrt_sw if self.x_mean is not None else np.ones(n)
        if rows:
            rows_form = csc.tocsr()
            csr = (rows_form.data.astype(np.float64), rows_form.indices.astype(np.int64),
                   rows_form.indptr.astype(np.int64))
        return (csc.data.astype(np.float64, copy=False), csc.indices.astype(np.int64),
                csc.indptr.astype(np.int64), *csr, x_mean,
                np.ascontiguousarray(sqrt_sw, dtype=np.float64))

    def _dense_columns(self, cols):
        """The columns ``cols`` of a dense ``A`` (a copy)."""
        return self.X[:, cols]

    def col_sq_norms(self):
        """``‖A_j‖² / n`` for every column (the diagonal of the Gram matrix)."""
        if self._col_sq_norms is None:
            n = self.n_samples
            if self.is_sparse:
                sq = np.asarray(self.X.multiply(self.X).sum(axis=0)).ravel() / n
                if self.x_mean is not None:
                    sq -= self.x_mean**2
                self._col_sq_norms = np.maximum(sq, 0.0)
            else:
                self._col_sq_norms = np.einsum("ij,ij->j", self.X, self.X) / n
        return self._col_sq_norms


class TallDesign(Design):
    """A tall dense design (:func:`is_tall`) that is never copied: ``A = diag(√s)(X − 1 x̄ᵀ)``
    is formed a block of rows at a time in a small buffer (cache-sized, rows as in X's
    memory order), so its entries are rounded exactly as a centred copy's would be, without
    the copy (200000×50: 80 MB) and its page faults.

    One pass over X, on first use (:meth:`full_gram`, :meth:`target_correlations`), builds
    ``G = AᵀA / n`` (a BLAS rank-k update per block; for unweighted float64 X with moderate
    means one product on X itself, centred afterwards: :meth:`_direct_gram_pass`) and the
    correlations ``AᵀB / n`` of the targets ``B`` (n×T) it is given; the lasso then works on
    the p×p Gram matrix and needs X
    again only for an exact certificate (:meth:`residual_and_grad`). Its mat-vecs are
    memory-bound, and centring blocks would triple their traffic: they use X itself, the
    centring and weights applied to n- and p-vectors (``Aβ = √s ⊙ (Xβ − x̄ᵀβ)``,
    ``Aᵀr = Xᵀ(√s ⊙ r) − x̄ Σ √s_i r_i``), when that rounds like the centred blocks -- every
    ``|x̄_j| ≤ 4 σ_j`` (:data:`_DIRECT_MEAN_RATIO`), float64 X -- and centred blocks otherwise
    (means large next to the spread, where ``Xβ`` and ``x̄ᵀβ`` would cancel). Every pass runs
    on one BLAS thread (:func:`single_threaded_blas`)."""

    def __init__(self, X, x_mean, sqrt_sw, B):
        self.X = X
        self.n_samples, self.n_features = n, p = X.shape
        self.is_sparse = False
        self.x_mean = x_mean
        self.sqrt_sw = sqrt_sw
        self._transformed = x_mean is not None or sqrt_sw is not None or X.dtype != np.float64
        self._rows = max(1024, _BLOCK_BYTES // (8 * max(p, 1)))
        self._order = "C" if (X.flags.c_contiguous and not X.flags.f_contiguous) else "F"
        self._targets = B
        self._gram = self._target_corr = None
        self._direct = x_mean is None and X.dtype == np.float64  # see the class docstring

    def _gram_pass(self):
        n, p = self.X.shape
        if self.sqrt_sw is None and self.X.dtype == np.float64 and self._direct_gram_pass():
            return
        G = np.zeros((p, p))
        C = np.zeros((p, self._targets.shape[1]))
        with single_threaded_blas():
            for i, j, A in self._blocks():
                G += A.T @ A
                C += A.T @ self._targets[i:j]
        self._gram, self._target_corr = G / n, C / n
        self._col_sq_norms = np.diag(self._gram).copy()
        if self.x_mean is not None and self.X.dtype == np.float64:
            self._direct = bool(np.all(self.x_mean**2
                                       <= _DIRECT_MEAN_RATIO**2 * self._col_sq_norms))

    def _direct_gram_pass(self):
        """The Gram pass of an unweighted float64 X without centred blocks: one BLAS call
        on X itself, the centring applied to the p×p result, ``AᵀA / n = XᵀX / n − x̄ x̄ᵀ``
        (as the sparse designs do). Like the direct mat-vecs, only when every column mean is
        within :data:`_DIRECT_MEAN_RATIO` standard deviations: the subtraction then loses at
        most a factor ``1 + r²`` of rounding next to centred blocks, and the pass saves their
        copies (a sixth of the time on 10000×200). Returns False, having set nothing, when a
        mean is too large (the caller then centres blocks: such data pay the product twice,
        as the means' spread is only known from it)."""
        n = self.n_samples
        with single_threaded_blas():
            G = self.X.T @ self.X
            C = self.X.T @ self._targets
        G /= n
        C /= n
        if self.x_mean is not None:
            m2 = self.x_mean**2
            r2 = _DIRECT_MEAN_RATIO**2
            # x̄² ≤ r² σ² with σ² = E[x²] − x̄² (E[x²] is the raw Gram diagonal)
            if np.any((1.0 + r2) * m2 > r2 * np.diag(G)):
                return False
            G -= np.outer(self.x_mean, self.x_mean)
            C -= np.outer(self.x_mean, self._targets.sum(axis=0) / n)
        self._gram, self._target_corr = G, C
        self._col_sq_norms = np.maximum(np.diag(G), 0.0)
        self._direct = True
        return True

    def max_abs_bound(self):
        """An upper bound of ``max |X|`` from the Gram pass, without a pass over X (``inf``
        when a sample has weight 0, which the Gram matrix does not see):
        ``|x_ij| ≤ |x̄_j| + √(n G_jj / min_i s_i)``, as ``s_i (x_ij − x̄_j)² ≤ n G_jj``."""
        n = self.n_samples
        s_min = 1.0 if self.sqrt_sw is None else float(np.min(self.sqrt_sw)) ** 2
        if s_min <= 0.0:
            return np.inf
        spread = np.sqrt(n * self.col_sq_norms() / s_min)
        bound = spread if self.x_mean is None else np.abs(self.x_mean) + spread
        return float(np.max(bound, initial=0.0)) * (1.0 + 1e-6)  # rounding of G

    def target_correlations(self):
        """``AᵀB / n`` (p×T) of the targets given at construction."""
        if self._gram is None:
            self._gram_pass()
        return self._target_corr

    def _blocks(self):
        """``(i, j, A[i:j])`` over blocks of rows; ``A[i:j]`` is a view of X when there is
        nothing to transform, else a shared buffer (valid until the next block)."""
        n, p = self.X.shape
        rows = min(self._rows, n)
        buf = np.empty((rows, p), order=self._order) if self._transformed else None
        for i in range(0, n, rows):
            j = min(i + rows, n)
            if buf is None:
                yield i, j, self.X[i:j]
                continue
            A = buf[: j - i]
            if self.x_mean is not None:
                np.subtract(self.X[i:j], self.x_mean, out=A)
            else:
                A[...] = self.X[i:j]
            if self.sqrt_sw is not None:
                A *= self.sqrt_sw[i:j, None]
            yield i, j, A

    def dot(self, beta):
        if self._direct:
            with single_threaded_blas():
                out = self.X @ beta
            if self.x_mean is not None:
                out -= self.x_mean @ beta
            if self.sqrt_sw is not None:
                out *= self.sqrt_sw
            return out
        out = np.empty(self.n_samples)
        with single_threaded_blas():
            for i, j, A in self._blocks():
                out[i:j] = A @ beta
        return out

    def rdot(self, r):
        if self._direct:
            rw = r if self.sqrt_sw is None else self.sqrt_sw * r
            with single_threaded_blas():
                out = self.X.T @ rw
            if self.x_mean is not None:
                out -= self.x_mean * rw.sum()
            return out
        out = np.zeros(self.n_features)
        with single_threaded_blas():
            for i, j, A in self._blocks():
                out += A.T @ r[i:j]
        return out

    def residual_and_grad(self, b, beta):
        if self._direct:
            return super().residual_and_grad(b, beta)
        resid = np.empty(self.n_samples)
        grad = np.zeros(self.n_features)
        with single_threaded_blas():
            for i, j, A in self._blocks():
                r = b[i:j] - A @ beta
                resid[i:j] = r
                grad += A.T @ r
        return resid, grad / self.n_samples

    def full_gram(self):
        if self._gram is None:
            self._gram_pass()
        return self._gram

    def gram(self, rows, cols):
        return self.full_gram()[np.ix_(np.asarray(rows, dtype=np.intp),
                                 np.asarray(cols, dtype=np.intp))]

    def _dense_columns(self, cols):
        sub = np.array(self.X[:, cols], dtype=np.float64)
        if self.x_mean is not None:
            sub -= self.x_mean[cols]
        if self.sqrt_sw is not None:
            sub *= self.sqrt_sw[:, None]
        return sub

    def col_sq_norms(self):
        if self._gram is None:
            self._gram_pass()
        return self._col_sq_norms


def preprocess(X, y, sample_weight, fit_intercept, tall=False):
    """Centre and weight ``X`` (n, p) and ``y`` (n,) or (n, k) as described in the module docstring.

    Returns ``(design, b, x_offset, y_offset)``: ``b`` is the transformed target, the offsets are
    the (weighted) means to recover the intercept as ``y_offset − x_offsetᵀβ``. ``tall``: a
    dense X of a tall shape (:func:`is_tall`) becomes a :class:`TallDesign` (no copy of X),
    for the lasso's Gram route.
    """
    n, p = X.shape
    if sparse.issparse(X) and X.dtype != np.float64:
        X = X.astype(np.float64)  # the kernels are compiled for float64 only
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        sw = sw * (n / sw.sum())
    if fit_intercept:
        if sw is None:
            x_offset = np.asarray(X.mean(axis=0)).ravel()
            y_offset = y.mean(axis=0)
        else:
            x_offset = np.asarray(sw @ X).ravel() / n
            y_offset = sw @ y / n
    else:
        x_offset = np.zeros(p)
        y_offset = np.zeros(y.shape[1:]) if y.ndim > 1 else 0.0
    b = y - y_offset
    sqrt_sw = None if sw is None else np.sqrt(sw)
    if sqrt_sw is not None:
        b = b * (sqrt_sw if b.ndim == 1 else sqrt_sw[:, None])
    if tall and not sparse.issparse(X) and is_tall(n, p):
        b = np.ascontiguousarray(b, dtype=np.float64)
        x_mean = np.asarray(x_offset, dtype=np.float64) if fit_intercept else None
        design = TallDesign(X, x_mean, sqrt_sw,
                            b if b.ndim == 2 else b[:, None])
        return design, b, x_offset, y_offset
    if sparse.issparse(X):
        Xs = X if sqrt_sw is None else sparse.csc_matrix(sparse.diags(sqrt_sw) @ X)
        design = Design(sparse.csc_matrix(Xs), x_offset if fit_intercept else None, sqrt_sw)
    else:
        # centring and weighting work on a copy; otherwise X is used as it is (never written)
        modified = fit_intercept or sqrt_sw is not None
        A = np.array(X, dtype=np.float64, copy=True if modified else None, order="F")
        if fit_intercept:
            A -= x_offset
        if sqrt_sw is not None:
            A *= sqrt_sw[:, None]
        design = Design(A)
    return design, np.ascontiguousarray(b, dtype=np.float64), x_offset, y_offset


class TaskDesign:
    """The multi-task design ``A ⊗ I_T`` as the working-set loop sees it.

    The multi-task lasso ``1/(2n)‖B − AW‖²_F + α Σ_j ‖W_j‖₂`` is the group lasso of the design
    ``A ⊗ I_T`` with one group per feature (the row ``W_j`` of the p×T coefficient matrix).
    Its Gram matrix is ``G ⊗ I_T`` with ``G = AᵀA/n``, so only the features' Gram blocks are
    ever computed (``gram`` works on features, not on coefficients) and the solver applies
    ``G`` to the working set's m×T coefficient block. Coefficients are p×T matrices and
    residuals n×T matrices (passed raveled, row-major, where a flat vector is expected);
    products go through the single-task ``Design``, so sparse X stays sparse and implicitly
    centred.
    """

    is_sparse = False  # the solver works in Gram form (features' Gram) on it

    def __init__(self, design, n_tasks):
        self.base = design
        self.n_tasks = n_tasks
        self.n_samples = design.n_samples
        self.n_features = design.n_features

    def dot(self, W):
        """``A W`` (n×T) for a p×T coefficient matrix."""
        base = self.base
        out = np.asarray(base.X @ W)
        if base.x_mean is not None:
            out = out - np.outer(base.sqrt_sw, base.x_mean @ W)
        return out

    def rdot(self, r):
        """``Aᵀ R`` (p×T) for a residual matrix ``R`` given as n×T or raveled."""
        base = self.base
        R = np.reshape(r, (self.n_samples, self.n_tasks))
        out = np.asarray(base.X.T @ R)
        if base.x_mean is not None:
            out = out - np.outer(base.x_mean, base.sqrt_sw @ R)
        return out

    def gram(self, rows, cols):
        """The features' Gram block ``A[:, rows]ᵀ A[:, cols] / n``."""
        return self.base.gram(rows, cols)

    def col_sq_norms(self):
        return self.base.col_sq_norms()


def target_scale(b):
    """A power of two near the root mean square of the (centred, weighted) target ``b``
    when that is outside ``[2^-20, 2^20]``, else 1. The group, multi-task and lq solvers run
    on ``b / scale`` (the solution scales with it, and alpha as the penalty's degree says):
    their factor kernels square alpha and the coefficients, which over- or underflows for
    targets of size 1e±80, where the lasso's does not. Ordinary targets are left alone
    (the lq solvers' non-convex searches have thresholds tuned at unit scale), and a power
    of two rescales exactly."""
    biggest = float(np.max(np.abs(b))) if b.size else 0.0
    if biggest == 0.0 or not np.isfinite(biggest):
        return 1.0
    rms = biggest * float(np.sqrt(np.vdot(b / biggest, b / biggest) / b.shape[0]))
    if 2.0**-20 <= rms <= 2.0**20 or rms == 0.0:
        return 1.0
    return float(2.0 ** np.round(np.log2(rms)))
