"""Sandwich (HC0) covariances of the categorical and count models: R's
sandwich::sandwich (tests/reference/models/make_reference_sandwich.R) for polr, zeroinfl
and hurdle; statsmodels' MNLogit / OrderedModel fit(cov_type='HC0'); frequency weights as
repeated rows."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import statsmodels.api as smapi
from _models_data import REF_DIR, sim
from statsmodels.miscmodels.ordinal_model import OrderedModel as SMOrdered
from test_models_zeroinfl import FB, bio

import glmkit
import glmkit.api as sm


def ref() -> dict:
    with open(REF_DIR / "ref_sandwich.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.mark.parametrize("method", ["logistic", "probit"])
def test_polr_hc0_equals_sandwich(method):
    res = glmkit.polr("o ~ x1 + x2 + g", sim(), method=method)
    rob = res.get_robustcov_results("HC0")
    assert rob.cov_type == "HC0" and res.cov_type == "nonrobust"
    # atol: polr's bread (R's vcov) is a finite-difference Hessian, ~1e-9 absolute off
    np.testing.assert_allclose(rob.cov_params().to_numpy(), ref()[f"polr_{method}"],
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(rob.params, res.params, rtol=0)
    assert not np.allclose(rob.bse, res.bse, rtol=1e-3)


@pytest.mark.parametrize("case, formula, kw", [
    ("zip", FB, {}),
    ("zinb", FB + " | ment + fem", {"dist": "negbin"}),
])
def test_zeroinfl_hc0_equals_sandwich(case, formula, kw):
    rob = glmkit.zeroinfl(formula, bio(), **kw).get_robustcov_results("HC0")
    np.testing.assert_allclose(rob.cov_params().to_numpy(), ref()[case], rtol=1e-5,
                               atol=1e-8)


def test_hurdle_hc0_equals_sandwich():
    rob = glmkit.hurdle(FB + " | ment + fem", bio(), dist="negbin").get_robustcov_results()
    np.testing.assert_allclose(rob.cov_params().to_numpy(), ref()["hunb"], rtol=1e-5,
                               atol=1e-8)


def test_mnlogit_and_ordered_model_hc0_equal_statsmodels():
    d = sim()
    X = smapi.add_constant(d[["x1", "x2"]])
    ours = sm.MNLogit(d["o"].cat.codes, X).fit(cov_type="HC0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = smapi.MNLogit(d["o"].cat.codes, X).fit(cov_type="HC0", disp=0)
    np.testing.assert_allclose(np.asarray(ours.bse), np.asarray(theirs.bse), rtol=1e-6)
    Xo = d[["x1", "x2"]]
    ours = sm.OrderedModel(d["o"], Xo, distr="logit").fit(cov_type="HC0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SMOrdered(d["o"], Xo, distr="logit").fit(method="bfgs", cov_type="HC0",
                                                         disp=0, maxiter=5000, gtol=1e-10)
    np.testing.assert_allclose(np.asarray(ours.bse), np.asarray(theirs.bse), rtol=1e-4)


def test_hc0_frequency_weights_equal_repeated_rows():
    d = sim()
    rep = d.loc[d.index.repeat(d["w"])].reset_index(drop=True)
    a = glmkit.polr("o ~ x1 + x2 + g", d, weights="w").get_robustcov_results()
    b = glmkit.polr("o ~ x1 + x2 + g", rep).get_robustcov_results()
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
    a = glmkit.multinom("y ~ x1 + g", d, weights="w").get_robustcov_results()
    b = glmkit.multinom("y ~ x1 + g", rep).get_robustcov_results()
    np.testing.assert_allclose(np.asarray(a.bse), np.asarray(b.bse), rtol=1e-8)


def test_unknown_cov_type():
    with pytest.raises(NotImplementedError, match="cov_type"):
        glmkit.polr("o ~ x1", sim()).get_robustcov_results("HC3")
    with pytest.raises(NotImplementedError, match="HC1"):
        sm.ZeroInflatedPoisson(bio()["art"], np.ones((915, 1))).fit(cov_type="HC3")
