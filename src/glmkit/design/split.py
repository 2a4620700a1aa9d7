"""Designs made of column blocks: dense, sparse and categorical side by side."""
from __future__ import annotations

import numpy as np

from .base import DesignMatrix
from .categorical import CategoricalDesign
from .dense import DenseDesign, chunk_slices
from .sparse import SparseDesign


#: Rows per sweep block at least (categorical columns cost a code per row, not a column each).
_MIN_BLOCK_ROWS = 1 << 15


class SplitDesign(DesignMatrix):
    """Columns [B_1 | B_2 | ...] of several designs with the same rows.

    The Gram is assembled from each block's own sandwich and the cross products between
    blocks; a categorical block's cross product with any block is a sum by level, so a
    categorical variable never becomes a one-hot matrix.
    """

    def __init__(self, blocks, column_names: list[str] | None = None):
        blocks = [b if isinstance(b, DesignMatrix) else DenseDesign(np.asarray(b)) for b in blocks]
        if not blocks:
            raise ValueError("a SplitDesign needs at least one block")
        n = blocks[0].shape[0]
        if any(b.shape[0] != n for b in blocks):
            raise ValueError("all blocks of a SplitDesign must have the same number of rows")
        self.blocks = blocks
        widths = [b.shape[1] for b in blocks]
        self._edges = np.concatenate([[0], np.cumsum(widths)])
        if column_names is not None and len(column_names) != self._edges[-1]:
            raise ValueError("column_names must name every column of the blocks")
        self._names = None if column_names is None else [str(c) for c in column_names]

    @property
    def shape(self):
        return (self.blocks[0].shape[0], int(self._edges[-1]))

    def _parts(self, b):
        return [b[self._edges[i]:self._edges[i + 1]] for i in range(len(self.blocks))]

    def matvec(self, b):
        out = np.zeros(self.shape[0])
        for blk, part in zip(self.blocks, self._parts(np.asarray(b, dtype=float))):
            out += blk.matvec(part)
        return out

    def rmatvec(self, v):
        return np.concatenate([blk.rmatvec(v) for blk in self.blocks])

    def sandwich(self, d):
        p = self.shape[1]
        out = np.zeros((p, p))
        self.add_sandwich(d, out)
        return out

    def add_sandwich(self, d, out, low=False):
        e = self._edges
        for i, bi in enumerate(self.blocks):
            if isinstance(bi, CategoricalDesign):   # diagonal: no L x L temporary
                idx = np.arange(e[i], e[i + 1])
                out[idx, idx] += bi.rmatvec(d)
            else:
                bi.add_sandwich(d, out[e[i]:e[i + 1], e[i]:e[i + 1]], low=low)
            for j in range(i + 1, len(self.blocks)):
                c = _cross(bi, self.blocks[j], d)
                out[e[i]:e[i + 1], e[j]:e[j + 1]] += c
                out[e[j]:e[j + 1], e[i]:e[i + 1]] += c.T

    def add_column_sandwich(self, d, cols, out, low=False):
        """out += X_C' diag(d) X_C block by block: each block's own columns of C by its
        :meth:`add_column_sandwich`, the crosses of two blocks that both hold columns of C
        from their cross product (at the chosen columns)."""
        cols = np.asarray(cols, dtype=np.intp)
        e = self._edges
        parts = []   # (block, its columns of C (local), their places in out)
        for i, bi in enumerate(self.blocks):
            lo, hi = np.searchsorted(cols, [e[i], e[i + 1]])
            if hi > lo:
                parts.append((bi, cols[lo:hi] - e[i], np.arange(lo, hi)))
        for a, (bi, ci, pi) in enumerate(parts):
            sub = np.zeros((ci.size, ci.size))
            bi.add_column_sandwich(d, ci, sub, low=low)
            out[np.ix_(pi, pi)] += sub
            for bj, cj, pj in parts[a + 1:]:
                c = _cross(bi, bj, d)[np.ix_(ci, cj)]
                out[np.ix_(pi, pj)] += c
                out[np.ix_(pj, pi)] += c.T

    def block_rows(self) -> int:
        """Rows per block of a sweep: the dense and sparse columns' block of 2^20 elements,
        at least 2^15 rows (categorical columns cost a code per row, not a column each)."""
        from .dense import _BLOCK_ELEMENTS

        wide = sum(b.shape[1] for b in self.blocks if not isinstance(b, CategoricalDesign))
        return max(_MIN_BLOCK_ROWS, _BLOCK_ELEMENTS // max(wide, 1))

    def row_blocks(self):
        """Row blocks of every block side by side: dense blocks as views sharing their
        buffers, categorical codes as views; other blocks (sparse) as row slices."""
        n = self.shape[0]
        rows = self.block_rows()
        # a sparse block keeps its pair structure for all its rows: no row blocks
        if rows >= n or self._has_sparse():
            yield slice(0, n), self
            return
        for start in range(0, n, rows):
            sl = slice(start, min(start + rows, n))
            yield sl, self._rows(sl)

    def _has_sparse(self) -> bool:
        return any(isinstance(b, SparseDesign) for b in self.blocks)

    def _rows(self, sl: slice) -> "SplitDesign":
        """The rows ``sl`` of every block side by side (views where the block allows; dense
        views share their parent's scratch buffers, which are per thread)."""
        parts = []
        for b in self.blocks:
            if isinstance(b, DenseDesign):
                parts.append(DenseDesign(b.array[sl], b._buf))
            elif isinstance(b, (CategoricalDesign, SparseDesign)):
                parts.append(b.rows_slice(sl))
            else:
                parts.append(b.take_rows(np.arange(sl.start, sl.stop)))
        blk = object.__new__(SplitDesign)
        blk.blocks, blk._edges, blk._names = parts, self._edges, self._names
        return blk

    @property
    def rounded_elements(self) -> int:
        """The blocks' own (a factor's block rounds none)."""
        return sum(b.rounded_elements for b in self.blocks)

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.blocks)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_chunks", None)   # thread chunks are views, not data
        return state

    def row_chunks(self, k):
        if not all(isinstance(b, (DenseDesign, CategoricalDesign)) for b in self.blocks):
            # sparse blocks keep one pair structure for all their rows (it runs on threads)
            return [(slice(0, self.shape[0]), self)]
        cache = self.__dict__.setdefault("_chunks", {})
        if k not in cache:
            cache[k] = [(sl, self._rows(sl))
                        for sl in chunk_slices(self.shape[0], self.block_rows(), k)]
        return cache[k]

    # ---------------------------------------------------- row-wise statistics
    def row_quadratic(self, B):
        """x_i' B x_i by blocks: each block's own form plus twice the cross terms of each
        pair of blocks (level gathers for categorical blocks: no dense design)."""
        B = np.asarray(B, dtype=float)
        e, blocks = self._edges, self.blocks
        q = np.zeros(self.shape[0])
        for i, A in enumerate(blocks):
            q += A.row_quadratic(B[e[i]:e[i + 1], e[i]:e[i + 1]])
            for j in range(i + 1, len(blocks)):
                q += 2.0 * _cross_quadratic(A, blocks[j], B[e[i]:e[i + 1], e[j]:e[j + 1]])
        return q

    def group_sums(self, codes, n_groups, v):
        return np.concatenate([b.group_sums(codes, n_groups, v) for b in self.blocks], axis=1)

    def lagged_cross(self, d, lag):
        """X[lag:]' diag(d) X[:n - lag] by blocks: each block's own lagged cross on the
        diagonal, and for every ordered pair of blocks the cross product of the later rows
        of one with the earlier rows of the other (level sums for categorical blocks,
        sparse products for sparse ones; no dense copy of either)."""
        d = np.asarray(d, dtype=float)
        n, p = self.shape
        lag = int(lag)
        m = n - lag
        out = np.zeros((p, p))
        if m <= 0:
            return out
        e, blocks = self._edges, self.blocks
        later = [_block_rows(b, slice(lag, n)) for b in blocks]
        earlier = [_block_rows(b, slice(0, m)) for b in blocks]
        for i, A in enumerate(blocks):
            for j in range(len(blocks)):
                out[e[i]:e[i + 1], e[j]:e[j + 1]] = (
                    A.lagged_cross(d, lag) if i == j else _cross(later[i], earlier[j], d))
        return out

    def matmat(self, M):
        M = np.asarray(M, dtype=float)
        out = np.zeros((self.shape[0], M.shape[1]))
        for blk, part in zip(self.blocks, self._parts(M)):
            out += blk.matmat(part)
        return out

    def row_dot(self, Y):
        e = self._edges
        return sum(b.row_dot(Y[:, e[i]:e[i + 1]]) for i, b in enumerate(self.blocks))

    def take_rows(self, rows):
        return SplitDesign([b.take_rows(rows) for b in self.blocks], self._names)

    def take_columns(self, cols):
        """The columns ``cols`` (in the order given), each block's by its own
        :meth:`take_columns` (runs of consecutive columns from one block stay one block): a
        factor stays codes, a sparse block stays sparse."""
        cols = np.asarray(cols, dtype=np.intp)
        owner = np.searchsorted(self._edges, cols, side="right") - 1
        parts = []
        start = 0
        for i in range(1, cols.size + 1):
            if i == cols.size or owner[i] != owner[start]:
                b = int(owner[start])
                parts.append(self.blocks[b].take_columns(cols[start:i] - self._edges[b]))
                start = i
        if not parts:
            return DenseDesign(np.zeros((self.shape[0], 0)))
        names = None if self._names is None else [self._names[c] for c in cols]
        return SplitDesign(parts, names)

    def to_dense(self):
        return np.column_stack([b.to_dense() for b in self.blocks])

    def diagonal_columns(self):
        """The columns of the widest categorical block (two blocks' levels cross)."""
        cats = [i for i, b in enumerate(self.blocks) if isinstance(b, CategoricalDesign)]
        if not cats:
            return None
        i = max(cats, key=lambda i: self.blocks[i].shape[1])
        out = np.zeros(self.shape[1], dtype=bool)
        out[self._edges[i]:self._edges[i + 1]] = True
        return out

    def column_is_constant(self):
        return np.concatenate([b.column_is_constant() for b in self.blocks])

    @property
    def column_names(self) -> list[str]:
        """The names given, else categorical blocks name[level] and other columns 'const'
        or x<position> (from 1)."""
        if self._names is not None:
            return list(self._names)
        names: list[str] = []
        for b in self.blocks:
            if isinstance(b, CategoricalDesign):
                names += b.column_names
            else:
                const = b.column_is_constant()
                for j in range(b.shape[1]):
                    names.append("const" if const[j] and "const" not in names
                                 else f"x{len(names) + 1}")
        return names


