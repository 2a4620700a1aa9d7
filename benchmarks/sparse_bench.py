"""Sparse and categorical workloads of issue 17, glmkit against glum, in one run.

    python -m benchmarks.sparse_bench [--n-sparse 1000000] [--n-factor 200000] [--rounds 2]

Workloads (the data are generated from fixed seeds, the same in every process):

- ``sparse``: Poisson, a scipy.sparse CSR n x 2,000 at 0.5 % (uniform values) plus an
  intercept and 5 dense columns in the same CSR matrix, fitted as a user would: glmkit
  ``GLM(y, X, family=Poisson()).fit()``, glum ``GeneralizedLinearRegressor(alpha=0)`` on the
  matrix without the intercept column (``fit_intercept=True``).
- ``factor``: a formula with factors of 50 and 300 levels and two numeric covariates, n
  rows: fit, summary (with standard errors), the HC1 covariance, and predictions with
  standard errors on 10,000 new rows. glum has no prediction SEs; for it they are computed
  from its covariance and its model matrix of the new rows (what a glum user would write).

Every (workload, library, round) runs in a fresh subprocess; rounds interleave the
libraries. Time is the wall time of the steps above; memory is the peak resident set size
above the one just before them (benchmarks/memory.py: a 5 ms psutil sampler, cross-checked
with the high-water mark). Results go to benchmarks/SPARSE_RESULTS.md as ratios to glum.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LIBS = ("glmkit", "glum")


# ---------------------------------------------------------------------- data
def sparse_data(n: int, p: int = 2000, density: float = 0.005, seed: int = 0):
    from scipy import sparse

    rng = np.random.default_rng(seed)
    nnz = rng.binomial(p, density, size=n)
    indptr = np.concatenate([[0], np.cumsum(nnz)])
    cols = rng.integers(0, p, indptr[-1]).astype(np.int32)
    S = sparse.csr_matrix((rng.random(indptr[-1]), cols, indptr), shape=(n, p))
    S.sum_duplicates()
    dense = rng.normal(size=(n, 5))
    X = sparse.hstack([sparse.csr_matrix(np.column_stack([np.ones(n), dense])), S]).tocsr()
    beta = np.concatenate([[0.1], rng.normal(scale=0.1, size=5), rng.normal(scale=0.3, size=p)])
    y = rng.poisson(np.exp(X @ beta)).astype(float)
    return X, y


def factor_data(n: int, seed: int = 1, rows: int | None = None):
    import pandas as pd

    rng = np.random.default_rng(seed)
    m = n if rows is None else rows
    f1, f2 = rng.integers(0, 50, m), rng.integers(0, 300, m)
    x1, x2 = rng.normal(size=m), rng.uniform(size=m)
    a, b = rng.normal(scale=0.3, size=50), rng.normal(scale=0.3, size=300)
    y = rng.poisson(np.exp(0.2 + a[f1] + b[f2] + 0.2 * x1 - 0.3 * x2))
    return pd.DataFrame({"y": y.astype(float), "f1": pd.Categorical(f1, categories=range(50)),
                         "f2": pd.Categorical(f2, categories=range(300)), "x1": x1, "x2": x2})


FORMULA = "y ~ C(f1) + C(f2) + x1 + x2"


# ---------------------------------------------------------------------- tasks
def run_sparse(lib: str, X, y) -> dict:
    if lib == "glmkit":
        import glmkit

        res = glmkit.GLM(y, X, family=glmkit.families.Poisson()).fit()
        return {"coef": np.asarray(res.params).tolist(),
                "iterations": int(res.fit_history["iteration"])}
    from glum import GeneralizedLinearRegressor

    m = GeneralizedLinearRegressor(family="poisson", alpha=0, fit_intercept=True,
                                   gradient_tol=1e-8)
    m.fit(X[:, 1:].tocsc(), y)
    return {"coef": [float(m.intercept_)] + np.asarray(m.coef_).tolist(),
            "iterations": int(m.n_iter_)}


def run_factor(lib: str, df, new) -> dict:
    if lib == "glmkit":
        import glmkit

        res = glmkit.glm(FORMULA, df, family=glmkit.families.Poisson()).fit()
        str(res.summary())
        hc1 = res.get_robustcov_results("HC1")
        bse_hc1 = np.asarray(hc1.bse)
        frame = res.get_prediction(new).summary_frame()
        return {"coef": np.asarray(res.params).tolist(), "hc1": bse_hc1.tolist(),
                "pred_se": np.asarray(frame["mean_se"])[:20].tolist()}
    from glum import GeneralizedLinearRegressor

    m = GeneralizedLinearRegressor(family="poisson", alpha=0, formula=FORMULA,
                                   drop_first=True, gradient_tol=1e-8)
    m.fit(df)
    m.coef_table(X=df)                       # the summary: coefficients and SEs
    V = m.covariance_matrix(X=df, robust=True)   # HC1-type sandwich
    mu = m.predict(new)
    Xn = _glum_rows(m, new)
    var_eta = np.einsum("ij,ij->i", Xn @ V, Xn)
    se = mu * np.sqrt(np.maximum(var_eta, 0))
    return {"coef": [float(m.intercept_)] + np.asarray(m.coef_).tolist(),
            "hc1": np.sqrt(np.diag(V)).tolist(), "pred_se": se[:20].tolist()}


def _glum_rows(m, new) -> np.ndarray:
    """glum's model matrix of the new rows, with the intercept column first."""
    import formulaic

    spec = m.X_model_spec_
    Xn = formulaic.model_matrix(spec, new)
    Xn = Xn.toarray() if hasattr(Xn, "toarray") else np.asarray(Xn)
    return np.column_stack([np.ones(Xn.shape[0]), Xn]) if Xn.shape[1] == len(m.coef_) else Xn


