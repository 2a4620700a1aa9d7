"""Model checks: D^2, binomial scores, calibration, count dispersion (filled below)."""
from __future__ import annotations

import numpy as np


def _weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != (n,) or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"sample_weight must be {n} finite non-negative numbers.")
    return w


def d2_score(y, mu, family, sample_weight=None) -> float:
    """D^2 = 1 - D(y, mu) / D(y, ybar), ybar the weighted mean of y (scikit-learn's
    ``d2_tweedie_score`` and ``PoissonRegressor.score``)."""
    y = np.asarray(y, dtype=float).ravel()
    mu = np.asarray(mu, dtype=float).ravel()
    if y.shape != mu.shape:
        raise ValueError(f"y has {y.size} values, the predictions {mu.size}.")
    w = _weights(sample_weight, y.size)
    dev = family.deviance(y, mu, freq_weights=w)
    null = family.deviance(y, np.full_like(y, np.average(y, weights=w)), freq_weights=w)
    return float(1.0 - dev / null)
