"""One GLM for every place the rows live: every public method of the model and of its
results, called on a fit over Dask partitions and on the same fit in memory (the oracle),
must agree to 1e-10 (relative), or -- for the few that cannot apply on Dask -- raise
NotImplementedError saying why (listed in NOT_ON_DASK with the reason).

Runs on Dask's threaded scheduler (tests/test_dask.py runs a distributed cluster).
"""
from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm
from glmkit.model import GLM
from glmkit.results import GLMResults

pytestmark = pytest.mark.skipif(importlib.util.find_spec("dask") is None,
                                reason="dask not installed")

RTOL = 1e-10
CHUNKS = (400, 0, 650, 250, 500)          # unequal, with an empty partition
N = sum(CHUNKS)


def as_numpy(a):
    if hasattr(type(a), "__dask_graph__"):
        a = a.compute()
    if isinstance(a, (pd.Series, pd.DataFrame)):
        a = a.to_numpy()
    return np.asarray(a, dtype=float)


def close(a, b, rtol=RTOL):
    a, b = as_numpy(a), as_numpy(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(float(np.nanmax(np.abs(b))) if b.size else 0.0, 1e-300)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True)


def dask_array(a):
    import dask.array as da

    a = np.asarray(a, dtype=float)
    return da.from_array(a, chunks=(CHUNKS,) + tuple(-1 for _ in a.shape[1:]))


@pytest.fixture(scope="module", params=["poisson_offset_fw", "gamma_varw"])
def fits(request):
    import dask

    rng = np.random.default_rng(7)
    X = np.column_stack([np.ones(N), rng.normal(size=(N, 2))])
    off = rng.normal(scale=0.2, size=N)
    if request.param == "poisson_offset_fw":
        fam = sm.families.Poisson()
        fw = rng.integers(1, 4, size=N).astype(float)
        y = rng.poisson(np.exp(0.2 + 0.4 * X[:, 1] - 0.3 * X[:, 2] + off)).astype(float)
        kw = {"offset": off, "freq_weights": fw}
    else:
        fam = sm.families.Gamma(sm.families.links.Log())
        vw = rng.uniform(0.5, 2.0, size=N)
        y = rng.gamma(2.0, np.exp(0.3 + 0.2 * X[:, 1]) / 2.0)
        kw = {"var_weights": vw}
    ref_model = GLM(y, X, family=fam, **kw)
    ref = ref_model.fit()
    with dask.config.set(scheduler="threads"):
        model = GLM(dask_array(y), dask_array(X), family=fam,
                    **{k: dask_array(v) for k, v in kw.items()})
        res = model.fit()
        yield {"model": model, "res": res, "ref_model": ref_model, "ref": ref, "X": X,
               "kind": request.param}


# ---------------------------------------------------------------- model methods
def _model_calls(f):
    b = f["ref"].params * 1.01
    Xnew = f["X"][:7] * 1.1
    return {
        "df_model": lambda m: m.df_model,
        "df_resid": lambda m: m.df_resid,
        "endog": lambda m: m.endog,
        "exog": lambda m: m.exog,
        "exog_names": lambda m: m.exog_names,
        "endog_names": lambda m: m.endog_names,
        "estimate_scale": lambda m: m.estimate_scale(m.predict(b)),
        "exog_for_predict": lambda m: m.exog_for_predict(Xnew)[0],
        "exposure": lambda m: m.exposure,
        "exposure_name": lambda m: m.exposure_name,
        "freq_weights": lambda m: m.freq_weights,
        "freq_weights_name": lambda m: m.freq_weights_name,
        "get_distribution": lambda m: m.get_distribution(b, exog=Xnew).mean(),
        "hessian": lambda m: m.hessian(b),
        "hessian_factor": lambda m: m.hessian_factor(b, scale=1.0),
        "information": lambda m: m.information(b),
        "k_constant": lambda m: m.k_constant,
        "loglike": lambda m: m.loglike(b),
        "loglike_mu": lambda m: m.loglike_mu(m.predict(b), scale=1.3),
        "n_dropped": lambda m: m.n_dropped,
        "n_trials": lambda m: m.n_trials,
        "nobs": lambda m: m.nobs,
        "offset": lambda m: m.offset,
        "offset_name": lambda m: m.offset_name,
        "predict": lambda m: m.predict(b, which="linear"),
        "rank": lambda m: m.rank,
        "score": lambda m: m.score(b),
        "score_factor": lambda m: m.score_factor(b),
        "score_obs": lambda m: m.score_obs(b),
        "score_test": lambda m: m.score_test(b, k_constraints=1)[:2],
        "var_weights": lambda m: m.var_weights,
        "var_weights_name": lambda m: m.var_weights_name,
        "wnobs": lambda m: m.wnobs,
        "fit_path": lambda m: m.fit_path(n_alphas=4, L1_wt=0.5).params,
        "fit_regularized": lambda m: m.fit_regularized(alpha=0.01, L1_wt=0.5).params,
        "fit_cv": lambda m: m.fit_cv(n_folds=3, seed=1, n_alphas=4, L1_wt=0.5).cvm,
    }


