"""Diagnostic pictures of a fitted GLM (optional: ``pip install 'glmkit[plot]'``).

matplotlib is imported when a plot is asked for, never before. Every function returns a
matplotlib Figure and draws on ``ax`` (or ``axes``) when given one.

- :func:`plot_diagnostics`: R's ``plot(glm)``: residuals vs fitted (deviance residuals
  against the linear predictor), normal Q-Q of standardized deviance residuals,
  scale-location, and standardized Pearson residuals vs leverage with Cook's distance
  contours at 0.5 and 1; a lowess smooth on panels 1, 3 and 5 and the ``id_n`` most extreme
  points labelled, as R draws them. ``which`` picks panels by R's numbers (1, 2, 3, 5;
  4 is Cook's distance by observation).
- :func:`plot_halfnormal`: half-normal plot of |standardized deviance residuals| with an
  envelope from ``nsim`` responses simulated from the fit and refitted.
- :func:`plot_calibration` (binomial): observed proportion against mean prediction by bins.
- :func:`plot_rootogram` (counts): hanging rootogram, sqrt(observed frequency) hanging from
  the sqrt(expected frequency) curve.
- :func:`plot_influence`: studentized residuals against leverage, areas by Cook's distance
  (statsmodels' influence_plot).
- :func:`plot_added_variable`, :func:`plot_partial_residuals`: statsmodels' names.
- :func:`plot_profile`: MASS's ``plot(profile(fit))`` traces with the profile intervals.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from .families import Binomial, Gamma, Gaussian, InverseGaussian, NegativeBinomial, Poisson
from .influence import hat_values
from .smoothing import lowess

__all__ = ["plot_diagnostics", "plot_halfnormal", "plot_calibration", "plot_rootogram",
           "plot_influence", "plot_added_variable", "plot_partial_residuals", "plot_profile",
           "lowess"]

_HINT = "glmkit's plots need matplotlib: pip install 'glmkit[plot]' (or pip install matplotlib)"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(_HINT) from None
    return plt


def _figure_and_axes(ax, n: int = 1, ncols: int = 1):
    """(figure, list of axes): the caller's axes, or a new figure with n panels."""
    plt = _pyplot()
    if ax is not None:
        axes = list(np.ravel(ax))
        if len(axes) < n:
            raise ValueError(f"this plot needs {n} axes, got {len(axes)}.")
        return axes[0].figure, axes
    nrows = int(np.ceil(n / ncols))
    fig, grid = plt.subplots(nrows, ncols, figsize=(4.8 * ncols, 4.2 * nrows), squeeze=False)
    axes = list(grid.ravel())
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, axes


def _diagnostic_values(res) -> dict[str, np.ndarray]:
    """What R's plot.lm reads for a glm: linear predictor, deviance residuals, hat values,
    standardized deviance and Pearson residuals, Cook's distance (with R's definitions)."""
    h = np.asarray(hat_values(res), dtype=float)
    dev = np.asarray(res.resid_deviance, dtype=float)
    pear = np.asarray(res.resid_pearson, dtype=float)
    scale = res.scale
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sqrt(scale * (1.0 - h))
        rs, rsp = dev / denom, pear / denom
        cook = (pear / (1.0 - h)) ** 2 * h / (scale * res.rank)
    ok = h < 1.0 - 1e-10   # R's dropInf: points with leverage one are not drawn
    return {"eta": np.asarray(res.linear_predictor if hasattr(res, "linear_predictor")
                              else res.predict(which="linear"), dtype=float),
            "dev": dev, "h": h, "rs": np.where(ok, rs, np.nan),
            "rsp": np.where(ok, rsp, np.nan), "cook": cook}


def _labels(res) -> np.ndarray:
    labels = getattr(res.model.data, "row_labels", None)
    n = res.nobs
    return np.asarray(labels, dtype=object) if labels is not None and len(labels) == n \
        else np.arange(1, n + 1).astype(object)


def _label_extremes(ax, x, y, score, labels, id_n: int) -> None:
    if id_n <= 0:
        return
    score = np.where(np.isfinite(score), score, -np.inf)
    for i in np.argsort(-score, kind="stable")[:id_n]:
        if np.isfinite(x[i]) and np.isfinite(y[i]):
            ax.annotate(str(labels[i]), (x[i], y[i]), xytext=(4, 0),
                        textcoords="offset points", fontsize=8)


