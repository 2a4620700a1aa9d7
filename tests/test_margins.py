"""get_margeff(): statsmodels' marginal effects of a GLM.

References: statsmodels 0.14+ GLMResults.get_margeff (same definitions), and the closed
form dy/dx = b for the identity link."""
import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm

smapi = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def fits():
    rs = np.random.RandomState(8)
    X = sm.add_constant(pd.DataFrame({"a": rs.randn(120), "b": rs.uniform(1, 3, 120)}))
    eta = -0.2 + 0.5 * X["a"] - 0.3 * X["b"]
    yb = (rs.uniform(size=120) < 1 / (1 + np.exp(-eta))).astype(float)
    yp = rs.poisson(np.exp(eta)).astype(float)
    out = {}
    for name, y, fo, ft in (("logit", yb, sm.families.Binomial(), smapi.families.Binomial()),
                            ("poisson", yp, sm.families.Poisson(), smapi.families.Poisson())):
        out[name] = (sm.GLM(y, X, family=fo).fit(),
                     smapi.GLM(y, X, family=ft).fit(tol=1e-13))
    return out


@pytest.mark.parametrize("name", ["logit", "poisson"])
@pytest.mark.parametrize("at", ["overall", "mean", "median", "zero"])
@pytest.mark.parametrize("method", ["dydx", "eyex", "dyex", "eydx"])
def test_margeff_matches_statsmodels(fits, name, at, method):
    ours, theirs = fits[name]
    a, b = ours.get_margeff(at=at, method=method), theirs.get_margeff(at=at, method=method)
    np.testing.assert_allclose(a.margeff, b.margeff, rtol=1e-7)
    np.testing.assert_allclose(a.margeff_se, b.margeff_se, rtol=1e-5)
    np.testing.assert_allclose(a.pvalues, b.pvalues, rtol=1e-4, atol=1e-12)
    sa, sb = a.summary_frame(), b.summary_frame()
    assert list(sa.columns) == list(sb.columns) and list(sa.index) == list(sb.index)
    np.testing.assert_allclose(sa.to_numpy(), sb.to_numpy(), rtol=1e-4, atol=1e-12)


def test_margeff_all_and_identity_closed_form(fits):
    ours, theirs = fits["poisson"]
    np.testing.assert_allclose(ours.get_margeff(at="all").margeff,
                               theirs.get_margeff(at="all").margeff, rtol=1e-7)
    rs = np.random.RandomState(2)
    X = sm.add_constant(rs.randn(50, 2))
    res = sm.GLM(X @ [1.0, 2.0, -1.0] + rs.randn(50), X).fit()
    np.testing.assert_allclose(res.get_margeff().margeff, res.params[1:], rtol=1e-12)
    with pytest.raises(ValueError, match="at must be"):
        res.get_margeff(at="max")
