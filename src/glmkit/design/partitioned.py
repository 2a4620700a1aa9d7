"""Row-partitioned data on Dask: aligned lazy columns and one-pass reductions over them.

Every distributed computation of a GLM goes through two operations on a :class:`RowSource`:

- :meth:`RowSource.map_reduce`: a NumPy function of one partition's rows (a :class:`Block`)
  returns a dict of p x p matrices, p-vectors and scalars; the dicts are summed in a tree
  on the cluster and only the total comes back to the client. On pinned blocks a pass is
  one task per worker thread, which sweeps the blocks pinned for it and sums them
  (:func:`run_group`), and the tree sums those few partials.
- :meth:`RowSource.map_rows`: a NumPy function of one partition's rows returns a per-row
  vector; the result is a lazy dask array (nothing is computed).

The raw inputs (X, the response, offset, exposure, weights) stay lazy dask arrays with the
same row chunks; every task derives the GLM's arrays from them the way :class:`glmkit.GLM`
does in memory (prior weights = var_weights * n_trials, offset + log(exposure), proportions
of a [successes, failures] response) with :meth:`Block.from_raw`. A fit whose blocks fit in
the workers' memory pins them (glmkit.design.pinned): each partition
is read and converted once, its :class:`Block` (the design, the weights, the sweep's work
buffers) stays on its worker for the fit's passes and is released when the fit ends.
Otherwise a pass re-reads its partitions from the source (a Parquet data set larger than
memory is streamed once per pass), so memory is bounded by a few partitions per worker.
Lazy per-row arrays (:meth:`RowSource.map_rows`) always read the source: they outlive the
fit.

Conventions
-----------
- Partitions may be of unequal sizes and empty.
- A pass returns its row count, checked against the count the data pass found: a source that
  changed between passes, or a lost partition, raises :class:`DaskFitError` instead of
  returning numbers from incomplete sums. Failures of the cluster (a worker killed more than
  ``distributed.scheduler.allowed-failures`` times, a lost scheduler) are raised as
  :class:`DaskFitError` too; a worker lost and replaced mid-pass is handled by Dask, which
  recomputes its tasks (every task is a pure function of the source), so a fit either
  completes with the same numbers or raises.
- Dict keys of a reduction are combined by their suffix: ``*_min``/``*_max`` by min/max,
  ``*_any``/``*_all`` by or/and, ``*_first`` keeps the leftmost non-None value,
  ``*_sample`` concatenates rows (a bounded sample), all other keys are summed. Partitions
  are combined in their order (a fixed tree; on pinned blocks, fixed groups of consecutive
  partitions set when they were pinned), so a pass gives bit-identical sums however its
  tasks were scheduled.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

INSTALL_HINT = ("glmkit's Dask support needs dask, distributed and pyarrow: "
                "pip install 'glmkit[dask]'")

_log = logging.getLogger("glmkit.dask")

#: Partials combined per node of the reduction tree.
SPLIT_EVERY = 8

RAW_NAMES = ("X", "y", "offset", "exposure", "freq_weights", "var_weights")


class DaskFitError(RuntimeError):
    """A distributed pass could not be completed (workers lost, data changed); no numbers
    from an incomplete pass are ever returned."""


def require_dask():
    """Import dask (and dask.array); raise ImportError with the install hint without it."""
    try:
        import dask  # noqa: F401
        import dask.array  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised with a monkeypatched import
        raise ImportError(INSTALL_HINT) from exc
    return dask


def is_dask_collection(x) -> bool:
    """Whether ``x`` is a Dask collection (array, data frame, series), without importing dask."""
    return hasattr(type(x), "__dask_graph__")


# ---------------------------------------------------------------------------- blocks
class Block:
    """The rows of one partition, as the in-memory GLM sees them (all NumPy).

    X : n x p design (None when a pass does not need it), ``design`` the same as a
    DesignMatrix (what the passes use), ``Xraw`` the raw columns; y : response (proportions for a
    two-column binomial response); n_trials, var_weights, prior_weights (= var_weights *
    n_trials), freq_weights, total_weights (= freq_weights * prior_weights), offset (with
    log(exposure)), exposure (or None).
    """

    Xraw: np.ndarray | None
    _dense: np.ndarray | None
    layout: Any
    y: np.ndarray
    n_trials: np.ndarray
    var_weights: np.ndarray
    prior_weights: np.ndarray
    freq_weights: np.ndarray
    total_weights: np.ndarray
    offset: np.ndarray
    exposure: np.ndarray | None
    n: int
    two_col: bool
    n_raw: int
    raw: tuple
    inputs: dict
    index: int
    #: scratch a pass may keep for the next passes over the same block (a pinned block's
    #: sweeper and its buffers); a fresh dict on every pass that reads the source
    work: dict

    __slots__ = ("Xraw", "layout", "_design", "_dense", "y", "n_trials", "var_weights",
                 "prior_weights", "freq_weights", "total_weights", "offset", "exposure", "n",
                 "two_col", "n_raw", "raw", "inputs", "index", "work")

    def __sizeof__(self) -> int:
        """Bytes of the block's arrays (what Dask's memory accounting reads of a pinned
        block; views of one array are counted once)."""
        seen: dict[int, int] = {}
        arrays = [self.Xraw, self._dense, self.y, self.n_trials, self.var_weights,
                  self.prior_weights, self.freq_weights, self.total_weights, self.offset,
                  self.exposure, *self.raw]
        for a in arrays:
            if isinstance(a, np.ndarray):
                base = a if a.base is None or not isinstance(a.base, np.ndarray) else a.base
                seen[id(base)] = int(base.nbytes)
        return object.__sizeof__(self) + sum(seen.values())

    @property
    def design(self):
        """The partition's X as a DesignMatrix: a :class:`~glmkit.design.dense.DenseDesign`,
        or the blocks of its :class:`~glmkit.design.partition_layout.ColumnLayout` (level
        codes of a factor, never its indicator columns)."""
        if self._design is None:
            if self.layout is None:
                from .dense import DenseDesign

                self._design = DenseDesign(self.Xraw)
            else:
                self._design = self.layout.design(self.Xraw)
        return self._design

    @property
    def X(self) -> np.ndarray | None:
        """The partition's X as a dense n x p array (with a layout: formed when a block
        function reads it, n x p; the fit's passes use :attr:`design`)."""
        if self.layout is None or self.Xraw is None:
            return self.Xraw
        if self._dense is None:
            self._dense = self.design.to_dense()
        return self._dense

    @classmethod
    def from_raw(cls, X, y, offset, exposure, fw, vw, drop_missing: bool,
                 expected_rows: int, layout=None) -> Block:
        # a partition sent from the client can arrive at an address that is not a multiple
        # of 8 (distributed's frames): numpy then skips BLAS and its fast loops (X' u on
        # 100k x 21: 22 ms against 0.75 ms aligned), so such arrays are copied once here
        X, y, offset, exposure, fw, vw = (
            a if a is None or not isinstance(a, np.ndarray) or a.flags.aligned else np.array(a)
            for a in (X, y, offset, exposure, fw, vw))
        n = y.shape[0]
        for name, a in zip(RAW_NAMES, (X, y, offset, exposure, fw, vw)):
            if a is not None and a.shape[0] != n:
                raise ValueError(f"the partitions of the inputs do not line up: a partition has "
                                 f"{n} rows of endog but {a.shape[0]} of {name}; give inputs "
                                 "with the same partitions (or chunks).")
        if expected_rows == expected_rows and n != expected_rows:   # NaN: not known yet
            raise ValueError(f"a partition has {n} rows where {expected_rows} were declared; "
                             "the partitions' sizes (chunks) are not the data's.")
        b = cls()
        b.n_raw = n
        b.raw = (X, y, offset, exposure, fw, vw)
        if drop_missing:
            keep = complete_rows(X, y, offset, exposure, fw, vw)
            if not keep.all():
                X, y = (None if X is None else X[keep]), y[keep]
                offset, exposure, fw, vw = (None if a is None else a[keep]
                                            for a in (offset, exposure, fw, vw))
                n = y.shape[0]
        #: the inputs as given (None when absent), after dropping incomplete rows
        b.inputs = dict(zip(RAW_NAMES, (X, y, offset, exposure, fw, vw)))
        b.n = n
        b.Xraw = X
        b.layout = layout
        b._design = b._dense = None
        b.work = {}
        b.two_col = y.ndim == 2
        if b.two_col:
            succ, fail = y[:, 0], y[:, 1]
            nt = succ + fail
            with np.errstate(all="ignore"):
                b.y = np.divide(succ, nt, out=np.zeros(n), where=nt > 0)
            b.n_trials = nt
        else:
            b.y = y
            b.n_trials = np.ones(n)
        b.var_weights = np.ones(n) if vw is None else vw
        b.freq_weights = np.ones(n) if fw is None else fw
        b.prior_weights = b.var_weights * b.n_trials
        b.total_weights = b.freq_weights * b.prior_weights
        b.exposure = exposure
        off = np.zeros(n) if offset is None else np.array(offset, dtype=float)
        if exposure is not None:
            with np.errstate(all="ignore"):
                off = off + np.log(exposure)
        b.offset = off
        return b


