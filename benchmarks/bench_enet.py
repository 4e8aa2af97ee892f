#!/usr/bin/env python
"""Benchmark: hadasparse.HadamardElasticNet vs sklearn / skglm ElasticNet.

Objective (every solver; rho = l1_ratio, intercept fitted)::

    P(beta, b0) = 1/(2n) ||y - X beta - b0||^2 + alpha rho ||beta||_1
                  + alpha (1 - rho) / 2 ||beta||^2

Same method as ``bench_lasso.py`` (whose problems, calibration, warm-up and
interleaved timing are imported, not copied): every solver is run to the *same
certified duality gap*, recomputed independently (``_problems.enet_duality_gap``,
sklearn's elastic-net dual point) from each solver's returned ``coef_`` /
``intercept_`` and compared with the target ``TARGET_REL_GAP * ||y_c||^2 / n``
(sklearn's meaning of ``tol``).

* sklearn's ElasticNet and HadamardElasticNet get ``tol = target`` (documented
  to mean exactly that); a miss of the independent gap is flagged, never
  silently fixed.
* skglm's ``tol`` bounds an absolute optimality (KKT) violation, not a gap:
  tol = 1e-4, 1e-5, ..., 1e-12 until the independent gap meets the target.

Grid: bench_lasso's problems (diabetes, corr1000x5000, corr10000x200,
sparse2000x20000; ``--quick``: its smaller list), l1_ratio in (0.5, 0.9),
alpha = alpha_max / 10 and alpha_max / 100 with alpha_max = ||X_c^T y_c||_inf
/ (n l1_ratio) (the smallest alpha with beta = 0), intercept fitted.

Timings are medians of interleaved repeats (the solver order rotates each
repeat) after an untimed warm-up fit, so JIT compilation is excluded
(compilation / start-up: see bench_lasso.py, the kernels are shared).

Usage::

    python benchmarks/bench_enet.py              # full grid, writes benchmarks/results_enet.md
    python benchmarks/bench_enet.py --quick      # smoke test, results_enet_quick.md
    python benchmarks/bench_enet.py --repeats 7 --only corr
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _problems import alpha_max, enet_duality_gap  # noqa: E402
from bench_lasso import (  # noqa: E402
    ALPHA_DIVS,
    MIN_REPEAT_SECONDS,
    SKGLM_TOLS,
    TARGET_REL_GAP,
    Solver,
    _fingerprint,
    _ms,
    _version,
    build_problems,
    run_cell,
)

import sklearn  # noqa: E402
from sklearn.linear_model import ElasticNet as SklearnElasticNet  # noqa: E402

try:
    from hadasparse import HadamardElasticNet
except ImportError as _exc:  # pragma: no cover
    sys.exit(f"cannot import hadasparse ({_exc}); run `.venv/bin/pip install -e \".[benchmarks]\"`")

L1_RATIOS = (0.5, 0.9)
RATIO_TARGET_MEDIAN = 1.0       # the target: median HadamardElasticNet/sklearn
RATIO_TARGET_MAX = 3.0          # ... and no cell above this


# ---------------------------------------------------------------------------
# Solvers (l1_ratio bound per cell; bench_lasso's run_cell calls make(alpha, fi, tol))
# ---------------------------------------------------------------------------

def build_solvers(l1_ratio):
    """Return (solvers, notes) for one l1_ratio. skglm is optional."""
    notes = []

    def _sklearn(alpha, fit_intercept, tol):
        return SklearnElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                                 tol=tol, max_iter=100_000)

    def _hadamard(alpha, fit_intercept, tol):
        return HadamardElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                                  tol=tol, max_iter=100_000)

    solvers = [
        Solver("sklearn", "sklearn", _sklearn, "gap"),
        Solver("hadamard", "HadamardElasticNet", _hadamard, "gap"),
    ]
    try:
        import skglm

        if hasattr(skglm, "ElasticNet"):
            def _skglm(alpha, fit_intercept, tol):
                return skglm.ElasticNet(alpha=alpha, l1_ratio=l1_ratio,
                                        fit_intercept=fit_intercept, tol=tol,
                                        max_iter=1000, max_epochs=100_000)
            notes.append("skglm: skglm.ElasticNet")
        else:
            from skglm import GeneralizedLinearEstimator
            from skglm.datafits import Quadratic
            from skglm.penalties import L1_plus_L2
            from skglm.solvers import AndersonCD

            def _skglm(alpha, fit_intercept, tol):
                return GeneralizedLinearEstimator(
                    Quadratic(), L1_plus_L2(alpha, l1_ratio),
                    AndersonCD(tol=tol, max_iter=1000, max_epochs=100_000,
                               fit_intercept=fit_intercept))
            notes.append("skglm: GeneralizedLinearEstimator(Quadratic, L1_plus_L2, AndersonCD)")
        solvers.append(Solver("skglm", "skglm", _skglm, "ladder"))
    except ImportError as exc:
        notes.append(f"skglm skipped: not importable ({exc}).")
    return solvers, notes


def _gap_fn(l1_ratio):
    def gap(X, y, coef, intercept, alpha, fit_intercept):
        return enet_duality_gap(X, y, coef, intercept, alpha, l1_ratio, fit_intercept)
    return gap


def enet_alpha_max(X, y, l1_ratio, fit_intercept=True):
    """Smallest alpha with beta = 0: the lasso's alpha_max / l1_ratio."""
    return alpha_max(X, y, fit_intercept) / l1_ratio


