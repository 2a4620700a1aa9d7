"""Predictions with standard errors (delta method), as R's predict.glm(se.fit = TRUE).

For rows x with offset o: eta = x'b + o, se(eta) = sqrt(x' V x) with V the results'
covariance (robust when the results are). For the mean, se(mu) = |dmu/deta| se(eta) and the
interval is the link-scale interval mapped through the inverse link (so it stays inside the
family's range), sorted low-high.

The classes carry statsmodels' names: :class:`PredictionResults` is statsmodels'
``PredictionResultsMean`` (GLM's ``get_prediction()``), its ``linpred`` a
:class:`LinearPredictionResults` (statsmodels' ``regression._prediction.PredictionResults``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Which = Literal["mean", "linear"]


class LinearPredictionResults:
    """Prediction of the linear predictor (statsmodels' linear ``PredictionResults``).

    Parameters
    ----------
    predicted : ndarray
        The linear predictor eta = x'b + offset.
    var_pred : ndarray
        Variance of each predicted eta, x' V x.
    var_resid : float or ndarray
        Variance of a new observation's working response around eta: the scale over the
        IRLS weights for the model's own rows, the scale for new rows (statsmodels).
    dist : scipy distribution
        Normal, or t with ``df`` degrees of freedom when the results use t.
    df : float
        Residual degrees of freedom of the results.
    row_labels : sequence, optional
        Index of ``summary_frame``.
    """

    def __init__(self, predicted, var_pred, var_resid, dist, df=None, row_labels=None):
        self.predicted = predicted
        self.var_pred = var_pred
        self.var_resid = var_resid
        self.dist = dist
        self.dist_args: tuple = ()
        self.df = df
        self.row_labels = row_labels

    @property
    def se(self):
        """Standard error of each prediction."""
        return np.sqrt(self.var_pred)

    @property
    def se_obs(self):
        """Standard error for a new observation: sqrt(var_pred + var_resid)."""
        return np.sqrt(self.var_pred + self.var_resid)

    predicted_mean = property(lambda self: self.predicted, doc="Alias of ``predicted``.")
    var_pred_mean = property(lambda self: self.var_pred, doc="Alias of ``var_pred``.")
    se_mean = property(lambda self: self.se, doc="Alias of ``se``.")

    def conf_int(self, obs: bool = False, alpha: float = 0.05) -> np.ndarray:
        """n x 2 interval predicted -/+ q se (``se_obs`` when ``obs``)."""
        _check_alpha(alpha)
        se = self.se_obs if obs else self.se
        q = self.dist.ppf(1.0 - alpha / 2.0, *self.dist_args)
        return np.column_stack([self.predicted - q * se, self.predicted + q * se])

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """mean, mean_se, mean_ci_lower/upper and obs_ci_lower/upper per row."""
        ci, ci_obs = self.conf_int(alpha=alpha), self.conf_int(obs=True, alpha=alpha)
        return pd.DataFrame({"mean": self.predicted, "mean_se": self.se,
                             "mean_ci_lower": ci[:, 0], "mean_ci_upper": ci[:, 1],
                             "obs_ci_lower": ci_obs[:, 0], "obs_ci_upper": ci_obs[:, 1]},
                            index=self.row_labels)


class PredictionResults:
    """Predicted means or linear predictors with standard errors and intervals.

    Parameters
    ----------
    predicted : ndarray
        Predicted mean (or eta when ``which='linear'``).
    var_pred : ndarray
        Delta-method variance of ``predicted``.
    linpred : LinearPredictionResults
        The prediction of the linear predictor behind it.
    link : Link
        The family's link.
    which : {None, "mean", "linear"}
        What was asked for. ``None`` (statsmodels' default) names the columns of
        ``summary_frame`` mean, mean_se, mean_ci_lower, mean_ci_upper; "mean" and
        "linear" name them predicted, se, ci_lower, ci_upper, as statsmodels does.

    Notes
    -----
    ``conf_int(method='endpoint')`` maps the link-scale interval through the inverse link
    and sorts it low-high (README Conventions: ``get_prediction`` intervals);
    ``method='delta'`` is predicted -/+ q se.
    """

    def __init__(self, predicted, var_pred, linpred: LinearPredictionResults, link,
                 which: str | None = None):
        self.predicted = predicted
        self.var_pred = var_pred
        self.linpred = linpred
        self.link = link
        self.which = which
        self.dist = linpred.dist
        self.dist_args = linpred.dist_args
        self.df = linpred.df
        self.row_labels = linpred.row_labels

    @property
    def se(self):
        """Standard error of each prediction."""
        return np.sqrt(self.var_pred)

    predicted_mean = property(lambda self: self.predicted, doc="Alias of ``predicted``.")
    var_pred_mean = property(lambda self: self.var_pred, doc="Alias of ``var_pred``.")
    se_mean = property(lambda self: self.se, doc="Alias of ``se``.")

    @property
    def se_linpred(self):
        """Standard error of the linear predictor (``linpred.se``)."""
        return self.linpred.se

    def conf_int(self, method: Literal["endpoint", "delta"] = "endpoint",
                 alpha: float = 0.05, **kwds) -> np.ndarray:
        """n x 2 intervals: 'endpoint' transforms the link-scale interval, 'delta' is
        predicted -/+ q se. Other keywords (statsmodels' ``obs``) are ignored."""
        _check_alpha(alpha)
        if method not in ("endpoint", "delta"):
            raise ValueError(f"method must be 'endpoint' or 'delta', got {method!r}.")
        if self.which == "linear":
            return self.linpred.conf_int(alpha=alpha)
        if method == "delta":
            q = self.dist.ppf(1.0 - alpha / 2.0, *self.dist_args)
            return np.column_stack([self.predicted - q * self.se, self.predicted + q * self.se])
        lin = self.linpred.conf_int(alpha=alpha)
        a, b = self.link.inverse(lin[:, 0]), self.link.inverse(lin[:, 1])
        return np.column_stack([np.minimum(a, b), np.maximum(a, b)])

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Prediction, standard error and interval per row (names as statsmodels')."""
        ci = self.conf_int(alpha=alpha)
        names = (("mean", "mean_se", "mean_ci_lower", "mean_ci_upper") if self.which is None
                 else ("predicted", "se", "ci_lower", "ci_upper"))
        return pd.DataFrame(dict(zip(names, (self.predicted, self.se, ci[:, 0], ci[:, 1]))),
                            index=self.row_labels)


def _check_alpha(alpha) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")


def from_linear(eta, var_eta, var_resid, res, which: str | None, index=None):
    """Results for the mean (or eta) from the linear predictor and its variance."""
    linpred = LinearPredictionResults(eta, var_eta, var_resid, res._dist, res.df_resid, index)
    link = res.family.link
    if which == "linear":
        return PredictionResults(eta, var_eta, linpred, link, which)
    deriv = link.inverse_deriv(eta)
    return PredictionResults(link.inverse(eta), deriv * deriv * var_eta, linpred, link, which)


def get_prediction(res, exog=None, exposure=None, offset=None, which: str | None = None):
    """Prediction results for ``res`` at ``exog`` (the model's rows when None)."""
    if which not in (None, "mean", "linear"):
        raise ValueError(f"which must be None, 'mean' or 'linear', got {which!r}.")
    model = res.model
    if exog is None:
        eta = np.asarray(model.predict(res._params, exposure=exposure, offset=offset,
                                       which="linear"), dtype=float)
        X = model.problem.X   # the design: x_i' V x_i by its blocks, no dense copy
        index = model.data.row_labels if model.data.is_pandas else None
        with np.errstate(divide="ignore"):
            var_resid = res.scale / np.asarray(res._solver_result.working_weights)
    else:
        # the new rows' design once (a formula's is the costly part), for eta and its SE
        X, formula_offset = _new_rows(model, exog)
        if formula_offset is not None:
            offset = formula_offset if offset is None else \
                np.asarray(offset, dtype=float).ravel() + formula_offset
        eta = np.asarray(model.predict(res._params, exog=X, exposure=exposure, offset=offset,
                                       which="linear"), dtype=float)
        index = exog.index if isinstance(exog, pd.DataFrame) else None
        var_resid = res.scale
    keep = res._keep
    if exog is None or not isinstance(X, np.ndarray):
        from .inference import row_quadratic

        var_eta = np.maximum(row_quadratic(X, keep, np.asarray(res._cov)), 0.0)
    else:   # new rows: x_i' V x_i in row blocks (no n x k temporaries)
        V = res._cov[np.ix_(keep, keep)]
        var_eta = np.empty(X.shape[0])
        # blocks of ~1M elements: few enough BLAS calls (blocks of a few hundred rows cost
        # 10x the flops' time in call and thread overhead), and no n x k temporaries
        step = max(1, (1 << 20) // max(X.shape[1], 1))
        for s in range(0, X.shape[0], step):
            Xb = X[s:s + step] if keep.all() else X[s:s + step][:, keep]
            var_eta[s:s + step] = np.einsum("ij,ij->i", Xb @ V, Xb)
        var_eta = np.maximum(var_eta, 0.0)
    return from_linear(eta, var_eta, var_resid, res, which, index)


def _new_rows(model, exog):
    """The new rows' design and the formula's offset for them: a formula whose fit was
    built from level codes gives its factors of many levels as CategoricalDesign blocks
    (x_i' V x_i by level gathers); other inputs the dense rows."""
    info = getattr(model, "formula_info", None)
    if info is not None and info.codes_plan is not None and isinstance(exog, pd.DataFrame):
        X, offset = info.design_matrix_for(exog)
        from .design import DenseDesign

        return (X.to_dense() if isinstance(X, DenseDesign) else X), offset
    return model.exog_for_predict(exog)


def predict(res, exog=None, exposure=None, offset=None, which: str = "mean"):
    """Predicted mean, linear predictor ('linear') or variance function at the mean
    ('var_unscaled', statsmodels'); in-sample with the model's offset/exposure."""
    if which == "var_unscaled":
        mu = res.model.predict(res._params, exog=exog, exposure=exposure, offset=offset)
        out = res.family.variance(np.asarray(mu, dtype=float))
    else:
        out = res.model.predict(res._params, exog=exog, exposure=exposure,
                                 offset=offset, which=which)
    if exog is None:
        return res._rows_like(out)
    if isinstance(exog, pd.DataFrame):
        return pd.Series(out, index=exog.index)
    return out
