"""Statistics shared by the likelihood models of this package: flat parameters, their
covariance, Wald statistics, information criteria, LR tests and summary text.

Conventions
-----------
- ``nobs`` is the total frequency weight (the number of rows when unweighted), so a weight
  k equals k repeated rows everywhere, BIC included.
- ``deviance`` is -2 llf (R's ``deviance`` of ``multinom`` and ``polr``); ``aic`` is
  -2 llf + 2 k and ``bic`` -2 llf + log(nobs) k with k the number of parameters.
- Tests and intervals are Wald's with the normal distribution (z), as R and statsmodels.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class FitStats:
    """What every fit of this package records (flat parameter vector)."""
    params: np.ndarray
    names: list[str]
    cov: np.ndarray
    llf: float
    llnull: float
    nobs: float
    k_null: int             # parameters of the null model (intercepts / thresholds)
    converged: bool
    n_iter: int
    criterion: float        # sqrt(delta' H delta) of the last Newton step
    model_name: str
    endog_name: str
    cov_type: str = "nonrobust"

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    @property
    def k_params(self) -> int:
        return int(self.params.shape[0])

    def zvalues(self) -> np.ndarray:
        return self.params / self.bse

    def pvalues(self) -> np.ndarray:
        return 2.0 * stats.norm.sf(np.abs(self.zvalues()))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
        q = stats.norm.ppf(1.0 - alpha / 2.0)
        return np.column_stack([self.params - q * self.bse, self.params + q * self.bse])

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        ci = self.conf_int(alpha)
        return pd.DataFrame({"coef": self.params, "std err": self.bse, "z": self.zvalues(),
                             "P>|z|": self.pvalues(), f"[{alpha / 2:g}": ci[:, 0],
                             f"{1 - alpha / 2:g}]": ci[:, 1]}, index=self.names)


class LikelihoodResultsMixin:
    """Scalar statistics from ``self._fit`` (a :class:`FitStats`)."""

    _fit: FitStats
    model: Any

    def _row_scores(self) -> np.ndarray:
        """(n, k) unweighted per-row scores in the order of ``_fit.params``."""
        raise NotImplementedError

    @property
    def cov_type(self) -> str:
        return self._fit.cov_type

    def save(self, path, remove_data: bool = False) -> None:
        """Save the fit to ``path``; ``glmkit.load(path)`` reads it back (a zip of JSON
        and .npy arrays, no pickle). ``remove_data=True`` leaves out the training rows:
        predictions on new data still work."""
        from .persist import save_model_results

        save_model_results(self, path, remove_data)

    def remove_data(self) -> None:
        """statsmodels' ``remove_data``: drop the training rows in place; statistics,
        tests, ``summary()`` and predictions on new data stay
        (:mod:`glmkit.models.remove_data`)."""
        from .remove_data import remove_data

        remove_data(self)

    def get_robustcov_results(self, cov_type: str = "HC0", cov_kwds: dict | None = None,
                              **kwds: Any):
        """A new results object with a sandwich covariance (statsmodels' name):
        ``'HC0'`` (R's ``sandwich::sandwich``), ``'HC1'`` (``sandwich(fit, adjust =
        TRUE)``) or ``'cluster'`` with ``groups=labels`` (R's ``vcovCL``; see
        :mod:`glmkit.models.robust` for the corrections). The bread is the inverse observed
        information; frequency weights count as repeated rows."""
        from .robust import check_robust, robust_cov

        kwds = {**(cov_kwds or {}), **kwds}
        if getattr(self, "_data_removed", False) and cov_type != "nonrobust":
            from .remove_data import REMOVED

            raise ValueError(REMOVED)
        name, kw = check_robust(cov_type, kwds, self.model.inputs.X.shape[0])
        if name == "nonrobust":
            return getattr(self, "_base", self)
        base = getattr(self, "_base", self)
        new = copy.copy(base)
        w = self.model.inputs.weights
        new._fit = replace(base._fit, cov=robust_cov(base._fit.cov, base._row_scores(), w,
                                                     name, kw), cov_type=name)
        new._base = base  # type: ignore[union-attr]
        return new

    @property
    def llf(self) -> float:
        return self._fit.llf

    @property
    def llnull(self) -> float:
        return self._fit.llnull

    @property
    def nobs(self) -> float:
        return self._fit.nobs

    @property
    def converged(self) -> bool:
        return self._fit.converged

    @property
    def n_iter(self) -> int:
        return self._fit.n_iter

    @property
    def df_model(self) -> float:
        return float(self._fit.k_params - self._fit.k_null)

    @property
    def df_resid(self) -> float:
        return float(self._fit.nobs - self._fit.k_params)

    @property
    def deviance(self) -> float:
        return -2.0 * self._fit.llf

    @property
    def aic(self) -> float:
        return -2.0 * self._fit.llf + 2.0 * self._fit.k_params

    @property
    def bic(self) -> float:
        return -2.0 * self._fit.llf + np.log(self._fit.nobs) * self._fit.k_params

    @property
    def llr(self) -> float:
        return 2.0 * (self._fit.llf - self._fit.llnull)

    @property
    def llr_pvalue(self) -> float:
        return float(stats.chi2.sf(self.llr, self.df_model))

    @property
    def prsquared(self) -> float:
        return 1.0 - self._fit.llf / self._fit.llnull

    def compare_lr_test(self, restricted) -> tuple[float, float, float]:
        """LR test of ``restricted`` (a nested fit of the same rows) against this fit:
        (statistic, p-value, df), as statsmodels' ``compare_lr_test``."""
        if type(restricted) is not type(self):
            raise TypeError("the LR test needs two fits of the same kind of model.")
        if restricted.nobs != self.nobs:
            raise ValueError(f"the fits have different numbers of observations "
                             f"({restricted.nobs} and {self.nobs}).")
        df = self._fit.k_params - restricted._fit.k_params
        if df <= 0:
            raise ValueError("the restricted model must have fewer parameters.")
        lr = 2.0 * (self.llf - restricted.llf)
        return float(lr), float(stats.chi2.sf(lr, df)), float(df)

    def lr_test(self, restricted) -> pd.Series:
        """The LR test as R's ``anova(small, big)``: statistic, df and p-value."""
        lr, p, df = self.compare_lr_test(restricted)
        return pd.Series({"LR stat.": lr, "Df": df, "Pr(Chi)": p})

    @property
    def _results(self):
        """statsmodels' scripts reach the results through ``res._results``: the same
        object here (no wrapper)."""
        return self

    def _contrast_view(self):
        from types import SimpleNamespace

        f = self._fit
        return SimpleNamespace(model=SimpleNamespace(exog_names=list(f.names)),
                               _params=f.params, _cov=f.cov,
                               _keep=np.ones(f.k_params, dtype=bool), use_t=False,
                               df_resid=self.df_resid)

    def t_test(self, r_matrix):
        """One Wald z test per row of R b = q over the flat coefficients (the order of
        ``cov_params``; a matrix, (R, q), or ``"name = 0, ..."`` with those names), as
        statsmodels' ``t_test`` of its discrete models (normal reference)."""
        from ..inference import t_test

        return t_test(self._contrast_view(), r_matrix)

    def wald_test(self, r_matrix, use_f: bool = False, scalar: bool = True):
        """Joint Wald test of R b = q (chi2; F = chi2 / J on df_resid with ``use_f``)."""
        from ..inference import wald_test

        return wald_test(self._contrast_view(), r_matrix, use_f=use_f, scalar=scalar)

    def f_test(self, r_matrix):
        return self.wald_test(r_matrix, use_f=True)

    def _endog_label(self) -> str:
        return self._fit.endog_name

    def _summary(self, method: str, blocks, alpha: float, notes=()):
        """statsmodels' Summary object: the header, then the coefficient ``blocks``
        (title, first row, last row) of ``FitStats.table``."""
        from .model_summary import CoefBlock, ModelSummary, header_pairs

        tab = self._fit.table(alpha)
        left, right = header_pairs(self, method, self._fit.model_name)
        parts = []
        for title, start, stop, names in blocks:
            t = tab.iloc[start:stop].copy()
            if names is not None:
                t.index = list(names)
            parts.append(CoefBlock(title, t))
        return ModelSummary(f"{self._fit.model_name} Regression Results", left, right, parts,
                            alpha, notes)


def format_table(table: pd.DataFrame, title: str = "") -> str:
    """A coefficient table as text: the first column gives the names (or ``title``)."""
    width = max([len(title)] + [len(str(i)) for i in table.index] + [8])
    head = f"{title:<{width}}" + "".join(f"{c:>11}" for c in table.columns)
    rows = [head, "-" * len(head)]
    for name, r in table.iterrows():
        cells = []
        for c, v in zip(table.columns, r.to_numpy()):
            cells.append(f"{v:>11.3f}" if c == "P>|z|" else f"{v:>11.4g}")
        rows.append(f"{name!s:<{width}}" + "".join(cells))
    return "\n".join(rows)