# ---------------------------------------------------------------------------
# Self-check of the certificate against sklearn's own dual_gap_
# ---------------------------------------------------------------------------

def self_check():
    """enet_duality_gap must equal ElasticNet.dual_gap_ on an early-stopped fit."""
    import warnings

    from _problems import make_correlated, make_sparse

    out = []
    for prob in (make_correlated(60, 150, name="d"), make_sparse(60, 150, density=0.1, name="s")):
        for rho in L1_RATIOS:
            a = enet_alpha_max(prob.X, prob.y + 3.0, rho) / 20
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = SklearnElasticNet(alpha=a, l1_ratio=rho, tol=1e-12,
                                        max_iter=3).fit(prob.X, prob.y + 3.0)
            g = enet_duality_gap(prob.X, prob.y + 3.0, est.coef_, est.intercept_, a, rho, True)
            rel = abs(g["gap"] - est.dual_gap_) / est.dual_gap_
            if not rel < 1e-8:
                raise AssertionError(f"enet_duality_gap {g['gap']!r} != sklearn dual_gap_ "
                                     f"{est.dual_gap_!r} ({prob.name}, l1_ratio={rho})")
            out.append(rel)
    return max(out)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def cell_name(prob, rho, div):
    return f"{prob.name} l1={rho:g} a/{div}"


