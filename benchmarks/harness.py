"""Orchestration: one child process per measurement, time limits, results assembly.

Everything heavy happens in children (``python -m benchmarks.child``, or ``Rscript
r_glm.R``): the parent generates nothing and fits nothing, so its own memory never competes
with a measured fit. Use :func:`run_benchmarks` from Python (the smoke test does) or
``python -m benchmarks.run`` from the repository root.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import libs
from . import problemdata as pdata
from .memory import PeakSampler, tree_rss_bytes

R_SCRIPT = pdata.BENCH_DIR / "r_glm.R"


@dataclass
class Settings:
    problems: list[str] = field(default_factory=lambda: list(pdata.PROBLEM_NAMES))
    libs: list[str] = field(default_factory=lambda: list(libs.ALL_LIBS))
    repeats: int = 3
    quick: bool = False
    timeout: float = 600.0          # seconds, per single fit
    budget: float = 120.0           # stop repeating once this many fit-seconds are spent
    f_refits: int = 300             # fits of problem f (overhead dominated)
    predict_calls: int = 2000
    cache_dir: Path = pdata.DEFAULT_CACHE
    out: Path | None = None         # RESULTS.md; None: don't write
    json_out: Path | None = None
    scaling: bool = True
    scaling_csv: Path | None = None
    scaling_png: Path | None = None
    python: str = sys.executable
    #: run the jobs of one library (or task) in one child instead of a fresh child per
    #: (library, problem): faster, for --quick smoke tests; memory peaks are then not clean
    batch: bool = False
    #: before each timed fit, wait up to this many seconds for other processes to leave
    #: the CPU (the machine may be shared); 0: don't wait
    quiet_wait: float = 0.0
    #: pin BLAS / OpenMP threads of the children (None: the libraries' defaults)
    threads: int | None = None
    #: reuse the glmkit snapshot of the previous run (with ``merge``: same glmkit version)
    keep_snapshot: bool = False
    #: merge into an existing results.json (replace the problems / scaling run now)
    merge: bool = False
    #: the workloads beside the problems (benchmarks/workloads.py)
    workloads: list[str] = field(default_factory=list)
    #: things learnt during the run (R's measured speed, for the e_small estimate)
    state: dict = field(default_factory=dict)

    def next_quiet_wait(self) -> float:
        """The quiet wait for the next child: the full wait, or 10 s while the machine has
        stayed busy through the previous full wait (a persistently shared machine should
        not double the run time; its fits are flagged by their other-load figure)."""
        if not self.quiet_wait:
            return 0.0
        return min(10.0, self.quiet_wait) if self.state.get("busy") else self.quiet_wait

    def note_quiet(self, messages: list[dict]):
        waits = [(m.get("quiet_waited"), m.get("load_before")) for m in messages
                 if m.get("quiet_waited") is not None]
        if waits:
            waited, load = waits[-1]
            self.state["busy"] = load is not None and load >= 0.25
    log: Callable[[str], None] = print


# ------------------------------------------------------------------ children

@dataclass
class ChildRun:
    status: str                      # ok | timeout | error
    messages: list[dict]
    error: str = ""
    elapsed: float = 0.0

    def of(self, event: str) -> list[dict]:
        return [m for m in self.messages if m.get("event") == event]


#: paths put before the repository on the children's PYTHONPATH (the glmkit snapshot)
_PATH_FIRST: list[str] = []


def snapshot_glmkit(s: Settings) -> dict | None:
    """Copy src/glmkit into the cache and make every child import that copy, so one run
    measures one glmkit even while the working tree is being edited."""
    import hashlib

    src = pdata.REPO_DIR / "src" / "glmkit"
    if not src.is_dir():
        return None
    root = Path(s.cache_dir) / ("glmkit-snapshot-quick" if s.quick else "glmkit-snapshot")
    if not (s.keep_snapshot and (root / "glmkit").is_dir()):
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(src, root / "glmkit",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    h = hashlib.sha256()
    for f in sorted((root / "glmkit").rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    _PATH_FIRST[:] = [str(root)]
    return {"path": str(root), "sha256": h.hexdigest()[:12]}


def _env(threads: int | None = None) -> dict:
    env = os.environ.copy()
    if threads:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
    root = os.pathsep.join(_PATH_FIRST + [str(pdata.REPO_DIR)])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def run_child(cmd: list[str], step_timeout: float, ready_timeout: float | None = None,
              external_memory: bool = False, threads: int | None = None) -> ChildRun:
    """Run a child, collecting its ``@@{json}`` lines.

    ``ready_timeout`` bounds the time to the ``ready`` event (data loading), then every
    ``fit`` must come within ``step_timeout`` seconds of the previous event; otherwise the
    child (its own process group, started here) is killed and the run marked ``timeout``.
    With ``external_memory`` the parent samples the child's process-tree RSS from ``ready``
    to the first ``fit`` (used for R).
    """
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(pdata.REPO_DIR), env=_env(threads), start_new_session=True)
    q: queue.Queue = queue.Queue()
    err_tail: list[str] = []

    def read_out():
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("@@"):
                try:
                    q.put(json.loads(line[2:]))
                except json.JSONDecodeError:
                    err_tail.append("unparsable: " + line[:200])
        q.put(None)

    def read_err():
        assert proc.stderr is not None
        for line in proc.stderr:
            err_tail.append(line)
            del err_tail[:-60]

    readers = [threading.Thread(target=read_out, daemon=True),
               threading.Thread(target=read_err, daemon=True)]
    for t in readers:
        t.start()
    messages: list[dict] = []
    status = "ok"
    sampler = None
    last = None
    while True:
        limit = step_timeout if last in ("ready", "fit") else (ready_timeout or step_timeout)
        try:
            msg = q.get(timeout=limit)
        except queue.Empty:
            status = "timeout"
            _kill(proc)
            break
        if msg is None:
            break
        ev = last = msg.get("event")
        if ev == "ready":
            if external_memory:
                sampler = PeakSampler(measure=lambda: tree_rss_bytes(proc.pid)).start()
        if ev == "fit" and sampler is not None:
            sampler.stop()
            msg["peak_bytes"] = sampler.peak_above_baseline
            msg["baseline_bytes"] = sampler.baseline
            sampler = None
        messages.append(msg)
        if ev == "error":
            status = "error"
    if sampler is not None:
        sampler.stop()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()
    for t in readers:
        t.join(timeout=5)
    error = ""
    if status == "ok" and proc.returncode != 0:
        status = "error"
    if status == "error":
        errs = [m for m in messages if m.get("event") == "error"]
        error = errs[0]["error"] if errs else "".join(err_tail[-5:]).strip()[-500:]
        if not error:
            error = f"exit status {proc.returncode}"
        error = error + ("\n" + errs[0].get("traceback", "") if errs else "\n" + "".join(err_tail))
    return ChildRun(status, messages, error, time.perf_counter() - t_start)


def _kill(proc: subprocess.Popen):
    """Kill the child's process group (the child and what it started, nothing else)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def python_task(settings: Settings, **task) -> list[str]:
    task.setdefault("quick", settings.quick)
    task.setdefault("cache_dir", str(settings.cache_dir))
    return [settings.python, "-m", "benchmarks.child", json.dumps(task)]


