"""Saving and loading fitted models: results.save(path) and glmkit.load(path).

Expected values are the saved results themselves: a loaded model must give bit-for-bit
the same coefficients, covariance, statistics and predictions. The data are the R
reference sets of tests/reference/formula/ (see make_reference.R there) and small
simulated frames.
"""
from __future__ import annotations

import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import glmkit
import glmkit.api as sm
from glmkit import ModelFileError, ModelVersionError
from glmkit.loading import GLMResultsWithoutData
from glmkit.persistence import family_from_dict, family_to_dict

REF = Path(__file__).parent / "reference" / "formula"
FORMULA = "y ~ C(region, Treatment('b')) * x + np.log(z) + offset(np.log(t))"


@pytest.fixture(scope="module")
def poisson():
    data = pd.read_csv(REF / "data_poisson_factor_offset.csv")
    data.index = pd.Index([f"id{i}" for i in range(len(data))], name="id")
    new = pd.read_csv(REF / "newdata_poisson_factor_offset.csv")
    res = glmkit.glm(FORMULA, data, family=sm.families.Poisson()).fit()
    return res, data, new


def _summary_body(res) -> list[str]:
    return [ln for ln in str(res.summary()).splitlines()
            if not ln.startswith(("Date:", "Time:"))]


def _save_load(res, tmp_path, **kw):
    path = tmp_path / "model.glmkit"
    res.save(path, **kw)
    return glmkit.load(path), path


def test_round_trip_with_data_is_identical(poisson, tmp_path):
    res, data, new = poisson
    back, _ = _save_load(res, tmp_path)
    assert isinstance(back, glmkit.GLMResults)
    pd.testing.assert_series_equal(back.params, res.params)
    pd.testing.assert_series_equal(back.bse, res.bse)
    pd.testing.assert_frame_equal(back.cov_params(), res.cov_params())
    for name in ("deviance", "null_deviance", "llf", "aic", "bic", "scale", "pearson_chi2",
                 "df_resid", "df_model", "nobs"):
        assert getattr(back, name) == getattr(res, name), name
    pd.testing.assert_series_equal(back.fittedvalues, res.fittedvalues)
    pd.testing.assert_series_equal(back.resid_deviance, res.resid_deviance)
    assert back.fittedvalues.index.equals(data.index)
    pd.testing.assert_series_equal(back.predict(new), res.predict(new))
    pd.testing.assert_frame_equal(back.get_prediction(new).summary_frame(),
                                  res.get_prediction(new).summary_frame())
    pd.testing.assert_frame_equal(back.anova(test="Chisq"), res.anova(test="Chisq"))
    assert back.model.terms == res.model.terms
    assert _summary_body(back) == _summary_body(res)


def test_round_trip_without_data(poisson, tmp_path):
    res, _, new = poisson
    back, path = _save_load(res, tmp_path, remove_data=True)
    assert isinstance(back, GLMResultsWithoutData)
    pd.testing.assert_series_equal(back.params, res.params)
    pd.testing.assert_series_equal(back.bse, res.bse)
    pd.testing.assert_series_equal(back.pvalues, res.pvalues)
    pd.testing.assert_frame_equal(back.conf_int(), res.conf_int())
    pd.testing.assert_frame_equal(back.cov_params(), res.cov_params())
    for name in ("deviance", "null_deviance", "llf", "llnull", "aic", "bic", "scale",
                 "pearson_chi2", "df_resid", "df_model", "nobs", "converged", "n_iter"):
        assert getattr(back, name) == getattr(res, name), name
    assert back.pseudo_rsquared("mcf") == res.pseudo_rsquared("mcf")
    assert back.info_criteria("R") == res.info_criteria("R")
    pd.testing.assert_series_equal(back.predict(new), res.predict(new))
    pd.testing.assert_series_equal(back.predict(new, which="linear"),
                                   res.predict(new, which="linear"))
    pd.testing.assert_frame_equal(back.get_prediction(new).summary_frame(),
                                  res.get_prediction(new).summary_frame())
    name = "C(region, Treatment('b'))[T.c]"
    assert back.wald_test([f"{name} = 0"]).statistic == res.wald_test([f"{name} = 0"]).statistic
    assert _summary_body(back) == _summary_body(res)
    # per-row values need the data
    with pytest.raises(AttributeError, match="remove_data=True"):
        back.resid_deviance
    with pytest.raises(AttributeError, match="remove_data=True"):
        back.get_influence()
    with pytest.raises(ValueError, match="Pass exog="):
        back.predict()
    # saving again keeps everything
    path2 = tmp_path / "again.glmkit"
    back.save(path2)
    again = glmkit.load(path2)
    pd.testing.assert_series_equal(again.predict(new), res.predict(new))
    with_data = tmp_path / "with.glmkit"
    res.save(with_data)
    assert path.stat().st_size < with_data.stat().st_size


