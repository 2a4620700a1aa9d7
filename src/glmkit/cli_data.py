"""Reading the data files of the ``glmkit`` command: CSV (any common separator,
compressed or not) and Parquet, only the columns a fit needs.

Memory
------
``glmkit fit`` reads the file once and only the columns it needs (those the formula and
the ``--offset``/``--exposure``/``--weights`` options name: ``usecols`` for CSV, column
projection for Parquet). Text columns are read straight into pandas categoricals (integer
codes and one copy of each level, not a Python string per row): the CSV reader is told
their dtype from a 1,000-row sample, Parquet text columns are read dictionary-encoded.
Parquet goes through pyarrow's ``to_pandas(self_destruct=True)``, which frees each Arrow
column once it is converted, so the file's data are not held twice. Numeric columns keep
their float64/int64 values (narrower types would change the fit). The formula interface
then fills the n x k float64 design column by column, once, the raw frame is released
before the fit, and the solver works on the design without copying it. The peak is about
the needed columns plus the design, not several copies of the file; data that do not fit
in memory once need the out-of-core engine (issue 5).

``glmkit predict`` streams: it reads the data in chunks of rows (``--chunksize``, CSV
chunks or Parquet record batches), predicts each chunk and appends it to the output, so
its memory does not grow with the file.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import os
import re
from typing import Any, Iterator

import pandas as pd

__all__ = ["CLIError", "csv_options", "read_data", "iter_data", "is_parquet", "check_file",
           "pyarrow_parquet"]

_SAMPLE_ROWS = 1000
_PARQUET_HINT = ("reading Parquet files needs pyarrow: pip install 'glmkit[parquet]' "
                 "(or pip install pyarrow)")


class CLIError(Exception):
    """An error to report as one line."""

def is_parquet(path: str) -> bool:
    if path.lower().endswith((".parquet", ".pq", ".parq")):
        return True
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def check_file(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise CLIError(f"{what} file {path!r} does not exist.")
    if os.path.isdir(path):
        raise CLIError(f"{what} {path!r} is a directory, not a file.")


_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")


def _head_lines(path: str, n: int = 21) -> list[str]:
    opener: Any = next((f for ext, f in _OPENERS.items() if path.lower().endswith(ext)), open)
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            return [line for _, line in zip(range(n), fh)]
    except OSError:
        return []


def csv_options(path: str) -> dict[str, Any]:
    """Separator (and decimal mark) of a delimited text file: the candidate among
    , ; tab | that splits the first lines into the same number of fields; ';' files
    with numbers like 1,5 use the decimal comma (R's read.csv2)."""
    if path.lower().endswith(_SPREADSHEETS):
        raise CLIError(f"{path} looks like a spreadsheet; glmkit reads CSV and Parquet "
                       "files: save it as CSV first.")
    lines = [ln.rstrip("\r\n") for ln in _head_lines(path)]
    lines = [ln for ln in lines[:-1] or lines if ln.strip()]
    best, score = ",", 0
    for sep in (",", ";", "\t", "|"):
        counts = [ln.count(sep) for ln in lines]
        if counts and counts[0] > score and all(c == counts[0] for c in counts):
            best, score = sep, counts[0]
    body = "\n".join(lines[1:])
    decimal_comma = best == ";" and re.search(r"(^|;)\s*-?\d+,\d+\s*(?=;|$)", body, re.M)
    return {"sep": best, "decimal": "," if decimal_comma else "."}


def _check_row_lengths(path: str, opts: dict[str, Any]) -> None:
    """Every row has as many fields as the header. pandas fills a short row with missing
    values, and the fit would silently drop it (a ragged file once fitted 2 of its rows);
    an empty cell is written as an empty field, not as a missing one. One streaming pass
    with the csv module, quoted fields included; blank lines are skipped as pandas does."""
    opener: Any = next((f for ext, f in _OPENERS.items() if path.lower().endswith(ext)), open)
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(fh, delimiter=opts["sep"])
        header = next(rows, None)
        if header is None:
            return
        width = len(header)
        for line, row in enumerate(rows, start=2):
            if row and len(row) != width and any(f.strip() for f in row):
                raise CLIError(f"{path}: row {line} has {len(row)} field(s) but the header "
                               f"has {width}; the file is malformed (a missing or extra "
                               f"'{opts['sep']}', or an unclosed quote). Empty cells are "
                               "missing values; fields themselves must not be left out.")


def _check_columns(needed: list[str], available: list[str], path: str) -> None:
    lacking = [c for c in needed if c not in available]
    if lacking:
        shown = ", ".join(available[:20]) + (", ..." if len(available) > 20 else "")
        raise CLIError(f"{path} has no column(s) {', '.join(map(repr, lacking))} (its "
                       f"columns: {shown}).")


def _csv_text_columns(path: str, needed: list[str], opts: dict[str, Any]) -> list[str]:
    """Columns the first rows show as text (read as categoricals); checks they exist."""
    try:
        sample = pd.read_csv(path, nrows=_SAMPLE_ROWS, **opts)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path} is empty.") from None
    _check_columns(needed, [str(c) for c in sample.columns], path)
    return [c for c in needed if not (pd.api.types.is_numeric_dtype(sample[c].dtype)
                                      or pd.api.types.is_bool_dtype(sample[c].dtype))]


def pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CLIError(_PARQUET_HINT) from None
    return pq


def _parquet_columns(pq, path: str, needed: list[str]) -> list[str]:
    import pyarrow as pa

    schema = pq.read_schema(path)
    _check_columns(needed, list(schema.names), path)
    return [c for c in needed
            if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)]


def _release_arrow_memory() -> None:
    """Give the memory Arrow's pool keeps after the conversion back to the system."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover - old pyarrow
        pass


def read_data(path: str, columns: list[str]) -> pd.DataFrame:
    """Read only ``columns`` of a CSV or Parquet file, text as categoricals (see the
    module notes on memory)."""
    check_file(path, "DATA")
    if is_parquet(path):
        pq = pyarrow_parquet()
        text = _parquet_columns(pq, path, columns)
        table = pq.read_table(path, columns=columns, read_dictionary=text)
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
        del table
        _release_arrow_memory()
        # dictionary order is the order of first appearance; levels sort as R's factor()
        return frame.assign(**{c: frame[c].cat.reorder_categories(
            sorted(frame[c].cat.categories)) for c in text})
    opts = csv_options(path)
    _check_row_lengths(path, opts)
    text = _csv_text_columns(path, columns, opts)
    frame = pd.read_csv(path, usecols=columns, dtype={c: "category" for c in text}, **opts)
    _check_numeric(frame, [c for c in columns if c not in text], path)
    return frame


def _check_numeric(frame: pd.DataFrame, columns: list[str], path: str) -> None:
    """Columns numeric in the first rows must stay numeric: one stray word ('n/a') would
    otherwise turn a number column into a categorical variable with a level per value."""
    for c in columns:
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            continue
        bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
        where = f"row {bad.index[0] + 2} of the file" if len(bad) else "a row"
        value = bad.iloc[0] if len(bad) else "?"
        raise CLIError(f"column {c!r} of {path} is numeric in its first {_SAMPLE_ROWS} rows but "
                       f"holds {value!r} at {where}; leave missing values empty (or NA) or "
                       "fix the value.")


def iter_data(path: str, columns: list[str], chunksize: int) -> Iterator[pd.DataFrame]:
    """``columns`` of a CSV or Parquet file in chunks of rows."""
    check_file(path, "DATA")
    if is_parquet(path):
        pq = pyarrow_parquet()
        _parquet_columns(pq, path, columns)
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize, columns=columns):
            yield batch.to_pandas()
        return
    opts = csv_options(path)
    _check_row_lengths(path, opts)
    _csv_text_columns(path, columns, opts)
    with pd.read_csv(path, usecols=columns, chunksize=chunksize, **opts) as reader:
        yield from reader
