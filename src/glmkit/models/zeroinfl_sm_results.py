"""statsmodels-shaped results of ``ZeroInflatedPoisson`` and
``ZeroInflatedNegativeBinomialP`` (see :mod:`glmkit.models.zeroinfl_sm` for the
conventions): statsmodels' parameter order and names, tests, null model, Summary."""
from __future__ import annotations

from functools import cached_property
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._countdist import count_log_pmf, zero_terms
from .zeroinfl_results import CountModelResults


class ZeroInflatedResults:
    """statsmodels-shaped results of the zero-inflated classes."""

    def __init__(self, model, r: CountModelResults, cov: np.ndarray | None = None,
                 cov_type: str = "nonrobust"):
        self.model = model
        self.r_results = r           # pscl-shaped view of the same fit
        f = r._fit
        params, J = model._from_internal(np.concatenate([f.beta, f.gamma, f.log_theta]))
        self._params = params
        self._J = J
        self._cov = J @ f.cov @ J.T if cov is None else cov
        self.cov_type = cov_type
        self.use_t = False

    @property
    def _results(self):
        """statsmodels' scripts reach the results through ``res._results``: the same
        object here (no wrapper)."""
        return self

    def remove_data(self) -> None:
        """statsmodels' ``remove_data``: drop the training rows in place (the null fit is
        made first); statistics, tests, ``summary()`` and predictions on new data stay
        (:mod:`glmkit.models.remove_data`)."""
        from .remove_data import remove_data

        remove_data(self)

    # ---------------------------------------------------------------- covariances
    def get_robustcov_results(self, cov_type: str = "HC0", cov_kwds: dict | None = None,
                              **kwds: Any) -> ZeroInflatedResults:
        """A new results object with a sandwich covariance over every parameter
        (alpha included): 'HC0', 'HC1' or 'cluster' (``groups=labels``), as
        :mod:`glmkit.models.robust`; 'nonrobust' gives the model-based one back."""
        from ._countkernels import zeroinfl_kernel
        from ._multieta import Block, row_scores
        from .robust import check_robust, robust_cov

        inp = self.model.inputs
        if getattr(self, "_data_removed", False) and cov_type != "nonrobust":
            from .remove_data import REMOVED

            raise ValueError(REMOVED)
        name, kw = check_robust(cov_type, {**(cov_kwds or {}), **kwds}, inp.n)
        if name == "nonrobust":
            return ZeroInflatedResults(self.model, self.r_results)
        f = self.r_results._fit
        blocks = [Block(inp.X, inp.x_offset), Block(inp.Z, inp.z_offset)] + \
            ([Block(None)] if f.count_theta else [])
        theta = np.concatenate([f.beta, f.gamma, f.log_theta])
        S = row_scores(theta, blocks, zeroinfl_kernel(inp.y, f.dist, f.link), inp.n)
        V = robust_cov(f.cov, S, inp.weights, name, kw)
        return ZeroInflatedResults(self.model, self.r_results, self._J @ V @ self._J.T, name)

    # ---------------------------------------------------------------- estimates
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
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
        q = stats.norm.ppf(1 - alpha / 2)
        se = np.sqrt(np.diag(self._cov))
        ci = np.column_stack([self._params - q * se, self._params + q * se])
        return pd.DataFrame(ci, index=self.model.exog_names) if self.model._pandas else ci

    # ---------------------------------------------------------------- tests
    def _contrast_view(self):
        k = self._params.shape[0]
        return SimpleNamespace(model=SimpleNamespace(exog_names=list(self.model.exog_names)),
                               _params=self._params, _cov=self._cov,
                               _keep=np.ones(k, dtype=bool), use_t=False,
                               df_resid=self.df_resid)

    def t_test(self, r_matrix):
        """One Wald z test per row of R b = q (a matrix, (R, q), or ``"x1 = 0, ..."`` by
        name), statsmodels' ``t_test`` (normal reference, as its discrete models)."""
        from ..inference import t_test

        return t_test(self._contrast_view(), r_matrix)

    def wald_test(self, r_matrix, use_f: bool = False, scalar: bool = True):
        """Joint Wald test of R b = q (chi2; F = chi2 / J on df_resid with ``use_f``)."""
        from ..inference import wald_test

        return wald_test(self._contrast_view(), r_matrix, use_f=use_f, scalar=scalar)

    def f_test(self, r_matrix):
        return self.wald_test(r_matrix, use_f=True)

    # ---------------------------------------------------------------- likelihood
    llf = property(lambda self: self.r_results.llf)
    converged = property(lambda self: self.r_results.converged)
    nobs = property(lambda self: float(self.r_results.nobs))
    aic = property(lambda self: self.r_results.aic)
    bic = property(lambda self: self.r_results.bic)
    df_model = property(lambda self: float(self.model.k_exog - 1))
    df_resid = property(lambda self: float(self.r_results.nobs - self.r_results.df))

    @cached_property
    def res_null(self) -> ZeroInflatedResults:
        """The fit with a constant in both parts (statsmodels' ``res_null``)."""
        return self.model._fit_null()

    @property
    def llnull(self) -> float:
        return float(self.res_null.llf)

    @property
    def llr(self) -> float:
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        """LR test against ``res_null`` on the number of parameters it drops (both parts;
        statsmodels uses ``df_model``, the count part's only)."""
        df = self._params.shape[0] - self.res_null._params.shape[0]
        return float(stats.chi2.sf(self.llr, df))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo R-squared, 1 - llf / llnull."""
        return 1.0 - self.llf / self.llnull

    def loglike_obs(self) -> np.ndarray:
        return self.r_results.loglike_obs()

    # ---------------------------------------------------------------- prediction
    def predict(self, exog: Any = None, exog_infl: Any = None, exposure: Any = None,
                offset: Any = None, which: str = "mean", y_values: Any = None):
        """statsmodels' ``predict``: ``which`` = 'mean', 'linear', 'mean-main',
        'prob-main', 'prob-zero', 'mean-nonzero', 'var' or 'prob' (at ``y_values``)."""
        inp, f = self.model.inputs, self.r_results._fit
        off: Any
        if exog is None:
            if getattr(self, "_data_removed", False):
                from .remove_data import REMOVED

                raise ValueError(REMOVED)
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

    # ---------------------------------------------------------------- summary
    def _endog_label(self) -> str:
        return self.model.inputs.endog_name

    def summary(self, alpha: float = 0.05):
        """statsmodels' Summary object (``tables``, ``as_text``, ``as_html``,
        ``as_latex``, ``as_csv``): the header, then the inflation and count parts."""
        from .model_summary import CoefBlock, ModelSummary, header_pairs

        ci = np.asarray(self.conf_int(alpha))
        se = np.sqrt(np.clip(np.diag(self._cov), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self._params / se
        tab = pd.DataFrame({"coef": self._params, "std err": se, "z": z,
                            "P>|z|": 2 * stats.norm.sf(np.abs(z)), "lo": ci[:, 0],
                            "hi": ci[:, 1]}, index=self.model.exog_names)
        name = type(self.model).__name__
        left, right = header_pairs(self, "MLE (Newton)", name)
        kz = self.model.k_inflate
        blocks = [CoefBlock(f"inflation ({self.model.inflation})", tab.iloc[:kz]),
                  CoefBlock("count", tab.iloc[kz:])]
        notes = [] if self.converged else ["The maximum is not certified (see the warning "
                                           + "of the fit)."]
        return ModelSummary(f"{name} Regression Results", left, right, blocks, alpha, notes)

    def __repr__(self) -> str:
        return (f"<ZeroInflatedResults: {type(self.model).__name__}, llf={self.llf:.6g}, "
                f"converged={self.converged}>")
