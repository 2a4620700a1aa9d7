"""scipy.sparse designs (CSR or CSC)."""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .base import DesignMatrix


class SparseDesign(DesignMatrix):
    """A scipy sparse n x p matrix; products stay sparse, the Gram is returned dense."""

    def __init__(self, X):
        if not sparse.issparse(X):
            raise ValueError("SparseDesign needs a scipy.sparse matrix")
        self._X = X.tocsr().astype(np.float64)
        self._Xt = self._X.T.tocsr()

    @property
    def shape(self):
        return self._X.shape

    @property
    def nbytes(self) -> int:
        return int(sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
                       for m in (self._X, self._Xt)))

    def matvec(self, b):
        return self._X @ np.asarray(b, dtype=float)

    def rmatvec(self, v):
        return self._Xt @ np.asarray(v, dtype=float)

    def sandwich(self, d):
        G = self._Xt @ sparse.diags(np.asarray(d, dtype=float)) @ self._X
        return np.asarray(G.todense())

    def take_rows(self, rows):
        return SparseDesign(self._X[rows])

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
