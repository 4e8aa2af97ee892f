#!/usr/bin/env python
"""Benchmark: the local search of ``HadamardLqRegressor(groups=...)`` (swap moves of whole
groups), on against off.

No other package fits the single-task group ℓ2,q penalty, so this measures what the search
buys and costs: the objective it reaches against the descent's fixed point alone
(``local_search=False``), the groups selected and the time.

Problems (10 seeds): n = 200, p = 1000 in 200 contiguous groups of 5, AR(1)-correlated
columns (``rho = 0.5``), 6 true groups with N(0, 1) coefficients, noise N(0, 1). For
q = 1/2 and 2/3 and alpha = alpha_max / 30 and alpha_max / 100, where ``alpha_max`` (computed
here from the data) is the smallest alpha at which 0 is a fixed point of the group proximal
map with steps ``1/L_g``, ``L_g = lambda_max(X_gc^T X_gc / n)``; the weights are the default
``sqrt(5)``.

Reported per cell: on how many seeds the search lowers the objective (by more than 1e-10
relative; it must never raise it), the median and largest relative decrease, the mean number
of nonzero groups and of true / false groups, and the time: the median of 3 fits per setting,
the fits with and without the search timed in turns (compilation excluded by one untimed fit
at the start), and per seed the ratio of the two medians. The objective
``1/(2n)||y - X b - b0||^2 + alpha sum_g sqrt(5) ||b_g||^q`` is recomputed here from
``coef_`` / ``intercept_``.

Usage::

    python benchmarks/bench_group_lq.py            # full run (~3-5 min on 2 shared cores)
    python benchmarks/bench_group_lq.py --quick    # 3 seeds, writes results_group_lq_quick.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _problems import ar1_design  # noqa: E402

import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from hadasparse import HadamardLqRegressor  # noqa: E402

N, P, SIZE, K, RHO = 200, 1000, 5, 6, 0.5
FRACTIONS = (30, 100)
Q_VALUES = {"1/2": 0.5, "2/3": 2.0 / 3.0}
REPEATS = 3


def make_problem(seed):
    rng = np.random.default_rng(seed)
    X = ar1_design(N, P, rho=RHO, rng=rng)
    coef = np.zeros(P)
    for g in rng.choice(P // SIZE, K, replace=False):
        coef[g * SIZE:(g + 1) * SIZE] = rng.standard_normal(SIZE)
    y = X @ coef + rng.standard_normal(N)
    return np.asfortranarray(X), y, coef


def group_norms(v):
    return np.sqrt(np.add.reduceat(v * v, np.arange(0, P, SIZE)))


def objective(X, y, coef, intercept, alpha, q):
    r = y - X @ coef - intercept
    return 0.5 * float(r @ r) / len(y) + alpha * np.sqrt(SIZE) * float(
        np.sum(group_norms(coef) ** q))


def alpha_max_group_q(X, y, q):
    """Smallest alpha at which 0 is a fixed point of the group proximal map (centred data):
    every group's step ``||c_g|| / L_g`` is below the zero threshold of the radial prox,
    ``C_q (alpha w / L_g)^{1/(2-q)}``."""
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    n = len(y)
    c = Xc.T @ yc / n
    cq = (2.0 - q) / (2.0 - 2.0 * q) * (2.0 * (1.0 - q)) ** (1.0 / (2.0 - q))
    out = 0.0
    for s in range(0, P, SIZE):
        block = Xc[:, s:s + SIZE]
        lip = float(np.linalg.eigvalsh(block.T @ block / n)[-1])
        step = np.linalg.norm(c[s:s + SIZE]) / lip
        out = max(out, lip / np.sqrt(SIZE) * (step / cq) ** (2.0 - q))
    return out


def run_seed(seed):
    X, y, coef = make_problem(seed)
    true_groups = group_norms(coef) > 0
    out = {}
    for qname, q in Q_VALUES.items():
        a_max = alpha_max_group_q(X, y, q)
        for frac in FRACTIONS:
            alpha = a_max / frac
            fits, times = {}, {False: [], True: []}
            for _ in range(REPEATS):
                for search in (False, True):
                    t0 = time.perf_counter()
                    fits[search] = HadamardLqRegressor(alpha=alpha, q=q, groups=SIZE,
                                                       local_search=search).fit(X, y)
                    times[search].append(time.perf_counter() - t0)
            row = {}
            for search, est in fits.items():
                sel = group_norms(est.coef_) > 0
                row[search] = {
                    "obj": objective(X, y, est.coef_, est.intercept_, alpha, q),
                    "groups": int(sel.sum()), "tp": int(np.sum(sel & true_groups)),
                    "fp": int(np.sum(sel & ~true_groups)),
                    "time": float(np.median(times[search]))}
            out[(qname, frac)] = row
    return out


def summarise(runs):
    lines = ["| q | alpha | search lowers the objective | search raises it | relative "
             "decrease: median (max) | nonzero groups off → on | true groups (of 6) off → on "
             "| false groups off → on | time off → on (s) | time on / off: median "
             "(min-max) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for key in runs[0]:
        off = [r[key][False] for r in runs]
        on = [r[key][True] for r in runs]
        rel = np.array([(a["obj"] - b["obj"]) / a["obj"] for a, b in zip(off, on)])
        ratio = np.array([b["time"] / a["time"] for a, b in zip(off, on)])

        def mean(rows, field):
            return np.mean([r[field] for r in rows])

        lines.append(
            f"| {key[0]} | alpha_max/{key[1]} | {int(np.sum(rel > 1e-10))}/{len(runs)} | "
            f"{int(np.sum(rel < -1e-10))}/{len(runs)} | "
            f"{np.median(rel):.1e} ({rel.max():.1e}) | "
            f"{mean(off, 'groups'):.1f} → {mean(on, 'groups'):.1f} | "
            f"{mean(off, 'tp'):.1f} → {mean(on, 'tp'):.1f} | "
            f"{mean(off, 'fp'):.1f} → {mean(on, 'fp'):.1f} | "
            f"{np.median([r['time'] for r in off]):.3f} → "
            f"{np.median([r['time'] for r in on]):.3f} | "
            f"{np.median(ratio):.1f} ({ratio.min():.1f}-{ratio.max():.1f}) |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 seeds")
    args = ap.parse_args()
    seeds = list(range(3 if args.quick else 10))
    out_path = HERE / ("results_group_lq_quick.md" if args.quick else "results_group_lq.md")
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y, _ = make_problem(0)
    for search in (False, True):  # untimed: compilation
        HadamardLqRegressor(alpha=0.1, q=0.5, groups=SIZE, local_search=search).fit(X, y)
        HadamardLqRegressor(alpha=0.1, q=2 / 3, groups=SIZE, local_search=search).fit(X, y)
    load_start = os.getloadavg()[0]
    t_start = time.perf_counter()
    runs = []
    for seed in seeds:
        t0 = time.perf_counter()
        runs.append(run_seed(seed))
        print(f"seed {seed}: {time.perf_counter() - t0:.1f} s", flush=True)
    total = time.perf_counter() - t_start
    text = (
        "# HadamardLqRegressor with groups: local search on vs off\n\n"
        f"Generated by `benchmarks/bench_group_lq.py` on {_dt.date.today()} "
        f"({platform.machine()}, Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}); total {total:.0f} s. Machine load (1-min average): "
        f"{load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.\n\n"
        f"n = {N}, p = {P} in groups of {SIZE}, AR(1) rho = {RHO}, {K} true groups, noise "
        f"N(0, 1); {len(seeds)} seeds; default `init='lasso'` and `tol`. 'off' is "
        "`local_search=False` (the descent's fixed point), 'on' the default. Means over "
        "seeds; times are medians of 3 fits timed in turns. See the module docstring for "
        "the protocol.\n\n" + summarise(runs) + "\n")
    out_path.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
