"""glmkit's inference layer compared with R.

Every expected value in this module comes from the JSON files in
``tests/reference/inference/``, which are written by
``tests/reference/inference/make_reference.R`` (R 4.2 ``glm()`` fits polished
to 1e-13, the sandwich package, MASS, stats).  The data sets are the
``data_<case>.csv`` / ``newdata_<case>.csv`` files next to them.  To
regenerate, run ``Rscript make_reference.R`` inside that folder; see its
README.md for what each key means and for R's conventions.

Conventions of the reference files:

* the design is ``const`` (intercept) followed by ``x_cols`` (x1, x2, x3);
  the nested models are ``const + x1`` and ``const + x1 + x2``;
* ``offset_col`` / ``var_weights_col`` / ``freq_weights_col`` name the CSV
  columns to pass as ``offset`` / ``var_weights`` / ``freq_weights``;
* ``cluster_cols`` (g1, g2) are the clustering variables;
* the frequency-weight case (``expanded: true``) was fitted by R on the
  expanded data (row i repeated fw[i] times); glmkit fits the compact CSV with
  ``freq_weights=fw``.  Per-observation values are those of one copy of the
  row in the expanded data;
* negative binomial (fixed theta = 2): every value uses dispersion 1, like
  glmkit's default fit (R's own estimated-dispersion values are kept in the
  JSON under ``r_default_estimated_dispersion`` and are not tested);
* for gaussian, Gamma and inverse Gaussian R uses the Pearson dispersion
  estimate (``dispersion`` key), which is glmkit's default scale.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import glmkit
import glmkit.api as sm

import _reference  # noqa: E402  (tests/_reference.py)

REF_DIR = Path(__file__).parent / "reference" / "inference"
REF_FILES = sorted(REF_DIR.glob("ref_*.json"))
CASES = [p.stem[len("ref_"):] for p in REF_FILES]

RTOL = 1e-5
ATOL = 1e-12          # only so that exact zeros compare equal
RTOL_PROFILE = 1e-5

LINKS = _reference.LINKS

# inverse links, used to turn R's link-scale intervals into mean-scale ones
LINKINV = {
    "identity": lambda eta: eta,
    "log": np.exp,
    "logit": lambda eta: 1.0 / (1.0 + np.exp(-eta)),
    "probit": stats.norm.cdf,
    "inverse": lambda eta: 1.0 / eta,
}


# ---------------------------------------------------------------------------
# loading the reference cases
# ---------------------------------------------------------------------------

def load_ref(case: str) -> dict:
    return _reference.load_ref(REF_DIR, case)


make_family = _reference.make_family


@lru_cache(maxsize=None)
def load_frame(case: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / load_ref(case)["data_file"])


@lru_cache(maxsize=None)
def load_data(case: str):
    """(endog, exog with const + x_cols, model kwargs) for a reference case."""
    ref = load_ref(case)
    df = load_frame(case)
    endog = df[ref["response_cols"][0]].to_numpy(dtype=float)
    exog = df[ref["x_cols"]].astype(float)
    exog.insert(0, "const", 1.0)
    kwargs = {}
    for key, arg in [
        ("offset_col", "offset"),
        ("exposure_col", "exposure"),
        ("var_weights_col", "var_weights"),
        ("freq_weights_col", "freq_weights"),
    ]:
        col = ref.get(key)
        if col is not None:
            kwargs[arg] = df[col].to_numpy(dtype=float)
    return endog, exog, kwargs


def groups(case: str, *cols: str) -> np.ndarray:
    df = load_frame(case)
    if len(cols) == 1:
        return df[cols[0]].to_numpy()
    return np.column_stack([df[c].to_numpy() for c in cols])


def make_model(case: str, cols: tuple[str, ...] | None = None):
    ref = load_ref(case)
    endog, exog, kwargs = load_data(case)
    if cols is not None:
        exog = exog[list(cols)]
    return sm.GLM(endog, exog, family=make_family(ref["family_spec"]), **kwargs)


@lru_cache(maxsize=None)
def fit_case(case: str, cols: tuple[str, ...] | None = None):
    """Default (nonrobust) fit; cols selects a nested model's columns."""
    return make_model(case, cols).fit()


SMALL = ("const", "x1")
MID = ("const", "x1", "x2")


