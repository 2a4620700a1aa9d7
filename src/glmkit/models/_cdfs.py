"""The latent distributions of ordinal regression: cdf F, survival S = 1 - F, density f and
its derivative f', written so the tails keep their precision.

Conventions
-----------
Names follow MASS::polr: ``logistic``, ``probit``, ``cloglog`` (F(x) = 1 - exp(-exp(x)),
MASS's pGumbel), ``loglog`` (F(x) = exp(-exp(-x)), MASS's pgumbel), ``cauchit``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

Fn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LatentDistribution:
    name: str
    cdf: Fn
    sf: Fn
    pdf: Fn
    dpdf: Fn   # derivative of the density
    ppf: Fn    # quantile function (starting thresholds)


def _logistic_pdf(x):
    e = np.exp(-np.abs(x))
    return e / (1.0 + e) ** 2


def _logistic_dpdf(x):
    return _logistic_pdf(x) * -np.tanh(x / 2.0)


def _norm_pdf(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def _cloglog_pdf(x):
    with np.errstate(over="ignore"):
        return np.exp(x - np.exp(x))


def _cloglog_dpdf(x):
    with np.errstate(over="ignore", invalid="ignore"):
        out = _cloglog_pdf(x) * (1.0 - np.exp(x))
    return np.nan_to_num(out, nan=0.0)


def _loglog_pdf(x):
    with np.errstate(over="ignore"):
        return np.exp(-x - np.exp(-x))


def _loglog_dpdf(x):
    with np.errstate(over="ignore", invalid="ignore"):
        out = _loglog_pdf(x) * (np.exp(-x) - 1.0)
    return np.nan_to_num(out, nan=0.0)


DISTRIBUTIONS = {
    "logistic": LatentDistribution("logistic", special.expit, lambda x: special.expit(-x),
                                   _logistic_pdf, _logistic_dpdf, special.logit),
    "probit": LatentDistribution("probit", special.ndtr, lambda x: special.ndtr(-x),
                                 _norm_pdf, lambda x: -x * _norm_pdf(x), special.ndtri),
    "cloglog": LatentDistribution("cloglog", lambda x: -np.expm1(-np.exp(x)),
                                  lambda x: np.exp(-np.exp(x)), _cloglog_pdf, _cloglog_dpdf,
                                  lambda q: np.log(-np.log1p(-q))),
    "loglog": LatentDistribution("loglog", lambda x: np.exp(-np.exp(-x)),
                                 lambda x: -np.expm1(-np.exp(-x)), _loglog_pdf, _loglog_dpdf,
                                 lambda q: -np.log(-np.log(q))),
    "cauchit": LatentDistribution("cauchit", lambda x: 0.5 + np.arctan(x) / np.pi,
                                  lambda x: 0.5 - np.arctan(x) / np.pi,
                                  lambda x: 1.0 / (np.pi * (1.0 + x * x)),
                                  lambda x: -2.0 * x / (np.pi * (1.0 + x * x) ** 2),
                                  lambda q: np.tan(np.pi * (q - 0.5))),
}


def interval_prob(dist: LatentDistribution, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """F(a) - F(b) for a > b, from the survival function where both are in the upper
    tail (so 1 - 1e-20 does not round to one)."""
    with np.errstate(over="ignore", invalid="ignore"):
        upper = b > 0
        out = dist.cdf(a) - dist.cdf(b)
        if np.any(upper):
            out[upper] = dist.sf(b[upper]) - dist.sf(a[upper])
    return out
