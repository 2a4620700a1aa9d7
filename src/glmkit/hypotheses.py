"""Tests by model term (statsmodels' ``wald_test_terms``) and pairwise comparisons of a
factor's levels (``t_test_pairwise``) with multiple-testing adjusted p-values.

Conventions
-----------
- ``wald_test_terms``: one joint Wald test per formula term (``model.terms``; without a
  formula, per column), F with df_resid when the results use t, else chi2 (statsmodels).
- ``score_test``: statsmodels' results method, the model's score test at these params.
- ``t_test_pairwise``: the differences level_j - level_i (i < j) of a treatment-coded factor,
  each tested with ``t_test``; p-values adjusted by ``multipletests`` (statsmodels' methods
  'bonferroni', 'sidak', 'holm', 'hs' (Holm-Sidak), 'fdr_bh').
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd


class WaldTestResults:
    """Joint Wald tests, one row per term (statsmodels' ``WaldTestResults``).

    Attributes
    ----------
    table : DataFrame
        Columns statistic, pvalue, df_constraint (and df_denom for F), one row per term.
    distribution : {"F", "chi2"}
    statistic, pvalues, df_constraints, df_denom : ndarray
        The table's columns.
    """

    def __init__(self, table: pd.DataFrame, distribution: str):
        self.table = table
        self.distribution = distribution
        self.statistic = table["statistic"].to_numpy()
        self.pvalues = table["pvalue"].to_numpy()
        self.df_constraints = table["df_constraint"].to_numpy()
        if distribution == "F":
            self.df_denom = table["df_denom"].to_numpy()

    @property
    def col_names(self) -> list[str]:
        """Column names of ``summary_frame``: F or chi2, P>F or P>chi2, df constraint(, df denom)."""
        out = [self.distribution, f"P>{self.distribution}", "df constraint"]
        return out + (["df denom"] if self.distribution == "F" else [])

    def summary_frame(self) -> pd.DataFrame:
        """The table with the distribution's column names."""
        return self.table.set_axis(self.col_names, axis=1)

    def __str__(self) -> str:
        return self.summary_frame().to_string()

    __repr__ = __str__


def wald_test_terms(res, skip_single: bool = False, extra_constraints=None,
                    combine_terms=None, scalar: bool = True) -> WaldTestResults:
    """Joint Wald test that all coefficients of each term are zero."""
    k = len(res.model.exog_names)
    eye = np.eye(k)
    terms = res.model.terms or [(n, [i]) for i, n in enumerate(res.model.exog_names)]
    single_ok = res.model.terms is not None
    constraints: list = []
    combined: dict[str, list[np.ndarray]] = {c: [] for c in (combine_terms or [])}
    for name, cols in terms:
        R = eye[list(cols)]
        for c in combined:
            if c in name:
                combined[c].append(R)
        if skip_single and (len(cols) == 1 or not single_ok):
            continue
        constraints.append((name, R))
    constraints += [(c, np.vstack(rs)) for c, rs in combined.items()]
    constraints += list(extra_constraints or [])
    rows = []
    for _, R in constraints:
        wt = res.wald_test(R, scalar=scalar)
        row = [float(wt.statistic), float(wt.pvalue), int(wt.df_num)]
        rows.append(row + ([wt.df_denom] if res.use_t else []))
    cols = ["statistic", "pvalue", "df_constraint"] + (["df_denom"] if res.use_t else [])
    table = pd.DataFrame(rows, index=[n for n, _ in constraints], columns=cols)
    return WaldTestResults(table, "F" if res.use_t else "chi2")


def multipletests(pvals, alpha: float = 0.05, method: str = "hs"):
    """(reject, adjusted p-values) as statsmodels' multipletests for the methods above."""
    p = np.asarray(pvals, dtype=float)
    m = p.size
    order = np.argsort(p)
    ps = p[order]
    if method == "bonferroni":
        adj = np.minimum(p * m, 1.0)
    elif method == "sidak":
        adj = -np.expm1(m * np.log1p(-p))
    elif method in ("holm", "hs", "holm-sidak"):
        steps = m - np.arange(m)
        raw = ps * steps if method == "holm" else -np.expm1(steps * np.log1p(-ps))
        adj = np.empty(m)
        adj[order] = np.minimum(np.maximum.accumulate(raw), 1.0)
    elif method in ("fdr_bh", "fdr_i", "fdr_p", "fdri", "fdrp"):
        raw = ps * m / np.arange(1, m + 1)
        adj = np.empty(m)
        adj[order] = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    else:
        raise ValueError("method must be 'bonferroni', 'sidak', 'holm', 'hs' or 'fdr_bh', "
                         f"got {method!r}.")
    return adj <= alpha, adj


class MultiCompResult:
    """Pairwise comparisons of a factor's levels (statsmodels' ``MultiCompResult``).

    Attributes
    ----------
    result_frame : DataFrame
        coef, std err, t or z, P>|t| or P>|z|, Conf. Int. Low, Conf. Int. Upp.,
        pvalue-<method>, reject-<method>, one row per pair "level_j-level_i".
    contrasts : ndarray
        The restriction matrix, one row per pair.
    term, contrast_labels, term_encoding_matrix
        The term's name, the row labels, and the levels' coding (levels x columns).
    """

    def __init__(self, result_frame, contrasts, term, contrast_labels, term_encoding_matrix):
        self.result_frame = result_frame
        self.contrasts = contrasts
        self.term = term
        self.contrast_labels = contrast_labels
        self.term_encoding_matrix = term_encoding_matrix


def t_test_pairwise(res, term_name: str, method="hs", alpha: float = 0.05,
                    factor_labels=None) -> MultiCompResult:
    """Pairwise t tests between the levels of a treatment-coded factor term."""
    model = res.model
    info = getattr(model, "formula_info", None)
    terms = dict(model.terms or [])
    if info is None or term_name not in terms:
        raise ValueError(f"{term_name!r} is not a term of the model's formula.")
    levels = info.levels().get(term_name)
    if levels is None:
        raise ValueError(f"{term_name!r} is not a categorical main effect.")
    cols = list(terms[term_name])
    names = [model.exog_names[c] for c in cols]
    coded = {}
    for c, n in zip(cols, names):
        m = re.search(r"\[T\.(.*)\]$", n)
        if m is None:
            raise NotImplementedError("t_test_pairwise needs treatment coding of the term.")
        coded[m.group(1)] = c
    cm = np.zeros((len(levels), len(cols)))
    for i, lev in enumerate(levels):
        if str(lev) in coded:
            cm[i, cols.index(coded[str(lev)])] = 1.0
    labels_src = list(factor_labels) if factor_labels is not None else [str(v) for v in levels]
    if len(labels_src) != len(levels):
        raise ValueError(f"factor_labels has the wrong length, should be {len(levels)}")
    ii, jj = np.triu_indices(len(levels), 1)
    sub = cm[jj] - cm[ii]
    contrasts = np.zeros((len(ii), len(model.exog_names)))
    contrasts[:, cols] = sub
    labels = [f"{labels_src[j]}-{labels_src[i]}" for i, j in zip(ii, jj)]
    tt = res.t_test(contrasts)
    stat = "t" if tt.distribution == "t" else "z"
    ci = tt.conf_int(alpha)
    frame = pd.DataFrame({"coef": tt.effect, "std err": tt.sd, stat: tt.statistic,
                          f"P>|{stat}|": tt.pvalue, "Conf. Int. Low": ci[:, 0],
                          "Conf. Int. Upp.": ci[:, 1]}, index=labels)
    for meth in method if isinstance(method, list) else [method]:
        reject, adj = multipletests(tt.pvalue, alpha=alpha, method=meth)
        frame[f"pvalue-{meth}"] = adj
        frame[f"reject-{meth}"] = reject
    return MultiCompResult(frame, contrasts, term_name, labels, cm)


@dataclass(frozen=True)
class ScoreTestResult:
    """A score test (statsmodels' ``ScoreTestResult``): unpacks as (statistic, pvalue).

    Attributes
    ----------
    statistic, pvalue : float
        The chi2 statistic and its p-value.
    distribution : str
        "chi2".
    k_constraint : int
        Degrees of freedom (number of restrictions).
    """

    statistic: float
    pvalue: float
    distribution: str = "chi2"
    k_constraint: int | None = None

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.pvalue))


