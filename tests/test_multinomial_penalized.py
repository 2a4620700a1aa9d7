"""Penalized multinomial logit (GLMClassifier with alpha > 0 on K > 2 classes): R's glmnet
(type.multinomial='ungrouped', tests/reference/multinomial_penalized/make_reference.R),
scikit-learn's multinomial LogisticRegression (C = 1 / (alpha N)), the KKT conditions and
the invariants of the symmetric parametrization; ONNX export of multi-class models."""
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression

import glmkit
from glmkit.models.multinomial_penalized import fit_multinomial_penalized
from glmkit.sklearn import GLMClassifier, GLMClassifierCV

REF = Path(__file__).parent / "reference" / "multinomial_penalized"


def _ref():
    with open(REF / "ref.json", encoding="utf-8") as fh:
        return json.load(fh), pd.read_csv(REF / "data.csv")


@pytest.mark.parametrize("case", range(4))
def test_equals_glmnet_ungrouped_multinomial(case):
    r, d = _ref()
    c = r["cases"][case]
    keep = d["y"].isin(c["classes"]).to_numpy()
    X, y = d.loc[keep, [f"x{j}" for j in range(1, 6)]], d.loc[keep, "y"]
    w = d.loc[keep, "weights"].to_numpy(float) if c["weights"] else None
    for lam, B in list(zip(c["lambda"], c["coef"]))[::3]:
        est = GLMClassifier(alpha=lam, l1_ratio=c["l1_ratio"]).fit(X, y, sample_weight=w)
        B = np.asarray(B)
        assert list(est.classes_) == c["classes"]
        assert est.results_.converged and est.results_.kkt < 1e-9
        # glmnet stops at thresh 1e-16 on its objective change: ~3e-8 from the maximum
        np.testing.assert_allclose(est.intercept_, B[:, 0], atol=1e-7)
        np.testing.assert_allclose(est.coef_, B[:, 1:], atol=1e-7)
        np.testing.assert_array_equal(est.coef_ == 0, np.abs(B[:, 1:]) < 1e-9)


def _three_classes(n=600, seed=8):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    eta = np.column_stack([np.zeros(n), 0.5 + X[:, :3] @ [1, -1, 0.5],
                           -0.3 + X[:, :3] @ [0.2, 0.8, -1]])
    P = np.exp(eta) / np.exp(eta).sum(1, keepdims=True)
    y = np.array(["a", "b", "c"])[(rng.random(n)[:, None] > P.cumsum(1)).sum(1)]
    return X, y


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_equals_sklearn_logistic_regression_with_alpha_one_over_CN(l1_ratio):
    X, y = _three_classes()
    w = np.random.default_rng(2).uniform(0.5, 2, size=y.size)
    C = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # saga's slow convergence, l1_ratio's future
        ref = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-15,
                                 max_iter=100000).fit(X, y, sample_weight=w)
    est = GLMClassifier(alpha=1 / (C * w.sum()), l1_ratio=l1_ratio).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-8)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


