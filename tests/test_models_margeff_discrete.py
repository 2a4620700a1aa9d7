"""MNLogit ``get_margeff(dummy=True, count=True)``: statsmodels' discrete-change effects.
Dummy effects against statsmodels' MNLogit and Stata's (statsmodels' anes96 results);
count effects (statsmodels' MNLogit count path raises a TypeError in 0.15) against
statsmodels' Logit at two categories, and against the definition."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as smapi
from statsmodels.discrete.tests.results.results_discrete import Anes
from statsmodels.discrete.tests.test_discrete import load_anes96

import glmkit.api as sm


@pytest.fixture(scope="module")
def anes():
    d = load_anes96()
    X = smapi.add_constant(np.column_stack((d.exog, d.data["vote"])), prepend=False)
    y = np.asarray(d.endog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = smapi.MNLogit(y, X).fit(disp=0, method="newton", tol=1e-12)
    return sm.MNLogit(y, X).fit(), theirs, y, X


@pytest.mark.parametrize("method", ["dydx", "eydx"])
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_dummy_effects_equal_statsmodels(anes, method, at):
    ours, theirs, _, _ = anes
    a = ours.get_margeff(at=at, method=method, dummy=True)
    b = theirs.get_margeff(at=at, method=method, dummy=True)
    np.testing.assert_allclose(a.margeff, b.margeff, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(a.margeff_se, b.margeff_se, rtol=1e-6, atol=1e-10)
    assert a.dummy_idx.tolist() == [5]


def test_dummy_effects_equal_stata(anes):
    ours = anes[0]
    res2 = Anes.mnlogit_basezero
    me = ours.get_margeff(dummy=True)
    np.testing.assert_allclose(me.margeff, res2.margeff_dydx_dummy_overall, atol=1e-6)
    np.testing.assert_allclose(me.margeff_se, res2.margeff_dydx_dummy_overall_se, atol=1e-6)


def test_count_effects_are_the_centred_change(anes):
    ours, _, _, X = anes
    me = ours.get_margeff(dummy=True, count=True)
    assert me.count_idx.tolist() == [1, 2, 3, 4] and me.dummy_idx.tolist() == [5]
    j = 2
    lo, hi = X.copy(), X.copy()
    lo[:, j] -= 1
    hi[:, j] += 1
    want = (np.asarray(ours.predict(hi)) - np.asarray(ours.predict(lo))).mean(axis=0) / 2
    np.testing.assert_allclose(me.margeff[j], want, rtol=1e-12)
    np.testing.assert_allclose(me.margeff.sum(axis=1), 0.0, atol=1e-12)   # probabilities
    # the continuous columns keep their derivative effects
    plain = ours.get_margeff()
    np.testing.assert_allclose(me.margeff[0], plain.margeff[0], rtol=1e-12)


def test_two_categories_equal_statsmodels_logit_count_and_dummy():
    rng = np.random.default_rng(4)
    n = 400
    X = np.column_stack([rng.poisson(2.0, n), rng.integers(0, 2, n), rng.standard_normal(n),
                         np.ones(n)]).astype(float)
    p = 1 / (1 + np.exp(-(X @ [0.3, -0.6, 0.5, -0.4])))
    y = (rng.uniform(size=n) < p).astype(int)
    ours = sm.MNLogit(y, X).fit()
    lg = smapi.Logit(y, X).fit(disp=0, method="newton", tol=1e-12)
    for method in ("dydx", "eydx"):
        a = ours.get_margeff(method=method, dummy=True, count=True)
        b = lg.get_margeff(method=method, dummy=True, count=True)
        if method == "dydx":
            np.testing.assert_allclose(a.margeff[:, 1], b.margeff, rtol=1e-7)
            np.testing.assert_allclose(a.margeff_se[:, 1], b.margeff_se, rtol=1e-6)
        else:   # Logit's eydx is of log P(y = 1): MNLogit's second category
            np.testing.assert_allclose(a.margeff[:, 1], b.margeff, rtol=1e-7)


def test_discrete_options_refused(anes):
    ours = anes[0]
    with pytest.raises(ValueError, match="eyex not allowed"):
        ours.get_margeff(method="eyex", dummy=True)
    with pytest.raises(ValueError, match="median not allowed"):
        ours.get_margeff(at="median", count=True)
    with pytest.raises(NotImplementedError, match="atexog"):
        ours.get_margeff(atexog={0: 1.0})
