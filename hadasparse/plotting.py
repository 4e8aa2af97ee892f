"""Plots users ask for: regularisation paths and cross-validation curves.

matplotlib is an optional dependency (the ``notebooks`` extra); it is imported when a plot is
drawn, and its absence is reported with the command that installs it.
"""

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "hadasparse.plotting needs matplotlib: pip install 'hadasparse[notebooks]' "
            "(or pip install matplotlib)."
        ) from exc
    return plt


def plot_path(alphas, coefs, *, ax=None, feature_names=None, max_labels=10, **line_kw):
    """Coefficients against α on a log scale, one line per feature.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    coefs : array-like of shape (n_features, n_alphas)
        As returned by :func:`hadasparse.hadamard_lasso_path` (or sklearn's ``lasso_path``).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    feature_names : list of str, default=None
        Labels the ``max_labels`` features with the largest coefficient at the smallest α.
    max_labels : int, default=10
    **line_kw
        Passed to ``ax.plot`` (e.g. ``linestyle``, ``color``).

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    alphas = np.asarray(alphas, dtype=float)
    coefs = np.asarray(coefs, dtype=float)
    if coefs.ndim != 2 or coefs.shape[1] != alphas.shape[0]:
        raise ValueError(
            f"coefs must have shape (n_features, n_alphas={alphas.shape[0]}); "
            f"got {coefs.shape}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    lines = ax.plot(alphas, coefs.T, **line_kw)
    ax.set_xscale("log")
    ax.invert_xaxis()  # from the empty model (large alpha) to the dense one
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel("alpha (log scale, decreasing)")
    ax.set_ylabel("coefficient")
    if feature_names is not None:
        last = np.abs(coefs[:, np.argmin(alphas)])
        for j in np.argsort(last)[::-1][:max_labels]:
            if last[j] > 0:
                lines[j].set_label(str(feature_names[j]))
        ax.legend(fontsize="small", loc="best")
    return ax


def plot_cv(model, *, ax=None):
    """Mean cross-validation error against α with ±1 standard error, marking the chosen α and
    the one-standard-error choice.

    Parameters
    ----------
    model : fitted HadamardLassoCV (or anything with ``alphas_``, ``mse_path_``, ``alpha_``)
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    alphas = np.asarray(model.alphas_)
    mse = np.asarray(model.mse_path_)
    n_folds = mse.shape[1]
    mean = mse.mean(axis=1)
    se = mse.std(axis=1, ddof=1) / np.sqrt(n_folds) if n_folds > 1 else np.zeros_like(mean)
    best = int(np.argmin(mean))
    one_se = int(np.flatnonzero(mean <= mean[best] + se[best])[0])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.plot(alphas, mse, color="0.8", linewidth=0.8)
    ax.errorbar(alphas, mean, yerr=se, color="k", linewidth=1.2, elinewidth=0.6,
                label="mean over folds ± 1 SE")
    ax.axvline(alphas[best], color="tab:blue", linestyle="--",
               label=f"minimum: alpha={alphas[best]:.3g}")
    ax.axvline(alphas[one_se], color="tab:orange", linestyle=":",
               label=f"1-SE rule: alpha={alphas[one_se]:.3g}")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha (log scale, decreasing)")
    ax.set_ylabel("mean squared error")
    ax.legend(fontsize="small")
    return ax
