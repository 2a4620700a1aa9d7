"""Newton's method for a concave-enough log-likelihood, with step-halving and a certificate.

Conventions
-----------
``evaluate(params)`` returns ``(llf, score, information)``: the log-likelihood, its
gradient (+dllf/dparams) and the observed information (minus the Hessian), all from ONE
pass over the rows. The fit is converged only when the Newton step from the answer,
delta = information^-1 score, has sqrt(delta' information delta) < ``tol`` (1e-8): no
coefficient or contrast is more than 1e-8 of its standard error from the maximum.
Separation is told apart: there the score and the information vanish together (see
``SEPARATION``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg

#: the information (in the scale of the start's) losing all but this fraction of its
#: smallest eigenvalue at the start means separation (coefficients or contrasts growing
#: without bound), not a maximum
SEPARATION = 1e-12

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class NewtonResult:
    params: np.ndarray
    llf: float
    score: np.ndarray
    information: np.ndarray
    converged: bool
    n_iter: int
    criterion: float
    message: str
    separated: bool = False


def newton_step(score: np.ndarray, information: np.ndarray) -> tuple[np.ndarray, bool]:
    """The Newton step information^-1 score and whether the information was positive
    definite (if not, the step of a ridge-shifted information, which still ascends)."""
    d = np.sqrt(np.clip(np.diag(information), 1e-300, None))
    scaled = information / np.outer(d, d)
    try:
        c = linalg.cho_factor(scaled, check_finite=False)
        return linalg.cho_solve(c, score / d, check_finite=False) / d, True
    except linalg.LinAlgError:
        pass
    shift = 1e-6
    while shift < 1e8:
        try:
            c = linalg.cho_factor(scaled + shift * np.eye(len(d)), check_finite=False)
            return linalg.cho_solve(c, score / d, check_finite=False) / d, False
        except linalg.LinAlgError:
            shift *= 10.0
    return score / d**2, False


def _smallest_eigenvalue(info: np.ndarray, d: np.ndarray) -> float:
    if info.shape[0] == 0:
        return 0.0
    return float(np.linalg.eigvalsh(info / np.outer(d, d))[0])


def maximize(evaluate: Evaluate, start: np.ndarray, maxiter: int = 100,
             tol: float = 1e-8, max_halvings: int = 40) -> NewtonResult:
    """Newton ascent from ``start``; each iteration costs one ``evaluate`` (one pass)
    unless a step has to be halved."""
    params = np.asarray(start, dtype=float).copy()
    llf, score, info = evaluate(params)
    if not np.isfinite(llf):
        raise ValueError("the log-likelihood is not finite at the starting values.")
    crit = np.inf
    d0 = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    floor = SEPARATION * _smallest_eigenvalue(info, d0)
    for it in range(maxiter + 1):
        step, pos_def = newton_step(score, info)
        crit = float(np.sqrt(max(float(step @ score), 0.0)))
        if pos_def and crit < tol:
            if _smallest_eigenvalue(info, d0) < floor:
                # the score and the information both vanish as coefficients run off to
                # infinity: a certificate there says nothing
                return NewtonResult(params, llf, score, info, False, it, crit,
                                    "the information vanished along some coefficients: "
                                    "(quasi-)separation, the maximum is at infinity", True)
            return NewtonResult(params, llf, score, info, True, it, crit, "converged")
        if it == maxiter:
            break
        t = 1.0
        for _ in range(max_halvings):
            trial = params + t * step
            new = evaluate(trial)
            if np.isfinite(new[0]) and new[0] >= llf - 1e-12 * (1.0 + abs(llf)):
                break
            t *= 0.5
        else:
            return NewtonResult(params, llf, score, info, False, it, crit,
                                "no step increases the log-likelihood")
        params = trial
        llf, score, info = new
    return NewtonResult(params, llf, score, info, False, maxiter, crit,
                        f"no maximum within {maxiter} iterations")
