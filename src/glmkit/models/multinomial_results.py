"""Results of a multinomial logit fit (``MNLogit.fit()`` and ``multinom``).

Conventions
-----------
- ``params``, ``bse``, ``tvalues``, ``pvalues``: (p x (K-1)). From ``MNLogit`` on arrays
  they are arrays, on pandas inputs DataFrames with columns 0..K-2 (statsmodels');
  from ``multinom`` DataFrames with the categories as columns.
- ``coefficients`` and ``standard_errors``: ((K-1) x p) DataFrames, R's ``coef(fit)`` and
  ``summary(fit)$standard.errors``.
- ``cov_params()`` and ``conf_int()`` are ordered by equation, then coefficient.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ._frame import design_for
from ._results import FitStats, LikelihoodResultsMixin

Which = Literal["prob", "mean", "linear", "var"]


class MNLogitResults(LikelihoodResultsMixin):
    """Immutable results of a multinomial logit fit."""

    _file_kind = "multinom"   # the model file's kind (models/persist.py)

    def __init__(self, model, fit: FitStats, r_style: bool):
        self.model = model
        self._fit = fit
        self._r_style = r_style
        inp = model.inputs
        self.levels = list(inp.levels)
        self._p = inp.X.shape[1]
        self._m = len(self.levels) - 1
        self._labelled = r_style or inp.pandas

    def _row_scores(self) -> np.ndarray:
        """x_i (1{y_i = j} - p_ij) for each non-reference j, equation-major."""
        X, codes = self.model.inputs.X, self.model.inputs.codes
        eta = X @ self._fit.params.reshape(self._m, self._p).T
        eta = np.column_stack([np.zeros(X.shape[0]), eta])
        P = np.exp(eta - eta.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        R = -P[:, 1:]
        hit = np.nonzero(codes > 0)[0]
        R[hit, codes[hit] - 1] += 1.0
        return (R[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)

    # ----------------------------------------------------------------- layout
    def _columns(self) -> list:
        return self.levels[1:] if self._r_style else list(range(self._m))

    def _shape(self, flat: np.ndarray):
        mat = flat.reshape(self._m, self._p).T
        if not self._labelled:
            return mat
        return pd.DataFrame(mat, index=self.model.exog_names, columns=self._columns())

    def _r_frame(self, flat: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(flat.reshape(self._m, self._p), index=[str(v) for v in
                            self.levels[1:]], columns=self.model.exog_names)

    def _multi_index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_product([[str(v) for v in self.levels[1:]],
                                           self.model.exog_names],
                                          names=[self._fit.endog_name, None])

    @property
    def params(self):
        return self._shape(self._fit.params)

    @property
    def bse(self):
        return self._shape(self._fit.bse)

    @property
    def tvalues(self):
        return self._shape(self._fit.zvalues())

    @property
    def pvalues(self):
        return self._shape(self._fit.pvalues())

    @property
    def coefficients(self) -> pd.DataFrame:
        """R's ``coef(multinom)``: one row per non-reference category."""
        return self._r_frame(self._fit.params)

    @property
    def standard_errors(self) -> pd.DataFrame:
        return self._r_frame(self._fit.bse)

    def cov_params(self):
        if not self._labelled:
            return self._fit.cov.copy()
        idx = self._multi_index()
        return pd.DataFrame(self._fit.cov, index=idx, columns=idx)

    def conf_int(self, alpha: float = 0.05):
        ci = self._fit.conf_int(alpha)
        if not self._labelled:
            return ci.reshape(self._m, self._p, 2)
        return pd.DataFrame(ci, index=self._multi_index(), columns=["lower", "upper"])

    # ---------------------------------------------------------------- predict
    def _design(self, exog: Any) -> np.ndarray:
        if exog is None:
            if getattr(self, "_data_removed", False):
                from .remove_data import REMOVED

                raise ValueError(REMOVED)
            return self.model.exog
        info = self.model.inputs.formula_info
        if info is not None and not isinstance(exog, np.ndarray):
            return design_for(info, exog)[0]
        X = np.asarray(exog, dtype=float)
        X = X[None, :] if X.ndim == 1 else X
        if X.shape[1] != self._p:
            raise ValueError(f"exog has {X.shape[1]} columns; the model has {self._p}.")
        return X

    def predict(self, exog: Any = None, which: Which = "prob"):
        """Probabilities of every category (``which='prob'`` or statsmodels' ``'mean'``,
        rows sum to one), their variances P (1 - P) (``'var'``) or the linear predictors
        log(P_j / P_0) of every category (``'linear'``, the reference's zeros first, as
        statsmodels) for new data (a data frame for formula fits, rows of exog
        otherwise); rows with missing values give NaN."""
        if which not in ("prob", "mean", "linear", "var"):
            raise ValueError(f"which must be 'prob', 'mean', 'var' or 'linear', got {which!r}.")
        X = self._design(exog)
        eta = X @ self._fit.params.reshape(self._m, self._p).T
        full = np.column_stack([np.zeros(eta.shape[0]), eta])
        cols = self.levels if self._r_style else list(range(self._m + 1))
        if which == "linear":
            out = full
        else:
            ex = np.exp(full - np.max(full, axis=1, keepdims=True))
            out = ex / ex.sum(axis=1, keepdims=True)
            if which == "var":
                out = out * (1.0 - out)
        if not self._labelled:
            return out
        index = exog.index if isinstance(exog, pd.DataFrame) else None
        return pd.DataFrame(out, columns=cols, index=index)

    def get_distribution(self, exog: Any = None):
        """statsmodels': scipy's ``bernoulli(P)``, the indicator of each category in each
        row (n x K): ``mean()`` is ``predict()``, ``var()`` is ``predict(which='var')``."""
        from scipy import stats

        return stats.bernoulli(np.asarray(self.predict(exog)))

    def get_margeff(self, at: str = "overall", method: str = "dydx", atexog: Any = None,
                    dummy: bool = False, count: bool = False):
        """statsmodels' marginal effects of the columns on the probabilities of every
        category (:mod:`glmkit.models.multinomial_margins`)."""
        from .multinomial_margins import get_margeff

        return get_margeff(self, at, method, atexog, dummy, count)

    @property
    def fittedvalues(self):
        """Fitted probabilities of the training rows (R's ``fitted(multinom)``)."""
        return self.predict()

    @property
    def resid_response(self):
        """statsmodels' ``resid_response`` of ``MNLogit``: the (n x K) indicator matrix of
        the observed categories minus the fitted probabilities (rows sum to zero)."""
        return self.model.wendog - self.predict()

    def score_test(self, exog_extra=None, params_constrained=None, hypothesis="joint",
                   cov_type=None, cov_kwds=None, k_constraints=None, observed=True, *,
                   return_object=None):
        """statsmodels' score test of the columns ``exog_extra`` added to every equation
        (cov_type ``'nonrobust'`` or ``'HC0'``; :mod:`glmkit.models.multinomial_score`)."""
        from .multinomial_score import score_test

        return score_test(self, exog_extra, params_constrained, hypothesis, cov_type,
                          cov_kwds, k_constraints, observed, return_object=return_object)

    def pred_table(self) -> np.ndarray:
        """Counts of observed (rows) by predicted (columns, the most probable) category;
        frequency weights count."""
        inp = self.model.inputs
        return prediction_table(inp.codes, np.asarray(self.predict()), inp.weights)

    @property
    def resid_misclassified(self) -> np.ndarray:
        """1.0 where the most probable category is not the observed one, else 0.0."""
        pred = np.asarray(self.predict()).argmax(axis=1)
        return (pred != self.model.inputs.codes).astype(float)

    # ---------------------------------------------------------------- summary
    def summary(self, alpha: float = 0.05):
        """statsmodels' Summary object (``tables``, ``as_text``, ``as_html``,
        ``as_latex``, ``as_csv``): a header, then one coefficient table per category."""
        p = self._p
        blocks = [(f"{self._fit.endog_name}={self.levels[j + 1]}", j * p, (j + 1) * p,
                   self.model.exog_names) for j in range(self._m)]
        return self._summary("MLE (Newton)", blocks, alpha,
                             [f"Reference category: {self.levels[0]!r}"])

    def to_onnx(self, path=None):
        """The prediction as ONNX (``glmkit[onnx]``): input ``X`` (n x p, the design's
        columns ``exog_names``, the constant included), outputs ``probabilities`` (n x K,
        ``predict()``), ``label`` (the most probable category, of ``levels``) and
        ``eta`` (``predict(which='linear')``)."""
        from ..export_onnx import multiclass_to_onnx

        B = np.vstack([np.zeros(self._p), self._fit.params.reshape(self._m, self._p)])
        return multiclass_to_onnx(B, self.levels, self.model.exog_names, path,
                                  doc="glmkit multinomial logit")

    def __repr__(self) -> str:
        return (f"<MNLogitResults: {self._m + 1} categories, {self._p} columns, "
                f"llf={self.llf:.6g}, converged={self.converged}>")


def prediction_table(codes: np.ndarray, P: np.ndarray, weights: np.ndarray | None
                     ) -> np.ndarray:
    """statsmodels' ``pred_table``: observed category (rows) by the most probable one
    (columns), counts (frequency weights count)."""
    K = P.shape[1]
    flat = codes * K + P.argmax(axis=1)
    return np.bincount(flat, weights=weights, minlength=K * K).reshape(K, K).astype(float)
