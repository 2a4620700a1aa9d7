"""glmkit.zeroinfl / glmkit.hurdle against pscl (tests/reference/models/
make_reference_counts.R), derivatives against numerical ones, frequency weights against
repeated rows, bad input."""
from __future__ import annotations

import json
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from _models_data import REF_DIR
from scipy.optimize import approx_fprime

import glmkit
from glmkit.models._countkernels import (
    binary_kernel,
    truncated_kernel,
    zero_count_kernel,
    zeroinfl_kernel,
)
from glmkit.models._multieta import Block, evaluate


@cache
def ref() -> dict:
    with open(REF_DIR / "ref_counts.json", encoding="utf-8") as fh:
        return json.load(fh)


def bio() -> pd.DataFrame:
    b = pd.read_csv(REF_DIR / "data_biochemists.csv")
    b["fem"] = pd.Categorical(b["fem"], ["Men", "Women"])
    b["mar"] = pd.Categorical(b["mar"], ["Single", "Married"])
    return b


def simdata() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "data_counts_sim.csv")


FB = "art ~ fem + mar + kid5 + phd + ment"
BIO = {
    "zip": ("zeroinfl", FB, {}),
    "zinb": ("zeroinfl", FB + " | ment + fem", {"dist": "negbin"}),
    "zigeo_probit": ("zeroinfl", "art ~ fem + kid5 + ment | ment",
                     {"dist": "geometric", "link": "probit"}),
    "zip_cloglog": ("zeroinfl", "art ~ fem + kid5 + ment | kid5 + ment", {"link": "cloglog"}),
    "hup": ("hurdle", FB, {}),
    "hunb": ("hurdle", FB + " | ment + fem", {"dist": "negbin"}),
    "hunb_zpois": ("hurdle", "art ~ fem + kid5 + ment | ment",
                   {"dist": "negbin", "zero_dist": "poisson"}),
    "hugeo_probit": ("hurdle", "art ~ fem + kid5 + ment | kid5 + ment",
                     {"dist": "geometric", "link": "probit"}),
}
SIM = {
    "zinb": ("zeroinfl", "y ~ x + g + offset(np.log(expo)) | z",
             {"dist": "negbin", "weights": "w"}),
    "zip": ("zeroinfl", "y ~ x + g + offset(np.log(expo)) | z + offset(0.2 * x)", {}),
    "hunb": ("hurdle", "y ~ x + g + offset(np.log(expo)) | z + x",
             {"dist": "negbin", "link": "cloglog", "weights": "w"}),
}
NEW_BIO = [0, 49, 299, 699, 914]
NEW_SIM = [0, 1, 2, 99, 599]


def fit(kind, formula, data, kw):
    return getattr(glmkit, kind)(formula, data, **kw)


