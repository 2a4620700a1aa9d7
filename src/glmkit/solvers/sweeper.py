"""The per-row work of IRLS: one sweep over the data at given coefficients.

:func:`glmkit.solvers.irls.irls` steers (solves, halving, stopping); a sweeper does every
sum over rows. :class:`InMemorySweeper` walks the row blocks of an in-memory design; a
distributed sweeper does the same over partitions and returns only p x p and p-sized sums
(the per-row arrays it returns may be lazy).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..families._fused import kernel_for
from ..problem import GLMProblem


@dataclass
class Sweep:
    """Sums of one pass over the rows at one linear predictor, and the per-row state."""

    deviance: float
    valid: bool
    gram: np.ndarray | None
    score: np.ndarray
    gram_observed: np.ndarray | None
    eta: Any
    mu: Any
    w: Any


class InMemorySweeper:
    """Sweeps over :meth:`DesignMatrix.row_blocks` with the family's (fused) kernel."""

    def __init__(self, problem: GLMProblem, fused: bool = True):
        self.problem = problem
        self.kernel = kernel_for(problem.family, fused=fused)
        self.constant = self.kernel.constant(problem.y, problem.total_weights)
        self.n_eff = float(np.sum(problem.freq_weights[problem.prior_weights > 0]))

    def start_eta(self):
        """g(starting means), R's initialize."""
        p = self.problem
        return p.family.link(p.family.starting_mu(p.y, p.prior_weights))

    @staticmethod
    def midpoint(a, b):
        return 0.5 * (a + b)

    def sweep(self, beta: np.ndarray | None, eta0=None, observed: bool = False,
              reuse: Sweep | None = None, expected: bool = True) -> Sweep:
        """One pass: eta, mu, deviance, X'WX, X'u (and the observed X'WX when asked).

        With ``beta`` None the linear predictor is ``eta0`` (IRLS's starting values) and the
        ``score`` field holds X'Wz instead, what the first solve needs. The n-vectors of
        ``reuse`` (a sweep the caller no longer needs) are overwritten instead of allocated.
        With ``expected=False`` only the observed X'WX is formed (``gram`` is None).
        """
        problem, kernel = self.problem, self.kernel
        X = problem.X
        n, p = X.shape
        if reuse is not None and reuse.eta.shape == (n,) and reuse.eta is not eta0:
            eta, mu, w_all = reuse.eta, reuse.mu, reuse.w
        else:
            eta, mu, w_all = np.empty(n), np.empty(n), np.empty(n)
        G = np.zeros((p, p)) if expected else None
        Go = np.zeros((p, p)) if observed else None
        s = np.zeros(p)
        dev = self.constant
        valid = True
        tw_all = problem.total_weights
        # a trial step outside the family's range gives meaningless numbers, and must not
        # warn: the solver rejects it on its deviance and validity
        with np.errstate(all="ignore"):
            for sl, Xb in X.row_blocks():
                if beta is None:
                    e = eta0[sl]
                else:
                    e = Xb.matvec(beta) + problem.offset[sl]
                m, d, w, u, wo = kernel.evaluate(problem.y[sl], e, tw_all[sl], observed)
                valid = valid and kernel.valid(e, m)
                dev += d
                if expected:
                    G += Xb.sandwich(w)
                # from starting values IRLS solves X'WX b = X'Wz,
                # z = eta - offset + (y - mu) / mu_eta
                s += Xb.rmatvec(u if beta is not None else u + w * (e - problem.offset[sl]))
                if observed:
                    Go += Xb.sandwich(wo)
                eta[sl], mu[sl], w_all[sl] = e, m, w
        # the eta-free constant and the sum can cancel to -1e-14 at a saturated fit
        dev = max(dev, 0.0) if np.isfinite(dev) else dev
        return Sweep(dev, valid, G, s, Go, eta, mu, w_all)

    def expected_gram(self, sw: Sweep) -> np.ndarray:
        """X'WX at a sweep's working weights (one pass, no X @ b)."""
        return self.problem.X.sandwich(sw.w)

    def null_coefficients(self, keep: np.ndarray):
        """Coefficients of g(weighted mean of y) on a constant column, if that is a valid
        point of the family; else None."""
        problem = self.problem
        X = problem.X
        const = np.flatnonzero(X.column_is_constant() & keep)
        if const.size == 0:
            return None
        tw = problem.total_weights
        link = problem.family.link
        j = const[0]
        beta = np.zeros(X.shape[1])
        x0 = X.matvec(np.eye(X.shape[1])[j])[0]
        beta[j] = float(link(np.array([np.sum(tw * problem.y) / np.sum(tw)]))[0]) / x0
        eta = X.matvec(beta) + problem.offset
        mu = link.inverse(eta)
        return beta if np.isfinite(problem.deviance(mu)) and problem.is_valid(eta, mu) else None
