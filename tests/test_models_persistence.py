"""results.save / glmkit.load for multinom, MNLogit, polr and OrderedModel: the loaded
results give the saved numbers and predictions bit for bit."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _models_data import NEW, housing, sim

import glmkit
import glmkit.api as sm
from glmkit.exceptions import ModelFileError


def _same(a, b):
    for name in ("params", "bse", "pvalues"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        assert type(x) is type(y)
    np.testing.assert_array_equal(np.asarray(a.cov_params()), np.asarray(b.cov_params()))
    for name in ("llf", "llnull", "aic", "bic", "nobs", "converged", "df_model"):
        assert getattr(a, name) == getattr(b, name)
    assert a.cov_type == b.cov_type


FITS = {
    "multinom": lambda: glmkit.multinom("y ~ x1 + x2 + g", sim(), weights="w"),
    "polr": lambda: glmkit.polr("Sat ~ Infl + Type + Cont", housing(), weights="Freq",
                                method="probit"),
    "polr_offset": lambda: glmkit.polr("o ~ x1 + g + offset(0.5 * x2)", sim()),
    "robust": lambda: glmkit.polr("o ~ x1 + x2 + g", sim()).get_robustcov_results(),
}


@pytest.mark.parametrize("case", list(FITS))
@pytest.mark.parametrize("remove_data", [False, True])
def test_save_load_formula_fits(tmp_path, case, remove_data):
    res = FITS[case]()
    path = tmp_path / "m.glmkit"
    res.save(path, remove_data=remove_data)
    back = glmkit.load(path)
    assert type(back) is type(res)
    _same(res, back)
    new = housing().iloc[:6] if case == "polr" else NEW.assign(x2=[0.0, 1.0, -0.5])
    pd.testing.assert_frame_equal(res.predict(new), back.predict(new))
    if not remove_data:
        np.testing.assert_array_equal(np.asarray(res.fittedvalues),
                                      np.asarray(back.fittedvalues))
    assert str(back.summary()).splitlines()[8:] == str(res.summary()).splitlines()[8:]


def test_save_load_array_models(tmp_path):
    d = sim()
    X = d[["x1", "x2"]].to_numpy()
    for res in (sm.MNLogit(d["y"].to_numpy(), np.column_stack([np.ones(len(d)), X])).fit(),
                sm.OrderedModel(d["o"], X, distr="logit").fit()):
        res.save(tmp_path / "a.glmkit")
        back = glmkit.load(tmp_path / "a.glmkit")
        _same(res, back)
        np.testing.assert_array_equal(res.predict(), back.predict())


def test_damaged_file(tmp_path):
    res = FITS["multinom"]()
    path = tmp_path / "m.glmkit"
    res.save(path)
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelFileError):
        glmkit.load(path)


@pytest.mark.parametrize("remove_data", [False, True])
def test_save_load_count_models(tmp_path, remove_data):
    from test_models_zeroinfl import FB, bio, simdata
    d = simdata()
    fits = [glmkit.zeroinfl(FB + " | ment", bio(), dist="negbin"),
            glmkit.hurdle("y ~ x + g + offset(np.log(expo)) | z + x", d, dist="negbin",
                          link="cloglog", weights="w").get_robustcov_results(),
            glmkit.zeroinfl("y ~ x + g | z", d.assign(le=np.log(d["expo"])), offset="le")]
    news = [bio().iloc[:7], d.iloc[:7], d.assign(le=np.log(d["expo"])).iloc[:7]]
    for res, new in zip(fits, news):
        res.save(tmp_path / "c.glmkit", remove_data=remove_data)
        back = glmkit.load(tmp_path / "c.glmkit")
        for name in ("params", "bse"):
            pd.testing.assert_series_equal(getattr(res, name), getattr(back, name))
        pd.testing.assert_frame_equal(res.cov_params(), back.cov_params())
        assert (res.llf, res.aic, res.bic, res.nobs, res.cov_type) == \
            (back.llf, back.aic, back.bic, back.nobs, back.cov_type)
        assert res.theta is None or np.all(np.asarray(res.theta) == np.asarray(back.theta))
        for which in ("response", "zero", "count"):
            pd.testing.assert_series_equal(res.predict(new, which=which),
                                           back.predict(new, which=which))
        pd.testing.assert_frame_equal(res.predict(new, which="prob"),
                                      back.predict(new, which="prob"))
        if not remove_data:
            np.testing.assert_array_equal(res.loglike_obs(), back.loglike_obs())