def _smooth(ax, x, y) -> None:
    good = np.isfinite(x) & np.isfinite(y)
    if good.sum() > 3:
        xs, ys = lowess(x[good], y[good])
        ax.plot(xs, ys, color="tab:red", lw=1.2)


def plot_diagnostics(res, which=(1, 2, 3, 5), id_n: int = 3, axes=None):
    """R's four diagnostic panels of a glm (see the module notes)."""
    which = tuple(which)
    if not which or any(w not in (1, 2, 3, 4, 5) for w in which):
        raise ValueError(f"which must hold panel numbers among 1, 2, 3, 4, 5, got {which!r}.")
    v = _diagnostic_values(res)
    labels = _labels(res)
    fig, axs = _figure_and_axes(axes, len(which), ncols=2 if len(which) > 1 else 1)
    for ax, panel in zip(axs, which):
        if panel == 1:
            ax.scatter(v["eta"], v["dev"], s=12, facecolors="none", edgecolors="k")
            ax.axhline(0, ls=":", color="grey")
            _smooth(ax, v["eta"], v["dev"])
            _label_extremes(ax, v["eta"], v["dev"], np.abs(v["dev"]), labels, id_n)
            ax.set(title="Residuals vs Fitted", xlabel="Predicted values", ylabel="Residuals")
        elif panel == 2:
            rs = v["rs"]
            good = np.flatnonzero(np.isfinite(rs))
            order = good[np.argsort(rs[good], kind="stable")]
            q = stats.norm.ppf((np.arange(1, len(order) + 1) - 0.5) / len(order)) \
                if len(order) > 10 else stats.norm.ppf(
                    (np.arange(1, len(order) + 1) - 3 / 8) / (len(order) + 1 - 3 / 4))
            ax.scatter(q, rs[order], s=12, facecolors="none", edgecolors="k")
            q1, q3 = np.quantile(rs[good], [0.25, 0.75])
            z1, z3 = stats.norm.ppf([0.25, 0.75])
            slope = (q3 - q1) / (z3 - z1)
            ax.axline((0, q1 - slope * z1), slope=slope, ls=":", color="grey")
            qx = np.full(len(rs), np.nan)
            qx[order] = q
            _label_extremes(ax, qx, rs, np.abs(rs), labels, id_n)
            ax.set(title="Q-Q Residuals", xlabel="Theoretical Quantiles",
                   ylabel="Std. deviance resid.")
        elif panel == 3:
            y = np.sqrt(np.abs(v["rs"]))
            ax.scatter(v["eta"], y, s=12, facecolors="none", edgecolors="k")
            _smooth(ax, v["eta"], y)
            _label_extremes(ax, v["eta"], y, y, labels, id_n)
            ax.set(title="Scale-Location", xlabel="Predicted values",
                   ylabel=r"$\sqrt{|\mathrm{Std.\ deviance\ resid.}|}$")
        elif panel == 4:
            idx = np.arange(1, len(v["cook"]) + 1)
            ax.vlines(idx, 0, v["cook"], color="k", lw=1)
            _label_extremes(ax, idx.astype(float), v["cook"], v["cook"], labels, id_n)
            ax.set(title="Cook's distance", xlabel="Obs. number", ylabel="Cook's distance")
        else:
            _leverage_panel(ax, v, labels, id_n, res.rank)
    fig.tight_layout()
    return fig


def _leverage_panel(ax, v, labels, id_n, p) -> None:
    h, rsp = v["h"], v["rsp"]
    ax.scatter(h, rsp, s=12, facecolors="none", edgecolors="k")
    ax.axhline(0, ls=":", color="grey")
    _smooth(ax, h, rsp)
    hmax = float(np.nanmax(h)) if np.isfinite(h).any() else 1.0
    grid = np.linspace(max(hmax * 0.01, 1e-3), hmax * 1.05, 101)
    for level in (0.5, 1.0):
        curve = np.sqrt(level * p * (1 - grid) / grid)
        for sign in (1, -1):
            ax.plot(grid, sign * curve, ls="--", color="tab:red", lw=0.8)
        ax.annotate(f"{level:g}", (grid[-1], curve[-1]), fontsize=8, color="tab:red")
    lim = np.nanmax(np.abs(rsp)) * 1.1 if np.isfinite(rsp).any() else 1.0
    ax.set_ylim(-lim, lim)
    _label_extremes(ax, h, rsp, v["cook"], labels, id_n)
    ax.set(title="Residuals vs Leverage", xlabel="Leverage", ylabel="Std. Pearson resid.")
    ax.plot([], [], ls="--", color="tab:red", label="Cook's distance")
    ax.legend(loc="lower left", fontsize=8, frameon=False)


