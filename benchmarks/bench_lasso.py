#!/usr/bin/env python
"""Benchmark: hadasparse.HadamardLasso vs sklearn / skglm / celer Lasso.

Every solver is run to the *same certified duality gap*: the gap is recomputed
independently (``_problems.duality_gap``) from each solver's returned
``coef_`` / ``intercept_`` with sklearn's dual point, and compared with the
target ``TARGET_REL_GAP * ||y_c||^2 / n`` (sklearn's meaning of ``tol``).

* sklearn and HadamardLasso get ``tol = target`` (documented to mean exactly
  that); a miss of the independent gap is flagged, never silently fixed.
* celer's ``tol`` has the same unit (it is multiplied by ||y||^2/n of the
  centred y that sklearn's ``Lasso.fit`` hands to ``celer_path``), but celer
  certifies with its own, better (extrapolated) dual point, so its own gap can
  be below tol while sklearn's residual-based gap is not.  celer's tol is
  therefore tightened by 10x steps until the independent gap meets the target.
* skglm's ``tol`` bounds an absolute optimality violation (KKT), not a gap:
  tol = 1e-4, 1e-5, ..., 1e-12 until the independent gap meets the target.

Timings are medians of interleaved repeats (the solver order rotates each
repeat, so machine noise hits all solvers alike) after an untimed warm-up
fit, so JIT compilation is excluded; compilation and start-up cost are
measured separately in fresh subprocesses.

Usage::

    python benchmarks/bench_lasso.py              # full grid (~10 min on 2 cores)
    python benchmarks/bench_lasso.py --quick      # smoke test (~3 min)
    python benchmarks/bench_lasso.py --repeats 7 --only corr,hadamard
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _problems import (  # noqa: E402
    alpha_max,
    duality_gap,
    load_diabetes_problem,
    make_correlated,
    make_sparse,
    support_size,
)

import sklearn  # noqa: E402
from sklearn.linear_model import Lasso as SklearnLasso  # noqa: E402

try:
    from hadasparse import HadamardLasso
except ImportError as _exc:  # pragma: no cover
    sys.exit(f"cannot import hadasparse ({_exc}); run `.venv/bin/pip install -e \".[benchmarks]\"`")

TARGET_REL_GAP = 1e-6          # gap <= 1e-6 * ||y_c||^2 / n, for every solver
ALPHA_DIVS = (10, 100)          # alpha = alpha_max / div
SKGLM_TOLS = [10.0 ** -k for k in range(4, 13)]   # 1e-4 ... 1e-12
N_TIGHTEN = 6                   # celer (and --calibrate-all): target/10 ... /1e6
MIN_REPEAT_SECONDS = 0.05       # fast fits are looped so one repeat lasts >= this
SOLVER_CELL_BUDGET = 60.0       # seconds: beyond it a solver gets fewer repeats (>= 3)
STARTUP_TARGET_SECONDS = 1.5    # fresh "import hadasparse + fit diabetes"


# ---------------------------------------------------------------------------
# Solvers
# ---------------------------------------------------------------------------

@dataclass
class Solver:
    key: str          # used by --only
    label: str        # used in tables
    make: object      # (alpha, fit_intercept, tol) -> estimator
    policy: str       # "gap": tol is the target, miss is flagged
    #                   "tighten": tol = target, /10 until independent gap meets it
    #                   "ladder": tol = 1e-4, 1e-5, ... until it meets it
    module: str = ""  # importable module/class for the start-up subprocesses
    cls: str = ""
    extra: dict = field(default_factory=dict)


def _sklearn(alpha, fit_intercept, tol):
    return SklearnLasso(alpha=alpha, fit_intercept=fit_intercept, tol=tol,
                        max_iter=100_000)


def _hadamard(alpha, fit_intercept, tol):
    return HadamardLasso(alpha=alpha, fit_intercept=fit_intercept, tol=tol,
                         max_iter=100_000)


def build_solvers():
    """Return (solvers, notes). skglm / celer are optional."""
    notes = []
    solvers = [
        Solver("sklearn", "sklearn", _sklearn, "gap",
               "sklearn.linear_model", "Lasso", {"max_iter": 100_000}),
        Solver("hadamard", "HadamardLasso", _hadamard, "gap",
               "hadasparse", "HadamardLasso", {"max_iter": 100_000}),
    ]
    try:
        import skglm

        def _skglm(alpha, fit_intercept, tol):
            return skglm.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=tol,
                               max_iter=1000, max_epochs=100_000)
        solvers.append(Solver("skglm", "skglm", _skglm, "ladder", "skglm", "Lasso",
                              {"max_iter": 1000, "max_epochs": 100_000}))
    except ImportError as exc:
        notes.append(f"skglm skipped: not importable ({exc}).")
    try:
        import celer

        def _celer(alpha, fit_intercept, tol):
            return celer.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=tol,
                               max_iter=1000, max_epochs=100_000)
        solvers.append(Solver("celer", "celer", _celer, "tighten", "celer", "Lasso",
                              {"max_iter": 1000, "max_epochs": 100_000}))
    except ImportError as exc:
        notes.append(f"celer skipped: not importable ({exc}).")
    return solvers, notes


def _version(mod):
    try:
        return __import__(mod).__version__
    except Exception:  # noqa: BLE001
        return "n/a"


# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------

def build_problems(quick):
    if quick:
        return [
            load_diabetes_problem(),
            make_correlated(200, 1000, name="corr200x1000"),
            make_correlated(2000, 50, name="corr2000x50"),
            make_sparse(500, 5000, name="sparse500x5000"),
        ]
    return [
        load_diabetes_problem(),
        make_correlated(1000, 5000),
        make_correlated(10000, 200),
        make_sparse(2000, 20000),
    ]


def _fingerprint(X):
    data = X.data if sp.issparse(X) else X
    return float(np.sum(data)), float(np.sum(data * data))


# ---------------------------------------------------------------------------
# One cell: calibrate, warm up, time
# ---------------------------------------------------------------------------

@dataclass
class Result:
    solver: str
    tol: float = float("nan")
    nominal_met: bool | None = None   # did tol = target already meet it (tighten policy)
    times: list = field(default_factory=list)
    inner: int = 1
    gap: dict | None = None
    nnz: int = -1
    nnz_rel: int = -1
    n_iter: object = None
    conv_warning: bool = False
    error: str = ""

    @property
    def median(self):
        return float(np.median(self.times)) if self.times else float("nan")

    @property
    def spread(self):
        if len(self.times) < 2:
            return float("nan")
        return (max(self.times) - min(self.times)) / self.median

    @property
    def met(self):
        return self.gap is not None and self.gap["rel_gap"] <= TARGET_REL_GAP


def _fit(solver, prob, alpha, fit_intercept, tol, gap_fn=duality_gap):
    est = solver.make(alpha, fit_intercept, tol)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        est.fit(prob.X, prob.y)
    conv = any("converge" in str(x.message).lower()
               or "Convergence" in x.category.__name__ for x in w)
    g = gap_fn(prob.X, prob.y, est.coef_, est.intercept_, alpha, fit_intercept)
    return est, g, conv


def calibrate(solver, prob, alpha, fit_intercept, calibrate_all, gap_fn=duality_gap):
    """Pick the tol at which the solver is timed (certified by ``gap_fn``).

    Returns (tol, nominal_met, n_fits, seconds of the last fit, its conv. warning).
    """
    policy = solver.policy
    if calibrate_all and policy == "gap":
        policy = "tighten"
    if policy == "ladder":
        tols = SKGLM_TOLS
    elif policy == "tighten":
        tols = [TARGET_REL_GAP / 10 ** k for k in range(N_TIGHTEN + 1)]
    else:
        tols = [TARGET_REL_GAP]
    nominal_met = None
    for i, tol in enumerate(tols):
        t0 = time.perf_counter()
        _, g, conv = _fit(solver, prob, alpha, fit_intercept, tol, gap_fn)
        dt = time.perf_counter() - t0
        if i == 0 and policy == "tighten":
            nominal_met = g["rel_gap"] <= TARGET_REL_GAP
        if g["rel_gap"] <= TARGET_REL_GAP:
            break
    # never met: timed at the tightest tol, and flagged
    return tol, nominal_met, i + 1, dt, conv


def _timed(solver, prob, alpha, fit_intercept, tol, inner):
    gc.collect()
    gc.disable()
    try:
        est = None
        t0 = time.perf_counter()
        for _ in range(inner):
            est = solver.make(alpha, fit_intercept, tol)
            est.fit(prob.X, prob.y)
        dt = (time.perf_counter() - t0) / inner
    finally:
        gc.enable()
    return dt, est


def run_cell(solvers, prob, alpha, fit_intercept, repeats, min_repeat_s,
             calibrate_all, log, gap_fn=duality_gap):
    """Calibrate, warm up and time every solver on one cell.

    ``gap_fn(X, y, coef, intercept, alpha, fit_intercept)`` is the independent
    certificate (the lasso's ``duality_gap`` here; bench_enet.py binds l1_ratio
    into ``_problems.enet_duality_gap``).
    """
    results = {s.key: Result(s.key) for s in solvers}
    ok = []
    for s in solvers:
        r = results[s.key]
        try:
            r.tol, r.nominal_met, n_fits, t_warm, r.conv_warning = calibrate(
                s, prob, alpha, fit_intercept, calibrate_all, gap_fn)
            if n_fits == 1:
                # untimed warm-up fit at the final tol (the calibration fit may
                # have compiled); after >= 2 calibration fits the last one
                # already was a warm fit at the final tol.
                t0 = time.perf_counter()
                _, _, r.conv_warning = _fit(s, prob, alpha, fit_intercept, r.tol,
                                            gap_fn)
                t_warm = time.perf_counter() - t0
            t_warm = max(t_warm, 1e-6)   # sizes the inner loop / repeat count
            r.inner = int(min(1000, max(1, math.ceil(min_repeat_s / t_warm))))
            n_rep = repeats
            if t_warm * repeats > SOLVER_CELL_BUDGET:
                n_rep = max(3, min(repeats, int(SOLVER_CELL_BUDGET / t_warm)))
            r.times = [None] * n_rep
            ok.append(s)
        except Exception as exc:  # noqa: BLE001
            r.error = f"{type(exc).__name__}: {exc}"
            log(f"    ! {s.label} failed: {r.error}")
            log(textwrap.indent(traceback.format_exc(limit=3), "      "))

    last_est, failed = {}, set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rep in range(repeats):
            k = rep % max(1, len(ok))
            for s in ok[k:] + ok[:k]:            # rotate the order every repeat
                r = results[s.key]
                if rep >= len(r.times) or s.key in failed:
                    continue
                try:
                    r.times[rep], last_est[s.key] = _timed(
                        s, prob, alpha, fit_intercept, r.tol, r.inner)
                except Exception as exc:  # noqa: BLE001
                    r.error = f"{type(exc).__name__}: {exc}"
                    failed.add(s.key)
    # certify what was actually timed
    for s in ok:
        r = results[s.key]
        r.times = [t for t in r.times if t is not None]
        est = last_est.get(s.key)
        if est is None:
            continue
        r.gap = gap_fn(prob.X, prob.y, est.coef_, est.intercept_, alpha,
                       fit_intercept)
        r.nnz = support_size(est.coef_)
        r.nnz_rel = support_size(est.coef_, 1e-8)
        r.n_iter = getattr(est, "n_iter_", None)
    return results


# ---------------------------------------------------------------------------
# Start-up / compilation, in fresh subprocesses
# ---------------------------------------------------------------------------

_STARTUP_DETAIL = r"""
import json, sys, time
t0 = time.perf_counter()
from {module} import {cls} as Est
t_import = time.perf_counter() - t0
sys.path.insert(0, {bench_dir!r})
import numpy as np
from _problems import load_diabetes_problem, make_sparse, alpha_max
out = {{"import": t_import}}
for name, prob in [("dense", load_diabetes_problem()),
                   ("sparse", make_sparse(200, 1000, name="s"))]:
    a = alpha_max(prob.X, prob.y, True) / 10
    for which in ("first", "second"):
        t = time.perf_counter()
        Est(alpha=a, tol={tol!r}, **{extra!r}).fit(prob.X, prob.y)
        out[name + "_" + which] = time.perf_counter() - t
