"""Zero-inflated Poisson at n rows (10 count columns, 5 zero-model columns): glmkit's
zeroinfl against pscl::zeroinfl (R; the time measured inside R) and statsmodels'
ZeroInflatedPoisson (its default method, bfgs, with maxiter raised so that it converges).

    PYTHONPATH=src python benchmarks/zeroinfl_bench.py [n] [repeat]

Writes the data to a temporary CSV for R and runs benchmarks/zeroinfl_bench.R on it
(skipped if Rscript or pscl is missing).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd


def make(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 9))
    Z = X[:, :4]
    b = np.linspace(-0.3, 0.3, 9)
    mu = np.exp(0.5 + X @ b)
    pi = 1 / (1 + np.exp(-(-0.5 + Z @ np.array([0.5, -0.5, 0.3, 0.0]))))
    y = np.where(rng.random(n) < pi, 0, rng.poisson(mu))
    d = pd.DataFrame(X, columns=[f"x{j}" for j in range(1, 10)])
    d["y"] = y
    return d


FORMULA = "y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 | x1 + x2 + x3 + x4"


def time_glmkit(d, repeat):
    import glmkit
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        res = glmkit.zeroinfl(FORMULA, d)
        times.append(time.perf_counter() - t)
    return min(times), times, res


def time_statsmodels(d, repeat):
    from statsmodels.discrete.count_model import ZeroInflatedPoisson
    X = np.column_stack([np.ones(len(d)), d[[f"x{j}" for j in range(1, 10)]].to_numpy()])
    Z = X[:, :5]
    times = []
    for _ in range(repeat):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            r = ZeroInflatedPoisson(d["y"].to_numpy(), X, exog_infl=Z).fit(
                disp=0, maxiter=1000)
            times.append(time.perf_counter() - t)
    return min(times), times, r


def time_r(d, repeat):
    here = os.path.dirname(os.path.abspath(__file__))
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "zi.csv")
        d.to_csv(path, index=False)
        out = subprocess.run(["Rscript", os.path.join(here, "zeroinfl_bench.R"), path,
                              str(repeat)], capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")]
    if not lines:
        print(out.stderr[-2000:])
        return None
    _, t, llf = lines[0].split()
    return float(t), float(llf)


def main(n: int = 500_000, repeat: int = 3) -> None:
    d = make(n)
    t_g, all_g, res = time_glmkit(d, repeat)
    print(f"glmkit zeroinfl n={n}: {t_g:.2f} s (runs: {', '.join(f'{v:.2f}' for v in all_g)}),"
          f" {res.n_iter} Newton iterations, converged={res.converged}, llf={res.llf:.6f}")
    t_s, all_s, r = time_statsmodels(d, max(1, repeat - 1))
    print(f"statsmodels ZeroInflatedPoisson: {t_s:.2f} s (runs: "
          f"{', '.join(f'{v:.2f}' for v in all_s)}), converged="
          f"{r.mle_retvals.get('converged')}, llf - glmkit = {r.llf - res.llf:.2e}")
    rr = time_r(d, max(1, repeat - 1))
    if rr is not None:
        print(f"pscl zeroinfl (inside R): {rr[0]:.2f} s, logLik - glmkit = {rr[1] - res.llf:.2e}")
        print(f"ratios glmkit / pscl = {t_g / rr[0]:.3f}, glmkit / statsmodels = {t_g / t_s:.3f}")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
