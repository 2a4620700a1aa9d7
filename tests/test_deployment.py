"""Deployment: pickled and joblib-dumped results and estimators load and predict in a fresh
Python process (the same numbers, bit for bit)."""
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit

SRC = str(Path(glmkit.__file__).resolve().parents[1])

LOADER = r"""
import pickle, sys
import numpy as np, pandas as pd
kind, folder, *names = sys.argv[1:]
for name in names:
    path = f"{folder}/{name}.{kind}"
    if kind == "joblib":
        import joblib
        obj = joblib.load(path)
    else:
        with open(path, "rb") as fh:
            obj = pickle.load(fh)
    new = pd.read_pickle(f"{folder}/{name}_new.pkl")
    if hasattr(obj, "predict_proba"):
        pred = obj.predict_proba(new[["x", "z"]])[:, 1]
    elif hasattr(obj, "n_features_in_"):
        pred = obj.predict(new[["x", "z"]])
    else:
        pred = obj.predict(new)
    np.save(f"{folder}/{name}.npy", np.asarray(pred, dtype=float))
"""


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.uniform(size=n),
                       "g": rng.choice(["a", "b", "c"], n)})
    df["y"] = rng.poisson(np.exp(0.2 + 0.4 * df["x"] - 0.3 * df["z"]))
    return df


def _fitted_objects(df):
    pytest.importorskip("sklearn")
    from glmkit.sklearn import GLMClassifier, GLMRegressor

    fam = glmkit.families.Poisson()
    res = glmkit.glm("y ~ x + z + C(g)", df, family=fam).fit()
    X = glmkit.add_constant(df[["x", "z"]])
    arr = glmkit.GLM(df["y"], X, family=fam).fit()
    pen = glmkit.GLM(df["y"], X, family=fam).fit_path(alphas=[0.05]).fit_at(0.05)
    reg = GLMRegressor(family="poisson").fit(df[["x", "z"]], df["y"])
    clf = GLMClassifier(alpha=0.01).fit(df[["x", "z"]], df["y"] > 1)
    return {"formula_results": (res, df), "array_results": (arr, X),
            "penalized_results": (pen, X), "regressor": (reg, df), "classifier": (clf, df)}


def _local_prediction(obj, new):
    if hasattr(obj, "predict_proba"):
        return obj.predict_proba(new[["x", "z"]])[:, 1]
    if hasattr(obj, "n_features_in_"):
        return obj.predict(new[["x", "z"]])
    return obj.predict(new)


@pytest.mark.parametrize("kind", ["pickle", "joblib"])
def test_round_trip_in_a_fresh_process(tmp_path, kind):
    if kind == "joblib":
        joblib = pytest.importorskip("joblib")
    df = _data()
    new_df = _data(30, seed=1)
    objects = _fitted_objects(df)
    news = {}
    for name, (obj, _) in objects.items():
        new = new_df if name in ("formula_results", "regressor", "classifier") else \
            glmkit.add_constant(new_df[["x", "z"]])
        news[name] = new
        path = tmp_path / f"{name}.{kind}"
        if kind == "joblib":
            joblib.dump(obj, path)
        else:
            with open(path, "wb") as fh:
                pickle.dump(obj, fh)
        new.to_pickle(tmp_path / f"{name}_new.pkl")
    proc = subprocess.run([sys.executable, "-c", LOADER, kind, str(tmp_path), *objects],
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name, (obj, _) in objects.items():
        np.testing.assert_array_equal(
            np.load(tmp_path / f"{name}.npy"),
            np.asarray(_local_prediction(obj, news[name]), dtype=float), err_msg=name)


def test_pickled_results_keep_their_statistics():
    df = _data()
    res = glmkit.glm("y ~ x + z + C(g)", df, family=glmkit.families.Poisson()).fit()
    back = pickle.loads(pickle.dumps(res))   # before any statistic was computed
    np.testing.assert_array_equal(np.asarray(back.bse), np.asarray(res.bse))
    np.testing.assert_array_equal(np.asarray(back.conf_int()), np.asarray(res.conf_int()))
    assert back.summary().as_text() == res.summary().as_text()
