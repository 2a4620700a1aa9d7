"""Quasi-likelihood families as R names them: the Poisson and binomial fits with the
dispersion estimated.

The coefficients are those of the Poisson (binomial) fit; the dispersion is Pearson's
chi2 / df_resid (R's summary.glm), standard errors are scaled by its square root and tests
use the t distribution. There is no likelihood: ``llf``, ``aic`` and ``bic`` are NaN, as
R's ``AIC()`` of a quasi fit is NA. Non-integer responses are what these families are for
(no warning).
"""
from __future__ import annotations

import numpy as np

from .family import Binomial, Poisson

__all__ = ["QuasiPoisson", "QuasiBinomial"]


class QuasiPoisson(Poisson):
    """R's ``quasipoisson()``: V(mu) = phi mu, phi estimated."""

    has_free_scale = True
    name = "QuasiPoisson"

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        return np.full(np.shape(mu), np.nan)


class QuasiBinomial(Binomial):
    """R's ``quasibinomial()``: V(mu) = phi mu (1 - mu), phi estimated."""

    has_free_scale = True
    name = "QuasiBinomial"

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        return np.full(np.shape(mu), np.nan)
