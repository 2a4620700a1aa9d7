"""The IRLS sweep over the partitions of a Dask data set (exact distributed IRLS).

:func:`glmkit.solvers.irls.irls` steers; :class:`DaskSweeper` does each pass: one task per
partition runs the in-memory sweep (:class:`~glmkit.solvers.sweeper.InMemorySweeper`, the
same fused family x link kernels) on that partition's rows and returns X_b'W X_b, X_b'u,
the deviance terms, a validity flag and the range of the fitted means; the partials are
summed in a tree on the cluster and only the p x p and p-sized totals reach the client.
The linear predictor, means and working weights of a sweep are lazy dask arrays (the
same per-row formulas, computed only if asked for).

Because every task is the in-memory code on a subset of rows, a distributed fit differs
from the in-memory one only in the order in which partial sums are added.
"""
from __future__ import annotations

import pickle
import warnings

import numpy as np

from ..design import DenseDesign
from ..design.cluster_sums import bucket_trees, cluster_sums_block, combine_buckets
from ..families import Gaussian, links
from ..families._fused import kernel_for
from ..problem import GLMProblem
from .sweeper import InMemorySweeper, Sweep


#: designs wider than this form no X'WX in :meth:`DaskSweeper.at` (a penalized fit's score
#: passes; its working-set sweeps form the working set's block)
_AT_GRAM_COLUMNS = 4096


# ------------------------------------------------------------ per-partition functions
def block_design(b, design: str):
    """The partition's design: the model's X (dense, or split into dense and categorical
    blocks by the source's column layout), or the intercept column of the null model."""
    if design == "ones":
        return DenseDesign(np.ones((b.n, 1)))
    return b.design


def block_problem(b, family, design: str, unit: float = 1.0) -> GLMProblem:
    """The partition's rows as an in-memory problem, prior weights divided by ``unit``."""
    pw = b.prior_weights if unit == 1.0 else b.prior_weights / unit
    return GLMProblem(X=block_design(b, design), y=b.y, family=family,
                      prior_weights=pw, freq_weights=b.freq_weights, offset=b.offset)


def block_sweeper(b, family, fused, design, unit=1.0) -> InMemorySweeper:
    """The in-memory sweeper of one partition's rows (one thread: Dask runs partitions side
    by side already). Kept in the block's ``work`` dict: a pinned block (glmkit.design.pinned)
    reuses it on every pass of the fit, with its deviance constant, its linear-predictor
    buffer and its design's row-block buffer, so a pass allocates no large arrays."""
    key = ("sweeper", design, float(unit), bool(fused), pickle.dumps(family))
    sw = b.work.get(key)
    if sw is None:
        sw = InMemorySweeper(block_problem(b, family, design, unit), fused=fused, threads=1)
        b.work.clear()   # one family and design at a time (a fit, then its null model)
        b.work[key] = sw
    return sw


def _sweep_block(b, eta0, family, fused, beta, observed, design, unit=1.0, meat=False,
                 cols=None, low=False, cluster=None):
    # ``cols``: the Grams of these columns only (a penalized fit's working set); ``low``:
    # the Grams from float32 blocks (the steps far from the solution, as in memory)
    sw = block_sweeper(b, family, fused, design, unit)
    problem = sw.problem
    # the previous pass's sweep lends its eta buffer (its eta never leaves the task); the
    # Grams are new (they do leave it, and the client may still hold the last ones)
    s = sw.sweep(beta, eta0, observed, reuse=b.work.get("last"), grams=(None, None),
                 track_mu=True, cols=cols, low=low, pearson=True)
    b.work["last"] = s
    out = {"deviance": float(s.deviance), "invalid": 0.0 if s.valid else 1.0,
           "gram": s.gram, "score": s.score, "gram_observed": s.gram_observed,
           "mu_min": s.mu_range[0], "mu_max": s.mu_range[1]}
    if not ((s.valid and b.n) or cluster is not None):
        return out
    if s.valid and b.n:   # the Pearson chi2 at these means, for the results (no pass of
        out["pearson"] = s.pearson * unit   # its own; the sweep's weights are pw / unit)
    if not (meat or cluster is not None):
        return out
    with np.errstate(all="ignore"):
        mu = s.mu if s.mu is not None else sw.kernel.evaluate(
            b.y, s.eta, problem.total_weights, False)[0]
        # u: the score weights
        u = b.prior_weights * family.link.inverse_deriv(s.eta) * (b.y - mu) \
            / family.variance(mu)
    if s.valid and b.n:
        if meat:   # the HC0 meat X' diag(fw u^2) X (asked in fit())
            out["meat"] = problem.X.sandwich(np.square(u) * b.freq_weights)
            out["fw_sum"] = float(np.sum(b.freq_weights))
    if cluster is not None:   # cluster sums of fw u x (asked in fit()); an invalid
        # point's numbers are never used (it is never the fit's last)
        labels, combos, buckets = cluster
        out["clusters"] = cluster_sums_block(b, u * b.freq_weights, labels,
                                             np.ones(problem.X.shape[1], dtype=bool),
                                             combos, buckets)
    return out


