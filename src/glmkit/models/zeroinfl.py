"""Zero-inflated and hurdle count models as R's ``pscl::zeroinfl`` and ``pscl::hurdle``,
fitted by Newton's method with analytic derivatives and the GLM's convergence certificate.

Conventions
-----------
- ``zeroinfl``: P(y = 0) = pi + (1 - pi) f(0), P(y = k) = (1 - pi) f(k), with
  pi = linkinv(z' gamma + offset_z) the probability of an excess zero and f the count
  distribution with mu = exp(x' beta + offset).
- ``hurdle``: P(y = 0) = 1 - p, P(y = k) = p f(k) / (1 - f(0)) for k > 0, with p = P(y > 0)
  from the zero hurdle: ``zero_dist='binomial'`` (p = linkinv(z' gamma)) or a count
  distribution (p = 1 - f_zero(0), mu_zero = exp(z' gamma)). The two parts have separate
  parameters; they are fitted separately (same maximum as jointly).
- Parameters are pscl's: ``count_<name>``, then ``zero_<name>``; theta (negbin) is reported
  apart with the standard error of log(theta); ``cov_params()`` is pscl's ``vcov``: the
  inverse of the information of all parameters (log theta included), without theta's rows.
- Convergence: the Newton step delta from the answer satisfies sqrt(delta' I delta) < 1e-8
  (I the observed information of every parameter, log theta included), as every glmkit fit.
"""
from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from ..exceptions import ConvergenceWarning
from ._cdfs import DISTRIBUTIONS
from ._countdist import COUNT_DISTS, ZERO_LINKS, zero_terms
from ._countframe import CountInputs, from_formula
from ._countkernels import (
    binary_kernel,
    truncated_kernel,
    zero_count_kernel,
    zeroinfl_kernel,
)
from ._multieta import Block, evaluate
from ._newton import NewtonResult, maximize
from ._zi_em import em_start
from .zeroinfl_results import CountFit, CountModelResults

__all__ = ["hurdle", "zeroinfl"]

Dist = Literal["poisson", "negbin", "geometric"]
ZeroDist = Literal["binomial", "poisson", "negbin", "geometric"]
Link = Literal["logit", "probit", "cloglog", "cauchit", "log"]
_LINK_DIST = {"logit": "logistic", "probit": "probit", "cloglog": "cloglog",
              "cauchit": "cauchit"}


def _check(value: str, allowed, what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {list(allowed)}, got {value!r}.")


def _subset(M: np.ndarray | None, rows: np.ndarray | None):
    if M is None or rows is None:
        return M
    return np.ascontiguousarray(M[rows])


def _maximize(blocks, kernel, n, w, start, maxiter, tol) -> NewtonResult:
    return maximize(lambda t: evaluate(t, blocks, kernel, n, w), start, maxiter, tol)


def _intercept_start(D: Any, off: Any, target: float) -> np.ndarray:
    """Zero coefficients, but the constant column (if any) at ``target`` - mean offset."""
    start = np.zeros(D.shape[1])
    const = [j for j in range(D.shape[1]) if np.all(D[:, j] == 1.0)]
    if const:
        start[const[0]] = target - (0.0 if off is None else float(np.mean(off)))
    return start


def _wmean(v: np.ndarray, w: np.ndarray | None) -> float:
    return float(np.mean(v) if w is None else np.average(v, weights=w))


def fit_binary(Z, off, event, w, link, maxiter, tol) -> NewtonResult:
    """The binary model of ``event`` with P(event) = linkinv(Z gamma + off)."""
    p = min(max(_wmean(event.astype(float), w), 1e-3), 1 - 1e-3)
    target = float(np.log(p)) if link == "log" else float(DISTRIBUTIONS[_LINK_DIST[link]].ppf(np.asarray(p)))
    start = _intercept_start(Z, off, target)
    return _maximize([Block(Z, off)], binary_kernel(event, link), Z.shape[0], w, start,
                     maxiter, tol)


def fit_truncated(X, off, y, w, dist, maxiter, tol) -> NewtonResult:
    """The zero-truncated count model of the positive rows (hurdle's count part)."""
    sw = np.ones(y.shape[0]) if w is None else np.sqrt(w)
    target = np.log(y) - (0.0 if off is None else off)
    beta = np.linalg.lstsq(X * sw[:, None], target * sw, rcond=None)[0]   # pscl's start
    blocks = [Block(X, off)] + ([Block(None)] if dist == "negbin" else [])
    start = np.concatenate([beta, [0.0] if dist == "negbin" else []])
    return _maximize(blocks, truncated_kernel(y, dist), y.shape[0], w, start, maxiter, tol)


def fit_zero_count(Z, off, y, w, dist, maxiter, tol) -> NewtonResult:
    """The zero hurdle as a count distribution: P(y = 0) = f(0; exp(Z gamma + off))."""
    start = _intercept_start(Z, off, float(np.log(max(_wmean(y, w), 1e-3))))
    blocks = [Block(Z, off)] + ([Block(None)] if dist == "negbin" else [])
    start = np.concatenate([start, [0.0] if dist == "negbin" else []])
    return _maximize(blocks, zero_count_kernel(y, dist), y.shape[0], w, start, maxiter, tol)


def _warn(res: NewtonResult, what: str) -> None:
    if not res.converged:
        warnings.warn(f"{what}: {res.message} (Newton criterion {res.criterion:.3g}); the "
                      "estimates are not certified as the maximum.", ConvergenceWarning,
                      stacklevel=4)


def _information_inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)


