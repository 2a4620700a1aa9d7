"""get_prediction() results shaped as statsmodels' (PredictionResultsMean and its linpred).

Numbers: statsmodels 0.14+ on a Poisson-log fit (scale 1, normal quantiles: there R and
statsmodels agree, README Conventions), and closed forms (delta method, identity links).
"""
import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm

smapi = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def poisson():
    rs = np.random.RandomState(3)
    X = pd.DataFrame({"a": rs.randn(80), "b": rs.uniform(size=80)})
    X = sm.add_constant(X)
    y = pd.Series(rs.poisson(np.exp(0.2 + 0.3 * X["a"] - 0.5 * X["b"])), name="y")
    ours = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    theirs = smapi.GLM(y, X, family=smapi.families.Poisson()).fit()
    return ours, theirs, X


def test_mean_prediction_matches_statsmodels(poisson):
    ours, theirs, X = poisson
    p, q = ours.get_prediction(), theirs.get_prediction()
    for name in ("predicted", "predicted_mean", "se", "se_mean", "var_pred", "var_pred_mean"):
        np.testing.assert_allclose(getattr(p, name), getattr(q, name), rtol=1e-7, err_msg=name)
    np.testing.assert_allclose(p.conf_int(), q.conf_int(), rtol=1e-7)
    np.testing.assert_allclose(p.conf_int(method="delta", alpha=0.1),
                               q.conf_int(method="delta", alpha=0.1), rtol=1e-7)
    pd.testing.assert_frame_equal(p.summary_frame(), q.summary_frame(), rtol=1e-7)


def test_linpred_matches_statsmodels(poisson):
    ours, theirs, X = poisson
    lp, lq = ours.get_prediction().linpred, theirs.get_prediction().linpred
    for name in ("predicted", "predicted_mean", "se", "se_mean", "var_pred", "se_obs"):
        np.testing.assert_allclose(getattr(lp, name), getattr(lq, name), rtol=1e-7, err_msg=name)
    np.testing.assert_allclose(lp.conf_int(obs=True, alpha=0.1),
                               lq.conf_int(obs=True, alpha=0.1), rtol=1e-7)
    pd.testing.assert_frame_equal(lp.summary_frame(), lq.summary_frame(), rtol=1e-7)


def test_new_rows_and_which(poisson):
    ours, theirs, X = poisson
    new = X.iloc[:5] * 1.5
    p, q = ours.get_prediction(new), theirs.get_prediction(new)
    pd.testing.assert_frame_equal(p.summary_frame(), q.summary_frame(), rtol=1e-7)
    lin = ours.get_prediction(new, which="linear")
    np.testing.assert_allclose(lin.predicted, np.log(p.predicted), rtol=1e-12)
    assert list(lin.summary_frame().columns) == ["predicted", "se", "ci_lower", "ci_upper"]
    # delta method: se(mu) = mu se(eta) for the log link (closed form)
    np.testing.assert_allclose(p.se, p.predicted * lin.se, rtol=1e-12)
    mean = ours.get_prediction(new, which="mean")
    np.testing.assert_allclose(mean.summary_frame().to_numpy(), p.summary_frame().to_numpy())


def test_identity_link_endpoint_equals_delta():
    rs = np.random.RandomState(5)
    X = sm.add_constant(rs.randn(30, 2))
    y = X @ [1.0, 0.5, -0.2] + rs.randn(30)
    p = sm.GLM(y, X).fit().get_prediction()
    np.testing.assert_allclose(p.conf_int(), p.conf_int(method="delta"), rtol=1e-12)
    with pytest.raises(ValueError, match="method"):
        p.conf_int(method="profile")
