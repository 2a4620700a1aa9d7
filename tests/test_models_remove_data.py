"""``remove_data()`` on the results of glmkit.models (statsmodels' method, as GLM results
have it): invariants. Every statistic, test, summary table and prediction on new data is
the same before and after; in-sample values raise a ValueError that says why; the user's
model keeps its rows; the results pickle without the rows."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as smapi
from _models_data import NEW, REF_DIR, sim

import glmkit
import glmkit.api as sm


def _tables(summary) -> list[str]:
    # the header's date and time change between calls: compare everything else
    if isinstance(summary, str):                     # pscl's print (no date)
        return [summary]
    return [t.as_text() if hasattr(t, "as_text") else str(t) for t in summary.tables[1:]]


def _check_common(res, new_predict, in_sample):
    llf, cov = res.llf, np.asarray(res.cov_params()).copy()
    tables = _tables(res.summary())
    pred = np.asarray(new_predict(res))
    res.remove_data()
    res.remove_data()                                # a second call changes nothing
    assert res.llf == llf
    np.testing.assert_array_equal(np.asarray(res.cov_params()), cov)
    assert _tables(res.summary()) == tables
    np.testing.assert_array_equal(np.asarray(new_predict(res)), pred)
    for fn in in_sample:
        with pytest.raises(ValueError, match="rows were removed"):
            fn(res)


def test_mnlogit_and_multinom():
    d = sim()
    y, X = d["o"].cat.codes.to_numpy(), smapi.add_constant(d[["x1", "x2"]].to_numpy())
    model = sm.MNLogit(y, X)
    res = model.fit()
    size = len(pickle.dumps(res))
    tt = res.t_test(np.eye(9)[:2]).tvalue
    _check_common(res, lambda r: r.predict(X[:4]),
                  [lambda r: r.predict(), lambda r: r.resid_response,
                   lambda r: r.get_robustcov_results("HC0")])
    np.testing.assert_array_equal(res.t_test(np.eye(9)[:2]).tvalue, tt)
    assert len(pickle.dumps(res)) < size / 2
    assert model.exog.shape == X.shape and model.fit().llf == res.llf   # the user's model
    m = glmkit.multinom("o ~ x1 + x2 + g", d)
    _check_common(m, lambda r: r.predict(NEW), [lambda r: r.fittedvalues])


def test_ordered_model_and_polr():
    d = sim()
    res = sm.OrderedModel(d["o"], d[["x1", "x2"]], distr="logit").fit()
    _check_common(res, lambda r: r.predict(NEW[["x1", "x2"]].to_numpy()),
                  [lambda r: r.predict(), lambda r: r.fittedvalues])
    assert res.model.exog.shape[0] == 0
    p = glmkit.polr("o ~ x1 + x2 + g", d, method="probit")
    _check_common(p, lambda r: r.predict(NEW), [lambda r: r.predict()])


def test_zero_inflated_statsmodels_classes():
    d = pd.read_csv(REF_DIR / "data_counts_sim.csv")
    X = smapi.add_constant(d[["x"]].to_numpy(), prepend=False)
    Z = smapi.add_constant(d[["z"]].to_numpy(), prepend=False)
    for cls in (sm.ZeroInflatedPoisson, sm.ZeroInflatedNegativeBinomialP):
        model = cls(d["y"].to_numpy(), X, exog_infl=Z)
        res = model.fit()
        llnull, size = res.llnull, len(pickle.dumps(res))
        _check_common(res, lambda r: r.predict(X[:3], exog_infl=Z[:3], which="prob",
                                               y_values=np.arange(4)),
                      [lambda r: r.predict(), lambda r: r.get_robustcov_results("HC0")])
        assert res.llnull == llnull and res.prsquared == 1 - res.llf / llnull
        assert len(pickle.dumps(res)) < size / 2
        assert model.exog.shape == X.shape


def test_zeroinfl_and_hurdle():
    d = pd.read_csv(REF_DIR / "data_counts_sim.csv")
    new = d.head(3)
    for res in (glmkit.zeroinfl("y ~ x | z", d, dist="negbin"),
                glmkit.hurdle("y ~ x | z", d)):
        _check_common(res, lambda r: r.predict(new, which="prob"),
                      [lambda r: r.predict(), lambda r: r.get_robustcov_results("HC0")])
