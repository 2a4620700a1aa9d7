"""Dense designs: the weighted Gram by BLAS on row blocks, with one reused buffer."""
from __future__ import annotations

from threading import get_ident

import numpy as np

from .base import DesignMatrix

#: Elements (not bytes) in the row-block buffer: 2**18 float64 = 2 MiB, so a block of X, its
#: scaled copy and the n-vectors' slices stay in cache while one sweep computes X_b beta,
#: the kernel, X_b'WX_b and X_b'u. Fits on a quiet 2-core EPYC, medians of 3, 2^20 -> 2^18:
#: problem a 0.40 -> 0.29-0.37 s, b 2.3-2.6 -> 2.0-2.1 s, c 0.41-0.46 -> 0.39-0.42 s,
#: d 0.56-0.81 -> 0.49-0.76 s, e 1.04-1.13 -> 1.03-1.08 s.
_BLOCK_ELEMENTS = 1 << 18
#: ... but at least this many rows: each block adds a p x p product to the Gram, so wide
#: designs need tall blocks (p = 1,000, 40k rows: 262-row blocks 1.07 s, 2,048-row 0.67 s;
#: p = 2,010: 130-row blocks 2.19 s, 2,048-row 1.16 s).
_MIN_BLOCK_ROWS = 2048
#: Float64 designs of at most this many elements also keep a transposed copy (p x n, C
#: order, so the products run along rows of n contiguous values). At 1,000 x 6 the products
#: X @ b, X'v and X'WX take 1.6, 1.7 and 5.7 us on it against 4.4, 3.3 and 16.5 us on X:
#: small fits are made of such calls.
_SMALL_ELEMENTS = 1 << 16


