"""statsmodels' ``GLM.fit_regularized`` on glmkit's penalized IRLS.

The objective is statsmodels' (and glmnet's):

    -loglike(b, scale=1) / N + sum_j alpha_j ( (1 - L1_wt) / 2 b_j^2 + L1_wt |b_j| ),

which is D(b) / (2N) plus the penalty up to a constant (D the deviance). A scalar alpha
penalizes every coefficient, the intercept included (statsmodels' meaning; use a vector
alpha with a 0 for the intercept, or :meth:`glmkit.GLM.fit_path`, to leave it free).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from ._parallel import one_blas_thread
from ._penalty_inputs import is_quadratic, sweeper_for
from .solvers.penalized import PenalizedResult, Penalty, penalized_irls

__all__ = ["RegularizedResults", "RegularizedResultsWrapper", "fit_elasticnet",
           "fit_regularized", "fit_ridge_results", "refit_selected"]


class RegularizedResults:
    """A penalized fit: coefficients and fit statistics, no standard errors.

    Attributes
    ----------
    params : coefficients (a Series labelled by exog_names for pandas inputs).
    alpha, L1_wt : the penalty.
    deviance : deviance at params; ``objective``: the penalized objective (D / 2N + penalty).
    converged : the KKT conditions hold to the tolerance; ``kkt`` is the largest violation.
    n_iter : passes over the rows that formed X'WX.
    fittedvalues, mu : fitted means.

    Notes
    -----
    Standard errors, tests and intervals are not offered for penalized coefficients (as
    glmnet): their sampling distribution is not the one the usual formulas describe. Use
    ``refit=True`` for inference on the selected columns (post-selection inference, which
    ignores the selection step: intervals are too narrow, p-values too small).
    """

    def __init__(self, model, res: PenalizedResult, alpha, L1_wt: float, penalty: Penalty,
                 n: float, method: str = "elastic_net"):
        self.model = model
        self._res = res
        self.alpha = alpha
        self.L1_wt = float(L1_wt)
        self.penalty = penalty
        self.method = method
        self.converged = bool(res.converged)
        self.kkt = float(res.kkt)
        self.n_iter = int(res.n_sweeps)
        self.deviance = float(res.deviance)
        self.objective = float(res.objective)
        self.nobs_weighted = float(n)
        self.regularized = True
        self.messages = tuple(res.messages)
        #: statsmodels' ridge shortcut (L1_wt=0): the scale at the answer; else None
        self.ridge_scale: float | None = None

    @property
    def params(self):
        b = np.array(self._res.params, dtype=float)
        if getattr(self.model.data, "is_pandas", False):
            return pd.Series(b, index=self.model.exog_names)
        return b

    @property
    def fittedvalues(self):
        return self.model.predict(np.asarray(self._res.params))

    mu = fittedvalues

    def predict(self, exog=None, exposure=None, offset=None, which: str = "mean"):
        return self.model.predict(np.asarray(self._res.params), exog=exog, exposure=exposure,
                                  offset=offset, which=which)

    def to_onnx(self, path=None, offset: bool | None = None):
        """The prediction as an ONNX model (see :func:`glmkit.export_onnx.to_onnx`)."""
        from .export_onnx import to_onnx

        return to_onnx(self, path, offset)

    @property
    def bse(self):
        raise AttributeError("standard errors are not offered for penalized coefficients "
                             "(as glmnet); fit_regularized(..., refit=True) gives inference "
                             "for the selected columns (post-selection).")

    def __repr__(self) -> str:
        return (f"RegularizedResults(alpha={self.alpha!r}, L1_wt={self.L1_wt}, "
                f"nonzero={int(np.sum(self._res.params != 0))}, converged={self.converged})")


def refit_selected(model, params: np.ndarray, iterations: int | None = None,
                   converged: bool | None = None):
    """statsmodels' refit: the columns with non-zero ``params`` fitted without a penalty;
    a :class:`~glmkit.results.GLMResults` of the full model in which the other columns are
    left out: their params are 0 (statsmodels) and their standard errors NaN (they were not
    estimated; statsmodels reports 0). Columns aliased within the selection get NaN.

    As statsmodels' refit, ``fit_history`` is ``{'iteration': iterations}``, the penalized
    fit's count (when given)."""
    from .results import GLMResults

    keep = np.flatnonzero(np.asarray(params) != 0)
    if model._lazy:   # its rows are not in memory
        names = [model.exog_names[j] for j in keep]
        raise NotImplementedError(
            f"refit=True is not available for Dask models yet; the selected columns are "
            f"{names}: fit a model on those columns (its fit() gives full inference).")
    if keep.size == 0:
        raise ValueError("no column is selected at this penalty: nothing to refit.")
    d = model.data
    endog = d.y if d.n_trials is None else np.column_stack([d.y * d.n_trials,
                                                          (1 - d.y) * d.n_trials])
    X = model.problem.X
    sub_X = X.to_dense()[:, keep] if not hasattr(d.X, "__getitem__") or \
        not isinstance(d.X, np.ndarray) else d.X[:, keep]
    sub = type(model)(endog, sub_X, family=model.family, offset=d.offset, exposure=d.exposure,
              freq_weights=d.freq_weights, var_weights=d.var_weights)
    fit = sub.fit()
    r = fit._solver_result
    p = X.shape[1]
    b = np.zeros(p)
    b[keep] = np.asarray(r.params)
    aliased = np.ones(p, dtype=bool)
    aliased[keep] = np.asarray(r.aliased)
    b[keep[np.asarray(r.aliased)]] = np.nan
    history = {**r.history, "refit_of": keep.tolist()}
    if iterations is not None:
        history["regularized"] = {"iteration": int(iterations), "converged": converged}
    full = dataclasses.replace(r, params=b, aliased=aliased, history=history)
    return GLMResults(model, full, fit_warnings=fit.fit_warnings)


