"""Formulas of plain columns and factors built from level codes: the fast path of
:mod:`glmkit.formula` (fit) and of :meth:`FormulaInfo.design_for` (prediction).

formulaic evaluates a formula row by row into indicator columns, which glmkit then reads
back into level codes. When every term of the formula is the intercept, a numeric column
named as it is (``x``) or a factor of one column (``C(g)``, ``C(g, Treatment('b'))``,
``factor(g)``, or a categorical column named as it is), and the response is a numeric
column, the design is a function of each row's level codes and numbers only. Then:

1. formulaic runs on a few rows only (:func:`sample_frame`): as many as the factor with
   most levels has levels, each factor cycling through all its levels (a categorical's
   from its categories, others from the first row of each value). It gives the model
   spec (names, levels, contrasts), which is the spec of the whole frame, since it holds
   every level. formulaic's work grows with the number of columns, not of rows.
2. From those rows, each factor term's columns as a function of the level: a
   ``levels x columns`` contrast table (a treatment factor's rows are zeros for the
   reference and unit vectors); the table is checked against every one of those rows.
3. On the whole frame, each factor's level codes come from pandas (the categorical's own
   codes, or one hash lookup of the values): a treatment factor of many levels becomes a
   :class:`~glmkit.design.categorical.CategoricalDesign` (one gather of the codes), other
   columns are written from the table; :func:`glmkit.design.assemble.assemble` makes the
   design, as for :func:`glmkit.formula._design`. No indicator matrix is built, no
   per-level loop runs over the rows.

Anything else (interactions, transforms, ``offset()`` terms, missing values, a level the
spec does not know, a column of another type) returns None and the caller uses formulaic
on the whole frame. Tests check that both paths give the same design and spec.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from .design.assemble import indicator_positions
from .formula_spec import _C_CALL, _NAME

__all__ = ["PLANS", "CodesPlan", "factor_columns", "factor_levels", "frame_key",
           "plan_from_sample", "sample_frame"]

def _numeric(s: pd.Series) -> bool:
    return s.dtype.kind in "iuf"


def _column_of(expr: str, kind: str) -> str | None:
    """The data column of a one-factor term, or None if the term is something else."""
    if kind == "numerical":
        m = _NAME.match(expr)
    elif kind == "categorical":
        m = _C_CALL.match(expr) or _NAME.match(expr)
    else:
        return None
    return m.group(1).strip("`") if m else None


def level_codes(s: pd.Series, categories) -> np.ndarray | None:
    """Positions of the values of ``s`` in ``categories`` (a list or an Index), or None if
    a value is missing or not among them. A categorical column whose categories are
    ``categories`` gives its own codes (pandas' narrow integers, no copy); others an int64
    array."""
    index = categories if isinstance(categories, pd.Index) else pd.Index(categories)
    if isinstance(s.dtype, pd.CategoricalDtype):
        raw = s.cat.codes.to_numpy()
        if raw.size and raw.min() < 0:
            return None
        cats = s.cat.categories
        if len(cats) == len(index) and cats.equals(index):
            return raw
        lut = index.get_indexer(cats)
        codes = lut[raw] if lut.size else raw.astype(np.int64)
    else:
        codes = index.get_indexer(s.to_numpy())
    if codes.size and codes.min() < 0:
        return None
    return codes


def factor_columns(parsed, frame: pd.DataFrame) -> list[str] | None:
    """The columns the formula reads as factors, or None when the formula has a term the
    plan cannot hold (an interaction, a transform) or a response that is not a column."""
    if not _NAME.match(str(parsed.lhs).strip()):
        return None
    out: list[str] = []
    for term in parsed.rhs:
        if len(term.factors) != 1:
            return None
        expr = str(term.factors[0].expr)
        if expr == "1":
            continue
        m = _C_CALL.match(expr)
        if m is None:
            m = _NAME.match(expr)
            if m is None:
                return None
            name = m.group(1).strip("`")
            if name in frame.columns and _numeric(frame[name]):
                continue
        name = m.group(1).strip("`")
        if name not in frame.columns:
            return None
        out.append(name)
    return sorted(set(out))


def factor_levels(frame: pd.DataFrame, factors: list[str]) -> dict[str, tuple]:
    """For each factor column: (number of distinct values, None) for a categorical (every
    category occurs: unused ones were dropped), else (number, the row of each value's first
    occurrence)."""
    out: dict[str, tuple] = {}
    for c in factors:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = (len(s.cat.categories), None)
        else:
            first = np.flatnonzero(~s.duplicated().to_numpy())
            out[c] = (first.size, first)
    return out


def sample_frame(frame: pd.DataFrame, levels: dict[str, tuple]) -> pd.DataFrame | None:
    """A few rows on which formulaic gives the model spec of the whole frame: m rows, m the
    number of distinct values of the factor that has most (``levels``, from
    :func:`factor_levels`); each factor column cycles through its distinct values, the
    other columns are the frame's first m rows. None when m is more than half the rows
    (formulaic then runs on the frame). A categorical's rows come from its categories, so
    its codes are not read."""
    n = frame.shape[0]
    m = max([1] + [L for L, _ in levels.values()])
    if m > n // 2 or any(L == 0 for L, _ in levels.values()):
        return None
    sample = frame.iloc[:m].reset_index(drop=True)
    pos = np.arange(m)
    changed = {}
    for c, (L, first) in levels.items():
        s = frame[c]
        if first is None:
            changed[c] = pd.Categorical.from_codes(pos % L, dtype=s.dtype)
        else:
            changed[c] = s.iloc[first[pos % L]].reset_index(drop=True)
    return sample.assign(**changed)


def frame_key(formula: str, frame: pd.DataFrame, columns: list[str],
              levels: dict[str, tuple], min_levels: int) -> tuple | None:
    """What the model spec and the plan of ``formula`` depend on (its text, the type of
    each column it reads, each factor's levels), or None when that is not hashable. Two
    frames with equal keys get the same spec and plan (see :class:`PlanCache`)."""
    def typed(values) -> tuple:    # 1, 1.0 and True are equal keys but other levels
        return tuple((type(v).__name__, v) for v in values)

    cols: list[tuple] = []
    for c in sorted(set(columns) & set(frame.columns)):
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            # (unordered categorical dtypes are equal whatever the categories' order)
            cats = s.cat.categories
            cols.append((c, "category", str(cats.dtype), bool(s.cat.ordered),
                         typed(cats.tolist())))
        elif c in levels:
            values = s.iloc[levels[c][1]].tolist()
            try:      # the set of values (formulaic sorts them), not their rows' order
                values = sorted(values)
            except TypeError:
                pass
            cols.append((c, str(s.dtype), typed(values)))
        else:
            cols.append((c, str(s.dtype)))
    key = (formula, int(min_levels), tuple(cols))
    try:
        hash(key)
    except TypeError:
        return None
    return key


class PlanCache:
    """The last few (model spec, plan, ...) by :func:`frame_key`: a formula fitted again on
    the same columns (R's step, add1 and drop1 refit the same candidate formulas, users
    refit in loops) skips formulaic. Entries hold no rows of data."""

    def __init__(self, size: int = 8):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        if key is None:
            return None
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key, value) -> None:
        if key is None:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: the plans of recent formulas (glmkit.formula._assemble_by_codes)
PLANS = PlanCache()


class CodesPlan:
    """How a frame's columns become the design of a formula (see the module notes).

    ``terms`` lists, in design order, ``("intercept", width)``, ``("numeric", column)``
    and ``("factor", column, categories, table)`` with ``table`` the levels x columns
    contrast table.
    """

    def __init__(self, response: str | None, terms: list[tuple], column_names: list[str],
                 min_levels: int):
        self.response = response
        #: a treatment factor with at least this many levels becomes a CategoricalDesign
        #: block (glmkit.formula.CATEGORICAL_MIN_LEVELS when the plan was made)
        self.min_levels = int(min_levels)
        self.terms = terms
        self.column_names = list(column_names)
        self.columns = sorted({t[1] for t in terms if t[0] != "intercept"})
        self._index: dict[str, pd.Index] = {}    # (codes() reads a column's first term)
        for t in terms:
            if t[0] == "factor" and t[1] not in self._index:
                self._index[t[1]] = pd.Index(t[2])

    def codes(self, frame: pd.DataFrame) -> dict[str, np.ndarray] | None:
        """Level codes of every factor column, or None (missing or unknown values)."""
        out = {}
        for t in self.terms:
            if t[0] == "factor" and t[1] not in out:
                if t[1] not in frame.columns:
                    return None
                codes = level_codes(frame[t[1]], self._index[t[1]])
                if codes is None:
                    return None
                out[t[1]] = codes
        return out

    def numbers(self, frame: pd.DataFrame) -> dict[str, np.ndarray] | None:
        """The numeric columns as floats, or None (a missing value or another type)."""
        out = {}
        for t in self.terms:
            if t[0] == "numeric":
                if t[1] not in frame.columns or not _numeric(frame[t[1]]):
                    return None
                v = frame[t[1]].to_numpy(dtype=float, na_value=np.nan)
                if np.isnan(v).any():
                    return None
                out[t[1]] = v
        return out

    def design(self, frame: pd.DataFrame, categorical: bool = True):
        """The design of ``frame``: an n x k C-ordered float array, or (``categorical``
        and a treatment factor of many levels present) a SplitDesign of dense runs and
        CategoricalDesign blocks; None when the frame does not fit the plan."""
        from .design import CategoricalDesign
        from .design.assemble import Gather, assemble

        codes, nums = self.codes(frame), self.numbers(frame)
        if codes is None or nums is None:
            return None
        parts: list[Any] = []
        for t in self.terms:
            if t[0] == "intercept":
                parts.extend([1.0] * t[1])
            elif t[0] == "numeric":
                parts.append(nums[t[1]])
            else:
                table = t[3]
                lut = _treatment_codes(table)
                width = table.shape[1]
                if categorical and lut is not None and width + 1 >= self.min_levels:
                    parts.append(CategoricalDesign(_recode(lut, codes[t[1]]), width + 1,
                                                   drop_first=True))
                else:
                    parts.append(Gather(table, codes[t[1]]))
        return assemble(parts, frame.shape[0], self.column_names)

    def response_values(self, frame: pd.DataFrame) -> np.ndarray | None:
        if self.response is None or not _numeric(frame[self.response]):
            return None
        y = frame[self.response].to_numpy(dtype=float, na_value=np.nan)
        return None if np.isnan(y).any() else y


def _recode(lut: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``lut[codes]`` as int32; when ``lut`` is 0, 1, 2, ... (the reference level is the
    first) a cast of pandas' narrow codes (a gather through an intp copy of the codes
    costs 30x more)."""
    if np.array_equal(lut, np.arange(lut.size)):
        return codes.astype(np.int32)
    return lut[codes]


def _treatment_codes(table: np.ndarray) -> np.ndarray | None:
    """For a table whose rows are zeros (at most one level) or distinct unit vectors: the
    code of each level (0 for zeros, j + 1 for the unit vector e_j), else None."""
    pos = indicator_positions(table)
    if pos is None:
        return None
    units = pos[pos >= 0]
    if pos.size - units.size > 1 or np.unique(units).size != units.size:
        return None
    return (pos + 1).astype(np.int32)


def plan_from_sample(spec, lhs_spec, design_pos: list[int], offset_pos: list[int],
                     sample: pd.DataFrame, rhs_sample: np.ndarray,
                     min_levels: int) -> CodesPlan | None:
    """The plan of a formula from its spec and its design on ``sample`` (dense
    ``rhs_sample``, every design column), or None when the formula is not of plain columns
    and one-column factors (see the module notes)."""
    if offset_pos or design_pos != list(range(len(spec.column_names))):
        return None
    response = None
    if lhs_spec is not None:
        names = [str(c) for c in lhs_spec.column_names]
        kinds = [getattr(k, "value", k) for k, _ in lhs_spec.encoder_state.values()]
        if len(names) != 1 or kinds != ["numerical"] or not _NAME.match(names[0]):
            return None
        response = names[0].strip("`")
        if response not in sample.columns or not _numeric(sample[response]):
            return None
    terms: list[tuple] = []
    order = [c for cols in spec.term_indices.values() for c in cols]
    if order != list(range(len(spec.column_names))):
        return None
    for term, cols in spec.term_indices.items():
        cols = list(cols)
        if not cols:
            return None
        if str(term) == "1":
            if not np.all(rhs_sample[:, cols] == 1.0):
                return None
            terms.append(("intercept", len(cols)))
            continue
        if len(term.factors) != 1:
            return None
        expr = str(term.factors[0].expr)
        kind, state = spec.encoder_state.get(expr, (None, {}))
        kind = getattr(kind, "value", kind)
        col = _column_of(expr, kind)
        if col is None or col not in sample.columns:
            return None
        block = rhs_sample[:, cols]
        if kind == "numerical":
            s = sample[col]
            if len(cols) != 1 or not _numeric(s) or \
                    not np.array_equal(block[:, 0], s.to_numpy(dtype=float, na_value=np.nan)):
                return None
            terms.append(("numeric", col))
            continue
        cats = list(state.get("categories", ()))
        codes = level_codes(sample[col], cats) if cats else None
        if codes is None:
            return None
        present, first = np.unique(codes, return_index=True)
        if present.size != len(cats):
            return None
        table = np.ascontiguousarray(block[first])
        if not np.array_equal(table[codes], block):   # the columns are a function of the level
            return None
        terms.append(("factor", col, cats, table))
    return CodesPlan(response, terms, [str(c) for c in spec.column_names], min_levels)
