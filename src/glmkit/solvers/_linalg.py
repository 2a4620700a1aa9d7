"""Small p x p linear algebra shared by the solvers: aliasing and SPD solves.

Both work on the Gram G = X' W X after equilibration S = D G D, D = diag(G)^(-1/2), so
they see the geometry of the columns and not their units.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

#: A column is aliased when the share of its weighted squared norm left after projecting
#: on the earlier kept columns is below this (a norm ratio of 1e-6). R's QR uses 1e-11 on
#: the norm ratio; on a Gram matrix precision stops well above that.
ALIAS_TOL = 1e-12


def _scaling(G: np.ndarray) -> np.ndarray:
    d = G.diagonal()
    if d.min(initial=1.0) > 0:
        return 1.0 / np.sqrt(d)
    pos = d > 0
    s = np.zeros(len(d))
    s[pos] = 1.0 / np.sqrt(d[pos])
    return s


#: A diagonal block is eliminated first (a Schur complement) when it has this many columns.
MIN_DIAGONAL = 32


def diagonal_positions(diag_mask, keep=None) -> np.ndarray | None:
    """Positions, among the kept columns, of the columns a design says have a diagonal
    Gram block (:meth:`DesignMatrix.diagonal_columns`); None when too few to matter."""
    if diag_mask is None:
        return None
    m = np.asarray(diag_mask, dtype=bool)
    if keep is not None:
        m = m[np.asarray(keep, dtype=bool)]
    pos = np.flatnonzero(m)
    return pos if pos.size >= MIN_DIAGONAL else None


def diagonal_mask(problem) -> np.ndarray | None:
    """The problem's own ``diagonal_columns()`` (a Dask problem, whose X is a dask array),
    else its design's: which columns have a diagonal block of X'WX, or None."""
    f = getattr(problem, "diagonal_columns", None) or getattr(problem.X, "diagonal_columns",
                                                               None)
    return None if f is None else f()


def find_aliased(G: np.ndarray, tol: float = ALIAS_TOL, diag=None,
                 factor_out: list | None = None) -> np.ndarray:
    """Boolean mask of columns that are linear combinations of earlier columns.

    Order-preserving, as R's glm: a later column is dropped in favour of earlier ones.
    Columns with zero weighted norm are aliased. ``diag``: positions of a block of columns
    whose Gram block is diagonal, so that the full-rank check costs a Schur complement.
    ``factor_out``: a list that receives the SPDFactor of G when G has full rank (the
    first solve needs the same factorization).
    """
    p = G.shape[0]
    s = _scaling(G)
    zero = s == 0
    if diag is not None and len(diag) == p:   # one categorical variable: X'WX is diagonal
        return zero
    if not zero.any() and np.isfinite(G).all():
        try:
            fac = SPDFactor(G, diag)
            if np.all(fac.pivots() >= tol):
                if factor_out is not None:
                    factor_out.append(fac)
                return np.zeros(p, dtype=bool)
        except linalg.LinAlgError:
            pass
    S = G * s[:, None] * s[None, :]
    # left-looking Cholesky that skips columns with a tiny Schur complement
    aliased = zero.copy()
    Lrows = np.zeros((p, p))
    kept: list[int] = []
    for j in range(p):
        if aliased[j]:
            continue
        lj = Lrows[j, np.array(kept, dtype=int)]
        r = S[j, j] - lj @ lj
        if r < tol:
            aliased[j] = True
            continue
        ljj = np.sqrt(r)
        rest = np.arange(j + 1, p)
        if rest.size:
            Lrows[rest, j] = (S[rest, j] - Lrows[np.ix_(rest, np.array(kept, dtype=int))] @ lj) / ljj
        Lrows[j, j] = ljj
        kept.append(j)
    return aliased


class SPDFactor:
    """Cholesky factor of an equilibrated symmetric positive definite matrix (LAPACK
    potrf/potrs directly: small problems are dominated by call overhead).

    With ``diag`` (positions of columns whose block of G is diagonal, as the levels of a
    categorical variable), that block is eliminated first: equilibrated it is the identity,
    and only the Schur complement C = S_rr - S_rd S_dr of the other columns is factored.
    A 2,010-column Gram with a 2,000-level factor then costs an 11 x 11 Cholesky and
    products with the 10 x 2,000 cross block instead of a 2,010^3 / 3 factorization.
    """

    def __init__(self, G: np.ndarray, diag=None):
        self.s = _scaling(G)
        p = G.shape[0]
        self.d = None
        if p == 0:
            self.c = np.zeros((0, 0))
            return
        if diag is not None and 0 < len(diag) <= p:
            d = np.asarray(diag, dtype=np.intp)
            if np.any(self.s[d] == 0):
                raise linalg.LinAlgError("matrix is not positive definite")
            r = np.setdiff1d(np.arange(p), d)
            sr, sd = self.s[r], self.s[d]
            Srd = G[np.ix_(r, d)] * sr[:, None] * sd[None, :]
            C = G[np.ix_(r, r)] * sr[:, None] * sr[None, :] - Srd @ Srd.T
            self.d, self.r, self.Srd = d, r, Srd
            S = C
        else:
            S = G * self.s[:, None] * self.s[None, :]
        if S.shape[0] == 0:   # all columns in the diagonal block
            self.c = S
            return
        # S is C-ordered and symmetric: its transpose is the same matrix in Fortran order, so
        # LAPACK factors it in place (given C order, scipy first makes a transposed copy:
        # 2,005 columns, under load, 0.4-3.5 s a factorization against 0.13-0.4 s). The
        # upper triangle of S' is the lower one of S, the numbers read before; c holds U = L'
        if ONE_THREAD_FACTOR[0] < S.shape[0] <= ONE_THREAD_FACTOR[1]:
            from .._parallel import one_blas_thread

            with one_blas_thread():
                c, info = lapack.dpotrf(S.T, lower=0, clean=0, overwrite_a=1)
        else:
            c, info = lapack.dpotrf(S.T, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            raise linalg.LinAlgError("matrix is not positive definite")
        self.c = c

    def pivots(self) -> np.ndarray:
        """Squared Cholesky pivots of the equilibrated matrix (1 for the diagonal block)."""
        piv = np.diag(self.c) ** 2
        return piv if self.d is None else np.concatenate([np.ones(len(self.d)), piv])

    def solve(self, r: np.ndarray) -> np.ndarray:
        if len(self.s) == 0:
            return np.zeros(0)
        rs = self.s * r
        if self.d is None:
            x, info = lapack.dpotrs(self.c, rs, lower=0)
            return self.s * x
        x = np.empty_like(rs)
        if len(self.r) == 0:
            return self.s * rs
        xr, info = lapack.dpotrs(self.c, rs[self.r] - self.Srd @ rs[self.d], lower=0)
        x[self.r] = xr
        x[self.d] = rs[self.d] - self.Srd.T @ xr
        return self.s * x

    def inverse(self) -> np.ndarray:
        if len(self.s) == 0:
            return np.zeros((0, 0))
        if self.d is not None and len(self.r) == 0:
            return np.diag(self.s ** 2)
        if len(self.s) > SMALL_ON_ONE_THREAD:
            return self._inverse()
        from .._parallel import one_blas_thread

        # a few small BLAS calls: on threads each waits for every BLAS thread to be
        # scheduled (on a loaded machine, 351 columns: 0.30 s against 0.003 s on one)
        with one_blas_thread():
            return self._inverse()

    def _inverse(self) -> np.ndarray:
        inv, info = lapack.dpotri(self.c, lower=0)
        inv = np.triu(inv) + np.triu(inv, 1).T
        if self.d is not None:
            # [[A, B], [B', I]]^-1 = [[C^-1, -C^-1 B], [-B' C^-1, I + B' C^-1 B]]
            M = inv @ self.Srd
            full = np.empty((len(self.s), len(self.s)))
            r, d = self.r, self.d
            full[np.ix_(r, r)] = inv
            full[np.ix_(r, d)] = -M
            full[np.ix_(d, r)] = -M.T
            dd = self.Srd.T @ M
            dd[np.diag_indices_from(dd)] += 1.0
            full[np.ix_(d, d)] = dd
            inv = full
        return self.s[:, None] * inv * self.s[None, :]


#: inverses of at most this many columns run with BLAS at one thread
SMALL_ON_ONE_THREAD = 1500
#: Cholesky factorizations of (lo, hi] columns run with BLAS at one thread (below: OpenBLAS
#: runs them on one anyway). A factorization waits for every BLAS thread to be scheduled, so
#: under load one thread wins (load 8, medians of 6, one thread against two: 500 columns
#: 0.020 / 0.050 s, 2,005 0.36 / 0.63); on the idle machine two threads win from about 650
#: columns (medians of 7-9, one against two: 500 0.0025 / 0.0045 s, 900 0.010 / 0.006,
#: 2,005 0.076 / 0.044), so only the small factorizations are held to one thread.
ONE_THREAD_FACTOR = (256, 640)


def try_factor(G: np.ndarray, diag=None) -> SPDFactor | None:
    """SPDFactor of G, or None when G is not numerically positive definite."""
    if not np.isfinite(G).all():
        return None
    try:
        return SPDFactor(G, diag)
    except linalg.LinAlgError:
        return None
