"""Row kernels of the zero-inflated and hurdle count models: the count distributions'
log-probabilities with their derivatives in (eta, log theta), and the zero part's links.

Conventions
-----------
- Counts: mu = exp(eta); ``poisson``; ``negbin`` with size theta = exp(lt) (R's
  ``dnbinom(y, size = theta, mu = mu)``, variance mu + mu^2 / theta); ``geometric`` is
  negbin with theta = 1 (not estimated).
- Derivatives are of log f(y) in eta and lt = log(theta): ``L, L_e, L_t, L_ee, L_et, L_tt``
  (the theta terms are zero arrays for poisson and geometric).
- Zero links as R's ``make.link``: pi = F(zeta) with ``logit``, ``probit``, ``cloglog``
  (1 - exp(-exp(zeta))), ``cauchit``; ``log``: pi = exp(zeta). ``pi1``, ``pi2`` are the
  first and second derivatives of pi in zeta; ``log1m`` is log(1 - pi), kept precise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._cdfs import DISTRIBUTIONS

COUNT_DISTS = ("poisson", "negbin", "geometric")
ZERO_LINKS = ("logit", "probit", "cloglog", "cauchit", "log")
_LINK_DIST = {"logit": "logistic", "probit": "probit", "cloglog": "cloglog",
              "cauchit": "cauchit"}


@dataclass(frozen=True)
class CountTerms:
    L: np.ndarray
    L_e: np.ndarray
    L_t: np.ndarray
    L_ee: np.ndarray
    L_et: np.ndarray
    L_tt: np.ndarray


def count_terms(dist: str, y: np.ndarray, eta: np.ndarray, lt: float | None) -> CountTerms:
    """log f(y; mu = exp(eta), theta = exp(lt)) and its derivatives (see the module)."""
    mu = np.exp(eta)
    zero = np.zeros_like(eta)
    if dist == "poisson":
        L = y * eta - mu - special.gammaln(y + 1.0)
        return CountTerms(L, y - mu, zero, -mu, zero, zero)
    th = 1.0 if dist == "geometric" or lt is None else float(np.exp(lt))
    tm = th + mu
    L = (special.gammaln(y + th) - special.gammaln(th) - special.gammaln(y + 1.0)
         - th * np.log1p(mu / th) + y * (eta - np.log(tm)))
    L_e = th * (y - mu) / tm
    L_ee = -th * mu * (th + y) / tm**2
    if dist == "geometric":
        return CountTerms(L, L_e, zero, L_ee, zero, zero)
    # derivatives in theta, then in lt = log(theta)
    d_th = (special.digamma(y + th) - special.digamma(th) - np.log1p(mu / th)
            + (mu - y) / tm)
    d_thth = (special.polygamma(1, y + th) - special.polygamma(1, th) + 1.0 / th
              - 2.0 / tm + (th + y) / tm**2)
    d_eth = (y - mu) * mu / tm**2
    return CountTerms(L, L_e, th * d_th, L_ee, th * d_eth, th * d_th + th * th * d_thth)


def count_log_pmf(dist: str, y: np.ndarray, mu: np.ndarray, theta: float | None) -> np.ndarray:
    """log f(y) for predictions (mu on the response scale)."""
    with np.errstate(divide="ignore"):
        eta = np.log(mu)
    lt = None if theta is None else float(np.log(theta))
    return count_terms(dist, np.asarray(y, dtype=float), eta, lt).L


@dataclass(frozen=True)
class ZeroTerms:
    pi: np.ndarray
    log_pi: np.ndarray
    log1m: np.ndarray   # log(1 - pi)
    pi1: np.ndarray
    pi2: np.ndarray


def zero_terms(link: str, zeta: np.ndarray) -> ZeroTerms:
    """pi = linkinv(zeta), its logs and its first two derivatives in zeta."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        if link == "log":
            pi = np.exp(zeta)
            return ZeroTerms(pi, zeta.copy(), np.log(-np.expm1(zeta)), pi, pi)
        d = DISTRIBUTIONS[_LINK_DIST[link]]
        pi, sf = d.cdf(zeta), d.sf(zeta)
        return ZeroTerms(pi, np.log(pi), np.log(sf), d.pdf(zeta), d.dpdf(zeta))


def zero_linkinv(link: str, zeta: np.ndarray) -> np.ndarray:
    return zero_terms(link, np.asarray(zeta, dtype=float)).pi