# ------------------------------------------------------------------ steps

def split_jobs(run: ChildRun, n: int) -> list[ChildRun]:
    """Per-job views of a child that ran ``n`` jobs (events carry their job index)."""
    out = []
    blocked = False
    for i in range(n):
        msgs = [m for m in run.messages if m.get("job", 0) == i]
        events = {m.get("event") for m in msgs}
        error = ""
        if blocked:
            status, error = "error", "not run: an earlier job in the same child timed out"
        elif "error" in events:
            e = next(m for m in msgs if m.get("event") == "error")
            status, error = "error", e.get("error", "") + "\n" + e.get("traceback", "")
        elif "done" in events:
            status = "ok"
        elif run.status == "timeout":
            status, blocked = "timeout", True
        else:
            status = "error"
            error = run.error or "the child ended before finishing this job"
        out.append(ChildRun(status, msgs, error, run.elapsed))
    return out


def run_tasks(s: Settings, task: str, jobs: list[dict], group=None, step_timeout=None,
              ready_timeout=1800.0, on_start=None) -> list[ChildRun]:
    """Run ``task`` for every job: one fresh child per job, or (``s.batch``) one child per
    ``group(job)`` running its jobs in turn. Returns per-job runs in the order of ``jobs``."""
    step_timeout = step_timeout or s.timeout
    if not jobs:
        return []
    if not s.batch or group is None:
        groups = [[i] for i in range(len(jobs))]
    else:
        keyed: dict = {}
        for i, j in enumerate(jobs):
            keyed.setdefault(group(j), []).append(i)
        groups = list(keyed.values())
    out: list[ChildRun | None] = [None] * len(jobs)
    for idx in groups:
        for i in idx:
            if "quiet_wait" in jobs[i]:
                jobs[i]["quiet_wait"] = s.next_quiet_wait()
        if on_start is not None:
            on_start([jobs[i] for i in idx])
        cmd = python_task(s, task=task, jobs=[jobs[i] for i in idx])
        run = run_child(cmd, step_timeout=step_timeout + s.quiet_wait,
                        ready_timeout=ready_timeout, threads=s.threads)
        s.note_quiet(run.messages)
        for i, r in zip(idx, split_jobs(run, len(idx))):
            out[i] = r
    return out  # type: ignore[return-value]


