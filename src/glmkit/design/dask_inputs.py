"""Dask inputs of a GLM turned into row-aligned lazy float arrays.

Accepted for endog, exog, offset, exposure, freq_weights and var_weights: dask arrays, dask
DataFrames and Series, and (next to at least one Dask input) NumPy or pandas arrays and
scalars, which are split into the same partitions.

Alignment
---------
All dask DataFrame/Series inputs are read through ONE ``dask.dataframe.map_partitions`` that
packs their partitions side by side into a float block, so that Dask's optimizer reads each
partition once with the union of the columns (dask-expr fuses the partitions of a Parquet
read differently for different column projections: ``ddf["y"]`` and ``ddf[xcols]`` may not
have the same partitions, so converting them one by one would not line up). Their partition
sizes are then unknown until the data pass counts them; nothing is read here.

Inputs are aligned partition by partition when they have the same number of partitions
(and, where known, the same sizes); otherwise their sizes are computed and they are
rechunked to the partitions of the first Dask input among exog, endog, offset, exposure,
freq_weights, var_weights. Every task checks that its blocks have the same number of rows,
so inputs that do not line up raise instead of giving numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .partitioned import is_dask_collection

_ORDER = ("exog", "endog", "offset", "exposure", "freq_weights", "var_weights")


@dataclass(frozen=True)
class DaskInputs:
    """Aligned lazy inputs and what is known about them without computing."""

    raw: dict          # RAW_NAMES -> dask array or None
    exog_names: list[str] | None
    endog_names: str
    is_pandas: bool
    two_col: bool


def _kind(x) -> str:
    if x is None:
        return "none"
    if is_dask_collection(x):
        mod = type(x).__module__
        if mod.startswith("dask.dataframe"):
            return "frame" if getattr(x, "ndim", 1) == 2 else "series"
        if mod.startswith("dask.array"):
            return "array" if x.ndim > 0 else "scalar"
        raise TypeError(f"unsupported Dask collection {type(x).__name__}; give dask arrays or "
                        "dask DataFrames/Series.")
    return "local"


def _check_numeric_dtype(dtype, name: str) -> None:
    if np.dtype(dtype).kind == "c":
        raise TypeError(f"{name} must be real, got complex values.")
    if np.dtype(dtype).kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got an array of dtype {dtype}.")


def _check_frame_dtypes(x, name: str) -> None:
    dtypes = x.dtypes.items() if getattr(x, "ndim", 1) == 2 else [(x.name, x.dtype)]
    bad = [c for c, t in dtypes if not (pd.api.types.is_numeric_dtype(t)
                                        or pd.api.types.is_bool_dtype(t))]
    if bad:
        raise TypeError(f"{name} has non-numeric columns {bad}: encode them as numbers (for "
                        "categorical variables use dummy columns or the formula interface, "
                        "glmkit.dask.glm).")


# ----------------------------------------------------------------- packed frames
def _pack_parts(*parts) -> pd.DataFrame:
    """The partitions of several frames/series side by side, by position, as floats."""
    n = len(parts[0])
    if any(len(p) != n for p in parts):
        raise ValueError(f"the partitions of the dask inputs do not line up (a partition has "
                         f"{[len(p) for p in parts]} rows in the inputs); give inputs with "
                         "the same partitions.")
    widths = [p.shape[1] if p.ndim == 2 else 1 for p in parts]
    out = np.empty((n, sum(widths)), order="F")   # columns written contiguously
    j = 0
    for p, w in zip(parts, widths):
        out[:, j:j + w] = np.asarray(p.to_numpy(dtype=float, na_value=np.nan)).reshape(n, w)
        j += w
    return pd.DataFrame(out, copy=False)


def _frame_to_numpy(part) -> np.ndarray:
    return np.ascontiguousarray(part.to_numpy(dtype=float))


def pack_frames(frames: list):
    """Dask DataFrames/Series side by side as one float dask array (partition sizes unknown)
    and the column span of each: [(start, stop, two_d)]."""
    import dask.dataframe as dd

    spans, start = [], 0
    for f in frames:
        width = len(f.columns) if getattr(f, "ndim", 1) == 2 else 1
        spans.append((start, start + width, getattr(f, "ndim", 1) == 2))
        start += width
    meta = pd.DataFrame(np.empty((0, start)))
    packed = dd.map_partitions(_pack_parts, *frames, meta=meta, align_dataframes=False,
                               enforce_metadata=False)
    return packed.to_dask_array(), spans


# ------------------------------------------------------------------------ chunks
def _unknown(chunks) -> bool:
    return any(np.isnan(c) for c in chunks)


def known_chunks(a):
    """A dask array with known chunk sizes (computing them, one pass, when unknown)."""
    if _unknown(a.chunks[0]):
        a = a.copy()
        a.compute_chunk_sizes()
    return a


def _same_chunks(a, b) -> bool:
    """Same number of partitions, and the same sizes where both are known (partitions of
    unknown size are matched by position; every task checks its blocks' lengths)."""
    ca, cb = a.chunks[0], b.chunks[0]
    return len(ca) == len(cb) and all(np.isnan(x) or np.isnan(y) or x == y
                                      for x, y in zip(ca, cb))


def _names_of(x) -> list[str | None] | None:
    if getattr(x, "ndim", 1) == 2 and hasattr(x, "columns"):
        return [str(c) for c in x.columns]
    if hasattr(x, "name") and not isinstance(x, np.ndarray):
        return [str(x.name) if x.name is not None else None]
    return None


def normalize(endog, exog, family, offset=None, exposure=None, freq_weights=None,
              var_weights=None) -> DaskInputs:
    """Aligned lazy inputs (see the module notes); raises on shapes, dtypes and kinds."""
    from ..families import Binomial

    if endog is None or exog is None:
        raise ValueError("GLM needs both endog (the response) and exog (the design matrix); "
                         "use add_constant(...) for an intercept-only design.")
    given = {"exog": exog, "endog": endog, "offset": offset, "exposure": exposure,
             "freq_weights": freq_weights, "var_weights": var_weights}
    kinds = {k: _kind(v) for k, v in given.items()}
    arrays = _dask_arrays(given, kinds)
    X = arrays["exog"]
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"exog must be 2-d (n rows x k columns), got {X.ndim} dimensions.")
    if X.shape[1] == 0 or X.shape[0] == 0:
        raise ValueError(f"exog is empty (shape {X.shape}); it needs at least one row and column.")
    if len(X.chunks[1]) > 1:
        X = known_chunks(X).rechunk({1: -1})
    y = arrays["endog"]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    two_col = y.ndim == 2 and y.shape[1] == 2
    if y.ndim != 1 and not two_col:
        raise ValueError(f"endog must be 1-d (or two columns [successes, failures] for "
                         f"Binomial), got shape {y.shape}.")
    if two_col and not isinstance(family, Binomial):
        raise ValueError("a two-column endog is only meaningful for the Binomial family "
                         f"([successes, failures]); the family is {family.name}.")
    if two_col and len(y.chunks[1]) > 1:
        y = known_chunks(y).rechunk({1: -1})
    raw = {"X": X, "y": y}
    for name in ("offset", "exposure", "freq_weights", "var_weights"):
        v = arrays[name]
        if v is not None:
            if v.ndim == 2 and v.shape[1] == 1:
                v = v[:, 0]
            if v.ndim != 1:
                raise ValueError(f"{name} must be a 1-d array with one value per row, got "
                                 f"shape {v.shape}.")
        raw[name] = v
    labelled = ("frame", "series")
    xcols = _names_of(exog) if kinds["exog"] in labelled or isinstance(
        exog, (pd.DataFrame, pd.Series)) else None
    ycols = _names_of(endog) if kinds["endog"] in labelled or isinstance(
        endog, (pd.DataFrame, pd.Series)) else None
    exog_names = [str(c) for c in xcols] if xcols is not None and None not in xcols else None
    if exog_names is not None and len(set(exog_names)) != len(exog_names):
        raise ValueError(f"exog column names must be unique, got {exog_names}.")
    if ycols is None or None in ycols:
        endog_names = "y"
    else:
        endog_names = ", ".join(str(c) for c in ycols) if two_col else str(ycols[0])
    is_pandas = xcols is not None or ycols is not None
    return DaskInputs(raw=raw, exog_names=exog_names, endog_names=endog_names,
                      is_pandas=is_pandas, two_col=two_col)


