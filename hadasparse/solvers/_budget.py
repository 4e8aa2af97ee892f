"""The memory budget of the working-set solvers.

A fit's extra memory must grow linearly with the data: O(nnz(X) + n·|W| + p), never with the
square of the working set |W| without a bound. The dense square arrays a solve would like to
keep -- a working set's Gram block, the polish's Cholesky factor -- are allowed
up to :func:`square_cap` rows:

- on a dense design, ``max(n, floor)``: a k×k block with k ≤ n costs at most the working
  set's columns (n·k); beyond, the column form (16 bytes per entry, and its mat-vecs cost
  n·k where the Gram matrix's cost k²) is both smaller and faster;
- on a sparse design, ``max(√(4 nnz), floor)``: the block costs at most four times the
  design's non-zeros (a sparse design's working-set columns may be far fewer than n·k);

with ``floor`` = :data:`SQUARE_FLOOR` (2048 rows, 32 MB). Beyond the cap a solver uses a
method whose memory is linear (the sparse operator and a coordinate-descent finish, see
:mod:`hadasparse.solvers._lasso_kernels`). Tests force the floor low with :func:`square_floor`.
"""

from contextlib import contextmanager

import numpy as np

SQUARE_FLOOR = 2048
_floor = [SQUARE_FLOOR]


def square_cap(n_samples, nnz=None):
    """The most rows of a dense float64 square array a solve may keep: ``nnz`` is the number
    of stored entries of a sparse design, None for a dense one."""
    if nnz is None:
        return max(int(n_samples), _floor[0])
    return max(int(np.sqrt(4.0 * nnz)), _floor[0])


def design_square_cap(design):
    """:func:`square_cap` of a :class:`hadasparse._design.Design` (or TaskDesign)."""
    base = getattr(design, "base", design)
    return square_cap(base.n_samples, base.X.nnz if base.is_sparse else None)


@contextmanager
def square_floor(rows):
    """Temporarily set the floor of :func:`square_cap` (tests: a small floor makes small
    problems take the linear-memory routes)."""
    old = _floor[0]
    _floor[0] = int(rows)
    try:
        yield
    finally:
        _floor[0] = old
