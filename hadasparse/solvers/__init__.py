"""Optimisers on the Hadamard factors, shared by every model.

- :mod:`._lbfgs`: the one L-BFGS/Armijo loop on the factors of any penalty's surrogate;
- :mod:`._lasso_kernels`, :mod:`._group_kernels`, :mod:`._lq_kernels`: the numba solves of one
  working set (the L-BFGS loop, the snap to exact zeros, and the finishes specialised where
  the algorithms really differ: the lasso's active-set polish with an updated Cholesky
  factor, the group Newton polish, the ℓq proximal finish and local search);
- :mod:`._working_set`: the working-set loop of the convex models (certificates by duality
  gap, growth by KKT violation) and its drivers ``solve_lasso`` (elastic net included),
  ``solve_group_lasso``, ``solve_multitask_lasso``;
- :mod:`._lq`: the non-convex ℓq drivers ``solve_lq``, ``solve_group_lq`` (fixed-point
  certificates, starts, local search);
- :mod:`._prox_newton`: losses beyond squared error (logistic, multinomial): a
  proximal-Newton outer loop that hands weighted squared-error models to the drivers above
  and stops on the loss's own duality gap.

Everything here works on a preprocessed design (:mod:`hadasparse._design`); the estimators
reach it through :mod:`hadasparse.paths`.
"""

from ._lq import (
    depth_of,
    group_lipschitz,
    group_lq_alpha_max,
    group_lq_fixed_point_residual,
    lq_alpha_max,
    lq_fixed_point_residual,
    solve_group_lq,
    solve_lq,
)
from ._working_set import (
    GAP_FLOOR,
    WorkingSet,
    group_alpha_max,
    lasso_duality_gap,
    multitask_duality_gap,
    single_threaded_blas,
    solve_group_lasso,
    solve_lasso,
    solve_multitask_lasso,
    warn_not_converged,
)

__all__ = [
    "GAP_FLOOR", "WorkingSet", "depth_of", "group_alpha_max", "group_lipschitz",
    "group_lq_alpha_max", "group_lq_fixed_point_residual", "lasso_duality_gap",
    "lq_alpha_max", "lq_fixed_point_residual", "multitask_duality_gap", "single_threaded_blas",
    "solve_group_lasso", "solve_group_lq", "solve_lasso", "solve_lq", "solve_multitask_lasso",
    "warn_not_converged",
]
