#!/usr/bin/env python
"""Benchmark: numba compilation and start-up cost of every hadasparse estimator.

For each estimator, a fresh Python process imports hadasparse and fits one small problem
(dense, and sparse where the estimator takes sparse X):

* cold: with an empty ``NUMBA_CACHE_DIR`` -- the first fit on a new machine, all of its
  kernels compiled;
* warm: with the cache that the cold run left -- every later process; the start-up cost is
  the first fit's time minus a second, identical fit's in the same process (numba loads its
  cached kernels on the first call);
* cold, dense alone / sparse alone: for the estimators fitted on dense and sparse X, two more
  fresh processes with empty caches that fit only the dense problem, and only the sparse one
  -- a user's first fit is one of these (the dense and the sparse form of a working set are
  different numba types, each compiling its own kernels), and as many warm processes on
  the cache each left (the start-up of a process that fits one kind of data). For
  estimators fitted on dense X only, the dense-alone columns repeat the cold and warm
  rows.

A last cold process fits every estimator in turn (the whole package's compilation). Times
are CPU seconds of the process (``time.process_time``; wall time in brackets): on a shared
machine CPU time is far less noisy than wall time. Issue #11's targets: a cold first fit of
any single estimator <= 15 s, a warm start-up <= 0.5 s.

Usage::

    python benchmarks/bench_compile.py [--repeats 3] [--output benchmarks/results_compile.md]
                                       [--only HadamardLasso,...] [--no-all]
"""

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# name -> (import line, constructor, data kind)
ESTIMATORS = {
    "HadamardLasso": ("HadamardLasso", "HadamardLasso(alpha=0.05)", "dense+sparse"),
    "HadamardElasticNet": ("HadamardElasticNet", "HadamardElasticNet(alpha=0.05)",
                           "dense+sparse"),
    "HadamardGroupLasso": ("HadamardGroupLasso", "HadamardGroupLasso(alpha=0.05, groups=5)",
                           "dense+sparse"),
    "HadamardMultiTaskLasso": ("HadamardMultiTaskLasso", "HadamardMultiTaskLasso(alpha=0.05)",
                               "multitask"),
    "HadamardLqRegressor": ("HadamardLqRegressor", "HadamardLqRegressor(alpha=0.05, q=0.5)",
                            "dense+sparse"),
    "HadamardLqRegressor(groups)": ("HadamardLqRegressor",
                                    "HadamardLqRegressor(alpha=0.05, q=0.5, groups=5)", "dense"),
    "HadamardLogisticRegression": ("HadamardLogisticRegression",
                                   "HadamardLogisticRegression(C=0.5)", "binary"),
}

_CHILD = r"""
import json, time, warnings
t0 = time.process_time(); w0 = time.perf_counter()
import numpy as np
from scipy import sparse
from hadasparse import {cls}
t_import = time.process_time() - t0
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.standard_normal((60, 100))
y = X[:, :5].sum(axis=1) + 0.1 * rng.standard_normal(60)
kind = {kind!r}
data = [(X, np.column_stack([y, -y + X[:, 6]]) if kind == "multitask"
         else (y > 0).astype(int) if kind == "binary" else y)]
if "sparse" in kind:
    Xs = X.copy()
    Xs[rng.random(X.shape) < 0.7] = 0.0
    data.append((sparse.csc_matrix(Xs), y))
    if {alone!r} == "dense":
        data = data[:1]
    elif {alone!r} == "sparse":
        data = data[1:]

def fit_all():
    for Xd, yd in data:
        {ctor}.fit(Xd, yd)

t1 = time.process_time(); w1 = time.perf_counter()
fit_all()
first, first_wall = time.process_time() - t1, time.perf_counter() - w1
t2 = time.process_time()
fit_all()
second = time.process_time() - t2
print("JSON" + json.dumps(dict(import_cpu=t_import, first=first, first_wall=first_wall,
                               second=second, total_wall=time.perf_counter() - w0)))
"""


def _run(code, env):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=str(REPO), timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("JSON")][-1]
    return json.loads(line[4:])


def _child(name, alone=""):
    """The child process of ``name``; ``alone`` "dense" or "sparse": only that fit of a
    dense+sparse estimator."""
    cls, ctor, kind = ESTIMATORS[name]
    return _CHILD.format(cls=cls, ctor=ctor, kind=kind, alone=alone)


