"""statsmodels' members of MNLogit and the zero-inflated classes: t_test, llnull / res_null,
Summary objects, get_margeff, get_distribution and fit_regularized, against statsmodels'
own numbers (where its optimizer converges), Stata's (statsmodels' anes96 results) and the
KKT conditions of the L1 objective."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as smapi
from statsmodels.discrete.tests.results.results_discrete import Anes
from statsmodels.discrete.tests.test_discrete import load_anes96

import glmkit.api as sm
from glmkit.models.l1 import kkt_violation


@pytest.fixture(scope="module")
def randhie():
    data = smapi.datasets.randhie.load()
    X = np.asarray(data.exog)
    return (np.asarray(data.endog), smapi.add_constant(X[:, 1:4], prepend=False),
            smapi.add_constant(X[:, 0], prepend=False))


@pytest.fixture(scope="module")
def anes():
    data = load_anes96()
    return np.asarray(data.endog), smapi.add_constant(np.asarray(data.exog), prepend=False)


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# ------------------------------------------------------------------ zero-inflated
def test_zip_t_test_null_model_and_pseudo_r2_equal_statsmodels(randhie):
    y, X, Z = randhie
    ours = sm.ZeroInflatedPoisson(y, X, exog_infl=Z).fit()
    theirs = _quiet(smapi.ZeroInflatedPoisson(y, X, exog_infl=Z).fit, method="newton",
                    maxiter=500, disp=False)
    theirs._results._attach_nullmodel = True
    tt = ours.t_test(np.eye(6))
    np.testing.assert_allclose(tt.tvalue, ours.tvalues, rtol=1e-12)
    np.testing.assert_allclose(tt.effect, ours.params, rtol=1e-12)
    # by name; statsmodels' ZIP standard errors come from its analytic Hessian, 5-10 % off
    # (tests/test_models_zeroinfl_statsmodels.py): compare the effect, and the t value
    # with glmkit's covariance
    t = ours.t_test("x1 = x3")
    np.testing.assert_allclose(t.effect, theirs.t_test("x1 = x3").effect, rtol=1e-5)
    V = np.asarray(ours.cov_params())
    np.testing.assert_allclose(t.tvalue, t.effect / np.sqrt(V[2, 2] + V[4, 4] - 2 * V[2, 4]),
                               rtol=1e-12)
    np.testing.assert_allclose(ours.llnull, theirs.llnull, rtol=1e-10)
    np.testing.assert_allclose(ours.llr, theirs.llr, rtol=1e-7)
    np.testing.assert_allclose(ours.prsquared, theirs.prsquared, rtol=1e-7)
    assert ours.res_null.model.exog.shape == (len(y), 1)
    assert np.ptp(ours.res_null.model.exog_infl) == 0
    # the LR test's df: the null model drops 1 inflation and 3 count coefficients
    assert ours.llr_pvalue == pytest.approx(
        __import__("scipy").stats.chi2.sf(ours.llr, 4), rel=1e-12)
    w = ours.wald_test("x1 = 0, x2 = 0")
    assert w.df_num == 2 and w.statistic > 0


def test_zinb_null_model_at_its_boundary_equals_statsmodels(randhie):
    """The constant-only ZINB has no excess zeros (the inflation constant runs off to
    -inf): llnull is the supremum, the constant-only NB2 fit's llf (statsmodels')."""
    y, X, Z = randhie
    ours = sm.ZeroInflatedNegativeBinomialP(y, X[:, [0, 3]], exog_infl=Z).fit()
    with pytest.warns(Warning, match="separated"):
        llnull = ours.llnull
    nb = _quiet(smapi.NegativeBinomial(y, np.ones(len(y))).fit, disp=0, maxiter=200)
    np.testing.assert_allclose(llnull, nb.llf, rtol=1e-11)
    np.testing.assert_allclose(ours.res_null.params[1:], nb.params, rtol=1e-6)
    assert ours.res_null.params[0] < -30


def test_zeroinfl_summary_object(randhie):
    y, X, Z = randhie
    res = sm.ZeroInflatedPoisson(y, X, exog_infl=Z, inflation="probit").fit()
    s = res.summary()
    assert len(s.tables) == 3 and "Covariance Type:" in str(s)
    for name in res.model.exog_names:
        assert name in s.as_text() and name.replace("_", r"\_") in s.as_latex()
    assert s.as_html().count("<table") == 3 and "ZeroInflatedPoisson" in s.as_csv()
    s.add_extra_txt(["a note"])
    assert s.as_text().endswith("[1] a note")
    rob = sm.ZeroInflatedPoisson(y, X, exog_infl=Z).fit(cov_type="HC1")
    assert "HC1" in str(rob.summary())


def test_zip_fit_regularized_equals_statsmodels(randhie):
    y, X, Z = randhie
    model = sm.ZeroInflatedPoisson(y, X, exog_infl=Z)
    theirs_model = smapi.ZeroInflatedPoisson(y, X, exog_infl=Z)
    for alpha in (np.r_[10.0, 10, 10, 10, 0, 0], np.r_[100.0, 1000, 100, 10, 0, 0]):
        ours = model.fit_regularized(alpha=alpha, disp=False, maxiter=500)
        theirs = _quiet(theirs_model.fit_regularized, alpha=alpha, disp=False, maxiter=500)
        assert ours.converged and ours.kkt < 1e-8
        np.testing.assert_allclose(ours.params, theirs.params, rtol=1e-4, atol=1e-5)
        # the certified minimum is at least as low as statsmodels' answer
        obj = [-r.llf + alpha @ np.abs(np.asarray(r.params)) for r in (ours, theirs)]
        assert obj[0] <= obj[1] + 1e-9 * abs(obj[1])
        # statsmodels: its analytic ZIP Hessian (0.4 % off here)
        np.testing.assert_allclose(np.asarray(ours.bse), np.asarray(theirs.bse), rtol=1e-2)


def test_zinb_fit_regularized_kkt_and_zero_penalty(randhie):
    y, X, Z = randhie
    model = sm.ZeroInflatedNegativeBinomialP(y, X[:, [0, 3]], exog_infl=Z)
    mle = model.fit()
    zero = model.fit_regularized(alpha=0.0)
    np.testing.assert_allclose(zero.params, mle.params, rtol=1e-7, atol=1e-9)
    a = np.r_[0, 0, 1e4, 0, 0]
    big = model.fit_regularized(alpha=a)
    assert big.converged and big.kkt < 1e-8 and big.trimmed.tolist() == [0, 0, 1, 0, 0]
    assert np.isnan(np.asarray(big.bse)[2]) and np.all(np.isfinite(np.asarray(big.bse)[[0, 1,
                                                                                       3, 4]]))
    # the zero coefficient's score is within its penalty: the KKT condition, from the
    # unpenalized fit of the other coefficients (x1 dropped)
    drop = sm.ZeroInflatedNegativeBinomialP(y, X[:, [3]], exog_infl=Z).fit()
    np.testing.assert_allclose(np.delete(np.asarray(big.params), 2), drop.params, rtol=1e-6)
    with pytest.raises(ValueError, match="dispersion"):
        model.fit_regularized(alpha=np.r_[1.0, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="method"):
        model.fit_regularized(method="foo")
    with pytest.raises(ValueError, match="one value per coefficient"):
        model.fit_regularized(alpha=[1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        model.fit_regularized(alpha=-1.0)
    assert big.alpha.tolist() == a.tolist()


def test_zeroinfl_sm_robust_equals_count_results(randhie):
    y, X, Z = randhie
    g = np.arange(len(y)) % 50
    model = sm.ZeroInflatedPoisson(y, X, exog_infl=Z)
    base = model.fit()
    for cov_type, kw in (("HC0", {}), ("HC1", {}), ("cluster", {"groups": g})):
        ours = model.fit(cov_type=cov_type, cov_kwds=kw or None)
        ref = base.r_results.get_robustcov_results(cov_type, **kw).cov_params().to_numpy()
        k_infl = 2
        order = list(range(4, 6)) + list(range(4))   # pscl order -> statsmodels order
        np.testing.assert_allclose(ours.cov_params(), ref[np.ix_(order, order)], rtol=1e-10)
        assert ours.cov_type == cov_type and k_infl == model.k_inflate
    back = model.fit(cov_type="HC1").get_robustcov_results("nonrobust")
    np.testing.assert_allclose(back.cov_params(), base.cov_params(), rtol=1e-14)


# ------------------------------------------------------------------ MNLogit
@pytest.mark.parametrize("at", ["overall", "mean", "median", "zero"])
@pytest.mark.parametrize("method", ["dydx", "eydx"])
def test_mnlogit_margeff_equals_statsmodels(anes, at, method):
    y, X = anes
    ours = sm.MNLogit(y, X).fit().get_margeff(at=at, method=method)
    theirs = _quiet(smapi.MNLogit(y, X).fit, method="newton", disp=0).get_margeff(
        at=at, method=method)
    np.testing.assert_allclose(ours.margeff, theirs.margeff, rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(ours.margeff_se, theirs.margeff_se, rtol=1e-6)


def test_mnlogit_margeff_equals_stata_and_frame(anes):
    y, X = anes
    me = sm.MNLogit(y, X).fit().get_margeff()
    np.testing.assert_allclose(me.margeff, Anes.mnlogit_basezero.margeff_dydx_overall,
                               atol=1e-6)
    np.testing.assert_allclose(me.margeff_se, Anes.mnlogit_basezero.margeff_dydx_overall_se,
                               atol=1e-6)
    frame = me.summary_frame()
    assert frame.shape == (me.margeff.size, 6)
    np.testing.assert_array_equal(frame["dy/dx"].to_numpy().reshape(me.margeff.shape,
                                                                     order="F"), me.margeff)


def test_mnlogit_margeff_elasticities_from_row_effects(anes):
    """statsmodels' MNLogit cannot compute eyex / dyex (a broadcasting error): the
    per-row definitions, averaged, check them."""
    y, X = anes
    res = sm.MNLogit(y, X).fit()
    rows = res.get_margeff(at="all").margeff          # (n, 5, 7)
    P = np.asarray(res.predict())
    x = X[:, :5, None]
    np.testing.assert_allclose(res.get_margeff(method="dyex").margeff,
                               (rows * x).mean(0), rtol=1e-12)
    np.testing.assert_allclose(res.get_margeff(method="eyex").margeff,
                               (rows * x / P[:, None, :]).mean(0), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="atexog"):
        res.get_margeff(atexog={0: 1.0})
    with pytest.raises(ValueError, match="at must be"):
        res.get_margeff(at="middle")


def test_mnlogit_get_distribution(anes):
    y, X = anes
    res = sm.MNLogit(y, X).fit()
    for d in (res.get_distribution(), res.model.get_distribution(res.params)):
        np.testing.assert_allclose(d.mean(), res.predict(), rtol=1e-12)
        np.testing.assert_allclose(d.var(), res.predict(which="var"), rtol=1e-12)
    np.testing.assert_allclose(res.predict(which="var").sum(1),
                               1 - (res.predict() ** 2).sum(1), rtol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 10.0])
def test_mnlogit_fit_regularized_equals_statsmodels(anes, alpha):
    y, X = anes
    ours = sm.MNLogit(y, X).fit_regularized(alpha=alpha)
    theirs = _quiet(smapi.MNLogit(y, X).fit_regularized, alpha=alpha, disp=0, maxiter=1000,
                    acc=1e-12)
    assert ours.converged and ours.kkt < 1e-8
    np.testing.assert_allclose(ours.params, theirs.params, atol=2e-5)
    obj = [-r.llf + alpha * np.abs(np.asarray(r.params)).sum() for r in (ours, theirs)]
    assert obj[0] <= obj[1] + 1e-12 * abs(obj[1])
    np.testing.assert_allclose(ours.bse, theirs.bse, rtol=1e-5)
    assert ours.nnz_params == np.count_nonzero(np.asarray(theirs.params))


def test_mnlogit_fit_regularized_alpha_per_coefficient_and_errors(anes):
    y, X = anes
    model = sm.MNLogit(y, X)
    a = np.full((6, 6), 5.0)
    a[-1] = 0.0                                # constants free
    res = model.fit_regularized(alpha=a)
    assert np.all(np.asarray(res.params)[-1] != 0)
    m = model.fit()
    _, s, info = model.loglike_score_information(res.params)
    flat = model._flat(res.params)
    assert kkt_violation(flat, s, info, a.ravel(order="F")) < 1e-8
    np.testing.assert_allclose(model.fit_regularized(alpha=0).params, m.params, rtol=1e-7,
                               atol=1e-9)
    with pytest.raises(ValueError, match="method"):
        model.fit_regularized(method="foo")
    with pytest.raises(TypeError, match="unexpected"):
        model.fit_regularized(alpha=1.0, bogus=1)


def test_zinb_hc0_with_alpha_equals_statsmodels(randhie):
    """The sandwich over every parameter, alpha included (delta method from log theta):
    statsmodels' ZINB fit(cov_type='HC0') (its Hessian numerical, ~1e-5 off)."""
    y, X, Z = randhie
    model = sm.ZeroInflatedNegativeBinomialP(y, X[:, [0, 3]], exog_infl=Z)
    ours = model.fit(cov_type="HC0")
    theirs = _quiet(smapi.ZeroInflatedNegativeBinomialP(y, X[:, [0, 3]], exog_infl=Z).fit,
                    start_params=np.asarray(ours.params), method="bfgs", maxiter=1000,
                    gtol=1e-10, disp=0, cov_type="HC0")
    np.testing.assert_allclose(ours.params, theirs.params, rtol=1e-6)
    np.testing.assert_allclose(ours.bse, theirs.bse, rtol=1e-4)
    assert ours.cov_type == "HC0" and not np.allclose(ours.bse, model.fit().bse, rtol=1e-2)
