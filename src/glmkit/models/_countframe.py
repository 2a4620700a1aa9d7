"""Inputs of the zero-inflated and hurdle count models: a two-part formula
``"y ~ x1 + x2 | z1"`` (count part | zero part) and a data frame, or statsmodels' arrays
(the public boundary: everything is checked here, once).

Conventions
-----------
- Without ``|`` the zero part has the count part's regressors (pscl).
- ``offset(...)`` terms belong to the part whose formula holds them; the ``offset``
  argument is added to the count part (pscl).
- Rows with a missing value in the response, a variable of either part, the weights or
  the offset are dropped, with a warning giving their number; rows of weight 0 too.
- The response must be counts: finite, non-negative integers, with at least one zero and
  one positive count.
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
from ._frame import check_rank, check_weights


@dataclass(frozen=True)
class CountInputs:
    y: np.ndarray                  # float, integer-valued counts
    X: np.ndarray                  # count part design
    x_names: list[str]
    Z: np.ndarray                  # zero part design
    z_names: list[str]
    x_offset: np.ndarray | None
    z_offset: np.ndarray | None
    weights: np.ndarray | None     # frequency weights (all > 0) or None
    endog_name: str
    x_info: FormulaInfo | None = None
    z_info: FormulaInfo | None = None
    offset_arg: str | None = None  # the column given as ``offset=`` (prediction)

    @property
    def n(self) -> int:
        return int(self.y.shape[0])


def split_formula(formula: str) -> tuple[str, str, str]:
    """(response, count right-hand side, zero right-hand side) of ``"y ~ x | z"``."""
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"the formula must be a string like 'y ~ x1 + x2 | z1', got "
                         f"{formula!r}.")
    lhs, rhs = formula.split("~", 1)
    depth, cuts = 0, []
    for i, ch in enumerate(rhs):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "|" and depth == 0:
            cuts.append(i)
    if len(cuts) > 1:
        raise ValueError(f"the formula {formula!r} has more than one '|': write "
                         "'y ~ count regressors | zero regressors'.")
    if not lhs.strip():
        raise ValueError(f"the formula {formula!r} needs a response on the left of '~'.")
    if not cuts:
        return lhs.strip(), rhs.strip(), rhs.strip()
    count, zero = rhs[:cuts[0]].strip(), rhs[cuts[0] + 1:].strip()
    if not count:
        raise ValueError(f"the count part of {formula!r} (before '|') is empty; write '1' "
                         "for an intercept only.")
    if not zero:
        raise ValueError(f"the zero-model formula of {formula!r} (after '|') is empty; "
                         "write '| 1' for an intercept-only zero model.")
    return lhs.strip(), count, zero


def check_counts(y: np.ndarray, name: str = "y") -> np.ndarray:
    """The response as float counts; a clear error for anything that is not counts."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"the response {name!r} must be numeric counts, got dtype {y.dtype}.")
    y = y.astype(float).ravel()
    if not np.all(np.isfinite(y)):
        raise ValueError(f"the response {name!r} has missing or non-finite values.")
    if np.any(y < 0):
        raise ValueError(f"the response {name!r} has negative values; counts are >= 0.")
    if np.any(np.abs(y - np.round(y)) > 1e-8 * np.maximum(1.0, y)):
        raise ValueError(f"the response {name!r} has counts that are not integers "
                         "(zero-inflated and hurdle models need whole numbers).")
    y = np.round(y)
    if not np.any(y == 0):
        raise ValueError(f"the response {name!r} has no zeros: a zero-inflated or hurdle "
                         "model needs some (fit a plain count GLM instead).")
    if not np.any(y > 0):
        raise ValueError(f"the response {name!r} is all zeros; nothing to fit.")
    return y


def _numeric(frame: pd.DataFrame, value: Any, what: str, n: int) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in frame.columns:
            raise ValueError(f"{what} column {value!r} is not in the data.")
        value = frame[value]
    v = np.asarray(value, dtype=float).ravel()
    if v.shape[0] != n:
        raise ValueError(f"{what} has {v.shape[0]} values for {n} rows.")
    return v


def _part(rhs, frame: pd.DataFrame, formula: str, variables: list[str]):
    from formulaic import model_matrix
    try:
        mm = model_matrix(rhs, frame, context=_context(None), na_action="drop",
                          output="pandas")
    except Exception as exc:  # noqa: BLE001 - formulaic's errors are of many classes
        raise ValueError(f"cannot build the design of {formula!r}: {exc}") from None
    names = [str(c) for c in mm.columns]
    design_pos, offset_pos = _split_offset_columns_by_name(names)
    exog_names = [names[j] for j in design_pos]
    info = FormulaInfo(formula, mm.model_spec, names, exog_names, variables)
    return mm, design_pos, offset_pos, exog_names, info


def _values(mm: pd.DataFrame, rows: np.ndarray, design_pos, offset_pos):
    values = mm.loc[rows].to_numpy(dtype=float)
    X = np.ascontiguousarray(values[:, design_pos])
    off = values[:, offset_pos].sum(axis=1) if offset_pos else None
    return X, off


