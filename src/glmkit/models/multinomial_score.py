"""Score (Lagrange multiplier) test of columns added to a multinomial logit:
statsmodels' ``MNLogitResults.score_test(exog_extra=...)``.

Conventions
-----------
- The bigger model adds every column of ``exog_extra`` to every non-reference equation:
  ``k_constraint`` = (columns of exog_extra) x (J - 1).
- ``cov_type='nonrobust'``: s' (-H)^{-1} s with the score s and Hessian H of the bigger
  model at the fitted (restricted) coefficients, the added ones 0 (statsmodels).
- ``cov_type='HC0'``: statsmodels' robust LM statistic ``_lm_robust``: with A = (-H)^{-1},
  R the rows of the added coefficients and B = N / (N - 1) times the centred sum of the
  per-row score products, (R A s)' (R A B A R')^{-1} (R A s). R selects the added columns
  of every equation (statsmodels 0.15 selects the last k_constraint coefficients of the
  equation-major vector, which are other coefficients when J > 2; see the README's
  Conventions).
- Frequency weights count as repeated rows (N is their sum).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats


def _extra_design(exog_extra: Any, n: int) -> np.ndarray:
    E = np.asarray(exog_extra, dtype=float)
    if E.ndim == 1:
        E = E[:, None]
    if E.ndim != 2 or E.shape[0] != n:
        raise ValueError(f"exog_extra must have one row per observation ({n}) and one column "
                         f"per added variable; got shape {np.shape(exog_extra)}.")
    if E.shape[1] == 0:
        raise ValueError("exog_extra has no columns: give at least one variable to test.")
    if not np.all(np.isfinite(E)):
        raise ValueError("exog_extra holds NaN or infinite values; drop or fill those rows.")
    return E


def score_test(res, exog_extra=None, params_constrained=None, hypothesis: str = "joint",
               cov_type=None, cov_kwds=None, k_constraints=None, observed: bool = True,
               *, return_object=None):
    """statsmodels' score test of ``exog_extra`` added to every equation (see the module
    Conventions). Returns a ``ScoreTestResult`` (unpacks as (statistic, pvalue);
    ``k_constraint``); ``hypothesis='separate'`` gives one z statistic per added
    coefficient (model-based covariance only)."""
    from ..hypotheses import ScoreTestResult

    if exog_extra is None:
        raise NotImplementedError("MNLogit score_test needs exog_extra (the columns to test); "
                                  "for nested fits use compare_lr_test or wald_test.")
    if hypothesis not in ("joint", "separate"):
        raise ValueError(f"hypothesis must be 'joint' or 'separate', got {hypothesis!r}.")
    ctype = res.cov_type if cov_type is None else cov_type
    if ctype.upper() not in ("NONROBUST", "HC0"):
        raise NotImplementedError('Only cov_type "nonrobust" and "HC0" are available.')
    robust = ctype.upper() == "HC0"
    if robust and hypothesis == "separate":
        raise NotImplementedError("hypothesis='separate' is available with the model-based "
                                  "covariance only (cov_type='nonrobust').")
    model = res.model
    X = model.exog
    E = _extra_design(exog_extra, X.shape[0])
    ex = np.column_stack([X, E])
    params = res._fit.params if params_constrained is None \
        else model._flat(params_constrained)
    m, k_ext = model.J - 1, ex.shape[1]
    P, _ = model._probs(params)
    U = model.wendog[:, 1:] - P[:, 1:]                   # unweighted score factor
    w = model.inputs.weights
    wt = np.ones(X.shape[0]) if w is None else w
    Pn = P[:, 1:]
    info = np.empty((m * k_ext, m * k_ext))
    for j in range(m):
        for ll in range(j, m):
            f = Pn[:, j] * ((j == ll) - Pn[:, ll]) * wt
            block = (ex.T * f) @ ex
            info[j * k_ext:(j + 1) * k_ext, ll * k_ext:(ll + 1) * k_ext] = block
            info[ll * k_ext:(ll + 1) * k_ext, j * k_ext:(j + 1) * k_ext] = block.T
    so = (U[:, :, None] * ex[:, None, :]).reshape(X.shape[0], -1)
    score = (so * wt[:, None]).sum(axis=0)
    k_con = E.shape[1] * m
    if not robust:
        if hypothesis == "separate":
            sel = _selected(m, k_ext, E.shape[1])
            z = score[sel] / np.sqrt(np.diag(info)[sel])
            return ScoreTestResult(z, 2.0 * stats.norm.sf(np.abs(z)), "norm", None)
        stat = np.float64(score @ np.linalg.solve(info, score))
        return ScoreTestResult(stat, np.float64(stats.chi2.sf(stat, k_con)), "chi2", k_con)
    N = float(wt.sum())
    centred = so - (wt @ so) / N
    B = N / (N - 1.0) * (centred.T * wt) @ centred
    A = np.linalg.inv(info)
    RA = A[_selected(m, k_ext, E.shape[1])]
    ws = RA @ score
    stat = np.float64(ws @ np.linalg.solve(RA @ B @ RA.T, ws))
    return ScoreTestResult(stat, np.float64(stats.chi2.sf(stat, k_con)), "chi2", k_con)


def _selected(m: int, k_ext: int, k_extra: int) -> np.ndarray:
    """Positions of the added coefficients in the equation-major vector."""
    return np.concatenate([np.arange(j * k_ext + k_ext - k_extra, (j + 1) * k_ext)
                           for j in range(m)])
