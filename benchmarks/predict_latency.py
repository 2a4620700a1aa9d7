"""One-row prediction latency (issue 13): median of many calls, microseconds.

    PYTHONPATH=src python benchmarks/predict_latency.py

Prints the time of predicting one row with results.predict (array exog),
GLMRegressor.predict (scikit-learn's input validation included), the same coefficients by
hand (X @ b, inverse link), and onnxruntime on the exported graph (when installed).
"""
from __future__ import annotations

import time
import warnings

import numpy as np

import glmkit


def _median_us(fn, repeat: int = 2000) -> float:
    for _ in range(50):
        fn()
    times = np.empty(repeat)
    for i in range(repeat):
        t = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t
    return float(np.median(times) * 1e6)


def main() -> None:
    rng = np.random.default_rng(0)
    n, p = 2000, 10
    X = rng.normal(size=(n, p))
    y = rng.poisson(np.exp(0.2 + X @ np.linspace(0.2, -0.2, p))).astype(float)
    X1 = glmkit.add_constant(X)
    res = glmkit.GLM(y, X1, family=glmkit.families.Poisson()).fit()
    row1, row = X1[:1], X[:1]
    b, link = np.asarray(res.params), res.model.family.link
    out = {"results.predict(1 row)": _median_us(lambda: res.predict(row1)),
           "X @ b + inverse link": _median_us(lambda: link.inverse(row1 @ b))}
    try:
        from glmkit.sklearn import GLMRegressor

        est = GLMRegressor(family="poisson").fit(X, y)
        out["GLMRegressor.predict(1 row)"] = _median_us(lambda: est.predict(row))
        import pandas as pd

        cols = [f"f{j}" for j in range(p)]
        est_df = GLMRegressor(family="poisson").fit(pd.DataFrame(X, columns=cols), y)
        row_df = pd.DataFrame(row, columns=cols)
        out["GLMRegressor.predict(1-row frame)"] = _median_us(lambda: est_df.predict(row_df))
    except ImportError:
        pass
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(res.to_onnx().SerializeToString())
        out["onnxruntime run(1 row)"] = _median_us(lambda: sess.run(["mu"], {"X": row1}))
    except ImportError:
        pass
    for name, us in out.items():
        print(f"{name:32s} {us:8.1f} us")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main()