print("JSON" + json.dumps(out))
"""

# diabetes is read from an .npz written by the parent: sklearn.datasets would
# import sklearn itself (~2 s here), which is not what is being measured.
_STARTUP_WALL = r"""
import numpy as np
from {module} import {cls} as Est
d = np.load({data!r})
Est(alpha={alpha!r}, tol={tol!r}, **{extra!r}).fit(d["X"], d["y"])
"""

_STARTUP_FLOOR = r"""
import numpy as np
d = np.load({data!r})
X, y = d["X"], d["y"]
"""


def _run_py(code, env=None, timeout=900):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=env, cwd=str(REPO), timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr
                           else f"exit {proc.returncode}")
    return wall, proc.stdout


def _detail(solver, env):
    code = _STARTUP_DETAIL.format(module=solver.module, cls=solver.cls,
                                  bench_dir=str(HERE), tol=TARGET_REL_GAP,
                                  extra=solver.extra)
    wall, out = _run_py(code, env=env)
    line = [ln for ln in out.splitlines() if ln.startswith("JSON")][-1]
    d = json.loads(line[4:])
    d["wall"] = wall
    return d


def run_startup(solvers, n_wall, log):
    """Compilation (cold numba cache) vs cache-loaded vs warm fits, and wall time."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    a = alpha_max(X, y, True) / 10
    by_key = {s.key: s for s in solvers}
    rows, walls = [], []

    if "hadamard" in by_key:
        h = by_key["hadamard"]
        with tempfile.TemporaryDirectory(prefix="hadasparse-numba-cold-") as tmp:
            env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
            try:
                log("  HadamardLasso, empty numba cache (compilation) ...")
                rows.append((h.label, "cold: empty NUMBA_CACHE_DIR", _detail(h, env)))
            except Exception as exc:  # noqa: BLE001
                rows.append((h.label, "cold: empty NUMBA_CACHE_DIR", {"error": str(exc)}))
        try:
            log("  HadamardLasso, populated numba cache ...")
            _detail(h, None)  # make sure the default on-disk cache is populated
            rows.append((h.label, "numba cache populated", _detail(h, None)))
        except Exception as exc:  # noqa: BLE001
            rows.append((h.label, "numba cache populated", {"error": str(exc)}))
    if "skglm" in by_key:
        log("  skglm (no on-disk numba cache) ...")
        try:
            rows.append(("skglm", "fresh process (skglm caches nothing)",
                         _detail(by_key["skglm"], None)))
        except Exception as exc:  # noqa: BLE001
            rows.append(("skglm", "fresh process", {"error": str(exc)}))

    with tempfile.TemporaryDirectory(prefix="bench-lasso-") as tmp:
        data = os.path.join(tmp, "diabetes.npz")
        np.savez(data, X=X, y=y)        # C-ordered, exactly as load_diabetes returns
        jobs = [("python + numpy + np.load (floor)", "numpy",
                 _STARTUP_FLOOR.format(data=data))]
        for key in ("hadamard", "skglm", "sklearn"):
            if key in by_key:
                s = by_key[key]
                jobs.append((s.label, s.module, _STARTUP_WALL.format(
                    module=s.module, cls=s.cls, data=data, alpha=a,
                    tol=TARGET_REL_GAP, extra=s.extra)))
        times = {label: [] for label, _, _ in jobs}
        errors = {}
        log("  wall time of fresh `python -c 'import <module>; fit diabetes'` ...")
        for label, _, code in jobs:      # untimed: populates numba caches for this call
            try:
                _run_py(code)
            except Exception as exc:  # noqa: BLE001
                errors[label] = str(exc)
        for _ in range(n_wall):          # interleaved across solvers
            for label, _, code in jobs:
                if label not in errors:
                    times[label].append(_run_py(code)[0])
        for label, module, _ in jobs:
            walls.append((label, module, errors.get(label, times[label])))
    return rows, walls


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

