"""Columns of a local Parquet data set as the inputs of ``GLM``, read lazily (streamed in
every pass, so the data may be larger than memory)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .partitioned import require_dask

def read_parquet_design(path, endog: str | list[str], exog: list[str], *, offset: str | None = None,
                        exposure: str | None = None, freq_weights: str | None = None,
                        var_weights: str | None = None, add_constant: bool = True,
                        row_groups_per_partition: int = 1) -> dict:
    """Columns of a local Parquet data set as the keyword arguments of ``GLM``, read lazily.

    >>> d = glmkit.dask.read_parquet_design("data/", "claims", ["age", "power"],
    ...                                     exposure="years")
    >>> res = sm.GLM(family=sm.families.Poisson(), **d).fit(verbose=True)

    Only the files' metadata are read here (row counts give the partitions' sizes). Each
    pass of the fit reads every partition again -- ``row_groups_per_partition`` row groups
    of one file, straight from pyarrow into one float block (no pandas) -- and drops it, so
    memory is bounded by a few partitions per worker and the data may be larger than
    memory. ``endog`` may name two columns [successes, failures] for a binomial;
    ``add_constant`` adds an intercept column 'const' first. For other storage (S3, ...)
    or layouts, pass ``dask.dataframe.read_parquet(...)`` columns to ``GLM`` instead.
    """
    require_dask()
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq
    from dask import delayed

    from .partitioned import array_from_delayed

    ycols = [endog] if isinstance(endog, str) else list(endog)
    extras = {k: c for k, c in (("offset", offset), ("exposure", exposure),
                                ("freq_weights", freq_weights), ("var_weights", var_weights)) if c}
    cols = ycols + list(extras.values()) + list(exog)
    files = sorted(pds.dataset(path, format="parquet").files)
    if not files:
        raise ValueError(f"no Parquet files under {path!r}.")
    schema = pq.read_schema(files[0])
    lacking = [c for c in dict.fromkeys(cols) if c not in schema.names]
    if lacking:
        raise ValueError(f"the Parquet data have no column(s) {lacking}; they have {schema.names}.")
    import pyarrow.types as pat

    bad = [c for c in dict.fromkeys(cols) if not (pat.is_integer(schema.field(c).type) or
                                                   pat.is_floating(schema.field(c).type) or
                                                   pat.is_boolean(schema.field(c).type))]
    if bad:
        raise TypeError(f"column(s) {bad} are not numeric; encode them as numbers or use the "
                        "formula interface on a dask DataFrame (glmkit.dask.glm).")
    step = max(1, int(row_groups_per_partition))
    read = delayed(_read_parquet_block, pure=True)
    tasks, rows = [], []
    for f in files:
        md = pq.ParquetFile(f).metadata
        for g in range(0, md.num_row_groups, step):
            groups = tuple(range(g, min(g + step, md.num_row_groups)))
            tasks.append(read(f, groups, cols, len(cols) - len(exog) if add_constant else None))
            rows.append(sum(md.row_group(i).num_rows for i in groups))
    width = len(cols) + int(add_constant)
    packed = array_from_delayed(tasks, rows, width, name="glmkit-parquet")
    ny, pos = len(ycols), len(ycols)
    out: dict[str, Any] = {"endog": packed[:, 0] if ny == 1 else packed[:, :2]}
    for k in ("offset", "exposure", "freq_weights", "var_weights"):
        if k in extras:
            out[k], pos = packed[:, pos], pos + 1
        else:
            out[k] = None
    out["exog"] = packed[:, pos:]
    out["exog_names"] = (["const"] if add_constant else []) + [str(c) for c in exog]
    out["endog_names"] = ", ".join(ycols)
    return out


def _column_as_float(col) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)


def _read_parquet_block(file: str, groups: tuple, cols: list[str], const_at):
    """Row groups of one Parquet file as one column-major float block: the columns ``cols``
    in order (nulls as NaN), with a column of ones inserted at position ``const_at``."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(file).read_row_groups(list(groups), columns=list(dict.fromkeys(cols)))
    # column-major: each column is written contiguously, and the design's columns stay one
    # contiguous (Fortran) block that BLAS reads as fast as a row-major one
    out = np.empty((table.num_rows, len(cols) + (const_at is not None)), order="F")
    j = 0
    for i, c in enumerate(cols):
        if i == const_at:
            out[:, j] = 1.0
            j += 1
        out[:, j] = _column_as_float(table.column(c))
        j += 1
    if const_at == len(cols):
        out[:, j] = 1.0
    return out
