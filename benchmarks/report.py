"""The environment record and the RESULTS.md writer."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time

from . import problemdata as pdata

DISTS = ["glmkit", "glum", "tabmat", "scikit-learn", "statsmodels", "numpy", "scipy", "pandas",
         "psutil", "threadpoolctl", "matplotlib"]
COLUMNS = ["glmkit", "glum", "sklearn", "statsmodels", "R"]


# ------------------------------------------------------------------ environment

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _git(*args) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(pdata.REPO_DIR), *args], capture_output=True,
                           text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _blas() -> dict:
    out: dict = {}
    import numpy as np
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS so threadpoolctl sees it)

    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        out["numpy_build"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dicts mode
        out["numpy_build"] = None
    try:
        from threadpoolctl import threadpool_info

        out["threadpools"] = [
            {k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture",
                                   "threading_layer")}
            | {"file": os.path.basename(d.get("filepath", ""))}
            for d in threadpool_info()
        ]
    except ImportError:
        out["threadpools"] = None
    return out


def _r_info() -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    try:
        r = subprocess.run([rscript, "-e", "cat(R.version.string, '\\n'); "
                            "s <- sessionInfo(); cat(s$BLAS, '\\n'); cat(s$LAPACK, '\\n')"],
                           capture_output=True, text=True, timeout=60)
        lines = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
        return {"version": lines[0] if lines else "?",
                "blas": lines[1] if len(lines) > 1 else "?",
                "lapack": lines[2] if len(lines) > 2 else "?"}
    except (OSError, subprocess.TimeoutExpired):
        return {"version": "?"}


def environment() -> dict:
    from importlib import metadata

    versions = {}
    for d in DISTS:
        try:
            versions[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            versions[d] = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    dirty = _git("status", "--porcelain", "--", "src")
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "mem_gib": _mem_total_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git": _git("rev-parse", "--short", "HEAD"),
        "src_dirty": bool(dirty),
        "blas": _blas(),
        "R": _r_info(),
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                       "MKL_NUM_THREADS") if os.environ.get(k)},
    }


# ------------------------------------------------------------------ formatting

def fmt_time(s) -> str:
    if s is None:
        return ""
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1.0:
        return f"{s * 1e3:.3g} ms"
    if s < 100:
        return f"{s:.3g} s"
    return f"{s:.0f} s"


def fmt_mem(b) -> str:
    if b is None:
        return ""
    mib = b / 2**20
    return f"{mib:,.0f} MiB" if mib >= 10 else f"{mib:.1f} MiB"


def fmt_diff(x) -> str:
    return "" if x is None else f"{x:.1e}"


def fmt_ratio(x) -> str:
    if x is None:
        return "n/a"
    if x < 0.1:
        return f"{x:.2g}"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _glmkit_row(prob: dict, variant: str = "glmkit") -> dict | None:
    for r in prob["rows"]:
        if r["variant"] == variant and r["status"] == "ok":
            return r
    return None


def _lower_bounds(prob: dict) -> list[tuple[str, dict, dict]]:
    """(label, pass dict, glmkit row) for each lower bound that applies."""
    lb = prob.get("lower_bound") or {}
    out = []
    g = _glmkit_row(prob, "glmkit")
    gc = _glmkit_row(prob, "glmkit-cat")
    if prob["name"] == "e":
        if g and "structured" in lb:
            out.append(("categorical pass", lb["structured"], g))
        elif g and "dense" in lb:   # --quick only
            out.append(("dense one-hot pass", lb["dense"], g))
    else:
        if g and "dense" in lb:
            out.append(("dense pass" if prob["name"] == "e_small" else "pass", lb["dense"], g))
        if gc and "structured" in lb:
            out.append(("categorical pass", lb["structured"], gc))
    return out


def _machine_floor(prob: dict, machine: dict | None):
    """(floor dict, glmkit row) for the machine's floor per iteration, or None."""
    from .machine import floor

    g = _glmkit_row(prob, "glmkit")
    shape = (prob.get("lower_bound") or {}).get("shape")
    if not (g and g.get("n_iter") and machine and shape) or prob["name"] == "f":
        return None
    if prob["name"] == "e_small":   # its "glmkit" row fits the dense one-hot design
        shape = {"n": shape["n"], "p_dense": prob["n_coef"], "levels": 0}
    fl = floor(shape, machine)
    return (fl, g) if fl else None


