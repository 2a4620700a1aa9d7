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
    #: the largest total weight, and whether any row is weighted (for the weight unit)
    tw_max: float = 1.0
    weighted: bool = False
    #: the response's range (is the start (y + mean y) / 2 valid?)
    y_range: tuple = (np.nan, np.nan)
    #: sums that give the null model with an offset in closed form (glmkit.fit_sums)
    offset_sums: dict | None = None


def _rows_with(a, test) -> np.ndarray:
    hit = test(a)
    return hit.any(axis=1) if hit.ndim == 2 else hit


def _data_block(b, family, fused, quota):
    from ..families._fused import kernel_for
    from .partition_layout import column_ranges

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
    design = b.design
    out["xmin_min"], out["xmax_max"] = column_ranges(design)
    out["wnobs"] = float(np.sum(b.freq_weights[pw > 0]))
    out["tw_sum"] = float(np.sum(tw))
    out["tw_max"] = float(np.max(tw, initial=0.0))
    out["weighted_any"] = any(b.inputs[k] is not None for k in ("freq_weights", "var_weights")) \
        or b.two_col
    out["y_min"] = float(np.min(y, initial=np.inf))
    out["y_max"] = float(np.max(y, initial=-np.inf))
    out["twy_sum"] = float(np.sum(tw * y))
    out["pw_sum"] = float(np.sum(pw))
    out["pwy_sum"] = float(np.sum(pw * y))
    out["offset_nonzero"] = float(np.count_nonzero(b.offset))
    with np.errstate(all="ignore"):   # the null model with an offset (glmkit.fit_sums)
        out["off_tw_expoff"] = float(np.sum(tw * np.exp(b.offset)))
        out["off_twy_expnegoff"] = float(np.sum(tw * y * np.exp(-b.offset)))
        out["off_tw_off"] = float(np.sum(tw * b.offset))
    out["gram01"] = design.sandwich((tw > 0).astype(float))
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
                                               b.freq_weights[rows], b.Xraw[rows]])
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
    the intercept column). Per-row attributes are lazy dask arrays.

    ``weight_unit``: the solver's weight unit (:func:`glmkit.solvers.solve`): every
    partition divides its prior weights by it. ``executor`` runs the passes; ``shared``
    holds what the sweeps of a fit learnt about their per-row values (the range of the
    means, the Pearson chi2), keyed by the lazy means' names, for the model and results.
    """

    def __init__(self, source: RowSource, family: Family, stats: DataStats, design: str = "X",
                 executor=None, weight_unit: float = 1.0, shared: dict | None = None):
        self.source = source
        self.family = family
        self.stats = stats
        self.design = design
        self.executor = executor
        self.weight_unit = float(weight_unit)
        self.shared = shared if shared is not None else {"extremes": {}, "pearson": {}}
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
        if self.source.layout is None and (not self.source.drop_missing
                                           or self.stats.n_dropped == 0):
            return self.source.raw["X"]
        return self.source.map_rows(_rows_attr, args=("X",), ncols=self.p)

    def _rows(self, attr: str):
        return self.source.map_rows(_rows_attr, args=(attr,), need_X=False)

    def diagonal_columns(self) -> np.ndarray | None:
        """The columns whose block of X'WX is diagonal (a factor's levels), as the
        in-memory design's :meth:`~glmkit.design.split.SplitDesign.diagonal_columns`."""
        layout = self.source.layout
        return None if layout is None or self.design != "X" else layout.diagonal_columns()

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

    # ------------------------------------------------ what the solvers ask (solve())
    def weight_top(self) -> float | None:
        """The largest total weight, or None for unweighted data."""
        return self.stats.tw_max if self.stats.weighted else None

    def rescaled(self, unit: float) -> "DaskProblem":
        """The problem with prior weights divided by ``unit``."""
        return DaskProblem(self.source, self.family, self.stats, self.design, self.executor,
                           self.weight_unit * unit, self.shared)

    def sweeper(self, fused: bool = True, label: str = "IRLS", executor=None):
        """A new :class:`~glmkit.solvers.dask_sweeper.DaskSweeper` over this problem."""
        from ..solvers.dask_sweeper import DaskSweeper

        return DaskSweeper(self, executor if executor is not None else self.executor,
                           fused=fused, label=label)

    def midpoint_eta(self):
        """g((y + mean y) / 2), statsmodels' starting means, lazily; None when those means
        are outside the family's range (judged from the range of y)."""
        st = self.stats
        ybar = st.twy_sum / st.tw_sum
        ends = 0.5 * (np.asarray(st.y_range, dtype=float) + ybar)
        if not (np.all(np.isfinite(ends)) and self.family.valid_mu(ends)):
            return None
        return self.source.map_rows(_midpoint_eta_rows, args=(self.family, ybar), need_X=False)

    def mu_range(self, mu) -> tuple[float, float]:
        """(min, max) over rows with weight of the means of a sweep of this fit."""
        return self.shared["extremes"].get(str(getattr(mu, "name", "")), (np.nan, np.nan))

    def pearson_chi2(self, mu) -> float | None:
        """The Pearson chi2 at the means of a sweep of this fit (None if not swept)."""
        return self.shared["pearson"].get(str(getattr(mu, "name", "")))


