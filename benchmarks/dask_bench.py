"""Benchmark of glmkit on Dask (issue 5): exactness, time per IRLS pass, memory, out of core.

    python -m benchmarks.dask_bench                 # everything (writes benchmarks/DASK_RESULTS.md)
    python -m benchmarks.dask_bench --skip-big      # without the larger-than-memory run
    python -m benchmarks.dask_bench --daskml-python /path/to/python   # a venv with dask-ml

Sections
--------
1. 5 million rows x 20 covariates (+ intercept), Poisson with an offset, stored as Parquet
   (20 files of 250,000 rows). Fitted in memory (NumPy, the oracle), on Dask's local
   threaded scheduler reading the Parquet files in every pass, on a ``LocalCluster``
   (2 worker processes x 1 thread) reading the Parquet files, and on the same cluster with
   the arrays persisted in the workers' memory (no reading, no conversion per pass). Results are compared with the in-memory fit
   (largest relative difference over params, bse, deviance, null deviance, llf, AIC, BIC,
   Pearson chi2, scale, HC0 covariance); time per pass and the driver's peak RSS are
   reported. Each variant runs in a fresh child process, so memory figures are its own.
2. dask-ml's solvers (newton, lbfgs) on the same Parquet data, Poisson without offset
   (dask-ml has no offsets or weights), against glmkit on Dask and in memory. dask-ml runs in
   the interpreter given by ``--daskml-python`` (a venv with dask-ml), skipped if none.
3. A data set of ``--big-gib`` GiB (default 1.5 x this machine's RAM, measured as the
   float64 size of the columns read) as Parquet, fitted on a ``LocalCluster`` of 2 workers
   with ``--big-worker-memory`` each; peak RSS of the driver and of each worker is sampled
   every 50 ms (psutil). The data set is deleted afterwards unless ``--keep-data``.

Times are wall-clock seconds on this machine (2 cores); pass = one sweep over the data.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
P = 20                       # covariates (an intercept is added)
BETA = np.round(np.linspace(-0.15, 0.15, P), 4)
INTERCEPT = 0.5
ROWS_5M = 5_000_000
FILE_ROWS_5M = 250_000
FILE_ROWS_BIG = 1_000_000
XCOLS = [f"x{j + 1}" for j in range(P)]
COLS = ["y", "off"] + XCOLS


# ---------------------------------------------------------------------------- data
def write_parquet(path: Path, rows: int, file_rows: int, seed: int = 0) -> None:
    """Poisson data with an offset, ``rows`` rows in files of ``file_rows`` (no compression:
    random doubles do not compress)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (path / "_done").exists() and (path / "_done").read_text().strip() == str(rows):
        return
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    for i, start in enumerate(range(0, rows, file_rows)):
        m = min(file_rows, rows - start)
        rng = np.random.default_rng([seed, i])
        X = rng.standard_normal((m, P))
        off = 0.1 * rng.standard_normal(m)
        y = rng.poisson(np.exp(INTERCEPT + X @ BETA + off)).astype(float)
        cols = {"y": y, "off": off} | {c: X[:, j] for j, c in enumerate(XCOLS)}
        pq.write_table(pa.table(cols), path / f"part-{i:05d}.parquet", compression="NONE",
                       row_group_size=file_rows)
    (path / "_done").write_text(str(rows))


# -------------------------------------------------------------------------- memory
class PeakRSS:
    """Samples the RSS of this process (and of the given child pids) every ``interval`` s."""

    def __init__(self, interval: float = 0.05, children: bool = False):
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.children = children
        self.base = self.proc.memory_info().rss
        self.peak_self = self.base
        self.peak_children: dict[int, int] = {}
        self.peak_total = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            try:
                own = self.proc.memory_info().rss
                total = own
                if self.children:
                    for c in self.proc.children(recursive=True):
                        try:
                            r = c.memory_info().rss
                        except psutil.Error:
                            continue
                        total += r
                        self.peak_children[c.pid] = max(self.peak_children.get(c.pid, 0), r)
                self.peak_self = max(self.peak_self, own)
                self.peak_total = max(self.peak_total, total)
            except Exception:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def report(self) -> dict:
        gib = 2.0 ** 30
        return {"driver_peak_gib": self.peak_self / gib, "driver_base_gib": self.base / gib,
                "children_peak_gib": sorted((v / gib for v in self.peak_children.values()),
                                            reverse=True),
                "total_peak_gib": self.peak_total / gib}


