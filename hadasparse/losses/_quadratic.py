"""The squared-error loss on a working set, as the numba solvers see it.

On a working set W of k features the smooth part of every regression objective is the
quadratic ``1/2 βᵀQβ − cᵀβ`` with ``Q = A_Wᵀ A_W / n + l2 I`` and ``c = A_Wᵀ b / n`` (``A``, ``b``
the centred, weighted design and target of :mod:`hadasparse._design`; ``l2`` the elastic-net
ridge ``α (1 − l1_ratio)``, 0 for the pure sparse penalties). Kernels reach it through
``op``, a tuple built by :func:`gram_operator` or :func:`sparse_operator`:

- Gram form ``(True, G, c)``: ``G`` (k×k) is ``Q`` itself (the ridge already on its diagonal)
  and ``c`` is given;
- multi-task Gram form ``(True, G, c, T)`` (T > 1 tasks): ``Q = G ⊗ I_T`` with ``G`` the
  features' Gram matrix (m×m) and ``c`` (m·T, feature-major), see :func:`quad_grad`;
- sparse form
  ``(False, G, c, b, data, indices, indptr, rdata, rindices, rindptr, x_mean, sqrt_sw, l2)``
  (``G``, ``c`` empty): the working-set columns of the design as CSC (``data, indices,
  indptr``) and CSR (``rdata, rindices, rindptr``; column indices are positions in the working
  set) with the implicit centring ``A = X − sqrt_sw x_meanᵀ``, target ``b`` and the ridge
  ``l2`` -- a sparse design is never densified, and a mat-vec costs O(nnz) instead of O(k²).

The forms are numba types of different lengths (:data:`GRAM_FORM`, :data:`TASK_FORM`,
:data:`SPARSE_FORM`), and the kernels branch on ``len(op)`` (not on the flag ``op[0]``, which
Python code may read): numba replaces ``len`` of a tuple argument by a constant and prunes the
other forms' branches before typing, so that a kernel compiled for one form holds none of the
other forms' code -- a dense fit (Gram form) compiles no sparse products, a sparse fit no Gram
ones, a single-task fit no ``G ⊗ I_T`` products and the multi-task polish no single-task
ones. The test has to be on the kernel's own argument ``op`` (pruning does not see through a
helper function).

The ``op_*`` kernels are the loss's value, gradient, Hessian diagonal, Hessian columns and
blocks and Hessian-vector products; every solver kernel goes through them (or through ``G``
in Gram form), so a model never handles the two forms itself.
"""

import numpy as np
from numba import njit

from .._arrays import copy_into

_EMPTY = np.zeros(0)
_EMPTY_2D = np.zeros((0, 0))
_EMPTY_INT = np.zeros(0, dtype=np.int64)

# len(op) of each form
GRAM_FORM = 3
TASK_FORM = 4
SPARSE_FORM = 13


def gram_operator(G, c, l2=0.0, T=1):
    """``op`` in Gram form for the quadratic ``1/2 βᵀ(G + l2 I)β − cᵀβ`` (``G`` is not
    modified: with a ridge, a copy carries it); for ``T > 1`` tasks the multi-task Gram form,
    ``Q = (G + l2 I) ⊗ I_T`` (the kernels that take it are passed the same ``T``)."""
    if l2 != 0.0:
        G = G + l2 * np.eye(G.shape[0])
    if T > 1:
        return (True, G, c, T)
    return (True, G, c)


def sparse_operator(design, b, columns, l2=0.0, rows=True):
    """``op`` in sparse form: the columns ``columns`` of a ``Design`` and target ``b``
    (``rows=False``: a dense design's columns without their CSR copy, see
    :meth:`hadasparse._design.Design.columns_csc_csr`)."""
    return ((False, _EMPTY_2D, _EMPTY, b) + design.columns_csc_csr(columns, rows)
            + (float(l2),))


