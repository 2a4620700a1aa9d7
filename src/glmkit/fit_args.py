"""GLM.fit's arguments, checked once at the public boundary.

statsmodels' keywords are accepted with statsmodels' meaning and mapped onto glmkit's
explicit choices; anything else is a ``TypeError`` that names the keyword, before any
fitting work.

Conventions
-----------
- ``atol`` / ``rtol`` (statsmodels' IRLS stopping rule |c - c_old| <= atol + rtol |c_old|
  on the deviance, or on the coefficients with ``tol_criterion='params'``) can only
  tighten glmkit's relative tolerance: it becomes the smallest of ``tol`` and the positive
  ``atol``, ``rtol``. With the deviance rule glmkit then still takes the coefficients to
  within 1e-8 standard errors of the maximum (README, Conventions); a looser statsmodels
  tolerance is not followed, since it would leave the fit short of the maximum.
- ``wls_method`` ('lstsq', 'pinv', 'qr') is recorded in ``mle_settings``: glmkit solves
  every weighted least-squares step with one Cholesky factor of X'WX and gives aliased
  columns NaN, so the three give the same coefficients. ``attach_wls=True`` (IRLS only)
  keeps IRLS's weighted least-squares problem at the estimates as ``results.results_wls``,
  solved by ``wls_method`` (:mod:`glmkit.wls_step`).
- ``cov_type='eim'`` is the expected-information covariance, glmkit's (and R's)
  ``'nonrobust'`` for every method; ``'oim'`` uses the observed information.
- ``cov_type='hac'`` (rows in time order) takes statsmodels' ``maxlags`` (required),
  ``kernel`` ('bartlett', the default, or 'uniform') and ``use_correction`` (n / (n - k));
  see :func:`glmkit.inference.robust_cov`.
- ``maxiter=0`` with ``start_params`` evaluates the model there without iterating.
- ``scaletype=`` is ignored with a :class:`SpecificationWarning` (statsmodels' IRLS fit
  ignores it without a word); the scale is ``fit(scale=...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import warnings

import numpy as np

from .exceptions import SpecificationWarning
from .solvers import OptimizerSettings, SolverOptions
from .solvers.scipy_opt import OPTIMIZER_OPTIONS, SCIPY_METHODS

__all__ = ["FitSpec", "check_fit_args", "check_cov", "check_scale", "COV_TYPES"]

METHODS = {"irls": "IRLS", "newton": "newton", "lbfgs": "lbfgs", "firth": "firth",
           **{m: m for m in SCIPY_METHODS}}
COV_TYPES = ("nonrobust", "eim", "oim", "HC0", "HC1", "HC2", "HC3", "cluster", "hac")
#: cov_kwds each robust type takes (statsmodels' names).
COV_KWDS = {"cluster": ("groups", "use_correction", "df_correction"),
            "hac": ("maxlags", "kernel", "use_correction")}
HAC_KERNELS = ("bartlett", "uniform")
WLS_METHODS = ("lstsq", "pinv", "qr")
#: statsmodels' fit keywords for IRLS fits, and for fits by an optimizer.
_IRLS_KEYS = ("atol", "rtol", "tol_criterion", "wls_method", "attach_wls")
_COMMON_KEYS = ("full_output", "disp", "max_start_irls")
_OPTIM_KEYS = ("optim_hessian", "callback", "retall", "skip_hessian")


@dataclass(frozen=True)
class FitSpec:
    """Checked fit arguments: what the solver, the results and ``mle_settings`` read."""

    options: SolverOptions
    method: str
    start: np.ndarray | None
    scale: float | str | None
    cov_type: str
    cov_kwds: dict
    use_t: bool | None
    optimizer: OptimizerSettings | None
    evaluate_only: bool
    mle_settings: dict = field(default_factory=dict)


def check_scale(scale) -> float | str | None:
    """None, 'X2' or 'dev' (any case, as statsmodels), or a positive finite float."""
    if scale is None:
        return None
    if isinstance(scale, str):
        low = scale.lower()
        if low in ("x2", "dev"):
            return "X2" if low == "x2" else "dev"
    elif isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool):
        if np.isfinite(scale) and scale > 0:
            return float(scale)
    raise ValueError(f"scale must be None, 'X2', 'dev' or a positive number, got {scale!r}.")


def check_cov(cov_type, cov_kwds) -> tuple[str, dict]:
    """Normalised (cov_type, cov_kwds); 'eim' becomes 'nonrobust' (the same covariance)."""
    if not isinstance(cov_type, str):
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    name = cov_type.upper() if cov_type.upper() in ("HC0", "HC1", "HC2", "HC3") \
        else cov_type.lower()
    if name not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    kwds = dict(cov_kwds or {})
    if kwds and name in ("nonrobust", "eim", "oim"):
        raise ValueError("cov_kwds is only used with robust covariance types.")
    allowed = COV_KWDS.get(name, ())
    unknown = sorted(set(kwds) - set(allowed))
    if unknown:
        takes = f"takes {list(allowed)}" if allowed else "takes no cov_kwds"
        raise TypeError(f"unknown cov_kwds {unknown} for cov_type={cov_type!r}, which {takes}.")
    if name == "cluster" and "groups" not in kwds:
        raise ValueError("cov_type='cluster' needs cov_kwds={'groups': labels}.")
    for key in ("use_correction", "df_correction"):
        if key in kwds and kwds[key] not in (True, False):
            raise ValueError(f"cov_kwds[{key!r}] must be True or False, got {kwds[key]!r}.")
    if name == "hac":
        if "maxlags" not in kwds:
            raise ValueError("cov_type='hac' needs cov_kwds={'maxlags': number of lags}.")
        kwds["maxlags"] = _positive_int("cov_kwds['maxlags']", kwds["maxlags"], 0)
        kernel = kwds.setdefault("kernel", "bartlett")
        if kernel not in HAC_KERNELS:
            raise ValueError(f"cov_kwds['kernel'] must be one of {HAC_KERNELS}, got {kernel!r}.")
    return ("nonrobust" if name == "eim" else name), kwds


def _positive_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum > 0 else "a non-negative integer"
        raise ValueError(f"{name} must be {kind}, got {value!r}.")
    return int(value)


def _tolerance(tol, kwargs) -> float:
    if isinstance(tol, bool) or not (isinstance(tol, (int, float)) and np.isfinite(tol)
                                     and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")
    given = []
    for key in ("atol", "rtol"):
        if key in kwargs:
            v = kwargs[key]
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and np.isfinite(v)
                                           and v >= 0):
                raise ValueError(f"{key} must be a non-negative number, got {v!r}.")
            given.append(float(v))
    # atol / rtol only tighten the rule: a looser one would stop short of the maximum
    # under tol_criterion='params', where glmkit does not refine the last steps
    return float(min([float(tol), *(v for v in given if v > 0)]))


def _optimizer(method: str, kwargs: dict, max_start_irls: int) -> OptimizerSettings | None:
    hess = kwargs.get("optim_hessian", "oim")
    if hess not in ("oim", "eim"):
        raise ValueError(f"optim_hessian must be 'oim' or 'eim', got {hess!r}.")
    cb = kwargs.get("callback")
    if cb is not None and not callable(cb):
        raise TypeError("callback must be callable (it is called with the coefficients).")
    if method not in SCIPY_METHODS:
        return None
    opts = {k: kwargs[k] for k in OPTIMIZER_OPTIONS[method] if k in kwargs}
    return OptimizerSettings(method=method, max_start_irls=max_start_irls,
                             optim_hessian=hess, callback=cb,
                             retall=bool(kwargs.get("retall", False)),
                             disp=bool(kwargs.get("disp", False)), options=opts)


def _check_keywords(method: str, kwargs: dict) -> None:
    allowed = set(_COMMON_KEYS) | set(_IRLS_KEYS) | set(_OPTIM_KEYS)
    allowed |= set(OPTIMIZER_OPTIONS.get(method, ()))
    unknown = sorted(set(kwargs) - allowed - {"scaletype"})
    if unknown:
        raise TypeError(f"fit() got unexpected keyword argument(s) {unknown}; "
                        f"with method={method!r} it takes {sorted(allowed)}.")
    if "scaletype" in kwargs:
        # statsmodels' IRLS fit ignores it silently; glmkit ignores it too, and says so
        warnings.warn(f"fit(scaletype={kwargs['scaletype']!r}) has no effect, as in "
                      "statsmodels: the scale is chosen with fit(scale=...).",
                      SpecificationWarning, stacklevel=4)
    if kwargs.get("attach_wls") and method != "IRLS":
        raise ValueError(f"attach_wls=True keeps IRLS's weighted least-squares problem; "
                         f"method={method!r} does not solve one. Use method='IRLS'.")
    wls = kwargs.get("wls_method", "lstsq")
    if wls not in WLS_METHODS:
        raise ValueError(f"wls_method must be one of {WLS_METHODS}, got {wls!r}.")
    crit = kwargs.get("tol_criterion", "deviance")
    if crit not in ("deviance", "params"):
        raise ValueError(f"tol_criterion must be 'deviance' or 'params', got {crit!r}.")


def check_fit_args(model, start_params, maxiter, method, tol, scale, cov_type, cov_kwds,
                   use_t, kwargs: dict[str, Any]) -> FitSpec:
    """Every fit() argument checked and normalised, before any fitting work."""
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(f"method must be one of {sorted(set(METHODS.values()))}, "
                         f"got {method!r}.")
    name = METHODS[method.lower()]
    if name == "firth" and model.family.has_free_scale:
        from .solvers.firth_dispersion import supported

        if not supported(model.family):
            raise ValueError("method='firth' (bias reduction, brglm2's AS_mean) is available "
                             "for Binomial, Poisson, NegativeBinomial, Gaussian, Gamma and "
                             f"InverseGaussian; the family is {model.family.name}.")
    _check_keywords(name, kwargs)
    maxiter = _positive_int("maxiter", maxiter, 0)
    max_start_irls = _positive_int("max_start_irls", kwargs.get("max_start_irls", 3), 0)
    rel_tol = _tolerance(tol, kwargs)
    scale = check_scale(scale)
    cov_name, kwds = check_cov(cov_type, cov_kwds)
    if use_t not in (None, True, False):
        raise ValueError(f"use_t must be None, True or False, got {use_t!r}.")
    start = None
    if start_params is not None:
        start = np.array(start_params, dtype=float).ravel()
        k = model.data.X.shape[1]
        if start.shape != (k,) or not np.all(np.isfinite(start)):
            raise ValueError(f"start_params must be {k} finite numbers, got {start_params!r}.")
    if maxiter == 0 and start is None:
        raise ValueError("maxiter=0 evaluates the model at start_params without fitting; "
                         "pass start_params.")
    crit = kwargs.get("tol_criterion", "deviance")
    options = SolverOptions(maxiter=max(int(maxiter), 1), tol=rel_tol, tol_criterion=crit)
    settings = {"optimizer": name, "wls_method": kwargs.get("wls_method", "lstsq"),
                "tol": rel_tol, "tol_criterion": crit, "maxiter": int(maxiter)}
    if kwargs.get("attach_wls"):
        settings["attach_wls"] = True
    if name not in ("IRLS", "newton"):
        settings["max_start_irls"] = max_start_irls
        settings["optim_hessian"] = kwargs.get("optim_hessian", "oim")
    return FitSpec(options=options, method=name, start=start, scale=scale,
                   cov_type=cov_name, cov_kwds=kwds, use_t=use_t,
                   optimizer=_optimizer(name, kwargs, max_start_irls),
                   evaluate_only=maxiter == 0, mle_settings=settings)
