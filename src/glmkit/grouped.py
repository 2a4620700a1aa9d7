"""``glmkit.glm_by``: one GLM per group of rows, fitted together as one batched IRLS.

The formula is built once on the whole data, so every group has the same columns (the
groups x terms table of ``params``); stateful transforms (``poly``, splines, centring)
are therefore evaluated on the whole data, and a factor level absent from a group makes
that group's design rank deficient (its coefficient is NaN, as R's NA). Groups the batched
solver cannot certify (rank deficient, no convergence, means leaving the range) are
refitted with glmkit's ordinary fit, whose answer (converged or not) is what they report.
"""
from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._parallel import map_chunks
from .formula_api import glm as _glm
from .solvers import concave
from .solvers.batched import (
    CONVERGED,
    BatchData,
    BatchResult,
    batched_inverse,
    batched_irls,
    chunks,
    concat_results,
)


@dataclass(frozen=True)
class _Rows:
    """The model's per-row arrays, rows of each group contiguous (``starts``)."""

    X: np.ndarray
    y: np.ndarray
    prior_weights: np.ndarray
    freq_weights: np.ndarray
    offset: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    def group(self, g: int):
        sl = slice(self.starts[g], self.starts[g] + self.counts[g])
        return (self.X[sl], self.y[sl], self.prior_weights[sl], self.freq_weights[sl],
                self.offset[sl])


@dataclass(frozen=True)
class GroupedResults:
    """One GLM per group. Series and DataFrames are indexed by the group keys.

    Attributes
    ----------
    params, bse : DataFrame, groups x coefficients (NaN for aliased columns).
    deviance, pearson_chi2, scale, df_resid, nobs : Series per group.
    converged : Series of bool: certified at the maximum (see solvers/batched.py).
    refitted : Series of bool: the group was fitted by glmkit's ordinary fit because the
        batched solver could not certify it (rank deficiency, range, iterations).
    """

    params: pd.DataFrame
    bse: pd.DataFrame
    deviance: pd.Series
    pearson_chi2: pd.Series
    scale: pd.Series
    df_resid: pd.Series
    nobs: pd.Series
    converged: pd.Series
    refitted: pd.Series
    use_t: bool
    model: Any = field(repr=False)
    _rows: _Rows = field(repr=False)
    _fits: dict = field(repr=False, default_factory=dict)

    @property
    def groups(self) -> pd.Index:
        return self.params.index

    @property
    def tvalues(self) -> pd.DataFrame:
        return self.params / self.bse

    def _dist(self, g):
        return stats.t(self.df_resid.loc[g]) if self.use_t else stats.norm

    @property
    def pvalues(self) -> pd.DataFrame:
        t = self.tvalues.to_numpy()
        if self.use_t:
            df = self.df_resid.to_numpy()[:, None]
            p = 2.0 * stats.t.sf(np.abs(t), df)
        else:
            p = 2.0 * stats.norm.sf(np.abs(t))
        return pd.DataFrame(p, index=self.params.index, columns=self.params.columns)

    def tidy(self, conf_level: float = 0.95) -> pd.DataFrame:
        """One row per group and term, as R's ``broom::tidy(fit, conf.int = TRUE)`` per
        group: estimate, std_error, statistic, p_value, conf_low, conf_high.

        The intervals are Wald intervals (t quantiles with df_resid when the dispersion is
        estimated, else normal), as ``res.conf_int()`` and R's ``confint.default``; broom
        gives profile intervals (``res.results(g).conf_int(method='profile')``)."""
        if not 0 < conf_level < 1:
            raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}.")
        q_tail = 0.5 + conf_level / 2.0
        est, se = self.params.to_numpy(), self.bse.to_numpy()
        if self.use_t:
            q = stats.t.ppf(q_tail, self.df_resid.to_numpy())[:, None]
        else:
            q = stats.norm.ppf(q_tail)
        G, k = est.shape
        names = list(self.groups.names) if self.groups.nlevels > 1 else [
            self.groups.name or "group"]
        keys = self.groups.repeat(k)
        out = pd.DataFrame(keys.to_frame(index=False).to_numpy() if self.groups.nlevels > 1
                           else keys.to_numpy()[:, None], columns=names)
        out["term"] = np.tile(np.asarray(self.params.columns), G)
        out["estimate"] = est.ravel()
        out["std_error"] = se.ravel()
        out["statistic"] = self.tvalues.to_numpy().ravel()
        out["p_value"] = self.pvalues.to_numpy().ravel()
        out["conf_low"] = (est - q * se).ravel()
        out["conf_high"] = (est + q * se).ravel()
        return out

    def results(self, group: Hashable):
        """The full :class:`~glmkit.GLMResults` of one group: glmkit's ordinary fit on the
        group's rows of the model matrix, started from the batched coefficients (so it
        costs a certification pass, not a fit)."""
        g = self.groups.get_loc(group)
        if not isinstance(g, (int, np.integer)):
            raise KeyError(f"group {group!r} is not one key")
        if g in self._fits:
            return self._fits[g]
        start = self.params.iloc[g].to_numpy()
        res = _fit_group(self.model, self._rows, int(g),
                         start if np.all(np.isfinite(start)) else None)
        self._fits[g] = res
        return res

    def __repr__(self):
        return (f"GroupedResults({len(self.groups)} groups x {self.params.shape[1]} "
                f"coefficients, {int(self.converged.sum())} converged, "
                f"{int(self.refitted.sum())} refitted)")


