"""glmkit.multinom / MNLogit against nnet::multinom (tests/reference/models) and
statsmodels' MNLogit; invariants and bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as smapi
from _models_data import NEW, reference, sim

import glmkit
import glmkit.api as sm
from glmkit.exceptions import ConvergenceWarning
from glmkit.models.multinomial import mnlogit_evaluate

FORMULAS = {"full": "y ~ x1 + x2 + g", "small": "y ~ x1", "noint": "y ~ 0 + x1 + x2"}


def _fit(case):
    d = sim()
    if case == "weighted":
        return glmkit.multinom("y ~ x1 + x2 + g", d, weights="w")
    return glmkit.multinom(FORMULAS[case], d)


@pytest.mark.parametrize("case", ["full", "small", "weighted", "noint"])
def test_multinom_equals_nnet(case):
    R = reference()["multinom"][case]
    res = _fit(case)
    assert res.converged and res._fit.criterion < 1e-8
    assert list(res.coefficients.index) == R["rownames"]
    np.testing.assert_allclose(res.coefficients.to_numpy(), R["coefficients"], rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(res.standard_errors.to_numpy(), R["se"], rtol=1e-5)
    np.testing.assert_allclose(res.cov_params().to_numpy(), R["vcov"], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(res.llf, R["logLik"], rtol=1e-10)
    np.testing.assert_allclose(res.deviance, R["deviance"], rtol=1e-10)
    np.testing.assert_allclose(res.aic, R["AIC"], rtol=1e-10)
    np.testing.assert_allclose(res.fittedvalues.to_numpy(), R["fitted"], rtol=1e-6, atol=1e-9)


def test_multinom_predict_new_data_and_lr_test():
    ref = reference()["multinom"]
    full, small = _fit("full"), _fit("small")
    prob = full.predict(NEW)
    assert list(prob.columns) == ["hi", "lo", "mid", "top"]
    np.testing.assert_allclose(prob.to_numpy(), ref["predict_full"], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-14)
    lin = full.predict(NEW, which="linear")
    np.testing.assert_allclose(lin.to_numpy(), np.log(prob.to_numpy()
                                                      / prob.to_numpy()[:, :1]), atol=1e-12)
    lr = full.lr_test(small)
    np.testing.assert_allclose(lr["LR stat."], ref["anova"]["LR"], rtol=1e-8)
    assert lr["Df"] == ref["anova"]["df"]
    np.testing.assert_allclose(lr["Pr(Chi)"], ref["anova"]["p"], rtol=1e-6)
    with pytest.raises(ValueError, match="fewer parameters"):
        small.lr_test(full)


def test_multinom_ref_level_reparametrizes():
    d = sim()
    a = glmkit.multinom("y ~ x1 + x2 + g", d)
    b = glmkit.multinom("y ~ x1 + x2 + g", d, ref="top")
    assert b.levels[0] == "top"
    np.testing.assert_allclose(b.coefficients.loc["hi"], -a.coefficients.loc["top"], atol=1e-9)
    np.testing.assert_allclose(b.llf, a.llf, rtol=1e-12)
    np.testing.assert_allclose(b.predict(NEW)[a.levels].to_numpy(), a.predict(NEW).to_numpy(),
                               atol=1e-12)
    with pytest.raises(ValueError, match="not a category"):
        glmkit.multinom("y ~ x1", d, ref="nope")


@pytest.mark.parametrize("pandas", [False, True])
def test_mnlogit_equals_statsmodels(pandas):
    d = sim()
    X = pd.get_dummies(d[["x1", "x2", "g"]], drop_first=True).astype(float)
    X.insert(0, "const", 1.0)
    y = d["y"]
    if not pandas:
        X, y = X.to_numpy(), pd.Categorical(y).codes.astype(float)
    ours = sm.MNLogit(y, X).fit()
    ref = smapi.MNLogit(y, X).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    assert type(ours.params) is type(ref.params)
    np.testing.assert_allclose(np.asarray(ours.params), np.asarray(ref.params), rtol=1e-7)
    np.testing.assert_allclose(np.asarray(ours.bse), np.asarray(ref.bse), rtol=1e-7)
    np.testing.assert_allclose(np.asarray(ours.pvalues), np.asarray(ref.pvalues), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ours.cov_params()), np.asarray(ref.cov_params()),
                               rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.asarray(ours.conf_int()), np.asarray(ref.conf_int()),
                               rtol=1e-7)
    # statsmodels fits its null model iteratively; ours is the closed form
    np.testing.assert_allclose(ours.llr_pvalue, ref.llr_pvalue, rtol=1e-5)
    for name in ("llf", "llnull", "aic", "bic", "df_model", "df_resid", "prsquared"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-8,
                                   err_msg=name)
    Xn = np.asarray(X)[:7]
    np.testing.assert_allclose(np.asarray(ours.predict(Xn)), np.asarray(ref.predict(Xn)),
                               rtol=1e-8)
    if pandas:
        assert list(ours.params.index) == list(ref.params.index)
    assert "MNLogit Regression Results" in str(ours.summary())


def test_frequency_weights_equal_repeated_rows_and_zero_weight_drops():
    d = sim()
    rep = d.loc[d.index.repeat(d["w"])].reset_index(drop=True)
    a = glmkit.multinom("y ~ x1 + x2 + g", d, weights="w")
    b = glmkit.multinom("y ~ x1 + x2 + g", rep)
    np.testing.assert_allclose(a.coefficients, b.coefficients, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.standard_errors, b.standard_errors, rtol=1e-9)
    np.testing.assert_allclose([a.llf, a.aic, a.bic, a.nobs], [b.llf, b.aic, b.bic, b.nobs],
                               rtol=1e-10)
    w0 = np.where(np.arange(len(d)) < 10, 0.0, 1.0)
    c = glmkit.multinom("y ~ x1 + x2 + g", d, weights=w0)
    e = glmkit.multinom("y ~ x1 + x2 + g", d.iloc[10:])
    np.testing.assert_allclose(c.coefficients, e.coefficients, rtol=1e-9, atol=1e-12)


def test_score_and_information_equal_numerical_derivatives():
    d = sim()
    X = np.column_stack([np.ones(len(d)), d["x1"], d["x2"]])
    codes = pd.Categorical(d["y"]).codes.astype(np.intp)
    b = np.random.default_rng(1).normal(scale=0.3, size=9)
    _, score, info = mnlogit_evaluate(b, X, codes, d["w"].to_numpy(float), 4)
    h = 1e-6
    num = np.array([(mnlogit_evaluate(b + h * e, X, codes, d["w"].to_numpy(float), 4)[0]
                     - mnlogit_evaluate(b - h * e, X, codes, d["w"].to_numpy(float), 4)[0])
                    / (2 * h) for e in np.eye(9)])
    np.testing.assert_allclose(score, num, rtol=1e-6, atol=1e-6)
    num_h = np.array([(mnlogit_evaluate(b + h * e, X, codes, d["w"].to_numpy(float), 4)[1]
                       - mnlogit_evaluate(b - h * e, X, codes, d["w"].to_numpy(float), 4)[1])
                      / (2 * h) for e in np.eye(9)])
    np.testing.assert_allclose(-info, num_h, rtol=1e-5, atol=1e-5)


def test_bad_input_is_a_clear_error():
    d = sim()
    with pytest.raises(ValueError, match="one category"):
        glmkit.multinom("y ~ x1", d.assign(y="a"))
    with pytest.raises(ValueError, match="one category"):
        sm.MNLogit(np.zeros(5), np.ones((5, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        glmkit.multinom("y ~ x1", d, weights=-d["w"])
    with pytest.raises(ValueError, match="linearly dependent"):
        glmkit.multinom("y ~ x1 + I(2 * x1)", d)
    with pytest.raises(ValueError, match="not a column"):
        glmkit.multinom("yy ~ x1", d)
    with pytest.raises(ValueError, match="which"):
        glmkit.multinom("y ~ x1", d).predict(NEW, which="bogus")
    with pytest.raises(ValueError, match="level"):
        glmkit.multinom("y ~ g", d).predict(NEW.assign(g=["a", "b", "zz"]))


def test_separation_is_not_converged():
    x = np.array([-3.0, -2, -1, 1, 2, 3, 4, 5, 6])
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(ConvergenceWarning):
            res = sm.MNLogit(y, np.column_stack([np.ones(9), x])).fit(maxiter=30)
    assert not res.converged


def test_threaded_pass_equals_one_thread(monkeypatch):
    rng = np.random.default_rng(3)
    n, p, K = 70_000, 8, 4   # more than one row block and above the threads' threshold
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    codes = rng.integers(0, K, n).astype(np.intp)
    w = rng.integers(0, 3, n).astype(float)
    b = rng.normal(scale=0.2, size=(K - 1) * p)
    out = []
    for k in ("1", "2"):
        monkeypatch.setenv("GLMKIT_NUM_THREADS", k)
        out.append(mnlogit_evaluate(b, X, codes, w, K))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(out[0][2], out[0][2].T)


def test_subsample_start_reaches_the_same_maximum():
    from glmkit.models import multinomial

    rng = np.random.default_rng(11)
    n = multinomial.SUBSAMPLE_FROM
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    eta = np.column_stack([np.zeros(n), X @ [[0.2, -0.3], [0.5, 0.1], [-0.4, 0.7]]])
    P = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    warm = sm.MNLogit(y, X).fit()
    cold = sm.MNLogit(y, X).fit(start_params=np.zeros((3, 2)))
    assert warm.converged and cold.converged
    assert warm.n_iter < cold.n_iter
    np.testing.assert_allclose(warm.params, cold.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(warm.bse, cold.bse, rtol=1e-9)


def test_two_categories_equal_the_binomial_glm():
    d = sim().assign(b=lambda f: (f["y"] == "top").astype(float))
    d["yb"] = np.where(d["b"] == 1, "top", "other")
    mn = glmkit.multinom("yb ~ x1 + x2 + g", d)
    gl = glmkit.glm("b ~ x1 + x2 + g", d, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(mn.coefficients.to_numpy().ravel(), gl.params.to_numpy(),
                               rtol=1e-8)
    np.testing.assert_allclose(mn.standard_errors.to_numpy().ravel(), gl.bse.to_numpy(),
                               rtol=1e-8)
    np.testing.assert_allclose(mn.llf, gl.llf, rtol=1e-12)
    po = glmkit.polr("yb ~ x1 + x2 + g", d)   # P(other) = F(zeta - eta): the same fit
    np.testing.assert_allclose(po.coefficients.to_numpy(), gl.params.to_numpy()[1:], rtol=1e-8)
    np.testing.assert_allclose(po.zeta.to_numpy(), -gl.params.to_numpy()[:1], rtol=1e-8)


def _extreme_rows(n=3000, seed=5):
    """A design whose probabilities run from ~1e-9 to ~1 (1 - P_j by cancellation would
    lose most digits there)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    b = np.array([0.3, 4.0, -3.0, 1.0, -0.5, 2.5, 5.0, -1.0, 0.2, 0.0, -4.0, 6.0])
    codes = rng.integers(0, 4, n).astype(np.intp)
    w = rng.integers(0, 4, n).astype(float)
    return X, codes, w, b