def test_unseen_level_after_loading(poisson, tmp_path):
    res, _, new = poisson
    back, _ = _save_load(res, tmp_path, remove_data=True)
    bad = new.assign(region=["a", "q", "c", "d", "b", "d"])
    with pytest.raises(ValueError, match=r"column 'region' has level\(s\) 'q'"):
        back.predict(bad)


def test_array_models_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    X = sm.add_constant(rng.normal(size=(80, 2)))
    m = rng.integers(3, 12, 80)
    s = rng.binomial(m, 1 / (1 + np.exp(-X @ [0.2, 0.5, -0.4])))
    res = sm.GLM(np.column_stack([s, m - s]), X, family=sm.families.Binomial()).fit()
    back, _ = _save_load(res, tmp_path)
    np.testing.assert_array_equal(back.params, res.params)
    np.testing.assert_array_equal(back.model.n_trials, res.model.n_trials)
    assert back.llf == res.llf
    Xn = X[:5]
    np.testing.assert_array_equal(back.predict(Xn), res.predict(Xn))
    lite, _ = _save_load(res, tmp_path, remove_data=True)
    np.testing.assert_array_equal(lite.predict(Xn), res.predict(Xn))
    np.testing.assert_array_equal(lite.get_prediction(Xn).se, res.get_prediction(Xn).se)
    assert isinstance(lite.params, np.ndarray)


def test_robust_covariance_round_trips(tmp_path):
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"x": rng.normal(size=90), "g": rng.choice(["a", "b", "c"], 90),
                       "cl": rng.choice(["k1", "k2", "k3", "k4", "k5"], 90)})
    df["y"] = rng.poisson(np.exp(0.3 + 0.4 * df.x))
    model = glmkit.glm("y ~ x + g", df, family=sm.families.Poisson())
    for kw in ({"cov_type": "HC3"},
               {"cov_type": "cluster", "cov_kwds": {"groups": df.cl.to_numpy()}}):
        res = model.fit(**kw)
        back, _ = _save_load(res, tmp_path)
        np.testing.assert_array_equal(back.cov_params(), res.cov_params())
        lite, _ = _save_load(res, tmp_path, remove_data=True)
        np.testing.assert_array_equal(lite.cov_params(), res.cov_params())
        assert lite.cov_type == res.cov_type


@pytest.mark.parametrize("family", [
    sm.families.Gaussian(), sm.families.Gaussian(sm.families.links.Log()),
    sm.families.Binomial(sm.families.links.CDFLink(stats.logistic)),
    sm.families.Binomial(sm.families.links.CLogLog()),
    sm.families.Poisson(sm.families.links.Sqrt()),
    sm.families.Gamma(sm.families.links.Power(0.5)),
    sm.families.InverseGaussian(),
    sm.families.NegativeBinomial(alpha=0.7),
    sm.families.NegativeBinomial(sm.families.links.NegativeBinomial(alpha=0.7), alpha=0.7),
    sm.families.Tweedie(var_power=1.6, eql=True),
])
def test_family_and_link_parameters_round_trip(family):
    d = family_to_dict(family)
    json.dumps(d)
    again = family_from_dict(d)
    assert type(again) is type(family)
    assert again.link == family.link
    assert repr(again) == repr(family)
    for attr in ("alpha", "var_power", "eql"):
        assert getattr(again, attr, None) == getattr(family, attr, None)


def test_unsavable_link_is_a_clear_error():
    fam = sm.families.Binomial(sm.families.links.CDFLink(stats.norm(0, 2)))
    with pytest.raises(ValueError, match="unfrozen"):
        family_to_dict(fam)


def test_loaded_model_has_the_attributes_of_a_fresh_model(poisson, tmp_path):
    """persistence rebuilds GLM without its constructor: keep it in step with GLM.__init__."""
    res, _, _ = poisson
    back, _ = _save_load(res, tmp_path)
    fresh = {k for k in vars(res.model) if not k.startswith("_")}
    rebuilt = {k for k in vars(back.model) if not k.startswith("_")}
    cached = {"problem", "wnobs", "rank", "k_constant"}
    assert fresh - cached <= rebuilt
    assert back.model.formula_info.exog_names == res.model.exog_names


