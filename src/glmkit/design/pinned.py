"""Partitions pinned for one fit: each partition read and converted once, kept on its worker.

Without pinning, every pass of a fit on Dask rebuilds each partition's :class:`Block` from
the source: it reads the partition (a Parquet file, or a persisted raw array), converts it
to the design's float blocks, forms the weights, and allocates the sweep's work buffers,
then drops all of it. A fit of a few passes over data that fit in the cluster's memory
then spends more time converting than sweeping (5M x 20 from Parquet on 2 workers: a
persisted pass took 3.6x the in-memory pass).

:func:`pin_blocks` persists the partitions' blocks instead (``Client.persist`` on a
``distributed`` cluster, ``dask.persist`` on the threaded scheduler): X in row-major order
(the sweep's row blocks are then contiguous), the weights, and a ``work`` dict in which the
sweep keeps its in-memory sweeper (constant deviance term, linear-predictor and row-block
buffers) from pass to pass. :class:`~glmkit.design.partitioned.RowSource` runs its passes on
those blocks until the fit ends (:func:`pinned_for_fit` releases them). The blocks are
pinned in equal runs of consecutive partitions per worker thread, and a pass is one task
per run (:func:`~glmkit.design.partitioned.run_group`), not one per partition: on 5M x 20
in 20 partitions over 2 workers, with 20 tasks and their combining tree the workers sat
idle 13-25 % of each pass (Dask's task stream, loaded machine).

When to pin
-----------
Only when the blocks fit: their size (rows x (raw columns + 12) doubles) must stay below
half of the memory the workers have left under their limit (``distributed``; the
machine's available memory on the threaded scheduler). Larger data keep today's
streaming: every pass reads the source, memory bounded by a few partitions per worker.
``fit(persist=True)`` pins regardless, ``persist=False`` never.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .partitioned import Block, run_pinned  # noqa: F401 (the runner of pinned blocks)

#: share of the free worker memory the pinned blocks may take
MEMORY_SHARE = 0.5
#: n-vectors a block holds besides X: y, offset, exposure, weights (4), their products (2),
#: the sweep's linear predictor, and slack for the copies made while converting
VECTORS_PER_ROW = 12


def _make_block(X, y, offset, exposure, fw, vw, drop, rows, index, layout) -> Block:
    """A partition's block for the passes of one fit: inputs copied into arrays of their
    own (the source's buffers, e.g. a whole Parquet read, can then be freed), X row-major,
    the design formed once."""
    X, y, offset, exposure, fw, vw = (None if a is None else np.array(a, dtype=float, order="C")
                                      for a in (X, y, offset, exposure, fw, vw))
    b = Block.from_raw(X, y, offset, exposure, fw, vw, drop, rows, layout)
    b.index = index
    if b.Xraw is not None:
        b.design   # built once, kept
    return b


def block_bytes(source) -> float | None:
    """Estimated bytes of the pinned blocks of ``source`` (None while the partitions'
    sizes are unknown, before the data pass)."""
    chunks = source.raw_chunks
    if any(np.isnan(c) for c in chunks):
        return None
    X, y = source.raw["X"], source.raw["y"]
    width = int(X.shape[1]) + (int(y.shape[1]) if y.ndim == 2 else 1) + VECTORS_PER_ROW
    return float(sum(chunks)) * 8.0 * width


def memory_budget(executor) -> float:
    """Bytes the pinned blocks may take: a share of the workers' free memory under their
    limits (distributed), else of this machine's available memory."""
    client = executor._default_client()
    if client is not None:
        try:
            workers = client.scheduler_info(n_workers=-1)["workers"].values()
        except TypeError:   # older distributed: no n_workers argument
            workers = client.scheduler_info()["workers"].values()
        free = 0.0
        for w in workers:
            limit = float(w.get("memory_limit") or 0.0) or _available_memory()
            used = float(w.get("metrics", {}).get("memory", 0.0))
            free += max(0.0, limit - used)
        return MEMORY_SHARE * free
    return MEMORY_SHARE * _available_memory()


def _available_memory() -> float:
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.virtual_memory().available)
    except ImportError:   # pragma: no cover - psutil comes with distributed
        import os

        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def pin_blocks(source, executor) -> tuple[list, list[list[int]]]:
    """Persist one block per partition (one pass that reads the source); returns the
    persisted delayed blocks, in partition order, and the groups of partitions that one
    worker thread sweeps in one task per pass (consecutive runs, one per thread of the
    cluster or of the local scheduler). Reported as the pass 'persist'."""
    import time

    import dask
    from dask import delayed

    make = delayed(_make_block, pure=False)
    parts = [make(*source._raw_args(i, True), source.drop_missing, source._expected(i), i,
                  source.layout) for i in range(source.nblocks)]
    t0 = time.perf_counter()
    client = executor.client if executor.client is not None else executor._default_client()
    if client is not None:
        from distributed import wait

        slots = _worker_slots(client)
        nslots = len(slots)
        out = _persist_spread(client, parts, slots)
        wait(out)   # a task's error (inputs that do not line up) is raised by the first pass
    else:
        from .partitioned import _one_blas_thread_per_task

        nslots = _local_threads()
        with _one_blas_thread_per_task():
            out = list(dask.persist(*parts))
    executor.passes += 1
    seconds = time.perf_counter() - t0
    executor.seconds += seconds
    executor.report("persist", seconds, partitions=source.nblocks)
    return out, _groups(len(parts), nslots)


