"""t_test / wald_test / f_test and pred_table on the L1 (fit_regularized) results of
MNLogit and the zero-inflated classes: statsmodels' numbers (its covariance of the non-zero
coefficients, NaN standard errors for tests that touch a zero, ValueError for joint tests
that do) and invariants (a coefficient the penalty removes is the same as a dropped
column: the other coefficients and their covariance equal the smaller model's fit)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as smapi
from statsmodels.discrete.tests.test_discrete import load_anes96

import glmkit.api as sm


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


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


def test_zip_l1_tests_equal_the_dropped_column_fit_and_statsmodels(randhie):
    y, X, Z = randhie
    alpha = np.r_[0, 0, 1e5, 0, 0, 0]            # exog_names: inflate x1, const; x1..const
    l1 = sm.ZeroInflatedPoisson(y, X, exog_infl=Z).fit_regularized(alpha=alpha)
    assert l1.converged and l1.trimmed.tolist() == [0, 0, 1, 0, 0, 0]
    drop = sm.ZeroInflatedPoisson(y, X[:, [1, 2, 3]], exog_infl=Z).fit()
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_allclose(np.asarray(l1.params)[keep], drop.params, rtol=1e-6)
    t = l1.t_test(np.eye(6))
    assert np.isnan(t.sd[2]) and np.isnan(t.tvalue[2])
    np.testing.assert_allclose(t.sd[keep], drop.bse, rtol=1e-5)
    np.testing.assert_allclose(t.tvalue[keep], drop.tvalues, rtol=1e-5)
    np.testing.assert_allclose(t.effect, l1.params, rtol=1e-14)
    R = np.eye(6)[keep]
    f, f_drop = l1.f_test(R), drop.f_test(np.eye(5))
    np.testing.assert_allclose(f.fvalue, f_drop.fvalue, rtol=1e-5)
    assert f.df_num == 5 and f.df_denom == l1.df_resid
    w = l1.wald_test(R[:2])
    np.testing.assert_allclose(w.statistic, drop.wald_test(np.eye(5)[:2]).statistic,
                               rtol=1e-5)
    # by name, and a contrast between two non-zero coefficients
    byname = l1.t_test("x2 = x3")
    np.testing.assert_allclose(byname.effect, drop.t_test("x1 = x2").effect, rtol=1e-6)
    with pytest.raises(ValueError, match="non-normal"):
        l1.f_test(np.eye(6))
    with pytest.raises(ValueError, match="non-normal"):
        l1.wald_test("x1 = 0")
    # statsmodels' own L1 fit and tests (its ZIP Hessian is 0.4 % off: see
    # test_models_statsmodels_members.py)
    theirs = _quiet(smapi.ZeroInflatedPoisson(y, X, exog_infl=Z).fit_regularized,
                    alpha=alpha, disp=False, maxiter=500)
    tt = theirs.t_test(np.eye(6))
    np.testing.assert_array_equal(np.isnan(t.sd), np.isnan(tt.sd))
    np.testing.assert_allclose(t.effect, tt.effect.ravel(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(t.sd[keep], tt.sd.ravel()[keep], rtol=1e-2)
    with pytest.raises(ValueError):
        theirs.f_test(np.eye(6))


def test_zinb_l1_f_test_and_pvalues(randhie):
    y, X, Z = randhie
    l1 = sm.ZeroInflatedNegativeBinomialP(y, X[:, [0, 3]], exog_infl=Z).fit_regularized(
        alpha=np.r_[0, 0, 1e4, 0, 0])
    drop = sm.ZeroInflatedNegativeBinomialP(y, X[:, [3]], exog_infl=Z).fit()
    keep = [0, 1, 3, 4]
    t = l1.t_test(np.eye(5)[keep])
    np.testing.assert_allclose(t.sd, drop.bse, rtol=1e-5)
    np.testing.assert_allclose(t.pvalue, drop.pvalues, rtol=1e-4)
    np.testing.assert_allclose(l1.wald_test(np.eye(5)[keep]).statistic,
                               drop.wald_test(np.eye(4)).statistic, rtol=1e-5)


def test_mnlogit_l1_alpha_zero_equals_the_unpenalized_fit(anes):
    y, X = anes
    model = sm.MNLogit(y, X)
    mle, l1 = model.fit(), model.fit_regularized(alpha=0.0)
    np.testing.assert_array_equal(l1.pred_table(), mle.pred_table())
    k = X.shape[1] * 6
    np.testing.assert_allclose(l1.t_test(np.eye(k)).tvalue, mle.t_test(np.eye(k)).tvalue,
                               rtol=1e-6)
    np.testing.assert_allclose(l1.f_test(np.eye(k)[:5]).fvalue,
                               mle.f_test(np.eye(k)[:5]).fvalue, rtol=1e-6)
    np.testing.assert_allclose(l1.predict(), mle.predict(), rtol=1e-7)


def test_mnlogit_l1_pred_table_and_t_test_equal_statsmodels(anes):
    y, X = anes
    alpha = 10.0 * np.ones((X.shape[1], 6))
    alpha[-1] = 0.0                               # constants free (prepend=False)
    ours = sm.MNLogit(y, X).fit_regularized(alpha=alpha)
    theirs = _quiet(smapi.MNLogit(y, X).fit_regularized, alpha=alpha, disp=0, acc=1e-12,
                    maxiter=1000, trim_mode="auto")
    assert ours.trimmed.any()
    np.testing.assert_array_equal(ours.trimmed,
                                  np.asarray(theirs.mle_retvals["trimmed"]).ravel("F"))
    np.testing.assert_allclose(np.asarray(ours.params), theirs.params, atol=2e-4)
    np.testing.assert_array_equal(ours.pred_table(), theirs.pred_table())
    k = ours._params.size
    t, tt = ours.t_test(np.eye(k)), theirs.t_test(np.eye(k))
    np.testing.assert_array_equal(np.isnan(t.sd), np.isnan(tt.sd))
    ok = ~np.isnan(t.sd)
    np.testing.assert_allclose(t.sd[ok], tt.sd[ok], rtol=2e-3)
    np.testing.assert_allclose(t.tvalue[ok], tt.tvalue[ok], rtol=2e-3, atol=1e-3)
