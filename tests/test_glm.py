"""Model-level tests of the core engine: the spec example, invariants, warnings, API shape.

Sources of the numbers:
- the scotland example: ../shared/spec/glm-api.md (statsmodels' documented Gamma example);
- parity values: statsmodels 0.14+ fitted with a tight tolerance, where statsmodels is right;
- everything else: invariants (frequency weight k == k repeated rows, zero weight == dropped
  row, exposure == offset log(exposure), [s, f] response == proportion with trials as weights,
  IRLS == Newton == L-BFGS at the maximum).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm
from glmkit.datasets import load_scotland

L = sm.families.links


def _design(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, size=n)])
    return rng, X


def _poisson_data(n=120, seed=0):
    rng, X = _design(n, seed)
    y = rng.poisson(np.exp(0.4 + 0.5 * X[:, 1] - 0.3 * X[:, 2])).astype(float)
    return X, y


def _binary_data(n=150, seed=1):
    rng, X = _design(n, seed)
    eta = -0.2 + 0.8 * X[:, 1] - 0.5 * X[:, 2]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def _gamma_data(n=120, seed=2):
    rng, X = _design(n, seed)
    mu = np.exp(1.0 + 0.3 * X[:, 1] - 0.2 * X[:, 2])
    return X, rng.gamma(3.0, mu / 3.0)


# ---------------------------------------------------------------- spec example
def test_scotland_gamma_matches_spec():
    """../shared/spec/glm-api.md: statsmodels' documented Scotland Gamma fit, to 1e-8."""
    d = load_scotland()
    X = sm.add_constant(d.drop(columns="YES"))
    res = sm.GLM(d["YES"], X, family=sm.families.Gamma()).fit()
    expected = [-0.01776527, 0.00004962, 0.00203442, -0.00007181, 0.00011185, -0.00000015,
                -0.00051868, -0.00000243]
    # the spec prints params rounded to 8 decimals: compare at that resolution
    np.testing.assert_allclose(res.params.to_numpy(), expected, atol=5e-9, rtol=0)
    assert res.scale == pytest.approx(0.0035842831734919055, rel=1e-8)
    assert res.deviance == pytest.approx(0.087388516416999198, rel=1e-8)
    assert res.pearson_chi2 == pytest.approx(0.086022796163805704, rel=1e-8)
    assert res.llf == pytest.approx(-83.017202161073527, rel=1e-8)
    assert list(res.params.index) == list(X.columns)
    assert res.df_resid == 24 and res.df_model == 7 and res.nobs == 32


# ------------------------------------------------------------------ invariants
@pytest.mark.parametrize("family,data", [
    (sm.families.Poisson(), _poisson_data),
    (sm.families.Binomial(), _binary_data),
    (sm.families.Gamma(L.Log()), _gamma_data),
])
def test_freq_weights_equal_repeated_rows(family, data):
    """Invariant: frequency weight k gives the fit of k copies of the row."""
    X, y = data()
    fw = np.random.default_rng(5).integers(1, 4, size=len(y)).astype(float)
    a = sm.GLM(y, X, family=family, freq_weights=fw).fit()
    rep = np.repeat(np.arange(len(y)), fw.astype(int))
    b = sm.GLM(y[rep], X[rep], family=family).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-7)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-10)
    assert a.df_resid == b.df_resid
    assert a.llf == pytest.approx(b.llf, rel=1e-10)
    assert a.scale == pytest.approx(b.scale, rel=1e-9)
    assert a.null_deviance == pytest.approx(b.null_deviance, rel=1e-10)
    assert a.nobs == len(y)  # nobs stays the number of rows


@pytest.mark.parametrize("weight", ["freq_weights", "var_weights"])
def test_zero_weight_equals_dropped_row(weight):
    """Invariant: a row with weight 0 changes nothing but nobs (R drops it from df too)."""
    X, y = _gamma_data()
    w = np.ones(len(y))
    w[[3, 17, 40]] = 0.0
    a = sm.GLM(y, X, family=sm.families.Gamma(L.Log()), **{weight: w}).fit()
    keep = w > 0
    b = sm.GLM(y[keep], X[keep], family=sm.families.Gamma(L.Log())).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-10)
    assert a.df_resid == b.df_resid
    assert a.scale == pytest.approx(b.scale, rel=1e-9)


def test_exposure_equals_log_offset():
    """Invariant: exposure e is offset log(e) (log link)."""
    X, y = _poisson_data()
    e = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    a = sm.GLM(y, X, family=sm.families.Poisson(), exposure=e).fit()
    b = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(e)).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    assert a.null_deviance == pytest.approx(b.null_deviance, rel=1e-12)
    np.testing.assert_allclose(a.predict(), b.predict(), rtol=1e-12)


