"""statsmodels' ridge shortcut: ``fit_regularized(method='elastic_net', L1_wt=0)``.

statsmodels does not run its coordinate descent when ``L1_wt == 0``: ``GLM._fit_ridge``
minimizes -loglike(b) / N + sum_j alpha_j b_j^2 / 2 with scipy (BFGS), where ``loglike`` is
evaluated at the scale *estimated at b* (Pearson chi2 / df_resid for families with a
dispersion) and its gradient treats that scale as fixed. Its answer is therefore the root of

    score(b; scale=1) / (N scale(b)) = alpha * b,

which for Binomial, Poisson and NegativeBinomial (scale 1) is the ridge optimum of the
scale-1 objective, and otherwise is the scale-1 ridge at the penalty alpha * scale(b). glmkit
solves that equation exactly: penalized IRLS at alpha * s, then s = scale(b), repeated until s
is a fixed point (a few rounds, each warm-started), s starting at the scale of the start
(statsmodels' zeros). The optimizer statsmodels uses is ignored:
the root does not depend on it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ._parallel import one_blas_thread
from ._penalty_inputs import is_quadratic, sweeper_for
from .solvers.penalized import PenalizedResult, Penalty, penalized_irls

__all__ = ["fit_ridge"]

_MAX_ROUNDS = 100


def fit_ridge(model, alpha: np.ndarray, start: np.ndarray | None, tol: float = 1e-10,
              maxiter: int = 100) -> tuple[PenalizedResult, Penalty, float, float]:
    """The root of statsmodels' ridge equation; returns (result, penalty solved, N, scale).

    ``alpha``: one non-negative penalty per column. The result's ``converged`` requires the
    KKT conditions at the last penalty and a scale that no longer moves (relative 1e-12).
    """
    from .likelihood import _mu, estimate_scale

    k = alpha.shape[0]
    sweeper = sweeper_for(model)
    n = float(sweeper.n_eff)
    inf = np.full(k, np.inf)
    allowed = np.ones(k, dtype=bool)
    quad = is_quadratic(model.family)
    free_scale = model.family.has_free_scale or getattr(model, "scaletype", None) is not None
    b = start
    # statsmodels' BFGS starts at b0 (zeros by default) and finds the root it meets first:
    # so do the rounds (the equation can have more than one root when the scale at b0 is
    # much larger than at the unpenalized fit)
    b0 = np.zeros(k) if start is None else start
    s = float(estimate_scale(model, _mu(model, b0))) if free_scale else 1.0
    if not (np.isfinite(s) and s > 0):
        s = 1.0
    with one_blas_thread():
        for _ in range(_MAX_ROUNDS):
            pen = Penalty(np.zeros(k), alpha * s, -inf, inf)
            res = penalized_irls(sweeper, n, pen, b, allowed, tol=tol, maxiter=maxiter,
                                 quadratic=quad)
            if b is not None and not np.isfinite(res.objective):   # an invalid start
                res = penalized_irls(sweeper, n, pen, None, allowed, tol=tol,
                                     maxiter=maxiter, quadratic=quad)
            b = np.asarray(res.params, dtype=float)
            if not free_scale or not np.any(alpha > 0):
                return res, pen, n, s
            s_new = float(estimate_scale(model, _mu(model, b)))
            if not (np.isfinite(s_new) and s_new > 0):
                return (dataclasses.replace(res, converged=False, messages=[
                    *res.messages, f"the estimated scale is {s_new!r}"]), pen, n, s)
            moved = abs(s_new - s) > 1e-12 * s_new
            s = s_new
            if not moved:
                return res, pen, n, s
    return (dataclasses.replace(res, converged=False, messages=[
        *res.messages, f"the scale did not settle in {_MAX_ROUNDS} rounds"]), pen, n, s)
