"""Model-level likelihood functions at arbitrary parameters (statsmodels' GLM methods).

Conventions
-----------
``score`` is +dllf/dparams; ``hessian`` is the true Hessian d2llf/dparams2 (negative
definite at a maximum), never its negative. ``score_factor`` and ``hessian_factor`` are the
per-row weights such that score = X' (freq_weights * score_factor) and
hessian = X' diag(freq_weights * hessian_factor) X. All include the prior weights and divide
by the scale.
"""
from __future__ import annotations

import numpy as np
from .families import Binomial, NegativeBinomial, Poisson


def _eta_mu(model, params):
    params = np.asarray(params, dtype=float)
    k = model.data.X.shape[1]
    if params.shape != (k,):
        raise ValueError(f"params must have {k} values, got shape {params.shape}.")
    eta = model.problem.X.matvec(np.nan_to_num(params)) + model.problem.offset
    return eta, model.family.link.inverse(eta)


def estimate_scale(model, mu) -> float:
    """The scale by ``model.scaletype`` (statsmodels): None, Pearson chi2 / df_resid for
    families with a dispersion, else 1; 'X2' Pearson chi2 / df_resid; 'dev' deviance /
    df_resid; a number, that number."""
    kind = getattr(model, "scaletype", None)
    if kind is None:
        if not model.family.has_free_scale:
            return 1.0
        kind = "x2"
    if isinstance(kind, (int, float, np.integer, np.floating)) and not isinstance(kind, bool):
        return float(kind)
    if not isinstance(kind, str) or kind.lower() not in ("x2", "dev"):
        raise ValueError(f"model.scaletype must be None, 'X2', 'dev' or a number, got {kind!r}.")
    p = model.problem
    if kind.lower() == "dev":
        return float(p.deviance(mu) / model.df_resid)
    chi2 = np.sum(p.total_weights * np.square(p.y - mu) / model.family.variance(mu))
    return float(chi2 / model.df_resid)


def loglike_mu(model, mu, scale=None) -> float:
    if scale is None:
        scale = estimate_scale(model, mu)
    p = model.problem
    return model.family.loglike(p.y, mu, var_weights=model.var_weights,
                                freq_weights=p.freq_weights, scale=scale,
                                n_trials=model.n_trials)


def loglike(model, params, scale=None) -> float:
    return loglike_mu(model, _eta_mu(model, params)[1], scale)


def score_factor(model, params, scale=None):
    eta, mu = _eta_mu(model, params)
    if scale is None:
        scale = estimate_scale(model, mu)
    p, fam = model.problem, model.family
    return p.prior_weights * fam.link.inverse_deriv(eta) * (p.y - mu) / fam.variance(mu) / scale


def hessian_factor(model, params, scale=None, observed: bool | None = True):
    eta, mu = _eta_mu(model, params)
    if scale is None:
        scale = estimate_scale(model, mu)
    p, fam, link = model.problem, model.family, model.family.link
    d1, var = link.inverse_deriv(eta), fam.variance(mu)
    h = -p.prior_weights * d1**2 / var
    if observed is None or observed:   # statsmodels: None means observed
        d2 = link.inverse_deriv2(eta)
        h = h + p.prior_weights * (p.y - mu) * (d2 / var - d1**2 * fam.variance.deriv(mu) / var**2)
    return h / scale


def score_obs(model, params, scale=None):
    return model.problem.X.to_dense() * score_factor(model, params, scale)[:, None]


def score(model, params, scale=None):
    return model.problem.X.rmatvec(model.problem.freq_weights * score_factor(model, params, scale))


def hessian(model, params, scale=None, observed: bool | None = True):
    hf = hessian_factor(model, params, scale, observed)
    return model.problem.X.sandwich(model.problem.freq_weights * hf)


def information(model, params, scale=None):
    """statsmodels' ``GLM.information``: the expected Hessian, ``hessian(observed=False)``.

    Conventions
    -----------
    statsmodels returns the expected Hessian itself, negative definite at a maximum (its
    test_information_is_expected_hessian pins this), not the Fisher information
    -E[H], which is ``-information(params)``. glmkit keeps statsmodels' sign so that
    ported code computing e.g. ``np.linalg.inv(-model.information(b))`` is unchanged.
    """
    return hessian(model, params, scale, observed=False)


def get_distribution(model, params, scale=None, exog=None, exposure=None, offset=None,
                     var_weights=1.0, n_trials=1.0):
    """scipy frozen distribution of the response at the predicted means (statsmodels').

    The discrete families (Binomial, Poisson, NegativeBinomial) use scale 1; the others
    the given scale, or when it is None the Pearson scale at ``params``.
    """
    mu = np.asarray(model.predict(params, exog=exog, exposure=exposure, offset=offset))
    fam = model.family
    if isinstance(fam, (Binomial, Poisson, NegativeBinomial)):
        scale = 1.0
    elif scale is None:
        scale = estimate_scale(model, _eta_mu(model, params)[1])
    if isinstance(fam, Binomial):
        return fam.get_distribution(mu, scale, var_weights=var_weights, n_trials=n_trials)
    return fam.get_distribution(mu, scale, var_weights=var_weights)


def estimate_tweedie_power(model, mu, method: str = "brentq", low: float = 1.01,
                           high: float = 5.0) -> float:
    """statsmodels' Pearson estimate of the Tweedie variance power p.

    Notes
    -----
    p solves sum_i w_i ((y_i - mu_i)^2 / (phi(p) mu_i^p) - 1) log(mu_i) = 0 with
    phi(p) = sum_i w_i (y_i - mu_i)^2 / mu_i^p / df_resid (w: frequency times prior
    weights), by scipy's brentq on [low, high].
    """
    if method != "brentq":
        raise NotImplementedError(f"only method='brentq' is available, got {method!r}.")
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low < high):
        raise ValueError(f"need finite 0 <= low < high, got low={low!r}, high={high!r}.")
    mu = np.asarray(mu, dtype=float)
    p = model.problem
    if mu.shape != p.y.shape or not np.all(np.isfinite(mu)) or np.any(mu <= 0):
        raise ValueError(f"mu must be {p.y.shape[0]} positive finite means.")
    from scipy.optimize import brentq

    w, r2, logmu = p.total_weights, np.square(p.y - mu), np.log(mu)
    df = model.df_resid

    def psi(power):
        v = np.power(mu, power)
        phi = np.sum(w * r2 / v) / df
        return np.sum(w * (r2 / (phi * v) - 1.0) * logmu) / np.sum(p.freq_weights)

    return float(brentq(psi, low, high))
