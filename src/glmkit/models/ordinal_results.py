"""Results of an ordinal regression (``polr`` and ``OrderedModel.fit()``).

Conventions
-----------
- ``polr``: ``params`` = (coefficients, zeta) Series, ``coefficients`` and ``zeta`` as R's
  ``coef(fit)`` and ``fit$zeta``; ``cov_params()`` as R's ``vcov(fit)``.
- ``OrderedModel``: statsmodels' parameters (coefficients, first threshold, log
  increments), arrays for array inputs and Series for pandas inputs; ``thresholds`` gives
  the thresholds themselves for both.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ._cdfs import interval_prob
from ._frame import design_for
from ._results import FitStats, LikelihoodResultsMixin

Which = Literal["prob", "linear", "linpred", "cumprob", "cum"]


class OrderedResults(LikelihoodResultsMixin):
    """Immutable results of a cumulative link model."""

    _file_kind = "ordinal"   # the model file's kind (models/persist.py)

    def __init__(self, model, fit: FitStats, theta: np.ndarray, r_style: bool):
        self.model = model
        self._fit = fit
        self._theta = theta.copy()       # (beta, zeta)
        self._r_style = r_style
        self._p = model.inputs.X.shape[1]
        self._labelled = r_style or model.inputs.pandas
        self.levels = list(model.inputs.levels)

    def _row_scores(self) -> np.ndarray:
        """Per-row scores in (beta, zeta), mapped to statsmodels' parameters if needed."""
        from .ordinal_terms import _row_terms, to_statsmodels
        inp, m = self.model.inputs, len(self.levels) - 1
        _, ga, gb, *_ = _row_terms(self._theta, inp.X, inp.codes, self.model.offset,
                                   len(self.levels), self.model.dist)
        n, c = inp.X.shape[0], inp.codes
        S = np.zeros((n, self._p + m))
        S[:, :self._p] = -inp.X * (ga - gb)[:, None]
        up, lo = np.nonzero(c < m)[0], np.nonzero(c > 0)[0]
        S[up, self._p + c[up]] += ga[up]
        S[lo, self._p + c[lo] - 1] -= gb[lo]
        if self._r_style:
            return S
        J = to_statsmodels(self._theta, self._p)[1]
        return S @ np.linalg.inv(J)

    def _vec(self, v: np.ndarray):
        return pd.Series(v, index=self._fit.names) if self._labelled else v.copy()

    @property
    def params(self):
        return self._vec(self._fit.params)

    @property
    def bse(self):
        return self._vec(self._fit.bse)

    @property
    def tvalues(self):
        return self._vec(self._fit.zvalues())

    @property
    def pvalues(self):
        return self._vec(self._fit.pvalues())

    @property
    def coefficients(self) -> pd.Series:
        """R's ``coef(polr)``: the slopes."""
        return pd.Series(self._theta[:self._p], index=self.model.inputs.exog_names)

    @property
    def zeta(self) -> pd.Series:
        """The thresholds zeta_k of P(Y <= k) = F(zeta_k - eta), named ``"a|b"``."""
        names = [f"{a}|{b}" for a, b in zip(self.levels[:-1], self.levels[1:])]
        return pd.Series(self._theta[self._p:], index=names)

    @property
    def thresholds(self) -> np.ndarray:
        return self._theta[self._p:].copy()

    def cov_params(self):
        if not self._labelled:
            return self._fit.cov.copy()
        return pd.DataFrame(self._fit.cov, index=self._fit.names, columns=self._fit.names)

    def conf_int(self, alpha: float = 0.05):
        ci = self._fit.conf_int(alpha)
        if not self._labelled:
            return ci
        return pd.DataFrame(ci, index=self._fit.names, columns=[0, 1])

    # ---------------------------------------------------------------- predict
    def _design(self, exog: Any) -> tuple[np.ndarray, np.ndarray | None]:
        if exog is None:
            if getattr(self, "_data_removed", False):
                from .remove_data import REMOVED

                raise ValueError(REMOVED)
            return self.model.exog, self.model.offset
        info = self.model.inputs.formula_info
        if info is not None and not isinstance(exog, np.ndarray):
            X, off = design_for(info, exog)
            keep = [j for j, nm in enumerate(info.exog_names) if nm != "Intercept"]
            return X[:, keep], off
        X = np.asarray(exog, dtype=float)
        X = X[None, :] if X.ndim == 1 else X
        if X.shape[1] != self._p:
            raise ValueError(f"exog has {X.shape[1]} columns; the model has {self._p}.")
        return X, None

    def predict(self, exog: Any = None, offset: Any = None, which: Which = "prob"):
        """Probabilities of each category (``'prob'``; rows sum to one), cumulative
        probabilities P(Y <= k) (``'cumprob'``, or statsmodels' other spelling ``'cum'``)
        or the linear predictor eta (``'linear'``, statsmodels' ``'linpred'``) for new
        data."""
        if which not in ("prob", "linear", "linpred", "cumprob", "cum"):
            raise ValueError(f"which must be 'prob', 'linear', 'linpred', 'cumprob' or 'cum', "
                             f"got {which!r}.")
        X, off = self._design(exog)
        eta = X @ self._theta[:self._p]
        if offset is not None:
            off = np.asarray(offset, dtype=float).ravel()
        if off is not None:
            eta = eta + off
        if which in ("linear", "linpred"):
            return pd.Series(eta, index=getattr(exog, "index", None)) if self._labelled \
                else eta
        cuts = np.concatenate([[-np.inf], self._theta[self._p:], [np.inf]])
        upper = cuts[None, 1:] - eta[:, None]
        lower = cuts[None, :-1] - eta[:, None]
        if which in ("cumprob", "cum"):
            out = self.model.dist.cdf(upper)
        else:
            out = interval_prob(self.model.dist, upper, lower)
        if not self._labelled:
            return out
        return pd.DataFrame(out, columns=self.levels, index=getattr(exog, "index", None))

    @property
    def fittedvalues(self):
        """Fitted probabilities of the training rows (R's ``fitted(polr)``)."""
        return self.predict()

    def summary(self, alpha: float = 0.05):
        """statsmodels' Summary object: a header, the coefficients, the thresholds."""
        k = self._fit.k_params
        notes = [] if self._r_style else ["thresholds: the first, then the logs of the "
                                          + "increments"]
        notes.append(f"link: {self.model.method}")
        return self._summary("MLE (Newton)",
                             [("coefficients", 0, self._p, None),
                              ("thresholds", self._p, k, None)], alpha, notes)

    def __repr__(self) -> str:
        return (f"<OrderedResults: {len(self.levels)} categories, {self._p} coefficients, "
                f"llf={self.llf:.6g}, converged={self.converged}>")
