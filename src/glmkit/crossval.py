"""K-fold cross-validated deviance of a GLM, without scikit-learn: :func:`cross_validate`.

Each fold's rows are predicted by the model fitted on the other rows (with their offsets,
exposures and weights), and scored by the family's deviance: the out-of-sample deviance
of an unpenalized fit, or glmnet's ``cv.glmnet(type.measure = "deviance")`` curve over a
sequence of penalties.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CrossValidationResults", "cross_validate"]


class CrossValidationResults:
    """Out-of-fold deviances.

    Attributes
    ----------
    folds : (n,) the fold of each row (0 .. n_folds - 1).
    alphas : None (unpenalized) or (m,) decreasing penalties.
    fold_deviance : (n_folds,) or (n_folds, m), deviance of each fold's rows under the fit
        to the other rows; ``fold_weight`` (n_folds,) their total frequency weight.
    fold_null_deviance : (n_folds,) the same for the null model (intercept and offset,
        fitted to the other rows).
    cv_deviance : total out-of-fold deviance (per alpha); ``mean_deviance`` the same per
        unit weight (glmnet's ``cvm``), ``se`` glmnet's ``cvsd``.
    d2 : 1 - cv_deviance / total null out-of-fold deviance (cross-validated D^2).
    alpha_min, alpha_1se : penalized: glmnet's ``lambda.min`` and ``lambda.1se``.
    """

    def __init__(self, folds, alphas, dev, null_dev, fold_w):
        self.folds = folds
        self.alphas = alphas
        self.fold_deviance = dev
        self.fold_null_deviance = null_dev
        self.fold_weight = fold_w
        self.n_folds = int(fold_w.size)
        self.cv_deviance = dev.sum(axis=0)
        W = fold_w.sum()
        self.mean_deviance = self.cv_deviance / W
        m = dev / (fold_w[:, None] if dev.ndim == 2 else fold_w)
        centred = m - self.mean_deviance
        w = fold_w[:, None] if dev.ndim == 2 else fold_w
        self.se = np.sqrt((w * centred ** 2).sum(axis=0) / W / max(self.n_folds - 1, 1))
        self.d2 = 1.0 - self.cv_deviance / null_dev.sum()
        if alphas is not None:
            k = int(np.argmin(self.mean_deviance))
            self.alpha_min = float(alphas[k])
            ok = self.mean_deviance <= self.mean_deviance[k] + self.se[k]
            self.alpha_1se = float(np.max(alphas[ok]))

    def __repr__(self) -> str:
        if self.alphas is None:
            return (f"CrossValidationResults({self.n_folds} folds, mean deviance "
                    f"{self.mean_deviance:.6g}, D^2 {self.d2:.4g})")
        return (f"CrossValidationResults({self.n_folds} folds, {self.alphas.size} alphas, "
                f"alpha_min={self.alpha_min:.4g}, alpha_1se={self.alpha_1se:.4g})")


def _fold_ids(n: int, n_folds: int, seed, folds) -> np.ndarray:
    if folds is not None:
        f = np.asarray(folds).ravel()
        if f.shape != (n,):
            raise ValueError(f"folds must give one fold label per row ({n}), got {f.size}.")
        _, ids = np.unique(f, return_inverse=True)
        if ids.max() < 1:
            raise ValueError("folds must hold at least two distinct labels.")
        return ids
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or \
            not 2 <= n_folds <= n:
        raise ValueError(f"n_folds must be an integer from 2 to the number of rows ({n}), "
                         f"got {n_folds!r}.")
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % int(n_folds))


def _submodel(model, prob, rows, X=None):
    from .model import GLM

    sub = GLM(prob.y[rows], prob.X.take_rows(rows) if X is None else X, family=model.family,
              offset=prob.offset[rows], freq_weights=prob.freq_weights[rows],
              var_weights=prob.prior_weights[rows])
    return sub


def cross_validate(model, n_folds: int = 10, seed: Any = None, folds=None, alphas=None,
                   L1_wt: float = 1.0, penalty_weights=None, **fit_kwds: Any
                   ) -> CrossValidationResults:
    """K-fold cross-validated deviance of ``model`` (a :class:`glmkit.GLM`).

    Parameters
    ----------
    model : GLM (from arrays or a formula), with its offset, exposure and weights.
    n_folds : number of folds; rows are assigned at random (``seed``: numpy's
        ``default_rng`` seed) in equal shares.
    folds : optional fold label of every row (grouped CV; glmnet's ``foldid``).
    alphas : optional penalties: each fold fits ``model.fit_path(L1_wt, alphas,
        penalty_weights=...)`` and the result is glmnet's CV curve (``cv.glmnet``).
    **fit_kwds : passed to ``fit()`` (unpenalized) or ``fit_path()``.

    Notes
    -----
    The deviance of a fold is sum freq_w * prior_w * d(y, mu) over its rows, mu from the
    other rows' fit; ``mean_deviance`` divides the total by the total frequency weight.
    """
    if getattr(model, "_lazy", False):   # rows in Dask partitions
        raise NotImplementedError("cross_validate needs the rows in memory; Dask models "
                                  "are not supported.")
    prob = model.problem
    n = prob.y.shape[0]
    ids = _fold_ids(n, n_folds, seed, folds)
    K = int(ids.max()) + 1
    if alphas is not None:
        alphas = np.sort(np.asarray(alphas, dtype=float).ravel())[::-1]
        if alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError("alphas must be finite non-negative numbers.")
    const = np.asarray(prob.X.column_is_constant(), dtype=bool)
    shape = (K,) if alphas is None else (K, alphas.size)
    dev, null_dev, fold_w = np.zeros(shape), np.zeros(K), np.zeros(K)
    for k in range(K):
        test, train = np.flatnonzero(ids == k), np.flatnonzero(ids != k)
        sub = _submodel(model, prob, train)
        Xt = prob.X.take_rows(test)
        yt, off = prob.y[test], prob.offset[test]
        fw, pw = prob.freq_weights[test], prob.prior_weights[test]
        if not np.sum(fw) > 0:
            raise ValueError(f"fold {k} has zero total weight: its deviance per unit weight "
                             "is undefined; choose other folds.")
        if alphas is None:
            res = sub.fit(**fit_kwds)
            family = getattr(res, "family", model.family)
            B = np.asarray(res.params, dtype=float)[None, :]
        else:
            path = sub.fit_path(L1_wt=L1_wt, alphas=alphas, penalty_weights=penalty_weights,
                                **fit_kwds)
            family = model.family
            B = path.params.to_numpy()
        for j, b in enumerate(B):
            mu = family.link.inverse(Xt.matvec(np.where(np.isnan(b), 0.0, b)) + off)
            d = family.deviance(yt, mu, var_weights=pw, freq_weights=fw)
            dev[(k, j) if alphas is not None else k] = d
        null_dev[k] = _null_deviance(model, prob, train, test, const, family)
        fold_w[k] = float(np.sum(fw))
    return CrossValidationResults(ids, alphas, dev, null_dev, fold_w)


def _null_deviance(model, prob, train, test, const, family) -> float:
    """Deviance of the test rows under the null model fitted to the training rows: an
    intercept (when the design has a constant column) and the offset."""
    yt, off = prob.y[test], prob.offset[test]
    eta = off
    if const.any():
        sub = _submodel(model, prob, train, X=np.ones((train.size, 1)))
        b0 = float(np.asarray(sub.fit().params)[0])
        eta = off + b0
    mu = family.link.inverse(eta)
    return float(family.deviance(yt, mu, var_weights=prob.prior_weights[test],
                                 freq_weights=prob.freq_weights[test]))
