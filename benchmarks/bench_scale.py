"""Scale benchmark (issue #13): time and peak extra memory of hadasparse against scikit-learn
on wide sparse designs at small alpha (large supports), a wide dense design, a tall dense
design, the multi-task lasso at alpha_max/100 and a 30-alpha path.

Every fit runs in its own fresh subprocess (``--child CELL SOLVER``; the solvers' repeats
interleave, hadasparse and sklearn alternating first): it builds the data
(seeded, so both solvers see the same problem), warms up the solver on a tiny problem of the
same kind (loads the numba cache, imports), resets the kernel's resident-set high-water mark
(``/proc/self/clear_refs``), records the resident set, fits once, and reports the wall and CPU
time and the **extra peak memory** ``VmHWM - VmRSS(before the fit)``: everything the fit
allocated, numpy and numba alike. The duality gap of each returned solution is recomputed here
(``_problems.duality_gap``, independent of both solvers) and shown relative to ``||y_c||^2/n``.

Targets (issue #13): time ratio <= 1.5 and extra memory <= 2 x sklearn's + 50 MB per cell.

Usage::

    python benchmarks/bench_scale.py                  # all cells, 3 repeats, markdown table
    python benchmarks/bench_scale.py --cells sparse_1e-3 dense_wide --repeats 1
    python benchmarks/bench_scale.py --only dense_tall --repeats 5   # --only: same as --cells
    python benchmarks/bench_scale.py --quick          # ten times smaller problems (smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# cell -> (description, problem kind, problem size, alpha / alpha_max)
CELLS = {
    "sparse_5e-4": ("Lasso, sparse 20000x50000 (1e6 nnz), alpha = 5e-4 alpha_max",
                    "sparse", (20000, 50000, 1_000_000), 5e-4),
    "sparse_1e-3": ("Lasso, sparse 20000x50000 (1e6 nnz), alpha = 1e-3 alpha_max",
                    "sparse", (20000, 50000, 1_000_000), 1e-3),
    "sparse_cv": ("LassoCV(alphas=10, cv=3), sparse 20000x50000",
                  "sparse", (20000, 50000, 1_000_000), None),
    "sparse_path": ("lasso path, 30 alphas down to 1e-3 alpha_max, sparse 20000x50000",
                    "sparse", (20000, 50000, 1_000_000), 1e-3),
    "dense_wide": ("Lasso, dense 2000x20000, alpha = 1e-3 alpha_max",
                   "dense", (2000, 20000), 1e-3),
    "multitask": ("MultiTaskLasso, dense 500x2000, 5 tasks, alpha = alpha_max/100",
                  "multitask", (500, 2000, 5), 1e-2),
    "dense_tall": ("Lasso, dense 200000x50, alpha = 1e-3 alpha_max",
                   "dense", (200000, 50), 1e-3),
}
SOLVERS = ("hadasparse", "sklearn")


def make_data(kind, size, seed=0, quick=False):
    rng = np.random.default_rng(seed)
    if kind == "sparse":
        n, p, nnz = size
        if quick:
            n, p, nnz = n // 10, p // 10, nnz // 100
        X = sp.random(n, p, density=nnz / (n * p), format="csc", random_state=rng)
        X.data = rng.standard_normal(X.data.size)
        w = np.zeros(p)
        w[rng.choice(p, 200, replace=False)] = rng.standard_normal(200)
        # the noise level gives the supports: ~2/3 n active at 1e-3 alpha_max
        y = X @ w + 0.05 * rng.standard_normal(n)
        return X, y
    if kind == "dense":
        n, p = size
        if quick:
            n, p = max(n // 10, 50), max(p // 10, 20)
        X = np.asfortranarray(rng.standard_normal((n, p)))
        w = np.zeros(p)
        k = max(p // 50, 5)
        w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
        y = X @ w + 0.5 * rng.standard_normal(n)
        return X, y
    n, p, t = size  # multitask: correlated design (AR(1), rho 0.5), 1/50 rows active
    if quick:
        n, p = n // 5, p // 5
    from _problems import ar1_design
    X = ar1_design(n, p, rho=0.5, rng=rng)
    W = np.zeros((p, t))
    rows = rng.choice(p, max(p // 50, 2), replace=False)
    W[rows] = rng.standard_normal((rows.size, t))
    Y = X @ W + 0.5 * rng.standard_normal((n, t))
    return X, Y


def _alpha_max(X, y):
    Xc = X.toarray() if sp.issparse(X) and X.shape[1] < 5000 else X
    n = X.shape[0]
    if y.ndim == 2:
        yc = y - y.mean(axis=0)
        if sp.issparse(X):
            xty = X.T @ yc - np.outer(np.asarray(X.mean(axis=0)).ravel(), yc.sum(axis=0))
        else:
            xty = (X - X.mean(axis=0)).T @ yc
        return np.sqrt((xty ** 2).sum(axis=1)).max() / n
    yc = y - y.mean()
    xty = X.T @ yc  # X^T y_c equals X_c^T y_c
    del Xc
    return np.abs(xty).max() / n


def _status():
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmHWM", "VmRSS")):
                key, val = line.split(":")
                out[key] = int(val.split()[0]) * 1024
    return out


def _estimators(solver, kind, cv):
    if solver == "hadasparse":
        from hadasparse import (HadamardLasso, HadamardLassoCV, HadamardMultiTaskLasso)
        if kind == "multitask":
            return HadamardMultiTaskLasso
        return HadamardLassoCV if cv else HadamardLasso
    from sklearn.linear_model import Lasso, LassoCV, MultiTaskLasso
    if kind == "multitask":
        return MultiTaskLasso
    return LassoCV if cv else Lasso


def _path(solver):
    if solver == "hadasparse":
        from hadasparse.paths import hadamard_lasso_path
        return hadamard_lasso_path
    from sklearn.linear_model import lasso_path
    return lasso_path


def _run(cell, solver, X, y, ratio, warm=False):
    kind = CELLS[cell][1]
    if cell == "sparse_cv":
        est = _estimators(solver, kind, True)(alphas=10, cv=3)
        est.fit(X, y)
        return est.coef_, est.intercept_, est.alpha_
    if cell == "sparse_path":
        # the path of sklearn's lasso_path: no intercept, so centre y (X is sparse: kept)
        amax = _alpha_max(X, y)
        alphas = np.geomspace(amax, ratio * amax, 30)
        _, coefs, _ = _path(solver)(X, y - y.mean(), alphas=alphas)
        return coefs[:, -1], 0.0, alphas[-1]
    alpha = ratio * _alpha_max(X, y)
    est = _estimators(solver, kind, False)(alpha=alpha, max_iter=10000 if warm else 1000)
    est.fit(X, y)
    return est.coef_, est.intercept_, alpha


def child(cell, solver, quick):
    _, kind, size, ratio = CELLS[cell]
    # warm-up on a tiny problem of the same kind (numba cache, imports, BLAS threads)
    Xs, ys = make_data(kind, size, seed=1, quick=True)
    sl = slice(0, min(Xs.shape[0], 60))
    Xw = Xs[sl][:, : min(Xs.shape[1], 300)]
    yw = ys[sl]
    _run("sparse_1e-3" if kind == "sparse" else ("multitask" if kind == "multitask"
                                                 else "dense_wide"), solver, Xw, yw,
         1e-2, warm=True)
    if cell in ("sparse_cv", "sparse_path"):
        _run(cell, solver, Xw, yw, 1e-1, warm=True)
    X, y = make_data(kind, size, seed=0, quick=quick)
    del Xs, ys, Xw, yw
    import gc
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _status()["VmRSS"]
    t0, c0 = time.perf_counter(), time.process_time()
    coef, intercept, alpha = _run(cell, solver, X, y, ratio)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    extra = _status()["VmHWM"] - before
    from _problems import duality_gap
    if kind == "multitask":
        rel_gap = float("nan")
        R = y - X @ coef.T - intercept
        n = X.shape[0]
        obj = (R ** 2).sum() / (2 * n) + alpha * np.sqrt((coef ** 2).sum(axis=0)).sum()
    else:
        coef = np.ravel(coef)
        if cell == "sparse_path":  # no intercept, on the centred target
            rel_gap = duality_gap(X, y - y.mean(), coef, 0.0, alpha, False)["rel_gap"]
        else:
            rel_gap = duality_gap(X, y, coef, intercept, alpha, True)["rel_gap"]
        obj = float("nan")
    print(json.dumps({"wall": wall, "cpu": cpu, "extra": extra, "rel_gap": rel_gap,
                      "nnz": int(np.count_nonzero(coef)), "obj": obj}))


def run_cell(cell, solver, quick):
    cmd = [sys.executable, __file__, "--child", cell, solver] + (["--quick"] if quick else [])
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CELL", "SOLVER"))
    parser.add_argument("--cells", "--only", nargs="*", default=list(CELLS), choices=list(CELLS),
                        metavar="CELL", help=f"cells to run (default all): {', '.join(CELLS)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.quick)
        return
    print(f"# bench_scale: {platform.machine()}, {os.cpu_count()} cpus, "
          f"load {os.getloadavg()[0]:.1f}; medians of {args.repeats} repeats, "
          "each fit in a fresh process\n")
    print("| cell | solver | wall (s) | cpu (s) | extra peak memory (MB) | rel. gap | nnz |")
    print("|---|---|---|---|---|---|---|")
    summary = []
    for cell in args.cells:
        med = {}
        # the solvers' runs interleave (the order alternating each repeat), so that a load
        # change on the shared machine hits both alike
        all_runs = {solver: [] for solver in SOLVERS}
        for rep in range(args.repeats):
            for solver in (SOLVERS if rep % 2 == 0 else SOLVERS[::-1]):
                all_runs[solver].append(run_cell(cell, solver, args.quick))
        for solver in SOLVERS:
            runs = all_runs[solver]
            ok = [r for r in runs if "error" not in r]
            if not ok:
                print(f"| {cell} | {solver} | error: {runs[0]['error']} | | | | |")
                continue
            m = {k: float(np.median([r[k] for r in ok])) for k in ("wall", "cpu", "extra")}
            m.update(rel_gap=max(r["rel_gap"] for r in ok), nnz=ok[0]["nnz"],
                     obj=ok[0]["obj"])
            med[solver] = m
            gap = "-" if np.isnan(m["rel_gap"]) else f"{m['rel_gap']:.1e}"
            print(f"| {cell} | {solver} | {m['wall']:.2f} | {m['cpu']:.2f} | "
                  f"{m['extra'] / 2**20:.0f} | {gap} | {m['nnz']} |", flush=True)
        if len(med) == 2:
            h, s = med["hadasparse"], med["sklearn"]
            t_ratio = h["wall"] / s["wall"]
            mem_ok = h["extra"] <= 2 * s["extra"] + 50 * 2**20
            summary.append((cell, t_ratio, h["cpu"] / s["cpu"], h["extra"] / 2**20,
                            (2 * s["extra"] + 50 * 2**20) / 2**20, mem_ok, h["obj"], s["obj"]))
    print("\n| cell | time ratio (wall) | time ratio (cpu) | extra MB | budget MB "
          "(2x sklearn + 50) | memory target | objective (multi-task: ours / sklearn) |")
    print("|---|---|---|---|---|---|---|")
    for cell, tr, cr, mb, bud, ok, ho, so in summary:
        obj = "" if np.isnan(ho) else f"{ho:.10g} / {so:.10g}"
        print(f"| {cell} | {tr:.2f} | {cr:.2f} | {mb:.0f} | {bud:.0f} | "
              f"{'met' if ok else 'NOT met'} | {obj} |")


if __name__ == "__main__":
    main()
