"""The intercept-only model with an offset (the null deviance's and llnull's model), fitted
in one dimension.

With one coefficient a, eta = a + offset, and Fisher scoring is a scalar iteration on
n-vectors: a += sum(tw d (y - mu) / V) / sum(tw d^2 / V), d = dmu/deta. No X'WX, no design:
each iteration costs a few elementwise passes, not a sweep. For Poisson with the log link
the score is sum tw (y - mu), so a = log(sum tw y / sum tw exp(offset)) is the maximum in
closed form; the same value starts the iteration for every log link. Steps are halved while
the deviance rises or the mean leaves the family's range; the fit stops when the step is
below 1e-10 of the coefficient's standard error (1/sqrt(information)).
"""
from __future__ import annotations

import numpy as np

from ..families import links
from ..problem import GLMProblem


def _mean(problem: GLMProblem, a: float):
    eta = a + problem.offset
    with np.errstate(all="ignore"):
        mu = problem.family.link.inverse(eta)
    if not (np.all(np.isfinite(mu)) and problem.is_valid(eta, mu)):
        return None
    return eta, mu


def _start(problem: GLMProblem) -> float:
    y, tw, off, link = problem.y, problem.total_weights, problem.offset, problem.family.link
    ybar = float(np.sum(tw * y) / np.sum(tw))
    if isinstance(link, links.Log) and ybar > 0:
        return float(np.log(np.sum(tw * y) / np.sum(tw * np.exp(off))))
    mu0 = problem.family.starting_mu(np.full(1, ybar), None)
    return float(link(mu0)[0] - np.sum(tw * off) / np.sum(tw))


def null_mu(problem: GLMProblem, maxiter: int = 200, step_tol: float = 1e-10) -> np.ndarray:
    """Fitted means of the intercept-only model with the problem's offset and weights."""
    return _fit(problem, maxiter, step_tol)[1]


def null_intercept(problem: GLMProblem, maxiter: int = 200, step_tol: float = 1e-10) -> float:
    """The intercept of the intercept-only model with the problem's offset and weights."""
    return _fit(problem, maxiter, step_tol)[0]


def _fit(problem: GLMProblem, maxiter: int, step_tol: float) -> tuple[float, np.ndarray]:
    fam, y, tw = problem.family, problem.y, problem.total_weights
    a = _start(problem)
    state = _mean(problem, a)
    if state is None:   # a start outside the range: the offset-only mean's neighbourhood
        a = 0.0
        state = _mean(problem, a)
    if state is None:
        raise ValueError("the intercept-only model has no valid start with this offset.")
    dev = problem.deviance(state[1])
    for _ in range(maxiter):
        eta, mu = state
        d = fam.link.inverse_deriv(eta)
        var = fam.variance(mu)
        info = float(np.sum(tw * d * d / var))
        step = float(np.sum(tw * d * (y - mu) / var)) / info
        if abs(step) * np.sqrt(info) < step_tol:
            break
        for _ in range(60):
            new = _mean(problem, a + step)
            if new is not None:
                new_dev = problem.deviance(new[1])
                if new_dev <= dev + 1e-12 * (abs(dev) + 0.1):
                    break
            step *= 0.5
        else:
            break
        a, state, dev = a + step, new, new_dev
    return a, np.asarray(state[1])
