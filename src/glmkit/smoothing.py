"""Scatterplot smoothing shared by the plots (:mod:`glmkit.plotting`,
:mod:`glmkit.regressionplots`)."""
from __future__ import annotations

import numpy as np


def lowess(x, y, frac: float = 2.0 / 3.0, iters: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Cleveland's robust locally weighted regression (R's ``lowess`` defaults: f = 2/3,
    3 robustifying iterations), evaluated at the sorted x. Returns (x sorted, fitted)."""
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, float)[order], np.asarray(y, float)[order]
    n = len(x)
    r = max(2, min(n, int(frac * n + 1e-7)))   # R's clowess: floor(f n) neighbours
    fitted = np.empty(n)
    robust = np.ones(n)
    for it in range(iters + 1):
        for i in range(n):
            dist = np.abs(x - x[i])
            h = np.partition(dist, r - 1)[r - 1]
            u = dist / h if h > 0 else (dist > 0) * 2.0
            # tricube, exactly 1 within 0.001 h and 0 beyond 0.999 h (clowess)
            w = np.where(u <= 1e-3, 1.0, np.where(u > 0.999, 0.0,
                                                  np.clip(1 - u ** 3, 0, None) ** 3)) * robust
            sw = w.sum()
            if sw <= 0:
                fitted[i] = y[i]
                continue
            xm, ym = (w @ x) / sw, (w @ y) / sw
            sxx = w @ (x - xm) ** 2
            slope = (w @ ((x - xm) * (y - ym))) / sxx if sxx > 1e-12 * max(1.0, sw) else 0.0
            fitted[i] = ym + slope * (x[i] - xm)
        if it == iters:
            break
        res = y - fitted
        s = np.median(np.abs(res))
        if s == 0:
            break
        robust = np.clip(1 - (res / (6 * s)) ** 2, 0, None) ** 2
    return x, fitted