# ---------------------------------------------------------------------- statistics
STATS = ("params", "bse", "deviance", "null_deviance", "llf", "aic", "bic", "pearson_chi2",
         "scale")


def collect(res, hc0: bool = True) -> dict:
    out = {k: np.asarray(getattr(res, k), dtype=float).tolist() for k in STATS}
    if hc0:
        out["hc0"] = np.asarray(res.get_robustcov_results("HC0").cov_params(), float).tolist()
    out["n_iter"] = int(res.n_iter)
    return out


def max_rel_diff(a: dict, b: dict) -> dict:
    """Largest relative difference per statistic; for the covariance, on the correlation
    scale |a_ij - b_ij| / sqrt(b_ii b_jj) (an off-diagonal element near 0 has no relative
    precision to speak of)."""
    out = {}
    for k in list(STATS) + ["hc0"]:
        if k in a and k in b:
            x, y = np.asarray(a[k], float), np.asarray(b[k], float)
            if k == "hc0":
                s = np.sqrt(np.diag(y))
                out[k] = float(np.max(np.abs(x - y) / np.outer(s, s)))
            else:
                out[k] = float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300)))
    return out


def passes_of(res) -> int:
    h = res.fit_history
    return len(h["deviance"]) + int(sum(h["step_halvings"]))


# -------------------------------------------------------------------------- phases
def phase_inmem(a) -> dict:
    import pyarrow.parquet as pq

    import glmkit.api as sm

    t0 = time.perf_counter()
    tab = pq.read_table(a.data5m, columns=COLS)
    X = np.column_stack([np.ones(tab.num_rows)] + [tab[c].to_numpy() for c in XCOLS])
    y, off = tab["y"].to_numpy(), tab["off"].to_numpy()
    del tab
    t_load = time.perf_counter() - t0
    out = {"load_s": t_load}
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        model = sm.GLM(y, X, family=sm.families.Poisson(), offset=off)
        model.rank, model.k_constant   # what the Dask data pass computes
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = model.fit()
        t_fit = time.perf_counter() - t0
    out.update(model_s=t_model, fit_s=t_model + t_fit, irls_s=t_fit, passes=passes_of(res),
               per_pass_s=t_fit / passes_of(res), memory=mem.report())
    t0 = time.perf_counter()
    out["stats"] = collect(res)
    out["stats_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res0 = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    out["nooffset"] = {"fit_s": time.perf_counter() - t0, "params": res0.params.tolist(),
                       "bse": res0.bse.tolist(), "n_iter": res0.n_iter}
    return out