#: Model members that do not apply on Dask, and why (each raises NotImplementedError).
MODEL_NOT_ON_DASK = {
    "estimate_tweedie_power": "brentq evaluates the rows many times; fit a sample in memory",
    "fit_constrained": "refits a reparametrized in-memory design",
    "from_formula": "a classmethod: tested with a dask DataFrame in tests/test_dask.py",
    "problem": "a DaskProblem (lazy rows) by design: compared through fit() below",
    "fit": "compared through every results member below",
}


def test_one_model_class_and_one_results_class(fits):
    assert type(fits["model"]) is GLM
    assert type(fits["res"]) is GLMResults
    public = {n for n in dir(GLM) if not n.startswith("_")}
    assert public == set(_model_calls(fits)) | set(MODEL_NOT_ON_DASK)


def test_every_model_method_equals_in_memory(fits):
    import dask

    calls = _model_calls(fits)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, call in calls.items():
            got, want = call(fits["model"]), call(fits["ref_model"])
            if want is None or isinstance(want, (str, list, tuple)) and not isinstance(
                    want, tuple):
                assert got == want, name
            else:
                close(got, want) if not isinstance(want, tuple) else [
                    close(g, w) for g, w in zip(got, want)]


# -------------------------------------------------------------- results methods
def _onnx_predict(res, X):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(res.to_onnx().SerializeToString())
    feeds = {i.name: (X if i.name == "X" else np.zeros(len(X))) for i in sess.get_inputs()}
    return sess.run(["mu"], feeds)[0]


