"""``glmkit.bootstrap(res, ...)``: bootstrap replicates of a GLM's coefficients, all refitted
together by one batched IRLS (solvers/batched.py), and R's ``boot.ci`` intervals.

A ``GLMResults.bootstrap(...)`` method should delegate here: ``return bootstrap(self, ...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._parallel import map_chunks
from .families.family import (
    Binomial,
    Gamma,
    Gaussian,
    InverseGaussian,
    NegativeBinomial,
    Poisson,
)
from .families.quasi import QuasiBinomial, QuasiPoisson
from .solvers.batched import CONVERGED, BatchData, batched_irls, chunks, concat_results

BootMethod = Literal["pairs", "residual", "parametric"]
#: Leave-one-out fits of the jackknife are batched this many at a time.
JACK_BLOCK = 512


@dataclass(frozen=True)
class _Fit:
    """The fitted model's rows (kept columns only)."""

    X: np.ndarray
    y: np.ndarray
    prior_weights: np.ndarray
    freq_weights: np.ndarray
    offset: np.ndarray
    mu: np.ndarray
    family: Any
    scale: float
    keep: np.ndarray
    names: list
    model_class: Any = None   # the fitted model's class (GLM), for the ordinary refits


def _check_resamplable(res) -> None:
    """Replicates are maximum-likelihood refits of the same model: refuse fits whose
    statistic is something else (a penalized or constrained fit), or whose rows are not in
    memory."""
    if getattr(res, "constraints", None) is not None:
        raise ValueError("bootstrap of a fit_constrained result is not available: its "
                         "replicates would need the constraints too.")
    method = str(getattr(res, "method", "IRLS")).lower()
    if method == "firth":
        raise ValueError("bootstrap refits by maximum likelihood; a method='firth' fit is "
                         "a different estimator.")
    model = getattr(res, "model", None)
    if model is None or not hasattr(model, "problem") or hasattr(
            type(model.problem.y), "__dask_graph__"):
        raise ValueError("bootstrap needs an in-memory glmkit GLM fit.")


def _fit_of(res) -> _Fit:
    prob = res.model.problem
    X = prob.X.to_dense() if hasattr(prob.X, "to_dense") else np.asarray(prob.X)
    n = X.shape[0]
    params = np.asarray(res.params, dtype=float)
    keep = np.isfinite(params)
    return _Fit(X=np.ascontiguousarray(np.asarray(X, dtype=float)[:, keep]),
                y=np.asarray(prob.y, dtype=float),
                prior_weights=np.array(np.broadcast_to(prob.prior_weights, (n,)), dtype=float),
                freq_weights=np.array(np.broadcast_to(prob.freq_weights, (n,)), dtype=float),
                offset=np.array(np.broadcast_to(prob.offset, (n,)), dtype=float),
                mu=np.asarray(res.mu, dtype=float), family=res.model.family,
                scale=float(res.scale), keep=keep, names=list(res.model.exog_names),
                model_class=type(res.model))


def _refit(fit: _Fit, y: np.ndarray, tw: np.ndarray, start: np.ndarray):
    """Coefficients of every replicate (rows of ``y`` / ``tw``) and whether certified;
    replicates the batched solver cannot certify are refitted by glmkit's ordinary fit."""
    pos = fit.prior_weights > 0
    n_eff = np.where(pos, tw / np.where(pos, fit.prior_weights, 1.0), 0.0).sum(axis=1)

    def fit_chunk(r: tuple[int, int]):
        a, b = r
        data = BatchData(X=fit.X, y=y if y.ndim == 1 else y[a:b], tw=tw[a:b],
                         offset=fit.offset, n_eff=n_eff[a:b])
        return batched_irls(data, fit.family, start=start, covariance=False)

    out = concat_results(map_chunks(fit_chunk, chunks(tw.shape[0], tw.size)))
    params, ok = out.params, out.status == CONVERGED
    for b in np.flatnonzero(~ok):
        params[b], ok[b] = _ordinary(fit, y if y.ndim == 1 else y[b], tw[b])
    return params, ok


