"""Model-level likelihood functions and summary statistics (issue 3).

Sources: invariants (score = numerical gradient of loglike, hessian = numerical Hessian,
information = -expected Hessian = X'WX / scale, score zero at the MLE), closed forms
(overdispersion ratios, exponentiated Wald intervals), scipy distributions.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import glmkit.api as sm

L = sm.families.links


def _num_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h * max(1.0, abs(x[i]))
        g[i] = (f(x + e) - f(x - e)) / (2 * e[i])
    return g


CASES = {
    "poisson_log": lambda rng, X: (rng.poisson(np.exp(0.3 + 0.2 * X[:, 1])).astype(float),
                                   sm.families.Poisson()),
    "binomial_probit": lambda rng, X: ((rng.uniform(size=len(X)) < 0.4).astype(float),
                                       sm.families.Binomial(L.Probit())),
    "gamma_log": lambda rng, X: (rng.gamma(2.0, np.exp(0.5 + 0.3 * X[:, 1]) / 2),
                                 sm.families.Gamma(L.Log())),
    "gaussian_identity": lambda rng, X: (1.0 + X[:, 1] + rng.normal(size=len(X)),
                                         sm.families.Gaussian()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_score_and_hessian_are_derivatives_of_loglike(case):
    rng = np.random.default_rng(11)
    n = 80
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(size=n)])
    y, fam = CASES[case](rng, X)
    vw = rng.uniform(0.5, 2.0, n)
    model = sm.GLM(y, X, family=fam, var_weights=vw)
    res = model.fit()
    b = np.asarray(res.params) + 0.05           # away from the maximum
    scale = 1.7 if fam.has_free_scale else 1.0

    def ll(p):
        return model.loglike(p, scale=scale)

    np.testing.assert_allclose(model.score(b, scale=scale), _num_grad(ll, b), rtol=1e-5, atol=1e-7)
    H_num = np.array([_num_grad(lambda p, j=j: model.score(p, scale=scale)[j], b)
                      for j in range(len(b))])
    np.testing.assert_allclose(model.hessian(b, scale=scale), H_num, rtol=1e-5, atol=1e-6)
    # score_obs rows sum to the score; the Fisher information is X'WX / scale
    np.testing.assert_allclose(model.score_obs(b, scale=scale).sum(0), model.score(b, scale=scale),
                               rtol=1e-12, atol=1e-12)
    w = vw * fam.weights(fam.link.inverse(X @ b))
    np.testing.assert_allclose(model.information(b, scale=scale), X.T @ (X * w[:, None]) / scale,
                               rtol=1e-10)
    # at the MLE the score vanishes and the expected information inverts to cov_params
    np.testing.assert_allclose(model.score(np.asarray(res.params), scale=res.scale), 0,
                               atol=1e-6 * np.sqrt(n))
    np.testing.assert_allclose(np.linalg.inv(model.information(np.asarray(res.params), res.scale)),
                               res.cov_params(), rtol=1e-6)
    assert model.loglike(np.asarray(res.params), scale=res.scale) == pytest.approx(
        res.model.loglike_mu(res.mu, scale=res.scale), rel=1e-12)


def test_estimate_scale_is_pearson_over_df_resid():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(60), rng.normal(size=60)])
    y = rng.gamma(2.0, 1.0, 60)
    res = sm.GLM(y, X, family=sm.families.Gamma(L.Log())).fit()
    assert res.model.estimate_scale(res.mu) == pytest.approx(res.scale, rel=1e-12)


def test_get_distribution_moments():
    """scipy frozen distributions have the fitted means and the family's variance."""
    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(50), rng.normal(size=50)])
    for y, fam in [(rng.poisson(2.0, 50).astype(float), sm.families.Poisson()),
                   (rng.gamma(2.0, 1.0, 50), sm.families.Gamma(L.Log())),
                   (rng.gamma(2.0, 1.0, 50), sm.families.InverseGaussian(L.Log())),
                   (rng.normal(size=50), sm.families.Gaussian()),
                   (rng.poisson(2.0, 50).astype(float), sm.families.NegativeBinomial(alpha=0.7))]:
        res = sm.GLM(y, X, family=fam).fit()
        dist = res.model.get_distribution(np.asarray(res.params), scale=res.scale)
        np.testing.assert_allclose(dist.mean(), res.mu, rtol=1e-10)
        np.testing.assert_allclose(dist.var(), res.scale * fam.variance(np.asarray(res.mu)),
                                   rtol=1e-10)


def test_overdispersion_and_exp_params():
    rng = np.random.default_rng(8)
    X = np.column_stack([np.ones(200), rng.normal(size=200)])
    y = rng.negative_binomial(2, 2 / (2 + np.exp(1 + 0.3 * X[:, 1]))).astype(float)
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    od = res.overdispersion()
    assert od["ratio_pearson"] == pytest.approx(res.pearson_chi2 / res.df_resid, rel=1e-12)
    assert od["ratio_deviance"] == pytest.approx(res.deviance / res.df_resid, rel=1e-12)
    assert od["pvalue"] == pytest.approx(stats.chi2.sf(res.pearson_chi2, res.df_resid), rel=1e-12)
    assert od["ratio_pearson"] > 1.5                       # the data are overdispersed
    ep = res.exp_params()
    q = stats.norm.ppf(0.975)
    np.testing.assert_allclose(ep["exp(coef)"], np.exp(res.params), rtol=1e-12)
    np.testing.assert_allclose(ep["lower"], np.exp(res.params - q * res.bse), rtol=1e-12)
    np.testing.assert_allclose(ep["upper"], np.exp(res.params + q * res.bse), rtol=1e-12)


def test_info_criteria_conventions():
    """statsmodels' convention is llf/aic/bic; R's counts the dispersion (Gaussian)."""
    rng = np.random.default_rng(9)
    X = np.column_stack([np.ones(40), rng.normal(size=40)])
    y = X @ [1.0, 2.0] + rng.normal(size=40)
    res = sm.GLM(y, X).fit()
    sm_ic = res.info_criteria("statsmodels")
    r_ic = res.info_criteria("R")
    assert sm_ic["aic"] == res.aic and sm_ic["llf"] == res.llf
    # Gaussian identity: both use the ML variance; R counts one more parameter
    assert r_ic["llf"] == pytest.approx(res.llf, rel=1e-12)
    assert r_ic["aic"] == pytest.approx(res.aic + 2.0, rel=1e-12)
    # closed form of the Gaussian log-likelihood at sigma^2 = RSS / n
    n, rss = 40, res.deviance
    assert r_ic["llf"] == pytest.approx(-n / 2 * (np.log(2 * np.pi * rss / n) + 1), rel=1e-12)
    with pytest.raises(ValueError):
        res.info_criteria("SAS")
