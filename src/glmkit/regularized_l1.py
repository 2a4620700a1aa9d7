"""statsmodels' ``fit_regularized(method='l1_slsqp')``: the lasso as a smooth problem for SLSQP.

The non-smooth lasso

    min_b  f(b) + sum_k alpha_k |b_k|,    f(b) = -loglike(b, scale=1) / N,

is the smooth, constrained problem in twice as many variables

    min_{b, u}  f(b) + sum_k alpha_k u_k   subject to  u_k + b_k >= 0,  u_k - b_k >= 0,

given to scipy's SLSQP (``fmin_slsqp``, requested accuracy ``acc``) from (b0, |b0|), as
statsmodels does. SLSQP stops near the optimum, not on it: a coefficient that is zero at the
optimum comes out small but non-zero, so the answer is then *trimmed* as statsmodels trims it:
``trim_mode='auto'`` zeroes b_k where |df/db_k| < alpha_k (1 - auto_trim_tol) (the KKT
condition of a zero coefficient, with slack), after a quality check that no |df/db_k| exceeds
alpha_k (1 + qc_tol); ``'size'`` zeroes |b_k| < size_trim_tol; ``'off'`` keeps the answer.

The coordinate-descent answer of ``method='elastic_net'`` meets the KKT conditions to 1e-10;
this one to SLSQP's accuracy (coefficients typically within 1e-5 of it). It exists so that
statsmodels code that asks for ``'l1_slsqp'`` gets statsmodels' numbers, iteration counts and
warnings.
"""
from __future__ import annotations

import warnings

import numpy as np

from .exceptions import ConvergenceWarning

__all__ = ["L1_SLSQP_OPTIONS", "fit_l1_slsqp"]

#: the keyword arguments of ``method='l1_slsqp'`` and their defaults (statsmodels')
L1_SLSQP_OPTIONS = {"trim_mode": "auto", "auto_trim_tol": 0.01, "size_trim_tol": 1e-4,
                    "qc_tol": 0.03, "qc_verbose": False, "acc": 1e-10}


def _check_options(opts: dict) -> dict:
    out = {**L1_SLSQP_OPTIONS, **opts}
    if out["trim_mode"] not in ("auto", "size", "off"):
        raise ValueError(f"trim_mode must be 'auto', 'size' or 'off', got {out['trim_mode']!r}.")
    for name in ("auto_trim_tol", "size_trim_tol", "qc_tol", "acc"):
        v = out[name]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not v > 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}.")
    return out


def _quality_ok(grad: np.ndarray, alpha: np.ndarray, qc_tol: float, verbose: bool) -> bool:
    """No penalized coordinate's |gradient| above alpha (1 + qc_tol): otherwise the answer
    is too far from the optimum for the KKT-based trimming (warns, as statsmodels)."""
    pen = alpha > 0
    bad = np.zeros(alpha.shape, dtype=bool)
    bad[pen] = (np.abs(grad[pen]) - alpha[pen]) / alpha[pen] > qc_tol
    if bad.any():
        msg = (f"QC check did not pass for {int(bad.sum())} out of {alpha.size} parameters: "
               f"|gradient| exceeds alpha by more than qc_tol={qc_tol:g}. Try a higher maxiter "
               "or acc, a smaller alpha, or method='elastic_net'.")
        if verbose:
            rows = "\n".join(f"  {k}: alpha={alpha[k]:.3e} gradient={grad[k]:.3e}"
                             for k in np.flatnonzero(bad))
            msg += "\n" + rows
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        return False
    return True


def _trim(b: np.ndarray, grad_at, alpha: np.ndarray, passed: bool, opts: dict) -> np.ndarray:
    b = b.copy()
    pen = alpha > 0
    mode = opts["trim_mode"]
    if mode == "off":
        return b
    if mode == "auto":
        if not passed:
            warnings.warn("Could not trim params automatically: the QC check failed "
                          "(trim_mode='size' still trims).", ConvergenceWarning, stacklevel=4)
            return b
        g = grad_at(b)
        zero = pen & ((alpha - np.abs(g)) > opts["auto_trim_tol"] * np.where(pen, alpha, 1.0))
    else:
        zero = pen & (np.abs(b) < opts["size_trim_tol"])
    b[zero] = 0.0
    return b


def fit_l1_slsqp(model, alpha: np.ndarray, n: float, start: np.ndarray | None, maxiter: int,
                 **options) -> tuple[np.ndarray, int, bool]:
    """The lasso by SLSQP; returns (params, iterations, converged).

    ``alpha``: one penalty per column; ``n``: N, the total frequency weight; ``options``:
    :data:`L1_SLSQP_OPTIONS`. ``converged`` is SLSQP's own exit status (0: optimal to
    ``acc``); ``iterations`` its count (at most ``maxiter``).
    """
    from scipy.optimize import fmin_slsqp

    opts = _check_options(options)
    k = alpha.shape[0]
    b0 = np.zeros(k) if start is None else np.asarray(start, dtype=float)

    def f(b):
        return -model.loglike(b, scale=1.0) / n

    def grad(b):
        return -np.asarray(model.score(b, scale=1.0), dtype=float) / n

    def objective(x):
        return f(x[:k]) + float(alpha @ x[k:])

    def objective_grad(x):
        return np.concatenate([grad(x[:k]), alpha])

    eye = np.eye(k)
    cons_jac = np.block([[eye, eye], [-eye, eye]])

    def cons(x):   # u + b >= 0, u - b >= 0
        return np.concatenate([x[k:] + x[:k], x[k:] - x[:k]])

    x, _fx, its, imode, _smode = fmin_slsqp(
        objective, np.concatenate([b0, np.abs(b0)]), f_ieqcons=cons, fprime=objective_grad,
        fprime_ieqcons=lambda x: cons_jac, acc=float(opts["acc"]), iter=int(maxiter), disp=0,
        full_output=True)
    b = np.asarray(x[:k], dtype=float)
    passed = _quality_ok(grad(b), alpha, float(opts["qc_tol"]), bool(opts["qc_verbose"]))
    b = _trim(b, grad, alpha, passed, opts)
    return b, int(its), bool(imode == 0)