# ---------------------------------------------------------------------- child
def child(workload: str, lib: str, n: int) -> dict:
    sys.path.insert(0, str(HERE.parent))
    from benchmarks.memory import PeakSampler

    if workload == "sparse":
        X, y = sparse_data(n)
        args = (X, y)
        fn = run_sparse
    else:
        df = factor_data(n)
        new = factor_data(n, seed=2, rows=10_000)
        args = (df, new)
        fn = run_factor
    if lib == "glmkit":
        import glmkit  # noqa: F401  (imports are not part of the time)
        if workload == "factor":
            # glmkit imports formulaic on its first formula; `import glum` has imported it
            # (and tabmat) already: neither library's imports are timed
            import formulaic  # noqa: F401
    else:
        import glum  # noqa: F401
    sampler = PeakSampler()
    load = os.getloadavg()[0]
    with sampler:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(lib, *args)
        out["seconds"] = time.perf_counter() - t0
        out["cpu"] = time.process_time() - c0   # all of the process' threads
    out["load"] = load
    out["peak_mib"] = sampler.peak_above_baseline / 2**20
    return out


def _run_child(workload: str, lib: str, n: int, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.sparse_bench", "--child", workload, lib, str(n)]
    env = dict(os.environ)
    try:
        proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- report
NOTES = """Notes.

- The sparse fit is glmkit's `SparseDesign`: the intercept and the 5 dense columns (more than
  10 % nonzero) are held as a dense block (its X'WX a float32 syrk in the early sweeps, as on
  dense designs); the 2,000 sparse columns' X'WX comes from the pairs of nonzeros of each row
  (about 55 per row here: 55M pairs at 1M rows). Stored, the pairs would take 12 bytes each
  (660 MB, four times the design's 172 MB), so here they are formed anew on every pass
  (`design/_pairs_stream.py`: gathered per row group, added into the triangle with one
  scattered add per block, on two threads) and nothing per pair is kept. One pass, one
  thread: 1.2-1.3 s of CPU (half of it the scattered adds, which are latency-bound); the
  store cost 2.9 s to build, 0.5-0.8 s a pass, 3.5 s to sort and 0.22 s a pass sorted, which
  pays only for fits of many passes. Small designs (store within the design's bytes or 64
  MiB) keep the store. glum's tabmat runs a compiled sandwich over its CSC copy.
- Before this change (the store): 10.49 s, 0.55x glum's time, and 1,256 MiB, 1.83x its peak.
- Against main's code (the stored pairs), same process setup, interleaved A/B rounds on
  the shared machine (fit only, medians): 1M rows, 3 rounds, load 8.6-10.9: main 50.5 s wall
  / 18.5 s CPU / 1,262 MiB, this code 47.0 s / 18.1 s / 419 MiB; 500k rows, 5 rounds, load
  6.0-7.8: main 34.5 s / 13.5 s / 762 MiB, this code 32.3 s / 14.4 s / 307 MiB. The time is
  unchanged within the noise, the memory a third.
- Where the remaining time goes (1M rows, CPU profile under load 7): the ten 2,006 x 2,006
  Cholesky factorizations (subsample start included) take 12.6 of 22.6 s of CPU: OpenBLAS's
  two-thread dpotrf spins while the other jobs hold the cores (0.25-1.4 s each, against
  0.09-0.12 s on one BLAS thread, same load). The nine X'WX passes take 7.4 s.
- glum has no prediction standard errors; for glum they are computed from its HC1-type
  covariance and its model matrix of the new rows, as a glum user would.
- The machine was shared with other jobs throughout (see the load average): absolute times
  are inflated and noisy; the interleaved ratios are the figures to read."""
def _median(xs):
    return float(np.median(xs)) if xs else float("nan")


def report(results: dict, sizes: dict, rounds: int, elapsed: float, load: float) -> str:
    lines = ["# Sparse and categorical workloads (issue 17): glmkit against glum", "",
             f"Generated by `python -m benchmarks.sparse_bench` on {time.strftime('%Y-%m-%d')} "
             f"on a 2-core machine shared with other jobs (load average at the start: "
             f"{load:.1f}, at the end: {os.getloadavg()[0]:.1f}), {rounds} interleaved "
             f"rounds, each run in a fresh process, in {elapsed / 60:.0f} min. Times are medians; memory is the peak "
             "resident set above the one just before the timed steps.", "",
             ("| workload | glmkit time (CPU) | glum time (CPU) | time ratio glmkit/glum "
              "(CPU) | glmkit peak MiB | glum peak MiB | memory ratio | max rel. coef. diff |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    names = {"sparse": (f"Poisson, CSR {sizes['sparse']:,} x 2,000 at 0.5 % + intercept + 5 "
                        "dense columns: fit"),
             "factor": (f"formula, factors of 50 and 300 levels, {sizes['factor']:,} rows: "
                        "fit, summary, HC1, predict with SEs on 10k rows")}
    for w, runs in results.items():
        ok = {lib: [r for r in runs[lib] if "error" not in r] for lib in runs}
        t = {lib: _median([r["seconds"] for r in ok[lib]]) for lib in runs}
        c = {lib: _median([r.get("cpu", float("nan")) for r in ok[lib]]) for lib in runs}
        m = {lib: _median([r["peak_mib"] for r in ok[lib]]) for lib in runs}
        diff = float("nan")
        if ok["glmkit"] and ok["glum"]:
            a, b = np.array(ok["glmkit"][0]["coef"]), np.array(ok["glum"][0]["coef"])
            if a.shape == b.shape:
                diff = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-2)))
        errs = [r["error"] for lib in runs for r in runs[lib] if "error" in r]
        lines.append(f"| {names[w]} | {t['glmkit']:.2f} s ({c['glmkit']:.2f} s) | "
                     f"{t['glum']:.2f} s ({c['glum']:.2f} s) | "
                     f"{t['glmkit'] / t['glum']:.2f} ({c['glmkit'] / c['glum']:.2f}) | "
                     f"{m['glmkit']:.0f} | {m['glum']:.0f} | "
                     f"{m['glmkit'] / m['glum']:.2f} | {diff:.1e} |")
        if errs:
            lines.append(f"| (errors: {'; '.join(sorted(set(errs)))}) | | | | | | | |")
    lines += ["", NOTES, "", ("Per run (wall s, CPU s, peak MiB, 1-min load average at the "
                              "start):"), ""]
    for w, runs in results.items():
        for lib in runs:
            cells = [f"{r['seconds']:.2f} s / {r.get('cpu', float('nan')):.2f} s / "
                     f"{r['peak_mib']:.0f} MiB / load {r.get('load', float('nan')):.1f}"
                     if "error" not in r else r["error"] for r in runs[lib]]
            lines.append(f"- {w}, {lib}: " + ", ".join(cells))
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=3, metavar=("WORKLOAD", "LIB", "N"))
    ap.add_argument("--n-sparse", type=int, default=1_000_000)
    ap.add_argument("--n-factor", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--workloads", default="sparse,factor")
    ap.add_argument("--out", default=str(HERE / "SPARSE_RESULTS.md"))
    args = ap.parse_args(argv)
    if args.child:
        w, lib, n = args.child
        print(json.dumps(child(w, lib, int(n))))
        return
    sizes = {"sparse": args.n_sparse, "factor": args.n_factor}
    workloads = args.workloads.split(",")
    results = {w: {lib: [] for lib in LIBS} for w in workloads}
    start, load = time.perf_counter(), os.getloadavg()[0]
    for r in range(args.rounds):
        for w in workloads:
            for lib in (LIBS if r % 2 == 0 else LIBS[::-1]):
                out = _run_child(w, lib, sizes[w], args.timeout)
                results[w][lib].append(out)
                print(w, lib, r, {k: v for k, v in out.items()
                                  if k in ("seconds", "cpu", "load", "peak_mib", "error",
                                           "iterations")},
                      flush=True)
    text = report(results, sizes, args.rounds, time.perf_counter() - start, load)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
