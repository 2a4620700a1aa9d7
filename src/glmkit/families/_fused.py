"""IRLS kernels: everything one row block needs, from (y, eta, total weights).

``kernel_for(family)`` returns a fused kernel for the common family x link pairs and the
generic one otherwise; a test shows each fused kernel equals the generic one.

A kernel's ``evaluate(y, eta, tw)`` returns

    mu,  dev = sum over the block of the deviance terms that depend on eta,
    w   = tw (dmu/deta)^2 / V(mu)            (working weights)
    u   = tw (dmu/deta) (y - mu) / V(mu)     (X'u is the score; u = w * working residual)

and ``constant(y, tw)`` the part of the deviance that does not depend on eta, computed once
per fit: total deviance = constant + sum of the blocks' ``dev``.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from . import links as L
from .family import Binomial, Family, Gamma, Gaussian, InverseGaussian, Poisson, Tweedie
from .quasi import QuasiBinomial, QuasiPoisson

EPS = np.finfo(float).eps
_TINY = np.finfo(float).tiny


def _wdot(tw: np.ndarray, v: np.ndarray) -> float:
    """sum_i tw_i v_i as a product and numpy's pairwise sum, not np.dot: equal weights
    arrive as a broadcast (stride-0) array, on which numpy's dot does not call BLAS (200k
    rows: 8 ms), and on contiguous weights dot calls the threaded BLAS ddot (50k rows on
    a loaded 2-core machine: 4.5 ms); the product and sum take 0.1-1 ms."""
    return float(np.sum(tw * v))
_EXP_MAX = L._EXP_MAX
_LOG_EPS = float(np.log(EPS))


def _log_mu(eta):
    """log of mu = max(exp(min(eta, EXP_MAX)), EPS), the log link's clamped mean, without
    a logarithm: the same clamp on eta."""
    return np.clip(eta, _LOG_EPS, _EXP_MAX)


class GenericKernel:
    """Family and link methods, for any pair."""

    #: Whether the observed information is positive definite everywhere (then IRLS takes
    #: Newton steps, which converge quadratically where Fisher scoring is linear).
    observed_pd = False
    #: Whether the log-likelihood is concave in beta on every linear predictor (canonical
    #: links with an unbounded eta, or observed_pd): then any valid start leads to the
    #: maximum, and IRLS may start from the intercept-only point.
    concave = False

    @property
    def start_anywhere(self) -> bool:
        return bool(self.concave or self.observed_pd)

    @property
    def fisher_is_newton(self) -> bool:
        """Whether the expected information equals the observed one at every point (the
        family's natural link: Fisher scoring steps are Newton steps)."""
        fam = self.family
        natural = next((_NATURAL[c] for c in type(fam).__mro__ if c in _NATURAL), None)
        return natural is not None and isinstance(self.link, natural)

    def __init__(self, family: Family):
        self.family = family
        self.link = family.link

    def constant(self, y, tw) -> float:
        return 0.0

    def evaluate(self, y, eta, tw, observed: bool = False):
        fam, link = self.family, self.link
        mu = link.inverse(eta)
        mu_eta = link.inverse_deriv(eta)
        var = fam.variance(mu)
        dev = float(np.sum(tw * fam.unit_deviance(y, mu)))
        w = tw * mu_eta**2 / var
        resid = y - mu
        u = tw * mu_eta * resid / var
        w_obs = None
        if observed:
            d2 = link.inverse_deriv2(eta)
            w_obs = w - tw * resid * (d2 / var - mu_eta**2 * fam.variance.deriv(mu) / var**2)
        return mu, dev, w, u, w_obs

    def valid(self, eta, mu) -> bool:
        return self.link.valid_eta(eta) and self.family.valid_mu(mu)


class _InRange(GenericKernel):
    """Kernels whose link keeps mu inside the family's range by construction (clamped exp
    or expit): a non-finite deviance is the only way a step can fail."""

    def valid(self, eta, mu) -> bool:
        return True


class PoissonLog(_InRange):
    """d = 2 (y log y - y eta - y + mu); w = tw mu; u = tw (y - mu)."""

    concave = True

    def constant(self, y, tw):
        # y log y, 0 at y = 0 (y >= 0 is checked); faster than special.xlogy
        return 2.0 * _wdot(tw, y * np.log(np.maximum(y, _TINY)))

    def evaluate(self, y, eta, tw, observed=False):
        mu = np.exp(np.minimum(eta, _EXP_MAX))
        np.maximum(mu, EPS, out=mu)
        if tw.strides == (0,) and tw.shape[0] and tw[0] == 1.0:   # no weights
            w, ty = mu, y
        else:
            w, ty = tw * mu, tw * y
        u = ty - w
        dev = 2.0 * (float(w.sum()) - float(ty @ eta) - float(ty.sum()))
        return mu, dev, w, u, (w if observed else None)


class BinomialLogit(_InRange):
    """d = 2 [y log y + (1-y) log(1-y) - y eta + log(1 + e^eta)] at mu = expit(eta)."""

    concave = True

    def constant(self, y, tw):
        return 2.0 * float(np.sum(tw * (special.xlogy(y, y) + special.xlog1py(1.0 - y, -y))))

    _LO = float(np.log(EPS / (1.0 - EPS)))

    def evaluate(self, y, eta, tw, observed=False):
        if eta.size and self._LO < eta.min() and eta.max() < -self._LO:
            # no clipping anywhere: mu = expit(eta), and unless mu (1 - mu) falls below eps
            # (R's floor on dmu/deta) w = tw mu (1 - mu), u = tw (y - mu)
            mu = special.expit(eta)
            v = mu * (1.0 - mu)
            if v.min() >= EPS:
                dev = -2.0 * _wdot(tw, y * eta - np.logaddexp(0.0, eta))
                unit = tw.strides == (0,) and tw[0] == 1.0
                w = v if unit else tw * v
                u = y - mu
                if not unit:
                    u *= tw
                return mu, dev, w, u, (w if observed else None)
        eta_c = np.clip(eta, self._LO, -self._LO)   # mu clipped to [eps, 1 - eps]
        mu = special.expit(eta_c)
        # y log mu + (1 - y) log(1 - mu) = y eta - log(1 + e^eta)
        dev = -2.0 * _wdot(tw, y * eta_c - np.logaddexp(0.0, eta_c))
        v = mu * (1.0 - mu)
        p = special.expit(eta)
        mu_eta = np.maximum(p * (1.0 - p), EPS)
        w = tw * mu_eta**2 / v
        u = tw * mu_eta * (y - mu) / v
        return mu, dev, w, u, (w if observed else None)


class GammaLog(_InRange):
    #: The observed information (weights tw y / mu) is positive definite: Newton is safe.
    observed_pd = True

    """d = 2 [y e^-eta - 1 - log y + eta]; w = tw; u = tw (y e^-eta - 1)."""

    def constant(self, y, tw):
        return -2.0 * float(np.sum(tw * (1.0 + np.log(y))))

    def evaluate(self, y, eta, tw, observed=False):
        log_mu = _log_mu(eta)
        mu = np.exp(log_mu)
        ratio = y / mu
        dev = 2.0 * float(np.sum(tw * (ratio + log_mu)))
        u = tw * (ratio - 1.0)
        w_obs = tw * ratio if observed else None
        return mu, dev, tw, u, w_obs


class GaussianIdentity(_InRange):
    """d = (y - eta)^2; w = tw; u = tw (y - eta)."""

    concave = True

    def evaluate(self, y, eta, tw, observed=False):
        r = y - eta
        u = tw * r
        return eta, float(np.dot(u, r)), tw, u, (tw if observed else None)


class TweedieLog(_InRange):
    """1 < p < 2 or p > 2: d = 2 [y^(2-p)/((1-p)(2-p)) - y mu^(1-p)/(1-p) + mu^(2-p)/(2-p)]."""

    def __init__(self, family: Tweedie):
        super().__init__(family)
        self.p = family.var_power
        # observed weights tw ((2-p) mu^(2-p) + (p-1) y mu^(1-p)) are positive for 1 < p < 2
        self.observed_pd = 1.0 < self.p < 2.0

    def constant(self, y, tw):
        p = self.p
        return 2.0 * float(np.sum(tw * np.power(y, 2.0 - p))) / ((1.0 - p) * (2.0 - p))

    def evaluate(self, y, eta, tw, observed=False):
        p = self.p
        log_mu = _log_mu(eta)
        mu = np.exp(log_mu)
        m1 = np.exp((1.0 - p) * log_mu)     # mu^(1-p): an exp, not a power (4x faster)
        m2 = m1 * mu                        # mu^(2-p)
        w = tw * m2
        u = tw * y * m1 - w
        dev = 2.0 * float(np.sum(tw * (m2 / (2.0 - p) - y * m1 / (1.0 - p))))
        w_obs = (tw * ((p - 1.0) * y * m1 + (2.0 - p) * m2)) if observed else None
        return mu, dev, w, u, w_obs


#: The natural (canonical) link of each family whose ``canonical_link`` is one: there the
#: observed information X'WX needs no correction term. (NegativeBinomial's and Tweedie's
#: default log link is not their natural link.)
_NATURAL = {Gaussian: L.Identity, Poisson: L.Log, Binomial: L.Logit, Gamma: L.InversePower,
            InverseGaussian: L.InverseSquared}


def kernel_for(family: Family, fused: bool = True) -> GenericKernel:
    """The fastest kernel that equals the generic computation for this family and link."""
    link = family.link
    if fused:
        if type(family) in (Poisson, QuasiPoisson) and isinstance(link, L.Log):
            return PoissonLog(family)
        if type(family) in (Binomial, QuasiBinomial) and isinstance(link, L.Logit):
            return BinomialLogit(family)
        if type(family) is Gamma and isinstance(link, L.Log):
            return GammaLog(family)
        if type(family) is Gaussian and isinstance(link, L.Identity):
            return GaussianIdentity(family)
        if type(family) is Tweedie and isinstance(link, L.Log) and family.var_power not in (0, 1, 2):
            return TweedieLog(family)
    return GenericKernel(family)