CONTENDED = 0.3  # cores kept busy by other processes, on average, during the fits


def _contended(r: dict) -> bool:
    return (r.get("other_load") or 0.0) >= CONTENDED


def _iter_cell(r: dict) -> str:
    it = r.get("n_iter")
    if it is None:
        return "n/r"
    if r.get("converged") is False:
        return f"{it} (not converged)"
    return str(it)


def problem_table(prob: dict, machine: dict | None = None) -> list[str]:
    name = prob["name"]
    g = _glmkit_row(prob, "glmkit")
    gtime = g["median"] if g else None
    unit_f = name == "f"
    lines = [f"## Problem {name}: {prob['description']}", ""]
    ref = prob.get("reference") or {}
    if "params" in ref:
        extra = ""
        if "structured_newton_rel_diff" in ref:
            extra = (f"; the structured Newton used as e's reference agrees with it to "
                     f"{ref['structured_newton_rel_diff']:.1e}")
        lines.append(f"Reference: {ref['source']} ({ref.get('n_iter')} iterations, "
                     f"{ref.get('seconds', 0):.1f} s, cached){extra}.")
    else:
        lines.append(f"Reference: unavailable ({ref.get('error', 'not computed')}).")
    lines.append("")
    time_head = "median fit time (of many refits)" if unit_f else "median time"
    lines += [f"| library | {time_head} | × glmkit | peak memory above baseline | iterations "
              "| max rel. coef diff | runs |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in prob["rows"]:
        if r["status"] != "ok":
            lines.append(f"| {r['label']} | {r['status']}: {r.get('reason', '')} | | | | | |")
            continue
        ratio = r["median"] / gtime if gtime else None
        note = f" ({r['note']})" if r.get("note") else ""
        mark = " ‡" if _contended(r) else ""
        lines.append(f"| {r['label']}{note} | {fmt_time(r['median'])}{mark} | {fmt_ratio(ratio)} | "
                     f"{fmt_mem(r.get('peak_bytes'))} | {_iter_cell(r)} | "
                     f"{fmt_diff(r.get('rel_diff'))} | {r['runs']} |")
    if g and g.get("stats_seconds") is not None and not unit_f:
        lines.append(f"| glmkit: fit, then the first standard errors (bse: the covariance's "
                     f"float64 X'WX, formed on first use) | {fmt_time(gtime + g['stats_seconds'])} | "
                     f"{fmt_ratio((gtime + g['stats_seconds']) / gtime)} | | | | |")
    lbs = _lower_bounds(prob)
    for label, ps, row in lbs:
        it = row["n_iter"]
        total = it * ps["pass"]
        lines.append(f"| lower bound: {it} iterations × one {label} "
                     f"({fmt_time(ps['gram'])} X'WX + {fmt_time(ps['matvec'])} X@b) | "
                     f"{fmt_time(total)} | {fmt_ratio(total / gtime) if gtime else 'n/a'} | | | | |")
    mf = _machine_floor(prob, machine)
    if mf:
        fl, row = mf
        it = row["n_iter"]
        lines.append(f"| machine floor: {it} iterations × max({fl['flops']:.3g} flops at peak "
                     f"GEMM, {fl['bytes'] / 1e6:,.0f} MB at peak bandwidth), float32 "
                     f"(float64: {fmt_time(it * fl['f64'])}) | {fmt_time(it * fl['f32'])} | "
                     f"{fmt_ratio(it * fl['f32'] / gtime) if gtime else 'n/a'} | | | | |")
    lines.append("")
    busy = [r for r in prob["rows"] if r["status"] == "ok" and _contended(r)]
    if busy:
        lines.append("‡ other processes kept on average " + ", ".join(
            f"{r['other_load']:.1f} ({r['label']})" for r in busy)
            + f" of the {os.cpu_count()} cores busy during these fits: their times are inflated.")
        lines.append("")
    for label, ps, row in lbs:
        total = row["n_iter"] * ps["pass"]
        per_it = row["median"] / row["n_iter"]
        lines.append(f"{row['label']}: {fmt_time(row['median'])} = {row['n_iter']} iterations × "
                     f"{fmt_time(per_it)} per iteration; one {label} takes {fmt_time(ps['pass'])}, "
                     f"so glmkit runs at **{row['median'] / total:.1f}× its lower bound** "
                     f"({per_it / ps['pass']:.1f} passes' worth of work per iteration).")
    if mf:
        fl, row = mf
        per_it = row["median"] / row["n_iter"]
        lines.append(f"Against the machine: {fmt_time(per_it)} per iteration is "
                     f"**{per_it / fl['f32']:.1f}× the float32 floor** ({fmt_time(fl['f32'])}) "
                     f"and {per_it / fl['f64']:.1f}× the float64 floor ({fmt_time(fl['f64'])}).")
    if lbs or mf:
        lines.append("")
    return lines


def summary_table(results: dict) -> list[str]:
    head = "| problem | coefficients | " + " | ".join(
        {"sklearn": "scikit-learn", "R": "R glm.fit"}.get(c, c) for c in COLUMNS) + \
        " | glmkit lower bound | glmkit per iteration × machine floor (float32) |"
    lines = [head, "|---|---:|" + "---:|" * (len(COLUMNS) + 2)]
    machine = results.get("machine")
    for prob in results["problems"]:
        cells = []
        for c in COLUMNS:
            rows = [r for r in prob["rows"]
                    if r["variant"] == c or (c == "glum" and r["variant"] == "glum-cat"
                                              and prob["name"] == "e")]
            if not rows:
                cells.append("")
                continue
            r = rows[0]
            if r["status"] == "ok":
                cells.append(fmt_time(r["median"]) + (" ‡" if _contended(r) else ""))
            elif r["status"] == "skipped":
                reason = r.get("reason", "")
                short = ("pending" if reason.startswith("pending") else
                         "no offset" if "offset" in reason else
                         "not installed" if reason.startswith("not installed") else "skipped")
                cells.append(short)
            else:
                cells.append(r["status"])
        lbs = _lower_bounds(prob)
        lb = fmt_time(lbs[0][2]["n_iter"] * lbs[0][1]["pass"]) if lbs else ""
        mf = _machine_floor(prob, machine)
        xf = f"{mf[1]['median'] / mf[1]['n_iter'] / mf[0]['f32']:.1f}" if mf else ""
        lines.append(f"| {prob['name']} | {prob['n_coef']:,} | " + " | ".join(cells)
                     + f" | {lb} | {xf} |")
    return lines


def where_time_goes(results: dict) -> list[str]:
    """Automatic per-problem notes: glmkit per-iteration cost, iterations vs peers."""
    lines = []
    for prob in results["problems"]:
        g = _glmkit_row(prob)
        if not g or prob["name"] == "f":
            continue
        parts = []
        lbs = _lower_bounds(prob)
        if lbs:
            label, ps, row = lbs[0]
            per_it = row["median"] / row["n_iter"]
            parts.append(f"{per_it / ps['pass']:.1f}× one pass per iteration "
                         f"({fmt_time(per_it)} vs {fmt_time(ps['pass'])})")
        peers = []
        for r in prob["rows"]:
            if r["status"] == "ok" and r is not g and r.get("n_iter") is not None:
                peers.append(f"{r['label']} {r['n_iter']}")
        parts.append(f"iterations: glmkit {g['n_iter']}" + (", " + ", ".join(peers) if peers else ""))
        fastest = min((r for r in prob["rows"] if r["status"] == "ok"), key=lambda r: r["median"])
        if fastest is not g:
            parts.append(f"fastest: {fastest['label']} at {fastest['median'] / g['median']:.2f}× "
                         "glmkit's time")
        lines.append(f"- **{prob['name']}**: " + "; ".join(parts) + ".")
    return lines


def f_section(results: dict) -> list[str]:
    prob = next((p for p in results["problems"] if p["name"] == "f"), None)
    if not prob:
        return []
    lines = ["## Overhead: problem f refits and one-row prediction latency", "",
             f"Problem f ({prob['description']}) is fitted many times (up to "
             f"{results['settings'].get('f_refits')} fits or 20 s per library, in 3 rounds of "
             "fresh processes where the Python libraries take turns, so that the machine's "
             "drifting speed weighs on all of them alike); the median is in ms. Prediction: "
             "median of single calls predicting the mean of one row "
             "(`res.predict(x_row[None, :])` for glmkit and statsmodels, `.predict` for glum and "
             "`PoissonRegressor`) with the model fitted on f.", "",
             "| library | median refit time (ms) | one-row predict (µs) | refits timed |",
             "|---|---:|---:|---:|"]
    for r in prob["rows"]:
        if r["status"] != "ok":
            lines.append(f"| {r['label']} | {r['status']}: {r.get('reason', '')} | | |")
            continue
        pu = r.get("predict_us")
        lines.append(f"| {r['label']} | {r['median'] * 1e3:.2f} | "
                     f"{'' if pu is None else f'{pu:.1f}'} | {r['runs']} |")
    lines.append("")
    return lines


def scaling_section(results: dict) -> list[str]:
    sc = results.get("scaling")
    if not sc:
        return []
    lines = ["## Scaling (Poisson, log link; problem a's generator)", ""]
    if sc.get("png"):
        lines += [f"![scaling]({os.path.basename(sc['png'])})", ""]
    lines += [f"Data: `{os.path.basename(sc['csv'])}`. Medians; the glmkit lower bound is its "
              "iterations × one X'WX + X@b on the same design.", "",
              "| sweep | n | p | glmkit | glum | glmkit lower bound | glmkit / lower bound | glmkit iters | glum iters |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    keyed: dict = {}
    for r in sc["rows"]:
        keyed.setdefault((r["sweep"], r["n"], r["p"]), {})[r["library"]] = r
    for (sweep, n, p), d in keyed.items():
        g, gl = d.get("glmkit", {}), d.get("glum", {})

        def cell(r):
            if r.get("status") != "ok":
                return r.get("status") or ""
            return fmt_time(r["median_seconds"]) + (" ‡" if _contended(r) else "")

        lb = g.get("lower_bound_seconds")
        ratio = f"{g['median_seconds'] / lb:.1f}" if lb and g.get("status") == "ok" else ""
        lines.append(f"| {sweep} | {n:,} | {p} | {cell(g)} | {cell(gl)} | {fmt_time(lb)} | {ratio} | "
                     f"{g.get('n_iter', '')} | {gl.get('n_iter', '')} |")
    lines.append("")
    return lines


def env_section(results: dict) -> list[str]:
    e = results["environment"]
    v = e["versions"]
    runs = results.get("runs") or []
    if len(runs) > 1:
        when = "; ".join(
            f"{r['started']} to {r['finished']}: "
            + ", ".join(r["problems"] + (["scaling"] if r.get("scaling") else []))
            + (f" (glmkit git {r.get('git')}{' + uncommitted src changes' if r.get('src_dirty') else ''})")
            for r in runs)
        date_line = f"- Measured in {len(runs)} runs: {when}"
    else:
        date_line = f"- Date: {e.get('started', e['date'])} to {e.get('finished', '?')}"
    lines = ["## Machine and software", "",
             date_line,
             f"- CPU: {e['cpu']}, **{e['cores']} cores** ({e['cores_usable']} usable), "
             f"{e['mem_gib']:.0f} GiB RAM" if e.get("mem_gib") else f"- CPU: {e['cpu']}",
             f"- OS: {e['platform']}; Python {e['python']}",
             "- Libraries: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
             f"- glmkit source: git {e.get('git')}" + (" with uncommitted changes under src/"
                                                        if e.get("src_dirty") else "")
             + (f"; every child imported one snapshot of src/glmkit taken at the start "
                f"(sha256 {e['glmkit_snapshot']['sha256']} of its files), so the whole run "
                "measures one version" if e.get("glmkit_snapshot") else "")]
    b = e.get("blas") or {}
    if b.get("numpy_build"):
        lines.append(f"- NumPy built against: {b['numpy_build']}")
    for tp in b.get("threadpools") or []:
        lines.append(f"- Thread pool (threadpoolctl): {tp['internal_api']} {tp.get('version') or ''} "
                     f"({tp['file']}), {tp['num_threads']} threads"
                     + (f", {tp['architecture']} kernels" if tp.get("architecture") else "")
                     + (f", {tp['threading_layer']}" if tp.get("threading_layer") else ""))
    r = e.get("R")
    if r:
        lines.append(f"- {r['version']}; BLAS {r.get('blas')} (single-threaded reference BLAS "
                     "unless it says openblas/mkl); LAPACK {}".format(r.get("lapack")))
    else:
        lines.append("- R: Rscript not on PATH (R column skipped)")
    if e.get("thread_env"):
        lines.append(f"- Thread environment: {e['thread_env']}")
    st = results["settings"]
    lines.append("- BLAS/OpenMP threads in the measured processes: "
                 + (f"pinned to {st['threads']}" if st.get("threads") else
                    "the libraries' defaults (all use both cores; R's reference BLAS is "
                    "single-threaded)"))
    loads = [(r.get("other_load"), r["label"], p["name"]) for p in results["problems"]
             for r in p["rows"] if r.get("other_load") is not None]
    if loads:
        vals = [x[0] for x in loads]
        worst = max(loads)
        n_busy = sum(v >= CONTENDED for v in vals)
        lines.append(
            f"- Machine sharing during the timed fits (cores kept busy by *other* processes, "
            f"from /proc/stat): median {float(sorted(vals)[len(vals) // 2]):.2f}, max "
            f"{worst[0]:.2f} ({worst[1]} on {worst[2]}); {n_busy} of {len(vals)} Python rows "
            f"flagged ‡ (>= {CONTENDED}). Before each fit the harness waited up to "
            f"{st.get('quiet_wait', 0):.0f} s for the machine to be quiet (10 s while it stayed "
            "busy).")
    lines.append("")
    return lines


METHOD = """## Method

- **One command**: `python -m benchmarks.run` (or `./run bench`) generates each problem with
  `shared/bench/problems.py` (cached as `.npz` under `benchmarks/.cache/`, keyed by a hash of
  the definition), computes a tight reference once (cached), then fits every (library,
  problem) pair in a **fresh child process**: the child loads the data, imports the library,
  runs one fit on a tiny problem of the same kind through the same code path (imports and
  one-time setup), builds the input the library is handed (`[1, X]` for glmkit,
  statsmodels and R; `X` for glum and scikit-learn, which add the intercept themselves; the
  one-hot, sparse or categorical inputs for e/e_small), and only then starts measuring.
- **Time**: wall time (`time.perf_counter`) of the fit call alone, median of up to
  `--repeats` fits (fewer when one fit takes more than `--budget` seconds; see *runs*).
  Every single fit is capped at `--timeout` seconds (600 by default): the child is killed and
  the table says *timeout*.
- **Memory**: peak resident set size during the **first** fit of the fresh child, above the
  RSS just before that fit (after data loading and input preparation, after `gc.collect()`).
  A thread samples RSS with psutil every 5 ms (from `/proc/self/statm` without psutil);
  `ru_maxrss` before/after is recorded in `results.json` as a cross-check. For R the parent
  samples the RSS of the Rscript process tree the same way, from R's "ready" line to its
  first fit. Peaks shorter than ~5 ms can be missed.
- **Accuracy**: max over coefficients (intercept included) of |b_j - r_j| / max(|r_j|, 0.01)
  against the reference r: relative error, absolute for coefficients below 0.01.
- **Iterations**: as each library reports them (glmkit `n_iter`, glum `n_iter_`,
  scikit-learn `n_iter_`, statsmodels `fit_history['iteration']`, R `fit$iter`); glmkit and
  statsmodels also report non-convergence.
- **Lower bound**: the work any IRLS/Newton iteration must do once: one weighted Gram X'WX
  (rows scaled by sqrt(w) into a reused buffer, then `B.T @ B`, which NumPy hands to BLAS
  syrk: the same BLAS glmkit uses) plus one X @ b, best of 5, times glmkit's iteration count.
  For the categorical design it is the dense Gram of `[1, X]`, one `bincount` per column for
  the per-level sums, and `[1, X] @ b + g[codes]`.
- **Peers** (see `benchmarks/libs.py`): all unregularized with an intercept. glmkit and
  statsmodels with their default `fit()`; glum `GeneralizedLinearRegressor(alpha=0,
  fit_intercept=True, gradient_tol=1e-9, drop_first=True)` (its default 1e-4 stops early:
  glum's gradient is the mean deviance's); scikit-learn `PoissonRegressor`, `GammaRegressor`,
  `TweedieRegressor(power=1.5, link='log')` with `alpha=0` and unpenalized
  `LogisticRegression`, all `solver='newton-cholesky', tol=1e-10` (no offset support: not
  run on d); R `glm.fit` with default `glm.control()` (epsilon 1e-8, maxit 25), `statmod::tweedie`
  for d. Problem e: glum gets a pandas categorical (tabmat's categorical matrix),
  scikit-learn a CSR one-hot, statsmodels and R are not run (the dense one-hot would take
  16 GB); e_small gives every library the dense one-hot `[1, X, D]` and, as extra rows, glum's
  categorical input (and glmkit's categorical design once it exists).
"""


def markdown(results: dict) -> str:
    s = results["settings"]
    e = results["environment"]
    lines = ["# glmkit benchmark results", ""]
    if s.get("quick"):
        lines += ["**Quick mode (`--quick`): small versions of the problems, a smoke test, not a "
                  "measurement.**", ""]
    lines += [f"Generated by `python -m benchmarks.run` on {e['date']} on a {e['cores']}-core "
              f"machine ({e['cpu']}), in {results.get('total_seconds', 0) / 60:.0f} min; "
              f"options: repeats={s['repeats']}, timeout={s['timeout']:.0f} s per fit, "
              f"budget={s['budget']:.0f} s per (library, problem).", ""]
    lines += ["## Summary: median wall time of one fit", ""] + summary_table(results) + [""]
    lines += ["Cells: *pending* = glmkit has no categorical design yet; *no offset* = "
              "scikit-learn cannot take one; *skipped* = see the problem's table; ‡ = other "
              f"processes kept >= {CONTENDED} cores busy on average during the fit (time "
              "inflated). The glum column of e is glum with a pandas categorical.", "",
              "Lower bound: glmkit's iterations x one pass, a pass being one float64 X'WX (the "
              "faster of one BLAS syrk on the whole scaled design and syrk on row blocks) plus "
              "one X @ b, timed on this machine. glmkit's iterations count the passes that "
              "formed X'WX. Its passes may form X'WX in float32 (the float64 score fixes the "
              "answer), and the covariance's float64 X'WX is formed by the first statistic "
              "that needs it, not by fit(): each problem's table also gives the time of fit() "
              "followed by the first bse.", ""]
    if results.get("machine"):
        from .machine import describe

        lines += ["Machine floor (measured in this run: " + describe(results["machine"]) + "): one "
                  "iteration needs at least n p^2 flops (X'WX, symmetric) and one read of X "
                  "(8 n p bytes); the floor per iteration is the larger of the two times at "
                  "the measured peaks (benchmarks/machine.py).", ""]
    wt = where_time_goes(results)
    if wt:
        lines += ["## Where glmkit spends its time (computed from the tables below)", ""] + wt + [""]
    for prob in results["problems"]:
        lines += problem_table(prob, results.get("machine"))
    lines += f_section(results)
    from .workloads import section

    lines += section(results.get("workloads") or [])
    lines += scaling_section(results)
    lines += env_section(results)
    lines += [METHOD]
    return "\n".join(lines).rstrip() + "\n"