def simulate_response(res, rng) -> np.ndarray:
    """A response drawn from the fitted model (means, dispersion and weights of ``res``)."""
    fam, mu = res.family, np.asarray(res.mu, dtype=float)
    m = res.model
    w = np.asarray(m.var_weights, dtype=float)
    if isinstance(fam, Binomial):
        trials = np.asarray(m.n_trials if m.data.n_trials is not None else w, dtype=float)
        k = np.maximum(np.round(trials), 1).astype(int)
        return rng.binomial(k, np.clip(mu, 0, 1)) / k
    if isinstance(fam, NegativeBinomial):
        size = 1.0 / fam.alpha
        return rng.negative_binomial(size, size / (size + mu)).astype(float)
    if isinstance(fam, Poisson):
        return rng.poisson(mu).astype(float)
    scale = res.scale / np.where(w > 0, w, 1.0)
    if isinstance(fam, Gaussian):
        return rng.normal(mu, np.sqrt(scale))
    if isinstance(fam, Gamma):
        return rng.gamma(1.0 / scale, mu * scale)
    if isinstance(fam, InverseGaussian):
        return rng.wald(mu, 1.0 / scale)
    raise ValueError(f"no simulation for the {fam.name} family.")


def plot_halfnormal(res, nsim: int = 19, seed: int = 0, id_n: int = 3, ax=None):
    """Half-normal plot of |standardized deviance residuals| with a simulated envelope
    (the minimum, median and maximum of ``nsim`` refits to simulated responses)."""
    GLM = type(res.model)   # noqa: N806 (the fitted model's class: no import cycle)
    v = _diagnostic_values(res)
    obs = np.sort(np.abs(v["rs"][np.isfinite(v["rs"])]))
    n = len(obs)
    q = stats.norm.ppf((np.arange(1, n + 1) + n - 1 / 8) / (2 * n + 1 / 2))
    rng = np.random.default_rng(seed)
    m = res.model
    sims = []
    for _ in range(int(nsim)):
        y = simulate_response(res, rng)
        fit = GLM(y, m.data.X, family=m.family, offset=m.data.offset, exposure=m.data.exposure,
                  freq_weights=m.data.freq_weights,
                  var_weights=m.data.var_weights if m.data.n_trials is None
                  else m.var_weights * m.n_trials).fit()
        rs = _diagnostic_values(fit)["rs"]
        sims.append(np.sort(np.abs(rs[np.isfinite(rs)]))[:n])
    fig, (axis,) = _figure_and_axes(ax)
    axis.scatter(q, obs, s=12, facecolors="none", edgecolors="k")
    if sims:
        env = np.vstack([s for s in sims if len(s) == n])
        for line, style in ((env.min(0), "--"), (np.median(env, 0), ":"), (env.max(0), "--")):
            axis.plot(q, line, ls=style, color="tab:blue", lw=1)
    labels = _labels(res)
    order = np.argsort(np.abs(np.where(np.isfinite(v["rs"]), v["rs"], 0)), kind="stable")
    for j, i in enumerate(order[::-1][:id_n]):
        axis.annotate(str(labels[i]), (q[n - 1 - j], obs[n - 1 - j]), xytext=(4, 0),
                      textcoords="offset points", fontsize=8)
    axis.set(title="Half-normal plot with simulated envelope", xlabel="Half-normal quantiles",
             ylabel="|Std. deviance resid.|")
    return fig


