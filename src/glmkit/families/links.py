"""Link functions g: mean mu -> linear predictor eta.

Each link offers the four functions the engine needs and two second derivatives:

===================  ===============================  ==========================
method               meaning                           used for
===================  ===============================  ==========================
``__call__(mu)``     eta = g(mu)                       starting values, null model
``inverse(eta)``     mu = g^{-1}(eta)                  every iteration
``deriv(mu)``        g'(mu)                            working residuals
``deriv2(mu)``       g''(mu)                           observed information
``inverse_deriv``    dmu/deta = 1 / g'(mu)             IRLS weights (R's mu.eta)
``inverse_deriv2``   d2mu/deta2                        observed information
===================  ===============================  ==========================

Names follow statsmodels (``Log``, ``Logit``, ``InversePower``, ...); the lowercase
aliases statsmodels also accepts (``log``, ``logit``, ...) are provided at the bottom.

Notes
-----
Links are numerically safe at the extremes the way R's ``make.link`` is: inverse links
that map to (0, 1) or (0, inf) are clamped one machine epsilon inside their range, and
``inverse_deriv`` never returns exactly zero, so working weights stay finite. Links of a
probability clip mu to [eps, 1 - eps] before taking logarithms.
"""
from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = [
    "Link", "Identity", "Log", "Logit", "Probit", "Cauchy", "CLogLog", "LogLog", "LogC",
    "CDFLink", "Power", "InversePower", "InverseSquared", "Sqrt", "NegativeBinomial",
]

EPS = np.finfo(float).eps
#: Largest argument for which exp() is finite with room to spare.
_EXP_MAX = np.log(np.finfo(float).max) - 1.0


