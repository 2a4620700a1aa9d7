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
- ``fit(cov_type='HC0'|'HC1'|'cluster', cov_kwds=)``: the sandwich over every parameter
  (alpha included, by the delta method from log theta); see :mod:`glmkit.models.robust`.
- ``fit_regularized``: statsmodels' L1 objective -loglike + sum alpha_j |b_j| over the
  inflation and count coefficients (alpha, the dispersion, is never penalized); see
  :mod:`glmkit.models.l1`.
- ``llnull``: the fit with a constant in both parts (statsmodels' ``res_null``);
  ``llr_pvalue`` counts the parameters the null model drops in both parts (statsmodels:
  ``df_model``, the count part's only).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._countframe import CountInputs, from_arrays
from ._frame import check_fit_keywords
from .zeroinfl import fit_zeroinfl
from .zeroinfl_results import CountModelResults
from .zeroinfl_sm_results import ZeroInflatedResults

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

    def _from_internal(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(statsmodels' params, Jacobian d params / d internal) of internal parameters
        (count, zero, log theta)."""
        kx, kz = self.k_exog, self.k_inflate
        k = theta.shape[0]
        J = np.eye(k)[list(range(kx, kx + kz)) + list(range(kx)) + list(range(kx + kz, k))]
        params = np.concatenate([theta[kx:kx + kz], theta[:kx]])
        if k > kx + kz:
            alpha = float(np.exp(-theta[-1]))
            params = np.concatenate([params, [alpha]])
            J[-1, -1] = -alpha
        return params, J

    def fit(self, start_params: Any = None, method: str = "newton", maxiter: int = 200,
            disp: Any = None, tol: float = 1e-8, **kwargs: Any) -> ZeroInflatedResults:
        """Maximum likelihood by Newton's method (statsmodels' optimizer keywords are
        accepted; every method gives this maximum). ``cov_type`` 'nonrobust' (default),
        'HC0', 'HC1' or 'cluster' with ``cov_kwds={'groups': labels}``."""
        cov_type, cov_kwds = check_fit_keywords(method, dict(kwargs))
        start = None if start_params is None else self._to_internal(start_params)
        fit = fit_zeroinfl(self.inputs, self._dist, self.inflation, maxiter, tol, start)
        res = ZeroInflatedResults(self, CountModelResults(self.inputs, fit))
        return res.get_robustcov_results(cov_type, cov_kwds)

    def _fit_null(self) -> ZeroInflatedResults:
        """The fit with a constant in both parts from pscl's first start only: when the
        inflation probability runs off to 0 (a count model without excess zeros) its
        llf is the supremum approached (to ~exp(gamma_0)), with a ConvergenceWarning."""
        from .zeroinfl import _zeroinfl_starts

        null = self._null_model()
        inp = null.inputs
        start = next(_zeroinfl_starts(inp, self._dist, self.inflation, 50, 1e-8,
                                      subsample=False))
        fit = fit_zeroinfl(inp, self._dist, self.inflation, 60, 1e-8, start)
        return ZeroInflatedResults(null, CountModelResults(inp, fit))

    def _null_model(self) -> _ZeroInflated:
        """The model with a constant in both parts, the same offset and exposure."""
        ones = np.ones((self.inputs.n, 1))
        null = type(self).__new__(type(self))
        null.__dict__.update(self.__dict__)
        null.inputs = CountInputs(self.inputs.y, ones, ["const"], ones, ["const"],
                                  self.inputs.x_offset, None, self.inputs.weights,
                                  self.inputs.endog_name)
        null._pandas = False
        null.k_inflate = null.k_exog = 1
        null.exog_names = ["inflate_const", "const"] + (["alpha"] if self._dist == "negbin"
                                                        else [])
        return null

    def fit_regularized(self, start_params: Any = None, method: str = "l1",
                        maxiter: Any = "defined_by_method", alpha: Any = 0,
                        tol: float = 1e-8, **kwargs: Any):
        """statsmodels' ``fit_regularized``: minimize -loglike + sum_j alpha_j |b_j| (a
        scalar alpha penalizes every inflation and count coefficient; an array holds one
        value per parameter in ``exog_names`` order, the dispersion's 0). Proximal Newton
        from the maximum-likelihood fit, certified by the KKT conditions (``converged``,
        ``kkt``); statsmodels' trimming keywords are accepted without effect."""
        from ._countkernels import zeroinfl_kernel
        from ._multieta import Block, evaluate
        from .l1 import IGNORED, check_alpha, check_l1_method, fit_l1, l1_covariance
        from .l1_results import L1Results

        check_l1_method(method)
        unknown = sorted(set(kwargs) - IGNORED)
        if unknown:
            raise TypeError(f"fit_regularized() got unexpected keyword argument(s) {unknown}.")
        nb = self._dist == "negbin"
        k_sm = self.k_inflate + self.k_exog
        a = check_alpha(alpha, k_sm) if np.ndim(alpha) == 0 or np.size(alpha) == k_sm \
            else check_alpha(alpha, k_sm + nb)
        if a.shape[0] > k_sm:
            if a[-1] != 0:
                raise ValueError("the dispersion alpha cannot be penalized: give 0 as its "
                                 "alpha.")
            a = a[:k_sm]
        kz = self.k_inflate
        a_int = np.concatenate([a[kz:], a[:kz], [0.0] if nb else []])
        if start_params is None:
            f = self.fit(maxiter=200).r_results._fit
            start = np.concatenate([f.beta, f.gamma, f.log_theta])
        else:
            start = self._to_internal(start_params)
        inp = self.inputs
        blocks = [Block(inp.X, inp.x_offset), Block(inp.Z, inp.z_offset)] + \
            ([Block(None)] if nb else [])
        kernel = zeroinfl_kernel(inp.y, self._dist, self.inflation)
        iters = 200 if maxiter == "defined_by_method" else int(maxiter)
        fit = fit_l1(lambda t: evaluate(t, blocks, kernel, self.inputs.n, self.inputs.weights),
                     start, a_int, iters, tol)
        params, J = self._from_internal(fit.params)
        cov = J @ l1_covariance(fit, fill=0.0) @ J.T
        cov[params == 0, :] = np.nan
        cov[:, params == 0] = np.nan
        names = self.exog_names

        def shape(v):
            return pd.Series(v, index=names) if self._pandas else v.copy()

        def frame(c):
            return pd.DataFrame(c, index=names, columns=names) if self._pandas else c

        def ci_frame(ci):
            return pd.DataFrame(ci, index=names) if self._pandas else ci

        return L1Results(self, fit, params, cov, np.concatenate([a, [0.0] if nb else []]),
                         shape, frame, ci_frame, names=list(names))


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