def ref_path(name: str, s: Settings) -> Path:
    return s.cache_dir / f"{pdata.cache_key(name, s.quick)}.ref.json"


def prepare_data(names: list[str], s: Settings) -> None:
    missing = [n for n in names if not pdata.data_path(n, s.quick, s.cache_dir).exists()]
    for n in missing:
        s.log(f"[{n}] generating data -> {pdata.data_path(n, s.quick, s.cache_dir).name}")
    runs = run_tasks(s, "prepare", [{"problem": n} for n in missing], group=lambda j: 0,
                     step_timeout=1800)
    for n, run in zip(missing, runs):
        if run.status != "ok":
            raise RuntimeError(f"generating problem {n} failed: {run.error}")


def references(names: list[str], s: Settings) -> dict:
    out = {}
    todo = []
    for n in names:
        path = ref_path(n, s)
        if path.exists():
            out[n] = json.loads(path.read_text())
        else:
            todo.append(n)
            s.log(f"[{n}] computing the reference fit (cached in {path.name})")
    runs = run_tasks(s, "reference", [{"problem": n} for n in todo], group=lambda j: 0,
                     step_timeout=3 * s.timeout)
    for n, run in zip(todo, runs):
        if run.status != "ok":
            s.log(f"[{n}] reference failed: {run.status} {run.error[:300]}")
            out[n] = {"error": f"{run.status}: {run.error[:300]}"}
            continue
        info = dict(run.of("done")[0])
        info.pop("event", None)
        info.pop("job", None)
        ref_path(n, s).write_text(json.dumps(info))
        out[n] = info
    return out


def lower_bounds(names: list[str], s: Settings) -> dict:
    for n in names:
        s.log(f"[{n}] timing the lower bound (one X'WX + one X @ b)")
    runs = run_tasks(s, "lowerbound", [{"problem": n, "quiet_wait": s.quiet_wait} for n in names],
                     group=lambda j: 0)
    out = {}
    for n, run in zip(names, runs):
        if run.status != "ok":
            out[n] = {"error": f"{run.status}: {run.error[:300]}"}
            continue
        d = dict(run.of("done")[0])
        d.pop("event", None)
        d.pop("job", None)
        out[n] = d
    return out


