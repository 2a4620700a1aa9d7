"""Immutable results of a GLM fit; every statistic is computed on first use and cached.

Conventions (R's where R and statsmodels differ; see docs/conventions.md)
-----------------------------------------------------------------------------
- ``scale``: Pearson chi2 / df_resid for families with a dispersion, 1 otherwise.
- ``df_resid``: frequency-weighted count of rows with non-zero prior weight minus rank.
- ``null_deviance``: deviance of the intercept-only model fitted with the offset (R).
- residuals of a [successes, failures] binomial are on the proportion scale (R).
- ``llf``: the log-likelihood at the estimated scale (statsmodels; Gaussian identity
  uses the ML scale deviance / wnobs).
- tests use the t distribution when the scale is estimated (R's summary.glm).
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .labels import CoefficientLabels
from . import (criteria, hypotheses, inference, influence, margins, prediction, predictive,
               regressionplots)
from . import remove_data as remove_data_
from . import summary2 as summary2_
from .fit_sums import ALL as _ALL_SUMS
from .fit_sums import fit_sums, null_spec
from .problem import GLMProblem
from .row_sums import _llf_block, _null_mu_rows, _resid_rows
from .solvers import SolverResult
from .solvers._linalg import diagonal_mask, diagonal_positions, try_factor
from .fit_record import FitRecord
from .results_workflow import WorkflowMethods


def t_ratio(params: np.ndarray, bse: np.ndarray) -> np.ndarray:
    """params / bse, NaN where bse is 0: a coefficient fixed by constraints is not tested."""
    return np.divide(params, bse, out=np.full(np.shape(params), np.nan), where=bse != 0)


class GLMResults(CoefficientLabels, FitRecord, WorkflowMethods):
    """The result of :meth:`glmkit.GLM.fit`. Attributes are read-only."""

    _frozen = False

    def __init__(self, model, result: SolverResult, scale=None, cov_type: str = "nonrobust",
                 use_t: bool | None = None, fit_warnings: tuple[str, ...] = (),
                 cov_kwds: dict | None = None, mle_settings: dict | None = None,
                 constraints=None, results_constrained=None):
        self.model = model
        #: For GLM.fit_constrained: the constraints R params = q (glmkit.constrained.
        #: LinearConstraints; the ``constraints`` property), their number, and the reduced
        #: model's results; else None, 0.
        self._constraints = constraints
        self.k_constr = 0 if constraints is None else int(constraints.k_constr)
        self.results_constrained = results_constrained
        self.family = model.family
        self._solver_result = result
        from .fit_args import check_cov, check_scale

        # statsmodels' spellings ('x2', 'hc1', 'eim') mean the same as glmkit's
        self._scale_spec = check_scale(scale)
        cov_type, cov_kwds = check_cov(cov_type, cov_kwds)
        self.cov_type = cov_type
        self.cov_kwds = dict(cov_kwds)
        self.method = result.method
        self.converged = bool(result.converged)
        self.n_iter = int(result.n_iter)
        self.aliased = result.aliased
        self.fit_warnings = tuple(fit_warnings)
        #: statsmodels' record of how the fit was made (optimizer, wls_method, tolerances).
        self.mle_settings = dict(mle_settings or {"optimizer": result.method})
        if use_t is None:
            use_t = self._scale_is_estimated
        self.use_t = bool(use_t)
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"GLMResults is immutable; cannot set {name!r}. Fit again or "
                                 "use the methods that return new results.")
        object.__setattr__(self, name, value)

    @property
    def constraints(self):
        """The linear constraints of fit_constrained results; other results have none
        (AttributeError, as statsmodels', whose tools test ``hasattr(res, 'constraints')``)."""
        if self._constraints is None:
            raise AttributeError("only results of fit_constrained have constraints.")
        return self._constraints

    # ----------------------------------------------------------- labelling
    def _rows_like(self, a: np.ndarray):
        if self.model._lazy:   # a dask array: labelled by its partitions, not an index
            return a
        d = self.model.data
        if d.is_pandas:
            index = d.row_labels if d.row_labels is not None else pd.RangeIndex(len(a))
            return pd.Series(a, index=index)
        return a

    # ------------------------------------------------------------ basics
    @property
    def _problem(self) -> GLMProblem:
        return self.model.problem

    @property
    def _passes(self):
        """The model's passes over its rows (see glmkit.design.memory_rows)."""
        return self.model._passes

    def _row_values(self, fn, *per_row, args: tuple = ()):
        """Per-row values of a block function (lazy on Dask)."""
        return self._passes.rows(fn, *per_row, args=args)

    def _in_memory_only(self, what: str, why: str) -> None:
        if self.model._lazy:
            raise NotImplementedError(f"{what} is not available for a model on Dask: {why}")

    @cached_property
    def _params(self) -> np.ndarray:
        return np.array(self._solver_result.params)

    @property
    def params(self):
        return self._params_like(self._params.copy())

    @property
    def _keep(self) -> np.ndarray:
        return ~np.asarray(self._solver_result.aliased)

    @property
    def rank(self) -> int:
        """Number of estimated coefficients: the non-aliased ones less the constraints."""
        return int(self._keep.sum()) - self.k_constr

    @property
    def nobs(self) -> int:
        return self.model.nobs

    @property
    def wnobs(self) -> float:
        return self.model.wnobs

    @property
    def df_model(self) -> float:
        return float(self.rank - 1)

    @property
    def df_resid(self) -> float:
        return float(self.wnobs - self.rank)

    @property
    def k_constant(self) -> int:
        return self.model.k_constant

    # ------------------------------------------------------- per-row values
    @property
    def _mu(self) -> np.ndarray:
        mu = self._solver_result.mu
        return mu if self.model._lazy else np.asarray(mu)

    @property
    def _eta(self) -> np.ndarray:
        eta = self._solver_result.eta
        return eta if self.model._lazy else np.asarray(eta)

    @property
    def mu(self):
        """The fitted means as a numpy array (statsmodels' ``mu``; ``fittedvalues`` keeps
        the data's row labels)."""
        return self._mu.copy()

    @property
    def fittedvalues(self):
        return self._rows_like(self._mu.copy())

    @property
    def linear_predictor(self):
        return self._rows_like(self._eta.copy())

    @property
    def weights(self):
        """Working weights of the last iteration, with prior and frequency weights (R's)."""
        w = self._solver_result.working_weights
        return w if self.model._lazy else self._rows_like(np.array(w))

    # statsmodels' private names, read by its tests and by some user code
    _endog = property(lambda self: self._problem.y)
    _freq_weights = property(lambda self: self._problem.freq_weights)
    _var_weights = property(lambda self: self.model.var_weights)
    _iweights = property(lambda self: self._problem.freq_weights * self.model.var_weights)
    _n_trials = property(lambda self: self.model.n_trials)

    def _resid(self, kind: str, scale: float = 1.0):
        return self._row_values(_resid_rows, self._mu, self._eta,
                                args=(self.family, kind, scale))

    @cached_property
    def _resid_response(self) -> np.ndarray:
        return self._resid("response")

    @property
    def resid_response(self):
        return self._rows_like(self._resid_response.copy())

    @property
    def resid_pearson(self):
        return self._rows_like(self._pearson.copy())

    @cached_property
    def _pearson(self) -> np.ndarray:
        """(y - mu) sqrt(prior_w / V(mu)), formed without V(mu) itself (it can overflow)."""
        return self._resid("pearson")

    @property
    def resid_deviance(self):
        return self._rows_like(self._resid("deviance"))

    @property
    def resid_working(self):
        return self._rows_like(self._resid("working"))

    @property
    def resid_anscombe_scaled(self):
        return self._rows_like(self._resid("anscombe", self.scale))

    @property
    def resid_anscombe_unscaled(self):
        return self._rows_like(self._resid("anscombe", 1.0))

    @property
    def resid_anscombe(self):
        """Anscombe residuals divided by sqrt(scale), as statsmodels 0.14."""
        return self.resid_anscombe_scaled

    # ----------------------------------------------------- fit statistics
    @property
    def deviance(self) -> float:
        return float(self._solver_result.deviance)

    @cached_property
    def _sums(self) -> dict:
        """Fit statistics summed over the rows, filled by :func:`glmkit.fit_sums.fit_sums`."""
        return {}

    def _sum(self, name: str) -> float:
        """A statistic of :data:`glmkit.fit_sums.ALL`; on Dask all of them are gathered in
        the same passes (what summary() needs), in memory only the one asked for."""
        if name not in self._sums:
            want = _ALL_SUMS if self.model._lazy else {name}
            self._sums.update(fit_sums(self, want - set(self._sums)))
        return self._sums[name]

    @property
    def pearson_chi2(self) -> float:
        return self._sum("pearson_chi2")

    @cached_property
    def _null_spec(self) -> tuple:
        """How the null model's means are formed (see :func:`glmkit.fit_sums.null_spec`)."""
        return null_spec(self)

    @cached_property
    def _null_mu(self) -> np.ndarray:
        """Fitted means of the null model: intercept only (with the offset) or g^-1(offset)."""
        return self._row_values(_null_mu_rows, args=(self._null_spec, self.family))

    @property
    def null(self):
        return self._rows_like(self._null_mu.copy())

    @property
    def null_deviance(self) -> float:
        return self._sum("null_deviance")

    @property
    def _scale_is_estimated(self) -> bool:
        spec = self._scale_spec
        return (spec is None and self.family.has_free_scale) or spec in ("X2", "dev")

    @property
    def _scale_needs_chi2(self) -> bool:
        spec = self._scale_spec
        return spec == "X2" or (spec is None and self.family.has_free_scale)

    def _scale_from(self, chi2: float | None) -> float:
        """The scale, with the Pearson chi2 ``chi2`` (read only when the rule needs it)."""
        spec = self._scale_spec
        if spec is None:
            spec = "X2" if self.family.has_free_scale else 1.0
        if isinstance(spec, str):
            if self.df_resid <= 0:
                import warnings

                warnings.warn("no residual degrees of freedom: the scale cannot be "
                              "estimated and is NaN.", RuntimeWarning, stacklevel=3)
                return np.float64("nan")
            stat = chi2 if spec == "X2" else self.deviance
            assert stat is not None, "the Pearson scale needs the Pearson chi2"
            return np.float64(stat / self.df_resid)
        return np.float64(spec)

    @cached_property
    def scale(self) -> float:
        """The dispersion, a numpy float64 as statsmodels' (``scale=1`` gives 1.0 too)."""
        return self._scale_from(self.pearson_chi2 if self._scale_needs_chi2 else None)

    def _llf_at(self, mu: np.ndarray, scale: float) -> float:
        from .fit_sums import force_trials

        out = self._passes.total(_llf_block, mu, args=(self.family, scale, force_trials(self)),
                                 what="llf", need_X=False)
        return float(out.get("llf", 0.0))

    @property
    def llf(self) -> float:
        return self._sum("llf")

    @property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (with the offset) at these results'
        ``scale`` (statsmodels' definition, also for Gaussian identity)."""
        return self._sum("llnull")

    def llf_scaled(self, scale: float | None = None) -> float:
        """Log-likelihood at ``scale``; None gives ``llf`` (statsmodels' ``llf_scaled``)."""
        if scale is None:
            return self.llf
        return self._llf_at(self._mu, float(scale))

    @property
    def aic(self) -> float:
        """-2 llf + 2 (df_model + 1), statsmodels' count of parameters."""
        return -2.0 * self.llf + 2.0 * (self.df_model + 1)

    @property
    def bic(self) -> float:
        """-2 llf + log(wnobs) (df_model + 1), the likelihood-based BIC."""
        return -2.0 * self.llf + np.log(self.wnobs) * (self.df_model + 1)

    bic_llf = bic

    @property
    def bic_deviance(self) -> float:
        """statsmodels' older deviance-based BIC: deviance - df_resid log(wnobs)."""
        return self.deviance - self.df_resid * np.log(self.wnobs)

    def pseudo_rsquared(self, kind: str = "cs") -> float:
        """'cs' (Cox-Snell, statsmodels' default) or 'mcf' (McFadden)."""
        if kind == "cs":
            return float(1.0 - np.exp((self.llnull - self.llf) * (2.0 / self.wnobs)))
        if kind == "mcf":
            return float(1.0 - self.llf / self.llnull)
        raise ValueError(f"kind must be 'cs' or 'mcf', got {kind!r}.")

    # ------------------------------------------------------- inference
    @cached_property
    def _normalized_cov(self) -> np.ndarray:
        k = self._params.shape[0]
        out = np.full((k, k), np.nan)
        if self._constraints is not None:   # T (T' X'WX T)^{-1} T', see glmkit.constrained
            T = self._constraints.transf_mat
            fac = try_factor(T.T @ np.asarray(self._solver_result.gram) @ T)
            if fac is not None:
                out = T @ fac.inverse() @ T.T
                out = 0.5 * (out + out.T)
            return out
        diag = diagonal_positions(diagonal_mask(self.model.problem), self._keep)
        fac = try_factor(np.asarray(self._solver_result.gram), diag)
        if fac is not None:
            keep = self._keep
            out[np.ix_(keep, keep)] = fac.inverse()
        return out

    @property
    def normalized_cov_params(self):
        return self._matrix_like(self._normalized_cov.copy())

    @cached_property
    def _cov(self) -> np.ndarray:
        if self.cov_type == "nonrobust":
            return self._normalized_cov * self.scale
        if self.cov_type == "oim":
            return self._observed_cov()
        k = self._params.shape[0]
        out = np.full((k, k), np.nan)
        keep = self._keep
        if self.model._lazy:   # the meats as sums over partitions
            from .dask_inference import robust_meat_cov

            out[np.ix_(keep, keep)] = robust_meat_cov(self)
            return out
        from .inference import robust_cov

        kw = self.cov_kwds
        out[np.ix_(keep, keep)] = robust_cov(self, self.cov_type, kw.get("groups"),
                                             kw.get("use_correction"), kw.get("maxlags"),
                                             kw.get("kernel", "bartlett"))
        return out

    def _observed_cov(self) -> np.ndarray:
        """scale * (observed information)^{-1} over the kept columns (cov_type='oim')."""
        k = self._params.shape[0]
        out = np.full((k, k), np.nan)
        keep = self._keep
        H = np.asarray(self.model.hessian(np.where(keep, self._params, 0.0), scale=1.0))
        fac = try_factor(-H[np.ix_(keep, keep)], None)
        if fac is not None:
            out[np.ix_(keep, keep)] = fac.inverse() * self.scale
        return out

    def cov_params(self):
        """Covariance of the coefficients (NaN for aliased columns): scale * (X'WX)^{-1},
        or the sandwich of ``cov_type``."""
        return self._matrix_like(self._cov.copy())

    @cached_property
    def _bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self._cov))

    def get_robustcov_results(self, cov_type: str = "HC0", use_t: bool | None = None, **kwds):
        """New results with another covariance: 'nonrobust', 'HC0'-'HC3' or 'cluster'
        (``groups=labels``, one or two columns). Numbers follow R's sandwich package."""
        from .inference import check_robust_options

        cov_type, kwds = check_robust_options(cov_type, kwds)
        if self.model._lazy:
            from .dask_inference import check_cov_on_dask, check_groups_on_dask

            check_cov_on_dask(cov_type, kwds)
            check_groups_on_dask(cov_type, kwds, self.model.nobs)
        rc = self.results_constrained
        if rc is not None:
            rc = rc.get_robustcov_results(cov_type, use_t=use_t, **kwds)
        return GLMResults(self.model, self._solver_result, scale=self._scale_spec, cov_type=cov_type,
                          use_t=use_t, fit_warnings=self.fit_warnings, cov_kwds=kwds,
                          mle_settings=self.mle_settings, constraints=self._constraints,
                          results_constrained=rc)

    # ----------------------------------------------------------- tests
    def wald_test(self, r_matrix, use_f: bool | None = None, scalar: bool = True):
        """Joint Wald test of R params = q; ``r_matrix`` is a string ('x1 = 0, x2 = x3'),
        a matrix, or (R, q). F when ``use_f`` (default: ``use_t``), else chi2."""
        from .inference import wald_test

        return wald_test(self, r_matrix, use_f=use_f, scalar=scalar)

    def t_test(self, r_matrix):
        """Separate tests of each row of R params = q (t or z as ``use_t``)."""
        from .inference import t_test

        return t_test(self, r_matrix)

    def f_test(self, r_matrix):
        """Joint F test (Wald chi2 / J on J and df_resid degrees of freedom)."""
        from .inference import f_test

        return f_test(self, r_matrix)

    def compare_lr_test(self, restricted):
        """Likelihood-ratio test of ``restricted`` (nested) against this model."""
        from .inference import lr_test

        return lr_test(restricted, self)

    def anova(self, *others, test: str | None = None):
        """R's anova.glm: sequential analysis of deviance, or the comparison of nested models."""
        if self.model._lazy and not others:
            raise NotImplementedError("the sequential analysis of deviance refits one model "
                                      "per term; on Dask fit the nested models and compare "
                                      "them: small.anova(big).")
        from .anova import anova

        return anova(self, *others, test=test)

    @property
    def bse(self):
        return self._params_like(self._bse.copy())

    @property
    def tvalues(self):
        """params / bse; NaN for a coefficient fixed by fit_constrained (bse exactly 0)."""
        return self._params_like(t_ratio(self._params, self._bse))

    @property
    def df_resid_inference(self) -> float:
        """Degrees of freedom of t and F tests: ``df_resid``, or with a cluster covariance
        and ``cov_kwds={'df_correction': True}`` (statsmodels') the number of clusters
        minus one (the fewest over the clustering dimensions)."""
        if self.cov_type == "cluster" and self.cov_kwds.get("df_correction"):
            from .inference import n_groups

            return float(n_groups(self.cov_kwds["groups"], self.nobs) - 1)
        return self.df_resid

    @property
    def _dist(self):
        return stats.t(self.df_resid_inference) if self.use_t else stats.norm

    @property
    def pvalues(self):
        t = t_ratio(self._params, self._bse)
        return self._params_like(2.0 * self._dist.sf(np.abs(t)))

    # ------------------------------------------------------ prediction
    def get_prediction(self, exog=None, exposure=None, offset=None, which: str | None = None):
        """Predictions with delta-method standard errors and intervals (R's predict.glm
        with se.fit); in-sample ones include the model's offset and exposure. ``which``:
        None (the mean, statsmodels' default columns), 'mean' or 'linear'."""
        from .prediction import get_prediction

        if self.model._lazy:
            from .design.partitioned import is_dask_collection

            if which not in (None, "mean", "linear"):
                raise ValueError(f"which must be None, 'mean' or 'linear', got {which!r}.")
            if exog is None:
                from .dask_inference import in_sample_prediction

                return in_sample_prediction(self, exposure, offset, which)
            if is_dask_collection(exog):
                raise NotImplementedError("get_prediction on new Dask rows is not available; "
                                          "use predict(), or give NumPy/pandas rows.")
        return get_prediction(self, exog=exog, exposure=exposure, offset=offset, which=which)

    def get_influence(self, observed: bool = True):
        """Influence measures: statsmodels' (hat_matrix_diag, resid_studentized,
        cooks_distance, d_params, dfbetas; observed or expected Hessian) and R's
        (hatvalues, rstandard, rstudent, dfbeta, dffits, cov_ratio, influence_measures)."""
        from .influence import GLMInfluence

        self._in_memory_only("get_influence()", "the measures (dfbetas, leave-one-out "
                             "statistics) are n x p arrays held in memory; compute them on "
                             "a sample of rows fitted in memory.")
        return GLMInfluence(self, observed=observed)

    # ------------------------------------------------------- persistence
    def save(self, path, remove_data: bool = False) -> None:
        """Save the fitted model to ``path``; ``glmkit.load(path)`` reads it back.
        ``remove_data=True`` drops the training rows (predictions still work). A model on
        Dask saves without its rows only: they stay where they live."""
        from .persistence import save_results

        if self.model._lazy and not remove_data:
            raise NotImplementedError(
                "save() of a model on Dask cannot store its training rows (they stay in the "
                "Dask collection); use save(path, remove_data=True): params, covariance, "
                "summary, tests and predictions on new rows are saved.")
        save_results(self, path, remove_data=remove_data)

    # ---------------------------------------- statsmodels' extras (their own modules)
    # Each is a function of the results, so it is also the method of that name.
    get_distribution = predictive.get_distribution
    conf_int = inference.conf_int
    predict = prediction.predict
    exp_params = criteria.exp_params
    overdispersion = criteria.overdispersion
    get_hat_matrix_diag = influence.get_hat_matrix_diag
    info_criteria = criteria.info_criteria
    summary2 = summary2_.summary2
    get_margeff = margins.get_margeff
    wald_test_terms = hypotheses.wald_test_terms
    t_test_pairwise = hypotheses.t_test_pairwise
    score_test = hypotheses.score_test
    remove_data = remove_data_.remove_data
    plot_added_variable = regressionplots.plot_added_variable
    plot_partial_residuals = regressionplots.plot_partial_residuals
    plot_ceres_residuals = regressionplots.plot_ceres_residuals

    # --------------------------------------------------------- reporting
    def summary(self, yname: str | None = None, xname: list[str] | None = None,
                title: str | None = None, alpha: float = 0.05):
        """statsmodels-style text summary (``print(res.summary())``)."""
        from .summary import Summary

        return Summary(self, yname=yname, xname=xname, title=title, alpha=alpha)

    def __repr__(self):
        return (f"<GLMResults {self.family!r} nobs={self.nobs} deviance={self.deviance:.6g} "
                f"converged={self.converged}>")
