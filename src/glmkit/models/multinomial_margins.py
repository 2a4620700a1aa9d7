"""Marginal effects of a multinomial logit: statsmodels' ``MNLogitResults.get_margeff``.

Conventions
-----------
With P_j the probability of category j (the reference's included) and B the coefficients
with the reference's column of zeros, dP_j/dx_k = P_j (B_kj - sum_l P_l B_kl) ("dydx");
"eyex" multiplies by x_k / P_j, "dyex" by x_k, "eydx" divides by P_j. ``at='overall'``
averages the per-row effects (frequency weights count as repeated rows), 'mean',
'median' and 'zero' evaluate them at one row (the constant kept), 'all' gives them per
row. ``margeff`` is (columns without the constant) x (categories), as statsmodels'.
Standard errors by the delta method, D V D' with D the derivative of the effects with
respect to the coefficients (central differences, 2 k passes over the rows for 'overall')
and V the results' covariance; tests and intervals use the normal distribution.
``dummy=True``: columns holding only 0 and 1 get the discrete change P_j(x_k = 1) -
P_j(x_k = 0) (``'eydx'``: of log P_j); ``count=True``: columns of non-negative integers
(not 0/1, not constant) get (P_j(x_k + 1) - P_j(x_k - 1)) / 2, as statsmodels'
``_get_dummy_effects`` / ``_get_count_effects``; only with ``method`` 'dydx' or 'eydx' and
``at`` 'overall', 'mean' or 'all' (statsmodels' ValueError otherwise). Their standard
errors come from the same delta method. ``atexog`` is not offered (NotImplementedError).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

_NAMES = {"dydx": "dy/dx", "eyex": "d(lny)/d(lnx)", "dyex": "dy/d(lnx)", "eydx": "d(lny)/dx"}
_AT = ("overall", "mean", "median", "zero", "all")


def _probs(B: np.ndarray, X: np.ndarray) -> np.ndarray:
    eta = X @ B
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    return P / P.sum(axis=1, keepdims=True)


def _discrete_change(B: np.ndarray, X: np.ndarray, j: int, lo: Any, hi: Any,
                     log: bool) -> np.ndarray:
    """(n, K) change of the probabilities (or their logs) as column j goes lo -> hi."""
    X0, X1 = X.copy(), X.copy()
    X0[:, j] = lo
    X1[:, j] = hi
    P0, P1 = _probs(B, X0), _probs(B, X1)
    return np.log(P1) - np.log(P0) if log else P1 - P0


def discrete_columns(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dummy, count) masks of the columns, as statsmodels' ``_isdummy`` / ``_iscount``:
    integer columns with minimum 0 and maximum 1; non-negative integer columns that vary
    and are not dummies."""
    integer = np.all(X % 1.0 == 0, axis=0)
    dummy = integer & (X.min(axis=0) == 0) & (X.max(axis=0) == 1)
    count = integer & (X.var(axis=0) != 0) & np.all(X >= 0, axis=0) & ~dummy
    return dummy, count


def _row_effects(flat: np.ndarray, X: np.ndarray, K: int, method: str,
                 dummy: np.ndarray | None = None, count: np.ndarray | None = None
                 ) -> np.ndarray:
    """(n, p, K) effects of every column on every category's probability; discrete
    changes for the ``dummy`` and ``count`` columns (masks)."""
    p = X.shape[1]
    B = np.column_stack([np.zeros(p), flat.reshape(K - 1, p).T])      # (p, K)
    P = _probs(B, X)
    bbar = P @ B.T                                                   # (n, p)
    out = P[:, None, :] * (B[None, :, :] - bbar[:, :, None])
    if "ex" in method:
        out = out * X[:, :, None]
    if "ey" in method:
        out = out / P[:, None, :]
    log = "ey" in method
    for j in np.flatnonzero(dummy) if dummy is not None else ():
        out[:, j, :] = _discrete_change(B, X, int(j), 0.0, 1.0, log)
    for j in np.flatnonzero(count) if count is not None else ():
        out[:, j, :] = _discrete_change(B, X, int(j), X[:, j] - 1.0, X[:, j] + 1.0, log) / 2.0
    return out


