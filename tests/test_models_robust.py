"""HC1 and cluster sandwich covariances of multinom/MNLogit, polr/OrderedModel, zeroinfl
and hurdle: R's sandwich(fit, adjust = TRUE) and vcovCL(fit, cluster) (defaults, type HC1,
cadjust FALSE), tests/reference/models/make_reference_robust.R; statsmodels' MNLogit
cluster covariance; frequency weights as repeated rows; clear errors."""
from __future__ import annotations

import json
import warnings
from functools import cache

import numpy as np
import pytest
import statsmodels.api as smapi
from _models_data import REF_DIR, sim
from test_models_zeroinfl import FB, bio

import glmkit
import glmkit.api as sm


@cache
def ref() -> dict:
    with open(REF_DIR / "ref_robust.json", encoding="utf-8") as fh:
        return json.load(fh)


def _fit(case):
    d, b = sim(), bio()
    return {
        "multinom": lambda: glmkit.multinom("y ~ x1 + x2 + g", d),
        "polr_logistic": lambda: glmkit.polr("o ~ x1 + x2 + g", d),
        "polr_probit": lambda: glmkit.polr("o ~ x1 + x2 + g", d, method="probit"),
        "zip": lambda: glmkit.zeroinfl(FB, b),
        "zinb": lambda: glmkit.zeroinfl(FB + " | ment + fem", b, dist="negbin"),
        "hunb": lambda: glmkit.hurdle(FB + " | ment + fem", b, dist="negbin"),
        "hup": lambda: glmkit.hurdle(FB, b),
    }[case]()


KINDS = {"HC1": ("HC1", {}), "cluster": ("cluster", {}),
         "cluster_hc1": ("cluster", {"use_correction": True}),
         "cluster_noadj": ("cluster", {"use_correction": False})}


@pytest.mark.parametrize("case", ["multinom", "polr_logistic", "polr_probit", "zip", "zinb",
                                  "hunb", "hup"])
def test_hc1_and_cluster_equal_r_sandwich(case):
    res = _fit(case)
    n = res.model.inputs.X.shape[0] if hasattr(res, "model") else res.inputs.n
    groups = np.arange(n) % (37 if case in ("zip", "zinb", "hunb", "hup") else 23)
    hc0 = np.asarray(res.get_robustcov_results("HC0").cov_params())
    for name, (cov_type, kw) in KINDS.items():
        if cov_type == "cluster":
            kw = {**kw, "groups": groups}
        rob = res.get_robustcov_results(cov_type, **kw)
        assert rob.cov_type == cov_type and res.cov_type == "nonrobust"
        # atol: polr's and pscl's breads are finite-difference Hessians (~1e-9 off)
        np.testing.assert_allclose(np.asarray(rob.cov_params()), ref()[case][name],
                                   rtol=1e-6, atol=1e-8, err_msg=name)
        np.testing.assert_array_equal(np.asarray(rob.params), np.asarray(res.params))
    k = hc0.shape[0]
    hc1 = np.asarray(res.get_robustcov_results("HC1").cov_params())
    np.testing.assert_allclose(hc1, hc0 * res.nobs / (res.nobs - k), rtol=1e-12)
    # back to the model-based covariance
    again = res.get_robustcov_results("HC1").get_robustcov_results("nonrobust")
    np.testing.assert_array_equal(np.asarray(again.cov_params()), np.asarray(res.cov_params()))


def test_fit_cov_type_keywords():
    d = sim()
    X = smapi.add_constant(d[["x1", "x2"]])
    g = np.arange(len(d)) % 23
    base = sm.MNLogit(d["o"].cat.codes, X).fit()
    ours = sm.MNLogit(d["o"].cat.codes, X).fit(cov_type="cluster",
                                              cov_kwds={"groups": g, "use_correction": True})
    np.testing.assert_allclose(np.asarray(ours.cov_params()),
                               np.asarray(base.get_robustcov_results(
                                   "cluster", groups=g, use_correction=True).cov_params()),
                               rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = smapi.MNLogit(d["o"].cat.codes, X).fit(cov_type="cluster", disp=0,
                                                       cov_kwds={"groups": g})
    # statsmodels' cluster correction is G/(G-1) (n-1)/(n-k): use_correction=True
    np.testing.assert_allclose(np.asarray(ours.bse), np.asarray(theirs.bse), rtol=1e-6)
    hc1 = sm.OrderedModel(d["o"], d[["x1", "x2"]], distr="logit").fit(cov_type="HC1")
    assert hc1.cov_type == "HC1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = smapi.MNLogit(d["o"].cat.codes, X).fit(cov_type="HC1", disp=0)
    ours = sm.MNLogit(d["o"].cat.codes, X).fit(cov_type="HC1")
    # statsmodels' MNLogit 'HC1' is its HC0 (no n / (n - k)); glmkit's is R's adjust = TRUE
    np.testing.assert_allclose(np.asarray(ours.bse),
                               np.asarray(theirs.bse) * np.sqrt(300 / (300 - 9)), rtol=1e-6)


def test_cluster_frequency_weights_equal_repeated_rows():
    d = sim()
    d["cl"] = np.arange(len(d)) % 23
    rep = d.loc[d.index.repeat(d["w"])].reset_index(drop=True)
    for kind in ("cluster", "HC1"):
        kw = {} if kind == "HC1" else {"groups": d["cl"]}
        kr = {} if kind == "HC1" else {"groups": rep["cl"]}
        a = glmkit.polr("o ~ x1 + x2 + g", d, weights="w").get_robustcov_results(kind, **kw)
        b = glmkit.polr("o ~ x1 + x2 + g", rep).get_robustcov_results(kind, **kr)
        np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
        a = glmkit.multinom("y ~ x1 + g", d, weights="w").get_robustcov_results(kind, **kw)
        b = glmkit.multinom("y ~ x1 + g", rep).get_robustcov_results(kind, **kr)
        np.testing.assert_allclose(np.asarray(a.bse), np.asarray(b.bse), rtol=1e-8)


def test_robust_errors():
    res = glmkit.polr("o ~ x1", sim())
    with pytest.raises(NotImplementedError, match="cov_type"):
        res.get_robustcov_results("HC3")
    with pytest.raises(ValueError, match="groups"):
        res.get_robustcov_results("cluster")
    with pytest.raises(ValueError, match="one label per row"):
        res.get_robustcov_results("cluster", groups=[1, 2, 3])
    with pytest.raises(ValueError, match="missing"):
        res.get_robustcov_results("cluster", groups=[np.nan] * 300)
    with pytest.raises(TypeError, match="unknown cov_kwds"):
        res.get_robustcov_results("cluster", groups=np.arange(300), df_correction=True)
    with pytest.raises(ValueError, match="only used with"):
        res.get_robustcov_results("HC1", groups=np.arange(300))
    with pytest.raises(ValueError, match="two clusters"):
        res.get_robustcov_results("cluster", groups=np.zeros(300))
    with pytest.raises(NotImplementedError, match="cov_type"):
        glmkit.zeroinfl(FB, bio()).get_robustcov_results("HC2")