def _ordinary(fit: _Fit, y, tw):
    import warnings

    GLM = fit.model_class   # noqa: N806 (the model's class, not imported: no cycle)
    fw = np.where(fit.prior_weights > 0, tw / np.where(fit.prior_weights > 0,
                                                        fit.prior_weights, 1.0), 0.0)
    rows = fw > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = GLM(y[rows], fit.X[rows], family=fit.family, offset=fit.offset[rows],
                var_weights=fit.prior_weights[rows], freq_weights=fw[rows]).fit()
    return np.asarray(r.params, dtype=float), bool(r.converged)


def _simulate(fit: _Fit, method: str, B: int, rng) -> np.ndarray:
    """(B, n) responses for the residual and parametric bootstraps."""
    fam, mu, pw = fit.family, fit.mu, fit.prior_weights
    if np.any(fit.freq_weights != 1):
        raise ValueError(f"method={method!r} needs a fit without freq_weights (a row with "
                         "frequency k stands for k responses); use method='pairs'.")
    n = mu.shape[0]
    if method == "residual":
        if type(fam) is not Gaussian:
            raise ValueError("method='residual' is defined for the Gaussian family only "
                             "(exchangeable additive errors); use 'pairs' or 'parametric'.")
        pool = np.flatnonzero(pw > 0)
        r = np.sqrt(pw[pool]) * (fit.y[pool] - mu[pool])   # Pearson residuals
        r = r - r.mean()
        draw = r[rng.integers(0, pool.size, size=(B, n))]
        with np.errstate(divide="ignore"):
            return mu + draw / np.sqrt(np.where(pw > 0, pw, np.inf))
    if isinstance(fam, (QuasiPoisson, QuasiBinomial)):
        msg = "method='parametric' needs a distribution; quasi families have none."
        raise ValueError(f"{msg} Use method='pairs'.")  # noqa: TRY004
    if isinstance(fam, Binomial):
        m = pw
        if np.any(np.abs(m - np.round(m)) > 1e-8):
            raise ValueError("parametric binomial bootstrap needs integer trials (prior "
                             "weights).")
        m = np.round(m).astype(np.int64)
        return rng.binomial(m, mu, size=(B, n)) / np.maximum(m, 1)
    if isinstance(fam, Poisson):
        if np.any(pw != 1):
            raise ValueError("parametric Poisson bootstrap with var_weights has no "
                             "distribution to simulate; use method='pairs'.")
        return rng.poisson(mu, size=(B, n)).astype(float)
    if isinstance(fam, Gaussian):
        return rng.normal(mu, np.sqrt(fit.scale / pw), size=(B, n))
    if isinstance(fam, (Gamma, InverseGaussian, NegativeBinomial)):
        dist = fam.get_distribution(mu, scale=fit.scale, var_weights=pw)
        return np.asarray(dist.rvs(size=(B, n), random_state=rng), dtype=float)
    raise ValueError(f"method='parametric' is not available for {type(fam).__name__}; "
                     "use method='pairs'.")


def _norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """R boot's ``norm.inter``: quantiles of ``t`` interpolated on the normal scale."""
    t = np.sort(t[np.isfinite(t)])
    R = t.size
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    out = np.empty(alpha.shape)
    for i, (ki, rki, a) in enumerate(zip(k, rk, alpha)):
        if ki == rki and 0 < ki <= R:
            out[i] = t[ki - 1]
        elif ki <= 0:
            out[i] = t[0]
        elif ki >= R:
            out[i] = t[R - 1]
        else:
            z, z1, z2 = stats.norm.ppf([a, ki / (R + 1), (ki + 1) / (R + 1)])
            out[i] = t[ki - 1] + (z - z1) / (z2 - z1) * (t[ki] - t[ki - 1])
    return out


