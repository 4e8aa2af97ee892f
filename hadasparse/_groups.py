"""Groups of features as the group penalties see them: the forms a user may give
(``int`` size, list of sizes, list of index lists, per-feature labels with -1 for
unpenalised features), the default weights ``√|g|``, and the latent copies of features that
belong to several groups. Shared by every grouped model (group lasso, multi-task, group ℓq,
and the classifiers built on them)."""

import numbers

import numpy as np


def _as_index_array(values, what):
    """A 1-D int64 array from integer-valued input, or a ValueError that says what is wrong."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional; got shape {arr.shape}.")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{what} must contain integers; got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{what} must contain integers; got non-integer values.")
    return arr.astype(np.int64)


_GROUPS_FORMS = ("groups must be None, an int (a group size), a list of group sizes, a list "
                 "of index lists, or a 1-D array of per-feature labels")


def _check_groups_form(groups):
    """A ValueError that names the accepted forms for anything that is none of them: a
    dict or set, a string, a float, a bool, a 2-D array, a list that mixes index lists
    with scalars."""
    if groups is None:
        return
    if isinstance(groups, (bool, np.bool_)) or (
            isinstance(groups, numbers.Number) and not isinstance(groups, numbers.Integral)):
        raise ValueError(f"{_GROUPS_FORMS}; got {groups!r}.")
    if isinstance(groups, numbers.Integral):
        return
    if isinstance(groups, (str, bytes, dict, set, frozenset)) or not hasattr(groups, "__len__"):
        raise ValueError(f"{_GROUPS_FORMS}; got {type(groups).__name__} {groups!r}.")
    if isinstance(groups, (list, tuple)):
        nested = [isinstance(g, (list, tuple, np.ndarray, range)) for g in groups]
        if any(nested) and not all(nested):
            first = nested.index(False)
            raise ValueError(
                f"{_GROUPS_FORMS}; got a list that mixes index lists with scalars "
                f"(groups[{first}] = {groups[first]!r}): write every group as a list of "
                "feature indices."
            )
    elif np.ndim(groups) != 1:
        raise ValueError(f"{_GROUPS_FORMS}; got an array of shape {np.shape(groups)}, not one-dimensional.")


def resolve_groups(groups, n_features):
    """Internal layout of ``groups``.

    Returns ``(columns, gptr, sizes, free)``: the solver's coordinates are the features
    ``columns`` (the groups concatenated; a feature in several groups appears several times,
    which is the latent group lasso's column duplication), group ``g`` owns coordinates
    ``gptr[g]:gptr[g + 1]``, and ``free`` is True for the group of unpenalised features
    (label -1), which is always last.
    """
    p = n_features
    free_group = None
    _check_groups_form(groups)
    if groups is None:
        index_lists = [np.array([j]) for j in range(p)]
    elif isinstance(groups, numbers.Integral) and not isinstance(groups, (bool, np.bool_)):
        size = int(groups)
        if size < 1:
            raise ValueError(f"groups={size}: a group size must be at least 1.")
        if p % size:
            raise ValueError(
                f"groups={size} does not divide n_features={p}: contiguous groups of that "
                "size cannot cover the features. Pass a list of group sizes instead."
            )
        index_lists = [np.arange(s, s + size) for s in range(0, p, size)]
    elif isinstance(groups, (list, tuple)) and len(groups) > 0 and all(
            isinstance(g, (list, tuple, np.ndarray, range)) for g in groups):
        index_lists = []
        for i, g in enumerate(groups):
            if len(g) == 0:
                raise ValueError(f"groups[{i}] is empty: every group needs at least one feature.")
            idx = _as_index_array(g, f"groups[{i}]")
            if idx.min() < 0 or idx.max() >= p:
                raise ValueError(
                    f"groups[{i}] has feature index {idx.min() if idx.min() < 0 else idx.max()} "
                    f"out of range for n_features={p}."
                )
            if np.unique(idx).size != idx.size:
                raise ValueError(f"groups[{i}] lists a feature more than once.")
            index_lists.append(idx)
        covered = np.zeros(p, dtype=bool)
        for idx in index_lists:
            covered[idx] = True
        if not covered.all():
            missing = np.flatnonzero(~covered)
            raise ValueError(
                f"{missing.size} feature(s) are in no group (first: {missing[:5].tolist()}); "
                "every feature must belong to a group (give unpenalised features a group of "
                "weight 0)."
            )
    else:
        arr = _as_index_array(groups, "groups")
        if arr.size == 0:
            raise ValueError("groups is empty.")
        if arr.size == p:  # per-feature labels
            if np.any(arr < -1):
                raise ValueError("group labels must be >= 0, or -1 for unpenalised features.")
            labels = np.unique(arr[arr >= 0])
            index_lists = [np.flatnonzero(arr == lab) for lab in labels]
            if np.any(arr == -1):
                free_group = np.flatnonzero(arr == -1)
        else:  # group sizes
            if np.any(arr < 1) or arr.sum() != p:
                raise ValueError(
                    f"groups has {arr.size} entries, so it is read as a list of group sizes "
                    f"(per-feature labels would need n_features={p} entries), but "
                    + ("group sizes must be >= 1: an empty group selects nothing."
                       if np.any(arr < 1) else
                       f"the group sizes sum to {int(arr.sum())}, expected n_features={p}.")
                )
            bounds = np.concatenate([[0], np.cumsum(arr)])
            index_lists = [np.arange(bounds[g], bounds[g + 1]) for g in range(arr.size)]
    free = [False] * len(index_lists)
    if free_group is not None:
        index_lists.append(free_group)
        free.append(True)
    sizes = np.array([idx.size for idx in index_lists], dtype=np.int64)
    gptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    columns = np.concatenate(index_lists).astype(np.intp)
    return columns, gptr, sizes, np.array(free, dtype=bool)


def resolve_weights(weights, sizes, free):
    """Penalty weight of every group: ``sqrt(|g|)`` by default, 0 for the unpenalised group."""
    n_groups = int((~free).sum())
    if weights is None:
        w = np.sqrt(sizes.astype(np.float64))
    else:
        given = np.asarray(weights, dtype=np.float64)
        if given.ndim != 1 or given.size != n_groups:
            raise ValueError(
                f"weights must have one entry per group ({n_groups}); got shape {given.shape}."
            )
        if not np.all(np.isfinite(given)) or np.any(given < 0):
            raise ValueError("weights must be finite and non-negative.")
        w = np.concatenate([given, np.zeros(free.sum())])
    w[free] = 0.0
    return w


def grouped_columns(groups, weights, X):
    """The groups and weights resolved, and the design the solver sees: X with its columns in
    group order (a feature of several overlapping groups once per group; X itself when the
    groups already are contiguous and in order). Returns ``X_int, columns, gptr, w``."""
    n_features = X.shape[1]
    columns, gptr, sizes, free = resolve_groups(groups, n_features)
    w = resolve_weights(weights, sizes, free)
    identity = columns.size == n_features and np.array_equal(columns, np.arange(n_features))
    return (X if identity else X[:, columns]), columns, gptr, w