def newdata(case: str):
    ref = load_ref(case)
    nd = pd.read_csv(REF_DIR / ref["newdata_file"])
    exog = nd[ref["x_cols"]].astype(float)
    exog.insert(0, "const", 1.0)
    offset = nd["offset"].to_numpy(dtype=float) if "offset" in nd else None
    return exog, offset


# ---------------------------------------------------------------------------
# comparison helpers
# ---------------------------------------------------------------------------

def check(actual, expected, what: str, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=rtol,
        atol=ATOL,
        err_msg=what,
    )


def ref_vector(ref: dict, key: str) -> np.ndarray:
    """Named R coefficients (dict) in the order of ref['param_names']."""
    return np.array([ref[key][name] for name in ref["param_names"]], dtype=float)


def ref_named(ref: dict, d: dict) -> np.ndarray:
    return np.array([d[name] for name in ref["param_names"]], dtype=float)


def check_table(actual: pd.DataFrame, expected: dict, what: str) -> None:
    """Compare a glmkit anova DataFrame with an R table {index, columns, data}."""
    assert isinstance(actual, pd.DataFrame), f"{what}: not a DataFrame"
    assert [str(i) for i in actual.index] == expected["index"], f"{what}: index"
    assert list(actual.columns) == expected["columns"], f"{what}: columns"
    for col in expected["columns"]:
        exp = np.array([np.nan if v is None else v for v in expected["data"][col]], dtype=float)
        np.testing.assert_allclose(
            actual[col].to_numpy(dtype=float), exp, rtol=RTOL, atol=ATOL,
            equal_nan=True, err_msg=f"{what}: column {col!r}")


def scalar(x) -> float:
    return float(np.squeeze(np.asarray(x, dtype=float)))


def case_ids(pred):
    return [c for c in CASES if pred(load_ref(c))]


COMPACT_CASES = case_ids(lambda r: not r["expanded"])
EXPANDED_CASES = case_ids(lambda r: r["expanded"])
FIXED_CASES = case_ids(lambda r: r["dispersion_fixed"])
ESTIMATED_CASES = case_ids(lambda r: not r["dispersion_fixed"])
OFFSET_CASES = case_ids(lambda r: r["offset_col"] is not None)
PSEUDO_CASES = case_ids(lambda r: r["pseudo_rsquared"] is not None)
EXP_CASES = case_ids(lambda r: r["exp_params"] is not None)


def _anova_params(kind: str):
    out = []
    for c in CASES:
        for test in load_ref(c)[kind] if kind == "anova_sequential" else load_ref(c)[kind]["three"]:
            out.append((c, test))
    return out


# ---------------------------------------------------------------------------
# 1. robust covariances
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("case", CASES)
def test_robust_cov_hc(case, cov_type):
    """fit(cov_type='HC0'...'HC3') vs sandwich::vcovHC(fit, type).

    Expected values: tests/reference/inference/make_reference.R.  R's bread is
    the expected-information (X'WX)^-1 and the scores are
    working residual * working weight * x_i; the dispersion cancels.  HC1 is
    HC0 * n/(n-k); HC2/HC3 divide the squared score by (1-h_i) / (1-h_i)^2 with
    the IRLS hat values.  Frequency-weight case: n and h_i are those of the
    expanded data (one copy of a row).
    """
    ref = load_ref(case)
    res = make_model(case).fit(cov_type=cov_type)
    exp = np.asarray(ref["robust"][cov_type], dtype=float)
    check(res.cov_params(), exp, f"{cov_type} cov_params")
    check(res.bse, np.sqrt(np.diag(exp)), f"{cov_type} bse")
    check(res.params, ref_vector(ref, "params"), "params")


@pytest.mark.parametrize("case", CASES)
def test_get_robustcov_results_hc3(case):
    """res.get_robustcov_results('HC3') returns new results equal to vcovHC(type='HC3').

    Expected values: tests/reference/inference/make_reference.R.  The original
    results keep R's nonrobust vcov (summary.glm, NB with dispersion 1).
    """
    ref = load_ref(case)
    res = make_model(case).fit()
    rob = res.get_robustcov_results("HC3")
    exp = np.asarray(ref["robust"]["HC3"], dtype=float)
    check(rob.cov_params(), exp, "HC3 cov_params")
    check(rob.bse, np.sqrt(np.diag(exp)), "HC3 bse")
    check(res.bse, ref_vector(ref, "bse"), "original results changed")


