"""Small p x p linear algebra shared by the solvers: aliasing and SPD solves.

Both work on the Gram G = X' W X after equilibration S = D G D, D = diag(G)^(-1/2), so
they see the geometry of the columns and not their units.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg

#: A column is aliased when the share of its weighted squared norm left after projecting
#: on the earlier kept columns is below this (a norm ratio of 1e-6). R's QR uses 1e-11 on
#: the norm ratio; on a Gram matrix precision stops well above that.
ALIAS_TOL = 1e-12


def _scaling(G: np.ndarray) -> np.ndarray:
    d = np.diag(G).copy()
    with np.errstate(divide="ignore"):
        s = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
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
        lj = Lrows[j, kept]
        r = S[j, j] - lj @ lj
        if r < tol:
            aliased[j] = True
            continue
        ljj = np.sqrt(r)
        rest = np.arange(j + 1, p)
        if rest.size:
            Lrows[rest, j] = (S[rest, j] - Lrows[np.ix_(rest, kept)] @ lj) / ljj
        Lrows[j, j] = ljj
        kept.append(j)
    return aliased


class SPDFactor:
    """Cholesky factor of an equilibrated symmetric positive definite matrix."""

    def __init__(self, G: np.ndarray):
        self.s = _scaling(G)
        S = G * self.s[:, None] * self.s[None, :]
        self.cho = linalg.cho_factor(S, lower=True, check_finite=False)

    def solve(self, r: np.ndarray) -> np.ndarray:
        return self.s * linalg.cho_solve(self.cho, self.s * r, check_finite=False)

    def inverse(self) -> np.ndarray:
        inv = linalg.cho_solve(self.cho, np.eye(len(self.s)), check_finite=False)
        inv = self.s[:, None] * inv * self.s[None, :]
        return 0.5 * (inv + inv.T)


def try_factor(G: np.ndarray) -> SPDFactor | None:
    """SPDFactor of G, or None when G is not numerically positive definite."""
    if not np.all(np.isfinite(G)):
        return None
    try:
        return SPDFactor(G)
    except linalg.LinAlgError:
        return None
