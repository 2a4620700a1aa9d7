"""R-style formulas on data frames, built with formulaic; the stored spec predicts on new data.

``GLM.from_formula("y ~ C(region, Treatment('b')) * x + np.log(z) + offset(np.log(t))", df)``

What the formula may hold, on top of formulaic's grammar (categorical terms ``C(...)``
with ``Treatment``/``contr.treatment`` reference levels, interactions ``a:b`` and ``a*b``,
transforms such as ``np.log(x)`` or ``I(x**2)``, ``0 +`` or ``- 1`` to drop the intercept):

- ``offset(expr)`` terms (as in R): added to the model's offset, not to the design.
- ``cbind(successes, failures) ~ ...`` (as in R): a two-column binomial response.

Data frames may be pandas or polars (polars columns are converted one by one with
``to_numpy``, so pyarrow is not needed), or a dict of columns.

Conventions
-----------
- Terms are ordered as formulaic orders them, by degree, which is R's order: main
  effects in the order written, then two-way interactions, and so on. ``model.terms`` is
  ``[(name, [column positions]), ...]`` with ``("Intercept", [0])`` first when present: a
  factor with three levels is one term with two columns (R's ``anova`` by term).
- Missing values: rows where any variable of the formula (after transforms, so
  ``np.log(-1)`` counts) or any ``offset``/``exposure``/weights array is missing.
  ``missing='none'`` raises ``ValueError`` with a hint, ``'raise'`` raises
  :class:`~glmkit.MissingDataError`, ``'drop'`` drops them, warns with their number and
  records it as ``model.n_dropped``; the design keeps the frame's row labels, so
  residuals and fitted values line up with the input frame. As R's ``model.frame``,
  levels of a categorical variable seen only in dropped rows are dropped.
- ``offset``, ``exposure``, ``freq_weights`` and ``var_weights`` given to
  ``from_formula`` may be arrays (one value per row of ``data``, as statsmodels) or
  column names of ``data``. A column-name ``offset``/``exposure`` (like an ``offset()``
  term) is part of the model spec: prediction on a new frame reads it from that frame.
"""
from __future__ import annotations

import gc
import os
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import MissingDataError
from .formula_spec import (as_pandas, _context, _drop_unused_categories, _EXTRAS,
                           _first_line, formula_columns, FormulaInfo, _GC_ROWS,
                           _model_terms, _numeric_column, _parse, parsed_columns,
                           _split_offset_columns, _strings_as_categories)
from .formula_spec import _ANSI, _split_offset_columns_by_name, uses_dot  # noqa: F401  (re-exported)

__all__ = ["model_from_formula", "FormulaInfo", "formula_columns", "as_pandas"]


# ------------------------------------------------------------------------- fitting
def _resolve_extras(frame: pd.DataFrame, values: dict[str, Any]):
    """Arrays (one per row of the frame) for offset, exposure and weights; column names
    are looked up in the frame."""
    arrays: dict[str, np.ndarray | None] = {}
    columns: dict[str, str | None] = {}
    n = frame.shape[0]
    for name in _EXTRAS:
        v = values.get(name)
        columns[name] = None
        if v is None:
            arrays[name] = None
            continue
        if isinstance(v, str):
            if v not in frame.columns:
                raise ValueError(f"{name}={v!r}: the data have no column {v!r}.")
            columns[name] = v
            arrays[name] = _numeric_column(frame, v)
            continue
        if isinstance(v, (pd.Series, pd.DataFrame)):
            v = v.to_numpy(dtype=float, na_value=np.nan)
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 2 and 1 in arr.shape:
            arr = arr.ravel()
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise ValueError(f"{name} must have one value per row of the data ({n}), got "
                             f"shape {arr.shape}.")
        arrays[name] = arr
    return arrays, columns


