"""Profile-likelihood confidence intervals, computed the way MASS's confint.glm does.

For each coefficient b_j the model is refitted with b_j fixed (moved into the offset) at
b_j_hat +- step * del * se_j, step = 1, 2, ... (at most 9 each way), until the signed root
z = sign * sqrt((deviance - deviance_hat) / dispersion) passes zmax, with
zmax = sqrt(chi2_{1-a}(1)) for families with dispersion 1 and sqrt(F_{1-a}(1, n - p))
otherwise, a = (1 - level) / 4 and del = zmax / 5. The interval's ends are where an
interpolating cubic spline (Forsythe, Malcolm and Moler's end conditions, R's ``spline``
default, evaluated at 3 x (number of points) equally spaced values) of z against b_j crosses
the normal quantiles, found by linear interpolation (R's ``approx``). Following the same
grid and interpolation gives MASS's numbers, not only the same limit.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .families import Binomial, Poisson
from .problem import GLMProblem
from .solvers import SolverOptions
from .solvers.irls import irls


def fmm_spline_coefficients(x: np.ndarray, y: np.ndarray):
    """Cubic spline coefficients b, c, d (s = y_i + b dx + c dx^2 + d dx^3) with the
    Forsythe-Malcolm-Moler end conditions (third derivatives from end cubics)."""
    n = len(x)
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 2:
        return b, c, d
    if n < 3:
        b[:] = (y[1] - y[0]) / (x[1] - x[0])
        return b, c, d
    nm1 = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[n - 2]
    c[0] = c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[nm1] /= b[nm1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[n - 2]
    return b, c, d


def fmm_spline(x: np.ndarray, y: np.ndarray, n_out: int):
    """R's ``spline(x, y, n = n_out)``: values at n_out equally spaced points."""
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, float)[order], np.asarray(y, float)[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):  # ties: mean of y, as R's regularize.values
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    b, c, d = fmm_spline_coefficients(x, y)
    xo = np.linspace(x[0], x[-1], n_out)
    i = np.clip(np.searchsorted(x, xo, side="right") - 1, 0, len(x) - 1)
    dx = xo - x[i]
    return xo, y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def _approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``approx(x, y, xout)``: linear interpolation after sorting x (ties: mean)."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    out = np.interp(xout, x, y)
    out[(xout < x[0]) | (xout > x[-1])] = np.nan
    return out


def profile_coefficient(res, j: int, zmax: float, maxsteps: int = 10):
    """(b values, signed roots z) along coefficient j, MASS's profile.glm grid."""
    p = res.model.problem
    X = p.X
    keep = np.asarray(res._keep).copy()
    b0 = np.asarray(res._params)
    se = float(res._bse[j])
    others = keep.copy()
    others[j] = False
    Xi = X.take_columns(np.flatnonzero(others))   # the design's own subset: no dense copy
    xj = X.matvec(np.eye(keep.size)[j])
    dev0, disp = res.deviance, res.scale
    step_size = zmax / 5.0
    bs, zs = [b0[j]], [0.0]
    for sgn in (-1.0, 1.0):
        step, z = 0, 0.0
        start = b0[others]
        while (step := step + 1) < maxsteps and abs(z) < zmax:
            bj = b0[j] + sgn * step * step_size * se
            off = p.offset + xj * bj
            if Xi.shape[1]:
                sub = GLMProblem(X=Xi, y=p.y, family=p.family,
                                 prior_weights=p.prior_weights, freq_weights=p.freq_weights,
                                 offset=off)
                fit = irls(sub, start, SolverOptions(maxiter=100, tol=1e-10))
                start = np.asarray(fit.params)
                dev = fit.deviance
            else:
                dev = p.deviance(p.family.link.inverse(off))
            zz = (dev - dev0) / disp
            if zz < -1e-3:
                raise RuntimeError("profiling found a better fit than the original one: the "
                                   "original fit had not converged.")
            z = sgn * np.sqrt(max(zz, 0.0))
            bs.append(bj)
            zs.append(z)
    return np.array(bs), np.array(zs)


def profile_conf_int(res, alpha: float = 0.05) -> np.ndarray:
    """k x 2 profile-likelihood intervals (NaN for aliased coefficients)."""
    k = len(res._params)
    prof_alpha = alpha / 4.0
    # MASS switches on the family name: only "binomial" and "poisson" take the chi2 grid
    # (a negative binomial family is named "Negative Binomial(theta)" and takes the F one)
    if isinstance(res.family, (Binomial, Poisson)) and res.scale == 1:
        zmax = np.sqrt(stats.chi2.ppf(1 - prof_alpha, 1))
    else:
        zmax = np.sqrt(stats.f.ppf(1 - prof_alpha, 1, res.nobs - k))
    cutoff = stats.norm.ppf([alpha / 2.0, 1.0 - alpha / 2.0])
    ci = np.full((k, 2), np.nan)
    for j in np.flatnonzero(res._keep):
        bs, zs = profile_coefficient(res, int(j), zmax)
        order = np.argsort(zs, kind="stable")
        bs, zs = bs[order], zs[order]
        xo, yo = fmm_spline(bs, zs, 3 * len(bs))
        ci[j] = _approx(yo, xo, np.asarray(cutoff))
    return ci
