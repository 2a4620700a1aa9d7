"""QuasiPoisson and QuasiBinomial against R 4.2's quasipoisson() and quasibinomial()
(tests/reference/quasi/make_reference.R, epsilon 1e-14)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm

REF_DIR = Path(__file__).parent / "reference" / "quasi"
REF = json.loads((REF_DIR / "ref_quasi.json").read_text())
F = glmkit.families


@pytest.mark.parametrize("name,formula,data,family,plain", [
    ("quasipoisson", "Days ~ Eth + Sex + Age + Lrn", "data_quine.csv", F.QuasiPoisson,
     F.Poisson),
    ("quasibinomial", "low ~ age + lwt + smoke", "data_birthwt.csv", F.QuasiBinomial,
     F.Binomial),
])
def test_quasi_families_equal_r(name, formula, data, family, plain):
    d = pd.read_csv(REF_DIR / data)
    res = glmkit.glm(formula, d, family=family()).fit()
    R = REF[name]
    np.testing.assert_allclose(res.params, R["coefficients"], rtol=1e-8)
    np.testing.assert_allclose(res.bse, R["bse"], rtol=1e-8)
    np.testing.assert_allclose(res.tvalues, R["tvalues"], rtol=1e-8)
    np.testing.assert_allclose(res.pvalues, R["pvalues"], rtol=1e-7)
    assert res.scale == pytest.approx(R["dispersion"], rel=1e-9)
    assert res.deviance == pytest.approx(R["deviance"], rel=1e-9)
    assert res.df_resid == R["df_residual"] and res.use_t
    assert R["aic_is_na"] and np.isnan(res.aic) and np.isnan(res.llf)
    assert np.isnan(res.info_criteria("R")["aic"])
    # R's influence measures: rstudent divides by the leave-one-out sigma for quasi
    # families (R tests the family's name, so quasipoisson is not poisson)
    infl = res.get_influence()
    np.testing.assert_allclose(infl.rstudent(), R["rstudent"], rtol=1e-7)
    np.testing.assert_allclose(infl.rstandard(), R["rstandard"], rtol=1e-7)
    np.testing.assert_allclose(infl.influence_measures()["cook.d"], R["cooks"], rtol=1e-7)
    # invariant: the coefficients are the plain family's; the standard errors scale by
    # the square root of the dispersion
    base = glmkit.glm(formula, d, family=plain()).fit()
    np.testing.assert_allclose(res.params, base.params, rtol=1e-10)
    np.testing.assert_allclose(res.bse, base.bse * np.sqrt(res.scale), rtol=1e-9)


def test_quasipoisson_anova_f_equals_r():
    d = pd.read_csv(REF_DIR / "data_quine.csv")
    res = glmkit.glm("Days ~ Eth + Sex + Age + Lrn", d, family=F.QuasiPoisson()).fit()
    table = glmkit.anova(res, test="F")
    R = REF["anova_qp_f"]
    np.testing.assert_allclose(table["F"].to_numpy()[1:], R["F"][1:], rtol=1e-7)
    np.testing.assert_allclose(table["Pr(>F)"].to_numpy()[1:], R["p"][1:], rtol=1e-6)


def test_quasi_binomial_takes_non_integer_successes_without_a_warning(recwarn):
    rng = np.random.default_rng(2)
    X = sm.add_constant(rng.normal(size=(100, 1)))
    y = rng.uniform(0.05, 0.95, 100)
    sm.GLM(y, X, family=F.QuasiBinomial(), var_weights=np.full(100, 7.5)).fit()
    assert not [w for w in recwarn if "non-integer" in str(w.message)]


def test_quasi_results_save_and_load(tmp_path):
    d = pd.read_csv(REF_DIR / "data_quine.csv")
    res = glmkit.glm("Days ~ Eth + Sex", d, family=F.QuasiPoisson()).fit()
    res.save(tmp_path / "q.glmkit")
    back = glmkit.load(tmp_path / "q.glmkit")
    np.testing.assert_array_equal(back.bse, res.bse)
    assert type(back.family).__name__ == "QuasiPoisson"
