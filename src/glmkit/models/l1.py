"""L1-penalized maximum likelihood for the models of this package: statsmodels'
``fit_regularized(method='l1')`` of its discrete models.

Conventions
-----------
The objective is statsmodels' (``DiscreteModel.fit_regularized``):

    minimize  -loglike(b) + sum_j alpha_j |b_j|

(statsmodels divides both terms by nobs: the same minimizer). A scalar alpha penalizes
every coefficient (the constant included), as statsmodels; scalar parameters such as a
negative binomial's dispersion are never penalized.

Notes
-----
Proximal Newton: at b the log-likelihood is replaced by its second-order expansion (score
s, observed information I, shifted to positive definite where it is not), the penalized
quadratic is minimized by coordinate descent (:func:`glmkit.solvers._cd.solve_quadratic`),
and a step along the way is accepted once it decreases the objective enough (halving).
The answer is certified by the KKT conditions in units of standard errors: on the non-zero
coordinates the Newton step of s_A - alpha_A sign(b_A) has sqrt(d' I_AA d) < ``tol``, and
every zero coordinate has (|s_j| - alpha_j)_+ / sqrt(I_jj) < ``tol``. ``kkt`` reports the
larger of the two.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from ..solvers._cd import solve_quadratic

__all__ = ["L1Fit", "check_alpha", "check_l1_method", "fit_l1", "kkt_violation"]

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]

#: statsmodels' fit_regularized keywords that steer its optimizer or its trimming of small
#: coefficients: accepted, without effect (the answer is the certified minimum, whose zeros
#: are exact)
IGNORED = {"full_output", "disp", "callback", "trim_mode", "auto_trim_tol", "size_trim_tol",
           "qc_tol", "qc_verbose", "acc", "refit"}


@dataclass(frozen=True)
class L1Fit:
    params: np.ndarray
    llf: float
    score: np.ndarray
    information: np.ndarray
    converged: bool
    kkt: float
    n_iter: int
    message: str


def check_l1_method(method: str) -> None:
    """statsmodels' ``_validate_l1_method``: only 'l1' and 'l1_cvxopt_cp'."""
    if method not in ("l1", "l1_cvxopt_cp"):
        raise ValueError(f"`method` = {method!r} is not supported, use either 'l1' or "
                         "'l1_cvxopt_cp' (both give glmkit's certified L1 minimum).")


def check_alpha(alpha, k: int) -> np.ndarray:
    """The per-coefficient penalty: a scalar, or one non-negative finite value per
    coefficient."""
    a = np.asarray(alpha, dtype=float)
    if a.ndim == 0:
        a = np.full(k, float(a))
    else:
        a = a.ravel(order="F")
    if a.shape[0] != k:
        raise ValueError(f"alpha must be a scalar or hold one value per coefficient ({k}), "
                         f"got {a.shape[0]} values.")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alpha must be finite and non-negative.")
    return a


def _positive_definite(info: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    shift = 0.0
    while True:
        M = info + shift * np.diag(d * d)
        try:
            linalg.cholesky(M, check_finite=False)
            return M
        except linalg.LinAlgError:
            shift = 1e-8 if shift == 0.0 else shift * 10.0
            if shift > 1e8:
                return np.diag(d * d)


def kkt_violation(b: np.ndarray, s: np.ndarray, info: np.ndarray, alpha: np.ndarray) -> float:
    """The KKT criterion of the Notes (in standard-error units)."""
    d = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    zero = b == 0
    off = np.maximum(np.abs(s[zero]) - alpha[zero], 0.0) / d[zero]
    worst = float(off.max(initial=0.0))
    A = ~zero
    if A.any():
        r = s[A] - alpha[A] * np.sign(b[A])
        IA = info[np.ix_(A, A)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", linalg.LinAlgWarning)
                step = linalg.solve(IA, r, assume_a="pos", check_finite=False)
            worst = max(worst, float(np.sqrt(max(float(step @ r), 0.0))))
        except (linalg.LinAlgError, ValueError):
            worst = max(worst, float(np.max(np.abs(r) / d[A])))
    return worst


def fit_l1(evaluate: Evaluate, start: np.ndarray, alpha: np.ndarray, maxiter: int = 200,
           tol: float = 1e-8) -> L1Fit:
    """Minimize -loglike + sum alpha |b| from ``start`` (see the Notes)."""
    b = np.asarray(start, dtype=float).copy()
    llf, s, info = evaluate(b)
    if not np.isfinite(llf):
        raise ValueError("the log-likelihood is not finite at the starting values.")
    obj = -llf + float(alpha @ np.abs(b))
    k = b.shape[0]
    free = np.ones(k, dtype=bool)
    lo, hi, l2 = np.full(k, -np.inf), np.full(k, np.inf), np.zeros(k)
    crit = np.inf
    for it in range(maxiter + 1):
        crit = kkt_violation(b, s, info, alpha)
        if crit < tol:
            return L1Fit(b, llf, s, info, True, crit, it, "converged")
        if it == maxiter:
            break
        H = _positive_definite(info)
        c = float(np.mean(np.diag(H)))
        target, _ = solve_quadratic(H / c, (s + H @ b) / c, b, alpha / c, l2, lo, hi, free)
        d = target - b
        decrease = float(-s @ d + alpha @ (np.abs(target) - np.abs(b)))
        t = 1.0
        for _ in range(50):
            trial = b + t * d
            new = evaluate(trial)
            new_obj = -new[0] + float(alpha @ np.abs(trial))
            if np.isfinite(new_obj) and new_obj <= obj + 1e-4 * t * min(decrease, 0.0) \
                    + 1e-13 * (1.0 + abs(obj)):
                break
            t *= 0.5
        else:
            return L1Fit(b, llf, s, info, False, crit, it,
                         "no step decreases the penalized objective")
        b, obj = trial, new_obj
        llf, s, info = new
    return L1Fit(b, llf, s, info, False, crit, maxiter,
                 f"the KKT conditions are not met within {maxiter} iterations")


def l1_covariance(fit: L1Fit, fill: float = np.nan) -> np.ndarray:
    """statsmodels' covariance of an L1 fit: the inverse information of the non-zero
    coefficients; ``fill`` (NaN) in the rows and columns of the zeros."""
    k = fit.params.shape[0]
    cov = np.full((k, k), fill)
    A = fit.params != 0
    if A.any():
        try:
            cov[np.ix_(A, A)] = np.linalg.inv(fit.information[np.ix_(A, A)])
        except np.linalg.LinAlgError:
            pass
    return cov


def wald_columns(params: np.ndarray, cov: np.ndarray):
    """(bse, z, p) of a coefficient vector and covariance (NaN where cov is NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        bse = np.sqrt(np.diag(cov))
        z = params / bse
    return bse, z, 2.0 * stats.norm.sf(np.abs(z))
