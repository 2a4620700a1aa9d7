"""statsmodels' fit_regularized on its own terms: the ridge shortcut (L1_wt=0), method=
'l1_slsqp', maxiter and fit_history, fit_elasticnet and the result types.

Sources: statsmodels 0.15 (its GLM.fit_regularized, _fit_ridge, l1_slsqp) where it converges;
the equation its ridge gradient sets to zero (closed form: score(b; 1) / (N scale(b)) =
alpha b) where its BFGS stops short; glmkit's coordinate-descent optimum (KKT to 1e-10) for
the l1_slsqp answer's distance from the optimum.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glmkit.api as sm
from glmkit.exceptions import ConvergenceWarning
from glmkit.regularized import RegularizedResultsWrapper, fit_elasticnet

smo = pytest.importorskip("statsmodels.api")


def _data(seed=3, n=300):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 4))])
    mu = np.exp(0.3 + X[:, 1:] @ np.r_[0.4, -0.3, 0, 0.2])
    y_gamma = rng.gamma(2.0, mu / 2.0)
    p = 1 / (1 + np.exp(-(X @ np.r_[0.2, 1, -1, 0, 0.5])))
    y_bin = (rng.random(n) < p).astype(float)
    return X, y_gamma, y_bin


def _ridge_equation(model, b, alpha):
    """statsmodels' ridge gradient: score at the scale estimated at b, over N, minus alpha b."""
    return np.asarray(model.score(b)) / model.nobs - alpha * b


@pytest.mark.parametrize("fam", ["gamma", "tweedie", "gaussian"])
@pytest.mark.parametrize("alpha", [0.05, 0.5])
def test_ridge_shortcut_solves_statsmodels_ridge_equation(fam, alpha):
    X, y, _ = _data()
    make = {"gamma": lambda m: m.families.Gamma(m.families.links.Log()),
            "tweedie": lambda m: m.families.Tweedie(var_power=1.5),
            "gaussian": lambda m: m.families.Gaussian()}[fam]
    model = sm.GLM(y, X, family=make(sm))
    res = model.fit_regularized(alpha=alpha, L1_wt=0)
    assert isinstance(res, RegularizedResultsWrapper) and res.converged
    b = np.asarray(res.params)
    np.testing.assert_allclose(_ridge_equation(model, b, alpha), 0, atol=1e-9)
    # statsmodels' BFGS: where it says it converged, the same point to its tolerance
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = smo.GLM(y, X, family=make(smo)).fit_regularized(alpha=alpha, L1_wt=0)
    if not any("may have failed" in str(w.message) for w in caught):
        np.testing.assert_allclose(b, ref.params, atol=1e-4)
    else:   # it stopped short: its gradient there is farther from zero than ours
        sm_model = smo.GLM(y, X, family=make(smo))
        theirs = np.linalg.norm(_ridge_equation(sm_model, np.asarray(ref.params), alpha))
        assert theirs > 1e3 * np.linalg.norm(_ridge_equation(sm_model, b, alpha))


def test_ridge_shortcut_differs_from_the_scale_one_objective_only_with_a_dispersion():
    X, y_gamma, y_bin = _data()
    for y, fam, same in [(y_bin, sm.families.Binomial(), True),
                         (y_gamma, sm.families.Gamma(sm.families.links.Log()), False)]:
        model = sm.GLM(y, X, family=fam)
        ridge = model.fit_regularized(alpha=0.3, L1_wt=0).params
        scale_one = fit_elasticnet(model, alpha=0.3, L1_wt=0, cnvrg_tol=1e-10).params
        assert np.allclose(ridge, scale_one, atol=1e-8) == same


def test_private_fit_ridge_with_zero_alpha_is_the_unpenalized_fit():
    # statsmodels' test_glm_lasso_6431 calls model._fit_ridge directly
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(50), np.arange(50.0)])
    y = 1000 + x[:, 1] + rng.standard_normal(50)
    model = sm.GLM(y, x)
    for method in ("bfgs", None):
        np.testing.assert_allclose(model._fit_ridge(alpha=0, start_params=None,
                                                    method=method).params,
                                   model.fit().params, rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.01, 0.05])
def test_l1_slsqp_equals_statsmodels_and_is_near_the_optimum(alpha):
    X, _, y = _data()
    ours = sm.GLM(y, X, family=sm.families.Binomial()).fit_regularized(
        method="l1_slsqp", alpha=alpha)
    ref = smo.GLM(y, X, family=smo.families.Binomial()).fit_regularized(
        method="l1_slsqp", alpha=alpha)
    np.testing.assert_allclose(ours.params, ref.params, atol=1e-9)
    assert ours.method == "l1_slsqp" and ours.converged
    cd = sm.GLM(y, X, family=sm.families.Binomial()).fit_regularized(alpha=alpha)
    np.testing.assert_allclose(ours.params, cd.params, atol=1e-4)
    assert np.array_equal(np.asarray(ours.params) == 0, np.asarray(cd.params) == 0)


def test_maxiter_caps_the_iterations_and_warns():
    X, _, y = _data()
    model = sm.GLM(y, X, family=sm.families.Binomial())
    for method in ("l1_slsqp", "elastic_net"):
        with pytest.warns(ConvergenceWarning):
            res = model.fit_regularized(method=method, alpha=0.1, maxiter=1, refit=True)
        assert res.fit_history == {"iteration": 1}
        assert res.model is model
    full = model.fit_regularized(alpha=0.1, refit=True)
    assert 1 < full.fit_history["iteration"] <= 50


def test_fit_elasticnet_synonyms_and_checks():
    X, _, y = _data()
    model = sm.GLM(y, X, family=sm.families.Binomial())
    a = fit_elasticnet(model, method="coord_descent", alpha=0.1)
    b = fit_elasticnet(model, method="elastic_net", alpha=0.1)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_allclose(a.params, model.fit_regularized(alpha=0.1).params, atol=1e-6)
    with pytest.raises(ValueError, match="method"):
        fit_elasticnet(model, method="l1", alpha=0.1)
    with pytest.raises(ValueError, match="method"):
        model.fit_regularized(method="l1", L1_wt=0, alpha=0.1)
    with pytest.raises(ValueError, match="L1_wt must be 1"):
        model.fit_regularized(method="l1_slsqp", L1_wt=0, alpha=0.1)
    with pytest.raises(ValueError, match="trim_mode"):
        model.fit_regularized(method="l1_slsqp", alpha=0.1, trim_mode="always")
    with pytest.raises(TypeError, match="trim_mode"):
        model.fit_regularized(method="elastic_net", alpha=0.1, trim_mode="auto")
