"""Tight reference coefficients, computed once per problem and cached.

- Dense problems (a, b, c, d, f) and e_small (dense one-hot, 2,011 columns): statsmodels'
  IRLS with ``tol_criterion='params', atol=1e-12`` (every coefficient changes by less than
  1e-12 between the last two passes), maxiter 300. Without statsmodels: glmkit at tol=1e-12.
- e (2,010 coefficients, n=1,000,000): its dense one-hot design would take 16 GB, so the
  reference is :func:`categorical_poisson_newton`, a direct Newton solve that builds X'WX
  from the categorical structure (a diagonal block of per-level weight sums, per-level sums
  of the weighted numeric columns, the dense numeric block). On e_small it is computed as well
  and its agreement with statsmodels is recorded as a check of the method.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg

from . import problemdata as pdata


def categorical_poisson_newton(X, codes, levels, y, offset=None, max_iter=100, tol=1e-13):
    """MLE of a Poisson log-link GLM on [1, X, treatment-coded codes], canonical order.

    Newton (= Fisher scoring for this canonical link) on the full 1 + p + L - 1 system,
    step-halving on the deviance, stopping when the largest step is below
    ``tol * max(1, |beta|)``. Returns (params, n_iter).
    """
    n, p = X.shape
    L = int(levels)
    Xc = pdata.with_constant(X)
    k1 = p + 1
    off = np.zeros(n) if offset is None else offset
    ybar = float(np.mean(y))
    beta = np.zeros(k1 + L - 1)
    beta[0] = np.log(ybar)

    def eta_of(b):
        g = np.concatenate([[0.0], b[k1:]])
        return Xc @ b[:k1] + g[codes] + off

    def deviance(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(y > 0, y * np.log(y / mu), 0.0)
        return 2.0 * float(np.sum(t - (y - mu)))

    eta = eta_of(beta)
    mu = np.exp(eta)
    dev = deviance(mu)
    it = 0
    for it in range(1, max_iter + 1):
        w = mu
        r = y - mu
        sw = np.sqrt(w)
        B = Xc * sw[:, None]
        G = np.empty((k1 + L - 1, k1 + L - 1))
        G[:k1, :k1] = B.T @ B
        cross = np.empty((k1, L))
        for j in range(k1):
            cross[j] = np.bincount(codes, weights=w * Xc[:, j], minlength=L)
        G[:k1, k1:] = cross[:, 1:]
        G[k1:, :k1] = cross[:, 1:].T
        G[k1:, k1:] = 0.0
        diag = np.bincount(codes, weights=w, minlength=L)[1:]
        G[np.arange(k1, k1 + L - 1), np.arange(k1, k1 + L - 1)] = diag
        score = np.concatenate([Xc.T @ r, np.bincount(codes, weights=r, minlength=L)[1:]])
        step = scipy.linalg.cho_solve(scipy.linalg.cho_factor(G, lower=True), score)
        t = 1.0
        for _ in range(40):
            b_new = beta + t * step
            eta_new = eta_of(b_new)
            mu_new = np.exp(eta_new)
            dev_new = deviance(mu_new)
            if np.isfinite(dev_new) and dev_new <= dev + 1e-12 * abs(dev):
                break
            t *= 0.5
        beta, eta, mu, dev = b_new, eta_new, mu_new, dev_new
        if np.max(np.abs(t * step)) <= tol * max(1.0, float(np.max(np.abs(beta)))):
            break
    return beta, it


def compute(problem: str, data: dict) -> dict:
    """Reference params in canonical order, with how they were obtained."""
    from .libs import GlmkitRunner, StatsmodelsRunner, _importable

    t0 = time.perf_counter()
    info: dict = {}
    if problem == "e":
        params, it = categorical_poisson_newton(data["X"], data["codes"], data["levels"],
                                                data["y"], data.get("offset"))
        info.update(source="structured Newton (benchmarks/reference.py), step < 1e-13",
                    n_iter=it)
    elif _importable("statsmodels"):
        r = StatsmodelsRunner(problem, data)
        res = r.fit(r.prepare(), tol=1e-12, tol_criterion="params", atol=1e-12, rtol=0.0,
                    maxiter=300)
        params, it, conv = r.extract(res)
        info.update(source="statsmodels IRLS, tol_criterion='params', atol=1e-12",
                    n_iter=it, converged=conv)
        if problem == "e_small":
            alt, _ = categorical_poisson_newton(data["X"], data["codes"], data["levels"],
                                                data["y"], data.get("offset"))
            info["structured_newton_rel_diff"] = pdata.rel_diff(alt, params)
    else:
        r = GlmkitRunner(problem, data)
        res = r.fit(r.prepare(), tol=1e-12)
        params, it, conv = r.extract(res)
        info.update(source="glmkit IRLS tol=1e-12 (statsmodels not installed)", n_iter=it,
                    converged=conv)
    info["seconds"] = time.perf_counter() - t0
    info["params"] = [float(v) for v in params]
    info["true_params"] = [float(data["intercept"])] + _true_numeric_first(problem, data)
    return info


def _true_numeric_first(problem: str, data: dict) -> list[float]:
    """problems.py's true beta in canonical order ([x..., levels...])."""
    beta = np.asarray(data["beta"], dtype=float)
    if problem in ("e", "e_small"):
        L = int(data["levels"])
        beta = np.concatenate([beta[L - 1:], beta[:L - 1]])
    return [float(v) for v in beta]
