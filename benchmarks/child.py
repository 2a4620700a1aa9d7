"""One measurement in a fresh process: ``python -m benchmarks.child '<json task>'``.

The parent (harness.py) starts one child per (library, problem), so memory peaks of
different fits never share a process. A child reports on stdout, one ``@@{json}`` line per
event: ``ready`` (data loaded, library imported, inputs prepared), one ``fit`` per completed
fit, ``done``, or ``error``. The parent enforces the per-fit time limit by killing the child.

Tasks: prepare, reference, fit, lowerbound, machine, scale, r_export.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np


_JOB = {"id": 0}


def emit(event: str, **kw):
    kw["event"] = event
    kw["job"] = _JOB["id"]
    sys.stdout.write("@@" + json.dumps(kw, default=_jsonable) + "\n")
    sys.stdout.flush()


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


# ------------------------------------------------------------------ tasks

def task_prepare(t):
    from . import problemdata as pdata

    path = pdata.ensure_data(t["problem"], t["quick"], Path(t["cache_dir"]))
    emit("done", path=str(path))


def task_r_export(t):
    """Raw float64 files for r_glm.R: X column-major, y, offset."""
    from . import problemdata as pdata

    d = pdata.load_data(t["problem"], t["quick"], Path(t["cache_dir"]))
    out = Path(t["out_prefix"])
    np.asfortranarray(d["X"]).T.tofile(str(out) + ".X.bin")
    d["y"].tofile(str(out) + ".y.bin")
    if "offset" in d:
        d["offset"].tofile(str(out) + ".offset.bin")
    if "codes" in d:
        d["codes"].astype(np.int32).tofile(str(out) + ".codes.bin")
    emit("done", n=d["X"].shape[0], p=d["X"].shape[1], offset="offset" in d,
         levels=int(d["levels"] or 0))


def task_reference(t):
    from . import problemdata as pdata
    from . import reference

    d = pdata.load_data(t["problem"], t["quick"], Path(t["cache_dir"]))
    emit("ready")
    info = reference.compute(t["problem"], d)
    emit("done", **info)


def _measured_fits(runner, inputs, repeats, budget, sample_first=True, keep_last=False,
                   quiet_wait=0.0):
    """Fit ``repeats`` times (fewer once ``budget`` seconds are spent); emit each fit.

    Memory is sampled on the first fit only (the one in a fresh process); the sampler is
    not running during later fits, so their timings carry no sampling overhead.
    Garbage is collected before each fit, except between fits of under 10 ms (problem f):
    there a full collection would evict the caches and time a cold start, where the
    question is the cost of one fit in a loop of small fits.
    """
    from .memory import OtherLoad, PeakSampler, wait_quiet

    spent = 0.0
    model = None
    first = None
    quiet = {}
    for i in range(repeats):
        model = None
        if i == 0 or spent / i > 0.01:
            gc.collect()
        if quiet_wait and (i == 0 or spent / i > 0.2):
            quiet = wait_quiet(quiet_wait)
        sampler = PeakSampler().start() if (i == 0 and sample_first) else None
        with OtherLoad() as load:
            t0 = time.perf_counter()
            model = runner.fit(inputs)
            dt = time.perf_counter() - t0
        msg = {"i": i, "seconds": dt, "other_load": load.value}
        if quiet:
            msg.update(quiet_waited=quiet["waited"], load_before=quiet["load_before"])
            quiet = {}
        if sampler is not None:
            sampler.stop()
            msg.update(peak_bytes=sampler.peak_above_baseline, baseline_bytes=sampler.baseline,
                       maxrss_increase_bytes=sampler.maxrss_increase)
        if i == 0:
            params, n_iter, conv = runner.extract(model)
            msg.update(params=params, n_iter=n_iter, converged=conv)
            first = model
        emit("fit", **msg)
        spent += dt
        if spent > budget:
            break
    return model if keep_last else first


def task_fit(t):
    from . import libs
    from . import problemdata as pdata

    d = pdata.load_data(t["problem"], t["quick"], Path(t["cache_dir"]))
    d["p"] = d["X"].shape[1]
    runner = libs.RUNNERS[t["lib"]](t["problem"], d)
    runner.warmup()
    inputs = runner.prepare()
    del d["X"]  # the runner's inputs hold what the fit needs; X itself may be a copy
    gc.collect()
    emit("ready")
    model = _measured_fits(runner, inputs, t["repeats"], t["budget"],
                           quiet_wait=t.get("quiet_wait", 0.0))
    if hasattr(runner, "first_statistics"):
        t0 = time.perf_counter()
        runner.first_statistics(model)
        emit("stats", seconds=time.perf_counter() - t0)
    if t.get("predict_calls"):
        fn = runner.predict_row_fn(model, inputs)
        for _ in range(50):
            fn()
        ts = np.empty(t["predict_calls"])
        for i in range(ts.size):
            t0 = time.perf_counter_ns()
            fn()
            ts[i] = time.perf_counter_ns() - t0
        emit("predict", median_us=float(np.median(ts)) / 1e3, p10_us=float(np.percentile(ts, 10)) / 1e3,
             calls=int(ts.size))
    emit("done")


def _pass_time(design: np.ndarray, reps: int = 5) -> dict:
    """Best-of-``reps`` time of one float64 weighted Gram and one ``X @ b``.

    The Gram is timed two ways and the faster counts: the whole design scaled by sqrt(w)
    into one buffer, then ``B.T @ B`` (NumPy hands it to BLAS syrk), and the same on row
    blocks of 2^18 elements accumulated (fewer cache misses on tall designs)."""
    n, k = design.shape
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 2.0, n)
    b = rng.normal(0.0, 0.1, k)
    sw = np.sqrt(w)
    buf = np.empty_like(design)
    rows = max(1, (1 << 18) // k)
    bbuf = np.empty((min(rows, n), k))

    def whole():
        np.multiply(design, sw[:, None], out=buf)
        return buf.T @ buf

    def blocked():
        G = np.zeros((k, k))
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            B = bbuf[:stop - start]
            np.multiply(design[start:stop], sw[start:stop, None], out=B)
            G += B.T @ B
        return G

    gram = {"whole": [], "blocked": []}
    mv = []
    for _ in range(reps):
        for name, f in (("whole", whole), ("blocked", blocked)):
            t0 = time.perf_counter()
            f()
            gram[name].append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        eta = design @ b
        mv.append(time.perf_counter() - t1)
    del eta
    best = min(gram, key=lambda m: min(gram[m]))
    g = min(gram[best])
    return {"gram": g, "gram_method": best, "matvec": min(mv), "pass": g + min(mv)}


def _structured_pass_time(X: np.ndarray, codes: np.ndarray, levels: int, reps: int = 5) -> dict:
    """The same pass for [1, X, categorical]: dense Gram of [1, X], per-level sums of
    w * [1, X] (one bincount per column), and eta = [1, X] @ b + g[codes]."""
    from .problemdata import with_constant

    Xc = with_constant(X)
    n, k = Xc.shape
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 2.0, n)
    b = rng.normal(0.0, 0.1, k)
    g = rng.normal(0.0, 0.1, levels)
    buf = np.empty_like(Xc)
    sw = np.empty(n)
    tmp = np.empty(n)
    gram, mv = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.sqrt(w, out=sw)
        np.multiply(Xc, sw[:, None], out=buf)
        G = buf.T @ buf
        np.bincount(codes, weights=w, minlength=levels)
        for j in range(k):
            np.multiply(w, Xc[:, j], out=tmp)
            np.bincount(codes, weights=tmp, minlength=levels)
        t1 = time.perf_counter()
        eta = Xc @ b + g[codes]
        t2 = time.perf_counter()
        gram.append(t1 - t0)
        mv.append(t2 - t1)
    del G, eta
    return {"gram": min(gram), "matvec": min(mv), "pass": min(gram) + min(mv)}


def task_lowerbound(t):
    from . import problemdata as pdata
    from .memory import wait_quiet

    d = pdata.load_data(t["problem"], t["quick"], Path(t["cache_dir"]))
    emit("ready")
    if t.get("quiet_wait"):
        wait_quiet(t["quiet_wait"])
    out = {}
    n_rows, p_x = d["X"].shape
    if t["problem"] in ("e", "e_small"):
        # the machine floor's design: the dense columns, the intercept, the level codes
        out["shape"] = {"n": int(n_rows), "p_dense": int(p_x) + 1, "levels": int(d["levels"])}
        out["structured"] = _structured_pass_time(d["X"], d["codes"], int(d["levels"]))
    else:
        out["shape"] = {"n": int(n_rows), "p_dense": int(p_x) + 1, "levels": 0}
    if t["problem"] != "e" or t["quick"]:
        if t["problem"] in ("e", "e_small"):
            design = pdata.dense_onehot_design(d["X"], d["codes"], int(d["levels"]))
        else:
            design = pdata.with_constant(d["X"])
        del d
        gc.collect()
        out["dense"] = _pass_time(design, reps=3 if design.shape[1] > 500 else 5)
    emit("done", **out)


def task_machine(t):
    """The machine's peak GEMM rates and read bandwidth (benchmarks/machine.py)."""
    from . import machine
    from .memory import wait_quiet

    emit("ready")
    if t.get("quiet_wait"):
        wait_quiet(t["quiet_wait"])
    emit("done", **machine.measure(quick=t["quick"]))


