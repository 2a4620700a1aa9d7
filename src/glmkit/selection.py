"""Model selection by terms, as R's drop1, add1 and step do it for a glm.

Candidate models are column subsets of one design, the model's own or, with an upper
scope, the design of ``response ~ every term of the scope`` built once from the data (as
R's add1 builds ``model.matrix`` of the enlarged formula). Each candidate is fitted by
IRLS on those columns; the tables and the AIC path follow R's definitions:

- AIC of a candidate (R's drop1.glm/add1.glm): a likelihood proxy plus k x rank, shifted so
  that the current model's row equals its ``extractAIC``, R's AIC + (k - 2) x rank. The
  proxy is n log(deviance / n) for the Gaussian family and deviance / dispersion otherwise,
  the dispersion being the current model's (Pearson's estimate, or 1).
- Tests: 'LRT' ('Chisq') is the change of that proxy, labelled 'scaled dev.' when the
  dispersion is not 1; 'Rao' the score statistic of the working residuals; 'F' R's F
  statistics (drop1: on the current model's residual mean deviance; add1: on each larger
  model's).
- step: backward, forward or both, k = 2 (AIC) or log(n) (BIC); each step takes the
  candidate with the smallest AIC and stops when none is smaller (R's 1e-7 margin).
  Terms are dropped only when no other droppable term contains them, and added only when
  they contain no other addable term (R's factor.scope).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .anova import _rao, _subfit
from .families import Binomial, Gaussian, Poisson

__all__ = ["drop1", "add1", "step", "StepResult"]

_TESTS = (None, "Chisq", "LRT", "Rao", "F")


def _factors(term: str) -> frozenset[str]:
    """The variables of a term: its name split on ':' outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in term:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == ":" and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return frozenset(parts)


class _Candidates:
    """Fits of column subsets of one design: the terms it holds, by their factor sets."""

    def __init__(self, model):
        self.model = model
        self.terms: dict[frozenset, tuple[str, list[int]]] = {}
        const = model.problem.X.column_is_constant()
        self.const = [j for j in range(len(const)) if const[j]]
        terms = model.terms if model.terms is not None else [
            (name, [j]) for j, name in enumerate(model.exog_names)]
        for name, cols in terms:
            if name == "Intercept" or (model.terms is None and const[cols[0]]):
                continue
            self.terms[_factors(name)] = (name, list(cols))
        self._fits: dict[frozenset, tuple] = {}

    def columns(self, keys) -> list[int]:
        cols = list(self.const)
        for k in keys:
            cols += self.terms[k][1]
        return sorted(cols)

    def fit(self, keys: frozenset):
        """(deviance, rank, working residuals, working weights) of the model with ``keys``."""
        if keys not in self._fits:
            dev, df_resid, r, w = _subfit(self.model, self.columns(keys))
            self._fits[keys] = (dev, int(round(self.model.wnobs - df_resid)), r, w)
        return self._fits[keys]

    def design(self):
        """The candidate model's design (its products give the Rao scores: no dense copy)."""
        return self.model.problem.X


def _check_test(test):
    if test not in _TESTS:
        raise ValueError(f"test must be one of {_TESTS}, got {test!r}.")
    return "LRT" if test == "Chisq" else test


def _extract_aic(res, k: float) -> float:
    """R's extractAIC for a glm: AIC + (k - 2) x edf, edf the number of coefficients."""
    return float(res.info_criteria("R")["aic"] + (k - 2.0) * res.rank)


def _proxy(res, dev: np.ndarray) -> np.ndarray:
    if isinstance(res.family, Gaussian):
        n = res.nobs
        return n * np.log(dev / n)
    return dev / res.scale


def _table(res, names, dfs, devs, k, sign) -> tuple[pd.DataFrame, np.ndarray]:
    """Df, Deviance and AIC columns (R's drop1/add1): ``dfs`` are ranks, row 0 the model."""
    dfs, devs = np.asarray(dfs, dtype=float), np.asarray(devs, dtype=float)
    loglik = _proxy(res, devs)
    aic = loglik + k * dfs
    aic += _extract_aic(res, k) - aic[0]
    change = sign * (dfs[0] - dfs)
    change[0] = np.nan
    table = pd.DataFrame({"Df": change, "Deviance": devs, "AIC": aic}, index=names)
    if np.all(np.isnan(aic)):
        table = table.drop(columns="AIC")
    return table, loglik


