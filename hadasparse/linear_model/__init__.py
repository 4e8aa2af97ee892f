"""Estimators."""

from ._group import HadamardGroupLasso, group_lasso_alpha_max
from ._lasso import HadamardLasso
from ._lasso_cv import HadamardLassoCV
from ._lq import HadamardLqRegressor
from ._multitask import HadamardMultiTaskLasso
from ._path_cv import HadamardGroupLassoCV, HadamardLqRegressorCV, HadamardMultiTaskLassoCV

__all__ = ["HadamardGroupLasso", "HadamardGroupLassoCV", "HadamardLqRegressorCV",
           "HadamardMultiTaskLassoCV", "HadamardLasso", "HadamardLassoCV", "HadamardLqRegressor",
           "HadamardMultiTaskLasso", "group_lasso_alpha_max"]
from ._logistic import HadamardLogisticRegression  # noqa: E402

__all__ += ["HadamardLogisticRegression"]
from ._logistic_cv import HadamardLogisticRegressionCV, hadamard_logistic_path  # noqa: E402

__all__ += ["HadamardLogisticRegressionCV", "hadamard_logistic_path"]