def machine_peaks(s: Settings) -> dict:
    """Peak GEMM rates and read bandwidth, measured once per run (the tables' floor)."""
    s.log("timing the machine: peak GEMM (float64, float32) and read bandwidth")
    run = run_tasks(s, "machine", [{"quiet_wait": s.quiet_wait}], group=lambda j: 0)[0]
    if run.status != "ok":
        s.log(f"machine peaks failed: {run.status} {run.error[:300]}")
        return {}
    d = dict(run.of("done")[0])
    d.pop("event", None)
    d.pop("job", None)
    return d


def _summarize_fit(runs: "ChildRun | list[ChildRun]", row: dict, ref: dict | None):
    """The row of one (problem, library) from its child run(s): the fits of all runs are
    pooled; the first fit of the first run (a fresh process) gives memory and coefficients."""
    if isinstance(runs, ChildRun):
        runs = [runs]
    run = next((r for r in runs if r.status != "ok"), runs[0])
    if len(runs) > 1:
        run = ChildRun(status=run.status, error=run.error,
                       elapsed=sum(r.elapsed for r in runs),
                       messages=[m for r in runs for m in r.messages])
    fits = run.of("fit")
    if not fits:
        row["status"] = run.status
        row["reason"] = "timeout (> {:.0f} s)".format(row.get("timeout", 0)) \
            if run.status == "timeout" else (run.error.splitlines() or ["error"])[0][:300]
        if run.status == "error":
            row["error_detail"] = run.error[-3000:]
        return row
    times = [float(f["seconds"]) for f in fits]
    first = fits[0]
    row["quiet_waited"] = sum(f.get("quiet_waited") or 0.0 for f in fits)
    loads = [f["other_load"] for f in fits if f.get("other_load") is not None]
    if loads and sum(times) >= 0.5:
        # time-weighted mean number of cores other processes kept busy during the fits
        w = [t for f, t in zip(fits, times) if f.get("other_load") is not None]
        row["other_load"] = float(np.dot(loads, w) / max(sum(w), 1e-12))
    row.update(status="ok", times=times, median=float(np.median(times)), runs=len(times),
               first_seconds=times[0],
               peak_bytes=first.get("peak_bytes"),
               maxrss_increase_bytes=first.get("maxrss_increase_bytes"),
               n_iter=first.get("n_iter"), converged=first.get("converged"))
    if run.status == "timeout":
        row["note"] = "a later repeat timed out"
    if run.status == "error":
        row["note"] = "error after the first fit: " + run.error.splitlines()[0][:200]
    params = first.get("params")
    if params is not None and ref and "params" in ref:
        row["rel_diff"] = pdata.rel_diff(params, ref["params"])
        row["params_head"] = params[:5]
    stats = run.of("stats")
    if stats:
        row["stats_seconds"] = float(stats[0]["seconds"])
    pred = run.of("predict")
    if pred:
        row["predict_us"] = pred[0]["median_us"]
    return row


#: Problem f's refits are split into this many rounds, each library's children taking turns
#: (A B C, B C A, C A B): the machine's speed drifts by tens of percent over seconds, and a
#: ratio of two sub-millisecond medians measured one after the other would carry that drift.
F_ROUNDS = 3