def _ms(t):
    return "n/a" if t is None or not np.isfinite(t) else (
        f"{t * 1e3:.3g}" if t < 1 else f"{t * 1e3:.0f}")


def header_lines(args, solvers, notes):
    lines = ["# Lasso benchmark: HadamardLasso vs sklearn / skglm / celer", ""]
    lines.append(f"- date: {_dt.datetime.now().isoformat(timespec='seconds')}")
    lines.append(f"- machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
                 f"os.cpu_count()={os.cpu_count()}, python {platform.python_version()}")
    vers = [f"numpy {np.__version__}", f"scipy {_version('scipy')}",
            f"scikit-learn {sklearn.__version__}", f"numba {_version('numba')}",
            f"hadasparse {_version('hadasparse')}"]
    for mod in ("skglm", "celer"):
        if any(s.key == mod for s in solvers):
            vers.append(f"{mod} {_version(mod)}")
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
    lines.append(
        f"- target: independent duality gap <= {TARGET_REL_GAP:g} * ||y_c||^2/n "
        f"(sklearn's tol unit) for every solver; gap recomputed by benchmarks/_problems.py")
    lines.append("- tol policy: sklearn, HadamardLasso: tol=target (miss is flagged)"
                 + ("; --calibrate-all: tightened like celer" if args.calibrate_all else "")
                 + "; celer: tol=target, tightened /10 until met; skglm: tol 1e-4, 1e-5, ... "
                 "1e-12 until met")
    for n in notes:
        lines.append(f"- {n}")
    return lines