def plot_calibration(res, bins: int = 10, ax=None):
    """Observed proportion against mean predicted probability in ``bins`` groups of
    predictions (deciles by default), with binomial 95% intervals; binomial fits only."""
    if not isinstance(res.family, Binomial):
        raise ValueError("a calibration plot is for binomial fits.")
    mu = np.asarray(res.mu, dtype=float)
    y = np.asarray(res.model.endog, dtype=float)
    w = np.asarray(res.model.problem.total_weights, dtype=float)
    edges = np.unique(np.quantile(mu, np.linspace(0, 1, bins + 1)))
    group = np.clip(np.searchsorted(edges, mu, side="right") - 1, 0, len(edges) - 2)
    pred, obs, half = [], [], []
    for g in range(len(edges) - 1):
        sel = group == g
        tw = w[sel].sum()
        if tw <= 0:
            continue
        p_obs = float(w[sel] @ y[sel] / tw)
        pred.append(float(w[sel] @ mu[sel] / tw))
        obs.append(p_obs)
        half.append(1.96 * np.sqrt(max(p_obs * (1 - p_obs), 1e-12) / tw))
    fig, (axis,) = _figure_and_axes(ax)
    axis.plot([0, 1], [0, 1], ls=":", color="grey")
    axis.errorbar(pred, obs, yerr=half, fmt="o", color="k", ms=4, capsize=2)
    axis.set(title="Calibration", xlabel="Mean predicted probability",
             ylabel="Observed proportion", xlim=(0, 1), ylim=(0, 1))
    return fig


def _count_probabilities(res, counts: np.ndarray) -> np.ndarray:
    fam, mu = res.family, np.asarray(res.mu, dtype=float)
    if isinstance(fam, NegativeBinomial):
        size = 1.0 / fam.alpha
        return stats.nbinom.pmf(counts[:, None], size, size / (size + mu[None, :]))
    if isinstance(fam, Poisson):
        return stats.poisson.pmf(counts[:, None], mu[None, :])
    raise ValueError("a rootogram is for count fits (Poisson, NegativeBinomial).")


def plot_rootogram(res, max_count: int | None = None, ax=None):
    """Hanging rootogram: bars of sqrt(observed frequency) hang from the curve of
    sqrt(expected frequency) at each count; bars not reaching zero show misfit."""
    y = np.asarray(res.model.endog, dtype=float)
    fw = np.asarray(res.model.freq_weights, dtype=float)
    top = int(max_count if max_count is not None else max(np.max(y), 1))
    counts = np.arange(top + 1)
    expected = _count_probabilities(res, counts.astype(float)) @ fw
    observed = np.array([fw[y == c].sum() for c in counts])
    fig, (axis,) = _figure_and_axes(ax)
    se, so = np.sqrt(expected), np.sqrt(observed)
    axis.bar(counts, so, bottom=se - so, width=0.8, color="lightgrey", edgecolor="k")
    axis.plot(counts, se, "o-", color="tab:red", ms=3)
    axis.axhline(0, color="k", lw=0.8)
    axis.set(title="Hanging rootogram", xlabel="Count", ylabel="sqrt(Frequency)")
    return fig


def plot_influence(res, id_n: int = 3, ax=None):
    """Studentized residuals against leverage, point areas by Cook's distance."""
    v = _diagnostic_values(res)
    fig, (axis,) = _figure_and_axes(ax)
    cook = np.nan_to_num(v["cook"])
    size = 20 + 400 * cook / max(float(cook.max()), 1e-12)
    axis.scatter(v["h"], v["rs"], s=size, alpha=0.5, edgecolors="k")
    axis.axhline(0, ls=":", color="grey")
    _label_extremes(axis, v["h"], v["rs"], cook, _labels(res), id_n)
    axis.set(title="Influence plot", xlabel="Leverage (H)", ylabel="Std. deviance resid.")
    return fig


def _focus(res, focus_exog) -> int:
    names = list(res.model.exog_names)
    if isinstance(focus_exog, str):
        if focus_exog not in names:
            raise ValueError(f"{focus_exog!r} is not a column of the model ({names}).")
        return names.index(focus_exog)
    j = int(focus_exog)
    if not 0 <= j < len(names):
        raise ValueError(f"focus_exog must be a column name or position < {len(names)}.")
    return j


