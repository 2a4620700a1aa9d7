"""The data pass of a Dask data set: one pass over the partitions that checks the inputs
(missing and infinite values, ranges, weights), finds the rank and the constant columns, and
draws a row sample for the warm start; and :class:`DaskProblem`, what a solver reads.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..exceptions import MissingDataError
from ..families import Binomial, Family
from .partitioned import RAW_NAMES, RowSource

#: 100 p) rows, used when n >= MIN_ROWS and n >= MIN_RATIO p).
_WARM_ROWS = 50_000

_USER_NAMES = {"X": "exog", "y": "endog", "offset": "offset", "exposure": "exposure",
               "freq_weights": "freq_weights", "var_weights": "var_weights"}


# ------------------------------------------------------------------- the data pass
@dataclass(frozen=True)
class DataStats:
    """What one pass over the data found (all small)."""

    n: int
    n_dropped: int
    chunks: tuple[int, ...]
    wnobs: float
    tw_sum: float
    twy_sum: float
    offset_any: bool
    gram01: np.ndarray
    col_const: np.ndarray
    col_value: np.ndarray
    constant: float
    nt_not1: bool
    start: dict
    sample: np.ndarray | None = None


def _rows_with(a, test) -> np.ndarray:
    hit = test(a)
    return hit.any(axis=1) if hit.ndim == 2 else hit


def _data_block(b, family, fused, quota):
    from ..families._fused import kernel_for
    from .dense import DenseDesign

    out: dict[str, Any] = {}
    nan_any = np.zeros(b.n_raw, dtype=bool)
    for name, a in zip(RAW_NAMES, b.raw):
        if a is not None:
            rows = _rows_with(a, np.isnan)
            nan_any |= rows
            out[f"nan_{name}"] = float(rows.sum())
    out["nan_rows"] = float(nan_any.sum())
    for name, a in b.inputs.items():
        if a is not None:
            out[f"inf_{name}"] = float(_rows_with(a, np.isinf).sum())
    for name in ("freq_weights", "var_weights"):
        w = b.inputs[name]
        if w is not None:
            out[f"neg_{name}"] = float(np.sum(w < 0))
            out[f"pos_{name}_any"] = bool(np.any(w > 0))
    if b.inputs["exposure"] is not None:
        out["nonpos_exposure"] = float(np.sum(b.inputs["exposure"] <= 0))
    y, tw, pw = b.y, b.total_weights, b.prior_weights
    if b.two_col:
        out["neg_counts"] = float(np.sum(np.any(b.inputs["y"] < 0, axis=1)))
    try:
        family.check_endog(y)
    except ValueError as exc:
        out["endog_error_first"] = str(exc)
    if isinstance(family, Binomial):
        m = b.n_trials if b.two_col else b.inputs["var_weights"]
        if m is not None and b.n and not np.allclose(m * y, np.round(m * y), rtol=0, atol=1e-7):
            out["nonint_any"] = True
    X = b.X
    out["xmin_min"] = np.min(X, axis=0, initial=np.inf)
    out["xmax_max"] = np.max(X, axis=0, initial=-np.inf)
    out["wnobs"] = float(np.sum(b.freq_weights[pw > 0]))
    out["tw_sum"] = float(np.sum(tw))
    out["twy_sum"] = float(np.sum(tw * y))
    out["pw_sum"] = float(np.sum(pw))
    out["pwy_sum"] = float(np.sum(pw * y))
    out["offset_nonzero"] = float(np.count_nonzero(b.offset))
    out["gram01"] = DenseDesign(X).sandwich((tw > 0).astype(float))
    out["constant"] = float(kernel_for(family, fused=fused).constant(y, tw))
    out["nt_not1_any"] = bool(np.any(b.n_trials != 1.0))
    out["y_nonpos_any"] = bool(np.any(y <= 0))
    out["y_zero_any"] = bool(np.any(y == 0))
    if quota and b.n:
        # a few random rows for the warm start (columns: y, offset, prior and frequency
        # weights, then X), as in-memory IRLS starts large fits from a subsample
        rng = np.random.default_rng([12345, b.index])
        rows = np.sort(rng.choice(b.n, size=min(quota, b.n), replace=False))
        out["start_sample"] = np.column_stack([y[rows], b.offset[rows], pw[rows],
                                               b.freq_weights[rows], X[rows]])
    return out


def _with_counts(total, *counts):
    return total, counts


def _counts(part) -> tuple[float, float]:
    return part["raw_rows"], part["rows"]


def _check_data(out: dict, missing: str, family) -> None:
    """Raise as :func:`glmkit._data.prepare` does, in the same order."""
    nan_in = [_USER_NAMES[k] for k in RAW_NAMES if out.get(f"nan_{k}", 0) > 0]
    n_nan = int(out.get("nan_rows", 0))
    if n_nan and missing != "drop":
        where = ", ".join(nan_in)
        if missing == "raise":
            raise MissingDataError(f"missing values (NaN) in {where}: {n_nan} row(s).")
        raise ValueError(f"{where} contain(s) NaN in {n_nan} row(s); pass missing='drop' to fit "
                         "on the complete rows, or fill the values.")
    if int(out.get("rows", 0)) == 0:
        raise ValueError("every row has a missing value; nothing is left to fit.")
    for k in RAW_NAMES:
        bad = int(out.get(f"inf_{k}", 0))
        if bad:
            raise ValueError(f"{_USER_NAMES[k]} has infinite values in {bad} row(s); glmkit "
                             "needs finite numbers.")
    for name in ("freq_weights", "var_weights"):
        if out.get(f"neg_{name}", 0) > 0:
            raise ValueError(f"{name} must be non-negative; found {int(out[f'neg_{name}'])} "
                             "row(s) with negative weights.")
        if f"pos_{name}_any" in out and not out[f"pos_{name}_any"]:
            raise ValueError(f"{name} are all zero: no row would count in the fit.")
    if out.get("nonpos_exposure", 0) > 0:
        raise ValueError(f"exposure must be positive (its log enters the model); found "
                         f"{int(out['nonpos_exposure'])} row(s) with values <= 0.")
    if out.get("neg_counts", 0) > 0:
        raise ValueError("a [successes, failures] response needs non-negative counts.")
    if out.get("endog_error_first"):
        raise ValueError(out["endog_error_first"])
    if out.get("nonint_any"):
        warnings.warn("non-integer number of successes in a binomial GLM (trials times "
                      "proportion); the fit is a quasi-binomial one.", UserWarning, stacklevel=5)


# --------------------------------------------------------------------- the problem
class DaskProblem:
    """The Dask counterpart of :class:`~glmkit.problem.GLMProblem`: a source of partitions,
    the family, the data summary and which design (the model's X or, for the null model,
    the intercept column). Per-row attributes are lazy dask arrays."""

    def __init__(self, source: RowSource, family: Family, stats: DataStats, design: str = "X"):
        self.source = source
        self.family = family
        self.stats = stats
        self.design = design
        if design == "X":
            self.col_const = stats.col_const
            self.col_value = stats.col_value
            self.p = source.p
        else:
            self.col_const = np.array([True])
            self.col_value = np.array([1.0])
            self.p = 1

    @cached_property
    def X(self):
        """The design as a lazy n x p dask array (the filtered rows)."""
        if self.design == "ones":
            import dask.array as da

            return da.ones((self.source.n, 1), chunks=(self.source.chunks, 1))
        if not self.source.drop_missing or self.stats.n_dropped == 0:
            return self.source.raw["X"]
        return self.source.map_rows(_rows_attr, args=("X",), ncols=self.p)

    def _rows(self, attr: str):
        return self.source.map_rows(_rows_attr, args=(attr,), need_X=False)

    @cached_property
    def y(self):
        return self._rows("y")

    @cached_property
    def prior_weights(self):
        return self._rows("prior_weights")

    @cached_property
    def freq_weights(self):
        return self._rows("freq_weights")

    @cached_property
    def offset(self):
        return self._rows("offset")

    @cached_property
    def total_weights(self):
        return self._rows("total_weights")


def _rows_attr(b, attr):
    return getattr(b, attr)


def _input_rows(b, name):
    return b.inputs[name]


def warm_start(stats: DataStats, family, options, sweeper, observed: bool, design: str):
    """Coefficients fitted on the data pass's row sample when the data are large (as the
    in-memory IRLS does, :mod:`glmkit.solvers.warm_start`), if they are a valid point for
    all the data; else None (R's starting means). The check's sweep is the first sweep of
    the fit (the sweeper reuses it), so it costs no pass. ``design``: the model's X or the
    null model's intercept ('ones')."""
    from dataclasses import replace as _replace

    from ..problem import GLMProblem
    from ..solvers.irls import irls
    from ..solvers.warm_start import MIN_RATIO, MIN_ROWS
    from .dense import DenseDesign

    S = stats.sample
    p = (S.shape[1] - 4) if (S is not None and design == "X") else 1
    if S is None or stats.n < MIN_ROWS or stats.n < MIN_RATIO * p or S.shape[0] < 10 * p:
        return None
    X = np.ascontiguousarray(S[:, 4:]) if design == "X" else np.ones((S.shape[0], 1))
    sub = GLMProblem(X=DenseDesign(X), y=S[:, 0], family=family, prior_weights=S[:, 2],
                     freq_weights=S[:, 3], offset=S[:, 1])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = irls(sub, None, _replace(options, tol=1e-6, refine_iter=0, maxiter=25,
                                       subsample=False))
    beta = np.asarray(res.params)
    if not res.converged or not np.all(np.isfinite(beta[~np.asarray(res.aliased)])):
        return None
    beta = np.nan_to_num(beta)
    first = sweeper.sweep(beta, None, observed)
    return beta if np.isfinite(first.deviance) and first.valid else None