def _results_calls(f):
    Xnew = f["X"][:7] * 1.1
    return {
        "aic": lambda r: r.aic, "bic": lambda r: r.bic, "bic_llf": lambda r: r.bic_llf,
        "bic_deviance": lambda r: r.bic_deviance, "boundary": lambda r: r.boundary,
        "bse": lambda r: r.bse, "conf_int": lambda r: r.conf_int(),
        # the ONNX graph holds the coefficients (equal to 1e-10, not bit for bit): its
        # predictions on new rows are compared
        "to_onnx": lambda r: _onnx_predict(r, np.asarray(Xnew, dtype=float)),
        "cov_params": lambda r: r.cov_params(), "deviance": lambda r: r.deviance,
        "df_model": lambda r: r.df_model, "df_resid": lambda r: r.df_resid,
        "df_resid_inference": lambda r: r.df_resid_inference,
        "exp_params": lambda r: r.exp_params().to_numpy(),
        "f_test": lambda r: r.f_test(np.eye(3)[1:]).fvalue,
        # (the iteration counts differ: in memory IRLS also has float32 Grams and Newton
        # steps that re-form X'WX, which the Dask sweeper does not)
        "fit_history": lambda r: r.fit_history["deviance"][-1],
        "fittedvalues": lambda r: r.fittedvalues,
        "get_distribution": lambda r: r.get_distribution(exog=Xnew).mean(),
        "get_margeff": lambda r: _margeff(r),
        "get_prediction": lambda r: r.get_prediction().se,
        "get_hat_matrix_diag": lambda r: [as_numpy(r.get_hat_matrix_diag()),
                                          as_numpy(r.get_hat_matrix_diag(observed=False))],
        "get_robustcov_results": lambda r: r.get_robustcov_results("HC1").bse,
        "info_criteria": lambda r: [r.info_criteria()["aic"], r.info_criteria("bic")],
        "k_constant": lambda r: r.k_constant, "linear_predictor": lambda r: r.linear_predictor,
        "llf": lambda r: r.llf, "llf_scaled": lambda r: r.llf_scaled(1.7),
        "llnull": lambda r: r.llnull, "mle_retvals": lambda r: r.mle_retvals["iterations"],
        "mu": lambda r: r.mu, "nobs": lambda r: r.nobs,
        "normalized_cov_params": lambda r: r.normalized_cov_params, "null": lambda r: r.null,
        "null_deviance": lambda r: r.null_deviance,
        "overdispersion": lambda r: r.overdispersion().to_numpy(),
        "params": lambda r: r.params, "pearson_chi2": lambda r: r.pearson_chi2,
        "predict": lambda r: [as_numpy(r.predict()), r.predict(Xnew),
                              as_numpy(r.predict(which="var_unscaled"))],
        "pseudo_rsquared": lambda r: [r.pseudo_rsquared(), r.pseudo_rsquared("mcf")],
        "pvalues": lambda r: r.pvalues, "rank": lambda r: r.rank,
        "resid_anscombe": lambda r: r.resid_anscombe,
        "resid_anscombe_scaled": lambda r: r.resid_anscombe_scaled,
        "resid_anscombe_unscaled": lambda r: r.resid_anscombe_unscaled,
        "resid_deviance": lambda r: r.resid_deviance, "resid_pearson": lambda r: r.resid_pearson,
        "resid_response": lambda r: r.resid_response, "resid_working": lambda r: r.resid_working,
        "scale": lambda r: r.scale, "separation": lambda r: r.separation,
        "summary": lambda r: _summary_numbers(r), "summary2": lambda r: _summary2_numbers(r),
        "t_test": lambda r: r.t_test(np.eye(3)[1:]).tvalue,
        "t_test_pairwise": None, "tvalues": lambda r: r.tvalues,
        "wald_test": lambda r: r.wald_test(np.eye(3)[1:], scalar=True).statistic,
        "wald_test_terms": lambda r: r.wald_test_terms(scalar=True).statistic,
        "weights": lambda r: r.weights, "wnobs": lambda r: r.wnobs,
        "compare_lr_test": None, "anova": None, "score_test": None, "constraints": None,
    }


def _margeff(r):
    if r.model.offset is not None:   # statsmodels has no margins with an offset either
        with pytest.raises(NotImplementedError, match="offset"):
            r.get_margeff()
        return [0.0]
    return [m.margeff_se if i % 2 else m.margeff for m in
            (r.get_margeff(), r.get_margeff(at="mean"), r.get_margeff(method="eyex"))
            for i in range(2)] + [as_numpy(r.get_margeff(at="all").margeff)]


def _summary_numbers(r):
    s = r.summary().as_text()
    return len(s.splitlines())


def _summary2_numbers(r):
    return r.summary2().tables[1].to_numpy(dtype=float)


#: Results members that do not apply on Dask, and why (each raises NotImplementedError,
#: or, for 'constraints', AttributeError as on every unconstrained fit).
RESULTS_NOT_ON_DASK = {
    "get_influence": "n x p leave-one-out measures in memory",
    "results_wls": "IRLS's least-squares problem over every row in memory (attach_wls=True)",
    "plot_added_variable": "pictures of every row (matplotlib)",
    "plot_ceres_residuals": "pictures of every row (matplotlib)",
    "plot_partial_residuals": "pictures of every row (matplotlib)",
    "remove_data": "the rows are not held: nothing to remove",
    "save": "saving Dask fits is not available",
    "plot": "pictures of every row (matplotlib)",
    "plot_influence": "pictures of every row (matplotlib)",
    "to_html": "the report draws every row",
    "drop1": "candidate models refitted in memory",
    "add1": "candidate models refitted in memory",
    "step": "candidate models refitted in memory",
    "bootstrap": "replicates refitted in memory",
    "checks": "model checks read every row in memory (new rows: give endog/exog)",
}
#: Members compared by a call of their own below (other arguments or objects).
#: (t_test_pairwise needs formula terms: test_formula_terms_on_dask_equal_in_memory.)
SPECIAL = {"anova", "score_test", "constraints", "t_test_pairwise", "compare_lr_test"}