def header_lines(args, solvers, notes, loads, check_err):
    lines = ["# Elastic-net benchmark: HadamardElasticNet vs sklearn / skglm ElasticNet", ""]
    lines.append(f"- date: {_dt.datetime.now().isoformat(timespec='seconds')}")
    lines.append(f"- machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
                 f"os.cpu_count()={os.cpu_count()}, python {platform.python_version()}")
    lo = np.array([ld[0] for ld in loads])
    lines.append(f"- machine load (os.getloadavg() 1-min, sampled before each cell and at the end): "
                 f"start {loads[0][0]:.2f}, end {loads[-1][0]:.2f}, min {lo.min():.2f}, "
                 f"max {lo.max():.2f}, median {np.median(lo):.2f}; at start (1/5/15 min) "
                 f"{loads[0][0]:.2f}/{loads[0][1]:.2f}/{loads[0][2]:.2f}")
    vers = [f"numpy {np.__version__}", f"scipy {_version('scipy')}",
            f"scikit-learn {sklearn.__version__}", f"numba {_version('numba')}",
            f"hadasparse {_version('hadasparse')}"]
    if any(s.key == "skglm" for s in solvers):
        vers.append(f"skglm {_version('skglm')}")
    lines.append("- versions: " + ", ".join(vers))
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            lines.append(
                f"- threadpool: {info.get('user_api')}/{info.get('internal_api')} "
                f"{info.get('version') or ''} num_threads={info.get('num_threads')} "
                f"arch={info.get('architecture', '')} ({Path(info.get('filepath', '')).name})")
    except Exception as exc:  # noqa: BLE001
        lines.append(f"- threadpoolctl not available ({exc})")
    env_thr = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
               if k in os.environ}
    lines.append(f"- thread env vars: {env_thr or 'none set'}")
    lines.append(
        f"- mode: {'QUICK (smoke test, small grid)' if args.quick else 'full'}; repeats={args.repeats} "
        f"(median; solver order rotated every repeat; fits faster than "
        f"{args.min_repeat_ms:g} ms are looped inside one repeat); untimed warm-up fit first")
    lines.append(f"- grid: l1_ratio in {L1_RATIOS}, alpha = alpha_max/{ALPHA_DIVS[0]} and "
                 f"alpha_max/{ALPHA_DIVS[1]}, alpha_max = ||X_c^T y_c||_inf / (n l1_ratio); "
                 f"fit_intercept=True")
    lines.append(
        f"- target: independent elastic-net duality gap <= {TARGET_REL_GAP:g} * ||y_c||^2/n "
        f"(sklearn's tol unit) for every solver; gap recomputed by "
        f"benchmarks/_problems.py:enet_duality_gap (self-check against sklearn's dual_gap_ on "
        f"early-stopped fits: max rel. difference {check_err:.1e})")
    lines.append("- tol policy: sklearn, HadamardElasticNet: tol=target (miss is flagged)"
                 + ("; --calibrate-all: tightened /10 until met" if args.calibrate_all else "")
                 + f"; skglm: tol {SKGLM_TOLS[0]:.0e}, {SKGLM_TOLS[1]:.0e}, ... "
                 f"{SKGLM_TOLS[-1]:.0e} until met; max_iter=100000 (sklearn, Hadamard), "
                 "max_iter=1000, max_epochs=100000 (skglm)")
    for n in notes:
        lines.append(f"- {n}")
    return lines


def _ratio(res, a, b):
    ra, rb = res.get(a), res.get(b)
    if ra is None or rb is None or not ra.times or not rb.times:
        return float("nan")
    return ra.median / rb.median


def _fmt_ratio(x):
    return "n/a" if not np.isfinite(x) else f"{x:.2f}"


def tables(cells, keys, labels):
    """cells: list of (prob, rho, div, alpha, results)."""
    has_skglm = "skglm" in keys
    out = ["", "## Time ratios (median of repeats; < 1: HadamardElasticNet is faster)", ""]
    hdr = ["problem", "shape", "l1_ratio", "alpha"] + [f"{labels[k]} ms" for k in keys]
    hdr += ["Hadamard / sklearn"] + (["Hadamard / skglm", "skglm / sklearn"] if has_skglm else [])
    hdr += ["gap met (" + " / ".join(labels[k] for k in keys) + ")",
            "nnz (" + " / ".join(labels[k] for k in keys) + ")"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "|".join(["---"] * 4 + ["---:"] * (len(hdr) - 6) + ["---", "---"]) + "|")
    for prob, rho, div, _, res in cells:
        row = [prob.name, "x".join(map(str, prob.shape)) + (" sparse" if prob.is_sparse else ""),
               f"{rho:g}", f"a_max/{div}"]
        for k in keys:
            r = res[k]
            row.append("error" if (r.error and not r.times) else
                       _ms(r.median) + ("" if r.met else " †"))
        row.append(_fmt_ratio(_ratio(res, "hadamard", "sklearn")))
        if has_skglm:
            row.append(_fmt_ratio(_ratio(res, "hadamard", "skglm")))
            row.append(_fmt_ratio(_ratio(res, "skglm", "sklearn")))
        row.append(" / ".join("yes" if res[k].met else ("no †" if res[k].gap else "n/a")
                              for k in keys))
        row.append(" / ".join(str(res[k].nnz) if res[k].nnz >= 0 else "n/a" for k in keys))
        out.append("| " + " | ".join(row) + " |")
    out += ["", "† independent gap above the target (did NOT reach the common gap); "
            "ms of that solver are then at a looser accuracy (see details).", ""]
    return out


