"""How one Dask partition's raw design columns become its DesignMatrix.

A formula on a dask DataFrame with a factor of many levels does not send the factor's
indicator columns through Dask: each partition carries one float column of level codes per
such factor (0 = the reference level), beside the other (dense) columns, and every task
builds the partition's design as the in-memory formula does (one assembler,
:func:`glmkit.design.assemble.assemble`):
a :class:`~glmkit.design.split.SplitDesign` of dense runs and
:class:`~glmkit.design.categorical.CategoricalDesign` blocks. A partition's memory then
grows with its rows and dense columns, not with the number of levels.

Conventions
-----------
- The raw columns are in the model's column order, one per dense column and one per
  categorical block; :attr:`ColumnLayout.blocks` lists ``("dense", start, stop)`` and
  ``("cat", column, n_levels)`` in raw positions.
- A code that is NaN (a missing row, checked and dropped or refused by the data pass)
  is read as the reference level, so that a task never fails on it before the check.
"""
from __future__ import annotations

import numpy as np

from .assemble import assemble
from .base import DesignMatrix
from .categorical import CategoricalDesign
from .dense import DenseDesign
from .split import SplitDesign


class ColumnLayout:
    """The blocks of a partition's design over its raw columns (see the module notes).

    A plain class, not a dataclass: Dask would walk a dataclass's fields in every task's
    arguments."""

    __slots__ = ("blocks",)

    def __init__(self, blocks):
        self.blocks = tuple(tuple(b) for b in blocks)

    def __eq__(self, other):
        return isinstance(other, ColumnLayout) and other.blocks == self.blocks

    def __hash__(self):
        return hash(self.blocks)

    def __repr__(self):
        return f"ColumnLayout({self.blocks!r})"

    @property
    def raw_width(self) -> int:
        return sum(b[2] - b[1] if b[0] == "dense" else 1 for b in self.blocks)

    @property
    def p(self) -> int:
        """Columns of the model's design."""
        return sum(b[2] - b[1] if b[0] == "dense" else b[2] - 1 for b in self.blocks)

    def design(self, raw: np.ndarray) -> DesignMatrix:
        """The partition's design from its raw columns (:func:`~glmkit.design.assemble.
        assemble` on the dense runs and the factors' level codes)."""
        parts: list = []
        for kind, a, b in self.blocks:
            if kind == "dense":
                parts.append(raw[:, a:b])
            else:
                codes = np.nan_to_num(raw[:, a], nan=0.0).astype(np.int32)
                parts.append(CategoricalDesign(codes, b, drop_first=True))
        X = assemble(parts, raw.shape[0])
        return DenseDesign(X) if isinstance(X, np.ndarray) else X

    def diagonal_columns(self) -> np.ndarray | None:
        """The design's diagonal block of X'WX (its widest categorical block), as
        :meth:`SplitDesign.diagonal_columns`."""
        return SplitDesign([_empty(b) for b in self.blocks]).diagonal_columns()


def _empty(block) -> DesignMatrix:
    kind, a, b = block
    if kind == "dense":
        return DenseDesign(np.zeros((0, b - a)))
    return CategoricalDesign(np.zeros(0, dtype=np.int32), b, drop_first=True)


def column_ranges(design: DesignMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of every column of a partition's design (+inf, -inf without rows),
    categorical blocks from their level counts (no indicator columns)."""
    blocks = design.blocks if isinstance(design, SplitDesign) else [design]
    lo, hi = [], []
    for blk in blocks:
        if isinstance(blk, CategoricalDesign):
            n = blk.codes.shape[0]
            counts = np.bincount(blk.codes, minlength=blk.n_levels)[int(blk.drop_first):]
            if n == 0:
                lo.append(np.full(counts.shape, np.inf))
                hi.append(np.full(counts.shape, -np.inf))
            else:
                lo.append((counts == n).astype(float))
                hi.append((counts > 0).astype(float))
        else:
            X = blk.to_dense()
            lo.append(np.min(X, axis=0, initial=np.inf))
            hi.append(np.max(X, axis=0, initial=-np.inf))
    return np.concatenate(lo), np.concatenate(hi)