def _materialize_fit(parsed, frame: pd.DataFrame, context, outputs: tuple[str, ...] = ()):
    """Evaluate the formula on the frame: (ModelMatrices, kept row positions).

    formulaic's sparse output is asked for first: it keeps formulaic's copy of the design
    small (a dummy column holds only its ones), so the dense design exists once, in the
    float array glmkit fits on. Should a transform not support it, dense output is used.
    Formulas of numeric columns only (nothing to dummy-code) ask for dense output first:
    sparse numeric columns cost a COO -> CSR -> CSC conversion each (1M rows, 5 columns:
    0.6 s of formulaic's 1 s).
    """
    from formulaic.materializers import FormulaMaterializer

    error: Exception | None = None
    big = frame.shape[0] >= _GC_ROWS
    if not outputs:
        outputs = ("pandas", "sparse") if _numeric_only(parsed, frame) else ("sparse", "pandas")
    for output in outputs:
        dropped: set[int] = set()
        if big:
            # objects that exist before the materializer are frozen: the collection below
            # examines only what it made (~1 ms instead of 60-160 ms in a process with
            # pandas and statsmodels loaded)
            gc.freeze()
        try:
            materializer = FormulaMaterializer.for_data(frame)(frame, context=context)
            mm = materializer.get_model_matrix(parsed, drop_rows=dropped, output=output,
                                               na_action="drop")
            del materializer
            if big:
                gc.collect()  # formulaic's factor caches sit in reference cycles: free them
        except Exception as exc:
            error = exc
            continue
        finally:
            if big:
                gc.unfreeze()
        kept = np.arange(frame.shape[0])
        if dropped:   # (np.setdiff1d sorts all n positions: 1.3 s on 1M rows with none dropped)
            kept = np.setdiff1d(kept, np.fromiter(dropped, dtype=np.intp))
        return mm, kept
    assert error is not None
    msg = _first_line(error)
    if "xor" in msg:
        msg += " (inside I() write powers as x**2; ^ is Python's xor)"
    raise ValueError(f"cannot build the design of the formula: {msg}") from None


def _numeric_only(parsed, frame: pd.DataFrame) -> bool:
    """Whether the formula reads only numeric (not boolean) columns and codes no factor."""
    text = str(parsed)
    if "C(" in text or "factor(" in text:
        return False
    names = [str(v) for v in getattr(parsed, "required_variables", ())]
    for name in names:
        if name in frame.columns:
            col = frame[name]
            if isinstance(col, pd.DataFrame) or col.dtype.kind not in "iuf":
                return False
    return True


def _dense_columns(A, positions: list[int]) -> np.ndarray:
    """Columns ``positions`` of a model matrix (scipy sparse or a DataFrame) as one
    C-ordered float array, filled column by column (a sparse matrix is never densified
    as a whole)."""
    out = np.zeros((A.shape[0], len(positions)))
    _ModelColumns(A, positions).fill(out)
    return out


class _ModelColumns:
    """Columns ``positions`` of formulaic's model matrix (scipy sparse or a DataFrame) as a
    part of :func:`glmkit.design.assemble.assemble`: written column by column into the
    design's zero-filled array."""

    def __init__(self, A, positions: list[int]):
        self.A = A if isinstance(A, pd.DataFrame) else A.tocsc()
        self.positions = list(positions)
        self.width = len(self.positions)

    def fill(self, out: np.ndarray) -> None:
        A = self.A
        if isinstance(A, pd.DataFrame):
            for j, pos in enumerate(self.positions):
                out[:, j] = A.iloc[:, pos].to_numpy(dtype=float)
            return
        for j, pos in enumerate(self.positions):
            lo, hi = A.indptr[pos], A.indptr[pos + 1]
            out[A.indices[lo:hi], j] = A.data[lo:hi]


