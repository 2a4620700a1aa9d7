"""glmkit.sklearn: scikit-learn's estimator checks, pipelines, and parity with scikit-learn's
(and glum's) penalized estimators under the documented alpha / l1_ratio mapping."""
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import ElasticNet, LogisticRegression, PoissonRegressor
from sklearn.metrics import accuracy_score, d2_tweedie_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import glmkit
from glmkit.sklearn import (
    GLMClassifier,
    GLMClassifierCV,
    GLMRegressor,
    GLMRegressorCV,
)

_NOT_UNIQUE = ("15 rows, 30 columns and separable classes: the unpenalized maximum "
               "likelihood estimate is not unique, so weighted and repeated fits may differ")


def _expected_failures(est):
    if isinstance(est, GLMClassifier) and getattr(est, "alpha", None) == 0:
        return {"check_sample_weight_equivalence_on_dense_data": _NOT_UNIQUE,
                "check_sample_weight_equivalence_on_sparse_data": _NOT_UNIQUE}
    return {}


@parametrize_with_checks(
    [GLMRegressor(), GLMRegressor(family="poisson"), GLMRegressor(alpha=0.1, l1_ratio=0.5),
     GLMClassifier(), GLMClassifier(alpha=0.01, l1_ratio=0.3),
     # few, large penalties: the checks' 15 x 30 designs make small ones slow to solve
     GLMRegressorCV(n_alphas=3, alpha_min_ratio=0.3, cv=3),
     GLMClassifierCV(n_alphas=3, alpha_min_ratio=0.3, cv=3)],
    expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def _poisson_data(n=400, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = rng.poisson(np.exp(0.3 + X @ np.linspace(0.4, -0.3, p)))
    return X, y.astype(float)


def _binary_data(n=500, p=4, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ np.linspace(1, -0.5, p))))).astype(int)
    return X, y


def test_results_are_the_glm_fit():
    X, y = _poisson_data()
    w = np.random.default_rng(3).integers(1, 4, size=y.size).astype(float)
    est = GLMRegressor(family="poisson").fit(X, y, sample_weight=w)
    ref = glmkit.GLM(y, glmkit.add_constant(X), family=glmkit.families.Poisson(),
                     freq_weights=w).fit()
    np.testing.assert_allclose(np.asarray(est.results_.bse), np.asarray(ref.bse), rtol=1e-10)
    np.testing.assert_allclose(np.r_[est.intercept_, est.coef_], np.asarray(ref.params),
                               rtol=1e-10)
    np.testing.assert_allclose(est.predict(X), np.asarray(ref.fittedvalues), rtol=1e-10)
    assert list(est.results_.params.index) == ["const", "x0", "x1", "x2", "x3"]
    np.testing.assert_allclose(np.asarray(est.results_.conf_int()), np.asarray(ref.conf_int()),
                               rtol=1e-10)
    assert "x3" in est.results_.summary().as_text()
    np.testing.assert_allclose(est.results_.get_influence().hat_matrix_diag,
                               ref.get_influence().hat_matrix_diag, rtol=1e-8)


def test_poisson_ridge_equals_sklearn():
    X, y = _poisson_data()
    w = np.random.default_rng(4).uniform(0.5, 2, size=y.size)
    for alpha in (0.01, 0.3):
        ref = PoissonRegressor(alpha=alpha, solver="newton-cholesky", tol=1e-12,
                               max_iter=1000).fit(X, y, sample_weight=w)
        est = GLMRegressor(family="poisson", alpha=alpha).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7)
        np.testing.assert_allclose(est.score(X, y, w), ref.score(X, y, w), rtol=1e-9)


def test_logistic_ridge_equals_sklearn_with_alpha_one_over_CN():
    X, y = _binary_data()
    C = 0.05
    ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    est = GLMClassifier(alpha=1 / (C * len(y))).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(est.decision_function(X), ref.decision_function(X), atol=1e-8)


def test_gaussian_elastic_net_equals_sklearn():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 6))
    y = X @ np.array([1.0, 0, 0, -0.5, 0.2, 0]) + rng.normal(size=300)
    ref = ElasticNet(alpha=0.1, l1_ratio=0.7, tol=1e-14, max_iter=100000).fit(X, y)
    est = GLMRegressor(alpha=0.1, l1_ratio=0.7).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-8)
    assert (est.coef_ == 0).sum() == (ref.coef_ == 0).sum() > 0


def test_poisson_lasso_equals_glum():
    glum = pytest.importorskip("glum")
    X, y = _poisson_data(p=6)
    ref = glum.GeneralizedLinearRegressor(family="poisson", alpha=0.05, l1_ratio=0.8,
                                          gradient_tol=1e-12, max_iter=1000).fit(X, y)
    est = GLMRegressor(family="poisson", alpha=0.05, l1_ratio=0.8).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-7)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-7)


