"""cv.glmnet's loss measures and its summary of them over folds (glmkit.cv reads these).

Per held-out row and penalty, the loss of its prediction (``row_losses``) or, for
``'auc'``, one value per fold (``fold_auc``); then cv.glmnet's ``cvcompute``/``cvstats``
(``summarize``) and ``getOptcv.glmnet`` (``choose``).

Conventions
-----------
As glmnet 4.1 (``cv.elnet``, ``cv.lognet``, ``cv.fishnet``, ``cv.glmnetfit``):

- Binomial with the logit link (glmnet's ``lognet``): the probability is clamped to
  [1e-5, 1 - 1e-5] for ``'deviance'``; ``'mse'`` and ``'mae'`` sum over the two classes,
  (1 - y - (1 - p))^2 + (y - p)^2 = 2 (y - p)^2 (and 2 |y - p|); ``'class'`` counts
  (1 - y) [p > 0.5] + y [p <= 0.5]; ``'auc'`` is the weighted concordance of each fold
  (survival's ``concordance``: tied predictions count one half).
- Other families and links (glmnet's ``glmnetfit``): ``'deviance'`` is the family's unit
  deviance (R's ``dev.resids`` at weight 1), ``'mse'`` (y - mu)^2, ``'mae'`` |y - mu|;
  Gaussian deviance is (y - mu)^2, Poisson-log 2 (y log(y / mu) - (y - mu)).
- Row weights are the prior weights times the frequency weights (glmnet's ``weights``;
  for a binomial proportion with trials, the trials are in them as in glmnet's ``ywt``).
"""
from __future__ import annotations

import warnings

import numpy as np

MEASURES = ("deviance", "mse", "mae", "class", "auc")

#: glmnet's names of the measures (``cvfit$name``)
NAMES = {"deviance": "Deviance", "mse": "Mean-Squared Error", "mae": "Mean Absolute Error",
         "class": "Misclassification Error", "auc": "AUC"}

_PROB_MIN = 1e-5


def _is_logit_binomial(family) -> bool:
    from .families import Binomial, links

    return isinstance(family, Binomial) and isinstance(family.link, links.Logit)


def measure_name(family, measure: str) -> str:
    """glmnet's label of the measure (``'Binomial Deviance'``, ``'Poisson Deviance'``, ...)."""
    from .families import Binomial, Gaussian, Poisson

    if measure == "deviance":
        if isinstance(family, Gaussian):
            return NAMES["mse"]
        for cls, word in ((Binomial, "Binomial"), (Poisson, "Poisson")):
            if isinstance(family, cls):
                return f"{word} Deviance"
    return NAMES[measure]


def check_measure(family, measure: str) -> None:
    from .families import Binomial

    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {list(MEASURES)}, got {measure!r}.")
    if measure in ("class", "auc") and not isinstance(family, Binomial):
        raise ValueError(f"measure={measure!r} is for binomial responses; use 'deviance', "
                         "'mse' or 'mae' for this family.")


