"""Solvers (how the model is fitted): ``solve(problem, start, options) -> SolverResult``."""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..problem import GLMProblem
from .base import SolverOptions, SolverResult
from .irls import irls
from .lbfgs import lbfgs

Method = Literal["IRLS", "newton", "lbfgs"]

__all__ = ["SolverOptions", "SolverResult", "solve", "Method"]


def solve(problem: GLMProblem, start: np.ndarray | None, options: SolverOptions,
          method: Method = "IRLS") -> SolverResult:
    """Dispatch to the solver named by ``method`` (already validated)."""
    if method == "IRLS":
        return irls(problem, start, options)
    if method == "newton":
        return irls(problem, start, options, hessian="observed")
    if method == "lbfgs":
        return lbfgs(problem, start, options)
    raise ValueError(f"unknown method {method!r}")