class MNLogitMargins:
    """Marginal effects (statsmodels' ``DiscreteMargins`` for MNLogit).

    Attributes
    ----------
    margeff, margeff_se : (columns without the constant) x categories; with
        ``at='all'`` a leading axis of rows.
    margeff_cov : covariance of the effects, category-major (as ``summary_frame``);
        None for ``at='all'``.
    """

    def __init__(self, results, at: str = "overall", method: str = "dydx",
                 dummy: bool = False, count: bool = False):
        if at not in _AT:
            raise ValueError(f"at must be one of {list(_AT)}, got {at!r}.")
        if method not in _NAMES:
            raise ValueError(f"method must be one of {list(_NAMES)}, got {method!r}.")
        if (dummy or count) and (method in ("dyex", "eyex") or at in ("median", "zero")):
            bad = method if method in ("dyex", "eyex") else at
            raise ValueError(f"{bad} not allowed for discrete variables (dummy=True or "
                             f"count=True): use method 'dydx' or 'eydx' and at 'overall', "
                             f"'mean' or 'all'.")
        self.results = results
        self.margeff_options = {"at": at, "method": method}
        model = results.model
        X, w = model.exog, model.inputs.weights
        is_dummy, is_count = discrete_columns(X)
        dmask = is_dummy if dummy else None
        cmask = is_count if count else None
        self.dummy_idx = np.flatnonzero(is_dummy) if dummy and is_dummy.any() else None
        self.count_idx = np.flatnonzero(is_count) if count and is_count.any() else None
        K = model.J
        self._K = K
        const = np.all(X == X[0], axis=0)
        self._keep = ~const
        self._names = [n for n, c in zip(model.exog_names, const) if not c]
        if at == "overall" or at == "all":
            rows = X
        elif at == "mean":
            rows = np.average(X, axis=0, weights=w)[None, :]
        elif at == "median":
            rows = np.median(X, axis=0)[None, :]
        else:
            rows = np.where(const, X[0], 0.0)[None, :]
        flat = results._fit.params

        def effects(b: np.ndarray) -> np.ndarray:
            e = _row_effects(b, rows, K, method, dmask, cmask)[:, self._keep, :]
            if at == "all":
                return e
            return np.average(e, axis=0, weights=w if at == "overall" else None)

        me = effects(flat)
        D = np.empty((me.size, flat.size))
        for i in range(flat.size):
            h = 1e-6 * max(1.0, abs(flat[i]))
            up, down = flat.copy(), flat.copy()
            up[i] += h
            down[i] -= h
            D[:, i] = (self._order(effects(up)) - self._order(effects(down))) / (2 * h)
        V = results._fit.cov
        self.margeff = me
        DV = D @ V
        # at='all': only the variances (the full covariance would be (n p K)^2)
        self.margeff_cov = None if at == "all" else DV @ D.T
        se = np.sqrt(np.clip(np.einsum("ij,ij->i", DV, D), 0.0, None))
        self.margeff_se = self._unorder(se, me.shape)

    @staticmethod
    def _order(e: np.ndarray) -> np.ndarray:
        """Category-major flattening (statsmodels' ``summary_frame`` order)."""
        return np.moveaxis(e, -1, -2).reshape(-1)

    @staticmethod
    def _unorder(v: np.ndarray, shape: tuple) -> np.ndarray:
        swapped = shape[:-2] + (shape[-1], shape[-2])
        return np.moveaxis(v.reshape(swapped), -1, -2)

    @property
    def tvalues(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.margeff / self.margeff_se

    @property
    def pvalues(self) -> np.ndarray:
        return 2.0 * stats.norm.sf(np.abs(self.tvalues))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        q = stats.norm.ppf(1 - alpha / 2)
        return np.stack([self.margeff - q * self.margeff_se,
                         self.margeff + q * self.margeff_se], axis=-1)

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per (category, column), category-major, statsmodels' six columns."""
        if self.margeff_options["at"] == "all":
            raise ValueError("summary_frame is for one set of effects; at='all' gives "
                             "them per row.")
        ci = self.conf_int(alpha)
        levels = [str(v) for v in self.results.levels]
        idx = pd.MultiIndex.from_product([levels, self._names],
                                         names=[self.results._fit.endog_name, None])
        o = self._order
        return pd.DataFrame({_NAMES[self.margeff_options["method"]]: o(self.margeff),
                             "Std. Err.": o(self.margeff_se), "z": o(self.tvalues),
                             "Pr(>|z|)": o(self.pvalues),
                             "Conf. Int. Low": o(ci[..., 0]),
                             "Cont. Int. Hi.": o(ci[..., 1])}, index=idx)

    def summary(self, alpha: float = 0.05) -> str:
        head = (f"MNLogit Marginal Effects ({self.margeff_options['method']}, at="
                f"{self.margeff_options['at']})")
        return head + "\n" + self.summary_frame(alpha).to_string()


def get_margeff(results, at: str = "overall", method: str = "dydx", atexog: Any = None,
                dummy: bool = False, count: bool = False) -> MNLogitMargins:
    if atexog is not None:
        raise NotImplementedError("atexog is not offered for the multinomial logit; give "
                                  "at=, method=, dummy= and count= only.")
    return MNLogitMargins(results, at, method, dummy, count)
