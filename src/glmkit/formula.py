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

import dataclasses
import enum
import gc
import importlib
import os
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import MissingDataError

__all__ = ["model_from_formula", "FormulaInfo", "formula_columns", "as_pandas"]

#: Name the offset(...) calls of a formula are renamed to before formulaic sees them, so
#: a data column called "offset" cannot shadow the function.
OFFSET_FN = "__glmkit_offset__"
_OFFSET_CALL = re.compile(r"(?<![\w.])offset\s*\(")
_C_CALL = re.compile(r"^(?:C|factor)\(\s*(`[^`]+`|[A-Za-z_][\w]*)\s*[,)]")
_NAME = re.compile(r"^(`[^`]+`|[A-Za-z_][\w]*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_GC_ROWS = 100_000
_EXTRAS = ("offset", "exposure", "freq_weights", "var_weights")


def _cbind(*columns):
    """R's cbind for a two-column binomial response: [successes, failures]."""
    if len(columns) != 2:
        raise ValueError(f"cbind() in a formula takes exactly two columns (successes, "
                         f"failures), got {len(columns)}.")
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])


def _offset(values):
    return np.asarray(values, dtype=float)


def _context(extra: Mapping[str, Any] | None) -> dict[str, Any]:
    from formulaic.transforms import C

    # factor(g) as R writes it: formulaic's C(g)
    ctx: dict[str, Any] = {"cbind": _cbind, OFFSET_FN: _offset, "factor": C}
    if extra:
        ctx.update(extra)
    return ctx


def _rewrite(formula: str) -> str:
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string like 'y ~ x1 + C(g)', got "
                        f"{type(formula).__name__}.")
    return _OFFSET_CALL.sub(f"{OFFSET_FN}(", formula)


def _parse(formula: str, available: list[str] | None = None):
    """formulaic's Formula of ``formula``; ``available`` (the data's columns) expands R's
    ``.`` (every column not in the response)."""
    from formulaic import Formula

    context = None if available is None else {
        "__formulaic_variables_available__": [str(c) for c in available]}
    try:
        parsed = Formula(_rewrite(formula), _context=context)
    except Exception as exc:  # formulaic's parser errors are not ValueErrors
        raise ValueError(f"cannot parse the formula {formula!r}: {_first_line(exc)}") from None
    if not hasattr(parsed, "lhs") or not hasattr(parsed, "rhs"):
        raise ValueError(f"the formula {formula!r} needs a response: write 'y ~ x1 + x2' "
                         "(or 'cbind(successes, failures) ~ x' for a binomial).")
    return parsed


