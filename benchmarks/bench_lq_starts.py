#!/usr/bin/env python
"""Benchmark: what the ℓq start costs at small alpha, and the minima each start reaches.

Issue #13 asks for HadamardLqRegressor at a quarter of skglm's CV alpha within 3x skglm's
time, with objectives at or below skglm's on >= 9/10 seeds. Its default start was the lasso
at the same alpha (``init='lasso'``), which keeps 120-180 features there (n = 200); the
default is now ``init='auto'`` (without groups ``'lasso_2alpha'``: the fit from the lasso
start at 2 alpha, which then starts alpha). Two parts:

A. On bench_lq.py's problems (n = 200, p = 1000, 10 seeds, independent and AR(1) designs,
   q = 1/2 and 2/3) at a quarter of skglm's 5-fold-CV alpha: skglm's ℓq fit (AndersonCD,
   ``ws_strategy='fixpoint'``, tol 1e-8), HadamardLqRegressor with the default start, with
   ``init='lasso'`` and with ``init='path'`` (tol 1e-8), and the lasso starts alone -- the
   lasso at alpha (``'lasso'``'s start) and at 2 alpha (the default's) to the start's duality
   gap (1e-4) by HadamardLasso, and at alpha by sklearn's Lasso -- timed in turns (median of
   5 fits each after an untimed one); per seed each time over skglm's, and the median over
   seeds; and the seeds on which each ℓq fit's objective is ``<=`` skglm's ``* (1 + 1e-6)``.

B. On 96 random problems (n 60-200, p 150-1000, a Gaussian or a 10 %-dense design, 10 true
   features, alpha = alpha_max_q / 10, / 50 or / 200, q = 1/2 and 2/3): skglm's ℓq fit and
   HadamardLqRegressor with the default start, ``init='lasso'`` and ``init='path'`` (the ℓq
   continuation from alpha_max_q): the objective each reaches (every start with the local
   search) and the time (median of 2 fits timed in turns after an untimed one).

Usage::

    python benchmarks/bench_lq_starts.py [--quick] [--output benchmarks/results_lq_starts.md]
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
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_lq as B  # noqa: E402  (the problems, skglm's estimator, CV and timing)

from hadasparse import HadamardLasso, HadamardLqRegressor  # noqa: E402

START_TOL = 1e-4  # the lasso start's relative duality gap (_LQ_LASSO_TOL)


STARTS = ("auto", "lasso", "path")  # the ℓq starts compared (default first)


def part_a(seeds):
    rows = []
    for correlated in (False, True):
        for seed in seeds:
            X, y, _ = B.make_problem(seed, correlated)
            for qname, (q, _) in B.Q_VALUES.items():
                a_max = B.alpha_max_q(X, y, q)
                alphas = np.geomspace(a_max, a_max / B.ALPHA_RATIO, B.N_ALPHAS)
                a = B.cv_alpha(lambda al: B.skglm_lq(al, q), X, y, alphas, seed) / 4
                makes = [lambda: B.skglm_lq(a, q)]
                makes += [(lambda init=init: HadamardLqRegressor(alpha=a, q=q, tol=B.TOL,
                                                                 init=init))
                          for init in STARTS]
                makes += [lambda: HadamardLasso(alpha=a, tol=START_TOL),
                          lambda: HadamardLasso(alpha=2 * a, tol=START_TOL),
                          lambda: Lasso(alpha=a, tol=START_TOL, max_iter=100_000)]
                ests, times = B.timed_pair(makes, X, y, repeats=B.SMALL_REPEATS)
                obj = [B.objective(X, y, e.coef_, e.intercept_, a, q) for e in ests]
                rows.append({"design": "AR(1)" if correlated else "independent", "seed": seed,
                             "q": qname, "times": times,
                             "win": [obj[1 + i] <= obj[0] * (1 + 1e-6)
                                     for i in range(len(STARTS))],
                             "lasso_nnz": int(np.count_nonzero(ests[4].coef_)),
                             "lasso2_nnz": int(np.count_nonzero(ests[5].coef_)),
                             "lq_nnz": int(np.count_nonzero(ests[1].coef_))})
                print(f"A {rows[-1]['design']} seed {seed} q {qname}: "
                      + " ".join(f"{t * 1e3:.1f}" for t in times) + " ms", flush=True)
    return rows


def random_problem(rng, trial):
    n = int(rng.integers(60, 200))
    p = int(rng.integers(150, 1000))
    if trial % 2:
        X = rng.standard_normal((n, p))
    else:
        X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.1)
        empty = np.all(X == 0, axis=0)
        X[:, empty] = 0.1 * rng.standard_normal((n, int(empty.sum())))
    beta = np.zeros(p)
    s = rng.choice(p, 10, replace=False)
    beta[s] = rng.choice([-1, 1], 10) * rng.uniform(1, 2, 10)
    return X, X @ beta + rng.standard_normal(n)


def part_b(n_trials):
    rng = np.random.default_rng(7)
    rows = []
    for trial in range(n_trials):
        X, y = random_problem(rng, trial)
        for q in (0.5, 2.0 / 3.0):
            div = (10, 50, 200)[trial % 3]
            a = B.alpha_max_q(X, y, q) / div
            row = {"div": div, "design": "Gaussian" if trial % 2 else "10 %-dense"}
            makes = [lambda: B.skglm_lq(a, q)] + [
                (lambda init=init: HadamardLqRegressor(alpha=a, q=q, tol=B.TOL, init=init))
                for init in STARTS]
            ests, times = B.timed_pair(makes, X, y, repeats=2)
            for name, est, t in zip(("skglm",) + STARTS, ests, times):
                row["o_" + name] = B.objective(X, y, est.coef_, est.intercept_, a, q)
                row["t_" + name] = t
            rows.append(row)
        print(f"B trial {trial}", flush=True)
    return rows


def _vs_lasso(R, init):
    """(worse, better, mean relative difference) of ``init``'s objectives against
    ``init='lasso'``'s; worse / better: by more than 1e-9 relative."""
    rel = np.array([(r["o_" + init] - r["o_lasso"]) / r["o_lasso"] for r in R])
    return int(np.sum(rel > 1e-9)), int(np.sum(rel < -1e-9)), float(rel.mean())