def from_formula(formula: str, data: Any, weights: Any = None,
                 offset: Any = None) -> CountInputs:
    """Inputs of ``zeroinfl``/``hurdle`` from a two-part formula and a data frame."""
    lhs, rc, rz = split_formula(formula)
    frame = as_pandas(data).reset_index(drop=True)
    cols = list(frame.columns)
    pc, pz = _parse(f"{lhs} ~ {rc}", cols), _parse(f"{lhs} ~ {rz}", cols)
    yname = lhs.strip("` ")
    if yname not in frame.columns:
        raise ValueError(f"the response {yname!r} is not a column of the data (write the "
                         "column's name on the left of '~').")
    variables = sorted(({str(v) for v in pc.rhs.required_variables}
                        | {str(v) for v in pz.rhs.required_variables}) & set(cols))
    n = frame.shape[0]
    w = check_weights(_numeric(frame, weights, "weights", n), n) if weights is not None \
        else None
    off = _numeric(frame, offset, "offset", n)
    complete = np.array(frame[[yname] + variables].notna().all(axis=1), dtype=bool)
    if off is not None:
        complete &= np.isfinite(off)
    if not complete.all():
        warnings.warn(f"{int((~complete).sum())} row(s) with missing values dropped.",
                      stacklevel=3)
    keep = complete & (w > 0 if w is not None else True)
    sub = _drop_unused_categories(_strings_as_categories(frame.loc[keep], variables))
    if sub.shape[0] == 0:
        raise ValueError("no rows are left to fit.")
    fc, fz = f"{lhs} ~ {rc}", f"{lhs} ~ {rz}"
    mmc, dc, oc, xn, xinfo = _part(pc.rhs, sub, fc, variables)
    mmz, dz, oz, zn, zinfo = _part(pz.rhs, sub, fz, variables)
    rows = mmc.index.intersection(mmz.index).to_numpy()
    if rows.shape[0] < sub.shape[0]:
        warnings.warn(f"{sub.shape[0] - rows.shape[0]} row(s) with missing values after "
                      "the formula's transforms dropped.", stacklevel=3)
        if rows.shape[0] == 0:
            raise ValueError("no rows are left to fit.")
    X, xo = _values(mmc, rows, dc, oc)
    Z, zo = _values(mmz, rows, dz, oz)
    if not zn:
        raise ValueError(f"the zero part of {formula!r} has no columns; write '| 1' for an "
                         "intercept-only zero model.")
    if not xn:
        raise ValueError(f"the count part of {formula!r} has no columns.")
    y = check_counts(sub.loc[rows, yname].to_numpy(), yname)
    if off is not None:
        xo = off[rows] if xo is None else xo + off[rows]
    wr = None if w is None else w[rows]
    check_rank(X, xn, wr)
    check_rank(Z, zn, wr)
    return CountInputs(y, X, xn, Z, zn, xo, zo, wr, yname, xinfo, zinfo,
                       offset if isinstance(offset, str) else None)


def _matrix(a: Any, what: str) -> tuple[np.ndarray, list[str]]:
    names = [str(c) for c in a.columns] if isinstance(a, pd.DataFrame) else None
    if isinstance(a, pd.Series):
        names = [str(a.name or what)]
    M = np.asarray(a, dtype=float)
    if M.ndim == 1:
        M = M[:, None]
    if M.ndim != 2:
        raise ValueError(f"{what} must be 2-dimensional, got shape {M.shape}.")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{what} has missing or non-finite values; drop those rows first.")
    if names is None:
        names = ["const" if np.all(M[:, j] == 1.0) else f"x{j + 1}" for j in range(M.shape[1])]
    return np.ascontiguousarray(M), names


def from_arrays(endog: Any, exog: Any, exog_infl: Any, offset: Any, exposure: Any,
                weights: Any = None) -> CountInputs:
    """Inputs of statsmodels' ``ZeroInflatedPoisson(endog, exog, exog_infl, offset,
    exposure)``; without ``exog_infl`` the inflation part is a constant (statsmodels')."""
    X, xn = _matrix(exog, "exog")
    n = X.shape[0]
    if exog_infl is None:
        Z, zn = np.ones((n, 1)), ["const"]
    else:
        Z, zn = _matrix(exog_infl, "exog_infl")
    if Z.shape[0] != n:
        raise ValueError(f"exog_infl has {Z.shape[0]} rows and exog {n}.")
    name = str(getattr(endog, "name", None) or "y")
    y = check_counts(np.asarray(endog), name)
    if y.shape[0] != n:
        raise ValueError(f"endog has {y.shape[0]} rows and exog {n}.")
    off = None
    for v, what, fn in ((offset, "offset", None), (exposure, "exposure", np.log)):
        if v is None:
            continue
        a = np.asarray(v, dtype=float).ravel()
        if a.shape[0] != n or not np.all(np.isfinite(a)) or (fn is not None and np.any(a <= 0)):
            raise ValueError(f"{what} must have {n} finite values"
                             + (" > 0." if fn is not None else "."))
        a = fn(a) if fn is not None else a
        off = a if off is None else off + a
    w = check_weights(weights, n)
    check_rank(X, xn, w)
    check_rank(Z, zn, w)
    return CountInputs(y, X, xn, Z, zn, off, None, w, name)
