"""A 100-alpha lasso path and a 10-fold CV on a benchmark problem: glmkit, R's glmnet, glum
and scikit-learn in one run, at accuracies measured on one yardstick.

    python -m benchmarks.path_bench --problem b --rows 100000 [--no-cv] [--out PATH_RESULTS.md]

Every library fits the same objective, deviance / (2N) + alpha |b|_1 with a free
intercept, at glmkit's default sequence (glmnet's: alpha_max from the null model, ratio
1e-4, up to 100 values, ended where glmnet ends it; glmnet gets it as its lambda). Accuracy: the largest KKT violation at every 10th
alpha, from glmkit's score at each library's coefficients. glmnet runs in Rscript and its
time is measured inside R (proc.time around the fit, after the data is read); the others
are wall-clock seconds of one run in this process. The CV rows use the same 10 folds
(glmkit's foldid) for every library. Writes (or, with --append, adds to) the results file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import problemdata

HERE = Path(__file__).parent


def _kkt(model, params: np.ndarray, alphas: np.ndarray, const: np.ndarray, n: float) -> float:
    from glmkit.solvers.penalized import Penalty, kkt_violations

    p = params.shape[1]
    f = np.where(const, 0.0, 1.0)   # the lasso with a free intercept
    worst = 0.0
    inf = np.full(p, np.inf)
    for a, b in zip(alphas, params):
        score = np.asarray(model.score(b, scale=1.0))
        pen = Penalty(a * f, 0.0 * f, -inf, inf)
        worst = max(worst, float(kkt_violations(score, b, n, pen).max()))
    return worst


def _run_glmnet(X, y, family, alphas, foldid, thresh, do_cv, timeout):
    if shutil.which("Rscript") is None:
        return None, "Rscript not found"
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, "d")
        if hasattr(X, "tocoo"):   # scipy.sparse: triplets, 1-based
            C = X.tocoo()
            (C.row + 1).astype(np.int32).tofile(pre + ".i.bin")
            (C.col + 1).astype(np.int32).tofile(pre + ".j.bin")
            C.data.astype(float).tofile(pre + ".v.bin")
        else:
            np.asfortranarray(X).T.tofile(pre + ".X.bin")     # column-major n x p
        np.asarray(y, dtype=float).tofile(pre + ".y.bin")
        np.asarray(alphas, dtype=float).tofile(pre + ".lambda.bin")
        np.asarray(foldid, dtype=np.int32).tofile(pre + ".foldid.bin")
        cmd = ["Rscript", str(HERE / "r_glmnet_path.R"), pre, family, str(X.shape[0]),
               str(X.shape[1]), repr(thresh), "1" if do_cv else "0"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"timeout {timeout:.0f} s"
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("@@")]
    if not lines:
        return None, (out.stderr.strip().splitlines() or ["no output"])[-1]
    return json.loads(lines[-1][2:]), ""


def _sparse_problem(n: int, p: int, density: float, seed: int = 7):
    """A binomial problem on a CSR design with ``density`` non-zeros (standard normal),
    20 true non-zero coefficients."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    beta = np.zeros(p)
    beta[rng.choice(p, 20, replace=False)] = rng.normal(0, 1.0, 20)
    eta = -0.3 + X @ beta
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def _sklearn_path(X, y, alphas, budget):
    import sklearn
    from sklearn.linear_model import LogisticRegression

    n = X.shape[0]
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    # scikit-learn 1.8 deprecates penalty= in favour of l1_ratio=
    lasso = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}
    clf = LogisticRegression(solver="saga", warm_start=True, tol=1e-4, max_iter=1000,
                             **lasso)
    rows, t0 = [], time.perf_counter()
    for a in alphas:
        clf.set_params(C=1.0 / (n * a))
        clf.fit(X, y)
        rows.append(np.concatenate([clf.intercept_, clf.coef_.ravel()]))
        if time.perf_counter() - t0 > budget:
            break
    return np.array(rows), time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problem", default="b",
                    help="a problem of shared/bench/problems.py, or 'sparse' (binomial, "
                         "--sparse-cols columns of --density non-zeros)")
    ap.add_argument("--sparse-cols", type=int, default=2000)
    ap.add_argument("--density", type=float, default=0.005)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--glum-tol", type=float, nargs="*", default=[1e-4, 1e-8])
    ap.add_argument("--glmkit-tol", type=float, nargs="*", default=[1e-6],
                    help="extra glmkit paths at these KKT tolerances (the first row: 1e-10)")
    ap.add_argument("--glmnet-thresh", type=float, nargs="*", default=[1e-7, 1e-12])
    ap.add_argument("--sklearn-budget", type=float, default=120.0,
                    help="seconds for scikit-learn's path (0: skip it)")
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--out", default=str(HERE / "PATH_RESULTS.md"))
    ap.add_argument("--append", action="store_true")
    args = ap.parse_args(argv)

    import glmkit.api as sm

    if args.problem == "sparse":
        spec = {"family": "binomial"}
        X, y = _sparse_problem(args.rows, args.sparse_cols, args.density)
    else:
        spec = problemdata.problem_spec(args.problem)
        spec["n"] = min(spec["n"], args.rows)
        data = problemdata.generate_spec(spec)
        X, y = data["X"], data["y"]
    n, p = X.shape
    fam = {"binomial": sm.families.Binomial, "poisson": sm.families.Poisson}[spec["family"]]
    if hasattr(X, "tocsr"):
        import scipy.sparse as sp

        Xc = sp.hstack([sp.csr_matrix(np.ones((n, 1))), X], format="csr")
    else:
        Xc = sm.add_constant(X)
    model = sm.GLM(y, Xc, family=fam())
    const = np.zeros(p + 1, dtype=bool)
    const[0] = True
    rows: list[tuple] = []   # (library, task, seconds, KKT, note)

    def report(lib, task, secs, kkt, note=""):
        rows.append((lib, task, secs, kkt, note))
        print(f"{lib:28s} {task:5s} {secs:9.2f} s  KKT {kkt:8.1e}  {note}", flush=True)

    t = time.perf_counter()
    path = model.fit_path()
    tk = time.perf_counter() - t
    alphas = path.alphas
    report("glmkit", "path", tk, float(path.kkt.max()),
           f"{path.n_sweeps.sum()} X'WX sweeps + {path.n_passes.sum() - path.n_sweeps.sum()} "
           "score passes")
    for tol in args.glmkit_tol:   # looser stops, for comparison with glmnet's default
        t = time.perf_counter()
        loose = model.fit_path(alphas=alphas, tol=tol)
        report(f"glmkit tol={tol:g}", "path", time.perf_counter() - t,
               float(loose.kkt.max()), f"{loose.n_passes.sum()} passes")
    idx = np.arange(0, alphas.size, 10)
    foldid = np.random.default_rng(0).permutation(np.resize(np.arange(1, args.folds + 1), n))
    cv = None
    if not args.no_cv:
        t = time.perf_counter()
        cv = model.fit_cv(alphas=alphas, foldid=foldid)
        report("glmkit", "cv", time.perf_counter() - t, float(path.kkt.max()),
               f"{args.folds} folds; fold fits converged: {bool(cv.fold_converged.all())}")
    for k, thresh in enumerate(args.glmnet_thresh):
        # cv.glmnet at the first (glmnet's default) thresh only: it is 11 paths
        res, why = _run_glmnet(X, y, spec["family"], alphas, foldid, thresh,
                               not args.no_cv and k == 0, timeout=3600)
        if res is None:
            print(f"glmnet skipped: {why}")
            break
        B = np.array(res["coef"]).reshape(len(res["idx"]), p + 1)
        kkt = _kkt(model, B, alphas[res["idx"]], const, float(n))
        report(f"glmnet {res['glmnet']} thresh={thresh:g}", "path", res["path_seconds"], kkt)
        if res["cv_seconds"] >= 0 and cv is not None:
            diff = float(np.max(np.abs(np.array(res["cvm"]) - cv.cvm) / cv.cvm))
            report(f"glmnet {res['glmnet']} thresh={thresh:g}", "cv", res["cv_seconds"], kkt,
                   f"cvm vs glmkit: {diff:.1e} relative")
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError:
        print("glum not installed: pip install glum")
    else:
        for tol in args.glum_tol:
            g = GeneralizedLinearRegressor(family=spec["family"], l1_ratio=1.0,
                                           alpha_search=True, alpha=list(alphas), gradient_tol=tol,
                                           max_iter=1000)
            t = time.perf_counter()
            g.fit(X, y)
            tg = time.perf_counter() - t
            B = np.column_stack([g.intercept_path_, g.coef_path_])
            kkt = _kkt(model, B[idx], alphas[idx], const, float(n))
            report(f"glum gradient_tol={tol:g}", "path", tg, kkt)
    if spec["family"] == "binomial" and args.sklearn_budget > 0:
        try:
            B, ts = _sklearn_path(X, y, alphas, args.sklearn_budget)
        except ImportError:
            print("scikit-learn not installed")
        else:
            k = B.shape[0]
            sub = idx[idx < k]
            kkt = _kkt(model, B[sub], alphas[sub], const, float(n))
            note = "" if k == alphas.size else \
                f"stopped after {k} of {alphas.size} alphas (budget {args.sklearn_budget:g} s)"
            report("scikit-learn saga tol=1e-4", "path", ts, kkt, note)
    _write(args, spec, n, p, rows, alphas)


