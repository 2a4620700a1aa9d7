"""Solvers (how the model is fitted): ``solve(problem, start, options) -> SolverResult``."""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..problem import GLMProblem
from .base import SolverOptions, SolverResult
from .irls import irls
from .lbfgs import lbfgs
from .scipy_opt import SCIPY_METHODS, OptimizerSettings, scipy_fit

Method = Literal["IRLS", "newton", "lbfgs", "bfgs", "cg", "nm", "powell", "ncg", "basinhopping"]

__all__ = ["SolverOptions", "SolverResult", "OptimizerSettings", "solve", "Method"]


def solve(problem: GLMProblem, start: np.ndarray | None, options: SolverOptions,
          method: Method = "IRLS", optimizer: OptimizerSettings | None = None) -> SolverResult:
    """Dispatch to the solver named by ``method`` (already validated).

    ``optimizer`` carries statsmodels' scipy-optimizer keywords for the methods of
    :mod:`glmkit.solvers.scipy_opt` ('bfgs', 'cg', 'nm', 'powell', 'ncg', 'basinhopping').

    An IRLS or Newton fit from R's starting means that fails is retried once from
    statsmodels' starting means (y + mean(y)) / 2, which avoids R's overshooting first step
    on strongly skewed responses; the retry is kept only if it converges.
    """
    if method in ("IRLS", "newton"):
        hessian = "expected" if method == "IRLS" else "observed"
        res = irls(problem, start, options, hessian=hessian)
        if res.converged or start is not None:
            return res
        tw = problem.total_weights
        mid = 0.5 * (problem.y + np.sum(tw * problem.y) / np.sum(tw))
        if not problem.family.valid_mu(mid):
            return res
        retry = irls(problem, None, options, hessian=hessian, start_mu=mid)
        if retry.converged:
            retry.history["restarted_from"] = "(y + mean(y)) / 2"
            return retry
        return res
    if method == "lbfgs":
        return lbfgs(problem, start, options)
    if method in SCIPY_METHODS:
        return scipy_fit(problem, start, options, optimizer or OptimizerSettings(method))
    raise ValueError(f"unknown method {method!r}")
