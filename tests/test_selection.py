"""drop1, add1 and step against R 4.2's stats (tests/reference/selection/make_reference.R)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
from glmkit.selection import add1, drop1, step

REF_DIR = Path(__file__).parent / "reference" / "selection"
REF = json.loads((REF_DIR / "ref_selection.json").read_text())
BW = pd.read_csv(REF_DIR / "data_birthwt.csv").astype({"race": str})
MT = pd.read_csv(REF_DIR / "data_mtcars.csv")
QU = pd.read_csv(REF_DIR / "data_quine.csv")
F = glmkit.families

B_FULL = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui + ftv"


def _fit(formula, data, family):
    return glmkit.glm(formula, data, family=family).fit()


def _num(values):
    return np.array([np.nan if v == "NA" else v for v in values], dtype=float)


def _check(table: pd.DataFrame, ref: dict, rename=None):
    assert len(table) == len(ref["rows"])
    for col in ref:
        if col == "rows":
            continue
        ours = table[(rename or {}).get(col, col)].to_numpy(dtype=float)
        np.testing.assert_allclose(ours, _num(ref[col]), rtol=1e-7, atol=1e-10,
                                   equal_nan=True, err_msg=col)


@pytest.fixture(scope="module")
def b_full():
    return _fit(B_FULL, BW, F.Binomial())


def test_drop1_binomial(b_full):
    _check(drop1(b_full), REF["drop1_binomial"])
    _check(drop1(b_full, test="LRT"), REF["drop1_binomial_lrt"])
    _check(drop1(b_full, test="Chisq"), REF["drop1_binomial_lrt"])
    _check(drop1(b_full, test="Rao"), REF["drop1_binomial_rao"])
    _check(drop1(b_full, k=np.log(len(BW))), REF["drop1_binomial_bic"])


def test_drop1_gaussian_and_others():
    m = _fit("mpg ~ cyl + disp + hp + drat + wt + qsec", MT, F.Gaussian())
    _check(drop1(m, test="F"), REF["drop1_gaussian_f"])
    _check(drop1(m, test="LRT"), REF["drop1_gaussian_lrt"])
    q = _fit("Days ~ Eth * Sex + Age + Lrn", QU, F.Poisson())
    # marginality: Eth and Sex are inside Eth:Sex and cannot be dropped alone (as R)
    _check(drop1(q, test="LRT"), REF["drop1_poisson_lrt"])
    g = _fit("I(Days + 1) ~ Eth + Sex + Age + Lrn", QU, F.Gamma(F.links.Log()))
    _check(drop1(g, test="F"), REF["drop1_gamma_f"])


def test_add1():
    small = _fit("low ~ lwt + C(race)", BW, F.Binomial())
    _check(add1(small, "~ . + age + smoke + ptl + ht + ui + ftv", test="LRT"),
           REF["add1_binomial"])
    _check(add1(small, "~ . + age + smoke + ht", test="Rao"), REF["add1_binomial_rao"])
    g = _fit("mpg ~ wt", MT, F.Gaussian())
    _check(add1(g, "~ . + cyl + hp + qsec", test="F"), REF["add1_gaussian_f"])


def _check_path(res, ref):
    path = res.anova
    assert [s.replace("C(race)", "race") for s in path["Step"]] == ref["step"]
    np.testing.assert_allclose(path["AIC"], ref["aic"], rtol=1e-8)
    np.testing.assert_allclose(path["Resid. Dev"], ref["resid_dev"], rtol=1e-8)
    np.testing.assert_allclose(path["Resid. Df"], ref["resid_df"])
    np.testing.assert_allclose(path["Deviance"], _num(ref["deviance"]), rtol=1e-7,
                               equal_nan=True)
    np.testing.assert_allclose(path["Df"], _num(ref["df"]), equal_nan=True)
    np.testing.assert_allclose(np.sort(np.asarray(res.fit.params)),
                               np.sort(ref["final_coef"]), rtol=1e-6)


def test_step_backward_both_forward_and_bic(b_full):
    _check_path(step(b_full), REF["step_binomial_backward"])
    small = _fit("low ~ lwt + C(race)", BW, F.Binomial())
    _check_path(step(small, scope={"lower": "~ lwt", "upper": "~ age + lwt + C(race) + smoke "
                                   "+ ptl + ht + ui + ftv"}), REF["step_binomial_both"])
    m = _fit("mpg ~ cyl + disp + hp + drat + wt + qsec", MT, F.Gaussian())
    _check_path(step(m, k=np.log(32)), REF["step_gaussian_bic"])
    q0 = _fit("Days ~ 1", QU, F.Poisson())
    _check_path(step(q0, scope="~ Eth * Sex + Age + Lrn", direction="forward"),
                REF["step_poisson_forward"])


def test_bad_scope_and_test_are_clear_errors(b_full):
    with pytest.raises(ValueError, match="test must be"):
        drop1(b_full, test="wald")
    with pytest.raises(ValueError, match="not a term"):
        drop1(b_full, scope=["nonsense"])
    with pytest.raises(ValueError, match="direction"):
        step(b_full, direction="sideways")


def test_results_methods_give_rs_tables(b_full):
    # res.drop1() / res.step() / res.add1() are the functions (R's numbers, same references)
    _check(b_full.drop1(test="LRT"), REF["drop1_binomial_lrt"])
    _check_path(b_full.step(), REF["step_binomial_backward"])
    q0 = _fit("Days ~ 1", QU, F.Poisson())
    _check_path(q0.step(scope="~ Eth * Sex + Age + Lrn", direction="forward"),
                REF["step_poisson_forward"])
