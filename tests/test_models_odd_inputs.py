"""Odd and bad inputs to MNLogit, OrderedModel, multinom and polr: a clear exception or a
correct answer, never a crash, a hang or a silent NaN."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _models_data import sim
from hypothesis import given, settings
from hypothesis import strategies as st

import glmkit
import glmkit.api as sm
from glmkit.exceptions import ConvergenceWarning, ModelWarning


@st.composite
def problems(draw):
    n = draw(st.integers(0, 25))
    K = draw(st.integers(1, 4))
    codes = draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    x = draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n))
    return np.array(codes, dtype=float), np.array(x, dtype=float) * scale


def _check(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)  # non-convergence, separation
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = fit()
        except ValueError as exc:
            assert str(exc)
            return
    prob = np.asarray(res.predict())
    assert np.all(np.isfinite(prob))
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-10)
    assert np.isfinite(res.llf)
    if res.converged:
        assert np.all(np.isfinite(np.asarray(res.bse)))


@settings(max_examples=40, deadline=None)
@given(problems())
def test_mnlogit_odd_inputs(problem):
    y, x = problem
    _check(lambda: sm.MNLogit(y, np.column_stack([np.ones_like(x), x])).fit(maxiter=40))


@settings(max_examples=40, deadline=None)
@given(problems())
def test_ordered_model_odd_inputs(problem):
    y, x = problem
    _check(lambda: sm.OrderedModel(y, x[:, None], distr="logit").fit(maxiter=40))


def test_missing_rows_are_dropped_with_a_warning():
    d = sim()
    d.loc[[3, 10, 50], "x1"] = np.nan
    with pytest.warns(UserWarning, match="3 row"):
        a = glmkit.multinom("y ~ x1 + x2", d)
    b = glmkit.multinom("y ~ x1 + x2", d.dropna())
    np.testing.assert_allclose(a.coefficients, b.coefficients, rtol=1e-10)
    with pytest.warns(UserWarning, match="3 row"):
        c = glmkit.polr("o ~ x1 + x2", d)
    np.testing.assert_allclose(c.params, glmkit.polr("o ~ x1 + x2", d.dropna()).params,
                               rtol=1e-10)
    nd = pd.DataFrame({"x1": [np.nan, 0.5], "x2": [0.0, 1.0]})
    pr = a.predict(nd)
    assert pr.iloc[0].isna().all() and np.isclose(pr.iloc[1].sum(), 1.0)


def test_non_finite_and_mismatched_inputs():
    with pytest.raises(ValueError, match="non-finite"):
        sm.MNLogit(np.array([0, 1, 2.0]), np.array([[1.0, np.inf]] * 3))
    with pytest.raises(ValueError, match="rows"):
        sm.MNLogit(np.array([0, 1, 2.0]), np.ones((4, 1)))
    with pytest.raises(ValueError, match="missing"):
        sm.OrderedModel(np.array([0, np.nan, 2.0]), np.arange(3.0)[:, None])
    with pytest.raises(ValueError, match="offset"):
        sm.OrderedModel(np.array([0, 1, 2.0]), np.arange(3.0)[:, None], offset=[1.0])


def test_fit_keywords():
    d = sim()
    X = d[["x1", "x2"]]
    res = sm.OrderedModel(d["o"], X, distr="logit").fit(method="bfgs", gtol=1e-10, disp=0)
    assert res.converged
    with pytest.raises(NotImplementedError, match="cov_type"):
        sm.MNLogit(d["y"], X).fit(cov_type="HC3")
    with pytest.raises(TypeError, match="unexpected"):
        sm.OrderedModel(d["o"], X).fit(maxiterr=5)
    with pytest.raises(ValueError, match="method"):
        sm.MNLogit(d["y"], X).fit(method="magic")


def test_quasi_separation_is_reported_not_certified():
    from glmkit.exceptions import PerfectSeparationWarning

    y = np.array([0.0, 0, 0, 0, 2, 1])
    x = np.array([0, 4.6875e-05, 0, 0, 4.6875e-05, 0])
    with pytest.warns(PerfectSeparationWarning, match="separation"):
        res = sm.MNLogit(y, np.column_stack([np.ones(6), x])).fit()
    assert not res.converged
    yo = np.array([0.0, 0, 1, 1, 2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises((PerfectSeparationWarning, ConvergenceWarning)):
            sm.OrderedModel(yo, np.arange(6.0)[:, None], distr="logit").fit()
