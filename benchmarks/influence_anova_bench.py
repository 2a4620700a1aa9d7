"""Influence measures and anova on the factor workload (issue 17): time, CPU time and peak
traced memory of one statistic, in a fresh process, against the design's own bytes.

    PYTHONPATH=src python -m benchmarks.influence_anova_bench [--n 200000] [--what hat]

``--what``: hat (get_influence().hat_matrix_diag), cooks (cooks_distance), d_linpred,
anova (sequential, test='F'), anova_rao (sequential, test='Rao'). Prints one JSON line.
Peak memory is tracemalloc's peak over the call (numpy reports its buffers to it).
"""
from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np

from benchmarks.sparse_bench import FORMULA, factor_data


def _call(res, what: str):
    import glmkit

    if what == "hat":
        return res.get_influence().hat_matrix_diag
    if what == "cooks":
        return res.get_influence().cooks_distance[0]
    if what == "d_linpred":
        return res.get_influence().d_linpred
    if what == "anova":
        return glmkit.anova(res, test="F")
    if what == "anova_rao":
        return glmkit.anova(res, test="Rao")
    raise ValueError(f"unknown --what {what!r}")


def main() -> None:
    import glmkit

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--what", default="hat")
    args = ap.parse_args()
    df = factor_data(args.n)
    res = glmkit.glm(FORMULA, df, family=glmkit.families.Poisson()).fit()
    X = res.model.problem.X
    tracemalloc.start()
    w0, c0 = time.perf_counter(), time.process_time()
    out = _call(res, args.what)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    check = float(np.nansum(np.asarray(out, dtype=float)))
    print(json.dumps({"what": args.what, "n": args.n, "design": type(X).__name__,
                      "design_MiB": X.nbytes / 2**20, "dense_MiB": 8 * X.shape[0] * X.shape[1] / 2**20,
                      "wall_s": wall, "cpu_s": cpu, "peak_MiB": peak / 2**20, "check": check}))


if __name__ == "__main__":
    main()
