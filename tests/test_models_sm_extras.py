"""statsmodels members of MNLogit and OrderedModel added for issue 15's leftovers:
``resid_response``, ``score_factor`` / ``hessian_factor``, ``score_test(exog_extra=)``,
``predict(which='cum')``. Numbers from statsmodels (where it is right) and invariants."""
from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as smo
from statsmodels.base._parameter_inference import _lm_robust

import glmkit.api as sm


def _data(seed=789, n=500, J=3):
    rng = np.random.default_rng(seed)
    X = smo.add_constant(rng.standard_normal((n, 3)))
    E = rng.standard_normal((n, 2))
    beta = rng.uniform(-0.5, 0.5, (4, J - 1))
    eta = np.column_stack([np.zeros(n), X @ beta])
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=n)[:, None]).sum(axis=1)
    return y, X, E


@pytest.fixture(scope="module")
def fits():
    y, X, E = _data()
    return (sm.MNLogit(y, X).fit(),
            smo.MNLogit(y, X).fit(disp=0, method="newton", tol=1e-12), y, X, E)


def test_resid_response_is_indicator_minus_probability(fits):
    res, ref, y, _, _ = fits
    r = res.resid_response
    assert r.shape == (len(y), 3)
    np.testing.assert_allclose(r.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(r, ref.resid_response, atol=1e-9)
    np.testing.assert_allclose(r + res.predict(), np.eye(3)[y], atol=1e-12)


def test_score_and_hessian_factor_equal_statsmodels_and_rebuild_the_derivatives(fits):
    res, ref, y, X, _ = fits
    flat = np.asarray(res.params).ravel("F")
    m = res.model
    sf, hf = m.score_factor(flat), m.hessian_factor(flat)
    np.testing.assert_allclose(sf, ref.model.score_factor(flat), atol=1e-14)
    np.testing.assert_allclose(hf, ref.model.hessian_factor(flat), atol=1e-14)
    np.testing.assert_allclose((sf[:, :, None] * X[:, None, :]).reshape(len(y), -1),
                               m.score_obs(flat), atol=1e-14)
    K = X.shape[1]
    H = np.block([[(X.T * hf[:, j, k]) @ X for k in range(2)] for j in range(2)])
    np.testing.assert_allclose(H, m.hessian(flat), rtol=1e-10, atol=1e-10)
    # a flat vector is column-major (statsmodels): the same as the (K x J-1) array
    np.testing.assert_allclose(m.loglike(flat), m.loglike(np.asarray(res.params)))
    assert K == m.K


def test_factors_include_frequency_weights():
    y, X, _ = _data(n=60)
    w = np.random.default_rng(1).integers(1, 4, len(y)).astype(float)
    mod = sm.MNLogit(y, X, weights=w)
    b = np.random.default_rng(2).normal(0, 0.3, (4, 2))
    np.testing.assert_allclose((mod.score_factor(b)[:, :, None] * X[:, None, :]).reshape(
        len(y), -1), mod.score_obs(b), atol=1e-14)
    hf = mod.hessian_factor(b)
    H = np.block([[(X.T * hf[:, j, k]) @ X for k in range(2)] for j in range(2)])
    np.testing.assert_allclose(H, mod.hessian(b), rtol=1e-10, atol=1e-12)


def test_score_test_equals_statsmodels_model_based(fits):
    res, ref, _, _, E = fits
    ours, theirs = res.score_test(exog_extra=E), ref.score_test(exog_extra=E)
    assert ours.k_constraint == theirs.k_constraint == 4
    np.testing.assert_allclose(ours.statistic, theirs.statistic.item(), rtol=1e-8)
    np.testing.assert_allclose(ours.pvalue, theirs.pvalue.item(), rtol=1e-8)
    one = res.score_test(exog_extra=E[:, 0])
    assert one.k_constraint == 2
    np.testing.assert_allclose(one.statistic,
                               ref.score_test(exog_extra=E[:, :1]).statistic.item(), rtol=1e-8)


def test_score_test_is_the_lm_statistic_of_the_bigger_model(fits):
    """Invariant: s' I^{-1} s of the bigger model at the restricted fit (its own score,
    Hessian) and close to the Wald and LR statistics under the null."""
    res, _, y, X, E = fits
    big = sm.MNLogit(y, np.column_stack([X, E])).fit()
    lr = 2 * (big.llf - res.llf)
    st = res.score_test(exog_extra=E).statistic
    assert abs(st - lr) < 0.1 * max(lr, 1.0)
    b0 = np.vstack([np.asarray(res.params), np.zeros((2, 2))])
    s = big.model.score(b0)
    np.testing.assert_allclose(st, s @ np.linalg.solve(-big.model.hessian(b0), s), rtol=1e-9)


def test_score_test_hc0_is_statsmodels_lm_robust_with_the_added_rows(fits):
    res, _, y, X, E = fits
    ex = np.column_stack([X, E])
    big = smo.MNLogit(y, ex)
    b0 = np.vstack([np.asarray(res.params), np.zeros((2, 2))]).ravel("F")
    so = big.score_obs(b0)
    hinv = -np.linalg.inv(big.hessian(b0))
    R = np.zeros((4, 12))
    R[[0, 1, 2, 3], [4, 5, 10, 11]] = 1.0
    want = _lm_robust(so.sum(0), R, hinv, len(y) * np.cov(so.T))
    got = res.score_test(exog_extra=E, cov_type="HC0")
    assert got.k_constraint == 4
    np.testing.assert_allclose(got.statistic, want.statistic, rtol=1e-8)
    np.testing.assert_allclose(got.pvalue, want.pvalue, rtol=1e-8)


def test_two_categories_equal_statsmodels_logit_score_test():
    y, X, E = _data(J=2, seed=3)
    res = sm.MNLogit(y, X).fit()
    lg = smo.Logit(y, X).fit(disp=0, method="newton", tol=1e-12)
    for ct in ("nonrobust", "HC0"):
        np.testing.assert_allclose(res.score_test(exog_extra=E, cov_type=ct).statistic,
                                   np.squeeze(lg.score_test(exog_extra=E,
                                                            cov_type=ct).statistic),
                                   rtol=1e-8)


def test_score_test_bad_input(fits):
    res, _, y, _, E = fits
    with pytest.raises(ValueError, match="one row per observation"):
        res.score_test(exog_extra=E[:10])
    with pytest.raises(ValueError, match="NaN"):
        res.score_test(exog_extra=np.where(np.arange(len(y))[:, None] == 0, np.nan, E))
    with pytest.raises(NotImplementedError, match="exog_extra"):
        res.score_test()
    with pytest.raises(NotImplementedError, match="HC0"):
        res.score_test(exog_extra=E, cov_type="HC1")


def test_ordered_predict_cum_is_cumprob():
    y, X, _ = _data(J=4, seed=5)
    res = sm.OrderedModel(y, X[:, 1:], distr="logit").fit()
    cum = res.predict(which="cum")
    np.testing.assert_array_equal(cum, res.predict(which="cumprob"))
    np.testing.assert_allclose(np.cumsum(res.predict(which="prob"), axis=1), cum, atol=1e-12)
    with pytest.raises(ValueError, match="which"):
        res.predict(which="cumulative")
