"""One Dask fit's median IRLS pass, for interleaved A/B runs against another checkout.

    PYTHONPATH=src:. python benchmarks/dask_pass_ab.py persisted|cluster|threads|inmem
    PYTHONPATH=/tmp/base/src:. python benchmarks/dask_pass_ab.py persisted   # the other code

Data: ``GLMKIT_AB_DATA`` (default /tmp/tb/p2m), written by
``benchmarks.dask_bench.write_parquet(path, 2_000_000, 250_000)``. Prints one JSON line
(median IRLS pass, every pass's seconds, the median IRLS pass's CPU seconds of this
process and its children, i.e. the client, scheduler and workers; load average). ``PERSIST=0/1`` passes
``fit(persist=...)`` (leave it unset for code without that keyword). Used for the A/B
note of DASK_RESULTS.md (5 rounds of main, this code and in memory, interleaved).
"""
import json
import os
import sys
import time

import numpy as np


def main():
    mode = sys.argv[1]
    path = os.environ.get("GLMKIT_AB_DATA", "/tmp/tb/p2m")
    import glmkit.api as sm
    from glmkit.dask import read_parquet_design
    from benchmarks.dask_bench import XCOLS
    passes = []
    if mode == "inmem":
        import pyarrow.parquet as pq
        tab = pq.read_table(path, columns=["y","off"]+XCOLS)
        X = np.column_stack([np.ones(tab.num_rows)] + [tab[c].to_numpy() for c in XCOLS])
        y, off = tab["y"].to_numpy(), tab["off"].to_numpy()
        m = sm.GLM(y, X, family=sm.families.Poisson(), offset=off); m.rank
        t0=time.perf_counter(); c0=time.process_time(); r = m.fit(); dt=time.perf_counter()-t0
        h = r.fit_history; k = len(h["deviance"]) + int(sum(h["step_halvings"]))
        print(json.dumps({"mode":mode,"per_pass":dt/k, "cpu": (time.process_time()-c0)/k, "dev": r.deviance}))
        return
    import dask
    client = None
    if mode in ("cluster", "persisted"):
        from distributed import Client, LocalCluster, wait
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="4GiB", dashboard_address=":0", silence_logs=40)
        client = Client(cluster)
    d = read_parquet_design(path, "y", XCOLS, offset="off")
    if mode == "persisted":
        keys = ("endog", "exog", "offset")
        d.update(zip(keys, client.persist([d[k] for k in keys]))); wait([d[k] for k in keys])
    ctx = dask.config.set(scheduler="threads") if mode == "threads" else dask.config.set({})
    with ctx:
        t0 = time.perf_counter()
        kw = {} if "PERSIST" not in os.environ else {"persist": os.environ["PERSIST"] != "0"}
        c0 = time.process_time()
        import psutil
        me = psutil.Process()

        def cpu_now():   # CPU seconds of this process and its workers (children)
            total = sum(me.cpu_times()[:2])
            for c in me.children(recursive=True):
                try:
                    total += sum(c.cpu_times()[:2])
                except psutil.Error:
                    pass
            return total

        mark = [cpu_now()]

        def seen(entry):
            now = cpu_now()
            passes.append({**entry, "cpu": now - mark[0]})
            mark[0] = now

        r = sm.GLM(family=sm.families.Poisson(), **d).fit(verbose=seen, **kw)
        cpu = time.process_time() - c0
        fit = time.perf_counter() - t0
    irls = [p["seconds"] for p in passes if p["what"] == "IRLS"]
    irls_cpu = [p["cpu"] for p in passes if p["what"] == "IRLS"]
    print(json.dumps({"mode": mode, "per_pass": float(np.median(irls)),
                      "per_pass_cpu": float(np.median(irls_cpu)), "irls": [round(x,3) for x in irls], "all": [(p["what"], round(p["seconds"],3)) + (("f32",) if p.get("float32_gram") else ()) for p in passes], "fit": fit, "fit_cpu_client": cpu, "dev": r.deviance, "load": os.getloadavg()[0]}))
    


if __name__ == '__main__':
    main()