def run_pinned(fn, block: Block, extras: tuple, args: tuple):
    """``fn(block, *extras, *args)`` on a block (one pinned for the fit by
    glmkit.design.pinned, or one :func:`_run_block` builds from the source), with its row
    counts added to a dict result."""
    with np.errstate(all="ignore"):
        out = fn(block, *extras, *args)
    if isinstance(out, dict):
        out.setdefault("rows", float(block.n))
        out.setdefault("raw_rows", float(block.n_raw))
    return out


def run_group(fn, blocks: list, extras: list, args: tuple) -> dict:
    """:func:`run_pinned` on each pinned block of one worker thread in turn (``extras``: the
    per-row extras of each block), the partial dicts combined in partition order: a pass
    is one task per worker thread that returns one sum, not one task per partition and a
    tree of combining tasks (during which the workers sat idle 13-25 % of a pass of
    5M x 20 in 20 partitions on 2 workers)."""
    total: dict = {}
    for block, ex in zip(blocks, extras):
        _merge(total, run_pinned(fn, block, ex, args))
    return total


def complete_rows(X, y, offset, exposure, fw, vw) -> np.ndarray:
    """Rows without NaN in any input."""
    keep = ~np.isnan(y).any(axis=1) if y.ndim == 2 else ~np.isnan(y)
    if X is not None:
        keep &= ~np.isnan(X).any(axis=1)
    for a in (offset, exposure, fw, vw):
        if a is not None:
            keep &= ~np.isnan(a)
    return keep


