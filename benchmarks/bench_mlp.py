#!/usr/bin/env python
"""Benchmark: HadamardMLPClassifier vs sklearn's dense MLPClassifier and vs magnitude pruning.

Two problems, several seeds (each seed redraws the split / data set and the initialisation):

* ``digits``: sklearn's 8x8 digits (64 inputs / 16, 10 classes), stratified 70/30 split;
* ``synthetic``: ``make_classification`` with 200 inputs of which the first 10 are informative
  (no redundant / repeated ones), 2 classes, standardised on the training part.

Every network has one hidden layer of ``HIDDEN`` ReLU units and is trained with Adam for exactly
``EPOCHS`` epochs (``tol=0``, ``n_iter_no_change=EPOCHS``), batch 200:

* ``dense``: ``sklearn.neural_network.MLPClassifier`` (its default ``alpha=1e-4`` weight decay), at
  learning rates 1e-3 (sklearn's default) and 1e-2; the better of the two (median test accuracy)
  is the reference;
* ``hadamard``: ``HadamardMLPClassifier(sparsity="weights")`` at a fixed ``alpha`` per problem
  (chosen once on seed 100, outside the reported seeds, as the smallest of a short grid reaching
  >= 90 % zeros), learning rate 1e-2;
* ``pruned``: the dense reference network, its weights globally magnitude-pruned to the
  hadamard network's sparsity on the same seed, then fine-tuned with the mask fixed for
  ``FINETUNE`` epochs (Adam, the dense learning rate; the loop is the package's plain-weights
  loop, which is checked equal to sklearn's in tests/test_mlp.py); for information, the
  hadamard network given the same fine-tune on its own support is reported too;
* ``inputs`` (synthetic only): ``HadamardMLPClassifier(sparsity="inputs")`` with k = 2 (group
  lasso) and k = 3 (group ℓ_{2,2/3}), alpha per k the best test accuracy on seed 100 over a
  short grid; the selected features are counted against the 10 informative ones.

Time per epoch is fit time / n_iter_; the ratio to sklearn's is per seed (the two fits run one
after the other), medians over seeds. The machine is shared (load in the header).

Usage::

    python benchmarks/bench_mlp.py            # 5 seeds, writes results_mlp.md (~10 min)
    python benchmarks/bench_mlp.py --quick    # 2 seeds, 60 epochs, prints only
"""

import argparse
import datetime as _dt
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelBinarizer, StandardScaler
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hadasparse import HadamardMLPClassifier  # noqa: E402
from hadasparse.neural_network._solver import Adam, backprop  # noqa: E402

HIDDEN = (100,)
BATCH = 200
DENSE_LRS = (1e-3, 1e-2)
HAD_LR = 1e-2
ALPHA_GRID = {  # sparsity="weights", per depth k
    2: {"digits": (5e-4, 1e-3, 2e-3), "synthetic": (5e-4, 1e-3, 2e-3)},
    3: {"digits": (1e-4, 2e-4, 4e-4), "synthetic": (5e-5, 1e-4, 2e-4, 4e-4)},
}
INPUTS_ALPHA_GRID = {2: (3e-3, 4e-3, 5e-3, 6e-3), 3: (1e-3, 2e-3, 4e-3)}


def load(problem, seed):
    if problem == "digits":
        X, y = load_digits(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3, random_state=seed,
                                              stratify=y)
        return Xtr, Xte, ytr, yte, None
    X, y = make_classification(n_samples=3000, n_features=200, n_informative=10,
                               n_redundant=0, n_repeated=0, n_classes=2, shuffle=False,
                               random_state=seed)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=1 / 3, random_state=seed,
                                          stratify=y)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte, np.arange(10)


def timed_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t


def dense(lr, epochs, seed):
    return MLPClassifier(HIDDEN, learning_rate_init=lr, max_iter=epochs, tol=0.0,
                         n_iter_no_change=epochs, batch_size=BATCH, random_state=seed)


def hadamard(alpha, epochs, seed, sparsity="weights", k=2):
    return HadamardMLPClassifier(HIDDEN, sparsity=sparsity, k=k, alpha=alpha,
                                 learning_rate_init=HAD_LR, max_iter=epochs, tol=0.0,
                                 n_iter_no_change=epochs, batch_size=BATCH, random_state=seed)


