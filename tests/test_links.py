"""Tier 3 invariants of the link functions in :mod:`glmkit.families.links`.

Every expected value here comes from an invariant, not from a stored number:

- g(g^{-1}(eta)) = eta and g^{-1}(g(mu)) = mu (a link is a bijection on its domain);
- deriv, deriv2, inverse_deriv and inverse_deriv2 equal numerical derivatives
  (Richardson-extrapolated central differences, error O(h^4), see ``_num_deriv``);
- dmu/deta = 1 / g'(mu) (inverse function theorem);
- R's ``make.link`` guards: inverse probability links stay strictly inside (0, 1) and
  ``mu.eta`` stays positive and finite for any finite eta; probability links of mu = 0 or 1
  are finite; R's ``valideta`` rules for power links.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from glmkit.families import links as L

# --------------------------------------------------------------------------- cases
# Each case: (id, link, eta grid inside the domain, mu grid inside the range).
_P01 = np.linspace(0.02, 0.98, 25)          # probabilities away from 0 and 1
_POS = np.linspace(0.1, 6.0, 25)            # positive means / positive eta


def _case(name, link, eta, mu):
    return pytest.param(link, np.asarray(eta, float), np.asarray(mu, float), id=name)


CASES = [
    _case("Identity", L.Identity(), np.linspace(-5, 5, 25), np.linspace(-5, 5, 25)),
    _case("Log", L.Log(), np.linspace(-8, 8, 25), _POS),
    _case("Logit", L.Logit(), np.linspace(-6, 6, 25), _P01),
    _case("Probit", L.Probit(), np.linspace(-4, 4, 25), _P01),
    _case("Cauchy", L.Cauchy(), np.linspace(-20, 20, 25), _P01),
    _case("CLogLog", L.CLogLog(), np.linspace(-4, 1.5, 25), _P01),
    _case("LogLog", L.LogLog(), np.linspace(-1.5, 4, 25), _P01),
    _case("LogC", L.LogC(), np.linspace(-4, -0.05, 25), _P01),
    _case("CDFLink-t3", L.CDFLink(stats.t(3)), np.linspace(-6, 6, 25), _P01),
    _case("CDFLink-default", L.CDFLink(), np.linspace(-4, 4, 25), _P01),
    _case("Power1", L.Power(1), np.linspace(-5, 5, 25), np.linspace(-5, 5, 25)),
    _case("Power2", L.Power(2), _POS, _POS),
    _case("Power0.5", L.Power(0.5), _POS, _POS),
    _case("Power-1", L.Power(-1), _POS, _POS),
    _case("Power-2", L.Power(-2), _POS, _POS),
    _case("Power1/3", L.Power(1 / 3), _POS, _POS),
    _case("InversePower", L.InversePower(), _POS, _POS),
    _case("InverseSquared", L.InverseSquared(), _POS, _POS),
    _case("Sqrt", L.Sqrt(), _POS, _POS),
    _case("NegativeBinomial0.7", L.NegativeBinomial(alpha=0.7), np.linspace(-5, -0.05, 25),
          np.linspace(0.05, 20, 25)),
    # statsmodels' lowercase aliases must behave exactly as their classes
    _case("alias-identity", L.identity(), np.linspace(-5, 5, 25), np.linspace(-5, 5, 25)),
    _case("alias-log", L.log(), np.linspace(-8, 8, 25), _POS),
    _case("alias-logit", L.logit(), np.linspace(-6, 6, 25), _P01),
    _case("alias-probit", L.probit(), np.linspace(-4, 4, 25), _P01),
    _case("alias-cauchy", L.cauchy(), np.linspace(-20, 20, 25), _P01),
    _case("alias-cloglog", L.cloglog(), np.linspace(-4, 1.5, 25), _P01),
    _case("alias-loglog", L.loglog(), np.linspace(-1.5, 4, 25), _P01),
    _case("alias-logc", L.logc(), np.linspace(-4, -0.05, 25), _P01),
    _case("alias-inverse_power", L.inverse_power(), _POS, _POS),
    _case("alias-inverse_squared", L.inverse_squared(), _POS, _POS),
    _case("alias-sqrt", L.sqrt(), _POS, _POS),
    _case("alias-nbinom", L.nbinom(), np.linspace(-5, -0.05, 25), np.linspace(0.05, 20, 25)),
]


@pytest.fixture(autouse=True)
def _no_runtime_warnings():
    """Every link evaluation in this module must be warning-free (overflow, log(0), ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _num_deriv(f, x, rel_step=1e-4):
    """Numerical derivative of f at x: Richardson extrapolation of central differences.

    D(h) = (f(x+h) - f(x-h)) / 2h has error c2 h^2 + c4 h^4; (4 D(h/2) - D(h)) / 3 cancels
    the h^2 term, so the truncation error is O(h^4): for h = 1e-4 max(|x|, 0.05) and the grids below
    (at least 0.02 from a singularity) it is below 1e-9 relative, well below the rtol=1e-6
    the tests use; rounding adds ~ eps |f| / h. The grids keep x +- h inside the domain.
    """
    x = np.asarray(x, float)
    h = rel_step * np.maximum(np.abs(x), 0.05)

    def central(step):
        return (f(x + step) - f(x - step)) / (2.0 * step)

    return (4.0 * central(h / 2.0) - central(h)) / 3.0


def _close(actual, expected, rtol=1e-6, atol_factor=1e-9):
    # atol covers points where the derivative crosses zero (e.g. logit'' at mu = 1/2)
    atol = atol_factor * (1.0 + np.max(np.abs(expected)))
    assert_allclose(actual, expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("link, eta, mu", CASES)
def test_link_of_inverse_is_identity(link, eta, mu):
    # invariant: g(g^{-1}(eta)) = eta on the link's domain
    assert link.valid_eta(eta)
    _close(link(link.inverse(eta)), eta, rtol=1e-9)


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_inverse_of_link_is_identity(link, eta, mu):
    # invariant: g^{-1}(g(mu)) = mu on the link's range
    _close(link.inverse(link(mu)), mu, rtol=1e-9)


# ----------------------------------------------------------------- derivatives
@pytest.mark.parametrize("link, eta, mu", CASES)
def test_deriv_is_numerical_derivative_of_link(link, eta, mu):
    # d g(mu) / d mu by central differences of g itself
    _close(link.deriv(mu), _num_deriv(link, mu))


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_deriv2_is_numerical_derivative_of_deriv(link, eta, mu):
    # g''(mu) = d g'(mu) / d mu (g' itself is checked against g above)
    _close(link.deriv2(mu), _num_deriv(link.deriv, mu))


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_deriv2_is_second_difference_of_link(link, eta, mu):
    # g''(mu) from g alone: numerical derivative of the numerical first derivative, with a
    # larger step and looser tolerances (rounding error of nested differences ~ eps / h^2)
    num = _num_deriv(lambda m: _num_deriv(link, m, 1e-3), mu, 1e-3)
    _close(link.deriv2(mu), num, rtol=1e-4, atol_factor=1e-6)


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_inverse_deriv_is_numerical_derivative_of_inverse(link, eta, mu):
    # d g^{-1}(eta) / d eta by central differences of the inverse link
    _close(link.inverse_deriv(eta), _num_deriv(link.inverse, eta))


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_inverse_deriv2_is_numerical_derivative_of_inverse_deriv(link, eta, mu):
    # d^2 mu / d eta^2 = d (dmu/deta) / d eta
    _close(link.inverse_deriv2(eta), _num_deriv(link.inverse_deriv, eta))


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_inverse_deriv2_is_second_difference_of_inverse(link, eta, mu):
    # as above: nested differences of the inverse link alone, looser tolerances
    num = _num_deriv(lambda e: _num_deriv(link.inverse, e, 1e-3), eta, 1e-3)
    _close(link.inverse_deriv2(eta), num, rtol=1e-4, atol_factor=1e-6)


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_inverse_deriv_is_reciprocal_of_deriv(link, eta, mu):
    # inverse function theorem: dmu/deta = 1 / g'(mu) at mu = g^{-1}(eta)
    _close(link.inverse_deriv(eta), 1.0 / link.deriv(link.inverse(eta)), rtol=1e-9)
    _close(link.inverse_deriv_from_mu(mu), 1.0 / link.deriv(mu), rtol=1e-12)


@pytest.mark.parametrize("link, eta, mu", CASES)
def test_scalar_and_array_inputs_agree(link, eta, mu):
    # the engine passes arrays, users may pass scalars: both must give the same numbers
    for fun, grid in [(link, mu), (link.inverse, eta), (link.deriv, mu),
                      (link.inverse_deriv, eta)]:
        assert_allclose([float(fun(v)) for v in grid[:3]], fun(grid[:3]), rtol=1e-14)


# --------------------------------------------------------------------- aliases
@pytest.mark.parametrize("alias, cls", [
    (L.log, L.Log), (L.logit, L.Logit), (L.identity, L.Identity), (L.probit, L.Probit),
    (L.cauchy, L.Cauchy), (L.cloglog, L.CLogLog), (L.loglog, L.LogLog), (L.logc, L.LogC),
    (L.inverse_power, L.InversePower), (L.inverse_squared, L.InverseSquared),
    (L.sqrt, L.Sqrt), (L.nbinom, L.NegativeBinomial),
])
def test_lowercase_alias_is_the_class(alias, cls):
    # statsmodels accepts links.log() etc.; isinstance checks (safe_links) must still work
    assert issubclass(alias, cls)
    a, c = alias(), cls()
    grid = np.linspace(0.1, 0.9, 9)
    assert_allclose(a(grid), c(grid), rtol=0, atol=0)
    assert_allclose(a.inverse(c(grid)), c.inverse(c(grid)), rtol=0, atol=0)


# ---------------------------------------------------------- numerical safety
EXTREME_ETA = np.array([-1e3, -40.0, 40.0, 1e3])
PROB_LINKS = [
    pytest.param(L.Logit(), id="logit"), pytest.param(L.Probit(), id="probit"),
    pytest.param(L.CLogLog(), id="cloglog"), pytest.param(L.LogLog(), id="loglog"),
    pytest.param(L.Cauchy(), id="cauchit"), pytest.param(L.CDFLink(), id="cdf-norm"),
    pytest.param(L.CDFLink(stats.t(3)), id="cdf-t3"),
]


@pytest.mark.parametrize("link", PROB_LINKS)
def test_probability_inverse_is_strictly_inside_unit_interval(link):
    # R's make.link clamps mu to [eps, 1 - eps]: a Bernoulli likelihood stays finite
    mu = link.inverse(EXTREME_ETA)
    assert np.all(np.isfinite(mu))
    assert np.all((mu > 0) & (mu < 1)), mu
    # monotone (weakly, the clamps flatten the tails)
    assert np.all(np.diff(mu) >= 0)


@pytest.mark.parametrize("link", PROB_LINKS)
def test_probability_inverse_deriv_is_positive_and_finite(link):
    # R's mu.eta is floored at eps so IRLS working weights stay finite and positive
    d = link.inverse_deriv(EXTREME_ETA)
    assert np.all(np.isfinite(d))
    assert np.all(d > 0), d
    d2 = link.inverse_deriv2(EXTREME_ETA)
    assert np.all(np.isfinite(d2))


@pytest.mark.parametrize("link", PROB_LINKS + [pytest.param(L.LogC(), id="logc")])
def test_probability_link_at_zero_and_one_is_finite(link):
    # probability links clip mu to [eps, 1 - eps] before taking logs / quantiles
    mu = np.array([0.0, 1.0])
    assert np.all(np.isfinite(link(mu)))
    assert np.all(np.isfinite(link.deriv(mu)))
    assert np.all(np.isfinite(link.deriv2(mu)))


def test_log_inverse_does_not_overflow():
    # exp(800) overflows a double; R's log link clamps eta, so must we
    mu = L.Log().inverse(np.array([-800.0, 800.0]))
    assert np.all(np.isfinite(mu)) and np.all(mu > 0)
    assert np.all(np.isfinite(L.Log().inverse_deriv(np.array([800.0]))))
    assert np.isfinite(L.Log()(np.array([0.0])))[0]


def test_cloglog_and_loglog_inverse_deriv_extremes():
    # cloglog mu.eta = exp(eta - exp(eta)) underflows for large eta: floored at eps (R)
    for link in (L.CLogLog(), L.LogLog()):
        d = link.inverse_deriv(np.array([-800.0, 800.0]))
        assert np.all(np.isfinite(d)) and np.all(d > 0)


# ------------------------------------------------------------------ valid_eta
@pytest.mark.parametrize("link", [
    pytest.param(L.Power(2), id="Power2"), pytest.param(L.Power(0.5), id="Power0.5"),
    pytest.param(L.Power(-2), id="Power-2"), pytest.param(L.Power(1 / 3), id="Power1/3"),
    pytest.param(L.InverseSquared(), id="InverseSquared"), pytest.param(L.Sqrt(), id="Sqrt"),
])
def test_power_links_reject_non_positive_eta(link):
    # R's power(lambda)$valideta: all(is.finite(eta)) && all(eta > 0)
    assert link.valid_eta(np.array([0.5, 2.0]))
    assert not link.valid_eta(np.array([0.5, 0.0]))
    assert not link.valid_eta(np.array([0.5, -1.0]))
    assert not link.valid_eta(np.array([0.5, np.inf]))
    assert not link.valid_eta(np.array([0.5, np.nan]))


@pytest.mark.parametrize("link", [pytest.param(L.InversePower(), id="InversePower"),
                                  pytest.param(L.Power(-1), id="Power-1")])
def test_inverse_link_rejects_zero_only(link):
    # R's inverse link: valideta is all(is.finite(eta)) && all(eta != 0)
    assert link.valid_eta(np.array([-2.0, 0.5]))
    assert not link.valid_eta(np.array([0.5, 0.0]))
    assert not link.valid_eta(np.array([0.5, np.nan]))


@pytest.mark.parametrize("link", [pytest.param(L.Identity(), id="Identity"),
                                  pytest.param(L.Power(1), id="Power1"),
                                  pytest.param(L.Log(), id="Log"),
                                  pytest.param(L.Logit(), id="Logit")])
def test_unrestricted_links_accept_any_finite_eta(link):
    assert link.valid_eta(np.array([-3.0, 0.0, 3.0]))
    assert not link.valid_eta(np.array([0.0, np.inf]))


@pytest.mark.parametrize("link", [pytest.param(L.LogC(), id="LogC"),
                                  pytest.param(L.NegativeBinomial(0.7), id="NegBin")])
def test_negative_eta_links(link):
    # log(1 - mu) and log(alpha mu / (1 + alpha mu)) are negative for mu in the range
    assert link.valid_eta(np.array([-3.0, -0.1]))
    assert not link.valid_eta(np.array([-3.0, 0.0]))
    assert not link.valid_eta(np.array([-3.0, 0.5]))


def test_power_zero_is_refused():
    with pytest.raises(ValueError, match="Log"):
        L.Power(0)


def test_negative_binomial_link_needs_positive_alpha():
    with pytest.raises(ValueError, match="alpha"):
        L.NegativeBinomial(alpha=0.0)


def test_identity_reads_as_power_one_as_in_statsmodels():
    """statsmodels' Identity is Power(1); its power is read-only here (Power(p) for others)."""
    link = L.Identity()
    assert link.power == 1.0
    with pytest.raises(AttributeError):
        link.power = 2.0