def _group_model(model, rows: _Rows, g: int):
    from .model import GLM

    X, y, pw, fw, off = rows.group(g)
    names = list(model.exog_names)
    kw: dict[str, Any] = {}
    if np.any(off != 0):
        kw["offset"] = off
    if np.any(pw != 1):
        kw["var_weights"] = pw
    if np.any(fw != 1):
        kw["freq_weights"] = fw
    return GLM(pd.Series(y, name=model.endog_names), pd.DataFrame(X, columns=names),
               family=model.family, hasconst=bool(model.k_constant), **kw)


def _fit_group(model, rows: _Rows, g: int, start=None):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the group's status is reported in the table
        return _group_model(model, rows, g).fit(start_params=start)


def _group_codes(data, by, labels, n_dropped: int):
    by_list = [by] if isinstance(by, (str, int)) or not isinstance(by, (list, tuple)) else list(by)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    missing = [b for b in by_list if b not in frame.columns]
    if missing:
        raise KeyError(f"by: no column(s) {missing} in the data.")
    keys = frame[by_list]
    if n_dropped:
        if labels is None or not frame.index.is_unique:
            raise ValueError("glm_by with missing='drop' needs a data frame with a unique index")
        keys = keys.loc[labels]
    if keys.isna().any().any():
        raise ValueError(f"by: the column(s) {by_list} have missing values.")
    grouped = keys.groupby(by_list, sort=True, observed=True)
    codes = grouped.ngroup().to_numpy()
    index = pd.MultiIndex.from_frame(grouped.size().reset_index()[by_list]) \
        if len(by_list) > 1 else pd.Index(grouped.size().index, name=by_list[0])
    return codes, index


def _size_classes(counts: np.ndarray) -> list[np.ndarray]:
    """Groups batched together: sizes within a factor of 2, so that padding at most
    doubles the rows and one large group does not pad thousands of small ones."""
    cls = np.ceil(np.log2(np.maximum(counts, 1))).astype(int)
    return [np.flatnonzero(cls == c) for c in np.unique(cls)]


def _padded(rows: _Rows, gids: np.ndarray, family) -> tuple[BatchData, np.ndarray]:
    """Groups ``gids`` as a (G, m, p) batch, padding rows with zero weight."""
    c = rows.counts[gids]
    G, m, p = len(gids), int(c.max()), rows.X.shape[1]
    local = np.repeat(np.arange(G), c)
    pos = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
    src = np.repeat(rows.starts[gids], c) + pos
    if G == len(rows.counts) and np.array_equal(src, np.arange(rows.X.shape[0])):
        src = slice(None)   # every group, in order: no gather
    fw, pw, y = rows.freq_weights[src], rows.prior_weights[src], rows.y[src]
    tw = fw * pw
    ybar = float(np.sum(tw * y) / max(np.sum(tw), 1e-300))
    zero = np.zeros(1)
    with np.errstate(all="ignore"):
        pad_eta = float(family.link(family.starting_mu(np.array([ybar]), np.array([1.0])))[0])
        if family.link.valid_eta(zero) and family.valid_mu(family.link.inverse(zero)):
            pad_eta = 0.0   # padding rows (zero X and offset) are inside the range as they are
    pad_y = float(family.link.inverse(np.array([pad_eta]))[0])

    def put(v, fill):
        out = np.full((G, m), fill, dtype=float)
        out[local, pos] = v
        return out

    XT = np.zeros((G, p, m))   # (p, m) per group: the layout BatchData works in (no copy)
    XT[local, :, pos] = rows.X[src]
    data = BatchData(X=XT.transpose(0, 2, 1), y=put(y, pad_y), tw=put(tw, 0.0),
                     offset=put(rows.offset[src], 0.0),
                     n_eff=np.bincount(local, weights=np.where(pw > 0, fw, 0.0), minlength=G),
                     pad_eta=None if pad_eta == 0.0 else pad_eta)
    return data, put(pw, 1.0)


def _null_start(batch: BatchData, family, const_cols) -> np.ndarray | None:
    """Each group's intercept-only point g(mean y) (ignoring any offset), where the
    likelihood is concave (any valid start leads to the maximum) and X has a constant
    column (glmkit's own IRLS starts there, solvers/irls.py): the start of groups whose
    first step from R's starting means leaves the range. None: no such start."""
    if len(const_cols) == 0:
        return None
    tw = batch.tw
    with np.errstate(all="ignore"):
        ybar = np.sum(tw * batch.y, axis=1) / np.sum(tw, axis=1)
        eta0 = family.link(family.starting_mu(ybar, np.ones_like(ybar)))
    beta = np.zeros((batch.B, batch.p))
    beta[:, const_cols[0]] = np.where(np.isfinite(eta0), eta0, 0.0)
    return beta


