"""A categorical variable as integer codes: treatment-coded columns, never one-hot."""
from __future__ import annotations

import numpy as np

from .base import DesignMatrix


class CategoricalDesign(DesignMatrix):
    """Indicator columns of a categorical variable held as integer codes.

    Parameters
    ----------
    codes : integer array, 0 <= code < n_levels.
    n_levels : number of levels (default max(code) + 1).
    drop_first : treatment coding with level 0 as reference (its column is dropped).
    levels : optional level labels, for column names.
    name : variable name, for column names ``name[level]``.

    Notes
    -----
    X'diag(d)X is diagonal: a bincount of d by level. X @ b is a gather, X' v a bincount.
    """

    def __init__(self, codes, n_levels: int | None = None, drop_first: bool = True,
                 levels=None, name: str = "cat"):
        codes = np.asarray(codes)
        if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
            raise ValueError("codes must be a 1-d integer array.")
        if codes.size and codes.min() < 0:
            raise ValueError("codes must be non-negative.")
        L = int(codes.max()) + 1 if n_levels is None else int(n_levels)
        if codes.size and codes.max() >= L:
            raise ValueError(f"codes must be below n_levels={L}.")
        self.codes = codes
        self.n_levels = L
        self.drop_first = bool(drop_first)
        self.levels = list(levels) if levels is not None else list(range(L))
        self.name = name

    @property
    def shape(self):
        return (self.codes.shape[0], self.n_levels - self.drop_first)

    @property
    def column_names(self) -> list[str]:
        lv = self.levels[1:] if self.drop_first else self.levels
        return [f"{self.name}[{v}]" for v in lv]

    def _full(self, b):
        return np.concatenate([[0.0], b]) if self.drop_first else b

    def matvec(self, b):
        return self._full(np.asarray(b, dtype=float))[self.codes]

    def rmatvec(self, v):
        s = np.bincount(self.codes, weights=v, minlength=self.n_levels)
        return s[1:] if self.drop_first else s

    def level_sums(self, v):
        """Sums of v by level, all levels (the reference level too)."""
        return np.bincount(self.codes, weights=v, minlength=self.n_levels)

    def sandwich(self, d):
        return np.diag(self.rmatvec(d))

    def add_column_sandwich(self, d, cols, out, low=False):
        """Diagonal: the level sums of d at ``cols``."""
        cols = np.asarray(cols, dtype=np.intp)
        idx = np.arange(cols.size)
        out[idx, idx] += self.rmatvec(d)[cols]

    def to_dense(self):
        out = np.zeros(self.shape)
        rows = np.arange(self.codes.shape[0])
        cols = self.codes - self.drop_first
        ok = cols >= 0
        out[rows[ok], cols[ok]] = 1.0
        return out

    # row-wise statistics: gathers and bincounts on the codes, never a one-hot matrix
    def _padded(self, M: np.ndarray) -> np.ndarray:
        """M with a zero first row for the reference level (when it is dropped)."""
        if not self.drop_first:
            return M
        return np.concatenate([np.zeros((1,) + M.shape[1:]), M])

    def row_quadratic(self, B):
        return self._padded(np.diagonal(np.asarray(B, dtype=float)))[self.codes]

    def group_sums(self, codes, n_groups, v):
        L = self.n_levels
        key = np.asarray(codes, dtype=np.int64) * L + self.codes
        sums = np.bincount(key, weights=v, minlength=int(n_groups) * L)
        return sums.reshape(int(n_groups), L)[:, int(self.drop_first):]

    def lagged_cross(self, d, lag):
        """The level-by-level table of the weights: entry (a, b) sums d_t over the rows t
        with code b whose row t + lag has code a (one bincount on the code pairs; lag 0 is
        the diagonal of level sums). No one-hot matrix."""
        L, lag = self.n_levels, int(lag)
        m = self.codes.shape[0] - lag
        k = int(self.drop_first)
        if lag == 0:
            return np.diag(self.rmatvec(d))
        if m <= 0:
            return np.zeros((L - k, L - k))
        key = self.codes[lag:].astype(np.int64) * L + self.codes[:m]
        table = np.bincount(key, weights=d, minlength=L * L).reshape(L, L)
        return table[k:, k:]

    def matmat(self, M):
        return self._padded(np.asarray(M, dtype=float))[self.codes]

    def row_dot(self, Y):
        col = self.codes.astype(np.intp) - int(self.drop_first)   # -1: the reference level
        out = np.asarray(Y)[np.arange(col.shape[0]), np.maximum(col, 0)]
        return np.where(col >= 0, out, 0.0)

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes)

    @property
    def rounded_elements(self) -> int:
        """None: X'WX is a float64 bincount of the levels whatever ``low`` asks."""
        return 0

    def rows_slice(self, sl: slice) -> "CategoricalDesign":
        """The rows ``sl`` as a view (no checks: the codes were checked once)."""
        out = object.__new__(CategoricalDesign)
        out.__dict__.update(self.__dict__)
        out.codes = self.codes[sl]
        return out

    def take_rows(self, rows):
        return CategoricalDesign(self.codes[rows], self.n_levels, self.drop_first, self.levels,
                                 self.name)

    def take_columns(self, cols):
        """Some level columns (in the order given) as a categorical design: the levels not
        kept join the reference level (rows of zeros), so the codes are relabelled by one
        gather and no one-hot matrix is formed."""
        cols = np.asarray(cols, dtype=np.intp)
        k = int(self.drop_first)
        if cols.size == self.shape[1] and np.array_equal(cols, np.arange(cols.size)):
            return self
        lookup = np.zeros(self.n_levels, dtype=np.int32 if cols.size < 2**31 - 1 else np.int64)
        lookup[cols + k] = np.arange(1, cols.size + 1)
        ref = self.levels[0] if k else "other"
        levels = [ref] + [self.levels[c + k] for c in cols]
        return CategoricalDesign(lookup[self.codes], cols.size + 1, True, levels, self.name)

    def diagonal_columns(self):
        return np.ones(self.shape[1], dtype=bool)   # one level per row: X'WX is diagonal

    def column_is_constant(self):
        counts = np.bincount(self.codes, minlength=self.n_levels)
        const = counts == self.codes.shape[0]
        return const[1:] if self.drop_first else const