@pytest.mark.parametrize("case", CASES)
def test_cluster_one_way(case):
    """cov_type='cluster', groups=g1 vs sandwich::vcovCL(fit, cluster = ~g1) with its defaults.

    Expected values: tests/reference/inference/make_reference.R.  For a glm
    object vcovCL()'s default type is "HC0" ("HC1" only for class "lm"), with
    cadjust = TRUE: V = G/(G-1) * bread meat bread, no (n-1)/(n-k) factor.
    (statsmodels' default cluster correction, G/(G-1) * (n-1)/(n-k), equals
    vcovCL(type = "HC1"); stored as robust.cluster_g1_HC1, not tested.)
    """
    ref = load_ref(case)
    res = make_model(case).fit(cov_type="cluster", cov_kwds={"groups": groups(case, "g1")})
    exp = np.asarray(ref["robust"]["cluster_g1"], dtype=float)
    check(res.cov_params(), exp, "cluster cov_params")
    check(res.bse, np.sqrt(np.diag(exp)), "cluster bse")


@pytest.mark.parametrize("case", CASES)
def test_cluster_two_way(case):
    """Two-way clustering (g1, g2) vs vcovCL(fit, cluster = ~ g1 + g2) with its defaults.

    Expected values: tests/reference/inference/make_reference.R.  V = V_g1 +
    V_g2 - V_g1:g2, each term with its own G/(G-1) (G of g1, of g2, and of the
    g1 x g2 intersection), type "HC0", multi0 = FALSE.  The type = "HC1"
    version (times (n-1)/(n-k)) is stored as robust.cluster_g1_g2_HC1.
    """
    ref = load_ref(case)
    g = groups(case, "g1", "g2")
    res = make_model(case).fit(cov_type="cluster", cov_kwds={"groups": g})
    exp = np.asarray(ref["robust"]["cluster_g1_g2"], dtype=float)
    check(res.cov_params(), exp, "two-way cluster cov_params")
    check(res.bse, np.sqrt(np.diag(exp)), "two-way cluster bse")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("cols", [("g1",), ("g1", "g2")], ids=["one_way", "two_way"])
def test_cluster_use_correction_is_vcovcl_hc1(case, cols):
    """statsmodels' cov_kwds use_correction=True (its default) vs vcovCL(type = "HC1"):
    G/(G-1) per clustering dimension times (n-1)/(n-k).

    Expected values: tests/reference/inference/make_reference.R (robust.cluster_g1_HC1,
    robust.cluster_g1_g2_HC1).
    """
    ref = load_ref(case)
    key = "cluster_" + "_".join(cols) + "_HC1"
    res = make_model(case).fit(cov_type="cluster", cov_kwds={
        "groups": groups(case, *cols), "use_correction": True})
    exp = np.asarray(ref["robust"][key], dtype=float)
    check(res.cov_params(), exp, f"{key} cov_params")


# ---------------------------------------------------------------------------
# 2. predictions
# ---------------------------------------------------------------------------

def _expected_ci(ref, eta, se_eta, which, q):
    lo, hi = eta - q * se_eta, eta + q * se_eta
    if which == "linear":
        return np.column_stack([lo, hi])
    inv = LINKINV[ref["family_spec"]["link"]]
    a, b = inv(lo), inv(hi)
    return np.column_stack([np.minimum(a, b), np.maximum(a, b)])