def fit_zeroinfl(inp: CountInputs, dist: str, link: str, maxiter: int = 200,
                 tol: float = 1e-8, start: np.ndarray | None = None) -> CountFit:
    """The maximum of the zero-inflated likelihood from pscl's starting values: the
    zero-truncated count fit of the positive rows and the binary fit of y == 0."""
    w = inp.weights
    kx, kz = inp.X.shape[1], inp.Z.shape[1]
    nb = dist == "negbin"
    y = inp.y
    blocks = [Block(inp.X, inp.x_offset), Block(inp.Z, inp.z_offset)]
    blocks += [Block(None)] if nb else []
    kernel = zeroinfl_kernel(y, dist, link)
    starts = iter([start]) if start is not None else \
        _zeroinfl_starts(inp, dist, link, maxiter, tol)
    res = None
    for s in starts:
        r = _boundary(_maximize(blocks, kernel, inp.n, w, s, maxiter, tol), inp, link, kx, kz)
        if res is None or (r.converged, r.llf) > (res.converged, res.llf):
            res = r
        if res.converged:
            break
    assert res is not None
    _warn(res, "zeroinfl")
    cov = _information_inverse(res.information)
    return CountFit("zeroinfl", dist, "binomial", link, res.params[:kx], res.params[kx:kx + kz],
                    res.params[kx + kz:], cov, res.llf, res.converged, res.n_iter,
                    res.criterion, nb, False)


#: separation of the zero model: some excess-zero probability this close to 0 or 1, and
#: some zero-model coefficient with a standard error beyond SE_RATIO x max(1, |coefficient|)
PI_BOUNDARY = 1e-14
SE_RATIO = 1e3


def _boundary(res: NewtonResult, inp: CountInputs, link: str, kx: int,
              kz: int) -> NewtonResult:
    """Not converged when some excess-zero probability is numerically 0 or 1 and the
    information along a zero-model coefficient has (all but) vanished: that coefficient
    runs off to infinity, and the Newton certificate (score and information vanishing
    together) says nothing, as for a separated logistic GLM. (A finite maximum can have
    probabilities of 1e-30 with a covariate of a wide range; its standard errors are
    ordinary.)"""
    zeta = inp.Z @ res.params[kx:kx + kz] + (0.0 if inp.z_offset is None else inp.z_offset)
    zt = zero_terms(link, zeta)
    with np.errstate(divide="ignore"):
        extreme = np.any(zt.log_pi < np.log(PI_BOUNDARY)) or \
            np.any(zt.log1m < np.log(PI_BOUNDARY))
    if not extreme:
        return res
    gamma = res.params[kx:kx + kz]
    se = np.sqrt(np.abs(np.diag(_information_inverse(res.information))))[kx:kx + kz]
    if not np.any(~np.isfinite(se) | (se > SE_RATIO * np.maximum(1.0, np.abs(gamma)))):
        return res
    return replace(res, converged=False, separated=True,
                   message="excess-zero probabilities numerically 0 or 1 occurred: the zero "
                           "model is (quasi-)separated and its maximum is at infinity (the "
                           "plain count model's, where all of them are 0)")


