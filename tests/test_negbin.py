"""glmkit.glm_nb against MASS::glm.nb (tests/reference/negbin/make_reference.R, R 4.2)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
from glmkit import glm_nb
from glmkit.negbin import NegativeBinomialResults, anova_nb, theta_ml

REF_DIR = Path(__file__).parent / "reference" / "negbin"
REF = json.loads((REF_DIR / "ref_glm_nb.json").read_text())
QUINE = pd.read_csv(REF_DIR / "data_quine.csv")
OW = pd.read_csv(REF_DIR / "data_offset_weights.csv")

CASES = {
    "quine_full": lambda: glm_nb("Days ~ Sex/(Age + Eth*Lrn)", QUINE),
    "quine_small": lambda: glm_nb("Days ~ Sex + Eth", QUINE),
    "quine_sqrt": lambda: glm_nb("Days ~ Eth + Lrn", QUINE, link="sqrt"),
    "offset_weights": lambda: glm_nb("y ~ x + g + offset(np.log(t))", OW, weights="w"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_glm_nb_equals_mass(name):
    """R reference fitted with glm.control(epsilon = 1e-13): the joint maximum."""
    res, R = CASES[name](), REF[name]
    assert isinstance(res, NegativeBinomialResults) and res.converged
    np.testing.assert_allclose(res.params, R["coefficients"], rtol=1e-7)
    np.testing.assert_allclose(res.bse, R["bse"], rtol=1e-7)
    assert res.theta == pytest.approx(R["theta"], rel=1e-7)
    assert res.alpha == pytest.approx(1 / R["theta"], rel=1e-7)
    assert res.theta_se == pytest.approx(R["SE_theta"], rel=1e-7)
    assert res.twologlik == pytest.approx(R["twologlik"], rel=1e-9)
    assert res.llf == pytest.approx(R["logLik"], rel=1e-9)
    assert res.aic == pytest.approx(R["AIC"], rel=1e-9)
    assert res.aic == pytest.approx(R["aic"], rel=1e-9)
    assert res.bic == pytest.approx(R["BIC"], rel=1e-9)
    assert res.deviance == pytest.approx(R["deviance"], rel=1e-7)
    assert res.null_deviance == pytest.approx(R["null_deviance"], rel=1e-7)
    assert res.df_resid == R["df_residual"]
    np.testing.assert_allclose(res.fittedvalues, R["fitted"], rtol=1e-7)


def test_mass_default_control_is_within_its_tolerance_of_the_joint_maximum():
    """MASS's default epsilon (1e-8) stops close to, not at, the joint maximum."""
    res, R = CASES["quine_full"](), REF["quine_default_control"]
    np.testing.assert_allclose(res.params, R["coefficients"], rtol=1e-5)
    assert res.theta == pytest.approx(R["theta"], rel=1e-6)


def test_anova_between_negative_binomial_fits_equals_mass():
    a = anova_nb(CASES["quine_small"](), CASES["quine_full"]())
    R = REF["anova"]
    np.testing.assert_allclose(a["theta"], R["theta"], rtol=1e-7)
    np.testing.assert_allclose(a["Resid. df"], R["resid_df"])
    np.testing.assert_allclose(a["2 x log-lik."], R["twologlik"], rtol=1e-9)
    assert a["df"].iloc[1] == R["df"][1]
    assert a["LR stat."].iloc[1] == pytest.approx(R["LR"][1], rel=1e-7)
    assert a["Pr(Chi)"].iloc[1] == pytest.approx(R["p"][1], rel=1e-6)
    assert list(a["Model"]) == ["Sex + Eth", "Sex/(Age + Eth*Lrn)"]


def test_theta_is_the_maximum_of_the_likelihood_at_fixed_means():
    """Invariant: the score of theta is zero at theta_ml (numerical derivative)."""
    from glmkit.negbin import _loglik

    rng = np.random.default_rng(3)
    mu = np.exp(rng.normal(1, 0.5, 300))
    y = rng.negative_binomial(2.5, 2.5 / (2.5 + mu)).astype(float)
    w = np.ones_like(y)
    th, se = theta_ml(y, mu, w)
    h = 1e-5 * th
    assert abs(_loglik(th + h, y, mu, w) - _loglik(th - h, y, mu, w)) / (2 * h) < 1e-6
    second = (_loglik(th + h, y, mu, w) - 2 * _loglik(th, y, mu, w)
              + _loglik(th - h, y, mu, w)) / h ** 2
    assert se == pytest.approx(1 / np.sqrt(-second), rel=1e-3)


def test_no_overdispersion_says_so():
    """Counts less variable than Poisson (rounded means): theta's maximum is at infinity."""
    x = np.random.default_rng(4).normal(size=400)
    d = pd.DataFrame({"x": x, "y": np.round(np.exp(0.5 + 0.3 * x))})
    with pytest.warns(glmkit.ConvergenceWarning, match="infinite"):
        res = glm_nb("y ~ x", d)
    assert res.theta >= 1e8


def test_bad_link_is_a_clear_error():
    with pytest.raises(ValueError, match="link must be"):
        glm_nb("Days ~ Sex", QUINE, link="probit")


def test_array_form_with_alpha_none_estimates_alpha():
    """sm.GLM(y, X, family=NegativeBinomial(alpha=None)).fit() is glm.nb on arrays."""
    import glmkit.api as sm

    R = REF["quine_small"]
    model = glmkit.glm("Days ~ Sex + Eth", QUINE, family=glmkit.families.NegativeBinomial())
    X = np.asarray(model.exog)
    y = QUINE["Days"].to_numpy(float)
    res = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=None)).fit()
    assert isinstance(res, NegativeBinomialResults)
    np.testing.assert_allclose(res.params, R["coefficients"], rtol=1e-7)
    assert res.family.alpha == pytest.approx(1 / R["theta"], rel=1e-7)
    assert "alpha=None" in repr(sm.families.NegativeBinomial(alpha=None))
    with pytest.raises(ValueError, match="estimates alpha"):
        sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=None)).fit(method="newton")


@pytest.mark.parametrize("remove_data", [False, True])
def test_saved_glm_nb_keeps_theta_and_its_aic(tmp_path, remove_data):
    res, R = CASES["quine_small"](), REF["quine_small"]
    path = tmp_path / "nb.glmkit"
    res.save(path, remove_data=remove_data)
    back = glmkit.load(path)
    assert back.theta == pytest.approx(R["theta"], rel=1e-7)
    assert back.theta_se == pytest.approx(R["SE_theta"], rel=1e-7)
    assert back.aic == pytest.approx(R["AIC"], rel=1e-9)   # counts theta, as MASS
    if not remove_data:
        assert isinstance(back, NegativeBinomialResults)
        assert "Theta:" in str(back.summary())
