"""glmnet's relax: relaxed fits on a path and in cross-validation.

Reference values: tests/reference/penalized/relax_<case>.json (R 4.2.2, glmnet 4.1.6,
thresh = 1e-14), written by make_relax_reference.R there: the path's relaxed coefficients
(fit$relaxed), the blend at gamma = 0.5 (coef(fit, gamma = 0.5)), and cv.glmnet(relax =
TRUE) with a given foldid (per-gamma cvm and cvsd, lambda.min / gamma.min, lambda.1se /
gamma.1se). glmnet's own answers meet the KKT conditions to ~4e-8, so coefficients are
compared to 1e-6 of the largest; cvm and cvsd to 1e-6 relative.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm

REF = Path(__file__).parent / "reference" / "penalized"
CASES = ["binomial_lasso_pf", "poisson_offset_bounds", "gaussian_lasso_pf",
         "binomial_standardized"]
FAMILIES = {"binomial": sm.families.Binomial, "poisson": sm.families.Poisson,
            "gaussian": sm.families.Gaussian}


def load(case: str):
    ref = json.loads((REF / f"relax_{case}.json").read_text())
    d = pd.read_csv(REF / f"data_{ref['data']}.csv")
    X = sm.add_constant(d.filter(regex=r"^x\d+$"))
    fw = d["weights"] if ref["use_weights"] else None
    off = d["offset"] if ref["use_offset"] else None
    model = sm.GLM(d["y"], X, family=FAMILIES[ref["family"]](), offset=off, freq_weights=fw)
    kw = {"L1_wt": ref["alpha"],
          "penalty_weights": [0.0] + list(np.atleast_1d(ref["penalty_factor"])),
          "bounds": ([-np.inf] + list(ref["lower"]), [np.inf] + list(ref["upper"])),
          "standardize": ref["standardize"]}
    return ref, model, kw


def _coefs(a0, beta) -> np.ndarray:
    return np.column_stack([a0, np.asarray(beta, dtype=float).T])


def _close(ours: np.ndarray, theirs: np.ndarray) -> None:
    scale = np.max(np.abs(theirs), axis=1, keepdims=True)
    assert np.all(np.abs(ours - theirs) <= 1e-6 * np.maximum(scale, 1.0))


@pytest.mark.parametrize("case", CASES)
def test_relaxed_path_equals_glmnet(case):
    ref, model, kw = load(case)
    path = model.fit_path(alphas=ref["lambda"], relax=True, **kw)
    assert path.relaxed.converged.all() and path.relaxed.refitted.all()
    _close(path.relaxed.params.to_numpy(), _coefs(ref["relaxed_a0"], ref["relaxed_beta"]))
    _close(path.relaxed.params_at(0.5).to_numpy(), _coefs(ref["blend_a0"], ref["blend_beta"]))
    np.testing.assert_array_equal(path.relaxed.params_at(1.0).to_numpy(),
                                  path.params.to_numpy())


@pytest.mark.parametrize("case", CASES)
def test_relaxed_cv_equals_cv_glmnet(case):
    ref, model, kw = load(case)
    cv = model.fit_cv(n_alphas=ref["nlambda"], foldid=ref["foldid"], measure=ref["measure"],
                      relax=True, early_stop=False, **kw)
    np.testing.assert_allclose(cv.alphas, ref["cv_lambda"], rtol=1e-10)
    np.testing.assert_allclose(cv.cvm, ref["cvm"], rtol=1e-6)
    r = cv.relaxed
    np.testing.assert_array_equal(r.gamma, ref["gamma"])
    np.testing.assert_allclose(r.cvm.to_numpy(), ref["relaxed_cvm"], rtol=1e-6)
    np.testing.assert_allclose(r.cvsd.to_numpy(), ref["relaxed_cvsd"], rtol=1e-6)
    np.testing.assert_allclose([r.alpha_min, r.alpha_1se],
                               [ref["lambda_min"], ref["lambda_1se"]], rtol=1e-10)
    assert (r.gamma_min, r.gamma_1se) == (ref["gamma_min"], ref["gamma_1se"])
    assert r.fold_converged.all()
    # gamma = 1 is the penalized path: its row is the main curve
    np.testing.assert_array_equal(r.cvm.loc[1.0].to_numpy(), cv.cvm)
    chosen = cv.fit_at(r.alpha_min, gamma=r.gamma_min)
    i = int(np.flatnonzero(cv.alphas == r.alpha_min)[0])
    rp = cv.path.relaxed
    np.testing.assert_allclose(np.asarray(chosen.params),
                               rp.params_at(r.gamma_min).to_numpy()[i], rtol=1e-12)


def test_relaxed_fit_is_the_unpenalized_fit_of_the_active_set():
    _, model, _ = load("binomial_lasso_pf")
    path = model.fit_path(n_alphas=12, relax=True, L1_wt=1.0)
    for i in (3, 8):
        refit = path.fit_at(path.alphas[i], refit=True)   # GLM.fit on the selected columns
        np.testing.assert_allclose(path.relaxed.params.to_numpy()[i],
                                   np.nan_to_num(np.asarray(refit.params)), atol=1e-8)
    # an alpha off the path: its own refit, blended
    a = float(np.sqrt(path.alphas[4] * path.alphas[5]))
    pen, rel = path.fit_at(a), path.fit_at(a, gamma=0.0)
    refit = path.fit_at(a, refit=True)
    np.testing.assert_allclose(np.asarray(rel.params),
                               1e-5 * np.asarray(pen.params)
                               + (1 - 1e-5) * np.nan_to_num(np.asarray(refit.params)),
                               atol=1e-8)
    assert np.isnan(rel.kkt) and rel.converged


def test_relax_arguments_are_checked():
    _, model, _ = load("gaussian_lasso_pf")
    path = model.fit_path(n_alphas=5)
    assert path.relaxed is None
    with pytest.raises(ValueError, match="relax=True"):
        path.fit_at(path.alphas[2], gamma=0.5)
    with pytest.raises(ValueError, match="gamma"):
        model.fit_path(n_alphas=5, relax=True).fit_at(path.alphas[2], gamma=1.5)
    with pytest.raises(ValueError, match="relax=True"):
        model.fit_cv(n_folds=3, n_alphas=5, gamma=[0.5])
    with pytest.raises(ValueError, match="gamma"):
        model.fit_cv(n_folds=3, n_alphas=5, relax=True, gamma=[-0.1, 0.5])