@njit(cache=True)
def _columns_times(op, cols, m, d):
    """``A[:, cols[:m]] d`` (operator form only); ``cols`` None: ``A[:, :m] d`` (numba
    compiles that case on its own, without an index array)."""
    data, indices, indptr, x_mean, sqrt_sw = op[4], op[5], op[6], op[10], op[11]
    u = np.zeros(sqrt_sw.shape[0])
    shift = 0.0
    for a in range(m):
        j = a if cols is None else cols[a]
        da = d[a]
        if da != 0.0:
            for ii in range(indptr[j], indptr[j + 1]):
                u[indices[ii]] += data[ii] * da
            shift += x_mean[j] * da
    if shift != 0.0:
        for i in range(u.shape[0]):
            u[i] -= shift * sqrt_sw[i]
    return u


@njit(cache=True, inline='always')
def op_matvec(op, beta):
    """``A β`` (operator form only). Inlined (numba IR) into its caller, :func:`op_grad`: a
    function of its own is compiled, and re-optimised in every caller's module."""
    return _columns_times(op, None, beta.shape[0], beta)


@njit(cache=True)
def op_grad(op, beta):
    """``(1/2 βᵀGβ − cᵀβ, Gβ − c)``."""
    k = beta.shape[0]
    if len(op) == GRAM_FORM:
        G, c = op[1], op[2]
        Gb = G @ beta
        value = 0.5 * (beta @ Gb) - c @ beta
        grad = np.empty(k)
        for j in range(k):
            grad[j] = Gb[j] - c[j]
        return value, grad
    b, data, indices, indptr, x_mean, sqrt_sw = op[3], op[4], op[5], op[6], op[10], op[11]
    n = b.shape[0]
    resid = op_matvec(op, beta)
    for i in range(n):
        resid[i] = b[i] - resid[i]
    # BLAS dot products: these n-long reductions are on every gradient's critical path
    s_r = sqrt_sw @ resid
    value = 0.5 * ((resid @ resid) - (b @ b)) / n
    grad = np.empty(k)
    l2 = op[12]
    for j in range(k):
        acc = 0.0
        for ii in range(indptr[j], indptr[j + 1]):
            acc += data[ii] * resid[indices[ii]]
        grad[j] = -(acc - x_mean[j] * s_r) / n + l2 * beta[j]
    if l2 != 0.0:
        value += 0.5 * l2 * (beta @ beta)
    return value, grad


@njit(cache=True)
def op_grad_update(op, grad, beta, act, m, step):
    """Bring ``grad``, the gradient before the active coordinates ``act[:m]`` moved by
    ``step``, up to date at ``beta``: in Gram form by the rows of G of the moved coordinates
    when they are few; else (many moved, or sparse columns) by a fresh product."""
    k = grad.shape[0]
    n_moved = 0
    for a in range(m):
        if step[a] != 0.0:
            n_moved += 1
    if len(op) == GRAM_FORM and 4 * n_moved < k:
        G = op[1]
        for a in range(m):
            s = step[a]
            if s != 0.0:
                row = G[act[a]]
                for j in range(k):
                    grad[j] += s * row[j]
    else:
        copy_into(grad, op_grad(op, beta)[1])


@njit(cache=True)
def op_diag(op, k):
    if len(op) == GRAM_FORM:
        G = op[1]
        out = np.empty(k)
        for j in range(k):
            out[j] = G[j, j]
        return out
    data, indptr, x_mean, sqrt_sw = op[4], op[6], op[10], op[11]
    n = sqrt_sw.shape[0]
    out = np.empty(k)
    for j in range(k):
        acc = 0.0
        for ii in range(indptr[j], indptr[j + 1]):
            acc += data[ii] * data[ii]
        out[j] = max(acc / n - x_mean[j] * x_mean[j], 0.0) + op[12]
    return out


