"""Quasi-Newton fit (scipy's L-BFGS-B) on the deviance, started by a few IRLS passes."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import optimize

from ..problem import GLMProblem
from .base import SolverOptions, SolverResult, frozen
from .irls import _working, irls


def lbfgs(problem: GLMProblem, start: np.ndarray | None = None,
          options: SolverOptions = SolverOptions(), start_irls: int = 3) -> SolverResult:
    """Minimise deviance / 2 over the non-aliased coefficients.

    The covariance Gram is X'WX at the solution (one extra pass).
    """
    X, link = problem.X, problem.family.link
    warm = irls(problem, start, replace(options, maxiter=max(1, start_irls)))
    keep = ~warm.aliased
    x0 = np.nan_to_num(np.asarray(warm.params)[keep]) if np.all(np.isfinite(warm.params[keep])) \
        else np.zeros(int(keep.sum()))
    p = X.shape[1]
    dev0 = max(abs(warm.deviance), 1.0)

    def full(b):
        beta = np.zeros(p)
        beta[keep] = b
        return beta

    def fun(b):
        beta = full(b)
        eta = X.matvec(beta) + problem.offset
        mu = link.inverse(eta)
        dev = problem.deviance(mu)
        if not (np.isfinite(dev) and problem.is_valid(eta, mu)):
            return np.inf, np.zeros_like(b)
        _, _, u = _working(problem, eta, mu, observed=False)
        return 0.5 * dev / dev0, -X.rmatvec(u)[keep] / dev0

    res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                            options={"maxiter": options.maxiter, "gtol": 1e-10,
                                     "ftol": options.tol * 1e-4})
    beta = full(res.x)
    eta = X.matvec(beta) + problem.offset
    mu = link.inverse(eta)
    w, _, _ = _working(problem, eta, mu, observed=False)
    gram = X.sandwich(w)[np.ix_(keep, keep)]
    params = beta.copy()
    params[~keep] = np.nan
    return SolverResult(
        params=frozen(params), aliased=frozen(~keep), eta=frozen(eta), mu=frozen(mu),
        working_weights=frozen(w), gram=frozen(gram), deviance=float(problem.deviance(mu)),
        n_iter=warm.n_iter + int(res.nit), converged=bool(res.success), method="lbfgs",
        history={"deviance": list(warm.history["deviance"]) + [float(problem.deviance(mu))],
                 "optimizer_message": str(res.message)},
        messages=() if res.success else (f"L-BFGS-B: {res.message}",),
    )