def cell_name(prob, div, fi):
    return f"{prob.name} a/{div} {'icpt' if fi else 'no-icpt'}"


def tables(cells, solvers):
    """cells: list of (prob, div, fi, alpha, results)."""
    others = [s for s in solvers if s.key != "sklearn"]
    out = ["", "## Time ratios (solver / sklearn, median of repeats; < 1 is faster than sklearn)", ""]
    hdr = ["problem", "shape", "alpha", "intercept", "sklearn ms"] + [f"{s.label} / sklearn" for s in others]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "|".join(["---"] * 4 + ["---:"] * (1 + len(others))) + "|")
    for prob, div, fi, _, res in cells:
        sk = res["sklearn"]
        row = [prob.name, "x".join(map(str, prob.shape)) + (" sparse" if prob.is_sparse else ""),
               f"a_max/{div}", "yes" if fi else "no", _ms(sk.median) + ("" if sk.met else " †")]
        for s in others:
            r = res[s.key]
            if r.error and not r.times:
                row.append("error")
                continue
            ratio = r.median / sk.median
            mark = "" if r.met else " †"
            if r.nominal_met is False and s.policy == "tighten" and r.met:
                mark += " ‡"
            row.append(f"{ratio:.2f}{mark}")
        out.append("| " + " | ".join(row) + " |")
    out += ["", "† independent gap above the target (did NOT reach the common gap); "
            "‡ tol=target was not enough, timed at a tighter tol (see details).", ""]
    return out


