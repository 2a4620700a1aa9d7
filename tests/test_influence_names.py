"""GLMInfluence: statsmodels' names carry statsmodels' numbers (statsmodels 0.14+ is the
reference here: these are its definitions), R's carry R's (tests/reference/inference).

Non-canonical links make the observed and expected Hessians differ, so these cases show
that ``hat_matrix_diag``, ``resid_studentized``, ``cooks_distance``, ``d_params`` and
``dfbetas`` follow statsmodels' ``get_influence(observed=...)``.
"""
import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm

smapi = pytest.importorskip("statsmodels.api")


def _data(kind, seed=11):
    rs = np.random.RandomState(seed)
    n = 60
    X = sm.add_constant(pd.DataFrame({"a": rs.randn(n), "b": rs.uniform(size=n)}))
    eta = 0.3 + 0.4 * X["a"] - 0.6 * X["b"]
    if kind == "gamma_log":
        y = rs.gamma(2.0, np.exp(eta) / 2.0)
        fam = (sm.families.Gamma(sm.families.links.Log()),
               smapi.families.Gamma(smapi.families.links.Log()))
    elif kind == "binomial_probit":
        y = (rs.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
        fam = (sm.families.Binomial(sm.families.links.Probit()),
               smapi.families.Binomial(smapi.families.links.Probit()))
    else:
        y = rs.poisson(np.exp(eta)).astype(float)
        fam = (sm.families.Poisson(), smapi.families.Poisson())
    return X, pd.Series(y, name="y"), fam


CASES = [("gamma_log", None), ("binomial_probit", None), ("poisson_log", "freq")]


@pytest.mark.parametrize("observed", [True, False])
@pytest.mark.parametrize("kind,weights", CASES)
def test_statsmodels_names_match_statsmodels(kind, weights, observed):
    X, y, (ours_f, theirs_f) = _data(kind)
    kw = {}
    if weights == "freq":
        kw["freq_weights"] = np.random.RandomState(2).randint(1, 4, size=len(y)).astype(float)
    ours = sm.GLM(y, X, family=ours_f, **kw).fit()
    # both at the maximum: statsmodels with a tighter tolerance than its default
    theirs = smapi.GLM(y, X, family=theirs_f, **kw).fit(tol=1e-13, maxiter=200)
    a, b = ours.get_influence(observed=observed), theirs.get_influence(observed=observed)
    np.testing.assert_allclose(a.hat_matrix_diag, b.hat_matrix_diag, rtol=1e-6)
    np.testing.assert_allclose(ours.get_hat_matrix_diag(observed=observed),
                               theirs.get_hat_matrix_diag(observed=observed), rtol=1e-6)
    np.testing.assert_allclose(a.resid_studentized, b.resid_studentized, rtol=1e-6)
    np.testing.assert_allclose(a.cooks_distance[0], b.cooks_distance[0], rtol=1e-6)
    np.testing.assert_allclose(a.cooks_distance[1], b.cooks_distance[1], rtol=1e-6)
    np.testing.assert_allclose(a.d_params, b.d_params, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(a.params_one, b.params_one, rtol=1e-6)
    np.testing.assert_allclose(a.d_linpred, b.d_linpred, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(a.d_fittedvalues, b.d_fittedvalues, rtol=1e-5, atol=1e-12)
    sa, sb = a.summary_frame(), b.summary_frame()
    assert list(sa.columns) == list(sb.columns)
    np.testing.assert_allclose(sa.to_numpy(), sb.to_numpy(), rtol=1e-5, atol=1e-12)
    if weights is None:   # statsmodels' dfbetas divide by bse: with t-based bse too
        np.testing.assert_allclose(a.dfbetas, b.dfbetas, rtol=1e-5, atol=1e-12)


def test_canonical_link_r_and_statsmodels_agree():
    """Poisson-log: observed = expected Hessian, so statsmodels' internally studentized
    residual is R's rstandard(type='pearson') and the hat values coincide (closed form)."""
    X, y, (fam, _) = _data("poisson_log")
    inf = sm.GLM(y, X, family=fam).fit().get_influence()
    np.testing.assert_allclose(inf.hat_matrix_diag, inf.hatvalues, rtol=1e-10)
    np.testing.assert_allclose(inf.resid_studentized, inf.rstandard("pearson"), rtol=1e-10)
    np.testing.assert_allclose(inf.cooks_distance[0], inf.influence_measures()["cook.d"],
                               rtol=1e-10)
    with pytest.raises(ValueError, match="type"):
        inf.rstandard("working")