def _alpha_vector(alpha, k: int) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    if a.ndim == 0:
        a = np.full(k, float(a))
    if a.shape != (k,) or np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"alpha must be a non-negative number or {k} non-negative numbers "
                         f"(one per column), got {alpha!r}.")
    return a


def _check_common(L1_wt, maxiter, cnvrg_tol) -> None:
    if not (isinstance(L1_wt, (int, float, np.floating)) and 0.0 <= float(L1_wt) <= 1.0):
        raise ValueError(f"L1_wt must be in [0, 1], got {L1_wt!r}.")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}.")
    if not (np.isfinite(cnvrg_tol) and cnvrg_tol > 0):
        raise ValueError(f"cnvrg_tol must be a positive number, got {cnvrg_tol!r}.")


def _start_vector(start_params, k: int) -> np.ndarray | None:
    if start_params is None:
        return None
    start = np.asarray(start_params, dtype=float).ravel()
    if start.shape != (k,) or np.any(~np.isfinite(start)):
        raise ValueError(f"start_params must be {k} finite numbers.")
    return start


def _warn_not_converged(res: PenalizedResult, cnvrg_tol: float) -> None:
    import warnings

    from .exceptions import ConvergenceWarning

    warnings.warn(f"Regularized fitting did not converge: KKT violation {res.kkt:.3g} > "
                  f"{cnvrg_tol:g} after {res.n_sweeps} passes "
                  f"({'; '.join(res.messages) or 'iteration limit'}).",
                  ConvergenceWarning, stacklevel=4)


_ENET_KWDS = {"loglike_kwds", "score_kwds", "hess_kwds", "check_step"}


