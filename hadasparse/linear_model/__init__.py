"""Estimators."""

from ._group import HadamardGroupLasso, group_lasso_alpha_max
from ._lasso import HadamardLasso
from ._lasso_cv import HadamardLassoCV
from ._lq import HadamardLqRegressor
from ._multitask import HadamardMultiTaskLasso

__all__ = ["HadamardGroupLasso", "HadamardLasso", "HadamardLassoCV", "HadamardLqRegressor",
           "HadamardMultiTaskLasso", "group_lasso_alpha_max"]
