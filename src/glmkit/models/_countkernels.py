"""Row kernels (log-likelihood, gradient and Hessian per row in the linear predictors and
log theta) of the zero-inflated model, the zero-truncated count and the zero hurdle.

Conventions
-----------
Coordinates: ``eta`` (count, log mu), ``zeta`` (zero part's linear predictor), ``lt``
(log theta). Each kernel returns ``(l, G, H)`` as :mod:`._multieta` expects; a
coordinate absent from the model (lt of a Poisson) is not in G or H.

Notes
-----
Zero-inflated, P = pi + (1 - pi) f0 at y = 0 and (1 - pi) f(y) above: with B = (1 - pi) f0 / P,
dl/dzeta = pi' (1 - f0) / P, dl/da = B L0_a, and second derivatives P_ab / P - l_a l_b,
where P_zz = pi'' (1 - f0), P_za = -pi' f0 L0_a, P_ab = (1 - pi) f0 (L0_ab + L0_a L0_b).
Zero-truncated: l = L - log(1 - f0); with s = f0 / (1 - f0), l_a = L_a + s L0_a and
l_ab = L_ab + s L0_ab + s (1 + s) L0_a L0_b.
"""
from __future__ import annotations

import numpy as np

from ._countdist import CountTerms, count_terms, zero_terms


def _count_lists(c: CountTerms, with_theta: bool):
    if with_theta:
        return [c.L_e, c.L_t], [[c.L_ee, c.L_et], [c.L_et, c.L_tt]]
    return [c.L_e], [[c.L_ee]]


def zeroinfl_kernel(y: np.ndarray, dist: str, link: str):
    """Blocks (count X, zero Z[, lt])."""
    theta = dist == "negbin"

    def kernel(sl, coords):
        yc = y[sl]
        eta, zeta = coords[0], coords[1]
        c = count_terms(dist, yc, eta, coords[2] if theta else None)
        z = zero_terms(link, zeta)
        pos = yc > 0
        l0 = np.logaddexp(z.log_pi, z.log1m + c.L)
        l = np.where(pos, z.log1m + c.L, l0)
        inv_p = np.exp(-l0)
        B = np.exp(z.log1m + c.L - l0)
        r1 = z.pi1 * np.exp(-z.log1m)        # pi' / (1 - pi)
        one_m_f0 = -np.expm1(c.L)
        cg, ch = _count_lists(c, theta)
        m = len(cg)
        # zero rows
        gz0 = z.pi1 * one_m_f0 * inv_p
        hzz0 = z.pi2 * one_m_f0 * inv_p - gz0 * gz0
        ga0 = [B * g for g in cg]
        # positive rows
        gz1 = -r1
        hzz1 = -z.pi2 * np.exp(-z.log1m) - r1 * r1
        G = [np.where(pos, cg[0], ga0[0]), np.where(pos, gz1, gz0)]
        if theta:
            G.append(np.where(pos, cg[1], ga0[1]))
        idx = [0, 2] if theta else [0]   # count coordinates' positions in G
        H = [[None] * len(G) for _ in G]
        H[1][1] = np.where(pos, hzz1, hzz0)
        for i in range(m):
            H[1][idx[i]] = H[idx[i]][1] = np.where(pos, 0.0, -r1 * B * cg[i] - gz0 * ga0[i])
            for j in range(i, m):
                h0 = B * (ch[i][j] + cg[i] * cg[j]) - ga0[i] * ga0[j]
                H[idx[i]][idx[j]] = H[idx[j]][idx[i]] = np.where(pos, ch[i][j], h0)
        return l, G, H

    return kernel


def truncated_kernel(y: np.ndarray, dist: str):
    """The zero-truncated count (hurdle's count part; rows with y > 0 only): blocks
    (X[, lt])."""
    theta = dist == "negbin"

    def kernel(sl, coords):
        yc = y[sl]
        lt = coords[1] if theta else None
        c = count_terms(dist, yc, coords[0], lt)
        c0 = count_terms(dist, np.zeros_like(yc), coords[0], lt)
        log1m_f0 = np.log(-np.expm1(c0.L))
        s = 1.0 / np.expm1(-c0.L)
        g, h = _count_lists(c, theta)
        g0, h0 = _count_lists(c0, theta)
        G = [g[i] + s * g0[i] for i in range(len(g))]
        H = [[h[i][j] + s * h0[i][j] + s * (1.0 + s) * g0[i] * g0[j] for j in range(len(g))]
             for i in range(len(g))]
        return c.L - log1m_f0, G, H

    return kernel


def binary_kernel(event: np.ndarray, link: str):
    """l = e log pi + (1 - e) log(1 - pi), pi = linkinv(zeta), e the event (0/1, or a
    fraction in EM): block (Z)."""
    e_all = np.asarray(event, dtype=float)

    def kernel(sl, coords):
        e = e_all[sl]
        z = zero_terms(link, coords[0])
        g1 = z.pi1 * np.exp(-z.log_pi)
        h1 = z.pi2 * np.exp(-z.log_pi) - g1 * g1
        g0 = -z.pi1 * np.exp(-z.log1m)
        h0 = -z.pi2 * np.exp(-z.log1m) - g0 * g0
        l = np.where(e > 0, e * z.log_pi, 0.0) + np.where(e < 1, (1 - e) * z.log1m, 0.0)
        return l, [np.where(e > 0, e * g1, 0.0) + np.where(e < 1, (1 - e) * g0, 0.0)], \
            [[np.where(e > 0, e * h1, 0.0) + np.where(e < 1, (1 - e) * h0, 0.0)]]

    return kernel


def count_kernel(y: np.ndarray, dist: str):
    """The plain count likelihood log f(y): blocks (X[, lt])."""
    theta = dist == "negbin"

    def kernel(sl, coords):
        c = count_terms(dist, y[sl], coords[0], coords[1] if theta else None)
        g, h = _count_lists(c, theta)
        return c.L, g, h

    return kernel


def zero_count_kernel(y: np.ndarray, dist: str):
    """The zero hurdle as a count distribution: l = log f0 at y = 0, log(1 - f0) above:
    blocks (Z[, lt])."""
    theta = dist == "negbin"

    def kernel(sl, coords):
        pos = y[sl] > 0
        c0 = count_terms(dist, np.zeros(pos.shape[0]), coords[0], coords[1] if theta else None)
        s = 1.0 / np.expm1(-c0.L)
        g0, h0 = _count_lists(c0, theta)
        m = len(g0)
        G = [np.where(pos, -s * g0[i], g0[i]) for i in range(m)]
        H = [[np.where(pos, -s * h0[i][j] - s * (1.0 + s) * g0[i] * g0[j], h0[i][j])
              for j in range(m)] for i in range(m)]
        return np.where(pos, np.log(-np.expm1(c0.L)), c0.L), G, H

    return kernel