def uses_dot(formula: str) -> bool:
    """Whether the formula has R's ``.`` (all other columns), so it needs the data's columns."""
    try:
        _parse(formula)
    except ValueError as exc:
        return "`.` operator" in str(exc)
    return False


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without terminal colour codes."""
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def formula_columns(formula: str, available: list[str] | None = None) -> list[str]:
    """Names of the data columns a formula reads (response, covariates, offset terms);
    ``available`` (the data's columns) is needed for a formula with ``.``."""
    from formulaic.utils.variables import Variable

    parsed = _parse(formula, available)
    names = {str(v) for v in parsed.required_variables if Variable.Role.VALUE in v.roles}
    return sorted(names - {"cbind", OFFSET_FN})


# ------------------------------------------------------------------- data frames
def as_pandas(data, columns: list[str] | None = None) -> pd.DataFrame:
    """A pandas DataFrame of ``data`` (pandas, polars, or a dict of columns).

    pandas frames are returned as they are (no copy). polars columns are converted one
    at a time with ``to_numpy`` (no pyarrow needed); an ``Enum`` column becomes a pandas
    Categorical with the Enum's category order (its first category is the reference).
    """
    if isinstance(data, pd.DataFrame):
        return data
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return _polars_to_pandas(data, columns)
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    raise TypeError(f"data must be a pandas or polars DataFrame (or a dict of columns), "
                    f"got {type(data).__name__}.")


def _polars_to_pandas(data, columns: list[str] | None) -> pd.DataFrame:
    import polars as pl

    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    names = [c for c in data.columns if columns is None or c in columns]
    out: dict[str, Any] = {}
    for name in names:
        s = data.get_column(name)
        if isinstance(s.dtype, pl.Enum):
            out[name] = pd.Categorical(s.cast(pl.String).to_numpy(),
                                       categories=list(s.dtype.categories))
        elif s.dtype == pl.Categorical:
            out[name] = pd.Categorical(s.cast(pl.String).to_numpy())
        else:
            out[name] = s.to_numpy()
    return pd.DataFrame(out)


def _strings_as_categories(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """pandas string columns (the default text dtype of pandas 3) of ``columns`` as
    categoricals: compact, and read as categorical by every formulaic version. Their
    levels are sorted, as R's factor() sorts them."""
    changed = {c: frame[c].astype("category") for c in columns
               if c in frame.columns and isinstance(frame[c].dtype, pd.StringDtype)}
    return frame.assign(**changed) if changed else frame


def _drop_unused_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """As R's model.frame(drop.unused.levels = TRUE): categories absent from the rows go."""
    changed = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            used = col.cat.remove_unused_categories()
            if len(used.cat.categories) != len(col.cat.categories):
                changed[name] = used
    return frame.assign(**changed) if changed else frame


# --------------------------------------------------------------- formulaic state
def _encode(obj: Any) -> Any:
    """JSON-able form of formulaic's transform/encoder state (tagged, no pickle)."""
    from formulaic.utils.sentinels import UNSET

    if obj is None or isinstance(obj, (bool, str)):
        return str(obj) if isinstance(obj, str) else obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if np.isfinite(f) else {"__float__": repr(f)}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v) for v in obj]}
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        return {"__ndarray__": _encode(obj.tolist()), "dtype": obj.dtype.str}
    if obj is UNSET:
        return {"__sentinel__": "UNSET"}
    cls = type(obj)
    path = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__.startswith("formulaic."):
        if isinstance(obj, enum.Enum):
            return {"__enum__": path, "value": _encode(obj.value)}
        if dataclasses.is_dataclass(obj):
            return {"__dataclass__": path, "fields": {
                f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    raise TypeError(f"cannot save formula state holding a {cls.__module__}.{cls.__qualname__} "
                    f"({obj!r}); only numbers, strings, arrays and formulaic's contrasts "
                    "are supported.")


def _resolve(path: str) -> type:
    module, _, qualname = path.partition(":")
    if not module.startswith("formulaic."):
        raise ValueError(f"refusing to load a non-formulaic class {path!r}.")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{path!r} is not a class.")
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__tuple__" in obj:
        return tuple(_decode(v) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_hashable(_decode(k)): _decode(v) for k, v in obj["__dict__"]}
    if "__ndarray__" in obj:
        return np.array(_decode(obj["__ndarray__"]), dtype=np.dtype(obj["dtype"]))
    if "__sentinel__" in obj:
        from formulaic.utils.sentinels import UNSET

        return UNSET
    if "__enum__" in obj:
        cls = _resolve(obj["__enum__"])
        if not issubclass(cls, enum.Enum):
            raise ValueError(f"{obj['__enum__']!r} is not an enum.")
        return cls(_decode(obj["value"]))
    if "__dataclass__" in obj:
        cls = _resolve(obj["__dataclass__"])
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{obj['__dataclass__']!r} is not a dataclass.")
        inst = cls.__new__(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        for key, value in obj["fields"].items():
            if key not in names:
                raise ValueError(f"{obj['__dataclass__']!r} has no field {key!r}.")
            object.__setattr__(inst, key, _decode(value))
        return inst
    raise ValueError(f"unknown entry in the saved formula state: {sorted(obj)}")


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


# ------------------------------------------------------------------ the model spec
class FormulaInfo:
    """The model spec of a formula model: turns new data frames into rows of the design.

    Attributes
    ----------
    formula : the formula as the user wrote it.
    exog_names : names of the design columns.
    required_columns : data columns needed to predict (covariates, offset/exposure).
    offset_column, exposure_column : data columns given by name for the offset/exposure.
    """

    def __init__(self, formula: str, spec, column_names: list[str], exog_names: list[str],
                 required: list[str], offset_column: str | None = None,
                 exposure_column: str | None = None, context: Mapping[str, Any] | None = None,
                 available: list[str] | None = None):
        self.formula = formula
        #: the data's columns when the formula has ``.`` (needed to parse it again)
        self.available = None if available is None else [str(c) for c in available]
        self.spec = spec
        self.column_names = list(column_names)
        self.exog_names = list(exog_names)
        self.offset_column = offset_column
        self.exposure_column = exposure_column
        self.context = dict(context or {})
        self._design_pos, self._offset_pos = _split_offset_columns_by_name(self.column_names)
        if [self.column_names[j] for j in self._design_pos] != self.exog_names:
            raise ValueError("the formula's columns do not match the model's exog_names.")
        cols = set(required) - set(self.context)
        cols |= {c for c in (offset_column, exposure_column) if c is not None}
        self.required_columns = sorted(cols)

    @property
    def has_offset(self) -> bool:
        """Whether design_for returns an offset (offset() terms or offset/exposure columns)."""
        return bool(self._offset_pos) or self.offset_column is not None \
            or self.exposure_column is not None

    def design_for(self, data) -> tuple[np.ndarray, np.ndarray | None]:
        """Design rows and offset (or None) for a new data frame.

        Same columns and level coding as the fit. Rows with a missing value give a row of
        NaN (so their predictions are NaN, as R's ``na.pass``). An unseen category level
        raises ValueError naming the column and the level.
        """
        frame = as_pandas(data, self.required_columns)
        lacking = [c for c in self.required_columns if c not in frame.columns]
        if lacking:
            raise ValueError(f"the new data lack the column(s) {lacking} that the model "
                             f"({self.formula!r}) uses.")
        frame = _strings_as_categories(frame.reset_index(drop=True), self.required_columns)
        n = frame.shape[0]
        self._check_levels(frame)
        mm = self._materialize(frame)
        names = [str(c) for c in mm.columns]
        expected = self.column_names
        if names != expected:
            raise ValueError(f"the new data give the design columns {names}, but the model "
                             f"has {expected}; check the types of the columns (a numeric "
                             "column read as text becomes categorical).")
        rows = mm.index.to_numpy()
        X = np.full((n, len(self._design_pos)), np.nan)
        for j, pos in enumerate(self._design_pos):
            X[rows, j] = mm.iloc[:, pos].to_numpy(dtype=float)
        offset = None
        if self._offset_pos:
            offset = np.full(n, np.nan)
            offset[rows] = _sum_columns(mm, self._offset_pos)
        for col, transform in ((self.offset_column, None), (self.exposure_column, np.log)):
            if col is None:
                continue
            v = _numeric_column(frame, col)
            if transform is not None:
                if np.any(v[~np.isnan(v)] <= 0):
                    raise ValueError(f"exposure column {col!r} must be positive.")
                v = transform(v)
            offset = v if offset is None else offset + v
        return X, offset

    def _materialize(self, frame: pd.DataFrame):
        from formulaic.errors import DataMismatchWarning

        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            try:
                return self.spec.get_model_matrix(frame, context=_context(self.context))
            except DataMismatchWarning as exc:
                raise ValueError(f"the new data have category levels the model was not "
                                 f"fitted with: {exc}") from None
            except Exception as exc:
                raise ValueError(f"cannot build the design of {self.formula!r} on the new "
                                 f"data: {_first_line(exc)}") from None

    def levels(self) -> dict[str, list]:
        """Categories of each categorical factor, as the fit coded them."""
        out = {}
        for factor, (kind, state) in self.spec.encoder_state.items():
            if getattr(kind, "value", kind) == "categorical" and "categories" in state:
                out[factor] = list(state["categories"])
        return out

    def _check_levels(self, frame: pd.DataFrame) -> None:
        for factor, categories in self.levels().items():
            m = _C_CALL.match(factor) or _NAME.match(factor)
            if not m:
                continue  # a transformed variable: formulaic's check (in _materialize)
            col = m.group(1).strip("`")
            if col not in frame.columns:
                continue
            values = frame[col]
            seen = pd.unique(values[values.notna()].to_numpy())
            known = set(categories)
            unseen = [v for v in seen if v not in known]
            if unseen:
                shown = ", ".join(repr(_plain(v)) for v in unseen[:5])
                raise ValueError(
                    f"column {col!r} has level(s) {shown} not seen when the model was fitted "
                    f"(its levels are {[_plain(c) for c in categories]}); the model cannot "
                    "predict for them.")

    # -------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (formulaic's state tagged, no pickle)."""
        spec = self.spec
        terms = [str(t) for t in spec.formula]
        return {
            "formula": self.formula,
            "variables_available": self.available,
            "rhs_terms": terms,
            "column_names": self.column_names,
            "exog_names": self.exog_names,
            "required_columns": self.required_columns,
            "ensure_full_rank": bool(spec.ensure_full_rank),
            "transform_state": _encode(dict(spec.transform_state)),
            "encoder_state": _encode(dict(spec.encoder_state)),
            "offset_column": self.offset_column,
            "exposure_column": self.exposure_column,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FormulaInfo:
        from formulaic import ModelSpec

        terms = list(d["rhs_terms"])
        # the parser is deterministic: these are the fit's terms
        rhs = _parse(d["formula"], d.get("variables_available")).rhs
        if [str(t) for t in rhs] != terms:
            raise ValueError("the saved formula does not parse back to the saved terms.")
        spec = ModelSpec(formula=rhs, ensure_full_rank=bool(d["ensure_full_rank"]),
                         na_action="drop", output="pandas",
                         transform_state=_decode(d["transform_state"]),
                         encoder_state=_decode(d["encoder_state"]))
        return cls(d["formula"], spec, d["column_names"], d["exog_names"],
                   d["required_columns"], d["offset_column"], d["exposure_column"],
                   available=d.get("variables_available"))

    def __repr__(self):
        return f"FormulaInfo({self.formula!r}, columns={self.exog_names})"


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _is_offset_name(name: str) -> bool:
    return name.startswith(f"{OFFSET_FN}(")


def _split_offset_columns_by_name(names: list[str]) -> tuple[list[int], list[int]]:
    design = [j for j, nm in enumerate(names) if not _is_offset_name(nm)]
    offsets = [j for j, nm in enumerate(names) if _is_offset_name(nm)]
    return design, offsets


def _split_offset_columns(spec, names: list[str]) -> tuple[list[int], list[int]]:
    for term in spec.formula:
        factors = [str(f) for f in term.factors]
        if len(factors) > 1 and any(_is_offset_name(f) for f in factors):
            raise ValueError("offset(...) cannot be part of an interaction; add it as its own "
                             "term: 'y ~ x + offset(log(t))'.")
    return _split_offset_columns_by_name(names)


def _sum_columns(mm: pd.DataFrame, positions: list[int]) -> np.ndarray:
    out = mm.iloc[:, positions[0]].to_numpy(dtype=float).copy()
    for pos in positions[1:]:
        out += mm.iloc[:, pos].to_numpy(dtype=float)
    return out


def _numeric_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    s = frame[col]
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        raise TypeError(f"column {col!r} must be numeric, got dtype {s.dtype}.")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _model_terms(spec, design_pos: list[int]) -> list[tuple[str, list[int]]]:
    """[(name, positions in the design)] in formula order; the intercept is 'Intercept'."""
    where = {pos: j for j, pos in enumerate(design_pos)}
    terms = []
    for term, cols in spec.term_indices.items():
        kept = [where[c] for c in cols if c in where]
        if not kept:
            continue
        name = str(term)
        terms.append(("Intercept" if name == "1" else name, kept))
    return terms


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


def _materialize_fit(parsed, frame: pd.DataFrame, context):
    """Evaluate the formula on the frame: (ModelMatrices, kept row positions).

    formulaic's sparse output is asked for first: it keeps formulaic's copy of the design
    small (a dummy column holds only its ones), so the dense design exists once, in the
    float array glmkit fits on. Should a transform not support it, dense output is used.
    """
    from formulaic.materializers import FormulaMaterializer

    error: Exception | None = None
    for output in ("sparse", "pandas"):
        dropped: set[int] = set()
        try:
            materializer = FormulaMaterializer.for_data(frame)(frame, context=context)
            mm = materializer.get_model_matrix(parsed, drop_rows=dropped, output=output,
                                               na_action="drop")
        except Exception as exc:
            error = exc
            continue
        del materializer
        if frame.shape[0] >= _GC_ROWS:
            gc.collect()  # formulaic's factor caches sit in reference cycles: free them now
        kept = np.setdiff1d(np.arange(frame.shape[0]), np.fromiter(dropped, dtype=np.intp))
        return mm, kept
    assert error is not None
    msg = _first_line(error)
    if "xor" in msg:
        msg += " (inside I() write powers as x**2; ^ is Python's xor)"
    raise ValueError(f"cannot build the design of the formula: {msg}") from None


def _dense_columns(A, positions: list[int]) -> np.ndarray:
    """Columns ``positions`` of a model matrix (scipy sparse or a DataFrame) as one
    C-ordered float array, filled column by column (a sparse matrix is never densified
    as a whole)."""
    out = np.zeros((A.shape[0], len(positions)))
    if isinstance(A, pd.DataFrame):
        for j, pos in enumerate(positions):
            out[:, j] = A.iloc[:, pos].to_numpy(dtype=float)
        return out
    A = A.tocsc()
    for j, pos in enumerate(positions):
        lo, hi = A.indptr[pos], A.indptr[pos + 1]
        out[A.indices[lo:hi], j] = A.data[lo:hi]
    return out


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
    from .design import CategoricalDesign, DenseDesign, SplitDesign

    col_names = [names[p] for p in design_pos]
    cat_terms = {}
    for _, cols in terms:
        if len(cols) + 1 >= CATEGORICAL_MIN_LEVELS:
            codes = _indicator_codes(rhs, [design_pos[c] for c in cols])
            if codes is not None:
                cat_terms[cols[0]] = (cols, codes)
    if not cat_terms:
        X = _dense_columns(rhs, design_pos)
        return pd.DataFrame(X, columns=col_names, index=labels, copy=False)
    blocks, run, j = [], [], 0
    while j < len(design_pos):
        if j in cat_terms:
            if run:
                blocks.append(DenseDesign(_dense_columns(rhs, [design_pos[c] for c in run])))
                run = []
            cols, codes = cat_terms[j]
            blocks.append(CategoricalDesign(codes, len(cols) + 1, drop_first=True))
            j += len(cols)
        else:
            run.append(j)
            j += 1
    if run:
        blocks.append(DenseDesign(_dense_columns(rhs, [design_pos[c] for c in run])))
    return SplitDesign(blocks, column_names=col_names)


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
    available = [str(c) for c in frame.columns] if uses_dot(formula) else None
    parsed = _parse(formula, available)
    variables = formula_columns(formula, available)
    labels = frame.index
    frame = frame.copy(deep=False)  # new index, same column data
    frame.index = pd.RangeIndex(frame.shape[0])
    extras, extra_cols = _resolve_extras(frame, {"offset": offset, "exposure": exposure,
                                                 "freq_weights": freq_weights,
                                                 "var_weights": var_weights})
    ctx = _context(context)
    frame = _drop_unused_categories(_strings_as_categories(frame, variables))
    _check_levels_fit(frame, variables)
    mm, labels, extras, n_dropped = _complete_rows(parsed, frame, labels, extras, ctx, missing,
                                                   variables)
    del frame
    y, X, total_offset, spec, names, terms = _assemble(mm, parsed, formula, labels, extras,
                                                       family)
    del mm
    model = cls(y, X, family=family, offset=total_offset, exposure=extras["exposure"],
                freq_weights=extras["freq_weights"], var_weights=extras["var_weights"],
                missing=missing, **kwargs)
    required = sorted({str(v).split(".", 1)[0] for v in spec.required_variables})
    spec = spec.update(output="pandas")  # new data are small: predict through pandas
    exog_names = list(X.columns) if isinstance(X, pd.DataFrame) else X.column_names
    model.formula_info = FormulaInfo(formula, spec, names, exog_names, required,
                                     extra_cols["offset"], extra_cols["exposure"], context,
                                     available=available)
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


def glm(formula: str, data, family=None, **kwargs: Any):
    """statsmodels.formula.api.glm: the GLM *model* of a formula (call ``.fit()``)."""
    from .model import GLM

    kwargs.setdefault("_stacklevel", 4)
    return model_from_formula(GLM, formula, data, family=family, **kwargs)
