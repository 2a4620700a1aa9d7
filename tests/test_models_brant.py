"""glmkit.brant against a base-R implementation of Brant's published formula
(tests/reference/models/make_reference_brant.R; R's brant package is not installed), and
against statsmodels' Logit fits for the per-cut estimates."""
from __future__ import annotations

import json

import numpy as np
import pytest
import statsmodels.api as smapi
from _models_data import REF_DIR, housing, sim

import glmkit
import glmkit.api as sm


def ref() -> dict:
    with open(REF_DIR / "ref_brant.json", encoding="utf-8") as fh:
        return json.load(fh)


def _check(out, R):
    assert list(out.columns) == ["X2", "df", "probability"]
    assert out.index[0] == "Omnibus" and len(out) == len(R["names"])
    np.testing.assert_allclose(out["X2"].to_numpy(), R["X2"], rtol=1e-8)
    np.testing.assert_array_equal(out["df"].to_numpy(), R["df"])
    np.testing.assert_allclose(out["probability"].to_numpy(), R["probability"], rtol=1e-7)


def test_brant_sim_equals_r_formula():
    _check(glmkit.brant(glmkit.polr("o ~ x1 + x2 + g", sim())), ref()["sim"])


def test_brant_weighted_housing_equals_r_formula():
    res = glmkit.polr("Sat ~ Infl + Type + Cont", housing(), weights="Freq")
    _check(glmkit.brant(res), ref()["housing"])


def test_brant_ordered_model_and_per_cut_logits_match_statsmodels():
    d = sim()
    res = glmkit.polr("o ~ x1 + x2 + g", d)
    X = res.model.exog
    om = sm.OrderedModel(d["o"], X, distr="logit").fit()
    np.testing.assert_allclose(glmkit.brant(om)["X2"], glmkit.brant(res)["X2"], rtol=1e-10)
    # the per-cut slopes R's script reports are statsmodels' Logit estimates
    R = np.array(ref()["sim"]["beta"])
    codes = res.model.inputs.codes
    for k in range(3):
        fit = smapi.Logit((codes > k).astype(float), smapi.add_constant(X)).fit(disp=0)
        np.testing.assert_allclose(fit.params, R[k], rtol=1e-6)


def test_brant_bad_input():
    with pytest.raises(ValueError, match="logistic"):
        glmkit.brant(glmkit.polr("o ~ x1 + x2 + g", sim(), method="probit"))
    with pytest.raises(TypeError):
        glmkit.brant(glmkit.zeroinfl("art ~ ment", __import__("test_models_zeroinfl").bio()))