def fit_regularized(model, method: str = "elastic_net", alpha: Any = 0.0, L1_wt: float = 1.0,
                    start_params=None, refit: bool = False, maxiter: int | None = None,
                    cnvrg_tol: float = 1e-10, zero_tol: float = 1e-10,
                    opt_method: str | None = None, **kwargs: Any):
    """statsmodels' ``GLM.fit_regularized`` (:meth:`glmkit.GLM.fit_regularized`).

    ``method='elastic_net'`` (``'coord_descent'`` is a synonym): penalized IRLS to KKT
    ``cnvrg_tol``, at most ``maxiter`` steps (default 50; each solves one quadratic model, a
    pass over the rows); with ``L1_wt=0`` statsmodels' ridge shortcut
    (:func:`fit_ridge_results`). ``method='l1_slsqp'``: the lasso by SLSQP as statsmodels
    (:mod:`glmkit.regularized_l1`; ``maxiter`` SLSQP iterations, default 1000; keywords
    ``trim_mode``, ``auto_trim_tol``, ``size_trim_tol``, ``qc_tol``, ``qc_verbose``,
    ``acc``). Not converging is a ConvergenceWarning. ``refit=True``: the selected columns
    fitted without a penalty (:func:`refit_selected`; post-selection inference), whose
    ``fit_history`` is ``{'iteration': n}``, n the penalized fit's steps (statsmodels').
    Otherwise a :class:`RegularizedResults` (no standard errors).
    """
    if method not in ("elastic_net", "coord_descent", "l1_slsqp"):
        raise ValueError(f"method must be 'elastic_net' or 'l1_slsqp', got {method!r}.")
    if method == "l1_slsqp" and L1_wt != 1:
        raise ValueError("L1_wt must be 1 when method is 'l1_slsqp'.")
    from .regularized_l1 import L1_SLSQP_OPTIONS

    allowed_kw = set(L1_SLSQP_OPTIONS) if method == "l1_slsqp" else _ENET_KWDS
    unknown = sorted(set(kwargs) - allowed_kw - {"loglike_kwds", "score_kwds", "hess_kwds"})
    if unknown:
        raise TypeError(f"fit_regularized(method={method!r}) got unexpected keyword "
                        f"argument(s) {unknown}; it takes {sorted(allowed_kw)}.")
    if maxiter is None:
        maxiter = 1000 if method == "l1_slsqp" else 50
    _check_common(L1_wt, maxiter, cnvrg_tol)
    k = len(model.exog_names)
    a = _alpha_vector(alpha, k)
    start = _start_vector(start_params, k)
    if method == "l1_slsqp":
        return _fit_l1_slsqp(model, a, alpha, start, int(maxiter), refit,
                             {o: kwargs[o] for o in L1_SLSQP_OPTIONS if o in kwargs})
    if float(L1_wt) == 0.0:   # statsmodels' ridge shortcut
        return model._fit_ridge(alpha, start_params, opt_method, refit=refit,
                                maxiter=int(maxiter), cnvrg_tol=float(cnvrg_tol))
    sweeper = sweeper_for(model)
    n = float(sweeper.n_eff)
    inf = np.full(k, np.inf)
    pen = Penalty(a * L1_wt, a * (1.0 - L1_wt), -inf, inf)
    allowed = np.ones(k, dtype=bool)
    quad = is_quadratic(model.family)
    # maxiter caps the passes over the rows; each solves its quadratic model fully, so it
    # does at least what one of statsmodels' coordinate cycles does
    with one_blas_thread():   # small products: see glmkit.path.fit_path
        res = penalized_irls(sweeper, n, pen, start, allowed, tol=float(cnvrg_tol),
                             maxiter=int(maxiter), quadratic=quad)
        if start is not None and not np.isfinite(res.objective):   # invalid start: R's
            res = penalized_irls(sweeper, n, pen, None, allowed, tol=float(cnvrg_tol),
                                 maxiter=int(maxiter), quadratic=quad)
    params = np.where(np.abs(res.params) < zero_tol, 0.0, res.params)
    res = dataclasses.replace(res, params=params)
    if not res.converged:
        _warn_not_converged(res, cnvrg_tol)
    if refit:
        return refit_selected(model, params, iterations=res.n_steps, converged=res.converged)
    return RegularizedResults(model, res, alpha=alpha, L1_wt=L1_wt, penalty=pen, n=n,
                              method="elastic_net")


def fit_ridge_results(model, alpha, start_params=None, refit: bool = False,
                      maxiter: int = 100, cnvrg_tol: float = 1e-10):
    """statsmodels' ``GLM._fit_ridge`` (``fit_regularized(L1_wt=0)``): the root of
    score(b; scale=1) / (N scale(b)) = alpha b, solved exactly (see
    :mod:`glmkit.regularized_ridge`; statsmodels' scipy optimizer is not needed). A
    :class:`RegularizedResults` with ``ridge_scale``, the scale at the answer."""
    from .regularized_ridge import fit_ridge

    k = len(model.exog_names)
    a = _alpha_vector(alpha, k)
    res, pen, n, scale = fit_ridge(model, a, _start_vector(start_params, k), tol=cnvrg_tol,
                                   maxiter=maxiter)
    if not res.converged:
        _warn_not_converged(res, cnvrg_tol)
    if refit:
        return refit_selected(model, res.params, iterations=res.n_steps,
                              converged=res.converged)
    out = RegularizedResults(model, res, alpha=alpha, L1_wt=0.0, penalty=pen, n=n,
                             method="elastic_net")
    out.ridge_scale = scale
    return out