def _run_block(fn, X, y, offset, exposure, fw, vw, drop, rows, extras, args, index=0,
               layout=None):
    block = Block.from_raw(X, y, offset, exposure, fw, vw, drop, rows, layout)
    block.index = index
    return run_pinned(fn, block, extras, args)


def _run_rows(fn, X, y, offset, exposure, fw, vw, drop, rows, extras, args, index=0,
              layout=None):
    block = Block.from_raw(X, y, offset, exposure, fw, vw, drop, rows, layout)
    block.index = index
    with np.errstate(all="ignore"):
        out = np.asarray(fn(block, *extras, *args), dtype=float)
    if out.shape[:1] != (block.n,):   # pragma: no cover - a programming error
        raise RuntimeError("a per-row function returned the wrong number of rows")
    return out


def combine(*parts: dict) -> dict:
    """Combine partial results in order (see the module's conventions)."""
    out: dict[str, Any] = {}
    for part in parts:
        _merge(out, part)
    return out


def _merge(out: dict, part: dict) -> None:
    """Add one partial result to ``out`` (its arrays are copies: summed in place)."""
    for k, v in part.items():
        if v is None:
            continue
        if k not in out or out[k] is None:
            out[k] = np.array(v, copy=True) if isinstance(v, np.ndarray) else v
        elif k.endswith("_min"):
            out[k] = np.minimum(out[k], v)
        elif k.endswith("_max"):
            out[k] = np.maximum(out[k], v)
        elif k.endswith("_any"):
            out[k] = np.logical_or(out[k], v)
        elif k.endswith("_all"):
            out[k] = np.logical_and(out[k], v)
        elif k.endswith("_first"):
            pass
        elif k.endswith("_sample"):
            out[k] = np.concatenate([out[k], v], axis=0)
        elif isinstance(out[k], np.ndarray) and isinstance(v, np.ndarray) \
                and out[k].shape == v.shape and out[k].dtype == np.result_type(out[k], v):
            out[k] += v   # (a p x p Gram: no new array per partition)
        else:
            out[k] = out[k] + v