def _kkt(X1, codes, K, B, alpha, r, w):
    """The largest KKT violation, from the gradient written out here."""
    eta = X1 @ B.T
    P = np.exp(eta - eta.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    Y = np.eye(K)[codes]
    G = -((Y - P) * w[:, None]).T @ X1 / w.sum()            # K x p gradient of -llf / N
    G[:, 1:] += alpha * (1 - r) * B[:, 1:]
    viol = np.abs(G[:, 0])                                  # intercepts: unpenalized
    s = G[:, 1:]
    nz = B[:, 1:] != 0
    l1 = alpha * r
    v = np.where(nz, np.abs(s + l1 * np.sign(B[:, 1:])), np.maximum(np.abs(s) - l1, 0))
    return max(viol.max(), v.max())


def test_kkt_conditions_and_symmetric_parametrization():
    X, y = _three_classes(seed=3)
    codes = pd.Categorical(y).codes
    X1 = glmkit.add_constant(X)
    w = np.ones(y.size)
    for alpha, r in ((0.01, 0.0), (0.02, 0.5), (0.03, 1.0)):
        est = GLMClassifier(alpha=alpha, l1_ratio=r).fit(X, y)
        B = np.column_stack([est.intercept_, est.coef_])
        assert _kkt(X1, codes, 3, B, alpha, r, w) < 1e-9
        assert abs(est.intercept_.sum()) < 1e-12          # intercepts centered (glmnet)
        if r == 0:   # ridge: each column's coefficients sum to 0 over the classes
            np.testing.assert_allclose(est.coef_.sum(axis=0), 0, atol=1e-10)
        # the result's own KKT report agrees with the formula above
        assert est.results_.kkt < 1e-9 and est.results_.converged
        np.testing.assert_allclose(est.results_.predict(X1), est.predict_proba(X),
                                   rtol=1e-12)


def test_frequency_weights_are_repeated_rows_and_big_penalty_is_the_null_model():
    X, y = _three_classes(n=200, seed=4)
    k = np.random.default_rng(5).integers(1, 4, size=y.size)
    a = GLMClassifier(alpha=0.02, l1_ratio=0.6).fit(X, y, sample_weight=k.astype(float))
    b = GLMClassifier(alpha=0.02, l1_ratio=0.6).fit(np.repeat(X, k, 0), np.repeat(y, k))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-10)
    null = GLMClassifier(alpha=10.0, l1_ratio=1.0).fit(X, y)
    assert np.all(null.coef_ == 0)
    freq = pd.Series(y).value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(null.predict_proba(X[:3]), np.tile(freq, (3, 1)), rtol=1e-10)


def test_penalty_weights_zero_leaves_a_column_unpenalized():
    X, y = _three_classes(seed=6)
    est = GLMClassifier(alpha=0.5, l1_ratio=1.0, penalty_weights=[0, 1, 1, 1]).fit(X, y)
    assert np.all(est.coef_[:, 0] != 0)                # x0 free
    assert np.all(est.coef_[:, 1:] == 0)               # the others beyond alpha_max
    codes = pd.Categorical(y).codes
    X1 = glmkit.add_constant(X)
    eta = X1 @ np.column_stack([est.intercept_, est.coef_]).T
    P = np.exp(eta) / np.exp(eta).sum(1, keepdims=True)
    grad = (np.eye(3)[codes] - P).T @ X1[:, 1] / y.size   # x0's score: zero, unpenalized
    np.testing.assert_allclose(grad, 0, atol=1e-10)


def test_cv_estimator_equals_cv_glmnet_multinomial():
    from sklearn.model_selection import PredefinedSplit

    _, d = _ref()
    with open(REF / "cv.json", encoding="utf-8") as fh:
        r = json.load(fh)
    X, y = d[[f"x{j}" for j in range(1, 6)]], d["y"]
    w = d["weights"].to_numpy(float)
    split = PredefinedSplit(np.asarray(r["foldid"]) - 1)
    for select, key in (("min", "lambda_min"), ("1se", "lambda_1se")):
        est = GLMClassifierCV(l1_ratio=r["l1_ratio"], alphas=r["lambda"], cv=split,
                              select=select).fit(X, y, sample_weight=w)
        assert est.alpha_ == pytest.approx(r[key], rel=1e-12)
        np.testing.assert_allclose(est.cv_results_.mean_deviance, r["cvm"], rtol=1e-7)
        np.testing.assert_allclose(est.cv_results_.se, r["cvsd"], rtol=1e-6)
        single = GLMClassifier(alpha=est.alpha_, l1_ratio=r["l1_ratio"]).fit(
            X, y, sample_weight=w)
        np.testing.assert_allclose(est.coef_, single.coef_, atol=1e-9)
    assert est.deviance_path_.shape == (len(r["lambda"]), 5)
    # its own sequence starts at alpha_max: every penalized coefficient 0 there
    auto = GLMClassifierCV(l1_ratio=0.5, n_alphas=5, cv=3, random_state=0).fit(X, y)
    first = fit_multinomial_penalized(glmkit.add_constant(X.to_numpy()),
                                      pd.Categorical(y).codes, list("abcd"),
                                      auto.alphas_[0], 0.5)
    assert np.all(first.coefficients.to_numpy()[:, 1:] == 0)
    below = fit_multinomial_penalized(glmkit.add_constant(X.to_numpy()),
                                      pd.Categorical(y).codes, list("abcd"),
                                      auto.alphas_[0] * 0.99, 0.5)
    assert np.any(below.coefficients.to_numpy()[:, 1:] != 0)
    with pytest.raises(ValueError, match="Only binary.*link='logit'"):
        GLMClassifierCV(link="probit", n_alphas=3, cv=3).fit(X, y)


