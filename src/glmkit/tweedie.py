"""The Tweedie power by profile likelihood (R's ``tweedie.profile``).

For each power p in (1, 2) the model is fitted with ``Tweedie(var_power=p)`` (the same
link, offsets and weights), the dispersion phi is set to its maximum-likelihood value at
those means, and the exact compound Poisson-gamma log-likelihood (Dunn and Smyth's series)
is the profile ``llf(p)``. The maximizing power is found on a grid, then refined by Brent's
method; its interval is {p : 2 (llf(p_hat) - llf(p)) <= chi2_1(1 - alpha)}, the ends found
by root finding. Each evaluation is one GLM fit (warm-started from the last).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from .families import Tweedie

__all__ = ["tweedie_profile", "TweedieProfile"]


@dataclass(frozen=True)
class TweedieProfile:
    """Result of :func:`tweedie_profile`.

    p : the maximizing power; phi : the dispersion's maximum-likelihood value there;
    llf : the profile log-likelihood at p; ci : (low, high) interval of p (NaN where it
    leaves the searched range); grid, grid_llf : the profile on the grid; results : the
    GLM results at p (phi aside, they are the fit of Tweedie(var_power=p)).
    """

    p: float
    phi: float
    llf: float
    ci: tuple[float, float]
    grid: np.ndarray
    grid_llf: np.ndarray
    results: Any

    def plot(self, ax=None):
        """The profile log-likelihood against p, with the maximum and the interval."""
        from .plotting import _figure_and_axes

        fig, (axis,) = _figure_and_axes(ax)
        axis.plot(self.grid, self.grid_llf, "o-", color="k", ms=3)
        axis.axvline(self.p, color="tab:red", lw=1)
        for end in self.ci:
            if np.isfinite(end):
                axis.axvline(end, color="tab:red", ls="--", lw=0.8)
        axis.set(title="Tweedie profile likelihood", xlabel="power p", ylabel="log-likelihood")
        return fig


def _fit_at(model, p: float, start, fit_kwds):
    from .negbin import _with_family

    new = _with_family(model, Tweedie(model.family.link, var_power=float(p),
                                      check_link=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return new.fit(start_params=start, **fit_kwds)


def _phi_mle(res) -> tuple[float, float]:
    """(phi, llf) maximizing the exact log-likelihood over phi at the fit's means."""
    fam, m = res.family, res.model
    y, mu = np.asarray(m.endog, float), np.asarray(res.mu, float)
    vw, fw = m.var_weights, m.freq_weights

    def neg(log_phi):
        return -fam.loglike(y, mu, var_weights=vw, freq_weights=fw, scale=float(np.exp(log_phi)))

    start = np.log(max(float(res.scale), 1e-12))
    best = optimize.minimize_scalar(neg, bounds=(start - 6.0, start + 6.0), method="bounded",
                                    options={"xatol": 1e-10})
    return float(np.exp(best.x)), float(-best.fun)


def tweedie_profile(model, p_grid=None, alpha: float = 0.05, **fit_kwds: Any) -> TweedieProfile:
    """Profile likelihood of the Tweedie power p of ``model`` (see the module notes).

    Parameters
    ----------
    model : a GLM (any family: its data, link, offsets and weights are used), e.g.
        ``glmkit.glm("y ~ x", data, family=Tweedie(var_power=1.5, link=Log()))``.
    p_grid : powers in (1, 2) to evaluate first (default 1.05, 1.10, ..., 1.95).
    alpha : 1 - the interval's level.
    fit_kwds : passed to each fit.
    """
    grid = np.arange(1.05, 1.951, 0.05) if p_grid is None else np.asarray(p_grid, float)
    if grid.ndim != 1 or grid.size < 3 or np.any(grid <= 1) or np.any(grid >= 2):
        raise ValueError("p_grid needs at least three powers strictly between 1 and 2.")
    if np.any(np.asarray(model.endog) < 0):
        raise ValueError("a Tweedie response (1 < p < 2) must be non-negative.")
    grid = np.sort(grid)
    cache: dict[float, tuple[float, float, Any]] = {}
    last = [None]

    def profile(p: float) -> float:
        if p not in cache:
            res = _fit_at(model, p, last[0], fit_kwds)
            phi, llf = _phi_mle(res)
            cache[p] = (llf, phi, res)
            last[0] = np.nan_to_num(np.asarray(res.params))
        return cache[p][0]

    values = np.array([profile(float(p)) for p in grid])
    i = int(np.nanargmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if lo < hi:
        best = optimize.minimize_scalar(lambda p: -profile(float(p)), bounds=(lo, hi),
                                        method="bounded", options={"xatol": 1e-6})
        p_hat = float(best.x) if -best.fun >= values[i] else float(grid[i])
    else:
        p_hat = float(grid[i])
    llf_hat = profile(p_hat)
    cut = llf_hat - 0.5 * float(stats.chi2.ppf(1 - alpha, 1))

    def end(a: float, b: float) -> float:
        fa = profile(a) - cut
        if fa > 0:   # still inside the interval at the range's edge
            return float("nan")
        return float(optimize.brentq(lambda p: profile(float(p)) - cut, a, b, xtol=1e-6))

    ci = (end(float(grid[0]), p_hat), end(float(grid[-1]), p_hat))
    _, phi, res = cache[p_hat]
    return TweedieProfile(p=p_hat, phi=phi, llf=llf_hat, ci=ci, grid=grid, grid_llf=values,
                          results=res)