@dataclass(frozen=True)
class BootstrapResults:
    """Bootstrap replicates of the coefficients.

    Attributes
    ----------
    params : Series, the fitted coefficients (R's ``t0``).
    replicates : DataFrame (n_boot x coefficients), R's ``t``.
    converged : bool array: each replicate certified at its maximum.
    method : 'pairs', 'residual' or 'parametric'.
    """

    params: pd.Series
    replicates: pd.DataFrame
    converged: np.ndarray
    method: str
    _fit: _Fit = field(repr=False)

    @property
    def n_boot(self) -> int:
        return self.replicates.shape[0]

    @property
    def bse(self) -> pd.Series:
        """Bootstrap standard errors: the replicates' standard deviation (ddof=1, R's sd)."""
        return self.replicates.std(axis=0, ddof=1)

    @cached_property
    def jackknife(self) -> pd.DataFrame:
        """Leave-one-row-out coefficients (n x coefficients), batched in blocks."""
        fit = self._fit
        n = fit.y.shape[0]
        tw0 = fit.freq_weights * fit.prior_weights
        t0 = self.params.to_numpy()[fit.keep]
        rows = []
        for lo in range(0, n, JACK_BLOCK):
            hi = min(n, lo + JACK_BLOCK)
            tw = np.repeat(tw0[None, :], hi - lo, axis=0)
            tw[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
            p, _ = _refit(fit, fit.y, tw, t0)
            rows.append(p)
        full = np.full((n, len(fit.names)), np.nan)
        full[:, fit.keep] = np.concatenate(rows)
        return pd.DataFrame(full, columns=fit.names)

    @cached_property
    def acceleration(self) -> pd.Series:
        """BCa's a from jackknife influence values, R boot's ``empinf(type='jack')``:
        L_i = (n - 1) (t0 - t_(-i)), a = sum L^3 / (6 (sum L^2)^1.5)."""
        n = self._fit.y.shape[0]
        L = (n - 1) * (self.params.to_numpy() - self.jackknife.to_numpy())
        with np.errstate(all="ignore"):
            a = np.sum(L**3, axis=0) / (6.0 * np.sum(L**2, axis=0) ** 1.5)
        return pd.Series(a, index=self.params.index)

    def conf_int(self, alpha: float = 0.05,
                 kind: Literal["percentile", "bca", "normal", "basic"] = "percentile"
                 ) -> pd.DataFrame:
        """Intervals as R's ``boot.ci(conf = 1 - alpha, type=...)``, per coefficient.

        'percentile' (R's "perc") and 'bca' (with the jackknife acceleration, R's
        ``boot.ci(..., L = empinf(b, type = "jack"))``) interpolate order statistics on the
        normal scale as R's ``norm.inter``; 'basic' likewise; 'normal' is R's "norm"
        (bias-corrected normal interval with the bootstrap variance).
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
        if kind not in ("percentile", "bca", "normal", "basic"):
            raise ValueError(f"kind must be 'percentile', 'bca', 'normal' or 'basic', got "
                             f"{kind!r}.")
        a2 = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
        t0 = self.params.to_numpy()
        T = self.replicates.to_numpy()
        out = np.full((len(t0), 2), np.nan)
        acc = self.acceleration.to_numpy() if kind == "bca" else np.zeros(len(t0))
        for j in range(len(t0)):
            t = T[:, j]
            t = t[np.isfinite(t)]
            if t.size < 2 or not np.isfinite(t0[j]):
                continue
            if kind == "percentile":
                out[j] = _norm_inter(t, a2)
            elif kind == "basic":
                out[j] = 2 * t0[j] - _norm_inter(t, a2[::-1])
            elif kind == "normal":
                z = stats.norm.ppf(a2)
                out[j] = t0[j] - (t.mean() - t0[j]) + np.sqrt(t.var(ddof=1)) * z
            else:
                w = stats.norm.ppf(np.sum(t < t0[j]) / t.size)
                if not np.isfinite(w) or not np.isfinite(acc[j]):
                    continue   # R: "estimated adjustment 'w' is infinite"
                z = stats.norm.ppf(a2)
                adj = stats.norm.cdf(w + (w + z) / (1 - acc[j] * (w + z)))
                out[j] = _norm_inter(t, adj)
        return pd.DataFrame(out, index=self.params.index, columns=[0, 1])

    def __repr__(self):
        return (f"BootstrapResults(method={self.method!r}, n_boot={self.n_boot}, "
                f"{int(np.sum(~self.converged))} not converged)")


def bootstrap(res, n_boot: int = 1000, method: BootMethod = "pairs", seed=None,
              indices: np.ndarray | None = None) -> BootstrapResults:
    """Bootstrap the coefficients of a fitted GLM, refitting all replicates at once.

    Parameters
    ----------
    res : GLMResults of an in-memory fit.
    n_boot : number of replicates.
    method : 'pairs' (resample rows: multinomial frequency weights on the same X),
        'residual' (Gaussian only: fitted values plus resampled Pearson residuals),
        'parametric' (responses simulated from the fitted model, at its scale).
    seed : seed or numpy Generator.
    indices : optional (n_boot, n) integer matrix of resampled row positions (0-based),
        used instead of random draws (e.g. to replay R's ``boot.array(b, indices=TRUE)``);
        for 'residual' they index the residuals.

    Returns
    -------
    BootstrapResults

    Notes
    -----
    Every replicate starts from the fitted coefficients and stops by glmkit's rules (R's
    deviance rule and a Newton step below 1e-8 standard errors); replicates the batched
    solver cannot certify are refitted by glmkit's ordinary fit and flagged in
    ``converged`` when that fails too. Aliased columns of ``res`` stay NaN. The family
    is held fixed: for a ``glm_nb`` fit, theta stays at its estimate (MASS's glm.nb
    re-estimates it in each replicate).
    """
    if method not in ("pairs", "residual", "parametric"):
        raise ValueError(f"method must be 'pairs', 'residual' or 'parametric', got {method!r}.")
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}.")
    _check_resamplable(res)
    if indices is not None and method == "parametric":
        raise ValueError("indices resample rows or residuals; method='parametric' simulates "
                         "responses (use seed).")
    fit = _fit_of(res)
    n = fit.y.shape[0]
    rng = np.random.default_rng(seed)
    if indices is not None:
        indices = np.asarray(indices)
        if indices.ndim != 2 or indices.shape[1] != n or indices.min() < 0 \
                or indices.max() >= n:
            raise ValueError(f"indices must be an (n_boot, {n}) matrix of row positions.")
        n_boot = indices.shape[0]
    B = int(n_boot)
    tw0 = fit.freq_weights * fit.prior_weights
    t0 = np.asarray(res.params, dtype=float)[fit.keep]
    if method == "pairs":
        idx = indices if indices is not None else rng.integers(0, n, size=(B, n))
        counts = np.zeros((B, n))
        np.add.at(counts, (np.repeat(np.arange(B), n), idx.ravel()), 1.0)
        y, tw = fit.y, counts * tw0
    else:
        draws: Any = _Replay(indices) if indices is not None and method == "residual" else rng
        y = _simulate(fit, method, B, draws)
        tw = np.broadcast_to(tw0, (B, n))
    params, ok = _refit(fit, y, tw, t0)
    full = np.full((B, len(fit.names)), np.nan)
    full[:, fit.keep] = params
    p0 = pd.Series(np.asarray(res.params, dtype=float), index=fit.names)
    return BootstrapResults(params=p0, replicates=pd.DataFrame(full, columns=fit.names),
                            converged=ok, method=method, _fit=fit)


class _Replay:
    """A stand-in generator whose ``integers`` returns given indices (residual replay)."""

    def __init__(self, indices):
        self._i = indices

    def integers(self, lo, hi, size):
        return self._i