def _describe_missing(frame: pd.DataFrame, variables: list[str], keep: np.ndarray,
                      extras: dict[str, np.ndarray | None]) -> str:
    rows = np.flatnonzero(~keep)
    shown = ", ".join(str(r) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
    where = [v for v in variables if v in frame.columns and bool(frame[v].isna().any())]
    where += [k for k, a in extras.items() if a is not None and bool(np.isnan(a).any())]
    what = f" in {where}" if where else " (produced by a transform of the formula)"
    return f"missing values{what}: {rows.size} row(s) (positions {shown})"


def _response(mm, parsed, labels: pd.Index, family) -> pd.DataFrame:
    """The response columns. A categorical response of a binomial is R's factor response:
    the first level is failure (0), every other level success (1)."""
    from .families import Binomial

    names = [str(c) for c in mm.lhs.model_spec.column_names]
    state = mm.lhs.model_spec.encoder_state
    kinds = {f: getattr(kind, "value", kind) for f, (kind, _) in state.items()}
    if any(k != "numerical" for k in kinds.values()):
        factor = next(f for f, k in kinds.items() if k != "numerical")
        if not (isinstance(family, Binomial) and len(kinds) == 1):
            raise TypeError(f"the response {factor!r} must be numeric (0/1, a count, a "
                            "measurement), not categorical; recode it, e.g. (y == 'yes'), or "
                            "use the binomial family (first level = failure, as R).")
        first = _dense_columns(mm.lhs, [0])[:, 0]
        y = (1.0 - first)[:, None]
        return pd.DataFrame(y, columns=[factor], index=labels, copy=False)
    if len(names) == 2:
        inner = str(parsed.lhs).strip()
        m = re.match(r"^cbind\((.*)\)$", inner)
        if m:
            args = _split_args(m.group(1))
            if len(args) == 2:
                names = args
    elif len(names) != 1:
        raise ValueError(f"the response {str(parsed.lhs)!r} gives {len(names)} columns; it must "
                         "be one numeric column, or cbind(successes, failures) for a binomial.")
    y = _dense_columns(mm.lhs, list(range(len(names))))
    return pd.DataFrame(y, columns=names, index=labels, copy=False)


def _split_args(s: str) -> list[str]:
    """Top-level comma split of 'a, f(b, c)' -> ['a', 'f(b, c)']."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _check_design_size(n: int, terms: list[tuple[str, list[int]]]) -> None:
    """A clear error, before allocating, when the dense design cannot fit in memory
    (typically a categorical variable with very many levels, such as an id column)."""
    k = sum(len(cols) for _, cols in terms)
    need = 8.0 * n * k
    phys = _physical_memory()
    if phys is not None and need > 0.8 * phys:
        wide = sorted(terms, key=lambda t: -len(t[1]))[:3]
        shown = ", ".join(f"{name} ({len(cols)} columns)" for name, cols in wide)
        raise MemoryError(f"the design would be {n} rows x {k} columns = {need / 2**30:.1f} "
                          f"GiB, more than this machine's memory ({phys / 2**30:.1f} GiB); the "
                          f"widest terms: {shown}. Is a column with very many levels (an id?) "
                          "used as a categorical variable?")


def _check_levels_fit(frame: pd.DataFrame, variables: list[str]) -> None:
    """Before formulaic runs: categorical variables whose indicator columns alone would
    not fit in memory (an id column used as a factor) are refused with their names."""
    phys = _physical_memory()
    if phys is None:
        return
    n = frame.shape[0]
    wide = []
    for v in variables:
        if v not in frame.columns:
            continue
        col = frame[v]
        if isinstance(col.dtype, pd.CategoricalDtype):
            wide.append((v, len(col.cat.categories)))
        elif col.dtype == object:
            wide.append((v, int(col.nunique())))
    if wide and 8.0 * n * sum(max(L - 1, 0) for _, L in wide) > 0.8 * phys:
        shown = ", ".join(f"{v!r} ({L} levels)" for v, L in sorted(wide, key=lambda t: -t[1]))
        raise MemoryError(f"the indicator columns of {shown} for {n} rows would need more than "
                          f"this machine's memory ({phys / 2**30:.1f} GiB). Is an id column used "
                          "as a categorical variable?")


#: A factor main effect with at least this many levels becomes a CategoricalDesign block.
CATEGORICAL_MIN_LEVELS = 20


def _indicator_codes(A, positions: list[int]) -> np.ndarray | None:
    """Level codes (0 = reference) if columns ``positions`` are 0/1 indicators with at most
    one 1 per row (a treatment-coded factor), else None."""
    n = A.shape[0]
    codes = np.zeros(n, dtype=np.int32)
    seen = np.zeros(n, dtype=bool)
    Ac = A.tocsc() if not isinstance(A, pd.DataFrame) else None
    for j, pos in enumerate(positions, start=1):
        if Ac is not None:
            lo, hi = Ac.indptr[pos], Ac.indptr[pos + 1]
            rows, vals = Ac.indices[lo:hi], Ac.data[lo:hi]
            rows, vals = rows[vals != 0], vals[vals != 0]
        else:
            col = A.iloc[:, pos].to_numpy(dtype=float)
            rows = np.flatnonzero(col)
            vals = col[rows]
        if np.any(vals != 1.0) or np.any(seen[rows]):
            return None
        seen[rows] = True
        codes[rows] = j
    return codes


def _design(rhs, design_pos: list[int], names: list[str], labels: pd.Index, terms):
    """The design: one n x k C-ordered float array with the frame's row labels, or, when a
    factor has many levels, a SplitDesign of dense runs and CategoricalDesign blocks (in the
    formula's column order, with its names) so the factor never becomes a one-hot matrix."""
    from .design import CategoricalDesign
    from .design.assemble import assemble

    col_names = [names[p] for p in design_pos]
    A = rhs if isinstance(rhs, pd.DataFrame) else rhs.tocsc()
    cat_terms = {}
    for _, cols in terms:
        if len(cols) + 1 >= CATEGORICAL_MIN_LEVELS:
            codes = _indicator_codes(A, [design_pos[c] for c in cols])
            if codes is not None:
                cat_terms[cols[0]] = (cols, codes)
    parts: list[Any] = []
    run: list[int] = []          # model-matrix positions of adjacent dense columns
    j = 0
    while j < len(design_pos):
        if j in cat_terms:
            if run:
                parts.append(_ModelColumns(A, run))
                run = []
            cols, codes = cat_terms[j]
            parts.append(CategoricalDesign(codes, len(cols) + 1, drop_first=True))
            j += len(cols)
        else:
            run.append(design_pos[j])
            j += 1
    if run:
        parts.append(_ModelColumns(A, run))
    X = assemble(parts, A.shape[0], col_names)
    if isinstance(X, np.ndarray):
        return pd.DataFrame(X, columns=col_names, index=labels, copy=False)
    return X


def _complete_rows(parsed, frame: pd.DataFrame, labels: pd.Index, extras: dict, ctx,
                   missing: str, variables: list[str]):
    """Materialize the formula on the rows without missing values, as ``missing`` says.

    Returns (model matrices, row labels, extras, number of rows dropped)."""
    mm, kept = _materialize_fit(parsed, frame, ctx)
    n = frame.shape[0]
    keep = np.zeros(n, dtype=bool)
    keep[kept] = True
    for arr in extras.values():
        if arr is not None:
            keep &= ~np.isnan(arr)
    n_dropped = int(n - keep.sum())
    if not n_dropped:
        return mm, labels, extras, 0
    msg = _describe_missing(frame, variables, keep, extras)
    if missing == "raise":
        raise MissingDataError(f"{msg}.")
    if missing == "none":
        raise ValueError(f"{msg}; pass missing='drop' to fit on the complete rows, or fill "
                         "the values.")
    if n_dropped == n:
        raise ValueError("every row has a missing value; nothing is left to fit.")
    del mm
    # again on the complete rows: levels and transform states (center, poly, ...) as R
    # computes them, on the rows the model is fitted to
    frame = _drop_unused_categories(frame.loc[keep].reset_index(drop=True))
    mm, kept = _materialize_fit(parsed, frame, ctx)
    if kept.size != frame.shape[0]:  # pragma: no cover - formulaic consistency
        raise ValueError("formulaic dropped rows after the missing rows were removed.")
    extras = {k: (None if a is None else a[keep]) for k, a in extras.items()}
    return mm, labels[keep], extras, n_dropped


def _assemble(mm, parsed, formula: str, labels: pd.Index, extras: dict, family):
    """(y frame, X frame, total offset, rhs spec, column names, terms) from the matrices."""
    spec = mm.rhs.model_spec
    names = [str(c) for c in spec.column_names]
    design_pos, offset_pos = _split_offset_columns(spec, names)
    if not design_pos:
        raise ValueError(f"the formula {formula!r} has no terms on the right-hand side; "
                         "write 'y ~ 1' for an intercept-only model.")
    y = _response(mm, parsed, labels, family)
    total_offset = extras["offset"]
    if offset_pos:
        formula_offset = _dense_columns(mm.rhs, offset_pos).sum(axis=1)
        total_offset = formula_offset if total_offset is None else total_offset + formula_offset
    terms = _model_terms(spec, design_pos)
    _check_design_size(len(labels), terms)
    X = _design(mm.rhs, design_pos, names, labels, terms)
    return y, X, total_offset, spec, names, terms


def _assemble_by_codes(parsed, frame: pd.DataFrame, labels: pd.Index, extras: dict, ctx,
                       variables: list[str], cacheable: bool = True):
    """``_assemble``'s answer built from level codes (glmkit.formula_codes), formulaic
    running on one row per level only (or not at all: the spec and plan of the same
    formula on columns of the same types and levels are kept, ``cacheable`` without a
    user context); None when the formula or the data need formulaic on every row
    (missing values, interactions, transforms, offset() terms)."""
    from .formula_codes import PLANS, factor_columns, factor_levels, frame_key

    n = frame.shape[0]
    factors = factor_columns(parsed, frame) if n else None
    if factors is None or any(a is not None and np.isnan(a).any() for a in extras.values()):
        return None
    levels = factor_levels(frame, factors)
    key = frame_key(str(parsed), frame, variables, levels,
                    CATEGORICAL_MIN_LEVELS) if cacheable else None
    hit = PLANS.get(key)
    if hit is None:
        hit = _plan_by_formulaic(parsed, frame, levels, ctx)
        if hit is None:
            return None
        PLANS.put(key, hit)
    spec, names, terms, plan, y_name = hit
    _check_design_size(n, terms)
    y, X = plan.response_values(frame), plan.design(frame)
    if y is None or X is None:
        return None
    if isinstance(X, np.ndarray):
        X = pd.DataFrame(X, columns=names, index=labels, copy=False)
    y_frame = pd.DataFrame(y[:, None], columns=[y_name], index=labels, copy=False)
    terms = [(name, list(cols)) for name, cols in terms]
    return (y_frame, X, extras["offset"], spec, names, terms), plan


def _plan_by_formulaic(parsed, frame: pd.DataFrame, levels: dict, ctx):
    """(rhs spec, column names, terms, CodesPlan, response name) from formulaic on a
    sample of a few rows (glmkit.formula_codes.sample_frame), or None."""
    from .formula_codes import plan_from_sample, sample_frame

    sample = sample_frame(frame, levels)
    if sample is None:
        return None
    mm, kept = _materialize_fit(parsed, sample, ctx, outputs=("numpy",))  # few rows
    if kept.size != sample.shape[0]:
        return None
    spec = mm.rhs.model_spec
    names = [str(c) for c in spec.column_names]
    design_pos, offset_pos = _split_offset_columns(spec, names)
    rhs = np.asarray(mm.rhs, dtype=float)   # a few hundred rows
    plan = plan_from_sample(spec, mm.lhs.model_spec, design_pos, offset_pos, sample, rhs,
                            CATEGORICAL_MIN_LEVELS)
    if plan is None:
        return None
    terms = _model_terms(spec, design_pos)
    return spec, names, terms, plan, str(mm.lhs.model_spec.column_names[0])


def _parse_for(formula: str, frame: pd.DataFrame):
    """(parsed formula, the frame's columns or None): the columns are given to the parser
    only when the formula has R's ``.`` (as ``uses_dot`` then ``_parse``, parsing once)."""
    try:
        return _parse(formula), None
    except ValueError as exc:
        if "`.` operator" not in str(exc):
            raise
    available = [str(c) for c in frame.columns]
    return _parse(formula, available), available


def model_from_formula(cls, formula: str, data, family=None, *, offset=None, exposure=None,
                       freq_weights=None, var_weights=None, missing: str = "none",
                       context: Mapping[str, Any] | None = None, **kwargs: Any):
    """Build ``cls(y, X, ...)`` from a formula and a data frame (see the module notes).

    Parameters
    ----------
    formula : str, e.g. ``"y ~ C(g, Treatment('b')) * x + np.log(z) + offset(np.log(t))"``.
    data : pandas or polars DataFrame, or a dict of columns.
    family : glmkit family instance.
    offset, exposure, freq_weights, var_weights : arrays (one value per row of ``data``)
        or column names of ``data``.
    missing : {'none', 'drop', 'raise'}.
    context : mapping of extra names (functions) the formula may call.
    """
    if missing not in ("none", "drop", "raise"):
        raise ValueError(f"missing must be 'none', 'drop' or 'raise', got {missing!r}.")
    stacklevel = int(kwargs.pop("_stacklevel", 3))
    frame = as_pandas(data, None)
    parsed, available = _parse_for(formula, frame)
    variables = parsed_columns(parsed)
    labels = frame.index
    frame = frame.copy(deep=False)  # new index, same column data
    frame.index = pd.RangeIndex(frame.shape[0])
    extras, extra_cols = _resolve_extras(frame, {"offset": offset, "exposure": exposure,
                                                 "freq_weights": freq_weights,
                                                 "var_weights": var_weights})
    ctx = _context(context)
    frame = _drop_unused_categories(_strings_as_categories(frame, variables))
    _check_levels_fit(frame, variables)
    by_codes = _assemble_by_codes(parsed, frame, labels, extras, ctx, variables,
                                  cacheable=not context)
    plan = None
    if by_codes is not None:
        (y, X, total_offset, spec, names, terms), plan = by_codes
        n_dropped = 0
    else:
        mm, labels, extras, n_dropped = _complete_rows(parsed, frame, labels, extras, ctx,
                                                       missing, variables)
        y, X, total_offset, spec, names, terms = _assemble(mm, parsed, formula, labels,
                                                           extras, family)
        del mm
    del frame
    model = cls(y, X, family=family, offset=total_offset, exposure=extras["exposure"],
                freq_weights=extras["freq_weights"], var_weights=extras["var_weights"],
                missing=missing, **kwargs)
    required = sorted({str(v).split(".", 1)[0] for v in spec.required_variables})
    spec = spec.update(output="pandas")  # new data are small: predict through pandas
    exog_names = list(X.columns) if isinstance(X, pd.DataFrame) else X.column_names
    model.formula_info = FormulaInfo(formula, spec, names, exog_names, required,
                                     extra_cols["offset"], extra_cols["exposure"], context,
                                     available=available)
    model.formula_info.codes_plan = plan
    model.terms = terms
    model.n_dropped = n_dropped
    #: the data and arguments the formula was evaluated with (references, no copies), so
    #: that a model with other terms can be built the same way (R's update(); add1, step)
    model.formula_call = {"data": data, "offset": offset, "exposure": exposure,
                          "freq_weights": freq_weights, "var_weights": var_weights,
                          "missing": missing, "context": context}
    if n_dropped:
        warnings.warn(f"missing='drop' dropped {n_dropped} row(s) with missing values.",
                      UserWarning, stacklevel=stacklevel)
    return model
