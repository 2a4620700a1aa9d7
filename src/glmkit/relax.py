"""glmnet's relaxed fits (``relax=TRUE``): the unpenalized refit on each alpha's active set
and its blends with the penalized path.

For every point of a path, the columns with non-zero coefficients (plus the constant
columns, never penalized) are refitted without a penalty, within the path's bounds (glmnet's
``relax.glmnet``: ``glmnet(lambda = 0, exclude = the inactive columns)``); points with the
same active set share one refit. A point whose active set has more than ``nobs - 3``
columns gets no refit of its own (glmnet's ``maxp``): it takes the refit of the last point
that has one (glmnet's ``extend``). The relaxed coefficients at ``gamma`` are

    gamma * b_penalized + (1 - gamma) * b_relaxed,   gamma floored at 1e-5 (glmnet's epsilon),

so ``gamma=1`` is the penalized path and ``gamma=0`` (in effect 1e-5) the refits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .solvers.penalized import PenalizedResult, Penalty, penalized_irls

__all__ = ["GAMMAS", "RelaxedCV", "RelaxedPath", "blend", "check_gammas", "choose_relaxed",
           "relaxed_fits"]

#: cv.glmnet's default gamma
GAMMAS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: glmnet's blend.relaxed epsilon: gamma is at least this
_EPSILON = 1e-5


def check_gammas(gamma) -> np.ndarray:
    """The gammas in [0, 1], sorted increasing (cv.glmnet's checkgamma.relax)."""
    g = np.atleast_1d(np.asarray(gamma, dtype=float)).ravel()
    if g.size == 0 or np.any(~np.isfinite(g)) or np.any((g < 0) | (g > 1)):
        raise ValueError(f"gamma must be numbers in [0, 1] (glmnet's relax gamma), got "
                         f"{gamma!r}.")
    return np.unique(g)


def relaxed_fits(pp, points: list[PenalizedResult], nrows: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Refits of ``points`` (a path of the :class:`glmkit.path._PathProblem` ``pp``):
    (coefficients m x p, deviance (m,), converged (m,), refitted (m,): False where the
    active set exceeded ``nrows - 3`` columns and a later refit was used)."""
    m, p = len(points), pp.const.shape[0]
    B, dev = np.zeros((m, p)), np.full(m, np.nan)
    ok, own = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    zero = np.zeros(p)
    pen = Penalty(zero, zero, pp.lower, pp.upper)
    done: dict[bytes, PenalizedResult] = {}
    last = None
    for i, pt in enumerate(points):
        active = (np.asarray(pt.params) != 0) & ~pp.const
        if int(active.sum()) > nrows - 3:
            continue
        key = active.tobytes()
        if key not in done:
            free = active | pp.const
            done[key] = penalized_irls(pp.sweeper, pp.n, pen, np.where(free, pt.params, 0.0),
                                       free, tol=pp.tol, maxiter=pp.max_iter,
                                       quadratic=pp.quadratic)
        res = done[key]
        B[i], dev[i], ok[i], own[i] = res.params, res.deviance, res.converged, True
        last = i
    if last is not None:   # glmnet's extend: points without a refit take the last one
        B[~own], dev[~own], ok[~own] = B[last], dev[last], ok[last]
    return B, dev, ok, own


def blend(B_pen: np.ndarray, B_relaxed: np.ndarray, gamma: float) -> np.ndarray:
    """glmnet's blend.relaxed: gamma B_pen + (1 - gamma) B_relaxed, gamma >= 1e-5."""
    if gamma >= 1.0:
        return B_pen
    g = max(float(gamma), _EPSILON)
    return g * B_pen + (1.0 - g) * B_relaxed


class RelaxedPath:
    """The relaxed fits of a path (``fit_path(relax=True)``; R's ``fit$relaxed``).

    Attributes
    ----------
    params : DataFrame, one row per alpha: the unpenalized refit on that alpha's active
        set (constant columns included), within the bounds.
    deviance : (m,) the refits' deviance.
    converged : (m,) the refits met their KKT conditions.
    refitted : (m,) False where the active set had more than nobs - 3 columns: the last
        refit is used there (glmnet's maxp and extend).

    ``params_at(gamma)`` blends them with the penalized path.
    """

    def __init__(self, penalized: pd.DataFrame, B: np.ndarray, deviance: np.ndarray,
                 converged: np.ndarray, refitted: np.ndarray):
        self._penalized = penalized
        self.params = pd.DataFrame(B, columns=penalized.columns, index=penalized.index)
        self.deviance = deviance
        self.converged = converged
        self.refitted = refitted

    def params_at(self, gamma: float) -> pd.DataFrame:
        """Coefficients at every alpha for ``gamma`` (R's ``coef(fit, gamma = )``)."""
        g = float(check_gammas(gamma)[0]) if np.ndim(gamma) == 0 else None
        if g is None:
            raise ValueError("params_at takes one gamma.")
        B = blend(self._penalized.to_numpy(), self.params.to_numpy(), g)
        return pd.DataFrame(B, columns=self.params.columns, index=self.params.index)

    def __repr__(self) -> str:
        return (f"RelaxedPath({len(self.deviance)} alphas, "
                f"{int(self.converged.sum())} refits converged)")


def choose_relaxed(alphas: np.ndarray, gammas: np.ndarray, cvm: np.ndarray,
                   cvsd: np.ndarray, measure: str) -> dict:
    """glmnet's getOptcv.relaxed over every (gamma, alpha): the smallest cvm (largest for
    AUC), ties to the largest alpha then the largest gamma; then the largest alpha (then
    gamma) whose cvm is within one cvsd of that minimum. ``cvm``, ``cvsd``: (gammas, alphas).
    """
    G, A = np.meshgrid(gammas, alphas, indexing="ij")
    m = (-cvm if measure == "auc" else cvm).ravel()
    a, g, sd = A.ravel(), G.ravel(), cvsd.ravel()

    def first(ok: np.ndarray) -> int:
        idx = np.flatnonzero(ok)
        return int(idx[np.lexsort((-g[idx], -a[idx]))[0]])   # alpha desc, then gamma desc

    i_min = first(m <= np.nanmin(m))
    i_1se = first(m <= m[i_min] + sd[i_min])
    k = alphas.shape[0]
    return {"alpha_min": float(a[i_min]), "gamma_min": float(g[i_min]),
            "alpha_1se": float(a[i_1se]), "gamma_1se": float(g[i_1se]),
            "index_min": (i_min // k, i_min % k), "index_1se": (i_1se // k, i_1se % k)}


class RelaxedCV:
    """Cross-validation of the relaxed fits (``fit_cv(relax=True)``; R's ``cvfit$relaxed``).

    Attributes
    ----------
    gamma : (G,) the gammas, increasing.
    alphas : (m,) the path's penalties.
    cvm, cvsd : DataFrames (one row per gamma, one column per alpha): the held-out loss of
        the blended fits and its standard error.
    alpha_min, gamma_min : the pair with the best cvm (ties: the largest alpha, then gamma).
    alpha_1se, gamma_1se : the largest alpha (then gamma) whose cvm is within one cvsd of it.
    index_min, index_1se : their (gamma, alpha) positions.
    fold_converged : (G, K, m) bool, every fold's penalized fit and refit converged.

    ``CVResults.fit_at(alpha_min, gamma=gamma_min)`` is the chosen fit on all rows.
    """

    def __init__(self, gammas: np.ndarray, alphas: np.ndarray, cvm: np.ndarray,
                 cvsd: np.ndarray, measure: str, fold_converged: np.ndarray):
        self.gamma = gammas
        self.alphas = alphas
        idx = pd.Index(gammas, name="gamma")
        self.cvm = pd.DataFrame(cvm, index=idx, columns=alphas)
        self.cvsd = pd.DataFrame(cvsd, index=idx, columns=alphas)
        self.fold_converged = fold_converged
        c = choose_relaxed(alphas, gammas, cvm, cvsd, measure)
        self.alpha_min, self.gamma_min = c["alpha_min"], c["gamma_min"]
        self.alpha_1se, self.gamma_1se = c["alpha_1se"], c["gamma_1se"]
        self.index_min, self.index_1se = c["index_min"], c["index_1se"]

    def __repr__(self) -> str:
        return (f"RelaxedCV(gamma={[float(g) for g in self.gamma]}; min at alpha={self.alpha_min:.4g}, "
                f"gamma={self.gamma_min}; 1se at alpha={self.alpha_1se:.4g}, "
                f"gamma={self.gamma_1se})")