@pytest.mark.parametrize("which", ["mean", "linear"])
@pytest.mark.parametrize("case", CASES)
def test_predict_insample(case, which):
    """get_prediction() (in-sample, includes the model offset) vs predict.glm(fit, se.fit = TRUE).

    Expected values: tests/reference/inference/make_reference.R (type = "response"
    for which='mean', "link" for 'linear').  conf_int: link-scale Wald interval
    eta +- q * se(eta) with q = qnorm(0.975) (dispersion fixed) or
    qt(0.975, df.residual) (dispersion estimated), mapped through the inverse
    link for 'mean' and sorted so that lower <= upper.  The interval is built
    here from R's predict.glm() numbers and the quantile R used (ci_q).
    """
    ref = load_ref(case)
    pin = ref["predict_insample"]
    res = fit_case(case)
    p = res.get_prediction(which=which)
    exp = pin["mean" if which == "mean" else "linear"]
    check(p.predicted, exp["predicted"], "predicted")
    check(p.se, exp["se"], "se")
    ci = _expected_ci(ref, np.asarray(pin["linear"]["predicted"]),
                      np.asarray(pin["linear"]["se"]), which, pin["ci_q"])
    check(np.asarray(p.conf_int(alpha=0.05)), ci, "conf_int")
    if which == "mean":
        # statsmodels' column names: mean, mean_se, ... for the default which=None;
        # predicted, se, ci_lower, ci_upper when which is given
        np.testing.assert_array_equal(p.summary_frame(alpha=0.05).columns,
                                      ["predicted", "se", "ci_lower", "ci_upper"])
        sf = res.get_prediction().summary_frame(alpha=0.05)
        for col in ["mean", "mean_se", "mean_ci_lower", "mean_ci_upper"]:
            assert col in sf.columns, col
        check(sf["mean"], exp["predicted"], "summary_frame mean")
        check(sf["mean_se"], exp["se"], "summary_frame mean_se")
        check(sf["mean_ci_lower"], ci[:, 0], "summary_frame mean_ci_lower")
        check(sf["mean_ci_upper"], ci[:, 1], "summary_frame mean_ci_upper")


@pytest.mark.parametrize("which", ["mean", "linear"])
@pytest.mark.parametrize("case", CASES)
def test_predict_newdata(case, which):
    """get_prediction(exog=new rows, offset=...) vs predict.glm(fit, newdata, se.fit = TRUE).

    Expected values: tests/reference/inference/make_reference.R.  The interval
    for which='mean' is R's link-scale Wald interval mapped by linkinv and
    sorted (lower <= upper; the inverse link is decreasing for Gamma inverse),
    with qnorm when the dispersion is fixed and qt(df.residual) when it is
    estimated.
    """
    ref = load_ref(case)
    pn = ref["predict_new"]
    exog, offset = newdata(case)
    kw = {"offset": offset} if offset is not None else {}
    res = fit_case(case)
    p = res.get_prediction(exog=exog, which=which, **kw)
    exp = pn["mean" if which == "mean" else "linear"]
    check(p.predicted, exp["predicted"], "predicted")
    check(p.se, exp["se"], "se")
    kind = "norm" if ref["dispersion_fixed"] else "t"
    ci = np.column_stack([exp[f"ci_{kind}_lower"], exp[f"ci_{kind}_upper"]])
    check(np.asarray(p.conf_int(alpha=0.05)), ci, f"conf_int ({kind})")
    if which == "mean":
        sf = res.get_prediction(exog=exog, **kw).summary_frame(alpha=0.05)
        check(sf["mean"], exp["predicted"], "summary_frame mean")
        check(sf["mean_se"], exp["se"], "summary_frame mean_se")
        check(sf["mean_ci_lower"], ci[:, 0], "summary_frame mean_ci_lower")
        check(sf["mean_ci_upper"], ci[:, 1], "summary_frame mean_ci_upper")


@pytest.mark.parametrize("case", OFFSET_CASES)
def test_predict_newdata_exposure(case):
    """exposure = exp(offset) gives R's predict.glm(newdata) values (log link).

    Expected values: tests/reference/inference/make_reference.R (R used the
    newdata's offset column).
    """
    ref = load_ref(case)
    exog, offset = newdata(case)
    res = fit_case(case)
    p = res.get_prediction(exog=exog, exposure=np.exp(offset), which="mean")
    check(p.predicted, ref["predict_new"]["mean"]["predicted"], "predicted")
    check(p.se, ref["predict_new"]["mean"]["se"], "se")


# ---------------------------------------------------------------------------
# 3. influence
# ---------------------------------------------------------------------------