def test_results_members_are_covered(fits):
    public = {n for n in dir(GLMResults) if not n.startswith("_")}
    assert public == set(_results_calls(fits)) | set(RESULTS_NOT_ON_DASK)


def test_every_results_member_equals_in_memory(fits):
    import dask

    calls = _results_calls(fits)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, call in calls.items():
            if name in SPECIAL:
                continue
            got, want = call(fits["res"]), call(fits["ref"])
            if isinstance(want, (bool, str)):
                assert got == want, name
            elif isinstance(want, list):
                for g, w in zip(got, want):
                    close(g, w)
            else:
                try:
                    close(got, want)
                except AssertionError as exc:
                    raise AssertionError(f"{name}: {exc}") from None


def test_nested_comparisons_equal_in_memory(fits):
    """compare_lr_test, anova(small, big) and the results' score_test need a smaller fit."""
    import dask

    f = fits
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m, ref_m = f["model"], f["ref_model"]
        X = f["X"][:, :2]
        kw = {k: getattr(ref_m.data, k) for k in ("offset", "freq_weights", "var_weights")}
        small_ref = GLM(ref_m.endog, X, family=ref_m.family, **kw).fit()
        small = GLM(dask_array(ref_m.endog), dask_array(X), family=m.family,
                    **{k: dask_array(v) for k, v in kw.items() if v is not None}).fit()
        lr, lr_ref = f["res"].compare_lr_test(small), f["ref"].compare_lr_test(small_ref)
        close([lr.statistic, lr.pvalue], [lr_ref.statistic, lr_ref.pvalue])
        close(small.anova(f["res"], test="Chisq").to_numpy(dtype=float),
              small_ref.anova(f["ref"], test="Chisq").to_numpy(dtype=float))
        with pytest.raises(AttributeError):
            f["res"].constraints
        # the results' score test of k restrictions at the smaller fit's params, embedded
        b = np.r_[small_ref.params, 0.0]
        got = f["res"].score_test(params_constrained=b, k_constraints=1)
        want = f["ref"].score_test(params_constrained=b, k_constraints=1)
        close([got.statistic, got.pvalue], [want.statistic, want.pvalue])
        with pytest.raises(NotImplementedError, match="Dask"):
            f["res"].score_test(exog_extra=dask_array(X[:, 1] ** 2))


def test_not_on_dask_raise_and_say_why(fits):
    import dask

    res = fits["res"]
    with dask.config.set(scheduler="threads"):
        for name in ("get_influence", "save"):
            with pytest.raises(NotImplementedError, match="Dask"):
                getattr(res, name)() if name != "save" else res.save("x.glmkit")
        with pytest.raises(NotImplementedError, match="Dask"):
            res.conf_int(method="profile")
        with pytest.raises(NotImplementedError, match="Dask"):
            fits["model"].estimate_tweedie_power(res.mu)
        with pytest.raises(NotImplementedError, match="Dask"):
            fits["model"].get_distribution(res.params)
        with pytest.raises(NotImplementedError, match="Dask"):
            fits["model"].fit_constrained("x1 = 0")
        with pytest.raises(NotImplementedError, match="Dask"):
            res.anova()