def fit_python_all(names: list[str], s: Settings, refs: dict) -> dict:
    """Rows for every (problem, Python variant); returns {(problem, variant): row}."""
    rows: dict = {}
    jobs, keys = [], []
    for name in names:
        is_f = name == "f"
        todo = []
        for lib in s.libs:
            if lib == "R":
                continue
            for variant in libs.variants(lib, name):
                row = {"variant": variant, "label": libs.LABELS[variant], "timeout": s.timeout}
                rows[(name, variant)] = row
                why = libs.skip_reason(variant, name, s.quick)
                if why:
                    row.update(status="skipped", reason=why)
                    continue
                todo.append(variant)
        rounds = F_ROUNDS if is_f else 1
        for r in range(rounds):
            for variant in todo[r % len(todo):] + todo[:r % len(todo)] if todo else []:
                job = dict(problem=name, lib=variant,
                           repeats=-(-s.f_refits // rounds) if is_f else s.repeats,
                           budget=20.0 / rounds if is_f else s.budget, quiet_wait=s.quiet_wait)
                if is_f and s.predict_calls and r == 0:
                    job["predict_calls"] = s.predict_calls
                jobs.append(job)
                keys.append((name, variant))
    if s.batch:
        order = sorted(range(len(jobs)), key=lambda i: s.libs.index(libs.BASE[jobs[i]["lib"]]))
    else:
        order = list(range(len(jobs)))
    jobs = [jobs[i] for i in order]
    keys = [keys[i] for i in order]
    def started(group_jobs):
        if len(group_jobs) == 1:
            j = group_jobs[0]
            s.log(f"[{j['problem']}] {libs.LABELS[j['lib']]}: fitting ({j['repeats']} run(s) max)")
        else:
            s.log(f"{libs.LABELS[group_jobs[0]['lib']]}: fitting problems "
                  + ",".join(j["problem"] for j in group_jobs) + " in one child")

    runs = run_tasks(s, "fit", jobs, group=lambda j: j["lib"], on_start=started)
    by_key: dict = {}
    for key, run in zip(keys, runs):
        by_key.setdefault(key, []).append(run)
    for (name, variant), key_runs in by_key.items():
        _summarize_fit(key_runs, rows[(name, variant)], refs.get(name))
    return rows


def fit_r(name: str, s: Settings, ref: dict | None) -> dict:
    row = {"variant": "R", "label": libs.LABELS["R"], "timeout": s.timeout}
    rscript = shutil.which("Rscript")
    if rscript is None:
        row.update(status="skipped", reason="Rscript not on PATH")
        return row
    if name == "e" and not s.quick:
        row.update(status="skipped", reason="needs the dense one-hot design (16 GB)")
        return row
    if name == "e_small" and not s.quick:
        reason = R_E_SMALL_REASON
        gf = s.state.get("r_gflops")
        if gf:
            spec = pdata.problem_spec(name)
            k = 1 + spec["p"] + spec["levels"] - 1
            est = 2.0 * spec["n"] * k * k / (gf * 1e9)
            reason += (f" (R's best measured speed on a-d is {gf:.2f} GFLOP/s counting 2nk^2 "
                       "per iteration; at that speed: "
                       f"~{est:,.0f} s per iteration here)")
        row.update(status="skipped", reason=reason)
        return row
    spec = pdata.problem_spec(name, s.quick)
    if spec["family"] == "tweedie":
        chk = subprocess.run([rscript, "-e",
                              "quit(status = !requireNamespace('statmod', quietly=TRUE))"],
                             capture_output=True)
        if chk.returncode != 0:
            row.update(status="skipped", reason="R package statmod not installed (tweedie family)")
            return row
    prefix = s.cache_dir / f"{pdata.cache_key(name, s.quick)}.r"
    if not Path(str(prefix) + ".y.bin").exists():
        run = run_tasks(s, "r_export", [{"problem": name, "out_prefix": str(prefix)}],
                        step_timeout=1800)[0]
        if run.status != "ok":
            row.update(status="error", reason="export for R failed: " + run.error[:200])
            return row
    is_f = name == "f"
    repeats = s.f_refits if is_f else s.repeats
    s.log(f"[{name}] R glm.fit: fitting ({repeats} run(s) max)")
    if s.quiet_wait:
        from .memory import wait_quiet

        q = wait_quiet(s.next_quiet_wait())
        row["quiet_waited"] = q["waited"]
        s.note_quiet([{"quiet_waited": q["waited"], "load_before": q["load_before"]}])
    cmd = [rscript, str(R_SCRIPT), str(prefix), spec["family"], str(spec["n"]), str(spec["p"]),
           "1" if spec.get("offset") else "0",
           str(spec.get("levels", 0) if spec.get("cat") else 0),
           str(repeats), str(20.0 if is_f else s.budget)]
    run = run_child(cmd, step_timeout=s.timeout, ready_timeout=1800, external_memory=True,
                    threads=s.threads)
    _summarize_fit(run, row, ref)
    if row["status"] == "ok" and row.get("n_iter") and not s.quick and not spec.get("cat"):
        k = spec["p"] + 1
        gf = row["n_iter"] * 2.0 * spec["n"] * k * k / row["median"] / 1e9
        s.state["r_gflops"] = max(gf, s.state.get("r_gflops", 0.0))  # R's best: optimistic
    return row


#: Why R is not run on e_small (an estimate from R's measured speed on problem b).
R_E_SMALL_REASON = (
    "not attempted: glm.fit's unblocked LINPACK QR of the 100,000 x 2,011 one-hot design is "
    "~8e11 flops per iteration on reference BLAS, far over the 600 s cap per fit")


def run_chunk(names: list[str], s: Settings) -> list[dict]:
    """Data, references, fits, lower bounds and tables for a group of problems."""
    t0 = time.perf_counter()
    prepare_data(names, s)
    refs = references(names, s)
    py_rows = fit_python_all(names, s, refs)
    r_rows = {n: fit_r(n, s, refs.get(n)) for n in names} if "R" in s.libs else {}
    out = []
    for name in names:
        rows = []
        for lib in s.libs:
            if lib == "R":
                rows.append(r_rows[name])
            else:
                rows += [py_rows[(name, v)] for v in libs.variants(lib, name)]
        out.append({"name": name, "description": pdata.describe(name, s.quick),
                    "n_coef": pdata.n_coefficients(name, s.quick), "reference": refs.get(name),
                    "rows": rows})
    need_lb = [p["name"] for p in out
               if any(r["variant"].startswith("glmkit") and r["status"] == "ok" for r in p["rows"])]
    lbs = lower_bounds(need_lb, s)
    for p in out:
        if p["name"] in lbs:
            p["lower_bound"] = lbs[p["name"]]
        p["seconds"] = (time.perf_counter() - t0) / len(names)
        _log_problem(p, s)
    return out


def _log_problem(p: dict, s: Settings):
    name = p["name"]
    for row in p["rows"]:
        if row["status"] == "ok":
            s.log(f"[{name}]   {row['label']:<22} median {row['median']:.4g} s  iters "
                  f"{row.get('n_iter')}  rel.diff {row.get('rel_diff', float('nan')):.2e}  peak "
                  f"{(row.get('peak_bytes') or 0) / 2**20:.0f} MiB  runs {row['runs']}")
        else:
            s.log(f"[{name}]   {row['label']:<22} {row['status']}: {row.get('reason', '')}")


def run_benchmarks(settings: Settings) -> dict:
    """Run everything the settings ask for; write RESULTS.md / JSON when paths are set."""
    from . import report

    s = settings
    s.cache_dir = Path(s.cache_dir)
    s.cache_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: dict = {"settings": {k: (str(v) if isinstance(v, Path) else v)
                                  for k, v in vars(s).items() if k not in ("log", "state")},
                     "environment": report.environment(), "problems": []}
    results["environment"]["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["environment"]["glmkit_snapshot"] = snapshot_glmkit(s)
    prev = None
    if s.merge and s.json_out is not None and Path(s.json_out).exists():
        prev = json.loads(Path(s.json_out).read_text())
    if s.problems:
        results["machine"] = machine_peaks(s)
    # f first: sub-millisecond fits are the most sensitive to background load, and after
    # e_small the kernel spends minutes reclaiming statsmodels' 17 GB (other processes kept
    # ~1 core busy during f when it came last). The tables keep the usual order.
    order = sorted(s.problems, key=lambda p: p != "f")
    chunks = [order] if s.batch else [[p] for p in order]
    for chunk in chunks:
        if chunk:
            results["problems"] += run_chunk(chunk, s)
            results["problems"].sort(key=lambda p: s.problems.index(p["name"]))
            _checkpoint(_merged(prev, results, s), s)
    if s.workloads:
        from . import workloads

        results["workloads"] = workloads.run(s.workloads, s.quick, python=s.python, log=s.log)
    if s.scaling:
        from . import scaling

        results["scaling"] = scaling.run_scaling(s)
    results["environment"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["total_seconds"] = time.perf_counter() - t0
    results = _merged(prev, results, s)
    _checkpoint(results, s)
    if s.out is not None:
        Path(s.out).write_text(report.markdown(results))
        s.log(f"wrote {s.out}")
    return results


def _merged_problem(old: dict | None, new: dict) -> dict:
    """A problem measured now: its rows replace the earlier rows of the same variant; rows
    of variants not measured now (other libraries) are kept, in the earlier order."""
    if old is None:
        return new
    fresh = {r["variant"]: r for r in new.get("rows", [])}
    rows = [fresh.pop(r["variant"], r) for r in old.get("rows", [])] + list(fresh.values())
    out = dict(old)
    out.update({k: v for k, v in new.items() if k != "rows"})
    out["rows"] = rows
    return out


def _merged(prev: dict | None, new: dict, s: Settings) -> dict:
    """``new`` with the problems (and scaling) it did not measure taken from ``prev``."""
    run = {"started": new["environment"].get("started"), "finished": new["environment"].get("finished"),
           "problems": [p["name"] for p in new["problems"]], "libs": list(s.libs),
           "scaling": "scaling" in new, "git": new["environment"].get("git"),
           "src_dirty": new["environment"].get("src_dirty"),
           "snapshot": (new["environment"].get("glmkit_snapshot") or {}).get("sha256")}
    if prev is None:
        out = dict(new)
        out["runs"] = [run]
        return out
    out = dict(new)
    done = {p["name"] for p in new["problems"]}
    by_name = {p["name"]: p for p in prev.get("problems", [])}
    for p in new["problems"]:
        by_name[p["name"]] = _merged_problem(by_name.get(p["name"]), p)
    order = [n for n in pdata.PROBLEM_NAMES if n in by_name]
    out["problems"] = [by_name[n] for n in order]
    if "scaling" not in new and "scaling" in prev:
        out["scaling"] = prev["scaling"]
    if "workloads" not in new and "workloads" in prev:
        out["workloads"] = prev["workloads"]
    prev_runs = prev.get("runs") or [{
        "started": prev["environment"].get("started"),
        "finished": prev["environment"].get("finished"),
        "problems": [p["name"] for p in prev.get("problems", [])],
        "scaling": "scaling" in prev, "git": prev["environment"].get("git"),
        "src_dirty": prev["environment"].get("src_dirty")}]
    # a problem measured again with every library is no longer from the earlier run
    every_lib = set(s.libs) >= {"glmkit", "glum", "sklearn", "statsmodels", "R"}
    kept = []
    for r in prev_runs:
        r = dict(r)
        if every_lib:
            r["problems"] = [n for n in r["problems"] if n not in done]
        if "scaling" in new:
            r["scaling"] = False
        if r["problems"] or r.get("scaling"):
            kept.append(r)
    out["runs"] = kept + [run]
    out["total_seconds"] = sum(x for x in (prev.get("total_seconds"), new.get("total_seconds"))
                               if x) if prev.get("total_seconds") else new.get("total_seconds")
    return out


def _checkpoint(results: dict, s: Settings):
    if s.json_out is not None:
        Path(s.json_out).write_text(json.dumps(results, indent=1, default=str))
