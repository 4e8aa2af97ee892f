"""Solvers for losses beyond squared error: outer loops that hand weighted squared-error
models to the working-set solvers of :mod:`hadasparse._solver` and
:mod:`hadasparse._lq_solver` (see :mod:`hadasparse.solvers._prox_newton`)."""