@pytest.mark.parametrize("family,power", [("normal", 0), ("poisson", 1), ("gamma", 2),
                                          ("tweedie", 1.5)])
def test_score_is_d2_tweedie(family, power):
    X, y = _poisson_data(seed=7)
    y = y + 0.5 if family == "gamma" else y
    est = GLMRegressor(family=family, power=1.5 if family == "tweedie" else None).fit(X, y)
    w = np.linspace(0.5, 1.5, y.size)
    mu = est.predict(X)
    assert est.score(X, y, w) == pytest.approx(d2_tweedie_score(y, mu, power=power,
                                                                sample_weight=w), rel=1e-10)
    if family == "normal":
        assert est.score(X, y) == pytest.approx(r2_score(y, mu), rel=1e-10)


def test_multiclass_is_mnlogit_and_sklearn_unpenalized():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(600, 3))
    eta = np.column_stack([np.zeros(600), 0.5 + X @ [1, -1, 0.5], -0.3 + X @ [0.2, 0.8, -1]])
    P = np.exp(eta) / np.exp(eta).sum(1, keepdims=True)
    y = np.array(["a", "b", "c"])[(rng.random(600)[:, None] > P.cumsum(1)).sum(1)]
    est = GLMClassifier().fit(X, y)
    ref = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12,
                             max_iter=1000).fit(X, y)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    assert list(est.classes_) == ["a", "b", "c"]
    assert est.score(X, y) == accuracy_score(y, ref.predict(X))
    mn = glmkit.MNLogit(pd.Categorical(y).codes, glmkit.add_constant(X)).fit()
    np.testing.assert_allclose(np.asarray(est.results_.bse), np.asarray(mn.bse), rtol=1e-10)
    with pytest.raises(ValueError, match="Only binary.*3 classes.*link='logit'.*OneVsRest"):
        GLMClassifier(link="probit").fit(X, y)
    with pytest.raises(ValueError, match="3 classes.*no bounds"):
        GLMClassifier(alpha=0.1, bounds=(-1, 1)).fit(X, y)
    with pytest.raises(ValueError, match="penalty_weights need alpha > 0"):
        GLMClassifier(penalty_weights=[1, 1, 2]).fit(X, y)


def test_binary_links_and_decision_function():
    X, y = _binary_data()
    est = GLMClassifier(link="cloglog").fit(X, y)
    p = est.predict_proba(X)[:, 1]
    np.testing.assert_allclose(est.decision_function(X), np.log(p / (1 - p)), rtol=1e-10)
    np.testing.assert_array_equal(est.predict(X), (p > 0.5).astype(int))
    ref = glmkit.GLM(y, glmkit.add_constant(X), family=glmkit.families.Binomial(
        glmkit.families.links.CLogLog())).fit()
    np.testing.assert_allclose(p, np.asarray(ref.fittedvalues), rtol=1e-9)


def _frame(n=400, seed=9):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"region": rng.choice(["north", "south", "east"], n),
                       "age": rng.uniform(20, 70, n), "income": rng.lognormal(3, 0.5, n)})
    eta = -1 + 0.02 * df["age"] + 0.4 * (df["region"] == "south")
    return df, rng.poisson(np.exp(eta)).astype(float)


def test_pipeline_column_transformer_grid_search_on_a_dataframe():
    df, y = _frame()
    pre = ColumnTransformer([("cat", OneHotEncoder(drop="first", sparse_output=False), ["region"]),
                             ("num", StandardScaler(), ["age", "income"])])
    pipe = make_pipeline(pre, GLMRegressor(family="poisson")).set_output(transform="pandas")
    grid = GridSearchCV(pipe, {"glmregressor__alpha": [0.0, 0.01, 0.1]}, cv=3).fit(df, y)
    best = grid.best_estimator_[-1]
    assert list(best.feature_names_in_) == ["cat__region_north", "cat__region_south",
                                            "num__age", "num__income"]
    assert grid.best_params_["glmregressor__alpha"] in (0.0, 0.01, 0.1)
    scores = cross_val_score(clone(pipe), df, y, cv=4)
    assert scores.shape == (4,) and np.all(scores < 1)
    fitted = clone(pipe).fit(df, y)
    res = fitted[-1].results_
    assert list(res.params.index)[0] == "const" and "num__age" in res.params.index
    np.testing.assert_allclose(fitted.predict(df), np.asarray(res.fittedvalues), rtol=1e-10)


def test_polars_input_sets_feature_names():
    pl = pytest.importorskip("polars")
    df, y = _frame()
    X = pl.from_pandas(df[["age", "income"]])
    est = GLMRegressor(family="poisson").fit(X, y)
    assert list(est.feature_names_in_) == ["age", "income"] and est.n_features_in_ == 2
    ref = GLMRegressor(family="poisson").fit(df[["age", "income"]], y)
    np.testing.assert_allclose(est.predict(X), ref.predict(df[["age", "income"]]), rtol=1e-12)


