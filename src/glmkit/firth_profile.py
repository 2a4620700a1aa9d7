"""Profile penalized-likelihood intervals for Firth fits (logistf's default intervals).

For a canonical link the bias-reducing adjusted score is the gradient of the Jeffreys-
penalized log-likelihood

    l*(b) = l(b) + 1/2 log det(X'W(b)X),

so a bias-reduced fit has a likelihood to profile. For coefficient j, l*_j(c) is the maximum
of l* over the other coefficients with b_j = c; the interval is where

    2 (l*(b_hat) - l*_j(c)) <= chi2_{1 - alpha}(1)

(Heinze and Schemper 2002, logistf's ``pl = TRUE``). The penalty keeps the whole design in
X'WX, column j included, so the restricted maximum is not a fit with x_j in the offset: it
solves the free components of the adjusted score, U*_f = 0, by quasi-Fisher steps with
(X'WX)_ff, halved while l* falls. The ends are found by Brent's method on the signed
root of the statistic, to 1e-10 in the coefficient. Intervals stay finite under separation.
Under separation the restricted l* can have two local maxima; each restricted fit starts from
the estimates and from the neighbouring restricted maximum and keeps the higher.

Binomial-logit and Poisson-log only: for other links the adjusted score is not a gradient
(brglm2's AS_mean has no likelihood to profile); use Wald intervals there.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from .families import Binomial, Poisson, links


def _check(res) -> None:
    fam = res.family
    canonical = (isinstance(fam, Binomial) and isinstance(fam.link, links.Logit)) or \
        (isinstance(fam, Poisson) and isinstance(fam.link, links.Log))
    if not canonical:
        raise ValueError("profile penalized-likelihood intervals need Binomial with the logit "
                         "link or Poisson with the log link (there the bias-reduced estimate "
                         "maximizes the Jeffreys-penalized likelihood); use "
                         "conf_int(method='wald') for this Firth fit.")


class _Penalized:
    """l*(b) and its restricted maxima for one fitted problem (dense, kept columns)."""

    def __init__(self, res):
        p = res.model.problem
        self.X = p.X.to_dense()[:, res._keep]
        self.y, self.tw, self.off = p.y, p.total_weights, p.offset
        self.problem, self.link = p, res.family.link

    def state(self, b):
        """(l*, adjusted score, X'WX) at b; None where the mean leaves the range."""
        with np.errstate(all="ignore"):
            eta = self.X @ b + self.off
            mu = self.link.inverse(eta)
        if not (np.all(np.isfinite(mu)) and self.problem.is_valid(eta, mu)):
            return None
        var = self.problem.family.variance(mu)
        w = self.tw * var   # canonical link: dmu/deta = V(mu)
        G = self.X.T @ (self.X * w[:, None])
        try:
            L = np.linalg.cholesky(G)
        except np.linalg.LinAlgError:
            return None
        Linv = np.linalg.inv(L)
        Ginv = Linv.T @ Linv
        h = w * np.sum((self.X @ Ginv) * self.X, axis=1)
        # d'/d for the canonical links: 1 - 2 mu (logit), 1 (log)
        ratio = 1.0 - 2.0 * mu if isinstance(self.link, links.Logit) else np.ones_like(mu)
        score = self.X.T @ (self.tw * (self.y - mu) + 0.5 * h * ratio)
        lstar = -0.5 * self.problem.deviance(mu) + np.sum(np.log(np.diag(L)))
        return lstar, score, G

    def restricted(self, b, j: int, value: float, tol: float = 1e-11, maxiter: int = 200):
        """max of l* over the coefficients other than j (b_j = value), from b."""
        b = np.array(b, dtype=float)
        b[j] = value
        free = np.arange(b.size) != j
        st = self.state(b)
        if st is None:
            raise ValueError(f"the mean leaves the family's range at coefficient value {value}")
        for _ in range(maxiter):
            lstar, score, G = st
            if not free.any():
                return lstar, b
            Gf = G[np.ix_(free, free)]
            delta = np.linalg.solve(Gf, score[free])
            if np.sqrt(max(delta @ Gf @ delta, 0.0)) < tol:
                return lstar, b
            t = 1.0
            for _ in range(50):
                cand = b.copy()
                cand[free] += t * delta
                new = self.state(cand)
                if new is not None and new[0] >= lstar - 1e-12 * (1.0 + abs(lstar)):
                    break
                t *= 0.5
            else:
                return lstar, b
            b, st = cand, new
        return st[0], b


def firth_profile_conf_int(res, alpha: float = 0.05, n_starts: int = 8) -> np.ndarray:
    """(k, 2) profile penalized-likelihood intervals; NaN rows for aliased columns.

    Each end found is checked by restricted fits from ``n_starts`` random starts around the
    estimates (4 standard errors wide, a fixed seed): where one finds a higher maximum, the
    search goes on outward from there."""
    _check(res)
    pen = _Penalized(res)
    keep = res._keep
    b_hat = np.asarray(res._params, dtype=float)[keep]
    bse = np.asarray(res._bse, dtype=float)[keep]
    top = pen.state(b_hat)[0]
    crit = stats.chi2.ppf(1.0 - alpha, 1)
    rng = np.random.default_rng(20021)
    scatter = [b_hat + rng.normal(0.0, 4.0, b_hat.size) * bse for _ in range(n_starts)]
    out = np.full((keep.size, 2), np.nan)
    for jj, j in enumerate(np.flatnonzero(keep)):
        cache = {"b": b_hat}

        def signed(c, jj=jj, cache=cache):
            lstar, b = max(pen.restricted(cache["b"], jj, c), pen.restricted(b_hat, jj, c),
                           key=lambda r: r[0])
            cache["b"] = b
            return 2.0 * (top - lstar) - crit

        def better(c, jj=jj, cache=cache):
            """A restricted maximum at c clearly above the one found (another ridge), or
            None."""
            best = pen.restricted(cache["b"], jj, c)[0] + 1e-7
            found = None
            for s in scatter:
                try:
                    lstar, b = pen.restricted(s, jj, c)
                except ValueError:
                    continue
                if lstar > best:
                    best, found = lstar, (lstar, b)
            return found

        for side, sign in ((0, -1.0), (1, 1.0)):
            cache["b"] = b_hat
            step = max(bse[jj], 1e-3 * (1.0 + abs(b_hat[jj])))
            inner = b_hat[jj]
            for _ in range(10):   # each round: step out, find the end, check it
                outer = inner + sign * step
                for _ in range(60):   # step out until the statistic passes the quantile
                    if signed(outer) > 0:
                        break
                    inner, outer = outer, outer + sign * step
                    step *= 2.0
                else:
                    break   # no end within reach: leave NaN
                lo, hi = sorted((inner, outer))
                root = optimize.brentq(signed, lo, hi, xtol=1e-10, rtol=1e-14)
                found = better(root)
                if found is None:
                    out[j, side] = root
                    break
                inner, cache["b"] = root, found[1]   # another, higher ridge: go on from it
                step = max(bse[jj], abs(root - b_hat[jj])) * 0.25
    return out
