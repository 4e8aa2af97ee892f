#!/usr/bin/env python
"""Refactoring guard: fit a fixed set of 99 models over every regression family (lasso dense /
sparse / positive, elastic net, group dense / sparse / positive, multi-task, lq at q = 1/2,
2/3, 2/5 dense / sparse / random start, group lq, the lasso path) and save their coefficients,
or compare them bitwise with a saved set::

    python benchmarks/snapshot_fits.py save /tmp/before.npz     # before a refactor
    python benchmarks/snapshot_fits.py compare /tmp/before.npz  # after it

A refactor that is meant to change no arithmetic must report 99/99 bitwise identical.
"""
import sys, numpy as np, warnings
from scipy import sparse
warnings.simplefilter("ignore")
from hadasparse import (HadamardLasso, HadamardElasticNet, HadamardGroupLasso, HadamardMultiTaskLasso,
                        HadamardLqRegressor, hadamard_lasso_path)
rng = np.random.default_rng(0)
out = {}
for seed in range(3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 150)); X[:, 1] = X[:, 0] + 0.05 * rng.standard_normal(60)
    y = X[:, :8] @ rng.standard_normal(8) + 0.3 * rng.standard_normal(60)
    Xs = X.copy(); Xs[rng.random(X.shape) < 0.6] = 0; Xs = sparse.csc_matrix(Xs)
    amax = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / 60
    for div in (5, 50):
        a = amax / div
        out[f"lasso{seed}_{div}"] = HadamardLasso(alpha=a, tol=1e-8).fit(X, y).coef_
        out[f"lasso_sp{seed}_{div}"] = HadamardLasso(alpha=a, tol=1e-8).fit(Xs, y).coef_
        out[f"lasso_pos{seed}_{div}"] = HadamardLasso(alpha=a, positive=True).fit(X, y).coef_
        out[f"enet{seed}_{div}"] = HadamardElasticNet(alpha=a, l1_ratio=0.5).fit(X, y).coef_
        out[f"group{seed}_{div}"] = HadamardGroupLasso(alpha=a, groups=5, tol=1e-8).fit(X, y).coef_
        out[f"group_sp{seed}_{div}"] = HadamardGroupLasso(alpha=a, groups=5).fit(Xs, y).coef_
        out[f"group_pos{seed}_{div}"] = HadamardGroupLasso(alpha=a, groups=5, positive=True).fit(X, y).coef_
        Y = np.column_stack([y, X[:, 2] - y])
        out[f"mt{seed}_{div}"] = HadamardMultiTaskLasso(alpha=a).fit(X, Y).coef_
        for q in (0.5, 2/3, 0.4):
            out[f"lq{seed}_{div}_{q:.2f}"] = HadamardLqRegressor(alpha=a, q=q).fit(X, y).coef_
            out[f"lq_sp{seed}_{div}_{q:.2f}"] = HadamardLqRegressor(alpha=a, q=q).fit(Xs, y).coef_
        out[f"glq{seed}_{div}"] = HadamardLqRegressor(alpha=a, q=0.5, groups=5).fit(X, y).coef_
        out[f"lq_rand{seed}_{div}"] = HadamardLqRegressor(alpha=a, q=0.5, init="random", random_state=0).fit(X, y).coef_
    out[f"path{seed}"] = hadamard_lasso_path(X - X.mean(0), y - y.mean(), alphas=20)[1]
if sys.argv[1] == "save":
    np.savez(sys.argv[2], **out)
else:
    ref = np.load(sys.argv[2])
    bad = [k for k in out if not np.array_equal(out[k], ref[k])]
    print(f"{len(out) - len(bad)}/{len(out)} bitwise identical")
    for k in bad:
        print(f"  {k}: max diff {np.abs(out[k] - ref[k]).max():.2e}, supports equal {np.array_equal(out[k] != 0, ref[k] != 0)}")