def summary_lines(cells, solvers):
    out = ["## Summary", ""]
    for s in solvers:
        if s.key == "sklearn":
            continue
        ratios = []
        for prob, div, fi, _, res in cells:
            r, sk = res[s.key], res["sklearn"]
            if r.times and sk.times:
                ratios.append((r.median / sk.median, cell_name(prob, div, fi)))
        if not ratios:
            out.append(f"- {s.label}: no successful cell")
            continue
        vals = np.array([v for v, _ in ratios])
        worst = max(ratios)
        missed = [cell_name(p, d, f) for p, d, f, _, res in cells
                  if res[s.key].times and not res[s.key].met]
        line = (f"- **{s.label} / sklearn: median ratio {np.median(vals):.2f} over {len(vals)} cells; "
                f"max {worst[0]:.2f} ({worst[1]})**; geometric mean {np.exp(np.mean(np.log(vals))):.2f}")
        if missed:
            line += f"; gap target MISSED in {len(missed)} cell(s): {', '.join(missed)}"
        out.append(line)
    sk_missed = [cell_name(p, d, f) for p, d, f, _, res in cells if not res["sklearn"].met]
    if sk_missed:
        out.append(f"- sklearn itself missed the target in: {', '.join(sk_missed)}")
    errs = [(cell_name(p, d, f), k, r.error) for p, d, f, _, res in cells
            for k, r in res.items() if r.error]
    for c, k, e in errs:
        out.append(f"- error: {k} on {c}: {e}")
    out.append("")
    return out