def task_scale(t):
    """One point of the scaling study: Poisson generator (problem a's), given n and p."""
    from . import libs
    from . import problemdata as pdata
    from .memory import wait_quiet

    spec = dict(family="poisson", n=int(t["n"]), p=int(t["p"]), seed=101)
    d = pdata.generate_spec(spec)
    d.update(family="poisson", levels=None, spec=spec)
    d["p"] = spec["p"]
    runner = libs.RUNNERS[t["lib"]]("a", d)
    runner.warmup()
    inputs = runner.prepare()
    emit("ready")
    _measured_fits(runner, inputs, t["repeats"], t["budget"], quiet_wait=t.get("quiet_wait", 0.0))
    if t.get("lower_bound"):
        if t.get("quiet_wait"):
            wait_quiet(t["quiet_wait"])
        design = inputs if isinstance(inputs, np.ndarray) and inputs.shape[1] == spec["p"] + 1 \
            else pdata.with_constant(d["X"])
        emit("lowerbound", **_pass_time(design, reps=3))
    emit("done")


TASKS = {
    "prepare": task_prepare,
    "r_export": task_r_export,
    "reference": task_reference,
    "fit": task_fit,
    "lowerbound": task_lowerbound,
    "machine": task_machine,
    "scale": task_scale,
}


def main(argv=None):
    """Run the task once, or once per entry of ``jobs`` (each merged over the task).

    Jobs run in order in this one process (``--quick`` batches them to save process
    start-ups); every event carries its job's index, and a failing job reports an
    ``error`` event and does not stop the others.
    """
    argv = sys.argv[1:] if argv is None else argv
    task = json.loads(argv[0])
    jobs = task.pop("jobs", None) or [{}]
    failed = 0
    for i, job in enumerate(jobs):
        _JOB["id"] = i
        try:
            TASKS[task["task"]]({**task, **job})
        except Exception as exc:  # report, go on with the next job
            failed += 1
            emit("error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        gc.collect()
    sys.exit(1 if failed == len(jobs) else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