# ------------------------------------------------------------------ bad files
def _rewrite_meta(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "glmkit.json":
                meta = json.loads(data)
                change(meta)
                data = json.dumps(meta).encode()
            zout.writestr(item, data)


def test_file_from_another_version_is_refused(poisson, tmp_path):
    res, _, _ = poisson
    path = tmp_path / "m.glmkit"
    res.save(path)
    other = tmp_path / "old.glmkit"
    _rewrite_meta(path, other, lambda m: m.update(glmkit_version="0.0.9"))
    with pytest.raises(ModelVersionError, match=r"saved by glmkit 0\.0\.9.*this is glmkit"):
        glmkit.load(other)
    future = tmp_path / "future.glmkit"
    _rewrite_meta(path, future, lambda m: m.update(format_version=99))
    with pytest.raises(ModelVersionError, match="file format 99"):
        glmkit.load(future)


def test_corrupt_and_foreign_files_are_clear_errors(poisson, tmp_path):
    res, _, _ = poisson
    path = tmp_path / "m.glmkit"
    res.save(path)
    raw = path.read_bytes()
    truncated = tmp_path / "truncated.glmkit"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="not a glmkit model file, or it is damaged"):
        glmkit.load(truncated)
    pickled = tmp_path / "model.pickle"
    pickled.write_bytes(pickle.dumps({"params": [1, 2]}))
    with pytest.raises(ModelFileError, match="not a glmkit model file"):
        glmkit.load(pickled)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ModelFileError, match="no glmkit.json"):
        glmkit.load(other_zip)
    # a damaged member: zip's CRC check catches it
    flipped = bytearray(raw)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("arrays/params.npy")
    head = info.header_offset
    name_len = int.from_bytes(raw[head + 26:head + 28], "little")
    extra_len = int.from_bytes(raw[head + 28:head + 30], "little")
    flipped[head + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.glmkit"
    damaged.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match="damaged"):
        glmkit.load(damaged)
    with pytest.raises(OSError):
        glmkit.load(tmp_path / "missing.glmkit")


def test_no_pickle_is_ever_loaded(poisson, tmp_path):
    res, _, _ = poisson
    path = tmp_path / "m.glmkit"
    res.save(path, remove_data=True)
    evil = tmp_path / "evil.glmkit"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(evil, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "arrays/params.npy":
                buf = io.BytesIO()
                np.save(buf, np.array([object()] * 2, dtype=object), allow_pickle=True)
                data = buf.getvalue()
            zout.writestr(item, data)
    with pytest.raises(ModelFileError, match="cannot be read"):
        glmkit.load(evil)
    bad_class = tmp_path / "class.glmkit"

    def inject(meta):
        meta["model"]["formula"]["encoder_state"] = {
            "__dataclass__": "os:system", "fields": {}}

    _rewrite_meta(path, bad_class, inject)
    with pytest.raises(ModelFileError, match="non-formulaic class"):
        glmkit.load(bad_class)


def test_save_is_atomic_and_leaves_no_temporary_files(poisson, tmp_path):
    res, _, _ = poisson
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res.save(tmp_path / "m.glmkit")
    assert [p.name for p in tmp_path.iterdir()] == ["m.glmkit"]
    with zipfile.ZipFile(tmp_path / "m.glmkit") as zf:
        names = zf.namelist()
        meta = json.loads(zf.read("glmkit.json"))
    assert names[0] == "glmkit.json" and all(n.endswith(".npy") for n in names[1:])
    assert meta["glmkit_version"] == glmkit.__version__
    assert meta["model"]["formula"]["formula"] == FORMULA


def test_design_objects_save_without_their_rows(tmp_path):
    from scipy import sparse

    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(60), rng.normal(size=60), rng.random(60) < 0.3])
    y = rng.poisson(np.exp(0.2 + 0.3 * X[:, 1]))
    res = sm.GLM(y, sparse.csr_matrix(X), family=sm.families.Poisson()).fit()
    with pytest.raises(ValueError, match="remove_data=True"):
        res.save(tmp_path / "m.glmkit")
    lite, _ = _save_load(res, tmp_path, remove_data=True)
    np.testing.assert_array_equal(lite.params, res.params)
    np.testing.assert_array_equal(lite.predict(X[:4]), res.predict(X[:4]))


def test_dot_and_quoted_names_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"y": rng.poisson(2, 50), "my x": rng.normal(size=50),
                       "g": rng.choice(["a", "b"], 50), "t": rng.uniform(1, 2, 50)})
    res = glmkit.glm("y ~ . - t + offset(np.log(t))", df, family=sm.families.Poisson()).fit()
    assert list(res.params.index) == ["Intercept", "my x", "g[T.b]"]
    for remove in (False, True):
        back, _ = _save_load(res, tmp_path, remove_data=remove)
        np.testing.assert_array_equal(back.predict(df.iloc[:6]), res.predict(df.iloc[:6]))
