"""Marginal effects of a fitted GLM: statsmodels' ``GLMResults.get_margeff``.

For rows x with linear predictor eta = x'b, the effect of column j on the mean is
dmu/dx_j = g^-1'(eta) b_j ("dydx"); "eyex" multiplies by x_j / mu, "dyex" by x_j,
"eydx" divides by mu. ``at='overall'`` averages the per-row effects, 'mean' / 'median' /
'zero' evaluate them at one row (the column means / medians / zeros with the constant
kept), 'all' returns them per row. Standard errors: delta method, J V J' with J the
derivative of the effects with respect to the coefficients (central differences) and V the
results' covariance; tests and intervals use the normal distribution, as statsmodels.
Constant columns get no effect. Offsets, exposure and dummy/count effects are not
supported (statsmodels does not support offsets either).
"""
from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

At = Literal["overall", "mean", "median", "zero", "all"]
Method = Literal["dydx", "eyex", "dyex", "eydx"]
_NAMES = {"dydx": "dy/dx", "eyex": "d(lny)/d(lnx)", "dyex": "dy/d(lnx)", "eydx": "d(lny)/dx"}


def _effects(link, params, exog, method: str) -> np.ndarray:
    """Per-row effects (n x k) at ``params`` for the rows ``exog``."""
    eta = exog @ params
    out = link.inverse_deriv(eta)[:, None] * params[None, :]
    if "ex" in method:
        out = out * exog
    if "ey" in method:
        out = out / link.inverse(eta)[:, None]
    return out


def _column_block(b) -> dict:
    X = b.X
    return {"n": float(X.shape[0]), "sum": X.sum(0),
            "col_min": np.min(X, axis=0, initial=np.inf),
            "col_max": np.max(X, axis=0, initial=-np.inf)}


def _varies(col: dict) -> np.ndarray:
    """Which columns are not constant."""
    return np.asarray(col["col_min"] != col["col_max"], dtype=bool)


def _effects_block(b, link, steps, method) -> dict:
    return {"effects": np.array([_effects(link, p, b.X, method).sum(0) for p in steps])}


def _effect_rows(b, link, params, method, keep):
    return _effects(link, params, b.X, method)[:, keep]


