"""Tier 3 invariants of the families in :mod:`glmkit.families`.

Expected values come from: closed-form identities of exponential families (named at each
test), scipy.stats log densities, numerical integration (scipy.integrate.quad), numerical
derivatives, and statsmodels 0.14+ (a test-only peer) for Anscombe residuals.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, stats

from glmkit import families as F
from glmkit.families import links as L
from glmkit.families import varfuncs as V

sm_families = pytest.importorskip("statsmodels.genmod.families")

RNG = np.random.default_rng(20240611)


@pytest.fixture(autouse=True)
def _no_runtime_warnings():
    """Family computations on valid inputs must be warning-free."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


# ----------------------------------------------------------------- test data
def _counts(n=40):
    return np.concatenate([[0.0, 0.0, 1.0, 2.0, 17.0], RNG.poisson(3.0, n - 5).astype(float)])


def _positive(n=40):
    return np.concatenate([[0.01, 0.5, 1.0, 30.0], RNG.gamma(2.0, 1.5, n - 4)])


def _nonneg_cont(n=40):
    y = RNG.gamma(2.0, 1.5, n)
    y[::4] = 0.0                     # compound Poisson-gamma: point mass at zero
    return y


def _gauss(n=40):
    return RNG.normal(1.0, 2.0, n)


def _props(n=40):
    return np.concatenate([[0.0, 1.0, 0.5], RNG.uniform(0, 1, n - 3)])


def _mu_like(y, positive=True, unit=False):
    """Means near y but not equal to it."""
    n = y.shape[0]
    if unit:
        return np.clip(0.15 + 0.7 * RNG.uniform(0, 1, n), 0.05, 0.95)
    if positive:
        return np.abs(y) * RNG.uniform(0.5, 1.5, n) + 0.2
    return y + RNG.normal(0, 1, n)


# (id, family, y, mu)
def _fam_cases():
    yc, yp, yt, yg, yb = _counts(), _positive(), _nonneg_cont(), _gauss(), _props()
    return [
        pytest.param(F.Gaussian(), yg, _mu_like(yg, positive=False), id="Gaussian"),
        pytest.param(F.Binomial(), yb, _mu_like(yb, unit=True), id="Binomial"),
        pytest.param(F.Poisson(), yc, _mu_like(yc), id="Poisson"),
        pytest.param(F.Gamma(), yp, _mu_like(yp), id="Gamma"),
        pytest.param(F.InverseGaussian(), yp, _mu_like(yp), id="InverseGaussian"),
        pytest.param(F.NegativeBinomial(alpha=0.5), yc, _mu_like(yc), id="NegativeBinomial0.5"),
        pytest.param(F.Tweedie(var_power=1.5), yt, _mu_like(yt), id="Tweedie1.5"),
        pytest.param(F.Tweedie(var_power=0), yg, _mu_like(yg, positive=False) ** 2 + 0.1,
                     id="Tweedie0"),
        pytest.param(F.Tweedie(var_power=1), yc, _mu_like(yc), id="Tweedie1"),
        pytest.param(F.Tweedie(var_power=2), yp, _mu_like(yp), id="Tweedie2"),
        pytest.param(F.Tweedie(var_power=3), yp, _mu_like(yp), id="Tweedie3"),
    ]


FAM_CASES = _fam_cases()


# ------------------------------------------------------------- unit deviance
@pytest.mark.parametrize("family, y, mu", FAM_CASES)
def test_unit_deviance_zero_at_saturation(family, y, mu):
    # d(y, y) = 0: the saturated model has zero deviance (definition of deviance). At y = 0
    # the saturated mean of the count / Tweedie families is the limit mu -> 0+ (mu = 0 is
    # outside their range), so take a tiny positive mean there.
    mu_sat = np.where(y == 0, 1e-300, y)
    assert_allclose(family.unit_deviance(y, mu_sat), 0.0, atol=1e-12)


@pytest.mark.parametrize("family, y, mu", FAM_CASES)
def test_unit_deviance_is_non_negative(family, y, mu):
    # d(y, mu) = 2 [l(y; y) - l(y; mu)] >= 0 because mu = y maximises l(y; .)
    d = family.unit_deviance(y, mu)
    assert np.all(np.isfinite(d))
    assert np.all(d >= 0)
    assert np.all(d[y != mu] > 0)