def test_bad_parameters_are_clear_errors():
    X, y = _poisson_data()
    with pytest.raises(ValueError, match="family must be"):
        GLMRegressor(family="binomial").fit(X, y)
    with pytest.raises(ValueError, match="link must be"):
        GLMRegressor(link="logarithm").fit(X, y)
    with pytest.raises(ValueError, match="alpha must be"):
        GLMRegressor(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="needs a known theta"):
        GLMRegressor(family="negative.binomial", alpha=0.1).fit(X, y)
    before = X.copy()
    GLMRegressor(family="negative.binomial", theta=2.0, alpha=0.1).fit(X, y)
    np.testing.assert_array_equal(X, before)


def test_sparse_input_from_a_column_transformer():
    df, y = _frame()
    pre = ColumnTransformer([("cat", OneHotEncoder(), ["region"])], sparse_threshold=1.0)
    pipe = make_pipeline(pre, GLMRegressor(family="poisson", fit_intercept=False)).fit(df, y)
    Xs = pre.fit_transform(df)
    assert scipy.sparse.issparse(Xs)
    dense = GLMRegressor(family="poisson", fit_intercept=False).fit(Xs.toarray(), y)
    np.testing.assert_allclose(pipe[-1].coef_, dense.coef_, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(pipe[-1].results_.bse),
                               np.asarray(dense.results_.bse), rtol=1e-8)


def test_classifier_cv_equals_cv_glmnet():
    import json
    from pathlib import Path

    from sklearn.model_selection import PredefinedSplit

    ref_dir = Path(__file__).parent / "reference" / "checks"
    d = pd.read_csv(ref_dir / "cv_data.csv")
    with open(ref_dir / "cv.json", encoding="utf-8") as fh:
        r = json.load(fh)["glmnet_binomial"]
    X = d[["x1", "x2", "x3", "x4"]]
    for select, key in (("min", "lambda_min"), ("1se", "lambda_1se")):
        est = GLMClassifierCV(alphas=r["lambda"], cv=PredefinedSplit(d["foldid"] - 1),
                              select=select).fit(X, d["yb"])
        assert est.alpha_ == pytest.approx(r[key], rel=1e-12)
        np.testing.assert_allclose(est.cv_results_.mean_deviance, r["cvm"], rtol=1e-7)
        single = GLMClassifier(alpha=est.alpha_, l1_ratio=1.0).fit(X, d["yb"])
        np.testing.assert_allclose(est.coef_, single.coef_, atol=1e-9)
    assert est.deviance_path_.shape == (len(r["lambda"]), 5)
    # integer cv: seeded random folds, the same as glmkit.cross_validate's
    reg = GLMRegressorCV(family="poisson", n_alphas=12, cv=4, random_state=3).fit(X, d["y"])
    model = glmkit.GLM(d["y"].to_numpy(), glmkit.add_constant(X.to_numpy()),
                       family=glmkit.families.Poisson())
    cv = glmkit.cross_validate(model, n_folds=4, seed=3, alphas=reg.alphas_)
    assert reg.alpha_ == cv.alpha_min


def test_negative_binomial_theta_estimated_as_glm_nb():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 2))
    y = rng.negative_binomial(2, 2 / (2 + np.exp(1 + 0.3 * X[:, 0]))).astype(float)
    est = GLMRegressor(family="negative.binomial").fit(X, y)
    nb = glmkit.GLM(y, glmkit.add_constant(X),
                    family=glmkit.families.NegativeBinomial(alpha=None)).fit()
    assert est.results_.theta == pytest.approx(nb.theta, rel=1e-10)
    assert est.family_.alpha == pytest.approx(1 / nb.theta, rel=1e-10)
    mu = est.predict(X)
    assert est.score(X, y) == pytest.approx(glmkit.checks.d2_score(
        y, mu, glmkit.families.NegativeBinomial(alpha=1 / nb.theta)), rel=1e-12)


def test_fast_predict_paths_agree_with_validation():
    df, y = _frame()
    X = df[["age", "income"]]
    est = GLMRegressor(family="poisson").fit(X, y)
    mu = est.predict(X)   # the DataFrame fast path
    np.testing.assert_allclose(mu, est.family_.link.inverse(
        X.to_numpy() @ est.coef_ + est.intercept_), rtol=1e-14)
    # mixed column types: converted to float64 as scikit-learn's validation does
    np.testing.assert_allclose(est.predict(X.astype({"age": "float32"})), mu, rtol=1e-6)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(X[["income", "age"]])
    bad = X.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.predict(bad)
    arr = GLMRegressor(family="poisson").fit(X.to_numpy(), y)
    np.testing.assert_allclose(arr.predict(X.to_numpy()), mu, rtol=1e-10)
    with pytest.raises(ValueError, match="features"):
        arr.predict(X.to_numpy()[:, :1])
    with pytest.raises(ValueError, match="infinity|NaN"):
        arr.predict(np.array([[np.inf, 1.0]]))
