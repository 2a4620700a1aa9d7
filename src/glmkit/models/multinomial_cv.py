"""K-fold cross-validation of the penalized multinomial logit over a penalty path:
glmnet's ``cv.glmnet(family='multinomial', type.measure='deviance')``.

Conventions
-----------
- Each fold's rows are predicted by the path fitted (with warm starts) to the other rows
  at the full data's alphas, and scored by the multinomial deviance -2 w log P(y | x)
  (cv.glmnet clamps probabilities to [1e-5, 1 - 1e-5]; the two agree unless a held-out
  row's probability of its class is below 1e-5).
- The curve, its standard errors, ``alpha_min`` and ``alpha_1se`` are those of
  :class:`glmkit.crossval.CrossValidationResults` (cv.glmnet's ``grouped=TRUE``).
- Without ``alphas``: ``n_alphas`` from alpha_max down to alpha_max ``alpha_min_ratio``
  (1e-4, or 1e-2 when the total weight is below the number of penalized columns), as
  glmnet.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..crossval import CrossValidationResults
from .multinomial_penalized import (
    PenalizedMNLogitResults,
    fit_multinomial_path,
    multinomial_alpha_max,
)

__all__ = ["cv_multinomial"]


def _alphas(X, codes, K, w, penalty_weights, l1_ratio, alphas, n_alphas, ratio):
    if alphas is not None:
        a = np.asarray(alphas, dtype=float).ravel()
        if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError("alphas must be positive finite numbers.")
        return np.sort(a)[::-1]
    amax = multinomial_alpha_max(X, codes, K, w, penalty_weights, l1_ratio)
    if ratio is None:
        n_pen = int(np.sum(~(np.all(X == X[:1], axis=0) & (X[0] != 0))))
        ratio = 1e-2 if w.sum() < n_pen else 1e-4
    return amax * float(ratio) ** (np.arange(n_alphas) / max(n_alphas - 1, 1))


def cv_multinomial(X: np.ndarray, codes: np.ndarray, classes, folds: np.ndarray,
                   l1_ratio: float, weights: np.ndarray | None = None, alphas=None,
                   n_alphas: int = 100, alpha_min_ratio: float | None = None,
                   penalty_weights: Any = None, exog_names=None, max_iter: int = 100,
                   tol: float = 1e-10
                   ) -> tuple[CrossValidationResults, list[PenalizedMNLogitResults]]:
    """(cross-validation results, the path on all rows) of the penalized multinomial logit.

    Parameters
    ----------
    X : (n, p) dense design, the constant column included (never penalized).
    codes : (n,) class codes 0..K-1; folds : (n,) fold labels 0..n_folds-1.
    Others as :func:`glmkit.models.multinomial_penalized.fit_multinomial_path`.
    """
    K = len(classes)
    codes = np.asarray(codes, dtype=np.intp)
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    a = _alphas(X, codes, K, w, penalty_weights, l1_ratio, alphas, n_alphas,
                alpha_min_ratio)
    kw: dict[str, Any] = {"penalty_weights": penalty_weights, "exog_names": exog_names,
                          "max_iter": max_iter, "tol": tol}
    full = fit_multinomial_path(X, codes, classes, a, l1_ratio, w, **kw)
    n_folds = int(folds.max()) + 1
    dev = np.zeros((n_folds, a.size))
    null = np.zeros(n_folds)
    fold_w = np.zeros(n_folds)
    for f in range(n_folds):
        test = folds == f
        train = ~test
        counts = np.bincount(codes[train], weights=w[train], minlength=K)
        if np.any(counts <= 0):
            missing = [classes[k] for k in np.flatnonzero(counts <= 0)]
            raise ValueError(f"fold {f}: the other folds have no rows of the classes "
                             f"{missing}; use fewer folds or stratified ones "
                             "(cv=StratifiedKFold(...)).")
        path = fit_multinomial_path(X[train], codes[train], classes, a, l1_ratio, w[train],
                                    **kw)
        rows = np.arange(int(test.sum()))
        wt, ct = w[test], codes[test]
        for j, res in enumerate(path):
            P = res.predict(X[test])
            with np.errstate(divide="ignore"):
                dev[f, j] = -2.0 * float(wt @ np.log(P[rows, ct]))
        null[f] = -2.0 * float(wt @ np.log(counts[ct] / counts.sum()))
        fold_w[f] = wt.sum()
    return CrossValidationResults(folds, a, dev, null, fold_w), full
