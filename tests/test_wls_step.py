"""``fit(attach_wls=True)``: IRLS's weighted least-squares problem as ``results_wls``.

Sources: statsmodels' ``results_wls`` (the WLS results of its last IRLS iteration) for a
Poisson fit with an offset, fitted by statsmodels to tol=1e-12 so that its last iteration
is at the maximum; invariants (the WLS coefficients are one more IRLS step, equal to the
GLM's at convergence; the three wls_methods agree).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sms

import glmkit
import glmkit.api as sm


def _data():
    rs = np.random.RandomState(0)
    n = 300
    x = sms.add_constant(rs.normal(size=(n, 3)))
    off = rs.uniform(-0.2, 0.2, n)
    y = rs.poisson(np.exp(x @ [0.3, 0.2, -0.1, 0.1] + off)).astype(float)
    return y, x, off


@pytest.mark.parametrize("wls_method", ["lstsq", "pinv", "qr"])
def test_results_wls_equals_statsmodels(wls_method):
    y, x, off = _data()
    ref = sms.GLM(y, x, family=sms.families.Poisson(), offset=off).fit(
        attach_wls=True, wls_method=wls_method, tol=1e-12).results_wls
    res = sm.GLM(y, x, family=sm.families.Poisson(), offset=off).fit(
        attach_wls=True, wls_method=wls_method)
    got = res.results_wls
    for name in ("params", "bse", "fittedvalues", "resid", "wresid"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-7,
                                   atol=1e-9, err_msg=name)
    for name in ("ssr", "scale", "df_resid", "df_model"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=1e-8), name
    np.testing.assert_allclose(got.model.endog, ref.model.endog, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got.model.weights, ref.model.weights, rtol=1e-8)
    np.testing.assert_allclose(got.params, res.params, rtol=1e-7)
    assert res.mle_settings["wls_method"] == wls_method
    if wls_method == "pinv":
        np.testing.assert_allclose(got.model.pinv_wexog, ref.model.pinv_wexog, rtol=1e-7,
                                   atol=1e-12)


def test_results_wls_on_a_factor_design_keeps_the_kept_columns():
    y, x, off = _data()
    df = pd.DataFrame({"y": y, "x1": x[:, 1], "g": np.array(list("abcd"))[np.arange(300) % 4]})
    res = glmkit.glm("y ~ x1 + g", df, family=sm.families.Poisson()).fit(attach_wls=True)
    np.testing.assert_allclose(res.results_wls.params, np.asarray(res.params), rtol=1e-7)


def test_results_wls_only_when_asked_and_only_for_irls():
    y, x, off = _data()
    model = sm.GLM(y, x, family=sm.families.Poisson())
    with pytest.raises(AttributeError, match="attach_wls=True"):
        model.fit().results_wls
    with pytest.raises(ValueError, match="method='IRLS'"):
        model.fit(method="newton", attach_wls=True)
