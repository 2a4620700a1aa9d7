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
    d = np.diag(G)
    pos = d > 0
    s = np.zeros(len(d))
    s[pos] = 1.0 / np.sqrt(d[pos])
    return s


def find_aliased(G: np.ndarray, tol: float = ALIAS_TOL) -> np.ndarray:
    """Boolean mask of columns that are linear combinations of earlier columns.

    Order-preserving, as R's glm: a later column is dropped in favour of earlier ones.
    Columns with zero weighted norm are aliased.
    """
    p = G.shape[0]
    s = _scaling(G)
    S = G * s[:, None] * s[None, :]
    zero = s == 0
    if not zero.any():
        try:
            c = linalg.cholesky(S, lower=True, check_finite=False)
            if np.all(np.diag(c) ** 2 >= tol):
                return np.zeros(p, dtype=bool)
        except linalg.LinAlgError:
            pass
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
    potrf/potrs directly: small problems are dominated by call overhead)."""

    def __init__(self, G: np.ndarray):
        self.s = _scaling(G)
        if G.shape[0] == 0:
            self.c = np.zeros((0, 0))
            return
        S = G * self.s[:, None] * self.s[None, :]
        c, info = lapack.dpotrf(S, lower=1, clean=0, overwrite_a=1)
        if info != 0:
            raise linalg.LinAlgError("matrix is not positive definite")
        self.c = c

    def solve(self, r: np.ndarray) -> np.ndarray:
        if len(self.s) == 0:
            return np.zeros(0)
        x, info = lapack.dpotrs(self.c, self.s * r, lower=1)
        return self.s * x

    def inverse(self) -> np.ndarray:
        if len(self.s) == 0:
            return np.zeros((0, 0))
        inv, info = lapack.dpotri(self.c, lower=1)
        inv = np.tril(inv) + np.tril(inv, -1).T
        return self.s[:, None] * inv * self.s[None, :]


def try_factor(G: np.ndarray) -> SPDFactor | None:
    """SPDFactor of G, or None when G is not numerically positive definite."""
    if not np.isfinite(G).all():
        return None
    try:
        return SPDFactor(G)
    except linalg.LinAlgError:
        return None
