"""glmkit.polr / OrderedModel against MASS::polr (tests/reference/models) and statsmodels'
OrderedModel; invariants and bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _models_data import NEW, housing, reference, sim
from statsmodels.miscmodels.ordinal_model import OrderedModel as SMOrdered

import glmkit
import glmkit.api as sm
from glmkit.models._cdfs import DISTRIBUTIONS
from glmkit.models.ordinal import ordinal_evaluate


def _theta(res):
    return np.concatenate([res.coefficients.to_numpy(), res.zeta.to_numpy()])


def _check(res, R, coef_rtol=1e-6):
    assert res.converged and res._fit.criterion < 1e-8
    assert list(res.coefficients.index) and list(res.zeta.index) == R["zeta_names"]
    np.testing.assert_allclose(_theta(res), R["coefficients"] + R["zeta"], rtol=coef_rtol)
    np.testing.assert_allclose(res.bse.to_numpy(), R["se"], rtol=1e-5)
    np.testing.assert_allclose(res.cov_params().to_numpy(), R["vcov"], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(res.llf, R["logLik"], rtol=1e-11)
    np.testing.assert_allclose(res.deviance, R["deviance"], rtol=1e-11)
    np.testing.assert_allclose(res.aic, R["AIC"], rtol=1e-11)


@pytest.mark.parametrize("method", ["logistic", "probit", "cloglog", "loglog"])
def test_polr_housing_equals_mass(method):
    R = reference()["polr"]["housing"][method]
    res = glmkit.polr("Sat ~ Infl + Type + Cont", housing(), method=method, weights="Freq")
    _check(res, R)


def test_polr_cauchit_is_the_maximum_of_the_exact_likelihood():
    """MASS clips zeta - eta at +-100 (cauchit's tails are not 0 or 1 there): with the same
    clip our likelihood equals R's logLik at R's estimates; unclipped, our fit is higher."""
    R = reference()["polr"]["housing"]["cauchit"]
    res = glmkit.polr("Sat ~ Infl + Type + Cont", housing(), method="cauchit", weights="Freq")
    inp = res.model.inputs
    theta_r = np.array(R["coefficients"] + R["zeta"])
    ev = lambda t, bound: ordinal_evaluate(t, inp.X, inp.codes, inp.weights, 3,
                                           DISTRIBUTIONS["cauchit"], None, bound)[0]
    np.testing.assert_allclose(ev(theta_r, 100.0), R["logLik"], rtol=1e-12)
    assert res.converged and res.llf > ev(theta_r, np.inf) + 1e-3
    np.testing.assert_allclose(_theta(res), theta_r, rtol=2e-2)


@pytest.mark.parametrize("method", ["logistic", "probit"])
def test_polr_sim_equals_mass(method):
    _check(glmkit.polr("o ~ x1 + x2 + g", sim(), method=method),
           reference()["polr"]["sim"][method])


def test_polr_weighted_and_predict_equal_mass():
    _check(glmkit.polr("o ~ x1 + x2 + g", sim(), weights="w"),
           reference()["polr"]["sim_weighted"])
    res = glmkit.polr("o ~ x1 + x2 + g", sim())
    prob = res.predict(NEW)
    assert list(prob.columns) == ["none", "low", "some", "many"]
    np.testing.assert_allclose(prob.to_numpy(), reference()["polr"]["predict_sim"],
                               rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-14)
    cum = res.predict(NEW, which="cumprob").to_numpy()
    np.testing.assert_allclose(cum, np.cumsum(prob.to_numpy(), axis=1), atol=1e-14)
    np.testing.assert_allclose(res.fittedvalues.to_numpy(),
                               reference()["polr"]["sim"]["logistic"]["fitted"], rtol=1e-6,
                               atol=1e-10)


@pytest.mark.parametrize("distr", ["logit", "probit"])
@pytest.mark.parametrize("pandas", [False, True])
def test_ordered_model_equals_statsmodels(distr, pandas):
    d = sim()
    X = pd.get_dummies(d[["x1", "x2", "g"]], drop_first=True).astype(float)
    y = d["o"]
    if not pandas:
        X, y = X.to_numpy(), y.cat.codes.to_numpy().astype(float)
    ours = sm.OrderedModel(y, X, distr=distr).fit()
    with warnings.catch_warnings():  # statsmodels' bfgs stops short of gtol 1e-10
        warnings.simplefilter("ignore")
        ref = SMOrdered(y, X, distr=distr).fit(method="bfgs", maxiter=5000, gtol=1e-10,
                                               disp=0)
    assert type(ours.params) is type(ref.params)
    # statsmodels' own optimizer stops ~1e-8 from the maximum
    np.testing.assert_allclose(np.asarray(ours.params), np.asarray(ref.params), rtol=1e-6,
                               atol=1e-7)
    # statsmodels' bse come from a numerical Hessian (~1e-6)
    np.testing.assert_allclose(np.asarray(ours.bse), np.asarray(ref.bse), rtol=2e-5)
    for name in ("llf", "llnull", "aic", "bic", "df_model", "df_resid", "prsquared"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-9,
                                   err_msg=name)
    assert ours.llf >= ref.llf
    Xn = np.asarray(X)[:9]
    np.testing.assert_allclose(np.asarray(ours.predict(Xn)), np.asarray(ref.predict(Xn)),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.model.transform_threshold_params(np.asarray(ours.params)),
                               ref.model.transform_threshold_params(np.asarray(ref.params)),
                               rtol=1e-6)
    if pandas:
        assert list(ours.params.index) == list(ref.params.index)
    assert "thresholds" in str(ours.summary())


def test_ordered_model_equals_polr_in_its_parametrization():
    d = sim()
    X = pd.get_dummies(d[["x1", "x2", "g"]], drop_first=True).astype(float)
    om = sm.OrderedModel(d["o"], X, distr="logit").fit()
    pr = glmkit.polr("o ~ x1 + x2 + g", d)
    np.testing.assert_allclose(om.thresholds, pr.zeta.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(om.params.to_numpy()[:4], pr.coefficients.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(om.bse.to_numpy()[:5], pr.bse.to_numpy()[:5], rtol=1e-8)


def test_frequency_weights_equal_repeated_rows():
    d = sim()
    rep = d.loc[d.index.repeat(d["w"])].reset_index(drop=True)
    for method in ("logistic", "cloglog"):
        a = glmkit.polr("o ~ x1 + x2 + g", d, method=method, weights="w")
        b = glmkit.polr("o ~ x1 + x2 + g", rep, method=method)
        np.testing.assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.bse, b.bse, rtol=1e-9)
        np.testing.assert_allclose([a.llf, a.bic, a.nobs], [b.llf, b.bic, b.nobs], rtol=1e-10)


@pytest.mark.parametrize("method", list(DISTRIBUTIONS))
def test_score_and_information_equal_numerical_derivatives(method):
    d = sim()
    X = np.column_stack([d["x1"], d["x2"]])
    codes = d["o"].cat.codes.to_numpy().astype(np.intp)
    w = d["w"].to_numpy(float)
    theta = np.array([0.4, -0.3, -0.8, 0.1, 0.9])
    dist = DISTRIBUTIONS[method]
    f = lambda t: ordinal_evaluate(t, X, codes, w, 4, dist)
    _, score, info = f(theta)
    h = 1e-6
    E = np.eye(5)
    num = np.array([(f(theta + h * e)[0] - f(theta - h * e)[0]) / (2 * h) for e in E])
    np.testing.assert_allclose(score, num, rtol=1e-6, atol=1e-5)
    num_h = np.array([(f(theta + h * e)[1] - f(theta - h * e)[1]) / (2 * h) for e in E])
    np.testing.assert_allclose(-info, num_h, rtol=1e-5, atol=1e-4)


def test_bad_input_is_a_clear_error():
    d = sim()
    with pytest.raises(ValueError, match="one category"):
        glmkit.polr("o ~ x1", d.assign(o=1))
    with pytest.raises(ValueError, match="method"):
        glmkit.polr("o ~ x1", d, method="logit")
    with pytest.raises(ValueError, match="intercept"):
        glmkit.polr("o ~ 0 + x1", d)
    with pytest.raises(ValueError, match="constant"):
        sm.OrderedModel(d["o"], np.column_stack([np.ones(len(d)), d["x1"]]))
    with pytest.raises(ValueError, match="distr"):
        sm.OrderedModel(d["o"], d[["x1"]], distr="gumbel")
    with pytest.raises(ValueError, match="linearly dependent"):
        glmkit.polr("o ~ x1 + I(3 * x1)", d)
    with pytest.raises(ValueError, match="which"):
        glmkit.polr("o ~ x1", d).predict(NEW, which="mean")


def test_polr_offset_equals_mass_and_statsmodels():
    d = sim()
    res = glmkit.polr("o ~ x1 + g + offset(0.5 * x2)", d)
    _check(res, reference()["polr"]["sim_offset"])
    # prediction on new data reads the offset from the new frame
    base = glmkit.polr("o ~ x1 + g + offset(0.5 * x2)", d).predict(NEW, which="linear")
    manual = (pd.get_dummies(NEW[["x1", "g"]], drop_first=True).astype(float).to_numpy()
              @ res.coefficients.to_numpy() + 0.5 * NEW["x2"].to_numpy())
    np.testing.assert_allclose(base.to_numpy(), manual, rtol=1e-12)
    X = pd.get_dummies(d[["x1", "g"]], drop_first=True).astype(float)
    ours = sm.OrderedModel(d["o"], X, offset=0.5 * d["x2"], distr="logit").fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SMOrdered(d["o"], X, offset=0.5 * d["x2"], distr="logit").fit(
            method="bfgs", maxiter=5000, gtol=1e-10, disp=0)
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.llf, ref.llf, rtol=1e-10)
    # statsmodels' llnull is the log-likelihood at its start (marginal thresholds), which
    # with an offset is not the null model's maximum; ours fits the thresholds with the
    # offset, as R's null deviance of a glm with an offset
    assert ours.llnull > ref.llnull
    f = sm.OrderedModel.from_formula("o ~ x1 + g + offset(0.5 * x2)", d, distr="logit").fit()
    np.testing.assert_allclose(f.params.to_numpy(), ours.params.to_numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="offset"):
        glmkit.multinom("y ~ x1 + offset(x2)", d)
