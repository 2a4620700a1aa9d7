"""Analysis of deviance tables, as R's anova.glm and anova.glmlist build them.

One model: terms are added in order (for models built from arrays each non-constant column
is a term; formula models carry their terms), with rows NULL, term1, term2, ... and columns
Df, Deviance, Resid. Df, Resid. Dev. Several nested models: one row per model with
Resid. Df, Resid. Dev, Df, Deviance. Tests ('Chisq'/'LRT', 'F', 'Rao') use the dispersion of
the largest model; the F test's denominator df is its df_resid (infinite for a fixed
dispersion of 1).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .problem import GLMProblem
from .solvers import SolverOptions
from .solvers.irls import irls

_TESTS = (None, "Chisq", "LRT", "F", "Rao")


def model_terms(model) -> list[tuple[str, list[int]]]:
    """The model's terms as (name, column positions), the constant excluded."""
    terms = getattr(model, "terms", None)
    if terms is not None:
        return [(name, list(cols)) for name, cols in terms if name != "Intercept"]
    const = model.problem.X.column_is_constant()
    return [(name, [j]) for j, name in enumerate(model.exog_names) if not const[j]]


def _working_state(problem: GLMProblem, eta, mu, w):
    r = (problem.y - mu) / problem.family.link.inverse_deriv(eta)
    return r, w


def _subfit(model, cols: list[int]):
    """Fit the model on a subset of columns; returns (deviance, df_resid, r, w)."""
    p = model.problem
    if cols:
        # the design's own column subset: a factor stays codes, a sparse block stays sparse
        sub = GLMProblem(X=p.X.take_columns(cols), y=p.y,
                         family=p.family, prior_weights=p.prior_weights,
                         freq_weights=p.freq_weights, offset=p.offset)
        fit = irls(sub, None, SolverOptions(maxiter=100, tol=1e-10))
        rank = int((~fit.aliased).sum())
        r, w = _working_state(p, fit.eta, fit.mu, np.asarray(fit.working_weights))
        return fit.deviance, model.wnobs - rank, r, w
    eta = p.offset.copy()
    mu = p.family.link.inverse(eta)
    link, fam = p.family.link, p.family
    w = p.total_weights * link.inverse_deriv(eta) ** 2 / fam.variance(mu)
    r, w = _working_state(p, eta, mu, w)
    return p.deviance(mu), model.wnobs, r, w


def _rao(X, r: np.ndarray, w: np.ndarray, intercept: bool) -> float:
    """R's score statistic: null deviance minus deviance of the weighted regression of the
    working residuals r on the design X (weights w): s' (X'WX)^+ s with s = X'(w r), both
    from the design's products (level sums on factors; no dense copy)."""
    s = X.rmatvec(w * r)
    sol, *_ = np.linalg.lstsq(X.sandwich(w), s, rcond=None)
    explained = float(s @ sol)
    if intercept:
        rbar = np.sum(w * r) / np.sum(w)
        explained -= float(np.sum(w) * rbar**2)
    return explained


def _add_test(table: pd.DataFrame, test, stat_col: str, scale: float, df_scale: float):
    if test is None:
        return table
    dfs = table["Df"].to_numpy(dtype=float)
    vals = table[stat_col].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if test in ("Chisq", "LRT", "Rao"):
            v = vals / scale * np.sign(dfs)
            v[(dfs == 0) | ~np.isfinite(dfs)] = np.nan
            v[v < 0] = np.nan
            table["Pr(>Chi)"] = stats.chi2.sf(v, np.abs(dfs))
        else:  # F
            F = (vals / dfs) / scale
            F[(dfs == 0) | ~np.isfinite(dfs)] = np.nan
            F[F < 0] = np.nan
            table["F"] = F
            if np.isinf(df_scale):
                table["Pr(>F)"] = stats.chi2.sf(F * np.abs(dfs), np.abs(dfs))
            else:
                table["Pr(>F)"] = stats.f.sf(F, np.abs(dfs), df_scale)
    return table


