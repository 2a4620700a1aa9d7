"""Predictions with standard errors (delta method), as R's predict.glm(se.fit = TRUE).

For rows x with offset o: eta = x'b + o, se(eta) = sqrt(x' V x) with V the results'
covariance (robust when the results are). For the mean, se(mu) = |dmu/deta| se(eta) and the
interval is the link-scale interval mapped through the inverse link (so it stays inside the
family's range).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


class PredictionResults:
    """Predicted values, standard errors and intervals for the mean or the linear predictor."""

    def __init__(self, predicted, se, linpred, se_linpred, which, dist, link, index=None):
        self.predicted = predicted
        self.se = se
        self.linpred = linpred
        self.se_linpred = se_linpred
        self.which = which
        self.dist = dist
        self._link = link
        self.row_labels = index

    # statsmodels' names
    @property
    def predicted_mean(self):
        return self.predicted

    @property
    def se_mean(self):
        return self.se

    @property
    def var_pred(self):
        return self.se**2

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """n x 2 intervals; for the mean, the link-scale interval transformed."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
        q = self.dist.ppf(1.0 - alpha / 2.0)
        lo, hi = self.linpred - q * self.se_linpred, self.linpred + q * self.se_linpred
        if self.which == "linear":
            return np.column_stack([lo, hi])
        a, b = self._link.inverse(lo), self._link.inverse(hi)
        return np.column_stack([np.minimum(a, b), np.maximum(a, b)])

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        ci = self.conf_int(alpha)
        return pd.DataFrame({"mean": self.predicted, "mean_se": self.se,
                             "mean_ci_lower": ci[:, 0], "mean_ci_upper": ci[:, 1]},
                            index=self.row_labels)


def get_prediction(res, exog=None, exposure=None, offset=None, which: str = "mean"):
    if which not in ("mean", "linear"):
        raise ValueError(f"which must be 'mean' or 'linear', got {which!r}.")
    model = res.model
    eta = np.asarray(model.predict(res._params, exog=exog, exposure=exposure, offset=offset,
                                   which="linear"), dtype=float)
    if exog is None:
        X = model.problem.X.to_dense()
        index = model.data.row_labels if model.data.is_pandas else None
    else:
        X, _ = model.exog_for_predict(exog)
        index = exog.index if isinstance(exog, pd.DataFrame) else None
    keep = res._keep
    V = res._cov[np.ix_(keep, keep)]
    Xk = X[:, keep]
    se_eta = np.sqrt(np.maximum(np.einsum("ij,ij->i", Xk @ V, Xk), 0.0))
    link = res.family.link
    if which == "linear":
        return PredictionResults(eta, se_eta, eta, se_eta, which, res._dist, link, index)
    mu = link.inverse(eta)
    se_mu = np.abs(link.inverse_deriv(eta)) * se_eta
    return PredictionResults(mu, se_mu, eta, se_eta, which, res._dist, link, index)