def _check(res, R, bic=True):
    assert res.converged and res._fit.criterion < 1e-8
    se = np.array(R["se"])
    np.testing.assert_allclose(res.params.to_numpy(), R["coefficients"], rtol=1e-5)
    # R's BFGS (restarted, reltol 1e-15) ends within 1e-5 standard errors of our maximum
    assert np.all(np.abs(res.params.to_numpy() - R["coefficients"]) < 1e-5 * se)
    np.testing.assert_allclose(res.bse.to_numpy(), se, rtol=1e-6)
    np.testing.assert_allclose(res.cov_params().to_numpy(), R["vcov"], rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(res.llf, R["logLik"], rtol=1e-11)
    assert res.df == R["df"]
    np.testing.assert_allclose(res.aic, R["AIC"], rtol=1e-11)
    if bic:
        np.testing.assert_allclose(res.bic, R["BIC"], rtol=1e-11)
    if R["theta"]:
        np.testing.assert_allclose(np.atleast_1d(res.theta), np.atleast_1d(R["theta"]), rtol=1e-5)
        np.testing.assert_allclose(np.atleast_1d(res.SE_logtheta),
                                   np.atleast_1d(R["SE_logtheta"]), rtol=1e-6)
    else:
        assert res.theta is None
    if bic:  # (the same rows)
        np.testing.assert_allclose(res.fittedvalues.to_numpy(), R["fitted"], rtol=1e-5)


def _check_predict(res, R, new):
    for which in ("response", "count", "zero"):
        # atol: R's logit linkinv clamps probabilities at 2.2e-16
        np.testing.assert_allclose(res.predict(new, which=which).to_numpy(),
                                   R[f"pred_{which}"], rtol=1e-5, atol=1e-14)
    P = res.predict(new, which="prob", at=range(9))
    assert list(P.columns) == list(range(9))
    np.testing.assert_allclose(P.to_numpy(), R["pred_prob"], rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("case", list(BIO))
def test_biochemists_equals_pscl(case):
    kind, formula, kw = BIO[case]
    R = ref()["biochemists"][case]
    res = fit(kind, formula, bio(), kw)
    assert [n.split("_", 1)[0] for n in res.names] == [n.split("_", 1)[0] for n in R["names"]]
    _check(res, R)
    _check_predict(res, R, bio().iloc[NEW_BIO])


@pytest.mark.parametrize("case", ["zip", "hunb"])
def test_simulated_with_offsets_weights_factor_equals_pscl(case):
    kind, formula, kw = SIM[case]
    res = fit(kind, formula, simdata(), kw)
    assert res.names[:4] == ["count_Intercept", "count_x", "count_g[T.b]", "count_g[T.c]"]
    _check(res, ref()["sim"][case])
    _check_predict(res, ref()["sim"][case], simdata().iloc[NEW_SIM])


def test_weighted_zinb_equals_pscl_on_the_expanded_rows():
    """Frequency weight k = k copies: pscl's fit of the expanded rows is the reference
    (its weighted negbin zeroinfl stops early: its log(theta) gradient omits the
    weights). BIC differs: pscl counts rows, here 600, there 1,194."""
    kind, formula, kw = SIM["zinb"]
    res = fit(kind, formula, simdata(), kw)
    _check(res, ref()["sim"]["zinb"], bic=False)
    assert res.nobs == 600
    np.testing.assert_allclose(res.bic, -2 * res.llf + np.log(600) * 7, rtol=1e-13)


def test_pscl_weighted_zinb_logLik_is_our_likelihood_at_its_estimates():
    R = ref()["sim"]["zinb_pscl_weighted"]
    res = fit(*SIM["zinb"][:1], SIM["zinb"][1], simdata(), SIM["zinb"][2])
    inp = res.inputs
    theta = np.concatenate([R["coefficients"], [np.log(R["theta"])]])
    blocks = [Block(inp.X, inp.x_offset), Block(inp.Z, inp.z_offset), Block(None)]
    llf, score, _ = evaluate(theta, blocks, zeroinfl_kernel(inp.y, "negbin", "logit"), inp.n,
                             inp.weights)
    np.testing.assert_allclose(llf, R["logLik"], rtol=1e-12)
    assert abs(score[-1]) > 1.0 and res.llf > R["logLik"] + 0.1


def test_zero_hurdle_negbin_flat_theta():
    """theta of the zero hurdle is barely identified (SE of log theta ~22): the likelihood
    is R's or higher; coefficients agree loosely."""
    R = ref()["biochemists"]["hup_znb"]
    res = glmkit.hurdle("art ~ fem + kid5 + ment | ment + kid5", bio(), zero_dist="negbin")
    assert res.llf >= R["logLik"] - 1e-9 and res.llf - R["logLik"] < 1e-6
    np.testing.assert_allclose(res.params.to_numpy(), R["coefficients"], rtol=1e-2, atol=1e-3)


# ---------------------------------------------------------------- invariants
def _num_check(blocks, kernel, n, w, theta):
    f = lambda t: evaluate(t, blocks, kernel, n, w)[0]
    _, score, info = evaluate(theta, blocks, kernel, n, w)
    num_g = approx_fprime(theta, f, 1e-6)
    np.testing.assert_allclose(score, num_g, rtol=1e-5, atol=1e-4)
    g = lambda t: evaluate(t, blocks, kernel, n, w)[1]
    num_h = np.column_stack([(g(theta + e) - g(theta - e)) / 2e-6
                             for e in np.eye(theta.shape[0]) * 1e-6])
    np.testing.assert_allclose(-info, num_h, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dist", ["poisson", "negbin", "geometric"])
@pytest.mark.parametrize("link", ["logit", "probit", "cloglog", "cauchit", "log"])
def test_zeroinfl_derivatives_equal_numerical(dist, link):
    rng = np.random.default_rng(1)
    n = 200
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    Z = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = np.where(rng.random(n) < 0.3, 0, rng.poisson(2.0, n)).astype(float)
    w = rng.integers(1, 4, n).astype(float)
    blocks = [Block(X, rng.normal(0, .1, n)), Block(Z)] + \
        ([Block(None)] if dist == "negbin" else [])
    zeta0 = -1.5 if link == "log" else -0.5
    theta = np.array([0.5, 0.3, zeta0, 0.2] + ([0.4] if dist == "negbin" else []))
    _num_check(blocks, zeroinfl_kernel(y, dist, link), n, w, theta)


@pytest.mark.parametrize("dist", ["poisson", "negbin", "geometric"])
def test_hurdle_kernels_derivatives_equal_numerical(dist):
    rng = np.random.default_rng(2)
    n = 150
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(1.5, n).astype(float)
    extra = [Block(None)] if dist == "negbin" else []
    th = np.array([0.2, -0.3] + ([0.5] if dist == "negbin" else []))
    pos = y > 0
    _num_check([Block(X[pos])] + extra, truncated_kernel(y[pos], dist), int(pos.sum()), None,
               th)
    _num_check([Block(X)] + extra, zero_count_kernel(y, dist), n, None, th)
    for link in ("logit", "probit", "cloglog", "cauchit"):
        _num_check([Block(X)], binary_kernel(y > 0, link), n, None, th[:2])


def test_frequency_weights_equal_repeated_rows():
    d = simdata()
    kind, formula, kw = SIM["hunb"]
    a = fit(kind, formula, d, kw)
    rep = d.loc[d.index.repeat(d["w"])].reset_index(drop=True)
    b = fit(kind, formula, rep, {k: v for k, v in kw.items() if k != "weights"})
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
    np.testing.assert_allclose(a.llf, b.llf, rtol=1e-12)


def test_offset_argument_equals_offset_term():
    d = simdata()
    a = glmkit.zeroinfl("y ~ x + g + offset(np.log(expo)) | z", d)
    d2 = d.assign(lexpo=np.log(d["expo"]))
    b = glmkit.zeroinfl("y ~ x + g | z", d2, offset="lexpo")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.predict(d.iloc[:5]), b.predict(d2.iloc[:5]), rtol=1e-12)
    c = glmkit.zeroinfl("y ~ x + g | z", d, offset=np.log(d["expo"]))
    with pytest.raises(ValueError, match="offset="):
        c.predict(d.iloc[:5])
    np.testing.assert_allclose(c.predict(d.iloc[:5], offset=np.log(d["expo"][:5])),
                               a.predict(d.iloc[:5]), rtol=1e-10)


def test_prob_rows_sum_to_one_and_mean_matches_probabilities():
    res = glmkit.hurdle(FB + " | ment", bio(), dist="negbin")
    P = res.predict(bio().iloc[:20], which="prob", at=range(400))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(P.to_numpy() @ np.arange(400), res.predict(bio().iloc[:20]),
                               rtol=1e-9)
    lp = res.loglike_obs()
    np.testing.assert_allclose(lp.sum(), res.llf, rtol=1e-12)


def test_summary_and_names():
    res = glmkit.zeroinfl(FB + " | ment", bio(), dist="negbin")
    text = res.summary()
    assert "Count model coefficients (negbin" in text and "Theta" in text
    assert "zero_ment" in res.names and "count_fem[T.Women]" in res.names
    assert list(res.coefficients["zero"].index) == ["Intercept", "ment"]
    assert res.cov_params_full().shape == (9, 9)


@pytest.mark.parametrize("formula, data_change, match", [
    ("art ~ fem |", None, "zero-model formula"),
    ("art ~ fem | ment | kid5", None, "more than one"),
    ("art ~ fem", lambda d: d.assign(art=d["art"] + 0.5), "not integers"),
    ("art ~ fem", lambda d: d.assign(art=d["art"] + 1), "no zeros"),
    ("art ~ fem", lambda d: d.assign(art=-d["art"]), "negative"),
    ("nothere ~ fem", None, "not a column"),
])
def test_bad_input(formula, data_change, match):
    d = bio() if data_change is None else data_change(bio())
    with pytest.raises(ValueError, match=match):
        glmkit.zeroinfl(formula, d)


def test_bad_options():
    with pytest.raises(ValueError, match="dist"):
        glmkit.zeroinfl(FB, bio(), dist="binomial")
    with pytest.raises(ValueError, match="link"):
        glmkit.hurdle(FB, bio(), link="identity")
    with pytest.raises(ValueError, match="zero_dist"):
        glmkit.hurdle(FB, bio(), zero_dist="gamma")


def test_user_data_not_modified():
    d = bio()
    before = d.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glmkit.zeroinfl(FB, d)
    pd.testing.assert_frame_equal(d, before)


def test_hard_start_falls_back_like_pscl():
    """Every positive count of the first 500 rows is 1: the zero-truncated start runs off to
    mu = 0; the fallback (Poisson GLM start, then EM) reaches pscl's maximum, which is flat
    along zero_ment (pscl's polished fit ends 2e-3 away with the same logLik)."""
    R = ref()["biochemists"]["hard_first500"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = glmkit.zeroinfl("art ~ ment", bio().iloc[:500])
    assert res.converged
    assert res.llf >= R["logLik"] - 1e-12 and res.llf - R["logLik"] < 1e-8
    np.testing.assert_allclose(res.params.to_numpy(), R["coefficients"], rtol=1e-3)


def test_vanishing_zero_inflation_is_reported_not_certified():
    """With an intercept-only zero model the negative binomial needs no excess zeros here:
    the zero intercept runs off to -infinity and the supremum of the likelihood is MASS's
    glm.nb fit (its logLik from make_reference_counts.R). Not converged, with a warning."""
    with pytest.warns(glmkit.ConvergenceWarning, match="separated"):
        res = glmkit.zeroinfl(FB + " | 1", bio(), dist="negbin")
    assert not res.converged
    np.testing.assert_allclose(res.llf, ref()["vuong"]["nb_llf"], rtol=1e-9)
    np.testing.assert_allclose(res.theta, ref()["vuong"]["nb_theta"], rtol=1e-5)


def test_lr_test_of_nested_fits_equals_r():
    with open(REF_DIR / "ref_counts_lr.json", encoding="utf-8") as fh:
        R = json.load(fh)
    big = glmkit.zeroinfl(FB + " | ment + fem", bio(), dist="negbin")
    small = glmkit.zeroinfl(FB + " | ment", bio(), dist="negbin")
    out = big.lr_test(small)
    np.testing.assert_allclose([out["LR stat."], out["Df"], out["Pr(Chi)"]],
                               [R["stat"], R["df"], R["p"]], rtol=1e-6)
    with pytest.raises(ValueError, match="fewer"):
        small.lr_test(big)
