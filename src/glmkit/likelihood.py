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
from scipy import stats

from .families import (Binomial, Gamma, Gaussian, InverseGaussian, NegativeBinomial, Poisson)


def _eta_mu(model, params):
    params = np.asarray(params, dtype=float)
    k = model.data.X.shape[1]
    if params.shape != (k,):
        raise ValueError(f"params must have {k} values, got shape {params.shape}.")
    eta = model.problem.X.matvec(np.nan_to_num(params)) + model.problem.offset
    return eta, model.family.link.inverse(eta)


def estimate_scale(model, mu) -> float:
    """Pearson chi2 / df_resid for families with a dispersion, else 1."""
    if not model.family.has_free_scale:
        return 1.0
    p = model.problem
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


def hessian_factor(model, params, scale=None, observed: bool = True):
    eta, mu = _eta_mu(model, params)
    if scale is None:
        scale = estimate_scale(model, mu)
    p, fam, link = model.problem, model.family, model.family.link
    d1, var = link.inverse_deriv(eta), fam.variance(mu)
    h = -p.prior_weights * d1**2 / var
    if observed:
        d2 = link.inverse_deriv2(eta)
        h = h + p.prior_weights * (p.y - mu) * (d2 / var - d1**2 * fam.variance.deriv(mu) / var**2)
    return h / scale


def score_obs(model, params, scale=None):
    return model.problem.X.to_dense() * score_factor(model, params, scale)[:, None]


def score(model, params, scale=None):
    return model.problem.X.rmatvec(model.problem.freq_weights * score_factor(model, params, scale))


def hessian(model, params, scale=None, observed: bool = True):
    hf = hessian_factor(model, params, scale, observed)
    return model.problem.X.sandwich(model.problem.freq_weights * hf)


def information(model, params, scale=None):
    """Expected (Fisher) information: -hessian(observed=False)."""
    return -hessian(model, params, scale, observed=False)


def get_distribution(model, params, scale=None, exog=None, exposure=None, offset=None,
                     var_weights=1.0, n_trials=1.0):
    """scipy frozen distribution of the response at the predicted means."""
    mu = np.asarray(model.predict(params, exog=exog, exposure=exposure, offset=offset))
    fam = model.family
    if scale is None:
        scale = estimate_scale(model, _eta_mu(model, params)[1]) if fam.has_free_scale else 1.0
    vw = np.asarray(var_weights, dtype=float)
    if isinstance(fam, Gaussian):
        return stats.norm(loc=mu, scale=np.sqrt(scale / vw))
    if isinstance(fam, Poisson):
        return stats.poisson(mu)
    if isinstance(fam, Binomial):
        return stats.binom(np.asarray(n_trials), mu)
    if isinstance(fam, Gamma):
        shape = vw / scale
        return stats.gamma(shape, scale=mu / shape)
    if isinstance(fam, InverseGaussian):
        lam = vw / scale
        return stats.invgauss(mu / lam, scale=lam)
    if isinstance(fam, NegativeBinomial):
        n = 1.0 / fam.alpha
        return stats.nbinom(n, n / (n + mu))
    raise NotImplementedError(f"no scipy distribution for the {fam.name} family.")