class DenseDesign(DesignMatrix):
    """A float64 or float32 n x p array, never copied or written to.

    A float32 array stays float32: X'WX of each block is a float32 syrk accumulated in
    float64, and X @ b, X'v are computed in float64 one block at a time.

    :meth:`sandwich` walks row blocks, scales each into a reused buffer by sqrt(d) and
    accumulates ``B' B`` (a BLAS syrk), so a fit allocates no n x p temporaries.
    :meth:`row_blocks` yields views that share the buffer, so a solver can fuse
    X @ b, X'WX and X'Wr over one block while it is in cache.
    """

    def __init__(self, X: np.ndarray, _buffer: list | None = None):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"a dense design must be 2-d, got shape {X.shape}")
        # scratch buffers by (dtype, thread) that row blocks and chunks share with their
        # parent, created lazily
        self._buf = _buffer if _buffer is not None else {}
        self._chunks: dict = {}
        self._T = self._const = None
        # a small design (not a block of a larger one) holds its own p x n copy, and X is
        # a view of it: both stay the same even if the caller's array changes later
        self._small = _buffer is None and X.dtype == np.float64 and X.size <= _SMALL_ELEMENTS
        if self._small:
            self._T = np.ascontiguousarray(X.T)
            self._T.setflags(write=False)
            X = self._T.T
        self._X = X

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_buf"], state["_chunks"] = {}, {}   # scratch and thread chunks are not data
        return state

    def _transposed(self) -> np.ndarray:
        return self._T

    @property
    def shape(self) -> tuple[int, int]:
        return self._X.shape  # type: ignore[return-value]

    @property
    def dtype(self):
        return self._X.dtype

    @property
    def nbytes(self) -> int:
        return int(self._X.nbytes)

    @property
    def array(self) -> np.ndarray:
        return self._X

    def matvec(self, b):
        if self._small:
            return b @ self._transposed()
        if self._X.dtype == np.float64:
            return self._X @ b
        # float32 data: products in float64, one block at a time (no n x p upcast)
        out = np.empty(self._X.shape[0])
        for sl, blk in self.row_blocks():
            out[sl] = blk._X.astype(np.float64) @ b
        return out

    def rmatvec(self, v):
        if self._small:
            return self._transposed() @ v
        if self._X.dtype == np.float64:
            return self._X.T @ v
        out = np.zeros(self._X.shape[1])
        for sl, blk in self.row_blocks():
            out += blk._X.astype(np.float64).T @ v[sl]
        return out

    def block_rows(self) -> int:
        n, p = self._X.shape
        return max(1, min(n, max(_BLOCK_ELEMENTS // max(p, 1), _MIN_BLOCK_ROWS)))

    def _buffer(self, rows: int, dtype=None) -> np.ndarray:
        """The scratch block, one per dtype and per thread (fits of one design on two
        threads at once must not share it)."""
        key = (np.dtype(dtype) if dtype is not None else self._X.dtype, get_ident())
        buf = self._buf.get(key)
        p = self._X.shape[1]
        if buf is None or buf.shape[0] < rows:
            buf = np.empty((max(rows, self.block_rows()), p), dtype=key[0])
            self._buf[key] = buf
        return buf[:rows]

    def take_rows(self, rows):
        return DenseDesign(np.ascontiguousarray(self._X[rows]))

    def row_blocks(self):
        n = self._X.shape[0]
        rows = self.block_rows()
        if rows >= n:
            yield slice(0, n), self
            return
        for start in range(0, n, rows):
            sl = slice(start, min(start + rows, n))
            yield sl, DenseDesign(self._X[sl], self._buf)

    def row_chunks(self, k):
        if k not in self._chunks:
            self._chunks[k] = [(sl, DenseDesign(self._X[sl], self._buf))
                               for sl in chunk_slices(self._X.shape[0], self.block_rows(), k)]
        return self._chunks[k]

    def sandwich(self, d):
        p = self._X.shape[1]
        out = np.zeros((p, p))
        self.add_sandwich(d, out)
        return out

    def add_sandwich(self, d, out, low=False):
        """out += X'diag(d)X. With ``low``, each scaled block is rounded to float32 and
        multiplied by a float32 syrk (about 1.5x faster at p = 100; relative error ~1e-7),
        for IRLS steps far from the solution; sums are kept in float64."""
        n = self._X.shape[0]
        if self._small:   # (X' diag(d)) X on the transposed copy, made exactly symmetric
            T = self._transposed()
            key = ("T", get_ident(), T.shape)
            scratch = self._buf.get(key)
            if scratch is None:
                scratch = self._buf[key] = np.empty_like(T)
            g = np.multiply(T, d, out=scratch) @ self._X
            g += g.T
            g *= 0.5
            out += g
            return
        rows = self.block_rows()
        dtype = np.float32 if low else None
        if rows >= n:   # one block (small designs: no loop)
            out += self._sandwich_block(self._X, d, self._buffer(n, dtype))
            return
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            out += self._sandwich_block(self._X[start:stop], d[start:stop],
                                        self._buffer(stop - start, dtype))

    def add_column_sandwich(self, d, cols, out, low=False):
        """out += X_C' diag(d) X_C: each row block's columns ``cols`` gathered into a
        k-column scratch block, then the same (float32 with ``low``) syrk."""
        cols = np.asarray(cols, dtype=np.intp)
        k = cols.size
        if k == 0:
            return
        if k == self._X.shape[1]:
            self.add_sandwich(d, out, low=low)
            return
        n = self._X.shape[0]
        rows = max(1, min(n, max(_BLOCK_ELEMENTS // k, _MIN_BLOCK_ROWS)))
        dtype = np.float32 if low else self._X.dtype   # as add_sandwich's buffer
        # two buffers for the whole pass (the gathered columns, the scaled block), not two
        # allocations per row block
        gathered = np.empty((min(rows, n), k), dtype=self._X.dtype)
        scaled = np.empty((min(rows, n), k), dtype=dtype)
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            Xb = np.take(self._X[start:stop], cols, axis=1, out=gathered[:stop - start])
            out += self._sandwich_block(Xb, d[start:stop], scaled[:stop - start])

    @staticmethod
    def _sandwich_block(Xb, db, buf):
        if db.min(initial=0.0) >= 0:   # (False for NaN too)
            root = np.sqrt(db, dtype=buf.dtype)[:, None]
            if buf.dtype != Xb.dtype:
                # round to float32 first, then scale in float32: a mixed-type multiply
                # costs twice as much (12,483 x 21: 238 -> 120 us)
                np.copyto(buf, Xb, casting="same_kind")
                np.multiply(buf, root, out=buf)
            else:
                np.multiply(Xb, root, out=buf)
            return (buf.T @ buf).astype(np.float64, copy=False)
        np.multiply(Xb, db.astype(buf.dtype, copy=False)[:, None], out=buf)
        g = (Xb.T @ buf).astype(np.float64, copy=False)
        return 0.5 * (g + g.T)

    def column(self, j):
        return np.asarray(self._X[:, int(j)], dtype=float)

    def take_columns(self, cols):
        """The columns ``cols`` as a new dense design (a copy of those columns only)."""
        return DenseDesign(np.ascontiguousarray(self._X[:, np.asarray(cols, dtype=np.intp)]))

    def to_dense(self):
        return self._X

    def column_is_constant(self):
        if self._const is None:   # X is never written to: once per design
            self._const = constant_columns(self._X)
            self._const.setflags(write=False)
        return self._const

    def known_constant_columns(self, mask) -> None:
        """Record which columns are constant (one non-zero value in every row), found by
        whoever has read X already."""
        mask = np.array(mask, dtype=bool)
        if mask.shape != (self._X.shape[1],):
            raise ValueError(f"need one flag per column ({self._X.shape[1]}), got {mask.shape}")
        mask.setflags(write=False)
        self._const = mask


def constant_columns(X: np.ndarray) -> np.ndarray:
    """Boolean mask of the columns of a 2-d array that hold one non-zero value in every
    row: columns constant over the first rows, then each candidate checked in full."""
    if X.shape[0] == 0:
        return np.zeros(X.shape[1], dtype=bool)
    first = X[0]
    const = (first != 0) & (X[:64] == first).all(axis=0)
    for j in np.flatnonzero(const):
        const[j] = bool((X[:, j] == first[j]).all())
    return const


def chunk_slices(n: int, rows: int, k: int) -> list[slice]:
    """At most ``k`` consecutive slices of ``n`` rows, with edges on multiples of ``rows``
    (a sweep's blocks are the same whether or not it is split)."""
    blocks = -(-n // rows) if n else 0
    k = max(1, min(k, blocks))
    edges = [min(n, (blocks * i // k) * rows) for i in range(k)] + [n]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