def _all_code():
    imports = sorted({cls for cls, _, _ in ESTIMATORS.values()})
    body = "\n".join(
        f"for Xd, yd in data_{kind.replace('+', '_')}: {ctor}.fit(Xd, yd)"
        for cls, ctor, kind in ESTIMATORS.values())
    return f"""
import json, time, warnings
t0 = time.process_time(); w0 = time.perf_counter()
import numpy as np
from scipy import sparse
from hadasparse import {", ".join(imports)}
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.standard_normal((60, 100))
y = X[:, :5].sum(axis=1) + 0.1 * rng.standard_normal(60)
Xs = X.copy(); Xs[rng.random(X.shape) < 0.7] = 0.0; Xs = sparse.csc_matrix(Xs)
data_dense = [(X, y)]
data_dense_sparse = [(X, y), (Xs, y)]
data_multitask = [(X, np.column_stack([y, -y + X[:, 6]]))]
data_binary = [(X, (y > 0).astype(int))]
{body}
print("JSON" + json.dumps(dict(cpu=time.process_time() - t0, wall=time.perf_counter() - w0)))
"""


def _median_startup(runs):
    """The median over warm processes of the start-up, first − second fit (CPU s)."""
    startups = sorted(d["first"] - d["second"] for d in runs)
    return startups[len(startups) // 2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm processes per estimator")
    parser.add_argument("--output", default=str(HERE / "results_compile.md"))
    parser.add_argument("--only", default="", help="comma-separated estimator names")
    parser.add_argument("--no-all", action="store_true",
                        help="skip the last process that fits every estimator")
    args = parser.parse_args(argv)
    names = [n for n in ESTIMATORS if not args.only or n in args.only.split(",")]
    load0 = os.getloadavg()[0]
    started = time.perf_counter()
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="hadasparse-numba-") as tmp:
            env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
            print(f"{name}: cold ...", flush=True)
            cold = _run(_child(name), env)
            warm = [_run(_child(name), env) for _ in range(args.repeats)]
        warm.sort(key=lambda d: d["first"] - d["second"])
        med = warm[len(warm) // 2]
        # one fit of one form (dense or sparse X), cold and warm: what a process that fits
        # one kind of data pays
        alone = {}
        if "sparse" in ESTIMATORS[name][2]:
            for part in ("dense", "sparse"):
                with tempfile.TemporaryDirectory(prefix="hadasparse-numba-") as tmp:
                    print(f"{name}: cold, {part} alone ...", flush=True)
                    env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
                    first = _run(_child(name, part), env)["first"]
                    alone[part] = (first, _median_startup(
                        [_run(_child(name, part), env) for _ in range(args.repeats)]))
        else:
            alone["dense"] = (cold["first"], med["first"] - med["second"])
        rows.append((name, cold, med, alone))
        print(f"  cold first fit {cold['first']:.1f} s CPU, warm start-up "
              f"{med['first'] - med['second']:.2f} s"
              + "".join(f", {part} alone {t:.1f} s (warm {w:.2f} s)"
                        for part, (t, w) in alone.items()), flush=True)
    whole = None
    if not args.no_all:
        with tempfile.TemporaryDirectory(prefix="hadasparse-numba-") as tmp:
            print("all estimators, cold ...", flush=True)
            whole = _run(_all_code(), dict(os.environ, NUMBA_CACHE_DIR=tmp))
    load1 = os.getloadavg()[0]
    lines = [
        "# Compilation and start-up of the hadasparse estimators",
        "",
        f"Generated by `benchmarks/bench_compile.py` on {_dt.date.today()} "
        f"({platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores); total {time.perf_counter() - started:.0f} s. Machine load "
        f"(1-min average): {load0:.2f} at the start, {load1:.2f} at the end. CPU seconds of "
        "the process (wall seconds in brackets); warm rows are the median of "
        f"{args.repeats} fresh processes.",
        "",
        "| estimator (fits) | cold: import | cold: first fit | warm: import | warm: start-up "
        "(first − second fit) | second fit | one form: cold first fit, dense alone | sparse "
        "alone | one form: warm start-up, dense alone | sparse alone |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, cold, med, alone in rows:
        kind = ESTIMATORS[name][2]
        lines.append(
            f"| {name} ({kind}) | {cold['import_cpu']:.2f} | {cold['first']:.1f} "
            f"({cold['first_wall']:.1f}) | {med['import_cpu']:.2f} | "
            f"{med['first'] - med['second']:.2f} | {med['second']:.3f} | "
            + " | ".join(f"{alone[part][0]:.1f}" if part in alone else "–"
                         for part in ("dense", "sparse")) + " | "
            + " | ".join(f"{alone[part][1]:.2f}" if part in alone else "–"
                         for part in ("dense", "sparse")) + " |")
    lines.append("")
    if whole is not None:
        lines += [
            f"All estimators in one cold process (import + every fit above): "
            f"**{whole['cpu']:.0f} s CPU** ({whole['wall']:.0f} s wall).",
            "",
        ]
    lines += [
        "Targets (issue #11): cold first fit of one estimator <= 15 s; warm start-up <= 0.5 s. "
        "The `dense+sparse` rows fit both forms in one process (each form is its own numba "
        "type, so that process loads or compiles the solver twice); the one-form columns are "
        "a process that fits one kind of data.",
        "",
    ]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
