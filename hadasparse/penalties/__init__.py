"""Sparse penalties: their proximal maps (the snap to exact zeros) and their smooth Hadamard
surrogates (factor maps, ridge gradients on the factors, balanced starts).

The numba kernels of the working-set solvers use the scalar proximal maps of
:mod:`hadasparse.penalties._prox`; numpy-level solvers (stochastic gradient, neural
networks) use :class:`HadamardPenalty`.
"""

from ._factors import HadamardPenalty
from ._prox import lq_prox, lq_threshold, radial_lq_prox

__all__ = ["HadamardPenalty", "lq_prox", "lq_threshold", "radial_lq_prox"]
