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
from ._logistic import HadamardLogisticRegression
from ._logistic_cv import HadamardLogisticRegressionCV, hadamard_logistic_path
from ._lq import HadamardLqRegressor
from ._multitask import HadamardMultiTaskLasso
from ._path_cv import HadamardGroupLassoCV, HadamardLqRegressorCV, HadamardMultiTaskLassoCV
from ._sgd import HadamardSGDClassifier, HadamardSGDRegressor

__all__ = [
    "HadamardElasticNet", "HadamardElasticNetCV", "HadamardGroupLasso", "HadamardGroupLassoCV",
    "HadamardLasso", "HadamardLassoCV", "HadamardLogisticRegression",
    "HadamardLogisticRegressionCV", "HadamardLqRegressor", "HadamardLqRegressorCV",
    "HadamardMultiTaskElasticNet", "HadamardMultiTaskElasticNetCV", "HadamardMultiTaskLasso",
    "HadamardMultiTaskLassoCV", "HadamardSGDClassifier", "HadamardSGDRegressor",
    "group_lasso_alpha_max", "hadamard_logistic_path",
]