def plot_added_variable(res, focus_exog, ax=None):
    """Added-variable plot: working residuals of the model without the focus column
    against the focus column's residuals on the other columns (both weighted by the
    IRLS weights at the fit), the slope being the focus coefficient."""
    from .regressionplots import weighted_resid

    j = _focus(res, focus_exog)
    X = res.model.problem.X   # the design's products (no dense copy of a factor)
    w = np.asarray(res._solver_result.working_weights, dtype=float)
    rest = X.take_columns([i for i in range(X.shape[1]) if i != j])
    sw = np.sqrt(w)
    z = np.asarray(res.linear_predictor, float) - res.model.problem.offset + \
        np.asarray(res.resid_working, float)
    ry, rx = weighted_resid(rest, z, w) * sw, weighted_resid(rest, X.column(j), w) * sw
    fig, (axis,) = _figure_and_axes(ax)
    axis.scatter(rx, ry, s=12, facecolors="none", edgecolors="k")
    b = float(np.asarray(res.params)[j])
    grid = np.array([rx.min(), rx.max()])
    axis.plot(grid, b * grid, color="tab:red")
    name = res.model.exog_names[j]
    axis.set(title=f"Added variable plot: {name}", xlabel=f"{name} | others",
             ylabel="working response | others")
    return fig


def plot_partial_residuals(res, focus_exog, ax=None):
    """Component-plus-residual plot: b_j x_j + working residual against x_j."""
    j = _focus(res, focus_exog)
    x = res.model.problem.X.column(j)
    b = float(np.asarray(res.params)[j])
    y = b * x + np.asarray(res.resid_working, dtype=float)
    fig, (axis,) = _figure_and_axes(ax)
    axis.scatter(x, y, s=12, facecolors="none", edgecolors="k")
    grid = np.array([x.min(), x.max()])
    axis.plot(grid, b * grid, color="tab:red")
    _smooth(axis, x, y)
    name = res.model.exog_names[j]
    axis.set(title=f"Partial residuals: {name}", xlabel=name,
             ylabel="component + working residual")
    return fig


def plot_profile(res, alpha: float = 0.05, axes=None):
    """MASS's ``plot(profile(fit))``: the signed root z of the likelihood-ratio statistic
    against each coefficient (the profile grid as points, R's interpolating spline as the
    curve), with the normal quantiles +-z_(1 - alpha/2) and the profile interval's ends."""
    from .profile import fmm_spline, profile_coefficient

    keep = np.flatnonzero(res._keep)
    fig, axs = _figure_and_axes(axes, len(keep), ncols=min(3, len(keep)))
    k = len(res._params)
    if isinstance(res.family, (Binomial, Poisson)) and res.scale == 1:
        zmax = np.sqrt(stats.chi2.ppf(1 - alpha / 4.0, 1))
    else:
        zmax = np.sqrt(stats.f.ppf(1 - alpha / 4.0, 1, res.nobs - k))
    ci = np.asarray(res.conf_int(alpha=alpha, method="profile"))
    q = stats.norm.ppf(1.0 - alpha / 2.0)
    names = res.model.exog_names
    for ax, j in zip(axs, keep):
        bs, zs = profile_coefficient(res, int(j), zmax)
        order = np.argsort(zs, kind="stable")
        xo, yo = fmm_spline(bs[order], zs[order], 3 * len(bs))
        ax.plot(xo, yo, color="C0", lw=1.2)
        ax.plot(bs, zs, "o", color="C0", ms=3)
        for level in (-q, q):
            ax.axhline(level, color="0.5", ls="--", lw=0.8)
        for end in ci[j]:
            ax.axvline(end, color="C3", ls=":", lw=0.8)
        ax.set_xlabel(names[j])
        ax.set_ylabel("tau (signed root of the LR statistic)")
    fig.tight_layout()
    return fig


def plot(res, kind: str = "diagnostics", **kwargs: Any):
    """``res.plot()``: one entry point for the plots above by name."""
    table = {"diagnostics": plot_diagnostics, "halfnormal": plot_halfnormal,
             "calibration": plot_calibration, "rootogram": plot_rootogram,
             "influence": plot_influence, "added_variable": plot_added_variable,
             "partial_residuals": plot_partial_residuals, "profile": plot_profile}
    if kind not in table:
        raise ValueError(f"kind must be one of {sorted(table)}, got {kind!r}.")
    return table[kind](res, **kwargs)