def _fit_l1_slsqp(model, a: np.ndarray, alpha, start, maxiter: int, refit: bool,
                  options: dict):
    import warnings

    from .exceptions import ConvergenceWarning
    from .regularized_l1 import fit_l1_slsqp

    sweeper = sweeper_for(model)
    n = float(sweeper.n_eff)
    b, its, converged = fit_l1_slsqp(model, a, n, start, maxiter, **options)
    if not converged:
        warnings.warn(f"Regularized fitting did not converge (SLSQP, {its} iterations; "
                      "raise maxiter or use method='elastic_net').", ConvergenceWarning,
                      stacklevel=3)
    if refit:
        return refit_selected(model, b, iterations=its, converged=converged)
    with one_blas_thread():
        dev = float(sweeper.at(b).deviance)
    res = PenalizedResult(params=b, deviance=dev,
                          objective=dev / (2 * n) + float(np.sum(a * np.abs(b))),
                          converged=converged, kkt=float("nan"), n_sweeps=its,
                          messages=[] if converged else ["SLSQP iteration limit"])
    inf = np.full(a.shape[0], np.inf)
    return RegularizedResults(model, res, alpha=alpha, L1_wt=1.0,
                              penalty=Penalty(a, np.zeros_like(a), -inf, inf), n=n,
                              method="l1_slsqp")


def fit_elasticnet(model, method: str = "coord_descent", maxiter: int = 100, alpha: Any = 0.0,
                   L1_wt: float = 1.0, start_params=None, cnvrg_tol: float = 1e-7,
                   zero_tol: float = 1e-8, refit: bool = False, check_step: bool = True,
                   loglike_kwds=None, score_kwds=None, hess_kwds=None, **l1_options: Any):
    """statsmodels' ``statsmodels.base.elastic_net.fit_elasticnet`` for glmkit models.

    ``method``: 'coord_descent' and 'elastic_net' are synonyms (glmkit's penalized IRLS,
    also for ``L1_wt=0``: no ridge shortcut here, as statsmodels); 'l1_slsqp' the lasso by
    SLSQP. The defaults are statsmodels' (``maxiter=100``, ``cnvrg_tol=1e-7``). The
    log-likelihood is at scale 1 (what ``GLM.fit_regularized`` passes).
    """
    if method not in ("coord_descent", "elastic_net", "l1_slsqp"):
        raise ValueError(f"method must be 'coord_descent', 'elastic_net' or 'l1_slsqp', "
                         f"got {method!r}.")
    if method == "l1_slsqp":
        return fit_regularized(model, "l1_slsqp", alpha, L1_wt, start_params, refit,
                               maxiter, **l1_options)
    if l1_options:
        raise TypeError(f"fit_elasticnet(method={method!r}) got unexpected keyword "
                        f"argument(s) {sorted(l1_options)}.")
    _check_common(L1_wt, maxiter, cnvrg_tol)
    if float(L1_wt) == 0.0:   # coordinate descent's answer: the scale-1 ridge optimum
        L1_wt = 0.0
    k = len(model.exog_names)
    a = _alpha_vector(alpha, k)
    sweeper = sweeper_for(model)
    n = float(sweeper.n_eff)
    inf = np.full(k, np.inf)
    pen = Penalty(a * L1_wt, a * (1.0 - L1_wt), -inf, inf)
    with one_blas_thread():
        res = penalized_irls(sweeper, n, pen, _start_vector(start_params, k),
                             np.ones(k, dtype=bool), tol=float(cnvrg_tol), maxiter=int(maxiter),
                             quadratic=is_quadratic(model.family))
    params = np.where(np.abs(res.params) < zero_tol, 0.0, res.params)
    res = dataclasses.replace(res, params=params)
    if refit:
        return refit_selected(model, params, iterations=res.n_steps, converged=res.converged)
    return RegularizedResults(model, res, alpha=alpha, L1_wt=L1_wt, penalty=pen, n=n,
                              method=method)


#: statsmodels' name for the class ``fit_regularized`` returns (glmkit has no wrappers: the
#: results label their outputs themselves)
RegularizedResultsWrapper = RegularizedResults