def summarise(rows_a, rows_b):
    out = ["## A. At a quarter of skglm's CV alpha: the fits and their starts against skglm\n",
           "Median over seeds of the per-seed time ratios (min-max); each time the median of "
           f"{B.SMALL_REPEATS} fits timed in turns. The default is `init='auto'` (here "
           "`'lasso_2alpha'`). 'HadamardLasso at alpha' and 'sklearn Lasso at alpha': the "
           "start of `init='lasso'` alone; 'HadamardLasso at 2 alpha': the default's lasso "
           "(duality gap 1e-4).\n",
           "| design | q | skglm ℓq fit (ms) | default / skglm | init='lasso' / skglm | "
           "init='path' / skglm | HadamardLasso at alpha / skglm | at 2 alpha / skglm | "
           "sklearn Lasso at alpha / skglm | seeds won: default, 'lasso', 'path' | lasso "
           "nonzeros at alpha, 2 alpha | ℓq nonzeros |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for design in ("independent", "AR(1)"):
        for qname in B.Q_VALUES:
            R = [r for r in rows_a if r["design"] == design and r["q"] == qname]
            if not R:
                continue
            t = np.array([r["times"] for r in R])
            cells = []
            for i in range(1, t.shape[1]):
                ratio = t[:, i] / t[:, 0]
                cells.append(f"{np.median(ratio):.2f} ({ratio.min():.2f}-{ratio.max():.2f})")
            wins = ", ".join(f"{sum(r['win'][i] for r in R)}/{len(R)}"
                             for i in range(len(STARTS)))
            nl = [r["lasso_nnz"] for r in R]
            nl2 = [r["lasso2_nnz"] for r in R]
            nq = [r["lq_nnz"] for r in R]
            out.append(f"| {design} | {qname} | {1e3 * np.median(t[:, 0]):.1f} | "
                       + " | ".join(cells) + f" | {wins} | {min(nl)}-{max(nl)}, "
                       f"{min(nl2)}-{max(nl2)} | {min(nq)}-{max(nq)} |")
    out += ["", "## B. The starts on random problems\n",
            "Objective at the same alpha (every start with the local search) against "
            "`init='lasso'`'s (the default until 2026-12-02): on how many problems it is higher "
            "('worse') or lower ('better') by more than 1e-9 relative, and the mean relative "
            "difference; against skglm's ℓq fit (part A's estimator): the problems on which "
            "each objective is <= skglm's * (1 + 1e-6); time: the median over problems of "
            "each fit's time over skglm's (fitted in turns).\n",
            "| alpha | design | problems | default vs 'lasso': worse, better (mean) | 'path' "
            "vs 'lasso': worse, better (mean) | <= skglm: default, 'lasso', 'path' | time / "
            "skglm: default, 'lasso', 'path' |",
            "|---|---|---|---|---|---|---|"]
    for div in (10, 50, 200):
        for design in ("10 %-dense", "Gaussian"):
            R = [r for r in rows_b if r["div"] == div and r["design"] == design]
            if not R:
                continue
            cmp = [_vs_lasso(R, i) for i in ("auto", "path")]
            won = [sum(r["o_" + i] <= r["o_skglm"] * (1 + 1e-6) for r in R) for i in STARTS]
            ts = [np.median([r["t_" + i] / r["t_skglm"] for r in R]) for i in STARTS]
            out.append(f"| alpha_max_q/{div} | {design} | {len(R)} | "
                       + " | ".join(f"{w}, {b} ({m:+.2%})" for w, b, m in cmp)
                       + " | " + ", ".join(str(w) for w in won)
                       + " | " + ", ".join(f"{x:.2f}" for x in ts) + " |")
    won = [sum(r["o_" + i] <= r["o_skglm"] * (1 + 1e-6) for r in rows_b) for i in STARTS]
    ts = [np.median([r["t_" + i] / r["t_skglm"] for r in rows_b]) for i in STARTS]
    cmp = [_vs_lasso(rows_b, i) for i in ("auto", "path")]
    out.append(f"\nAll {len(rows_b)}: against 'lasso' the default is worse on {cmp[0][0]}, "
               f"better on {cmp[0][1]} (mean {cmp[0][2]:+.2%}), 'path' worse on {cmp[1][0]}, "
               f"better on {cmp[1][1]} (mean {cmp[1][2]:+.2%}). Objective <= skglm's: default "
               f"on {won[0]}, 'lasso' on {won[1]}, 'path' on {won[2]}. Time over skglm's "
               f"(median): default {ts[0]:.2f}, 'lasso' {ts[1]:.2f}, 'path' {ts[2]:.2f}.\n")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2 seeds, 12 random problems")
    ap.add_argument("--output", default=None)
    args = ap.parse_args()
    out_path = Path(args.output) if args.output else HERE / (
        "results_lq_starts_quick.md" if args.quick else "results_lq_starts.md")
    warnings.simplefilter("ignore", ConvergenceWarning)
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    rows_a = part_a(range(2 if args.quick else 10))
    rows_b = part_b(6 if args.quick else 48)
    header = (
        "# The ℓq starts at small alpha: their cost and the minima they reach\n\n"
        f"Generated by `benchmarks/bench_lq_starts.py` on {_dt.date.today()} "
        f"({platform.machine()}, Python {platform.python_version()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}); total "
        f"{time.perf_counter() - t0:.0f} s. Machine load (1-min average): {load:.2f} at the "
        f"start, {os.getloadavg()[0]:.2f} at the end. See the module docstring for the "
        "protocol.\n\n")
    text = header + summarise(rows_a, rows_b)
    out_path.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
