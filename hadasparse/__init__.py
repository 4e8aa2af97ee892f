"""hadasparse: sparse regularised models solved by smooth optimisation of Hadamard
overparametrisations (Kolb et al., arXiv:2307.03571)."""

from .linear_model import (
    HadamardGroupLasso,
    HadamardLasso,
    HadamardLassoCV,
    HadamardMultiTaskLasso,
    group_lasso_alpha_max,
)
from .linear_model import (
    HadamardGroupLassoCV,
    HadamardLqRegressor,
    HadamardLqRegressorCV,
    HadamardMultiTaskLassoCV,
)
from .linear_model import (
    HadamardLogisticRegression,
    HadamardLogisticRegressionCV,
    hadamard_logistic_path,
)
from .paths import hadamard_group_lasso_path, hadamard_lasso_path, hadamard_lq_path

__version__ = "0.1.0"

__all__ = [
    "HadamardGroupLasso",
    "HadamardGroupLassoCV",
    "HadamardLasso",
    "HadamardLassoCV",
    "HadamardLogisticRegression",
    "HadamardLogisticRegressionCV",
    "HadamardLqRegressor",
    "HadamardLqRegressorCV",
    "HadamardMultiTaskLasso",
    "HadamardMultiTaskLassoCV",
    "group_lasso_alpha_max",
    "hadamard_group_lasso_path",
    "hadamard_lasso_path",
    "hadamard_logistic_path",
    "hadamard_lq_path",
    "__version__",
]
