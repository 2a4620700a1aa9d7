"""Section 4 of the Dask benchmark (benchmarks/dask_bench.py): a factor of many levels in a
formula on a dask DataFrame read from Parquet (issue 16).

Poisson, ``y ~ x1 + ... + x5 + C(g)``, 5,000,000 rows in 20 Parquet files, ``g`` a text
column of ``levels`` levels ("L0000", ...). Fitted with ``glmkit.dask.glm`` on a
LocalCluster of 2 worker processes x 1 thread, once with 20 and once with 1,000 levels:
each partition holds the factor as level codes (a CategoricalDesign), so a worker's memory
should not grow with the number of levels (the indicator columns of 1,000 levels would be
250,000 x 1,000 x 8 bytes = 1.9 GiB per partition). The oracle: the same model in memory,
on a SplitDesign of the dense columns and the factor's codes (an in-memory formula would
materialize the 5M x 1,000 indicator frame first).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

K = 5
XS = [f"x{j + 1}" for j in range(K)]
FILE_ROWS = 250_000


def write_factor_parquet(path: Path, rows: int, levels: int, seed: int = 2) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (path / "_done").exists() and (path / "_done").read_text().strip() == f"{rows} {levels}":
        return
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    eff = np.random.default_rng(seed).normal(scale=0.3, size=levels)
    names = np.array([f"L{v:04d}" for v in range(levels)])
    for i, start in enumerate(range(0, rows, FILE_ROWS)):
        m = min(FILE_ROWS, rows - start)
        rng = np.random.default_rng([seed, i])
        X = rng.standard_normal((m, K))
        g = rng.integers(0, levels, m)
        if i == 0:
            g[:levels] = np.arange(levels)
        y = rng.poisson(np.exp(0.2 + X @ np.linspace(-0.1, 0.1, K) + eff[g])).astype(float)
        cols = {"y": y} | {c: X[:, j] for j, c in enumerate(XS)} | {"g": names[g]}
        pq.write_table(pa.table(cols), path / f"part-{i:05d}.parquet", compression="NONE",
                       row_group_size=FILE_ROWS)
    (path / "_done").write_text(f"{rows} {levels}")


def _data_path(a, levels: int) -> Path:
    return Path(a.workdir) / f"factor{a.rows}_{levels}"


def phase_factor(a, levels: int) -> dict:
    """The formula fitted on Dask (LocalCluster 2 x 1), with worker memory."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import glmkit
    import glmkit.dask
    from benchmarks.dask_bench import PeakRSS

    path = _data_path(a, levels)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           memory_limit=a.worker_memory, dashboard_address=":0",
                           silence_logs=40)
    client = Client(cluster)
    client.run(lambda: __import__("glmkit.dask"))   # imports counted before the fit
    base = client.run(lambda: __import__("psutil").Process().memory_info().rss / 2**30)
    passes: list = []
    out: dict = {"levels": levels, "worker_base_gib": sorted(base.values(), reverse=True)}
    with PeakRSS(children=True) as mem:
        t0 = time.perf_counter()
        ddf = dd.read_parquet(str(path))
        model = glmkit.dask.glm("y ~ " + " + ".join(XS) + " + C(g)", ddf,
                                family=glmkit.families.Poisson(), client=client)
        out["model_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = model.fit(verbose=passes.append)
        out["fit_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        out["bse"] = res.bse.tolist()
        res.summary()
        out["stats_s"] = time.perf_counter() - t0
    out["params"] = res.params.tolist()
    out["deviance"] = res.deviance
    out["p"] = int(res.params.shape[0])
    out["raw_columns"] = int(model.data.source.raw["X"].shape[1])
    out["memory"] = mem.report()
    out["pass_log"] = passes
    irls = [p["seconds"] for p in passes if p["what"] == "IRLS"]
    out["per_pass_s"] = float(np.median(irls))
    out["n_fit_passes"] = sum(1 for p in passes[:len(passes)] if p["what"] in ("data", "IRLS"))
    client.close()
    cluster.close()
    return out


def phase_factor_inmem(a, levels: int = 1000) -> dict:
    """The oracle: the same model in memory on a SplitDesign (dense columns, level codes)."""
    import pyarrow.parquet as pq

    import glmkit
    from benchmarks.dask_bench import PeakRSS
    from glmkit.design import CategoricalDesign, DenseDesign, SplitDesign

    tab = pq.read_table(_data_path(a, levels))
    n = tab.num_rows
    X = np.column_stack([np.ones(n)] + [tab[c].to_numpy() for c in XS])
    g = tab["g"].to_pandas().astype("category")
    codes = g.cat.codes.to_numpy().astype(np.int32)
    y = tab["y"].to_numpy()
    del tab
    design = SplitDesign([DenseDesign(X), CategoricalDesign(codes, levels)])
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        res = glmkit.GLM(y, design, family=glmkit.families.Poisson()).fit()
        fit_s = time.perf_counter() - t0
    sweeps = len(res.fit_history["deviance"]) + int(sum(res.fit_history["step_halvings"]))
    return {"fit_s": fit_s, "passes": sweeps, "per_pass_s": fit_s / sweeps,
            "params": res.params.tolist(), "bse": res.bse.tolist(), "deviance": res.deviance,
            "memory": mem.report()}


def run(a, run_child) -> dict:
    """Write the data sets and run the phases in child processes."""
    out: dict = {}
    for levels in (20, 1000):
        t0 = time.perf_counter()
        write_factor_parquet(_data_path(a, levels), a.rows, levels)
        out[f"gen_{levels}_s"] = time.perf_counter() - t0
        out[f"dask_{levels}"] = run_child(f"factor{levels}", a)
    out["inmem_1000"] = run_child("factor_inmem", a)
    return out


def report(r: dict) -> list[str]:
    v = r.get("factor", {})
    L = ["## 4. A factor of 1,000 levels in a formula on a dask DataFrame", "",
         "`glmkit.dask.glm('y ~ x1 + ... + x5 + C(g)', dd.read_parquet(...))`, Poisson, "
         "5,000,000 rows in 20 Parquet files of 250,000 rows (y, x1..x5, g as text), "
         "LocalCluster of 2 worker processes x 1 thread, nothing persisted. Each partition "
         "holds the factor as one column of level codes (its indicator columns would be "
         "250,000 x 1,000 x 8 B = 1.9 GiB per partition). Oracle: the same model in memory "
         "on a SplitDesign (dense columns and the codes).", "",
         "| variant | columns of X (raw columns per partition) | fit (s) | passes | s / pass "
         "| worker RSS before the fit / peak (GiB) | largest relative difference from in "
         "memory |", "|---|---|---|---|---|---|---|"]
    ref = v.get("inmem_1000", {})
    for levels in (20, 1000):
        d = v.get(f"dask_{levels}", {})
        if not d or "error" in d:
            L.append(f"| Dask, {levels} levels | failed: {d.get('error', 'not run')} "
                     "| | | | | |")
            continue
        diff = ""
        if levels == 1000 and "params" in ref:
            dp = np.max(np.abs(np.subtract(d["params"], ref["params"])) / np.abs(ref["bse"]))
            db = np.max(np.abs(np.subtract(d["bse"], ref["bse"])) / np.abs(ref["bse"]))
            dd = abs(d["deviance"] - ref["deviance"]) / ref["deviance"]
            diff = f"params {dp:.1e} SE, bse {db:.1e}, deviance {dd:.1e}"
        fit_passes = sum(1 for p in d["pass_log"] if p["what"] in ("data", "IRLS"))
        L.append(f"| Dask, {levels} levels | {d['p']} ({d['raw_columns']}) | {d['fit_s']:.1f} | "
                 f"{fit_passes} | {d['per_pass_s']:.2f} | "
                 + ", ".join(f"{b:.2f}" for b in d["worker_base_gib"]) + " / "
                 + ", ".join(f"{x:.2f}" for x in d["memory"]["children_peak_gib"][:2])
                 + f" | {diff} |")
    if ref and "error" not in ref:
        L.append(f"| in memory, 1,000 levels (SplitDesign) | 1005 | {ref['fit_s']:.1f} | "
                 f"{ref['passes']} | {ref['per_pass_s']:.2f} | (driver {ref['memory']['driver_peak_gib']:.2f}) "
                 "| (the oracle) |")
    L += ["", "Notes:",
          "- *fit* starts from the model (the formula's levels and sample were read before); "
          "passes are the data pass and the IRLS sweeps; s / pass is the median IRLS pass.",
          "- Differences: params in units of the in-memory standard errors (both fits stop "
          "within 1e-8 standard errors of the maximum, from different subsample starts), "
          "bse and deviance relative.",
          "- Worker RSS: resident memory of each worker process after importing glmkit, and "
          "its peak during the fit and summary (sampled every 50 ms). A partition is 250,000 "
          "rows x 7 raw columns (56 B a row as floats, the codes included) whatever the "
          "number of levels; what does grow with the levels is the p x p Gram each task "
          "returns (1,005 x 1,005 x 8 B = 8 MB; a node of the reduction tree sums 8), the "
          "likely source of the few tens of MB between the two rows.",
          "- The Dask passes here also run, per partition, what the in-memory fit does once: "
          "text to categorical codes and formulaic's design of the other terms.",
          ""]
    return L
