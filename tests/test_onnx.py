"""ONNX export (glmkit[onnx]): onnxruntime reproduces predict, with offsets and in a fresh
process; links onnxruntime lacks in float64 (Erf, Atan) within 1e-6.

Source: an invariant. The exported graph must give the numbers of glmkit's own
``predict``/``predict_proba`` on the same rows (which the R and statsmodels reference tests
check elsewhere)."""
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

F, Lk = glmkit.families, glmkit.families.links


def _run(proto, **inputs):
    sess = ort.InferenceSession(proto.SerializeToString())
    return sess.run(["mu", "eta"], inputs)


def _data(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = glmkit.add_constant(rng.normal(size=(n, 3)))
    yb = (rng.random(n) < 1 / (1 + np.exp(-X[:, 1]))).astype(float)
    yc = rng.poisson(np.exp(1 + 0.2 * X[:, 1])).astype(float) + 1
    return X, yb, yc


CASES = [
    (lambda: F.Binomial(Lk.Logit()), "yb", 1e-13), (lambda: F.Binomial(Lk.Probit()), "yb", 1e-6),
    (lambda: F.Binomial(Lk.CLogLog()), "yb", 1e-13), (lambda: F.Binomial(Lk.LogLog()), "yb", 1e-13),
    (lambda: F.Binomial(Lk.Cauchy()), "yb", 1e-6), (lambda: F.Poisson(), "yc", 1e-13),
    (lambda: F.Gaussian(), "yc", 1e-13), (lambda: F.Gamma(Lk.InversePower()), "yc", 1e-13),
    (lambda: F.InverseGaussian(Lk.InverseSquared()), "yc", 1e-13),
    (lambda: F.Poisson(Lk.Sqrt()), "yc", 1e-13),
    (lambda: F.NegativeBinomial(Lk.NegativeBinomial(alpha=0.5), alpha=0.5), "yc", 1e-13),
]


@pytest.mark.parametrize("make_family,response,rtol", CASES)
def test_onnxruntime_reproduces_predict(make_family, response, rtol):
    X, yb, yc = _data()
    off = np.linspace(-0.01, 0.01, X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = glmkit.GLM(yb if response == "yb" else yc, X, family=make_family(),
                         offset=off).fit()
    X_new, _, _ = _data(seed=1, n=50)
    off_new = np.full(50, 0.005)
    mu, eta = _run(res.to_onnx(), X=X_new, offset=off_new)
    np.testing.assert_allclose(eta, res.predict(X_new, offset=off_new, which="linear"),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(mu, res.predict(X_new, offset=off_new), rtol=rtol)


def test_formula_fit_with_exposure_and_penalized_and_estimator(tmp_path):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=150), "g": rng.choice(["a", "b"], 150),
                       "t": rng.uniform(0.5, 2, 150)})
    df["y"] = rng.poisson(df["t"] * np.exp(0.3 * df["x"]))
    res = glmkit.glm("y ~ x + C(g)", df, family=F.Poisson(), exposure=df["t"]).fit()
    proto = res.to_onnx(tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size > 0
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["columns"].split(",") == list(res.model.exog_names)
    X = np.asarray(res.model.exog)
    mu, _ = _run(proto, X=X, offset=np.log(df["t"].to_numpy()))
    np.testing.assert_allclose(mu, np.asarray(res.fittedvalues), rtol=1e-13)
    pen = glmkit.GLM(df["y"], X, family=F.Poisson()).fit_path(alphas=[0.05]).fit_at(0.05)
    mu, _ = _run(pen.to_onnx(), X=X)
    np.testing.assert_allclose(mu, pen.predict(), rtol=1e-13)
    sk = pytest.importorskip("glmkit.sklearn")
    clf = sk.GLMClassifier(alpha=0.01).fit(df[["x", "t"]], df["y"] > 1)
    mu, _ = _run(clf.to_onnx(), X=df[["x", "t"]].to_numpy())
    np.testing.assert_allclose(mu, clf.predict_proba(df[["x", "t"]])[:, 1], rtol=1e-13)


def test_onnx_round_trip_in_a_fresh_process(tmp_path):
    X, _, yc = _data()
    res = glmkit.GLM(yc, X, family=F.Gamma(Lk.Log())).fit()
    res.to_onnx(tmp_path / "gamma.onnx")
    np.save(tmp_path / "X.npy", X[:20])
    code = ("import sys, numpy as np, onnxruntime as ort\n"
            "d = sys.argv[1]\n"
            "s = ort.InferenceSession(d + '/gamma.onnx')\n"
            "np.save(d + '/mu.npy', s.run(['mu'], {'X': np.load(d + '/X.npy')})[0])\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "mu.npy"), res.predict(X[:20]), rtol=1e-13)


def test_unsupported_links_are_clear_errors():
    X, yb, _ = _data()
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = glmkit.GLM(yb, X, family=F.Binomial(Lk.CDFLink(stats.logistic))).fit()
    with pytest.raises(NotImplementedError, match="CDFLink link"):
        res.to_onnx()


def test_path_is_optional_and_a_str_path_works(tmp_path):
    X, _, yc = _data()
    res = glmkit.GLM(yc, X, family=F.Poisson()).fit()
    res.to_onnx(str(Path(tmp_path) / "p.onnx"))
    assert (Path(tmp_path) / "p.onnx").exists()
