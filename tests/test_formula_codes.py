"""The formula built from level codes (glmkit.formula_codes) against formulaic on every row.

Source of every expected value: the invariant "every fast path equals the generic path"
(design/README tier 3): the same formula on the same data with the codes path switched off
(``glmkit.formula._assemble_by_codes`` returning None, ``FormulaInfo.codes_plan`` None)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.formula as F
from glmkit.design import CategoricalDesign, DenseDesign, SplitDesign


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 40, n)            # a factor of many levels (a CategoricalDesign)
    h = rng.integers(0, 4, n)             # a small one (dense columns)
    a = rng.normal(0, 0.3, 40)
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.2 + a[g] + 0.1 * h + 0.2 * x))
    return pd.DataFrame({
        "y": y.astype(float), "x": x, "z": rng.uniform(size=n), "yi": y,
        "g": pd.Categorical([f"l{i:02d}" for i in g]),
        "s": [f"l{i:02d}" for i in g],       # the same levels as text (object dtype)
        "h": h,                              # integers used as a factor with C()
        "hc": pd.Categorical(np.array(["c", "a", "d", "b"])[h], categories=["d", "c", "b", "a"]),
    })


def _generic(monkeypatch, formula, df, **kw):
    with monkeypatch.context() as mp:
        mp.setattr(F, "_assemble_by_codes", lambda *a, **k: None)
        return glmkit.glm(formula, df, family=glmkit.families.Poisson(), **kw)


def _dense(X):
    return X.to_dense() if isinstance(X, SplitDesign) else np.asarray(X, dtype=float)


FORMULAS = [
    "y ~ C(g) + C(h) + x + z",
    "y ~ x + C(g, Treatment('l07')) + C(h)",
    "y ~ C(s) + x",                          # object column coded by its values
    "y ~ g + hc + x",                        # categorical columns named plainly
    "y ~ 0 + C(g) + x",                      # no intercept: every level of g
    "y ~ C(g, contr.sum) + x",               # sum contrasts: the table's rows are not units
    "y ~ C(h) + x",                          # no factor of many levels: a dense array
    "yi ~ C(g) + x",                         # an integer response
    "y ~ x + z",                             # numeric columns only
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_codes_design_equals_formulaic(monkeypatch, formula):
    df = _data()
    fast = glmkit.glm(formula, df, family=glmkit.families.Poisson())
    slow = _generic(monkeypatch, formula, df)
    assert fast.formula_info.codes_plan is not None
    assert slow.formula_info.codes_plan is None
    assert type(fast.exog) is type(slow.exog)
    if isinstance(fast.exog, SplitDesign):
        assert [type(b) for b in fast.exog.blocks] == [type(b) for b in slow.exog.blocks]
    np.testing.assert_array_equal(_dense(fast.exog), _dense(slow.exog))
    np.testing.assert_array_equal(np.asarray(fast.endog), np.asarray(slow.endog))
    assert fast.exog_names == slow.exog_names
    assert fast.terms == slow.terms
    assert fast.formula_info.to_dict() == slow.formula_info.to_dict()
    assert fast.formula_info.required_columns == slow.formula_info.required_columns


def test_categorical_blocks_where_expected():
    m = glmkit.glm("y ~ C(g) + C(h) + x", _data(), family=glmkit.families.Poisson())
    assert [type(b) for b in m.exog.blocks] == [DenseDesign, CategoricalDesign, DenseDesign]


def test_fit_and_statistics_equal(monkeypatch):
    df = _data()
    df.index = 3 * np.arange(len(df)) + 7      # row labels kept on both paths
    formula = "y ~ C(g) + C(h) + x + z"
    r1 = glmkit.glm(formula, df, family=glmkit.families.Poisson()).fit()
    r2 = _generic(monkeypatch, formula, df).fit()
    np.testing.assert_allclose(r1.params, r2.params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r1.bse, r2.bse, rtol=1e-12)
    h1, h2 = r1.get_robustcov_results("HC1"), r2.get_robustcov_results("HC1")
    np.testing.assert_allclose(h1.bse, h2.bse, rtol=1e-12)
    assert r1.deviance == pytest.approx(r2.deviance, rel=1e-13)
    assert list(r1.fittedvalues.index) == list(df.index) == list(r2.fittedvalues.index)


@pytest.mark.parametrize("formula", ["y ~ C(g) + C(h) + x + z", "y ~ C(s) + x", "y ~ C(h) + x",
                                     "y ~ C(g, contr.sum) + x", "y ~ 0 + C(g) + x",
                                     "y ~ x + C(g, Treatment('l07')) + C(hc)"])
def test_prediction_on_new_rows_equals_formulaic(formula):
    df, new = _data(), _data(500, seed=3)
    res = glmkit.glm(formula, df, family=glmkit.families.Poisson()).fit()
    info = res.model.formula_info
    plan = info.codes_plan
    assert plan is not None
    f1 = res.get_prediction(new).summary_frame()
    p1 = res.predict(new)
    X1 = info.design_for(new)[0]
    info.codes_plan = None
    try:
        f2 = res.get_prediction(new).summary_frame()
        p2 = res.predict(new)
        X2 = info.design_for(new)[0]
    finally:
        info.codes_plan = plan
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_allclose(f1.to_numpy(), f2.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(p1, p2, rtol=1e-13)
    assert list(f1.index) == list(new.index)


def test_new_rows_with_missing_values_or_unseen_levels():
    df = _data()
    res = glmkit.glm("y ~ C(g) + x", df, family=glmkit.families.Poisson()).fit()
    new = _data(20, seed=4)
    new.loc[3, "x"] = np.nan
    frame = res.get_prediction(new).summary_frame()
    assert np.isnan(frame["mean"].iloc[3]) and np.isfinite(frame["mean"].drop(index=3)).all()
    bad = _data(20, seed=4)
    bad["g"] = bad["g"].cat.add_categories(["zz"])
    bad.loc[0, "g"] = "zz"
    with pytest.raises(ValueError, match="not seen when the model was fitted"):
        res.get_prediction(bad)


@pytest.mark.parametrize("formula", ["y ~ C(g) * x", "y ~ C(g) + np.log(z)",
                                     "y ~ C(g) + x + offset(np.log(z))"])
def test_other_formulas_use_formulaic(formula):
    m = glmkit.glm(formula, _data(), family=glmkit.families.Poisson())
    assert m.formula_info.codes_plan is None


def test_missing_values_use_formulaic(monkeypatch):
    df = _data()
    df.loc[[5, 17], "x"] = np.nan
    df.loc[9, "g"] = np.nan
    with pytest.warns(UserWarning, match="dropped 3 row"):
        m = glmkit.glm("y ~ C(g) + x", df, family=glmkit.families.Poisson(), missing="drop")
    assert m.formula_info.codes_plan is None and m.nobs == len(df) - 3


def test_unused_categories_dropped_as_before(monkeypatch):
    """R's drop.unused.levels: a category with no rows is not a column (both paths)."""
    df = _data()
    df["g"] = df["g"].cat.add_categories(["never"])
    fast = glmkit.glm("y ~ C(g) + x", df, family=glmkit.families.Poisson())
    slow = _generic(monkeypatch, "y ~ C(g) + x", df)
    assert not any("never" in c for c in fast.exog_names)
    assert fast.exog_names == slow.exog_names


