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
from .model_checks import _positive_count, params_constrained_checked


def _beta(model, params) -> np.ndarray:
    params = np.asarray(params, dtype=float)
    k = model.data.X.shape[1]
    if params.shape != (k,):
        raise ValueError(f"params must have {k} values, got shape {params.shape}.")
    return np.nan_to_num(params)


# ----------------------------------------------------- block functions (rows of one block)
def _eta_rows(b, beta):
    return b.design.matvec(beta) + b.offset


def _mu_rows(b, beta, link):
    return link.inverse(_eta_rows(b, beta))


def _scale_block(b, mu, family, kind):
    if kind == "dev":
        return {"s": family.deviance(b.y, mu, var_weights=b.prior_weights,
                                     freq_weights=b.freq_weights)}
    return {"s": float(np.sum(b.total_weights * np.square(b.y - mu) / family.variance(mu)))}


def _score_factor_rows(b, beta, family, scale):
    eta = _eta_rows(b, beta)
    mu = family.link.inverse(eta)
    return (b.prior_weights * family.link.inverse_deriv(eta) * (b.y - mu)
            / family.variance(mu) / scale)


def _hessian_factor_rows(b, beta, family, scale, observed):
    eta = _eta_rows(b, beta)
    link = family.link
    mu = link.inverse(eta)
    d1, var = link.inverse_deriv(eta), family.variance(mu)
    h = -b.prior_weights * d1**2 / var
    if observed is None or observed:   # statsmodels: None means observed
        d2 = link.inverse_deriv2(eta)
        h = h + b.prior_weights * (b.y - mu) * (d2 / var - d1**2 * family.variance.deriv(mu)
                                                / var**2)
    return h / scale


def _score_obs_rows(b, beta, family, scale):
    return b.X * _score_factor_rows(b, beta, family, scale)[:, None]


def _score_block(b, beta, family, scale):
    sf = _score_factor_rows(b, beta, family, scale)
    return {"score": b.design.rmatvec(b.freq_weights * sf)}


def _hessian_block(b, beta, family, scale, observed):
    hf = _hessian_factor_rows(b, beta, family, scale, observed)
    return {"hessian": b.design.sandwich(b.freq_weights * hf)}


# ------------------------------------------------------------- the model's functions
def _mu(model, beta):
    return model._passes.rows(_mu_rows, args=(beta, model.family.link), need_X=True)


def _scale_at(model, beta, scale):
    return estimate_scale(model, _mu(model, beta)) if scale is None else scale


def estimate_scale(model, mu) -> float:
    """The scale by ``model.scaletype`` (statsmodels): None, Pearson chi2 / df_resid for
    families with a dispersion, else 1; 'X2' Pearson chi2 / df_resid; 'dev' deviance /
    df_resid; a number, that number. (One pass over the rows where it sums them.)"""
    kind = getattr(model, "scaletype", None)
    if kind is None:
        if not model.family.has_free_scale:
            return 1.0
        kind = "x2"
    if isinstance(kind, (int, float, np.integer, np.floating)) and not isinstance(kind, bool):
        return float(kind)
    if not isinstance(kind, str) or kind.lower() not in ("x2", "dev"):
        raise ValueError(f"model.scaletype must be None, 'X2', 'dev' or a number, got {kind!r}.")
    out = model._passes.total(_scale_block, mu, args=(model.family, kind.lower()),
                              what="scale", need_X=False)
    return float(out.get("s", 0.0) / model.df_resid)


def loglike_mu(model, mu, scale=None) -> float:
    if scale is None:
        scale = estimate_scale(model, mu)
    from .row_sums import _llf_block

    trials = isinstance(model.family, Binomial) and model._passes.n_trials_not_one()
    out = model._passes.total(_llf_block, mu, args=(model.family, scale, trials),
                              what="loglike", need_X=False)
    return float(out.get("llf", 0.0))


