"""Parameter checks shared by the estimators and the path functions."""

import numbers
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_scalar
from sklearn.utils._param_validation import InvalidParameterError, Interval, StrOptions


def check_scalar_param(value, name, *, kind="real", low=None, high=None, low_inclusive=True,
                       allow_none=False):
    if value is None and allow_none:
        return
    types = numbers.Integral if kind == "int" else numbers.Real
    if isinstance(value, bool) or not isinstance(value, types):
        expected = "an int" if kind == "int" else "a real number"
        raise ValueError(f"The '{name}' parameter must be {expected}; got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"The '{name}' parameter must be finite; got {value!r}.")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"The '{name}' parameter must be {op} {low}; got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"The '{name}' parameter must be <= {high}; got {value!r}.")


def check_bool_param(value, name):
    """For estimators that validate by hand (the SGD, MLP and logistic classes)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"The '{name}' parameter must be a boolean; got {value!r}.")


def check_option(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"The '{name}' parameter must be one of {sorted(options)}; got {value!r}.")


def check_sample_weight(sample_weight, n_samples):
    """Validated float64 sample weights of length ``n_samples`` (or None): finite, non-negative,
    not all zero."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, float(sample_weight))
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected ({n_samples},)."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("Negative values in data passed to sample_weight.")
    if not np.any(sw > 0):
        raise ValueError("Sample weights must contain at least one non-zero weight: all are zero.")
    return sw


# --------------------------------------------------------------------------------------
# sklearn's parameter-validation conventions: ``_parameter_constraints`` dicts checked by
# ``BaseEstimator._validate_params`` (InvalidParameterError, a ValueError and TypeError,
# with sklearn's messages). The dicts are composed per class, as sklearn's
# ``ElasticNet`` / ``Lasso`` / ``LinearModelCV`` do, so that a new estimator (an elastic
# net with ``l1_ratio``) adds its keys to these.
# --------------------------------------------------------------------------------------

NON_NEGATIVE = Interval(Real, 0, None, closed="left")
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
SELECTION = StrOptions({"cyclic", "random"})

# every penalised linear model
MODEL_CONSTRAINTS = {
    "alpha": [NON_NEGATIVE],
    "fit_intercept": ["boolean"],
    "max_iter": [POSITIVE_INT],
    "tol": [NON_NEGATIVE],
    "warm_start": ["boolean"],
}

# the CV estimators (sklearn's LinearModelCV, plus the 1-SE rule)
CV_CONSTRAINTS = {
    "eps": [Interval(Real, 0, None, closed="neither")],
    "alphas": [POSITIVE_INT, "array-like"],
    "fit_intercept": ["boolean"],
    "max_iter": [POSITIVE_INT],
    "tol": [NON_NEGATIVE],
    "cv": ["cv_object"],
    "verbose": ["verbose"],
    "n_jobs": [Integral, None],
    "selection_rule": [StrOptions({"min", "1se"})],
}


def validate_alpha_grid(alphas):
    """A user's array of alphas as a float64 vector, checked one by one as sklearn's
    ``LinearModelCV`` does (``alphas[i] == -1, must be >= 0.0.``; a TypeError for a
    non-number). Empty and non-finite grids are ValueErrors."""
    if isinstance(alphas, (str, bytes)):
        raise TypeError(f"alphas must be an int or an array of floats; got {alphas!r}.")
    values = np.ravel(np.asarray(alphas, dtype=object))
    for index, alpha in enumerate(values):
        check_scalar(alpha, f"alphas[{index}]", target_type=Real, min_val=0.0,
                     include_boundaries="left")
        if not np.isfinite(alpha):
            raise ValueError(f"alphas[{index}] == {alpha}, must be finite.")
    return values.astype(np.float64)


def check_finite_params(estimator, names):
    """The real parameters ``names`` of ``estimator`` are finite (sklearn's intervals
    already exclude NaN; an infinite alpha or tol is refused here)."""
    for name in names:
        value = getattr(estimator, name, None)
        if isinstance(value, Real) and not np.isfinite(value):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be finite. "
                f"Got {value!r} instead."
            )


# products of n entries of size m stay finite below n m^2 <= _MAX_SUM, with room for the
# sample weights (at most n_samples after rescaling) and a few more factors in the solvers
_MAX_SUM = 1e290


def check_magnitudes(X, y, x_bound=None):
    """A ValueError when X or y (finite) are so large that sums of squares of a column
    overflow float64 (``‖X_j‖²``, ``Xᵀy``, ``‖y‖²`` are where every solver starts), naming
    the largest entry and the limit for this ``n_samples``, instead of an overflow deep in
    the solver. ``x_bound``: an upper bound of ``max |X|`` known to the caller (the tall
    route's, from its Gram pass); X is then scanned only if the bound exceeds the limit.
    Returns nothing."""
    n = max(X.shape[0], 1)
    limit = np.sqrt(_MAX_SUM / n)
    data = X.data if hasattr(X, "tocsc") else X
    for name, values in (("X", data), ("y", y)):
        if name == "X" and x_bound is not None and x_bound <= limit:
            continue
        if values.size:
            # max and min: no |values| temporary (a copy of X: ~4x slower on 1000x5000)
            biggest = max(float(np.max(values)), -float(np.min(values)))
            if biggest > limit:
                raise ValueError(
                    f"{name} has entries up to {biggest:.3e} in absolute value: sums of their "
                    f"squares over {n} samples overflow float64 (the largest entry that "
                    f"can be fitted here is ~{limit:.1e}). Rescale {name} (e.g. with "
                    "sklearn.preprocessing.StandardScaler or MaxAbsScaler)."
                )


# --- the lq penalty: q = 2/k -----------------------------------------------------------

# the starts of the lq solvers
INITS = {"auto", "best", "lasso", "lasso_2alpha", "path", "random", "zero"}
# q is accepted as 2/k when it is within this relative distance of it: floats like 2/3
# rounded to float64 or float32 (float32(2/3) is 1.5e-8 off), not decimals like 0.67
_Q_RTOL = 1e-6
# deepest factorisation accepted: a fit's cost grows faster than k (30x6 data: k=128 takes
# ~0.1 s, k=1024 ~2 s, k=4096 ~20 s), and at q = 2/128 the penalty |w|^q already differs
# from the count of non-zeros by at most 12 % for |w| in [1e-3, 1e3]
MAX_DEPTH = 128


def _valid_q_message(q):
    examples = ", ".join(f"{Fraction(2, k)} ({2 / k:.4g})" if k > 2 else "1"
                         for k in range(2, 8))
    return (f"The 'q' parameter must be 2/k for an integer k >= 2, i.e. one of {examples}, "
            f"...; got {q!r}.")


def check_q(q):
    """The depth ``k`` of ``q = 2/k``, or a ValueError that lists the valid values."""
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, numbers.Real):
        raise ValueError(_valid_q_message(q))
    q = float(q)
    if not np.isfinite(q) or q <= 0 or q > 1 + _Q_RTOL:
        raise ValueError(_valid_q_message(q))
    k = int(round(2.0 / q))
    if k < 2 or abs(q - 2.0 / k) > _Q_RTOL * q:
        raise ValueError(_valid_q_message(q))
    if k > MAX_DEPTH:
        raise ValueError(
            f"The 'q' parameter must be at least 2/{MAX_DEPTH} ({2 / MAX_DEPTH:.4g}); got "
            f"{q!r} (k = {k} factors). The cost of a fit grows faster than k (k = 4096 "
            "takes seconds even on tiny data), and below this q the penalty |w|^q is "
            f"already within 12 % of the number of non-zeros for |w| in [1e-3, 1e3]."
        )
    return k