def _poisson_start(inp: CountInputs) -> np.ndarray:
    from ..families import Poisson
    from ..model import GLM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.asarray(GLM(inp.y, inp.X, family=Poisson(), offset=inp.x_offset,
                                  freq_weights=inp.weights).fit().params, dtype=float)
        except Exception:  # noqa: BLE001 - a start only
            return _intercept_start(inp.X, inp.x_offset,
                                    float(np.log(_wmean(inp.y, inp.weights))))


#: from this many rows, the first start is the fit of a random subsample (fewer passes over
#: all rows; the certificate on all rows is unchanged)
SUBSAMPLE_FROM = 200_000
SUBSAMPLE = 50_000


def _subsample_start(inp: CountInputs, dist, link, maxiter) -> np.ndarray | None:
    rows = np.sort(np.random.default_rng(20150).choice(inp.n, SUBSAMPLE, replace=False))
    y = inp.y[rows]
    if not (np.any(y == 0) and np.any(y > 0)):
        return None
    sub = replace(inp, y=y, X=np.ascontiguousarray(inp.X[rows]),
                  Z=np.ascontiguousarray(inp.Z[rows]), x_offset=_subset(inp.x_offset, rows),
                  z_offset=_subset(inp.z_offset, rows), weights=_subset(inp.weights, rows))
    blocks = [Block(sub.X, sub.x_offset), Block(sub.Z, sub.z_offset)] + \
        ([Block(None)] if dist == "negbin" else [])
    kernel = zeroinfl_kernel(y, dist, link)
    for s in _zeroinfl_starts(sub, dist, link, maxiter, 1e-6, subsample=False):
        r = _maximize(blocks, kernel, sub.n, sub.weights, s, maxiter, 1e-6)
        if r.converged:
            return r.params
    return None


def _zeroinfl_starts(inp: CountInputs, dist, link, maxiter, tol, subsample=True):
    """pscl's starting values: the zero-truncated count fit of the positive rows (theta
    from it) and the binary fit of y == 0; then (only if needed: a generator) pscl's
    fallback, a Poisson GLM of all rows and theta = 1, and EM from it. For many rows,
    first the maximum of a random subsample."""
    if subsample and inp.n >= SUBSAMPLE_FROM:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = _subsample_start(inp, dist, link, maxiter)
        if s is not None:
            yield s
    y, w = inp.y, inp.weights
    kx = inp.X.shape[1]
    nb = dist == "negbin"
    pos = np.nonzero(y > 0)[0]
    tr = fit_truncated(_subset(inp.X, pos), _subset(inp.x_offset, pos), y[pos],
                       _subset(w, pos), dist, maxiter, tol)
    zr = fit_binary(inp.Z, inp.z_offset, y == 0, w, link, maxiter, tol)
    if tr.converged:
        lt = [min(max(tr.params[-1], -5.0), 5.0)] if nb else []
        yield np.concatenate([tr.params[:kx], zr.params, lt])
    fallback = np.concatenate([_poisson_start(inp), zr.params, [0.0] if nb else []])
    yield fallback
    yield em_start(inp, dist, link, fallback)


