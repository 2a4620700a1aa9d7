"""Results of a Dask GLM fit: the same :class:`~glmkit.results.GLMResults`, with sums over
rows computed on the cluster and per-row quantities returned as lazy dask arrays.

Coefficients, standard errors, the deviance, AIC/BIC and tests are NumPy numbers as in
memory. Statistics that sum over rows (``pearson_chi2``, ``null_deviance``, ``llf``,
``llnull``, the robust covariances) are each one distributed pass, run when first used
and cached; every per-partition computation is the in-memory formula on that partition's
rows. Per-row attributes (``fittedvalues``, ``mu``, ``linear_predictor``, ``weights``,
``resid_*``, ``null``, ``predict()``) are dask arrays: nothing is computed until asked.

Robust covariances (R's sandwich, as :func:`glmkit.inference.robust_cov`): the HC meat
X' diag(omega) X is a sum over partitions; cluster sums of the scores are formed per
partition with pandas, split into hash buckets of the group labels, summed per bucket in a
tree on the cluster, and each bucket returns only S_b'S_b (p x p) and its number of groups.
"""
from __future__ import annotations

import operator
from functools import cached_property
from itertools import combinations

import numpy as np

from .design.partitioned import Executor, tree_reduce
from .families import Binomial, Gamma, Gaussian, InverseGaussian, Tweedie, links
from .row_sums import (_cluster_block, _deviance_block, _group_meat, _hc_block, _llf_block,
                       _llf_null_block, _merge_group_sums, _null_mu_rows, _pearson_block,
                       _r_ll_block, _resid_rows, _se_rows, _sq_block)
from .results import GLMResults
from .solvers import SolverOptions

#: Hash buckets of the cluster labels (independent reduction trees).
CLUSTER_BUCKETS = 16