def test_row_quadratic_narrow_block_beside_a_wide_factor():
    """x_i' B x_i of a SplitDesign (cross terms taken through the narrower block) equals
    the dense einsum."""
    rng = np.random.default_rng(1)
    n = 400
    cat = CategoricalDesign(rng.integers(0, 60, n), 60)
    X = SplitDesign([DenseDesign(rng.normal(size=(n, 2))), cat,
                     DenseDesign(rng.normal(size=(n, 3)))])
    A = X.to_dense()
    M = rng.normal(size=(A.shape[1], A.shape[1]))
    B = M @ M.T
    np.testing.assert_allclose(X.row_quadratic(B), np.einsum("ij,ij->i", A @ B, A),
                               rtol=1e-12)


@pytest.mark.parametrize("y", [
    np.random.default_rng(2).poisson(3.0, 10_000).astype(float),           # the table
    np.random.default_rng(3).poisson(3.0, 100).astype(float),              # too few rows
    np.r_[np.random.default_rng(4).poisson(2.0, 9_999), 0.5],               # not counts
    np.r_[np.random.default_rng(5).poisson(2.0, 9_999), np.nan],
    np.r_[np.random.default_rng(6).poisson(2.0, 9_999), 1e7],               # max > rows
    np.r_[np.random.default_rng(7).poisson(2.0, 9_999), -1.0],
])
def test_log_factorial_equals_gammaln(y):
    """Poisson's log y! from a table equals scipy's gammaln(y + 1) exactly (same arguments)."""
    from scipy import special

    from glmkit.families.family import log_factorial

    np.testing.assert_array_equal(log_factorial(y), special.gammaln(y + 1.0))