def prune_and_finetune(net, Xtr, ytr, sparsity, epochs, lr, seed):
    """Global magnitude pruning of ``net``'s weights to ``sparsity``, then ``epochs`` of masked
    Adam (the pruned weights stay 0: their gradients, hence Adam's moments, are masked).
    Returns (coefs, intercepts)."""
    coefs = [W.copy() for W in net.coefs_]
    intercepts = [b.copy() for b in net.intercepts_]
    mags = np.concatenate([np.abs(W).ravel() for W in coefs])
    n_zero = int(round(sparsity * mags.size))
    if n_zero > 0:
        thr = np.partition(mags, n_zero - 1)[n_zero - 1]
        masks = [np.abs(W) > thr for W in coefs]
    else:
        masks = [np.ones_like(W, dtype=bool) for W in coefs]
    coefs = [W * m for W, m in zip(coefs, masks)]
    lb = LabelBinarizer().fit(ytr)
    Y = lb.transform(ytr).astype(float)
    out_act = "softmax" if Y.shape[1] > 1 else "logistic"
    opt = Adam(coefs + intercepts, lr, 0.9, 0.999, 1e-8)
    rng = np.random.RandomState(seed)
    n = Xtr.shape[0]
    for _ in range(epochs):
        idx = rng.permutation(n)
        for start in range(0, n, BATCH):
            b = idx[start:start + BATCH]
            _, g, gi = backprop(Xtr[b], Y[b], None, coefs, intercepts, "relu", out_act)
            g = [gw * m for gw, m in zip(g, masks)]
            opt.update(coefs + intercepts, g + gi)
    return coefs, intercepts, lb, out_act


def accuracy_of(coefs, intercepts, lb, out_act, X, y):
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        A = A @ W + b
        if i < len(coefs) - 1:
            A = np.maximum(A, 0)
    pred = lb.inverse_transform(A.ravel() if A.shape[1] == 1 else A)
    return float(np.mean(pred == y))


def choose_alpha(problem, epochs, k):
    """Smallest alpha of the grid reaching >= 90 % zero weights on seed 100 (not a reported
    seed)."""
    Xtr, Xte, ytr, yte, _ = load(problem, 100)
    for alpha in ALPHA_GRID[k][problem]:
        est = hadamard(alpha, epochs, 100, "weights", k)
        timed_fit(est, Xtr, ytr)
        print(f"  [{problem} weights k={k}] alpha={alpha:g}: sparsity {est.sparsity_:.3f}, "
              f"test acc {est.score(Xte, yte):.4f}", flush=True)
        if est.sparsity_ >= 0.9:
            return alpha
    return ALPHA_GRID[k][problem][-1]


def choose_inputs_alpha(epochs, k):
    """The alpha of the grid with the best test accuracy on seed 100 (a separate draw of the
    synthetic problem; the informative features are not used)."""
    Xtr, Xte, ytr, yte, _ = load("synthetic", 100)
    best = None
    for alpha in INPUTS_ALPHA_GRID[k]:
        est = hadamard(alpha, epochs, 100, "inputs", k)
        timed_fit(est, Xtr, ytr)
        acc = est.score(Xte, yte)
        print(f"  [synthetic inputs k={k}] alpha={alpha:g}: {est.selected_features_.size} "
              f"inputs, test acc {acc:.4f}", flush=True)
        if best is None or acc > best[1]:
            best = (alpha, acc)
    return best[0]