def _check_influence(case):
    ref = load_ref(case)
    exp = ref["influence"]
    inf = fit_case(case).get_influence()
    im = inf.influence_measures()
    check(inf.hatvalues, exp["hat"], "hatvalues")
    check(im["hat"], exp["hat"], "influence_measures hat")
    check(im["cook.d"], exp["cooks_distance"], "influence_measures cook.d (cooks.distance)")
    check(inf.rstandard("deviance"), exp["rstandard_deviance"], "rstandard deviance")
    check(inf.resid_standardized_deviance, exp["rstandard_deviance"],
          "resid_standardized_deviance (rstandard deviance)")
    check(inf.rstandard("pearson"), exp["rstandard_pearson"], "rstandard pearson")
    check(inf.resid_standardized_pearson, exp["rstandard_pearson"],
          "resid_standardized_pearson (rstandard pearson)")
    check(inf.rstudent(), exp["rstudent"], "rstudent")
    dfb = im[[c for c in im.columns if c.startswith("dfb.")]].to_numpy()
    check(dfb, exp["dfbetas"], "influence_measures dfb (dfbetas)")
    check(inf.dffits[0], exp["dffits"], "dffits")
    check(im["dffit"], exp["dffits"], "influence_measures dffit")
    check(inf.cov_ratio, exp["covratio"], "cov_ratio (covratio)")
    check(im["cov.r"], exp["covratio"], "influence_measures cov.r")
    # statsmodels' names with the expected Hessian are R's hat, Cook's distance and
    # rstandard(type='pearson') (same formulas once h is the same)
    sm_inf = fit_case(case).get_influence(observed=False)
    fw = np.asarray(sm_inf._fw)
    check(np.asarray(sm_inf.hat_matrix_diag) / fw, exp["hat"], "hat_matrix_diag expected / fw")
    if np.all(fw == 1):
        check(sm_inf.cooks_distance[0], exp["cooks_distance"], "cooks_distance, expected")
        check(sm_inf.resid_studentized, exp["rstandard_pearson"], "resid_studentized, expected")


@pytest.mark.parametrize("case", COMPACT_CASES)
def test_influence(case):
    """R's names of get_influence() vs hatvalues, cooks.distance, rstandard, rstudent, dfbetas,
    dffits, covratio.

    Expected values: tests/reference/inference/make_reference.R.  R's
    conventions for a glm (see the README): h from the IRLS weights;
    cooks = (pearson/(1-h))^2 h / (phi k); rstandard = r / sqrt(phi (1-h));
    rstudent = sign(d) sqrt(d^2 + h p^2/(1-h)), divided by sigma_(i) unless the
    family is binomial or poisson; sigma_(i)^2 = (sum d^2 - d_i^2/(1-h_i)) /
    (n-k-1) from the DEVIANCE residuals d; dfbeta_i = (X'WX)^-1 x_i sqrt(w_i)
    d_i/(1-h_i) (deviance residuals again); dfbetas = dfbeta / (sigma_(i)
    sqrt(diag (X'WX)^-1)); dffits = d sqrt(h) / (sigma_(i) (1-h));
    covratio = (sigma_(i)/s)^(2k) / (1-h), s^2 = sum d^2/(n-k).
    """
    _check_influence(case)


@pytest.mark.parametrize("case", EXPANDED_CASES)
def test_influence_freq_weights_per_copy(case):
    """Influence measures of the frequency-weight case, per copy of a row.

    Expected values: tests/reference/inference/make_reference.R, R fitted on the
    expanded data: each value is that of ONE copy of the CSV row (deleting one
    unit, not the whole weighted row), n is sum(fw).  For example the hat
    value is w_i x_i'(X'WX)^-1 x_i without the factor fw_i.
    """
    _check_influence(case)


# ---------------------------------------------------------------------------
# 4. analysis of deviance
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case,test", _anova_params("anova_sequential"))
def test_anova_sequential(case, test):
    """glmkit.anova(res, test=...) and res.anova(test=...) vs anova(fit, test = ...).

    Expected values: tests/reference/inference/make_reference.R (stats:::anova.glm
    with polished sub-model fits).  Terms x1, x2, x3 added in order; rows
    NULL, x1, x2, x3.  Chisq: p = pchisq(Deviance/phi, Df).  F: F =
    Deviance/Df/phi, p = pf(F, Df, df.residual) (dispersion families only).
    Rao: score statistic at the previous model (expected information),
    p = pchisq(Rao/phi, Df); phi is the dispersion of the FULL model (NB: 1).
    """
    ref = load_ref(case)
    exp = ref["anova_sequential"][test]
    res = fit_case(case)
    check_table(glmkit.anova(res, test=test), exp, f"glmkit.anova(res, test={test!r})")
    check_table(res.anova(test=test), exp, f"res.anova(test={test!r})")