def score_test(res, exog_extra=None, params_constrained=None, hypothesis: str = "joint",
               cov_type=None, cov_kwds=None, k_constraints=None, observed: bool = True,
               *, return_object=None) -> ScoreTestResult:
    """Score test of columns ``exog_extra`` added to the model of ``res`` (statsmodels'
    ``GLMResults.score_test``): :meth:`GLM.score_test` at these results' params.

    The statistic is R's Rao statistic over the bigger model's dispersion (README
    Conventions: score test). Only the joint hypothesis with the model-based covariance is
    available; ``return_object`` is ignored, as in statsmodels 0.15.
    """
    if hypothesis != "joint" or cov_type is not None or cov_kwds is not None:
        raise NotImplementedError("score_test: only hypothesis='joint' with the model-based "
                                  "covariance is available.")
    params = res._params if params_constrained is None else np.asarray(params_constrained)
    if exog_extra is None and k_constraints is None:
        # fit_constrained results test their own constraints (statsmodels); else none
        lc = getattr(res, "constraints", None)
        k_constraints = 0 if lc is None else int(lc.k_constr)
    stat, pvalue, df = res.model.score_test(params, k_constraints=k_constraints,
                                            exog_extra=exog_extra, observed=observed)
    return ScoreTestResult(float(np.squeeze(stat)), float(np.squeeze(pvalue)), "chi2", int(df))