@pytest.mark.parametrize("family, y, mu", FAM_CASES)
def test_deviance_is_weighted_sum_of_unit_deviances(family, y, mu):
    # the documented convention: deviance = sum(freq * var * d) / scale
    vw = RNG.uniform(0.5, 2.0, y.shape[0])
    fw = RNG.integers(1, 4, y.shape[0]).astype(float)
    expected = np.sum(fw * vw * family.unit_deviance(y, mu)) / 1.7
    assert_allclose(family.deviance(y, mu, var_weights=vw, freq_weights=fw, scale=1.7),
                    expected, rtol=1e-13)


@pytest.mark.parametrize("family, y, mu", FAM_CASES)
def test_resid_dev_squares_to_unit_deviance(family, y, mu):
    # deviance residuals: sign(y - mu) sqrt(w d / scale); their squares sum to the deviance
    vw = RNG.uniform(0.5, 2.0, y.shape[0])
    r = family.resid_dev(y, mu, var_weights=vw, scale=1.3)
    assert_allclose(r**2, vw * family.unit_deviance(y, mu) / 1.3, rtol=1e-12, atol=1e-300)
    assert np.all(np.sign(r) == np.sign(y - mu))


# ------------------------------------------- deviance = 2 * loglikelihood ratio
# For an exponential dispersion family f(y; mu, phi/w) = a(y, phi/w) exp(w (y theta - kappa)/phi)
# the normaliser a() does not depend on mu, so
#     w d(y, mu) / phi = 2 [loglike_obs(y, y) - loglike_obs(y, mu)]
# at ANY scale phi. Poisson, Binomial and NegativeBinomial (no free scale) are checked at
# scale 1 with prior weights; Gaussian, Gamma, InverseGaussian, Tweedie at several scales.
@pytest.mark.parametrize("family, y, mu", [
    c for c in FAM_CASES if c.id in ("Poisson", "NegativeBinomial0.5", "Tweedie1")
])
def test_deviance_is_loglik_ratio_counts(family, y, mu):
    vw = RNG.uniform(0.5, 2.0, y.shape[0])
    for w in (1.0, vw):
        lr = 2.0 * (family.loglike_obs(y, y, var_weights=w)
                    - family.loglike_obs(y, mu, var_weights=w))
        assert_allclose(w * family.unit_deviance(y, mu), lr, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("family, y, mu", [
    c for c in FAM_CASES
    if c.id in ("Gaussian", "Gamma", "InverseGaussian", "Tweedie0", "Tweedie1.5", "Tweedie2",
                "Tweedie3")
])
@pytest.mark.parametrize("scale", [1.0, 0.4, 2.5])
def test_deviance_is_loglik_ratio_with_scale(family, y, mu, scale):
    vw = RNG.uniform(0.5, 2.0, y.shape[0])
    for w in (1.0, vw):
        ll_sat = family.loglike_obs(y, y, var_weights=w, scale=scale)
        ll_mu = family.loglike_obs(y, mu, var_weights=w, scale=scale)
        assert_allclose(w * family.unit_deviance(y, mu) / scale, 2.0 * (ll_sat - ll_mu),
                        rtol=1e-9, atol=1e-10)


def test_binomial_deviance_is_loglik_ratio_bernoulli():
    # 0/1 response: d(y, mu) = -2 log f(y; mu) since l(y; y) = 0 for a Bernoulli y
    fam = F.Binomial()
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    mu = np.array([0.1, 0.3, 0.9, 0.6, 0.5])
    assert_allclose(fam.loglike_obs(y, y), 0.0, atol=1e-15)
    assert_allclose(fam.unit_deviance(y, mu), -2.0 * fam.loglike_obs(y, mu), rtol=1e-13)


@pytest.mark.parametrize("how", ["n_trials", "var_weights"])
def test_binomial_deviance_is_loglik_ratio_proportions(how):
    # proportion y = k/m with m trials: m d(y, mu) = 2 [l(k; m, y) - l(k; m, mu)]
    fam = F.Binomial()
    m = np.array([1.0, 3.0, 5.0, 10.0, 10.0, 25.0, 7.0])
    k = np.array([1.0, 0.0, 2.0, 10.0, 3.0, 11.0, 7.0])
    y, mu = k / m, np.array([0.6, 0.2, 0.5, 0.7, 0.4, 0.45, 0.9])
    kw = {how: m}
    lr = 2.0 * (fam.loglike_obs(y, y, **kw) - fam.loglike_obs(y, mu, **kw))
    assert_allclose(m * fam.unit_deviance(y, mu), lr, rtol=1e-11, atol=1e-12)


# --------------------------------------------------- log densities vs scipy
@pytest.mark.parametrize("scale", [1.0, 0.3, 2.2])
def test_gaussian_loglike_is_norm_logpdf(scale):
    # N(mu, scale / w): log f = -(w (y-mu)^2 / scale + log(2 pi scale / w)) / 2
    y, fam = _gauss(), F.Gaussian()
    mu, w = _mu_like(y, positive=False), RNG.uniform(0.5, 2, y.shape[0])
    expected = stats.norm.logpdf(y, loc=mu, scale=np.sqrt(scale / w))
    assert_allclose(fam.loglike_obs(y, mu, var_weights=w, scale=scale), expected, rtol=1e-12)
    # Tweedie(0) is the Gaussian
    assert_allclose(F.Tweedie(var_power=0).loglike_obs(y, mu, var_weights=w, scale=scale),
                    expected, rtol=1e-12)


def test_poisson_loglike_is_poisson_logpmf():
    # log f = y log mu - mu - log y!; prior weights multiply the log density (statsmodels)
    y, fam = _counts(), F.Poisson()
    mu, w = _mu_like(y), RNG.uniform(0.5, 2, y.shape[0])
    expected = stats.poisson.logpmf(y, mu)
    assert_allclose(fam.loglike_obs(y, mu), expected, rtol=1e-12)
    assert_allclose(fam.loglike_obs(y, mu, var_weights=w), w * expected, rtol=1e-12)
    assert_allclose(F.Tweedie(var_power=1).loglike_obs(y, mu), expected, rtol=1e-12)


def test_binomial_loglike_is_binom_logpmf():
    # 0/1: Bernoulli log pmf; proportions with m trials (as n_trials or as var_weights):
    # log C(m, k) + k log mu + (m - k) log(1 - mu), k = m y
    fam = F.Binomial()
    yb = RNG.integers(0, 2, 30).astype(float)
    mu = RNG.uniform(0.05, 0.95, 30)
    assert_allclose(fam.loglike_obs(yb, mu), stats.binom.logpmf(yb, 1, mu), rtol=1e-12)
    m = RNG.integers(1, 20, 30).astype(float)
    k = np.floor(RNG.uniform(0, 1, 30) * (m + 1))
    expected = stats.binom.logpmf(k, m, mu)
    assert_allclose(fam.loglike_obs(k / m, mu, n_trials=m), expected, rtol=1e-10)
    assert_allclose(fam.loglike_obs(k / m, mu, var_weights=m), expected, rtol=1e-10)


@pytest.mark.parametrize("scale", [1.0, 0.25, 3.0])
def test_gamma_loglike_is_gamma_logpdf(scale):
    # Gamma with mean mu and variance scale mu^2 / w: shape w/scale, scale parameter mu scale/w
    y, fam = _positive(), F.Gamma()
    mu, w = _mu_like(y), RNG.uniform(0.5, 2, y.shape[0])
    shape = w / scale
    expected = stats.gamma.logpdf(y, a=shape, scale=mu / shape)
    assert_allclose(fam.loglike_obs(y, mu, var_weights=w, scale=scale), expected, rtol=1e-11)
    assert_allclose(F.Tweedie(var_power=2).loglike_obs(y, mu, var_weights=w, scale=scale),
                    expected, rtol=1e-11)


@pytest.mark.parametrize("scale", [1.0, 0.25, 3.0])
def test_inverse_gaussian_loglike_is_invgauss_logpdf(scale):
    # IG(mean mu, shape lambda = w / scale) has variance mu^3 scale / w;
    # scipy's invgauss(mu / lambda, scale=lambda) is IG(mu, lambda)
    y, fam = _positive(), F.InverseGaussian()
    mu, w = _mu_like(y), RNG.uniform(0.5, 2, y.shape[0])
    lam = w / scale
    expected = stats.invgauss.logpdf(y, mu / lam, scale=lam)
    assert_allclose(fam.loglike_obs(y, mu, var_weights=w, scale=scale), expected, rtol=1e-10)
    assert_allclose(F.Tweedie(var_power=3).loglike_obs(y, mu, var_weights=w, scale=scale),
                    expected, rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_negative_binomial_loglike_is_nbinom_logpmf(alpha):
    # NB2 with variance mu + alpha mu^2 is scipy's nbinom(n=1/alpha, p=1/(1 + alpha mu))
    y, fam = _counts(), F.NegativeBinomial(alpha=alpha)
    mu = _mu_like(y)
    expected = stats.nbinom.logpmf(y, 1.0 / alpha, 1.0 / (1.0 + alpha * mu))
    assert_allclose(fam.loglike_obs(y, mu), expected, rtol=1e-11)


# ------------------------------------------------------------ Tweedie density
TWEEDIE_POINTS = [(1.0, 1.0), (2.5, 0.7), (0.4, 2.0), (5.0, 0.3), (12.0, 1.5)]


def _tweedie_moments(mu, phi, p=1.5):
    """P(0), total mass, mean and variance of the Tweedie density by quadrature."""
    fam = F.Tweedie(var_power=p)

    def pdf(y):
        return float(np.exp(fam.loglike_obs(np.array([y]), np.array([mu]), scale=phi))[0])

    p0 = float(np.exp(fam.loglike_obs(np.array([0.0]), np.array([mu]), scale=phi))[0])
    sd = np.sqrt(phi * mu**p)
    # split at the mean and far in the tail so quad sees the bulk; integrand is smooth on y > 0
    cuts = [0.0, 0.5 * mu, mu, mu + 4 * sd, mu + 15 * sd, mu + 60 * sd + 50.0]
    mass = mean = second = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        kw = dict(epsabs=1e-13, epsrel=1e-11, limit=200)
        mass += integrate.quad(pdf, a, b, **kw)[0]
        mean += integrate.quad(lambda y: y * pdf(y), a, b, **kw)[0]
        second += integrate.quad(lambda y: (y - mu) ** 2 * pdf(y), a, b, **kw)[0]
    second += p0 * mu**2          # the point mass at zero contributes (0 - mu)^2 P(0)
    return p0, p0 + mass, mean, second


@pytest.mark.parametrize("mu, phi", TWEEDIE_POINTS)
def test_tweedie_density_integrates_to_one(mu, phi):
    # P(Y = 0) = exp(-mu^(2-p) / (phi (2-p))) (closed form) and P(0) + int_0^inf f = 1
    p0, total, mean, var = _tweedie_moments(mu, phi)
    assert_allclose(p0, np.exp(-mu**0.5 / (0.5 * phi)), rtol=1e-13)
    assert abs(total - 1.0) < 1e-6
    # E[Y] = mu and Var[Y] = phi mu^p (Tweedie mean-variance relation)
    assert_allclose(mean, mu, rtol=1e-6)
    assert_allclose(var, phi * mu**1.5, rtol=1e-5)


def test_tweedie_density_with_var_weights_is_density_at_scale_over_weight():
    # prior weight w means dispersion phi / w (documented convention)
    fam = F.Tweedie(var_power=1.5)
    y, mu = np.array([0.0, 0.3, 1.0, 4.0]), np.array([1.2, 1.2, 0.8, 3.0])
    assert_allclose(fam.loglike_obs(y, mu, var_weights=2.0, scale=1.4),
                    fam.loglike_obs(y, mu, scale=0.7), rtol=1e-12)


def test_tweedie_1_5_other_var_power_raises_without_eql():
    fam = F.Tweedie(var_power=2.5)
    with pytest.raises(NotImplementedError, match="eql"):
        fam.loglike_obs(np.array([1.0]), np.array([1.0]))


# --------------------------------------------------- Anscombe vs statsmodels
def _sm_family(fam):
    """The statsmodels family with the same variance (links do not enter resid_anscombe)."""
    if isinstance(fam, F.Tweedie):
        return sm_families.Tweedie(var_power=fam.var_power)
    if isinstance(fam, F.NegativeBinomial):
        return sm_families.NegativeBinomial(alpha=fam.alpha)
    return getattr(sm_families, type(fam).__name__)()


@pytest.mark.parametrize("family, y, mu", FAM_CASES)
@pytest.mark.parametrize("scale", [1.0, 2.7])
def test_resid_anscombe_matches_statsmodels(family, y, mu, scale):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # statsmodels' own deprecation chatter
        smf = _sm_family(family)
    w = RNG.uniform(0.5, 2.0, y.shape[0])
    for vw in (1.0, w):
        expected = smf.resid_anscombe(y, mu, var_weights=vw, scale=scale)
        got = family.resid_anscombe(y, mu, var_weights=vw, scale=scale)
        assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------- variance functions
VARFUNCS = [
    pytest.param(V.constant, lambda m: np.ones_like(m), id="constant"),
    pytest.param(V.mu, lambda m: m, id="mu"),
    pytest.param(V.mu_squared, lambda m: m**2, id="mu_squared"),
    pytest.param(V.mu_cubed, lambda m: m**3, id="mu_cubed"),
    pytest.param(V.binary, lambda m: m * (1 - m), id="binary"),
    pytest.param(V.nbinom, lambda m: m + m**2, id="nbinom"),
    pytest.param(V.NegativeBinomial(0.5), lambda m: m + 0.5 * m**2, id="NegativeBinomial0.5"),
    pytest.param(V.Power(1.5), lambda m: m**1.5, id="Power1.5"),
    pytest.param(V.Power(0.0), lambda m: np.ones_like(m), id="Power0"),
    pytest.param(V.Power(2.7), lambda m: m**2.7, id="Power2.7"),
]


@pytest.mark.parametrize("vf, closed", VARFUNCS)
def test_variance_function_closed_form(vf, closed):
    mu = np.linspace(0.05, 0.95, 19)
    assert_allclose(vf(mu), closed(mu), rtol=1e-13)


@pytest.mark.parametrize("vf, closed", VARFUNCS)
def test_variance_deriv_is_numerical_derivative(vf, closed):
    # Richardson-extrapolated central differences, O(h^4) truncation error
    mu = np.linspace(0.05, 0.95, 19)
    h = 1e-4

    def central(s):
        return (vf(mu + s) - vf(mu - s)) / (2 * s)

    num = (4 * central(h / 2) - central(h)) / 3
    assert_allclose(vf.deriv(mu), num, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("family, y, mu", FAM_CASES)
def test_family_variance_and_weights(family, y, mu):
    # each family carries its documented V(mu), and IRLS weights are 1 / (g'(mu)^2 V(mu))
    expected_v = {
        "Gaussian": np.ones_like(mu), "Binomial": mu * (1 - mu), "Poisson": mu,
        "Gamma": mu**2, "InverseGaussian": mu**3, "NegativeBinomial": mu + 0.5 * mu**2,
    }
    name = type(family).__name__
    v = mu ** family.var_power if name == "Tweedie" else expected_v[name]
    assert_allclose(family.variance(mu), v, rtol=1e-13)
    assert_allclose(family.weights(mu), 1.0 / (family.link.deriv(mu) ** 2 * v), rtol=1e-12)


# --------------------------------------------------------------- check_endog
@pytest.mark.parametrize("family, bad, name", [
    pytest.param(F.Poisson(), [1.0, -1.0], "Poisson", id="Poisson-negative"),
    pytest.param(F.NegativeBinomial(alpha=0.5), [2.0, -0.5], "NegativeBinomial",
                 id="NegativeBinomial-negative"),
    pytest.param(F.Gamma(), [1.0, 0.0], "Gamma", id="Gamma-zero"),
    pytest.param(F.Gamma(), [1.0, -2.0], "Gamma", id="Gamma-negative"),
    pytest.param(F.InverseGaussian(), [1.0, 0.0], "InverseGaussian", id="IG-zero"),
    pytest.param(F.Binomial(), [0.0, 1.5], "Binomial", id="Binomial-above-one"),
    pytest.param(F.Binomial(), [0.0, -0.1], "Binomial", id="Binomial-negative"),
    pytest.param(F.Binomial(), [0.0, 3.0], "Binomial", id="Binomial-count"),
    pytest.param(F.Tweedie(var_power=1.5), [1.0, -0.1], "Tweedie", id="Tweedie1.5-negative"),
    pytest.param(F.Tweedie(var_power=2), [1.0, 0.0], "Tweedie", id="Tweedie2-zero"),
    pytest.param(F.Tweedie(var_power=3), [1.0, 0.0], "Tweedie", id="Tweedie3-zero"),
])
def test_check_endog_rejects_out_of_range(family, bad, name):
    with pytest.raises(ValueError, match=name):
        family.check_endog(np.asarray(bad))


@pytest.mark.parametrize("family, good", [
    pytest.param(F.Poisson(), [0.0, 3.0], id="Poisson"),
    pytest.param(F.Binomial(), [0.0, 1.0, 0.25], id="Binomial"),
    pytest.param(F.Gamma(), [1e-8, 3.0], id="Gamma"),
    pytest.param(F.Tweedie(var_power=1.5), [0.0, 3.0], id="Tweedie1.5"),
    pytest.param(F.Gaussian(), [-1e6, 0.0, 1e6], id="Gaussian"),
])
def test_check_endog_accepts_in_range(family, good):
    family.check_endog(np.asarray(good))


# ----------------------------------------------------------- construction
@pytest.mark.parametrize("cls", [F.Gaussian, F.Binomial, F.Poisson, F.Gamma, F.InverseGaussian,
                                 F.NegativeBinomial, F.Tweedie])
def test_link_class_instead_of_instance_is_a_type_error(cls):
    link_cls = cls.canonical_link
    with pytest.raises(TypeError, match="parentheses"):
        cls(link=link_cls)


def test_non_link_object_is_a_type_error():
    with pytest.raises(TypeError, match="link"):
        F.Poisson(link="log")


@pytest.mark.parametrize("family, link", [
    pytest.param(F.Poisson, L.Logit(), id="Poisson-Logit"),
    pytest.param(F.Gamma, L.Logit(), id="Gamma-Logit"),
    # neither R's binomial() nor statsmodels' Binomial accepts power links
    pytest.param(F.Binomial, L.InversePower(), id="Binomial-InversePower"),
    pytest.param(F.Binomial, L.Sqrt(), id="Binomial-Sqrt"),
    pytest.param(F.Binomial, L.NegativeBinomial(), id="Binomial-NegativeBinomial"),
    pytest.param(F.InverseGaussian, L.Probit(), id="IG-Probit"),
])
def test_unusual_link_warns(family, link):
    with pytest.warns(F.LinkFamilyWarning, match=type(link).__name__):
        fam = family(link=link)
    assert fam.link is link
    # check_link=False is the documented way to silence it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        family(link=link, check_link=False)


@pytest.mark.parametrize("make", [
    lambda: F.Gaussian(), lambda: F.Binomial(), lambda: F.Poisson(), lambda: F.Gamma(),
    lambda: F.InverseGaussian(), lambda: F.NegativeBinomial(alpha=0.5),
    lambda: F.Tweedie(var_power=1.5), lambda: F.Poisson(L.log()), lambda: F.Binomial(L.probit()),
    lambda: F.Binomial(L.CDFLink(stats.t(3))), lambda: F.Gamma(L.Log()),
], ids=["Gaussian", "Binomial", "Poisson", "Gamma", "IG", "NB", "Tweedie", "Poisson-log-alias",
        "Binomial-probit-alias", "Binomial-cdf", "Gamma-log"])
def test_usual_links_do_not_warn(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make()


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_negative_binomial_alpha_must_be_positive(bad):
    with pytest.raises(ValueError, match="alpha"):
        F.NegativeBinomial(alpha=bad)


@pytest.mark.parametrize("bad", [0.5, -1.0, np.nan])
def test_tweedie_var_power_range(bad):
    with pytest.raises(ValueError, match="var_power"):
        F.Tweedie(var_power=bad)
