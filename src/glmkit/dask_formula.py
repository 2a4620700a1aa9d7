"""Formulas on a dask DataFrame: levels agreed in one pass, the model spec built on a sample
that holds every level and applied to each partition in every pass."""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .design.partitioned import is_dask_collection, require_dask

_BARE = re.compile(r"^\s*`?([A-Za-z_][\w.]*)`?\s*$")
_CBIND = re.compile(r"^\s*cbind\(\s*`?([A-Za-z_][\w.]*)`?\s*,\s*`?([A-Za-z_][\w.]*)`?\s*\)\s*$")
_C_OF = re.compile(r"C\(\s*`?([A-Za-z_][\w.]*)`?")


def model_from_dask_formula(cls, formula: str, data, family=None, *, offset=None,
                            exposure=None, freq_weights=None, var_weights=None,
                            missing: str = "none", context=None, client=None,
                            sample_rows: int = 1000, **kwargs: Any) -> Any:
    """The model ``cls`` (GLM) of ``formula`` on a dask DataFrame (see glmkit.dask.glm)."""
    require_dask()
    import dask

    from .formula import formula_columns, model_from_formula

    kwargs.pop("_stacklevel", None)
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)}.")
    if missing not in ("none", "drop", "raise"):
        raise ValueError(f"missing must be 'none', 'drop' or 'raise', got {missing!r}.")
    if not (is_dask_collection(data) and getattr(data, "ndim", 0) == 2):
        raise TypeError("glmkit.dask.glm needs a dask DataFrame.")
    extras = {"offset": offset, "exposure": exposure, "freq_weights": freq_weights,
              "var_weights": var_weights}
    by_name = {k: v for k, v in extras.items() if isinstance(v, str)}
    arrays = [k for k, v in extras.items() if v is not None and not isinstance(v, str)]
    if arrays:
        raise TypeError(f"on Dask give {arrays} as column names of the data frame (add the "
                        "values as columns), not as arrays.")
    for k, v in by_name.items():
        if v not in data.columns:
            raise ValueError(f"{k}={v!r}: the data have no column {v!r}.")
    lhs = formula.split("~", 1)[0] if "~" in formula else ""
    m = _CBIND.match(lhs) or _BARE.match(lhs)
    if not m:
        raise NotImplementedError(f"on Dask the response must be a column or cbind(successes, "
                                  f"failures) of columns, got {lhs.strip()!r}.")
    ycols = list(m.groups())
    try:
        variables = formula_columns(formula, list(data.columns))   # '.' needs the columns
    except TypeError:
        variables = formula_columns(formula)
    used = set(variables) | set(by_name.values()) | set(ycols)
    cols = [c for c in data.columns if c in used]
    frame = data[cols]
    cat = [c for c in cols if not _is_numeric(frame[c].dtype)]
    cat += [c for c in set(_C_OF.findall(formula)) if c in cols and c not in cat]
    complete = frame.dropna() if missing == "drop" else frame
    levels = dict(zip(cat, dask.compute(*[complete[c].dropna().drop_duplicates() for c in cat])))
    sample = _formula_sample(frame, levels, sample_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m0 = model_from_formula(cls, formula, sample, family=family, missing="drop",
                                context=context, **by_name)
    info = m0.formula_info
    if dict(info.spec.transform_state):
        raise NotImplementedError(
            f"the formula uses stateful transforms {sorted(dict(info.spec.transform_state))}, "
            "whose state would be learnt from a sample on Dask; compute those columns first.")
    layout, plan = split_plan(m0.problem.X, info, sample)
    kx = len(info.exog_names) if layout is None else layout.raw_width
    ny = len(ycols)
    wcols = [by_name.get("freq_weights"), by_name.get("var_weights")]
    width = ny + kx + 1 + sum(c is not None for c in wcols)
    import pandas as pd

    packed = frame.map_partitions(_formula_part, info, ycols, wcols, plan,
                                  meta=pd.DataFrame(np.empty((0, width))),
                                  enforce_metadata=False).to_dask_array()
    y = packed[:, 0] if ny == 1 else packed[:, :2]
    X = packed[:, ny:ny + kx]
    off = packed[:, ny + kx] if info.has_offset else None
    fw = vw = None
    pos = ny + kx + 1
    if wcols[0] is not None:
        fw, pos = packed[:, pos], pos + 1
    if wcols[1] is not None:
        vw = packed[:, pos]
    model = cls(y, X, family=m0.family, offset=off, freq_weights=fw, var_weights=vw,
                missing=missing, client=client, exog_names=list(info.exog_names),
                endog_names=m0.endog_names, design_layout=layout)
    model.formula_info = info
    model.terms = m0.terms
    if plan is not None:   # new frames' rows for predict(), as the fit's partitions
        from functools import partial

        model.data.formula_rows = partial(split_design_for, info=info, plan=plan)
    return model


def _is_numeric(dtype) -> bool:
    import pandas as pd

    return (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def _formula_sample(frame, levels: dict, rows: int):
    """The first ``rows`` rows (pandas), plus one row per level not among them, so that the
    model spec learns every level; categorical columns keep their category order."""
    import pandas as pd

    sample = frame.head(rows, npartitions=-1, compute=True)
    sample = sample.dropna() if len(sample.dropna()) else sample
    if not len(sample):
        raise ValueError("the data frame has no rows.")
    extra = []
    for c, lev in levels.items():
        seen = set(pd.unique(sample[c].dropna()))
        for v in lev:
            if v not in seen:
                row = sample.iloc[[0]].copy()
                row[c] = v
                extra.append(row)
    if extra:
        sample = pd.concat([sample] + extra, ignore_index=True)
    for c, lev in levels.items():
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            cats = [v for v in frame[c].dtype.categories if v in set(lev)] \
                if frame[c].dtype.categories is not None else sorted(lev)
            sample[c] = pd.Categorical(sample[c], categories=cats)
    return sample.reset_index(drop=True)


def _formula_part(df, info, ycols, wcols, plan=None):
    """One partition's [response, design, offset, weights] columns (a float frame)."""
    import pandas as pd

    return pd.DataFrame(_formula_columns(df, info, ycols, wcols, plan), copy=False)


def _formula_columns(df, info, ycols, wcols, plan=None) -> np.ndarray:
    X, off = info.design_for(df) if plan is None else split_design_for(df, info, plan)
    n = X.shape[0]
    cols = [df[c].to_numpy(dtype=float, na_value=np.nan) for c in ycols] + [X]
    cols.append(np.zeros(n) if off is None else off)
    cols += [df[c].to_numpy(dtype=float, na_value=np.nan) for c in wcols if c is not None]
    return np.column_stack(cols) if n else np.empty((0, sum(
        1 if a.ndim == 1 else a.shape[1] for a in cols)))



# ------------------------------------------------------- factors as level codes
def split_plan(design, info, sample):
    """(ColumnLayout, plan) when the sample's design has categorical blocks (a factor of
    many levels, as the in-memory formula makes them), else (None, None).

    The plan, for each partition: the formula spec without the factor terms (their dense
    columns and the offset() terms), and for each factor block (a factor, or an
    interaction of factors, which the in-memory formula also holds as one block) its data
    columns, their categories and the code (0 = reference) of each combination of
    categories, found once here by building the term's indicator columns on one row per
    combination. The model's column order is kept: ``("dense", [columns of the other
    spec])`` and ``("cat", columns, categories, codes)`` in order."""
    from .design import CategoricalDesign, SplitDesign
    from .design.partition_layout import ColumnLayout
    from .formula import _indicator_codes
    from .formula_spec import _context

    if not isinstance(design, SplitDesign) or not any(
            isinstance(b, CategoricalDesign) for b in design.blocks):
        return None, None
    spec, pos = info.spec, info._design_pos
    term_of = {c: t for t, cols in spec.term_indices.items() for c in cols}
    factor_terms = {id(term_of[pos[j]]) for j, b in _block_starts(design)
                    if isinstance(b, CategoricalDesign)}
    rest = [t for t in spec.terms if id(t) not in factor_terms]
    rest_spec = spec.subset(rest).update(na_action="ignore") if rest else None
    rest_names = [] if rest_spec is None else [str(c) for c in rest_spec.column_names]
    blocks, plan, raw = [], [], 0
    for j, b in _block_starts(design):
        w = b.shape[1]
        names = [info.column_names[pos[c]] for c in range(j, j + w)]
        if not isinstance(b, CategoricalDesign):
            blocks.append(("dense", raw, raw + w))
            plan.append(("dense", [rest_names.index(nm) for nm in names]))
            raw += w
            continue
        term = term_of[pos[j]]
        cols, cats = _term_factors(term, spec)
        grid = _level_grid(sample, cols, cats)
        ind = spec.subset([term]).get_model_matrix(grid, context=_context(info.context))
        codes = _indicator_codes(ind, list(range(ind.shape[1])))
        if codes is None or [str(c) for c in ind.columns] != names:  # pragma: no cover
            raise NotImplementedError(f"the term {term} cannot be held as level codes on "
                                      "Dask.")
        blocks.append(("cat", raw, b.n_levels))
        plan.append(("cat", cols, cats, codes.astype(float)))
        raw += 1
    offsets = [rest_names.index(info.column_names[k]) for k in info._offset_pos]
    return ColumnLayout(blocks), (tuple(plan), rest_spec, offsets)


def _block_starts(design):
    j = 0
    for b in design.blocks:
        yield j, b
        j += b.shape[1]


#: largest number of level combinations of one factor block (a factor, or an interaction of
#: factors) whose codes are found on a grid of every combination
_MAX_GRID = 2_000_000


def _term_factors(term, spec) -> tuple[tuple[str, ...], tuple[list, ...]]:
    """The data columns of a factor term (one for a factor, several for an interaction of
    factors) and the categories the spec learnt for each."""
    from .formula_spec import _C_CALL, _NAME

    cols, cats = [], []
    for factor in term.factors:
        state = spec.encoder_state.get(str(factor), (None, {}))[1]
        m = _C_CALL.match(str(factor)) or _NAME.match(str(factor))
        if m is None or "categories" not in state:   # pragma: no cover - the sample's design
            raise NotImplementedError(f"the term {term} cannot be held as level codes on "
                                      "Dask: write each factor as C(column).")
        cols.append(m.group(1).strip("`"))
        cats.append(list(state["categories"]))
    return tuple(cols), tuple(cats)


def _level_grid(sample, cols, cats):
    """One row per combination of the columns' categories, in the order of
    ``np.ravel_multi_index`` over their category positions (the other columns from the
    sample's first row): the term's indicator columns on it give each combination's code."""
    dims = [len(c) for c in cats]
    size = int(np.prod(dims))
    if size > _MAX_GRID:
        raise NotImplementedError(
            f"the factor block {':'.join(cols)} has {size:,} level combinations, more than "
            f"{_MAX_GRID:,} that glmkit codes on Dask; combine the columns into one factor "
            "column first.")
    ks = np.indices(dims).reshape(len(dims), -1)
    grid = sample.iloc[[0] * size].reset_index(drop=True)
    for col, cs, k in zip(cols, cats, ks):
        grid[col] = pd.Categorical.from_codes(k, categories=cs)
    return grid


def _block_codes(frame, cols, cats, code_of) -> np.ndarray:
    """A factor block's code for every row of a partition (NaN where a factor is missing)."""
    ks = [pd.Categorical(frame[c], categories=cs).codes for c, cs in zip(cols, cats)]
    valid = np.logical_and.reduce([k >= 0 for k in ks])
    idx = np.ravel_multi_index([np.maximum(k, 0).astype(np.intp) for k in ks],
                               [len(cs) for cs in cats])
    return np.where(valid, code_of[idx], np.nan)


def split_design_for(df, info, plan) -> tuple[np.ndarray, np.ndarray | None]:
    """A partition's raw design columns (dense columns and one column of level codes per
    factor block, see :mod:`glmkit.design.partition_layout`) and its offset: the factor's
    indicator columns are never formed. Rows with a missing value are NaN, as
    :meth:`FormulaInfo.design_for` makes them."""
    from .formula_spec import _context, _strings_as_categories, as_pandas

    blocks, rest_spec, offsets = plan
    frame = _strings_as_categories(as_pandas(df, info.required_columns).reset_index(drop=True),
                                   info.required_columns)
    info._check_levels(frame)
    n = frame.shape[0]
    R = None
    if rest_spec is not None:
        R = np.asarray(rest_spec.get_model_matrix(frame, context=_context(info.context)),
                       dtype=float)
    width = sum(len(b[1]) if b[0] == "dense" else 1 for b in blocks)
    X = np.empty((n, width))
    j = 0
    for b in blocks:
        if b[0] == "dense":
            X[:, j:j + len(b[1])] = R[:, b[1]]
            j += len(b[1])
            continue
        X[:, j] = _block_codes(frame, *b[1:])
        j += 1
    off = R[:, offsets].sum(axis=1) if offsets else None
    return X, info.add_column_offsets(frame, off)