class GLMMargins:
    """Marginal effects with delta-method standard errors (statsmodels' DiscreteMargins).

    Attributes
    ----------
    margeff : ndarray
        Effects of the non-constant columns (n x k' when ``at='all'``).
    margeff_se, margeff_cov : ndarray
        Standard errors and covariance (not for ``at='all'``).
    margeff_options : dict
        ``{'method': ..., 'at': ...}``.
    """

    def __init__(self, results, at: At | str = "overall", method: Method | str = "dydx",
                 atexog=None, dummy: bool = False, count: bool = False):
        at, method = str(at).lower(), str(method).lower()
        if at not in ("overall", "mean", "median", "zero", "all"):
            raise ValueError(f"at must be 'overall', 'mean', 'median', 'zero' or 'all', got {at!r}.")
        if method not in _NAMES:
            raise ValueError(f"method must be one of {sorted(_NAMES)}, got {method!r}.")
        if dummy or count or atexog is not None:
            raise NotImplementedError("dummy, count and atexog are not available in glmkit's "
                                      "get_margeff.")
        model = results.model
        if model.offset is not None or model.exposure is not None:
            raise NotImplementedError("Margins with offset are not available.")
        if np.any(model.var_weights != 1) or np.any(model.freq_weights != 1):
            warnings.warn("weights are not taken into account by margeff", UserWarning,
                          stacklevel=3)
        self.results = results
        self.margeff_options = {"method": method, "at": at}
        link = results.family.link
        params = np.nan_to_num(np.asarray(results._params, dtype=float))
        passes = model._passes
        # one pass: column sums and squares (which columns vary, their means)
        col = passes.total(_column_block, what="column sums")
        n = col["n"]
        keep = _varies(col)
        self._names = [nm for nm, k in zip(model.exog_names, keep) if k]
        if at == "all":
            self.margeff = passes.rows(_effect_rows, args=(link, params, method, keep),
                                       need_X=True, ncols=int(keep.sum()))
            return
        if at == "median":
            if model._lazy:
                raise NotImplementedError("at='median' needs every row's value of each "
                                          "column; on Dask use 'overall', 'mean' or 'zero'.")
            exog = np.median(np.asarray(model.problem.X.to_dense(), dtype=float), axis=0,
                             keepdims=True)
        elif at == "mean":
            exog = (col["sum"] / n)[None, :]
        elif at == "zero":
            exog = np.where(keep, 0.0, 1.0)[None, :]
        else:
            exog = None   # every row: sums over the rows, in one more pass
        steps = [params]
        for j in range(params.size):
            h = 1e-6 * max(abs(params[j]), 1.0)
            up, dn = params.copy(), params.copy()
            up[j] += h
            dn[j] -= h
            steps += [up, dn]
        if exog is None:
            sums = passes.total(_effects_block, args=(link, steps, method),
                                what="marginal effects")["effects"]
            means = [sm / n for sm in sums]
        else:
            means = [_effects(link, b, exog, method).mean(0) for b in steps]
        self.margeff = means[0][keep]
        jac = np.empty((params.size, params.size))
        for j in range(params.size):
            h = 1e-6 * max(abs(params[j]), 1.0)
            jac[:, j] = (means[1 + 2 * j] - means[2 + 2 * j]) / (2 * h)
        cov = jac @ np.nan_to_num(np.asarray(results._cov)) @ jac.T
        self.margeff_cov = cov[np.ix_(keep, keep)]
        self.margeff_se = np.sqrt(np.diag(self.margeff_cov))

    def _check(self) -> None:
        if self.margeff_options["at"] == "all":
            raise NotImplementedError("standard errors and tests are not available for "
                                      "at='all'.")

    @property
    def tvalues(self) -> np.ndarray:
        """margeff / margeff_se."""
        self._check()
        with np.errstate(divide="ignore", invalid="ignore"):   # effects 0 at zero with 'ex'
            return self.margeff / self.margeff_se

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided normal p-values."""
        return 2.0 * stats.norm.sf(np.abs(self.tvalues))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """k' x 2 normal intervals."""
        self._check()
        q = stats.norm.ppf(1.0 - alpha / 2.0)
        return np.column_stack([self.margeff - q * self.margeff_se,
                                self.margeff + q * self.margeff_se])

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """statsmodels' columns: effect, Std. Err., z, Pr(>|z|), Conf. Int. Low, Cont. Int. Hi."""
        table = np.column_stack([self.margeff, self.margeff_se, self.tvalues, self.pvalues,
                                 self.conf_int(alpha)])
        cols = [_NAMES[self.margeff_options["method"]], "Std. Err.", "z", "Pr(>|z|)",
                "Conf. Int. Low", "Cont. Int. Hi."]
        return pd.DataFrame(table, columns=cols, index=self._names)

    def summary(self, alpha: float = 0.05) -> str:
        """A text table of ``summary_frame``."""
        o = self.margeff_options
        head = (f"GLM Marginal Effects\nDep. Variable: {self.results.model.endog_names}\n"
                f"Method: {o['method']}\nAt: {o['at']}\n")
        return head + self.summary_frame(alpha).to_string(float_format=lambda v: f"{v:.4f}")


def get_margeff(res, at: str = "overall", method: str = "dydx", atexog=None,
                dummy: bool = False, count: bool = False) -> GLMMargins:
    """Marginal effects of the columns on the mean with delta-method standard errors
    (statsmodels' ``GLMResults.get_margeff``); see :class:`GLMMargins`."""
    return GLMMargins(res, at=at, method=method, atexog=atexog, dummy=dummy, count=count)
