"""The GLM model: validates its inputs once, builds a frozen problem, and fits it.

``model.GLM`` orchestrates and never iterates: solving lives in :mod:`glmkit.solvers`,
statistics of the fit in :mod:`glmkit.results`.
"""
from __future__ import annotations

import warnings
from functools import cached_property
from typing import Any, Literal

import numpy as np

from . import _data, likelihood
from .design import DenseDesign, as_design
from .families import Family
from .model_checks import _input_name, checked_family, fit_warnings
from .problem import GLMProblem
from .solvers import solve
from .solvers._linalg import diagonal_positions, find_aliased

__all__ = ["GLM"]



class GLM:
    """Generalized linear model, with statsmodels' interface and R's numbers.

    Parameters
    ----------
    endog : array_like, 1-d response; for Binomial also 0/1, proportions, or a two-column
        array of [successes, failures].
    exog : array_like, n x k design. No intercept is added: use :func:`add_constant`.
    family : Family instance, default Gaussian().
    offset : array_like, added to the linear predictor with coefficient 1.
    exposure : array_like, positive; log(exposure) is added (log link only).
    freq_weights : array_like, frequency weights: weight k equals k copies of the row.
    var_weights : array_like, variance (prior) weights: Var(y_i) = scale V(mu_i) / w_i.
    missing : {'none', 'drop', 'raise'}
        'none' raises on NaN with a hint, 'drop' drops incomplete rows (see
        ``n_dropped``), 'raise' raises :class:`MissingDataError`.
    hasconst : None or bool (statsmodels'), whether the design has a constant: None
        detects a constant column; True or False sets ``k_constant``, which decides
        whether the null model has an intercept.

    Notes
    -----
    ``df_model`` is rank(X) - 1 and ``df_resid`` is the total frequency weight of rows
    with non-zero prior weight, minus rank(X), as R's ``glm`` counts them.
    """

    def __init__(self, endog, exog, family: Family | None = None, offset=None, exposure=None,
                 freq_weights=None, var_weights=None, missing: str = "none",
                 hasconst: bool | None = None, **kwargs: Any):
        inputs = (endog, exog, offset, exposure, freq_weights, var_weights)
        on_dask = any(hasattr(type(a), "__dask_graph__") for a in inputs)
        dask_kw = {k: kwargs.pop(k) for k in ("client", "exog_names", "endog_names",
                                              "design_layout") if on_dask and k in kwargs}
        if kwargs:
            raise TypeError(f"GLM() got unexpected keyword argument(s) {sorted(kwargs)}; "
                            "accepted: family, offset, exposure, freq_weights, var_weights, "
                            "missing, hasconst.")
        if hasconst not in (None, True, False):
            raise ValueError(f"hasconst must be None, True or False, got {hasconst!r}.")
        #: statsmodels' hasconst: None detects a constant column; True / False set
        #: k_constant (the null model then has / has not an intercept).
        self._hasconst = hasconst
        self.family = family = checked_family(family)
        self.missing = missing
        #: statsmodels' scale rule for model-level functions called with scale=None
        #: (estimate_scale, loglike, score, hessian, ...): None (the family's default),
        #: 'X2', 'dev' or a number; fit(scale=...) sets it, as statsmodels' fit does.
        self.scaletype: float | str | None = None
        self._input_names = {key: _input_name(obj, key) for key, obj in (
            ("offset", offset), ("exposure", exposure), ("freq_weights", freq_weights),
            ("var_weights", var_weights))}
        #: Set by the formula interface: the model spec that turns new data into rows of X
        #: (see glmkit.formula); None for models built from arrays.
        self.formula_info = None
        #: Terms as [(name, [column positions])] for anova; None means one term per column.
        self.terms = None
        #: Set by the formula interface: the data and arguments it was called with.
        self.formula_call = None
        if on_dask:
            # the rows live in Dask partitions: the same model, with the data (and the
            # passes over them) of glmkit.design.dask_data; no pass runs before fit()
            from .design.dask_data import DaskModelData

            self.data: Any = DaskModelData(endog, exog, family, offset, exposure, freq_weights,
                                      var_weights, missing, **dask_kw)
            return
        self.data = _data.prepare(endog, exog, family, offset, exposure, freq_weights,
                                  var_weights, missing)  # type: ignore[arg-type]
        self.n_dropped = self.data.n_dropped
        if self.n_dropped:
            warnings.warn(f"missing='drop' dropped {self.n_dropped} row(s) with missing values.",
                          UserWarning, stacklevel=2)

    def _get_init_kwds(self) -> dict:
        """The keyword arguments that rebuild this model with ``GLM(endog, exog, **kwds)``
        (statsmodels' helper): family, offset, exposure (not logged), freq_weights,
        var_weights, missing, hasconst."""
        if self.data.n_trials is not None:
            raise NotImplementedError("a [successes, failures] binomial model is rebuilt from "
                                      "its two-column response, not from model.endog.")
        d = self.data
        return {"family": self.family, "offset": d.offset, "exposure": d.exposure,
                "freq_weights": d.freq_weights, "var_weights": d.var_weights,
                "missing": "none", "hasconst": getattr(self, "_hasconst", None)}

    @classmethod
    def from_formula(cls, formula: str, data, family: Family | None = None, **kwargs: Any):
        """Build the model from an R-style formula and a data frame (see glmkit.formula);
        a dask DataFrame gives a model on Dask (see glmkit.dask_formula)."""
        if hasattr(type(data), "__dask_graph__"):
            from .dask_formula import model_from_dask_formula

            return model_from_dask_formula(cls, formula, data, family=family, **kwargs)
        from .formula import model_from_formula

        return model_from_formula(cls, formula, data, family=family, **kwargs)

    # ------------------------------------------------------------ attributes
    @property
    def _lazy(self) -> bool:
        """Whether the rows live in Dask partitions (per-row values are dask arrays)."""
        return getattr(self.data, "lazy", False)

    @cached_property
    def _passes(self):
        """The passes over the rows (sums and per-row values of block functions): the
        Dask data themselves, or :class:`~glmkit.design.memory_rows.MemoryRows`."""
        if self._lazy:
            return self.data
        from .design.memory_rows import MemoryRows

        return MemoryRows(self)

    @property
    def n_dropped(self) -> int:
        """Rows dropped with ``missing='drop'`` (on Dask, counted by the data pass)."""
        if "_n_dropped" in self.__dict__:
            return int(self.__dict__["_n_dropped"])
        return int(self.data.n_dropped)

    @n_dropped.setter
    def n_dropped(self, value: int) -> None:
        self.__dict__["_n_dropped"] = value

    @property
    def endog(self) -> np.ndarray:
        return self.data.y

    @property
    def exog(self) -> Any:
        return self.problem.X if self._lazy else self.data.X

    @property
    def offset(self):
        return self.data.offset

    @property
    def exposure(self):
        return self.data.exposure

    @property
    def freq_weights(self) -> np.ndarray:   # (lazy, never None, on Dask)
        return self.data.freq_weights if self.data.freq_weights is not None else np.ones(self.nobs)

    @property
    def var_weights(self) -> np.ndarray:
        return self.data.var_weights if self.data.var_weights is not None else np.ones(self.nobs)

    @property
    def n_trials(self) -> np.ndarray:
        return self.data.n_trials if self.data.n_trials is not None else np.ones(self.nobs)

    @property
    def offset_name(self) -> str | None:
        """The offset's name: a Series' name, 'offset' for other arrays, None without one."""
        return getattr(self, "_input_names", {}).get("offset")

    @property
    def exposure_name(self) -> str | None:
        """The exposure's name: a Series' name, 'exposure' for arrays, None without one."""
        return getattr(self, "_input_names", {}).get("exposure")

    @property
    def freq_weights_name(self) -> str | None:
        """The frequency weights' name (a Series' name, 'freq_weights', or None)."""
        return getattr(self, "_input_names", {}).get("freq_weights")

    @property
    def var_weights_name(self) -> str | None:
        """The variance weights' name (a Series' name, 'var_weights', or None)."""
        return getattr(self, "_input_names", {}).get("var_weights")

    @property
    def endog_names(self) -> str:
        return self.data.endog_names

    @property
    def exog_names(self) -> list[str]:
        return list(self.data.exog_names)

    @property
    def nobs(self) -> int:
        return int(self.data.nobs if self._lazy else self.data.X.shape[0])

    @cached_property
    def problem(self) -> GLMProblem:
        if self._lazy:   # a DaskProblem: the same questions, answered by passes
            return self.data.problem  # type: ignore[no-any-return]
        d = self.data
        # absent weights and offsets are read-only broadcasts: no n-vectors of ones or zeros
        n = self.nobs
        ones, zeros = np.broadcast_to(1.0, (n,)), np.broadcast_to(0.0, (n,))
        offset = zeros if d.offset is None else d.offset
        if d.exposure is not None:
            offset = offset + np.log(d.exposure)
        if d.var_weights is None and d.n_trials is None:
            prior = ones
        else:
            prior = self.var_weights * self.n_trials
        freq = ones if d.freq_weights is None else d.freq_weights
        X = as_design(d.X)
        if d.constant_columns is not None and isinstance(X, DenseDesign):
            X.known_constant_columns(d.constant_columns)   # checked by the names already
        return GLMProblem(X=X, y=d.y, family=self.family,
                          prior_weights=prior, freq_weights=freq, offset=offset)

    @cached_property
    def wnobs(self) -> float:
        """Total frequency weight of the rows with non-zero prior weight (R's n.ok)."""
        if self._lazy:
            return self.data.wnobs
        pw = self.problem.prior_weights
        return float(np.sum(self.freq_weights[pw > 0]))

    @cached_property
    def rank(self) -> int:
        """Rank of the design over rows that carry weight."""
        if self._lazy:
            return self.data.rank
        w = (self.problem.total_weights > 0).astype(float)
        X = self.problem.X
        return int(np.sum(~find_aliased(X.sandwich(w),
                                        diag=diagonal_positions(X.diagonal_columns()))))

    @property
    def df_model(self) -> float:
        return float(self.rank - 1)

    @property
    def df_resid(self) -> float:
        return self.wnobs - self.rank

    @cached_property
    def k_constant(self) -> int:
        """1 when the design has a constant column (or ``hasconst=True``), else 0."""
        hasconst = getattr(self, "_hasconst", None)
        if hasconst is not None:
            return int(hasconst)
        if self._lazy:
            return self.data.k_constant
        return int(np.any(self.problem.X.column_is_constant()))

    # ------------------------------------------------------------------ fit
    def fit(self, start_params=None, maxiter: int = 100, method: str = "IRLS", tol: float = 1e-8,
            scale: float | Literal["X2", "dev"] | None = None, cov_type: str = "nonrobust",
            cov_kwds: dict | None = None, use_t: bool | None = None, full_output: bool = True,
            disp: bool = False, max_start_irls: int = 3, **kwargs: Any):
        """Fit the model; returns an immutable :class:`~glmkit.results.GLMResults`.

        Parameters
        ----------
        start_params : array_like, optional starting coefficients (length k).
        maxiter : int, most iterations; 0 evaluates the model at ``start_params``.
        method : {'IRLS', 'newton', 'lbfgs', 'firth', 'bfgs', 'cg', 'nm', 'powell', 'ncg',
            'basinhopping'}. 'firth' is the bias-reduced fit (Firth's penalized likelihood
            for the logit link, brglm2's AS_mean otherwise; finite under separation), for
            families with a known dispersion. The last six are scipy's optimizers on the
            log-likelihood, started by ``max_start_irls`` IRLS iterations (statsmodels').
        tol : float, tolerance on |dev - dev_old| / (|dev| + 0.1), R's rule (or on the
            coefficients with ``tol_criterion='params'``).
        scale : None (Pearson chi2 / df_resid for families with a dispersion, else 1),
            'X2', 'dev' (deviance / df_resid) or a positive number.
        cov_type : 'nonrobust' (= 'eim', the expected information), 'oim' (observed
            information), 'HC0'-'HC3', 'cluster' or 'hac' (R's sandwich definitions).
        cov_kwds : for 'cluster': {'groups': labels (two columns for two-way clustering),
            'use_correction': bool, 'df_correction': bool}; for 'hac': {'maxlags': int,
            'kernel': 'bartlett' or 'uniform', 'use_correction': bool} (see
            glmkit.fit_args and glmkit.inference for their meaning).
        use_t : bool, optional; default: t tests when the scale is estimated (as R).
        full_output, disp : statsmodels' optimizer output switches (``disp`` prints
            scipy's message).
        max_start_irls : int, IRLS iterations that start the scipy optimizers.
        **kwargs
            statsmodels' IRLS keywords ``atol``, ``rtol``, ``tol_criterion``,
            ``wls_method``; optimizer keywords ``optim_hessian`` ('oim' or 'eim'),
            ``callback``, ``retall``, ``skip_hessian`` and the method's scipy options
            (``gtol``, ``xtol``, ...). See :mod:`glmkit.fit_args` for how they map.
            Others are a TypeError (``scaletype``, which statsmodels ignores, is ignored
            with a warning).

        Notes
        -----
        As statsmodels' fit, this sets ``model.scaletype`` to ``scale``: the scale rule of
        the model-level functions (``loglike``, ``score``, ``hessian``) called without one.
        """
        if getattr(self.family, "alpha", 0.0) is None:   # NegativeBinomial(alpha=None)
            from .negbin import fit_unknown_alpha

            return fit_unknown_alpha(self, start_params, maxiter, method, tol, cov_type,
                                     cov_kwds, use_t, kwargs)
        args = (start_params, maxiter, method, tol, scale, cov_type, cov_kwds, use_t,
                full_output, disp, max_start_irls, kwargs)
        with self._pins(kwargs):
            return self._fit(*args)

    def _fit(self, start_params, maxiter, method, tol, scale, cov_type, cov_kwds, use_t,
             full_output, disp, max_start_irls, kwargs):
        from .fit_args import check_fit_args

        kwargs.update(full_output=full_output, disp=disp, max_start_irls=max_start_irls)
        spec = check_fit_args(self, start_params, maxiter, method, tol, scale, cov_type,
                              cov_kwds, use_t, kwargs)
        self.scaletype = spec.scale
        if self._lazy:
            self._check_dask_fit(spec)
        self._check_fit_data(spec.start, spec.cov_type, spec.cov_kwds)
        if spec.evaluate_only:
            from .solvers.scipy_opt import evaluate_at

            result = evaluate_at(self.problem, spec.start)
        else:
            result = solve(self.problem, spec.start, spec.options,  # type: ignore[arg-type]
                           spec.method, optimizer=spec.optimizer)
        notes = self._fit_warnings(result)
        from .results import GLMResults

        scale = spec.scale
        if scale is None and "dispersion_estimate" in result.history:
            scale = result.history["dispersion_estimate"]   # a bias-reduced dispersion
        return GLMResults(self, result, scale=scale, cov_type=spec.cov_type,
                          use_t=spec.use_t, fit_warnings=notes, cov_kwds=spec.cov_kwds,
                          mle_settings=spec.mle_settings)

    def fit_constrained(self, constraints, start_params=None, **fit_kwds: Any):
        """Fit subject to linear equality constraints ``R params = q``.

        Parameters
        ----------
        constraints : str ("x1 + x2 = 1, x3 = 0"), list of str, array_like R (q = 0) or
            tuple (R, q).
        start_params : array_like, optional starting coefficients (length k).
        **fit_kwds : passed to :meth:`fit` (method, maxiter, tol, scale, cov_type, ...).

        Returns
        -------
        GLMResults
            In the original parametrization, with ``constraints``, ``k_constr`` and
            ``results_constrained``; see :mod:`glmkit.constrained`.
        """
        from .constrained import fit_constrained

        return fit_constrained(self, constraints, start_params=start_params, **fit_kwds)

    def fit_regularized(self, method: str = "elastic_net", alpha: Any = 0.0, L1_wt: float = 1.0,
                        start_params=None, refit: bool = False, maxiter: int | None = None,
                        cnvrg_tol: float = 1e-10, zero_tol: float = 1e-10,
                        opt_method: str | None = None, **kwargs: Any):
        """Elastic-net fit with statsmodels' meaning: -loglike(params, scale=1) / N + sum_j
        alpha_j ((1 - L1_wt) / 2 b_j^2 + L1_wt |b_j|), N the total frequency weight; see
        :func:`glmkit.regularized.fit_regularized` (``L1_wt=0``, ``'l1_slsqp'``, ``refit``).
        """
        from .regularized import fit_regularized

        with self._pins():
            return fit_regularized(self, method, alpha, L1_wt, start_params, refit, maxiter,
                                   cnvrg_tol, zero_tol, opt_method, **kwargs)

    def _pins(self, kwargs: dict | None = None):
        """On Dask, the context of one fit, path or fold: the executor that ``kwargs``
        (fit()'s; their Dask keywords are taken out) ask for, and the partitions pinned on
        the workers for its passes (glmkit.design.pinned); nothing in memory."""
        from contextlib import nullcontext

        return self.data.fit_context(kwargs or {}) if self._lazy else nullcontext()

    def _fit_ridge(self, alpha, start_params, method=None, **kw: Any):
        """statsmodels' ridge shortcut; see :func:`glmkit.regularized.fit_ridge_results`."""
        from .regularized import fit_ridge_results

        return fit_ridge_results(self, alpha, start_params, **kw)

    def fit_path(self, L1_wt: float = 1.0, alphas=None, n_alphas: int = 100,
                 alpha_min_ratio: float | None = None, penalty_weights=None, bounds=None,
                 standardize: bool = False, tol: float = 1e-10, max_iter: int = 100,
                 early_stop: bool = True, relax: bool = False):
        """glmnet's elastic-net path; returns :class:`~glmkit.path.PathResults`.

        Constant columns are never penalized; ``penalty_weights`` is glmnet's
        penalty.factor (rescaled to sum to the number of penalized columns; one value per
        column, or per non-constant column as glmnet), ``bounds``
        = (lower, upper) its limits, ``standardize`` its standardize. Every point is
        checked against the KKT conditions to ``tol``. ``early_stop``: without ``alphas``,
        end the sequence where glmnet ends it; ``relax``: glmnet's relaxed fits too (see
        :func:`glmkit.path.fit_path`).
        """
        from .path import fit_path

        with self._pins():
            return fit_path(self, L1_wt, alphas, n_alphas, alpha_min_ratio, penalty_weights,
                            bounds, standardize, tol, max_iter, early_stop, relax)

    def fit_cv(self, L1_wt: float = 1.0, n_folds: int = 10, foldid=None, alphas=None,
               measure: str = "deviance", seed=None, **kwargs: Any):
        """cv.glmnet: K-fold cross-validation of :meth:`fit_path`; returns
        :class:`~glmkit.cv.CVResults` (``alpha_min``, ``alpha_1se``, ``cv_mean``, ``cv_se``,
        ``path``, ``fit_at``). ``measure``: 'deviance', 'mse', 'mae', 'class' or 'auc';
        other keywords as :meth:`fit_path` (and ``grouped``, ``keep``); see
        :func:`glmkit.cv.fit_cv`.
        """
        from .cv import fit_cv

        return fit_cv(self, L1_wt, n_folds, foldid, alphas, measure, seed, **kwargs)

    def _check_dask_fit(self, spec) -> None:
        """What a fit on Dask takes: IRLS or Newton steps (the other methods need the rows
        in memory), maxiter >= 1, R's covariance types."""
        from .dask_inference import check_cov_on_dask, check_groups_on_dask

        if spec.method not in ("IRLS", "newton") or spec.evaluate_only:
            raise NotImplementedError(
                "on Dask, fit takes method 'IRLS' or 'newton' and maxiter >= 1 (the other "
                "methods need the rows in memory).")
        check_cov_on_dask(spec.cov_type, spec.cov_kwds)
        self.data.stats   # the data pass (checks the inputs), on the fit's executor
        check_groups_on_dask(spec.cov_type, spec.cov_kwds, self.nobs)
        self.data.want_final_sums(spec.cov_type, spec.cov_kwds.get("groups"))

    def _check_fit_data(self, start, cov_type, cov_kwds) -> None:
        """What fit() can check against the data before any fitting work: cluster labels
        (one per row, none missing), and that ``start_params`` give valid means (R's
        glm.fit stops there too: 'cannot find valid starting values')."""
        if self._lazy:   # checked by the data pass and _check_dask_fit
            return
        if cov_type == "cluster":
            from .inference import _check_groups

            _check_groups(cov_kwds["groups"], self.nobs)
        if start is None:
            return
        p = self.problem
        with np.errstate(all="ignore"):
            eta = p.X.matvec(start) + p.offset
            mu = self.family.link.inverse(eta)
            ok = bool(np.all(np.isfinite(mu)) and p.is_valid(eta, mu)
                      and np.isfinite(p.deviance(mu)))
        if not ok:
            raise ValueError(
                "start_params give fitted means outside the family's range (or an infinite "
                f"deviance) for the {self.family.name} family with the "
                f"{type(self.family.link).__name__} link; give starting values whose means "
                "are valid, or leave start_params out.")

    def _fit_warnings(self, result) -> tuple[str, ...]:
        """Emit and return the warnings a fit deserves."""
        if self._lazy:   # the range of the means, from the sums of the last sweep
            lo, hi = self.problem.mu_range(result.mu)  # type: ignore[attr-defined]
            return fit_warnings(result, self.exog_names, self.family, lo, hi)
        tw = self.problem.total_weights
        mu = result.mu if tw.strides == (0,) else result.mu[tw > 0]   # (equal weights: > 0)
        lo = float(np.minimum.reduce(mu, initial=np.inf))
        hi = float(np.maximum.reduce(mu, initial=-np.inf))
        return fit_warnings(result, self.exog_names, self.family, lo, hi)

    # ------------------------------------------------ likelihood functions
    def loglike(self, params, scale=None) -> float:
        """Log-likelihood at ``params`` (scale: estimated from the fit's means when None)."""
        return likelihood.loglike(self, params, scale)

    def loglike_mu(self, mu, scale=None) -> float:
        return likelihood.loglike_mu(self, self._rows_arg(mu), scale)

    def score(self, params, scale=None):
        """Gradient of the log-likelihood, +dllf/dparams."""
        return likelihood.score(self, params, scale)

    def score_obs(self, params, scale=None):
        return likelihood.score_obs(self, params, scale)

    def score_factor(self, params, scale=None):
        return likelihood.score_factor(self, params, scale)

    def hessian(self, params, scale=None, observed: bool | None = True):
        """The Hessian of the log-likelihood, d2 llf / dparams2 (negative definite at a
        maximum): observed (``observed=True`` or None, statsmodels' default), or expected
        with ``observed=False``; ``scale=None`` uses the model's scale rule (scaletype)."""
        return likelihood.hessian(self, params, scale, observed)

    def hessian_factor(self, params, scale=None, observed: bool | None = True):
        return likelihood.hessian_factor(self, params, scale, observed)

    def information(self, params, scale=None):
        """statsmodels' information: the expected Hessian (negative definite; see
        :func:`glmkit.likelihood.information`)."""
        return likelihood.information(self, params, scale)

    def estimate_tweedie_power(self, mu, method: str = "brentq", low: float = 1.01,
                               high: float = 5.0) -> float:
        """Pearson estimate of the Tweedie variance power (statsmodels' method)."""
        return likelihood.estimate_tweedie_power(self, mu, method, low, high)

    def estimate_scale(self, mu) -> float:
        return likelihood.estimate_scale(self, self._rows_arg(mu))

    def _rows_arg(self, a):
        """A per-row argument: a float array in memory, a lazy array on Dask as given."""
        return a if self._lazy and hasattr(type(a), "__dask_graph__") else np.asarray(
            a, dtype=float)

    def get_distribution(self, params, scale=None, exog=None, exposure=None, offset=None,
                         var_weights=1.0, n_trials=1.0):
        return likelihood.get_distribution(self, params, scale, exog, exposure, offset,
                                           var_weights, n_trials)

    score_test = likelihood.score_test

    # ---------------------------------------------------------- prediction
    def predict(self, params, exog=None, exposure=None, offset=None, which: str = "mean"):
        """Predicted mean (``which='mean'``) or linear predictor (``'linear'``).

        Without ``exog`` the model's own rows, offset and exposure are used; with a new
        ``exog`` only the offset and exposure given here.
        """
        if which not in ("mean", "linear"):
            raise ValueError(f"which must be 'mean' or 'linear', got {which!r}.")
        params = np.asarray(params, dtype=float)
        k = self.data.X.shape[1]
        if params.shape != (k,):
            raise ValueError(f"params must have {k} values, got shape {params.shape}.")
        b = np.where(np.isnan(params), 0.0, params)  # aliased columns contribute nothing
        if self._lazy or any(hasattr(type(a), "__dask_graph__") for a in (exog, offset, exposure)):
            from .design.dask_predict import predict_on_dask

            out = predict_on_dask(self, b, exog, exposure, offset, which)
            if out is not None:
                return out
        if exog is None:
            X = self.problem.X
            off = self.problem.offset
            if offset is not None or exposure is not None:
                n = X.shape[0]
                off = np.zeros(n) if offset is None else np.asarray(
                    _data._vector(offset, "offset", n))
                if exposure is not None:
                    off = off + np.log(self._check_exposure(exposure, n))
        else:
            X, formula_offset = self.exog_for_predict(exog, _blocks=True)
            n = X.shape[0]
            off = np.zeros(n) if offset is None else np.asarray(_data._vector(offset, "offset", n))
            if formula_offset is not None:
                off = off + formula_offset
            if exposure is not None:
                off = off + np.log(self._check_exposure(exposure, n))
        eta = (X @ b if isinstance(X, np.ndarray) else X.matvec(b)) + off
        return eta if which == "linear" else self.family.link.inverse(eta)

    # statsmodels' private helpers of margins (glmkit.likelihood)
    _derivative_predict = likelihood.derivative_predict
    _deriv_mean_dparams = likelihood.deriv_mean_dparams

    def exog_for_predict(self, exog, _blocks: bool = False):
        """Rows of the design for new data, and the formula's offset for them (or None).

        A model built from a formula re-applies its stored spec to a data frame; otherwise
        ``exog`` must be an array-like with the model's columns. (``_blocks``, for
        predict: a factor of many levels may come as a CategoricalDesign block.)
        """
        if hasattr(type(exog), "__dask_graph__"):
            raise TypeError("exog_for_predict builds NumPy rows; for Dask data use predict().")
        return _data.rows_for_prediction(exog, self.data.X.shape[1], self.formula_info,
                                         blocks=_blocks)

    def _check_exposure(self, exposure, n):
        e = _data._vector(exposure, "exposure", n)
        if np.any(~np.isfinite(e)) or np.any(e <= 0):
            raise ValueError("exposure must be positive and finite.")
        return e

    def __repr__(self):
        return (f"GLM(nobs={self.nobs}, k={self.data.X.shape[1]}, family={self.family!r})")
