"""hadasparse: sparse regularised models solved by smooth optimisation of Hadamard
overparametrisations (Kolb et al., arXiv:2307.03571)."""

from .linear_model import (
    HadamardElasticNet,
    HadamardElasticNetCV,
    HadamardMultiTaskElasticNet,
    HadamardMultiTaskElasticNetCV,
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
    HadamardSGDClassifier,
    HadamardSGDRegressor,
)
from .neural_network import HadamardMLPClassifier, HadamardMLPRegressor
from .paths import (
    hadamard_enet_path,
    hadamard_group_lasso_path,
    hadamard_lasso_path,
    hadamard_lq_path,
)
from .linear_model import (
    HadamardLogisticRegression,
    HadamardLogisticRegressionCV,
    hadamard_logistic_path,
)

__version__ = "0.1.0"

__all__ = [
    "HadamardElasticNet",
    "HadamardElasticNetCV",
    "HadamardMultiTaskElasticNet",
    "HadamardMultiTaskElasticNetCV",
    "hadamard_enet_path",
    "HadamardGroupLasso",
    "HadamardGroupLassoCV",
    "HadamardLasso",
    "HadamardLassoCV",
    "HadamardLogisticRegression",
    "HadamardLogisticRegressionCV",
    "HadamardLqRegressor",
    "HadamardLqRegressorCV",
    "HadamardMLPClassifier",
    "HadamardMLPRegressor",
    "HadamardMultiTaskLasso",
    "HadamardMultiTaskLassoCV",
    "HadamardSGDClassifier",
    "HadamardSGDRegressor",
    "group_lasso_alpha_max",
    "hadamard_group_lasso_path",
    "hadamard_lasso_path",
    "hadamard_logistic_path",
    "hadamard_lq_path",
    "__version__",
]
