"""glmkit's benchmark suite, one command (from the repository root):

    python -m benchmarks.run [--problems a,b,...] [--repeats N] [--quick] [--libs ...]
                             [--timeout S] [--budget S] [--no-scaling] [--scaling-only]

Fits problems a, b, c, d, e, e_small, f of ``shared/bench/problems.py`` with glmkit, glum,
scikit-learn, statsmodels and R's glm.fit (when ``Rscript`` is on PATH), each (library,
problem) in a fresh child process; checks every library against a cached tight reference;
times glmkit's lower bound (its iterations x one X'WX + X @ b); measures problem f refits and
one-row prediction latency; runs the n and p scaling study. Writes benchmarks/RESULTS.md,
benchmarks/results.json, benchmarks/scaling.csv and benchmarks/scaling.png.

``--quick`` runs small versions (smoke test) and writes into benchmarks/.cache/ instead, so it
never overwrites the real results. Libraries that are not installed are skipped with a
reason. See the Method section of RESULTS.md for what is measured and how.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import harness, libs
from . import problemdata as pdata


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", default=",".join(pdata.PROBLEM_NAMES),
                    help="comma-separated subset of " + ",".join(pdata.PROBLEM_NAMES))
    ap.add_argument("--libs", default=",".join(libs.ALL_LIBS),
                    help="comma-separated subset of " + ",".join(libs.ALL_LIBS))
    ap.add_argument("--repeats", type=int, default=None,
                    help="fits per (library, problem); median reported (default 3, quick 1)")
    ap.add_argument("--quick", action="store_true",
                    help="small problem sizes, smoke test (outputs under benchmarks/.cache/)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per single fit")
    ap.add_argument("--budget", type=float, default=None,
                    help="stop repeating a (library, problem) after this many fit-seconds "
                         "(default 120, quick 10)")
    ap.add_argument("--f-refits", type=int, default=None,
                    help="fits of problem f (default 300, quick 10)")
    ap.add_argument("--fresh", action="store_true",
                    help="with --quick: still one fresh child per (library, problem)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling study")
    ap.add_argument("--scaling-only", action="store_true", help="only the scaling study")
    ap.add_argument("--quiet-wait", type=float, default=None,
                    help="before each timed fit wait up to this many seconds for other processes "
                         "to leave the CPU (default 120, quick 0)")
    ap.add_argument("--threads", type=int, default=None,
                    help="pin BLAS/OpenMP threads in the children (default: libraries' defaults)")
    ap.add_argument("--merge", action="store_true",
                    help="replace only the problems (and scaling) measured now in the existing "
                         "results.json, keep the rest, and re-render RESULTS.md")
    ap.add_argument("--keep-snapshot", action="store_true",
                    help="reuse the glmkit snapshot of the previous run instead of copying "
                         "src/glmkit again (with --merge: every row measures the same glmkit)")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render RESULTS.md from results.json (no measurements)")
    ap.add_argument("--workloads", default=None,
                    help="comma-separated workloads beside the problems (batched, sparse, "
                         "path, models; 'none' to skip); default: batched,sparse,path; none "
                         "with --problems, --scaling-only or --report-only")
    ap.add_argument("--cache-dir", default=str(pdata.DEFAULT_CACHE))
    ap.add_argument("--out", default=None, help="RESULTS.md path")
    return ap.parse_args(argv)


def settings_from_args(a) -> harness.Settings:
    problems = [p.strip() for p in a.problems.split(",") if p.strip()]
    bad = [p for p in problems if p not in pdata.PROBLEM_NAMES]
    if bad:
        raise SystemExit(f"unknown problem(s) {bad}; choose from {pdata.PROBLEM_NAMES}")
    lib_list = [x.strip() for x in a.libs.split(",") if x.strip()]
    bad = [x for x in lib_list if x not in libs.ALL_LIBS]
    if bad:
        raise SystemExit(f"unknown librar(y/ies) {bad}; choose from {libs.ALL_LIBS}")
    from . import workloads

    if a.workloads is None:
        given = any(x.startswith("--problems") for x in sys.argv[1:])
        chosen = [] if (given or a.scaling_only or a.report_only) else list(workloads.DEFAULT)
    else:
        chosen = [w.strip() for w in a.workloads.split(",") if w.strip() and w.strip() != "none"]
    bad = [w for w in chosen if w not in workloads.WORKLOADS]
    if bad:
        raise SystemExit(f"unknown workload(s) {bad}; choose from {sorted(workloads.WORKLOADS)}")
    cache = Path(a.cache_dir)
    out_dir = cache if a.quick else pdata.BENCH_DIR
    suffix = "-quick" if a.quick else ""
    return harness.Settings(
        problems=[] if a.scaling_only else problems,
        libs=lib_list,
        repeats=a.repeats if a.repeats is not None else (1 if a.quick else 3),
        quick=a.quick,
        batch=a.quick and not a.fresh,
        timeout=a.timeout,
        budget=a.budget if a.budget is not None else (10.0 if a.quick else 120.0),
        f_refits=a.f_refits if a.f_refits is not None else (10 if a.quick else 300),
        predict_calls=200 if a.quick else 2000,
        cache_dir=cache,
        out=Path(a.out) if a.out else out_dir / f"RESULTS{suffix}.md",
        json_out=out_dir / f"results{suffix}.json",
        quiet_wait=a.quiet_wait if a.quiet_wait is not None else (0.0 if a.quick else 120.0),
        threads=a.threads,
        merge=a.merge,
        keep_snapshot=a.keep_snapshot,
        scaling=not a.no_scaling,
        workloads=chosen,
        scaling_csv=out_dir / f"scaling{suffix}.csv",
        scaling_png=out_dir / f"scaling{suffix}.png",
        log=lambda msg: print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True),
    )


def main(argv=None) -> int:
    a = parse_args(argv)
    s = settings_from_args(a)
    try:
        pdata.problems_path()
    except pdata.ProblemsNotFound as exc:
        print(exc, file=sys.stderr)
        return 2
    if a.report_only:
        import json

        from . import report

        results = json.loads(Path(s.json_out).read_text())
        Path(s.out).write_text(report.markdown(results))
        print(f"wrote {s.out} from {s.json_out}")
        return 0
    harness.run_benchmarks(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