def _write(args, spec, n, p, rows, alphas_done) -> None:
    by = {(lib, task): secs for lib, task, secs, _, _ in rows}
    ours = {task: by[("glmkit", task)] for task in ("path", "cv") if ("glmkit", task) in by}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    kind = f"sparse, {args.density:g} non-zero, " if args.problem == "sparse" else ""
    head = (f"\n## problem {args.problem}: {spec['family']} {n:,} x {p} ({kind}lasso, "
            f"{len(alphas_done)} alphas; "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
            f"load {load:.1f}, {platform.python_version()})\n\n"
            "| library | task | seconds | glmkit / library | largest KKT violation | note |\n"
            "|---|---|---|---|---|---|\n")
    lines = [f"| {lib} | {task} | {secs:.2f} | "
             f"{ours[task] / secs if task in ours and secs > 0 else float('nan'):.2f} | "
             f"{kkt:.1e} | {note} |" for lib, task, secs, kkt, note in rows]
    out = Path(args.out)
    text = "\n".join(lines) + "\n"
    if args.append and out.exists():
        out.write_text(out.read_text() + head + text)
    else:
        out.write_text(_PREAMBLE + head + text)
    print(f"wrote {out}")


_PREAMBLE = """# Penalized paths and cross-validation: glmkit beside glmnet, glum, scikit-learn

Written by `python -m benchmarks.path_bench` (see its docstring for the method). Every
library fits deviance / (2N) + alpha |b|_1 with a free intercept at the same alphas
(glmkit's default sequence, which is glmnet's);
"largest KKT violation" is measured with glmkit's score at each library's coefficients
(every 10th alpha), so rows at different tolerances can be compared. glmkit stops at
KKT <= 1e-10. glmnet is timed inside R (`proc.time` around `glmnet()` / `cv.glmnet()`).
The CV rows use the same foldid. Times on a shared machine vary by +-30% between runs.
"""


if __name__ == "__main__":
    main()
