"""Information criteria of GLM results under R's and statsmodels' conventions.

Conventions
-----------
- ``r_info_criteria``: R's logLik/AIC/BIC for glm. Dispersion families plug in the ML
  dispersion deviance / sum(weights) and count it as a parameter; prior weights multiply
  each row's log density.
- ``statsmodels_criterion``: statsmodels' ``GLMResults.info_criteria(crit, scale,
  dk_params)``: k = df_model + 1 + dk_params; 'aic' = -2 llf + 2 k; 'bic' = -2 llf +
  k log(df_model + df_resid + 1); 'qaic' = -2 llf(scale=1) / scale + 2 k (Burnham and
  Anderson), meant for Binomial, Poisson and NegativeBinomial.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .families import (Binomial, Gamma, Gaussian, InverseGaussian, NegativeBinomial, Poisson,
                       Tweedie)


def r_info_criteria(res) -> dict:
    """R's logLik, AIC, BIC and their parameter count ``df`` for glm results (sums over
    the rows by the model's passes: the same on Dask)."""
    from .row_sums import _r_ll_block, _tw_block

    passes, mu = res.model._passes, res._mu
    n = float(res.wnobs)
    df = float(res.rank)
    fam = res.family

    def total(*args) -> dict:
        return passes.total(_r_ll_block, mu, args=(*args, fam), what="R llf", need_X=False)

    if isinstance(fam, Gaussian):
        ll = -0.5 * n * (np.log(2 * np.pi * res.deviance / n) + 1.0) + 0.5 * total(
            "gaussian", None)["s"]
        df += 1
    elif isinstance(fam, Gamma):
        tw = passes.total(_tw_block, what="sum of weights", need_X=False)["tw"]
        ll = total("gamma", res.deviance / tw)["s"]
        df += 1
    elif isinstance(fam, InverseGaussian):
        out = total("invgauss", None)
        disp = res.deviance / out["tw"]
        ll = -0.5 * float(out["tw"] * (np.log(disp * 2 * np.pi) + 1.0) + 3.0 * out["s"])
        df += 1
    elif isinstance(fam, Tweedie):
        ll = float("nan")  # R's tweedie family has no AIC
    else:
        ll = res._llf_at(mu, 1.0)
    return {"llf": ll, "aic": -2 * ll + 2 * df, "bic": -2 * ll + np.log(n) * df, "df": df}


def statsmodels_criterion(res, crit: str, scale=None, dk_params: float = 0) -> float:
    """statsmodels' ``info_criteria(crit, scale, dk_params)``: 'aic', 'bic' or 'qaic'."""
    k_params = res.df_model + 1 + dk_params
    if crit == "aic":
        return float(-2 * res.llf + 2 * k_params)
    if crit == "bic":
        return float(-2 * res.llf + k_params * np.log(res.df_model + res.df_resid + 1))
    if not isinstance(res.family, (Poisson, NegativeBinomial, Binomial)):
        warnings.warn("QAIC is only valid for Binomial, Poisson and Negative Binomial "
                      "families.", UserWarning, stacklevel=3)
    if scale is None:
        raise ValueError("qaic needs scale= (the dispersion of the largest model compared).")
    return float(-2 * res.llf_scaled(scale=1.0) / scale + 2 * k_params)


def info_criteria(res, crit: str = "R", scale: float | None = None, dk_params: float = 0):
    """Information criteria of ``res``.

    ``crit='aic'``, ``'bic'`` or ``'qaic'`` (with ``scale``): statsmodels'
    ``info_criteria``, a number. ``'R'`` (default): a dict of R's logLik/AIC/BIC for glm
    (:func:`r_info_criteria`) and their ``df``; ``'statsmodels'``: the dict of ``llf``,
    ``aic``, ``bic`` of the results.
    """
    if crit == "statsmodels":
        return {"llf": res.llf, "aic": res.aic, "bic": res.bic, "df": res.df_model + 1}
    if crit == "R":
        return r_info_criteria(res)
    if isinstance(crit, str) and crit.lower() in ("aic", "bic", "qaic"):
        return statsmodels_criterion(res, crit.lower(), scale, dk_params)
    raise ValueError(f"crit must be 'aic', 'bic', 'qaic', 'R' or 'statsmodels', got {crit!r}.")


def exp_params(res, alpha: float = 0.05) -> pd.DataFrame:
    """exp(coef) with exponentiated Wald intervals: odds ratios (logit), rate ratios
    (log link)."""
    ci = np.asarray(res.conf_int(alpha))
    return pd.DataFrame({"exp(coef)": np.exp(res._params), "lower": np.exp(ci[:, 0]),
                         "upper": np.exp(ci[:, 1])}, index=res.model.exog_names)


def overdispersion(res) -> pd.Series:
    """Pearson chi2 / df_resid and deviance / df_resid (about 1 without overdispersion),
    with the p-value of Pearson chi2 against chi2(df_resid)."""
    return pd.Series({
        "pearson_chi2": res.pearson_chi2,
        "deviance": res.deviance,
        "df_resid": res.df_resid,
        "ratio_pearson": res.pearson_chi2 / res.df_resid,
        "ratio_deviance": res.deviance / res.df_resid,
        "pvalue": float(stats.chi2.sf(res.pearson_chi2, res.df_resid)),
    })