def row_losses(family, measure: str, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """(rows, alphas) losses of the linear predictors ``eta`` (offset included) for the
    responses ``y`` (proportions for a binomial); infinite losses become NaN (glmnet
    drops them from the means)."""
    yc = y[:, None]
    with np.errstate(all="ignore"):
        mu = family.link.inverse(eta)
        if _is_logit_binomial(family):
            out = _lognet(measure, yc, mu)
        elif measure == "mse":
            out = (yc - mu) ** 2
        elif measure == "mae":
            out = np.abs(yc - mu)
        elif measure == "class":
            out = (1 - yc) * (mu > 0.5) + yc * (mu <= 0.5)
        else:
            out = family.unit_deviance(np.broadcast_to(yc, mu.shape), mu)
    out = np.asarray(out, dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def _lognet(measure: str, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    if measure == "mse":
        return 2.0 * (y - p) ** 2
    if measure == "mae":
        return 2.0 * np.abs(y - p)
    if measure == "class":
        return (1 - y) * (p > 0.5) + y * (p <= 0.5)
    p = np.clip(p, _PROB_MIN, 1 - _PROB_MIN)
    ly = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) + \
        np.where(y < 1, (1 - y) * np.log(np.where(y < 1, 1 - y, 1.0)), 0.0)
    return 2.0 * (ly - y * np.log(p) - (1 - y) * np.log(1 - p))


def weighted_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """The weighted AUC of one fold: each row is a positive of weight w y and a negative
    of weight w (1 - y); a positive-negative pair counts 1 when the positive's prediction
    is larger, 1/2 when they tie (survival's concordance, what glmnet's ``auc.mat``
    reports)."""
    wp, wn = w * y, w * (1 - y)
    levels, inv = np.unique(p, return_inverse=True)
    neg = np.bincount(inv, weights=wn, minlength=levels.size)
    pos = np.bincount(inv, weights=wp, minlength=levels.size)
    below = np.cumsum(neg) - neg
    tot = pos.sum() * neg.sum()
    if tot <= 0:
        return np.nan
    return float(np.sum(pos * (below + 0.5 * neg)) / tot)


def fold_auc(y: np.ndarray, eta: np.ndarray, w: np.ndarray, family) -> np.ndarray:
    """AUC of one fold at every alpha (columns of ``eta``)."""
    with np.errstate(all="ignore"):
        mu = family.link.inverse(eta)
    return np.array([weighted_auc(y, mu[:, j], w) for j in range(mu.shape[1])])


def weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Column-wise weighted means ignoring NaN (R's weighted.mean(na.rm = TRUE))."""
    ok = ~np.isnan(x)
    ww = np.where(ok, w[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(ok, x, 0.0) * ww).sum(axis=0) / ww.sum(axis=0)


def summarize(raw: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cvstats: cvm, the weighted mean of the rows of ``raw`` (folds, or held-out rows when
    ungrouped), and cvsd = sqrt(weighted mean of (raw - cvm)^2 / (N - 1)), N the number of
    rows of ``raw`` with a value."""
    cvm = weighted_mean(raw, weights)
    n = np.sum(~np.isnan(raw), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cvsd = np.sqrt(weighted_mean((raw - cvm) ** 2, weights) / (n - 1))
    return cvm, cvsd


def choose(alphas: np.ndarray, cvm: np.ndarray, cvsd: np.ndarray, measure: str
           ) -> tuple[int, int]:
    """getOptcv.glmnet: the index of the largest alpha with the smallest cvm (largest for
    AUC), and of the largest alpha whose cvm is within one cvsd of that minimum."""
    m = -cvm if measure == "auc" else cvm
    best = np.nanmin(m)
    i_min = int(np.flatnonzero(m <= best)[np.argmax(alphas[m <= best])])
    bound = m[i_min] + cvsd[i_min]
    ok = m <= bound
    i_1se = int(np.flatnonzero(ok)[np.argmax(alphas[ok])])
    return i_min, i_1se


def resolve(family, measure: str, grouped: bool, n: int, k: int) -> tuple[str, bool]:
    """The measure and grouping cv.glmnet uses: 'auc' needs 10 rows per fold (else
    'deviance'), grouping 3 (else per row), each with a warning."""
    check_measure(family, measure)
    if measure == "auc" and n / k < 10:
        warnings.warn("Too few (< 10) rows per fold for measure='auc'; measure='deviance' "
                      "is used instead (as cv.glmnet). Use fewer folds for the AUC.",
                      UserWarning, stacklevel=4)
        measure = "deviance"
    if measure != "auc" and grouped and n / k < 3:
        warnings.warn("grouped=False is used: fewer than 3 rows per fold (as cv.glmnet).",
                      UserWarning, stacklevel=4)
        grouped = False
    return measure, bool(grouped)


class Scorer:
    """Collects the held-out predictions fold by fold and keeps only what the summary
    needs: per fold its mean loss (or AUC), per row only when ungrouped (an n x alphas
    array is 800 MB for 1M rows and 100 alphas)."""

    def __init__(self, family, measure: str, grouped: bool, y, w, fold, k: int, m: int):
        self.family, self.measure, self.grouped = family, measure, grouped
        self.y, self.w, self.fold, self.k = y, w, fold, k
        self.raw = np.full((k, m), np.nan)
        per_row = not grouped and measure != "auc"
        self.losses = np.full((y.shape[0], m), np.nan) if per_row else None

    def add(self, i: int, rows: np.ndarray, eta: np.ndarray) -> None:
        """Fold ``i``: its held-out ``rows`` and their linear predictors (rows x alphas)."""
        y, w = self.y[rows], self.w[rows]
        if self.measure == "auc":
            self.raw[i] = fold_auc(y, eta, w, self.family)
            return
        li = row_losses(self.family, self.measure, y, eta)
        if self.losses is not None:
            self.losses[rows] = li
        self.raw[i] = weighted_mean(li, w)

    def summary(self) -> tuple[np.ndarray, np.ndarray]:
        """(cvm, cvsd)."""
        if self.losses is not None:
            return summarize(self.losses, self.w)
        return summarize(self.raw, np.bincount(self.fold, weights=self.w, minlength=self.k))
