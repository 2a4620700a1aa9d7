"""Iteratively reweighted least squares, the way R's glm.fit does it, plus Newton.

Each iteration is one pass of sums over rows: X'WX, X'W r and, after the update, X @ beta
and the deviance. Updates are solved as increments (beta += G^{-1} X'W r), so the
solution's accuracy is set by the score, not by the conditioning of X'WX.

When Fisher scoring crawls (successive deviance decreases shrinking by less than half),
the remaining iterations take Newton steps with the observed information where it is
positive definite; the covariance still uses the expected information, as R's does.

Step-halving (as R's glm.fit, and glm2 for a rising deviance): when the new deviance is
not finite, the mean or linear predictor leaves the family's range, or the deviance rises,
the step is halved up to ``max_halvings`` times.
"""
from __future__ import annotations

import numpy as np

from ..problem import GLMProblem
from ._linalg import find_aliased, try_factor
from .base import SolverOptions, SolverResult, frozen


def _working(problem: GLMProblem, eta, mu, observed: bool):
    """Working weights w and score weights u (X'u is the score) at (eta, mu)."""
    fam, link = problem.family, problem.family.link
    tw = problem.total_weights
    mu_eta = link.inverse_deriv(eta)
    var = fam.variance(mu)
    resid = problem.y - mu
    w = tw * mu_eta**2 / var
    u = tw * mu_eta * resid / var
    if observed:
        d2 = link.inverse_deriv2(eta)
        w_obs = w - tw * resid * (d2 / var - mu_eta**2 * fam.variance.deriv(mu) / var**2)
        return w, w_obs, u
    return w, None, u


def _converged(options: SolverOptions, dev, dev_old, beta, beta_old) -> bool:
    if options.tol_criterion == "params":
        if beta_old is None:
            return False
        return bool(np.all(np.abs(beta - beta_old) <= options.tol * (np.abs(beta) + 1e-8)))
    return abs(dev - dev_old) / (abs(dev) + 0.1) < options.tol


def _step_in_se(problem: GLMProblem, step, gram_diag, dev, n_eff) -> float:
    """Largest |step_j| in units of a marginal standard error sqrt(scale / G_jj)."""
    scale = max(dev / max(n_eff, 1.0), 1e-300) if problem.family.has_free_scale else 1.0
    return float(np.max(np.abs(step) * np.sqrt(np.maximum(gram_diag, 0.0) / scale), initial=0.0))


def _is_slow(devs: list[float]) -> bool:
    """Whether the last deviance decreases shrink by less than half per pass."""
    if len(devs) < 5:
        return False
    d1, d2 = devs[-3] - devs[-2], devs[-2] - devs[-1]
    return d1 > 0 and d2 > 0.5 * d1


def _null_coefficients(problem: GLMProblem, keep: np.ndarray):
    """Coefficients of the intercept-only fit g(weighted mean of y), if X has a constant
    column and that point is inside the family's range; else None."""
    X = problem.X
    const = np.flatnonzero(X.column_is_constant() & keep)
    if const.size == 0:
        return None
    tw = problem.total_weights
    link = problem.family.link
    j = const[0]
    beta = np.zeros(X.shape[1])
    x0 = X.matvec(np.eye(X.shape[1])[j])[0]
    beta[j] = float(link(np.array([np.sum(tw * problem.y) / np.sum(tw)]))[0]) / x0
    eta = X.matvec(beta) + problem.offset
    mu = link.inverse(eta)
    return beta if np.isfinite(problem.deviance(mu)) and problem.is_valid(eta, mu) else None