def run_problem(problem, seeds, epochs, finetune):
    alphas = {k: choose_alpha(problem, epochs, k) for k in ALPHA_GRID}
    inputs_alpha = ({k: choose_inputs_alpha(epochs, k) for k in INPUTS_ALPHA_GRID}
                    if problem == "synthetic" else None)
    rows = []
    for seed in seeds:
        Xtr, Xte, ytr, yte, informative = load(problem, seed)
        row = {"seed": seed, "nets": {}, "had": {}}
        for lr in DENSE_LRS:
            net = dense(lr, epochs, seed)
            row[f"t_dense_{lr:g}"] = timed_fit(net, Xtr, ytr) / net.n_iter_
            row[f"acc_dense_{lr:g}"] = net.score(Xte, yte)
            row["nets"][lr] = net
        for k, alpha in alphas.items():
            had = hadamard(alpha, epochs, seed, "weights", k)
            row[f"t_had{k}"] = timed_fit(had, Xtr, ytr) / had.n_iter_
            row[f"acc_had{k}"] = had.score(Xte, yte)
            row[f"sparsity_had{k}"] = had.sparsity_
            row["had"][k] = had
        for k, a in (inputs_alpha or {}).items():
            inp = hadamard(a, epochs, seed, "inputs", k)
            row[f"t_inputs{k}"] = timed_fit(inp, Xtr, ytr) / inp.n_iter_
            sel = set(inp.selected_features_.tolist())
            row[f"inputs_true{k}"] = len(sel & set(informative.tolist()))
            row[f"inputs_false{k}"] = len(sel - set(informative.tolist()))
            row[f"acc_inputs{k}"] = inp.score(Xte, yte)
        row["data"] = (Xtr, Xte, ytr, yte)
        rows.append(row)
        print(f"  [{problem}] seed {seed}: dense {row['acc_dense_0.001']:.4f}/"
              f"{row['acc_dense_0.01']:.4f}, " + ", ".join(
                  f"hadamard k={k} {row[f'acc_had{k}']:.4f} at sparsity "
                  f"{row[f'sparsity_had{k}']:.3f}" for k in alphas), flush=True)
    # the dense reference: the learning rate with the better median test accuracy
    best_lr = max(DENSE_LRS, key=lambda lr: np.median([r[f"acc_dense_{lr:g}"] for r in rows]))
    for row in rows:
        Xtr, Xte, ytr, yte = row.pop("data")
        net = row.pop("nets")[best_lr]
        hads = row.pop("had")
        row["acc_dense"] = row[f"acc_dense_{best_lr:g}"]
        row["t_dense"] = row[f"t_dense_{best_lr:g}"]
        for k, had in hads.items():
            target = row[f"sparsity_had{k}"]
            for ft, key in ((finetune, f"acc_pruned{k}"), (0, f"acc_pruned_noft{k}")):
                c, i, lb, oa = prune_and_finetune(net, Xtr, ytr, target, ft, best_lr,
                                                  row["seed"])
                row[key] = accuracy_of(c, i, lb, oa, Xte, yte)
            c, i, lb, oa = prune_and_finetune(had, Xtr, ytr, target, finetune, best_lr,
                                              row["seed"])
            row[f"acc_had_ft{k}"] = accuracy_of(c, i, lb, oa, Xte, yte)
    return dict(alphas=alphas, inputs_alpha=inputs_alpha, best_lr=best_lr, rows=rows)


def med(rows, key):
    return float(np.median([r[key] for r in rows]))


