"""Turning user inputs into checked arrays, once, at the public boundary.

Every check raises with what is wrong and how to fix it. User arrays are never written
to: arrays are taken as read-only views, and anything changed is a copy.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from scipy import sparse

from .design import DesignMatrix, as_design
from .design.dense import constant_columns as constant_columns_of
from .exceptions import MissingDataError
from .families import Binomial, Family, Gaussian, InverseGaussian, Tweedie, links

Missing = Literal["none", "drop", "raise"]


@dataclass(frozen=True)
class ModelData:
    """Checked, aligned inputs of a GLM (after dropping rows when asked)."""

    y: np.ndarray
    X: Any
    offset: np.ndarray | None
    exposure: np.ndarray | None
    freq_weights: np.ndarray | None
    var_weights: np.ndarray | None
    n_trials: np.ndarray | None
    endog_names: str
    exog_names: list[str]
    row_labels: pd.Index | None
    is_pandas: bool
    n_dropped: int
    #: which columns of a dense X are constant, when the default names needed it (so the
    #: design need not read X's columns again)
    constant_columns: np.ndarray | None = None


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.setflags(write=False)
    return v


def _copy_ro(a: np.ndarray) -> np.ndarray:
    """A read-only copy (for n-vectors): results must not change if the user later edits
    their array. The design X is kept as a read-only view, not copied, to save memory."""
    c = np.array(a, dtype=np.float64, copy=True)
    c.setflags(write=False)
    return c


def _own(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else _copy_ro(a)


def _to_array(x: Any, name: str, keep_float32: bool = False
              ) -> tuple[np.ndarray, list[str] | None, pd.Index | None]:
    """Float64 array of x, with column names and row index when x is pandas."""
    cols = index = None
    if isinstance(x, pd.DataFrame):
        cols, index = [str(c) for c in x.columns], x.index
        bad = [c for c, t in x.dtypes.items() if not (pd.api.types.is_numeric_dtype(t)
                                                      or pd.api.types.is_bool_dtype(t))]
        if bad:
            raise TypeError(
                f"{name} has non-numeric columns {bad}: encode them as numbers (for "
                "categorical variables use dummy columns or the formula interface)."
            )
        x = x.to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(x, pd.Series):
        cols, index = [str(x.name) if x.name is not None else None], x.index  # type: ignore[list-item]
        if not (pd.api.types.is_numeric_dtype(x.dtype) or pd.api.types.is_bool_dtype(x.dtype)):
            raise TypeError(f"{name} must be numeric, got dtype {x.dtype}.")
        x = x.to_numpy(dtype=float, na_value=np.nan)
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got an array of dtype {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex values.")
    if arr.dtype != np.float64 and not (keep_float32 and arr.dtype == np.float32):
        arr = arr.astype(np.float64)
    return arr, cols, index


def _vector(x: Any, name: str, n: int) -> np.ndarray | None:
    if x is None:
        return None
    arr, _, _ = _to_array(x, name)
    arr = np.squeeze(arr) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"{name} must be a 1-d array with one value per row ({n}), got shape {np.shape(arr)}."
        )
    return arr


def _all_finite(a: np.ndarray) -> bool:
    """Whether every value is finite: a sum is finite only then (NaN and inf propagate), so
    one pass without a boolean temporary decides, unless the sum overflows."""
    if a.dtype.kind in "biu":
        return True
    with np.errstate(all="ignore"):
        total = np.add.reduce(a, axis=None)
    return bool(np.isfinite(total)) or bool(np.isfinite(a).all())


def _describe_rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:5])
    return f"{rows.size} row(s) (positions {shown}{', ...' if rows.size > 5 else ''})"


def prepare(endog, exog, family: Family, offset=None, exposure=None, freq_weights=None,
            var_weights=None, missing: Missing = "none") -> ModelData:
    """Check and align the inputs of :class:`glmkit.GLM`."""
    if missing not in ("none", "drop", "raise"):
        raise ValueError(f"missing must be 'none', 'drop' or 'raise', got {missing!r}.")
    if endog is None or exog is None:
        raise ValueError("GLM needs both endog (the response) and exog (the design matrix); "
                         "use add_constant(...) for an intercept-only design.")
    y, ycols, yindex = _to_array(endog, "endog")
    X: Any
    if isinstance(exog, DesignMatrix) or sparse.issparse(exog):
        X = as_design(exog)
        xcols, xindex = getattr(X, "column_names", None), None
        _check_design_finite(X)
    else:
        # a float32 design is fitted in float32 (with float64 accumulation): the user
        # asked for it by passing float32 data
        X, xcols, xindex = _to_array(exog, "exog", keep_float32=True)
    if isinstance(X, np.ndarray) and X.ndim == 1:
        X = X[:, None]
        if xcols is None or xcols == [None]:
            xcols = None
    if len(X.shape) != 2:
        raise ValueError(f"exog must be 2-d (n rows x k columns), got {len(X.shape)} dimensions.")
    n, k = X.shape
    if n == 0 or k == 0:
        raise ValueError(f"exog is empty (shape {X.shape}); it needs at least one row and column.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    two_col = y.ndim == 2 and y.shape[1] == 2
    if y.ndim != 1 and not two_col:
        many = (f"endog has more than 2 columns ({y.shape[1]}); "
                if y.ndim == 2 and y.shape[1] > 2 else "")
        raise ValueError(f"{many}endog must be 1-d (or two columns [successes, failures] for "
                         f"Binomial), got shape {y.shape}. A multi-category response needs "
                         "glmkit.multinom / MNLogit.")
    if two_col and not isinstance(family, Binomial):
        raise ValueError("a two-column endog is only meaningful for the Binomial family "
                         f"([successes, failures]); the family is {family.name}.")
    if y.shape[0] != n:
        raise ValueError(f"endog has {y.shape[0]} rows but exog has {n}; they must match.")
    if yindex is not None and xindex is not None and not yindex.equals(xindex):
        raise ValueError("endog and exog are pandas objects with different row indexes; "
                         "align them (e.g. with .loc or reset_index) before fitting.")
    vectors = {
        "offset": _vector(offset, "offset", n),
        "exposure": _vector(exposure, "exposure", n),
        "freq_weights": _vector(freq_weights, "freq_weights", n),
        "var_weights": _vector(var_weights, "var_weights", n),
    }
    # --- missing values -------------------------------------------------------
    nan_by_input = {"endog": np.isnan(y).any(axis=1) if two_col else np.isnan(y)}
    # one pass, no n x k temporary: column sums of squares are finite only when every
    # value is (NaN and inf propagate, unless a sum overflows); they also show columns of
    # extreme magnitude (_check_column_scales)
    css = _column_squares(X) if isinstance(X, np.ndarray) else None
    x_finite = css is not None and (bool(np.isfinite(css).all()) or bool(np.isfinite(X).all()))
    if isinstance(X, np.ndarray) and not x_finite:
        nan_by_input["exog"] = np.isnan(X).any(axis=1)
    nan_by_input.update({k2: np.isnan(v) for k2, v in vectors.items() if v is not None})
    nan_rows = np.logical_or.reduce(list(nan_by_input.values()))
    n_dropped = 0
    keep_index = xindex if xindex is not None else yindex
    if nan_rows.any():
        where = ", ".join(k2 for k2, m in nan_by_input.items() if m.any())
        if missing == "raise":
            raise MissingDataError(f"missing values (NaN) in {where}: "
                                   f"{_describe_rows(nan_rows)}.")
        if missing == "none":
            raise ValueError(
                f"{where} contain(s) NaN in {_describe_rows(nan_rows)}; pass missing='drop' "
                "to fit on the complete rows, or fill the values."
            )
        if not isinstance(X, np.ndarray):
            raise ValueError("missing='drop' needs array or data frame inputs; drop the rows "
                             "with missing values before building a design object.")
        keep = ~nan_rows
        n_dropped = int(nan_rows.sum())
        y, X = y[keep], X[keep]
        css = None
        vectors = {k2: (None if v is None else v[keep]) for k2, v in vectors.items()}
        if keep_index is not None:
            keep_index = keep_index[keep]
        n = X.shape[0]
        if n == 0:
            raise ValueError("every row has a missing value; nothing is left to fit.")
    # --- infinities and ranges -------------------------------------------------
    arrays = [("endog", y)] + ([("exog", X)] if isinstance(X, np.ndarray) and not x_finite
                               else [])
    for name, arr in arrays + list(vectors.items()):
        if arr is not None and not _all_finite(arr):
            bad = ~np.isfinite(arr)
            bad = bad.any(axis=1) if bad.ndim == 2 else bad
            raise ValueError(f"{name} has infinite values in {_describe_rows(bad)}; "
                             "glmkit needs finite numbers.")
    for name in ("freq_weights", "var_weights"):
        w = vectors[name]
        if w is not None:
            if np.any(w < 0):
                raise ValueError(f"{name} must be non-negative; found {_describe_rows(w < 0)} "
                                 "with negative weights.")
            if not np.any(w > 0):
                raise ValueError(f"{name} are all zero: no row would count in the fit.")
    exposure_arr = vectors["exposure"]
    if exposure_arr is not None:
        if np.any(exposure_arr <= 0):
            raise ValueError(f"exposure must be positive (its log enters the model); found "
                             f"{_describe_rows(exposure_arr <= 0)} with values <= 0.")
        if not isinstance(family.link, links.Log):
            raise ValueError(
                f"exposure is only meaningful with the log link (log(exposure) is added to "
                f"the linear predictor); the link is {type(family.link).__name__}. Pass "
                "offset=np.log(exposure) if you mean it on this link's scale."
            )
    n_trials = None
    if two_col:
        succ, fail = y[:, 0], y[:, 1]
        if np.any(succ < 0) or np.any(fail < 0):
            raise ValueError("a [successes, failures] response needs non-negative counts.")
        n_trials = succ + fail
        y = np.divide(succ, n_trials, out=np.zeros(n), where=n_trials > 0)
    family.check_endog(y)
    _check_response_scale(y, family)
    if isinstance(family, Binomial) and family.name == "Binomial":   # not QuasiBinomial
        m = n_trials if n_trials is not None else vectors["var_weights"]
        if m is not None and not np.allclose(m * y, np.round(m * y), rtol=0, atol=1e-7):
            warnings.warn("non-integer number of successes in a binomial GLM (trials times "
                          "proportion); the fit is a quasi-binomial one.", UserWarning,
                          stacklevel=4)
    # --- names -----------------------------------------------------------------
    is_pandas = xindex is not None or yindex is not None or xcols is not None
    constant_columns = None
    endog_names = _endog_name(ycols, two_col)
    if xcols is not None and None not in xcols:
        exog_names = xcols
    elif isinstance(X, np.ndarray) and X.shape[0] <= 1:   # one row: no column is known
        exog_names = names_from_constant(np.zeros(X.shape[1], dtype=bool))  # to be constant
    elif isinstance(X, np.ndarray):
        constant_columns = constant_columns_of(X)
        exog_names = names_from_constant(constant_columns)
    else:
        const = X.column_is_constant()
        exog_names = ["const" if const[j] else f"x{j + 1}" for j in range(X.shape[1])]
    if len(set(exog_names)) != len(exog_names):
        raise ValueError(f"exog column names must be unique, got {exog_names}.")
    if isinstance(X, np.ndarray):
        _check_column_scales(X, exog_names, _column_squares(X) if css is None else css)
    return ModelData(
        y=_copy_ro(y), X=_readonly(X) if isinstance(X, np.ndarray) else X,
        offset=_own(vectors["offset"]), exposure=_own(exposure_arr),
        freq_weights=_own(vectors["freq_weights"]), var_weights=_own(vectors["var_weights"]),
        n_trials=_own(n_trials), endog_names=endog_names, exog_names=list(exog_names),
        row_labels=keep_index, is_pandas=is_pandas, n_dropped=n_dropped,
        constant_columns=constant_columns,
    )


#: Magnitudes whose squares (the deviance's and X'WX's terms) stay normal doubles, with
#: room for sums over many rows and for weights.
_SMALLEST, _LARGEST = 1e-140, 1e140


def _check_response_scale(y: np.ndarray, family: Family) -> None:
    """Families whose deviance scales with a power of y (Gaussian: y^2, inverse Gaussian:
    1/y, Tweedie: y^(2-p)) cannot represent it for responses of extreme magnitude: a
    silent zero or infinity, and with it zero slopes or NaN. Say so and how to fix it."""
    if not isinstance(family, (Gaussian, InverseGaussian, Tweedie)):
        return
    top = float(np.max(np.abs(y), initial=0.0))
    if top > _LARGEST or 0 < top < _SMALLEST:
        raise ValueError(
            f"the response's magnitude (largest |y| = {top:.3g}) is outside what the "
            f"{family.name} deviance can hold in double precision ({_SMALLEST:g} to "
            f"{_LARGEST:g}); rescale it (e.g. y / {top:.3g}) and scale the results back "
            "(with the identity link the coefficients scale by the same factor).")


def _column_squares(X: np.ndarray) -> np.ndarray:
    """Sum of squares of each column (one pass, no n x k temporary)."""
    with np.errstate(all="ignore"):
        return np.einsum("ij,ij->j", X, X, dtype=float)


def _check_column_scales(X: np.ndarray, names: list[str], css: np.ndarray) -> None:
    """Columns whose squares over- or underflow make X'WX meaningless: a column of 1e300
    (or 1e-300) would be declared aliased. ``css``: the columns' sums of squares; the rare
    suspects are then looked at directly."""
    if css.min() >= _SMALLEST ** 2 * 1e10 and css.max() <= _LARGEST:   # NaN: look closer
        return
    suspect = np.flatnonzero(~(css <= _LARGEST) | (css < _SMALLEST ** 2 * 1e10))
    for j in suspect:
        top = float(np.max(np.abs(X[:, j])))
        if top > _LARGEST or 0 < top < _SMALLEST:
            raise ValueError(
                f"column {names[j]!r} has values of magnitude {top:.3g}, outside what X'WX "
                f"can hold in double precision ({_SMALLEST:g} to {_LARGEST:g}); rescale it "
                f"(e.g. divide it by {top:.3g}): its coefficient scales by the same factor.")


def _check_design_finite(X: DesignMatrix) -> None:
    """NaN or inf inside a design object (dense blocks, sparse values)."""
    from .design import DenseDesign, SparseDesign, SplitDesign

    parts = X.blocks if isinstance(X, SplitDesign) else [X]
    for b in parts:
        if isinstance(b, SparseDesign):
            finite = b.all_finite()
        else:
            finite = not isinstance(b, DenseDesign) or bool(np.all(np.isfinite(b.array)))
        if not finite:
            raise ValueError("exog has NaN or infinite values; glmkit needs finite numbers.")


def _endog_name(ycols, two_col) -> str:
    if ycols is None or None in ycols:
        return "y"
    return ", ".join(ycols) if two_col else ycols[0]


def names_from_constant(const) -> list[str]:
    """statsmodels' names given which columns are constant: the first constant column is
    'const', the others x1, x2, ... in order."""
    names, i = [], 0
    for is_const in const:
        if is_const and "const" not in names:
            names.append("const")
        else:
            i += 1
            names.append(f"x{i}")
    return names


def rows_for_prediction(exog, k: int, formula_info=None, blocks: bool = False):
    """Design rows for new data and the formula's offset for them (or None): a model
    built from a formula re-applies its stored spec to a data frame; otherwise ``exog``
    must be array-like with the model's k columns (one row may be given as a 1-d array).
    ``blocks``: a formula fitted from level codes gives a DesignMatrix whose factors of
    many levels are CategoricalDesign blocks (for X @ b without the indicator columns)."""
    if isinstance(exog, DesignMatrix):   # rows already built (glmkit.prediction)
        if exog.shape[1] != k:
            raise ValueError(f"exog must have {k} columns, got shape {exog.shape}.")
        return exog, None
    if formula_info is not None and not isinstance(exog, np.ndarray):
        if blocks and formula_info.codes_plan is not None:
            return formula_info.design_matrix_for(exog)
        return formula_info.design_for(exog)
    X, _, _ = _to_array(exog, "exog")
    if X.ndim == 1:
        X = X[None, :] if X.shape[0] == k else X[:, None]
    if X.ndim != 2 or X.shape[1] != k:
        raise ValueError(f"exog must have {k} columns, got shape {X.shape}.")
    return X, None


def add_constant(data, prepend: bool = True, has_constant: str = "skip"):
    """Add a column of ones, as statsmodels' ``add_constant``.

    Parameters
    ----------
    data : array_like or DataFrame / Series.
    prepend : bool, put the constant first (default) or last.
    has_constant : {'skip', 'add', 'raise'}
        What to do when a constant column already exists.
    """
    if has_constant not in ("skip", "add", "raise"):
        raise ValueError(f"has_constant must be 'skip', 'add' or 'raise', got {has_constant!r}.")
    if isinstance(data, (pd.DataFrame, pd.Series)):
        df = data.to_frame() if isinstance(data, pd.Series) else data
        vals = df.to_numpy(dtype=float) if all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes) else None
        if vals is not None and vals.shape[0] > 0 and has_constant != "add":
            const = np.all(vals == vals[0], axis=0) & (vals[0] != 0)
            if const.any():
                if has_constant == "raise":
                    raise ValueError("data already contain a constant column.")
                return data
        out = df.copy()
        if "const" in out.columns:
            raise ValueError("data already have a column named 'const'.")
        out.insert(0 if prepend else out.shape[1], "const", 1.0)
        return out
    x = np.asarray(data, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"add_constant needs 1-d or 2-d data, got {x.ndim} dimensions.")
    if x.shape[0] > 0 and has_constant != "add":
        const = np.all(x == x[0], axis=0) & (x[0] != 0)
        if const.any():
            if has_constant == "raise":
                raise ValueError("data already contain a constant column.")
            return x.copy()
    ones = np.ones((x.shape[0], 1))
    return np.hstack([ones, x] if prepend else [x, ones])
