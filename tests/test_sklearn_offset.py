"""Offsets on glmkit.sklearn's estimators: the same fit as ``GLM(..., offset=)``
(invariant), glum's estimators with ``offset`` (numbers), and scikit-learn's metadata
routing through Pipeline, GridSearchCV and cross_validate."""
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import glmkit
from glmkit.sklearn import GLMClassifier, GLMClassifierCV, GLMRegressor, GLMRegressorCV

F = glmkit.families


def _counts(n=400, p=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    exposure = rng.uniform(0.2, 5.0, n)
    y = rng.poisson(exposure * np.exp(0.2 + X @ np.linspace(0.5, -0.3, p))).astype(float)
    return X, y, np.log(exposure)


def _binary(n=500, p=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    off = rng.normal(scale=0.8, size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(off - 0.3 + X @ np.linspace(1, -0.5, p))))
         ).astype(int)
    return X, y, off


def test_regressor_with_offset_is_the_glm_fit_with_offset():
    X, y, off = _counts()
    w = np.random.default_rng(3).integers(1, 4, size=y.size).astype(float)
    off_before = off.copy()
    est = GLMRegressor(family="poisson").fit(X, y, sample_weight=w, offset=off)
    np.testing.assert_array_equal(off, off_before)          # the user's array untouched
    ref = glmkit.GLM(y, glmkit.add_constant(X), family=F.Poisson(), offset=off,
                     freq_weights=w).fit()
    np.testing.assert_allclose(np.r_[est.intercept_, est.coef_], np.asarray(ref.params),
                               rtol=1e-10)
    np.testing.assert_allclose(np.asarray(est.results_.bse), np.asarray(ref.bse), rtol=1e-10)
    assert est.results_.deviance == pytest.approx(ref.deviance, rel=1e-12)
    np.testing.assert_allclose(est.predict(X, offset=off), np.asarray(ref.fittedvalues),
                               rtol=1e-10)
    # no offset at predict time: 0 (as glum's and statsmodels' predict on new rows)
    np.testing.assert_allclose(est.predict(X), ref.predict(glmkit.add_constant(X)),
                               rtol=1e-10)
    d2 = glmkit.checks.d2_score(y, est.predict(X, offset=off), F.Poisson(), sample_weight=w)
    assert est.score(X, y, sample_weight=w, offset=off) == pytest.approx(d2, rel=1e-12)
    # the offset matters: without it the fit differs
    assert abs(GLMRegressor(family="poisson").fit(X, y).intercept_ - est.intercept_) > 0.1


def test_penalized_and_binary_offsets_equal_glum():
    glum = pytest.importorskip("glum")
    X, y, off = _counts(p=5)
    for alpha, l1 in ((0.0, 0.0), (0.02, 0.0), (0.05, 0.7)):
        ref = glum.GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=l1,
                                              gradient_tol=1e-12, max_iter=1000)
        ref.fit(X, y, offset=off)
        est = GLMRegressor(family="poisson", alpha=alpha, l1_ratio=l1).fit(X, y, offset=off)
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-7)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-7)
        np.testing.assert_allclose(est.predict(X, offset=off), ref.predict(X, offset=off),
                                   rtol=1e-6)
        assert est.score(X, y, offset=off) == pytest.approx(ref.score(X, y, offset=off),
                                                            rel=1e-7)
    Xb, yb, offb = _binary()
    ref = glum.GeneralizedLinearRegressor(family="binomial", alpha=0.01, l1_ratio=0.5,
                                          gradient_tol=1e-12, max_iter=1000)
    ref.fit(Xb, yb, offset=offb)
    est = GLMClassifier(alpha=0.01, l1_ratio=0.5).fit(Xb, yb, offset=offb)
    np.testing.assert_allclose(est.coef_[0], ref.coef_, atol=1e-7)
    np.testing.assert_allclose(est.intercept_[0], ref.intercept_, atol=1e-7)
    np.testing.assert_allclose(est.predict_proba(Xb, offset=offb)[:, 1],
                               ref.predict(Xb, offset=offb), rtol=1e-6)


def test_classifier_offset_is_the_binomial_glm_with_offset():
    X, y, off = _binary()
    est = GLMClassifier().fit(X, y, offset=off)
    ref = glmkit.GLM(y, glmkit.add_constant(X), family=F.Binomial(), offset=off).fit()
    np.testing.assert_allclose(np.asarray(est.results_.bse), np.asarray(ref.bse), rtol=1e-10)
    np.testing.assert_allclose(est.predict_proba(X, offset=off)[:, 1],
                               np.asarray(ref.fittedvalues), rtol=1e-10)
    np.testing.assert_allclose(est.decision_function(X, offset=off),
                               ref.predict(which="linear"), rtol=1e-10, atol=1e-12)
    pred = (np.asarray(ref.fittedvalues) > 0.5).astype(int)
    np.testing.assert_array_equal(est.predict(X, offset=off), pred)
    assert est.score(X, y, offset=off) == pytest.approx(np.mean(pred == y))


