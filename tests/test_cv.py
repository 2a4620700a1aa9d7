"""Cross-validated paths (model.fit_cv) against R's cv.glmnet with the same foldid.

Reference values: tests/reference/penalized/cv_<case>.json, written by make_cv_reference.R
there (R 4.2.2, glmnet 4.1.6, thresh = 1e-14; glmnet.control(fdev = 0, devmax = 1), so that
no path stops early, except the ``_early`` cases: glmnet's factory settings, where its own
sequences end early and so do glmkit's with ``early_stop=True``, the default). ``default``: cv.glmnet without a lambda (each fold fits its own
sequence, interpolated at the full fit's lambda); ``given``: the full fit's lambda passed
in. glmnet's coefficients meet the KKT conditions to ~4e-8, so cvm and cvsd agree to 1e-6
relative, not to rounding.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm
from glmkit.cv import lambda_interp

REF = Path(__file__).parent / "reference" / "penalized"
CASES = ["binomial_lasso_pf", "binomial_enet_bounds", "poisson_offset", "gaussian_lasso_pf",
         "binomial_standardized_bounds", "binomial_ungrouped",
         # glmnet's factory control: its own sequences end early (fit_cv's default too)
         "binomial_lasso_pf_early", "poisson_offset_early", "gaussian_lasso_pf_early",
         "binomial_standardized_early"]
FAMILIES = {"binomial": sm.families.Binomial, "poisson": sm.families.Poisson,
            "gaussian": sm.families.Gaussian}


def load_cv_case(case: str):
    ref = json.loads((REF / f"cv_{case}.json").read_text())
    d = pd.read_csv(REF / f"data_{ref['data']}.csv")
    X = sm.add_constant(d.filter(regex=r"^x\d+$"))
    model = sm.GLM(d["y"], X, family=FAMILIES[ref["family"]](),
                   offset=d["offset"] if ref["use_offset"] else None,
                   freq_weights=d["weights"] if ref["use_weights"] else None)
    kw = {"L1_wt": ref["alpha"],
          "penalty_weights": [0.0] + list(np.atleast_1d(ref["penalty_factor"])),
          "bounds": ([-np.inf] + list(ref["lower"]), [np.inf] + list(ref["upper"])),
          "standardize": ref["standardize"], "grouped": ref["grouped"],
          "foldid": ref["foldid"], "early_stop": case.endswith("_early")}
    return ref, model, kw


KEYS = [(c, key) for c in CASES for key in ("default", "given")
        if json.loads((REF / f"cv_{c}.json").read_text()).get(key)]


@functools.lru_cache(maxsize=None)
def cv_fit(case: str, key: str):
    """One fit per case and lambda choice (keep=True), its first measure as fitted."""
    ref, model, kw = load_cv_case(case)
    first = next(iter(ref[key]))
    return model.fit_cv(alphas=ref["lambda"] if key == "given" else None, measure=first,
                        keep=True, **kw)


@pytest.mark.parametrize("case,key", KEYS)
def test_cv_equals_cv_glmnet(case, key):
    """Every measure of the case: the first as fitted, the others from the same folds'
    held-out predictions (remeasure), which the next test shows is the same."""
    ref = json.loads((REF / f"cv_{case}.json").read_text())
    fitted = cv_fit(case, key)
    for measure in ref[key]:
        cv = fitted if measure == fitted.measure else fitted.remeasure(measure)
        check_against_r(cv, ref, ref[key][measure], key)


def test_remeasure_equals_a_fit_with_that_measure():
    ref, model, kw = load_cv_case("binomial_lasso_pf")
    direct = model.fit_cv(alphas=ref["lambda"], measure="auc", **kw)
    again = cv_fit("binomial_lasso_pf", "given").remeasure("auc")
    np.testing.assert_array_equal(direct.cvm, again.cvm)
    np.testing.assert_array_equal(direct.cvsd, again.cvsd)
    with pytest.raises(ValueError, match="keep=True"):
        direct.remeasure("mse")


def check_against_r(cv, ref, r, key):
    np.testing.assert_allclose(cv.alphas, ref["lambda"], rtol=1e-10)
    np.testing.assert_allclose(cv.cvm, r["cvm"], rtol=1e-6)
    np.testing.assert_allclose(cv.cvsd, r["cvsd"], rtol=1e-6, atol=1e-13)
    np.testing.assert_allclose(cv.cvup, r["cvup"], rtol=1e-6)
    np.testing.assert_allclose(cv.cvlo, r["cvlo"], rtol=1e-6)
    np.testing.assert_allclose(cv.cv_mean, cv.cvm, rtol=0)
    np.testing.assert_allclose(cv.cv_se, cv.cvsd, rtol=0)
    np.testing.assert_allclose(cv.alpha_min, r["lambda_min"], rtol=1e-10)
    np.testing.assert_allclose(cv.alpha_1se, r["lambda_1se"], rtol=1e-10)
    # nzero: with lambda given, glmnet's first point keeps a column whose gradient equals
    # lambda_max to rounding at ~1e-17 (counted); an exact solver leaves it at 0
    first = 1 if key == "given" else 0
    np.testing.assert_array_equal(cv.nzero[first:], r["nzero"][first:])
    assert cv.name == r["name"]
    assert cv.fold_converged.all()


def test_fold_fit_equals_the_fit_without_the_held_out_rows():
    """A fold's training rows are the model's rows with the held-out ones at weight 0; its
    held-out predictions (keep=True) equal those of a path fitted on the other rows."""
    ref, model, kw = load_cv_case("poisson_offset")
    cv = model.fit_cv(alphas=ref["lambda"][:30], measure="deviance", keep=True, **kw)
    d = pd.read_csv(REF / "data_poisson_offset.csv")
    X = sm.add_constant(d.filter(regex=r"^x\d+$")).to_numpy()
    fold = np.asarray(ref["foldid"])
    for k in (1, 7):
        tr = fold != k
        sub = sm.GLM(d["y"].to_numpy()[tr], X[tr], family=sm.families.Poisson(),
                     offset=d["offset"].to_numpy()[tr])
        path = sub.fit_path(alphas=ref["lambda"][:30], L1_wt=kw["L1_wt"],
                            penalty_weights=kw["penalty_weights"], bounds=kw["bounds"])
        eta = X[~tr] @ path.params.to_numpy().T + d["offset"].to_numpy()[~tr, None]
        np.testing.assert_allclose(cv.fit_preval[~tr], eta, rtol=1e-9, atol=1e-12)


def test_lambda_interp_is_glmnets():
    lam = np.array([1.0, 0.5, 0.25])
    s = np.array([2.0, 1.0, 0.75, 0.5, 0.3, 0.1])
    left, right, frac = lambda_interp(lam, s)
    B = np.array([[0.0], [1.0], [3.0]])
    got = frac * B[left, 0] + (1 - frac) * B[right, 0]
    # above the first lambda: the first fit; below the last: the last; else linear in lambda
    np.testing.assert_allclose(got, [0.0, 0.0, 0.5, 1.0, 1.0 + 2.0 * 0.2 / 0.25, 3.0])


def _binomial(n=400, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] - 0.5 * X[:, 1])))).astype(float)
    return sm.add_constant(X), y


def test_auc_equals_scikit_learn_per_fold():
    """AUC per fold is the weighted Mann-Whitney statistic, ties counting one half
    (survival's concordance in glmnet; scikit-learn's roc_auc_score)."""
    metrics = pytest.importorskip("sklearn.metrics")
    from glmkit._cv_measures import weighted_auc

    rng = np.random.default_rng(3)
    y = (rng.random(200) < 0.4).astype(float)
    p = np.round(rng.random(200), 1)          # many ties
    w = rng.integers(1, 4, 200).astype(float)
    np.testing.assert_allclose(weighted_auc(y, p, w),
                               metrics.roc_auc_score(y, p, sample_weight=w), rtol=1e-14)


def test_drawn_folds_are_balanced_and_reproducible():
    X, y = _binomial()
    model = sm.GLM(y, X, family=sm.families.Binomial())
    a = model.fit_cv(n_folds=7, seed=5, n_alphas=10)
    b = model.fit_cv(n_folds=7, seed=5, n_alphas=10)
    c = model.fit_cv(n_folds=7, seed=6, n_alphas=10)
    counts = np.bincount(a.foldid)[1:]
    assert counts.size == 7 and counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(a.foldid, b.foldid)
    np.testing.assert_array_equal(a.cvm, b.cvm)
    assert not np.array_equal(a.foldid, c.foldid)


def test_results_at_the_chosen_alphas():
    X, y = _binomial(seed=1)
    model = sm.GLM(y, X, family=sm.families.Binomial())
    cv = model.fit_cv(n_folds=5, seed=0, n_alphas=20, measure="class")
    at = cv.results_min
    np.testing.assert_array_equal(np.asarray(at.params),
                                  cv.params.to_numpy()[cv.index_min])
    assert cv.alpha_1se >= cv.alpha_min
    assert cv.cvm[cv.index_1se] <= cv.cvm[cv.index_min] + cv.cvsd[cv.index_min]
    refit = cv.fit_at("min", refit=True)
    kept = np.asarray(at.params) != 0
    assert np.all(np.isfinite(np.asarray(refit.bse)[kept]))
    np.testing.assert_array_equal(cv.coef("1se").to_numpy(), np.asarray(cv.results_1se.params))
    np.testing.assert_allclose(cv.predict(X, alpha="min"), at.predict(X))
    frame = cv.to_frame()
    assert list(frame.columns) == ["alpha", "cvm", "cvsd", "cvup", "cvlo", "nzero"]
    assert "CVResults" in repr(cv)


def test_sparse_and_formula_designs():
    sp = pytest.importorskip("scipy.sparse")
    import glmkit

    X, y = _binomial(seed=2)
    folds = np.arange(len(y)) % 4
    dense = sm.GLM(y, X, family=sm.families.Binomial()).fit_cv(foldid=folds, n_alphas=12)
    sparse = sm.GLM(y, sp.csr_matrix(X), family=sm.families.Binomial()).fit_cv(
        foldid=folds, n_alphas=12)
    np.testing.assert_allclose(sparse.cvm, dense.cvm, rtol=1e-10)
    d = pd.DataFrame(X[:, 1:], columns=list("abcde"))
    d["g"] = np.where(X[:, 1] > 0, "u", "v")
    d["y"] = y
    f = glmkit.glm("y ~ a + b + C(g)", d, family=glmkit.families.Binomial())
    cv = f.fit_cv(foldid=folds, n_alphas=12, measure="auc")
    assert list(cv.params.columns) == f.exog_names
    assert np.all((cv.cvm > 0.4) & (cv.cvm <= 1))


def test_other_families_use_their_unit_deviance():
    rng = np.random.default_rng(4)
    X = sm.add_constant(rng.standard_normal((300, 3)))
    y = rng.gamma(2.0, np.exp(0.3 + 0.2 * X[:, 1]) / 2.0)
    model = sm.GLM(y, X, family=sm.families.Gamma(sm.families.links.Log()))
    cv = model.fit_cv(foldid=np.arange(300) % 5, n_alphas=8, keep=True)
    mu = np.exp(cv.fit_preval)
    dev = model.family.unit_deviance(y[:, None], mu)
    fold = np.arange(300) % 5
    raw = np.array([dev[fold == k].mean(axis=0) for k in range(5)])
    np.testing.assert_allclose(cv.cvm, raw.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cv.cvsd, np.sqrt(((raw - raw.mean(0)) ** 2).mean(0) / 4),
                               rtol=1e-10)
    assert cv.name == "Deviance"


@pytest.mark.parametrize("kw,match", [
    ({"n_folds": 2}, "at least 3"), ({"n_folds": 1000}, "exceeds"),
    ({"foldid": [1, 2, 3]}, "one entry per row"), ({"foldid": np.arange(400) % 2}, "3 folds"),
    ({"measure": "r2"}, "measure must be"), ({"L1_wt": 2.0}, "L1_wt")])
def test_bad_arguments(kw, match):
    X, y = _binomial()
    with pytest.raises(ValueError, match=match):
        sm.GLM(y, X, family=sm.families.Binomial()).fit_cv(**kw)


def test_class_and_auc_need_a_binomial_and_auc_needs_rows():
    X, y = _binomial(n=60)
    with pytest.raises(ValueError, match="binomial"):
        sm.GLM(y, X, family=sm.families.Poisson()).fit_cv(measure="class")
    with pytest.warns(UserWarning, match="measure='deviance'"):
        cv = sm.GLM(y, X, family=sm.families.Binomial()).fit_cv(measure="auc", n_alphas=5)
    assert cv.measure == "deviance"


def test_dask_model_equals_in_memory_with_the_same_folds():
    """fit_cv on Dask partitions (glmkit.cv_dask): the drawn folds are the in-memory draw
    with the same seed, a Dask foldid is read per row, and every number equals the
    in-memory fit_cv with the same folds (the same sums, added in another order)."""
    da = pytest.importorskip("dask.array")
    import dask

    rng = np.random.default_rng(5)
    n = 400
    X = sm.add_constant(rng.standard_normal((n, 5)))
    off = rng.normal(0, 0.2, n)
    y = rng.poisson(np.exp(0.2 + X[:, 1:] @ np.r_[0.4, -0.3, 0, 0, 0.2] + off)).astype(float)
    fw = rng.integers(1, 3, n).astype(float)
    chunks = (150, 0, 120, 130)   # unequal, one empty partition
    mem = sm.GLM(y, X, family=sm.families.Poisson(), offset=off, freq_weights=fw)
    with dask.config.set(scheduler="threads"):
        dsk = sm.GLM(da.from_array(y, chunks=(chunks,)),
                     da.from_array(X, chunks=(chunks, 6)), family=sm.families.Poisson(),
                     offset=da.from_array(off, chunks=(chunks,)),
                     freq_weights=da.from_array(fw, chunks=(chunks,)))
        b = dsk.fit_cv(n_folds=4, seed=3, n_alphas=12, relax=True, keep=True)
        c = dsk.fit_cv(foldid=da.from_array(b.foldid * 10, chunks=(chunks,)), n_alphas=12,
                       measure="mae", grouped=False)
    a = mem.fit_cv(n_folds=4, seed=3, n_alphas=12, relax=True, keep=True)
    d = mem.fit_cv(foldid=a.foldid * 10, n_alphas=12, measure="mae", grouped=False)
    np.testing.assert_array_equal(a.foldid, b.foldid)
    for ours, ref in ((b, a), (c, d)):
        np.testing.assert_allclose(ours.alphas, ref.alphas, rtol=1e-12)
        np.testing.assert_allclose(ours.cvm, ref.cvm, rtol=1e-10)
        np.testing.assert_allclose(ours.cvsd, ref.cvsd, rtol=1e-10)
        assert (ours.index_min, ours.index_1se) == (ref.index_min, ref.index_1se)
        assert ours.fold_converged.all()
    np.testing.assert_allclose(b.fit_preval, a.fit_preval, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.relaxed.cvm.to_numpy(), a.relaxed.cvm.to_numpy(), rtol=1e-10)
    assert (b.relaxed.gamma_min, b.relaxed.gamma_1se) == (a.relaxed.gamma_min,
                                                          a.relaxed.gamma_1se)


def test_dask_model_with_dropped_rows_says_what_to_do():
    da = pytest.importorskip("dask.array")
    X, y = _binomial()
    X = X.copy()
    X[3, 2] = np.nan
    model = sm.GLM(da.from_array(y, chunks=100), da.from_array(X, chunks=(100, 6)),
                   family=sm.families.Binomial(), missing="drop")
    with pytest.warns(UserWarning, match="dropped"), \
            pytest.raises(NotImplementedError, match="dropna"):
        model.fit_cv(n_alphas=5)


def test_plot_marks_both_alphas():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, y = _binomial(seed=8)
    cv = sm.GLM(y, X, family=sm.families.Binomial()).fit_cv(n_folds=4, seed=1, n_alphas=10)
    ax = cv.plot()
    assert len(ax.lines) >= 2 and ax.get_ylabel() == "Binomial Deviance"


def test_var_weights_scale_the_deviance_and_exposure_is_an_offset():
    """var_weights stay in the likelihood while N counts rows (README's Conventions): a
    var_weights path at alpha is the freq_weights path at alpha n / sum(w); exposure is
    log(exposure) added to the offset, in the folds' predictions too."""
    rng = np.random.default_rng(9)
    X = sm.add_constant(rng.standard_normal((300, 4)))
    expo = rng.uniform(0.5, 2.0, 300)
    y = rng.poisson(expo * np.exp(0.2 + 0.3 * X[:, 1]))
    w = rng.integers(1, 4, 300).astype(float)
    fam = sm.families.Poisson
    vw = sm.GLM(y, X, family=fam(), var_weights=w).fit_path(n_alphas=6)
    fw = sm.GLM(y, X, family=fam(), freq_weights=w).fit_path(
        alphas=vw.alphas * 300 / w.sum())
    np.testing.assert_allclose(vw.params.to_numpy(), fw.params.to_numpy(), atol=1e-9)
    folds = np.arange(300) % 5
    a = sm.GLM(y, X, family=fam(), exposure=expo).fit_cv(foldid=folds, n_alphas=6)
    b = sm.GLM(y, X, family=fam(), offset=np.log(expo)).fit_cv(foldid=folds, n_alphas=6)
    np.testing.assert_allclose(a.cvm, b.cvm, rtol=1e-12)
    np.testing.assert_allclose(a.alphas, b.alphas, rtol=1e-12)


@pytest.mark.parametrize("case", ["binomial_lasso_pf", "binomial_enet_bounds", "poisson_offset",
                                  "gaussian_lasso_pf", "gaussian_enet_bounds",
                                  "binomial_standardized", "binomial_standardized_bounds",
                                  "binomial_wide"])
def test_default_path_ends_where_glmnet_ends(case):
    """ref_<case>.json (make_reference.R, glmnet's factory control): glmnet's own sequences
    have 55, 100, 55, 69, 100, 50, 100 and 100 lambdas (the 100s: a bound of 0, for which
    glmnet sets fdev to 0, or no stall); fit_path's default ends at the same alpha."""
    from test_penalized import load_case

    ref, model, kw = load_case(case)
    path = model.fit_path(**kw)
    np.testing.assert_allclose(path.alphas, ref["lambda"], rtol=1e-10)
    full = model.fit_path(early_stop=False, n_alphas=len(ref["lambda"]) + 3, **kw)
    assert len(full.alphas) == len(ref["lambda"]) + 3


def test_a_working_set_too_large_for_its_gram_is_a_clear_error(monkeypatch):
    """Designs wider than the largest X'WX are fitted on working sets; a set that outgrows
    it is a ValueError with the advice (fit_regularized's set is every column: refused
    before any pass)."""
    from glmkit.solvers import penalized

    monkeypatch.setattr(penalized, "MAX_GRAM_COLUMNS", 4)
    X, y = _binomial()   # 6 columns
    model = sm.GLM(y, X, family=sm.families.Binomial())
    for call in (model.fit_path, model.fit_cv, lambda: model.fit_regularized(alpha=0.1)):
        with pytest.raises(ValueError, match="alpha_min_ratio"):
            call()
    # a path stopped while the set is small enough works
    path = model.fit_path(alphas=[0.3, 0.2])
    assert path.converged.all() and path.df.max() <= 3


def test_parallel_folds_give_the_serial_answer():
    X, y = _binomial(seed=12)
    model = sm.GLM(y, X, family=sm.families.Binomial())
    a = model.fit_cv(n_folds=5, seed=2, n_alphas=15, relax=True, keep=True)
    b = model.fit_cv(n_folds=5, seed=2, n_alphas=15, relax=True, keep=True, n_jobs=3)
    np.testing.assert_array_equal(a.cvm, b.cvm)
    np.testing.assert_array_equal(a.fit_preval, b.fit_preval)
    np.testing.assert_array_equal(a.relaxed.cvm.to_numpy(), b.relaxed.cvm.to_numpy())
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            model.fit_cv(n_folds=3, n_alphas=3, n_jobs=bad)


def test_parallel_folds_on_a_sparse_design():
    """The folds share the design's pair Gram (glmkit.design._pairs): its kept buffer is
    used by one thread at a time, so parallel folds give the serial answer."""
    import scipy.sparse as sp

    rng = np.random.default_rng(4)
    S = sp.random(600, 40, density=0.1, format="csr", random_state=2)
    S.data = rng.standard_normal(S.nnz)
    X = sp.hstack([np.ones((600, 1)), S]).tocsr()
    y = (rng.random(600) < 1 / (1 + np.exp(-(S @ np.r_[np.ones(5), np.zeros(35)])))) * 1.0
    model = sm.GLM(y, X, family=sm.families.Binomial())
    a = model.fit_cv(n_folds=4, seed=1, n_alphas=12)
    b = model.fit_cv(n_folds=4, seed=1, n_alphas=12, n_jobs=4)
    np.testing.assert_allclose(b.cvm, a.cvm, rtol=1e-12)