def _sweep_cluster_block(b, labels, eta0, *rest):
    """:func:`_sweep_block` with the cluster sums: per-row extras (labels, then eta0 when
    the sweep starts from a linear predictor; else eta0 is None among the arguments),
    the sweep's arguments, then (combos, buckets)."""
    *args, combos, buckets = rest
    return _sweep_block(b, eta0, *args, cluster=(labels, combos, buckets))


def _without_clusters(part: dict) -> dict:
    return {k: v for k, v in part.items() if k != "clusters"}


def _with_buckets(total, *per_bucket):
    total["clusters"] = list(per_bucket)
    return total


def eta_rows(b, beta, design):
    """eta = X beta + offset of one partition (beta: zeros for aliased columns)."""
    return block_design(b, design).matvec(beta) + b.offset


def kernel_rows(b, eta, family, fused, what, unit=1.0):
    """mu or w of the family's kernel at ``eta`` (what the in-memory sweep returns)."""
    tw = b.total_weights if unit == 1.0 else b.total_weights / unit
    m, _, w, _, _ = kernel_for(family, fused=fused).evaluate(b.y, eta, tw, False)
    return m if what == "mu" else w


def start_eta_rows(b, family, start_stats, unit=1.0):
    """g(starting means), R's initialize, per partition.

    Every family's ``starting_mu`` is row by row except Gaussian's, which looks at the whole
    response (for the log and negative power links); its global numbers come from the data
    pass in ``start_stats`` and the same rule is applied here.
    """
    if isinstance(family, Gaussian) and type(family).starting_mu is Gaussian.starting_mu:
        y = b.y
        link = family.link
        avg = start_stats["pwy_sum"] / start_stats["pw_sum"]
        if isinstance(link, links.Log) and start_stats["y_nonpos_any"]:
            mu = np.full_like(y, max(float(avg), 1e-3))
        elif isinstance(link, links.Power) and link.power < 0 and start_stats["y_zero_any"]:
            mu = np.where(y == 0, avg, y)
        else:
            mu = y.copy()
    else:
        mu = family.starting_mu(b.y, b.prior_weights / unit)
    return family.link(mu)


def _null_check_block(b, beta, family, design, unit=1.0):
    eta = eta_rows(b, beta, design)
    mu = family.link.inverse(eta)
    problem = block_problem(b, family, design, unit)
    return {"deviance": problem.deviance(mu), "invalid": 0.0 if problem.is_valid(eta, mu) else 1.0}


def _gram_block(b, w, design, cols=None):
    X = block_design(b, design)
    if cols is None:
        return {"gram": X.sandwich(w)}
    G = np.zeros((len(cols), len(cols)))
    X.add_column_sandwich(w, cols, G)
    return {"gram": G}


