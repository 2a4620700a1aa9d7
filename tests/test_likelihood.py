"""Model-level likelihood functions and summary statistics (issue 3).

Sources: invariants (score = numerical gradient of loglike, hessian = numerical Hessian,
information = -expected Hessian = X'WX / scale, score zero at the MLE), closed forms
(overdispersion ratios, exponentiated Wald intervals), scipy distributions.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

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
    # score_obs rows sum to the score; the Fisher information is X'WX / scale, and
    # information() is statsmodels' expected Hessian, its negative
    np.testing.assert_allclose(model.score_obs(b, scale=scale).sum(0), model.score(b, scale=scale),
                               rtol=1e-12, atol=1e-12)
    w = vw * fam.weights(fam.link.inverse(X @ b))
    np.testing.assert_allclose(-model.information(b, scale=scale), X.T @ (X * w[:, None]) / scale,
                               rtol=1e-10)
    np.testing.assert_allclose(model.information(b, scale=scale),
                               model.hessian(b, scale=scale, observed=False), rtol=1e-12)
    # at the MLE the score vanishes and the expected information inverts to cov_params
    np.testing.assert_allclose(model.score(np.asarray(res.params), scale=res.scale), 0,
                               atol=1e-6 * np.sqrt(n))
    np.testing.assert_allclose(np.linalg.inv(-model.information(np.asarray(res.params), res.scale)),
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


def test_family_get_distribution_is_statsmodels():
    """Family.get_distribution gives statsmodels 0.15's frozen distributions (args, kwds)."""
    smf = pytest.importorskip("statsmodels.genmod.families")
    mu = np.array([0.2, 0.5, 0.7])
    pairs = [(sm.families.Gaussian(), smf.Gaussian(), 2.0),
             (sm.families.Gamma(), smf.Gamma(), 0.3),
             (sm.families.InverseGaussian(), smf.InverseGaussian(), 0.4),
             (sm.families.Poisson(), smf.Poisson(), 1.0),
             (sm.families.NegativeBinomial(alpha=0.5), smf.NegativeBinomial(alpha=0.5), 1.0),
             (sm.families.Binomial(), smf.Binomial(), 1.0)]
    vw = np.array([1.0, 2.0, 3.0])
    for ours, theirs, scale in pairs:
        a, b = ours.get_distribution(mu, scale, var_weights=vw), \
            theirs.get_distribution(mu, scale, var_weights=vw)
        for x, y in zip(a.args, b.args):
            np.testing.assert_allclose(x, y, rtol=1e-14)
        assert set(a.kwds) == set(b.kwds)
        for k in a.kwds:
            np.testing.assert_allclose(a.kwds[k], b.kwds[k], rtol=1e-14)
    d = sm.families.Binomial().get_distribution(mu, 1.0, n_trials=np.array([3, 4, 5]))
    np.testing.assert_allclose(d.mean(), mu * [3, 4, 5], rtol=1e-14)


def test_negative_binomial_without_alpha_warns_as_statsmodels():
    from glmkit.exceptions import ValueWarning

    with pytest.warns(ValueWarning, match="Negative binomial dispersion parameter alpha not set"):
        fam = sm.families.NegativeBinomial()
    assert fam.alpha == 1.0


def test_estimate_tweedie_power_solves_the_pearson_equation():
    """The root makes statsmodels' Pearson estimating equation zero; statsmodels agrees."""
    rng = np.random.default_rng(11)
    X = np.column_stack([np.ones(300), rng.normal(size=300)])
    mu = np.exp(1.0 + 0.4 * X[:, 1])
    y = rng.gamma(1.0 / 0.3, mu * 0.3)      # variance 0.3 mu^2: power near 2
    model = sm.GLM(y, X, family=sm.families.Tweedie(var_power=1.5))
    res = model.fit()
    p = model.estimate_tweedie_power(np.asarray(res.mu))
    r2, m = (y - res.mu) ** 2, np.asarray(res.mu)
    phi = np.sum(r2 / m**p) / res.df_resid
    assert abs(np.sum((r2 / (phi * m**p) - 1) * np.log(m))) < 1e-8 * len(y)
    smapi = pytest.importorskip("statsmodels.api")
    sm_model = smapi.GLM(y, X, family=smapi.families.Tweedie(var_power=1.5))
    assert p == pytest.approx(sm_model.estimate_tweedie_power(m), rel=1e-10)
    with pytest.raises(NotImplementedError, match="brentq"):
        model.estimate_tweedie_power(m, method="newton")
    with pytest.raises(ValueError, match="low"):
        model.estimate_tweedie_power(m, low=3.0, high=2.0)


def test_tweedie_power_one_loglike_is_scaled_poisson():
    """statsmodels' Tweedie(var_power=1) llf at any scale: Poisson log pmf * w / scale."""
    y = np.array([0.0, 1.0, 3.0, 2.0])
    mu = np.array([0.5, 1.5, 2.0, 2.5])
    fam = sm.families.Tweedie(var_power=1.0)
    expected = np.sum(2.0 / 1.7 * (y * np.log(mu) - mu - special.gammaln(y + 1)))
    assert fam.loglike(y, mu, var_weights=2.0, scale=1.7) == pytest.approx(expected, rel=1e-14)