def _warn_f(res, df_scale):
    if np.isinf(df_scale):
        warnings.warn(f"using an F test with a fixed dispersion ({res.family.name} family) is "
                      "inappropriate; use test='Chisq'.", UserWarning, stacklevel=4)


def anova(res, *others, test: str | None = None) -> pd.DataFrame:
    """Analysis of deviance: ``anova(res)`` sequential, ``anova(small, big, ...)`` nested.

    Parameters
    ----------
    test : None, 'Chisq' (= 'LRT'), 'F' or 'Rao'.
    """
    if test not in _TESTS:
        raise ValueError(f"test must be one of {_TESTS}, got {test!r}.")
    if others:
        return _anova_list([res, *others], test)
    if getattr(res, "k_constr", 0):
        raise ValueError("a sequential anova refits the model term by term and would drop "
                         "the constraints of fit_constrained results; compare nested fits "
                         "instead: anova(constrained, unconstrained).")
    return _anova_sequential(res, test)


def _dispersion(res) -> tuple[float, float]:
    scale = res.scale
    return scale, (np.inf if scale == 1 else res.df_resid)


def _anova_sequential(res, test) -> pd.DataFrame:
    model = res.model
    X = model.problem.X
    terms = model_terms(model)
    const = [int(j) for j in np.flatnonzero(X.column_is_constant())]
    intercept = bool(const)
    resdev = [res.null_deviance]
    resdf = [res.wnobs - (1 if intercept else 0)]
    score: list[float] = []
    cols = list(const)
    if test == "Rao":
        _, _, r, w = _subfit(res.model, cols)
    for i, (_, tcols) in enumerate(terms):
        cols = cols + tcols
        if test == "Rao":
            # score of the model without term i against the model with it (R's Rao)
            score.append(_rao(X.take_columns(cols), r, w, intercept))
        if i < len(terms) - 1:
            dev, df, r, w = _subfit(res.model, cols)
            resdev.append(dev)
            resdf.append(df)
    if terms:
        resdev.append(res.deviance)
        resdf.append(res.df_resid)
    table = pd.DataFrame({
        "Df": [np.nan] + list(-np.diff(resdf)),
        "Deviance": [np.nan] + list(np.maximum(0.0, -np.diff(resdev))),
        "Resid. Df": resdf,
        "Resid. Dev": resdev,
    }, index=["NULL"] + [name for name, _ in terms])
    if test == "Rao":
        table["Rao"] = [np.nan] + score
    scale, df_scale = _dispersion(res)
    if test == "F":
        _warn_f(res, df_scale)
    return _add_test(table, test, "Rao" if test == "Rao" else "Deviance", scale, df_scale)


def _anova_list(results, test) -> pd.DataFrame:
    n = {r.nobs for r in results}
    if len(n) != 1:
        raise ValueError("models were not all fitted to the same number of rows.")
    resdf = np.array([r.df_resid for r in results])
    resdev = np.array([r.deviance for r in results])
    table = pd.DataFrame({
        "Resid. Df": resdf,
        "Resid. Dev": resdev,
        "Df": np.r_[np.nan, -np.diff(resdf)],
        "Deviance": np.r_[np.nan, -np.diff(resdev)],
    }, index=range(1, len(results) + 1))
    if test == "Rao":
        score = [np.nan]
        for a, b in zip(results[:-1], results[1:]):
            small, big = (a, b) if a.df_resid > b.df_resid else (b, a)
            r = np.asarray(small._resid_response) / small.family.link.inverse_deriv(small._eta)
            w = np.asarray(small._solver_result.working_weights)
            s = _rao(big.model.problem.X, r, w, bool(small.k_constant))
            score.append(s if a.df_resid > b.df_resid else -s)
        table["Rao"] = score
    if test is not None:
        big = results[int(np.argmin(resdf))]
        scale = big.scale
        df_scale = np.inf if scale == 1 else float(resdf.min())
        if test == "F":
            _warn_f(big, df_scale)
        table = _add_test(table, test, "Rao" if test == "Rao" else "Deviance", scale, df_scale)
    return table
