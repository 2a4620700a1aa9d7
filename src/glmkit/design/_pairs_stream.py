"""X' diag(d) X of a sparse matrix from its pairs of nonzeros, formed anew on every pass.

The pair store of :mod:`glmkit.design._pairs` costs 12 bytes per pair of nonzeros in a row:
at 1M rows of 2,000 columns with 10 nonzeros a row (55 pairs, diagonal included) that is
660 MB, four times the matrix. Here nothing per pair is kept. Each pass walks the rows in
blocks of at most ``_BLOCK_PAIRS`` pairs; inside a block the rows with the same number m of
nonzeros form a g x m array of column indices C and of values V (gathered from the CSR
arrays), and the pairs (a, b), a <= b, of every row are written position a at a time by
broadcasting,

    key = base[C[:, a]] + C[:, a+1:],   value = (d V[:, a]) V[:, a+1:]   (g x (m - a - 1)),

then added into the upper triangle with one scattered add (``np.add.at``) per block (keys
are positions in the row-major triangle, as in :mod:`._pairs`); the diagonal pairs go to a
p-vector by ``bincount`` (its sums stay in cache). The work per pass is sum_i m_i^2 / 2
multiply-adds and scattered adds, as for the store, and no sort. What is kept between passes
is the row grouping (one row index per row) and nothing else.

Timing (1M x 2,000 at 0.5 %, 55M pairs, one thread, shared 2-core machine): 1.15 s a pass,
half of it the scattered adds into the 16 MB triangle (latency-bound: np.add.at, scipy's
COO and CSC products and bincount all take 8-10 ns a pair there). The store took 2.9 s to
build, 0.5-0.8 s a pass in row order, 3.5 s to sort and 0.22 s a pass sorted: it pays only
for fits of many passes, and :class:`glmkit.design.sparse.SparseDesign` keeps it only when
it is small (see ``STORE_BUDGET`` there). Tried and not adopted (200k-300k rows, CPU a pair): adding
into L2-sized tiles of the triangle costs 2-3 ns instead of 9-13, but forming the pairs tile
by tile (each nonzero's later partners gathered per tile) cost 26-37 ns in gathers, and
sorting a block's pairs by tile afterwards 16-26 ns; scipy's COO-to-CSR bucketing by
triangle row or tile was no faster than np.add.at. Threads take blocks side by side, each with a
triangle of its own (added in a fixed order: the same sum on every run).

With ``low`` (IRLS's float32 steps, as a dense design's float32 syrk) the off-diagonal
pairs are summed in float32: half the bytes of scattered adds and of each thread's triangle
(two threads' triangles were 32 MB, the machine's whole L3 cache).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from ._pairs import _on_threads, _threads, add_triangle

#: Pairs per block (keys int64 and values float64: 16 bytes a pair of buffers per thread).
_BLOCK_PAIRS = 1 << 20


class StreamGram:
    """Upper-triangle Gram of a canonical CSR matrix (sorted indices, no duplicates), with
    the same methods as :class:`glmkit.design._pairs.PairGram`; ``col_map`` gives each
    column's position in the Gram the products are added to."""

    def __init__(self, X: sparse.csr_matrix, col_map: np.ndarray | None = None,
                 width: int | None = None):
        p = X.shape[1]
        self.X = X          # shared, never written to
        self.p = p
        self.col_map = np.arange(p) if col_map is None else np.asarray(col_map)
        self.width = p if width is None else int(width)
        self.n_keys = p * (p + 1) // 2
        j = np.arange(p, dtype=np.int64)
        self._base = j * p - (j * (j - 1)) // 2 - j   # key of (j, k) = base[j] + k
        nnz = np.diff(X.indptr).astype(np.int64)
        pairs = nnz * (nnz + 1) // 2
        self.n_pairs = int(pairs.sum())
        spans = _spans(pairs, _BLOCK_PAIRS)
        self.blocks = [_row_groups(nnz, a, b) for a, b in spans]
        cum = np.concatenate([[0], np.cumsum(pairs)])
        self._most = max((int(cum[b] - cum[a]) for a, b in spans), default=0)
        self._writer: dict = {}

    @property
    def nbytes(self) -> int:
        """Bytes kept between passes (the row grouping; the matrix is the design's)."""
        return int(sum(rows.nbytes for blk in self.blocks for _, rows in blk)
                   + self._base.nbytes)

    def _triangles(self, d: np.ndarray, low: bool = False) -> np.ndarray:
        """The upper triangle of X' diag(d) X, the blocks on threads side by side. With
        ``low`` the off-diagonal pairs are summed in float32 (each thread's triangle is
        8 MB instead of 16 at 2,000 columns), the diagonal in float64."""
        k = _threads(len(self.blocks), self.n_pairs)
        X, base, p = self.X, self._base, self.p
        dtype = np.float32 if low else np.float64

        def run(part):
            acc = np.zeros(self.n_keys, dtype=dtype)
            diag = np.zeros(p)
            kbuf = np.empty(self._most, dtype=np.int64)   # the largest block's pairs
            vbuf = np.empty(kbuf.size, dtype=dtype)
            for blk in part:   # a fixed order: the same sum on every run
                used = _write_pairs(X, base, blk, d, kbuf, vbuf, diag)
                if used:
                    np.add.at(acc, kbuf[:used], vbuf[:used])
            return acc, diag

        parts = _on_threads(run, [self.blocks[i::k] for i in range(k)])
        acc, diag = parts[0]
        for other, other_diag in parts[1:]:   # in order: the same sum on every run
            acc += other
            diag += other_diag
        acc = acc.astype(np.float64, copy=False)
        acc[base + np.arange(p)] += diag
        return acc

    def add_gram(self, d: np.ndarray, out: np.ndarray, low: bool = False) -> None:
        """out += X' diag(d) X (in the positions ``col_map`` gives); ``low``: the
        off-diagonal pairs summed in float32 (a step's Gram, not a covariance's)."""
        acc = self._triangles(np.asarray(d, dtype=np.float64), low)
        add_triangle(acc, out, self.p, self.col_map, self._writer)

    def row_quadratic(self, B: np.ndarray, n: int) -> np.ndarray:
        """x_i' B x_i for every row (B symmetric, in the positions ``col_map`` gives)."""
        cols = self.col_map
        Bs = np.asarray(B, dtype=float)[np.ix_(cols, cols)]
        coef = 2.0 * Bs - np.diag(np.diagonal(Bs))    # off-diagonal pairs count twice
        X, base = self.X, self._base
        coef = coef[np.triu_indices(self.p)]
        q = np.zeros(n)

        def rows_of(part):
            for blk in part:
                for m, rows in blk:
                    C, V = _gather(X, rows, m)   # m x g
                    bc = base[C]
                    t = np.zeros(rows.size)
                    for a in range(m):
                        t += np.einsum("ij,ij->j", coef[bc[a] + C[a:]], V[a] * V[a:])
                    q[rows] = t   # each row in one group of one block: no overlap

        k = _threads(len(self.blocks), self.n_pairs)
        _on_threads(rows_of, [self.blocks[i::k] for i in range(k)])
        return q


