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
from .paths import hadamard_lasso_path

__version__ = "0.1.0"

__all__ = ["HadamardGroupLasso", "HadamardGroupLassoCV", "HadamardLqRegressorCV",
           "HadamardMultiTaskLassoCV", "HadamardLasso", "HadamardLassoCV", "HadamardLqRegressor",
           "HadamardMultiTaskLasso", "group_lasso_alpha_max", "hadamard_lasso_path", "__version__"]