@pytest.mark.parametrize("case,test", _anova_params("anova_nested"))
def test_anova_nested(case, test):
    """glmkit.anova(small, mid, big, test=...) (and (small, big), Chisq) vs anova(fit1, fit2, fit3, test = ...).

    Expected values: tests/reference/inference/make_reference.R
    (stats:::anova.glmlist).  Models: const+x1, const+x1+x2, full.  Rows "1",
    "2", ("3"); columns Resid. Df, Resid. Dev, Df, Deviance, then the test.  The
    dispersion (Chisq/LRT/F/Rao) is that of the biggest model; F uses
    df.residual of the biggest model.  Rao is computed at the smaller model of
    each pair.
    """
    ref = load_ref(case)
    nested = ref["anova_nested"]
    small, mid, big = fit_case(case, SMALL), fit_case(case, MID), fit_case(case)
    check_table(glmkit.anova(small, mid, big, test=test), nested["three"][test],
                f"anova(small, mid, big, test={test!r})")
    if test in nested["two"]:
        check_table(glmkit.anova(small, big, test=test), nested["two"][test],
                    f"anova(small, big, test={test!r})")


# ---------------------------------------------------------------------------
# 5. Wald, t, LR and score tests
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", FIXED_CASES)
def test_wald_test(case):
    """wald_test('x1 = 0, x2 = x3', scalar=True) vs W = (Rb)'(R V R')^-1 (Rb), pchisq(W, 2).

    Expected values: tests/reference/inference/make_reference.R (computed from
    coef(fit) and vcov(fit), dispersion 1 here).  Chi-square form: df_denom = 2
    (statsmodels' convention for a chi2 Wald test).  Both the string and the
    R-matrix form of the constraints.
    """
    ref = load_ref(case)
    exp = ref["wald_test"]
    res = fit_case(case)
    w = res.wald_test("x1 = 0, x2 = x3", scalar=True)
    check(scalar(w.statistic), exp["statistic"], "statistic (string constraints)")
    check(scalar(w.pvalue), exp["pvalue"], "pvalue (string constraints)")
    wm = res.wald_test(np.array(exp["r_matrix"], dtype=float), scalar=True)
    check(scalar(wm.statistic), exp["statistic"], "statistic (R matrix)")
    check(scalar(wm.pvalue), exp["pvalue"], "pvalue (R matrix)")
    assert scalar(w.df_denom) == exp["df"], "df_denom of a chi2 Wald test"


@pytest.mark.parametrize("case", CASES)
def test_wald_test_chi2_and_f(case):
    """wald_test(..., use_f=False) and (..., use_f=True) vs W and W/2 computed in R.

    Expected values: tests/reference/inference/make_reference.R.  V = vcov(fit)
    (Pearson dispersion for gaussian/Gamma/inverse Gaussian, 1 otherwise).
    use_f=False: statistic W, p = pchisq(W, 2), df_denom = 2.  use_f=True:
    statistic W/2, p = pf(W/2, 2, df.residual), df_denom = df.residual.
    """
    ref = load_ref(case)
    exp = ref["wald_test"]
    res = fit_case(case)
    w = res.wald_test("x1 = 0, x2 = x3", use_f=False, scalar=True)
    check(scalar(w.statistic), exp["statistic"], "chi2 statistic")
    check(scalar(w.pvalue), exp["pvalue"], "chi2 pvalue")
    f = res.wald_test("x1 = 0, x2 = x3", use_f=True, scalar=True)
    check(scalar(f.statistic), exp["F_statistic"], "F statistic")
    check(scalar(f.pvalue), exp["F_pvalue"], "F pvalue")
    assert scalar(f.df_denom) == exp["F_df_denom"], "df_denom of the F form"
    assert scalar(w.df_denom) == exp["df"], "df_denom of a chi2 Wald test"


