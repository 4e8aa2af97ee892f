"""Estimators."""

from ._enet import (
    HadamardElasticNet,
    HadamardElasticNetCV,
    HadamardMultiTaskElasticNet,
    HadamardMultiTaskElasticNetCV,
)
from ._group import HadamardGroupLasso, group_lasso_alpha_max
from ._lasso import HadamardLasso
from ._lasso_cv import HadamardLassoCV
from ._lq import HadamardLqRegressor
from ._multitask import HadamardMultiTaskLasso
from ._sgd import HadamardSGDClassifier, HadamardSGDRegressor
from ._path_cv import HadamardGroupLassoCV, HadamardLqRegressorCV, HadamardMultiTaskLassoCV

__all__ = ["HadamardElasticNet", "HadamardElasticNetCV", "HadamardMultiTaskElasticNet",
           "HadamardMultiTaskElasticNetCV", "HadamardGroupLasso", "HadamardGroupLassoCV", "HadamardLqRegressorCV",
           "HadamardMultiTaskLassoCV", "HadamardLasso", "HadamardLassoCV", "HadamardLqRegressor",
           "HadamardMultiTaskLasso", "HadamardSGDClassifier", "HadamardSGDRegressor",
           "group_lasso_alpha_max"]