def _chisq(table: pd.DataFrame, label: str, values: np.ndarray) -> pd.DataFrame:
    values = np.maximum(values, 0.0)
    values[0] = np.nan
    table[label] = values
    with np.errstate(invalid="ignore"):
        table["Pr(>Chi)"] = stats.chi2.sf(values, table["Df"].to_numpy())
    return table


def _label(res, test) -> str:
    """R's column name for the chi-squared statistic (scaled when a dispersion is estimated)."""
    if res.scale == 1:
        return "LRT"
    return "scaled dev." if test == "LRT" else "scaled Rao sc."


def _with_f(table: pd.DataFrame, F: np.ndarray, df1, df2) -> pd.DataFrame:
    """R's 'F value' and 'Pr(>F)' columns."""
    table["F value"] = F
    with np.errstate(invalid="ignore"):
        table["Pr(>F)"] = stats.f.sf(F, df1, df2)
    return table


def _warn_f(res):
    if isinstance(res.family, (Binomial, Poisson)) and not res.family.has_free_scale:
        import warnings

        warnings.warn(f"F test assumes 'quasi{res.family.name.lower()}' family",
                      UserWarning, stacklevel=3)


def drop1(res, scope=None, test: str | None = None, k: float = 2.0) -> pd.DataFrame:
    """Single term deletions (R's ``drop1`` for a glm).

    Parameters
    ----------
    res : GLMResults of a model from a formula (terms) or arrays (one term per column).
    scope : term names to try; default: every term that no other term contains.
    test : None, 'Chisq'/'LRT', 'Rao' or 'F'.
    k : the penalty per coefficient in the AIC column (2; log(n) for BIC).
    """
    test = _check_test(test)
    cand = _Candidates(res.model)
    full = frozenset(cand.terms)
    if scope is None:
        keys = _droppable(list(cand.terms), frozenset())
    else:
        keys = [_key_of(cand, t) for t in ([scope] if isinstance(scope, str) else scope)]
    rows = ["<none>"] + [cand.terms[t][0] for t in keys]
    fits = [(res.deviance, res.rank, None, None)] + [cand.fit(full - {t}) for t in keys]
    table, loglik = _table(res, rows, [f[1] for f in fits], [f[0] for f in fits], k, 1.0)
    label = _label(res, test)
    if test == "LRT":
        table = _chisq(table, label, loglik - loglik[0])
    elif test == "Rao":
        X, intercept = cand.design(), bool(cand.const)
        score = [np.nan] + [_rao(X, f[2], f[3], intercept) for f in fits[1:]]
        table = _chisq(table, "Rao score" if res.scale == 1 else label,
                       np.asarray(score) / res.scale)
    elif test == "F":
        _warn_f(res)
        devs, dfs = table["Deviance"].to_numpy(), table["Df"].to_numpy()
        rdf = res.df_resid
        with np.errstate(invalid="ignore", divide="ignore"):
            F = (np.maximum(0.0, devs - devs[0]) / dfs) / (devs[0] / rdf)
        F[dfs < 1e-4] = np.nan
        table = _with_f(table, F, dfs, rdf)
    return table


def add1(res, scope, test: str | None = None, k: float = 2.0, data=None) -> pd.DataFrame:
    """Single term additions (R's ``add1`` for a glm).

    Parameters
    ----------
    res : GLMResults of a formula model.
    scope : the upper model's right-hand side, e.g. ``"~ . + x3 + x4"`` or ``"~ x1 * x2"``
        (``.`` is the model's own terms), or a list of term names to add.
    test, k : as :func:`drop1`.
    data : the data frame the model was fitted on (default: the one the formula model
        kept a reference to).
    """
    test = _check_test(test)
    cand, cur = _upper(res, scope, data)
    keys = _addable(list(cand.terms), cur)
    if not keys:
        raise ValueError("no terms in scope for adding to the model.")
    base = cand.fit(cur)
    fits = [base] + [cand.fit(cur | {t}) for t in keys]
    rows = ["<none>"] + [cand.terms[t][0] for t in keys]
    table, loglik = _table(res, rows, [f[1] for f in fits], [f[0] for f in fits], k, -1.0)
    label = _label(res, test)
    if test == "LRT":
        table = _chisq(table, label, loglik[0] - loglik)
    elif test == "Rao":
        X, intercept = cand.design(), bool(cand.const)
        score = [np.nan] + [_rao(X.take_columns(cand.columns(cur | {t})), base[2], base[3], intercept)
                            for t in keys]
        table = _chisq(table, "Rao score" if res.scale == 1 else label,
                       np.asarray(score) / res.scale)
    elif test == "F":
        _warn_f(res)
        devs, dfs = table["Deviance"].to_numpy(), table["Df"].to_numpy()
        rdf = res.df_resid
        with np.errstate(invalid="ignore", divide="ignore"):
            F = np.maximum(0.0, (devs[0] - devs) / dfs) / (devs / (rdf - dfs))
        F[~(dfs >= np.finfo(float).eps)] = np.nan
        table = _with_f(table, F, dfs, rdf - dfs)
    return table


