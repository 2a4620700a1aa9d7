"""Formula building on the factor workload of issue 17: glmkit against glum's tabmat path.

    python -m benchmarks.formula_bench [--n 200000] [--rounds 7] [--base /tmp/base/src]

The data are benchmarks.sparse_bench's factor workload (factors of 50 and 300 levels as
pandas categoricals, two numeric columns, a Poisson count; fixed seeds). Steps timed:

- ``first`` and ``build``: the model from the formula, the first time in the process
  (after a build of another formula on other data, so that imports and formulaic's
  first-use work are not in it) and again (glmkit keeps the spec and plan of recent
  formulas). glmkit: ``GLM.from_formula(FORMULA, df, family=Poisson())`` (response,
  design and model checks); tabmat: what glum's ``fit`` does with ``formula=`` (glum's
  ``parse_formula``, then ``tabmat.from_formula`` for the response and for the design,
  ``drop_first``); ``tabmat.from_pandas`` on the four columns is given beside it (no
  formula, no response).
- ``rows``: the design of 10,000 new rows. glmkit: ``model.exog_for_predict(new)`` (the
  dense rows, statsmodels' contract) and ``formula_info.design_matrix_for(new)`` (what
  ``predict`` uses: the factors as categorical blocks); tabmat: the fitted spec's
  ``get_model_matrix(new)`` (what glum's ``predict`` does).

Each (implementation, round) runs in a fresh process; ``first`` is one call, the other
steps the median of ``--reps`` calls; rounds interleave the implementations (A/B/A/B).
``--base`` adds another glmkit source tree (main's, say) as a third implementation.
Wall time (time.perf_counter) and CPU
time (time.process_time) are both given, with the load average when each round began.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics as st
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM_FORMULA = "y ~ C(f1) + x1"


def _timed(fn, reps: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return st.median(wall), st.median(cpu)


def child(impl: str, n: int, reps: int) -> dict:
    sys.path.insert(0, str(HERE.parent))
    from benchmarks.sparse_bench import FORMULA, factor_data

    df = factor_data(n)
    new = factor_data(10_000, seed=2, rows=10_000)
    warm = factor_data(2_000, seed=9)     # first-use work on another formula and frame
    out: dict = {}
    if impl == "tabmat":
        import tabmat
        from glum._formula import parse_formula

        def build(formula=FORMULA, data=df):
            lhs, rhs = parse_formula(formula, include_intercept=True)
            y = tabmat.from_formula(formula=lhs, data=data, include_intercept=False)
            y.toarray().ravel()
            return tabmat.from_formula(formula=rhs, data=data, include_intercept=False,
                                       ensure_full_rank=True, add_column_for_intercept=False)

        build(WARM_FORMULA, warm)
        out["first"] = _timed(build, 1)
        spec = build().model_spec
        out["build"] = _timed(build, reps)
        out["from_pandas"] = _timed(
            lambda: tabmat.from_pandas(df[["f1", "f2", "x1", "x2"]], drop_first=True), reps)
        out["rows"] = _timed(lambda: spec.get_model_matrix(new), reps)
        return out
    import glmkit

    fam = glmkit.families.Poisson()
    glmkit.GLM.from_formula(WARM_FORMULA, warm, family=fam)
    out["first"] = _timed(lambda: glmkit.GLM.from_formula(FORMULA, df, family=fam), 1)
    model = glmkit.GLM.from_formula(FORMULA, df, family=fam)
    out["build"] = _timed(lambda: glmkit.GLM.from_formula(FORMULA, df, family=fam), reps)
    out["rows_dense"] = _timed(lambda: model.exog_for_predict(new), reps)
    info = model.formula_info
    if hasattr(info, "design_matrix_for"):
        out["rows"] = _timed(lambda: info.design_matrix_for(new), reps)
    out["codes_plan"] = info.codes_plan is not None
    return out


def _run(impl: str, src: str | None, n: int, reps: int) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    cmd = [sys.executable, "-m", "benchmarks.formula_bench", "--child", impl, "--n", str(n),
           "--reps", str(reps)]
    res = subprocess.run(cmd, env=env, cwd=HERE.parent, capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--src", default=str(HERE.parent / "src"), help="glmkit's source tree")
    ap.add_argument("--base", default=None, help="another glmkit source tree (main's)")
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.reps)))
        return
    impls = [("glmkit", args.src), ("tabmat", args.src)]
    if args.base:
        impls.insert(1, ("glmkit-base", args.base))
    rows: dict[str, list[dict]] = {name: [] for name, _ in impls}
    loads = []
    for r in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for name, src in impls:
            rows[name].append(_run(name if name == "tabmat" else "glmkit", src, args.n,
                                   args.reps))
        print(f"round {r + 1}/{args.rounds} done (load {loads[-1]:.2f})", file=sys.stderr)
    summary = {}
    for name, results in rows.items():
        for step in sorted({k for res in results for k in res if k != "codes_plan"}):
            w = st.median(res[step][0] for res in results)
            c = st.median(res[step][1] for res in results)
            summary[f"{name} {step}"] = (w, c)
            print(f"{name:12s} {step:12s} wall {w * 1e3:7.2f} ms   CPU {c * 1e3:7.2f} ms")
    for step in ("first", "build"):
        g, t = summary[f"glmkit {step}"], summary[f"tabmat {step}"]
        print(f"{step} glmkit/tabmat: wall {g[0] / t[0]:.2f}, CPU {g[1] / t[1]:.2f}")
    if "glmkit rows" in summary:
        g, t = summary["glmkit rows"], summary["tabmat rows"]
        print(f"rows (blocks) glmkit/tabmat: wall {g[0] / t[0]:.2f}, CPU {g[1] / t[1]:.2f}")
    print(f"load average (1 min) at the rounds' starts: {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    main()
