"""Inputs of the categorical-response models: the response as category codes, the design,
frequency weights; from a formula and a data frame or from arrays (the public boundary).

Conventions
-----------
- Category order: a pandas Categorical keeps its categories' order; other responses are
  sorted (R's ``factor()``). Categories absent from the rows are dropped.
- Rows with a missing value in the response, a formula variable or the weights are
  dropped, with a warning giving their number (R's ``na.omit``).
- Weights are frequency weights: weight k counts as k repeated rows; weight 0 drops the row
  (R's ``multinom``/``polr`` case weights).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..formula import (
    FormulaInfo,
    _context,
    _drop_unused_categories,
    _parse,
    _split_offset_columns_by_name,
    _strings_as_categories,
    as_pandas,
)


@dataclass(frozen=True)
class Inputs:
    codes: np.ndarray            # int category index per row, 0..K-1
    levels: list                 # the K categories, in order
    X: np.ndarray                # (n, p) float, C-ordered
    exog_names: list[str]
    weights: np.ndarray | None   # frequency weights or None
    endog_name: str
    formula_info: FormulaInfo | None = None
    pandas: bool = False         # whether the inputs were pandas (labelled outputs)
    offset: np.ndarray | None = None   # the formula's offset() terms, summed


def encode_response(y: Any, name: str = "y") -> tuple[np.ndarray, list]:
    """(codes, levels) of a response; a clear error for fewer than two categories."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"the response must be one column, got {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    s = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y).ravel())
    if s.isna().any():
        what = ("missing values in categorical endog" if isinstance(s.dtype, pd.CategoricalDtype)
                else "NaN in dependent variable")
        raise ValueError(f"the response has missing values ({what}); drop those rows first.")
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.cat.remove_unused_categories()
        levels = list(s.cat.categories)
        codes = s.cat.codes.to_numpy().astype(np.intp)
    else:
        vals = s.to_numpy()
        if vals.dtype.kind == "f" and not np.all(np.isfinite(vals)):
            raise ValueError("the response has non-finite values.")
        small = _small_integer_codes(vals)
        try:
            uniq, codes = small if small is not None else np.unique(vals,
                                                                     return_inverse=True)
        except TypeError:
            raise ValueError("the response mixes types that cannot be ordered; make it a "
                             "pandas Categorical.") from None
        levels = list(uniq)
        codes = codes.astype(np.intp).ravel()
    if len(levels) < 2:
        shown = repr(levels[0]) if levels else "none"
        raise ValueError(f"the response {name!r} has one category ({shown}); a model of "
                         "categories needs at least two.")
    return codes, levels