def _cross(A: DesignMatrix, B: DesignMatrix, d: np.ndarray) -> np.ndarray:
    """A' diag(d) B for two blocks."""
    if isinstance(A, CategoricalDesign) and isinstance(B, CategoricalDesign):
        key = A.codes.astype(np.int64) * B.n_levels + B.codes
        full = np.bincount(key, weights=d, minlength=A.n_levels * B.n_levels)
        full = full.reshape(A.n_levels, B.n_levels)
        return full[int(A.drop_first):, int(B.drop_first):]
    if isinstance(A, CategoricalDesign) and isinstance(B, SparseDesign):
        return B.group_sums(A.codes, A.n_levels, d)[int(A.drop_first):]
    if isinstance(A, CategoricalDesign):
        return _level_sums_of_columns(A, B.to_dense(), d)[int(A.drop_first):]
    if isinstance(B, CategoricalDesign):
        return _cross(B, A, d).T
    if isinstance(A, SparseDesign) and isinstance(B, SparseDesign):
        # two sparse blocks side by side (rare: one SparseDesign already splits its dense
        # columns out): a sparse product, never a dense copy
        return np.asarray((A.csr.T @ B.csr.multiply(d[:, None]).tocsr()).todense())
    if isinstance(A, SparseDesign):   # sparse' (d * dense): no dense copy of the sparse block
        return A.cross_dense(B.to_dense(), d)
    if isinstance(B, SparseDesign):
        return B.cross_dense(A.to_dense(), d).T
    Ad, Bd = A.to_dense(), B.to_dense()
    return Ad.T @ (Bd * d[:, None])


