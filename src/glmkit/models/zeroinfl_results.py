"""Results of ``zeroinfl`` and ``hurdle`` (immutable), with pscl's names and numbers.

Conventions
-----------
- ``params``: pscl's ``coef(fit)``, ``count_<name>`` then ``zero_<name>`` (glmkit's column
  names: ``Intercept`` for R's ``(Intercept)``, ``g[T.b]`` for ``gb``).
- ``cov_params()``: pscl's ``vcov`` (log theta's rows left out); ``cov_params_full()``
  keeps them (``count_log(theta)``, ``zero_log(theta)``).
- ``nobs`` is the number of rows with a positive weight and ``bic`` uses it (pscl's
  ``logLik`` attribute ``nobs``), also with frequency weights; ``df_model`` counts theta.
- ``predict(which=)``: pscl's ``type`` ``'response'`` (the mean; statsmodels' ``'mean'``),
  ``'count'`` (mu of the count part), ``'zero'`` (zeroinfl: the excess-zero probability;
  hurdle: P(y > 0) / (1 - f(0; mu)), pscl's ratio), ``'prob'`` (P(y = k) for k in
  ``at``, default 0..max(y)) and ``'linear'`` (the count part's log mu).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._countdist import count_log_pmf, count_terms, zero_terms
from ._countframe import CountInputs
from ._results import format_table

Which = Literal["response", "mean", "prob", "count", "zero", "linear"]


@dataclass(frozen=True)
class CountFit:
    kind: str                 # "zeroinfl" or "hurdle"
    dist: str
    zero_dist: str            # "binomial" for zeroinfl and binomial hurdles
    link: str
    beta: np.ndarray
    gamma: np.ndarray
    log_theta: np.ndarray     # count's (if negbin), then the zero hurdle's (if negbin)
    cov: np.ndarray           # all parameters, pscl's order
    llf: float
    converged: bool
    n_iter: int
    criterion: float
    count_theta: bool
    zero_theta: bool


class CountModelResults:
    """Results of a zero-inflated or hurdle count model."""

    _file_kind = "count"   # the model file's kind (models/persist.py)

    def __init__(self, inputs: CountInputs, fit: CountFit, has_offset_arg: bool = False):
        self.inputs = inputs
        self._fit = fit
        self._has_offset_arg = has_offset_arg
        self._cov_type = "nonrobust"
        self._nobs = int(inputs.n)   # kept by a saved fit without its rows
        self.names = ([f"count_{n}" for n in inputs.x_names]
                      + [f"zero_{n}" for n in inputs.z_names])
        self._k = len(self.names)

    # ------------------------------------------------------------ coefficients
    @property
    def model_kind(self) -> str:
        return self._fit.kind

    @property
    def dist(self) -> str:
        return self._fit.dist

    @property
    def params(self) -> pd.Series:
        return pd.Series(np.concatenate([self._fit.beta, self._fit.gamma]), index=self.names)

    @property
    def coefficients(self) -> dict[str, pd.Series]:
        """pscl's ``fit$coefficients``: ``{'count': ..., 'zero': ...}``."""
        return {"count": pd.Series(self._fit.beta, index=self.inputs.x_names),
                "zero": pd.Series(self._fit.gamma, index=self.inputs.z_names)}

    def _theta_names(self) -> list[str]:
        return (["count"] if self._fit.count_theta else []) + \
            (["zero"] if self._fit.zero_theta else [])

    @property
    def theta(self):
        """theta of the negative binomial part(s): a float for zeroinfl, a Series named
        ``count``/``zero`` for hurdle (pscl's); None without a negbin part."""
        if self._fit.log_theta.size == 0:
            return None
        th = np.exp(self._fit.log_theta)
        return float(th[0]) if self._fit.kind == "zeroinfl" else \
            pd.Series(th, index=self._theta_names())

    @property
    def SE_logtheta(self):
        """Standard error of log(theta) (pscl's ``SE.logtheta``)."""
        if self._fit.log_theta.size == 0:
            return None
        se = np.sqrt(np.diag(self._fit.cov)[self._k:])
        return float(se[0]) if self._fit.kind == "zeroinfl" else \
            pd.Series(se, index=self._theta_names())

    def cov_params(self) -> pd.DataFrame:
        c = self._fit.cov[:self._k, :self._k]
        return pd.DataFrame(c, index=self.names, columns=self.names)

    def cov_params_full(self) -> pd.DataFrame:
        names = self.names + [f"{p}_log(theta)" for p in self._theta_names()]
        return pd.DataFrame(self._fit.cov, index=names, columns=names)

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.clip(np.diag(self._fit.cov)[:self._k], 0, None)),
                         index=self.names)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2.0 * stats.norm.sf(np.abs(self.tvalues.to_numpy())), index=self.names)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
        q = stats.norm.ppf(1 - alpha / 2)
        b, s = self.params.to_numpy(), self.bse.to_numpy()
        return pd.DataFrame({0: b - q * s, 1: b + q * s}, index=self.names)

    def remove_data(self) -> None:
        """statsmodels' ``remove_data``: drop the training rows in place; coefficients,
        tests, ``summary()`` and predictions on new data stay
        (:mod:`glmkit.models.remove_data`)."""
        from .remove_data import remove_data

        remove_data(self)

    def save(self, path, remove_data: bool = False) -> None:
        """Save the fit to ``path``; ``glmkit.load(path)`` reads it back.
        ``remove_data=True`` leaves out the training rows (predictions on new data work)."""
        from .persist import save_model_results

        save_model_results(self, path, remove_data)

    # ------------------------------------------------------------------ sandwich
    def _row_scores(self) -> np.ndarray:
        """(n, k) unweighted per-row scores of the coefficients (sandwich's estfun)."""
        from ._countkernels import (
            binary_kernel,
            truncated_kernel,
            zero_count_kernel,
            zeroinfl_kernel,
        )
        from ._multieta import Block, row_scores
        inp, f = self.inputs, self._fit
        kx, n = len(f.beta), inp.n
        if f.kind == "zeroinfl":
            blocks = [Block(inp.X, inp.x_offset), Block(inp.Z, inp.z_offset)] + \
                ([Block(None)] if f.count_theta else [])
            params = np.concatenate([f.beta, f.gamma, f.log_theta])
            return row_scores(params, blocks, zeroinfl_kernel(inp.y, f.dist, f.link),
                              n)[:, :self._k]
        S = np.zeros((n, self._k))
        pos = np.nonzero(inp.y > 0)[0]
        xo = None if inp.x_offset is None else inp.x_offset[pos]
        cl = f.log_theta[:1] if f.count_theta else np.zeros(0)
        blocks = [Block(np.ascontiguousarray(inp.X[pos]), xo)] + \
            ([Block(None)] if f.count_theta else [])
        S[pos, :kx] = row_scores(np.concatenate([f.beta, cl]), blocks,
                                 truncated_kernel(inp.y[pos], f.dist), len(pos))[:, :kx]
        zblocks = [Block(inp.Z, inp.z_offset)]
        if f.zero_dist == "binomial":
            zk, zp = binary_kernel(inp.y > 0, f.link), f.gamma
        else:
            zk = zero_count_kernel(inp.y, f.zero_dist)
            zp = np.concatenate([f.gamma, f.log_theta[-1:] if f.zero_theta else []])
            zblocks += [Block(None)] if f.zero_theta else []
        S[:, kx:] = row_scores(zp, zblocks, zk, n)[:, :len(f.gamma)]
        return S

    @property
    def cov_type(self) -> str:
        return self._cov_type

    def get_robustcov_results(self, cov_type: str = "HC0", cov_kwds: dict | None = None,
                              **kwds: Any) -> CountModelResults:
        """A new results object whose ``cov_params()`` is R's ``sandwich::sandwich(fit)``
        (``'HC0'``), ``sandwich(fit, adjust = TRUE)`` (``'HC1'``) or ``vcovCL(fit,
        cluster)`` (``'cluster'`` with ``groups=labels``; :mod:`glmkit.models.robust`):
        V (sum_i w_i s_i s_i') V over the coefficients, V pscl's ``vcov``; theta keeps its
        model-based ``SE_logtheta`` and the cross terms of ``cov_params_full()`` become
        NaN."""
        from .robust import check_robust, robust_cov

        if getattr(self, "_data_removed", False):
            from .remove_data import REMOVED

            raise ValueError(REMOVED)

        base = getattr(self, "_base", self)
        name, kw = check_robust(cov_type, {**(cov_kwds or {}), **kwds}, self.inputs.n)
        if name == "nonrobust":
            return base
        V = base._fit.cov[:self._k, :self._k]
        cov = base._fit.cov.copy()
        cov[:self._k, :] = np.nan
        cov[:, :self._k] = np.nan
        cov[:self._k, :self._k] = robust_cov(V, base._row_scores(), self.inputs.weights,
                                             name, kw)
        new = copy.copy(base)
        new._fit = replace(base._fit, cov=cov)
        new._cov_type = name
        new._base = base  # type: ignore[union-attr]
        return new

    # --------------------------------------------------------------- likelihood
    @property
    def llf(self) -> float:
        return self._fit.llf

    @property
    def converged(self) -> bool:
        return self._fit.converged

    @property
    def n_iter(self) -> int:
        return self._fit.n_iter

    @property
    def nobs(self) -> int:
        return self._nobs

    @property
    def df(self) -> int:
        """Number of estimated parameters, theta included (pscl's logLik ``df``)."""
        return int(self._fit.cov.shape[0])

    @property
    def df_resid(self) -> int:
        return self.nobs - self.df

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.df

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.nobs) * self.df

    def compare_lr_test(self, restricted: CountModelResults) -> tuple[float, float, float]:
        """LR test of a nested fit of the same rows against this one: (statistic,
        p-value, df), as statsmodels' ``compare_lr_test`` (R: ``lmtest::lrtest``)."""
        if not isinstance(restricted, CountModelResults):
            raise TypeError("the LR test needs two zeroinfl/hurdle fits.")
        if restricted.nobs != self.nobs or not np.array_equal(restricted.inputs.y,
                                                              self.inputs.y):
            raise ValueError("the fits are not of the same rows.")
        df = self.df - restricted.df
        if df <= 0:
            raise ValueError("the restricted model must have fewer parameters.")
        lr = 2.0 * (self.llf - restricted.llf)
        return float(lr), float(stats.chi2.sf(lr, df)), float(df)

    def lr_test(self, restricted: CountModelResults) -> pd.Series:
        lr, p, df = self.compare_lr_test(restricted)
        return pd.Series({"LR stat.": lr, "Df": df, "Pr(Chi)": p})

    # --------------------------------------------------------------- prediction
    def _designs(self, data: Any, offset: Any):
        inp = self.inputs
        if data is None:
            if getattr(self, "_data_removed", False):
                from .remove_data import REMOVED

                raise ValueError(REMOVED)
            return inp.X, inp.x_offset, inp.Z, inp.z_offset
        if inp.x_info is None or inp.z_info is None:
            raise ValueError("this fit was made from arrays; use the statsmodels class's "
                             "predict(exog, exog_infl).")
        X, xo = inp.x_info.design_for(data)
        Z, zo = inp.z_info.design_for(data)
        if offset is None and inp.offset_arg is not None:
            offset = inp.offset_arg
        if offset is None and self._has_offset_arg:
            raise ValueError("the fit had an offset= array: pass offset= for the new rows.")
        if offset is not None:
            from ..formula import as_pandas
            v = as_pandas(data)[offset].to_numpy(float) if isinstance(offset, str) \
                else np.asarray(offset, dtype=float).ravel()
            xo = v if xo is None else xo + v
        return X, xo, Z, zo

    def _theta_of(self, part: str) -> float | None:
        names = self._theta_names()
        if part not in names:
            return 1.0 if (self._fit.dist if part == "count" else self._fit.zero_dist) \
                == "geometric" else None
        return float(np.exp(self._fit.log_theta[names.index(part)]))

    def _parts(self, data: Any, offset: Any):
        """(mu, log P(y > 0) or pi, count log(1 - f0)) for the rows."""
        X, xo, Z, zo = self._designs(data, offset)
        eta = X @ self._fit.beta + (0.0 if xo is None else xo)
        zeta = Z @ self._fit.gamma + (0.0 if zo is None else zo)
        return eta, zeta

    def _log_f0(self, dist: str, eta: np.ndarray, part: str) -> np.ndarray:
        th = self._theta_of(part)
        return count_terms(dist, np.zeros_like(eta), eta,
                           None if th is None else np.log(th)).L

    def predict(self, exog: Any = None, which: Which = "response", at: Any = None,
                offset: Any = None):
        """pscl's ``predict(fit, newdata, type)``; see the module's Conventions."""
        if which not in ("response", "mean", "prob", "count", "zero", "linear"):
            raise ValueError("which must be 'response', 'prob', 'count', 'zero' or 'linear', "
                             f"got {which!r}.")
        f = self._fit
        eta, zeta = self._parts(exog, offset)
        mu = np.exp(eta)
        index = getattr(exog, "index", None) if exog is not None else None
        if which in ("count", "linear"):
            return pd.Series(mu if which == "count" else eta, index=index)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if f.kind == "zeroinfl":
                zt = zero_terms(f.link, zeta)
                log_keep = zt.log1m             # log(1 - pi): weight of the count part
                zero_out = zt.pi
            else:
                if f.zero_dist == "binomial":
                    log_p = zero_terms(f.link, zeta).log_pi
                else:
                    log_p = np.log(-np.expm1(self._log_f0(f.zero_dist, zeta, "zero")))
                log_keep = log_p - np.log(-np.expm1(self._log_f0(f.dist, eta, "count")))
                zero_out = np.exp(log_keep)
        if which == "zero":
            return pd.Series(zero_out, index=index)
        if which in ("response", "mean"):
            return pd.Series(np.exp(log_keep) * mu, index=index)
        ks = np.arange(int(self.inputs.y.max()) + 1) if at is None else \
            np.asarray(at, dtype=float).ravel()
        return pd.DataFrame(self._prob(ks, mu, log_keep, zeta), columns=list(ks), index=index)

    def _prob(self, ks, mu, log_keep, zeta) -> np.ndarray:
        f = self._fit
        out = np.empty((mu.shape[0], len(ks)))
        th = self._theta_of("count")
        for j, k in enumerate(ks):
            lf = count_log_pmf(f.dist, np.full(mu.shape, float(k)), mu, th)
            out[:, j] = np.exp(log_keep + lf)
            if k == 0:
                out[:, j] = (zero_terms(f.link, zeta).pi + out[:, j]) if f.kind == "zeroinfl" \
                    else -np.expm1(log_keep + np.log(-np.expm1(self._log_f0(f.dist,
                                                                             np.log(mu),
                                                                             "count"))))
        return out

    @property
    def fittedvalues(self) -> pd.Series:
        """The fitted means (pscl's ``fitted``)."""
        return self.predict(which="response")

    @property
    def resid_response(self) -> np.ndarray:
        """y - fitted mean (pscl's ``residuals(type='response')`` without weights)."""
        return self.inputs.y - self.fittedvalues.to_numpy()

    def loglike_obs(self) -> np.ndarray:
        """log P(y_i) of each training row (unweighted), as pscl's ``predprob`` at y."""
        return self._prob_observed()

    def _prob_observed(self) -> np.ndarray:
        f = self._fit
        eta, zeta = self._parts(None, None)
        y = self.inputs.y
        th = self._theta_of("count")
        lf = count_terms(f.dist, y, eta, None if th is None else np.log(th)).L
        with np.errstate(divide="ignore"):
            if f.kind == "zeroinfl":
                zt = zero_terms(f.link, zeta)
                return np.where(y > 0, zt.log1m + lf, np.logaddexp(zt.log_pi, zt.log1m + lf))
            if f.zero_dist == "binomial":
                zt = zero_terms(f.link, zeta)
                lp, l0 = zt.log_pi, zt.log1m
            else:
                lz = self._log_f0(f.zero_dist, zeta, "zero")
                lp, l0 = np.log(-np.expm1(lz)), lz
            trunc = lf - np.log(-np.expm1(self._log_f0(f.dist, eta, "count")))
            return np.where(y > 0, lp + trunc, l0)

    # ------------------------------------------------------------------ summary
    def summary(self, alpha: float = 0.05) -> str:
        f = self._fit
        ci = self.conf_int(alpha)
        tab = pd.DataFrame({"coef": self.params, "std err": self.bse, "z": self.tvalues,
                            "P>|z|": self.pvalues, f"[{alpha / 2:g}": ci[0],
                            f"{1 - alpha / 2:g}]": ci[1]})
        kx = len(self.inputs.x_names)
        count_t = tab.iloc[:kx].rename(index=lambda s: s[len("count_"):])
        zero_t = tab.iloc[kx:].rename(index=lambda s: s[len("zero_"):])
        title = "Zero-inflated" if f.kind == "zeroinfl" else "Hurdle"
        zlab = (f"binomial with {f.link} link" if f.zero_dist == "binomial"
                else f"{f.zero_dist} with log link")
        head = (f"{title} count model ({self.nobs} observations, response "
                f"{self.inputs.endog_name!r})")
        lines = [head, "=" * 78,
                 f"Count model coefficients ({f.dist} with log link"
                 + (", truncated at zero" if f.kind == "hurdle" else "") + "):",
                 format_table(count_t, "count"), "",
                 ("Zero-inflation model coefficients (" if f.kind == "zeroinfl"
                  else "Zero hurdle model coefficients (") + zlab + "):",
                 format_table(zero_t, "zero"), "=" * 78]
        if f.log_theta.size:
            th = np.exp(f.log_theta)
            se = np.sqrt(np.diag(f.cov)[self._k:])
            for name, t, s in zip(self._theta_names(), th, se):
                lines.append(f"Theta ({name}) = {t:.4f}, log(theta) = {np.log(t):.4f} "
                             f"(SE {s:.4f})")
        lines.append(f"Newton iterations: {f.n_iter}, converged: {f.converged} "
                     f"(criterion {f.criterion:.2g})")
        lines.append(f"Log-likelihood: {self.llf:.6g} on {self.df} Df, AIC {self.aic:.6g}, "
                     f"BIC {self.bic:.6g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<CountModelResults: {self._fit.kind}, {self._fit.dist}, "
                f"llf={self.llf:.6g}, converged={self.converged}>")
