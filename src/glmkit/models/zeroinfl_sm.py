"""statsmodels' zero-inflated count models on glmkit's engine:
``ZeroInflatedPoisson(endog, exog, exog_infl, offset, exposure, inflation)`` and
``ZeroInflatedNegativeBinomialP(..., p=2)``.

Conventions
-----------
- Parameters in statsmodels' order: the inflation part (``inflate_<name>``), then the
  count part, then ``alpha`` = 1 / theta for the negative binomial (NB2, p = 2 only).
- Without ``exog_infl`` the inflation part is a constant (statsmodels').
- ``cov_params()`` is the inverse observed information at the certified maximum (alpha's
  rows by the delta method from log theta); statsmodels' numerical Hessian agrees to ~1e-6.
- ``aic`` = -2 llf + 2 k and ``bic`` = -2 llf + log(nobs) k, k all parameters (alpha included).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._countdist import count_log_pmf, zero_terms
from ._countframe import CountInputs, from_arrays
from ._frame import check_fit_keywords
from .zeroinfl import fit_zeroinfl
from .zeroinfl_results import CountModelResults

__all__ = ["ZeroInflatedNegativeBinomialP", "ZeroInflatedPoisson", "ZeroInflatedResults"]


class _ZeroInflated:
    _dist = "poisson"

    def __init__(self, endog: Any, exog: Any, exog_infl: Any = None, offset: Any = None,
                 exposure: Any = None, inflation: str = "logit", missing: str = "none"):
        if inflation not in ("logit", "probit"):
            raise ValueError(f"inflation must be 'logit' or 'probit', got {inflation!r}.")
        if missing != "none":
            raise ValueError("only missing='none' is supported: drop incomplete rows first.")
        self.inputs: CountInputs = from_arrays(endog, exog, exog_infl, offset, exposure)
        #: statsmodels' attributes: the offset as given, log(exposure)
        self.offset = None if offset is None else np.asarray(offset, dtype=float).ravel()
        self.exposure = None if exposure is None else \
            np.log(np.asarray(exposure, dtype=float).ravel())
        self.inflation = inflation
        self._pandas = isinstance(exog, pd.DataFrame)
        self.k_inflate = self.inputs.Z.shape[1]
        self.k_exog = self.inputs.X.shape[1]
        self.exog_names = ([f"inflate_{n}" for n in self.inputs.z_names] + self.inputs.x_names
                           + (["alpha"] if self._dist == "negbin" else []))

    @property
    def endog(self) -> np.ndarray:
        return self.inputs.y

    @property
    def exog(self) -> np.ndarray:
        return self.inputs.X

    @property
    def exog_infl(self) -> np.ndarray:
        return self.inputs.Z

    def _to_internal(self, params: Any) -> np.ndarray:
        p = np.asarray(params, dtype=float)
        kz, kx = self.k_inflate, self.k_exog
        extra = [-np.log(p[-1])] if self._dist == "negbin" else []
        return np.concatenate([p[kz:kz + kx], p[:kz], extra])

    def fit(self, start_params: Any = None, method: str = "newton", maxiter: int = 200,
            disp: Any = None, tol: float = 1e-8, **kwargs: Any) -> ZeroInflatedResults:
        """Maximum likelihood by Newton's method (statsmodels' optimizer keywords are
        accepted; every method gives this maximum)."""
        if check_fit_keywords(method, dict(kwargs)) != "nonrobust":
            raise NotImplementedError("cov_type='HC0' is not available for the statsmodels "
                                      "zero-inflated classes; use glmkit.zeroinfl(...)"
                                      ".get_robustcov_results('HC0') (sandwich's).")
        start = None if start_params is None else self._to_internal(start_params)
        fit = fit_zeroinfl(self.inputs, self._dist, self.inflation, maxiter, tol, start)
        return ZeroInflatedResults(self, CountModelResults(self.inputs, fit))


class ZeroInflatedPoisson(_ZeroInflated):
    """statsmodels' ``ZeroInflatedPoisson``."""
    _dist = "poisson"


class ZeroInflatedNegativeBinomialP(_ZeroInflated):
    """statsmodels' ``ZeroInflatedNegativeBinomialP`` with p = 2 (NB2, pscl's negbin)."""
    _dist = "negbin"

    def __init__(self, endog: Any, exog: Any, exog_infl: Any = None, offset: Any = None,
                 exposure: Any = None, inflation: str = "logit", p: float = 2,
                 missing: str = "none"):
        if p != 2:
            raise NotImplementedError("only p=2 (NB2: variance mu + alpha mu^2) is available.")
        super().__init__(endog, exog, exog_infl, offset, exposure, inflation, missing)