@dataclass(frozen=True)
class StepResult:
    """What :func:`step` returns: the selected model's results (``fit``), its formula, and
    R's path table (``anova``: Step, Df, Deviance, Resid. Df, Resid. Dev, AIC)."""

    fit: Any
    formula: str
    anova: pd.DataFrame


def step(res, scope=None, direction: str = "both", k: float = 2.0, steps: int = 1000,
         data=None) -> StepResult:
    """Choose a model by AIC in a stepwise algorithm (R's ``step`` for a glm).

    Each step tabulates :func:`drop1` (backward) and :func:`add1` (forward) on the current
    fit, takes the row with the smallest AIC, refits that model from its formula (R's
    ``update``) and keeps it when its AIC is lower by at least 1e-7.

    Parameters
    ----------
    res : GLMResults of a formula model (the start).
    scope : None (backward from the model), an upper right-hand side (``"~ x1 + x2 + x3"``,
        ``.`` for the model's terms), or a dict with 'lower' and/or 'upper'.
    direction : 'both', 'backward' or 'forward'; without an upper scope only backward
        steps are possible (as R).
    k : 2 for AIC, log(n) for BIC.
    steps : the most steps.
    data : as :func:`add1`.
    """
    if direction not in ("both", "backward", "forward"):
        raise ValueError(f"direction must be 'both', 'backward' or 'forward', got {direction!r}.")
    if res.model.formula_info is None:
        raise ValueError("step needs a model built from a formula (glmkit.glm).")
    lower_spec, upper_spec = (scope.get("lower"), scope.get("upper")) \
        if isinstance(scope, dict) else (None, scope)
    backward = direction in ("both", "backward")
    forward = direction in ("both", "forward") and upper_spec is not None
    upper = _scope_terms(upper_spec, res) if upper_spec is not None else []
    lower = {_factors(t) for t in _scope_terms(lower_spec, res)} if lower_spec is not None \
        else set()
    fit = res
    best = _extract_aic(fit, k)
    if not np.isfinite(best):
        raise ValueError("AIC is not defined for this model, so step cannot proceed.")
    path = [("", np.nan, np.nan, fit.df_resid, fit.deviance, best)]
    for _ in range(int(steps)):
        own = list(_Candidates(fit.model).terms)
        tables = []
        if backward:
            drops = _droppable(own, lower)
            if drops:
                names = _names(fit, drops)
                t = drop1(fit, scope=names, k=k)
                t.index = ["<none>"] + ["- " + n for n in names]
                tables.append(t)
        if forward and upper:
            ups = [t for t in upper if _factors(t) not in own]
            if ups:
                t = add1(fit, scope=list(dict.fromkeys(upper)), k=k, data=data)
                t.index = ["<none>"] + ["+ " + n for n in t.index[1:]]
                tables.append(t if not tables else t.iloc[1:])
        if not tables:
            break
        table = pd.concat(tables)
        table = table[(table["Df"] != 0) | table["Df"].isna()]
        if "AIC" not in table:
            raise ValueError("AIC is not defined for this model, so step cannot proceed.")
        order = np.argsort(table["AIC"].to_numpy(), kind="stable")
        change = table.index[order[0]]
        if change == "<none>":
            break
        terms = [v[0] for v in _Candidates(fit.model).terms.values()]
        name = change[2:]
        terms = [t for t in terms if _factors(t) != _factors(name)] if change[0] == "-" \
            else terms + [name]
        new = _refit(fit, _with_rhs(fit.model.formula_info.formula, terms, fit), data)
        aic = _extract_aic(new, k)
        if aic >= best + 1e-7:
            break
        path.append((change, new.df_resid - fit.df_resid, abs(fit.deviance - new.deviance),
                     new.df_resid, new.deviance, aic))
        fit, best = new, aic
    table = pd.DataFrame(path, columns=["Step", "Df", "Deviance", "Resid. Df", "Resid. Dev",
                                        "AIC"])
    return StepResult(fit, fit.model.formula_info.formula, table)