def tree_reduce(parts: list, split_every: int = SPLIT_EVERY):
    """Delayed sum of delayed partials: a fixed tree over consecutive partitions."""
    from dask import delayed

    if not parts:
        return delayed(dict)()
    while len(parts) > 1:
        parts = [delayed(combine, pure=False)(*parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    return parts[0]


# ---------------------------------------------------------------------- the source
class RowSource:
    """Aligned raw inputs, as lazy dask arrays with the same row chunks.

    Parameters
    ----------
    raw : dict with keys ``RAW_NAMES``; 'X' (n x p, one column chunk) and 'y' (n or n x 2)
        are required, the others may be None.
    drop_missing : drop the rows with a NaN in any input inside every task.
    layout : a :class:`~glmkit.design.partition_layout.ColumnLayout` when X's raw columns
        hold level codes of factors (formulas), else None (X is the design).
    """

    def __init__(self, raw: dict, drop_missing: bool = False, layout=None):
        self.raw = raw
        self.drop_missing = bool(drop_missing)
        self.layout = layout
        X = raw["X"]
        #: rows per partition of the inputs (NaN where not known before the data pass)
        self.raw_chunks: tuple = tuple(X.chunks[0])
        for a in raw.values():
            if a is not None and not any(np.isnan(c) for c in a.chunks[0]):
                self.raw_chunks = tuple(a.chunks[0])
                break
        if layout is not None and layout.raw_width != X.shape[1]:   # pragma: no cover
            raise ValueError("the column layout does not describe exog's columns.")
        #: columns of the design (with a layout, not those of the raw array)
        self.p = int(X.shape[1]) if layout is None else layout.p
        self._blocks = {k: (None if a is None else list(a.to_delayed(optimize_graph=False).ravel()))
                        for k, a in raw.items()}
        for k, b in self._blocks.items():
            if b is not None and len(b) != len(self.raw_chunks):   # pragma: no cover
                raise ValueError(f"{k} does not have the partitions of exog.")
        #: rows per partition after dropping incomplete rows (set by the data pass)
        self.chunks: tuple = self.raw_chunks
        #: the partitions' blocks persisted for one fit (glmkit.design.pinned), else None
        self.pinned: list | None = None
        #: the pinned partitions of each worker thread (consecutive runs; a pass over the
        #: pinned blocks is one task per group), else None
        self.pin_groups: list[list[int]] | None = None

    def unpin(self) -> None:
        """Release the pinned blocks (the next passes read the source again)."""
        self.pinned = None
        self.pin_groups = None

    def set_sizes(self, raw_rows, kept_rows) -> None:
        """Record the partition sizes counted by the data pass (and give the raw arrays
        known chunks)."""
        import dask.array as da

        self.raw_chunks = tuple(int(round(c)) for c in raw_rows)
        self.chunks = tuple(int(round(c)) for c in kept_rows)
        for k, a in self.raw.items():
            if a is not None and any(np.isnan(c) for c in a.chunks[0]):
                self.raw[k] = da.Array(a.dask, a.name, chunks=(self.raw_chunks,) + a.chunks[1:],
                                       meta=a._meta)

    @property
    def nblocks(self) -> int:
        return len(self.raw_chunks)

    @property
    def n(self) -> int:
        return int(sum(self.chunks))

    def _expected(self, i: int):
        c = self.raw_chunks[i]
        return c if np.isnan(c) else int(c)

    def _raw_args(self, i: int, need_X: bool) -> list:
        out: list = []
        for k in RAW_NAMES:
            blocks = self._blocks[k]
            if blocks is None or (k == "X" and not need_X and not self.drop_missing):
                out.append(None)
            else:
                out.append(blocks[i])
        return out

    def _extra_blocks(self, extras) -> list[list]:
        """Per-partition pieces of each extra: a dask array with the partitions' chunks, or
        a list of delayed blocks (one per partition)."""
        out: list[list] = []
        for e in extras:
            blocks = list(e) if isinstance(e, list) else list(
                e.to_delayed(optimize_graph=False).ravel())
            if len(blocks) != self.nblocks:   # pragma: no cover - a programming error
                raise RuntimeError("an extra per-row input does not have the data's partitions")
            out.append(blocks)
        return out

    def partials(self, fn: Callable, *extras, args: tuple = (), need_X: bool = True) -> list:
        """One delayed partial result per partition: ``fn(block, *extra_blocks, *args)``.

        ``extras`` are lazy per-row arrays aligned with the (filtered) rows, e.g. a linear
        predictor from :meth:`map_rows`.
        """
        from dask import delayed

        eb = self._extra_blocks(extras)
        if self.pinned is not None:   # the blocks kept on the workers for this fit
            pinned = delayed(run_pinned, pure=False)
            return [pinned(fn, self.pinned[i], tuple(b[i] for b in eb), tuple(args))
                    for i in range(self.nblocks)]
        run = delayed(_run_block, pure=False)
        return [run(fn, *self._raw_args(i, need_X), self.drop_missing, self._expected(i),
                    tuple(b[i] for b in eb), tuple(args), i, self.layout)
                for i in range(self.nblocks)]

    def map_reduce(self, fn: Callable, *extras, args: tuple = (), need_X: bool = True):
        """Delayed total over partitions of ``fn(block, ...)`` dicts (see :func:`combine`):
        on pinned blocks one task per group of blocks (:func:`run_group`), else one per
        partition, summed in a fixed tree."""
        if self.pinned is not None and self.pin_groups is not None:
            return tree_reduce(self._group_partials(fn, extras, args))
        return tree_reduce(self.partials(fn, *extras, args=args, need_X=need_X))

    def _group_partials(self, fn: Callable, extras: tuple, args: tuple) -> list:
        """One delayed partial per group of pinned blocks (in partition order)."""
        from dask import delayed

        eb = self._extra_blocks(extras)
        run = delayed(run_group, pure=False)
        pinned = self.pinned
        assert pinned is not None and self.pin_groups is not None
        return [run(fn, [pinned[i] for i in g], [tuple(b[i] for b in eb) for i in g],
                    tuple(args))
                for g in self.pin_groups if g]

    def map_rows(self, fn: Callable, *extras, args: tuple = (), need_X: bool = True,
                 ncols: int | None = None):
        """Lazy per-row array (chunks = the partitions) of ``fn(block, *extra_blocks, *args)``;
        n x ``ncols`` when ``ncols`` is given."""
        from dask import delayed

        eb = self._extra_blocks(extras)
        run = delayed(_run_rows, pure=False)
        pieces = [run(fn, *self._raw_args(i, need_X), self.drop_missing, self._expected(i),
                      tuple(b[i] for b in eb), tuple(args), i, self.layout)
                  for i in range(self.nblocks)]
        return array_from_delayed(pieces, self.chunks, ncols)


def array_from_delayed(pieces: list, chunks, ncols: int | None = None, name: str = "glmkit-rows"):
    """A dask array with one row chunk per delayed NumPy block (chunks as given, empty
    ones kept, unlike ``da.concatenate``); n x ``ncols`` when ``ncols`` is given."""
    import uuid

    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    key = f"{name}-{uuid.uuid4().hex}"
    tail = () if ncols is None else (0,)
    dsk: dict[Any, Any] = {(key, i, *tail): d.key for i, d in enumerate(pieces)}
    graph = HighLevelGraph.from_collections(key, dsk, dependencies=pieces)
    rows = tuple(c if np.isnan(c) else int(c) for c in chunks)
    shape_chunks = (rows,) + (() if ncols is None else ((int(ncols),),))
    return da.Array(graph, key, chunks=shape_chunks, dtype=float,
                    meta=np.empty((0,) * len(shape_chunks), dtype=float))


# ---------------------------------------------------------------------- execution
def _cluster_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the cluster failing (not an error raised by glmkit's own tasks)."""
    mod = type(exc).__module__ or ""
    name = type(exc).__name__
    return (mod.startswith(("distributed", "tornado"))
            or name in ("KilledWorker", "CancelledError", "FutureCancelledError",
                        "CommClosedError", "TimeoutError"))


class _null_context:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress_bar(show: bool):
    if not show:
        return _null_context()
    from dask.diagnostics import ProgressBar

    return ProgressBar()


def _one_blas_thread_per_task():
    """On Dask's local threaded scheduler each task's BLAS calls would start their own
    threads (threads x BLAS threads > cores): limit BLAS to one thread per task while a
    pass runs (as the in-memory sweeps' threads do). Workers of dask.distributed already
    run with one BLAS thread."""
    import dask

    from .._parallel import one_blas_thread

    if dask.config.get("scheduler", None) not in (None, "threads", "threading"):
        return _null_context()
    return one_blas_thread()


class Executor:
    """Runs the graphs of one fit: on ``client`` when given, else on Dask's default scheduler
    (the active distributed client if there is one, otherwise the local threads).

    ``verbose``: True prints one line per pass (what, deviance, seconds); a callable receives
    a dict per pass instead. ``progress``: show Dask's progress bar for each pass.
    """

    def __init__(self, client=None, progress: bool = False, verbose: bool | Callable = False):
        self.client = client
        self.progress = bool(progress)
        self.verbose = verbose
        self.passes = 0
        self.seconds = 0.0
        self.log: list[dict] = []

    def _default_client(self):
        if self.client is not None:
            return self.client
        try:
            from distributed import default_client

            import dask

            if dask.config.get("scheduler", None) not in (None, "dask.distributed", "distributed"):
                return None
            return default_client()
        except (ImportError, ValueError):
            return None

    def compute(self, obj, what: str):
        """Compute ``obj`` (a delayed or a tuple of them) and return the value."""
        import dask

        t0 = time.perf_counter()
        try:
            client = self._default_client() if (self.progress or self.client is not None) else None
            if client is not None:
                fut = client.compute(obj)
                if self.progress:
                    from distributed import progress

                    progress(fut)
                out = fut.result()
            else:
                with _one_blas_thread_per_task(), _progress_bar(self.progress):
                    (out,) = dask.compute(obj)
        except Exception as exc:
            if _cluster_failure(exc):
                raise DaskFitError(
                    f"the Dask cluster failed during the pass '{what}' ({type(exc).__name__}: "
                    f"{exc}); the fit was stopped and no result was returned. Check the "
                    "workers' memory and logs, then fit again.") from exc
            raise
        dt = time.perf_counter() - t0
        self.passes += 1
        self.seconds += dt
        return out, dt

    def report(self, what: str, seconds: float, **values) -> None:
        entry = {"pass": self.passes, "what": what, "seconds": seconds, **values}
        self.log.append(entry)
        shown = "  ".join(f"{k} {v:.10g}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in values.items())
        line = f"glmkit.dask pass {self.passes:3d}  {what:<14} {shown}  ({seconds:.2f} s)"
        _log.info(line)
        if callable(self.verbose):
            self.verbose(entry)
        elif self.verbose:
            print(line, flush=True)

    def total(self, source: RowSource, tree, what: str, expect_rows: bool = True) -> dict:
        """Compute a reduction and check that it saw every row."""
        out, dt = self.compute(tree, what)
        if expect_rows and int(round(out.get("rows", 0.0))) != source.n:
            raise DaskFitError(f"the pass '{what}' saw {int(out.get('rows', 0))} rows where "
                               f"the data have {source.n}: the source changed between passes "
                               "or a partition was lost; no result was returned.")
        out["_seconds"] = dt
        return out
