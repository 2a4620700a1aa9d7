"""Negative binomial regression with the dispersion estimated: MASS's ``glm.nb``.

The model is a GLM with the family ``NegativeBinomial(alpha = 1 / theta)``; theta is
estimated by maximum likelihood, alternating with IRLS at fixed theta as MASS does, until
the pair (coefficients, theta) is the joint maximum: the fit at the final theta is the one
reported, so coefficients, standard errors and theta belong to the same point.

Conventions (MASS's)
--------------------
- ``theta`` is the size parameter, Var(y) = mu + mu^2 / theta; ``alpha = 1 / theta`` is
  statsmodels' name for the same dispersion.
- ``theta_se`` is MASS's ``SE.theta``: 1 / sqrt(observed information of theta at fixed
  means), evaluated where MASS's theta.ml evaluates it, at its Newton iterate before the
  last step (tolerance .Machine$double.eps^0.25 from the moment start). At the maximum
  itself the information gives a number that differs in the 4th-5th digit; R's is kept.
- ``weights`` are R's prior weights: each row's log density is multiplied by its weight.
- ``twologlik`` is 2 x the log-likelihood at the estimates; ``aic`` and ``bic`` count theta as
  a parameter (MASS's ``fit$aic = -twologlik + 2 rank + 2``).
"""
from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .exceptions import ConvergenceWarning
from .families import NegativeBinomial, Poisson, links
from .results import GLMResults

__all__ = ["theta_ml", "NegativeBinomialResults", "anova_nb"]

#: theta beyond this is no overdispersion to speak of: the Poisson model is the limit
THETA_MAX = 1e8


def _theta_score_info(theta: float, y, mu, w) -> tuple[float, float]:
    """d loglik / d theta and its negative second derivative, at fixed means."""
    tm = theta + mu
    score = np.sum(w * (special.digamma(theta + y) - special.digamma(theta) + np.log(theta)
                        + 1.0 - np.log(tm) - (y + theta) / tm))
    info = np.sum(w * (-special.polygamma(1, theta + y) + special.polygamma(1, theta)
                       - 1.0 / theta + 2.0 / tm - (y + theta) / tm ** 2))
    return float(score), float(info)


def theta_ml(y, mu, weights=None, theta0: float | None = None, tol: float = 1e-12,
             maxiter: int = 100) -> tuple[float, float]:
    """Maximum-likelihood theta of a negative binomial at fixed means (MASS's theta.ml).

    Newton's method on theta from MASS's moment start n / sum(w (y / mu - 1)^2), iterated
    until the step is below ``tol`` relative to theta. Returns (theta, standard error).
    """
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    if theta0 is None:
        denom = float(np.sum(w * (y / mu - 1.0) ** 2))
        theta0 = float(np.sum(w)) / denom if denom > 0 else THETA_MAX
    theta = min(abs(theta0), THETA_MAX)
    for _ in range(maxiter):
        score, info = _theta_score_info(theta, y, mu, w)
        if not (np.isfinite(score) and np.isfinite(info)) or info <= 0:
            break
        step = score / info
        new = theta + step
        while new <= 0:          # Newton overshot below zero: halve towards theta
            step /= 2.0
            new = theta + step
        theta = new
        if abs(step) <= tol * theta or theta > THETA_MAX:
            break
    _, info = _theta_score_info(theta, y, mu, w)
    se = float(np.sqrt(1.0 / info)) if info > 0 else float("nan")
    return float(theta), se


def _loglik(theta: float, y, mu, w) -> float:
    """MASS's loglik(n, th, mu, y, w): the weighted negative binomial log-likelihood."""
    return float(np.sum(w * (special.gammaln(theta + y) - special.gammaln(theta)
                             - special.gammaln(y + 1.0) + theta * np.log(theta)
                             + special.xlogy(y, mu) - (theta + y) * np.log(theta + mu))))


def _with_family(model, family):
    """The same data and formula with another family (no second pass over the formula).
    On Dask the data hold the family too (the partitions' sweeps and the data pass's
    family-specific sums use it): they are copied with the new family, and their data pass
    runs again when first needed."""
    new = copy.copy(model)
    new.family = family
    new.__dict__.pop("problem", None)   # the frozen problem holds the family
    if getattr(model.data, "lazy", False):
        data = copy.copy(model.data)
        data.family = family
        for frozen in ("problem", "stats"):
            data.__dict__.pop(frozen, None)
        new.data = data
    return new


class NegativeBinomialResults(GLMResults):
    """GLM results at the estimated theta, with MASS's ``theta``, ``theta_se``
    (``SE.theta``), ``twologlik`` and an AIC/BIC that count theta."""

    def __init__(self, base: GLMResults, theta: float, theta_se: float, n_alternations: int):
        object.__setattr__(self, "theta", float(theta))
        object.__setattr__(self, "theta_se", float(theta_se))
        object.__setattr__(self, "alpha", 1.0 / float(theta))
        object.__setattr__(self, "n_alternations", int(n_alternations))
        super().__init__(base.model, base._solver_result, scale=base._scale_spec,
                         cov_type=base.cov_type, use_t=base.use_t,
                         fit_warnings=base.fit_warnings, cov_kwds=base.cov_kwds)

    @property
    def SE_theta(self) -> float:   # noqa: N802 (MASS's name)
        return self.theta_se

    @property
    def twologlik(self) -> float:
        return 2.0 * self.llf

    @property
    def aic(self) -> float:
        """-2 llf + 2 (rank + 1): the coefficients and theta (MASS, R's AIC())."""
        return -2.0 * self.llf + 2.0 * (self.rank + 1)

    @property
    def bic(self) -> float:
        """-2 llf + log(n) (rank + 1) (R's BIC() on a glm.nb fit)."""
        return -2.0 * self.llf + np.log(self.wnobs) * (self.rank + 1)

    bic_llf = bic