# ---------------------------------------------------------------- helpers for step/add1
def _names(res, keys) -> list[str]:
    terms = _Candidates(res.model).terms
    return [terms[k][0] for k in keys]


def _droppable(current, lower) -> list[frozenset]:
    """R's factor.scope for drop: terms not in ``lower`` that no other such term contains
    (in the model's order)."""
    cands = [t for t in current if t not in lower]
    return [t for t in cands if not any(t < u for u in cands if u != t)]


def _addable(upper, current) -> list[frozenset]:
    """R's factor.scope for add: terms not in the model that contain no other such term
    (in the upper model's order)."""
    cands = [t for t in upper if t not in current]
    return [t for t in cands if not any(u < t for u in cands if u != t)]


def _key_of(cand: _Candidates, term: str) -> frozenset:
    key = _factors(term)
    if key not in cand.terms:
        raise ValueError(f"{term!r} is not a term of the model (terms: "
                         f"{[v[0] for v in cand.terms.values()]}).")
    return key


def _scope_terms(spec, res) -> list[str]:
    """Term names of a scope: a list of names, or a right-hand side ('.' = the model's)."""
    from formulaic import Formula

    if isinstance(spec, (list, tuple)):
        return list(spec)
    if not isinstance(spec, str):
        raise TypeError(f"a scope is a formula string or a list of term names, got {spec!r}.")
    rhs = spec.split("~", 1)[-1].strip()
    own = [v[0] for v in _Candidates(res.model).terms.values()]
    pieces = [s.strip() for s in rhs.split("+")]
    if "." in pieces:
        pieces = [(" + ".join(own) if own else "1") if s == "." else s for s in pieces]
        rhs = " + ".join(pieces)
    parsed = Formula(rhs)
    return [str(t) for t in getattr(parsed, "rhs", parsed) if str(t) != "1"]


def _upper(res, scope, data):
    """The upper model (its columns hold every candidate) and the keys of ``res``'s terms
    in it."""
    if res.model.formula_info is None:
        raise ValueError("add1 needs a model built from a formula (glmkit.glm).")
    own = [v[0] for v in _Candidates(res.model).terms.values()]
    terms = list(dict.fromkeys(own + _scope_terms(scope, res)))
    upper = _build(res, _with_rhs(res.model.formula_info.formula, terms, res), data)
    cand = _Candidates(upper)
    return cand, frozenset(_key_of(cand, t) for t in own)


def _with_rhs(formula: str, terms: list[str], res) -> str:
    """``formula`` with its right-hand side replaced by ``terms`` (its offset() terms and
    the presence of an intercept kept)."""
    lhs, rhs_old = (s.strip() for s in formula.split("~", 1))
    offsets = [t.strip() for t in rhs_old.split("+") if t.strip().startswith("offset(")]
    parts = terms + offsets
    if not any(res.model.problem.X.column_is_constant()):
        parts = ["0"] + parts
    return f"{lhs} ~ {' + '.join(parts) if parts else '1'}"


def _build(res, formula: str, data):
    """The model of ``formula`` on the same data, family, offsets and weights (R's update)."""
    from .formula import model_from_formula

    call = dict(res.model.formula_call or {})
    frame = data if data is not None else call.pop("data", None)
    call.pop("data", None)
    if frame is None:
        raise ValueError("pass data= (the frame the model was fitted on).")
    kw = {k: v for k, v in call.items() if v is not None}
    return model_from_formula(type(res.model), formula, frame, family=res.model.family, **kw)


def _refit(res, formula: str, data):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # rows dropped as in the first fit
        return _build(res, formula, data).fit()
