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
ScoreOnly = Callable[[np.ndarray], tuple[float, np.ndarray]]


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


#: low-precision informations steer only while the criterion is large: the next pass is
#: float64 once the criterion it predicts (quadratic convergence, plus the float32 step's
#: own error of ~LOW_STEP_ERROR of the criterion) is below the tolerance
LOW_STEP_ERROR = 1e-6
#: ... and not at all when the scaled information's smallest eigenvalue is below this
#: (nearly collinear columns: float32 rounding would be a large error along them)
LOW_MIN_EIGENVALUE = 1e-4


def _predicted(crit: float, prev: float | None) -> float:
    """The criterion a full Newton step from here is expected to leave."""
    if prev is None or not np.isfinite(prev) or prev <= 0:
        return crit * min(crit, 1.0) + LOW_STEP_ERROR * crit
    return crit**3 / prev**2 + LOW_STEP_ERROR * crit


#: chord steps (the last information reused, a score-only pass) while each one shrinks the
#: criterion at least this much; otherwise the next pass forms a fresh information
CHORD_RATE = 0.05


def _next_pass(crit: float, prev: float | None, fresh: bool, low: bool, pos_def: bool,
               chord: bool, tol: float) -> str:
    """What the next pass forms: 'high' (float64 information, the one that may certify),
    'low' (float32 information) or 'score' (log-likelihood and score only: a chord step
    with the information in hand). ``fresh``: the information was formed at this point;
    ``prev``: the criterion at the point before."""
    if not pos_def:
        return "high"
    rate = None if fresh or prev is None or prev <= 0 else crit / prev
    if rate is None:
        predicted = _predicted(crit, prev)
    else:
        predicted = crit * rate
    if predicted < tol:
        return "high"           # the next point may be the answer: certify it there
    if chord and (fresh or (rate is not None and rate < CHORD_RATE)):
        return "score"
    return "low" if low else "high"


def maximize(evaluate: Evaluate, start: np.ndarray, maxiter: int = 100,
             tol: float = 1e-8, max_halvings: int = 40,
             evaluate_low: Evaluate | None = None,
             start_information: np.ndarray | None = None,
             evaluate_score: ScoreOnly | None = None) -> NewtonResult:
    """Newton ascent from ``start``; each iteration costs one pass unless a step has to be
    halved.

    ``evaluate_low``: the same pass with a cheaper, less exact information (float32
    blocks), used for the steps while they are large; the certificate, the separation
    check and the returned information always come from ``evaluate``, at the answer.
    ``evaluate_score`` (the log-likelihood and score only, a fraction of a full pass):
    with ``start_information`` (an approximation of the information at ``start``, e.g. a
    subsample's, scaled) the first pass forms no information; with ``evaluate_low`` too,
    steps between informations reuse the last one (chord steps) while each shrinks the
    criterion by ``CHORD_RATE`` or more.
    """
    params = np.asarray(start, dtype=float).copy()
    low = evaluate_low is not None
    chord = low and evaluate_score is not None
    if start_information is not None and evaluate_score is not None:
        llf, score = evaluate_score(params)
        info = np.asarray(start_information, dtype=float)
        kind = "approx"
    else:
        llf, score, info = (evaluate_low if evaluate_low is not None else evaluate)(params)
        kind = "low" if low else "high"
    if not np.isfinite(llf):
        raise ValueError("the log-likelihood is not finite at the starting values.")
    d0 = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    smallest = _smallest_eigenvalue(info, d0)
    if kind != "high" and smallest < LOW_MIN_EIGENVALUE:
        low = chord = False
        llf, score, info = evaluate(params)
        kind = "high"
        smallest = _smallest_eigenvalue(info, d0)
    floor = SEPARATION * smallest
    crit, prev, fresh = np.inf, None, kind != "approx"
    for it in range(maxiter + 1):
        step, pos_def = newton_step(score, info)
        crit = float(np.sqrt(max(float(step @ score), 0.0)))
        if pos_def and crit < tol and fresh and kind == "high":
            if _smallest_eigenvalue(info, d0) < floor:
                # the score and the information both vanish as coefficients run off to
                # infinity: a certificate there says nothing
                return NewtonResult(params, llf, score, info, False, it, crit,
                                    "the information vanished along some coefficients: "
                                    "(quasi-)separation, the maximum is at infinity", True)
            return NewtonResult(params, llf, score, info, True, it, crit, "converged")
        if it == maxiter:
            break
        if low and fresh and kind == "low" and prev is not None and crit > 0.25 * prev:
            # the steps crawl (an information losing rank, where float32 rounding is a
            # large error): float64 from here on
            low = chord = False
        nxt = _next_pass(crit, prev, fresh, low, pos_def, chord, tol)
        prev = crit
        t = 1.0
        for _ in range(max_halvings):
            trial = params + t * step
            if nxt == "score":
                new = (*evaluate_score(trial), info)   # type: ignore[misc]
            else:
                new = (evaluate_low if nxt == "low" else evaluate)(trial)  # type: ignore[misc]
            if np.isfinite(new[0]) and new[0] >= llf - 1e-12 * (1.0 + abs(llf)):
                break
            t *= 0.5
        else:
            return _unfinished(evaluate, params, kind != "high" or not fresh,
                               (llf, score, info), it, crit,
                               "no step increases the log-likelihood")
        params = trial
        llf, score, info = new
        if nxt != "score":
            kind, fresh = nxt, True
        else:
            fresh = False
    return _unfinished(evaluate, params, kind != "high" or not fresh, (llf, score, info),
                       maxiter, crit, f"no maximum within {maxiter} iterations")


def _unfinished(evaluate: Evaluate, params: np.ndarray, info_low: bool, last: tuple,
                n_iter: int, crit: float, message: str) -> NewtonResult:
    """A result short of the maximum, its information (for a covariance) in float64."""
    llf, score, info = evaluate(params) if info_low else last
    return NewtonResult(params, llf, score, info, False, n_iter, crit, message)
