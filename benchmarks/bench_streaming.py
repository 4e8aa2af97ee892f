#!/usr/bin/env python
"""Benchmark: HadamardSGDRegressor / HadamardSGDClassifier vs sklearn's SGDRegressor /
SGDClassifier (``penalty="l1"``) after five epochs of ``partial_fit`` on 1000-row batches,
both measured against the certified batch solution of the same objective.

Problems
--------
- ``regression`` (issue 15's): n = 50000, p = 500, 10 true features ``±U(1, 3)``, noise
  N(0, 1), intercept 1, independent Gaussian design; ``alpha = 0.05``. Also the same with
  AR(1) columns (``corr(x_i, x_j) = 0.5^|i-j|``).
  Reference: ``HadamardLasso(alpha, tol=1e-10)`` (duality-gap certified), the minimiser of
  ``1/(2n)||y - Xw - b||^2 + alpha ||w||_1``, which is SGDRegressor's objective
  (``loss="squared_error"`` is ``(y - p)^2 / 2``) and HadamardSGDRegressor's.
- ``sparse classification``: n = 50000, p = 1000, CSR X with 2 % nonzeros (values N(0, 1),
  each column scaled to unit mean square), 20 true features ``±U(1, 3)``, labels drawn from
  the logistic model; ``alpha = alpha_max / 4`` and ``alpha_max / 10`` (``alpha_max =
  ||X^T (y - mean y)||_inf / n``, the smallest alpha with w = 0). Reference: sklearn
  ``LogisticRegression(C = 1/(n alpha), l1_ratio=1, solver="saga", tol=1e-8)``, the
  minimiser of
  ``1/n sum log(1 + exp(-y_i (x_i w + b))) + alpha ||w||_1``, SGDClassifier's objective with
  ``loss="log_loss"`` and HadamardSGDClassifier's.

Every method sees the same batches in the same order (the data are in random order; no
reshuffling between epochs; each estimator shuffles within a batch as its default does).
Reported after epochs 1, 3 and 5: nonzeros (reference's), whether the support equals the
reference's, ``||w - w_ref|| / ||w_ref||``, and the wall time per epoch (the epochs of the two
methods alternate so that load changes on a shared machine hit both; the ratio is
Hadamard's / sklearn's). Each method runs with its defaults except ``alpha`` (and
``loss="log_loss"`` for SGDClassifier) and ``random_state=0``.

Run: ``python benchmarks/bench_streaming.py`` (about 4 minutes, 2 of them saga); writes
``benchmarks/results_streaming.md``.
"""

import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hadasparse import HadamardLasso, HadamardSGDClassifier, HadamardSGDRegressor  # noqa: E402

BLOCK = 1000
EPOCHS = 5
REPORT = (1, 3, 5)