def test_two_column_binomial_equals_proportions_with_trials_as_weights():
    """Invariant: [s, f] response == proportion s/n with var_weights n (R's convention)."""
    rng, X = _design(60, 4)
    n = rng.integers(1, 12, size=60).astype(float)
    s = rng.binomial(n.astype(int), 1 / (1 + np.exp(-(0.3 + X[:, 1])))).astype(float)
    a = sm.GLM(np.column_stack([s, n - s]), X, family=sm.families.Binomial()).fit()
    b = sm.GLM(s / n, X, family=sm.families.Binomial(), var_weights=n).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-9)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-10)
    assert a.llf == pytest.approx(b.llf, rel=1e-10)
    np.testing.assert_allclose(a.resid_pearson, b.resid_pearson, rtol=1e-9)
    np.testing.assert_allclose(a.model.n_trials, n)


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
@pytest.mark.parametrize("family,data", [
    (sm.families.Binomial(L.Probit()), _binary_data),
    (sm.families.Gamma(L.Log()), _gamma_data),
    (sm.families.Poisson(), _poisson_data),
])
def test_methods_reach_the_same_maximum(method, family, data):
    """Invariant: IRLS, Newton and L-BFGS maximise the same likelihood."""
    X, y = data()
    a = sm.GLM(y, X, family=family).fit()
    b = sm.GLM(y, X, family=family).fit(method=method)
    assert b.converged
    np.testing.assert_allclose(b.params, a.params, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(b.bse, a.bse, rtol=1e-4)
    assert b.deviance == pytest.approx(a.deviance, rel=1e-8)


def test_start_params_reach_the_same_fit():
    """Invariant: the maximum does not depend on where IRLS starts."""
    X, y = _gamma_data()
    fam = sm.families.Gamma(L.Log())
    a = sm.GLM(y, X, family=fam).fit()
    b = sm.GLM(y, X, family=fam).fit(start_params=[0.5, 0.0, 0.0])
    np.testing.assert_allclose(b.params, a.params, rtol=1e-8)


def test_score_is_zero_at_the_solution():
    """Invariant: X' (prior_w * dmu/deta * (y - mu) / V(mu)) = 0 at the MLE."""
    X, y = _binary_data()
    fam = sm.families.Binomial(L.CLogLog())
    res = sm.GLM(y, X, family=fam).fit()
    eta = X @ res.params
    mu = fam.link.inverse(eta)
    score = X.T @ (fam.link.inverse_deriv(eta) * (y - mu) / fam.variance(mu))
    info = X.T @ (X * (fam.weights(mu))[:, None])
    # score in units of its standard deviation
    assert np.max(np.abs(score / np.sqrt(np.diag(info)))) < 1e-7


# ----------------------------------------------------------- statsmodels parity
@pytest.mark.parametrize("name", ["poisson", "logit", "gamma_inverse", "gaussian", "nb", "tweedie"])
def test_parity_with_statsmodels(name):
    """statsmodels (tight tolerance) where it is right: params, bse, deviance, llf, chi2."""
    smo = pytest.importorskip("statsmodels.api", reason="statsmodels is a test-only peer")
    X, yp = _poisson_data()
    Xb, yb = _binary_data()
    Xg, yg = _gamma_data()
    cases = {
        "poisson": (X, yp, sm.families.Poisson(), smo.families.Poisson()),
        "logit": (Xb, yb, sm.families.Binomial(), smo.families.Binomial()),
        "gamma_inverse": (Xg, yg, sm.families.Gamma(), smo.families.Gamma()),
        "gaussian": (Xg, yg, sm.families.Gaussian(), smo.families.Gaussian()),
        "nb": (X, yp, sm.families.NegativeBinomial(alpha=0.4),
               smo.families.NegativeBinomial(alpha=0.4)),
        "tweedie": (Xg, yg * (np.arange(len(yg)) % 3 > 0), sm.families.Tweedie(var_power=1.5),
                    smo.families.Tweedie(var_power=1.5)),
    }
    Xc, y, fg, fs = cases[name]
    a = sm.GLM(y, Xc, family=fg).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = smo.GLM(y, Xc, family=fs).fit(tol=1e-14, maxiter=500)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-6)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-6)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-9)
    assert a.null_deviance == pytest.approx(b.null_deviance, rel=1e-9)
    assert a.pearson_chi2 == pytest.approx(b.pearson_chi2, rel=1e-8)
    assert a.scale == pytest.approx(b.scale, rel=1e-8)
    assert a.llf == pytest.approx(b.llf, rel=1e-8)
    assert a.aic == pytest.approx(b.aic, rel=1e-8)
    np.testing.assert_allclose(a.resid_anscombe, b.resid_anscombe, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(a.resid_deviance, b.resid_deviance, rtol=1e-6, atol=1e-9)


def test_inverse_gaussian_canonical_small_data_converges():
    """R completes this fit (tests/reference/core: invgauss_inverse_squared_small); so must we."""
    import json
    import pathlib

    ref = pathlib.Path(__file__).parent / "reference" / "core"
    d = pd.read_csv(ref / "data_invgauss_inverse_squared_small.csv")
    r = json.loads((ref / "ref_invgauss_inverse_squared_small.json").read_text())
    X = sm.add_constant(d[r["x_cols"]])
    res = sm.GLM(d["y"], X, family=sm.families.InverseGaussian()).fit()
    assert res.converged
    np.testing.assert_allclose(res.params.to_numpy(), list(r["params"].values()), rtol=1e-6)


# ------------------------------------------------------- rank, separation, warnings
def test_rank_deficient_design_gives_nan_for_aliased_columns():
    """As R: a column equal to a combination of earlier ones gets NaN; the rest is the fit
    without it (invariant), and df_resid uses the rank."""
    X, y = _poisson_data()
    Xd = np.column_stack([X, X[:, 1] - 2 * X[:, 2]])
    with pytest.warns(glmkit.AliasedColumnsWarning, match="x3"):
        a = sm.GLM(y, Xd, family=sm.families.Poisson()).fit()
    b = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert np.isnan(a.params[3]) and np.isnan(a.bse[3])
    np.testing.assert_allclose(a.params[:3], b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse[:3], b.bse, rtol=1e-8)
    assert a.df_resid == b.df_resid and a.df_model == b.df_model
    assert a.deviance == pytest.approx(b.deviance, rel=1e-12)
    assert list(a.aliased) == [False, False, False, True]
    np.testing.assert_allclose(a.predict(Xd[:5]), b.predict(X[:5]), rtol=1e-10)


def test_perfect_separation_warns_and_is_recorded():
    x = np.arange(20.0)
    y = (x > 9.5).astype(float)
    X = sm.add_constant(x)
    with pytest.warns(glmkit.PerfectSeparationWarning):
        res = sm.GLM(y, X, family=sm.families.Binomial()).fit()
    assert res.separation
    assert any("separation" in w for w in res.fit_warnings)
    ok = sm.GLM(*_binary_data()[::-1], family=sm.families.Binomial()).fit()
    assert not ok.separation


def test_non_convergence_warns_and_is_recorded():
    X, y = _gamma_data()
    with pytest.warns(glmkit.ConvergenceWarning, match="did not converge"):
        res = sm.GLM(y, X, family=sm.families.Gamma(L.Log())).fit(maxiter=2)
    assert res.converged is False
    assert res.n_iter == 2 and res.fit_history["iteration"] == 2
    assert "ConvergenceWarning" in res.summary().as_text()


def test_first_step_outside_range_is_halved():
    """Poisson identity: the first step leaves mu > 0; IRLS halves and still converges to the
    maximum (score zero), where R's default 25 iterations of Fisher scoring may not."""
    X, y = _poisson_data(200, 0)
    res = sm.GLM(y, X, family=sm.families.Poisson(L.Identity())).fit()
    assert res.converged and np.all(res.mu > 0)
    mu = np.asarray(res.mu)
    score = X.T @ ((y - mu) / mu)
    assert np.max(np.abs(score)) < 1e-6


# ----------------------------------------------------------------- API shape
def test_pandas_names_and_index_are_kept():
    X, y = _poisson_data()
    idx = pd.Index([f"r{i}" for i in range(len(y))])
    df = pd.DataFrame(X[:, 1:], columns=["age", "dose"], index=idx)
    res = sm.GLM(pd.Series(y, index=idx, name="count"), sm.add_constant(df),
                 family=sm.families.Poisson()).fit()
    assert list(res.params.index) == ["const", "age", "dose"]
    assert list(res.bse.index) == ["const", "age", "dose"]
    assert res.fittedvalues.index.equals(idx) and res.resid_deviance.index.equals(idx)
    assert list(res.conf_int().index) == ["const", "age", "dose"]
    assert res.model.endog_names == "count"
    assert "age" in res.summary().as_text() and "count" in str(res.summary())


def test_numpy_names_follow_statsmodels():
    X, y = _poisson_data()
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert res.model.exog_names == ["const", "x1", "x2"]
    assert isinstance(res.params, np.ndarray)


def test_results_are_immutable():
    X, y = _poisson_data()
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    with pytest.raises(AttributeError, match="immutable"):
        res.params = np.zeros(3)
    with pytest.raises(ValueError):
        res._solver_result.params[0] = 1.0  # solver arrays are read-only


def test_predict_new_data_and_linear():
    X, y = _poisson_data()
    e = np.full(len(y), 2.0)
    res = sm.GLM(y, X, family=sm.families.Poisson(), exposure=e).fit()
    new = X[:4]
    eta = new @ res.params
    np.testing.assert_allclose(res.predict(new, which="linear"), eta, rtol=1e-12)
    np.testing.assert_allclose(res.predict(new), np.exp(eta), rtol=1e-12)
    np.testing.assert_allclose(res.predict(new, exposure=np.full(4, 3.0)), 3 * np.exp(eta),
                               rtol=1e-12)
    # in-sample predictions include the model's exposure
    np.testing.assert_allclose(res.predict(), res.fittedvalues, rtol=1e-12)
    np.testing.assert_allclose(res.predict()[:4], 2 * np.exp(eta), rtol=1e-12)
    with pytest.raises(ValueError, match="which"):
        res.predict(new, which="probability")


def test_scale_options():
    """scale='dev' is deviance/df_resid, 'X2' Pearson chi2/df_resid, a number is fixed."""
    X, y = _gamma_data()
    fam = sm.families.Gamma(L.Log())
    base = sm.GLM(y, X, family=fam).fit()
    dev = sm.GLM(y, X, family=fam).fit(scale="dev")
    fixed = sm.GLM(y, X, family=fam).fit(scale=2.0)
    assert dev.scale == pytest.approx(base.deviance / base.df_resid, rel=1e-12)
    assert base.scale == pytest.approx(base.pearson_chi2 / base.df_resid, rel=1e-12)
    assert fixed.scale == 2.0 and not fixed.use_t and base.use_t
    np.testing.assert_allclose(fixed.bse, base.bse * np.sqrt(2.0 / base.scale), rtol=1e-12)


def test_conf_int_and_pvalues_follow_the_test_distribution():
    """Closed form: Wald interval params -/+ q bse with q from t(df_resid) or N(0, 1)."""
    from scipy import stats

    X, y = _gamma_data()
    res = sm.GLM(y, X, family=sm.families.Gamma(L.Log())).fit()
    q = stats.t.ppf(0.975, res.df_resid)
    np.testing.assert_allclose(res.conf_int()[:, 0], res.params - q * res.bse, rtol=1e-12)
    np.testing.assert_allclose(res.pvalues, 2 * stats.t.sf(np.abs(res.tvalues), res.df_resid))
    X, y = _poisson_data()
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf(np.abs(res.tvalues)))


