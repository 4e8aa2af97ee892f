"""Estimators."""

from ._lasso import HadamardLasso

__all__ = ["HadamardLasso"]