class Link:
    """Abstract link. Subclasses implement the six functions of the module table."""

    #: Whether the link keeps mu in (0, 1) / (0, inf) by construction.
    name: str = "link"

    def __call__(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def deriv(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def deriv2(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_deriv(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_deriv2(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def valid_eta(self, eta: np.ndarray) -> bool:
        """Whether every eta is inside the link's domain (R's ``valideta``)."""
        return bool(np.all(np.isfinite(eta)))

    # statsmodels names the derivative of the inverse link this way too
    def inverse_deriv_from_mu(self, mu: np.ndarray) -> np.ndarray:
        return 1.0 / self.deriv(mu)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.__dict__.items()))))


class Identity(Link):
    """eta = mu."""

    name = "identity"

    @property
    def power(self) -> float:
        """1.0: statsmodels' Identity is Power(1) and code reads ``link.power``. Read-only:
        another power is ``links.Power(p)``."""
        return 1.0

    def __call__(self, mu):
        return np.asarray(mu, dtype=float).copy()

    def inverse(self, eta):
        eta = np.asarray(eta)
        return eta.astype(complex if np.iscomplexobj(eta) else float)   # complex steps pass

    def deriv(self, mu):
        return np.ones_like(mu, dtype=float)

    def deriv2(self, mu):
        return np.zeros_like(mu, dtype=float)

    def inverse_deriv(self, eta):
        return np.ones_like(eta, dtype=float)

    def inverse_deriv2(self, eta):
        return np.zeros_like(eta, dtype=float)


class Log(Link):
    """eta = log(mu). The inverse is clamped to [eps, exp(709)] as R's log link is."""

    name = "log"

    def __call__(self, mu):
        return np.log(np.maximum(mu, np.finfo(float).tiny))

    def inverse(self, eta):
        return np.maximum(np.exp(np.minimum(eta, _EXP_MAX)), EPS)

    def deriv(self, mu):
        return 1.0 / mu

    def deriv2(self, mu):
        return -1.0 / mu**2

    def inverse_deriv(self, eta):
        return self.inverse(eta)

    def inverse_deriv2(self, eta):
        return self.inverse(eta)


class _ProbabilityLink(Link):
    """Shared pieces for links of a probability in (0, 1)."""

    @staticmethod
    def _clip(mu):
        return np.clip(mu, EPS, 1.0 - EPS)


class Logit(_ProbabilityLink):
    """eta = log(mu / (1 - mu)); the inverse is clamped to [eps, 1 - eps] (as R)."""

    name = "logit"

    def __call__(self, mu):
        mu = self._clip(mu)
        return np.log(mu) - np.log1p(-mu)

    def inverse(self, eta):
        if np.iscomplexobj(eta):   # complex-step derivatives: expit takes real input only
            return 1.0 / (1.0 + np.exp(-eta))
        return np.clip(special.expit(eta), EPS, 1.0 - EPS)

    def deriv(self, mu):
        mu = self._clip(mu)
        return 1.0 / (mu * (1.0 - mu))

    def deriv2(self, mu):
        mu = self._clip(mu)
        return (2.0 * mu - 1.0) / (mu * (1.0 - mu)) ** 2

    def inverse_deriv(self, eta):
        p = special.expit(eta)
        return np.maximum(p * (1.0 - p), EPS)

    def inverse_deriv2(self, eta):
        p = special.expit(eta)
        return p * (1.0 - p) * (1.0 - 2.0 * p)


class CDFLink(_ProbabilityLink):
    """eta = F^{-1}(mu) for a continuous scipy distribution F (default: standard normal).

    Parameters
    ----------
    dbn : scipy.stats distribution, frozen or not, with ``cdf``, ``ppf`` and ``pdf``.
    """

    name = "cdf"

    def __init__(self, dbn=None):
        self.dbn = stats.norm if dbn is None else dbn
        # eta beyond +-thresh would give mu within eps of 0 or 1 (R's probit/cauchit guard)
        self._thresh = -float(self.dbn.ppf(EPS))

    def __call__(self, mu):
        return self.dbn.ppf(self._clip(mu))

    def inverse(self, eta):
        eta = np.clip(eta, -self._thresh, self._thresh)
        return np.clip(self.dbn.cdf(eta), EPS, 1.0 - EPS)

    def deriv(self, mu):
        return 1.0 / self.dbn.pdf(self(mu))

    def deriv2(self, mu):
        eta = self(mu)
        return -self._pdf_deriv(eta) / self.dbn.pdf(eta) ** 3

    def inverse_deriv(self, eta):
        return np.maximum(self.dbn.pdf(eta), EPS)

    def inverse_deriv2(self, eta):
        return self._pdf_deriv(eta)

    def _pdf_deriv(self, eta):
        """Derivative of the density, by central differences (exact forms in subclasses)."""
        h = 1e-5 * np.maximum(1.0, np.abs(eta))
        return (self.dbn.pdf(eta + h) - self.dbn.pdf(eta - h)) / (2.0 * h)

    def __repr__(self):
        name = getattr(self.dbn, "name", None) or getattr(getattr(self.dbn, "dist", None), "name", "?")
        return f"CDFLink({name})"


class Probit(CDFLink):
    """eta = Phi^{-1}(mu), the standard normal quantile."""

    name = "probit"

    def __init__(self):
        super().__init__(stats.norm)

    def __call__(self, mu):
        return special.ndtri(self._clip(mu))

    def inverse(self, eta):
        eta = np.clip(eta, -self._thresh, self._thresh)
        return special.ndtr(eta)

    def inverse_deriv(self, eta):
        return np.maximum(np.exp(-0.5 * np.square(eta)) / np.sqrt(2.0 * np.pi), EPS)

    def _pdf_deriv(self, eta):
        return -eta * np.exp(-0.5 * np.square(eta)) / np.sqrt(2.0 * np.pi)

    def __repr__(self):
        return "Probit()"


class Cauchy(CDFLink):
    """eta = tan(pi (mu - 1/2)), the Cauchy quantile (R's cauchit)."""

    name = "cauchit"

    def __init__(self):
        super().__init__(stats.cauchy)

    def __call__(self, mu):
        return np.tan(np.pi * (self._clip(mu) - 0.5))

    def inverse(self, eta):
        eta = np.clip(eta, -self._thresh, self._thresh)
        return 0.5 + np.arctan(eta) / np.pi

    def inverse_deriv(self, eta):
        return np.maximum(1.0 / (np.pi * (1.0 + np.square(eta))), EPS)

    def _pdf_deriv(self, eta):
        return -2.0 * eta / (np.pi * (1.0 + np.square(eta)) ** 2)

    def __repr__(self):
        return "Cauchy()"


class CLogLog(_ProbabilityLink):
    """eta = log(-log(1 - mu)), complementary log-log."""

    name = "cloglog"

    def __call__(self, mu):
        return np.log(-np.log1p(-self._clip(mu)))

    def inverse(self, eta):
        return np.clip(-np.expm1(-np.exp(np.minimum(eta, _EXP_MAX))), EPS, 1.0 - EPS)

    def deriv(self, mu):
        mu = self._clip(mu)
        return 1.0 / ((mu - 1.0) * np.log1p(-mu))

    def deriv2(self, mu):
        mu = self._clip(mu)
        fl = np.log1p(-mu)
        return -(1.0 + fl) / ((mu - 1.0) ** 2 * fl**2)

    def inverse_deriv(self, eta):
        eta = np.minimum(eta, 700.0)
        return np.maximum(np.exp(eta - np.exp(eta)), EPS)

    def inverse_deriv2(self, eta):
        eta = np.minimum(eta, 700.0)
        return np.exp(eta - np.exp(eta)) * (1.0 - np.exp(eta))


class LogLog(_ProbabilityLink):
    """eta = -log(-log(mu)), log-log."""

    name = "loglog"

    def __call__(self, mu):
        return -np.log(-np.log(self._clip(mu)))

    def inverse(self, eta):
        return np.clip(np.exp(-np.exp(-np.maximum(eta, -_EXP_MAX))), EPS, 1.0 - EPS)

    def deriv(self, mu):
        mu = self._clip(mu)
        return -1.0 / (mu * np.log(mu))

    def deriv2(self, mu):
        mu = self._clip(mu)
        lm = np.log(mu)
        return (1.0 + lm) / (mu * lm) ** 2

    def inverse_deriv(self, eta):
        eta = np.maximum(eta, -700.0)
        return np.maximum(np.exp(-eta - np.exp(-eta)), EPS)

    def inverse_deriv2(self, eta):
        eta = np.maximum(eta, -700.0)
        return np.exp(-eta - np.exp(-eta)) * (np.exp(-eta) - 1.0)


class LogC(_ProbabilityLink):
    """eta = log(1 - mu), the log of the complement."""

    name = "logc"

    def __call__(self, mu):
        return np.log1p(-self._clip(mu))

    def inverse(self, eta):
        return np.clip(-np.expm1(eta), EPS, 1.0 - EPS)

    def deriv(self, mu):
        return 1.0 / (self._clip(mu) - 1.0)

    def deriv2(self, mu):
        return -1.0 / (self._clip(mu) - 1.0) ** 2

    def inverse_deriv(self, eta):
        return -np.exp(eta)

    def inverse_deriv2(self, eta):
        return -np.exp(eta)

    def valid_eta(self, eta):
        return bool(np.all(np.isfinite(eta)) and np.all(eta < 0))


class Power(Link):
    """eta = mu ** power. ``power=1`` is the identity; use :class:`Log` for power 0.

    Parameters
    ----------
    power : float, non-zero.
    """

    name = "power"

    def __init__(self, power: float = 1.0):
        if isinstance(power, bool) or not isinstance(power, (int, float, np.integer, np.floating)) \
                or not np.isfinite(power):
            raise ValueError(f"Power(power) needs a finite number, got {power!r}.")
        if power == 0:
            raise ValueError("Power(0) is the log link: use links.Log() instead.")
        self.power = float(power)

    def __call__(self, mu):
        return np.power(mu, self.power)

    def inverse(self, eta):
        # eta = 0 (or tiny) with a negative power gives mu = inf quietly; valid_eta rejects it
        with np.errstate(divide="ignore", over="ignore"):
            return np.power(eta, 1.0 / self.power)

    def deriv(self, mu):
        return self.power * np.power(mu, self.power - 1.0)

    def deriv2(self, mu):
        if self.power == 1.0:  # 0 * mu**-1 would be NaN at mu = 0
            return np.zeros_like(mu, dtype=float)
        return self.power * (self.power - 1.0) * np.power(mu, self.power - 2.0)

    def inverse_deriv(self, eta):
        return np.power(eta, 1.0 / self.power - 1.0) / self.power

    def inverse_deriv2(self, eta):
        p = self.power
        if p == 1.0:  # 0 * eta**-1 would be NaN at eta = 0
            return np.zeros_like(eta, dtype=float)
        return (1.0 - p) / p**2 * np.power(eta, 1.0 / p - 2.0)

    def valid_eta(self, eta):
        """R's rule: the inverse link accepts any non-zero eta; other powers need eta > 0."""
        if not np.all(np.isfinite(eta)):
            return False
        if self.power == 1.0:
            return True
        if self.power == -1.0:
            return bool(np.all(eta != 0))
        return bool(np.all(eta > 0))

    def __repr__(self):
        return f"{type(self).__name__}(power={self.power:g})"


class InversePower(Power):
    """eta = 1 / mu, the canonical link of the Gamma family."""

    name = "inverse"

    def __init__(self):
        super().__init__(-1.0)

    def __repr__(self):
        return "InversePower()"


class InverseSquared(Power):
    """eta = 1 / mu**2, the canonical link of the inverse Gaussian family."""

    name = "1/mu^2"

    def __init__(self):
        super().__init__(-2.0)

    def __repr__(self):
        return "InverseSquared()"


class Sqrt(Power):
    """eta = sqrt(mu)."""

    name = "sqrt"

    def __init__(self):
        super().__init__(0.5)

    def __repr__(self):
        return "Sqrt()"


class NegativeBinomial(Link):
    """eta = log(alpha mu / (1 + alpha mu)), the canonical negative binomial link.

    Parameters
    ----------
    alpha : float > 0, the negative binomial ancillary parameter (variance mu + alpha mu^2).
    """

    name = "nbinom"

    def __init__(self, alpha: float = 1.0):
        if not alpha > 0:
            raise ValueError(f"NegativeBinomial link needs alpha > 0, got {alpha!r}.")
        self.alpha = float(alpha)

    def __call__(self, mu):
        am = self.alpha * mu
        return np.log(am / (1.0 + am))

    def inverse(self, eta):
        # eta < 0 always; mu = 1 / (alpha (exp(-eta) - 1))
        return 1.0 / (self.alpha * np.expm1(-np.minimum(eta, -EPS)))

    def deriv(self, mu):
        return 1.0 / (mu + self.alpha * mu**2)

    def deriv2(self, mu):
        return -(1.0 + 2.0 * self.alpha * mu) / (mu + self.alpha * mu**2) ** 2

    def inverse_deriv(self, eta):
        t = np.expm1(np.minimum(eta, -EPS))
        return np.exp(eta) / (self.alpha * t**2)

    def inverse_deriv2(self, eta):
        e = np.exp(eta)
        t = np.expm1(np.minimum(eta, -EPS))
        return e * (e + 1.0) / (self.alpha * -(t**3))

    def valid_eta(self, eta):
        return bool(np.all(np.isfinite(eta)) and np.all(eta < 0))

    def __repr__(self):
        return f"NegativeBinomial(alpha={self.alpha:g})"


# statsmodels' lowercase aliases: classes with the old names, so isinstance checks and
# `links.log()` both work.
class log(Log):  # noqa: N801
    pass


class logit(Logit):  # noqa: N801
    pass


class identity(Identity):  # noqa: N801
    pass


class probit(Probit):  # noqa: N801
    pass


class cauchy(Cauchy):  # noqa: N801
    pass


class cloglog(CLogLog):  # noqa: N801
    pass


class loglog(LogLog):  # noqa: N801
    pass


class logc(LogC):  # noqa: N801
    pass


class inverse_power(InversePower):  # noqa: N801
    pass


class inverse_squared(InverseSquared):  # noqa: N801
    pass


class sqrt(Sqrt):  # noqa: N801
    pass


class nbinom(NegativeBinomial):  # noqa: N801
    pass