def _dask_arrays(given: dict, kinds: dict) -> dict:
    """Every input as a float dask array, aligned with the first Dask input."""
    arrays: dict[str, Any] = {k: None for k in _ORDER}
    frames = [k for k in _ORDER if kinds[k] in ("frame", "series")]
    for k in frames:
        _check_frame_dtypes(given[k], k)
    if frames:
        packed, spans = pack_frames([given[k] for k in frames])
        for k, (a, b, two_d) in zip(frames, spans):
            arrays[k] = packed[:, a:b] if two_d else packed[:, a]
    for k in _ORDER:
        if kinds[k] == "array":
            _check_numeric_dtype(given[k].dtype, k)
            arrays[k] = given[k].astype(float)
    ref_name = next(k for k in _ORDER if arrays[k] is not None)
    ref = arrays[ref_name]
    others = [k for k in _ORDER if arrays[k] is not None and k != ref_name]
    need_sizes = any(kinds[k] in ("local", "scalar") for k in _ORDER) or any(
        not _same_chunks(arrays[k], ref) for k in others)
    if need_sizes:
        ref = arrays[ref_name] = known_chunks(ref)
        chunks = tuple(int(c) for c in ref.chunks[0])
        n = int(sum(chunks))
        for k in others:
            a = known_chunks(arrays[k])
            if a.shape[0] != n:
                what = "exog" if k != "exog" else "endog"
                raise ValueError(f"{k} has {a.shape[0]} rows but {what} has {n}; they must match.")
            arrays[k] = a if tuple(a.chunks[0]) == chunks else a.rechunk({0: chunks})
        for k in _ORDER:
            if kinds[k] in ("local", "scalar"):
                arrays[k] = _local_to_dask(given[k], k, chunks)
    elif not _unknown(ref.chunks[0]):
        n = int(sum(ref.chunks[0]))
        for k in others:
            if arrays[k].shape[0] != n:
                raise ValueError(f"{k} has {arrays[k].shape[0]} rows but {ref_name} has {n}; "
                                 "they must match.")
    return arrays