def test_pass_counts_fit_then_summary():
    """fit() then summary() costs at most one pass more than fit() (no offset)."""
    import dask

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(N), rng.normal(size=(N, 3))])
    y = rng.poisson(np.exp(0.3 + 0.3 * X[:, 1])).astype(float)
    with dask.config.set(scheduler="threads"):
        for fam, yy in ((sm.families.Poisson(), y),
                        (sm.families.Gamma(sm.families.links.Log()), y + 0.5)):
            log: list = []
            res = GLM(dask_array(yy), dask_array(X), family=fam).fit(verbose=log.append)
            after_fit = len(log)
            res.summary()
            assert len(log) - after_fit <= 1, [e["what"] for e in log[after_fit:]]
        # with an offset, the null model of Poisson-log comes in closed form from sums
        # of the data pass: still one pass
        off = rng.normal(scale=0.3, size=N)
        ref = GLM(y, X, family=sm.families.Poisson(), offset=off).fit()
        log = []
        res = GLM(dask_array(y), dask_array(X), family=sm.families.Poisson(),
                  offset=dask_array(off)).fit(verbose=log.append)
        after_fit = len(log)
        res.summary()
        assert len(log) - after_fit <= 1, [e["what"] for e in log[after_fit:]]
        close([res.null_deviance, res.llnull], [ref.null_deviance, ref.llnull])
        # the HC0 meat and the cluster sums asked in fit() come from the fit's last sweep
        # (and are summed only on the sweeps the solver expects to be the last)
        groups = rng.integers(0, 30, size=N)
        for cov, kw in (("HC1", {}), ("cluster", {"groups": groups})):
            ref = GLM(y, X, family=sm.families.Poisson()).fit(cov_type=cov, cov_kwds=kw)
            log = []
            dkw = {"groups": dask_array(groups)} if kw else {}
            res = GLM(dask_array(y), dask_array(X), family=sm.families.Poisson()).fit(
                cov_type=cov, cov_kwds=dkw, verbose=log.append)
            after_fit = len(log)
            sweeps = [e for e in log if e["what"] == "IRLS"]
            assert sweeps[-1].get("final_sums"), cov
            assert sum(bool(e.get("final_sums")) for e in sweeps) == 1 < len(sweeps), cov
            res.summary()
            assert len(log) - after_fit <= 1, [e["what"] for e in log[after_fit:]]
            close(res.bse, ref.bse)


@pytest.mark.parametrize("family", ["poisson", "gamma_log", "gaussian"])
def test_closed_form_null_model_with_offset_is_the_intercept_only_fit(family):
    """The null deviance with an offset, from the closed-form intercept (glmkit.fit_sums),
    equals the deviance of the intercept-only GLM fitted with that offset (R's definition)."""
    rng = np.random.default_rng(11)
    n = 500
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    off = rng.normal(scale=0.3, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    fam = {"poisson": sm.families.Poisson(), "gaussian": sm.families.Gaussian(),
           "gamma_log": sm.families.Gamma(sm.families.links.Log())}[family]
    mu = np.exp(0.2 + 0.3 * X[:, 1] + off)
    y = {"poisson": rng.poisson(mu).astype(float), "gaussian": mu + rng.normal(size=n),
         "gamma_log": rng.gamma(2.0, mu / 2.0)}[family]
    res = GLM(y, X, family=fam, offset=off, var_weights=w).fit()
    null = GLM(y, X[:, :1], family=fam, offset=off, var_weights=w).fit(tol=1e-14)
    assert res.null_deviance == pytest.approx(null.deviance, rel=1e-12)


def test_formula_terms_on_dask_equal_in_memory():
    """Term-wise tests of a formula fitted on a dask DataFrame (t_test_pairwise,
    wald_test_terms, anova of nested formula fits) equal the in-memory ones."""
    import dask
    dd = pytest.importorskip("dask.dataframe")
    pytest.importorskip("formulaic")
    import glmkit

    rng = np.random.default_rng(5)
    n = 1200
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(list("abcd"), size=n)})
    df["y"] = rng.poisson(np.exp(0.3 + 0.2 * df.x + 0.3 * (df.g == "b"))).astype(float)
    ddf = dd.from_pandas(df, npartitions=3)
    fam = sm.families.Poisson()
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glmkit.glm("y ~ x + C(g)", df, family=fam).fit()
        res = GLM.from_formula("y ~ x + C(g)", ddf, family=fam).fit()
        assert type(res.model) is GLM
        close(res.params, ref.params)
        close(res.t_test_pairwise("C(g)").result_frame["coef"],
              ref.t_test_pairwise("C(g)").result_frame["coef"])
        close(res.wald_test_terms(scalar=True).statistic,
              ref.wald_test_terms(scalar=True).statistic)
        small_ref = glmkit.glm("y ~ x", df, family=fam).fit()
        small = GLM.from_formula("y ~ x", ddf, family=fam).fit()
        close(small.anova(res, test="Chisq").to_numpy(dtype=float),
              small_ref.anova(ref, test="Chisq").to_numpy(dtype=float))
