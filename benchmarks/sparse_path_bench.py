"""The lasso path on a wide sparse design, glmkit against glum: time and peak memory.

    python -m benchmarks.sparse_path_bench --rows 1000000 --cols 2000 [--rounds 1]

The issue's sparse problem (issue 12): a binomial response on a CSR design of ``--rows``
x ``--cols`` at 0.5% non-zeros (standard normal values, 20 true non-zero coefficients;
path_bench._sparse_problem), plus a free intercept. Each library runs in a fresh process
(child mode) and fits the path at the same alphas: glmkit's default sequence (glmnet's),
ended where glmnet ends it, computed once in the parent. Time: wall and CPU seconds of the
model construction and the path. Memory: the peak resident set above the RSS just before
(benchmarks/memory.py), against the bytes of the CSR matrix (data, indices, indptr).
Rounds alternate the libraries (glmkit, glum, glmkit, ...). Prints a Markdown table.
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

HERE = Path(__file__).parent


def _data(rows: int, cols: int):
    from benchmarks.path_bench import _sparse_problem

    return _sparse_problem(rows, cols, 0.005)


def child(lib: str, rows: int, cols: int, alphas_file: str, gradient_tol: float) -> dict:
    sys.path.insert(0, str(HERE.parent))
    from benchmarks.memory import PeakSampler

    X, y = _data(rows, cols)
    alphas = np.load(alphas_file) if alphas_file else None
    if lib == "glmkit":
        import scipy.sparse as sp

        import glmkit.api as sm
    else:
        from glum import GeneralizedLinearRegressor
    sampler = PeakSampler()
    with sampler:
        t0, c0 = time.perf_counter(), time.process_time()
        if lib == "glmkit":
            Xc = sp.hstack([sp.csr_matrix(np.ones((rows, 1))), X], format="csr")
            path = sm.GLM(y, Xc, family=sm.families.Binomial()).fit_path(alphas=alphas)
            out = {"alphas": len(path.alphas), "kkt": float(path.kkt.max()),
                   "df": int(path.df[-1])}
        else:
            g = GeneralizedLinearRegressor(family="binomial", l1_ratio=1.0, alpha_search=True,
                                           alpha=list(alphas), gradient_tol=gradient_tol,
                                           max_iter=1000)
            g.fit(X, y)
            out = {"alphas": len(alphas), "df": int(np.sum(g.coef_ != 0))}
        out["seconds"] = time.perf_counter() - t0
        out["cpu"] = time.process_time() - c0
    out["peak_mib"] = sampler.peak_above_baseline / 2**20
    out["design_mib"] = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--gradient-tol", type=float, default=1e-4, help="glum's")
    ap.add_argument("--child", nargs=2, metavar=("LIB", "ALPHAS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        res = child(args.child[0], args.rows, args.cols, args.child[1], args.gradient_tol)
        print("@@" + json.dumps(res))
        return
    sys.path.insert(0, str(HERE.parent))
    import scipy.sparse as sp

    import glmkit.api as sm

    X, y = _data(args.rows, args.cols)   # the alphas: glmkit's default sequence, once
    Xc = sp.hstack([sp.csr_matrix(np.ones((args.rows, 1))), X], format="csr")
    alphas = sm.GLM(y, Xc, family=sm.families.Binomial()).fit_path().alphas
    afile = f"/tmp/sparse_path_alphas_{os.getpid()}.npy"
    np.save(afile, alphas)
    rows = []
    for r in range(args.rounds):
        for lib in ("glmkit", "glum"):
            cmd = [sys.executable, "-m", "benchmarks.sparse_path_bench", "--rows",
                   str(args.rows), "--cols", str(args.cols), "--gradient-tol",
                   str(args.gradient_tol), "--child", lib, afile]
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent,
                               check=False)
            line = [ln for ln in p.stdout.splitlines() if ln.startswith("@@")]
            res = json.loads(line[-1][2:]) if line else {"error": p.stderr[-300:]}
            res.update(lib=lib, round=r, load=os.getloadavg()[0])
            rows.append(res)
            print(json.dumps(res), flush=True)
    os.unlink(afile)
    print("\n| library | seconds | CPU s | peak MiB above baseline | design MiB | peak / design "
          "| alphas | load |\n|---|---|---|---|---|---|---|---|")
    for res in rows:
        if "error" in res:
            print(f"| {res['lib']} | error: {res['error']!r} |")
            continue
        print(f"| {res['lib']} | {res['seconds']:.1f} | {res['cpu']:.1f} | "
              f"{res['peak_mib']:.0f} | {res['design_mib']:.0f} | "
              f"{res['peak_mib'] / res['design_mib']:.2f} | {res['alphas']} | "
              f"{res['load']:.1f} |")


if __name__ == "__main__":
    main()
