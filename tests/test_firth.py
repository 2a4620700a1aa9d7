"""fit(method='firth') against brglm2 0.9's AS_mean (tests/reference/firth/make_reference.R)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm

REF_DIR = Path(__file__).parent / "reference" / "firth"
REF = json.loads((REF_DIR / "ref_firth.json").read_text())
F, L = glmkit.families, glmkit.families.links
SEP = pd.read_csv(REF_DIR / "data_separated.csv")
BW = pd.read_csv(REF_DIR / "data_birthwt.csv")
CT = pd.read_csv(REF_DIR / "data_counts.csv")
DISP = pd.read_csv(REF_DIR / "data_dispersion.csv")

CASES = {
    "logit_separated": ("y ~ x + z", SEP, lambda: F.Binomial(), {}),
    "logit_birthwt": ("low ~ age + lwt + smoke + ht", BW, lambda: F.Binomial(), {}),
    "probit_birthwt": ("low ~ age + lwt + smoke + ht", BW, lambda: F.Binomial(L.Probit()), {}),
    "cloglog_separated": ("y ~ x + z", SEP, lambda: F.Binomial(L.CLogLog()), {}),
    "poisson_offset": ("y ~ x + offset(np.log(t))", CT, lambda: F.Poisson(), {}),
    "binomial_trials": ("cbind(s, 5 - s) ~ x", CT, lambda: F.Binomial(), {}),
    "gamma_log": ("y ~ x + f", DISP, lambda: F.Gamma(L.Log()), {}),
    "gamma_inverse_weights": ("y ~ x + f", DISP, lambda: F.Gamma(), {"var_weights": "w"}),
    "gaussian": ("yn ~ x + f", DISP, lambda: F.Gaussian(), {}),
    "invgauss_log": ("ig ~ x", DISP, lambda: F.InverseGaussian(L.Log()), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_firth_equals_brglm2(name):
    formula, data, family, kw = CASES[name]
    res = glmkit.glm(formula, data, family=family(), **kw).fit(method="firth")
    R = REF[name]
    assert res.converged
    np.testing.assert_allclose(res.params, R["coefficients"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(res.bse, R["bse"], rtol=1e-7)
    assert res.deviance == pytest.approx(R["deviance"], rel=1e-9)
    np.testing.assert_allclose(res.fittedvalues, R["fitted"], rtol=1e-8)
    assert res.scale == pytest.approx(R["dispersion"], rel=1e-8)   # brglm2's AS_mean


def test_firth_logit_is_the_maximum_of_the_jeffreys_penalized_likelihood():
    """Invariant: for the logit link the estimate maximizes l(b) + log|X'WX| / 2
    (numerical gradient zero)."""
    X = sm.add_constant(BW[["age", "lwt", "smoke", "ht"]].to_numpy(float))
    y = BW["low"].to_numpy(float)
    b = np.asarray(sm.GLM(y, X, family=F.Binomial()).fit(method="firth").params)

    def pen(beta):
        mu = 1 / (1 + np.exp(-X @ beta))
        ll = np.sum(y * np.log(mu) + (1 - y) * np.log1p(-mu))
        return ll + 0.5 * np.linalg.slogdet(X.T @ (X * (mu * (1 - mu))[:, None]))[1]

    for j in range(len(b)):
        e = np.zeros(len(b))
        e[j] = 1e-6 * max(1.0, abs(b[j]))
        assert abs(pen(b + e) - pen(b - e)) / (2 * e[j]) < 1e-5


def test_firth_gives_finite_estimates_where_ml_separates():
    X = sm.add_constant(SEP[["x", "z"]].to_numpy(float))
    with pytest.warns(glmkit.PerfectSeparationWarning):
        ml = sm.GLM(SEP["y"].to_numpy(float), X, family=F.Binomial()).fit()
    assert not ml.converged
    fr = sm.GLM(SEP["y"].to_numpy(float), X, family=F.Binomial()).fit(method="firth")
    assert fr.converged and np.all(np.abs(fr.params) < 5)


def test_firth_for_a_family_brglm2_does_not_cover_is_a_clear_error():
    X = sm.add_constant(CT[["x"]].to_numpy(float))
    with pytest.raises(ValueError, match="is available for"):
        sm.GLM(CT["t"].to_numpy(float), X, family=F.Tweedie(var_power=1.5)).fit(
            method="firth")


def test_gaussian_bias_reduced_dispersion_is_the_unbiased_one():
    """Closed form: for the Gaussian family AS_mean's dispersion is RSS / (n - p)."""
    res = glmkit.glm("yn ~ x + f", DISP, family=F.Gaussian()).fit(method="firth")
    ols = glmkit.glm("yn ~ x + f", DISP, family=F.Gaussian()).fit()
    assert res.scale == pytest.approx(ols.deviance / ols.df_resid, rel=1e-12)
    np.testing.assert_allclose(res.params, ols.params, rtol=1e-10)


PROFILE = json.loads((REF_DIR / "ref_firth_profile.json").read_text())


@pytest.mark.parametrize("name,formula,data,family", [
    ("logit_separated", "y ~ x + z", "data_separated.csv", glmkit.families.Binomial),
    ("logit_birthwt", "low ~ age + lwt + smoke + ht", "data_birthwt.csv",
     glmkit.families.Binomial),
    ("poisson_offset", "y ~ x + offset(np.log(t))", "data_counts.csv", glmkit.families.Poisson),
])
def test_profile_penalized_likelihood_intervals_equal_r(name, formula, data, family):
    """R: the profile penalized likelihood from its formula, maximized by optim from 31
    starts (make_profile_reference.R); under separation the restricted maximum has two
    local maxima and the interval must come from the higher."""
    d = pd.read_csv(REF_DIR / data)
    res = glmkit.glm(formula, d, family=family()).fit(method="firth")
    R = PROFILE[name]
    np.testing.assert_allclose(res.params, R["coefficients"], rtol=1e-7)
    ci = np.asarray(res.conf_int(method="profile"))
    np.testing.assert_allclose(ci, R["profile"], rtol=1e-6, atol=1e-8)
    assert np.all(np.isfinite(ci))   # finite under separation


def test_profile_intervals_of_a_firth_probit_fit_are_a_clear_error():
    d = pd.read_csv(REF_DIR / "data_birthwt.csv")
    res = glmkit.glm("low ~ age + smoke", d, family=glmkit.families.Binomial(
        glmkit.families.links.Probit())).fit(method="firth")
    with pytest.raises(ValueError, match="method='wald'"):
        res.conf_int(method="profile")
