"""glmkit.checks against R (tests/reference/checks/make_reference.R: a base-R transcription
of ResourceSelection::hoslem.test, AER::dispersiontest, countreg's rootogram frequencies)
and scikit-learn's metrics."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
from glmkit import checks as C

REF = Path(__file__).parent / "reference" / "checks"
RHS_BW = "age + lwt + C(race, Treatment('white')) + smoke + ptl + ht + ui"
RHS_RD = "quality + ski + income + userfee + costC + costS + costH"


@pytest.fixture(scope="module")
def ref():
    with open(REF / "checks.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def bw_fit():
    bw = pd.read_csv(REF / "birthwt.csv")
    return glmkit.glm("low ~ " + RHS_BW, bw, family=glmkit.families.Binomial()).fit()


@pytest.fixture(scope="module")
def rd_fit():
    rd = pd.read_csv(REF / "recreation.csv")
    return glmkit.glm("trips ~ " + RHS_RD, rd, family=glmkit.families.Poisson()).fit()


def test_binomial_checks_equal_r_on_r_fitted_values(ref):
    b = ref["binomial"]
    y = pd.read_csv(REF / "birthwt.csv")["low"].to_numpy()
    p = np.array(b["fitted"])
    for g, key in ((10, "hoslem_g10"), (5, "hoslem_g5")):
        hl = C.hosmer_lemeshow(y, p, g)
        assert hl.statistic == pytest.approx(b[key]["statistic"], rel=1e-12)
        assert hl.pvalue == pytest.approx(b[key]["p_value"], rel=1e-10)
        assert hl.df == b[key]["parameter"]
        np.testing.assert_allclose(hl.table["n"], b[key]["n"])
        np.testing.assert_allclose(hl.table["events"], b[key]["observed1"])
        np.testing.assert_allclose(hl.table["expected"], b[key]["expected1"], rtol=1e-12)
    assert C.brier_score(y, p) == pytest.approx(b["brier"], rel=1e-12)
    assert C.log_loss(y, p) == pytest.approx(b["log_loss"], rel=1e-12)
    assert C.roc_auc(y, p) == pytest.approx(b["auc"], rel=1e-12)
    np.testing.assert_array_equal(C.confusion_table(y, p).to_numpy().ravel(order="F"),
                                  b["confusion_05"])


def test_binomial_results_checks(ref, bw_fit):
    b = ref["binomial"]
    ch = bw_fit.checks()
    assert ch.hosmer_lemeshow().statistic == pytest.approx(b["hoslem_g10"]["statistic"],
                                                           rel=1e-7)
    assert ch.roc_auc() == pytest.approx(b["auc"], rel=1e-12)
    assert ch.d2_score() == pytest.approx(b["d2"], rel=1e-9)
    assert ch.d2_score() == pytest.approx(1 - bw_fit.deviance / bw_fit.null_deviance,
                                          rel=1e-12)


def test_count_checks_equal_r(ref, rd_fit):
    c = ref["counts"]
    y = pd.read_csv(REF / "recreation.csv")["trips"].to_numpy()
    mu = np.array(c["fitted"])
    for trafo, key in ((None, "disp_default"), (1, "disp_trafo1"), (2, "disp_trafo2")):
        d = C.dispersion_test(y, mu, trafo)
        assert d.statistic == pytest.approx(c[key]["statistic"], rel=1e-12)
        assert d.pvalue == pytest.approx(c[key]["p_value"], rel=1e-10)
        assert d.estimate == pytest.approx(c[key]["estimate"], rel=1e-12)
    d = C.dispersion_test(y, mu, alternative="two.sided")
    assert d.pvalue == pytest.approx(c["disp_two_sided"]["p_value"], rel=1e-10)
    d = C.dispersion_test(y, mu, trafo=lambda m: m ** 2)
    assert d.statistic == pytest.approx(c["disp_trafo2"]["statistic"], rel=1e-12)
    rt = C.rootogram(y, mu)
    np.testing.assert_array_equal(rt["observed"], c["root_observed"])
    np.testing.assert_allclose(rt["expected"], c["root_expected"], rtol=1e-12, atol=1e-300)
    m = C.count_moments(y, mu)
    assert m.loc["mean", "observed"] == pytest.approx(c["obs_mean"], rel=1e-14)
    assert m.loc["variance", "observed"] == pytest.approx(c["obs_var"], rel=1e-14)
    # Poisson mixture: E V(mu) + Var(mu) = mean(mu) + var(mu) (population)
    assert m.loc["variance", "predicted"] == pytest.approx(mu.mean() + mu.var(), rel=1e-14)
    assert m.loc["zeros", "predicted"] == pytest.approx(np.mean(np.exp(-mu)), rel=1e-14)
    # R's glm stops at epsilon 1e-8 (fitted values ~1e-6 from the maximum glmkit reaches)
    ch = rd_fit.checks()
    assert ch.dispersion_test(2).statistic == pytest.approx(c["disp_trafo2"]["statistic"],
                                                            rel=1e-5)
    assert ch.d2_score() == pytest.approx(c["d2"], rel=1e-8)


def test_negative_binomial_rootogram_equals_r(ref):
    c = ref["counts"]
    rd = pd.read_csv(REF / "recreation.csv")
    nb = glmkit.glm_nb("trips ~ " + RHS_RD, rd)
    assert nb.theta == pytest.approx(c["nb_theta"], rel=1e-6)
    np.testing.assert_allclose(nb.checks().rootogram()["expected"], c["root_expected_nb"],
                               rtol=1e-5, atol=1e-6)


def _binary(n=300, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    if ties:
        p = np.round(p, 1)
    y = (rng.random(n) < p).astype(float)
    w = rng.uniform(0.1, 3, n)
    return y, p, w


def test_binomial_metrics_equal_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    from sklearn.calibration import calibration_curve

    y, p, w = _binary()
    for sw in (None, w):
        assert C.brier_score(y, p, sw) == pytest.approx(
            metrics.brier_score_loss(y, p, sample_weight=sw), rel=1e-12)
        assert C.log_loss(y, p, sw) == pytest.approx(
            metrics.log_loss(y, p, sample_weight=sw), rel=1e-12)
        assert C.roc_auc(y, p, sw) == pytest.approx(
            metrics.roc_auc_score(y, p, sample_weight=sw), rel=1e-12)
        np.testing.assert_allclose(C.confusion_table(y, p, 0.3, sw).to_numpy(),
                                   metrics.confusion_matrix(y, p > 0.3, sample_weight=sw))
    y0, p0, _ = _binary(ties=False, seed=2)
    p0[:3] = [0.0, 1.0, 1.0]   # clipped by both
    assert C.log_loss(y0, p0) == pytest.approx(metrics.log_loss(y0, p0), rel=1e-12)
    for strategy in ("quantile", "uniform"):
        tab = C.calibration_table(y0, p0, n_bins=7, strategy=strategy)
        obs, pred = calibration_curve(y0, p0, n_bins=7, strategy=strategy)
        np.testing.assert_allclose(tab["observed"], obs, rtol=1e-12)
        np.testing.assert_allclose(tab["predicted"], pred, rtol=1e-12)


def test_d2_equals_sklearn_d2_tweedie():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.5, 4, 200)
    y = rng.poisson(mu).astype(float) + 0.1
    w = rng.uniform(0.5, 2, 200)
    F = glmkit.families
    for fam, power in ((F.Gaussian(), 0), (F.Poisson(), 1), (F.Gamma(), 2),
                       (F.Tweedie(var_power=1.4), 1.4), (F.InverseGaussian(), 3)):
        assert C.d2_score(y, mu, fam, w) == pytest.approx(
            metrics.d2_tweedie_score(y, mu, power=power, sample_weight=w), rel=1e-10)


def test_checks_on_new_data_and_invariants(bw_fit):
    bw = pd.read_csv(REF / "birthwt.csv")
    new = bw.iloc[::2]
    ch = bw_fit.checks(endog=new["low"], exog=new)
    p = np.asarray(bw_fit.predict(new))
    assert ch.brier_score() == pytest.approx(np.mean((new["low"] - p) ** 2), rel=1e-14)
    # AUC depends only on the order: the linear predictor gives the same
    eta = np.asarray(bw_fit.predict(new, which="linear"))
    assert C.roc_auc(new["low"], eta) == pytest.approx(ch.roc_auc(), rel=1e-14)
    # frequency weight 2 equals the row twice
    y, pp, _ = _binary(50, seed=5)
    w = np.where(np.arange(50) % 3 == 0, 2.0, 1.0)
    rep = np.repeat(np.arange(50), w.astype(int))
    assert C.roc_auc(y, pp, w) == pytest.approx(C.roc_auc(y[rep], pp[rep]), rel=1e-14)
    tab = C.calibration_table(y, pp, 4, "uniform", w)
    tab2 = C.calibration_table(y[rep], pp[rep], 4, "uniform")
    pd.testing.assert_frame_equal(tab, tab2)


def test_bad_inputs_are_clear_errors(rd_fit):
    with pytest.raises(ValueError, match="must be 0 or 1"):
        C.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="must match"):
        C.brier_score([0, 1], [0.1])
    with pytest.raises(ValueError, match="lie in"):
        C.log_loss([0, 1], [-1.0, 2.0])
    with pytest.raises(ValueError, match="both classes"):
        C.roc_auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="g must be"):
        C.hosmer_lemeshow([0, 1, 1], [0.1, 0.5, 0.6], g=2)
    with pytest.raises(ValueError, match="Poisson or negative binomial"):
        C.rootogram([1, 2], [1.0, 2.0], glmkit.families.Gamma())
    with pytest.raises(ValueError, match="give both"):
        rd_fit.checks(endog=[1, 2])


# ---------------------------------------------------------------- cross_validate
@pytest.fixture(scope="module")
def cv_ref():
    with open(REF / "cv.json", encoding="utf-8") as fh:
        return json.load(fh), pd.read_csv(REF / "cv_data.csv")


def _cv_models(d):
    X = glmkit.add_constant(d[["x1", "x2", "x3", "x4"]].to_numpy())
    pois = glmkit.GLM(d["y"].to_numpy(), X, family=glmkit.families.Poisson(),
                      exposure=d["expo"].to_numpy(), freq_weights=d["w"].to_numpy())
    binom = glmkit.GLM(d["yb"].to_numpy(), X, family=glmkit.families.Binomial())
    return pois, binom


def test_cross_validate_equals_r_glm_loop(cv_ref):
    ref, d = cv_ref
    pois, binom = _cv_models(d)
    for model, key in ((pois, "poisson"), (binom, "binomial")):
        cv = glmkit.cross_validate(model, folds=d["foldid"])
        np.testing.assert_allclose(cv.fold_deviance, ref[key]["fold_deviance"], rtol=1e-9)
        np.testing.assert_allclose(cv.fold_null_deviance, ref[key]["fold_null"], rtol=1e-9)
        assert cv.d2 == pytest.approx(1 - np.sum(ref[key]["fold_deviance"]) /
                                      np.sum(ref[key]["fold_null"]), rel=1e-9)


def test_cross_validate_path_equals_cv_glmnet(cv_ref):
    ref, d = cv_ref
    pois, binom = _cv_models(d)
    for model, key, l1 in ((pois, "glmnet_poisson", 0.5), (binom, "glmnet_binomial", 1.0)):
        r = ref[key]
        cv = glmkit.cross_validate(model, folds=d["foldid"], alphas=r["lambda"], L1_wt=l1)
        np.testing.assert_allclose(cv.alphas, r["lambda"], rtol=1e-12)
        np.testing.assert_allclose(cv.mean_deviance, r["cvm"], rtol=1e-7)
        np.testing.assert_allclose(cv.se, r["cvsd"], rtol=1e-6)
        assert cv.alpha_min == pytest.approx(r["lambda_min"], rel=1e-12)
        assert cv.alpha_1se == pytest.approx(r["lambda_1se"], rel=1e-12)


def test_cross_validate_random_folds_and_errors(cv_ref):
    _, d = cv_ref
    pois, _ = _cv_models(d)
    a = glmkit.cross_validate(pois, n_folds=4, seed=7)
    b = glmkit.cross_validate(pois, n_folds=4, seed=7)
    np.testing.assert_array_equal(a.folds, b.folds)
    assert np.bincount(a.folds).tolist() == [60, 60, 60, 60]
    # the folds given explicitly give the same numbers
    c = glmkit.cross_validate(pois, folds=a.folds)
    np.testing.assert_allclose(c.fold_deviance, a.fold_deviance, rtol=1e-14)
    with pytest.raises(ValueError, match="n_folds must be"):
        glmkit.cross_validate(pois, n_folds=1)
    with pytest.raises(ValueError, match="one fold label per row"):
        glmkit.cross_validate(pois, folds=[0, 1])


def test_grouped_binomial_counts_trials_one_by_one():
    metrics = pytest.importorskip("sklearn.metrics")
    bw = pd.read_csv(REF / "birthwt.csv")
    g = bw.groupby(["smoke", "ht"], as_index=False).agg(s=("low", "sum"), n=("low", "size"))
    g["f"] = g["n"] - g["s"]
    res = glmkit.glm("cbind(s, f) ~ smoke + ht", g, family=glmkit.families.Binomial()).fit()
    ch = res.checks()
    # the same fit on the 0/1 rows
    p = np.asarray(glmkit.glm("low ~ smoke + ht", bw, family=glmkit.families.Binomial())
                   .fit().fittedvalues)
    y = bw["low"].to_numpy()
    assert ch.brier_score() == pytest.approx(metrics.brier_score_loss(y, p), rel=1e-9)
    assert ch.log_loss() == pytest.approx(metrics.log_loss(y, p), rel=1e-9)
    assert ch.roc_auc() == pytest.approx(metrics.roc_auc_score(y, p), rel=1e-9)
    np.testing.assert_allclose(ch.confusion_table(0.3).to_numpy(),
                               metrics.confusion_matrix(y, p > 0.3))
    with pytest.raises(ValueError, match="must be 0 or 1"):
        ch.hosmer_lemeshow()


def test_hosmer_lemeshow_with_tied_quantiles_equals_r(ref):
    t = ref["ties"]
    for g, key in ((10, "hoslem_g10"), (7, "hoslem_g7")):
        hl = C.hosmer_lemeshow(t["y"], t["p"], g)
        assert hl.statistic == pytest.approx(t[key]["statistic"], rel=1e-12)
        assert hl.pvalue == pytest.approx(t[key]["p_value"], rel=1e-10)
        np.testing.assert_allclose(hl.table["n"], t[key]["n"])
        assert len(hl.table) < g   # tied quantiles merged groups
