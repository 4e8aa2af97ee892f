"""Optimisers on the Hadamard factors, shared by every model: the L-BFGS/Armijo loop
(:mod:`._lbfgs`), and above it the working-set drivers, polishes and certificates."""