def fit_hurdle(inp: CountInputs, dist: str, zero_dist: str, link: str, maxiter: int = 200,
               tol: float = 1e-8) -> CountFit:
    y, w = inp.y, inp.weights
    kx, kz = inp.X.shape[1], inp.Z.shape[1]
    pos = np.nonzero(y > 0)[0]
    cr = fit_truncated(_subset(inp.X, pos), _subset(inp.x_offset, pos), y[pos],
                       _subset(w, pos), dist, maxiter, tol)
    _warn(cr, "hurdle (count part)")
    if zero_dist == "binomial":
        zr = fit_binary(inp.Z, inp.z_offset, y > 0, w, link, maxiter, tol)
    else:
        zr = fit_zero_count(inp.Z, inp.z_offset, y, w, zero_dist, maxiter, tol)
    _warn(zr, "hurdle (zero hurdle)")
    cnb, znb = dist == "negbin", zero_dist == "negbin"
    # pscl's order: count, zero, log theta (count), log theta (zero)
    order = ([("c", j) for j in range(kx)] + [("z", j) for j in range(kz)]
             + ([("c", kx)] if cnb else []) + ([("z", kz)] if znb else []))
    k = len(order)
    cov = np.zeros((k, k))
    vc, vz = _information_inverse(cr.information), _information_inverse(zr.information)
    for a, (pa, ia) in enumerate(order):
        for b, (pb, ib) in enumerate(order):
            if pa == pb:
                cov[a, b] = (vc if pa == "c" else vz)[ia, ib]
    lts = np.concatenate([cr.params[kx:], zr.params[kz:]])
    return CountFit("hurdle", dist, zero_dist, link, cr.params[:kx], zr.params[:kz], lts, cov,
                    cr.llf + zr.llf, cr.converged and zr.converged, cr.n_iter + zr.n_iter,
                    max(cr.criterion, zr.criterion), cnb, znb)


def zeroinfl(formula: str, data: Any, dist: Dist = "poisson", link: Link = "logit",
             weights: Any = None, offset: Any = None, maxiter: int = 200,
             tol: float = 1e-8) -> CountModelResults:
    """Zero-inflated count regression from a two-part formula, as ``pscl::zeroinfl``.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 | z1 + z2"``: count regressors, then the regressors of the
        probability of an excess zero (without ``|``: the same as the count part's).
        ``offset(...)`` terms go to the part that holds them.
    data : pandas or polars data frame.
    dist : count distribution, ``'poisson'``, ``'negbin'`` or ``'geometric'``.
    link : link of the zero-inflation probability: ``'logit'``, ``'probit'``,
        ``'cloglog'``, ``'cauchit'`` or ``'log'``.
    weights : frequency weights (array or column name).
    offset : offset of the count part (array or column name), added to offset() terms.

    Returns
    -------
    CountModelResults with pscl's ``coefficients`` (``count``/``zero``), ``params``,
    ``cov_params()`` (pscl's ``vcov``), ``theta`` and ``SE_logtheta`` (negbin), ``llf``,
    ``aic``, ``bic``, ``predict(new_data, which='response'|'prob'|'count'|'zero')`` and
    ``summary()``.
    """
    _check(dist, COUNT_DISTS, "dist")
    _check(link, ZERO_LINKS, "link")
    inp = from_formula(formula, data, weights, offset)
    return CountModelResults(inp, fit_zeroinfl(inp, dist, link, maxiter, tol),
                             has_offset_arg=offset is not None)


def hurdle(formula: str, data: Any, dist: Dist = "poisson", zero_dist: ZeroDist = "binomial",
           link: Link = "logit", weights: Any = None, offset: Any = None, maxiter: int = 200,
           tol: float = 1e-8) -> CountModelResults:
    """Hurdle count regression from a two-part formula, as ``pscl::hurdle``.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 | z1"``: count regressors | zero hurdle regressors.
    dist : the zero-truncated count distribution of the positive counts
        (``'poisson'``, ``'negbin'``, ``'geometric'``).
    zero_dist : the hurdle, P(y > 0): ``'binomial'`` (with ``link``), or ``'poisson'``,
        ``'negbin'``, ``'geometric'`` (P(y > 0) = 1 - f(0), log link).
    link : the binomial hurdle's link (``'logit'``, ``'probit'``, ``'cloglog'``,
        ``'cauchit'``, ``'log'``).
    weights, offset : as :func:`zeroinfl`.

    Returns
    -------
    CountModelResults (see :func:`zeroinfl`); ``theta`` and ``SE_logtheta`` are Series named
    ``count`` and ``zero`` as pscl's.
    """
    _check(dist, COUNT_DISTS, "dist")
    _check(zero_dist, ("binomial",) + COUNT_DISTS, "zero_dist")
    _check(link, ZERO_LINKS, "link")
    inp = from_formula(formula, data, weights, offset)
    return CountModelResults(inp, fit_hurdle(inp, dist, zero_dist, link, maxiter, tol),
                             has_offset_arg=offset is not None)
