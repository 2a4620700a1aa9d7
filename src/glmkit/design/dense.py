"""Dense designs: the weighted Gram by BLAS on row blocks, with one reused buffer."""
from __future__ import annotations

import numpy as np

from .base import DesignMatrix

#: Elements (not bytes) in the row-block buffer: 2**20 float64 = 8 MiB.
_BLOCK_ELEMENTS = 1 << 20


class DenseDesign(DesignMatrix):
    """A C-ordered float64 n x p array, never copied or written to.

    :meth:`sandwich` walks row blocks, scales each into a reused buffer by sqrt(d) and
    accumulates ``B' B`` (a BLAS syrk), so a fit allocates no n x p temporaries.
    """

    def __init__(self, X: np.ndarray):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"a dense design must be 2-d, got shape {X.shape}")
        self._X = X
        self._buf: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self._X.shape  # type: ignore[return-value]

    @property
    def array(self) -> np.ndarray:
        return self._X

    def matvec(self, b):
        return self._X @ b

    def rmatvec(self, v):
        return self._X.T @ v

    def _block_rows(self) -> int:
        n, p = self._X.shape
        return max(1, min(n, _BLOCK_ELEMENTS // max(p, 1)))

    def sandwich(self, d):
        n, p = self._X.shape
        rows = self._block_rows()
        if rows >= n:
            return self._sandwich_block(self._X, d, np.empty((n, p)))
        if self._buf is None:
            self._buf = np.empty((rows, p))
        out = np.zeros((p, p))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            out += self._sandwich_block(self._X[start:stop], d[start:stop], self._buf[: stop - start])
        return out

    @staticmethod
    def _sandwich_block(Xb, db, buf):
        if np.all(db >= 0):
            np.multiply(Xb, np.sqrt(db)[:, None], out=buf)
            return buf.T @ buf
        np.multiply(Xb, db[:, None], out=buf)
        g = Xb.T @ buf
        return 0.5 * (g + g.T)

    def to_dense(self):
        return self._X

    def column_is_constant(self):
        X = self._X
        if X.shape[0] == 0:
            return np.zeros(X.shape[1], dtype=bool)
        first = X[0]
        return (first != 0) & np.all(X == first, axis=0)
