"""What the GLM model checks and tells: the family argument, the names of optional inputs,
the constraint counts of score tests, and the warnings a fit deserves (in memory and on
Dask)."""
from __future__ import annotations

import warnings

import numpy as np

from .exceptions import (AliasedColumnsWarning, ConvergenceWarning, DomainWarning,
                         PerfectSeparationWarning)
from .families import Binomial, Family, Gaussian, Poisson

_TEN_EPS = 10 * np.finfo(float).eps
#: Fitted means this near 0 (or 1) in a fit that did not converge signal separation.
_DRIFTING = 1e-8


def fit_warnings(result, exog_names, family, mu_min: float, mu_max: float,
                 stacklevel: int = 4) -> tuple[str, ...]:
    """Emit and return the warnings a fit deserves (in memory and on Dask): non-convergence,
    R's boundary, aliased columns, and separation judged from the fitted means' range over
    the rows with weight."""
    notes: list[tuple[type[Warning], str]] = []
    if not result.converged and not result.history.get("evaluated_only"):
        why = "; ".join(result.messages) or f"the tolerance was not met in {result.n_iter} iterations"
        notes.append((ConvergenceWarning, f"the {result.method} fit did not converge: {why}. "
                      "Try a larger maxiter, start_params, or check the model."))
    if result.converged and result.history.get("boundary"):
        notes.append((DomainWarning, "the fit stopped at the boundary of the family's range "
                      "(the last step was shortened to keep the fitted means valid, as R's "
                      "glm.fit 'boundary'): the maximum may lie outside the valid region; "
                      "consider another link."))
    if result.aliased.any():
        names = [n for n, a in zip(exog_names, result.aliased) if a]
        notes.append((AliasedColumnsWarning, f"the design is rank deficient: {names} are "
                      "linear combinations of earlier columns; their coefficients are NaN (as R)."))
    # R's threshold at a maximum; a fit that found none and drifts with means this close
    # to the boundary is separated (its coefficients head to infinity)
    eps = _TEN_EPS if result.converged else _DRIFTING
    if isinstance(family, Binomial) and (mu_min < eps or mu_max > 1 - eps):
        notes.append((PerfectSeparationWarning, "fitted probabilities numerically 0 or 1 "
                      "occurred: perfect or quasi-complete separation; coefficients and "
                      "standard errors of the separating terms are not reliable."))
    if isinstance(family, Poisson) and mu_min < eps:
        notes.append((PerfectSeparationWarning, "fitted rates numerically 0 occurred: "
                      "some coefficients diverge (perfect prediction of zero counts)."))
    for cls, msg in notes:
        warnings.warn(msg, cls, stacklevel=stacklevel)
    return tuple(f"{cls.__name__}: {msg}" for cls, msg in notes)


def _positive_count(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k_constraints must be a non-negative integer, got {k!r}.")
    return int(k)


def params_constrained_checked(params, k: int) -> np.ndarray:
    b = np.asarray(params, dtype=float).ravel()
    if b.shape != (k,) or not np.all(np.isfinite(b)):
        raise ValueError(f"params_constrained must be {k} finite numbers, got {params!r}.")
    return b


def _input_name(obj, default: str) -> str | None:
    """statsmodels' name of an optional input: None when absent, a Series' own name (it
    may be None), a column name given as a string, else ``default``."""
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    if hasattr(obj, "name") and hasattr(obj, "to_numpy") and getattr(obj, "ndim", 1) == 1:
        return obj.name
    return default


def checked_family(family) -> Family:
    """The model's family: Gaussian when None; a family class or another object is an error
    that says what to write instead."""
    if family is None:
        return Gaussian()
    if isinstance(family, type):
        raise TypeError(f"family must be an instance: write families.{family.__name__}() "
                        "with parentheses.")
    if not isinstance(family, Family):
        raise TypeError(f"family must be a glmkit family instance, got {type(family).__name__}.")
    return family