def _midpoint_eta_rows(b, family, ybar):
    return family.link(0.5 * (b.y + ybar))


def _rows_attr(b, attr):
    return getattr(b, attr)


def _input_rows(b, name):
    return b.inputs[name]




# ------------------------------------------------------------------ the model's data
class DaskModelData:
    """What :class:`~glmkit.GLM` holds when its inputs are Dask collections: the lazy,
    aligned inputs (a :class:`RowSource` of partitions), the data pass's summary, and the
    passes over the partitions that the model and its results run (:meth:`total`,
    :meth:`rows`). Per-row attributes are lazy dask arrays.

    ``client``: the ``distributed.Client`` to run on (default: Dask's default scheduler);
    ``exog_names``/``endog_names`` label unlabelled inputs. ``design_layout`` (from the
    formula interface): exog's raw columns hold level codes of factors, built into each
    partition's design by that :class:`~glmkit.design.partition_layout.ColumnLayout`.
    """

    lazy = True
    row_labels = None
    #: set by the formula interface when factors travel as level codes: a new frame's raw
    #: design columns and offset (glmkit.dask_formula.split_design_for), for predict()
    formula_rows = None
    constant_columns = None

    def __init__(self, endog, exog, family: Family, offset=None, exposure=None,
                 freq_weights=None, var_weights=None, missing: str = "none", client=None,
                 exog_names=None, endog_names=None, design_layout=None):
        from dataclasses import replace

        from ..families import links
        from .dask_inputs import normalize
        from .partitioned import require_dask

        require_dask()
        if missing not in ("none", "drop", "raise"):
            raise ValueError(f"missing must be 'none', 'drop' or 'raise', got {missing!r}.")
        self.family = family
        self.missing = missing
        inputs = normalize(endog, exog, family, offset, exposure, freq_weights, var_weights)
        if exog_names is not None:   # labels for unlabelled inputs (read_parquet_design)
            names = [str(c) for c in exog_names]
            p = inputs.raw["X"].shape[1] if design_layout is None else design_layout.p
            if len(names) != p or len(set(names)) != len(names):
                raise ValueError(f"exog_names must be {p} unique "
                                 f"names, got {exog_names!r}.")
            inputs = replace(inputs, exog_names=names, is_pandas=True)
        if endog_names is not None:
            inputs = replace(inputs, endog_names=str(endog_names))
        if inputs.raw["exposure"] is not None and not isinstance(family.link, links.Log):
            raise ValueError(
                f"exposure is only meaningful with the log link (log(exposure) is added to "
                f"the linear predictor); the link is {type(family.link).__name__}. Pass "
                "offset=np.log(exposure) if you mean it on this link's scale.")
        self.inputs = inputs
        self.source = RowSource(inputs.raw, drop_missing=(missing == "drop"),
                                layout=design_layout)
        self.client = client
        self.executor = self._new_executor(client)

    def _new_executor(self, client=None, progress: bool = False, verbose=False):
        from .partitioned import Executor

        return Executor(client, progress, verbose)

    def use_executor(self, client=None, progress: bool = False, verbose=False):
        """The executor of a fit (and of the statistics of its results, later)."""
        self.executor = self._new_executor(client if client is not None else self.client,
                                           progress, verbose)
        if "problem" in self.__dict__:
            self.problem.executor = self.executor
        return self.executor

    def fit_context(self, kwargs: dict):
        """One fit's context: the executor of fit()'s ``client``, ``progress`` and
        ``verbose`` (taken out of ``kwargs``), and :meth:`pinned` with its ``persist``."""
        self.use_executor(kwargs.pop("client", None), kwargs.pop("progress", False),
                          kwargs.pop("verbose", False))
        return self.pinned(kwargs.pop("persist", "auto"))

    def pinned(self, persist="auto"):
        """Context of one fit: the partitions pinned on the workers while it runs when they
        fit in memory (``persist='auto'``), always (True) or never (False); see
        :mod:`glmkit.design.pinned`."""
        from .pinned import pinned_for_fit

        if persist not in ("auto", True, False):
            raise ValueError(f"persist must be 'auto', True or False, got {persist!r}.")
        return pinned_for_fit(self, persist)

    # ------------------------------------------------------------ the data pass
    @cached_property
    def stats(self) -> DataStats:
        """The data pass (run once, when first needed)."""
        from dask import delayed

        from .partitioned import tree_reduce

        ex, src = self.executor, self.source
        quota = -(-max(_WARM_ROWS, 100 * src.p) // max(src.nblocks, 1))
        parts = src.partials(_data_block, args=(self.family, True, quota))
        counts = [delayed(_counts)(p) for p in parts]
        (out, sizes), seconds = ex.compute(delayed(_with_counts)(tree_reduce(parts), *counts),
                                           "data")
        if not sizes or sum(s[0] for s in sizes) == 0:
            raise ValueError("exog is empty (no rows); it needs at least one row and column.")
        _check_data(out, self.missing, self.family)
        src.set_sizes([s[0] for s in sizes], [s[1] for s in sizes])
        n = src.n
        n_dropped = int(sum(src.raw_chunks) - n)
        if n_dropped:
            warnings.warn(f"missing='drop' dropped {n_dropped} row(s) with missing values.",
                          UserWarning, stacklevel=5)
        xmin, xmax = out["xmin_min"], out["xmax_max"]
        stats = DataStats(
            n=n, n_dropped=n_dropped, chunks=src.chunks, wnobs=out["wnobs"],
            tw_sum=out["tw_sum"], twy_sum=out["twy_sum"],
            offset_any=out.get("offset_nonzero", 0) > 0, gram01=out["gram01"],
            col_const=(xmin == xmax) & (xmin != 0), col_value=xmin, constant=out["constant"],
            nt_not1=bool(out.get("nt_not1_any", False)),
            start={k: out.get(k) for k in ("pw_sum", "pwy_sum", "y_nonpos_any", "y_zero_any")},
            sample=out.get("start_sample"), tw_max=float(out.get("tw_max", 1.0)),
            weighted=bool(out.get("weighted_any", False)),
            y_range=(out.get("y_min", np.nan), out.get("y_max", np.nan)),
            offset_sums={"tw_expoff": out.get("off_tw_expoff", np.nan),
                         "twy_expnegoff": out.get("off_twy_expnegoff", np.nan),
                         "tw_off": out.get("off_tw_off", np.nan), "tw": out["tw_sum"],
                         "twy": out["twy_sum"]})
        ex.report("data", seconds, rows=n)
        return stats

    # ------------------------------------------------------------ attributes
    @cached_property
    def problem(self) -> DaskProblem:
        return DaskProblem(self.source, self.family, self.stats, executor=self.executor)

    def _attr_rows(self, attr: str):
        self.stats
        return self.source.map_rows(_rows_attr, args=(attr,), need_X=False)

    def _optional_rows(self, name: str):
        if self.inputs.raw[name] is None:
            return None
        self.stats
        return self.source.map_rows(_input_rows, args=(name,), need_X=False)

    y = property(lambda self: self.problem.y)
    X = property(lambda self: self.source.raw["X"] if self.source.layout is None
                 else self.problem.X)
    offset = property(lambda self: self._optional_rows("offset"))
    exposure = property(lambda self: self._optional_rows("exposure"))
    freq_weights = property(lambda self: self.problem.freq_weights)
    var_weights = property(lambda self: self._attr_rows("var_weights"))
    n_trials = property(lambda self: self._attr_rows("n_trials"))
    is_pandas = property(lambda self: self.inputs.is_pandas)
    endog_names = property(lambda self: self.inputs.endog_names)
    n_dropped = property(lambda self: self.stats.n_dropped)
    nobs = property(lambda self: self.stats.n)
    wnobs = property(lambda self: float(self.stats.wnobs))
    k_constant = property(lambda self: int(np.any(self.stats.col_const)))

    @cached_property
    def exog_names(self) -> list[str]:
        from .._data import names_from_constant

        if self.inputs.exog_names is not None:
            return list(self.inputs.exog_names)
        const = self.stats.col_const if self.stats.n > 1 else np.zeros(self.source.p, bool)
        return names_from_constant(const)

    @cached_property
    def rank(self) -> int:
        from ..solvers._linalg import diagonal_positions, find_aliased

        return int(np.sum(~find_aliased(self.stats.gram01,
                                        diag=diagonal_positions(self.problem.diagonal_columns()))))

    # ------------------------------------------------------------ the passes
    def total(self, fn, *per_row, args: tuple = (), what: str = "sums",
              need_X: bool = True) -> dict:
        """One pass: the sum over partitions of ``fn(block, *per_row_blocks, *args)``."""
        self.stats
        tree = self.source.map_reduce(fn, *per_row, args=args, need_X=need_X)
        out = self.executor.total(self.source, tree, what)
        self.executor.report(what, out["_seconds"])
        return out

    def rows(self, fn, *per_row, args: tuple = (), need_X: bool = False,
             ncols: int | None = None):
        """Lazy per-row values ``fn(block, *per_row_blocks, *args)`` (no pass)."""
        self.stats
        return self.source.map_rows(fn, *per_row, args=args, need_X=need_X, ncols=ncols)

    def intercept_only(self, options):
        """Coefficient of the intercept-only model with the offset, by IRLS over the
        partitions (the passes of that fit)."""
        from ..solvers.irls import irls

        problem = DaskProblem(self.source, self.family, self.stats, design="ones")
        sweeper = problem.sweeper(True, label="null model", executor=self.executor)
        start = sweeper.warm_start(options, False)
        return irls(problem, start, options, sweeper=sweeper)  # type: ignore[arg-type]

    def want_final_sums(self, cov_type: str, groups=None) -> None:
        """What the fit's last sweep also sums for the covariance asked in fit(): the HC0
        meat (HC0, HC1) or the cluster sums of ``groups``."""
        shared = self.problem.shared
        shared["want_meat"] = cov_type in ("HC0", "HC1")
        shared["want_cluster"] = self.cluster_labels(groups) if cov_type == "cluster" else None

    def cluster_labels(self, groups) -> tuple:
        """(groups, their delayed blocks cut like the partitions, combinations of the
        clustering dimensions, hash buckets): what a sweep needs to sum the scores by
        cluster (glmkit.design.cluster_sums)."""
        from .cluster_sums import CLUSTER_BUCKETS, combos_of
        from .dask_inputs import as_row_blocks

        src = self.source
        labels = as_row_blocks(groups, src.chunks, "groups")
        return (groups, labels, combos_of(groups), max(1, min(CLUSTER_BUCKETS, src.nblocks)))

    # what the results ask of the data, answered by the data pass or the fit's sweeps
    def known_pearson(self, mu) -> float | None:
        return self.problem.pearson_chi2(mu)

    def offset_any(self) -> bool:
        return bool(self.stats.offset_any)

    def offset_sums(self) -> dict:
        return dict(self.stats.offset_sums or {})

    def mean_y(self) -> float:
        return float(self.stats.twy_sum / self.stats.tw_sum)

    def n_trials_not_one(self) -> bool:
        return bool(self.stats.nt_not1)
