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
                 ci_frame: Callable[[np.ndarray], Any] | None = None,
                 names: list[str] | None = None):
        self.model = model
        self._names = list(names) if names is not None else \
            [f"x{i}" for i in range(params.shape[0])]
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

    # ------------------------------------------------------------------ tests
    def _restriction(self, r_matrix):
        """(R b - q, R V R') with statsmodels' L1 convention (``nan_dot``): a row of R
        that touches a zero coefficient has NaN variance, the others are exact."""
        from ..inference import parse_constraints

        R, q = parse_constraints(r_matrix, self._names)
        zero = self._params == 0
        V = np.where(np.isnan(self._cov), 0.0, self._cov)
        RVR = R @ V @ R.T
        bad = np.any(R[:, zero] != 0, axis=1)
        RVR[bad, :] = np.nan
        RVR[:, bad] = np.nan
        return R @ self._params - q, RVR

    def t_test(self, r_matrix):
        """One Wald z test per row of R b = q (a matrix over the flat coefficients in the
        order of ``cov_params``, (R, q), or ``"name = 0, ..."``); rows that involve a
        zero coefficient get NaN standard errors, as statsmodels' L1 results."""
        from scipy import stats

        from ..inference import ContrastResults

        d, RVR = self._restriction(r_matrix)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.diag(RVR))
            z = d / sd
        return ContrastResults(z, 2.0 * stats.norm.sf(np.abs(z)), None, None, "z",
                               effect=d, sd=sd)

    def wald_test(self, r_matrix, use_f: bool = False, scalar: bool = True):
        """Joint Wald test of R b = q (chi2, or F = chi2 / J on ``df_resid`` with
        ``use_f``); a ``ValueError`` when the hypothesis involves a zero coefficient
        (statsmodels: no asymptotic normal distribution there)."""
        from scipy import stats

        from ..inference import ContrastResults

        d, RVR = self._restriction(r_matrix)
        if np.isnan(RVR).any():
            raise ValueError("r_matrix performs f_test for using dimensions that are "
                             "asymptotically non-normal: the hypothesis involves "
                             "coefficients the L1 penalty set to zero (trimmed); test only "
                             "the non-zero ones.")
        J = int(RVR.shape[0])
        rank = int(np.linalg.matrix_rank(RVR))
        if rank < J:
            import warnings

            warnings.warn(f"covariance of constraints does not have full rank. The number "
                          f"of constraints is {J}, but rank is {rank}", UserWarning,
                          stacklevel=2)
            J = rank
        stat = float(d @ np.linalg.pinv(RVR) @ d)
        if use_f:
            F = stat / J
            return ContrastResults(F, float(stats.f.sf(F, J, self.df_resid)), J,
                                   self.df_resid, "F")
        return ContrastResults(stat, float(stats.chi2.sf(stat, J)), J, J, "chi2")

    def f_test(self, r_matrix):
        return self.wald_test(r_matrix, use_f=True)

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
