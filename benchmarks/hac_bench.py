"""HAC covariance on a factor design: the design's lagged crosses against a dense copy.

    python -m benchmarks.hac_bench [--n 200000] [--maxlags 5 21] [--rounds 3]

The data are sparse_bench's factor workload (``y ~ C(f1) + C(f2) + x1 + x2``, factors of
50 and 300 levels, a SplitDesign of dense and categorical blocks). In each fresh process
the model is fitted once (not timed), then one HAC covariance is timed with its peak
resident memory above the RSS just before it (benchmarks/memory.py):

- ``design``: ``glmkit.inference.robust_cov(res, 'hac', maxlags=L)``, the meat from
  ``DesignMatrix.lagged_cross`` (level tables and level sums, no n x p array);
- ``dense_copy``: the path before it, ``X.to_dense()`` over the kept columns, the n x p
  scores and ``hac_meat`` on them (one n x p GEMM per lag), then the same bread.

Both covariances are compared (max relative difference). A last process times the HAC
meat alone (``design_hac_meat``, scores of a random u, the design's pairs of nonzeros
built first as a fit leaves them) on sparse_bench's CSR design of the
same rows (2,000 columns at 0.5 % plus 6 dense columns), where a dense copy (3.2 GB, and as
much again for the scores) is not run. Results go to benchmarks/HAC_RESULTS.md.
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
PATHS = ("design", "dense_copy")


def _dense_copy_cov(res, maxlags: int) -> np.ndarray:
    from glmkit.inference import hac_meat, score_weights

    keep = res._keep
    Xk = res.model.problem.X.to_dense()[:, keep]
    meat = hac_meat(Xk * score_weights(res)[:, None], maxlags)
    bread = res._normalized_cov[np.ix_(keep, keep)]
    cov = bread @ meat @ bread
    return 0.5 * (cov + cov.T)


def child(path: str, n: int, maxlags: int) -> dict:
    sys.path.insert(0, str(HERE.parent))
    import glmkit
    from benchmarks.memory import PeakSampler
    from benchmarks.sparse_bench import FORMULA, factor_data
    from glmkit.inference import robust_cov

    if path == "sparse_meat":
        return _sparse_meat(n, maxlags)
    res = glmkit.glm(FORMULA, factor_data(n), family=glmkit.families.Poisson()).fit()
    sampler = PeakSampler()
    with sampler:
        t0 = time.perf_counter()
        if path == "design":
            cov = robust_cov(res, "hac", maxlags=maxlags)
        else:
            cov = _dense_copy_cov(res, maxlags)
        seconds = time.perf_counter() - t0
    np.save(HERE / f".hac_{path}_{maxlags}.npy", cov)
    return {"seconds": seconds, "peak_mib": sampler.peak_above_baseline / 2**20,
            "p": int(res.model.problem.X.shape[1]),
            "design": type(res.model.problem.X).__name__}


def _sparse_meat(n: int, maxlags: int) -> dict:
    from benchmarks.memory import PeakSampler
    from benchmarks.sparse_bench import sparse_data
    from glmkit.design import SparseDesign
    from glmkit.inference import design_hac_meat

    X, _ = sparse_data(n)
    D = SparseDesign(X)
    u = np.random.default_rng(0).normal(size=n)
    D.sandwich(u * u)   # the pairs of nonzeros, as a fit leaves them (not timed)
    sampler = PeakSampler()
    with sampler:
        t0 = time.perf_counter()
        design_hac_meat(D, u, maxlags)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mib": sampler.peak_above_baseline / 2**20,
            "p": int(D.shape[1]), "design": "SparseDesign"}


NOTES = """Notes.

- The dense-copy path is what `cov_type='hac'` did before `DesignMatrix.lagged_cross`: the
  n x p design (563 MB here) and the n x p scores (as much again), then one n x p x p GEMM
  per lag. Its times vary with the machine's load (the other workers' jobs); the lagged
  crosses' few passes over the codes are hardly affected.
- The lagged crosses cost a bincount over the code pairs of the two factors and level sums
  of the numeric columns per lag (16 ordered pairs of blocks): about 0.05 s per lag at 200k
  rows; their memory is the p x p meats and per-lag vectors of n values."""


def _run_child(path: str, n: int, maxlags: int) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.hac_bench", "--child", path, str(n), str(maxlags)]
    proc = subprocess.run(cmd, cwd=HERE.parent, env=dict(os.environ), capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--maxlags", type=int, nargs="+", default=[5, 21])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", nargs=3, metavar=("PATH", "N", "MAXLAGS"))
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child[0], int(a.child[1]), int(a.child[2]))))
        return
    load0, t0 = os.getloadavg()[0], time.time()
    runs: dict = {(p, L): [] for L in a.maxlags for p in PATHS}
    info: dict = {}
    for _ in range(a.rounds):
        for L in a.maxlags:
            for p in PATHS:   # interleaved
                r = _run_child(p, a.n, L)
                print(p, L, r, flush=True)
                if "error" not in r:
                    runs[(p, L)].append(r)
                    info = r
    diffs = {}
    for L in a.maxlags:
        A, B = (np.load(HERE / f".hac_{p}_{L}.npy") for p in PATHS)
        diffs[L] = float(np.abs(A - B).max() / np.abs(B).max())
        for p in PATHS:
            (HERE / f".hac_{p}_{L}.npy").unlink()
    lines = ["# HAC covariance on a factor design: lagged crosses against a dense copy", "",
             f"Generated by `python -m benchmarks.hac_bench` on {time.strftime('%Y-%m-%d')}: "
             f"sparse_bench's factor workload, {a.n:,} rows, `{info.get('design')}` with "
             f"p = {info.get('p')} (factors of 50 and 300 levels, intercept, two numeric "
             f"columns), Poisson fit untimed; {a.rounds} interleaved rounds, each a fresh "
             f"process, on a 2-core machine shared with other jobs (load average "
             f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
             f"{(time.time() - t0) / 60:.0f} min). Medians; memory is the peak resident set "
             "above the one just before the covariance.", "",
             "| maxlags | lagged crosses (s) | dense copy (s) | time ratio | lagged crosses "
             "peak MiB | dense copy peak MiB | max rel. diff |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for L in a.maxlags:
        t = [float(np.median([r["seconds"] for r in runs[(p, L)]])) for p in PATHS]
        m = [float(np.median([r["peak_mib"] for r in runs[(p, L)]])) for p in PATHS]
        lines.append(f"| {L} | {t[0]:.3f} | {t[1]:.2f} | {t[0] / t[1]:.3f} | {m[0]:.0f} | "
                     f"{m[1]:.0f} | {diffs[L]:.1e} |")
    sp = _run_child("sparse_meat", a.n, a.maxlags[0])
    if "error" not in sp:
        lines += ["", f"Sparse: the HAC meat of sparse_bench's CSR design, {a.n:,} x "
                  f"{sp['p']:,} (0.5 % nonzero plus 6 dense columns), maxlags "
                  f"{a.maxlags[0]}, from the lagged crosses (one sparse product of CSR row "
                  f"ranges per lag): {sp['seconds']:.2f} s, peak {sp['peak_mib']:.0f} MiB "
                  "(a dense copy would be 3.2 GB before the scores)."]
    lines += ["", NOTES, "", "Per run (seconds / peak MiB):", ""]
    for (p, L), rs in runs.items():
        lines.append(f"- {p}, maxlags {L}: "
                     + ", ".join(f"{r['seconds']:.3f} s / {r['peak_mib']:.0f} MiB" for r in rs))
    (HERE / "HAC_RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