@pytest.mark.parametrize("case", CASES)
def test_t_test(case):
    """t_test('x1 = 0') vs coef/se of summary.glm(fit).

    Expected values: tests/reference/inference/make_reference.R.  effect, sd,
    tvalue for every case.  The p-value is 2*pnorm(-|z|) when the dispersion
    is fixed and R's summary.glm p-value 2*pt(-|t|, df.residual) when it is
    estimated (the JSON holds both).
    """
    ref = load_ref(case)
    exp = ref["t_test"]
    t = fit_case(case).t_test("x1 = 0")
    check(scalar(t.effect), exp["effect"], "effect")
    check(scalar(t.sd), exp["sd"], "sd")
    check(scalar(t.tvalue), exp["tvalue"], "tvalue")
    key = "pvalue_norm" if ref["dispersion_fixed"] else "pvalue_t"
    check(scalar(t.pvalue), exp[key], key)
    check(exp[key], exp["summary_glm_pvalue"], "reference consistency")


@pytest.mark.parametrize("case", CASES)
def test_lr_test(case):
    """glmkit.lr_test(small, big) vs anova(fit_small, fit_big, test = 'LRT').

    Expected values: tests/reference/inference/make_reference.R.  statistic =
    (D_small - D_big) / phi with phi the big model's dispersion (1 for
    binomial/poisson/NB, Pearson estimate otherwise); df = 2;
    p = pchisq(statistic, df), R's Pr(>Chi).
    """
    ref = load_ref(case)
    exp = ref["lr_test"]
    lr = glmkit.lr_test(fit_case(case, SMALL), fit_case(case))
    check(scalar(lr.statistic), exp["statistic"], "statistic")
    check(scalar(lr.df), exp["df"], "df")
    check(scalar(lr.pvalue), exp["pvalue"], "pvalue")


@pytest.mark.parametrize("case", CASES)
def test_score_test(case):
    """model.score_test(params_small, exog_extra=[x2, x3]) vs anova(small, big, test = 'Rao').

    Expected values: tests/reference/inference/make_reference.R.  R's Rao
    statistic is U'I^-1U at the small model with the EXPECTED information
    (IRLS weights), divided by the dispersion of the BIG model (Pearson
    estimate for gaussian/Gamma/inverse Gaussian; statsmodels divides by the
    small model's scale instead).  Returns (statistic, pvalue, df).
    """
    ref = load_ref(case)
    exp = ref["score_test"]
    small = fit_case(case, SMALL)
    _, exog, _ = load_data(case)
    extra = exog[exp["exog_extra"]].to_numpy(dtype=float)
    stat, pvalue, df = small.model.score_test(small.params, exog_extra=extra)
    check(scalar(stat), exp["statistic"], "statistic")
    check(scalar(pvalue), exp["pvalue"], "pvalue")
    check(scalar(df), exp["df"], "df")


# ---------------------------------------------------------------------------
# 6. confidence intervals
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["0.95", "0.9"])
@pytest.mark.parametrize("case", CASES)
def test_profile_conf_int(case, level):
    """conf_int(method='profile') vs MASS::confint(fit, level) (MASS:::confint.glm, R 4.2).

    Expected values: tests/reference/inference/make_reference.R.  MASS profiles
    z(b) = sign(b - bhat) sqrt((D(b) - D(bhat)) / phi) (phi = summary()$dispersion:
    Pearson for gaussian/Gamma/inverse Gaussian, 1 otherwise) on a grid of up
    to 10 steps of zmax/5 standard errors per side, and reads the interval off
    spline() + approx() at z = qnorm(alpha/2), qnorm(1 - alpha/2) (qnorm for
    every family).  Negative binomial: the fit as glm.nb() would return it
    (dispersion 1; the "Negative Binomial(2)" family name sends MASS to its
    qf-based zmax).  The grid interpolation is off the exact root
    (profile_ci_exact) by up to 4e-4 relative; see test_profile_conf_int_exact.
    """
    ref = load_ref(case)
    exp = ref["profile_ci"][level]
    ci = np.asarray(fit_case(case).conf_int(alpha=1 - float(level), method="profile"),
                    dtype=float)
    expected = np.column_stack([ref_named(ref, exp["lower"]), ref_named(ref, exp["upper"])])
    check(ci, expected, f"profile interval, level {level}", rtol=RTOL_PROFILE)


