"""Do parallel folds pay? fit_cv with n_jobs=1 (folds one after another, each sweep on
glmkit's row threads) against n_jobs=2 (two folds at once on threads, each sweep on its own
thread; BLAS at one thread throughout), interleaved rounds, wall and CPU time.

Usage: python benchmarks/cv_parallel.py [--rounds 3] [--out benchmarks/CV_PARALLEL.md]

Problems (binomial lasso, 10 folds, glmnet's default sequence): a small design whose fits
are bound by Python's per-call work (2,000 x 21), a middle one (50,000 x 51) and a large
one whose sweeps use two row threads in the serial run (100,000 x 101).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import glmkit.api as sm

PROBLEMS = {"small 2,000 x 21": (2_000, 20), "middle 50,000 x 51": (50_000, 50),
            "large 100,000 x 101": (100_000, 100)}


def make(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = sm.add_constant(rng.standard_normal((n, p)))
    beta = np.r_[0.2, rng.normal(0, 0.5, 10), np.zeros(p - 10)]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)
    return sm.GLM(y, X, family=sm.families.Binomial())


def timed(model, n_jobs: int) -> tuple[float, float, np.ndarray]:
    t0, c0 = time.perf_counter(), time.process_time()
    cv = model.fit_cv(n_folds=10, seed=1, n_jobs=n_jobs)
    return time.perf_counter() - t0, time.process_time() - c0, cv.cvm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", default=None, help="run the problems whose name contains this")
    args = ap.parse_args()
    rows = []
    for name, (n, p) in PROBLEMS.items():
        if args.only and args.only not in name:
            continue
        model = make(n, p)
        model.fit_cv(n_folds=3, n_alphas=3, seed=0)   # warm caches
        res: dict[int, list] = {1: [], 2: []}
        for _ in range(args.rounds):
            for jobs in (1, 2):   # interleaved: the machine's load hits both alike
                wall, cpu, cvm = timed(model, jobs)
                res[jobs].append((wall, cpu))
                if jobs == 1:
                    ref = cvm
                else:
                    assert np.allclose(cvm, ref, rtol=1e-12, atol=0), "answers differ"
        w1 = min(r[0] for r in res[1])
        w2 = min(r[0] for r in res[2])
        c1 = min(r[1] for r in res[1])
        c2 = min(r[1] for r in res[2])
        rows.append(f"| {name} | {w1:.2f} | {w2:.2f} | {w1 / w2:.2f} | {c1:.2f} | {c2:.2f} |")
        print(rows[-1], flush=True)
    load = os.getloadavg()
    text = ("| problem (binomial lasso, 10 folds) | n_jobs=1 wall s | n_jobs=2 wall s | "
            "speed-up | n_jobs=1 CPU s | n_jobs=2 CPU s |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows) + f"\n\nBest of {args.rounds} interleaved rounds; load average "
            f"at the end {load[0]:.1f} on {os.cpu_count()} cores.\n")
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# Parallel folds in fit_cv\n\n`python benchmarks/cv_parallel.py`\n\n"
                    + text)


if __name__ == "__main__":
    main()
