"""glmkit.api.ZeroInflatedPoisson / ZeroInflatedNegativeBinomialP against statsmodels
(same names, parameter order and predictions) and against pscl (the same fit)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as smapi
from statsmodels.discrete.count_model import (
    ZeroInflatedNegativeBinomialP as SMZINB,
)
from statsmodels.discrete.count_model import (
    ZeroInflatedPoisson as SMZIP,
)
from statsmodels.tools.numdiff import approx_hess
from test_models_zeroinfl import bio, ref

import glmkit.api as sm


def _data():
    b = bio()
    X = pd.DataFrame({"const": 1.0, "fem": (b["fem"] == "Women").astype(float),
                      "mar": (b["mar"] == "Married").astype(float), "kid5": b["kid5"],
                      "phd": b["phd"], "ment": b["ment"].astype(float)})
    return b["art"], X


def _numerical_bse(model, params):
    """statsmodels' own log-likelihood, differentiated numerically: statsmodels' analytic
    ZIP Hessian (its bse) is 7% off on these data; its numerical one agrees with pscl."""
    H = approx_hess(np.asarray(params), model.loglike)
    return np.sqrt(np.diag(np.linalg.inv(-H)))


def _sm_fit(model, start):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(start_params=start, method="bfgs", maxiter=5000, gtol=1e-10, disp=0)


def test_zip_equals_pscl_and_statsmodels():
    y, X = _data()
    res = sm.ZeroInflatedPoisson(y, X, exog_infl=X).fit()
    R = ref()["biochemists"]["zip"]
    k = X.shape[1]
    np.testing.assert_allclose(res.params.to_numpy()[:k], R["zero"], rtol=1e-5)
    np.testing.assert_allclose(res.params.to_numpy()[k:], R["count"], rtol=1e-5)
    np.testing.assert_allclose(res.llf, R["logLik"], rtol=1e-11)
    assert list(res.params.index[:2]) == ["inflate_const", "inflate_fem"]
    ref_sm = _sm_fit(SMZIP(y, X, exog_infl=X), res.params.to_numpy())
    assert list(ref_sm.params.index) == list(res.params.index)
    np.testing.assert_allclose(res.params, ref_sm.params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(res.bse, _numerical_bse(ref_sm.model, ref_sm.params), rtol=2e-4)
    np.testing.assert_allclose(res.bse.to_numpy()[k:], R["se"][:k], rtol=1e-6)
    assert np.max(np.abs(res.bse / ref_sm.bse - 1)) > 0.05   # statsmodels' Hessian
    np.testing.assert_allclose([res.aic, res.bic], [ref_sm.aic, ref_sm.bic], rtol=1e-10)
    for which in ("mean", "linear", "mean-main", "prob-main", "prob-zero", "mean-nonzero",
                  "var"):
        np.testing.assert_allclose(res.predict(X.iloc[:7], exog_infl=X.iloc[:7], which=which),
                                   ref_sm.predict(X.iloc[:7], exog_infl=X.iloc[:7],
                                                  which=which), rtol=1e-5)
    np.testing.assert_allclose(res.predict(which="prob", y_values=[0, 1, 5])[:7],
                               ref_sm.predict(which="prob", y_values=[0, 1, 5])[:7], rtol=1e-5)


def test_zinb_equals_pscl_and_statsmodels():
    y, X = _data()
    Z = X[["const", "ment", "fem"]]
    res = sm.ZeroInflatedNegativeBinomialP(y, X, exog_infl=Z).fit()
    R = ref()["biochemists"]["zinb"]
    np.testing.assert_allclose(res.params.to_numpy()[3:9], R["count"], rtol=1e-5)
    np.testing.assert_allclose(res.params["alpha"], 1 / R["theta"], rtol=1e-5)
    assert res.params.index[-1] == "alpha"
    ref_sm = _sm_fit(SMZINB(y, X, exog_infl=Z, p=2), res.params.to_numpy())
    np.testing.assert_allclose(res.params, ref_sm.params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(res.bse, _numerical_bse(ref_sm.model, ref_sm.params), rtol=2e-4)
    np.testing.assert_allclose(res.llf, ref_sm.llf, rtol=1e-11)


def test_constant_inflation_and_arrays():
    y, X = _data()
    res = sm.ZeroInflatedPoisson(y.to_numpy(), X.to_numpy()).fit()
    assert isinstance(res.params, np.ndarray) and res.params.shape == (7,)
    ref_sm = _sm_fit(SMZIP(y.to_numpy(), X.to_numpy()), res.params)
    np.testing.assert_allclose(res.params, ref_sm.params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(res.llf, ref_sm.llf, rtol=1e-11)


def test_exposure_equals_offset_and_bad_input():
    y, X = _data()
    e = np.linspace(0.5, 2, len(y))
    a = sm.ZeroInflatedPoisson(y, X, exposure=e).fit()
    b = sm.ZeroInflatedPoisson(y, X, offset=np.log(e)).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    with pytest.raises(ValueError, match="inflation"):
        sm.ZeroInflatedPoisson(y, X, inflation="cloglog")
    with pytest.raises(NotImplementedError):
        sm.ZeroInflatedNegativeBinomialP(y, X, p=1)
    with pytest.raises(ValueError, match="integers"):
        sm.ZeroInflatedPoisson(y + 0.3, X)
    assert smapi is not None
