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
from .exceptions import (AliasedColumnsWarning, ConvergenceWarning, DomainWarning,
                         PerfectSeparationWarning)
from .families import Binomial, Family, Gaussian, Poisson
from .problem import GLMProblem
from .solvers import SolverOptions, solve
from .solvers._linalg import diagonal_positions, find_aliased

__all__ = ["GLM"]

_METHODS = {"irls": "IRLS", "newton": "newton", "lbfgs": "lbfgs"}
_COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
_FIT_EXTRA = ("tol_criterion", "full_output", "disp", "max_start_irls")


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

    Notes
    -----
    ``df_model`` is rank(X) - 1 and ``df_resid`` is the total frequency weight of rows
    with non-zero prior weight, minus rank(X), as R's ``glm`` counts them.
    """

    def __new__(cls, *args: Any, **kwargs: Any):
        # --- Dask dispatch hook (issue 5): any Dask input builds a glmkit.dask.DaskGLM ---
        if cls is GLM and any(hasattr(type(a), "__dask_graph__") for a in (*args, *kwargs.values())):
            from .dask import DaskGLM
            return super().__new__(DaskGLM)
        return super().__new__(cls)

    def __init__(self, endog, exog, family: Family | None = None, offset=None, exposure=None,
                 freq_weights=None, var_weights=None, missing: str = "none", **kwargs: Any):
        if kwargs:
            raise TypeError(f"GLM() got unexpected keyword argument(s) {sorted(kwargs)}; "
                            "accepted: family, offset, exposure, freq_weights, var_weights, "
                            "missing.")
        self.family = family = checked_family(family)
        self.missing = missing
        #: Set by the formula interface: the model spec that turns new data into rows of X
        #: (see glmkit.formula); None for models built from arrays.
        self.formula_info = None
        #: Terms as [(name, [column positions])] for anova; None means one term per column.
        self.terms = None
        self.data = _data.prepare(endog, exog, family, offset, exposure, freq_weights,
                                  var_weights, missing)  # type: ignore[arg-type]
        self.n_dropped = self.data.n_dropped
        if self.n_dropped:
            warnings.warn(f"missing='drop' dropped {self.n_dropped} row(s) with missing values.",
                          UserWarning, stacklevel=2)

    @classmethod
    def from_formula(cls, formula: str, data, family: Family | None = None, **kwargs: Any):
        """Build the model from an R-style formula and a data frame (see glmkit.formula)."""
        if hasattr(type(data), "__dask_graph__"):  # Dask dispatch hook (issue 5)
            from .dask import glm as dask_glm
            return dask_glm(formula, data, family=family, **kwargs)
        from .formula import model_from_formula

        return model_from_formula(cls, formula, data, family=family, **kwargs)

    # ------------------------------------------------------------ attributes
    @property
    def endog(self) -> np.ndarray:
        return self.data.y

    @property
    def exog(self) -> np.ndarray:
        return self.data.X

    @property
    def offset(self):
        return self.data.offset

    @property
    def exposure(self):
        return self.data.exposure

    @property
    def freq_weights(self) -> np.ndarray:
        return self.data.freq_weights if self.data.freq_weights is not None else np.ones(self.nobs)

    @property
    def var_weights(self) -> np.ndarray:
        return self.data.var_weights if self.data.var_weights is not None else np.ones(self.nobs)

    @property
    def n_trials(self) -> np.ndarray:
        return self.data.n_trials if self.data.n_trials is not None else np.ones(self.nobs)

    @property
    def endog_names(self) -> str:
        return self.data.endog_names

    @property
    def exog_names(self) -> list[str]:
        return list(self.data.exog_names)

    @property
    def nobs(self) -> int:
        return int(self.data.X.shape[0])

    @cached_property
    def problem(self) -> GLMProblem:
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
        pw = self.problem.prior_weights
        return float(np.sum(self.freq_weights[pw > 0]))

    @cached_property
    def rank(self) -> int:
        """Rank of the design over rows that carry weight."""
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
        return int(np.any(self.problem.X.column_is_constant()))

    # ------------------------------------------------------------------ fit
    def fit(self, start_params=None, maxiter: int = 100, method: str = "IRLS", tol: float = 1e-8,
            scale: float | Literal["X2", "dev"] | None = None, cov_type: str = "nonrobust",
            cov_kwds: dict | None = None, use_t: bool | None = None, **kwargs: Any):
        """Fit the model; returns an immutable :class:`~glmkit.results.GLMResults`.

        Parameters
        ----------
        start_params : array_like, optional starting coefficients (length k).
        maxiter : int, most iterations.
        method : {'IRLS', 'newton', 'lbfgs'}.
        tol : float, tolerance on |dev - dev_old| / (|dev| + 0.1), R's rule (or on the
            coefficients with ``tol_criterion='params'``).
        scale : None (Pearson chi2 / df_resid for families with a dispersion, else 1),
            'X2', 'dev' (deviance / df_resid) or a positive number.
        cov_type : 'nonrobust', 'HC0'-'HC3' or 'cluster' (R's sandwich definitions).
        cov_kwds : {'groups': labels} for 'cluster' (two columns for two-way clustering).
        use_t : bool, optional; default: t tests when the scale is estimated (as R).
        """
        options, method_name, start = self._check_fit_args(
            start_params, maxiter, method, tol, scale, cov_type, cov_kwds, use_t, kwargs)
        self._check_fit_data(start, cov_type, cov_kwds)
        result = solve(self.problem, start, options, method_name)  # type: ignore[arg-type]
        notes = self._fit_warnings(result)
        from .results import GLMResults

        return GLMResults(self, result, scale=scale, cov_type=cov_type, use_t=use_t,
                          fit_warnings=notes, cov_kwds=cov_kwds)

    def fit_regularized(self, method: str = "elastic_net", alpha: Any = 0.0, L1_wt: float = 1.0,
                        start_params=None, refit: bool = False, maxiter: int = 50,
                        cnvrg_tol: float = 1e-10, zero_tol: float = 1e-10,
                        opt_method: str | None = None, **kwargs: Any):
        """Elastic-net fit with statsmodels' meaning (see :mod:`glmkit.regularized`).

        Minimizes -loglike(params, scale=1) / N + sum_j alpha_j ((1 - L1_wt) / 2 b_j^2 +
        L1_wt |b_j|), N the total frequency weight. A scalar ``alpha`` penalizes every
        column, the intercept included (as statsmodels); a vector gives one per column.
        ``cnvrg_tol`` bounds the KKT violation at the answer. ``refit=True`` refits the
        selected columns without a penalty (post-selection inference). Returns
        :class:`~glmkit.regularized.RegularizedResults` (no standard errors) or, with
        ``refit``, :class:`~glmkit.results.GLMResults`.
        """
        from .regularized import fit_regularized

        return fit_regularized(self, method, alpha, L1_wt, start_params, refit, maxiter,
                               cnvrg_tol, zero_tol, opt_method, **kwargs)

    def fit_path(self, L1_wt: float = 1.0, alphas=None, n_alphas: int = 100,
                 alpha_min_ratio: float | None = None, penalty_weights=None, bounds=None,
                 standardize: bool = False, tol: float = 1e-10, max_iter: int = 100):
        """glmnet's elastic-net path; returns :class:`~glmkit.path.PathResults`.

        Constant columns are never penalized; ``penalty_weights`` is glmnet's
        penalty.factor (rescaled to sum to the number of penalized columns; one value per
        column, or per non-constant column as glmnet), ``bounds``
        = (lower, upper) its limits, ``standardize`` its standardize. Every point is
        checked against the KKT conditions to ``tol``; see :func:`glmkit.path.fit_path`.
        """
        from .path import fit_path

        return fit_path(self, L1_wt, alphas, n_alphas, alpha_min_ratio, penalty_weights,
                        bounds, standardize, tol, max_iter)

    def _check_fit_args(self, start_params, maxiter, method, tol, scale, cov_type, cov_kwds,
                        use_t, kwargs):
        unknown = sorted(set(kwargs) - set(_FIT_EXTRA))
        if unknown:
            raise TypeError(f"fit() got unexpected keyword argument(s) {unknown}.")
        if not isinstance(method, str) or method.lower() not in _METHODS:
            raise ValueError(f"method must be one of 'IRLS', 'newton', 'lbfgs'; got {method!r}.")
        if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
            raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}.")
        if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a positive number, got {tol!r}.")
        if scale is not None and not (isinstance(scale, str) and scale in ("X2", "dev")):
            is_number = isinstance(scale, (int, float, np.integer, np.floating)) \
                and not isinstance(scale, bool)
            if not (is_number and np.isfinite(scale) and scale > 0):
                raise ValueError(f"scale must be None, 'X2', 'dev' or a positive number, "
                                 f"got {scale!r}.")
        if cov_type not in _COV_TYPES:
            raise ValueError(f"cov_type must be one of {_COV_TYPES}, got {cov_type!r}.")
        if cov_kwds and cov_type == "nonrobust":
            raise ValueError("cov_kwds is only used with robust covariance types.")
        if cov_kwds and set(cov_kwds) - {"groups"}:
            raise TypeError(f"unknown cov_kwds {sorted(set(cov_kwds) - {'groups'})}; "
                            "cov_type='cluster' takes {'groups': labels}.")
        if cov_type == "cluster" and not (cov_kwds and "groups" in cov_kwds):
            raise ValueError("cov_type='cluster' needs cov_kwds={'groups': labels}.")
        if use_t not in (None, True, False):
            raise ValueError(f"use_t must be None, True or False, got {use_t!r}.")
        crit = kwargs.get("tol_criterion", "deviance")
        if crit not in ("deviance", "params"):
            raise ValueError(f"tol_criterion must be 'deviance' or 'params', got {crit!r}.")
        start = None
        if start_params is not None:
            start = np.array(start_params, dtype=float).ravel()
            k = self.data.X.shape[1]
            if start.shape != (k,) or not np.all(np.isfinite(start)):
                raise ValueError(f"start_params must be {k} finite numbers, got {start_params!r}.")
        options = SolverOptions(maxiter=int(maxiter), tol=float(tol), tol_criterion=crit)
        return options, _METHODS[method.lower()], start

    def _check_fit_data(self, start, cov_type, cov_kwds) -> None:
        """What fit() can check against the data before any fitting work: cluster labels
        (one per row, none missing), and that ``start_params`` give valid means (R's
        glm.fit stops there too: 'cannot find valid starting values')."""
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
        return likelihood.loglike_mu(self, np.asarray(mu, dtype=float), scale)

    def score(self, params, scale=None):
        """Gradient of the log-likelihood, +dllf/dparams."""
        return likelihood.score(self, params, scale)

    def score_obs(self, params, scale=None):
        return likelihood.score_obs(self, params, scale)

    def score_factor(self, params, scale=None):
        return likelihood.score_factor(self, params, scale)

    def hessian(self, params, scale=None, observed: bool = True):
        """The Hessian of the log-likelihood (observed, or expected with observed=False)."""
        return likelihood.hessian(self, params, scale, observed)

    def hessian_factor(self, params, scale=None, observed: bool = True):
        return likelihood.hessian_factor(self, params, scale, observed)

    def information(self, params, scale=None):
        return likelihood.information(self, params, scale)

    def estimate_scale(self, mu) -> float:
        return likelihood.estimate_scale(self, np.asarray(mu, dtype=float))

    def get_distribution(self, params, scale=None, exog=None, exposure=None, offset=None,
                         var_weights=1.0, n_trials=1.0):
        return likelihood.get_distribution(self, params, scale, exog, exposure, offset,
                                           var_weights, n_trials)

    def score_test(self, params_constrained, k_constraints=None, exog_extra=None,
                   observed: bool = True):
        """Score (Rao) test of added columns ``exog_extra`` at the constrained fit's params.

        Returns (statistic, p-value, df): R's Rao statistic of anova(small, big,
        test='Rao'), divided, as R does, by the dispersion of the bigger model (which is
        fitted for that when the family has a free dispersion).
        """
        from scipy import stats as _st

        from .inference import rao_statistic

        if exog_extra is None:
            raise ValueError("score_test needs exog_extra (the columns added to the model).")
        extra = np.asarray(exog_extra, dtype=float)
        extra = extra[:, None] if extra.ndim == 1 else extra
        res = self.fit(start_params=params_constrained)
        X_big = np.column_stack([self.problem.X.to_dense(), extra])
        scale = 1.0
        if self.family.has_free_scale:
            big = GLM(self.data.y if self.data.n_trials is None else
                      np.column_stack([self.data.y * self.n_trials,
                                       (1 - self.data.y) * self.n_trials]),
                      X_big, family=self.family, offset=self.data.offset,
                      exposure=self.data.exposure, freq_weights=self.data.freq_weights,
                      var_weights=self.data.var_weights)
            scale = big.fit().scale
        stat = rao_statistic(res, X_big) / scale
        df = extra.shape[1] if k_constraints is None else k_constraints
        return stat, float(_st.chi2.sf(stat, df)), df

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
            X, formula_offset = self.exog_for_predict(exog)
            n = X.shape[0]
            off = np.zeros(n) if offset is None else np.asarray(_data._vector(offset, "offset", n))
            if formula_offset is not None:
                off = off + formula_offset
            if exposure is not None:
                off = off + np.log(self._check_exposure(exposure, n))
        eta = (X.matvec(b) if exog is None else X @ b) + off
        return eta if which == "linear" else self.family.link.inverse(eta)

    def exog_for_predict(self, exog):
        """Rows of the design for new data, and the formula's offset for them (or None).

        A model built from a formula re-applies its stored spec to a data frame; otherwise
        ``exog`` must be an array-like with the model's columns.
        """
        return _data.rows_for_prediction(exog, self.data.X.shape[1], self.formula_info)

    def _check_exposure(self, exposure, n):
        e = _data._vector(exposure, "exposure", n)
        if np.any(~np.isfinite(e)) or np.any(e <= 0):
            raise ValueError("exposure must be positive and finite.")
        return e

    def __repr__(self):
        return (f"GLM(nobs={self.nobs}, k={self.data.X.shape[1]}, family={self.family!r})")


_TEN_EPS = 10 * np.finfo(float).eps
#: Fitted means this near 0 (or 1) in a fit that did not converge signal separation.
_DRIFTING = 1e-8


def fit_warnings(result, exog_names, family, mu_min: float, mu_max: float,
                 stacklevel: int = 4) -> tuple[str, ...]:
    """Emit and return the warnings a fit deserves (in memory and on Dask): non-convergence,
    R's boundary, aliased columns, and separation judged from the fitted means' range over
    the rows with weight."""
    notes: list[tuple[type[Warning], str]] = []
    if not result.converged:
        why = "; ".join(result.messages) or f"the tolerance was not met in {result.n_iter} iterations"
        notes.append((ConvergenceWarning, f"the {result.method} fit did not converge: {why}. "
                      "Try a larger maxiter, start_params, or check the model."))
    if result.converged and result.history.get("boundary"):
        notes.append((DomainWarning, "the fit stopped at the boundary of the family's range "
                      "(the last step was shortened to keep the fitted means valid, as R's "
                      "glm.fit 'boundary'): the maximum may lie outside the valid region; "
                      "consider another link."))
    if result.aliased.any():
        names = [n for n, a in zip(exog_names, result.aliased) if a]
        notes.append((AliasedColumnsWarning, f"the design is rank deficient: {names} are "
                      "linear combinations of earlier columns; their coefficients are NaN (as R)."))
    # R's threshold at a maximum; a fit that found none and drifts with means this close
    # to the boundary is separated (its coefficients head to infinity)
    eps = _TEN_EPS if result.converged else _DRIFTING
    if isinstance(family, Binomial) and (mu_min < eps or mu_max > 1 - eps):
        notes.append((PerfectSeparationWarning, "fitted probabilities numerically 0 or 1 "
                      "occurred: perfect or quasi-complete separation; coefficients and "
                      "standard errors of the separating terms are not reliable."))
    if isinstance(family, Poisson) and mu_min < eps:
        notes.append((PerfectSeparationWarning, "fitted rates numerically 0 occurred: "
                      "some coefficients diverge (perfect prediction of zero counts)."))
    for cls, msg in notes:
        warnings.warn(msg, cls, stacklevel=stacklevel)
    return tuple(f"{cls.__name__}: {msg}" for cls, msg in notes)


def checked_family(family) -> Family:
    """The model's family: Gaussian when None; a family class or another object is an error
    that says what to write instead."""
    if family is None:
        return Gaussian()
    if isinstance(family, type):
        raise TypeError(f"family must be an instance: write families.{family.__name__}() "
                        "with parentheses.")
    if not isinstance(family, Family):
        raise TypeError(f"family must be a glmkit family instance, got {type(family).__name__}.")
    return family
