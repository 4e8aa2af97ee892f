"""Estimators."""

from ._group import HadamardGroupLasso, group_lasso_alpha_max
from ._lasso import HadamardLasso
from ._multitask import HadamardMultiTaskLasso

__all__ = ["HadamardGroupLasso", "HadamardLasso", "HadamardMultiTaskLasso",
           "group_lasso_alpha_max"]
