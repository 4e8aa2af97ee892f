"""Cross-validated lasso: HadamardLassoCV vs sklearn's LassoCV (and skglm's
GeneralizedLinearEstimatorCV when importable), on the correlated 1000x5000 design with 100
alphas and 5 folds.

Both hadasparse and sklearn get the same folds, the same grid and the same ``tol`` (sklearn's
meaning for both); the script reports the median wall time of interleaved repeats, the time
ratio against LassoCV, whether ``alpha_`` agrees, and the largest relative difference of
``mse_path_``. skglm's tolerance is not a duality gap and it picks its own folds, so its row is
context, not a like-for-like comparison.

    python benchmarks/bench_cv.py            # the issue's problem (several minutes)
    python benchmarks/bench_cv.py --quick    # 300x1000, 30 alphas: a smoke test
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _problems import make_correlated  # noqa: E402

from hadasparse import HadamardLassoCV  # noqa: E402

try:
    from skglm import GeneralizedLinearEstimatorCV
    from skglm.datafits import Quadratic
    from skglm.penalties import L1
    from skglm.solvers import AndersonCD
except ImportError:  # optional
    GeneralizedLinearEstimatorCV = None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    n, p, n_alphas = (300, 1000, 30) if args.quick else (1000, 5000, 100)
    problem = make_correlated(n, p, random_state=0)
    X, y = problem.X, problem.y
    folds = KFold(5, shuffle=True, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)

    solvers = {
        "sklearn LassoCV": lambda: LassoCV(alphas=n_alphas, cv=folds, tol=args.tol,
                                           max_iter=100_000),
        "HadamardLassoCV": lambda: HadamardLassoCV(alphas=n_alphas, cv=folds, tol=args.tol),
    }
    if GeneralizedLinearEstimatorCV is not None:
        solvers["skglm GLM-CV (context)"] = lambda: GeneralizedLinearEstimatorCV(
            Quadratic(), L1(alpha=1.0), AndersonCD(tol=args.tol, fit_intercept=True),
            n_alphas=n_alphas, cv=5, random_state=0)

    HadamardLassoCV(alphas=3, cv=2).fit(X[:50], y[:50])  # load the numba kernels untimed
    times = {name: [] for name in solvers}
    fitted = {}
    for r in range(args.repeats):
        order = list(solvers)[r % len(solvers):] + list(solvers)[:r % len(solvers)]
        for name in order:
            start = time.perf_counter()
            fitted[name] = solvers[name]().fit(X, y)
            times[name].append(time.perf_counter() - start)

    ref = fitted["sklearn LassoCV"]
    ref_time = np.median(times["sklearn LassoCV"])
    lines = [
        "# Cross-validated lasso benchmark",
        "",
        f"- machine: {platform.platform()}, {os.cpu_count()} cores; python "
        f"{platform.python_version()}",
        f"- problem: {problem.description}; {n_alphas} alphas, 5 folds (KFold, shuffled, seed 0), "
        f"tol={args.tol:g}; median of {args.repeats} interleaved repeats",
        "",
        "| solver | median s | ratio / LassoCV | alpha_ | same alpha_ | max rel. diff mse_path_ |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, model in fitted.items():
        t = np.median(times[name])
        if hasattr(model, "mse_path_") and np.shape(model.mse_path_) == np.shape(ref.mse_path_):
            diff = np.abs(model.mse_path_ - ref.mse_path_).max() / np.abs(ref.mse_path_).max()
            same = "yes" if np.isclose(model.alpha_, ref.alpha_, rtol=1e-10) else "no"
            diff_s = f"{diff:.1e}"
        else:
            same, diff_s = "n/a (own folds)", "n/a"
        lines.append(f"| {name} | {t:.2f} | {t / ref_time:.2f} | {model.alpha_:.6g} | {same} "
                     f"| {diff_s} |")
    text = "\n".join(lines) + "\n"
    print(text)
    output = args.output or os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "results_cv_quick.md" if args.quick else "results_cv.md")
    with open(output, "w") as fh:
        fh.write(text)
    print("written", output)


if __name__ == "__main__":
    main()
