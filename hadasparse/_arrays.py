"""Small numba helpers on plain arrays, shared by the kernels of every layer.

:func:`copy_into` and :func:`copy_into_2d` replace ``dst[:] = src`` between arrays in the
kernels: numba compiles each such slice assignment with a shape check whose error message is
formatted at run time, and that formatting (string conversions and concatenation) costs
seconds of compilation in every process that fills an empty cache; a loop needs none of it.
"""

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
