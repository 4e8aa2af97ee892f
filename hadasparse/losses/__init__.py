"""Data-fitting terms, written once for every model and solver.

A loss is a function ``ℓ(y, z)`` of a target and a linear predictor (``z = Xw + b``: a
vector, or an n×K matrix for the multinomial loss). Each class gives, per sample and
vectorised in numpy:

- ``value(y, z)``: ``ℓ(y_i, z_i)``;
- ``gradient(y, z)``: ``∂ℓ/∂z`` (the "generalised residual" with its sign flipped);
- ``hessian(y, z)``: ``∂²ℓ/∂z²`` (diagonal; the multinomial's is per class, an upper bound
  of the block for a diagonal Newton model): the sample weights of a proximal-Newton /
  IRLS step, whose working response is ``z − gradient / hessian``;
- ``conjugate(y, u)``: the Fenchel conjugate ``ℓ*(y, u) = sup_z u z − ℓ(y, z)`` (``+inf``
  outside its domain), which gives the dual objective and so the duality gap;
- ``intercept_only(y, sample_weight)``: the optimal constant predictor, the point at which
  the gradient gives ``α_max`` (the smallest penalty with all coefficients zero).

The squared error is what the working-set solvers of :mod:`hadasparse.solvers` solve
directly (through the centred, weighted design); the others reach them through a
proximal-Newton loop of weighted squared errors.
"""

from ._pointwise import Logistic, Multinomial, SquaredError, get_loss

__all__ = ["Logistic", "Multinomial", "SquaredError", "get_loss"]