def _spans(pairs: np.ndarray, per_block: int) -> list[tuple[int, int]]:
    """Consecutive row ranges of at most ``per_block`` pairs (a row with more is alone)."""
    n = pairs.size
    cum = np.cumsum(pairs)
    spans, start, done = [], 0, 0
    while start < n:
        stop = int(np.searchsorted(cum, done + per_block, side="right"))
        stop = max(stop, start + 1)
        spans.append((start, stop))
        done = int(cum[stop - 1])
        start = stop
    return spans


def _row_groups(nnz: np.ndarray, start: int, stop: int) -> list:
    """[(m, rows with m nonzeros)] of the rows start:stop (rows with none left out)."""
    m_of = nnz[start:stop]
    order = np.argsort(m_of, kind="stable")
    ms, first = np.unique(m_of[order], return_index=True)
    edges = np.append(first, order.size)
    out = []
    for m, a, b in zip(ms, edges[:-1], edges[1:]):
        if m > 0:
            out.append((int(m), (start + order[a:b]).astype(np.intp)))
    return out


def _gather(X: sparse.csr_matrix, rows: np.ndarray, m: int):
    """Column indices and values of the given rows, each with m nonzeros: m x g (position
    in the row by row; every operation below then runs along the g rows, not along short
    rows of m: 2 x 25 numpy calls on long vectors instead of per-row inner loops of m)."""
    pos = X.indptr[rows] + np.arange(m)[:, None]
    return X.indices[pos], X.data[pos]


def _write_pairs(X, base, blk, d, kbuf, vbuf, diag) -> int:
    """The keys and the values d_i x_ij x_ik of every pair j < k of the block's rows into
    the buffers (returns how many were written); the diagonal pairs j = k are added into
    ``diag`` (p values: a bincount whose sums stay in cache)."""
    at = 0
    p = diag.size
    for m, rows in blk:
        C, V = _gather(X, rows, m)      # m x g
        Vd = V * d[rows]
        diag += np.bincount(C.ravel(), (Vd * V).ravel(), minlength=p)
        bc = base[C]
        g = rows.size
        for a in range(m - 1):
            w = g * (m - a - 1)
            np.add(bc[a], C[a + 1:], out=kbuf[at:at + w].reshape(m - a - 1, g))
            np.multiply(Vd[a], V[a + 1:], out=vbuf[at:at + w].reshape(m - a - 1, g))
            at += w
    return at