def test_float32_grams_only_where_dense_columns_are_many():
    """The float32 X'WX applies to dense blocks only: a split design counts their elements
    (a factor's columns are float64 bincounts whatever the flag)."""
    from glmkit.solvers.irls import _rounded_elements

    rng = np.random.default_rng(3)
    n = 1000
    X = SplitDesign([DenseDesign(np.ones((n, 1))), CategoricalDesign(rng.integers(0, 300, n), 300),
                     DenseDesign(rng.normal(size=(n, 2)))])
    assert _rounded_elements(X) == n * 3
    assert _rounded_elements(DenseDesign(rng.normal(size=(n, 4)))) == n * 4


def test_nullable_columns_with_missing_values(monkeypatch):
    """pandas' nullable Int64 / Float64 columns with <NA>: the rows are dropped as on
    formulaic's path (the codes path declines missing values)."""
    df = _data()
    df["xi"] = pd.array(np.arange(len(df)) % 7, dtype="Int64")
    df.loc[[3, 11], "xi"] = pd.NA
    df["xf"] = pd.array(df["x"].to_numpy(), dtype="Float64")
    kw = {"missing": "drop"}
    with pytest.warns(UserWarning, match="dropped 2 row"):
        fast = glmkit.glm("y ~ C(g) + xi + xf", df, family=glmkit.families.Poisson(), **kw)
    with pytest.warns(UserWarning, match="dropped 2 row"):
        slow = _generic(monkeypatch, "y ~ C(g) + xi + xf", df, **kw)
    np.testing.assert_array_equal(_dense(fast.exog), _dense(slow.exog))
    full = glmkit.glm("y ~ C(g) + xf", df, family=glmkit.families.Poisson())
    assert full.formula_info.codes_plan is not None


def test_second_build_reuses_the_plan_and_equals_formulaic(monkeypatch):
    """The same formula on columns of the same types and levels reuses the spec and plan
    (formulaic does not run again) and still equals formulaic on every row; other rows of
    data give their own design."""
    from glmkit.formula_codes import PLANS

    PLANS.clear()
    df, other = _data(), _data(seed=5)
    first = glmkit.glm("y ~ C(g) + C(h) + x", df, family=glmkit.families.Poisson())
    calls = []
    real = F._materialize_fit
    monkeypatch.setattr(F, "_materialize_fit", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = glmkit.glm("y ~ C(g) + C(h) + x", other, family=glmkit.families.Poisson())
    assert calls == [] and again.formula_info.codes_plan is first.formula_info.codes_plan
    monkeypatch.undo()
    slow = _generic(monkeypatch, "y ~ C(g) + C(h) + x", other)
    np.testing.assert_array_equal(_dense(again.exog), _dense(slow.exog))
    assert again.exog_names == slow.exog_names and again.terms == slow.terms
    assert again.formula_info.to_dict() == slow.formula_info.to_dict()


@pytest.mark.parametrize("change", ["category order", "float levels", "ordered", "levels"])
def test_plan_not_reused_when_types_or_levels_differ(monkeypatch, change):
    """Frames that differ in what formulaic's spec depends on do not share a plan: the
    names and design equal formulaic's on each (pandas calls unordered categoricals with
    the same categories in another order equal; 1 == 1.0 in Python)."""
    df = _data()
    glmkit.glm("y ~ C(hc) + C(h) + x", df, family=glmkit.families.Poisson())
    if change == "category order":
        df["hc"] = df["hc"].cat.reorder_categories(["a", "b", "c", "d"])
    elif change == "float levels":
        df["h"] = df["h"].astype(float)
    elif change == "ordered":
        df["hc"] = df["hc"].cat.as_ordered()
    else:
        df["h"] = df["h"] + 1
    fast = glmkit.glm("y ~ C(hc) + C(h) + x", df, family=glmkit.families.Poisson())
    slow = _generic(monkeypatch, "y ~ C(hc) + C(h) + x", df)
    assert fast.exog_names == slow.exog_names
    np.testing.assert_array_equal(_dense(fast.exog), _dense(slow.exog))
    assert fast.formula_info.to_dict() == slow.formula_info.to_dict()