#: Elements in the n x k temporaries of a cross term of the row-wise statistics.
_QUAD_ELEMENTS = 1 << 20


def _cross_quadratic(A: DesignMatrix, C: DesignMatrix, M: np.ndarray) -> np.ndarray:
    """x_{A,i}' M x_{C,i} for every row, for two blocks: a gather of M for two categorical
    blocks, else A.row_dot(C @ M') over row blocks (a categorical block's product is a
    gather of rows of M), or C.row_dot(A @ M) when C is the narrower block (the n x width
    temporary is then C's: a factor of 300 levels beside two dense columns makes n x 2)."""
    if isinstance(A, CategoricalDesign) and isinstance(C, CategoricalDesign):
        Mp = A._padded(C._padded(M.T).T)
        return Mp[A.codes, C.codes]
    if C.shape[1] < A.shape[1]:
        return _cross_quadratic(C, A, M.T)
    n = A.shape[0]
    rows = max(1, _QUAD_ELEMENTS // max(A.shape[1], C.shape[1], 1))
    if rows >= n:
        return A.row_dot(C.matmat(M.T))
    out = np.empty(n)
    for s in range(0, n, rows):
        sl = slice(s, min(n, s + rows))
        out[sl] = _block_rows(A, sl).row_dot(_block_rows(C, sl).matmat(M.T))
    return out


def _block_rows(b: DesignMatrix, sl: slice) -> DesignMatrix:
    """The rows ``sl`` of a block, as a view where the block allows one."""
    if isinstance(b, DenseDesign):
        return DenseDesign(b.array[sl])
    if isinstance(b, (CategoricalDesign, SparseDesign)):
        return b.rows_slice(sl)
    return b.take_rows(np.arange(sl.start, sl.stop))


#: Rows per block of the grouped sums: the block of d * X stays in cache while it is
#: summed by (level, column).
_SUM_BLOCK_ROWS = 1 << 15


def _level_sums_of_columns(cat: CategoricalDesign, X: np.ndarray, d: np.ndarray) -> np.ndarray:
    """sum over rows of level l of d_i X_ij, for every level l and column j (L x k): per
    row block, d * X transposed into a k x rows buffer, then one bincount per column (its L
    sums stay in cache; one bincount on a level * k + j key was 1.4x slower at L = 2,000,
    k = 11). No one-hot, no n x k temporary."""
    n, k = X.shape
    L = cat.n_levels
    out = np.zeros((k, L))
    rows = max(1, min(n, _SUM_BLOCK_ROWS))
    buf = np.empty((k, rows))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        m = stop - start
        np.multiply(X[start:stop].T, d[start:stop], out=buf[:, :m])
        codes = cat.codes[start:stop].astype(np.intp, copy=False)
        for j in range(k):
            out[j] += np.bincount(codes, weights=buf[j, :m], minlength=L)
    return out.T
