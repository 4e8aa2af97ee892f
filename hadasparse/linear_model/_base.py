"""What every hadasparse linear model shares: sparse-input tags, data validation, the alpha=0
warning, ``predict`` and ``sparse_coef_``."""

import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import MODEL_CONSTRAINTS, check_finite_params, check_magnitudes


def to_output_dtype(values, dtype, what):
    """``values`` cast to the coefficients' dtype (X's), or a ValueError when a finite value
    does not fit in it (float32 X with a huge target) instead of an infinite coefficient."""
    out = np.asarray(values).astype(dtype, copy=False)
    if dtype != np.float64 and not np.all(np.isfinite(out)):
        raise ValueError(
            f"The fitted {what} exceed the range of {np.dtype(dtype).name}, the dtype of X "
            f"(largest magnitude {np.max(np.abs(values)):.3e}); pass X as float64."
        )
    return out


class HadamardLinearModel(RegressorMixin, BaseEstimator):
    """Base class: a linear model ``X @ coef_.T + intercept_`` fitted on dense or sparse X.

    Subclasses declare their parameters' constraints in ``_parameter_constraints`` (sklearn's
    form, composed from :data:`~hadasparse._validation.MODEL_CONSTRAINTS`) and add checks
    that constraints cannot express by extending :meth:`_validate_params`.
    """

    _parameter_constraints: dict = {**MODEL_CONSTRAINTS}
    _finite_params = ("alpha", "tol")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _validate_params(self):
        """sklearn's check of ``_parameter_constraints`` (an ``InvalidParameterError`` with
        sklearn's message), then finiteness of the real parameters."""
        super()._validate_params()
        check_finite_params(self, self._finite_params)

    def _validate_fit_data(self, X, y, *, multi_output=False, sparse_format="csc",
                           magnitudes=True):
        """Validated ``(X, y, out_dtype)``: X float64 or float32 (the dtype the coefficients
        are returned in), sparse X in ``sparse_format`` with finite entries, y float64.
        ``magnitudes=False``: the caller runs ``check_magnitudes`` itself (before any
        arithmetic on X that could overflow)."""
        X, y = validate_data(
            self, X, y,
            accept_sparse=["csc", "csr", "coo"],
            dtype=[np.float64, np.float32],
            multi_output=multi_output,
            y_numeric=True,
        )
        if sparse.issparse(X):
            X = X.asformat(sparse_format)
            if not np.all(np.isfinite(X.data)):
                raise ValueError("Input X contains NaN or infinity.")
        y = np.asarray(y, dtype=np.float64)
        if magnitudes:
            check_magnitudes(X, y)
        return X, y, X.dtype

    def _warn_if_alpha_is_zero(self):
        if self.alpha == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are advised to use "
                "the LinearRegression estimator (with alpha=0 the model is ordinary least "
                "squares, fitted here with a ConvergenceWarning when its duality gap cannot "
                "certify it).",
                UserWarning,
                stacklevel=3,
            )

    def _latent_warm_start(self, size):
        """With ``warm_start``, the previous fit's coefficients on the solver's (latent,
        group-ordered) columns, if there are ``size`` of them; else None."""
        if self.warm_start and hasattr(self, "coef_"):
            latent = getattr(self, "_latent_coef", None)
            if latent is not None and latent.shape == (size,):
                return latent
        return None

    def _set_latent_fit(self, beta, columns, n_features, x_offset, y_offset, out_dtype):
        """``coef_`` and ``intercept_`` from the solution ``beta`` on the latent columns
        ``columns`` (duplicated features summed), which is kept for a warm start."""
        self._latent_coef = beta
        coef = np.bincount(columns, weights=beta, minlength=n_features)
        self.coef_ = to_output_dtype(coef, out_dtype, "coefficients")
        intercept = float(y_offset - x_offset @ beta) if self.fit_intercept else 0.0
        self.intercept_ = (to_output_dtype(intercept, out_dtype, "intercept")[()]
                           if self.fit_intercept else 0.0)

    @property
    def sparse_coef_(self):
        """Sparse representation of the fitted ``coef_``."""
        check_is_fitted(self)
        return sparse.csr_matrix(np.atleast_2d(self.coef_))

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], reset=False,
                          dtype=[np.float64, np.float32])
        return np.asarray(X @ self.coef_.T) + self.intercept_
