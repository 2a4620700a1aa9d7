"""Tweedie power by profile likelihood: invariants of the profile and recovery of the power
of simulated compound Poisson-gamma data; the log density against statsmodels' series."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

import glmkit.api as sm
from glmkit.tweedie import tweedie_profile

F, L = sm.families, sm.families.links


def _simulate(p, phi, n=3000, seed=0):
    """Compound Poisson-gamma draws with mean mu, variance phi mu^p."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    mu = np.exp(0.5 + 0.4 * X[:, 1])
    lam = mu ** (2 - p) / (phi * (2 - p))
    shape, scale = (2 - p) / (p - 1), phi * (p - 1) * mu ** (p - 1)
    counts = rng.poisson(lam)
    y = np.array([rng.gamma(shape, s, c).sum() for c, s in zip(counts, scale)])
    return X, y


def test_density_is_a_probability_with_the_tweedie_moments():
    """Invariant: P(Y=0) + integral of the density = 1; mean mu, variance phi mu^p."""
    fam = F.Tweedie(var_power=1.4, link=L.Log())
    mu, phi = 2.3, 1.7
    f = lambda y: np.exp(fam.loglike_obs(np.array([y]), np.array([mu]), scale=phi))[0]  # noqa: E731
    p0 = np.exp(fam.loglike_obs(np.array([0.0]), np.array([mu]), scale=phi))[0]
    assert p0 == pytest.approx(np.exp(-mu ** 0.6 / (phi * 0.6)), rel=1e-12)
    mass = integrate.quad(f, 0, np.inf, limit=200)[0]
    mean = integrate.quad(lambda y: y * f(y), 0, np.inf, limit=200)[0]
    second = integrate.quad(lambda y: y * y * f(y), 0, np.inf, limit=200)[0]
    assert p0 + mass == pytest.approx(1.0, abs=1e-8)
    assert mean == pytest.approx(mu, rel=1e-7)
    assert second - mu ** 2 == pytest.approx(phi * mu ** 1.4, rel=1e-6)


def test_log_density_equals_statsmodels_series():
    smf = pytest.importorskip("statsmodels.api").families
    y = np.array([0.0, 0.3, 1.0, 2.5, 7.0, 20.0])
    mu = np.array([1.0, 0.8, 2.0, 3.0, 5.0, 12.0])
    ours = F.Tweedie(var_power=1.6, link=L.Log()).loglike_obs(y, mu, scale=1.3)
    theirs = smf.Tweedie(var_power=1.6, link=smf.links.Log()).loglike_obs(y, mu, scale=1.3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_profile_recovers_the_power_and_is_a_maximum():
    X, y = _simulate(1.5, 1.2)
    model = sm.GLM(y, X, family=F.Tweedie(var_power=1.5, link=L.Log()))
    prof = tweedie_profile(model)
    lo, hi = prof.ci
    assert lo < 1.5 < hi and 1.3 < prof.p < 1.7
    assert prof.phi == pytest.approx(1.2, rel=0.15)
    # invariants: the maximum beats its neighbours; the interval's ends sit on the cut
    from glmkit.tweedie import _fit_at, _phi_mle

    for q in (prof.p - 1e-3, prof.p + 1e-3):
        assert _phi_mle(_fit_at(model, q, None, {}))[1] <= prof.llf + 1e-9
    cut = prof.llf - 0.5 * 3.841458820694124
    for end in prof.ci:
        assert _phi_mle(_fit_at(model, end, None, {}))[1] == pytest.approx(cut, abs=1e-4)
    assert np.nanmax(prof.grid_llf) <= prof.llf + 1e-9


def test_profile_rejects_a_bad_grid():
    X, y = _simulate(1.5, 1.2, n=200)
    model = sm.GLM(y, X, family=F.Tweedie(var_power=1.5, link=L.Log()))
    with pytest.raises(ValueError, match="between 1 and 2"):
        tweedie_profile(model, p_grid=[0.5, 1.5, 1.7])
