"""scipy.sparse designs (CSR or CSC input), split into sparse and dense columns by density.

As tabmat does, columns with more than ``dense_threshold`` of their rows nonzero (an
intercept, a few numeric covariates beside many indicators) are held as a dense n x k_d
array; the rest stay a CSR matrix. X'WX is then assembled from three parts, in the user's
column order:

- sparse x sparse: from the pairs of nonzeros of each row (:mod:`glmkit.design._pairs`),
  the pair structure found once per design and reused by every pass: time proportional to
  sum_i m_i^2 for m_i nonzeros in row i, no sparse-sparse product per pass;
- dense x dense: D' diag(d) D (BLAS);
- sparse x dense: S' (d * D), a sparse-times-dense product; the sparse block is never made
  dense.

A dense column inside the pairs would add n pairs per sparse column touching it; split
out, it costs one multiply-add per nonzero instead.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .base import DesignMatrix

#: Columns with more than this share of nonzero rows become dense (tabmat's default).
DENSE_THRESHOLD = 0.1
#: The pairs of nonzeros of each row are stored (12 bytes a pair, :mod:`._pairs`; fastest
#: per pass once sorted) only when that takes at most STORE_BUDGET times the design's bytes
#: or STORE_MIN_BYTES; else they are formed anew on every pass (:mod:`._pairs_stream`: no
#: memory per pair, 2-5x the time of a sorted pass, no build or sort). 1M x 2,000 at 0.5 %:
#: 660 MB of store against 172 MB of design.
STORE_BUDGET = 1.0
STORE_MIN_BYTES = 64 << 20
#: ... streaming adds into a triangle of p (p + 1) / 2 float64 per thread: wider sparse
#: parts (above 5,792 columns) keep the store, whose key space shrinks to the keys present.
STREAM_MAX_KEYS = 1 << 24
#: Rows per block of the row-wise statistics (bounded temporaries).
_STAT_ROWS = 1 << 16


class SparseDesign(DesignMatrix):
    """A scipy sparse n x p matrix (CSR or CSC; any other format is converted).

    Parameters
    ----------
    X : scipy.sparse matrix or array.
    dense_threshold : columns whose share of nonzero rows exceeds it are held dense
        (None or 1.0: none are). The split is internal: columns keep their order.
    """

    def __init__(self, X, dense_threshold: float | None = DENSE_THRESHOLD):
        if not sparse.issparse(X):
            raise ValueError("SparseDesign needs a scipy.sparse matrix")
        if dense_threshold is not None and not 0.0 <= float(dense_threshold) <= 1.0:
            raise ValueError(f"dense_threshold must be in [0, 1] or None, got "
                             f"{dense_threshold!r}.")
        if not _canonical_csr(X):   # a copy in canonical form (the user's X untouched)
            X = sparse.csr_matrix(X, dtype=np.float64, copy=True)
            X.sum_duplicates()   # sorted column indices in each row, no repeats
            X.eliminate_zeros()
            own = True
        else:                    # read only: the parts below are new arrays
            own = False
        n = X.shape[0]
        if dense_threshold is None or n == 0:
            dense = np.zeros(X.shape[1], dtype=bool)
        else:
            dense = np.bincount(X.indices, minlength=X.shape[1]) > float(dense_threshold) * n
        dense_cols = np.flatnonzero(dense)
        sparse_cols = np.flatnonzero(~dense)
        if dense_cols.size:   # the parts only: no full copy is kept
            D = np.ascontiguousarray(X[:, dense_cols].toarray())
            X = X[:, sparse_cols].tocsr()
            X.sort_indices()
        else:
            D = None
            X = X if own else sparse.csr_matrix(X, copy=True)
        self._setup(X, D, sparse_cols, dense_cols)

    def _setup(self, S, D, sparse_cols, dense_cols) -> None:
        self._S, self._D = S, D
        self._sparse_cols, self._dense_cols = sparse_cols, dense_cols
        self._p = sparse_cols.size + dense_cols.size
        self._pairs = None
        self._Dd = None

    def _with_rows(self, rows) -> "SparseDesign":
        """The given rows (a slice or sorted positions), the same column split."""
        out = object.__new__(type(self))
        D = None if self._D is None else np.ascontiguousarray(self._D[rows])
        out._setup(self._S[rows], D, self._sparse_cols, self._dense_cols)
        return out

    @property
    def shape(self):
        return (self._S.shape[0], self._p)

    @property
    def csr(self):
        """The CSR matrix of every column (built on demand when columns are held dense)."""
        if self._D is None:
            return self._S
        perm = np.argsort(np.concatenate([self._sparse_cols, self._dense_cols]))
        return sparse.hstack([self._S, sparse.csr_matrix(self._D)]).tocsc()[:, perm].tocsr()

    @property
    def dense_columns(self) -> np.ndarray:
        """Positions of the columns held as a dense array."""
        return self._dense_cols.copy()

    def all_finite(self) -> bool:
        """No NaN or infinity among the values."""
        return bool(np.all(np.isfinite(self._S.data))
                    and (self._D is None or np.all(np.isfinite(self._D))))

    @property
    def nbytes(self) -> int:
        S = self._S
        total = S.data.nbytes + S.indices.nbytes + S.indptr.nbytes
        return int(total + (0 if self._D is None else self._D.nbytes))

    def matvec(self, b):
        b = np.asarray(b, dtype=float)
        if self._D is None:
            return self._S @ b
        return self._S @ b[self._sparse_cols] + self._D @ b[self._dense_cols]

    def rmatvec(self, v):
        v = np.asarray(v, dtype=float)
        if self._D is None:
            return self._S.T @ v
        out = np.empty(self._p)
        out[self._sparse_cols] = self._S.T @ v
        out[self._dense_cols] = self._D.T @ v
        return out

    def sandwich(self, d):
        p = self.shape[1]
        out = np.zeros((p, p))
        self.add_sandwich(d, out)
        return out

    def _pair_gram(self):
        """The sparse columns' X'WX engine, chosen once: the pair store when it is small
        (:data:`STORE_BUDGET`), else the pairs formed anew on every pass."""
        if self._pairs is None:
            S = self._S
            m = np.diff(S.indptr).astype(np.int64)
            store_bytes = 12 * int(np.sum(m * (m + 1) // 2))
            p = S.shape[1]
            budget = max(STORE_MIN_BYTES, STORE_BUDGET * self.nbytes)
            if store_bytes <= budget or p * (p + 1) // 2 > STREAM_MAX_KEYS:
                from ._pairs import PairGram

                self._pairs = PairGram(S, self._sparse_cols, self._p)
            else:
                from ._pairs_stream import StreamGram

                self._pairs = StreamGram(S, self._sparse_cols, self._p)
        return self._pairs

    def add_sandwich(self, d, out, low=False):
        """out += X' diag(d) X from its sparse and dense parts (see the module notes). With
        ``low`` the dense block's product is a float32 syrk, as on a dense design
        (DenseDesign.add_sandwich), and pairs formed per pass are summed in float32 (half
        the bytes of scattered adds: :mod:`._pairs_stream`); stored pairs and the sparse x
        dense crosses stay float64."""
        d = np.asarray(d, dtype=float)
        Js, Jd = self._sparse_cols, self._dense_cols
        if Js.size:   # straight into the sparse columns' places
            self._pair_gram().add_gram(d, out, low=low)
        if self._D is None:
            return
        G = np.zeros((Jd.size, Jd.size))
        self._dense_part().add_sandwich(d, G, low=low)
        out[np.ix_(Jd, Jd)] += G
        if Js.size:
            C = np.zeros((Js.size, Jd.size))
            n = self._D.shape[0]
            for a in range(0, n, _STAT_ROWS):   # bounded temporaries: d D in row blocks
                b = min(n, a + _STAT_ROWS)
                C += _row_range(self._S, a, b).T @ (self._D[a:b] * d[a:b, None])
            out[np.ix_(Js, Jd)] += C
            out[np.ix_(Jd, Js)] += C.T

    def _dense_part(self):
        """The dense columns as a DenseDesign (its blocked, float32-capable X'WX)."""
        if self._Dd is None:
            from .dense import DenseDesign

            self._Dd = DenseDesign(self._D)
        return self._Dd

    def add_column_sandwich(self, d, cols, out, low=False):
        """out += X_C' diag(d) X_C for the columns ``cols`` only: the sparse ones by one
        sparse product of their CSR column subset (time and memory in their nonzeros, not
        in p: a lasso path's working set on a 50,000-column design), the dense ones and
        the crosses as in :meth:`add_sandwich`. The pair store is not used."""
        d = np.asarray(d, dtype=float)
        cols = np.asarray(cols, dtype=np.intp)
        if cols.size == self._p:
            self.add_sandwich(d, out, low=low)
            return
        Js, Jd = self._sparse_cols, self._dense_cols
        # positions in ``out`` and in the parts of the sparse and dense columns of C
        is_s = np.isin(cols, Js)
        ps, pd_ = np.flatnonzero(is_s), np.flatnonzero(~is_s)
        ls = np.searchsorted(Js, cols[ps])
        ld = np.searchsorted(Jd, cols[pd_])
        if ls.size:
            Sc = self._S[:, ls]
            dS = Sc.multiply(d[:, None]).tocsr()
            out[np.ix_(ps, ps)] += (Sc.T @ dS).toarray()
        if not ld.size:
            return
        D = self._D[:, ld]
        dD = D * d[:, None]
        out[np.ix_(pd_, pd_)] += D.T @ dD
        if ls.size:
            C = np.asarray(Sc.T @ dD)
            out[np.ix_(ps, pd_)] += C
            out[np.ix_(pd_, ps)] += C.T

    def cross_dense(self, B: np.ndarray, d: np.ndarray) -> np.ndarray:
        """X' diag(d) B for a dense n x k B (p x k), without a dense copy of X."""
        dB = B * d[:, None]
        if self._D is None:
            return np.asarray(self._S.T @ dB)
        out = np.empty((self._p, B.shape[1]))
        out[self._sparse_cols] = self._S.T @ dB
        out[self._dense_cols] = self._D.T @ dB
        return out

    # ------------------------------------------------------------ row-wise statistics
    def _row_of_nonzero(self, M) -> np.ndarray:
        return np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))

    def row_quadratic(self, B):
        """x_i' B x_i for every row (B symmetric p x p): sparse pairs from the pair
        structure, the dense block by BLAS, their cross terms over the nonzeros."""
        B = np.asarray(B, dtype=float)
        n = self.shape[0]
        Js, Jd = self._sparse_cols, self._dense_cols
        q = self._pair_gram().row_quadratic(B, n) if Js.size else np.zeros(n)
        if self._D is None:
            return q
        q += np.einsum("ij,ij->i", self._D @ B[np.ix_(Jd, Jd)], self._D)
        if not Js.size:
            return q
        Bsd = B[np.ix_(Js, Jd)]
        S = self._S
        for a in range(0, n, _STAT_ROWS):
            Sb = S[a:a + _STAT_ROWS]
            rows = self._row_of_nonzero(Sb)
            t = np.einsum("ij,ij->i", Bsd[Sb.indices], self._D[a + rows]) * Sb.data
            q[a:a + Sb.shape[0]] += 2.0 * np.bincount(rows, weights=t, minlength=Sb.shape[0])
        return q

    def group_sums(self, codes, n_groups, v):
        """sum over rows of group g of v_i x_i (n_groups x p): the sparse columns from
        their nonzeros, the dense ones by one bincount per column."""
        S, G = self._S, int(n_groups)
        codes = np.asarray(codes, dtype=np.int64)
        v = np.asarray(v, dtype=float)
        out = np.zeros((G, self._p))
        rows = self._row_of_nonzero(S)
        key = codes[rows] * S.shape[1] + S.indices
        out[:, self._sparse_cols] = np.bincount(key, weights=S.data * v[rows],
                                                minlength=G * S.shape[1]).reshape(G, -1)
        for j, col in zip(self._dense_cols, () if self._D is None else self._D.T):
            out[:, j] = np.bincount(codes, weights=col * v, minlength=G)
        return out

    def lagged_cross(self, d, lag):
        """X[lag:]' diag(d) X[:n - lag] from the parts: one sparse product of the CSR row
        ranges (the earlier rows scaled by d) for the sparse columns, BLAS for the dense
        ones, sparse x dense products for their crosses; lag 0 is :meth:`sandwich`. The
        sparse columns are never made dense (only their p_s x p_s product is)."""
        d = np.asarray(d, dtype=float)
        n, p = self.shape
        lag = int(lag)
        m = n - lag
        out = np.zeros((p, p))
        if lag == 0:
            self.add_sandwich(d, out)
            return out
        if m <= 0:
            return out
        Js, Jd = self._sparse_cols, self._dense_cols
        later = _row_range(self._S, lag, n)
        earlier = _row_range(self._S, 0, m)
        earlier.data = earlier.data * np.repeat(d, np.diff(earlier.indptr))   # d_t x_t
        if Js.size:
            out[np.ix_(Js, Js)] = (later.T @ earlier).toarray()
        if self._D is None:
            return out
        D_later, dD_earlier = self._D[lag:], self._D[:m] * d[:, None]
        out[np.ix_(Jd, Jd)] = D_later.T @ dD_earlier
        if Js.size:
            out[np.ix_(Js, Jd)] = np.asarray(later.T @ dD_earlier)
            out[np.ix_(Jd, Js)] = np.asarray(earlier.T @ D_later).T
        return out

    def matmat(self, M):
        M = np.asarray(M, dtype=float)
        if self._D is None:
            return np.asarray(self._S @ M)
        return np.asarray(self._S @ M[self._sparse_cols]) + self._D @ M[self._dense_cols]

    def row_dot(self, Y):
        Y = np.asarray(Y)
        S = self._S
        rows = self._row_of_nonzero(S)
        out = np.bincount(rows, weights=S.data * Y[rows, self._sparse_cols[S.indices]],
                          minlength=S.shape[0])
        if self._D is not None:
            out += np.einsum("ij,ij->i", self._D, Y[:, self._dense_cols])
        return out

    # ------------------------------------------------------------ rows and columns
    def rows_slice(self, sl: slice) -> "SparseDesign":
        """The rows ``sl`` (a CSR row slice, the same dense columns)."""
        return self._with_rows(sl)

    def take_rows(self, rows):
        return self._with_rows(np.asarray(rows))

    def take_columns(self, cols):
        """The columns ``cols`` (in that order) with the same split: the sparse ones as a CSR
        column subset, the dense ones as a copy of those columns. No densified block."""
        cols = np.asarray(cols, dtype=np.intp)
        where = np.full(self._p, -1, dtype=np.intp)   # column -> its place in S (or D)
        where[self._sparse_cols] = np.arange(self._sparse_cols.size)
        is_sparse = np.zeros(self._p, dtype=bool)
        is_sparse[self._sparse_cols] = True
        if self._D is not None:
            where[self._dense_cols] = np.arange(self._dense_cols.size)
        mask = is_sparse[cols]
        S = self._S[:, where[cols[mask]]].tocsr()
        S.sort_indices()
        D = None
        if not mask.all():
            D = np.ascontiguousarray(self._D[:, where[cols[~mask]]])
        out = object.__new__(type(self))
        out._setup(S, D, np.flatnonzero(mask), np.flatnonzero(~mask))
        return out

    def to_dense(self):
        out = np.zeros(self.shape)
        out[:, self._sparse_cols] = self._S.toarray()
        if self._D is not None:
            out[:, self._dense_cols] = self._D
        return out

    def column_is_constant(self):
        n = self._S.shape[0]
        out = np.zeros(self._p, dtype=bool)
        Sc = self._S.tocsc()
        nnz = np.diff(Sc.indptr)
        for j in np.flatnonzero(nnz == n):
            col = Sc.data[Sc.indptr[j]:Sc.indptr[j + 1]]
            out[self._sparse_cols[j]] = col.size > 0 and np.all(col == col[0])
        if self._D is not None and n:
            out[self._dense_cols] = np.all(self._D == self._D[0], axis=0) & (self._D[0] != 0)
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_pairs"] = None   # found again on first use (buffers are not data)
        state["_Dd"] = None
        return state


def _canonical_csr(X) -> bool:
    """X is a float64 CSR matrix with sorted, distinct column indices in every row and no
    stored zeros (read without touching X, not even its cached format flags)."""
    if X.format != "csr" or X.dtype != np.float64 or X.shape[0] == 0:
        return False
    ind, ptr = X.indices, X.indptr
    if ptr[0] != 0 or ptr[-1] != ind.size or np.any(X.data == 0):
        return False
    if ind.size < 2:
        return True
    rising = np.diff(ind) > 0
    starts = ptr[1:-1]
    starts = starts[(starts > 0) & (starts < ind.size)]
    rising[starts - 1] = True   # a row's first index may be below the last row's last
    return bool(rising.all())


def _row_range(S: sparse.csr_matrix, start: int, stop: int) -> sparse.csr_matrix:
    """Rows start:stop of a CSR matrix sharing its values and column indices (no copy of
    the nonzeros; a new data array may be assigned to the result)."""
    lo, hi = S.indptr[start], S.indptr[stop]
    return sparse.csr_matrix((S.data[lo:hi], S.indices[lo:hi], S.indptr[start:stop + 1] - lo),
                             shape=(stop - start, S.shape[1]), copy=False)
