"""scipy's optimizers on the GLM log-likelihood: statsmodels' ``fit(method='bfgs' | 'cg' |
'nm' | 'powell' | 'ncg' | 'basinhopping')``.

As statsmodels does, the optimizer maximises the log-likelihood with the scale held fixed
(the coefficients do not depend on it), from a few IRLS iterations (``max_start_irls``)
unless ``start_params`` are given. The optimizer is told only what it reports: a result
is ``converged`` when scipy says it succeeded.

Conventions
-----------
The objective is deviance / (2 s), which differs from -llf / s by a constant (s: the
Pearson scale at the starting point for families with a dispersion, else 1), in the
coordinates z = L' (b - b0), L L' = X'WX at the start b0. There the Hessian is close to
the identity, so the optimizers' tolerances (``gtol``, ``xtol``) are in standard errors
and the same for every model; this changes the path, not the maximum. The default gradient
tolerance is 1e-8, or the floor set by the rounding of the objective when that is larger
(about sqrt(2 eps f): 3e-7 for n = 200 rows); the convergence certificate of
:func:`glmkit.solvers.solve` judges the result at the maximum.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import linalg, optimize

from ..problem import GLMProblem
from ._linalg import diagonal_positions, find_aliased
from .base import SolverOptions, SolverResult, frozen
from .irls import _working, irls

__all__ = ["SCIPY_METHODS", "OPTIMIZER_OPTIONS", "OptimizerSettings", "scipy_fit",
           "evaluate_at"]

#: statsmodels' method names and scipy's.
SCIPY_METHODS = {"bfgs": "BFGS", "cg": "CG", "nm": "Nelder-Mead", "powell": "Powell",
                 "ncg": "Newton-CG", "basinhopping": "basinhopping"}

#: The optimizer options each method takes (statsmodels' names, passed on to scipy).
OPTIMIZER_OPTIONS: dict[str, tuple[str, ...]] = {
    "bfgs": ("gtol", "norm"),
    "cg": ("gtol", "norm"),
    "nm": ("xtol", "ftol", "maxfun"),
    "powell": ("xtol", "ftol", "maxfun"),
    "ncg": ("avextol",),
    "basinhopping": ("niter", "T", "stepsize", "niter_success", "seed"),
}

#: Default tolerances, in standard errors (see the module's Conventions).
_GTOL = 1e-8
_XTOL = 1e-8


def _gradient_floor(f0: float) -> float:
    """The smallest gradient (in standard errors) a line search can confirm: near the
    maximum f falls by |g|^2 / 2, which must exceed the rounding of f, eps |f|."""
    return float(np.sqrt(2.0 * np.finfo(float).eps * max(abs(f0), 1.0)))


@dataclass(frozen=True)
class OptimizerSettings:
    """What a scipy fit needs beyond :class:`SolverOptions` (statsmodels' fit keywords).

    method : one of :data:`SCIPY_METHODS`.
    max_start_irls : IRLS iterations for the start when no start_params are given.
    optim_hessian : 'oim' (observed, statsmodels' default) or 'eim' (expected) Hessian for
        the methods that use one ('ncg').
    callback : called with the full coefficient vector after each optimizer iteration.
    retall : keep every iterate in ``mle_retvals['allvecs']`` (statsmodels' name).
    disp : print scipy's convergence message.
    options : the method's options from :data:`OPTIMIZER_OPTIONS`.
    """

    method: str
    max_start_irls: int = 3
    optim_hessian: Literal["oim", "eim"] = "oim"
    callback: Callable[[np.ndarray], Any] | None = None
    retall: bool = False
    disp: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


def _kept_columns(problem: GLMProblem) -> np.ndarray:
    """Columns that are not linear combinations of earlier ones (rows with weight)."""
    X = problem.X
    w = (problem.total_weights > 0).astype(float)
    return ~find_aliased(X.sandwich(w), diag=diagonal_positions(X.diagonal_columns()))


def _start(problem: GLMProblem, start, options: SolverOptions, max_start_irls: int):
    """Starting coefficients (full length, 0 for aliased columns), kept mask, warm history."""
    if start is None and max_start_irls > 0:
        warm = irls(problem, None, replace(options, maxiter=max_start_irls))
        keep = ~np.asarray(warm.aliased)
        b0 = np.where(keep, np.nan_to_num(np.asarray(warm.params)), 0.0)
        return b0, keep, list(warm.history.get("deviance", [])), int(warm.n_iter)
    keep = _kept_columns(problem)
    if start is not None:
        return np.where(keep, start, 0.0), keep, [], 0
    b0 = np.zeros(problem.X.shape[1])   # statsmodels' start without IRLS
    eta = problem.X.matvec(b0) + problem.offset
    mu = problem.family.link.inverse(eta)
    if problem.is_valid(eta, mu) and np.isfinite(problem.deviance(mu)):
        return b0, keep, [], 0
    # zeros give invalid means (e.g. an inverse link): one IRLS iteration from R's start
    return _start(problem, None, options, 1)


class _Objective:
    """deviance / (2 s) and its derivatives in the whitened coordinates z."""

    def __init__(self, problem: GLMProblem, b0: np.ndarray, keep: np.ndarray,
                 optim_hessian: str):
        self.problem, self.b0, self.keep = problem, b0, keep
        self.observed = optim_hessian == "oim"
        X, link = problem.X, problem.family.link
        eta = X.matvec(b0) + problem.offset
        mu = link.inverse(eta)
        if not problem.is_valid(eta, mu) or not np.isfinite(problem.deviance(mu)):
            raise ValueError("the starting coefficients give means outside the family's "
                             "range; pass valid start_params or max_start_irls > 0.")
        w, _, _ = _working(problem, eta, mu, observed=False)
        fam = problem.family
        s = 1.0
        if fam.has_free_scale:
            tw = problem.total_weights
            df = float(np.sum(problem.freq_weights[problem.prior_weights > 0])) - keep.sum()
            chi2 = float(np.sum(tw * np.square(problem.y - mu) / fam.variance(mu)))
            if df > 0 and np.isfinite(chi2) and chi2 > 0:
                s = chi2 / df
        self.s = s
        G = X.sandwich(w)[np.ix_(keep, keep)] / s
        try:
            self.L = linalg.cholesky(G, lower=True)
        except linalg.LinAlgError:
            d = np.sqrt(np.maximum(np.diag(G), 1e-300))
            self.L = np.diag(d)

    def params(self, z: np.ndarray) -> np.ndarray:
        b = self.b0.copy()
        b[self.keep] += linalg.solve_triangular(self.L, z, lower=True, trans="T")
        return b

    def _state(self, z):
        b = self.params(z)
        eta = self.problem.X.matvec(b) + self.problem.offset
        return b, eta, self.problem.family.link.inverse(eta)

    def fun_grad(self, z):
        _, eta, mu = self._state(z)
        dev = self.problem.deviance(mu)
        if not (np.isfinite(dev) and self.problem.is_valid(eta, mu)):
            return np.inf, np.zeros_like(z)
        _, _, u = _working(self.problem, eta, mu, observed=False)
        g = -self.problem.X.rmatvec(u)[self.keep] / self.s
        return 0.5 * dev / self.s, linalg.solve_triangular(self.L, g, lower=True)

    def fun(self, z):
        return self.fun_grad(z)[0]

    def grad(self, z):
        return self.fun_grad(z)[1]

    def hess(self, z):
        _, eta, mu = self._state(z)
        w, w_obs, _ = _working(self.problem, eta, mu, observed=self.observed)
        H = self.problem.X.sandwich(w_obs if self.observed else w)[np.ix_(self.keep, self.keep)]
        A = linalg.solve_triangular(self.L, H / self.s, lower=True)
        return linalg.solve_triangular(self.L, A.T, lower=True).T


def _minimize(obj: _Objective, settings: OptimizerSettings, maxiter: int,
              allvecs: list[np.ndarray]):
    k = int(obj.keep.sum())
    z0 = np.zeros(k)
    gtol = max(_GTOL, _gradient_floor(obj.fun(z0)))
    user_cb = settings.callback
    cb = None
    if user_cb is not None or settings.retall:
        def cb(zk, *_):
            b = obj.params(np.asarray(zk))
            if settings.retall:
                allvecs.append(b)
            return None if user_cb is None else user_cb(b)
    opts = dict(settings.options)
    method = settings.method
    if method == "basinhopping":
        niter = int(opts.pop("niter", maxiter))
        return optimize.basinhopping(
            obj.fun_grad, z0, niter=niter, callback=cb, disp=settings.disp,
            minimizer_kwargs={"method": "L-BFGS-B", "jac": True,
                              "options": {"gtol": gtol, "ftol": 1e-15}},
            seed=opts.pop("seed", 0), **opts)
    scipy_name = SCIPY_METHODS[method]
    o: dict[str, Any] = {"maxiter": maxiter, "disp": settings.disp}
    if method in ("bfgs", "cg"):
        o["gtol"] = opts.get("gtol", gtol)
        o["norm"] = opts.get("norm", np.inf)
        return optimize.minimize(obj.fun_grad, z0, jac=True, method=scipy_name,
                                 callback=cb, options=o)
    if method == "ncg":
        o["xtol"] = opts.get("avextol", _XTOL)
        return optimize.minimize(obj.fun_grad, z0, jac=True, hess=obj.hess,
                                 method=scipy_name, callback=cb, options=o)
    # derivative-free: Nelder-Mead and Powell
    if "maxfun" in opts:
        o["maxfev"] = opts["maxfun"]
    if method == "nm":
        o["xatol"] = opts.get("xtol", _XTOL)
        o["fatol"] = opts.get("ftol", 1e-14)
        o["initial_simplex"] = np.vstack([z0, np.eye(k)])   # one standard error per axis
    else:
        o["xtol"] = opts.get("xtol", _XTOL)
        o["ftol"] = opts.get("ftol", 1e-14)
    return optimize.minimize(obj.fun, z0, method=scipy_name, callback=cb, options=o)


def scipy_fit(problem: GLMProblem, start: np.ndarray | None, options: SolverOptions,
              settings: OptimizerSettings) -> SolverResult:
    """Fit with scipy's optimizer ``settings.method``; the covariance Gram is X'WX at the
    solution (expected information, as every glmkit fit)."""
    b0, keep, warm_dev, warm_iter = _start(problem, start, options, settings.max_start_irls)
    obj = _Objective(problem, b0, keep, settings.optim_hessian)
    allvecs: list[np.ndarray] = [b0.copy()] if settings.retall else []
    res = _minimize(obj, settings, options.maxiter, allvecs)
    if settings.method == "basinhopping":
        success = bool(res.lowest_optimization_result.success)
    else:
        success = bool(res.success)
    beta = obj.params(np.asarray(res.x, dtype=float))
    out = _result_at(problem, beta, keep, converged=success, method=settings.method,
                     n_iter=warm_iter + int(getattr(res, "nit", 0)))
    out.history["deviance"] = [*warm_dev, out.deviance]
    out.history["max_start_irls_iterations"] = warm_iter
    out.history["mle_retvals"] = {
        "fopt": float(res.fun) * obj.s, "iterations": int(getattr(res, "nit", 0)),
        "converged": success, "message": str(res.message),
        "fcalls": int(getattr(res, "nfev", 0)), "gcalls": int(getattr(res, "njev", 0)),
    }
    if settings.retall:
        # plain lists: the history is saved as JSON (results.mle_retvals gives arrays)
        out.history["mle_retvals"]["allvecs"] = [v.tolist() for v in allvecs]
    if not success:
        why = str(res.message).rstrip(".")
        out = replace(out, messages=(f"scipy {SCIPY_METHODS[settings.method]}: {why}",))
    return out


def _result_at(problem: GLMProblem, beta: np.ndarray, keep: np.ndarray, converged: bool,
               method: str, n_iter: int) -> SolverResult:
    X = problem.X
    eta = X.matvec(np.where(keep, beta, 0.0)) + problem.offset
    mu = problem.family.link.inverse(eta)
    w, _, _ = _working(problem, eta, mu, observed=False)
    gram = X.sandwich(w)[np.ix_(keep, keep)]
    params = np.where(keep, beta, np.nan)
    return SolverResult(
        params=frozen(params), aliased=frozen(~keep), eta=frozen(eta), mu=frozen(mu),
        working_weights=frozen(w), gram=frozen(gram), deviance=float(problem.deviance(mu)),
        n_iter=n_iter, converged=converged, method=method, history={})


def evaluate_at(problem: GLMProblem, params: np.ndarray) -> SolverResult:
    """The state at given coefficients without iterating (statsmodels' ``maxiter=0``).

    ``converged`` is False: nothing was maximised. Raises ValueError when the means at
    ``params`` are outside the family's range.
    """
    keep = _kept_columns(problem)
    beta = np.where(keep, np.asarray(params, dtype=float), 0.0)
    eta = problem.X.matvec(beta) + problem.offset
    mu = problem.family.link.inverse(eta)
    if not problem.is_valid(eta, mu):
        raise ValueError("start_params give means outside the family's range.")
    out = _result_at(problem, beta, keep, converged=False, method="IRLS", n_iter=0)
    out.history.update({"deviance": [out.deviance], "evaluated_only": True})
    return out