@njit(cache=True)
def op_gram_column(op, j, act, m, pos):
    """``G[act[:m], j]``; ``pos`` maps a working-set index to its place in ``act`` (or -1)."""
    out = np.zeros(m)
    if len(op) == GRAM_FORM:
        G = op[1]
        for a in range(m):
            out[a] = G[act[a], j]
        return out
    data, indices, indptr = op[4], op[5], op[6]
    rdata, rindices, rindptr, x_mean, sqrt_sw = op[7], op[8], op[9], op[10], op[11]
    n = sqrt_sw.shape[0]
    for ii in range(indptr[j], indptr[j + 1]):
        i = indices[ii]
        xij = data[ii]
        for jj in range(rindptr[i], rindptr[i + 1]):
            a = pos[rindices[jj]]
            if a >= 0:
                out[a] += xij * rdata[jj]
    for a in range(m):
        out[a] = out[a] / n - x_mean[act[a]] * x_mean[j]
        if act[a] == j:
            out[a] += op[12]
    return out


@njit(cache=True)
def op_gram_block(op, act, m, pos):
    """``G[act[:m]][:, act[:m]]`` as a dense m×m array."""
    out = np.zeros((m, m))
    if len(op) == GRAM_FORM:
        G = op[1]
        for a in range(m):
            for b in range(m):
                out[a, b] = G[act[a], act[b]]
        return out
    rdata, rindices, rindptr, x_mean, sqrt_sw = op[7], op[8], op[9], op[10], op[11]
    n = sqrt_sw.shape[0]
    # row by row: each row adds the outer product of its active entries
    for i in range(n):
        for jj in range(rindptr[i], rindptr[i + 1]):
            a = pos[rindices[jj]]
            if a < 0:
                continue
            va = rdata[jj]
            for ll in range(rindptr[i], rindptr[i + 1]):
                b = pos[rindices[ll]]
                if b >= 0:
                    out[a, b] += va * rdata[ll]
    for a in range(m):
        xa = x_mean[act[a]]
        for b in range(m):
            out[a, b] = out[a, b] / n - xa * x_mean[act[b]]
        out[a, a] += op[12]
    return out


@njit(cache=True)
def op_active_times(op, act, m, d):
    """``G[act][:, act] d``."""
    out = np.zeros(m)
    if len(op) == GRAM_FORM:
        G = op[1]
        for a in range(m):
            ja = act[a]
            s = 0.0
            for b in range(m):
                s += G[ja, act[b]] * d[b]
            out[a] = s
        return out
    data, indices, indptr, x_mean, sqrt_sw = op[4], op[5], op[6], op[10], op[11]
    n = sqrt_sw.shape[0]
    u = _columns_times(op, act, m, d)
    s_u = sqrt_sw @ u
    for a in range(m):
        j = act[a]
        acc = 0.0
        for ii in range(indptr[j], indptr[j + 1]):
            acc += data[ii] * u[indices[ii]]
        out[a] = (acc - x_mean[j] * s_u) / n + op[12] * d[a]
    return out


@njit(cache=True)
def _kron_times(G, T, v):
    """``(G ⊗ I_T) v`` for ``v`` stored feature-major (``v.reshape(m, T)``)."""
    m = G.shape[0]
    return np.ascontiguousarray(G @ np.ascontiguousarray(v).reshape((m, T))).reshape(m * T)


@njit(cache=True)
def quad_grad(op, T, beta):
    """``(1/2 βᵀQβ − cᵀβ, Qβ − c)``: ``op``'s quadratic, ``G ⊗ I_T`` in multi-task form."""
    if len(op) != TASK_FORM:
        return op_grad(op, beta)
    Qb = _kron_times(op[1], T, beta)
    return 0.5 * (beta @ Qb) - op[2] @ beta, Qb - op[2]


@njit(cache=True)
def quad_diag(op, T, k):
    """The diagonal of ``Q`` (k coordinates)."""
    if len(op) != TASK_FORM:
        return op_diag(op, k)
    G = op[1]
    out = np.empty(k)
    for j in range(k):
        out[j] = G[j // T, j // T]
    return out