def test_cv_estimators_keep_each_folds_offsets():
    X, y, off = _counts(seed=4)
    est = GLMRegressorCV(family="poisson", n_alphas=8, cv=4, random_state=2).fit(
        X, y, offset=off)
    model = glmkit.GLM(y, glmkit.add_constant(X), family=F.Poisson(), offset=off)
    cv = glmkit.cross_validate(model, n_folds=4, seed=2, alphas=est.alphas_)
    np.testing.assert_allclose(est.cv_results_.mean_deviance, cv.mean_deviance, rtol=1e-10)
    assert est.alpha_ == cv.alpha_min
    Xb, yb, offb = _binary(seed=5)
    clf = GLMClassifierCV(n_alphas=6, cv=3, random_state=0).fit(Xb, yb, offset=offb)
    single = GLMClassifier(alpha=clf.alpha_, l1_ratio=1.0).fit(Xb, yb, offset=offb)
    np.testing.assert_allclose(clf.coef_, single.coef_, atol=1e-9)


def test_bad_offsets_are_clear_errors():
    X, y, off = _counts()
    with pytest.raises(ValueError, match=r"offset must have shape \(n_samples,\)"):
        GLMRegressor(family="poisson").fit(X, y, offset=off[:-1])
    bad = off.copy()
    bad[3] = -np.inf
    with pytest.raises(ValueError, match="offset contains NaN or infinity"):
        GLMRegressor(family="poisson").fit(X, y, offset=bad)
    est = GLMRegressor(family="poisson").fit(X, y, offset=off)
    with pytest.raises(ValueError, match="offset must have shape"):
        est.predict(X, offset=off[:5])
    y3 = np.arange(y.size) % 3
    with pytest.raises(ValueError, match="offset is supported for two classes only"):
        GLMClassifier().fit(X, y3, offset=off)
    with pytest.raises(ValueError, match="offset is supported for two classes only"):
        GLMClassifier().fit(X, y3).predict_proba(X, offset=off)


def test_metadata_routing_passes_offsets_through_meta_estimators():
    X, y, off = _counts(seed=6)
    with sklearn.config_context(enable_metadata_routing=True):
        est = GLMRegressor(family="poisson").set_fit_request(offset=True) \
            .set_score_request(offset=True)
        folds = KFold(3, shuffle=True, random_state=0)
        out = cross_validate(est, X, y, cv=folds, params={"offset": off})
        for k, (train, test) in enumerate(folds.split(X)):
            ref = GLMRegressor(family="poisson").fit(X[train], y[train], offset=off[train])
            assert out["test_score"][k] == pytest.approx(
                ref.score(X[test], y[test], offset=off[test]), rel=1e-12)
        grid = GridSearchCV(est, {"alpha": [0.0, 0.01]}, cv=folds).fit(X, y, offset=off)
        np.testing.assert_allclose(grid.best_estimator_.coef_, GLMRegressor(
            family="poisson", alpha=grid.best_params_["alpha"]).fit(X, y, offset=off).coef_,
            rtol=1e-12)
        pipe = make_pipeline(StandardScaler(), GLMRegressor(family="poisson")
                             .set_fit_request(offset=True)
                             .set_predict_request(offset=True)).fit(X, y, offset=off)
        Xs = StandardScaler().fit_transform(X)
        ref = GLMRegressor(family="poisson").fit(Xs, y, offset=off)
        np.testing.assert_allclose(pipe[-1].coef_, ref.coef_, rtol=1e-12)
        np.testing.assert_allclose(pipe.predict(X, offset=off), ref.predict(Xs, offset=off),
                                   rtol=1e-12)
        # an offset nobody asked for is scikit-learn's error, not silently dropped
        with pytest.raises(Exception, match="offset"):
            cross_validate(GLMRegressor(family="poisson"), X, y, params={"offset": off})


def test_onnx_export_of_an_estimator_fitted_with_an_offset():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    X, y, off = _counts()
    est = GLMRegressor(family="poisson", alpha=0.01).fit(X, y, offset=off)
    proto = est.to_onnx()
    assert [i.name for i in proto.graph.input] == ["X", "offset"]
    sess = ort.InferenceSession(proto.SerializeToString())
    mu, _ = sess.run(["mu", "eta"], {"X": X, "offset": off})
    np.testing.assert_allclose(mu, est.predict(X, offset=off), rtol=1e-13)
    assert [i.name for i in GLMRegressor(family="poisson").fit(X, y).to_onnx().graph.input] \
        == ["X"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xb, yb, offb = _binary()
        clf = GLMClassifier().fit(Xb, yb, offset=offb)
    sess = ort.InferenceSession(clf.to_onnx().SerializeToString())
    mu, _ = sess.run(["mu", "eta"], {"X": Xb, "offset": offb})
    np.testing.assert_allclose(mu, clf.predict_proba(Xb, offset=offb)[:, 1], rtol=1e-13)