class ZeroInflatedResults:
    """statsmodels-shaped results of the zero-inflated classes."""

    def __init__(self, model: _ZeroInflated, r: CountModelResults):
        self.model = model
        self.r_results = r           # pscl-shaped view of the same fit
        f = r._fit
        kx, kz = len(f.beta), len(f.gamma)
        k = kx + kz + f.log_theta.size
        J = np.eye(k)[list(range(kx, kx + kz)) + list(range(kx)) + list(range(kx + kz, k))]
        params = np.concatenate([f.gamma, f.beta])
        if f.log_theta.size:
            alpha = float(np.exp(-f.log_theta[0]))
            params = np.concatenate([params, [alpha]])
            J[-1, -1] = -alpha
        self._params = params
        self._cov = J @ f.cov @ J.T

    def _vec(self, v: np.ndarray):
        return pd.Series(v, index=self.model.exog_names) if self.model._pandas else v.copy()

    @property
    def params(self):
        return self._vec(self._params)

    @property
    def bse(self):
        return self._vec(np.sqrt(np.clip(np.diag(self._cov), 0, None)))

    @property
    def tvalues(self):
        return self._vec(self._params / np.sqrt(np.diag(self._cov)))

    @property
    def pvalues(self):
        z = self._params / np.sqrt(np.diag(self._cov))
        return self._vec(2 * stats.norm.sf(np.abs(z)))

    def cov_params(self):
        if not self.model._pandas:
            return self._cov.copy()
        names = self.model.exog_names
        return pd.DataFrame(self._cov, index=names, columns=names)

    def conf_int(self, alpha: float = 0.05):
        q = stats.norm.ppf(1 - alpha / 2)
        se = np.sqrt(np.diag(self._cov))
        ci = np.column_stack([self._params - q * se, self._params + q * se])
        return pd.DataFrame(ci, index=self.model.exog_names) if self.model._pandas else ci

    llf = property(lambda self: self.r_results.llf)
    converged = property(lambda self: self.r_results.converged)
    nobs = property(lambda self: float(self.r_results.nobs))
    aic = property(lambda self: self.r_results.aic)
    bic = property(lambda self: self.r_results.bic)
    df_model = property(lambda self: float(self.model.k_exog - 1))
    df_resid = property(lambda self: float(self.r_results.nobs - self.r_results.df))

    def loglike_obs(self) -> np.ndarray:
        return self.r_results.loglike_obs()

    def predict(self, exog: Any = None, exog_infl: Any = None, exposure: Any = None,
                offset: Any = None, which: str = "mean", y_values: Any = None):
        """statsmodels' ``predict``: ``which`` = 'mean', 'linear', 'mean-main',
        'prob-main', 'prob-zero', 'mean-nonzero', 'var' or 'prob' (at ``y_values``)."""
        inp, f = self.model.inputs, self.r_results._fit
        off: Any
        if exog is None:
            X, Z, off = inp.X, inp.Z, inp.x_offset
            off = 0.0 if off is None else off
        else:
            X = np.atleast_2d(np.asarray(exog, dtype=float))
            Z = np.ones((X.shape[0], 1)) if exog_infl is None else \
                np.asarray(exog_infl, dtype=float).reshape(X.shape[0], -1)
            off = 0.0
        if exog is None and (exposure is not None or offset is not None):
            off = 0.0
        if exposure is not None:
            off = off + np.log(np.asarray(exposure, dtype=float))
        if offset is not None:
            off = off + np.asarray(offset, dtype=float)
        eta = X @ f.beta + off
        mu = np.exp(eta)
        zt = zero_terms(f.link, Z @ f.gamma)
        keep = np.exp(zt.log1m)
        th = None if not f.log_theta.size else float(np.exp(f.log_theta[0]))
        p0 = zt.pi + keep * np.exp(count_log_pmf(f.dist, np.zeros_like(mu), mu, th))
        out = {"linear": lambda: eta, "mean-main": lambda: mu, "prob-main": lambda: keep,
               "mean": lambda: keep * mu, "prob-zero": lambda: p0,
               "mean-nonzero": lambda: keep * mu / (1 - p0),
               "var": lambda: keep * mu * (1 + mu * (zt.pi + (0 if th is None else 1 / th)))}
        if which == "prob":
            ks = np.arange(int(inp.y.max()) + 1) if y_values is None else \
                np.asarray(y_values, dtype=float).ravel()
            P = np.column_stack([keep * np.exp(count_log_pmf(f.dist, np.full(mu.shape, k), mu,
                                                             th)) for k in ks])
            P[:, ks == 0] += zt.pi[:, None]
            return P
        if which not in out:
            raise ValueError(f"which must be one of {sorted(out) + ['prob']}, got {which!r}.")
        return out[which]()

    def summary(self) -> str:
        return self.r_results.summary()

