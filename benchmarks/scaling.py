"""Scaling study: glmkit (and glum) fit time against n and against p.

Data come from problem a's generator (Poisson, log link; seed 101) with the given n and p,
generated inside each child. Every point is a fresh child; the glmkit child also times one
pass (X'WX + X @ b) on the same design, so the CSV has glmkit's lower bound
(iterations x pass) too. Writes scaling.csv and, when matplotlib is importable, scaling.png.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from . import libs

N_FULL = [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]
N_QUICK = [10_000, 100_000, 1_000_000]
P_FULL = [10, 30, 100, 300, 1000]
P_QUICK = [10, 30, 100]
P_FOR_N = 20
N_FOR_P_FULL = 100_000
N_FOR_P_QUICK = 10_000

FIELDS = ["sweep", "n", "p", "library", "status", "median_seconds", "runs", "n_iter",
          "peak_mib", "pass_seconds", "lower_bound_seconds", "other_load"]


def points(quick: bool):
    ns = N_QUICK if quick else N_FULL
    ps = P_QUICK if quick else P_FULL
    n_for_p = N_FOR_P_QUICK if quick else N_FOR_P_FULL
    return [("n", n, P_FOR_N) for n in ns] + [("p", n_for_p, p) for p in ps]


def run_scaling(s) -> dict:
    from .harness import python_task, run_child

    lib_names = [v for v in ("glmkit", "glum") if v in s.libs]
    rows = []
    for sweep, n, p in points(s.quick):
        for lib in lib_names:
            why = libs.skip_reason(lib, "a", s.quick)
            row = {"sweep": sweep, "n": n, "p": p, "library": lib}
            if why:
                row.update(status="skipped: " + why)
                rows.append(row)
                continue
            repeats = 1 if s.quick or n * p > 5e7 else min(3, s.repeats)
            s.log(f"[scaling] {lib} n={n:,} p={p}")
            run = run_child(python_task(s, task="scale", lib=lib, n=n, p=p, repeats=repeats,
                                        budget=60.0, lower_bound=(lib == "glmkit"),
                                        quiet_wait=s.next_quiet_wait()),
                            step_timeout=s.timeout + s.quiet_wait, ready_timeout=1800,
                            threads=s.threads)
            s.note_quiet(run.messages)
            fits = run.of("fit")
            if not fits:
                row["status"] = run.status if run.status != "error" else \
                    "error: " + run.error.splitlines()[0][:100]
                rows.append(row)
                continue
            times = [f["seconds"] for f in fits]
            loads = [f["other_load"] for f in fits if f.get("other_load") is not None]
            if loads and sum(times) >= 0.5:
                row["other_load"] = round(float(np.mean(loads)), 2)
            row.update(status="ok", median_seconds=float(np.median(times)), runs=len(times),
                       n_iter=fits[0].get("n_iter"),
                       peak_mib=round((fits[0].get("peak_bytes") or 0) / 2**20, 1))
            lb = run.of("lowerbound")
            if lb and row["n_iter"]:
                row["pass_seconds"] = lb[0]["pass"]
                row["lower_bound_seconds"] = lb[0]["pass"] * row["n_iter"]
            rows.append(row)
    out = {"rows": rows}
    csv_path = Path(s.scaling_csv) if s.scaling_csv else Path(s.cache_dir) / "scaling.csv"
    with open(csv_path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in FIELDS})
    out["csv"] = str(csv_path)
    png = Path(s.scaling_png) if s.scaling_png else Path(s.cache_dir) / "scaling.png"
    out["png"] = str(png) if plot(rows, png) else None
    if out["png"] is None:
        s.log("[scaling] matplotlib not importable: wrote the CSV only")
    return out


def plot(rows: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"glmkit": dict(color="C0", marker="o"), "glum": dict(color="C1", marker="s")}
    for ax, sweep, xkey in ((axes[0], "n", "n"), (axes[1], "p", "p")):
        sub = [r for r in rows if r["sweep"] == sweep and r.get("status") == "ok"]
        for lib in ("glmkit", "glum"):
            pts = sorted((r[xkey], r["median_seconds"]) for r in sub if r["library"] == lib)
            if pts:
                ax.plot(*zip(*pts), label=lib, **styles[lib])
        lb = sorted((r[xkey], r["lower_bound_seconds"]) for r in sub
                    if r["library"] == "glmkit" and r.get("lower_bound_seconds"))
        if lb:
            ax.plot(*zip(*lb), label="lower bound (glmkit iters x one X'WX + X@b)",
                    color="C0", linestyle="--", alpha=0.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylabel("fit time (s)")
        if sweep == "n":
            ax.set_xlabel(f"n (p = {P_FOR_N})")
            ax.set_title("Poisson, log link: time vs n")
        else:
            n_for_p = sub[0]["n"] if sub else N_FOR_P_FULL
            ax.set_xlabel(f"p (n = {n_for_p:,})")
            ax.set_title("Poisson, log link: time vs p")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