def _local_to_dask(x, name: str, chunks: tuple[int, ...]):
    import dask.array as da

    n = int(sum(chunks))
    if is_dask_collection(x):          # a 0-d dask array
        x = np.asarray(x.compute())
    from .. import _data

    arr, _, _ = _data._to_array(x, name)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape[0] != n:
        what = "exog" if name != "exog" else "endog"
        raise ValueError(f"{name} has {arr.shape[0]} rows but {what} has {n}; they must match.")
    return da.from_array(arr, chunks=(chunks,) + tuple(-1 for _ in arr.shape[1:]))


# --------------------------------------------------------- labels (cluster groups)
def _slice_rows(start: int, stop: int, *blocks) -> np.ndarray:
    whole = np.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
    return whole[start:stop]


def _split_blocks(pieces: list, lengths, chunks) -> list:
    """Delayed blocks of the given ``lengths`` re-cut into blocks of ``chunks`` rows."""
    from dask import delayed

    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    out = []
    start = 0
    for c in chunks:
        stop = start + int(c)
        first = max(int(np.searchsorted(bounds, start, side="right")) - 1, 0)
        last = min(max(int(np.searchsorted(bounds, stop, side="left")), first + 1), len(pieces))
        out.append(delayed(_slice_rows, pure=True)(start - int(bounds[first]),
                                                   stop - int(bounds[first]),
                                                   *pieces[first:last]))
        start = stop
    return out


def as_row_blocks(x, chunks: tuple[int, ...], name: str) -> list:
    """Delayed NumPy blocks of labels ``x`` (dask array/Series/DataFrame or local array;
    any dtype) cut like the data's partitions (``chunks`` rows each).

    A dask Series/DataFrame with as many partitions as the data is taken partition by
    partition (each task checks the lengths); otherwise its lengths are computed and its
    partitions re-cut.
    """
    import dask
    import dask.array as da
    from dask import delayed

    n = int(sum(chunks))
    kind = _kind(x)
    if kind in ("frame", "series"):
        parts = list(x.to_dask_array().to_delayed(optimize_graph=False).ravel())
        if len(parts) == len(chunks):
            return parts
        lengths = dask.compute(*[delayed(len, pure=True)(p) for p in parts])
        if sum(lengths) != n:
            raise ValueError(f"{name} must have one value per row ({n}), got {sum(lengths)}.")
        return _split_blocks(parts, lengths, chunks)
    if kind == "array":
        a = known_chunks(x)
    else:
        arr = np.asarray(x.to_numpy() if isinstance(x, (pd.Series, pd.DataFrame)) else x)
        a = da.from_array(arr, chunks=(chunks,) + tuple(-1 for _ in arr.shape[1:]))
    if a.shape[0] != n or a.ndim > 2:
        raise ValueError(f"{name} must have one value per row ({n}), got shape {a.shape}.")
    if tuple(a.chunks[0]) != tuple(chunks):
        a = a.rechunk({0: chunks})
    if a.ndim == 2:
        a = a.rechunk({1: -1})
    return list(a.to_delayed(optimize_graph=False).ravel())