def regression(rho=0.0, n=50000, p=500, k=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        if rho:
            X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * X[:, j]
    coef = np.zeros(p)
    coef[rng.choice(p, k, replace=False)] = rng.choice([-1, 1], k) * rng.uniform(1, 3, k)
    return X, X @ coef + rng.standard_normal(n) + 1.0


def sparse_classification(n=50000, p=1000, k=20, density=0.02, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    scale = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel())
    X = (X @ sp.diags(1.0 / np.where(scale > 0, scale, 1.0))).tocsr()
    coef = np.zeros(p)
    coef[rng.choice(p, k, replace=False)] = rng.choice([-1, 1], k) * rng.uniform(1, 3, k)
    z = X @ coef + 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def stats(coef, ref):
    coef, ref = np.ravel(coef), np.ravel(ref)
    return (int(np.count_nonzero(coef)), bool(np.array_equal(coef != 0, ref != 0)),
            float(np.linalg.norm(coef - ref) / np.linalg.norm(ref)))


def race(make_h, make_s, X, y, ref, fit_kw=None):
    """Alternating epochs of partial_fit; rows of (epoch, method, nnz, support, dist, time)."""
    fit_kw = fit_kw or {}
    models = {"hadasparse": make_h(), "sklearn": make_s()}
    rows = []
    times = {name: [] for name in models}
    for epoch in range(1, EPOCHS + 1):
        for name, model in models.items():
            tic = time.perf_counter()
            for s in range(0, X.shape[0], BLOCK):
                model.partial_fit(X[s:s + BLOCK], y[s:s + BLOCK], **fit_kw)
            times[name].append(time.perf_counter() - tic)
            if epoch in REPORT:
                rows.append((epoch, name, *stats(model.coef_, ref), times[name][-1]))
    return rows, times


def table(rows, times, ref_nnz):
    out = ["| epoch | method | nonzeros (ref: %d) | support = ref's | rel. distance | "
           "time of this epoch (s) |" % ref_nnz, "|---|---|---|---|---|---|"]
    for epoch, name, nnz, same, dist, t in rows:
        out.append(f"| {epoch} | {name} | {nnz} | {'yes' if same else 'no'} | {dist:.2e} | "
                   f"{t:.3f} |")
    ratio = np.array(times["hadasparse"]) / np.array(times["sklearn"])
    out.append("")
    out.append(f"Time per epoch, median over the {EPOCHS} epochs: hadasparse "
               f"{np.median(times['hadasparse']):.3f} s, sklearn {np.median(times['sklearn']):.3f}"
               f" s; per-epoch ratio hadasparse / sklearn: median {np.median(ratio):.2f} "
               f"(min {ratio.min():.2f}, max {ratio.max():.2f}).")
    return out


def main():
    t_start = time.perf_counter()
    load0 = os.getloadavg()[0]
    lines = ["# Streaming: HadamardSGD* vs sklearn's SGD (penalty='l1'), 5 epochs of "
             "partial_fit on 1000-row batches", ""]
    body = []

    for title, rho in [("regression, independent design", 0.0),
                       ("regression, AR(1) design (rho = 0.5)", 0.5)]:
        X, y = regression(rho)
        alpha = 0.05
        ref = HadamardLasso(alpha=alpha, tol=1e-10).fit(X, y)
        rows, times = race(lambda: HadamardSGDRegressor(alpha=alpha, random_state=0),
                           lambda: SGDRegressor(penalty="l1", alpha=alpha, random_state=0),
                           X, y, ref.coef_)
        body += [f"## {title}", "",
                 f"n = {X.shape[0]}, p = {X.shape[1]}, alpha = {alpha}. Reference: "
                 f"HadamardLasso, duality gap {ref.dual_gap_:.1e}.", ""]
        body += table(rows, times, int(np.count_nonzero(ref.coef_))) + [""]
        print("\n".join(body[-12:]), flush=True)

    X, y = sparse_classification()
    n = X.shape[0]
    alpha_max = float(np.max(np.abs(X.T @ (y - y.mean()))) / n)
    for frac in (4, 10):
        alpha = alpha_max / frac
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = LogisticRegression(C=1.0 / (n * alpha), l1_ratio=1.0, solver="saga",
                                     tol=1e-8, max_iter=5000, random_state=0).fit(X, y)
        rows, times = race(
            lambda: HadamardSGDClassifier(alpha=alpha, random_state=0),
            lambda: SGDClassifier(loss="log_loss", penalty="l1", alpha=alpha, random_state=0),
            X, y, ref.coef_, fit_kw={"classes": [0, 1]})
        body += [f"## sparse classification (CSR, 2 % nonzeros), alpha = alpha_max / {frac}", "",
                 f"n = {n}, p = {X.shape[1]}, alpha = {alpha:.4g} (alpha_max = "
                 f"{alpha_max:.4g}). Reference: LogisticRegression (saga, tol 1e-8, "
                 f"{int(ref.n_iter_[0])} epochs), C = 1/(n alpha).", ""]
        body += table(rows, times, int(np.count_nonzero(ref.coef_))) + [""]
        print("\n".join(body[-12:]), flush=True)

    total = time.perf_counter() - t_start
    lines += [f"Generated by `benchmarks/bench_streaming.py` on {time.strftime('%Y-%m-%d')} "
              f"({platform.machine()}, Python {platform.python_version()}, scikit-learn "
              f"{sklearn.__version__}, numpy {np.__version__}); total {total:.0f} s. Machine "
              f"load (1-min average): {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at "
              "the end. See the module docstring for the protocol.", ""]
    Path(__file__).with_name("results_streaming.md").write_text("\n".join(lines + body))


if __name__ == "__main__":
    main()
