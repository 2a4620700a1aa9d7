"""Threads for the sums over rows.

numpy's elementwise work (X_b @ beta, the family kernel, scaling a block by sqrt(w)) runs on
one core, and BLAS threads gain little on the thin row blocks of a sweep. A large sweep
therefore splits its rows into one contiguous chunk per thread; each thread walks its own
chunk's row blocks with its own buffers and sums (numpy releases the GIL), BLAS is held at one
thread meanwhile, and the chunks' sums are added in a fixed order.

One sweep on the 2-core benchmark machine, 1 or 2 threads: Poisson 1M x 21, 55 -> 40 ms;
Binomial 1M x 101, 376 -> 184 ms; Gamma 500k x 51, 72 -> 38 ms; Tweedie 1M x 31, 91 -> 50 ms.

How many threads: ``GLMKIT_NUM_THREADS`` when set, else as many as the BLAS may use (so a
process limited to one BLAS thread, by OMP_NUM_THREADS or threadpoolctl, stays on one), at
most the cores this process may run on, and one when threadpoolctl finds no BLAS to hold
at one thread (two BLAS pools on two threads would oversubscribe the cores).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

#: Sweeps over designs of fewer elements (n x p) stay on the calling thread: a thread
#: hand-off costs ~50 us, a 1,000 x 5 sweep ~40 us.
MIN_ELEMENTS = 1 << 20

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_blas_controller = None     # threadpoolctl's controller of the BLAS libraries; False: none
_held = 0                   # sweeps running with BLAS held at one thread
_saved: list | None = None  # the BLAS thread counts before the hold


def _blas():
    global _blas_controller
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController

            ctl = ThreadpoolController().select(user_api="blas")
            _blas_controller = ctl if ctl.lib_controllers else False
        except Exception:   # threadpoolctl missing or unable to read the libraries
            _blas_controller = False
    return _blas_controller


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _env_threads() -> int | None:
    raw = os.environ.get("GLMKIT_NUM_THREADS", "").strip()
    if not raw:
        return None
    try:
        k = int(raw)
    except ValueError:
        raise ValueError(f"GLMKIT_NUM_THREADS must be a positive integer, got {raw!r}") from None
    if k < 1:
        raise ValueError(f"GLMKIT_NUM_THREADS must be a positive integer, got {raw!r}")
    return k


def threads_for(elements: int) -> int:
    """How many threads a sweep over a design of ``elements`` (n x p) uses."""
    if elements < MIN_ELEMENTS:
        return 1
    k = _env_threads()
    if k is not None:
        return k
    ctl = _blas()
    if not ctl:
        return 1
    # while another sweep holds BLAS at one thread, the caller's own setting is the saved one
    counts = _saved if _saved is not None else [lib.num_threads for lib in ctl.lib_controllers]
    allowed = max((c or 1) for c in counts)
    return max(1, min(_cores(), allowed))


def _set_blas_threads(ctl, counts) -> None:
    """Set each BLAS library's thread count. threadpoolctl lets only one 'controlling'
    thread set OpenBLAS's process-wide pool and silently ignores the others; the hold may
    start on one thread and end on another, so control is released around each call (under
    ``_lock``, the only place glmkit sets it)."""
    try:
        from threadpoolctl import OpenBLASController

        release = getattr(OpenBLASController, "clear_controlling_thread", None)
    except ImportError:   # pragma: no cover  (older threadpoolctl: no controlling thread)
        release = None
    for lib, k in zip(ctl.lib_controllers, counts):
        if release is not None:
            release(force=True)
        if k is not None:
            lib.set_num_threads(k)
    if release is not None:
        release(force=True)


@contextmanager
def one_blas_thread():
    """BLAS at one thread while any threaded sweep runs (reference-counted: sweeps on
    several of the caller's threads restore the caller's setting once, at the end, from
    whichever thread finishes last)."""
    global _held, _saved
    ctl = _blas()
    if not ctl:
        yield
        return
    with _lock:
        if _held == 0:
            _saved = [lib.num_threads for lib in ctl.lib_controllers]
            _set_blas_threads(ctl, [1] * len(_saved))
        _held += 1
    try:
        yield
    finally:
        with _lock:
            _held -= 1
            if _held == 0:
                _set_blas_threads(ctl, _saved)
                _saved = None


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: a pool inherited from the parent
    would queue work that no thread runs (a hang). Start afresh, with the BLAS setting the
    parent had before any hold."""
    global _lock, _pool, _pool_size, _held, _saved
    _lock = threading.Lock()
    if _saved is not None and _blas():
        _set_blas_threads(_blas(), _saved)
    _pool, _pool_size, _held, _saved = None, 0, 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)   # idle threads end; running work finishes
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="glmkit")
            _pool_size = workers
        return _pool


def map_chunks(fn, chunks: list) -> list:
    """``[fn(c) for c in chunks]``: the first on this thread, the others on pool threads,
    with BLAS at one thread meanwhile. Every chunk has finished when this returns or
    raises."""
    if len(chunks) == 1:
        return [fn(chunks[0])]
    pool = _get_pool(len(chunks) - 1)
    with one_blas_thread():
        futures = [pool.submit(fn, c) for c in chunks[1:]]
        try:
            first = fn(chunks[0])
        finally:
            wait(futures)
    return [first] + [f.result() for f in futures]
