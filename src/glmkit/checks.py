"""Checks of a fitted model's predictions (numpy and scipy only).

Binomial: :func:`brier_score`, :func:`log_loss`, :func:`roc_auc`, :func:`calibration_table`,
:func:`hosmer_lemeshow`, :func:`confusion_table`. Counts: :func:`count_moments`,
:func:`dispersion_test` (Cameron and Trivedi's), :func:`rootogram`. All: :func:`d2_score`.
Every function takes the observed response and the predicted means; ``results.checks()``
(:class:`ModelChecks`) binds them to a fit, on its training rows or on new data.

Conventions
-----------
- Numbers equal scikit-learn's ``brier_score_loss``, ``log_loss`` (probabilities clipped to
  [eps, 1 - eps]), ``roc_auc_score``, ``calibration_curve`` (its bins), ``confusion_matrix``
  and ``d2_tweedie_score``; R's ``ResourceSelection::hoslem.test`` and
  ``AER::dispersiontest``; countreg's ``rootogram`` frequencies.
- ``sample_weight`` are frequency weights. The Hosmer-Lemeshow and dispersion tests are
  unweighted, as R's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "DispersionTestResult",
    "HosmerLemeshowResult",
    "ModelChecks",
    "brier_score",
    "calibration_table",
    "confusion_table",
    "count_moments",
    "d2_score",
    "dispersion_test",
    "hosmer_lemeshow",
    "log_loss",
    "roc_auc",
    "rootogram",
]


# ------------------------------------------------------------------------- inputs
def _pair(y, p, name: str = "predictions") -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y has {y.size} values and the {name} {p.size}; they must match.")
    if y.size == 0:
        raise ValueError("y is empty.")
    if np.any(~np.isfinite(y)) or np.any(~np.isfinite(p)):
        raise ValueError(f"y and the {name} must be finite (drop rows with missing values).")
    return y, p


def _binary(y, p, name: str = "probabilities") -> tuple[np.ndarray, np.ndarray]:
    y, p = _pair(y, p, name)
    if np.any((y != 0) & (y != 1)):
        raise ValueError("y must be 0 or 1 (for a two-column binomial response, check the "
                         "proportions with calibration_table).")
    return y, p


def _probabilities(p: np.ndarray) -> None:
    if np.any((p < 0) | (p > 1)):
        raise ValueError("predicted probabilities must lie in [0, 1]; pass predict() on the "
                         "mean scale, not the linear predictor.")


def _weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != (n,) or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"sample_weight must be {n} finite non-negative numbers, not all 0.")
    return w


# ---------------------------------------------------------------------- binomial
def brier_score(y, p, sample_weight=None) -> float:
    """Mean squared difference of y (0/1) and the probability p (``brier_score_loss``)."""
    y, p = _binary(y, p)
    _probabilities(p)
    return float(np.average((y - p) ** 2, weights=_weights(sample_weight, y.size)))


def log_loss(y, p, sample_weight=None) -> float:
    """Mean negative log-likelihood of y (0/1) under p, p clipped to [eps, 1 - eps]
    (scikit-learn's ``log_loss``; the binomial deviance / 2N without the clipping)."""
    y, p = _binary(y, p)
    _probabilities(p)
    eps = np.finfo(float).eps
    p = np.clip(p, eps, 1 - eps)
    loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return float(np.average(loss, weights=_weights(sample_weight, y.size)))


def roc_auc(y, score, sample_weight=None) -> float:
    """Area under the ROC curve: P(score of a 1 > score of a 0), ties counting one half
    (``roc_auc_score``; the Mann-Whitney statistic / (n1 n0)). Any increasing score works:
    probabilities or the linear predictor."""
    y, s = _binary(y, score, "scores")
    w = _weights(sample_weight, y.size)
    pos, neg = float(np.sum(w * y)), float(np.sum(w * (1 - y)))
    if pos == 0 or neg == 0:
        raise ValueError("ROC AUC needs both classes in y.")
    order = np.argsort(-s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]   # end of each tied group
    tp = np.cumsum(w * y)[last]
    fp = np.cumsum(w * (1 - y))[last]
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    return float(np.sum((fp - fp0) * (tp + tp0)) / 2.0 / (pos * neg))


def _bin_ids(p: np.ndarray, n_bins: int, strategy: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}.")
    # bins (e_{k-1}, e_k], the first closed: R's cut(include.lowest=TRUE), sklearn's bins
    return np.searchsorted(edges[1:-1], p, side="left"), edges


def calibration_table(y, p, n_bins: int = 10, strategy: str = "quantile",
                      sample_weight=None) -> pd.DataFrame:
    """Observed against predicted by bins of the predicted probability.

    Bins are (e_{k-1}, e_k] (the first closed), with edges at quantiles of p
    (``strategy='quantile'``) or equally spaced on [0, 1] (``'uniform'``): scikit-learn's
    ``calibration_curve`` bins (its ``prob_true``, ``prob_pred`` are the ``observed`` and
    ``predicted`` columns) and the groups of the Hosmer-Lemeshow test. y may be
    proportions. Empty bins are left out.

    Returns a DataFrame: ``lower``, ``upper`` (bin edges), ``n`` (total weight),
    ``observed`` (mean y), ``predicted`` (mean p), ``events`` and ``expected`` (sums).
    """
    y, p = _pair(y, p, "probabilities")
    _probabilities(p)
    w = _weights(sample_weight, y.size)
    ids, edges = _bin_ids(p, n_bins, strategy)
    k = edges.size - 1
    n = np.bincount(ids, weights=w, minlength=k)
    ev = np.bincount(ids, weights=w * y, minlength=k)
    ex = np.bincount(ids, weights=w * p, minlength=k)
    keep = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({"lower": edges[:-1][keep], "upper": edges[1:][keep],
                             "n": n[keep], "observed": (ev / n)[keep],
                             "predicted": (ex / n)[keep], "events": ev[keep],
                             "expected": ex[keep]})


@dataclass(frozen=True)
class HosmerLemeshowResult:
    """``statistic`` (X-squared), ``df`` (g - 2), ``pvalue`` and the grouped ``table``."""
    statistic: float
    df: int
    pvalue: float
    table: pd.DataFrame

    def __repr__(self) -> str:
        return (f"Hosmer and Lemeshow goodness of fit (GOF) test: X-squared = "
                f"{self.statistic:.6g}, df = {self.df}, p-value = {self.pvalue:.4g}")


def hosmer_lemeshow(y, p, g: int = 10) -> HosmerLemeshowResult:
    """The Hosmer-Lemeshow test, as R's ``ResourceSelection::hoslem.test(y, p, g)``.

    Notes
    -----
    Groups are the bins of :func:`calibration_table` at the quantiles of p (equal
    quantiles merged); X^2 = sum over groups and both outcomes of (O - E)^2 / E, compared
    with chi-squared on g - 2 degrees of freedom (g as asked, as R does, even when tied
    quantiles leave fewer groups).
    """
    if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < 3:
        raise ValueError(f"g must be an integer of at least 3, got {g!r}.")
    y, p = _binary(y, p)
    tab = calibration_table(y, p, n_bins=int(g), strategy="quantile")
    o1, e1, n = tab["events"].to_numpy(), tab["expected"].to_numpy(), tab["n"].to_numpy()
    o0, e0 = n - o1, n - e1
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(np.sum((o1 - e1) ** 2 / e1) + np.sum((o0 - e0) ** 2 / e0))
    df = int(g) - 2
    return HosmerLemeshowResult(x2, df, float(stats.chi2.sf(x2, df)), tab)


def confusion_table(y, p, threshold: float = 0.5, sample_weight=None) -> pd.DataFrame:
    """Counts of observed (rows 0, 1) against predicted (columns 0, 1), predicting 1 when
    p > threshold (scikit-learn's ``confusion_matrix(y, p > threshold)``)."""
    y, p = _binary(y, p)
    if not (np.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}.")
    w = _weights(sample_weight, y.size)
    pred = (p > threshold).astype(int)
    tab = np.zeros((2, 2))
    np.add.at(tab, (y.astype(int), pred), w)
    idx = pd.Index([0, 1], name="observed")
    return pd.DataFrame(tab, index=idx, columns=pd.Index([0, 1], name="predicted"))


# ------------------------------------------------------------------------- counts
def _count_dist(family, mu: np.ndarray):
    """scipy's distribution of each row's count under the family (Poisson or NB)."""
    from .families import NegativeBinomial, Poisson

    if family is None or isinstance(family, Poisson) or getattr(family, "name", "") == \
            "QuasiPoisson":
        return stats.poisson(mu)
    if isinstance(family, NegativeBinomial) and family.alpha is not None:
        size = 1.0 / family.alpha
        return stats.nbinom(size, size / (size + mu))
    raise ValueError(f"count checks need a Poisson or negative binomial family with a known "
                     f"alpha, got {family!r}.")


def count_moments(y, mu, family=None, scale: float = 1.0) -> pd.DataFrame:
    """Observed against predicted mean, variance and share of zeros.

    The predicted variance is that of the fitted mixture: mean(scale V(mu_i)) + var(mu_i)
    (Var y = E Var(y|x) + Var E(y|x)); the observed variance is R's ``var(y)`` (n - 1).
    The predicted share of zeros is mean(P(Y_i = 0)) under the family (Poisson when None).
    """
    y, mu = _pair(y, mu, "means")
    dist = _count_dist(family, mu)
    v = mu if family is None else family.variance(mu)
    pred_var = float(np.mean(scale * v) + np.var(mu))
    return pd.DataFrame({"observed": [y.mean(), np.var(y, ddof=1), np.mean(y == 0)],
                         "predicted": [mu.mean(), pred_var, np.mean(dist.pmf(0))]},
                        index=pd.Index(["mean", "variance", "zeros"]))


@dataclass(frozen=True)
class DispersionTestResult:
    """``statistic`` (z), ``pvalue``, ``estimate`` (R's: the dispersion for trafo=None,
    alpha otherwise), ``alternative`` and ``trafo``."""
    statistic: float
    pvalue: float
    estimate: float
    alternative: str
    trafo: Any

    def __repr__(self) -> str:
        what = "dispersion" if self.trafo is None else "alpha"
        return (f"Overdispersion test: z = {self.statistic:.6g}, p-value = {self.pvalue:.4g}"
                f" ({self.alternative}); {what} = {self.estimate:.6g}")


def dispersion_test(y, mu, trafo: None | float | Callable = None,
                    alternative: Literal["greater", "two.sided", "less"] = "greater"
                    ) -> DispersionTestResult:
    """Cameron and Trivedi's (1990) test of Poisson equidispersion (``AER::dispersiontest``).

    Var(y) = mu + alpha trafo(mu) against alpha = 0: the t statistic of the regression of
    ((y - mu)^2 - y) / mu on trafo(mu) / mu without intercept, compared with the normal.
    ``trafo=None`` tests Var(y) = (1 + alpha) mu and reports the dispersion 1 + alpha; a
    number k means trafo(mu) = mu^k (1: quasi-Poisson, 2: negative binomial NB2).
    """
    if alternative not in ("greater", "two.sided", "less"):
        raise ValueError(f"alternative must be 'greater', 'two.sided' or 'less', got "
                         f"{alternative!r}.")
    y, mu = _pair(y, mu, "means")
    if np.any(mu <= 0):
        raise ValueError("the fitted means must be positive.")
    if y.size < 2:
        raise ValueError("the dispersion test needs at least 2 rows.")
    aux = ((y - mu) ** 2 - y) / mu
    if trafo is None:
        x = np.ones_like(mu)
    elif callable(trafo):
        x = np.asarray(trafo(mu), dtype=float) / mu
    elif isinstance(trafo, (int, float, np.number)) and not isinstance(trafo, bool):
        x = mu ** float(trafo) / mu
    else:
        raise ValueError(f"trafo must be None, a number or a function, got {trafo!r}.")
    coef = float(x @ aux / (x @ x))
    resid = aux - coef * x
    se = float(np.sqrt(resid @ resid / (y.size - 1) / (x @ x)))
    z = coef / se
    p = {"greater": stats.norm.sf(z), "less": stats.norm.cdf(z),
         "two.sided": 2 * stats.norm.sf(abs(z))}[alternative]
    est = coef + 1.0 if trafo is None else coef
    return DispersionTestResult(float(z), float(p), est, alternative, trafo)


def rootogram(y, mu, family=None, max_count: int | None = None) -> pd.DataFrame:
    """Observed and expected frequencies of the counts 0..max_count (default max(y)), as
    countreg's ``rootogram``: expected_k = sum_i P(Y_i = k) under the family (Poisson when
    None, or a negative binomial with known alpha).

    Returns a DataFrame indexed by count: ``observed``, ``expected``, their square roots,
    and ``hanging`` = sqrt(expected) - sqrt(observed), the bottom of the hanging bar
    (below 0: the model predicts too few of that count).
    """
    y, mu = _pair(y, mu, "means")
    if np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError("a rootogram needs non-negative integer counts y.")
    top = int(y.max()) if max_count is None else int(max_count)
    k = np.arange(top + 1)
    dist = _count_dist(family, mu)
    expected = np.array([dist.pmf(j).sum() for j in k])
    observed = np.bincount(y.astype(int), minlength=top + 1)[: top + 1].astype(float)
    return pd.DataFrame({"observed": observed, "expected": expected,
                         "sqrt_observed": np.sqrt(observed), "sqrt_expected": np.sqrt(expected),
                         "hanging": np.sqrt(expected) - np.sqrt(observed)},
                        index=pd.Index(k, name="count"))


# --------------------------------------------------------------------------- all
def d2_score(y, mu, family, sample_weight=None) -> float:
    """D^2 = 1 - D(y, mu) / D(y, ybar), the family's deviance, ybar the weighted mean of y
    (scikit-learn's ``d2_tweedie_score`` and ``PoissonRegressor.score``; R^2 for the
    Gaussian). For the training rows of a fit with an intercept and no offset this is
    1 - deviance / null_deviance."""
    y, mu = _pair(y, mu, "means")
    w = _weights(sample_weight, y.size)
    dev = family.deviance(y, mu, freq_weights=w)
    null = family.deviance(y, np.full_like(y, np.average(y, weights=w)), freq_weights=w)
    return float(1.0 - dev / null)


class ModelChecks:
    """The checks above for one fit: its training rows, or new data.

    Made by ``results.checks(endog=None, exog=None, offset=None, exposure=None)``; for
    new data give ``endog`` and ``exog`` (a data frame for formula fits). Training rows
    carry their frequency weights; a two-column binomial response counts its trials one
    by one in the Brier score, log loss, AUC and confusion table, as proportions weighted
    by the trials in the calibration table, and is refused by Hosmer-Lemeshow (0/1 rows).
    """

    def __init__(self, results, endog=None, exog=None, offset=None, exposure=None):
        self.results = results
        model = results.model
        self.family = model.family
        if (endog is None) != (exog is None):
            raise ValueError("give both endog and exog (new data), or neither (the fit's "
                             "own rows).")
        if endog is None:
            d = model.data
            self.y = np.asarray(d.y, dtype=float)
            self.mu = np.asarray(results.fittedvalues, dtype=float)
            w = None if d.freq_weights is None else np.asarray(d.freq_weights, dtype=float)
            if d.n_trials is not None:
                w = np.asarray(d.n_trials, dtype=float) * (1.0 if w is None else w)
            self.weights = w
        else:
            self.y = np.asarray(endog, dtype=float).ravel()
            self.mu = np.asarray(results.predict(exog, offset=offset, exposure=exposure),
                                 dtype=float).ravel()
            self.weights = None
        self.scale = float(getattr(results, "scale", 1.0))

    def _events(self):
        """(y, p, w) as 0/1 outcomes: a binomial proportion with m trials becomes a 1
        weighted m y and a 0 weighted m (1 - y), as the trials one by one."""
        y, p, w = self.y, self.mu, self.weights
        if np.all((y == 0) | (y == 1)):
            return y, p, w
        w = np.ones_like(y) if w is None else w
        return (np.r_[np.ones_like(y), np.zeros_like(y)], np.r_[p, p],
                np.r_[w * y, w * (1 - y)])

    def brier_score(self) -> float:
        return brier_score(*self._events())

    def log_loss(self) -> float:
        return log_loss(*self._events())

    def roc_auc(self) -> float:
        return roc_auc(*self._events())

    def calibration_table(self, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
        return calibration_table(self.y, self.mu, n_bins, strategy, self.weights)

    def hosmer_lemeshow(self, g: int = 10) -> HosmerLemeshowResult:
        return hosmer_lemeshow(self.y, self.mu, g)

    def confusion_table(self, threshold: float = 0.5) -> pd.DataFrame:
        y, p, w = self._events()
        return confusion_table(y, p, threshold, w)

    def count_moments(self) -> pd.DataFrame:
        return count_moments(self.y, self.mu, self.family, self.scale)

    def dispersion_test(self, trafo=None, alternative="greater") -> DispersionTestResult:
        return dispersion_test(self.y, self.mu, trafo, alternative)

    def rootogram(self, max_count: int | None = None) -> pd.DataFrame:
        return rootogram(self.y, self.mu, self.family, max_count)

    def d2_score(self) -> float:
        return d2_score(self.y, self.mu, self.family, self.weights)
