"""Results of an L1-penalized fit (statsmodels' ``L1...Results``): the penalized
coefficients, their KKT certificate, and statsmodels' covariance of the non-zero ones."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .l1 import L1Fit, wald_columns


class L1Results:
    """An L1-penalized fit of a multinomial logit or a zero-inflated model.

    Attributes
    ----------
    params : coefficients in the model's layout (exact zeros for the dropped ones).
    alpha : the per-coefficient penalty (flat, in the order of ``cov_params``).
    converged, kkt, n_iter : the KKT certificate (see :mod:`glmkit.models.l1`).
    trimmed : True where a coefficient is zero (statsmodels' ``mle_retvals['trimmed']``).
    nnz_params : number of non-zero coefficients.
    llf : log-likelihood at ``params`` (without the penalty).
    bse, tvalues, pvalues, cov_params() : statsmodels' covariance of an L1 fit, the inverse
        information of the non-zero coefficients (NaN for the zeros): inference that
        ignores the selection, as statsmodels'.
    """

    def __init__(self, model: Any, fit: L1Fit, params: np.ndarray, cov: np.ndarray,
                 alpha: np.ndarray, shape: Callable[[np.ndarray], Any],
                 cov_frame: Callable[[np.ndarray], Any],
                 ci_frame: Callable[[np.ndarray], Any] | None = None):
        self.model = model
        self._l1 = fit
        self._params = params
        self._cov = cov
        self.alpha = alpha
        self._shape = shape
        self._cov_frame = cov_frame
        self._ci_frame = ci_frame
        self.converged = bool(fit.converged)
        self.kkt = float(fit.kkt)
        self.n_iter = int(fit.n_iter)
        self.trimmed = params == 0
        self.nnz_params = int(np.count_nonzero(params))
        self.mle_retvals = {"converged": self.converged, "iterations": self.n_iter,
                            "trimmed": self.trimmed.copy(), "kkt": self.kkt,
                            "message": fit.message}

    @property
    def params(self):
        return self._shape(self._params)

    @property
    def bse(self):
        return self._shape(wald_columns(self._params, self._cov)[0])

    @property
    def tvalues(self):
        return self._shape(wald_columns(self._params, self._cov)[1])

    @property
    def pvalues(self):
        return self._shape(wald_columns(self._params, self._cov)[2])

    def cov_params(self):
        return self._cov_frame(self._cov.copy())

    @property
    def llf(self) -> float:
        return float(self._l1.llf)

    def conf_int(self, alpha: float = 0.05):
        """Wald intervals from ``bse`` (NaN for the zeros), laid out as the unpenalized
        results' ``conf_int``."""
        from scipy import stats

        q = stats.norm.ppf(1 - alpha / 2)
        se = wald_columns(self._params, self._cov)[0]
        ci = np.column_stack([self._params - q * se, self._params + q * se])
        return self._ci_frame(ci) if self._ci_frame is not None else ci

    @property
    def nobs(self) -> float:
        inp = self.model.inputs
        w = inp.weights
        n = inp.codes.shape[0] if hasattr(inp, "codes") else inp.n
        return float(n if w is None else w.sum())

    @property
    def df_model(self) -> float:
        """Non-zero coefficients minus one per equation (its constant), as statsmodels'
        L1 ``df_model``."""
        J = getattr(self.model, "J", 2)
        return float(self.nnz_params - (J - 1))

    @property
    def df_resid(self) -> float:
        return float(self.nobs - self.nnz_params)

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.nobs) * self.nnz_params

    @property
    def aic(self) -> float:
        """-2 llf + 2 (number of non-zero coefficients), statsmodels' L1 ``aic``."""
        return -2.0 * self.llf + 2.0 * self.nnz_params

    def __repr__(self) -> str:
        return (f"<L1Results: {self.nnz_params} of {self._params.size} coefficients "
                f"non-zero, llf={self.llf:.6g}, converged={self.converged}>")
