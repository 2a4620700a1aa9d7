"""Solvers (how the model is fitted): ``solve(problem, start, options) -> SolverResult``."""
from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from ..families import links as L
from ..families.family import (Binomial, Gamma, Gaussian, InverseGaussian, NegativeBinomial,
                               Poisson, Tweedie)
from ..problem import GLMProblem
from .base import LazyGram, SolverOptions, SolverResult, frozen
from .certify import certify
from .firth import firth
from .irls import irls
from .lbfgs import lbfgs
from .scipy_opt import SCIPY_METHODS, OptimizerSettings, scipy_fit

Method = Literal["IRLS", "newton", "lbfgs", "firth", "bfgs", "cg", "nm", "powell", "ncg",
                 "basinhopping"]

__all__ = ["SolverOptions", "SolverResult", "OptimizerSettings", "solve", "Method"]

#: Family and link pairs whose log-likelihood is concave in the linear predictor on the
#: family's range, so that a maximum is the only one. (Gamma with the identity link, for
#: one, is not: a fit from R's starting means can end at a local maximum.)
_CONCAVE = {
    Gaussian: (L.Identity,),
    Poisson: (L.Log, L.Identity, L.Sqrt),
    Binomial: (L.Logit, L.Probit, L.CLogLog, L.LogLog, L.Log),
    Gamma: (L.Log, L.InversePower),
    InverseGaussian: (L.InverseSquared,),
    NegativeBinomial: (L.Log,),
    Tweedie: (L.Log,),
}


def concave(family) -> bool:
    """Whether the family's log-likelihood is concave in eta with its link (see _CONCAVE)."""
    links = next((_CONCAVE[c] for c in type(family).__mro__ if c in _CONCAVE), ())
    return isinstance(family.link, links)


def solve(problem: GLMProblem, start: np.ndarray | None, options: SolverOptions,
          method: Method = "IRLS", optimizer: OptimizerSettings | None = None) -> SolverResult:
    """Fit ``problem`` with ``method``; weights are first brought to unit size.

    ``optimizer`` carries statsmodels' scipy-optimizer keywords for the methods of
    :mod:`glmkit.solvers.scipy_opt` ('bfgs', 'cg', 'nm', 'powell', 'ncg', 'basinhopping').

    The maximum does not move when every weight is multiplied by one number, but R's
    stopping rule (its + 0.1) does: prior weights of 1e-300 would stop a fit at its start.
    The solver sees weights divided by a power of two near their largest (exact in binary
    floating point), and the deviance and Grams it returns are multiplied back.
    """
    if method == "firth":
        # its own convergence test (the adjusted score, not the score), and no weight unit:
        # the adjustment does not scale with the weights, so their size matters
        return firth(problem, start, options)
    c = _weight_unit(problem)
    if c == 1.0:
        return _solve(problem, start, options, method, optimizer)
    rescaled = getattr(problem, "rescaled", None)   # rows elsewhere (Dask): a new problem
    unit = rescaled(c) if rescaled is not None else dataclasses.replace(
        problem, prior_weights=problem.prior_weights / c)
    res = _solve(unit, start, options, method, optimizer)
    unit_gram = res.gram
    gram = LazyGram(lambda: c * np.asarray(unit_gram)) if isinstance(unit_gram, LazyGram) \
        else frozen(c * np.asarray(unit_gram))
    history = {**res.history, "deviance": [c * d for d in res.history.get("deviance", [])],
               "weight_unit": c}
    w = res.working_weights
    w = c * (w if hasattr(type(w), "__dask_graph__") else np.asarray(w))   # (lazy on Dask)
    return dataclasses.replace(res, deviance=c * res.deviance, gram=gram, history=history,
                               working_weights=frozen(w))


def _weight_unit(problem: GLMProblem) -> float:
    """A power of two near the largest total weight, or 1 for unweighted problems."""
    weight_top = getattr(problem, "weight_top", None)   # known from a data pass (Dask)
    if weight_top is not None:
        top = weight_top()
        if top is None:
            return 1.0
    else:
        pw = problem.prior_weights
        if pw.strides == (0,) and problem.freq_weights.strides == (0,):
            return 1.0
        top = float(np.max(problem.total_weights))
    if not (np.isfinite(top) and top > 0):
        return 1.0
    return float(2.0 ** np.round(np.log2(top)))


def _solve(problem: GLMProblem, start: np.ndarray | None, options: SolverOptions,
           method: Method = "IRLS", optimizer: OptimizerSettings | None = None) -> SolverResult:
    """Dispatch to the solver named by ``method`` (already validated), then certify the
    answer (solvers/certify.py): ``converged=True`` means the score and the observed
    information put it within ``options.step_tol`` standard errors of a maximum.

    IRLS and Newton fits also start from statsmodels' starting means (y + mean(y)) / 2:
    when the fit from R's starting means fails (R's first step can overshoot on strongly
    skewed responses), and, where the log-likelihood is not concave, always: the better of
    the two maxima is kept (``history['other_maximum']`` records the deviance of the other).

    A problem whose rows live elsewhere (:class:`glmkit.design.dask_data.DaskProblem`)
    supplies its own sweeper (``problem.sweeper``) and starting points; the steering is
    the same.
    """
    make_sweeper = getattr(problem, "sweeper", None)
    if make_sweeper is not None and method not in ("IRLS", "newton"):
        raise NotImplementedError(f"method={method!r} needs the rows in memory; on Dask use "
                                  "'IRLS' (default) or 'newton'.")
    if method == "lbfgs":
        return certify(problem, lbfgs(problem, start, options), options, candidate=True)
    if method in SCIPY_METHODS:   # scipy's verdict, then checked (polished when short)
        return certify(problem, scipy_fit(problem, start, options,
                                          optimizer or OptimizerSettings(method)), options)
    if method not in ("IRLS", "newton"):
        raise ValueError(f"unknown method {method!r}")
    hessian = "expected" if method == "IRLS" else "observed"

    def fit(**starts):
        sw = None if make_sweeper is None else make_sweeper(options.fused)
        return certify(problem, irls(problem, start, options, hessian=hessian, sweeper=sw,
                                     **starts), options, sweeper=sw)

    res = fit()
    if start is not None or (res.converged and concave(problem.family)):
        return res
    if make_sweeper is not None:
        mid_eta = problem.midpoint_eta()   # type: ignore[attr-defined]
        if mid_eta is None:
            return res
        retry = fit(start_eta=mid_eta)
    else:
        tw = problem.total_weights
        mid = 0.5 * (problem.y + np.sum(tw * problem.y) / np.sum(tw))
        if not problem.family.valid_mu(mid):
            return res
        retry = fit(start_mu=mid)
    if not retry.converged:
        return res
    if res.converged:
        if retry.deviance >= res.deviance - options.tol * (abs(res.deviance) + 0.1):
            return res   # the same maximum, or a worse one
        retry.history["other_maximum"] = res.deviance
    retry.history["restarted_from"] = "(y + mean(y)) / 2"
    return retry