class DaskGLMResults(GLMResults):
    """:class:`~glmkit.results.GLMResults` of a Dask fit (see the module notes)."""

    def __init__(self, model, result, scale=None, cov_type: str = "nonrobust", use_t=None,
                 fit_warnings: tuple[str, ...] = (), cov_kwds: dict | None = None,
                 executor: Executor | None = None):
        self._executor = executor if executor is not None else Executor(model._client)
        super().__init__(model, result, scale=scale, cov_type=cov_type, use_t=use_t,
                         fit_warnings=fit_warnings, cov_kwds=cov_kwds)

    # --------------------------------------------------------------- helpers
    @property
    def _source(self):
        return self.model._source

    def _total(self, fn, *extras, args=(), what: str, need_X: bool = True) -> dict:
        src = self._source
        tree = src.map_reduce(fn, *extras, args=args, need_X=need_X)
        out = self._executor.total(src, tree, what)
        self._executor.report(what, out["_seconds"])
        return out

    def _rows(self, fn, *extras, args=(), need_X: bool = False):
        return self._source.map_rows(fn, *extras, args=args, need_X=need_X)

    def _rows_like(self, a):
        return a

    @property
    def _beta(self) -> np.ndarray:
        return np.where(np.isnan(self._params), 0.0, self._params)

    @property
    def _force_trials(self) -> bool:
        return isinstance(self.family, Binomial) and self.model._stats.nt_not1

    # ------------------------------------------------------- per-row values
    @property
    def _mu(self):
        return self._result.mu

    @property
    def _eta(self):
        return self._result.eta

    @property
    def weights(self):
        """Working weights of the last iteration (lazy)."""
        return self._result.working_weights

    @cached_property
    def _resid_response(self):
        return self._rows(_resid_rows, self._mu, self._eta,
                          args=(self.family, "response", 1.0))

    @cached_property
    def _pearson(self):
        return self._rows(_resid_rows, self._mu, self._eta, args=(self.family, "pearson", 1.0))

    @property
    def resid_deviance(self):
        return self._rows(_resid_rows, self._mu, self._eta, args=(self.family, "deviance", 1.0))

    @property
    def resid_working(self):
        return self._rows(_resid_rows, self._mu, self._eta, args=(self.family, "working", 1.0))

    @property
    def resid_anscombe_scaled(self):
        return self._rows(_resid_rows, self._mu, self._eta,
                          args=(self.family, "anscombe", self.scale))

    @property
    def resid_anscombe_unscaled(self):
        return self._rows(_resid_rows, self._mu, self._eta, args=(self.family, "anscombe", 1.0))

    # ----------------------------------------------------- fit statistics
    @cached_property
    def pearson_chi2(self) -> float:
        out = self._total(_pearson_block, self._mu, args=(self.family,), what="pearson chi2",
                          need_X=False)
        return float(out.get("chi2", 0.0))

    @cached_property
    def _null_spec(self) -> tuple:
        """How each partition forms the null model's means (no per-row state is kept)."""
        stats = self.model._stats
        if not self.k_constant:
            return ("offset",)
        if not stats.offset_any:
            return ("const", stats.twy_sum / stats.tw_sum)
        from .dask import DaskProblem, warm_start
        from .solvers.dask_sweeper import DaskSweeper
        from .solvers.irls import irls

        problem = DaskProblem(self._source, self.family, stats, design="ones")
        sweeper = DaskSweeper(problem, self._executor, label="null model")
        options = SolverOptions(maxiter=100, tol=1e-12)
        start = warm_start(stats, self.family, options, sweeper, False, "ones")
        res = irls(problem, start, options, sweeper=sweeper)  # type: ignore[arg-type]
        return ("beta", np.where(np.isnan(res.params), 0.0, np.asarray(res.params)))

    @property
    def _null_mu(self):
        return self._rows(_null_mu_rows, args=(self._null_spec, self.family))

    @cached_property
    def null_deviance(self) -> float:
        out = self._total(_deviance_block, args=(self._null_spec, self.family),
                          what="null deviance", need_X=False)
        return float(out.get("deviance", 0.0))

    def _gaussian_ml(self) -> bool:
        return isinstance(self.family, Gaussian) and isinstance(self.family.link, links.Identity)

    @cached_property
    def llf(self) -> float:
        scale = self.scale
        if self._gaussian_ml():
            ss = self._total(_sq_block, self._mu, what="llf scale", need_X=False)["ss"]
            scale = float(ss / self.wnobs)
        out = self._total(_llf_block, self._mu, args=(self.family, scale, self._force_trials),
                          what="llf", need_X=False)
        return float(out["llf"])

    @cached_property
    def llnull(self) -> float:
        spec = self._null_spec
        scale = self.scale
        if self._gaussian_ml():
            ss = self._total(_sq_block, self._null_mu, what="llnull scale", need_X=False)["ss"]
            scale = float(ss / self.wnobs)
        out = self._total(_llf_null_block, args=(spec, self.family, scale, self._force_trials),
                          what="llnull", need_X=False)
        return float(out["llf"])

    # ------------------------------------------------------------- inference
    @cached_property
    def _cov(self) -> np.ndarray:
        if self.cov_type == "nonrobust":
            return self._normalized_cov * self.scale
        k = self._params.shape[0]
        keep = self._keep
        bread = self._normalized_cov[np.ix_(keep, keep)]
        if self.cov_type == "cluster":
            meat = self._cluster_meat(keep)
        else:
            out = self._total(_hc_block, self._eta, self._mu, self._result.working_weights,
                              args=(self.family, keep, self.cov_type, bread),
                              what=f"{self.cov_type} meat")
            meat = out["meat"]
            if self.cov_type == "HC1":
                n, kk = out["fw_sum"], int(keep.sum())
                meat = meat * (n / (n - kk))
        cov = bread @ meat @ bread
        out_cov = np.full((k, k), np.nan)
        out_cov[np.ix_(keep, keep)] = 0.5 * (cov + cov.T)
        return out_cov

    def _cluster_meat(self, keep) -> np.ndarray:
        from dask import delayed

        from .design.dask_inputs import as_row_blocks

        src = self._source
        groups = self.cov_kwds.get("groups")
        labels = as_row_blocks(groups, src.chunks, "groups")
        shape = getattr(groups, "shape", None)
        shape = np.shape(groups) if shape is None else shape  # type: ignore[arg-type]
        d = int(shape[1]) if len(shape) == 2 else 1
        combos = [c for size in range(1, d + 1) for c in combinations(range(d), size)]
        buckets = max(1, min(CLUSTER_BUCKETS, src.nblocks))
        parts = src.partials(_cluster_block, self._eta, self._mu, labels,
                             args=(self.family, keep, combos, buckets))
        getitem = delayed(operator.getitem, pure=False)
        results = []
        for ci in range(len(combos)):
            for k in range(buckets):
                leaves = [getitem(p, (ci, k)) for p in parts]
                while len(leaves) > 1:
                    leaves = [delayed(_merge_group_sums, pure=False)(*leaves[i:i + 8])
                              for i in range(0, len(leaves), 8)]
                results.append(delayed(_group_meat, pure=False)(leaves[0]))
        rows_seen = tree_reduce([delayed(_rows_of, pure=False)(p) for p in parts])
        (per_bucket, seen), dt = self._executor.compute(
            delayed(_pair, pure=False)(rows_seen, *results), "cluster meat")
        if int(round(seen)) != src.n:
            from .design.partitioned import DaskFitError

            raise DaskFitError("the cluster pass did not see every row; no result was returned.")
        self._executor.report("cluster meat", dt)
        kk = int(keep.sum())
        meat = np.zeros((kk, kk))
        for ci, combo in enumerate(combos):
            part = per_bucket[ci * buckets:(ci + 1) * buckets]
            G = sum(r["groups"] for r in part)
            total = sum(r["meat"] for r in part)
            adj = G / (G - 1.0) if G > 1 else 1.0
            meat += (-1.0) ** (len(combo) + 1) * adj * total
        return meat

    def get_robustcov_results(self, cov_type: str = "HC0", use_t: bool | None = None, **kwds):
        """New results with another covariance (as :meth:`GLMResults.get_robustcov_results`)."""
        from .inference import check_robust_options

        cov_type, kwds = check_robust_options(cov_type, kwds)
        if cov_type not in ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster") \
                or set(kwds) - {"groups"}:
            raise NotImplementedError("Dask results take cov_type 'nonrobust', 'HC0'-'HC3' "
                                      "or 'cluster' (groups only).")
        if cov_type == "cluster":
            self.model._check_groups_shape(kwds["groups"])
        return DaskGLMResults(self.model, self._result, scale=self._scale_spec,
                              cov_type=cov_type, use_t=use_t, fit_warnings=self.fit_warnings,
                              cov_kwds=kwds, executor=self._executor)

    # ------------------------------------------------------------ prediction
    def get_prediction(self, exog=None, exposure=None, offset=None, which: str | None = None):
        """Predictions with delta-method standard errors; lazy for the model's rows."""
        from .design.partitioned import is_dask_collection
        from .prediction import LinearPredictionResults, PredictionResults, get_prediction

        if which not in (None, "mean", "linear"):
            raise ValueError(f"which must be None, 'mean' or 'linear', got {which!r}.")
        if exog is not None:
            if is_dask_collection(exog):
                raise NotImplementedError("get_prediction on new Dask rows is not available; "
                                          "use predict(), or give NumPy/pandas rows.")
            return get_prediction(self, exog=exog, exposure=exposure, offset=offset, which=which)
        keep = self._keep
        V = self._cov[np.ix_(keep, keep)]
        eta = self.model.predict(self._params, exposure=exposure, offset=offset, which="linear")
        se_eta = self._rows(_se_rows, args=(keep, V), need_X=True)
        link = self.family.link
        linpred = LinearPredictionResults(eta, se_eta**2, self.scale, self._dist, self.df_resid)
        if which == "linear":
            return PredictionResults(eta, se_eta**2, linpred, link, which)
        mu = eta.map_blocks(link.inverse, dtype=float)
        se_mu = abs(eta.map_blocks(link.inverse_deriv, dtype=float)) * se_eta
        return PredictionResults(mu, se_mu**2, linpred, link, which)

    def anova(self, *others, test: str | None = None):
        """Comparison of nested fitted models (``small.anova(big)``), as in memory; the
        sequential table of one model (which refits a model per term) is not available."""
        if not others:
            raise NotImplementedError("the sequential analysis of deviance refits one model "
                                      "per term; on Dask fit the nested models and compare "
                                      "them: small.anova(big).")
        return super().anova(*others, test=test)

    def get_influence(self):
        raise NotImplementedError("influence measures (hat values, Cook's distance) are not "
                                  "available for Dask fits yet.")

    def conf_int(self, alpha: float = 0.05, cols=None, method: str = "wald"):
        if method == "profile":
            raise NotImplementedError("profile-likelihood intervals refit the model many times; "
                                      "they are not available for Dask fits (use 'wald').")
        return super().conf_int(alpha=alpha, cols=cols, method=method)

    def save(self, path, remove_data: bool = False) -> None:
        raise NotImplementedError("saving Dask fits is not available yet; save params, "
                                  "cov_params() and the scalars you need.")

    def info_criteria(self, crit: str = "R", scale: float | None = None,
                      dk_params: float = 0):
        """As :meth:`GLMResults.info_criteria`, the sums over rows done on the cluster
        ('qaic' is not available on Dask)."""
        if isinstance(crit, str) and crit.lower() in ("aic", "bic"):
            from .criteria import statsmodels_criterion

            return statsmodels_criterion(self, crit.lower(), scale, dk_params)
        if crit == "statsmodels":
            return {"llf": self.llf, "aic": self.aic, "bic": self.bic, "df": self.df_model + 1}
        if crit != "R":
            raise ValueError(f"crit must be 'aic', 'bic', 'R' or 'statsmodels' on Dask, got "
                             f"{crit!r}.")
        n = float(self.wnobs)
        df = float(self.rank)
        fam = self.family
        stats = self.model._stats
        if isinstance(fam, Gaussian):
            s = self._total(_r_ll_block, self._mu, args=("gaussian", None, fam), what="R llf",
                            need_X=False)["s"]
            ll = -0.5 * n * (np.log(2 * np.pi * self.deviance / n) + 1.0) + 0.5 * s
            df += 1
        elif isinstance(fam, Gamma):
            disp = self.deviance / stats.tw_sum
            ll = self._total(_r_ll_block, self._mu, args=("gamma", disp, fam), what="R llf",
                             need_X=False)["s"]
            df += 1
        elif isinstance(fam, InverseGaussian):
            out = self._total(_r_ll_block, self._mu, args=("invgauss", None, fam),
                              what="R llf", need_X=False)
            disp = self.deviance / out["tw"]
            ll = -0.5 * float(out["tw"] * (np.log(disp * 2 * np.pi) + 1.0) + 3.0 * out["s"])
            df += 1
        elif isinstance(fam, Tweedie):
            ll = float("nan")
        else:
            ll = self._total(_r_ll_block, self._mu, args=("other", self._force_trials, fam),
                             what="R llf", need_X=False)["llf"]
        return {"llf": ll, "aic": -2 * ll + 2 * df, "bic": -2 * ll + np.log(n) * df, "df": df}

    def __repr__(self):
        return (f"<DaskGLMResults {self.family!r} nobs={self.nobs} deviance={self.deviance:.6g} "
                f"converged={self.converged}>")


def _rows_of(part) -> dict:
    return {"rows": part["rows"]}


def _pair(rows, *results):
    return list(results), rows.get("rows", 0.0)