def test_missing_drop_keeps_index_and_reports_count():
    X, y = _poisson_data()
    df = pd.DataFrame(X[:, 1:], columns=["a", "b"])
    y = pd.Series(y)
    df.loc[[2, 5], "a"] = np.nan
    with pytest.warns(UserWarning, match="dropped 2 row"):
        res = sm.GLM(y, sm.add_constant(df), family=sm.families.Poisson(), missing="drop").fit()
    assert res.model.n_dropped == 2 and res.nobs == len(y) - 2
    assert 2 not in res.fittedvalues.index and 3 in res.fittedvalues.index


def test_summary_layout():
    X, y = _poisson_data()
    text = sm.GLM(y, X, family=sm.families.Poisson()).fit().summary().as_text()
    for piece in ("Generalized Linear Model Regression Results", "Dep. Variable:", "Poisson",
                  "Log", "No. Iterations:", "Deviance:", "Pearson chi2:", "Log-Likelihood:",
                  "AIC:", "coef", "std err", "P>|z|", "[0.025", "0.975]", "const", "x1"):
        assert piece in text, piece


def test_hypothesis_strings_with_commas_inside_names():
    """Names from formulas contain commas: only top-level commas separate equations."""
    from glmkit.inference import parse_constraints

    names = ["const", "C(g, Treatment('b'))[T.a]", "x1", "x2"]
    R, q = parse_constraints("C(g, Treatment('b'))[T.a] = 0, x1 = 2*x2 + 1", names)
    np.testing.assert_array_equal(R, [[0, 1, 0, 0], [0, 0, 1, -2]])
    np.testing.assert_array_equal(q, [0, 1])
    with pytest.raises(ValueError, match="cannot read"):
        parse_constraints("x3 = 0", names)