def _groups(nblocks: int, nslots: int) -> list[list[int]]:
    """Partition i goes to slot i * S // nb: equal runs of consecutive partitions."""
    groups: list[list[int]] = [[] for _ in range(max(nslots, 1))]
    for i in range(nblocks):
        groups[i * len(groups) // nblocks].append(i)
    return groups


def _worker_slots(client) -> list[str]:
    """One entry per thread of the cluster: each worker's address, as many times as it
    has threads (sorted, so the layout does not depend on the order workers joined)."""
    try:
        info = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:   # older distributed: no n_workers argument
        info = client.scheduler_info()["workers"]
    return [w for w in sorted(info) for _ in range(max(int(info[w].get("nthreads", 1)), 1))]


def _local_threads() -> int:
    """Threads of Dask's local threaded scheduler."""
    import dask
    from dask.system import CPU_COUNT

    return int(dask.config.get("num_workers", None) or CPU_COUNT)


def _persist_spread(client, parts: list, slots: list[str]) -> list:
    """Persist the blocks in equal runs of consecutive partitions per worker thread (the
    groups of :func:`_groups`): each pass is as slow as its busiest worker, and raw data
    the user persisted unevenly (or partitions the scheduler placed unevenly) would
    otherwise load one worker more than the others. A loose restriction: a block whose
    worker is lost is rebuilt on another."""
    if len(set(slots)) < 2:
        return list(client.persist(parts))
    nb, S = len(parts), len(slots)
    return [client.persist(d, workers=[slots[i * S // nb]], allow_other_workers=True)
            for i, d in enumerate(parts)]


@contextmanager
def pinned_for_fit(data, persist) -> Iterator[bool]:
    """Pin ``data.source``'s partitions for the duration of a fit when they fit in memory
    (``persist`` 'auto'), always (True) or never (False); release them at the end. A fit
    inside a fit (the null model, glm_nb's iterations) keeps the outer fit's blocks."""
    src = data.source
    if src.pinned is not None or persist is False:
        yield src.pinned is not None
        return
    try:
        size = block_bytes(src)
        if size is None:   # partition sizes unknown: the data pass counts them first
            data.stats
            size = block_bytes(src)
        if persist is True or (size is not None and size <= memory_budget(data.executor)):
            src.pinned, src.pin_groups = pin_blocks(src, data.executor)
        yield src.pinned is not None
    finally:
        src.unpin()
