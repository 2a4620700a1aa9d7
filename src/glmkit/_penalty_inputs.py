"""What a penalized fit reads from a model, checked once: its sweeper (in memory or over
Dask partitions), constant columns, column scales, penalty factors and bounds.

Shared by :mod:`glmkit.regularized` and :mod:`glmkit.path`.
"""
from __future__ import annotations

import numpy as np


def sweeper_for(model):
    """The sweeper of the model's rows: in memory, or over Dask partitions. (Designs of any
    width: a penalized fit forms X'WX over its working set, see
    :func:`glmkit.solvers.penalized.working_set`.)"""
    if model._lazy:   # rows in Dask partitions
        problem = model.problem
        return problem.sweeper(True, executor=model.data.executor)
    from .solvers.sweeper import InMemorySweeper

    return InMemorySweeper(model.problem)


def constant_columns(model) -> np.ndarray:
    """Which columns are constant (an intercept): never penalized by a path."""
    prob = model.problem
    if hasattr(prob, "col_const"):
        return np.asarray(prob.col_const, dtype=bool)
    return np.asarray(prob.X.column_is_constant(), dtype=bool)


def is_quadratic(family) -> bool:
    """Whether the deviance is exactly quadratic in the coefficients (Gaussian identity)."""
    from .families import Gaussian, links

    return isinstance(family, Gaussian) and isinstance(family.link, links.Identity)


def column_scales(model, const: np.ndarray, problem=None) -> np.ndarray:
    """glmnet's standardization: the weighted standard deviation of each column (weights
    normalized to sum 1; centred only when there is an intercept), over the rows and
    weights of ``problem`` when given (a CV fold), else of the model."""
    prob = model.problem if problem is None else problem
    if not hasattr(prob.X, "sandwich"):
        raise NotImplementedError("standardize=True is not available for Dask designs yet; "
                                  "scale the columns before building the model.")
    tw = np.asarray(prob.total_weights, dtype=float)
    w = tw / tw.sum()
    m2 = np.diag(prob.X.sandwich(w)).copy()
    if const.any():
        m1 = np.asarray(prob.X.rmatvec(w), dtype=float)
        m2 = m2 - m1 ** 2
    sd = np.sqrt(np.maximum(m2, 0.0))
    sd[const] = 1.0
    return sd


# ------------------------------------------------------------------------ the path
def per_column(values, const: np.ndarray, name: str, fill: float) -> np.ndarray:
    """A scalar, one value per column, or (as glmnet, whose x has no intercept) one per
    non-constant column, the constant columns getting ``fill``."""
    p = const.shape[0]
    a = np.asarray(values, dtype=float)
    if a.ndim == 0:
        return np.full(p, float(a))
    a = a.ravel()
    if a.shape[0] == p:
        return a.copy()
    if a.shape[0] == int((~const).sum()) and const.any():
        out = np.full(p, fill)
        out[~const] = a
        return out
    raise ValueError(f"{name} must be a number, {p} values (one per column) or "
                     f"{int((~const).sum())} (one per non-constant column); got {a.shape[0]}.")


def checked_bounds(bounds, const: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = const.shape[0]
    if bounds is None:
        return np.full(p, -np.inf), np.full(p, np.inf)
    try:
        lo, hi = bounds
    except (TypeError, ValueError):
        raise ValueError("bounds must be a pair (lower, upper).") from None
    lo = per_column(-np.inf if lo is None else lo, const, "lower bounds", -np.inf)
    hi = per_column(np.inf if hi is None else hi, const, "upper bounds", np.inf)
    if np.any(lo > 0) or np.any(hi < 0) or np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("bounds must satisfy lower <= 0 <= upper for every column "
                         "(glmnet's lower.limits and upper.limits).")
    return lo, hi


def penalty_factors(penalty_weights, const: np.ndarray) -> np.ndarray:
    """glmnet's penalty.factor: 0 for constant columns, the others rescaled to sum to
    their number."""
    p = const.shape[0]
    pf = np.ones(p) if penalty_weights is None else \
        per_column(penalty_weights, const, "penalty_weights", 0.0)
    if np.any(~np.isfinite(pf)) or np.any(pf < 0):
        raise ValueError("penalty_weights must be finite and non-negative.")
    pf[const] = 0.0
    total = pf[~const].sum()
    if total <= 0:
        raise ValueError("penalty_weights leave no column penalized.")
    pf[~const] *= (~const).sum() / total
    return pf