def detail_lines(cells, solvers):
    label = {s.key: s.label for s in solvers}
    out = ["## Details (objective to 10 significant digits, independent relative gap, support)", "",
           "| problem | alpha | icpt | solver | tol used | median ms | spread | repeats x loop "
           "| rel. gap | objective | nnz | nnz(>1e-8 max) | n_iter | notes |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for prob, div, fi, alpha, res in cells:
        for s in solvers:
            r = res[s.key]
            notes = []
            if r.error:
                notes.append("error: " + r.error[:80])
            if r.gap is not None and not r.met:
                notes.append("† target missed")
            if r.nominal_met is False:
                notes.append("tol=target missed, tightened" if r.met else "tol=target missed")
            if r.conv_warning:
                notes.append("ConvergenceWarning")
            g = r.gap
            out.append("| " + " | ".join([
                prob.name, f"a_max/{div}", "yes" if fi else "no", label[s.key],
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
    out += ["", "alpha_max = ||X_c^T y_c||_inf / n (centred only with intercept); "
            "rel. gap = gap / (||y_c||^2 / n); spread = (max - min) / median of repeats.", ""]
    return out


def startup_lines(rows, walls):
    out = ["", "## Compilation and start-up (fresh subprocesses)", "",
           "First vs second fit in one fresh process (diabetes dense, then a 200x1000 sparse "
           "problem), alpha = a_max/10 with intercept. `import` is the module import only.", "",
           "| solver | condition | import s | dense 1st fit s | dense warm fit s "
           "| sparse 1st fit s | sparse warm fit s | process wall s |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for label, cond, d in rows:
        if "error" in d:
            out.append(f"| {label} | {cond} | error: {d['error'][:100]} | | | | | |")
            continue
        out.append("| " + " | ".join([label, cond] + [
            f"{d[k]:.3f}" for k in ("import", "dense_first", "dense_second",
                                    "sparse_first", "sparse_second", "wall")]) + " |")
    out += ["", "Wall time of a fresh `python -c \"import numpy; from <module> import <Lasso>; "
            "fit diabetes\"` (interpreter start-up included; diabetes read with np.load so "
            "sklearn.datasets is not imported; numba cache already populated; median, "
            "runs interleaved across rows):", "",
            "| solver | module | median wall s | runs | target |", "|---|---|---:|---|---|"]
    for label, module, ts in walls:
        if isinstance(ts, str):
            out.append(f"| {label} | {module} | error: {ts[:100]} | | |")
            continue
        med = float(np.median(ts))
        tgt = ""
        if module == "hadasparse":
            tgt = (f"<= {STARTUP_TARGET_SECONDS} s: "
                   f"{'PASS' if med <= STARTUP_TARGET_SECONDS else 'FAIL'}")
        out.append(f"| {label} | {module} | {med:.2f} | "
                   f"{', '.join(f'{t:.2f}' for t in ts)} | {tgt} |")
    out.append("")
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: smaller problems, 2 repeats, 1 start-up run")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per solver and cell (default 5, 2 with --quick)")
    p.add_argument("--only", default="",
                   help="comma-separated, case-insensitive substrings of problem names "
                        "(diabetes, corr1000x5000, corr10000x200, sparse2000x20000, "
                        "or just 'corr'/'sparse') and/or solver keys (hadamard, skglm, "
                        "celer; sklearn is always run as the reference), or 'startup' "
                        "for the start-up section alone")
    p.add_argument("--no-startup", action="store_true",
                   help="skip the compilation / start-up subprocess measurements")
    p.add_argument("--calibrate-all", action="store_true",
                   help="also tighten sklearn's / HadamardLasso's tol until the "
                        "independent gap meets the target (default: time at tol=target "
                        "and flag a miss)")
    p.add_argument("--output", default=None,
                   help="Markdown output (default benchmarks/results_lasso.md; "
                        "benchmarks/results_lasso_quick.md with --quick)")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    args.min_repeat_ms = (0.02 if args.quick else MIN_REPEAT_SECONDS) * 1e3
    out_path = Path(args.output) if args.output else HERE / (
        "results_lasso_quick.md" if args.quick else "results_lasso.md")

    t_start = time.perf_counter()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    solvers, notes = build_solvers()
    tokens = [t.strip().lower() for t in args.only.split(",") if t.strip()]
    problems = build_problems(args.quick)
    solver_keys = {"sklearn", "hadamard", "hadamardlasso", "skglm", "celer"}
    prob_tokens = [t for t in tokens if t not in solver_keys and t != "startup"]
    solver_tokens = [t for t in tokens if t in solver_keys]
    for t in prob_tokens:
        if not any(t in pr.name.lower() for pr in problems):
            p.error(f"--only: {t!r} matches no problem ({', '.join(pr.name for pr in problems)}) "
                    f"nor solver ({', '.join(sorted(solver_keys))})")
    only_startup = "startup" in tokens and not prob_tokens
    if prob_tokens:
        problems = [pr for pr in problems if any(t in pr.name.lower() for t in prob_tokens)]
    if only_startup:
        problems = []
    if solver_tokens:
        keep = {"sklearn"} | {("hadamard" if t == "hadamardlasso" else t) for t in solver_tokens}
        solvers = [s for s in solvers if s.key in keep]

    head = header_lines(args, solvers, notes)
    print("\n".join(head), flush=True)
    for pr in problems:
        log(f"problem {pr.name}: {pr.description}")

    cells, late_notes = [], []
    for prob in problems:
        fp = _fingerprint(prob.X)
        for div in ALPHA_DIVS:
            for fi in (True, False):
                alpha = alpha_max(prob.X, prob.y, fi) / div
                log(f"cell {cell_name(prob, div, fi)} (alpha={alpha:.4g}) ...")
                t_cell = time.perf_counter()
                res = run_cell(solvers, prob, alpha, fi, args.repeats,
                               args.min_repeat_ms / 1e3, args.calibrate_all, log)
                log("    " + ", ".join(
                    f"{s.label}: {_ms(res[s.key].median)} ms gap {res[s.key].gap['rel_gap']:.1e}"
                    if res[s.key].gap else f"{s.label}: failed" for s in solvers)
                    + f"  [{time.perf_counter() - t_cell:.1f} s]")
                cells.append((prob, div, fi, alpha, res))
        if _fingerprint(prob.X) != fp:
            late_notes.append(f"WARNING: a solver modified X of {prob.name} in place; "
                         f"later cells of it are suspect.")

    body = [f"- {n}" for n in late_notes]
    if cells:
        body += tables(cells, solvers)
        body += summary_lines(cells, solvers)
        body += detail_lines(cells, solvers)
    if not args.no_startup and (not prob_tokens or "startup" in tokens):
        log("start-up / compilation measurements ...")
        rows, walls = run_startup(solvers, 1 if args.quick else 3, log)
        body += startup_lines(rows, walls)
    total = time.perf_counter() - t_start
    body.append(f"Total benchmark wall time: {total:.0f} s.")

    text = "\n".join(head + body) + "\n"
    print("\n".join(body), flush=True)
    out_path.write_text(text)
    log(f"written {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
