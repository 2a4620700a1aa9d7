"""The workloads beside problems a-f (issue 17): each is its own script, run here in a child
process in the same benchmark run, its printed ratios kept for RESULTS.md.

- batched: ``glm_by`` (10,000 groups) against a loop of statsmodels fits, and 1,000
  bootstrap refits against a loop of scikit-learn fits (benchmarks/batched_bench.py);
- sparse: scipy.sparse and factor designs against glum (benchmarks/sparse_bench.py);
- path: penalized paths against glmnet, glum and scikit-learn (benchmarks/path_bench.py);
- models: multinomial and ordinal models (benchmarks/multinomial_bench.py).

A workload whose script is absent or fails is reported as such, not hidden.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> (module, arguments for a full run, arguments for --quick)
WORKLOADS = {
    "batched": ("batched_bench", [], ["--groups", "300", "--n-boot", "50", "--sample", "30",
                                      "--sk-sample", "20", "--rounds", "1"]),
    "sparse": ("sparse_bench", [], ["--quick"]),
    "path": ("path_bench", [], ["--rows", "5000"]),
    "models": ("multinomial_bench", [], None),
}
DEFAULT = ("batched", "sparse", "path")


def run(names, quick: bool, python: str = sys.executable, timeout: float = 3600.0,
        log=print) -> list[dict]:
    """Run each named workload; its stdout (the script's own report) or its failure."""
    out = []
    for name in names:
        module, full, small = WORKLOADS[name]
        row = {"name": name, "module": module}
        if importlib.util.find_spec(f"benchmarks.{module}") is None:
            row.update(status="absent", text=f"benchmarks/{module}.py is not in this checkout")
            out.append(row)
            continue
        args = small if quick else full
        if args is None:
            row.update(status="skipped", text="no quick variant")
            out.append(row)
            continue
        log(f"[workload {name}] python -m benchmarks.{module} {' '.join(args)}")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([python, "-m", f"benchmarks.{module}", *args],
                                  cwd=HERE.parent, capture_output=True, text=True,
                                  timeout=timeout, check=False)
            ok = proc.returncode == 0
            row.update(status="ok" if ok else f"error (exit {proc.returncode})",
                       text=(proc.stdout if ok else proc.stdout + proc.stderr[-3000:]).strip())
        except subprocess.TimeoutExpired:
            row.update(status=f"timeout (> {timeout:.0f} s)", text="")
        row["seconds"] = time.perf_counter() - t0
        out.append(row)
    return out


def section(rows: list[dict]) -> list[str]:
    """RESULTS.md lines for the workloads."""
    if not rows:
        return []
    lines = ["## Other workloads (issue 17): sparse and factor designs, many small fits, paths",
             "", "Each ran in this benchmark run as its own script (see benchmarks/workloads.py); "
             "its printed ratios follow.", ""]
    for r in rows:
        took = f", {r['seconds']:.0f} s" if "seconds" in r else ""
        lines += [f"### {r['name']} (`benchmarks/{r['module']}.py`: {r['status']}{took})", ""]
        if r.get("text"):
            lines += ["```", r["text"], "```", ""]
    return lines