def test_function_interface_and_bad_inputs():
    X, y = _three_classes(n=150)
    codes = pd.Categorical(y).codes
    res = fit_multinomial_penalized(glmkit.add_constant(X), codes, ["a", "b", "c"], 0.05,
                                    0.5, exog_names=["const", "u", "v", "w", "z"])
    assert list(res.coefficients.index) == ["a", "b", "c"]
    assert list(res.params.index) == ["const", "u", "v", "w", "z"]
    assert res.deviance == pytest.approx(-2 * res.llf)
    with pytest.raises(ValueError, match="which must be"):
        res.predict(glmkit.add_constant(X), which="mean")


# ------------------------------------------------------------------------- ONNX
def _session(proto):
    ort_ = pytest.importorskip("onnxruntime")
    return ort_.InferenceSession(proto.SerializeToString())


@pytest.mark.parametrize("alpha", [0.0, 0.02])
def test_onnx_multiclass_estimator_reproduces_predict_proba(alpha, tmp_path):
    pytest.importorskip("onnx")
    X, y = _three_classes(seed=7)
    est = GLMClassifier(alpha=alpha, l1_ratio=0.5).fit(X, y)
    proto = est.to_onnx(tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size > 0
    P, label, eta = _session(proto).run(["probabilities", "label", "eta"], {"X": X})
    np.testing.assert_allclose(P, est.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(label.astype(str), est.predict(X))
    np.testing.assert_allclose(eta, est.decision_function(X), atol=1e-12)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["classes"] == "a,b,c"
    with pytest.raises(ValueError, match="no offset input"):
        est.to_onnx(offset=True)


def test_onnx_of_multinom_and_mnlogit_results():
    pytest.importorskip("onnx")
    X, y = _three_classes(seed=9)
    df = pd.DataFrame(X, columns=["u", "v", "w", "z"]).assign(y=y)
    res = glmkit.multinom("y ~ u + v + w + z", df)
    Xd = np.asarray(res.model.exog)
    P, label, eta = _session(res.to_onnx()).run(None, {"X": Xd})
    np.testing.assert_allclose(P, np.asarray(res.predict(df)), atol=1e-12)
    np.testing.assert_allclose(eta, np.asarray(res.predict(df, which="linear")), atol=1e-12)
    np.testing.assert_array_equal(label.astype(str),
                                  np.array(res.levels)[np.asarray(res.predict()).argmax(1)])
    codes = pd.Categorical(y).codes + 1   # numeric categories 1, 2, 3
    mn = glmkit.MNLogit(codes, glmkit.add_constant(X)).fit()
    P, label, _ = _session(mn.to_onnx()).run(None, {"X": glmkit.add_constant(X)})
    np.testing.assert_allclose(P, mn.predict(), atol=1e-12)
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, np.asarray(mn.predict()).argmax(1) + 1)
    pen = fit_multinomial_penalized(glmkit.add_constant(X), codes - 1, [0, 1, 2], 0.03, 1.0)
    P, label, _ = _session(pen.to_onnx()).run(None, {"X": glmkit.add_constant(X)})
    np.testing.assert_allclose(P, pen.predict(glmkit.add_constant(X)), atol=1e-12)
