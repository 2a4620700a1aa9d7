"""The convergence certificate every solver's answer passes before it says ``converged``.

A fit is at the maximum when the Newton step from its coefficients, delta = H^-1 score with
H the observed information there, is negligible in the metric of the covariance:
sqrt(delta' H delta / scale) < ``step_tol``. That bounds the distance of every coefficient,
and of every linear combination of them, in units of its standard error. IRLS checks this
inside its loop where it has the observed information for free (solvers/irls.py records
``history['certified']``); any other answer (L-BFGS, scipy's optimizers, R's stopping rule
taken as asked) is checked here with one pass over the rows, and polished by Newton steps
when it is not at the maximum. A polish that cannot certify its point reports
``converged=False``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..problem import GLMProblem
from ._linalg import try_factor
from .base import SolverOptions, SolverResult
from .irls import _scale, irls


def newton_decrement(problem: GLMProblem, params: np.ndarray, keep: np.ndarray,
                     sweeper=None) -> float:
    """sqrt(delta' H delta / scale) at ``params`` (kept columns), with delta = H^-1 score
    and H the observed information; inf where H is not positive definite (no maximum
    there) or the point is outside the family's range."""
    from .sweeper import InMemorySweeper

    sw = sweeper if sweeper is not None else InMemorySweeper(problem)
    beta = np.where(keep, np.nan_to_num(params), 0.0)
    at = sw.sweep(beta, None, True)
    if not (np.isfinite(at.deviance) and at.valid):
        return np.inf
    H = at.gram_observed[np.ix_(keep, keep)]
    fac = try_factor(H)
    if fac is None:
        return np.inf
    g = at.score[keep]
    dec = float(g @ fac.solve(g))
    n_eff = getattr(sw, "n_eff", float(np.sum(problem.freq_weights)))
    return float(np.sqrt(max(dec, 0.0) / _scale(problem, at.deviance, n_eff)))


def certify(problem: GLMProblem, result: SolverResult, options: SolverOptions,
            sweeper=None, candidate: bool = False) -> SolverResult:
    """``result`` if it is certified at the maximum (or did not claim convergence), else
    the result of Newton steps from it: certified, or ``converged=False`` with the reason.

    ``candidate``: the answer of an optimizer whose own stopping test is not trusted
    either way (scipy's L-BFGS-B also stops with "ABNORMAL" next to the maximum): it is
    certified or polished whether or not it said it converged.
    """
    if result.history.get("certified") or not options.certify or not (
            result.converged or candidate):
        return result
    if not np.all(np.isfinite(np.asarray(result.params)[~np.asarray(result.aliased)])):
        return replace(result, converged=False)
    keep = ~np.asarray(result.aliased)
    dec = newton_decrement(problem, np.asarray(result.params), keep, sweeper)
    if dec < options.step_tol:
        # at the maximum, whatever the optimizer's own test said
        return replace(result, converged=True, messages=(),
                       history={**result.history, "certified": True, "newton_decrement": dec})
    start = np.where(keep, np.asarray(result.params), 0.0)
    polished = irls(problem, start, replace(options, tol_criterion="deviance",
                                            refine_iter=max(options.refine_iter, 10)),
                    hessian="observed", sweeper=sweeper)
    history = {**result.history, "polish": polished.history, "certified":
               bool(polished.converged and polished.history.get("certified"))}
    if history["certified"]:
        return replace(polished, method=result.method, n_iter=result.n_iter + polished.n_iter,
                       history=history)
    why = (f"the {result.method} solver stopped {dec:.3g} standard errors from the maximum "
           "(Newton step from its answer) and Newton steps from there did not reach it")
    return replace(result, converged=False, history=history,
                   messages=(*result.messages, why, *polished.messages))