def fit_unknown_alpha(model, start_params, maxiter, method, tol, cov_type, cov_kwds, use_t,
                      kwargs):
    """``GLM(family=NegativeBinomial(alpha=None)).fit(...)``: alpha = 1 / theta by maximum
    likelihood, alternating with IRLS (MASS's glm.nb), after checking what fit() got."""
    if getattr(model.data, "lazy", False):
        raise NotImplementedError("NegativeBinomial(alpha=None) (glm.nb) alternates many "
                                  "fits; on Dask give alpha (e.g. from a fit on a sample).")
    if start_params is not None or method.lower() != "irls" or kwargs:
        raise ValueError("NegativeBinomial(alpha=None) estimates alpha with IRLS: give "
                         "no start_params, method or optimizer keywords (maxiter, tol, "
                         "cov_type, cov_kwds and use_t are passed on).")
    return fit_negbin(model, model.family.link, maxiter=maxiter if maxiter > 0 else 25,
                      tol=min(tol, 1e-10), cov_type=cov_type, cov_kwds=cov_kwds,
                      use_t=use_t)


def fit_negbin(model, link, init_theta=None, maxiter: int = 25, tol: float = 1e-10,
               **fit_kwds: Any) -> NegativeBinomialResults:
    """Alternate IRLS at fixed theta with theta's maximum likelihood (see :func:`glm_nb`)."""
    y, w = np.asarray(model.endog, dtype=float), model.var_weights * model.freq_weights
    if init_theta is None:
        start = _with_family(model, Poisson(link)).fit(**fit_kwds)
        theta, _ = theta_ml(y, np.asarray(start.mu), w)
        params = np.asarray(start.params)
    else:
        theta, params = float(init_theta), None
    res, ll_old = None, -np.inf
    converged = False
    for it in range(1, maxiter + 1):
        theta = min(theta, THETA_MAX)
        m = _with_family(model, NegativeBinomial(link, alpha=1.0 / theta, check_link=False))
        res = m.fit(start_params=None if params is None else np.nan_to_num(params),
                    **fit_kwds)
        params = np.asarray(res.params)
        mu = np.asarray(res.mu)
        new_theta, theta_se = theta_ml(y, mu, w, theta0=theta)
        ll = _loglik(theta, y, mu, w)
        change = abs(new_theta - theta) / theta
        theta_done = change < tol or (theta >= THETA_MAX and new_theta >= THETA_MAX)
        if theta_done and abs(ll - ll_old) <= tol * (abs(ll) + 0.1):
            converged = True
            break
        theta, ll_old = new_theta, ll
    if theta >= THETA_MAX:
        warnings.warn("theta is estimated as infinite (no overdispersion): the negative "
                      "binomial fit is the Poisson one; use family Poisson.",
                      ConvergenceWarning, stacklevel=3)
    elif not converged:
        warnings.warn(f"glm_nb: theta did not settle in {maxiter} alternations (last "
                      f"relative change {change:.2g}); increase maxiter.",
                      ConvergenceWarning, stacklevel=3)
    assert res is not None
    return NegativeBinomialResults(res, theta, _mass_se(y, np.asarray(res.mu), w), it)


def _mass_se(y, mu, w, limit: int = 25) -> float:
    """SE.theta as MASS's theta.ml computes it (see the module notes)."""
    denom = float(np.sum(w * (y / mu - 1.0) ** 2))
    t0 = float(np.sum(w)) / denom if denom > 0 else THETA_MAX
    eps, info, step, it = np.finfo(float).eps ** 0.25, np.nan, 1.0, 0
    while (it := it + 1) < limit and abs(step) > eps:
        t0 = abs(t0)
        score, info = _theta_score_info(t0, y, mu, w)
        step = score / info
        t0 += step
    return float(np.sqrt(1.0 / info)) if info > 0 else float("nan")


def _link(link) -> links.Link:
    if isinstance(link, links.Link):
        return link
    table = {"log": links.Log, "sqrt": links.Sqrt, "identity": links.Identity}
    if not isinstance(link, str) or link.lower() not in table:
        raise ValueError(f"link must be 'log', 'sqrt', 'identity' or a link instance, "
                         f"got {link!r}.")
    return table[link.lower()]()


def anova_nb(*fits: NegativeBinomialResults) -> pd.DataFrame:
    """Likelihood-ratio tests between nested negative binomial fits (MASS's anova.negbin):
    each fit against the one before, theta estimated in each."""
    if len(fits) < 2:
        raise ValueError("anova_nb needs at least two negative binomial fits to compare.")
    if not all(isinstance(f, NegativeBinomialResults) for f in fits):
        raise TypeError("anova_nb compares fits from glmkit.glm_nb.")
    rows = []
    for i, f in enumerate(fits):
        formula = getattr(f.model.formula_info, "formula", None)
        row = {"Model": formula.split("~", 1)[-1].strip() if formula else f"model {i + 1}",
               "theta": f.theta, "Resid. df": f.df_resid, "2 x log-lik.": f.twologlik,
               "Test": "", "df": np.nan, "LR stat.": np.nan, "Pr(Chi)": np.nan}
        if i:
            prev = fits[i - 1]
            df = prev.df_resid - f.df_resid
            lr = f.twologlik - prev.twologlik
            row.update({"Test": f"{i} vs {i + 1}", "df": df, "LR stat.": lr,
                        "Pr(Chi)": float(stats.chi2.sf(lr, df)) if df > 0 else np.nan})
        rows.append(row)
    return pd.DataFrame(rows, index=range(1, len(fits) + 1))
