"""Exponential-family distributions: a Family has-a Link and has-a VarianceFunction.

Conventions
-----------
- ``var_weights`` are prior weights w: Var(y_i) = scale * V(mu_i) / w_i. For a binomial
  response given as [successes, failures] the engine passes ``var_weights * n_trials``,
  as R does with its prior weights.
- ``unit_deviance(y, mu)`` is d(y, mu) with no weights; ``deviance`` sums
  ``freq_weights * var_weights * d / scale``.
- ``loglike_obs`` is the log density of each row (not multiplied by freq_weights).
- Each family knows where its response and mean may lie (``check_endog``, ``valid_mu``)
  and how R starts IRLS (``starting_mu``).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import special, stats

from . import links as L
from ..exceptions import DomainWarning, ValueWarning
from . import varfuncs as V

__all__ = [
    "Family", "Gaussian", "Binomial", "Poisson", "Gamma", "InverseGaussian",
    "NegativeBinomial", "Tweedie", "LinkFamilyWarning",
]


#: NegativeBinomial's alpha when not given (statsmodels' default 1.0 with a warning); an
#: explicit None asks for alpha to be estimated.
_UNSET: Any = type("_Unset", (), {"__repr__": lambda self: "<alpha not given>"})()


class LinkFamilyWarning(DomainWarning):
    """A link outside the family's usual set: the mean may leave the family's range
    (a :class:`~glmkit.exceptions.DomainWarning`, statsmodels' class for this warning)."""


#: Counts at least this many, with their largest value below the count, use the table.
_FACTORIAL_TABLE_ROWS = 4096


def log_factorial(y):
    """gammaln(y + 1). For many counts (non-negative integers, the largest below their
    number) a gather from gammaln(k + 1), k = 0..max(y): the same values (gammaln at the
    same arguments), without a gammaln per row (200k Poisson rows: ~1 ms against ~15 ms)."""
    y = np.asarray(y)
    if y.ndim == 1 and y.size >= _FACTORIAL_TABLE_ROWS and y.dtype.kind == "f":
        lo, hi = float(np.min(y)), float(np.max(y))   # NaN fails both tests below
        if lo >= 0.0 and hi < y.size and np.array_equal(y, np.floor(y)):
            table = special.gammaln(np.arange(int(hi) + 1) + 1.0)
            return table[y.astype(np.intp)]
    return special.gammaln(y + 1.0)


def _xlogy_ratio(y, mu):
    """y * log(y / mu), with 0 log 0 = 0: one logarithm per row (R's dev.resids form)."""
    with np.errstate(divide="ignore", invalid="ignore"):   # mu = 0 < y: log inf = inf
        out = special.xlogy(y, np.divide(y, mu))
    if np.isnan(out).any():   # y = mu = 0: 0 log(0/0) is 0, as 0 log 0
        out = np.where((np.asarray(y) == 0) & (np.asarray(mu) == 0), 0.0, out)
    return out


class Family:
    """Base class of the exponential families.

    Parameters
    ----------
    link : Link instance, optional; the family's canonical link when omitted.
    variance : VarianceFunction instance.
    check_link : bool
        When True, a link outside ``safe_links`` gives a :class:`LinkFamilyWarning`.
    """

    #: Link classes that keep the mean inside the family's range.
    safe_links: tuple[type, ...] = ()
    #: Default link class.
    canonical_link: type = L.Identity
    #: Whether the family has a free dispersion parameter (estimated scale).
    has_free_scale: bool = True
    name: str = "family"

    def __init__(self, link=None, variance=None, check_link: bool = True):
        if link is None:
            link = self.canonical_link()
        elif isinstance(link, type) and issubclass(link, L.Link):
            raise TypeError(
                f"link must be a link instance, got the class {link.__name__}: "
                f"write links.{link.__name__}() with parentheses."
            )
        elif not isinstance(link, L.Link):
            raise TypeError(f"link must be a glmkit link instance, got {type(link).__name__}.")
        self.link = link
        self.variance = variance if variance is not None else V.constant
        if check_link and not isinstance(link, self.safe_links):
            warnings.warn(
                f"The {type(link).__name__} link is not a usual link of the {self.name} "
                "family: fitted means may leave the family's range.",
                LinkFamilyWarning, stacklevel=3,
            )

    # ------------------------------------------------------------------ links
    @property
    def links(self) -> tuple[type, ...]:
        """statsmodels' name for the link classes this family accepts quietly."""
        return self.safe_links

    def fitted(self, lin_pred):
        """mu = g^{-1}(eta)."""
        return self.link.inverse(lin_pred)

    def predict(self, mu):
        """eta = g(mu)."""
        return self.link(mu)

    def weights(self, mu):
        """IRLS weights 1 / (g'(mu)^2 V(mu)), without prior weights."""
        return 1.0 / (self.link.deriv(mu) ** 2 * self.variance(mu))

    # --------------------------------------------------------------- domains
    def check_endog(self, y: np.ndarray) -> None:
        """Raise ValueError when the response is outside the family's range."""

    def valid_mu(self, mu: np.ndarray) -> bool:
        """Whether every mean is inside the family's range (R's ``validmu``)."""
        return bool(np.all(np.isfinite(mu)))

    def starting_mu(self, y, prior_weights=None):
        """R's ``family$initialize`` mustart."""
        return np.asarray(y, dtype=float).copy()

    # ------------------------------------------------------------- deviance
    def unit_deviance(self, y, mu):
        raise NotImplementedError

    def deviance(self, endog, mu, var_weights=1.0, freq_weights=1.0, scale=1.0):
        """sum(freq_weights * var_weights * d(y, mu)) / scale.

        Outside the family's range (solvers probe there when halving a step) the result
        is inf or NaN, quietly: callers test ``np.isfinite`` as R's glm.fit does.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self.unit_deviance(endog, mu)
        return float(np.sum(d * np.asarray(freq_weights) * np.asarray(var_weights)) / scale)

    def resid_dev(self, endog, mu, var_weights=1.0, scale=1.0):
        """sign(y - mu) sqrt(var_weights d(y, mu) / scale)."""
        d = np.maximum(self.unit_deviance(endog, mu), 0.0)
        return np.sign(endog - mu) * np.sqrt(np.asarray(var_weights) * d / scale)

    # ---------------------------------------------------------- likelihood
    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        raise NotImplementedError

    def loglike(self, endog, mu, var_weights=1.0, freq_weights=1.0, scale=1.0, n_trials=1.0):
        """Sum over rows of freq_weights * log density."""
        ll = self.loglike_obs(endog, mu, var_weights=var_weights, scale=scale, n_trials=n_trials)
        return float(np.sum(ll * np.asarray(freq_weights)))

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        raise NotImplementedError

    def get_distribution(self, mu, scale=1.0, var_weights=1.0):
        """The response's distribution at means ``mu``: a frozen scipy distribution.

        Parameters
        ----------
        mu : array_like, means.
        scale : float, the dispersion (ignored by the families without one).
        var_weights : array_like, prior weights: the dispersion of row i is scale / w_i.

        Returns
        -------
        scipy.stats frozen distribution, with statsmodels' parametrisation (its ``args``
        and ``kwds`` equal statsmodels').
        """
        raise NotImplementedError(f"no scipy distribution for the {self.name} family.")

    def __repr__(self):
        return f"{type(self).__name__}(link={self.link!r})"


class Gaussian(Family):
    """Normal responses, V(mu) = 1."""

    safe_links = (L.Identity, L.Log, L.Power, L.Logit, L.CDFLink, L.CLogLog, L.LogLog,
                  L.NegativeBinomial)
    canonical_link = L.Identity
    name = "Gaussian"

    def __init__(self, link=None, check_link=True):
        super().__init__(link, V.constant, check_link)

    def starting_mu(self, y, prior_weights=None):
        y = np.asarray(y, dtype=float)
        if isinstance(self.link, L.Log) and np.any(y <= 0):
            # R refuses here; start from the (positive) weighted mean instead
            return np.full_like(y, max(float(np.average(y, weights=prior_weights)), 1e-3))
        if isinstance(self.link, L.Power) and self.link.power < 0 and np.any(y == 0):
            return np.where(y == 0, np.average(y, weights=prior_weights), y)
        return y.copy()

    def unit_deviance(self, y, mu):
        return np.square(y - mu)

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        w = np.asarray(var_weights, dtype=float)
        return -0.5 * (w * np.square(endog - mu) / scale + np.log(2.0 * np.pi * scale / w))

    def get_distribution(self, mu, scale=1.0, var_weights=1.0):
        """norm(loc=mu, scale=sqrt(scale / var_weights))."""
        return stats.norm(loc=mu, scale=np.sqrt(scale / np.asarray(var_weights, dtype=float)))

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        return (endog - mu) * np.sqrt(np.asarray(var_weights) / scale)


class Poisson(Family):
    """Counts, V(mu) = mu."""

    safe_links = (L.Log, L.Identity, L.Power)
    canonical_link = L.Log
    has_free_scale = False
    name = "Poisson"

    def __init__(self, link=None, check_link=True):
        super().__init__(link, V.mu, check_link)

    def check_endog(self, y):
        if np.any(y < 0):
            raise ValueError("Poisson response must be non-negative counts; found negative values.")

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def starting_mu(self, y, prior_weights=None):
        return np.asarray(y, dtype=float) + 0.1

    def unit_deviance(self, y, mu):
        return 2.0 * (_xlogy_ratio(y, mu) - (y - mu))

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        w = np.asarray(var_weights, dtype=float)
        return w / scale * (special.xlogy(endog, mu) - mu - log_factorial(endog))

    def get_distribution(self, mu, scale=1.0, var_weights=1.0):
        """poisson(mu); ``scale`` and ``var_weights`` are ignored (statsmodels)."""
        return stats.poisson(mu)

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        r = 1.5 * (np.power(endog, 2.0 / 3.0) - np.power(mu, 2.0 / 3.0)) / np.power(mu, 1.0 / 6.0)
        return r * np.sqrt(np.asarray(var_weights) / scale)


class Binomial(Family):
    """Proportions in [0, 1]; the number of trials enters as prior weights.

    A 0/1 response, a proportion with ``var_weights`` = trials, or a two-column
    [successes, failures] response (the model converts it to proportions and trials).
    """

    # R's binomial() links and statsmodels' Binomial.links; no power links (R refuses them)
    safe_links = (L.Logit, L.Probit, L.Cauchy, L.Log, L.CLogLog, L.LogLog, L.LogC,
                  L.Identity, L.CDFLink)
    canonical_link = L.Logit
    has_free_scale = False
    name = "Binomial"

    def __init__(self, link=None, check_link=True):
        super().__init__(link, V.binary, check_link)

    def check_endog(self, y):
        if np.any(y < 0) or np.any(y > 1):
            raise ValueError(
                "Binomial response must lie in [0, 1] (0/1 outcomes or proportions); "
                "for counts pass a two-column array [successes, failures]."
            )

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0) and np.all(mu < 1))

    def starting_mu(self, y, prior_weights=None):
        w = 1.0 if prior_weights is None else np.asarray(prior_weights, dtype=float)
        return (w * np.asarray(y, dtype=float) + 0.5) / (w + 1.0)

    def unit_deviance(self, y, mu):
        return 2.0 * (_xlogy_ratio(y, mu) + _xlogy_ratio(1.0 - y, 1.0 - mu))

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        """Binomial log density as R's ``binomial()$aic`` counts it.

        Trials per row m are ``n_trials`` for a two-column response, else the prior
        weights; each row's log density is weighted by ``var_weights * n_trials / m``.
        """
        vw = np.broadcast_to(np.asarray(var_weights, dtype=float), np.shape(endog))
        nt = np.broadcast_to(np.asarray(n_trials, dtype=float), np.shape(endog))
        m = nt if np.any(nt != 1.0) else vw
        mult = np.divide(vw * nt, m, out=np.zeros_like(vw), where=m > 0)
        k = m * endog
        lchoose = special.gammaln(m + 1.0) - special.gammaln(k + 1.0) - special.gammaln(m - k + 1.0)
        ll = lchoose + special.xlogy(k, mu) + special.xlog1py(m - k, -mu)
        return mult * ll / scale

    def get_distribution(self, mu, scale=1.0, var_weights=1.0, n_trials=1):
        """binom(n=n_trials, p=mu): counts of successes; ``scale`` and ``var_weights`` are
        ignored (statsmodels)."""
        return stats.binom(n=n_trials, p=mu)

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        def a(x):
            return special.betainc(2.0 / 3.0, 2.0 / 3.0, x) * special.beta(2.0 / 3.0, 2.0 / 3.0)

        r = (a(endog) - a(mu)) / (mu * (1.0 - mu)) ** (1.0 / 6.0)
        return r * np.sqrt(np.asarray(var_weights) / scale)


class Gamma(Family):
    """Positive continuous responses, V(mu) = mu^2."""

    safe_links = (L.Log, L.Identity, L.InversePower, L.Power)
    canonical_link = L.InversePower
    name = "Gamma"

    def __init__(self, link=None, check_link=True):
        super().__init__(link, V.mu_squared, check_link)

    def check_endog(self, y):
        if np.any(y <= 0):
            raise ValueError("Gamma response must be strictly positive; found values <= 0.")

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def unit_deviance(self, y, mu):
        r = y / mu
        return 2.0 * (r - 1.0 - np.log(r))

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        k = np.asarray(var_weights, dtype=float) / scale
        r = endog / mu
        lgk = special.loggamma(k) if np.iscomplexobj(k) else special.gammaln(k)
        return k * np.log(k * r) - k * r - lgk - np.log(endog)

    def get_distribution(self, mu, scale=1.0, var_weights=1.0):
        """gamma(shape = var_weights / scale, scale = mu scale / var_weights)."""
        s = scale / np.asarray(var_weights, dtype=float)
        return stats.gamma(1.0 / s, scale=mu * s)

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        r = 3.0 * (np.cbrt(endog) - np.cbrt(mu)) / np.cbrt(mu)
        return r * np.sqrt(np.asarray(var_weights) / scale)


class InverseGaussian(Family):
    """Positive continuous responses, V(mu) = mu^3."""

    safe_links = (L.InverseSquared, L.InversePower, L.Identity, L.Log, L.Power)
    canonical_link = L.InverseSquared
    name = "InverseGaussian"

    def __init__(self, link=None, check_link=True):
        super().__init__(link, V.mu_cubed, check_link)

    def check_endog(self, y):
        if np.any(y <= 0):
            raise ValueError(
                "InverseGaussian response must be strictly positive; found values <= 0."
            )

    def valid_mu(self, mu):
        # R's inverse.gaussian() accepts any mean; the density needs mu > 0, and a fit
        # through negative means ends at points that are no likelihood's maximum
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def unit_deviance(self, y, mu):
        return np.square(y - mu) / (y * np.square(mu))

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        w = np.asarray(var_weights, dtype=float)
        ll = -w * np.square(endog - mu) / (scale * endog * np.square(mu))
        ll -= np.log(scale * endog**3 / w) + np.log(2.0 * np.pi)
        return 0.5 * ll

    def get_distribution(self, mu, scale=1.0, var_weights=1.0):
        """invgauss(mu scale / var_weights, scale = var_weights / scale)."""
        s = scale / np.asarray(var_weights, dtype=float)
        return stats.invgauss(mu * s, scale=1.0 / s)

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        r = np.log(endog / mu) / np.sqrt(mu)
        return r * np.sqrt(np.asarray(var_weights) / scale)


class NegativeBinomial(Family):
    """Counts with V(mu) = mu + alpha mu^2 (MASS's theta = 1 / alpha).

    ``alpha`` given: a known dispersion. Not given: statsmodels' default 1.0, with its
    ValueWarning. ``alpha=None``: estimated by maximum likelihood when the model is fitted
    (MASS's glm.nb; the results are :class:`glmkit.negbin.NegativeBinomialResults`).
    """

    safe_links = (L.Log, L.NegativeBinomial, L.Power, L.Identity)
    canonical_link = L.Log
    has_free_scale = False
    name = "NegativeBinomial"

    def __init__(self, link=None, alpha: Any = _UNSET, check_link=True):
        if alpha is None:   # estimated by fit(): a placeholder until then
            self.alpha = None
            super().__init__(link, V.NegativeBinomial(1.0), check_link)
            return
        if alpha is _UNSET:   # statsmodels' default, with statsmodels' warning
            alpha = 1.0
            warnings.warn("Negative binomial dispersion parameter alpha not set. Using "
                          f"default value alpha={alpha}.", ValueWarning, stacklevel=2)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer,
                                                             np.floating)):
            raise TypeError(f"NegativeBinomial alpha must be a number, got {alpha!r}.")
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"NegativeBinomial needs a finite alpha > 0, got {alpha!r}.")
        self.alpha = float(alpha)
        super().__init__(link, V.NegativeBinomial(self.alpha), check_link)

    def check_endog(self, y):
        if np.any(y < 0):
            raise ValueError("NegativeBinomial response must be non-negative counts.")

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def starting_mu(self, y, prior_weights=None):
        y = np.asarray(y, dtype=float)
        return y + (y == 0) / 6.0

    def unit_deviance(self, y, mu):
        a = self.alpha
        t = (y + 1.0 / a) * (np.log1p(a * y) - np.log1p(a * mu))
        return 2.0 * (_xlogy_ratio(y, mu) - t)

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        a, y = self.alpha, endog
        ll = (special.xlogy(y, a * mu) - (y + 1.0 / a) * np.log1p(a * mu)
              + special.gammaln(y + 1.0 / a) - special.gammaln(1.0 / a) - special.gammaln(y + 1.0))
        return np.asarray(var_weights, dtype=float) / scale * ll

    def get_distribution(self, mu, scale=1.0, var_weights=1.0):
        """nbinom(1 / alpha, (1 / alpha) / (1 / alpha + mu)); ``scale`` and ``var_weights``
        are ignored (statsmodels)."""
        size = 1.0 / self.alpha
        return stats.nbinom(size, size / (size + np.asarray(mu, dtype=float)))

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        def h(x):
            return special.hyp2f1(2.0 / 3.0, 1.0 / 3.0, 5.0 / 3.0, -self.alpha * x)

        a = self.alpha
        r = 1.5 * (np.power(endog, 2.0 / 3.0) * h(endog) - np.power(mu, 2.0 / 3.0) * h(mu))
        r /= (mu * (1.0 + a * mu)) ** (1.0 / 6.0)
        return r * np.sqrt(np.asarray(var_weights) / scale)

    def __repr__(self):
        if self.alpha is None:
            return f"NegativeBinomial(link={self.link!r}, alpha=None)"
        return f"NegativeBinomial(link={self.link!r}, alpha={self.alpha:g})"


class Tweedie(Family):
    """Tweedie family, V(mu) = mu ** var_power (1 < var_power < 2: compound Poisson-gamma).

    Parameters
    ----------
    link : default Log.
    var_power : float, 0 or >= 1 (0 Gaussian, 1 Poisson, 2 Gamma, 3 inverse Gaussian).
    eql : bool, statsmodels' extended quasi-likelihood for ``loglike`` (default False:
        the exact density by Dunn and Smyth's series for 1 < var_power < 2).

    Notes
    -----
    With ``var_power=1`` the log-likelihood is statsmodels': the Poisson log pmf times
    var_weights / scale, a quasi-likelihood when the scale is not 1.
    """

    safe_links = (L.Log, L.Power, L.Identity)
    canonical_link = L.Log
    name = "Tweedie"

    def __init__(self, link=None, var_power: float = 1.0, eql: bool = False, check_link=True):
        p = float(var_power)
        if not np.isfinite(p) or (0 < p < 1) or p < 0:
            raise ValueError(f"Tweedie var_power must be 0 or at least 1, got {var_power!r}.")
        self.var_power = p
        self.eql = bool(eql)
        super().__init__(link, V.Power(p), check_link)

    def check_endog(self, y):
        if self.var_power >= 2 and np.any(y <= 0):
            raise ValueError(
                f"Tweedie with var_power={self.var_power:g} needs a strictly positive response."
            )
        if self.var_power > 0 and np.any(y < 0):
            raise ValueError("Tweedie response must be non-negative.")

    def valid_mu(self, mu):
        return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))

    def starting_mu(self, y, prior_weights=None):
        y = np.asarray(y, dtype=float)
        return y + 0.1 * (y == 0)

    def unit_deviance(self, y, mu):
        p = self.var_power
        if p == 0:
            return np.square(y - mu)
        if p == 1:
            return 2.0 * (_xlogy_ratio(y, mu) - (y - mu))
        if p == 2:
            r = y / mu
            return 2.0 * (r - 1.0 - np.log(r))
        t1 = np.power(y, 2.0 - p) / ((1.0 - p) * (2.0 - p))
        return 2.0 * (t1 - y * np.power(mu, 1.0 - p) / (1.0 - p) + np.power(mu, 2.0 - p) / (2.0 - p))

    def loglike_obs(self, endog, mu, var_weights=1.0, scale=1.0, n_trials=1.0):
        p = self.var_power
        phi = scale / np.asarray(var_weights, dtype=float)
        if self.eql:
            d = self.unit_deviance(endog, mu)
            return -0.5 * (d / phi + np.log(2.0 * np.pi * phi * np.power(np.maximum(endog, 1e-300), p)))
        if p == 0:
            return Gaussian(check_link=False).loglike_obs(endog, mu, var_weights, scale)
        if p == 1:   # statsmodels: the Poisson log pmf times var_weights / scale
            return Poisson(check_link=False).loglike_obs(endog, mu, var_weights, scale)
        if p == 2:
            return Gamma(check_link=False).loglike_obs(endog, mu, var_weights, scale)
        if p == 3:
            return InverseGaussian(check_link=False).loglike_obs(endog, mu, var_weights, scale)
        if not 1 < p < 2:
            raise NotImplementedError(
                f"The exact Tweedie log-likelihood is implemented for 1 < var_power < 2 "
                f"(got {p:g}); use Tweedie(..., eql=True) for the quasi-likelihood."
            )
        return _tweedie_logpdf(np.asarray(endog, float), np.asarray(mu),
                               np.broadcast_to(phi, np.shape(endog)), p)

    def resid_anscombe(self, endog, mu, var_weights=1.0, scale=1.0):
        p = self.var_power
        if p == 3:
            r = np.log(endog / mu) / np.sqrt(mu)
        else:
            c = (3.0 - p) / 3.0
            r = (np.power(endog, c) - np.power(mu, c)) / (c * np.power(mu, p / 6.0))
        return r * np.sqrt(np.asarray(var_weights) / scale)

    def __repr__(self):
        return f"Tweedie(link={self.link!r}, var_power={self.var_power:g})"


def _tweedie_logpdf(y, mu, phi, p):
    """Log density of the compound Poisson-gamma (1 < p < 2) by Dunn and Smyth's series.

    log f(y) = (y theta - kappa) / phi - log y + log W(y), W = sum_j W_j for y > 0, with
    theta = mu^(1-p)/(1-p), kappa = mu^(2-p)/(2-p) and, for alpha = (2-p)/(1-p),
    log W_j = j [ -alpha log y + alpha log(p-1) - (1-alpha) log phi - log(2-p) ]
              - lgamma(j+1) - lgamma(-j alpha).
    P(y = 0) = exp(-kappa / phi).
    """
    kappa = np.power(mu, 2.0 - p) / (2.0 - p)
    out = -kappa / phi
    pos = y > 0
    if not np.any(pos):
        return out
    yp, mp, fp = y[pos], mu[pos], phi[pos]
    theta = np.power(mp, 1.0 - p) / (1.0 - p)
    alpha = (2.0 - p) / (1.0 - p)
    c = -alpha * np.log(yp) + alpha * np.log(p - 1.0) - (1.0 - alpha) * np.log(fp) - np.log(2.0 - p)
    jmode = np.maximum(np.power(yp, 2.0 - p) / (np.real(fp) * (2.0 - p)), 1.0)
    half = np.ceil(10.0 + 8.0 * np.sqrt(jmode))
    lo = np.maximum(1.0, np.floor(jmode - half))
    width = int(np.max(np.ceil(jmode + half) - lo)) + 1
    terms = ((lo + k) * c - special.gammaln(lo + k + 1.0) - special.gammaln(-(lo + k) * alpha)
             for k in range(width))
    if np.iscomplexobj(c):   # complex-step derivatives: logaddexp takes real input only
        t = np.array(list(terms))
        top = np.max(t.real, axis=0)
        logw = top + np.log(np.sum(np.exp(t - top), axis=0))
    else:
        logw = np.full(yp.shape, -np.inf)
        for term in terms:
            logw = np.logaddexp(logw, term)
    out[pos] = (yp * theta - kappa[pos]) / fp - np.log(yp) + logw
    return out

