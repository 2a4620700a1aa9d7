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
        X = sparse.csr_matrix(X, dtype=np.float64, copy=True)
        X.sum_duplicates()   # canonical: sorted column indices in each row, no repeats
        X.eliminate_zeros()
        n = X.shape[0]
        if dense_threshold is None or n == 0:
            dense = np.zeros(X.shape[1], dtype=bool)
        else:
            dense = np.bincount(X.indices, minlength=X.shape[1]) > float(dense_threshold) * n
        self._setup(X, np.flatnonzero(dense))

    def _setup(self, X, dense_cols: np.ndarray) -> None:
        self._X = X
        p = X.shape[1]
        is_dense = np.zeros(p, dtype=bool)
        is_dense[dense_cols] = True
        self._dense_cols = np.flatnonzero(is_dense)
        self._sparse_cols = np.flatnonzero(~is_dense)
        if self._dense_cols.size:
            self._D = np.ascontiguousarray(X[:, self._dense_cols].toarray())
            self._S = X[:, self._sparse_cols].tocsr()
            self._S.sort_indices()
        else:
            self._D, self._S = None, X
        self._pairs = None

    @classmethod
    def _with_split(cls, X, dense_cols) -> "SparseDesign":
        """A design of a canonical CSR X with the given dense columns (rows of a parent)."""
        out = object.__new__(cls)
        out._setup(X, dense_cols)
        return out

    @property
    def shape(self):
        return self._X.shape

    @property
    def csr(self):
        """The CSR matrix of every column (canonical: sorted indices, no duplicates)."""
        return self._X

    @property
    def dense_columns(self) -> np.ndarray:
        """Positions of the columns held as a dense array."""
        return self._dense_cols.copy()

    @property
    def nbytes(self) -> int:
        mats = [self._X] if self._S is self._X else [self._X, self._S]
        total = sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in mats)
        return int(total + (0 if self._D is None else self._D.nbytes))

    def matvec(self, b):
        return self._X @ np.asarray(b, dtype=float)

    def rmatvec(self, v):
        return self._X.T @ np.asarray(v, dtype=float)

    def sandwich(self, d):
        p = self.shape[1]
        out = np.zeros((p, p))
        self.add_sandwich(d, out)
        return out

    def _pair_gram(self):
        if self._pairs is None:
            from ._pairs import PairGram

            self._pairs = PairGram(self._S, self._sparse_cols, self.shape[1])
        return self._pairs

    def add_sandwich(self, d, out, low=False):
        """out += X' diag(d) X from its sparse and dense parts (see the module notes)."""
        d = np.asarray(d, dtype=float)
        Js, Jd = self._sparse_cols, self._dense_cols
        if Js.size:   # straight into the sparse columns' places
            self._pair_gram().add_gram(d, out)
        if self._D is None:
            return
        dD = self._D * d[:, None]
        out[np.ix_(Jd, Jd)] += self._D.T @ dD
        if Js.size:
            C = np.asarray(self._S.T @ dD)
            out[np.ix_(Js, Jd)] += C
            out[np.ix_(Jd, Js)] += C.T

    def cross_dense(self, B: np.ndarray, d: np.ndarray) -> np.ndarray:
        """X' diag(d) B for a dense n x k B (p x k), without a dense copy of X."""
        return np.asarray(self._X.T @ (B * d[:, None]))

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
        """sum over rows of group g of v_i x_i (n_groups x p), from the nonzeros."""
        X, p = self._X, self.shape[1]
        rows = self._row_of_nonzero(X)
        key = np.asarray(codes, dtype=np.int64)[rows] * p + X.indices
        sums = np.bincount(key, weights=X.data * np.asarray(v, dtype=float)[rows],
                           minlength=int(n_groups) * p)
        return sums.reshape(int(n_groups), p)

    def matmat(self, M):
        return np.asarray(self._X @ np.asarray(M, dtype=float))

    def row_dot(self, Y):
        X = self._X
        rows = self._row_of_nonzero(X)
        return np.bincount(rows, weights=X.data * np.asarray(Y)[rows, X.indices],
                           minlength=X.shape[0])

    # ------------------------------------------------------------ rows and columns
    def rows_slice(self, sl: slice) -> "SparseDesign":
        """The rows ``sl`` (a CSR row slice, the same dense columns)."""
        return SparseDesign._with_split(self._X[sl], self._dense_cols)

    def take_rows(self, rows):
        return SparseDesign._with_split(self._X[rows], self._dense_cols)

    def to_dense(self):
        return self._X.toarray()

    def column_is_constant(self):
        n = self._X.shape[0]
        Xc = self._X.tocsc()
        nnz = np.diff(Xc.indptr)
        out = np.zeros(self._X.shape[1], dtype=bool)
        for j in np.flatnonzero(nnz == n):
            col = Xc.data[Xc.indptr[j]:Xc.indptr[j + 1]]
            out[j] = col.size > 0 and np.all(col == col[0])
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_pairs"] = None   # found again on first use (buffers are not data)
        return state
