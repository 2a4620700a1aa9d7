"""glmnet-style regularization paths on a GLM: :func:`fit_path` and :class:`PathResults`.

The path runs :func:`glmkit.solvers.penalized.penalized_irls` at a decreasing sequence of
penalties with warm starts and glmnet's sequential strong rule; every point is checked
against the KKT conditions of the whole problem.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._penalty_inputs import (
    checked_bounds,
    column_scales,
    constant_columns,
    is_quadratic,
    penalty_factors,
    sweeper_for,
)
from ._parallel import one_blas_thread
from .regularized import RegularizedResults, refit_selected
from .solvers.penalized import (
    PenalizedResult,
    Penalty,
    kkt_excess,
    kkt_violations,
    penalized_irls,
)

__all__ = ["PathResults", "fit_path"]


class _PathProblem:
    """What every point of the path shares: sweeper, N, penalty shapes, bounds."""

    def __init__(self, model, L1_wt: float, penalty_weights, bounds, standardize: bool,
                 tol: float, max_iter: int, problem=None, threads: int | None = None):
        # ``problem``: the model's rows under other frequency weights (a CV fold's training
        # rows: the held-out ones get weight 0), swept in memory on ``threads`` threads
        self.model = model
        if problem is None:
            self.sweeper = sweeper_for(model)
        else:
            from .solvers.sweeper import InMemorySweeper

            self.sweeper = InMemorySweeper(problem, threads=threads)
        self.n = float(self.sweeper.n_eff)
        self.const = constant_columns(model)
        p = self.const.shape[0]
        self.pf = penalty_factors(penalty_weights, self.const)
        sd = column_scales(model, self.const, problem) if standardize else np.ones(p)
        self.f1, self.f2 = self.pf * sd, self.pf * sd ** 2
        self.lower, self.upper = checked_bounds(bounds, self.const)
        self.L1_wt, self.tol, self.max_iter = float(L1_wt), float(tol), int(max_iter)
        self.quadratic = is_quadratic(model.family)

    def penalty(self, alpha: float) -> Penalty:
        return Penalty(alpha * self.L1_wt * self.f1, alpha * (1 - self.L1_wt) * self.f2,
                       self.lower, self.upper)

    def null_fit(self) -> PenalizedResult:
        """The fit with every penalized column at 0 (glmnet's first point)."""
        free = self.f1 == 0
        res = penalized_irls(self.sweeper, self.n, self.penalty(0.0), None, free,
                             tol=self.tol, maxiter=self.max_iter, quadratic=self.quadratic)
        return res

    def intercept_deviance(self) -> float:
        """glmnet's nulldev: the deviance of the fit of the constant columns alone (with
        the offset), or at zero coefficients when there is none."""
        p = self.const.shape[0]
        if not self.const.any():
            return float(self.sweeper.at(np.zeros(p)).deviance) if hasattr(
                self.sweeper, "at") else float(self.sweeper.sweep(np.zeros(p)).deviance)
        res = penalized_irls(self.sweeper, self.n, self.penalty(0.0), None, self.const,
                             tol=self.tol, maxiter=self.max_iter, quadratic=self.quadratic)
        return float(res.deviance)

    def alpha_max(self, null: PenalizedResult) -> float:
        """The smallest penalty at which every penalized coefficient is 0 (glmnet's
        lambda_max; for L1_wt < 1e-3 computed as at L1_wt = 1e-3, as glmnet does)."""
        pen = self.f1 > 0
        g = np.abs(null.score[pen]) / self.n
        return float(np.max(g / (max(self.L1_wt, 1e-3) * self.f1[pen]), initial=0.0))

    def solve(self, alpha: float, prev: PenalizedResult, prev_alpha: float) -> PenalizedResult:
        """The point at ``alpha`` warm-started from ``prev``, with the strong rule."""
        pen = self.penalty(alpha)
        grad = np.abs(prev.score / self.n - pen.l2 * prev.params)
        strong = (self.f1 == 0) | (prev.params != 0) | \
            (grad >= self.L1_wt * self.f1 * (2 * alpha - prev_alpha))
        res = prev
        sweeps = passes = 0
        for _ in range(self.const.shape[0] + 1):
            res = penalized_irls(self.sweeper, self.n, pen, res.params, strong,
                                 tol=self.tol, maxiter=self.max_iter,
                                 quadratic=self.quadratic, start=res.point)
            sweeps, passes = sweeps + res.n_sweeps, passes + res.n_passes
            res.n_sweeps, res.n_passes = sweeps, passes
            assert res.point is not None
            # the strong set is penalized_irls's to converge on: its answer says whether
            # it did; outside it, the floor is needed only where the violation exceeds tol
            viol = kkt_violations(res.score, res.params, self.n, pen)
            excess = kkt_excess(res.point, self.n, pen, where=(viol > self.tol) & ~strong)
            missed = (excess > self.tol) & ~strong
            if not missed.any():
                res.kkt = float(np.max(viol, initial=0.0))
                return res
            strong = strong | missed
        return res


def _alpha_sequence(amax: float, n_alphas: int, ratio: float) -> np.ndarray:
    if amax <= 0:
        return np.zeros(1)
    return amax * ratio ** (np.arange(n_alphas) / max(n_alphas - 1, 1))


def fit_path(model, L1_wt: float = 1.0, alphas=None, n_alphas: int = 100,
             alpha_min_ratio: float | None = None, penalty_weights=None, bounds=None,
             standardize: bool = False, tol: float = 1e-10, max_iter: int = 100,
             early_stop: bool = True, relax: bool = False) -> PathResults:
    """Fit the elastic-net path of ``model`` (see :meth:`glmkit.GLM.fit_path`).

    ``relax=True`` adds glmnet's relaxed fits (``PathResults.relaxed``, a
    :class:`glmkit.relax.RelaxedPath`: the unpenalized refit on each alpha's active set).

    Without ``alphas``, the sequence ends where glmnet ends its own (``early_stop``, the
    default): after the 5th alpha, once the fraction of deviance explained exceeds 0.999
    or stops growing (glmnet.control's fdev = 1e-5; see :func:`_glmnet_stops`), so its
    alphas are glmnet's ``lambda``. Given ``alphas`` are always all fitted (as glmnet).

    BLAS is held at one thread throughout: a path is many small products (p x p, and
    sweeps of small designs on the calling thread), which threaded BLAS slows 10-30 times
    on a busy machine (a 5,000 x 101 X'WX: 10 ms on one thread, 290 ms on two under load);
    large designs are swept on glmkit's own threads (glmkit._parallel) either way."""
    if not (0.0 <= float(L1_wt) <= 1.0):
        raise ValueError(f"L1_wt must be in [0, 1], got {L1_wt!r}.")
    if not (isinstance(n_alphas, (int, np.integer)) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive integer, got {n_alphas!r}.")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")
    if alpha_min_ratio is not None and not (0.0 < float(alpha_min_ratio) < 1.0):
        raise ValueError(f"alpha_min_ratio must be in (0, 1), got {alpha_min_ratio!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) \
            or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}.")
    with one_blas_thread():
        return _fit_path(model, L1_wt, alphas, n_alphas, alpha_min_ratio, penalty_weights,
                         bounds, standardize, tol, max_iter, bool(early_stop), bool(relax))


def _fit_path(model, L1_wt, alphas, n_alphas, alpha_min_ratio, penalty_weights, bounds,
              standardize, tol, max_iter, early_stop, relax=False) -> PathResults:
    pp = _PathProblem(model, L1_wt, penalty_weights, bounds, bool(standardize), tol, max_iter)
    null = pp.null_fit()
    amax = pp.alpha_max(null)
    if alphas is None:
        if alpha_min_ratio is None:   # glmnet: 1e-2 when nobs < nvars (no intercept)
            alpha_min_ratio = 1e-2 if model.nobs < int((~pp.const).sum()) else 1e-4
        seq = _alpha_sequence(amax, int(n_alphas), float(alpha_min_ratio))
    else:
        seq = np.asarray(alphas, dtype=float).ravel()
        if seq.size == 0 or np.any(~np.isfinite(seq)) or np.any(seq < 0):
            raise ValueError("alphas must be finite and non-negative.")
        seq = np.sort(seq)[::-1]
    # glmnet ends its own sequence early (never a given one)
    points = solve_sequence(pp, seq, null, amax, early_stop and alphas is None)
    out = PathResults(model, pp, seq[:len(points)], points, amax, null)
    if relax:
        from .relax import RelaxedPath, relaxed_fits

        out.relaxed = RelaxedPath(out.params, *relaxed_fits(pp, points, model.nobs))
    return out


def solve_sequence(pp: _PathProblem, seq: np.ndarray, null: PenalizedResult,
                   amax: float, early_stop: bool = False) -> list[PenalizedResult]:
    """The fits at the decreasing penalties ``seq``, each warm-started from the last (the
    first from the null fit, whose alpha is ``amax``); with ``early_stop``, only up to
    where glmnet stops its own sequence (:func:`_glmnet_stops`)."""
    points: list[PenalizedResult] = []
    prev, prev_alpha = null, max(amax, float(seq[0]))
    nulldev = pp.intercept_deviance() if early_stop else np.nan
    # glmnet sets fdev to 0 when a bound is 0 (a coefficient held at 0 stalls the
    # deviance while the path goes on): then only the 0.999 rule (or a loss) ends it
    fdev = 0.0 if np.any(pp.lower == 0) or np.any(pp.upper == 0) else _FDEV
    ratios: list[float] = []
    for a in seq:
        res = pp.solve(float(a), prev, prev_alpha)
        points.append(res)
        if prev.point is not res.point:   # (a fit that needed no step returns its start)
            _release(prev)
        prev, prev_alpha = res, float(a)
        if early_stop:
            ratios.append(1.0 - res.deviance / nulldev if nulldev > 0 else 0.0)
            if _glmnet_stops(ratios, pp.model.family, fdev):
                break
    return points


def _release(res: PenalizedResult) -> None:
    """Drop the X'WX (and its factors) of a point the path has passed: a path keeps every
    answer, and p x p matrices per alpha were most of a wide path's memory (2 GB at
    p = 2,000). Its score stays (the strong rule, ``fit_at`` off the path, which then forms
    X'WX again with one pass)."""
    if res.point is not None:
        res.point.gram = None
        res.point.factors = {}


#: glmnet.control()'s defaults: fdev, devmax, and mnlam (the fewest lambdas before a stop)
_FDEV, _DEVMAX, _MNL = 1e-5, 0.999, 5


def _glmnet_stops(ratios: list[float], family, fdev: float = _FDEV) -> bool:
    """glmnet's rule for ending its own lambda sequence early, after the point just fitted
    (the k-th, k >= 5), from the fractions of deviance explained 1 - dev / nulldev:
    above 0.999, or a last gain below fdev = 1e-5 (Gaussian: fdev of the fraction;
    Poisson: the gain over the last 4 steps below 10 fdev of the fraction)."""
    from .families import Gaussian, Poisson

    k = len(ratios)
    if k < _MNL:
        return False
    r = ratios[-1]
    if r > _DEVMAX:
        return True
    if isinstance(family, Gaussian):
        return r - ratios[-2] < fdev * r
    if isinstance(family, Poisson):
        return r - ratios[k - _MNL] < 10 * fdev * r
    return r - ratios[-2] < fdev


# ----------------------------------------------------------------------- results
class PathResults:
    """An elastic-net path: one fit per alpha (penalties decreasing).

    Attributes
    ----------
    alphas : (m,) decreasing penalties.
    params : DataFrame (m rows, one per alpha; the model's exog_names as columns).
    deviance : (m,) deviance at each alpha.
    df : (m,) number of non-zero coefficients, constant columns not counted (glmnet's df).
    kkt : (m,) largest KKT violation at each alpha (converged when <= tol).
    converged : (m,) bool.
    n_sweeps : (m,) passes over the rows that formed X'WX at each alpha.
    n_passes : (m,) all passes over the rows at each alpha (the others form only the
        deviance and the score, X b and X'u).
    alpha_max : the smallest penalty that sets every penalized coefficient to 0.
    relaxed : with ``fit_path(relax=True)``, glmnet's relaxed fits
        (:class:`glmkit.relax.RelaxedPath`; ``fit_at(alpha, gamma=)`` blends them); else None.

    Notes
    -----
    Standard errors are not offered for penalized coefficients (as glmnet);
    ``fit_at(alpha, refit=True)`` refits the selected columns without a penalty and gives
    full inference for that model, which ignores the selection (post-selection inference:
    intervals are too narrow and p-values too small).
    """

    def __init__(self, model, problem: _PathProblem, alphas: np.ndarray,
                 points: list[PenalizedResult], alpha_max: float, null: PenalizedResult):
        self.model = model
        self._pp = problem
        self._points = points
        self.alphas = np.asarray(alphas, dtype=float)
        B = np.array([r.params for r in points])
        self.params = pd.DataFrame(B, columns=list(model.exog_names),
                                   index=pd.Index(self.alphas, name="alpha"))
        self.deviance = np.array([r.deviance for r in points])
        #: deviance of the fit with every penalized column at 0 (glmnet's first point)
        self.null_deviance = float(null.deviance)
        self.df = np.array([int(np.sum((r.params != 0) & ~problem.const)) for r in points])
        self.kkt = np.array([r.kkt for r in points])
        self.converged = np.array([r.converged for r in points])
        self.n_sweeps = np.array([r.n_sweeps for r in points])
        self.n_passes = np.array([r.n_passes for r in points])
        self.alpha_max = float(alpha_max)
        self.L1_wt = problem.L1_wt
        self.relaxed: Any = None

    def fit_at(self, alpha: float, refit: bool = False, gamma: float = 1.0) -> Any:
        """The fit at ``alpha``: the path's point when ``alpha`` is on the path, else a fit
        warm-started from the nearest larger alpha. ``refit=True``: the selected columns
        refitted without a penalty (:class:`~glmkit.results.GLMResults`). ``gamma`` < 1
        (paths fitted with ``relax=True``): glmnet's relaxed blend gamma * penalized +
        (1 - gamma) * the refit on the active set (no KKT point: ``kkt`` is NaN)."""
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be a non-negative number, got {alpha!r}.")
        gamma = float(gamma)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma!r}.")
        if gamma < 1.0 and self.relaxed is None:
            raise ValueError("gamma < 1 needs the relaxed fits: fit the path with "
                             "relax=True.")
        hit = np.flatnonzero(np.isclose(self.alphas, alpha, rtol=1e-12, atol=0.0))
        if hit.size:
            k = int(hit[0])
            res = self._points[k]
        else:
            above = np.flatnonzero(self.alphas > alpha)
            k = int(above[-1]) if above.size else 0
            with one_blas_thread():
                res = self._pp.solve(alpha, self._points[k], float(self.alphas[k]))
        if refit:
            return refit_selected(self.model, res.params)
        pen = self._pp.penalty(alpha)
        if gamma < 1.0:
            res = self._relaxed_point(res, gamma, k, on_path=bool(hit.size))
        return RegularizedResults(self.model, res, alpha=alpha, L1_wt=self.L1_wt,
                                  penalty=pen, n=self._pp.n,
                                  method="elastic_net path" + (" relaxed" if gamma < 1 else ""))

    def _relaxed_point(self, res: PenalizedResult, gamma: float, k: int,
                       on_path: bool) -> PenalizedResult:
        """The blend at ``gamma`` of the point ``res`` and the refit on its active set (the
        path's ``k``-th refit when ``res`` is that point, or when its own active set is too
        large for one: glmnet's extend)."""
        import dataclasses

        from .relax import blend, relaxed_fits

        assert self.relaxed is not None
        with one_blas_thread():
            Br, _, ok, own = relaxed_fits(self._pp, [] if on_path else [res], self.model.nobs)
            if on_path or not own[0]:
                Br = self.relaxed.params.to_numpy()[k:k + 1]
                ok = self.relaxed.converged[k:k + 1]
            b = blend(np.asarray(res.params)[None, :], Br, gamma)[0]
            dev = float(self._pp.sweeper.at(b).deviance) if hasattr(self._pp.sweeper, "at") \
                else float(self._pp.sweeper.sweep(b).deviance)
        return dataclasses.replace(res, params=b, deviance=dev, objective=float("nan"),
                                   kkt=float("nan"), converged=bool(res.converged and ok[0]),
                                   point=None)

    def plot(self, ax=None, xvar: str = "log_alpha"):
        """Coefficients against log(alpha) (or ``xvar='l1_norm'``), glmnet's plot."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:   # pragma: no cover - depends on the environment
            raise ImportError("PathResults.plot needs matplotlib: pip install matplotlib") from e
        if ax is None:
            _, ax = plt.subplots()
        pen = ~self._pp.const
        B = self.params.to_numpy()[:, pen]
        if xvar == "l1_norm":
            x = np.abs(B).sum(axis=1)
            ax.set_xlabel("L1 norm")
        else:
            x = np.log(np.where(self.alphas > 0, self.alphas, np.nan))
            ax.set_xlabel("log(alpha)")
        for j, name in enumerate(np.asarray(self.params.columns)[pen]):
            ax.plot(x, B[:, j], label=str(name))
        ax.set_ylabel("coefficient")
        return ax

    def __repr__(self) -> str:
        return (f"PathResults({len(self.alphas)} alphas from {self.alphas[0]:.4g} to "
                f"{self.alphas[-1]:.4g}, L1_wt={self.L1_wt})")