def summary_lines(cells, keys, labels):
    out = ["## Summary", ""]
    pairs = [("hadamard", "sklearn")]
    if "skglm" in keys:
        pairs += [("hadamard", "skglm"), ("skglm", "sklearn")]
    for a, b in pairs:
        ratios = [(_ratio(res, a, b), cell_name(p, rho, d)) for p, rho, d, _, res in cells]
        ratios = [(v, c) for v, c in ratios if np.isfinite(v)]
        if not ratios:
            out.append(f"- {labels[a]} / {labels[b]}: no successful cell")
            continue
        vals = np.array([v for v, _ in ratios])
        worst = max(ratios)
        line = (f"- **{labels[a]} / {labels[b]}: median ratio {np.median(vals):.2f} over "
                f"{len(vals)} cells; max {worst[0]:.2f} ({worst[1]})**; geometric mean "
                f"{np.exp(np.mean(np.log(vals))):.2f}")
        if (a, b) == ("hadamard", "sklearn"):
            ok = np.median(vals) <= RATIO_TARGET_MEDIAN and vals.max() <= RATIO_TARGET_MAX
            over = [c for v, c in ratios if v > RATIO_TARGET_MAX]
            line += (f"; issue target (median <= {RATIO_TARGET_MEDIAN:g}, no cell > "
                     f"{RATIO_TARGET_MAX:g}): {'MET' if ok else 'NOT MET'}")
            if over:
                line += f" (cells > {RATIO_TARGET_MAX:g}: {', '.join(over)})"
        out.append(line)
    for k in keys:
        missed = [cell_name(p, rho, d) for p, rho, d, _, res in cells
                  if res[k].times and not res[k].met]
        conv = [cell_name(p, rho, d) for p, rho, d, _, res in cells if res[k].conv_warning]
        out.append(f"- {labels[k]}: gap target "
                   + (f"MISSED in {len(missed)} cell(s): {', '.join(missed)}" if missed
                      else "met in every cell")
                   + (f"; ConvergenceWarning in: {', '.join(conv)}" if conv else ""))
    for p, rho, d, _, res in cells:
        for k, r in res.items():
            if r.error:
                out.append(f"- error: {labels[k]} on {cell_name(p, rho, d)}: {r.error}")
    out.append("")
    return out