def report(results, seeds, epochs, finetune, load0, load1, total):
    lines = [
        "# HadamardMLPClassifier vs dense MLPClassifier and magnitude pruning",
        "",
        f"Generated by `benchmarks/bench_mlp.py` on {_dt.date.today()} ({platform.machine()}, "
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}); total "
        f"{total:.0f} s. Machine load (1-min average, `os.getloadavg`): {load0:.2f} at the "
        f"start, {load1:.2f} at the end (2 cores shared with other jobs: times are noisy, "
        "ratios are per seed). Every fit runs with `threadpoolctl.threadpool_limits(1)`: "
        "on this loaded 2-core machine multi-threaded OpenBLAS calls were erratic (the same "
        "20,000-element dot product took 2 µs or 1.7 ms).",
        "",
        f"One hidden layer of {HIDDEN[0]} ReLU units, Adam, batch {BATCH}, exactly {epochs} "
        f"epochs for every network; seeds {seeds} (each seed redraws split/data and "
        f"initialisation); pruned networks fine-tuned for {finetune} epochs. Medians over "
        "seeds (min-max in brackets). See the module docstring for the protocol.",
        "",
    ]
    for problem, res in results.items():
        rows = res["rows"]

        def mm(key, fmt="{:.4f}"):
            vals = [r[key] for r in rows]
            return (fmt.format(np.median(vals)) + " (" + fmt.format(min(vals)) + "-"
                    + fmt.format(max(vals)) + ")")

        lines += [
            f"## {problem}",
            "",
            f"Dense reference: learning rate {res['best_lr']:g} (test accuracy at 1e-3: "
            f"{mm('acc_dense_0.001')}, at 1e-2: {mm('acc_dense_0.01')}); time per epoch "
            f"{mm('t_dense', '{:.4f}')} s.",
            "",
        ]
        for k, alpha in res["alphas"].items():
            gap = [100 * (r["acc_dense"] - r[f"acc_had{k}"]) for r in rows]
            above = sum(r[f"acc_had{k}"] > r[f"acc_pruned{k}"] for r in rows)
            ratio = [r[f"t_had{k}"] / r["t_dense"] for r in rows]
            diff = np.median([r[f"acc_had{k}"] - r[f"acc_pruned{k}"] for r in rows])
            lines += [
                f"### sparsity='weights', k = {k} (q = {2 / k:.3g}), alpha = {alpha:g} (the "
                "smallest of "
                f"{', '.join(f'{g:g}' for g in ALPHA_GRID[k][problem])} with >= 90 % zeros "
                "on seed 100)",
                "",
                "| network | zero weights | test accuracy |",
                "|---|---|---|",
                f"| dense MLPClassifier | 0 | {mm('acc_dense')} |",
                f"| HadamardMLPClassifier | {mm(f'sparsity_had{k}', '{:.3f}')} | "
                f"{mm(f'acc_had{k}')} |",
                f"| dense, magnitude-pruned to the same sparsity (per seed), no fine-tune | "
                f"same | {mm(f'acc_pruned_noft{k}')} |",
                f"| dense, magnitude-pruned, fine-tuned {finetune} epochs | same | "
                f"{mm(f'acc_pruned{k}')} |",
                f"| HadamardMLPClassifier, then the same {finetune}-epoch fine-tune on its "
                f"support (alpha = 0) | same | {mm(f'acc_had_ft{k}')} |",
                "",
                f"- seeds with >= 90 % zero weights: "
                f"{sum(r[f'sparsity_had{k}'] >= 0.9 for r in rows)}/{len(rows)}.",
                f"- accuracy gap dense − hadamard (points): median {np.median(gap):.2f}, per "
                f"seed {', '.join(f'{g:.2f}' for g in gap)}; at most 1 point below dense on "
                f"{sum(g <= 1.0 for g in gap)}/{len(gap)} seeds.",
                f"- hadamard above pruned+fine-tuned on {above}/{len(rows)} seeds (median "
                f"difference {100 * diff:.2f} points).",
                f"- time per epoch / MLPClassifier's: median {np.median(ratio):.2f} "
                f"(min-max {min(ratio):.2f}-{max(ratio):.2f}).",
                "",
            ]
        for k, a in (res["inputs_alpha"] or {}).items():
            lines += [
                f"`sparsity='inputs'`, k = {k} (q = {2 / k:.3g}), alpha = {a:g} (the best test "
                "accuracy on seed 100 among "
                f"{', '.join(f'{g:g}' for g in INPUTS_ALPHA_GRID[k])}):",
                "",
                "| seed | informative selected (of 10) | other inputs selected (of 190) | "
                "test accuracy | time per epoch / MLPClassifier's |",
                "|---|---|---|---|---|",
            ]
            for r in rows:
                lines.append(f"| {r['seed']} | {r[f'inputs_true{k}']} | "
                             f"{r[f'inputs_false{k}']} | {r[f'acc_inputs{k}']:.4f} | "
                             f"{r[f't_inputs{k}'] / r['t_dense']:.2f} |")
            ok = sum(r[f"inputs_true{k}"] >= 9 and r[f"inputs_false{k}"] <= 3 for r in rows)
            lines += ["", f"- >= 9 informative with <= 3 others on {ok}/{len(rows)} seeds.",
                      ""]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--finetune", type=int, default=40)
    ap.add_argument("--only", default="digits,synthetic")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.finetune = 2, 60, 15
    seeds = list(range(args.seeds))
    threadpool_limits(1)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = {}
    for problem in args.only.split(","):
        results[problem] = run_problem(problem, seeds, args.epochs, args.finetune)
    text = report(results, seeds, args.epochs, args.finetune, load0, os.getloadavg()[0],
                  time.perf_counter() - t0)
    print(text)
    if not args.quick:
        (HERE / "results_mlp.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
