"""Parameter checks shared by the estimators (sklearn's own validation machinery is private)."""

import numbers

import numpy as np


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
