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

    def add_column_sandwich(self, d: np.ndarray, cols: np.ndarray, out: np.ndarray,
                            low: bool = False) -> None:
        """out += X_C' diag(d) X_C for the columns ``cols`` (sorted positions): a k x k
        block of X'WX, what a penalized fit's working set needs (glmnet forms only the
        active columns' inner products). Here from the full X'WX (correct for any
        design); designs override it to touch only those columns."""
        cols = np.asarray(cols, dtype=np.intp)
        if cols.size:
            out += self.sandwich(d)[np.ix_(cols, cols)]

    def take_columns(self, cols) -> DesignMatrix:
        """A design of the given columns (integer positions, in the order given): what a
        refit on a subset of the terms needs (anova, drop1, profiles). Each design keeps its
        structure (a factor's levels stay codes, sparse columns stay sparse)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement take_columns; "
                                  "implement it to refit on a subset of its columns.")

    def row_blocks(self):
        """Iterate (row slice, block) over consecutive row blocks; each block is itself a
        DesignMatrix. A solver's sweep over the blocks is one pass over the data."""
        yield slice(0, self.shape[0]), self

    @property
    def rounded_elements(self) -> int:
        """Elements of X whose X'WX a float32 Gram (``add_sandwich(low=True)``) would round:
        every one by default (IRLS uses float32 Grams only where this is large)."""
        n, p = self.shape
        return n * p

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

    # ---------------------------------------------- row-wise statistics (inference)
    # Defaults from the dense rows, in blocks; structured designs override them so that
    # robust covariances, hat values and prediction SEs never need a dense copy.
    def _dense_row_blocks(self):
        X = self.to_dense()
        step = max(1, (1 << 18) // max(X.shape[1], 1))
        for s in range(0, X.shape[0], step):
            yield s, X[s:s + step]

    def row_quadratic(self, B: np.ndarray) -> np.ndarray:
        """x_i' B x_i for every row i (B a symmetric p x p matrix), an n-vector."""
        out = np.empty(self.shape[0])
        for s, Xb in self._dense_row_blocks():
            out[s:s + Xb.shape[0]] = np.einsum("ij,ij->i", Xb @ B, Xb)
        return out

    def group_sums(self, codes: np.ndarray, n_groups: int, v: np.ndarray) -> np.ndarray:
        """sum over rows i of group g of v_i x_i: an n_groups x p array (``codes`` are
        integers 0 <= g < n_groups, one per row)."""
        out = np.zeros((self.shape[1], int(n_groups)))
        for s, Xb in self._dense_row_blocks():
            g, vb = codes[s:s + Xb.shape[0]], v[s:s + Xb.shape[0]]
            for j in range(Xb.shape[1]):   # one bincount per column: its sums stay in cache
                out[j] += np.bincount(g, weights=Xb[:, j] * vb, minlength=int(n_groups))
        return out.T

    def lagged_cross(self, d: np.ndarray, lag: int) -> np.ndarray:
        """X[lag:]' diag(d) X[:n - lag] = sum_t d_t x_{t+lag} x_t', a p x p matrix (not
        symmetric for lag > 0); ``d`` has one weight per pair of rows (n - lag values).

        The lagged autocovariances of the scores in a HAC meat (rows in time order): with
        d = u[lag:] u[:-lag] it is sum_t s_t s_{t-lag}', s_t = x_t u_t. Lag 0 is
        X' diag(d) X (in float64 even for a float32 design). Here from the dense rows in
        blocks of bounded size (for a dense design, no copy)."""
        X = self.to_dense()
        n, p = X.shape
        m = n - int(lag)
        out = np.zeros((p, p))
        step = max(1, (1 << 18) // max(p, 1))
        for s in range(0, max(m, 0), step):
            e = min(m, s + step)
            out += X[s + lag:e + lag].T @ (X[s:e] * d[s:e, None])
        return out

    def matmat(self, M: np.ndarray) -> np.ndarray:
        """X @ M for a p x k array M (n x k)."""
        return self.to_dense() @ M

    def column(self, j: int) -> np.ndarray:
        """Column j as an n-vector (X @ e_j: a gather on a factor, never the whole array)."""
        e = np.zeros(self.shape[1])
        e[int(j)] = 1.0
        return np.asarray(self.matvec(e), dtype=float)

    def row_dot(self, Y: np.ndarray) -> np.ndarray:
        """x_i . y_i for every row of an n x p array Y (an n-vector)."""
        return np.einsum("ij,ij->i", self.to_dense(), Y)

    def column_is_constant(self) -> np.ndarray:
        """Boolean p-vector: which columns hold one non-zero value in every row."""
        dense = self.to_dense()
        if dense.shape[0] == 0:
            return np.zeros(dense.shape[1], dtype=bool)
        return np.all(dense == dense[0], axis=0) & (dense[0] != 0)
