"""Small numba helpers on plain arrays, shared by the kernels of every layer.

:func:`copy_into` and :func:`copy_into_2d` replace ``dst[:] = src`` between arrays in the
kernels: numba compiles each such slice assignment with a shape check whose error message is
formatted at run time, and that formatting (string conversions and concatenation) costs
seconds of compilation in every process that fills an empty cache; a loop needs none of it.
For the same reason :func:`argsort_into` (a heapsort), :func:`nonzero_indices`,
:func:`abs_max` and :func:`abs_power_sum` replace ``np.argsort`` (numba's quicksort compiles
in about 2 s), ``np.flatnonzero`` and array expressions in the kernels.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def copy_into(dst, src):
    """``dst[:] = src`` for 1-d arrays of the same length (not checked)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@njit(cache=True)
def copy_into_2d(dst, src):
    """``dst[:, :] = src`` for 2-d arrays of the same shape (not checked)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@njit(cache=True)
def argsort_into(values, n, order):
    """Write into ``order[:n]`` the indices that sort ``values[:n]`` ascending (heapsort; the
    order of ties is unspecified, as with ``np.argsort``). Replaces ``np.argsort`` in the
    kernels, whose quicksort compiles in seconds."""
    for i in range(n):
        order[i] = i
    # build a max-heap on values[order[.]]
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(values, order, start, n)
    for end in range(n - 1, 0, -1):
        top = order[0]
        order[0] = order[end]
        order[end] = top
        _sift_down(values, order, np.int64(0), end)


@njit(cache=True, inline='always')
def _sift_down(values, order, root, end):
    """Sift ``order[root]`` down the max-heap on ``values[order[:end]]``. Inlined (numba IR)
    into :func:`argsort_into`, its only caller: a function of its own is compiled, and then
    optimised and emitted once more inside every caller's module."""
    item = order[root]
    v = values[item]
    while True:
        child = 2 * root + 1
        if child >= end:
            break
        if child + 1 < end and values[order[child + 1]] > values[order[child]]:
            child += 1
        if values[order[child]] <= v:
            break
        order[root] = order[child]
        root = child
    order[root] = item


@njit(cache=True)
def nonzero_indices(x):
    """``np.flatnonzero(x)`` for a 1-d float array (its compiled form is a few lines here)."""
    n = 0
    for i in range(x.shape[0]):
        if x[i] != 0.0:
            n += 1
    out = np.empty(n, dtype=np.int64)
    n = 0
    for i in range(x.shape[0]):
        if x[i] != 0.0:
            out[n] = i
            n += 1
    return out


@njit(cache=True)
def abs_max(x):
    """``max |x_i|`` (0 for an empty array)."""
    out = 0.0
    for i in range(x.shape[0]):
        a = abs(x[i])
        if a > out:
            out = a
    return out


@njit(cache=True)
def abs_power_sum(x, q):
    """``Σ |x_i|^q`` over the nonzeros (the ℓq penalty without α)."""
    out = 0.0
    for i in range(x.shape[0]):
        if x[i] != 0.0:
            out += abs(x[i]) ** q
    return out


@njit(cache=True)
def csc_matvec_nonzero(data, indices, indptr, n_rows, x):
    """``A x`` for the CSC matrix ``(data, indices, indptr)`` with ``n_rows`` rows, over the
    columns where ``x`` is nonzero only: the sums of scipy's ``csc_matvec`` in its order
    (column by column), without the zero columns' terms, which add only zeros. A sparse
    design's residual ``b − Aβ`` at a sparse β reads a fraction of the design."""
    out = np.zeros(n_rows)
    for j in range(x.shape[0]):
        xj = x[j]
        if xj != 0.0:
            for ii in range(indptr[j], indptr[j + 1]):
                out[indices[ii]] += data[ii] * xj
    return out
