"""One assembler for designs made of dense columns and factor blocks.

Formula designs reach the design layer from three places: formulaic's model matrix
(:func:`glmkit.formula._design`), level codes read from pandas
(:meth:`glmkit.formula_codes.CodesPlan.design`) and a Dask partition's raw columns
(:class:`glmkit.design.partition_layout.ColumnLayout`). Each describes its design as a list
of parts in column order; :func:`assemble` turns the list into the design, the same way
for all three:

- no :class:`CategoricalDesign` part: one n x k C-ordered float64 array;
- else a :class:`SplitDesign` of the categorical blocks and, between them, one
  :class:`DenseDesign` per run of adjacent dense parts.

A part is one of

- a number: a constant column (the intercept);
- a 1-d array of n values: one column; a 2-d n x k array: k columns;
- :class:`Gather`: the rows of a levels x k table picked by level codes (a factor's
  columns from its contrast table), written straight into the run's array;
- any object with ``width`` and ``fill(out)`` (``out`` the n x width slice of the run's
  array, zero-filled): the caller's own source of columns;
- a :class:`CategoricalDesign`: a block of its own.

Conventions
-----------
- Every dense run is one allocation, filled part by part: a part's values are copied once,
  into their place. A run that is a single C-ordered float64 2-d array is used as it is.
- Parts are read, never modified.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from .categorical import CategoricalDesign
from .dense import DenseDesign
from .split import SplitDesign

__all__ = ["ColumnSource", "Gather", "assemble", "part_width"]


class ColumnSource(Protocol):
    """Columns a caller writes into the run's array itself."""

    width: int

    def fill(self, out: np.ndarray) -> None:  # pragma: no cover - protocol
        ...


class Gather:
    """Columns ``table[codes]``: row ``codes[i]`` of a levels x k table for every row i.

    When the table's rows are zeros or unit vectors (treatment coding), the columns are
    written as one scatter of ones into the zero-filled array (no n x k temporary)."""

    __slots__ = ("codes", "table", "width")

    def __init__(self, table: np.ndarray, codes: np.ndarray):
        self.table = np.asarray(table, dtype=float)
        self.codes = codes
        self.width = self.table.shape[1]

    def fill(self, out: np.ndarray) -> None:
        units = indicator_positions(self.table)
        if units is None:
            out[...] = self.table[self.codes]
            return
        col = units[self.codes]            # -1 for the all-zero row
        rows = np.flatnonzero(col >= 0)
        out[rows, col[rows]] = 1.0


def indicator_positions(table: np.ndarray) -> np.ndarray | None:
    """For a table whose rows are zeros or unit vectors: the column of each row's one
    (-1 for a zero row), else None."""
    ones = table == 1.0
    if not np.all(ones | (table == 0.0)):
        return None
    per_row = ones.sum(axis=1)
    if np.any(per_row > 1):
        return None
    return np.where(per_row == 1, ones.argmax(axis=1), -1).astype(np.intp)


def part_width(part: Any) -> int:
    """Number of design columns of a part."""
    if isinstance(part, CategoricalDesign):
        return part.shape[1]
    if isinstance(part, np.ndarray):
        return 1 if part.ndim == 1 else part.shape[1]
    if isinstance(part, (int, float, np.number)):
        return 1
    return int(part.width)


def _fill(out: np.ndarray, part: Any) -> None:
    if isinstance(part, np.ndarray):
        if part.ndim == 1:
            out[:, 0] = part
        else:
            out[...] = part
    elif isinstance(part, (int, float, np.number)):
        out[:, 0] = part
    else:
        part.fill(out)


def _run_array(run: list, n: int) -> np.ndarray:
    """One dense run as an n x k C-ordered float64 array."""
    if len(run) == 1 and isinstance(run[0], np.ndarray) and run[0].ndim == 2 \
            and run[0].dtype == np.float64 and run[0].flags.c_contiguous:
        return run[0]
    widths = [part_width(p) for p in run]
    out = np.zeros((n, sum(widths)))
    j = 0
    for part, w in zip(run, widths):
        if w:
            _fill(out[:, j:j + w], part)
        j += w
    return out


def assemble(parts: Sequence[Any], n: int, column_names: list[str] | None = None):
    """The design of ``parts`` (see the module notes) for ``n`` rows: an n x k float64
    array when no part is a CategoricalDesign, else a SplitDesign named ``column_names``.
    """
    blocks: list[Any] = []
    run: list[Any] = []
    for part in parts:
        if isinstance(part, CategoricalDesign):
            if run:
                blocks.append(_run_array(run, n))
                run = []
            blocks.append(part)
        else:
            run.append(part)
    if run or not blocks:
        blocks.append(_run_array(run, n))
    if not any(isinstance(b, CategoricalDesign) for b in blocks):
        return blocks[0]
    return SplitDesign([DenseDesign(b) if isinstance(b, np.ndarray) else b for b in blocks],
                       column_names=column_names)
