"""Vuong's non-nested test of two count models of the same response, as ``pscl::vuong``.

Conventions
-----------
- m_i = log P1(y_i) - log P2(y_i), the models' probabilities of the observed counts (weights
  are ignored, as pscl's). Rows where either is not finite are dropped, with a warning.
- Raw: z = sum(m) / (sd(m) sqrt(n)); AIC-corrected: m - (k1 - k2) / n; BIC-corrected:
  m - (k1 - k2) log(n) / (2 n), with k the number of coefficients (theta not counted, as
  pscl's ``length(coef(m))``). sd has the n - 1 denominator.
- p-values are one-sided, toward the model the statistic favours: 1 - Phi(z) when z > 0
  (model 1 better), Phi(z) otherwise; ``H_A`` says which.
- Models: ``zeroinfl``/``hurdle`` results, glmkit GLM results of a Poisson or
  NegativeBinomial(alpha) family, ``glm_nb`` results, and the statsmodels-named
  zero-inflated classes' results.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = ["vuong"]


def _log_prob_and_k(m) -> tuple[np.ndarray, np.ndarray, int]:
    """(y, log P(y_i), number of coefficients) of a fitted count model."""
    if hasattr(m, "loglike_obs") and hasattr(m, "inputs"):   # zeroinfl / hurdle
        return m.inputs.y, m.loglike_obs(), len(m.params)
    family = getattr(m, "family", None)
    if family is None:
        raise TypeError(f"vuong() needs fitted count models (zeroinfl, hurdle, a Poisson or "
                        f"negative binomial GLM), got {type(m).__name__}.")
    y = np.asarray(m.model.endog, dtype=float)
    mu = np.asarray(m.fittedvalues, dtype=float)
    k = int(np.asarray(m.params).shape[0])
    name = type(family).__name__
    theta = getattr(m, "theta", None)
    if theta is None and name == "NegativeBinomial":
        theta = 1.0 / float(family.alpha)
    if theta is not None:
        lp = (special.gammaln(y + theta) - special.gammaln(theta) - special.gammaln(y + 1)
              - theta * np.log1p(mu / theta) + special.xlogy(y, mu / (theta + mu)))
        return y, lp, k
    if name != "Poisson":
        raise TypeError(f"vuong() compares count models; a {name} GLM gives no count "
                        "probabilities.")
    return y, stats.poisson.logpmf(y, mu), k


def vuong(m1, m2) -> pd.DataFrame:
    """Vuong's test of model 1 against model 2 (pscl's ``vuong(m1, m2)``).

    Returns
    -------
    DataFrame with rows ``Raw``, ``AIC-corrected``, ``BIC-corrected`` and columns
    ``statistic`` (Vuong's z), ``H_A`` (``'model1 > model2'`` or ``'model2 > model1'``)
    and ``p-value`` (one-sided).
    """
    y1, l1, k1 = _log_prob_and_k(m1)
    y2, l2, k2 = _log_prob_and_k(m2)
    if y1.shape != y2.shape:
        raise ValueError(f"the models have different numbers of observations "
                         f"({y1.shape[0]} and {y2.shape[0]}).")
    if np.any(y1 != y2):
        raise ValueError("the models have different values of the response.")
    m = l1 - l2
    good = np.isfinite(l1) & np.isfinite(l2) & np.isfinite(m)
    if not np.all(good):
        warnings.warn(f"vuong: {int((~good).sum())} row(s) with probabilities of 0 or NaN "
                      "dropped.", stacklevel=2)
    m = m[good]
    n = m.shape[0]
    rows = {}
    for name, corr in (("Raw", 0.0), ("AIC-corrected", (k1 - k2) / n),
                       ("BIC-corrected", (k1 - k2) * np.log(n) / (2.0 * n))):
        d = m - corr
        z = float(d.sum() / (d.std(ddof=1) * np.sqrt(n)))
        better = z > 0
        p = float(stats.norm.sf(z) if better else stats.norm.cdf(z))
        rows[name] = (z, "model1 > model2" if better else "model2 > model1", p)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["statistic", "H_A", "p-value"])