def _small_integer_codes(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """np.unique(vals, return_inverse=True) of integers in a short range, by counting
    (1M rows: ~8 ms against ~80 ms for the sort)."""
    if vals.dtype.kind not in "iu" or vals.size == 0:
        return None
    lo, hi = int(vals.min()), int(vals.max())
    if hi - lo > 4 * vals.size + 1024:
        return None
    shifted = (vals - lo).astype(np.intp) if lo else vals.astype(np.intp, copy=False)
    present = np.bincount(shifted, minlength=hi - lo + 1) > 0
    lookup = np.cumsum(present) - 1
    return (np.nonzero(present)[0] + lo).astype(vals.dtype), lookup[shifted]


def check_weights(weights: Any, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != n:
        raise ValueError(f"weights have {w.shape[0]} values for {n} rows.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative.")
    if not np.any(w > 0):
        raise ValueError("every weight is zero; nothing is left to fit.")
    return w


def check_rank(X: np.ndarray, names: list[str], w: np.ndarray | None) -> None:
    """A ValueError when the columns of X are linearly dependent (X'WX singular)."""
    if X.shape[1] == 0:
        return
    G = X.T @ (X if w is None else X * w[:, None])
    d = np.sqrt(np.clip(np.diag(G), 1e-300, None))
    ev = np.linalg.eigvalsh(G / np.outer(d, d))
    if np.any(np.diag(G) == 0) or ev[0] < 1e-10 * max(ev[-1], 1.0):
        raise ValueError(f"the design columns {names} are linearly dependent (or a column "
                         "is all zero); drop the aliased columns before fitting.")


def ones_columns(X: np.ndarray) -> np.ndarray:
    """Indices of the columns of X that are 1 in every row (only columns whose first row
    is 1 are read through)."""
    if X.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    cand = np.nonzero(X[0] == 1.0)[0]
    return np.array([j for j in cand if np.all(X[:, j] == 1.0)], dtype=np.intp)


def from_arrays(endog: Any, exog: Any) -> Inputs:
    """Inputs of the statsmodels-shaped classes (``MNLogit(endog, exog)``)."""
    is_pd = isinstance(exog, (pd.DataFrame, pd.Series))
    if isinstance(exog, pd.Series):
        exog = exog.to_frame()
    names = ([str(c) for c in exog.columns] if isinstance(exog, pd.DataFrame) else None)
    X = np.asarray(exog, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"exog must be 2-dimensional, got shape {X.shape}.")
    if names is None:
        ones = set(ones_columns(X).tolist())
        names = ["const" if j in ones else f"x{j + 1}" for j in range(X.shape[1])]
    if not np.all(np.isfinite(X)):
        raise ValueError("exog has missing or non-finite values; drop those rows first.")
    endog_name = getattr(endog, "name", None) or "y"
    if isinstance(endog, pd.DataFrame):
        endog_name = str(endog.columns[0])
    codes, levels = encode_response(endog, endog_name)
    if codes.shape[0] != X.shape[0]:
        raise ValueError(f"endog has {codes.shape[0]} rows and exog {X.shape[0]}.")
    return Inputs(codes, levels, np.ascontiguousarray(X), names, None, str(endog_name),
                  None, is_pd)


def _response_column(parsed, formula: str) -> str:
    lhs = [str(t) for t in parsed.lhs]
    if len(lhs) != 1:
        raise ValueError(f"the formula {formula!r} needs one response column on the left.")
    name = lhs[0]
    for prefix in ("C(", "factor("):
        if name.startswith(prefix) and name.endswith(")"):
            name = name[len(prefix):-1]
    return name.strip("`")


def from_formula(formula: str, data: Any, weights: Any = None) -> Inputs:
    """Inputs of ``multinom``/``polr``: the response column as categories, the design of
    the right-hand side (with an intercept unless the formula drops it)."""
    from formulaic import model_matrix

    frame = as_pandas(data)
    parsed = _parse(formula, list(frame.columns))
    yname = _response_column(parsed, formula)
    if yname not in frame.columns:
        raise ValueError(f"the response {yname!r} is not a column of the data.")
    variables = sorted({str(v) for v in parsed.rhs.required_variables} & set(frame.columns))
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise ValueError(f"weights column {weights!r} is not in the data.")
        weights = frame[weights].to_numpy(dtype=float)
    w = check_weights(weights, frame.shape[0]) if weights is not None else None
    keep = np.array(frame[[yname] + variables].notna().all(axis=1).to_numpy(), dtype=bool)
    if w is not None:
        keep &= w > 0  # weight 0 = a dropped row
    n_dropped_na = int((~frame[[yname] + variables].notna().all(axis=1)).sum())
    if n_dropped_na:
        warnings.warn(f"{n_dropped_na} row(s) with missing values dropped.", stacklevel=3)
    frame = frame.loc[keep].reset_index(drop=True)
    frame = _drop_unused_categories(_strings_as_categories(frame, variables))
    if frame.shape[0] == 0:
        raise ValueError("no rows are left to fit.")
    try:
        mm = model_matrix(parsed.rhs, frame, context=_context(None), na_action="drop",
                          output="pandas")
    except Exception as exc:  # noqa: BLE001 - formulaic's errors are of many classes
        raise ValueError(f"cannot build the design of {formula!r}: {exc}") from None
    rows = mm.index.to_numpy()
    if rows.shape[0] < frame.shape[0]:  # missing values made by transforms (np.log(-1))
        warnings.warn(f"{frame.shape[0] - rows.shape[0]} row(s) with missing values after "
                      "the formula's transforms dropped.", stacklevel=3)
        if rows.shape[0] == 0:
            raise ValueError("no rows are left to fit.")
    names = [str(c) for c in mm.columns]
    design_pos, offset_pos = _split_offset_columns_by_name(names)
    exog_names = [names[j] for j in design_pos]
    info = FormulaInfo(formula, mm.model_spec, names, exog_names, variables)
    codes, levels = encode_response(frame[yname].iloc[rows], yname)
    if w is not None:
        w = w[keep][rows]
    values = mm.to_numpy(dtype=float)
    X = np.ascontiguousarray(values[:, design_pos])
    offset = values[:, offset_pos].sum(axis=1) if offset_pos else None
    return Inputs(codes, levels, X, exog_names, w, yname, info, True, offset)


def design_for(info: FormulaInfo, data: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Design rows and offset of new data, coded as the fit (NaN rows where values are
    missing)."""
    return info.design_for(data)


#: statsmodels' optimizer keywords that do not change the maximum (accepted and ignored)
_OPTIMIZER_KEYWORDS = {"full_output", "callback", "retall", "gtol", "pgtol", "m", "factr",
                       "epsilon", "maxfun", "warn_convergence", "skip_hessian", "ftol", "xtol",
                       "norm", "approx_grad", "bounds", "loglike_and_score"}
_METHODS = {"newton", "bfgs", "lbfgs", "nm", "cg", "ncg", "powell", "basinhopping",
            "minimize"}


def check_fit_keywords(method: str, kwargs: dict[str, Any]) -> tuple[str, dict]:
    """statsmodels' fit keywords: optimizer settings are accepted (Newton reaches the
    maximum whatever they say); returns ``(cov_type, cov_kwds)`` for
    ``get_robustcov_results`` (which checks them against the rows); an unknown keyword
    is an error."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}, got {method!r}.")
    cov_type = kwargs.pop("cov_type", "nonrobust")
    cov_kwds = kwargs.pop("cov_kwds", None)
    if cov_kwds is not None and not isinstance(cov_kwds, dict):
        raise TypeError(f"cov_kwds must be a dict, got {type(cov_kwds).__name__}.")
    unknown = sorted(set(kwargs) - _OPTIMIZER_KEYWORDS)
    if unknown:
        raise TypeError(f"fit() got unexpected keyword argument(s) {unknown}.")
    return cov_type, dict(cov_kwds or {})