def detail_lines(cells, keys, labels):
    out = ["## Details (objective to 10 significant digits, independent relative gap, support)", "",
           "| problem | l1_ratio | alpha | solver | tol used | median ms | spread "
           "| repeats x loop | rel. gap | objective | nnz | nnz(>1e-8 max) | n_iter | notes |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for prob, rho, div, alpha, res in cells:
        for k in keys:
            r = res[k]
            notes = []
            if r.error:
                notes.append("error: " + r.error[:80])
            if r.gap is not None and not r.met:
                notes.append("† target missed")
            if r.conv_warning:
                notes.append("ConvergenceWarning")
            g = r.gap
            out.append("| " + " | ".join([
                prob.name, f"{rho:g}", f"a_max/{div} = {alpha:.4g}", labels[k],
                f"{r.tol:.0e}" if np.isfinite(r.tol) else "n/a",
                _ms(r.median),
                f"{100 * r.spread:.0f}%" if np.isfinite(r.spread) else "n/a",
                f"{len(r.times)}x{r.inner}",
                f"{g['rel_gap']:.2e}" if g else "n/a",
                f"{g['primal']:#.10g}" if g else "n/a",
                str(r.nnz) if r.nnz >= 0 else "n/a",
                str(r.nnz_rel) if r.nnz_rel >= 0 else "n/a",
                str(r.n_iter) if r.n_iter is not None else "n/a",
                "; ".join(notes)]) + " |")
    out += ["", "alpha_max = ||X_c^T y_c||_inf / (n l1_ratio); rel. gap = gap / (||y_c||^2 / n); "
            "spread = (max - min) / median of repeats. n_iter: sklearn epochs, Hadamard "
            "working-set iterations, skglm outer iterations.", ""]
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: bench_lasso's smaller problems, 2 repeats")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per solver and cell (default 5, 2 with --quick)")
    p.add_argument("--only", default="",
                   help="comma-separated, case-insensitive substrings of problem names "
                        "(diabetes, corr1000x5000, corr10000x200, sparse2000x20000, or "
                        "'corr'/'sparse') and/or solver keys (hadamard, skglm; sklearn is "
                        "always run as the reference)")
    p.add_argument("--calibrate-all", action="store_true",
                   help="also tighten sklearn's / HadamardElasticNet's tol until the "
                        "independent gap meets the target (default: time at tol=target "
                        "and flag a miss)")
    p.add_argument("--output", default=None,
                   help="Markdown output (default benchmarks/results_enet.md; "
                        "benchmarks/results_enet_quick.md with --quick)")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    args.min_repeat_ms = (0.02 if args.quick else MIN_REPEAT_SECONDS) * 1e3
    out_path = Path(args.output) if args.output else HERE / (
        "results_enet_quick.md" if args.quick else "results_enet.md")

    t_start = time.perf_counter()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    check_err = self_check()
    log(f"self-check: enet_duality_gap == sklearn dual_gap_ (max rel. diff {check_err:.1e})")

    solvers, notes = build_solvers(L1_RATIOS[0])
    keys = [s.key for s in solvers]
    tokens = [t.strip().lower() for t in args.only.split(",") if t.strip()]
    problems = build_problems(args.quick)
    solver_keys = {"sklearn", "hadamard", "skglm"}
    prob_tokens = [t for t in tokens if t not in solver_keys]
    for t in prob_tokens:
        if not any(t in pr.name.lower() for pr in problems):
            p.error(f"--only: {t!r} matches no problem ({', '.join(pr.name for pr in problems)}) "
                    f"nor solver ({', '.join(sorted(solver_keys))})")
    if prob_tokens:
        problems = [pr for pr in problems if any(t in pr.name.lower() for t in prob_tokens)]
    solver_tokens = [t for t in tokens if t in solver_keys]
    if solver_tokens:
        keys = [k for k in keys if k == "sklearn" or k in solver_tokens]
    labels = {s.key: s.label for s in solvers}
    for pr in problems:
        log(f"problem {pr.name}: {pr.description}")

    loads, cells, late_notes = [], [], []
    for prob in problems:
        fp = _fingerprint(prob.X)
        for rho in L1_RATIOS:
            solvers_rho = [s for s in build_solvers(rho)[0] if s.key in keys]
            for div in ALPHA_DIVS:
                alpha = enet_alpha_max(prob.X, prob.y, rho) / div
                loads.append(os.getloadavg())
                log(f"cell {cell_name(prob, rho, div)} (alpha={alpha:.4g}, "
                    f"load {loads[-1][0]:.2f}) ...")
                t_cell = time.perf_counter()
                res = run_cell(solvers_rho, prob, alpha, True, args.repeats,
                               args.min_repeat_ms / 1e3, args.calibrate_all, log,
                               gap_fn=_gap_fn(rho))
                log("    " + ", ".join(
                    f"{labels[k]}: {_ms(res[k].median)} ms gap {res[k].gap['rel_gap']:.1e} "
                    f"tol {res[k].tol:.0e}" + (" CONV-WARNING" if res[k].conv_warning else "")
                    if res[k].gap else f"{labels[k]}: failed" for k in keys)
                    + f"  [{time.perf_counter() - t_cell:.1f} s]")
                cells.append((prob, rho, div, alpha, res))
        if _fingerprint(prob.X) != fp:
            late_notes.append(f"WARNING: a solver modified X of {prob.name} in place; "
                              f"later cells of it are suspect.")
    loads.append(os.getloadavg())

    head = header_lines(args, [s for s in solvers if s.key in keys], notes, loads, check_err)
    body = [f"- {n}" for n in late_notes]
    if cells:
        body += tables(cells, keys, labels)
        body += summary_lines(cells, keys, labels)
        body += detail_lines(cells, keys, labels)
    total = time.perf_counter() - t_start
    body.append(f"Total benchmark wall time: {total:.0f} s.")

    text = "\n".join(head + body) + "\n"
    print(text, flush=True)
    out_path.write_text(text)
    log(f"written {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
