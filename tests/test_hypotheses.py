"""wald_test_terms and t_test_pairwise against statsmodels (same definitions), and
multipletests against statsmodels.stats.multitest."""
import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm

smapi = pytest.importorskip("statsmodels.api")
smf = pytest.importorskip("statsmodels.formula.api")


@pytest.fixture(scope="module")
def data():
    rs = np.random.RandomState(6)
    n = 120
    df = pd.DataFrame({"g": rs.choice(list("abcd"), n), "x": rs.randn(n)})
    eta = 0.3 + df["g"].map({"a": 0.0, "b": 0.4, "c": -0.3, "d": 0.1}) + 0.2 * df["x"]
    df["y"] = rs.poisson(np.exp(eta))
    df["z"] = eta + rs.randn(n)
    return df


@pytest.mark.parametrize("resp,fam", [("y", "Poisson"), ("z", "Gaussian")])
def test_wald_test_terms_matches_statsmodels(data, resp, fam):
    f = f"{resp} ~ C(g) * x"
    ours = glmkit.glm(f, data, family=getattr(sm.families, fam)()).fit()
    theirs = smf.glm(f, data, family=getattr(smapi.families, fam)()).fit(
        use_t=ours.use_t, tol=1e-13)
    a, b = ours.wald_test_terms(), theirs.wald_test_terms()
    assert a.distribution == b.distribution and list(a.table.index) == list(b.table.index)
    np.testing.assert_allclose(a.table.to_numpy(float), b.table.to_numpy(float), rtol=1e-6)
    assert list(a.summary_frame().columns) == list(b.summary_frame().columns)
    a2, b2 = (r.wald_test_terms(skip_single=True, combine_terms=["x"]) for r in (ours, theirs))
    assert list(a2.table.index) == list(b2.table.index)
    np.testing.assert_allclose(a2.table.to_numpy(float), b2.table.to_numpy(float), rtol=1e-6)


@pytest.mark.parametrize("method", ["hs", "holm", "bonferroni", "sidak", "fdr_bh"])
def test_t_test_pairwise_matches_statsmodels(data, method):
    ours = glmkit.glm("y ~ C(g) + x", data, family=sm.families.Poisson()).fit()
    theirs = smf.glm("y ~ C(g) + x", data, family=smapi.families.Poisson()).fit(tol=1e-13)
    a = ours.t_test_pairwise("C(g)", method=method)
    b = theirs.t_test_pairwise("C(g)", method=method)
    assert list(a.result_frame.index) == list(b.result_frame.index)
    assert list(a.result_frame.columns) == list(b.result_frame.columns)
    np.testing.assert_allclose(a.result_frame.to_numpy(float), b.result_frame.to_numpy(float),
                               rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(a.contrasts, b.contrasts)


def test_multipletests_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests as sm_mt

    from glmkit.hypotheses import multipletests

    p = np.random.RandomState(1).uniform(0, 0.2, size=9)
    for method in ("hs", "holm", "bonferroni", "sidak", "fdr_bh"):
        r1, a1 = multipletests(p, 0.05, method)
        r2, a2 = sm_mt(p, 0.05, method)[:2]
        np.testing.assert_allclose(a1, a2, rtol=1e-12, err_msg=method)
        np.testing.assert_array_equal(r1, r2)


def test_results_score_test_is_the_models(data):
    """results.score_test(exog_extra) is model.score_test(params, exog_extra=...) as a
    ScoreTestResult; with Poisson (scale 1) it is statsmodels' number too."""
    X = sm.add_constant(data[["x"]].to_numpy())
    extra = data["x"].to_numpy()[:, None] ** 2   # statsmodels wants a 2-d exog_extra
    ours = sm.GLM(data["y"].to_numpy(), X, family=sm.families.Poisson()).fit()
    theirs = smapi.GLM(data["y"].to_numpy(), X, family=smapi.families.Poisson()).fit(tol=1e-13)
    r = ours.score_test(exog_extra=extra)
    st, pv, df = ours.model.score_test(ours.params, exog_extra=extra)
    assert (r.statistic, r.pvalue, r.k_constraint) == (float(st), float(pv), df)
    q = theirs.score_test(exog_extra=extra)
    np.testing.assert_allclose(tuple(r), [float(np.squeeze(v)) for v in q], rtol=1e-6)
    assert r.k_constraint == q.k_constraint and r.distribution == q.distribution
    with pytest.raises(NotImplementedError):
        ours.score_test(exog_extra=extra, hypothesis="separate")
