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

import warnings
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np

from ._data import names_from_constant
from .dask_formula import _model_from_formula, glm
from .design.dask_data import (_WARM_ROWS, DaskProblem, DataStats, _check_data, _counts,
                               _data_block, _input_rows, _rows_attr, _with_counts, warm_start)
from .design.dask_parquet import read_parquet_design
from .design.dask_predict import _aligned, _predict_new, _predict_rows
from .design.partitioned import (INSTALL_HINT, DaskFitError, Executor, RowSource,
                                  is_dask_collection, require_dask)
from .families import Family, links
from .model import GLM, checked_family, fit_warnings
from .solvers._linalg import find_aliased

__all__ = ["DaskGLM", "DaskProblem", "DaskFitError", "glm", "read_parquet_design",
           "INSTALL_HINT", "is_dask_collection"]

#: Rows sampled by the data pass for the warm start (as solvers/warm_start.py: max(50,000,
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