def test_information_equals_the_per_block_formula():
    # closed form: block (j, l) = X' diag(w P_j (delta_jl - P_l)) X, one block at a time
    X, codes, w, b = _extreme_rows()
    n, p = X.shape
    eta = np.column_stack([np.zeros(n), X @ b.reshape(3, p).T])
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    P = (P / P.sum(axis=1, keepdims=True))[:, 1:]
    ref = np.zeros((3 * p, 3 * p))
    for j in range(3):
        for k in range(3):
            d = w * P[:, j] * ((j == k) - P[:, k])
            ref[j * p:(j + 1) * p, k * p:(k + 1) * p] = X.T @ (X * d[:, None])
    llf, score, info = mnlogit_evaluate(b, X, codes, w, 4)
    np.testing.assert_allclose(info, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())
    np.testing.assert_array_equal(info, info.T)
    llf32, score32, info32 = mnlogit_evaluate(b, X, codes, w, 4, low=True)
    assert llf32 == llf and np.array_equal(score32, score)   # float64 either way
    np.testing.assert_allclose(info32, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())
    llf0, score0, none = mnlogit_evaluate(b, X, codes, w, 4, info=False)
    assert none is None and llf0 == llf and np.array_equal(score0, score)


def test_float32_steps_and_subsample_information_reach_the_float64_maximum(monkeypatch):
    from glmkit.models import multinomial

    rng = np.random.default_rng(12)
    n = 6000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    eta = np.column_stack([np.zeros(n), X @ rng.normal(scale=0.5, size=(4, 3))])
    P = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    plain = sm.MNLogit(y, X).fit()   # small: float64 passes from the null model
    calls = []
    real = multinomial.mnlogit_evaluate

    def spy(params, X_, codes, w, K, low=False, info=True):
        calls.append((X_.shape[0], low, info))
        return real(params, X_, codes, w, K, low, info)

    monkeypatch.setattr(multinomial, "LOW_PRECISION_FROM", 0)
    monkeypatch.setattr(multinomial, "SUBSAMPLE_FROM", 1000)
    monkeypatch.setattr(multinomial, "SUBSAMPLE", 1500)
    monkeypatch.setattr(multinomial, "mnlogit_evaluate", spy)
    fast = sm.MNLogit(y, X).fit()
    full = [c for c in calls if c[0] == n]
    assert full[0] == (n, False, False)            # the first step: score only
    assert any(c[1] for c in full)                 # float32 informations for steps
    assert (n, False, False) in full[1:]           # chord steps: the last one reused
    assert full[-1] == (n, False, True)            # certified on the float64 information
    assert fast.converged and fast._fit.criterion < 1e-8
    np.testing.assert_allclose(fast.params, plain.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.bse, plain.bse, rtol=1e-9)
    np.testing.assert_allclose(fast.llf, plain.llf, rtol=1e-14)


def test_separation_is_reported_with_float32_steps(monkeypatch):
    from glmkit.exceptions import PerfectSeparationWarning
    from glmkit.models import multinomial

    monkeypatch.setattr(multinomial, "LOW_PRECISION_FROM", 0)
    y = np.array([0.0, 0, 0, 0, 2, 1])
    x = np.array([0, 4.6875e-05, 0, 0, 4.6875e-05, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(PerfectSeparationWarning, match="separation"):
            res = sm.MNLogit(y, np.column_stack([np.ones(6), x])).fit()
    assert not res.converged


@pytest.mark.parametrize("values", [np.array([3, 1, 2, 3, 1]),
                                    np.array([-5, 7, 7, -5, 0], dtype=np.int8),
                                    np.array([10**12, 1, 1]), np.array([2, 2, 9], np.uint16)])
def test_integer_responses_are_coded_as_np_unique(values):
    from glmkit.models._frame import encode_response

    codes, levels = encode_response(values)
    uniq, inv = np.unique(values, return_inverse=True)
    assert levels == list(uniq) and [type(v) for v in levels] == [type(v) for v in uniq]
    np.testing.assert_array_equal(codes, inv.ravel())
