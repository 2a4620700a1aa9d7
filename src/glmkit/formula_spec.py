"""The model spec of a formula: parsing (offset() terms, cbind responses, '.'), data frames
(pandas, polars, dicts), formulaic's state as tagged JSON, and :class:`FormulaInfo`, which
turns new data into rows of the fitted design (see :mod:`glmkit.formula` for the rules)."""
from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


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
    ``.`` (every column not in the response). The last parses are kept (formulaic's
    Formula is immutable): R's step and add1 parse the same candidates again."""
    if not isinstance(formula, str):
        return _parse_new(formula, available)
    return _parse_kept(formula, None if available is None else tuple(str(c) for c in available))


@functools.lru_cache(maxsize=64)
def _parse_kept(formula: str, available: tuple[str, ...] | None):
    return _parse_new(formula, None if available is None else list(available))


def _parse_new(formula: str, available: list[str] | None = None):
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
    return parsed_columns(_parse(formula, available))


def parsed_columns(parsed) -> list[str]:
    """:func:`formula_columns` of a formula parsed already."""
    from formulaic.utils.variables import Variable

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
            # a bincount of the codes finds unused categories (pandas' own check sorts them)
            codes = col.cat.codes.to_numpy()
            if codes.size and codes.min() < 0:    # missing values: leave them out
                codes = codes[codes >= 0]
            counts = np.bincount(codes, minlength=len(col.cat.categories))
            if np.any(counts == 0):
                changed[name] = col.cat.remove_unused_categories()
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
        #: glmkit.formula_codes.CodesPlan when the fit was built from level codes (new
        #: rows are then built the same way, formulaic skipped); not saved
        self.codes_plan = None

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
        if self.codes_plan is not None:
            X = self.codes_plan.design(frame, categorical=False)
            if X is not None:
                return X, self.add_column_offsets(frame, None)
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
        return X, self.add_column_offsets(frame, offset)

    def design_matrix_for(self, data):
        """(DesignMatrix, offset or None) of new data: :meth:`design_for`'s rows, with a
        factor of many levels as a CategoricalDesign block when the fit was built from
        level codes (so x_i' V x_i is a gather, not a dense product)."""
        from .design import DenseDesign

        if self.codes_plan is not None:
            frame = as_pandas(data, self.required_columns)
            if all(c in frame.columns for c in self.required_columns):
                frame = _strings_as_categories(frame.reset_index(drop=True),
                                               self.required_columns)
                self._check_levels(frame)
                X = self.codes_plan.design(frame)
                if X is not None:
                    X = DenseDesign(X) if isinstance(X, np.ndarray) else X
                    return X, self.add_column_offsets(frame, None)
        X, offset = self.design_for(data)
        return DenseDesign(X), offset

    def add_column_offsets(self, frame: pd.DataFrame, offset: np.ndarray | None):
        """``offset`` (from offset() terms, or None) plus the offset and log exposure
        columns given by name."""
        for col, transform in ((self.offset_column, None), (self.exposure_column, np.log)):
            if col is None:
                continue
            v = _numeric_column(frame, col)
            if transform is not None:
                if np.any(v[~np.isnan(v)] <= 0):
                    raise ValueError(f"exposure column {col!r} must be positive.")
                v = transform(v)
            offset = v if offset is None else offset + v
        return offset

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
