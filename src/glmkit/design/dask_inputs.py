"""Dask inputs of a GLM turned into aligned lazy float arrays (no data is computed here,
except the partition lengths of a data frame when no input gives them).

Accepted for endog, exog, offset, exposure, freq_weights and var_weights: dask arrays, dask
DataFrames and Series, and (next to at least one Dask input) NumPy or pandas arrays and
scalars, which are split into the same partitions. All inputs end up as dask arrays with the
row chunks of the first Dask input among exog, endog, offset, exposure, freq_weights,
var_weights; the design has one column chunk.
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
            return "frame" if hasattr(x, "columns") else "series"
        if mod.startswith("dask.array"):
            return "array"
        raise TypeError(f"unsupported Dask collection {type(x).__name__}; give dask arrays or "
                        "dask DataFrames/Series.")
    return "local"


def _check_numeric_dtype(dtype, name: str) -> None:
    if np.dtype(dtype).kind == "c":
        raise TypeError(f"{name} must be real, got complex values.")
    if np.dtype(dtype).kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got an array of dtype {dtype}.")


def _check_frame_dtypes(x, name: str) -> None:
    dtypes = x.dtypes.items() if hasattr(x, "columns") else [(x.name, x.dtype)]
    bad = [c for c, t in dtypes if not (pd.api.types.is_numeric_dtype(t)
                                        or pd.api.types.is_bool_dtype(t))]
    if bad:
        raise TypeError(f"{name} has non-numeric columns {bad}: encode them as numbers (for "
                        "categorical variables use dummy columns or the formula interface, "
                        "glmkit.dask.glm).")


def _part_to_numpy(part, two_d: bool) -> np.ndarray:
    a = part.to_numpy(dtype=float, na_value=np.nan)
    if two_d:
        return a.reshape(a.shape[0], -1)
    return a.reshape(-1)


def frame_lengths(x) -> tuple[int, ...]:
    """Rows per partition of a dask DataFrame/Series (one pass; Parquet metadata may suffice)."""
    return tuple(int(v) for v in x.map_partitions(len).compute())


def frame_to_array(x, lengths: tuple[int, ...]):
    """A dask DataFrame/Series as a float dask array with the given partition lengths
    (checked by every task that reads it)."""
    import dask.array as da
    from dask import delayed

    two_d = hasattr(x, "columns")
    ncol = len(x.columns) if two_d else None
    parts = x.to_delayed()
    if len(parts) != len(lengths):
        raise ValueError(f"internal: {len(parts)} partitions for {len(lengths)} lengths")
    conv = delayed(_part_to_numpy, pure=True)
    pieces = []
    for part, n in zip(parts, lengths):
        shape = (n, ncol) if two_d else (n,)
        meta = np.empty((0, ncol) if two_d else (0,), dtype=float)
        pieces.append(da.from_delayed(conv(part, two_d), shape=shape, dtype=float, meta=meta))
    return da.concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]


def _known_chunks(a):
    """A dask array with known chunk sizes (computing them when they are not)."""
    if any(np.isnan(c) for c in a.chunks[0]):
        a = a.copy()
        a.compute_chunk_sizes()
    return a


def _names_of(x) -> list[str] | None:
    if hasattr(x, "columns"):
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
    chunks = _reference_chunks(given, kinds)
    arrays: dict[str, Any] = {}
    for name in _ORDER:
        arrays[name] = _as_dask(given[name], kinds[name], name, chunks)
    X = arrays["exog"]
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"exog must be 2-d (n rows x k columns), got {X.ndim} dimensions.")
    n, k = X.shape
    if n == 0 or k == 0:
        raise ValueError(f"exog is empty (shape {X.shape}); it needs at least one row and column.")
    X = X.rechunk({1: -1})
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
    if two_col:
        y = y.rechunk({1: -1})
    raw = {"X": X, "y": y}
    for name in ("offset", "exposure", "freq_weights", "var_weights"):
        v = arrays[name]
        if v is not None:
            if v.ndim == 2 and 1 in v.shape[1:]:
                v = v[:, 0]
            if v.ndim != 1:
                raise ValueError(f"{name} must be a 1-d array with one value per row ({n}), "
                                 f"got shape {v.shape}.")
        raw[name] = v
    xcols = _names_of(exog) if kinds["exog"] in ("frame", "series") or isinstance(
        exog, (pd.DataFrame, pd.Series)) else None
    ycols = _names_of(endog) if kinds["endog"] in ("frame", "series") or isinstance(
        endog, (pd.DataFrame, pd.Series)) else None
    exog_names = xcols if xcols is not None and None not in xcols else None
    if exog_names is not None and len(set(exog_names)) != len(exog_names):
        raise ValueError(f"exog column names must be unique, got {exog_names}.")
    if ycols is None or None in ycols:
        endog_names = "y"
    else:
        endog_names = ", ".join(ycols) if two_col else ycols[0]
    is_pandas = xcols is not None or ycols is not None
    return DaskInputs(raw=raw, exog_names=exog_names, endog_names=endog_names,
                      is_pandas=is_pandas, two_col=two_col)


def _reference_chunks(given: dict, kinds: dict) -> tuple[int, ...]:
    for name in _ORDER:
        if kinds[name] == "array":
            a = given[name]
            _check_numeric_dtype(a.dtype, name)
            if a.ndim == 0:
                continue
            return tuple(int(c) for c in _known_chunks(a).chunks[0])
    for name in _ORDER:
        if kinds[name] in ("frame", "series"):
            return frame_lengths(given[name])
    raise TypeError("no Dask input")  # pragma: no cover - the dispatch checked for one


def _as_dask(x, kind: str, name: str, chunks: tuple[int, ...]):
    import dask.array as da

    n = int(sum(chunks))
    if kind == "none":
        return None
    if kind in ("frame", "series"):
        _check_frame_dtypes(x, name)
        if x.npartitions == len(chunks):
            return frame_to_array(x, chunks)
        a = frame_to_array(x, frame_lengths(x))
    elif kind == "array":
        _check_numeric_dtype(x.dtype, name)
        if x.ndim == 0:
            return da.full((n,), x.astype(float), chunks=(chunks,))
        a = _known_chunks(x).astype(float)
    else:
        from .. import _data

        arr, _, _ = _data._to_array(x, name)
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        a = da.from_array(arr, chunks=(chunks,) + tuple(-1 for _ in arr.shape[1:]))
    if a.shape[0] != n:
        what = "exog" if name != "exog" else "endog"
        raise ValueError(f"{name} has {a.shape[0]} rows but {what} has {n}; they must match.")
    if tuple(a.chunks[0]) != chunks:
        a = a.rechunk({0: chunks})
    return a


def as_row_blocks(x, chunks: tuple[int, ...], name: str, two_d_ok: bool = True) -> list:
    """Delayed NumPy blocks of ``x`` (dask array/Series/DataFrame or local array; object
    dtypes allowed, e.g. cluster labels) split by ``chunks`` rows."""
    import dask.array as da
    from dask import delayed

    n = int(sum(chunks))
    kind = _kind(x)
    if kind in ("frame", "series"):
        if x.npartitions == len(chunks):
            conv = delayed(_labels_to_numpy, pure=True)
            return [conv(p) for p in x.to_delayed()]
        lengths = frame_lengths(x)
        if sum(lengths) != n:
            raise ValueError(f"{name} must have one value per row ({n}), got {sum(lengths)}.")
        a = da.concatenate([da.from_delayed(delayed(_labels_to_numpy)(p), shape=(m,) if
                                            not hasattr(x, "columns") else (m, len(x.columns)),
                                            dtype=object)
                            for p, m in zip(x.to_delayed(), lengths)])
    elif kind == "array":
        a = _known_chunks(x)
    else:
        arr = np.asarray(x.to_numpy() if isinstance(x, (pd.Series, pd.DataFrame)) else x)
        a = da.from_array(arr, chunks=(chunks,) + tuple(-1 for _ in arr.shape[1:]))
    if a.shape[0] != n or (a.ndim == 2 and not two_d_ok) or a.ndim > 2:
        raise ValueError(f"{name} must have one value per row ({n}), got shape {a.shape}.")
    if tuple(a.chunks[0]) != chunks:
        a = a.rechunk({0: chunks})
    if a.ndim == 2:
        a = a.rechunk({1: -1})
    return list(a.to_delayed(optimize_graph=False).ravel())


def _labels_to_numpy(part) -> np.ndarray:
    return part.to_numpy()