def sample_start(stats, family, options, sweeper, observed: bool, design: str, layout=None):
    """Coefficients fitted on the data pass's row sample when the data are large (as the
    in-memory IRLS does, :mod:`glmkit.solvers.warm_start`), if they are a valid point for
    all the data; else None (R's starting means). The check's sweep is the first sweep of
    the fit (the sweeper reuses it), so it costs no pass. ``design``: the model's X or the
    null model's intercept ('ones'); ``layout``: the source's column layout (the sample
    holds raw columns)."""
    from dataclasses import replace as _replace

    from .irls import irls
    from .warm_start import MIN_RATIO, MIN_ROWS

    S = stats.sample
    p = 1 if design != "X" or S is None else (
        S.shape[1] - 4 if layout is None else layout.p)
    if S is None or stats.n < MIN_ROWS or stats.n < MIN_RATIO * p or S.shape[0] < 10 * p:
        return None
    if design != "X":
        X = DenseDesign(np.ones((S.shape[0], 1)))
    elif layout is None:
        X = DenseDesign(np.ascontiguousarray(S[:, 4:]))
    else:
        X = layout.design(S[:, 4:])
    sub = GLMProblem(X=X, y=S[:, 0], family=family, prior_weights=S[:, 2],
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


# -------------------------------------------------------------------- the sweeper
class DaskSweeper:
    """The sweeper interface of :func:`~glmkit.solvers.irls.irls` over a Dask data set.

    Parameters
    ----------
    problem : :class:`glmkit.dask.DaskProblem` (source of partitions, family, data summary).
    executor : :class:`glmkit.design.partitioned.Executor` (client, progress, verbose).
    fused : use the fused kernels (as the in-memory fit does by default).
    label : name of the fit in the progress lines ('IRLS', 'null model').
    """

    def __init__(self, problem, executor, fused: bool = True, label: str = "IRLS"):
        self.problem = problem
        self.source = problem.source
        self.family = problem.family
        self.fused = bool(fused)
        self.executor = executor
        self.label = label
        self.n_eff = float(problem.stats.wnobs)
        self.unit = float(problem.weight_unit)
        self.constant = float(problem.stats.constant) / self.unit   # linear in the weights
        self._extremes: dict[str, tuple[float, float]] = problem.shared["extremes"]
        self._pearson: dict[str, float] = problem.shared["pearson"]
        self._meat = bool(problem.shared.get("want_meat")) and problem.design == "X"
        #: cluster labels asked in fit(): (groups, delayed blocks, combos, buckets)
        self._cluster = problem.shared.get("want_cluster") if problem.design == "X" else None
        #: the next sweep is likely the fit's last (solvers.irls says so): it also sums
        #: the meat and cluster sums asked in fit()
        self._final_next = False
        self._need_X = problem.design == "X"
        self._last: tuple | None = None

    def expect_last(self) -> None:
        """Called by the solver before a sweep it expects to be the fit's last: that sweep
        also sums the HC meat and the cluster sums asked in fit() (on the other sweeps
        they would be wasted work)."""
        self._final_next = True

    def start_eta(self):
        return self.source.map_rows(start_eta_rows, args=(self.family, self.problem.stats.start,
                                                          self.unit), need_X=False)

    def warm_start(self, options, observed: bool):
        """Coefficients fitted on the data pass's row sample, when the data are large and
        they are a valid point (see :func:`sample_start`)."""
        return sample_start(self.problem.stats, self.family, options, self, observed,
                            self.problem.design, self.source.layout)

    @staticmethod
    def midpoint(a, b):
        return 0.5 * (a + b)

    def _lazy_rows(self, eta):
        src = self.source
        args = (self.family, self.fused)
        mu = src.map_rows(kernel_rows, eta, args=(*args, "mu", self.unit), need_X=False)
        w = src.map_rows(kernel_rows, eta, args=(*args, "w", self.unit), need_X=False)
        return mu, w

    def sweep(self, beta, eta0=None, observed: bool = False, reuse=None, expected: bool = True,
              grams=None, low: bool = False, track_mu: bool = False, cols=None) -> Sweep:
        """One pass over the partitions, as :meth:`InMemorySweeper.sweep`. Each partition
        forms X'WX whatever ``expected`` says: reading the rows costs far more than the
        p x p sums, and the fit's last sweep then carries the covariance's X'WX (no pass
        after the fit). ``low``: the partitions form their Grams from float32 blocks (as the
        in-memory sweep: for steps, never for a covariance), except on a sweep the solver
        expects to be the fit's last (:meth:`expect_last`), whose X'WX the covariance
        takes; the sweep says which it did (``Sweep.low``). ``reuse`` and ``grams`` (the
        in-memory sweeper's buffers) do not apply to lazy per-row arrays and are ignored.
        ``cols``: the Grams of these columns only (k x k; a penalized fit's working set)."""
        key = None if cols is None else np.asarray(cols, dtype=np.intp)
        if beta is not None and self._last is not None:
            b, o, c, sw = self._last
            same_cols = (c is None and key is None) or (
                c is not None and key is not None and np.array_equal(c, key))
            if o == observed and same_cols and np.array_equal(b, beta) \
                    and (low or not sw.low):
                return sw   # the same point again (the warm start's check): no pass
        out = self._sweep(beta, eta0, observed, key, low)
        if beta is not None:
            self._last = (np.array(beta, dtype=float), observed, key, out)
        return out

    def _sweep(self, beta, eta0, observed: bool, cols=None, low: bool = False) -> Sweep:
        src, design = self.source, self.problem.design
        final, self._final_next = self._final_next, False
        low = bool(low) and not final
        meat = self._meat and final
        cluster = self._cluster if final else None
        if beta is not None:
            beta = np.asarray(beta, dtype=float)
            eta = src.map_rows(eta_rows, args=(beta, design), need_X=self._need_X)
        else:
            eta = eta0
        per_row = [eta0] if beta is None else []
        args = (self.family, self.fused, beta, observed, design, self.unit, meat, cols, low)
        args = args if beta is None else (None, *args)
        if cluster is None:
            tree = src.map_reduce(_sweep_block, *per_row, args=args, need_X=self._need_X)
        else:
            tree = self._cluster_tree(per_row, args, cluster)
        out = self.executor.total(src, tree, self.label)
        p = self.problem.X.shape[1]
        k = p if cols is None else len(cols)
        gram = out.get("gram", np.zeros((k, k)))
        score = out.get("score", np.zeros(p))
        gram_obs = out.get("gram_observed") if observed else None
        if observed and gram_obs is None:
            gram_obs = np.zeros((k, k))
        deviance = float(out.get("deviance", 0.0))
        valid = out.get("invalid", 0.0) == 0.0
        mu, w = self._lazy_rows(eta)
        self._extremes[mu.name] = (float(out.get("mu_min", np.inf)),
                                   float(out.get("mu_max", -np.inf)))
        if valid and "pearson" in out:
            self._pearson[mu.name] = float(out["pearson"])
        shared = self.problem.shared
        if valid and "meat" in out:
            shared.setdefault("meat", {})[mu.name] = (out["meat"], out["fw_sum"])
        if valid and "clusters" in out:
            groups, _, combos, buckets = cluster
            shared.setdefault("cluster", {})[mu.name] = (
                groups, combine_buckets(out["clusters"], combos, buckets))
        extra = {} if valid else {"valid": False}
        if low:
            extra["float32_gram"] = True
        if meat or cluster is not None:
            extra["final_sums"] = True
        self.executor.report(self.label, out["_seconds"], deviance=deviance, **extra)
        return Sweep(deviance, bool(valid), gram, score, gram_obs, eta, mu, w, low)

    def _cluster_tree(self, per_row: list, args: tuple, cluster):
        """One pass: the sweep's sums and the cluster buckets' S'S, from the same
        partials (so the partitions are read once)."""
        from dask import delayed

        from ..design.partitioned import tree_reduce

        _, labels, combos, buckets = cluster
        parts = self.source.partials(_sweep_cluster_block, labels, *per_row,
                                     args=(*args, combos, buckets), need_X=self._need_X)
        sums = tree_reduce([delayed(_without_clusters, pure=False)(p) for p in parts])
        return delayed(_with_buckets, pure=False)(sums, *bucket_trees(parts, len(combos),
                                                                      buckets, "clusters"))

    def at(self, beta) -> Sweep:
        """The sweep at ``beta`` (in memory a cheaper pass without X'WX; here one pass,
        whose X'WX the last sweep of a fit carries, except for designs too wide for a
        p x p matrix per partition: then none)."""
        if self.problem.X.shape[1] > _AT_GRAM_COLUMNS:
            return self.sweep(beta, None, False, cols=np.zeros(0, dtype=np.intp))
        return self.sweep(beta, None, False)

    def expected_gram(self, sw: Sweep, cols=None) -> np.ndarray:
        """X'WX at a sweep's working weights (of the columns ``cols`` only, when given):
        the sweep's own (every Dask sweep forms it) when it is that one, else one pass."""
        if sw.gram is not None and cols is None and sw.gram.shape[0] == sw.score.shape[0] \
                and not sw.low:
            return sw.gram
        tree = self.source.map_reduce(_gram_block, sw.w, args=(self.problem.design, cols),
                                      need_X=self._need_X)
        out = self.executor.total(self.source, tree, "X'WX")
        self.executor.report("X'WX", out["_seconds"])
        k = self.problem.X.shape[1] if cols is None else len(cols)
        return out.get("gram", np.zeros((k, k)))

    def extremes(self, mu) -> tuple[float, float]:
        """(min, max) of the fitted means over rows with weight, of a sweep's ``mu``."""
        return self._extremes.get(str(getattr(mu, "name", "")), (np.nan, np.nan))

    @property
    def kernel(self):
        return kernel_for(self.family, fused=self.fused)

    def _intercept_only(self, keep=None):
        """g(weighted mean of y) on the first constant (kept) column, from the data pass's
        sums (as :meth:`InMemorySweeper._intercept_only`)."""
        const = self.problem.col_const
        const = np.flatnonzero(const if keep is None else const & keep)
        if const.size == 0:
            return None
        stats = self.problem.stats
        j = int(const[0])
        with np.errstate(all="ignore"):
            g = float(self.family.link(np.array([stats.twy_sum / stats.tw_sum]))[0])
        if not np.isfinite(g):
            return None
        beta = np.zeros(self.problem.X.shape[1])
        beta[j] = g / float(self.problem.col_value[j])
        return beta

    def null_start(self):
        """As :meth:`InMemorySweeper.null_start` (None with an offset)."""
        return None if self.problem.stats.offset_any else self._intercept_only()

    def null_coefficients(self, keep: np.ndarray):
        """As :meth:`InMemorySweeper.null_coefficients`: checked in one pass."""
        beta = self._intercept_only(keep)
        if beta is None:
            return None
        tree = self.source.map_reduce(_null_check_block, args=(beta, self.family,
                                                               self.problem.design, self.unit),
                                      need_X=self._need_X)
        out = self.executor.total(self.source, tree, "null check")
        ok = np.isfinite(out.get("deviance", 0.0)) and out.get("invalid", 0.0) == 0.0
        return beta if ok else None