def irls(problem: GLMProblem, start: np.ndarray | None = None,
         options: SolverOptions = SolverOptions(), hessian: str = "expected") -> SolverResult:
    """Fit by Fisher scoring (``hessian='expected'``) or Newton (``'observed'``).

    ``start`` is a full p-vector of coefficients; without it IRLS starts from the
    family's starting means, as R does.
    """
    X, link = problem.X, problem.family.link
    p = X.shape[1]
    observed = hessian == "observed"
    messages: list[str] = []

    if start is None:
        mu = problem.family.starting_mu(problem.y, problem.prior_weights)
        eta = link(mu)
        beta = None
    else:
        beta = np.asarray(start, dtype=float).copy()
        eta = X.matvec(beta) + problem.offset
        mu = link.inverse(eta)
    dev = problem.deviance(mu)
    history = {"deviance": [dev], "step_halvings": []}
    keep = None
    converged = False
    n_eff = float(np.sum(problem.freq_weights[problem.prior_weights > 0]))
    refine_left = options.refine_iter
    gram = np.zeros((0, 0))
    w = np.zeros_like(mu)
    n_iter = 0
    for n_iter in range(1, options.maxiter + 1):
        if not observed and _is_slow(history["deviance"]):
            observed = True   # Fisher scoring crawls: take Newton steps from here on
            history["switched_to_newton_at"] = n_iter
        w, w_obs, u = _working(problem, eta, mu, observed)
        G = X.sandwich(w)
        if keep is None:
            keep = ~find_aliased(G)
        Gk = G[np.ix_(keep, keep)]
        H = Gk
        if observed and beta is not None:
            Go = X.sandwich(w_obs)[np.ix_(keep, keep)]
            H = Go if try_factor(Go) is not None else Gk
        fac = try_factor(H)
        if fac is None:
            messages.append("the weighted Gram matrix X'WX is not positive definite")
            break
        gram = Gk
        if beta is None:
            # first pass from the starting means: solve for beta directly
            z = w * (eta - problem.offset) + u
            step_base = None
            beta_new = np.zeros(p)
            beta_new[keep] = fac.solve(X.rmatvec(z)[keep])
        else:
            step_base = beta
            beta_new = beta.copy()
            beta_new[keep] = beta[keep] + fac.solve(X.rmatvec(u)[keep])
        eta_new = X.matvec(beta_new) + problem.offset
        mu_new = link.inverse(eta_new)
        dev_new = problem.deviance(mu_new)
        halvings = 0
        while (not np.isfinite(dev_new) or not problem.is_valid(eta_new, mu_new)
               or (beta is not None and dev_new - dev > options.tol * (abs(dev) + 0.1))):
            if halvings >= options.max_halvings:
                break
            halvings += 1
            if step_base is None:
                # no coefficients yet: halve towards the intercept-only fit when valid,
                # otherwise in eta towards the starting values
                step_base = _null_coefficients(problem, keep)
                if step_base is None:
                    step_base = False
            if step_base is False:
                eta_new = 0.5 * (eta_new + eta)
            else:
                beta_new = 0.5 * (beta_new + step_base)
                eta_new = X.matvec(beta_new) + problem.offset
            mu_new = link.inverse(eta_new)
            dev_new = problem.deviance(mu_new)
        history["step_halvings"].append(halvings)
        if not np.isfinite(dev_new) or not problem.is_valid(eta_new, mu_new):
            messages.append(
                f"iteration {n_iter}: no step kept the mean inside the family's range "
                f"after {halvings} halvings; stopped at the last valid point"
            )
            break
        consistent = step_base is not False
        done = consistent and _converged(options, dev_new, dev, beta_new, beta)
        if done and options.refine_iter and options.tol_criterion == "deviance":
            # R's rule is met; go on until the step is negligible (Fisher scoring on a
            # non-canonical link converges only linearly), at most refine_iter passes
            small = beta is not None and _step_in_se(
                problem, (beta_new - beta)[keep], np.diag(Gk), dev_new, n_eff) < options.step_tol
            done = small or refine_left <= 0
            refine_left -= 1
        beta, eta, mu, dev = beta_new, eta_new, mu_new, dev_new
        if not consistent:
            # eta was halved off the column space: recompute from beta at the next pass
            beta = None
        history["deviance"].append(dev)
        if done:
            converged = True
            break

    if beta is None:  # no consistent coefficient vector was reached
        beta = np.full(p, np.nan)
        keep = np.ones(p, dtype=bool) if keep is None else keep
    params = beta.copy()
    params[~keep] = np.nan
    return SolverResult(
        params=frozen(params), aliased=frozen(~keep), eta=frozen(eta), mu=frozen(mu),
        working_weights=frozen(w), gram=frozen(gram), deviance=float(dev), n_iter=n_iter,
        converged=converged, method="newton" if hessian == "observed" else "IRLS",
        history=history,
        messages=tuple(messages),
    )
