"""The passes over the rows of a model whose rows are in memory: one block, all the rows.

The model and its results compute every sum over rows through a ``passes`` object
(:meth:`total`: the sum of ``fn(block, ...)`` over the row blocks; :meth:`rows`: per-row
values). In memory the rows are one block; on Dask
(:class:`glmkit.design.dask_data.DaskModelData`) they are the partitions, and the same
block functions run on each.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np


class MemoryBlock:
    """All the rows of an in-memory model, with the attributes of a Dask partition's block
    (:class:`glmkit.design.partitioned.Block`); ``design`` is the model's DesignMatrix and
    ``X`` its dense array (formed only when a block function reads it)."""

    def __init__(self, model):
        p = model.problem
        self._model = model
        self.design = p.X
        self.y = p.y
        self.prior_weights = p.prior_weights
        self.freq_weights = p.freq_weights
        self.total_weights = p.total_weights
        self.offset = p.offset
        self.n = int(p.y.shape[0])
        self.index = 0

    @cached_property
    def X(self) -> np.ndarray:
        return self.design.to_dense()

    @cached_property
    def var_weights(self) -> np.ndarray:
        return np.asarray(self._model.var_weights, dtype=float)

    @cached_property
    def n_trials(self) -> np.ndarray:
        return np.asarray(self._model.n_trials, dtype=float)


class MemoryRows:
    """:meth:`total` and :meth:`rows` over the one block of an in-memory model."""

    lazy = False

    def __init__(self, model):
        self._model = model

    @cached_property
    def block(self) -> MemoryBlock:
        return MemoryBlock(self._model)

    def total(self, fn, *per_row, args: tuple = (), what: str = "", need_X: bool = True) -> dict:
        return fn(self.block, *per_row, *args)

    def rows(self, fn, *per_row, args: tuple = (), need_X: bool = False, ncols=None):
        return fn(self.block, *per_row, *args)

    # what the results ask of the data, answered from the arrays
    def known_pearson(self, mu) -> float | None:
        return None

    def offset_any(self) -> bool:
        return bool(np.any(self._model.problem.offset))

    def mean_y(self) -> float:
        p = self._model.problem
        tw = p.total_weights
        return float(np.sum(tw * p.y) / np.sum(tw))

    def offset_sums(self) -> dict:
        from ..fit_sums import offset_sums_block

        return offset_sums_block(self.block)

    def n_trials_not_one(self) -> bool:
        return bool(np.any(np.asarray(self._model.n_trials) != 1.0))

    def intercept_only(self, options):
        """The intercept-only fit with the offset: a scalar Fisher iteration on the rows
        (solvers/null_model.py), no sweeps; ``.params`` holds its one coefficient."""
        from types import SimpleNamespace

        from ..solvers.null_model import null_intercept

        return SimpleNamespace(params=np.array([null_intercept(self._model.problem)]))
