"""Cross-validated lasso: HadamardLassoCV vs sklearn's LassoCV (and skglm's
GeneralizedLinearEstimatorCV when importable), on the correlated 1000x5000 design with 100
alphas and 5 folds.

Both hadasparse and sklearn get the same folds, the same grid and the same ``tol`` (sklearn's
meaning for both); the script reports the median wall time of interleaved repeats, the time
ratio against LassoCV, whether ``alpha_`` agrees, and the largest relative difference of
``mse_path_``. At the default ``tol`` both paths are inexact (a gap of ``tol·‖y‖²/n`` still
moves the test error by several per cent), so both are also compared with the exact path:
HadamardLassoCV at ``tol=1e-10`` (certified; its row is timed too). skglm's tolerance is not a
duality gap and it picks its own folds, so its row is context, not a like-for-like comparison;
it is run once (it takes minutes).

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
    parser.add_argument("--no-skglm", action="store_true", help="skip the skglm context row")
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
        "HadamardLassoCV tol=1e-10 (exact path)": lambda: HadamardLassoCV(
            alphas=n_alphas, cv=folds, tol=1e-10),
    }
    context = {}
    if GeneralizedLinearEstimatorCV is not None and not args.no_skglm:
        context["skglm GLM-CV (context)"] = lambda: GeneralizedLinearEstimatorCV(
            Quadratic(), L1(alpha=1.0), AndersonCD(tol=args.tol, fit_intercept=True),
            n_alphas=n_alphas, cv=5, random_state=0)
    load_before = os.getloadavg()[0]

    HadamardLassoCV(alphas=3, cv=2).fit(X[:50], y[:50])  # load the numba kernels untimed
    times = {name: [] for name in solvers}
    fitted = {}
    for r in range(args.repeats):
        order = list(solvers)[r % len(solvers):] + list(solvers)[:r % len(solvers)]
        for name in order:
            start = time.perf_counter()
            fitted[name] = solvers[name]().fit(X, y)
            times[name].append(time.perf_counter() - start)
    for name, make in context.items():
        start = time.perf_counter()
        fitted[name] = make().fit(X, y)
        times[name] = [time.perf_counter() - start]
    load_after = os.getloadavg()[0]

    ref = fitted["sklearn LassoCV"]
    exact = fitted["HadamardLassoCV tol=1e-10 (exact path)"]
    ref_time = np.median(times["sklearn LassoCV"])
    lines = [
        "# Cross-validated lasso benchmark",
        "",
        f"- machine: {platform.platform()}, {os.cpu_count()} cores; python "
        f"{platform.python_version()}",
        f"- problem: {problem.description}; {n_alphas} alphas, 5 folds (KFold, shuffled, seed 0), "
        f"tol={args.tol:g}; median of {args.repeats} interleaved repeats "
        f"(context rows: one run); load average {load_before:.2f} before, {load_after:.2f} after",
        "- mse diff: largest relative difference of ``mse_path_`` (max over the path, divided by "
        "the largest mse); same alpha_: equal to LassoCV's / to the exact path's choice",
        "",
        "| solver | median s | ratio / LassoCV | alpha_ | same alpha_ as LassoCV "
        "| mse diff to LassoCV | same alpha_ as exact | mse diff to exact |",
        "|---|---:|---:|---:|---|---:|---|---:|",
    ]

    def compare(model, other):
        path = getattr(model, "mse_path_", None)
        if path is None or np.shape(path) != np.shape(other.mse_path_):
            return "n/a (own folds)", "n/a"
        diff = np.abs(model.mse_path_ - other.mse_path_).max() / np.abs(other.mse_path_).max()
        same = "yes" if np.isclose(model.alpha_, other.alpha_, rtol=1e-10) else "no"
        return same, f"{diff:.1e}"

    for name, model in fitted.items():
        t = np.median(times[name])
        same_ref, diff_ref = compare(model, ref)
        same_exact, diff_exact = compare(model, exact)
        lines.append(f"| {name} | {t:.2f} | {t / ref_time:.2f} | {model.alpha_:.6g} "
                     f"| {same_ref} | {diff_ref} | {same_exact} | {diff_exact} |")
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