def loglike(model, params, scale=None) -> float:
    if np.iscomplexobj(params):
        return _loglike_complex(model, params, scale)
    return loglike_mu(model, _mu(model, _beta(model, params)), scale)


# ------------------------------------------------ complex-step derivatives (statsmodels)
def _complex_mu_rows(b, beta, link):
    return link.inverse(b.X @ beta + b.offset)


def _complex_pearson_block(b, mu, family):
    return {"s": np.sum(b.total_weights * np.square(b.y - mu) / family.variance(mu))}


def _complex_llf_block(b, mu, family, scale, trials):
    from .row_sums import _loglike_obs

    return {"llf": np.sum(_loglike_obs(b, mu, family, scale, trials) * b.freq_weights)}


def _loglike_complex(model, params, scale):
    """The log-likelihood at complex coefficients, for statsmodels' complex-step
    derivatives (``approx_fprime_cs``, ``approx_hess_cs``): every step from the
    coefficients to the log density is analytic, so d llf / d b_j = Im llf(b + i h e_j) / h.
    A scale of None is the Pearson estimate at the same complex coefficients."""
    beta = np.asarray(params, dtype=complex)
    k = model.data.X.shape[1]
    if beta.shape != (k,):
        raise ValueError(f"params must have {k} values, got shape {beta.shape}.")
    family = model.family
    mu = model._passes.rows(_complex_mu_rows, args=(beta, family.link), need_X=True)
    if scale is None:
        kind = getattr(model, "scaletype", None)
        if family.has_free_scale and (kind is None or str(kind).lower() == "x2"):
            s = model._passes.total(_complex_pearson_block, mu, args=(family,),
                                    what="scale", need_X=False)
            scale = s["s"] / model.df_resid
        else:
            scale = estimate_scale(model, mu.real)
    trials = isinstance(family, Binomial) and model._passes.n_trials_not_one()
    out = model._passes.total(_complex_llf_block, mu, args=(family, scale, trials),
                              what="loglike", need_X=False)
    return out["llf"]


def score_factor(model, params, scale=None):
    beta = _beta(model, params)
    scale = _scale_at(model, beta, scale)
    return model._passes.rows(_score_factor_rows, args=(beta, model.family, scale), need_X=True)


def hessian_factor(model, params, scale=None, observed: bool | None = True):
    beta = _beta(model, params)
    scale = _scale_at(model, beta, scale)
    return model._passes.rows(_hessian_factor_rows, args=(beta, model.family, scale, observed),
                              need_X=True)


def score_obs(model, params, scale=None):
    beta = _beta(model, params)
    scale = _scale_at(model, beta, scale)
    return model._passes.rows(_score_obs_rows, args=(beta, model.family, scale), need_X=True,
                              ncols=beta.shape[0])


def score(model, params, scale=None):
    beta = _beta(model, params)
    scale = _scale_at(model, beta, scale)
    out = model._passes.total(_score_block, args=(beta, model.family, scale), what="score")
    return out.get("score", np.zeros(beta.shape[0]))


def hessian(model, params, scale=None, observed: bool | None = True):
    beta = _beta(model, params)
    scale = _scale_at(model, beta, scale)
    out = model._passes.total(_hessian_block, args=(beta, model.family, scale, observed),
                              what="hessian")
    k = beta.shape[0]
    return out.get("hessian", np.zeros((k, k)))


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
    if exog is None and getattr(model, "_lazy", False):
        raise NotImplementedError("get_distribution holds the means of every row in a scipy "
                                  "distribution; on Dask give the rows to evaluate as exog "
                                  "(NumPy or pandas).")
    mu = np.asarray(model.predict(params, exog=exog, exposure=exposure, offset=offset))
    fam = model.family
    if isinstance(fam, (Binomial, Poisson, NegativeBinomial)):
        scale = 1.0
    elif scale is None:
        scale = estimate_scale(model, _mu(model, _beta(model, params)))
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
    if getattr(model, "_lazy", False):
        raise NotImplementedError("estimate_tweedie_power solves for the power with many "
                                  "evaluations over the rows; on Dask fit a sample in memory.")
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


