"""The design-matrix protocol: every IRLS pass is a sum over rows.

A solver touches X only through these methods, so dense, sparse, categorical, split and
row-partitioned designs are interchangeable.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class DesignMatrix(ABC):
    """An n x p design X seen through the products a GLM fit needs.

    Conventions
    -----------
    ``d`` in :meth:`sandwich` is one weight per row (it may be negative, for an observed
    information); the result is the p x p matrix X' diag(d) X.
    """

    @property
    @abstractmethod
    def shape(self) -> tuple[int, int]:
        """(n rows, p columns)."""

    @abstractmethod
    def matvec(self, b: np.ndarray) -> np.ndarray:
        """X @ b, an n-vector."""

    @abstractmethod
    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        """X' @ v, a p-vector."""

    @abstractmethod
    def sandwich(self, d: np.ndarray) -> np.ndarray:
        """X' diag(d) X, a p x p symmetric matrix."""

    @abstractmethod
    def to_dense(self) -> np.ndarray:
        """The n x p array (for small designs and tests)."""

    @abstractmethod
    def take_rows(self, rows: np.ndarray) -> "DesignMatrix":
        """A design of the given rows (sorted integer positions): a small copy."""

    def add_sandwich(self, d: np.ndarray, out: np.ndarray, low: bool = False) -> None:
        """out += X' diag(d) X, without a p x p temporary where the design can avoid one.
        ``low``: float32 products are good enough (an IRLS step far from the solution);
        designs may ignore it."""
        out += self.sandwich(d)

    def row_blocks(self):
        """Iterate (row slice, block) over consecutive row blocks; each block is itself a
        DesignMatrix. A solver's sweep over the blocks is one pass over the data."""
        yield slice(0, self.shape[0]), self

    @property
    def nbytes(self) -> int:
        """Bytes the design holds (a dense float64 n x p by default)."""
        n, p = self.shape
        return 8 * n * p

    def row_chunks(self, k: int) -> list:
        """At most ``k`` (row slice, design) pairs of consecutive rows covering X, each with
        buffers of its own, so that threads can sweep them side by side
        (:mod:`glmkit._parallel`). Designs that cannot be split cheaply return one chunk."""
        return [(slice(0, self.shape[0]), self)]

    def diagonal_columns(self) -> np.ndarray | None:
        """Boolean p-vector of columns whose block of X'WX is diagonal for every W (the
        levels of one categorical variable), or None. Solvers eliminate that block first."""
        return None

    def column_is_constant(self) -> np.ndarray:
        """Boolean p-vector: which columns hold one non-zero value in every row."""
        dense = self.to_dense()
        if dense.shape[0] == 0:
            return np.zeros(dense.shape[1], dtype=bool)
        return np.all(dense == dense[0], axis=0) & (dense[0] != 0)
