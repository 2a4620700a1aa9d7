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

from . import criteria, hypotheses, influence, margins, predictive, regressionplots
from . import remove_data as remove_data_
from . import summary2 as summary2_
from .design import DenseDesign
from .families import Gaussian, links
from .problem import GLMProblem
from .solvers import SolverOptions, SolverResult
from .solvers._linalg import diagonal_positions, try_factor
from .solvers.irls import irls


def t_ratio(params: np.ndarray, bse: np.ndarray) -> np.ndarray:
    """params / bse, NaN where bse is 0: a coefficient fixed by constraints is not tested."""
    return np.divide(params, bse, out=np.full(np.shape(params), np.nan), where=bse != 0)


class GLMResults:
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
        self._result = result
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
    def _params_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            return pd.Series(a, index=self.model.exog_names, name=None)
        return a

    def _rows_like(self, a: np.ndarray):
        d = self.model.data
        if d.is_pandas:
            index = d.row_labels if d.row_labels is not None else pd.RangeIndex(len(a))
            return pd.Series(a, index=index)
        return a

    def _matrix_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            names = self.model.exog_names
            return pd.DataFrame(a, index=names, columns=names)
        return a

    # ------------------------------------------------------------ basics
    @property
    def _problem(self) -> GLMProblem:
        return self.model.problem

    @cached_property
    def _params(self) -> np.ndarray:
        return np.array(self._result.params)

    @property
    def params(self):
        return self._params_like(self._params.copy())

    @property
    def _keep(self) -> np.ndarray:
        return ~np.asarray(self._result.aliased)

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

    @property
    def fit_history(self) -> dict:
        """statsmodels' keys: ``'iteration'`` (iterations made), ``'deviance'`` (np.inf,
        then the deviance at the start and after each iteration, as statsmodels lists
        them); glmkit's ``'step_halvings'`` and ``'passes'`` (passes over the data)."""
        h = self._result.history
        out = {"iteration": self.n_iter, "deviance": [np.inf, *h.get("deviance", [])],
               "step_halvings": list(h.get("step_halvings", []))}
        if "passes" in h:   # full passes over the data the solver made (IRLS)
            out["passes"] = int(h["passes"])
        return out

    @property
    def mle_retvals(self) -> dict:
        """The optimizer's report (scipy methods: fopt, iterations, converged, message)."""
        h = self._result.history
        out = dict(h.get("mle_retvals", {"converged": self.converged,
                                          "iterations": self.n_iter}))
        if "allvecs" in out:
            out["allvecs"] = [np.array(v, dtype=float) for v in out["allvecs"]]
        return out

    @property
    def boundary(self) -> bool:
        """Whether the fit stopped at the boundary of the family's range (R's ``boundary``)."""
        return bool(self._result.history.get("boundary", False)) and self.converged

    @property
    def separation(self) -> bool:
        """Whether the fit showed perfect or quasi-complete separation."""
        return any(w.startswith("PerfectSeparationWarning") for w in self.fit_warnings)

    # ------------------------------------------------------- per-row values
    @property
    def _mu(self) -> np.ndarray:
        return np.asarray(self._result.mu)

    @property
    def _eta(self) -> np.ndarray:
        return np.asarray(self._result.eta)

    @property
    def mu(self):
        return self._rows_like(self._mu.copy())

    @property
    def fittedvalues(self):
        return self.mu

    @property
    def linear_predictor(self):
        return self._rows_like(self._eta.copy())

    @property
    def weights(self):
        """Working weights of the last iteration, with prior and frequency weights (R's)."""
        return self._rows_like(np.array(self._result.working_weights))

    # statsmodels' private names, read by its tests and by some user code
    _endog = property(lambda self: self._problem.y)
    _freq_weights = property(lambda self: self._problem.freq_weights)
    _var_weights = property(lambda self: self.model.var_weights)
    _iweights = property(lambda self: self._problem.freq_weights * self.model.var_weights)
    _n_trials = property(lambda self: self.model.n_trials)

    @cached_property
    def _resid_response(self) -> np.ndarray:
        return self._problem.y - self._mu

    @property
    def resid_response(self):
        return self._rows_like(self._resid_response.copy())

    @property
    def resid_pearson(self):
        return self._rows_like(self._pearson.copy())

    @cached_property
    def _pearson(self) -> np.ndarray:
        """(y - mu) sqrt(prior_w / V(mu)), formed without V(mu) itself (it can overflow)."""
        pw = self._problem.prior_weights
        return self._resid_response / self.family.variance.sqrt(self._mu) * np.sqrt(pw)

    @property
    def resid_deviance(self):
        r = self.family.resid_dev(self._problem.y, self._mu, var_weights=self._problem.prior_weights)
        return self._rows_like(r)

    @property
    def resid_working(self):
        r = self._resid_response / self.family.link.inverse_deriv(self._eta)
        return self._rows_like(r)

    @property
    def resid_anscombe_scaled(self):
        r = self.family.resid_anscombe(self._problem.y, self._mu,
                                       var_weights=self._problem.prior_weights, scale=self.scale)
        return self._rows_like(r)

    @property
    def resid_anscombe_unscaled(self):
        r = self.family.resid_anscombe(self._problem.y, self._mu,
                                       var_weights=self._problem.prior_weights, scale=1.0)
        return self._rows_like(r)

    @property
    def resid_anscombe(self):
        """Anscombe residuals divided by sqrt(scale), as statsmodels 0.14."""
        return self.resid_anscombe_scaled

    # ----------------------------------------------------- fit statistics
    @property
    def deviance(self) -> float:
        return float(self._result.deviance)

    @cached_property
    def pearson_chi2(self) -> float:
        return float(np.sum(self._problem.freq_weights * np.square(self._pearson)))

    @cached_property
    def _null_mu(self) -> np.ndarray:
        """Fitted means of the null model: intercept only (with the offset) or g^-1(offset)."""
        p = self._problem
        if not self.k_constant:
            return self.family.link.inverse(p.offset)
        tw = p.total_weights
        if not np.any(p.offset):
            return np.full(p.y.shape, np.sum(tw * p.y) / np.sum(tw))
        null_problem = GLMProblem(X=DenseDesign(np.ones((p.y.shape[0], 1))), y=p.y,
                                  family=p.family, prior_weights=p.prior_weights,
                                  freq_weights=p.freq_weights, offset=p.offset)
        res = irls(null_problem, None, SolverOptions(maxiter=100, tol=1e-12))
        return np.asarray(res.mu)

    @property
    def null(self):
        return self._rows_like(self._null_mu.copy())

    @cached_property
    def null_deviance(self) -> float:
        return float(self._problem.deviance(self._null_mu))

    @property
    def _scale_is_estimated(self) -> bool:
        spec = self._scale_spec
        return (spec is None and self.family.has_free_scale) or spec in ("X2", "dev")

    @cached_property
    def scale(self) -> float:
        """The dispersion, a numpy float64 as statsmodels' (``scale=1`` gives 1.0 too)."""
        spec = self._scale_spec
        if spec is None:
            spec = "X2" if self.family.has_free_scale else 1.0
        if isinstance(spec, str):
            if self.df_resid <= 0:
                import warnings

                warnings.warn("no residual degrees of freedom: the scale cannot be "
                              "estimated and is NaN.", RuntimeWarning, stacklevel=2)
                return np.float64("nan")
            stat = self.pearson_chi2 if spec == "X2" else self.deviance
            return np.float64(stat / self.df_resid)
        return np.float64(spec)

    def _llf_at(self, mu: np.ndarray, scale: float) -> float:
        p, m = self._problem, self.model
        return self.family.loglike(p.y, mu, var_weights=m.var_weights, freq_weights=p.freq_weights,
                                   scale=scale, n_trials=m.n_trials)

    def _ll_scale(self, mu: np.ndarray) -> float:
        if isinstance(self.family, Gaussian) and isinstance(self.family.link, links.Identity):
            p = self._problem
            return float(np.sum(p.total_weights * np.square(p.y - mu)) / self.wnobs)
        return self.scale

    @cached_property
    def llf(self) -> float:
        return self._llf_at(self._mu, self._ll_scale(self._mu))

    @cached_property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (with the offset) at these results'
        ``scale`` (statsmodels' definition, also for Gaussian identity)."""
        return self._llf_at(self._null_mu, self.scale)

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
            fac = try_factor(T.T @ np.asarray(self._result.gram) @ T)
            if fac is not None:
                out = T @ fac.inverse() @ T.T
                out = 0.5 * (out + out.T)
            return out
        X = self.model.problem.X
        diag = diagonal_positions(getattr(X, "diagonal_columns", lambda: None)(), self._keep)
        fac = try_factor(np.asarray(self._result.gram), diag)
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
        from .inference import robust_cov

        k = self._params.shape[0]
        out = np.full((k, k), np.nan)
        keep = self._keep
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
        rc = self.results_constrained
        if rc is not None:
            rc = rc.get_robustcov_results(cov_type, use_t=use_t, **kwds)
        return GLMResults(self.model, self._result, scale=self._scale_spec, cov_type=cov_type,
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

    def conf_int(self, alpha: float = 0.05, cols=None, method: str = "wald"):
        """Confidence intervals: ``method='wald'`` params -/+ q bse (t quantiles when
        ``use_t``), or ``'profile'``: profile-likelihood intervals as MASS's confint.glm."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
        if method == "wald":
            q = self._dist.ppf(1.0 - alpha / 2.0)
            ci = np.column_stack([self._params - q * self._bse, self._params + q * self._bse])
        elif method == "profile":
            if self._constraints is not None:
                raise ValueError("profile intervals are not available for fit_constrained "
                                 "results; use method='wald', or profile "
                                 "results_constrained (the free coefficients).")
            from .profile import profile_conf_int

            ci = profile_conf_int(self, alpha)
        else:
            raise ValueError(f"method must be 'wald' or 'profile', got {method!r}.")
        if cols is not None:
            ci = ci[np.asarray(cols)]
        if self.model.data.is_pandas:
            names = np.asarray(self.model.exog_names)
            idx = names if cols is None else names[np.asarray(cols)]
            return pd.DataFrame(ci, index=idx, columns=[0, 1])
        return ci

    def checks(self, endog=None, exog=None, offset=None, exposure=None):
        """Model checks (Brier score, AUC, Hosmer-Lemeshow, dispersion test, rootogram,
        D^2, ...) on the fit's rows or on new ``endog`` / ``exog``: a
        :class:`glmkit.checks.ModelChecks`."""
        from .checks import ModelChecks

        return ModelChecks(self, endog, exog, offset, exposure)

    def to_onnx(self, path=None, offset: bool | None = None):
        """The prediction as an ONNX model (inputs X and offset; outputs mu and eta);
        needs ``pip install 'glmkit[onnx]'``. See :func:`glmkit.export_onnx.to_onnx`."""
        from .export_onnx import to_onnx

        return to_onnx(self, path, offset)

    # ------------------------------------------------------ prediction
    def predict(self, exog=None, exposure=None, offset=None, which: str = "mean"):
        """Predicted mean, linear predictor ('linear') or variance function at the mean
        ('var_unscaled', statsmodels'); in-sample with the model's offset/exposure."""
        if which == "var_unscaled":
            mu = self.model.predict(self._params, exog=exog, exposure=exposure, offset=offset)
            out = self.family.variance(np.asarray(mu, dtype=float))
        else:
            out = self.model.predict(self._params, exog=exog, exposure=exposure,
                                     offset=offset, which=which)
        if exog is None:
            return self._rows_like(out)
        if isinstance(exog, pd.DataFrame):
            return pd.Series(out, index=exog.index)
        return out

    def get_prediction(self, exog=None, exposure=None, offset=None, which: str | None = None):
        """Predictions with delta-method standard errors and intervals (R's predict.glm
        with se.fit); in-sample ones include the model's offset and exposure. ``which``:
        None (the mean, statsmodels' default columns), 'mean' or 'linear'."""
        from .prediction import get_prediction

        return get_prediction(self, exog=exog, exposure=exposure, offset=offset, which=which)

    def get_influence(self, observed: bool = True):
        """Influence measures: statsmodels' (hat_matrix_diag, resid_studentized,
        cooks_distance, d_params, dfbetas; observed or expected Hessian) and R's
        (hatvalues, rstandard, rstudent, dfbeta, dffits, cov_ratio, influence_measures)."""
        from .influence import GLMInfluence

        return GLMInfluence(self, observed=observed)

    # ------------------------------------------------- summary statistics
    def exp_params(self, alpha: float = 0.05) -> pd.DataFrame:
        """exp(coef) with exponentiated Wald intervals: odds ratios (logit), rate ratios
        (log link)."""
        ci = np.asarray(self.conf_int(alpha))
        return pd.DataFrame({"exp(coef)": np.exp(self._params), "lower": np.exp(ci[:, 0]),
                             "upper": np.exp(ci[:, 1])}, index=self.model.exog_names)

    def overdispersion(self) -> pd.Series:
        """Pearson chi2 / df_resid and deviance / df_resid (about 1 without overdispersion),
        with the p-value of Pearson chi2 against chi2(df_resid)."""
        return pd.Series({
            "pearson_chi2": self.pearson_chi2,
            "deviance": self.deviance,
            "df_resid": self.df_resid,
            "ratio_pearson": self.pearson_chi2 / self.df_resid,
            "ratio_deviance": self.deviance / self.df_resid,
            "pvalue": float(stats.chi2.sf(self.pearson_chi2, self.df_resid)),
        })

    # ------------------------------------------------------- persistence
    def save(self, path, remove_data: bool = False) -> None:
        """Save the fitted model to ``path``; ``glmkit.load(path)`` reads it back.
        ``remove_data=True`` drops the training rows (predictions still work)."""
        from .persistence import save_results

        save_results(self, path, remove_data=remove_data)

    # ---------------------------------------- statsmodels' extras (their own modules)
    # Each is a function of the results, so it is also the method of that name.
    get_distribution = predictive.get_distribution
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
