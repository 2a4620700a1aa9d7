"""Influence measures of a fitted GLM, as R's influence.measures computes them for glm.

With IRLS weights w (per row, frequency weights counting as repeated rows), bread
B = (X'WX)^{-1}, deviance residuals e and Pearson residuals r:

- hat values h_i = w_i x_i' B x_i (never an n x n matrix: row blocks);
- leave-one-out sigma_i = sqrt((sum e^2 - e_i^2 / (1 - h_i)) / (n - p - 1));
- rstandard: e_i / sqrt(phi (1 - h_i)) (deviance) or r_i / sqrt(phi (1 - h_i)) (Pearson);
- rstudent: sign(e_i) sqrt(e_i^2 + h_i r_i^2 / (1 - h_i)), divided by sigma_i unless the
  family is binomial or Poisson;
- Cook's distance: (r_i / (1 - h_i))^2 h_i / (phi p);
- dfbeta_i = B x_i sqrt(w_i) e_i / (1 - h_i); dfbetas divides by sigma_i sqrt(diag B);
- dffits_i = e_i sqrt(h_i) / (sigma_i (1 - h_i));
- covratio_i = 1 / ((1 - h_i) ((n - p - 1 + e*_i^2) / (n - p))^p), e* = e / (sigma sqrt(1 - h)).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .families import Binomial, Poisson
from .inference import hat_values


class GLMInfluence:
    """Influence and outlier measures; each computed on first use. Memory is linear in n."""

    def __init__(self, results):
        self.results = results
        p = results.model.problem
        self._fw = p.freq_weights
        self._good = p.prior_weights > 0
        self.k_vars = results.rank
        self.nobs = results.nobs

    def _rows(self, a):
        return self.results._rows_like(a)

    @cached_property
    def _hat(self) -> np.ndarray:
        return hat_values(self.results)

    @property
    def hat_matrix_diag(self):
        return self._rows(self._hat.copy())

    @cached_property
    def _dev_res(self) -> np.ndarray:
        return np.asarray(self.results.resid_deviance, dtype=float)

    @cached_property
    def _pear_res(self) -> np.ndarray:
        return np.asarray(self.results.resid_pearson, dtype=float)

    @cached_property
    def _n(self) -> float:
        return float(np.sum(self._fw[self._good]))

    @cached_property
    def _sigma(self) -> np.ndarray:
        e, h = self._dev_res, self._hat
        total = float(np.sum(self._fw * e**2))
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = (total - e**2 / (1.0 - h)) / (self._n - self.k_vars - 1.0)
        return np.sqrt(np.maximum(s2, 0.0))

    @property
    def sigma(self):
        """Leave-one-out residual scale (R's influence()$sigma)."""
        return self._rows(self._sigma.copy())

    def _standardized(self, r):
        with np.errstate(divide="ignore", invalid="ignore"):
            return r / np.sqrt(self.results.scale * (1.0 - self._hat))

    @property
    def resid_standardized_deviance(self):
        """R's rstandard(type='deviance')."""
        return self._rows(self._standardized(self._dev_res))

    @property
    def resid_standardized_pearson(self):
        """R's rstandard(type='pearson')."""
        return self._rows(self._standardized(self._pear_res))

    @property
    def resid_studentized(self):
        """R's rstudent for glm."""
        e, r, h = self._dev_res, self._pear_res, self._hat
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sign(e) * np.sqrt(e**2 + h * r**2 / (1.0 - h))
            if not isinstance(self.results.family, (Binomial, Poisson)):
                out = out / self._sigma
        return self._rows(out)

    @property
    def cooks_distance(self):
        """(Cook's distance, None), statsmodels' shape; values as R's cooks.distance."""
        r, h = self._pear_res, self._hat
        with np.errstate(divide="ignore", invalid="ignore"):
            d = (r / (1.0 - h)) ** 2 * h / (self.results.scale * self.k_vars)
        return self._rows(d), None

    @cached_property
    def _bread(self) -> np.ndarray:
        keep = self.results._keep
        return self.results._normalized_cov[np.ix_(keep, keep)]

    @property
    def dfbeta(self):
        """Change in each coefficient when row i is dropped (R's dfbeta for glm), n x k."""
        res = self.results
        keep = res._keep
        X = res.model.problem.X.to_dense()[:, keep]
        w = np.divide(np.asarray(res._result.working_weights), self._fw,
                      out=np.zeros_like(self._fw), where=self._fw > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(self._hat >= 1.0, 0.0, np.sqrt(w) * self._dev_res / (1.0 - self._hat))
        out = np.full((X.shape[0], len(keep)), np.nan)
        out[:, keep] = (X @ self._bread) * f[:, None]
        return self._frame(out)

    @property
    def dfbetas(self):
        """dfbeta scaled by sigma_i sqrt(diag (X'WX)^{-1}) (R's dfbetas), n x k."""
        db = np.asarray(self.dfbeta, dtype=float)
        keep = self.results._keep
        sd = np.full(len(keep), np.nan)
        sd[keep] = np.sqrt(np.diag(self._bread))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._frame(db / np.outer(self._sigma, sd))

    @property
    def dffits(self):
        """(dffits, threshold 2 sqrt(p / n)) as statsmodels; values as R's dffits."""
        e, h = self._dev_res, self._hat
        with np.errstate(divide="ignore", invalid="ignore"):
            d = e * np.sqrt(h) / (self._sigma * (1.0 - h))
        return self._rows(d), 2.0 * np.sqrt(self.k_vars / self._n)

    @property
    def cov_ratio(self):
        """R's covratio."""
        e, h, s = self._dev_res, self._hat, self._sigma
        n, p = self._n, self.k_vars
        with np.errstate(divide="ignore", invalid="ignore"):
            estar = e / (s * np.sqrt(1.0 - h))
            out = 1.0 / ((1.0 - h) * (((n - p - 1.0) + estar**2) / (n - p)) ** p)
        return self._rows(out)

    def _frame(self, a):
        d = self.results.model.data
        if d.is_pandas:
            index = d.row_labels if d.row_labels is not None else pd.RangeIndex(a.shape[0])
            return pd.DataFrame(a, index=index, columns=self.results.model.exog_names)
        return a

    def summary_frame(self) -> pd.DataFrame:
        """One row per observation: dfb_<name>, cooks_d, standard_resid, hat_diag, dffits."""
        db = np.asarray(self.dfbetas, dtype=float)
        cols = {f"dfb_{n}": db[:, i] for i, n in enumerate(self.results.model.exog_names)}
        cols.update({
            "cooks_d": np.asarray(self.cooks_distance[0]),
            "standard_resid": np.asarray(self.resid_standardized_pearson),
            "hat_diag": self._hat,
            "dffits": np.asarray(self.dffits[0]),
            "cov_ratio": np.asarray(self.cov_ratio),
        })
        d = self.results.model.data
        index = d.row_labels if d.row_labels is not None else None
        return pd.DataFrame(cols, index=index)
