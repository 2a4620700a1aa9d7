"""statsmodels' regression plots of a fitted GLM (``results.plot_added_variable``,
``plot_partial_residuals``, ``plot_ceres_residuals``), with statsmodels' definitions, as in
``statsmodels.graphics.regressionplots``. matplotlib is optional and imported only when a plot
is drawn (:mod:`glmkit.plotting` has R's pictures and glmkit's own plot functions).

Conventions (statsmodels' definitions, Cook 1998)
--------------------------------------------------
- partial residuals of column j: b_j x_j + (y - mu) g'(mu);
- added-variable residuals: the deviance residuals (``resid_type``) of the model refitted
  without column j, against the residuals of x_j regressed on the other columns with the
  GLM weights 1 / (g'(mu)^2 V(mu)) of the full fit (no prior or frequency weights);
- CERES residuals: the model refitted with the other columns plus lowess estimates of
  E[other columns | x_j]; (y - mu) g'(mu) plus the fitted part of those estimates.
"""
from __future__ import annotations

import numpy as np

from .smoothing import lowess


def _focus(model, focus_exog) -> tuple[str, int]:
    names = list(model.exog_names)
    if isinstance(focus_exog, str):
        if focus_exog not in names:
            raise ValueError(f"{focus_exog!r} is not a column of the model ({names}).")
        return focus_exog, names.index(focus_exog)
    col = int(focus_exog)
    if not 0 <= col < len(names):
        raise ValueError(f"focus_exog must be a column name or an index below {len(names)}.")
    return names[col], col


def _refit(res, exog, **fit_kwargs):
    """Fit the same model (family, offset, exposure, weights) on other columns."""
    d = res.model.data
    y = d.y if d.n_trials is None else np.column_stack([d.y * d.n_trials,
                                                        (1 - d.y) * d.n_trials])
    model = type(res.model)(y, exog, family=res.family, offset=d.offset,
                            exposure=d.exposure, freq_weights=d.freq_weights,
                            var_weights=d.var_weights)
    return model.fit(**fit_kwargs)


def _exog(res) -> np.ndarray:
    return np.asarray(res.model.problem.X.to_dense(), dtype=float)


def weighted_resid(X, target: np.ndarray, w: np.ndarray) -> np.ndarray:
    """target minus its weighted least-squares fit on the design X (weights w), from X'WX and
    X'(w target): no dense copy of a factor or sparse design (minimum-norm coefficients if
    X is rank deficient; the fitted values are unique)."""
    if X.shape[1] == 0:
        return np.array(target, dtype=float)
    coef = np.linalg.lstsq(X.sandwich(w), X.rmatvec(w * target), rcond=None)[0]
    return target - X.matvec(coef)


def partial_resids(res, focus_exog) -> np.ndarray:
    """b_j x_j + (y - mu) g'(mu) for the focus column j."""
    _, col = _focus(res.model, focus_exog)
    mu = np.asarray(res._mu)
    resid = (res._problem.y - mu) * res.family.link.deriv(mu)
    return np.nan_to_num(res._params[col]) * res.model.problem.X.column(col) + resid


def added_variable_resids(res, focus_exog, resid_type: str | None = None,
                          use_glm_weights: bool = True, fit_kwargs=None):
    """(response residuals, focus column residuals) of the added-variable plot."""
    _, col = _focus(res.model, focus_exog)
    X = res.model.problem.X   # the design's own products: no dense copy
    keep = [i for i in range(X.shape[1]) if i != col]
    reduced = X.take_columns(keep)
    kwargs = {"start_params": np.nan_to_num(res._params[keep])}
    kwargs.update(fit_kwargs or {})
    small = _refit(res, reduced, **kwargs)
    if not small.converged:
        raise ValueError("fit did not converge when calculating added variable residuals")
    endog_resid = np.asarray(getattr(small, resid_type or "resid_deviance"), dtype=float)
    w = np.ones(X.shape[0])
    if use_glm_weights:
        mu = np.asarray(res._mu)
        w = 1.0 / (res.family.link.deriv(mu) ** 2 * res.family.variance(mu))
    return endog_resid, weighted_resid(reduced, X.column(col), w)


def _lowess_at(y, x, frac: float) -> np.ndarray:
    """Cleveland's lowess (3 robustness passes, as statsmodels') at the points x, in x's order."""
    order = np.argsort(x, kind="stable")
    out = np.empty(len(order))
    out[order] = lowess(x, y, frac=frac)[1]
    return out


def ceres_resids(res, focus_exog, frac: float = 0.66, cond_means=None) -> np.ndarray:
    """CERES residuals of the focus column (Cook 1998), as statsmodels computes them."""
    _, col = _focus(res.model, focus_exog)
    X = _exog(res)
    keep = [i for i in range(X.shape[1]) if i != col]
    fcol = X[:, col]
    if cond_means is None:
        pexog = X[:, keep] - X[:, keep].mean(0)
        u, s, _ = np.linalg.svd(pexog, full_matrices=False)
        pexog = u[:, s > 1e-6]
        cond_means = np.column_stack([_lowess_at(pexog[:, j], fcol, frac)
                                      for j in range(pexog.shape[1])])
    cond_means = np.asarray(cond_means, dtype=float).reshape(X.shape[0], -1)
    new_exog = np.concatenate([X[:, keep], cond_means], axis=1)
    new = _refit(res, new_exog)
    mu = np.asarray(new._mu)
    presid = (res._problem.y - mu) * res.family.link.deriv(mu)
    return presid + cond_means @ np.nan_to_num(new._params[len(keep):])


def _axes(ax):
    if ax is not None:
        return ax.figure, ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:   # optional dependency
        raise ImportError("plots need matplotlib: pip install 'glmkit[plot]' (or pip "
                          "install matplotlib)") from None
    return plt.subplots()


def plot_added_variable(res, focus_exog, resid_type=None, use_glm_weights=True,
                        fit_kwargs=None, ax=None):
    """Added-variable plot of the focus column; returns the matplotlib Figure."""
    name, _ = _focus(res.model, focus_exog)
    endog_resid, focus_resid = added_variable_resids(res, focus_exog, resid_type,
                                                     use_glm_weights, fit_kwargs)
    fig, ax = _axes(ax)
    ax.plot(focus_resid, endog_resid, "o", alpha=0.6)
    ax.set_title("Added variable plot", fontsize="large")
    ax.set_xlabel(name, size=15)
    ax.set_ylabel(f"{res.model.endog_names} residuals", size=15)
    return fig


def plot_partial_residuals(res, focus_exog, ax=None):
    """Partial-residual (component plus residual) plot; returns the Figure."""
    name, col = _focus(res.model, focus_exog)
    fig, ax = _axes(ax)
    ax.plot(res.model.problem.X.column(col), partial_resids(res, focus_exog), "o", alpha=0.6)
    ax.set_title("Partial residuals plot", fontsize="large")
    ax.set_xlabel(name, size=15)
    ax.set_ylabel("Component plus residual", size=15)
    return fig


def plot_ceres_residuals(res, focus_exog, frac=0.66, cond_means=None, ax=None):
    """CERES plot of the focus column; returns the Figure."""
    name, col = _focus(res.model, focus_exog)
    presid = ceres_resids(res, focus_exog, frac=frac, cond_means=cond_means)
    fig, ax = _axes(ax)
    ax.plot(res.model.problem.X.column(col), presid, "o", alpha=0.6)
    ax.set_title("CERES residuals plot", fontsize="large")
    ax.set_xlabel(name, size=15)
    ax.set_ylabel("Component plus residual", size=15)
    return fig
