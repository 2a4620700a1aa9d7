"""The same GLM on Dask: exact distributed IRLS, on a cluster or on data larger than memory.

``GLM`` builds a :class:`DaskGLM` when any input is a Dask collection (dask arrays, dask
DataFrames/Series), and ``GLM.from_formula`` / :func:`glm` accept a dask DataFrame:

>>> import glmkit.api as sm, dask.array as da
>>> res = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit(client=client, verbose=True)
>>> res.params, res.bse, res.deviance          # NumPy, computed on the cluster
>>> res.fittedvalues                           # a lazy dask array

Each IRLS iteration is one pass over the partitions (:mod:`glmkit.solvers.dask_sweeper`):
every partition returns X_b'WX_b, X_b'u and its deviance terms, the sums are added on the
cluster, and the p x p solve is done on the client; nothing of size n reaches the client.
Nothing is persisted: each pass re-reads its partitions from their source, so a Parquet data
set larger than memory is streamed (:func:`read_parquet_design`). Persist the inputs
yourself (``X = X.persist()``) when they fit in the cluster's memory and passes should not
re-read them.

What costs a pass
-----------------
- the first fit (or the first statistic) runs one data pass: missing and infinite values,
  ranges, weights, rank, constant columns, and a random sample of about 50,000 rows;
- each IRLS iteration (and each step halving) is one pass; as in memory, large data
  (n >= 200,000) start from a fit on the row sample, which saves passes;
- on the results, each of ``pearson_chi2``/``scale`` (dispersion families), ``null_deviance``
  (plus an intercept-only IRLS fit when there is an offset), ``llf``, ``llnull``, and a
  robust covariance is one pass, computed when first used and then cached.

Progress: ``fit(verbose=True)`` prints one line per pass (deviance and seconds);
``fit(progress=True)`` shows Dask's progress bar; ``verbose=callable`` receives a dict per pass.
The scheduler: ``fit(client=...)`` (or ``GLM(..., client=...)``), else Dask's default (the
active ``distributed.Client`` if one exists, otherwise local threads).

Dask is an optional extra: ``pip install 'glmkit[dask]'``. This module imports without it;
building a Dask model raises an ImportError with that hint.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from .design.partitioned import (INSTALL_HINT, RAW_NAMES, DaskFitError, Executor, RowSource,
                                  is_dask_collection, require_dask)
from .exceptions import MissingDataError
from .families import Binomial, Family, links
from ._data import names_from_constant
from .model import GLM, checked_family, fit_warnings
from .solvers._linalg import find_aliased

__all__ = ["DaskGLM", "DaskProblem", "DaskFitError", "glm", "read_parquet_design",
           "INSTALL_HINT", "is_dask_collection"]

#: Rows sampled by the data pass for the warm start (as solvers/warm_start.py: max(50,000,
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
    from .design import DenseDesign
    from .families._fused import kernel_for

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

    from .design import DenseDesign
    from .problem import GLMProblem
    from .solvers.irls import irls
    from .solvers.warm_start import MIN_RATIO, MIN_ROWS

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


# ----------------------------------------------------------------------- the model
class DaskGLM(GLM):
    """A :class:`~glmkit.GLM` whose data are Dask collections (built by ``GLM(...)``).

    Parameters are those of :class:`~glmkit.GLM`, plus ``client``: the
    ``distributed.Client`` to run on (default: Dask's default scheduler), and
    ``exog_names``/``endog_names`` to label unlabelled inputs. Inputs may be dask
    arrays, dask DataFrames/Series, and NumPy/pandas arrays next to them; partitions may
    be of unequal sizes, and empty. See :mod:`glmkit.dask` for what each step computes.
    """

    def __init__(self, endog, exog, family: Family | None = None, offset=None, exposure=None,
                 freq_weights=None, var_weights=None, missing: str = "none", client=None,
                 exog_names: list[str] | None = None, endog_names: str | None = None,
                 **kwargs: Any):
        require_dask()
        if kwargs:
            raise TypeError(f"GLM() got unexpected keyword argument(s) {sorted(kwargs)}; "
                            "accepted: family, offset, exposure, freq_weights, var_weights, "
                            "missing, client (Dask).")
        family = checked_family(family)
        if missing not in ("none", "drop", "raise"):
            raise ValueError(f"missing must be 'none', 'drop' or 'raise', got {missing!r}.")
        from .design.dask_inputs import normalize

        self.family = family
        self.missing = missing
        self.formula_info = None
        self.terms = None
        self._inputs = normalize(endog, exog, family, offset, exposure, freq_weights, var_weights)
        if exog_names is not None:   # labels for unlabelled inputs (read_parquet_design)
            names = [str(c) for c in exog_names]
            if len(names) != self._inputs.raw["X"].shape[1] or len(set(names)) != len(names):
                raise ValueError(f"exog_names must be {self._inputs.raw['X'].shape[1]} unique "
                                 f"names, got {exog_names!r}.")
            self._inputs = replace(self._inputs, exog_names=names, is_pandas=True)
        if endog_names is not None:
            self._inputs = replace(self._inputs, endog_names=str(endog_names))
        if self._inputs.raw["exposure"] is not None and not isinstance(family.link, links.Log):
            raise ValueError(
                f"exposure is only meaningful with the log link (log(exposure) is added to "
                f"the linear predictor); the link is {type(family.link).__name__}. Pass "
                "offset=np.log(exposure) if you mean it on this link's scale.")
        self._source = RowSource(self._inputs.raw, drop_missing=(missing == "drop"))
        self._client = client

    # ------------------------------------------------------------ the data pass
    def _summarize(self, executor: Executor | None = None) -> DataStats:
        """Run the data pass once (with ``executor``, else the model's client)."""
        if "_stats" in self.__dict__:
            return self.__dict__["_stats"]
        from dask import delayed

        ex = executor if executor is not None else Executor(self._client)
        src = self._source
        quota = -(-max(_WARM_ROWS, 100 * src.p) // max(src.nblocks, 1))
        parts = src.partials(_data_block, args=(self.family, True, quota))
        from .design.partitioned import tree_reduce

        total = tree_reduce(parts)
        counts = [delayed(_counts)(p) for p in parts]
        (out, sizes), seconds = ex.compute(delayed(_with_counts)(total, *counts), "data")
        if not sizes or sum(s[0] for s in sizes) == 0:
            raise ValueError("exog is empty (no rows); it needs at least one row and column.")
        _check_data(out, self.missing, self.family)
        src.set_sizes([s[0] for s in sizes], [s[1] for s in sizes])
        n = src.n
        n_dropped = int(sum(src.raw_chunks) - n)
        if n_dropped:
            warnings.warn(f"missing='drop' dropped {n_dropped} row(s) with missing values.",
                          UserWarning, stacklevel=4)
        xmin, xmax = out["xmin_min"], out["xmax_max"]
        stats = DataStats(
            n=n, n_dropped=n_dropped, chunks=src.chunks, wnobs=out["wnobs"],
            tw_sum=out["tw_sum"], twy_sum=out["twy_sum"],
            offset_any=out.get("offset_nonzero", 0) > 0, gram01=out["gram01"],
            col_const=(xmin == xmax) & (xmin != 0), col_value=xmin, constant=out["constant"],
            nt_not1=bool(out.get("nt_not1_any", False)),
            start={k: out.get(k) for k in ("pw_sum", "pwy_sum", "y_nonpos_any", "y_zero_any")},
            sample=out.get("start_sample"))
        self.__dict__["_stats"] = stats
        ex.report("data", seconds, rows=n)
        return stats

    @property
    def _stats(self) -> DataStats:
        return self._summarize()

    # ------------------------------------------------------------ attributes
    @property
    def data(self):  # type: ignore[override]  # GLM's is an attribute set by _data.prepare
        return _DaskModelData(self)

    @property
    def endog(self):
        return self.problem.y

    @property
    def exog(self):
        return self.problem.X

    def _optional_rows(self, name):
        if self._inputs.raw[name] is None:
            return None
        self._summarize()
        return self._source.map_rows(_input_rows, args=(name,), need_X=False)

    @property
    def offset(self):
        return self._optional_rows("offset")

    @property
    def exposure(self):
        return self._optional_rows("exposure")

    @property
    def freq_weights(self):
        return self.problem.freq_weights

    @property
    def var_weights(self):
        self._summarize()
        return self._source.map_rows(_rows_attr, args=("var_weights",), need_X=False)

    @property
    def n_trials(self):
        self._summarize()
        return self._source.map_rows(_rows_attr, args=("n_trials",), need_X=False)

    @property
    def n_dropped(self) -> int:
        return self._stats.n_dropped

    @n_dropped.setter
    def n_dropped(self, value) -> None:  # the formula interface sets it; the data pass knows
        pass

    @property
    def endog_names(self) -> str:
        return self._inputs.endog_names

    @cached_property
    def exog_names(self) -> list[str]:
        if self._inputs.exog_names is not None:
            return list(self._inputs.exog_names)
        const = self._stats.col_const if self._stats.n > 1 else np.zeros(self._source.p, bool)
        return names_from_constant(const)

    @property
    def nobs(self) -> int:
        return self._stats.n

    @cached_property
    def problem(self) -> DaskProblem:  # type: ignore[override]
        return DaskProblem(self._source, self.family, self._stats)

    @property
    def wnobs(self) -> float:
        return float(self._stats.wnobs)

    @cached_property
    def rank(self) -> int:
        return int(np.sum(~find_aliased(self._stats.gram01)))

    @property
    def k_constant(self) -> int:
        return int(np.any(self._stats.col_const))

    # -------------------------------------------------------------------- fit
    def fit(self, start_params=None, maxiter: int = 100, method: str = "IRLS", tol: float = 1e-8,
            scale=None, cov_type: str = "nonrobust", cov_kwds: dict | None = None,
            use_t: bool | None = None, *, client=None, verbose=False, progress: bool = False,
            **kwargs: Any):
        """Fit by exact distributed IRLS; returns :class:`~glmkit.dask_results.DaskGLMResults`.

        Parameters are those of :meth:`glmkit.GLM.fit`, plus ``client`` (a
        ``distributed.Client``; default: the model's, else Dask's default scheduler),
        ``verbose`` (True: one line per pass with the deviance and seconds; a callable
        receives a dict per pass) and ``progress`` (Dask's progress bar for each pass).
        ``method='lbfgs'`` is not available on Dask.
        """
        from .solvers.certify import certify
        from .solvers.dask_sweeper import DaskSweeper
        from .solvers.irls import irls

        options, method_name, start = self._check_fit_args(
            start_params, maxiter, method, tol, scale, cov_type, cov_kwds, use_t, kwargs)
        if method_name == "lbfgs":
            raise NotImplementedError("method='lbfgs' is not available for Dask models; use "
                                      "'IRLS' (default) or 'newton'.")
        ex = Executor(client if client is not None else self._client, progress, verbose)
        self._summarize(ex)
        if cov_type == "cluster":
            self._check_groups_shape((cov_kwds or {})["groups"])
        sweeper = DaskSweeper(self.problem, ex, fused=options.fused)
        hessian = "observed" if method_name == "newton" else "expected"
        if start is None and options.subsample:
            start = self._warm_start(options, sweeper, hessian == "observed")
        # irls is duck-typed on the problem: it reads .X.shape and .family
        result = irls(self.problem, start, options, hessian=hessian,  # type: ignore[arg-type]
                      sweeper=sweeper)
        # R's rule taken as asked (tol_criterion='params') is checked as in memory: the
        # Newton step against the observed information, one more pass over the partitions
        result = certify(self.problem, result, options, sweeper=sweeper)  # type: ignore[arg-type]
        notes = self._dask_fit_warnings(result, sweeper)
        from .dask_results import DaskGLMResults

        return DaskGLMResults(self, result, scale=scale, cov_type=cov_type, use_t=use_t,
                              fit_warnings=notes, cov_kwds=cov_kwds, executor=ex)

    def _warm_start(self, options, sweeper, observed: bool):
        """Coefficients fitted on the data pass's row sample (see :func:`warm_start`)."""
        return warm_start(self._stats, self.family, options, sweeper, observed, "X")

    def _check_groups_shape(self, groups) -> None:
        shape = getattr(groups, "shape", None)
        shape = np.shape(groups) if shape is None else shape
        first = shape[0] if len(shape) else None   # a dask Series has a lazy length
        if isinstance(first, (int, np.integer)) and int(first) != self.nobs:
            raise ValueError(f"groups must have one label per row ({self.nobs}), got shape "
                             f"{tuple(shape)}.")

    def _dask_fit_warnings(self, result, sweeper) -> tuple[str, ...]:
        """The warnings of :meth:`GLM._fit_warnings`, from the sums of the last pass."""
        lo, hi = sweeper.extremes(result.mu)
        return fit_warnings(result, self.exog_names, self.family, lo, hi)

    # ------------------------------------------------------------- prediction
    def predict(self, params, exog=None, exposure=None, offset=None, which: str = "mean"):
        """Predicted mean or linear predictor: lazy (a dask array, or a dask Series for a
        dask DataFrame) for the model's rows or Dask ``exog``; NumPy for NumPy ``exog``."""
        if which not in ("mean", "linear"):
            raise ValueError(f"which must be 'mean' or 'linear', got {which!r}.")
        params = np.asarray(params, dtype=float)
        k = self._source.p
        if params.shape != (k,):
            raise ValueError(f"params must have {k} values, got shape {params.shape}.")
        b = np.where(np.isnan(params), 0.0, params)
        if exog is not None and not is_dask_collection(exog) and not is_dask_collection(offset) \
                and not is_dask_collection(exposure):
            return GLM.predict(self, params, exog=exog, exposure=exposure, offset=offset,
                               which=which)
        link = self.family.link
        if exog is None:
            self._summarize()
            src = self._source
            extras = []
            if offset is not None or exposure is not None:
                like = self.problem.y
                extras = [_aligned(v, like, nm) for v, nm in
                          ((offset, "offset"), (exposure, "exposure"))]
            return src.map_rows(_predict_rows, *[e for e in extras if e is not None],
                                args=(b, link, which, tuple(e is not None for e in extras)))
        return _predict_new(self, b, exog, offset, exposure, which)

    def exog_for_predict(self, exog):
        if is_dask_collection(exog):
            raise TypeError("exog_for_predict builds NumPy rows; for Dask data use predict().")
        return GLM.exog_for_predict(self, exog)

    @classmethod
    def from_formula(cls, formula: str, data, family: Family | None = None, **kwargs: Any):
        """Build the model from a formula and a dask DataFrame (see :func:`glm`)."""
        return _model_from_formula(formula, data, family=family, **kwargs)

    # ------------------------------------------ in-memory-only likelihood functions
    def _in_memory_only(self, what: str):
        raise NotImplementedError(f"{what} is not available for Dask models; the fitted "
                                  "results have llf, deviance, scale and the covariances.")

    def loglike(self, params, scale=None):
        self._in_memory_only("loglike")

    def loglike_mu(self, mu, scale=None):
        self._in_memory_only("loglike_mu")

    def score(self, params, scale=None):
        self._in_memory_only("score")

    def score_obs(self, params, scale=None):
        self._in_memory_only("score_obs")

    def score_factor(self, params, scale=None):
        self._in_memory_only("score_factor")

    def hessian(self, params, scale=None, observed: bool = True):
        self._in_memory_only("hessian")

    def hessian_factor(self, params, scale=None, observed: bool = True):
        self._in_memory_only("hessian_factor")

    def information(self, params, scale=None):
        self._in_memory_only("information")

    def estimate_scale(self, mu):
        self._in_memory_only("estimate_scale")

    def get_distribution(self, *args, **kwargs):
        self._in_memory_only("get_distribution")

    def score_test(self, *args, **kwargs):
        self._in_memory_only("score_test")

    def __repr__(self):
        return (f"DaskGLM(partitions={self._source.nblocks}, k={self._source.p}, "
                f"family={self.family!r})")


class _DaskModelData:
    """What results and fit() read from ``model.data`` (no per-row arrays)."""

    def __init__(self, model: DaskGLM):
        self._model = model
        self.is_pandas = model._inputs.is_pandas
        self.row_labels = None
        self.endog_names = model._inputs.endog_names
        self.n_trials = None

    @property
    def X(self):
        return self._model._source.raw["X"]

    @property
    def exog_names(self):
        return self._model.exog_names

    @property
    def n_dropped(self):
        return self._model.n_dropped


def _aligned(v, like, name):
    """A per-row input (dask or local) as a 1-d dask array with the partitions of the dask
    array ``like`` (positional; the tasks check the lengths), or None."""
    if v is None:
        return None
    from .design.dask_inputs import _dask_arrays, _kind

    given = {"exog": like, "endog": None, "offset": v, "exposure": None,
             "freq_weights": None, "var_weights": None}
    kinds = {k: _kind(x) for k, x in given.items()}
    a = _dask_arrays(given, kinds)["offset"]
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array with one value per row, got shape {a.shape}.")
    return a


def _predict_rows(b, *rest):
    *extras, beta, link, which, given = rest
    extras = list(extras)
    if any(e.shape[0] != b.n for e in extras):
        raise ValueError("offset/exposure must have one value per row of the model's data.")
    if any(given):
        off = np.zeros(b.n)
        if given[0]:
            off = extras.pop(0).astype(float)
        if given[1]:
            exp = extras.pop(0)
            if np.any(~np.isfinite(exp)) or np.any(exp <= 0):
                raise ValueError("exposure must be positive and finite.")
            off = off + np.log(exp)
    else:
        off = b.offset
    eta = b.X @ beta + off
    return eta if which == "linear" else link.inverse(eta)


def _predict_array_block(X, off, exp, beta, link, which):
    if X.ndim == 1:
        X = X[:, None]
    for v in (off, exp):
        if v is not None and v.shape[0] != X.shape[0]:
            raise ValueError("offset/exposure must have one value per row of exog.")
    eta = X @ beta
    if off is not None:
        eta = eta + off
    if exp is not None:
        eta = eta + np.log(exp)
    return eta if which == "linear" else link.inverse(eta)


def _formula_predict_part(df, info, beta, link, which):
    import pandas as pd

    X, off = info.design_for(df)
    eta = X @ beta + (0.0 if off is None else off)
    return pd.Series(eta if which == "linear" else link.inverse(eta), index=df.index)


def _predict_new(model: DaskGLM, beta, exog, offset, exposure, which):
    """Lazy predictions for new Dask rows (a dask Series for a formula model's frame)."""
    from dask import delayed

    from .design.dask_inputs import _dask_arrays, _kind
    from .design.partitioned import array_from_delayed

    link = model.family.link
    if _kind(exog) == "frame" and model.formula_info is not None:
        if offset is not None or exposure is not None:
            raise ValueError("with a formula model, give the offset/exposure as columns of the "
                             "new data frame.")
        return exog.map_partitions(_formula_predict_part, model.formula_info, beta, link, which,
                                   meta=(None, "f8"))
    given = {"exog": exog, "endog": None, "offset": offset, "exposure": exposure,
             "freq_weights": None, "var_weights": None}
    arrays = _dask_arrays(given, {k: _kind(v) for k, v in given.items()})
    X = arrays["exog"]
    cols = 1 if X.ndim == 1 else X.shape[1]
    if cols != beta.shape[0] or X.ndim > 2:
        raise ValueError(f"exog must have {beta.shape[0]} columns, got shape {X.shape}.")
    if X.ndim == 2 and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    xb = list(X.to_delayed(optimize_graph=False).ravel())
    ob, eb = [None if a is None else list(a.to_delayed(optimize_graph=False).ravel())
              for a in (arrays["offset"], arrays["exposure"])]
    run = delayed(_predict_array_block, pure=False)
    pieces = [run(xb[i], None if ob is None else ob[i], None if eb is None else eb[i], beta,
                  link, which) for i in range(len(xb))]
    return array_from_delayed(pieces, X.chunks[0], name="glmkit-predict")


# ------------------------------------------------------------------ formula interface
_BARE = re.compile(r"^\s*`?([A-Za-z_][\w.]*)`?\s*$")
_CBIND = re.compile(r"^\s*cbind\(\s*`?([A-Za-z_][\w.]*)`?\s*,\s*`?([A-Za-z_][\w.]*)`?\s*\)\s*$")
_C_OF = re.compile(r"C\(\s*`?([A-Za-z_][\w.]*)`?")


def glm(formula: str, data, family: Family | None = None, **kwargs: Any) -> DaskGLM:
    """statsmodels.formula.api.glm on a dask DataFrame: the model of ``formula`` (call
    ``.fit()``). Keywords as :func:`glmkit.glm` (offset/exposure/weights as column names or
    Dask arrays), plus ``client`` and ``sample_rows``.

    The formula's categorical levels are read from the whole data set in one pass; the
    model spec is built on a sample of ``sample_rows`` rows that holds every level, and
    applied to each partition in every pass. The response must be a column or
    ``cbind(successes, failures)`` of columns; stateful transforms (``center``, ``scale``,
    splines), whose state would be learnt from the sample only, are refused.
    """
    return _model_from_formula(formula, data, family=family, **kwargs)


def _model_from_formula(formula: str, data, family=None, *, offset=None, exposure=None,
                        freq_weights=None, var_weights=None, missing: str = "none",
                        context=None, client=None, sample_rows: int = 1000,
                        **kwargs: Any) -> DaskGLM:
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
        m0 = model_from_formula(GLM, formula, sample, family=family, missing="drop",
                                context=context, **by_name)
    info = m0.formula_info
    if dict(info.spec.transform_state):
        raise NotImplementedError(
            f"the formula uses stateful transforms {sorted(dict(info.spec.transform_state))}, "
            "whose state would be learnt from a sample on Dask; compute those columns first.")
    kx = len(info.exog_names)
    ny = len(ycols)
    wcols = [by_name.get("freq_weights"), by_name.get("var_weights")]
    width = ny + kx + 1 + sum(c is not None for c in wcols)
    import pandas as pd

    packed = frame.map_partitions(_formula_part, info, ycols, wcols,
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
    model = DaskGLM(y, X, family=m0.family, offset=off, freq_weights=fw, var_weights=vw,
                    missing=missing, client=client)
    model._inputs = replace(model._inputs, exog_names=list(info.exog_names),
                            endog_names=m0.endog_names, is_pandas=True)
    model.formula_info = info
    model.terms = m0.terms
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


def _formula_part(df, info, ycols, wcols):
    """One partition's [response, design, offset, weights] columns (a float frame)."""
    import pandas as pd

    return pd.DataFrame(_formula_columns(df, info, ycols, wcols), copy=False)


def _formula_columns(df, info, ycols, wcols) -> np.ndarray:
    X, off = info.design_for(df)
    n = X.shape[0]
    cols = [df[c].to_numpy(dtype=float, na_value=np.nan) for c in ycols] + [X]
    cols.append(np.zeros(n) if off is None else off)
    cols += [df[c].to_numpy(dtype=float, na_value=np.nan) for c in wcols if c is not None]
    return np.column_stack(cols) if n else np.empty((0, sum(
        1 if a.ndim == 1 else a.shape[1] for a in cols)))


# ---------------------------------------------------------------------- Parquet
def read_parquet_design(path, endog: str | list[str], exog: list[str], *, offset: str | None = None,
                        exposure: str | None = None, freq_weights: str | None = None,
                        var_weights: str | None = None, add_constant: bool = True,
                        row_groups_per_partition: int = 1) -> dict:
    """Columns of a local Parquet data set as the keyword arguments of ``GLM``, read lazily.

    >>> d = glmkit.dask.read_parquet_design("data/", "claims", ["age", "power"],
    ...                                     exposure="years")
    >>> res = sm.GLM(family=sm.families.Poisson(), **d).fit(verbose=True)

    Only the files' metadata are read here (row counts give the partitions' sizes). Each
    pass of the fit reads every partition again -- ``row_groups_per_partition`` row groups
    of one file, straight from pyarrow into one float block (no pandas) -- and drops it, so
    memory is bounded by a few partitions per worker and the data may be larger than
    memory. ``endog`` may name two columns [successes, failures] for a binomial;
    ``add_constant`` adds an intercept column 'const' first. For other storage (S3, ...)
    or layouts, pass ``dask.dataframe.read_parquet(...)`` columns to ``GLM`` instead.
    """
    require_dask()
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq
    from dask import delayed

    from .design.partitioned import array_from_delayed

    ycols = [endog] if isinstance(endog, str) else list(endog)
    extras = {k: c for k, c in (("offset", offset), ("exposure", exposure),
                                ("freq_weights", freq_weights), ("var_weights", var_weights)) if c}
    cols = ycols + list(extras.values()) + list(exog)
    files = sorted(pds.dataset(path, format="parquet").files)
    if not files:
        raise ValueError(f"no Parquet files under {path!r}.")
    schema = pq.read_schema(files[0])
    lacking = [c for c in dict.fromkeys(cols) if c not in schema.names]
    if lacking:
        raise ValueError(f"the Parquet data have no column(s) {lacking}; they have {schema.names}.")
    import pyarrow.types as pat

    bad = [c for c in dict.fromkeys(cols) if not (pat.is_integer(schema.field(c).type) or
                                                   pat.is_floating(schema.field(c).type) or
                                                   pat.is_boolean(schema.field(c).type))]
    if bad:
        raise TypeError(f"column(s) {bad} are not numeric; encode them as numbers or use the "
                        "formula interface on a dask DataFrame (glmkit.dask.glm).")
    step = max(1, int(row_groups_per_partition))
    read = delayed(_read_parquet_block, pure=True)
    tasks, rows = [], []
    for f in files:
        md = pq.ParquetFile(f).metadata
        for g in range(0, md.num_row_groups, step):
            groups = tuple(range(g, min(g + step, md.num_row_groups)))
            tasks.append(read(f, groups, cols, len(cols) - len(exog) if add_constant else None))
            rows.append(sum(md.row_group(i).num_rows for i in groups))
    width = len(cols) + int(add_constant)
    packed = array_from_delayed(tasks, rows, width, name="glmkit-parquet")
    ny, pos = len(ycols), len(ycols)
    out: dict[str, Any] = {"endog": packed[:, 0] if ny == 1 else packed[:, :2]}
    for k in ("offset", "exposure", "freq_weights", "var_weights"):
        if k in extras:
            out[k], pos = packed[:, pos], pos + 1
        else:
            out[k] = None
    out["exog"] = packed[:, pos:]
    out["exog_names"] = (["const"] if add_constant else []) + [str(c) for c in exog]
    out["endog_names"] = ", ".join(ycols)
    return out


def _column_as_float(col) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)


def _read_parquet_block(file: str, groups: tuple, cols: list[str], const_at):
    """Row groups of one Parquet file as one column-major float block: the columns ``cols``
    in order (nulls as NaN), with a column of ones inserted at position ``const_at``."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(file).read_row_groups(list(groups), columns=list(dict.fromkeys(cols)))
    # column-major: each column is written contiguously, and the design's columns stay one
    # contiguous (Fortran) block that BLAS reads as fast as a row-major one
    out = np.empty((table.num_rows, len(cols) + (const_at is not None)), order="F")
    j = 0
    for i, c in enumerate(cols):
        if i == const_at:
            out[:, j] = 1.0
            j += 1
        out[:, j] = _column_as_float(table.column(c))
        j += 1
    if const_at == len(cols):
        out[:, j] = 1.0
    return out