def _fit_batched(rows: _Rows, family):
    """All groups: by size class, each class in chunks on glmkit's threads."""
    p = rows.X.shape[1]
    tasks = []
    for gids in _size_classes(rows.counts):
        m = int(rows.counts[gids].max())
        tasks.append([gids[a:b] for a, b in chunks(len(gids), len(gids) * m * p)])

    const_cols: list = []
    if concave(family) and rows.X.shape[0]:
        cand = np.flatnonzero(rows.X[0] == 1.0)
        const_cols = [j for j in cand if np.all(rows.X[:, j] == 1.0)]

    def fit(gids: np.ndarray):
        batch, pw = _padded(rows, gids, family)
        return batched_irls(batch, family, prior_weights=pw,
                            alt_start=_null_start(batch, family, const_cols))

    order = np.concatenate([g for t in tasks for g in t])
    out = concat_results([r for t in tasks for r in map_chunks(fit, t)])
    if np.array_equal(order, np.arange(len(order))):
        return out
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    return BatchResult(*(getattr(out, f)[inv] for f in (
        "params", "deviance", "pearson_chi2", "gram", "status", "n_iter",
        "newton_decrement")))


def glm_by(formula: str, data, by, family=None, **kwargs: Any) -> GroupedResults:
    """One GLM per group of rows (R's ``lme4::lmList`` / dplyr ``group_modify`` with
    ``glm``), fitted as one batched IRLS.

    Parameters
    ----------
    formula : str, as :func:`glmkit.glm`.
    data : DataFrame.
    by : column name (or list of names) whose values define the groups.
    family : a glmkit family (default Gaussian).
    **kwargs : :func:`glmkit.glm` keywords (offset, exposure, freq_weights, var_weights,
        missing, ...), for the whole data.

    Returns
    -------
    GroupedResults

    Notes
    -----
    Each group's numbers equal its own glmkit fit on its rows of the model matrix: the
    batched solver uses glmkit's stopping rules (R's deviance rule and the Newton step
    below 1e-8 standard errors), the covariance is scale (X'WX)^-1 at the solution with
    the Pearson scale for dispersion families, and groups it cannot certify are fitted by
    glmkit's ordinary fit.
    """
    model = _glm(formula, data, family=family, **kwargs)
    prob = model.problem
    X = prob.X.to_dense() if hasattr(prob.X, "to_dense") else np.asarray(prob.X)
    codes, index = _group_codes(data, by, model.data.row_labels, model.n_dropped)
    # rows already grouped (sorted by the key) need no gather
    order = slice(None) if np.all(codes[1:] >= codes[:-1]) else np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(index))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n = X.shape[0]
    rows = _Rows(X=np.ascontiguousarray(np.asarray(X, dtype=float)[order]),
                 y=np.asarray(prob.y, dtype=float)[order],
                 prior_weights=np.broadcast_to(prob.prior_weights, (n,))[order],
                 freq_weights=np.broadcast_to(prob.freq_weights, (n,))[order],
                 offset=np.broadcast_to(prob.offset, (n,))[order],
                 starts=starts, counts=counts)
    return _assemble(model, rows, index, _fit_batched(rows, model.family))


def _assemble(model, rows: _Rows, index: pd.Index, out) -> GroupedResults:
    G, p = out.params.shape
    free = model.family.has_free_scale
    pos = rows.prior_weights > 0
    wnobs = np.add.reduceat(np.where(pos, rows.freq_weights, 0.0), rows.starts)
    params = out.params.copy()
    df_resid = wnobs - p
    with np.errstate(all="ignore"):
        scale = out.pearson_chi2 / df_resid if free else np.ones(G)
        inv, _ = batched_inverse(out.gram)
        bse = np.sqrt(np.einsum("gii->gi", inv) * scale[:, None])
    dev, pearson = out.deviance.copy(), out.pearson_chi2.copy()
    converged = out.status == CONVERGED
    refit = ~converged
    fits = {}
    for g in np.flatnonzero(refit):
        res = _fit_group(model, rows, int(g))
        fits[int(g)] = res
        params[g] = np.asarray(res.params)
        bse[g] = np.asarray(res.bse)
        dev[g], pearson[g] = res.deviance, res.pearson_chi2
        scale[g], df_resid[g] = res.scale, res.df_resid
        converged[g] = bool(res.converged)
    names = list(model.exog_names)
    S = lambda v, name: pd.Series(v, index=index, name=name)
    return GroupedResults(
        params=pd.DataFrame(params, index=index, columns=names),
        bse=pd.DataFrame(bse, index=index, columns=names),
        deviance=S(dev, "deviance"), pearson_chi2=S(pearson, "pearson_chi2"),
        scale=S(scale, "scale"), df_resid=S(df_resid, "df_resid"),
        nobs=S(rows.counts, "nobs"), converged=S(converged, "converged"),
        refitted=S(refit, "refitted"), use_t=bool(free), model=model, _rows=rows,
        _fits=fits)