def _dask_fit(a, mode: str) -> dict:
    import dask

    import glmkit.api as sm
    from glmkit.dask import read_parquet_design

    client = cluster = None
    if mode in ("cluster", "persisted", "streamed"):
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               memory_limit=a.worker_memory, dashboard_address=":0",
                               silence_logs=40)
        client = Client(cluster)
    passes = []
    out = {"mode": mode}
    ctx = dask.config.set(scheduler="threads") if mode == "threads" else _null()
    with ctx, PeakRSS(children=client is not None) as mem:
        t0 = time.perf_counter()
        d = read_parquet_design(a.data5m, "y", XCOLS, offset="off")
        if mode == "persisted":
            from distributed import wait

            keys = ("endog", "exog", "offset")
            d.update(zip(keys, client.persist([d[k] for k in keys])))
            wait([d[k] for k in keys])
            out["persist_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        model = sm.GLM(family=sm.families.Poisson(), **d)
        # 'streamed': every pass reads the source (glmkit before pinning, and what data
        # larger than the workers' memory get); the others pin the blocks for the fit
        res = model.fit(verbose=passes.append, persist=False if mode == "streamed" else "auto")
        t_fit = time.perf_counter() - t1
        irls = [p["seconds"] for p in passes if p["what"] == "IRLS"]
        out.update(setup_s=t1 - t0, fit_s=t_fit, passes=len(passes),
                   irls_passes=len(irls), per_pass_s=float(np.median(irls)),
                   data_pass_s=[p["seconds"] for p in passes if p["what"] == "data"][0],
                   persist_pass_s=sum(p["seconds"] for p in passes if p["what"] == "persist"))
        t0 = time.perf_counter()
        n0 = len(passes)
        out["stats"] = collect(res, hc0=False)   # what summary() shows
        out["summary_passes"] = len(passes) - n0
        out["stats"]["hc0"] = collect(res)["hc0"]   # HC0 was not asked in fit()
        out["stats_s"] = time.perf_counter() - t0
        out["stats_passes"] = len(passes) - n0
        out["fitted_is_lazy"] = type(res.fittedvalues).__module__.startswith("dask")
    out["memory"] = mem.report()
    out["pass_log"] = [{k: v for k, v in p.items()} for p in passes]
    if mode == "threads":
        # the same model without offset, for the dask-ml comparison
        d = read_parquet_design(a.data5m, "y", XCOLS)
        with ctx:
            t0 = time.perf_counter()
            r0 = sm.GLM(family=sm.families.Poisson(), **d).fit()
            out["nooffset"] = {"fit_s": time.perf_counter() - t0, "params": r0.params.tolist(),
                               "n_iter": r0.n_iter}
    if client is not None:
        client.close()
        cluster.close()
    return out


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def phase_daskml(a) -> dict:
    """dask-ml's Poisson regression (no offset) on the same Parquet data (threads)."""
    import dask
    import dask.dataframe as dd
    import dask_ml
    from dask_ml.linear_model import PoissonRegression

    out = {"dask_ml": dask_ml.__version__, "dask": dask.__version__}
    # one array for y and X: separate projections of a Parquet read may be partitioned
    # differently by dask-expr (and to_dask_array(lengths=True) then fails)
    A = dd.read_parquet(a.data5m, columns=["y"] + XCOLS).to_dask_array(lengths=True)
    y, X = A[:, 0], A[:, 1:]
    with dask.config.set(scheduler="threads"):
        for solver in ("newton", "lbfgs"):
            try:
                with PeakRSS() as mem:
                    t0 = time.perf_counter()
                    m = PoissonRegression(solver=solver, fit_intercept=True, penalty="l2",
                                          C=1e12, max_iter=100, tol=1e-8).fit(X, y)
                    dt = time.perf_counter() - t0
                out[solver] = {"fit_s": dt, "params": [float(m.intercept_)]
                               + np.asarray(m.coef_, float).tolist(), "memory": mem.report()}
            except Exception as exc:  # report what fails, as it fails
                out[solver] = {"error": f"{type(exc).__name__}: {exc}"[:400]}
    return out


def phase_big(a) -> dict:
    import glmkit.api as sm
    from glmkit.dask import read_parquet_design

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           memory_limit=a.big_worker_memory, dashboard_address=":0",
                           silence_logs=40)
    client = Client(cluster)
    passes = []
    out = {"rows": int(Path(a.databig, "_done").read_text()),
           "worker_memory_limit": a.big_worker_memory}
    with PeakRSS(children=True) as mem:
        t0 = time.perf_counter()
        d = read_parquet_design(a.databig, "y", XCOLS, offset="off")
        res = sm.GLM(family=sm.families.Poisson(), **d).fit(client=client,
                                                           verbose=_printer(passes))
        out["fit_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        out["deviance"] = res.deviance
        out["params"] = res.params.tolist()
        out["bse"] = res.bse.tolist()
        out["llf"] = res.llf
        out["null_deviance"] = res.null_deviance if a.big_null else None
        out["stats_s"] = time.perf_counter() - t0
        out["n_iter"] = res.n_iter
        out["converged"] = res.converged
    out["memory"] = mem.report()
    out["pass_log"] = passes
    irls = [p["seconds"] for p in passes if p["what"] == "IRLS"]
    out["per_pass_s"] = float(np.median(irls))
    true = np.concatenate([[INTERCEPT], BETA])
    out["z_vs_truth"] = ((np.asarray(out["params"]) - true) / np.asarray(out["bse"])).tolist()
    client.close()
    cluster.close()
    return out


def _printer(store: list):
    def f(entry):
        store.append(entry)
        print(f"  pass {entry['pass']:3d} {entry['what']:<14} {entry.get('deviance', '')} "
              f"({entry['seconds']:.1f} s)", flush=True)
    return f


def _factor_phase(name):
    def run(a):
        from benchmarks import dask_factor_bench as fb

        if name == "inmem":
            return fb.phase_factor_inmem(a)
        return fb.phase_factor(a, int(name))
    return run


PHASES = {"inmem": phase_inmem, "threads": lambda a: _dask_fit(a, "threads"),
          "cluster": lambda a: _dask_fit(a, "cluster"),
          "persisted": lambda a: _dask_fit(a, "persisted"),
          "streamed": lambda a: _dask_fit(a, "streamed"), "daskml": phase_daskml,
          "big": phase_big, "factor20": _factor_phase("20"),
          "factor1000": _factor_phase("1000"), "factor_inmem": _factor_phase("inmem")}


# ----------------------------------------------------------------------- driver
def run_child(phase: str, a, python: str | None = None) -> dict:
    out = Path(a.workdir) / f"{phase}.json"
    out.unlink(missing_ok=True)
    cmd = [python or sys.executable, "-m", "benchmarks.dask_bench", "--phase", phase,
           "--json", str(out), "--workdir", a.workdir, "--worker-memory", a.worker_memory,
           "--big-worker-memory", a.big_worker_memory, "--rows", str(a.rows)] + (
               ["--big-null"] if a.big_null else [])
    print(f"[{time.strftime('%H:%M:%S')}] {phase} ...", flush=True)
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    load0 = os.getloadavg()[0]
    p = subprocess.run(cmd, cwd=HERE.parent, env=env)
    if p.returncode != 0 or not out.exists():
        return {"error": f"child exited with {p.returncode}"}
    result = json.loads(out.read_text())
    result["loadavg_1min"] = [load0, os.getloadavg()[0]]
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.dask_bench")
    ap.add_argument("--phase", choices=sorted(PHASES))
    ap.add_argument("--json")
    ap.add_argument("--workdir", default=os.environ.get("GLMKIT_DASK_BENCH_DIR",
                                                         "/tmp/glmkit-dask-bench"))
    ap.add_argument("--worker-memory", default="4GiB")
    ap.add_argument("--big-gib", type=float, default=None,
                    help="size of the big data set (float64 GiB); default 1.5 x RAM")
    ap.add_argument("--big-worker-memory", default="3GiB")
    ap.add_argument("--big-null", action="store_true", help="also the null deviance (an "
                    "intercept-only IRLS fit with the offset) on the big data")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-factor", action="store_true", help="without section 4 (a "
                    "1,000-level factor in a formula on Dask)")
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--daskml-python", default=None)
    ap.add_argument("--rows", type=int, default=ROWS_5M, help="rows of section 1 (smoke tests)")
    ap.add_argument("--out", default=str(HERE / "DASK_RESULTS.md"))
    ap.add_argument("--note", default=None, help="a sentence for the report (e.g. the "
                    "machine's load)")
    ap.add_argument("--report-only", action="store_true", help="write the report again "
                    "from dask_results.json (with --note)")
    a = ap.parse_args(argv)
    a.data5m = str(Path(a.workdir) / f"p{a.rows}")
    a.databig = str(Path(a.workdir) / "pbig")
    if a.phase:
        result = PHASES[a.phase](a)
        Path(a.json).write_text(json.dumps(result))
        return
    if a.report_only:
        results = json.loads(Path(a.out).with_name("dask_results.json").read_text())
        if a.note:
            results["note"] = a.note
        Path(a.out).with_name("dask_results.json").write_text(json.dumps(results, indent=1))
        Path(a.out).write_text(report(results))
        return
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": _machine(), "git": _git_head(), "note": a.note}
    t0 = time.perf_counter()
    write_parquet(Path(a.data5m), a.rows, FILE_ROWS_5M)
    results["gen5m_s"] = time.perf_counter() - t0
    for phase in ("inmem", "threads", "cluster", "persisted", "streamed"):
        results[phase] = run_child(phase, a)
    if not a.skip_factor:
        from benchmarks import dask_factor_bench

        results["factor"] = dask_factor_bench.run(a, run_child)
    if a.daskml_python:
        results["daskml"] = run_child("daskml", a, python=a.daskml_python)
    previous = Path(a.out).with_name("dask_results.json")
    if not a.daskml_python and previous.exists():   # keep an earlier run's dask-ml section
        old = json.loads(previous.read_text())
        if "daskml" in old:
            results["daskml"] = old["daskml"]
            results["daskml_git"] = old.get("daskml_git") or old.get("git")
            results["daskml_inmem"] = old.get("daskml_inmem") or old["inmem"].get("nooffset")
            results["daskml_threads"] = old.get("daskml_threads") or \
                old.get("threads", {}).get("nooffset")
    if a.skip_big and previous.exists():   # keep an earlier run's larger-than-memory section
        old = json.loads(previous.read_text())
        for k in ("big", "genbig_s", "big_disk_gib", "genbig_note"):
            if k in old:
                results[k] = old[k]
        if "big" in old:   # the code the larger-than-memory run measured
            results["big_git"] = old.get("big_git") or old.get("git") or \
                "a4a54d0 (recorded by hand: the run predates this field)"
    if not a.skip_big:
        ram = results["machine"]["ram_gib"]
        gib = a.big_gib if a.big_gib else 1.5 * ram
        rows = int(gib * 2**30 / (8 * len(COLS)))
        rows -= rows % FILE_ROWS_BIG
        need = rows * 8 * len(COLS) * 1.02 / 2**30
        free = shutil.disk_usage(a.workdir).free / 2**30
        done = Path(a.databig, "_done")
        if done.exists() and done.read_text().strip() == str(rows):
            need = 0.0   # already written
        if need > free - 5:
            results["big"] = {"error": f"not enough disk: {need:.1f} GiB needed, {free:.1f} free"}
        else:
            t0 = time.perf_counter()
            write_parquet(Path(a.databig), rows, FILE_ROWS_BIG, seed=1)
            results["genbig_s"] = time.perf_counter() - t0
            results["big_disk_gib"] = sum(f.stat().st_size for f in Path(a.databig).glob(
                "*.parquet")) / 2**30
            results["big"] = run_child("big", a)
            if not a.keep_data:
                shutil.rmtree(a.databig, ignore_errors=True)
    Path(a.out).with_name("dask_results.json").write_text(json.dumps(results, indent=1))
    Path(a.out).write_text(report(results))
    print(f"wrote {a.out}")


def _git_head() -> str:
    try:
        return subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _machine() -> dict:
    import psutil

    return {"cpus": os.cpu_count(), "ram_gib": psutil.virtual_memory().total / 2**30,
            "python": platform.python_version(), "platform": platform.platform()}


# ----------------------------------------------------------------------- report
def _fmt_mem(m: dict) -> str:
    s = f"driver peak {m['driver_peak_gib']:.2f} GiB (before the fit {m['driver_base_gib']:.2f})"
    if m.get("children_peak_gib"):
        s += "; workers peak " + ", ".join(f"{v:.2f}" for v in m["children_peak_gib"][:2]) + " GiB"
    return s


def report(r: dict) -> str:
    from importlib.metadata import version

    m = r["machine"]
    L = ["# glmkit on Dask: benchmark results", "",
         f"Machine: {m['cpus']} cores, {m['ram_gib']:.1f} GiB RAM, Python {m['python']}, "
         f"{m['platform']}. dask {version('dask')}, distributed {version('distributed')}, "
         f"numpy {version('numpy')}; glmkit at commit {r.get('git', 'unknown')}. "
         f"Command: `python -m benchmarks.dask_bench"
         f"{' --daskml-python ...' if 'daskml' in r and not r.get('daskml_git') else ''}"
         f"{' --skip-big' if r.get('big_git') else ''}`; raw numbers in "
         "`benchmarks/dask_results.json`.", ""]
    if r.get("note"):
        L += [r["note"], ""]
    L += ["## 1. 5,000,000 rows x 20 covariates (+ intercept), Poisson with offset, Parquet", "",
         "Parquet: 20 files x 250,000 rows, uncompressed, columns y, off, x1..x20 "
         f"(generated in {r.get('gen5m_s', float('nan')):.0f} s). One pass = one sweep over the "
         "rows (X'WX, X'u, deviance). Dask fits pin the partitions' converted blocks on the "
         "workers for the fit (one 'persist' pass reads and converts them; "
         "glmkit.design.pinned) unless streamed (`fit(persist=False)`, what data larger than "
         "the workers' memory get: every pass reads the Parquet files). *persisted*: the raw "
         "arrays persisted by the user before the fit.", "",
         "| variant | fit (s) | passes | s / pass | vs in-memory | largest relative difference from the in-memory fit | memory |",
         "|---|---|---|---|---|---|---|"]
    base = r.get("inmem", {})
    for key, label in (("inmem", "in memory (NumPy)"), ("threads", "Dask, local threads, Parquet"),
                       ("cluster", "Dask, LocalCluster 2x1, Parquet"),
                       ("persisted", "Dask, LocalCluster 2x1, persisted"),
                       ("streamed", "Dask, LocalCluster 2x1, Parquet, streamed")):
        v = r.get(key, {})
        if "error" in v or not v:
            L.append(f"| {label} | failed: {v.get('error', 'not run')} | | | | | |")
            continue
        ratio = v["per_pass_s"] / base["per_pass_s"] if base.get("per_pass_s") else float("nan")
        if key == "inmem":
            diff = "(the oracle)"
        else:
            d = max_rel_diff(v["stats"], base["stats"])
            worst = max(d, key=d.get)
            diff = f"{d[worst]:.1e} ({worst}); params {d['params']:.1e}, bse {d['bse']:.1e}"
        L.append(f"| {label} | {v['fit_s']:.1f} | {v['passes']} | {v['per_pass_s']:.2f} | "
                 f"{ratio:.1f}x | {diff} | {_fmt_mem(v['memory'])} |")
    L += ["", "Notes:",
          "- Differences: relative, per element, over params, bse, deviance, null deviance, llf, "
          "AIC, BIC, Pearson chi2, scale; HC0 covariance on the correlation scale "
          "|a_ij - b_ij| / sqrt(b_ii b_jj).",
          "- *fit* is `GLM(...).fit()` from lazy inputs: for Dask it includes the data pass "
          "(validation, rank, constant columns) and every IRLS pass; s / pass is the median "
          "IRLS pass. In memory, the fit time is divided by its number of sweeps.",
          "- Statistics after the fit: the summary's (null deviance in closed form from the "
          "data pass's sums, llf, Pearson chi2 from the last sweep) cost "
          + ", ".join(f"{r[k].get('summary_passes', '?')} pass(es) ({k})"
                      for k in ("threads", "cluster", "persisted", "streamed") if k in r)
          + "; with the HC0 covariance (not asked in fit(), so its meat is a pass of its own) "
          + ", ".join(f"{r[k]['stats_passes']} passes / {r[k]['stats_s']:.0f} s ({k})"
                      for k in ("threads", "cluster", "persisted", "streamed")
                      if k in r and "stats_passes" in r[k]) + ".",
          "- The 'persist' pass (read and convert each partition once, kept for the fit) "
          "took " + ", ".join(f"{r[k]['persist_pass_s']:.1f} s ({k})"
                              for k in ("threads", "cluster", "persisted")
                              if r.get(k, {}).get("persist_pass_s")) + "; it is counted in "
          "*passes* and *fit*.",
          "- Load average (1 min) before/after each variant: "
          + ", ".join(f"{k} {r[k]['loadavg_1min'][0]:.1f}/{r[k]['loadavg_1min'][1]:.1f}"
                      for k in ("inmem", "threads", "cluster", "persisted", "streamed")
                      if "loadavg_1min" in r.get(k, {}))
          + " (2 cores; above ~2 another process was competing).",
          "- Driver memory is the peak RSS of the process that calls `fit` (with LocalCluster "
          "it also hosts the scheduler); workers are separate processes. The in-memory figure "
          "is the increase during the fit on top of the loaded arrays (X alone is 0.8 GiB).",
          ""]
    if "daskml" in r:
        L += _report_daskml(r)
    if "big" in r:
        L += _report_big(r)
    if "factor" in r:
        from benchmarks import dask_factor_bench

        L += dask_factor_bench.report(r)
    return "\n".join(L) + "\n"


def _report_daskml(r) -> list[str]:
    v = r["daskml"]
    L = ["## 2. dask-ml on the same data (Poisson without offset)", ""]
    if "error" in v:
        return L + [f"dask-ml run failed: {v['error']}", ""]
    inmem = r.get("daskml_inmem") or r["inmem"]["nooffset"]
    ref = np.asarray(inmem["params"])
    if r.get("daskml_git") and r["daskml_git"] != r.get("git"):
        L += [f"(Measured earlier, with glmkit at commit {r['daskml_git']}: this run had no "
              "dask-ml venv; the glmkit rows are from that run too.)", ""]
    L += [f"dask-ml {v.get('dask_ml')} (dask-glm solvers) with dask {v.get('dask')}, in its own "
          "venv; `PoissonRegression(solver=..., penalty='l2', C=1e12, tol=1e-8)` (dask-ml "
          "has no offset, weights or standard errors; C=1e12 makes the penalty negligible). "
          "Local threaded scheduler, Parquet read with `to_dask_array(lengths=True)`.", "",
          "| fit | time (s) | largest abs. difference of coefficients from glmkit in memory |",
          "|---|---|---|",
          f"| glmkit in memory | {inmem['fit_s']:.1f} | 0 |"]
    threads = r.get("daskml_threads") or r.get("threads", {}).get("nooffset")
    if threads:
        g = np.asarray(threads["params"])
        L.append(f"| glmkit on Dask (threads, Parquet) | {threads['fit_s']:.1f} | "
                 f"{np.max(np.abs(g - ref)):.1e} |")
    for s in ("newton", "lbfgs"):
        e = v.get(s, {})
        if "error" in e:
            L.append(f"| dask-ml {s} | failed | {e['error']} |")
        elif e:
            L.append(f"| dask-ml {s} | {e['fit_s']:.1f} | "
                     f"{np.max(np.abs(np.asarray(e['params']) - ref)):.1e} |")
    return L + [""]


def _report_big(r) -> list[str]:
    v = r["big"]
    L = ["## 3. Larger than memory", ""]
    if r.get("big_git") and r.get("big_git") != r.get("git"):
        L += [f"(Measured earlier, on glmkit at commit {r['big_git']}; sections 1-2 were run "
              "again on the current code with `--skip-big`.)", ""]
    if "error" in v:
        return L + [f"Not run: {v['error']}", ""]
    rows = v["rows"]
    size = rows * 8 * len(COLS) / 2**30
    mem = v["memory"]
    L += [f"{rows:,} rows x {len(COLS)} float64 columns = {size:.1f} GiB of data "
          f"({size / r['machine']['ram_gib']:.2f} x this machine's {r['machine']['ram_gib']:.1f} "
          f"GiB RAM); {r.get('big_disk_gib', float('nan')):.1f} GiB of Parquet on disk in files "
          f"of {FILE_ROWS_BIG:,} rows (generated in {r.get('genbig_s', float('nan')) / 60:.1f} min"
          + (f"; {r['genbig_note']}" if r.get("genbig_note") else "") + "). "
          f"Poisson with offset, 21 coefficients, fitted on a LocalCluster of 2 worker "
          f"processes x 1 thread with `memory_limit={v['worker_memory_limit']}` each, "
          "streaming the files in every pass (nothing persisted).", "",
          f"- fit: {v['fit_s'] / 60:.1f} min, {v['n_iter']} iterations, converged: "
          f"{v['converged']}; median IRLS pass {v['per_pass_s']:.0f} s; "
          f"{len(v['pass_log'])} passes in all (data pass, IRLS, statistics).",
          f"- statistics after the fit (llf{', null deviance' if v.get('null_deviance') else ''}): "
          f"{v['stats_s'] / 60:.1f} min.",
          f"- peak RSS: driver (client + scheduler) {mem['driver_peak_gib']:.2f} GiB; workers "
          + ", ".join(f"{x:.2f}" for x in mem["children_peak_gib"][:2])
          + f" GiB; all processes together {mem['total_peak_gib']:.2f} GiB "
          f"(sampled every 50 ms).",
          "- passes (what, seconds): " + ", ".join(
              f"{p['what']} {p['seconds']:.0f}" for p in v["pass_log"]) + ".",
          f"- load average (1 min) before/after: {v['loadavg_1min'][0]:.1f}/"
          f"{v['loadavg_1min'][1]:.1f}" if "loadavg_1min" in v else "- load average: n/a",
          f"- deviance {v['deviance']:.10g}, llf {v['llf']:.10g}"
          + (f", null deviance {v['null_deviance']:.10g}" if v.get("null_deviance") else "")
          + f"; (estimate - true coefficient) / bse ranges over "
          f"[{min(v['z_vs_truth']):.2f}, {max(v['z_vs_truth']):.2f}].", ""]
    return L


if __name__ == "__main__":
    main()