# ----------------------------------------------------------------- score tests
def score_test(model, params_constrained, k_constraints=None, exog_extra=None,
               observed: bool = True):
    """Score (Rao) test of added columns ``exog_extra`` at the constrained fit's params.

    Returns (statistic, p-value, df): R's Rao statistic of anova(small, big,
    test='Rao'), divided, as R does, by the dispersion of the bigger model (which is
    fitted for that when the family has a free dispersion).

    Without ``exog_extra``, statsmodels' test of ``k_constraints`` restrictions already
    imposed on ``params_constrained`` in this model: s' (-H)^{-1} s at those params
    (H observed, or expected with ``observed=False``); the p-value is NaN for 0
    constraints.
    """
    from scipy import stats as _st

    from .inference import rao_statistic

    if exog_extra is None:
        return _score_test_constrained(model, params_constrained, k_constraints, observed)
    if model._lazy:
        raise NotImplementedError("score_test with exog_extra builds the larger design in "
                                  "memory; on Dask fit the larger model and use "
                                  "small.anova(big, test='Rao') or give k_constraints.")
    extra = np.asarray(exog_extra, dtype=float)
    extra = extra[:, None] if extra.ndim == 1 else extra
    res = model.fit(start_params=params_constrained)
    from .design import DenseDesign, SplitDesign

    X = model.problem.X
    if isinstance(X, DenseDesign):
        X_big = np.column_stack([X.array, extra])
    else:   # a factor or sparse design stays one: its products give the statistic
        blocks = X.blocks if isinstance(X, SplitDesign) else [X]
        X_big = SplitDesign([*blocks, DenseDesign(np.ascontiguousarray(extra))])
    scale = 1.0
    if model.family.has_free_scale:
        d = model.data
        endog = d.y if d.n_trials is None else np.column_stack(
            [d.y * model.n_trials, (1 - d.y) * model.n_trials])
        big = type(model)(endog, X_big, family=model.family, offset=d.offset,
                          exposure=d.exposure, freq_weights=d.freq_weights,
                          var_weights=d.var_weights)
        scale = big.fit().scale
    stat = rao_statistic(res, X_big) / scale
    df = extra.shape[1] if k_constraints is None else k_constraints
    return stat, float(_st.chi2.sf(stat, df)), df

def _score_test_constrained(model, params, k_constraints, observed: bool):
    """statsmodels' score test at ``params`` estimated under ``k_constraints``
    restrictions of this model: s' (-H)^{-1} s with the score s and the (observed or
    expected) Hessian H at ``params`` and the model's scale rule."""
    from scipy import stats as _st

    if k_constraints is None:
        raise ValueError("score_test without exog_extra tests restrictions already "
                         "imposed on params_constrained: pass k_constraints.")
    k = _positive_count(k_constraints)
    b = np.asarray(params_constrained_checked(params, model.data.X.shape[1]))
    s = model.score(b)
    H = model.hessian(b, observed=observed)
    stat = float(s @ np.linalg.solve(-H, s))
    return stat, float(_st.chi2.sf(stat, k)) if k > 0 else float("nan"), k


def derivative_predict(model, params, exog=None, transform: str = "dydx", offset=None,
                       exposure=None):
    """d mean / d params, one row per observation (statsmodels' private
    ``_derivative_predict``); ``transform`` containing 'ey' divides by the mean."""
    eta = model.predict(params, exog=exog, offset=offset, exposure=exposure, which="linear")
    X = model.problem.X.to_dense() if exog is None else model.exog_for_predict(exog)[0]
    d = np.asarray(X, dtype=float) * model.family.link.inverse_deriv(eta)[:, None]
    if "ey" in transform:
        d /= model.family.link.inverse(eta)[:, None]
    return d


def deriv_mean_dparams(model, params):
    """d mean / d params at the model's own rows (statsmodels' ``_deriv_mean_dparams``)."""
    return derivative_predict(model, params)
