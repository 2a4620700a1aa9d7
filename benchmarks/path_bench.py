"""A 100-alpha lasso path on a benchmark problem: glmkit against glum at matched accuracy.

    python -m benchmarks.path_bench --problem b --rows 100000

Not part of ``./run bench`` yet (issue 12 asks for path and CV rows beside the unpenalized
ones; this script is the seed of those rows). Both libraries fit the same objective,
deviance / (2N) + alpha |b|_1 with a free intercept, along glmnet's default sequence
(alpha_max from the null model, ratio 1e-4, 100 values). Accuracy is judged by one yardstick:
the largest KKT violation at each alpha, computed with glmkit's score (every 10th alpha for
glum). Times are wall-clock seconds of one run; run on a quiet machine.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks import problemdata


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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problem", default="b")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--glum-tol", type=float, nargs="*", default=[1e-4, 1e-8])
    args = ap.parse_args(argv)

    import glmkit.api as sm

    spec = problemdata.problem_spec(args.problem)
    spec["n"] = min(spec["n"], args.rows)
    data = problemdata.generate_spec(spec)
    X, y = data["X"], data["y"]
    fam = {"binomial": sm.families.Binomial, "poisson": sm.families.Poisson}[spec["family"]]
    model = sm.GLM(y, sm.add_constant(X), family=fam())
    t = time.perf_counter()
    path = model.fit_path()
    tk = time.perf_counter() - t
    const = np.zeros(X.shape[1] + 1, dtype=bool)
    const[0] = True
    print(f"problem {args.problem}, {X.shape[0]:,} x {X.shape[1]}: glmkit {tk:.2f} s, "
          f"{path.n_sweeps.sum()} X'WX sweeps + {path.n_passes.sum() - path.n_sweeps.sum()} "
          f"score passes, KKT max {path.kkt.max():.1e}", flush=True)
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError:
        print("glum not installed: pip install glum")
        return
    for tol in args.glum_tol:
        g = GeneralizedLinearRegressor(family=spec["family"], l1_ratio=1.0, alpha_search=True,
                                       n_alphas=100, min_alpha_ratio=1e-4, gradient_tol=tol,
                                       max_iter=1000)
        t = time.perf_counter()
        g.fit(X, y)
        tg = time.perf_counter() - t
        B = np.column_stack([g.intercept_path_, g.coef_path_])
        idx = np.arange(0, B.shape[0], 10)
        kkt = _kkt(model, B[idx], np.asarray(g._alphas)[idx], const, float(X.shape[0]))
        print(f"glum gradient_tol={tol:g}: {tg:.2f} s, KKT max (every 10th alpha) {kkt:.1e}; "
              f"glmkit / glum time {tk / tg:.2f}", flush=True)


if __name__ == "__main__":
    main()
