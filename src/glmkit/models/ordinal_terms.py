"""The per-row terms of a cumulative link model's likelihood and the map to statsmodels'
threshold parameters: used by the fit (ordinal.py) and by the results' sandwich
(ordinal_results.py), which therefore do not import each other.
"""
from __future__ import annotations

import numpy as np

from ._cdfs import LatentDistribution, interval_prob


def _row_terms(theta, X, codes, offset, K, dist: LatentDistribution, bound: float = np.inf):
    """Per-row log P and the derivatives of log P in a = zeta_y - eta, b = zeta_{y-1} - eta;
    a and b are clipped to [-bound, bound] (MASS::polr clips at 100)."""
    p = X.shape[1]
    eta = X @ theta[:p]
    if offset is not None:
        eta = eta + offset
    zpad = np.concatenate([[-np.inf], theta[p:], [np.inf]])
    a = np.minimum(zpad[codes + 1] - eta, bound)
    b = np.maximum(zpad[codes] - eta, -bound)
    top, bot = a >= bound, b <= -bound
    af = np.where(top, 0.0, a)
    bf = np.where(bot, 0.0, b)
    with np.errstate(all="ignore"):
        P = interval_prob(dist, a, b)
        fa = np.where(top, 0.0, dist.pdf(af))
        fb = np.where(bot, 0.0, dist.pdf(bf))
        dfa = np.where(top, 0.0, dist.dpdf(af))
        dfb = np.where(bot, 0.0, dist.dpdf(bf))
        logP = np.log(P)
        ga, gb = fa / P, fb / P
        l_aa = dfa / P - ga * ga
        l_bb = -dfb / P - gb * gb
        l_ab = ga * gb
    return logP, ga, gb, l_aa, l_bb, l_ab


def to_statsmodels(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels' parameters of (beta, zeta) and the Jacobian of the map."""
    zeta = theta[p:]
    out = np.concatenate([theta[:p], zeta[:1], np.log(np.diff(zeta))])
    J = np.eye(theta.shape[0])
    for j in range(1, zeta.shape[0]):
        d = zeta[j] - zeta[j - 1]
        J[p + j, p + j], J[p + j, p + j - 1] = 1.0 / d, -1.0 / d
    return out, J
