"""The formula interface: glmkit.glm / GLM.from_formula with formulaic.

Reference values (R 4.2 ``glm()``, ``anova(fit, test=...)``, ``predict(se.fit=TRUE)``)
come from ``tests/reference/formula/ref_*.json``, written by
``tests/reference/formula/make_reference.R`` from the CSV files beside it. Each JSON holds
R's formula and the glmkit formula of the same model; coefficients are compared by
position (R's column order is formulaic's order). Other expected values are fits of the
same model from an explicit design matrix, built here by hand.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm
import glmkit.formula_api as smf
from glmkit import MissingDataError

REF = Path(__file__).parent / "reference" / "formula"
RTOL = 1e-6

FAMILIES = {"poisson": sm.families.Poisson, "binomial": sm.families.Binomial,
            "gaussian": sm.families.Gaussian,
            "gamma": lambda: sm.families.Gamma(sm.families.links.Log())}


def _ref(case: str):
    ref = json.loads((REF / f"ref_{case}.json").read_text())
    data = pd.read_csv(REF / ref["data_file"])
    return ref, data


def _fit_ref(case: str, **kw):
    ref, data = _ref(case)
    family = FAMILIES[ref["family"]]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = glmkit.glm(ref["formula_py"], data, family=family, **kw).fit()
    return ref, data, res


def _nan(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _toy(n=120, seed=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n), "x": rng.normal(size=n),
                       "t": rng.uniform(1, 5, n)})
    lam = df.t * np.exp(0.2 + 0.3 * df.x + 0.4 * (df.g == "b") - 0.3 * (df.g == "c"))
    df["y"] = rng.poisson(lam)
    df.index = pd.Index(np.arange(n) * 10 + 7, name="row")
    return df


# ------------------------------------------------------------------ against R
@pytest.mark.parametrize("case", ["poisson_factor_offset", "binomial_cbind",
                                  "gamma_transforms", "gaussian_missing"])
def test_fit_equals_r_glm(case):
    ref, data, res = _fit_ref(case, missing="drop")
    np.testing.assert_allclose(res.params.to_numpy(), ref["params"], rtol=RTOL)
    np.testing.assert_allclose(res.bse.to_numpy(), ref["bse"], rtol=RTOL)
    np.testing.assert_allclose(res.deviance, ref["deviance"], rtol=RTOL)
    np.testing.assert_allclose(res.null_deviance, ref["null_deviance"], rtol=RTOL)
    np.testing.assert_allclose(res.scale, ref["dispersion"], rtol=RTOL)
    assert res.df_resid == ref["df_residual"]
    assert res.nobs == ref["nobs"]
    assert len(res.params) == len(ref["r_coef_names"])


@pytest.mark.parametrize("case,test", [("poisson_factor_offset", "chisq"),
                                       ("binomial_cbind", "chisq"),
                                       ("gamma_transforms", "chisq"),
                                       ("gamma_transforms", "f")])
def test_anova_by_term_equals_r(case, test):
    ref, _, res = _fit_ref(case)
    r = ref[f"anova_{test}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = res.anova(test="Chisq" if test == "chisq" else "F")
    # one row per formula term: a factor with k levels is one row with k - 1 df
    assert len(table) == len(r["terms"])
    assert table.index[0] == "NULL"
    np.testing.assert_allclose(table["Df"].to_numpy(), _nan(r["df"]), rtol=RTOL)
    np.testing.assert_allclose(table["Deviance"].to_numpy(), _nan(r["deviance"]), rtol=RTOL)
    np.testing.assert_allclose(table["Resid. Df"].to_numpy(), r["resid_df"], rtol=RTOL)
    np.testing.assert_allclose(table["Resid. Dev"].to_numpy(), r["resid_dev"], rtol=RTOL)
    pcol = "Pr(>Chi)" if test == "chisq" else "Pr(>F)"
    np.testing.assert_allclose(table[pcol].to_numpy(), _nan(r["p_value"]), rtol=RTOL)
    if test == "f":
        np.testing.assert_allclose(table["F"].to_numpy(), _nan(r["F"]), rtol=RTOL)


def test_anova_term_names_follow_the_formula():
    _, _, res = _fit_ref("poisson_factor_offset")
    table = res.anova(test="Chisq")
    assert list(table.index) == ["NULL", "C(region, Treatment('b'))", "x", "np.log(z)",
                                 "C(region, Treatment('b')):x"]
    assert res.model.terms[0] == ("Intercept", [0])
    assert res.model.terms[1] == ("C(region, Treatment('b'))", [1, 2, 3])


def test_predict_new_data_equals_r_including_formula_offset():
    ref, _, res = _fit_ref("poisson_factor_offset")
    new = pd.read_csv(REF / ref["newdata_file"])
    p = ref["predict"]
    np.testing.assert_allclose(res.predict(new).to_numpy(), p["response"], rtol=RTOL)
    np.testing.assert_allclose(res.predict(new, which="linear").to_numpy(), p["link"], rtol=RTOL)
    pr = res.get_prediction(new)
    np.testing.assert_allclose(pr.predicted_mean, p["response"], rtol=RTOL)
    np.testing.assert_allclose(pr.se_mean, p["se_response"], rtol=RTOL)
    lin = res.get_prediction(new, which="linear")
    np.testing.assert_allclose(lin.se_mean, p["se_link"], rtol=RTOL)


def test_missing_drop_matches_r_na_exclude_row_by_row():
    ref, data = _ref("gaussian_missing")
    data.index = pd.Index([f"r{i}" for i in range(len(data))])
    with pytest.warns(UserWarning, match="dropped 6 row"):
        model = glmkit.glm("y ~ 0 + f + x", data, missing="drop")
    assert model.n_dropped == ref["n_dropped"] == 6
    res = model.fit()
    # level 'd' only occurs in a dropped row: it is dropped, as R's model.frame does
    assert list(res.params.index) == ["f[a]", "f[b]", "f[c]", "x"]
    fitted = _nan(ref["fitted"])
    kept = ~np.isnan(fitted)
    assert list(res.fittedvalues.index) == list(data.index[kept])
    np.testing.assert_allclose(res.fittedvalues.to_numpy(), fitted[kept], rtol=RTOL)
    resid = res.resid_response.reindex(data.index).to_numpy()
    np.testing.assert_allclose(resid, _nan(ref["resid_response"]), rtol=RTOL)


def test_missing_none_and_raise():
    _, data = _ref("gaussian_missing")
    with pytest.raises(ValueError, match="missing values.*6 row.*missing='drop'") as info:
        glmkit.glm("y ~ 0 + f + x", data)
    assert not isinstance(info.value, MissingDataError)
    with pytest.raises(MissingDataError, match=r"\['f', 'x', 'y'\]"):
        glmkit.glm("y ~ 0 + f + x", data, missing="raise")
    with pytest.raises(ValueError, match="missing must be"):
        glmkit.glm("y ~ x", data, missing="omit")


def test_missing_in_weight_arrays_is_dropped_too():
    df = _toy()
    w = np.ones(len(df))
    w[[3, 8]] = np.nan
    with pytest.warns(UserWarning, match="dropped 2 row"):
        res = glmkit.glm("y ~ g + x", df, family=sm.families.Poisson(), var_weights=w,
                         missing="drop").fit()
    ref = glmkit.glm("y ~ g + x", df.drop(df.index[[3, 8]]),
                     family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)
    with pytest.raises(ValueError, match=r"missing values in \['var_weights'\]"):
        glmkit.glm("y ~ g + x", df, family=sm.families.Poisson(), var_weights=w)


# ------------------------------------------------- against explicit design matrices
def test_formula_fit_equals_explicit_design():
    df = _toy()
    res = glmkit.glm("y ~ C(g, Treatment('b')) * x + offset(np.log(t))", df,
                     family=sm.families.Poisson()).fit()
    X = pd.DataFrame({"const": 1.0, "ga": (df.g == "a") * 1.0, "gc": (df.g == "c") * 1.0,
                      "x": df.x})
    X["ga:x"] = X.ga * df.x
    X["gc:x"] = X.gc * df.x
    ref = sm.GLM(df.y, X, family=sm.families.Poisson(), offset=np.log(df.t)).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-12)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=1e-12)
    np.testing.assert_allclose(res.fittedvalues, ref.fittedvalues, rtol=1e-12)
    assert res.fittedvalues.index.equals(df.index)


def test_cbind_equals_two_column_endog_and_names_the_response():
    ref, data = _ref("binomial_cbind")
    res = glmkit.glm("cbind(s, m - s) ~ g + x", data, family=sm.families.Binomial()).fit()
    X = pd.DataFrame({"const": 1.0, "gb": (data.g == "b") * 1.0, "gc": (data.g == "c") * 1.0,
                      "x": data.x})
    endog = np.column_stack([data.s, data.m - data.s])
    explicit = sm.GLM(endog, X, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(res.params.to_numpy(), explicit.params.to_numpy(), rtol=1e-12)
    assert res.model.endog_names == "s, m - s"
    assert "s, m - s" in str(res.summary())


def test_offset_and_exposure_by_column_name_equal_offset_term():
    df = _toy()
    fam = sm.families.Poisson()
    a = glmkit.glm("y ~ g + x + offset(np.log(t))", df, family=fam).fit()
    b = glmkit.glm("y ~ g + x", df, family=fam, exposure="t").fit()
    c = glmkit.glm("y ~ g + x", df, family=fam, offset=np.log(df.t.to_numpy())).fit()
    for r in (b, c):
        np.testing.assert_allclose(r.params, a.params, rtol=1e-12)
    new = df.iloc[:7]
    # the exposure column (like the offset term) is part of the model spec ...
    np.testing.assert_allclose(b.predict(new), a.predict(new), rtol=1e-12)
    # ... an offset array is not (statsmodels): pass it to predict
    np.testing.assert_allclose(c.predict(new, offset=np.log(new.t)), a.predict(new), rtol=1e-12)


def test_intercept_transforms_and_removal():
    df = _toy()
    res = glmkit.glm("y ~ x + np.log(t) + I(x**2)", df, family=sm.families.Poisson()).fit()
    assert list(res.params.index) == ["Intercept", "x", "np.log(t)", "I(x ** 2)"]
    res0 = glmkit.glm("y ~ 0 + x", df, family=sm.families.Poisson()).fit()
    assert list(res0.params.index) == ["x"]
    res1 = glmkit.glm("y ~ x - 1", df, family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(res1.params, res0.params, rtol=1e-12)


def test_from_formula_and_formula_api_are_the_same_model():
    df = _toy()
    a = sm.GLM.from_formula("y ~ g * x", df, family=sm.families.Poisson()).fit()
    b = smf.glm("y ~ g * x", df, family=sm.families.Poisson()).fit()
    assert isinstance(smf.glm("y ~ x", df), glmkit.GLM)
    np.testing.assert_array_equal(a.params, b.params)
    assert list(a.params.index) == ["Intercept", "g[T.b]", "g[T.c]", "x", "g[T.b]:x",
                                    "g[T.c]:x"]


# --------------------------------------------------------------------- names
def test_parameter_names_everywhere():
    df = _toy()
    res = glmkit.glm("y ~ C(g) + x", df, family=sm.families.Poisson()).fit()
    names = ["Intercept", "C(g)[T.b]", "C(g)[T.c]", "x"]
    assert list(res.params.index) == names
    assert list(res.bse.index) == names
    assert list(res.pvalues.index) == names
    assert list(res.conf_int().index) == names
    assert list(res.cov_params().columns) == names
    text = str(res.summary())
    assert all(n in text for n in names)
    w = res.wald_test("C(g)[T.b] = 0, C(g)[T.c] = 0")
    R = np.zeros((2, 4))
    R[0, 1] = R[1, 2] = 1
    np.testing.assert_allclose(w.statistic, res.wald_test(R).statistic, rtol=1e-12)
    t = res.t_test("C(g)[T.b] - C(g)[T.c] = 0")
    np.testing.assert_allclose(t.effect, res.params["C(g)[T.b]"] - res.params["C(g)[T.c]"])
    # names holding a comma work in the list form
    res2 = glmkit.glm("y ~ C(g, Treatment('b')) + x", df, family=sm.families.Poisson()).fit()
    w2 = res2.wald_test(["C(g, Treatment('b'))[T.a] = 0"])
    z = res2.params.iloc[1] / res2.bse.iloc[1]
    np.testing.assert_allclose(w2.statistic, z**2, rtol=1e-10)


# ---------------------------------------------------------- prediction on new data
def test_predict_reapplies_level_coding_to_a_subset_of_levels():
    df = _toy()
    res = glmkit.glm("y ~ C(g, Treatment('b')) * x", df, family=sm.families.Poisson()).fit()
    new = pd.DataFrame({"g": ["c", "c"], "x": [0.5, -1.0]}, index=["p", "q"])
    X = np.array([[1, 0, 1, 0.5, 0, 0.5], [1, 0, 1, -1.0, 0, -1.0]])
    expected = np.exp(X @ res.params.to_numpy())
    out = res.predict(new)
    assert list(out.index) == ["p", "q"]
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-12)


def test_unseen_level_error_names_column_and_level():
    df = _toy()
    res = glmkit.glm("y ~ C(g, Treatment('b')) + x", df, family=sm.families.Poisson()).fit()
    new = pd.DataFrame({"g": ["a", "zz"], "x": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"column 'g' has level\(s\) 'zz' not seen"):
        res.predict(new)
    with pytest.raises(ValueError, match="'zz'"):
        res.get_prediction(new)
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['x'\]"):
        res.predict(new[["g"]])


def test_predict_rows_with_missing_values_are_nan():
    df = _toy()
    res = glmkit.glm("y ~ g + x", df, family=sm.families.Poisson()).fit()
    new = pd.DataFrame({"g": ["a", None, "b"], "x": [0.0, 1.0, np.nan]})
    out = res.predict(new)
    assert np.isfinite(out.iloc[0]) and np.isnan(out.iloc[1]) and np.isnan(out.iloc[2])


# ------------------------------------------------------------------- polars
def test_polars_frame_gives_the_pandas_fit():
    pl = pytest.importorskip("polars")
    ref, data = _ref("poisson_factor_offset")
    fam = sm.families.Poisson()
    res_pd = glmkit.glm(ref["formula_py"], data, family=fam).fit()
    res_pl = glmkit.glm(ref["formula_py"], pl.from_pandas(data), family=fam).fit()
    np.testing.assert_array_equal(res_pl.params.to_numpy(), res_pd.params.to_numpy())
    assert list(res_pl.params.index) == list(res_pd.params.index)
    new = pd.read_csv(REF / ref["newdata_file"])
    np.testing.assert_allclose(res_pl.predict(pl.from_pandas(new)), ref["predict"]["response"],
                               rtol=RTOL)


def test_polars_enum_sets_the_level_order():
    pl = pytest.importorskip("polars")
    df = _toy()
    frame = pl.from_pandas(df.reset_index(drop=True)).with_columns(
        pl.col("g").cast(pl.Enum(["c", "a", "b"])))
    res = glmkit.glm("y ~ g", frame, family=sm.families.Poisson()).fit()
    assert list(res.params.index) == ["Intercept", "g[T.a]", "g[T.b]"]


# ------------------------------------------------------------------- errors
def test_formula_errors_are_clear():
    df = _toy()
    with pytest.raises(ValueError, match="needs a response"):
        glmkit.glm("x + g", df)
    with pytest.raises(ValueError, match="only meaningful for the Binomial"):
        glmkit.glm("cbind(y, y) ~ x", df, family=sm.families.Poisson())
    with pytest.raises(ValueError, match="cannot be part of an interaction"):
        glmkit.glm("y ~ x + offset(t):x", df, family=sm.families.Poisson())
    with pytest.raises(ValueError, match="nosuch"):
        glmkit.glm("y ~ nosuch", df)
    with pytest.raises(ValueError, match="no column 'w'"):
        glmkit.glm("y ~ x", df, var_weights="w")
    with pytest.raises(TypeError, match="pandas or polars"):
        glmkit.glm("y ~ x", [[1, 2]])


def test_unused_categories_are_dropped_like_r():
    df = _toy()
    df["g"] = pd.Categorical(df.g, categories=["a", "b", "c", "zz"])
    res = glmkit.glm("y ~ g", df, family=sm.families.Poisson()).fit()
    assert list(res.params.index) == ["Intercept", "g[T.b]", "g[T.c]"]
    assert not res.fit_warnings


@pytest.mark.parametrize("formula", [
    "y ~ poly(x, 2) + C(g, Sum)", "y ~ center(x) + g:x", "y ~ 0 + g:C(h)",
    "y ~ C(g, levels=['c', 'b', 'a']) * x", "y ~ bs(x, df=4) + I(x > 0)",
])
def test_design_equals_formulaics_dense_model_matrix(formula):
    """glmkit builds the design from formulaic's sparse output, column by column; it must
    equal formulaic's ordinary dense model matrix, and predict on the training rows must
    rebuild the same rows."""
    from formulaic import model_matrix

    df = _toy().reset_index(drop=True)
    df["h"] = np.where(df.x > 0, "u", "v")
    model = glmkit.glm(formula, df, family=sm.families.Poisson())
    dense = model_matrix(formula, df).rhs
    assert model.exog_names == list(dense.columns)
    np.testing.assert_array_equal(model.exog, dense.to_numpy(dtype=float))
    X, offset = model.formula_info.design_for(df.iloc[:25])
    np.testing.assert_array_equal(X, model.exog[:25])
    assert offset is None


def test_binomial_factor_response_and_r_factor_function():
    df = _toy()
    df["ok"] = np.where(df.y > 3, "yes", "no")
    fam = sm.families.Binomial()
    a = glmkit.glm("ok ~ factor(g) + x", df, family=fam).fit()
    b = glmkit.glm("I(ok == 'yes') ~ C(g) + x", df, family=fam).fit()
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-12)
    assert list(a.params.index)[:2] == ["Intercept", "factor(g)[T.b]"]
    with pytest.raises(ValueError, match="column 'g' has level"):
        a.predict(pd.DataFrame({"g": ["zz"], "x": [0.0]}))
    with pytest.raises(TypeError, match="must be numeric"):
        glmkit.glm("ok ~ x", df)


def test_design_too_big_for_memory_is_refused_early(monkeypatch):
    import glmkit.formula as gf

    df = _toy()
    df["id"] = [f"id{i}" for i in range(len(df))]
    monkeypatch.setattr(gf, "_physical_memory", lambda: 10_000)
    with pytest.raises(MemoryError, match=r"'id' \(120 levels\).*id column"):
        glmkit.glm("y ~ id + x", df, family=sm.families.Poisson())


def test_many_level_factor_becomes_a_categorical_block():
    """A factor with >= CATEGORICAL_MIN_LEVELS levels is a CategoricalDesign block (no one-hot
    matrix); the fit equals the dense fit (invariant), names keep the formula's order."""
    import glmkit.formula as F
    from glmkit.design import CategoricalDesign, SplitDesign

    rng = np.random.default_rng(0)
    n, L = 3000, 40
    g = rng.integers(0, L, n)
    df = pd.DataFrame({"x": rng.normal(size=n), "g": [f"l{i:02d}" for i in g]})
    df["y"] = rng.poisson(np.exp(0.1 + rng.normal(0, 0.3, L)[g] + 0.2 * df["x"]))
    m = glmkit.glm("y ~ x + C(g)", df, family=glmkit.families.Poisson())
    assert isinstance(m.exog, SplitDesign)
    assert any(isinstance(b, CategoricalDesign) for b in m.exog.blocks)
    r = m.fit()
    old = F.CATEGORICAL_MIN_LEVELS
    try:
        F.CATEGORICAL_MIN_LEVELS = 10**9
        dense = glmkit.glm("y ~ x + C(g)", df, family=glmkit.families.Poisson()).fit()
    finally:
        F.CATEGORICAL_MIN_LEVELS = old
    assert isinstance(dense.model.exog, np.ndarray)
    assert list(r.params.index) == list(dense.params.index)
    np.testing.assert_allclose(r.params, dense.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.bse, dense.bse, rtol=1e-9)
    np.testing.assert_allclose(r.predict(df.iloc[:5]), dense.predict(df.iloc[:5]), rtol=1e-12)