@pytest.mark.parametrize("level", ["0.95", "0.9"])
@pytest.mark.parametrize("case", CASES)
def test_profile_conf_int_exact(case, level):
    """conf_int(method='profile') is within 1e-3 of the exact root of MASS's profile equation.

    Expected values: tests/reference/inference/make_reference.R (uniroot() on
    polished restricted fits, same z(b), phi and qnorm cutoff as MASS).  The
    loose tolerance allows for MASS's spline interpolation.
    """
    ref = load_ref(case)
    exp = ref["profile_ci_exact"][level]
    ci = np.asarray(fit_case(case).conf_int(alpha=1 - float(level), method="profile"),
                    dtype=float)
    expected = np.column_stack([ref_named(ref, exp["lower"]), ref_named(ref, exp["upper"])])
    check(ci, expected, f"exact profile interval, level {level}", rtol=1e-3)


@pytest.mark.parametrize("case", FIXED_CASES)
def test_wald_conf_int(case):
    """conf_int(alpha=0.05) (Wald) vs confint.default(fit): b +- qnorm(0.975) * se.

    Expected values: tests/reference/inference/make_reference.R.  Only the
    fixed-dispersion cases: for gaussian/Gamma/inverse Gaussian R's
    confint.default() still uses qnorm, while summary.glm() tests with
    t(df.residual); both intervals are stored (wald_ci, wald_ci_t).
    """
    ref = load_ref(case)
    ci = np.asarray(fit_case(case).conf_int(alpha=0.05), dtype=float)
    expected = np.column_stack([ref_named(ref, ref["wald_ci"]["lower"]),
                                ref_named(ref, ref["wald_ci"]["upper"])])
    check(ci, expected, "Wald interval")


# ---------------------------------------------------------------------------
# 7.-9. information criteria, pseudo R^2, exponentiated coefficients
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_info_criteria_r(case):
    """info_criteria('R') vs AIC(fit), BIC(fit), logLik(fit) and its df attribute.

    Expected values: tests/reference/inference/make_reference.R.  df = rank (+1
    for gaussian, Gamma, inverse Gaussian); BIC uses nobs(fit) = number of
    rows with non-zero prior weight (sum(fw) for the expanded case).  For the
    dispersion families R's logLik plugs in its own scale estimate (gaussian:
    deviance/n; Gamma and inverse Gaussian: deviance/sum(weights)).
    """
    ref = load_ref(case)
    exp = ref["info_criteria"]
    ic = fit_case(case).info_criteria("R")
    check(ic["aic"], exp["aic"], "aic")
    check(ic["bic"], exp["bic"], "bic")
    check(ic["llf"], exp["llf"], "llf")
    check(ic["df"], exp["df"], "df")


@pytest.mark.parametrize("case", PSEUDO_CASES)
def test_pseudo_rsquared(case):
    """pseudo_rsquared('mcf'/'cs') vs 1 - logLik/logLik0 and 1 - exp(2 (logLik0 - logLik)/n).

    Expected values: tests/reference/inference/make_reference.R (logLik of the
    intercept-only model with the same offset/weights; n = nobs(fit)).
    """
    ref = load_ref(case)
    exp = ref["pseudo_rsquared"]
    res = fit_case(case)
    check(res.pseudo_rsquared("mcf"), exp["mcf"], "McFadden")
    check(res.pseudo_rsquared("cs"), exp["cs"], "Cox-Snell")


@pytest.mark.parametrize("case", EXP_CASES)
def test_exp_params(case):
    """exp_params(alpha=0.05) vs exp(cbind(coef(fit), confint.default(fit))).

    Expected values: tests/reference/inference/make_reference.R (Wald intervals
    with qnorm; negative binomial with dispersion 1).
    """
    ref = load_ref(case)
    exp = ref["exp_params"]
    tab = fit_case(case).exp_params(alpha=0.05)
    assert list(tab.columns) == ["exp(coef)", "lower", "upper"]
    assert [str(i) for i in tab.index] == exp["index"]
    for col in ["exp(coef)", "lower", "upper"]:
        check(tab[col], exp[col], col)


def test_reference_files_present():
    """The R reference set (tests/reference/inference/make_reference.R) is complete."""
    assert len(CASES) >= 9
    for case in CASES:
        ref = load_ref(case)
        assert (REF_DIR / ref["data_file"]).is_file(), ref["data_file"]
        assert (REF_DIR / ref["newdata_file"]).is_file(), ref["newdata_file"]
